//! The MQTT clients' oracle: what every packet the server writes to an MQTT connection must
//! be, judged as it is written (the simulator reads the send buffers after every event), from
//! MQTT 3.1.1 and the broker's documented limits, against the model of the broker
//! ([`crate::mqtt_model`]).
//!
//! - **Form.** Every packet parses and is one a server sends ([`crate::mqtt_wire`]).
//! - **Answers.** The packets that are not PUBLISH answer the client's packets in order, each
//!   once the server had it whole: CONNACK (its code as the model says: 0x01 a protocol level
//!   other than 4, 0x02 an empty identifier without Clean Session or one too long, 0x03 a full
//!   client table or a will too long; session present exactly when a persistent session was
//!   resumed), SUBACK (the identifier, one code per filter: granted at most the QoS asked, or
//!   0x80 for a filter too long or a full table), UNSUBACK, PINGRESP, PUBACK and PUBREC
//!   (QoS 2 duplicates included), PUBCOMP, PUBREL for the client's PUBREC. Nothing answers a
//!   violation, a DISCONNECT, a refused CONNECT, or anything after them. A packet is handled
//!   in an event between its arrival and its answer, however late: a PUBLISH may wait,
//!   unread, for room in a receiver's inbox, and all after it on its connection with it.
//! - **Deliveries.** A PUBLISH carries a message some client published (or a will): its tag,
//!   topic and payload. Without RETAIN, it was routed while the receiving session had a
//!   matching subscription and was attached to this connection (or queued for it while
//!   offline, QoS 1 and 2, while its queue had room), at `min(published, highest granted)`;
//!   each message once per session (a QoS 2 duplicate is not delivered again), in the order
//!   each publisher sent on each topic, never one too long for an inbox. With RETAIN, it is
//!   a retained message a SUBSCRIBE of this connection's just matched (one per filter and
//!   topic), possibly the topic's retained message then. QoS 1 and 2 identifiers are never
//!   reused while in flight, and at most `inflight` are. A message left in an earlier
//!   connection's inbox at its close (QoS 1 or 2) may come on its session's next one.
//! - **Sent again.** A resumed session is sent again first, in order, what it had in flight
//!   when its last connection ended: PUBLISH with DUP as first sent, or PUBREL; nothing else
//!   carries DUP; a QoS 2 message its client sends again after the resume is not delivered
//!   again when the broker had it and kept its identifier ([`crate::mqtt_session`]).
//! - **Drops.** A message surely routed to this connection before one it received, and not
//!   received, was dropped: the count of such gaps never exceeds the broker's
//!   `BrokerStatus::dropped` (the full inbox drops the oldest, and counts them), and `dropped`
//!   never exceeds the most drops that can have happened ([`MqttOracle::drop_bound`]).
//! - **Counters.** The broker's `BrokerStatus` (the simulator reads it after every event):
//!   clients connected, subscriptions held, takeovers, CONNECTs and filters refused equal
//!   what its answers said; at the end, PUBLISH packets received and messages routed lie
//!   between what surely and what perhaps happened ([`MqttOracle::published_bounds`]).
//!
//! Not judged: a message owed but never delivered, unless one routed after it was (QoS 1 and
//! 2 to a connected client may be held back or dropped as the broker evolves, and what an
//! inbox held when its connection ended is lost, as the broker documents); the retained
//! messages a SUBSCRIBE is owed, and whether the retained table was full; the keep-alive
//! and CONNECT timers; answers to packets a connection never handled because it closed for
//! another reason first.
//!
//! The model's connection record and its packets live here ([`ConnState`]); the clients'
//! writing and reading side is [`MqttClient`].

use std::collections::{BTreeMap, BTreeSet};

use crate::mqtt_model::{MqttModel, Msg, NEVER, Source, When};
use crate::mqtt_session::Flight;
use crate::mqtt_wire::{ServerPacket, read_server_packet};

pub use crate::mqtt_client::{MqttClient, Owed, Sent, owed_of};

/// One packet a client wrote, as the oracle follows it.
#[derive(Clone, Debug)]
pub struct SentPacket {
    /// Where its bytes end in the client's stream.
    pub end: usize,
    /// What it is.
    pub sent: Sent,
    /// What it is owed.
    pub owed: Owed,
    /// The event in which the server had it whole.
    pub arrived: Option<u64>,
    /// The event by which the server surely handled it (a later packet was answered).
    pub done: Option<u64>,
    /// The message it published.
    pub msg: Option<usize>,
    /// A SUBSCRIBE's codes, once answered.
    pub codes: Vec<u8>,
}

