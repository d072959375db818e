//! [`Compound`]: the inside of an array or an object, written member by member.

use serde::Serialize;
use serde::ser;

use super::{Result, SerializeError, Serializer};

/// The inside of an array or an object (a variant's included): writes the commas, the
/// members, then what closes it.
#[derive(Debug)]
pub struct Compound<'a, 'b> {
    serializer: &'a mut Serializer<'b>,
    first: bool,
    close: &'static [u8],
}

impl<'a, 'b> Compound<'a, 'b> {
    pub(super) fn new(serializer: &'a mut Serializer<'b>, close: &'static [u8]) -> Self {
        Compound {
            serializer,
            first: true,
            close,
        }
    }

    /// An element of an array, or a key of a map.
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if !self.first {
            self.serializer.write_byte(b',')?;
        }
        self.first = false;
        value.serialize(&mut *self.serializer)
    }

    /// A struct's field: its name, unescaped (as serde-json-core writes it), and its value.
    fn field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        let open: &[u8] = if self.first { b"\"" } else { b",\"" };
        self.first = false;
        self.serializer.write(open)?;
        self.serializer.write(name.as_bytes())?;
        self.serializer.write(b"\":")?;
        value.serialize(&mut *self.serializer)
    }

    fn close(self) -> Result {
        self.serializer.write(self.close)
    }
}

/// serde's traits for a sequence's elements (arrays, tuples, tuple structs and variants), each
/// `method` writing one with [`Compound::element`].
macro_rules! elements {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = SerializeError;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                self.element(value)
            }

            fn end(self) -> Result {
                self.close()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// serde's traits for an object's named fields (structs and struct variants).
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = SerializeError;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result {
                self.field(name, value)
            }

            fn end(self) -> Result {
                self.close()
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = SerializeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.element(key)?;
        self.serializer.write_byte(b':')
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.serializer)
    }

    fn end(self) -> Result {
        self.close()
    }
}
