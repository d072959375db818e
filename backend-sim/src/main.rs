//! The `zzz-sim` command: one seed with its trace, a campaign with its coverage table, or a
//! recording's replay.

use std::process::ExitCode;
use std::time::Instant;

use zzz_sim::record::{Recording, replay};
use zzz_sim::trace::Keep;
use zzz_sim::{RunOptions, SimParams, app, install_panic_hook, reproduce_command, run_campaign};

#[global_allocator]
static ALLOC: zzz_sim::alloc::CountingAlloc = zzz_sim::alloc::CountingAlloc;

const USAGE: &str = "usage: zzz-sim --seed N [--trace] [--record FILE]
       zzz-sim --seeds A..B
       zzz-sim --replay FILE [--app sim|bench]

--replay feeds a recording (written by --record, or by zzz_uring::Builder::record) into a
fresh server running --app, whose protocols the recording names by number: `sim` (the
default) is the simulator's set, HTTP (the bench contract plus its /sim/ routes) as 0, its
raw-TCP line protocol as 1, its UDP pong as 2, the key-value store as 3, the WebSocket room
as 4 and the MQTT broker as 5; `bench` is the bench contract alone
(zzz_apps::bench::app(), what examples/bench.rs serves), HTTP as 0. A recording of the
bench contract replays the same with either, unless a request targets /sim/.";

struct Args {
    seed: Option<u64>,
    seeds: Option<(u64, u64)>,
    trace: bool,
    record: Option<String>,
    replay: Option<String>,
    app: ReplayApp,
}

/// Which app a replay runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReplayApp {
    Sim,
    Bench,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seed: None,
        seeds: None,
        trace: false,
        record: None,
        replay: None,
        app: ReplayApp::Sim,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seed" => a.seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--seeds" => {
                let v = value()?;
                let (lo, hi) = v.split_once("..").ok_or("--seeds takes A..B")?;
                let lo = lo.parse().map_err(|e| format!("--seeds: {e}"))?;
                let hi = hi.parse().map_err(|e| format!("--seeds: {e}"))?;
                a.seeds = Some((lo, hi));
            }
            "--trace" => a.trace = true,
            "--record" => a.record = Some(value()?),
            "--replay" => a.replay = Some(value()?),
            "--app" => {
                a.app = match value()?.as_str() {
                    "sim" => ReplayApp::Sim,
                    "bench" => ReplayApp::Bench,
                    other => return Err(format!("--app: sim or bench, not {other}")),
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    install_panic_hook();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.replay {
        return replay_file(path, args.app);
    }
    if let Some(seed) = args.seed {
        return one_seed(seed, &args);
    }
    if let Some((lo, hi)) = args.seeds {
        return campaign(lo, hi);
    }
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

fn one_seed(seed: u64, args: &Args) -> ExitCode {
    let params = SimParams::draw(seed);
    let options = RunOptions {
        keep: if args.trace { Keep::Print } else { Keep::Tail },
        record: args.record.is_some(),
    };
    let r = zzz_sim::run_params(params, options);
    if let (Some(path), Some(rec)) = (&args.record, &r.recording)
        && let Err(e) = std::fs::write(path, rec.encode())
    {
        eprintln!("cannot write {path}: {e}");
    }
    let code = match &r.failure {
        Some(f) => {
            if !args.trace {
                println!("--- the last {} lines of the trace ---", r.tail.len());
                for line in &r.tail {
                    println!("{line}");
                }
            }
            println!("seed {seed} FAILED: {f}");
            println!("reproduce: {}", reproduce_command(seed));
            println!("full trace: {} --trace", reproduce_command(seed));
            ExitCode::FAILURE
        }
        None => {
            println!(
                "seed {seed} passed: {} events, {} requests, output digest {:016x}",
                r.events, r.stats.requests, r.output_digest
            );
            ExitCode::SUCCESS
        }
    };
    println!("trace hash: {:016x}", r.trace_hash);
    code
}

fn campaign(lo: u64, hi: u64) -> ExitCode {
    let started = Instant::now();
    let report = run_campaign(
        lo..hi,
        |_| {},
        |seed, f| {
            println!("FAIL seed {seed}: {f}");
            println!("  reproduce: {}", reproduce_command(seed));
        },
    );
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!("coverage over seeds {lo}..{hi}:");
    print!("{}", report.coverage.table());
    println!(
        "{} seeds, {} failed, {} events; {:.0} seeds/s, {:.0} events/s ({:.1} s)",
        report.seeds,
        report.failures.len(),
        report.events,
        report.seeds as f64 / secs,
        report.events as f64 / secs,
        secs
    );
    let missing = report.missing();
    if !missing.is_empty() {
        println!("coverage FAILED: never fired: {}", missing.join(", "));
    }
    if !report.failures.is_empty() {
        let seeds: Vec<String> = report.failures.iter().map(|(s, _)| s.to_string()).collect();
        println!("failing seeds: {}", seeds.join(" "));
    }
    println!("campaign hash: {:016x}", report.hash);
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn replay_file(path: &str, which: ReplayApp) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let recording = match Recording::decode(&bytes) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{path}: not a recording: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match which {
        ReplayApp::Sim => replay(&recording, app::app()),
        ReplayApp::Bench => replay(&recording, zzz_apps::bench::app()),
    };
    match outcome {
        Ok(r) => {
            println!(
                "replayed {} records: {} connections, {} requests, responses 1xx..5xx {:?}, \
                 {} datagrams, output digest {:016x}",
                r.records,
                r.stats.accepted,
                r.stats.requests,
                &r.stats.responses[1..],
                r.stats.datagrams,
                r.digest
            );
            if r.truncated {
                println!(
                    "the recording is truncated (its buffer filled up): this was the run's \
                     beginning"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("replay diverged: {e}");
            ExitCode::FAILURE
        }
    }
}
