//! The bench contract (ARCHITECTURE.md §7) as an app, shared by `examples/bench.rs`, the portable
//! example, the simulator and the integration tests, so that every one of them serves the very
//! same code.
//!
//! - `GET /plaintext` → 200 `text/plain` `Hello, World!`;
//! - `GET /json` → 200 `application/json` `{"message":"Hello, World!"}`, serialized per
//!   request;
//! - any other method (any token, extension methods such as `PURGE` or `QUERY` included) and
//!   path → 200 `application/octet-stream` whose body is the request body (after
//!   de-chunking), with `x-echo-method` and `x-echo-target` (the target as received). CONNECT
//!   is the exception: its target is an authority, not a path, and zzz implements no tunnels,
//!   so it is 501 (see [`zzz_core::router`]).

use zzz_core::http::{HeaderName, Status};
use zzz_core::{App, Ctx, Request, Response, Route, Router};

use crate::mqtt::{BrokerState, BrokerStatus};

const ECHO_METHOD: HeaderName = HeaderName::new("x-echo-method");
const ECHO_TARGET: HeaderName = HeaderName::new("x-echo-target");

/// The bench app keeps no state of its own. It carries the MQTT broker's counters
/// ([`BrokerStatus`]), zero unless a broker is served beside the contract (as the simulator
/// serves one), so that a server of the contract's state can host [`crate::mqtt::Mqtt`] too.
#[derive(Default, Debug)]
pub struct BenchState {
    /// The counters of an MQTT broker served beside the contract.
    pub broker: BrokerStatus,
}

impl BrokerState for BenchState {
    fn broker(&mut self) -> &mut BrokerStatus {
        &mut self.broker
    }
}

fn plaintext(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    ctx.respond(Status::OK)
        .header(HeaderName::CONTENT_TYPE, "text/plain")
        .body(b"Hello, World!")
}

fn json(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    let message = "Hello, World!";
    ctx.respond(Status::OK)
        .header(HeaderName::CONTENT_TYPE, "application/json")
        .fmt(format_args!("{{\"message\":\"{message}\"}}"))
}

fn echo(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    ctx.respond(Status::OK)
        .header(HeaderName::CONTENT_TYPE, "application/octet-stream")
        .header(ECHO_METHOD, req.method_str())
        .header(ECHO_TARGET, req.target())
        .body(req.body())
}

/// `/plaintext` and `/json` answer GET (and HEAD); every other method on them, and every
/// method on every other path, echoes.
static ROUTES: &[Route<BenchState>] = &[
    Route::get("/plaintext", plaintext),
    Route::get("/json", json),
    Route::any("/plaintext", echo),
    Route::any("/json", echo),
    Route::any("/{*path}", echo),
];

/// The route table of the bench contract.
pub fn routes() -> &'static [Route<BenchState>] {
    ROUTES
}

/// The bench app.
pub fn app() -> App<BenchState> {
    App::new(
        BenchState::default(),
        Router::new(ROUTES).expect("the bench routes are valid"),
    )
}
