//! The request-head parser: zero-copy, resumable, strict (RFC 9112 §2–§6).
//!
//! [`HeadParser::parse`] is called with everything received so far for the current request
//! (the same prefix, growing) and the caller's header array. It validates each line once: when
//! a line is incomplete it remembers where the line starts and how far it has searched for the
//! line's LF, and the next call only searches the new bytes before parsing that line, so the
//! total work stays linear in the bytes received however the head is split.
//!
//! ## Choices where RFC 9112 leaves room
//!
//! - **Bare LF** (RFC 9112 §2.2 "MAY recognize a single LF"): rejected with 400. Every
//!   mainstream client sends CRLF, and disagreeing about line ends is how requests get
//!   smuggled past a proxy.
//! - **Empty lines before the request line** (RFC 9112 §2.2 "SHOULD ignore at least one"):
//!   ignored, any number, counted against [`Limits::max_head`].
//! - **Repeated Content-Length** (RFC 9112 §6.3 item 5 and RFC 9110 §8.6): accepted when every
//!   value, in separate fields or in one comma-separated list, is the same number; any
//!   difference is 400.
//! - **Transfer-Encoding**: `chunked` must be the final coding and appear once, or 400
//!   (RFC 9112 §6.3 item 4 is a MUST); other codings before a final `chunked` are not
//!   implemented, 501 (RFC 9112 §6.1). Several fields form one list.
//! - **Request targets** must hold only RFC 3986 characters (no `"<>\^`{|}`, no `#`, no
//!   spaces, no non-ASCII); absolute-form targets must be `http` or `https` without userinfo
//!   (RFC 9110 §4.2.4).
//! - **HTTP versions**: a higher minor version (`HTTP/1.2` to `HTTP/1.9`) is processed as
//!   HTTP/1.1 (RFC 9110 §2.5); another major version, well formed, gets 505; a malformed one
//!   400.
//! - **An empty Host** (RFC 9110 §7.2 lets a client send one only when the target URI has no
//!   authority) is 400 on an HTTP/1.1 request in origin or asterisk form: the target URI's
//!   authority would come from that Host (RFC 9112 §3.3), and an `http` URI with an empty host
//!   is invalid (RFC 9110 §4.2.1). An absolute-form target carries its own authority (the
//!   server then ignores Host, RFC 9112 §3.2.2), and an HTTP/1.0 request may leave Host out
//!   altogether, so there an empty Host is accepted.

use super::error::RequestError;
use super::limits::Limits;
use super::method::Method;
use super::request::{HeaderSpan, RequestHead, Span};
use super::scan::{
    TOKEN, field_line_block, scan_field_value, scan_target, scan_token, skip_common_token,
};

mod fields;
mod request_line;

use RequestError::*;
use fields::{FieldFacts, Known, is_keep_alive, known_field};

/// The result of feeding bytes to a [`HeadParser`].
#[must_use = "a partial head needs more bytes; a complete one must be acted upon"]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Parsed<'p> {
    /// The head is complete and valid; its length is [`RequestHead::len`].
    Complete(&'p RequestHead),
    /// The head is valid so far; call again with more bytes appended to the same buffer.
    Partial,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    RequestLine,
    Fields,
    Done,
}

/// A resumable parser for one request head. Reuse it with [`HeadParser::reset`].
#[derive(Clone, Debug)]
pub struct HeadParser {
    phase: Phase,
    /// Offset of the line being parsed.
    line_start: u16,
    /// `buf[line_start..searched]` holds no LF: where the next call resumes the search.
    searched: u16,
    /// Which part of the line at `line_start` the bytes up to `searched` ended in.
    part: LinePart,
    /// The method token has been parsed (`head.method` holds it).
    method_known: bool,
    head: RequestHead,
    facts: FieldFacts,
}

impl Default for HeadParser {
    fn default() -> Self {
        HeadParser::new()
    }
}

enum Line {
    Partial(LinePart),
    Field(usize),
    End(usize),
}

