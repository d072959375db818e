//! The MQTT broker as the oracle knows it: written from MQTT 3.1.1 and the limits the broker
//! documents (`zzz_apps::mqtt`'s doc comments, [`crate::app::MQTT_CAPACITY`]), never from its
//! code.
//!
//! **Time.** The oracle sees the server after every event the simulator tells it (numbered
//! from 1), not inside one: what a packet did is known to have happened in an event, and
//! within one event the order between two connections is not known (the order on one
//! connection is: it handles its packets in the order they arrived). A [`When`] is what is
//! known of a happening: the events it lies between, whether it surely happened, and its
//! place in its connection's stream. A packet the server answers (CONNECT, SUBSCRIBE, a QoS 1
//! or 2 PUBLISH, ...) happened in the event its answer was written; one it does not answer (a
//! QoS 0 PUBLISH, DISCONNECT) between the event it arrived and the next answer on its
//! connection (or the connection's close, and then perhaps never). However late: a PUBLISH
//! waits unread while a receiver's inbox is full (up to `Mqtt::stall_ms`, or until a receiver
//! takes messages), and nothing after it on its connection is handled before it. Every judgement asks
//! whether some order consistent with that is right ([`surely_before`]); when nothing is
//! ambiguous, that is exactly one order.
//!
//! **State.** The client table (identifiers, each with its session; connected or offline),
//! the sessions (their subscriptions with when each was added and removed, their connections
//! with when each attached and detached, an offline session's queue), every message
//! published (a client's PUBLISH or a will) with when it was routed. The table and the count
//! of subscriptions follow the server's answers exactly, so the broker's own gauges
//! ([`zzz_apps::mqtt::BrokerStatus`]) must equal the model's after every event.

use std::collections::{BTreeMap, BTreeSet};

use crate::app::MQTT_CAPACITY;
use crate::mqtt_session::{Flight, STORE_ENTRY_HEAD};
use crate::mqtt_wire::{ConnectSpec, matches};

/// What is known of when something happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    /// It happened in this event or later.
    pub lo: u64,
    /// If it happened, it happened in this event or earlier (`u64::MAX`: not known yet).
    pub hi: u64,
    /// It surely happened.
    pub sure: bool,
    /// The connection (client index) and packet index it belongs to, if any: on one
    /// connection, packets are handled in order.
    pub at: Option<(usize, usize)>,
}

/// An event that is not yet: a happening that never happened.
pub const NEVER: u64 = u64::MAX;

impl When {
    /// Something the server surely did in event `e` (for packet `at`, if any).
    pub fn exact(e: u64, at: Option<(usize, usize)>) -> When {
        When {
            lo: e,
            hi: e,
            sure: true,
            at,
        }
    }
}

/// Whether `a` surely happened before `b`, if `b` happened: earlier on the same connection,
/// or surely done in an event before any `b` could be in.
pub fn surely_before(a: &When, b: &When) -> bool {
    match (a.at, b.at) {
        (Some((ca, sa)), Some((cb, sb))) if ca == cb => sa < sb,
        _ => a.sure && a.hi < b.lo,
    }
}

/// Whether `a` may have happened before `b` (both assumed to happen).
pub fn may_precede(a: &When, b: &When) -> bool {
    a.lo != NEVER && !surely_before(b, a)
}

/// Where a message comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A PUBLISH: its connection (client index) and packet index.
    Packet(usize, usize),
    /// The will of this connection, published as `When` says (if `possible`).
    Will(usize),
}

/// A message published (or perhaps published).
#[derive(Clone, Debug)]
pub struct Msg {
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// Its QoS.
    pub qos: u8,
    /// RETAIN.
    pub retain: bool,
    /// Where it comes from.
    pub source: Source,
    /// A will: when it was published (`lo == NEVER` while not; `possible` false when it must
    /// not be).
    pub will_when: Option<When>,
    /// A will that may be published (its connection did not surely DISCONNECT first); a
    /// QoS 2 message a client sent again after resuming its session that the broker may take
    /// for new (it perhaps never had it, or perhaps no longer kept its identifier).
    pub possible: bool,
    /// A QoS 2 message sent again after a resume: the original, its message.
    pub resent_of: Option<usize>,
    /// Such a message the broker surely takes for new (it never had the original).
    pub surely_new: bool,
}

