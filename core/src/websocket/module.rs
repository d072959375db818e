//! The WebSocket protocol module (RFC 6455): a connection switched to it by an HTTP `Upgrade`
//! ([`upgrade`](super::upgrade)) is served by [`WebSocket`], which hosts a [`WsHandler`] with
//! typed per-connection state, as [`Tcp`](crate::Tcp) hosts a `TcpHandler`.
//!
//! The module reads frames with a [`MessageReader`] (server role) and hands the handler each
//! piece of a data message as the reader produces it ([`MessagePiece`]): **it never buffers a
//! message whole**. A handler that wants whole messages accumulates the pieces in its own
//! `Conn`, up to a bound of its own. A piece is at most `send_buffer - 10` bytes, so that a
//! handler can always answer one piece with one frame in an empty send buffer.
//!
//! What the module does on its own:
//!
//! - **Ping → pong**: every ping is answered with a pong carrying its payload. If the send
//!   buffer has no room for it, the module stops reading until it drains (backpressure): a
//!   pong is never dropped and nothing blocks.
//! - **Backpressure for the handler**: a handler that has no room to answer a piece returns
//!   [`Take::Later`]; the piece is offered again when output drains, and nothing more is read
//!   meanwhile. A handler that says `Later` with nothing queued can never go on: the
//!   connection is failed with 1011.
//! - **Closing handshake** (RFC 6455 §7): the peer's Close is answered with its code (1000 if
//!   it gave none) and the TCP connection closed once that is sent; a protocol violation is
//!   answered with a Close carrying [`Violation::close_code`] (1002, 1007, 1009), then
//!   closed. A close of ours ([`WsCtx::close`], the idle timeout, [`Protocol::drain`]) sends
//!   Close and keeps reading until the peer's Close arrives, at most
//!   [`WsLimits::close_ms`]; then the TCP connection is closed.
//! - **Timeouts**, by the module's deadline: [`WsLimits::idle_ms`] without input closes with
//!   1001; with [`WsLimits::ping_ms`] set, a ping is sent after that long without input, and
//!   the connection is dropped if nothing at all (a pong or anything else) arrives within
//!   another `ping_ms`.
//! - **Graceful shutdown**: every WebSocket is sent Close 1001 and waits for the peer's
//!   Close, bounded by `close_ms`.
//!
//! Everything per connection lives in the slot ([`WsConn`], the reader's ~200 bytes, a pending
//! pong of at most 125 bytes, the handler's `Conn`): no allocation.

use crate::config::Config;
use crate::net::PeerAddr;
use crate::server::{Bus, Delivery, InputTarget, Link, Protocol, SlotId};
use crate::time::{Instant, Now};

use super::{
    CloseCode, DataKind, Event, FrameHeader, MAX_CONTROL_PAYLOAD, MessageReader, Opcode,
    ReaderConfig, WriteError, write_close, write_frame, write_header,
};

/// The largest header of a frame a server writes: 2 bytes and a 64-bit length, no mask.
const MAX_SERVER_HEADER: usize = 10;

/// The module's limits and timeouts, with their defaults ([`WsLimits::DEFAULT`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WsLimits {
    /// The largest payload of one frame the peer may send; more is refused with 1009 from the
    /// frame's header. Default 64 KiB.
    pub max_frame: u64,
    /// The largest message, its fragments together; more is refused with 1009 from the header
    /// of the fragment that would pass it. Default 1 MiB. The module holds no message whole,
    /// so this bounds what a handler accumulating messages must hold.
    pub max_message: u64,
    /// How long a connection may go without input before it is closed with 1001. Default 60 s.
    pub idle_ms: u64,
    /// Sends a ping after this long without input, and drops the connection if nothing at all
    /// arrives within as long again. Default `None`: no pings.
    pub ping_ms: Option<u64>,
    /// How long to wait for the peer's Close after sending ours before closing the TCP
    /// connection anyway. Default 5 s.
    pub close_ms: u64,
}

impl WsLimits {
    /// 64 KiB frames, 1 MiB messages, 60 s idle, no pings, 5 s for the peer's Close.
    pub const DEFAULT: WsLimits = WsLimits {
        max_frame: 64 * 1024,
        max_message: 1024 * 1024,
        idle_ms: 60_000,
        ping_ms: None,
        close_ms: 5_000,
    };
}

impl Default for WsLimits {
    fn default() -> WsLimits {
        WsLimits::DEFAULT
    }
}

