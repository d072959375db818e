//! The simulated clients and the oracle's knowledge of them.
//!
//! Every client is generated as a [`Script`]: the bytes it will write, how it writes them
//! (bursts or one byte at a time, stalls, EOF or reset at some offset) and, for each request
//! in those bytes, what the server must answer. The expectation comes from the generator, not
//! from the code under test: the generator built the request, so it knows whether it is valid
//! (RFC 9110, RFC 9112, and the strict choices zzz makes where they allow a choice), which
//! route of the bench contract ([`zzz_apps::bench`]) or of the simulator's own routes
//! ([`crate::app`]) serves it, and therefore the exact status, the headers the contract fixes
//! and the body. It never calls zzz-core's parser or router.
//!
//! The generator, by what it makes:
//! - this module: the mix of clients, how each writes (bursts, or a slow client's drip) and
//!   where it is cut or stalls;
//! - `valid`: valid requests and the responses they deserve;
//! - `invalid`: invalid requests (smuggling, limits, garbage) and the status each deserves;
//! - `grammar`: the pieces requests are made of (tokens, paths, hosts, field values, bodies,
//!   chunked encodings);
//! - `tcp`: raw-TCP clients of the line protocol;
//! - `datagrams`: the UDP datagrams;
//! - `kv`: clients of the Redis-protocol store, their commands and how each is framed (what
//!   each deserves is the store model's to say, [`crate::kv_model`]);
//! - `ws`: WebSocket clients of the chat room, their frames and what each is owed (what
//!   subscribers receive is [`crate::ws_oracle`]'s to judge);
//! - `mqtt`: clients of the MQTT broker, the steps of their scripts (what the server owes
//!   them is [`crate::mqtt_oracle`]'s to judge).

mod datagrams;
mod grammar;
mod invalid;
mod kv;
mod mqtt;
mod mqtt_violation;
mod tcp;
mod valid;
mod ws;

use zzz_core::Config;

use crate::rng::Rng;
use crate::swarm::WorkloadShape;

pub use datagrams::{Datagram, datagrams};
pub use kv::{KvItem, KvWhat, kv_clients};
pub use mqtt::{
    MqttAction, MqttScript, MqttStep, MqttWs, PublishSpec, cut_at, mqtt_clients, refused_by_form,
};
pub use ws::{Handshake, Terminal, WS_GUID, WsMsg, WsPing, WsScript, client_frame, ws_clients};

/// What a connection speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientKind {
    /// HTTP/1.x through the app's router.
    Http,
    /// The raw-TCP line protocol ([`crate::app::TcpLines`]).
    Tcp,
    /// HTTP/1.1 upgraded to the raw-TCP line protocol by its first request
    /// ([`crate::app::UPGRADE_REQUEST`]).
    Upgrade,
    /// The Redis-protocol store ([`zzz_apps::kv`]).
    Kv,
    /// HTTP/1.1 upgraded to WebSocket by its first request, a client of the chat room
    /// ([`crate::app::SimRoom`]).
    Ws,
    /// The MQTT broker ([`zzz_apps::mqtt`]).
    Mqtt,
}

/// A response the oracle expects, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The status code.
    pub status: u16,
    /// Every header except `Date` (checked apart: present and well formed), as lower-case name
    /// and exact value. Compared as a multiset: order is the server's business.
    pub headers: Vec<(String, String)>,
    /// Headers that must be present but whose value the oracle does not fix (`Allow`).
    pub present: Vec<&'static str>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Whether the server closes the connection after it.
    pub closes: bool,
}

/// What the server must do with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answer exactly this; when `may_500`, the response is so close to the large-buffer size
    /// that the static 500 is also right (the writer needs some slack).
    Response {
        /// The response.
        expected: Expected,
        /// Whether a 500 is acceptable too.
        may_500: bool,
    },
    /// The response cannot fit any buffer: the static 500, then close.
    Overflow,
    /// An invalid request: this status (in the server's static form), then close.
    Reject(u16),
    /// An invalid request for which RFC 9112 allows either status (a chunk size that both
    /// overflows and exceeds the body limit).
    RejectEither(u16, u16),
    /// Sent after a request whose answer closes the connection: never answered.
    Never,
}

/// One request of a script.
#[derive(Clone, Debug)]
pub struct ReqSpec {
    /// Offset of its first byte in the script.
    pub start: usize,
    /// Offset of its body (its end when it has none).
    pub body_start: usize,
    /// Offset one past its last byte.
    pub end: usize,
    /// It says `Expect: 100-continue` and has a body: a `100 Continue` may precede the answer.
    pub expect_continue: bool,
    /// It is a HEAD request: the answer has no body whatever its headers say.
    pub head_method: bool,
    /// What the server must answer.
    pub outcome: Outcome,
    /// Its class, for the coverage table (`valid.echo`, `smuggle.cl-te`, ...).
    pub class: &'static str,
    /// Whether it may need a large buffer (a body, or a response over half the send buffer):
    /// a 503 is then acceptable if the server reported the pool empty for it.
    pub may_need_block: bool,
}

