//! Serde values as compact JSON into a fixed buffer: [`to_slice`], and the [`Serializer`]
//! under it.
//!
//! zzz reads JSON with serde-json-core but writes it with this serializer, because
//! serde-json-core writes a string one `char` at a time, each through a `match` and a bounds
//! test of its own. This one looks for the next byte that must be escaped eight bytes at a
//! time and copies the run before it in one copy. Instructions to write the notes API's
//! `Note` (callgrind, x86-64, release): with a 30-character title and a 400-character text,
//! 27,910 with serde-json-core and 1,875 with this; with the benchmark's note (8 and 49
//! characters), 4,153 and 1,009.
//!
//! The output is serde-json-core's, byte for byte, for every value serde-json-core writes (a
//! proptest below holds the two equal on random values, and on random buffer lengths: one
//! fails exactly when the other does), its quirks included, so that switching changed no
//! response:
//!
//! - `"`, `\` and control characters are escaped: `\b`, `\t`, `\n`, `\f`, `\r` in short form,
//!   the others as `\u00XX` with upper-case hexadecimal; everything else, non-ASCII included,
//!   is written as it is;
//! - integers in decimal; floats as `ryu` writes them (`1.0`, `1e-7`), non-finite ones as
//!   `null`;
//! - `None`, `()` and unit structs as `null`; a unit variant as its name in a string; a newtype
//!   variant as `{"Name":value}`, a struct variant as `{"Name":{...}}`;
//! - struct field names and the names of newtype and struct variants are written between
//!   quotes without escaping (they are Rust identifiers or renames chosen in the source);
//! - a map key is written as whatever it serializes to: a string key as a string, but an
//!   integer key as a bare number (`{1:2}`, which is not JSON text: use string keys);
//! - `serialize_bytes` writes the bytes as they are, unquoted (a type writing its own JSON);
//! - serde-json-core's `EscapedStr`, a string that is JSON already, is written as it is
//!   between quotes.
//!
//! Where serde-json-core panics instead of answering, this serializer never does: a `char` is
//! written as a one-character string and a tuple variant as `{"Name":[...]}` (as serde_json
//! writes them, and as serde-json-core reads them back); 128-bit integers, and errors a
//! `Serialize` impl raises itself, are [`SerializeError::Unsupported`]. Nothing is written
//! past the buffer: a value that does not fit is [`SerializeError::BufferFull`], and what was
//! written of it before is left in the buffer, as serde-json-core leaves it.

use core::fmt;

use serde::Serialize;
use serde::ser;

use super::ESCAPED_STR;
use super::literal::{escape, escape_at};
use crate::http::{copy_bytes, decimal_len, write_decimal};

mod compound;
mod escaped_str;
#[cfg(test)]
mod tests;

pub use compound::Compound;
use escaped_str::AlreadyEscaped;

/// Why a value was not written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SerializeError {
    /// The buffer is too short for the value.
    BufferFull,
    /// The value holds what JSON is not written for here (a 128-bit integer), or its
    /// `Serialize` impl failed of its own accord (`serde::ser::Error::custom`).
    Unsupported,
}

impl fmt::Display for SerializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SerializeError::BufferFull => "the value does not fit the buffer",
            SerializeError::Unsupported => "the value cannot be written as JSON",
        })
    }
}

impl ser::StdError for SerializeError {}

impl ser::Error for SerializeError {
    fn custom<T: fmt::Display>(_reason: T) -> Self {
        SerializeError::Unsupported
    }
}

type Result<T = ()> = core::result::Result<T, SerializeError>;

/// Writes `value` as compact JSON at the start of `buf`; the number of bytes written.
pub fn to_slice<T: Serialize + ?Sized>(value: &T, buf: &mut [u8]) -> Result<usize> {
    let mut serializer = Serializer::new(buf);
    value.serialize(&mut serializer)?;
    Ok(serializer.written_len())
}