/// What the oracle knows of one MQTT connection.
#[derive(Clone, Debug, Default)]
pub struct ConnState {
    /// Its packets, in order.
    pub packets: Vec<SentPacket>,
    /// The first packet whose answer has not come yet (none owed before it).
    pub(crate) next_answer: usize,
    /// Nothing after this packet is handled.
    pub closing: Option<usize>,
    /// Its session, once its CONNECT was accepted.
    pub session: Option<usize>,
    /// Its will, once accepted.
    pub will: Option<usize>,
    /// The event in which the server asked to close it.
    pub closed_at: Option<u64>,
    /// Its DISCONNECT was surely handled.
    pub disconnect_sure: bool,
    /// Every byte the server queued for it.
    pub written: Vec<u8>,
    judged: usize,
    pending: Vec<ServerPacket>,
    /// Bytes the server was told were sent.
    pub acked: usize,
    /// Bytes the client read.
    pub read: usize,
    /// The QoS 1 and 2 messages sent to it, in its session's store order: those its session
    /// carried from its last connection first (the first `resend_len`; from `resend_from` on,
    /// not sent again yet), then those sent on it.
    pub(crate) flights: Vec<Flight>,
    pub(crate) resend_from: usize,
    pub(crate) resend_len: usize,
    /// Retained messages received, by (SUBSCRIBE packet, filter, topic).
    pub(crate) retained_used: BTreeSet<(usize, usize, String)>,
    /// Messages counted as dropped on their way to this connection.
    pub(crate) gap_counted: BTreeSet<usize>,
}

impl ConnState {
    /// What is known of when packet `k` was handled; `None` if it never was.
    pub fn when(&self, conn: usize, k: usize) -> Option<When> {
        if self.closing.is_some_and(|c| k > c) {
            return None;
        }
        let p = &self.packets[k];
        let arrived = p.arrived?;
        if self.closed_at.is_some_and(|c| arrived > c) {
            return None;
        }
        let hi = p.done.or(self.closed_at).unwrap_or(NEVER);
        Some(When {
            lo: arrived,
            hi,
            sure: p.done.is_some(),
            at: Some((conn, k)),
        })
    }
}

/// The oracle of every MQTT connection, and the model of the broker.
#[derive(Debug, Default)]
pub struct MqttOracle {
    /// The broker.
    pub model: MqttModel,
    /// The connections, by client index.
    pub conns: BTreeMap<usize, ConnState>,
    /// Messages surely routed to a connection before one it received, yet never received.
    pub gaps: u64,
    /// Sessions taken over.
    pub takeovers: u64,
    /// CONNECTs refused with 0x03.
    pub refused_clients: u64,
    /// Filters refused with 0x80.
    pub refused_subs: u64,
    /// `BrokerStatus::dropped` after the last event.
    pub dropped_seen: u64,
    /// `BrokerStatus::stalls` after the last event.
    pub stalls_seen: u64,
    /// Coverage classes to count.
    pub hits: Vec<&'static str>,
}

/// The tag a payload starts with: `p{n}.{step}:` or `w{n}:`.
pub fn tag(payload: &[u8]) -> Option<&[u8]> {
    let colon = payload.iter().position(|&b| b == b':')?;
    let t = &payload[..colon + 1];
    (t.len() > 2 && matches!(t[0], b'p' | b'w')).then_some(t)
}

impl MqttOracle {
    /// An oracle for inboxes of records of `max_message` bytes.
    pub fn new(max_message: usize) -> MqttOracle {
        MqttOracle {
            model: MqttModel::new(max_message),
            ..MqttOracle::default()
        }
    }

    /// When message `m` was (or may have been) published; `None` if it never was.
    pub fn when_of(&self, m: usize) -> Option<When> {
        let msg = &self.model.msgs[m];
        match msg.source {
            Source::Packet(c, k) => {
                let st = &self.conns[&c];
                let w = st.when(c, k)?;
                // A QoS 1 or 2 PUBLISH is routed when it is answered; a refused one never.
                let w = When {
                    sure: w.sure && msg.surely_new,
                    ..w
                };
                (st.packets[k].owed != Owed::Closes && msg.possible).then_some(w)
            }
            Source::Will(_) => msg.will_when.filter(|w| msg.possible && w.lo != NEVER),
        }
    }

