//! The request line: `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3), the
//! target's form (origin, absolute, authority, asterisk; RFC 9112 §3.2) and the version.

use super::super::error::RequestError;
use super::super::limits::Limits;
use super::super::method::Method;
use super::super::request::{RequestHead, Span, TargetForm, Version};
use super::super::scan::{HOST, scan_path, scan_target, scan_token, skip_common_path};
use super::{HeadParser, LinePart};

use RequestError::*;

impl HeadParser {
    /// Parses `method SP request-target SP HTTP-version CRLF` at `start`; `None` when the
    /// line is incomplete (and valid so far).
    pub(super) fn parse_request_line(
        &mut self,
        buf: &[u8],
        start: usize,
        limits: &Limits,
    ) -> Result<Result<usize, LinePart>, RequestError> {
        let (method, method_end) = if buf.get(start..start + 4) == Some(b"GET ") {
            (Method::Get, start + 3)
        } else {
            let end = scan_token(buf, start);
            if end == buf.len() {
                return Ok(Err(LinePart::Method));
            }
            if end == start || buf[end] != b' ' {
                return Err(InvalidMethod);
            }
            (Method::from_token(&buf[start..end]), end)
        };
        self.head.method = method;
        self.method_known = true;

        let target_start = method_end + 1;
        // Nearly every target is a path of letters, digits and `-./_` up to the space: the
        // skip over those finds its end, and only other targets take the full scan
        // (callgrind: about 10 instructions less).
        let end = skip_common_path(buf, target_start);
        let (target_end, query_at) = if end > target_start && buf.get(end) == Some(&b' ') {
            (end, None)
        } else {
            match target_end(buf, target_start)? {
                Ok(end) => end,
                Err(part) => return Ok(Err(part)),
            }
        };

        let version_start = target_end + 1;
        let version = if buf.get(version_start..version_start + 10) == Some(b"HTTP/1.1\r\n") {
            Version::Http11
        } else {
            let rest = &buf[version_start..];
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
        // `buf` ends `max_request_line` bytes and a CRLF past `start` at most: a complete line
        // is within the limit.
        debug_assert!(line_end - start <= limits.max_request_line as usize);

        let head = &mut self.head;
        // The method lies before the target (`finish` relies on it).
        assert!(method_end < target_start);
        head.method_span = Span::new(start, method_end);
        head.target = Span::new(target_start, target_end);
        head.version = version;
        self.classify_target(buf, target_start, target_end, query_at)?;
        Ok(Ok(line_end + 2))
    }

    /// Decides the target's form (RFC 9112 §3.2) and where its path and query lie. The origin
    /// form, nearly every request's, is decided inline; the others out of line.
    #[inline(always)]
    pub(super) fn classify_target(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        query_at: Option<usize>,
    ) -> Result<(), RequestError> {
        let head = &mut self.head;
        if buf[start] == b'/' && head.method != Method::Connect {
            // `target_form` and `query` still hold their `RequestHead::EMPTY` values, origin
            // form and none: the request line is classified once.
            debug_assert!(head.target_form == TargetForm::Origin && head.query.is_none());
            match query_at {
                None => head.path = Span::new(start, end),
                Some(_) => split_path_query(head, start, end, query_at),
            }
            return Ok(());
        }
        self.classify_other_target(buf, start, end, query_at)
    }

    /// [`HeadParser::classify_target`] for every target but an origin-form one.
    #[inline(never)]
    fn classify_other_target(
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
}

/// Where the target at `start` ends (at its space) and where its query starts, past the common
/// case of [`HeadParser::parse_request_line`]: `Err` of where an incomplete line ended.
#[inline(never)]
fn target_end(
    buf: &[u8],
    start: usize,
) -> Result<Result<(usize, Option<usize>), LinePart>, RequestError> {
    let mut end = scan_path(buf, start);
    let mut query_at = None;
    if buf.get(end) == Some(&b'?') {
        query_at = Some(end);
        end = scan_target(buf, end + 1);
    }
    if end == buf.len() {
        return Ok(Err(LinePart::Target {
            empty: end == start,
        }));
    }
    if end == start || buf[end] != b' ' {
        return Err(if buf[end] == b'\n' {
            BareLf
        } else {
            InvalidTarget
        });
    }
    Ok(Ok((end, query_at)))
}

/// Checks the bytes present of `HTTP/d.d\r\n`, so that garbage fails before it is complete.
#[inline]
pub(super) fn check_version_prefix(rest: &[u8]) -> Result<(), RequestError> {
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
pub(super) fn parse_version(v: &[u8]) -> Result<Version, RequestError> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', _] => Ok(Version::Http11),
        _ => Err(UnsupportedVersion),
    }
}

/// Splits `start..end` at the target's first `?`, if it lies in that range. Both parts lie
/// inside `start..end`, which `finish` relies on.
pub(super) fn split_path_query(
    head: &mut RequestHead,
    start: usize,
    end: usize,
    query_at: Option<usize>,
) {
    match query_at {
        Some(q) if q >= start => {
            assert!(q < end, "the query's `?` lies inside the target");
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
pub(super) fn absolute_scheme_len(target: &[u8]) -> Option<usize> {
    let colon = target.iter().position(|&b| b == b':')?;
    let scheme = &target[..colon];
    let is_http = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    (is_http && target[colon..].starts_with(b"://")).then_some(colon + 3)
}

/// `host:port` for CONNECT (RFC 9112 §3.2.3): a non-empty host and a port of 1–5 digits.
pub(super) fn is_authority_with_port(target: &[u8]) -> bool {
    let Some(colon) = target.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = (&target[..colon], &target[colon + 1..]);
    !host.is_empty()
        && host.iter().all(|&b| HOST[b as usize])
        && (1..=5).contains(&port.len())
        && port.iter().all(u8::is_ascii_digit)
}
