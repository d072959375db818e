//! Fuzzes percent-decoding (`zzz_core::http::percent`) and query pairs (`QueryPairs`) against
//! RFC 3986 §2.1 as written here and against the `percent-encoding` and `form_urlencoded`
//! crates (rust-url's).
//!
//! Input layout: byte 0 picks the mode (low two bits: path segment, form component, plain,
//! plain), byte 1 the output buffer's size (255: as long as the input); the rest is the
//! encoded text, also read as a query string (its longest UTF-8 prefix).
//!
//! Checks: no panic; `decode_into` and `PercentDecoder` give exactly what the RFC's grammar
//! gives, step by step, the first error and a too small buffer included; what decodes equals
//! `percent_decode`'s bytes; `decode_str` fails exactly on invalid UTF-8; `is_plain` input
//! decodes to itself; query pairs split and decode as `form_urlencoded::parse` does, and
//! `QueryPairs::get` finds the first pair of a name.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zzz_core::http::QueryPairs;
use zzz_core::http::percent::{
    Decode, PercentDecoder, PercentError, decode_into, decode_str, is_plain,
};

/// RFC 3986 §2.1 `pct-encoded = "%" HEXDIG HEXDIG`, either case.
fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// What `input` decodes to in `mode`, one item per output byte, ending with the first error:
/// written from the RFC and the mode's documentation, apart from the code under test.
fn reference(input: &[u8], mode: Decode) -> Vec<Result<u8, PercentError>> {
    let mut items = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            let escape = input.get(i + 1..i + 3).and_then(|pair| {
                let (high, low) = (hex_digit(pair[0])?, hex_digit(pair[1])?);
                Some(high * 16 + low)
            });
            match escape {
                None => {
                    items.push(Err(PercentError::InvalidEscape));
                    return items;
                }
                // A path segment must not gain a separator or a NUL by decoding.
                Some(b'/' | 0) if mode == Decode::PathSegment => {
                    items.push(Err(PercentError::ForbiddenInSegment));
                    return items;
                }
                Some(decoded) => items.push(Ok(decoded)),
            }
            i += 3;
        } else {
            let form_space = b == b'+' && mode == Decode::FormComponent;
            items.push(Ok(if form_space { b' ' } else { b }));
            i += 1;
        }
    }
    items
}

/// `input` decoded by rust-url's crates (which pass invalid escapes through unchanged).
fn third_party(input: &[u8], mode: Decode) -> Vec<u8> {
    if mode == Decode::FormComponent {
        let spaced: Vec<u8> = input
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&spaced).collect()
    } else {
        percent_encoding::percent_decode(input).collect()
    }
}

/// What `decode_into` must answer with a buffer of `room` bytes, from the reference items:
/// it fails on the first item that has no room, or on the first error.
fn expected(items: &[Result<u8, PercentError>], room: usize) -> Result<Vec<u8>, PercentError> {
    if items.len() > room {
        return Err(PercentError::BufferTooSmall);
    }
    items.iter().copied().collect()
}

fn check_decoding(input: &[u8], mode: Decode, room: usize) {
    let items = reference(input, mode);
    let iterated: Vec<_> = PercentDecoder::new(input, mode).collect();
    assert_eq!(iterated, items, "PercentDecoder");
    assert!(
        iterated.len() <= input.len(),
        "one step per input byte at most"
    );

    let mut out = vec![0u8; room];
    let got = decode_into(input, mode, &mut out).map(<[u8]>::to_vec);
    assert_eq!(got, expected(&items, room), "decode_into with {room} bytes");

    let mut whole = vec![0u8; input.len()];
    let decoded = decode_into(input, mode, &mut whole).map(<[u8]>::to_vec);
    if let Ok(bytes) = &decoded {
        assert_eq!(*bytes, third_party(input, mode), "percent_decode disagrees");
    }
    if is_plain(input, mode) {
        assert_eq!(
            decoded.as_deref(),
            Ok(input),
            "plain input decodes to itself"
        );
    }
    if let Ok(text) = core::str::from_utf8(input) {
        let as_text = decode_str(text, mode, &mut whole).map(str::as_bytes);
        match &decoded {
            Ok(bytes) if core::str::from_utf8(bytes).is_ok() => {
                assert_eq!(as_text, Ok(bytes.as_slice()))
            }
            Ok(_) => assert_eq!(as_text, Err(PercentError::InvalidEscape), "not UTF-8"),
            Err(e) => assert_eq!(as_text, Err(*e)),
        }
    }
}

/// Whether `part` lies within `whole` (the pairs are slices of the query, never copies; an
/// empty value may be any empty string).
fn within(part: &str, whole: &str) -> bool {
    let (start, end) = (
        whole.as_ptr() as usize,
        whole.as_ptr() as usize + whole.len(),
    );
    let at = part.as_ptr() as usize;
    part.is_empty() || (start <= at && at + part.len() <= end)
}

fn check_query(query: &str) {
    let pairs: Vec<(&str, &str)> = QueryPairs::new(query).collect();
    let theirs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
    assert_eq!(pairs.len(), theirs.len(), "pairs of {query:?}");
    let mut out = vec![0u8; query.len()];
    for (&(name, value), (their_name, their_value)) in pairs.iter().zip(&theirs) {
        assert!(within(name, query) && within(value, query));
        for (raw, theirs) in [(name, their_name), (value, their_value)] {
            // form_urlencoded keeps invalid escapes and replaces invalid UTF-8; where zzz
            // decodes at all, both must agree.
            if let Ok(decoded) = QueryPairs::decode(raw, &mut out) {
                assert_eq!(decoded, theirs, "component {raw:?}");
            }
        }
        let first = pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(QueryPairs::new(query).get(name), first);
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, room, input @ ..] = data else {
        return;
    };
    let mode = match mode & 3 {
        0 => Decode::PathSegment,
        1 => Decode::FormComponent,
        _ => Decode::Plain,
    };
    let room = if *room == 255 {
        input.len()
    } else {
        *room as usize
    };
    check_decoding(input, mode, room);
    let query = match core::str::from_utf8(input) {
        Ok(text) => text,
        Err(e) => core::str::from_utf8(&input[..e.valid_up_to()]).expect("valid prefix"),
    };
    check_query(query);
});
