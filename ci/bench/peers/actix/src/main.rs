//! Bench peer: actix-web 4 serving the zzz bench contract (ARCHITECTURE.md §7 The bench contract).
//!
//! `peer-actix [ADDR] [--threads N]` (defaults 127.0.0.1:8080, 1 worker).
//!
//! Set up as actix is run for speed: `workers(N)` single-threaded workers (actix-server adds
//! its own accept thread), no logger middleware, default features off (no compression
//! middleware, no cookies), routes matched on the path only.

use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue, SERVER};
use actix_web::web::{self, Bytes, PayloadConfig};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// Largest echo body accepted (actix's default for `Bytes` is 256 KiB).
const ECHO_LIMIT: usize = 64 * 1024 * 1024;

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((SERVER, HeaderValue::from_static("actix")))
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("text/plain")))
        .body(Bytes::from_static(b"Hello, World!"))
}

async fn json() -> HttpResponse {
    let body = serde_json::to_vec(&Message {
        message: "Hello, World!",
    })
    .expect("serialize a static message");
    HttpResponse::Ok()
        .insert_header((SERVER, HeaderValue::from_static("actix")))
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(body)
}

/// Everything else: the de-chunked body back, with the method and the target as received.
async fn echo(req: HttpRequest, body: Bytes) -> HttpResponse {
    let target = req.uri().to_string();
    let (Ok(method), Ok(target)) = (
        HeaderValue::from_str(req.method().as_str()),
        HeaderValue::from_str(&target),
    ) else {
        return HttpResponse::BadRequest().finish();
    };
    HttpResponse::Ok()
        .insert_header((SERVER, HeaderValue::from_static("actix")))
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        ))
        .insert_header((HeaderName::from_static("x-echo-method"), method))
        .insert_header((HeaderName::from_static("x-echo-target"), target))
        .body(body)
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

fn main() -> std::io::Result<()> {
    let (addr, threads) = parse_args();
    eprintln!("peer-actix: listening on {addr} with {threads} worker(s)");
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| {
            App::new()
                .app_data(PayloadConfig::new(ECHO_LIMIT))
                // A resource answers 405 to a method no route takes; the contract wants the
                // echo there too, hence a default service on each resource.
                .service(
                    web::resource("/plaintext")
                        .route(web::get().to(plaintext))
                        .default_service(web::to(echo)),
                )
                .service(
                    web::resource("/json")
                        .route(web::get().to(json))
                        .default_service(web::to(echo)),
                )
                .default_service(web::to(echo))
        })
        .workers(threads)
        .backlog(4096)
        // The bench stops servers with SIGTERM: exit at once rather than drain for 30 s.
        .shutdown_timeout(0)
        .bind(addr)?
        .run(),
    )
}
