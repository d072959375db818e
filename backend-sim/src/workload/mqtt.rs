//! Clients of the MQTT broker ([`zzz_apps::mqtt`], protocol 5 of the simulated server).
//!
//! A client is a timeline of steps, each due some milliseconds after it connects: a CONNECT
//! (identifiers from a pool of seven, more than the six sessions the broker holds, so that
//! sessions are taken over, resumed and refused for a full table; Clean Session 0 or 1; a
//! keep-alive; a will, QoS 0 to 2, retained or not, some too long), SUBSCRIBEs and
//! UNSUBSCRIBEs of filters with `+` and `#` and `$` topics (some longer than the broker's
//! filters), PUBLISHes of QoS 0, 1 and 2 (retained ones set, replace and clear a topic's
//! message; some too long for an inbox), a QoS 2 PUBLISH sent again with DUP before its
//! release, PINGREQs, DISCONNECT, an abrupt EOF or reset. Some clients break the protocol
//! once (a malformed packet, a packet only a server sends, a second CONNECT, a first packet
//! that is not a CONNECT, a malformed CONNECT) or are refused (protocol level 3 or 5, an empty
//! identifier without Clean Session, one too long, a will too long): the server must close.
//!
//! The client is correct where the protocol asks it to act: it acknowledges every QoS 1 and 2
//! message it reads (PUBACK; PUBREC, then PUBCOMP for the server's PUBREL) and releases each
//! of its QoS 2 messages once it reads their PUBREC (PUBREL) — unless it is a lazy client
//! that never acknowledges, or a hoarder that never releases. Those packets are written as
//! the client reads, so a script's bytes grow during the run ([`crate::mqtt_oracle`] holds
//! them); packet identifiers are given as packets are written, never reused on a connection.
//! A violation waits until everything before it is answered, so that the answers the server
//! writes before it closes are the ones the oracle sees.
//!
//! Each client numbers its packet identifiers from a base of its own (`n` thousand), so that
//! a client resuming a session never reuses one an earlier connection of it left in use. Some
//! seeds pair two clients of one persistent session: the first leaves messages in flight (it
//! does not acknowledge, does not complete, or stops reading), the second resumes the
//! session after the first's close, or takes it over before. A client resuming a session
//! sends again what its last connection left unacknowledged: its unreleased QoS 2 messages
//! with DUP and their identifiers (at most 8), its uncompleted PUBRELs, after a close or a
//! takeover alike.
//!
//! One client in five speaks MQTT over WebSocket ([`crate::mqtt_ws`]): the opening
//! handshake (`GET /sim/mqtt`, subprotocol `mqtt`), and once its `101` is read, packets in
//! masked binary frames split anywhere, pings, perhaps a text frame instead of DISCONNECT
//! (closed with 1003); the same oracle judges the MQTT stream inside the frames.

use zzz_core::Config;

use super::{ClientKind, Cut, EndMode, Gen, Pace, Script};
use crate::mqtt_wire::{ConnectSpec, WillSpec};
use crate::rng::Rng;
use crate::swarm::WorkloadShape;

/// A PUBLISH as a client builds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishSpec {
    /// Its topic name.
    pub topic: String,
    /// Its payload: `p{client}.{step}:` and filler, or empty (a retained message cleared).
    pub payload: Vec<u8>,
    /// Its QoS.
    pub qos: u8,
    /// RETAIN.
    pub retain: bool,
}

/// What one step of a client does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MqttAction {
    /// A CONNECT.
    Connect(ConnectSpec),
    /// A SUBSCRIBE of these filters at these QoS.
    Subscribe(Vec<(String, u8)>),
    /// An UNSUBSCRIBE of these filters.
    Unsubscribe(Vec<String>),
    /// A PUBLISH.
    Publish(PublishSpec),
    /// The QoS 2 PUBLISH of this step again, DUP set, same identifier: skipped once the
    /// client has released it (a PUBLISH after its PUBREL is a new message).
    Resend(usize),
    /// A PINGREQ.
    Pingreq,
    /// A DISCONNECT.
    Disconnect,
    /// Bytes that break the protocol: the server closes without answering them.
    Violation {
        /// The bytes.
        bytes: Vec<u8>,
        /// What they break, for the trace and the coverage table.
        class: &'static str,
    },
    /// A WebSocket ping with this payload (a client over WebSocket only).
    WsPing(Vec<u8>),
    /// The client ends its side at once: a reset, or an EOF.
    Abort {
        /// A reset rather than an EOF.
        reset: bool,
    },
}

