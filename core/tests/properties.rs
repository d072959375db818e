//! Properties of the HTTP/1.1 engine, checked with proptest over generated requests.
//!
//! - (a) A valid request parses to the same head and fields however it is split: at every
//!   position into two reads, and one byte at a time (RFC 9112 §2: a message is a byte stream;
//!   where the reads fall is not part of it).
//! - (b) A generated request, serialized and parsed, gives back its method, target, version,
//!   fields and framing (RFC 9112 §3, §5, §6.3).
//! - (c) The chunked decoder yields the same bytes however the body is split, and they are the
//!   data that was encoded (RFC 9112 §7.1).
//! - (d) Neither the head parser nor the decoder panics on arbitrary bytes or on mutations of
//!   valid requests, and a head they accept lies within the bytes received.
//!
//! Case counts are set so that the whole file runs in a few seconds in a debug build;
//! `PROPTEST_CASES` overrides them for longer runs.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use zzz_core::http::{
    ChunkedDecoder, Framing, HeadParser, HeaderSpan, Limits, Method, Parsed, Request, RequestError,
    RequestHead, TargetForm, Version,
};

/// `n` cases, unless `PROPTEST_CASES` asks for another number (for a longer run:
/// `PROPTEST_CASES=20000 cargo test --release --test properties`).
fn cases(n: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = n;
    }
    config
}

// ───────────────────────────────────────────────────────────────────────── generators

/// `tchar` (RFC 9110 §5.6.2).
const TCHAR: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// `pchar` less pct-encoded (RFC 3986 §3.3): unreserved, sub-delims, `:` and `@`.
const PCHAR: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@";
const HEXDIG: &[u8] = b"0123456789ABCDEFabcdef";

fn token(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    vec(select(TCHAR), len).prop_map(|b| String::from_utf8(b).unwrap())
}

/// RFC 9110 §9: the registered methods and extension tokens. CONNECT is left out because its
/// target must be in authority-form, and this generator makes origin-form targets.
fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"
            ][..]
        )
        .prop_map(String::from),
        token(1..12).prop_filter("CONNECT takes authority-form", |m| m != "CONNECT"),
    ]
}

/// One pchar or one pct-encoded triplet.
fn pchar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(PCHAR).prop_map(|c| (c as char).to_string()),
        1 => (select(HEXDIG), select(HEXDIG))
            .prop_map(|(a, b)| format!("%{}{}", a as char, b as char)),
    ]
}

/// RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ].
fn origin_form() -> impl Strategy<Value = String> {
    let segment = vec(pchar(), 0..8).prop_map(|p| p.concat());
    let query = vec(
        prop_oneof![4 => pchar(), 1 => select(&["/", "?"][..]).prop_map(String::from)],
        0..16,
    )
    .prop_map(|p| p.concat());
    (vec(segment, 0..6), proptest::option::of(query)).prop_map(|(segments, query)| {
        let mut target = String::new();
        if segments.is_empty() {
            target.push('/');
        }
        for s in segments {
            target.push('/');
            target.push_str(&s);
        }
        if let Some(q) = query {
            target.push('?');
            target.push_str(&q);
        }
        target
    })
}

/// `host [ ":" port ]` with a reg-name host (RFC 3986 §3.2.2).
fn host() -> impl Strategy<Value = String> {
    (
        "[a-z0-9][a-z0-9.-]{0,20}",
        proptest::option::of(1u32..=65535),
    )
        .prop_map(|(name, port)| match port {
            Some(p) => format!("{name}:{p}"),
            None => name,
        })
}

/// A field value: field-vchar, SP and HTAB, no leading or trailing whitespace (RFC 9110 §5.5).
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![
            6 => 0x21u8..=0x7e,
            1 => 0x80u8..=0xff,
            2 => Just(b' '),
            1 => Just(b'\t'),
        ],
        0..40,
    )
    .prop_map(|mut v| {
        while v.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.pop();
        }
        let start = v
            .iter()
            .position(|b| *b != b' ' && *b != b'\t')
            .unwrap_or(v.len());
        v.drain(..start);
        v
    })
}

