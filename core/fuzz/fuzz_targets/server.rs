//! Fuzzes the whole sans-IO server (`zzz_core::Server`): a real app on a small `Config`, with
//! several connections at once, driven by a script the input spells: which connection the
//! client bytes go to, how large each receive and send completion is, EOFs, errors
//! (`IoError::Retry`, `IoError::Broken`), completions after a close, clock ticks and skews,
//! graceful shutdown. The script ends with every client closing its side and the clock
//! running past every timeout.
//!
//! Input layout: a sequence of operations, each an opcode byte (high nibble: the operation;
//! low nibble: the connection slot, modulo the slots) and, for some, argument bytes:
//!
//! | op | name | argument |
//! |---|---|---|
//! | 0 | accept an HTTP connection (with every slot taken it waits, and the server is asked to make room) | |
//! | 1 | the client writes bytes | length − 1, then that many bytes |
//! | 2 | the posted receive completes | most bytes − 1 (255: as many as fit) |
//! | 3 | the posted send completes | most bytes − 1 (255: all) |
//! | 4 | the client shuts down its sending side (EOF) | |
//! | 5, 6 | the posted receive fails: `Retry`, `Broken` | |
//! | 7, 8 | the posted send fails: `Retry`, `Broken` | |
//! | 9 | time passes | (value + 1) × 20 ms |
//! | 10 | the clocks skew: monotonic back, wall clock ahead | ms back; then 1000 s ahead |
//! | 11 | a socket the server asked to close is closed (`Server::closed`) | |
//! | 12 | every posted operation completes, whole, until nothing moves | |
//! | 13 | accept a raw TCP connection (a line protocol) | |
//! | 14 | graceful shutdown (`Server::shutdown`) | |
//! | 15 | the client writes a canned request | which one |
//!
//! Checks, whatever the input: no panic and no hang; no allocation in any call into the
//! server; every operation is for a slot with a connection the server has not asked to
//! close, at most one receive and one send posted per slot, no send after the sending side
//! was shut down; a receive's region is non-empty, inside the server's memory and fixed until
//! it completes; a send's bytes lie inside the server's memory or the app's static body, are
//! not empty, and do not change until the send completes; no region a receive writes overlaps
//! another posted operation's; at the end every slot is free, the large-buffer pool is whole,
//! and what each HTTP connection sent is a sequence of responses, each starting with a valid
//! status line and framed as its headers say (a connection cut short may end mid-response).

#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeSet, VecDeque};

use libfuzzer_sys::fuzz_target;
use zzz_core::handler::{StreamCursor, StreamOut, StreamStep};
use zzz_core::http::{Limits, Status};
use zzz_core::json;
use zzz_core::{
    AcceptError, App, Config, Ctx, Event, Instant, IoError, Now, Op, OpKind, PeerAddr, Request,
    Response, Route, Router, Server, SlotId, TcpCtx, Timeouts,
};

// ───────────────────────────────────────────────────────────── allocations

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations on this thread.
struct CountingAlloc;

// SAFETY: every call is forwarded unchanged to the system allocator; the count lives in a
// const-initialised thread-local without a destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

// ───────────────────────────────────────────────────────────── the app

/// The app keeps a request count, so that handlers touch state.
struct Site {
    requests: u64,
}

/// The byte at offset `i` of generated bodies.
fn pattern_byte(i: usize) -> u8 {
    b'a' + (i % 26) as u8
}

/// A static body larger than the send buffer, sent from where it lies.
static ASSET: [u8; 3000] = [b's'; 3000];

fn home(ctx: &mut Ctx<Site>, _: &Request) -> Response {
    ctx.state.requests += 1;
    ctx.text(Status::OK, "zzz")
}

fn asset(ctx: &mut Ctx<Site>, _: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "text/plain")
        .static_body(&ASSET)
}

/// `/items/{id:u32}`: a typed path parameter.
fn item(ctx: &mut Ctx<Site>, req: &Request) -> Response {
    let id: u32 = req.param("id").unwrap_or(0);
    ctx.respond(Status::OK).fmt(format_args!("item {id}"))
}

