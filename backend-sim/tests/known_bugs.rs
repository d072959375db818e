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

/// MQTT over WebSocket in the simulator (`--probe mqtt-ws`) still fails 6 seeds of 0..3,000
/// (92, 899, 1098, 1619, 2491, 2855), not yet diagnosed: seed 92 ends with the broker
/// counting 15 PUBLISH packets received where at most 14 can have been (one read twice, or
/// the oracle's model of frames is short of something). The probe earlier found the broker
/// moving a connection's input end while a receive was posted into the space past it (seeds
/// 1346 and 205: pongs of garbage, closes with 1002 for frames never sent); that is fixed:
/// the broker keeps the end while a receive is posted. The takeover bug this file held
/// (seed 72: a QoS 2 message sent again after a takeover delivered twice) is fixed too, and
/// its client behaviour is now the default.
#[test]
fn mqtt_over_websocket_still_fails_some_seeds() {
    probe_finds(
        92,
        |p| p.shape.mqtt_probe_ws = true,
        "PUBLISH packets received",
    );
}
