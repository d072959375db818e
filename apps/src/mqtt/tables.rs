//! The broker's tables, laid out over the module's shared memory (carved from the server's
//! region at startup, zeroed): clients, subscriptions, retained messages, and one record
//! buffer. A zeroed table is an empty one, so there is nothing to lay out on first use.
//!
//! ```text
//! | clients: [Client; c] | subs: [Sub; s] | retained: [Retained; r] |
//! | ids: c × client_id_bytes | wills: c × will_bytes | filters: s × topic_bytes |
//! | stores: c × queue_bytes |
//! | retained data: r × retained_bytes | record: max_message |
//! ```
//!
//! Every lookup is a scan of one table, bounded by its capacity.

use bytemuck::{Pod, Zeroable};

use super::Capacity;
use super::store::Store;

/// Bytes of a record's header: flags, then the topic's length (u16, little-endian).
pub const RECORD_HEAD: usize = 3;
/// A record's flag: the message is retained (delivered because of a new subscription).
pub const RECORD_RETAIN: u8 = 0x04;
/// A record's flag: not a message, the session was taken over by another connection.
pub const RECORD_TAKEOVER: u8 = 0x80;
/// A record's flag: not a message, a publisher waiting for room is told to try again.
pub const RECORD_WAKE: u8 = 0x40;

/// One client's session.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
pub struct Client {
    /// The connection's `ConnId::to_bits` while connected.
    pub conn: u64,
    /// [`FREE`], [`CONNECTED`], or [`OFFLINE`] (a persistent session without a connection).
    pub used: u8,
    /// Whether a will is stored (its record in the client's will area).
    pub has_will: u8,
    /// The highest QoS among this client's subscriptions matching the publish being routed.
    pub mark_qos: u8,
    /// Whether the session outlives its connection (CONNECT with Clean Session 0).
    pub persistent: u8,
    /// Bytes of the client identifier.
    pub id_len: u16,
    /// Bytes of the will's record.
    pub will_len: u16,
    /// The publish being routed whose subscriptions matched (`BrokerStatus::routed`).
    pub mark: u32,
    /// Bytes of the session's store in use ([`Store`]).
    pub store_len: u32,
    /// Whether its connection is a publisher waiting for room in a receiver's inbox.
    pub stalled: u8,
    _pad: [u8; 7],
}

/// [`Client::used`]: a free entry.
pub const FREE: u8 = 0;
/// [`Client::used`]: a session with its connection.
pub const CONNECTED: u8 = 1;
/// [`Client::used`]: a persistent session whose client is away; QoS 1 and 2 messages for it
/// wait in its queue.
pub const OFFLINE: u8 = 2;

/// One subscription.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
pub struct Sub {
    /// The client's index plus one; 0: a free entry.
    pub client: u32,
    /// The granted QoS.
    pub qos: u8,
    _pad: u8,
    /// Bytes of the filter.
    pub len: u16,
}

/// One retained message.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
pub struct Retained {
    /// Whether the entry holds a message.
    pub used: u8,
    /// Its QoS.
    pub qos: u8,
    /// Bytes of its topic.
    pub topic_len: u16,
    /// Bytes of its payload.
    pub payload_len: u32,
}

const _: () = assert!(size_of::<Client>().is_multiple_of(8) && size_of::<Sub>() == 8);
const _: () = assert!(size_of::<Retained>() == 8);

/// The tables, each a disjoint borrow of the shared memory.
pub struct Tables<'a> {
    /// The capacities they were laid out for.
    pub capacity: Capacity,
    /// Client sessions.
    pub clients: &'a mut [Client],
    /// Subscriptions.
    pub subs: &'a mut [Sub],
    /// Retained messages.
    pub retained: RetainedTable<'a>,
    /// Client identifiers, `client_id_bytes` per client.
    pub ids: &'a mut [u8],
    /// Wills as records, `will_bytes` per client.
    pub wills: &'a mut [u8],
    /// Filters, `topic_bytes` per subscription.
    pub filters: &'a mut [u8],
    /// Persistent sessions' stores ([`Store`]), `queue_bytes` per client.
    pub queues: &'a mut [u8],
    /// Where a message's record is built before it is sent to inboxes.
    pub record: &'a mut [u8],
}

/// Bytes of shared memory the tables take for `capacity` and records of `record` bytes.
pub const fn memory(capacity: &Capacity, record: usize) -> usize {
    let c = capacity.clients as usize;
    let s = capacity.subscriptions as usize;
    let r = capacity.retained as usize;
    c * (size_of::<Client>()
        + capacity.client_id_bytes as usize
        + capacity.will_bytes as usize
        + capacity.queue_bytes as usize)
        + s * (size_of::<Sub>() + capacity.topic_bytes as usize)
        + r * (size_of::<Retained>() + capacity.retained_bytes as usize)
        + record
}

