//! Record and replay round trip: a seed's run, recorded in the record format, encoded and
//! decoded, fed into a fresh server, makes the server ask for exactly the same operations
//! (same output digest: every op, every byte of every send, every datagram reply) and end with
//! the same counters.

use zzz_core::Event;
use zzz_sim::record::{Divergence, Record, Recording, ReplayError, replay};
use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, app, run};

#[test]
fn recorded_runs_replay_identically() {
    let mut replayed = 0;
    let (mut datagrams, mut replies_sent) = (0, 0);
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
        let report = replay(&decoded, app::app()).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        assert_eq!(report.digest, r.output_digest, "seed {seed}: output digest");
        assert_eq!(report.stats, r.stats, "seed {seed}: counters");
        assert_eq!(report.records, recording.records.len());
        replayed += report.records;
        for r in &decoded.records {
            match r.event {
                Event::Datagram { .. } => datagrams += 1,
                Event::DatagramSent { .. } => replies_sent += 1,
                _ => {}
            }
        }
    }
    assert!(replayed > 1000, "the recordings held real traffic");
    assert!(
        datagrams > 0 && replies_sent > 0,
        "the recordings held datagrams ({datagrams}) and replies sent ({replies_sent})"
    );
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
    // A completion for a send the server never posted.
    recording
        .records
        .insert(0, Record::new(Event::Sent { slot: 0, n: 1 }));
    assert!(matches!(
        replay(&recording, app::app()),
        Err(ReplayError::Diverged {
            index: 0,
            what: Divergence::NotPosted { slot: 0, .. }
        })
    ));
    // An accept for a protocol the bench contract (HTTP alone) does not serve.
    let raw_tcp = Record::new(Event::Accepted {
        protocol: 1,
        peer: zzz_core::PeerAddr::Local,
    });
    recording.records[0] = raw_tcp;
    assert!(matches!(
        replay(&recording, zzz_apps::bench::app()),
        Err(ReplayError::Diverged {
            index: 0,
            what: Divergence::NoProtocol(1)
        })
    ));
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
    let report = replay(&prefix, app::app()).expect("a prefix replays");
    assert!(report.truncated);
    assert_eq!(report.records, prefix.records.len());
    assert!(report.stats.requests <= r.stats.requests);
}