    /// Client `i` wrote packet `sent` ending at `end` in its stream.
    pub fn commit(&mut self, i: usize, end: usize, sent: Sent, owed: Owed) {
        let st = self.conns.entry(i).or_default();
        let k = st.packets.len();
        let mut msg = None;
        // A QoS 2 PUBLISH sent again after a resume: its original went on an earlier
        // connection.
        let cross = matches!(&sent, Sent::Publish { id, dup: true, .. }
            if !st.packets.iter().any(|p| matches!(&p.sent, Sent::Publish { id: x, .. } if x == id)));
        let resent = match &sent {
            Sent::Publish { id, .. } if cross => Some(self.resent_by_client(i, *id)),
            _ => None,
        };
        let st = self.conns.entry(i).or_default();
        match &sent {
            Sent::Publish { spec, dup, .. } if !dup || resent.is_some() => {
                let m = self.model.msgs.len();
                msg = Some(m);
                if let Some(t) = tag(&spec.payload) {
                    self.model.by_tag.entry(t.to_vec()).or_default().push(m);
                }
                let (resent_of, possible, surely_new) = resent.unwrap_or((None, true, true));
                self.model.msgs.push(Msg {
                    topic: spec.topic.clone(),
                    payload: spec.payload.clone(),
                    qos: spec.qos,
                    retain: spec.retain,
                    source: Source::Packet(i, k),
                    will_when: None,
                    possible,
                    resent_of,
                    surely_new,
                });
            }
            Sent::Puback(id) | Sent::Pubcomp(id) => {
                let live = st.flights.iter_mut().rev().find(|f| f.live && f.id == *id);
                if let Some(f) = live.filter(|f| f.completing.is_none()) {
                    f.completing = Some(k);
                }
            }
            Sent::Pubrec(id) => {
                let live = st.flights.iter_mut().rev().find(|f| f.live && f.id == *id);
                if let Some(f) = live.filter(|f| f.qos == 2 && f.pubrec.is_none()) {
                    f.pubrec = Some(k);
                }
            }
            _ => {}
        }
        if owed == Owed::Closes && st.closing.is_none() {
            st.closing = Some(k);
        }
        st.packets.push(SentPacket {
            end,
            sent,
            owed,
            arrived: None,
            done: None,
            msg,
            codes: Vec::new(),
        });
    }

    /// The server has `delivered` bytes of client `i`'s stream.
    pub fn arrived(&mut self, i: usize, delivered: usize) {
        let e = self.model.event;
        if let Some(st) = self.conns.get_mut(&i) {
            for p in st.packets.iter_mut().filter(|p| p.arrived.is_none()) {
                if p.end <= delivered {
                    p.arrived = Some(e);
                }
            }
        }
    }

    /// The server asked to close client `i`'s connection in this event;
    /// `graceful_without_cause` when it shut its sending side without the client's EOF or a
    /// shutdown of the server: a connected client's DISCONNECT is then the only cause.
    pub fn close_requested(
        &mut self,
        i: usize,
        graceful_without_cause: bool,
    ) -> Result<(), String> {
        let e = self.model.event;
        let Some(st) = self.conns.get_mut(&i) else {
            return Ok(());
        };
        if st.closed_at.is_some() {
            return Ok(());
        }
        st.closed_at = Some(e);
        if !graceful_without_cause || st.session.is_none() {
            return Ok(());
        }
        // Connected, neither its EOF nor a shutdown: only its DISCONNECT closes it so (or,
        // over WebSocket, a text frame: a Close 1003).
        let text = st
            .closing
            .is_some_and(|k| st.packets[k].sent == Sent::Violation("mqtt.ws.text"));
        if text {
            return Ok(());
        }
        let disconnect = st.packets.iter().position(|p| p.sent == Sent::Disconnect);
        match disconnect.filter(|&k| st.packets[k].arrived.is_some()) {
            Some(k) => {
                for p in st.packets[..=k].iter_mut().filter(|p| p.done.is_none()) {
                    p.done = Some(e);
                }
                st.disconnect_sure = true;
                Ok(())
            }
            None => Err(
                "the server shut down the sending side of a connected client that \
                         sent no DISCONNECT, without its EOF or a shutdown"
                    .into(),
            ),
        }
    }

    /// Client `i`'s connection closed in this event: its session goes offline or is
    /// discarded, and its will is published unless it surely DISCONNECTed.
    pub fn closed(&mut self, i: usize) {
        if let Some(s) = self.model.attached(i) {
            self.end_of_connection(i, s, self.model.event, true);
        }
        if self.model.closed(i) {
            let when = When::exact(self.model.event, None);
            self.publish_will(i, when);
        }
    }

