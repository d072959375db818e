//! The raw TCP protocol module: a byte stream handled by callbacks with typed per-connection
//! state, the simple way to write a protocol. [`Tcp`] hosts a [`TcpHandler`]: it opens each
//! connection (the handler may speak first), hands it what arrives, sends what it writes,
//! reads more only while there is room to answer (backpressure), closes an idle connection
//! after its idle timeout, and tells the handler when a connection is gone.
//!
//! A plain function `fn(&mut TcpCtx<S>, &[u8]) -> usize` is a handler without per-connection
//! state.

use crate::config::Config;
use crate::net::PeerAddr;
use crate::server::{InputTarget, Link, Protocol};
use crate::time::Now;

/// A byte-stream protocol.
pub trait TcpHandler<S> {
    /// What the handler keeps per connection (in the slot; owns nothing that needs dropping).
    type Conn;

    /// A connection opened: its state. May write (a protocol whose server speaks first).
    fn open(&mut self, ctx: &mut TcpCtx<'_, S>) -> Self::Conn;

    /// `data` arrived (with what earlier calls left unconsumed): write replies through `ctx`
    /// and return how many bytes were consumed; the rest stays for the next call. Called again
    /// when the send buffer drains. Consuming nothing with a full receive buffer closes.
    fn input(&mut self, conn: &mut Self::Conn, ctx: &mut TcpCtx<'_, S>, data: &[u8]) -> usize;

    /// The connection is gone (either side closed it, or it broke).
    fn closed(&mut self, conn: &mut Self::Conn, state: &mut S) {
        let _ = (conn, state);
    }
}

/// What a raw TCP handler works with during one call.
pub struct TcpCtx<'a, S> {
    /// The instance's state.
    pub state: &'a mut S,
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

/// A handler without per-connection state: a function of the bytes received (see
/// [`TcpHandler::input`]).
pub type TcpFn<S> = for<'a, 'b> fn(&'a mut TcpCtx<'b, S>, &[u8]) -> usize;

/// A handler without per-connection state: a function of the bytes received.
impl<S> TcpHandler<S> for TcpFn<S> {
    type Conn = ();

    fn open(&mut self, _: &mut TcpCtx<'_, S>) {}

    fn input(&mut self, _: &mut (), ctx: &mut TcpCtx<'_, S>, data: &[u8]) -> usize {
        self(ctx, data)
    }
}

/// The raw TCP module around a handler.
#[derive(Debug)]
pub struct Tcp<H> {
    /// The handler.
    pub handler: H,
    /// How long a connection may go without input or output before it is closed; `None`:
    /// the configuration's `keep_alive_ms`.
    pub idle_ms: Option<u64>,
}

impl<H> Tcp<H> {
    /// The module around `handler`, with the configuration's idle timeout.
    pub fn new(handler: H) -> Tcp<H> {
        Tcp {
            handler,
            idle_ms: None,
        }
    }

    /// With an idle timeout of its own.
    pub fn idle_ms(mut self, ms: u64) -> Tcp<H> {
        self.idle_ms = Some(ms);
        self
    }

    fn idle(&self, config: &Config) -> u64 {
        self.idle_ms.unwrap_or(config.timeouts.keep_alive_ms)
    }
}

/// Calls `f` with a [`TcpCtx`] over the room after the queued output, then queues what it
/// wrote; returns `f`'s result and whether it asked to close.
fn with_ctx<S, R>(
    link: &mut Link<'_, '_, S>,
    f: impl FnOnce(&mut TcpCtx<'_, S>, &[u8]) -> R,
) -> (R, bool) {
    let (now, peer) = (link.now(), link.peer());
    let (start, end, send_end) = (
        link.input_start() as usize,
        link.input_end() as usize,
        link.output_end() as usize,
    );
    let Link {
        recv, send, state, ..
    } = &mut *link;
    let mut ctx = TcpCtx {
        state: &mut **state,
        now,
        peer,
        out: &mut send[send_end..],
        written: 0,
        close: false,
    };
    let room = ctx.room();
    let result = f(&mut ctx, &recv[start..end]);
    let (written, close) = (ctx.written, ctx.close);
    // The pair of `TcpCtx::write`'s check: the handler wrote only into the room it was lent.
    assert!(written <= room, "a TCP handler wrote past its room");
    link.commit_output(0, written);
    (result, close)
}

impl<S, H: TcpHandler<S>> Protocol<S> for Tcp<H> {
    type Conn = H::Conn;

    fn open(&mut self, link: &mut Link<'_, '_, S>) -> H::Conn {
        let handler = &mut self.handler;
        let (conn, close) = with_ctx(link, |ctx, _| handler.open(ctx));
        if close {
            link.close_after_output();
        }
        let idle = self.idle(link.config());
        link.set_deadline(Some(link.progress_at().after_ms(idle)));
        link.want_input(InputTarget::Buffer { limit: None });
        conn
    }

    fn progress(&mut self, conn: &mut H::Conn, link: &mut Link<'_, '_, S>) {
        let recv_cap = link.config().recv_buffer as usize;
        let send_cap = link.config().send_buffer as usize;
        link.compact_output();
        link.compact_input();
        let pending = !link.input().is_empty();
        let room = send_cap - link.output_end() as usize;
        let mut close = false;
        if pending {
            // It has spoken: no longer among the first closed to make room.
            link.proven();
        }
        if pending && room > 0 {
            let handler = &mut self.handler;
            let before = link.output_end();
            let (consumed, wants_close) = with_ctx(link, |ctx, data| {
                handler.input(conn, ctx, data).min(data.len())
            });
            let written = link.output_end() - before;
            assert!(
                written as usize <= room,
                "a TCP handler's output outgrew the send buffer"
            );
            link.consume(consumed);
            close = wants_close;
            let stuck = consumed == 0
                && written == 0
                && link.input_end() as usize == recv_cap
                && link.input_start() == 0;
            if stuck {
                // The handler cannot make progress and nothing more fits: give up.
                close = true;
            }
        }
        if link.peer_eof() && link.input().is_empty() {
            close = true;
        }
        if close {
            link.close_after_output();
            return;
        }
        let can_read = (link.input_end() as usize) < recv_cap && !link.peer_eof();
        // Backpressure: read more only while there is room to answer.
        if can_read && send_cap - link.output_end() as usize >= send_cap / 4 {
            link.want_input(InputTarget::Buffer { limit: None });
        }
        let idle = self.idle(link.config());
        link.set_deadline(Some(link.progress_at().after_ms(idle)));
    }

    fn timeout(&mut self, _: &mut H::Conn, link: &mut Link<'_, '_, S>) {
        link.stats().idle_timeouts += 1;
        link.close_now();
    }

    fn closed(&mut self, conn: &mut H::Conn, link: &mut Link<'_, '_, S>) {
        self.handler.closed(conn, link.state());
    }
}
