//! Recordings of what a server was told, and their replay.
//!
//! A [`Recording`] is the configuration, the start time and every [`Event`] a backend fed a
//! [`Server`], in order ([`Record`]): accepts, receives with their bytes, sends, failures,
//! closes, ticks, datagrams with their bytes, replies sent, the overload events, the shutdown.
//! The server is deterministic, so feeding the same records into a fresh server with the same
//! app reproduces every operation it asked for, byte for byte. The simulator records its runs
//! (`--record FILE`); the io_uring backend records the completions it sees
//! (`zzz_uring::Builder::record`, opt-in, into a bounded buffer), so that a production
//! incident replays as a test; [`replay`] feeds a recording into a server and checks that the
//! server asks for the operations the recording implies.
//!
//! ## Encoding
//!
//! The format, its one encoder and its one decoder live in the core ([`zzz_core::record`],
//! whose docs describe the bytes): [`Recording::encode`] writes with the core's [`Recorder`],
//! as the io_uring backend does, and [`Recording::decode`] reads with its [`Decoder`]. A
//! [`Record`] is the owned form of what the decoder yields.
//!
//! ## Protocols
//!
//! A recording numbers protocols as the app's set does ([`Protocols::id_index`]): [`replay`]
//! serves a recorded accept or datagram with the protocol of that number in the app it is
//! given, and a number the set lacks is a divergence. The simulator's set
//! ([`crate::app::SimModules`]) numbers HTTP 0, its raw-TCP line protocol 1, its UDP pong 2,
//! the key-value store 3, the WebSocket room 4 and the MQTT broker 5; an HTTP-only app has
//! HTTP alone, as 0, so a recording of the bench contract replays in either.

use std::panic::{AssertUnwindSafe, catch_unwind};

use zzz_core::record::{self as format, Decoder, Recorded, Recorder};
use zzz_core::{
    App, Config, Event, Handled, NewError, Now, Op, OpKind, PeerAddr, Protocols, Server, SlotId,
    Stats,
};

pub use zzz_core::record::DecodeError;

use crate::panics::panic_message;
use crate::trace::Fnv;

/// One event a backend told the server, as a recording holds it: the core's [`Recorded`],
/// owning its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The event; protocols by number ([`Protocols::id_index`]), peers
    /// [`PeerAddr::Local`] (the format does not record them).
    pub event: Event<u8>,
    /// The bytes a `Received` (empty: EOF) or a `Datagram` brought; empty otherwise.
    pub data: Vec<u8>,
    /// For `Accepted`: the slot it got (`None`: refused).
    pub accepted: Option<SlotId>,
}

impl Record {
    /// A record of `event`, which brings no bytes (for `Accepted`, the slot is filled in
    /// once the server has answered).
    pub fn new(event: Event<u8>) -> Record {
        Record::with_data(event, Vec::new())
    }

    /// A record of `event` and the bytes it brought (a receive's, a datagram's).
    pub fn with_data(event: Event<u8>, data: Vec<u8>) -> Record {
        Record {
            event: without_peer(event),
            data,
            accepted: None,
        }
    }
}

impl From<Recorded<'_>> for Record {
    fn from(r: Recorded<'_>) -> Record {
        Record {
            event: r.event,
            data: r.data.to_vec(),
            accepted: r.accepted,
        }
    }
}

/// `event` as the format keeps it: its peer, which is not recorded, is [`PeerAddr::Local`].
fn without_peer(event: Event<u8>) -> Event<u8> {
    match event {
        Event::Accepted { protocol, .. } => Event::Accepted {
            protocol,
            peer: PeerAddr::Local,
        },
        Event::Datagram {
            protocol,
            origin,
            n,
            ..
        } => Event::Datagram {
            protocol,
            origin,
            peer: PeerAddr::Local,
            n,
        },
        other => other,
    }
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

impl Recording {
    /// The encoded recording, written by the core's encoder ([`Recorder`]), the very one the
    /// io_uring backend records with.
    pub fn encode(&self) -> Vec<u8> {
        let cap = format::HEADER_MAX
            + self
                .records
                .iter()
                .map(|r| format::RECORD_MAX + r.data.len())
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
            rec.record(r.event, &r.data, r.accepted);
        }
        let cut = rec.is_truncated();
        if self.truncated {
            rec.stop();
        }
        Ok((rec.len(), cut))
    }

    /// Decodes a recording, whoever wrote it, with the core's [`Decoder`].
    pub fn decode(bytes: &[u8]) -> Result<Recording, DecodeError> {
        let (header, decoder) = Decoder::new(bytes)?;
        let records = decoder
            .map(|r| r.map(Record::from))
            .collect::<Result<Vec<Record>, DecodeError>>()?;
        Ok(Recording {
            config: header.config,
            start: header.start,
            records,
            truncated: header.truncated,
        })
    }
}

