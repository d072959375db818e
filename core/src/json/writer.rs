//! [`JsonWriter`]: a JSON document written token by token, with commas, indentation and
//! nesting kept by the writer, into any `core::fmt::Write`.

use core::fmt::Write;

use super::JsonText;

/// The deepest nesting of objects and arrays a [`JsonWriter`] accepts.
pub const MAX_DEPTH: usize = 64;

/// How the document is laid out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Style {
    /// No whitespace at all.
    Compact,
    /// One member per line, indented by two spaces per level, `"key": value`, empty
    /// containers as `{}` and `[]`, no trailing newline (as `JSON.stringify(v, null, 2)`).
    Pretty,
}

/// Why writing stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteError {
    /// The destination refused a write (a full buffer).
    Destination,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl From<core::fmt::Error> for WriteError {
    fn from(_: core::fmt::Error) -> WriteError {
        WriteError::Destination
    }
}

/// Writes one JSON document. The caller calls the methods in a valid order (a key before each
/// member of an object, values in arrays); the writer adds separators and indentation.
/// Misuse (a value where a key is due) is caught by debug assertions.
#[derive(Debug)]
pub struct JsonWriter<'w, W: Write + ?Sized> {
    out: &'w mut W,
    style: Style,
    depth: usize,
    /// Bit `d`: the container at depth `d` already has a member.
    filled: u64,
    /// Bit `d`: the container at depth `d` is an object.
    objects: u64,
    /// A key was written and its value is due.
    after_key: bool,
}

impl<'w, W: Write + ?Sized> JsonWriter<'w, W> {
    /// A writer into `out`.
    pub fn new(out: &'w mut W, style: Style) -> Self {
        JsonWriter {
            out,
            style,
            depth: 0,
            filled: 0,
            objects: 0,
            after_key: false,
        }
    }

    /// Current nesting depth (0 outside every container).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Before a value or a key: the separator and the indentation it needs.
    fn member(&mut self) -> Result<(), WriteError> {
        if self.after_key {
            self.after_key = false;
            return Ok(());
        }
        if self.depth == 0 {
            return Ok(());
        }
        let bit = 1u64 << (self.depth - 1);
        if self.filled & bit != 0 {
            self.out.write_char(',')?;
        }
        self.filled |= bit;
        self.newline(self.depth)
    }

    fn newline(&mut self, depth: usize) -> Result<(), WriteError> {
        if self.style == Style::Pretty {
            self.out.write_char('\n')?;
            for _ in 0..depth {
                self.out.write_str("  ")?;
            }
        }
        Ok(())
    }

    fn open(&mut self, bracket: char, object: bool) -> Result<(), WriteError> {
        self.member()?;
        if self.depth == MAX_DEPTH {
            return Err(WriteError::TooDeep);
        }
        self.out.write_char(bracket)?;
        let bit = 1u64 << self.depth;
        self.filled &= !bit;
        if object {
            self.objects |= bit;
        } else {
            self.objects &= !bit;
        }
        self.depth += 1;
        Ok(())
    }

    fn close(&mut self, bracket: char, object: bool) -> Result<(), WriteError> {
        debug_assert!(self.depth > 0 && !self.after_key, "close without open");
        let bit = 1u64 << (self.depth - 1);
        debug_assert_eq!(self.objects & bit != 0, object, "mismatched close");
        self.depth -= 1;
        if self.filled & bit != 0 {
            self.newline(self.depth)?;
        }
        self.out.write_char(bracket)?;
        Ok(())
    }

    /// `{`.
    pub fn begin_object(&mut self) -> Result<(), WriteError> {
        self.open('{', true)
    }

    /// `}`.
    pub fn end_object(&mut self) -> Result<(), WriteError> {
        self.close('}', true)
    }

    /// `[`.
    pub fn begin_array(&mut self) -> Result<(), WriteError> {
        self.open('[', false)
    }

    /// `]`.
    pub fn end_array(&mut self) -> Result<(), WriteError> {
        self.close(']', false)
    }

