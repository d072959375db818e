//! Raw TCP protocol modules: an echo server, and a line protocol beside it, served by one
//! server as a set of two protocols.
//!
//! ```text
//! cargo run --example tcp_echo -- [ADDR]      # echo on ADDR (default 127.0.0.1:7007),
//!                                             # upper-casing lines on the next port
//! ```

use std::net::SocketAddr;

use zzz::core::tcp::TcpFn;
use zzz::core::{App, Config, Tcp, TcpCtx};

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

zzz::core::protocols! {
    /// The two protocols this server speaks, one per port.
    struct Served<()> {
        conn: ServedConn,
        id: Proto,
        /// Echo.
        echo: Echo => Tcp<TcpFn<()>>,
        /// Upper-cased lines.
        lines: Lines => Tcp<TcpFn<()>>,
    }
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7007".into())
        .parse()
        .expect("an address");
    let lines = SocketAddr::new(addr.ip(), addr.port() + 1);
    zzz::uring::Builder::new(Config::DEFAULT)
        .listen_tcp(addr, Proto::Echo)
        .listen_tcp(lines, Proto::Lines)
        .run(|_| {
            let modules = Served {
                echo: Tcp::new(echo as TcpFn<()>),
                lines: Tcp::new(shout as TcpFn<()>),
            };
            App::with_modules((), modules)
        })
}