/// A piece of a data message, as the reader produced it: the message's pieces in order make
/// it whole (a text message whole is UTF-8; one piece may end inside a character).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MessagePiece<'a> {
    /// Text or binary.
    pub kind: DataKind,
    /// The piece's bytes, unmasked (at most `send_buffer - 10`).
    pub data: &'a [u8],
    /// The message's first piece.
    pub first: bool,
    /// The message's last piece: the message is complete.
    pub last: bool,
}

/// What a handler did with a piece.
#[must_use = "say whether the piece was taken"]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Take {
    /// Done with it: the next piece comes next.
    Done,
    /// No room to answer it now: offer it again when the send buffer has drained (nothing more
    /// is read meanwhile). Saying this with nothing queued fails the connection with 1011.
    Later,
}

/// Why a message was not queued.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// The send buffer has no room for the frame now: send it when the buffer has drained
    /// (return [`Take::Later`]).
    Full,
    /// A Close was sent or is owed: no data frame may follow it (RFC 6455 §5.5.1).
    Closing,
}

/// A WebSocket application: what happens on a connection's messages.
pub trait WsHandler<S> {
    /// What the handler keeps per connection (in the slot; owns nothing that needs dropping).
    type Conn;

    /// The connection has become a WebSocket (the `101` is queued): its state. May send.
    fn open(&mut self, ctx: &mut WsCtx<'_, S>) -> Self::Conn;

    /// A piece of a data message arrived: answer through `ctx`, or say [`Take::Later`] to be
    /// offered it again once the send buffer drains.
    fn message(
        &mut self,
        conn: &mut Self::Conn,
        ctx: &mut WsCtx<'_, S>,
        piece: MessagePiece<'_>,
    ) -> Take;

    /// The connection is gone. `code` is the Close code of the closing handshake (the peer's
    /// when it closed first, ours otherwise), `None` if the TCP connection ended without one.
    fn closed(&mut self, conn: &mut Self::Conn, state: &mut S, code: Option<CloseCode>) {
        let _ = (conn, state, code);
    }
}

/// What a WebSocket handler works with during one call.
pub struct WsCtx<'a, S> {
    /// The instance's state.
    pub state: &'a mut S,
    /// The time of the event.
    pub now: Now,
    /// The peer's address.
    pub peer: PeerAddr,
    /// The connection's slot: a key for what the app keeps per connection in its state.
    pub slot: SlotId,
    /// The connection's handle on the hub: follow topics (their messages are sent to the
    /// peer as [`WebSocket::deliver`] says), publish to them.
    pub bus: Bus<'a>,
    out: &'a mut [u8],
    written: usize,
    closing: bool,
    close: Option<CloseCode>,
}

impl<S> core::fmt::Debug for WsCtx<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WsCtx")
            .field("slot", &self.slot)
            .field("room", &self.room())
            .field("close", &self.close)
            .finish()
    }
}

impl<S> WsCtx<'_, S> {
    /// Bytes that can still be written in this call (frame headers included: 2 bytes up to
    /// 125 bytes of payload, 4 up to 65,535, 10 beyond).
    pub fn room(&self) -> usize {
        self.out.len() - self.written
    }

    /// Whether a Close was sent or asked for: no more messages may be sent.
    pub fn is_closing(&self) -> bool {
        self.closing || self.close.is_some()
    }

    /// Queues a text message, as one frame.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_frame(Opcode::Text, text.as_bytes())
    }

    /// Queues a binary message, as one frame.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_frame(Opcode::Binary, data)
    }

    /// Queues one fragment of a message (RFC 6455 §5.4): `first` begins it (a text or binary
    /// frame), later ones continue it, `last` ends it. The caller keeps its fragments in order
    /// and, for text, makes the message whole UTF-8 (a fragment may end inside a character).
    pub fn send_piece(
        &mut self,
        kind: DataKind,
        data: &[u8],
        first: bool,
        last: bool,
    ) -> Result<(), SendError> {
        if self.is_closing() {
            return Err(SendError::Closing);
        }
        let opcode = match (first, kind) {
            (false, _) => Opcode::Continuation,
            (true, DataKind::Text) => Opcode::Text,
            (true, DataKind::Binary) => Opcode::Binary,
        };
        let header = FrameHeader {
            fin: last,
            rsv: 0,
            opcode,
            mask: None,
            payload_len: data.len() as u64,
        };
        if header.encoded_len() + data.len() > self.room() {
            return Err(SendError::Full);
        }
        let out = &mut self.out[self.written..];
        let at = write_header(out, &header).map_err(|_| SendError::Full)?;
        out[at..at + data.len()].copy_from_slice(data);
        self.written += at + data.len();
        Ok(())
    }

    fn send_frame(&mut self, opcode: Opcode, data: &[u8]) -> Result<(), SendError> {
        if self.is_closing() {
            return Err(SendError::Closing);
        }
        match write_frame(&mut self.out[self.written..], opcode, data) {
            Ok(n) => {
                self.written += n;
                Ok(())
            }
            Err(_) => Err(SendError::Full),
        }
    }

    /// Begins the closing handshake with `code`: the Close is sent after what was queued, and
    /// the connection waits for the peer's (at most [`WsLimits::close_ms`]). `false`, and
    /// nothing done, for a code that may not be sent ([`CloseCode::is_allowed_on_wire`]) or
    /// when closing already.
    pub fn close(&mut self, code: CloseCode) -> bool {
        if self.is_closing() || !code.is_allowed_on_wire() {
            return false;
        }
        self.close = Some(code);
        true
    }
}

