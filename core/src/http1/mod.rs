//! The HTTP/1.1 protocol module: request heads parsed as they arrive, bodies received (into a
//! large buffer when they outgrow the receive buffer), requests dispatched to the app's router
//! in order, responses queued in order, streamed bodies produced as the output drains. It is a
//! [`Protocol`] like any other: the server hosts it without knowing HTTP.
//!
//! - `exchange`: receiving one request after another (head, body, the limits and timeouts
//!   that apply, the canned answers to what cannot be served);
//! - `respond`: what the app answers a complete request (routing, the 404/405/OPTIONS/HEAD
//!   rules) and how the answer is queued;
//! - `stream`: streamed bodies, one chunk whenever the output drains.

mod exchange;
mod respond;
mod stream;

use crate::config::{Config, MemoryBudget};
use crate::handler::{StreamCursor, StreamFn};
use crate::http::{ChunkedDecoder, HeadParser, HeaderSpan, HttpDate, StreamFraming};
use crate::router::{Router, Routing};
use crate::server::{Link, Protocol};
use crate::time::{Instant, Now};

pub use respond::{BeforeHook, Completed, Hooks};

/// The HTTP/1.1 module of an app: its route table (`R`: a [`Router`] of the largest
/// capacities by default, or one sized for its table with
/// [`sized_router!`](crate::sized_router)), its hooks, its `Server` header, and the `Date` it
/// refreshes each second.
pub struct Http<S: 'static, R = Router<S>> {
    /// The route table.
    pub router: R,
    /// The hooks.
    pub hooks: Hooks<S>,
    /// The `Server` header value; `None` sends none. Default `zzz`.
    pub server_name: Option<&'static str>,
    date: HttpDate,
}

impl<S, R: Routing<S>> Http<S, R> {
    /// The module for `router`, with default hooks and `Server: zzz`.
    pub fn new(router: R) -> Http<S, R> {
        Http {
            router,
            hooks: Hooks::default(),
            server_name: Some("zzz"),
            date: HttpDate::new(),
        }
    }
}

impl Config {
    /// The memory an HTTP/1.1 server ([`App::new`](crate::App::new)) with this configuration
    /// needs, computed up front, at compile time if need be: the server's tables and buffers,
    /// and the HTTP module's per-connection state and header array. For an app with other
    /// protocol modules, [`App::memory`](crate::App::memory) adds what they declare.
    pub const fn memory(&self) -> MemoryBudget {
        let needs = crate::server::ModuleNeeds {
            conn: core::mem::size_of::<Option<HttpConn<()>>>(),
            scratch: self.limits.max_headers as usize * core::mem::size_of::<HeaderSpan>(),
            shared: 0,
        };
        crate::server::Layout::of(self, needs).budget()
    }
}

impl<S, R: Routing<S>> core::fmt::Debug for Http<S, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Http")
            .field("routes", &self.router.routes().len())
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// Where a connection is in its current request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    /// Waiting for or parsing a request head.
    Head,
    /// Receiving a request body.
    Body,
    /// The last answer is queued; the connection closes after it.
    Done,
}

/// How the body being received is delimited.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BodyFraming {
    Length,
    Chunked,
}

/// A request body being received: in the receive buffer, or in a large buffer.
///
/// Offsets are into the receive buffer, or into the block when `block` is set. Data lies in
/// `start..written`; for chunked bodies, undecoded bytes in `read..end`. For Content-Length
/// bodies `read == written`.
#[derive(Clone, Debug)]
struct BodyRecv {
    framing: BodyFraming,
    block: Option<crate::pool::BlockId>,
    start: u32,
    read: u32,
    written: u32,
    end: u32,
    /// Content-Length bytes still to come.
    remaining: u64,
    decoder: ChunkedDecoder,
}

impl BodyRecv {
    const fn none() -> BodyRecv {
        BodyRecv {
            framing: BodyFraming::Length,
            block: None,
            start: 0,
            read: 0,
            written: 0,
            end: 0,
            remaining: 0,
            decoder: ChunkedDecoder::new(),
        }
    }
}

/// A streamed body being produced.
struct Stream<S: 'static> {
    producer: StreamFn<S>,
    cursor: StreamCursor,
    framing: StreamFraming,
    finished: bool,
    /// The producer last returned [`StreamStep::Wait`](crate::StreamStep::Wait) with nothing
    /// written: it is called again when the connection is woken, its output drains, or its
    /// heartbeat is due.
    waiting: bool,
    /// The producer is called at least this often while it waits (0: never).
    heartbeat_ms: u32,
}

impl<S> Clone for Stream<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Stream<S> {}

/// What the HTTP module keeps per connection.
pub struct HttpConn<S: 'static> {
    stage: Stage,
    /// Parses the request head, and keeps it (`HeadParser::head`) until the request is done.
    parser: HeadParser,
    body: BodyRecv,
    /// Requests dispatched on this connection.
    requests: u32,
    /// Deadline of the head being received (set at its first byte; for the first head, at
    /// the accept).
    head_deadline: Option<Instant>,
    /// When the body being received started to be awaited.
    body_since: Instant,
    stream: Option<Stream<S>>,
}

impl<S> HttpConn<S> {
    fn new(accepted: Instant, head_ms: u64) -> HttpConn<S> {
        HttpConn {
            stage: Stage::Head,
            parser: HeadParser::new(),
            body: BodyRecv::none(),
            requests: 0,
            // A new connection must deliver its first head within the head timeout.
            head_deadline: Some(accepted.after_ms(head_ms)),
            body_since: accepted,
            stream: None,
        }
    }
}

impl<S, R: Routing<S>> Protocol<S> for Http<S, R> {
    type Conn = HttpConn<S>;

    /// The header array: `limits.max_headers` spans per connection.
    fn scratch_bytes(&self, config: &Config) -> usize {
        config.limits.max_headers as usize * core::mem::size_of::<HeaderSpan>()
    }

    fn open(&mut self, link: &mut Link<'_, '_, S>) -> HttpConn<S> {
        let conn = HttpConn::new(link.accepted_at(), link.config().timeouts.head_ms);
        link.set_deadline(conn.head_deadline);
        link.want_input(crate::server::InputTarget::Buffer { limit: None });
        conn
    }

    fn progress(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        self.run(conn, link);
    }

    fn timeout(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        self.timed_out(conn, link);
    }

    /// Idle connections close now; busy ones after their current response (which says
    /// `Connection: close`).
    fn drain(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        let idle = conn.stage == Stage::Head
            && !link.output_pending()
            && link.input().is_empty()
            && !conn.parser.started();
        if idle {
            link.close_now();
        }
    }

    fn closed(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        if let Some(block) = conn.body.block.take() {
            link.release_block(block);
        }
        conn.stream = None;
    }

    fn tick(&mut self, _: &mut S, _: &mut [u8], now: Now) {
        self.date.update(now.unix_secs);
    }
}
