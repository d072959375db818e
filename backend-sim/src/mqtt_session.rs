//! The MQTT oracle's model of a persistent session across its connections (see
//! [`crate::mqtt_oracle`]), from the broker's documented store (`zzz_apps::mqtt`'s session
//! and store docs):
//!
//! - **In flight.** Every QoS 1 or 2 message sent to a Clean Session 0 connection is kept in
//!   the session's store (an entry of [`STORE_ENTRY_HEAD`] bytes and its record) until it is
//!   acknowledged; one whose entry could never fit the store goes without. When the
//!   connection ends (its close, or a takeover), what was surely or perhaps still
//!   unacknowledged is **carried** ([`Flight`]): as a PUBLISH (its PUBACK or PUBREC not
//!   handled), a PUBREL (its PUBREC handled, its PUBCOMP not), or either (its PUBREC perhaps
//!   handled); surely there, or perhaps (its acknowledgement arrived but perhaps was not
//!   handled: it may wait behind a PUBLISH waiting for room, or the connection may close
//!   first).
//! - **Sent again.** A connection resuming the session (CONNACK session present 1) is sent
//!   the carried messages again first, in the store's order: a PUBLISH with DUP, its
//!   identifier, topic, payload, QoS and RETAIN as first sent, or a PUBREL with its
//!   identifier (`[MQTT-4.4.0-1]`). None surely carried is skipped, nothing else is sent
//!   with DUP, and no new message comes before every one surely carried
//!   (`MqttOracle::judge_resent`, `MqttOracle::resends_done`).
//! - **Left over.** At a close (not a takeover), the QoS 1 and 2 messages still in the
//!   connection's inbox are queued for the session's next connection ahead of those routed
//!   while it is away, with the identifiers of the client's QoS 2 messages whose PUBREL had
//!   not come; what does not fit is dropped. A message routed to one connection may so be
//!   delivered (without DUP) on a later one (`MqttOracle::carries_on`).

use crate::app::MQTT_CAPACITY;
use crate::mqtt_client::Sent;
use crate::mqtt_model::may_precede;
use crate::mqtt_oracle::{ConnState, MqttOracle};
use crate::mqtt_wire::ServerPacket;

/// Bytes of a store entry's header, before its record (`zzz_apps::mqtt::Capacity::queue_bytes`:
/// each entry is 10 bytes plus topic and payload, the record being 3 of them).
pub const STORE_ENTRY_HEAD: usize = 7;

/// Whether a carried message is in the session's store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Surely: it is sent again.
    Sure,
    /// Perhaps (its acknowledgement perhaps handled).
    Maybe,
}

/// What a message in flight awaits, so what sending it again writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Its PUBACK or PUBREC: a PUBLISH with DUP.
    Publish,
    /// Its PUBCOMP (its PUBREC came, PUBREL went): a PUBREL.
    Pubrel,
    /// Either: its PUBREC perhaps handled.
    Either,
}

/// A QoS 1 or 2 message sent to a connection, in the order of its session's store.
#[derive(Clone, Debug)]
pub struct Flight {
    /// The message.
    pub m: usize,
    /// Its packet identifier.
    pub id: u16,
    /// The QoS it was sent at.
    pub qos: u8,
    /// RETAIN as it was sent.
    pub retain: bool,
    /// Whether it is in the store when this connection starts (new ones: surely).
    pub present: Presence,
    /// What it awaits when this connection starts (new ones: their PUBLISH's answer).
    pub stage: Stage,
    /// It was sent, or sent again, on this connection: its acknowledgements come on it.
    pub live: bool,
    /// The client's PUBREC of it on this connection.
    pub pubrec: Option<usize>,
    /// The client's PUBACK or PUBCOMP of it on this connection.
    pub completing: Option<usize>,
}

/// Whether a client's packet was handled by some event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handled {
    Surely,
    Perhaps,
    Not,
}

