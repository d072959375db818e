//! Unit tests of the head parser, each citing the clause it checks.

use super::*;
use std::string::String;
use std::vec::Vec;

use crate::http::Request;
use crate::http::request::{Framing, TargetForm, Version};

pub(crate) const BROWSER_REQUEST: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n\r\n";

struct Parsed1 {
    head: RequestHead,
    fields: Vec<(String, String)>,
    target: String,
    path: String,
    query: Option<String>,
}

fn parse_with(input: &[u8], limits: &Limits) -> Result<Parsed1, RequestError> {
    let mut fields = [HeaderSpan::default(); 128];
    let mut parser = HeadParser::new();
    match parser.parse(input, &mut fields, limits)? {
        Parsed::Partial => panic!("partial: {:?}", String::from_utf8_lossy(input)),
        Parsed::Complete(head) => {
            let head = *head;
            let req = Request::new(&head, input, &fields, &[]);
            Ok(Parsed1 {
                fields: req
                    .headers()
                    .map(|(n, v)| (n.into(), String::from_utf8_lossy(v).into()))
                    .collect(),
                target: req.target().into(),
                path: req.path().into(),
                query: req.query().map(Into::into),
                head,
            })
        }
    }
}

fn parse(input: &[u8]) -> Result<Parsed1, RequestError> {
    parse_with(input, &Limits::DEFAULT)
}

fn err(input: &[u8]) -> RequestError {
    match parse(input) {
        Ok(_) => panic!("accepted: {:?}", String::from_utf8_lossy(input)),
        Err(e) => e,
    }
}

fn status(input: &[u8]) -> u16 {
    err(input).status().code()
}

fn is_partial(input: &[u8]) -> bool {
    let mut fields = [HeaderSpan::default(); 16];
    matches!(
        HeadParser::new().parse(input, &mut fields, &Limits::DEFAULT),
        Ok(Parsed::Partial)
    )
}

#[test]
fn browser_request() {
    let p = parse(BROWSER_REQUEST).unwrap();
    assert_eq!(p.head.method, Method::Get);
    assert_eq!(
        p.target,
        "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg"
    );
    assert_eq!(p.head.version, Version::Http11);
    assert_eq!(p.fields.len(), 9);
    assert_eq!(p.fields[0], ("Host".into(), "www.kittyhell.com".into()));
    assert_eq!(p.head.len as usize, BROWSER_REQUEST.len());
    assert!(p.head.keep_alive);
    assert_eq!(p.head.framing, Framing::None);
}

/// RFC 9112 §2.2 / §3: a head arriving in any two pieces parses as in one.
#[test]
fn every_split_point() {
    let limits = Limits::DEFAULT;
    let whole = parse(BROWSER_REQUEST).unwrap().head;
    for split in 0..BROWSER_REQUEST.len() {
        let mut fields = [HeaderSpan::default(); 16];
        let mut parser = HeadParser::new();
        assert_eq!(
            parser.parse(&BROWSER_REQUEST[..split], &mut fields, &limits),
            Ok(Parsed::Partial)
        );
        assert_eq!(
            parser.parse(BROWSER_REQUEST, &mut fields, &limits),
            Ok(Parsed::Complete(&whole))
        );
    }
}

/// The parser keeps the head it completed until it is reset, for the caller to read in
/// place; a reset parser parses the next request as a new one (RFC 9112 §9.3: requests on one
/// connection are independent).
#[test]
fn the_completed_head_stays_until_reset() {
    let limits = Limits::DEFAULT;
    let input =
        b"POST /a?x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.0\r\n\r\n";
    let mut fields = [HeaderSpan::default(); 16];
    let mut parser = HeadParser::new();
    let first = match parser.parse(input, &mut fields, &limits) {
        Ok(Parsed::Complete(head)) => *head,
        other => panic!("not complete: {other:?}"),
    };
    assert_eq!(parser.head(), &first);
    assert_eq!(
        (first.method, first.framing, first.query.is_some()),
        (Method::Post, Framing::Length(2), true)
    );
    parser.reset();
    let next = &input[first.len as usize + 2..];
    let second = match parser.parse(next, &mut fields, &limits) {
        Ok(Parsed::Complete(head)) => *head,
        other => panic!("not complete: {other:?}"),
    };
    assert_eq!(parser.head(), &second);
    assert_eq!(
        (second.method, second.framing, second.query, second.host),
        (Method::Get, Framing::None, None, None),
        "nothing of the first request's head is left"
    );
    assert_eq!(second.version, Version::Http10);
}

