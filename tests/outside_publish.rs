//! Messages from other threads (`Handle::publish`): a producer outside the server reaches the
//! subscribers of a topic through the instance's bounded mailbox, which wakes its loop; a
//! message longer than the topics take is refused, and so is one for a full mailbox.
//!
//! The chat app (`zzz::chat`) serves; the subscriber reads its server-sent events over a raw
//! socket of 127.0.0.1 with a bounded deadline.

#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::TestServer;
use zzz::chat::{ChatProtocol, MESSAGE_MAX, ROOM, app, config};
use zzz::uring::{Builder, PublishRefused};

/// Reads from `stream` until `needle` has arrived, at most `limit`; what arrived.
fn read_until(stream: &mut TcpStream, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while Instant::now() < deadline {
        if String::from_utf8_lossy(&got).contains(needle) {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("reading the event stream: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_thread_outside_the_server_publishes_to_a_topic() {
    let server = TestServer::start(
        Builder::new(config())
            .mailbox_bytes(256)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), ChatProtocol::Http),
        |_| app(),
    );
    let mut sse = TcpStream::connect(server.tcp(0)).unwrap();
    sse.write_all(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let head = read_until(&mut sse, "retry: 2000", Duration::from_secs(10));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let handle = server.handle();
    let producer = std::thread::spawn(move || {
        handle
            .publish(ROOM, br#"{"name":"sensor","text":"21 C"}"#)
            .unwrap();
    });
    producer.join().unwrap();
    let text = read_until(&mut sse, "21 C", Duration::from_secs(10));
    assert!(
        text.contains(r#"data: {"name":"sensor","text":"21 C"}"#),
        "{text}"
    );

    let handle = server.handle();
    assert_eq!(
        handle.publish(ROOM, &[b'x'; MESSAGE_MAX + 1]),
        Err(PublishRefused::TooLarge),
        "one byte past Topics::max_message"
    );
}

/// A producer much faster than the loop: a mailbox of 256 bytes takes as many messages as
/// fit (6 bytes of header each) and refuses the next until the instance has emptied it
/// (`Mailbox`'s unit test makes the refusal certain); what it took arrives, in order.
#[test]
fn messages_from_a_thread_arrive_in_order_or_are_refused() {
    let server = TestServer::start(
        Builder::new(config())
            .mailbox_bytes(256)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), ChatProtocol::Http),
        |_| app(),
    );
    let mut sse = TcpStream::connect(server.tcp(0)).unwrap();
    sse.write_all(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let _ = read_until(&mut sse, "retry: 2000", Duration::from_secs(10));
    let handle = server.handle();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..2000 {
        let message = format!("m{i:04}");
        match handle.publish(ROOM, message.as_bytes()) {
            Ok(()) => accepted.push(message),
            Err(PublishRefused::Full) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    let last = accepted.last().unwrap().clone();
    let text = read_until(&mut sse, &last, Duration::from_secs(20));
    let received: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(received, accepted, "every accepted message, in order");
    // 2,000 messages of 11 bytes cannot all wait in 256 bytes at once unless the loop keeps
    // up; either way the count adds up.
    assert_eq!(accepted.len() + refused, 2000);
}