/// A field whose name does not change the request's framing or validity.
fn field() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        token(1..20).prop_filter("framing and Host are generated separately", |n| {
            !["host", "content-length", "transfer-encoding", "expect"]
                .iter()
                .any(|s| n.eq_ignore_ascii_case(s))
        }),
        field_value(),
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum GenFraming {
    None,
    Length(u64),
    Chunked,
}

#[derive(Clone, Debug)]
struct GenRequest {
    method: String,
    target: String,
    version: Version,
    /// Every field in order, Host and the framing field included.
    fields: Vec<(String, Vec<u8>)>,
    host: String,
    framing: GenFraming,
}

impl GenRequest {
    /// The head: request line, field lines, empty line.
    fn head(&self) -> Vec<u8> {
        let version = match self.version {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        };
        let mut out = format!("{} {} {version}\r\n", self.method, self.target).into_bytes();
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The head, a body framed as the head says, and the start of a next request: none of what
    /// follows the head may change how the head parses.
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.head();
        match self.framing {
            GenFraming::None => {}
            GenFraming::Length(n) => out.resize(out.len() + n as usize, b'x'),
            GenFraming::Chunked => out.extend_from_slice(b"3\r\nabc\r\n0\r\n\r\n"),
        }
        out.extend_from_slice(b"GET /next HTTP/1.1\r\n");
        out
    }

    fn expected_framing(&self) -> Framing {
        match self.framing {
            GenFraming::None | GenFraming::Length(0) => Framing::None,
            GenFraming::Length(n) => Framing::Length(n),
            GenFraming::Chunked => Framing::Chunked,
        }
    }
}

fn request() -> impl Strategy<Value = GenRequest> {
    (
        method(),
        origin_form(),
        prop_oneof![Just(Version::Http10), Just(Version::Http11)],
        host(),
        vec(field(), 0..=20),
        any::<prop::sample::Index>(),
        0u8..3,
        0u64..2000,
        select(&["Content-Length", "content-length", "CONTENT-LENGTH"][..]),
        select(&["Transfer-Encoding", "transfer-encoding"][..]),
    )
        .prop_map(
            |(method, target, version, host, mut fields, host_at, kind, len, cl, te)| {
                let framing = match (kind, version) {
                    (1, _) => GenFraming::Length(len),
                    // RFC 9112 §6.1: chunked is for HTTP/1.1 only.
                    (2, Version::Http11) => GenFraming::Chunked,
                    _ => GenFraming::None,
                };
                let at = host_at.index(fields.len() + 1);
                fields.insert(at, ("Host".to_string(), host.clone().into_bytes()));
                match framing {
                    GenFraming::None => {}
                    GenFraming::Length(n) => {
                        fields.push((cl.to_string(), n.to_string().into_bytes()))
                    }
                    GenFraming::Chunked => fields.push((te.to_string(), b"chunked".to_vec())),
                }
                GenRequest {
                    method,
                    target,
                    version,
                    fields,
                    host,
                    framing,
                }
            },
        )
}

// ───────────────────────────────────────────────────────────────────────── parsing helpers

/// What one parse of a byte stream ended with.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Complete(RequestHead, Vec<HeaderSpan>),
    Partial,
    Error(RequestError),
}

/// Parses `input` delivered in pieces whose sizes cycle through `steps` (the last call always
/// sees all of `input`), and checks what every call returns.
fn parse_in_pieces(input: &[u8], steps: &[usize], limits: &Limits) -> Outcome {
    let mut fields = [HeaderSpan::default(); 128];
    let mut parser = HeadParser::new();
    let mut received = 0usize;
    let mut i = 0;
    loop {
        let step = steps
            .get(i % steps.len().max(1))
            .copied()
            .unwrap_or(usize::MAX);
        i += 1;
        received = received.saturating_add(step.max(1)).min(input.len());
        match parser.parse(&input[..received], &mut fields, limits) {
            Ok(Parsed::Complete(head)) => {
                let head = *head;
                check_head_within(&head, &fields, received);
                let n = head.header_count as usize;
                return Outcome::Complete(head, fields[..n].to_vec());
            }
            Ok(Parsed::Partial) if received == input.len() => return Outcome::Partial,
            Ok(Parsed::Partial) => {}
            Err(e) => return Outcome::Error(e),
        }
    }
}

