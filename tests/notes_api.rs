//! The notes API over real sockets: every route, every documented error, and the served
//! OpenAPI document equal to the generated one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use zzz::core::Sole;
use zzz::notes_api;
use zzz::uring::{BoundAddr, Builder, Running};

/// A server on a free loopback port, stopped when dropped.
struct Server {
    running: Option<Running>,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let running = Builder::new(notes_api::CONFIG)
            .fallback_to_portable(true)
            .quiet()
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole)
            .start(|_| notes_api::app())
            .expect("the server starts");
        let BoundAddr::Tcp(addr) = running.addrs()[0].clone() else {
            panic!("a TCP listener");
        };
        Server {
            running: Some(running),
            addr,
        }
    }

    /// Sends one request (`Connection: close`) and returns status, head and de-chunked body.
    fn request(&self, method: &str, target: &str, headers: &str, body: &str) -> Reply {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let length = if body.is_empty() && method != "POST" && method != "PUT" {
            String::new()
        } else {
            format!("Content-Length: {}\r\n", body.len())
        };
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}{length}\r\n{body}"
        )
        .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("read: {e}"),
            }
        }
        Reply::parse(&raw)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop();
        }
    }
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn parse(raw: &[u8]) -> Reply {
        let text = String::from_utf8(raw.to_vec()).expect("UTF-8 response");
        let (head, rest) = text.split_once("\r\n\r\n").expect("a complete head");
        let status = head[9..12].parse().unwrap();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        Reply {
            status,
            head: head.to_string(),
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The `detail` of a problem response, after checking its shape (RFC 9457 §3.1).
    fn problem(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}\n{}", self.head, self.body);
        assert_eq!(
            self.header("Content-Type"),
            Some("application/problem+json")
        );
        let prefix = r#"{"type":"about:blank","title":""#;
        assert!(self.body.starts_with(prefix), "{}", self.body);
        assert!(
            self.body.contains(&format!("\"status\":{status},")),
            "{}",
            self.body
        );
        let detail = self.body.split("\"detail\":\"").nth(1).expect("a detail");
        detail.trim_end_matches("\"}").to_string()
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            return body;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

const JSON: &str = "Content-Type: application/json\r\n";

#[test]
fn served_document_is_the_generated_one() {
    let server = Server::start();
    let reply = server.request("GET", "/openapi.json", "", "");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    assert_eq!(reply.body, notes_api::document());
    let head = server.request("HEAD", "/openapi.json", "", "");
    assert_eq!((head.status, head.body.as_str()), (200, ""));
}

#[test]
fn create_read_update_delete() {
    let server = Server::start();
    let created = server.request("POST", "/notes", JSON, r#"{"title":"milk"}"#);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("Location"), Some("/notes/1"));
    assert_eq!(created.header("Content-Type"), Some("application/json"));
    assert_eq!(
        created.body,
        r#"{"id":1,"title":"milk","text":"","done":false}"#
    );

    let escaped = r#"{"title":"a \"b\"\n","text":"é\u0001","done":true}"#;
    let second = server.request("POST", "/notes", JSON, escaped);
    assert_eq!(
        second.body,
        r#"{"id":2,"title":"a \"b\"\n","text":"é\u0001","done":true}"#
    );

    let got = server.request("GET", "/notes/1", "", "");
    assert_eq!(
        (got.status, got.body.as_str()),
        (200, created.body.as_str())
    );

    let page = server.request("GET", "/notes?limit=1&offset=1", "", "");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body,
        format!(
            r#"{{"items":[{}],"total":2,"offset":1,"limit":1}}"#,
            second.body
        )
    );

    let replaced = server.request(
        "PUT",
        "/notes/1",
        JSON,
        r#"{"title":"oat milk","done":true}"#,
    );
    assert_eq!(
        (replaced.status, replaced.body.as_str()),
        (200, r#"{"id":1,"title":"oat milk","text":"","done":true}"#)
    );

    let deleted = server.request("DELETE", "/notes/1", "", "");
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
    assert_eq!(
        server.request("GET", "/notes/1", "", "").problem(404),
        "there is no note 1"
    );
    server.request("DELETE", "/notes/1", "", "").problem(404);
    server
        .request("PUT", "/notes/1", JSON, r#"{"title":"x"}"#)
        .problem(404);
}

/// RFC 8259 §7: a character outside the Basic Multilingual Plane may be written as a UTF-16
/// surrogate pair, as Python's `json.dumps` writes every emoji; it is one character. A lone
/// surrogate encodes none (RFC 8259 §8.2): 400, with a detail that says so.
#[test]
fn surrogate_pairs_and_lone_surrogates() {
    let server = Server::start();
    let created = server.request(
        "POST",
        "/notes",
        JSON,
        r#"{"title":"\ud83d\ude00","text":"x"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body,
        r#"{"id":1,"title":"😀","text":"x","done":false}"#
    );
    for body in [
        r#"{"title":"\ud83d","text":"x"}"#,
        r#"{"title":"\ude00\ud83d","text":"x"}"#,
    ] {
        let detail = server.request("POST", "/notes", JSON, body).problem(400);
        assert!(detail.contains("lone UTF-16 surrogate"), "{detail}");
    }
}

/// Length limits count characters, as the document's `maxLength` does (JSON Schema counts
/// characters, not bytes): a title of 80 four-byte characters is at the limit and accepted,
/// written raw or as surrogate pairs; 81 are one past it (422).
#[test]
fn length_limits_count_characters() {
    let server = Server::start();
    let at_limit = "😀".repeat(notes_api::TITLE_MAX);
    let text = "𝐓".repeat(notes_api::TEXT_MAX);
    let body = format!(r#"{{"title":"{at_limit}","text":"{text}"}}"#);
    let created = server.request("POST", "/notes", JSON, &body);
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.contains(&at_limit) && created.body.contains(&text));
    let escaped = r"\ud83d\ude00".repeat(notes_api::TITLE_MAX);
    let body = format!(r#"{{"title":"{escaped}"}}"#);
    assert_eq!(server.request("POST", "/notes", JSON, &body).status, 201);

    let past = "é".repeat(notes_api::TITLE_MAX + 1);
    let body = format!(r#"{{"title":"{past}"}}"#);
    assert_eq!(
        server.request("POST", "/notes", JSON, &body).problem(422),
        "`title` is longer than 80 characters"
    );
    let past = "😀".repeat(notes_api::TITLE_MAX + 1);
    let body = format!(r#"{{"title":"{past}"}}"#);
    server.request("POST", "/notes", JSON, &body).problem(422);
    let body = format!(r#"{{"title":"x","text":"{text}𝐓"}}"#);
    server.request("POST", "/notes", JSON, &body).problem(422);
}

/// Each documented error, with the status the document gives it.
#[test]
fn documented_errors() {
    let server = Server::start();
    let post = |headers: &str, body: &str| server.request("POST", "/notes", headers, body);
    assert!(
        post(JSON, r#"{"title":"#)
            .problem(400)
            .contains("not valid JSON")
    );
    assert!(
        post("Content-Type: text/plain\r\n", r#"{"title":"x"}"#)
            .problem(415)
            .contains("text/plain")
    );
    post("", r#"{"title":"x"}"#).problem(415);
    assert_eq!(
        post(JSON, r#"{"title":""}"#).problem(422),
        "`title` is shorter than 1 character"
    );
    post(JSON, r#"{"title":"x","extra":1}"#).problem(422);
    post(JSON, r#"{"title":"x","done":"yes"}"#).problem(422);
    post(JSON, &format!(r#"{{"title":"{}"}}"#, "x".repeat(81))).problem(422);
    post(JSON, r#"{}"#).problem(422);

    server.request("GET", "/notes/abc", "", "").problem(400);
    server
        .request("GET", "/notes/4294967296", "", "")
        .problem(400);
    for bad in [
        "limit=0",
        "limit=26",
        "limit=x",
        "limit=+1",
        "offset=-1",
        "offset=4294967296",
    ] {
        server
            .request("GET", &format!("/notes?{bad}"), "", "")
            .problem(400);
    }
    let wrong = server.request("PATCH", "/notes/1", "", "");
    assert_eq!(wrong.status, 405);
    assert_eq!(
        wrong.header("Allow"),
        Some("GET, HEAD, PUT, DELETE, OPTIONS")
    );
}

/// A full store is 409 (RFC 9110 §15.5.10), as documented; a delete makes room again, and
/// the note that takes it lists after every older one.
#[test]
fn full_store() {
    let server = Server::start();
    for i in 1..=notes_api::CAPACITY {
        let reply = server.request("POST", "/notes", JSON, &format!(r#"{{"title":"n{i}"}}"#));
        assert_eq!(reply.status, 201);
    }
    let full = server.request("POST", "/notes", JSON, r#"{"title":"one more"}"#);
    assert!(full.problem(409).contains("delete one first"));
    assert_eq!(server.request("DELETE", "/notes/3", "", "").status, 204);
    let fits = server.request("POST", "/notes", JSON, r#"{"title":"fits"}"#);
    assert_eq!(fits.status, 201);
    assert_eq!(fits.header("Location"), Some("/notes/65"));
    server
        .request("POST", "/notes", JSON, r#"{"title":"one more"}"#)
        .problem(409);
    let page = server.request("GET", "/notes?offset=62&limit=25", "", "");
    assert_eq!(
        page.body,
        format!(
            r#"{{"items":[{},{}],"total":64,"offset":62,"limit":25}}"#,
            r#"{"id":64,"title":"n64","text":"","done":false}"#, fits.body
        )
    );
    let start = server.request("GET", "/notes?limit=3", "", "");
    assert!(
        start.body.starts_with(r#"{"items":[{"id":1,"#),
        "{}",
        start.body
    );
    assert!(start.body.contains(r#"},{"id":2,"#) && start.body.contains(r#"},{"id":4,"#));
}

/// The largest page, every character escaped six times over, fits the large buffers.
#[test]
fn largest_page_is_served_whole() {
    let server = Server::start();
    let title = "\\u0001".repeat(notes_api::TITLE_MAX);
    let text = "\\u0001".repeat(notes_api::TEXT_MAX);
    let body = format!(r#"{{"title":"{title}","text":"{text}"}}"#);
    for _ in 0..notes_api::PAGE_MAX {
        assert_eq!(server.request("POST", "/notes", JSON, &body).status, 201);
    }
    let page = server.request("GET", "/notes?limit=25", "", "");
    assert_eq!(page.status, 200);
    assert!(page.body.len() > 25 * 6 * (notes_api::TITLE_MAX + notes_api::TEXT_MAX));
    assert!(page.body.ends_with(r#""total":25,"offset":0,"limit":25}"#));
}
