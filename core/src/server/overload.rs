//! The overload policy: which connection gives up its slot when a new one needs it.
//!
//! When every slot is taken, the backend keeps accepting: newcomers wait in a bounded waiting
//! room of its own, and it asks the server to make room for them (`Server::make_room`). For
//! each waiting connection the server closes one connection, in this order:
//!
//! 1. the connection that has waited longest without delivering a complete first request head
//!    (HTTP) or a first byte (raw TCP), an *unproven* connection, provided it has waited at
//!    least `Timeouts::shed_grace_ms` (100 ms by default: a round trip is enough for a prompt
//!    client's request to arrive, however many connections arrive meanwhile). A flood of
//!    connections that never send a byte, or drip a head slowly, therefore only ever competes
//!    with itself: a client that sends its request promptly leaves the unproven queue at its
//!    first complete head;
//! 2. otherwise the connection that has been idle longest between two requests (keep-alive);
//! 3. otherwise nobody, for now: every slot is doing real work, or the unproven connections
//!    are too young; the newcomers wait (`Server::room_at` says when to ask again).
//!
//! A connection whose answer is queued (a rejection, a last response) is on neither queue:
//! making room never cuts an answer short.
//!
//! Under pressure (at least [`Config::pressure_percent`](crate::Config::pressure_percent) of
//! the slots in use when a connection arrives) a new connection must deliver its first byte
//! within [`Timeouts::pressured_first_byte_ms`](crate::Timeouts::pressured_first_byte_ms)
//! instead of the whole head timeout, the way Envoy's overload manager scales its timeouts
//! down: silent connections free their slots sooner, prompt clients never notice.
//!
//! Both queues are intrusive FIFO lists threaded through the connection slots (one pair of
//! links per slot, since a connection is on at most one of them), so that finding the victim,
//! joining and leaving are O(1) and need no memory beyond the slots.

use super::SlotId;
use super::slot::{NONE, Slot, Standing};
use crate::time::Instant;

/// One FIFO of slots, oldest at the front, linked through [`Slot::queue_prev`] and
/// [`Slot::queue_next`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotQueue {
    head: u32,
    tail: u32,
    len: u32,
    /// The standing of the connections on this queue.
    standing: Standing,
}

impl SlotQueue {
    pub(crate) const fn new(standing: Standing) -> SlotQueue {
        SlotQueue {
            head: NONE,
            tail: NONE,
            len: 0,
            standing,
        }
    }

    /// The oldest connection on the queue.
    pub(crate) fn front(&self) -> Option<SlotId> {
        (self.head != NONE).then_some(self.head)
    }

    /// Connections on the queue.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Appends `slot`, which must be on no queue.
    pub(crate) fn push(&mut self, conns: &mut [Slot], slot: SlotId) {
        let c = &mut conns[slot as usize];
        assert!(
            c.standing == Standing::Busy,
            "slot {slot} joins the {:?} queue while {:?}",
            self.standing,
            c.standing
        );
        c.standing = self.standing;
        c.queue_prev = self.tail;
        c.queue_next = NONE;
        if self.tail == NONE {
            self.head = slot;
        } else {
            conns[self.tail as usize].queue_next = slot;
        }
        self.tail = slot;
        self.len += 1;
        assert!(self.len as usize <= conns.len());
    }

    /// Unlinks `slot`, which must be on this queue.
    pub(crate) fn remove(&mut self, conns: &mut [Slot], slot: SlotId) {
        let c = &mut conns[slot as usize];
        assert!(
            c.standing == self.standing,
            "slot {slot} leaves the {:?} queue while {:?}",
            self.standing,
            c.standing
        );
        assert!(self.len > 0);
        c.standing = Standing::Busy;
        let (prev, next) = (c.queue_prev, c.queue_next);
        c.queue_prev = NONE;
        c.queue_next = NONE;
        if prev == NONE {
            debug_assert_eq!(self.head, slot);
            self.head = next;
        } else {
            conns[prev as usize].queue_next = next;
        }
        if next == NONE {
            debug_assert_eq!(self.tail, slot);
            self.tail = prev;
        } else {
            conns[next as usize].queue_prev = prev;
        }
        self.len -= 1;
        assert_eq!(self.len == 0, self.head == NONE && self.tail == NONE);
    }
}

/// The two queues a victim is chosen from, and the rule that chooses it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Overload {
    /// Connections without a complete first head, in accept order.
    pub unproven: SlotQueue,
    /// Idle keep-alive connections, in the order they became idle.
    pub idle: SlotQueue,
}

/// Why a connection was chosen to make room.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Victim {
    /// It never delivered a complete first head.
    Unproven(SlotId),
    /// It was idle between requests.
    Idle(SlotId),
}

impl Overload {
    pub(crate) const fn new() -> Overload {
        Overload {
            unproven: SlotQueue::new(Standing::Unproven),
            idle: SlotQueue::new(Standing::Idle),
        }
    }

    /// The connection to close to make room at `now`: the oldest unproven one if it has
    /// waited at least `grace_ms`, else the oldest idle one.
    pub(crate) fn victim(&self, conns: &[Slot], now: Instant, grace_ms: u64) -> Option<Victim> {
        if let Some(slot) = self.unproven.front()
            && now >= conns[slot as usize].accepted_at.after_ms(grace_ms)
        {
            return Some(Victim::Unproven(slot));
        }
        self.idle.front().map(Victim::Idle)
    }

    /// Takes `slot` off whichever queue it is on.
    pub(crate) fn leave(&mut self, conns: &mut [Slot], slot: SlotId) {
        match conns[slot as usize].standing {
            Standing::Busy => {}
            Standing::Unproven => self.unproven.remove(conns, slot),
            Standing::Idle => self.idle.remove(conns, slot),
        }
    }
}

/// Whether `in_use` slots of `capacity` put the server under pressure at `percent`.
pub(crate) const fn under_pressure(in_use: usize, capacity: usize, percent: u8) -> bool {
    in_use * 100 >= capacity * percent as usize
}
