//! Whether a body is JSON text (RFC 8259), checked in one pass before serde-json-core reads it.
//!
//! serde-json-core recurses once per array or object it skips (an unknown field's value, an
//! `IgnoredAny`) and bounds neither, so a body of a million `[` overflows the stack; and when
//! it meets a fraction where an integer is expected it reports a missing `,`, which is no
//! syntax error. Checking the grammar first, with a bound on nesting, answers both: what fails
//! here is malformed (or too deep), what passes is JSON text, and whatever serde-json-core
//! then objects to is a body that is not the type asked for.

use serde_json_core::de::Error as DeError;

use super::escapes::StringError;

/// The deepest nesting of arrays and objects a body may have; deeper is refused before it is
/// read (RFC 8259 §9 lets a parser limit nesting). The same as serde_json's default.
pub const MAX_NESTING: usize = 128;

/// Why a body is not JSON text this server reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SyntaxError {
    /// Not JSON text; serde-json-core's name for the fault.
    Malformed(DeError),
    /// Arrays and objects nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// A string with an invalid escape or an unescaped control character: the same errors,
    /// with the same words, as the string decoder gives (`escapes`).
    String(StringError),
}

impl From<DeError> for SyntaxError {
    fn from(error: DeError) -> SyntaxError {
        SyntaxError::Malformed(error)
    }
}

