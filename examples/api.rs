//! A notes API with its OpenAPI document generated from the route table
//! (`zzz::notes_api`), served by io_uring (or the portable server where io_uring is not
//! available).
//!
//! ```text
//! cargo run --example api                  # serves on 127.0.0.1:8080
//! cargo run --example api -- 127.0.0.1:9000
//! cargo run --example api -- --openapi     # prints the OpenAPI document and exits
//! curl -s localhost:8080/openapi.json
//! curl -si -H 'Content-Type: application/json' -d '{"title":"milk"}' localhost:8080/notes
//! ```

use std::io::Write;

use zzz::core::Sole;
use zzz::notes_api;

fn main() -> std::io::Result<()> {
    let mut addr = String::from("127.0.0.1:8080");
    for arg in std::env::args().skip(1) {
        if arg == "--openapi" {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(notes_api::document().as_bytes())?;
            stdout.write_all(b"\n")?;
            return Ok(());
        }
        addr = arg;
    }
    zzz::uring::Builder::new(notes_api::CONFIG)
        .fallback_to_portable(true)
        .listen_tcp(addr.parse().expect("an address"), Sole)
        .run(|_| notes_api::app())
}
