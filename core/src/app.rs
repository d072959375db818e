//! An application: its state, its route table, its hooks, and the raw TCP and UDP handlers.

use crate::handler::{Ctx, Handler, HeadersHook, Request, Response};
use crate::http::Status;
use crate::net::PeerAddr;
use crate::router::Router;
use crate::time::Now;

/// What an `after` hook learns about a finished response.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Completed {
    /// The status sent.
    pub status: Status,
    /// Body bytes (as counted for `Content-Length`, or of a static body; 0 for streams).
    pub body_len: u64,
}

/// A hook run before the handler; a response it returns is sent instead of the handler's.
pub type BeforeHook<S> = fn(&mut Ctx<'_, S>, &Request<'_>) -> Option<Response>;

/// App-level hooks, each optional.
pub struct Hooks<S: 'static> {
    /// Runs before routing-matched handlers; returning a response (e.g. `401`) skips the
    /// handler.
    pub before: Option<BeforeHook<S>>,
    /// Runs after each response is written (access logs, metrics).
    pub after: Option<fn(&mut S, &Request<'_>, &Completed)>,
    /// Adds headers to every response the app writes.
    pub headers: Option<HeadersHook>,
    /// Answers requests no route matches, instead of the built-in `404`.
    pub not_found: Option<Handler<S>>,
}

impl<S> Default for Hooks<S> {
    fn default() -> Self {
        Hooks {
            before: None,
            after: None,
            headers: None,
            not_found: None,
        }
    }
}

/// A raw TCP handler: sees the bytes received and not yet consumed, writes replies through
/// `ctx`, and returns how many bytes it consumed (the rest stay for the next call). Returning
/// 0 with a full receive buffer closes the connection.
pub type TcpHandler<S> = fn(&mut TcpCtx<'_, S>, &[u8]) -> usize;

/// A UDP handler: sees one datagram and its sender, may write a reply into the buffer it is
/// given and return the reply's length.
pub type UdpHandler<S> = fn(&mut S, PeerAddr, &[u8], &mut [u8]) -> Option<usize>;

/// What a connection speaks, chosen by the listener that accepted it.
pub enum Service<S: 'static> {
    /// HTTP/1.1 through the app's router.
    Http,
    /// A raw byte stream through a handler.
    Tcp(TcpHandler<S>),
}

impl<S> Clone for Service<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Service<S> {}

impl<S> core::fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Service::Http => "Http",
            Service::Tcp(_) => "Tcp",
        })
    }
}

/// What a raw TCP handler works with.
pub struct TcpCtx<'a, S: 'static> {
    /// The instance's state.
    pub state: &'a mut S,
    /// A word of per-connection state for the handler (zero when the connection opens).
    pub user: &'a mut u64,
    /// The time of the event.
    pub now: Now,
    /// The peer's address.
    pub peer: PeerAddr,
    pub(crate) out: &'a mut [u8],
    pub(crate) written: usize,
    pub(crate) close: bool,
}

impl<S> core::fmt::Debug for TcpCtx<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpCtx")
            .field("room", &self.room())
            .field("close", &self.close)
            .finish()
    }
}

impl<S> TcpCtx<'_, S> {
    /// Bytes that can still be written in this call.
    pub fn room(&self) -> usize {
        self.out.len() - self.written
    }

    /// Queues `data` to send; `false` (and nothing written) if it does not fit in
    /// [`TcpCtx::room`]. Consume less and reply later: the handler is called again when the
    /// send buffer drains.
    pub fn write(&mut self, data: &[u8]) -> bool {
        if data.len() > self.room() {
            return false;
        }
        self.out[self.written..self.written + data.len()].copy_from_slice(data);
        self.written += data.len();
        true
    }

    /// Closes the connection once what was written has been sent.
    pub fn close(&mut self) {
        self.close = true;
    }
}

/// An application: state, routes and hooks, served by a [`Server`](crate::Server).
pub struct App<S: 'static> {
    /// The instance's state, handed to every handler.
    pub state: S,
    /// The route table.
    pub router: Router<S>,
    /// The hooks.
    pub hooks: Hooks<S>,
    /// The `Server` header value; `None` sends none. Default `zzz`.
    pub server_name: Option<&'static str>,
}

impl<S> App<S> {
    /// An app with default hooks and `Server: zzz`.
    pub fn new(state: S, router: Router<S>) -> App<S> {
        App {
            state,
            router,
            hooks: Hooks::default(),
            server_name: Some("zzz"),
        }
    }
}
