//! Recordings of what a server was told, and their replay.
//!
//! A [`Recording`] is the configuration, the start time and every event a backend fed a
//! [`Server`], in order ([`Record`]): accepts, receives with their bytes, sends, failures,
//! closes, ticks, datagrams, the shutdown. The server is deterministic, so feeding the same
//! records into a fresh server with the same app reproduces every operation it asked for,
//! byte for byte. The simulator writes its runs in this format; an io_uring backend can record
//! the completions it sees (into a bounded ring, opt-in) so that a production incident replays
//! as a test; [`replay`] feeds a recording into a server and checks that the server asks for
//! the operations the recording implies.
//!
//! ## Encoding
//!
//! Little-endian and compact: the magic `ZZZREC01`, the configuration as variable-length
//! integers in the order of [`config_fields`], the start time, then one tag byte per record
//! followed by its fields as variable-length integers (LEB128) and, for data, a length and the
//! bytes. Service and handler numbers index the tables the replayer is given.

use zzz_core::{
    App, Config, Instant, IoError, Now, Op, OpKind, PeerAddr, Server, Service, SlotId, Stats,
    TcpHandler, UdpHandler,
};

use crate::trace::Fnv;

/// One event a backend fed the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// `accept(service, peer)`: service 0 is HTTP, `n > 0` the `n-1`-th TCP handler; the slot
    /// it got, or `None` when refused.
    Accept {
        /// Which service.
        service: u8,
        /// The slot it got.
        slot: Option<SlotId>,
    },
    /// `received(slot, data.len())` after writing `data` into the receive buffer; empty is EOF.
    Recv {
        /// The slot.
        slot: SlotId,
        /// The bytes received.
        data: Vec<u8>,
    },
    /// `sent(slot, n)`.
    Sent {
        /// The slot.
        slot: SlotId,
        /// Bytes sent.
        n: u32,
    },
    /// `failed(slot, op, error)`.
    Failed {
        /// The slot.
        slot: SlotId,
        /// Which operation.
        op: OpKind,
        /// How.
        error: IoError,
    },
    /// `closed(slot)`.
    Closed {
        /// The slot.
        slot: SlotId,
    },
    /// `tick(now)`.
    Tick {
        /// Monotonic milliseconds.
        monotonic: u64,
        /// Wall-clock seconds.
        unix_secs: u64,
    },
    /// `datagram(handler, peer, data, reply)` with a reply buffer of `reply_cap` bytes.
    Datagram {
        /// Index of the UDP handler.
        handler: u8,
        /// The datagram.
        data: Vec<u8>,
        /// Size of the reply buffer.
        reply_cap: u32,
    },
    /// `shutdown()`.
    Shutdown,
}

/// A server's whole input: its configuration, start time and events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// The configuration the server was built with.
    pub config: Config,
    /// The time passed to `Server::new`.
    pub start: Now,
    /// The events, in order.
    pub records: Vec<Record>,
}

const MAGIC: &[u8; 8] = b"ZZZREC01";

/// The configuration's fields in encoding order.
pub fn config_fields(c: &Config) -> [u64; 19] {
    [
        c.max_connections as u64,
        c.recv_buffer as u64,
        c.send_buffer as u64,
        c.large_buffers as u64,
        c.large_buffer_size as u64,
        c.max_requests_per_connection as u64,
        c.timer_tick_ms as u64,
        c.limits.max_request_line as u64,
        c.limits.max_head as u64,
        c.limits.max_headers as u64,
        c.limits.max_body as u64,
        c.limits.max_chunk_extensions as u64,
        c.limits.max_trailers as u64,
        c.timeouts.head_ms,
        c.timeouts.body_idle_ms,
        c.timeouts.keep_alive_ms,
        c.timeouts.send_stall_ms,
        c.timeouts.linger_ms,
        0,
    ]
}

