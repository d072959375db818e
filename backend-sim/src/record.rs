//! Recordings of what a server was told, and their replay.
//!
//! A [`Recording`] is the configuration, the start time and every event a backend fed a
//! [`Server`], in order ([`Record`]): accepts, receives with their bytes, sends, failures,
//! closes, ticks, datagrams, the shutdown. The server is deterministic, so feeding the same
//! records into a fresh server with the same app reproduces every operation it asked for,
//! byte for byte. The simulator records its runs (`--record FILE`); the io_uring backend
//! records the completions it sees (`zzz_uring::Builder::record`, opt-in, into a bounded
//! buffer), so that a production incident replays as a test; [`replay`] feeds a recording
//! into a server and checks that the server asks for the operations the recording implies.
//!
//! ## Encoding
//!
//! The format and its one encoder live in the core ([`zzz_core::record`], whose docs describe
//! the bytes): [`Recording::encode`] writes with the core's [`Recorder`], as the io_uring
//! backend does; this module decodes.
//!
//! ## Services and handlers
//!
//! A recording numbers services, not functions: an accept's service is 0 for HTTP and `k > 0`
//! for the `k`-th raw-TCP service, which [`replay`] looks up as `tcp[k - 1]`; a datagram's
//! handler `h` is `udp[h]`. The io_uring backend numbers its TCP services in the order their
//! listeners were added and its UDP handlers in the order of their `listen_udp`; the
//! simulator has one of each ([`crate::app::tcp_lines`], [`crate::app::udp_pong`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use zzz_core::record::{self as format, Recorder};
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
    /// `turned_away()`.
    TurnedAway,
    /// `make_room(waiting)`.
    MakeRoom {
        /// Connections waiting.
        waiting: usize,
    },
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
    /// The recording stopped before the run did (its recorder's buffer was full): the
    /// records are the run's first events. A prefix replays like a whole run.
    pub truncated: bool,
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

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::BadMagic => write!(f, "it does not start with {:?}", "ZZZREC01"),
            DecodeError::Truncated => f.write_str("it ends in the middle of a record"),
            DecodeError::BadTag(t) => write!(f, "unknown record tag {t}"),
        }
    }
}

impl std::error::Error for DecodeError {}

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

impl Recording {
    /// The encoded recording, written by the core's encoder ([`Recorder`]), the very one the
    /// io_uring backend records with.
    pub fn encode(&self) -> Vec<u8> {
        let data = |r: &Record| match r {
            Record::Recv { data, .. } | Record::Datagram { data, .. } => data.len(),
            _ => 0,
        };
        let cap = format::HEADER_MAX
            + self
                .records
                .iter()
                .map(|r| format::RECORD_MAX + data(r))
                .sum::<usize>();
        let mut out = vec![0u8; cap];
        let (len, cut) = self
            .encode_into(&mut out)
            .expect("the buffer holds the header");
        assert!(!cut, "the buffer holds every record");
        out.truncate(len);
        out
    }

    /// Encodes into `buf` as a backend's bounded recorder would: the records that fit, in
    /// order, and when one does not, none after it and the truncated flag set. Returns the
    /// bytes written and whether records were left out.
    pub fn encode_into(&self, buf: &mut [u8]) -> Result<(usize, bool), format::TooSmall> {
        let mut rec = Recorder::new(buf, &self.config, self.start)?;
        for r in &self.records {
            match r {
                Record::Accept { service, slot } => rec.accept(*service, *slot),
                Record::Recv { slot, data } => rec.received(*slot, data),
                Record::Sent { slot, n } => rec.sent(*slot, *n as usize),
                Record::Failed { slot, op, error } => rec.failed(*slot, *op, *error),
                Record::Closed { slot } => rec.closed(*slot),
                Record::Tick {
                    monotonic,
                    unix_secs,
                } => rec.tick(Now {
                    monotonic: Instant(*monotonic),
                    unix_secs: *unix_secs,
                }),
                Record::Datagram {
                    handler,
                    data,
                    reply_cap,
                } => rec.datagram(*handler, data, *reply_cap as usize),
                Record::Shutdown => rec.shutdown(),
                Record::TurnedAway => rec.turned_away(),
                Record::MakeRoom { waiting } => rec.make_room(*waiting),
            }
        }
        let cut = rec.is_truncated();
        if self.truncated {
            rec.stop();
        }
        Ok((rec.len(), cut))
    }

