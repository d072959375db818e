//! The server started through `zzz_uring::Builder` with `fallback_to_portable(true)` serves a
//! real request over 127.0.0.1 whether or not io_uring is available. Where it is not (under
//! qemu-user, which implements no io_uring: ci/cross.sh runs this test there), the builder
//! falls back to the portable poll server and says why; where it is, nothing is said.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use zzz::bench_app;
use zzz::core::{Config, Sole};
use zzz::uring::{BoundAddr, Builder};

/// Every warning logged while the test runs.
struct Warnings(Mutex<Vec<String>>);

impl log::Log for Warnings {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push(record.args().to_string());
        }
    }

    fn flush(&self) {}
}

static WARNINGS: Warnings = Warnings(Mutex::new(Vec::new()));

#[test]
fn the_server_serves_with_io_uring_or_says_why_it_falls_back() {
    log::set_logger(&WARNINGS).expect("the only logger of this test binary");
    log::set_max_level(log::LevelFilter::Warn);
    // The builder's own probe, on a thread of its own as the builder runs it (creating a ring
    // on this thread could interrupt its next blocking call).
    let io_uring = std::thread::spawn(zzz::uring::probe).join().unwrap();

    let running = Builder::new(Config::DEFAULT)
        .fallback_to_portable(true)
        .quiet()
        .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole)
        .start(|_| bench_app::app())
        .expect("the server starts, with io_uring or without");
    let BoundAddr::Tcp(addr) = running.addrs()[0].clone() else {
        panic!("a TCP listener");
    };
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    client
        .write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    client
        .read_to_string(&mut answer)
        .expect("an answer and a close within 30 s");
    running.stop().expect("a clean stop");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nHello, World!"), "{answer}");

    let warnings = WARNINGS.0.lock().unwrap().clone();
    match io_uring {
        Ok(()) => assert!(
            !warnings.iter().any(|w| w.contains("portable")),
            "io_uring is available, yet: {warnings:?}"
        ),
        Err(unavailable) => {
            let said = format!("zzz: {unavailable}; serving with the portable poll server");
            assert!(
                warnings.contains(&said),
                "the fallback says why ({said}); warnings: {warnings:?}"
            );
            assert!(said.contains("io_uring is unavailable: "), "{said}");
        }
    }
}