/// The WebSocket module around a handler.
#[derive(Debug)]
pub struct WebSocket<H> {
    /// The handler.
    pub handler: H,
    /// Limits and timeouts.
    pub limits: WsLimits,
    /// How a message of a topic the connection follows is sent: one frame of this kind
    /// (a text message that is not UTF-8 goes as binary). Default text.
    pub deliver: DataKind,
}

impl<H> WebSocket<H> {
    /// The module around `handler`, with [`WsLimits::DEFAULT`].
    pub fn new(handler: H) -> WebSocket<H> {
        WebSocket {
            handler,
            limits: WsLimits::DEFAULT,
            deliver: DataKind::Text,
        }
    }

    /// With these limits.
    pub fn limits(mut self, limits: WsLimits) -> WebSocket<H> {
        self.limits = limits;
        self
    }

    /// Sends the messages of followed topics as frames of `kind`.
    pub fn deliver_as(mut self, kind: DataKind) -> WebSocket<H> {
        self.deliver = kind;
        self
    }

    /// Sends the messages waiting in the topics the connection follows, one frame each, as
    /// many as the send buffer has room for (the rest when it drains); none once a Close is
    /// owed or sent (RFC 6455 §5.5.1). A message too large for an empty send buffer can
    /// never be sent: it is skipped (keep `Topics::max_message` at most the send buffer less
    /// 10 bytes).
    fn send_followed<S, C>(&self, conn: &WsConn<C>, link: &mut Link<'_, '_, S>) {
        if conn.phase != Phase::Open || conn.owed_close.is_some() || conn.pong.is_some() {
            return;
        }
        let kind = self.deliver;
        // Bounded: each turn takes a message of the rings, or stops.
        for _ in 0..link.config().send_buffer as usize + 1 {
            let nothing_queued = !link.output_queued();
            let delivery = link.write_next_message(|message, room| {
                let opcode = match kind {
                    DataKind::Text if core::str::from_utf8(message.data).is_ok() => Opcode::Text,
                    _ => Opcode::Binary,
                };
                match write_frame(room, opcode, message.data) {
                    Ok(n) => Some(n),
                    // It can never fit: skip it rather than stall the connection.
                    Err(_) if nothing_queued => Some(0),
                    Err(_) => None,
                }
            });
            if delivery != Delivery::Written {
                return;
            }
        }
    }
}

/// What happens once an owed Close is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AfterClose {
    /// Ours, first: wait for the peer's Close.
    Wait,
    /// An answer (to the peer's Close or to a violation): close the TCP connection.
    Finish,
}

/// Where a connection stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Messages flow.
    Open,
    /// Our Close was sent at this time: waiting for the peer's.
    CloseSent(Instant),
    /// The TCP connection is closing.
    Done,
}

/// A piece the handler said [`Take::Later`] to: it lies at the front of the input.
#[derive(Clone, Copy, Debug)]
struct Held {
    len: usize,
    kind: DataKind,
    first: bool,
    last: bool,
}

/// A pong owed to the peer (the payload of its ping).
#[derive(Clone, Copy, Debug)]
struct Pong {
    payload: [u8; MAX_CONTROL_PAYLOAD],
    len: u8,
}