    /// Decodes a recording, whoever wrote it.
    pub fn decode(bytes: &[u8]) -> Result<Recording, DecodeError> {
        if !bytes.starts_with(format::MAGIC) {
            return Err(DecodeError::BadMagic);
        }
        let mut r = Reader {
            b: bytes,
            pos: format::MAGIC.len(),
        };
        let mut f = [0u64; format::CONFIG_FIELDS];
        for v in &mut f {
            *v = r.u64()?;
        }
        let flags = r.u64()?;
        let start = Now {
            monotonic: Instant(r.u64()?),
            unix_secs: r.u64()?,
        };
        let mut records = Vec::new();
        while r.pos < bytes.len() {
            let tag = r.u8()?;
            records.push(match tag {
                format::tag::ACCEPT => Record::Accept {
                    service: r.u64()? as u8,
                    slot: match r.u64()? {
                        0 => None,
                        s => Some((s - 1) as SlotId),
                    },
                },
                format::tag::RECV => Record::Recv {
                    slot: r.u64()? as SlotId,
                    data: r.bytes()?,
                },
                format::tag::SENT => Record::Sent {
                    slot: r.u64()? as SlotId,
                    n: r.u64()? as u32,
                },
                format::tag::FAILED => Record::Failed {
                    slot: r.u64()? as SlotId,
                    op: format::op_of(r.u64()?),
                    error: format::error_of(r.u64()?),
                },
                format::tag::CLOSED => Record::Closed {
                    slot: r.u64()? as SlotId,
                },
                format::tag::TICK => Record::Tick {
                    monotonic: r.u64()?,
                    unix_secs: r.u64()?,
                },
                format::tag::DATAGRAM => {
                    let handler = r.u64()? as u8;
                    let reply_cap = r.u64()? as u32;
                    Record::Datagram {
                        handler,
                        data: r.bytes()?,
                        reply_cap,
                    }
                }
                format::tag::SHUTDOWN => Record::Shutdown,
                format::tag::TURNED_AWAY => Record::TurnedAway,
                format::tag::MAKE_ROOM => Record::MakeRoom {
                    waiting: r.u64()? as usize,
                },
                t => return Err(DecodeError::BadTag(t)),
            });
        }
        Ok(Recording {
            config: format::config_from_fields(&f),
            start,
            records,
            truncated: flags & format::flags::TRUNCATED != 0,
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
    /// Whether the recording was a prefix of its run ([`Recording::truncated`]).
    pub truncated: bool,
}

/// What a replayed server sent, as the recording's completions say it went out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// For each accepted connection, in the order of the accepts, the bytes sent on it: for
    /// every `sent(slot, n)`, the first `n` bytes of the send the server had posted. This is
    /// what the peer received, byte for byte.
    pub connections: Vec<Vec<u8>>,
    /// For each datagram, in order, the reply (`None`: no reply).
    pub replies: Vec<Option<Vec<u8>>>,
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
    /// The server panicked when told record `index`: the recording reproduces a crash.
    Panicked {
        /// Index of the record.
        index: usize,
        /// The panic's message and where it happened.
        message: String,
    },
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Build(e) => write!(f, "the server could not be built: {e}"),
            ReplayError::Diverged { index, what } => write!(f, "record {index}: {what}"),
            ReplayError::Panicked { index, message } => {
                write!(f, "the server panicked at record {index}: {message}")
            }
        }
    }
}

impl std::error::Error for ReplayError {}

/// Feeds `recording` into a fresh server running `app`. `tcp` and `udp` are the handler tables
/// the recording's service and handler numbers index (see the [module](self)). Checks as it
/// goes that every completion answers an operation the server posted, that a receive fits
/// the buffer posted for it, that a send sent no more than was posted and that accepts get
/// the recorded slots.
pub fn replay<S>(
    recording: &Recording,
    app: App<S>,
    tcp: &[TcpHandler<S>],
    udp: &[UdpHandler<S>],
) -> Result<ReplayReport, ReplayError> {
    replay_into(recording, app, tcp, udp, None)
}

