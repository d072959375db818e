//! Time as the backend tells it: the core never reads a clock.

/// A point on the backend's monotonic clock, in milliseconds from an arbitrary origin.
/// Only differences matter; it never goes backwards (a backend whose clock does must clamp).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(pub u64);

impl Instant {
    /// This instant plus `ms` milliseconds (saturating).
    pub const fn after_ms(self, ms: u64) -> Instant {
        Instant(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub const fn since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// What a backend tells the server with [`Event::Tick`](crate::Event::Tick): the monotonic time for
/// timers and the wall-clock second for the `Date` header.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Now {
    /// Monotonic time, for timeouts.
    pub monotonic: Instant,
    /// Seconds since the Unix epoch, for `Date`.
    pub unix_secs: u64,
}
