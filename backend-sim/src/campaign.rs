//! Campaigns: many seeds, one coverage table.

use crate::coverage::{Coverage, REQUIRED_FROM_SEEDS};
use crate::sim::{RunOptions, run_params};
use crate::swarm::SimParams;
use crate::trace::Fnv;

/// What a campaign found.
#[derive(Debug, Default)]
pub struct CampaignReport {
    /// Seeds run.
    pub seeds: u64,
    /// Failing seeds and why.
    pub failures: Vec<(u64, String)>,
    /// Simulated events (trace lines) in all.
    pub events: u64,
    /// The merged coverage.
    pub coverage: Coverage,
    /// A hash of every seed's trace hash, in order.
    pub hash: u64,
}

impl CampaignReport {
    /// Required classes that never fired (only for campaigns long enough to be held to them).
    pub fn missing(&self) -> Vec<String> {
        if self.seeds < REQUIRED_FROM_SEEDS {
            return Vec::new();
        }
        self.coverage.missing()
    }

    /// Whether the campaign passed: no failing seed, no required class missing.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.missing().is_empty()
    }
}

/// Runs `seeds`, calling `on_failure` for each failing seed as it is found. `adjust` may
/// change each seed's drawn parameters (a test's variation of the workload).
pub fn run_campaign(
    seeds: std::ops::Range<u64>,
    adjust: impl Fn(&mut SimParams),
    mut on_failure: impl FnMut(u64, &str),
) -> CampaignReport {
    let mut report = CampaignReport::default();
    let mut hash = Fnv::default();
    for seed in seeds {
        let mut params = SimParams::draw(seed);
        adjust(&mut params);
        let r = run_params(params, RunOptions::default());
        report.seeds += 1;
        report.events += r.events;
        report.coverage.merge(&r.coverage);
        hash.u64(r.trace_hash);
        if let Some(f) = r.failure {
            on_failure(seed, &f);
            report.failures.push((seed, f));
        }
    }
    report.hash = hash.0;
    report
}
