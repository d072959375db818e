//! JSON Schemas as static data, for the OpenAPI document that is generated from the route
//! table. A schema is a tree of `&'static` values built at compile time (by hand, by the
//! trait impls for primitives, or by the `Schema` derive), so describing a body costs nothing
//! at run time.

/// A JSON Schema (the subset OpenAPI 3.1 documents use).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schema {
    /// `{"type":"boolean"}`.
    Boolean,
    /// `{"type":"integer"}` with an optional format and bounds.
    Integer {
        /// `int32`, `int64`, or `None`.
        format: Option<&'static str>,
        /// Inclusive minimum.
        minimum: Option<i64>,
        /// Inclusive maximum.
        maximum: Option<i64>,
    },
    /// `{"type":"number"}`.
    Number,
    /// `{"type":"string"}` with optional length bounds and format.
    String {
        /// Minimum length in characters.
        min_length: Option<u32>,
        /// Maximum length in characters.
        max_length: Option<u32>,
        /// A format such as `date-time`.
        format: Option<&'static str>,
    },
    /// A string that is one of the listed values.
    StringEnum(&'static [&'static str]),
    /// `{"type":"array","items":...}` with an optional maximum number of items.
    Array {
        /// The schema of each item.
        items: &'static Schema,
        /// Maximum number of items.
        max_items: Option<u32>,
    },
    /// `{"type":"object"}` with named properties; no other properties are allowed.
    Object {
        /// Properties in declaration order.
        properties: &'static [Property],
    },
    /// A schema that may also be `null` (an `Option<T>`).
    Nullable(&'static Schema),
    /// A named schema, written once under `components/schemas` and referenced elsewhere.
    Named {
        /// The component name.
        name: &'static str,
        /// Its schema.
        schema: &'static Schema,
    },
}

/// One property of an object schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Property {
    /// The JSON key.
    pub name: &'static str,
    /// Its schema.
    pub schema: &'static Schema,
    /// Whether the key must be present.
    pub required: bool,
    /// A description, or empty.
    pub description: &'static str,
}

/// A type whose JSON Schema is known at compile time.
pub trait JsonSchema {
    /// The schema.
    const SCHEMA: &'static Schema;
}

macro_rules! integer_schema {
    ($($t:ty => $format:expr),*) => {$(
        impl JsonSchema for $t {
            const SCHEMA: &'static Schema = &Schema::Integer {
                format: $format,
                minimum: Some(<$t>::MIN as i64),
                maximum: if (<$t>::MAX as u128) > i64::MAX as u128 { None } else { Some(<$t>::MAX as i64) },
            };
        }
    )*};
}

integer_schema!(u8 => None, u16 => None, u32 => Some("int64"), u64 => None, i8 => None, i16 => None,
    i32 => Some("int32"), i64 => Some("int64"));

impl JsonSchema for bool {
    const SCHEMA: &'static Schema = &Schema::Boolean;
}

impl JsonSchema for f32 {
    const SCHEMA: &'static Schema = &Schema::Number;
}

impl JsonSchema for f64 {
    const SCHEMA: &'static Schema = &Schema::Number;
}

impl JsonSchema for str {
    const SCHEMA: &'static Schema = &Schema::String {
        min_length: None,
        max_length: None,
        format: None,
    };
}

impl JsonSchema for &str {
    const SCHEMA: &'static Schema = <str as JsonSchema>::SCHEMA;
}

impl<const N: usize> JsonSchema for heapless::String<N> {
    const SCHEMA: &'static Schema = &Schema::String {
        min_length: None,
        max_length: Some(N as u32),
        format: None,
    };
}

impl<T: JsonSchema, const N: usize> JsonSchema for heapless::Vec<T, N> {
    const SCHEMA: &'static Schema = &Schema::Array {
        items: T::SCHEMA,
        max_items: Some(N as u32),
    };
}

impl<T: JsonSchema> JsonSchema for [T] {
    const SCHEMA: &'static Schema = &Schema::Array {
        items: T::SCHEMA,
        max_items: None,
    };
}

impl<T: JsonSchema> JsonSchema for &[T] {
    const SCHEMA: &'static Schema = <[T] as JsonSchema>::SCHEMA;
}

impl<T: JsonSchema> JsonSchema for Option<T> {
    const SCHEMA: &'static Schema = &Schema::Nullable(T::SCHEMA);
}
