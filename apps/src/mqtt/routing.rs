//! Routing a message: the retained table, then every client whose subscriptions match it,
//! once each; and the wait a publisher is put to while a receiver's inbox is full.
//!
//! **Backpressure.** A PUBLISH from a connected client is routed only when every connected
//! receiver's inbox has room for it ([`Bus::has_room`]); otherwise it stays in the
//! publisher's receive buffer, unacknowledged, and the publisher reads nothing more
//! ([`Routed::Wait`]): the wait reaches the publisher through TCP, and no message to a
//! connected client is dropped while its client keeps up on average. The publisher is marked
//! in the client table ([`Client::stalled`](super::tables::Client::stalled)); a receiver that
//! takes messages from its inbox wakes the marked publishers ([`wake_stalled`]) and they try
//! again. A publisher is never made to wait on its own inbox, and one that has waited
//! [`Mqtt::stall_ms`](super::Mqtt::stall_ms) routes anyway ([`Pressure::Force`]): the full
//! inboxes then drop their oldest messages (counted), so that a receiver that stopped reading
//! cannot stop its publishers for longer than that.

use zzz_core::server::{Bus, ConnId};

use super::BrokerStatus;
use super::store::{Kept, Store};
use super::tables::{
    self, CONNECTED, FREE, OFFLINE, RECORD_HEAD, RECORD_RETAIN, RECORD_WAKE, Tables,
};

/// How a message meets a full inbox.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Pressure {
    /// Wait while a connected receiver other than `from` (the publisher) has no room.
    Wait {
        /// The publishing connection.
        from: ConnId,
    },
    /// Deliver now: a full inbox drops its oldest messages. For wills, and for a publisher
    /// that has waited long enough.
    Force,
}

/// What routing did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Routed {
    /// Retained if it asked to be, and queued for every matching client (or dropped and
    /// counted where an offline queue had no room or an inbox was forced).
    Delivered,
    /// Nothing done: a receiver's inbox has no room.
    Wait,
}

/// Copies client `i`'s will into the record buffer; returns its length.
pub(super) fn copy_will(tables: &mut Tables<'_>, i: usize) -> usize {
    let n = tables.capacity.will_bytes as usize;
    let len = tables.clients[i].will_len as usize;
    tables.record[..len].copy_from_slice(&tables.wills[i * n..i * n + len]);
    len
}

/// Sets, replaces or clears a retained message, counting what it changes.
pub(super) fn retain(
    table: &mut tables::RetainedTable<'_>,
    status: &mut BrokerStatus,
    topic: &[u8],
    payload: &[u8],
    qos: u8,
) {
    match table.retain(topic, payload, qos) {
        Ok(change) => status.retained = status.retained.saturating_add_signed(change),
        Err(tables::NotRetained { change }) => {
            status.retained = status.retained.saturating_add_signed(change);
            status.retained_dropped += 1;
        }
    }
}

/// Routes the record of `len` bytes in `tables.record`: the retained table if it is
/// retained, and every client with a matching subscription, once each, at the highest QoS
/// granted to it, capped by the message's; or nothing, under [`Pressure::Wait`], when a
/// connected receiver's inbox has no room for it.
pub(super) fn route(
    tables: &mut Tables<'_>,
    status: &mut BrokerStatus,
    bus: &mut Bus<'_>,
    len: usize,
    pressure: Pressure,
) -> Routed {
    let Some(parsed) = tables::Record::read(&tables.record[..len]) else {
        return Routed::Delivered;
    };
    let (flags, topic_end) = (parsed.flags, RECORD_HEAD + parsed.topic.len());
    // Each attempt marks with a number of its own: one that waited leaves stale marks.
    let epoch = (status.routed + status.stalls + 1) as u32;
    mark_receivers(tables, topic_end, epoch);
    if let Pressure::Wait { from } = pressure
        && !receivers_have_room(tables, bus, len, epoch, from)
    {
        status.stalls += 1;
        return Routed::Wait;
    }
    let record = &mut tables.record[..len];
    let qos = flags & 3;
    if flags & RECORD_RETAIN != 0 {
        let (topic, payload) = (&record[RECORD_HEAD..topic_end], &record[topic_end..]);
        retain(&mut tables.retained, status, topic, payload, qos);
    }
    status.routed += 1;
    // Forwarded messages carry RETAIN 0 ([MQTT-3.3.1-9]); only a new subscription's get 1.
    // Bounded: one turn per client.
    for i in 0..tables.clients.len() {
        let c = tables.clients[i];
        if c.used == FREE || c.mark != epoch {
            continue;
        }
        record[0] = qos.min(c.mark_qos);
        let sent = if c.used == OFFLINE {
            // QoS 0 is not kept for an offline client; QoS 1 and 2 wait in its queue.
            record[0] == 0 || {
                let n = tables.capacity.queue_bytes as usize;
                let bytes = &mut tables.queues[i * n..(i + 1) * n];
                Store::new(bytes, &mut tables.clients[i].store_len).push(Kept::Queued, 0, record)
            }
        } else {
            bus.send_to(ConnId::from_bits(c.conn), record).is_ok()
        };
        if !sent {
            status.dropped += 1;
        }
    }
    Routed::Delivered
}

