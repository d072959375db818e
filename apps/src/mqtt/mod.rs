//! An MQTT 3.1.1 broker, written against the core's public module interface only: [`Mqtt`]
//! is a [`Protocol`] like the key-value store, hosting the core's wire layer
//! ([`zzz_core::mqtt`]).
//!
//! **Connections.** The first packet must be a CONNECT, and only the first (else the
//! connection closes, `[MQTT-3.1.0-1]`, `[MQTT-3.1.0-2]`), within [`Mqtt::connect_ms`] of the
//! accept. CONNACK answers 0x01 to a protocol level other than 4, 0x02 to an empty client
//! identifier without Clean Session or to one longer than [`Capacity::client_id_bytes`], 0x03
//! when the client table is full or the will is longer than [`Capacity::will_bytes`]. A
//! CONNECT with the identifier of a connected client takes its session over: the older
//! connection is closed (`[MQTT-3.1.4-2]`; its will is published). A client with an empty
//! identifier is given one (`zzz-` and a number). A connection without a packet for 1.5
//! times its keep-alive is closed (`[MQTT-3.1.2-24]`). A malformed packet or a packet only a
//! server sends closes the connection without an answer.
//!
//! **Delivery.** A PUBLISH is matched against every subscription ([`zzz_core::mqtt::matches`]:
//! `+`, `#`, `$` topics out of reach of a leading wildcard); each matching client, once, with
//! the highest QoS among its matching subscriptions (`[MQTT-3.3.5-1]`), gets a **record**
//! (flags, topic, payload) in its connection's inbox ([`Bus::send_to`](zzz_core::server::Bus)).
//! The receiving connection's `progress` takes the records as its output has room and writes
//! PUBLISH packets at `min(publish QoS, granted QoS)`. QoS 1 and 2 messages get a packet
//! identifier and wait in the connection's in-flight table ([`Capacity::inflight`]) until
//! their PUBACK, or their PUBREC (answered PUBREL) and PUBCOMP; while it is full, further
//! QoS 1 and 2 messages wait in the inbox. A publisher whose message meets a connected
//! receiver with a full inbox waits, its PUBLISH unread, until that receiver has taken some
//! (`routing.rs`: no message to a connected client is dropped while it keeps up on average);
//! after [`Mqtt::stall_ms`] of waiting the message goes anyway and the full inbox drops its
//! oldest (counted in [`BrokerStatus::dropped`]). An incoming QoS 2 PUBLISH is delivered
//! when it arrives and answered PUBREC; its identifier is remembered until the PUBREL
//! (answered PUBCOMP), so a duplicate is acknowledged again, not delivered again
//! (`[MQTT-4.3.3-2]`); a client with more than [`MAX_INFLIGHT`] of them under way is closed
//! (clients keep up to 20 in flight by default, whatever the broker's own sending limit).
//!
//! **Memory.** The client, subscription and retained tables live in the module's shared
//! memory ([`tables`]), sized by [`Capacity`] and counted in [`Protocol::shared_bytes`]; a
//! full table is a defined outcome (CONNACK 0x03, SUBACK 0x80, a retained message dropped
//! and counted). The counters are in the app's state ([`BrokerState`]), for a status page.
//!
//! **Sessions.** A CONNECT with Clean Session 0 makes a persistent session: when its
//! connection ends, the session stays in the client table (offline) with its subscriptions,
//! and its store ([`store`], [`Capacity::queue_bytes`]) keeps what it is owed: the QoS 1 and 2
//! messages it had in flight (a copy of each is kept from when it is sent until it is
//! acknowledged), those still in its inbox, those routed to it while it is away (QoS 0 ones
//! are not kept), and the identifiers of the QoS 2 messages it sent whose PUBREL had not
//! come. What does not fit is dropped and counted. A CONNECT with the same identifier and
//! Clean Session 0 resumes it (CONNACK session present 1): the messages in flight are sent
//! again first, with their identifiers and DUP set, or PUBREL where PUBREC had come
//! (`[MQTT-4.4.0-1]`), then the others; one with Clean Session 1 discards it
//! (`[MQTT-3.1.2-6]`). While a connected session's store is full of copies, its further QoS
//! 1 and 2 messages wait in its inbox, as they do for the in-flight limit.
//!
//! **Not implemented:** retransmission within a connection (MQTT 3.1.1 asks for it only on
//! reconnection); expiry of offline sessions (each holds its client entry until its client
//! comes back clean); what a session taken over had in its inbox (its copies in flight carry
//! over); authentication (user name and password are ignored).

