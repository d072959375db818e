//! A short campaign in the test profile, where the core's `debug_assert!`s are live (the
//! release campaign of `ci/test.sh` runs many more seeds without them).

use zzz_sim::run_campaign;

#[test]
fn a_short_campaign_with_debug_assertions_passes() {
    let report = run_campaign(10_000..10_060, |_| {}, |_, _| {});
    assert!(
        report.failures.is_empty(),
        "failing seeds: {:?}",
        report.failures
    );
    assert!(report.events > 10_000);
}