impl<'a> Tables<'a> {
    /// The tables over `memory` (8-aligned, at least [`memory`] bytes, zeroed at startup).
    pub fn new(memory: &'a mut [u8], capacity: Capacity, record: usize) -> Tables<'a> {
        assert!(
            memory.len() >= self::memory(&capacity, record),
            "the broker's memory is smaller than its capacity needs"
        );
        let c = capacity.clients as usize;
        let s = capacity.subscriptions as usize;
        let r = capacity.retained as usize;
        let (clients, rest) = memory.split_at_mut(c * size_of::<Client>());
        let (subs, rest) = rest.split_at_mut(s * size_of::<Sub>());
        let (retained, rest) = rest.split_at_mut(r * size_of::<Retained>());
        let (ids, rest) = rest.split_at_mut(c * capacity.client_id_bytes as usize);
        let (wills, rest) = rest.split_at_mut(c * capacity.will_bytes as usize);
        let (filters, rest) = rest.split_at_mut(s * capacity.topic_bytes as usize);
        let (queues, rest) = rest.split_at_mut(c * capacity.queue_bytes as usize);
        let (retained_data, rest) = rest.split_at_mut(r * capacity.retained_bytes as usize);
        Tables {
            capacity,
            clients: bytemuck::cast_slice_mut(clients),
            subs: bytemuck::cast_slice_mut(subs),
            retained: RetainedTable {
                entries: bytemuck::cast_slice_mut(retained),
                data: retained_data,
                bytes: capacity.retained_bytes as usize,
            },
            ids,
            wills,
            filters,
            queues,
            record: &mut rest[..record],
        }
    }

    /// Client `i`'s store.
    pub fn store(&mut self, i: usize) -> Store<'_> {
        let n = self.capacity.queue_bytes as usize;
        Store::new(
            &mut self.queues[i * n..(i + 1) * n],
            &mut self.clients[i].store_len,
        )
    }

    /// The identifier of client `i`.
    pub fn id(&self, i: usize) -> &[u8] {
        let n = self.capacity.client_id_bytes as usize;
        &self.ids[i * n..i * n + self.clients[i].id_len as usize]
    }

    /// The client whose identifier is `id`, if any.
    pub fn find_client(&self, id: &[u8]) -> Option<usize> {
        // Bounded: one turn per entry of the client table.
        (0..self.clients.len()).find(|&i| self.clients[i].used != FREE && self.id(i) == id)
    }

    /// A free client entry, if any.
    pub fn free_client(&self) -> Option<usize> {
        self.clients.iter().position(|c| c.used == FREE)
    }

    /// Stores client `i`'s identifier (at most `client_id_bytes`, checked by the caller).
    pub fn set_id(&mut self, i: usize, id: &[u8]) {
        let n = self.capacity.client_id_bytes as usize;
        self.ids[i * n..i * n + id.len()].copy_from_slice(id);
        self.clients[i].id_len = id.len() as u16;
    }

    /// The filter of subscription `i`.
    pub fn filter(&self, i: usize) -> &[u8] {
        let n = self.capacity.topic_bytes as usize;
        &self.filters[i * n..i * n + self.subs[i].len as usize]
    }

    /// Client `client`'s subscription to `filter`, if any.
    pub fn find_sub(&self, client: usize, filter: &[u8]) -> Option<usize> {
        // Bounded: one turn per entry of the subscription table.
        (0..self.subs.len())
            .find(|&i| self.subs[i].client == client as u32 + 1 && self.filter(i) == filter)
    }

    /// Adds (or replaces the QoS of) client `client`'s subscription to `filter`: `false` when
    /// the table is full. Returns whether a new entry was taken, or `None` when full.
    pub fn subscribe(&mut self, client: usize, filter: &[u8], qos: u8) -> Option<bool> {
        if let Some(i) = self.find_sub(client, filter) {
            self.subs[i].qos = qos;
            return Some(false);
        }
        let i = self.subs.iter().position(|s| s.client == 0)?;
        let n = self.capacity.topic_bytes as usize;
        self.filters[i * n..i * n + filter.len()].copy_from_slice(filter);
        self.subs[i] = Sub {
            client: client as u32 + 1,
            qos,
            _pad: 0,
            len: filter.len() as u16,
        };
        Some(true)
    }

