//! Bench peer: may_minihttp serving the zzz bench contract (ARCHITECTURE.md §7 The bench contract).
//!
//! `peer-may-minihttp [ADDR] [--threads N]` (defaults 127.0.0.1:8080, 1 worker).
//!
//! Set up as its TechEmpower entry is: one service per connection (`HttpServiceFactory`),
//! `may::config().set_workers(N)`. Worker pinning is turned off so that the CPU set chosen by
//! the bench (`taskset`) is the one that counts; may would otherwise pin worker i to core i.
//!
//! Known gap: may_minihttp 0.1.11 reads request bodies by `Content-Length` only and offers no
//! access to the raw connection, so a chunked request body cannot be read. Such a request is
//! answered `501 Not Implemented` with `Connection: close`, but the framework then tries to
//! parse the chunk bytes as the next request and drops the connection; when the body arrived
//! in the same read as the head, the 501 is dropped with it. The benchmark itself sends only
//! bodiless GETs.

use std::io::{self, Read};

use may_minihttp::{HttpService, HttpServiceFactory, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// One per connection. Holds the text of the two echo headers of the request being answered,
/// because may_minihttp's `Response::header` only takes `&'static str`.
struct Bench {
    method_header: String,
    target_header: String,
}

impl HttpService for Bench {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        let path = req.path().split('?').next().unwrap_or("");
        match (req.method(), path) {
            ("GET", "/plaintext") => {
                rsp.header("Content-Type: text/plain").body("Hello, World!");
            }
            ("GET", "/json") => {
                let body = serde_json::to_vec(&Message {
                    message: "Hello, World!",
                })
                .expect("serialize a static message");
                rsp.header("Content-Type: application/json").body_vec(body);
            }
            _ => self.echo(req, rsp)?,
        }
        Ok(())
    }
}

impl Bench {
    fn echo(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        let chunked = req.headers().iter().any(|h| {
            h.name.eq_ignore_ascii_case("transfer-encoding")
                && h.value.to_ascii_lowercase().ends_with(b"chunked")
        });
        if chunked {
            rsp.status_code(501, "Not Implemented")
                .header("Connection: close");
            return Ok(());
        }
        self.method_header.clear();
        self.method_header.push_str("x-echo-method: ");
        self.method_header.push_str(req.method());
        self.target_header.clear();
        self.target_header.push_str("x-echo-target: ");
        self.target_header.push_str(req.path());
        let mut body = Vec::new();
        req.body().read_to_end(&mut body)?;
        // SAFETY: may_minihttp 0.1.11 (pinned by Cargo.lock) encodes the response into its
        // output buffer as soon as `call` returns and drops it there, before it calls this
        // service again; the strings are only changed by the next `call` and freed with `self`,
        // so they outlive every use of these references.
        let (method, target): (&'static str, &'static str) = unsafe {
            (
                std::mem::transmute::<&str, &'static str>(self.method_header.as_str()),
                std::mem::transmute::<&str, &'static str>(self.target_header.as_str()),
            )
        };
        rsp.header("Content-Type: application/octet-stream")
            .header(method)
            .header(target)
            .body_vec(body);
        Ok(())
    }
}

struct Factory;

impl HttpServiceFactory for Factory {
    type Service = Bench;

    fn new_service(&self, _id: usize) -> Bench {
        Bench {
            method_header: String::with_capacity(32),
            target_header: String::with_capacity(64),
        }
    }
}

fn parse_args() -> (String, usize) {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--threads needs a positive integer")
            }
            _ => addr = a,
        }
    }
    (addr, threads)
}

fn main() {
    let (addr, threads) = parse_args();
    may::config().set_workers(threads).set_worker_pin(false);
    eprintln!("peer-may-minihttp: listening on {addr} with {threads} worker(s)");
    let server = Factory.start(addr.as_str()).expect("bind");
    server.join().expect("server coroutine");
}
