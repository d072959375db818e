//! Receiving through the provided-buffer ring ([`RecvMode::BufferRing`](crate::RecvMode)):
//! one multishot receive per connection, armed when the server first asks for bytes; what it
//! brings is kept per slot, in arrival order, and copied into the slot's receive buffer when
//! the server asks. A slot that keeps more than [`PENDING_HIGH`] buffers unasked has its
//! receive cancelled (backpressure), and re-armed when the server asks again.

use std::io;

use io_uring::{cqueue, opcode, types};
use zzz_core::{Event, OpKind, Protocols, SlotId};

use super::Io;
use super::connections::{Immediate, classify, push_cancel};
use crate::buf_ring;
use crate::submit::Submit;
use crate::token::{Kind, token};

/// Buffers a slot may hold before its multishot receive is cancelled (the server is not
/// reading: backpressure); completions that race the cancel still find room, since the lists
/// can hold every buffer of the ring.
const PENDING_HIGH: usize = 8;

impl<S, P: Protocols<S>> Io<'_, '_, S, P> {
    /// A receive in the buffer ring's mode: served from what the multishot receive kept, once
    /// the drain of operations is over, else waiting for its next completion.
    pub(super) fn post_ring_recv(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        let kept = self.pending.len(slot as usize) > 0;
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.recv && !s.closing,
            "slot {slot}: a receive posted twice or after close"
        );
        s.recv = true;
        let served_now = kept || s.eof_pending || s.error_pending != 0;
        self.posted();
        if served_now {
            self.immediate.push_back(Immediate::Delivery(slot));
            // One entry per slot with a receive posted, one per reply: within the capacity
            // taken at startup.
            assert!(self.immediate.len() <= self.immediate.capacity());
            Ok(())
        } else {
            self.arm_multishot(sub, slot)
        }
    }

    /// Serves the receive of `slot` from what was kept for it, as [`Io::post_ring_recv`]
    /// queued; nothing if the slot was closed meanwhile (its receive is no longer posted).
    pub(super) fn deliver_kept(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        let s = self.slots[slot as usize];
        if !s.recv || s.closing {
            return Ok(());
        }
        if self.deliver_pending(slot) {
            self.finished();
            Ok(())
        } else {
            self.arm_multishot(sub, slot)
        }
    }

    /// Arms the multishot receive of `slot` if it is not armed. Called when the server asks
    /// for bytes and none are kept for it.
    fn arm_multishot(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        assert!(
            self.buf_ring.is_some(),
            "a multishot receive without a buffer ring"
        );
        let kept = self.pending.len(slot as usize);
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.closing,
            "slot {slot}: a multishot receive armed after close"
        );
        if s.multishot {
            return Ok(());
        }
        // Bytes, an end of stream or an error kept for the slot are delivered before any
        // newer completion: arming with them kept would reorder the stream.
        assert!(
            kept == 0 && !s.eof_pending && s.error_pending == 0,
            "slot {slot}: a multishot receive armed with data kept"
        );
        s.multishot = true;
        s.multishot_cancelled = false;
        let entry = opcode::RecvMulti::new(types::Fixed(s.file), buf_ring::GROUP)
            .build()
            .user_data(token(Kind::RecvMulti, slot));
        // SAFETY: the kernel picks buffers from the registered ring, which outlives the ring.
        unsafe { sub.push(&entry) }
    }

    /// A multishot receive completed: keep the bytes for the server, and hand them over at
    /// once if it asked.
    pub(super) fn multishot_completed(
        &mut self,
        sub: &mut Submit<'_>,
        slot: SlotId,
        result: i32,
        flags: u32,
    ) -> io::Result<()> {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let s = &mut self.slots[slot as usize];
        // Every completion of a multishot receive, its last included, arrives while it is
        // armed (`maybe_closed` waits for the last).
        assert!(
            s.multishot,
            "slot {slot}: a multishot completion without one armed"
        );
        if !more {
            s.multishot = false;
        }
        let closing = s.closing;
        let ring = self
            .buf_ring
            .as_mut()
            .expect("a multishot receive has a buffer ring");
        if let Some(bid) = bid {
            ring.take(bid, result.max(0) as u32);
        }
        match (result, bid) {
            (n, Some(bid)) if n > 0 && !closing => self.pending.push(slot as usize, bid, n as u32),
            (_, Some(bid)) => ring.recycle(bid),
            (0, None) if !closing => self.slots[slot as usize].eof_pending = true,
            // The ring ran dry (ENOBUFS) or our cancel: re-armed when asked for data again.
            (e, None) if e == -libc::ENOBUFS || e == -libc::ECANCELED => {}
            (e, None) if e < 0 && !closing => self.slots[slot as usize].error_pending = -e,
            _ => {}
        }
        if closing {
            self.maybe_closed(slot);
            return Ok(());
        }
        let s = self.slots[slot as usize];
        if s.recv {
            if self.deliver_pending(slot) {
                self.finished();
            } else if !s.multishot {
                self.arm_multishot(sub, slot)?;
            }
        } else if s.multishot
            && !s.multishot_cancelled
            && self.pending.len(slot as usize) >= PENDING_HIGH
        {
            // The server is not reading: stop the kernel from filling more buffers for it.
            self.slots[slot as usize].multishot_cancelled = true;
            push_cancel(sub, Kind::RecvMulti, slot)?;
        }
        Ok(())
    }

    /// Gives the server what is pending for `slot` (bytes, then an end of stream or an error),
    /// if anything; returns whether it did. The server asked: a receive is posted.
    fn deliver_pending(&mut self, slot: SlotId) -> bool {
        let Some(ring) = &mut self.buf_ring else {
            return false;
        };
        let i = slot as usize;
        assert!(
            self.slots[i].recv,
            "slot {slot}: bytes delivered without a receive posted"
        );
        let held = self.pending.len(i);
        if held == 0 {
            let s = &mut self.slots[i];
            if s.eof_pending {
                s.eof_pending = false;
                s.recv = false;
                let _ = self.tell(Event::Received { slot, n: 0 });
                return true;
            }
            if s.error_pending != 0 {
                let error = classify(std::mem::take(&mut s.error_pending));
                s.recv = false;
                let _ = self.tell(Event::Failed {
                    slot,
                    op: OpKind::Recv,
                    error,
                });
                return true;
            }
            return false;
        }
        let target = self.server.recv_buffer(slot);
        // Delivering 0 bytes would tell the server the stream ended.
        assert!(
            !target.is_empty(),
            "slot {slot}: a receive into an empty buffer"
        );
        let mut n = 0;
        // Bounded: one round per buffer held for the slot.
        for _ in 0..held {
            let (bid, from, to) = self.pending.front(i).expect("a list holds `len` buffers");
            let data = ring.data(bid, from, to);
            let take = data.len().min(target.len() - n);
            target[n..n + take].copy_from_slice(&data[..take]);
            n += take;
            if take < data.len() {
                self.pending.consume(i, take as u32);
                break;
            }
            self.pending.pop(i);
            ring.recycle(bid);
        }
        // Either the target is full or every buffer was delivered, and something was.
        assert!(n > 0 && (n == target.len() || self.pending.len(i) == 0));
        self.slots[i].recv = false;
        // The multishot receive is re-armed, if it ended, when the server asks again.
        let _ = self.tell(Event::Received { slot, n });
        true
    }

    /// Returns the buffers held for `slot` to the ring.
    pub(super) fn drop_pending(&mut self, slot: SlotId) {
        let Some(ring) = &mut self.buf_ring else {
            return;
        };
        // Bounded: one round per buffer held for the slot.
        for _ in 0..self.pending.len(slot as usize) {
            let bid = self
                .pending
                .pop(slot as usize)
                .expect("a list holds `len` buffers");
            ring.recycle(bid);
        }
        assert_eq!(self.pending.len(slot as usize), 0);
    }
}