    /// The key of the next member of the current object.
    pub fn key(&mut self, key: &str) -> Result<(), WriteError> {
        debug_assert!(
            self.depth > 0 && self.objects & (1 << (self.depth - 1)) != 0 && !self.after_key,
            "a key outside an object"
        );
        self.member()?;
        write!(self.out, "\"{}\":", JsonText(key))?;
        if self.style == Style::Pretty {
            self.out.write_char(' ')?;
        }
        self.after_key = true;
        Ok(())
    }

    /// The key of the next member, formatted in place (escaped as it is written).
    pub fn key_fmt(&mut self, key: core::fmt::Arguments<'_>) -> Result<(), WriteError> {
        debug_assert!(
            self.depth > 0 && self.objects & (1 << (self.depth - 1)) != 0 && !self.after_key,
            "a key outside an object"
        );
        self.member()?;
        self.out.write_char('"')?;
        core::fmt::write(&mut super::JsonEscape(&mut *self.out), key)?;
        self.out.write_str("\":")?;
        if self.style == Style::Pretty {
            self.out.write_char(' ')?;
        }
        self.after_key = true;
        Ok(())
    }

    /// A string value.
    pub fn string(&mut self, value: &str) -> Result<(), WriteError> {
        self.member()?;
        write!(self.out, "\"{}\"", JsonText(value))?;
        Ok(())
    }

    /// A string value formatted in place (escaped as it is written).
    pub fn string_fmt(&mut self, value: core::fmt::Arguments<'_>) -> Result<(), WriteError> {
        self.member()?;
        self.out.write_char('"')?;
        core::fmt::write(&mut super::JsonEscape(&mut *self.out), value)?;
        self.out.write_char('"')?;
        Ok(())
    }

    /// A signed integer value.
    pub fn int(&mut self, value: i64) -> Result<(), WriteError> {
        self.member()?;
        write!(self.out, "{value}")?;
        Ok(())
    }

    /// An unsigned integer value.
    pub fn uint(&mut self, value: u64) -> Result<(), WriteError> {
        self.member()?;
        write!(self.out, "{value}")?;
        Ok(())
    }

    /// `true` or `false`.
    pub fn bool(&mut self, value: bool) -> Result<(), WriteError> {
        self.member()?;
        self.out.write_str(if value { "true" } else { "false" })?;
        Ok(())
    }

    /// `null`.
    pub fn null(&mut self) -> Result<(), WriteError> {
        self.member()?;
        self.out.write_str("null")?;
        Ok(())
    }

    /// `"key": "value"`.
    pub fn string_member(&mut self, key: &str, value: &str) -> Result<(), WriteError> {
        self.key(key)?;
        self.string(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn sample(style: Style) -> String {
        let mut s = String::new();
        let mut w = JsonWriter::new(&mut s, style);
        w.begin_object().unwrap();
        w.string_member("a", "x\"y").unwrap();
        w.key("b").unwrap();
        w.begin_array().unwrap();
        w.int(-1).unwrap();
        w.uint(2).unwrap();
        w.begin_object().unwrap();
        w.end_object().unwrap();
        w.bool(true).unwrap();
        w.null().unwrap();
        w.end_array().unwrap();
        w.key("c").unwrap();
        w.begin_array().unwrap();
        w.end_array().unwrap();
        w.end_object().unwrap();
        assert_eq!(w.depth(), 0);
        s
    }

    #[test]
    fn compact() {
        assert_eq!(
            sample(Style::Compact),
            r#"{"a":"x\"y","b":[-1,2,{},true,null],"c":[]}"#
        );
    }

    #[test]
    fn pretty() {
        assert_eq!(
            sample(Style::Pretty),
            "{\n  \"a\": \"x\\\"y\",\n  \"b\": [\n    -1,\n    2,\n    {},\n    true,\n    null\n  ],\n  \"c\": []\n}"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut s = String::new();
        let mut w = JsonWriter::new(&mut s, Style::Compact);
        for _ in 0..MAX_DEPTH {
            w.begin_array().unwrap();
        }
        assert_eq!(w.begin_array(), Err(WriteError::TooDeep));
    }
}
