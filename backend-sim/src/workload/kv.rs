//! Clients of the Redis-protocol store ([`zzz_apps::kv`]): sessions of RESP2 commands, as
//! arrays of bulk strings or inline, pipelined or one at a time, some preceded by runs of empty
//! lines and empty arrays (which the server skips), with values up to, at and past the
//! module's value limit, keys enough to fill the store, malformed RESP and commands longer
//! than the receive buffer (both answered with a protocol error, then the connection closes),
//! and `QUIT`.
//!
//! The generator decides how each item is framed and therefore whether the server parses it
//! as a command or answers a protocol error: that follows from RESP2 and the receive buffer
//! alone. What a command's reply is depends on the store when the server executes it, which
//! is the store model's business ([`crate::kv_model`]), judged as replies are written
//! ([`crate::kv_oracle`]).

use zzz_core::Config;

use super::{ClientKind, Cut, Gen, Pace, Script};
use crate::kv_model::{self, max_value};
use crate::rng::Rng;
use crate::swarm::WorkloadShape;

/// What one item of a key-value script is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvWhat {
    /// A command the server parses: its arguments, the name first.
    Command(Vec<Vec<u8>>),
    /// Bytes the server answers with this protocol error (the text after `-`), then closes.
    ProtocolError(&'static str),
    /// Sent after an item whose answer closes the connection: never answered.
    Never,
}

/// One item of a key-value script: a command or a malformed piece, perhaps preceded by
/// bytes that make no command.
#[derive(Clone, Debug)]
pub struct KvItem {
    /// Its first byte in the script (empty lines before the command included).
    pub start: usize,
    /// The first byte of the command itself.
    pub cmd_start: usize,
    /// The bytes before the command are this unit repeated (an empty line, an empty array);
    /// 0 when there are none.
    pub nothing_unit: usize,
    /// One past its last byte.
    pub end: usize,
    /// How many bytes of the script the server needs to answer it: the command's end, the
    /// malformed header's, or the receive buffer's worth of a command too long for it.
    pub due: usize,
    /// What it is.
    pub what: KvWhat,
    /// Whether it is written inline (`GET k\r\n`).
    pub inline: bool,
}

impl KvItem {
    /// How much of the script the server needs, this item first, to consume a byte of it:
    /// its first empty line, or else the command itself.
    pub fn consumed_at(&self) -> usize {
        if self.nothing_unit > 0 {
            self.start + self.nothing_unit
        } else {
            self.end
        }
    }

    /// Whether the server, having received `delivered` bytes of the script, holds part of
    /// this item that it cannot yet act on: part of its command, or part of an empty line.
    pub fn partly_in(&self, delivered: usize) -> bool {
        let before = delivered.min(self.cmd_start).saturating_sub(self.start);
        delivered > self.cmd_start
            || (self.nothing_unit > 0 && !before.is_multiple_of(self.nothing_unit))
    }

    /// Whether the server closes the connection after answering it.
    pub fn closes(&self) -> bool {
        match &self.what {
            KvWhat::Command(args) => args[0].eq_ignore_ascii_case(b"QUIT"),
            KvWhat::ProtocolError(_) => true,
            KvWhat::Never => false,
        }
    }
}

/// The key-value clients of one seed: `shape.kv_clients` of them.
pub fn kv_clients(config: &Config, shape: &WorkloadShape, rng: &mut Rng) -> Vec<Script> {
    let mut g = Gen { rng, config, shape };
    (0..shape.kv_clients)
        .map(|_| {
            let mut s = g.kv_client();
            s.connect_at = g.rng.range(0, shape.spread_ms);
            s
        })
        .collect()
}

/// What a key-value client mostly does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    /// Connects and sends nothing: only the idle timeout ends it.
    Silent,
    /// Any commands.
    Mixed,
    /// Sets many keys, many of them distinct: the store fills.
    Fill,
    /// Sets a long value and reads it back again and again: replies outgrow the send buffer.
    BigReplies,
    /// Sets keys with short expiries and reads them back, with pauses between writes.
    Expiry,
}

/// Keys most commands use: few enough that clients share them, more than the store holds.
const KEYS: usize = 16;

/// Bytes before a command that make none (an empty line, an empty or null array).
const NOTHING: &[&[u8]] = &[b"\r\n", b"\n", b" \t \r\n", b"*0\r\n", b"*-1\r\n"];

