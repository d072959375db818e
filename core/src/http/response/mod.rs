//! The response writer: status line, `Server`, `Date`, the handler's headers, framing and
//! body, written straight into a caller's fixed buffer.
//!
//! A response is written in order into a [`ByteWriter`]. When the body's length is known
//! ([`ResponseWriter::body`]) `Content-Length` precedes it directly. When it is not
//! ([`ResponseWriter::into_body`]: `core::fmt` output, templates), the writer leaves a
//! 40-byte gap for `Content-Length`, writes the body after it, and when the body is finished
//! writes the header into the gap and moves the body down over the unused part of the gap: one
//! short copy instead of a second buffer or a second rendering pass.
//!
//! The framing is zzz's job, never the handler's: `Content-Length`, `Transfer-Encoding` and
//! `Connection` from a handler are refused ([`ResponseError::InvalidHeader`]), as are names
//! that are not tokens and values with control characters (no response splitting).
//! HEAD responses keep every header, `Content-Length` included, and drop the body
//! (RFC 9110 §9.3.2); 1xx, 204 and 304 responses get neither `Content-Length` nor body
//! (RFC 9110 §8.6, §15.3.5, §15.4.5).
//!
//! In the order a response is written:
//! - [`ByteWriter`] (`byte_writer`): the bounded buffer every response is written into;
//! - [`ResponseWriter`] (`head`): the status line, `Server`, `Date` and the handler's fields,
//!   each checked by `header_field` ([`HeaderName`]: a name checked once, when made);
//! - `framing`: the four ways the head ends, one per kind of body;
//! - [`BodyWriter`] (`body_writer`): a body whose length is known only at the end;
//! - `chunk_framing`: the chunks of a streamed body for HTTP/1.1 clients
//!   ([`write_chunk`], [`LAST_CHUNK`]).
//!
//! ## Speed
//!
//! Every response a handler writes comes through here, so the common case is written for
//! speed, measured with callgrind on the bench's plaintext handler (`examples/bench.rs`,
//! `GET /plaintext` under pipelined load: 569 instructions a response before, 134 after):
//! - the [`HttpDate`] keeps the lines a `200` opens with composed (status line, `Server`,
//!   `Date`), copied as one array of fixed size;
//! - a header value is checked a machine word at a time, `Content-Length` is written in place;
//! - the common case of each write is inlined into the handler and writes straight into the
//!   buffer's spare room, so that the compiler keeps the writer in registers through the
//!   handler's `Reply` chain, and copies a constant name, value or body as constants. What is
//!   left (a move to the standby buffer, another status line, a `Connection` line) is a call
//!   that takes the output by value (`ByteWriter::with_room` says why).
//!
//! The functions on that path which the optimizer would leave out of line (`Out::respond`,
//! `Reply::body`, `end_with_body`, `put_end`) are `inline(always)` on 64-bit targets, where
//! zzz serves under load; on 32-bit ones (the microcontrollers, where flash is the budget)
//! they are only `inline`, which a size-optimized build mostly ignores.

mod body_writer;
mod byte_writer;
mod chunk_framing;
mod framing;
mod head;
mod header_field;

pub use body_writer::BodyWriter;
pub use byte_writer::ByteWriter;
#[cfg_attr(not(feature = "json"), allow(unused_imports))]
pub(crate) use byte_writer::{copy_bytes, decimal_len, write_decimal};
pub use chunk_framing::{LAST_CHUNK, chunk_overhead, write_chunk};
pub use framing::StreamFraming;
pub use head::ResponseWriter;
pub use header_field::{AsHeaderName, HeaderName};

use super::date::HttpDate;
use super::request::Version;

/// Why a response could not be written. The server answers with its static 500 instead;
/// a partial response is never sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseError {
    /// The response does not fit in the buffer (nor in the standby buffer, if one was given).
    Overflow,
    /// A header name that is not a token, a value with control characters, or a field only
    /// zzz may write (`Content-Length`, `Transfer-Encoding`, `Connection`).
    InvalidHeader,
    /// What produced the body (a template) failed for a reason of its own, not for lack of
    /// room; see [`BodyWriter::fail`].
    Render,
}

/// What the writer needs to know about the request being answered and the server answering.
#[derive(Clone, Copy, Debug)]
pub struct ResponseOptions<'d> {
    /// The cached `Date` value.
    pub date: &'d HttpDate,
    /// The `Server` value, or `None` to send no `Server` header.
    pub server: Option<&'static str>,
    /// The request's version: an HTTP/1.0 client gets no chunked encoding and needs an explicit
    /// `Connection: keep-alive` to keep the connection.
    pub version: Version,
    /// Whether the connection stays open after this response; `false` sends
    /// `Connection: close`.
    pub keep_alive: bool,
    /// Whether the request was HEAD: headers as for GET, no body.
    pub head: bool,
}

#[cfg(test)]
mod tests;
