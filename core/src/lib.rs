//! # zzz-core
//!
//! The `no_std`, heap-free core of zzz. It performs no I/O and reads no clock: a backend
//! (io_uring in `zzz-uring`, `poll(2)` in `zzz-poll`, the simulator in `zzz-sim`, or your own
//! loop) tells it what happened and asks it what to do next. Every byte of memory it uses is
//! reserved once, at startup, from a region whose size the configuration computes up front.
//!
//! The core is built in layers. An application meets the top ones; each layer below is
//! public and documented too, so that a backend, a protocol or a test can use it directly.
//! `ARCHITECTURE.md` at the repository's root is the design as built, section by section;
//! the paragraphs below are the map.
//!
//! ## The server layer
//!
//! [`Server`] is the sans-IO server of one event loop: connection slots, buffers, the
//! large-buffer pool, timers, the operation queue and the overload policy, over one memory
//! region. A backend tells it each [`Event`] through [`Server::handle`] and performs the
//! [`Op`]s that [`Server::poll_op`] hands out (ARCHITECTURE.md §2 Events). The server knows
//! no protocol: it hosts protocol modules. Connections reach each other through its hub:
//! topics (rings of recent messages, a cursor per subscriber) and per-connection inboxes
//! ([`server::Bus`], ARCHITECTURE.md §6.1).
//!
//! ## The protocol layer
//!
//! A [`Protocol`] is the state machine of one kind of connection; it keeps its state in the
//! connection's slot and works through a [`Link`]. An [`App`] is the instance's state and the
//! modules it serves: one, or a set declared with [`protocols!`] (ARCHITECTURE.md §6
//! Protocol modules). The core brings four: [`http1`] (HTTP/1.1), [`tcp`] (raw TCP with
//! typed per-connection state), [`udp`], and [`websocket::WebSocket`] (entered by HTTP
//! `Upgrade`).
//!
//! ## The application layer
//!
//! What an HTTP handler works with: [`handler`] ([`Ctx`], [`Request`], [`Reply`]), the
//! [`router`], compiled templates (`templates`, feature `templates`), embedded [`assets`],
//! typed JSON bodies ([`json`], [`schema`]), the [`openapi`] document generated from the
//! route table, RFC 9457 [`problem`] details, the [`metrics`] route, and server-sent events
//! ([`sse`]: a response that stays open on a topic).
//!
//! ## The HTTP engine
//!
//! [`http`] is HTTP/1.1 on caller-provided buffers: a resumable, strict request-head parser
//! that maps every error to its status, the chunked decoder, the response writer, the canned
//! responses and the limits (ARCHITECTURE.md §5 HTTP/1.1).
//!
//! ## The WebSocket wire layer
//!
//! [`websocket`] is RFC 6455 on caller-provided buffers, for a protocol module entered by HTTP
//! `Upgrade`: the opening handshake's checks and `Sec-WebSocket-Accept`, a resumable frame
//! parser and writer, and the message state machine (fragmentation, UTF-8, control frames, the
//! closing handshake) that turns bytes into events, each refusal mapped to its close code
//! (ARCHITECTURE.md §5.1 WebSocket).
//!
//! ## The MQTT wire layer
//!
//! [`mqtt`] is MQTT 3.1.1 on caller-provided buffers, for a broker module: a resumable
//! fixed-header decoder with a packet-size limit, zero-copy decoding of every control packet with
//! each refusal named ([`mqtt::DecodeError`], and the two a server answers with a CONNACK), topic
//! filter matching, and writers for the server's and the client's packets
//! (ARCHITECTURE.md §5.2 MQTT).
//!
//! ## Foundations
//!
//! [`config`] holds every capacity and computes the memory they need; [`memory`] carves the
//! region (ARCHITECTURE.md §3 Memory); [`pool`] lends large buffers; [`timer`] is the timer
//! wheel; [`time`] is time as the backend tells it; [`net`] names peers; [`stats`] holds the
//! counters and gauges everything above reports into.
//!
//! ## Around the server
//!
//! [`record`] writes and reads recordings of what a server was told, which the simulator
//! replays as tests; [`shim`] serves the core from loops that are not zzz's own (any
//! `embedded-io` or `nb` stream). Logging goes through one small macro module that switches
//! between `log`, `defmt` and nothing, by feature; with neither, logging compiles to nothing.
#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(all(feature = "log", feature = "defmt"))]
compile_error!("zzz-core: the `log` and `defmt` features are mutually exclusive; enable one");

#[cfg(any(feature = "std", test))]
extern crate std;

#[macro_use]
mod logging;

pub mod app;
pub mod assets;
pub mod config;
pub mod handler;
pub mod http;
pub mod http1;
pub mod json;
pub mod memory;
pub mod metrics;
pub mod mqtt;
pub mod net;
pub mod openapi;
pub mod pool;
pub mod problem;
pub mod record;
pub mod router;
pub mod schema;
pub mod server;
pub mod shim;
pub mod sse;
pub mod stats;
pub mod tcp;
#[cfg(feature = "templates")]
pub mod templates;
pub mod time;
pub mod timer;
pub mod udp;
pub mod websocket;

pub use app::App;
pub use config::{Config, Lagging, MemoryBudget, Timeouts, Topics};
pub use handler::{
    Ctx, Handler, Out, Reply, Request, Response, StreamCursor, StreamOut, StreamStep,
};
pub use http::{Method, Status};
pub use http1::{Completed, Hooks, Http};
pub use net::PeerAddr;
pub use router::{Route, RouteError, Router};
pub use schema::JsonSchema;
pub use server::{
    AcceptError, Event, Gauges, Handled, IoError, Link, NewError, Op, OpKind, PrometheusText,
    Protocol, Protocols, Server, ServerView, SlotId, Snapshot, Sole, Stats,
};
pub use tcp::{Tcp, TcpCtx, TcpHandler};
pub use time::{Instant, Now};
pub use udp::{Udp, UdpHandler};
/// `#[derive(JsonSchema)]`: see [`schema`].
#[cfg(feature = "macros")]
pub use zzz_macros::JsonSchema;

// The Rust blocks of ARCHITECTURE.md (its worked example of a protocol module) are compiled
// and run with this crate's doctests, so that the document cannot drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../ARCHITECTURE.md")]
mod architecture {}