/// Whether packet `k` of connection `c` was handled by event `e` (before it, when `strict`).
fn handled(st: &ConnState, c: usize, k: Option<usize>, e: u64, strict: bool) -> Handled {
    let Some(k) = k else {
        return Handled::Not;
    };
    if st.packets[k]
        .done
        .is_some_and(|d| d < e || (!strict && d == e))
    {
        return Handled::Surely;
    }
    match st.when(c, k) {
        Some(w) if w.lo <= e => Handled::Perhaps,
        _ => Handled::Not,
    }
}

impl MqttOracle {
    /// Connection `c` of session `s` ended in event `e` (`closed`: its close; else a takeover
    /// in that event): what its session's store carries on, and the bounds of the bytes it
    /// holds before the messages routed while the session is away.
    pub(crate) fn end_of_connection(&mut self, c: usize, s: usize, e: u64, closed: bool) {
        let cap = MQTT_CAPACITY.queue_bytes as usize;
        let Some(st) = self.conns.get(&c) else { return };
        let sess = &self.model.sessions[s];
        if !sess.persistent {
            return;
        }
        let strict = !closed;
        let mut carried = Vec::new();
        for f in &st.flights {
            if !f.live {
                carried.push(f.clone());
                continue;
            }
            if STORE_ENTRY_HEAD + self.model.msgs[f.m].record_len() > cap {
                continue; // It never had a copy.
            }
            let present = match handled(st, c, f.completing, e, strict) {
                Handled::Surely => continue,
                Handled::Perhaps => Presence::Maybe,
                Handled::Not => f.present,
            };
            let stage = match (f.qos, f.stage) {
                (1, _) => Stage::Publish,
                (_, Stage::Pubrel) => Stage::Pubrel,
                _ => match handled(st, c, f.pubrec, e, strict) {
                    Handled::Surely => Stage::Pubrel,
                    Handled::Perhaps => Stage::Either,
                    Handled::Not => Stage::Publish,
                },
            };
            carried.push(Flight {
                present,
                stage,
                live: false,
                pubrec: None,
                completing: None,
                ..f.clone()
            });
        }
        let bytes = |f: &Flight| STORE_ENTRY_HEAD + self.model.msgs[f.m].record_len();
        let lo: usize = carried
            .iter()
            .filter(|f| f.present == Presence::Sure)
            .map(bytes)
            .sum();
        let mut hi: usize = carried.iter().map(bytes).sum();
        if closed {
            // The identifiers of the client's QoS 2 messages, then the inbox's QoS 1 and 2
            // records.
            let qos2 = st
                .packets
                .iter()
                .filter(|p| matches!(&p.sent, Sent::Publish { spec, .. } if spec.qos == 2))
                .count();
            hi += STORE_ENTRY_HEAD * qos2 + self.left_over_bound(c, s, e);
        }
        let sess = &mut self.model.sessions[s];
        sess.queue_bytes = (lo.min(cap) as u32, hi.min(cap) as u32);
        sess.queue_unsure = false;
        sess.last_route = None;
        sess.carried = carried;
    }

    /// The most bytes of store entries connection `c` (of session `s`, closing in event `e`)
    /// may leave from its inbox: every QoS 1 or 2 message its session did not receive that
    /// may have been routed to it, queued for it, or sent by one of its SUBSCRIBEs (retained).
    fn left_over_bound(&self, c: usize, s: usize, e: u64) -> usize {
        let sess = &self.model.sessions[s];
        let Some(ai) = sess.attach.iter().rposition(|a| a.conn == c) else {
            return 0;
        };
        let start = sess.attach[ai].start;
        let entry = |m: usize| STORE_ENTRY_HEAD + self.model.msgs[m].record_len();
        let mut bytes = 0;
        for m in 0..self.model.msgs.len() {
            let msg = &self.model.msgs[m];
            if sess.delivered.contains(&m) || !msg.routable(self.model.max_message) {
                continue;
            }
            let queued = sess.queue.iter().any(|q| q.0 == m && q.3 <= ai);
            let routed = self.when_of(m).is_some_and(|at| {
                at.lo <= e
                    && may_precede(&start, &at)
                    && self
                        .model
                        .route_qos(s, &msg.topic, msg.qos, &at)
                        .0
                        .iter()
                        .any(|&q| q > 0)
            });
            if queued || routed {
                bytes += entry(m);
            }
        }
        // Retained messages its SUBSCRIBEs granted at QoS 1 or 2 may have sent, and the ones
        // earlier connections' SUBSCRIBEs sent (left over in turn).
        let granted: Vec<&str> = sess.attach[..=ai]
            .iter()
            .filter_map(|a| self.conns.get(&a.conn))
            .flat_map(|x| x.packets.iter())
            .filter_map(|p| match &p.sent {
                Sent::Subscribe { filters, .. } => Some((filters, &p.codes)),
                _ => None,
            })
            .flat_map(|(filters, codes)| {
                filters
                    .iter()
                    .zip(codes.iter())
                    .filter(|(_, code)| (1..=2).contains(*code))
                    .map(|((f, _), _)| f.as_str())
            })
            .collect();
        for m in 0..self.model.msgs.len() {
            let msg = &self.model.msgs[m];
            if msg.retain
                && msg.qos > 0
                && msg.retainable()
                && granted
                    .iter()
                    .any(|f| crate::mqtt_wire::matches(f, &msg.topic))
            {
                bytes += entry(m) * granted.len();
            }
        }
        bytes
    }

