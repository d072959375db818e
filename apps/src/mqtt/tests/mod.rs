//! The broker through a server, driven by scripted in-memory clients whose bytes are built
//! with the core's client-side writers: connections, keep-alive, fan-out, QoS 1, retained
//! messages, wills, takeover, full tables, malformed input.

use std::collections::VecDeque;
use std::vec::Vec;

use zzz_core::mqtt::{
    Connect, ConnectReturnCode, Delivery, PacketId, PacketType, Publish, QoS, Will, read_packet,
    write_ack, write_connack, write_connect, write_disconnect, write_pingreq, write_pingresp,
    write_publish, write_suback, write_subscribe, write_unsuback, write_unsubscribe,
};
use zzz_core::{App, Config, Event, Instant, Now, Op, PeerAddr, Server, SlotId, Sole};

use super::{BrokerStatus, Capacity, Mqtt};

mod flow;
mod sessions;

struct Client {
    slot: SlotId,
    inbound: VecDeque<u8>,
    output: Vec<u8>,
    recv_posted: bool,
    sending: bool,
    closed: bool,
    eof: bool,
    /// It reads nothing: what the server sends stays unsent.
    paused: bool,
}

/// One server, several clients, a clock the test moves.
struct Driver {
    server: Server<'static, BrokerStatus, Mqtt>,
    now: Now,
    clients: Vec<Client>,
}

fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 8;
    config.recv_buffer = 1024;
    config.send_buffer = 1024;
    config.limits.max_head = 1024;
    config.limits.max_request_line = 512;
    config.topics.max_message = 512;
    config.topics.inbox_bytes = 4096;
    config
}

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

impl Driver {
    fn new(capacity: Capacity) -> Driver {
        let app = App::with_modules(BrokerStatus::default(), Mqtt::new(capacity));
        let config = config();
        let region: &'static mut [u8] = std::vec![0u8; app.memory(&config).total].leak();
        let now = Now {
            monotonic: Instant(1_000),
            unix_secs: 0,
        };
        let server = Server::new(config, app, region, now).unwrap();
        Driver {
            server,
            now,
            clients: Vec::new(),
        }
    }

    fn standard() -> Driver {
        Driver::new(Capacity::DEFAULT)
    }

    fn status(&self) -> BrokerStatus {
        *self.server.state()
    }

    /// A new TCP connection; returns its client number.
    fn accept(&mut self) -> usize {
        let slot = self
            .server
            .handle(Event::Accepted {
                protocol: Sole,
                peer: PeerAddr::Local,
            })
            .accepted()
            .unwrap();
        self.clients.push(Client {
            slot,
            inbound: VecDeque::new(),
            output: Vec::new(),
            recv_posted: false,
            sending: false,
            closed: false,
            eof: false,
            paused: false,
        });
        self.run();
        self.clients.len() - 1
    }

    fn client_of(&mut self, slot: SlotId) -> &mut Client {
        self.clients
            .iter_mut()
            .rev()
            .find(|c| c.slot == slot && !c.closed)
            .unwrap()
    }

