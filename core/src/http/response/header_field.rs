//! The header fields a handler may add to a response: names checked to be tokens and not one
//! of the fields only zzz writes, values checked for characters that could split the response
//! (RFC 9110 §5.1, §5.5).

use super::super::scan::{TOKEN, scan_field_value, scan_token};

/// A header name checked once, when it is made: a token (RFC 9110 §5.1) and not one of the
/// fields only zzz writes (`Content-Length`, `Transfer-Encoding`, `Connection`). Made in
/// `const` context, an invalid name is a compile error, and passing it to
/// [`ResponseWriter::header`](super::ResponseWriter::header) skips the check a `&str` gets on
/// every response.
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

/// Whether `name` is a field only zzz writes: the ones that frame the message
/// (`Content-Length`, `Transfer-Encoding`, RFC 9112 §6) and `Connection` (RFC 9112 §9.6),
/// which follow from the request and the body, never from a handler.
const fn is_reserved(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"content-length")
        || name.eq_ignore_ascii_case(b"transfer-encoding")
        || name.eq_ignore_ascii_case(b"connection")
}

/// [`valid_name`] for `const` context, where `scan_token` cannot run.
const fn const_valid_name(name: &[u8]) -> bool {
    if name.is_empty() || is_reserved(name) {
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

/// Whether `name` is a token (RFC 9110 §5.1) that a handler may write.
pub(super) fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && !is_reserved(bytes) && scan_token(bytes, 0) == bytes.len()
}

/// Whether every byte of `value` may appear in a field value (RFC 9110 §5.5).
pub(super) fn valid_value(value: &[u8]) -> bool {
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

/// Whether `value` holds no control character (HTAB included) and no DEL, which makes it
/// valid: the answer for almost every value a handler writes, a machine word at a time and
/// whole (callgrind, a 10-byte `Content-Type`: 27 instructions, where [`valid_value`], made
/// from the parser's scan to find where a value ends, takes 72). HTAB is left to
/// [`valid_value`].
#[inline]
pub(super) fn no_control_bytes(value: &[u8]) -> bool {
    const W: usize = size_of::<usize>();
    let n = value.len();
    if n < W {
        // Bounded: fewer than a word's bytes.
        return value.iter().all(|&b| b >= 0x20 && b != 0x7f);
    }
    // Whole words, then the last word's worth of bytes (overlapping the last whole word).
    let word = |bytes: &[u8]| usize::from_le_bytes(bytes.try_into().unwrap());
    let mut found = stops(word(&value[n - W..]));
    // Bounded: counted over the value, a word a turn.
    for chunk in value.chunks_exact(W) {
        found |= stops(word(chunk));
    }
    found == 0
}

/// Non-zero when a byte of `word` is below 0x20 or is 0x7F. A borrow only starts at such a
/// byte, so a word of allowed bytes gives exactly zero (the parser's `field_value_stops`, in
/// `scan`, also locates the first one).
#[inline]
fn stops(word: usize) -> usize {
    const ONES: usize = usize::MAX / 0xff;
    const HIGHS: usize = ONES * 0x80;
    let below_20 = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let del = word ^ (ONES * 0x7f);
    below_20 | (del.wrapping_sub(ONES) & !del & HIGHS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time check agrees with a byte-by-byte one for every byte value at every
    /// position of values of every length up to 40, HTAB included (valid only through the
    /// slow path).
    #[test]
    fn value_check_matches_bytewise() {
        for len in 1..40 {
            for pos in 0..len {
                for b in 0u8..=255 {
                    let mut value = [b'a'; 40];
                    value[pos] = b;
                    let value = &value[..len];
                    let expected = value
                        .iter()
                        .all(|&c| (c >= 0x20 && c != 0x7f) || c == b'\t');
                    assert_eq!(valid_value(value), expected, "{b:#x} at {pos} of {len}");
                    let clean = value.iter().all(|&c| c >= 0x20 && c != 0x7f);
                    assert_eq!(no_control_bytes(value), clean, "{b:#x} at {pos} of {len}");
                }
            }
        }
        assert!(valid_value(b""));
    }
}
