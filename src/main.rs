//! The kindling binary: all logic lives in the library; this only hands over argv and exits.

// The release binary is static musl, whose malloc returns pages to the kernel as soon as a
// group of chunks is free: converting the bench's large config made 2,700 mmap/munmap pairs and
// took twice glibc's time. dlmalloc keeps them (Cargo.toml; README "Binary size").
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() {
    std::process::exit(kindling::cli::run(std::env::args_os().collect()));
}
