//! Percent-decoding (RFC 3986 §2.1) for paths, path parameters and query components.

/// Why a percent-encoded string could not be decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PercentError {
    /// `%` not followed by two hex digits.
    InvalidEscape,
    /// `%2F` or `%00` in a path segment, where [`Decode::PathSegment`] forbids them: a handler
    /// that maps segments onto names must never see a `/` or a NUL it did not route on.
    ForbiddenInSegment,
    /// The output buffer is too small.
    BufferTooSmall,
}

/// How to decode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decode {
    /// One path segment: `%2F` (an encoded `/`) and `%00` are errors; `+` stays `+`.
    PathSegment,
    /// A query component in `application/x-www-form-urlencoded` style: `+` is a space and
    /// every escape is decoded.
    FormComponent,
    /// Every escape decoded, `+` kept.
    Plain,
}

/// The bytes of `input` decoded one at a time; bounded by `input.len()` steps.
#[derive(Clone, Debug)]
pub struct PercentDecoder<'a> {
    input: &'a [u8],
    mode: Decode,
}

impl<'a> PercentDecoder<'a> {
    /// A decoder over `input`.
    pub fn new(input: &'a [u8], mode: Decode) -> PercentDecoder<'a> {
        PercentDecoder { input, mode }
    }
}

impl Iterator for PercentDecoder<'_> {
    type Item = Result<u8, PercentError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&b, rest) = self.input.split_first()?;
        if b == b'+' && self.mode == Decode::FormComponent {
            self.input = rest;
            return Some(Ok(b' '));
        }
        if b != b'%' {
            self.input = rest;
            return Some(Ok(b));
        }
        let decoded = match rest {
            // HEXDIG, either case: what `char::to_digit(16)` accepts.
            [h, l, ..] => (*h as char)
                .to_digit(16)
                .zip((*l as char).to_digit(16))
                .map(|(h, l)| (h << 4 | l) as u8),
            _ => None,
        };
        let Some(decoded) = decoded else {
            self.input = &[];
            return Some(Err(PercentError::InvalidEscape));
        };
        if self.mode == Decode::PathSegment && (decoded == b'/' || decoded == 0) {
            self.input = &[];
            return Some(Err(PercentError::ForbiddenInSegment));
        }
        self.input = &rest[2..];
        Some(Ok(decoded))
    }
}

/// Decodes `input` into `out` and returns the decoded bytes.
pub fn decode_into<'o>(
    input: &[u8],
    mode: Decode,
    out: &'o mut [u8],
) -> Result<&'o [u8], PercentError> {
    let mut n = 0;
    for b in PercentDecoder::new(input, mode) {
        let slot = out.get_mut(n).ok_or(PercentError::BufferTooSmall)?;
        *slot = b?;
        n += 1;
    }
    // Decoding never lengthens: `%XX` is three bytes for one.
    assert!(n <= input.len());
    Ok(&out[..n])
}

/// Decodes `input` into `out` as UTF-8 text.
pub fn decode_str<'o>(
    input: &str,
    mode: Decode,
    out: &'o mut [u8],
) -> Result<&'o str, PercentError> {
    let bytes = decode_into(input.as_bytes(), mode, out)?;
    core::str::from_utf8(bytes).map_err(|_| PercentError::InvalidEscape)
}

/// Whether `input` decodes to itself (no `%`, and no `+` in form mode): then it can be used
/// as is, without a buffer.
pub fn is_plain(input: &[u8], mode: Decode) -> bool {
    !input
        .iter()
        .any(|&b| b == b'%' || (b == b'+' && mode == Decode::FormComponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3986 §2.1: "%" HEXDIG HEXDIG, either case.
    #[test]
    fn decodes_escapes() {
        let mut out = [0u8; 32];
        assert_eq!(
            decode_into(b"a%20b%7e%7E", Decode::Plain, &mut out),
            Ok(&b"a b~~"[..])
        );
        assert_eq!(
            decode_into(b"a+b", Decode::FormComponent, &mut out),
            Ok(&b"a b"[..])
        );
        assert_eq!(
            decode_into(b"a+b", Decode::PathSegment, &mut out),
            Ok(&b"a+b"[..])
        );
    }

    #[test]
    fn invalid_escapes_are_errors() {
        let mut out = [0u8; 32];
        for bad in [&b"%"[..], b"%2", b"%zz", b"a%g0", b"%%41"] {
            assert_eq!(
                decode_into(bad, Decode::Plain, &mut out),
                Err(PercentError::InvalidEscape),
                "{bad:?}"
            );
        }
    }

    /// An encoded slash must not become a separator after routing.
    #[test]
    fn encoded_slash_in_segment() {
        let mut out = [0u8; 32];
        assert_eq!(
            decode_into(b"a%2Fb", Decode::PathSegment, &mut out),
            Err(PercentError::ForbiddenInSegment)
        );
        assert_eq!(
            decode_into(b"a%2fb", Decode::PathSegment, &mut out),
            Err(PercentError::ForbiddenInSegment)
        );
        assert_eq!(
            decode_into(b"a%00", Decode::PathSegment, &mut out),
            Err(PercentError::ForbiddenInSegment)
        );
        assert_eq!(
            decode_into(b"a%2Fb", Decode::Plain, &mut out),
            Ok(&b"a/b"[..])
        );
    }

    #[test]
    fn small_buffer() {
        let mut out = [0u8; 2];
        assert_eq!(
            decode_into(b"abc", Decode::Plain, &mut out),
            Err(PercentError::BufferTooSmall)
        );
    }
}