/// One step of a client: due `at_ms` after it connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttStep {
    /// When it is due, in ms after the client connects.
    pub at_ms: u64,
    /// What it does.
    pub action: MqttAction,
    /// It waits until every packet before it that is owed an answer has its answer read.
    pub gated: bool,
}

/// What an MQTT client does.
#[derive(Clone, Debug)]
pub struct MqttScript {
    /// Its number among the MQTT clients (the `p{n}.` of its payloads' tags).
    pub n: u32,
    /// What it mostly does, for the trace.
    pub style: &'static str,
    /// Its steps, in order.
    pub steps: Vec<MqttStep>,
    /// It acknowledges the QoS 1 and 2 messages it reads.
    pub acks: bool,
    /// It releases its QoS 2 messages (PUBREL) once their PUBREC is read.
    pub releases: bool,
    /// It completes the server's QoS 2 messages (PUBCOMP) once their PUBREL is read.
    pub completes: bool,
    /// It speaks MQTT over WebSocket (`GET /sim/mqtt`, [`crate::mqtt_ws`]).
    pub ws: Option<MqttWs>,
}

/// An MQTT-over-WebSocket client's handshake key and the seed of its frames' masks and
/// splits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttWs {
    /// `Sec-WebSocket-Key`.
    pub key: String,
    /// The seed of its frames.
    pub seed: u64,
}

/// The client identifiers: seven, more than the broker's six sessions; the first ones more
/// often, so that sessions are taken over and resumed.
const IDS: &[&str] = &["a", "a", "a", "b", "b", "c", "c", "d", "e", "f", "g"];

/// Topic names, `$` ones included.
const TOPICS: &[&str] = &["t", "t/a", "t/b", "t/a/x", "u", "$s/t", "/t", "t/"];

/// Topic filters, each at most 16 bytes.
const FILTERS: &[&str] = &[
    "t", "t/+", "t/#", "#", "+", "+/a", "$s/#", "$s/+", "+/+", "/+", "t/a/x", "u", "t/+/x", "+/#",
    "t/a", "$s/t",
];

/// A filter longer than the broker's 16 bytes: answered 0x80.
const LONG_FILTER: &str = "t/a/much/too/long";

/// The MQTT clients of one seed: `shape.mqtt_clients` of them.
pub fn mqtt_clients(config: &Config, shape: &WorkloadShape, rng: &mut Rng) -> Vec<Script> {
    let mut g = Gen { rng, config, shape };
    let spread = *g.rng.pick(&[0u64, 500, 2_000, 6_000]);
    let mut scripts: Vec<Script> = (0..shape.mqtt_clients)
        .map(|n| {
            let mut s = g.mqtt_client(n as u32);
            s.connect_at = g.rng.range(0, spread);
            if g.rng.chance(250_000) {
                // Comes later, when others' sessions are offline or full.
                s.connect_at += g.rng.range(1_000, 8_000);
            }
            s
        })
        .collect();
    if scripts.len() >= 2 && g.rng.chance(400_000) {
        g.resume_pair(&mut scripts);
    }
    scripts
}

/// The CONNECT of a script whose first step is one the broker accepts, if it is.
fn accepted_connect(s: &mut Script) -> Option<&mut ConnectSpec> {
    let m = s.mqtt.as_mut()?;
    let MqttAction::Connect(c) = &mut m.steps.first_mut()?.action else {
        return None;
    };
    let will = c
        .will
        .as_ref()
        .map_or(0, |w| 3 + w.topic.len() + w.message.len());
    let fine = refused_by_form(c).is_none()
        && c.client_id.len() <= crate::app::MQTT_CAPACITY.client_id_bytes as usize
        && will <= crate::app::MQTT_CAPACITY.will_bytes as usize;
    fine.then_some(c)
}

/// What a client mostly does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Subscriber,
    Publisher,
    /// Many messages at once: slow subscribers' inboxes overflow.
    Flooder,
    Chatty,
    Violator,
    Refused,
    Silent,
    Lapser,
    Hoarder,
}