mod conn;
mod routing;
mod session;
pub mod store;
pub mod tables;
pub mod websocket;

use zzz_core::mqtt::{
    ConnectReturnCode, Delivery, Packet, PacketType, SubackCode, read_packet, write_ack,
    write_connack, write_pingresp, write_suback, write_unsuback,
};
use zzz_core::server::{Bus, ConnId, InputTarget, Link, Protocol};
use zzz_core::{Config, Instant};

pub use conn::MqttConn;
use conn::{Awaiting, Inflight, Phase};
use routing::{Pressure, Routed, copy_will, retain, route, send_retained};
use store::Kept;
use tables::{
    CONNECTED, FREE, OFFLINE, RECORD_HEAD, RECORD_RETAIN, RECORD_TAKEOVER, RECORD_WAKE, Record,
    Tables,
};
use websocket::{WsInput, WsStream};
use zzz_core::websocket::CloseCode;

/// The most in-flight QoS 1 and 2 messages a connection may have each way
/// ([`Capacity::inflight`] is at most this): the tables live in the connection's state.
pub const MAX_INFLIGHT: usize = 32;

/// What the broker holds at most (per server instance).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Capacity {
    /// Client sessions at once; one more is answered CONNACK 0x03. Default 1,024.
    pub clients: u32,
    /// Bytes of a client identifier; a longer one is answered CONNACK 0x02. Default 64.
    pub client_id_bytes: u16,
    /// Bytes of a will (its topic and message, plus 3); a longer one is answered CONNACK
    /// 0x03. Default 256.
    pub will_bytes: u16,
    /// Subscriptions, all clients together; one more is answered SUBACK 0x80. Default 4,096.
    pub subscriptions: u32,
    /// Bytes of a topic filter; a longer one is answered SUBACK 0x80. Default 128.
    pub topic_bytes: u16,
    /// QoS 1 and 2 messages sent to one connection and not yet acknowledged (more wait in
    /// its inbox). Default 16, at most [`MAX_INFLIGHT`]. (QoS 2 messages received from a
    /// client awaiting their PUBREL are bounded by [`MAX_INFLIGHT`]: one more closes it.)
    pub inflight: u16,
    /// Retained messages; one more is dropped and counted. Default 256.
    pub retained: u32,
    /// Bytes of one retained message (topic and payload); a longer one is dropped and
    /// counted. Default 1,024.
    pub retained_bytes: u32,
    /// Bytes of a persistent session's store: copies of its QoS 1 and 2 messages in flight
    /// and, while it is away, those queued for it (each 10 bytes plus topic and payload); one
    /// more is dropped and counted (queued) or waits (in flight). Default 4 KiB.
    pub queue_bytes: u32,
}

impl Capacity {
    /// The documented defaults.
    pub const DEFAULT: Capacity = Capacity {
        clients: 1024,
        client_id_bytes: 64,
        will_bytes: 256,
        subscriptions: 4096,
        topic_bytes: 128,
        inflight: 16,
        retained: 256,
        retained_bytes: 1024,
        queue_bytes: 4096,
    };

    /// Bytes of shared memory the tables take, with a record buffer of `max_message` bytes.
    pub const fn memory(&self, max_message: usize) -> usize {
        tables::memory(self, max_message)
    }
}

impl Default for Capacity {
    fn default() -> Capacity {
        Capacity::DEFAULT
    }
}

/// The broker's counters and gauges, kept in the app's state for a status page.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct BrokerStatus {
    /// Clients connected now.
    pub clients: u32,
    /// Subscriptions held now.
    pub subscriptions: u32,
    /// Retained messages held now.
    pub retained: u32,
    /// PUBLISH packets received from clients (wills included).
    pub messages_in: u64,
    /// PUBLISH packets written to clients.
    pub messages_out: u64,
    /// Deliveries dropped: a full inbox, a record longer than `Topics::max_message`, a
    /// message too long for the receiver's send buffer.
    pub dropped: u64,
    /// Retained messages dropped: the table full, or the message too long.
    pub retained_dropped: u64,
    /// CONNECTs refused with 0x03 (table full, will too long).
    pub clients_refused: u64,
    /// Subscriptions refused with 0x80.
    pub subscriptions_refused: u64,
    /// Sessions taken over by a new connection with the same identifier.
    pub takeovers: u64,
    /// Messages routed (publishes and wills that reached the subscription table).
    pub routed: u64,
    /// Publishers waiting now for room in a receiver's inbox (their PUBLISH unread).
    pub stalled: u32,
    /// Times a PUBLISH had to wait for room in a receiver's inbox.
    pub stalls: u64,
}

