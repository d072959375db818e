//! Datagrams at the bounds of the server's reply buffers: with one reply buffer, replies that
//! go out late and datagrams arriving together, the server must drop some (every reply buffer
//! in flight: dropped and counted, as UDP allows) and answer the rest; the simulator's oracle
//! holds every drop and every reply to that rule, and the run must pass it.

use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, SimParams, run_params};

#[test]
fn with_every_reply_buffer_in_flight_datagrams_are_dropped_and_counted() {
    let (mut dropped, mut answered, mut seeds) = (0, 0, 0);
    for seed in 0..20 {
        let mut p = SimParams::draw(seed);
        p.config.datagram_size = 64;
        p.config.datagram_replies = 1;
        p.faults.reply_delay = 1_000_000;
        p.shape.datagrams = 8;
        p.shape.spread_ms = 0;
        let r = run_params(
            p,
            RunOptions {
                keep: Keep::Tail,
                record: false,
            },
        );
        assert!(r.failure.is_none(), "seed {seed}: {:?}", r.failure);
        assert!(r.stats.datagrams <= 8);
        dropped += r.stats.datagrams_dropped;
        answered += r.coverage.count("udp.answered");
        seeds += 1;
    }
    assert_eq!(seeds, 20);
    assert!(
        dropped > 0,
        "no datagram was dropped with one reply buffer held late"
    );
    assert!(answered > 0, "no datagram was answered");
}
