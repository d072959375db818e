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

use super::date::{HTTP_DATE_LEN, HttpDate};
use super::header::eq_ignore_case;
use super::request::Version;
use super::scan::{TOKEN, scan_field_value, scan_token};
use super::status::Status;

/// Why a response could not be written. The server answers with its static 500 instead;
/// a partial response is never sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseError {
    /// The response does not fit in the buffer (nor in the standby buffer, if one was given).
    Overflow,
    /// A header name that is not a token, a value with control characters, or a framing
    /// header that only zzz may write.
    InvalidHeader,
    /// What produced the body (a template) failed for a reason of its own, not for lack of
    /// room; see [`BodyWriter::fail`].
    Render,
}

/// A writer into a fixed buffer. Once a write does not fit it stops writing, drops what it
/// held and remembers the overflow, so a sequence of writes is checked once at the end. It can be given a larger
/// *standby* buffer: on the first write that does not fit, everything written so far moves
/// there and writing continues (the server lends a pool buffer this way).
#[derive(Debug)]
pub struct ByteWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflowed: bool,
    standby: Option<&'a mut [u8]>,
    moved: bool,
}

impl<'a> ByteWriter<'a> {
    /// A writer over `buf`, empty.
    pub fn new(buf: &'a mut [u8]) -> ByteWriter<'a> {
        ByteWriter {
            buf,
            len: 0,
            overflowed: false,
            standby: None,
            moved: false,
        }
    }

    /// A writer over `buf` that moves to `standby` when `buf` is full.
    pub fn with_standby(buf: &'a mut [u8], standby: Option<&'a mut [u8]>) -> ByteWriter<'a> {
        ByteWriter {
            buf,
            len: 0,
            overflowed: false,
            standby,
            moved: false,
        }
    }

    /// Appends `data`, or records the overflow.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        if let Some(dst) = self.reserve(data.len()) {
            copy_bytes(dst, data);
        }
    }

    /// Appends `n` bytes and returns them for the caller to fill, or records the overflow.
    #[inline]
    pub fn reserve(&mut self, n: usize) -> Option<&mut [u8]> {
        if self.overflowed {
            return None;
        }
        let end = self.len + n;
        if end > self.buf.len() && !self.move_to_standby(end) {
            self.overflow();
            return None;
        }
        let start = self.len;
        self.len = end;
        Some(&mut self.buf[start..end])
    }

    /// Lends the unwritten rest of the buffer to `fill`, which writes at its start and
    /// returns how many bytes it wrote, or `None` when they did not fit (a serializer that
    /// writes into a slice: reserve and commit in one call). On `None`, what was written so
    /// far moves to the standby buffer, if there is one and it is larger, and `fill` runs once
    /// more on the larger rest; if that fails too the overflow is recorded, as for
    /// [`ByteWriter::write`]. Returns how many bytes were committed.
    pub fn write_with(
        &mut self,
        mut fill: impl FnMut(&mut [u8]) -> Option<usize>,
    ) -> Option<usize> {
        if self.overflowed {
            return None;
        }
        for _attempt in 0..2 {
            let start = self.len;
            if let Some(n) = fill(&mut self.buf[start..]) {
                assert!(n <= self.buf.len() - start, "fill wrote past its slice");
                self.len += n;
                return Some(n);
            }
            let larger = self
                .standby
                .as_deref()
                .is_some_and(|standby| standby.len() > self.buf.len());
            if !larger || !self.move_to_standby(self.buf.len() + 1) {
                break;
            }
        }
        self.overflow();
        None
    }

    /// Records the overflow and lets go of the buffer: an overflowed writer holds nothing
    /// (its length and capacity are 0), so no later write can fit and the fast path of
    /// `write_str` needs no test of its own.
    #[cold]
    fn overflow(&mut self) {
        self.overflowed = true;
        self.buf = &mut [];
        self.len = 0;
    }

    #[cold]
    fn move_to_standby(&mut self, needed: usize) -> bool {
        match self.standby.take() {
            Some(standby) if standby.len() >= needed => {
                standby[..self.len].copy_from_slice(&self.buf[..self.len]);
                self.buf = standby;
                self.moved = true;
                true
            }
            _ => false,
        }
    }

    /// Bytes written (0 once overflowed).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Size of the buffer being written (the standby's, once moved).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a write did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Whether the content moved to the standby buffer.
    pub fn moved(&self) -> bool {
        self.moved
    }

    /// The bytes written.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes written, mutable.
    pub fn written_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    /// Drops everything after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        debug_assert!(len <= self.len);
        self.len = self.len.min(len);
    }
}

