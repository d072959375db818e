//! The bench contract (ARCHITECTURE.md §7) served by the portable backend: `std::net` sockets and a
//! `poll(2)` loop, for systems without io_uring.
//!
//! ```text
//! cargo run --release --example portable -- [ADDR] [--threads N]
//! ```
//!
//! ADDR defaults to 127.0.0.1:8080. Each of the N threads (default 1) runs its own server on
//! its own `SO_REUSEPORT` listener. Ctrl-C (SIGINT) or SIGTERM stops accepting and lets
//! connections finish.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use zzz::bench_app;
use zzz::core::memory::Region;
use zzz::core::{Config, Now, Server, Sole};
use zzz::poll::Portable;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    let mut threads = 1usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--threads N")
            }
            other => addr = other.parse().expect("an address such as 127.0.0.1:8080"),
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).expect("signal handler");
    }
    let config = Config::DEFAULT;
    println!(
        "zzz portable: http://{addr}, {threads} thread(s), per thread {}",
        config.memory()
    );
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let stop = stop.clone();
            let listener = reuseport_listener(addr);
            std::thread::spawn(move || {
                let mut region = Region::for_config(&config);
                let server = Server::new(config, bench_app::app(), region.bytes(), Now::default())
                    .expect("server");
                let mut portable = Portable::new(server);
                portable.listen(listener, Sole).expect("listener");
                portable.run(&stop).expect("event loop");
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker thread");
    }
}

/// A listener with `SO_REUSEPORT`, so that each thread accepts on its own socket.
fn reuseport_listener(addr: SocketAddr) -> TcpListener {
    use rustix::net::{AddressFamily, SocketType, bind, listen, socket, sockopt};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = socket(family, SocketType::STREAM, None).expect("socket");
    sockopt::set_socket_reuseaddr(&fd, true).expect("SO_REUSEADDR");
    sockopt::set_socket_reuseport(&fd, true).expect("SO_REUSEPORT");
    bind(&fd, &addr).expect("bind");
    listen(&fd, 1024).expect("listen");
    TcpListener::from(fd)
}
