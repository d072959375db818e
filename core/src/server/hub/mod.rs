//! The hub: messages between connections, by topic.
//!
//! A topic is a group of connections (a chat room, a feed, a sensor's readers). Publishing a
//! message appends it once to the topic's **ring**, a fixed number of bytes in the region
//! holding its most recent messages, each numbered by a sequence number that only grows; every
//! subscriber keeps its own cursor into the ring (the next sequence number it takes, and
//! where that message lies), so a message to a thousand subscribers is written once and
//! memory never grows with the number of subscribers or of messages in flight.
//!
//! The hub wakes the subscribers after a publish: their module's
//! [`Protocol::progress`](super::Protocol::progress) runs once the current event is done, and
//! takes what it can ([`Link::next_message`](super::Link::next_message), framed as its
//! protocol frames messages, as much as its send buffer holds); when the send buffer drains
//! it runs again and takes the rest. A subscriber that does not keep up is **lagging** once
//! the ring has overwritten a message it had not taken: by [`Lagging`] it then skips to the
//! oldest message still held, the count of what it missed reported with the next message and
//! counted in [`Stats`](crate::Stats), or its connection is closed. Never unbounded memory,
//! never a stalled publisher.
//!
//! The ring doubles as the topic's history: a subscriber may start from the oldest message
//! held or after a given sequence number (SSE's `Last-Event-ID`), not only from the next.
//!
//! Capacities ([`Topics`](crate::Topics)): the number of topics, each ring's bytes, the
//! largest message, the topics one connection may follow at once. All of it is carved from
//! the region and counted in the memory budget.

use crate::config::{Lagging, Topics};

use super::SlotId;
use super::inbox::{ConnId, DirectError, Inbox, InboxState, Pushed};
use super::slot::NONE;

/// A topic: its number, below [`Topics::count`](crate::Topics::count).
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TopicId(pub u16);

/// Where a new subscription starts in its topic's ring.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Start {
    /// With the next message published.
    Next,
    /// With the oldest message the ring still holds (the history), then every later one.
    Oldest,
    /// With the `n` most recent messages the ring holds (a short history), then every later
    /// one.
    Last(u64),
    /// With the message after sequence number `seq` (SSE's `Last-Event-ID`); from the
    /// oldest held when that one is gone (the gap is reported as missed), from the next
    /// when `seq` is in the future.
    After(u64),
}

/// Why a subscription was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubscribeError {
    /// No such topic: its number is not below [`Topics::count`](crate::Topics::count).
    NoSuchTopic,
    /// The connection already follows [`Topics::per_connection`](crate::Topics::per_connection)
    /// topics.
    TooMany,
}

/// Why a message was not published.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PublishError {
    /// No such topic.
    NoSuchTopic,
    /// Longer than [`Topics::max_message`](crate::Topics::max_message).
    TooLarge,
}

/// A message taken from a topic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Message<'a> {
    /// Its topic.
    pub topic: TopicId,
    /// Its sequence number in the topic (the first message published is 1).
    pub seq: u64,
    /// Its bytes.
    pub data: &'a [u8],
    /// Messages of this topic the connection missed just before this one, overwritten before
    /// it took them ([`Lagging::Skip`]); usually 0.
    pub missed: u64,
}

/// Bytes of a message's header in the ring: its length (`u32`) and sequence number (`u64`),
/// little-endian.
const HEADER: usize = 12;

/// One topic's ring: which messages it holds and where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopicState {
    /// The sequence number of the next message published (the first is 1).
    next_seq: u64,
    /// The sequence number of the oldest message held (`== next_seq`: none is).
    tail_seq: u64,
    /// Where the next message is written.
    head: u32,
    /// Where the oldest message held lies.
    tail: u32,
    /// The sequence number of the message written last at offset 0, where the ring wraps:
    /// the message after one that ends at `p` lies at `p`, but this one at 0, whatever `p`.
    wrap_seq: u64,
    /// The first subscription of the topic's list (an index into the subscriptions), or
    /// [`NONE`].
    first_sub: u32,
}

impl TopicState {
    pub(crate) const EMPTY: TopicState = TopicState {
        next_seq: 1,
        tail_seq: 1,
        head: 0,
        tail: 0,
        wrap_seq: 1,
        first_sub: NONE,
    };

    fn is_empty(&self) -> bool {
        self.tail_seq == self.next_seq
    }
}