fn config_from(f: &[u64; 19]) -> Config {
    let mut c = Config::DEFAULT;
    c.max_connections = f[0] as u32;
    c.recv_buffer = f[1] as u32;
    c.send_buffer = f[2] as u32;
    c.large_buffers = f[3] as u32;
    c.large_buffer_size = f[4] as u32;
    c.max_requests_per_connection = f[5] as u32;
    c.timer_tick_ms = f[6] as u32;
    c.limits.max_request_line = f[7] as u16;
    c.limits.max_head = f[8] as u16;
    c.limits.max_headers = f[9] as u16;
    c.limits.max_body = f[10] as u32;
    c.limits.max_chunk_extensions = f[11] as u16;
    c.limits.max_trailers = f[12] as u16;
    c.timeouts.head_ms = f[13];
    c.timeouts.body_idle_ms = f[14];
    c.timeouts.keep_alive_ms = f[15];
    c.timeouts.send_stall_ms = f[16];
    c.timeouts.linger_ms = f[17];
    c
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Why a recording could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// It does not start with the magic.
    BadMagic,
    /// It ends in the middle of a record.
    Truncated,
    /// An unknown record tag.
    BadTag(u8),
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let v = *self.b.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(v)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::Truncated)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u64()? as usize;
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let v = self
            .b
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?
            .to_vec();
        self.pos = end;
        Ok(v)
    }
}

fn op_code(op: OpKind) -> u64 {
    match op {
        OpKind::Recv => 0,
        OpKind::Send => 1,
    }
}

impl Recording {
    /// The encoded recording.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for f in config_fields(&self.config) {
            put(&mut out, f);
        }
        put(&mut out, self.start.monotonic.0);
        put(&mut out, self.start.unix_secs);
        for r in &self.records {
            match r {
                Record::Accept { service, slot } => {
                    out.push(1);
                    put(&mut out, *service as u64);
                    put(&mut out, slot.map_or(0, |s| s as u64 + 1));
                }
                Record::Recv { slot, data } => {
                    out.push(2);
                    put(&mut out, *slot as u64);
                    put(&mut out, data.len() as u64);
                    out.extend_from_slice(data);
                }
                Record::Sent { slot, n } => {
                    out.push(3);
                    put(&mut out, *slot as u64);
                    put(&mut out, *n as u64);
                }
                Record::Failed { slot, op, error } => {
                    out.push(4);
                    put(&mut out, *slot as u64);
                    put(&mut out, op_code(*op));
                    put(&mut out, matches!(error, IoError::Broken) as u64);
                }
                Record::Closed { slot } => {
                    out.push(5);
                    put(&mut out, *slot as u64);
                }
                Record::Tick {
                    monotonic,
                    unix_secs,
                } => {
                    out.push(6);
                    put(&mut out, *monotonic);
                    put(&mut out, *unix_secs);
                }
                Record::Datagram {
                    handler,
                    data,
                    reply_cap,
                } => {
                    out.push(7);
                    put(&mut out, *handler as u64);
                    put(&mut out, *reply_cap as u64);
                    put(&mut out, data.len() as u64);
                    out.extend_from_slice(data);
                }
                Record::Shutdown => out.push(8),
            }
        }
        out
    }

    /// Decodes what [`Recording::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Recording, DecodeError> {
        if !bytes.starts_with(MAGIC) {
            return Err(DecodeError::BadMagic);
        }
        let mut r = Reader {
            b: bytes,
            pos: MAGIC.len(),
        };
        let mut f = [0u64; 19];
        for v in &mut f {
            *v = r.u64()?;
        }
        let start = Now {
            monotonic: Instant(r.u64()?),
            unix_secs: r.u64()?,
        };
        let mut records = Vec::new();
        while r.pos < bytes.len() {
            let tag = r.u8()?;
            records.push(match tag {
                1 => Record::Accept {
                    service: r.u64()? as u8,
                    slot: match r.u64()? {
                        0 => None,
                        s => Some((s - 1) as SlotId),
                    },
                },
                2 => Record::Recv {
                    slot: r.u64()? as SlotId,
                    data: r.bytes()?,
                },
                3 => Record::Sent {
                    slot: r.u64()? as SlotId,
                    n: r.u64()? as u32,
                },
                4 => Record::Failed {
                    slot: r.u64()? as SlotId,
                    op: if r.u64()? == 0 {
                        OpKind::Recv
                    } else {
                        OpKind::Send
                    },
                    error: if r.u64()? == 0 {
                        IoError::Retry
                    } else {
                        IoError::Broken
                    },
                },
                5 => Record::Closed {
                    slot: r.u64()? as SlotId,
                },
                6 => Record::Tick {
                    monotonic: r.u64()?,
                    unix_secs: r.u64()?,
                },
                7 => {
                    let handler = r.u64()? as u8;
                    let reply_cap = r.u64()? as u32;
                    Record::Datagram {
                        handler,
                        data: r.bytes()?,
                        reply_cap,
                    }
                }
                8 => Record::Shutdown,
                t => return Err(DecodeError::BadTag(t)),
            });
        }
        Ok(Recording {
            config: config_from(&f),
            start,
            records,
        })
    }
}

