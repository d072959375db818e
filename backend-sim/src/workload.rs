//! The simulated clients and the oracle's knowledge of them.
//!
//! Every client is generated as a [`Script`]: the bytes it will write, how it writes them
//! (bursts or one byte at a time, stalls, EOF or reset at some offset) and, for each request
//! in those bytes, what the server must answer. The expectation comes from the generator, not
//! from the code under test: the generator built the request, so it knows whether it is valid
//! (DESIGN §5, RFC 9112), which route of the bench contract (DESIGN §7) or of the simulator's
//! own routes ([`crate::app`]) serves it, and therefore the exact status, the headers the
//! contract fixes and the body. It never calls zzz-core's parser or router.

use zzz_core::Config;

use crate::app::{STATIC_LEN, pattern_byte};
use crate::rng::Rng;
use crate::swarm::WorkloadShape;

/// What a connection speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientKind {
    /// HTTP/1.x through the app's router.
    Http,
    /// The raw-TCP line protocol ([`crate::app::tcp_lines`]).
    Tcp,
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

/// Generates the UDP datagrams of one seed: payload and the reply buffer's size.
pub fn datagrams(shape: &WorkloadShape, rng: &mut Rng) -> Vec<(u64, Vec<u8>, usize)> {
    (0..shape.datagrams)
        .map(|_| {
            let at = rng.range(0, shape.spread_ms + 10);
            let len = rng.skewed(200);
            let data = (0..len).map(|_| rng.next_u64() as u8).collect();
            let cap = rng.range_usize(0, 260);
            (at, data, cap)
        })
        .collect()
}

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

/// What route a valid request goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Plaintext,
    Json,
    Echo,
    OptionsStar,
    /// CONNECT: zzz implements no tunnels (501).
    NotImplemented,
    /// A method the simulator's own GET-only routes lack: 405 with `Allow`.
    MethodNotAllowed,
    Static,
    Big(u32),
    Stream(u32, u32),
    Empty,
    NotModified,
}

