//! The deserializer a JSON body is read with: serde-json-core's, with every string decoded by
//! [`super::escapes`] instead of by the crate.
//!
//! serde-json-core is asked for strings as they are in the text (it is given no unescape
//! buffer, so it hands each one over borrowed, escapes and all); [`Decoding`] wraps its
//! deserializer and every visitor, seed, sequence, map and enum it passes on, so that each
//! string reaches the caller's type decoded: borrowed from the body when it has no escape,
//! decoded into the caller's scratch buffer otherwise, and borrowed from there. Everything
//! else (the grammar, numbers, structure, errors) is the crate's.
//!
//! Decoded strings are laid one after another in the scratch buffer and stay there for as
//! long as the body is borrowed, so that a `&str` field can hold a string with escapes as
//! well as one without: a type then borrows all its strings and is a few words to move,
//! where one of `heapless::String`s is as large as their capacities (2.3 KiB for a note of
//! the notes API, moved some eight times on its way out of serde's derived code: 1,670
//! instructions a `POST /notes` under callgrind). The price is scratch room for all the
//! decoded strings of a body rather than the longest, and the body's own length always
//! suffices. A skipped value (an unknown field) needs no room: its strings are only checked.
//!
//! A string the decoder refuses fails the crate's deserialization with a custom error (all
//! serde lets a visitor return), and the reason is kept beside it in [`Strings::refused`].

use core::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use super::ESCAPED_STR;
use super::escapes::{self, StringError};

/// Where strings with escapes are decoded, and why one was refused.
pub struct Strings<'de> {
    /// The part of the caller's scratch buffer that no kept string holds.
    free: &'de mut [u8],
    /// Above zero while a value nobody keeps is skipped.
    skipping: u32,
    /// The first string the decoder refused.
    pub refused: Option<StringError>,
}

impl<'de> Strings<'de> {
    /// Strings with escapes are decoded into `scratch`, one after another.
    pub fn new(scratch: &'de mut [u8]) -> Strings<'de> {
        Strings {
            free: scratch,
            skipping: 0,
            refused: None,
        }
    }

    /// Hands `raw` (a string's text between its quotes) to `visitor`, decoded.
    fn visit<V: Visitor<'de>, E: de::Error>(
        &mut self,
        visitor: V,
        raw: Raw<'de, '_>,
    ) -> Result<V::Value, E> {
        let text: &str = match raw {
            Raw::Borrowed(text) => text,
            Raw::Transient(text) => text,
        };
        let result = if !text.contains('\\') {
            escapes::check_plain(text).map(|()| match raw {
                Raw::Borrowed(text) => visitor.visit_borrowed_str(text),
                Raw::Transient(text) => visitor.visit_str(text),
            })
        } else if self.skipping > 0 {
            // serde's `IgnoredAny` never reads the text it skips.
            escapes::check(text).map(|()| visitor.visit_str(text))
        } else {
            self.keep_decoded(text)
                .map(|decoded| visitor.visit_borrowed_str(decoded))
        };
        result.unwrap_or_else(|error| {
            self.refused.get_or_insert(error);
            Err(E::custom(error.reason()))
        })
    }

    /// Decodes `text` at the start of the free room and keeps it there.
    fn keep_decoded(&mut self, text: &str) -> Result<&'de str, StringError> {
        let free = core::mem::take(&mut self.free);
        let len = match escapes::decode(text, free) {
            Ok(len) => len,
            Err(error) => {
                self.free = free;
                return Err(error);
            }
        };
        let (kept, rest) = free.split_at_mut(len);
        self.free = rest;
        Ok(core::str::from_utf8(kept).expect("decoded text is UTF-8"))
    }

    /// Runs `skip` (a value nobody keeps), whose strings are checked and not decoded.
    fn skipping<T>(&mut self, skip: impl FnOnce(&mut Self) -> T) -> T {
        self.skipping += 1;
        let result = skip(self);
        self.skipping -= 1;
        result
    }
}

