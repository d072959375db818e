//! The MQTT oracle against hand-written server behaviour: what a correct broker writes
//! passes, and each kind of wrong answer fails — a wrong CONNACK code, a delivery to a
//! client with no matching subscription, a QoS 2 message delivered twice, a QoS above the
//! granted one, an identifier reused while in flight, a retained message nobody retained, a
//! resumed session not sent its messages in flight again first, in order, as first sent.

use std::collections::BTreeMap;

use crate::mqtt_client::{MqttClient, Sent};
use crate::mqtt_oracle::MqttOracle;
use crate::mqtt_wire::{self as wire, ConnectSpec, PUBACK, PUBREC};
use crate::workload::PublishSpec;

/// Clients, the oracle, and the events in between.
struct Scene {
    o: MqttOracle,
    clients: BTreeMap<usize, (MqttClient, usize)>,
}

impl Scene {
    fn new() -> Scene {
        Scene {
            o: MqttOracle::new(400),
            clients: BTreeMap::new(),
        }
    }

    /// The next event.
    fn event(&mut self) {
        self.o.model.next_event();
    }

    /// Client `c` writes `sent`, and the server has it at once.
    fn send(&mut self, c: usize, sent: Sent) {
        let (client, len) = self.clients.entry(c).or_default();
        let owed = client.register(&sent);
        *len += 10;
        let end = *len;
        self.o.commit(c, end, sent, owed);
        self.o.arrived(c, end);
    }

    /// The server writes `bytes` to client `c`.
    fn server(&mut self, c: usize, bytes: &[u8]) {
        self.o.on_written(c, bytes).expect("a server packet");
    }

    fn judge(&mut self) -> Result<(), String> {
        self.o.judge_event()
    }

    /// Client `c` connects as `id` (Clean Session `clean`) and is accepted.
    fn connect(&mut self, c: usize, id: &str, clean: bool) {
        self.event();
        self.send(c, Sent::Connect(spec(id, clean)));
        self.server(c, &[0x20, 2, 0, 0]);
        self.judge().expect("accepted");
    }

    /// Client `c` subscribes to `filter` at `qos` (its packet `id`), granted.
    fn subscribe(&mut self, c: usize, id: u16, filter: &str, qos: u8) {
        self.event();
        let filters = vec![(filter.to_string(), qos)];
        self.send(c, Sent::Subscribe { id, filters });
        let [hi, lo] = id.to_be_bytes();
        self.server(c, &wire::packet(0x90, &[hi, lo, qos]));
        self.judge().expect("granted");
    }

    /// Client `c` publishes `payload` on `topic` (QoS `qos`, identifier `id`).
    fn publish(&mut self, c: usize, topic: &str, payload: &str, qos: u8, id: u16, dup: bool) {
        let spec = PublishSpec {
            topic: topic.into(),
            payload: payload.as_bytes().to_vec(),
            qos,
            retain: false,
        };
        self.send(c, Sent::Publish { spec, id, dup });
    }
}

fn spec(id: &str, clean: bool) -> ConnectSpec {
    ConnectSpec {
        level: 4,
        client_id: id.into(),
        clean,
        keep_alive: 0,
        will: None,
        user: None,
    }
}

#[test]
fn a_wrong_connack_code_fails() {
    let mut s = Scene::new();
    s.event();
    s.send(0, Sent::Connect(spec("a", true)));
    s.server(0, &[0x20, 2, 0, 3]);
    let e = s.judge().expect_err("0x03 with room in the table");
    assert!(e.contains("CONNACK code 3"), "{e}");

    // Six sessions fill the table: a seventh identifier is owed 0x03, not 0x00.
    let mut s = Scene::new();
    for (c, id) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        s.connect(c, id, false);
    }
    s.event();
    s.send(6, Sent::Connect(spec("g", true)));
    s.server(6, &[0x20, 2, 0, 0]);
    assert!(s.judge().is_err(), "accepted into a full table");
    let mut s2 = Scene::new();
    for (c, id) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        s2.connect(c, id, false);
    }
    s2.event();
    s2.send(6, Sent::Connect(spec("g", true)));
    s2.server(6, &[0x20, 2, 0, 3]);
    s2.judge().expect("a full table refused with 0x03");

    // A persistent session resumed: session present 1, not 0.
    let mut s = Scene::new();
    s.connect(0, "a", false);
    s.event();
    s.o.close_requested(0, false).expect("closed");
    s.event();
    s.o.closed(0);
    s.event();
    s.send(1, Sent::Connect(spec("a", false)));
    s.server(1, &[0x20, 2, 0, 0]);
    assert!(
        s.judge().is_err(),
        "a resumed session without session present"
    );
}

