# kindling: `make demo` and `make test` are what a newcomer runs first (see README.md).
TARGET   := x86_64-unknown-linux-gnu
STATIC   := RUSTFLAGS='-C target-feature=+crt-static'
BIN      := target/release/kindling
CORPUS   := ../shared/corpus/validate
CHECKER  := ../shared/bin/check-corpus

.PHONY: build test unit corpus demo bench lint fmt clean

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

bench: build
	cargo bench --locked --bench validate

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

fmt:
	cargo fmt

clean:
	cargo clean
