//! # zzz
//!
//! A socket-server framework whose core is `no_std` and heap-free. This crate is the front
//! door: it re-exports the core ([`core`]), the Linux backend ([`uring`]) and the shared apps
//! ([`bench_app`], from `zzz-apps`); the simulator is `zzz-sim`. The runnable programs are in `examples/`, the integration tests in
//! `tests/`.

pub mod chat;
pub mod mqtt_broker;
pub mod notes_api;
pub use zzz_apps::bench as bench_app;
pub mod site;

pub use zzz_core as core;
#[cfg(unix)]
pub use zzz_poll as poll;
#[cfg(target_os = "linux")]
pub use zzz_uring as uring;
