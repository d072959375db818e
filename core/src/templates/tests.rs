//! Rendering through the handler API: one test per template construct, escaping, the response
//! around the page, and what happens when a page does not fit.

use core::cell::Cell;
use core::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

use askama::Template;

use crate::http::{HttpDate, ResponseError, Status};
use crate::{App, Config, Ctx, Out, Request, Response, Route, Router};

/// Renders `page` with `Out::template` into a 4 KiB buffer; returns the response as text.
fn respond<T: Template>(page: &T) -> String {
    respond_to(page, false)
}

fn respond_to<T: Template>(page: &T, head: bool) -> String {
    let date = HttpDate::new();
    let mut buf = [0u8; 4096];
    let mut out: Out<'_, ()> = Out::detached(&mut buf, None, &date, head);
    let _ = out.template(Status::OK, page);
    String::from_utf8(out.written().expect("the page fits").to_vec()).unwrap()
}

/// The body of a response, checked against its `Content-Length` (RFC 9112 §6.2).
fn body(response: &str) -> &str {
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete head");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .parse()
        .unwrap();
    assert_eq!(
        length,
        body.len(),
        "Content-Length counts the body: {response:?}"
    );
    body
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "Hello, {{ name }}! You have {{ count }} new messages."
)]
struct Substitution<'a> {
    name: &'a str,
    count: u32,
}

/// RFC 9110 §8.3, §8.6: the page goes out as `text/html; charset=utf-8` with its exact length.
#[test]
fn substitution_and_the_response_around_it() {
    let response = respond(&Substitution {
        name: "Ada",
        count: 3,
    });
    assert!(response.starts_with("HTTP/1.1 200 OK\r\nServer: zzz\r\nDate: "));
    assert!(response.contains("\r\nContent-Type: text/html; charset=utf-8\r\n"));
    assert_eq!(body(&response), "Hello, Ada! You have 3 new messages.");
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<p>{{ text }}</p><a title=\"{{ text }}\">x</a>{{ trusted|safe }}"
)]
struct Escaping<'a> {
    text: &'a str,
    trusted: &'a str,
}

/// HTML escaping is the default: `<`, `>`, `&`, `"` and `'` never reach the page as markup,
/// in text or in attribute values; `|safe` opts out for trusted markup.
#[test]
fn html_is_escaped_by_default() {
    let response = respond(&Escaping {
        text: "<script>alert(\"x\") & 'y'</script>",
        trusted: "<em>ok</em>",
    });
    let page = body(&response);
    assert!(!page.contains("<script>"), "{page}");
    assert_eq!(
        page,
        "<p>&#60;script&#62;alert(&#34;x&#34;) &#38; &#39;y&#39;&#60;/script&#62;</p>\
         <a title=\"&#60;script&#62;alert(&#34;x&#34;) &#38; &#39;y&#39;&#60;/script&#62;\">x</a>\
         <em>ok</em>"
    );
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "{% if unread > 0 %}{{ unread }} unread{% else if archived %}archived{% else %}empty{% endif %}"
)]
struct Condition {
    unread: u32,
    archived: bool,
}

#[test]
fn if_else() {
    let render = |unread, archived| {
        let response = respond(&Condition { unread, archived });
        body(&response).to_string()
    };
    assert_eq!(render(2, false), "2 unread");
    assert_eq!(render(0, true), "archived");
    assert_eq!(render(0, false), "empty");
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<ol>{% for item in items %}<li id=\"i{{ loop.index }}\"{% if loop.first %} class=\"first\"{% endif %}>{{ item }}</li>{% else %}<li>none</li>{% endfor %}</ol>"
)]
struct Loop<'a> {
    items: &'a [&'a str],
}

#[test]
fn loop_over_a_slice() {
    let response = respond(&Loop {
        items: &["a", "b & c", "d"],
    });
    assert_eq!(
        body(&response),
        "<ol><li id=\"i1\" class=\"first\">a</li><li id=\"i2\">b &#38; c</li><li id=\"i3\">d</li></ol>"
    );
    let response = respond(&Loop { items: &[] });
    assert_eq!(body(&response), "<ol><li>none</li></ol>");
}

#[derive(Template)]
#[template(path = "with_include.html")]
struct Include<'a> {
    names: &'a [&'a str],
}

