//! A Redis-protocol key-value server: the `zzz_apps::kv` protocol module, written against the
//! core's public module interface only, served by io_uring.
//!
//! ```text
//! cargo run --release --example kv -- [ADDR] [--threads N] [--keys N] [--memory MIB]
//! redis-cli -p 6379 set greeting hello
//! redis-benchmark -p 6379 -t ping,set,get -P 16 -q
//! ```
//!
//! - ADDR defaults to 127.0.0.1:6379.
//! - `--threads N` (default 1) runs N instances, each on its own thread with its own
//!   `SO_REUSEPORT` listener and **its own store**: the kernel spreads connections over the
//!   instances by a hash of their addresses, so a key set through one connection is seen by
//!   the connections of the same instance only. Run one thread for one shared keyspace; run
//!   several to scale a cache whose clients tolerate that (each keeps to its connection).
//! - `--keys N` (default 1,000,000) and `--memory MIB` (default 256) size each instance's
//!   store: at most N keys, and MIB mebibytes for keys and values (in 64-byte blocks). The
//!   memory is reserved at startup and mapped as it is used; a full store answers `OOM`.
//!
//! A command must fit a connection's 64 KiB receive buffer, and a reply its 64 KiB send buffer
//! (so values are at most 65,526 bytes). See `zzz_apps::kv` for the commands served.

use std::hash::BuildHasher;
use std::net::SocketAddr;

use zzz::core::{App, Config, Sole};
use zzz_apps::kv::Kv;
use zzz_apps::kv::store::Capacity;

fn main() -> std::io::Result<()> {
    let mut addr: SocketAddr = "127.0.0.1:6379".parse().unwrap();
    let mut threads = 1;
    let mut capacity = Capacity {
        keys: 1_000_000,
        bytes: 256 << 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name} N"))
        };
        match arg.as_str() {
            "--threads" => threads = value("--threads") as usize,
            "--keys" => capacity.keys = value("--keys") as u32,
            "--memory" => capacity.bytes = value("--memory") << 20,
            other => addr = other.parse().expect("an address such as 127.0.0.1:6379"),
        }
    }
    zzz::uring::Builder::new(config())
        .threads(threads)
        .fallback_to_portable(true)
        .listen_tcp(addr, Sole)
        .run(move |_| {
            // A seed nobody can guess, so that no client can choose keys that collide.
            let seed = std::hash::RandomState::new().hash_one(0u64);
            App::with_modules((), Kv::new(capacity, seed))
        })
}

/// Redis-sized connections: many, with room for a pipelined batch or a large value each.
fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 1024;
    config.recv_buffer = 64 * 1024;
    config.send_buffer = 64 * 1024;
    // The store replies from the send buffer: no large buffers.
    config.large_buffers = 0;
    config
}
