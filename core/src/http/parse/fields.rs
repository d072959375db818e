//! The fields that decide framing and persistence (RFC 9112 §6, §9; RFC 9110 §7.2, §8.6,
//! §10.1.1): Host, Content-Length, Transfer-Encoding, Connection, Expect, noted as each
//! field line is parsed and ruled on once the head is complete.

use super::super::error::RequestError;
use super::super::header::{TokenList, trim_ows};
use super::super::limits::Limits;
use super::super::request::{Framing, Span, TargetForm, Version};
use super::super::scan::{TOKEN, is_host};
use super::{HeadParser, Phase};

use RequestError::*;

/// Facts gathered from the fields that decide framing and persistence.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct FieldFacts {
    /// A Content-Length, Transfer-Encoding or Expect field was seen: `finish` has framing or
    /// an expectation to rule on. Most requests have none.
    pub(super) framing_or_expect: bool,
    pub(super) content_length: Option<u64>,
    pub(super) transfer_encoding: bool,
    pub(super) chunked_count: u8,
    pub(super) chunked_final: bool,
    pub(super) unsupported_coding: bool,
    pub(super) malformed_coding: bool,
    pub(super) host_count: u8,
    pub(super) close: bool,
    pub(super) keep_alive: bool,
    pub(super) expect_continue: bool,
    pub(super) expect_other: bool,
}

/// The fields that decide framing and persistence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Known {
    Host,
    Expect,
    Connection,
    ContentLength,
    TransferEncoding,
}

/// Which of the fields that decide framing and persistence `name` (a validated token) is, if
/// any. Each has a length of its own, so the length picks the one candidate and a
/// case-insensitive comparison of one to three words decides. This runs for every field of
/// every request: with a loop per name it cost 150 instructions for one Host field (callgrind),
/// now about 10.
///
/// Setting bit 5 lowercases a letter; the only other byte it turns into a letter or `-` is CR
/// (into `-`), which is no token byte, so the comparison is exact.
#[inline(always)]
pub(super) fn known_field(name: &[u8]) -> Option<Known> {
    const LOWER32: u32 = 0x2020_2020;
    const LOWER64: u64 = 0x2020_2020_2020_2020;
    let word32 = |at: usize| u32::from_le_bytes(name[at..at + 4].try_into().unwrap()) | LOWER32;
    let word64 = |at: usize| u64::from_le_bytes(name[at..at + 8].try_into().unwrap()) | LOWER64;
    let is32 = |at: usize, lower: &[u8; 4]| word32(at) == u32::from_le_bytes(*lower);
    let is64 = |at: usize, lower: &[u8; 8]| word64(at) == u64::from_le_bytes(*lower);
    let (known, matches) = match name.len() {
        4 => (Known::Host, is32(0, b"host")),
        6 => (Known::Expect, is32(0, b"expe") && is32(2, b"pect")),
        10 => (
            Known::Connection,
            is64(0, b"connecti") && is64(2, b"nnection"),
        ),
        14 => (
            Known::ContentLength,
            is64(0, b"content-") && is64(6, b"t-length"),
        ),
        17 => (
            Known::TransferEncoding,
            is64(0, b"transfer") && is64(8, b"-encodin") && is64(9, b"encoding"),
        ),
        _ => return None,
    };
    matches.then_some(known)
}

impl HeadParser {
    /// Records what the Host field means (RFC 9110 §7.2): one, of host characters. Inline,
    /// as every HTTP/1.1 request has one.
    #[inline(always)]
    pub(super) fn note_host(&mut self, buf: &[u8], value: Span) -> Result<(), RequestError> {
        let facts = &mut self.facts;
        facts.host_count += 1;
        if facts.host_count > 1 {
            return Err(DuplicateHost);
        }
        if !is_host(buf, value.start as usize, value.end()) {
            return Err(InvalidHost);
        }
        self.head.host = Some(value);
        Ok(())
    }