impl HeadParser {
    /// A parser waiting for the first byte of a request.
    pub const fn new() -> HeadParser {
        HeadParser {
            phase: Phase::RequestLine,
            line_start: 0,
            searched: 0,
            part: LinePart::Method,
            method_known: false,
            head: RequestHead::EMPTY,
            facts: FieldFacts {
                framing_or_expect: false,
                content_length: None,
                transfer_encoding: false,
                chunked_count: 0,
                chunked_final: false,
                unsupported_coding: false,
                malformed_coding: false,
                host_count: 0,
                close: false,
                keep_alive: false,
                expect_continue: false,
                expect_other: false,
            },
        }
    }

    /// Makes the parser ready for the next request.
    pub fn reset(&mut self) {
        *self = HeadParser::new();
    }

    /// The head the last call to [`HeadParser::parse`] completed, kept until
    /// [`HeadParser::reset`]: a caller reads it there rather than keeping a copy.
    pub fn head(&self) -> &RequestHead {
        debug_assert!(self.phase == Phase::Done, "no complete head to read");
        &self.head
    }

    /// Whether any byte of a request head has been accepted (empty lines before the request
    /// line do not count). Used to tell an idle connection from a slow request.
    pub fn started(&self) -> bool {
        self.phase != Phase::RequestLine || self.searched > self.line_start
    }

    /// The method, once its token has been parsed (even if the head is rejected later): an error answering a HEAD request carries no body.
    pub fn method(&self) -> Option<Method> {
        self.method_known.then_some(self.head.method)
    }

    /// Parses the head at the start of `buf`, which holds every byte received for this
    /// request so far. `fields` receives the header fields and must be the same array on every
    /// call for one request; at most `min(fields.len(), limits.max_headers)` are accepted.
    ///
    /// Bytes past the head (a body, the next pipelined request) are never looked at.
    pub fn parse(
        &mut self,
        buf: &[u8],
        fields: &mut [HeaderSpan],
        limits: &Limits,
    ) -> Result<Parsed<'_>, RequestError> {
        assert!(
            self.phase != Phase::Done,
            "reset the parser before the next request"
        );
        debug_assert!(limits.validate().is_ok());
        let window = &buf[..buf.len().min(limits.max_head as usize)];
        let mut pos = self.line_start as usize;

        // Resume: the line at `pos` was incomplete. Check only the new bytes, continuing from
        // where the last call stopped; parse the line again only once it is decided (its LF
        // arrived, or an invalid byte did, which the full parse then reports exactly as it
        // would have in one piece).
        //
        // The request line is checked against its limit in byte order: nothing past
        // `max_request_line` (and its CRLF) is examined, so a line that is too long is 414
        // whatever it holds beyond the limit, however it arrives.
        if self.searched as usize > pos {
            let scope = if self.phase == Phase::RequestLine {
                request_line_scope(window, pos, limits)
            } else {
                window
            };
            match resume(self.part, scope, self.searched as usize) {
                Resume::Partial(_) if scope.len() < window.len() => return Err(RequestLineTooLong),
                Resume::Partial(part) => {
                    return self.partial(part, pos, window.len(), buf.len(), limits);
                }
                Resume::Reparse => {}
            }
        }

        if self.phase == Phase::RequestLine {
            match self.request_line_phase(window, pos, buf.len(), limits)? {
                Some(next) => pos = next,
                None => return Ok(Parsed::Partial),
            }
        }

