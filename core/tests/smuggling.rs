//! Request-smuggling regressions: one test per class of the advisories that taught the field
//! how HTTP/1.1 servers mis-frame requests.
//!
//! Each test sends the attack bytes of its advisory through the whole request engine — the head
//! parser, then the body framing it chose (Content-Length, or the chunked decoder) — and asserts
//! zzz's verdict: the exact [`RequestError`] and its status, or, where the request is valid, that
//! its head and body are framed exactly once and that the bytes after it are left, untouched, for
//! the next request. Every input is run twice, once in one piece and once a byte at a time, and
//! both runs must agree, so no verdict depends on how the bytes arrived.
//!
//! RFC references are to RFC 9112 (HTTP/1.1) and RFC 9110 (HTTP Semantics).

use zzz_core::http::{
    ChunkedDecoder, Framing, HeadParser, HeaderSpan, Limits, Method, Parsed, Request, RequestError,
    RequestHead, Version,
};

// ───────────────────────────────────────────────────────────────────────── the harness

/// What the engine made of a byte stream holding one request and whatever follows it.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    /// The request was accepted.
    Accepted(Accepted),
    /// The request was rejected with this error (the connection closes after the response).
    Rejected(RequestError),
    /// The stream ended before the request did.
    Incomplete,
}

#[derive(Debug, Clone, PartialEq)]
struct Accepted {
    head: RequestHead,
    /// `(name, value)` of every header field, in order.
    fields: Vec<(String, Vec<u8>)>,
    target: String,
    /// The body after framing (de-chunked).
    body: Vec<u8>,
    /// The bytes after the request: the next request on this connection.
    rest: Vec<u8>,
}

impl Verdict {
    #[track_caller]
    fn accepted(self) -> Accepted {
        match self {
            Verdict::Accepted(a) => a,
            other => panic!("expected the request to be accepted, got {other:?}"),
        }
    }

    #[track_caller]
    fn rejected(self) -> RequestError {
        match self {
            Verdict::Rejected(e) => e,
            other => panic!("expected the request to be rejected, got {other:?}"),
        }
    }
}

/// Runs `input` through the engine with the default limits; see [`run_with`].
#[track_caller]
fn run(input: &[u8]) -> Verdict {
    run_with(input, &Limits::DEFAULT)
}

/// Runs `input` through the engine in one piece and a byte at a time, asserts that both agree,
/// and returns the verdict.
#[track_caller]
fn run_with(input: &[u8], limits: &Limits) -> Verdict {
    let whole = engine(input, limits, input.len().max(1));
    let trickled = engine(input, limits, 1);
    assert_eq!(
        whole,
        trickled,
        "one-shot and byte-at-a-time verdicts differ for {:?}",
        String::from_utf8_lossy(input)
    );
    whole
}

/// The request engine as a server runs it: bytes arrive `step` at a time; the head parser is
/// called with everything received so far until it completes; then the body is framed as the
/// head says (Content-Length bytes are taken as they are, chunked bytes are decoded in place as
/// they arrive), and whatever follows is the next request.
fn engine(input: &[u8], limits: &Limits, step: usize) -> Verdict {
    let mut fields = [HeaderSpan::default(); 128];
    let mut parser = HeadParser::new();
    let mut received = 0;
    let head = loop {
        received = (received + step).min(input.len());
        match parser.parse(&input[..received], &mut fields, limits) {
            Ok(Parsed::Complete(head)) => break *head,
            Ok(Parsed::Partial) if received == input.len() => return Verdict::Incomplete,
            Ok(Parsed::Partial) => {}
            Err(e) => return Verdict::Rejected(e),
        }
    };
    let head_len = head.len as usize;
    assert!(
        head_len <= received,
        "the head cannot end past the bytes received"
    );
    let request = Request::new(&head, input, &fields, &[]);
    let field_list: Vec<(String, Vec<u8>)> = request
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_vec()))
        .collect();
    let target = request.target().to_string();

    let after_head = &input[head_len..];
    let (body, rest) = match head.framing {
        Framing::None => (Vec::new(), after_head.to_vec()),
        Framing::Length(n) => {
            let n = usize::try_from(n).unwrap();
            if after_head.len() < n {
                return Verdict::Incomplete;
            }
            (after_head[..n].to_vec(), after_head[n..].to_vec())
        }
        Framing::Chunked => {
            let mut buf = after_head.to_vec();
            let mut decoder = ChunkedDecoder::new();
            let (mut read, mut written) = (0, 0);
            let mut end = 0;
            loop {
                end = (end + step).min(buf.len());
                match decoder.decode_in_place(&mut buf[..end], &mut read, &mut written, limits) {
                    Ok(true) => break,
                    Ok(false) if end == buf.len() => return Verdict::Incomplete,
                    Ok(false) => {}
                    Err(e) => return Verdict::Rejected(e),
                }
                assert!(written <= read && read <= end);
            }
            assert_eq!(decoder.body_len(), written as u64);
            (buf[..written].to_vec(), buf[read..].to_vec())
        }
    };
    Verdict::Accepted(Accepted {
        head,
        fields: field_list,
        target,
        body,
        rest,
    })
}

/// Asserts that `input` is rejected with `expected`, whose status is `status`.
#[track_caller]
fn assert_rejected(input: &[u8], expected: RequestError, status: u16) {
    assert_rejected_with(input, &Limits::DEFAULT, expected, status);
}

#[track_caller]
fn assert_rejected_with(input: &[u8], limits: &Limits, expected: RequestError, status: u16) {
    let error = run_with(input, limits).rejected();
    assert_eq!(
        (error, error.status().code()),
        (expected, status),
        "verdict for {:?}",
        String::from_utf8_lossy(input)
    );
}

/// `head` with CRLF line ends, then the empty line, then `body`. Heads in this file are written
/// with `\n` for legibility; every `\n` becomes CRLF unless it is escaped as `\\n` in the source,
/// which stays a bare LF (the attack bytes of several advisories).
fn crlf(head: &str) -> Vec<u8> {
    head.replace("\\n", "\u{0}")
        .replace('\n', "\r\n")
        .replace('\u{0}', "\n")
        .into_bytes()
}

/// `head` (see [`crlf`]) followed by `body` verbatim.
fn request(head: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = crlf(head);
    bytes.extend_from_slice(body);
    bytes
}

const NEXT: &[u8] = b"GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n";

/// Asserts that `rest` is exactly the next request and that it parses on its own as `GET /next`.
#[track_caller]
fn assert_next_request(rest: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(rest),
        String::from_utf8_lossy(NEXT),
        "the bytes after the request must be the next request, untouched"
    );
    let next = run(rest).accepted();
    assert_eq!(next.target, "/next");
    assert!(next.rest.is_empty());
}

// ───────────────────────────────────────────────────────────────────────── hyper