/// An app state that holds the broker's counters.
pub trait BrokerState {
    /// The counters.
    fn broker(&mut self) -> &mut BrokerStatus;
}

impl BrokerState for BrokerStatus {
    fn broker(&mut self) -> &mut BrokerStatus {
        self
    }
}

/// The broker module.
#[derive(Debug)]
pub struct Mqtt {
    capacity: Capacity,
    connect_ms: u64,
    stall_ms: u64,
}

/// What handling one packet asks of the connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum After {
    Continue,
    /// Close once the output is sent (a refusing CONNACK, DISCONNECT).
    CloseAfterOutput,
    /// Close at once (a protocol violation).
    CloseNow,
    /// The packet waits, unread, for room in a receiver's inbox.
    Wait,
}

/// Bytes of output room kept for an answer that is not a SUBACK (CONNACK, acks, PINGRESP).
const SMALL_ANSWER: usize = 4;

impl Mqtt {
    /// A broker holding at most `capacity`.
    pub fn new(capacity: Capacity) -> Mqtt {
        assert!(
            capacity.inflight as usize <= MAX_INFLIGHT && capacity.inflight >= 1,
            "Capacity::inflight: 1 to MAX_INFLIGHT"
        );
        assert!(
            capacity.clients >= 1 && capacity.client_id_bytes >= 23,
            "Capacity: at least one client, identifiers of 23 bytes ([MQTT-3.1.3-5])"
        );
        Mqtt {
            capacity,
            connect_ms: 10_000,
            stall_ms: 2_000,
        }
    }

    /// How long a publisher waits for room in a receiver's inbox before its message is
    /// routed anyway, the full inboxes dropping their oldest messages (counted); default 2 s.
    pub fn stall_ms(mut self, ms: u64) -> Mqtt {
        self.stall_ms = ms;
        self
    }

    /// Closes a connection whose CONNECT has not arrived `ms` milliseconds after its accept;
    /// default 10 s.
    pub fn connect_ms(mut self, ms: u64) -> Mqtt {
        self.connect_ms = ms;
        self
    }

    /// What the broker holds at most.
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    /// Serves the whole packets at the start of the input while their answers fit.
    fn serve<S: BrokerState>(&mut self, conn: &mut MqttConn, link: &mut Link<'_, '_, S>) -> After {
        let max_packet = link.config().recv_buffer.saturating_sub(5);
        let record_len = link.config().topics.max_message as usize;
        let send_buffer = link.config().send_buffer as usize;
        let now = link.now().monotonic;
        let me = link.bus().me();
        let parts = link.split();
        let mut tables = Tables::new(parts.shared, self.capacity, record_len);
        let status = parts.state.broker();
        let mut bus = parts.bus;
        let framing = conn.framing();
        let input = &parts.input[..conn.ws.as_ref().map_or(parts.input.len(), |w| w.packets())];
        let room = parts.output;
        let output = room.get_mut(framing.reserve()..).unwrap_or_default();
        let (mut consumed, mut written, mut after) = (0, 0, After::Continue);
        conn.waiting = false;
        // Bounded: each turn consumes a packet (at least 2 bytes) or stops.
        for _ in 0..input.len() / 2 + 1 {
            let rest = &input[consumed..];
            let (packet, len) = match read_packet(rest, max_packet) {
                Ok(Some(read)) => read,
                Ok(None) => break,
                Err(e) => {
                    after = After::CloseNow;
                    if conn.phase == Phase::Connecting
                        && let Some(code) = e.connack()
                        && let Ok(n) = write_connack(&mut output[written..], false, code)
                    {
                        written += n;
                        after = After::CloseAfterOutput;
                    }
                    break;
                }
            };
            let need = match &packet {
                Packet::Subscribe(s) => 7 + s.filters.count(),
                _ => SMALL_ANSWER,
            };
            if need > output.len() - written {
                if written == 0 && need > send_buffer {
                    after = After::CloseNow;
                }
                break;
            }
            let out = &mut output[written..];
            let (n, then) = match conn.phase {
                Phase::Connecting => match packet {
                    Packet::Connect(c) => {
                        self.connect(conn, &c, &mut tables, status, &mut bus, me, out)
                    }
                    _ => (0, After::CloseNow),
                },
                Phase::Connected => {
                    self.packet(conn, packet, &mut tables, status, &mut bus, me, now, out)
                }
                Phase::Closing => (0, After::CloseNow),
            };
            written += n;
            if then == After::Wait {
                conn.waiting = true;
                break;
            }
            consumed += len;
            conn.last_packet = now;
            if then != After::Continue {
                after = then;
                break;
            }
        }
        let written = framing.finish(room, written);
        link.commit_output(0, written);
        link.consume(consumed);
        if let Some(ws) = &mut conn.ws {
            ws.consumed(consumed);
        }
        after
    }

