//! A connection's inbox: the bounded queue of messages sent to it alone
//! ([`Bus::send_to`](super::Bus::send_to)), one per slot, carved from the region
//! ([`Topics::inbox_bytes`](crate::Topics::inbox_bytes) each).
//!
//! A byte ring with one reader (the connection's module) and many writers (any handler):
//! each message is a 4-byte length and its bytes, whole and contiguous (a message that does
//! not fit before the ring's end starts again at 0, a length of `u32::MAX` marking the
//! jump when there is room for one). When a message does not fit, the oldest ones are
//! dropped to make room and counted as missed ([`Lagging::Skip`]), or the receiver is to be
//! closed ([`Lagging::Close`]): the sender never waits and memory never grows.
//!
//! A connection is named by a [`ConnId`]: its slot and the slot's serial number, which moves
//! on at every accept, so a message for a connection that has gone never reaches the one that
//! took its slot.
//!
//! [`Lagging::Skip`]: crate::Lagging::Skip
//! [`Lagging::Close`]: crate::Lagging::Close

use super::SlotId;

/// Bytes of a message's header in an inbox: its length, little-endian.
const HEADER: usize = 4;

/// The length that marks the jump to the ring's start.
const WRAP: u32 = u32::MAX;

/// A connection, as messages address it: its slot and the slot's serial number.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnId {
    pub(crate) slot: SlotId,
    pub(crate) serial: u32,
}

impl ConnId {
    /// The connection's slot (reused by later connections: the `ConnId` is not).
    pub fn slot(&self) -> SlotId {
        self.slot
    }

    /// The id as one number (the slot in the low 32 bits, the serial number in the high
    /// ones), for a module that keeps it in memory laid out as bytes.
    pub const fn to_bits(self) -> u64 {
        (self.serial as u64) << 32 | self.slot as u64
    }

    /// The id [`ConnId::to_bits`] gave. A number no `to_bits` gave names no connection: a
    /// message to it is refused ([`DirectError::Gone`]).
    pub const fn from_bits(bits: u64) -> ConnId {
        ConnId {
            slot: bits as u32,
            serial: (bits >> 32) as u32,
        }
    }
}

/// Why a message to one connection was not sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DirectError {
    /// The server keeps no inboxes ([`Topics::inbox_bytes`](crate::Topics::inbox_bytes) 0).
    NoInboxes,
    /// The connection has closed.
    Gone,
    /// Longer than [`Topics::max_message`](crate::Topics::max_message), or than half an
    /// inbox.
    TooLarge,
}

/// One slot's inbox: where its messages lie in its ring, and its connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InboxState {
    /// Where the oldest message lies (unresolved: a jump mark, or too near the end, means 0).
    head: u32,
    /// Where the next message is written.
    tail: u32,
    /// Messages held.
    count: u32,
    /// Messages dropped since the last one taken.
    pub missed: u64,
    /// The slot's serial number: its current connection's [`ConnId::serial`].
    pub serial: u32,
    /// Whether a connection holds the slot.
    pub open: bool,
}

impl InboxState {
    pub(crate) const EMPTY: InboxState = InboxState {
        head: 0,
        tail: 0,
        count: 0,
        missed: 0,
        serial: 0,
        open: false,
    };

    /// A new connection in the slot: an empty inbox, a new serial number.
    pub(crate) fn open(&mut self) {
        *self = InboxState {
            serial: self.serial.wrapping_add(1),
            open: true,
            ..InboxState::EMPTY
        };
    }

    /// The connection left: what it held is forgotten.
    pub(crate) fn close(&mut self) {
        *self = InboxState {
            serial: self.serial,
            ..InboxState::EMPTY
        };
    }

    /// Whether a message waits.
    pub(crate) fn pending(&self) -> bool {
        self.count > 0
    }
}

/// One slot's inbox over its bytes, for one operation.
pub(crate) struct Inbox<'a> {
    pub bytes: &'a mut [u8],
    pub state: &'a mut InboxState,
}

/// What pushing a message did to the inbox.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pushed {
    /// Queued, after dropping this many of the oldest.
    Queued { dropped: u32 },
    /// It fits only by dropping messages, which the receiver's policy forbids.
    WouldDrop,
}

