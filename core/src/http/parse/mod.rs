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
use super::header::{TokenList, eq_ignore_case, trim_ows};
use super::limits::Limits;
use super::method::Method;
use super::request::{Framing, HeaderSpan, RequestHead, Span, TargetForm, Version};
use super::scan::{HOST, TOKEN, scan_field_value, scan_path, scan_target, scan_token};

use RequestError::*;

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

/// Facts gathered from the fields that decide framing and persistence.
#[derive(Clone, Copy, Default, Debug)]
struct FieldFacts {
    content_length: Option<u64>,
    transfer_encoding: bool,
    chunked_count: u8,
    chunked_final: bool,
    unsupported_coding: bool,
    malformed_coding: bool,
    host_count: u8,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
    expect_other: bool,
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
            head: RequestHead {
                method: Method::Get,
                method_span: Span { start: 0, len: 0 },
                target: Span { start: 0, len: 0 },
                target_form: TargetForm::Origin,
                path: Span { start: 0, len: 0 },
                query: None,
                version: Version::Http11,
                header_count: 0,
                framing: Framing::None,
                keep_alive: false,
                expect_continue: false,
                host: None,
                len: 0,
            },
            facts: FieldFacts {
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
        let line_window =
            |pos: usize| &window[..window.len().min(pos + limits.max_request_line as usize + 2)];
        if self.searched as usize > pos {
            let scope = if self.phase == Phase::RequestLine {
                line_window(pos)
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
            // Bounded: each round skips an empty line's CRLF (two bytes of the window) or
            // leaves.
            let mut budget = window.len() / 2 + 1;
            loop {
                assert!(budget > 0, "the leading CRLFs outlasted the window");
                budget -= 1;
                match window.get(pos) {
                    None => {
                        return self.partial(
                            LinePart::Method,
                            pos,
                            window.len(),
                            buf.len(),
                            limits,
                        );
                    }
                    Some(b'\r') => match window.get(pos + 1) {
                        None => {
                            return self.partial(
                                LinePart::LeadingLf,
                                pos,
                                window.len(),
                                buf.len(),
                                limits,
                            );
                        }
                        Some(b'\n') => pos += 2,
                        Some(_) => return Err(BareCr),
                    },
                    Some(b'\n') => return Err(BareLf),
                    Some(_) => break,
                }
            }
            let scope = line_window(pos);
            match self.parse_request_line(scope, pos, limits)? {
                Err(_) if scope.len() < window.len() => return Err(RequestLineTooLong),
                Err(part) => return self.partial(part, pos, window.len(), buf.len(), limits),
                Ok(next) => {
                    pos = next;
                    self.phase = Phase::Fields;
                }
            }
        }

        let max_fields = fields.len().min(limits.max_headers as usize);
        // Bounded: each round stores a field (at most `max_fields`, then TooManyHeaders), ends
        // the head, or finds the line incomplete.
        for _ in 0..=max_fields {
            match self.parse_field_line(window, pos, fields, max_fields)? {
                Line::Partial(part) => {
                    return self.partial(part, pos, window.len(), buf.len(), limits);
                }
                Line::Field(next) => pos = next,
                Line::End(next) => {
                    self.finish(next, limits)?;
                    return Ok(Parsed::Complete(&self.head));
                }
            }
        }
        unreachable!("a field line past max_fields is TooManyHeaders")
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

    /// Parses `method SP request-target SP HTTP-version CRLF` at `start`; `None` when the
    /// line is incomplete (and valid so far).
    fn parse_request_line(
        &mut self,
        buf: &[u8],
        start: usize,
        limits: &Limits,
    ) -> Result<Result<usize, LinePart>, RequestError> {
        let (method, method_end) = if buf.len() - start >= 4 && &buf[start..start + 4] == b"GET " {
            (Method::Get, start + 3)
        } else {
            let end = scan_token(buf, start);
            if end == buf.len() {
                return Ok(Err(LinePart::Method));
            }
            (Method::from_token(&buf[start..end]), end)
        };
        if method_end == start || buf[method_end] != b' ' {
            return Err(InvalidMethod);
        }
        self.head.method = method;
        self.method_known = true;

        let target_start = method_end + 1;
        let mut target_end = scan_path(buf, target_start);
        let mut query_at = None;
        if buf.get(target_end) == Some(&b'?') {
            query_at = Some(target_end);
            target_end = scan_target(buf, target_end + 1);
        }
        if target_end == buf.len() {
            return Ok(Err(LinePart::Target {
                empty: target_end == target_start,
            }));
        }
        if target_end == target_start || buf[target_end] != b' ' {
            return Err(if buf[target_end] == b'\n' {
                BareLf
            } else {
                InvalidTarget
            });
        }

        let version_start = target_end + 1;
        let rest = &buf[version_start..];
        let version = if rest.len() >= 10 && rest[..10] == *b"HTTP/1.1\r\n" {
            Version::Http11
        } else {
            check_version_prefix(rest)?;
            if rest.len() < 9 {
                return Ok(Err(LinePart::Version(rest.len() as u8)));
            }
            if rest.len() == 9 {
                return Ok(Err(LinePart::RequestLf));
            }
            parse_version(&rest[..8])?
        };
        let line_end = version_start + 8;
        if line_end - start > limits.max_request_line as usize {
            return Err(RequestLineTooLong);
        }

        let head = &mut self.head;
        head.method = method;
        head.method_span = Span::new(start, method_end);
        head.target = Span::new(target_start, target_end);
        head.version = version;
        self.classify_target(buf, target_start, target_end, query_at)?;
        Ok(Ok(line_end + 2))
    }

    /// Decides the target's form (RFC 9112 §3.2) and where its path and query lie.
    fn classify_target(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        query_at: Option<usize>,
    ) -> Result<(), RequestError> {
        let method = self.head.method;
        let target = &buf[start..end];
        let head = &mut self.head;
        match target[0] {
            b'/' if method != Method::Connect => {
                head.target_form = TargetForm::Origin;
                split_path_query(head, start, end, query_at);
            }
            b'*' if target.len() == 1 && method == Method::Options => {
                head.target_form = TargetForm::Asterisk;
                head.path = Span::new(start, end);
            }
            _ if method == Method::Connect => {
                if !is_authority_with_port(target) {
                    return Err(InvalidTarget);
                }
                head.target_form = TargetForm::Authority;
                head.path = Span::new(end, end);
            }
            b'/' | b'*' => return Err(InvalidTarget),
            _ => {
                let authority_start = start + absolute_scheme_len(target).ok_or(InvalidTarget)?;
                let authority_end = buf[authority_start..end]
                    .iter()
                    .position(|&b| b == b'/' || b == b'?')
                    .map_or(end, |p| authority_start + p);
                let authority = &buf[authority_start..authority_end];
                if authority.is_empty() || !authority.iter().all(|&b| HOST[b as usize]) {
                    return Err(InvalidTarget);
                }
                head.target_form = TargetForm::Absolute;
                split_path_query(head, authority_end, end, query_at);
            }
        }
        Ok(())
    }

    /// Parses one field line at `start`, or the empty line that ends the head.
    #[inline]
    fn parse_field_line(
        &mut self,
        buf: &[u8],
        start: usize,
        fields: &mut [HeaderSpan],
        max_fields: usize,
    ) -> Result<Line, RequestError> {
        let Some(&first) = buf.get(start) else {
            return Ok(Line::Partial(LinePart::LineStart));
        };
        match first {
            b'\r' => {
                return match buf.get(start + 1) {
                    None => Ok(Line::Partial(LinePart::EndLf)),
                    Some(b'\n') => Ok(Line::End(start + 2)),
                    Some(_) => Err(BareCr),
                };
            }
            b'\n' => return Err(BareLf),
            b' ' | b'\t' => return Err(LeadingWhitespace),
            _ => {}
        }

        let name_end = scan_token(buf, start);
        let Some(&delimiter) = buf.get(name_end) else {
            return Ok(Line::Partial(LinePart::Name));
        };
        if delimiter != b':' || name_end == start {
            return Err(match delimiter {
                b' ' | b'\t' if name_end > start => WhitespaceBeforeColon,
                b'\n' => BareLf,
                _ => InvalidHeaderName,
            });
        }

        let mut i = name_end + 1;
        // Bounded: counted, i += 1 within buf.
        while let Some(b' ' | b'\t') = buf.get(i) {
            i += 1;
        }
        let value_start = i;
        // Bounded: each round moves past a byte (a tab) or leaves.
        let mut budget = buf.len() - i + 1;
        loop {
            assert!(budget > 0, "a field value outlasted its buffer");
            budget -= 1;
            i = scan_field_value(buf, i);
            match buf.get(i) {
                None => return Ok(Line::Partial(LinePart::Value)),
                Some(b'\t') => i += 1,
                Some(b'\r') => break,
                Some(b'\n') => return Err(BareLf),
                Some(_) => return Err(InvalidHeaderValue),
            }
        }
        match buf.get(i + 1) {
            None => return Ok(Line::Partial(LinePart::FieldLf)),
            Some(b'\n') => {}
            Some(_) => return Err(BareCr),
        }
        let mut value_end = i;
        // Bounded: counted down to value_start.
        while value_end > value_start && matches!(buf[value_end - 1], b' ' | b'\t') {
            value_end -= 1;
        }

        let count = self.head.header_count as usize;
        if count >= max_fields {
            return Err(TooManyHeaders);
        }
        let name = Span::new(start, name_end);
        let value = Span::new(value_start, value_end);
        fields[count] = HeaderSpan { name, value };
        self.head.header_count += 1;
        self.note_field(buf, name, value)?;
        Ok(Line::Field(i + 2))
    }

    /// Records what a field means for framing and persistence (RFC 9112 §6, §9).
    #[inline]
    fn note_field(&mut self, buf: &[u8], name: Span, value: Span) -> Result<(), RequestError> {
        let name_bytes = name.of(buf);
        let value_bytes = value.of(buf);
        let facts = &mut self.facts;
        match name_bytes.len() {
            4 if token_eq_lower(name_bytes, b"host") => {
                facts.host_count += 1;
                if facts.host_count > 1 {
                    return Err(DuplicateHost);
                }
                if !value_bytes.iter().all(|&b| HOST[b as usize]) {
                    return Err(InvalidHost);
                }
                self.head.host = Some(value);
            }
            6 if token_eq_lower(name_bytes, b"expect") => {
                if eq_ignore_case(value_bytes, b"100-continue") {
                    facts.expect_continue = true;
                } else {
                    facts.expect_other = true;
                }
            }
            10 if token_eq_lower(name_bytes, b"connection") => {
                // The common single-option values first, then the general list.
                if token_eq_lower(value_bytes, b"keep-alive") {
                    facts.keep_alive = true;
                    return Ok(());
                }
                for token in TokenList::new(value_bytes) {
                    if eq_ignore_case(token, b"close") {
                        facts.close = true;
                    } else if eq_ignore_case(token, b"keep-alive") {
                        facts.keep_alive = true;
                    }
                }
            }
            14 if token_eq_lower(name_bytes, b"content-length") => {
                let length = parse_content_length(value_bytes)?;
                match facts.content_length {
                    Some(previous) if previous != length => return Err(ConflictingContentLength),
                    _ => facts.content_length = Some(length),
                }
            }
            17 if token_eq_lower(name_bytes, b"transfer-encoding") => {
                facts.transfer_encoding = true;
                let mut codings = 0;
                for coding in TokenList::new(value_bytes) {
                    codings += 1;
                    if eq_ignore_case(coding, b"chunked") {
                        facts.chunked_count = facts.chunked_count.saturating_add(1);
                        facts.chunked_final = true;
                    } else {
                        facts.chunked_final = false;
                        if coding.iter().all(|&b| TOKEN[b as usize]) {
                            facts.unsupported_coding = true;
                        } else {
                            facts.malformed_coding = true;
                        }
                    }
                }
                if codings == 0 {
                    facts.malformed_coding = true;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies the framing and persistence rules once the head is complete.
    fn finish(&mut self, len: usize, limits: &Limits) -> Result<(), RequestError> {
        let facts = &self.facts;
        let head = &mut self.head;
        let http11 = head.version == Version::Http11;
        if http11 && facts.host_count == 0 {
            return Err(MissingHost);
        }
        let authority_from_host =
            matches!(head.target_form, TargetForm::Origin | TargetForm::Asterisk);
        if http11 && authority_from_host && head.host.is_some_and(|h| h.len == 0) {
            return Err(EmptyHost);
        }
        head.framing = if facts.transfer_encoding {
            if !http11 {
                return Err(TransferEncodingInHttp10);
            }
            if facts.content_length.is_some() {
                return Err(ContentLengthWithTransferEncoding);
            }
            if facts.malformed_coding || !facts.chunked_final || facts.chunked_count > 1 {
                return Err(InvalidTransferEncoding);
            }
            if facts.unsupported_coding {
                return Err(UnsupportedTransferEncoding);
            }
            Framing::Chunked
        } else {
            match facts.content_length {
                Some(n) if n > limits.max_body as u64 => return Err(BodyTooLarge),
                Some(0) | None => Framing::None,
                Some(n) => Framing::Length(n),
            }
        };
        // RFC 9110 §10.1.1: an HTTP/1.0 server MUST ignore a 100-continue expectation.
        if http11 && facts.expect_other {
            return Err(UnsupportedExpectation);
        }
        head.expect_continue = http11 && facts.expect_continue && head.framing != Framing::None;
        head.keep_alive = !facts.close && (http11 || facts.keep_alive);
        head.len = len as u16;
        self.phase = Phase::Done;
        // What `Request` reads without checking again: every span inside the head, the head
        // within its limit, the fields within their array (asserted again in `Request::new`).
        let within = |s: Span| s.start as usize + s.len as usize <= len;
        assert!(len <= limits.max_head as usize && len == head.len as usize);
        assert!(within(head.method_span) && within(head.target) && within(head.path));
        assert!(head.query.is_none_or(within) && head.host.is_none_or(within));
        assert!(head.header_count <= limits.max_headers);
        Ok(())
    }
}

/// Case-insensitive equality of a token with a lowercase literal made of letters, digits and
/// `-`. Setting bit 5 lowercases a letter and leaves digits and `-` unchanged; the only other
/// bytes that become a letter, digit or `-` that way are controls (0x01..=0x1A except HTAB),
/// which neither tokens nor validated field values contain, so the comparison is exact for
/// both. It compares eight (or four) bytes at a time: this runs for every field of every
/// request.
#[inline(always)]
fn token_eq_lower(token: &[u8], lower: &'static [u8]) -> bool {
    debug_assert!(
        lower
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    );
    let n = token.len();
    if n != lower.len() {
        return false;
    }
    let word64 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap());
    let word32 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap());
    const LOWER64: u64 = 0x2020_2020_2020_2020;
    const LOWER32: u32 = 0x2020_2020;
    if n >= 8 {
        word64(token, 0) | LOWER64 == word64(lower, 0)
            && word64(token, n - 8) | LOWER64 == word64(lower, n - 8)
            && (n <= 16 || token_eq_lower_tail(&token[8..n - 8], &lower[8..n - 8]))
    } else if n >= 4 {
        word32(token, 0) | LOWER32 == word32(lower, 0)
            && word32(token, n - 4) | LOWER32 == word32(lower, n - 4)
    } else {
        token.iter().zip(lower).all(|(t, l)| t | 0x20 == *l)
    }
}

fn token_eq_lower_tail(token: &[u8], lower: &[u8]) -> bool {
    token.iter().zip(lower).all(|(t, l)| t | 0x20 == *l)
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

/// Checks the bytes present of `HTTP/d.d\r\n`, so that garbage fails before it is complete.
#[inline]
fn check_version_prefix(rest: &[u8]) -> Result<(), RequestError> {
    const PATTERN: &[u8; 10] = b"HTTP/0.0\r\n";
    for (i, (&b, &p)) in rest.iter().zip(PATTERN.iter()).enumerate() {
        let ok = if p == b'0' {
            b.is_ascii_digit()
        } else {
            b == p
        };
        if !ok {
            return Err(match (i, b) {
                (8, b'\n') => BareLf,
                (9, _) => BareCr,
                _ => InvalidVersion,
            });
        }
    }
    Ok(())
}

/// `HTTP/d.d` (already checked for shape) to a version we speak, or 505.
///
/// RFC 9110 §2.5: a recipient SHOULD process a message of a higher minor version than it
/// implements "as if it were in the highest minor version within that major version to which
/// the recipient is conformant", and the minor version only signals the sender's
/// capabilities (RFC 9112 §2.3). So `HTTP/1.2` to `HTTP/1.9` are read, framed and answered as
/// HTTP/1.1 (whose response line zzz writes anyway, RFC 9110 §6.2); only another major version
/// is 505 (RFC 9110 §15.6.6).
#[inline]
fn parse_version(v: &[u8]) -> Result<Version, RequestError> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', _] => Ok(Version::Http11),
        _ => Err(UnsupportedVersion),
    }
}

/// Splits `start..end` at the target's first `?`, if it lies in that range.
fn split_path_query(head: &mut RequestHead, start: usize, end: usize, query_at: Option<usize>) {
    match query_at {
        Some(q) if q >= start => {
            head.path = Span::new(start, q);
            head.query = Some(Span::new(q + 1, end));
        }
        _ => {
            head.path = Span::new(start, end);
            head.query = None;
        }
    }
}

/// Length of `http://` or `https://` (any case) at the start of an absolute-form target.
fn absolute_scheme_len(target: &[u8]) -> Option<usize> {
    let colon = target.iter().position(|&b| b == b':')?;
    let scheme = &target[..colon];
    let is_http = eq_ignore_case(scheme, b"http") || eq_ignore_case(scheme, b"https");
    (is_http && target[colon..].starts_with(b"://")).then_some(colon + 3)
}

/// `host:port` for CONNECT (RFC 9112 §3.2.3): a non-empty host and a port of 1–5 digits.
fn is_authority_with_port(target: &[u8]) -> bool {
    let Some(colon) = target.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = (&target[..colon], &target[colon + 1..]);
    !host.is_empty()
        && host.iter().all(|&b| HOST[b as usize])
        && (1..=5).contains(&port.len())
        && port.iter().all(u8::is_ascii_digit)
}

/// Content-Length = 1*DIGIT, or a list of identical ones (RFC 9110 §8.6).
fn parse_content_length(value: &[u8]) -> Result<u64, RequestError> {
    let mut length = None;
    for element in value.split(|&b| b == b',') {
        let digits = trim_ows(element);
        if digits.is_empty() {
            return Err(InvalidContentLength);
        }
        let mut n: u64 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return Err(InvalidContentLength);
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add((d - b'0') as u64))
                .ok_or(InvalidContentLength)?;
        }
        match length {
            Some(previous) if previous != n => return Err(ConflictingContentLength),
            _ => length = Some(n),
        }
    }
    length.ok_or(InvalidContentLength)
}

#[cfg(test)]
mod tests;