    /// Connection `c`'s will is published at `when` (its close, or a takeover).
    pub(crate) fn publish_will(&mut self, c: usize, when: When) {
        let Some(st) = self.conns.get(&c) else { return };
        let Some(w) = st.will else { return };
        let disconnect = st.packets.iter().position(|p| p.sent == Sent::Disconnect);
        let arrived = disconnect.is_some_and(|k| {
            st.packets[k]
                .arrived
                .is_some_and(|a| st.closed_at.is_none_or(|c| a <= c))
        });
        let msg = &mut self.model.msgs[w];
        msg.possible = !st.disconnect_sure;
        msg.will_when = Some(When {
            sure: !arrived,
            ..when
        });
        if msg.possible {
            self.hits.push("mqtt.will");
            // Perhaps published, if its DISCONNECT arrived (and was perhaps handled).
            let when = msg.will_when.expect("just set");
            self.model.route_offline(w, when, None);
        }
    }

    /// The server queued `bytes` more for client `i`: the whole packets among them wait to be
    /// judged at the end of the event.
    pub fn on_written(&mut self, i: usize, bytes: &[u8]) -> Result<(), String> {
        let st = self.conns.entry(i).or_default();
        st.written.extend_from_slice(bytes);
        // Bounded: each turn takes a whole packet (at least 2 bytes), or stops.
        for _ in 0..st.written.len() {
            match read_server_packet(&st.written[st.judged..])? {
                Some((p, _)) if st.judged == 0 && !matches!(p, ServerPacket::Connack { .. }) => {
                    return Err(format!(
                        "{} as the first packet: it must be a CONNACK [MQTT-3.2.0-1]",
                        p.name()
                    ));
                }
                Some((p, n)) => {
                    st.judged += n;
                    st.pending.push(p);
                }
                None => break,
            }
        }
        Ok(())
    }

