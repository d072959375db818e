//! Properties of the whole sans-IO server (`zzz_core::Server`), driven through its event interface
//! (ARCHITECTURE.md §2 Events) by an in-memory backend whose every choice is random: when clients
//! connect, how receives and sends are split (one byte upward), in which order the completions of
//! different connections arrive, when `tick` runs, when operations fail with `Retry`, and where a
//! client resets its connection or half-closes it.
//!
//! The clients send random sequences of valid requests (RFC 9112): `GET /fixed`, and
//! `POST /echo` with a `Content-Length` or a chunked body (RFC 9112 §6.2, §7.1), sometimes
//! with `Expect: 100-continue` (RFC 9110 §10.1.1), the last request sometimes with
//! `Connection: close` or in HTTP/1.0 (RFC 9112 §9.3, §9.6); pipelined (RFC 9112 §9.3.2) or
//! one at a time.
//!
//! Properties (issue 3, "Properties"):
//! - the server never panics, and the backend contract holds throughout: ops only for open
//!   connections, at most one receive and one send posted per slot, what a posted receive
//!   writes lands inside the region the server reads when it completes, a posted send's bytes
//!   are still the start of what the server would send (`Server::recv_buffer` and
//!   `Server::send_parts` are "stable until the operation completes"), no `Shutdown` while a
//!   send is in flight and no send after it, `Close` asked once;
//! - nothing leaks: once the clients are done and time has passed every timeout, no
//!   connection is active, every accepted connection was closed, and every large buffer is
//!   back in the pool (ARCHITECTURE.md §3 Memory, §4 Bounds);
//! - every complete request of a connection that was not reset gets exactly one response, in
//!   order, with the expected body (RFC 9112 §9.3.2). A half-closed client still gets the
//!   answers to the requests it completed before its FIN. With fewer large buffers than the
//!   clients can need at once, a request may get the static `503` instead, which ends its
//!   connection (ARCHITECTURE.md §4 Bounds); with time jumping past timeouts, a `408` may end
//!   a connection. A reset connection gets correct responses for a prefix of its requests,
//!   nothing else.
//!
//! The same driver runs three ways: `random_event_orderings` (time stays short of every
//! timeout while the clients are active), `timeouts_anywhere` (time also jumps past them, with
//! bodies small enough for the receive buffer), and, ignored until the bug it found is fixed,
//! `timeouts_anywhere_with_large_bodies`. Case counts keep the file within a few seconds in a
//! debug build; `PROPTEST_CASES` overrides them. `ZZZ_TRACE=1` prints every event of a run,
//! to follow a failing case.

use std::collections::HashMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use zzz_core::{
    App, Config, Ctx, Event, Instant, IoError, Now, Op, OpKind, PeerAddr, Request, Response, Route,
    Router, Server, SlotId, Sole, Status,
};

/// `n` cases, unless `PROPTEST_CASES` asks for another number.
fn cases(n: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = n;
    }
    config
}

// ───────────────────────────────────────────────────────────────────────── the app

const FIXED_BODY: &[u8] = b"Hello, World!";

fn fixed(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "text/plain")
        .body(FIXED_BODY)
}

fn echo(ctx: &mut Ctx<()>, req: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "application/octet-stream")
        .body(req.body())
}

static ROUTES: &[Route<()>] = &[Route::get("/fixed", fixed), Route::post("/echo", echo)];

/// The most clients of one case.
const MAX_CLIENTS: usize = 4;
/// Large buffers one connection can hold at once: a request body and a response spill.
const BLOCKS_PER_CONNECTION: u32 = 2;

/// Small buffers, so that bodies and responses move to large buffers and pipelined output
/// fills the send buffer. More slots than clients: reclaiming idle connections (which closes
/// a connection its client still means to use) is the simulator's business, not this file's.
fn config(large_buffers: u32, recv_buffer: u32) -> Config {
    let mut c = Config::DEFAULT;
    c.max_connections = MAX_CLIENTS as u32 + 1;
    c.recv_buffer = recv_buffer;
    c.send_buffer = 1024;
    c.large_buffers = large_buffers;
    c.large_buffer_size = 8192;
    c.limits.max_head = 1024;
    c.limits.max_request_line = 512;
    c.limits.max_body = 8192;
    c.limits.max_headers = 16;
    c
}

// ───────────────────────────────────────────────────────────────────────── generators

#[derive(Clone, Debug)]
enum GenFraming {
    Length,
    /// Chunk sizes, used in turn; with chunk extensions and a trailer field.
    Chunked {
        sizes: Vec<usize>,
        extension: bool,
        trailer: bool,
    },
}