/// One subscription of one connection: [`Topics::per_connection`] per slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subscription {
    /// The topic, or `u16::MAX` when the entry is unused.
    topic: u16,
    /// The sequence number of the next message to take.
    next_seq: u64,
    /// Where that message lies in the ring, valid while `next_seq >= tail_seq`.
    at: u32,
    /// The next subscription of the same topic, or [`NONE`].
    next_sub: u32,
    /// Messages skipped since the last one taken: reported with the next message until it
    /// is taken.
    missed: u64,
}

impl Subscription {
    pub(crate) const UNUSED: Subscription = Subscription {
        topic: u16::MAX,
        next_seq: 0,
        at: 0,
        next_sub: NONE,
        missed: 0,
    };
}

/// What the hub has done, copied into [`Stats`](crate::Stats) after every event.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct HubCounters {
    pub published: u64,
    pub missed: u64,
    pub lagging_closed: u64,
}

/// The hub's scalars: its counters and where its wake queue stands.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct HubScalars {
    pub counters: HubCounters,
    wake_head: usize,
    wake_len: usize,
}

/// The hub of one server: every topic's ring and every connection's subscriptions, in the
/// region, and the connections to wake. Its work is done through a [`HubView`], which
/// borrows all of it for one lifetime (so that a handler's context can hold one).
pub(crate) struct Hub<'m> {
    config: Topics,
    topics: &'m mut [TopicState],
    rings: &'m mut [u8],
    subs: &'m mut [Subscription],
    /// Slots woken by a publish and not run since, in order: a circular queue of
    /// `wake_len` entries from `wake_head`; `woken[slot]` says whether a slot is in it.
    wake: &'m mut [u32],
    woken: &'m mut [bool],
    /// Each slot's inbox: its bytes (`Topics::inbox_bytes` each) and its state.
    inbox_bytes: &'m mut [u8],
    inboxes: &'m mut [InboxState],
    pub(crate) scalars: HubScalars,
}

/// The element counts of the hub's pieces for a configuration and a number of slots.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct HubSizes {
    pub topics: usize,
    pub ring_bytes: usize,
    pub subs: usize,
    /// Wake-queue entries and flags: one per slot when there is a hub at all.
    pub wake: usize,
    pub inbox_bytes: usize,
    pub inboxes: usize,
}

impl core::fmt::Debug for Hub<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hub")
            .field("topics", &self.topics.len())
            .field("woken", &self.scalars.wake_len)
            .finish()
    }
}

/// The hub, borrowed: every operation.
pub(crate) struct HubView<'a> {
    config: Topics,
    topics: &'a mut [TopicState],
    rings: &'a mut [u8],
    subs: &'a mut [Subscription],
    wake: &'a mut [u32],
    woken: &'a mut [bool],
    inbox_bytes: &'a mut [u8],
    inboxes: &'a mut [InboxState],
    s: &'a mut HubScalars,
}

/// What taking the next message found.
pub(crate) enum Next {
    /// No message is waiting.
    Nothing,
    /// A message.
    Message(Found),
    /// The connection lags behind a topic and [`Lagging::Close`] applies.
    Lagging,
}

/// A message [`HubView::next`] found: in subscription `index` of the slot (or the inbox,
/// [`INBOX`]), its bytes at `start..start + len` of the rings (or of the inboxes' bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    pub index: usize,
    pub topic: u16,
    pub seq: u64,
    pub start: usize,
    pub len: usize,
    pub missed: u64,
}

impl Found {
    /// The message, its bytes in `bytes` (the rings, or the inboxes' bytes).
    pub(crate) fn message<'a>(&self, bytes: &'a [u8]) -> Message<'a> {
        Message {
            topic: TopicId(self.topic),
            seq: self.seq,
            data: &bytes[self.start..self.start + self.len],
            missed: self.missed,
        }
    }
}

/// The subscription index [`Next::Message`] gives a message of the connection's inbox (kept
/// as a `u32` between `next_message` and `message_taken`).
const INBOX: usize = u32::MAX as usize;

/// The topic a message sent to one connection ([`Bus::send_to`]) comes as.
impl TopicId {
    /// Not a topic: a message sent to this connection alone.
    pub const DIRECT: TopicId = TopicId(u16::MAX);
}

/// The subscriptions of `slot`: its `per_connection` places in the table.
fn slot_subs(config: &Topics, slot: SlotId) -> core::ops::Range<usize> {
    let per = config.per_connection as usize;
    slot as usize * per..(slot as usize + 1) * per
}

