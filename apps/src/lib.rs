//! # zzz-apps
//!
//! The apps that zzz's examples, integration tests and simulator share, so that each of them
//! serves the very same code: `no_std` and heap-free, like the core they are written against,
//! and free of any backend (the simulator depends on this crate and the core only).
//!
//! - [`bench`](mod@bench): the bench contract, an HTTP app (`examples/bench.rs`).
//! - [`kv`]: a Redis-protocol key-value store, a protocol module written against the core's
//!   public module interface only (`examples/kv.rs`).
//! - [`mqtt`]: an MQTT 3.1.1 broker, a protocol module like `kv`, its tables in the
//!   module's shared memory (`examples/mqtt_broker.rs`).
//! - [`ws_echo`]: a WebSocket echo behind an HTTP upgrade (`examples/ws_echo.rs`).
#![no_std]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod bench;
pub mod kv;
pub mod mqtt;
pub mod ws_echo;
