//! Connections: the operations the server asks for on its slots, posted as submissions, and
//! their completions told back. A receive goes straight into the slot's buffer in the
//! server's region ([`RecvMode::Direct`](crate::RecvMode::Direct)) or is served from the
//! provided-buffer ring (see `multishot`); sends go out from where the server wrote.

use std::io;

use io_uring::{opcode, types};
use zzz_core::{Event, IoError, Op, OpKind, Protocols, SlotId};

use super::Io;
use crate::submit::Submit;
use crate::token::{Kind, token};

/// What the backend knows about the operations of one slot. All clear (the default, but for
/// `file`) while the server may hand the slot out.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct SlotIo {
    /// Index in the registered file table.
    pub(super) file: u32,
    pub(super) recv: bool,
    pub(super) send: bool,
    pub(super) closing: bool,
    pub(super) close_done: bool,
    /// A shutdown is in flight. io_uring always runs a shutdown in a worker thread, which
    /// looks the registered file up only when it runs: a Close issued meanwhile would free
    /// the index for the next accept, and the shutdown would hit that new connection.
    pub(super) shutdown: bool,
    /// Close was asked for while a shutdown was in flight: issue it when that completes.
    pub(super) close_deferred: bool,
    /// A multishot receive is armed (until its last completion, without `MORE`).
    pub(super) multishot: bool,
    /// Its cancel was submitted.
    pub(super) multishot_cancelled: bool,
    /// The peer's end of stream, or an error, arrived and waits for the server to ask.
    pub(super) eof_pending: bool,
    pub(super) error_pending: i32,
}

/// An operation that completed as it was posted, told once the drain is over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Immediate {
    /// The receive of a slot is served from what the buffer ring kept.
    Delivery(SlotId),
    /// A datagram reply that could not be sent (an address that is not IP).
    DatagramSent(u16),
}

/// A failed operation's errno, as the server sees it.
pub(super) fn classify(errno: i32) -> IoError {
    match errno {
        libc::EAGAIN | libc::EINTR | libc::ECANCELED | libc::ENOBUFS => IoError::Retry,
        _ => IoError::Broken,
    }
}

impl<S, P: Protocols<S>> Io<'_, '_, S, P> {
    /// Performs what the server asks for, at most [`Server::op_budget`](zzz_core::Server::op_budget)
    /// operations in all. Draining the server's operations never tells it anything: what
    /// completes at once (a receive served from bytes the buffer ring kept, a reply to an
    /// address the kernel cannot send to) waits in [`Io::immediate`] until the drain is over,
    /// and is told then; the server may then ask for more (a pipelining client's next
    /// request), drained in the next round. Returns whether operations may be left for the
    /// next turn.
    pub(super) fn perform_ops(&mut self, sub: &mut Submit<'_>) -> io::Result<bool> {
        let mut budget = self.server.op_budget();
        let rounds = budget + 1;
        // Bounded: a round that does not return told something completed at once, which an
        // operation of that round posted, and every operation spends the budget.
        for _ in 0..rounds {
            let mut drained = false;
            // Bounded: each turn spends one of the budget.
            while budget > 0 {
                let Some(op) = self.server.poll_op() else {
                    drained = true;
                    break;
                };
                budget -= 1;
                self.post(sub, op)?;
            }
            if self.immediate.is_empty() {
                return Ok(!drained);
            }
            self.tell_immediate(sub)?;
            if budget == 0 {
                return Ok(true);
            }
        }
        unreachable!("every round spends the budget or returns")
    }

    /// Posts one operation.
    fn post(&mut self, sub: &mut Submit<'_>, op: Op) -> io::Result<()> {
        match op {
            Op::Recv(slot) if self.buf_ring.is_some() => self.post_ring_recv(sub, slot),
            Op::Recv(slot) => self.post_recv(sub, slot),
            Op::Send(slot) => self.post_send(sub, slot),
            Op::Shutdown(slot) => self.post_shutdown(sub, slot),
            Op::Close(slot) => self.post_close(sub, slot),
            Op::SendDatagram(reply) => self.send_datagram(sub, reply),
        }
    }