/// **RUSTSEC-2020-0008** (hyper < 0.12.34): hyper let a GET carry a body with neither
/// Content-Length nor Transfer-Encoding, so bytes that a compliant peer reads as a second,
/// attacker-written request (with headers a browser would never allow) were instead taken as
/// the first request's body, or the other way round.
///
/// RFC 9112 §6.3 item 7: a request with neither field has a body of length zero. zzz frames the
/// GET with no body and leaves every byte after its head for the next request, which is parsed
/// — and validated — as a request of its own.
#[test]
fn hyper_rustsec_2020_0008_get_without_framing_has_no_body() {
    let smuggled = b"GET /internal HTTP/1.1\r\nHost: localhost\r\nX-Injected: yes\r\n\r\n";
    let input = request("GET / HTTP/1.1\nHost: example.com\n\n", smuggled);
    let first = run(&input).accepted();
    assert_eq!(first.head.method, Method::Get);
    assert_eq!(first.head.framing, Framing::None);
    assert!(first.body.is_empty(), "no framing, no body");
    assert_eq!(first.head.len as usize, input.len() - smuggled.len());
    assert_eq!(first.rest, smuggled);

    // What follows is a request in its own right, with its own head …
    let second = run(&first.rest).accepted();
    assert_eq!(second.target, "/internal");
    assert_eq!(second.fields[1], ("X-Injected".into(), b"yes".to_vec()));
    // … and is validated as one: bytes that are not a request fail on their own, and never
    // change how the first request was framed.
    let input = request(
        "GET / HTTP/1.1\nHost: example.com\n\n",
        b"hello, body\r\n\r\n",
    );
    let first = run(&input).accepted();
    assert!(first.body.is_empty());
    assert_eq!(run(&first.rest).rejected(), RequestError::InvalidMethod);

    // A GET that does declare a length has that body, and only that body.
    let input = request(
        "GET / HTTP/1.1\nHost: example.com\nContent-Length: 5\n\n",
        b"hello",
    );
    let input = [input, NEXT.to_vec()].concat();
    let first = run(&input).accepted();
    assert_eq!(first.head.framing, Framing::Length(5));
    assert_eq!(first.body, b"hello");
    assert_next_request(&first.rest);
}

/// **RUSTSEC-2021-0020** (hyper < 0.14.3): with several Transfer-Encoding fields, hyper checked
/// each field for `chunked` instead of checking the last coding, so `Transfer-Encoding:
/// chunked` followed by `Transfer-Encoding: afterlol` was read as a chunked body where a proxy
/// that honours the final coding reads to the end of the connection.
///
/// RFC 9112 §6.1: several Transfer-Encoding fields form one list; §6.3 item 4: when `chunked`
/// is not the final coding of a request, the server MUST answer 400 and close.
#[test]
fn hyper_rustsec_2021_0020_chunked_not_final_across_fields() {
    let body = b"0\r\n\r\n";
    for (case, te) in [
        (
            "advisory: chunked, then another field",
            "Transfer-Encoding: chunked\ntransfer-encoding: afterlol",
        ),
        (
            "same list in one field",
            "Transfer-Encoding: chunked, afterlol",
        ),
        (
            "known coding after chunked",
            "Transfer-Encoding: chunked\nTransfer-Encoding: gzip",
        ),
    ] {
        let input = request(
            &format!("POST / HTTP/1.1\nHost: example.com\n{te}\n\n"),
            body,
        );
        let error = run(&input).rejected();
        assert_eq!(
            (error, error.status().code()),
            (RequestError::InvalidTransferEncoding, 400),
            "{case}"
        );
    }
    // With a Content-Length as well, the pair itself is already the rejection (§6.3 item 3).
    assert_rejected(
        &request(
            "POST / HTTP/1.1\nHost: example.com\nContent-Length: 5\nTransfer-Encoding: chunked\nTransfer-Encoding: afterlol\n\n",
            body,
        ),
        RequestError::ContentLengthWithTransferEncoding,
        400,
    );
}

/// **RUSTSEC-2021-0078** (hyper < 0.14.10): hyper parsed Content-Length with `u64::from_str`,
/// which accepts a leading `+`, so `Content-Length: +3` framed a 3-byte body where a proxy that
/// ignores the malformed field (but forwards it) frames none.
///
/// RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3 item 5: an invalid Content-Length is
/// an unrecoverable framing error, answered with 400 and a closed connection.
#[test]
fn hyper_rustsec_2021_0078_content_length_with_sign() {
    for value in ["+3", "-3", "+0", " +3", "3, +3", "0x3", "3 "] {
        let input = request(
            &format!("GET / HTTP/1.1\nHost: example.com\nContent-Length: {value}\n\n"),
            b"abc",
        );
        let verdict = run(&input);
        if value == "3 " {
            // Trailing OWS is not part of the value (RFC 9112 §5.1): this one is valid.
            let a = verdict.accepted();
            assert_eq!(
                (a.head.framing, a.body.as_slice()),
                (Framing::Length(3), &b"abc"[..])
            );
            continue;
        }
        let error = verdict.rejected();
        assert_eq!(
            (error, error.status().code()),
            (RequestError::InvalidContentLength, 400),
            "Content-Length: {value:?}"
        );
    }
}

/// A Content-Length past 32 bits is never cut to its low bits: read into a 32-bit `usize`,
/// `4294967299` would be 3, and the body's remaining bytes a request of their own. It is 413
/// whatever the body limit (a `u32`), on every target: ci/cross.sh runs this on 32-bit ARM.
#[test]
fn content_length_past_32_bits_is_too_large_not_truncated() {
    let largest = Limits {
        max_body: u32::MAX,
        ..Limits::DEFAULT
    };
    for value in ["4294967296", "4294967299", "18446744073709551615"] {
        let input = request(
            &format!("POST / HTTP/1.1\nHost: example.com\nContent-Length: {value}\n\n"),
            b"abc",
        );
        assert_rejected_with(&input, &largest, RequestError::BodyTooLarge, 413);
    }
}

/// **RUSTSEC-2021-0079** (hyper < 0.14.10): chunk sizes were accumulated without overflow
/// checks, so a size of more than 64 bits wrapped (`f0000000000000003` became 3) and hyper
/// read 3 bytes where a proxy that accepts big sizes reads the rest of the connection.
///
/// RFC 9112 §7.1: recipients MUST anticipate large hexadecimal numerals and prevent integer
/// overflow. zzz compares the size with the body limit after every digit, so a size past it is
/// 413 long before 64 bits could wrap (the limit is a `u32`, whatever its value); and it accepts
/// at most 16 hex digits, so even zero-padded sizes cannot grow past a `u64` (400).
#[test]
fn hyper_rustsec_2021_0079_chunk_size_overflow() {
    let head = "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n\n";
    let largest = Limits {
        max_body: u32::MAX,
        ..Limits::DEFAULT
    };
    for size in [
        "f0000000000000003",
        "10000000000000003",
        "10000000000000000",
        "ffffffffffffffff",
        "0000000100000000",
    ] {
        let input = request(head, format!("{size}\r\nabc\r\n0\r\n\r\n").as_bytes());
        assert_rejected(&input, RequestError::BodyTooLarge, 413);
        assert_rejected_with(&input, &largest, RequestError::BodyTooLarge, 413);
    }
    // Seventeen digits are too many even when their value is small.
    for size in ["00000000000000003", "000000000000000000000000000000003"] {
        let input = request(head, format!("{size}\r\nabc\r\n0\r\n\r\n").as_bytes());
        assert_rejected_with(&input, &largest, RequestError::InvalidChunkSize, 400);
    }
    // Sixteen digits is the most there can be, and it is accepted.
    let input = request(head, b"0000000000000003\r\nabc\r\n0\r\n\r\n");
    let input = [input, NEXT.to_vec()].concat();
    let a = run(&input).accepted();
    assert_eq!(a.body, b"abc");
    assert_next_request(&a.rest);
}