    /// Performs what the server asks until it waits on the clients.
    fn run(&mut self) {
        for _ in 0..100_000 {
            if let Some(op) = self.server.poll_op() {
                match op {
                    Op::Recv(slot) => self.client_of(slot).recv_posted = true,
                    Op::Send(slot) => self.client_of(slot).sending = true,
                    // The client answers a shutdown with its own EOF, as a real one does.
                    Op::Shutdown(slot) => self.client_of(slot).eof = true,
                    Op::Close(slot) => {
                        let c = self.client_of(slot);
                        c.closed = true;
                        c.recv_posted = false;
                        let _ = self.server.handle(Event::Closed { slot });
                    }
                    Op::SendDatagram(_) => unreachable!(),
                }
                continue;
            }
            let mut sending = self.clients.iter();
            if let Some(i) = sending.position(|c| c.sending && !c.closed && !c.paused) {
                let slot = self.clients[i].slot;
                self.clients[i].sending = false;
                let [a, b] = self.server.send_parts(slot);
                let n = a.len() + b.len();
                self.clients[i].output.extend_from_slice(a);
                self.clients[i].output.extend_from_slice(b);
                let _ = self.server.handle(Event::Sent { slot, n });
                continue;
            }
            let ready = self
                .clients
                .iter()
                .position(|c| c.recv_posted && !c.closed && (!c.inbound.is_empty() || c.eof));
            if let Some(i) = ready {
                let slot = self.clients[i].slot;
                self.clients[i].recv_posted = false;
                let c = &mut self.clients[i];
                let buf = self.server.recv_buffer(slot);
                let n = buf.len().min(c.inbound.len());
                for (b, byte) in buf.iter_mut().zip(c.inbound.drain(..n)) {
                    *b = byte;
                }
                if n == 0 {
                    c.eof = false; // delivered
                }
                let _ = self.server.handle(Event::Received { slot, n });
                continue;
            }
            // Connections woken and not yet run (as a backend's loop does, at once): a
            // connection that keeps waking itself never lets the server settle.
            if self.server.next_wake() == Some(self.now.monotonic) {
                let _ = self.server.handle(Event::Tick(self.now));
                continue;
            }
            return;
        }
        panic!("the server never settled");
    }

    fn send(&mut self, c: usize, bytes: &[u8]) {
        self.clients[c].inbound.extend(bytes);
        self.run();
    }

    /// The client's connection ends without DISCONNECT (EOF).
    fn hang_up(&mut self, c: usize) {
        self.clients[c].eof = true;
        self.run();
    }

    /// What the client has received since the last call.
    fn take(&mut self, c: usize) -> Vec<u8> {
        std::mem::take(&mut self.clients[c].output)
    }

    /// The client stops reading (`true`) or reads again.
    fn pause(&mut self, c: usize, paused: bool) {
        self.clients[c].paused = paused;
        self.run();
    }

    fn closed(&self, c: usize) -> bool {
        self.clients[c].closed
    }

    fn advance(&mut self, ms: u64) {
        self.now.monotonic = self.now.monotonic.after_ms(ms);
        let _ = self.server.handle(Event::Tick(self.now));
        self.run();
    }

    /// Connects a client with this identifier, keep-alive and will; asserts CONNACK 0.
    fn connect_with(&mut self, client_id: &str, keep_alive: u16, will: Option<Will<'_>>) -> usize {
        let c = self.accept();
        self.send(c, &connect(client_id, keep_alive, will));
        assert_eq!(self.take(c), connack(ConnectReturnCode::Accepted));
        c
    }

    fn connect(&mut self, client_id: &str) -> usize {
        self.connect_with(client_id, 0, None)
    }

    fn subscribe(&mut self, c: usize, filters: &[(&str, QoS)], expect: &[u8]) {
        let mut buf = [0u8; 512];
        let n = write_subscribe(&mut buf, id(1), filters.iter().copied()).unwrap();
        self.send(c, &buf[..n]);
        let out = self.take(c);
        let codes = &out[..4 + expect.len()];
        assert_eq!(codes[0], 0x90, "a SUBACK");
        assert_eq!(&codes[4..], expect);
        let rest = out[4 + expect.len()..].to_vec();
        self.clients[c].output = rest;
    }
}

fn connect(client_id: &str, keep_alive: u16, will: Option<Will<'_>>) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let n = write_connect(
        &mut buf,
        &Connect {
            clean_session: true,
            keep_alive,
            client_id,
            will,
            username: None,
            password: None,
        },
    )
    .unwrap();
    buf[..n].to_vec()
}

fn connack(code: ConnectReturnCode) -> Vec<u8> {
    let mut buf = [0u8; 4];
    let n = write_connack(&mut buf, false, code).unwrap();
    buf[..n].to_vec()
}

fn publish(topic: &str, payload: &[u8], delivery: Delivery, retain: bool) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = write_publish(
        &mut buf,
        &Publish {
            dup: false,
            delivery,
            retain,
            topic,
            payload,
        },
    )
    .unwrap();
    buf[..n].to_vec()
}