    /// Tells the server what completed at once while its operations were drained, in order.
    fn tell_immediate(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        // Bounded: one round per entry; telling may post nothing (posting waits for the next
        // drain), so the queue only shrinks.
        for _ in 0..self.immediate.len() {
            let Some(done) = self.immediate.pop_front() else {
                break;
            };
            match done {
                Immediate::Delivery(slot) => self.deliver_kept(sub, slot)?,
                Immediate::DatagramSent(reply) => {
                    let _ = self.tell(Event::DatagramSent { reply });
                }
            }
        }
        assert!(self.immediate.is_empty(), "told while telling");
        Ok(())
    }

    /// One more receive or send in flight.
    pub(super) fn posted(&mut self) {
        self.inflight += 1;
        // A receive and a send per slot at most, which `SlotIo` tracks.
        assert!(
            self.inflight <= 2 * self.slots.len(),
            "more operations in flight than slots allow"
        );
    }

    /// One receive or send fewer in flight.
    pub(super) fn finished(&mut self) {
        assert!(
            self.inflight > 0,
            "an operation finished that was never posted"
        );
        self.inflight -= 1;
    }

    /// A receive straight into the slot's buffer in the server's region.
    fn post_recv(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        self.posted();
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.recv && !s.closing,
            "slot {slot}: a receive posted twice or after close"
        );
        s.recv = true;
        let buf = self.server.recv_buffer(slot);
        // An empty buffer would complete with 0 bytes, which the server takes for the end of
        // the stream: the connection would close on a request it never read.
        assert!(
            !buf.is_empty(),
            "slot {slot}: a receive into an empty buffer"
        );
        let len = u32::try_from(buf.len()).expect("a receive buffer is sized by a u32");
        let entry = opcode::Recv::new(types::Fixed(s.file), buf.as_mut_ptr(), len)
            .build()
            .user_data(token(Kind::Recv, slot));
        // SAFETY: the buffer lies in the server's region, which outlives the loop and never
        // moves; the server does not touch it until `Received`.
        unsafe { sub.push(&entry) }
    }

    fn post_send(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        self.posted();
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.send && !s.closing,
            "slot {slot}: a send posted twice or after close"
        );
        s.send = true;
        let [first, second] = self.server.send_parts(slot);
        // A send of nothing completes with 0 bytes, which asks the server to try again: it
        // would spin without end.
        assert!(!first.is_empty(), "slot {slot}: a send of nothing");
        let entry = if second.is_empty() {
            // A part past 4 GiB (a static body) goes out in several sends, as a short send
            // would: the server counts what was sent.
            let len = u32::try_from(first.len()).unwrap_or(u32::MAX);
            opcode::Send::new(types::Fixed(s.file), first.as_ptr(), len)
                .flags(libc::MSG_NOSIGNAL)
                .build()
        } else {
            let iov = &mut self.iov[slot as usize];
            iov[0] = libc::iovec {
                iov_base: first.as_ptr() as *mut _,
                iov_len: first.len(),
            };
            iov[1] = libc::iovec {
                iov_base: second.as_ptr() as *mut _,
                iov_len: second.len(),
            };
            let msg = &mut self.msg[slot as usize];
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            opcode::SendMsg::new(types::Fixed(s.file), msg)
                .flags(libc::MSG_NOSIGNAL as u32)
                .build()
        };
        // SAFETY: the parts lie in the server's region or in `'static` data, the iovecs and
        // msghdr in per-slot tables allocated before the loop; none of them changes until
        // `Sent`.
        unsafe { sub.push(&entry.user_data(token(Kind::Send, slot))) }
    }

    fn post_shutdown(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.shutdown && !s.closing,
            "slot {slot}: a shutdown posted twice or after close"
        );
        s.shutdown = true;
        let entry = opcode::Shutdown::new(types::Fixed(s.file), libc::SHUT_WR)
            .build()
            .user_data(token(Kind::Shutdown, slot));
        // SAFETY: refers to no buffer.
        unsafe { sub.push(&entry) }
    }

    /// Cancels what is in flight for the slot, then closes it (after its shutdown, if one is
    /// in flight); the slot is reported closed once every completion is in.
    fn post_close(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        self.drop_pending(slot);
        let ring_mode = self.buf_ring.is_some();
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.closing && !s.close_done && !s.close_deferred,
            "slot {slot} closed twice"
        );
        s.closing = true;
        if s.multishot && !s.multishot_cancelled {
            s.multishot_cancelled = true;
            push_cancel(sub, Kind::RecvMulti, slot)?;
        }
        if ring_mode && s.recv {
            // No receive is in flight for it in this mode: only the multishot.
            s.recv = false;
            self.finished();
        }
        let s = self.slots[slot as usize];
        // A posted receive waits for bytes that may never come: cancel what is in flight,
        // then close.
        for (posted, kind) in [(s.recv, Kind::Recv), (s.send, Kind::Send)] {
            if posted {
                push_cancel(sub, kind, slot)?;
            }
        }
        if s.shutdown {
            self.slots[slot as usize].close_deferred = true;
            Ok(())
        } else {
            push_close(sub, s.file, slot)
        }
    }

    /// A direct receive completed.
    pub(super) fn recv_completed(&mut self, slot: SlotId, result: i32) {
        assert!(
            self.buf_ring.is_none(),
            "a plain receive in the buffer ring's mode"
        );
        self.finished();
        let s = &mut self.slots[slot as usize];
        assert!(
            s.recv,
            "slot {slot}: a receive completed that was not posted"
        );
        s.recv = false;
        if s.closing {
            self.maybe_closed(slot);
        } else if let Ok(n) = usize::try_from(result) {
            // The kernel wrote at most the buffer posted: a count past it would have the
            // server parse bytes nobody sent.
            let posted = self.server.recv_buffer(slot).len();
            assert!(n <= posted, "slot {slot}: {n} bytes received into {posted}");
            let _ = self.tell(Event::Received { slot, n });
        } else {
            let error = classify(-result);
            let _ = self.tell(Event::Failed {
                slot,
                op: OpKind::Recv,
                error,
            });
        }
    }

    pub(super) fn send_completed(&mut self, slot: SlotId, result: i32) {
        self.finished();
        let s = &mut self.slots[slot as usize];
        assert!(s.send, "slot {slot}: a send completed that was not posted");
        s.send = false;
        if s.closing {
            self.maybe_closed(slot);
            return;
        }
        let event = match result {
            n if n > 0 => Event::Sent {
                slot,
                n: n as usize,
            },
            // The kernel took nothing: try again.
            0 => Event::Failed {
                slot,
                op: OpKind::Send,
                error: IoError::Retry,
            },
            e => Event::Failed {
                slot,
                op: OpKind::Send,
                error: classify(-e),
            },
        };
        let _ = self.tell(event);
    }

    pub(super) fn shutdown_completed(
        &mut self,
        sub: &mut Submit<'_>,
        slot: SlotId,
    ) -> io::Result<()> {
        let s = &mut self.slots[slot as usize];
        assert!(
            s.shutdown,
            "slot {slot}: a shutdown completed that was not posted"
        );
        s.shutdown = false;
        if s.close_deferred {
            assert!(s.closing);
            s.close_deferred = false;
            push_close(sub, s.file, slot)?;
        }
        Ok(())
    }

    pub(super) fn close_completed(&mut self, slot: SlotId) {
        let s = &mut self.slots[slot as usize];
        assert!(
            s.closing && !s.close_done && !s.shutdown && !s.close_deferred,
            "slot {slot}: a close completed that was not posted"
        );
        s.close_done = true;
        self.maybe_closed(slot);
    }

    /// Reports `slot` closed once its close and every operation posted before it completed.
    pub(super) fn maybe_closed(&mut self, slot: SlotId) {
        let s = self.slots[slot as usize];
        if s.closing && s.close_done && !s.recv && !s.send && !s.multishot {
            // The close was issued after the shutdown completed, and the buffers it held were
            // given back when it was asked for.
            assert!(!s.shutdown && !s.close_deferred && self.pending.len(slot as usize) == 0);
            self.slots[slot as usize] = SlotIo::default();
            let _ = self.tell(Event::Closed { slot });
        }
    }
}

/// Cancels the operation of `kind` in flight on `slot`.
pub(super) fn push_cancel(sub: &mut Submit<'_>, kind: Kind, slot: SlotId) -> io::Result<()> {
    let entry = opcode::AsyncCancel::new(token(kind, slot))
        .build()
        .user_data(token(Kind::Cancel, slot));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) }
}

/// Closes the registered file of `slot`.
fn push_close(sub: &mut Submit<'_>, file: u32, slot: SlotId) -> io::Result<()> {
    let entry = opcode::Close::new(types::Fixed(file))
        .build()
        .user_data(token(Kind::Close, slot));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) }
}
