//! Recordings of what a server was told: the format, and its encoder.
//!
//! The [`Server`](crate::Server) is deterministic: fed the same events from the same start,
//! with the same app, it asks for the same operations, byte for byte. So a recording of its
//! inputs — the configuration, the start time and every event in order — is a test: a
//! replayer feeds it into a fresh server and gets the very same run. The io_uring backend
//! records what its completions told the server (opt-in), the simulator records its runs, and
//! the simulator's replayer (`zzz_sim::record`) decodes and replays either.
//!
//! This module is the one encoder: a [`Recorder`] appends records to a buffer the caller
//! provides, with one method per event of the server, and allocates nothing.
//!
//! ## Bounded: a recording is a prefix
//!
//! When the next record does not fit in what is left of the buffer, the recorder stops: it
//! writes nothing more and marks the recording truncated (the [`flags::TRUNCATED`] bit of the
//! header). What it holds is then the run's first events, whole records only. That is still
//! a valid recording: replaying a prefix of a deterministic run reproduces that prefix of the
//! run. A ring that overwrote the oldest records would keep the end of the run instead, but
//! the end cannot be replayed without the server's state at its beginning, which a recording
//! of inputs does not have; so the buffer keeps the beginning. Size it for the traffic to
//! capture.
//!
//! ## Encoding
//!
//! Every integer is an unsigned LEB128 variable-length integer (7 bits a byte, low bits first,
//! the high bit set on every byte but the last).
//!
//! - The magic [`MAGIC`], `ZZZREC02` (`01` lacked the overload fields and `turned_away`).
//! - The configuration: the [`CONFIG_FIELDS`] integers of [`config_fields`], in that order.
//! - The flags ([`flags`]): bit 0 set when the recording was truncated. Always one byte (the
//!   recorder patches it in place when it stops).
//! - The start time passed to `Server::new`: monotonic milliseconds, then Unix seconds.
//! - The records, each a tag byte ([`tag`]) and its fields:
//!
//! | tag | event | fields |
//! |---|---|---|
//! | 1 | `accept` | service (0: HTTP, `k > 0`: the `k`-th TCP service), slot + 1 (0: refused) |
//! | 2 | `received` | slot, length, the bytes (length 0: EOF) |
//! | 3 | `sent` | slot, bytes sent |
//! | 4 | `failed` | slot, operation (0 receive, 1 send), error (0 retry, 1 broken) |
//! | 5 | `closed` | slot |
//! | 6 | `tick` | monotonic milliseconds, Unix seconds |
//! | 7 | `datagram` | UDP handler index, reply buffer size, length, the bytes |
//! | 8 | `shutdown` | — |
//! | 9 | `turned_away` | — |
//! | 10 | `make_room` | connections waiting |
//!
//! Peer addresses are not recorded: a replay passes [`PeerAddr::Local`](crate::PeerAddr) for
//! every connection and datagram.

use crate::config::Config;
use crate::server::{IoError, OpKind, SlotId};
use crate::time::Now;

/// The first eight bytes of every recording.
pub const MAGIC: &[u8; 8] = b"ZZZREC02";

/// How many integers encode the configuration.
pub const CONFIG_FIELDS: usize = 21;

/// The most bytes one LEB128 integer of 64 bits takes.
pub const MAX_VARINT: usize = 10;

/// The most bytes a header takes: magic, configuration, flags, start time.
pub const HEADER_MAX: usize = MAGIC.len() + (CONFIG_FIELDS + 3) * MAX_VARINT;

/// The most bytes a record takes besides its data: a tag and three integers.
pub const RECORD_MAX: usize = 1 + 3 * MAX_VARINT;

// A record's fixed part is built in a header-sized scratch buffer.
const _: () = assert!(RECORD_MAX <= HEADER_MAX);