    /// Removes every subscription of client `client`; returns how many.
    pub fn unsubscribe_all(&mut self, client: usize) -> u32 {
        let mut removed = 0;
        // Bounded: one turn per entry of the subscription table.
        for sub in self.subs.iter_mut() {
            if sub.client == client as u32 + 1 {
                *sub = Sub::zeroed();
                removed += 1;
            }
        }
        removed
    }

    /// The will record of client `i`.
    pub fn will(&self, i: usize) -> &[u8] {
        let n = self.capacity.will_bytes as usize;
        &self.wills[i * n..i * n + self.clients[i].will_len as usize]
    }
}

/// A retained message that cannot be held: the table is full, or it is longer than
/// `retained_bytes` (dropped and counted).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NotRetained {
    /// The older message of its topic was removed (it is stale): the count changes by this.
    pub change: i32,
}

/// The retained messages: an entry and `bytes` of topic and payload each.
pub struct RetainedTable<'a> {
    /// The entries.
    pub entries: &'a mut [Retained],
    /// Topics and payloads, `bytes` per entry.
    pub data: &'a mut [u8],
    /// Bytes of one entry's topic and payload.
    pub bytes: usize,
}

impl RetainedTable<'_> {
    /// The topic and payload of retained message `i`.
    pub fn message(&self, i: usize) -> (&[u8], &[u8]) {
        let n = self.bytes;
        let e = self.entries[i];
        let data = &self.data[i * n..];
        let topic = e.topic_len as usize;
        (&data[..topic], &data[topic..topic + e.payload_len as usize])
    }

    /// Sets, replaces or (with an empty payload) clears the retained message of `topic`.
    /// Returns the change in the count of retained messages, or `Err` when it cannot be held
    /// (the table is full, or it is longer than `retained_bytes`).
    pub fn retain(&mut self, topic: &[u8], payload: &[u8], qos: u8) -> Result<i32, NotRetained> {
        // Bounded: one turn per entry of the retained table.
        let found = (0..self.entries.len())
            .find(|&i| self.entries[i].used != 0 && self.message(i).0 == topic);
        if payload.is_empty() {
            return Ok(match found {
                Some(i) => {
                    self.entries[i] = Retained::zeroed();
                    -1
                }
                None => 0,
            });
        }
        let n = self.bytes;
        if topic.len() + payload.len() > n {
            if let Some(i) = found {
                // The old message is stale either way: a subscriber must not get it.
                self.entries[i] = Retained::zeroed();
                return Err(NotRetained { change: -1 });
            }
            return Err(NotRetained { change: 0 });
        }
        let (i, added) = match found {
            Some(i) => (i, 0),
            None => (
                self.entries
                    .iter()
                    .position(|r| r.used == 0)
                    .ok_or(NotRetained { change: 0 })?,
                1,
            ),
        };
        let data = &mut self.data[i * n..(i + 1) * n];
        data[..topic.len()].copy_from_slice(topic);
        data[topic.len()..topic.len() + payload.len()].copy_from_slice(payload);
        self.entries[i] = Retained {
            used: 1,
            qos,
            topic_len: topic.len() as u16,
            payload_len: payload.len() as u32,
        };
        Ok(added)
    }
}

/// A message as an inbox holds it: flags (QoS in the low two bits, [`RECORD_RETAIN`],
/// [`RECORD_TAKEOVER`], [`RECORD_WAKE`]), the topic's length, the topic, the payload.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The flags byte.
    pub flags: u8,
    /// The topic name (validated when the message was published).
    pub topic: &'a str,
    /// The payload.
    pub payload: &'a [u8],
}

impl<'a> Record<'a> {
    /// Writes a record into `buf`; `None` when it does not fit.
    pub fn write(buf: &mut [u8], flags: u8, topic: &[u8], payload: &[u8]) -> Option<usize> {
        let len = RECORD_HEAD + topic.len() + payload.len();
        if len > buf.len() || topic.len() > u16::MAX as usize {
            return None;
        }
        buf[0] = flags;
        buf[1..3].copy_from_slice(&(topic.len() as u16).to_le_bytes());
        buf[3..3 + topic.len()].copy_from_slice(topic);
        buf[3 + topic.len()..len].copy_from_slice(payload);
        Some(len)
    }

    /// Reads a record; `None` for a malformed one (never written by the broker).
    pub fn read(bytes: &'a [u8]) -> Option<Record<'a>> {
        let (&flags, rest) = bytes.split_first()?;
        if flags & (RECORD_TAKEOVER | RECORD_WAKE) != 0 {
            return Some(Record {
                flags,
                topic: "",
                payload: &[],
            });
        }
        let len = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        let topic = core::str::from_utf8(rest.get(2..2 + len)?).ok()?;
        Some(Record {
            flags,
            topic,
            payload: &rest[2 + len..],
        })
    }
}