/// Checks that `text` is one JSON value with optional whitespace around it (RFC 8259 §2),
/// nested at most [`MAX_NESTING`] deep. One pass, no recursion: the containers open at each
/// depth are remembered in a fixed array.
pub(crate) fn check(text: &[u8]) -> Result<(), SyntaxError> {
    let mut in_object = [false; MAX_NESTING];
    let mut depth = 0;
    let mut at = 0;
    // Bounded: each turn consumes a value's first byte or more of `text`, or returns.
    'value: loop {
        at = skip_whitespace(text, at);
        match text.get(at) {
            None => return Err(DeError::EofWhileParsingValue.into()),
            Some(&open @ (b'[' | b'{')) => {
                if depth == MAX_NESTING {
                    return Err(SyntaxError::TooDeep);
                }
                let object = open == b'{';
                in_object[depth] = object;
                depth += 1;
                at = skip_whitespace(text, at + 1);
                let close = if object { b'}' } else { b']' };
                if text.get(at) == Some(&close) {
                    depth -= 1;
                    at += 1;
                } else {
                    if object {
                        at = key(text, at)?;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => at = string(text, at)?,
            Some(b'-' | b'0'..=b'9') => at = number(text, at)?,
            Some(b't') => at = literal(text, at, b"true")?,
            Some(b'f') => at = literal(text, at, b"false")?,
            Some(b'n') => at = literal(text, at, b"null")?,
            Some(_) => return Err(DeError::ExpectedSomeValue.into()),
        }
        // After a value: close containers until one takes a next element, or end.
        // Bounded: each turn closes a container (at most `MAX_NESTING` are open) or leaves.
        loop {
            at = skip_whitespace(text, at);
            if depth == 0 {
                if at < text.len() {
                    return Err(DeError::TrailingCharacters.into());
                }
                return Ok(());
            }
            let object = in_object[depth - 1];
            match (text.get(at), object) {
                (Some(b','), _) => {
                    at = skip_whitespace(text, at + 1);
                    if matches!(text.get(at), Some(b']' | b'}')) {
                        return Err(DeError::TrailingComma.into());
                    }
                    if object {
                        at = key(text, at)?;
                    }
                    continue 'value;
                }
                (Some(b']'), false) | (Some(b'}'), true) => {
                    depth -= 1;
                    at += 1;
                }
                (None, false) => return Err(DeError::EofWhileParsingList.into()),
                (None, true) => return Err(DeError::EofWhileParsingObject.into()),
                (Some(_), false) => return Err(DeError::ExpectedListCommaOrEnd.into()),
                (Some(_), true) => return Err(DeError::ExpectedObjectCommaOrEnd.into()),
            }
        }
    }
}

/// RFC 8259 §2: `ws = *( %x20 / %x09 / %x0A / %x0D )`.
fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    // Bounded: each turn moves past a byte of `text`.
    while matches!(text.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// An object member's name and the `:` after it; returns where its value starts.
fn key(text: &[u8], at: usize) -> Result<usize, SyntaxError> {
    match text.get(at) {
        Some(b'"') => {}
        Some(_) => return Err(DeError::KeyMustBeAString.into()),
        None => return Err(DeError::EofWhileParsingObject.into()),
    }
    let at = skip_whitespace(text, string(text, at)?);
    match text.get(at) {
        Some(b':') => Ok(at + 1),
        Some(_) => Err(DeError::ExpectedColon.into()),
        None => Err(DeError::EofWhileParsingObject.into()),
    }
}

/// RFC 8259 §7: a string starting at `at` (its `"`), of UTF-8 text (§8.1) without control
/// characters, with valid escapes; returns where it ends.
fn string(text: &[u8], at: usize) -> Result<usize, SyntaxError> {
    let mut i = at + 1;
    // Bounded: each turn moves past at least one byte of `text`, or returns.
    loop {
        match text.get(i) {
            None => return Err(DeError::EofWhileParsingString.into()),
            Some(b'"') => break,
            Some(b'\\') => {
                i += match text.get(i + 1) {
                    None => return Err(DeError::EofWhileParsingString.into()),
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                    Some(b'u') => match text.get(i + 2..i + 6) {
                        Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => 6,
                        Some(_) => return Err(SyntaxError::String(StringError::InvalidEscape)),
                        None => return Err(DeError::EofWhileParsingString.into()),
                    },
                    Some(_) => return Err(SyntaxError::String(StringError::InvalidEscape)),
                };
            }
            Some(0..=0x1f) => return Err(SyntaxError::String(StringError::UnescapedControl)),
            Some(_) => i += 1,
        }
    }
    match core::str::from_utf8(&text[at + 1..i]) {
        Ok(_) => Ok(i + 1),
        Err(_) => Err(DeError::InvalidUnicodeCodePoint.into()),
    }
}

/// RFC 8259 §6: `[ minus ] int [ frac ] [ exp ]`; returns where it ends.
fn number(text: &[u8], at: usize) -> Result<usize, DeError> {
    let digits = |from: usize| {
        let end = from
            + text[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        match (end > from, end == text.len()) {
            (true, _) => Ok(end),
            (false, true) => Err(DeError::EofWhileParsingNumber),
            (false, false) => Err(DeError::InvalidNumber),
        }
    };
    let mut i = at + usize::from(text[at] == b'-');
    // A leading zero stands alone: `01` is `0` followed by text that is not JSON.
    i = match text.get(i) {
        Some(b'0') => i + 1,
        _ => digits(i)?,
    };
    if text.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(text.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i)?;
    }
    Ok(i)
}

/// `true`, `false` or `null`, spelt out whole.
fn literal(text: &[u8], at: usize, word: &[u8]) -> Result<usize, DeError> {
    let end = at + word.len();
    match text.get(at..end) {
        Some(found) if found == word => Ok(end),
        None if word.starts_with(&text[at..]) => Err(DeError::EofWhileParsingValue),
        _ => Err(DeError::ExpectedSomeIdent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// RFC 8259 §2–§8: every kind of value, nested, with whitespace where the grammar allows it.
    #[test]
    fn json_text_passes() {
        for text in [
            &b"0"[..],
            b" -0.5e+3 ",
            b"1E-2",
            b"true",
            b"null",
            b"\"caf\xc3\xa9 \\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\"",
            b"[]",
            b"{}",
            b"[1, [2, {\"a\": [false, null]}], {}]",
            b"\r\n\t{ \"k\" : \"v\" , \"n\" : { } }\n",
        ] {
            assert_eq!(check(text), Ok(()), "{:?}", core::str::from_utf8(text));
        }
    }

    /// What RFC 8259 does not allow, with serde-json-core's name for each fault.
    #[test]
    fn malformed_text_fails() {
        use DeError::*;
        for (text, error) in [
            (&b""[..], EofWhileParsingValue),
            (b"  ", EofWhileParsingValue),
            (b"0.", EofWhileParsingNumber),
            (b"0.x", InvalidNumber),
            (b"-", EofWhileParsingNumber),
            (b"1e", EofWhileParsingNumber),
            (b"01", TrailingCharacters),
            (b"+1", ExpectedSomeValue),
            (b".5", ExpectedSomeValue),
            (b"tru", EofWhileParsingValue),
            (b"trUe", ExpectedSomeIdent),
            (b"\"a", EofWhileParsingString),
            (b"\"\xd5\"", InvalidUnicodeCodePoint),
            (b"[1,]", TrailingComma),
            (b"{\"a\":1,}", TrailingComma),
            (b"[1 2]", ExpectedListCommaOrEnd),
            (b"[1", EofWhileParsingList),
            (b"{\"a\":1 \"b\"}", ExpectedObjectCommaOrEnd),
            (b"{\"a\" 1}", ExpectedColon),
            (b"{1:2}", KeyMustBeAString),
            (b"{\"a\":1", EofWhileParsingObject),
            (b"{\"a\": x\", \"b\": []}", ExpectedSomeValue),
            (b"[] []", TrailingCharacters),
        ] {
            assert_eq!(
                check(text),
                Err(SyntaxError::Malformed(error)),
                "{:?}",
                core::str::from_utf8(text)
            );
        }
        // Faults inside a string are named as the string decoder names them.
        for (text, error) in [
            (&b"\"\\x\""[..], StringError::InvalidEscape),
            (b"\"\\u12g4\"", StringError::InvalidEscape),
            (b"\"a\x01\"", StringError::UnescapedControl),
        ] {
            assert_eq!(check(text), Err(SyntaxError::String(error)));
        }
    }

    /// A body nested exactly `MAX_NESTING` deep passes; one level more does not, however
    /// long the body (it is refused at the first level too many, before it is read).
    #[test]
    fn nesting_is_bounded() {
        let nested = |depth: usize| {
            let mut text: Vec<u8> = core::iter::repeat_n(b'[', depth).collect();
            text.extend(core::iter::repeat_n(b']', depth));
            text
        };
        assert_eq!(check(&nested(MAX_NESTING)), Ok(()));
        assert_eq!(check(&nested(MAX_NESTING + 1)), Err(SyntaxError::TooDeep));
        let objects = b"{\"a\":".repeat(MAX_NESTING + 1);
        assert_eq!(check(&objects), Err(SyntaxError::TooDeep));
        let million = std::vec![b'['; 1 << 20];
        assert_eq!(check(&million), Err(SyntaxError::TooDeep));
    }
}
