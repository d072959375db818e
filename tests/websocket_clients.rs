//! The WebSocket echo (`zzz_apps::ws_echo`, served by `examples/ws_echo.rs`) against a real
//! client: Python's `websockets` package, from the tests' virtualenv (`ci/setup.sh`), and a
//! raw socket for what a correct client never sends.
//!
//! The server listens on a port the kernel picks; the client is bounded by a timeout that
//! kills it by PID; the server stops when the test ends.

#![cfg(target_os = "linux")]

mod support;

use std::time::Duration;

use support::{Client, TestServer, run_python_checks, test_python};
use zzz::core::Config;
use zzz::uring::Builder;
use zzz_apps::ws_echo::{EchoProtocol, PAGE, app};

/// How long the client may run before it is killed and the test fails.
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// Echoes of text and binary at the frame-length encoding's edges (0, 125, 126, 65,535 and
/// 65,536 = `max_frame` bytes), a fragmented message, ping/pong, a Close 1000 echoed (RFC 6455
/// §5.5.1); then, over a raw socket, an unmasked frame answered with Close 1002 (§5.1).
const CHECKS: &str = r#"
import base64, os, socket, sys
from websockets.sync.client import connect

host, port = sys.argv[1], int(sys.argv[2])
url = f"ws://{host}:{port}/ws"
with connect(url, max_size=2**20, open_timeout=10, close_timeout=10) as ws:
    for n in (0, 125, 126, 65535, 65536):
        text = "é" * (n // 2) + "x" * (n % 2)
        ws.send(text)
        assert ws.recv(timeout=10) == text, f"text {n}"
        data = os.urandom(n)
        ws.send(data)
        assert ws.recv(timeout=10) == data, f"binary {n}"
    ws.send(["frag", "men", "ted ✓"])
    assert ws.recv(timeout=10) == "fragmented ✓", "fragmented"
    ws.send([b"\x00\x01", b"", b"\x02"])
    assert ws.recv(timeout=10) == b"\x00\x01\x02", "fragmented binary"
    assert ws.ping(b"are you there").wait(timeout=10), "pong"
    ws.close(1000, "done")
    rcvd = ws.protocol.close_rcvd
    assert rcvd is not None and rcvd.code == 1000 and ws.close_code == 1000, rcvd

s = socket.create_connection((host, port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(4096)
    assert chunk, "closed during the handshake"
    head += chunk
assert head.startswith(b"HTTP/1.1 101 "), head
rest = head.split(b"\r\n\r\n", 1)[1]
s.sendall(b"\x81\x02hi")  # unmasked: RFC 6455 section 5.1
reply = rest
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
assert reply == b"\x88\x02\x03\xea", reply  # Close 1002, then the server closed
print("ok")
"#;

#[test]
fn python_websockets_client() {
    let server = TestServer::start(
        Builder::new(Config::DEFAULT)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), EchoProtocol::Http),
        |_| app(),
    );
    let addr = server.tcp(0);
    let page = Client::connect(addr).get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.body_str(), PAGE);
    run_python_checks(test_python(), CHECKS, addr, CLIENT_LIMIT);
    server.stop().unwrap();
}