/// One WebSocket connection's state, in its slot.
#[derive(Debug)]
pub struct WsConn<C> {
    reader: MessageReader,
    /// The handler's state.
    pub user: C,
    phase: Phase,
    pong: Option<Pong>,
    owed_close: Option<(CloseCode, AfterClose)>,
    held: Option<Held>,
    /// When input last arrived.
    heard_at: Instant,
    /// When our ping went unanswered since.
    ping_sent_at: Option<Instant>,
    /// The code of the closing handshake, for the handler's `closed`.
    code: Option<CloseCode>,
}

/// Calls `f` with a [`WsCtx`] over the room after the queued output and the input bytes at
/// `data` (absolute in the receive buffer); queues what it wrote; returns `f`'s result and
/// the close it asked for.
fn with_ctx<S, R>(
    link: &mut Link<'_, '_, S>,
    closing: bool,
    data: core::ops::Range<usize>,
    f: impl FnOnce(&mut WsCtx<'_, S>, &[u8]) -> R,
) -> (R, Option<CloseCode>) {
    let (now, peer, slot) = (link.now(), link.peer(), link.slot());
    let send_end = link.output_end() as usize;
    let Link {
        recv,
        send,
        state,
        hub,
        ..
    } = &mut *link;
    let mut ctx = WsCtx {
        state: &mut **state,
        now,
        peer,
        slot,
        bus: Bus {
            hub: &mut **hub,
            slot,
        },
        out: &mut send[send_end..],
        written: 0,
        closing,
        close: None,
    };
    let room = ctx.room();
    let result = f(&mut ctx, &recv[data]);
    let (written, close) = (ctx.written, ctx.close);
    // The pair of `WsCtx::send_*`'s checks: the handler wrote only into the room it was lent.
    assert!(written <= room, "a WebSocket handler wrote past its room");
    link.commit_output(0, written);
    (result, close)
}

impl<H> WebSocket<H> {
    /// The largest piece handed to the handler: one frame of it fits an empty send buffer.
    fn piece_cap(config: &Config) -> usize {
        (config.send_buffer as usize)
            .saturating_sub(MAX_SERVER_HEADER)
            .max(1)
    }

    /// When the module must act next: the peer's Close is overdue, a ping is due or
    /// unanswered, or the connection has idled.
    fn deadline<C>(&self, conn: &WsConn<C>) -> Option<Instant> {
        match conn.phase {
            Phase::Done => None,
            Phase::CloseSent(at) => Some(at.after_ms(self.limits.close_ms)),
            Phase::Open => {
                let idle = conn.heard_at.after_ms(self.limits.idle_ms);
                let ping = self.limits.ping_ms.map(|p| match conn.ping_sent_at {
                    None => conn.heard_at.after_ms(p),
                    Some(sent) => sent.after_ms(p),
                });
                Some(ping.map_or(idle, |p| p.min(idle)))
            }
        }
    }

    /// Owes the peer a Close with `code`, unless one is owed or sent already.
    fn owe_close<C>(conn: &mut WsConn<C>, code: CloseCode, after: AfterClose) {
        if conn.owed_close.is_some() || conn.phase != Phase::Open {
            return;
        }
        conn.owed_close = Some((code, after));
        conn.code = Some(code);
    }

    /// Writes the owed pong and Close, in that order, as far as the send buffer's room allows;
    /// `true` when nothing is owed any more.
    fn write_owed<S, C>(conn: &mut WsConn<C>, link: &mut Link<'_, '_, S>) -> bool {
        if let Some(pong) = conn.pong {
            match write_frame(
                link.output_room(),
                Opcode::Pong,
                &pong.payload[..pong.len as usize],
            ) {
                Ok(n) => {
                    link.commit_output(0, n);
                    conn.pong = None;
                }
                Err(WriteError::DoesNotFit { .. }) => return false,
                Err(e) => unreachable!("a pong of at most 125 bytes: {e:?}"),
            }
        }
        if let Some((code, after)) = conn.owed_close {
            match write_close(link.output_room(), Some((code, ""))) {
                Ok(n) => link.commit_output(0, n),
                Err(WriteError::DoesNotFit { .. }) => return false,
                Err(e) => unreachable!("close codes are checked before they are owed: {e:?}"),
            }
            conn.owed_close = None;
            debug_assert!(conn.phase == Phase::Open);
            match after {
                AfterClose::Wait => {
                    conn.reader.sent_close();
                    conn.phase = Phase::CloseSent(link.now().monotonic);
                }
                AfterClose::Finish => {
                    conn.phase = Phase::Done;
                    link.close_after_output();
                }
            }
        }
        true
    }

    /// Whether the connection may read: nothing owed, no piece held, not closing.
    fn may_read<C>(conn: &WsConn<C>) -> bool {
        conn.pong.is_none()
            && conn.owed_close.is_none()
            && conn.held.is_none()
            && conn.phase != Phase::Done
    }

    /// Finishes a call: writes what is owed, asks for input if it may read, sets the deadline.
    fn settle<S, C>(&self, conn: &mut WsConn<C>, link: &mut Link<'_, '_, S>) {
        Self::write_owed(conn, link);
        if conn.phase == Phase::Done {
            link.set_deadline(None);
            return;
        }
        let recv_cap = link.config().recv_buffer as usize;
        if Self::may_read(conn) && (link.input_end() as usize) < recv_cap && !link.peer_eof() {
            link.want_input(InputTarget::Buffer { limit: None });
        }
        link.set_deadline(self.deadline(conn));
    }
}

impl<H> WebSocket<H> {
    /// Offers the handler a piece lying at `start..start + piece.len` of the receive buffer;
    /// acts on the close it asks for. `true` if it took it.
    fn offer<S>(
        &mut self,
        conn: &mut WsConn<H::Conn>,
        link: &mut Link<'_, '_, S>,
        start: usize,
        held: Held,
    ) -> bool
    where
        H: WsHandler<S>,
    {
        let handler = &mut self.handler;
        let user = &mut conn.user;
        let closing = conn.phase != Phase::Open || conn.owed_close.is_some();
        let (take, close) = with_ctx(link, closing, start..start + held.len, |ctx, data| {
            let piece = MessagePiece {
                kind: held.kind,
                data,
                first: held.first,
                last: held.last,
            };
            handler.message(user, ctx, piece)
        });
        if let Some(code) = close {
            Self::owe_close(conn, code, AfterClose::Wait);
        }
        match take {
            Take::Done => true,
            Take::Later if !link.output_queued() => {
                // Nothing queued will drain to make room: the handler can never go on.
                Self::owe_close(conn, CloseCode::INTERNAL_ERROR, AfterClose::Finish);
                false
            }
            Take::Later => false,
        }
    }
}

impl<S, H: WsHandler<S>> Protocol<S> for WebSocket<H> {
    type Conn = WsConn<H::Conn>;

    fn open(&mut self, link: &mut Link<'_, '_, S>) -> WsConn<H::Conn> {
        let handler = &mut self.handler;
        let end = link.input_start() as usize;
        let (user, close) = with_ctx(link, false, end..end, |ctx, _| handler.open(ctx));
        let mut conn = WsConn {
            reader: MessageReader::new(ReaderConfig::server(
                self.limits.max_frame,
                self.limits.max_message,
            )),
            user,
            phase: Phase::Open,
            pong: None,
            owed_close: None,
            held: None,
            heard_at: link.now().monotonic,
            ping_sent_at: None,
            code: None,
        };
        if let Some(code) = close {
            Self::owe_close(&mut conn, code, AfterClose::Wait);
        }
        // It upgraded: no longer among the first closed to make room.
        link.proven();
        self.settle(&mut conn, link);
        conn
    }

    fn progress(&mut self, conn: &mut WsConn<H::Conn>, link: &mut Link<'_, '_, S>) {
        link.compact_output();
        link.compact_input();
        if conn.phase == Phase::Done {
            return;
        }
        if !Self::write_owed(conn, link) {
            return self.settle(conn, link);
        }
        if let Some(held) = conn.held {
            let start = link.input_start() as usize;
            if !self.offer(conn, link, start, held) {
                return self.settle(conn, link);
            }
            link.consume(held.len);
            conn.held = None;
        }
        self.read(conn, link);
        if link.peer_eof() && conn.phase != Phase::Done && Self::may_read(conn) {
            // The peer's end without (or before the rest of) a closing handshake: RFC 6455
            // §7.1.5's 1006, reported as no code unless one was exchanged.
            conn.phase = Phase::Done;
            link.close_after_output();
        }
        self.send_followed(conn, link);
        self.settle(conn, link);
    }

    fn timeout(&mut self, conn: &mut WsConn<H::Conn>, link: &mut Link<'_, '_, S>) {
        let now = link.now().monotonic;
        match conn.phase {
            Phase::Done => {}
            Phase::CloseSent(_) => {
                // The peer's Close is overdue.
                link.close_now();
                return;
            }
            Phase::Open => {
                let limits = self.limits;
                if conn.heard_at.after_ms(limits.idle_ms) <= now {
                    link.stats().idle_timeouts += 1;
                    Self::owe_close(conn, CloseCode::GOING_AWAY, AfterClose::Wait);
                } else if let Some(p) = limits.ping_ms {
                    match conn.ping_sent_at {
                        Some(sent) if sent.after_ms(p) <= now => {
                            // Nothing came back: the peer is gone, or not reading.
                            link.stats().idle_timeouts += 1;
                            link.close_now();
                            return;
                        }
                        // The deadline fires with no output pending: the buffer has room.
                        None if conn.heard_at.after_ms(p) <= now && link.write(&[0x89, 0x00]) => {
                            conn.ping_sent_at = Some(now);
                        }
                        _ => {}
                    }
                }
            }
        }
        self.settle(conn, link);
    }

    fn drain(&mut self, conn: &mut WsConn<H::Conn>, link: &mut Link<'_, '_, S>) {
        Self::owe_close(conn, CloseCode::GOING_AWAY, AfterClose::Wait);
        self.settle(conn, link);
    }

    fn closed(&mut self, conn: &mut WsConn<H::Conn>, link: &mut Link<'_, '_, S>) {
        self.handler.closed(&mut conn.user, link.state(), conn.code);
    }
}

impl<H> WebSocket<H> {
    /// Reads frames from the input and acts on each event until the input is used up or
    /// something must wait (a pong or Close owed, a piece held, the connection closing).
    fn read<S>(&mut self, conn: &mut WsConn<H::Conn>, link: &mut Link<'_, '_, S>)
    where
        H: WsHandler<S>,
    {
        let cap = Self::piece_cap(link.config());
        if !link.input().is_empty() {
            conn.heard_at = link.now().monotonic;
            conn.ping_sent_at = None;
        }
        // Bounded: every event but a failure consumes at least one byte of the input, and a
        // failure stops the reading.
        for _ in 0..=link.input().len() {
            if !Self::may_read(conn) || link.input().is_empty() {
                return;
            }
            let start = link.input_start() as usize;
            let end = (link.input_end() as usize).min(start + cap);
            let step = conn.reader.read(&mut link.recv_buffer()[start..end]);
            let consumed = step.consumed;
            match step.event {
                Event::NeedMore => link.consume(consumed),
                Event::Data {
                    range,
                    kind,
                    first,
                    fin,
                } => {
                    debug_assert_eq!(consumed, range.end);
                    link.consume(range.start);
                    let held = Held {
                        len: range.len(),
                        kind,
                        first,
                        last: fin,
                    };
                    if self.offer(conn, link, start + range.start, held) {
                        link.consume(held.len);
                    } else {
                        conn.held = Some(held);
                    }
                }
                Event::Ping(payload) => {
                    let mut pong = Pong {
                        payload: [0; MAX_CONTROL_PAYLOAD],
                        len: payload.len() as u8,
                    };
                    pong.payload[..payload.len()].copy_from_slice(payload);
                    link.consume(consumed);
                    // RFC 6455 §5.5.2: answered as soon as is practical; reading stops until
                    // it is written.
                    conn.pong = Some(pong);
                    Self::write_owed(conn, link);
                }
                Event::Pong(_) => link.consume(consumed),
                Event::Close { code, reply, .. } => {
                    link.consume(consumed);
                    match reply {
                        Some(answer) => {
                            Self::owe_close(conn, answer, AfterClose::Finish);
                            conn.code = code.or(Some(answer));
                        }
                        None => {
                            // The answer to ours: the handshake is complete.
                            debug_assert!(matches!(conn.phase, Phase::CloseSent(_)));
                            conn.phase = Phase::Done;
                            link.close_after_output();
                        }
                    }
                    Self::write_owed(conn, link);
                }
                Event::Fail(violation) => {
                    // RFC 6455 §7.1.7: what follows cannot be framed; answer and close.
                    let end = link.input_end();
                    link.set_input_start(end);
                    let code = violation.close_code();
                    if conn.phase == Phase::Open {
                        Self::owe_close(conn, code, AfterClose::Finish);
                    } else {
                        conn.phase = Phase::Done;
                        link.close_after_output();
                    }
                    conn.code = Some(code);
                    Self::write_owed(conn, link);
                    return;
                }
            }
        }
    }
}
