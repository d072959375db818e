//! The overload policy: who gives up a slot when a newcomer needs one, and the shorter
//! first-byte deadline under pressure.

use super::TestId;
use super::harness::Harness;
use super::{app, config};
use crate::{Event, SlotId};
use std::vec::Vec;

const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";

/// A connection arrives at a full server and waits, as in a backend's waiting room: the
/// server is asked to make room for it, then it is accepted.
fn arrive(h: &mut Harness) -> SlotId {
    if let Some(slot) = h.try_connect() {
        return slot;
    }
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    h.connect()
}

/// Every slot taken: the newcomer is refused for now, and making room for it closes the
/// connection that has waited longest without a complete request head; a partial head counts
/// as none.
#[test]
fn a_full_server_sheds_the_oldest_connection_without_a_head() {
    let mut h = Harness::new(config(), app());
    let silent = h.connect();
    let dripping = h.connect();
    h.client_send(dripping, b"GET /plaintext HTTP/1.1\r\nHo");
    let prompt = h.connect();
    h.client_send(prompt, REQUEST);
    assert!(h.take_output(prompt).ends_with("Hello, World!"));
    let late = h.connect();
    h.advance(100);

    assert!(h.try_connect().is_none(), "full: the newcomer waits");
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(silent), "the oldest unproven connection is shed");
    assert!(h.is_open(dripping) && h.is_open(prompt) && h.is_open(late));
    assert!(h.server.can_accept(), "its slot is free again");
    let newcomer = h.connect();

    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(dripping), "a partial head is no head");
    let second = h.connect();
    h.advance(100);
    // Still unproven, in accept order: `late`, `newcomer`, `second`; `prompt` is idle.
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(late));
    assert!(h.is_open(newcomer) && h.is_open(second) && h.is_open(prompt));
    assert_eq!(h.server.stats().shed, 3);
    assert_eq!(h.server.stats().reclaimed, 0);
}

/// `make_room(n)` closes as many connections as wait, no more, counting the closes already
/// under way; with nobody waiting it closes nobody.
#[test]
fn room_is_made_for_as_many_as_wait() {
    let mut h = Harness::new(config(), app());
    let slots: Vec<_> = (0..4).map(|_| h.connect()).collect();
    h.advance(100);
    let _ = h.server.handle(Event::MakeRoom { waiting: 0 });
    assert_eq!(h.server.stats().shed, 0);
    let _ = h.server.handle(Event::MakeRoom { waiting: 2 });
    let _ = h.server.handle(Event::MakeRoom { waiting: 2 });
    assert_eq!(
        h.server.stats().shed,
        2,
        "the first two closes already make room for two"
    );
    h.run();
    assert!(!h.is_open(slots[0]) && !h.is_open(slots[1]));
    assert!(h.is_open(slots[2]) && h.is_open(slots[3]));
}

/// A connection younger than `shed_grace_ms` is never closed to make room: a prompt client's
/// request has a round trip to arrive, however many connections arrive meanwhile.
/// `room_at` says when the oldest becomes eligible; at exactly that time it is.
#[test]
fn young_connections_are_safe_for_the_grace_period() {
    let mut cfg = config();
    cfg.timeouts.shed_grace_ms = 300;
    let mut h = Harness::new(cfg, app());
    let first = h.connect();
    let accepted_at = h.server.now().monotonic;
    h.advance(100);
    let rest: Vec<_> = (0..3).map(|_| h.connect()).collect();
    assert_eq!(h.server.room_at(), Some(accepted_at.after_ms(300)));
    h.advance(100);
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(h.is_open(first), "200 ms old: still safe");
    h.advance(100);
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(first), "300 ms old: shed");
    assert!(rest.iter().all(|&c| h.is_open(c)));
    assert_eq!(h.server.stats().shed, 1);
}

/// With no connection waiting for its first head, the oldest idle keep-alive one makes room
/// (at once: an idle connection has had its chance); with neither, every slot is at work and
/// nothing is closed.
#[test]
fn idle_keep_alive_connections_go_next_and_busy_ones_never() {
    let mut h = Harness::new(config(), app());
    let idle: Vec<_> = (0..4).map(|_| h.connect()).collect();
    for &c in &idle {
        h.client_send(c, REQUEST);
        h.take_output(c);
    }
    assert!(h.try_connect().is_none());
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(idle[0]) && idle[1..].iter().all(|&c| h.is_open(c)));
    assert_eq!(h.server.stats().reclaimed, 1);
    let fresh = h.connect();
    // Unproven before idle, once it has had its grace period.
    h.advance(100);
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(fresh) && h.is_open(idle[1]));

    // Three connections in the middle of a request body, one holding an unsent answer: busy.
    let mut h = Harness::new(config(), app());
    let busy: Vec<_> = (0..4).map(|_| h.connect()).collect();
    for &c in &busy[..3] {
        h.client_send(
            c,
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        );
    }
    h.hold_sends(busy[3]);
    h.client_send(busy[3], REQUEST);
    h.advance(1000);
    assert!(h.try_connect().is_none());
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(busy.iter().all(|&c| h.is_open(c)), "nobody is closed");
    assert_eq!(h.server.stats().shed + h.server.stats().reclaimed, 0);
    assert!(!h.server.can_accept());
}