/// The hub as a [`Bus`] holds it. A trait object, so that a bus names one lifetime (its
/// borrow's) and not also the region's, which a handler's `Ctx` would then have to name;
/// the hub is its one implementor. With it a bus is two words, and the view (nine slices) is
/// made only when a handler uses the bus, where building it into every request's `Ctx` cost
/// some 20 instructions a request.
pub(crate) trait HubAccess {
    /// The hub, borrowed for its work ([`Hub::view`]).
    fn view(&mut self) -> HubView<'_>;
    /// [`Hub::follows`].
    fn follows(&self, slot: SlotId, topic: TopicId) -> bool;
    /// [`Hub::pending`].
    fn pending(&self, slot: SlotId) -> bool;
    /// [`Hub::conn_id`].
    fn conn_id(&self, slot: SlotId) -> ConnId;
}

impl HubAccess for Hub<'_> {
    fn view(&mut self) -> HubView<'_> {
        Hub::view(self)
    }
    fn follows(&self, slot: SlotId, topic: TopicId) -> bool {
        Hub::follows(self, slot, topic)
    }
    fn pending(&self, slot: SlotId) -> bool {
        Hub::pending(self, slot)
    }
    fn conn_id(&self, slot: SlotId) -> ConnId {
        Hub::conn_id(self, slot)
    }
}

impl<'m> Hub<'m> {
    /// A hub over pieces of the region, as [`Layout`](super::Layout) counts them: `topics`
    /// and `rings` for [`Topics::count`] topics, `subs` with [`Topics::per_connection`] per
    /// slot, `wake` and `woken` one per slot.
    pub(crate) fn new(
        config: Topics,
        topics: &'m mut [TopicState],
        rings: &'m mut [u8],
        subs: &'m mut [Subscription],
        wake: &'m mut [u32],
        woken: &'m mut [bool],
        (inbox_bytes, inboxes): (&'m mut [u8], &'m mut [InboxState]),
    ) -> Hub<'m> {
        assert_eq!(topics.len(), config.count as usize);
        assert_eq!(rings.len(), topics.len() * config.ring_bytes as usize);
        assert_eq!(wake.len(), woken.len());
        assert!(config.count == 0 || subs.len() == wake.len() * config.per_connection as usize);
        assert_eq!(
            inbox_bytes.len(),
            inboxes.len() * config.inbox_bytes as usize
        );
        topics.fill(TopicState::EMPTY);
        subs.fill(Subscription::UNUSED);
        woken.fill(false);
        inboxes.fill(InboxState::EMPTY);
        Hub {
            config,
            topics,
            rings,
            subs,
            wake,
            woken,
            inbox_bytes,
            inboxes,
            scalars: HubScalars::default(),
        }
    }

    /// Whether a connection is waiting to be run for a publish
    /// ([`HubView::take_woken`] would find one, or a stale entry it skips).
    pub(crate) fn anyone_woken(&self) -> bool {
        self.scalars.wake_len > 0
    }

    /// Whether `slot` follows `topic`.
    pub(crate) fn follows(&self, slot: SlotId, topic: TopicId) -> bool {
        self.config.count > 0
            && slot_subs(&self.config, slot).any(|i| self.subs[i].topic == topic.0)
    }

    /// Whether `slot` has a message waiting.
    pub(crate) fn pending(&self, slot: SlotId) -> bool {
        self.inboxes.get(slot as usize).is_some_and(|i| i.pending())
            || self.config.count > 0
                && slot_subs(&self.config, slot).any(|i| {
                    let sub = self.subs[i];
                    sub.topic != u16::MAX && sub.next_seq < self.topics[sub.topic as usize].next_seq
                })
    }

    /// The name of the connection in `slot`.
    pub(crate) fn conn_id(&self, slot: SlotId) -> ConnId {
        ConnId {
            slot,
            serial: self.inboxes.get(slot as usize).map_or(0, |i| i.serial),
        }
    }

    /// The hub, borrowed for its work.
    pub(crate) fn view(&mut self) -> HubView<'_> {
        HubView {
            config: self.config,
            topics: &mut *self.topics,
            rings: &mut *self.rings,
            subs: &mut *self.subs,
            wake: &mut *self.wake,
            woken: &mut *self.woken,
            inbox_bytes: &mut *self.inbox_bytes,
            inboxes: &mut *self.inboxes,
            s: &mut self.scalars,
        }
    }

    /// The bytes a message [`HubView::next`] found lies in: the rings, or the inboxes'.
    pub(crate) fn bytes(&self, found: &Found) -> &[u8] {
        if found.index == INBOX {
            self.inbox_bytes
        } else {
            self.rings
        }
    }

    /// Whether a slot waits to be run.
    pub(crate) fn has_woken(&self) -> bool {
        self.scalars.wake_len > 0
    }

    /// Bytes of the buffer a message from outside waits in ([`Event::Publish`](super::Event::Publish)).
    pub(crate) const fn publish_buffer(config: &Topics) -> usize {
        if config.count == 0 {
            0
        } else {
            config.max_message as usize
        }
    }

    /// The element counts of the pieces for `config` and `slots` connections.
    pub(crate) const fn counts(config: &Topics, slots: usize) -> HubSizes {
        let topics = config.count as usize;
        let inboxes = if config.inbox_bytes > 0 { slots } else { 0 };
        HubSizes {
            topics,
            ring_bytes: topics * config.ring_bytes as usize,
            subs: if topics > 0 {
                slots * config.per_connection as usize
            } else {
                0
            },
            wake: if topics > 0 || inboxes > 0 { slots } else { 0 },
            inbox_bytes: inboxes * config.inbox_bytes as usize,
            inboxes,
        }
    }
}