// ───────────────────────────────────────────────────────────────────────── actix-http

/// **RUSTSEC-2021-0081** (actix-http < 2.2.1 / 3.0.0-beta.9): actix-http let through the
/// framing ambiguities a vulnerable front-end exploits. The fix's `hrs_*` regression tests
/// name the variants: repeated differing Content-Length (including `0` then `2`), a signed
/// Content-Length, Transfer-Encoding in HTTP/1.0 (alone or with Content-Length), Content-Length
/// with chunked in HTTP/1.1 (either order), `identity`, unknown codings before `chunked`, and
/// several Transfer-Encoding fields with a Content-Length.
///
/// RFC 9112 §6.3 items 3–5 and §6.1: conflicting or invalid Content-Length is 400; both fields
/// may be rejected (zzz does) and the connection closes; Transfer-Encoding in HTTP/1.0 means
/// faulty framing; `chunked` must be the final coding (400); codings the server does not
/// implement SHOULD get 501.
#[test]
fn actix_rustsec_2021_0081_framing_headers() {
    use RequestError::*;
    let cases: [(&str, &str, &[u8], RequestError, u16); 11] = [
        (
            "differing Content-Length",
            "GET / HTTP/1.1\nHost: example.com\nContent-Length: 4\nContent-Length: 2\n\n",
            b"abcd",
            ConflictingContentLength,
            400,
        ),
        (
            "zero, then a length",
            "GET / HTTP/1.1\nHost: example.com\nContent-Length: 0\nContent-Length: 2\n\n",
            b"ab",
            ConflictingContentLength,
            400,
        ),
        (
            "signed Content-Length",
            "GET / HTTP/1.1\nHost: example.com\nContent-Length: +3\n\n",
            b"000",
            InvalidContentLength,
            400,
        ),
        (
            "chunked in HTTP/1.0",
            "POST / HTTP/1.0\nHost: example.com\nTransfer-Encoding: chunked\n\n",
            b"3\r\naaa\r\n0\r\n",
            TransferEncodingInHttp10,
            400,
        ),
        (
            "Content-Length and chunked in HTTP/1.0",
            "GET / HTTP/1.0\nHost: example.com\nContent-Length: 3\nTransfer-Encoding: chunked\n\n",
            b"000",
            TransferEncodingInHttp10,
            400,
        ),
        (
            "Content-Length, then chunked",
            "POST / HTTP/1.1\nHost: example.com\nContent-Length: 3\nTransfer-Encoding: chunked\n\n",
            b"0\r\n\r\n",
            ContentLengthWithTransferEncoding,
            400,
        ),
        (
            "chunked, then Content-Length",
            "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\nContent-Length: 3\n\n",
            b"0\r\n\r\n",
            ContentLengthWithTransferEncoding,
            400,
        ),
        (
            "identity",
            "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: identity\n\n",
            b"0\r\n",
            InvalidTransferEncoding,
            400,
        ),
        (
            "identity with Content-Length",
            "POST / HTTP/1.1\nHost: example.com\nContent-Length: 3\nTransfer-Encoding: identity\n\n",
            b"0\r\n",
            ContentLengthWithTransferEncoding,
            400,
        ),
        (
            "unknown coding, then chunked",
            "GET / HTTP/1.1\nHost: example.com\nTransfer-Encoding: JUNK\nTransfer-Encoding: chunked\n\n",
            b"5\r\nhello\r\n0",
            UnsupportedTransferEncoding,
            501,
        ),
        (
            "identity and chunked fields with Content-Length",
            "GET / HTTP/1.1\nHost: example.com\nContent-Length: 51\nTransfer-Encoding: identity\nTransfer-Encoding: chunked\n\n",
            b"0\r\n\r\nGET /forbidden HTTP/1.1\r\nHost: example.com\r\n\r\n",
            ContentLengthWithTransferEncoding,
            400,
        ),
    ];
    for (case, head, body, expected, status) in cases {
        let error = run(&request(head, body)).rejected();
        assert_eq!((error, error.status().code()), (expected, status), "{case}");
    }
}

/// **RUSTSEC-2021-0081**, chunked-body variants (the fix's `hrs_chunk_extension_invalid` and
/// `hrs_chunk_size_overflow`): a bare LF inside a chunk extension (`2;x\nx`) ended the size
/// line for actix but not for a proxy that ends lines at CRLF; a chunk size past 64 bits wrapped.
///
/// RFC 9112 §7.1.1: chunk-ext is `;name[=value]` with token or quoted-string values — no LF;
/// §2.2: a bare LF is not a line end zzz recognises (400); §7.1: overflow must be prevented —
/// zzz stops at the body limit (413) before it could happen.
#[test]
fn actix_rustsec_2021_0081_chunked_body() {
    let head = "GET / HTTP/1.1\nHost: localhost:8080\nTransfer-Encoding: chunked\n\n";
    assert_rejected(
        &request(head, b"2;x\nx\r\n4c\r\n0\r\n"),
        RequestError::BareLf,
        400,
    );
    assert_rejected(
        &request(head, b"f0000000000000003\r\nabc\r\n0\r\n\r\n"),
        RequestError::BodyTooLarge,
        413,
    );
    // The valid form of the fix's `chunk_extension_quoted` test is accepted, extensions ignored.
    let a = run(&request(
        head,
        b"2;hello=b;one=\"1 2 3\"\r\nxx\r\n0\r\n\r\n",
    ))
    .accepted();
    assert_eq!(a.body, b"xx");
    assert!(a.rest.is_empty());
}

// ───────────────────────────────────────────────────────────────────────── tiny_http

/// **RUSTSEC-2020-0031** (tiny_http, tiny-http issue #173): tiny_http normalised
/// `Transfer-Encoding : chunked` (space before the colon) into a valid chunked field, so it
/// framed the reporter's request by chunks while a front-end that ignores the malformed field
/// framed it by its `Content-Length: 42` (CL.TE). This is the request, byte for byte
/// apart from the CRLF line ends the wire carries.
///
/// RFC 9112 §5.1: no whitespace is allowed between a field name and its colon; a server MUST
/// reject such a request with 400.
#[test]
fn tiny_http_rustsec_2020_0031_whitespace_before_colon() {
    let input = request(
        "POST /login HTTP/1.1
Host: test.local
User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.3578.98 Safari/537.36
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8
Accept-Language: en-GB,en;q=0.5
Accept-Encoding: gzip, deflate
Content-Type: application/x-www-form-urlencoded
Content-Length: 42
Origin: http://dvws.local
Connection: close
Referer: http://test.local/
Upgrade-Insecure-Requests: 1
DNT: 1
Transfer-Encoding : chunked

",
        b"19\r\nlogin=admin&password=xxxx\r\n1\r\nZ\r\nQ\r\n\r\n",
    );
    assert_rejected(&input, RequestError::WhitespaceBeforeColon, 400);
}