impl Msg {
    /// Bytes of its record in an inbox: flags, topic length, topic, payload.
    pub fn record_len(&self) -> usize {
        3 + self.topic.len() + self.payload.len()
    }

    /// Whether an inbox can hold it (a longer one is dropped, `Topics::max_message`).
    pub fn routable(&self, max_message: usize) -> bool {
        self.record_len() <= max_message
    }

    /// Whether the retained table can hold it (topic and payload, `retained_bytes`).
    pub fn retainable(&self) -> bool {
        !self.payload.is_empty()
            && self.topic.len() + self.payload.len() <= MQTT_CAPACITY.retained_bytes as usize
    }
}

/// One subscription of a session.
#[derive(Clone, Debug)]
pub struct Sub {
    /// Its filter.
    pub filter: String,
    /// Its granted QoS.
    pub qos: u8,
    /// When it was added (or its QoS set).
    pub added: When,
    /// When it was removed (or replaced), if it was.
    pub removed: Option<When>,
}

/// A connection attached to a session.
#[derive(Clone, Debug)]
pub struct Attach {
    /// The connection (client index).
    pub conn: usize,
    /// Its CONNACK.
    pub start: When,
    /// Its close, or the takeover, if it came.
    pub end: Option<When>,
    /// It ended by a takeover (what its inbox held is lost).
    pub taken: bool,
}

/// Whether a message sent to an offline session fits its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Surely queued.
    Surely,
    /// Perhaps.
    Maybe,
    /// Surely dropped.
    Never,
}

/// A session: its subscriptions, its connections, its offline queue.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Its client identifier.
    pub id: String,
    /// Clean Session 0: it outlives its connections.
    pub persistent: bool,
    /// Every subscription it ever had.
    pub subs: Vec<Sub>,
    /// Its connections, in order.
    pub attach: Vec<Attach>,
    /// When it was discarded, if it was.
    pub ended: Option<When>,
    /// Messages routed to it while offline: (message, QoS it gets, fit, the index of the
    /// connection that gets them, its next), oldest first.
    pub queue: Vec<(usize, u8, Fit, usize)>,
    /// Bytes its store surely and perhaps holds while it is away.
    pub queue_bytes: (u32, u32),
    /// The last route to it while offline: when, and the source connection (two routes
    /// from two connections in an order not known leave the queue's contents unknown: no
    /// `Never` after that).
    pub last_route: Option<(When, Option<usize>)>,
    /// Its queue's lower bound is no longer known.
    pub queue_unsure: bool,
    /// What its store carries of the messages in flight to it when its last connection
    /// ended ([`crate::mqtt_session`]).
    pub carried: Vec<Flight>,
    /// Messages it received (without DUP, not retained).
    pub delivered: BTreeSet<usize>,
    /// The last packet index delivered per (publisher connection, topic).
    pub order: BTreeMap<(usize, String), usize>,
}

impl Session {
    /// Its subscriptions active at some moment (`None`: still active).
    pub fn active(&self) -> impl Iterator<Item = &Sub> {
        self.subs.iter().filter(|s| s.removed.is_none())
    }
}

/// The broker as the oracle knows it.
#[derive(Debug, Default)]
pub struct MqttModel {
    /// The event being observed (1 for the first).
    pub event: u64,
    /// Client identifiers in the table, and their sessions.
    pub table: BTreeMap<String, usize>,
    /// Every session.
    pub sessions: Vec<Session>,
    /// Every message.
    pub msgs: Vec<Msg>,
    /// Messages by tag (`p{n}.{step}:`, `w{n}:`).
    pub by_tag: BTreeMap<Vec<u8>, Vec<usize>>,
    /// Subscriptions held now.
    pub subs: u32,
    /// Subscriptions held at the start of this event.
    pub subs_at_event: u32,
    /// Changes to the subscription count in this event, per connection: (own so far, bound
    /// of additions, bound of removals).
    pub sub_moves: BTreeMap<usize, (i64, u32, u32)>,
    /// The most each connection whose answers this event wrote may add to and remove from the
    /// subscription count in this event, judged from those answers before any is applied
    /// (so that a connection judged first is not taken to have seen the later ones' moves).
    pub sub_pending: BTreeMap<usize, (u32, u32)>,
    /// The longest record an inbox takes.
    pub max_message: usize,
}