/// `include` renders another file in the including template's scope (the loop variable).
#[test]
fn include() {
    let response = respond(&Include {
        names: &["Ada", "<Grace>"],
    });
    assert_eq!(
        body(&response).trim_end(),
        "<section><p class=\"greeting\">Hello, Ada!</p>\
         <p class=\"greeting\">Hello, &#60;Grace&#62;!</p></section>"
    );
}

#[derive(Template)]
#[template(path = "child.html")]
struct Child<'a> {
    site: &'a str,
    title: &'a str,
    text: &'a str,
}

/// `extends` and `block`: the child fills the layout's `title` and `content` blocks and keeps
/// its default `footer`.
#[test]
fn layout_with_extends_and_blocks() {
    let response = respond(&Child {
        site: "zzz",
        title: "Hello & welcome",
        text: "Some text.",
    });
    let page = body(&response);
    assert!(page.starts_with("<!doctype html>\n"), "{page}");
    assert!(
        page.contains("<title>Hello &#38; welcome · zzz</title>"),
        "{page}"
    );
    assert!(page.contains("<main><p>Some text.</p></main>"), "{page}");
    assert!(page.contains("<footer>default footer</footer>"), "{page}");
    assert!(!page.contains("nothing here") && !page.contains("Untitled"));
}

#[derive(Template)]
#[template(ext = "txt", source = "{{ a }} < {{ b }}")]
struct Plain {
    a: u8,
    b: u8,
}

/// A text template is not HTML-escaped and is sent with the caller's Content-Type.
#[test]
fn template_as_another_media_type() {
    let date = HttpDate::new();
    let mut buf = [0u8; 1024];
    let mut out: Out<'_, ()> = Out::detached(&mut buf, None, &date, false);
    let content_type = super::content_type_for("notes.txt");
    let _ = out
        .respond(Status::OK)
        .template_as(content_type, &Plain { a: 1, b: 2 });
    let response = String::from_utf8(out.written().unwrap().to_vec()).unwrap();
    assert!(response.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_eq!(body(&response), "1 < 2");
}

/// RFC 9110 §9.3.2: HEAD gets the headers GET would get, `Content-Length` included, and no
/// body.
#[test]
fn head_has_the_length_of_get_and_no_body() {
    let page = Loop {
        items: &["a", "b", "c"],
    };
    let get = respond_to(&page, false);
    let head = respond_to(&page, true);
    let (get_head, get_body) = get.split_once("\r\n\r\n").unwrap();
    assert!(!get_body.is_empty());
    assert_eq!(head, std::format!("{get_head}\r\n\r\n"));
}

/// Counts how often the page's loop ran, to show that a failed render stops early.
struct Row<'a> {
    rendered: &'a Cell<usize>,
}

impl fmt::Display for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.rendered.set(self.rendered.get() + 1);
        f.write_str("<tr><td>0123456789</td></tr>")
    }
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<table>{% for row in rows %}{{ row|safe }}{% endfor %}</table>"
)]
struct Table<'a> {
    rows: &'a [Row<'a>],
}

fn table(rows: usize, rendered: &Cell<usize>) -> Vec<Row<'_>> {
    (0..rows).map(|_| Row { rendered }).collect()
}

/// A page larger than the send buffer moves to the large buffer and is sent whole.
#[test]
fn a_page_larger_than_the_send_buffer_moves_to_the_large_buffer() {
    let rendered = Cell::new(0);
    let rows = table(20, &rendered); // 20 x 28 bytes
    let date = HttpDate::new();
    let (mut small, mut large) = ([0u8; 256], [0u8; 2048]);
    let mut out: Out<'_, ()> = Out::detached(&mut small, Some(&mut large), &date, false);
    let _ = out.template(Status::OK, &Table { rows: &rows });
    let response = String::from_utf8(out.written().expect("fits the large buffer").to_vec());
    let response = response.unwrap();
    assert_eq!(body(&response).matches("<tr>").count(), 20);
    assert_eq!(rendered.get(), 20);
}

/// A page larger than every buffer is an error, never a truncated page, and rendering stops
/// at the first write that does not fit.
#[test]
fn a_page_larger_than_every_buffer_fails_and_stops_rendering() {
    let rendered = Cell::new(0);
    let rows = table(1000, &rendered);
    let date = HttpDate::new();
    let (mut small, mut large) = ([0u8; 256], [0u8; 2048]);
    let mut out: Out<'_, ()> = Out::detached(&mut small, Some(&mut large), &date, false);
    let _ = out.template(Status::OK, &Table { rows: &rows });
    assert_eq!(out.written(), Err(ResponseError::Overflow));
    assert!(rendered.get() < 100, "rendered {} rows", rendered.get());
}

