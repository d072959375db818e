//! Persistent sessions (Clean Session 0): subscriptions and QoS 1 and 2 messages kept while
//! the client is away, and what was in flight sent again when it comes back.

use super::*;

fn connect_session(client_id: &str, clean_session: bool) -> Vec<u8> {
    let mut buf = [0u8; 128];
    let n = write_connect(
        &mut buf,
        &Connect {
            clean_session,
            keep_alive: 0,
            client_id,
            will: None,
            username: None,
            password: None,
        },
    )
    .unwrap();
    buf[..n].to_vec()
}

fn session_present(bytes: &[u8]) -> bool {
    assert_eq!(&bytes[..2], &[0x20, 0x02], "a CONNACK");
    assert_eq!(bytes[3], 0, "accepted");
    bytes[2] == 1
}

#[test]
fn a_persistent_session_keeps_subscriptions_and_queues_qos1() {
    // [MQTT-3.1.2-4], [MQTT-3.1.2-5], [MQTT-3.2.2-2]
    let mut d = Driver::standard();
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    assert!(!session_present(&d.take(s)), "no session to resume yet");
    d.subscribe(s, &[("t/#", QoS::AtLeastOnce)], &[1]);
    d.send(s, &empty(write_disconnect));
    assert!(d.closed(s));
    assert_eq!(d.status().subscriptions, 1, "kept while away");
    let p = d.connect("p");
    d.send(
        p,
        &publish("t/1", b"kept", Delivery::AtLeastOnce(id(1)), false),
    );
    d.send(p, &qos0("t/2", b"not kept"));
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    let out = d.take(s);
    assert!(session_present(&out[..4]));
    let got = publishes(&out[4..]);
    assert_eq!(got.len(), 1, "QoS 1 queued, QoS 0 not: {got:?}");
    assert_eq!(got[0].1, b"kept");
    assert!(matches!(got[0].2, Delivery::AtLeastOnce(_)));
    d.send(p, &qos0("t/3", b"live"));
    assert_eq!(
        publishes(&d.take(s))[0].1,
        b"live",
        "the subscription is back"
    );
}

#[test]
fn clean_session_discards_a_persistent_one() {
    // [MQTT-3.1.2-6]
    let mut d = Driver::standard();
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    let _ = d.take(s);
    d.subscribe(s, &[("t", QoS::AtLeastOnce)], &[1]);
    d.hang_up(s);
    let s = d.accept();
    d.send(s, &connect_session("keeper", true));
    assert!(!session_present(&d.take(s)));
    assert_eq!(d.status().subscriptions, 0);
    let p = d.connect("p");
    d.send(p, &qos0("t", b"x"));
    assert!(d.take(s).is_empty());
}

#[test]
fn a_full_session_queue_drops_and_counts() {
    let mut d = Driver::new(Capacity {
        queue_bytes: 32,
        ..Capacity::DEFAULT
    });
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    let _ = d.take(s);
    d.subscribe(s, &[("t", QoS::AtLeastOnce)], &[1]);
    d.send(s, &empty(write_disconnect));
    let p = d.connect("p");
    for i in 1..=4u16 {
        d.send(
            p,
            &publish("t", b"0123456789", Delivery::AtLeastOnce(id(i)), false),
        );
    }
    // Each entry: 7 + 3 + 1 + 10 = 21 bytes; one fits in 32.
    assert_eq!(d.status().dropped, 3);
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    let out = d.take(s);
    assert_eq!(publishes(&out[4..]).len(), 1);
}

/// A persistent subscriber to `t` at `qos`: (its client number, the publisher's).
fn keeper(d: &mut Driver, qos: QoS) -> (usize, usize) {
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    let _ = d.take(s);
    d.subscribe(s, &[("t", qos)], &[qos.bits()]);
    (s, d.connect("p"))
}

/// The keeper comes back: asserts session present, returns what follows the CONNACK.
fn come_back(d: &mut Driver) -> (usize, Vec<Sent>) {
    let s = d.accept();
    d.send(s, &connect_session("keeper", false));
    let out = d.take(s);
    assert!(session_present(&out[..4]));
    (s, packets(&out[4..]))
}

