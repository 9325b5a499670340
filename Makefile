# kindling: `make demo` and `make test` are what a newcomer runs first (see README.md).
TARGET   := x86_64-unknown-linux-gnu
STATIC   := RUSTFLAGS='-C target-feature=+crt-static'
BIN      := target/release/kindling
CORPUS   := ../shared/corpus/validate
CHECKER  := ../shared/bin/check-corpus

.PHONY: build test unit corpus demo bench lint fmt clean fuzz

# A static release binary. --target keeps crt-static away from build scripts and proc-macros;
# the result is copied to target/release/kindling, where the tools and docs expect it.
build:
	$(STATIC) cargo build --release --locked --target $(TARGET)
	install -D -m 0755 target/$(TARGET)/release/kindling $(BIN)

test: build unit corpus

unit:
	cargo test --locked

# The shared acceptance corpus, when the checkout sits beside shared/ (as in CI).
corpus: build
	@if [ -x $(CHECKER) ] && [ -d $(CORPUS) ]; then \
		$(CHECKER) --bin $(BIN) $(CORPUS); \
	else \
		echo "corpus: $(CORPUS) not found beside this checkout; skipped"; \
	fi

demo: build
	@scripts/demo.sh $(BIN)

# A target dir of its own: `cargo bench` would otherwise replace target/release/kindling with an
# ordinary dynamic build. The bench itself runs the static binary `make build` made.
bench: build
	CARGO_TARGET_DIR=target/bench cargo bench --locked --bench validate

# Every fuzz target for FUZZ_SECONDS each (default 60), on the stable toolchain; see README
# "Fuzzing". `make fuzz FUZZ_TARGETS="yaml mime"` runs some of them.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

fmt:
	cargo fmt

clean:
	cargo clean

# Installs the static binary, a coreos-cloudinit symlink, the boot units and udev rules from
# dist/systemd/, and wires system-config.target and user-config.target into multi-user.target
# (as Flatcar's image does). DESTDIR-aware; the units call $(BINDIR)/coreos-cloudinit. It installs
# what `make build` made and does not build itself (so `sudo make install` runs no cargo as root).
PREFIX       ?= /usr
BINDIR       ?= $(PREFIX)/bin
UNITDIR      ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
UNITS        := $(filter-out %.rules,$(notdir $(wildcard dist/systemd/*)))

.PHONY: install e2e
install:
	@test -x $(BIN) || { echo "install: $(BIN) is missing; run make build first" >&2; exit 1; }
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/kindling
	ln -sfn kindling $(DESTDIR)$(BINDIR)/coreos-cloudinit
	install -d $(DESTDIR)$(UNITDIR)/multi-user.target.wants $(DESTDIR)$(UDEVRULESDIR)
	for u in $(UNITS); do \
		sed 's|/usr/bin/coreos-cloudinit|$(BINDIR)/coreos-cloudinit|g' dist/systemd/$$u \
			> $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 dist/systemd/*.rules $(DESTDIR)$(UDEVRULESDIR)/
	ln -sfn ../system-config.target $(DESTDIR)$(UNITDIR)/multi-user.target.wants/system-config.target
	ln -sfn ../user-config.target $(DESTDIR)$(UNITDIR)/multi-user.target.wants/user-config.target

# Boots a QEMU guest with systemd per scenario (tests/vm/README.md). Root; installs what it lacks.
e2e: build
	E2E_BUILD=0 tests/vm/run.sh
