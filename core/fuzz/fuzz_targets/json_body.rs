//! Fuzzes the JSON body reader (`zzz_core::json::read`, feature `json`) and the media-type
//! check, with `serde_json` as the reference parser.
//!
//! Input layout: byte 0 picks the type the body is read as (modulo 5: a note with borrowed,
//! owned and optional fields, an array of integers, a string, a number, a struct that skips
//! unknown fields), byte 1 the size of the scratch buffer that unescapes strings; the rest is
//! the body, also tried as a `Content-Type` value.
//!
//! Checks: no panic; a body read as a value is read by `serde_json` as the same value, where
//! `serde_json` reads it at all; the value written back with `Reply::json`'s serializer is
//! JSON text of that value; a body refused as malformed or too deep (`400`) is not JSON text
//! for `serde_json` either; `is_json_media_type` holds exactly for `application/json` with
//! optional parameters (RFC 9110 §8.3.1).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use zzz_core::http::Status;
use zzz_core::json::{BodyError, is_json_media_type, read, to_slice};

#[derive(Deserialize, Serialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum State {
    Open,
    Closed,
}

/// A body of the kind an API takes: every sort of field serde-json-core handles.
#[derive(Deserialize, Serialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Note<'a> {
    id: u32,
    /// Borrowed: from the body, or from the scratch buffer for a string with escapes.
    title: &'a str,
    body: heapless::String<32>,
    tags: heapless::Vec<heapless::String<8>, 4>,
    score: Option<i64>,
    weight: Option<f64>,
    done: bool,
    state: State,
    at: Option<(i8, u16)>,
}

/// A body read leniently: unknown fields are skipped, whatever they hold.
#[derive(Deserialize, Serialize, Debug, PartialEq)]
struct Lenient {
    x: i32,
}

/// Reads `body` as a `T`; checks what holds whatever the body.
fn check<'a, T>(body: &'a [u8], scratch: &'a mut [u8])
where
    T: Deserialize<'a> + Serialize + PartialEq + core::fmt::Debug,
{
    // As a `Value`, so that strings are checked to be UTF-8 (RFC 8259 §8.1).
    let syntax = serde_json::from_slice::<serde_json::Value>(body);
    match read::<T>(body, scratch) {
        Ok(value) => {
            // Where serde_json reads the text too, both read the same value (it refuses some
            // JSON text: numbers beyond f64, which serde-json-core reads as infinity).
            match serde_json::from_slice::<T>(body) {
                Ok(theirs) => assert_eq!(value, theirs),
                // serde_json reads `-0` as a float, to keep its sign, which no integer takes;
                // serde-json-core reads `null` as a NaN float (it writes non-finite ones so).
                Err(e) if e.to_string().contains("floating point `-0.0`") => {}
                Err(e) if e.to_string().contains("invalid type: null, expected f") => {}
                // serde_json lends a `&str` only a string without escapes; zzz decodes one
                // with escapes into the scratch buffer and lends that.
                Err(e) if e.to_string().contains("expected a borrowed string") => {}
                Err(e) => assert!(syntax.is_err(), "serde_json reads no value: {e}"),
            }
            let mut out = [0u8; 4096];
            let n = to_slice(&value, &mut out).expect("fits");
            let written: serde_json::Value =
                serde_json::from_slice(&out[..n]).expect("writes JSON text");
            assert_eq!(
                written,
                serde_json::to_value(&value).unwrap(),
                "written back"
            );
        }
        Err(e @ (BodyError::Malformed(_) | BodyError::MalformedString(_) | BodyError::TooDeep)) => {
            assert_eq!(e.status(), Status::BAD_REQUEST);
            assert!(syntax.is_err(), "{e:?} for JSON text");
        }
        Err(e) => assert_eq!(e.status(), Status::UNPROCESSABLE_CONTENT, "{e:?}"),
    }
}

/// RFC 9110 §8.3.1: `type "/" subtype *( OWS ";" OWS parameter )`, case-insensitive.
fn is_json_reference(value: &[u8]) -> bool {
    let essence = value.split(|&b| b == b';').next().unwrap_or_default();
    let text = String::from_utf8_lossy(essence);
    text.trim_matches([' ', '\t'])
        .eq_ignore_ascii_case("application/json")
}

fuzz_target!(|data: &[u8]| {
    let [kind, scratch_len, body @ ..] = data else {
        return;
    };
    let mut scratch = vec![0u8; *scratch_len as usize];
    match kind % 5 {
        0 => check::<Note>(body, &mut scratch),
        1 => check::<heapless::Vec<i32, 8>>(body, &mut scratch),
        2 => check::<heapless::String<16>>(body, &mut scratch),
        3 => check::<f64>(body, &mut scratch),
        _ => check::<Lenient>(body, &mut scratch),
    }
    assert_eq!(is_json_media_type(body), is_json_reference(body));
});
