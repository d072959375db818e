//! One seed, one trace: the same seed twice gives byte-identical traces (and so the same trace
//! hash); different seeds give different ones.

use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, run};

fn traced(seed: u64) -> zzz_sim::RunResult {
    run(
        seed,
        RunOptions {
            keep: Keep::All,
            record: false,
        },
    )
}

#[test]
fn same_seed_same_trace() {
    for seed in [3, 17, 381, 2775] {
        let a = traced(seed);
        let b = traced(seed);
        assert!(a.failure.is_none(), "seed {seed}: {:?}", a.failure);
        assert!(a.events > 20, "seed {seed} did something");
        assert_eq!(a.trace.len() as u64, a.events);
        assert!(a.trace == b.trace, "seed {seed}: the traces differ");
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(a.output_digest, b.output_digest, "seed {seed}");
    }
}

#[test]
fn different_seeds_differ() {
    assert_ne!(traced(1).trace_hash, traced(2).trace_hash);
}
