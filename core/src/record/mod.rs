//! Recordings of what a server was told: the format, its encoder and its decoder.
//!
//! The [`Server`](crate::Server) is deterministic: fed the same events from the same start, with
//! the same app, it asks for the same operations, byte for byte. So a recording of its inputs — the
//! configuration, the start time and every [`Event`](crate::Event) in order — is a test: a replayer
//! feeds it into a fresh server and gets the very same run. The io_uring backend records what its
//! completions told the server (opt-in), the simulator records its runs, and the simulator's
//! replayer (`zzz_sim::record`) replays either.
//!
//! A [`Recorder`] appends events to a buffer the caller provides and allocates nothing; a
//! [`Decoder`] reads them back, borrowing the bytes. Protocols are recorded by number
//! ([`Protocols::id_index`](crate::server::Protocols::id_index)): an event's protocol is an
//! `Event<u8>` here ([`Event::map_protocol`](crate::Event::map_protocol)).
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
//! - The magic [`MAGIC`], `ZZZREC04` (`01` lacked the overload fields, `02` the datagram
//!   buffers and the protocol numbers of datagrams, `03` the topics and `Publish`).
//! - The configuration: the [`CONFIG_FIELDS`] integers of [`config_fields`], in that order.
//! - The flags ([`flags`]): bit 0 set when the recording was truncated. Always one byte (the
//!   recorder patches it in place when it stops).
//! - The start time passed to `Server::new`: monotonic milliseconds, then Unix seconds.
//! - The records, each a tag byte ([`tag`]) and its fields:
//!
//! | tag | event | fields |
//! |---|---|---|
//! | 1 | `Accepted` | protocol, slot + 1 (0: refused) |
//! | 2 | `Received` | slot, length, the bytes (length 0: EOF) |
//! | 3 | `Sent` | slot, bytes sent |
//! | 4 | `Failed` | slot, operation (0 receive, 1 send), error (0 retry, 1 broken) |
//! | 5 | `Closed` | slot |
//! | 6 | `Tick` | monotonic milliseconds, Unix seconds |
//! | 7 | `Datagram` | protocol, origin, length, the bytes |
//! | 8 | `Shutdown` | — |
//! | 9 | `TurnedAway` | — |
//! | 10 | `MakeRoom` | connections waiting |
//! | 11 | `DatagramSent` | reply |
//! | 12 | `Publish` | topic, length, the bytes |
//!
//! Peer addresses are not recorded: a replay passes [`PeerAddr::Local`](crate::PeerAddr::Local) for
//! every connection and datagram.

mod decode;
mod encode;
mod format;

pub use decode::{DecodeError, Decoder, Header, Recorded};
pub use encode::{Recorder, TooSmall};
pub use format::{
    CONFIG_FIELDS, HEADER_MAX, MAGIC, MAX_VARINT, RECORD_MAX, config_fields, config_from_fields,
    error_code, error_of, flags, op_code, op_of, tag,
};

#[cfg(test)]
mod tests;
