use super::*;
use crate::http::{HttpDate, Status};
use core::fmt::Write;
use std::string::String;

fn options(date: &HttpDate) -> ResponseOptions<'_> {
    ResponseOptions {
        date,
        server: Some("zzz"),
        version: Version::Http11,
        keep_alive: true,
        head: false,
    }
}

fn text(out: &ByteWriter<'_>) -> String {
    String::from_utf8(out.written().to_vec()).unwrap()
}

/// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
#[test]
fn known_length_body() {
    let mut buf = [0u8; 256];
    let date = HttpDate::new();
    let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
    w.header("Content-Type", b"text/plain");
    let out = w.body(b"Hello, World!").unwrap();
    assert_eq!(
        text(&out),
        "HTTP/1.1 200 OK\r\nServer: zzz\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
         Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
    );
}

/// RFC 9110 §9.3.2: HEAD gets the same headers as GET, Content-Length included, no body.
#[test]
fn head_keeps_length_drops_body() {
    let mut buf = [0u8; 256];
    let date = HttpDate::new();
    let opts = ResponseOptions {
        head: true,
        ..options(&date)
    };
    let out = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
        .body(b"abc")
        .unwrap();
    assert!(text(&out).ends_with("Content-Length: 3\r\n\r\n"));
    let mut buf = [0u8; 256];
    let mut body = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts).into_body();
    write!(body, "{}", 12345).unwrap();
    let out = body.finish().unwrap();
    assert!(text(&out).ends_with("Content-Length: 5\r\n\r\n"));
}

/// RFC 9110 §8.6: no Content-Length in 1xx and 204; §15.4.5: 304 has no content.
#[test]
fn bodiless_statuses() {
    for status in [Status::NO_CONTENT, Status::NOT_MODIFIED] {
        let mut buf = [0u8; 256];
        let date = HttpDate::new();
        let out = ResponseWriter::new(ByteWriter::new(&mut buf), status, &options(&date))
            .body(b"ignored")
            .unwrap();
        let t = text(&out);
        assert!(
            !t.contains("Content-Length") && t.ends_with("\r\n\r\n"),
            "{t}"
        );
    }
}

/// RFC 9112 §9.6: `close` when the server will close; §9.3 an HTTP/1.0 client is told
/// `keep-alive` explicitly.
#[test]
fn connection_header() {
    let date = HttpDate::new();
    let mut buf = [0u8; 256];
    let opts = ResponseOptions {
        keep_alive: false,
        ..options(&date)
    };
    let out = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
        .body(b"")
        .unwrap();
    assert!(text(&out).contains("\r\nConnection: close\r\n"));
    let mut buf = [0u8; 256];
    let opts = ResponseOptions {
        version: Version::Http10,
        ..options(&date)
    };
    let out = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
        .body(b"")
        .unwrap();
    assert!(text(&out).contains("\r\nConnection: keep-alive\r\n"));
}

#[test]
fn formatted_body_gets_its_length() {
    let mut buf = [0u8; 256];
    let date = HttpDate::new();
    let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
    w.header_fmt("X-Count", format_args!("{}", 7));
    let mut body = w.into_body();
    write!(body, "{{\"n\":{}}}", 42).unwrap();
    let out = body.finish().unwrap();
    let t = text(&out);
    assert!(
        t.ends_with("X-Count: 7\r\nContent-Length: 8\r\n\r\n{\"n\":42}"),
        "{t}"
    );
}

#[test]
fn overflow_is_an_error_never_a_truncated_response() {
    let mut buf = [0u8; 80];
    let date = HttpDate::new();
    let w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
    assert_eq!(w.body(&[b'x'; 100]).err(), Some(ResponseError::Overflow));
}

/// The buffer is the limit: a response exactly its size is written whole, one byte more is an
/// overflow, never a response cut at the buffer's end.
#[test]
fn a_response_fits_to_the_last_byte_and_not_one_past() {
    let date = HttpDate::new();
    let respond = |buf: &mut [u8]| {
        ResponseWriter::new(ByteWriter::new(buf), Status::OK, &options(&date))
            .body(b"Hello, World!")
            .map(|out| out.len())
    };
    let whole = respond(&mut [0u8; 256]).unwrap();
    assert_eq!(respond(&mut std::vec![0u8; whole]), Ok(whole));
    assert_eq!(
        respond(&mut std::vec![0u8; whole - 1]),
        Err(ResponseError::Overflow)
    );
}

/// `write_with` commits what the filler wrote; a filler that cannot fit moves to the standby
/// buffer and runs once more there, and without one the writer records the overflow.
#[test]
fn write_with_retries_once_in_the_standby() {
    let fill = |n: usize| move |dst: &mut [u8]| (dst.len() >= n).then_some(n);
    let mut small = [0u8; 8];
    let mut w = ByteWriter::new(&mut small);
    assert_eq!(w.write_with(fill(8)), Some(8));
    assert_eq!(w.write_with(fill(1)), None);
    assert!(w.overflowed() && w.is_empty());
    let (mut small, mut large) = ([0u8; 8], [0u8; 32]);
    let mut w = ByteWriter::with_standby(&mut small, Some(&mut large));
    w.write(b"abc");
    assert_eq!(w.write_with(fill(20)), Some(20));
    assert!(w.moved() && w.written().starts_with(b"abc") && w.len() == 23);
}

