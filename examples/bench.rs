//! The bench contract (DESIGN §7) on the io_uring backend: what `ci/bench/run.sh` measures
//! against its peers.
//!
//! ```text
//! cargo run --release --example bench -- [ADDR] [--threads N] [--pin] [--shared-listener]
//! ```
//!
//! ADDR defaults to 127.0.0.1:8080, N to 1. `--pin` pins instance i to CPU i;
//! `--batch-wait-us US` lets each wait gather completions for up to US microseconds (see
//! `Builder::batch_wait_us`).

use std::net::SocketAddr;

use zzz::bench_app;
use zzz::core::{Config, Service};
use zzz::uring::{Builder, ListenerMode, RecvMode};

fn main() -> std::io::Result<()> {
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    let mut threads = 1;
    let mut pin = false;
    let mut mode = ListenerMode::ReusePort;
    let mut batch_wait_us = 0;
    let mut recv_mode = RecvMode::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--threads N")
            }
            "--pin" => pin = true,
            "--shared-listener" => mode = ListenerMode::Shared,
            "--recv-ring" => {
                recv_mode = RecvMode::BufferRing {
                    buffers: 1024,
                    size: 4096,
                }
            }
            "--batch-wait-us" => {
                batch_wait_us = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--batch-wait-us N")
            }
            other => addr = other.parse().expect("an address such as 127.0.0.1:8080"),
        }
    }
    // Sized for the benchmark: 4 KiB of receive and send buffer per connection hold any
    // request of the contract and 16 pipelined responses.
    let mut config = Config::DEFAULT;
    config.max_connections = 1024;
    config.recv_buffer = 16 * 1024;
    config.send_buffer = 16 * 1024;
    config.large_buffers = 8;
    config.max_requests_per_connection = u32::MAX;
    Builder::new(config)
        .threads(threads)
        .pin_cpus(pin)
        .listener_mode(mode)
        .batch_wait_us(batch_wait_us)
        .recv_mode(recv_mode)
        .listen_tcp(addr, Service::Http)
        .run(|_| bench_app::app())
}