fn qos0(topic: &str, payload: &[u8]) -> Vec<u8> {
    publish(topic, payload, Delivery::AtMostOnce, false)
}

fn ack(t: PacketType, n: u16) -> Vec<u8> {
    let mut buf = [0u8; 4];
    write_ack(&mut buf, t, id(n)).unwrap();
    buf.to_vec()
}

fn empty(write: fn(&mut [u8]) -> Result<usize, zzz_core::mqtt::WriteError>) -> Vec<u8> {
    let mut buf = [0u8; 2];
    write(&mut buf).unwrap();
    buf.to_vec()
}

/// The topics and payloads of the PUBLISH packets in `bytes`, asserting nothing else is.
fn publishes(bytes: &[u8]) -> Vec<(std::string::String, Vec<u8>, Delivery, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (packet, len) = read_packet(&bytes[at..], 1 << 20).unwrap().unwrap();
        match packet {
            zzz_core::mqtt::Packet::Publish(p) => {
                out.push((p.topic.into(), p.payload.to_vec(), p.delivery, p.retain))
            }
            other => panic!("not a PUBLISH: {other:?}"),
        }
        at += len;
    }
    out
}

/// A packet the server sent: its type, packet identifier (or 0), DUP and payload.
type Sent = (PacketType, u16, bool, Vec<u8>);

/// Packets in `bytes`.
fn packets(bytes: &[u8]) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (packet, len) = read_packet(&bytes[at..], 1 << 20).unwrap().unwrap();
        out.push(match packet {
            zzz_core::mqtt::Packet::Publish(p) => {
                let id = match p.delivery {
                    Delivery::AtMostOnce => 0,
                    Delivery::AtLeastOnce(id) | Delivery::ExactlyOnce(id) => id.get(),
                };
                (PacketType::Publish, id, p.dup, p.payload.to_vec())
            }
            zzz_core::mqtt::Packet::Puback(id) => (PacketType::Puback, id.get(), false, Vec::new()),
            zzz_core::mqtt::Packet::Pubrel(id) => (PacketType::Pubrel, id.get(), false, Vec::new()),
            zzz_core::mqtt::Packet::Pubrec(id) => (PacketType::Pubrec, id.get(), false, Vec::new()),
            zzz_core::mqtt::Packet::Pubcomp(id) => {
                (PacketType::Pubcomp, id.get(), false, Vec::new())
            }
            other => panic!("unexpected {other:?}"),
        });
        at += len;
    }
    out
}

/// The PUBLISH packets in `bytes`, skipping every other kind.
fn publishes_among(bytes: &[u8]) -> Vec<(std::string::String, Vec<u8>, Delivery, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (packet, len) = read_packet(&bytes[at..], 1 << 20).unwrap().unwrap();
        if let zzz_core::mqtt::Packet::Publish(p) = packet {
            out.push((p.topic.into(), p.payload.to_vec(), p.delivery, p.retain));
        }
        at += len;
    }
    out
}

// ----- priority 1: connections -----------------------------------------------------------

#[test]
fn connect_is_answered_connack_accepted() {
    let mut d = Driver::standard();
    d.connect("alpha");
    assert_eq!(d.status().clients, 1);
}

#[test]
fn a_packet_before_connect_closes() {
    // [MQTT-3.1.0-1]
    let mut d = Driver::standard();
    let c = d.accept();
    d.send(c, &empty(write_pingreq));
    assert!(d.closed(c));
    assert!(d.take(c).is_empty());
}

#[test]
fn a_second_connect_closes() {
    // [MQTT-3.1.0-2]
    let mut d = Driver::standard();
    let c = d.connect("alpha");
    d.send(c, &connect("alpha", 0, None));
    assert!(d.closed(c));
    assert_eq!(d.status().clients, 0);
}