/// **RUSTSEC-2020-0031**, the CL.TE / TE.TE variants the advisory names: a Transfer-Encoding
/// field disguised so that one parser honours it and another ignores it, next to a
/// Content-Length. These are the obfuscations request-smuggling scanners send.
///
/// RFC 9112 §5.1 (no whitespace before the colon), §5.2 (obs-fold rejected), §2.2 (bare LF,
/// whitespace before a field line), §6.3 items 3–4 (Transfer-Encoding with Content-Length, and
/// `chunked` not final, are 400).
#[test]
fn tiny_http_rustsec_2020_0031_obfuscated_transfer_encoding() {
    use RequestError::*;
    // (field lines, verdict alone, verdict next to `Content-Length: 42`)
    let cases: [(&str, RequestError, RequestError); 9] = [
        (
            "Transfer-Encoding : chunked",
            WhitespaceBeforeColon,
            WhitespaceBeforeColon,
        ),
        (
            "Transfer-Encoding\t: chunked",
            WhitespaceBeforeColon,
            WhitespaceBeforeColon,
        ),
        (
            "Transfer-Encoding: xchunked",
            InvalidTransferEncoding,
            ContentLengthWithTransferEncoding,
        ),
        (
            "Transfer-Encoding: chunked\nTransfer-Encoding: x",
            InvalidTransferEncoding,
            ContentLengthWithTransferEncoding,
        ),
        ("X: X\\nTransfer-Encoding: chunked", BareLf, BareLf),
        (
            "X: X\n Transfer-Encoding: chunked",
            LeadingWhitespace,
            LeadingWhitespace,
        ),
        (
            "Transfer-Encoding\n : chunked",
            InvalidHeaderName,
            InvalidHeaderName,
        ),
        (
            "Transfer-Encoding: \"chunked\"",
            InvalidTransferEncoding,
            ContentLengthWithTransferEncoding,
        ),
        // HTAB is OWS (RFC 9110 §5.6.3): this one is a valid chunked field.
        (
            "Transfer-Encoding:\tchunked",
            ContentLengthWithTransferEncoding,
            ContentLengthWithTransferEncoding,
        ),
    ];
    for (te, alone_expected, with_cl_expected) in cases {
        let alone = request(
            &format!("POST / HTTP/1.1\nHost: example.com\n{te}\n\n"),
            b"0\r\n\r\n",
        );
        let with_cl = request(
            &format!("POST / HTTP/1.1\nHost: example.com\nContent-Length: 42\n{te}\n\n"),
            b"0\r\n\r\n",
        );
        let e = run(&with_cl).rejected();
        assert_eq!(
            (e, e.status().code()),
            (with_cl_expected, 400),
            "{te:?} with CL"
        );
        if alone_expected == ContentLengthWithTransferEncoding {
            // Alone, the valid spelling is an ordinary chunked request, framed once.
            let a = run(&[alone, NEXT.to_vec()].concat()).accepted();
            assert_eq!((a.head.framing, a.body.len()), (Framing::Chunked, 0));
            assert_next_request(&a.rest);
        } else {
            let e = run(&alone).rejected();
            assert_eq!(
                (e, e.status().code()),
                (alone_expected, 400),
                "{te:?} alone"
            );
        }
    }
}

// ───────────────────────────────────────────────────────────────────────── async-h1

/// The request the attacker hides inside a body.
const HIDDEN: &[u8] =
    b"GET /admin HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n";

/// **RUSTSEC-2020-0093** (async-h1 < 2.3.0): when a handler did not read a request's body and
/// the body was longer than async-h1's buffer, async-h1 parsed the next request from *inside*
/// the unread body, so a request hidden in a body (with forged `X-Forwarded-For`) was served,
/// and a long Content-Length in it could capture another user's request.
///
/// RFC 9112 §6.3 item 6: the body is exactly Content-Length octets; §9.3: a server MUST read
/// the whole body or close the connection, since otherwise the rest would be taken for the next
/// request. zzz frames the body by its length — whatever it holds and however long it is — and
/// the next request starts after it. The same holds for an unread chunked body, whose end only
/// the decoder can find.
#[test]
fn async_h1_rustsec_2020_0093_unread_body_is_never_a_request() {
    for len in [HIDDEN.len(), 4096, 8192 + 7, 70_000] {
        let mut body = HIDDEN.to_vec();
        body.resize(len, b'x');
        let head = format!("POST /upload HTTP/1.1\nHost: example.com\nContent-Length: {len}\n\n");
        let input = [request(&head, &body), NEXT.to_vec()].concat();
        let a = run_whole(&input).accepted();
        assert_eq!(a.head.framing, Framing::Length(len as u64));
        assert_eq!(a.body, body, "the body is framed whole, whatever it holds");
        assert_next_request(&a.rest);
        // The attack is real: resumed at the body, a parser would find the hidden request.
        let hidden = run(&input[a.head.len as usize..]);
        assert_eq!(hidden.accepted().target, "/admin");
    }

    // An unread chunked body: the chunks hold a request, the decoder still finds the end.
    let hidden_len = format!("{:x}", HIDDEN.len());
    let body = [
        hidden_len.as_bytes(),
        b"\r\n",
        HIDDEN,
        b"\r\n3\r\nabc\r\n0\r\n\r\n",
    ]
    .concat();
    let input = [
        request(
            "POST /upload HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n\n",
            &body,
        ),
        NEXT.to_vec(),
    ]
    .concat();
    let a = run(&input).accepted();
    assert_eq!(a.body, [HIDDEN, b"abc"].concat());
    assert_next_request(&a.rest);
}

/// [`run`] for long inputs: one piece and 1000-byte pieces instead of single bytes, which would
/// make the 70 kB body of the async-h1 test quadratic.
#[track_caller]
fn run_whole(input: &[u8]) -> Verdict {
    let whole = engine(input, &Limits::DEFAULT, input.len());
    assert_eq!(whole, engine(input, &Limits::DEFAULT, 1000));
    whole
}

// ───────────────────────────────────────────────────────────────────────── llhttp (Node.js)

/// **CVE-2021-22959** (llhttp < 2.1.4 / 6.0.6, Node.js): the parser accepted a space between a
/// field name and its colon, so `Content-Length : 5` framed a body that a front-end ignoring
/// the malformed field did not (Node.js's regression test sends exactly this).
///
/// RFC 9112 §5.1: no whitespace between field name and colon; a server MUST reject with 400.
#[test]
fn llhttp_cve_2021_22959_space_before_colon() {
    for field in [
        "Content-Length : 5",
        "Content-Length\t: 5",
        "Transfer-Encoding : chunked",
    ] {
        let input = request(
            &format!("GET / HTTP/1.1\nHost: localhost:5000\n{field}\n\n"),
            b"hello",
        );
        assert_rejected(&input, RequestError::WhitespaceBeforeColon, 400);
    }
}