const ECHO_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD",
];
/// Extension methods (RFC 9110 §9.1: any token; case-sensitive, so `get` and `Post` are
/// extension methods too), which the bench contract echoes like any other.
const EXTENSION_METHODS: &[&str] = &[
    "PURGE", "REPORT", "SEARCH", "LINK", "SOURCE", "QUERY", "BREW", "M-SEARCH", "get", "Post",
];
/// The `Allow` of the simulator's own routes, which are GET only.
const SIM_ROUTE_ALLOW: &str = "GET, HEAD, OPTIONS";
const SEGMENT_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@";
const TOKEN_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";

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
        Script {
            kind,
            class,
            bytes: Vec::new(),
            requests: Vec::new(),
            tcp_lines: Vec::new(),
            tcp_expected: Vec::new(),
            tcp_quit_end: None,
            connect_at: 0,
            pace,
            pipelined: self.rng.chance(self.shape.pipelining),
            honor_expect: self.rng.coin(),
            cut: None,
            write_stall: None,
            read_stall: None,
            end: *self
                .rng
                .pick(&[EndMode::Eof, EndMode::Eof, EndMode::Idle, EndMode::Reset]),
            eof_after_fin: self.rng.chance(800_000),
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

    fn tcp_client(&mut self) -> Script {
        let mut s = self.base_script(ClientKind::Tcp, "client.tcp");
        let lines = self.rng.range_usize(0, 8);
        let max_line = (self.config.recv_buffer.min(self.config.send_buffer) / 4).min(200) as usize;
        for _ in 0..lines {
            let len = self.rng.range_usize(0, max_line);
            let mut line: Vec<u8> = (0..len).map(|_| self.rng.range(0x20, 0x7e) as u8).collect();
            if line == b"quit" {
                line.push(b'!');
            }
            s.bytes.extend_from_slice(&line);
            s.bytes.push(b'\n');
            s.tcp_expected
                .extend(line.iter().map(|b| b.to_ascii_uppercase()));
            s.tcp_expected.push(b'\n');
            s.tcp_lines.push((s.bytes.len(), s.tcp_expected.len()));
        }
        match self.rng.below(3) {
            0 => {
                s.bytes.extend_from_slice(b"quit\n");
                s.tcp_expected.extend_from_slice(b"bye\n");
                s.tcp_lines.push((s.bytes.len(), s.tcp_expected.len()));
                s.tcp_quit_end = Some(s.bytes.len());
            }
            1 => {
                // A last line without its end: never answered.
                let len = self.rng.range_usize(1, 10);
                s.bytes.extend((0..len).map(|_| b'p'));
            }
            _ => {}
        }
        self.add_cuts_and_stalls(&mut s);
        s
    }

    fn segment(&mut self) -> String {
        let len = self.rng.range_usize(1, 12);
        let mut out = String::new();
        for _ in 0..len {
            if self.rng.chance(50_000) {
                out.push_str(&format!("%{:02X}", self.rng.below(256)));
            } else {
                out.push(*self.rng.pick(SEGMENT_CHARS) as char);
            }
        }
        out
    }

    fn echo_path(&mut self) -> String {
        if self.rng.chance(50_000) {
            return "/".into();
        }
        let mut path = String::new();
        loop {
            let seg = self.segment();
            let seg = if path.is_empty() && matches!(seg.as_str(), "sim" | "plaintext" | "json") {
                "e".to_string()
            } else {
                seg
            };
            path.push('/');
            path.push_str(&seg);
            if self.rng.chance(600_000) {
                break;
            }
        }
        if self.rng.chance(200_000) {
            path.push('?');
            let n = self.rng.range_usize(0, 3);
            for i in 0..n {
                if i > 0 {
                    path.push('&');
                }
                path.push_str(&self.segment().replace(['&', '?'], "x"));
                path.push('=');
                path.push_str(&self.segment().replace(['&', '?'], "y"));
            }
        }
        path
    }

    fn token(&mut self, max: usize) -> String {
        let len = self.rng.range_usize(1, max);
        (0..len)
            .map(|_| *self.rng.pick(TOKEN_CHARS) as char)
            .collect()
    }

    fn field_value(&mut self, max: usize) -> String {
        let len = self.rng.range_usize(0, max);
        let mut v: String = (0..len)
            .map(|_| match self.rng.below(20) {
                0 => ' ',
                1 => '\t',
                _ => self.rng.range(0x21, 0x7e) as u8 as char,
            })
            .collect();
        // The server trims surrounding whitespace; keep the value's own ends visible.
        while v.ends_with([' ', '\t']) {
            v.pop();
        }
        v
    }

    fn body(&mut self, max: usize) -> Vec<u8> {
        let len = if self.rng.chance(100_000) {
            max
        } else {
            self.rng.skewed(max.max(1)).min(max)
        };
        if self.rng.coin() {
            (0..len).map(|_| self.rng.next_u64() as u8).collect()
        } else {
            (0..len).map(|i| pattern_byte(i * 3)).collect()
        }
    }

    /// A chunked encoding of `body`, with random chunk sizes, extensions and trailers inside
    /// the limits, and whether an extension has whitespace before its `;` (the BWS of RFC 9112
    /// §7.1.1, which a recipient MUST parse, RFC 9110 §5.6.3).
    fn chunked(&mut self, body: &[u8]) -> (Vec<u8>, bool) {
        let mut bws = false;
        let mut out = Vec::new();
        let ext_budget = self.config.limits.max_chunk_extensions as usize / 2;
        let mut ext_used = 0;
        let mut rest = body;
        let max_chunk = *self.rng.pick(&[1usize, 3, 50, 1 << 20]);
        loop {
            let n = if rest.is_empty() {
                0
            } else {
                self.rng.range_usize(1, rest.len().min(max_chunk))
            };
            let digits = format!("{n:x}");
            let zeros = self.rng.range_usize(0, 16 - digits.len()).min(3);
            out.extend(std::iter::repeat_n(b'0', zeros));
            if self.rng.coin() {
                out.extend_from_slice(digits.to_uppercase().as_bytes());
            } else {
                out.extend_from_slice(digits.as_bytes());
            }
            if self.rng.chance(100_000) {
                let ext = if self.rng.coin() {
                    format!(";{}={}", self.token(5), self.token(5))
                } else {
                    format!(";{}=\"{}\"", self.token(5), self.token(5))
                };
                let space = *self.rng.pick(&["", "", " ", "\t", " \t "]);
                let ext = format!("{space}{ext}");
                if ext_used + ext.len() <= ext_budget {
                    ext_used += ext.len();
                    bws |= !space.is_empty();
                    out.extend_from_slice(ext.as_bytes());
                }
            }
            out.extend_from_slice(b"\r\n");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        if self.rng.chance(100_000) {
            let t = format!("X-Trailer-{}: {}\r\n", self.token(3), self.token(8));
            if t.len() + 2 <= self.config.limits.max_trailers as usize / 2 {
                out.extend_from_slice(t.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
        (out, bws)
    }

    /// An extension method: one of the usual ones, or a token of its own (prefixed, so that
    /// it never spells a standard method).
    fn extension_method(&mut self) -> String {
        if self.rng.coin() {
            self.rng.pick(EXTENSION_METHODS).to_string()
        } else {
            format!("X-{}", self.token(8))
        }
    }

    /// A valid request, the `k`-th on its connection.
    fn valid(&mut self, k: u32, small: bool) -> Built {
        let cfg = *self.config;
        let v10 = self.rng.chance(80_000);
        let roll = self.rng.below(100);
        let mut class = "valid.echo";
        let (mut method, target_kind): (String, Target) = match roll {
            0..=14 => {
                class = "valid.plaintext";
                ("GET".into(), Target::Plaintext)
            }
            15..=19 => {
                class = "valid.json";
                ("GET".into(), Target::Json)
            }
            20..=21 if !v10 => {
                class = "valid.options-star";
                ("OPTIONS".into(), Target::OptionsStar)
            }
            22 => {
                class = "valid.not-implemented";
                ("CONNECT".into(), Target::NotImplemented)
            }
            23 => {
                class = "valid.extension-method";
                (self.extension_method(), Target::Echo)
            }
            24..=26 if !small => {
                class = "valid.static";
                ("GET".into(), Target::Static)
            }
            27..=30 if !small => {
                class = "valid.big";
                let n = self.rng.range(
                    0,
                    cfg.large_buffer_size as u64 + cfg.large_buffer_size as u64 / 8,
                ) as u32;
                ("GET".into(), Target::Big(n))
            }
            31..=34 if !small => {
                class = "valid.stream";
                let n = self.rng.skewed(60_000) as u32 - 1;
                let per = *self.rng.pick(&[1u32, 10, 1000, 1 << 20]);
                ("GET".into(), Target::Stream(n, per))
            }
            35 => {
                class = "valid.no-content";
                ("GET".into(), Target::Empty)
            }
            36 => {
                class = "valid.not-modified";
                ("GET".into(), Target::NotModified)
            }
            37 => {
                class = "valid.method-not-allowed";
                let m = self.rng.pick(&["POST", "PUT", "DELETE", "PATCH", "TRACE"]);
                let m = if self.rng.coin() {
                    m.to_string()
                } else {
                    self.extension_method()
                };
                (m, Target::MethodNotAllowed)
            }
            _ => (self.rng.pick(ECHO_METHODS).to_string(), Target::Echo),
        };
        if method == "GET"
            && matches!(
                target_kind,
                Target::Plaintext
                    | Target::Json
                    | Target::Static
                    | Target::Big(_)
                    | Target::Stream(..)
            )
            && self.rng.chance(150_000)
        {
            method = "HEAD".into();
            class = match target_kind {
                Target::Plaintext | Target::Json => "valid.head",
                _ => "valid.head-generated",
            };
        }
        let literal_other = self.shape.literal_other_methods
            && matches!(target_kind, Target::Plaintext | Target::Json)
            && self.rng.chance(200_000);
        let mut target_kind = target_kind;
        if literal_other {
            method = self
                .rng
                .pick(&[
                    "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PURGE", "QUERY",
                ])
                .to_string();
            target_kind = Target::Echo;
            class = "valid.literal-other-method";
        }
        let head_method = method == "HEAD";

        let mut target: String = match target_kind {
            Target::Plaintext if literal_other || self.rng.chance(800_000) => "/plaintext".into(),
            Target::Plaintext => {
                class = if class == "valid.head" {
                    class
                } else {
                    "valid.plaintext-variant"
                };
                self.rng
                    .pick(&[
                        "/plain%74ext",
                        "/%70laintext",
                        "/plaintext?x=1",
                        "http://h/plaintext",
                    ])
                    .to_string()
            }
            Target::Json => "/json".into(),
            Target::Echo => {
                if self.rng.chance(80_000) && class != "valid.extension-method" {
                    class = "valid.absolute-form";
                    format!("http://{}{}", self.host(), self.echo_path())
                } else {
                    self.echo_path()
                }
            }
            Target::OptionsStar => "*".into(),
            Target::NotImplemented => {
                format!("{}:{}", self.host_name(), self.rng.range(1, 65535))
            }
            Target::MethodNotAllowed => self
                .rng
                .pick(&[
                    "/sim/static",
                    "/sim/empty",
                    "/sim/not-modified",
                    "/sim/big/7",
                ])
                .to_string(),
            Target::Static => "/sim/static".into(),
            Target::Big(n) => format!("/sim/big/{n}"),
            Target::Stream(n, per) => format!("/sim/stream/{n}/{per}"),
            Target::Empty => "/sim/empty".into(),
            Target::NotModified => "/sim/not-modified".into(),
        };
        if method.len() + target.len() + 10 > cfg.limits.max_request_line as usize {
            target = match target_kind {
                Target::NotImplemented => "h:1".into(),
                Target::MethodNotAllowed => "/sim/empty".into(),
                _ => "/e".into(),
            };
            // The target is no longer absolute-form: an empty Host would now be invalid
            // (found by seeds 2281, 8191, 10148 and 15980 of a 100,000-seed campaign).
            if class == "valid.absolute-form" {
                class = "valid.echo";
            }
        }

        // Body.
        let may_have_body = matches!(target_kind, Target::Echo) && !head_method;
        let body_kind = if may_have_body { self.rng.below(3) } else { 0 };
        let max_body = cfg.limits.max_body as usize;
        let body = match body_kind {
            0 => Vec::new(),
            _ => self.body(if small { max_body.min(40) } else { max_body }),
        };
        let chunked = body_kind == 2 && !v10;
        // RFC 9110 §2.5: a higher minor version is served as HTTP/1.1.
        let minor = (!v10 && self.rng.chance(30_000)).then(|| self.rng.range(2, 9));

        // Connection handling.
        let conn_token = *self.rng.pick(&[
            "",
            "",
            "",
            "",
            "close",
            "keep-alive",
            "Keep-Alive",
            "upgrade, close",
            "keep-alive, x-foo",
        ]);
        let says_close = conn_token
            .to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "close");
        let says_keep = conn_token
            .to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "keep-alive");
        let stream_until_close = v10 && matches!(target_kind, Target::Stream(..)) && !head_method;
        let closes = says_close
            || (v10 && !says_keep)
            || k >= cfg.max_requests_per_connection
            || stream_until_close;

        // Head.
        let mut headers: Vec<(String, String)> = Vec::new();
        if !v10 || self.rng.coin() {
            let name = *self.rng.pick(&["Host", "host", "HOST"]);
            // An absolute-form target carries its own authority; Host is then ignored, even
            // empty (RFC 9112 §3.2.2).
            let host = if class == "valid.absolute-form" && self.rng.chance(300_000) {
                class = "valid.absolute-form-empty-host";
                String::new()
            } else {
                self.host()
            };
            headers.push((name.into(), host));
        }
        if !conn_token.is_empty() {
            headers.push(("Connection".into(), conn_token.into()));
        }
        // Stay inside the head limits: a valid request must be valid.
        let essential = headers.len() + 3;
        let extras = self
            .rng
            .range_usize(0, 3)
            .min((cfg.limits.max_headers as usize).saturating_sub(essential));
        for _ in 0..extras {
            let name = format!("X-{}", self.token(8));
            let value = self.field_value(30);
            headers.push((name, value));
        }
        let expect = !v10 && !body.is_empty() && self.rng.chance(250_000);
        if expect {
            headers.push(("Expect".into(), "100-continue".into()));
        }
        if chunked {
            headers.push(("Transfer-Encoding".into(), "chunked".into()));
        } else if !body.is_empty() || (may_have_body && self.rng.coin()) {
            headers.push(("Content-Length".into(), body.len().to_string()));
            if self.rng.chance(50_000) {
                // The same length twice is allowed (RFC 9110 §8.6).
                headers.push(("content-length".into(), body.len().to_string()));
                class = "valid.repeated-length";
            }
        }
        if !headers.is_empty() {
            let i = self.rng.range_usize(0, headers.len() - 1);
            let j = self.rng.range_usize(0, headers.len() - 1);
            headers.swap(i, j);
        }
        if chunked && class == "valid.echo" {
            class = "valid.chunked";
        }
        if expect && (class == "valid.echo" || class == "valid.chunked") {
            class = "valid.expect-continue";
        }
        if v10 {
            class = "valid.http10";
        }
        let minor_version;
        let version = match minor {
            _ if v10 => "HTTP/1.0",
            Some(m) => {
                class = "valid.minor-version";
                minor_version = format!("HTTP/1.{m}");
                minor_version.as_str()
            }
            None => "HTTP/1.1",
        };
        let mut bytes = Vec::new();
        if self.rng.chance(30_000) {
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(format!("{method} {target} {version}\r\n").as_bytes());
        for (n, v) in &headers {
            let ows = if self.rng.chance(100_000) { " \t" } else { " " };
            bytes.extend_from_slice(format!("{n}:{ows}{v}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");

        // Limits exactly reached are still accepted.
        if !small
            && self.rng.chance(20_000)
            && body.is_empty()
            && !chunked
            && let Some(b) = self.at_limit(&mut bytes, &method, &target, version, k, closes)
        {
            return b;
        }

        let body_start = bytes.len();
        if chunked {
            let (enc, bws) = self.chunked(&body);
            bytes.extend_from_slice(&enc);
            if bws && class == "valid.chunked" {
                class = "valid.chunk-ext-bws";
            }
        } else {
            bytes.extend_from_slice(&body);
        }

        let expected = self.expected(&method, &target, target_kind, v10, closes, &body);
        // Static and streamed bodies never pass through a buffer of the server's: only their
        // head counts against the buffers.
        let generated = matches!(target_kind, Target::Static | Target::Stream(..));
        let wire = if generated {
            wire_len(&expected, true)
        } else {
            wire_len(&expected, head_method)
        };
        // A large buffer is reserved with room for a chunked body's final framing beyond
        // `large_buffer_size` (`Config::block_size`); a response may use all of it.
        let large = cfg.block_size();
        let outcome = if wire > large {
            Outcome::Overflow
        } else {
            Outcome::Response {
                expected,
                may_500: wire + 64 > large,
            }
        };
        let may_need_block = !body.is_empty() || chunked || wire > cfg.send_buffer as usize / 2;
        Built {
            bytes,
            body_start,
            outcome,
            expect_continue: expect,
            head_method,
            class,
            may_need_block,
        }
    }

    /// Replaces `bytes` by a request at one of the limits, exactly: the request line, the
    /// head, or the number of header fields. `None` when the configuration leaves no room.
    fn at_limit(
        &mut self,
        bytes: &mut Vec<u8>,
        _method: &str,
        _target: &str,
        version: &str,
        k: u32,
        closes: bool,
    ) -> Option<Built> {
        let l = self.config.limits;
        let conn = if closes { "Connection: close\r\n" } else { "" };
        let closes = closes || k >= self.config.max_requests_per_connection;
        let host = "Host: h\r\n";
        let (class, out) = match self.rng.below(3) {
            0 => {
                // Request line of exactly max_request_line bytes.
                let fixed = "GET /".len() + 1 + version.len();
                let pad = (l.max_request_line as usize).checked_sub(fixed)?;
                let target = format!("/{}", "r".repeat(pad));
                let line = format!("GET {target} {version}\r\n");
                debug_assert_eq!(line.len() - 2, l.max_request_line as usize);
                let head = format!("{line}{host}{conn}\r\n");
                if head.len() > l.max_head as usize {
                    return None;
                }
                ("limit.request-line", (head, target))
            }
            1 => {
                // A head of exactly max_head bytes.
                let line = format!("GET /limit {version}\r\n");
                let fixed = line.len() + host.len() + conn.len() + "X-Pad: \r\n".len() + 2;
                let pad = (l.max_head as usize).checked_sub(fixed)?;
                let head = format!("{line}{host}{conn}X-Pad: {}\r\n\r\n", "p".repeat(pad));
                debug_assert_eq!(head.len(), l.max_head as usize);
                if 3 + usize::from(!conn.is_empty()) > l.max_headers as usize {
                    return None;
                }
                ("limit.head", (head, "/limit".to_string()))
            }
            _ => {
                // Exactly max_headers fields.
                let line = format!("GET /fields {version}\r\n");
                let own = 1 + usize::from(!conn.is_empty());
                let n = (l.max_headers as usize).checked_sub(own)?;
                let mut head = format!("{line}{host}{conn}");
                for i in 0..n {
                    head.push_str(&format!("X-F{i}: v\r\n"));
                }
                head.push_str("\r\n");
                if head.len() > l.max_head as usize {
                    return None;
                }
                ("limit.headers", (head, "/fields".to_string()))
            }
        };
        let (head, target) = out;
        bytes.clear();
        bytes.extend_from_slice(head.as_bytes());
        let v10 = version == "HTTP/1.0";
        let closes = closes || v10;
        let expected = self.expected("GET", &target, Target::Echo, v10, closes, &[]);
        let wire = wire_len(&expected, false);
        Some(Built {
            body_start: bytes.len(),
            bytes: std::mem::take(bytes),
            outcome: Outcome::Response {
                expected,
                may_500: wire + 64 > self.config.block_size(),
            },
            expect_continue: false,
            head_method: false,
            class,
            may_need_block: wire > self.config.send_buffer as usize / 2,
        })
    }

    fn host_name(&mut self) -> String {
        let len = self.rng.range_usize(1, 10);
        (0..len)
            .map(|_| *self.rng.pick(b"abcdefghijklmnopqrstuvwxyz0123456789-.") as char)
            .collect()
    }

    fn host(&mut self) -> String {
        let name = self.host_name();
        if self.rng.chance(300_000) {
            format!("{name}:{}", self.rng.range(1, 65535))
        } else {
            name
        }
    }

    /// The response the contract prescribes.
    fn expected(
        &mut self,
        method: &str,
        target: &str,
        kind: Target,
        v10: bool,
        closes: bool,
        body: &[u8],
    ) -> Expected {
        let head_method = method == "HEAD";
        let mut e = Expected {
            status: 200,
            headers: vec![("server".into(), "zzz".into())],
            present: Vec::new(),
            body: Vec::new(),
            closes,
        };
        let connection = if closes {
            Some("close")
        } else if v10 {
            Some("keep-alive")
        } else {
            None
        };
        let mut length: Option<usize> = None;
        let mut chunked = false;
        match kind {
            Target::Plaintext => {
                e.headers.push(("content-type".into(), "text/plain".into()));
                e.body = b"Hello, World!".to_vec();
                length = Some(13);
            }
            Target::Json => {
                e.headers
                    .push(("content-type".into(), "application/json".into()));
                e.body = br#"{"message":"Hello, World!"}"#.to_vec();
                length = Some(e.body.len());
            }
            Target::Echo => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.headers.push(("x-echo-method".into(), method.into()));
                e.headers.push(("x-echo-target".into(), target.into()));
                e.body = body.to_vec();
                length = Some(body.len());
            }
            Target::OptionsStar => {
                e.status = 204;
                e.present.push("allow");
            }
            Target::MethodNotAllowed => {
                e.status = 405;
                e.headers.push(("allow".into(), SIM_ROUTE_ALLOW.into()));
                e.headers
                    .push(("content-type".into(), "text/plain; charset=utf-8".into()));
                e.body = b"Method Not Allowed\n".to_vec();
                length = Some(e.body.len());
            }
            Target::NotImplemented => {
                e.status = 501;
                e.headers
                    .push(("content-type".into(), "text/plain; charset=utf-8".into()));
                e.body = b"Not Implemented\n".to_vec();
                length = Some(e.body.len());
            }
            Target::Static => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.body = (0..STATIC_LEN).map(pattern_byte).collect();
                length = Some(STATIC_LEN);
            }
            Target::Big(n) => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.body = (0..n as usize).map(pattern_byte).collect();
                length = Some(n as usize);
            }
            Target::Stream(n, _) => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.body = (0..n as usize).map(pattern_byte).collect();
                chunked = !v10 && !head_method;
            }
            Target::Empty => e.status = 204,
            Target::NotModified => e.status = 304,
        }
        if let Some(c) = connection {
            e.headers.push(("connection".into(), c.into()));
        }
        if let Some(n) = length {
            e.headers.push(("content-length".into(), n.to_string()));
        }
        if chunked {
            e.headers
                .push(("transfer-encoding".into(), "chunked".into()));
        }
        if head_method {
            e.body.clear();
        }
        e
    }

    /// An invalid request: one class of smuggling, oversize or garbage, with the status that
    /// RFC 9112 and DESIGN §5 prescribe.
    fn invalid(&mut self) -> Built {
        let l = self.config.limits;
        let ok_line = "POST /x HTTP/1.1\r\n";
        let host = "Host: h\r\n";
        if self.rng.below(37) == 0 {
            // A chunk size that overflows 64 bits is over any body limit too: 400 or 413.
            let bytes: Vec<u8> =
                format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n")
                    .into();
            return Built {
                body_start: bytes.len(),
                bytes,
                outcome: Outcome::RejectEither(400, 413),
                expect_continue: false,
                head_method: false,
                class: "chunk.size-overflow",
                may_need_block: true,
            };
        }
        let (class, status, bytes): (&'static str, u16, Vec<u8>) = match self.rng.below(38) {
            0 => ("smuggle.cl-te", 400, format!("{ok_line}{host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into()),
            1 => ("smuggle.te-cl", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello").into()),
            2 => ("smuggle.cl-conflict", 400, format!("{ok_line}{host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!").into()),
            3 => ("smuggle.cl-list-conflict", 400, format!("{ok_line}{host}Content-Length: 5, 6\r\n\r\nhello!").into()),
            4 => {
                let v = self.rng.pick(&["+5", "-1", "0x10", "1 2", "", "5;", "abc", "5.0"]);
                ("smuggle.cl-invalid", 400, format!("{ok_line}{host}Content-Length: {v}\r\n\r\nhello").into())
            }
            5 => ("smuggle.cl-overflow", 400, format!("{ok_line}{host}Content-Length: 184467440737095516160\r\n\r\n").into()),
            6 => ("smuggle.te-not-final", 400, format!("{ok_line}{host}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n").into()),
            7 => {
                let te = self.rng.pick(&[
                    "Transfer-Encoding: gzip, chunked\r\n",
                    "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                    "Transfer-Encoding: deflate ,chunked\r\n",
                ]);
                ("smuggle.te-unknown", 501, format!("{ok_line}{host}{te}\r\n0\r\n\r\n").into())
            }
            8 => ("smuggle.te-double-chunked", 400, format!("{ok_line}{host}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n").into()),
            9 => ("smuggle.te-http10", 400, "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into()),
            10 => {
                let te = self.rng.pick(&["gzip", "xchunked", "chunkedx"]);
                ("smuggle.te-not-chunked", 400, format!("{ok_line}{host}Transfer-Encoding: {te}\r\n\r\n").into())
            }
            11 => {
                let field = self.rng.pick(&["Host : h\r\n", "Content-Length : 0\r\n", "X-A\t: b\r\n"]);
                ("smuggle.space-before-colon", 400, format!("GET / HTTP/1.1\r\nHost: h\r\n{field}\r\n").replace("Host: h\r\nHost : h", "Host : h").into())
            }
            12 => ("smuggle.obs-fold", 400, format!("GET / HTTP/1.1\r\n{host}X-A: a\r\n b\r\n\r\n").into()),
            13 => ("smuggle.bare-cr", 400, format!("GET / HTTP/1.1\r\n{host}X-A: a\rb\r\n\r\n").into()),
            14 => {
                let req = self.rng.pick(&[
                    "GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n",
                    "GET / HTTP/1.1\nHost: h\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: h\r\n\n",
                ]);
                ("smuggle.bare-lf", 400, req.as_bytes().to_vec())
            }
            15 => ("smuggle.nul", 400, format!("GET / HTTP/1.1\r\n{host}X-A: a\0b\r\n\r\n").into()),
            16 => ("host.missing", 400, "GET / HTTP/1.1\r\nX-A: b\r\n\r\n".into()),
            17 => ("host.duplicate", 400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".into()),
            18 => ("host.invalid", 400, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n".into()),
            19 => {
                // HTTP/1.2 and up are HTTP/1.1 (RFC 9110 §2.5): only another major version.
                let v = self.rng.pick(&["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.1"]);
                ("version.unsupported", 505, format!("GET / {v}\r\n{host}\r\n").into())
            }
            20 => {
                let v = self.rng.pick(&["HTTP/1", "HTTX/1.1", "http/1.1", "HTTP/1.1x", "HTTP/11"]);
                ("version.malformed", 400, format!("GET / {v}\r\n{host}\r\n").into())
            }
            21 => {
                // More than 16 hex digits, even if the value is small (RFC 9112 §7.1; zzz
                // accepts at most 16).
                ("chunk.size-too-many-digits", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n").into())
            }
            22 => {
                let size = self.rng.pick(&["zz", "-1", "0x5", ";a=b", "+5"]);
                ("chunk.size-invalid", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n").into())
            }
            23 => {
                let ext = "e".repeat(l.max_chunk_extensions as usize + 1);
                ("chunk.extensions-too-long", 413, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n1;a={ext}\r\nx\r\n0\r\n\r\n").into())
            }
            24 => ("chunk.data-no-crlf", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n").into()),
            25 => {
                let extra = self.rng.range_usize(1, 300);
                let target = format!("/{}", "u".repeat(l.max_request_line as usize + extra));
                ("oversize.request-line", 414, format!("GET {target} HTTP/1.1\r\n{host}\r\n").into())
            }
            26 => {
                let mut head = format!("GET / HTTP/1.1\r\n{host}");
                let value = "v".repeat(l.max_head as usize / 4);
                while head.len() <= l.max_head as usize {
                    head.push_str(&format!("X-Big: {value}\r\n"));
                }
                head.push_str("\r\n");
                ("oversize.head", 431, head.into())
            }
            27 => {
                let mut head = format!("GET / HTTP/1.1\r\n{host}");
                for i in 0..l.max_headers {
                    head.push_str(&format!("X-{i}: v\r\n"));
                }
                head.push_str("\r\n");
                ("oversize.header-count", 431, head.into())
            }
            28 => {
                let n = l.max_body as u64 + self.rng.range(1, 1000);
                ("oversize.body-length", 413, format!("{ok_line}{host}Content-Length: {n}\r\n\r\n").into())
            }
            29 => {
                let mut req = format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
                let mut left = l.max_body as usize + 1;
                while left > 0 {
                    let n = left.min(self.rng.range_usize(1, 5000));
                    req.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    req.extend(std::iter::repeat_n(b'b', n));
                    req.extend_from_slice(b"\r\n");
                    left -= n;
                }
                req.extend_from_slice(b"0\r\n\r\n");
                ("oversize.body-chunked", 413, req)
            }
            30 => {
                let bad: &[u8] = b"\x00\x01\x07\x0b\x0c\x1f()<>@,;:\\\"/[]?={} \t\x7f\x80\xff";
                let mut g = vec![*self.rng.pick(bad)];
                let n = self.rng.skewed(200);
                g.extend((0..n).map(|_| self.rng.next_u64() as u8));
                ("garbage", 400, g)
            }
            31 => ("expect.unsupported", 417, format!("{ok_line}{host}Content-Length: 2\r\nExpect: 200-ok\r\n\r\nhi").into()),
            32 => {
                let t = self.rng.pick(&["/a<b", "/a\"b", "/a{b}", "/a|b", "/a b", "/a#b", "ftp://h/x"]);
                ("target.invalid", 400, format!("GET {t} HTTP/1.1\r\n{host}\r\n").into())
            }
            33 => {
                let m = self.rng.pick(&["GE(T", "G@T", "GET\t", "[GET]"]);
                ("method.invalid", 400, format!("{m} / HTTP/1.1\r\n{host}\r\n").into())
            }
            34 => ("smuggle.leading-space", 400, "GET / HTTP/1.1\r\n Host: h\r\n\r\n".into()),
            35 => ("target.connect-no-port", 400, format!("CONNECT h HTTP/1.1\r\n{host}\r\n").into()),
            36 => {
                // RFC 9112 §7.1: whitespace after a chunk size only before an extension's `;`.
                let size = self.rng.pick(&["5 ", "5\t", "5  ", "5 0", "05 \t"]);
                ("chunk.size-whitespace", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n").into())
            }
            _ => {
                // RFC 9110 §7.2, §4.2.1: an empty Host leaves an origin-form target no authority.
                let req = self.rng.pick(&[
                    "GET / HTTP/1.1\r\nHost:\r\n\r\n",
                    "GET /x HTTP/1.1\r\nHost: \t\r\n\r\n",
                    "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n",
                    "GET /plaintext HTTP/1.2\r\nHost:\r\n\r\n",
                ]);
                ("host.empty", 400, req.as_bytes().to_vec())
            }
        };
        Built {
            body_start: bytes.len(),
            bytes,
            outcome: Outcome::Reject(status),
            expect_continue: false,
            head_method: false,
            class,
            may_need_block: true,
        }
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