impl core::fmt::Write for ByteWriter<'_> {
    /// Appends `s`; `Err` once the writer has overflowed, so that a formatter (a template)
    /// stops at the first write that does not fit.
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // The common case in as few steps as possible (templates write many short pieces);
        // the rest out of line, so that this part needs no stack frame.
        let end = self.len + s.len();
        if end <= self.buf.len() {
            copy_bytes(&mut self.buf[self.len..end], s.as_bytes());
            self.len = end;
            return Ok(());
        }
        self.write_str_slow(s)
    }
}

impl ByteWriter<'_> {
    #[cold]
    #[inline(never)]
    fn write_str_slow(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes());
        if self.overflowed {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Copies `src` into `dst` (of the same length). Short copies (status lines, header names
/// and values, digits, small bodies) make up most of every response, and for them a call to
/// `memcpy` costs more than the copy: up to 16 bytes move as two overlapping words.
#[inline(always)]
fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    if (8..=16).contains(&n) {
        let head = u64::from_ne_bytes(src[..8].try_into().unwrap());
        let tail = u64::from_ne_bytes(src[n - 8..].try_into().unwrap());
        dst[..8].copy_from_slice(&head.to_ne_bytes());
        dst[n - 8..].copy_from_slice(&tail.to_ne_bytes());
    } else if (4..8).contains(&n) {
        let head = u32::from_ne_bytes(src[..4].try_into().unwrap());
        let tail = u32::from_ne_bytes(src[n - 4..].try_into().unwrap());
        dst[..4].copy_from_slice(&head.to_ne_bytes());
        dst[n - 4..].copy_from_slice(&tail.to_ne_bytes());
    } else if n < 4 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    } else {
        dst.copy_from_slice(src);
    }
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

/// Writes one response head, then its body in one of three ways.
#[derive(Debug)]
pub struct ResponseWriter<'a> {
    out: ByteWriter<'a>,
    status: Status,
    version: Version,
    keep_alive: bool,
    head: bool,
    invalid: bool,
}

/// Room left for `Content-Length: <20 digits>\r\n\r\n` when the body length is not yet known.
const LENGTH_GAP: usize = 40;