#[derive(Clone, Debug)]
enum GenRequest {
    Get,
    Post {
        len: usize,
        seed: u8,
        framing: GenFraming,
        expect_continue: bool,
    },
}

/// How the last request of a client ends its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LastRequest {
    KeepAlive,
    ConnectionClose,
    Http10,
}

/// What goes wrong with a client's connection.
#[derive(Clone, Debug)]
enum GenFate {
    /// Nothing.
    Clean,
    /// FIN after this many request bytes.
    HalfClose(Index),
    /// Reset once this many request bytes are delivered.
    ResetIn(Index),
    /// Reset once this many response bytes are received.
    ResetOut(Index),
}

#[derive(Clone, Debug)]
struct GenClient {
    requests: Vec<GenRequest>,
    last: LastRequest,
    pipelined: bool,
    fate: GenFate,
    /// When done: FIN (else stay idle until the server's keep-alive timeout).
    finish_with_eof: bool,
}

#[derive(Clone, Debug)]
struct Scenario {
    clients: Vec<GenClient>,
    large_buffers: u32,
    /// Whether ticks may jump past timeouts while clients are active.
    jumps: bool,
    /// The backend's choices, in order; a generator seeded by `seed` takes over after them.
    choices: Vec<u16>,
    seed: u64,
    /// The most bytes one receive or send completion moves (1: byte at a time).
    max_transfer: usize,
}

/// Receive buffer of the usual cases.
const SMALL_RECV: u32 = 1024;
/// Receive buffer that holds any generated body (at most 3000 bytes, in chunks of at least 16
/// bytes when chunked: under 6 KiB on the wire), so that no body needs a large buffer.
const ROOMY_RECV: u32 = 8192;

fn gen_request(min_chunk: usize) -> impl Strategy<Value = GenRequest> {
    let len = prop_oneof![
        3 => 0usize..64,
        2 => 64usize..900,
        1 => 900usize..3000,
    ];
    let framing = prop_oneof![
        Just(GenFraming::Length),
        (vec(min_chunk..700, 1..4), any::<bool>(), any::<bool>()).prop_map(
            |(sizes, extension, trailer)| GenFraming::Chunked {
                sizes,
                extension,
                trailer
            }
        ),
    ];
    prop_oneof![
        1 => Just(GenRequest::Get),
        2 => (len, any::<u8>(), framing, proptest::bool::weighted(0.2)).prop_map(
            |(len, seed, framing, expect_continue)| GenRequest::Post {
                len,
                seed,
                framing,
                expect_continue
            }
        ),
    ]
}

fn gen_client(min_chunk: usize) -> impl Strategy<Value = GenClient> {
    let fate = prop_oneof![
        6 => Just(GenFate::Clean),
        1 => any::<Index>().prop_map(GenFate::HalfClose),
        1 => any::<Index>().prop_map(GenFate::ResetIn),
        1 => any::<Index>().prop_map(GenFate::ResetOut),
    ];
    let last = prop_oneof![
        4 => Just(LastRequest::KeepAlive),
        1 => Just(LastRequest::ConnectionClose),
        1 => Just(LastRequest::Http10),
    ];
    (
        vec(gen_request(min_chunk), 1..5),
        last,
        any::<bool>(),
        fate,
        any::<bool>(),
    )
        .prop_map(
            |(requests, last, pipelined, fate, finish_with_eof)| GenClient {
                requests,
                last,
                pipelined,
                fate,
                finish_with_eof,
            },
        )
}

fn gen_scenario(jumps: bool, min_chunk: usize) -> impl Strategy<Value = Scenario> {
    (
        vec(gen_client(min_chunk), 1..=MAX_CLIENTS),
        select(&[1u32, 2, 8][..]),
        Just(jumps),
        vec(any::<u16>(), 0..256),
        any::<u64>(),
        select(&[1usize, 3, 16, 200, usize::MAX][..]),
    )
        .prop_map(
            |(clients, large_buffers, jumps, choices, seed, max_transfer)| Scenario {
                clients,
                large_buffers,
                jumps,
                choices,
                seed,
                max_transfer,
            },
        )
}

fn body_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_add((i * 31 % 251) as u8))
        .collect()
}