/// `/files/{*path}`: a tail, percent-decoded.
fn file(ctx: &mut Ctx<Site>, req: &Request) -> Response {
    let mut decoded = [0u8; 256];
    match req.params().decode("path", &mut decoded) {
        Ok(path) => ctx.text(Status::OK, path),
        Err(_) => ctx.empty(Status::BAD_REQUEST),
    }
}

/// `/big/{n:u16}`: `n` generated bytes, written piece by piece (spills into a large buffer
/// past the send buffer, a 500 past that).
fn big(ctx: &mut Ctx<Site>, req: &Request) -> Response {
    let n: u16 = req.param("n").unwrap_or(0);
    let mut body = ctx.respond(Status::OK).writer();
    for i in 0..n as usize {
        body.write(&[pattern_byte(i)]);
    }
    body.finish()
}

/// Cursor words: bytes produced, bytes in all, most bytes per call.
fn produce(_: &mut Site, cursor: &mut StreamCursor, out: &mut StreamOut<'_>) -> StreamStep {
    let [done, total, per_call, _] = cursor.0;
    let n = (total - done).min(per_call).min(out.remaining() as u64);
    for i in done..done + n {
        out.write(&[pattern_byte(i as usize)]);
    }
    cursor.0[0] = done + n;
    if cursor.0[0] == total {
        StreamStep::Done
    } else {
        StreamStep::More
    }
}

/// `/stream/{n:u16}/{per:u8}`: `n` bytes streamed, at most `per` (at least 1) per call.
fn stream(ctx: &mut Ctx<Site>, req: &Request) -> Response {
    let n: u16 = req.param("n").unwrap_or(0);
    let per: u8 = req.param("per").unwrap_or(1);
    ctx.respond(Status::OK)
        .stream(produce, StreamCursor([0, n as u64, per.max(1) as u64, 0]))
}

fn echo(ctx: &mut Ctx<Site>, req: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "application/octet-stream")
        .header("x-echo-method", req.method_str())
        .header("x-echo-target", req.target())
        .body(req.body())
}

