//! The MQTT oracle's judgement of one delivery (a PUBLISH the server wrote), routed or
//! retained, and the drops it reveals (see [`crate::mqtt_oracle`]).

use std::collections::BTreeSet;

use crate::app::MQTT_CAPACITY;
use crate::mqtt_client::Sent;
use crate::mqtt_model::{Fit, NEVER, Source, When, may_precede, surely_before};
use crate::mqtt_oracle::{MqttOracle, SentPacket, tag};
use crate::mqtt_session::{Flight, Presence, Stage};
use crate::mqtt_wire::{ServerPacket, matches};

impl MqttOracle {
    /// Judges the delivery `p` (a PUBLISH) on connection `c`.
    pub(crate) fn deliver(&mut self, c: usize, p: ServerPacket) -> Result<(), String> {
        let Some(s) = self.conns[&c].session else {
            return Err(format!("a {} on a connection without a session", p.name()));
        };
        if matches!(
            p,
            ServerPacket::Pubrel(_) | ServerPacket::Publish { dup: true, .. }
        ) {
            return self.judge_resent(c, &p);
        }
        self.resends_done(c)?;
        let ServerPacket::Publish {
            qos,
            retain,
            id,
            topic,
            payload,
            ..
        } = p
        else {
            unreachable!("a PUBLISH")
        };
        let mut candidates: Vec<usize> = match tag(&payload) {
            Some(t) => self.model.by_tag.get(t).cloned().unwrap_or_default(),
            None => (0..self.model.msgs.len())
                .filter(|&m| self.model.msgs[m].payload == payload)
                .collect(),
        };
        // Messages alike (untagged: empty payloads) are taken surely published first (one
        // taken for a perhaps-published one would leave it a gap the broker never dropped),
        // then in the order they were routed, as far as it is known: an inbox delivers in that
        // order.
        candidates.sort_by_key(|&m| {
            self.when_of(m)
                .map_or((true, NEVER, NEVER), |w| (!w.sure, w.hi, w.lo))
        });
        let mut why = format!(
            "a PUBLISH of {topic:?} {:?} nobody published",
            quote(&payload)
        );
        let mut found = None;
        for m in candidates {
            let msg = &self.model.msgs[m];
            if msg.topic != topic || msg.payload != payload {
                why = format!("message {:?} arrived altered: {topic:?}", quote(&payload));
                continue;
            }
            let verdict = if retain {
                self.judge_retained(c, m, qos)
            } else {
                self.judge_routed(c, s, m, qos)
            };
            match verdict {
                Ok(()) => {
                    found = Some(m);
                    break;
                }
                Err(e) => why = e,
            }
        }
        let Some(m) = found else {
            return Err(why);
        };
        self.hits.push(match (retain, qos) {
            (true, _) => "mqtt.delivered.retained",
            (false, 0) => "mqtt.delivered.qos0",
            (false, 1) => "mqtt.delivered.qos1",
            _ => "mqtt.delivered.qos2",
        });
        if matches!(self.model.msgs[m].source, Source::Will(_)) {
            self.hits.push("mqtt.delivered.will");
        }
        if qos > 0 {
            self.in_flight(c, id, m, qos, retain)?;
        }
        Ok(())
    }

    /// Message `m` goes in flight to connection `c` with identifier `id`, at `qos`.
    fn in_flight(
        &mut self,
        c: usize,
        id: u16,
        m: usize,
        qos: u8,
        retain: bool,
    ) -> Result<(), String> {
        let st = self.conns.get_mut(&c).expect("known");
        let packets = &st.packets;
        if st
            .flights
            .iter()
            .any(|f| f.live && f.id == id && !acked(f, packets))
        {
            return Err(format!(
                "identifier {id} used again while in flight (its acknowledgement not received)"
            ));
        }
        // The broker gives an identifier no message in flight has (those its session carried
        // included): any earlier one with it was surely acknowledged, and is gone.
        let gone = |f: &Flight| f.id == id;
        let carried_gone = st.flights[..st.resend_len]
            .iter()
            .filter(|f| gone(f))
            .count();
        st.flights.retain(|f| !gone(f));
        st.resend_len -= carried_gone;
        st.resend_from = st.resend_from.min(st.resend_len);
        st.flights.push(Flight {
            m,
            id,
            qos,
            retain,
            present: Presence::Sure,
            stage: Stage::Publish,
            live: true,
            pubrec: None,
            completing: None,
        });
        self.count_in_flight(c)
    }