/// A hash of everything a server asked for: each operation, the bytes of each send as posted,
/// each datagram reply. Two servers fed the same records have the same digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputDigest(pub Fnv);

impl OutputDigest {
    /// Notes an operation; for a send, `parts` are its bytes as posted.
    pub fn op(&mut self, op: Op, parts: [&[u8]; 2]) {
        let (tag, slot) = match op {
            Op::Recv(s) => (1, s),
            Op::Send(s) => (2, s),
            Op::Shutdown(s) => (3, s),
            Op::Close(s) => (4, s),
        };
        self.0.u64(tag);
        self.0.u64(slot as u64);
        if let Op::Send(_) = op {
            let n = parts[0].len() + parts[1].len();
            self.0.u64(n as u64);
            self.0.bytes(parts[0]);
            self.0.bytes(parts[1]);
        }
    }

    /// Notes an accept's result.
    pub fn accept(&mut self, slot: Option<SlotId>) {
        self.0.u64(5);
        self.0.u64(slot.map_or(u64::MAX, |s| s as u64));
    }

    /// Notes a datagram's reply.
    pub fn reply(&mut self, reply: Option<&[u8]>) {
        self.0.u64(6);
        match reply {
            Some(r) => {
                self.0.u64(r.len() as u64);
                self.0.bytes(r);
            }
            None => self.0.u64(u64::MAX),
        }
    }

    /// The digest.
    pub fn value(&self) -> u64 {
        self.0.0
    }
}

/// What a replay produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// The digest of the server's operations.
    pub digest: u64,
    /// The server's counters at the end.
    pub stats: Stats,
    /// Records fed.
    pub records: usize,
}

/// Why a replay stopped: the recording does not fit what the server asks for (it was taken
/// with another configuration, app or version of the core).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The configuration is invalid or the server could not be built.
    Build(String),
    /// Record `index` does not match the server's state; the text says how.
    Diverged {
        /// Index of the record.
        index: usize,
        /// What did not match.
        what: String,
    },
}