/// `/close`: answers, then closes the connection.
fn close(ctx: &mut Ctx<Site>, _: &Request) -> Response {
    ctx.out.close_after();
    ctx.text(Status::OK, "bye")
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Point {
    x: i32,
    y: i32,
    label: heapless::String<8>,
}

/// `POST /json`: a typed JSON body, answered with itself or the status its fault deserves.
fn point(ctx: &mut Ctx<Site>, req: &Request) -> Response {
    let mut scratch = [0u8; 16];
    match json::read_request::<Point>(req, &mut scratch) {
        Ok(p) => ctx.respond(Status::OK).json(&p),
        Err(e) => ctx.text(e.status(), e.title()),
    }
}

static ROUTES: &[Route<Site>] = &[
    Route::get("/", home),
    Route::get("/static", asset),
    Route::get("/items/{id:u32}", item),
    Route::get("/files/{*path}", file),
    Route::get("/big/{n:u16}", big),
    Route::get("/stream/{n:u16}/{per:u8}", stream),
    Route::get("/close", close),
    Route::post("/json", point),
    Route::post("/echo", echo),
    Route::put("/echo", echo),
    Route::patch("/{*any}", echo),
    Route::delete("/{*any}", echo),
];

zzz_core::protocols! {
    /// What the target serves: the site over HTTP, the line protocol over raw TCP.
    struct Modules<Site> {
        conn: ModuleConn,
        id: Proto,
        /// HTTP/1.1.
        http: Http => zzz_core::Http<Site>,
        /// The line protocol.
        tcp: Tcp => zzz_core::Tcp<zzz_core::tcp::TcpFn<Site>>,
    }
}

/// A raw TCP line protocol: each `\n`-terminated line comes back upper-cased; `quit` closes.
fn lines(ctx: &mut TcpCtx<'_, Site>, data: &[u8]) -> usize {
    let mut consumed = 0;
    while let Some(end) = data[consumed..].iter().position(|&b| b == b'\n') {
        let line = &data[consumed..consumed + end];
        if line == b"quit" {
            ctx.close();
            return consumed + end + 1;
        }
        if ctx.room() < line.len() + 1 {
            break;
        }
        for &b in line {
            let _ = ctx.write(&[b.to_ascii_uppercase()]);
        }
        let _ = ctx.write(b"\n");
        consumed += end + 1;
    }
    consumed
}

/// Few slots, small buffers, a pool of two, short timeouts: every limit is a few bytes or a
/// few ticks away.
const CONFIG: Config = Config {
    max_connections: 4,
    pressure_percent: 75,
    recv_buffer: 512,
    send_buffer: 1024,
    large_buffers: 2,
    large_buffer_size: 2048,
    max_requests_per_connection: 4,
    timer_tick_ms: 10,
    limits: Limits {
        max_request_line: 128,
        max_head: 512,
        max_headers: 8,
        max_body: 2048,
        max_chunk_extensions: 64,
        max_trailers: 128,
    },
    timeouts: Timeouts {
        head_ms: 1000,
        body_idle_ms: 1000,
        keep_alive_ms: 1500,
        send_stall_ms: 1000,
        linger_ms: 500,
        pressured_first_byte_ms: 300,
        shed_grace_ms: 40,
    },
    datagram_size: 0,
    datagram_replies: 0,
    topics: zzz_core::Topics::DEFAULT,
};

/// Requests a script can write with one byte, so that the fuzzer starts from valid traffic.
const CANNED: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET /stream/3000/100 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /big/1500 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /static HTTP/1.1\r\nHost: a\r\n\r\n",
    b"PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 600\r\n\r\n",
    b"GET /items/42 HTTP/1.0\r\n\r\n",
    b"GET /files/a%20b/c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n{\"x\":1,\"y\":-2,\"label\":\"p\\\"q\"}",
    b"GET /static HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /stream/500/7 HTTP/1.0\r\n\r\n",
    b"GET /close HTTP/1.1\r\nHost: a\r\n\r\n",
    b"PATCH /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    &[b'x'; 256],
    b"hello\nquit\n",
];

// ───────────────────────────────────────────────────────────── the driver

/// Where a posted operation reads or writes: address and length.
type Region = (usize, usize);

/// A posted send: where its parts lie, and its bytes when it was posted.
struct PostedSend {
    parts: [Region; 2],
    bytes: Vec<u8>,
}

/// What one connection's client has done and is owed.
#[derive(Default)]
struct Client {
    http: bool,
    /// Written by the client, not yet received by the server.
    inbound: VecDeque<u8>,
    /// The client shut down its sending side.
    eof: bool,
    /// The posted receive: where it writes.
    recv: Option<Region>,
    /// The posted send.
    send: Option<PostedSend>,
    /// The server shut down its sending side.
    shut: bool,
    /// The server asked to close the socket.
    closing: bool,
    /// Everything the client received.
    output: Vec<u8>,
    /// The output may end mid-response: the peer broke, or the server closed with output
    /// unsent.
    cut: bool,
}

/// The input, read as operations and their arguments.
struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// An argument byte; zero once the input is exhausted.
    fn arg(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }

    /// A completion size: the argument plus one, or no limit for 255.
    fn size(&mut self) -> usize {
        match self.arg() {
            255 => usize::MAX,
            b => b as usize + 1,
        }
    }

    /// The next `n` bytes, or what is left.
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

struct Driver<'m> {
    server: Server<'m, Site, Modules>,
    clients: Vec<Option<Client>>,
    /// Connections that ended: (HTTP, output, cut).
    ended: Vec<(bool, Vec<u8>, bool)>,
    region: core::ops::Range<usize>,
    now: Now,
    /// A connection waiting for a slot (a backend's waiting room of one).
    waiting: Option<Proto>,
}