#[test]
fn a_bad_protocol_level_is_answered_0x01() {
    // [MQTT-3.1.2-2]
    let mut d = Driver::standard();
    let c = d.accept();
    let mut bytes = connect("alpha", 0, None);
    bytes[8] = 3; // protocol level
    d.send(c, &bytes);
    assert_eq!(
        d.take(c),
        connack(ConnectReturnCode::UnacceptableProtocolVersion)
    );
    assert!(d.closed(c));
}

#[test]
fn a_too_long_client_id_is_answered_0x02() {
    let mut d = Driver::standard();
    let c = d.accept();
    d.send(c, &connect(&"x".repeat(65), 0, None));
    assert_eq!(d.take(c), connack(ConnectReturnCode::IdentifierRejected));
    assert!(d.closed(c));
}

#[test]
fn an_empty_client_id_is_given_one() {
    let mut d = Driver::standard();
    let a = d.connect("");
    let b = d.connect("");
    assert!(
        !d.closed(a) && !d.closed(b),
        "two anonymous clients, two sessions"
    );
    assert_eq!(d.status().clients, 2);
}

#[test]
fn a_full_client_table_is_answered_0x03() {
    let mut d = Driver::new(Capacity {
        clients: 2,
        ..Capacity::DEFAULT
    });
    d.connect("a");
    d.connect("b");
    let c = d.accept();
    d.send(c, &connect("c", 0, None));
    assert_eq!(d.take(c), connack(ConnectReturnCode::ServerUnavailable));
    assert!(d.closed(c));
    assert_eq!(d.status().clients_refused, 1);
}

#[test]
fn pingreq_is_answered_pingresp() {
    let mut d = Driver::standard();
    let c = d.connect("alpha");
    d.send(c, &empty(write_pingreq));
    assert_eq!(d.take(c), empty(write_pingresp));
}

#[test]
fn keep_alive_expires_after_one_and_a_half_times() {
    // [MQTT-3.1.2-24]
    let mut d = Driver::standard();
    let c = d.connect_with("alpha", 10, None);
    d.advance(14_000);
    d.send(c, &empty(write_pingreq));
    assert_eq!(d.take(c), empty(write_pingresp));
    d.advance(14_900);
    assert!(!d.closed(c));
    d.advance(200);
    assert!(d.closed(c), "15 s after its last packet");
    assert_eq!(d.status().clients, 0);
}

#[test]
fn no_connect_in_time_closes() {
    let mut d = Driver::standard();
    let c = d.accept();
    d.advance(10_001);
    assert!(d.closed(c));
}

#[test]
fn malformed_packet_closes() {
    let mut d = Driver::standard();
    let c = d.connect("alpha");
    d.send(c, &[0x30 | 0x06, 0x00]); // PUBLISH QoS 3
    assert!(d.closed(c));
    let c = d.connect("beta");
    d.send(c, &[0x20, 0x02, 0x00, 0x00]); // CONNACK: only a server sends it
    assert!(d.closed(c));
}

#[test]
fn second_connection_with_same_id_takes_over() {
    // [MQTT-3.1.4-2]
    let mut d = Driver::standard();
    let old = d.connect("same");
    d.subscribe(old, &[("t", QoS::AtMostOnce)], &[0]);
    let new = d.connect("same");
    assert!(d.closed(old), "the older connection is closed");
    assert!(!d.closed(new));
    assert_eq!(d.status().clients, 1);
    assert_eq!(d.status().takeovers, 1);
    assert_eq!(d.status().subscriptions, 0, "a clean session starts anew");
    d.send(new, &empty(write_pingreq));
    assert_eq!(d.take(new), empty(write_pingresp));
}

// ----- priority 2: subscriptions and QoS 0 ------------------------------------------------

