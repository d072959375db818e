//! Typed JSON bodies (the `json` feature): serde, no allocation; read with serde-json-core,
//! written with zzz's own serializer (`serializer`: the same bytes, in far fewer
//! instructions).
//!
//! Reading borrows from the request body: a `&'r str` field points into it, or, for a string
//! with escapes, into the caller's scratch buffer, where such strings are decoded one after
//! another (an owned type such as `heapless::String<N>` copies either). Any JSON text of RFC
//! 8259 is read, strings with escapes of every kind included (a surrogate pair is the one
//! character it encodes); serde-json-core parses, and zzz decodes the strings (see `escapes`
//! for why). Writing serializes straight into the response buffer's spare room with
//! [`to_slice`], moving once to the standby large buffer if it does not fit.

use serde::{Deserialize, Serialize};
use serde_json_core::de::Error as DeError;

use super::escapes::StringError;
use super::reader::{Decoding, Strings};
use super::serializer::{SerializeError, to_slice};
use super::syntax::SyntaxError;
use crate::handler::{BodyOut, Reply, Request, Response};
use crate::http::{Status, trim_ows};

/// Why a request body is not the `T` a handler asked for. Each maps to the status that says so
/// ([`BodyError::status`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BodyError {
    /// `Content-Type` is missing or not `application/json`: `415`.
    UnsupportedMediaType,
    /// The body is not JSON text (a syntax error, or it ends early): `400`.
    Malformed(DeError),
    /// A string of the body cannot be decoded (an invalid escape, a lone surrogate, an
    /// unescaped control character; never [`StringError::TooLong`], which is [`Invalid`]):
    /// `400`.
    ///
    /// [`Invalid`]: BodyError::Invalid
    MalformedString(StringError),
    /// The body nests arrays and objects deeper than [`MAX_NESTING`](super::MAX_NESTING):
    /// `400`, refused before it is read.
    TooDeep,
    /// The body is JSON but not a `T`: a wrong type, a missing or unknown property, a number
    /// out of range, a string too long for its buffer: `422`.
    Invalid(DeError),
}

impl BodyError {
    /// The status that answers it: 415, 400 or 422.
    pub const fn status(&self) -> Status {
        match self {
            BodyError::UnsupportedMediaType => Status::UNSUPPORTED_MEDIA_TYPE,
            BodyError::Malformed(_) | BodyError::MalformedString(_) | BodyError::TooDeep => {
                Status::BAD_REQUEST
            }
            BodyError::Invalid(_) => Status::UNPROCESSABLE_CONTENT,
        }
    }

    /// A problem title for it.
    pub const fn title(&self) -> &'static str {
        match self {
            BodyError::UnsupportedMediaType => "Unsupported Media Type",
            BodyError::Malformed(_) | BodyError::MalformedString(_) => "Malformed JSON",
            BodyError::TooDeep => "JSON nested too deeply",
            BodyError::Invalid(_) => "Invalid body",
        }
    }
}

impl core::fmt::Display for BodyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BodyError::UnsupportedMediaType => f.write_str("the body must be application/json"),
            BodyError::Malformed(e) => write!(f, "the body is not valid JSON: {}", reason(e)),
            BodyError::MalformedString(e) => {
                write!(f, "the body is not valid JSON: {}", e.reason())
            }
            BodyError::TooDeep => write!(
                f,
                "the body nests arrays and objects more than {} deep",
                super::MAX_NESTING
            ),
            BodyError::Invalid(e) => {
                write!(
                    f,
                    "the body does not match its schema: {}",
                    invalid_reason(e)
                )
            }
        }
    }
}

/// A reason in words for the errors serde-json-core keeps without a message.
fn reason(error: &DeError) -> &'static str {
    use DeError::*;
    match error {
        EofWhileParsingList
        | EofWhileParsingObject
        | EofWhileParsingString
        | EofWhileParsingNumber
        | EofWhileParsingValue => "it ends early",
        ExpectedColon => "a `:` is missing",
        ExpectedListCommaOrEnd => "an array misses a `,` or `]`",
        ExpectedObjectCommaOrEnd => "an object misses a `,` or `}`",
        ExpectedSomeIdent => "`true`, `false` or `null` is misspelt",
        ExpectedSomeValue => "a value is missing",
        InvalidEscapeSequence => "a string has an invalid escape",
        InvalidUnicodeCodePoint => "a string is not valid UTF-8 or holds a control character",
        KeyMustBeAString => "an object key is not a string",
        TrailingCharacters => "text follows the value",
        TrailingComma => "a `,` precedes a closing bracket",
        InvalidType => "a value has the wrong type",
        InvalidNumber => "a number is out of range or malformed",
        EscapedStringIsTooLong => "a string is too long",
        CustomError => "a property is missing, unknown, repeated or out of range",
        _ => "it cannot be read",
    }
}