    /// Records what one of the other known fields means for framing and persistence
    /// (RFC 9112 §6, §9). Out of line: it is needed for a few fields of some requests.
    #[inline(never)]
    pub(super) fn note_field(
        &mut self,
        known: Known,
        buf: &[u8],
        value: Span,
    ) -> Result<(), RequestError> {
        let value_bytes = value.of(buf);
        let facts = &mut self.facts;
        facts.framing_or_expect |= matches!(
            known,
            Known::Expect | Known::ContentLength | Known::TransferEncoding
        );
        match known {
            Known::Host => return self.note_host(buf, value),
            Known::Expect => {
                if value_bytes.eq_ignore_ascii_case(b"100-continue") {
                    facts.expect_continue = true;
                } else {
                    facts.expect_other = true;
                }
            }
            Known::Connection => {
                for token in TokenList::new(value_bytes) {
                    if token.eq_ignore_ascii_case(b"close") {
                        facts.close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        facts.keep_alive = true;
                    }
                }
            }
            Known::ContentLength => {
                let length = parse_content_length(value_bytes)?;
                match facts.content_length {
                    Some(previous) if previous != length => return Err(ConflictingContentLength),
                    _ => facts.content_length = Some(length),
                }
            }
            Known::TransferEncoding => {
                facts.transfer_encoding = true;
                let mut codings = 0;
                for coding in TokenList::new(value_bytes) {
                    codings += 1;
                    if coding.eq_ignore_ascii_case(b"chunked") {
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
        }
        Ok(())
    }

    /// Applies the framing and persistence rules once the head is complete.
    pub(super) fn finish(&mut self, len: usize, limits: &Limits) -> Result<(), RequestError> {
        let facts = &self.facts;
        let head = &mut self.head;
        let http11 = head.version == Version::Http11;
        if http11 {
            if facts.host_count == 0 {
                return Err(MissingHost);
            }
            if head.host.is_some_and(|h| h.len == 0)
                && matches!(head.target_form, TargetForm::Origin | TargetForm::Asterisk)
            {
                return Err(EmptyHost);
            }
        }
        // `head.framing` and `head.expect_continue` start as `Framing::None` and `false`.
        if facts.framing_or_expect {
            self.rule_on_framing(http11, limits)?;
        }
        let (facts, head) = (&self.facts, &mut self.head);
        // `&` and `|`, not `&&` and `||`: no branches (callgrind: 3 instructions less).
        head.keep_alive = !facts.close & (http11 | facts.keep_alive);
        head.len = len as u16;
        self.phase = Phase::Done;
        // What `Request` reads without checking again: every span inside the head, the head
        // within its limit, the fields within their array (asserted again in `Request::new`).
        // The request line's other spans lie inside its target (the method before it, path
        // and query cut from it, see `split_path_query`), so the target stands for them
        // (callgrind: checking each here cost 11 instructions more).
        let within = |s: Span| s.start as usize + s.len as usize <= len;
        assert!(len <= limits.max_head as usize && len == head.len as usize);
        assert!(within(head.target) && head.host.is_none_or(within));
        debug_assert!(within(head.method_span) && within(head.path));
        debug_assert!(head.query.is_none_or(within));
        assert!(head.header_count <= limits.max_headers);
        Ok(())
    }

    /// The framing (RFC 9112 §6.3) and the expectation (RFC 9110 §10.1.1) of a head with a
    /// Content-Length, Transfer-Encoding or Expect field. Out of line: most heads have none.
    #[inline(never)]
    fn rule_on_framing(&mut self, http11: bool, limits: &Limits) -> Result<(), RequestError> {
        let (facts, head) = (&self.facts, &mut self.head);
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
        Ok(())
    }
}

/// Whether a Connection value is just `keep-alive` (any case), as browsers send it.
#[inline(always)]
pub(super) fn is_keep_alive(value: &[u8]) -> bool {
    token_eq_lower(value, b"keep-alive")
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