#[test]
fn publish_fans_out_to_matching_filters_once_each() {
    let mut d = Driver::standard();
    let a = d.connect("a");
    let b = d.connect("b");
    let c = d.connect("c");
    let p = d.connect("p");
    d.subscribe(a, &[("sport/+/score", QoS::AtMostOnce)], &[0]);
    d.subscribe(
        b,
        &[
            ("sport/#", QoS::AtMostOnce),
            ("sport/tennis/+", QoS::AtMostOnce),
        ],
        &[0, 0],
    );
    d.subscribe(c, &[("news/#", QoS::AtMostOnce)], &[0]);
    d.send(p, &qos0("sport/tennis/score", b"15-0"));
    assert!(d.take(p).is_empty(), "QoS 0 is not acknowledged");
    let one = std::vec![(
        "sport/tennis/score".into(),
        b"15-0".to_vec(),
        Delivery::AtMostOnce,
        false
    )];
    assert_eq!(publishes(&d.take(a)), one);
    assert_eq!(publishes(&d.take(b)), one, "[MQTT-3.3.5-1] one copy");
    assert!(d.take(c).is_empty());
    assert_eq!(d.status().messages_in, 1);
    assert_eq!(d.status().messages_out, 2);
}

#[test]
fn wildcards_do_not_match_dollar_topics() {
    // [MQTT-4.7.2-1]
    let mut d = Driver::standard();
    let a = d.connect("a");
    let b = d.connect("b");
    d.subscribe(
        a,
        &[("#", QoS::AtMostOnce), ("+/load", QoS::AtMostOnce)],
        &[0, 0],
    );
    d.subscribe(b, &[("$SYS/#", QoS::AtMostOnce)], &[0]);
    d.send(a, &qos0("$SYS/load", b"1"));
    assert!(d.take(a).is_empty());
    assert_eq!(publishes(&d.take(b)).len(), 1);
}

#[test]
fn unsubscribe_stops_delivery() {
    let mut d = Driver::standard();
    let a = d.connect("a");
    d.subscribe(a, &[("t/#", QoS::AtMostOnce)], &[0]);
    let mut buf = [0u8; 64];
    let n = write_unsubscribe(&mut buf, id(7), ["t/#"].into_iter()).unwrap();
    d.send(a, &buf[..n]);
    let mut unsuback = [0u8; 4];
    write_unsuback(&mut unsuback, id(7)).unwrap();
    assert_eq!(d.take(a), unsuback);
    d.send(a, &qos0("t/x", b"gone"));
    assert!(d.take(a).is_empty());
    assert_eq!(d.status().subscriptions, 0);
}

#[test]
fn a_full_subscription_table_is_answered_0x80() {
    let mut d = Driver::new(Capacity {
        subscriptions: 2,
        ..Capacity::DEFAULT
    });
    let a = d.connect("a");
    d.subscribe(
        a,
        &[
            ("a", QoS::AtMostOnce),
            ("b", QoS::AtLeastOnce),
            ("c", QoS::AtMostOnce),
        ],
        &[0, 1, 0x80],
    );
    // The same filter again replaces, needing no new entry ([MQTT-3.8.4-3]).
    d.subscribe(a, &[("a", QoS::AtLeastOnce)], &[1]);
    assert_eq!(d.status().subscriptions, 2);
    assert_eq!(d.status().subscriptions_refused, 1);
    let mut suback = [0u8; 8];
    let n = write_suback(
        &mut suback,
        id(1),
        [zzz_core::mqtt::SubackCode::Failure].into_iter(),
    )
    .unwrap();
    assert_eq!(suback[n - 1], 0x80);
}

#[test]
fn qos2_to_a_subscriber_runs_pubrec_pubrel_pubcomp() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    let p = d.connect("p");
    d.subscribe(s, &[("t", QoS::ExactlyOnce)], &[2]);
    d.send(p, &publish("t", b"x", Delivery::ExactlyOnce(id(3)), false));
    let got = publishes(&d.take(s));
    let Delivery::ExactlyOnce(pid) = got[0].2 else {
        panic!("QoS 2 to a QoS 2 subscription: {got:?}");
    };
    d.send(s, &ack(PacketType::Pubrec, pid.get()));
    assert_eq!(d.take(s), ack(PacketType::Pubrel, pid.get()));
    d.send(s, &ack(PacketType::Pubcomp, pid.get()));
    assert!(d.take(s).is_empty());
    assert!(!d.closed(s));
}