fn parse_whole(input: &[u8], limits: &Limits) -> Outcome {
    parse_in_pieces(input, &[usize::MAX], limits)
}

/// A complete head lies within the bytes received, and so does every span in it.
fn check_head_within(head: &RequestHead, fields: &[HeaderSpan], received: usize) {
    let len = head.len as usize;
    assert!(
        len <= received,
        "head.len {len} > {received} bytes received"
    );
    let mut spans = vec![head.method_span, head.target, head.path];
    spans.extend(head.query);
    spans.extend(head.host);
    assert!(head.header_count as usize <= fields.len());
    for f in &fields[..head.header_count as usize] {
        spans.push(f.name);
        spans.push(f.value);
    }
    for s in spans {
        assert!(s.end() <= len, "span {s:?} ends past the head ({len})");
    }
}

fn limits_strategy() -> impl Strategy<Value = Limits> {
    prop_oneof![
        3 => Just(Limits::DEFAULT),
        1 => Just(Limits {
            max_request_line: 64,
            max_head: 256,
            max_headers: 8,
            max_body: 1000,
            max_chunk_extensions: 32,
            max_trailers: 32,
        }),
    ]
}

// ───────────────────────────────────────────────────────────────────────── (a) and (b)

proptest! {
    #![proptest_config(cases(128))]

    /// (a) RFC 9112 §2: the head parses to the same head and fields whether it arrives whole,
    /// in two reads split at any position, or one byte at a time; while it is incomplete the
    /// parser says so, and it completes exactly when its last byte arrives.
    #[test]
    fn split_anywhere_equals_one_shot(req in request()) {
        let limits = Limits::DEFAULT;
        let bytes = req.bytes();
        let head_len = req.head().len();
        let whole = parse_whole(&bytes, &limits);
        let Outcome::Complete(head, fields) = &whole else {
            panic!("a valid request must parse: {whole:?}\n{:?}", String::from_utf8_lossy(&bytes));
        };
        prop_assert_eq!(head.len as usize, head_len);

        for cut in 0..=bytes.len() {
            let mut f = [HeaderSpan::default(); 128];
            let mut parser = HeadParser::new();
            let first = parser.parse(&bytes[..cut], &mut f, &limits);
            match first {
                Ok(Parsed::Partial) => {
                    prop_assert!(cut < head_len, "partial at {cut} ≥ {head_len}");
                    let second = parser.parse(&bytes, &mut f, &limits);
                    prop_assert_eq!(second, Ok(Parsed::Complete(head)));
                }
                Ok(Parsed::Complete(h)) => {
                    prop_assert!(cut >= head_len, "complete at {cut} < {head_len}");
                    prop_assert_eq!(h, head);
                }
                Err(e) => prop_assert!(false, "error {e:?} at cut {cut}"),
            }
            prop_assert_eq!(&f[..fields.len()], fields.as_slice());
        }

        let trickled = parse_in_pieces(&bytes[..head_len], &[1], &limits);
        prop_assert_eq!(&trickled, &whole);
        // One byte short of the head is still partial.
        prop_assert_eq!(parse_in_pieces(&bytes[..head_len - 1], &[1], &limits), Outcome::Partial);
    }

    /// (b) RFC 9112 §3 (request line), §5 (field lines), §6.3 (framing): what was serialized
    /// is what is parsed back.
    #[test]
    fn serialize_then_parse_round_trips(req in request()) {
        let bytes = req.bytes();
        let Outcome::Complete(head, fields) = parse_whole(&bytes, &Limits::DEFAULT) else {
            panic!("a valid request must parse: {:?}", String::from_utf8_lossy(&bytes));
        };
        let r = Request::new(&head, &bytes, &fields, &[]);
        prop_assert_eq!(r.method_str(), req.method.as_str());
        prop_assert_eq!(r.method(), Method::from_token(req.method.as_bytes()));
        prop_assert_eq!(r.target(), req.target.as_str());
        prop_assert_eq!(head.target_form, TargetForm::Origin);
        let (path, query) = match req.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req.target.as_str(), None),
        };
        prop_assert_eq!(r.path(), path);
        prop_assert_eq!(r.query(), query);
        prop_assert_eq!(r.version(), req.version);
        let parsed: Vec<(String, Vec<u8>)> =
            r.headers().map(|(n, v)| (n.to_string(), v.to_vec())).collect();
        prop_assert_eq!(&parsed, &req.fields);
        prop_assert_eq!(r.host(), req.host.as_str());
        prop_assert_eq!(head.framing, req.expected_framing());
        prop_assert_eq!(head.len as usize, req.head().len());
    }
}

