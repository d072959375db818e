//! Seeds that fail because of core bugs that are still open, with the probe of those bugs
//! switched on (`--probe-known-bugs`; campaigns leave it off so that they stay green). Ignored,
//! so that `cargo test` passes while the bug is open; run them with
//! `cargo test -p zzz-sim --test known_bugs -- --ignored`: they fail until the bug is fixed,
//! then move the seeds to `regressions.rs` and remove the probe's switch.
//!
//! Open bug: a chunked request body whose decoded length exactly fills a large buffer
//! (`large_buffer_size == limits.max_body`, a body of `max_body` bytes) is refused with 413
//! although it is within the limit: `step_body` rejects once the decoded data reaches the
//! block's end, before the last-chunk line (which has no room left to be received) is read.

use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, SimParams, reproduce_command, run_params};

const CHUNKED_BODY_FILLS_BLOCK: &[u64] = &[72, 229, 518, 521, 553, 859, 1336, 1730, 1771, 2885];

#[test]
#[ignore = "open core bug: a chunked body exactly filling a large buffer gets 413"]
fn chunked_body_exactly_filling_a_large_buffer_is_accepted() {
    let mut failed = Vec::new();
    for &seed in CHUNKED_BODY_FILLS_BLOCK {
        let mut p = SimParams::draw(seed);
        p.shape.probe_known_bugs = true;
        let r = run_params(
            p,
            RunOptions {
                keep: Keep::Tail,
                record: false,
            },
        );
        if let Some(f) = r.failure {
            failed.push(format!(
                "seed {seed}: {f}\n  reproduce: {} --probe-known-bugs",
                reproduce_command(seed)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
