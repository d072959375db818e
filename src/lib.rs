//! # zzz
//!
//! A socket-server framework whose core is `no_std` and heap-free. This crate is the front
//! door: it re-exports the core ([`core`]); the Linux backend lives in `zzz-uring` and the
//! simulator in `zzz-sim`. The runnable programs are in `examples/`, the integration tests in
//! `tests/`.

pub mod bench_app;
pub mod notes_api;
pub mod site;

pub use zzz_core as core;
#[cfg(target_os = "linux")]
pub use zzz_uring as uring;
