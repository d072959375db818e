//! A production run becomes a test: the io_uring server records what it tells its core
//! (`Builder::record`), and the simulator's replayer feeds the file into a fresh server with
//! the same app, which must ask for the same operations and send the very bytes the clients
//! received over the wire.
//!
//! The test serves the bench contract on loopback with recording on, drives real traffic —
//! keep-alive, pipelining, a chunked upload larger than the receive buffer, error statuses, a
//! `Connection: close`, a client that hangs up mid-request and one that leaves before reading
//! its answer —, asks for a dump mid-run, stops the server, then replays the file. Each
//! client kept every byte it read; the replay's transcript of each connection (the first `n`
//! bytes of each posted send, for each recorded `sent(n)`) must equal them. A counting
//! allocator checks that recording allocates nothing once the instance is running.

#![cfg(target_os = "linux")]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{IO_GUARD, TestServer, chunked, pseudo_random, read_retrying};
use zzz::bench_app;
use zzz::core::{Config, Event, Sole};
use zzz::uring::{Builder, RecvMode};
use zzz_sim::record::{Record, Recording, ReplayError, replay, replay_transcript};

// ----- allocations of the instance thread --------------------------------------------------------

struct CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations the instance thread made after its `on_ready` hook.
static COUNTED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNT_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    if COUNT_THIS_THREAD.try_with(|f| f.get()).unwrap_or(false) {
        COUNTED.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting touches only an
// atomic and a `const` thread-local, neither of which allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The `on_ready` hook: the recording buffer is taken; from here on the instance thread's
/// allocations count.
fn count_from_here(_instance: usize) {
    COUNT_THIS_THREAD.with(|f| f.set(true));
}

// ----- a client that keeps every byte it reads ---------------------------------------------------

/// One connection: writes requests as given and keeps, in `raw`, every byte the server sent.
struct RawClient {
    stream: TcpStream,
    raw: Vec<u8>,
    /// Bytes of `raw` already parsed as responses.
    parsed: usize,
}

impl RawClient {
    fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_read_timeout(Some(IO_GUARD)).unwrap();
        stream.set_write_timeout(Some(IO_GUARD)).unwrap();
        stream.set_nodelay(true).unwrap();
        RawClient {
            stream,
            raw: Vec::new(),
            parsed: 0,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Reads more; `false` at EOF (or a reset).
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match read_retrying(&mut self.stream, &mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.raw.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => false,
            Err(e) => panic!("reading a response: {e}"),
        }
    }

    /// The next response's status and body (every response of the bench contract and of the
    /// server's own errors has a `Content-Length`).
    fn response(&mut self) -> (u16, Vec<u8>) {
        loop {
            let rest = &self.raw[self.parsed..];
            if let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&rest[..end]).expect("an ASCII head");
                let status: u16 = head[9..12].parse().expect("a status");
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().expect("a length"))
                    })
                    .unwrap_or(0);
                if rest.len() >= end + 4 + len {
                    let body = rest[end + 4..end + 4 + len].to_vec();
                    self.parsed += end + 4 + len;
                    return (status, body);
                }
            }
            assert!(self.fill(), "the connection closed before a whole response");
        }
    }

    /// Reads until the server closes; everything the connection carried is then in `raw`.
    fn read_to_close(&mut self) {
        while self.fill() {}
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

const HELLO: &[u8] = b"Hello, World!";
const JSON: &[u8] = br#"{"message":"Hello, World!"}"#;

// ----- the test ------------------------------------------------------------------------------------

fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 16;
    config.recv_buffer = 4096;
    config.send_buffer = 4096;
    config.large_buffers = 4;
    config.large_buffer_size = 64 * 1024;
    config.limits.max_request_line = 2048;
    config.limits.max_head = 4096;
    config.limits.max_body = 64 * 1024;
    config.timer_tick_ms = 10;
    config
}