        let max_fields = fields.len().min(limits.max_headers as usize);
        let fields = &mut fields[..max_fields];
        // Bounded: each round stores a field (at most `fields.len()`, then TooManyHeaders),
        // ends the head, or finds the line incomplete.
        loop {
            match self.parse_field_line(window, pos, fields)? {
                Line::Field(next) => pos = next,
                Line::Partial(part) => {
                    return self.partial(part, pos, window.len(), buf.len(), limits);
                }
                Line::End(next) => {
                    self.finish(next, limits)?;
                    return Ok(Parsed::Complete(&self.head));
                }
            }
        }
    }

    /// Skips the empty lines before the request line at `pos` and parses it: `Some` of where
    /// the field lines start, `None` when the line is incomplete.
    #[inline(always)]
    fn request_line_phase(
        &mut self,
        window: &[u8],
        mut pos: usize,
        buf_len: usize,
        limits: &Limits,
    ) -> Result<Option<usize>, RequestError> {
        // A line starting with `GET ` (most requests) is no empty line: that test first
        // (callgrind: 3 instructions less).
        if window.get(pos..pos + 4) != Some(b"GET ")
            && !matches!(window.get(pos), Some(&b) if b != b'\r' && b != b'\n')
        {
            match skip_empty_lines(window, pos)? {
                Ok(next) => pos = next,
                Err((line_start, part)) => {
                    return self
                        .partial(part, line_start, window.len(), buf_len, limits)
                        .map(|_| None);
                }
            }
        }
        let scope = request_line_scope(window, pos, limits);
        match self.parse_request_line(scope, pos, limits)? {
            Err(_) if scope.len() < window.len() => Err(RequestLineTooLong),
            Err(part) => self
                .partial(part, pos, window.len(), buf_len, limits)
                .map(|_| None),
            Ok(next) => {
                self.phase = Phase::Fields;
                Ok(Some(next))
            }
        }
    }

    fn partial(
        &mut self,
        part: LinePart,
        line_start: usize,
        window_len: usize,
        buf_len: usize,
        limits: &Limits,
    ) -> Result<Parsed<'static>, RequestError> {
        self.line_start = line_start as u16;
        self.searched = window_len as u16;
        self.part = part;
        // The line so far may end with the CR of its CRLF, hence the `+ 1`.
        if self.phase == Phase::RequestLine
            && window_len - line_start > limits.max_request_line as usize + 1
        {
            return Err(RequestLineTooLong);
        }
        if buf_len >= limits.max_head as usize {
            return Err(if self.phase == Phase::RequestLine {
                RequestLineTooLong
            } else {
                HeadTooLarge
            });
        }
        Ok(Parsed::Partial)
    }

    /// Parses one field line at `start`, or the empty line that ends the head; `fields` holds
    /// as many fields as are accepted.
    #[inline(always)]
    fn parse_field_line(
        &mut self,
        buf: &[u8],
        start: usize,
        fields: &mut [HeaderSpan],
    ) -> Result<Line, RequestError> {
        let Some(&first) = buf.get(start) else {
            return Ok(Line::Partial(LinePart::LineStart));
        };
        if first == b'\r' {
            return match buf.get(start + 1) {
                None => Ok(Line::Partial(LinePart::EndLf)),
                Some(b'\n') => Ok(Line::End(start + 2)),
                Some(_) => Err(BareCr),
            };
        }

        // Nearly every line: its name and the start of its value from one 16-byte block.
        let (name, mut value_start, mut i) = match field_line_block(buf, start) {
            Some((name, stop)) => {
                let i = stop.unwrap_or_else(|| scan_field_value(buf, start + 16));
                (name, start + name.len() + 1, i)
            }
            None => {
                // The general way (a name with other token bytes, a line near the end of what
                // has arrived, an invalid line): a skip over the common token bytes, then the
                // full token scan only if the name goes on past them.
                let mut name_end = skip_common_token(buf, start);
                if name_end == start || buf.get(name_end) != Some(&b':') {
                    name_end = match field_name_end(buf, start)? {
                        Ok(end) => end,
                        Err(part) => return Ok(Line::Partial(part)),
                    };
                }
                // The value is scanned from just after the colon and the single space that
                // nearly always follows it: any other OWS around the value are value bytes
                // too, found afterwards with one comparison a byte, as only they are at most
                // a space among checked value bytes (callgrind: a separate loop before the
                // scan cost about 15 instructions a field).
                let mut value_start = name_end + 1;
                if buf.get(value_start) == Some(&b' ') {
                    value_start += 1;
                }
                (
                    &buf[start..name_end],
                    value_start,
                    scan_field_value(buf, value_start),
                )
            }
        };
        if buf.get(i) != Some(&b'\r') {
            i = match field_value_end(buf, i)? {
                Ok(end) => end,
                Err(part) => return Ok(Line::Partial(part)),
            };
        }
        match buf.get(i + 1) {
            Some(b'\n') => {}
            None => return Ok(Line::Partial(LinePart::FieldLf)),
            Some(_) => return Err(BareCr),
        }
        // Every byte of `value_start..i` is HTAB or a visible byte, space or obs-text: the OWS
        // are exactly those at most b' '.
        debug_assert!(value_start <= i && i < buf.len());
        // SAFETY: `i < buf.len()`: the CR at `i` was read above (or in `field_value_end`).
        // `value_start <= i`: `i` is where a value scan stopped (`scan_field_value` returns an
        // index at or after its start) that started at `value_start`, or at `start + 16`
        // when the colon lies in the first 16 bytes (`value_start <= start + 16`), or at the
        // block's stop after the colon (`field_line_block`). Unchecked: the checked slice cost
        // about 4 instructions a field (callgrind: 30 for the browser request).
        let mut value = unsafe { buf.get_unchecked(value_start..i) };
        // Bounded: each round drops a byte of `value`.
        while let [b, rest @ ..] = value
            && *b <= b' '
        {
            value = rest;
            value_start += 1;
        }
        // Bounded: each round drops a byte of `value`.
        while let [rest @ .., b] = value
            && *b <= b' '
        {
            value = rest;
        }
        let value_end = value_start + value.len();

        let name_span = Span::new(start, start + name.len());
        let value = Span::new(value_start, value_end);
        let count = self.head.header_count;
        let Some(field) = fields.get_mut(count as usize) else {
            return Err(TooManyHeaders);
        };
        *field = HeaderSpan {
            name: name_span,
            value,
        };
        self.head.header_count = count + 1;
        match known_field(name) {
            None => {}
            Some(Known::Host) => self.note_host(buf, value)?,
            // Inline: browsers send it with every request.
            Some(Known::Connection) if is_keep_alive(&buf[value_start..value_end]) => {
                self.facts.keep_alive = true;
            }
            Some(known) => self.note_field(known, buf, value)?,
        }
        Ok(Line::Field(i + 2))
    }
}

