//! A WebSocket echo: `GET /` is a tiny page, `GET /ws` upgrades to an echo of every message
//! (`zzz_apps::ws_echo`), served by io_uring.
//!
//! ```text
//! cargo run --release --example ws_echo -- [ADDR]   # default 127.0.0.1:8080
//! python3 -m websockets ws://127.0.0.1:8080/ws
//! ```
//!
//! Frames up to 64 KiB and messages up to 1 MiB, streamed through (never held whole); an idle
//! connection is closed after 60 s; Ctrl-C sends every client Close 1001.

use zzz::core::Config;
use zzz_apps::ws_echo::{EchoProtocol, app};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    zzz::uring::Builder::new(Config::DEFAULT)
        .fallback_to_portable(true)
        .listen_tcp(addr.parse().expect("an address"), EchoProtocol::Http)
        .run(|_| app())
}