/// What a CONNECT deserves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnackOwed {
    /// Refused with one of these codes (more than one when several rules apply).
    Refused(Vec<u8>),
    /// Accepted, with this session present flag.
    Accepted(bool),
}

impl MqttModel {
    /// An empty broker whose inboxes take records of `max_message` bytes.
    pub fn new(max_message: usize) -> MqttModel {
        MqttModel {
            max_message,
            ..MqttModel::default()
        }
    }

    /// A new event begins.
    pub fn next_event(&mut self) {
        self.event += 1;
        self.subs_at_event = self.subs;
        self.sub_moves.clear();
        self.sub_pending.clear();
    }

    /// Clients connected now.
    pub fn connected(&self) -> u32 {
        self.table
            .values()
            .filter(|&&s| {
                self.sessions[s]
                    .attach
                    .last()
                    .is_some_and(|a| a.end.is_none())
            })
            .count() as u32
    }

    /// The session connection `conn` is attached to now, if any.
    pub fn attached(&self, conn: usize) -> Option<usize> {
        self.table.values().copied().find(|&s| {
            let a = self.sessions[s].attach.last();
            a.is_some_and(|a| a.conn == conn && a.end.is_none())
        })
    }

    /// What a CONNECT with `c` deserves now. Refusals by form (protocol level, an empty
    /// identifier without Clean Session) come from the codec, first; then an identifier too
    /// long (0x02), a will too long or a full table (0x03), in an order the broker does not
    /// document.
    pub fn connack_owed(&self, c: &ConnectSpec) -> ConnackOwed {
        if let Some(code) = crate::workload::refused_by_form(c) {
            return ConnackOwed::Refused(vec![code]);
        }
        let mut codes = Vec::new();
        if c.client_id.len() > MQTT_CAPACITY.client_id_bytes as usize {
            codes.push(2);
        }
        if c.will.as_ref().is_some_and(|w| {
            3 + w.topic.len() + w.message.len() > MQTT_CAPACITY.will_bytes as usize
        }) {
            codes.push(3);
        }
        let found = self.found(c);
        if found.is_none() && self.table.len() >= MQTT_CAPACITY.clients as usize {
            codes.push(3);
        }
        if !codes.is_empty() {
            codes.dedup();
            return ConnackOwed::Refused(codes);
        }
        let resumed = found.is_some_and(|s| self.sessions[s].persistent) && !c.clean;
        ConnackOwed::Accepted(resumed)
    }

    /// The session in the table for `c`'s identifier (an empty one is given a fresh one).
    fn found(&self, c: &ConnectSpec) -> Option<usize> {
        if c.client_id.is_empty() {
            return None;
        }
        self.table.get(&c.client_id).copied()
    }

    /// Connection `conn`'s CONNECT (packet `k`) was accepted in this event: the session it
    /// takes over, resumes or starts, and its will. Returns the connection it took the session
    /// from, if any.
    pub fn accept(&mut self, conn: usize, k: usize, c: &ConnectSpec) -> Option<usize> {
        let now = When::exact(self.event, Some((conn, k)));
        let found = self.found(c);
        let mut taken_from = None;
        if let Some(s) = found {
            let last = self.sessions[s].attach.last_mut();
            if let Some(a) = last.filter(|a| a.end.is_none()) {
                a.end = Some(now);
                a.taken = true;
                taken_from = Some(a.conn);
            }
        }
        let resumed = found.filter(|&s| self.sessions[s].persistent && !c.clean);
        if let (Some(s), None) = (found, resumed) {
            self.discard(s, now, conn);
        }
        let s = match resumed {
            Some(s) => s,
            None => {
                self.sessions.push(Session {
                    id: c.client_id.clone(),
                    persistent: !c.clean,
                    ..Session::default()
                });
                self.sessions.len() - 1
            }
        };
        // An empty identifier is given one of the broker's, unique (`zzz-` and a number): a
        // key no client identifier equals.
        let key = match c.client_id.as_str() {
            "" => format!("\0{conn}"),
            id => id.to_string(),
        };
        self.sessions[s].id = key.clone();
        self.table.insert(key, s);
        let sess = &mut self.sessions[s];
        sess.attach.push(Attach {
            conn,
            start: now,
            end: None,
            taken: false,
        });
        taken_from
    }