#[test]
fn a_delivery_to_a_client_without_a_matching_subscription_fails() {
    let mut s = Scene::new();
    s.connect(0, "a", true);
    s.connect(1, "b", true);
    s.connect(2, "c", true);
    s.subscribe(0, 1, "t/+", 1);
    s.subscribe(1, 1, "u", 1);
    s.event();
    s.publish(2, "t/a", "p2.1:hello", 1, 1, false);
    s.server(2, &wire::ack(PUBACK, 1));
    s.server(0, &wire::publish("t/a", b"p2.1:hello", 1, false, false, 1));
    s.judge().expect("the subscriber gets it");
    s.event();
    s.server(1, &wire::publish("t/a", b"p2.1:hello", 1, false, false, 1));
    let e = s.judge().expect_err("b subscribed to `u` only");
    assert!(e.contains("no subscription"), "{e}");

    // Nor to a client that unsubscribed before it was published.
    let mut s = Scene::new();
    s.connect(0, "a", true);
    s.connect(1, "b", true);
    s.subscribe(0, 1, "#", 0);
    s.event();
    let filters = vec!["#".to_string()];
    s.send(0, Sent::Unsubscribe { id: 2, filters });
    s.server(0, &wire::packet(0xB0, &[0, 2]));
    s.judge().expect("unsubscribed");
    s.event();
    s.publish(1, "t", "p1.1:late", 0, 0, false);
    s.server(0, &wire::publish("t", b"p1.1:late", 0, false, false, 0));
    assert!(s.judge().is_err(), "delivered after its UNSUBACK");
}

