//! One set of logging macros over `log`, `defmt`, or nothing.
//!
//! The crate logs through `zlog_error!`, `zlog_warn!`, `zlog_info!` and `zlog_debug!`. With the
//! `log` feature they forward to the `log` facade; with `defmt` to `defmt`; with neither they
//! expand to code that only type-checks its arguments, so logging costs nothing when off.
//! Format strings must stay within the subset both facades accept (`{}` placeholders).

#[cfg(feature = "log")]
#[allow(unused_macros)]
macro_rules! zlog {
    ($level:ident, $($arg:tt)+) => { ::log::$level!($($arg)+) };
}

#[cfg(feature = "defmt")]
#[allow(unused_macros)]
macro_rules! zlog {
    ($level:ident, $($arg:tt)+) => { ::defmt::$level!($($arg)+) };
}

#[cfg(not(any(feature = "log", feature = "defmt")))]
#[allow(unused_macros)]
macro_rules! zlog {
    ($level:ident, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        $(let _ = &$arg;)*
    }};
}

#[allow(unused_macros)]
macro_rules! zlog_error { ($($arg:tt)+) => { zlog!(error, $($arg)+) }; }
#[allow(unused_macros)]
macro_rules! zlog_warn { ($($arg:tt)+) => { zlog!(warn, $($arg)+) }; }
#[allow(unused_macros)]
macro_rules! zlog_info { ($($arg:tt)+) => { zlog!(info, $($arg)+) }; }
#[allow(unused_macros)]
macro_rules! zlog_debug { ($($arg:tt)+) => { zlog!(debug, $($arg)+) }; }
