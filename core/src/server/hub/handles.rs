//! The handles a connection works with on the hub: [`Bus`] to publish, follow topics and
//! send to one connection; [`Feed`] to take its messages from a response that stays open.

use super::super::SlotId;
use super::super::inbox::{ConnId, DirectError};
#[cfg(test)]
use super::HubScalars;
use super::{
    HubAccess, HubView, INBOX, Message, Next, PublishError, Start, SubscribeError, TopicId,
};
#[cfg(test)]
use crate::config::Topics;

/// A connection's handle on the hub: publish to a topic, follow topics. A protocol module
/// gets it from [`Link::bus`](crate::server::Link::bus), an HTTP handler as
/// [`Ctx::bus`](crate::Ctx::bus).
pub struct Bus<'a> {
    pub(crate) hub: &'a mut dyn HubAccess,
    pub(crate) slot: SlotId,
}

impl core::fmt::Debug for Bus<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Bus").field("slot", &self.slot).finish()
    }
}

impl Bus<'_> {
    /// Publishes `data` to `topic`: appended to its ring once, and every subscriber (this
    /// connection too, if it follows the topic) is woken to take it when the current event
    /// is done. Returns the message's sequence number.
    pub fn publish(&mut self, topic: TopicId, data: &[u8]) -> Result<u64, PublishError> {
        self.hub.view().publish(topic, data)
    }

    /// Follows `topic` from `start` (again: moves the cursor). Returns how many messages the
    /// connection misses before its first ([`Start::After`] a message the ring no longer
    /// holds).
    pub fn subscribe(&mut self, topic: TopicId, start: Start) -> Result<u64, SubscribeError> {
        self.hub.view().subscribe(self.slot, topic, start)
    }

    /// Stops following `topic` (nothing if it did not).
    pub fn unsubscribe(&mut self, topic: TopicId) {
        self.hub.view().unsubscribe(self.slot, topic);
    }

    /// Whether the connection follows `topic`.
    pub fn follows(&self, topic: TopicId) -> bool {
        self.hub.follows(self.slot, topic)
    }

    /// Whether a message waits for the connection.
    pub fn pending(&self) -> bool {
        self.hub.pending(self.slot)
    }

    /// This connection's name, for messages to it alone: another connection (or the app,
    /// remembering it in its state) sends with [`Bus::send_to`].
    pub fn me(&self) -> ConnId {
        self.hub.conn_id(self.slot)
    }

    /// Sends `data` to connection `to` alone: queued in its inbox
    /// ([`Topics::inbox_bytes`](crate::Topics::inbox_bytes)), which it takes as messages of [`TopicId::DIRECT`] before
    /// its topics' (woken when the current event is done). A full inbox drops its oldest
    /// messages ([`Lagging::Skip`](crate::Lagging::Skip), counted as missed) or its connection is closed
    /// ([`Lagging::Close`](crate::Lagging::Close)). [`DirectError::Gone`] when that connection has closed, even if
    /// another now holds its slot.
    pub fn send_to(&mut self, to: ConnId, data: &[u8]) -> Result<(), DirectError> {
        self.hub.view().send_to(to, data)
    }

    /// Whether [`Bus::send_to`] would queue a message of `len` bytes for `to` now without
    /// dropping any of its inbox's: `false` when that inbox is full, its connection gone, or
    /// `len` too long. A sender that would rather wait than drop (a broker pushing back on
    /// its publisher) asks this of every receiver first.
    pub fn has_room(&mut self, to: ConnId, len: usize) -> bool {
        self.hub.view().has_room(to, len)
    }
}

/// The messages waiting for a connection, as a response that stays open takes them (a
/// stream producer's [`StreamOut::feed`](crate::StreamOut::feed)); the same as
/// [`Link::next_message`](crate::server::Link::next_message) and
/// [`Link::message_taken`](crate::server::Link::message_taken).
pub struct Feed<'a> {
    pub(crate) hub: HubView<'a>,
    pub(crate) slot: SlotId,
    message: Option<(u32, u64)>,
    /// The connection fell behind a topic under [`Lagging::Close`](crate::Lagging::Close): the stream ends.
    pub(crate) lagging: bool,
}

impl core::fmt::Debug for Feed<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Feed").field("slot", &self.slot).finish()
    }
}

impl<'a> Feed<'a> {
    /// A feed of no topics (a hub of none), for a producer called outside a server.
    #[cfg(test)]
    pub(crate) fn none(scalars: &'a mut HubScalars) -> Feed<'a> {
        let hub = HubView {
            config: Topics::DEFAULT,
            topics: Default::default(),
            rings: Default::default(),
            subs: Default::default(),
            wake: Default::default(),
            woken: Default::default(),
            inbox_bytes: Default::default(),
            inboxes: Default::default(),
            s: scalars,
        };
        Feed::new(hub, 0)
    }

    pub(crate) fn new(hub: HubView<'a>, slot: SlotId) -> Feed<'a> {
        Feed {
            hub,
            slot,
            message: None,
            lagging: false,
        }
    }

    /// The next message waiting in the topics the connection follows; it stays the next until
    /// [`Feed::message_taken`].
    pub fn next_message(&mut self) -> Option<Message<'_>> {
        match self.hub.next(self.slot) {
            Next::Nothing => None,
            Next::Lagging => {
                self.lagging = true;
                None
            }
            Next::Message(found) => {
                self.message = Some((found.index as u32, found.seq));
                let bytes = if found.index == INBOX {
                    &*self.hub.inbox_bytes
                } else {
                    &*self.hub.rings
                };
                Some(found.message(bytes))
            }
        }
    }

    /// The message [`Feed::next_message`] returned last is taken.
    ///
    /// Panics if it returned none since the last call.
    pub fn message_taken(&mut self) {
        let (index, seq) = self
            .message
            .take()
            .expect("message_taken without a message from next_message");
        self.hub.taken(self.slot, index as usize, seq);
    }
}