/// An empty directory of this test process's own.
fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn decode(path: &Path) -> Recording {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Recording::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_recorded_run_replays_byte_for_byte_buffer_ring() {
    recorded_run_replays_byte_for_byte(RecvMode::default(), "record_replay_ring");
}

#[test]
fn a_recorded_run_replays_byte_for_byte_direct() {
    recorded_run_replays_byte_for_byte(RecvMode::Direct, "record_replay_direct");
}

/// The whole round trip in one receive mode (the recording is the same either way: what the
/// server was told).
fn recorded_run_replays_byte_for_byte(mode: RecvMode, scratch: &str) {
    let dir = scratch_dir(scratch);
    let base = dir.join("run");
    let file = dir.join("run.0.zzzrec");

    let server = TestServer::start(
        Builder::new(config())
            .threads(1)
            .recv_mode(mode)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole)
            .record(&base, 4 << 20)
            .on_ready(count_from_here),
        |_| bench_app::app(),
    );
    let addr = server.tcp(0);
    // Connections are opened one after the other, each after the previous one's first
    // exchange (or its last write), so the server accepts them in this order.
    let mut kept: Vec<(usize, RawClient)> = Vec::new();
    let mut accepted = 0usize;
    let mut requests = 0u64;

    // Keep-alive: three requests, one after the other, on one connection.
    let mut c = RawClient::connect(addr);
    c.send(&get("/plaintext"));
    assert_eq!(c.response(), (200, HELLO.to_vec()));
    c.send(&get("/json"));
    assert_eq!(c.response(), (200, JSON.to_vec()));
    c.send(&post("/echo/keep-alive", b"some body"));
    assert_eq!(c.response(), (200, b"some body".to_vec()));
    requests += 3;
    kept.push((accepted, c));
    accepted += 1;

    // Pipelined: three requests in one write, answered in order.
    let mut c = RawClient::connect(addr);
    c.send(&[get("/plaintext"), post("/echo/p", b"hello"), get("/json")].concat());
    assert_eq!(c.response(), (200, HELLO.to_vec()));
    assert_eq!(c.response(), (200, b"hello".to_vec()));
    assert_eq!(c.response(), (200, JSON.to_vec()));
    requests += 3;
    kept.push((accepted, c));
    accepted += 1;

    // A chunked upload larger than the receive buffer, written in pieces.
    let body = pseudo_random(20_000, 42);
    let mut c = RawClient::connect(addr);
    c.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for piece in chunked(&body, 3000).chunks(5000) {
        c.send(piece);
    }
    assert_eq!(c.response(), (200, body.clone()));
    requests += 1;
    kept.push((accepted, c));
    accepted += 1;

    // Half-way through the run, a dump: the recording so far, written without stopping.
    server.handle().dump();

    // Error statuses: a smuggling attempt (both framings) gets 400 and the connection closes;
    // CONNECT, which zzz does not implement, gets 501 on a connection that stays open.
    let mut c = RawClient::connect(addr);
    c.send(&get("/after-dump"));
    assert_eq!(c.response().0, 200);
    c.send(b"CONNECT pot:1 HTTP/1.1\r\nHost: pot:1\r\n\r\n");
    assert_eq!(c.response().0, 501);
    c.send(
        b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(c.response().0, 400);
    c.read_to_close();
    // The 501 is dispatched (it reached the router); the 400 is the parser's.
    requests += 2;
    kept.push((accepted, c));
    accepted += 1;
    // The dump was written before the first response after it was sent (the wake-up that
    // asks for it completes before anything the client sent after it).
    let dumped = decode(&file);

    // `Connection: close`: answered, then closed by the server.
    let mut c = RawClient::connect(addr);
    c.send(b"GET /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(c.response(), (200, JSON.to_vec()));
    c.read_to_close();
    requests += 1;
    kept.push((accepted, c));
    accepted += 1;

    // A client that hangs up in the middle of a head.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /plaintext HTTP/1.1\r\nHo").unwrap();
    drop(stream);
    let hung_up = accepted;
    accepted += 1;

    // A client that sends a whole request and leaves without reading the answer.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(&get("/plaintext")).unwrap();
    stream.shutdown(Shutdown::Both).unwrap();
    drop(stream);
    accepted += 1;

    // One more exchange, so the two above have been accepted before the stop.
    let mut c = RawClient::connect(addr);
    c.send(&get("/plaintext"));
    assert_eq!(c.response(), (200, HELLO.to_vec()));
    requests += 1;
    kept.push((accepted, c));
    accepted += 1;

    // A graceful stop: the server closes its idle keep-alive connections (shutting down its
    // sending side, then reading until the client closes too, for at most its linger time).
    // Each client reads to the end, so it has all it will get, and closes.
    server.handle().shutdown();
    for (_, c) in &mut kept {
        c.read_to_close();
        let _ = c.stream.shutdown(Shutdown::Both);
    }
    server.wait().expect("the server stops cleanly");
    assert_eq!(
        COUNTED.load(Ordering::SeqCst),
        0,
        "the recording instance allocated after startup"
    );

    let recording = decode(&file);
    assert!(!recording.truncated, "4 MiB hold this run");
    assert_eq!(recording.config, config());
    let count = |f: fn(&Record) -> bool| recording.records.iter().filter(|r| f(r)).count();
    assert_eq!(
        count(|r| matches!(r.event, Event::Accepted { .. })),
        accepted
    );
    assert!(count(|r| matches!(r.event, Event::Received { n: 0, .. })) >= 1);
    assert!(count(|r| matches!(r.event, Event::Tick(_))) >= 1);
    assert!(count(|r| matches!(r.event, Event::Sent { .. })) >= 1);
    assert_eq!(count(|r| matches!(r.event, Event::Closed { .. })), accepted);
    assert_eq!(count(|r| matches!(r.event, Event::Shutdown)), 1);

    // The replay: same operations, same bytes on every connection.
    let (report, transcript) = replay_transcript(&recording, bench_app::app())
        .unwrap_or_else(|e| panic!("the recording replays: {e}"));
    assert_eq!(report.records, recording.records.len());
    assert_eq!(report.stats.accepted, accepted as u64);
    assert_eq!(report.stats.closed, accepted as u64);
    // The client that left before reading made a request too.
    assert_eq!(report.stats.requests, requests + 1);
    assert_eq!(report.stats.responses[4], 1, "the 400");
    assert_eq!(report.stats.responses[5], 1, "the 501");
    assert_eq!(transcript.connections.len(), accepted);
    for (i, c) in &kept {
        assert!(
            transcript.connections[*i] == c.raw,
            "connection {i}: the replay sent {} bytes, the client received {}:\n{}\n---\n{}",
            transcript.connections[*i].len(),
            c.raw.len(),
            String::from_utf8_lossy(&transcript.connections[*i]),
            String::from_utf8_lossy(&c.raw)
        );
    }
    assert!(transcript.connections[hung_up].is_empty());

    // `zzz-sim --replay FILE` serves the simulator's app by default: the bench contract plus
    // routes under /sim/, which this traffic never asked for. It replays the same.
    let sim = replay(&recording, zzz_sim::app::app()).expect("replays in the sim's app");
    assert_eq!(sim.digest, report.digest);

    // The dump was a prefix of the final recording, and replays on its own.
    assert!(!dumped.records.is_empty());
    assert!(dumped.records.len() < recording.records.len());
    assert_eq!(
        dumped.records[..],
        recording.records[..dumped.records.len()]
    );
    replay(&dumped, bench_app::app()).expect("the dump replays");

    std::fs::remove_dir_all(&dir).unwrap();
}

/// A recording whose buffer fills up keeps the run's first events, says it is truncated, and
/// replays.
#[test]
fn a_full_recording_is_a_replayable_prefix() {
    let dir = scratch_dir("record_replay_full");
    let server = TestServer::start(
        Builder::new(config())
            .threads(1)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole)
            // A directory: the file is `zzz.0.zzzrec` in it.
            .record(&dir, 2048),
        |_| bench_app::app(),
    );
    let mut c = RawClient::connect(server.tcp(0));
    for i in 0..20 {
        c.send(&post("/echo/fill", &pseudo_random(500, i)));
        assert_eq!(c.response().0, 200);
    }
    server.stop().unwrap();
    let recording = decode(&dir.join("zzz.0.zzzrec"));
    assert!(recording.truncated);
    assert!(std::fs::metadata(dir.join("zzz.0.zzzrec")).unwrap().len() <= 2048);
    let report = replay(&recording, bench_app::app()).expect("a prefix replays");
    assert!(report.truncated);
    assert!(report.stats.requests >= 1 && report.stats.requests < 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn boom(
    _: &mut zzz::core::Ctx<bench_app::BenchState>,
    _: &zzz::core::Request,
) -> zzz::core::Response {
    panic!("boom: the handler's bug");
}

/// The bench contract with one more route, whose handler panics.
fn app_with_a_bug() -> zzz::core::App<bench_app::BenchState> {
    use std::sync::OnceLock;
    use zzz::core::{App, Route, Router};
    static ROUTES: OnceLock<Vec<Route<bench_app::BenchState>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let mut all = vec![Route::get("/boom", boom)];
        all.extend_from_slice(bench_app::routes());
        all
    });
    App::new(
        bench_app::BenchState::default(),
        Router::new(routes).unwrap(),
    )
}

/// The incident the recording exists for: a request makes a handler panic. The panic
/// unwinds through the instance, which writes its recording on the way out; the replay
/// reproduces the panic at the very record that caused it.
#[test]
fn a_panic_is_recorded_and_replays_as_a_panic() {
    let dir = scratch_dir("record_replay_panic");
    let server = TestServer::start(
        Builder::new(config())
            .threads(1)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole)
            .record(dir.join("incident"), 1 << 20),
        |_| app_with_a_bug(),
    );
    let mut c = RawClient::connect(server.tcp(0));
    c.send(&get("/plaintext"));
    assert_eq!(c.response(), (200, HELLO.to_vec()));
    c.send(&get("/boom"));
    c.read_to_close();
    let error = server.wait().expect_err("the instance panicked");
    assert!(error.to_string().contains("panicked"), "{error}");

    let recording = decode(&dir.join("incident.0.zzzrec"));
    let last = recording.records.len() - 1;
    assert!(
        matches!(recording.records[last].event, Event::Received { .. })
            && recording.records[last].data.starts_with(b"GET /boom"),
        "the last record is the request that panicked: {:?}",
        recording.records[last]
    );
    match replay(&recording, app_with_a_bug()) {
        Err(ReplayError::Panicked { index, message }) => {
            assert_eq!(index, last);
            assert!(message.contains("boom"), "{message}");
        }
        other => panic!("expected the replay to panic, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
