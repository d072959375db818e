//! JSON Schemas in the document: each schema written in place (named ones as `$ref`), and the
//! named ones collected, without allocation, to be written once under `components/schemas`.

use core::fmt::Write;

use super::SpecError;
use crate::json::JsonWriter;
use crate::schema::Schema;

/// The most distinct named schemas (components) one document may hold.
pub const MAX_COMPONENTS: usize = 64;

/// The deepest a schema may nest while components are collected (deeper, or a cycle that does
/// not pass through a named schema, is [`SpecError::TooDeep`]).
const MAX_SCHEMA_DEPTH: usize = 32;

/// The named schemas of a document, each once, sorted by name once complete.
pub(super) struct Components {
    list: heapless::Vec<&'static Schema, MAX_COMPONENTS>,
}

impl Components {
    pub(super) fn new() -> Components {
        Components {
            list: heapless::Vec::new(),
        }
    }

    /// Adds the named schemas reachable from `schema`.
    pub(super) fn collect(&mut self, schema: &'static Schema) -> Result<(), SpecError> {
        self.walk(schema, 0)
    }

    fn walk(&mut self, schema: &'static Schema, depth: usize) -> Result<(), SpecError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(SpecError::TooDeep);
        }
        match schema {
            Schema::Named {
                name,
                schema: inner,
                ..
            } => {
                if let Some(seen) = self.list.iter().find(|s| name_of(s) == *name) {
                    if core::ptr::eq(*seen, schema) || *seen == schema {
                        return Ok(());
                    }
                    return Err(SpecError::NameConflict(name));
                }
                self.list
                    .push(schema)
                    .map_err(|_| SpecError::TooManyComponents)?;
                self.walk(inner, depth + 1)
            }
            Schema::Array { items, .. } => self.walk(items, depth + 1),
            Schema::Nullable(inner) => self.walk(inner, depth + 1),
            Schema::Object { properties } => {
                for property in properties.iter() {
                    self.walk(property.schema, depth + 1)?;
                }
                Ok(())
            }
            Schema::Boolean
            | Schema::Integer { .. }
            | Schema::Number
            | Schema::String { .. }
            | Schema::StringEnum(_) => Ok(()),
        }
    }

    /// Sorts by name: the order they are written in.
    pub(super) fn sort(&mut self) {
        self.list
            .sort_unstable_by(|a, b| name_of(a).cmp(name_of(b)));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Writes `"schemas": {...}` members.
    pub(super) fn write<W: Write + ?Sized>(
        &self,
        w: &mut JsonWriter<'_, W>,
    ) -> Result<(), SpecError> {
        w.begin_object()?;
        for named in self.list.iter() {
            if let Schema::Named {
                name,
                description,
                schema,
            } = named
            {
                w.key(name)?;
                write_inline(w, schema, false, description)?;
            }
        }
        w.end_object()?;
        Ok(())
    }
}

fn name_of(schema: &Schema) -> &'static str {
    match schema {
        Schema::Named { name, .. } => name,
        _ => "",
    }
}

/// Writes `schema` as a value: named schemas as a `$ref`, others in full. `description`, if
/// not empty, is added (beside a `$ref` too, as OpenAPI 3.1 allows).
pub(super) fn write_schema<W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    schema: &Schema,
    description: &str,
) -> Result<(), SpecError> {
    write_inline_or_ref(w, schema, false, description)
}

fn write_inline_or_ref<W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    schema: &Schema,
    nullable: bool,
    description: &str,
) -> Result<(), SpecError> {
    match schema {
        Schema::Nullable(inner) => write_inline_or_ref(w, inner, true, description),
        Schema::Named { name, .. } => {
            w.begin_object()?;
            if !description.is_empty() {
                w.string_member("description", description)?;
            }
            if nullable {
                w.key("anyOf")?;
                w.begin_array()?;
                write_ref(w, name)?;
                w.begin_object()?;
                w.string_member("type", "null")?;
                w.end_object()?;
                w.end_array()?;
            } else {
                w.key("$ref")?;
                w.string_fmt(format_args!("#/components/schemas/{name}"))?;
            }
            w.end_object()?;
            Ok(())
        }
        _ => write_inline(w, schema, nullable, description),
    }
}

fn write_ref<W: Write + ?Sized>(w: &mut JsonWriter<'_, W>, name: &str) -> Result<(), SpecError> {
    w.begin_object()?;
    w.key("$ref")?;
    w.string_fmt(format_args!("#/components/schemas/{name}"))?;
    w.end_object()?;
    Ok(())
}

/// `"type": "t"`, or `"type": ["t", "null"]`.
fn write_type<W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    ty: &str,
    nullable: bool,
) -> Result<(), SpecError> {
    w.key("type")?;
    if nullable {
        w.begin_array()?;
        w.string(ty)?;
        w.string("null")?;
        w.end_array()?;
    } else {
        w.string(ty)?;
    }
    Ok(())
}

/// Writes the schema itself (a named one's body, never a `$ref` to itself).
fn write_inline<W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    schema: &Schema,
    nullable: bool,
    description: &str,
) -> Result<(), SpecError> {
    if let Schema::Nullable(inner) = schema {
        return write_inline(w, inner, true, description);
    }
    if let Schema::Named { .. } = schema {
        return write_inline_or_ref(w, schema, nullable, description);
    }
    w.begin_object()?;
    if !description.is_empty() {
        w.string_member("description", description)?;
    }
    match schema {
        Schema::Boolean => write_type(w, "boolean", nullable)?,
        Schema::Number => write_type(w, "number", nullable)?,
        Schema::Integer {
            format,
            minimum,
            maximum,
        } => {
            write_type(w, "integer", nullable)?;
            if let Some(format) = format {
                w.string_member("format", format)?;
            }
            if let Some(min) = minimum {
                w.key("minimum")?;
                w.int(*min)?;
            }
            if let Some(max) = maximum {
                w.key("maximum")?;
                w.int(*max)?;
            }
        }
        Schema::String {
            min_length,
            max_length,
            format,
        } => {
            write_type(w, "string", nullable)?;
            if let Some(format) = format {
                w.string_member("format", format)?;
            }
            if let Some(min) = min_length {
                w.key("minLength")?;
                w.uint(*min as u64)?;
            }
            if let Some(max) = max_length {
                w.key("maxLength")?;
                w.uint(*max as u64)?;
            }
        }
        Schema::StringEnum(values) => {
            write_type(w, "string", nullable)?;
            w.key("enum")?;
            w.begin_array()?;
            for value in values.iter() {
                w.string(value)?;
            }
            if nullable {
                w.null()?;
            }
            w.end_array()?;
        }
        Schema::Array { items, max_items } => {
            write_type(w, "array", nullable)?;
            w.key("items")?;
            write_schema(w, items, "")?;
            if let Some(max) = max_items {
                w.key("maxItems")?;
                w.uint(*max as u64)?;
            }
        }
        Schema::Object { properties } => {
            write_type(w, "object", nullable)?;
            w.key("properties")?;
            w.begin_object()?;
            for property in properties.iter() {
                w.key(property.name)?;
                write_schema(w, property.schema, property.description)?;
            }
            w.end_object()?;
            if properties.iter().any(|p| p.required) {
                w.key("required")?;
                w.begin_array()?;
                for property in properties.iter().filter(|p| p.required) {
                    w.string(property.name)?;
                }
                w.end_array()?;
            }
            w.key("additionalProperties")?;
            w.bool(false)?;
        }
        Schema::Nullable(_) | Schema::Named { .. } => unreachable!("handled above"),
    }
    w.end_object()?;
    Ok(())
}