/// The bytes of one request and the body its response must carry.
fn serialize(request: &GenRequest, last: LastRequest) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    match request {
        GenRequest::Get => {
            if last == LastRequest::Http10 {
                out.extend_from_slice(b"GET /fixed HTTP/1.0\r\n\r\n");
            } else {
                out.extend_from_slice(b"GET /fixed HTTP/1.1\r\nHost: x\r\n");
                if last == LastRequest::ConnectionClose {
                    out.extend_from_slice(b"Connection: close\r\n");
                }
                out.extend_from_slice(b"\r\n");
            }
            (out, FIXED_BODY.to_vec())
        }
        GenRequest::Post {
            len,
            seed,
            framing,
            expect_continue,
        } => {
            let body = body_bytes(*len, *seed);
            // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): close with the field instead.
            let http10 = last == LastRequest::Http10 && matches!(framing, GenFraming::Length);
            if http10 {
                out.extend_from_slice(b"POST /echo HTTP/1.0\r\n");
            } else {
                out.extend_from_slice(b"POST /echo HTTP/1.1\r\nHost: x\r\n");
            }
            if last != LastRequest::KeepAlive && !http10 {
                out.extend_from_slice(b"Connection: close\r\n");
            }
            if *expect_continue {
                out.extend_from_slice(b"Expect: 100-continue\r\n");
            }
            match framing {
                GenFraming::Length => {
                    out.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
                    out.extend_from_slice(&body);
                }
                GenFraming::Chunked {
                    sizes,
                    extension,
                    trailer,
                } => {
                    out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    // Extensions on the first chunks only: all of them together stay under
                    // `limits.max_chunk_extensions` (past it: 413).
                    let ext = |i: usize| if *extension && i < 64 { ";e=1" } else { "" };
                    let mut rest = &body[..];
                    let mut i = 0;
                    while !rest.is_empty() {
                        let n = sizes[i % sizes.len()].min(rest.len());
                        let ext = ext(i);
                        out.extend_from_slice(format!("{n:x}{ext}\r\n").as_bytes());
                        out.extend_from_slice(&rest[..n]);
                        out.extend_from_slice(b"\r\n");
                        rest = &rest[n..];
                        i += 1;
                    }
                    out.extend_from_slice(format!("0{}\r\n", ext(0)).as_bytes());
                    if *trailer {
                        out.extend_from_slice(b"X-Trailer: 1\r\n");
                    }
                    out.extend_from_slice(b"\r\n");
                }
            }
            (out, body)
        }
    }
}

// ───────────────────────────────────────────────────────────────────────── the backend

/// The backend's random choices: the generated ones first (they shrink), then a seeded
/// generator.
struct Chooser {
    max_transfer: usize,
    choices: Vec<u16>,
    next: usize,
    state: u64,
}

impl Chooser {
    fn raw(&mut self) -> u64 {
        if let Some(&c) = self.choices.get(self.next) {
            self.next += 1;
            return c as u64;
        }
        // splitmix64
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        (self.raw() % n as u64) as usize
    }

    /// A transfer size in `1..=max`: one byte, a few, any, or all.
    fn size(&mut self, max: usize) -> usize {
        assert!(max > 0);
        let max = max.min(self.max_transfer);
        match self.below(4) {
            0 => 1,
            1 => 1 + self.below(max.min(16)),
            2 => 1 + self.below(max),
            _ => max,
        }
    }
}

/// A response as the client reads it.
#[derive(Debug)]
struct ReadResponse {
    status: u16,
    close: bool,
    body: Vec<u8>,
}

/// The final responses in `bytes` (interim 1xx skipped), and how many bytes are left over
/// after the last complete one.
fn read_responses(bytes: &[u8]) -> (Vec<ReadResponse>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&bytes[at..]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => break,
            Err(e) => panic!(
                "unparsable response at byte {at}: {e:?}: {:?}",
                &bytes[at..]
            ),
        };
        let status = response.code.unwrap();
        if (100..200).contains(&status) {
            at += head_len;
            continue;
        }
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| std::str::from_utf8(h.value).unwrap().to_string())
        };
        let len: usize = header("Content-Length")
            .expect("every response of this app has a Content-Length")
            .parse()
            .unwrap();
        let close = header("Connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if bytes.len() < at + head_len + len {
            break;
        }
        let body = bytes[at + head_len..at + head_len + len].to_vec();
        out.push(ReadResponse {
            status,
            close,
            body,
        });
        at += head_len + len;
    }
    (out, bytes.len() - at)
}

