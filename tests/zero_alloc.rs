//! ARCHITECTURE.md §3 Memory: after startup the process makes zero heap allocations, whatever the
//! load.
//!
//! A counting global allocator counts the allocations of the threads that have raised a
//! thread-local flag. The io_uring instance raises it in its `on_ready` hook, which runs once
//! its setup is done and just before its loop starts, so every allocation its thread makes
//! while serving is counted. The test thread then drives thousands of real requests over
//! loopback with raw sockets — keep-alive, pipelined, Content-Length and chunked uploads (some
//! larger than the receive buffer), `Expect: 100-continue`, HEAD, static and streamed and
//! spilled responses, every error status, the large-buffer pool and the connection slots run
//! dry, the keep-alive, head and body timeouts, connections dropped mid-request, raw TCP and
//! UDP, the key-value store, a room of WebSocket clients and an event stream fed through the
//! hub and by another thread's mailbox — stops the server gracefully, and asserts that the
//! count did not move. When it did,
//! the failure shows the count, which scenarios it grew in, and the backtrace of the first
//! allocation.

#![cfg(target_os = "linux")]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use support::{Client, TestServer, chunked, pseudo_random};
use zzz::bench_app::BenchState;
use zzz::core::handler::StreamFn;
use zzz::core::router::RouteMethod;
use zzz::core::server::{Protocols, Start, TopicId};
use zzz::core::sse::{self, EventStream};
use zzz::core::tcp::TcpFn;
use zzz::core::websocket::{
    FrameHeader, MessagePiece, Opcode, Take, UpgradeOptions, WebSocket, WsCtx, WsHandler,
    apply_mask, upgrade, write_header,
};
use zzz::core::{
    App, Config, Ctx, Http, Lagging, Method, PeerAddr, Request, Response, Route, Router, Status,
    StreamCursor, StreamOut, StreamStep, Tcp, TcpCtx, Timeouts, Topics, Udp,
};
use zzz::uring::{Builder, Handle};
use zzz_apps::kv::Kv;
use zzz_apps::kv::store::Capacity;

// ----- the counting allocator ------------------------------------------------------------------

/// Counts the allocations (alloc, alloc_zeroed, realloc) of flagged threads; serves every
/// thread from the system allocator.
struct CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by flagged threads.
static COUNTED: AtomicUsize = AtomicUsize::new(0);
/// Where the first counted allocation came from.
static FIRST: Mutex<Option<Backtrace>> = Mutex::new(None);
/// Set by the instance's `on_ready` hook.
static INSTANCE_READY: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether this thread's allocations are counted. A `const` `Cell<bool>` needs neither
    /// lazy initialisation nor a destructor, so the allocator can read it at any time.
    static COUNT_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Counts an allocation if this thread is flagged. The flag is lowered meanwhile, so that