/// A hash of everything a server asked for: each operation, the bytes of each send as posted,
/// the bytes of each datagram reply. Two servers fed the same records have the same digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputDigest(pub Fnv);

impl OutputDigest {
    /// Notes an operation; for a send, `parts` are its bytes as posted, for a datagram
    /// reply its bytes (in `parts[0]`).
    pub fn op(&mut self, op: Op, parts: [&[u8]; 2]) {
        let (tag, id) = match op {
            Op::Recv(s) => (1, s),
            Op::Send(s) => (2, s),
            Op::Shutdown(s) => (3, s),
            Op::Close(s) => (4, s),
            Op::SendDatagram(r) => (6, r as u32),
        };
        self.0.u64(tag);
        self.0.u64(id as u64);
        if let Op::Send(_) | Op::SendDatagram(_) = op {
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
    /// every `Sent { n }`, the first `n` bytes of the send the server had posted. This is
    /// what the peer received, byte for byte.
    pub connections: Vec<Vec<u8>>,
    /// Every datagram reply the server handed out, in order.
    pub replies: Vec<Vec<u8>>,
}

/// How a record contradicts the server it is fed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divergence {
    /// An accept or a datagram names a protocol number the app's set does not have.
    NoProtocol(u8),
    /// An accept got another slot than the recorded one (`None`: refused).
    AcceptedSlot {
        /// What the server gave.
        got: Option<SlotId>,
        /// What the recording says.
        recorded: Option<SlotId>,
    },
    /// A completion or failure of an operation the server had not posted on the slot.
    NotPosted {
        /// Which operation.
        op: OpKind,
        /// The slot.
        slot: SlotId,
    },
    /// A receive brought more bytes than its posted buffer holds.
    ReceivedTooMuch {
        /// Bytes received.
        n: usize,
        /// Bytes of room.
        room: usize,
    },
    /// A send sent more bytes than were posted.
    SentTooMuch {
        /// Bytes sent.
        n: usize,
        /// Bytes posted.
        posted: usize,
    },
    /// A close reported on a slot the server had not asked to close.
    NotClosing(SlotId),
    /// A datagram longer than the server's datagram buffer (a backend drops those).
    DatagramTooLong {
        /// Its length.
        n: usize,
        /// The buffer's.
        room: usize,
    },
    /// A reply reported sent that the server had not handed out.
    ReplyNotPosted(u16),
    /// A message from outside longer than the server's publish buffer (a backend refuses
    /// those).
    PublishTooLong {
        /// Its length.
        n: usize,
        /// The buffer's.
        room: usize,
    },
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::NoProtocol(p) => write!(f, "the app serves no protocol number {p}"),
            Divergence::AcceptedSlot { got, recorded } => {
                write!(f, "accept got slot {got:?}, the recording {recorded:?}")
            }
            Divergence::NotPosted { op, slot } => {
                write!(
                    f,
                    "a completed {op:?} on slot {slot}, which had none posted"
                )
            }
            Divergence::ReceivedTooMuch { n, room } => {
                write!(f, "{n} bytes received into {room} bytes of room")
            }
            Divergence::SentTooMuch { n, posted } => {
                write!(f, "{n} bytes sent of a send of {posted} bytes")
            }
            Divergence::NotClosing(slot) => {
                write!(f, "slot {slot} closed, which the server did not close")
            }
            Divergence::DatagramTooLong { n, room } => {
                write!(f, "a datagram of {n} bytes for a buffer of {room}")
            }
            Divergence::ReplyNotPosted(r) => write!(f, "reply {r} sent, which was not handed out"),
            Divergence::PublishTooLong { n, room } => {
                write!(f, "a message of {n} bytes for a publish buffer of {room}")
            }
        }
    }
}