    /// At most `inflight` messages are in flight to connection `c`.
    pub(crate) fn count_in_flight(&self, c: usize) -> Result<(), String> {
        let st = &self.conns[&c];
        let n = st
            .flights
            .iter()
            .filter(|f| f.live && !acked(f, &st.packets))
            .count();
        if n > MQTT_CAPACITY.inflight as usize {
            return Err(format!(
                "{n} QoS 1 and 2 messages in flight, at most {}",
                MQTT_CAPACITY.inflight
            ));
        }
        Ok(())
    }

    /// The most deliveries the broker may have dropped (`BrokerStatus::dropped`): one per
    /// message published too long for an inbox; one per message and session it may have been
    /// sent to (to an inbox, where it may be overwritten, or an offline queue, which may be
    /// full), per retained message a SUBSCRIBE may have sent, per takeover (its notice takes a
    /// place in an inbox too); less every one delivered.
    pub fn drop_bound(&self) -> u64 {
        let mut bound = self.takeovers;
        for m in 0..self.model.msgs.len() {
            let Some(at) = self.when_of(m) else {
                continue;
            };
            let msg = &self.model.msgs[m];
            if !msg.routable(self.model.max_message) {
                bound += 1;
                continue;
            }
            for (s, sess) in self.model.sessions.iter().enumerate() {
                let queued = sess.queue.iter().any(|q| q.0 == m);
                let direct = sess.attach.iter().any(|a| {
                    may_precede(&a.start, &at) && a.end.is_none_or(|end| may_precede(&at, &end))
                }) && !self
                    .model
                    .route_qos(s, &msg.topic, msg.qos, &at)
                    .0
                    .is_empty();
                bound += (queued || direct) as u64;
            }
        }
        for (&c, st) in &self.conns {
            for (k, p) in st.packets.iter().enumerate() {
                let (Sent::Subscribe { filters, .. }, Some(done)) = (&p.sent, p.done) else {
                    continue;
                };
                let sub = When::exact(done, Some((c, k)));
                for (j, (f, _)) in filters.iter().enumerate() {
                    if p.codes.get(j).is_none_or(|&code| code == 0x80) {
                        continue;
                    }
                    let topics: BTreeSet<&str> = (0..self.model.msgs.len())
                        .filter(|&m| matches(f, &self.model.msgs[m].topic))
                        .filter(|&m| self.model.may_be_retained(m, &sub, |x| self.when_of(x)))
                        .map(|m| self.model.msgs[m].topic.as_str())
                        .collect();
                    bound += topics.len() as u64;
                }
            }
        }
        // A persistent session's connection closing keeps the identifiers of its client's QoS
        // 2 messages whose PUBREL was not handled: one the store has no room for is dropped.
        for (&c, st) in &self.conns {
            let persistent = st
                .session
                .is_some_and(|s| self.model.sessions[s].persistent);
            if !persistent {
                continue;
            }
            let ids: BTreeSet<u16> = st
                .packets
                .iter()
                .enumerate()
                .filter_map(|(k, p)| match &p.sent {
                    Sent::Publish { spec, id, .. } if spec.qos == 2 => st.when(c, k).map(|_| *id),
                    _ => None,
                })
                .filter(|id| {
                    !st.packets
                        .iter()
                        .any(|p| p.sent == Sent::Pubrel(*id) && p.done.is_some())
                })
                .collect();
            bound += ids.len() as u64;
        }
        let delivered: usize = self
            .model
            .sessions
            .iter()
            .map(|s| s.delivered.len())
            .sum::<usize>()
            + self
                .conns
                .values()
                .map(|c| c.retained_used.len())
                .sum::<usize>();
        bound.saturating_sub(delivered as u64)
    }

