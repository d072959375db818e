//! A chat room (`zzz::chat`): `GET /` a page with a chat box over WebSocket (`/ws`) and a feed
//! over server-sent events (`/events`); `POST /messages` with `{"name","text"}` posts too.
//! Every message reaches every client, in order; the last few hundred are kept as history.
//!
//! ```text
//! cargo run --release --example chat -- [ADDR] [--threads N]   # default 127.0.0.1:8080
//! ```
//!
//! With `--threads N` every thread is an instance with a room of its own (the kernel spreads
//! connections over them): clients see the messages of their instance's room only.

use zzz::chat::{ChatProtocol, app, config};

fn main() -> std::io::Result<()> {
    let mut addr = String::from("127.0.0.1:8080");
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n >= 1)
                    .expect("--threads takes a number of threads, at least 1");
            }
            other => addr = other.to_string(),
        }
    }
    zzz::uring::Builder::new(config())
        .threads(threads)
        .fallback_to_portable(true)
        .listen_tcp(addr.parse().expect("an address"), ChatProtocol::Http)
        .run(|_| app())
}