    /// Connection `c` resumed session `s`: what it carries is owed again first.
    pub(crate) fn resume(&mut self, c: usize, s: usize) {
        let carried = self.model.sessions[s].carried.clone();
        if !carried.is_empty() {
            self.hits.push("mqtt.resume.in-flight");
        }
        let st = self.conns.get_mut(&c).expect("known");
        st.resend_len = carried.len();
        st.resend_from = 0;
        st.flights = carried;
    }

    /// Whether PUBREL `id` on connection `c` may be one sent again (not an answer): the
    /// identifier of a message carried at the PUBREL stage not yet sent again (the
    /// identifiers in flight are distinct, so an answer's is not among them).
    pub(crate) fn is_resent_pubrel(&self, c: usize, id: u16) -> bool {
        let st = &self.conns[&c];
        st.flights[st.resend_from..st.resend_len]
            .iter()
            .any(|f| f.id == id && f.stage != Stage::Publish)
    }

    /// Judges `p` (a PUBLISH with DUP, or a PUBREL answering nothing) on connection `c`: the
    /// next carried message sent again, none surely carried skipped, as it was first sent.
    pub(crate) fn judge_resent(&mut self, c: usize, p: &ServerPacket) -> Result<(), String> {
        let (id, pubrel) = match p {
            ServerPacket::Publish { id, .. } => (*id, false),
            ServerPacket::Pubrel(id) => (*id, true),
            _ => unreachable!("a PUBLISH or PUBREL"),
        };
        let what = if pubrel { "PUBREL" } else { "PUBLISH with DUP" };
        let same = |f: &Flight| match p {
            ServerPacket::Publish {
                qos,
                retain,
                topic,
                payload,
                ..
            } => {
                let msg = &self.model.msgs[f.m];
                f.stage != Stage::Pubrel
                    && msg.topic == *topic
                    && msg.payload == *payload
                    && f.qos == *qos
                    && f.retain == *retain
            }
            _ => f.stage != Stage::Publish,
        };
        let st = &self.conns[&c];
        let mut found = None;
        for i in st.resend_from..st.resend_len {
            let f = &st.flights[i];
            if f.id == id && same(f) {
                found = Some(i);
                break;
            }
            if f.present == Presence::Sure {
                return Err(format!(
                    "{what} {id} sent again where {} (identifier {}, {:?}) was owed: it was \
                     surely in flight to the session when its last connection ended, and those \
                     are sent again first, in order, as first sent [MQTT-4.4.0-1]",
                    self.label(f.m),
                    f.id,
                    f.stage
                ));
            }
        }
        let Some(i) = found else {
            return Err(format!(
                "{what} {id} ({p:?}), but no message was in flight to the session with that \
                 identifier (at that stage, with that content) when its last connection \
                 ended, or it was sent again already [MQTT-3.3.1-1]"
            ));
        };
        self.hits.push(if pubrel {
            "mqtt.resent.pubrel"
        } else {
            "mqtt.resent.publish"
        });
        let st = self.conns.get_mut(&c).expect("known");
        let f = &mut st.flights[i];
        f.live = true;
        f.present = Presence::Sure;
        f.stage = if pubrel {
            Stage::Pubrel
        } else {
            Stage::Publish
        };
        st.resend_from = i + 1;
        self.count_in_flight(c)
    }

