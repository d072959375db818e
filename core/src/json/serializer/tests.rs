//! The serializer against serde-json-core: every escape, every shape of serde's data model,
//! the buffer's bounds, and a proptest of random values.

use super::*;
use proptest::prelude::*;
use serde_json_core::str::EscapedStr;
use std::string::String;
use std::vec::Vec;
use std::{boxed::Box, format, vec};

/// What this serializer writes of `value` into a buffer of `len` bytes.
fn ours<T: Serialize + ?Sized>(value: &T, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0xa5; len + 16];
    let n = to_slice(value, &mut buf[..len])?;
    assert!(buf[len..].iter().all(|&b| b == 0xa5), "written past");
    Ok(buf[..n].to_vec())
}

/// What serde-json-core writes of `value` into a buffer of `len` bytes.
fn theirs<T: Serialize + ?Sized>(value: &T, len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0; len];
    let n = serde_json_core::to_slice(value, &mut buf).ok()?;
    Some(buf[..n].to_vec())
}

/// `value` as written by this serializer, which must be what serde-json-core writes.
fn written<T: Serialize + ?Sized>(value: &T) -> String {
    let ours = ours(value, 4096).expect("fits");
    assert_eq!(
        Some(&ours),
        theirs(value, 4096).as_ref(),
        "serde-json-core writes otherwise"
    );
    String::from_utf8(ours).unwrap()
}

/// `value` as written by this serializer alone: serde-json-core panics on it.
fn written_alone<T: Serialize + ?Sized>(value: &T) -> String {
    String::from_utf8(ours(value, 4096).expect("fits")).unwrap()
}

