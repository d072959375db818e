//! Events in: what a backend tells the server, one value at a time through one entry point,
//! [`Server::handle`]. A recording of a server's inputs is a list of these
//! ([`crate::record`]), and replaying one feeds them back the same way.

use crate::net::PeerAddr;
use crate::time::Now;

use super::{Protocols, Server, SlotId, TopicId};

/// Which posted operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OpKind {
    /// A receive.
    Recv,
    /// A send.
    Send,
}

/// How an operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IoError {
    /// Nothing happened and it may be posted again (`EAGAIN`, `EINTR`, `ECANCELED` of a
    /// multishot operation that ended).
    Retry,
    /// The connection is unusable (`ECONNRESET`, `EPIPE`, ...): the server closes it.
    Broken,
}

/// Why an accepted connection got no slot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AcceptError {
    /// Every slot is in use. The backend keeps the newcomer waiting (boundedly, in arrival
    /// order), makes room for the connections that wait ([`Event::MakeRoom`]), and offers
    /// them again once [`Server::can_accept`]; a newcomer it cannot keep it closes, and says
    /// so ([`Event::TurnedAway`]).
    Full,
    /// The server is shutting down.
    ShuttingDown,
}

/// Something that happened, as the backend tells it. `Id` names a protocol of the server's
/// set ([`Protocols::Id`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Event<Id> {
    /// A connection was accepted on a listener serving `protocol`. Answered with
    /// [`Handled::Accepted`] (post what [`Server::poll_op`] returns next) or
    /// [`Handled::Refused`].
    Accepted {
        /// What the listener serves.
        protocol: Id,
        /// Who connected.
        peer: PeerAddr,
    },
    /// A posted receive completed with `n` bytes in [`Server::recv_buffer`]; `0` is EOF.
    Received {
        /// The slot.
        slot: SlotId,
        /// Bytes received.
        n: usize,
    },
    /// A posted send completed, having sent `n` bytes of [`Server::send_parts`].
    Sent {
        /// The slot.
        slot: SlotId,
        /// Bytes sent.
        n: usize,
    },
    /// A posted operation failed.
    Failed {
        /// The slot.
        slot: SlotId,
        /// Which operation.
        op: OpKind,
        /// How.
        error: IoError,
    },
    /// The socket of `slot`, which the server asked to close, is closed and nothing is in
    /// flight on it any more: the slot is free again.
    Closed {
        /// The slot.
        slot: SlotId,
    },
    /// The time; due timers fire. At least when [`Server::next_wake`] says.
    Tick(Now),
    /// A datagram of `n` bytes, in [`Server::datagram_buffer`], from `peer`, for `protocol`;
    /// `origin` is the backend's tag for the socket it came in on, echoed on the reply.
    Datagram {
        /// The protocol its socket serves.
        protocol: Id,
        /// The backend's tag of the socket.
        origin: u16,
        /// The sender.
        peer: PeerAddr,
        /// Its length.
        n: usize,
    },
    /// A reply handed out as [`Op::SendDatagram`](super::Op::SendDatagram) was sent (or
    /// could not be): its buffer is free again.
    DatagramSent {
        /// The reply.
        reply: u16,
    },
    /// `waiting` accepted connections wait for a slot: close connections to make room for
    /// them, by the overload policy. Sent after [`AcceptError::Full`], once per loop turn
    /// while connections wait, and at [`Server::room_at`].
    MakeRoom {
        /// Connections waiting.
        waiting: usize,
    },
    /// The backend closed an accepted connection it could not keep waiting (counted).
    TurnedAway,
    /// Begin a graceful shutdown: no new connections, idle ones close now, busy ones after
    /// their current exchange.
    Shutdown,
    /// A message of `n` bytes, in [`Server::publish_buffer`], for `topic`: published as a
    /// connection's [`Bus::publish`](super::Bus::publish) would. How a producer outside the
    /// server (another thread, a timer of the app's) reaches the subscribers; a message for
    /// no topic is dropped and counted (`Stats::publish_refused`).
    Publish {
        /// The topic.
        topic: TopicId,
        /// The message's length.
        n: usize,
    },
}

/// What handling an event produced, beyond the operations to poll.
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Handled {
    /// Nothing to report.
    Done,
    /// The accepted connection has this slot.
    Accepted(SlotId),
    /// The accepted connection got no slot.
    Refused(AcceptError),
}

impl<Id> Event<Id> {
    /// The same event with its protocol named another way (by number, for a recording).
    pub fn map_protocol<J>(self, f: impl FnOnce(Id) -> J) -> Event<J> {
        match self {
            Event::Accepted { protocol, peer } => Event::Accepted {
                protocol: f(protocol),
                peer,
            },
            Event::Datagram {
                protocol,
                origin,
                peer,
                n,
            } => Event::Datagram {
                protocol: f(protocol),
                origin,
                peer,
                n,
            },
            Event::Received { slot, n } => Event::Received { slot, n },
            Event::Sent { slot, n } => Event::Sent { slot, n },
            Event::Failed { slot, op, error } => Event::Failed { slot, op, error },
            Event::Closed { slot } => Event::Closed { slot },
            Event::Tick(now) => Event::Tick(now),
            Event::DatagramSent { reply } => Event::DatagramSent { reply },
            Event::MakeRoom { waiting } => Event::MakeRoom { waiting },
            Event::TurnedAway => Event::TurnedAway,
            Event::Shutdown => Event::Shutdown,
            Event::Publish { topic, n } => Event::Publish { topic, n },
        }
    }
}

impl Handled {
    /// The slot of an accepted connection, or why it has none.
    pub fn accepted(self) -> Result<SlotId, AcceptError> {
        match self {
            Handled::Accepted(slot) => Ok(slot),
            Handled::Refused(why) => Err(why),
            Handled::Done => panic!("not the answer to Event::Accepted"),
        }
    }
}

impl<S, P: Protocols<S>> Server<'_, S, P> {
    /// Tells the server what happened. Then take the operations it asks for with
    /// [`Server::poll_op`].
    pub fn handle(&mut self, event: Event<P::Id>) -> Handled {
        let handled = self.handle_event(event);
        self.run_woken();
        handled
    }

    fn handle_event(&mut self, event: Event<P::Id>) -> Handled {
        match event {
            Event::Accepted { protocol, peer } => match self.accept(protocol, peer) {
                Ok(slot) => return Handled::Accepted(slot),
                Err(why) => return Handled::Refused(why),
            },
            Event::Received { slot, n } => self.received(slot, n),
            Event::Sent { slot, n } => self.sent(slot, n),
            Event::Failed { slot, op, error } => self.failed(slot, op, error),
            Event::Closed { slot } => self.closed(slot),
            Event::Tick(now) => self.tick(now),
            Event::Datagram {
                protocol,
                origin,
                peer,
                n,
            } => self.datagram(protocol, origin, peer, n),
            Event::DatagramSent { reply } => self.datagram_sent(reply),
            Event::MakeRoom { waiting } => self.make_room(waiting),
            Event::TurnedAway => self.stats.turned_away += 1,
            Event::Shutdown => self.shutdown(),
            Event::Publish { topic, n } => {
                assert!(
                    n <= self.publish.len(),
                    "a message longer than the publish buffer"
                );
                if self.hub.view().publish(topic, &self.publish[..n]).is_err() {
                    self.stats.publish_refused += 1;
                }
            }
        }
        Handled::Done
    }
}
