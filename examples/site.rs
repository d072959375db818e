//! A small personal website: pages from compiled templates, a stylesheet embedded with a gzip
//! copy, a 404 page. The app itself is `zzz::site`, shared with the Chromium test.
//!
//! ```text
//! cargo run --release --example site          # then open http://127.0.0.1:8080/
//! cargo run --release --example site -- 0.0.0.0:8000
//! ```

use zzz::core::{Config, Service};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    zzz::uring::Builder::new(Config::DEFAULT)
        .listen_tcp(addr.parse().expect("an address"), Service::Http)
        .run(|_| zzz::site::app())
}
