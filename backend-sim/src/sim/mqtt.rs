//! The MQTT connections' side of the simulation: the clients write the steps of their scripts
//! as they fall due (and what they owe the server as they read it); after every event told
//! to the server, what it queued on each MQTT connection is handed to the oracle
//! ([`crate::mqtt_oracle`]) and judged, and the broker's gauges are held against the model's.

use zzz_core::Event;

use super::Sim;
use super::conn::State;
use crate::app::SimProtocol;
use crate::mqtt_client::Sent;
use crate::mqtt_wire as wire;
use crate::workload::{ClientKind, MqttAction, cut_at};

impl Sim<'_> {
    /// Whether client `i` is an MQTT client that may still write.
    fn mqtt_writing(&self, i: usize) -> bool {
        let c = &self.conns[i];
        c.script.kind == ClientKind::Mqtt
            && matches!(c.state, State::Backlog | State::Open)
            && !c.reset
            && !c.client_eof
            && !c.mqtt.aborted
            && self.mqtt_ws_open(i)
    }

    /// Every MQTT client writes the steps now due (a gated one once all before it is
    /// answered).
    pub(super) fn mqtt_commit_due(&mut self) {
        for k in 0..self.mqtt_clients.len() {
            let i = self.mqtt_clients[k];
            if !self.mqtt_writing(i) {
                continue;
            }
            // Bounded: every turn takes a step, or stops.
            loop {
                let c = &self.conns[i];
                let Some(step) = c
                    .script
                    .mqtt
                    .as_ref()
                    .and_then(|m| m.steps.get(c.mqtt.next_step))
                else {
                    break;
                };
                let due = self.now >= c.script.connect_at + step.at_ms
                    && (!step.gated || c.mqtt.all_answered());
                if !due {
                    break;
                }
                let abort = match step.action {
                    MqttAction::Abort { reset } => Some(reset),
                    _ => None,
                };
                let c = &mut self.conns[i];
                let k = c.mqtt.next_step;
                c.mqtt.next_step += 1;
                if let Some(reset) = abort {
                    c.mqtt.aborted = true;
                    let at = c.script.bytes.len();
                    c.script.cut = Some(cut_at(reset, at));
                    let what = if reset { "reset" } else { "EOF" };
                    tr!(self, "c{i} mqtt: {what} at {at}");
                    break;
                }
                let script = c.script.mqtt.as_ref().expect("an MQTT script");
                if let Some((bytes, sent)) = c.mqtt.step_packet(script, k) {
                    self.mqtt_append(i, bytes, sent);
                }
            }
        }
    }

    /// When client `i`'s next step falls due, if it waits for time.
    pub(super) fn mqtt_next_step_at(&self, i: usize) -> Option<u64> {
        if !self.mqtt_writing(i) {
            return None;
        }
        let c = &self.conns[i];
        let step = c.script.mqtt.as_ref()?.steps.get(c.mqtt.next_step)?;
        Some(c.script.connect_at + step.at_ms)
    }

    /// Client `i` writes `sent` (its `bytes`).
    fn mqtt_append(&mut self, i: usize, bytes: Vec<u8>, sent: Sent) {
        let bytes = self.mqtt_frame(i, bytes, &sent);
        let c = &mut self.conns[i];
        let owed = c.mqtt.register(&sent);
        let start = c.script.bytes.len();
        c.script.bytes.extend_from_slice(&bytes);
        let end = c.script.bytes.len();
        tr!(
            self,
            "c{i} mqtt {} {start}..{end} owed {owed:?}",
            sent.name()
        );
        self.mqtt.commit(i, end, sent, owed);
    }

    /// Client `i` read `bytes`: the oracle checks them, the client answers what it must.
    pub(super) fn mqtt_read(&mut self, i: usize, raw: &[u8]) {
        let Some(bytes) = self.mqtt_unframe_read(i, raw) else {
            return;
        };
        let bytes = &bytes[..];
        if let Err(why) = self.mqtt.on_read(i, bytes) {
            return self.fail(format!("client c{i} (client.mqtt): {why}"));
        }
        let c = &mut self.conns[i];
        let Some(script) = c.script.mqtt.as_ref() else {
            return;
        };
        let replies = c.mqtt.on_read(bytes, script);
        // Nothing after a DISCONNECT (or a violation): the connection is over.
        if self.mqtt_writing(i) && !self.conns[i].mqtt.closing {
            if std::mem::take(&mut self.conns[i].mqtt.resume_due) {
                self.mqtt_send_again(i);
            }
            for (bytes, sent) in replies {
                self.mqtt_append(i, bytes, sent);
            }
        }
    }

    /// Client `i` resumed its session: it sends again what the session's last connection left
    /// unacknowledged ([MQTT-4.4.0-1]): its QoS 2 messages not released, with DUP and their
    /// identifiers (unless more than 8: it gives them up), and its PUBRELs not completed.
    fn mqtt_send_again(&mut self, i: usize) {
        let Some(s) = self.mqtt.conns.get(&i).and_then(|st| st.session) else {
            return;
        };
        let attach = &self.mqtt.model.sessions[s].attach;
        let Some(ai) = attach.iter().position(|a| a.conn == i).filter(|&ai| ai > 0) else {
            return;
        };
        let before = &self.conns[attach[ai - 1].conn].mqtt;
        let mut again: Vec<(Vec<u8>, Sent)> = Vec::new();
        if before.qos2_out.len() <= 8 {
            for (&id, p) in &before.qos2_out {
                let bytes = wire::publish(&p.topic, &p.payload, 2, p.retain, true, id);
                let sent = Sent::Publish {
                    spec: p.clone(),
                    id,
                    dup: true,
                };
                again.push((bytes, sent));
            }
        }
        for &id in &before.pubcomp_owed {
            again.push((wire::ack(wire::PUBREL, id), Sent::Pubrel(id)));
        }
        if !again.is_empty() {
            tr!(
                self,
                "c{i} mqtt: sends again what its session left unacknowledged"
            );
            self.cov.hit("mqtt.client-resent");
        }
        for (bytes, sent) in again {
            self.mqtt_append(i, bytes, sent);
        }
    }

    /// The server asked to close MQTT client `i`'s connection (`fin`: gracefully).
    pub(super) fn mqtt_close_requested(&mut self, i: usize, fin: bool) {
        let c = &self.conns[i];
        let without_cause = fin && !c.eof_delivered && !self.draining;
        if let Err(why) = self.mqtt.close_requested(i, without_cause) {
            self.fail(format!("client c{i} (client.mqtt): {why}"));
        }
    }

    /// MQTT client `i`'s connection is over.
    pub(super) fn mqtt_end(&mut self, i: usize) {
        if let Err(why) = self.mqtt.on_end(i) {
            self.fail(format!("client c{i} (client.mqtt): {why}"));
        }
        self.cov.hit("mqtt.ended");
        self.drain_mqtt_hits();
    }

    fn drain_mqtt_hits(&mut self) {
        for class in std::mem::take(&mut self.mqtt.hits) {
            self.cov.hit(class);
        }
    }

    /// After `event`: the packets whose bytes arrived, the close that completed, what the
    /// server queued on every MQTT connection, judged; the broker's gauges and drops.
    pub(super) fn observe_mqtt(&mut self, event: &Event<SimProtocol>) {
        self.mqtt.model.next_event();
        let of = |slot: u32| self.slots.get(slot as usize).copied().flatten();
        match *event {
            Event::Closed { slot } => {
                if let Some(i) = of(slot).filter(|&i| self.conns[i].script.kind == ClientKind::Mqtt)
                {
                    self.mqtt.closed(i);
                }
            }
            Event::Received { slot, n } => {
                if let Some(i) = of(slot).filter(|&i| self.conns[i].script.kind == ClientKind::Mqtt)
                {
                    let delivered = self.conns[i].delivered + n;
                    self.mqtt.arrived(i, delivered);
                }
            }
            _ => {}
        }
        if self.mqtt_clients.is_empty() {
            return;
        }
        for k in 0..self.mqtt_clients.len() {
            let i = self.mqtt_clients[k];
            let c = &self.conns[i];
            if c.state != State::Open {
                continue;
            }
            let slot = c.slot;
            let st = self.mqtt.conns.entry(i).or_default();
            if let Event::Sent { slot: s, n } = *event
                && s == slot
            {
                st.acked += n;
            }
            let parts = self.server.send_parts(slot);
            let queued = parts[0].len() + parts[1].len();
            let total = st.acked + queued;
            let have = st.written.len();
            let all: Vec<u8> = parts.concat();
            let have = self.mqtt_written_len(i).unwrap_or(have);
            if total <= have {
                continue;
            }
            let new = total - have;
            let bytes = match self.mqtt_unframe_written(i, &all[queued - new..]) {
                Ok(bytes) => bytes,
                Err(why) => {
                    return self.fail(format!(
                        "client c{i} (client.mqtt over WebSocket): the server wrote {why}"
                    ));
                }
            };
            if let Err(why) = self.mqtt.on_written(i, &bytes) {
                return self.fail(format!("client c{i} (client.mqtt): the server wrote {why}"));
            }
        }
        if let Err(why) = self.mqtt.judge_event() {
            return self.fail(why);
        }
        let status = self.server.state().broker;
        let (clients, subs) = (self.mqtt.model.connected(), self.mqtt.model.subs);
        if status.clients != clients || status.subscriptions != subs {
            return self.fail(format!(
                "the broker counts {} clients connected and {} subscriptions, the model {} \
                 and {}",
                status.clients, status.subscriptions, clients, subs
            ));
        }
        let counted = (
            status.takeovers,
            status.clients_refused,
            status.subscriptions_refused,
        );
        let seen = (
            self.mqtt.takeovers,
            self.mqtt.refused_clients,
            self.mqtt.refused_subs,
        );
        if counted != seen {
            return self.fail(format!(
                "the broker counts {counted:?} takeovers, CONNECTs refused for its table or a \
                 will, and filters refused; its answers said {seen:?}"
            ));
        }
        if status.dropped != self.mqtt.dropped_seen {
            let more = status.dropped - self.mqtt.dropped_seen;
            self.mqtt.dropped_seen = status.dropped;
            tr!(
                self,
                "mqtt: the broker counts {more} more dropped ({event:?})"
            );
        }
        if status.stalls > self.mqtt.stalls_seen {
            self.mqtt.stalls_seen = status.stalls;
            self.cov.hit("mqtt.publisher-waited");
        }
        if status.stalled > 0 && self.mqtt.disconnect_behind_publish() {
            // A publisher waiting, its DISCONNECT (or EOF) in behind its PUBLISH.
            self.cov.hit("mqtt.disconnect-behind-waiting-publish");
        }
        if self.mqtt.gaps > status.dropped {
            return self.fail(format!(
                "{} messages surely sent to a connection before one it received were never \
                 received, but the broker counts {} dropped",
                self.mqtt.gaps, status.dropped
            ));
        }
        self.drain_mqtt_hits();
    }

    /// Traces client `i`'s MQTT script.
    pub(super) fn trace_mqtt_script(&mut self, i: usize) {
        let Some(m) = self.conns[i].script.mqtt.clone() else {
            return;
        };
        tr!(
            self,
            "  c{i} mqtt {} {} acks {} releases {}",
            m.n,
            m.style,
            m.acks,
            m.releases
        );
        for (k, s) in m.steps.iter().enumerate() {
            let what = match &s.action {
                MqttAction::Publish(p) => format!(
                    "publish {:?} qos {} retain {} {} bytes",
                    p.topic,
                    p.qos,
                    p.retain,
                    p.payload.len()
                ),
                MqttAction::Violation { class, .. } => format!("violation {class}"),
                other => format!("{other:?}"),
            };
            let gated = if s.gated { " (gated)" } else { "" };
            tr!(self, "  c{i} step {k} at {} ms{gated}: {what}", s.at_ms);
        }
    }
}