impl Gen<'_> {
    /// Two clients of one persistent session, the first leaving messages in flight (it does
    /// not acknowledge, or not complete, or stops reading), the second resuming it after the
    /// first ends, or taking it over before: it is sent them again first.
    fn resume_pair(&mut self, scripts: &mut [Script]) {
        let subscribing = |s: &Script| {
            s.mqtt
                .as_ref()
                .is_some_and(|m| matches!(m.style, "subscriber" | "chatty"))
        };
        let firsts: Vec<usize> = (0..scripts.len() - 1)
            .filter(|&i| subscribing(&scripts[i]))
            .collect();
        if firsts.is_empty() {
            return;
        }
        let a = *self.rng.pick(&firsts);
        let b = self.rng.range_usize(a + 1, scripts.len() - 1);
        if accepted_connect(&mut scripts[a]).is_none()
            || accepted_connect(&mut scripts[b]).is_none()
        {
            return;
        }
        let id = self.rng.pick(&["a", "b", "r"]).to_string();
        for i in [a, b] {
            let c = accepted_connect(&mut scripts[i]).expect("accepted");
            c.client_id = id.clone();
            c.clean = false;
        }
        let first = &mut scripts[a];
        let m = first.mqtt.as_mut().expect("an MQTT script");
        match self.rng.below(3) {
            0 => m.acks = false,
            1 => m.completes = false,
            _ => first.read_stall = Some((self.rng.range(0, 500), self.rng.range(3_000, 20_000))),
        }
        let last = m.steps.last().map_or(0, |s| s.at_ms);
        let end = first.connect_at + last;
        let later = *self.rng.pick(&[0u64, 100, 1_000, 3_000]);
        scripts[b].connect_at = end + later;
    }

    fn mqtt_client(&mut self, n: u32) -> Script {
        let style = match self.rng.below(40) {
            0..=8 => Style::Subscriber,
            9..=14 => Style::Publisher,
            15..=16 => Style::Flooder,
            17..=26 => Style::Chatty,
            27..=32 => Style::Violator,
            33..=35 => Style::Refused,
            36 => Style::Silent,
            37..=38 => Style::Lapser,
            _ => Style::Hoarder,
        };
        let pace = Pace::Burst {
            max_chunk: *self.rng.pick(&[1usize, 7, 100, 1 << 20]),
            gap_ms: *self.rng.pick(&[0u64, 0, 1, 5]),
        };
        let mut m = MqttScript {
            n,
            style: match style {
                Style::Subscriber => "subscriber",
                Style::Publisher => "publisher",
                Style::Flooder => "flooder",
                Style::Chatty => "chatty",
                Style::Violator => "violator",
                Style::Refused => "refused",
                Style::Silent => "silent",
                Style::Lapser => "lapser",
                Style::Hoarder => "hoarder",
            },
            steps: Vec::new(),
            acks: !self.rng.chance(if style == Style::Subscriber {
                250_000
            } else {
                100_000
            }),
            releases: style != Style::Hoarder,
            completes: !self.rng.chance(50_000),
            ws: None,
        };
        let mut t = 0u64;
        let mut server_closes = false;
        match style {
            Style::Silent => server_closes = true,
            Style::Refused => {
                let c = self.mqtt_refused_connect(n);
                push(&mut m, t, MqttAction::Connect(c));
                server_closes = true;
                if self.rng.coin() {
                    self.mqtt_traffic(&mut m, &mut t, 1, 3, 0);
                }
            }
            Style::Violator if self.rng.chance(300_000) => {
                let (bytes, class) = self.mqtt_first_violation(n);
                m.steps.push(MqttStep {
                    at_ms: 0,
                    action: MqttAction::Violation { bytes, class },
                    gated: false,
                });
                server_closes = true;
            }
            _ => {
                let mut c = self.mqtt_connect(n);
                if style == Style::Lapser {
                    c.keep_alive = 1;
                }
                if style == Style::Violator {
                    // Accepted, so that what it breaks is read.
                    c.will = None;
                }
                let keep_alive = c.keep_alive as u64;
                push(&mut m, t, MqttAction::Connect(c));
                let (subs, pubs) = match style {
                    Style::Subscriber => (self.rng.range_usize(1, 4), self.rng.range_usize(0, 1)),
                    Style::Publisher => (0, self.rng.range_usize(2, 16)),
                    Style::Flooder => (0, 0),
                    Style::Hoarder => (0, 0),
                    Style::Lapser => (self.rng.range_usize(0, 2), self.rng.range_usize(0, 3)),
                    _ => (self.rng.range_usize(1, 3), self.rng.range_usize(1, 10)),
                };
                self.mqtt_traffic(&mut m, &mut t, subs, pubs, keep_alive);
                if style == Style::Flooder {
                    let topic = self.rng.pick(TOPICS).to_string();
                    for _ in 0..self.rng.range_usize(20, 60) {
                        let mut p = self.mqtt_publish(n, m.steps.len(), None);
                        if self.rng.chance(700_000) {
                            p.topic = topic.clone();
                        }
                        let len = self.rng.range_usize(20, 150);
                        if !p.payload.is_empty() && p.payload.len() < len {
                            p.payload.resize(len, b'f');
                        }
                        push(&mut m, t, MqttAction::Publish(p));
                        t += *self.rng.pick(&[0u64, 0, 0, 1]);
                    }
                }
                if style == Style::Hoarder {
                    // QoS 2 messages never released: the 33rd unreleased closes the connection.
                    for _ in 0..zzz_apps::mqtt::MAX_INFLIGHT + 1 {
                        let p = self.mqtt_publish(n, m.steps.len(), Some(2));
                        push(&mut m, t, MqttAction::Publish(p));
                    }
                    m.steps.last_mut().expect("a step").gated = true;
                    server_closes = true;
                } else if style == Style::Lapser {
                    // Silent past 1.5 times its keep-alive: closed, its will published.
                    t += 1_500 + self.rng.range(0, 3_000);
                    push(&mut m, t, MqttAction::Pingreq);
                    server_closes = true;
                } else if style == Style::Violator {
                    t += *self.rng.pick(&[0u64, 10, 300]);
                    let (bytes, class) = self.mqtt_violation(n);
                    m.steps.push(MqttStep {
                        at_ms: t,
                        action: MqttAction::Violation { bytes, class },
                        gated: true,
                    });
                    if self.rng.coin() {
                        // Never handled: the connection is over.
                        push(&mut m, t, MqttAction::Pingreq);
                    }
                    server_closes = true;
                } else if self.rng.chance(700_000) {
                    t += *self.rng.pick(&[0u64, 100, 1_000, 3_000]);
                    push(&mut m, t, MqttAction::Disconnect);
                    server_closes = true;
                }
                if !server_closes && keep_alive > 0 {
                    server_closes = self.rng.coin();
                }
            }
        }
        let framed = !matches!(style, Style::Violator | Style::Silent);
        if framed && self.rng.chance(200_000) {
            server_closes |= self.mqtt_over_ws(&mut m);
        }
        if !m.steps.is_empty() && self.rng.chance(self.shape.cut / 2) {
            let at = self.rng.range_usize(1, m.steps.len());
            let at_ms = m.steps[at - 1].at_ms + self.rng.range(0, 50);
            let reset = self.rng.coin();
            m.steps.insert(
                at,
                MqttStep {
                    at_ms,
                    action: MqttAction::Abort { reset },
                    gated: false,
                },
            );
        }
        let end = if server_closes {
            *self.rng.pick(&[EndMode::Idle, EndMode::Idle, EndMode::Eof])
        } else {
            *self.rng.pick(&[EndMode::Eof, EndMode::Eof, EndMode::Reset])
        };
        let mut s = Script::new(ClientKind::Mqtt, "client.mqtt", pace, end);
        if matches!(style, Style::Subscriber | Style::Chatty) && self.rng.chance(250_000) {
            // Stops reading for a while: its inbox overflows, its in-flight window fills.
            let after = self.rng.range(0, 1_000);
            let ms = *self.rng.pick(&[300u64, 1_500, 5_000]);
            s.read_stall = Some((after, ms));
        }
        if let Some(ws) = &m.ws {
            s.bytes = crate::mqtt_ws::request(&ws.key);
            s.upgrade_end = Some(s.bytes.len());
        }
        s.mqtt = Some(m);
        s
    }

    /// Makes `m` a client over WebSocket: a key, pings here and there, and perhaps a text
    /// frame where its DISCONNECT was (the broker ends the connection with 1003). Returns
    /// whether it now ends so.
    fn mqtt_over_ws(&mut self, m: &mut MqttScript) -> bool {
        use base64::Engine;
        let key: Vec<u8> = (0..16).map(|_| self.rng.below(256) as u8).collect();
        m.ws = Some(MqttWs {
            key: base64::engine::general_purpose::STANDARD.encode(key),
            seed: self.rng.range(1, u64::MAX / 2),
        });
        if m.steps.len() > 1 && self.rng.chance(300_000) {
            for _ in 0..self.rng.range_usize(1, 3) {
                let at = self.rng.range_usize(1, m.steps.len());
                let at_ms = m.steps[at - 1].at_ms;
                let payload = (0..self.rng.range_usize(0, 8))
                    .map(|i| b'a' + i as u8)
                    .collect();
                m.steps.insert(
                    at,
                    MqttStep {
                        at_ms,
                        action: MqttAction::WsPing(payload),
                        gated: false,
                    },
                );
                // A step sent again is named by its index: those past the ping moved.
                for step in &mut m.steps {
                    if let MqttAction::Resend(k) = &mut step.action
                        && *k >= at
                    {
                        *k += 1;
                    }
                }
            }
        }
        let last = m
            .steps
            .last_mut()
            .filter(|s| s.action == MqttAction::Disconnect);
        match last {
            Some(step) if self.rng.chance(300_000) => {
                step.action = MqttAction::Violation {
                    bytes: b"not MQTT".to_vec(),
                    class: "mqtt.ws.text",
                };
                step.gated = true;
                true
            }
            _ => false,
        }
    }

    /// Subscriptions and publications, in a random order, with pauses (and pings, for a client
    /// with a keep-alive, during long pauses), perhaps an unsubscription.
    fn mqtt_traffic(&mut self, m: &mut MqttScript, t: &mut u64, subs: usize, pubs: usize, ka: u64) {
        let (mut subs, mut pubs) = (subs, pubs);
        let mut filters: Vec<String> = Vec::new();
        // Bounded: every turn spends a subscription or a publication, or ends.
        for _ in 0..subs + pubs + 1 {
            let pause = match self.rng.below(10) {
                0..=4 => 0,
                5..=7 => self.rng.range(1, 50),
                8 => self.rng.range(100, 800),
                _ => self.rng.range(800, 3_000),
            };
            if ka > 0 && pause > ka * 500 && self.rng.chance(800_000) {
                // Pings through the pause.
                let mut left = pause;
                while left > ka * 500 {
                    *t += ka * 500;
                    left -= ka * 500;
                    push(m, *t, MqttAction::Pingreq);
                }
                *t += left;
            } else {
                *t += pause;
            }
            if subs > 0 && (pubs == 0 || self.rng.coin()) {
                subs -= 1;
                let k = self.rng.range_usize(1, 3);
                let list: Vec<(String, u8)> = (0..k)
                    .map(|_| {
                        let f = if self.rng.chance(80_000) {
                            LONG_FILTER
                        } else {
                            *self.rng.pick(FILTERS)
                        };
                        (f.to_string(), self.rng.below(3) as u8)
                    })
                    .collect();
                filters.extend(list.iter().map(|(f, _)| f.clone()));
                push(m, *t, MqttAction::Subscribe(list));
            } else if pubs > 0 {
                pubs -= 1;
                let p = self.mqtt_publish(m.n, m.steps.len(), None);
                let q2 = p.qos == 2;
                push(m, *t, MqttAction::Publish(p));
                if q2 && self.rng.chance(300_000) {
                    *t += *self.rng.pick(&[0u64, 0, 1, 20]);
                    push(m, *t, MqttAction::Resend(m.steps.len() - 1));
                }
            } else {
                break;
            }
            match self.rng.below(12) {
                0 => push(m, *t, MqttAction::Pingreq),
                1 if !filters.is_empty() => {
                    let f = self.rng.pick(&filters).clone();
                    let mut list = vec![f];
                    if self.rng.coin() {
                        list.push((*self.rng.pick(FILTERS)).to_string());
                    }
                    push(m, *t, MqttAction::Unsubscribe(list));
                }
                _ => {}
            }
        }
        // Listens a while before its end.
        *t += *self.rng.pick(&[0u64, 200, 1_000, 2_500]);
    }

    fn mqtt_payload(&mut self, tag: &str, max_len: usize) -> Vec<u8> {
        let len = match self.rng.below(20) {
            0..=13 => self.rng.range_usize(0, 24),
            14..=17 => self.rng.range_usize(24, 120),
            18 => self.rng.range_usize(120, max_len.saturating_sub(3)),
            _ => self.rng.range_usize(max_len.saturating_sub(3), max_len + 8),
        };
        let mut p = tag.as_bytes().to_vec();
        // Bounded: `len` bytes of filler.
        while p.len() < len {
            p.push(b'a' + (self.rng.below(26) as u8));
        }
        p
    }

    /// A PUBLISH of client `n`'s step `step` (its tag), at `qos` or a random QoS.
    fn mqtt_publish(&mut self, n: u32, step: usize, qos: Option<u8>) -> PublishSpec {
        let topic = self.rng.pick(TOPICS).to_string();
        let qos = qos.unwrap_or_else(|| self.rng.below(3) as u8);
        let retain = self.rng.chance(200_000);
        let max = self.config.topics.max_message as usize - 3 - topic.len();
        let payload = if retain && self.rng.chance(200_000) {
            Vec::new()
        } else {
            self.mqtt_payload(&format!("p{n}.{step}:"), max)
        };
        PublishSpec {
            topic,
            payload,
            qos,
            retain,
        }
    }

    pub(super) fn mqtt_connect(&mut self, n: u32) -> ConnectSpec {
        let client_id = if self.rng.chance(50_000) {
            String::new()
        } else {
            self.rng.pick(IDS).to_string()
        };
        let will = self.rng.chance(350_000).then(|| {
            let topic = self.rng.pick(TOPICS).to_string();
            let len = if self.rng.chance(40_000) {
                self.rng.range_usize(38, 60)
            } else {
                self.rng.range_usize(0, 30)
            };
            let mut message = format!("w{n}:").into_bytes();
            message.resize(message.len().max(len), b'w');
            WillSpec {
                topic,
                message,
                qos: self.rng.below(3) as u8,
                retain: self.rng.chance(300_000),
            }
        });
        let user = self.rng.chance(150_000).then(|| {
            let password = self.rng.coin().then(|| b"secret".to_vec());
            ("user".to_string(), password)
        });
        ConnectSpec {
            level: 4,
            clean: client_id.is_empty() || self.rng.coin(),
            client_id,
            keep_alive: *self.rng.pick(&[0u16, 0, 0, 1, 2, 5]),
            will,
            user,
        }
    }

    /// A well-formed CONNECT the broker refuses with a CONNACK, then closes.
    fn mqtt_refused_connect(&mut self, n: u32) -> ConnectSpec {
        let mut c = self.mqtt_connect(n);
        match self.rng.below(4) {
            0 => c.level = *self.rng.pick(&[3u8, 5]),
            1 => {
                c.client_id = String::new();
                c.clean = false;
            }
            2 => c.client_id = "x".repeat(self.rng.range_usize(24, 40)),
            _ => {
                c.will = Some(WillSpec {
                    topic: "t".into(),
                    message: vec![b'w'; self.rng.range_usize(37, 60)],
                    qos: 1,
                    retain: false,
                })
            }
        }
        c
    }
}

fn push(m: &mut MqttScript, at_ms: u64, action: MqttAction) {
    m.steps.push(MqttStep {
        at_ms,
        action,
        gated: false,
    });
}

/// Whether `c` is refused by the codec before anything else: answered with a CONNACK (0x01,
/// 0x02) then closed.
pub fn refused_by_form(c: &ConnectSpec) -> Option<u8> {
    if c.level != 4 {
        Some(1)
    } else if c.client_id.is_empty() && !c.clean {
        Some(2)
    } else {
        None
    }
}

/// The bytes of a cut at `at` (for [`Script::cut`]).
pub fn cut_at(reset: bool, at: usize) -> Cut {
    if reset { Cut::Reset(at) } else { Cut::Eof(at) }
}
