//! Fuzzes `HeadParser`: the input's first bytes choose the limits and the sizes of the pieces
//! the rest arrives in; the parser sees it piece by piece, as from a socket, and once whole.
//!
//! Checks: no panic; every call returns `Ok` or `Err`; a complete head has `len` no larger than
//! the bytes received and every span inside it; the split and one-shot runs agree (the same
//! head, the same error, or both still partial).

#![no_main]

use libfuzzer_sys::fuzz_target;
use zzz_core::http::{
    HeadParser, HeaderSpan, Limits, Parsed, Request, RequestError, RequestHead, Span,
};

/// Small limits, so that inputs of a few hundred bytes reach every limit.
const SMALL: Limits = Limits {
    max_request_line: 64,
    max_head: 256,
    max_headers: 8,
    max_body: 1000,
    max_chunk_extensions: 32,
    max_trailers: 32,
};

/// Input layout: byte 0 holds the small-limits flag (bit 7) and the number of schedule bytes
/// (low 4 bits); each schedule byte is a piece size minus one, used in turn; the rest is the
/// payload. No schedule bytes means one piece.
fn split(data: &[u8]) -> (Limits, &[u8], &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return (Limits::DEFAULT, &[], &[]);
    };
    let limits = if control & 0x80 != 0 {
        SMALL
    } else {
        Limits::DEFAULT
    };
    let n = ((control & 0x0f) as usize).min(rest.len());
    let (schedule, payload) = rest.split_at(n);
    (limits, schedule, payload)
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Complete(RequestHead, Vec<HeaderSpan>),
    Partial,
    Error(RequestError),
}

fn parse(payload: &[u8], schedule: &[u8], limits: &Limits) -> Outcome {
    let mut fields = [HeaderSpan::default(); 32];
    let mut parser = HeadParser::new();
    let mut received = 0usize;
    let mut turn = 0;
    loop {
        let step = match schedule.get(turn % schedule.len().max(1)) {
            Some(&b) => b as usize + 1,
            None => payload.len().max(1),
        };
        turn += 1;
        received = (received + step).min(payload.len());
        match parser.parse(&payload[..received], &mut fields, limits) {
            Ok(Parsed::Complete(head)) => {
                let head = *head;
                check(&head, &fields, &payload[..received]);
                let n = head.header_count as usize;
                return Outcome::Complete(head, fields[..n].to_vec());
            }
            Ok(Parsed::Partial) if received == payload.len() => return Outcome::Partial,
            Ok(Parsed::Partial) => {}
            Err(e) => return Outcome::Error(e),
        }
    }
}

/// A complete head lies within the bytes received, and so does every span in it.
fn check(head: &RequestHead, fields: &[HeaderSpan], received: &[u8]) {
    let len = head.len as usize;
    assert!(
        len <= received.len(),
        "head.len {len} > {} received",
        received.len()
    );
    let count = head.header_count as usize;
    assert!(count <= fields.len());
    let within = |s: Span| assert!(s.end() <= len, "span {s:?} past the head ({len})");
    [head.method_span, head.target, head.path]
        .into_iter()
        .chain(head.query)
        .chain(head.host)
        .chain(fields[..count].iter().flat_map(|f| [f.name, f.value]))
        .for_each(within);
    // Every accessor of the request view works on what the parser accepted.
    let r = Request::new(head, received, fields, &[]);
    let _ = (
        r.method(),
        r.method_str(),
        r.target(),
        r.path(),
        r.query(),
        r.host(),
    );
    let _ = (
        r.version(),
        r.keep_alive(),
        r.header("host"),
        r.header_str("connection"),
    );
    let _ = r.headers().count() + r.query_pairs().count();
    let _ = r.header_has_token("connection", "close");
}

fuzz_target!(|data: &[u8]| {
    let (limits, schedule, payload) = split(data);
    let pieces = parse(payload, schedule, &limits);
    let whole = parse(payload, &[], &limits);
    // The verdict must not depend on the segmentation.
    assert_eq!(whole, pieces);
});
