//! The simulation: a seeded network, seeded clients and a seeded clock around one real
//! [`Server`], checked by the oracle at every step.
//!
//! Each step drains the operations the server asks for, gathers every event that could
//! happen now (a client writes, a posted receive or send completes — whole, partially or with
//! an error —, a closing socket finishes, a connection is accepted, a datagram arrives, a
//! datagram reply goes out) and performs one of them, chosen by the seed; when nothing can
//! happen, time moves on to the next moment something can (a client's next write, the end of
//! a stall, the server's next timer), sometimes with a jump. Every event told to the server is
//! traced, optionally recorded, guarded against panics and checked not to allocate.
//!
//! The parts, one concept each:
//! - `conn`: what the simulator knows of each client connection;
//! - `schedule`: the main loop, what can happen now, and the seeded choice among it;
//! - `server_calls`: telling the server an event, and the operations drained from it, each
//!   checked as it comes out;
//! - `network`: the simulated network completing posted operations, with its faults;
//! - `client`: the clients writing and ending their side, and the oracle's view of each;
//! - `accept`: accepting, the backend's waiting room, and making room;
//! - `clock`: the simulated clock and its faults;
//! - `datagram`: datagrams in, replies out;
//! - `kv`, `ws`, `mqtt`: what each protocol's connections add: the key-value and MQTT
//!   replies judged as they are written, the room's log read after every event;
//! - `end`: the checks once every client is gone.

use zzz_apps::bench::BenchState;
use zzz_core::{Config, Instant, Now, Server, Stats};

use crate::app::{self, SimModules};
use crate::coverage::Coverage;
use crate::flood;
use crate::kv_model::KvModel;
use crate::mqtt_oracle::MqttOracle;
use crate::record::{OutputDigest, Record, Recording};
use crate::rng::Rng;
use crate::swarm::SimParams;
use crate::trace::{Keep, Trace};
use crate::workload::{self, Outcome};
use crate::ws_oracle::RoomModel;

/// Traces one line, stamped with the simulated time. A macro rather than a method so that
/// the arguments may borrow other fields of the simulation.
macro_rules! tr {
    ($sim:expr, $($arg:tt)*) => {
        $sim.trace.line(format_args!("{:>9} {}", $sim.now, format_args!($($arg)*)))
    };
}

mod accept;
mod client;
mod clock;
mod conn;
mod datagram;
mod end;
mod kv;
mod mqtt;
mod mqtt_ws;
mod network;
mod schedule;
mod server_calls;
mod ws;

use conn::Conn;
use datagram::Datagrams;
use schedule::Action;

/// What to keep from a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// How much of the trace to keep.
    pub keep: Keep,
    /// Record the server's inputs for replay.
    pub record: bool,
}

/// The result of one seed.
#[derive(Debug)]
pub struct RunResult {
    /// The seed.
    pub seed: u64,
    /// What went wrong, if anything.
    pub failure: Option<String>,
    /// The hash of the whole trace.
    pub trace_hash: u64,
    /// Trace lines (simulated events).
    pub events: u64,
    /// The last trace lines.
    pub tail: Vec<String>,
    /// The whole trace, when kept.
    pub trace: Vec<String>,
    /// The server's inputs, when recorded.
    pub recording: Option<Recording>,
    /// The digest of the server's outputs (see [`OutputDigest`]).
    pub output_digest: u64,
    /// The server's counters at the end.
    pub stats: Stats,
    /// The coverage of this seed.
    pub coverage: Coverage,
    /// The parameters the seed drew.
    pub params: SimParams,
}