#[test]
fn a_duplicate_qos2_publish_is_not_delivered_twice() {
    // [MQTT-4.3.3-2]: until PUBREL, the same identifier is the same message.
    let mut d = Driver::standard();
    let s = d.connect("s");
    let p = d.connect("p");
    d.subscribe(s, &[("t", QoS::AtMostOnce)], &[0]);
    let mut bytes = publish("t", b"x", Delivery::ExactlyOnce(id(3)), false);
    d.send(p, &bytes);
    bytes[0] |= 0x08; // DUP
    d.send(p, &bytes);
    assert_eq!(
        d.take(p),
        [ack(PacketType::Pubrec, 3), ack(PacketType::Pubrec, 3)].concat()
    );
    assert_eq!(publishes(&d.take(s)).len(), 1);
    d.send(p, &ack(PacketType::Pubrel, 3));
    assert_eq!(d.take(p), ack(PacketType::Pubcomp, 3));
    // Released: the identifier may name a new message.
    d.send(p, &publish("t", b"y", Delivery::ExactlyOnce(id(3)), false));
    assert_eq!(publishes(&d.take(s)).len(), 1);
}

// ----- priority 3: QoS 1 --------------------------------------------------------------------

#[test]
fn qos1_is_acknowledged_both_ways() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    let z = d.connect("z");
    let p = d.connect("p");
    d.subscribe(s, &[("t", QoS::AtLeastOnce)], &[1]);
    d.subscribe(z, &[("t", QoS::AtMostOnce)], &[0]);
    d.send(p, &publish("t", b"m", Delivery::AtLeastOnce(id(9)), false));
    assert_eq!(d.take(p), ack(PacketType::Puback, 9));
    let got = publishes(&d.take(s));
    assert_eq!(got.len(), 1);
    let Delivery::AtLeastOnce(pid) = got[0].2 else {
        panic!("QoS 1 to a QoS 1 subscription");
    };
    assert_eq!(
        publishes(&d.take(z))[0].2,
        Delivery::AtMostOnce,
        "min(1, 0)"
    );
    d.send(s, &ack(PacketType::Puback, pid.get()));
    assert!(!d.closed(s));
}

#[test]
fn a_full_inflight_table_holds_messages_in_the_inbox() {
    let mut d = Driver::new(Capacity {
        inflight: 2,
        ..Capacity::DEFAULT
    });
    let s = d.connect("s");
    let p = d.connect("p");
    d.subscribe(s, &[("t", QoS::AtLeastOnce)], &[1]);
    for i in 1..=5u16 {
        d.send(
            p,
            &publish("t", &[i as u8], Delivery::AtLeastOnce(id(i)), false),
        );
    }
    let got = publishes(&d.take(s));
    assert_eq!(got.len(), 2, "two in flight, three waiting");
    // Bounded: five messages.
    let mut all = got;
    for _ in 0..5 {
        let Some(last) = all.last() else { break };
        let Delivery::AtLeastOnce(pid) = last.2 else {
            panic!()
        };
        let first = all[0].2;
        let Delivery::AtLeastOnce(first) = first else {
            panic!()
        };
        d.send(s, &ack(PacketType::Puback, first.get()));
        d.send(s, &ack(PacketType::Puback, pid.get()));
        all = publishes(&d.take(s));
        if all.is_empty() {
            break;
        }
    }
    assert_eq!(d.status().messages_out, 5);
    assert_eq!(d.status().dropped, 0);
}

#[test]
fn qos2_from_a_client_is_answered_pubrec_then_pubcomp() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    let p = d.connect("p");
    d.subscribe(s, &[("t", QoS::AtLeastOnce)], &[1]);
    d.send(p, &publish("t", b"x", Delivery::ExactlyOnce(id(3)), false));
    assert_eq!(d.take(p), ack(PacketType::Pubrec, 3));
    d.send(p, &ack(PacketType::Pubrel, 3));
    assert_eq!(d.take(p), ack(PacketType::Pubcomp, 3));
    assert_eq!(publishes(&d.take(s)).len(), 1);
}