/// Skips the empty lines before the request line (RFC 9112 §2.2) from `pos`: where the request
/// line starts, or `Err` of the start of the incomplete line and where it ended. Out of line:
/// nearly every request starts with its request line.
#[inline(never)]
fn skip_empty_lines(
    window: &[u8],
    mut pos: usize,
) -> Result<Result<usize, (usize, LinePart)>, RequestError> {
    // Bounded: each round skips an empty line's CRLF (two bytes of the window) or leaves.
    let mut budget = window.len() / 2 + 1;
    loop {
        assert!(budget > 0, "the leading CRLFs outlasted the window");
        budget -= 1;
        let part = match window.get(pos) {
            None => LinePart::Method,
            Some(b'\r') => match window.get(pos + 1) {
                None => LinePart::LeadingLf,
                Some(b'\n') => {
                    pos += 2;
                    continue;
                }
                Some(_) => return Err(BareCr),
            },
            Some(b'\n') => return Err(BareLf),
            Some(_) => return Ok(Ok(pos)),
        };
        return Ok(Err((pos, part)));
    }
}

/// Where the name of the field line at `start` ends (at its colon), past the common case of
/// [`HeadParser::parse_field_line`]: `Err` of where an incomplete line ended.
#[inline(never)]
fn field_name_end(buf: &[u8], start: usize) -> Result<Result<usize, LinePart>, RequestError> {
    let name_end = scan_token(buf, start);
    let Some(&delimiter) = buf.get(name_end) else {
        return Ok(Err(LinePart::Name));
    };
    if delimiter != b':' || name_end == start {
        return Err(match delimiter {
            _ if name_end == start => match buf[start] {
                b'\n' => BareLf,
                b' ' | b'\t' => LeadingWhitespace,
                _ => InvalidHeaderName,
            },
            b' ' | b'\t' => WhitespaceBeforeColon,
            b'\n' => BareLf,
            _ => InvalidHeaderName,
        });
    }
    Ok(Ok(name_end))
}