#[test]
fn unacknowledged_qos1_is_sent_again_with_its_id_and_dup_before_anything_new() {
    // [MQTT-4.4.0-1], [MQTT-3.3.1-1]
    let mut d = Driver::new(Capacity {
        inflight: 2,
        ..Capacity::DEFAULT
    });
    let (s, p) = keeper(&mut d, QoS::AtLeastOnce);
    for i in 1..=4u16 {
        d.send(
            p,
            &publish("t", &[i as u8], Delivery::AtLeastOnce(id(i)), false),
        );
    }
    let first = packets(&d.take(s));
    assert_eq!(first.len(), 2, "two in flight, two in the inbox");
    d.send(s, &ack(PacketType::Puback, first[0].1));
    let third = packets(&d.take(s));
    assert_eq!(third.len(), 1);
    // Gone with messages 2 and 3 in flight and 4 in its inbox; 5 arrives while it is away.
    d.hang_up(s);
    d.send(p, &publish("t", &[5], Delivery::AtLeastOnce(id(5)), false));
    let (s, again) = come_back(&mut d);
    let expect_again = [(first[1].1, 2u8), (third[0].1, 3)];
    for (got, (pid, payload)) in again.iter().zip(expect_again) {
        assert_eq!(
            (got.0, got.1, got.2, &got.3[..]),
            (PacketType::Publish, pid, true, &[payload][..])
        );
    }
    assert_eq!(
        again.len(),
        2,
        "only the two in flight, before anything new: {again:?}"
    );
    // Acknowledged, they make room for 4 and 5, sent as new.
    d.send(s, &ack(PacketType::Puback, first[1].1));
    d.send(s, &ack(PacketType::Puback, third[0].1));
    let new = packets(&d.take(s));
    let payloads: Vec<u8> = new.iter().map(|p| p.3[0]).collect();
    assert_eq!(payloads, [4, 5]);
    assert!(new.iter().all(|p| !p.2), "new messages carry DUP 0");
    assert_eq!(d.status().dropped, 0);
}

#[test]
fn a_pubrel_is_sent_again_where_pubrec_had_come() {
    let mut d = Driver::standard();
    let (s, p) = keeper(&mut d, QoS::ExactlyOnce);
    d.send(p, &publish("t", b"x", Delivery::ExactlyOnce(id(9)), false));
    let sent = packets(&d.take(s));
    let pid = sent[0].1;
    d.send(s, &ack(PacketType::Pubrec, pid));
    assert_eq!(
        packets(&d.take(s)),
        [(PacketType::Pubrel, pid, false, Vec::new())]
    );
    d.hang_up(s);
    let (s, again) = come_back(&mut d);
    assert_eq!(again, [(PacketType::Pubrel, pid, false, Vec::new())]);
    d.send(s, &ack(PacketType::Pubcomp, pid));
    let (_, after) = {
        d.hang_up(s);
        come_back(&mut d)
    };
    assert!(after.is_empty(), "completed: nothing more to send again");
}

#[test]
fn a_qos2_message_sent_again_by_a_returning_client_is_not_delivered_twice() {
    // [MQTT-4.3.3-2] across a reconnection.
    let mut d = Driver::standard();
    let sub = d.connect("sub");
    d.subscribe(sub, &[("t", QoS::ExactlyOnce)], &[2]);
    let c = d.accept();
    d.send(c, &connect_session("sender", false));
    let _ = d.take(c);
    d.send(
        c,
        &publish("t", b"once", Delivery::ExactlyOnce(id(5)), false),
    );
    assert_eq!(
        packets(&d.take(c)),
        [(PacketType::Pubrec, 5, false, Vec::new())]
    );
    d.hang_up(c);
    let c = d.accept();
    d.send(c, &connect_session("sender", false));
    let _ = d.take(c);
    let mut dup = publish("t", b"once", Delivery::ExactlyOnce(id(5)), false);
    dup[0] |= 0x08;
    d.send(c, &dup);
    assert_eq!(
        packets(&d.take(c)),
        [(PacketType::Pubrec, 5, false, Vec::new())]
    );
    d.send(c, &ack(PacketType::Pubrel, 5));
    assert_eq!(
        packets(&d.take(c)),
        [(PacketType::Pubcomp, 5, false, Vec::new())]
    );
    let delivered = publishes_among(&d.take(sub));
    assert_eq!(delivered.len(), 1, "{delivered:?}");
}

#[test]
fn a_qos2_message_sent_again_after_a_takeover_is_not_delivered_twice() {
    // [MQTT-4.3.3-2] when a connection takes the session over instead of resuming it after a
    // close: the identifiers awaiting PUBREL are in the session's store. Found by the
    // simulator (seed 72).
    let mut d = Driver::standard();
    let sub = d.connect("sub");
    d.subscribe(sub, &[("t", QoS::ExactlyOnce)], &[2]);
    let first = d.accept();
    d.send(first, &connect_session("sender", false));
    let _ = d.take(first);
    d.send(
        first,
        &publish("t", b"once", Delivery::ExactlyOnce(id(5)), false),
    );
    assert_eq!(
        packets(&d.take(first)),
        [(PacketType::Pubrec, 5, false, Vec::new())]
    );
    let second = d.accept();
    d.send(second, &connect_session("sender", false));
    assert!(d.closed(first), "taken over");
    assert!(session_present(&d.take(second)[..4]));
    let mut dup = publish("t", b"once", Delivery::ExactlyOnce(id(5)), false);
    dup[0] |= 0x08;
    d.send(second, &dup);
    assert_eq!(
        packets(&d.take(second)),
        [(PacketType::Pubrec, 5, false, Vec::new())]
    );
    d.send(second, &ack(PacketType::Pubrel, 5));
    assert_eq!(
        packets(&d.take(second)),
        [(PacketType::Pubcomp, 5, false, Vec::new())]
    );
    let delivered = publishes_among(&d.take(sub));
    assert_eq!(delivered.len(), 1, "{delivered:?}");
}
