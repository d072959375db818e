//! With the counting allocator installed, the server makes no allocation after `Server::new`
//! under the simulator's whole workload (the simulator checks every call into the server and
//! fails the seed otherwise), and the counter does count.

use zzz_sim::alloc::{CountingAlloc, allocations};
use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, run};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v: Vec<u8> = Vec::with_capacity(64);
    assert!(allocations() > before);
    drop(v);
}

#[test]
fn the_server_does_not_allocate_under_load() {
    let before = allocations();
    let mut requests = 0;
    for seed in 100..130 {
        let r = run(
            seed,
            RunOptions {
                keep: Keep::Tail,
                record: false,
            },
        );
        assert!(r.failure.is_none(), "seed {seed}: {:?}", r.failure);
        requests += r.stats.requests;
    }
    assert!(requests > 50, "real traffic ran");
    assert!(
        allocations() > before,
        "the simulator itself allocates: the counter is live"
    );
}