    /// Handles a CONNECT: CONNACK, and the session in the client table.
    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        conn: &mut MqttConn,
        c: &zzz_core::mqtt::Connect<'_>,
        tables: &mut Tables<'_>,
        status: &mut BrokerStatus,
        bus: &mut Bus<'_>,
        me: ConnId,
        out: &mut [u8],
    ) -> (usize, After) {
        let refuse = |out: &mut [u8], code| {
            let n = write_connack(out, false, code).unwrap_or(0);
            (n, After::CloseAfterOutput)
        };
        // An empty identifier (with Clean Session: the codec refused it without) is given
        // one, unique while the connection lasts.
        let mut generated = [0u8; 24];
        let id: &[u8] = if c.client_id.is_empty() {
            let mut buf = itoa::Buffer::new();
            let digits = buf.format(me.to_bits()).as_bytes();
            generated[..4].copy_from_slice(b"zzz-");
            generated[4..4 + digits.len()].copy_from_slice(digits);
            &generated[..4 + digits.len()]
        } else {
            c.client_id.as_bytes()
        };
        if id.len() > self.capacity.client_id_bytes as usize {
            return refuse(out, ConnectReturnCode::IdentifierRejected);
        }
        let will_len = c
            .will
            .map_or(0, |w| RECORD_HEAD + w.topic.len() + w.message.len());
        if will_len > self.capacity.will_bytes as usize {
            status.clients_refused += 1;
            return refuse(out, ConnectReturnCode::ServerUnavailable);
        }
        let found = tables.find_client(id);
        let slot = match found {
            Some(i) => i,
            None => match tables.free_client() {
                Some(i) => i,
                None => {
                    status.clients_refused += 1;
                    return refuse(out, ConnectReturnCode::ServerUnavailable);
                }
            },
        };
        let old = tables.clients[slot];
        if found.is_some() && old.used == CONNECTED {
            // A takeover: the older connection is told to close, and its will published
            // (it did not DISCONNECT).
            status.takeovers += 1;
            status.clients -= 1;
            let _ = bus.send_to(ConnId::from_bits(old.conn), &[RECORD_TAKEOVER]);
            tables.clients[slot].used = FREE;
            if old.has_will != 0 {
                let len = copy_will(tables, slot);
                status.messages_in += 1;
                route(tables, status, bus, len, Pressure::Force);
            }
        }
        routing::clear_stalled(tables, status, slot);
        // Clean Session 1 discards the session it finds ([MQTT-3.1.2-6]); 0 resumes it.
        let resumed = found.is_some() && old.persistent != 0 && !c.clean_session;
        if found.is_some() && !resumed {
            status.subscriptions -= tables.unsubscribe_all(slot);
        }
        tables.clients[slot] = tables::Client::zeroed_with(me.to_bits());
        tables.clients[slot].persistent = !c.clean_session as u8;
        tables.set_id(slot, id);
        conn.persistent = !c.clean_session;
        if resumed {
            // What waited for it goes to its inbox, taken once its CONNACK is out; what was
            // in flight is sent again first.
            tables.clients[slot].store_len = old.store_len;
            session::resume(conn, tables, status, bus, me, slot);
        }
        if let Some(w) = c.will {
            let n = self.capacity.will_bytes as usize;
            let area = &mut tables.wills[slot * n..(slot + 1) * n];
            let flags = w.qos.bits() | if w.retain { RECORD_RETAIN } else { 0 };
            let len = Record::write(area, flags, w.topic.as_bytes(), w.message).unwrap_or(0);
            tables.clients[slot].has_will = (len > 0) as u8;
            tables.clients[slot].will_len = len as u16;
        }
        status.clients += 1;
        conn.phase = Phase::Connected;
        conn.connected = true;
        conn.client = slot as u32;
        conn.keep_alive_ms = c.keep_alive as u64 * 1500;
        // Session present: a persistent session resumed ([MQTT-3.2.2-2], [MQTT-3.2.2-1]).
        let n = write_connack(out, resumed, ConnectReturnCode::Accepted).unwrap_or(0);
        (n, After::Continue)
    }

    /// Handles a packet of a connected client.
    #[allow(clippy::too_many_arguments)]
    fn packet(
        &mut self,
        conn: &mut MqttConn,
        packet: Packet<'_>,
        tables: &mut Tables<'_>,
        status: &mut BrokerStatus,
        bus: &mut Bus<'_>,
        me: ConnId,
        now: Instant,
        out: &mut [u8],
    ) -> (usize, After) {
        let client = conn.client as usize;
        match packet {
            Packet::Publish(p) => {
                if let Delivery::ExactlyOnce(id) = p.delivery {
                    // Clients keep up to 20 QoS 2 messages in flight by default (mosquitto,
                    // paho): the table takes `MAX_INFLIGHT`, whatever our own sending limit.
                    match conn.receiving(id.get(), MAX_INFLIGHT) {
                        Some(true) => {}
                        // A duplicate: already delivered; only the PUBREC is owed again.
                        Some(false) => {
                            let n = write_ack(out, PacketType::Pubrec, id).unwrap_or(0);
                            return (n, After::Continue);
                        }
                        // More than `MAX_INFLIGHT` QoS 2 messages under way from one client:
                        // a defined end.
                        None => return (0, After::CloseNow),
                    }
                }
                let flags = p.delivery.qos().bits() | if p.retain { RECORD_RETAIN } else { 0 };
                match Record::write(tables.record, flags, p.topic.as_bytes(), p.payload) {
                    Some(n) => {
                        if route(tables, status, bus, n, Pressure::Wait { from: me })
                            == Routed::Wait
                        {
                            let waited = conn.stalled_since.get_or_insert(now);
                            if now < waited.after_ms(self.stall_ms) {
                                routing::mark_stalled(tables, status, client);
                                return (0, After::Wait);
                            }
                            // Waited long enough: it goes now, and so do the next ones while
                            // the receiver has no room.
                            route(tables, status, bus, n, Pressure::Force);
                        } else {
                            conn.stalled_since = None;
                        }
                    }
                    None => {
                        // Too long for an inbox; a retained one is still kept if it fits.
                        status.dropped += 1;
                        if p.retain {
                            let topic = p.topic.as_bytes();
                            retain(&mut tables.retained, status, topic, p.payload, flags & 3);
                        }
                    }
                }
                routing::clear_stalled(tables, status, client);
                status.messages_in += 1;
                let n = match p.delivery {
                    Delivery::AtMostOnce => 0,
                    Delivery::AtLeastOnce(id) => {
                        write_ack(out, PacketType::Puback, id).unwrap_or(0)
                    }
                    Delivery::ExactlyOnce(id) => {
                        conn.received(id.get());
                        if conn.persistent {
                            // In the session's store too, for a connection that takes the
                            // session over (if the store has room; else only here).
                            let _ = tables.store(client).push(Kept::Received, id.get(), &[]);
                        }
                        write_ack(out, PacketType::Pubrec, id).unwrap_or(0)
                    }
                };
                (n, After::Continue)
            }
            Packet::Puback(id) => {
                if conn.acknowledged(id.get(), Awaiting::Puback) && conn.persistent {
                    tables.store(client).acknowledge(id.get(), Kept::Puback);
                }
                (0, After::Continue)
            }
            Packet::Pubcomp(id) => {
                if conn.acknowledged(id.get(), Awaiting::Pubcomp) && conn.persistent {
                    tables.store(client).acknowledge(id.get(), Kept::Pubcomp);
                }
                (0, After::Continue)
            }
            // PUBREL answers PUBREC whether or not the message was still in flight (a
            // PUBREC sent again after a PUBREL was lost), [MQTT-4.3.3-1].
            Packet::Pubrec(id) => {
                if conn.acknowledged(id.get(), Awaiting::Pubrec) && conn.persistent {
                    let mut store = tables.store(client);
                    store.advance(id.get(), Kept::Pubrec, Kept::Pubcomp);
                }
                let n = write_ack(out, PacketType::Pubrel, id).unwrap_or(0);
                (n, After::Continue)
            }
            Packet::Pubrel(id) => {
                conn.released(id.get());
                if conn.persistent {
                    tables.store(client).acknowledge(id.get(), Kept::Received);
                }
                let n = write_ack(out, PacketType::Pubcomp, id).unwrap_or(0);
                (n, After::Continue)
            }
            Packet::Subscribe(s) => {
                // The SUBACK is written first with placeholder codes: they are its last
                // bytes, one per filter, set as each filter is handled.
                let count = s.filters.count();
                let Ok(n) = write_suback(out, s.packet_id, s.filters.map(|_| SubackCode::Failure))
                else {
                    return (0, After::CloseNow);
                };
                let codes = &mut out[n - count..n];
                // Bounded: the packet's filters.
                for ((filter, qos), code) in s.filters.zip(codes.iter_mut()) {
                    let granted = qos;
                    let f = filter.as_bytes();
                    let added = if f.len() <= self.capacity.topic_bytes as usize {
                        tables.subscribe(client, f, granted.bits())
                    } else {
                        None
                    };
                    let Some(added) = added else {
                        status.subscriptions_refused += 1;
                        *code = SubackCode::Failure.byte();
                        continue;
                    };
                    status.subscriptions += added as u32;
                    *code = SubackCode::Granted(granted).byte();
                    send_retained(tables, bus, me, filter, granted.bits());
                }
                (n, After::Continue)
            }
            Packet::Unsubscribe(u) => {
                // Bounded: the packet's filters.
                for filter in u.filters {
                    if let Some(i) = tables.find_sub(client, filter.as_bytes()) {
                        tables.subs[i] = bytemuck::Zeroable::zeroed();
                        status.subscriptions -= 1;
                    }
                }
                (
                    write_unsuback(out, u.packet_id).unwrap_or(0),
                    After::Continue,
                )
            }
            Packet::Pingreq => (write_pingresp(out).unwrap_or(0), After::Continue),
            Packet::Disconnect => {
                // The will is discarded at once ([MQTT-3.14.4-3]), not when the connection's
                // close completes: a CONNECT taking the session over meanwhile must not
                // publish it.
                conn.disconnected = true;
                tables.clients[client].has_will = 0;
                (0, After::CloseAfterOutput)
            }
            // A second CONNECT, what only a server sends, or QoS 2 acks for messages never sent.
            _ => (0, After::CloseNow),
        }
    }

    /// Writes the records waiting in the inbox as PUBLISH packets, while the output has room
    /// and (for QoS 1) the in-flight table too. Returns whether the session was taken over.
    fn deliver<S: BrokerState>(&self, conn: &mut MqttConn, link: &mut Link<'_, '_, S>) -> bool {
        if conn.resend > 0 {
            // A resumed session's messages in flight go first, all of them.
            session::resend(conn, link, self.capacity);
            if conn.resend > 0 {
                return false;
            }
        }
        let (capacity, client, framing) = (self.capacity, conn.client as usize, conn.framing());
        let record_len = link.config().topics.max_message as usize;
        let (mut out, mut dropped, mut taken_over, mut taken) = (0u64, 0u64, false, 0u32);
        // Bounded: each turn takes a record, or stops; a record takes at least 1 byte of an
        // inbox of `inbox_bytes`.
        for _ in 0..link.config().topics.inbox_bytes as usize + 1 {
            let nothing_queued = !link.output_queued();
            let (mut missed, mut woken) = (0, false);
            let delivery = link.write_next_message_keeping(|message, room, shared| {
                missed = message.missed;
                let Some(record) = Record::read(message.data) else {
                    return Some(0);
                };
                if record.flags & RECORD_TAKEOVER != 0 {
                    taken_over = true;
                    return Some(0);
                }
                if record.flags & RECORD_WAKE != 0 {
                    woken = true; // It woke this connection to read again: no room made.
                    return Some(0);
                }
                let qos = record.flags & 3;
                if qos >= 1 && conn.inflight_len >= capacity.inflight as u8 {
                    return None; // Backpressure: it waits in the inbox for a PUBACK.
                }
                let id = if qos >= 1 { conn.next_id() } else { 0 };
                let (delivery, awaiting) = match (core::num::NonZeroU16::new(id), qos) {
                    (Some(id), 1) => (Delivery::AtLeastOnce(id), Awaiting::Puback),
                    (Some(id), _) => (Delivery::ExactlyOnce(id), Awaiting::Pubrec),
                    (None, _) => (Delivery::AtMostOnce, Awaiting::Puback),
                };
                let retain = record.flags & RECORD_RETAIN != 0;
                let packet_room = room.get_mut(framing.reserve()..).unwrap_or_default();
                let written = session::write_publish(packet_room, delivery, false, retain, &record);
                let Some(n) = written else {
                    if nothing_queued {
                        // It can never fit the send buffer: dropped rather than stall.
                        dropped += 1;
                        return Some(0);
                    }
                    return None;
                };
                if qos >= 1 && conn.persistent {
                    // A copy until it is acknowledged, to send again if the client comes
                    // back; while the store is full of them, the message waits. One that
                    // could never fit goes without.
                    let mut tables = Tables::new(shared, capacity, record_len);
                    let mut store = tables.store(client);
                    let kept = session::kept(awaiting);
                    if !store.push(kept, id, message.data) && !store.is_empty() {
                        return None;
                    }
                }
                if qos >= 1 {
                    conn.inflight[conn.inflight_len as usize] = Inflight { id, awaiting };
                    conn.inflight_len += 1;
                }
                out += 1;
                Some(framing.finish(room, n))
            });
            if delivery != zzz_core::server::Delivery::Written {
                break;
            }
            // What the inbox dropped before this message counts once, when it is taken.
            dropped += missed;
            taken += !core::mem::take(&mut woken) as u32;
            if taken_over {
                break;
            }
        }
        let mut parts = link.split();
        let status = parts.state.broker();
        status.messages_out += out;
        status.dropped += dropped;
        if taken > 0 {
            // Room was made: the publishers waiting for it try again.
            let mut tables = Tables::new(parts.shared, self.capacity, record_len);
            routing::wake_stalled(&mut tables, status, &mut parts.bus);
        }
        taken_over
    }

    /// Whether this connection still owns its session (else another took it over).
    fn owns_session<S>(&self, conn: &MqttConn, link: &mut Link<'_, '_, S>) -> bool {
        let me = link.bus().me().to_bits();
        let record_len = link.config().topics.max_message as usize;
        let tables = Tables::new(link.shared(), self.capacity, record_len);
        let c = tables.clients[conn.client as usize];
        c.used == CONNECTED && c.conn == me
    }
}

