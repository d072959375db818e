//! How a response's head ends, by the kind of body that follows: a body in hand
//! ([`ResponseWriter::body`]), a body the backend sends from elsewhere
//! ([`ResponseWriter::head_for_length`]), a stream of pieces
//! ([`ResponseWriter::head_for_stream`]), and a body whose length is known only once written
//! ([`ResponseWriter::into_body`]).

use super::super::request::Version;
use super::ResponseError;
use super::body_writer::BodyWriter;
use super::byte_writer::{ByteWriter, copy_bytes, decimal_len, write_decimal};
use super::head::ResponseWriter;

/// How a streamed body of unknown length is delimited.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamFraming {
    /// Chunked transfer coding (HTTP/1.1 clients).
    Chunked,
    /// The body ends when the connection closes (HTTP/1.0 clients; RFC 9112 §6.3 item 8).
    UntilClose,
    /// No body at all: HEAD, 1xx, 204, 304.
    None,
}

impl<'a> ResponseWriter<'a> {
    /// Ends the head with `Content-Length` and writes `body` (unless HEAD or a bodiless
    /// status). Returns the writer holding the whole response.
    #[inline]
    pub fn body(mut self, body: &[u8]) -> Result<ByteWriter<'a>, ResponseError> {
        self.end_with_body(body);
        self.result()
    }

    /// [`ResponseWriter::body`] in place, for the handler's `Reply`, which then reads the
    /// outcome from the writer instead of having it moved out and back: the framing and the
    /// body in one reservation, written into the spare room (see "Speed" in the module
    /// `response`; `inline(always)` on 64-bit targets).
    #[cfg_attr(target_pointer_width = "64", inline(always))]
    #[cfg_attr(not(target_pointer_width = "64"), inline)]
    pub(crate) fn end_with_body(&mut self, body: &[u8]) {
        let connection = self.connection_line();
        // `Content-Length` unless the status forbids content: its number of digits, 0 for none.
        let length = body.len() as u64;
        let digits = if self.status.forbids_body() {
            0
        } else {
            decimal_len(length)
        };
        let body = if self.head || digits == 0 {
            &[][..]
        } else {
            body
        };
        let length_line = if digits == 0 { 0 } else { 16 + digits + 2 };
        let total = connection.len() + length_line + 2 + body.len();
        if self.out.room() < total {
            self.out = self.out.take().with_room(total);
        }
        if let Some(dst) = self.out.spare(total) {
            put_end(dst, connection, length, digits, body);
            self.out.commit(total);
        }
    }

    /// Ends the head with `Content-Length` of a body sent separately (a static slice the
    /// backend sends without copying). Returns the writer holding the head.
    pub fn head_for_length(mut self, length: u64) -> Result<ByteWriter<'a>, ResponseError> {
        self.connection_header();
        if !self.status.forbids_body() {
            self.out.write(b"Content-Length: ");
            if let Some(digits) = self.out.reserve(decimal_len(length)) {
                write_decimal(digits, length);
            }
            self.out.write(b"\r\n");
        }
        self.out.write(b"\r\n");
        self.result()
    }

    /// Ends the head for a body of unknown length streamed in pieces: chunked for HTTP/1.1,
    /// until-close for HTTP/1.0 (which also sends `Connection: close`).
    pub fn head_for_stream(mut self) -> Result<(ByteWriter<'a>, StreamFraming), ResponseError> {
        let framing = if self.head || self.status.forbids_body() {
            StreamFraming::None
        } else if self.version == Version::Http11 {
            StreamFraming::Chunked
        } else {
            self.keep_alive = false;
            StreamFraming::UntilClose
        };
        self.connection_header();
        if framing == StreamFraming::Chunked {
            self.out.write(b"Transfer-Encoding: chunked\r\n");
        }
        self.out.write(b"\r\n");
        self.result().map(|out| (out, framing))
    }

    /// Switches to writing a body whose length is known only at the end.
    pub fn into_body(mut self) -> BodyWriter<'a> {
        self.connection_header();
        BodyWriter::after_head(self)
    }
}

/// Writes the end of a head and the body into `dst`, which is just that long: the
/// `Connection` line (or nothing), `Content-Length: length\r\n` when `length` has `digits`
/// digits (0: no such line), the empty line, the body. Inlined (`inline(always)` on 64-bit
/// targets), so that a constant body and its length are written as constants.
#[cfg_attr(target_pointer_width = "64", inline(always))]
#[cfg_attr(not(target_pointer_width = "64"), inline)]
fn put_end(dst: &mut [u8], connection: &[u8], length: u64, digits: usize, body: &[u8]) {
    let mut at = 0;
    // Usually empty; a plain copy otherwise (a word-copy inlined here would be a second one
    // in flash for a line that is rarely there).
    if !connection.is_empty() {
        dst[..connection.len()].copy_from_slice(connection);
        at = connection.len();
    }
    if digits != 0 {
        let line = &mut dst[at..at + 16 + digits + 2];
        line[..16].copy_from_slice(b"Content-Length: ");
        write_decimal(&mut line[16..16 + digits], length);
        line[16 + digits..].copy_from_slice(b"\r\n");
        at += 16 + digits + 2;
    }
    let rest = &mut dst[at..];
    rest[..2].copy_from_slice(b"\r\n");
    copy_bytes(&mut rest[2..], body);
}