// ----- priority 4: retained messages -----------------------------------------------------------

#[test]
fn retained_set_replace_clear() {
    let mut d = Driver::standard();
    let p = d.connect("p");
    d.send(p, &publish("r/1", b"first", Delivery::AtMostOnce, true));
    d.send(p, &publish("r/1", b"second", Delivery::AtMostOnce, true));
    d.send(p, &publish("r/2", b"other", Delivery::AtMostOnce, true));
    assert_eq!(d.status().retained, 2);
    let s = d.connect("s");
    d.subscribe(s, &[("r/1", QoS::AtMostOnce)], &[0]);
    assert_eq!(
        publishes(&d.take(s)),
        std::vec![("r/1".into(), b"second".to_vec(), Delivery::AtMostOnce, true)],
        "[MQTT-3.3.1-6] delivered with RETAIN set"
    );
    // Forwarded to a subscriber, a retained publish carries RETAIN 0 ([MQTT-3.3.1-9]).
    d.send(p, &publish("r/1", b"third", Delivery::AtMostOnce, true));
    assert!(!publishes(&d.take(s))[0].3);
    // An empty payload clears it ([MQTT-3.3.1-10]).
    d.send(p, &publish("r/1", b"", Delivery::AtMostOnce, true));
    let _ = d.take(s);
    assert_eq!(d.status().retained, 1);
    let t = d.connect("t");
    d.subscribe(t, &[("r/#", QoS::AtMostOnce)], &[0]);
    assert_eq!(
        publishes(&d.take(t)),
        std::vec![("r/2".into(), b"other".to_vec(), Delivery::AtMostOnce, true)]
    );
}

#[test]
fn a_full_retained_table_drops_and_counts() {
    let mut d = Driver::new(Capacity {
        retained: 1,
        ..Capacity::DEFAULT
    });
    let p = d.connect("p");
    d.send(p, &publish("a", b"1", Delivery::AtMostOnce, true));
    d.send(p, &publish("b", b"2", Delivery::AtMostOnce, true));
    assert_eq!(d.status().retained, 1);
    assert_eq!(d.status().retained_dropped, 1);
}

// ----- priority 5: will --------------------------------------------------------------------------

fn will() -> Option<Will<'static>> {
    Some(Will {
        topic: "wills/w",
        message: b"gone",
        qos: QoS::AtMostOnce,
        retain: false,
    })
}

#[test]
fn will_is_published_on_abrupt_close() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    d.subscribe(s, &[("wills/#", QoS::AtMostOnce)], &[0]);
    let w = d.connect_with("w", 0, will());
    d.hang_up(w);
    assert!(d.closed(w));
    assert_eq!(
        publishes(&d.take(s)),
        std::vec![(
            "wills/w".into(),
            b"gone".to_vec(),
            Delivery::AtMostOnce,
            false
        )]
    );
}

#[test]
fn will_is_published_on_keep_alive_expiry() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    d.subscribe(s, &[("wills/#", QoS::AtMostOnce)], &[0]);
    let w = d.connect_with("w", 2, will());
    d.advance(3_001);
    assert!(d.closed(w));
    assert_eq!(publishes(&d.take(s)).len(), 1);
}

#[test]
fn will_is_not_published_on_disconnect() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    d.subscribe(s, &[("wills/#", QoS::AtMostOnce)], &[0]);
    let w = d.connect_with("w", 0, will());
    d.send(w, &empty(write_disconnect));
    assert!(d.closed(w));
    assert!(d.take(s).is_empty());
    assert_eq!(d.status().clients, 1);
}

