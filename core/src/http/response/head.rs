//! [`ResponseWriter`]: the status line, `Server`, `Date` and the handler's header fields,
//! written in order; how the head ends depends on the body (see the framing module).

use super::super::date::{HttpDate, OK_LINE, OPENING_CAP};
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
    #[inline]
    pub fn new(out: ByteWriter<'a>, status: Status, options: &ResponseOptions<'_>) -> Self {
        let mut out = out;
        ResponseWriter::open(&mut out, status, options.date, options.server);
        ResponseWriter::with_output(out, status, options, false)
    }

    /// A writer for `status` over `out`, which holds what was written so far (see
    /// [`ResponseWriter::open`]); `invalid` when a header was already refused.
    #[inline]
    pub(crate) fn with_output(
        out: ByteWriter<'a>,
        status: Status,
        options: &ResponseOptions<'_>,
        invalid: bool,
    ) -> Self {
        ResponseWriter {
            out,
            status,
            version: options.version,
            keep_alive: options.keep_alive,
            head: options.head,
            invalid,
        }
    }

    /// The output and whether a header was refused; see [`ResponseWriter::with_output`].
    #[inline]
    pub(crate) fn into_output(self) -> (ByteWriter<'a>, bool) {
        (self.out, self.invalid)
    }

    /// Writes the status line, `Server` and `Date` at the start of `out`: for a `200` whose
    /// server's lines the date keeps composed (nearly every response), one copy of fixed size
    /// (callgrind, the bench's plaintext response: 20 instructions, where writing the three
    /// lines took 167). Inlined where a response starts, its cold part a call that takes the
    /// output by value (see [`ByteWriter::with_room`]).
    #[inline]
    pub(crate) fn open(
        out: &mut ByteWriter<'_>,
        status: Status,
        date: &HttpDate,
        server: Option<&'static str>,
    ) {
        debug_assert!(
            out.is_empty(),
            "a response starts at the writer's first byte"
        );
        if status == Status::OK
            && let Some(n) = put_opening(out, date, server)
        {
            out.commit(n);
        } else {
            *out = open_slowly(out.take(), status, date, server);
        }
    }

    /// The status being sent.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Adds a header. An invalid one makes the response fail at the end (see
    /// [`ResponseError::InvalidHeader`]).
    #[inline]
    pub fn header(&mut self, name: impl AsHeaderName, value: &[u8]) -> &mut Self {
        match name.checked() {
            Some(name) => self.field(name, value),
            None => self.invalid = true,
        }
        self
    }

    /// Adds the field `name: value` (a valid name), or marks the response invalid if `value`
    /// is not a valid value. Inlined, so that a constant name and value are checked and copied
    /// as constants (callgrind, the bench's `Content-Type: text/plain`: 22 instructions, where
    /// the call took 143); the way to the standby buffer is a call by value.
    #[inline]
    fn field(&mut self, name: &str, value: &[u8]) {
        if !no_control_bytes(value) && !valid_value(value) {
            self.invalid = true;
            return;
        }
        let total = name.len() + 2 + value.len() + 2;
        if self.out.room() < total {
            self.out = self.out.take().with_room(total);
        }
        if let Some(dst) = self.out.spare(total) {
            put_field(dst, name.as_bytes(), value);
            self.out.commit(total);
        }
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
        self.out.write(self.connection_line());
    }

    /// The `Connection` line [`ResponseWriter::connection_header`] writes; empty when the
    /// connection is kept by the version's default.
    #[inline]
    pub(super) fn connection_line(&self) -> &'static [u8] {
        if self.status == Status::SWITCHING_PROTOCOLS {
            // RFC 9110 §7.8: who sends Upgrade sends the "upgrade" connection option; the
            // connection goes on, in the protocol named there.
            b"Connection: upgrade\r\n"
        } else if !self.keep_alive {
            b"Connection: close\r\n"
        } else if self.version == Version::Http10 {
            b"Connection: keep-alive\r\n"
        } else {
            b""
        }
    }

    /// The writer holding the response, or why there is no response to send.
    pub(super) fn result(self) -> Result<ByteWriter<'a>, ResponseError> {
        self.check()?;
        Ok(self.out)
    }

    /// The length of the response written and whether it moved to the standby buffer, or why
    /// there is no response to send; without moving the writer (see [`ResponseWriter::result`]).
    #[inline]
    pub(crate) fn written(&self) -> Result<(usize, bool), ResponseError> {
        self.check()?;
        Ok((self.out.len(), self.out.moved()))
    }

    #[inline]
    fn check(&self) -> Result<(), ResponseError> {
        if self.invalid {
            Err(ResponseError::InvalidHeader)
        } else if self.out.overflowed() {
            Err(ResponseError::Overflow)
        } else {
            Ok(())
        }
    }
}

/// [`ResponseWriter::open`] for another status, another server name, or less room than the
/// composed lines' array. By value, like [`ByteWriter::with_room`] and for the same reason.
#[cold]
fn open_slowly<'a>(
    mut out: ByteWriter<'a>,
    status: Status,
    date: &HttpDate,
    server: Option<&'static str>,
) -> ByteWriter<'a> {
    match date.opening(server) {
        Some((opening, len)) if status == Status::OK => out.write(&opening[..len]),
        Some((opening, len)) => {
            status_line(&mut out, status);
            out.write(&opening[OK_LINE.len()..len]);
        }
        None => {
            status_line(&mut out, status);
            server_and_date(&mut out, date, server);
        }
    }
    out
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

/// Writes `name: value\r\n` into `dst`, which is just that long.
#[inline]
fn put_field(dst: &mut [u8], name: &[u8], value: &[u8]) {
    let (name_part, rest) = dst.split_at_mut(name.len());
    let (colon, rest) = rest.split_at_mut(2);
    let (value_part, crlf) = rest.split_at_mut(value.len());
    copy_bytes(name_part, name);
    colon.copy_from_slice(b": ");
    copy_bytes(value_part, value);
    crlf.copy_from_slice(b"\r\n");
}

/// Writes the lines a `200` opens with, as the date keeps them composed for `server`, into
/// `out`'s spare room; returns their length, or `None` if they are not composed for that name
/// or the room is shorter than their array. The whole array is copied (a copy of fixed size,
/// a few vector moves where a copy of the exact length calls `memcpy`); the bytes past the
/// length are written over next.
#[inline]
fn put_opening(
    out: &mut ByteWriter<'_>,
    date: &HttpDate,
    server: Option<&'static str>,
) -> Option<usize> {
    let (opening, len) = date.opening(server)?;
    let dst: &mut [u8; OPENING_CAP] = out.spare(OPENING_CAP)?.try_into().ok()?;
    *dst = *opening;
    Some(len)
}