/// The tag byte of each record.
pub mod tag {
    /// `accept(service, peer)` and the slot it returned.
    pub const ACCEPT: u8 = 1;
    /// `received(slot, n)` and the `n` bytes in the receive buffer.
    pub const RECV: u8 = 2;
    /// `sent(slot, n)`.
    pub const SENT: u8 = 3;
    /// `failed(slot, op, error)`.
    pub const FAILED: u8 = 4;
    /// `closed(slot)`.
    pub const CLOSED: u8 = 5;
    /// `tick(now)`.
    pub const TICK: u8 = 6;
    /// `datagram(handler, peer, data, reply)`.
    pub const DATAGRAM: u8 = 7;
    /// `shutdown()`.
    pub const SHUTDOWN: u8 = 8;
    /// `turned_away()`.
    pub const TURNED_AWAY: u8 = 9;
    /// `make_room(waiting)`.
    pub const MAKE_ROOM: u8 = 10;
}

/// The bits of the header's flags.
pub mod flags {
    /// The recording stopped before the run did (its buffer was full, or it was stopped):
    /// it holds the run's first events.
    pub const TRUNCATED: u64 = 1;
}

/// The configuration's fields in encoding order.
pub const fn config_fields(c: &Config) -> [u64; CONFIG_FIELDS] {
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
        c.pressure_percent as u64,
        c.timeouts.pressured_first_byte_ms,
        c.timeouts.shed_grace_ms,
    ]
}

/// The configuration [`config_fields`] encoded (values too large for a field are truncated;
/// [`Config::validate`] judges the result).
pub const fn config_from_fields(f: &[u64; CONFIG_FIELDS]) -> Config {
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
    c.pressure_percent = f[18] as u8;
    c.timeouts.pressured_first_byte_ms = f[19];
    c.timeouts.shed_grace_ms = f[20];
    c
}

/// The code of an operation kind in a `failed` record.
pub const fn op_code(op: OpKind) -> u64 {
    match op {
        OpKind::Recv => 0,
        OpKind::Send => 1,
    }
}

/// The operation kind of a code ([`op_code`]); anything but 0 is a send.
pub const fn op_of(code: u64) -> OpKind {
    if code == 0 {
        OpKind::Recv
    } else {
        OpKind::Send
    }
}

/// The code of an error in a `failed` record.
pub const fn error_code(error: IoError) -> u64 {
    match error {
        IoError::Retry => 0,
        IoError::Broken => 1,
    }
}

/// The error of a code ([`error_code`]); anything but 0 is broken.
pub const fn error_of(code: u64) -> IoError {
    if code == 0 {
        IoError::Retry
    } else {
        IoError::Broken
    }
}

/// The buffer given to [`Recorder::new`] cannot hold the header ([`HEADER_MAX`] bytes always
/// can).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TooSmall;

impl core::fmt::Display for TooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "a recording buffer must hold at least its header ({HEADER_MAX} bytes)"
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TooSmall {}

/// The fixed part of a record (or the header), assembled before it is known to fit.
struct Fixed {
    b: [u8; HEADER_MAX],
    len: usize,
}

impl Fixed {
    const fn new() -> Fixed {
        Fixed {
            b: [0; HEADER_MAX],
            len: 0,
        }
    }

    fn byte(&mut self, v: u8) -> &mut Self {
        self.b[self.len] = v;
        self.len += 1;
        self
    }

    fn int(&mut self, mut v: u64) -> &mut Self {
        // Bounded: seven bits a byte, at most MAX_VARINT bytes for 64 bits.
        for _ in 0..MAX_VARINT {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                return self.byte(low);
            }
            self.byte(low | 0x80);
        }
        unreachable!("a u64 takes at most MAX_VARINT bytes")
    }

    fn bytes(&self) -> &[u8] {
        &self.b[..self.len]
    }
}

/// Appends the events of one server, encoded, to a buffer the caller provides; allocates
/// nothing. Call the method of each event *before* telling the server (a server that panics
/// on an event leaves it recorded), except [`Recorder::accept`], which records the slot the
/// server returned. See the [module](self) for the format and what happens when the buffer is
/// full.
///
/// ```
/// use zzz_core::record::{MAGIC, Recorder};
/// use zzz_core::{Config, Now};
///
/// let mut buf = [0u8; 4096];
/// let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, Now::default()).unwrap();
/// rec.accept(0, Some(3));
/// rec.received(3, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
/// assert!(rec.bytes().starts_with(MAGIC));
/// assert_eq!(rec.records(), 2);
/// assert!(!rec.is_truncated());
/// ```
pub struct Recorder<'b> {
    buf: &'b mut [u8],
    len: usize,
    flags_at: usize,
    records: u64,
    truncated: bool,
}