/// Where the field value scanned up to `i` ends (at its CR), past the common case of
/// [`HeadParser::parse_field_line`]: over tabs, or `Err` of where an incomplete line ended.
#[inline(never)]
fn field_value_end(buf: &[u8], mut i: usize) -> Result<Result<usize, LinePart>, RequestError> {
    // Bounded: each round moves past a tab of buf.
    while buf.get(i) == Some(&b'\t') {
        i = scan_field_value(buf, i + 1);
    }
    match buf.get(i) {
        Some(b'\r') => Ok(Ok(i)),
        None => Ok(Err(LinePart::Value)),
        Some(b'\n') => Err(BareLf),
        Some(_) => Err(InvalidHeaderValue),
    }
}

/// The part of `window` that a request line starting at `pos` may take up: nothing past
/// `max_request_line` (and its CRLF) is examined.
fn request_line_scope<'w>(window: &'w [u8], pos: usize, limits: &Limits) -> &'w [u8] {
    &window[..window.len().min(pos + limits.max_request_line as usize + 2)]
}

/// Where an incomplete line ended, so that the next call can go on checking it from there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LinePart {
    /// After the CR of an empty line before the request line.
    LeadingLf,
    /// In the method.
    Method,
    /// In the target (`empty`: none of it yet).
    Target { empty: bool },
    /// In the version, this many bytes of `HTTP/d.d` seen.
    Version(u8),
    /// After the CR of the request line.
    RequestLf,
    /// At the start of a field line.
    LineStart,
    /// In a field name.
    Name,
    /// After the colon: whitespace or value.
    Value,
    /// After the CR of a field line.
    FieldLf,
    /// After the CR of the empty line that ends the head.
    EndLf,
}

/// What checking the new bytes of an incomplete line found.
enum Resume {
    /// Still valid and incomplete, now in this part.
    Partial(LinePart),
    /// The line is decided (complete or invalid): parse it from its start.
    Reparse,
}

/// Checks `buf[from..]`, the bytes that arrived since the line was found incomplete in
/// `part`, with the same byte classes as the full parse. Each byte is looked at once.
fn resume(mut part: LinePart, buf: &[u8], from: usize) -> Resume {
    use LinePart::*;
    const VERSION: &[u8; 9] = b"HTTP/0.0\r";
    let mut i = from;
    // Bounded: counted, i moves forward at least one byte a round.
    while i < buf.len() {
        part = match part {
            LeadingLf | RequestLf | FieldLf | EndLf => return Resume::Reparse,
            Method => {
                i = scan_token(buf, i);
                match buf.get(i) {
                    None => break,
                    Some(b' ') => Target { empty: true },
                    Some(_) => return Resume::Reparse,
                }
            }
            Target { empty } => {
                let end = scan_target(buf, i);
                let empty = empty && end == i;
                i = end;
                match buf.get(i) {
                    None => {
                        part = Target { empty };
                        break;
                    }
                    Some(b' ') if !empty => Version(0),
                    Some(_) => return Resume::Reparse,
                }
            }
            Version(k) => {
                let (b, expected) = (buf[i], VERSION[k as usize]);
                let ok = if expected == b'0' {
                    b.is_ascii_digit()
                } else {
                    b == expected
                };
                match (ok, k) {
                    (false, _) => return Resume::Reparse,
                    (true, 8) => RequestLf,
                    (true, _) => Version(k + 1),
                }
            }
            LineStart => match buf[i] {
                b'\r' => EndLf,
                b if TOKEN[b as usize] => Name,
                _ => return Resume::Reparse,
            },
            Name => {
                i = scan_token(buf, i);
                match buf.get(i) {
                    None => break,
                    Some(b':') => Value,
                    Some(_) => return Resume::Reparse,
                }
            }
            Value => {
                i = scan_field_value(buf, i);
                match buf.get(i) {
                    None => break,
                    Some(b'\t') => Value,
                    Some(b'\r') => FieldLf,
                    Some(_) => return Resume::Reparse,
                }
            }
        };
        i += 1;
    }
    Resume::Partial(part)
}

#[cfg(test)]
mod tests;
