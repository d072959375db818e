//! The simulation: a seeded network, seeded clients and a seeded clock around one real
//! [`Server`], checked by the oracle at every step.
//!
//! Each step drains the operations the server asks for, gathers every event that could
//! happen now (a client writes, a posted receive or send completes — whole, partially or with
//! an error —, a closing socket finishes, a connection is accepted, a datagram arrives) and
//! performs one of them, chosen by the seed; when nothing can happen, time moves on to the
//! next moment something can (a client's next write, the end of a stall, the server's next
//! timer), sometimes with a jump. Every call into the server is traced, optionally recorded,
//! guarded against panics and checked not to allocate.

use std::panic::{AssertUnwindSafe, catch_unwind};

use zzz_apps::bench::BenchState;
use zzz_core::{
    AcceptError, Config, Instant, IoError, Now, Op, OpKind, PeerAddr, Server, Service, SlotId,
    Stats,
};

use crate::alloc;
use crate::app;
use crate::coverage::Coverage;
use crate::flood;
use crate::oracle::{Ending, HttpView, TcpView, Timing};
use crate::record::{OutputDigest, Record, Recording};
use crate::rng::Rng;
use crate::swarm::SimParams;
use crate::trace::{Keep, Trace};
use crate::workload::{self, ClientKind, Cut, EndMode, Outcome, Pace, Script};

/// How long a client that announced `Expect: 100-continue` waits before sending its body.
const EXPECT_WAIT_MS: u64 = 1000;
/// Most steps one seed may take before it is declared stuck.
const MAX_STEPS: u64 = 3_000_000;
/// Most simulated time one seed may take.
const MAX_SIM_MS: u64 = 6 * 3600 * 1000;

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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Not connected yet.
    Waiting,
    /// Connected, in the listener's backlog.
    Backlog,
    /// Accepted.
    Open,
    /// The server asked to close; waiting for the close to finish.
    Closing,
    /// Over (closed, or never accepted).
    Done,
}

struct PostedSend {
    seq: u64,
    posted_at: u64,
    bytes: Vec<u8>,
}

struct Conn {
    id: usize,
    script: Script,
    state: State,
    slot: SlotId,
    accept_at: u64,
    /// Bytes the client has written into the socket.
    written: usize,
    /// Bytes the server has received.
    delivered: usize,
    /// `delivered` when the server asked to close.
    delivered_at_close: usize,
    client_eof: bool,
    eof_delivered: bool,
    /// The client reset the connection, or the network broke it.
    reset: bool,
    recv: Option<u64>,
    send: Option<PostedSend>,
    close_at: u64,
    server_fin: bool,
    next_write_at: u64,
    stall_until: Option<u64>,
    expect_since: Option<(usize, u64)>,
    first_write: Vec<Option<u64>>,
    http: HttpView,
    tcp: TcpView,
    /// A fault explains lost answers.
    excused: bool,
    reclaimed: bool,
    /// The server closed it to make room before it had delivered a complete first head.
    shed: bool,
    /// Accepted while the server was under pressure: a shorter first-byte deadline.
    pressured: bool,
    /// Refused once with every slot taken: it waits in the backend's waiting room.
    waiting: bool,
    /// Accept order.
    accept_seq: u64,
    /// The server has posted a send on it.
    answered: bool,
    /// When an operation of it last failed with a retryable error: at most one such fault per
    /// connection and simulated millisecond, or an idle connection's receive would fail and
    /// be reposted forever while time stands still.
    retried_at: Option<u64>,
    last_activity: u64,
    /// When the server asked to close, a send was posted and no progress had been made for
    /// the send-stall timeout: lost answers are explained.
    stalled_send: bool,
    /// When the output now posted started waiting for this client to read, or last moved
    /// (what the server's send-stall timeout counts from: successive writes, as nginx's
    /// `send_timeout`).
    send_since: u64,
    /// The last send failed with a retryable error: its repost is the same wait going on.
    send_retrying: bool,
    ended: bool,
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Write(usize),
    Recv(usize),
    Send(usize),
    Fail(usize, OpKind, bool),
    Cancel(usize, OpKind),
    Closed(usize),
    Accept(usize),
    ClientEnd(usize),
    Datagram,
    /// The backend asks the server to make room for the connections that wait.
    MakeRoom,
}

struct Sim<'m> {
    p: SimParams,
    config: Config,
    rng: Rng,
    server: Server<'m, BenchState>,
    now: u64,
    base_mono: u64,
    base_unix: u64,
    drift_ms: i64,
    last_mono: u64,
    lag: u64,
    conns: Vec<Conn>,
    slots: Vec<Option<usize>>,
    datagrams: Vec<(u64, Vec<u8>, usize)>,
    next_datagram: usize,
    trace: Trace,
    cov: Coverage,
    recording: Option<Vec<Record>>,
    digest: OutputDigest,
    seq: u64,
    draining: bool,
    failure: Option<String>,
    ready: Vec<(Action, u64)>,
    /// The call under way is `make_room`: every close it asks for makes room, and is
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
    /// The next call leaves the operations for the caller to drain (an accept maps its slot
    /// first).
    defer_drain: bool,
}

