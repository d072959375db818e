//! The MQTT clients' writing and reading side: which step of its script a client writes next
//! (when it is due, and for a violation once everything before it is answered), the packet
//! identifiers it gives, and what it writes in answer to what it reads — PUBACK for a QoS 1
//! message, PUBREC for a QoS 2 one, PUBCOMP for the server's PUBREL, PUBREL for the PUBREC of
//! its own QoS 2 message — as a correct client does ([`crate::workload`]'s MQTT module tells
//! which clients are lazy).

use std::collections::{BTreeMap, BTreeSet};

use crate::mqtt_wire::{self as wire, ConnectSpec, PUBACK, PUBCOMP, PUBREC, PUBREL, ServerPacket};
use crate::workload::{MqttAction, MqttScript, PublishSpec};

/// A packet a client wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// CONNECT.
    Connect(ConnectSpec),
    /// PUBLISH, perhaps again with DUP.
    Publish {
        /// The message.
        spec: PublishSpec,
        /// Its identifier (QoS 1 and 2).
        id: u16,
        /// DUP.
        dup: bool,
    },
    /// SUBSCRIBE.
    Subscribe {
        /// Its identifier.
        id: u16,
        /// Its filters and their QoS.
        filters: Vec<(String, u8)>,
    },
    /// UNSUBSCRIBE.
    Unsubscribe {
        /// Its identifier.
        id: u16,
        /// Its filters.
        filters: Vec<String>,
    },
    /// PUBACK.
    Puback(u16),
    /// PUBREC.
    Pubrec(u16),
    /// PUBREL.
    Pubrel(u16),
    /// PUBCOMP.
    Pubcomp(u16),
    /// PINGREQ.
    Pingreq,
    /// DISCONNECT.
    Disconnect,
    /// Bytes breaking the protocol, of this class.
    Violation(&'static str),
    /// A WebSocket ping with this payload (not an MQTT packet).
    WsPing(Vec<u8>),
}

impl Sent {
    /// Its name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Sent::Connect(_) => "CONNECT",
            Sent::Publish { .. } => "PUBLISH",
            Sent::Subscribe { .. } => "SUBSCRIBE",
            Sent::Unsubscribe { .. } => "UNSUBSCRIBE",
            Sent::Puback(_) => "PUBACK",
            Sent::Pubrec(_) => "PUBREC",
            Sent::Pubrel(_) => "PUBREL",
            Sent::Pubcomp(_) => "PUBCOMP",
            Sent::Pingreq => "PINGREQ",
            Sent::Disconnect => "DISCONNECT",
            Sent::Violation(class) => class,
            Sent::WsPing(_) => "WebSocket ping",
        }
    }
}

/// What a client's packet is owed by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owed {
    /// A CONNACK.
    Connack,
    /// A SUBACK with this identifier and this many codes.
    Suback(u16, usize),
    /// An UNSUBACK with this identifier.
    Unsuback(u16),
    /// A PINGRESP.
    Pingresp,
    /// A PUBACK with this identifier.
    Puback(u16),
    /// A PUBREC with this identifier.
    Pubrec(u16),
    /// A PUBCOMP with this identifier.
    Pubcomp(u16),
    /// A PUBREL with this identifier (the client's PUBREC of the server's QoS 2 message).
    Pubrel(u16),
    /// No answer.
    Nothing,
    /// No answer, and nothing after it is handled: the connection closes.
    Closes,
}

/// What `sent` is owed, the client's unreleased QoS 2 identifiers being `unreleased` (one
/// more than [`zzz_apps::mqtt::MAX_INFLIGHT`] of them closes the connection, as the broker
/// documents its table of them).
pub fn owed_of(sent: &Sent, unreleased: &BTreeSet<u16>) -> Owed {
    match sent {
        Sent::Connect(_) => Owed::Connack,
        Sent::Publish { spec, id, .. } => match spec.qos {
            0 => Owed::Nothing,
            1 => Owed::Puback(*id),
            _ if !unreleased.contains(id) && unreleased.len() >= zzz_apps::mqtt::MAX_INFLIGHT => {
                Owed::Closes
            }
            _ => Owed::Pubrec(*id),
        },
        Sent::Subscribe { id, filters } => Owed::Suback(*id, filters.len()),
        Sent::Unsubscribe { id, .. } => Owed::Unsuback(*id),
        Sent::Pubrel(id) => Owed::Pubcomp(*id),
        Sent::Pubrec(id) => Owed::Pubrel(*id),
        Sent::Puback(_) | Sent::Pubcomp(_) | Sent::WsPing(_) => Owed::Nothing,
        Sent::Pingreq => Owed::Pingresp,
        Sent::Disconnect | Sent::Violation(_) => Owed::Closes,
    }
}