/// How a client writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Pieces of up to `max_chunk` bytes, `gap_ms` apart.
    Burst {
        /// Largest piece.
        max_chunk: usize,
        /// Time between pieces.
        gap_ms: u64,
    },
    /// One byte every `every_ms` (a slowloris).
    Drip {
        /// Time between bytes.
        every_ms: u64,
    },
}

/// How a client's connection ends once its script is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndMode {
    /// Half-close (EOF) at once.
    Eof,
    /// Stay connected and idle until the server closes.
    Idle,
    /// Reset the connection.
    Reset,
}

/// A cut in the middle of the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// EOF after this many bytes.
    Eof(usize),
    /// Reset after this many bytes.
    Reset(usize),
}

/// One simulated client connection: what it writes, how, and what it must receive.
#[derive(Clone, Debug)]
pub struct Script {
    /// What it speaks.
    pub kind: ClientKind,
    /// Its class, for the trace and the coverage table.
    pub class: &'static str,
    /// Everything it writes, in order.
    pub bytes: Vec<u8>,
    /// HTTP: its requests, in order.
    pub requests: Vec<ReqSpec>,
    /// TCP: for each complete line, the offset just past its `\n` and the output length the
    /// server owes once it has the line.
    pub tcp_lines: Vec<(usize, usize)>,
    /// TCP: everything the server must write back, in order.
    pub tcp_expected: Vec<u8>,
    /// TCP: the offset just past `quit\n`, after which the server closes.
    pub tcp_quit_end: Option<usize>,
    /// Upgrade: the offset just past the upgrade request, where the line protocol begins.
    pub upgrade_end: Option<usize>,
    /// Key-value: what it sends, item by item, in order.
    pub kv: Vec<KvItem>,
    /// WebSocket: what it sends and is owed.
    pub ws: Option<WsScript>,
    /// MQTT: its steps (its bytes are written as they fall due, and as it reads).
    pub mqtt: Option<MqttScript>,
    /// When it connects, in ms from the start.
    pub connect_at: u64,
    /// How it writes.
    pub pace: Pace,
    /// Whether it writes every request at once (pipelining) or waits for each answer.
    pub pipelined: bool,
    /// Whether it waits for `100 Continue` (or its own timeout) before a body it announced.
    pub honor_expect: bool,
    /// An EOF or reset in the middle.
    pub cut: Option<Cut>,
    /// Stop writing at this offset for this long.
    pub write_stall: Option<(usize, u64)>,
    /// Stop reading this long after connecting, for this long.
    pub read_stall: Option<(u64, u64)>,
    /// What it does after its last byte.
    pub end: EndMode,
    /// After the server's FIN, whether it answers with its own EOF at once (else it stays until
    /// the server's linger timeout).
    pub eof_after_fin: bool,
}

impl Script {
    /// A client of `kind` that writes nothing, one burst at a time at `pace`, and ends its
    /// side as `end` says: not pipelining, not waiting for `100 Continue`, never cut or
    /// stalled, connecting at the start, reading to the EOF after the server's FIN. Every
    /// protocol's part is empty, for the generator to fill.
    pub fn new(kind: ClientKind, class: &'static str, pace: Pace, end: EndMode) -> Script {
        Script {
            kind,
            class,
            bytes: Vec::new(),
            requests: Vec::new(),
            tcp_lines: Vec::new(),
            tcp_expected: Vec::new(),
            tcp_quit_end: None,
            upgrade_end: None,
            kv: Vec::new(),
            ws: None,
            mqtt: None,
            connect_at: 0,
            pace,
            pipelined: false,
            honor_expect: false,
            cut: None,
            write_stall: None,
            read_stall: None,
            end,
            eof_after_fin: true,
        }
    }
}

/// The standard reason phrases of the statuses the oracle expects.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Generates the clients of one seed.
pub fn generate(config: &Config, shape: &WorkloadShape, rng: &mut Rng) -> Vec<Script> {
    let mut g = Gen { rng, config, shape };
    (0..shape.clients).map(|_| g.client()).collect()
}

/// The generator of one seed's clients.
struct Gen<'a> {
    rng: &'a mut Rng,
    config: &'a Config,
    shape: &'a WorkloadShape,
}

/// A request as built, before it is placed in a script.
struct Built {
    bytes: Vec<u8>,
    body_start: usize,
    outcome: Outcome,
    expect_continue: bool,
    head_method: bool,
    class: &'static str,
    may_need_block: bool,
}