/// A `Display` that fails.
struct Broken;

impl fmt::Display for Broken {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

#[derive(Template)]
#[template(ext = "html", source = "before {{ broken }} after")]
struct Failing {
    broken: Broken,
}

/// A template's own error fails the response: no page with a hole in it.
#[test]
fn a_template_error_fails_the_response() {
    let date = HttpDate::new();
    let mut buf = [0u8; 1024];
    let mut out: Out<'_, ()> = Out::detached(&mut buf, None, &date, false);
    let _ = out.template(Status::OK, &Failing { broken: Broken });
    assert_eq!(out.written(), Err(ResponseError::Render));
}

// ----- through the server ---------------------------------------------------------------------

/// A server with a 1 KiB send buffer and `large_buffers` large buffers of 4 KiB.
fn config(large_buffers: u32) -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 2;
    config.recv_buffer = 4096;
    config.send_buffer = 1024;
    config.large_buffers = large_buffers;
    config.large_buffer_size = 4096;
    config.limits.max_request_line = 1024;
    config.limits.max_head = 4096;
    config.limits.max_body = 4096;
    config
}

/// Rows of the page `/rows/{n}` renders.
struct Rows;

fn rows_page(ctx: &mut Ctx<Rows>, req: &Request) -> Response {
    let n: usize = req.param("n").unwrap_or(0);
    let rendered = Cell::new(0);
    let rows = table(n, &rendered);
    ctx.template(Status::OK, &Table { rows: &rows })
}

static ROUTES: &[Route<Rows>] = &[Route::get("/rows/{n:u64}", rows_page)];

/// Serves `request` on one connection and returns everything the server sent.
fn exchange(config: Config, request: &str) -> String {
    let app = App::new(Rows, Router::new(ROUTES).unwrap());
    let output = crate::shim::exchange::exchange(config, app, request.as_bytes());
    String::from_utf8(output).unwrap()
}

fn get(path: &str) -> String {
    std::format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
}

/// The whole path: a page larger than the 1 KiB send buffer goes out whole from a large
/// buffer, with its exact `Content-Length` (RFC 9112 §6.2).
#[test]
fn server_sends_a_spilled_page_whole() {
    let response = exchange(config(1), &get("/rows/100")); // 100 x 28 bytes
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert_eq!(body(&response).matches("<tr>").count(), 100);
}

/// ARCHITECTURE.md §4 Bounds: a page that does not fit even the large buffer is answered with the
/// static 500 (the server logs it), never a truncated page.
#[test]
fn server_answers_500_for_a_page_too_large() {
    let response = exchange(config(1), &get("/rows/1000"));
    assert!(
        response.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{response}"
    );
    assert!(!response.contains("<tr>"));
}

/// ARCHITECTURE.md §4 Bounds: when no large buffer is free, a page larger than the send buffer is
/// answered with the static 503 and `Retry-After` (RFC 9110 §15.6.4, §10.2.3).
#[test]
fn server_answers_503_when_no_large_buffer_is_free() {
    let response = exchange(config(0), &get("/rows/100"));
    assert!(
        response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{response}"
    );
    assert!(response.contains("Retry-After"));
}

/// Two pipelined pages on one connection come back whole and in order, the second written
/// behind the first while it still waits in the send buffer (RFC 9112 §9.3.2).
#[test]
fn server_sends_pipelined_pages_in_order() {
    let request = std::format!("GET /rows/2 HTTP/1.1\r\nHost: a\r\n\r\n{}", get("/rows/3"));
    let response = exchange(config(1), &request);
    let (first, second) = response
        .split_once("HTTP/1.1 200 OK\r\n")
        .and_then(|(_, rest)| rest.split_once("HTTP/1.1 200 OK\r\n"))
        .expect("two responses");
    assert_eq!(
        body(&std::format!("X\r\n{first}")).matches("<tr>").count(),
        2
    );
    assert_eq!(
        body(&std::format!("X\r\n{second}")).matches("<tr>").count(),
        3
    );
}