impl<'b> Recorder<'b> {
    /// Starts a recording of a server built with `config` at `start` (the time given to
    /// `Server::new`) in `buf`, by writing the header.
    pub fn new(buf: &'b mut [u8], config: &Config, start: Now) -> Result<Recorder<'b>, TooSmall> {
        let mut h = Fixed::new();
        for &b in MAGIC {
            h.byte(b);
        }
        for f in config_fields(config) {
            h.int(f);
        }
        let flags_at = h.len;
        h.int(0).int(start.monotonic.0).int(start.unix_secs);
        let header = h.bytes();
        let Some(dst) = buf.get_mut(..header.len()) else {
            return Err(TooSmall);
        };
        dst.copy_from_slice(header);
        Ok(Recorder {
            len: header.len(),
            buf,
            flags_at,
            records: 0,
            truncated: false,
        })
    }

    /// Appends a record of fixed part `fixed` followed by `data`, if it fits; otherwise stops.
    fn push(&mut self, fixed: &Fixed, data: &[u8]) {
        if self.truncated {
            return;
        }
        let head = fixed.bytes();
        let need = head.len() + data.len();
        if self.buf.len() - self.len < need {
            self.stop();
            return;
        }
        self.buf[self.len..self.len + head.len()].copy_from_slice(head);
        self.buf[self.len + head.len()..self.len + need].copy_from_slice(data);
        self.len += need;
        self.records += 1;
        assert!(self.len <= self.buf.len());
    }

    fn record(&mut self, tag: u8, fields: &[u64], data: &[u8]) {
        // The fixed part's room: a tag and three integers (RECORD_MAX).
        assert!(fields.len() <= 3 && (tag::ACCEPT..=tag::MAKE_ROOM).contains(&tag));
        let mut f = Fixed::new();
        f.byte(tag);
        for &v in fields {
            f.int(v);
        }
        self.push(&f, data);
    }

    /// `accept(service, _)` returned `slot` (`None`: refused). `service` is 0 for HTTP and
    /// `k > 0` for the `k`-th raw-TCP service, as the backend numbers them.
    pub fn accept(&mut self, service: u8, slot: Option<SlotId>) {
        let slot = match slot {
            Some(s) => s as u64 + 1,
            None => 0,
        };
        self.record(tag::ACCEPT, &[service as u64, slot], &[]);
    }

    /// `received(slot, data.len())`, with `data` the bytes the receive put in the slot's
    /// receive buffer (`Server::recv_buffer`); empty is EOF.
    pub fn received(&mut self, slot: SlotId, data: &[u8]) {
        self.record(tag::RECV, &[slot as u64, data.len() as u64], data);
    }

    /// `sent(slot, n)`.
    pub fn sent(&mut self, slot: SlotId, n: usize) {
        self.record(tag::SENT, &[slot as u64, n as u64], &[]);
    }

    /// `failed(slot, op, error)`.
    pub fn failed(&mut self, slot: SlotId, op: OpKind, error: IoError) {
        self.record(
            tag::FAILED,
            &[slot as u64, op_code(op), error_code(error)],
            &[],
        );
    }

    /// `closed(slot)`.
    pub fn closed(&mut self, slot: SlotId) {
        self.record(tag::CLOSED, &[slot as u64], &[]);
    }

    /// `tick(now)`.
    pub fn tick(&mut self, now: Now) {
        self.record(tag::TICK, &[now.monotonic.0, now.unix_secs], &[]);
    }

    /// `datagram(handler, _, data, reply)` with a reply buffer of `reply_cap` bytes; `handler`
    /// is the index of the UDP handler, as the backend numbers them.
    pub fn datagram(&mut self, handler: u8, data: &[u8], reply_cap: usize) {
        self.record(
            tag::DATAGRAM,
            &[handler as u64, reply_cap as u64, data.len() as u64],
            data,
        );
    }

    /// `shutdown()`.
    pub fn shutdown(&mut self) {
        self.record(tag::SHUTDOWN, &[], &[]);
    }

    /// `turned_away()`.
    pub fn turned_away(&mut self) {
        self.record(tag::TURNED_AWAY, &[], &[]);
    }

    /// `make_room(waiting)`.
    pub fn make_room(&mut self, waiting: usize) {
        self.record(tag::MAKE_ROOM, &[waiting as u64], &[]);
    }

    /// Stops recording: nothing more is written, and the header says the recording is
    /// truncated (a prefix of the run). Done by itself when a record does not fit.
    pub fn stop(&mut self) {
        self.truncated = true;
        // The flags are one byte, written as 0 by `new`: the new value is one byte too.
        self.buf[self.flags_at] = flags::TRUNCATED as u8;
    }

    /// The recording so far: a whole, decodable recording at any moment.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Bytes written so far (the header included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing but the header was written.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Bytes of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Whether the recording stopped before the run did (see [`Recorder::stop`]).
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl core::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Recorder")
            .field("len", &self.len)
            .field("capacity", &self.buf.len())
            .field("records", &self.records)
            .field("truncated", &self.truncated)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    fn start() -> Now {
        Now {
            monotonic: Instant(300),
            unix_secs: 1_700_000_000,
        }
    }

    #[test]
    fn the_header_holds_the_configuration_and_start() {
        let mut buf = [0u8; HEADER_MAX];
        let rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
        let b = rec.bytes();
        assert!(b.starts_with(MAGIC));
        assert!(b.len() <= HEADER_MAX);
        assert_eq!(rec.records(), 0);
        assert!(rec.is_empty());
        let mut small = [0u8; 20];
        assert_eq!(
            Recorder::new(&mut small, &Config::DEFAULT, start()).unwrap_err(),
            TooSmall
        );
    }

    #[test]
    fn config_fields_round_trip() {
        let mut c = Config::DEFAULT;
        c.max_connections = 7;
        c.timeouts.linger_ms = 0;
        c.limits.max_trailers = 3;
        assert_eq!(config_from_fields(&config_fields(&c)), c);
        assert_eq!(op_of(op_code(OpKind::Send)), OpKind::Send);
        assert_eq!(error_of(error_code(IoError::Retry)), IoError::Retry);
    }

    #[test]
    fn records_are_tagged_varints() {
        let mut buf = [0u8; 512];
        let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
        let header = rec.len();
        rec.accept(0, Some(200));
        rec.received(200, b"hi");
        rec.sent(200, 300);
        rec.failed(200, OpKind::Send, IoError::Broken);
        rec.closed(1);
        rec.accept(1, None);
        rec.shutdown();
        assert_eq!(
            &rec.bytes()[header..],
            &[
                1, 0, 201, 1, // accept: service 0, slot 200 + 1 = 201 (two bytes)
                2, 200, 1, 2, b'h', b'i', // received
                3, 200, 1, 172, 2, // sent 300
                4, 200, 1, 1, 1, // failed send, broken
                5, 1, // closed
                1, 1, 0, // accept refused on service 1
                8, // shutdown
            ]
        );
        assert_eq!(rec.records(), 7);
    }

    #[test]
    fn a_full_buffer_keeps_whole_records_and_says_it_is_truncated() {
        let mut buf = [0u8; 128];
        let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
        let header = rec.len();
        let flags_at = rec.flags_at;
        assert_eq!(rec.bytes()[flags_at], 0);
        rec.received(0, &[b'x'; 20]);
        let after_one = rec.len();
        // Does not fit: nothing of it is written, and nothing after it either.
        rec.received(0, &[b'y'; 200]);
        rec.closed(0);
        assert!(rec.is_truncated());
        assert_eq!(rec.len(), after_one);
        assert_eq!(rec.records(), 1);
        assert_eq!(rec.bytes()[flags_at], flags::TRUNCATED as u8);
        assert_eq!(after_one - header, 3 + 20);
    }
}