/// capturing the first backtrace (which allocates) is not counted, nor recursed into.
fn note_allocation() {
    let counted = COUNT_THIS_THREAD
        .try_with(|flag| flag.replace(false))
        .unwrap_or(false);
    if !counted {
        return;
    }
    if COUNTED.fetch_add(1, Ordering::SeqCst) == 0 {
        let backtrace = Backtrace::force_capture();
        if let Ok(mut first) = FIRST.lock() {
            *first = Some(backtrace);
        }
    }
    COUNT_THIS_THREAD.with(|flag| flag.set(true));
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting only touches
// atomics, a `const` thread-local and (once) a mutex, none of which allocate through this
// allocator while the flag is raised.
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

/// The `on_ready` hook: from here on, the instance thread's allocations count.
fn count_from_here(_instance: usize) {
    COUNT_THIS_THREAD.with(|flag| flag.set(true));
    INSTANCE_READY.store(true, Ordering::SeqCst);
}

/// Checks that the allocator counts a flagged thread and only it, then resets the count.
fn allocator_self_check() {
    std::thread::spawn(|| {
        let unflagged = vec![1u8; 100];
        COUNT_THIS_THREAD.with(|flag| flag.set(true));
        let flagged = std::hint::black_box(vec![2u8; 100]);
        COUNT_THIS_THREAD.with(|flag| flag.set(false));
        drop((unflagged, flagged));
    })
    .join()
    .unwrap();
    assert_eq!(
        COUNTED.load(Ordering::SeqCst),
        1,
        "the counting allocator must count exactly the flagged allocation"
    );
    COUNTED.store(0, Ordering::SeqCst);
    *FIRST.lock().unwrap() = None;
}

// ----- the app ---------------------------------------------------------------------------------

/// Small buffers and short timeouts, so that every limit and timer is reached quickly.
fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 32;
    config.recv_buffer = 4096;
    config.send_buffer = 4096;
    config.large_buffers = 4;
    config.large_buffer_size = 256 * 1024;
    config.max_requests_per_connection = 100;
    config.timer_tick_ms = 10;
    config.datagram_size = 2048;
    config.datagram_replies = 8;
    config.limits.max_request_line = 2048;
    config.limits.max_head = 4096;
    config.limits.max_body = 128 * 1024;
    config.topics = Topics {
        count: 1,
        ring_bytes: 16 * 1024,
        max_message: 512,
        per_connection: 1,
        lagging: Lagging::Skip,
        inbox_bytes: 0,
    };
    config.timeouts = Timeouts {
        head_ms: 1000,
        body_idle_ms: 1000,
        keep_alive_ms: 1000,
        send_stall_ms: 5_000,
        linger_ms: 300,
        pressured_first_byte_ms: 1000,
        shed_grace_ms: 100,
    };
    config
}

/// A body sent from `'static` memory without copying.
static STATIC_BODY: [u8; 10_000] = [b's'; 10_000];
/// The streamed body: this many pieces of `STREAM_PIECE`.
const STREAM_PIECES: u64 = 40;
const STREAM_PIECE: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
/// The body written piece by piece, larger than the send buffer (it moves to a large buffer).
const BIG_LEN: usize = 20_000;

fn static_body(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "application/octet-stream")
        .static_body(&STATIC_BODY)
}

fn produce(_: &mut BenchState, cursor: &mut StreamCursor, out: &mut StreamOut<'_>) -> StreamStep {
    while cursor.0[0] < STREAM_PIECES && out.remaining() >= STREAM_PIECE.len() {
        out.write(STREAM_PIECE);
        cursor.0[0] += 1;
    }
    if cursor.0[0] == STREAM_PIECES {
        StreamStep::Done
    } else {
        StreamStep::More
    }
}

fn stream(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    let producer: StreamFn<BenchState> = produce;
    ctx.respond(Status::OK)
        .header("Content-Type", "text/plain")
        .stream(producer, StreamCursor::default())
}

fn big(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    let mut body = ctx
        .respond(Status::OK)
        .header("Content-Type", "text/plain")
        .writer();
    for i in 0..BIG_LEN / 10 {
        use std::fmt::Write as _;
        let _ = writeln!(body, "{i:09}");
    }
    body.finish()
}

fn tcp_echo(ctx: &mut TcpCtx<BenchState>, data: &[u8]) -> usize {
    let n = data.len().min(ctx.room());
    ctx.write(&data[..n]);
    n
}

fn udp_echo(_: &mut BenchState, _: PeerAddr, data: &[u8], reply: &mut [u8]) -> Option<usize> {
    let n = data.len().min(reply.len());
    reply[..n].copy_from_slice(&data[..n]);
    Some(n)
}

zzz::core::protocols! {
    /// Every kind of protocol module, on one instance.
    struct Modules<BenchState> {
        conn: ModulesConn,
        id: Proto,
        /// HTTP/1.1.
        http: Http => Http<BenchState>,
        /// The raw TCP echo.
        tcp: Tcp => Tcp<TcpFn<BenchState>>,
        /// The UDP echo.
        udp: Udp => Udp<BenchState>,
        /// The Redis-protocol store, written outside the core.
        kv: Kv => Kv,
        /// A room over WebSocket, on the hub's topic 0.
        ws: Ws => WebSocket<Room>,
    }
}

