//! # zzz-sim
//!
//! The deterministic simulation backend of zzz. It drives the very `zzz-core` [`Server`] and
//! the very application code that production serves (the bench contract of
//! [`zzz_apps::bench`], plus a few routes of its own) through simulated sockets, faults and a
//! simulated clock. One 64-bit seed determines everything — the server's configuration, the
//! probability of every fault, the clients and what they send, the order of events — so every
//! failure replays from its seed, and the same seed gives a byte-identical trace.
//!
//! [`Server`]: zzz_core::Server
//!
//! ## The layers, from the seed up
//!
//! - [`rng`]: the one source of randomness, a small seeded PRNG. No clock, no OS entropy, no
//!   hash-map iteration order, no threads anywhere in the simulation.
//! - [`swarm`]: what a seed decides before the run — the server's [`Config`](zzz_core::Config),
//!   the rate of each fault class (swarm testing: some seeds switch a class off, others turn
//!   it up), the workload's shape.
//! - [`workload`]: the clients. Each is a script — the bytes it writes, how it paces them,
//!   where it stalls, cuts or resets — and, for every request in it, what the server must
//!   answer. This is the oracle's knowledge: the generator built each request, so it knows
//!   from RFC 9110/9112, zzz's strict rules and the bench contract alone whether it is valid
//!   and what it deserves. It never calls the core's parser or router. Also the raw-TCP
//!   clients and the UDP datagrams.
//! - [`flood`]: the connection flood's silent clients, and the rule for the connections the
//!   server closes to make room for newcomers.
//! - [`oracle`]: the clients' reading side. A response reader of its own parses what each
//!   client receives and judges it against the script's expectations, on every response and
//!   when the connection ends.
//! - [`kv_model`] and [`kv_oracle`]: the key-value clients' oracle: a model of the store,
//!   written from the Redis command semantics, predicts every reply in the order the server
//!   executes commands.
//! - [`ws_oracle`]: the WebSocket clients' oracle: a model of the chat room (one order of
//!   publication, every subscriber that order, gaps only where the ring overtook it) and of
//!   RFC 6455's handshake, frames and closing codes.
//! - [`mqtt_wire`], [`mqtt_client`], [`mqtt_model`] and [`mqtt_oracle`]: the MQTT clients'
//!   packets (written and read by hand from MQTT 3.1.1), their writing and reading side
//!   (acknowledgements as a correct client sends them), a model of the broker written from
//!   the standard and its documented limits, and the oracle judging every packet the server
//!   writes against it: answers in order, CONNACK and SUBACK codes, deliveries only to
//!   matching subscriptions at the right QoS, once, in order, drops only as counted.
//! - [`sim`]: the simulated kernel and clock around one server serving HTTP, raw TCP, UDP,
//!   the key-value store, the WebSocket room and the MQTT broker ([`app::SimModules`]): it
//!   tells the server every event and posts and completes the
//!   operations it asks for (partially, with `EAGAIN`/`EINTR`/`ECANCELED`, resets, reordered
//!   across connections), accepts (with `EMFILE`/`ECONNABORTED`, full slots, a waiting room
//!   and making room), delivers datagrams (dropping those too long) and sends their replies
//!   (some late), ticks the clock (with jumps, drift and regressions), and checks after
//!   every event: no panic, no allocation by the server, no operation on a slot it does not
//!   own, stable send buffers and replies, a datagram dropped exactly when every reply buffer
//!   is in flight, no slot or large buffer leaked at the end.
//! - [`record`]: recordings of a server's inputs (the format, its one encoder and its one
//!   decoder are [`zzz_core::record`]'s) and a replayer that feeds a recording into a fresh
//!   server of any protocol set; the simulator records its own runs in it, and the io_uring
//!   backend records production traffic in it (`zzz_uring::Builder::record`), so an incident
//!   replays here.
//! - [`coverage`] and [`campaign`]: counters per fault class, status, timeout and request class;
//!   a campaign runs a range of seeds, reports failing seeds with the command that reproduces
//!   each, and fails when a required class never fired.
//! - [`app`]: the simulator's own routes, its TCP and UDP handlers and the protocol set that
//!   serves them; [`alloc`]: the counting allocator; [`panics`]: the panic hook and a caught
//!   panic's report; [`trace`]: the hashed trace.
//!
//! ## Running
//!
//! ```text
//! cargo run -p zzz-sim --release -- --seed 42          # one seed; a trace on failure
//! cargo run -p zzz-sim --release -- --seeds 0..2000    # a campaign and its coverage table
//! cargo run -p zzz-sim --release -- --replay FILE      # a recording (--app sim|bench)
//! ```

#![warn(missing_docs)]

pub mod alloc;
pub mod app;
pub mod campaign;
pub mod coverage;
pub mod flood;
pub mod kv_model;
pub mod kv_oracle;
mod mqtt_answers;
pub mod mqtt_client;
mod mqtt_delivery;
pub mod mqtt_model;
pub mod mqtt_oracle;
pub mod mqtt_session;
#[cfg(test)]
mod mqtt_tests;
pub mod mqtt_wire;
pub mod mqtt_ws;
pub mod oracle;
pub mod panics;
pub mod record;
pub mod rng;
pub mod sim;
pub mod swarm;
pub mod trace;
pub mod upgrade_view;
pub mod workload;
pub mod ws_oracle;

pub use campaign::{CampaignReport, run_campaign};
pub use panics::install_panic_hook;
pub use sim::{RunOptions, RunResult, run, run_params};
pub use swarm::SimParams;

/// The command that reproduces `seed`.
pub fn reproduce_command(seed: u64) -> String {
    format!("cargo run -p zzz-sim --release -- --seed {seed}")
}
