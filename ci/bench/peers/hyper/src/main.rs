//! Bench peer: hyper 1 serving the zzz bench contract (ARCHITECTURE.md §7 The bench contract).
//!
//! `peer-hyper [ADDR] [--threads N]` (defaults 127.0.0.1:8080, 1 thread).
//!
//! Runtime choice: one tokio *current-thread* runtime per worker thread, each with its own
//! `SO_REUSEPORT` listener so the kernel spreads connections across threads. With the bench's one
//! pinned thread this avoids everything the multi-thread scheduler adds and cannot use here
//! (work-stealing queues, atomics on every wake, a separate blocking pool, cross-thread
//! unparks); with N threads it is the shared-nothing layout the fastest hyper entries use. The
//! price is no work stealing between threads, which a uniform benchmark load does not need.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpSocket;

const HELLO: &[u8] = b"Hello, World!";

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn main() {
    let (addr, threads) = parse_args();
    eprintln!("peer-hyper: listening on {addr} with {threads} thread(s)");
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            std::thread::Builder::new()
                .name(format!("hyper-{i}"))
                .spawn(move || serve_on_this_thread(addr))
                .expect("spawn worker thread")
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread panicked");
    }
}

fn parse_args() -> (SocketAddr, usize) {
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
    (addr.parse().expect("ADDR must be ip:port"), threads)
}

fn serve_on_this_thread(addr: SocketAddr) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("build tokio runtime");
    rt.block_on(async move {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.set_reuseport(true).expect("SO_REUSEPORT");
        socket.bind(addr).expect("bind");
        let listener = socket.listen(4096).expect("listen");
        let mut http = http1::Builder::new();
        // Write pipelined responses out together instead of one syscall per response.
        http.pipeline_flush(true);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(_) => continue,
            };
            let _ = stream.set_nodelay(true);
            let conn = http.serve_connection(TokioIo::new(stream), service_fn(handle));
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET {
        match req.uri().path() {
            "/plaintext" => return Ok(fixed("text/plain", Bytes::from_static(HELLO))),
            "/json" => {
                let body = serde_json::to_vec(&Message {
                    message: "Hello, World!",
                })
                .expect("serialize a static message");
                return Ok(fixed("application/json", Bytes::from(body)));
            }
            _ => {}
        }
    }
    Ok(echo(req).await)
}

fn fixed(content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut rsp = Response::new(Full::new(body));
    let h = rsp.headers_mut();
    h.insert(SERVER, HeaderValue::from_static("hyper"));
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    rsp
}

/// Answers with the de-chunked request body and the method and target as received.
async fn echo(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = HeaderValue::from_str(req.method().as_str());
    let target = HeaderValue::from_str(&req.uri().to_string());
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return status(400),
    };
    let (Ok(method), Ok(target)) = (method, target) else {
        return status(400);
    };
    let mut rsp = fixed("application/octet-stream", body);
    let h = rsp.headers_mut();
    h.insert(HeaderName::from_static("x-echo-method"), method);
    h.insert(HeaderName::from_static("x-echo-target"), target);
    rsp
}

fn status(code: u16) -> Response<Full<Bytes>> {
    let mut rsp = Response::new(Full::new(Bytes::new()));
    *rsp.status_mut() = hyper::StatusCode::from_u16(code).expect("valid status");
    rsp
}