impl HubView<'_> {
    fn ring(&self, topic: u16) -> &[u8] {
        let size = self.config.ring_bytes as usize;
        &self.rings[topic as usize * size..(topic as usize + 1) * size]
    }

    fn ring_mut(&mut self, topic: u16) -> &mut [u8] {
        let size = self.config.ring_bytes as usize;
        &mut self.rings[topic as usize * size..(topic as usize + 1) * size]
    }

    // ----- publishing -------------------------------------------------------------------------

    /// Appends `data` to `topic`'s ring, overwriting its oldest messages as needed, and wakes
    /// its subscribers. Returns the message's sequence number.
    pub(crate) fn publish(&mut self, topic: TopicId, data: &[u8]) -> Result<u64, PublishError> {
        let t = topic.0;
        if t >= self.config.count {
            return Err(PublishError::NoSuchTopic);
        }
        if data.len() > self.config.max_message as usize {
            return Err(PublishError::TooLarge);
        }
        let need = HEADER + data.len();
        let size = self.config.ring_bytes as usize;
        // `Topics::validate`: a ring holds at least two of the largest messages, so evicting
        // makes room for any message.
        debug_assert!(2 * need <= size);
        let head = self.topics[t as usize].head as usize;
        let at = if head + need <= size { head } else { 0 };
        // Bounded: each turn evicts one of the messages the ring holds, fewer than
        // `size / HEADER`.
        for _ in 0..=size / HEADER {
            if !self.occupied(t, at, at + need) {
                break;
            }
            self.evict_oldest(t);
        }
        assert!(
            !self.occupied(t, at, at + need),
            "a ring made no room for a message"
        );
        let seq = self.topics[t as usize].next_seq;
        let ring = self.ring_mut(t);
        ring[at..at + 4].copy_from_slice(&(data.len() as u32).to_le_bytes());
        ring[at + 4..at + HEADER].copy_from_slice(&seq.to_le_bytes());
        ring[at + HEADER..at + need].copy_from_slice(data);
        let state = &mut self.topics[t as usize];
        if at == 0 {
            state.wrap_seq = seq;
        }
        if state.is_empty() {
            state.tail = at as u32;
        }
        state.head = (at + need) as u32;
        state.next_seq = seq + 1;
        self.s.counters.published += 1;
        self.wake_subscribers(t);
        Ok(seq)
    }

    /// Whether any byte of `[start, end)` of `topic`'s ring holds a message still kept.
    fn occupied(&self, topic: u16, start: usize, end: usize) -> bool {
        let state = &self.topics[topic as usize];
        if state.is_empty() {
            return false;
        }
        let (tail, head) = (state.tail as usize, state.head as usize);
        let size = self.config.ring_bytes as usize;
        let overlaps = |a: usize, b: usize| start < b && a < end;
        if tail < head {
            overlaps(tail, head)
        } else {
            // Wrapped (or full): from the tail to the end, and from 0 to the head.
            overlaps(tail, size) || overlaps(0, head)
        }
    }

    /// Forgets `topic`'s oldest message.
    fn evict_oldest(&mut self, topic: u16) {
        let state = self.topics[topic as usize];
        assert!(!state.is_empty(), "evicting from an empty ring");
        let at = state.tail as usize;
        let (len, seq) = self.header(topic, at);
        assert_eq!(
            seq, state.tail_seq,
            "the ring's tail is not its oldest message"
        );
        let state = &mut self.topics[topic as usize];
        state.tail_seq += 1;
        state.tail = if state.is_empty() {
            state.head
        } else {
            Self::locate(state, state.tail_seq, at + HEADER + len) as u32
        };
    }

    /// Where message `seq` lies, given that the message before it ends at `after`: there,
    /// unless the ring wrapped for it. A cursor never trusts bytes to say so: the end of the
    /// bytes a wrap left unused is overwritten once the ring comes round again, while a
    /// subscriber's cursor may still point there.
    fn locate(state: &TopicState, seq: u64, after: usize) -> usize {
        if seq == state.wrap_seq { 0 } else { after }
    }

    /// The length and sequence number of the message at `at` (resolved).
    fn header(&self, topic: u16, at: usize) -> (usize, u64) {
        let ring = self.ring(topic);
        assert!(
            at + HEADER <= ring.len(),
            "a message header out of its ring"
        );
        let len = u32::from_le_bytes(ring[at..at + 4].try_into().expect("4 bytes"));
        let seq = u64::from_le_bytes(ring[at + 4..at + HEADER].try_into().expect("8 bytes"));
        assert!(
            at + HEADER + len as usize <= ring.len(),
            "a message out of its ring"
        );
        (len as usize, seq)
    }

    // ----- subscriptions ----------------------------------------------------------------------

    /// Subscribes `slot` to `topic` from `start`; subscribing again moves its cursor. Returns
    /// how many messages it will have missed before the first it takes (only with
    /// [`Start::After`] a sequence number the ring no longer holds).
    pub(crate) fn subscribe(
        &mut self,
        slot: SlotId,
        topic: TopicId,
        start: Start,
    ) -> Result<u64, SubscribeError> {
        let t = topic.0;
        if t >= self.config.count {
            return Err(SubscribeError::NoSuchTopic);
        }
        let range = slot_subs(&self.config, slot);
        let index = match range.clone().find(|&i| self.subs[i].topic == t) {
            Some(i) => i,
            None => {
                let Some(free) = range.clone().find(|&i| self.subs[i].topic == u16::MAX) else {
                    return Err(SubscribeError::TooMany);
                };
                let first = self.topics[t as usize].first_sub;
                self.subs[free] = Subscription {
                    next_sub: first,
                    topic: t,
                    ..Subscription::UNUSED
                };
                self.topics[t as usize].first_sub = free as u32;
                free
            }
        };
        let state = self.topics[t as usize];
        let from = match start {
            Start::Next => state.next_seq,
            Start::Oldest => state.tail_seq,
            Start::Last(n) => state.next_seq.saturating_sub(n).max(state.tail_seq),
            Start::After(seq) => seq.saturating_add(1).clamp(state.tail_seq, state.next_seq),
        };
        let missed = match start {
            Start::After(seq) => state.tail_seq.saturating_sub(seq.saturating_add(1)),
            _ => 0,
        };
        let at = self.position_of(t, from);
        let sub = &mut self.subs[index];
        sub.next_seq = from;
        sub.at = at as u32;
        sub.missed = missed;
        if from < state.next_seq {
            self.wake(slot);
        }
        Ok(missed)
    }

    /// Where the message numbered `seq` lies (`tail_seq <= seq <= next_seq`; the head for
    /// `next_seq`).
    fn position_of(&self, topic: u16, seq: u64) -> usize {
        let state = self.topics[topic as usize];
        assert!(state.tail_seq <= seq && seq <= state.next_seq);
        let mut at = state.tail as usize;
        let mut current = state.tail_seq;
        // Bounded: one step per message held, at most `seq - tail_seq` of them.
        while current < seq {
            let (len, found) = self.header(topic, at);
            assert_eq!(found, current, "messages out of order in a ring");
            current += 1;
            at = Self::locate(&state, current, at + HEADER + len);
        }
        if seq == state.next_seq {
            state.head as usize
        } else {
            at
        }
    }

    /// Ends `slot`'s subscription to `topic`, if it has one.
    pub(crate) fn unsubscribe(&mut self, slot: SlotId, topic: TopicId) {
        let range = slot_subs(&self.config, slot);
        if let Some(index) = range.clone().find(|&i| self.subs[i].topic == topic.0) {
            self.unlink(index);
        }
    }

    /// Ends every subscription of `slot` (its connection closed). A wake-up it has pending
    /// stays: the server runs only open connections, and a module takes a spurious
    /// `progress` as it takes any (nothing moved).
    pub(crate) fn forget(&mut self, slot: SlotId) {
        if let Some(inbox) = self.inboxes.get_mut(slot as usize) {
            inbox.close();
        }
        if self.config.count == 0 {
            return;
        }
        for index in slot_subs(&self.config, slot) {
            if self.subs[index].topic != u16::MAX {
                self.unlink(index);
            }
        }
    }

    /// Removes subscription `index` from its topic's list and frees it.
    fn unlink(&mut self, index: usize) {
        let t = self.subs[index].topic as usize;
        let next = self.subs[index].next_sub;
        if self.topics[t].first_sub == index as u32 {
            self.topics[t].first_sub = next;
        } else {
            let mut at = self.topics[t].first_sub;
            // Bounded: a topic's list holds at most one subscription per slot.
            for _ in 0..self.wake.len() {
                assert!(at != NONE, "a subscription missing from its topic's list");
                if self.subs[at as usize].next_sub == index as u32 {
                    self.subs[at as usize].next_sub = next;
                    break;
                }
                at = self.subs[at as usize].next_sub;
            }
        }
        self.subs[index] = Subscription::UNUSED;
    }

    // ----- one connection's inbox --------------------------------------------------------------

    /// A connection took `slot`: its name, for messages to it alone.
    pub(crate) fn opened(&mut self, slot: SlotId) -> ConnId {
        match self.inboxes.get_mut(slot as usize) {
            Some(inbox) => {
                inbox.open();
                ConnId {
                    slot,
                    serial: inbox.serial,
                }
            }
            None => ConnId { slot, serial: 0 },
        }
    }

    fn inbox(&mut self, slot: SlotId) -> Inbox<'_> {
        let size = self.config.inbox_bytes as usize;
        let at = slot as usize * size;
        Inbox {
            bytes: &mut self.inbox_bytes[at..at + size],
            state: &mut self.inboxes[slot as usize],
        }
    }

    /// Whether [`HubView::send_to`] would queue a message of `len` bytes for `to` now
    /// without dropping any: `false` when its inbox is full, it is gone, or `len` is too long.
    pub(crate) fn has_room(&mut self, to: ConnId, len: usize) -> bool {
        let size = self.config.inbox_bytes as usize;
        let state = self.inboxes.get(to.slot as usize).copied();
        if size == 0
            || len > self.config.max_message as usize
            || 2 * (len + 4) > size
            || state.is_none_or(|s| !s.open || s.serial != to.serial || s.missed == u64::MAX)
        {
            return false;
        }
        self.inbox(to.slot).fits(len)
    }

    /// Queues `data` in the inbox of connection `to` and wakes it; when the inbox is full
    /// the oldest messages make room ([`Lagging::Skip`], counted as missed) or the receiver
    /// is marked to be closed ([`Lagging::Close`]).
    pub(crate) fn send_to(&mut self, to: ConnId, data: &[u8]) -> Result<(), DirectError> {
        let size = self.config.inbox_bytes as usize;
        if size == 0 {
            return Err(DirectError::NoInboxes);
        }
        if data.len() > self.config.max_message as usize || 2 * (data.len() + 4) > size {
            return Err(DirectError::TooLarge);
        }
        let state = self.inboxes.get(to.slot as usize).copied();
        if state.is_none_or(|s| !s.open || s.serial != to.serial) {
            return Err(DirectError::Gone);
        }
        let may_drop = self.config.lagging == Lagging::Skip;
        match self.inbox(to.slot).push(data, may_drop) {
            Pushed::Queued { dropped } => self.s.counters.missed += dropped as u64,
            Pushed::WouldDrop => {
                // The receiver does not keep up: it is closed when it next runs.
                self.inboxes[to.slot as usize].missed = u64::MAX;
            }
        }
        self.wake(to.slot);
        Ok(())
    }

    // ----- taking messages --------------------------------------------------------------------

    /// The next message waiting for `slot`, the oldest subscription first; a lagging
    /// subscription skips to the oldest message held ([`Lagging::Skip`]) or is reported
    /// ([`Lagging::Close`]). The message stays until [`HubView::taken`].
    pub(crate) fn next(&mut self, slot: SlotId) -> Next {
        if let Some(inbox) = self.inboxes.get(slot as usize).copied() {
            if inbox.missed == u64::MAX {
                self.s.counters.lagging_closed += 1;
                return Next::Lagging;
            }
            let size = self.config.inbox_bytes as usize;
            if let Some((start, len)) = self.inbox(slot).peek() {
                return Next::Message(Found {
                    index: INBOX,
                    topic: TopicId::DIRECT.0,
                    seq: 0,
                    start: slot as usize * size + start,
                    len,
                    missed: inbox.missed,
                });
            }
        }
        if self.config.count == 0 {
            return Next::Nothing;
        }
        for index in slot_subs(&self.config, slot) {
            let sub = self.subs[index];
            if sub.topic == u16::MAX {
                continue;
            }
            let state = self.topics[sub.topic as usize];
            if sub.next_seq >= state.next_seq {
                continue;
            }
            let mut at = sub.at as usize;
            if sub.next_seq < state.tail_seq {
                if self.config.lagging == Lagging::Close {
                    self.s.counters.lagging_closed += 1;
                    return Next::Lagging;
                }
                let skipped = state.tail_seq - sub.next_seq;
                self.s.counters.missed += skipped;
                let sub = &mut self.subs[index];
                sub.missed += skipped;
                sub.next_seq = state.tail_seq;
                at = state.tail as usize;
            }
            let missed = self.subs[index].missed;
            let resolved = Self::locate(&state, self.subs[index].next_seq, at);
            let (len, seq) = self.header(sub.topic, resolved);
            assert_eq!(
                seq, self.subs[index].next_seq,
                "a subscriber's cursor is not at the message it expects"
            );
            self.subs[index].at = resolved as u32;
            return Next::Message(Found {
                index,
                topic: sub.topic,
                seq,
                start: self.config.ring_bytes as usize * sub.topic as usize + resolved + HEADER,
                len,
                missed,
            });
        }
        Next::Nothing
    }

    /// The message [`HubView::next`] found in subscription `index` is taken: move past it.
    pub(crate) fn taken(&mut self, slot: SlotId, index: usize, seq: u64) {
        if index == INBOX {
            self.inbox(slot).pop();
            return;
        }
        let sub = self.subs[index];
        assert!(
            sub.topic != u16::MAX && sub.next_seq == seq,
            "taking a message that is not the subscription's next"
        );
        let (len, found) = self.header(sub.topic, sub.at as usize);
        assert_eq!(found, seq);
        let sub = &mut self.subs[index];
        sub.at += (HEADER + len) as u32;
        sub.next_seq += 1;
        sub.missed = 0;
    }

    // ----- waking -----------------------------------------------------------------------------

    fn wake_subscribers(&mut self, topic: u16) {
        let per = self.config.per_connection as usize;
        let mut at = self.topics[topic as usize].first_sub;
        // Bounded: a topic's list holds at most one subscription per slot.
        for _ in 0..self.wake.len() {
            if at == NONE {
                return;
            }
            self.wake(at / per as u32);
            at = self.subs[at as usize].next_sub;
        }
        assert!(at == NONE, "a topic's list is longer than there are slots");
    }

    fn wake(&mut self, slot: SlotId) {
        if !self.woken[slot as usize] {
            let capacity = self.wake.len();
            assert!(self.s.wake_len < capacity, "more wake-ups than slots");
            self.woken[slot as usize] = true;
            self.wake[(self.s.wake_head + self.s.wake_len) % capacity] = slot;
            self.s.wake_len += 1;
        }
    }

    /// The slot woken longest ago and not run since, taken off the queue.
    pub(crate) fn take_woken(&mut self) -> Option<SlotId> {
        // Bounded: skips slots forgotten since they were woken, at most one per entry.
        while self.s.wake_len > 0 {
            let slot = self.wake[self.s.wake_head];
            self.s.wake_head = (self.s.wake_head + 1) % self.wake.len();
            self.s.wake_len -= 1;
            if self.woken[slot as usize] {
                self.woken[slot as usize] = false;
                return Some(slot);
            }
        }
        None
    }
}

mod handles;
pub use handles::{Bus, Feed};

#[cfg(test)]
mod tests;