/// One client and its connection, as the backend sees them.
struct Client {
    stream: Vec<u8>,
    /// The end offset of each request in `stream`.
    ends: Vec<usize>,
    expected: Vec<Vec<u8>>,
    last: LastRequest,
    pipelined: bool,
    finish_with_eof: bool,
    /// FIN after this many bytes.
    eof_at: Option<usize>,
    reset_in: Option<usize>,
    reset_out: Option<usize>,

    slot: Option<SlotId>,
    accepted: bool,
    delivered: usize,
    output: Vec<u8>,
    /// Final responses completely received.
    answered: usize,
    /// Where the response after them starts in `output`.
    answers_end: usize,
    /// The region of the posted receive.
    recv: Option<(usize, usize)>,
    /// The bytes of the posted send.
    send: Option<Vec<u8>>,
    shut: bool,
    close_asked: bool,
    closed: bool,
    eof_sent: bool,
    broken: bool,
}

impl Client {
    fn new(spec: &GenClient) -> Client {
        let mut stream = Vec::new();
        let mut ends = Vec::new();
        let mut expected = Vec::new();
        for (i, request) in spec.requests.iter().enumerate() {
            let last = if i + 1 == spec.requests.len() {
                spec.last
            } else {
                LastRequest::KeepAlive
            };
            let (bytes, body) = serialize(request, last);
            stream.extend_from_slice(&bytes);
            ends.push(stream.len());
            expected.push(body);
        }
        // A rough size of all responses, to place a reset among them.
        let output_estimate: usize = expected.iter().map(|b| b.len() + 160).sum();
        let (mut eof_at, mut reset_in, mut reset_out) = (None, None, None);
        match &spec.fate {
            GenFate::Clean => {}
            GenFate::HalfClose(i) => eof_at = Some(i.index(stream.len() + 1)),
            GenFate::ResetIn(i) => reset_in = Some(i.index(stream.len() + 1)),
            GenFate::ResetOut(i) => reset_out = Some(i.index(output_estimate + 1)),
        }
        Client {
            stream,
            ends,
            expected,
            last: spec.last,
            pipelined: spec.pipelined,
            finish_with_eof: spec.finish_with_eof,
            eof_at,
            reset_in,
            reset_out,
            slot: None,
            accepted: false,
            delivered: 0,
            output: Vec::new(),
            answered: 0,
            answers_end: 0,
            recv: None,
            send: None,
            shut: false,
            close_asked: false,
            closed: false,
            eof_sent: false,
            broken: false,
        }
    }

    /// How far the client has written: everything when pipelining, else up to the end of the
    /// first request not yet answered; never past its FIN or its reset.
    fn written(&self) -> usize {
        let mut limit = if self.pipelined {
            self.stream.len()
        } else {
            self.ends[self.answered.min(self.ends.len() - 1)]
        };
        if let Some(at) = self.eof_at {
            limit = limit.min(at);
        }
        if let Some(at) = self.reset_in {
            limit = limit.min(at);
        }
        limit
    }

    /// Counts the final responses completed by the bytes just received.
    fn count_answers(&mut self) {
        let (responses, leftover) = read_responses(&self.output[self.answers_end..]);
        self.answered += responses.len();
        self.answers_end = self.output.len() - leftover;
    }

    /// Whether the client's reset is due (and not yet delivered).
    fn reset_due(&self) -> bool {
        !self.broken
            && (self.reset_in.is_some_and(|at| self.delivered >= at)
                || self.reset_out.is_some_and(|at| self.output.len() >= at))
    }

    /// Whether the client's FIN is due.
    fn eof_due(&self) -> bool {
        if self.eof_sent {
            return true; // A closed socket reads EOF again.
        }
        match self.eof_at {
            Some(at) => self.delivered == at,
            None => {
                self.finish_with_eof
                    && self.delivered == self.stream.len()
                    && self.answered >= self.ends.len()
            }
        }
    }

    fn live(&self) -> bool {
        self.accepted && !self.close_asked
    }

    fn can_deliver(&self) -> bool {
        self.live()
            && self.recv.is_some()
            && (self.reset_due() || self.delivered < self.written() || self.eof_due())
    }

    fn can_complete_send(&self) -> bool {
        self.live() && self.send.is_some()
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Accept(usize),
    Deliver(usize),
    CompleteSend(usize),
    FinishClose(usize),
    Tick,
    Drain,
}

struct Backend<'m> {
    server: Server<'m, (), zzz_core::Http<()>>,
    clients: Vec<Client>,
    owner: HashMap<SlotId, usize>,
    chooser: Chooser,
    now: Now,
    /// Time the active phase may still advance without jumps (stays below every timeout).
    small_time_left: u64,
    jumps: bool,
    jumped: bool,
    /// `ZZZ_TRACE=1` prints every event, to follow a failing case.
    trace: bool,
}

