//! Datagrams (UDP): a receive buffer and a fixed set of reply buffers in the region. A
//! datagram goes to its protocol module's [`Protocol::datagram`](super::Protocol::datagram),
//! which writes its reply, if any, into a free reply buffer; the backend sends it
//! ([`Op::SendDatagram`](super::Op::SendDatagram)) and says so
//! ([`Event::DatagramSent`](super::Event::DatagramSent)), which frees the buffer. With every
//! reply buffer in flight a datagram is dropped unanswered, as UDP allows, and counted.

use crate::net::PeerAddr;

/// Where a reply buffer is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ReplyState {
    /// Free for the next reply.
    Free,
    /// Written, waiting to be handed out as an operation.
    Ready,
    /// Handed out; the backend is sending it.
    Posted,
}

/// A reply buffer's bookkeeping.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReplyMeta {
    pub state: ReplyState,
    pub len: u32,
    pub peer: PeerAddr,
    pub protocol: u8,
    /// The backend's tag of the socket the datagram came in on, echoed back.
    pub origin: u16,
}

impl ReplyMeta {
    pub const fn free() -> ReplyMeta {
        ReplyMeta {
            state: ReplyState::Free,
            len: 0,
            peer: PeerAddr::Local,
            protocol: 0,
            origin: 0,
        }
    }
}

/// The datagram buffers.
#[derive(Debug)]
pub(crate) struct Datagrams<'m> {
    /// Where the backend receives the next datagram.
    pub input: &'m mut [u8],
    /// The reply buffers, `size` bytes each.
    pub replies: &'m mut [u8],
    pub meta: &'m mut [ReplyMeta],
    pub size: usize,
}

impl Datagrams<'_> {
    /// A free reply buffer, if any.
    pub fn free_reply(&self) -> Option<usize> {
        self.meta.iter().position(|m| m.state == ReplyState::Free)
    }

    /// The written bytes of reply `index`.
    pub fn reply(&self, index: usize) -> &[u8] {
        let m = &self.meta[index];
        let start = index * self.size;
        &self.replies[start..start + m.len as usize]
    }
}

/// A reply to send, as [`Server::datagram_reply`](super::Server::datagram_reply) describes it.
#[derive(Clone, Copy, Debug)]
pub struct DatagramReply<'a, Id> {
    /// The protocol that wrote it.
    pub protocol: Id,
    /// The backend's tag of the socket the datagram came in on (see
    /// [`Event::Datagram`](super::Event::Datagram)): send the reply from there.
    pub origin: u16,
    /// Where to send it.
    pub peer: PeerAddr,
    /// What to send.
    pub data: &'a [u8],
}