    /// Bounds of `BrokerStatus::messages_in` (PUBLISH packets received, QoS 2 duplicates
    /// and the one past the QoS 2 receive limit aside, and wills published) and of
    /// `BrokerStatus::routed` (those whose record fits an inbox): what surely and what
    /// perhaps happened.
    pub fn published_bounds(&self) -> [(u64, u64); 2] {
        let (mut inn, mut routed) = ((0, 0), (0, 0));
        for m in 0..self.model.msgs.len() {
            let Some(w) = self.when_of(m) else {
                continue;
            };
            let fits = self.model.msgs[m].routable(self.model.max_message);
            inn.1 += 1;
            inn.0 += w.sure as u64;
            routed.1 += fits as u64;
            routed.0 += (w.sure && fits) as u64;
        }
        [inn, routed]
    }

    /// Why message `m`'s delivery is wrong when it was never published.
    fn unpublished(&self, m: usize, label: &str) -> String {
        let msg = &self.model.msgs[m];
        if let Some(o) = msg.resent_of {
            return format!(
                "message {label} delivered again: its client sent it again (DUP) after \
                 resuming its session, whose broker had it ({}) and kept its identifier \
                 awaiting PUBREL, so it must not be delivered again [MQTT-4.3.3-2]",
                self.label(o)
            );
        }
        match (msg.source, msg.will_when) {
            (Source::Will(c), Some(_)) if !msg.possible => format!(
                "message {label} delivered: the will of c{c}, whose DISCONNECT the server had \
                 handled (it shut the connection down for it) before its session ended, so the \
                 will must never be published [MQTT-3.14.4-3]"
            ),
            _ => format!("message {label} delivered but never published"),
        }
    }

    /// A name for message `m` in failures.
    pub(crate) fn label(&self, m: usize) -> String {
        let msg = &self.model.msgs[m];
        let tag = tag(&msg.payload)
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_else(|| "(empty)".into());
        match msg.source {
            Source::Packet(c, k) => format!("{tag} (c{c} packet {k}, {:?})", msg.topic),
            Source::Will(c) => format!("{tag} (the will of c{c}, {:?})", msg.topic),
        }
    }