impl Inbox<'_> {
    /// Queues `data` (at most half the ring, less the header: checked by the caller),
    /// dropping the oldest messages to make room when `may_drop`.
    pub(crate) fn push(&mut self, data: &[u8], may_drop: bool) -> Pushed {
        let size = self.bytes.len();
        let need = HEADER + data.len();
        assert!(2 * need <= size, "a message longer than half an inbox");
        let tail = self.state.tail as usize;
        let at = self.place(need);
        let mut dropped = 0;
        // Bounded: each turn drops one of the messages held, fewer than `size / HEADER`.
        for _ in 0..=size / HEADER {
            if !self.occupied(at, at + need) {
                break;
            }
            if !may_drop {
                return Pushed::WouldDrop;
            }
            self.drop_oldest();
            dropped += 1;
        }
        assert!(
            !self.occupied(at, at + need),
            "an inbox made no room for a message"
        );
        if at == 0 && tail != 0 && tail + HEADER <= size {
            self.bytes[tail..tail + HEADER].copy_from_slice(&WRAP.to_le_bytes());
        }
        self.bytes[at..at + HEADER].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.bytes[at + HEADER..at + need].copy_from_slice(data);
        let s = &mut *self.state;
        if s.count == 0 {
            s.head = at as u32;
        }
        s.tail = (at + need) as u32;
        s.count += 1;
        s.missed += dropped as u64;
        Pushed::Queued { dropped }
    }

    /// Whether a message of `len` bytes (at most half the ring, less the header) would be
    /// queued now without dropping any.
    pub(crate) fn fits(&self, len: usize) -> bool {
        let need = HEADER + len;
        let at = self.place(need);
        !self.occupied(at, at + need)
    }

    /// Where the next message of `need` bytes, its header included, is written: after the
    /// last, or at 0 when it does not fit before the end.
    fn place(&self, need: usize) -> usize {
        let tail = self.state.tail as usize;
        if tail + need <= self.bytes.len() {
            tail
        } else {
            0
        }
    }

    /// Whether any byte of `[start, end)` holds a message still queued.
    fn occupied(&self, start: usize, end: usize) -> bool {
        let s = &*self.state;
        if s.count == 0 {
            return false;
        }
        let (head, tail, size) = (s.head as usize, s.tail as usize, self.bytes.len());
        let overlaps = |a: usize, b: usize| start < b && a < end;
        if head < tail {
            overlaps(head, tail)
        } else {
            // Wrapped (or full): from the head, jump mark included, to the end, and from 0.
            overlaps(head, size) || overlaps(0, tail)
        }
    }

    /// Where the oldest message lies, its jump resolved: (where its bytes start, length).
    pub(crate) fn peek(&self) -> Option<(usize, usize)> {
        if self.state.count == 0 {
            return None;
        }
        let at = self.resolve(self.state.head as usize);
        let len = self.len_at(at);
        assert!(
            len != WRAP as usize && at + HEADER + len <= self.bytes.len(),
            "an inbox message out of its ring"
        );
        Some((at + HEADER, len))
    }

    /// Forgets the oldest message (taken).
    pub(crate) fn pop(&mut self) {
        let (start, len) = self.peek().expect("a message to take");
        let s = &mut *self.state;
        s.count -= 1;
        s.missed = 0;
        s.head = if s.count == 0 {
            s.tail
        } else {
            (start + len) as u32
        };
    }

    fn drop_oldest(&mut self) {
        let (start, len) = self.peek().expect("a message to drop");
        let s = &mut *self.state;
        s.count -= 1;
        s.head = if s.count == 0 {
            s.tail
        } else {
            (start + len) as u32
        };
    }

    /// `at`, or 0 past a jump mark or when no header fits before the end.
    fn resolve(&self, at: usize) -> usize {
        if at + HEADER > self.bytes.len() || self.len_at(at) == WRAP as usize {
            0
        } else {
            at
        }
    }

    fn len_at(&self, at: usize) -> usize {
        u32::from_le_bytes(self.bytes[at..at + HEADER].try_into().expect("4 bytes")) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    proptest! {
        /// Against a queue: what comes out is what went in, in order, except the oldest
        /// messages dropped to make room, each counted; never more than fits.
        #[test]
        fn an_inbox_is_a_queue_that_drops_its_oldest(
            size in 32usize..512,
            ops in proptest::collection::vec((0usize..64, any::<bool>()), 1..300),
        ) {
            let mut bytes = std::vec![0u8; size];
            let mut state = InboxState::EMPTY;
            state.open();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for (i, (len, take)) in ops.into_iter().enumerate() {
                let len = len.min(size / 2 - HEADER);
                let data: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
                let mut inbox = Inbox { bytes: &mut bytes, state: &mut state };
                let fits = inbox.fits(len);
                let Pushed::Queued { dropped } = inbox.push(&data, true) else {
                    panic!("dropping is allowed");
                };
                // `fits` says exactly whether a push drops nothing.
                prop_assert_eq!(fits, dropped == 0);
                for _ in 0..dropped {
                    model.pop_front();
                }
                model.push_back(data);
                if take {
                    let (start, len) = inbox.peek().expect("a message");
                    prop_assert_eq!(&inbox.bytes[start..start + len], &model[0][..]);
                    inbox.pop();
                    model.pop_front();
                }
                prop_assert_eq!(state.count as usize, model.len());
            }
            let mut inbox = Inbox { bytes: &mut bytes, state: &mut state };
            while let Some((start, len)) = inbox.peek() {
                prop_assert_eq!(&inbox.bytes[start..start + len], &model.pop_front().unwrap()[..]);
                inbox.pop();
            }
            prop_assert!(model.is_empty());
        }
    }

    /// Under `Lagging::Close` a message that would drop others is refused, and nothing moves.
    #[test]
    fn a_full_inbox_refuses_when_dropping_is_not_allowed() {
        let mut bytes = [0u8; 32];
        let mut state = InboxState::EMPTY;
        state.open();
        let mut inbox = Inbox {
            bytes: &mut bytes,
            state: &mut state,
        };
        assert_eq!(inbox.push(&[1; 12], false), Pushed::Queued { dropped: 0 });
        assert_eq!(inbox.push(&[2; 12], false), Pushed::Queued { dropped: 0 });
        assert!(!inbox.fits(12));
        assert_eq!(inbox.push(&[3; 12], false), Pushed::WouldDrop);
        assert_eq!(inbox.peek(), Some((4, 12)));
    }
}
