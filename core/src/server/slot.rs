//! The state of one connection slot that is the server's, whatever the protocol: its phase,
//! its buffers' fill levels and the operations posted on them, its place on the ready queue
//! and the overload queues, its clock readings. What the protocol keeps lives beside it, in
//! the module's own per-connection state.

use crate::net::PeerAddr;
use crate::pool::BlockId;
use crate::time::Instant;

/// "No slot" in the intrusive lists.
pub(crate) const NONE: u32 = u32::MAX;

/// Operations a slot wants to post (bit flags).
pub(crate) mod wants {
    pub const RECV: u8 = 1;
    pub const SEND: u8 = 2;
    pub const SHUTDOWN: u8 = 4;
    pub const CLOSE: u8 = 8;
}

/// Where a connection is in its life, as the server sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum Phase {
    /// Not in use.
    Free,
    /// Its protocol module runs it.
    Open,
    /// The module is done: what it queued (and still produces) is sent, then the connection
    /// lingers or closes; input is read and discarded meanwhile.
    Closing,
    /// The sending side is shut; input is read and discarded until EOF or the linger timeout.
    Lingering,
    /// The backend was asked to close; waiting for [`Server::closed`](crate::Server::closed).
    Closed,
}

/// Where the next receive should write, as the module asked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InputTarget {
    /// Into the receive buffer after what it holds, at most `limit` bytes (`None`: as much
    /// as fits).
    Buffer {
        /// The most bytes to take, so that what follows stays in the socket.
        limit: Option<u32>,
    },
    /// Into a large buffer the module holds, at this offset, at most `len` bytes.
    Block {
        /// The block.
        id: BlockId,
        /// Where in it.
        offset: u32,
        /// The most bytes.
        len: u32,
    },
}

/// Where a posted receive writes, fixed when it is posted: the state may change before it
/// completes (a timeout, a rejection), the region the kernel writes into may not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RecvAt {
    /// Into the receive buffer, at this offset, at most `len` bytes.
    Buffer { offset: u32, len: u32 },
    /// Into a large buffer the module holds.
    Block { id: BlockId, offset: u32, len: u32 },
    /// Anywhere in the receive buffer: the bytes are discarded (closing, lingering).
    Discard { len: u32 },
}

impl RecvAt {
    /// Bytes the receive may write.
    pub(crate) fn len(&self) -> u32 {
        match *self {
            RecvAt::Buffer { len, .. } | RecvAt::Block { len, .. } | RecvAt::Discard { len } => len,
        }
    }
}

/// Output that moved to a large buffer: `start..end` of the block is still to be sent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spill {
    pub id: BlockId,
    pub start: u32,
    pub end: u32,
}

/// A body sent from where it lies (`'static` memory), after the buffered output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StaticBody {
    pub body: &'static [u8],
    pub sent: usize,
}

/// Which overload queue a connection is on (see `overload`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Standing {
    /// On no queue: working, closing, or not HTTP-idle.
    Busy,
    /// Accepted and still without a complete first request head (or first byte).
    Unproven,
    /// Between two requests, with nothing buffered either way.
    Idle,
}

/// One connection slot, as the server keeps it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub phase: Phase,
    pub peer: PeerAddr,
    /// Unconsumed received bytes are `recv_start..recv_end` of the receive buffer.
    pub recv_start: u32,
    pub recv_end: u32,
    pub recv_posted: bool,
    /// Where the posted receive writes (meaningful while `recv_posted`).
    pub recv_at: RecvAt,
    /// Where the module wants its next input.
    pub input_target: InputTarget,
    /// What the last receive into a block brought: (block, offset, bytes), for the module
    /// to take.
    pub block_arrival: Option<(BlockId, u32, u32)>,
    /// A block that a posted receive still writes into although the module let go of it:
    /// returned to the pool when that receive completes.
    pub pinned: Option<BlockId>,
    /// The peer sent EOF.
    pub peer_eof: bool,
    /// The peer has sent at least one byte.
    pub heard: bool,
    /// Unsent bytes are `send_start..send_end` of the send buffer.
    pub send_start: u32,
    pub send_end: u32,
    pub send_posted: bool,
    pub spill: Option<Spill>,
    pub static_body: Option<StaticBody>,
    /// The module will produce more output once what is queued is sent (a stream).
    pub producing: bool,
    pub wants: u8,
    pub queued: bool,
    pub ready_next: u32,
    /// Which overload queue the connection is on, and its links there.
    pub standing: Standing,
    pub queue_prev: u32,
    pub queue_next: u32,
    /// The module says the connection has proven itself (a complete first request head, a
    /// first byte): it leaves the unproven queue for good.
    pub proven: bool,
    /// The module says the connection waits, with nothing in progress, for a next request.
    pub idle: bool,
    /// When the connection was accepted.
    pub accepted_at: Instant,
    /// Last time input or output made progress.
    pub progress_at: Instant,
    /// When the output now waiting started waiting for the peer to read, or last moved: the
    /// send-stall timeout counts from here (nginx's `send_timeout`: between two successive
    /// writes, not for the whole response).
    pub send_since: Instant,
    /// Accepted under pressure: closed at `first_byte_at` unless a byte arrives first.
    pub first_byte_wait: bool,
    pub first_byte_at: Instant,
    /// The module's deadline: its `timeout` is called when it passes.
    pub deadline: Option<Instant>,
}

impl Slot {
    pub const fn free() -> Slot {
        Slot {
            phase: Phase::Free,
            peer: PeerAddr::Local,
            recv_start: 0,
            recv_end: 0,
            recv_posted: false,
            recv_at: RecvAt::Discard { len: 0 },
            input_target: InputTarget::Buffer { limit: None },
            block_arrival: None,
            pinned: None,
            peer_eof: false,
            heard: false,
            send_start: 0,
            send_end: 0,
            send_posted: false,
            spill: None,
            static_body: None,
            producing: false,
            wants: 0,
            queued: false,
            ready_next: NONE,
            standing: Standing::Busy,
            queue_prev: NONE,
            queue_next: NONE,
            proven: false,
            idle: false,
            accepted_at: Instant(0),
            progress_at: Instant(0),
            send_since: Instant(0),
            first_byte_wait: false,
            first_byte_at: Instant(0),
            deadline: None,
        }
    }

    /// Unsent bytes in the send buffer.
    pub fn send_pending(&self) -> u32 {
        self.send_end - self.send_start
    }

    /// Whether output is queued: in the send buffer, a spill block or a static body.
    pub fn output_queued(&self) -> bool {
        self.send_pending() > 0 || self.spill.is_some() || self.static_body.is_some()
    }

    /// Whether any output is still to be sent or produced.
    pub fn output_pending(&self) -> bool {
        self.output_queued() || self.producing
    }
}