// ───────────────────────────────────────────────────────────────────────── (c) chunked

#[derive(Clone, Debug)]
struct GenChunked {
    /// Data of each chunk (never empty), the size's spelling, and its extensions.
    chunks: Vec<(Vec<u8>, SizeSpelling, String)>,
    last_extensions: String,
    trailers: Vec<(String, Vec<u8>)>,
}

#[derive(Clone, Copy, Debug)]
struct SizeSpelling {
    upper: bool,
    leading_zeros: usize,
}

/// BWS (RFC 9110 §5.6.3): optional whitespace that is only there "for historical reasons".
fn bws() -> impl Strategy<Value = &'static str> {
    select(&["", "", "", " ", "\t", "  "][..])
}

/// One `BWS ";" BWS name [ BWS "=" BWS value ]` (RFC 9112 §7.1.1), value a token or a
/// quoted-string.
fn extension() -> impl Strategy<Value = String> {
    let quoted = vec(
        prop_oneof![
            8 => prop_oneof![Just(0x09u8), Just(0x20), Just(0x21), 0x23u8..=0x5b, 0x5du8..=0x7e, 0x80u8..=0xff]
                .prop_map(|b| vec![b]),
            1 => prop_oneof![Just(0x09u8), 0x20u8..=0x7e, 0x80u8..=0xff].prop_map(|b| vec![b'\\', b]),
        ],
        0..12,
    )
    .prop_map(|parts| {
        let mut s = vec![b'"'];
        s.extend(parts.concat());
        s.push(b'"');
        s
    });
    let value = prop_oneof![token(1..10).prop_map(String::into_bytes), quoted,];
    (
        bws(),
        bws(),
        token(1..10),
        proptest::option::of((bws(), bws(), value)),
    )
        .prop_map(|(b1, b2, name, value)| {
            let mut s = format!("{b1};{b2}{name}").into_bytes();
            if let Some((b3, b4, v)) = value {
                s.extend_from_slice(format!("{b3}={b4}").as_bytes());
                s.extend(v);
            }
            // Quoted strings may hold obs-text; the latin-1 view keeps every byte.
            s.into_iter().map(char::from).collect()
        })
}

fn chunked_body() -> impl Strategy<Value = GenChunked> {
    let spelling = (any::<bool>(), 0usize..4).prop_map(|(upper, leading_zeros)| SizeSpelling {
        upper,
        leading_zeros,
    });
    let extensions = || vec(extension(), 0..3).prop_map(|e| e.concat());
    (
        vec((vec(any::<u8>(), 1..300), spelling, extensions()), 0..12),
        extensions(),
        vec((token(1..16), field_value()), 0..4),
    )
        .prop_map(|(chunks, last_extensions, trailers)| GenChunked {
            chunks,
            last_extensions,
            trailers,
        })
}