impl<'a> ResponseWriter<'a> {
    /// Starts a response: writes the status line, `Server` and `Date`.
    pub fn new(mut out: ByteWriter<'a>, status: Status, options: &ResponseOptions<'_>) -> Self {
        debug_assert!(
            out.is_empty(),
            "a response starts at the writer's first byte"
        );
        match status.line() {
            Some(line) => out.write(line.as_bytes()),
            None => {
                out.write(b"HTTP/1.1 ");
                out.write(&status.digits());
                out.write(b" \r\n");
            }
        }
        // `Server` and `Date` in one reservation: this runs for every response.
        let server = options.server.unwrap_or("");
        let server_len = if options.server.is_some() {
            10 + server.len()
        } else {
            0
        };
        if let Some(dst) = out.reserve(server_len + 8 + HTTP_DATE_LEN) {
            let (server_part, date_part) = dst.split_at_mut(server_len);
            if server_len > 0 {
                server_part[..8].copy_from_slice(b"Server: ");
                copy_bytes(&mut server_part[8..8 + server.len()], server.as_bytes());
                server_part[8 + server.len()..].copy_from_slice(b"\r\n");
            }
            date_part[..6].copy_from_slice(b"Date: ");
            date_part[6..6 + HTTP_DATE_LEN].copy_from_slice(options.date.as_bytes());
            date_part[6 + HTTP_DATE_LEN..].copy_from_slice(b"\r\n");
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
        if !valid_value(value) {
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

    fn connection_header(&mut self) {
        if !self.keep_alive {
            self.out.write(b"Connection: close\r\n");
        } else if self.version == Version::Http10 {
            self.out.write(b"Connection: keep-alive\r\n");
        }
    }

    fn result(self) -> Result<ByteWriter<'a>, ResponseError> {
        if self.invalid {
            Err(ResponseError::InvalidHeader)
        } else if self.out.overflowed() {
            Err(ResponseError::Overflow)
        } else {
            Ok(self.out)
        }
    }

    /// Ends the head with `Content-Length` and writes `body` (unless HEAD or a bodiless
    /// status). Returns the writer holding the whole response.
    pub fn body(mut self, body: &[u8]) -> Result<ByteWriter<'a>, ResponseError> {
        self.connection_header();
        let send_body = !self.head && !self.status.forbids_body();
        let body_len = if send_body { body.len() } else { 0 };
        if !self.status.forbids_body() {
            // `Content-Length: N\r\n\r\n` and the body in one reservation.
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(body.len()).as_bytes();
            let d = digits.len();
            if let Some(dst) = self.out.reserve(16 + d + 4 + body_len) {
                dst[..16].copy_from_slice(b"Content-Length: ");
                copy_bytes(&mut dst[16..16 + d], digits);
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
            let mut digits = itoa::Buffer::new();
            self.out.write(digits.format(length).as_bytes());
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
        let gap_start = self.out.len();
        let discard = self.head || self.status.forbids_body();
        self.out.reserve(LENGTH_GAP);
        BodyWriter {
            head: self,
            gap_start,
            discard,
            discarded: 0,
            failed: false,
        }
    }
}

/// A header name checked once, when it is made: a token (RFC 9110 §5.1) and not one of the
/// framing headers only zzz writes. Made in `const` context, an invalid name is a compile
/// error, and passing it to [`ResponseWriter::header`] skips the check a `&str` gets on every
/// response.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeaderName(&'static str);

impl HeaderName {
    /// `Content-Type`.
    pub const CONTENT_TYPE: HeaderName = HeaderName::new("Content-Type");
    /// `Cache-Control`.
    pub const CACHE_CONTROL: HeaderName = HeaderName::new("Cache-Control");
    /// `Location`.
    pub const LOCATION: HeaderName = HeaderName::new("Location");
    /// `ETag`.
    pub const ETAG: HeaderName = HeaderName::new("ETag");
    /// `Vary`.
    pub const VARY: HeaderName = HeaderName::new("Vary");
    /// `Content-Encoding`.
    pub const CONTENT_ENCODING: HeaderName = HeaderName::new("Content-Encoding");
    /// `Allow`.
    pub const ALLOW: HeaderName = HeaderName::new("Allow");

    /// A checked name; panics (at compile time, in `const` context) if it is not a valid one.
    pub const fn new(name: &'static str) -> HeaderName {
        assert!(
            const_valid_name(name.as_bytes()),
            "not a header name a response may carry"
        );
        HeaderName(name)
    }

    /// The name.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// A header name argument: a [`HeaderName`] (checked when made) or a `&str` (checked here).
pub trait AsHeaderName {
    /// The name, if valid.
    fn checked(&self) -> Option<&str>;
}

impl AsHeaderName for &str {
    #[inline]
    fn checked(&self) -> Option<&str> {
        valid_name(self).then_some(self)
    }
}

impl AsHeaderName for HeaderName {
    #[inline]
    fn checked(&self) -> Option<&str> {
        Some(self.0)
    }
}

const fn const_valid_name(name: &[u8]) -> bool {
    const fn eq_lower(a: &[u8], lower: &[u8]) -> bool {
        if a.len() != lower.len() {
            return false;
        }
        let mut i = 0;
        // Bounded: counted over a (a const fn has no `for`).
        while i < a.len() {
            if a[i].to_ascii_lowercase() != lower[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    if name.is_empty()
        || eq_lower(name, b"content-length")
        || eq_lower(name, b"transfer-encoding")
        || eq_lower(name, b"connection")
    {
        return false;
    }
    let mut i = 0;
    // Bounded: counted over name (a const fn has no `for`).
    while i < name.len() {
        if !TOKEN[name[i] as usize] {
            return false;
        }
        i += 1;
    }
    true
}

fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let framing = match bytes.len() {
        0 => return false,
        10 => eq_ignore_case(bytes, b"connection"),
        14 => eq_ignore_case(bytes, b"content-length"),
        17 => eq_ignore_case(bytes, b"transfer-encoding"),
        _ => false,
    };
    !framing && scan_token(bytes, 0) == bytes.len()
}

/// Whether every byte of `value` may appear in a field value (RFC 9110 §5.5).
fn valid_value(value: &[u8]) -> bool {
    let mut i = 0;
    // Bounded: each turn moves past at least one byte.
    for _ in 0..=value.len() {
        i = scan_field_value(value, i);
        match value.get(i) {
            None => return true,
            Some(b'\t') => i += 1,
            Some(_) => return false,
        }
    }
    unreachable!("each turn moves past a byte")
}

/// A body of not-yet-known length; implements [`core::fmt::Write`]. Finish it with
/// [`BodyWriter::finish`].
#[derive(Debug)]
pub struct BodyWriter<'a> {
    head: ResponseWriter<'a>,
    gap_start: usize,
    /// HEAD or a bodiless status: count the body, do not store it.
    discard: bool,
    discarded: u64,
    /// The producer gave up; the response is an error whatever was written.
    failed: bool,
}

impl<'a> BodyWriter<'a> {
    /// Appends body bytes.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        if self.discard {
            self.discarded += data.len() as u64;
        } else {
            self.head.out.write(data);
        }
    }

    /// Appends what `fill` writes in place; see [`ByteWriter::write_with`]. For HEAD and
    /// bodiless statuses the bytes are counted (for `Content-Length`) and dropped.
    pub fn write_with(&mut self, fill: impl FnMut(&mut [u8]) -> Option<usize>) -> Option<usize> {
        if !self.discard {
            return self.head.out.write_with(fill);
        }
        let before = self.head.out.len();
        let n = self.head.out.write_with(fill)?;
        self.head.out.truncate(before);
        self.discarded += n as u64;
        Some(n)
    }

    /// Whether a write did not fit (the response will fail).
    pub fn overflowed(&self) -> bool {
        self.head.out.overflowed()
    }

    /// The writer underneath, for a producer that writes many pieces (a template): writing
    /// to it directly spares each piece a test. Bytes written there while the body is only
    /// counted (HEAD, bodiless statuses) are counted and dropped by [`BodyWriter::settle`],
    /// which must follow.
    #[cfg_attr(not(feature = "templates"), allow(dead_code))]
    pub(crate) fn raw(&mut self) -> &mut ByteWriter<'a> {
        &mut self.head.out
    }

    /// Accounts for what was written through [`BodyWriter::raw`].
    #[cfg_attr(not(feature = "templates"), allow(dead_code))]
    pub(crate) fn settle(&mut self) {
        let body_start = self.gap_start + LENGTH_GAP;
        if self.discard && self.head.out.len() > body_start {
            self.discarded += (self.head.out.len() - body_start) as u64;
            self.head.out.truncate(body_start);
        }
    }

    /// Body bytes so far.
    pub fn body_len(&self) -> u64 {
        if self.discard {
            self.discarded
        } else {
            self.head
                .out
                .len()
                .saturating_sub(self.gap_start + LENGTH_GAP) as u64
        }
    }

    /// Marks the body as failed for a reason other than room (a template's own error):
    /// [`BodyWriter::finish`] then returns [`ResponseError::Render`], so the server answers
    /// its static 500 instead of a page cut short.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Writes `Content-Length` into the gap, closes it, and returns the writer holding the
    /// whole response: the body moves down over the unused part of the gap.
    pub fn finish(mut self) -> Result<ByteWriter<'a>, ResponseError> {
        let unused = self.fill_gap()?;
        let end = self.head.out.len();
        self.head
            .out
            .written_mut()
            .copy_within(self.gap_start + unused..end, self.gap_start);
        self.head.out.truncate(end - unused);
        self.head.result()
    }

    /// Like [`BodyWriter::finish`], but closes the gap by moving the head (a few hundred
    /// bytes) up against the body instead of the body (any size) down: returns the writer and
    /// the offset at which the response starts in it; the bytes before are unused. The server
    /// sends from that offset, so a page is never copied after it is rendered.
    pub fn finish_in_place(mut self) -> Result<(ByteWriter<'a>, usize), ResponseError> {
        let unused = self.fill_gap()?;
        self.head
            .out
            .written_mut()
            .copy_within(0..self.gap_start, unused);
        Ok((self.head.result()?, unused))
    }

    /// Writes `Content-Length` and the empty line at the end of the gap, just before the body;
    /// returns how many bytes of the gap's start are unused.
    fn fill_gap(&mut self) -> Result<usize, ResponseError> {
        if self.head.out.overflowed() || self.head.invalid {
            return Err(if self.head.invalid {
                ResponseError::InvalidHeader
            } else {
                ResponseError::Overflow
            });
        }
        if self.failed {
            return Err(ResponseError::Render);
        }
        let body_len = self.body_len();
        let mut tail = [0u8; LENGTH_GAP];
        let mut n = 0;
        let mut push = |bytes: &[u8]| {
            tail[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        if !self.head.status.forbids_body() {
            push(b"Content-Length: ");
            push(itoa::Buffer::new().format(body_len).as_bytes());
            push(b"\r\n");
        }
        push(b"\r\n");
        let unused = LENGTH_GAP - n;
        let at = self.gap_start + unused;
        self.head.out.written_mut()[at..at + n].copy_from_slice(&tail[..n]);
        Ok(unused)
    }
}

impl core::fmt::Write for BodyWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if self.discard {
            self.discarded += s.len() as u64;
            return Ok(());
        }
        self.head.out.write_str(s)
    }
}

/// Writes one chunk of a chunked body: size line, data, CRLF. Empty data writes nothing
/// (an empty chunk would end the body).
pub fn write_chunk(out: &mut ByteWriter<'_>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut hex = [0u8; 16];
    out.write(hex_digits(data.len() as u64, &mut hex));
    out.write(b"\r\n");
    out.write(data);
    out.write(b"\r\n");
}

/// Bytes a chunk of `len` data bytes takes on the wire.
pub fn chunk_overhead(len: usize) -> usize {
    let mut hex = [0u8; 16];
    hex_digits(len as u64, &mut hex).len() + 4
}

/// The last chunk and an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

fn hex_digits(mut n: u64, out: &mut [u8; 16]) -> &[u8] {
    // Bounded: a u64 has 16 hex digits, the size of `out`.
    for i in (0..out.len()).rev() {
        out[i] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            return &out[i..];
        }
    }
    unreachable!("a u64 has at most 16 hex digits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;
    use std::string::String;

    fn options(date: &HttpDate) -> ResponseOptions<'_> {
        ResponseOptions {
            date,
            server: Some("zzz"),
            version: Version::Http11,
            keep_alive: true,
            head: false,
        }
    }

