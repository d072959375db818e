//! A connection flood over loopback: thousands of connections that never send a byte arrive
//! while a prompt client makes one request per fresh connection. The overload policy (the
//! server closes the connection that has waited longest without a request head to make room
//! for each newcomer) must keep every one of the prompt client's requests answered, and the
//! backend's waiting room must hold, and past its size turn away, what cannot be placed.
//!
//! Every wait is on an event (a read, a thread's end, an atomic count) with a guard timeout
//! that only catches a hang.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use support::{IO_GUARD, TestServer, read_retrying};
use zzz::core::{Config, Sole};
use zzz::uring::Builder;

/// The flood: silent connections, opened as fast as the kernel takes them.
const SILENT: usize = 3_000;
/// The prompt client's requests, each on a fresh connection.
const PROMPT: usize = 200;

fn flood_config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 256;
    config.large_buffers = 2;
    config
}

/// One `GET /plaintext` on a fresh connection, `Connection: close`; the whole answer.
fn one_request(addr: SocketAddr) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(IO_GUARD)).unwrap();
    stream
        .write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match read_retrying(&mut stream, &mut chunk) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read after {} bytes: {e}", got.len())),
        }
    }
}

/// 3,000 silent connections against 256 slots, and 200 prompt requests among them: every
/// prompt request is answered, the silent connections are shed to make room, and the
/// server's counters (read live through `Handle::stats`) say so. With the silent connections
/// never shed (an infinite grace period) the first prompt requests wait until the pressured
/// first-byte timeouts free slots, seconds later, and this fails.
#[test]
fn a_prompt_client_is_served_through_a_connection_flood() {
    // A waiting room for the whole flood: this test is about who is closed to make room,
    // the next one about what happens when the room is full.
    let server = TestServer::start(
        Builder::new(flood_config())
            .waiting_room(SILENT + PROMPT)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    );
    let addr = server.tcp(0);
    let opened = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let flood = {
        let (opened, done) = (opened.clone(), done.clone());
        std::thread::spawn(move || {
            let mut held = Vec::with_capacity(SILENT);
            let mut refused = 0;
            for _ in 0..SILENT {
                match TcpStream::connect(addr) {
                    Ok(stream) => held.push(stream),
                    Err(_) => refused += 1,
                }
                opened.fetch_add(1, Ordering::SeqCst);
            }
            // Hold them until the prompt client is done, so that they compete throughout.
            while !done.load(Ordering::SeqCst) {
                std::thread::park_timeout(IO_GUARD);
            }
            (held.len(), refused)
        })
    };
    // Start once the flood has filled every slot several times over.
    while opened.load(Ordering::SeqCst) < 1_000 {
        std::thread::yield_now();
    }
    let mut failures = Vec::new();
    for i in 0..PROMPT {
        match one_request(addr) {
            Ok(r) if r.starts_with(b"HTTP/1.1 200 OK") && r.ends_with(b"Hello, World!") => {}
            Ok(r) => failures.push(format!("#{i}: {:?}", String::from_utf8_lossy(&r))),
            Err(e) => failures.push(format!("#{i}: {e}")),
        }
    }
    let flood_still_arriving = opened.load(Ordering::SeqCst) < SILENT;
    let stats = server.handle().stats()[0];
    done.store(true, Ordering::SeqCst);
    flood.thread().unpark();
    let (held, refused) = flood.join().expect("the flood thread");
    assert!(
        failures.is_empty(),
        "{} of {PROMPT} prompt requests failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(held + refused, SILENT);
    assert!(
        stats.stats.shed > 500,
        "the silent connections made room: {:?}",
        stats.stats
    );
    assert!(stats.stats.requests >= PROMPT as u64);
    eprintln!(
        "flood: {held} silent connections ({refused} refused by the kernel), {PROMPT} prompt \
         requests answered{}; shed {}, turned away {}, first-byte timeouts {}",
        if flood_still_arriving {
            " while it arrived"
        } else {
            ""
        },
        stats.stats.shed,
        stats.stats.turned_away,
        stats.stats.first_byte_timeouts
    );
    server.stop().unwrap();
}

/// The waiting room holds `waiting_room` connections while no slot can be freed (every slot
/// is in the middle of a request), and turns away the next one: at the limit nothing is
/// refused, one past it the newcomer is closed unserved and counted. When the busy
/// connections finish, the waiting ones are served, in order.
#[test]
fn the_waiting_room_holds_its_size_and_turns_away_the_next() {
    let mut config = flood_config();
    config.max_connections = 2;
    let server = TestServer::start(
        Builder::new(config)
            .waiting_room(2)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    );
    let addr = server.tcp(0);
    // Two connections in the middle of a body: busy, never closed to make room.
    let mut busy: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
                .unwrap();
            s
        })
        .collect();
    let stats_until = |what: &str, done: &dyn Fn(&zzz::core::Snapshot) -> bool| {
        let (tx, rx) = mpsc::channel();
        let handle = server.handle();
        std::thread::spawn(move || {
            // Each read waits for the instance's next loop turn: an event, not a delay.
            for _ in 0..10_000 {
                let s = handle.stats()[0];
                if tx.send(s).is_err() {
                    return;
                }
            }
        });
        for s in rx.iter() {
            if done(&s) {
                return s;
            }
        }
        panic!("the server never reached: {what}");
    };
    stats_until("two busy requests", &|s| {
        s.gauges.active_connections == 2 && s.stats.accepted == 2
    });
    // At the limit: two more wait.
    let waiting: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // One past it: turned away, closed unserved.
    let mut extra = TcpStream::connect(addr).unwrap();
    extra.set_read_timeout(Some(IO_GUARD)).unwrap();
    let mut byte = [0u8; 1];
    match read_retrying(&mut extra, &mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the connection past the waiting room was not closed: {other:?}"),
    }
    let s = stats_until("one turned away", &|s| s.stats.turned_away >= 1);
    assert_eq!(s.stats.turned_away, 1, "only the one past the limit");
    assert_eq!(
        s.stats.shed + s.stats.reclaimed,
        0,
        "busy connections are never closed"
    );
    // The busy requests finish; the waiting connections get their slots and are served.
    for s in busy.iter_mut() {
        s.write_all(b"cd").unwrap();
        s.set_read_timeout(Some(IO_GUARD)).unwrap();
        let mut got = [0u8; 512];
        let n = read_retrying(s, &mut got).unwrap();
        assert!(got[..n].starts_with(b"HTTP/1.1 200 OK"));
    }
    drop(busy);
    for mut s in waiting {
        s.set_read_timeout(Some(IO_GUARD)).unwrap();
        s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert!(
            got.ends_with(b"Hello, World!"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
    }
    server.stop().unwrap();
}
