//! Accepting connections as a backend does: the listener's faults (`EMFILE`, `ECONNABORTED`),
//! a slot for each newcomer or a refusal, the backend's bounded waiting room for the refused
//! (an eager backend, as zzz-uring is), turning away those it cannot keep, and asking the
//! server to make room — with every connection the server closes for room held against the
//! overload policy ([`crate::flood`]).

use zzz_core::{AcceptError, Event, Handled, PeerAddr};

use super::Sim;
use super::conn::{Conn, State};
use crate::app::SimProtocol;
use crate::flood;
use crate::workload::{ClientKind, KvItem, Outcome};

impl Sim<'_> {
    /// The listener accepts client `i` (or fails to).
    pub(super) fn accept(&mut self, i: usize) {
        let f = self.p.faults;
        if self.rng.chance(f.accept_error) {
            if self.rng.coin() {
                self.cov.hit("fault.accept-emfile");
                tr!(self, "accept fails EMFILE; c{i} stays in the backlog");
                // The listener backs off: nothing is accepted until something else happens.
            } else {
                self.cov.hit("fault.accept-econnaborted");
                tr!(self, "accept fails ECONNABORTED; c{i} is gone");
                self.conns[i].state = State::Done;
                self.conns[i].ended = true;
            }
            return;
        }
        let protocol = match self.conns[i].script.kind {
            ClientKind::Http | ClientKind::Upgrade | ClientKind::Ws => SimProtocol::Http,
            ClientKind::Tcp => SimProtocol::Tcp,
            ClientKind::Kv => SimProtocol::Kv,
            ClientKind::Mqtt if self.mqtt_over_ws(i) => SimProtocol::Http,
            ClientKind::Mqtt => SimProtocol::Mqtt,
        };
        let peer = PeerAddr::V4([10, 0, (i >> 8) as u8, i as u8], 40_000 + i as u16);
        let index = self.recording.as_ref().map(|r| r.len());
        // The slot is mapped to its client before the operations of its opening are drained.
        self.defer_drain = true;
        let handled = self.tell(Event::Accepted { protocol, peer }, &[]);
        self.defer_drain = false;
        let result = match handled {
            None => return,
            Some(Handled::Accepted(slot)) => Ok(slot),
            Some(Handled::Refused(why)) => Err(why),
            Some(Handled::Done) => {
                self.fail("the server answered Accepted with neither a slot nor a refusal".into());
                return;
            }
        };
        let got = result.ok();
        self.digest.accept(got);
        if let (Some(rec), Some(index)) = (self.recording.as_mut(), index) {
            rec[index].accepted = got;
        }
        let was_waiting = self.conns[i].waiting;
        if was_waiting {
            self.conns[i].waiting = false;
            self.waiting -= 1;
        }
        match result {
            Ok(slot) => {
                if self.slots[slot as usize].is_some() {
                    self.fail(format!(
                        "accept returned slot {slot}, which is still in use"
                    ));
                    return;
                }
                self.slots[slot as usize] = Some(i);
                let in_use = self.slots.iter().filter(|s| s.is_some()).count();
                let pressured =
                    in_use * 100 >= self.slots.len() * self.config.pressure_percent as usize;
                let now = self.now;
                self.accepts += 1;
                let c = &mut self.conns[i];
                c.state = State::Open;
                c.slot = slot;
                c.accept_at = now;
                c.accept_seq = self.accepts;
                c.pressured = pressured;
                c.last_activity = now;
                tr!(
                    self,
                    "accept c{i} -> s{slot}{}",
                    if pressured { " (under pressure)" } else { "" }
                );
            }
            Err(AcceptError::Full) if self.p.shape.eager_accept && !was_waiting => {
                self.cov.hit("fault.accept-full");
                if self.waiting < self.p.shape.waiting_room {
                    tr!(self, "accept c{i} refused: full; it waits for a slot");
                    self.conns[i].waiting = true;
                    self.waiting += 1;
                } else {
                    tr!(
                        self,
                        "accept c{i} refused: full, and the waiting room too; turned away"
                    );
                    self.tell(Event::TurnedAway, &[]);
                    self.conns[i].state = State::Done;
                    self.conns[i].ended = true;
                }
            }
            Err(e) => {
                let class = if e == AcceptError::Full {
                    "fault.accept-full"
                } else {
                    "fault.accept-shutting-down"
                };
                self.cov.hit(class);
                tr!(self, "accept c{i} refused: {e:?}; the backend closes it");
                self.conns[i].state = State::Done;
                self.conns[i].ended = true;
            }
        }
        self.drain();
    }

    /// The backend asks the server to make room for the connections in its waiting room;
    /// what the server closes must match what it counts.
    pub(super) fn make_room(&mut self) {
        let waiting = self.waiting;
        self.made_room_at = Some(self.now);
        tr!(self, "make room for {waiting} waiting");
        let before = *self.server.stats();
        self.making_room = Some((0, 0));
        self.tell(Event::MakeRoom { waiting }, &[]);
        let Some((shed, reclaimed)) = self.making_room.take() else {
            return;
        };
        let after = *self.server.stats();
        if (after.shed - before.shed, after.reclaimed - before.reclaimed) != (shed, reclaimed) {
            self.fail(format!(
                "MakeRoom closed {shed} connections without a head and {reclaimed} idle ones, \
                 but counted {} shed and {} reclaimed",
                after.shed - before.shed,
                after.reclaimed - before.reclaimed
            ));
        }
    }

    /// The server shed connection `i` (its close was just drained): it must be the oldest
    /// without a complete first head (see [`flood`]).
    pub(super) fn judge_shed(&mut self, i: usize) {
        let mqtt = &self.mqtt;
        let candidate = |c: &Conn| {
            let first = c.script.requests.first();
            // An MQTT connection is proven by its CONNECT's acceptance.
            let connect = mqtt.conns.get(&c.id).and_then(|s| s.packets.first());
            let mqtt_head = connect
                .filter(|p| matches!(p.sent, crate::mqtt_client::Sent::Connect(_)))
                .map(|p| p.end);
            flood::Candidate {
                id: c.id,
                accept_seq: c.accept_seq,
                accept_at: c.accept_at,
                delivered: c.delivered,
                // A key-value connection proves itself with the first bytes the module consumes
                // and is surely unproven only before its first byte.
                head_end: first
                    .map(|r| r.body_start)
                    .or(c.script.kv.first().map(KvItem::consumed_at))
                    .or(c.script.upgrade_end)
                    .or(mqtt_head),
                tcp: c.script.kind == ClientKind::Tcp,
                invalid_first: c.script.kind == ClientKind::Kv
                    || (c.script.kind == ClientKind::Mqtt && mqtt_head.is_none())
                    || first.is_some_and(|r| {
                        matches!(r.outcome, Outcome::Reject(_) | Outcome::RejectEither(..))
                            && r.class != "flood.partial-head"
                    }),
                answered: c.answered,
                eof: c.eof_delivered,
            }
        };
        let victim = candidate(&self.conns[i]);
        let others: Vec<flood::Candidate> = self
            .conns
            .iter()
            .filter(|c| c.id != i && c.state == State::Open)
            .map(candidate)
            .collect();
        self.cov.hit("check.shed");
        let at = flood::ShedTime {
            now: self.now,
            lag: self.lag,
            grace_ms: self.config.timeouts.shed_grace_ms,
        };
        if let Err(why) = flood::judge_shed(&victim, &others, at) {
            self.fail(why);
        }
    }
}