/// **CVE-2022-32213** (llhttp, Node.js < 14.20.1 / 16.17.1 / 18.9.1): after matching
/// `chunked`, llhttp looked for CRLF and otherwise tried to match `chunked` again without
/// requiring a comma, so `Transfer-Encoding: chunkedchunked` (HackerOne #1524555) was chunked
/// to Node.js and an unknown coding to a proxy, which framed the body differently.
///
/// RFC 9112 §6.3 item 4: a request whose final transfer coding is not `chunked` MUST get 400;
/// `chunkedchunked` is one unknown coding (RFC 9112 §7: coding names are tokens).
#[test]
fn llhttp_cve_2022_32213_malformed_chunked_token() {
    let body = b"26\r\nGET / HTTP/1.1\r\nContent-Length: 30\r\n\r\n\r\n0\r\n\r\n\r\nGET /admin HTTP/1.1\r\n";
    // The report's bytes have no Host; that alone is a 400 (RFC 9112 §3.2) …
    assert_rejected(
        &request(
            "GET / HTTP/1.1\nTransfer-Encoding: chunkedchunked\n\n",
            body,
        ),
        RequestError::MissingHost,
        400,
    );
    // … and with a Host, the coding itself is rejected, as are its relatives.
    for te in [
        "chunkedchunked",
        "chunked-false",
        "chunked chunked",
        "chunked;",
    ] {
        let input = request(
            &format!("GET / HTTP/1.1\nHost: example.com\nTransfer-Encoding: {te}\n\n"),
            body,
        );
        assert_rejected(&input, RequestError::InvalidTransferEncoding, 400);
    }
}

/// **CVE-2022-32214** (llhttp, Node.js): llhttp did not require CRLF to end a field line, so in
/// `Dummy: x\nContent-Length: 23` a CRLF-strict proxy saw one field (and forwarded the next
/// request inside it) while Node.js saw a Content-Length and swallowed 23 bytes of the next
/// request. These are llhttp's own regression inputs ("Missing CR between headers", "Headers
/// separated by LF").
///
/// RFC 9112 §2.2: the line terminator is CRLF; a recipient MAY accept a bare LF, and zzz
/// chooses not to, because that is exactly where two parsers disagree: 400.
#[test]
fn llhttp_cve_2022_32214_bare_lf_between_fields() {
    let cases: [(&str, &[u8]); 4] = [
        (
            "GET / HTTP/1.1\nHost: localhost\nDummy: x\\nContent-Length: 23\n\n",
            b"GET / HTTP/1.1\r\nDummy: GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ),
        (
            "POST / HTTP/1.1\nHost: localhost:5000\nx:x\\nTransfer-Encoding: chunked\n\n",
            b"1\r\nA\r\n0\r\n\r\n",
        ),
        (
            "POST / HTTP/1.1\nHost: localhost:5000\nx:\\nTransfer-Encoding: chunked\n\n",
            b"1\r\nA\r\n0\r\n\r\n",
        ),
        ("GET / HTTP/1.1\\nHost: localhost\n\n", b""),
    ];
    for (head, body) in cases {
        assert_rejected(&request(head, body), RequestError::BareLf, 400);
    }
    // A head ended by a bare LF is rejected too.
    assert_rejected(
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\nGET /admin HTTP/1.1\r\n\r\n",
        RequestError::BareLf,
        400,
    );
}

/// **CVE-2022-32215** (llhttp, Node.js): llhttp took `chunked` followed by CRLF as the final
/// coding even when the field continued on an obs-fold line, so `Transfer-Encoding:
/// chunked\r\n , identity` was chunked to Node.js and `identity` to a proxy that unfolds.
///
/// RFC 9112 §5.2: a server MUST either reject obs-fold with 400 or replace it with SP before
/// interpreting the value; zzz rejects.
#[test]
fn llhttp_cve_2022_32215_folded_transfer_encoding() {
    for fold in [" , identity", "\t, identity", " identity"] {
        let input = request(
            &format!("GET / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n{fold}\n\n"),
            b"0\r\n\r\n",
        );
        assert_rejected(&input, RequestError::LeadingWhitespace, 400);
    }
}

/// **CVE-2023-30589** (llhttp, Node.js 16/18/20): llhttp accepted a CR not followed by LF as
/// the end of a field line, so `x:\rTransfer-Encoding: chunked` was two fields to Node.js and
/// one (named `x`) to a proxy. These are llhttp's regression inputs ("Empty headers separated
/// by CR", "Headers separated by CR", "Headers separated by dummy characters").
///
/// RFC 9112 §2.2: a bare CR is invalid; a recipient MUST treat it as invalid or replace it with
/// SP; zzz rejects with 400.
#[test]
fn llhttp_cve_2023_30589_bare_cr_between_fields() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"POST / HTTP/1.1\r\nConnection: Close\r\nHost: localhost:5000\r\nx:\rTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n",
            "empty value, then CR",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: localhost\r\nFoo: 1\rBar: 2\r\n\r\n",
            "value, then CR",
        ),
        (
            b"GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\nHost: a\r\n\r\n",
            "CR then junk where the head should end",
        ),
        (
            b"GET / HTTP/1.1\rHost: a\r\n\r\n",
            "CR ending the request line",
        ),
    ];
    for (input, case) in cases {
        let e = run(input).rejected();
        assert_eq!(
            (e, e.status().code()),
            (RequestError::BareCr, 400),
            "{case}"
        );
    }
}

/// **CVE-2024-27982** (llhttp, Node.js 18/20/21): a field line starting with a space was folded
/// into the previous field, so `Foo: bar\r\n Content-Length: 38` hid a Content-Length from
/// Node.js that a proxy honoured, and the 38 bytes after the head (a whole `GET /bye` request)
/// were a body to one and a request to the other. llhttp's regression input ("Spaces before
/// headers"), plus whitespace before the first field line.
///
/// RFC 9112 §5.2: obs-fold MUST be rejected (or unfolded) — zzz rejects; §2.2: whitespace
/// between the start line and the first field MUST be rejected (or the line ignored).
#[test]
fn llhttp_cve_2024_27982_space_before_content_length() {
    let bye = b"GET /bye HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_rejected(
        &request(
            "POST /hello HTTP/1.1\nHost: localhost\nFoo: bar\n Content-Length: 38\n\n",
            bye,
        ),
        RequestError::LeadingWhitespace,
        400,
    );
    assert_rejected(
        &request(
            "POST /hello HTTP/1.1\n Content-Length: 38\nHost: localhost\n\n",
            bye,
        ),
        RequestError::LeadingWhitespace,
        400,
    );
}

/// **CVE-2024-22019** (Node.js 18/20/21): chunk extensions were read without limit, so a client
/// could make the server read unbounded bytes on one connection (a size line that never ends,
/// or a tiny chunk with a huge extension, over and over), past body limits and timeouts.
///
/// RFC 9112 §7.1.1: a server ought to limit the total length of chunk extensions in a request
/// and answer a 4xx when it is exceeded. zzz counts every extension byte of a body against
/// `Limits::max_chunk_extensions` and answers 413 — as soon as the limit is passed, without
/// waiting for the line to end.
#[test]
fn node_cve_2024_22019_unbounded_chunk_extensions() {
    let head = "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n\n";
    let limit = Limits::DEFAULT.max_chunk_extensions as usize;

    // One size line whose extension never ends: rejected while still incomplete.
    let mut line = b"1;a=".to_vec();
    line.resize(limit + 16, b'x');
    assert_rejected(
        &request(head, &line),
        RequestError::ChunkExtensionsTooLarge,
        413,
    );

    // Many one-byte chunks, each with a modest extension: the sum is what is limited.
    let per_chunk = b"1;ext=0123456789abcdef\r\nx\r\n";
    let ext_len = b";ext=0123456789abcdef".len();
    let fits = limit / ext_len;
    let body = [per_chunk.repeat(fits), b"0\r\n\r\n".to_vec()].concat();
    let a = run(&request(head, &body)).accepted();
    assert_eq!(a.body, b"x".repeat(fits));
    let body = [per_chunk.repeat(fits + 1), b"0\r\n\r\n".to_vec()].concat();
    assert_rejected(
        &request(head, &body),
        RequestError::ChunkExtensionsTooLarge,
        413,
    );

    // Exactly at the limit is accepted; one byte more is not.
    for (ext_len, ok) in [(limit, true), (limit + 1, false)] {
        let mut body = b"1;".to_vec();
        body.resize(ext_len + 1, b'e');
        body.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        let verdict = run(&request(head, &body));
        if ok {
            assert_eq!(verdict.accepted().body, b"x");
        } else {
            assert_eq!(verdict.rejected(), RequestError::ChunkExtensionsTooLarge);
        }
    }
}

