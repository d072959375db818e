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
    pub fn body(mut self, body: &[u8]) -> Result<ByteWriter<'a>, ResponseError> {
        self.connection_header();
        let send_body = !self.head && !self.status.forbids_body();
        let body_len = if send_body { body.len() } else { 0 };
        if !self.status.forbids_body() {
            // `Content-Length: N\r\n\r\n` and the body in one reservation, the digits written
            // in place.
            let length = body.len() as u64;
            let d = decimal_len(length);
            if let Some(dst) = self.out.reserve(16 + d + 4 + body_len) {
                dst[..16].copy_from_slice(b"Content-Length: ");
                write_decimal(&mut dst[16..16 + d], length);
                dst[16 + d..20 + d].copy_from_slice(b"\r\n\r\n");
                copy_bytes(&mut dst[20 + d..], &body[..body_len]);
            }
        } else {
            self.out.write(b"\r\n");
        }
        self.result()
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