    /// Session `s` is discarded at `when` (by connection `by`, for the subscription count).
    fn discard(&mut self, s: usize, when: When, by: usize) {
        let sess = &mut self.sessions[s];
        sess.ended = Some(when);
        let mut n = 0;
        for sub in sess.subs.iter_mut().filter(|x| x.removed.is_none()) {
            sub.removed = Some(when);
            n += 1;
        }
        self.subs -= n;
        let moves = self.sub_moves.entry(by).or_default();
        moves.0 -= n as i64;
        moves.2 += n;
        if self.table.get(&sess.id) == Some(&s) {
            self.table.remove(&sess.id);
        }
    }

    /// Connection `conn`'s close completed in this event: its session goes offline, or is
    /// discarded. Returns whether it owned a session.
    pub fn closed(&mut self, conn: usize) -> bool {
        let Some(s) = self.attached(conn) else {
            return false;
        };
        let now = When::exact(self.event, None);
        let sess = &mut self.sessions[s];
        if let Some(a) = sess.attach.last_mut() {
            a.end = Some(now);
        }
        if !sess.persistent {
            self.discard(s, now, conn);
        }
        true
    }

    /// Bounds of the subscription count when connection `conn` next changes it in this
    /// event: its own changes are ordered, the others' in this event may come before or
    /// after.
    pub fn sub_count_bounds(&self, conn: usize) -> (i64, i64) {
        let own = self.sub_moves.get(&conn).map_or(0, |m| m.0);
        let base = self.subs_at_event as i64 + own;
        let (mut up, mut down) = (0i64, 0i64);
        let others: BTreeSet<usize> = self
            .sub_moves
            .keys()
            .chain(self.sub_pending.keys())
            .copied()
            .filter(|&c| c != conn)
            .collect();
        for c in others {
            let m = self.sub_moves.get(&c).copied().unwrap_or_default();
            let p = self.sub_pending.get(&c).copied().unwrap_or_default();
            up += m.1.max(p.0) as i64;
            down += m.2.max(p.1) as i64;
        }
        (base - down, base + up)
    }

    /// Session `s` (of connection `conn`, packet `k`) subscribes to `filter` at `qos` now.
    /// Returns whether that took a new entry.
    pub fn subscribe(&mut self, s: usize, conn: usize, k: usize, filter: &str, qos: u8) -> bool {
        let now = When::exact(self.event, Some((conn, k)));
        let sess = &mut self.sessions[s];
        let old = sess
            .subs
            .iter_mut()
            .find(|x| x.removed.is_none() && x.filter == filter);
        let new = old.is_none();
        if let Some(old) = old {
            old.removed = Some(now);
        }
        sess.subs.push(Sub {
            filter: filter.to_string(),
            qos,
            added: now,
            removed: None,
        });
        if new {
            self.subs += 1;
            let m = self.sub_moves.entry(conn).or_default();
            m.0 += 1;
            m.1 += 1;
        }
        new
    }

    /// Session `s` unsubscribes from `filter` now.
    pub fn unsubscribe(&mut self, s: usize, conn: usize, k: usize, filter: &str) {
        let now = When::exact(self.event, Some((conn, k)));
        let sess = &mut self.sessions[s];
        if let Some(old) = sess
            .subs
            .iter_mut()
            .find(|x| x.removed.is_none() && x.filter == filter)
        {
            old.removed = Some(now);
            self.subs -= 1;
            let m = self.sub_moves.entry(conn).or_default();
            m.0 -= 1;
            m.2 += 1;
        }
    }

    /// The QoS a message of `qos` on `topic` routed at `at` may be sent to session `s` with:
    /// every value that some order allows (empty: no subscription may match), and whether a
    /// match is sure (a subscription surely active throughout), with the least QoS then owed.
    pub fn route_qos(
        &self,
        s: usize,
        topic: &str,
        qos: u8,
        at: &When,
    ) -> (BTreeSet<u8>, Option<u8>) {
        let sess = &self.sessions[s];
        let mut possible = BTreeSet::new();
        let mut surely: Option<u8> = None;
        for sub in sess.subs.iter().filter(|x| matches(&x.filter, topic)) {
            let may =
                may_precede(&sub.added, at) && sub.removed.is_none_or(|r| may_precede(at, &r));
            if !may {
                continue;
            }
            possible.insert(qos.min(sub.qos));
            let sure =
                surely_before(&sub.added, at) && sub.removed.is_none_or(|r| surely_before(at, &r));
            if sure {
                surely = Some(surely.map_or(sub.qos, |q: u8| q.max(sub.qos)));
            }
        }
        // Overlapping subscriptions: the highest granted QoS among those that match
        // ([MQTT-3.3.5-1]); with one sure, nothing below it.
        if let Some(min) = surely {
            possible.retain(|&q| q >= qos.min(min));
        }
        (possible, surely.map(|g| qos.min(g)))
    }

