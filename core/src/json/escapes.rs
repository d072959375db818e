//! The text of a JSON string: its escapes decoded (RFC 8259 §7).
//!
//! serde-json-core decodes `\uXXXX` one escape at a time into a `char`, so the UTF-16
//! surrogate pair that RFC 8259 §7 prescribes for a character outside the Basic Multilingual
//! Plane (`"\ud83d\ude00"` for 😀, which Python's `json.dumps` writes for every emoji) is two
//! surrogates to it, neither of them a `char`, and the whole body is refused as "an invalid
//! escape". Its decoder has no hook for this, so zzz decodes strings itself (see
//! [`super::reader`]) and leaves every other part of the grammar to the crate.

/// Why the text of a JSON string cannot be decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StringError {
    /// A `\` followed by something other than `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`, or `u`
    /// and four hexadecimal digits (RFC 8259 §7).
    InvalidEscape,
    /// A `\uD800`–`\uDBFF` escape not followed by a `\uDC00`–`\uDFFF` one, or a low surrogate
    /// without a high one before it. RFC 8259 §8.2: such a string encodes no Unicode text, and
    /// Rust strings hold only Unicode text.
    LoneSurrogate,
    /// A control character (U+0000 to U+001F) that is not escaped (RFC 8259 §7: it MUST be).
    UnescapedControl,
    /// The decoded text is longer than the buffer it is decoded into.
    TooLong,
}

impl StringError {
    /// What is wrong, in words fit for a problem's `detail`.
    pub const fn reason(self) -> &'static str {
        match self {
            StringError::InvalidEscape => {
                "a string has an invalid escape (RFC 8259 §7 allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t \
                 and \\u followed by four hexadecimal digits)"
            }
            StringError::LoneSurrogate => {
                "a string has a lone UTF-16 surrogate: \\uD800 to \\uDBFF must be followed by \
                 \\uDC00 to \\uDFFF, and those must follow one (RFC 8259 §7, §8.2)"
            }
            StringError::UnescapedControl => {
                "a string holds a control character that is not escaped (RFC 8259 §7)"
            }
            StringError::TooLong => "a string is too long",
        }
    }
}

/// Checks the text of a string without escapes (no `\`): it must hold no control character.
pub fn check_plain(raw: &str) -> Result<(), StringError> {
    debug_assert!(!raw.contains('\\'));
    if raw.bytes().any(|b| b < 0x20) {
        return Err(StringError::UnescapedControl);
    }
    Ok(())
}

/// Decodes the text between a string's quotes, as it is in the JSON text, into `out`. Every
/// escape of RFC 8259 §7 is decoded, a surrogate pair to the one character it encodes. Fails
/// on an invalid escape, a lone surrogate, an unescaped control character, or when `out` is
/// too small for the result. Returns the decoded length: `out[..len]` is UTF-8 (runs of a
/// `str` cut at ASCII backslashes, and whole encoded characters), which the caller, keeping
/// it, checks once as it makes it a `str`.
pub fn decode(raw: &str, out: &mut [u8]) -> Result<usize, StringError> {
    let mut written = 0;
    walk(raw, |piece| put(out, &mut written, piece))?;
    Ok(written)
}

/// Checks the text between a string's quotes as [`decode`] would, without writing it
/// anywhere: for a value that is skipped, whose text nobody reads.
pub fn check(raw: &str) -> Result<(), StringError> {
    walk(raw, |_| Ok(()))
}

/// Goes through the text between a string's quotes, checking it, and hands `emit` each piece
/// of the decoded text in order: a run without escapes, then what an escape stands for.
fn walk(
    raw: &str,
    mut emit: impl FnMut(&[u8]) -> Result<(), StringError>,
) -> Result<(), StringError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    // Bounded: each round moves past a run and an escape (at least one byte).
    while i < bytes.len() {
        let run_end = bytes[i..]
            .iter()
            .position(|&b| b == b'\\')
            .map_or(bytes.len(), |p| i + p);
        let run = &raw[i..run_end];
        check_plain(run)?;
        emit(run.as_bytes())?;
        i = run_end;
        if i < bytes.len() {
            let (c, len) = escape_at(bytes, i)?;
            emit(c.encode_utf8(&mut [0; 4]).as_bytes())?;
            i += len;
        }
    }
    Ok(())
}

/// Appends `bytes` to `out[..*written]`.
fn put(out: &mut [u8], written: &mut usize, bytes: &[u8]) -> Result<(), StringError> {
    let end = *written + bytes.len();
    out.get_mut(*written..end)
        .ok_or(StringError::TooLong)?
        .copy_from_slice(bytes);
    *written = end;
    Ok(())
}

/// The character of the escape at `bytes[at]` (a `\`) and the escape's length: 2, 6, or 12
/// for a surrogate pair.
fn escape_at(bytes: &[u8], at: usize) -> Result<(char, usize), StringError> {
    debug_assert_eq!(bytes[at], b'\\');
    let c = match bytes.get(at + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return unicode_escape_at(bytes, at),
        _ => return Err(StringError::InvalidEscape),
    };
    Ok((c, 2))
}

/// `\uXXXX` at `bytes[at]`, or a surrogate pair `\uD83D\uDE00` (RFC 8259 §7: "the character
/// is represented as a 12-character sequence, encoding the UTF-16 surrogate pair").
fn unicode_escape_at(bytes: &[u8], at: usize) -> Result<(char, usize), StringError> {
    let unit = hex4(bytes, at + 2)?;
    match unit {
        0xD800..=0xDBFF => {
            if bytes.get(at + 6..at + 8) != Some(b"\\u") {
                return Err(StringError::LoneSurrogate);
            }
            let low = hex4(bytes, at + 8)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(StringError::LoneSurrogate);
            }
            let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            let c = char::from_u32(scalar).expect("a surrogate pair encodes a scalar value");
            Ok((c, 12))
        }
        0xDC00..=0xDFFF => Err(StringError::LoneSurrogate),
        _ => {
            let c = char::from_u32(unit).expect("a BMP code point other than a surrogate");
            Ok((c, 6))
        }
    }
}

