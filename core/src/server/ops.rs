//! Operations out: what the server asks the backend to do, and the buffers those operations
//! read and write.

use super::datagram::{DatagramReply, ReplyState};
use super::slot::{InputTarget, Phase, RecvAt, wants};
use super::{NONE, Protocols, Server, SlotId};

/// An operation the backend must perform for the server.
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// Receive into [`Server::recv_buffer`]; report with
    /// [`Event::Received`](super::Event::Received) or [`Event::Failed`](super::Event::Failed).
    Recv(SlotId),
    /// Send [`Server::send_parts`] (one vectored send); report with
    /// [`Event::Sent`](super::Event::Sent) or [`Event::Failed`](super::Event::Failed).
    Send(SlotId),
    /// Shut down the sending side (`shutdown(SHUT_WR)`); nothing to report.
    Shutdown(SlotId),
    /// Close the socket: cancel what is posted on it, wait for those completions (reporting
    /// them as usual is allowed), close, then report [`Event::Closed`](super::Event::Closed).
    Close(SlotId),
    /// Send the datagram reply [`Server::datagram_reply`] describes; then report
    /// [`Event::DatagramSent`](super::Event::DatagramSent), whether it went or not.
    SendDatagram(u16),
}

impl<S, P: Protocols<S>> Server<'_, S, P> {
    /// The most operations [`Server::poll_op`] hands out before it returns `None`, when the
    /// backend reports nothing but closes meanwhile: a receive, a send, a shutdown and a close
    /// per slot, and a send per datagram reply. Backends bound their drain loops by it.
    pub fn op_budget(&self) -> usize {
        4 * self.slots.len() + self.datagrams.meta.len() + 1
    }

    /// The next operation to perform, or `None` when there is nothing to do. A slot appears at
    /// most once per call for each kind of operation; call until `None`.
    pub fn poll_op(&mut self) -> Option<Op> {
        if let Some(reply) = self.next_datagram_reply() {
            return Some(Op::SendDatagram(reply));
        }
        // Bounded: each round that returns nothing dequeues a slot, and at most every slot is
        // queued once.
        for _ in 0..=self.slots.len() {
            let slot = self.ready_head;
            if slot == NONE {
                return None;
            }
            let s = &mut self.slots[slot as usize];
            assert!(
                s.queued,
                "slot {slot} on the ready queue is not marked queued"
            );
            // A want covered by an operation already posted is satisfied by it: the state
            // machine asks again, if it still needs to, when that operation completes.
            if s.recv_posted {
                s.wants &= !wants::RECV;
            }
            if s.send_posted {
                s.wants &= !wants::SEND;
            }
            let op = if s.wants & wants::CLOSE != 0 {
                s.wants = 0;
                Some(Op::Close(slot))
            } else if s.wants & wants::SEND != 0 {
                s.wants &= !wants::SEND;
                s.send_posted = true;
                Some(Op::Send(slot))
            } else if s.wants & wants::SHUTDOWN != 0 && !s.send_posted {
                s.wants &= !wants::SHUTDOWN;
                Some(Op::Shutdown(slot))
            } else if s.wants & wants::RECV != 0 {
                s.wants &= !wants::RECV;
                s.recv_posted = true;
                Some(Op::Recv(slot))
            } else {
                None
            };
            let shutdown_waits = s.wants & wants::SHUTDOWN != 0 && s.send_posted;
            let more = s.wants & !wants::SHUTDOWN != 0
                || (s.wants & wants::SHUTDOWN != 0 && !shutdown_waits);
            if op.is_none() || !more {
                // Dequeue; a shutdown waiting for its send is requested again after it.
                self.ready_head = s.ready_next;
                if self.ready_head == NONE {
                    self.ready_tail = NONE;
                }
                let s = &mut self.slots[slot as usize];
                s.queued = false;
                s.ready_next = NONE;
            }
            if let Some(Op::Recv(_)) = op {
                let at = self.recv_target(slot);
                // A receive of nothing completes with 0 bytes, which is the peer's EOF.
                assert!(
                    at.len() > 0,
                    "slot {slot}: input asked for with no room to receive it (a module must \
                     consume or compact its input first)"
                );
                self.slots[slot as usize].recv_at = at;
            }
            if op.is_some() {
                return op;
            }
        }
        panic!("the ready queue holds more entries than there are slots");
    }

    /// Where the posted receive of `slot` writes: fixed when the receive was posted, and
    /// stable until it completes, whatever happens to the connection meanwhile.
    pub fn recv_buffer(&mut self, slot: SlotId) -> &mut [u8] {
        let cap = self.config.recv_buffer as usize;
        let base = slot as usize * cap;
        let s = &self.slots[slot as usize];
        assert!(
            s.recv_posted,
            "recv_buffer() without a posted receive on slot {slot}"
        );
        match s.recv_at {
            RecvAt::Buffer { offset, len } => {
                &mut self.recv[base + offset as usize..base + (offset + len) as usize]
            }
            RecvAt::Block { id, offset, len } => {
                &mut self.pool.block(id)[offset as usize..(offset + len) as usize]
            }
            RecvAt::Discard { len } => &mut self.recv[base..base + len as usize],
        }
    }

    /// Where a receive posted now should write: where the module asked, or anywhere to be
    /// discarded once the module is done.
    fn recv_target(&self, slot: SlotId) -> RecvAt {
        let cap = self.config.recv_buffer;
        let s = &self.slots[slot as usize];
        if matches!(s.phase, Phase::Lingering | Phase::Closing) {
            return RecvAt::Discard { len: cap };
        }
        let end = s.recv_end.min(cap);
        match s.input_target {
            InputTarget::Block { id, offset, len } => RecvAt::Block { id, offset, len },
            InputTarget::Buffer { limit } => {
                let room = cap - end;
                RecvAt::Buffer {
                    offset: end,
                    len: limit.map_or(room, |l| l.min(room)),
                }
            }
        }
    }

    /// What the posted send of `slot` sends, in order: up to two parts (send them as one
    /// vectored send; a partial send is fine). Stable until the send completes.
    pub fn send_parts(&self, slot: SlotId) -> [&[u8]; 2] {
        let s = &self.slots[slot as usize];
        let cap = self.config.send_buffer as usize;
        let base = slot as usize * cap;
        let buffered = &self.send[base + s.send_start as usize..base + s.send_end as usize];
        let spilled: &[u8] = match &s.spill {
            Some(spill) => &self.pool.block_ref(spill.id)[spill.start as usize..spill.end as usize],
            None => &[],
        };
        let body: &[u8] = match &s.static_body {
            Some(b) => &b.body[b.sent..],
            None => &[],
        };
        // At most two parts: the buffer and what follows it, else the block and the body.
        match (buffered.is_empty(), spilled.is_empty()) {
            (false, false) => [buffered, spilled],
            (false, true) => [buffered, body],
            (true, false) => [spilled, body],
            (true, true) => [body, &[]],
        }
    }

    /// Where the backend receives the next datagram ([`Event::Datagram`](super::Event::Datagram)):
    /// [`Config::datagram_size`](crate::Config::datagram_size) bytes (a longer datagram is cut
    /// there; drop it).
    pub fn datagram_buffer(&mut self) -> &mut [u8] {
        self.datagrams.input
    }

    /// The reply an [`Op::SendDatagram`] hands out.
    pub fn datagram_reply(&self, reply: u16) -> DatagramReply<'_, P::Id> {
        let index = reply as usize;
        let m = &self.datagrams.meta[index];
        assert!(
            m.state == ReplyState::Posted,
            "reply {reply} is not being sent"
        );
        DatagramReply {
            protocol: P::id_from_index(m.protocol).expect("a protocol of the set"),
            origin: m.origin,
            peer: m.peer,
            data: self.datagrams.reply(index),
        }
    }

    /// The next reply written and not yet handed out; marks it posted.
    fn next_datagram_reply(&mut self) -> Option<u16> {
        let meta = &mut self.datagrams.meta;
        let index = meta.iter().position(|m| m.state == ReplyState::Ready)?;
        meta[index].state = ReplyState::Posted;
        Some(index as u16)
    }

    /// Queues the slot for [`Server::poll_op`] with the given wants.
    #[inline]
    pub(super) fn want(&mut self, slot: SlotId, mut flags: u8) {
        let s = &mut self.slots[slot as usize];
        assert!(
            s.phase != Phase::Free,
            "an operation wanted on free slot {slot}"
        );
        assert!(
            s.phase != Phase::Closed || flags == wants::CLOSE,
            "slot {slot} wants {flags:#b} after it was asked to close"
        );
        if s.recv_posted {
            flags &= !wants::RECV;
        }
        if s.send_posted {
            flags &= !wants::SEND;
        }
        if flags == 0 {
            return;
        }
        s.wants |= flags;
        if !s.queued {
            s.queued = true;
            s.ready_next = NONE;
            if self.ready_tail == NONE {
                assert_eq!(self.ready_head, NONE);
                self.ready_head = slot;
            } else {
                assert!(self.slots[self.ready_tail as usize].queued);
                self.slots[self.ready_tail as usize].ready_next = slot;
            }
            self.ready_tail = slot;
        }
    }
}
