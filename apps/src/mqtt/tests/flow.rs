//! Flow control: a publisher waits while a receiver's inbox is full, and nothing is lost;
//! one that has waited `stall_ms` goes on, the full inbox dropping its oldest.

use super::*;

/// Packet identifiers of the PUBACKs in `bytes`, which holds nothing else.
fn pubacks(bytes: &[u8]) -> Vec<u16> {
    let sent = packets(bytes);
    assert!(
        sent.iter().all(|p| p.0 == PacketType::Puback),
        "not only PUBACKs: {sent:?}"
    );
    sent.iter().map(|p| p.1).collect()
}

/// A subscriber to `t` at `qos` that has stopped reading, and a publisher.
fn paused_subscriber(d: &mut Driver, qos: QoS) -> (usize, usize) {
    let s = d.connect("s");
    let p = d.connect("p");
    d.subscribe(s, &[("t", qos)], &[qos.bits()]);
    d.pause(s, true);
    (s, p)
}

/// 100 QoS 1 messages of 100 bytes, numbered in their first two bytes.
fn publish_hundred(d: &mut Driver, p: usize) {
    for i in 1..=100u16 {
        let mut payload = [0u8; 100];
        payload[..2].copy_from_slice(&i.to_be_bytes());
        d.send(
            p,
            &publish("t", &payload, Delivery::AtLeastOnce(id(i)), false),
        );
    }
}

#[test]
fn a_publisher_waits_while_a_receivers_inbox_is_full_and_nothing_is_lost() {
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let mut d = Driver::standard();
        let (s, p) = paused_subscriber(&mut d, qos);
        publish_hundred(&mut d, p);
        // The send buffer (1 KiB) and the inbox (4 KiB) hold fewer than 100 messages of
        // 100 bytes: the publisher waits, its next PUBLISH unread and unacknowledged.
        let acked = pubacks(&d.take(p));
        assert!(acked.len() < 60, "{} acknowledged", acked.len());
        assert_eq!(acked, (1..=acked.len() as u16).collect::<Vec<_>>());
        assert_eq!((d.status().stalled, d.status().dropped), (1, 0));
        assert!(!d.closed(p) && !d.closed(s));
        // The subscriber reads again: everything arrives, in order, once.
        d.pause(s, false);
        let mut got = Vec::new();
        // Bounded: at most 100 messages, each acknowledged at QoS 1.
        for _ in 0..200 {
            let batch = publishes(&d.take(s));
            if batch.is_empty() {
                break;
            }
            for (_, payload, delivery, _) in &batch {
                got.push(u16::from_be_bytes([payload[0], payload[1]]));
                if let Delivery::AtLeastOnce(pid) = delivery {
                    d.send(s, &ack(PacketType::Puback, pid.get()));
                }
            }
        }
        assert_eq!(got, (1..=100).collect::<Vec<_>>(), "at {qos:?}");
        let acked_after = pubacks(&d.take(p));
        assert_eq!(acked.len() + acked_after.len(), 100);
        let status = d.status();
        assert_eq!(
            (status.stalled, status.dropped),
            (0, 0),
            "{qos:?} {status:?}"
        );
        assert!(status.stalls >= 1);
    }
}

#[test]
fn a_publisher_never_waits_on_its_own_inbox() {
    // Its own QoS 1 deliveries wait in its inbox for PUBACKs it never sends: were it to wait
    // for room there, it would wait for itself.
    let mut d = Driver::new(Capacity {
        inflight: 2,
        ..Capacity::DEFAULT
    });
    let p = d.connect("p");
    d.subscribe(p, &[("t", QoS::AtLeastOnce)], &[1]);
    publish_hundred(&mut d, p);
    let status = d.status();
    assert_eq!((status.stalls, status.messages_in), (0, 100));
    assert!(!d.closed(p));
}

#[test]
fn a_publisher_that_waited_stall_ms_goes_on_and_the_full_inbox_drops_its_oldest() {
    let mut d = Driver::standard();
    let (s, p) = paused_subscriber(&mut d, QoS::AtMostOnce);
    publish_hundred(&mut d, p);
    let waiting = pubacks(&d.take(p)).len();
    // Just before `stall_ms` (default 2 s) it still waits; at `stall_ms` it goes on.
    d.advance(1_999);
    assert_eq!(pubacks(&d.take(p)).len(), 0);
    d.advance(1);
    assert_eq!(waiting + pubacks(&d.take(p)).len(), 100);
    let status = d.status();
    assert_eq!((status.messages_in, status.stalled), (100, 0));
    d.pause(s, false);
    let got = publishes(&d.take(s));
    assert!(got.len() < 100);
    // What the subscriber missed is counted: delivered and dropped make the 100.
    assert_eq!(d.status().messages_out + d.status().dropped, 100);
}

#[test]
fn a_waiting_publisher_that_hangs_up_is_no_longer_counted() {
    let mut d = Driver::standard();
    let (s, p) = paused_subscriber(&mut d, QoS::AtLeastOnce);
    publish_hundred(&mut d, p);
    assert_eq!(d.status().stalled, 1);
    // Its EOF is behind what it sent: read when that has gone, after `stall_ms`.
    d.hang_up(p);
    d.advance(2_000);
    assert!(d.closed(p));
    assert_eq!(d.status().stalled, 0);
    d.pause(s, false);
    assert!(!d.closed(s));
}
