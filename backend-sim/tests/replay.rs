//! Record and replay round trip: a seed's run, recorded in the record format, encoded and
//! decoded, fed into a fresh server, makes the server ask for exactly the same operations
//! (same output digest: every op, every byte of every send, every datagram reply) and end with
//! the same counters.

use zzz_sim::record::{Recording, replay};
use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, app, run};

#[test]
fn recorded_runs_replay_identically() {
    let mut replayed = 0;
    for seed in 0..24 {
        let r = run(
            seed,
            RunOptions {
                keep: Keep::Tail,
                record: true,
            },
        );
        assert!(r.failure.is_none(), "seed {seed}: {:?}", r.failure);
        let recording = r.recording.expect("recorded");
        let bytes = recording.encode();
        let decoded = Recording::decode(&bytes).expect("decodes");
        assert_eq!(decoded, recording, "seed {seed}: encode/decode round trip");
        let report = replay(&decoded, app::app(), &[app::tcp_lines], &[app::udp_pong])
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        assert_eq!(report.digest, r.output_digest, "seed {seed}: output digest");
        assert_eq!(report.stats, r.stats, "seed {seed}: counters");
        assert_eq!(report.records, recording.records.len());
        replayed += report.records;
    }
    assert!(replayed > 1000, "the recordings held real traffic");
}

#[test]
fn a_diverging_recording_is_reported() {
    let r = run(
        5,
        RunOptions {
            keep: Keep::Tail,
            record: true,
        },
    );
    let mut recording = r.recording.expect("recorded");
    // A completion for a receive the server never posted.
    recording
        .records
        .insert(0, zzz_sim::record::Record::Sent { slot: 0, n: 1 });
    assert!(replay(&recording, app::app(), &[app::tcp_lines], &[app::udp_pong]).is_err());
    assert!(Recording::decode(b"not a recording").is_err());
}

#[test]
fn a_bounded_recording_is_a_replayable_prefix() {
    let r = run(
        3,
        RunOptions {
            keep: Keep::Tail,
            record: true,
        },
    );
    let full = r.recording.expect("recorded");
    let whole = full.encode();
    // As a backend's bounded recorder would write it, with room for about half.
    let mut buf = vec![0u8; whole.len() / 2];
    let (len, cut) = full.encode_into(&mut buf).expect("room for the header");
    assert!(cut);
    assert!(len <= buf.len());
    let prefix = Recording::decode(&buf[..len]).expect("a truncated recording decodes");
    assert!(prefix.truncated);
    assert_eq!(prefix.config, full.config);
    assert!(!prefix.records.is_empty());
    assert!(prefix.records.len() < full.records.len());
    assert_eq!(prefix.records[..], full.records[..prefix.records.len()]);
    // The flag survives a round trip.
    assert_eq!(Recording::decode(&prefix.encode()).unwrap(), prefix);
    let report =
        replay(&prefix, app::app(), &[app::tcp_lines], &[app::udp_pong]).expect("a prefix replays");
    assert!(report.truncated);
    assert_eq!(report.records, prefix.records.len());
    assert!(report.stats.requests <= r.stats.requests);
}
