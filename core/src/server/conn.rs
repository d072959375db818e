//! The state of one connection slot.

use crate::app::TcpHandler;
use crate::handler::{StreamCursor, StreamFn};
use crate::http::{ChunkedDecoder, HeadParser, RequestHead, StreamFraming};
use crate::net::PeerAddr;
use crate::pool::BlockId;
use crate::time::Instant;

use super::overload::Standing;

/// "No slot" in the intrusive lists.
pub(crate) const NONE: u32 = u32::MAX;

/// Operations a slot wants to post (bit flags).
pub(crate) mod wants {
    pub const RECV: u8 = 1;
    pub const SEND: u8 = 2;
    pub const SHUTDOWN: u8 = 4;
    pub const CLOSE: u8 = 8;
}

/// Where a connection is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum Phase {
    /// Not in use.
    Free,
    /// HTTP: waiting for or parsing a request head. TCP: open.
    Head,
    /// HTTP: receiving a request body.
    Body,
    /// The last response is queued; the connection closes once it is sent.
    Closing,
    /// The sending side is shut; input is read and discarded until EOF or the linger timeout.
    Lingering,
    /// The backend was asked to close; waiting for [`Server::closed`](crate::Server::closed).
    Closed,
}

/// What the slot speaks.
pub(crate) enum Kind<S: 'static> {
    Http,
    Tcp(TcpHandler<S>),
}

impl<S> Clone for Kind<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Kind<S> {}

/// How the body being received is delimited.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BodyFraming {
    Length,
    Chunked,
}

/// A request body being received: in the receive buffer, or in a large buffer.
///
/// Offsets are into the receive buffer, or into the block when `block` is set. Data lies
/// in `start..written`; for chunked bodies, undecoded bytes in `read..end`. For
/// Content-Length bodies `read == written`.
#[derive(Clone, Debug)]
pub(crate) struct BodyRecv {
    pub framing: BodyFraming,
    pub block: Option<BlockId>,
    pub start: u32,
    pub read: u32,
    pub written: u32,
    pub end: u32,
    /// Content-Length bytes still to come.
    pub remaining: u64,
    pub decoder: ChunkedDecoder,
}

impl BodyRecv {
    pub const fn none() -> BodyRecv {
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

/// Where a posted receive writes, fixed when it is posted: the state may change before it
/// completes (a timeout, a rejection), the region the kernel writes into may not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RecvAt {
    /// Into the receive buffer, at this offset, at most `len` bytes.
    Buffer { offset: u32, len: u32 },
    /// Into a large buffer holding a body.
    Block { id: BlockId, offset: u32, len: u32 },
    /// Anywhere in the receive buffer: the bytes are discarded (lingering close).
    Discard { len: u32 },
}

/// A response that moved to a large buffer: `start..end` of the block is still to be sent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spill {
    pub id: BlockId,
    pub start: u32,
    pub end: u32,
}

/// What is sent after the send buffer (and the spill block, if any).
pub(crate) enum Then<S: 'static> {
    Nothing,
    /// A static body, `sent` bytes of it done.
    Static {
        body: &'static [u8],
        sent: usize,
    },
    /// A streamed body: the producer is called when all earlier output is sent.
    Stream {
        producer: StreamFn<S>,
        cursor: StreamCursor,
        framing: StreamFraming,
        finished: bool,
    },
}

impl<S> Then<S> {
    pub fn is_nothing(&self) -> bool {
        matches!(self, Then::Nothing)
    }
}

/// One connection slot.
pub(crate) struct Conn<S: 'static> {
    pub kind: Kind<S>,
    pub phase: Phase,
    pub peer: PeerAddr,
    /// Unconsumed received bytes are `recv_start..recv_end` of the receive buffer.
    pub recv_start: u32,
    pub recv_end: u32,
    /// Unsent bytes are `send_start..send_end` of the send buffer.
    pub send_start: u32,
    pub send_end: u32,
    pub spill: Option<Spill>,
    pub then: Then<S>,
    pub recv_posted: bool,
    /// Where the posted receive writes (meaningful while `recv_posted`).
    pub recv_at: RecvAt,
    /// A body's large buffer that a posted receive still writes into although the request
    /// is gone: returned to the pool when that receive completes.
    pub pinned: Option<BlockId>,
    pub send_posted: bool,
    pub wants: u8,
    pub queued: bool,
    pub ready_next: u32,
    /// Which overload queue the connection is on, and its links there.
    pub standing: Standing,
    pub queue_prev: u32,
    pub queue_next: u32,
    pub parser: HeadParser,
    pub head: RequestHead,
    pub body: BodyRecv,
    /// Requests dispatched on this connection.
    pub requests: u32,
    /// Close once the queued output is sent.
    pub close_after: bool,
    /// The peer sent EOF: finish what is buffered, then close.
    pub peer_eof: bool,
    /// Deadline of the head being received (set at its first byte; for the first head, at
    /// the accept).
    pub head_deadline: Option<Instant>,
    /// When the connection was accepted.
    pub accepted_at: Instant,
    /// The peer has sent at least one byte.
    pub heard: bool,
    /// Accepted under pressure: `head_deadline` is the shorter first-byte deadline until the
    /// first byte arrives.
    pub first_byte_wait: bool,
    /// Last time the body or the send made progress.
    pub progress_at: Instant,
    /// When the output now waiting started waiting for the peer to read, or last moved: the
    /// send-stall timeout counts from here (nginx's `send_timeout`: between two successive
    /// writes, not for the whole response).
    pub send_since: Instant,
    /// Per-connection word for TCP handlers.
    pub user: u64,
}

impl<S> Conn<S> {
    pub const fn free() -> Conn<S> {
        Conn {
            kind: Kind::Http,
            phase: Phase::Free,
            peer: PeerAddr::Local,
            recv_start: 0,
            recv_end: 0,
            send_start: 0,
            send_end: 0,
            spill: None,
            then: Then::Nothing,
            recv_posted: false,
            recv_at: RecvAt::Discard { len: 0 },
            pinned: None,
            send_posted: false,
            wants: 0,
            queued: false,
            ready_next: NONE,
            standing: Standing::Busy,
            queue_prev: NONE,
            queue_next: NONE,
            parser: HeadParser::new(),
            head: RequestHead {
                method: crate::http::Method::Get,
                method_span: crate::http::Span { start: 0, len: 0 },
                target: crate::http::Span { start: 0, len: 0 },
                target_form: crate::http::TargetForm::Origin,
                path: crate::http::Span { start: 0, len: 0 },
                query: None,
                version: crate::http::Version::Http11,
                header_count: 0,
                framing: crate::http::Framing::None,
                keep_alive: false,
                expect_continue: false,
                host: None,
                len: 0,
            },
            body: BodyRecv::none(),
            requests: 0,
            close_after: false,
            peer_eof: false,
            head_deadline: None,
            accepted_at: Instant(0),
            heard: false,
            first_byte_wait: false,
            progress_at: Instant(0),
            send_since: Instant(0),
            user: 0,
        }
    }

    /// Unsent bytes in the send buffer.
    pub fn send_pending(&self) -> u32 {
        self.send_end - self.send_start
    }

    /// Whether any output is still to be sent (or produced).
    pub fn output_pending(&self) -> bool {
        self.send_pending() > 0 || self.spill.is_some() || !self.then.is_nothing()
    }
}