    /// A new message on connection `c`: every carried one was sent again before it, unless
    /// perhaps acknowledged already.
    pub(crate) fn resends_done(&mut self, c: usize) -> Result<(), String> {
        let st = self.conns.get_mut(&c).expect("known");
        let left = &st.flights[st.resend_from..st.resend_len];
        if let Some(f) = left.iter().find(|f| f.present == Presence::Sure) {
            let (m, id, stage) = (f.m, f.id, f.stage);
            return Err(format!(
                "a new message before {} (identifier {id}, {stage:?}) was sent again, which was \
                 surely in flight to the session when its last connection ended [MQTT-4.4.0-1]",
                self.label(m)
            ));
        }
        st.resend_from = st.resend_len;
        Ok(())
    }

    /// Whether what session `s` had in its inbox on its connection `from` (by attach index)
    /// may reach its connection `to`: every connection from `from` to before `to` ended by
    /// its close (a takeover loses the inbox), and the session outlives them.
    pub(crate) fn carries_on(&self, s: usize, from: usize, to: usize) -> bool {
        let sess = &self.model.sessions[s];
        sess.persistent && from < to && sess.attach[from..to].iter().all(|a| !a.taken)
    }

    /// Client `i` sends again, with DUP, the QoS 2 message `id` an earlier connection of its
    /// session sent and did not release. The broker took the original (if it had it) and kept
    /// its identifier at that connection's end, if its store had room: then it must not
    /// deliver it again; otherwise it is a new message to it. Returns the original's message,
    /// whether the broker may take it for new, and whether surely.
    pub(crate) fn resent_by_client(&mut self, i: usize, id: u16) -> (Option<usize>, bool, bool) {
        let cap = MQTT_CAPACITY.queue_bytes as usize;
        let unknown = (None, true, false);
        let Some(s) = self.conns.get(&i).and_then(|st| st.session) else {
            return unknown;
        };
        let sess = &self.model.sessions[s];
        let Some(ai) = sess
            .attach
            .iter()
            .position(|a| a.conn == i)
            .filter(|&ai| ai > 0)
        else {
            return unknown;
        };
        let before = &sess.attach[ai - 1];
        let (j, taken) = (before.conn, before.taken);
        let Some(e) = before.end.map(|w| w.lo) else {
            return unknown;
        };
        let Some(stj) = self.conns.get(&j) else {
            return unknown;
        };
        let (mut original, mut seen, mut ids) =
            (None, Handled::Not, std::collections::BTreeSet::new());
        let rank = |h: Handled| match h {
            Handled::Not => 0,
            Handled::Perhaps => 1,
            Handled::Surely => 2,
        };
        for (k, p) in stj.packets.iter().enumerate() {
            let Sent::Publish { spec, id: x, dup } = &p.sent else {
                continue;
            };
            let h = handled(stj, j, Some(k), e, taken);
            if spec.qos == 2 && h != Handled::Not {
                ids.insert(*x);
            }
            if *x != id || spec.qos != 2 {
                continue;
            }
            if !dup {
                original = p.msg;
            }
            if rank(h) > rank(seen) {
                seen = h;
            }
        }
        let Some(original) = original else {
            // Itself sent again there: an earlier connection may have had it.
            return unknown;
        };
        let carried: usize = sess
            .carried
            .iter()
            .map(|f| STORE_ENTRY_HEAD + self.model.msgs[f.m].record_len())
            .sum();
        let kept = carried + STORE_ENTRY_HEAD * ids.len() <= cap;
        match seen {
            Handled::Not => (Some(original), true, true),
            Handled::Surely if kept => {
                self.hits.push("mqtt.resent.by-client-kept");
                (Some(original), false, false)
            }
            _ => (Some(original), true, false),
        }
    }
}
