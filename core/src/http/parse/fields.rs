//! The fields that decide framing and persistence (RFC 9112 §6, §9; RFC 9110 §7.2, §8.6,
//! §10.1.1): Host, Content-Length, Transfer-Encoding, Connection, Expect, noted as each
//! field line is parsed and ruled on once the head is complete.

use super::super::error::RequestError;
use super::super::header::{TokenList, trim_ows};
use super::super::limits::Limits;
use super::super::request::{Framing, Span, TargetForm, Version};
use super::super::scan::{HOST, TOKEN};
use super::{HeadParser, Phase};

use RequestError::*;

/// Facts gathered from the fields that decide framing and persistence.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct FieldFacts {
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

impl HeadParser {
    /// Records what a field means for framing and persistence (RFC 9112 §6, §9).
    #[inline]
    pub(super) fn note_field(
        &mut self,
        buf: &[u8],
        name: Span,
        value: Span,
    ) -> Result<(), RequestError> {
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
                if value_bytes.eq_ignore_ascii_case(b"100-continue") {
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
                    if token.eq_ignore_ascii_case(b"close") {
                        facts.close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
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
            _ => {}
        }
        Ok(())
    }

    /// Applies the framing and persistence rules once the head is complete.
    pub(super) fn finish(&mut self, len: usize, limits: &Limits) -> Result<(), RequestError> {
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