impl<S: BrokerState> Protocol<S> for Mqtt {
    type Conn = MqttConn;

    fn shared_bytes(&self, config: &Config) -> usize {
        self.capacity.memory(config.topics.max_message as usize)
    }

    fn open(&mut self, link: &mut Link<'_, '_, S>) -> MqttConn {
        assert!(
            link.config().topics.inbox_bytes > 0,
            "the MQTT broker delivers through inboxes: set Config::topics.inbox_bytes"
        );
        link.want_input(InputTarget::Buffer { limit: None });
        let now = link.now().monotonic;
        link.set_deadline(Some(now.after_ms(self.connect_ms)));
        let mut conn = MqttConn::new(now);
        if link.switched_in() {
            // Upgraded from HTTP ([`websocket::upgrade`]): packets come in WebSocket frames.
            conn.ws = Some(WsStream::new(link.config().recv_buffer as u64));
        }
        conn
    }

    fn progress(&mut self, conn: &mut MqttConn, link: &mut Link<'_, '_, S>) {
        if conn.phase == Phase::Closing {
            return;
        }
        if conn.phase == Phase::Connected && !self.owns_session(conn, link) {
            conn.phase = Phase::Closing;
            return link.close_now();
        }
        link.compact_output();
        link.compact_input();
        if let Some(ws) = &mut conn.ws {
            ws.write_pong(link);
            match ws.deframe(link) {
                WsInput::Open => ws.write_pong(link),
                WsInput::Close(code) => {
                    ws.write_close(link, code);
                    conn.phase = Phase::Closing;
                    return link.close_after_output();
                }
                WsInput::Closed => {
                    conn.phase = Phase::Closing;
                    return link.close_after_output();
                }
            }
        }
        match self.serve(conn, link) {
            After::Continue | After::Wait => {}
            After::CloseAfterOutput => {
                conn.phase = Phase::Closing;
                if let Some(ws) = &mut conn.ws {
                    ws.write_close(link, CloseCode::NORMAL);
                }
                return link.close_after_output();
            }
            After::CloseNow => return link.close_now(),
        }
        if conn.phase == Phase::Connected
            && self.deliver(conn, link)
            && !self.owns_session(conn, link)
        {
            conn.phase = Phase::Closing;
            return link.close_now();
        }
        if link.peer_eof() && !conn.waiting {
            // Gone without DISCONNECT: its will is published when it closes. (What it sent
            // before is served first: a PUBLISH waiting for room still goes.)
            return link.close_after_output();
        }
        let deadline = match conn.phase {
            Phase::Connecting => link.accepted_at().after_ms(self.connect_ms),
            // Its packets wait unread: the keep-alive waits too.
            _ if conn.waiting => conn
                .stalled_since
                .unwrap_or(link.now().monotonic)
                .after_ms(self.stall_ms),
            _ if conn.keep_alive_ms > 0 => conn.last_packet.after_ms(conn.keep_alive_ms),
            _ => Instant(u64::MAX),
        };
        link.set_deadline((deadline.0 != u64::MAX).then_some(deadline));
        if conn.phase == Phase::Connected {
            link.proven();
        }
        link.set_idle(link.input().is_empty() && !link.output_queued());
        link.compact_input();
        let room_to_answer =
            (link.send_pending() as usize) + 1024 <= link.config().send_buffer as usize;
        let room_to_receive = (link.input_end() as usize) < link.config().recv_buffer as usize;
        let pong_owed = conn.ws.as_ref().is_some_and(|w| w.pong_owed());
        if room_to_answer && room_to_receive && !pong_owed {
            link.want_input(InputTarget::Buffer { limit: None });
        }
    }

