//! # zzz-core
//!
//! The `no_std`, heap-free core of zzz. It performs no I/O and reads no clock: a backend
//! (io_uring in `zzz-uring`, the simulator in `zzz-sim`, or your own loop) tells it what
//! happened and asks it what to do next. Every byte of memory it uses is reserved once, at
//! startup, from a region whose size the configuration computes up front.
//!
//! ## Where to look
//!
//! - [`http`]: the HTTP/1.1 engine. A resumable, zero-copy request-head parser
//!   ([`http::HeadParser`]) that validates strictly (RFC 9112) and maps every error to the
//!   status it deserves; an incremental chunked decoder ([`http::ChunkedDecoder`]); the
//!   response writer and the pre-built responses the engine emits on its own; the helpers a
//!   handler needs (header lookup, token lists, query strings, percent-decoding).
//! - [`openapi`]: the OpenAPI 3.1 document, generated from the route table ([`Route`] rows
//!   carry their documentation) and served at `/openapi.json`; [`schema`] holds JSON Schemas as
//!   static data (`#[derive(JsonSchema)]` with the `macros` feature); [`problem`] writes RFC 9457
//!   problem details; [`json`] writes JSON without allocation and, with the `json` feature,
//!   reads and writes typed bodies through serde-json-core.
//! - `templates` (feature `templates`): compiled askama templates rendered straight into the
//!   send buffer by `Reply::template`, with their `Content-Length`, never truncated.
//! - [`assets`]: files embedded at compile time, served without copying, with entity tags,
//!   `304 Not Modified` and precompressed gzip variants.
//! - [`record`]: the format of a recording of a server's inputs and its allocation-free
//!   encoder ([`record::Recorder`]); the simulator replays a recording as a test.
//!
//! Logging goes through one small macro module that switches between `log`, `defmt` and
//! nothing, chosen by feature; with neither feature, logging compiles to nothing.
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
pub mod json;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod openapi;
pub mod pool;
pub mod problem;
pub mod record;
pub mod router;
pub mod schema;
pub mod server;
pub mod shim;
#[cfg(feature = "templates")]
pub mod templates;
pub mod time;
pub mod timer;

pub use app::{App, Completed, Hooks, Service, TcpCtx, TcpHandler, UdpHandler};
pub use config::{Config, MemoryBudget, Timeouts};
pub use handler::{
    Ctx, Handler, Out, Reply, Request, Response, StreamCursor, StreamOut, StreamStep,
};
pub use http::{Method, Status};
pub use net::PeerAddr;
pub use router::{Route, RouteError, Router};
pub use schema::JsonSchema;
pub use server::{
    AcceptError, Gauges, IoError, NewError, Op, OpKind, PrometheusText, Server, ServerView, SlotId,
    Snapshot, Stats,
};
pub use time::{Instant, Now};
/// `#[derive(JsonSchema)]`: see [`schema`].
#[cfg(feature = "macros")]
pub use zzz_macros::JsonSchema;