/// A client's side of an MQTT connection.
#[derive(Clone, Debug, Default)]
pub struct MqttClient {
    /// The next step of its script.
    pub next_step: usize,
    last_id: u16,
    /// Answers owed so far.
    pub owed: usize,
    /// Answers read.
    pub answers_read: usize,
    /// It wrote a packet after which the server answers nothing.
    pub closing: bool,
    /// It read a CONNACK refusing it.
    pub refused: bool,
    /// It ended its side mid-script.
    pub aborted: bool,
    read: Vec<u8>,
    /// Bytes read so far.
    pub read_total: usize,
    /// The identifier and message of each PUBLISH step written.
    published: BTreeMap<usize, (u16, PublishSpec)>,
    released: BTreeSet<u16>,
    unreleased: BTreeSet<u16>,
    /// Identifiers of its PUBRECs whose PUBREL (their answer) it has not read: a PUBREL with
    /// another is one a resumed session sends again, answered (PUBCOMP) but not an answer.
    pubrel_owed: BTreeSet<u16>,
    /// Its QoS 2 messages not released yet (sent, or sent again), by identifier.
    pub qos2_out: BTreeMap<u16, PublishSpec>,
    /// Identifiers of its PUBRELs whose PUBCOMP it has not read.
    pub pubcomp_owed: BTreeSet<u16>,
    /// It read a CONNACK resuming its session and has not sent its own messages again yet.
    pub resume_due: bool,
    /// Over WebSocket: its views of the frames ([`crate::mqtt_ws`]).
    pub ws: Option<crate::mqtt_ws::WsSide>,
}

impl MqttClient {
    /// A new packet identifier. Each client numbers from its own base (`n` thousand, `n` its
    /// number among the MQTT clients): a client resuming a session never gives an identifier
    /// an earlier connection of that session may still have in use (a QoS 2 message whose
    /// PUBREL has not come is in use across connections, [MQTT-2.3.1-2]; the broker would take
    /// a new message with it for a duplicate).
    fn id(&mut self, n: u32) -> u16 {
        let base = (n % 64) as u16 * 1000;
        self.last_id = self.last_id.max(base).wrapping_add(1).max(1);
        self.last_id
    }

    /// Whether every answer owed so far has been read.
    pub fn all_answered(&self) -> bool {
        self.answers_read >= self.owed
    }

    /// Whether it has written its whole script and read every answer it will get.
    pub fn finished(&self, script: &MqttScript) -> bool {
        (self.next_step >= script.steps.len() || self.aborted)
            && (self.refused || self.closing || self.all_answered())
    }

    /// Counts what `sent` is owed; returns it.
    pub fn register(&mut self, sent: &Sent) -> Owed {
        let owed = owed_of(sent, &self.unreleased);
        match sent {
            Sent::Publish { spec, id, .. } if spec.qos == 2 && owed != Owed::Closes => {
                self.unreleased.insert(*id);
                self.qos2_out.insert(*id, spec.clone());
            }
            Sent::Pubrel(id) => {
                self.unreleased.remove(id);
                self.released.insert(*id);
                self.qos2_out.remove(id);
                self.pubcomp_owed.insert(*id);
            }
            Sent::Pubrec(id) => {
                self.pubrel_owed.insert(*id);
            }
            _ => {}
        }
        if !self.closing {
            match owed {
                Owed::Nothing => {}
                Owed::Closes => self.closing = true,
                _ => self.owed += 1,
            }
        }
        owed
    }

