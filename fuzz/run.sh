#!/usr/bin/env bash
# Runs fuzz targets for FUZZ_SECONDS each (default 60): `fuzz/run.sh [TARGET...]`, all targets
# when none is named. Builds with the stable toolchain (RUSTC_BOOTSTRAP=1, which cargo-fuzz's
# -Z flags need) and installs cargo-fuzz when it is missing. A crash, timeout or out-of-memory
# input lands in fuzz/artifacts/TARGET/; copy it to fuzz/regressions/TARGET/ once fixed, where
# `cargo test` replays it. Exits non-zero when any target found something.
#
# No sanitizer (FUZZ_SANITIZER=address to change that): the fuzzed code is safe Rust, so
# AddressSanitizer finds nothing a panic does not, at about half the speed. Memory is bounded by
# -rss_limit_mb/-malloc_limit_mb instead, time per input by -timeout.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

seconds=${FUZZ_SECONDS:-60}
rss=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}
sanitizer=${FUZZ_SANITIZER:-none}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

./seed.sh >/dev/null

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)

dict_for() {
    case $1 in
    validate | yaml | plan | fields) echo dict/yaml.dict ;;
    mime) echo dict/mime.dict ;;
    debian | configdrive) echo dict/debian.dict ;;
    vmware_network | ovf) echo dict/vmware.dict ;;
    esac
}

cargo fuzz build --sanitizer "$sanitizer"
failed=()
for t in "${targets[@]}"; do
    dict=$(dict_for "$t")
    args=(-max_total_time="$seconds" -rss_limit_mb="$rss" -malloc_limit_mb="$rss"
        -timeout="$timeout" -print_final_stats=1)
    [ -n "$dict" ] && args+=(-dict="$dict")
    echo "fuzz: $t for ${seconds}s" >&2
    if ! cargo fuzz run --sanitizer "$sanitizer" "$t" -- "${args[@]}"; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