#[test]
fn a_qos2_message_delivered_twice_fails() {
    let run = |twice: bool| {
        let mut s = Scene::new();
        s.connect(0, "a", true);
        s.connect(1, "b", true);
        s.subscribe(0, 1, "t", 2);
        s.event();
        s.publish(1, "t", "p1.1:once", 2, 1, false);
        // The same message again, DUP set, before its PUBREL: a duplicate.
        s.publish(1, "t", "p1.1:once", 2, 1, true);
        s.server(1, &wire::ack(PUBREC, 1));
        s.server(1, &wire::ack(PUBREC, 1));
        s.server(0, &wire::publish("t", b"p1.1:once", 2, false, false, 1));
        if twice {
            s.server(0, &wire::publish("t", b"p1.1:once", 2, false, false, 2));
        }
        s.judge()
    };
    run(false).expect("once");
    let e = run(true).expect_err("twice");
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn a_qos_above_the_granted_one_or_a_reused_identifier_fails() {
    let mut s = Scene::new();
    s.connect(0, "a", true);
    s.connect(1, "b", true);
    s.subscribe(0, 1, "t", 0);
    s.event();
    s.publish(1, "t", "p1.1:q", 1, 1, false);
    s.server(1, &wire::ack(PUBACK, 1));
    s.server(0, &wire::publish("t", b"p1.1:q", 1, false, false, 1));
    let e = s.judge().expect_err("granted QoS 0");
    assert!(e.contains("QoS"), "{e}");

    let mut s = Scene::new();
    s.connect(0, "a", true);
    s.connect(1, "b", true);
    s.subscribe(0, 1, "t", 1);
    s.event();
    s.publish(1, "t", "p1.1:first", 1, 1, false);
    s.publish(1, "t", "p1.2:second", 1, 2, false);
    s.server(1, &wire::ack(PUBACK, 1));
    s.server(1, &wire::ack(PUBACK, 2));
    s.server(0, &wire::publish("t", b"p1.1:first", 1, false, false, 7));
    s.server(0, &wire::publish("t", b"p1.2:second", 1, false, false, 7));
    let e = s.judge().expect_err("identifier 7 twice in flight");
    assert!(e.contains("in flight"), "{e}");
}

#[test]
fn a_retained_message_nobody_retained_fails() {
    let mut s = Scene::new();
    s.connect(0, "a", true);
    s.connect(1, "b", true);
    s.event();
    s.publish(1, "t", "p1.1:not-retained", 1, 1, false);
    s.server(1, &wire::ack(PUBACK, 1));
    s.judge().expect("published");
    s.event();
    s.send(
        0,
        Sent::Subscribe {
            id: 1,
            filters: vec![("t".into(), 1)],
        },
    );
    s.server(0, &wire::packet(0x90, &[0, 1, 1]));
    s.server(
        0,
        &wire::publish("t", b"p1.1:not-retained", 1, true, false, 1),
    );
    let e = s.judge().expect_err("never retained");
    assert!(e.contains("never retained"), "{e}");
}

/// Client 0 (session "a", Clean Session 0) subscribed to `t` is sent `p1.1` (QoS 1, id 1) and
/// `p1.2` (QoS 2, id 2), acknowledges neither (or, `pubrec`, answers p1.2's PUBREC and gets
/// its PUBREL) and closes; client 2 resumes the session.
fn resumed(pubrec: bool) -> Scene {
    let mut s = Scene::new();
    s.connect(0, "a", false);
    s.connect(1, "b", true);
    s.subscribe(0, 1, "t", 2);
    s.event();
    s.publish(1, "t", "p1.1:one", 1, 1, false);
    s.publish(1, "t", "p1.2:two", 2, 2, false);
    s.server(1, &wire::ack(PUBACK, 1));
    s.server(1, &wire::ack(PUBREC, 2));
    s.server(0, &wire::publish("t", b"p1.1:one", 1, false, false, 1));
    s.server(0, &wire::publish("t", b"p1.2:two", 2, false, false, 2));
    s.judge().expect("delivered");
    if pubrec {
        s.event();
        s.send(0, Sent::Pubrec(2));
        s.server(0, &wire::ack(wire::PUBREL, 2));
        s.judge().expect("released");
    }
    s.event();
    s.o.close_requested(0, false).expect("closed");
    s.event();
    s.o.closed(0);
    s.event();
    s.send(2, Sent::Connect(spec("a", false)));
    s.server(2, &[0x20, 2, 1, 0]);
    s.judge().expect("resumed");
    s
}

#[test]
fn a_resumed_session_is_sent_its_messages_in_flight_again_first_in_order() {
    let mut s = resumed(false);
    s.event();
    s.server(2, &wire::publish("t", b"p1.1:one", 1, false, true, 1));
    s.server(2, &wire::publish("t", b"p1.2:two", 2, false, true, 2));
    s.judge().expect("both sent again, in order");

    let mut s = resumed(true);
    s.event();
    s.server(2, &wire::publish("t", b"p1.1:one", 1, false, true, 1));
    s.server(2, &wire::ack(wire::PUBREL, 2));
    s.judge().expect("the PUBLISH again, then the PUBREL");

    let mut s = resumed(false);
    s.event();
    s.server(2, &wire::publish("t", b"p1.2:two", 2, false, true, 2));
    let e = s.judge().expect_err("out of order");
    assert!(e.contains("sent again where"), "{e}");

    let mut s = resumed(true);
    s.event();
    s.server(2, &wire::publish("t", b"p1.1:one", 1, false, true, 1));
    s.server(2, &wire::publish("t", b"p1.2:two", 2, false, true, 2));
    let e = s.judge().expect_err("a PUBLISH where its PUBREL is owed");
    assert!(e.contains("sent again where"), "{e}");

    let mut s = resumed(false);
    s.event();
    s.publish(1, "t", "p1.3:new", 0, 0, false);
    s.server(2, &wire::publish("t", b"p1.3:new", 0, false, false, 0));
    let e = s.judge().expect_err("a new message first");
    assert!(e.contains("a new message before"), "{e}");

    let mut s = resumed(false);
    s.event();
    s.server(2, &wire::publish("t", b"p1.1:one", 1, false, true, 1));
    s.server(2, &wire::publish("t", b"p1.2:two", 1, false, true, 2));
    let e = s.judge().expect_err("sent again at another QoS");
    assert!(e.contains("sent again where"), "{e}");

    let mut s = resumed(false);
    s.event();
    s.server(2, &wire::publish("t", b"p1.1:one", 1, false, true, 1));
    s.server(2, &wire::publish("t", b"p1.2:two", 2, false, true, 2));
    s.server(2, &wire::publish("t", b"p1.1:one", 1, false, true, 1));
    let e = s.judge().expect_err("sent again twice");
    assert!(e.contains("no message was in flight"), "{e}");
}