/// [`replay`], and what the server sent on each connection and in reply to each datagram.
pub fn replay_transcript<S>(
    recording: &Recording,
    app: App<S>,
    tcp: &[TcpHandler<S>],
    udp: &[UdpHandler<S>],
) -> Result<(ReplayReport, Transcript), ReplayError> {
    let mut transcript = Transcript::default();
    let report = replay_into(recording, app, tcp, udp, Some(&mut transcript))?;
    Ok((report, transcript))
}

fn replay_into<S>(
    recording: &Recording,
    app: App<S>,
    tcp: &[TcpHandler<S>],
    udp: &[UdpHandler<S>],
    mut transcript: Option<&mut Transcript>,
) -> Result<ReplayReport, ReplayError> {
    let config = recording.config;
    config
        .validate()
        .map_err(|e| ReplayError::Build(e.to_string()))?;
    let mut region = vec![0u8; config.memory().total];
    let mut server = Server::new(config, app, &mut region, recording.start)
        .map_err(|e| ReplayError::Build(e.to_string()))?;
    let n = config.max_connections as usize;
    let mut recv_posted = vec![false; n];
    let mut send_posted = vec![false; n];
    let mut close_asked = vec![false; n];
    // Which accepted connection each slot holds, for the transcript.
    let mut connection = vec![usize::MAX; n];
    let mut digest = OutputDigest::default();
    let mut reply = Vec::new();
    let diverged = |index: usize, what: String| ReplayError::Diverged { index, what };
    // Which record is being fed, for a panic's report.
    let at = std::cell::Cell::new(0usize);
    let fed = catch_unwind(AssertUnwindSafe(|| -> Result<(), ReplayError> {
        for (index, record) in recording.records.iter().enumerate() {
            at.set(index);
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
                    if let (Some(t), Some(s)) = (transcript.as_deref_mut(), got) {
                        connection[s as usize] = t.connections.len();
                        t.connections.push(Vec::new());
                    }
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
                    let sent = *sent as usize;
                    let [first, second] = server.send_parts(*slot);
                    if sent > first.len() + second.len() {
                        return Err(diverged(
                            index,
                            format!(
                                "{sent} bytes sent of a send of {} bytes",
                                first.len() + second.len()
                            ),
                        ));
                    }
                    if let Some(t) = transcript.as_deref_mut()
                        && let Some(out) = t.connections.get_mut(connection[*slot as usize])
                    {
                        let k = sent.min(first.len());
                        out.extend_from_slice(&first[..k]);
                        out.extend_from_slice(&second[..sent - k]);
                    }
                    server.sent(*slot, sent);
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
                    if !slot_ok(*slot) || !close_asked[*slot as usize] {
                        return Err(diverged(
                            index,
                            format!("closed({slot}) on a slot the server did not close"),
                        ));
                    }
                    recv_posted[*slot as usize] = false;
                    send_posted[*slot as usize] = false;
                    close_asked[*slot as usize] = false;
                    connection[*slot as usize] = usize::MAX;
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
                    if let Some(t) = transcript.as_deref_mut() {
                        t.replies.push(r.map(|len| reply[..len].to_vec()));
                    }
                }
                Record::Shutdown => server.shutdown(),
                Record::TurnedAway => server.turned_away(),
                Record::MakeRoom { waiting } => server.make_room(*waiting),
            }
            while let Some(op) = server.poll_op() {
                match op {
                    Op::Recv(s) => recv_posted[s as usize] = true,
                    Op::Send(s) => send_posted[s as usize] = true,
                    Op::Close(s) => close_asked[s as usize] = true,
                    Op::Shutdown(_) => {}
                }
                let parts = if let Op::Send(s) = op {
                    server.send_parts(s)
                } else {
                    [&[][..], &[][..]]
                };
                digest.op(op, parts);
            }
        }
        Ok(())
    }));
    match fed {
        Ok(result) => result?,
        Err(panic) => {
            return Err(ReplayError::Panicked {
                index: at.get(),
                message: crate::sim::panic_message(&panic),
            });
        }
    }
    Ok(ReplayReport {
        digest: digest.value(),
        stats: *server.stats(),
        records: recording.records.len(),
        truncated: recording.truncated,
    })
}
