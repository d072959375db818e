//! The MQTT oracle's judgement of the answers that depend on the broker's tables (CONNACK,
//! SUBACK) and of a connection's end (see [`crate::mqtt_oracle`]).

use crate::app::MQTT_CAPACITY;
use crate::mqtt_client::{Owed, Sent};
use crate::mqtt_model::{ConnackOwed, Msg, Source, When};
use crate::mqtt_oracle::{MqttOracle, tag};
use crate::mqtt_wire::ConnectSpec;

impl MqttOracle {
    pub(crate) fn connack(
        &mut self,
        c: usize,
        k: usize,
        spec: &ConnectSpec,
        present: bool,
        code: u8,
    ) -> Result<(), String> {
        match self.model.connack_owed(spec) {
            ConnackOwed::Refused(codes) if codes.contains(&code) && !present => {
                let st = self.conns.get_mut(&c).expect("known");
                st.closing = Some(st.closing.map_or(k, |x| x.min(k)));
                self.hits.push(match code {
                    1 => "mqtt.connack.1",
                    2 => "mqtt.connack.2",
                    _ => "mqtt.connack.3",
                });
                self.refused_clients += (code == 3) as u64;
                Ok(())
            }
            ConnackOwed::Accepted(p) if code == 0 && present == p => {
                let taken = self.model.accept(c, k, spec);
                let s = self.model.attached(c).expect("just attached");
                let will = spec.will.as_ref().map(|w| {
                    let m = self.model.msgs.len();
                    self.model.msgs.push(Msg {
                        topic: w.topic.clone(),
                        payload: w.message.clone(),
                        qos: w.qos,
                        retain: w.retain,
                        source: Source::Will(c),
                        will_when: None,
                        possible: false,
                        resent_of: None,
                        surely_new: true,
                    });
                    if let Some(t) = tag(&w.message) {
                        self.model.by_tag.entry(t.to_vec()).or_default().push(m);
                    }
                    m
                });
                let st = self.conns.get_mut(&c).expect("known");
                st.session = Some(s);
                st.will = will;
                self.hits.push("mqtt.connack.0");
                if p {
                    self.hits.push("mqtt.session-present");
                }
                if let Some(old) = taken {
                    self.hits.push("mqtt.takeover");
                    self.takeovers += 1;
                    if self.conns[&old].disconnect_sure {
                        self.hits.push("mqtt.takeover-after-disconnect");
                    }
                    if p {
                        self.end_of_connection(old, s, self.model.event, false);
                    }
                    self.publish_will(old, When::exact(self.model.event, Some((c, k))));
                }
                if p {
                    self.resume(c, s);
                }
                Ok(())
            }
            owed => Err(format!(
                "CONNACK code {code} session present {present} to {spec:?}, owed {owed:?} \
                 ({} sessions in the table)",
                self.model.table.len()
            )),
        }
    }

    pub(crate) fn suback(&mut self, c: usize, k: usize, codes: &[u8]) -> Result<(), String> {
        let st = &self.conns[&c];
        let (Some(s), Sent::Subscribe { filters, .. }) = (st.session, st.packets[k].sent.clone())
        else {
            return Err("a SUBACK on a connection without a session".into());
        };
        let cap = MQTT_CAPACITY.subscriptions as i64;
        for (j, ((filter, asked), &code)) in filters.iter().zip(codes).enumerate() {
            let long = filter.len() > MQTT_CAPACITY.topic_bytes as usize;
            let held = self.model.sessions[s].active().any(|x| x.filter == *filter);
            let (lo, hi) = self.model.sub_count_bounds(c);
            let (may_grant, may_refuse) = match (long, held) {
                (true, _) => (false, true),
                (false, true) => (true, false),
                (false, false) => (lo < cap, hi >= cap),
            };
            if code == 0x80 {
                if !may_refuse {
                    return Err(format!(
                        "SUBACK refused filter {j} {filter:?} ({} subscriptions, at most {cap})",
                        self.model.subs
                    ));
                }
                self.hits.push(if long {
                    "mqtt.suback.refused-long"
                } else {
                    "mqtt.suback.refused-full"
                });
                self.refused_subs += 1;
                continue;
            }
            if !may_grant || code > *asked {
                return Err(format!(
                    "SUBACK granted QoS {code} to filter {j} {filter:?} (asked {asked}; {} \
                     subscriptions, at most {cap}; {} bytes, at most {})",
                    self.model.subs,
                    filter.len(),
                    MQTT_CAPACITY.topic_bytes
                ));
            }
            self.model.subscribe(s, c, k, filter, code);
            self.hits.push("mqtt.suback.granted");
        }
        self.conns.get_mut(&c).expect("known").packets[k].codes = codes.to_vec();
        Ok(())
    }

    /// Client `i`'s connection is over: once its DISCONNECT was surely handled, everything
    /// before it was, so every answer owed before it was written; a violation the server had
    /// is counted (it closed without answering it, as the answers' order checked).
    pub fn on_end(&mut self, i: usize) -> Result<(), String> {
        let Some(st) = self.conns.get(&i) else {
            return Ok(());
        };
        if let Some(p) = st.closing.map(|k| &st.packets[k])
            && p.arrived.is_some()
        {
            match &p.sent {
                Sent::Violation(class) => {
                    self.hits.push(class);
                    self.hits.push("mqtt.violation.closed");
                }
                Sent::Publish { .. } => self.hits.push("mqtt.limit.qos2-unreleased"),
                _ => {}
            }
        }
        if !st.disconnect_sure {
            return Ok(());
        }
        let k = st
            .packets
            .iter()
            .position(|p| p.sent == Sent::Disconnect)
            .expect("a DISCONNECT was handled");
        if let Some((j, p)) = st.packets[..k]
            .iter()
            .enumerate()
            .skip(st.next_answer)
            .find(|(_, p)| p.owed != Owed::Nothing)
        {
            return Err(format!(
                "the server handled the DISCONNECT (packet {k}) but never answered packet {j} \
                 ({}) before it",
                p.sent.name()
            ));
        }
        self.hits.push("mqtt.disconnected");
        Ok(())
    }
}
