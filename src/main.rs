//! The kindling binary: all logic lives in the library; this only hands over argv and exits.

fn main() {
    std::process::exit(kindling::cli::run(std::env::args_os().collect()));
}

// The release binary is static musl, whose malloc returns pages to the kernel as soon as a
// group of chunks is free: converting the bench's large config made 2,700 mmap/munmap pairs and
// took twice glibc's time. dlmalloc keeps them (Cargo.toml; README "Binary size").
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: musl::Dlmalloc = musl::Dlmalloc::new();

#[cfg(target_env = "musl")]
mod musl {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::{Mutex, MutexGuard, PoisonError};

    /// dlmalloc behind std's Mutex. The crate's own `GlobalDlmalloc` locks a pthread mutex
    /// through two calls each way, which musl does not inline: with them, locking took a fifth
    /// of converting the bench's large config. std's futex lock is one atomic each way, inline.
    pub struct Dlmalloc(Mutex<dlmalloc::Dlmalloc>);

    impl Dlmalloc {
        pub const fn new() -> Dlmalloc {
            Dlmalloc(Mutex::new(dlmalloc::Dlmalloc::new()))
        }

        /// The heap, locked. Nothing unwinds (panic = "abort"), so the lock is never poisoned.
        fn heap(&self) -> MutexGuard<'_, dlmalloc::Dlmalloc> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    // SAFETY: each call goes to dlmalloc under the lock, with the layout GlobalAlloc was given;
    // dlmalloc's methods have GlobalAlloc's contracts.
    unsafe impl GlobalAlloc for Dlmalloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { self.heap().malloc(layout.size(), layout.align()) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            unsafe { self.heap().calloc(layout.size(), layout.align()) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { self.heap().free(ptr, layout.size(), layout.align()) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            unsafe {
                self.heap()
                    .realloc(ptr, layout.size(), layout.align(), new_size)
            }
        }
    }
}