impl Gen<'_> {
    fn client(&mut self) -> Script {
        let w = self.shape.kind_weights;
        let total: u32 = w.iter().sum::<u32>().max(1);
        let mut roll = self.rng.below(total as u64) as u32;
        let mut kind = 0;
        for (i, weight) in w.iter().enumerate() {
            if roll < *weight {
                kind = i;
                break;
            }
            roll -= weight;
        }
        let mut script = match kind {
            3 => self.tcp_client(),
            _ => self.http_client(kind),
        };
        script.connect_at = self.rng.range(0, self.shape.spread_ms);
        script
    }

    fn base_script(&mut self, kind: ClientKind, class: &'static str) -> Script {
        let pace = Pace::Burst {
            max_chunk: *self.rng.pick(&[1usize, 7, 100, 1 << 20]),
            gap_ms: *self.rng.pick(&[0u64, 0, 1, 5]),
        };
        // Drawn in this order, whatever the fields' order.
        let pipelined = self.rng.chance(self.shape.pipelining);
        let honor_expect = self.rng.coin();
        let end = *self
            .rng
            .pick(&[EndMode::Eof, EndMode::Eof, EndMode::Idle, EndMode::Reset]);
        let eof_after_fin = self.rng.chance(800_000);
        Script {
            pipelined,
            honor_expect,
            eof_after_fin,
            ..Script::new(kind, class, pace, end)
        }
    }

    /// A stall of about one of the server's timeouts: just under, just over or far over.
    fn stall_ms(&mut self) -> u64 {
        let t = self.config.timeouts;
        let base = *self
            .rng
            .pick(&[t.head_ms, t.body_idle_ms, t.keep_alive_ms, t.send_stall_ms]);
        match self.rng.below(3) {
            0 => base / 2,
            1 => base + self.config.timer_tick_ms as u64 * 2 + 1,
            _ => base * 3,
        }
    }

    fn add_cuts_and_stalls(&mut self, s: &mut Script) {
        let len = s.bytes.len();
        if len > 0 && self.rng.chance(self.shape.cut) {
            let at = self.rng.range_usize(0, len);
            s.cut = Some(if self.rng.coin() {
                Cut::Eof(at)
            } else {
                Cut::Reset(at)
            });
        }
        if self.rng.chance(self.shape.stall) {
            let at = self.rng.range_usize(0, len);
            let ms = self.stall_ms();
            s.write_stall = Some((at, ms));
        }
        if self.rng.chance(self.shape.stall) {
            let after = self.rng.range(0, 50);
            let ms = self.stall_ms();
            s.read_stall = Some((after, ms));
        }
    }

    fn http_client(&mut self, kind: usize) -> Script {
        let class = match kind {
            0 => "client.valid",
            1 => "client.invalid",
            _ => "client.slow",
        };
        let mut s = self.base_script(ClientKind::Http, class);
        let n = self.rng.range_usize(1, self.shape.max_requests);
        let mut built: Vec<Built> = Vec::new();
        let invalid_at = (kind == 1).then(|| self.rng.range_usize(0, n - 1));
        for i in 0..n {
            let k = built.len() as u32 + 1;
            let b = if Some(i) == invalid_at {
                self.invalid()
            } else {
                self.valid(k, kind == 2)
            };
            built.push(b);
        }
        if kind == 2 {
            s.pace = Pace::Drip {
                every_ms: *self.rng.pick(&[
                    1,
                    self.config.timer_tick_ms as u64,
                    50,
                    200,
                    self.config.timeouts.head_ms / 4 + 1,
                ]),
            };
        }
        // Mark everything after the first closing answer as never answered.
        let mut closed = false;
        for b in &mut built {
            if closed {
                b.outcome = Outcome::Never;
                continue;
            }
            closed = match &b.outcome {
                Outcome::Response { expected, .. } => expected.closes,
                Outcome::Overflow | Outcome::Reject(_) | Outcome::RejectEither(..) => true,
                Outcome::Never => false,
            };
        }
        if closed && self.rng.coin() {
            // Bytes after the closing answer: a smuggled request that must never be answered.
            let mut b = self.valid(1, false);
            b.outcome = Outcome::Never;
            b.class = "after-close";
            built.push(b);
        }
        for b in built {
            let start = s.bytes.len();
            s.bytes.extend_from_slice(&b.bytes);
            s.requests.push(ReqSpec {
                start,
                body_start: start + b.body_start,
                end: s.bytes.len(),
                expect_continue: b.expect_continue,
                head_method: b.head_method,
                outcome: b.outcome,
                class: b.class,
                may_need_block: b.may_need_block,
            });
        }
        self.add_cuts_and_stalls(&mut s);
        s
    }
}

/// Bytes of a response on the wire (the `Date` value is always 29 bytes).
pub fn wire_len(e: &Expected, head_method: bool) -> usize {
    let mut n = "HTTP/1.1 200 ".len() + reason(e.status).len() + 2;
    n += "Date: \r\n".len() + 29;
    for (name, value) in &e.headers {
        n += name.len() + 2 + value.len() + 2;
    }
    n += 2;
    if !head_method {
        n += e.body.len();
    }
    n
}
