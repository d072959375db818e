//! The bench contract (ARCHITECTURE.md §7) on the io_uring backend: what `ci/bench/run.sh` measures
//! against its peers.
//!
//! ```text
//! cargo run --release --example bench -- [ADDR] [--threads N] [--pin] [--shared-listener]
//!                                               [--batch-wait-us US] [--recv-direct]
//! ```
//!
//! - ADDR defaults to 127.0.0.1:8080, N to 1; `--pin` pins instance i to CPU i;
//!   `--shared-listener` makes the instances share one listening socket instead of one
//!   `SO_REUSEPORT` socket each.
//! - `--batch-wait-us US` (default 50) lets each wait gather completions for up to US
//!   microseconds (`Builder::batch_wait_us`): under load, fewer wake-ups per request for at
//!   most US of added latency; 0 wakes for every completion.
//! - `--recv-direct` receives into each connection's buffer with one receive per read instead
//!   of multishot receives from the provided-buffer ring (`RecvMode`).
//!
//! The configuration differs from the defaults in two ways, both for the benchmark's sake: no
//! limit on requests per connection (wrk counts the reconnections the default limit of 1000
//! forces as errors when pipelining), and 1024 connection slots.

use std::net::SocketAddr;

use zzz::bench_app;
use zzz::core::{Config, Sole};
use zzz::uring::{Builder, ListenerMode, RecvMode};

fn main() -> std::io::Result<()> {
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    let mut threads = 1;
    let mut pin = false;
    let mut mode = ListenerMode::ReusePort;
    let mut batch_wait_us = 50;
    let mut recv_mode = RecvMode::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u32 {
            args.next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name} N"))
        };
        match arg.as_str() {
            "--threads" => threads = value("--threads") as usize,
            "--batch-wait-us" => batch_wait_us = value("--batch-wait-us"),
            "--pin" => pin = true,
            "--shared-listener" => mode = ListenerMode::Shared,
            "--recv-direct" => recv_mode = RecvMode::Direct,
            other => addr = other.parse().expect("an address such as 127.0.0.1:8080"),
        }
    }
    let mut config = Config::DEFAULT;
    config.max_connections = 1024;
    config.large_buffers = 8;
    config.max_requests_per_connection = u32::MAX;
    Builder::new(config)
        .threads(threads)
        .pin_cpus(pin)
        .listener_mode(mode)
        .batch_wait_us(batch_wait_us)
        .recv_mode(recv_mode)
        .listen_tcp(addr, Sole)
        .run(|_| bench_app::app())
}