/// Why JSON text is not the type asked for. serde-json-core names some type mismatches as
/// syntax faults (a fraction for an integer is "a missing `,`"), which on JSON text they are
/// not.
fn invalid_reason(error: &DeError) -> &'static str {
    use DeError::*;
    match error {
        InvalidType
        | InvalidNumber
        | InvalidUnicodeCodePoint
        | EscapedStringIsTooLong
        | CustomError => reason(error),
        _ => "a value has the wrong type",
    }
}

/// Whether a `Content-Type` value is JSON: `application/json`, parameters allowed,
/// case-insensitive (RFC 8259 §11, RFC 9110 §8.3.1).
pub fn is_json_media_type(value: &[u8]) -> bool {
    let essence = value.split(|&b| b == b';').next().unwrap_or(&[]);
    trim_ows(essence).eq_ignore_ascii_case(b"application/json")
}

/// Deserializes `body` as one JSON value of type `T` (whitespace around it allowed, nothing
/// else). Strings with escapes are decoded into `scratch`, one after another, and a `&str`
/// field borrows them from there (one without escapes, from `body`), so `scratch` must hold
/// all of the body's decoded strings with escapes, object keys included, except those of
/// skipped values (unknown fields); `body.len()` bytes always suffice. A string that does not
/// fit fails the read with [`BodyError::Invalid`] (`EscapedStringIsTooLong`). The body is first
/// checked to be JSON text nested at most [`MAX_NESTING`](super::MAX_NESTING) deep, in one
/// pass without recursion: serde-json-core recurses once per array or object it skips, so a
/// deeply nested value of an unknown field would otherwise overflow the stack.
pub fn read<'de, T: Deserialize<'de>>(
    body: &'de [u8],
    scratch: &'de mut [u8],
) -> Result<T, BodyError> {
    match super::syntax::check(body) {
        Ok(()) => {}
        Err(SyntaxError::Malformed(error)) => return Err(BodyError::Malformed(error)),
        Err(SyntaxError::TooDeep) => return Err(BodyError::TooDeep),
        Err(SyntaxError::String(error)) => return Err(BodyError::MalformedString(error)),
    }
    let mut strings = Strings::new(scratch);
    // No unescape buffer: the crate hands strings over as they are, and `Decoding` decodes.
    let mut parser = serde_json_core::de::Deserializer::new(body, None);
    let parsed = T::deserialize(Decoding::new(&mut parser, &mut strings))
        .and_then(|value| parser.end().map(|_| value));
    match (parsed, strings.refused) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(StringError::TooLong)) => {
            Err(BodyError::Invalid(DeError::EscapedStringIsTooLong))
        }
        (Err(_), Some(refused)) => Err(BodyError::MalformedString(refused)),
        // The body is JSON text, so whatever else serde-json-core objects to makes it not a
        // `T`, even when it names a syntax fault: it reports a fraction where an integer is
        // expected as a missing `,` (`[4.4]` as a list of integers).
        (Err(error), None) => Err(BodyError::Invalid(error)),
    }
}

/// Checks that the request says its body is JSON, then [`read`]s it.
pub fn read_request<'r, T: Deserialize<'r>>(
    req: &Request<'r>,
    scratch: &'r mut [u8],
) -> Result<T, BodyError> {
    match req.header("Content-Type") {
        Some(value) if is_json_media_type(value) => read(req.body(), scratch),
        _ => Err(BodyError::UnsupportedMediaType),
    }
}

impl<S> BodyOut<'_, S> {
    /// Appends `value` serialized as compact JSON by [`to_slice`], in place; `false` if it
    /// does not fit even the standby large buffer (the response then fails as any overflow),
    /// or holds what is not written as JSON ([`SerializeError::Unsupported`]: the response
    /// fails as a producer's own error, [`BodyOut::fail`]). Either way the client gets the
    /// static `500` (`503` when it needed a large buffer and none was free).
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> bool {
        let mut unsupported = false;
        let written = self.write_with(|room| match to_slice(value, room) {
            Ok(len) => Some(len),
            Err(SerializeError::BufferFull) => None,
            // No buffer makes it writable: committing nothing spares the move to the standby
            // buffer, which would only fail again, and `fail` gives the right reason.
            Err(SerializeError::Unsupported) => {
                unsupported = true;
                Some(0)
            }
        });
        if unsupported {
            self.fail();
            return false;
        }
        written.is_some()
    }
}