// ───────────────────────────────────────────────────────────────────────── Puma

/// **CVE-2020-11076** (Puma < 3.12.5 / 4.3.4): "by using an invalid transfer-encoding header, an
/// attacker could smuggle an HTTP response". Puma compared the whole field value with
/// `chunked`, so any other spelling of a chunked request — a coding list, an unknown coding —
/// fell back to the Content-Length next to it, while a proxy framed the body by chunks.
///
/// RFC 9112 §6.3 item 3: Transfer-Encoding with Content-Length is rejected (zzz's choice of the
/// two the RFC allows), and the connection closed; item 4: `chunked` not final is 400; §6.1:
/// unknown codings before `chunked` are 501.
#[test]
fn puma_cve_2020_11076_invalid_transfer_encoding() {
    use RequestError::*;
    let body = b"5\r\nhello\r\n0\r\n\r\n";
    for te in [
        "gzip, chunked",
        "chunked, gzip",
        "Chunked",
        "xchunked",
        "chunked\nTransfer-Encoding: chunked",
        "",
    ] {
        let input = request(
            &format!(
                "POST / HTTP/1.1\nHost: example.com\nContent-Length: 5\nTransfer-Encoding: {te}\n\n"
            ),
            body,
        );
        let e = run(&input).rejected();
        assert_eq!(
            (e, e.status().code()),
            (ContentLengthWithTransferEncoding, 400),
            "{te:?} with Content-Length"
        );
    }
    // Alone, each gets the verdict of its own coding list.
    for (te, expected, status) in [
        ("gzip, chunked", UnsupportedTransferEncoding, 501),
        ("chunked, gzip", InvalidTransferEncoding, 400),
        ("xchunked", InvalidTransferEncoding, 400),
        (
            "chunked\nTransfer-Encoding: chunked",
            InvalidTransferEncoding,
            400,
        ),
        ("", InvalidTransferEncoding, 400),
    ] {
        let input = request(
            &format!("POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: {te}\n\n"),
            body,
        );
        assert_rejected(&input, expected, status);
    }
    // Case does not matter for a coding name (RFC 9112 §7): `Chunked` is chunked.
    let input = request(
        "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: Chunked\n\n",
        body,
    );
    let a = run(&[input, NEXT.to_vec()].concat()).accepted();
    assert_eq!(a.body, b"hello");
    assert_next_request(&a.rest);
}

/// **CVE-2020-11077** (Puma < 3.12.6 / 4.3.5): with a pipelined request after a chunked body,
/// Puma and a proxy disagreed on where the first request ended, so Puma answered a request the
/// proxy never sent and its response went to another client. The fix taught Puma's decoder to
/// wait for the CRLF after the last chunk and keep the bytes after it as the next request; the
/// regression test sends two chunked requests back to back with that CRLF split across reads.
///
/// RFC 9112 §7.1: a chunked body ends with the last chunk, the trailer section and its CRLF —
/// not before; §9.3.2: pipelined requests follow one another on the connection. zzz ends the
/// body exactly there however the bytes are split (the harness feeds them one at a time as
/// well), and hands the rest over untouched.
#[test]
fn puma_cve_2020_11077_pipelined_after_chunked_body() {
    let first = request(
        "GET / HTTP/1.1\nConnection: Keep-Alive\nHost: example.com\nTransfer-Encoding: chunked\n\n",
        b"1\r\nh\r\n4\r\nello\r\n0\r\n\r\n",
    );
    let second = crlf(
        "GET / HTTP/1.1\nConnection: Keep-Alive\nHost: example.com\nTransfer-Encoding: chunked\n\n",
    );
    let second = [second, b"4\r\ngood\r\n3\r\nbye\r\n0\r\n\r\n".to_vec()].concat();
    let input = [first.clone(), second.clone()].concat();

    // Every split of the stream into two reads — in particular inside the final CRLF.
    for cut in 0..=input.len() {
        let mut fields = [HeaderSpan::default(); 16];
        let mut parser = HeadParser::new();
        let limits = Limits::DEFAULT;
        let head = match parser.parse(&input[..cut], &mut fields, &limits) {
            Ok(Parsed::Partial) => match parser.parse(&input, &mut fields, &limits) {
                Ok(Parsed::Complete(h)) => *h,
                other => panic!("cut {cut}: {other:?}"),
            },
            Ok(Parsed::Complete(h)) => *h,
            Err(e) => panic!("cut {cut}: {e:?}"),
        };
        let mut buf = input[head.len as usize..].to_vec();
        let cut_in_body = cut.saturating_sub(head.len as usize).min(buf.len());
        let mut decoder = ChunkedDecoder::new();
        let (mut read, mut written) = (0, 0);
        let done = decoder
            .decode_in_place(&mut buf[..cut_in_body], &mut read, &mut written, &limits)
            .unwrap();
        let done = done
            || decoder
                .decode_in_place(&mut buf, &mut read, &mut written, &limits)
                .unwrap();
        assert!(done, "cut {cut}");
        assert_eq!(&buf[..written], b"hello", "cut {cut}");
        assert_eq!(&buf[read..], second.as_slice(), "cut {cut}");
    }

    let a = run(&input).accepted();
    assert_eq!(a.body, b"hello");
    let b = run(&a.rest).accepted();
    assert_eq!(b.body, b"goodbye");
    assert!(b.rest.is_empty());

    // The other half of the disagreement: a proxy framing by Content-Length while the server
    // frames by chunks. zzz refuses the pair (RFC 9112 §6.3 item 3).
    assert_rejected(
        &request(
            "GET / HTTP/1.1\nHost: example.com\nContent-Length: 200\nTransfer-Encoding: chunked\n\n",
            b"1\r\nh\r\n4\r\nello\r\n0\r\n\r\n",
        ),
        RequestError::ContentLengthWithTransferEncoding,
        400,
    );
}