    fn timeout(&mut self, conn: &mut MqttConn, link: &mut Link<'_, '_, S>) {
        if conn.phase == Phase::Connected && conn.waiting {
            // A publisher has waited `stall_ms` for room: its message goes now.
            return self.progress(conn, link);
        }
        // No CONNECT in time, or 1.5 times the keep-alive without a packet: its will is
        // published when it closes.
        link.close_now();
    }

    fn drain(&mut self, conn: &mut MqttConn, link: &mut Link<'_, '_, S>) {
        if let Some(ws) = &mut conn.ws {
            ws.write_close(link, CloseCode::GOING_AWAY);
        }
        link.close_after_output();
    }

    fn closed(&mut self, conn: &mut MqttConn, link: &mut Link<'_, '_, S>) {
        if !conn.connected {
            return;
        }
        if !self.owns_session(conn, link) {
            return; // Never connected, or taken over (that CONNECT published the will).
        }
        if conn.persistent {
            session::keep_on_close(conn, link, self.capacity);
        }
        let record_len = link.config().topics.max_message as usize;
        let parts = link.split();
        let mut tables = Tables::new(parts.shared, self.capacity, record_len);
        let status = parts.state.broker();
        let mut bus = parts.bus;
        let i = conn.client as usize;
        status.clients -= 1;
        routing::clear_stalled(&mut tables, status, i);
        let will = tables.clients[i];
        if will.persistent != 0 {
            // Its subscriptions stay, and its QoS 1 and 2 messages queue until it is back.
            tables.clients[i].used = OFFLINE;
            tables.clients[i].conn = 0;
        } else {
            status.subscriptions -= tables.unsubscribe_all(i);
            tables.clients[i].used = FREE;
        }
        if will.has_will != 0 && !conn.disconnected {
            let len = copy_will(&mut tables, i);
            status.messages_in += 1;
            route(&mut tables, status, &mut bus, len, Pressure::Force);
        }
    }
}

impl tables::Client {
    fn zeroed_with(conn: u64) -> tables::Client {
        let mut c: tables::Client = bytemuck::Zeroable::zeroed();
        c.conn = conn;
        c.used = CONNECTED;
        c
    }
}

#[cfg(test)]
mod tests;