/// Each escape, alone and at every position of a string longer than a word (found in the
/// words and in the bytes after the last one), and what is not escaped.
#[test]
fn escapes() {
    let cases: &[(&str, &str)] = &[
        ("\"", r#"\""#),
        ("\\", r#"\\"#),
        ("\u{8}", r#"\b"#),
        ("\t", r#"\t"#),
        ("\n", r#"\n"#),
        ("\u{c}", r#"\f"#),
        ("\r", r#"\r"#),
        ("\0", r#"\u0000"#),
        ("\u{1}", r#"\u0001"#),
        ("\u{b}", r#"\u000B"#),
        ("\u{e}", r#"\u000E"#),
        ("\u{1b}", r#"\u001B"#),
        ("\u{1f}", r#"\u001F"#),
        (" ", " "),
        ("/", "/"),
        ("\u{7f}", "\u{7f}"),
        ("é", "é"),
        ("\u{2028}", "\u{2028}"),
        ("😀", "😀"),
    ];
    for &(raw, escaped) in cases {
        assert_eq!(written(raw), format!("\"{escaped}\""), "{raw:?}");
        for at in 0..20 {
            let text = format!("{}{raw}{}", "a".repeat(at), "é".repeat(at % 7));
            let want = format!("\"{}{escaped}{}\"", "a".repeat(at), "é".repeat(at % 7));
            assert_eq!(written(text.as_str()), want, "{text:?}");
        }
    }
    assert_eq!(written(""), r#""""#);
    assert_eq!(
        written("\"\"\\\n\u{0}x\u{1f}"),
        r#""\"\"\\\n\u0000x\u001F""#
    );
}

#[test]
fn numbers() {
    assert_eq!(written(&0u8), "0");
    assert_eq!(written(&u8::MAX), "255");
    assert_eq!(written(&u16::MAX), "65535");
    assert_eq!(written(&u32::MAX), "4294967295");
    assert_eq!(written(&u64::MAX), "18446744073709551615");
    assert_eq!(written(&i8::MIN), "-128");
    assert_eq!(written(&i16::MIN), "-32768");
    assert_eq!(written(&i32::MIN), "-2147483648");
    assert_eq!(written(&i64::MIN), "-9223372036854775808");
    assert_eq!(written(&i64::MAX), "9223372036854775807");
    assert_eq!(written(&-1i32), "-1");
    assert_eq!(written(&10u32), "10");
    assert_eq!(written(&1.0f64), "1.0");
    assert_eq!(written(&-0.0f64), "-0.0");
    assert_eq!(written(&1e-7f64), "1e-7");
    assert_eq!(written(&1e21f64), "1e21");
    assert_eq!(written(&0.1f32), "0.1");
    assert_eq!(written(&f64::MAX), "1.7976931348623157e308");
    assert_eq!(written(&f32::MIN_POSITIVE), "1.1754944e-38");
    assert_eq!(written(&-2.345_678_8e-23f32), "-2.3456788e-23");
    for non_finite in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(written(&non_finite), "null");
        assert_eq!(written(&(non_finite as f32)), "null");
    }
}

#[derive(Serialize)]
struct Unit;

#[derive(Serialize)]
struct Newtype(u8);

#[derive(Serialize)]
struct Pair(i8, &'static str);

#[derive(Serialize)]
struct Point<'a> {
    x: i32,
    label: &'a str,
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u8>,
    #[serde(rename = "a\"b")]
    renamed: bool,
}

#[derive(Serialize)]
enum Kind {
    Plain,
    #[serde(rename = "é\"")]
    Renamed,
    Wrapped(u8),
    Fields {
        a: u8,
        b: Option<()>,
    },
}

/// Every shape of serde's data model but those serde-json-core panics on.
#[test]
fn shapes() {
    assert_eq!(written(&true), "true");
    assert_eq!(written(&false), "false");
    assert_eq!(written(&None::<u8>), "null");
    assert_eq!(written(&Some(3u8)), "3");
    assert_eq!(written(&Some(None::<u8>)), "null");
    assert_eq!(written(&()), "null");
    assert_eq!(written(&Unit), "null");
    assert_eq!(written(&Newtype(7)), "7");
    assert_eq!(written(&Kind::Plain), r#""Plain""#);
    assert_eq!(
        written(&Kind::Renamed),
        r#""é\"""#,
        "a unit variant is escaped"
    );
    assert_eq!(written(&Kind::Wrapped(4)), r#"{"Wrapped":4}"#);
    assert_eq!(
        written(&Kind::Fields { a: 1, b: None }),
        r#"{"Fields":{"a":1,"b":null}}"#
    );
    assert_eq!(written(&[1u8, 2, 3]), "[1,2,3]");
    assert_eq!(written::<[u8]>(&[]), "[]");
    assert_eq!(written(&(1u8, "a", [(); 2])), r#"[1,"a",[null,null]]"#);
    assert_eq!(written(&Pair(-1, "b")), r#"[-1,"b"]"#);
    let point = Point {
        x: -3,
        label: "a\nb",
        note: None,
        skipped: None,
        renamed: true,
    };
    assert_eq!(
        written(&point),
        r#"{"x":-3,"label":"a\nb","note":null,"a"b":true}"#,
        "names are written unescaped, as serde-json-core writes them"
    );
    let mut map = heapless::LinearMap::<&str, u8, 4>::new();
    map.insert("k\"", 1).unwrap();
    map.insert("two", 2).unwrap();
    assert_eq!(written(&map), r#"{"k\"":1,"two":2}"#);
    let mut numbered = heapless::LinearMap::<u8, bool, 4>::new();
    numbered.insert(1, true).unwrap();
    numbered.insert(20, false).unwrap();
    assert_eq!(
        written(&numbered),
        "{1:true,20:false}",
        "as serde-json-core"
    );
    let empty = heapless::LinearMap::<u8, u8, 1>::new();
    assert_eq!(written(&empty), "{}");
    let text: heapless::String<8> = "x\"y".try_into().unwrap();
    assert_eq!(written(&text), r#""x\"y""#);
}

/// Raw bytes, `collect_str` and serde-json-core's `EscapedStr`.
#[test]
fn bytes_displays_and_escaped_strings() {
    struct Raw(&'static [u8]);
    impl Serialize for Raw {
        fn serialize<S: ser::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    assert_eq!(written(&Raw(b"1.50")), "1.50");
    assert_eq!(written(&Raw(b"\"\n")), "\"\n", "bytes are not escaped");

    struct Shown(&'static str, u32);
    impl fmt::Display for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}={}", self.0, self.1)
        }
    }
    impl Serialize for Shown {
        fn serialize<S: ser::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }
    assert_eq!(written(&Shown("a\"b\n", 12)), r#""a\"b\n=12""#);

    assert_eq!(written(&EscapedStr(r#"a\"b\u0041"#)), r#""a\"b\u0041""#);
}

/// Where serde-json-core panics: a `char` and a tuple variant are written as serde_json
/// writes them; 128-bit integers and a `Serialize` impl's own error are refused.
#[test]
fn what_serde_json_core_panics_on() {
    assert_eq!(written_alone(&'a'), r#""a""#);
    assert_eq!(written_alone(&'"'), r#""\"""#);
    assert_eq!(written_alone(&'\u{1}'), r#""\u0001""#);
    assert_eq!(written_alone(&'😀'), r#""😀""#);

    #[derive(Serialize)]
    enum Tuple {
        Two(u8, &'static str),
        Zero(),
    }
    assert_eq!(written_alone(&Tuple::Two(1, "x")), r#"{"Two":[1,"x"]}"#);
    assert_eq!(written_alone(&Tuple::Zero()), r#"{"Zero":[]}"#);

    assert_eq!(ours(&1i128, 64), Err(SerializeError::Unsupported));
    assert_eq!(ours(&1u128, 64), Err(SerializeError::Unsupported));

    struct Failing;
    impl Serialize for Failing {
        fn serialize<S: ser::Serializer>(&self, _: S) -> core::result::Result<S::Ok, S::Error> {
            Err(ser::Error::custom("refused"))
        }
    }
    assert_eq!(ours(&[Failing], 64), Err(SerializeError::Unsupported));

    struct NotAString;
    impl Serialize for NotAString {
        fn serialize<S: ser::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
            s.serialize_newtype_struct(ESCAPED_STR, &1u8)
        }
    }
    assert_eq!(ours(&NotAString, 64), Err(SerializeError::Unsupported));
}

/// A buffer exactly as long as the output holds it; every shorter one is full, and
/// nothing is written past it (checked by `ours`).
#[test]
fn buffer_full_boundary() {
    let point = Point {
        x: i32::MIN,
        label: "a \"quoted\" label\twith\u{1}escapes and é",
        note: Some("note"),
        skipped: Some(1),
        renamed: false,
    };
    let map = {
        let mut map = heapless::LinearMap::<&str, f64, 2>::new();
        map.insert("pi", core::f64::consts::PI).unwrap();
        map
    };
    let values: [&dyn erased::Value; 9] = [
        &point,
        &map,
        &u64::MAX,
        &i64::MIN,
        &-1.5e-300f64,
        &"\n",
        &Kind::Fields {
            a: 200,
            b: Some(()),
        },
        &[Some(true), None],
        &EscapedStr("\\n"),
    ];
    for value in values {
        let full = value.ours(4096).unwrap();
        assert_eq!(value.ours(full.len()), Ok(full.clone()));
        for len in 0..full.len() {
            assert_eq!(value.ours(len), Err(SerializeError::BufferFull), "{len}");
            assert_eq!(value.theirs(len), None, "{len}");
        }
    }
}

/// A few values of different types behind one trait, for the boundary test.
mod erased {
    use super::*;

    pub trait Value {
        fn ours(&self, len: usize) -> Result<Vec<u8>>;
        fn theirs(&self, len: usize) -> Option<Vec<u8>>;
    }

    impl<T: Serialize> Value for T {
        fn ours(&self, len: usize) -> Result<Vec<u8>> {
            super::ours(self, len)
        }

        fn theirs(&self, len: usize) -> Option<Vec<u8>> {
            super::theirs(self, len)
        }
    }
}

/// A value of any shape serde-json-core writes, built at random.
#[derive(Debug, Clone)]
enum Shape {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
    Str(String),
    /// Written through `collect_str`, in these pieces.
    Display(Vec<String>),
    Bytes(Vec<u8>),
    EscapedStr(String),
    None,
    Some(Box<Shape>),
    Unit,
    UnitStruct,
    UnitVariant(&'static str),
    NewtypeStruct(Box<Shape>),
    NewtypeVariant(&'static str, Box<Shape>),
    Seq(Vec<Shape>),
    Tuple(Vec<Shape>),
    TupleStruct(Vec<Shape>),
    Map(Vec<(Shape, Shape)>),
    Struct(Vec<(&'static str, Shape)>),
    StructVariant(&'static str, Vec<(&'static str, Shape)>),
}

/// Struct, field and variant names (serde gives them as `&'static str`).
const NAMES: [&str; 6] = ["id", "title", "a", "é", "two words", "q\"uote"];

struct Pieces<'a>(&'a [String]);

impl fmt::Display for Pieces<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|piece| f.write_str(piece))
    }
}

impl Serialize for Shape {
    fn serialize<S: ser::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use ser::{
            SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
            SerializeTupleStruct,
        };
        match self {
            Shape::Bool(v) => s.serialize_bool(*v),
            Shape::I8(v) => s.serialize_i8(*v),
            Shape::I16(v) => s.serialize_i16(*v),
            Shape::I32(v) => s.serialize_i32(*v),
            Shape::I64(v) => s.serialize_i64(*v),
            Shape::U8(v) => s.serialize_u8(*v),
            Shape::U16(v) => s.serialize_u16(*v),
            Shape::U32(v) => s.serialize_u32(*v),
            Shape::U64(v) => s.serialize_u64(*v),
            Shape::F32(v) => s.serialize_f32(*v),
            Shape::F64(v) => s.serialize_f64(*v),
            Shape::Str(v) => s.serialize_str(v),
            Shape::Display(pieces) => s.collect_str(&Pieces(pieces)),
            Shape::Bytes(v) => s.serialize_bytes(v),
            Shape::EscapedStr(v) => EscapedStr(v).serialize(s),
            Shape::None => s.serialize_none(),
            Shape::Some(v) => s.serialize_some(&**v),
            Shape::Unit => s.serialize_unit(),
            Shape::UnitStruct => s.serialize_unit_struct("Unit"),
            Shape::UnitVariant(name) => s.serialize_unit_variant("Enum", 0, name),
            Shape::NewtypeStruct(v) => s.serialize_newtype_struct("Newtype", &**v),
            Shape::NewtypeVariant(name, v) => s.serialize_newtype_variant("Enum", 1, name, &**v),
            Shape::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                items
                    .iter()
                    .try_for_each(|item| seq.serialize_element(item))?;
                seq.end()
            }
            Shape::Tuple(items) => {
                let mut tuple = s.serialize_tuple(items.len())?;
                items
                    .iter()
                    .try_for_each(|item| tuple.serialize_element(item))?;
                tuple.end()
            }
            Shape::TupleStruct(items) => {
                let mut tuple = s.serialize_tuple_struct("Tuple", items.len())?;
                items
                    .iter()
                    .try_for_each(|item| tuple.serialize_field(item))?;
                tuple.end()
            }
            Shape::Map(entries) => {
                let mut map = s.serialize_map(None)?;
                entries
                    .iter()
                    .try_for_each(|(k, v)| map.serialize_entry(k, v))?;
                map.end()
            }
            Shape::Struct(fields) => {
                let mut fields_out = s.serialize_struct("Struct", fields.len())?;
                fields
                    .iter()
                    .try_for_each(|(name, v)| fields_out.serialize_field(name, v))?;
                fields_out.end()
            }
            Shape::StructVariant(variant, fields) => {
                let mut fields_out =
                    s.serialize_struct_variant("Enum", 2, variant, fields.len())?;
                fields
                    .iter()
                    .try_for_each(|(name, v)| fields_out.serialize_field(name, v))?;
                fields_out.end()
            }
        }
    }
}

/// Text rich in what is escaped: control characters, quotes, backslashes, next to ASCII
/// letters and characters of every UTF-8 length.
fn text() -> impl Strategy<Value = String> + Clone {
    let character = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => any::<char>(),
        1 => (0u8..0x20).prop_map(char::from),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('\u{7f}'),
        1 => Just('é'),
    ];
    proptest::collection::vec(character, 0..48).prop_map(|chars| chars.into_iter().collect())
}

fn name() -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(&NAMES[..])
}

fn shape() -> impl Strategy<Value = Shape> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Shape::Bool),
        any::<i8>().prop_map(Shape::I8),
        any::<i16>().prop_map(Shape::I16),
        prop_oneof![any::<i32>(), Just(i32::MIN), Just(i32::MAX), Just(0)].prop_map(Shape::I32),
        prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -10i64..10].prop_map(Shape::I64),
        any::<u8>().prop_map(Shape::U8),
        any::<u16>().prop_map(Shape::U16),
        any::<u32>().prop_map(Shape::U32),
        prop_oneof![any::<u64>(), Just(u64::MAX), 0u64..100].prop_map(Shape::U64),
        prop_oneof![
            any::<f32>(),
            Just(f32::NAN),
            Just(f32::INFINITY),
            Just(f32::MAX),
            Just(f32::MIN_POSITIVE),
            Just(-0.0f32),
        ]
        .prop_map(Shape::F32),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::NEG_INFINITY),
            Just(f64::MIN),
            Just(5e-324),
            Just(1e21),
            (-1000i32..1000).prop_map(|n| f64::from(n) / 8.0),
        ]
        .prop_map(Shape::F64),
        text().prop_map(Shape::Str),
        proptest::collection::vec(text(), 0..4).prop_map(Shape::Display),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Shape::Bytes),
        text().prop_map(Shape::EscapedStr),
        Just(Shape::None),
        Just(Shape::Unit),
        Just(Shape::UnitStruct),
        name().prop_map(Shape::UnitVariant),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let items = proptest::collection::vec(inner.clone(), 0..6);
        let fields = proptest::collection::vec((name(), inner.clone()), 0..6);
        prop_oneof![
            inner.clone().prop_map(|v| Shape::Some(Box::new(v))),
            inner
                .clone()
                .prop_map(|v| Shape::NewtypeStruct(Box::new(v))),
            (name(), inner.clone()).prop_map(|(n, v)| Shape::NewtypeVariant(n, Box::new(v))),
            items.clone().prop_map(Shape::Seq),
            items.clone().prop_map(Shape::Tuple),
            items.prop_map(Shape::TupleStruct),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Shape::Map),
            fields.clone().prop_map(Shape::Struct),
            (name(), fields).prop_map(|(n, f)| Shape::StructVariant(n, f)),
        ]
    })
}

/// A derived struct like the ones handlers answer with (serde is built without `alloc`
/// here, so heapless types stand for `String` and `Vec`).
#[derive(Serialize, Clone, Debug)]
struct Record {
    id: u32,
    title: Text<256>,
    text: Option<Text<2400>>,
    scores: heapless::Vec<f64, 4>,
    kind: RecordKind,
    pairs: heapless::Vec<(i64, bool), 3>,
}

type Text<const N: usize> = heapless::String<N>;

#[derive(Serialize, Clone, Debug)]
enum RecordKind {
    Plain,
    Tagged(Text<256>),
    Detailed { level: i8, label: Text<256> },
}

fn owned<const N: usize>(text: String) -> Text<N> {
    text.as_str().try_into().unwrap()
}

fn record() -> impl Strategy<Value = Record> {
    let kind = prop_oneof![
        Just(RecordKind::Plain),
        text().prop_map(|t| RecordKind::Tagged(owned(t))),
        (any::<i8>(), text()).prop_map(|(level, label)| RecordKind::Detailed {
            level,
            label: owned(label)
        }),
    ];
    (
        any::<u32>(),
        text(),
        proptest::option::of(proptest::collection::vec(text(), 0..12)),
        proptest::collection::vec(any::<f64>(), 0..4),
        kind,
        proptest::collection::vec((any::<i64>(), any::<bool>()), 0..3),
    )
        .prop_map(|(id, title, text, scores, kind, pairs)| Record {
            id,
            title: owned(title),
            text: text.map(|pieces| owned(pieces.concat())),
            scores: scores.into_iter().collect(),
            kind,
            pairs: pairs.into_iter().collect(),
        })
}

/// Both serializers give the same bytes, or both fail, into a buffer of every length
/// around the output's: `cut` bytes short of it, and a roomy one.
fn agree<T: Serialize + ?Sized>(value: &T, cut: usize) -> core::result::Result<(), TestCaseError> {
    let full = ours(value, 1 << 16).expect("fits");
    prop_assert_eq!(Some(full.clone()), theirs(value, 1 << 16));
    let len = full.len().saturating_sub(cut);
    let short = ours(value, len).ok();
    prop_assert_eq!(&short, &theirs(value, len));
    prop_assert_eq!(short.is_some(), cut == 0 || full.is_empty());
    Ok(())
}

proptest! {
    /// Against serde-json-core, on values of every shape it writes.
    #[test]
    fn writes_what_serde_json_core_writes(value in shape(), cut in prop_oneof![Just(0usize), Just(1), 0usize..64]) {
        agree(&value, cut)?;
    }

    /// Against serde-json-core, on derived structs and enums.
    #[test]
    fn writes_derived_values_as_serde_json_core(value in record(), cut in prop_oneof![Just(0usize), Just(1), 0usize..64]) {
        agree(&value, cut)?;
    }
}
