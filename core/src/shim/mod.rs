//! Portability: serving the core from loops that are not zzz's own.
//!
//! - [`blocking`]: one connection over any blocking `embedded_io::{Read, Write}` stream — a
//!   UART, a TCP socket of an embedded stack, a test pipe.
//! - [`nonblocking`]: several connections over streams that answer
//!   [`nb::Error::WouldBlock`], for a poll loop (a smoltcp socket, a bare-metal superloop).
//!
//! The portable `poll(2)` server for Unix (any kernel) is a backend of its own, `zzz-poll`.
//!
//! Both only translate: they perform the [`Op`](crate::Op)s the server hands out and
//! report what happened, exactly as the io_uring backend and the simulator do.

pub mod blocking;
#[cfg(test)]
pub(crate) mod exchange;
pub mod nonblocking;
#[cfg(all(test, feature = "std"))]
mod tests;