    /// Message `m` delivered without RETAIN at `qos` on connection `c` of session `s`: routed
    /// to the session while it had a matching subscription, directly to this connection or
    /// through the session's offline queue. Applied only when right.
    pub(crate) fn judge_routed(
        &mut self,
        c: usize,
        s: usize,
        m: usize,
        qos: u8,
    ) -> Result<(), String> {
        let e = self.model.event;
        let label = self.label(m);
        let msg = &self.model.msgs[m];
        if !msg.routable(self.model.max_message) {
            return Err(format!(
                "message {label} delivered, but its record ({} bytes) is longer than an inbox \
                 takes ({}): it is dropped",
                msg.record_len(),
                self.model.max_message
            ));
        }
        let Some(mut at) = self.when_of(m) else {
            return Err(self.unpublished(m, &label));
        };
        if at.lo > e {
            return Err(format!("message {label} delivered before it was published"));
        }
        at.hi = at.hi.min(e);
        let sess = &self.model.sessions[s];
        let Some(ai) = sess.attach.iter().position(|a| a.conn == c) else {
            return Err(format!(
                "message {label} delivered to a connection of no session"
            ));
        };
        let attach = &sess.attach[ai];
        let direct =
            may_precede(&attach.start, &at) && attach.end.is_none_or(|end| may_precede(&at, &end));
        let (mut allowed, sure_qos) = if direct {
            self.model.route_qos(s, &msg.topic, msg.qos, &at)
        } else {
            (BTreeSet::new(), None)
        };
        let mut queued = false;
        for &(qm, q, fit, next) in &sess.queue {
            let reaches = next == ai || (next < ai && self.carries_on(s, next, ai));
            if qm == m && reaches && fit != Fit::Never {
                allowed.insert(q);
                queued = true;
            }
        }
        // Left in an earlier connection's inbox at its close, at QoS 1 or 2: queued for the
        // next.
        let mut left_over = false;
        for (aj, a) in sess.attach[..ai].iter().enumerate() {
            let routed_there =
                may_precede(&a.start, &at) && a.end.is_none_or(|end| may_precede(&at, &end));
            if routed_there && self.carries_on(s, aj, ai) {
                let (q, _) = self.model.route_qos(s, &msg.topic, msg.qos, &at);
                for q in q.into_iter().filter(|&q| q > 0) {
                    allowed.insert(q);
                    left_over = true;
                }
            }
        }
        if allowed.is_empty() {
            return Err(format!(
                "message {label} delivered to session {:?}, which had no subscription matching \
                 it on this connection (or in its offline queue) when it was routed (events \
                 {}..={}; subscriptions {:?}; connections {:?}; queued {:?})",
                sess.id,
                at.lo,
                at.hi,
                sess.subs
                    .iter()
                    .map(|x| (&x.filter, x.qos, x.added.lo, x.removed.map(|r| r.lo)))
                    .collect::<Vec<_>>(),
                sess.attach
                    .iter()
                    .map(|a| (a.conn, a.start.lo, a.end.map(|e| e.lo), a.taken))
                    .collect::<Vec<_>>(),
                sess.queue
                    .iter()
                    .filter(|q| q.0 == m)
                    .map(|q| (q.1, q.2, q.3))
                    .collect::<Vec<_>>()
            ));
        }
        if !allowed.contains(&qos) {
            return Err(format!(
                "message {label} (QoS {}) delivered at QoS {qos}, owed {allowed:?}",
                msg.qos
            ));
        }
        if sess.delivered.contains(&m) {
            return Err(format!(
                "message {label} delivered twice to session {:?}",
                sess.id
            ));
        }
        let key = match msg.source {
            Source::Packet(pc, pk) => Some(((pc, msg.topic.clone()), pk)),
            Source::Will(_) => None,
        };
        if let Some((key, pk)) = &key
            && let Some(&last) = sess.order.get(key)
            && last > *pk
        {
            return Err(format!(
                "message {label} delivered after c{}'s packet {last} on the same topic, which \
                 it sent later: out of order",
                key.0
            ));
        }
        let sure_direct = at.sure
            && sure_qos.is_some()
            && surely_before(&attach.start, &at)
            && attach.end.is_none_or(|end| surely_before(&at, &end));
        let gaps = if sure_direct {
            self.gaps_before(c, s, ai, m, &at)
        } else {
            Vec::new()
        };
        let sess = &mut self.model.sessions[s];
        sess.delivered.insert(m);
        if let Some((key, pk)) = key {
            sess.order.insert(key, pk);
        }
        if queued && !direct {
            self.hits.push("mqtt.delivered.queued");
        }
        if left_over && !queued && !direct {
            self.hits.push("mqtt.delivered.left-over");
        }
        if !gaps.is_empty() {
            self.hits.push("mqtt.dropped");
            self.gaps += gaps.len() as u64;
            let st = self.conns.get_mut(&c).expect("known");
            st.gap_counted.extend(gaps);
        }
        Ok(())
    }

