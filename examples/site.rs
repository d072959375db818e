//! A small personal website: pages from compiled templates, a stylesheet embedded with a gzip
//! copy, a 404 page. The app itself is `zzz::site`, shared with the Chromium test.
//!
//! ```text
//! cargo run --release --example site          # then open http://127.0.0.1:8080/
//! cargo run --release --example site -- 0.0.0.0:8000
//! cargo run --release --example site -- --metrics   # and the counters at /metrics
//! ```

use zzz::core::{Config, Sole};

fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut metrics = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--metrics" => metrics = true,
            _ => addr = arg,
        }
    }
    zzz::uring::Builder::new(Config::DEFAULT)
        .listen_tcp(addr.parse().expect("an address"), Sole)
        .run(move |_| {
            if metrics {
                zzz::site::app_with_metrics()
            } else {
                zzz::site::app()
            }
        })
}