impl GenChunked {
    fn encode(&self) -> Vec<u8> {
        let latin1 = |s: &str| s.chars().map(|c| c as u8).collect::<Vec<u8>>();
        let mut out = Vec::new();
        for (data, spelling, ext) in &self.chunks {
            let size = if spelling.upper {
                format!("{:X}", data.len())
            } else {
                format!("{:x}", data.len())
            };
            out.extend(std::iter::repeat_n(b'0', spelling.leading_zeros));
            out.extend_from_slice(size.as_bytes());
            out.extend(latin1(ext));
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.push(b'0');
        out.extend(latin1(&self.last_extensions));
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.trailers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    fn data(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .flat_map(|(d, _, _)| d.iter().copied())
            .collect()
    }
}

/// What decoding a byte stream ended with: done or not, bytes consumed, the decoded body.
#[derive(Debug, PartialEq)]
enum Decoded {
    Done { read: usize, body: Vec<u8> },
    NeedMore { read: usize, body: Vec<u8> },
    Error(RequestError),
}

/// Decodes `input` delivered in pieces whose sizes cycle through `steps`, checking the
/// decoder's invariants after every call.
fn decode_in_pieces(input: &[u8], steps: &[usize], limits: &Limits) -> Decoded {
    let mut buf = input.to_vec();
    let mut decoder = ChunkedDecoder::new();
    let (mut read, mut written, mut end) = (0, 0, 0usize);
    let mut i = 0;
    loop {
        let step = steps
            .get(i % steps.len().max(1))
            .copied()
            .unwrap_or(usize::MAX);
        i += 1;
        end = end.saturating_add(step.max(1)).min(buf.len());
        let result = decoder.decode_in_place(&mut buf[..end], &mut read, &mut written, limits);
        assert!(
            written <= read && read <= end,
            "cursors: {written} {read} {end}"
        );
        match result {
            Ok(done) => {
                assert_eq!(
                    decoder.body_len(),
                    written as u64,
                    "body_len() is the bytes decoded"
                );
                assert_eq!(done, decoder.is_done());
                if done {
                    return Decoded::Done {
                        read,
                        body: buf[..written].to_vec(),
                    };
                }
                if end == buf.len() {
                    return Decoded::NeedMore {
                        read,
                        body: buf[..written].to_vec(),
                    };
                }
            }
            Err(e) => return Decoded::Error(e),
        }
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// (c) RFC 9112 §7.1: the decoded body is the data that was encoded, the decoder stops
    /// exactly after the trailer section, and neither depends on how the body was split.
    #[test]
    fn chunked_any_split_equals_one_shot(
        body in chunked_body(),
        steps in vec(1usize..64, 1..8),
    ) {
        let limits = Limits::DEFAULT;
        let encoded = body.encode();
        let mut input = encoded.clone();
        input.extend_from_slice(b"GET /next HTTP/1.1\r\n");
        let whole = decode_in_pieces(&input, &[usize::MAX], &limits);
        prop_assert_eq!(
            &whole,
            &Decoded::Done { read: encoded.len(), body: body.data() },
            "{:?}", String::from_utf8_lossy(&encoded)
        );
        prop_assert_eq!(&decode_in_pieces(&input, &steps, &limits), &whole);
        prop_assert_eq!(&decode_in_pieces(&input, &[1], &limits), &whole);
        // Every strict prefix needs more bytes, and what it decoded so far is a prefix.
        let cut = steps[0] * 7 % encoded.len();
        match decode_in_pieces(&encoded[..cut], &steps, &limits) {
            Decoded::NeedMore { body: partial, .. } => {
                prop_assert!(body.data().starts_with(&partial));
            }
            other => prop_assert!(false, "prefix of {cut}: {other:?}"),
        }
    }
}

// ───────────────────────────────────────────────────────────────────────── (d) robustness

/// Bytes that make the parser go deep: pieces of request lines, field lines and chunk lines.
fn http_ish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces: &[&[u8]] = &[
        b"GET",
        b"POST",
        b" ",
        b"/",
        b"/a?b=c",
        b"*",
        b"http://h/",
        b"h:1",
        b" HTTP/1.1",
        b" HTTP/1.0",
        b"HTTP/2.0",
        b"\r\n",
        b"\r",
        b"\n",
        b"\t",
        b":",
        b": ",
        b",",
        b";",
        b"=",
        b"\"",
        b"\\",
        b"Host",
        b"Host: a",
        b"Content-Length",
        b"Content-Length: 5",
        b"Transfer-Encoding",
        b"Transfer-Encoding: chunked",
        b"chunked",
        b"gzip",
        b"Expect: 100-continue",
        b"Connection: close",
        b"0",
        b"5",
        b"ff",
        b"hello",
        b"\x00",
        b"\x7f",
        b"\x80",
        b"\xff",
        b"\r\n\r\n",
        b"0\r\n\r\n",
    ];
    vec(select(pieces), 0..64).prop_map(|p| p.concat())
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Duplicate(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        select(&b"\r\n\t :;,\"\\\x00\x7f\x80\xff0-aA/?%"[..]),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), interesting.clone()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<prop::sample::Index>(), interesting).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), 1usize..16).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        Mutation::Insert(i, b) => {
            let i = i.index(bytes.len() + 1);
            bytes.insert(i, *b);
        }
        Mutation::Delete(i) => {
            let i = i.index(bytes.len());
            bytes.remove(i);
        }
        Mutation::Duplicate(i, n) => {
            let i = i.index(bytes.len());
            let end = (i + n).min(bytes.len());
            let copy = bytes[i..end].to_vec();
            bytes.splice(i..i, copy);
        }
    }
}

