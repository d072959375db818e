//! A small benchmark harness for comparing zzz with a peer on the same input in one run.
//!
//! Machines are shared and noisy, so the harness interleaves the contenders: it runs short
//! batches of each in turn, many rounds, and reports the median time per iteration of each
//! and the ratio of medians. Figures only; nothing here asserts a speed.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One contender: a closure doing one iteration of the measured work.
pub struct Contender<'a> {
    pub run: Box<dyn FnMut() + 'a>,
}

/// Median nanoseconds per iteration of each contender, in order.
pub fn compare(contenders: &mut [Contender<'_>], budget: Duration) -> Vec<f64> {
    // Calibrate a batch size of about 200 µs on the first contender.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            (contenders[0].run)();
        }
        if t.elapsed() > Duration::from_micros(200) || batch > 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
    let start = Instant::now();
    while start.elapsed() < budget || samples[0].len() < 20 {
        for (i, c) in contenders.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..batch {
                (c.run)();
            }
            samples[i].push(t.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| a.partial_cmp(b).unwrap());
            s[s.len() / 2]
        })
        .collect()
}

/// Prints one comparison row: each contender's median and the ratio of the first to the best
/// of the others.
pub fn report(case: &str, names: &[&str], medians: &[f64]) {
    let mut line = format!("{case:<28}");
    for (n, m) in names.iter().zip(medians) {
        line.push_str(&format!("  {n} {m:>8.1} ns"));
    }
    let best_peer = medians[1..].iter().cloned().fold(f64::INFINITY, f64::min);
    line.push_str(&format!("  ratio {:.2}", medians[0] / best_peer));
    println!("{line}");
}

/// Keeps a value alive so the optimizer cannot drop the work that produced it.
pub fn keep<T>(value: T) -> T {
    black_box(value)
}