/// Writes compact JSON into a byte slice: serde's `Serializer` is `&mut` this.
#[derive(Debug)]
pub struct Serializer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Serializer<'b> {
    /// A serializer writing from the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Serializer { buf, len: 0 }
    }

    /// How many bytes have been written.
    pub fn written_len(&self) -> usize {
        self.len
    }

    /// The next `n` bytes of the buffer, once it is known that they are written in full.
    #[inline]
    fn room(&mut self, n: usize) -> Result<&mut [u8]> {
        let start = self.len;
        let room = self
            .buf
            .get_mut(start..start + n)
            .ok_or(SerializeError::BufferFull)?;
        self.len = start + n;
        Ok(room)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result {
        copy_bytes(self.room(bytes.len())?, bytes);
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result {
        self.room(1)?[0] = byte;
        Ok(())
    }

    fn write_unsigned(&mut self, n: u64) -> Result {
        write_decimal(self.room(decimal_len(n))?, n);
        Ok(())
    }

    fn write_signed(&mut self, n: i64) -> Result {
        if n < 0 {
            self.write_byte(b'-')?;
        }
        self.write_unsigned(n.unsigned_abs())
    }

    /// `text` in quotes, escaped.
    fn write_string(&mut self, text: &str) -> Result {
        self.write_byte(b'"')?;
        self.write_escaped(text)?;
        self.write_byte(b'"')
    }

    /// `text` escaped: each run of bytes that need no escape in one copy.
    fn write_escaped(&mut self, text: &str) -> Result {
        let mut rest = text.as_bytes();
        loop {
            let at = escape_at(rest);
            let (run, escaped) = rest.split_at(at);
            self.write(run)?;
            let Some((&byte, after)) = escaped.split_first() else {
                return Ok(());
            };
            self.write(escape(byte).as_bytes())?;
            rest = after;
        }
    }

    /// `{"name":`, the start of a variant's wrapping object; serde-json-core writes the name
    /// without escaping it.
    fn open_variant(&mut self, name: &str) -> Result {
        self.write(b"{\"")?;
        self.write(name.as_bytes())?;
        self.write(b"\":")
    }
}

impl<'a, 'b: 'a> ser::Serializer for &'a mut Serializer<'b> {
    type Ok = ();
    type Error = SerializeError;
    type SerializeSeq = Compound<'a, 'b>;
    type SerializeTuple = Compound<'a, 'b>;
    type SerializeTupleStruct = Compound<'a, 'b>;
    type SerializeTupleVariant = Compound<'a, 'b>;
    type SerializeMap = Compound<'a, 'b>;
    type SerializeStruct = Compound<'a, 'b>;
    type SerializeStructVariant = Compound<'a, 'b>;

    fn serialize_bool(self, v: bool) -> Result {
        self.write(if v { b"true" } else { b"false" })
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.write_signed(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.write_signed(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.write_signed(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.write_signed(v)
    }

    fn serialize_i128(self, _v: i128) -> Result {
        Err(SerializeError::Unsupported)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.write_unsigned(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.write_unsigned(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.write_unsigned(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result {
        self.write_unsigned(v)
    }

    fn serialize_u128(self, _v: u128) -> Result {
        Err(SerializeError::Unsupported)
    }

    fn serialize_f32(self, v: f32) -> Result {
        if v.is_finite() {
            self.write(ryu::Buffer::new().format_finite(v).as_bytes())
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_f64(self, v: f64) -> Result {
        if v.is_finite() {
            self.write(ryu::Buffer::new().format_finite(v).as_bytes())
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_char(self, v: char) -> Result {
        self.write_string(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result {
        self.write_string(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.write(v)
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.write(b"null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.write_string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result {
        if name == ESCAPED_STR {
            self.write_byte(b'"')?;
            value.serialize(AlreadyEscaped(&mut *self))?;
            self.write_byte(b'"')
        } else {
            value.serialize(self)
        }
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.open_variant(variant)?;
        value.serialize(&mut *self)?;
        self.write_byte(b'}')
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a, 'b>> {
        self.write_byte(b'[')?;
        Ok(Compound::new(self, b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'b>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a, 'b>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'b>> {
        self.open_variant(variant)?;
        self.write_byte(b'[')?;
        Ok(Compound::new(self, b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a, 'b>> {
        self.write_byte(b'{')?;
        Ok(Compound::new(self, b"}"))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a, 'b>> {
        self.serialize_map(None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'b>> {
        self.open_variant(variant)?;
        self.write_byte(b'{')?;
        Ok(Compound::new(self, b"}}"))
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result {
        self.write_byte(b'"')?;
        // serde-json-core names any failure of `Display` a full buffer; so does this.
        fmt::write(&mut Escaping(&mut *self), format_args!("{value}"))
            .map_err(|_| SerializeError::BufferFull)?;
        self.write_byte(b'"')
    }
}

/// `collect_str`'s destination: what `Display` writes, escaped.
struct Escaping<'s, 'b>(&'s mut Serializer<'b>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_escaped(s).map_err(|_| fmt::Error)
    }
}
