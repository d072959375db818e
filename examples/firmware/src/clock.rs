//! The millisecond clock: SysTick interrupts once a millisecond and its handler counts.
//!
//! The Cortex-M4 of the AN386 image runs at 25 MHz (QEMU's `SYSCLK_FRQ` for the MPS2 boards,
//! which also clocks SysTick when it counts the processor clock), so a reload of 25,000
//! cycles gives one tick per millisecond. The count is a `u64` behind a critical section: the
//! M4 has no 64-bit atomics, and a `u32` of milliseconds wraps after 49 days.

use core::cell::Cell;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use critical_section::Mutex;
use zzz_core::{Instant, Now};

/// The processor clock SysTick counts, in Hz.
pub const CORE_HZ: u32 = 25_000_000;

/// Milliseconds since [`start`].
static MILLIS: Mutex<Cell<u64>> = Mutex::new(Cell::new(0));

/// Starts SysTick: one interrupt per millisecond from the processor clock.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CORE_HZ / 1_000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Milliseconds since [`start`].
pub fn millis() -> u64 {
    critical_section::with(|cs| MILLIS.borrow(cs).get())
}

/// The time as the core takes it: monotonic milliseconds since reset. The board has no
/// wall clock, so `Date` headers say 1970 (`unix_secs` 0).
pub fn now() -> Now {
    Now {
        monotonic: Instant(millis()),
        unix_secs: 0,
    }
}

/// Counts one millisecond.
#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let millis = MILLIS.borrow(cs);
        millis.set(millis.get() + 1);
    });
}
