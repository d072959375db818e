//! The raw TCP module: an echo server, and a line protocol beside it.
//!
//! ```text
//! cargo run --example tcp_echo -- [ADDR]      # echo on ADDR (default 127.0.0.1:7007),
//!                                             # upper-casing lines on the next port
//! ```

use std::net::SocketAddr;

use zzz::core::{App, Config, Router, Service, TcpCtx};

/// Writes back what it receives, as much as fits now; the rest waits for room.
fn echo(ctx: &mut TcpCtx<()>, data: &[u8]) -> usize {
    let n = data.len().min(ctx.room());
    ctx.write(&data[..n]);
    n
}

/// A line protocol: answers each complete line upper-cased; `quit` closes.
fn shout(ctx: &mut TcpCtx<()>, data: &[u8]) -> usize {
    let mut consumed = 0;
    while let Some(end) = data[consumed..].iter().position(|&b| b == b'\n') {
        let line = &data[consumed..consumed + end + 1];
        if line.len() > ctx.room() {
            break; // Answer it when the send buffer has drained.
        }
        if line.trim_ascii() == b"quit" {
            ctx.close();
            return consumed + line.len();
        }
        let mut upper = [0u8; 256];
        for chunk in line.chunks(upper.len()) {
            let out = &mut upper[..chunk.len()];
            out.copy_from_slice(chunk);
            out.make_ascii_uppercase();
            ctx.write(out);
        }
        consumed += line.len();
    }
    consumed
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7007".into())
        .parse()
        .expect("an address");
    let lines = SocketAddr::new(addr.ip(), addr.port() + 1);
    zzz::uring::Builder::new(Config::DEFAULT)
        .listen_tcp(addr, Service::Tcp(echo))
        .listen_tcp(lines, Service::Tcp(shout))
        .run(|_| App::new((), Router::new(&[]).expect("no routes")))
}
