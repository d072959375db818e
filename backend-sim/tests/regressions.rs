//! Seeds that once failed, kept as regression tests. Each failed either because of a core bug
//! that is now fixed or because the simulator's oracle was wrong about a legitimate behaviour;
//! both must stay fixed. Add every seed a campaign ever finds failing to this list (with what
//! it found), after fixing what it found.

use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, reproduce_command, run};

/// (seed, what it found).
const REGRESSIONS: &[(u64, &str)] = &[
    (
        1346,
        "broker: MQTT over WebSocket moved the input's end under a posted receive (a garbage pong)",
    ),
    (
        205,
        "broker: MQTT over WebSocket moved the input's end under a posted receive (a 1002 close)",
    ),
    (
        72,
        "broker: a QoS 2 message sent again after a takeover was delivered twice",
    ),
    (
        15,
        "core: a 101 on a connection's last allowed request closed instead of switching",
    ),
    (
        93,
        "oracle: an upgrade request the head timeout cut short is answered 408, not 101",
    ),
    (
        1809,
        "oracle: a 408 judged by what the server had when it answered, not after its linger",
    ),
    (
        2281,
        "generator: an absolute-form target shortened to /e kept its empty-Host class",
    ),
    (
        8191,
        "generator: an absolute-form target shortened to /e kept its empty-Host class",
    ),
    (
        10148,
        "generator: an absolute-form target shortened to /e kept its empty-Host class",
    ),
    (
        15980,
        "generator: an absolute-form target shortened to /e kept its empty-Host class",
    ),
    (
        8,
        "core: GET / answered 400 'Invalid path parameter' (an empty tail)",
    ),
    (17, "core: DELETE / answered 400 (an empty tail)"),
    (
        24,
        "core: TRACE / with a chunked body answered 400 (an empty tail)",
    ),
    (
        381,
        "core: an HTTP/1.0 stream ending with an empty piece never closed (leaked slot)",
    ),
    (
        2775,
        "core: reclaim cut a queued 400 on a previously idle connection",
    ),
    (26, "oracle: a static 408 answering HEAD carries its body"),
    (27, "oracle: a static 408 answering HEAD carries its body"),
    (
        36,
        "oracle: a send stall (time passing with a send posted) explains a close",
    ),
    (
        84,
        "oracle: a TCP send stall explains a close before the idle timeout",
    ),
    (91, "oracle: a reset cuts an until-close body"),
    (104, "oracle: a valid request must stay within max_headers"),
    (
        72,
        "core: a chunked body exactly filling a large buffer got 413 (no room for its last chunk)",
    ),
    (
        229,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        518,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        521,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        553,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        859,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        1336,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        1730,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        1771,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        2885,
        "core: a chunked body exactly filling a large buffer got 413",
    ),
    (
        296,
        "oracle: retries keep a send posted past the stall timeout",
    ),
    (254, "oracle: send stall"),
    (320, "oracle: send stall"),
    (338, "oracle: send stall"),
    (367, "oracle: send stall"),
    (484, "oracle: send stall"),
    (501, "oracle: send stall"),
    (527, "oracle: send stall"),
    (609, "oracle: send stall"),
    (642, "oracle: send stall"),
    (660, "oracle: send stall"),
    (685, "oracle: send stall"),
    (693, "oracle: send stall"),
    (735, "oracle: send stall"),
    (838, "oracle: send stall"),
    (903, "oracle: send stall"),
    (960, "oracle: send stall"),
    (13, "oracle: chunk-size overflow may be 400 or 413"),
    (
        45,
        "core: PUT / with Expect: 100-continue answered 400 (an empty tail)",
    ),
    // The key-value module, each seed failing with its bug put back (the workload that
    // first found it has grown since).
    (
        5,
        "kv: a wrong arity named the command as typed, not in lower case",
    ),
    (
        7,
        "kv: a wrong arity named the command as typed, not in lower case",
    ),
    (
        534,
        "kv: a run of empty lines used up the serving loop's budget",
    ),
    (
        650,
        "kv: a run of empty lines used up the serving loop's budget",
    ),
    (
        673,
        "kv: a run of empty lines used up the serving loop's budget",
    ),
    (
        10,
        "kv: a protocol error's reply was dropped with the send buffer full",
    ),
    (
        29,
        "kv: a protocol error's reply was dropped with the send buffer full",
    ),
    (
        346,
        "kv: a protocol error's reply was dropped with the send buffer full",
    ),
    (
        274,
        "kv: a connection that never spoke had no idle deadline",
    ),
    (
        315,
        "kv: a connection that never spoke had no idle deadline",
    ),
    (
        381,
        "kv: a connection that never spoke had no idle deadline",
    ),
    (
        768,
        "kv: commands waiting for room were dropped at the client's EOF",
    ),
    (
        2170,
        "kv: commands waiting for room were dropped at the client's EOF",
    ),
    (
        2514,
        "kv: commands waiting for room were dropped at the client's EOF",
    ),
    (
        28,
        "kv: the longest value just past a power of ten was refused",
    ),
    (
        60,
        "kv: the longest value just past a power of ten was refused",
    ),
    (
        104,
        "kv: the longest value just past a power of ten was refused",
    ),
    (
        10216,
        "generator: a long kv script dripped a byte per 300 ms took millions of steps",
    ),
    // The MQTT broker.
    (
        832,
        "mqtt: a takeover while a DISCONNECTed connection was closing published its will",
    ),
    (
        1308,
        "mqtt: an inbox's drops were counted again each time the message after them waited",
    ),
    (
        57,
        "mqtt: an inbox's drops were counted again each time the message after them waited",
    ),
    (
        153,
        "oracle: a SUBACK's subscription count judged before the answers of another \
         connection woken in the same event (its packets had waited behind its PUBLISH)",
    ),
    (
        12279,
        "oracle: two empty MQTT messages alike matched to the wrong publishers (now in the \
         order they were routed)",
    ),
    (
        25496,
        "oracle: a will perhaps published at a takeover taken to surely replace a retained \
         message (it is ordered on the taking connection, but perhaps never was)",
    ),
    (
        30195,
        "oracle: a will perhaps published at a takeover taken to surely replace a retained \
         message",
    ),
    (
        39132,
        "oracle: a message carried by a session, perhaps acknowledged, kept after the broker \
         gave its identifier to a new message (so it surely was)",
    ),
    (
        58195,
        "oracle: a will perhaps published (its DISCONNECT had arrived) queued for an offline \
         session as surely published, so the store was taken for fuller than it was",
    ),
    (
        98905,
        "oracle: the server's idle Close 1001, posted before a client's ping and Close 1001 \
         arrived, taken for the echo of that Close (which owes the ping a pong)",
    ),
];

#[test]
fn seeds_that_once_failed_pass() {
    let mut failed = Vec::new();
    for &(seed, what) in REGRESSIONS {
        let r = run(
            seed,
            RunOptions {
                keep: Keep::Tail,
                record: false,
            },
        );
        if let Some(f) = r.failure {
            failed.push(format!(
                "seed {seed} ({what}) fails again: {f}\n  reproduce: {}",
                reproduce_command(seed)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