/// Marks with `epoch` every client with a subscription matching the topic of the record in
/// `tables.record` (ending at `topic_end`), with the highest QoS granted among them.
fn mark_receivers(tables: &mut Tables<'_>, topic_end: usize, epoch: u32) {
    let topic = core::str::from_utf8(&tables.record[RECORD_HEAD..topic_end]).unwrap_or("");
    let n = tables.capacity.topic_bytes as usize;
    // Bounded: one turn per subscription.
    for (s, sub) in tables.subs.iter().enumerate() {
        if sub.client == 0 {
            continue;
        }
        let filter = &tables.filters[s * n..s * n + sub.len as usize];
        let filter = core::str::from_utf8(filter).unwrap_or("");
        if !zzz_core::mqtt::matches(filter, topic) {
            continue;
        }
        let c = &mut tables.clients[sub.client as usize - 1];
        if c.mark != epoch {
            c.mark = epoch;
            c.mark_qos = sub.qos;
        } else {
            c.mark_qos = c.mark_qos.max(sub.qos);
        }
    }
}

/// Whether every connected client marked with `epoch`, `from` aside, has room in its inbox
/// for a record of `len` bytes.
fn receivers_have_room(
    tables: &Tables<'_>,
    bus: &mut Bus<'_>,
    len: usize,
    epoch: u32,
    from: ConnId,
) -> bool {
    // Bounded: one turn per client.
    tables.clients.iter().all(|c| {
        c.used != CONNECTED
            || c.mark != epoch
            || c.conn == from.to_bits()
            || bus.has_room(ConnId::from_bits(c.conn), len)
    })
}

/// Marks client `i` as a publisher waiting for room (once).
pub(super) fn mark_stalled(tables: &mut Tables<'_>, status: &mut BrokerStatus, i: usize) {
    if tables.clients[i].stalled == 0 {
        tables.clients[i].stalled = 1;
        status.stalled += 1;
    }
}

/// Forgets that client `i` waits for room.
pub(super) fn clear_stalled(tables: &mut Tables<'_>, status: &mut BrokerStatus, i: usize) {
    if tables.clients[i].stalled != 0 {
        tables.clients[i].stalled = 0;
        status.stalled -= 1;
    }
}

/// Tells every waiting publisher to try again (a receiver made room): a [`RECORD_WAKE`] in
/// its inbox wakes it. One whose own inbox is full stays marked, for the next receiver.
pub(super) fn wake_stalled(tables: &mut Tables<'_>, status: &mut BrokerStatus, bus: &mut Bus<'_>) {
    if status.stalled == 0 {
        return;
    }
    // Bounded: one turn per client.
    for i in 0..tables.clients.len() {
        let c = tables.clients[i];
        if c.stalled == 0 {
            continue;
        }
        let to = ConnId::from_bits(c.conn);
        if c.used != CONNECTED || (bus.has_room(to, 1) && bus.send_to(to, &[RECORD_WAKE]).is_ok()) {
            clear_stalled(tables, status, i);
        }
    }
}

/// Sends the retained messages matching `filter` to this connection's own inbox, with
/// RETAIN set, at most at QoS `granted`.
pub(super) fn send_retained(
    tables: &mut Tables<'_>,
    bus: &mut Bus<'_>,
    me: ConnId,
    filter: &str,
    granted: u8,
) {
    // Bounded: one turn per retained entry.
    for i in 0..tables.retained.entries.len() {
        let e = tables.retained.entries[i];
        if e.used == 0 {
            continue;
        }
        let (topic, payload) = tables.retained.message(i);
        let Ok(topic_str) = core::str::from_utf8(topic) else {
            continue;
        };
        if !zzz_core::mqtt::matches(filter, topic_str) {
            continue;
        }
        let flags = e.qos.min(granted) | RECORD_RETAIN;
        if let Some(len) = tables::Record::write(tables.record, flags, topic, payload) {
            let _ = bus.send_to(me, &tables.record[..len]);
        }
    }
}
