# kindling: `make demo` and `make test` are what a newcomer runs first (see README.md).
# The release binary is static musl: 3.7 MB, where static glibc makes 4.5 MB (getaddrinfo drags
# NSS's static dlopen, scanf/printf and iconv in), and musl's resolver needs no NSS module from
# the host. `make build TARGET=x86_64-unknown-linux-gnu` builds the static glibc one; README
# "Binary size" has the measurements.
TARGET   ?= x86_64-unknown-linux-musl
# Static and non-PIE: a static-pie binary relocates itself at every start (7% of a validate's
# instructions, issue 10); at a fixed address there is nothing to relocate. The linker script
# leaves the unwind tables out (-320 KB): with panic = "abort" nothing unwinds.
STATIC   := RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static -C link-arg=-Wl,--no-eh-frame-hdr -C link-arg=-Wl,-T,$(CURDIR)/build/no-eh-frame.ld'
BIN      := target/release/kindling
# The dev-profile build for the host, which `make demo` runs and `make test` checks the corpus
# with: it shares its dependency tree with `cargo test`, where the static binary compiles the whole
# tree again (for the target, with fat LTO). The static binary is what `make install`, `make deb`,
# `make e2e` and `make bench` use; CI checks the corpus with it too (CORPUS_BIN=$(BIN)).
DEV_BIN  := target/debug/kindling
CORPUS_BIN ?= $(DEV_BIN)
CORPUS   := ../shared/corpus/validate
CHECKER  := ../shared/bin/check-corpus

GEN      := target/gen

.PHONY: build dev test unit corpus demo bench lint fmt clean fuzz

# A static release binary. --target keeps crt-static away from build scripts and proc-macros;
# the result is copied to target/release/kindling, where the tools and docs expect it. The man
# page and the shell completions are generated here from the clap definition, so that `make
# install` needs no cargo; the man page by an example, to keep its generator out of the binary.
build:
	@ls "$$(rustc --print target-libdir --target $(TARGET))"/libstd-*.rlib >/dev/null 2>&1 \
		|| rustup target add $(TARGET) \
		|| { echo "build: the Rust standard library for $(TARGET) is missing and rustup could not add it" >&2; exit 1; }
	$(STATIC) cargo build --release --locked --target $(TARGET)
	install -D -m 0755 target/$(TARGET)/release/kindling $(BIN)
	mkdir -p $(GEN)
	cargo run --locked --quiet --example manpage > $(GEN)/kindling.1.tmp
	gzip -9n < $(GEN)/kindling.1.tmp > $(GEN)/kindling.1.gz && rm $(GEN)/kindling.1.tmp
	for sh in bash zsh fish; do $(BIN) completions $$sh > $(GEN)/completion.$$sh || exit 1; done
	$(BIN) schema > $(GEN)/cloud-config.schema.json

dev:
	cargo build --locked

# The corpus after the tests, not beside them under -j: `cargo test` and `cargo build` both write
# target/debug/kindling (the tests' copy has the fault-injection switch).
test: unit
	@$(MAKE) --no-print-directory corpus

# Tests that need root are marked #[ignore = "needs root"]; as root (as in CI) they run too.
unit:
	cargo test --locked $(if $(filter 0,$(shell id -u)),-- --include-ignored)

# The shared acceptance corpus, when the checkout sits beside shared/ (as in CI), against the dev
# build; `make build corpus CORPUS_BIN=target/release/kindling` checks the static binary.
corpus: $(if $(filter $(DEV_BIN),$(CORPUS_BIN)),dev)
	@if [ -x $(CHECKER) ] && [ -d $(CORPUS) ]; then \
		$(CHECKER) --bin $(CORPUS_BIN) $(CORPUS); \
	else \
		echo "corpus: $(CORPUS) not found beside this checkout; skipped"; \
	fi

demo: dev
	@scripts/demo.sh $(DEV_BIN)

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
	cargo test --locked --test module_graph

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
MANDIR       ?= $(PREFIX)/share/man/man1
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR   ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR  ?= $(PREFIX)/share/fish/vendor_completions.d
DATADIR      ?= $(PREFIX)/share/kindling
UNITS        := $(filter-out %.rules,$(notdir $(wildcard dist/systemd/*)))
RULES        := $(filter %.rules,$(notdir $(wildcard dist/systemd/*)))

.PHONY: install uninstall deb e2e
install:
	@test -x $(BIN) || { echo "install: $(BIN) is missing; run make build first" >&2; exit 1; }
	@test -f $(GEN)/kindling.1.gz || { echo "install: $(GEN)/kindling.1.gz is missing; run make build first" >&2; exit 1; }
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
	install -D -m 0644 $(GEN)/kindling.1.gz $(DESTDIR)$(MANDIR)/kindling.1.gz
	install -D -m 0644 $(GEN)/completion.bash $(DESTDIR)$(BASHCOMPDIR)/kindling
	install -D -m 0644 $(GEN)/completion.zsh $(DESTDIR)$(ZSHCOMPDIR)/_kindling
	install -D -m 0644 $(GEN)/completion.fish $(DESTDIR)$(FISHCOMPDIR)/kindling.fish
	install -D -m 0644 $(GEN)/cloud-config.schema.json $(DESTDIR)$(DATADIR)/cloud-config.schema.json

# Removes the files `make install` put there (same DESTDIR and PREFIX); directories stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kindling $(DESTDIR)$(BINDIR)/coreos-cloudinit
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(addprefix $(DESTDIR)$(UDEVRULESDIR)/,$(RULES))
	rm -f $(DESTDIR)$(UNITDIR)/multi-user.target.wants/system-config.target
	rm -f $(DESTDIR)$(UNITDIR)/multi-user.target.wants/user-config.target
	rm -f $(DESTDIR)$(MANDIR)/kindling.1.gz $(DESTDIR)$(BASHCOMPDIR)/kindling
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_kindling $(DESTDIR)$(FISHCOMPDIR)/kindling.fish
	rm -f $(DESTDIR)$(DATADIR)/cloud-config.schema.json

# kindling_VERSION_amd64.deb in target/: what `make install` installs, staged under /usr, plus
# the copyright file and maintainer scripts (scripts/mkdeb.sh). Needs `make build` first.
deb:
	scripts/mkdeb.sh $(BIN) target

# Boots a QEMU guest with systemd per scenario (tests/vm/README.md). Root; installs what it lacks.
e2e: build
	E2E_BUILD=0 tests/vm/run.sh
