//! The UDP module: answers each datagram with itself.
//!
//! ```text
//! cargo run --example udp_echo -- [ADDR]      # default 127.0.0.1:7009
//! ```

use zzz::core::{App, Config, PeerAddr, Router};

fn echo(_: &mut (), _peer: PeerAddr, datagram: &[u8], reply: &mut [u8]) -> Option<usize> {
    let n = datagram.len().min(reply.len());
    reply[..n].copy_from_slice(&datagram[..n]);
    Some(n)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7009".into());
    zzz::uring::Builder::new(Config::DEFAULT)
        .listen_udp(addr.parse().expect("an address"), echo)
        .run(|_| App::new((), Router::new(&[]).expect("no routes")))
}
