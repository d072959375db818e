//! Writing a string as the inside of a JSON string literal (RFC 8259 §7): where the next byte
//! that must be escaped is, and its escape. [`JsonText`](super::JsonText) and zzz's serde
//! serializer (`json::to_slice`) both write with it, so all the JSON zzz writes escapes alike,
//! as serde-json-core does: the two-character escapes where JSON has one (`\"`, `\\`, `\b`,
//! `\t`, `\n`, `\f`, `\r`), `\u00XX` with upper-case digits for the other control characters,
//! and every other character as it is.

/// Whether a JSON string cannot hold `byte` as it is (RFC 8259 §7).
#[inline]
pub(crate) fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The escape of one byte: two bytes (`\n`) or six (`\u001F`), all ASCII. Computed rather than
/// looked up in a table of the 34 escapes, which would take some 400 bytes of a
/// microcontroller's flash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Escape {
    bytes: [u8; 6],
    len: u8,
}

impl Escape {
    /// The escape's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The escape as text.
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).expect("an escape is ASCII")
    }
}

/// The escape of `byte`, one that [`needs_escape`]: the short form where JSON has one, else
/// `\u00XX`. Every escape is ASCII, so a string cut before and after the byte it replaces
/// stays UTF-8.
#[cold]
pub(crate) fn escape(byte: u8) -> Escape {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    debug_assert!(needs_escape(byte));
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        b'\t' => b't',
        b'\n' => b'n',
        0x0c => b'f',
        b'\r' => b'r',
        _ => {
            let (high, low) = (HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]);
            return Escape {
                bytes: [b'\\', b'u', b'0', b'0', high, low],
                len: 6,
            };
        }
    };
    Escape {
        bytes: [b'\\', short, 0, 0, 0, 0],
        len: 2,
    }
}

/// The index of the first byte of `bytes` that [`needs_escape`], or `bytes.len()`.
///
/// Eight bytes at a time as one `u64` (16 instructions a word on x86-64): a note of the notes
/// API serializes in 1,875 instructions with this and 6,028 with a byte at a time, and most
/// strings a server writes are long runs without escapes.
pub(crate) fn escape_at(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH_BITS: u64 = ONES * 0x80;
    let (words, tail) = bytes.as_chunks::<8>();
    let mut at = 0;
    for word in words {
        // Little-endian: the first byte is the lowest, and the first match the lowest bit.
        let x = u64::from_le_bytes(*word);
        // Each test sets the high bit of the bytes that match: under 0x20 (subtracting 0x20
        // borrows), `"` or `\` (the byte of `x ^ c` is zero, and subtracting 1 borrows).
        // `& !x` drops bytes of 0x80 and above (UTF-8 sequences), whose high bit is set
        // already. A borrow carried into the next byte can set its high bit falsely, but only
        // above a true match, so the lowest set bit is the first match.
        let below_space = x.wrapping_sub(ONES * 0x20);
        let quote = (x ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
        let backslash = (x ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
        let found = (below_space | quote | backslash) & !x & HIGH_BITS;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + tail
        .iter()
        .position(|&byte| needs_escape(byte))
        .unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn escape_at_finds_the_first() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert_eq!(escape_at(&plain), len);
            for at in 0..len {
                for byte in [b'"', b'\\', 0, 0x1f, b'\n'] {
                    let mut bytes = plain.clone();
                    bytes[at] = byte;
                    // A byte that borrows in the word test, after the match: still the match.
                    if at + 1 < len {
                        bytes[at + 1] = b' ';
                    }
                    assert_eq!(escape_at(&bytes), at, "{bytes:?}");
                }
                let mut bytes = plain.clone();
                bytes[at] = 0xff;
                assert_eq!(escape_at(&bytes), len, "high bytes are not escaped");
            }
        }
    }

    /// RFC 8259 §7: every byte that must be escaped has an escape that stands for it, in the
    /// short form where JSON has one, and `\u00XX` otherwise.
    #[test]
    fn every_escape_stands_for_its_byte() {
        for byte in 0..=u8::MAX {
            assert_eq!(needs_escape(byte), byte < 0x20 || b"\"\\".contains(&byte));
            if !needs_escape(byte) {
                continue;
            }
            let escaped = escape(byte);
            let escaped = escaped.as_str();
            let short = match byte {
                b'"' => Some('"'),
                b'\\' => Some('\\'),
                0x08 => Some('b'),
                b'\t' => Some('t'),
                b'\n' => Some('n'),
                0x0c => Some('f'),
                b'\r' => Some('r'),
                _ => None,
            };
            match short {
                Some(c) => assert_eq!(escaped, std::format!("\\{c}")),
                None => assert_eq!(escaped, std::format!("\\u{byte:04X}")),
            }
        }
    }
}
