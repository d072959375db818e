//! Bugs of the code under test that the simulator found and that are not fixed yet. Each has
//! a probe (a `WorkloadShape` switch, off by default, so that campaigns pass meanwhile): its
//! test runs the seeds that found it with the probe on and asserts that the oracle still
//! finds it. Once the bug is fixed the test fails: then remove the probe, the workload's
//! avoidance of the bug and the test, and add the seeds to `regressions.rs`.

use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, SimParams, run, run_params};

const OPTIONS: RunOptions = RunOptions {
    keep: Keep::Tail,
    record: false,
};

/// Seed `seed` fails with `needle` once `probe` switches its probe on, and passes without.
fn probe_finds(seed: u64, probe: impl Fn(&mut SimParams), needle: &str) {
    let mut params = SimParams::draw(seed);
    probe(&mut params);
    let failure = run_params(params, OPTIONS)
        .failure
        .unwrap_or_else(|| panic!("seed {seed}: the oracle no longer finds the bug"));
    assert!(failure.contains(needle), "seed {seed}: {failure}");
    let r = run(seed, OPTIONS);
    assert!(r.failure.is_none(), "seed {seed}: {:?}", r.failure);
}

/// The MQTT broker loses, when a CONNECT takes a persistent session over, the identifiers of
/// the QoS 2 messages the connection taken over had received and not yet seen released (its
/// `received` table lives in the connection's state, and `keep_on_close` runs only when a
/// connection that still owns its session closes): a client that resumes the session that
/// way and sends such a message again with DUP, as [MQTT-4.4.0-1] asks, has it delivered a
/// second time, which [MQTT-4.3.3-2] forbids (after a resume that followed a close, the
/// identifiers are kept and the duplicate is only acknowledged). Found by seed 72
/// (`--probe mqtt-resend-after-takeover`): c4 (session "a", Clean Session 0) sent p0.1 at
/// QoS 2 on "u" and had its PUBREC, never released it; c6 connected as "a" while c4 was
/// open (c4 closed by the takeover), sent p0.1 again with DUP and its identifier, and the
/// broker routed it again. Seeds 1033, 1386, 1579, 2455, 2730, 2756, 2764 of 0..3,000 find
/// it the same way, and 135, 166, 356, 593, 1028, 1428, 2249 by `BrokerStatus::messages_in`
/// counting the duplicates.
#[test]
fn the_broker_delivers_again_a_qos2_message_sent_again_after_a_takeover() {
    // Without the probe the seed passes: the client sends its unreleased QoS 2 messages again
    // only after a resume that followed a close.
    probe_finds(
        72,
        |p| p.shape.mqtt_probe_resend_after_takeover = true,
        "[MQTT-4.3.3-2]",
    );
}

/// The MQTT broker misreads MQTT over WebSocket when frames arrive in pieces: its reading of
/// frames (`WsStream::deframe`) stops after a ping, leaving the frames behind it unread in
/// the input, and the connection then posts a receive past them; at its next `progress`
/// (woken by its inbox, with the receive still posted) it reads those frames, takes their
/// headers and masks out and shrinks the input (`Link::set_input_end`) under the posted
/// receive (`Link::input_posted`: the space past the input's end is the kernel's until the
/// receive completes), whose bytes then land past the new end, behind stale ones: the
/// stream of frames is corrupt. Found with the probe `mqtt-ws` (MQTT clients over WebSocket,
/// `GET /sim/mqtt`): seed 1346's c18 writes its frames a byte at a time, pings with payload
/// "abcdef", and is answered a pong of [98, 99, 100, 4, 102, 186]; seed 205's c18 is closed
/// with 1002 for frames it never sent (41 seeds of 0..3,000 fail, some connections are left
/// stuck). Reading on past a ping (the pong owed is the latest anyway) makes all 41 pass.
#[test]
fn the_broker_misreads_websocket_frames_split_across_receives() {
    probe_finds(
        1346,
        |p| p.shape.mqtt_probe_ws = true,
        "answers no ping sent",
    );
    probe_finds(
        205,
        |p| p.shape.mqtt_probe_ws = true,
        "Close carries Some(1002)",
    );
}