/// A flood of silent connections never costs a prompt client its slot: each newcomer sheds
/// the oldest silent one, and the prompt client's request is answered.
#[test]
fn a_prompt_client_is_served_through_a_flood() {
    let mut h = Harness::new(config(), app());
    let mut answered = 0;
    for round in 0..50 {
        h.advance(100);
        let prompt = arrive(&mut h);
        h.client_send(prompt, REQUEST);
        for _ in 0..3 {
            arrive(&mut h);
        }
        assert!(
            h.is_open(prompt),
            "round {round}: the prompt client was shed"
        );
        if h.take_output(prompt).ends_with("Hello, World!") {
            answered += 1;
        }
        h.client_close(prompt);
    }
    assert_eq!(answered, 50);
    // Every silent arrival but the first few, which found free slots, shed one.
    assert!(h.server.stats().shed >= 140, "{:?}", h.server.stats());
}

/// Under pressure (default: 3 of 4 slots in use), a new connection has
/// `pressured_first_byte_ms` for its first byte, then is closed silently; once a byte has
/// arrived, the head timeout counts from the accept as usual. Connections accepted before the
/// pressure keep the head timeout.
#[test]
fn under_pressure_the_first_byte_deadline_is_shorter() {
    let mut cfg = config();
    cfg.timeouts.head_ms = 10_000;
    cfg.timeouts.pressured_first_byte_ms = 1_000;
    let mut h = Harness::new(cfg, app());
    let calm = [h.connect(), h.connect()];
    let pressured_silent = h.connect();
    let pressured_talking = h.connect();
    assert_eq!(h.server.stats().pressured_accepts, 2);
    h.advance(500);
    h.client_send(pressured_talking, b"GET /plaintext HTTP/1.1\r\n");
    h.advance(700);
    assert!(!h.is_open(pressured_silent), "no first byte within 1 s");
    assert!(h.is_open(pressured_talking) && calm.iter().all(|&c| h.is_open(c)));
    assert_eq!(h.server.stats().first_byte_timeouts, 1);
    // The one that spoke gets the rest of its head timeout (10 s from the accept): 408.
    h.advance(8_600);
    assert!(h.is_open(pressured_talking));
    h.advance(300);
    assert!(
        h.take_output(pressured_talking)
            .starts_with("HTTP/1.1 408 ")
    );
    assert_eq!(h.server.stats().head_timeouts, 3, "the two calm ones too");
}

/// The limit itself: at `pressure_percent` the server is under pressure, one slot below it is
/// not; 100 puts only the last slot under pressure and 0 every connection.
#[test]
fn pressure_starts_at_its_percentage() {
    for (percent, pressured) in [(75u8, 2u64), (76, 1), (100, 1), (0, 4)] {
        let mut cfg = config();
        cfg.pressure_percent = percent;
        let mut h = Harness::new(cfg, app());
        for _ in 0..4 {
            h.connect();
        }
        assert_eq!(
            h.server.stats().pressured_accepts,
            pressured,
            "at {percent}%"
        );
    }
    let mut cfg = config();
    cfg.pressure_percent = 101;
    assert!(cfg.validate().unwrap_err().starts_with("pressure_percent"));
}

/// Raw TCP connections are unproven until their first byte, then never shed as such.
#[test]
fn raw_tcp_connections_are_proven_by_their_first_byte() {
    let mut h = Harness::new(config(), app());
    let talking = h.connect_service(TestId::Tcp);
    h.client_send(talking, b"hi");
    assert_eq!(h.take_output(talking), "hi");
    let silent = h.connect_service(TestId::Tcp);
    h.connect();
    h.connect();
    h.advance(100);
    let _ = h.server.handle(Event::MakeRoom { waiting: 1 });
    h.run();
    assert!(!h.is_open(silent) && h.is_open(talking));
}

/// A full server's snapshot shows the queues; the Prometheus text carries every counter.
#[test]
fn gauges_and_the_prometheus_text() {
    let mut h = Harness::new(config(), app());
    let a = h.connect();
    h.client_send(a, REQUEST);
    h.connect();
    let snapshot = h.server.snapshot();
    assert_eq!(snapshot.gauges.active_connections, 2);
    assert_eq!(snapshot.gauges.unproven_connections, 1);
    assert_eq!(snapshot.gauges.idle_connections, 1);
    let text = std::format!(
        "{}",
        crate::PrometheusText {
            snapshot: &snapshot,
            labels: "instance=\"0\""
        }
    );
    assert!(text.contains("zzz_connections_accepted_total{instance=\"0\"} 2\n"));
    assert!(text.contains("zzz_responses_total{instance=\"0\",class=\"2xx\"} 1\n"));
    assert!(text.contains(
        "# TYPE zzz_connections_unproven gauge\nzzz_connections_unproven{instance=\"0\"} 1\n"
    ));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(
            name.starts_with("zzz_") && value.parse::<u64>().is_ok(),
            "{line}"
        );
    }
}