/// A string's text as a deserializer handed it over.
#[derive(Clone, Copy)]
enum Raw<'de, 't> {
    /// Borrowed from the body, for as long as the value lives.
    Borrowed(&'de str),
    /// For the duration of the call only.
    Transient(&'t str),
}

/// A deserializer whose strings are decoded by [`escapes`].
pub struct Decoding<'s, 'b, D> {
    inner: D,
    strings: &'s mut Strings<'b>,
}

impl<'s, 'b, D> Decoding<'s, 'b, D> {
    /// Wraps `inner`, decoding its strings with `strings`.
    pub fn new(inner: D, strings: &'s mut Strings<'b>) -> Self {
        Decoding { inner, strings }
    }
}

/// Wraps what `self` holds with the same [`Strings`].
macro_rules! wrap {
    ($self:ident, $kind:ident, $value:expr) => {
        $kind {
            inner: $value,
            strings: $self.strings,
        }
    };
}

macro_rules! forward_deserialize {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method(wrap!(self, Decoding, visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Decoding<'_, 'de, D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier
    );

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let inner = self.inner;
        self.strings
            .skipping(|strings| inner.deserialize_ignored_any(Decoding::new(visitor, strings)))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .deserialize_unit_struct(name, wrap!(self, Decoding, visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if name == ESCAPED_STR {
            // serde-json-core's `EscapedStr` asks for the string as it is in the text.
            return self.inner.deserialize_newtype_struct(name, visitor);
        }
        self.inner
            .deserialize_newtype_struct(name, wrap!(self, Decoding, visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .deserialize_tuple(len, wrap!(self, Decoding, visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .deserialize_tuple_struct(name, len, wrap!(self, Decoding, visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .deserialize_struct(name, fields, wrap!(self, Decoding, visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .deserialize_enum(name, variants, wrap!(self, Decoding, visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.inner.$method(value)
        }
    )*};
}

/// The visitor side of [`Decoding`]: a visitor is a `Decoding` of the caller's visitor.
impl<'de, V: Visitor<'de>> Visitor<'de> for Decoding<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool: bool, visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64,
        visit_i128: i128, visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64,
        visit_u128: u128, visit_f32: f32, visit_f64: f64, visit_char: char,
        visit_bytes: &[u8], visit_borrowed_bytes: &'de [u8]
    );

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        self.strings.visit(self.inner, Raw::Transient(text))
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        self.strings.visit(self.inner, Raw::Borrowed(text))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let strings = self.strings;
        self.inner.visit_some(Decoding::new(deserializer, strings))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let strings = self.strings;
        self.inner
            .visit_newtype_struct(Decoding::new(deserializer, strings))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let strings = self.strings;
        self.inner.visit_seq(Decoding::new(seq, strings))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let strings = self.strings;
        self.inner.visit_map(Decoding::new(map, strings))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let strings = self.strings;
        self.inner.visit_enum(Decoding::new(data, strings))
    }
}

/// The seed side: a seed deserializes from a `Decoding` of the deserializer it is given.
impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Decoding<'_, 'de, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T::Value, D::Error> {
        let strings = self.strings;
        self.inner.deserialize(Decoding::new(deserializer, strings))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Decoding<'_, 'de, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner
            .next_element_seed(Decoding::new(seed, &mut *self.strings))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Decoding<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner
            .next_key_seed(Decoding::new(seed, &mut *self.strings))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner
            .next_value_seed(Decoding::new(seed, &mut *self.strings))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'s, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Decoding<'s, 'de, A> {
    type Error = A::Error;
    type Variant = Decoding<'s, 'de, A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        let strings = self.strings;
        let (value, variant) = self
            .inner
            .variant_seed(Decoding::new(seed, &mut *strings))?;
        Ok((value, Decoding::new(variant, strings)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Decoding<'_, 'de, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        let strings = self.strings;
        self.inner
            .newtype_variant_seed(Decoding::new(seed, strings))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let strings = self.strings;
        self.inner
            .tuple_variant(len, Decoding::new(visitor, strings))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let strings = self.strings;
        self.inner
            .struct_variant(fields, Decoding::new(visitor, strings))
    }
}