/// The room every WebSocket follows and server-sent events show.
const ROOM: TopicId = TopicId(0);

/// A WebSocket client of [`ROOM`]: follows it from the next message, publishes each text
/// message it sends (whole, at most 512 bytes, kept in the slot as plain bytes).
struct Room;

struct Incoming {
    bytes: [u8; 512],
    len: usize,
}

impl WsHandler<BenchState> for Room {
    type Conn = Incoming;

    fn open(&mut self, ctx: &mut WsCtx<'_, BenchState>) -> Incoming {
        ctx.bus
            .subscribe(ROOM, Start::Next)
            .expect("one subscription per connection");
        Incoming {
            bytes: [0; 512],
            len: 0,
        }
    }

    fn message(
        &mut self,
        incoming: &mut Incoming,
        ctx: &mut WsCtx<'_, BenchState>,
        piece: MessagePiece<'_>,
    ) -> Take {
        if piece.first {
            incoming.len = 0;
        }
        let end = incoming.len + piece.data.len();
        incoming.bytes[incoming.len..end].copy_from_slice(piece.data);
        incoming.len = end;
        if piece.last {
            ctx.bus
                .publish(ROOM, &incoming.bytes[..end])
                .expect("published");
        }
        Take::Done
    }
}

fn ws_upgrade(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    upgrade(ctx, req, &UpgradeOptions::to(Modules::id_index(Proto::Ws)))
}

fn room_events(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    sse::events(ctx, req, EventStream::of(ROOM))
}

/// The bench contract's own handlers (so that what the benchmarks run is what is counted),
/// with the echo catch-all mounted under `/echo/` so that 404 and 405 are reachable, and three
/// handlers for the other ways of answering (static, streamed, written in pieces).
fn routes() -> &'static [Route<BenchState>] {
    let bench = zzz::bench_app::routes();
    let find = |method: RouteMethod, pattern: &str| {
        *bench
            .iter()
            .find(|r| r.method == method && r.pattern == pattern)
            .unwrap_or_else(|| panic!("the bench app has no {method} {pattern}"))
    };
    let echo = find(RouteMethod::Any, "/{*path}").handler;
    let mut table = vec![
        find(Method::Get.into(), "/plaintext"),
        find(Method::Get.into(), "/json"),
        Route::get("/static", static_body),
        Route::get("/stream", stream),
        Route::get("/big", big),
        Route::get("/ws", ws_upgrade),
        Route::get("/events", room_events),
    ];
    for method in [Method::Get, Method::Post, Method::Put, Method::Patch] {
        table.push(Route::new(method, "/echo/{*path}", echo));
    }
    table.push(Route::method("PURGE", "/echo/{*path}", echo));
    Box::leak(table.into_boxed_slice())
}

// ----- traffic ---------------------------------------------------------------------------------