/// Runs everything the engine does with `input` and checks that the verdict does not depend on
/// how the input was split: the same head, or the same error, or still partial, in one piece
/// and in pieces (RFC 9112 §2: where the reads fall is not part of the message).
fn exercise(input: &[u8], steps: &[usize], limits: &Limits) {
    let whole = parse_whole(input, limits);
    let pieces = parse_in_pieces(input, steps, limits);
    assert_eq!(
        pieces,
        whole,
        "split parse differs from one-shot for {:?}",
        String::from_utf8_lossy(input)
    );
    if let Outcome::Complete(head, fields) = &whole {
        let r = Request::new(head, input, fields, &[]);
        let _ = (
            r.method_str(),
            r.target(),
            r.path(),
            r.query(),
            r.host(),
            r.keep_alive(),
        );
        let _ = r.headers().count() + r.query_pairs().count();
        let _ = r.header_has_token("connection", "close");
        if head.framing == Framing::Chunked {
            let rest = &input[head.len as usize..];
            let d_whole = decode_in_pieces(rest, &[usize::MAX], limits);
            assert_eq!(decode_in_pieces(rest, steps, limits), d_whole);
        }
    }
    // The same bytes as a chunked body: the decoder examines each byte once, in order, so its
    // verdict is exactly the same however the bytes are split.
    let d_whole = decode_in_pieces(input, &[usize::MAX], limits);
    assert_eq!(decode_in_pieces(input, steps, limits), d_whole);
}

proptest! {
    #![proptest_config(cases(512))]

    /// (d) Arbitrary bytes: a verdict, never a panic (ARCHITECTURE.md §4 Bounds: bad input is a
    /// status).
    #[test]
    fn arbitrary_bytes_never_panic(
        input in vec(any::<u8>(), 0..1024),
        steps in vec(1usize..32, 1..6),
        limits in limits_strategy(),
    ) {
        exercise(&input, &steps, &limits);
    }

    /// (d) Bytes made of HTTP's own pieces, which reach far deeper into the parser.
    #[test]
    fn http_ish_bytes_never_panic(
        input in http_ish_bytes(),
        steps in vec(1usize..32, 1..6),
        limits in limits_strategy(),
    ) {
        exercise(&input, &steps, &limits);
    }

    /// (d) Valid requests with a few bytes flipped, inserted, deleted or duplicated.
    #[test]
    fn mutated_requests_never_panic(
        req in request(),
        body in chunked_body(),
        mutations in vec(mutation(), 1..6),
        steps in vec(1usize..32, 1..6),
        limits in limits_strategy(),
    ) {
        let mut input = req.head();
        if req.framing == GenFraming::Chunked {
            input.extend(body.encode());
        }
        for m in &mutations {
            mutate(&mut input, m);
        }
        exercise(&input, &steps, &limits);
    }
}

// ───────────────────────────────────────────────────────────────────────── found by the above