/// One run: the server, the simulated world around it, and what the run found.
struct Sim<'m> {
    p: SimParams,
    config: Config,
    rng: Rng,
    server: Server<'m, BenchState, SimModules>,
    /// Simulated time, in ms from the start.
    now: u64,
    base_mono: u64,
    base_unix: u64,
    drift_ms: i64,
    last_mono: u64,
    /// How far the server's clock ever lagged the simulator's (a regressing clock).
    lag: u64,
    conns: Vec<Conn>,
    /// Which client each slot holds.
    slots: Vec<Option<usize>>,
    datagrams: Datagrams,
    trace: Trace,
    cov: Coverage,
    recording: Option<Vec<Record>>,
    digest: OutputDigest,
    /// Posting order of operations, for reordering completions.
    seq: u64,
    draining: bool,
    failure: Option<String>,
    ready: Vec<(Action, u64)>,
    /// The event under way is `MakeRoom`: every close it asks for makes room, and is
    /// classified (shed or reclaimed) and counted here.
    making_room: Option<(u64, u64)>,
    /// Connections in the backend's waiting room.
    waiting: usize,
    /// Accepts so far.
    accepts: u64,
    /// When the backend last asked the server to make room.
    made_room_at: Option<u64>,
    steps: u64,
    scratch: Vec<u8>,
    /// The next event leaves the operations for the caller to drain (an accept maps its slot
    /// first).
    defer_drain: bool,
    /// The key-value store as the oracle knows it.
    kv_model: KvModel,
    /// The chat room as the oracle knows it.
    room: RoomModel,
    /// The MQTT broker as the oracle knows it, and its connections.
    mqtt: MqttOracle,
    /// The MQTT clients, by index.
    mqtt_clients: Vec<usize>,
}

/// Runs one seed.
pub fn run(seed: u64, options: RunOptions) -> RunResult {
    run_params(SimParams::draw(seed), options)
}

/// Runs one seed with explicit parameters (for tests that pin a configuration).
pub fn run_params(params: SimParams, options: RunOptions) -> RunResult {
    let mut rng = Rng::new(params.seed);
    let mut wl_rng = rng.fork();
    let mut scripts = workload::generate(&params.config, &params.shape, &mut wl_rng);
    scripts.extend(flood::silent_clients(&params.shape, &mut wl_rng));
    let datagrams = workload::datagrams(&params.config, &params.shape, &mut wl_rng);
    scripts.extend(workload::kv_clients(
        &params.config,
        &params.shape,
        &mut wl_rng,
    ));
    scripts.extend(workload::ws_clients(
        &params.config,
        &params.shape,
        &mut wl_rng,
    ));
    scripts.extend(workload::mqtt_clients(
        &params.config,
        &params.shape,
        &mut wl_rng,
    ));
    let room = RoomModel::new(
        scripts.iter().filter_map(|s| s.ws.as_ref()),
        params.config.topics.ring_bytes as usize,
        params.config.topics.max_message as usize,
    );
    let config = params.config;
    let app = app::app();
    let base_mono = rng.range(0, 1 << 40);
    let base_unix = rng.range(0, 4_000_000_000);
    let start = Now {
        monotonic: Instant(base_mono),
        unix_secs: base_unix,
    };
    let mut region = vec![0u8; app.memory(&config).total];
    let server = match Server::new(config, app, &mut region, start) {
        Ok(s) => s,
        Err(e) => {
            return RunResult {
                seed: params.seed,
                failure: Some(format!("Server::new failed: {e}")),
                trace_hash: 0,
                events: 0,
                tail: Vec::new(),
                trace: Vec::new(),
                recording: None,
                output_digest: 0,
                stats: Stats::default(),
                coverage: Coverage::default(),
                params,
            };
        }
    };
    let mqtt_clients = (0..scripts.len())
        .filter(|&i| scripts[i].kind == workload::ClientKind::Mqtt)
        .collect();
    let conns = scripts
        .into_iter()
        .enumerate()
        .map(|(id, script)| Conn::new(id, script))
        .collect();
    let mut sim = Sim {
        config,
        rng,
        server,
        now: 0,
        base_mono,
        base_unix,
        drift_ms: 0,
        last_mono: base_mono,
        lag: 0,
        conns,
        slots: vec![None; config.max_connections as usize],
        datagrams: Datagrams::new(datagrams),
        trace: Trace::new(options.keep),
        cov: Coverage::default(),
        recording: options.record.then(Vec::new),
        digest: OutputDigest::default(),
        seq: 0,
        draining: false,
        failure: None,
        ready: Vec::new(),
        making_room: None,
        waiting: 0,
        accepts: 0,
        made_room_at: None,
        steps: 0,
        scratch: Vec::new(),
        defer_drain: false,
        kv_model: KvModel::new(
            app::KV_CAPACITY.keys as usize,
            app::KV_CAPACITY.bytes,
            config.send_buffer as usize,
        ),
        room,
        mqtt: MqttOracle::new(params.config.topics.max_message as usize),
        mqtt_clients,
        p: params,
    };
    sim.prologue();
    sim.main_loop();
    sim.epilogue();
    let stats = *sim.server.stats();
    sim.cov.server_stats(&stats);
    let failure = sim.failure.take();
    RunResult {
        seed: sim.p.seed,
        trace_hash: sim.trace.hash(),
        events: sim.trace.len(),
        tail: sim.trace.tail(),
        trace: sim.trace.take_all(),
        recording: sim.recording.take().map(|records| Recording {
            config,
            start,
            records,
            truncated: false,
        }),
        output_digest: sim.digest.value(),
        stats,
        coverage: std::mem::take(&mut sim.cov),
        params: sim.p.clone(),
        failure,
    }
}