/// Why a replay stopped: the recording does not fit what the server asks for (it was taken
/// with another configuration, app or version of the core), or it reproduces a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The configuration is invalid or the server could not be built.
    Build(NewError),
    /// Record `index` does not match the server's state.
    Diverged {
        /// Index of the record.
        index: usize,
        /// How.
        what: Divergence,
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

/// Feeds `recording` into a fresh server running `app`, whose protocol set the recording's
/// protocol numbers index (see the [module](self)). Checks as it goes that every completion
/// answers an operation the server posted, that a receive fits the buffer posted for it, that
/// a send sent no more than was posted and that accepts get the recorded slots.
pub fn replay<S, P: Protocols<S>>(
    recording: &Recording,
    app: App<S, P>,
) -> Result<ReplayReport, ReplayError> {
    replay_into(recording, app, None)
}

/// [`replay`], and what the server sent on each connection and in reply to datagrams.
pub fn replay_transcript<S, P: Protocols<S>>(
    recording: &Recording,
    app: App<S, P>,
) -> Result<(ReplayReport, Transcript), ReplayError> {
    let mut transcript = Transcript::default();
    let report = replay_into(recording, app, Some(&mut transcript))?;
    Ok((report, transcript))
}

fn replay_into<S, P: Protocols<S>>(
    recording: &Recording,
    app: App<S, P>,
    transcript: Option<&mut Transcript>,
) -> Result<ReplayReport, ReplayError> {
    let config = recording.config;
    config
        .validate()
        .map_err(|e| ReplayError::Build(NewError::Config(e)))?;
    let mut region = vec![0u8; app.memory(&config).total];
    let server =
        Server::new(config, app, &mut region, recording.start).map_err(ReplayError::Build)?;
    Replayer::new(server).run(recording, transcript)
}

/// A server being fed a recording, and what it has posted.
struct Replayer<'m, S: 'static, P: Protocols<S>> {
    server: Server<'m, S, P>,
    recv_posted: Vec<bool>,
    send_posted: Vec<bool>,
    close_asked: Vec<bool>,
    reply_posted: Vec<bool>,
    /// Which accepted connection each slot holds, for the transcript.
    connection: Vec<usize>,
    digest: OutputDigest,
}

impl<'m, S, P: Protocols<S>> Replayer<'m, S, P> {
    fn new(server: Server<'m, S, P>) -> Self {
        let config = *server.config();
        let n = config.max_connections as usize;
        Replayer {
            server,
            recv_posted: vec![false; n],
            send_posted: vec![false; n],
            close_asked: vec![false; n],
            reply_posted: vec![false; config.datagram_replies as usize],
            connection: vec![usize::MAX; n],
            digest: OutputDigest::default(),
        }
    }

    fn run(
        mut self,
        recording: &Recording,
        mut transcript: Option<&mut Transcript>,
    ) -> Result<ReplayReport, ReplayError> {
        // Which record is being fed, for a panic's report.
        let at = std::cell::Cell::new(0usize);
        let fed = catch_unwind(AssertUnwindSafe(|| -> Result<(), ReplayError> {
            for (index, record) in recording.records.iter().enumerate() {
                at.set(index);
                self.feed(record, transcript.as_deref_mut())
                    .map_err(|what| ReplayError::Diverged { index, what })?;
                self.drain(transcript.as_deref_mut());
            }
            Ok(())
        }));
        match fed {
            Ok(result) => result?,
            Err(panic) => {
                return Err(ReplayError::Panicked {
                    index: at.get(),
                    message: panic_message(&panic),
                });
            }
        }
        Ok(ReplayReport {
            digest: self.digest.value(),
            stats: *self.server.stats(),
            records: recording.records.len(),
            truncated: recording.truncated,
        })
    }

    /// Tells the server one record, after checking it against what the server posted.
    fn feed(
        &mut self,
        record: &Record,
        transcript: Option<&mut Transcript>,
    ) -> Result<(), Divergence> {
        let protocol = |p: u8| P::id_from_index(p).ok_or(Divergence::NoProtocol(p));
        let n = self.recv_posted.len();
        let event = match record.event {
            Event::Accepted { protocol: p, peer } => {
                let event = Event::Accepted {
                    protocol: protocol(p)?,
                    peer,
                };
                let got = match self.server.handle(event) {
                    Handled::Accepted(slot) => Some(slot),
                    _ => None,
                };
                if got != record.accepted {
                    return Err(Divergence::AcceptedSlot {
                        got,
                        recorded: record.accepted,
                    });
                }
                self.digest.accept(got);
                if let (Some(t), Some(s)) = (transcript, got) {
                    self.connection[s as usize] = t.connections.len();
                    t.connections.push(Vec::new());
                }
                return Ok(());
            }
            Event::Received { slot, .. } => {
                let op = OpKind::Recv;
                if slot as usize >= n || !self.recv_posted[slot as usize] {
                    return Err(Divergence::NotPosted { op, slot });
                }
                self.recv_posted[slot as usize] = false;
                let buf = self.server.recv_buffer(slot);
                let data = &record.data;
                if data.len() > buf.len() {
                    let room = buf.len();
                    return Err(Divergence::ReceivedTooMuch {
                        n: data.len(),
                        room,
                    });
                }
                buf[..data.len()].copy_from_slice(data);
                Event::Received {
                    slot,
                    n: data.len(),
                }
            }
            Event::Sent { slot, n: sent } => {
                let op = OpKind::Send;
                if slot as usize >= n || !self.send_posted[slot as usize] {
                    return Err(Divergence::NotPosted { op, slot });
                }
                self.send_posted[slot as usize] = false;
                let [first, second] = self.server.send_parts(slot);
                let posted = first.len() + second.len();
                if sent > posted {
                    return Err(Divergence::SentTooMuch { n: sent, posted });
                }
                if let Some(t) = transcript
                    && let Some(out) = t.connections.get_mut(self.connection[slot as usize])
                {
                    let k = sent.min(first.len());
                    out.extend_from_slice(&first[..k]);
                    out.extend_from_slice(&second[..sent - k]);
                }
                Event::Sent { slot, n: sent }
            }
            Event::Failed { slot, op, error } => {
                let posted = match op {
                    OpKind::Recv => self.recv_posted.get_mut(slot as usize),
                    OpKind::Send => self.send_posted.get_mut(slot as usize),
                };
                match posted {
                    Some(p) if *p => *p = false,
                    _ => return Err(Divergence::NotPosted { op, slot }),
                }
                Event::Failed { slot, op, error }
            }
            Event::Closed { slot } => {
                if slot as usize >= n || !self.close_asked[slot as usize] {
                    return Err(Divergence::NotClosing(slot));
                }
                let i = slot as usize;
                self.recv_posted[i] = false;
                self.send_posted[i] = false;
                self.close_asked[i] = false;
                self.connection[i] = usize::MAX;
                Event::Closed { slot }
            }
            Event::Datagram {
                protocol: p,
                origin,
                peer,
                ..
            } => {
                let id = protocol(p)?;
                let buf = self.server.datagram_buffer();
                let data = &record.data;
                if data.len() > buf.len() {
                    let room = buf.len();
                    return Err(Divergence::DatagramTooLong {
                        n: data.len(),
                        room,
                    });
                }
                buf[..data.len()].copy_from_slice(data);
                Event::Datagram {
                    protocol: id,
                    origin,
                    peer,
                    n: data.len(),
                }
            }
            Event::DatagramSent { reply } => {
                match self.reply_posted.get_mut(reply as usize) {
                    Some(p) if *p => *p = false,
                    _ => return Err(Divergence::ReplyNotPosted(reply)),
                }
                Event::DatagramSent { reply }
            }
            Event::Publish { topic, .. } => {
                let buf = self.server.publish_buffer();
                let data = &record.data;
                if data.len() > buf.len() {
                    let room = buf.len();
                    return Err(Divergence::PublishTooLong {
                        n: data.len(),
                        room,
                    });
                }
                buf[..data.len()].copy_from_slice(data);
                Event::Publish {
                    topic,
                    n: data.len(),
                }
            }
            Event::Tick(now) => Event::Tick(now),
            Event::MakeRoom { waiting } => Event::MakeRoom { waiting },
            Event::TurnedAway => Event::TurnedAway,
            Event::Shutdown => Event::Shutdown,
        };
        let _ = self.server.handle(event);
        Ok(())
    }

    /// Takes the operations the server asks for, noting what each posts. At most
    /// [`Server::op_budget`] of them: nothing is reported to the server meanwhile.
    fn drain(&mut self, mut transcript: Option<&mut Transcript>) {
        for _ in 0..self.server.op_budget() {
            let Some(op) = self.server.poll_op() else {
                return;
            };
            let parts = match op {
                Op::Recv(s) => {
                    self.recv_posted[s as usize] = true;
                    [&[][..], &[][..]]
                }
                Op::Send(s) => {
                    self.send_posted[s as usize] = true;
                    self.server.send_parts(s)
                }
                Op::Close(s) => {
                    self.close_asked[s as usize] = true;
                    [&[][..], &[][..]]
                }
                Op::Shutdown(_) => [&[][..], &[][..]],
                Op::SendDatagram(r) => {
                    self.reply_posted[r as usize] = true;
                    let data = self.server.datagram_reply(r).data;
                    if let Some(t) = transcript.as_deref_mut() {
                        t.replies.push(data.to_vec());
                    }
                    [data, &[][..]]
                }
            };
            self.digest.op(op, parts);
        }
        panic!("the server handed out more operations than its op_budget in one drain");
    }
}