/// RFC 9112 §7.1: `ChunkedDecoder::body_len` is the number of body bytes decoded so far. It once
/// counted a chunk's whole size as soon as the chunk's size line ended, before its data had
/// arrived, so a caller trusting it mid-body saw bytes that were not there yet. Found by
/// `chunked_any_split_equals_one_shot`; fixed in 0539cd3.
#[test]
fn body_len_counts_only_decoded_bytes() {
    let mut buf = *b"5\r\nhel";
    let (mut read, mut written) = (0, 0);
    let mut decoder = ChunkedDecoder::new();
    let done = decoder
        .decode_in_place(&mut buf, &mut read, &mut written, &Limits::DEFAULT)
        .unwrap();
    assert!(!done);
    assert_eq!(written, 3, "three data bytes decoded");
    assert_eq!(
        decoder.body_len(),
        3,
        "body_len() must equal the bytes decoded"
    );
    assert_eq!(decoder.data_remaining(), 2);
}

/// RFC 9112 §2.2 / ARCHITECTURE.md §4 Bounds: the verdict on a byte stream must not depend on how
/// it was segmented. Once a line was incomplete, the parser used to look only for that line's LF in
/// the bytes that followed, so invalid bytes in the same line were rejected at once when they
/// arrived with the line's start (400) but not when they arrived later: the request then waited for
/// an LF that might never come and ended as 414 when the line passed `max_request_line`. Found by
/// `arbitrary_bytes_never_panic`; fixed in 0539cd3 (the parser resumes its checks where the line
/// stopped).
#[test]
fn verdict_does_not_depend_on_segmentation() {
    let limits = Limits::DEFAULT;
    for (input, expected) in [
        (&b"!:"[..], RequestError::InvalidMethod),
        (b"GET / XTTP", RequestError::InvalidVersion),
        (b"GET /a\x00b HTTP/1.1", RequestError::InvalidTarget),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01",
            RequestError::InvalidHeaderValue,
        ),
        (
            b"GET / HTTP/1.1\r\nHo st: a",
            RequestError::WhitespaceBeforeColon,
        ),
    ] {
        assert_eq!(
            parse_whole(input, &limits),
            Outcome::Error(expected),
            "{input:?} whole"
        );
        for step in [1, 2, 3] {
            assert_eq!(
                parse_in_pieces(input, &[step], &limits),
                Outcome::Error(expected),
                "{input:?} in pieces of {step}"
            );
        }
    }
    // The status does not change with the segmentation: 400 in one read and trickled, never 414.
    let small = Limits {
        max_request_line: 64,
        max_head: 256,
        ..Limits::DEFAULT
    };
    let mut line = b"GET /".to_vec();
    line.push(b'<');
    line.resize(100, b'a');
    assert_eq!(
        parse_whole(&line, &small),
        Outcome::Error(RequestError::InvalidTarget)
    );
    assert_eq!(
        parse_in_pieces(&line, &[1], &small),
        Outcome::Error(RequestError::InvalidTarget)
    );
}

/// RFC 9112 §3 / ARCHITECTURE.md §4 Bounds: a request line longer than `max_request_line` is 414,
/// however it arrives, even when the line also holds an invalid byte *past* the limit: bytes are
/// judged in order, and nothing past the limit is examined. (Once a bug: one read gave 400, pieces
/// 414. Found by `mutated_requests_never_panic` with `PROPTEST_CASES=50000`.)
#[test]
fn request_line_limit_does_not_depend_on_segmentation() {
    let small = Limits {
        max_request_line: 64,
        max_head: 256,
        ..Limits::DEFAULT
    };
    // Invalid bytes after byte 64 of the line: in the target, in the version.
    let mut target = b"GET /".to_vec();
    target.resize(80, b'a');
    target.extend_from_slice(b"<b HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut version = b"GET /".to_vec();
    version.resize(80, b'a');
    version.extend_from_slice(b" HT\rTP/1.1\r\nHost: a\r\n\r\n");
    for input in [target, version] {
        let pieces = parse_in_pieces(&input, &[1], &small);
        assert_eq!(pieces, Outcome::Error(RequestError::RequestLineTooLong));
        assert_eq!(
            parse_whole(&input, &small),
            pieces,
            "{:?}",
            String::from_utf8_lossy(&input)
        );
    }
}