const START: Instant = Instant(1_000_000);
const START_UNIX: u64 = 1_700_000_000;

impl Backend<'_> {
    fn note(&self, what: std::fmt::Arguments<'_>) {
        if self.trace {
            eprintln!("  {what}");
        }
    }

    fn client_of(&self, slot: SlotId) -> usize {
        *self
            .owner
            .get(&slot)
            .unwrap_or_else(|| panic!("an operation on slot {slot}, which no open connection has"))
    }

    /// Takes every operation the server has for us (ARCHITECTURE.md §2 Events: a bounded batch;
    /// call until `None`). Returns how many there were.
    fn drain(&mut self) -> usize {
        let mut count = 0;
        while let Some(op) = self.server.poll_op() {
            count += 1;
            if self.trace {
                eprintln!("  op {op:?}");
            }
            assert!(count < 10_000, "poll_op never returns None");
            match op {
                Op::Recv(s) => {
                    let i = self.client_of(s);
                    let c = &self.clients[i];
                    assert!(!c.close_asked, "a receive posted after Close on slot {s}");
                    assert!(c.recv.is_none(), "two receives posted on slot {s}");
                    let buf = self.server.recv_buffer(s);
                    assert!(!buf.is_empty(), "a receive into no space on slot {s}");
                    self.clients[i].recv = Some((buf.as_ptr() as usize, buf.len()));
                }
                Op::Send(s) => {
                    let i = self.client_of(s);
                    let c = &self.clients[i];
                    assert!(!c.close_asked, "a send posted after Close on slot {s}");
                    assert!(c.send.is_none(), "two sends posted on slot {s}");
                    assert!(!c.shut, "a send posted after Shutdown on slot {s}");
                    let bytes = self.server.send_parts(s).concat();
                    assert!(!bytes.is_empty(), "a send of nothing on slot {s}");
                    self.clients[i].send = Some(bytes);
                }
                Op::Shutdown(s) => {
                    let i = self.client_of(s);
                    let c = &mut self.clients[i];
                    assert!(
                        c.send.is_none(),
                        "Shutdown with a send in flight cuts it short (slot {s})"
                    );
                    c.shut = true;
                }
                Op::Close(s) => {
                    let i = self.client_of(s);
                    let c = &mut self.clients[i];
                    assert!(!c.close_asked, "Close asked twice on slot {s}");
                    c.close_asked = true;
                }
                Op::SendDatagram(_) => panic!("a datagram reply without datagrams"),
            }
        }
        count
    }

    fn enabled(&self, phase_final: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        for (i, c) in self.clients.iter().enumerate() {
            if !c.accepted && !phase_final {
                actions.push(Action::Accept(i));
            }
            if c.can_deliver() {
                actions.push(Action::Deliver(i));
            }
            if c.can_complete_send() {
                actions.push(Action::CompleteSend(i));
            }
            if c.close_asked && !c.closed {
                actions.push(Action::FinishClose(i));
            }
        }
        actions
    }

    fn perform(&mut self, action: Action) {
        if self.trace {
            eprintln!("{action:?}");
        }
        match action {
            Action::Accept(i) => self.accept(i),
            Action::Deliver(i) => self.deliver(i),
            Action::CompleteSend(i) => self.complete_send(i),
            Action::FinishClose(i) => self.finish_close(i),
            Action::Tick => {
                let ms = if self.jumps && self.chooser.below(48) == 0 {
                    self.jumped = true;
                    1_000 * (1 + self.chooser.below(40) as u64)
                } else {
                    let ms = (self.chooser.below(51) as u64).min(self.small_time_left);
                    self.small_time_left -= ms;
                    ms
                };
                self.advance(ms);
            }
            Action::Drain => {
                self.drain();
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        if self.trace {
            eprintln!("tick +{ms} ms");
        }
        self.now.monotonic = self.now.monotonic.after_ms(ms);
        self.now.unix_secs = START_UNIX + self.now.monotonic.since(START) / 1000;
        let _ = self.server.handle(Event::Tick(self.now));
    }

    fn accept(&mut self, i: usize) {
        let slot = self
            .server
            .handle(Event::Accepted {
                protocol: Sole,
                peer: PeerAddr::Local,
            })
            .accepted()
            .expect("a free slot: there are more slots than clients");
        assert!(
            self.owner.insert(slot, i).is_none(),
            "slot {slot} handed out while still open"
        );
        let c = &mut self.clients[i];
        c.accepted = true;
        c.slot = Some(slot);
    }

    fn deliver(&mut self, i: usize) {
        if !self.clients[i].can_deliver() {
            return; // An earlier action of the same batch changed that.
        }
        let slot = self.clients[i].slot.unwrap();
        let (ptr, len) = self.clients[i].recv.take().unwrap();
        let c = &self.clients[i];
        if c.reset_due() {
            self.clients[i].broken = true;
            self.note(format_args!("{slot}: failed(Recv, Broken)"));
            let _ = self.server.handle(Event::Failed {
                slot,
                op: OpKind::Recv,
                error: IoError::Broken,
            });
            return;
        }
        if self.chooser.below(16) == 0 {
            self.note(format_args!("{slot}: failed(Recv, Retry)"));
            let _ = self.server.handle(Event::Failed {
                slot,
                op: OpKind::Recv,
                error: IoError::Retry,
            });
            return;
        }
        if c.delivered < c.written() {
            let n = self.chooser.size((c.written() - c.delivered).min(len));
            let from = c.delivered;
            // What the kernel wrote lands inside the region the server now reads. (Not always
            // at its start: once the server lingers after its FIN, RFC 9112 §9.6, it discards
            // what arrives and offers the whole buffer. Bytes landing at the wrong place in a
            // region that matters show up as wrong bodies or rejected requests.)
            let buf = self.server.recv_buffer(slot);
            let start = buf.as_ptr() as usize;
            assert!(
                ptr >= start && ptr + n <= start + buf.len(),
                "the region of a posted receive moved (slot {slot}): posted {len} bytes at \
                 {ptr:#x}, now {} at {start:#x}",
                buf.len(),
            );
            let buf = &mut buf[ptr - start..];
            buf[..n].copy_from_slice(&self.clients[i].stream[from..from + n]);
            self.clients[i].delivered += n;
            self.note(format_args!("{slot}: received({n})"));
            let _ = self.server.handle(Event::Received { slot, n });
        } else {
            assert!(c.eof_due());
            self.clients[i].eof_sent = true;
            self.note(format_args!("{slot}: received(0)"));
            let _ = self.server.handle(Event::Received { slot, n: 0 });
        }
    }

    fn complete_send(&mut self, i: usize) {
        if !self.clients[i].can_complete_send() {
            return;
        }
        let slot = self.clients[i].slot.unwrap();
        let posted = self.clients[i].send.take().unwrap();
        if self.clients[i].reset_due() {
            self.clients[i].broken = true;
            self.note(format_args!("{slot}: failed(Send, Broken)"));
            let _ = self.server.handle(Event::Failed {
                slot,
                op: OpKind::Send,
                error: IoError::Broken,
            });
            return;
        }
        if self.chooser.below(16) == 0 {
            self.note(format_args!("{slot}: failed(Send, Retry)"));
            let _ = self.server.handle(Event::Failed {
                slot,
                op: OpKind::Send,
                error: IoError::Retry,
            });
            return;
        }
        let n = self.chooser.size(posted.len());
        self.check_posted_send(slot, &posted);
        let c = &mut self.clients[i];
        c.output.extend_from_slice(&posted[..n]);
        c.count_answers();
        self.note(format_args!("{slot}: sent({n})"));
        let _ = self.server.handle(Event::Sent { slot, n });
    }

    /// `Server::send_parts` is stable until the send completes: what was posted is still
    /// the start of what the server would send.
    fn check_posted_send(&self, slot: SlotId, posted: &[u8]) {
        let now = self.server.send_parts(slot).concat();
        assert!(
            now.len() >= posted.len() && now[..posted.len()] == *posted,
            "the bytes of a posted send changed (slot {slot})"
        );
    }

    /// The backend cancels what is posted (reporting the completions or not), closes the
    /// socket, and reports `closed`.
    fn finish_close(&mut self, i: usize) {
        let slot = self.clients[i].slot.unwrap();
        if self.clients[i].recv.take().is_some() && self.chooser.below(2) == 0 {
            self.note(format_args!("{slot}: failed(Recv, Retry)"));
            let _ = self.server.handle(Event::Failed {
                slot,
                op: OpKind::Recv,
                error: IoError::Retry,
            });
        }
        if let Some(posted) = self.clients[i].send.take() {
            match self.chooser.below(3) {
                0 => {
                    self.note(format_args!("{slot}: failed(Send, Retry) on close"));
                    let _ = self.server.handle(Event::Failed {
                        slot,
                        op: OpKind::Send,
                        error: IoError::Retry,
                    });
                }
                1 => {
                    // The send completed before the cancellation reached it.
                    let n = self.chooser.size(posted.len());
                    self.check_posted_send(slot, &posted);
                    let c = &mut self.clients[i];
                    c.output.extend_from_slice(&posted[..n]);
                    c.count_answers();
                    self.note(format_args!("{slot}: sent({n})"));
                    let _ = self.server.handle(Event::Sent { slot, n });
                }
                _ => {}
            }
        }
        let _ = self.server.handle(Event::Closed { slot });
        self.owner.remove(&slot);
        self.clients[i].closed = true;
    }
}

/// Runs one scenario and checks every property; panics on a violation.
fn run(scenario: &Scenario, recv_buffer: u32) {
    let config = config(scenario.large_buffers, recv_buffer);
    let mut region = vec![0u8; config.memory().total];
    let app = App::new((), Router::new(ROUTES).unwrap());
    let now = Now {
        monotonic: START,
        unix_secs: START_UNIX,
    };
    let server = Server::new(config, app, &mut region, now).unwrap();
    let mut b = Backend {
        server,
        clients: scenario.clients.iter().map(Client::new).collect(),
        owner: HashMap::new(),
        chooser: Chooser {
            choices: scenario.choices.clone(),
            next: 0,
            state: scenario.seed,
            max_transfer: scenario.max_transfer,
        },
        now,
        // Below every timeout but the linger (which only runs after a last response).
        small_time_left: 5_000,
        jumps: scenario.jumps,
        jumped: false,
        trace: std::env::var_os("ZZZ_TRACE").is_some(),
    };

    // Active phase: random events until nothing but time can move the clients.
    let mut steps = 0;
    loop {
        steps += 1;
        assert!(steps < 1_000_000, "the exchange did not settle");
        let mut actions = b.enabled(false);
        if actions.is_empty() {
            if b.drain() == 0 {
                break;
            }
            continue;
        }
        actions.push(Action::Tick);
        actions.push(Action::Drain);
        actions.push(Action::Drain);
        let action = actions[b.chooser.below(actions.len())];
        b.perform(action);
    }

    // Final phase: the clients read what comes and finish closes; time runs past every
    // timeout (the longest chain: body idle, a 408 sent, linger).
    for _ in 0..2_000 {
        if b.server.active_connections() == 0 {
            break;
        }
        b.advance(100);
        for turn in 0.. {
            assert!(
                turn < 100_000,
                "the server keeps asking for work without time passing"
            );
            let drained = b.drain();
            let actions = b.enabled(true);
            if actions.is_empty() && drained == 0 {
                break;
            }
            for action in actions {
                b.perform(action);
            }
        }
    }

    // Nothing leaks (ARCHITECTURE.md §3 Memory, §4 Bounds).
    assert_eq!(
        b.server.active_connections(),
        0,
        "a slot is still in use after every timeout"
    );
    assert_eq!(
        b.server.large_buffers_available(),
        scenario.large_buffers as usize,
        "a large buffer was not returned"
    );
    let stats = *b.server.stats();
    assert_eq!(stats.accepted, b.clients.len() as u64);
    assert_eq!(stats.closed, stats.accepted);

    let pool_tight = scenario.large_buffers < BLOCKS_PER_CONNECTION * b.clients.len() as u32;
    for (i, c) in b.clients.iter().enumerate() {
        assert!(c.closed, "client {i}: its connection was never closed");
        check_responses(i, c, pool_tight, b.jumped);
    }
}

/// RFC 9112 §9.3.2: responses in the order of the requests, one each.
fn check_responses(i: usize, c: &Client, pool_tight: bool, jumped: bool) {
    let (responses, leftover) = read_responses(&c.output);
    // A request is complete once all its bytes were delivered.
    let complete = c.ends.iter().filter(|&&end| end <= c.delivered).count();
    let ending_status = |status: u16| (pool_tight && status == 503) || (jumped && status == 408);
    for (k, r) in responses.iter().enumerate() {
        if r.status == 200 {
            assert!(
                k < complete,
                "client {i}: response {k} answers no complete request"
            );
            assert!(
                r.body == c.expected[k],
                "client {i}: response {k} has the wrong body ({} bytes, expected {})",
                r.body.len(),
                c.expected[k].len()
            );
        } else {
            assert!(
                ending_status(r.status),
                "client {i}: response {k} is a {}",
                r.status
            );
            assert!(
                k + 1 == responses.len() && r.close,
                "client {i}: a {} ends the connection",
                r.status
            );
        }
    }
    if c.broken || jumped {
        // A prefix of the answers; a response may be cut by the reset or the timeout.
        return;
    }
    assert_eq!(leftover, 0, "client {i}: a response was cut short");
    let ended_early = responses.last().is_some_and(|r| r.status != 200);
    if ended_early {
        return;
    }
    // Every request the client completed before its FIN (all of them without one) is
    // answered, exactly once.
    let promised = match c.eof_at {
        Some(at) => c.ends.iter().filter(|&&end| end <= at).count(),
        None => c.ends.len(),
    };
    assert_eq!(
        c.delivered,
        c.eof_at.unwrap_or(c.stream.len()),
        "client {i}: the server stopped reading"
    );
    assert_eq!(
        responses.len(),
        promised,
        "client {i}: {} responses to {} complete requests",
        responses.len(),
        promised
    );
    // RFC 9112 §9.6: "close" in the last request; the server closes after answering it.
    if promised == c.ends.len() && c.last != LastRequest::KeepAlive {
        let last = responses.last().unwrap();
        assert!(last.close, "client {i}: the last response says close");
        assert!(
            c.shut || c.eof_sent,
            "client {i}: the server shut its side after the last response"
        );
    }
}

proptest! {
    #![proptest_config(cases(1024))]

    /// Timers fire at random times, but time stays short of every timeout while the clients
    /// are active; afterwards it runs past all of them.
    #[test]
    fn random_event_orderings(scenario in gen_scenario(false, 1)) {
        run(&scenario, SMALL_RECV);
    }

    /// Time also jumps past timeouts (head, body idle, keep-alive, send stall, linger) while
    /// requests are in flight: a `408` may end a connection, everything else still holds.
    /// Bodies stay in the receive buffer (see `body_timeout_keeps_the_block_of_a_posted_receive`).
    #[test]
    fn timeouts_anywhere(scenario in gen_scenario(true, 16)) {
        run(&scenario, ROOMY_RECV);
    }

    /// As `timeouts_anywhere`, with bodies in large buffers too.
    #[test]
    fn timeouts_anywhere_with_large_bodies(scenario in gen_scenario(true, 1)) {
        run(&scenario, SMALL_RECV);
    }
}

/// ARCHITECTURE.md §2 Events and `Server::recv_buffer`: the region of a posted receive is "stable
/// until the receive completes", and the server "never touches a buffer region while an operation
/// on it is posted". A body bigger than the receive buffer is received into a large buffer; when
/// its idle timeout fires (408, RFC 9110 §15.5.9) with that receive still posted, the block must
/// stay out of the pool until the receive completes: another connection could otherwise take it
/// while the kernel still writes into it (a bug this test once caught).
#[test]
fn body_timeout_keeps_the_block_of_a_posted_receive() {
    let config = config(1, SMALL_RECV);
    let mut region = vec![0u8; config.memory().total];
    let app = App::new((), Router::new(ROUTES).unwrap());
    let start = Now {
        monotonic: START,
        unix_secs: START_UNIX,
    };
    let mut server = Server::new(config, app, &mut region, start).unwrap();
    let slot = server
        .handle(Event::Accepted {
            protocol: Sole,
            peer: PeerAddr::Local,
        })
        .accepted()
        .unwrap();
    assert_eq!(server.poll_op(), Some(Op::Recv(slot)));
    let head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n";
    server.recv_buffer(slot)[..head.len()].copy_from_slice(head);
    let _ = server.handle(Event::Received {
        slot,
        n: head.len(),
    });
    assert_eq!(
        server.poll_op(),
        Some(Op::Recv(slot)),
        "a receive for the body"
    );
    assert_eq!(server.poll_op(), None);
    assert_eq!(
        server.large_buffers_available(),
        0,
        "the body is received into the large buffer"
    );
    let posted = server.recv_buffer(slot).as_ptr_range();

    let _ = server.handle(Event::Tick(Now {
        monotonic: START.after_ms(config.timeouts.body_idle_ms + 1_000),
        unix_secs: START_UNIX + 31,
    }));
    assert_eq!(server.stats().body_timeouts, 1);
    assert_eq!(
        server.large_buffers_available(),
        0,
        "the block of the still-posted receive is not lent out again"
    );
    assert_eq!(
        server.recv_buffer(slot).as_ptr_range(),
        posted,
        "the posted receive's region is stable"
    );
}