    /// Message `m` was surely or perhaps routed at `at` (from connection `from`): every
    /// offline session it may reach queues it (QoS 1 and 2 only, while its queue has room).
    pub fn route_offline(&mut self, m: usize, at: When, from: Option<usize>) {
        let msg = &self.msgs[m];
        if !msg.routable(self.max_message) {
            return;
        }
        let need = (STORE_ENTRY_HEAD + msg.record_len()) as u32;
        let (topic, qos) = (msg.topic.clone(), msg.qos);
        let cap = MQTT_CAPACITY.queue_bytes;
        for s in 0..self.sessions.len() {
            let sess = &self.sessions[s];
            let offline = sess.persistent
                && sess.ended.is_none()
                && sess
                    .attach
                    .last()
                    .is_some_and(|a| a.end.is_some_and(|e| may_precede(&e, &at)));
            if !offline {
                continue;
            }
            let (possible, sure) = self.route_qos(s, &topic, qos, &at);
            let q = possible.iter().copied().max().unwrap_or(0);
            if q == 0 {
                continue;
            }
            let detached = sess.attach.last().and_then(|a| a.end).expect("offline");
            let sure = sure.is_some_and(|q| q > 0) && at.sure && surely_before(&detached, &at);
            let sess = &mut self.sessions[s];
            if sess
                .last_route
                .is_some_and(|(w, c)| c != from && !surely_before(&w, &at))
            {
                sess.queue_unsure = true;
            }
            sess.last_route = Some((at, from));
            let (lo, hi) = sess.queue_bytes;
            let fit = if hi + need <= cap && sure {
                Fit::Surely
            } else if lo + need > cap && !sess.queue_unsure {
                Fit::Never
            } else {
                Fit::Maybe
            };
            sess.queue_bytes = match fit {
                Fit::Surely => (lo + need, hi + need),
                Fit::Maybe => (lo, (hi + need).min(cap)),
                Fit::Never => (lo, hi),
            };
            if sess.queue_unsure {
                sess.queue_bytes.0 = 0;
            }
            let next = sess.attach.len();
            sess.queue.push((m, q, fit, next));
        }
    }

    /// Whether message `m` may be the retained message of its topic when packet `sub` (a
    /// SUBSCRIBE) was handled: retained and holdable, perhaps handled before it, and not
    /// surely replaced (or cleared) in between.
    pub fn may_be_retained(
        &self,
        m: usize,
        sub: &When,
        when_of: impl Fn(usize) -> Option<When>,
    ) -> bool {
        let msg = &self.msgs[m];
        let Some(at) = when_of(m) else {
            return false;
        };
        if !msg.retain || !msg.retainable() || !may_precede(&at, sub) {
            return false;
        }
        // Surely replaced: by one that surely happened (a will perhaps published, at a
        // takeover, is ordered on the taking connection but perhaps never was).
        !self.msgs.iter().enumerate().any(|(o, other)| {
            o != m
                && other.retain
                && other.topic == msg.topic
                && when_of(o)
                    .is_some_and(|w| w.sure && surely_before(&at, &w) && surely_before(&w, sub))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_on_one_connection_and_across_events() {
        let a = When::exact(3, Some((1, 0)));
        let b = When {
            lo: 2,
            hi: NEVER,
            sure: false,
            at: Some((1, 4)),
        };
        assert!(surely_before(&a, &b), "same connection, earlier packet");
        let c = When::exact(3, Some((2, 0)));
        assert!(
            !surely_before(&a, &c) && !surely_before(&c, &a),
            "same event"
        );
        assert!(surely_before(&When::exact(2, None), &c));
        assert!(may_precede(&c, &a) && may_precede(&a, &c));
    }
}