/// A GET followed by more bytes: the head ends at its empty line; what follows is not a body
/// (RFC 9112 §6.3 item 7: no framing means no body).
#[test]
fn trailing_bytes_are_the_next_request() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n";
    let p = parse(input).unwrap();
    assert_eq!(p.head.len, 27);
    assert_eq!(p.head.framing, Framing::None);
}

/// RFC 9112 §2.2: "SHOULD ignore at least one empty line (CRLF) received prior to the
/// request-line".
#[test]
fn leading_empty_lines_are_ignored() {
    let p = parse(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    assert_eq!(p.target, "/");
    assert_eq!(p.head.len, 31);
    assert_eq!(
        err(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        RequestError::BareLf
    );
}

/// RFC 9112 §3.1: method = token; RFC 9110 §9.1: case-sensitive, extension methods allowed.
#[test]
fn methods() {
    for (text, m) in [
        ("GET", Method::Get),
        ("HEAD", Method::Head),
        ("POST", Method::Post),
        ("PUT", Method::Put),
        ("DELETE", Method::Delete),
        ("OPTIONS", Method::Options),
        ("TRACE", Method::Trace),
        ("PATCH", Method::Patch),
        ("PROPFIND", Method::Extension),
        ("get", Method::Extension),
        ("M-SEARCH", Method::Extension),
    ] {
        let req = std::format!("{text} / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(parse(req.as_bytes()).unwrap().head.method, m, "{text}");
    }
    assert_eq!(
        err(b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        RequestError::InvalidMethod
    );
    assert_eq!(
        err(b" GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        RequestError::InvalidMethod
    );
    assert_eq!(
        err(b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        RequestError::InvalidMethod
    );
}

/// RFC 9112 §3: exactly one SP between the three parts of the request line.
#[test]
fn request_line_whitespace() {
    assert_eq!(status(b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_eq!(status(b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
    assert_eq!(status(b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_eq!(
        status(b"GET /\r\nHost: a\r\n\r\n"),
        400,
        "HTTP/0.9 style request line"
    );
}

/// RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ].
#[test]
fn origin_form() {
    let p = parse(b"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    assert_eq!(p.head.target_form, TargetForm::Origin);
    assert_eq!(p.path, "/a/b");
    assert_eq!(p.query.as_deref(), Some("x=1&y=2"));
    let p = parse(b"GET /a? HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    assert_eq!(p.query.as_deref(), Some(""));
}

/// RFC 9112 §3.2.2: absolute-form; the path of `http://h` is `/`.
#[test]
fn absolute_form() {
    let p = parse(b"GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n").unwrap();
    assert_eq!(p.head.target_form, TargetForm::Absolute);
    assert_eq!(p.path, "/a");
    assert_eq!(p.query.as_deref(), Some("b"));
    let p = parse(b"GET HTTPS://example.com:8443 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(p.path, "/");
    assert_eq!(
        status(b"GET ftp://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
    assert_eq!(
        status(b"GET http:/example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
    assert_eq!(
        status(b"GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n"),
        400,
        "empty authority"
    );
    // RFC 9110 §4.2.4: userinfo is an error.
    assert_eq!(
        status(b"GET http://user@example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
}

/// RFC 9112 §3.2.3: authority-form is only for CONNECT, and CONNECT only takes it.
#[test]
fn authority_form() {
    let p = parse(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").unwrap();
    assert_eq!(p.head.target_form, TargetForm::Authority);
    assert_eq!(p.target, "example.com:443");
    let p = parse(b"CONNECT [::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(p.head.target_form, TargetForm::Authority);
    assert_eq!(
        status(b"CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n"),
        400,
        "no port"
    );
    assert_eq!(status(b"CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_eq!(
        status(b"GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
}

/// RFC 9112 §3.2.4: asterisk-form is only for OPTIONS.
#[test]
fn asterisk_form() {
    let p = parse(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(p.head.target_form, TargetForm::Asterisk);
    assert_eq!(p.path, "*");
    assert_eq!(status(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_eq!(status(b"OPTIONS *a HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

/// RFC 3986 §2 and RFC 9112 §3.2: characters outside the URI grammar are rejected.
#[test]
fn target_characters() {
    for bad in [
        "/a b", "/a\"b", "/a<b", "/a>b", "/a\\b", "/a^b", "/a`b", "/a{b", "/a|b", "/a}b",
        "/a#frag", "/\x7f", "/\u{e9}",
    ] {
        let req = std::format!("GET {bad} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status(req.as_bytes()), 400, "{bad:?}");
    }
    let p = parse(b"GET /a-b._~:@!$&'()*+,;=%20/[x] HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(p.target, "/a-b._~:@!$&'()*+,;=%20/[x]");
    assert_eq!(
        err(b"GET /a\x00 HTTP/1.1\r\nHost: x\r\n\r\n"),
        RequestError::InvalidTarget
    );
}

/// RFC 9112 §2.3 (HTTP-version = "HTTP/" DIGIT "." DIGIT) and RFC 9110 §15.6.6 (505).
#[test]
fn versions() {
    let p = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(p.head.version, Version::Http10);
    for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/0.0", "HTTP/3.0", "HTTP/9.1"] {
        let req = std::format!("GET / {v}\r\nHost: x\r\n\r\n");
        assert_eq!(err(req.as_bytes()), RequestError::UnsupportedVersion, "{v}");
    }
    for v in [
        "http/1.1",
        "HTTP/1",
        "HTTP/1.1.1",
        "HTTP/11",
        "HTTP/1.x",
        "HTTPS/1.1",
        "HTTP/ 1.1",
    ] {
        let req = std::format!("GET / {v}\r\nHost: x\r\n\r\n");
        assert_eq!(status(req.as_bytes()), 400, "{v}");
    }
}

/// RFC 9110 §2.5: "A recipient that receives a message with a major version number that it
/// implements and a minor version number higher than what it implements SHOULD process the
/// message as if it were in the highest minor version within that major version to which the
/// recipient is conformant." HTTP/1.2 to HTTP/1.9 are HTTP/1.1 here: Host is required, the
/// connection persists, Transfer-Encoding frames the body.
#[test]
fn higher_minor_versions_are_http11() {
    for minor in 2..=9 {
        let req =
            std::format!("POST / HTTP/1.{minor}\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        let p = parse(req.as_bytes()).unwrap();
        assert_eq!(p.head.version, Version::Http11, "HTTP/1.{minor}");
        assert_eq!(p.head.framing, Framing::Chunked, "HTTP/1.{minor}");
        assert!(p.head.keep_alive, "HTTP/1.{minor}");
        let no_host = std::format!("GET / HTTP/1.{minor}\r\n\r\n");
        assert_eq!(
            err(no_host.as_bytes()),
            RequestError::MissingHost,
            "HTTP/1.{minor}"
        );
    }
}

/// RFC 9112 §5.1: OWS around the value is not part of it.
#[test]
fn ows_is_trimmed() {
    let p = parse(b"GET / HTTP/1.1\r\nHost: x\r\nA:  \t v a l \t \r\nB:\r\nC:   \r\n\r\n").unwrap();
    assert_eq!(p.fields[1], ("A".into(), "v a l".into()));
    assert_eq!(p.fields[2], ("B".into(), "".into()));
    assert_eq!(p.fields[3], ("C".into(), "".into()));
}

/// RFC 9112 §5.1: "No whitespace is allowed between the field name and colon ... a server
/// MUST reject ... with a response status code of 400".
/// RFC 9112 §5: a field line reads the same wherever it falls against the scanners' 16-byte
/// blocks and the end of what has arrived, for names and values of every length, with OWS and
/// tabs, whole and split anywhere.
#[test]
fn field_lines_at_every_offset() {
    let names = "Abcdefgh-ijk_lmnopqrst";
    let long = "v".repeat(40);
    let values = ["", "v", " v", "v ", "a\tb", " \t x y \t", long.as_str()];
    for pad in 0..18 {
        for name_len in 1..names.len() {
            for value in values {
                let name = &names[..name_len];
                let req = std::format!(
                    "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n{name}:{value}\r\n\r\n",
                    "p".repeat(pad)
                );
                let p = parse(req.as_bytes()).unwrap();
                let trimmed = value.trim_matches([' ', '\t']);
                assert_eq!(p.fields[2], (name.into(), trimmed.into()), "{req:?}");
                // Split a few bytes before the end, where the last lines are read the general
                // way, and complete.
                let mut fields = [HeaderSpan::default(); 8];
                let mut parser = HeadParser::new();
                let first = &req.as_bytes()[..req.len() - 1 - pad % 8];
                let partial = parser.parse(first, &mut fields, &Limits::DEFAULT);
                assert!(matches!(partial, Ok(Parsed::Partial)), "{req:?}");
                let complete = parser.parse(req.as_bytes(), &mut fields, &Limits::DEFAULT);
                assert!(
                    matches!(complete, Ok(Parsed::Complete(h)) if h.header_count == 3),
                    "{req:?}"
                );
            }
        }
    }
}

#[test]
fn whitespace_before_colon() {
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
        RequestError::WhitespaceBeforeColon
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"),
        RequestError::WhitespaceBeforeColon
    );
}

/// RFC 9112 §5.2: a server MUST reject obs-fold (zzz's choice of the two options) with 400.
#[test]
fn obs_fold() {
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
        RequestError::LeadingWhitespace
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\tc\r\n\r\n"),
        RequestError::LeadingWhitespace
    );
}

/// RFC 9112 §2.2: whitespace between the start line and the first field line MUST be rejected
/// (or the line ignored); zzz rejects.
#[test]
fn whitespace_before_first_field() {
    assert_eq!(
        err(b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
        RequestError::LeadingWhitespace
    );
}

/// RFC 9110 §5.5: field values must not hold NUL, CR, LF or other controls.
#[test]
fn control_characters_in_values() {
    for (input, expected) in [
        (
            &b"GET / HTTP/1.1\r\nHost: x\r\nA: a\x00b\r\n\r\n"[..],
            RequestError::InvalidHeaderValue,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nA: a\x7fb\r\n\r\n",
            RequestError::InvalidHeaderValue,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nA: a\x01b\r\n\r\n",
            RequestError::InvalidHeaderValue,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nA: a\rb\r\n\r\n",
            RequestError::BareCr,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nA: a\nB: b\r\n\r\n",
            RequestError::BareLf,
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\n", RequestError::BareLf),
        (b"GET / HTTP/1.1\nHost: x\r\n\r\n", RequestError::BareLf),
        (b"GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", RequestError::BareCr),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\rX", RequestError::BareCr),
    ] {
        assert_eq!(err(input), expected, "{:?}", String::from_utf8_lossy(input));
    }
    let p = parse(b"GET / HTTP/1.1\r\nHost: x\r\nA: a\tb \x80\xff\r\n\r\n").unwrap();
    assert_eq!(
        p.fields[1].1,
        "a\tb \u{80}\u{ff}"
            .chars()
            .map(|c| if c > '\x7f' { '\u{fffd}' } else { c })
            .collect::<String>()
    );
}

/// RFC 9112 §5: field-name = token; an empty name or a line without a colon is malformed.
#[test]
fn field_names() {
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n"),
        RequestError::InvalidHeaderName
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"),
        RequestError::InvalidHeaderName
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nA(b: v\r\n\r\n"),
        RequestError::InvalidHeaderName
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nA\x00: v\r\n\r\n"),
        RequestError::InvalidHeaderName
    );
}

/// RFC 9110 §8.6: Content-Length = 1*DIGIT.
#[test]
fn content_length_syntax() {
    let p = parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n").unwrap();
    assert_eq!(p.head.framing, Framing::Length(42));
    let p = parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!(p.head.framing, Framing::None);
    let p = parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n").unwrap();
    assert_eq!(p.head.framing, Framing::Length(7));
    for bad in [
        "+5",
        "-5",
        "0x5",
        "5 5",
        "",
        "5a",
        "1.0",
        "99999999999999999999",
        " , ",
    ] {
        let req = std::format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {bad}\r\n\r\n");
        assert_eq!(status(req.as_bytes()), 400, "{bad:?}");
    }
}

/// RFC 9112 §6.3 item 5 / RFC 9110 §8.6: identical repeated values are one length; differing
/// values are an unrecoverable error.
#[test]
fn content_length_repeated() {
    let p = parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    assert_eq!(p.head.framing, Framing::Length(5));
    let p = parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n").unwrap();
    assert_eq!(p.head.framing, Framing::Length(5));
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        RequestError::ConflictingContentLength
    );
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n"),
        RequestError::ConflictingContentLength
    );
    assert_eq!(
        status(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5,\r\n\r\n"),
        400
    );
}

/// RFC 9112 §6.1 and §6.3: Transfer-Encoding.
#[test]
fn transfer_encoding() {
    let chunked = |te: &str| {
        let req = std::format!("POST / HTTP/1.1\r\nHost: x\r\n{te}\r\n\r\n");
        parse(req.as_bytes()).map(|p| p.head.framing)
    };
    assert_eq!(chunked("Transfer-Encoding: chunked"), Ok(Framing::Chunked));
    assert_eq!(chunked("Transfer-Encoding: CHUNKED"), Ok(Framing::Chunked));
    assert_eq!(
        chunked("Transfer-Encoding: , chunked"),
        Ok(Framing::Chunked),
        "empty list elements"
    );
    // §6.1: codings zzz does not implement → 501.
    assert_eq!(
        chunked("Transfer-Encoding: gzip, chunked"),
        Err(RequestError::UnsupportedTransferEncoding)
    );
    assert_eq!(
        chunked("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"),
        Err(RequestError::UnsupportedTransferEncoding)
    );
    // §6.3 item 4: chunked not final → 400.
    for te in [
        "Transfer-Encoding: chunked, gzip",
        "Transfer-Encoding: gzip",
        "Transfer-Encoding: identity",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding:",
        "Transfer-Encoding: chunked;q=1",
        "Transfer-Encoding: \"chunked\"",
        "Transfer-Encoding: xchunked",
    ] {
        assert_eq!(
            chunked(te).map_err(|e| e.status().code()),
            Err(400),
            "{te:?}"
        );
    }
}

/// RFC 9112 §6.3 item 3: Transfer-Encoding with Content-Length is rejected (zzz's choice), and
/// §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
#[test]
fn transfer_encoding_conflicts() {
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
        RequestError::ContentLengthWithTransferEncoding
    );
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
        RequestError::ContentLengthWithTransferEncoding
    );
    assert_eq!(
        err(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        RequestError::TransferEncodingInHttp10
    );
}

/// RFC 9112 §3.2: "A server MUST respond with a 400 ... to any HTTP/1.1 request message that
/// lacks a Host header field and to any request message that contains more than one Host
/// header field line or a Host header field with an invalid field value."
#[test]
fn host() {
    assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), RequestError::MissingHost);
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        RequestError::DuplicateHost
    );
    assert_eq!(
        err(b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"),
        RequestError::DuplicateHost
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        RequestError::InvalidHost
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
        RequestError::InvalidHost
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"),
        RequestError::InvalidHost
    );
    assert!(
        parse(b"GET / HTTP/1.0\r\n\r\n")
            .unwrap()
            .head
            .host
            .is_none()
    );
    assert!(parse(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").is_ok());
}

/// RFC 9110 §7.2: a client sends an empty Host only "if the authority component is missing or
/// undefined for the target URI". An origin-form (or asterisk-form) target takes its authority
/// from Host (RFC 9112 §3.3), and an `http` URI with an empty host is invalid (RFC 9110
/// §4.2.1): 400. An absolute-form target has its own authority, and Host is then ignored
/// (RFC 9112 §3.2.2); HTTP/1.0 may omit Host, so an empty one is no worse.
#[test]
fn empty_host() {
    for req in [
        &b"GET / HTTP/1.1\r\nHost:\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: \t \r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n",
        b"GET /a HTTP/1.2\r\nHost:\r\n\r\n",
    ] {
        let e = err(req);
        assert_eq!(
            (e, e.status().code()),
            (RequestError::EmptyHost, 400),
            "{:?}",
            String::from_utf8_lossy(req)
        );
    }
    let p = parse(b"GET http://example.com/a HTTP/1.1\r\nHost:\r\n\r\n").unwrap();
    assert_eq!(p.path, "/a");
    assert!(parse(b"GET / HTTP/1.0\r\nHost:\r\n\r\n").is_ok());
}

/// RFC 9112 §9.3: persistence defaults and the `close` / `keep-alive` options.
#[test]
fn persistence() {
    let ka = |req: &[u8]| parse(req).unwrap().head.keep_alive;
    assert!(ka(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert!(!ka(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ));
    assert!(!ka(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n"
    ));
    assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
    assert!(ka(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    assert!(!ka(
        b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"
    ));
    assert!(!ka(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
    ));
}

/// RFC 9110 §10.1.1: Expect.
#[test]
fn expect() {
    let p =
        parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n")
            .unwrap();
    assert!(p.head.expect_continue);
    // Without a body there is nothing to wait for.
    let p = parse(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n").unwrap();
    assert!(!p.head.expect_continue);
    // "A server that receives a 100-continue expectation in an HTTP/1.0 request MUST ignore".
    let p = parse(b"POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n").unwrap();
    assert!(!p.head.expect_continue);
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n")
            .status()
            .code(),
        417
    );
}

fn request_with_line_len(len: usize) -> Vec<u8> {
    // "GET " + target + " HTTP/1.1" == len
    let target_len = len - 4 - 9;
    let mut req = b"GET /".to_vec();
    req.resize(4 + target_len, b'a');
    req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    req
}

#[test]
fn request_line_limit() {
    let limits = Limits {
        max_request_line: 100,
        ..Limits::DEFAULT
    };
    assert!(
        parse_with(&request_with_line_len(100), &limits).is_ok(),
        "at the limit"
    );
    let e = parse_with(&request_with_line_len(101), &limits)
        .err()
        .unwrap();
    assert_eq!(
        (e, e.status().code()),
        (RequestError::RequestLineTooLong, 414),
        "one past"
    );
    // Also when the line is still incomplete.
    let mut fields = [HeaderSpan::default(); 4];
    let long = request_with_line_len(200);
    assert_eq!(
        HeadParser::new().parse(&long[..150], &mut fields, &limits),
        Err(RequestError::RequestLineTooLong)
    );
}

fn request_with_head_len(len: usize) -> Vec<u8> {
    let base = b"GET / HTTP/1.1\r\nHost: x\r\nA: \r\n\r\n".len();
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\nA: ".to_vec();
    req.resize(req.len() + len - base, b'v');
    req.extend_from_slice(b"\r\n\r\n");
    assert_eq!(req.len(), len);
    req
}

#[test]
fn head_limit() {
    let limits = Limits {
        max_head: 200,
        max_request_line: 100,
        ..Limits::DEFAULT
    };
    let at = request_with_head_len(200);
    assert!(parse_with(&at, &limits).is_ok(), "at the limit");
    let past = request_with_head_len(201);
    let e = parse_with(&past, &limits).err().unwrap();
    assert_eq!(
        (e, e.status().code()),
        (RequestError::HeadTooLarge, 431),
        "one past"
    );
    // Also while the head is incomplete: 200 bytes that do not end it cannot become a head of
    // 200 bytes.
    let mut fields = [HeaderSpan::default(); 4];
    assert_eq!(
        HeadParser::new().parse(&past[..199], &mut fields, &limits),
        Ok(Parsed::Partial)
    );
    assert_eq!(
        HeadParser::new().parse(&past[..200], &mut fields, &limits),
        Err(RequestError::HeadTooLarge)
    );
}

#[test]
fn header_count_limit() {
    let limits = Limits {
        max_headers: 5,
        ..Limits::DEFAULT
    };
    let with = |n: usize| {
        let mut req = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for i in 1..n {
            req.push_str(&std::format!("X-{i}: v\r\n"));
        }
        req.push_str("\r\n");
        parse_with(req.as_bytes(), &limits)
    };
    assert!(with(5).is_ok(), "at the limit");
    let e = with(6).err().unwrap();
    assert_eq!(
        (e, e.status().code()),
        (RequestError::TooManyHeaders, 431),
        "one past"
    );
}

#[test]
fn body_limit() {
    let limits = Limits {
        max_body: 1000,
        ..Limits::DEFAULT
    };
    let with = |n: usize| {
        parse_with(
            std::format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n").as_bytes(),
            &limits,
        )
    };
    assert_eq!(
        with(1000).unwrap().head.framing,
        Framing::Length(1000),
        "at the limit"
    );
    let e = with(1001).err().unwrap();
    assert_eq!(
        (e, e.status().code()),
        (RequestError::BodyTooLarge, 413),
        "one past"
    );
}

/// Invalid input fails as soon as it is seen, without waiting for the rest of the head.
#[test]
fn fails_fast() {
    let mut fields = [HeaderSpan::default(); 4];
    let limits = Limits::DEFAULT;
    assert_eq!(
        HeadParser::new().parse(b"GET / XTTP", &mut fields, &limits),
        Err(RequestError::InvalidVersion)
    );
    assert_eq!(
        HeadParser::new().parse(b"GET / HTTP/1.1\r\nA\x00", &mut fields, &limits),
        Err(RequestError::InvalidHeaderName)
    );
    assert!(is_partial(b"GET / HTTP/1.1\r\nHost: x\r\n"));
    assert!(is_partial(b"GET / HTTP/1.1\r\nHost: x\r\n\r"));
    assert!(is_partial(b"\r\n\r"));
    assert!(is_partial(b""));
}

/// Resuming searches only new bytes: a head arriving one byte at a time still parses, and the
/// parser reports whether a request has started.
#[test]
fn byte_at_a_time() {
    let mut fields = [HeaderSpan::default(); 16];
    let mut parser = HeadParser::new();
    let limits = Limits::DEFAULT;
    assert!(!parser.started());
    for n in 1..BROWSER_REQUEST.len() {
        assert_eq!(
            parser.parse(&BROWSER_REQUEST[..n], &mut fields, &limits),
            Ok(Parsed::Partial),
            "{n}"
        );
        assert!(parser.started());
    }
    assert!(matches!(
        parser.parse(BROWSER_REQUEST, &mut fields, &limits),
        Ok(Parsed::Complete(_))
    ));
}

/// `Request` reads its text spans as `str` without checking them again, so a head that did
/// not come from the parser is checked when the request is made: a span over a byte that is
/// not ASCII, or past the head, is refused (a panic, never a `str` that is not UTF-8).
#[test]
#[should_panic(expected = "not ASCII")]
fn a_request_from_a_hand_made_head_with_a_non_ascii_span_is_refused() {
    let input = b"G\xc3T / HTTP/1.1\r\nHost: a\r\n\r\n";
    let head = RequestHead {
        method_span: Span::new(0, 3),
        len: input.len() as u16,
        ..RequestHead::EMPTY
    };
    let _ = Request::new(&head, input, &[], &[]);
}

#[test]
#[should_panic(expected = "not ASCII")]
fn a_request_from_a_hand_made_head_with_a_span_past_the_head_is_refused() {
    let input = b"GET / HTTP/1.1\r\n\r\nbody";
    let head = RequestHead {
        path: Span::new(4, 22),
        len: 18,
        ..RequestHead::EMPTY
    };
    let _ = Request::new(&head, input, &[], &[]);
}