/// The addresses of the server under test.
#[derive(Clone, Copy)]
struct Addrs {
    http: SocketAddr,
    tcp: SocketAddr,
    udp: SocketAddr,
    kv: SocketAddr,
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn post_chunked(path: &str, body: &[u8], chunk: usize) -> Vec<u8> {
    let mut request =
        format!("POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    request.extend_from_slice(&chunked(body, chunk));
    request
}

fn expect_ok(r: &support::Response, body: &[u8]) {
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body == body, "unexpected body ({} bytes)", r.body.len());
}

/// Requests cycle through these on keep-alive connections.
fn mixed_request(i: usize) -> (Vec<u8>, Vec<u8>) {
    match i % 6 {
        0 => (get("/plaintext"), b"Hello, World!".to_vec()),
        1 => (get("/json"), br#"{"message":"Hello, World!"}"#.to_vec()),
        2 => {
            let body = pseudo_random(100 + i % 900, i as u64);
            (post(&format!("/echo/{i}"), &body), body)
        }
        3 => {
            let body = pseudo_random(50 + i % 1500, i as u64);
            (post_chunked(&format!("/echo/c{i}"), &body, 97), body)
        }
        4 => (get(&format!("/echo/get{i}?q={i}")), Vec::new()),
        _ => {
            // An extension method, routed by its token.
            let body = pseudo_random(10 + i % 300, i as u64);
            let mut request = post(&format!("/echo/p{i}"), &body);
            request.splice(..4, *b"PURGE");
            (request, body)
        }
    }
}

/// Keep-alive: connections of 100 requests each, the last of which says `Connection: close`
/// (max_requests_per_connection) and is followed by the close.
fn keep_alive(addr: SocketAddr, connections: usize) -> usize {
    let mut served = 0;
    for c in 0..connections {
        let mut client = Client::connect(addr);
        for i in 0..100 {
            let (request, body) = mixed_request(c * 100 + i);
            client.send(&request);
            let r = client.response();
            expect_ok(&r, &body);
            assert_eq!(r.closes(), i == 99, "request {i}: {r:?}");
            served += 1;
        }
        client.expect_closed();
    }
    served
}

/// Pipelining: batches of 16 requests in one write, answered in order.
fn pipelined(addr: SocketAddr, connections: usize) -> usize {
    let mut served = 0;
    for c in 0..connections {
        let mut client = Client::connect(addr);
        for batch in 0..6 {
            let mut bytes = Vec::new();
            let mut bodies = Vec::new();
            for i in 0..16 {
                let (request, body) = mixed_request(c * 1000 + batch * 16 + i);
                bytes.extend_from_slice(&request);
                bodies.push(body);
            }
            client.send(&bytes);
            for body in bodies {
                expect_ok(&client.response(), &body);
                served += 1;
            }
        }
    }
    served
}

/// Bodies larger than the 4 KiB receive buffer (they move to a large buffer), by
/// Content-Length and chunked, responses larger than the send buffer, `Expect: 100-continue`,
/// HEAD, static, streamed and written responses.
fn uploads_and_responses(addr: SocketAddr) -> usize {
    let mut served = 0;
    let mut client = Client::connect(addr);
    for i in 0..8 {
        let body = pseudo_random(60_000 + i * 1000, 100 + i as u64);
        client.send(&post(&format!("/echo/large{i}"), &body));
        expect_ok(&client.response(), &body);
        client.send(&post_chunked(
            &format!("/echo/large-chunked{i}"),
            &body,
            4000,
        ));
        expect_ok(&client.response(), &body);
        served += 2;
    }

    let mut client = Client::connect(addr);
    // 19 x 5 requests: below the 100 of max_requests_per_connection.
    for i in 0..19 {
        let body = pseudo_random(2000 + i * 100, 200 + i as u64);
        client.send(
            format!(
                "PUT /echo/expect{i} HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        assert_eq!(client.response_with_interim().status, 100);
        client.send(&body);
        expect_ok(&client.response(), &body);

        client.send(b"HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
        let head = client.head_response();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), Some("13"));

        client.send(&get("/static"));
        expect_ok(&client.response(), &STATIC_BODY);

        client.send(&get("/stream"));
        let r = client.response();
        assert_eq!(r.status, 200);
        assert_eq!(r.body.len(), STREAM_PIECES as usize * STREAM_PIECE.len());

        client.send(&get("/big"));
        let r = client.response();
        assert_eq!((r.status, r.body.len()), (200, BIG_LEN));
        served += 5;
    }

    // HTTP/1.0 and `Connection: close` close after their response.
    for request in [
        &b"GET /plaintext HTTP/1.0\r\n\r\n"[..],
        b"GET /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ] {
        let mut client = Client::connect(addr);
        client.send(request);
        let r = client.response();
        assert!(r.status == 200 && r.closes(), "{r:?}");
        client.expect_closed();
        served += 1;
    }
    served
}

/// One request that gets `status`; `closes` says whether the connection must close after it.
fn rejected(addr: SocketAddr, request: &[u8], status: u16, closes: bool) {
    let mut client = Client::connect(addr);
    client.send(request);
    let r = client.response();
    assert_eq!(r.status, status, "{r:?}");
    if closes {
        assert!(r.closes(), "{r:?}");
        client.expect_closed();
    } else {
        assert!(!r.closes(), "{r:?}");
        client.send(&get("/plaintext"));
        expect_ok(&client.response(), b"Hello, World!");
    }
}

/// Every error status the engine and the router produce, several times each.
fn error_statuses(addr: SocketAddr) -> usize {
    let long_target = format!("/{}", "a".repeat(3000));
    let big_header = "h".repeat(5000);
    let over_limit_body = pseudo_random(130 * 1024, 7);
    let cases: Vec<(Vec<u8>, u16, bool)> = vec![
        (
            b"POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            400,
            true,
        ),
        (b"GET /x HTTP/1.1\r\n\r\n".to_vec(), 400, true),
        (get("/missing"), 404, false),
        (b"DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 405, false),
        (
            b"POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n".to_vec(),
            413,
            true,
        ),
        (post_chunked("/echo/too-large", &over_limit_body, 8192), 413, true),
        (get(&long_target), 414, true),
        (
            format!("GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: {big_header}\r\n\r\n").into_bytes(),
            431,
            true,
        ),
        (
            b"POST /echo/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            501,
            true,
        ),
        (b"BREW /plaintext HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 405, false),
        (b"CONNECT t:443 HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 501, false),
        (b"GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n".to_vec(), 505, true),
        (b"GET /plaintext HTTP/1.1\r\nHost:\r\n\r\n".to_vec(), 400, true),
        (
            b"POST /echo/x HTTP/1.1\r\nHost: t\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx".to_vec(),
            417,
            true,
        ),
    ];
    let mut answered = 0;
    for _ in 0..10 {
        for (request, status, closes) in &cases {
            rejected(addr, request, *status, *closes);
            answered += 1;
        }
    }
    answered
}

/// Connections the client abandons: mid-head, mid-body, before reading the response, with
/// its sending side shut after a complete request.
fn dropped_mid_request(addr: SocketAddr) -> usize {
    let body = pseudo_random(50_000, 9);
    let mut dropped = 0;
    for i in 0..20 {
        let mut stream = TcpStream::connect(addr).unwrap();
        match i % 5 {
            0 => stream.write_all(b"GET /plaintext HTTP/1.1\r\nHo").unwrap(),
            1 => stream
                .write_all(b"POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nhalf")
                .unwrap(),
            2 => stream.write_all(&post("/echo/big-unread", &body)).unwrap(),
            3 => stream
                .write_all(&post_chunked("/echo/x", &body, 1000)[..30_000])
                .unwrap(),
            _ => {
                // A complete request, then half-close: the server still answers it.
                stream.write_all(&get("/plaintext")).unwrap();
                stream.shutdown(Shutdown::Write).unwrap();
                let mut client = Client::from_stream(stream);
                expect_ok(&client.response(), b"Hello, World!");
                client.expect_closed();
                dropped += 1;
                continue;
            }
        }
        drop(stream);
        dropped += 1;
    }
    // The server is still well.
    let mut client = Client::connect(addr);
    client.send(&get("/plaintext"));
    expect_ok(&client.response(), b"Hello, World!");
    dropped
}

/// The large-buffer pool runs dry: four bodies hold the four large buffers (each has had its
/// `100 Continue`, so each holds one), and a fifth request gets 503 with Retry-After.
fn pool_exhausted(addr: SocketAddr) -> usize {
    let body = pseudo_random(100_000, 11);
    let head = format!(
        "POST /echo/pool HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut holders: Vec<Client> = (0..4)
        .map(|_| {
            let mut client = Client::connect(addr);
            client.send(head.as_bytes());
            assert_eq!(client.response_with_interim().status, 100);
            client
        })
        .collect();
    let mut fifth = Client::connect(addr);
    fifth.send(head.as_bytes());
    let r = fifth.response();
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.header("Retry-After").is_some(), "{r:?}");
    // The first echo needs a fifth large buffer for its response and gets 503 too (ARCHITECTURE.md
    // §4 Bounds: never a truncated response), which frees its body's buffer for the next ones.
    holders[0].send(&body);
    let r = holders[0].response();
    assert_eq!(r.status, 503, "{r:?}");
    holders[0].expect_closed();
    for client in &mut holders[1..] {
        client.send(&body);
        expect_ok(&client.response(), &body);
    }
    5
}

/// The connection slots run out: 32 idle keep-alive connections fill them, so the oldest
/// idle one is closed to make room, and a 33rd is served.
fn slots_exhausted(addr: SocketAddr) -> usize {
    let mut idle: Vec<Client> = (0..32)
        .map(|_| {
            let mut client = Client::connect(addr);
            client.send(&get("/plaintext"));
            expect_ok(&client.response(), b"Hello, World!");
            client
        })
        .collect();
    let mut extra = Client::connect(addr);
    extra.send(&get("/json"));
    expect_ok(&extra.response(), br#"{"message":"Hello, World!"}"#);
    idle[0].expect_closed();
    idle.clear();
    33
}

/// Timeouts: an idle keep-alive connection is closed silently; a head that does not complete
/// gets 408; so does a body that stops arriving; a connection that sends nothing is closed.
fn timeouts(addr: SocketAddr) -> usize {
    let idle = std::thread::spawn(move || {
        let mut client = Client::connect(addr);
        client.send(&get("/plaintext"));
        expect_ok(&client.response(), b"Hello, World!");
        client.expect_closed();
    });
    let slow_head = std::thread::spawn(move || {
        let mut client = Client::connect(addr);
        client.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Slow:");
        let r = client.response();
        assert_eq!(r.status, 408, "{r:?}");
        client.expect_closed();
    });
    let slow_body = std::thread::spawn(move || {
        let mut client = Client::connect(addr);
        client.send(b"POST /echo/slow HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nsome");
        let r = client.response();
        assert_eq!(r.status, 408, "{r:?}");
        client.expect_closed();
    });
    let silent = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
        // A 408 or nothing, then the close (EOF or reset; the read timeout is a failure).
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            match support::read_retrying(&mut stream, &mut chunk) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("a silent connection was not closed: {e}"),
            }
        }
        assert!(
            got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        println!(
            "a silent connection got {} bytes before its close",
            got.len()
        );
    });
    for t in [idle, slow_head, slow_body, silent] {
        t.join().expect("a timeout scenario");
    }
    4
}

/// The raw TCP and UDP modules on the same instance.
fn raw_modules(addrs: Addrs) -> usize {
    let stream = TcpStream::connect(addrs.tcp).unwrap();
    stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    let data = pseudo_random(100_000, 13);
    let mut writer = stream.try_clone().unwrap();
    let sent = data.clone();
    let write = std::thread::spawn(move || writer.write_all(&sent).unwrap());
    let mut echoed = vec![0u8; data.len()];
    (&stream).read_exact(&mut echoed).expect("the TCP echo");
    write.join().unwrap();
    assert!(echoed == data);

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    socket.connect(addrs.udp).unwrap();
    let mut buf = [0u8; 2048];
    for i in 0..200 {
        let datagram = pseudo_random(1 + i * 7, i as u64);
        socket.send(&datagram).unwrap();
        let n = support::recv_retrying(&socket, &mut buf).expect("a UDP echo");
        assert_eq!(&buf[..n], &datagram[..]);
    }
    201
}

/// The key-value module: every command, pipelined, with expiry, errors and a full store.
fn kv_module(addrs: Addrs) -> usize {
    let mut stream = TcpStream::connect(addrs.kv).unwrap();
    stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    let value = "v".repeat(3000);
    let commands: Vec<Vec<&str>> = vec![
        vec!["PING"],
        vec!["SET", "k", "v", "PX", "20"],
        vec!["SET", "big", &value],
        vec!["GET", "big"],
        vec!["MSET", "a", "1", "b", "2", "c", "3"],
        vec!["MGET", "a", "b", "c", "nope"],
        vec!["INCR", "n"],
        vec!["INCRBY", "n", "41"],
        vec!["EXISTS", "a", "k"],
        vec!["DEL", "a"],
        vec!["TTL", "big"],
        vec!["NOPE", "x"],
        vec!["GET"],
        vec!["DBSIZE"],
        vec!["FLUSHALL"],
        vec!["ECHO", "done"],
    ];
    let mut batch = Vec::new();
    for args in &commands {
        batch.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            batch.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    // Pipelined, twice over, then inline.
    stream.write_all(&batch).unwrap();
    stream.write_all(&batch).unwrap();
    stream.write_all(b"ECHO inline\r\n").unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.ends_with(b"$6\r\ninline\r\n") {
        let n = support::read_retrying(&mut stream, &mut chunk).expect("the replies");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("$4\r\ndone\r\n").count(), 2, "{text}");
    assert_eq!(text.matches(":42\r\n").count(), 2, "{text}");
    assert_eq!(text.matches("-ERR unknown command").count(), 2, "{text}");
    2 * commands.len() + 1
}

/// A WebSocket client's connection, upgraded (the handshake written by hand).
fn ws_connect(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = support::read_retrying(&mut stream, &mut byte).expect("the 101");
        assert!(n > 0, "closed during the handshake");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// Sends one masked client frame.
fn ws_send(stream: &mut TcpStream, opcode: Opcode, payload: &[u8]) {
    let key = [0x12, 0x34, 0x56, 0x78];
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut frame = vec![0u8; 14 + payload.len()];
    let at = write_header(&mut frame, &header).unwrap();
    frame[at..at + payload.len()].copy_from_slice(payload);
    apply_mask(&mut frame[at..at + payload.len()], key, 0);
    frame.truncate(at + payload.len());
    stream.write_all(&frame).unwrap();
}

/// Reads server frames until `count` have arrived: (first byte, payload).
fn ws_read(stream: &mut TcpStream, count: usize) -> Vec<(u8, Vec<u8>)> {
    let mut got = Vec::new();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while got.len() < count {
        // Bounded: each turn takes one whole frame out of `buf`, or stops for more bytes.
        while buf.len() >= 2 {
            let (len, at) = match (buf[1] & 0x7f) as usize {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                126 => break,
                127 => panic!("no frame here is that long"),
                n => (n, 2),
            };
            if buf.len() < at + len {
                break;
            }
            got.push((buf[0], buf[at..at + len].to_vec()));
            buf.drain(..at + len);
        }
        if got.len() >= count {
            break;
        }
        let n = support::read_retrying(stream, &mut chunk).expect("frames");
        assert!(n > 0, "closed after {} frames", got.len());
        buf.extend_from_slice(&chunk[..n]);
    }
    got
}

/// A room over WebSocket and server-sent events, and messages from another thread: three
/// WebSocket clients publish, everyone (the event stream too) gets every message; a ping is
/// answered; the clients close with the handshake.
fn live(addrs: Addrs, handle: &Handle) -> usize {
    let mut events = TcpStream::connect(addrs.http).unwrap();
    events.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    events
        .write_all(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 512];
    let n = support::read_retrying(&mut events, &mut first).expect("the stream's head");
    assert!(first[..n].starts_with(b"HTTP/1.1 200"), "subscribed first");
    let mut clients: Vec<TcpStream> = (0..3).map(|_| ws_connect(addrs.http)).collect();
    let per_client = 20;
    for (i, client) in clients.iter_mut().enumerate() {
        for m in 0..per_client {
            ws_send(
                client,
                Opcode::Text,
                format!("client {i} message {m}").as_bytes(),
            );
        }
    }
    let from_thread = 5;
    for m in 0..from_thread {
        handle
            .publish(ROOM, format!("from a thread {m}").as_bytes())
            .expect("the mailbox has room");
    }
    let total = clients.len() * per_client + from_thread;
    for client in &mut clients {
        let frames = ws_read(client, total);
        assert!(frames.iter().all(|(op, _)| *op == 0x81), "text frames");
    }
    let mut stream_text = String::from_utf8_lossy(&first[..n]).into_owned();
    let mut chunk = [0u8; 4096];
    while stream_text.matches("data: ").count() < total {
        let n = support::read_retrying(&mut events, &mut chunk).expect("events");
        assert!(n > 0, "the event stream ended");
        stream_text.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    for client in &mut clients {
        ws_send(client, Opcode::Ping, b"still there?");
        let pong = ws_read(client, 1);
        assert_eq!(pong[0], (0x8a, b"still there?".to_vec()));
        ws_send(client, Opcode::Close, &1000u16.to_be_bytes());
        let close = ws_read(client, 1);
        assert_eq!(close[0].0, 0x88);
    }
    total * (clients.len() + 1) + 2 * clients.len()
}

// ----- the test --------------------------------------------------------------------------------

#[test]
fn instance_thread_allocates_nothing_after_startup() {
    allocator_self_check();
    let started = Instant::now();
    let server = TestServer::start(
        Builder::new(config())
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Proto::Http)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Proto::Tcp)
            .listen_udp("127.0.0.1:0".parse().unwrap(), Proto::Udp)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Proto::Kv)
            .on_ready(count_from_here),
        |_| {
            let modules = Modules {
                http: Http::new(Router::new(routes()).expect("valid routes")),
                tcp: Tcp::new(tcp_echo as TcpFn<BenchState>),
                udp: Udp::new(udp_echo),
                kv: Kv::new(
                    Capacity {
                        keys: 1000,
                        bytes: 256 * 1024,
                    },
                    1,
                ),
                ws: WebSocket::new(Room),
            };
            App::with_modules(BenchState::default(), modules)
        },
    );
    let addrs = Addrs {
        http: server.tcp(0),
        tcp: server.tcp(1),
        udp: server.udp(2),
        kv: server.tcp(3),
    };

    let handle = server.handle();
    let scenarios: [(&str, &dyn Fn(Addrs) -> usize); 12] = [
        // First, while no slot and no large buffer is taken by anything else.
        ("slots exhausted", &|a| slots_exhausted(a.http)),
        ("pool exhausted", &|a| pool_exhausted(a.http)),
        ("keep-alive", &|a| keep_alive(a.http, 20)),
        ("pipelined", &|a| pipelined(a.http, 10)),
        ("uploads and responses", &|a| uploads_and_responses(a.http)),
        ("error statuses", &|a| error_statuses(a.http)),
        ("dropped mid-request", &|a| dropped_mid_request(a.http)),
        ("timeouts", &|a| timeouts(a.http)),
        ("raw TCP and UDP", &raw_modules),
        ("key-value store", &kv_module),
        ("WebSocket, SSE, mailbox", &|a| live(a, &handle)),
        ("keep-alive again", &|a| keep_alive(a.http, 5)),
    ];
    let mut report = Vec::new();
    let mut requests = 0;
    for (name, scenario) in scenarios {
        let before = COUNTED.load(Ordering::SeqCst);
        let t = Instant::now();
        let n = scenario(addrs);
        requests += n;
        let grew = COUNTED.load(Ordering::SeqCst) - before;
        report.push(format!(
            "  {name:<24} {n:>5} exchanges {:>6} ms  +{grew} allocations",
            t.elapsed().as_millis()
        ));
    }
    // The graceful stop is counted too: it runs on the instance thread, which joins before
    // `stop` returns, so every allocation it made is in the count.
    server.stop().expect("the instance stops cleanly");
    assert!(
        INSTANCE_READY.load(Ordering::SeqCst),
        "the on_ready hook never ran"
    );
    let counted = COUNTED.load(Ordering::SeqCst);
    let report = report.join("\n");
    println!(
        "{requests} exchanges in {} ms; instance-thread allocations after startup: {counted}\n{report}",
        started.elapsed().as_millis()
    );
    if counted != 0 {
        let first = FIRST
            .lock()
            .unwrap()
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default();
        panic!(
            "the instance thread allocated {counted} time(s) after startup (ARCHITECTURE.md §3)\n\
             {report}\nfirst allocation:\n{first}"
        );
    }
}