impl Sim<'_> {
    /// Notes the run's first failure; the run stops at the next step.
    fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            tr!(self, "FAILURE {why}");
            self.failure = Some(why);
        }
    }

    /// Traces what the seed drew: the configuration, the fault rates, the workload and every
    /// client's script with what each request deserves.
    fn prologue(&mut self) {
        let c = self.config;
        let f = self.p.faults;
        let s = self.p.shape;
        tr!(
            self,
            "seed {} config: conns {} recv {} send {} large {}x{} max_req {} tick {} limits \
             line {} head {} headers {} body {} ext {} trailers {} timeouts head {} body {} \
             idle {} send {} linger {} datagrams {}x{}",
            self.p.seed,
            c.max_connections,
            c.recv_buffer,
            c.send_buffer,
            c.large_buffers,
            c.large_buffer_size,
            c.max_requests_per_connection,
            c.timer_tick_ms,
            c.limits.max_request_line,
            c.limits.max_head,
            c.limits.max_headers,
            c.limits.max_body,
            c.limits.max_chunk_extensions,
            c.limits.max_trailers,
            c.timeouts.head_ms,
            c.timeouts.body_idle_ms,
            c.timeouts.keep_alive_ms,
            c.timeouts.send_stall_ms,
            c.timeouts.linger_ms,
            c.datagram_replies,
            c.datagram_size
        );
        tr!(self, "faults (ppm): {f:?}");
        tr!(self, "workload: {s:?}");
        for i in 0..self.conns.len() {
            let c = &self.conns[i];
            let line = format!(
                "client c{} {} {:?} at {} ms, {} bytes, {} requests, pace {:?}, pipelined {}, \
                 cut {:?}, write stall {:?}, read stall {:?}, end {:?}",
                c.id,
                c.script.class,
                c.script.kind,
                c.script.connect_at,
                c.script.bytes.len(),
                c.script.requests.len(),
                c.script.pace,
                c.script.pipelined,
                c.script.cut,
                c.script.write_stall,
                c.script.read_stall,
                c.script.end
            );
            tr!(self, "{line}");
            for (k, r) in self.conns[i].script.requests.clone().iter().enumerate() {
                // A flood client's request may end past what it ever writes.
                let bytes = &self.conns[i].script.bytes;
                let shown = String::from_utf8_lossy(
                    &bytes[r.start.min(bytes.len())..r.end.min(r.start + 80).min(bytes.len())],
                )
                .into_owned();
                let outcome = match &r.outcome {
                    Outcome::Response { expected, .. } => format!("{}", expected.status),
                    Outcome::Overflow => "500".into(),
                    Outcome::Reject(s) => format!("reject {s}"),
                    Outcome::RejectEither(a, b) => format!("reject {a} or {b}"),
                    Outcome::Never => "never".into(),
                };
                tr!(
                    self,
                    "  c{i} #{k} {} bytes {}..{} -> {outcome}: {shown:?}",
                    r.class,
                    r.start,
                    r.end
                );
            }
            self.trace_kv_items(i);
            self.trace_ws_script(i);
            self.trace_mqtt_script(i);
            let class = self.conns[i].script.class;
            self.cov.hit(class);
        }
    }
}