const START: Now = Now {
    monotonic: Instant(1_000_000),
    unix_secs: 784_111_777,
};

fn range_of(bytes: &[u8]) -> core::ops::Range<usize> {
    let start = bytes.as_ptr() as usize;
    start..start + bytes.len()
}

/// Whether a region `(address, length)` lies inside `range`.
fn inside((at, len): Region, range: &core::ops::Range<usize>) -> bool {
    range.start <= at && at + len <= range.end
}

fn disjoint((a, a_len): Region, (b, b_len): Region) -> bool {
    a_len == 0 || b_len == 0 || a + a_len <= b || b + b_len <= a
}

impl<'m> Driver<'m> {
    /// Calls into the server; nothing it does may allocate.
    fn call<R>(&mut self, f: impl FnOnce(&mut Server<'m, Site, Modules>) -> R) -> R {
        let before = allocations();
        let result = f(&mut self.server);
        assert_eq!(allocations(), before, "the server allocated");
        result
    }

    fn client(&mut self, slot: SlotId) -> &mut Client {
        self.clients[slot as usize]
            .as_mut()
            .unwrap_or_else(|| panic!("an operation for slot {slot}, which has no connection"))
    }

    /// Takes every operation the server asks for, checking each.
    fn drain(&mut self) {
        for _ in 0..1000 {
            let Some(op) = self.call(|s| s.poll_op()) else {
                self.check_regions();
                return;
            };
            let slot = match op {
                Op::Recv(s) | Op::Send(s) | Op::Shutdown(s) | Op::Close(s) => s,
                Op::SendDatagram(r) => panic!("a datagram reply ({r}) without datagrams"),
            };
            let c = self.client(slot);
            assert!(!c.closing, "{op:?} after the server asked to close");
            let (recv_posted, send_posted, shut) = (c.recv.is_some(), c.send.is_some(), c.shut);
            match op {
                Op::Recv(_) => {
                    assert!(!recv_posted, "two receives posted on slot {slot}");
                    let region = self.call(|s| {
                        let buf = s.recv_buffer(slot);
                        (buf.as_ptr() as usize, buf.len())
                    });
                    assert!(region.1 > 0, "a receive into no space on slot {slot}");
                    assert!(inside(region, &self.region), "a receive outside the region");
                    self.client(slot).recv = Some(region);
                }
                Op::Send(_) => {
                    assert!(!send_posted, "two sends posted on slot {slot}");
                    assert!(!shut, "a send after shutting down slot {slot}");
                    let parts = self.call(|s| {
                        s.send_parts(slot)
                            .map(|part| (part.as_ptr() as usize, part.len()))
                    });
                    for part in parts {
                        let allowed = part.1 == 0
                            || inside(part, &self.region)
                            || inside(part, &range_of(&ASSET));
                        assert!(allowed, "a send from outside the server's memory");
                    }
                    let bytes = self.server.send_parts(slot).concat();
                    assert!(!bytes.is_empty(), "a send of nothing on slot {slot}");
                    self.client(slot).send = Some(PostedSend { parts, bytes });
                }
                Op::Shutdown(_) => {
                    assert!(!send_posted, "shutdown while a send is posted");
                    self.client(slot).shut = true;
                }
                Op::Close(_) => {
                    let unsent =
                        send_posted || self.server.send_parts(slot).iter().any(|p| !p.is_empty());
                    let c = self.client(slot);
                    c.closing = true;
                    c.cut |= unsent;
                }
                Op::SendDatagram(_) => unreachable!("checked above"),
            }
        }
        panic!("poll_op never ran dry");
    }

    /// No region a posted receive writes into is read or written by another posted operation.
    fn check_regions(&self) {
        let mut posted = Vec::new();
        for (slot, c) in self.clients.iter().enumerate() {
            let Some(c) = c else { continue };
            if let Some(region) = c.recv {
                posted.push((slot, true, region));
            }
            if let Some(send) = &c.send {
                posted.extend(send.parts.iter().map(|&part| (slot, false, part)));
            }
        }
        for (i, &(slot, writes, region)) in posted.iter().enumerate() {
            for &(other, other_writes, other_region) in &posted[i + 1..] {
                assert!(
                    !(writes || other_writes) || disjoint(region, other_region),
                    "posted regions of slots {slot} and {other} overlap"
                );
            }
        }
    }

    /// A connection arrives. With every slot taken it waits, as in a backend's waiting room
    /// of one place: the server is asked to make room for it (closing the oldest connection
    /// without a request head, or an idle one), and it is admitted once a slot is free; a
    /// second arrival while one waits is turned away.
    fn accept(&mut self, protocol: Proto) {
        let accepted = Event::Accepted {
            protocol,
            peer: PeerAddr::Local,
        };
        match self.call(|s| s.handle(accepted).accepted()) {
            Ok(slot) => self.admit(slot, protocol),
            Err(AcceptError::Full) if self.waiting.is_none() => {
                self.waiting = Some(protocol);
                let _ = self.call(|s| s.handle(Event::MakeRoom { waiting: 1 }));
            }
            Err(AcceptError::Full) => {
                let _ = self.call(|s| s.handle(Event::TurnedAway));
            }
            Err(AcceptError::ShuttingDown) => {}
        }
        self.drain();
    }

    /// Admits the waiting connection if a slot is free, else asks again for room.
    fn admit_waiting(&mut self) {
        let Some(protocol) = self.waiting else { return };
        if self.server.can_accept() {
            self.waiting = None;
            let accepted = Event::Accepted {
                protocol,
                peer: PeerAddr::Local,
            };
            if let Ok(slot) = self.call(|s| s.handle(accepted).accepted()) {
                self.admit(slot, protocol);
            }
        } else {
            let _ = self.call(|s| s.handle(Event::MakeRoom { waiting: 1 }));
        }
        self.drain();
    }

    fn admit(&mut self, slot: SlotId, protocol: Proto) {
        let entry = &mut self.clients[slot as usize];
        assert!(entry.is_none(), "slot {slot} handed out twice");
        *entry = Some(Client {
            http: protocol == Proto::Http,
            ..Client::default()
        });
    }

    fn write(&mut self, slot: SlotId, bytes: &[u8]) {
        if let Some(c) = &mut self.clients[slot as usize] {
            c.inbound.extend(bytes);
        }
    }

    /// Completes the posted receive of `slot` with at most `most` bytes (EOF once the client
    /// has shut down and everything was received). Returns whether it completed.
    fn complete_recv(&mut self, slot: SlotId, most: usize) -> bool {
        let Some(c) = &mut self.clients[slot as usize] else {
            return false;
        };
        let Some((at, len)) = c.recv else {
            return false;
        };
        if c.inbound.is_empty() && !c.eof {
            return false;
        }
        let n = c.inbound.len().min(len).min(most.max(1));
        let data: Vec<u8> = c.inbound.drain(..n).collect();
        c.recv = None;
        self.call(|s| {
            let buf = s.recv_buffer(slot);
            assert_eq!(
                (buf.as_ptr() as usize, buf.len()),
                (at, len),
                "the region of a posted receive moved"
            );
            buf[..n].copy_from_slice(&data);
            let _ = s.handle(Event::Received { slot, n });
        });
        self.drain();
        true
    }

    /// Completes the posted send of `slot` with at most `most` bytes (at least one).
    fn complete_send(&mut self, slot: SlotId, most: usize) -> bool {
        let Some(c) = &mut self.clients[slot as usize] else {
            return false;
        };
        let Some(PostedSend { bytes, .. }) = c.send.take() else {
            return false;
        };
        let now = self.server.send_parts(slot).concat();
        assert!(
            now.starts_with(&bytes),
            "the bytes of a posted send changed before it completed"
        );
        let n = bytes.len().min(most.max(1));
        let c = self.client(slot);
        c.output.extend_from_slice(&bytes[..n]);
        let _ = self.call(|s| s.handle(Event::Sent { slot, n }));
        self.drain();
        true
    }

    fn fail(&mut self, slot: SlotId, op: OpKind, error: IoError) {
        let Some(c) = &mut self.clients[slot as usize] else {
            return;
        };
        let posted = match op {
            OpKind::Recv => c.recv.take().is_some(),
            OpKind::Send => c.send.take().is_some(),
        };
        if !posted {
            return;
        }
        c.cut |= error == IoError::Broken || op == OpKind::Send && c.closing;
        let _ = self.call(|s| s.handle(Event::Failed { slot, op, error }));
        self.drain();
    }

    /// The socket of `slot` is closed, whatever was still posted on it.
    fn closed(&mut self, slot: SlotId) {
        let Some(c) = &self.clients[slot as usize] else {
            return;
        };
        if !c.closing {
            return;
        }
        let c = self.clients[slot as usize].take().expect("a client");
        self.ended
            .push((c.http, c.output, c.cut || c.send.is_some()));
        let _ = self.call(|s| s.handle(Event::Closed { slot }));
        self.drain();
    }

    fn tick(&mut self, now: Now) {
        let _ = self.call(|s| s.handle(Event::Tick(now)));
        self.drain();
    }

    fn advance(&mut self, ms: u64) {
        self.now.monotonic = self.now.monotonic.after_ms(ms);
        self.now.unix_secs = START.unix_secs + (self.now.monotonic.0 - START.monotonic.0) / 1000;
        self.tick(self.now);
    }

    /// Completes every posted operation, whole, until nothing moves.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for slot in 0..self.clients.len() as SlotId {
                moved |= self.complete_send(slot, usize::MAX);
                moved |= self.complete_recv(slot, usize::MAX);
            }
            if !moved {
                return;
            }
        }
        panic!("the server kept asking for operations");
    }

    /// Every client shuts down its side; everything completes; time runs past every timeout.
    fn settle(&mut self) {
        for c in self.clients.iter_mut().flatten() {
            c.eof = true;
        }
        for _ in 0..50 {
            self.pump();
            for slot in 0..self.clients.len() as SlotId {
                self.closed(slot);
            }
            if self.clients.iter().all(Option::is_none) {
                return;
            }
            self.advance(5_000);
        }
        panic!("the server did not settle");
    }

    fn run(&mut self, script: &[u8]) {
        let mut script = Script(script);
        while let Some(op) = script.next() {
            self.admit_waiting();
            let slot = (op & 0x0f) as SlotId % CONFIG.max_connections;
            match op >> 4 {
                0 => self.accept(Proto::Http),
                1 => {
                    let len = script.arg() as usize + 1;
                    let bytes = script.take(len);
                    self.write(slot, bytes);
                }
                2 => {
                    let most = script.size();
                    self.complete_recv(slot, most);
                }
                3 => {
                    let most = script.size();
                    self.complete_send(slot, most);
                }
                4 => {
                    if let Some(c) = &mut self.clients[slot as usize] {
                        c.eof = true;
                    }
                }
                5 => self.fail(slot, OpKind::Recv, IoError::Retry),
                6 => self.fail(slot, OpKind::Recv, IoError::Broken),
                7 => self.fail(slot, OpKind::Send, IoError::Retry),
                8 => self.fail(slot, OpKind::Send, IoError::Broken),
                9 => {
                    let ms = (script.arg() as u64 + 1) * 20;
                    self.advance(ms);
                }
                10 => {
                    let back = script.arg() as u64;
                    let jump = script.arg() as u64 * 1000;
                    let skewed = Now {
                        monotonic: Instant(self.now.monotonic.0 - back),
                        unix_secs: self.now.unix_secs + jump,
                    };
                    self.tick(skewed);
                }
                11 => self.closed(slot),
                12 => self.pump(),
                13 => self.accept(Proto::Tcp),
                14 => {
                    let _ = self.call(|s| s.handle(Event::Shutdown));
                    self.drain();
                }
                _ => {
                    let canned = CANNED[script.arg() as usize % CANNED.len()];
                    self.write(slot, canned);
                }
            }
        }
    }

    /// What must hold once every connection has ended.
    fn check_end(&self) {
        assert_eq!(self.server.active_connections(), 0, "slots still in use");
        assert_eq!(
            self.server.large_buffers_available(),
            CONFIG.large_buffers as usize,
            "large buffers not returned to the pool"
        );
        let stats = self.server.stats();
        assert_eq!(stats.accepted, stats.closed);
        for (http, output, cut) in &self.ended {
            if *http {
                check_responses(output, *cut);
            }
        }
    }
}