/// **CVE-2021-41136** (Puma < 4.3.9 / 5.5.1): Puma accepted a bare LF as a line end, so behind
/// a proxy that forwards LF inside what it considers one line, Puma saw extra lines (a field, a
/// head end) that the proxy did not, and the two split the stream differently.
///
/// RFC 9112 §2.2: lines end with CRLF; a recipient MAY accept a bare LF — zzz does not, in the
/// head (400) nor in the chunked framing (§7.1: chunk-size and chunk-data lines end in CRLF).
#[test]
fn puma_cve_2021_41136_bare_lf_line_ends() {
    use RequestError::*;
    let heads: [(&[u8], RequestError); 4] = [
        (b"GET / HTTP/1.1\nHost: example.com\r\n\r\n", BareLf),
        (
            b"GET / HTTP/1.1\r\nHost: example.com\nContent-Length: 5\r\n\r\nhello",
            BareLf,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: example.com\r\n\nGET /smuggled HTTP/1.1\r\n\r\n",
            BareLf,
        ),
        (b"GET / HTTP/1.1\n\nHost: example.com\r\n\r\n", BareLf),
    ];
    for (input, expected) in heads {
        assert_rejected(input, expected, 400);
    }
    let head = "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n\n";
    let bodies: [(&[u8], RequestError); 5] = [
        (b"5\nhello\r\n0\r\n\r\n", BareLf),
        (b"5;ext\nhello\r\n0\r\n\r\n", BareLf),
        (b"5\r\nhello\n0\r\n\r\n", InvalidChunkData),
        (b"5\r\nhello\r\n0\r\n\n", BareLf),
        (b"5\r\nhello\r\n0\r\nX: y\n\r\n", BareLf),
    ];
    for (body, expected) in bodies {
        assert_rejected(&request(head, body), expected, 400);
    }
}

/// **CVE-2022-24790** (Puma < 4.3.12 / 5.6.4): Puma parsed lengths with Ruby's `to_i` (`abc` is
/// 0, `99 balloons` is 99, `0xA` is 10 as hex), took a request as chunked if *any* coding was
/// `chunked` (`chunked, identity`), ignored unknown codings, and did not check that chunk data
/// ends in CRLF. Puma's fix added `test_request_invalid.rb`; these are its inputs.
///
/// RFC 9110 §8.6 and RFC 9112 §6.3 item 5 (Content-Length = 1*DIGIT, else 400); §6.3 item 4
/// (`chunked` must be final, else 400); §6.1 (unknown codings: 501); §7.1 (chunk-size =
/// 1*HEXDIG; chunk-data is exactly chunk-size octets followed by CRLF).
#[test]
fn puma_cve_2022_24790_lenient_numbers_and_codings() {
    use RequestError::*;
    let get = "GET / HTTP/1.1\nHost: example.com\nConnection: close\n";
    for value in ["5.01", "+5", "5 test", "abc", "99 balloons", "0xA", "5;"] {
        let input = request(
            &format!("{get}Content-Length: {value}\n\n"),
            b"Hello\r\n\r\n",
        );
        assert_rejected(&input, InvalidContentLength, 400);
    }
    let chunked = b"1\r\nH\r\n4\r\nello\r\n5\r\nWorld\r\n0\r\n\r\n";
    for (te, expected, status) in [
        (
            "Transfer-Encoding: chunked\nTransfer-Encoding: gzip",
            InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: chunked\nTransfer-Encoding: gzip\nTransfer-Encoding: chunked",
            InvalidTransferEncoding,
            400,
        ),
        ("Transfer-Encoding: xchunked", InvalidTransferEncoding, 400),
        (
            "Transfer-Encoding: x_gzip\nTransfer-Encoding: gzip\nTransfer-Encoding: chunked",
            UnsupportedTransferEncoding,
            501,
        ),
        ("Transfer-Encoding: gzip", InvalidTransferEncoding, 400),
        (
            "Transfer-Encoding: chunked, identity",
            InvalidTransferEncoding,
            400,
        ),
    ] {
        let input = request(&format!("{get}{te}\n\n"), chunked);
        assert_rejected(&input, expected, status);
    }
    let te = format!("{get}Transfer-Encoding: chunked\n\n");
    let bodies: [(&[u8], RequestError); 6] = [
        (b"1\r\nh\r\n5.01\r\nHello\r\n0\r\n\r\n", InvalidChunkSize),
        (b"1\r\nh\r\n+5\r\nHello\r\n0\r\n\r\n", InvalidChunkSize),
        (b"1\r\nh\r\n5 bad\r\nHello\r\n0\r\n\r\n", InvalidChunkSize),
        (
            b"1\r\nh\r\n0xA\r\nHelloHello\r\n0\r\n\r\n",
            InvalidChunkSize,
        ),
        (b"5\r\nHello\r\n4\r\nWorld\r\n0\r\n\r\n", InvalidChunkData),
        (b"5\r\nHello\r\n6\r\nWorld\r\n0\r\n\r\n", InvalidChunkData),
    ];
    for (body, expected) in bodies {
        assert_rejected(&request(&te, body), expected, 400);
    }
    // Identical repeated Content-Length values are one length (RFC 9110 §8.6 allows a recipient
    // to accept them; Puma now rejects them): framed once, the next request intact.
    let input = request(
        &format!("{get}Content-Length: 5\nContent-Length: 5\n\n"),
        b"Hello",
    );
    let a = run(&[input, NEXT.to_vec()].concat()).accepted();
    assert_eq!(
        (a.head.framing, a.body.as_slice()),
        (Framing::Length(5), &b"Hello"[..])
    );
    assert_next_request(&a.rest);
}

/// **CVE-2023-40175** (Puma < 5.6.7 / 6.3.1): after the last chunk Puma skipped two bytes and
/// took the rest as the next request, so trailer fields (`0\r\nX: y\r\n\r\n`) became the start
/// of a request; and a blank `Content-Length:` was read as 0.
///
/// RFC 9112 §7.1.2: a trailer section of field lines, ended by an empty line, follows the last
/// chunk and is part of the body's framing; RFC 9110 §8.6: an empty Content-Length is not
/// 1*DIGIT (RFC 9112 §6.3 item 5: 400).
#[test]
fn puma_cve_2023_40175_trailers_and_blank_content_length() {
    let head = "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n\n";
    // Trailer fields, including one that looks like a request line's target, are consumed.
    for trailers in [
        &b"X-Trailer: GET /admin HTTP/1.1\r\n"[..],
        b"X-A: 1\r\nX-B: 2\r\n",
        b"",
    ] {
        let body = [b"5\r\nhello\r\n0\r\n", trailers, b"\r\n"].concat();
        let a = run(&[request(head, &body), NEXT.to_vec()].concat()).accepted();
        assert_eq!(a.body, b"hello");
        assert_next_request(&a.rest);
    }
    // A request line where trailers belong is not a trailer field, nor the next request.
    assert_rejected(
        &request(
            head,
            b"5\r\nhello\r\n0\r\nGET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n",
        ),
        RequestError::InvalidTrailer,
        400,
    );
    for cl in [
        "Content-Length:",
        "Content-Length:   ",
        "Content-Length: 0\nContent-Length:",
        "Content-Length:\nContent-Length: 5",
    ] {
        let input = request(
            &format!("POST / HTTP/1.1\nHost: example.com\n{cl}\n\n"),
            b"hello",
        );
        assert_rejected(&input, RequestError::InvalidContentLength, 400);
    }
}