/// Malformed RESP, the error each is answered with, and how many of its bytes the server
/// needs to tell (it reads an array's elements one by one).
const MALFORMED: &[(&[u8], &str, usize)] = &[
    (b"*x\r\n", kv_model::BAD_ARRAY_LENGTH, 4),
    (b"*65\r\n", kv_model::TOO_MANY_ARGS, 5),
    (b"*1\r\n:1\r\n", kv_model::EXPECTED_BULK, 5),
    (b"*1\r\n$-1\r\n", kv_model::BAD_BULK_LENGTH, 9),
    (
        b"*2\r\n$3\r\nGET\r\n$1\r\nab\r\n",
        kv_model::MISSING_CRLF,
        20,
    ),
];

/// How the server frames a command's bytes.
enum Framing {
    /// A whole command, parsed once `end` bytes are in.
    Command,
    /// A bulk length past the receive buffer, seen once this many bytes are in.
    BadBulk(usize),
    /// Longer than the receive buffer: the error once the buffer is full.
    TooLarge,
}

/// The command `args` as an array of bulk strings.
fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// How the server reads `args` sent as an array into a receive buffer of `recv` bytes: it
/// reads each bulk header as soon as it is in, and a command must fit the buffer whole.
fn multibulk_framing(args: &[Vec<u8>], recv: usize) -> Framing {
    let mut at = format!("*{}\r\n", args.len()).len();
    for a in args {
        let header_end = at + format!("${}\r\n", a.len()).len();
        if header_end > recv {
            return Framing::TooLarge;
        }
        if a.len() > recv {
            return Framing::BadBulk(header_end);
        }
        at = header_end + a.len() + 2;
        if at > recv {
            return Framing::TooLarge;
        }
    }
    Framing::Command
}

/// Whether `args` can be written inline: words without blanks or line ends, the first not
/// starting an array.
fn inline_safe(args: &[Vec<u8>]) -> bool {
    args.iter()
        .all(|a| !a.is_empty() && !a.iter().any(|b| b" \t\r\n".contains(b)))
        && args[0][0] != b'*'
}

/// `name` in a random mix of cases (commands and options are case-insensitive).
fn mixed_case(rng: &mut Rng, name: &str) -> Vec<u8> {
    match rng.below(3) {
        0 => name.to_ascii_uppercase().into_bytes(),
        1 => name.to_ascii_lowercase().into_bytes(),
        _ => name
            .bytes()
            .map(|b| {
                if rng.coin() {
                    b.to_ascii_lowercase()
                } else {
                    b
                }
            })
            .collect(),
    }
}

