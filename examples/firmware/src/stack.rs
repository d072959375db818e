//! The stack's high-water mark, from the paint cortex-m-rt leaves at reset.
//!
//! With its `paint-stack` feature, cortex-m-rt's reset handler fills everything between
//! `_stack_end` (the end of `.bss`, 4-byte aligned) and `_stack_start` (the top of RAM, where
//! the stack starts and grows down) with [`STACK_PAINT_VALUE`] before `main` runs. The
//! deepest word that no longer holds the paint marks how deep the stack has been. (A frame
//! could, in principle, store the paint value itself at its deepest word; the mark would then
//! be a word or so short, which does not matter at the scale of a budget.)

use core::ptr::addr_of;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::STACK_PAINT_VALUE;

/// The peak before [`repaint`] wiped the paint's record of it.
static PEAK_BEFORE_REPAINT: AtomicUsize = AtomicUsize::new(0);

/// Words left unpainted just below the current SP by [`repaint`]: the painting loop's own
/// spills, and a margin.
const REPAINT_MARGIN: usize = 256;

unsafe extern "C" {
    /// The top of the stack (the initial SP), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
    /// The lowest address the stack may reach (the end of `.bss`), from `link.x`.
    static _stack_end: u32;
}

/// The painted region: its lowest and one-past-highest word addresses.
fn bounds() -> (*const u32, *const u32) {
    // Only the symbols' addresses are taken, never their values.
    (addr_of!(_stack_end), addr_of!(_stack_start))
}

/// Bytes between the top of the stack and the end of `.bss`: the most the stack may use.
pub fn size() -> usize {
    let (low, high) = bounds();
    high as usize - low as usize
}

/// The most bytes of stack used since reset: from the top of the stack down to the deepest
/// word that has ever lost its paint, [`repaint`] or not.
pub fn peak() -> usize {
    PEAK_BEFORE_REPAINT.load(Ordering::Relaxed).max(scan())
}

/// The most bytes of stack used since [`repaint`] (since reset if it was not called),
/// counted from the top of the stack.
pub fn serving_peak() -> usize {
    scan()
}

/// Paints again everything below the current SP (less a margin), so that [`serving_peak`]
/// tells the stack used from now on, apart from what startup used; returns the stack in use
/// at the call, in bytes from the top. Call it once, from `main`,
/// once the server is built: building the router (checking and indexing the table) is the
/// deepest startup goes, and its peak would hide what serving needs.
pub fn repaint() -> usize {
    PEAK_BEFORE_REPAINT.store(scan(), Ordering::Relaxed);
    let (low, high) = bounds();
    cortex_m::interrupt::free(|_| {
        let sp = cortex_m::register::msp::read() as usize;
        let end = (sp - REPAINT_MARGIN) & !3;
        let in_use = high as usize - sp;
        let words = (end - low as usize) / 4;
        for i in 0..words {
            // SAFETY: `low + i` is a word between `_stack_end` and `REPAINT_MARGIN` bytes
            // below the SP: no frame lives there (this function's own frame is above the SP it
            // read, and with interrupts off no handler can push one meanwhile), and nothing
            // else points into the stack's free part.
            unsafe { (low as *mut u32).add(i).write_volatile(STACK_PAINT_VALUE) };
        }
        in_use
    })
}

/// Bytes from the top of the stack down to the deepest word that lost its paint. Scans the
/// painted words from the bottom up, so it takes time in proportion to the stack's free part
/// (a few milliseconds for QEMU's 4 MiB).
fn scan() -> usize {
    let (low, high) = bounds();
    let words = (high as usize - low as usize) / 4;
    for i in 0..words {
        // SAFETY: `low + i` for `i < words` is a word of RAM between `_stack_end` and
        // `_stack_start`, aligned (both symbols are 4-byte aligned), readable for the whole
        // run; the stack may be writing above the current SP, never below it, and the words
        // read here are below it until the scan reaches the live stack.
        let word = unsafe { low.add(i).read_volatile() };
        if word != STACK_PAINT_VALUE {
            return (words - i) * 4;
        }
    }
    0
}