    /// The packet of step `k` and its bytes: `None` for a step that writes nothing (an
    /// abort, a QoS 2 message sent again after its release).
    pub fn step_packet(&mut self, script: &MqttScript, k: usize) -> Option<(Vec<u8>, Sent)> {
        let step = &script.steps[k];
        Some(match &step.action {
            MqttAction::Connect(c) => (wire::connect(c), Sent::Connect(c.clone())),
            MqttAction::Subscribe(filters) => {
                let id = self.id(script.n);
                let sent = Sent::Subscribe {
                    id,
                    filters: filters.clone(),
                };
                (wire::subscribe(id, filters), sent)
            }
            MqttAction::Unsubscribe(filters) => {
                let id = self.id(script.n);
                let sent = Sent::Unsubscribe {
                    id,
                    filters: filters.clone(),
                };
                (wire::unsubscribe(id, filters), sent)
            }
            MqttAction::Publish(p) => {
                let id = if p.qos > 0 { self.id(script.n) } else { 0 };
                self.published.insert(k, (id, p.clone()));
                let bytes = wire::publish(&p.topic, &p.payload, p.qos, p.retain, false, id);
                let sent = Sent::Publish {
                    spec: p.clone(),
                    id,
                    dup: false,
                };
                (bytes, sent)
            }
            MqttAction::Resend(of) => {
                let (id, p) = self.published.get(of)?.clone();
                if self.released.contains(&id) {
                    return None;
                }
                let bytes = wire::publish(&p.topic, &p.payload, p.qos, p.retain, true, id);
                (
                    bytes,
                    Sent::Publish {
                        spec: p,
                        id,
                        dup: true,
                    },
                )
            }
            MqttAction::Pingreq => (wire::pingreq(), Sent::Pingreq),
            MqttAction::Disconnect => (wire::disconnect(), Sent::Disconnect),
            MqttAction::Violation { bytes, class } => (bytes.clone(), Sent::Violation(class)),
            MqttAction::WsPing(p) => (p.clone(), Sent::WsPing(p.clone())),
            MqttAction::Abort { .. } => return None,
        })
    }

    /// The client read `bytes`: the packets it answers, as it answers them.
    pub fn on_read(&mut self, bytes: &[u8], script: &MqttScript) -> Vec<(Vec<u8>, Sent)> {
        self.read.extend_from_slice(bytes);
        self.read_total += bytes.len();
        let mut out = Vec::new();
        // Bounded: each turn takes a whole packet (at least 2 bytes), or stops.
        for _ in 0..self.read.len() {
            let Ok(Some((p, n))) = wire::read_server_packet(&self.read) else {
                break;
            };
            self.read.drain(..n);
            let reply = match p {
                ServerPacket::Publish { qos: 1, id, .. } if script.acks => {
                    Some((PUBACK, Sent::Puback(id)))
                }
                ServerPacket::Publish { qos: 2, id, .. } if script.acks => {
                    Some((PUBREC, Sent::Pubrec(id)))
                }
                ServerPacket::Publish { .. } => None,
                ServerPacket::Pubrel(id) => {
                    self.answers_read += self.pubrel_owed.remove(&id) as usize;
                    script.completes.then_some((PUBCOMP, Sent::Pubcomp(id)))
                }
                ServerPacket::Pubrec(id) => {
                    self.answers_read += 1;
                    script.releases.then_some((PUBREL, Sent::Pubrel(id)))
                }
                ServerPacket::Connack {
                    code,
                    session_present,
                } => {
                    self.answers_read += 1;
                    self.refused |= code != 0;
                    self.resume_due = code == 0 && session_present;
                    None
                }
                ServerPacket::Pubcomp(id) => {
                    self.answers_read += 1;
                    self.pubcomp_owed.remove(&id);
                    None
                }
                _ => {
                    self.answers_read += 1;
                    None
                }
            };
            if let Some((kind, sent)) = reply {
                let id = match sent {
                    Sent::Puback(id) | Sent::Pubrec(id) | Sent::Pubrel(id) | Sent::Pubcomp(id) => {
                        id
                    }
                    _ => unreachable!("an acknowledgement"),
                };
                out.push((wire::ack(kind, id), sent));
            }
        }
        out
    }
}