    fn text(out: &ByteWriter<'_>) -> String {
        String::from_utf8(out.written().to_vec()).unwrap()
    }

    /// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
    #[test]
    fn known_length_body() {
        let mut buf = [0u8; 256];
        let date = HttpDate::new();
        let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
        w.header("Content-Type", b"text/plain");
        let out = w.body(b"Hello, World!").unwrap();
        assert_eq!(
            text(&out),
            "HTTP/1.1 200 OK\r\nServer: zzz\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
        );
    }

    /// RFC 9110 §9.3.2: HEAD gets the same headers as GET, Content-Length included, no body.
    #[test]
    fn head_keeps_length_drops_body() {
        let mut buf = [0u8; 256];
        let date = HttpDate::new();
        let opts = ResponseOptions {
            head: true,
            ..options(&date)
        };
        let out = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
            .body(b"abc")
            .unwrap();
        assert!(text(&out).ends_with("Content-Length: 3\r\n\r\n"));
        let mut buf = [0u8; 256];
        let mut body =
            ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts).into_body();
        write!(body, "{}", 12345).unwrap();
        let out = body.finish().unwrap();
        assert!(text(&out).ends_with("Content-Length: 5\r\n\r\n"));
    }

    /// RFC 9110 §8.6: no Content-Length in 1xx and 204; §15.4.5: 304 has no content.
    #[test]
    fn bodiless_statuses() {
        for status in [Status::NO_CONTENT, Status::NOT_MODIFIED] {
            let mut buf = [0u8; 256];
            let date = HttpDate::new();
            let out = ResponseWriter::new(ByteWriter::new(&mut buf), status, &options(&date))
                .body(b"ignored")
                .unwrap();
            let t = text(&out);
            assert!(
                !t.contains("Content-Length") && t.ends_with("\r\n\r\n"),
                "{t}"
            );
        }
    }

    /// RFC 9112 §9.6: `close` when the server will close; §9.3 an HTTP/1.0 client is told
    /// `keep-alive` explicitly.
    #[test]
    fn connection_header() {
        let date = HttpDate::new();
        let mut buf = [0u8; 256];
        let opts = ResponseOptions {
            keep_alive: false,
            ..options(&date)
        };
        let out = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
            .body(b"")
            .unwrap();
        assert!(text(&out).contains("\r\nConnection: close\r\n"));
        let mut buf = [0u8; 256];
        let opts = ResponseOptions {
            version: Version::Http10,
            ..options(&date)
        };
        let out = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
            .body(b"")
            .unwrap();
        assert!(text(&out).contains("\r\nConnection: keep-alive\r\n"));
    }

    #[test]
    fn formatted_body_gets_its_length() {
        let mut buf = [0u8; 256];
        let date = HttpDate::new();
        let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
        w.header_fmt("X-Count", format_args!("{}", 7));
        let mut body = w.into_body();
        write!(body, "{{\"n\":{}}}", 42).unwrap();
        let out = body.finish().unwrap();
        let t = text(&out);
        assert!(
            t.ends_with("X-Count: 7\r\nContent-Length: 8\r\n\r\n{\"n\":42}"),
            "{t}"
        );
    }

    #[test]
    fn overflow_is_an_error_never_a_truncated_response() {
        let mut buf = [0u8; 80];
        let date = HttpDate::new();
        let w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
        assert_eq!(w.body(&[b'x'; 100]).err(), Some(ResponseError::Overflow));
    }

    #[test]
    fn standby_buffer_takes_over() {
        let mut small = [0u8; 64];
        let mut large = [0u8; 512];
        let date = HttpDate::new();
        let w = ResponseWriter::new(
            ByteWriter::with_standby(&mut small, Some(&mut large)),
            Status::OK,
            &options(&date),
        );
        let out = w.body(&[b'x'; 100]).unwrap();
        assert!(out.moved());
        assert!(text(&out).starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text(&out).ends_with(&"x".repeat(100)));
    }

    /// Response splitting: a value with CR or LF, a non-token name, or a framing header is
    /// refused rather than written.
    #[test]
    fn invalid_headers_are_refused() {
        let date = HttpDate::new();
        for (name, value) in [
            ("X-A", &b"a\r\nSet-Cookie: x"[..]),
            ("X A", b"v"),
            ("", b"v"),
            ("Content-Length", b"5"),
            ("transfer-encoding", b"chunked"),
            ("Connection", b"close"),
            ("X-N", b"\x00"),
        ] {
            let mut buf = [0u8; 256];
            let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
            w.header(name, value);
            assert_eq!(
                w.body(b"").err(),
                Some(ResponseError::InvalidHeader),
                "{name:?}"
            );
        }
    }

    /// RFC 9112 §7.1: chunk = chunk-size CRLF chunk-data CRLF; last-chunk = 1*"0" CRLF.
    #[test]
    fn chunked_stream() {
        let date = HttpDate::new();
        let mut buf = [0u8; 256];
        let (mut out, framing) =
            ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date))
                .head_for_stream()
                .unwrap();
        assert_eq!(framing, StreamFraming::Chunked);
        write_chunk(&mut out, &[b'a'; 26]);
        write_chunk(&mut out, b"");
        out.write(LAST_CHUNK);
        assert!(text(&out).ends_with(
            "Transfer-Encoding: chunked\r\n\r\n1a\r\naaaaaaaaaaaaaaaaaaaaaaaaaa\r\n0\r\n\r\n"
        ));
        assert_eq!(chunk_overhead(26), 6);
        // HTTP/1.0 has no chunked coding: the body is delimited by closing.
        let mut buf = [0u8; 256];
        let opts = ResponseOptions {
            version: Version::Http10,
            ..options(&date)
        };
        let (out, framing) = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
            .head_for_stream()
            .unwrap();
        assert_eq!(framing, StreamFraming::UntilClose);
        assert!(text(&out).contains("Connection: close\r\n"));
    }

    /// A checked name is written as given; a name only zzz may write is refused when made.
    #[test]
    fn header_names_checked_once() {
        const X_TRACE: HeaderName = HeaderName::new("X-Trace");
        let mut buf = [0u8; 256];
        let date = HttpDate::new();
        let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
        w.header(X_TRACE, b"1")
            .header(HeaderName::CONTENT_TYPE, b"text/plain");
        let out = w.body(b"").unwrap();
        assert!(text(&out).contains("X-Trace: 1\r\nContent-Type: text/plain\r\n"));
        for bad in [
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "",
            "X Y",
        ] {
            assert!(
                std::panic::catch_unwind(|| HeaderName::new(bad)).is_err(),
                "{bad:?}"
            );
        }
    }
}
