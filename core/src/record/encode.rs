//! The encoder: [`Recorder`] appends each event, as a record, to a buffer the caller
//! provides, and stops (a truncated but valid recording) when the next record does not fit.

use super::format::{
    HEADER_MAX, MAGIC, MAX_VARINT, RECORD_MAX, config_fields, error_code, flags, op_code, tag,
};
use crate::config::Config;
use crate::server::{Event, SlotId};
use crate::time::Now;

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
/// nothing. Record each event *before* telling the server (a server that panics on an event
/// leaves it recorded), except `Accepted`, which records the slot the server gave. See the
/// [module](crate::record) for the format and what happens when the buffer is full.
///
/// ```
/// use zzz_core::record::{Decoder, MAGIC, Recorder};
/// use zzz_core::{Config, Event, Now, PeerAddr};
///
/// let mut buf = [0u8; 4096];
/// let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, Now::default()).unwrap();
/// rec.record(Event::Accepted { protocol: 0, peer: PeerAddr::Local }, &[], Some(3));
/// rec.record(Event::Received { slot: 3, n: 27 }, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", None);
/// assert!(rec.bytes().starts_with(MAGIC));
/// assert_eq!(rec.records(), 2);
/// let (header, mut events) = Decoder::new(rec.bytes()).unwrap();
/// assert_eq!(header.config, Config::DEFAULT);
/// assert_eq!(events.next().unwrap().unwrap().accepted, Some(3));
/// ```
pub struct Recorder<'b> {
    buf: &'b mut [u8],
    len: usize,
    /// Where the header's flags byte is, patched by [`Recorder::stop`].
    pub(super) flags_at: usize,
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

    /// Records `event`. `data` is what a `Received` event brought (the bytes the receive put
    /// in `Server::recv_buffer`; empty is EOF), a `Datagram`'s or a `Publish`'s bytes, and
    /// empty otherwise;
    /// `accepted` is the slot an `Accepted` event got (`None`: refused).
    pub fn record(&mut self, event: Event<u8>, data: &[u8], accepted: Option<SlotId>) {
        let mut f = Fixed::new();
        let data = match event {
            Event::Accepted { protocol, .. } => {
                f.byte(tag::ACCEPTED)
                    .int(protocol as u64)
                    .int(accepted.map_or(0, |s| s as u64 + 1));
                &[][..]
            }
            Event::Received { slot, n } => {
                assert_eq!(n, data.len(), "a receive recorded without its bytes");
                f.byte(tag::RECEIVED).int(slot as u64).int(n as u64);
                data
            }
            Event::Sent { slot, n } => {
                f.byte(tag::SENT).int(slot as u64).int(n as u64);
                &[]
            }
            Event::Failed { slot, op, error } => {
                f.byte(tag::FAILED)
                    .int(slot as u64)
                    .int(op_code(op))
                    .int(error_code(error));
                &[]
            }
            Event::Closed { slot } => {
                f.byte(tag::CLOSED).int(slot as u64);
                &[]
            }
            Event::Tick(now) => {
                f.byte(tag::TICK).int(now.monotonic.0).int(now.unix_secs);
                &[]
            }
            Event::Datagram {
                protocol,
                origin,
                n,
                ..
            } => {
                assert_eq!(n, data.len(), "a datagram recorded without its bytes");
                f.byte(tag::DATAGRAM)
                    .int(protocol as u64)
                    .int(origin as u64)
                    .int(n as u64);
                data
            }
            Event::DatagramSent { reply } => {
                f.byte(tag::DATAGRAM_SENT).int(reply as u64);
                &[]
            }
            Event::Publish { topic, n } => {
                assert_eq!(n, data.len(), "a publish recorded without its bytes");
                f.byte(tag::PUBLISH).int(topic.0 as u64).int(n as u64);
                data
            }
            Event::MakeRoom { waiting } => {
                f.byte(tag::MAKE_ROOM).int(waiting as u64);
                &[]
            }
            Event::TurnedAway => {
                f.byte(tag::TURNED_AWAY);
                &[]
            }
            Event::Shutdown => {
                f.byte(tag::SHUTDOWN);
                &[]
            }
        };
        assert!(f.len <= RECORD_MAX);
        self.push(&f, data);
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
