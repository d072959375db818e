//! [`ResponseWriter`]: the status line, `Server`, `Date` and the handler's header fields,
//! written in order; how the head ends depends on the body (see the framing module).

use super::super::date::{HttpDate, OK_LINE};
use super::super::request::Version;
use super::super::status::Status;
use super::byte_writer::{ByteWriter, copy_bytes};
use super::header_field::{AsHeaderName, no_control_bytes, valid_name, valid_value};
use super::{ResponseError, ResponseOptions};

/// Writes one response head: the status line, `Server` and `Date` when made, then the
/// handler's fields; one of four methods ends the head according to the body that follows.
#[derive(Debug)]
pub struct ResponseWriter<'a> {
    pub(super) out: ByteWriter<'a>,
    pub(super) status: Status,
    pub(super) version: Version,
    pub(super) keep_alive: bool,
    /// The request was HEAD: the body is counted for `Content-Length`, never written.
    pub(super) head: bool,
    /// A header was refused; the response fails when the head ends.
    pub(super) invalid: bool,
}

impl<'a> ResponseWriter<'a> {
    /// Starts a response: writes the status line, `Server` and `Date`.
    pub fn new(mut out: ByteWriter<'a>, status: Status, options: &ResponseOptions<'_>) -> Self {
        debug_assert!(
            out.is_empty(),
            "a response starts at the writer's first byte"
        );
        match options.date.opening(options.server) {
            // The common case: one copy of the lines the date keeps composed.
            Some((opening, len)) if status == Status::OK => out.write(&opening[..len]),
            Some((opening, len)) => {
                status_line(&mut out, status);
                out.write(&opening[OK_LINE.len()..len]);
            }
            None => {
                status_line(&mut out, status);
                server_and_date(&mut out, options.date, options.server);
            }
        }
        ResponseWriter {
            out,
            status,
            version: options.version,
            keep_alive: options.keep_alive,
            head: options.head,
            invalid: false,
        }
    }

    /// The status being sent.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Adds a header. An invalid one makes the response fail at the end (see
    /// [`ResponseError::InvalidHeader`]).
    pub fn header(&mut self, name: impl AsHeaderName, value: &[u8]) -> &mut Self {
        let Some(name) = name.checked() else {
            self.invalid = true;
            return self;
        };
        // The word-at-a-time check first: it settles nearly every value.
        if !no_control_bytes(value) && !valid_value(value) {
            self.invalid = true;
            return self;
        }
        let n = name.len();
        if let Some(dst) = self.out.reserve(n + value.len() + 4) {
            copy_bytes(&mut dst[..n], name.as_bytes());
            dst[n..n + 2].copy_from_slice(b": ");
            copy_bytes(&mut dst[n + 2..n + 2 + value.len()], value);
            dst[n + 2 + value.len()..].copy_from_slice(b"\r\n");
        }
        self
    }

    /// Adds a header line known valid when zzz was compiled (`Name: value\r\n`), in one write
    /// and without checking it again.
    pub(crate) fn header_line(&mut self, line: &'static str) -> &mut Self {
        debug_assert!(line.ends_with("\r\n") && line.contains(": "));
        self.out.write(line.as_bytes());
        self
    }

    /// Adds a header whose value is formatted, without an intermediate buffer.
    pub fn header_fmt(&mut self, name: &str, value: core::fmt::Arguments<'_>) -> &mut Self {
        if !valid_name(name) {
            self.invalid = true;
            return self;
        }
        self.out.write(name.as_bytes());
        self.out.write(b": ");
        let value_start = self.out.len();
        let _ = core::fmt::Write::write_fmt(&mut self.out, value);
        if !self.out.overflowed() && !valid_value(&self.out.written()[value_start..]) {
            self.invalid = true;
        }
        self.out.write(b"\r\n");
        self
    }

    /// `Connection` when it is not the version's default (RFC 9112 §9.3, §9.6).
    pub(super) fn connection_header(&mut self) {
        if self.status == Status::SWITCHING_PROTOCOLS {
            // RFC 9110 §7.8: who sends Upgrade sends the "upgrade" connection option; the
            // connection goes on, in the protocol named there.
            self.out.write(b"Connection: upgrade\r\n");
        } else if !self.keep_alive {
            self.out.write(b"Connection: close\r\n");
        } else if self.version == Version::Http10 {
            self.out.write(b"Connection: keep-alive\r\n");
        }
    }

    /// The writer holding the response, or why there is no response to send.
    pub(super) fn result(self) -> Result<ByteWriter<'a>, ResponseError> {
        if self.invalid {
            Err(ResponseError::InvalidHeader)
        } else if self.out.overflowed() {
            Err(ResponseError::Overflow)
        } else {
            Ok(self.out)
        }
    }
}

/// Writes the status line of `status`.
fn status_line(out: &mut ByteWriter<'_>, status: Status) {
    match status.line() {
        Some(line) => out.write(line.as_bytes()),
        None => {
            out.write(b"HTTP/1.1 ");
            out.write(&status.digits());
            out.write(b" \r\n");
        }
    }
}

/// Writes `Server` and `Date` when the date has no opening lines composed for the server's
/// name (another name than the one it was composed for, or a very long one).
#[cold]
fn server_and_date(out: &mut ByteWriter<'_>, date: &HttpDate, server: Option<&'static str>) {
    if let Some(server) = server {
        out.write(b"Server: ");
        out.write(server.as_bytes());
        out.write(b"\r\n");
    }
    out.write(b"Date: ");
    out.write(date.as_bytes());
    out.write(b"\r\n");
}