/// Feeds `recording` into a fresh server running `app`. `tcp` and `udp` are the handler tables
/// the recording's service and handler numbers index. Checks as it goes that every completion
/// answers an operation the server posted and that accepts get the recorded slots.
pub fn replay<S>(
    recording: &Recording,
    app: App<S>,
    tcp: &[TcpHandler<S>],
    udp: &[UdpHandler<S>],
) -> Result<ReplayReport, ReplayError> {
    let config = recording.config;
    let mut region = vec![0u8; config.memory().total];
    let mut server = Server::new(config, app, &mut region, recording.start)
        .map_err(|e| ReplayError::Build(e.to_string()))?;
    let n = config.max_connections as usize;
    let mut recv_posted = vec![false; n];
    let mut send_posted = vec![false; n];
    let mut digest = OutputDigest::default();
    let mut reply = Vec::new();
    let diverged = |index: usize, what: String| ReplayError::Diverged { index, what };
    for (index, record) in recording.records.iter().enumerate() {
        let slot_ok = |s: SlotId| (s as usize) < n;
        match record {
            Record::Accept { service, slot } => {
                let service = match *service {
                    0 => Service::Http,
                    k => Service::Tcp(
                        *tcp.get(k as usize - 1)
                            .ok_or_else(|| diverged(index, format!("no TCP handler {k}")))?,
                    ),
                };
                let got = server.accept(service, PeerAddr::Local).ok();
                if got != *slot {
                    return Err(diverged(
                        index,
                        format!("accept got slot {got:?}, the recording {slot:?}"),
                    ));
                }
                digest.accept(got);
            }
            Record::Recv { slot, data } => {
                if !slot_ok(*slot) || !recv_posted[*slot as usize] {
                    return Err(diverged(
                        index,
                        format!("a receive on slot {slot} not posted"),
                    ));
                }
                recv_posted[*slot as usize] = false;
                let buf = server.recv_buffer(*slot);
                if data.len() > buf.len() {
                    return Err(diverged(
                        index,
                        format!(
                            "{} bytes received into {} bytes of room",
                            data.len(),
                            buf.len()
                        ),
                    ));
                }
                buf[..data.len()].copy_from_slice(data);
                server.received(*slot, data.len());
            }
            Record::Sent { slot, n: sent } => {
                if !slot_ok(*slot) || !send_posted[*slot as usize] {
                    return Err(diverged(index, format!("a send on slot {slot} not posted")));
                }
                send_posted[*slot as usize] = false;
                server.sent(*slot, *sent as usize);
            }
            Record::Failed { slot, op, error } => {
                let posted = match op {
                    OpKind::Recv => recv_posted.get_mut(*slot as usize),
                    OpKind::Send => send_posted.get_mut(*slot as usize),
                };
                match posted {
                    Some(p) if *p => *p = false,
                    _ => {
                        return Err(diverged(
                            index,
                            format!("a failed {op:?} on slot {slot} not posted"),
                        ));
                    }
                }
                server.failed(*slot, *op, *error);
            }
            Record::Closed { slot } => {
                if !slot_ok(*slot) {
                    return Err(diverged(index, format!("closed({slot}) out of range")));
                }
                recv_posted[*slot as usize] = false;
                send_posted[*slot as usize] = false;
                server.closed(*slot);
            }
            Record::Tick {
                monotonic,
                unix_secs,
            } => server.tick(Now {
                monotonic: Instant(*monotonic),
                unix_secs: *unix_secs,
            }),
            Record::Datagram {
                handler,
                data,
                reply_cap,
            } => {
                let h = *udp
                    .get(*handler as usize)
                    .ok_or_else(|| diverged(index, format!("no UDP handler {handler}")))?;
                reply.clear();
                reply.resize(*reply_cap as usize, 0);
                let r = server.datagram(h, PeerAddr::Local, data, &mut reply);
                digest.reply(r.map(|len| &reply[..len]));
            }
            Record::Shutdown => server.shutdown(),
        }
        while let Some(op) = server.poll_op() {
            match op {
                Op::Recv(s) => recv_posted[s as usize] = true,
                Op::Send(s) => send_posted[s as usize] = true,
                Op::Shutdown(_) | Op::Close(_) => {}
            }
            let parts = if let Op::Send(s) = op {
                server.send_parts(s)
            } else {
                [&[][..], &[][..]]
            };
            digest.op(op, parts);
        }
    }
    Ok(ReplayReport {
        digest: digest.value(),
        stats: *server.stats(),
        records: recording.records.len(),
    })
}