    /// Judges what every connection was written in this event: answers first (they are
    /// written as the packets are handled, before the deliveries they cause), then
    /// deliveries.
    pub fn judge_event(&mut self) -> Result<(), String> {
        let conns: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, st)| !st.pending.is_empty())
            .map(|(&c, _)| c)
            .collect();
        for &c in &conns {
            let bound = self.pending_sub_moves(c);
            self.model.sub_pending.insert(c, bound);
        }
        let mut deliveries = Vec::new();
        for &c in &conns {
            let pending = std::mem::take(&mut self.conns.get_mut(&c).expect("known").pending);
            for p in pending {
                self.hits.push(packet_class(&p));
                match p {
                    ServerPacket::Publish { .. } => deliveries.push((c, p)),
                    ServerPacket::Pubrel(id) if self.is_resent_pubrel(c, id) => {
                        deliveries.push((c, p))
                    }
                    p => self
                        .answer(c, p)
                        .map_err(|why| format!("client c{c}: {why}"))?,
                }
            }
        }
        for (c, p) in deliveries {
            self.deliver(c, p)
                .map_err(|why| format!("client c{c}: {why}"))?;
        }
        Ok(())
    }

    /// The most connection `c`'s answers written in this event may add to and remove from the
    /// subscription count: a filter per code granted, every filter of its UNSUBSCRIBEs not
    /// yet answered, and a session its accepted CONNECT may discard.
    fn pending_sub_moves(&self, c: usize) -> (u32, u32) {
        let st = &self.conns[&c];
        let (mut up, mut down) = (0u32, 0u32);
        for p in &st.pending {
            match p {
                ServerPacket::Suback { codes, .. } => {
                    up += codes.iter().filter(|&&x| x != 0x80).count() as u32;
                }
                ServerPacket::Unsuback(_) => {
                    down = st.packets[st.next_answer.min(st.packets.len())..]
                        .iter()
                        .map(|p| match &p.sent {
                            Sent::Unsubscribe { filters, .. } => filters.len() as u32,
                            _ => 0,
                        })
                        .sum();
                }
                ServerPacket::Connack { code: 0, .. } => {
                    if let Some(Sent::Connect(spec)) = st.packets.first().map(|p| &p.sent)
                        && let Some(&s) = self.model.table.get(&spec.client_id)
                    {
                        down += self.model.sessions[s].active().count() as u32;
                    }
                }
                _ => {}
            }
        }
        (up, down)
    }

    /// Whether some connection has a QoS 1 or 2 PUBLISH the server had, not yet answered, and
    /// a DISCONNECT the server had after it (so waiting behind it, if it waits for room).
    pub fn disconnect_behind_publish(&self) -> bool {
        self.conns.values().any(|st| {
            let waiting = st.packets.iter().position(|p| {
                matches!(&p.sent, Sent::Publish { spec, .. } if spec.qos > 0)
                    && p.arrived.is_some()
                    && p.done.is_none()
            });
            waiting.is_some_and(|k| {
                st.packets[k..]
                    .iter()
                    .any(|p| p.sent == Sent::Disconnect && p.arrived.is_some())
            }) && st.closed_at.is_none()
        })
    }

    /// Judges the answer `p` on connection `c`.
    fn answer(&mut self, c: usize, p: ServerPacket) -> Result<(), String> {
        let e = self.model.event;
        let st = self.conns.get_mut(&c).expect("known");
        // Bounded: one turn per packet of the stream.
        let k = loop {
            let k = st.next_answer;
            let Some(sent) = st.packets.get(k) else {
                return Err(format!("{} answers no packet", p.name()));
            };
            if st.closing.is_some_and(|x| k > x) || sent.owed == Owed::Closes {
                return Err(format!(
                    "{} after the client's {} ({}), after which nothing is answered",
                    p.name(),
                    sent.sent.name(),
                    k
                ));
            }
            if sent.owed != Owed::Nothing {
                break k;
            }
            st.next_answer += 1;
        };
        if st.packets[k].arrived.is_none() {
            return Err(format!(
                "{} answers packet {k} ({}) before the server had it whole",
                p.name(),
                st.packets[k].sent.name()
            ));
        }
        for q in st.packets[..=k].iter_mut().filter(|q| q.done.is_none()) {
            q.done = Some(e);
        }
        st.next_answer = k + 1;
        let owed = st.packets[k].owed;
        let sent = st.packets[k].sent.clone();
        let wrong = || {
            Err(format!(
                "{p:?} answers packet {k}, a {}, which is owed {owed:?}",
                sent.name()
            ))
        };
        match (owed, &p) {
            (
                Owed::Connack,
                ServerPacket::Connack {
                    session_present,
                    code,
                },
            ) => {
                let Sent::Connect(spec) = &sent else {
                    return wrong();
                };
                self.connack(c, k, spec, *session_present, *code)
            }
            (Owed::Suback(id, n), ServerPacket::Suback { id: got, codes })
                if id == *got && n == codes.len() =>
            {
                self.suback(c, k, codes)
            }
            (Owed::Unsuback(id), ServerPacket::Unsuback(got)) if id == *got => {
                let (Some(s), Sent::Unsubscribe { filters, .. }) = (st.session, &sent) else {
                    return wrong();
                };
                for f in filters {
                    self.model.unsubscribe(s, c, k, f);
                }
                Ok(())
            }
            (Owed::Pingresp, ServerPacket::Pingresp) => Ok(()),
            (Owed::Puback(id), ServerPacket::Puback(got))
            | (Owed::Pubrec(id), ServerPacket::Pubrec(got))
                if id == *got =>
            {
                let m = st.packets[k].msg;
                if let Sent::Publish { dup: true, .. } = sent {
                    self.hits.push("mqtt.qos2-duplicate-acknowledged");
                }
                // Routed once the server had it and before its acknowledgement (in the same
                // event, as the broker is now; earlier, were it to hold the answer).
                if let Some(m) = m
                    && let Some(at) = self.when_of(m)
                {
                    self.model.route_offline(m, at, Some(c));
                }
                Ok(())
            }
            (Owed::Pubcomp(id), ServerPacket::Pubcomp(got)) if id == *got => Ok(()),
            (Owed::Pubrel(id), ServerPacket::Pubrel(got)) if id == *got => Ok(()),
            _ => wrong(),
        }
    }
}

impl MqttOracle {
    /// Client `i` read `bytes`: they must be what the server wrote there.
    pub fn on_read(&mut self, i: usize, bytes: &[u8]) -> Result<(), String> {
        let st = self.conns.entry(i).or_default();
        if st.written.get(st.read..st.read + bytes.len()) != Some(bytes) {
            return Err(format!(
                "the client read {} bytes at byte {} that the server never wrote there",
                bytes.len(),
                st.read
            ));
        }
        st.read += bytes.len();
        Ok(())
    }
}

/// The coverage class of a server packet.
fn packet_class(p: &ServerPacket) -> &'static str {
    match p {
        ServerPacket::Connack { .. } => "mqtt.packet.connack",
        ServerPacket::Publish { .. } => "mqtt.packet.publish",
        ServerPacket::Puback(_) => "mqtt.packet.puback",
        ServerPacket::Pubrec(_) => "mqtt.packet.pubrec",
        ServerPacket::Pubrel(_) => "mqtt.packet.pubrel",
        ServerPacket::Pubcomp(_) => "mqtt.packet.pubcomp",
        ServerPacket::Suback { .. } => "mqtt.packet.suback",
        ServerPacket::Unsuback(_) => "mqtt.packet.unsuback",
        ServerPacket::Pingresp => "mqtt.packet.pingresp",
    }
}