// ───────────────────────────────────────────────────────────── the responses

/// Where a chunked body starting at `at` ends: `Ok(Some(end))`, `Ok(None)` when cut short,
/// `Err` when malformed (RFC 9112 §7.1).
fn chunked_end(out: &[u8], mut at: usize) -> Result<Option<usize>, ()> {
    loop {
        let Some(line) = out[at..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = &out[at..at + line];
        let digits = size_text.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| usize::from_str_radix(d, 16).ok())
            .ok_or(())?;
        at += line + 2;
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                let Some(line) = out[at..].windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                at += line + 2;
                if line == 0 {
                    return Ok(Some(at));
                }
            }
        }
        if out.len() < at + size + 2 {
            return Ok(None);
        }
        if &out[at + size..at + size + 2] != b"\r\n" {
            return Err(());
        }
        at += size + 2;
    }
}

/// `out` is a sequence of responses, each starting with a valid status line and framed as
/// its head says; a response to HEAD has its framing headers but no body, so wherever a body
/// may be absent both readings are tried. When `cut`, the last may stop anywhere.
fn check_responses(out: &[u8], cut: bool) {
    let mut pending = vec![0usize];
    let mut seen = BTreeSet::new();
    while let Some(at) = pending.pop() {
        if !seen.insert(at) {
            continue;
        }
        if at == out.len() {
            return;
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&out[at..]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if cut => return,
            _ => continue,
        };
        let code = response.code.unwrap_or(0);
        if response.version != Some(1) || !(100..=599).contains(&code) {
            continue;
        }
        let body = at + head_len;
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
        };
        if (100..200).contains(&code) || code == 204 || code == 304 {
            pending.push(body);
            continue;
        }
        let chunked = header("transfer-encoding").is_some_and(|v| v == b"chunked");
        let length = header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<usize>().ok());
        match (chunked, length) {
            (true, _) => {
                pending.push(body);
                match chunked_end(out, body) {
                    Ok(Some(end)) => pending.push(end),
                    Ok(None) if cut => return,
                    _ => {}
                }
            }
            (false, Some(n)) => {
                pending.push(body);
                if body + n <= out.len() {
                    pending.push(body + n);
                } else if cut {
                    return;
                }
            }
            // Delimited by the close (an HTTP/1.0 client's stream).
            (false, None) => return,
        }
    }
    panic!(
        "not a sequence of responses{}: {:?}",
        if cut { " (cut short)" } else { "" },
        String::from_utf8_lossy(out)
    );
}

fuzz_target!(|data: &[u8]| {
    let app = App::with_modules(
        Site { requests: 0 },
        Modules {
            http: zzz_core::Http::new(Router::new(ROUTES).expect("valid routes")),
            tcp: zzz_core::Tcp::new(lines as zzz_core::tcp::TcpFn<Site>),
        },
    );
    let mut region = vec![0u8; app.memory(&CONFIG).total];
    let range = range_of(&region);
    let server = Server::new(CONFIG, app, &mut region, START).expect("a valid configuration");
    let mut driver = Driver {
        server,
        clients: (0..CONFIG.max_connections).map(|_| None).collect(),
        ended: Vec::new(),
        region: range,
        now: START,
        waiting: None,
    };
    driver.run(data);
    driver.settle();
    driver.check_end();
});
