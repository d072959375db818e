//! Every instance's counters, readable from other threads on demand ([`Handle::stats`]).
//!
//! A reader bumps a request number and wakes the instances; each instance, at the top of its
//! next loop turn, sees the request, copies its server's [`Snapshot`] into its cell and
//! signals. The loop's cost is one atomic load per turn when nobody asks, and nothing is
//! allocated on the loop's side; the reader waits at most a bounded time per instance (an
//! instance that has stopped left its last snapshot behind).
//!
//! [`Handle::stats`]: crate::Handle::stats

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use zzz_core::Snapshot;

/// The request number an instance that has stopped publishes: it answers every request.
const FINAL: u64 = u64::MAX;

/// One instance's last snapshot and the request it answers.
#[derive(Default)]
struct Cell {
    latest: Mutex<(u64, Snapshot)>,
    published: Condvar,
}

/// The board: one cell per instance.
pub(crate) struct StatsBoard {
    requested: AtomicU64,
    cells: Box<[Cell]>,
}

impl StatsBoard {
    pub(crate) fn new(instances: usize) -> StatsBoard {
        StatsBoard {
            requested: AtomicU64::new(0),
            cells: (0..instances).map(|_| Cell::default()).collect(),
        }
    }

    /// From instance `index`, once per loop turn: publishes if a reader asked since
    /// `answered`. `snapshot` is called only then.
    pub(crate) fn serve(
        &self,
        index: usize,
        answered: &mut u64,
        snapshot: impl FnOnce() -> Snapshot,
    ) {
        let asked = self.requested.load(Ordering::Acquire);
        if asked != *answered {
            *answered = asked;
            self.publish(index, asked, snapshot());
        }
    }

    /// From instance `index` as it stops: its last snapshot answers every later request.
    pub(crate) fn publish_final(&self, index: usize, snapshot: Snapshot) {
        self.publish(index, FINAL, snapshot);
    }

    fn publish(&self, index: usize, answers: u64, snapshot: Snapshot) {
        let cell = &self.cells[index];
        let mut latest = cell
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if latest.0 != FINAL {
            // Readers number their requests in order (`read`), and an instance answers the
            // newest it saw: what a cell answers never goes back, so no reader takes an old
            // snapshot for the one it asked.
            assert!(
                answers >= latest.0,
                "instance {index} answered request {answers} after {}",
                latest.0
            );
            *latest = (answers, snapshot);
        }
        cell.published.notify_all();
    }

    /// From any thread: asks every instance for a fresh snapshot (`wake` wakes their loops)
    /// and collects them, waiting at most `patience` in all; an instance that did not answer
    /// in time contributes its last snapshot.
    pub(crate) fn read(&self, wake: impl FnOnce(), patience: Duration) -> Vec<Snapshot> {
        let request = self.requested.fetch_add(1, Ordering::AcqRel) + 1;
        assert!(request < FINAL, "request numbers reach the final one");
        wake();
        let deadline = Instant::now() + patience;
        self.cells
            .iter()
            .map(|cell| {
                let latest = cell
                    .latest
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let left = deadline.saturating_duration_since(Instant::now());
                let (latest, _) = cell
                    .published
                    .wait_timeout_while(latest, left, |(answers, _)| *answers < request)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                latest.1
            })
            .collect()
    }
}