#[test]
fn standby_buffer_takes_over() {
    let mut small = [0u8; 64];
    let mut large = [0u8; 512];
    let date = HttpDate::new();
    let w = ResponseWriter::new(
        ByteWriter::with_standby(&mut small, Some(&mut large)),
        Status::OK,
        &options(&date),
    );
    let out = w.body(&[b'x'; 100]).unwrap();
    assert!(out.moved());
    assert!(text(&out).starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(text(&out).ends_with(&"x".repeat(100)));
}

/// Response splitting: a value with CR or LF, a non-token name, or a framing header is
/// refused rather than written.
#[test]
fn invalid_headers_are_refused() {
    let date = HttpDate::new();
    for (name, value) in [
        ("X-A", &b"a\r\nSet-Cookie: x"[..]),
        ("X A", b"v"),
        ("", b"v"),
        ("Content-Length", b"5"),
        ("transfer-encoding", b"chunked"),
        ("Connection", b"close"),
        ("X-N", b"\x00"),
    ] {
        let mut buf = [0u8; 256];
        let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
        w.header(name, value);
        assert_eq!(
            w.body(b"").err(),
            Some(ResponseError::InvalidHeader),
            "{name:?}"
        );
    }
}

/// RFC 9112 §7.1: chunk = chunk-size CRLF chunk-data CRLF; last-chunk = 1*"0" CRLF.
#[test]
fn chunked_stream() {
    let date = HttpDate::new();
    let mut buf = [0u8; 256];
    let (mut out, framing) =
        ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date))
            .head_for_stream()
            .unwrap();
    assert_eq!(framing, StreamFraming::Chunked);
    write_chunk(&mut out, &[b'a'; 26]);
    write_chunk(&mut out, b"");
    out.write(LAST_CHUNK);
    assert!(text(&out).ends_with(
        "Transfer-Encoding: chunked\r\n\r\n1a\r\naaaaaaaaaaaaaaaaaaaaaaaaaa\r\n0\r\n\r\n"
    ));
    assert_eq!(chunk_overhead(26), 6);
    // HTTP/1.0 has no chunked coding: the body is delimited by closing.
    let mut buf = [0u8; 256];
    let opts = ResponseOptions {
        version: Version::Http10,
        ..options(&date)
    };
    let (out, framing) = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &opts)
        .head_for_stream()
        .unwrap();
    assert_eq!(framing, StreamFraming::UntilClose);
    assert!(text(&out).contains("Connection: close\r\n"));
}

/// A checked name is written as given; a name only zzz may write is refused when made.
#[test]
fn header_names_checked_once() {
    const X_TRACE: HeaderName = HeaderName::new("X-Trace");
    let mut buf = [0u8; 256];
    let date = HttpDate::new();
    let mut w = ResponseWriter::new(ByteWriter::new(&mut buf), Status::OK, &options(&date));
    w.header(X_TRACE, b"1")
        .header(HeaderName::CONTENT_TYPE, b"text/plain");
    let out = w.body(b"").unwrap();
    assert!(text(&out).contains("X-Trace: 1\r\nContent-Type: text/plain\r\n"));
    for bad in [
        "Content-Length",
        "transfer-encoding",
        "Connection",
        "",
        "X Y",
    ] {
        assert!(
            std::panic::catch_unwind(|| HeaderName::new(bad)).is_err(),
            "{bad:?}"
        );
    }
}

/// The opening lines the date keeps composed give the bytes the lines written one by one
/// give: for a `200` and for other statuses, with the date's `Server` name, another one (not
/// composed: written piece by piece), none, and one too long to compose; in a buffer with room
/// for the composed array and in one just the response's size.
#[test]
fn composed_opening_writes_the_same_bytes() {
    const LONG: &str = "a-server-name-longer-than-the-composed-lines-allow/1.0";
    for composed_for in [Some("zzz"), None, Some("other"), Some(LONG)] {
        let mut date = HttpDate::new();
        date.update(784_111_777);
        date.for_server(composed_for);
        for server in [composed_for, Some("zzz"), None] {
            for status in [
                Status::OK,
                Status::NOT_FOUND,
                Status::from_u16(299).unwrap(),
            ] {
                let line = match status.line() {
                    Some(line) => line.into(),
                    None => std::format!("HTTP/1.1 {} \r\n", status.code()),
                };
                let server_line = server.map_or(String::new(), |s| std::format!("Server: {s}\r\n"));
                let expected = std::format!(
                    "{line}{server_line}Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
                     Content-Length: 2\r\n\r\nok"
                );
                let opts = ResponseOptions {
                    server,
                    ..options(&date)
                };
                for room in [256, expected.len()] {
                    let mut buf = std::vec![0u8; room];
                    let out = ResponseWriter::new(ByteWriter::new(&mut buf), status, &opts)
                        .body(b"ok")
                        .unwrap();
                    assert_eq!(text(&out), expected, "{composed_for:?} {server:?} {room}");
                }
            }
        }
    }
}

/// `Content-Length` digits, written in place: the edges of each length.
#[test]
fn decimal_lengths() {
    use super::byte_writer::{decimal_len, write_decimal};
    for n in [
        0,
        9,
        10,
        99,
        100,
        12_345,
        u64::from(u32::MAX),
        u64::from(u32::MAX) + 1,
        9_999_999_999_999_999_999,
        10_000_000_000_000_000_000,
        u64::MAX,
    ] {
        let expected = std::format!("{n}");
        assert_eq!(decimal_len(n), expected.len(), "{n}");
        let mut digits = [0u8; 20];
        write_decimal(&mut digits[..expected.len()], n);
        assert_eq!(&digits[..expected.len()], expected.as_bytes());
    }
}