#[test]
fn a_takeover_of_a_connection_that_sent_disconnect_publishes_no_will() {
    // [MQTT-3.14.4-3]: the will is discarded when DISCONNECT arrives, though the connection
    // is still closing (its PINGRESP unsent: its client reads nothing) when another takes
    // the session over. Found by the simulator (seed 832).
    let mut d = Driver::standard();
    let s = d.connect("s");
    d.subscribe(s, &[("wills/#", QoS::AtMostOnce)], &[0]);
    let w = d.connect_with("w", 0, will());
    d.pause(w, true);
    let mut goodbye = empty(write_pingreq);
    goodbye.extend(empty(write_disconnect));
    d.send(w, &goodbye);
    assert!(!d.closed(w), "still closing: its output is unsent");
    let again = d.connect("w");
    assert!(!d.closed(again));
    assert!(d.take(s).is_empty(), "no will after DISCONNECT");
    assert_eq!(d.status().takeovers, 1);
}

#[test]
fn retained_will_is_kept() {
    let mut d = Driver::standard();
    let w = d.connect_with(
        "w",
        0,
        Some(Will {
            topic: "status/w",
            message: b"offline",
            qos: QoS::AtLeastOnce,
            retain: true,
        }),
    );
    d.hang_up(w);
    let s = d.connect("s");
    d.subscribe(s, &[("status/+", QoS::AtLeastOnce)], &[1]);
    let got = publishes(&d.take(s));
    assert_eq!(got.len(), 1);
    assert!(matches!(got[0].2, Delivery::AtLeastOnce(_)) && got[0].3);
}

// ----- bad input -----------------------------------------------------------------------------------

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever follows a CONNECT, split wherever, the broker answers or closes: it never
    /// panics, and a closed connection leaves no session behind.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        split in 0usize..300,
    ) {
        let mut d = Driver::standard();
        let s = d.connect("s");
        d.subscribe(s, &[("#", QoS::ExactlyOnce)], &[2]);
        let c = d.connect("fuzz");
        let split = split.min(bytes.len());
        d.send(c, &bytes[..split]);
        d.send(c, &bytes[split..]);
        d.hang_up(c);
        proptest::prop_assert!(d.closed(c));
        proptest::prop_assert_eq!(d.status().clients, 1);
    }
}

/// Twenty QoS 2 messages to a subscriber whose in-flight table holds sixteen: the last four
/// wait in its inbox and go out, each once and in order, as the first complete. The
/// publisher keeps all twenty in flight at once, as mosquitto_pub and paho do by default.
#[test]
fn qos2_messages_past_the_inflight_table_go_out_in_order_once() {
    let mut d = Driver::standard();
    let s = d.connect("s");
    let p = d.connect("p");
    d.subscribe(s, &[("t", QoS::ExactlyOnce)], &[2]);
    for i in 0..20u16 {
        let payload = std::format!("m{i}");
        d.send(
            p,
            &publish(
                "t",
                payload.as_bytes(),
                Delivery::ExactlyOnce(id(i + 1)),
                false,
            ),
        );
    }
    for i in 0..20u16 {
        d.send(p, &ack(PacketType::Pubrel, i + 1));
    }
    assert!(
        !d.closed(p),
        "twenty QoS 2 messages in flight from one client are taken"
    );
    let mut seen = Vec::new();
    let mut output = d.take(s);
    // Bounded: each round acknowledges what arrived; at most twenty rounds.
    for _ in 0..21 {
        let got = publishes_among(&output);
        if got.is_empty() {
            break;
        }
        output.clear();
        for (_, payload, delivery, _) in got {
            seen.push(std::string::String::from_utf8(payload).unwrap());
            let Delivery::ExactlyOnce(pid) = delivery else {
                panic!("QoS 2");
            };
            d.send(s, &ack(PacketType::Pubrec, pid.get()));
            d.send(s, &ack(PacketType::Pubcomp, pid.get()));
            // PUBRELs and the PUBLISHes that the freed places let out.
            output.extend(d.take(s));
        }
    }
    let expected: Vec<_> = (0..20).map(|i| std::format!("m{i}")).collect();
    assert_eq!(seen, expected);
}
