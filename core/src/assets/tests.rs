//! Assets: content types, entity tags, content negotiation (RFC 9110 §12.5.3), conditional
//! requests (RFC 9110 §13.1.2), and the responses through the server.

use std::string::String;
use std::vec::Vec;

use super::*;
use crate::{App, Config, Route, Router};

#[test]
fn content_type_follows_the_extension() {
    assert_eq!(content_type_for("style.css"), "text/css; charset=utf-8");
    assert_eq!(
        content_type_for("a/b/APP.JS"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(content_type_for("index.html"), "text/html; charset=utf-8");
    assert_eq!(content_type_for("logo.svg"), "image/svg+xml");
    assert_eq!(content_type_for("photo.JPeG"), "image/jpeg");
    assert_eq!(content_type_for("font.woff2"), "font/woff2");
    assert_eq!(content_type_for("README"), "application/octet-stream");
    assert_eq!(content_type_for("dir.css/file"), "application/octet-stream");
    assert_eq!(
        content_type_for("archive.tar.unknown"),
        "application/octet-stream"
    );
}

const PLAIN: &[u8] = b"body { color: black }\n";
const GZIPPED: &[u8] = b"\x1f\x8b pretend this is gzip";

static STYLE: Asset = Asset::new("style.css", PLAIN).with_gzip(GZIPPED);
static ROBOTS: Asset =
    Asset::new("robots.txt", b"User-agent: *\n").with_cache_control("max-age=600");

/// RFC 9110 §8.8.3: a strong entity tag is a quoted opaque string, and it must change when the
/// representation does; the gzip variant is another representation with its own tag.
#[test]
fn entity_tags_are_computed_at_compile_time() {
    const TAG: EntityTag = EntityTag::of(PLAIN);
    assert_eq!(STYLE.etag(), TAG.as_str());
    let tag = STYLE.etag().as_bytes();
    assert_eq!(tag.len(), 18);
    assert!(tag[0] == b'"' && tag[17] == b'"');
    assert!(tag[1..17].iter().all(u8::is_ascii_hexdigit));
    assert_ne!(Some(STYLE.etag()), STYLE.gzip_etag());
    assert_eq!(ROBOTS.gzip_etag(), None);
    // Any change of content changes the tag: every one-byte change of a small body.
    let mut body = *b"0123456789abcdefXYZ";
    let original = EntityTag::of(&body);
    for i in 0..body.len() {
        body[i] ^= 1;
        assert_ne!(EntityTag::of(&body), original, "byte {i}");
        body[i] ^= 1;
    }
    assert_ne!(EntityTag::of(b""), EntityTag::of(b"\0"));
    assert_eq!(EntityTag::from_hash(0xfe).as_str(), "\"00000000000000fe\"");
}

fn negotiate(fields: &[&str], gzip: bool) -> Option<Coding> {
    negotiate_encoding(fields.iter().map(|f| f.as_bytes()), gzip)
}

/// RFC 9110 §12.5.3: with no Accept-Encoding the plain body is sent (any coding would be
/// acceptable; zzz sends the one every client can read); an empty value means "no coding".
#[test]
fn accept_encoding_absent_or_empty() {
    assert_eq!(negotiate(&[], true), Some(Coding::Identity));
    assert_eq!(negotiate(&[""], true), Some(Coding::Identity));
}

/// RFC 9110 §12.5.3 and §8.4.1.3: codings compare case-insensitively; `x-gzip` is `gzip`.
#[test]
fn accept_encoding_names_gzip() {
    assert_eq!(negotiate(&["gzip"], true), Some(Coding::Gzip));
    assert_eq!(negotiate(&["GZip"], true), Some(Coding::Gzip));
    assert_eq!(negotiate(&["x-gzip"], true), Some(Coding::Gzip));
    assert_eq!(
        negotiate(&["gzip, deflate, br, zstd"], true),
        Some(Coding::Gzip)
    );
    assert_eq!(negotiate(&["deflate", "gzip"], true), Some(Coding::Gzip));
    // Without a gzip variant, the plain body.
    assert_eq!(negotiate(&["gzip"], false), Some(Coding::Identity));
    assert_eq!(negotiate(&["br"], true), Some(Coding::Identity));
}

/// RFC 9110 §12.4.2: weights 0 to 1 with up to three decimals; q=0 means "not acceptable";
/// the highest weight wins.
#[test]
fn accept_encoding_weights() {
    assert_eq!(negotiate(&["gzip;q=0"], true), Some(Coding::Identity));
    assert_eq!(negotiate(&["gzip;q=0.000"], true), Some(Coding::Identity));
    assert_eq!(negotiate(&["gzip;q=0.001"], true), Some(Coding::Gzip));
    assert_eq!(negotiate(&["gzip ; Q=1.000"], true), Some(Coding::Gzip));
    assert_eq!(
        negotiate(&["gzip;q=0.5, identity;q=0.8"], true),
        Some(Coding::Identity)
    );
    assert_eq!(
        negotiate(&["identity;q=0.5, gzip;q=0.5"], true),
        Some(Coding::Gzip)
    );
    assert_eq!(
        negotiate(&["br;q=1.0, gzip;q=0.8, *;q=0.1"], true),
        Some(Coding::Gzip)
    );
    // Malformed weights make their element ignored.
    for bad in [
        "gzip;q=2",
        "gzip;q=1.5",
        "gzip;q=0.1234",
        "gzip;q=",
        "gzip;q=.5",
    ] {
        assert_eq!(negotiate(&[bad], true), Some(Coding::Identity), "{bad}");
    }
}

/// RFC 9110 §12.5.3: `*` matches any coding not listed; identity is acceptable unless
/// `identity;q=0`, or `*;q=0` without a more specific identity entry, says otherwise.
#[test]
fn accept_encoding_asterisk_and_identity() {
    assert_eq!(negotiate(&["*"], true), Some(Coding::Gzip));
    assert_eq!(negotiate(&["*"], false), Some(Coding::Identity));
    // Only listed codings (or those `*` covers) are acceptable: here, none.
    assert_eq!(negotiate(&["identity;q=0"], true), None);
    assert_eq!(negotiate(&["identity;q=0"], false), None);
    assert_eq!(negotiate(&["gzip, identity;q=0"], true), Some(Coding::Gzip));
    assert_eq!(negotiate(&["gzip, identity;q=0"], false), None);
    assert_eq!(negotiate(&["*;q=0"], false), None);
    assert_eq!(negotiate(&["*;q=0"], true), None);
    assert_eq!(
        negotiate(&["*;q=0, identity"], true),
        Some(Coding::Identity)
    );
    assert_eq!(negotiate(&["*;q=0, gzip"], true), Some(Coding::Gzip));
    assert_eq!(negotiate(&["gzip;q=0, identity;q=0"], true), None);
}

fn matches(fields: &[&str], tag: &EntityTag) -> bool {
    not_modified(fields.iter().map(|f| f.as_bytes()), tag)
}

/// RFC 9110 §13.1.2: If-None-Match is false (304) when a listed tag matches the selected
/// representation's by weak comparison (§8.8.3.2), or for `*`; lists may span fields.
#[test]
fn if_none_match() {
    let tag = EntityTag::from_hash(0xabc);
    let same = tag.as_str();
    let weak = std::format!("W/{same}");
    assert!(!matches(&[], &tag));
    assert!(matches(&[same], &tag));
    assert!(matches(&[&weak], &tag));
    assert!(matches(&["*"], &tag));
    assert!(matches(&[&std::format!("\"x\", {weak}")], &tag));
    assert!(matches(&["\"x\"", same], &tag));
    assert!(!matches(&["\"x\", W/\"y\""], &tag));
    // Malformed elements never match: no quotes, a lowercase `w/`, a quote inside.
    assert!(!matches(&["0000000000000abc"], &tag));
    assert!(!matches(&[&std::format!("w/{same}")], &tag));
    assert!(!matches(&["\"0000000000000a\"bc\""], &tag));
}

// ----- through the server ---------------------------------------------------------------------

fn style(ctx: &mut Ctx<()>, req: &crate::Request) -> Response {
    ctx.asset(req, &STYLE)
}

fn robots(ctx: &mut Ctx<()>, req: &crate::Request) -> Response {
    ctx.asset(req, &ROBOTS)
}

static ROUTES: &[Route<()>] = &[
    Route::get("/style.css", style),
    Route::get("/robots.txt", robots),
];

/// Sends one request with `headers` and returns the response's head and body.
fn request(method: &str, path: &str, headers: &str) -> (String, Vec<u8>) {
    let mut config = Config::DEFAULT;
    config.max_connections = 1;
    config.large_buffers = 1;
    let app = App::new((), Router::new(ROUTES).unwrap());
    let request =
        std::format!("{method} {path} HTTP/1.1\r\nHost: a\r\n{headers}Connection: close\r\n\r\n");
    let output = crate::shim::exchange::exchange(config, app, request.as_bytes());
    let end = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head")
        + 4;
    let head = String::from_utf8(output[..end].to_vec()).unwrap();
    (head, output[end..].to_vec())
}

fn has(head: &str, line: &str) -> bool {
    head.contains(&std::format!("\r\n{line}\r\n"))
}

/// RFC 9110 §8.3, §8.8.3, RFC 9111 §5.2.2: the plain body with its type, tag and caching
/// policy; `Vary` because another representation exists (§12.5.5).
#[test]
fn get_without_accept_encoding_sends_the_plain_body() {
    let (head, body) = request("GET", "/style.css", "");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(has(&head, "Content-Type: text/css; charset=utf-8"));
    assert!(has(&head, &std::format!("ETag: {}", STYLE.etag())));
    assert!(has(&head, "Cache-Control: no-cache"));
    assert!(has(&head, "Vary: Accept-Encoding"));
    assert!(!head.contains("Content-Encoding"));
    assert!(has(&head, &std::format!("Content-Length: {}", PLAIN.len())));
    assert_eq!(body, PLAIN);
}

/// RFC 9110 §8.4, §12.5.3: the gzip variant with `Content-Encoding: gzip` and its own tag.
#[test]
fn get_accepting_gzip_sends_the_gzip_body() {
    let (head, body) = request(
        "GET",
        "/style.css",
        "Accept-Encoding: gzip, deflate, br\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(has(&head, "Content-Encoding: gzip"));
    assert!(has(&head, "Content-Type: text/css; charset=utf-8"));
    assert!(has(
        &head,
        &std::format!("ETag: {}", STYLE.gzip_etag().unwrap())
    ));
    assert!(has(&head, "Vary: Accept-Encoding"));
    assert!(has(
        &head,
        &std::format!("Content-Length: {}", GZIPPED.len())
    ));
    assert_eq!(body, GZIPPED);
}

/// RFC 9110 §9.3.2: HEAD gets GET's headers, `Content-Length` included, and no body.
#[test]
fn head_sends_the_headers_of_get() {
    let (get, _) = request("GET", "/style.css", "Accept-Encoding: gzip\r\n");
    let (head, body) = request("HEAD", "/style.css", "Accept-Encoding: gzip\r\n");
    assert_eq!(head, get);
    assert!(body.is_empty());
}

/// RFC 9110 §13.1.2, §15.4.5: a matching If-None-Match gets 304 with `ETag`, `Cache-Control`
/// and `Vary`, and no content.
#[test]
fn if_none_match_gets_304() {
    let weak = std::format!("If-None-Match: \"other\", W/{}\r\n", STYLE.etag());
    let (head, body) = request("GET", "/style.css", &weak);
    assert!(head.starts_with("HTTP/1.1 304 Not Modified\r\n"), "{head}");
    assert!(has(&head, &std::format!("ETag: {}", STYLE.etag())));
    assert!(has(&head, "Cache-Control: no-cache"));
    assert!(has(&head, "Vary: Accept-Encoding"));
    assert!(!head.contains("Content-Length") && !head.contains("Content-Type"));
    assert!(body.is_empty());
    let (head, _) = request("HEAD", "/robots.txt", "If-None-Match: *\r\n");
    assert!(head.starts_with("HTTP/1.1 304 Not Modified\r\n"), "{head}");
    assert!(has(&head, "Cache-Control: max-age=600"));
    assert!(!head.contains("Vary"));
}

/// RFC 9110 §13.1.2: the condition is evaluated against the selected representation: the
/// plain body's tag does not validate the gzip body.
#[test]
fn if_none_match_compares_the_selected_representation() {
    let plain_tag = std::format!(
        "Accept-Encoding: gzip\r\nIf-None-Match: {}\r\n",
        STYLE.etag()
    );
    let (head, body) = request("GET", "/style.css", &plain_tag);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, GZIPPED);
    let (head, _) = request(
        "GET",
        "/style.css",
        "If-None-Match: \"0123456789abcdef\"\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
}

/// RFC 9110 §12.5.3, §15.5.7: when identity is refused and no other coding is available,
/// 406 Not Acceptable.
#[test]
fn no_acceptable_coding_gets_406() {
    let (head, _) = request("GET", "/robots.txt", "Accept-Encoding: identity;q=0\r\n");
    assert!(
        head.starts_with("HTTP/1.1 406 Not Acceptable\r\n"),
        "{head}"
    );
    let (head, _) = request("GET", "/style.css", "Accept-Encoding: identity;q=0\r\n");
    assert!(
        head.starts_with("HTTP/1.1 406 Not Acceptable\r\n"),
        "{head}"
    );
    assert!(has(&head, "Vary: Accept-Encoding"));
    let (head, body) = request(
        "GET",
        "/style.css",
        "Accept-Encoding: gzip, identity;q=0\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, GZIPPED);
}
