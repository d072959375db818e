//! A persistent session across its connections: what its [`Store`] keeps when a connection
//! ends, what a connection that resumes it takes back, and the messages it sends again.
//!
//! - **While connected**, the store keeps the copies of what is in flight and the identifiers
//!   of the QoS 2 messages the client sent whose PUBREL has not come ([`Kept::Received`]), so
//!   that a connection taking the session over has them too.
//! - **A connection ends** ([`keep_on_close`]): those stay; the QoS 1 and 2 messages still
//!   in its inbox are queued ([`Kept::Queued`]) ahead of those routed while it is away.
//! - **A connection resumes it** ([`resume`]): the queued messages go to its inbox; the
//!   received identifiers and the messages in flight go back into its state, every one of the
//!   latter marked to be sent again.
//! - **Sending again** ([`resend`]), before anything new: each message in flight as a
//!   PUBLISH with DUP set and its identifier, or a PUBREL where PUBREC had come
//!   (`[MQTT-4.4.0-1]`, `[MQTT-3.3.1-1]`).
//!
//! Whatever does not fit the store is dropped and counted ([`BrokerStatus::dropped`]).

use core::num::NonZeroU16;

use zzz_core::mqtt::{Delivery, PacketType, Publish, write_ack, write_publish_head};
use zzz_core::server::{Bus, ConnId, Link};

use super::conn::{Awaiting, Inflight, MqttConn};
use super::store::Kept;
use super::tables::{RECORD_RETAIN, RECORD_TAKEOVER, RECORD_WAKE, Record, Tables};
use super::{BrokerState, BrokerStatus, Capacity, MAX_INFLIGHT};

/// What an in-flight message awaits, as the store keeps it.
pub(super) fn kept(awaiting: Awaiting) -> Kept {
    match awaiting {
        Awaiting::Puback => Kept::Puback,
        Awaiting::Pubrec => Kept::Pubrec,
        Awaiting::Pubcomp => Kept::Pubcomp,
    }
}

/// Connection `me` resumes client `slot`'s session: its queued messages to the inbox, its
/// received identifiers and in-flight messages back into `conn`, the latter to be sent again.
pub(super) fn resume(
    conn: &mut MqttConn,
    tables: &mut Tables<'_>,
    status: &mut BrokerStatus,
    bus: &mut Bus<'_>,
    me: ConnId,
    slot: usize,
) {
    let mut store = tables.store(slot);
    // Bounded: the entries of a store of `queue_bytes`.
    for entry in store.entries() {
        let (id, n) = (entry.id, conn.inflight_len as usize);
        match entry.kept {
            Kept::Queued => {
                if bus.send_to(me, entry.record).is_err() {
                    status.dropped += 1;
                }
            }
            Kept::Received => {
                if conn.receiving(id, MAX_INFLIGHT) == Some(true) {
                    conn.received(id);
                }
            }
            Kept::Puback | Kept::Pubrec | Kept::Pubcomp if n < MAX_INFLIGHT => {
                let awaiting = match entry.kept {
                    Kept::Puback => Awaiting::Puback,
                    Kept::Pubrec => Awaiting::Pubrec,
                    _ => Awaiting::Pubcomp,
                };
                conn.inflight[n] = Inflight { id, awaiting };
                conn.inflight_len += 1;
                conn.last_id = conn.last_id.max(id);
            }
            Kept::Puback | Kept::Pubrec | Kept::Pubcomp => status.dropped += 1,
        }
    }
    store.retain(|e| e.kept.in_flight() || e.kept == Kept::Received);
    store.resend_in_flight();
    conn.resend = conn.inflight_len;
}

/// Writes what a resumed session sends again, oldest first, while the output has room.
pub(super) fn resend<S: BrokerState>(
    conn: &mut MqttConn,
    link: &mut Link<'_, '_, S>,
    capacity: Capacity,
) {
    let record_len = link.config().topics.max_message as usize;
    let parts = link.split();
    let mut tables = Tables::new(parts.shared, capacity, record_len);
    let mut store = tables.store(conn.client as usize);
    let framing = conn.framing();
    let room = parts.output;
    let out = room.get_mut(framing.reserve()..).unwrap_or_default();
    let mut written = 0;
    // Bounded: one turn per message marked, at most `MAX_INFLIGHT`.
    while conn.resend > 0 {
        let Some(entry) = store.find(0, |e| e.resend) else {
            conn.resend = 0;
            break;
        };
        let room = &mut out[written..];
        let n = match (entry.kept, NonZeroU16::new(entry.id)) {
            (Kept::Pubcomp, Some(id)) => write_ack(room, PacketType::Pubrel, id).ok(),
            (Kept::Puback | Kept::Pubrec, Some(id)) => {
                let delivery = if entry.kept == Kept::Puback {
                    Delivery::AtLeastOnce(id)
                } else {
                    Delivery::ExactlyOnce(id)
                };
                Record::read(entry.record).and_then(|r| {
                    write_publish(room, delivery, true, r.flags & RECORD_RETAIN != 0, &r)
                })
            }
            _ => Some(0),
        };
        let Some(n) = n else { break };
        let at = entry.at;
        store.set_resend(at, false);
        conn.resend -= 1;
        written += n;
    }
    let written = framing.finish(room, written);
    link.commit_output(0, written);
}

/// Writes `record` as a PUBLISH into `room`: its length, or `None` when it does not fit.
pub(super) fn write_publish(
    room: &mut [u8],
    delivery: Delivery,
    dup: bool,
    retain: bool,
    record: &Record<'_>,
) -> Option<usize> {
    let publish = Publish {
        dup,
        delivery,
        retain,
        topic: record.topic,
        payload: &[],
    };
    let payload = record.payload;
    let head = write_publish_head(room, &publish, payload.len()).ok()?;
    let end = head
        .checked_add(payload.len())
        .filter(|&end| end <= room.len())?;
    room[head..end].copy_from_slice(payload);
    Some(end)
}

/// A persistent session's connection ends: what it still owes its client stays in the store.
pub(super) fn keep_on_close<S: BrokerState>(
    conn: &MqttConn,
    link: &mut Link<'_, '_, S>,
    capacity: Capacity,
) {
    let record_len = link.config().topics.max_message as usize;
    let client = conn.client as usize;
    let mut dropped = 0;
    // Bounded: each turn takes a message of an inbox of `inbox_bytes`.
    for _ in 0..link.config().topics.inbox_bytes as usize + 1 {
        let mut missed = 0;
        let delivery = link.write_next_message_keeping(|message, _, shared| {
            missed = message.missed;
            let Some(record) = Record::read(message.data) else {
                return Some(0);
            };
            let control = record.flags & (RECORD_TAKEOVER | RECORD_WAKE) != 0;
            if !control && record.flags & 3 >= 1 {
                let mut tables = Tables::new(shared, capacity, record_len);
                let kept = tables.store(client).push(Kept::Queued, 0, message.data);
                dropped += !kept as u64;
            }
            Some(0)
        });
        dropped += missed;
        if delivery != zzz_core::server::Delivery::Written {
            break;
        }
    }
    link.state().broker().dropped += dropped;
}
