//! The UDP protocol module: answers each datagram with itself.
//!
//! ```text
//! cargo run --example udp_echo -- [ADDR]      # default 127.0.0.1:7009
//! ```
//!
//! Datagrams of up to 2048 bytes are answered (longer ones are dropped), with up to 64
//! replies in flight at once (beyond, a datagram is dropped unanswered, and counted).

use zzz::core::{App, Config, PeerAddr, Sole, Udp};

fn echo(_: &mut (), _peer: PeerAddr, datagram: &[u8], reply: &mut [u8]) -> Option<usize> {
    let n = datagram.len().min(reply.len());
    reply[..n].copy_from_slice(&datagram[..n]);
    Some(n)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7009".into());
    let mut config = Config::DEFAULT;
    config.datagram_size = 2048;
    config.datagram_replies = 64;
    zzz::uring::Builder::new(config)
        .listen_udp(addr.parse().expect("an address"), Sole)
        .run(|_| App::with_modules((), Udp::new(echo)))
}
