//! The decoder: [`Decoder`] reads a recording's header, then its events in order, borrowing
//! the bytes; malformed input is a [`DecodeError`], never a panic.

use super::format::{
    CONFIG_FIELDS, MAGIC, MAX_VARINT, config_from_fields, error_of, flags, op_of, tag,
};
use crate::config::Config;
use crate::net::PeerAddr;
use crate::server::{Event, SlotId, TopicId};
use crate::time::{Instant, Now};

/// Why a recording cannot be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// It does not start with [`MAGIC`] (not a recording, or another version).
    BadMagic,
    /// It ends in the middle of a record or the header.
    Truncated,
    /// A record has a tag this version does not know.
    BadTag(u8),
    /// An integer is longer than 64 bits.
    BadInt,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::BadMagic => f.write_str("not a zzz recording of this version"),
            DecodeError::Truncated => f.write_str("the recording ends in the middle of a record"),
            DecodeError::BadTag(t) => write!(f, "unknown record tag {t}"),
            DecodeError::BadInt => f.write_str("an integer longer than 64 bits"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// What a recording's header says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// The server's configuration.
    pub config: Config,
    /// The time given to `Server::new`.
    pub start: Now,
    /// The recording stopped before the run did: it holds the run's first events.
    pub truncated: bool,
}

/// One recorded event and what came with it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Recorded<'a> {
    /// The event (protocols by number; peers are [`PeerAddr::Local`]).
    pub event: Event<u8>,
    /// The bytes of a `Received`, `Datagram` or `Publish` event, empty otherwise.
    pub data: &'a [u8],
    /// For `Accepted`: the slot it got (`None`: refused).
    pub accepted: Option<SlotId>,
}

/// Reads a recording's events, in order, borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// Reads the header of `bytes`; the decoder then yields its events.
    pub fn new(bytes: &'a [u8]) -> Result<(Header, Decoder<'a>), DecodeError> {
        if !bytes.starts_with(MAGIC) {
            return Err(DecodeError::BadMagic);
        }
        let mut d = Decoder {
            bytes,
            pos: MAGIC.len(),
        };
        let mut fields = [0u64; CONFIG_FIELDS];
        for f in fields.iter_mut() {
            *f = d.int()?;
        }
        let flags = d.int()?;
        let start = Now {
            monotonic: Instant(d.int()?),
            unix_secs: d.int()?,
        };
        let header = Header {
            config: config_from_fields(&fields),
            start,
            truncated: flags & flags::TRUNCATED != 0,
        };
        Ok((header, d))
    }

    fn int(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for i in 0..MAX_VARINT {
            let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
            self.pos += 1;
            // The tenth byte holds the 64th bit only: any other bit is past 64.
            if i == MAX_VARINT - 1 && b & 0x7e != 0 {
                return Err(DecodeError::BadInt);
            }
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::BadInt)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError::Truncated)?;
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let data = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(data)
    }

    fn next_record(&mut self) -> Result<Recorded<'a>, DecodeError> {
        let tag = self.bytes[self.pos];
        self.pos += 1;
        let mut data: &'a [u8] = &[];
        let mut accepted = None;
        let event = match tag {
            tag::ACCEPTED => {
                let protocol = self.int()? as u8;
                accepted = self.int()?.checked_sub(1).map(|s| s as SlotId);
                Event::Accepted {
                    protocol,
                    peer: PeerAddr::Local,
                }
            }
            tag::RECEIVED => {
                let slot = self.int()? as SlotId;
                let n = self.int()?;
                data = self.take(n)?;
                Event::Received {
                    slot,
                    n: data.len(),
                }
            }
            tag::SENT => Event::Sent {
                slot: self.int()? as SlotId,
                n: self.int()? as usize,
            },
            tag::FAILED => Event::Failed {
                slot: self.int()? as SlotId,
                op: op_of(self.int()?),
                error: error_of(self.int()?),
            },
            tag::CLOSED => Event::Closed {
                slot: self.int()? as SlotId,
            },
            tag::TICK => Event::Tick(Now {
                monotonic: Instant(self.int()?),
                unix_secs: self.int()?,
            }),
            tag::DATAGRAM => {
                let protocol = self.int()? as u8;
                let origin = self.int()? as u16;
                let n = self.int()?;
                data = self.take(n)?;
                Event::Datagram {
                    protocol,
                    origin,
                    peer: PeerAddr::Local,
                    n: data.len(),
                }
            }
            tag::DATAGRAM_SENT => Event::DatagramSent {
                reply: self.int()? as u16,
            },
            tag::PUBLISH => {
                let topic = TopicId(self.int()? as u16);
                let n = self.int()?;
                data = self.take(n)?;
                Event::Publish {
                    topic,
                    n: data.len(),
                }
            }
            tag::MAKE_ROOM => Event::MakeRoom {
                waiting: self.int()? as usize,
            },
            tag::TURNED_AWAY => Event::TurnedAway,
            tag::SHUTDOWN => Event::Shutdown,
            t => return Err(DecodeError::BadTag(t)),
        };
        Ok(Recorded {
            event,
            data,
            accepted,
        })
    }
}

impl<'a> Iterator for Decoder<'a> {
    type Item = Result<Recorded<'a>, DecodeError>;

    /// The next event; `None` at the end, and after an error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let result = self.next_record();
        if result.is_err() {
            self.pos = self.bytes.len();
        }
        Some(result)
    }
}