/// Traces one line, stamped with the simulated time. A macro rather than a method so that
/// the arguments may borrow other fields of the simulation.
macro_rules! tr {
    ($sim:expr, $($arg:tt)*) => {
        $sim.trace.line(format_args!("{:>9} {}", $sim.now, format_args!($($arg)*)))
    };
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
    let datagrams = workload::datagrams(&params.shape, &mut wl_rng);
    let config = params.config;
    let app = app::app();
    let base_mono = rng.range(0, 1 << 40);
    let base_unix = rng.range(0, 4_000_000_000);
    let start = Now {
        monotonic: Instant(base_mono),
        unix_secs: base_unix,
    };
    let mut region = vec![0u8; config.memory().total];
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
    let conns = scripts
        .into_iter()
        .enumerate()
        .map(|(id, script)| Conn {
            id,
            first_write: vec![None; script.requests.len()],
            next_write_at: script.connect_at,
            script,
            state: State::Waiting,
            slot: 0,
            accept_at: 0,
            written: 0,
            delivered: 0,
            delivered_at_close: 0,
            client_eof: false,
            eof_delivered: false,
            reset: false,
            recv: None,
            send: None,
            close_at: 0,
            server_fin: false,
            stall_until: None,
            expect_since: None,
            http: HttpView::default(),
            tcp: TcpView::default(),
            excused: false,
            reclaimed: false,
            shed: false,
            pressured: false,
            waiting: false,
            accept_seq: 0,
            answered: false,
            retried_at: None,
            last_activity: 0,
            send_since: 0,
            send_retrying: false,
            stalled_send: false,
            ended: false,
        })
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
        datagrams,
        next_datagram: 0,
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
    fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            tr!(self, "FAILURE {why}");
            self.failure = Some(why);
        }
    }

    fn prologue(&mut self) {
        let c = self.config;
        let f = self.p.faults;
        let s = self.p.shape;
        tr!(
            self,
            "seed {} config: conns {} recv {} send {} large {}x{} max_req {} tick {} limits \
             line {} head {} headers {} body {} ext {} trailers {} timeouts head {} body {} \
             idle {} send {} linger {}",
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
            c.timeouts.linger_ms
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
            let class = self.conns[i].script.class;
            self.cov.hit(class);
        }
    }

    // ----- calls into the server -------------------------------------------------------------

    /// Runs `f` on the server: records `record`, catches a panic, checks that nothing was
    /// allocated, then drains the operations the server asks for.
    fn call<R>(
        &mut self,
        record: Option<Record>,
        slot: Option<SlotId>,
        f: impl FnOnce(&mut Server<'_, BenchState>) -> R,
    ) -> Option<R> {
        if let (Some(rec), Some(r)) = (self.recording.as_mut(), record) {
            rec.push(r);
        }
        let before_stats = *self.server.stats();
        let before = alloc::allocations();
        let result = catch_unwind(AssertUnwindSafe(|| f(&mut self.server)));
        let allocated = alloc::allocations() - before;
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic_message(&panic);
                self.fail(format!("the server panicked: {msg}"));
                return None;
            }
        };
        if allocated > 0 {
            self.fail(format!(
                "the server allocated {allocated} times after Server::new"
            ));
        }
        let stats = *self.server.stats();
        if stats.pool_exhausted > before_stats.pool_exhausted
            && let Some(s) = slot
            && let Some(i) = self.slots[s as usize]
        {
            self.conns[i].http.pool_credits +=
                (stats.pool_exhausted - before_stats.pool_exhausted) as u32;
        }
        if stats.shed + stats.reclaimed != before_stats.shed + before_stats.reclaimed
            && self.making_room.is_none()
        {
            self.fail("the server closed connections to make room outside make_room".into());
        }
        if !self.defer_drain {
            self.drain();
        }
        Some(result)
    }

    fn drain(&mut self) {
        loop {
            let before = alloc::allocations();
            let op = catch_unwind(AssertUnwindSafe(|| self.server.poll_op()));
            let op = match op {
                Ok(Some(op)) => op,
                Ok(None) => return,
                Err(panic) => {
                    let msg = panic_message(&panic);
                    self.fail(format!("the server panicked in poll_op: {msg}"));
                    return;
                }
            };
            if alloc::allocations() != before {
                self.fail("the server allocated in poll_op".into());
            }
            let slot = match op {
                Op::Recv(s) | Op::Send(s) | Op::Shutdown(s) | Op::Close(s) => s,
            };
            let Some(i) = self.slots.get(slot as usize).copied().flatten() else {
                self.fail(format!("{op:?} for slot {slot}, which has no connection"));
                return;
            };
            if self.conns[i].state != State::Open {
                self.fail(format!(
                    "{op:?} for slot {slot} after the server asked to close it"
                ));
                return;
            }
            match op {
                Op::Recv(_) => {
                    self.digest.op(op, [&[], &[]]);
                    if self.conns[i].recv.is_some() {
                        self.fail(format!("two receives posted on slot {slot}"));
                        return;
                    }
                    self.seq += 1;
                    self.conns[i].recv = Some(self.seq);
                    tr!(self, "op recv s{slot} (c{i})");
                }
                Op::Send(_) => {
                    let parts = self.server.send_parts(slot);
                    self.digest.op(op, parts);
                    let mut bytes = Vec::with_capacity(parts[0].len() + parts[1].len());
                    bytes.extend_from_slice(parts[0]);
                    bytes.extend_from_slice(parts[1]);
                    if self.conns[i].send.is_some() {
                        self.fail(format!("two sends posted on slot {slot}"));
                        return;
                    }
                    if bytes.is_empty() {
                        self.fail(format!("a send of nothing posted on slot {slot}"));
                        return;
                    }
                    self.seq += 1;
                    tr!(self, "op send s{slot} (c{i}) {} bytes", bytes.len());
                    let now = self.now;
                    let c = &mut self.conns[i];
                    c.answered = true;
                    if !c.send_retrying {
                        c.send_since = now;
                    }
                    c.send_retrying = false;
                    self.conns[i].send = Some(PostedSend {
                        seq: self.seq,
                        posted_at: self.now,
                        bytes,
                    });
                }
                Op::Shutdown(_) => {
                    self.digest.op(op, [&[], &[]]);
                    if self.conns[i].send.is_some() {
                        self.fail(format!("shutdown of slot {slot} while a send is posted"));
                        return;
                    }
                    self.conns[i].server_fin = true;
                    tr!(self, "op shutdown s{slot} (c{i})");
                }
                Op::Close(_) => {
                    self.digest.op(op, [&[], &[]]);
                    let now = self.now;
                    let c = &mut self.conns[i];
                    c.state = State::Closing;
                    c.close_at = now;
                    c.delivered_at_close = c.delivered;
                    // A send stall: output waited for the client (or the network) longer than
                    // the stall timeout since the last progress.
                    c.stalled_send = c.send.is_some()
                        && now + self.lag + self.config.timer_tick_ms as u64
                            >= c.send_since + self.config.timeouts.send_stall_ms;
                    // Making room closes only idle connections (which have been answered) and
                    // connections without a complete first head (which cannot have been).
                    if let Some((shed, reclaimed)) = &mut self.making_room {
                        if c.answered {
                            *reclaimed += 1;
                            c.reclaimed = true;
                        } else {
                            *shed += 1;
                            c.shed = true;
                            self.judge_shed(i);
                        }
                    }
                    tr!(self, "op close s{slot} (c{i})");
                }
            }
        }
    }

    // ----- the main loop ---------------------------------------------------------------------

    fn main_loop(&mut self) {
        loop {
            if self.failure.is_some() {
                return;
            }
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.fail(format!("no end after {MAX_STEPS} steps"));
                return;
            }
            if self.now > MAX_SIM_MS {
                self.fail(format!("no end after {MAX_SIM_MS} simulated ms"));
                return;
            }
            self.connect_due();
            if self.all_done() {
                return;
            }
            self.maybe_drain();
            self.collect_ready();
            let step_time = self.rng.chance(self.p.faults.time_step);
            if self.ready.is_empty() || step_time {
                let target = if self.ready.is_empty() {
                    match self.next_time() {
                        Some(t) => t,
                        None => {
                            let open: Vec<String> = self
                                .conns
                                .iter()
                                .filter(|c| c.state != State::Done)
                                .map(|c| {
                                    format!(
                                        "c{} {:?} written {}/{} delivered {} recv {} send {} fin {}",
                                        c.id,
                                        c.state,
                                        c.written,
                                        c.script.bytes.len(),
                                        c.delivered,
                                        c.recv.is_some(),
                                        c.send.is_some(),
                                        c.server_fin
                                    )
                                })
                                .collect();
                            self.fail(format!(
                                "stuck: nothing can happen, no timer is armed, and connections \
                                 are still open: {}",
                                open.join("; ")
                            ));
                            return;
                        }
                    }
                } else {
                    self.now + self.rng.range(1, self.config.timer_tick_ms as u64)
                };
                self.advance(target);
                continue;
            }
            let pick = self.pick();
            self.perform(pick);
        }
    }

    fn all_done(&self) -> bool {
        self.next_datagram == self.datagrams.len()
            && self.conns.iter().all(|c| c.state == State::Done)
    }

    fn connect_due(&mut self) {
        for i in 0..self.conns.len() {
            if self.conns[i].state == State::Waiting && self.conns[i].script.connect_at <= self.now
            {
                self.conns[i].state = State::Backlog;
                tr!(self, "c{i} connects");
            }
        }
    }

    fn maybe_drain(&mut self) {
        if !self.p.shape.drain || self.draining {
            return;
        }
        let finished = self
            .conns
            .iter()
            .all(|c| c.state == State::Done || (c.state == State::Open && self.client_finished(c)));
        if finished {
            self.draining = true;
            self.cov.hit("server.drain");
            tr!(self, "shutdown");
            self.call(Some(Record::Shutdown), None, |s| s.shutdown());
        }
    }

    /// Whether a client has written all it will and read all it expects.
    fn client_finished(&self, c: &Conn) -> bool {
        if c.reset || c.client_eof {
            return true;
        }
        if c.written < self.final_limit(c) {
            return false;
        }
        match c.script.kind {
            ClientKind::Http => {
                c.http.finished
                    || c.http.failure.is_some()
                    || c.script.requests[c.http.next..]
                        .iter()
                        .all(|r| r.outcome == Outcome::Never)
            }
            ClientKind::Tcp => c.tcp.received.len() >= c.script.tcp_expected.len(),
        }
    }

    /// How far the client will ever write (its script, or its cut).
    fn final_limit(&self, c: &Conn) -> usize {
        match c.script.cut {
            Some(Cut::Eof(at) | Cut::Reset(at)) => at.min(c.script.bytes.len()),
            None => c.script.bytes.len(),
        }
    }

    /// How far the client may write now.
    fn write_limit(&self, c: &Conn) -> usize {
        let mut lim = self.final_limit(c);
        if c.script.kind == ClientKind::Http {
            let reqs = &c.script.requests;
            if c.http.finished {
                lim = lim.min(c.written);
            }
            if !c.script.pipelined
                && let Some(r) = reqs.get(c.http.next)
            {
                lim = lim.min(r.end);
            }
            // Expect: 100-continue: hold the body back until 100, an answer, or the wait ends.
            if c.script.honor_expect
                && let Some(k) = reqs
                    .iter()
                    .position(|r| c.written >= r.start && c.written < r.end)
            {
                let r = &reqs[k];
                let answered = c.http.next > k || (c.http.next == k && c.http.continued);
                let waited = matches!(c.expect_since, Some((j, t)) if j == k && self.now >= t + EXPECT_WAIT_MS);
                if r.expect_continue && c.written >= r.body_start && !answered && !waited {
                    lim = lim.min(r.body_start);
                }
            }
        }
        if let Some((at, _)) = c.script.write_stall
            && c.written >= at
            && c.stall_until.is_none_or(|t| self.now < t)
        {
            lim = lim.min(c.written);
        }
        lim
    }

    fn reading(&self, c: &Conn) -> bool {
        match c.script.read_stall {
            Some((after, ms)) => {
                let start = c.accept_at + after;
                !(self.now >= start && self.now < start + ms)
            }
            None => true,
        }
    }

    fn collect_ready(&mut self) {
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        let f = self.p.faults;
        let can_accept = self.server.can_accept();
        let eager = self.p.shape.eager_accept;
        let mut backlog = false;
        for i in 0..self.conns.len() {
            let c = &self.conns[i];
            match c.state {
                State::Waiting | State::Done => continue,
                State::Backlog => {
                    backlog = true;
                    // An eager backend accepts each arrival at once, whether or not a slot is
                    // free; a refused one waits in its waiting room for a free slot.
                    if can_accept || (eager && !c.waiting) {
                        ready.push((Action::Accept(i), u64::MAX));
                    }
                }
                State::Open => {
                    if let Some(seq) = c.recv {
                        let data = c.delivered < c.written || (c.client_eof && !c.eof_delivered);
                        if c.reset || data {
                            ready.push((Action::Recv(i), seq));
                        }
                        let may_retry = !c.reset && c.retried_at != Some(self.now);
                        if may_retry && self.rng.chance(f.retry) {
                            ready.push((Action::Fail(i, OpKind::Recv, false), seq));
                        }
                        if !c.reset && self.rng.chance(f.broken) {
                            ready.push((Action::Fail(i, OpKind::Recv, true), seq));
                        }
                    }
                    if let Some(s) = &c.send {
                        if c.reset || self.reading(c) {
                            ready.push((Action::Send(i), s.seq));
                        }
                        let may_retry = !c.reset && c.retried_at != Some(self.now);
                        if may_retry && self.rng.chance(f.retry) {
                            ready.push((Action::Fail(i, OpKind::Send, false), s.seq));
                        }
                        if !c.reset && self.rng.chance(f.broken) {
                            ready.push((Action::Fail(i, OpKind::Send, true), s.seq));
                        }
                    }
                }
                State::Closing => {
                    if let Some(seq) = c.recv {
                        ready.push((Action::Cancel(i, OpKind::Recv), seq));
                    }
                    if let Some(s) = &c.send {
                        ready.push((Action::Cancel(i, OpKind::Send), s.seq));
                    }
                    if c.recv.is_none() && c.send.is_none() {
                        ready.push((Action::Closed(i), u64::MAX));
                    }
                }
            }
            let c = &self.conns[i];
            if matches!(c.state, State::Backlog | State::Open) && !c.reset && !c.client_eof {
                if c.written < self.write_limit(c) && c.next_write_at <= self.now {
                    ready.push((Action::Write(i), u64::MAX));
                } else if self.wants_to_end(c) {
                    ready.push((Action::ClientEnd(i), u64::MAX));
                }
            }
        }
        if backlog && !can_accept {
            self.cov.hit("fault.slots-exhausted");
        }
        // As a backend does once per loop turn: here at most once per simulated millisecond.
        if self.waiting > 0 && self.made_room_at != Some(self.now) {
            ready.push((Action::MakeRoom, u64::MAX));
        }
        if self.next_datagram < self.datagrams.len()
            && self.datagrams[self.next_datagram].0 <= self.now
        {
            ready.push((Action::Datagram, u64::MAX));
        }
        self.ready = ready;
    }

    /// Whether the client is at a point where it ends its side (EOF or reset): its cut, its
    /// script's end, or the server's FIN.
    fn wants_to_end(&self, c: &Conn) -> bool {
        if c.state != State::Open {
            return false;
        }
        if c.script.cut.is_some() && c.written >= self.final_limit(c) {
            return true;
        }
        if c.server_fin && c.script.eof_after_fin {
            return true;
        }
        c.script.end != EndMode::Idle && self.client_finished(c)
    }

    fn pick(&mut self) -> Action {
        let completions = |a: &Action| {
            matches!(
                a,
                Action::Recv(_) | Action::Send(_) | Action::Fail(..) | Action::Cancel(..)
            )
        };
        let oldest = self
            .ready
            .iter()
            .filter(|(a, _)| completions(a))
            .map(|(_, s)| *s)
            .min();
        let (action, seq) = if self.rng.chance(self.p.faults.in_order)
            && let Some(min) = oldest
        {
            *self.ready.iter().find(|(_, s)| *s == min).expect("present")
        } else {
            self.ready[self.rng.below(self.ready.len() as u64) as usize]
        };
        if completions(&action) && oldest.is_some_and(|m| seq > m) {
            self.cov.hit("fault.reordered");
        }
        action
    }

    fn next_time(&self) -> Option<u64> {
        let mut t: Option<u64> = None;
        let mut consider = |v: u64| {
            let v = v.max(self.now + 1);
            t = Some(t.map_or(v, |t: u64| t.min(v)));
        };
        for c in &self.conns {
            match c.state {
                State::Waiting => consider(c.script.connect_at),
                State::Backlog | State::Open => {
                    if !c.reset && !c.client_eof && c.written < self.final_limit(c) {
                        if c.next_write_at > self.now {
                            consider(c.next_write_at);
                        }
                        if let Some(u) = c.stall_until
                            && u > self.now
                        {
                            consider(u);
                        }
                        if let Some((_, since)) = c.expect_since {
                            consider(since + EXPECT_WAIT_MS);
                        }
                    }
                    if c.send.is_some()
                        && let Some((after, ms)) = c.script.read_stall
                    {
                        consider(c.accept_at + after + ms);
                    }
                }
                _ => {}
            }
        }
        if let Some(wake) = self.server.next_wake() {
            consider(wake.0.saturating_sub(self.base_mono));
        }
        if self.waiting > 0
            && let Some(at) = self.server.room_at()
        {
            consider(at.0.saturating_sub(self.base_mono));
        }
        if let Some(d) = self.datagrams.get(self.next_datagram) {
            consider(d.0);
        }
        t
    }

    fn advance(&mut self, target: u64) {
        let f = self.p.faults;
        let mut to = target.max(self.now);
        if self.rng.chance(f.clock_jump) {
            let jump = self.rng.range(1_000, 60_000);
            to += jump;
            self.cov.hit("fault.clock-jump");
            for c in &mut self.conns {
                if matches!(c.state, State::Open | State::Backlog) {
                    c.excused = true;
                }
            }
            tr!(self, "clock jumps {jump} ms");
        }
        self.now = to;
        let mut mono = self.base_mono + self.now;
        if self.rng.chance(f.clock_regress) {
            mono = self.last_mono.saturating_sub(self.rng.range(1, 2_000));
            self.cov.hit("fault.clock-regress");
        }
        if self.rng.chance(f.clock_drift) {
            self.drift_ms += self.rng.range(0, 6_000) as i64 - 3_000;
            self.cov.hit("fault.clock-drift");
        }
        self.last_mono = mono;
        let unix = (self.base_unix as i64 + (self.now as i64 + self.drift_ms) / 1000).max(0) as u64;
        tr!(
            self,
            "tick mono {} unix {unix}",
            mono as i64 - self.base_mono as i64
        );
        self.call(
            Some(Record::Tick {
                monotonic: mono,
                unix_secs: unix,
            }),
            None,
            |s| {
                s.tick(Now {
                    monotonic: Instant(mono),
                    unix_secs: unix,
                })
            },
        );
        let server_now = self.server.now().monotonic.0.saturating_sub(self.base_mono);
        self.lag = self.lag.max(self.now.saturating_sub(server_now));
    }

    // ----- actions ---------------------------------------------------------------------------

    fn perform(&mut self, action: Action) {
        match action {
            Action::Write(i) => self.client_write(i),
            Action::Recv(i) => self.complete_recv(i, false),
            Action::Send(i) => self.complete_send(i, false),
            Action::Fail(i, op, broken) => self.fail_op(i, op, broken),
            Action::Cancel(i, op) => self.cancel(i, op),
            Action::Closed(i) => self.finish_close(i),
            Action::Accept(i) => self.accept(i),
            Action::ClientEnd(i) => self.client_end(i),
            Action::Datagram => self.datagram(),
            Action::MakeRoom => self.make_room(),
        }
    }

    fn client_write(&mut self, i: usize) {
        let lim = self.write_limit(&self.conns[i]);
        let now = self.now;
        let c = &self.conns[i];
        let left = lim - c.written;
        let (n, gap) = match c.script.pace {
            Pace::Burst { max_chunk, gap_ms } => (left.min(max_chunk), gap_ms),
            Pace::Drip { every_ms } => (1, every_ms),
        };
        let n = if n > 1 { self.rng.range_usize(1, n) } else { n };
        let c = &mut self.conns[i];
        let from = c.written;
        c.written += n;
        c.next_write_at = now + gap;
        for (k, r) in c.script.requests.iter().enumerate() {
            if r.start < c.written && r.end > from && c.first_write[k].is_none() {
                c.first_write[k] = Some(now);
            }
            if r.expect_continue
                && c.written >= r.body_start
                && from < r.body_start + 1
                && c.expect_since.is_none_or(|(j, _)| j != k)
                && c.written == r.body_start
            {
                c.expect_since = Some((k, now));
            }
        }
        if let Some((at, ms)) = c.script.write_stall
            && c.written >= at
            && c.stall_until.is_none()
        {
            c.stall_until = Some(now + ms);
            self.cov.hit("fault.write-stall");
        }
        tr!(self, "c{i} writes {n} bytes ({}..{})", from, from + n);
    }

    fn client_end(&mut self, i: usize) {
        let c = &self.conns[i];
        let reset = match c.script.cut {
            Some(Cut::Reset(_)) if c.written >= self.final_limit(c) => true,
            Some(Cut::Eof(_)) if c.written >= self.final_limit(c) => false,
            _ if c.server_fin && c.script.eof_after_fin => false,
            _ => c.script.end == EndMode::Reset,
        };
        let mid_request = c.script.kind == ClientKind::Http
            && c.script
                .requests
                .iter()
                .any(|r| c.written > r.start && c.written < r.end && r.outcome != Outcome::Never);
        let c = &mut self.conns[i];
        let written = c.written;
        if reset {
            c.reset = true;
            c.excused = true;
            c.http.gave_up = true;
            c.tcp.gave_up = true;
            self.cov.hit("fault.client-reset");
            tr!(self, "c{i} resets after {written} bytes");
        } else {
            c.client_eof = true;
            if mid_request {
                self.cov.hit("fault.client-eof-mid-request");
            }
            tr!(self, "c{i} sends EOF after {written} bytes");
        }
    }

    fn complete_recv(&mut self, i: usize, after_close: bool) {
        let slot = self.conns[i].slot;
        let f = self.p.faults;
        self.conns[i].recv = None;
        if self.conns[i].reset && !after_close {
            tr!(self, "s{slot} recv fails ECONNRESET");
            self.cov.hit("fault.broken-recv");
            self.call(
                Some(Record::Failed {
                    slot,
                    op: OpKind::Recv,
                    error: IoError::Broken,
                }),
                Some(slot),
                |s| s.failed(slot, OpKind::Recv, IoError::Broken),
            );
            return;
        }
        let c = &self.conns[i];
        if c.delivered < c.written {
            let avail = c.written - c.delivered;
            let room = match catch_unwind(AssertUnwindSafe(|| self.server.recv_buffer(slot).len()))
            {
                Ok(n) => n,
                Err(p) => {
                    let msg = panic_message(&p);
                    self.fail(format!("the server panicked in recv_buffer: {msg}"));
                    return;
                }
            };
            if room == 0 && !after_close {
                self.fail(format!("a receive was posted on slot {slot} into no space"));
                return;
            }
            let mut n = avail.min(room);
            if n > 1 && self.rng.chance(f.partial_recv) {
                n = if self.rng.chance(f.one_byte) {
                    self.cov.hit("fault.one-byte-recv");
                    1
                } else {
                    self.rng.range_usize(1, n - 1)
                };
                self.cov.hit("fault.partial-recv");
            }
            let from = self.conns[i].delivered;
            self.scratch.clear();
            self.scratch
                .extend_from_slice(&self.conns[i].script.bytes[from..from + n]);
            let data = std::mem::take(&mut self.scratch);
            tr!(
                self,
                "s{slot} recv {n} bytes of {avail}{}",
                if after_close { " (after close)" } else { "" }
            );
            let record = self.recording.is_some().then(|| Record::Recv {
                slot,
                data: data.clone(),
            });
            self.call(record, Some(slot), |s| {
                s.recv_buffer(slot)[..n].copy_from_slice(&data);
                s.received(slot, n)
            });
            self.scratch = data;
            let now = self.now;
            let c = &mut self.conns[i];
            c.delivered += n;
            if !after_close {
                c.last_activity = now;
            }
        } else {
            // EOF (or, after a close, nothing: report the cancellation).
            if after_close && (!c.client_eof || c.eof_delivered) {
                self.cancelled(i, OpKind::Recv);
                return;
            }
            self.conns[i].eof_delivered = true;
            tr!(self, "s{slot} recv EOF");
            let record = self.recording.is_some().then(|| Record::Recv {
                slot,
                data: Vec::new(),
            });
            self.call(record, Some(slot), |s| s.received(slot, 0));
        }
    }

    fn complete_send(&mut self, i: usize, after_close: bool) {
        let slot = self.conns[i].slot;
        let f = self.p.faults;
        let posted = self.conns[i].send.take().expect("a posted send");
        if self.conns[i].reset && !after_close {
            tr!(self, "s{slot} send fails EPIPE");
            self.cov.hit("fault.broken-send");
            self.call(
                Some(Record::Failed {
                    slot,
                    op: OpKind::Send,
                    error: IoError::Broken,
                }),
                Some(slot),
                |s| s.failed(slot, OpKind::Send, IoError::Broken),
            );
            return;
        }
        // The bytes of a posted send must not change until it completes.
        let parts = self.server.send_parts(slot);
        let mut same = true;
        let mut k = 0;
        for part in parts {
            for &b in part {
                if k >= posted.bytes.len() {
                    break;
                }
                same &= posted.bytes[k] == b;
                k += 1;
            }
        }
        if !same || k < posted.bytes.len() {
            self.fail(format!(
                "the bytes of the send posted on slot {slot} changed before it completed"
            ));
            return;
        }
        let total = posted.bytes.len();
        let mut n = total;
        if n > 1 && self.rng.chance(f.partial_send) {
            n = if self.rng.chance(f.one_byte) {
                self.cov.hit("fault.one-byte-send");
                1
            } else {
                self.rng.range_usize(1, n - 1)
            };
            self.cov.hit("fault.partial-send");
        }
        tr!(
            self,
            "s{slot} sent {n} of {total} bytes{}",
            if after_close { " (after close)" } else { "" }
        );
        self.deliver_to_client(i, &posted.bytes[..n], posted.posted_at);
        self.call(Some(Record::Sent { slot, n: n as u32 }), Some(slot), |s| {
            s.sent(slot, n)
        });
        if !after_close {
            self.conns[i].last_activity = self.now;
            if n > 0 {
                self.conns[i].send_since = self.now;
            }
        }
    }

    fn deliver_to_client(&mut self, i: usize, bytes: &[u8], posted_at: u64) {
        let draining = self.draining;
        let timeouts = self.config.timeouts;
        let lag = self.lag;
        let c = &mut self.conns[i];
        match c.script.kind {
            ClientKind::Http => {
                let t = Timing {
                    timeouts,
                    accept_at: c.accept_at,
                    first_write: &c.first_write,
                    lag,
                    draining,
                };
                c.http.on_bytes(bytes, posted_at, &c.script.requests, &t);
            }
            ClientKind::Tcp => c.tcp.on_bytes(bytes, &c.script.tcp_expected),
        }
        self.drain_view(i);
    }

    /// Moves what the client's view learnt into the coverage table and the failure.
    fn drain_view(&mut self, i: usize) {
        let c = &mut self.conns[i];
        let statuses = std::mem::take(&mut c.http.seen_statuses);
        let answered = std::mem::take(&mut c.http.answered);
        let failure = c.http.failure.clone().or_else(|| c.tcp.failure.clone());
        for s in &statuses {
            self.cov.status(*s);
        }
        for class in answered {
            self.cov.hit(answered_class(class));
            if self.p.shape.silent_clients > 0 {
                // A client served while a flood of silent connections arrives.
                self.cov.hit("flood.answered");
            }
        }
        if !statuses.is_empty() {
            let list: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
            tr!(self, "c{i} reads {}", list.join(", "));
        }
        if let Some(f) = failure {
            let class = self.conns[i].script.class;
            self.fail(format!("client c{i} ({class}): {f}"));
        }
    }

    fn fail_op(&mut self, i: usize, op: OpKind, broken: bool) {
        let slot = self.conns[i].slot;
        match op {
            OpKind::Recv => self.conns[i].recv = None,
            OpKind::Send => self.conns[i].send = None,
        }
        let error = if broken {
            let c = &mut self.conns[i];
            c.reset = true;
            c.excused = true;
            self.cov.hit(match op {
                OpKind::Recv => "fault.broken-recv",
                OpKind::Send => "fault.broken-send",
            });
            tr!(self, "s{slot} {op:?} fails ECONNRESET (network)");
            IoError::Broken
        } else {
            self.conns[i].retried_at = Some(self.now);
            let kinds: &[&'static str] = match op {
                OpKind::Recv => &["eagain", "eintr", "ecanceled", "multishot-ended"],
                OpKind::Send => &["eagain", "eintr", "ecanceled"],
            };
            let kind = *self.rng.pick(kinds);
            self.cov.hit(match kind {
                "eagain" => "fault.eagain",
                "eintr" => "fault.eintr",
                "ecanceled" => "fault.ecanceled",
                _ => "fault.multishot-ended",
            });
            tr!(self, "s{slot} {op:?} fails {kind} (retry)");
            if op == OpKind::Send {
                self.conns[i].send_retrying = true;
            }
            IoError::Retry
        };
        self.call(Some(Record::Failed { slot, op, error }), Some(slot), |s| {
            s.failed(slot, op, error)
        });
    }

    fn cancelled(&mut self, i: usize, op: OpKind) {
        let slot = self.conns[i].slot;
        tr!(self, "s{slot} {op:?} cancelled by the close (ECANCELED)");
        self.cov.hit("fault.cancel-on-close");
        self.call(
            Some(Record::Failed {
                slot,
                op,
                error: IoError::Retry,
            }),
            Some(slot),
            |s| s.failed(slot, op, IoError::Retry),
        );
    }

    fn cancel(&mut self, i: usize, op: OpKind) {
        let f = self.p.faults;
        let choice = if self.rng.chance(f.cancel_on_close) {
            0
        } else {
            self.rng.range(1, 2)
        };
        match (choice, op) {
            (0, OpKind::Recv) => {
                self.conns[i].recv = None;
                self.cancelled(i, op);
            }
            (0, OpKind::Send) => {
                self.cancelled(i, op);
                self.conns[i].send = None;
            }
            (1, OpKind::Recv) => {
                self.cov.hit("fault.complete-after-close");
                self.complete_recv(i, true);
            }
            (1, OpKind::Send) => {
                self.cov.hit("fault.complete-after-close");
                self.complete_send(i, true);
            }
            (_, OpKind::Recv) => {
                let slot = self.conns[i].slot;
                tr!(self, "s{slot} recv dropped silently by the close");
                self.conns[i].recv = None;
            }
            (_, OpKind::Send) => {
                let slot = self.conns[i].slot;
                tr!(self, "s{slot} send dropped silently by the close");
                self.conns[i].send = None;
            }
        }
    }

    fn finish_close(&mut self, i: usize) {
        let slot = self.conns[i].slot;
        tr!(self, "s{slot} closed (c{i})");
        self.call(Some(Record::Closed { slot }), Some(slot), |s| {
            s.closed(slot)
        });
        self.slots[slot as usize] = None;
        self.conns[i].state = State::Done;
        self.end_connection(i);
    }

    fn end_connection(&mut self, i: usize) {
        let draining = self.draining;
        let timeouts = self.config.timeouts;
        let lag = self.lag;
        let stall_excuse = self.conns[i].stalled_send;
        let c = &mut self.conns[i];
        if c.ended {
            return;
        }
        c.ended = true;
        if stall_excuse {
            self.cov.hit("fault.read-stall");
        }
        let c = &mut self.conns[i];
        let end = Ending {
            delivered: c.delivered_at_close,
            saw_eof: c.eof_delivered,
            excused: c.excused || stall_excuse || draining,
            reclaimed: c.reclaimed,
            shed: c.shed,
            first_byte_ms: c.pressured.then_some(timeouts.pressured_first_byte_ms),
            close_at: c.close_at,
            last_activity: c.last_activity,
        };
        let t = Timing {
            timeouts,
            accept_at: c.accept_at,
            first_write: &c.first_write,
            lag,
            draining,
        };
        match c.script.kind {
            ClientKind::Http => {
                c.http.on_end(&c.script.requests, &t, &end);
                let never_sent = c
                    .script
                    .requests
                    .iter()
                    .any(|r| r.outcome == Outcome::Never && r.end <= c.delivered_at_close);
                if never_sent && c.http.failure.is_none() {
                    self.cov.hit("check.never-answered-after-close");
                }
            }
            ClientKind::Tcp => {
                c.tcp
                    .on_end(&c.script.tcp_lines, c.script.tcp_quit_end, &t, &end);
                if c.tcp.failure.is_none() && !c.tcp.received.is_empty() {
                    self.cov.hit("tcp.answered");
                }
            }
        }
        self.drain_view(i);
    }

    fn accept(&mut self, i: usize) {
        let f = self.p.faults;
        if self.rng.chance(f.accept_error) {
            if self.rng.coin() {
                self.cov.hit("fault.accept-emfile");
                tr!(self, "accept fails EMFILE; c{i} stays in the backlog");
                // The listener backs off: nothing is accepted until something else happens.
            } else {
                self.cov.hit("fault.accept-econnaborted");
                tr!(self, "accept fails ECONNABORTED; c{i} is gone");
                self.conns[i].state = State::Done;
                self.conns[i].ended = true;
            }
            return;
        }
        let service = match self.conns[i].script.kind {
            ClientKind::Http => Service::Http,
            ClientKind::Tcp => Service::Tcp(app::tcp_lines),
        };
        let service_id = u8::from(self.conns[i].script.kind == ClientKind::Tcp);
        let peer = PeerAddr::V4([10, 0, (i >> 8) as u8, i as u8], 40_000 + i as u16);
        let index = self.recording.as_ref().map(|r| r.len());
        self.defer_drain = true;
        let result = self.call(
            Some(Record::Accept {
                service: service_id,
                slot: None,
            }),
            None,
            |s| s.accept(service, peer),
        );
        self.defer_drain = false;
        let Some(result) = result else { return };
        let got = result.ok();
        self.digest.accept(got);
        if let (Some(rec), Some(index)) = (self.recording.as_mut(), index)
            && let Record::Accept { slot, .. } = &mut rec[index]
        {
            *slot = got;
        }
        let was_waiting = self.conns[i].waiting;
        if was_waiting {
            self.conns[i].waiting = false;
            self.waiting -= 1;
        }
        match result {
            Ok(slot) => {
                if self.slots[slot as usize].is_some() {
                    self.fail(format!(
                        "accept returned slot {slot}, which is still in use"
                    ));
                    return;
                }
                self.slots[slot as usize] = Some(i);
                let in_use = self.slots.iter().filter(|s| s.is_some()).count();
                let pressured =
                    in_use * 100 >= self.slots.len() * self.config.pressure_percent as usize;
                let now = self.now;
                self.accepts += 1;
                let c = &mut self.conns[i];
                c.state = State::Open;
                c.slot = slot;
                c.accept_at = now;
                c.accept_seq = self.accepts;
                c.pressured = pressured;
                c.last_activity = now;
                tr!(
                    self,
                    "accept c{i} -> s{slot}{}",
                    if pressured { " (under pressure)" } else { "" }
                );
            }
            Err(AcceptError::Full) if self.p.shape.eager_accept && !was_waiting => {
                self.cov.hit("fault.accept-full");
                if self.waiting < self.p.shape.waiting_room {
                    tr!(self, "accept c{i} refused: full; it waits for a slot");
                    self.conns[i].waiting = true;
                    self.waiting += 1;
                } else {
                    tr!(
                        self,
                        "accept c{i} refused: full, and the waiting room too; turned away"
                    );
                    self.call(Some(Record::TurnedAway), None, |s| s.turned_away());
                    self.conns[i].state = State::Done;
                    self.conns[i].ended = true;
                }
            }
            Err(e) => {
                let class = if e == AcceptError::Full {
                    "fault.accept-full"
                } else {
                    "fault.accept-shutting-down"
                };
                self.cov.hit(class);
                tr!(self, "accept c{i} refused: {e:?}; the backend closes it");
                self.conns[i].state = State::Done;
                self.conns[i].ended = true;
            }
        }
        self.drain();
    }

    fn make_room(&mut self) {
        let waiting = self.waiting;
        self.made_room_at = Some(self.now);
        tr!(self, "make room for {waiting} waiting");
        let before = *self.server.stats();
        self.making_room = Some((0, 0));
        self.call(Some(Record::MakeRoom { waiting }), None, |s| {
            s.make_room(waiting)
        });
        let Some((shed, reclaimed)) = self.making_room.take() else {
            return;
        };
        let after = *self.server.stats();
        if (after.shed - before.shed, after.reclaimed - before.reclaimed) != (shed, reclaimed) {
            self.fail(format!(
                "make_room closed {shed} connections without a head and {reclaimed} idle ones, \
                 but counted {} shed and {} reclaimed",
                after.shed - before.shed,
                after.reclaimed - before.reclaimed
            ));
        }
    }

    /// The server shed connection `i` (its close was just drained): it must be the oldest
    /// without a complete first head (see [`flood`]).
    fn judge_shed(&mut self, i: usize) {
        let candidate = |c: &Conn| {
            let first = c.script.requests.first();
            flood::Candidate {
                id: c.id,
                accept_seq: c.accept_seq,
                accept_at: c.accept_at,
                delivered: c.delivered,
                head_end: first.map(|r| r.body_start),
                tcp: c.script.kind == ClientKind::Tcp,
                invalid_first: first.is_some_and(|r| {
                    matches!(r.outcome, Outcome::Reject(_) | Outcome::RejectEither(..))
                        && r.class != "flood.partial-head"
                }),
                answered: c.answered,
                eof: c.eof_delivered,
            }
        };
        let victim = candidate(&self.conns[i]);
        let others: Vec<flood::Candidate> = self
            .conns
            .iter()
            .filter(|c| c.id != i && c.state == State::Open)
            .map(candidate)
            .collect();
        self.cov.hit("check.shed");
        let at = flood::ShedTime {
            now: self.now,
            lag: self.lag,
            grace_ms: self.config.timeouts.shed_grace_ms,
        };
        if let Err(why) = flood::judge_shed(&victim, &others, at) {
            self.fail(why);
        }
    }

    fn datagram(&mut self) {
        let (_, data, cap) = self.datagrams[self.next_datagram].clone();
        self.next_datagram += 1;
        let mut reply = vec![0u8; cap];
        tr!(self, "datagram of {} bytes, reply room {cap}", data.len());
        let record = self.recording.is_some().then(|| Record::Datagram {
            handler: 0,
            data: data.clone(),
            reply_cap: cap as u32,
        });
        let got = self.call(record, None, |s| {
            s.datagram(app::udp_pong, PeerAddr::Local, &data, &mut reply)
        });
        let Some(got) = got else { return };
        self.digest.reply(got.map(|n| &reply[..n]));
        let mut want = b"pong:".to_vec();
        want.extend_from_slice(&data);
        let expected = (want.len() <= cap).then_some(want);
        let got = got.map(|n| reply[..n].to_vec());
        if got != expected {
            self.fail(format!(
                "datagram of {} bytes with {cap} bytes of reply room: expected {:?}, got {:?}",
                data.len(),
                expected.map(|e| e.len()),
                got.map(|g| g.len())
            ));
        } else {
            self.cov.hit("udp.answered");
        }
    }

    // ----- the end ---------------------------------------------------------------------------

    fn epilogue(&mut self) {
        if self.failure.is_some() {
            return;
        }
        // Anything the server still wants now is a leak.
        self.drain();
        let active = self.server.active_connections();
        if active != 0 {
            self.fail(format!(
                "every client is gone but the server holds {active} connection slots"
            ));
        }
        let free = self.server.large_buffers_available();
        if free != self.config.large_buffers as usize {
            self.fail(format!(
                "every client is gone but only {free} of {} large buffers are free",
                self.config.large_buffers
            ));
        }
        let s = *self.server.stats();
        if s.accepted != s.closed {
            self.fail(format!(
                "accepted {} connections but closed {}",
                s.accepted, s.closed
            ));
        }
        if self.draining && !self.server.is_idle() {
            self.fail("a drained server is not idle".into());
        }
        tr!(
            self,
            "end: {} requests, {} accepted, stats {:?}",
            s.requests,
            s.accepted,
            s
        );
    }
}

fn answered_class(class: &'static str) -> &'static str {
    // Coverage names are static; map each class to its `answered.` name.
    match crate::coverage::REQUIRED
        .iter()
        .find(|r| r.strip_prefix("answered.") == Some(class))
    {
        Some(name) => name,
        None => "answered.other",
    }
}

/// The text of a caught panic.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let msg = if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    };
    match crate::LAST_PANIC.with(|p| p.borrow_mut().take()) {
        Some(location) => format!("{msg} at {location}"),
        None => msg,
    }
}
