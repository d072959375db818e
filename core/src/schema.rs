//! JSON Schemas as static data, for the OpenAPI document that is generated from the route
//! table. A schema is a tree of `&'static` values built at compile time (by hand, by the
//! trait impls for primitives, or by `#[derive(JsonSchema)]` with the `macros` feature), so
//! describing a body costs nothing at run time.
//!
//! ## What the derive produces
//!
//! ```ignore
//! /// A note.
//! #[derive(JsonSchema)]
//! struct Note {
//!     /// Its identifier.
//!     id: u32,
//!     #[schema(min_length = 1)]
//!     title: heapless::String<80>,
//!     done: Option<bool>,
//! }
//! ```
//!
//! is `impl JsonSchema for Note` with `SCHEMA = &Schema::Named { name: "Note", description:
//! "A note.", schema: &Schema::Object { .. } }`: one property per field in declaration order,
//! named as serde names it (`rename`, `rename_all`), required unless it is an `Option` or has
//! `#[serde(default)]`; `heapless::String<N>` gives `maxLength: N`; `#[schema(min_length,
//! max_length, minimum, maximum, format)]` tightens a field, and the derived
//! [`JsonSchema::validate`] checks those bounds on a value, so that the document and the
//! server enforce the same ones. A unit-only enum becomes a string enum.
//!
//! Lengths: JSON Schema counts characters, `heapless::String<N>` holds N *bytes*. `maxLength: N`
//! is therefore a true upper bound, but a non-ASCII string of N characters may still be too
//! long for the type; servers answer that with a validation error.

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
    /// Names are unique in a document: two different schemas with one name are an error.
    Named {
        /// The component name (letters, digits, `.`, `-`, `_`).
        name: &'static str,
        /// What it is, or empty.
        description: &'static str,
        /// Its schema.
        schema: &'static Schema,
    },
}

impl Schema {
    /// This string schema with other length bounds (`None` keeps the bound it had). For
    /// `#[schema(min_length, max_length)]`; a schema that is not a string is a compile-time
    /// error when used in a constant.
    pub const fn with_length(&self, min: Option<u32>, max: Option<u32>) -> Schema {
        match *self {
            Schema::String {
                min_length,
                max_length,
                format,
            } => Schema::String {
                min_length: if min.is_some() { min } else { min_length },
                max_length: if max.is_some() { max } else { max_length },
                format,
            },
            _ => panic!("a length bound on a schema that is not a string"),
        }
    }

    /// This integer schema with other bounds (`None` keeps the bound it had). For
    /// `#[schema(minimum, maximum)]`; a schema that is not an integer is a compile-time error
    /// when used in a constant.
    pub const fn with_range(&self, min: Option<i64>, max: Option<i64>) -> Schema {
        match *self {
            Schema::Integer {
                format,
                minimum,
                maximum,
            } => Schema::Integer {
                format,
                minimum: if min.is_some() { min } else { minimum },
                maximum: if max.is_some() { max } else { maximum },
            },
            _ => panic!("a minimum or maximum on a schema that is not an integer"),
        }
    }

    /// This string schema with a `format` (`date-time`, `email`, `uri`...).
    pub const fn with_format(&self, format: &'static str) -> Schema {
        match *self {
            Schema::String {
                min_length,
                max_length,
                ..
            } => Schema::String {
                min_length,
                max_length,
                format: Some(format),
            },
            _ => panic!("a format on a schema that is not a string"),
        }
    }
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

/// A value outside the bounds its schema declares, as [`JsonSchema::validate`] finds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Violation {
    /// The JSON name of the property.
    pub field: &'static str,
    /// Which bound: `minLength`, `maxLength`, `minimum` or `maximum`.
    pub keyword: &'static str,
    /// The bound's value.
    pub limit: i64,
}

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.keyword {
            "minLength" => "shorter than",
            "maxLength" => "longer than",
            "minimum" => "less than",
            _ => "greater than",
        };
        let unit = match self.keyword {
            "minLength" | "maxLength" if self.limit == 1 => " character",
            "minLength" | "maxLength" => " characters",
            _ => "",
        };
        write!(f, "`{}` is {} {}{}", self.field, what, self.limit, unit)
    }
}

/// A type whose JSON Schema is known at compile time.
pub trait JsonSchema {
    /// The schema.
    const SCHEMA: &'static Schema;

    /// Checks the bounds that `#[schema(...)]` attributes add beyond what the type itself
    /// guarantees (the derive writes this; types without such bounds accept every value).
    fn validate(&self) -> Result<(), Violation> {
        Ok(())
    }
}

/// The length of `s` as JSON Schema counts it: in characters.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
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

    fn validate(&self) -> Result<(), Violation> {
        self.iter().try_for_each(T::validate)
    }
}

impl<T: JsonSchema> JsonSchema for [T] {
    const SCHEMA: &'static Schema = &Schema::Array {
        items: T::SCHEMA,
        max_items: None,
    };

    fn validate(&self) -> Result<(), Violation> {
        self.iter().try_for_each(T::validate)
    }
}

impl<T: JsonSchema + ?Sized> JsonSchema for &T {
    const SCHEMA: &'static Schema = T::SCHEMA;

    fn validate(&self) -> Result<(), Violation> {
        T::validate(self)
    }
}

impl<T: JsonSchema> JsonSchema for Option<T> {
    const SCHEMA: &'static Schema = &Schema::Nullable(T::SCHEMA);

    fn validate(&self) -> Result<(), Violation> {
        self.as_ref().map_or(Ok(()), T::validate)
    }
}
