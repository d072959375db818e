//! `#[derive(JsonSchema)]`: the schemas it builds and the bounds its `validate` checks.
#![cfg(feature = "json")]

use serde::{Deserialize, Serialize};
use zzz_core::JsonSchema;
use zzz_core::schema::{Property, Schema, Violation};

/// A point
/// on two lines.
///
/// And a paragraph.
#[derive(JsonSchema, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Point<'a> {
    /// Across.
    #[schema(minimum = -10, maximum = 10)]
    x_pos: i32,
    #[serde(rename = "label")]
    #[schema(min_length = 1)]
    name: heapless::String<8>,
    note: Option<&'a str>,
    #[schema(max_length = 3)]
    tag: Option<heapless::String<8>>,
    #[serde(default)]
    kind: Kind,
    #[serde(skip)]
    cache: u8,
    inner: heapless::Vec<Inner, 2>,
}

#[derive(JsonSchema, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
#[schema(rename = "PointKind")]
enum Kind {
    #[default]
    Plain,
    VeryBig,
    #[serde(rename = "odd")]
    Other,
}

#[derive(JsonSchema, Serialize, Deserialize)]
struct Inner {
    #[schema(maximum = 5)]
    n: u8,
}

#[test]
fn struct_schema() {
    let Schema::Named {
        name,
        description,
        schema: Schema::Object { properties },
    } = Point::SCHEMA
    else {
        panic!("a named object: {:?}", Point::SCHEMA);
    };
    assert_eq!(*name, "Point");
    assert_eq!(*description, "A point on two lines.\n\nAnd a paragraph.");
    let names: Vec<&str> = properties.iter().map(|p| p.name).collect();
    assert_eq!(names, ["xPos", "label", "note", "tag", "kind", "inner"]);
    let required: Vec<bool> = properties.iter().map(|p| p.required).collect();
    assert_eq!(required, [true, true, false, false, false, true]);
    assert_eq!(
        properties[0],
        Property {
            name: "xPos",
            schema: &Schema::Integer {
                format: Some("int32"),
                minimum: Some(-10),
                maximum: Some(10)
            },
            required: true,
            description: "Across.",
        }
    );
    assert_eq!(
        *properties[1].schema,
        Schema::String {
            min_length: Some(1),
            max_length: Some(8),
            format: None
        }
    );
    assert_eq!(
        *properties[3].schema,
        Schema::Nullable(&Schema::String {
            min_length: None,
            max_length: Some(3),
            format: None
        })
    );
    assert_eq!(properties[4].schema, Kind::SCHEMA);
}

#[test]
fn enum_schema() {
    assert_eq!(
        *Kind::SCHEMA,
        Schema::Named {
            name: "PointKind",
            description: "",
            schema: &Schema::StringEnum(&["plain", "very-big", "odd"]),
        }
    );
}

fn point(x_pos: i32, name: &str, tag: Option<&str>, n: u8) -> Point<'static> {
    let mut inner = heapless::Vec::new();
    inner.push(Inner { n }).ok().unwrap();
    Point {
        x_pos,
        name: name.try_into().unwrap(),
        note: None,
        tag: tag.map(|t| t.try_into().unwrap()),
        kind: Kind::Plain,
        cache: 0,
        inner,
    }
}

/// The bounds the schema declares are the bounds `validate` checks (JSON Schema 2020-12
/// §6.2.2–6.2.5, §6.3.1–6.3.2), nested types included.
#[test]
fn validate_checks_the_declared_bounds() {
    assert_eq!(point(0, "a", Some("abc"), 5).validate(), Ok(()));
    let violation = |field, keyword, limit| {
        Err(Violation {
            field,
            keyword,
            limit,
        })
    };
    assert_eq!(
        point(11, "a", None, 0).validate(),
        violation("xPos", "maximum", 10)
    );
    assert_eq!(
        point(-11, "a", None, 0).validate(),
        violation("xPos", "minimum", -10)
    );
    assert_eq!(
        point(0, "", None, 0).validate(),
        violation("label", "minLength", 1)
    );
    assert_eq!(
        point(0, "a", Some("abcd"), 0).validate(),
        violation("tag", "maxLength", 3)
    );
    // Characters, not bytes: three characters in six bytes fit `maxLength: 3`.
    assert_eq!(point(0, "a", Some("ééé"), 0).validate(), Ok(()));
    assert_eq!(
        point(0, "a", None, 6).validate(),
        violation("n", "maximum", 5)
    );
    assert_eq!(
        Violation {
            field: "label",
            keyword: "minLength",
            limit: 1
        }
        .to_string(),
        "`label` is shorter than 1 character"
    );
}