impl Gen<'_> {
    fn kv_client(&mut self) -> Script {
        let mut s = self.base_script(ClientKind::Kv, "client.kv");
        s.pace = Pace::Burst {
            max_chunk: *self.rng.pick(&[1usize, 7, 100, 1 << 20]),
            gap_ms: *self.rng.pick(&[0u64, 0, 1, 5, 50, 300]),
        };
        let recv = self.config.recv_buffer as usize;
        let style = match self.rng.below(10) {
            0 => Style::Silent,
            1 | 2 => Style::Fill,
            3 | 4 => Style::BigReplies,
            5 => Style::Expiry,
            _ => Style::Mixed,
        };
        let n = match style {
            Style::Silent => 0,
            Style::Mixed => self.rng.range_usize(1, 24),
            _ => self.rng.range_usize(4, 40),
        };
        if style == Style::BigReplies {
            // Pipelined, so that replies outgrow the send buffer while commands wait.
            s.pipelined = self.rng.chance(800_000);
        }
        if style == Style::Expiry {
            s.pace = Pace::Burst {
                max_chunk: 1 << 20,
                gap_ms: *self.rng.pick(&[5u64, 50, 300, 900]),
            };
        }
        let big_key = self.kv_key();
        let mut closed = false;
        for k in 0..n {
            let start = s.bytes.len();
            let mut nothing_unit = 0;
            if self.rng.chance(150_000) {
                let runs = *self.rng.pick(&[1usize, 3, 50, 400]);
                let unit = *self.rng.pick(NOTHING);
                nothing_unit = unit.len();
                for _ in 0..runs {
                    s.bytes.extend_from_slice(unit);
                }
            }
            let cmd_start = s.bytes.len();
            let (what, inline, due) = if self.rng.chance(40_000) {
                let (bytes, error, due) = if self.rng.below(4) == 0 {
                    // A bulk length past the receive buffer.
                    let header = format!("*2\r\n$3\r\nGET\r\n${}\r\n", recv + 1).into_bytes();
                    let due = header.len();
                    (header, kv_model::BAD_BULK_LENGTH, due)
                } else if self.rng.below(5) == 0 {
                    // An inline command of more words than a command may have.
                    let line: Vec<u8> = b"a ".repeat(65).into_iter().chain(*b"\r\n").collect();
                    let due = line.len();
                    (line, kv_model::TOO_MANY_ARGS, due)
                } else {
                    let (b, e, due) = *self.rng.pick(MALFORMED);
                    (b.to_vec(), e, due)
                };
                s.bytes.extend_from_slice(&bytes);
                (KvWhat::ProtocolError(error), false, cmd_start + due)
            } else {
                let args = match style {
                    Style::Fill if self.rng.below(4) > 0 => {
                        let key = format!("f{}", self.rng.below(64)).into_bytes();
                        vec![mixed_case(self.rng, "SET"), key, self.kv_value()]
                    }
                    Style::BigReplies if k == 0 => {
                        let len = max_value(self.config.send_buffer as usize);
                        let len = len - self.rng.range_usize(0, len / 3);
                        let value = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                        vec![b"SET".to_vec(), big_key.clone(), value]
                    }
                    Style::BigReplies if self.rng.below(5) > 0 => {
                        if self.rng.below(4) == 0 {
                            vec![b"MGET".to_vec(), big_key.clone(), self.kv_key()]
                        } else {
                            vec![mixed_case(self.rng, "GET"), big_key.clone()]
                        }
                    }
                    Style::Expiry if self.rng.coin() => {
                        let which = *self.rng.pick(&["GET", "TTL", "PTTL", "EXISTS", "INCR"]);
                        vec![
                            mixed_case(self.rng, which),
                            format!("k{}", self.rng.below(4)).into_bytes(),
                        ]
                    }
                    Style::Expiry => {
                        let ms = *self.rng.pick(&["1", "10", "50", "200", "700"]);
                        let key = format!("k{}", self.rng.below(4)).into_bytes();
                        let unit = if self.rng.coin() { "PX" } else { "EX" };
                        let n = if unit == "EX" {
                            "1".as_bytes()
                        } else {
                            ms.as_bytes()
                        };
                        vec![
                            b"SET".to_vec(),
                            key,
                            b"3".to_vec(),
                            unit.as_bytes().to_vec(),
                            n.to_vec(),
                        ]
                    }
                    _ => self.kv_command(),
                };
                let inline = inline_safe(&args) && self.rng.chance(300_000);
                if inline {
                    let mut line = Vec::new();
                    if self.rng.below(4) == 0 {
                        line.extend_from_slice(b" \t");
                    }
                    for (k, a) in args.iter().enumerate() {
                        if k > 0 {
                            line.extend_from_slice(if self.rng.below(4) == 0 {
                                b"  \t"
                            } else {
                                b" "
                            });
                        }
                        line.extend_from_slice(a);
                    }
                    line.extend_from_slice(if self.rng.coin() { b"\r\n" } else { b"\n" });
                    s.bytes.extend_from_slice(&line);
                    if line.len() > recv {
                        (
                            KvWhat::ProtocolError(kv_model::TOO_LARGE),
                            true,
                            cmd_start + recv,
                        )
                    } else {
                        (KvWhat::Command(args), true, s.bytes.len())
                    }
                } else {
                    let framing = multibulk_framing(&args, recv);
                    s.bytes.extend_from_slice(&multibulk(&args));
                    match framing {
                        Framing::Command => (KvWhat::Command(args), false, s.bytes.len()),
                        Framing::BadBulk(at) => (
                            KvWhat::ProtocolError(kv_model::BAD_BULK_LENGTH),
                            false,
                            cmd_start + at,
                        ),
                        Framing::TooLarge => (
                            KvWhat::ProtocolError(kv_model::TOO_LARGE),
                            false,
                            cmd_start + recv,
                        ),
                    }
                }
            };
            let item = KvItem {
                start,
                cmd_start,
                nothing_unit,
                end: s.bytes.len(),
                due,
                what: if closed { KvWhat::Never } else { what },
                inline,
            };
            closed |= item.closes();
            s.kv.push(item);
        }
        if let Pace::Burst { max_chunk, gap_ms } = &mut s.pace
            && (s.bytes.len() / *max_chunk) as u64 * *gap_ms > 60_000
        {
            // A long script dripped slowly would take hours: it goes in bursts.
            *max_chunk = 1 << 20;
        }
        self.add_cuts_and_stalls(&mut s);
        if s.cut.is_none() && n > 0 && self.rng.chance(250_000) {
            // It writes everything, then half-closes at once without waiting for a reply (as
            // `redis-cli --pipe` does): what it sent is still owed.
            s.cut = Some(Cut::Eof(s.bytes.len()));
        }
        s
    }

    /// A key: mostly one of [`KEYS`] short ones, sometimes a long one.
    fn kv_key(&mut self) -> Vec<u8> {
        if self.rng.chance(50_000) {
            let len = self.rng.range_usize(40, 300);
            let mut key = b"long:".to_vec();
            key.extend((0..len).map(|i| b'a' + (i % 26) as u8));
            return key;
        }
        format!("k{}", self.rng.below(KEYS as u64)).into_bytes()
    }

    /// A value: short text, a number, binary bytes, or one about the value limit.
    fn kv_value(&mut self) -> Vec<u8> {
        let limit = max_value(self.config.send_buffer as usize);
        match self.rng.below(12) {
            0..=3 => {
                let len = self.rng.range_usize(1, 20);
                (0..len).map(|_| self.rng.range(0x21, 0x7e) as u8).collect()
            }
            4..=6 => self.kv_number(),
            7 => {
                let len = self.rng.range_usize(0, 40);
                (0..len).map(|_| self.rng.below(256) as u8).collect()
            }
            8 => Vec::new(),
            9 => {
                let len = self.rng.range_usize(100, limit);
                (0..len).map(|i| b'a' + (i % 26) as u8).collect()
            }
            _ => {
                let len = *self.rng.pick(&[limit, limit, limit + 1, limit - 1]);
                (0..len).map(|i| b'A' + (i % 26) as u8).collect()
            }
        }
    }

    /// Text `INCR` and its kin read: integers at and near the limits of an i64, and text that
    /// is not one.
    fn kv_number(&mut self) -> Vec<u8> {
        let n = *self.rng.pick(&[
            "0",
            "1",
            "-1",
            "42",
            "-17",
            "9223372036854775806",
            "9223372036854775807",
            "-9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "007",
            "-0",
            "+5",
            "1.5",
            "12abc",
            " 3",
            "123456789012345678901",
        ]);
        n.as_bytes().to_vec()
    }

    /// One command's arguments.
    fn kv_command(&mut self) -> Vec<Vec<u8>> {
        let name = |g: &mut Gen<'_>, n: &str| mixed_case(g.rng, n);
        let roll = self.rng.below(100);
        let mut args = match roll {
            0..=3 => {
                let mut a = vec![name(self, "PING")];
                if self.rng.coin() {
                    a.push(self.kv_value());
                }
                a
            }
            4..=6 => vec![name(self, "ECHO"), self.kv_value()],
            7..=19 => vec![name(self, "GET"), self.kv_key()],
            20..=39 => self.kv_set(),
            40..=44 => {
                let mut a = vec![name(self, "DEL")];
                for _ in 0..self.rng.range(1, 3) {
                    a.push(self.kv_key());
                }
                a
            }
            45..=48 => {
                let mut a = vec![name(self, "EXISTS")];
                for _ in 0..self.rng.range(1, 3) {
                    a.push(self.kv_key());
                }
                a
            }
            49..=58 => {
                let which = *self.rng.pick(&["INCR", "DECR", "INCRBY", "DECRBY"]);
                let mut a = vec![name(self, which), self.kv_key()];
                if which.ends_with("BY") {
                    a.push(self.kv_number());
                }
                a
            }
            59..=63 => {
                let mut a = vec![name(self, "MGET")];
                for _ in 0..self.rng.range(1, 4) {
                    a.push(self.kv_key());
                }
                a
            }
            64..=69 => {
                let mut a = vec![name(self, "MSET")];
                for _ in 0..self.rng.range(1, 3) {
                    a.push(self.kv_key());
                    a.push(self.kv_value());
                }
                a
            }
            70..=72 => vec![name(self, "DBSIZE")],
            73 => {
                let which = *self.rng.pick(&["FLUSHALL", "FLUSHDB"]);
                let mut a = vec![name(self, which)];
                match self.rng.below(4) {
                    0 => a.push(name(self, "ASYNC")),
                    1 => a.push(name(self, "SYNC")),
                    2 => a.push(b"NOW".to_vec()),
                    _ => {}
                }
                a
            }
            74..=82 => {
                let which = *self.rng.pick(&["TTL", "PTTL"]);
                vec![name(self, which), self.kv_key()]
            }
            83..=87 => {
                // Not a command of the store.
                // Its arguments are short: Redis and the module quote long ones cut
                // differently (at 128 bytes in all, at 64 each).
                let which = *self.rng.pick(&["HGET", "LPUSH", "FOO", "GETX"]);
                let mut a = vec![name(self, which)];
                for _ in 0..self.rng.range(0, 3) {
                    a.push(format!("k{}", self.rng.below(KEYS as u64)).into_bytes());
                }
                a
            }
            88..=96 => {
                // A wrong number of arguments.
                let (which, argc) = *self.rng.pick(&[
                    ("GET", 1usize),
                    ("GET", 3),
                    ("SET", 2),
                    ("ECHO", 1),
                    ("PING", 3),
                    ("DEL", 1),
                    ("INCR", 3),
                    ("INCRBY", 2),
                    ("MSET", 2),
                    ("MSET", 4),
                    ("MGET", 1),
                    ("DBSIZE", 2),
                    ("TTL", 1),
                    ("FLUSHALL", 3),
                ]);
                let mut a = vec![name(self, which)];
                for _ in 1..argc {
                    a.push(self.kv_key());
                }
                a
            }
            _ => vec![name(self, "QUIT")],
        };
        if args.len() == 1 && args[0].is_empty() {
            args[0] = b"PING".to_vec();
        }
        args
    }

    /// `SET key value` with options: an expiry (`EX`, `PX`, `KEEPTTL`), a condition (`NX`,
    /// `XX`), or one mistake (a bad number, a bad combination, an unknown option).
    fn kv_set(&mut self) -> Vec<Vec<u8>> {
        let mut a = vec![mixed_case(self.rng, "SET"), self.kv_key(), self.kv_value()];
        let opt = |g: &mut Gen<'_>, n: &str| mixed_case(g.rng, n);
        match self.rng.below(10) {
            0..=2 => {}
            3 => {
                a.push(opt(self, "EX"));
                a.push(self.rng.pick(&["1", "2", "5", "100"]).as_bytes().to_vec());
            }
            4 | 5 => {
                a.push(opt(self, "PX"));
                let ms = *self
                    .rng
                    .pick(&["1", "5", "20", "100", "500", "2000", "30000"]);
                a.push(ms.as_bytes().to_vec());
            }
            6 => a.push(opt(self, "KEEPTTL")),
            7 => {
                // A bad expiry: not a number, not positive, too large, or missing.
                let (o, v) = *self.rng.pick(&[
                    ("EX", Some("abc")),
                    ("PX", Some("1.5")),
                    ("EX", Some("0")),
                    ("PX", Some("-5")),
                    ("EX", Some("9223372036854776")),
                    ("EX", Some("99999999999999999999")),
                    ("PX", None),
                ]);
                a.push(opt(self, o));
                if let Some(v) = v {
                    a.push(v.as_bytes().to_vec());
                }
                return a;
            }
            8 => {
                // A bad combination or an unknown option.
                let bad = *self.rng.pick(&[
                    &["NX", "XX"][..],
                    &["EX", "1", "KEEPTTL"],
                    &["KEEPTTL", "PX", "5"],
                    &["PX", "5", "EX", "1"],
                    &["FOO"],
                ]);
                for o in bad {
                    a.push(opt(self, o));
                }
                return a;
            }
            _ => {
                a.push(opt(self, "PX"));
                a.push(b"50".to_vec());
            }
        }
        match self.rng.below(4) {
            0 => a.push(opt(self, "NX")),
            1 => a.push(opt(self, "XX")),
            _ => {}
        }
        a
    }
}