/// **CVE-2024-21647** (Puma < 5.6.8 / 6.4.2): Puma read chunk extensions without limit, so one
/// connection could make it read unbounded bytes. Puma's regression tests send a size line
/// with an extension over its limit (`1;t=xxx…`), and `1;` followed by 10 KiB of `*` in
/// 1 KiB pieces.
///
/// RFC 9112 §7.1.1: limit chunk extensions and answer a 4xx past the limit; zzz answers 413
/// (`Limits::max_chunk_extensions`, 4 KiB by default), counting across the whole body.
#[test]
fn puma_cve_2024_21647_chunk_extension_limit() {
    let head =
        "GET / HTTP/1.1\nConnection: close\nHost: example.com\nTransfer-Encoding: chunked\n\n";
    let limit = Limits::DEFAULT.max_chunk_extensions as usize;
    let mut body = b"1;t=".to_vec();
    body.resize(4 + limit + 2, b'x');
    body.extend_from_slice(b"\r\n1\r\nh\r\n4\r\nello\r\n0\r\n\r\n");
    assert_rejected(
        &request(head, &body),
        RequestError::ChunkExtensionsTooLarge,
        413,
    );
    let body = [
        &b"1;"[..],
        &b"*".repeat(10 * 1024),
        b"\r\nh\r\n4\r\nello\r\n0\r\n\r\n",
    ]
    .concat();
    let input = request(head, &body);
    let e = run_whole(&input).rejected();
    assert_eq!(
        (e, e.status().code()),
        (RequestError::ChunkExtensionsTooLarge, 413)
    );
    // A smaller limit is honoured the same way.
    let tight = Limits {
        max_chunk_extensions: 16,
        ..Limits::DEFAULT
    };
    assert_rejected_with(
        &request(head, b"1;t=0123456789abcd\r\nh\r\n0\r\n\r\n"),
        &tight,
        RequestError::ChunkExtensionsTooLarge,
        413,
    );
    let a = run_with(
        &request(head, b"1;t=0123456789ab\r\nh\r\n0\r\n\r\n"),
        &tight,
    )
    .accepted();
    assert_eq!(a.body, b"h");
}

// ───────────────────────────────────────────────────────────────────────── RFC 9112 gaps

/// **Whitespace after a chunk size.** `5 \r\n` is not in RFC 9112 §7.1's grammar, yet parsers
/// long disagreed on it: some skip the spaces, some stop at them and fail, and some read on —
/// Pekko HTTP took `5 0` for `0x50` (apache/pekko-http#1257) where a proxy that stops at the
/// space reads 5, a smuggling primitive. llhttp refuses spaces after the size since version 9
/// (nodejs/llhttp#245 made accepting them a lenient flag).
///
/// RFC 9112 §7.1: `chunk = chunk-size [ chunk-ext ] CRLF`, and whitespace belongs only to the
/// extension, as BWS around its `;` and `=` (§7.1.1), which RFC 9110 §5.6.3 says a recipient
/// MUST parse. zzz rejects whitespace that no `;` follows with 400 and closes; `5 ;ext` is
/// framed as 5 bytes.
#[test]
fn whitespace_after_chunk_size() {
    let head = "POST / HTTP/1.1\nHost: example.com\nTransfer-Encoding: chunked\n\n";
    for body in [
        &b"5 \r\nhello\r\n0\r\n\r\n"[..],
        b"5\t\r\nhello\r\n0\r\n\r\n",
        b"5 0\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0 \r\n\r\n",
        b"1 \r\nh\r\n4\r\nello\r\n0\r\n\r\n",
    ] {
        assert_rejected(&request(head, body), RequestError::InvalidChunkSize, 400);
    }
    // After an extension, trailing whitespace is no better.
    assert_rejected(
        &request(head, b"5;a=b \r\nhello\r\n0\r\n\r\n"),
        RequestError::InvalidChunkExtension,
        400,
    );
    for body in [
        &b"5 ;a=b\r\nhello\r\n0\r\n\r\n"[..],
        b"5\t; a = b\r\nhello\r\n0 ;c\r\n\r\n",
    ] {
        let a = run(&[request(head, body), NEXT.to_vec()].concat()).accepted();
        assert_eq!(a.body, b"hello");
        assert_next_request(&a.rest);
    }
}

/// **Higher minor versions.** RFC 9110 §2.5: a recipient SHOULD process a message of a higher
/// minor version "as if it were in the highest minor version within that major version to
/// which the recipient is conformant"; only another major version is 505 (RFC 9110 §15.6.6).
/// An `HTTP/1.2` request is framed exactly as HTTP/1.1 frames it: Host is required (RFC 9112
/// §3.2), Transfer-Encoding frames the body (where HTTP/1.0 would make it faulty, RFC 9112
/// §6.1), the connection persists and the next request is left intact.
#[test]
fn higher_minor_version_is_framed_as_http11() {
    for minor in ["2", "9"] {
        let input = [
            request(
                &format!(
                    "POST / HTTP/1.{minor}\nHost: example.com\nTransfer-Encoding: chunked\n\n"
                ),
                b"5\r\nhello\r\n0\r\n\r\n",
            ),
            NEXT.to_vec(),
        ]
        .concat();
        let a = run(&input).accepted();
        assert_eq!(
            (a.head.version, a.head.framing, a.head.keep_alive),
            (Version::Http11, Framing::Chunked, true)
        );
        assert_eq!(a.body, b"hello");
        assert_next_request(&a.rest);
        assert_rejected(
            &crlf(&format!("GET / HTTP/1.{minor}\n\n")),
            RequestError::MissingHost,
            400,
        );
    }
    for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.1"] {
        assert_rejected(
            &crlf(&format!("GET / {version}\nHost: example.com\n\n")),
            RequestError::UnsupportedVersion,
            505,
        );
    }
}

/// **An empty Host.** RFC 9110 §7.2: a client sends an empty Host only when the target URI has
/// no authority; for an origin-form target the authority is the Host value (RFC 9112 §3.3), and
/// an `http` URI with an empty host is invalid (RFC 9110 §4.2.1). A server that fills in a
/// default instead would route the request by a host the client never named: 400, and close.
/// An absolute-form target carries its own authority and the server ignores Host (RFC 9112
/// §3.2.2): accepted, and framed as usual.
#[test]
fn empty_host() {
    for head in [
        "GET / HTTP/1.1\nHost:\n\n",
        "GET / HTTP/1.1\nHost: \n\n",
        "POST / HTTP/1.1\nHost:\nContent-Length: 5\n\n",
        "OPTIONS * HTTP/1.1\nHost:\n\n",
    ] {
        assert_rejected(&request(head, b"hello"), RequestError::EmptyHost, 400);
    }
    let input = [
        request(
            "POST http://example.com/a HTTP/1.1\nHost:\nContent-Length: 5\n\n",
            b"hello",
        ),
        NEXT.to_vec(),
    ]
    .concat();
    let a = run(&input).accepted();
    assert_eq!(
        (a.target.as_str(), a.body.as_slice()),
        ("http://example.com/a", &b"hello"[..])
    );
    assert_next_request(&a.rest);
}

// ───────────────────────────────────────────────────────────────────────── the harness itself

/// The harness must be able to fail: a well-formed pipelined pair is accepted and split where
/// it should be, in HTTP/1.0 as in 1.1.
#[test]
fn harness_frames_valid_pipelines() {
    let input = [
        request("POST /a HTTP/1.0\nContent-Length: 3\n\n", b"abc"),
        NEXT.to_vec(),
    ]
    .concat();
    let a = run(&input).accepted();
    assert_eq!(a.head.version, Version::Http10);
    assert_eq!(a.body, b"abc");
    assert_next_request(&a.rest);
    assert_eq!(
        run(&input[..input.len() - NEXT.len() - 1]),
        Verdict::Incomplete
    );
}