/// Four hexadecimal digits at `bytes[at]`, either case (RFC 8259 §7: `4HEXDIG`); no sign, as
/// `from_str_radix` would allow.
fn hex4(bytes: &[u8], at: usize) -> Result<u32, StringError> {
    let digits = bytes.get(at..at + 4).ok_or(StringError::InvalidEscape)?;
    digits.iter().try_fold(0, |value, &d| {
        let digit = (d as char).to_digit(16).ok_or(StringError::InvalidEscape)?;
        Ok(value << 4 | digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`decode`], and the text it wrote.
    fn decode_str<'o>(raw: &str, out: &'o mut [u8]) -> Result<&'o str, StringError> {
        let len = decode(raw, out)?;
        Ok(core::str::from_utf8(&out[..len]).expect("decoded text is UTF-8"))
    }

    /// `raw` decoded, after checking that [`check`] rules on it as [`decode`] does.
    fn decoded(raw: &str) -> Result<std::string::String, StringError> {
        let mut out = [0u8; 64];
        let result = decode_str(raw, &mut out).map(std::string::String::from);
        assert_eq!(
            check(raw),
            result.as_ref().map(|_| ()).map_err(|e| *e),
            "{raw:?}"
        );
        result
    }

    /// RFC 8259 §7: the two-character escapes, and `\u` with four hexadecimal digits in
    /// either case, for any character of the Basic Multilingual Plane.
    #[test]
    fn every_escape_of_rfc_8259() {
        assert_eq!(
            decoded(r#"\"\\\/\b\f\n\r\t"#).unwrap(),
            "\"\\/\u{8}\u{c}\n\r\t"
        );
        assert_eq!(
            decoded(r"\u0041\u00e9\u00E9\u20AC\uffff").unwrap(),
            "Aéé€\u{ffff}"
        );
        assert_eq!(decoded(r"\u0000\u001f").unwrap(), "\u{0}\u{1f}");
        assert_eq!(decoded("plain é 😀").unwrap(), "plain é 😀");
        assert_eq!(decoded("").unwrap(), "");
    }

    /// RFC 8259 §7: "To escape an extended character that is not in the Basic Multilingual
    /// Plane, the character is represented as a 12-character sequence, encoding the UTF-16
    /// surrogate pair." U+1D11E is `\uD834\uDD1E`, 😀 (U+1F600) `\ud83d\ude00`.
    #[test]
    fn surrogate_pairs_are_one_character() {
        assert_eq!(decoded(r"\uD834\uDD1E").unwrap(), "\u{1d11e}");
        assert_eq!(decoded(r"\ud83d\ude00").unwrap(), "😀");
        assert_eq!(decoded(r"a\ud83d\ude00b\uD83D\uDE01").unwrap(), "a😀b😁");
        assert_eq!(
            decoded(r"\ud800\udc00\udbff\udfff").unwrap(),
            "\u{10000}\u{10ffff}"
        );
    }

    /// RFC 8259 §8.2: a lone surrogate encodes no Unicode character.
    #[test]
    fn lone_surrogates_are_refused() {
        for raw in [
            r"\ud83d",
            r"\ud83dx",
            r"\ud83d\n",
            r"\ud83d\u0041",
            r"\ud83d\ud83d",
            r"\ude00",
            r"\ude00\ud83d",
            r"x\udfff",
            r"\ud83d\ude",
        ] {
            let expected = if raw.ends_with(r"\ude") {
                StringError::InvalidEscape
            } else {
                StringError::LoneSurrogate
            };
            assert_eq!(decoded(raw), Err(expected), "{raw}");
        }
    }

    #[test]
    fn invalid_escapes_are_refused() {
        for raw in [
            r"\", r"\x", r"\U0041", r"\u004", r"\u+041", r"\u00g1", r"\'", r"\ ",
        ] {
            assert_eq!(decoded(raw), Err(StringError::InvalidEscape), "{raw}");
        }
    }

    /// RFC 8259 §7: control characters U+0000 to U+001F MUST be escaped; DEL need not be.
    #[test]
    fn unescaped_controls_are_refused() {
        for raw in ["a\nb", "\t", "\u{0}", r"\n\u{1f}"] {
            let raw = raw.replace(r"\u{1f}", "\u{1f}");
            assert_eq!(decoded(&raw), Err(StringError::UnescapedControl), "{raw:?}");
        }
        assert_eq!(check_plain("a\u{7f}b"), Ok(()));
        assert_eq!(check_plain("a\rb"), Err(StringError::UnescapedControl));
    }

    /// The output buffer bounds the decoded text: exactly full is fine, one byte more is not.
    #[test]
    fn bounded_by_the_buffer() {
        let mut out = [0u8; 4];
        assert_eq!(decode_str(r"\ud83d\ude00", &mut out), Ok("😀"));
        assert_eq!(
            decode_str(r"a\ud83d\ude00", &mut out),
            Err(StringError::TooLong)
        );
        assert_eq!(decode_str("abcd", &mut out), Ok("abcd"));
        assert_eq!(decode_str(r"abc\n", &mut out), Ok("abc\n"));
        assert_eq!(decode_str(r"abcd\n", &mut out), Err(StringError::TooLong));
    }
}
