//! JSON without allocation.
//!
//! - [`JsonText`] escapes a string for a JSON string literal, as `Display`.
//! - [`JsonWriter`] writes a JSON document token by token into any [`core::fmt::Write`]
//!   (the OpenAPI generator writes with it), compact or indented, with a bounded depth.
//! - With the `json` feature, typed bodies through serde: `read` and `read_request` check
//!   that a request body is JSON text nested at most `MAX_NESTING` deep, deserialize it with
//!   serde-json-core (borrowing from it) and say which status a bad one deserves
//!   (`BodyError`); `Reply::json` and `BodyOut::json` serialize a value with zzz's own
//!   serializer (`to_slice`: serde-json-core's bytes, written by runs rather than a character
//!   at a time) straight into the response buffer's spare room (moving once to the standby
//!   large buffer if it does not fit, failing like any overflow if it still does not).

mod literal;
mod writer;

#[cfg(feature = "json")]
mod body;
#[cfg(feature = "json")]
mod escapes;
#[cfg(feature = "json")]
mod reader;
#[cfg(feature = "json")]
mod serializer;
#[cfg(feature = "json")]
mod syntax;

#[cfg(feature = "json")]
pub use body::{BodyError, is_json_media_type, read, read_request};
#[cfg(feature = "json")]
pub use escapes::StringError;
#[cfg(feature = "json")]
pub use serializer::{Compound, SerializeError, Serializer, to_slice};
#[cfg(feature = "json")]
pub use syntax::MAX_NESTING;
pub use writer::{JsonWriter, MAX_DEPTH, Style, WriteError};

/// The newtype name serde-json-core gives its `EscapedStr` (its own constant is private): a
/// string that is JSON text already, read undecoded and written between quotes as it is. A
/// serializer test writes an `EscapedStr`, so a rename in a later serde-json-core fails it.
#[cfg(feature = "json")]
const ESCAPED_STR: &str = "__serde_json_core_escaped_string__";

/// Re-exported so that derives can name it (`#[serde(crate = "zzz_core::json::serde")]`).
#[cfg(feature = "json")]
pub use serde;
/// Re-exported for direct use of its deserializer (and of its serializer, which [`to_slice`]
/// matches byte for byte).
#[cfg(feature = "json")]
pub use serde_json_core;

/// Text escaped for a JSON string literal (RFC 8259 §7): `"`, `\` and control characters are
/// escaped (`\b`, `\t`, `\n`, `\f`, `\r` in short form, the others as `\u00XX`), as zzz's
/// serializer escapes them; everything else, non-ASCII included, is written as it is, a run
/// at a time.
#[derive(Clone, Copy, Debug)]
pub struct JsonText<'a>(pub &'a str);

impl core::fmt::Display for JsonText<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut rest = self.0;
        // Bounded: each round writes a run and the escape after it, or the last run.
        loop {
            // The bytes that need an escape are ASCII: `at` is a character boundary.
            let at = literal::escape_at(rest.as_bytes());
            f.write_str(&rest[..at])?;
            let Some(&byte) = rest.as_bytes().get(at) else {
                return Ok(());
            };
            f.write_str(literal::escape(byte).as_str())?;
            rest = &rest[at + 1..];
        }
    }
}

/// A writer that escapes what passes through it for a JSON string literal.
pub(crate) struct JsonEscape<'w, W: core::fmt::Write + ?Sized>(pub &'w mut W);

impl<W: core::fmt::Write + ?Sized> core::fmt::Write for JsonEscape<'_, W> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write!(self.0, "{}", JsonText(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    /// RFC 8259 §7: quotation mark, reverse solidus and the control characters must be escaped.
    #[test]
    fn escapes_what_rfc_8259_requires() {
        assert_eq!(
            JsonText("a\"b\\c\nd\u{1}é").to_string(),
            "a\\\"b\\\\c\\nd\\u0001é"
        );
        assert_eq!(JsonText("").to_string(), "");
    }
}
