//! A counting global allocator, to show that the server allocates nothing after
//! `Server::new` (`ARCHITECTURE.md` §3 Memory).
//!
//! The count is per thread, so that tests running in parallel do not disturb each other, and
//! the simulator is single-threaded. A program installs it with
//! `#[global_allocator] static A: zzz_sim::alloc::CountingAlloc = zzz_sim::alloc::CountingAlloc;`
//! — the `zzz-sim` binary and the simulator's tests do; where it is not installed the count
//! stays at zero and the check passes vacuously.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations per thread.
#[derive(Debug)]
pub struct CountingAlloc;

fn bump() {
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a
// const-initialised thread-local without a destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made on this thread so far (0 when [`CountingAlloc`] is not installed).
pub fn allocations() -> u64 {
    COUNT.try_with(|c| c.get()).unwrap_or(0)
}