impl<S> Reply<'_, S> {
    /// Ends the response with `value` serialized as JSON (see [`BodyOut::json`]) and
    /// `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Response {
        self.json_as("application/json", value)
    }

    /// Ends the response with `value` serialized as JSON under another JSON media type
    /// (`application/problem+json`...).
    pub fn json_as<T: Serialize + ?Sized>(self, content_type: &str, value: &T) -> Response {
        let mut body = self.header("Content-Type", content_type).writer();
        body.json(value);
        body.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Point<'a> {
        x: i32,
        label: &'a str,
        note: Option<heapless::String<8>>,
    }

    #[test]
    fn reads_and_borrows() {
        let body = br#" {"x": -3, "label": "here", "note": "a\"b"} "#;
        let mut scratch = [0u8; 16];
        let p: Point = read(body, &mut scratch).unwrap();
        assert_eq!(p.x, -3);
        assert_eq!(p.label, "here");
        assert_eq!(p.note.as_deref(), Some("a\"b"));
        let at = body.windows(4).position(|w| w == b"here").unwrap();
        assert!(
            core::ptr::eq(p.label.as_ptr(), body[at..].as_ptr()),
            "borrowed, not copied"
        );
    }

    /// RFC 8259 syntax errors are 400; well-formed JSON of the wrong shape is 422.
    #[test]
    fn classifies_errors() {
        let mut scratch = [0u8; 16];
        for bad in [
            &b"{"[..],
            b"",
            b"{\"x\":1,}",
            b"{\"x\" 1}",
            b"{\"x\":1,\"label\":\"a\"} x",
        ] {
            let e = read::<Point>(bad, &mut scratch).unwrap_err();
            assert_eq!(
                e.status(),
                Status::BAD_REQUEST,
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        for bad in [
            &br#"{"x":"1","label":"a"}"#[..],
            br#"{"label":"a"}"#,
            br#"{"x":1,"label":"a","y":2}"#,
            br#"{"x":1,"label":"a","note":"123456789"}"#,
            br#"{"x":3000000000,"label":"a"}"#,
            br#"[]"#,
            br#"{"x":1.5,"label":"a"}"#,
            br#"{"x":1e2,"label":"a"}"#,
        ] {
            let e = read::<Point>(bad, &mut scratch).unwrap_err();
            assert_eq!(
                e.status(),
                Status::UNPROCESSABLE_CONTENT,
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Note {
        title: heapless::String<16>,
        text: heapless::String<64>,
    }

    /// The body Python's `json.dumps` writes for an emoji title (every character outside the
    /// Basic Multilingual Plane becomes a UTF-16 surrogate pair, RFC 8259 §7): one character.
    #[test]
    fn surrogate_pair_is_one_character() {
        let body = br#"{"title":"\ud83d\ude00","text":"x"}"#;
        let note: Note = read(body, &mut [0u8; 16]).unwrap();
        assert_eq!(note.title, "😀");
        assert_eq!(note.title.chars().count(), 1);
        assert_eq!(note.text, "x");
    }

    /// RFC 8259 §7: every escape, in values and in member names, whatever the type asks
    /// for (an owned string, a `char`, a sequence, an enum, an ignored member).
    #[test]
    fn every_escape_of_rfc_8259() {
        let body = br#"{"ti\u0074le":"\"\\\/\b\f\n\r\t","text":"\u00e9\u00C9\u20ac\uD834\uDD1E"}"#;
        let note: Note = read(body, &mut [0u8; 32]).unwrap();
        assert_eq!(note.title, "\"\\/\u{8}\u{c}\n\r\t");
        assert_eq!(note.text, "éÉ€\u{1d11e}");

        #[derive(Deserialize, Debug, PartialEq)]
        enum Kind {
            Plain,
            #[serde(rename = "é")]
            Accented,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct Many {
            c: char,
            list: heapless::Vec<heapless::String<4>, 3>,
            kinds: [Kind; 2],
            maybe: Option<heapless::String<4>>,
        }
        let body = br#"{"c":"\u00e9","list":["\ud83d\ude00","a\nb"],"kinds":["Plain","\u00e9"],"maybe":"\t","extra":{"k\u00e9y":["\u0041"]}}"#;
        // Room for every decoded string kept (2 + 4 + 3 + 2 + 1 bytes); the skipped `extra`
        // takes none.
        let many: Many = read(body, &mut [0u8; 12]).unwrap();
        assert_eq!(many.c, 'é');
        assert_eq!(&many.list[..], ["😀", "a\nb"]);
        assert_eq!(many.kinds, [Kind::Plain, Kind::Accented]);
        assert_eq!(many.maybe.as_deref(), Some("\t"));
    }

    /// RFC 8259 §8.2: a lone surrogate encodes no character; the body is 400 and its detail
    /// says why. Other string faults are 400 too, each with its own reason.
    #[test]
    fn lone_surrogates_are_400_with_a_reason() {
        for body in [
            &br#"{"title":"\ud83d","text":"x"}"#[..],
            br#"{"title":"\ude00","text":"x"}"#,
            br#"{"title":"\ud83d\u0041","text":"x"}"#,
            br#"{"title":"ok","text":"\ude00\ud83d"}"#,
            br#"{"title":"ok","text":"x","\ud800":1}"#,
        ] {
            let e = read::<Note>(body, &mut [0u8; 16]).unwrap_err();
            assert_eq!(
                e,
                BodyError::MalformedString(StringError::LoneSurrogate),
                "{:?}",
                core::str::from_utf8(body)
            );
            assert_eq!(e.status(), Status::BAD_REQUEST);
            let detail = std::format!("{e}");
            assert!(detail.contains("lone UTF-16 surrogate"), "{detail}");
        }
        for (body, error) in [
            (
                &br#"{"title":"\x","text":"x"}"#[..],
                StringError::InvalidEscape,
            ),
            (
                br#"{"title":"\u00zz","text":"x"}"#,
                StringError::InvalidEscape,
            ),
            (
                b"{\"title\":\"a\nb\",\"text\":\"x\"}",
                StringError::UnescapedControl,
            ),
        ] {
            let e = read::<Note>(body, &mut [0u8; 16]).unwrap_err();
            assert_eq!(e, BodyError::MalformedString(error));
            assert_eq!(e.status(), Status::BAD_REQUEST);
        }
    }

    /// The scratch buffer bounds a decoded string: exactly full is read, one byte more is 422
    /// (the body is JSON, but not one this handler can hold), as serde-json-core answers.
    #[test]
    fn scratch_bounds_a_decoded_string() {
        let body = br#"{"title":"\ud83d\ude00\ud83d\ude00","text":""}"#;
        let note: Note = read(body, &mut [0u8; 8]).unwrap();
        assert_eq!(note.title, "😀😀");
        let e = read::<Note>(body, &mut [0u8; 7]).unwrap_err();
        assert_eq!(e, BodyError::Invalid(DeError::EscapedStringIsTooLong));
        assert_eq!(e.status(), Status::UNPROCESSABLE_CONTENT);
    }

    /// A `&str` field holds a string with escapes too: decoded into the scratch buffer and
    /// borrowed from there, after the strings decoded before it, so the buffer bounds them
    /// all together; a skipped value's strings are checked but take no room.
    #[test]
    fn borrowed_strings_with_escapes_are_kept_in_scratch() {
        #[derive(Deserialize, Debug)]
        struct Pair<'a> {
            a: &'a str,
            b: &'a str,
        }
        let body = br#"{"a":"\u00e9t\u00e9","skipped":["\u00e9\u00e9\u00e9"],"b":"x\ty"}"#;
        let mut scratch = [0u8; 9];
        let room = scratch.as_ptr_range();
        let pair: Pair = read(body, &mut scratch).unwrap();
        assert_eq!((pair.a, pair.b), ("été", "x\ty"));
        assert!(room.contains(&pair.a.as_ptr()) && room.contains(&pair.b.as_ptr()));

        // One byte short of both (5 + 3 bytes) is 422, as for one string too long.
        let e = read::<Pair>(body, &mut [0u8; 7]).unwrap_err();
        assert_eq!(e, BodyError::Invalid(DeError::EscapedStringIsTooLong));
        assert!(read::<Pair>(body, &mut [0u8; 8]).is_ok());

        // A skipped string is still checked, so a lone surrogate there is refused as anywhere.
        let e = read::<Pair>(br#"{"a":"","b":"","c":"\ud800"}"#, &mut scratch).unwrap_err();
        assert_eq!(e, BodyError::MalformedString(StringError::LoneSurrogate));
    }

    /// A value serialized in place: in the buffer when it fits, moved once to the standby
    /// buffer when it does not, an overflow when neither holds it (never a cut value).
    #[test]
    fn serialized_in_place_with_one_move() {
        use crate::http::ByteWriter;
        let value = ["abcdef"; 4]; // `["abcdef","abcdef","abcdef","abcdef"]`: 37 bytes
        let fill = |room: &mut [u8]| to_slice(&value, room).ok();

        let mut buf = [0u8; 64];
        let mut out = ByteWriter::new(&mut buf);
        out.write(b"x");
        assert_eq!(out.write_with(fill), Some(37));
        assert_eq!(&out.written()[..3], b"x[\"");
        assert!(!out.moved());

        let (mut small, mut large) = ([0u8; 16], [0u8; 64]);
        let mut out = ByteWriter::with_standby(&mut small, Some(&mut large));
        out.write(b"x");
        assert_eq!(out.write_with(fill), Some(37));
        assert!(out.moved() && !out.overflowed());
        assert_eq!(out.len(), 38);
        assert_eq!(out.written()[0], b'x');

        let (mut small, mut large) = ([0u8; 16], [0u8; 32]);
        let mut out = ByteWriter::with_standby(&mut small, Some(&mut large));
        assert_eq!(out.write_with(fill), None);
        assert!(out.overflowed());
        assert_eq!(out.write_with(|_| Some(0)), None, "stays failed");
    }

    /// A value JSON is not written for here fails the response as the handler's own error,
    /// in the buffer it was given: it never moves to the standby buffer to fail again there,
    /// and is not counted as an overflow (which, without a standby buffer, would be a 503).
    #[test]
    fn an_unsupported_value_fails_without_moving() {
        use crate::handler::Out;
        use crate::http::{HttpDate, ResponseError};
        let date = HttpDate::new();
        for standby in [false, true] {
            let (mut small, mut large) = ([0u8; 256], [0u8; 1024]);
            let large = standby.then_some(&mut large[..]);
            let mut out: Out<'_, ()> = Out::detached(&mut small, large, &date, false);
            let _ = out.respond(Status::OK).json(&[1i128]);
            assert_eq!(
                out.written(),
                Err(ResponseError::Render),
                "standby: {standby}"
            );
        }
        // The same handler with a value that does fit answers normally.
        let (mut small, mut large) = ([0u8; 256], [0u8; 1024]);
        let mut out: Out<'_, ()> = Out::detached(&mut small, Some(&mut large), &date, false);
        let _ = out.respond(Status::OK).json(&[1i64]);
        let response = out.written().expect("fits the send buffer");
        assert!(response.ends_with(b"\r\n\r\n[1]"));
    }

    /// A value skipped as an unknown field is skipped by recursion in serde-json-core: a body
    /// of a million `[` (well under the default 1 MiB body limit) overflowed the stack and
    /// aborted the server. RFC 8259 §9 lets a parser bound nesting; past the bound is `400`.
    #[test]
    fn deep_nesting_is_refused_before_it_is_read() {
        #[derive(Deserialize, Debug)]
        struct Lenient {
            #[allow(dead_code)]
            x: i32,
        }
        let mut body = std::vec::Vec::from(&b"{\"x\":1,\"skipped\":"[..]);
        body.extend(core::iter::repeat_n(b'[', 1 << 20));
        let mut scratch = [0u8; 16];
        let error = read::<Lenient>(&body, &mut scratch).unwrap_err();
        assert_eq!(error, BodyError::TooDeep);
        assert_eq!(error.status(), Status::BAD_REQUEST);

        let mut within = std::vec::Vec::from(&b"{\"x\":1,\"skipped\":"[..]);
        let depth = crate::json::MAX_NESTING - 1;
        within.extend(core::iter::repeat_n(b'[', depth));
        within.extend(core::iter::repeat_n(b']', depth));
        within.push(b'}');
        assert!(read::<Lenient>(&within, &mut scratch).is_ok());
    }

    /// Found by the `json_body` fuzz target (type byte 0x55, scratch byte 0xcd): a fraction
    /// read as an integer is JSON of the wrong type, `422`, not a syntax error.
    #[test]
    fn fraction_for_an_integer_is_invalid_not_malformed() {
        let mut scratch = [0u8; 0xcd];
        let error = read::<heapless::Vec<i32, 8>>(b"[4.4]", &mut scratch).unwrap_err();
        assert_eq!(error, BodyError::Invalid(DeError::ExpectedListCommaOrEnd));
        assert_eq!(error.status(), Status::UNPROCESSABLE_CONTENT);
        let error = read::<i32>(b"4.4", &mut scratch).unwrap_err();
        assert_eq!(error.status(), Status::UNPROCESSABLE_CONTENT);
    }

    #[test]
    fn media_types() {
        assert!(is_json_media_type(b"application/json"));
        assert!(is_json_media_type(b"Application/JSON ; charset=utf-8"));
        assert!(!is_json_media_type(b"application/jsonx"));
        assert!(!is_json_media_type(b"text/plain"));
    }
}