    /// The messages surely sent to connection `c`'s inbox (session `s`, its connection `ai`)
    /// before message `m` (routed at `at`), never received and not yet counted.
    fn gaps_before(&self, c: usize, s: usize, ai: usize, m: usize, at: &When) -> Vec<usize> {
        let sess = &self.model.sessions[s];
        let attach = &sess.attach[ai];
        let st = &self.conns[&c];
        (0..self.model.msgs.len())
            .filter(|&o| o != m && !sess.delivered.contains(&o) && !st.gap_counted.contains(&o))
            .filter(|&o| {
                let other = &self.model.msgs[o];
                let Some(w) = self.when_of(o) else {
                    return false;
                };
                other.routable(self.model.max_message)
                    && w.sure
                    && surely_before(&w, at)
                    && surely_before(&attach.start, &w)
                    && attach.end.is_none_or(|end| surely_before(&w, &end))
                    && self
                        .model
                        .route_qos(s, &other.topic, other.qos, &w)
                        .1
                        .is_some()
            })
            .collect()
    }

    /// Message `m` delivered with RETAIN at `qos` on connection `c`: the retained message of
    /// its topic (perhaps) when a SUBSCRIBE of this connection matched it, once per filter
    /// and topic. Applied only when right.
    pub(crate) fn judge_retained(&mut self, c: usize, m: usize, qos: u8) -> Result<(), String> {
        let label = self.label(m);
        let msg = &self.model.msgs[m];
        if !msg.retain || !msg.retainable() {
            return Err(format!(
                "message {label} delivered as retained, but it was never retained (RETAIN {}, \
                 {} bytes of topic and payload, at most {})",
                msg.retain,
                msg.topic.len() + msg.payload.len(),
                MQTT_CAPACITY.retained_bytes
            ));
        }
        if self.when_of(m).is_none() {
            return Err(self.unpublished(m, &label));
        }
        // This connection's SUBSCRIBEs, and at QoS 1 or 2 those of the session's earlier
        // connections whose inbox was carried on to this one.
        let mut from = vec![c];
        if let Some(s) = self.conns[&c].session
            && qos > 0
        {
            let sess = &self.model.sessions[s];
            if let Some(ai) = sess.attach.iter().position(|a| a.conn == c) {
                from.extend(
                    (0..ai)
                        .filter(|&aj| self.carries_on(s, aj, ai))
                        .map(|aj| sess.attach[aj].conn),
                );
            }
        }
        let mut slot = None;
        'conns: for &sc in &from {
            let st = &self.conns[&sc];
            for (k, p) in st.packets.iter().enumerate() {
                let (Sent::Subscribe { filters, .. }, Some(done)) = (&p.sent, p.done) else {
                    continue;
                };
                if p.codes.len() != filters.len() {
                    continue;
                }
                let sub = When::exact(done, Some((sc, k)));
                for (j, (f, _)) in filters.iter().enumerate() {
                    let code = p.codes[j];
                    let key = (k, j, msg.topic.clone());
                    if code == 0x80
                        || !matches(f, &msg.topic)
                        || st.retained_used.contains(&key)
                        || qos != msg.qos.min(code)
                        || !self.model.may_be_retained(m, &sub, |x| self.when_of(x))
                    {
                        continue;
                    }
                    slot = Some((sc, key));
                    break 'conns;
                }
            }
        }
        let Some((sc, key)) = slot else {
            return Err(format!(
                "retained message {label} delivered at QoS {qos}, but no SUBSCRIBE of this \
                 connection (or, at QoS 1 or 2, of an earlier one of its session whose inbox \
                 was carried on) matched it while it may have been its topic's retained message \
                 (or each that did has had it)"
            ));
        };
        if sc != c {
            self.hits.push("mqtt.delivered.retained-left-over");
        }
        self.conns
            .get_mut(&sc)
            .expect("known")
            .retained_used
            .insert(key);
        Ok(())
    }
}

/// Whether the client's acknowledgement completing `f` reached the server.
fn acked(f: &Flight, packets: &[SentPacket]) -> bool {
    f.completing.is_some_and(|k| packets[k].arrived.is_some())
}

/// At most this much of a payload is quoted.
fn quote(bytes: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
    if bytes.len() > 40 {
        format!("{shown}...")
    } else {
        shown
    }
}
