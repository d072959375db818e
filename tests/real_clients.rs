//! The io_uring server against real clients (issue 4): curl, Python's `http.client`, raw
//! sockets, UDP and raw TCP echo handlers, a Unix domain socket, IPv6 loopback, graceful
//! shutdown, and a short wrk run.
//!
//! Each test starts its own server in this process on an address the kernel picks (port 0),
//! bounds every client by a timeout that kills it by PID, and stops its server when it ends,
//! passing or failing. The clients come from `ci/setup.sh`; a missing one fails the test with a
//! message that says so.

#![cfg(target_os = "linux")]

mod support;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{Client, TestServer, chunked, pseudo_random, run_bounded, run_python_checks};
use zzz::core::tcp::TcpFn;
use zzz::core::{
    App, Config, Ctx, Http, PeerAddr, Protocols, Request, Response, Route, Router, Sole, Status,
    Tcp, TcpCtx, Udp,
};
use zzz::uring::{Builder, ListenerMode};

/// How long any client program may run before it is killed and the test fails.
const CLIENT_LIMIT: Duration = Duration::from_secs(30);

/// The test configuration: the defaults, with fewer connections and large buffers so that a
/// dozen servers at once stay small.
fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 64;
    config.large_buffers = 4;
    config
}

/// The bench app (ARCHITECTURE.md §7) on `addr`.
fn bench_server(addr: &str) -> TestServer {
    TestServer::start(
        Builder::new(config()).listen_tcp(addr.parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    )
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A file under the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("zzz-itest-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }

    fn with(name: &str, contents: &[u8]) -> TempFile {
        let file = TempFile::new(name);
        std::fs::write(&file.0, contents).expect("write a temporary file");
        file
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs curl with `args` (and `--max-time` as its own guard); returns stdout and the
/// verbose trace on stderr. Fails the test when curl fails. `-q` (first) ignores any
/// `~/.curlrc` and `--noproxy` any proxy variables of the environment.
fn curl(args: &[&str]) -> (Vec<u8>, String) {
    let output = run_bounded(
        Command::new("curl")
            .args(["-q", "--silent", "--show-error", "--noproxy", "*"])
            .args(["--max-time", "20"])
            .args(args),
        CLIENT_LIMIT,
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "curl {args:?} failed ({}):\n{stderr}",
        output.status
    );
    (output.stdout, stderr)
}

/// The lines of curl's verbose trace that start with `prefix` (`<` received, `>` sent, `*`
/// info).
fn trace_lines<'t>(trace: &'t str, prefix: &str) -> Vec<&'t str> {
    trace
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.trim_end())
        .collect()
}

/// How many TCP connections curl opened, and whether it said it reused one. curl 7.x says
/// "Re-using existing connection", 8.x "Re-using existing connection" or "Reusing existing
/// ... connection"; each new connection says "Connected to".
fn curl_connections(trace: &str) -> (usize, bool) {
    let info = trace_lines(trace, "*");
    let opened = info.iter().filter(|l| l.contains("Connected to")).count();
    let reused = info.iter().any(|l| {
        let l = l.to_ascii_lowercase();
        (l.contains("re-using existing") || l.contains("reusing existing"))
            && l.contains("connection")
    });
    (opened, reused)
}

/// RFC 9112 §9.3: a persistent connection carries the next request; curl, given two URLs on
/// one host, sends both on one connection.
#[test]
fn curl_reuses_a_keep_alive_connection() {
    let server = bench_server("127.0.0.1:0");
    let addr = server.tcp(0);
    let (body, trace) = curl(&["--verbose", &url(addr, "/plaintext"), &url(addr, "/json")]);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "Hello, World!{\"message\":\"Hello, World!\"}"
    );
    let (opened, reused) = curl_connections(&trace);
    assert_eq!(opened, 1, "curl opened {opened} connections:\n{trace}");
    assert!(reused, "curl did not reuse its connection:\n{trace}");
    let statuses = trace_lines(&trace, "< HTTP/1.1 200");
    assert_eq!(statuses.len(), 2, "{trace}");
    server.stop().unwrap();
}

/// RFC 9112 §7.1: a chunked upload is de-chunked; the echo route returns exactly the bytes.
#[test]
fn curl_chunked_upload_is_echoed() {
    let server = bench_server("127.0.0.1:0");
    let data = pseudo_random(100_000, 1);
    let file = TempFile::with("chunked-upload", &data);
    let upload = format!("@{}", file.0.display());
    let (body, trace) = curl(&[
        "--verbose",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &upload,
        &url(server.tcp(0), "/upload/chunked"),
    ]);
    assert!(
        trace_lines(&trace, "> Transfer-Encoding: chunked").len() == 1,
        "curl did not send a chunked body:\n{trace}"
    );
    assert!(
        trace.contains("< HTTP/1.1 200"),
        "no 200 for the upload:\n{trace}"
    );
    assert!(trace.contains("< x-echo-method: POST"), "{trace}");
    assert_eq!(body.len(), data.len());
    assert!(body == data, "the echoed body differs from the upload");
    server.stop().unwrap();
}

/// RFC 9110 §10.1.1 and §15.2.1: a request with `Expect: 100-continue` gets the interim `100
/// Continue` before it sends its body, then the final response. The header is given
/// explicitly because curl's own threshold for sending it differs between versions (1 KiB in
/// 7.x, 1 MiB in recent 8.x).
#[test]
fn curl_expect_100_continue() {
    let server = bench_server("127.0.0.1:0");
    let data = pseudo_random(64 * 1024, 2);
    let file = TempFile::with("expect-upload", &data);
    let upload = format!("@{}", file.0.display());
    let (body, trace) = curl(&[
        "--verbose",
        "-H",
        "Expect: 100-continue",
        // Do not give up waiting for the 100 and send the body anyway: that would hide a
        // server that never sends it.
        "--expect100-timeout",
        "15",
        "--data-binary",
        &upload,
        &url(server.tcp(0), "/upload/expect"),
    ]);
    assert_eq!(
        trace_lines(&trace, "> Expect: 100-continue").len(),
        1,
        "{trace}"
    );
    let statuses = trace_lines(&trace, "< HTTP/1.1 ");
    assert!(
        statuses.len() == 2
            && statuses[0].starts_with("< HTTP/1.1 100")
            && statuses[1].starts_with("< HTTP/1.1 200"),
        "expected 100 then 200, got {statuses:?}:\n{trace}"
    );
    assert!(body == data, "the echoed body differs from the upload");
    server.stop().unwrap();
}

/// RFC 9110 §9.3.2: HEAD gets the GET's header fields, Content-Length included, and no body.
#[test]
fn curl_head() {
    let server = bench_server("127.0.0.1:0");
    let addr = server.tcp(0);
    // Two HEADs on one connection: a body after the first would corrupt the second.
    let (headers, trace) = curl(&[
        "--verbose",
        "--head",
        &url(addr, "/plaintext"),
        &url(addr, "/json"),
    ]);
    let headers = String::from_utf8_lossy(&headers);
    let blocks: Vec<&str> = headers
        .split("\r\n\r\n")
        .filter(|b| !b.is_empty())
        .collect();
    assert_eq!(blocks.len(), 2, "{headers}");
    for (block, length) in blocks.iter().zip(["13", "27"]) {
        assert!(block.starts_with("HTTP/1.1 200"), "{block}");
        let content_length = block
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap_or_else(|| panic!("no Content-Length in {block}"));
        assert_eq!(content_length, length, "{block}");
    }
    assert_eq!(curl_connections(&trace), (1, true), "{trace}");

    // The same on a raw socket: the GET's response follows the HEAD's head directly.
    let mut client = Client::connect(addr);
    client.send(
        b"HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let head = client.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Content-Length"), Some("13"));
    let get = client.response();
    assert_eq!((get.status, get.body_str()), (200, "Hello, World!"));
    server.stop().unwrap();
}

/// RFC 9112 §9.3: an HTTP/1.0 request without keep-alive closes after its response, which
/// says `Connection: close`; with `Connection: keep-alive` the connection persists.
#[test]
fn curl_http10_connection_handling() {
    let server = bench_server("127.0.0.1:0");
    let addr = server.tcp(0);
    let (body, trace) = curl(&[
        "--verbose",
        "--http1.0",
        &url(addr, "/plaintext"),
        &url(addr, "/plaintext"),
    ]);
    assert_eq!(body, b"Hello, World!Hello, World!");
    assert_eq!(
        trace_lines(&trace, "> GET /plaintext HTTP/1.0").len(),
        2,
        "{trace}"
    );
    let closes = trace_lines(&trace, "<")
        .iter()
        .filter(|l| l.eq_ignore_ascii_case("< connection: close"))
        .count();
    assert_eq!(
        closes, 2,
        "each response should say Connection: close:\n{trace}"
    );
    let (opened, reused) = curl_connections(&trace);
    assert!(
        opened == 2 && !reused,
        "HTTP/1.0 without keep-alive reused a connection:\n{trace}"
    );

    // The same on a raw socket: the server closes after the response.
    let mut client = Client::connect(addr);
    client.send(b"GET /plaintext HTTP/1.0\r\n\r\n");
    let response = client.response();
    assert_eq!(
        (response.status, response.body_str()),
        (200, "Hello, World!")
    );
    assert!(response.closes(), "{response:?}");
    client.expect_closed();

    // HTTP/1.0 with keep-alive asked for: one connection for both.
    let (body, trace) = curl(&[
        "--verbose",
        "--http1.0",
        "-H",
        "Connection: keep-alive",
        &url(addr, "/plaintext"),
        &url(addr, "/json"),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "Hello, World!{\"message\":\"Hello, World!\"}"
    );
    assert_eq!(curl_connections(&trace), (1, true), "{trace}");
    server.stop().unwrap();
}

/// Python's http.client: several requests on one connection (the socket stays the same), a
/// POST with a body, statuses and bodies checked.
#[test]
fn python_http_client() {
    const SCRIPT: &str = r#"
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
conn.connect()
port = conn.sock.getsockname()[1]
def check(method, path, body, status, expected, headers={}):
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    assert r.status == status, (method, path, r.status, data)
    assert data == expected, (method, path, data)
    assert conn.sock is not None and conn.sock.getsockname()[1] == port, "reconnected"
    return r
r = check("GET", "/plaintext", None, 200, b"Hello, World!")
assert r.getheader("Content-Type") == "text/plain", r.getheaders()
assert r.getheader("Server") is not None and r.getheader("Date") is not None
check("GET", "/json", None, 200, b'{"message":"Hello, World!"}')
body = bytes(range(256)) * 40
r = check("POST", "/py/post?x=1", body, 200, body)
assert r.getheader("x-echo-method") == "POST" and r.getheader("x-echo-target") == "/py/post?x=1"
r = check("PUT", "/py/put", b"put body", 200, b"put body")
r = check("DELETE", "/py/delete", None, 200, b"")
assert r.getheader("x-echo-method") == "DELETE"
for method in ["PURGE", "REPORT", "SEARCH", "LINK", "SOURCE", "QUERY"]:
    r = check(method, "/plaintext", b"ext " + method.encode(), 200, b"ext " + method.encode())
    assert r.getheader("x-echo-method") == method, r.getheaders()
for i in range(20):
    check("GET", "/plaintext", None, 200, b"Hello, World!")
print("ok")
"#;
    let server = bench_server("127.0.0.1:0");
    let addr = server.tcp(0);
    run_python_checks("python3", SCRIPT, addr, CLIENT_LIMIT);
    server.stop().unwrap();
}

/// RFC 9112 §9.3.2: 16 requests in one write get 16 responses, in order.
#[test]
fn pipelining_16_requests_in_one_write() {
    let server = bench_server("127.0.0.1:0");
    let mut client = Client::connect(server.tcp(0));
    let mut batch = Vec::new();
    for i in 0..16 {
        let request = match i % 4 {
            0 => "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n".to_string(),
            1 => "GET /json HTTP/1.1\r\nHost: t\r\n\r\n".to_string(),
            2 => format!(
                "POST /pipe/{i} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\nbody {i}",
                format!("body {i}").len()
            ),
            _ => format!(
                "PUT /pipe/{i} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                String::from_utf8(chunked(format!("chunked {i}").as_bytes(), 3)).unwrap()
            ),
        };
        batch.extend_from_slice(request.as_bytes());
    }
    client.send(&batch);
    for i in 0..16 {
        let r = client.response();
        assert_eq!(r.status, 200, "response {i}: {r:?}");
        match i % 4 {
            0 => assert_eq!(r.body_str(), "Hello, World!"),
            1 => assert_eq!(r.body_str(), "{\"message\":\"Hello, World!\"}"),
            2 => {
                assert_eq!(
                    r.header("x-echo-target"),
                    Some(format!("/pipe/{i}").as_str())
                );
                assert_eq!(r.body_str(), format!("body {i}"));
            }
            _ => {
                assert_eq!(r.header("x-echo-method"), Some("PUT"));
                assert_eq!(
                    r.header("x-echo-target"),
                    Some(format!("/pipe/{i}").as_str())
                );
                assert_eq!(r.body_str(), format!("chunked {i}"));
            }
        }
        assert!(!r.closes(), "response {i} closes the connection");
    }
    // The connection is still usable.
    assert_eq!(client.get("/plaintext").status, 200);
    server.stop().unwrap();
}

/// ARCHITECTURE.md §5 HTTP/1.1 and RFC 9112 §6.3: a request with both Content-Length and
/// Transfer-Encoding is answered 400 and the connection closed (whatever follows could be a
/// smuggled request); a head over the limit is 431 then close; an unsupported version 505 then
/// close.
#[test]
fn error_statuses_close_the_connection() {
    let server = bench_server("127.0.0.1:0");
    let addr = server.tcp(0);

    let mut client = Client::connect(addr);
    client.send(
        b"POST /smuggle HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\
          0\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let r = client.response();
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.closes(), "{r:?}");
    client.expect_closed();

    let mut client = Client::connect(addr);
    let big = "a".repeat(20 * 1024);
    client.send(format!("GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n").as_bytes());
    let r = client.response();
    assert_eq!(r.status, 431, "{r:?}");
    assert!(r.closes(), "{r:?}");
    client.expect_closed();

    let mut client = Client::connect(addr);
    client.send(b"GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n");
    let r = client.response();
    assert_eq!(r.status, 505, "{r:?}");
    assert!(r.closes(), "{r:?}");
    client.expect_closed();

    // RFC 9110 §7.2, §4.2.1: an empty Host gives an origin-form target no authority.
    let mut client = Client::connect(addr);
    client.send(b"GET /plaintext HTTP/1.1\r\nHost:\r\n\r\n");
    let r = client.response();
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.closes(), "{r:?}");
    client.expect_closed();

    // The server still serves.
    assert_eq!(Client::connect(addr).get("/plaintext").status, 200);
    server.stop().unwrap();
}

fn udp_echo(_: &mut (), _: PeerAddr, datagram: &[u8], reply: &mut [u8]) -> Option<usize> {
    let n = datagram.len().min(reply.len());
    reply[..n].copy_from_slice(&datagram[..n]);
    Some(n)
}

fn tcp_echo(ctx: &mut TcpCtx<()>, data: &[u8]) -> usize {
    let n = data.len().min(ctx.room());
    ctx.write(&data[..n]);
    n
}

/// The test configuration with datagram buffers of `size` bytes.
fn udp_config(size: u32) -> Config {
    let mut config = config();
    config.datagram_size = size;
    config.datagram_replies = 4;
    config
}

/// The datagram module: each datagram is answered with itself, to its sender, up to the
/// largest a UDP socket carries.
#[test]
fn udp_echo_round_trip() {
    let server = TestServer::start(
        Builder::new(udp_config(65_536)).listen_udp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| App::with_modules((), Udp::new(udp_echo)),
    );
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    socket.connect(server.udp(0)).unwrap();
    let mut buf = [0u8; 65536];
    for (i, len) in [1usize, 13, 512, 1472, 8000, 60_000]
        .into_iter()
        .enumerate()
    {
        let datagram = pseudo_random(len, 10 + i as u64);
        socket.send(&datagram).unwrap();
        let n = support::recv_retrying(&socket, &mut buf)
            .unwrap_or_else(|e| panic!("no echo for a {len}-byte datagram: {e}"));
        assert_eq!(&buf[..n], &datagram[..], "echo of a {len}-byte datagram");
    }
    server.stop().unwrap();
}

/// `Config::datagram_size` is the largest datagram served: one of that size is answered,
/// one a byte longer is dropped (not answered cut), and the socket goes on answering.
#[test]
fn a_datagram_past_datagram_size_is_dropped() {
    const SIZE: usize = 1000;
    let server = TestServer::start(
        Builder::new(udp_config(SIZE as u32)).listen_udp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| App::with_modules((), Udp::new(udp_echo)),
    );
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    socket.connect(server.udp(0)).unwrap();
    let mut buf = [0u8; 4096];
    // One past the limit, then one at it: the first answer is the second's, whole.
    socket.send(&pseudo_random(SIZE + 1, 1)).unwrap();
    let at_limit = pseudo_random(SIZE, 2);
    socket.send(&at_limit).unwrap();
    let n = support::recv_retrying(&socket, &mut buf).expect("an answer at the limit");
    assert_eq!(
        &buf[..n],
        &at_limit[..],
        "the answer is the datagram at the limit"
    );
    server.stop().unwrap();
}

/// The raw TCP module: an echo handler returns every byte, in order, with backpressure
/// (200 KB is more than the connection's buffers, so the handler waits for room).
#[test]
fn raw_tcp_echo() {
    let server = TestServer::start(
        Builder::new(config()).listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| App::with_modules((), Tcp::new(tcp_echo as TcpFn<()>)),
    );
    let stream = TcpStream::connect(server.tcp(0)).unwrap();
    stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    let data = pseudo_random(200_000, 3);
    let mut writer = stream.try_clone().unwrap();
    let sent = data.clone();
    let write = std::thread::spawn(move || {
        for piece in sent.chunks(7000) {
            writer.write_all(piece).unwrap();
        }
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    let mut reader = stream;
    let mut chunk = [0u8; 16384];
    while echoed.len() < data.len() {
        let n = support::read_retrying(&mut reader, &mut chunk).expect("read the echo");
        assert!(
            n > 0,
            "closed after {} of {} bytes",
            echoed.len(),
            data.len()
        );
        echoed.extend_from_slice(&chunk[..n]);
    }
    write.join().unwrap();
    assert!(echoed == data, "the echo differs");
    server.stop().unwrap();
}

zzz::core::protocols! {
    /// HTTP, and the raw-TCP echo an HTTP request can upgrade to.
    struct Upgradable<()> {
        conn: UpgradableConn,
        id: UpgradableId,
        /// HTTP/1.1, with `GET /upgrade`.
        http: Http => Http<()>,
        /// The echo.
        echo: Echo => Tcp<TcpFn<()>>,
    }
}

/// `GET /upgrade` with `Upgrade: echo`: 101, and the connection is the echo's.
fn upgrade(ctx: &mut Ctx<()>, req: &Request) -> Response {
    if req.header("upgrade") != Some(b"echo") {
        return ctx.text(Status::BAD_REQUEST, "Upgrade: echo, please\n");
    }
    ctx.switch_protocol(Upgradable::id_index(UpgradableId::Echo));
    ctx.respond(Status::SWITCHING_PROTOCOLS)
        .header("Upgrade", "echo")
        .body(b"")
}

/// RFC 9110 §7.8 over io_uring: an HTTP request upgrades its connection to another protocol
/// module of the server's set; what the client sends with and after the request is echoed.
#[test]
fn http_upgrade_to_another_protocol() {
    static ROUTES: &[Route<()>] = &[Route::get("/upgrade", upgrade)];
    let server = TestServer::start(
        Builder::new(config()).listen_tcp("127.0.0.1:0".parse().unwrap(), UpgradableId::Http),
        |_| {
            let modules = Upgradable {
                http: Http::new(Router::new(ROUTES).expect("valid routes")),
                echo: Tcp::new(tcp_echo as TcpFn<()>),
            };
            App::with_modules((), modules)
        },
    );
    let mut stream = TcpStream::connect(server.tcp(0)).unwrap();
    stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    stream
        .write_all(b"GET /upgrade HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nearly")
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !got.ends_with(b"early") {
        let n = support::read_retrying(&mut stream, &mut chunk).expect("the 101 and the echo");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nConnection: upgrade\r\n") && text.contains("\r\nUpgrade: echo\r\n"));
    let data = pseudo_random(100_000, 9);
    let mut writer = stream.try_clone().unwrap();
    let sent = data.clone();
    let write = std::thread::spawn(move || writer.write_all(&sent).unwrap());
    let mut echoed = vec![0u8; data.len()];
    std::io::Read::read_exact(&mut stream, &mut echoed).expect("the echo");
    write.join().unwrap();
    assert!(echoed == data, "echoed after the upgrade, in order");
    server.stop().unwrap();
}

/// HTTP over a Unix domain socket, with curl's `--unix-socket`.
#[test]
fn unix_socket_with_curl() {
    let path = TempFile::new("http.sock");
    let server = TestServer::start(Builder::new(config()).listen_unix(&path.0, Sole), |_| {
        zzz::bench_app::app()
    });
    let socket = path.0.to_str().unwrap();
    let (body, trace) = curl(&[
        "--verbose",
        "--unix-socket",
        socket,
        "http://localhost/plaintext",
        "http://localhost/json",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "Hello, World!{\"message\":\"Hello, World!\"}"
    );
    assert_eq!(trace_lines(&trace, "< HTTP/1.1 200").len(), 2, "{trace}");
    let (body, _) = curl(&[
        "--unix-socket",
        socket,
        "--data-binary",
        "over a unix socket",
        "http://localhost/unix/echo",
    ]);
    assert_eq!(body, b"over a unix socket");
    server.stop().unwrap();
}

/// TCP over IPv6 loopback, when the machine has one.
#[test]
fn ipv6_loopback() {
    if let Err(e) = TcpListener::bind("[::1]:0") {
        println!("ipv6_loopback: skipped, this machine has no IPv6 loopback ({e})");
        return;
    }
    let server = bench_server("[::1]:0");
    let addr = server.tcp(0);
    assert!(addr.is_ipv6());
    let (body, trace) = curl(&["--verbose", "--globoff", &url(addr, "/plaintext")]);
    assert_eq!(body, b"Hello, World!");
    assert!(trace.contains("< HTTP/1.1 200"), "{trace}");
    let mut client = Client::connect(addr);
    let r = client.post("/v6", b"over IPv6");
    assert_eq!((r.status, r.body_str()), (200, "over IPv6"));
    server.stop().unwrap();
}

/// Graceful shutdown: a request whose body is still arriving when the shutdown starts
/// completes; then the connection closes, the server stops, and new connections are refused.
#[test]
fn graceful_shutdown_finishes_in_flight_request() {
    let server = bench_server("127.0.0.1:0");
    let addr = server.tcp(0);
    let mut client = Client::connect(addr);
    assert_eq!(client.get("/plaintext").status, 200);
    // `Expect: 100-continue` makes "the server is waiting for this body" observable: the 100
    // comes once the head is parsed and the body is awaited.
    client.send(
        b"POST /in-flight HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
    );
    let interim = client.response_with_interim();
    assert_eq!(interim.status, 100, "{interim:?}");

    server.handle().shutdown();
    client.send(b"slow ");
    client.send(b"body!");
    let r = client.response();
    assert_eq!((r.status, r.body_str()), (200, "slow body!"), "{r:?}");
    // Whether the body or the stop reached the instance first, the connection closes after
    // this response: with `Connection: close`, or as an idle connection of a draining server.
    client.expect_closed();
    drop(client);

    // The listener no longer accepts: a connection made now gets no response. The kernel may
    // still complete its handshake into the backlog until the instance exits and closes the
    // listener, which resets it (during the handshake or after).
    match TcpStream::connect(addr) {
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
            ),
            "{e}"
        ),
        Ok(stream) => {
            let mut late = Client::from_stream(stream);
            let _ = late
                .stream
                .write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
            late.expect_closed();
        }
    }
    server.wait().expect("the instance stops cleanly");
    let refused = TcpStream::connect(addr).expect_err("the listener is closed after stopping");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

/// A stopped server leaves its address free at once, for a restart: without waiting for the
/// accepts it cancelled, an instance used to exit while the kernel's asynchronous teardown of
/// its ring still held the socket listening, and binding the address again (without
/// `SO_REUSEPORT`) failed with "address in use" for a moment.
#[test]
fn a_stopped_server_frees_its_address_at_once() {
    for (mode, threads) in [(ListenerMode::Shared, 2), (ListenerMode::ReusePort, 1)] {
        let mut addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        for round in 0..3 {
            let server = TestServer::start(
                Builder::new(config())
                    .threads(threads)
                    .listener_mode(mode)
                    .listen_tcp(addr, Sole),
                |_| zzz::bench_app::app(),
            );
            addr = server.tcp(0);
            let mut client = Client::connect(addr);
            assert_eq!(client.get("/plaintext").status, 200);
            drop(client);
            server.stop().expect("the instances stop cleanly");
            let again = TcpListener::bind(addr);
            assert!(again.is_ok(), "{mode:?}, round {round}: {again:?}");
        }
    }
}

/// A short wrk run on /plaintext (2 s, 2 threads, 16 connections): every response is 2xx and
/// no socket errors. wrk prints "Non-2xx or 3xx responses" and "Socket errors" only when
/// there are some.
///
/// The server is configured as `examples/bench.rs` configures it, without a limit of requests
/// per connection: connections that close and reopen are `connection_churn_never_loses_a_
/// response`'s subject (wrk counts the connections lost to that bug as read errors).
#[test]
fn wrk_plaintext_no_errors() {
    let mut config = config();
    config.max_requests_per_connection = u32::MAX;
    let server = TestServer::start(
        Builder::new(config).listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    );
    let output = run_bounded(
        Command::new("wrk").args([
            "-t2",
            "-c16",
            "-d2s",
            "--timeout",
            "5s",
            &url(server.tcp(0), "/plaintext"),
        ]),
        CLIENT_LIMIT,
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed ({}):\n{report}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let requests: u64 = report
        .lines()
        .find_map(|l| l.split_once(" requests in "))
        .map(|(n, _)| n.trim().parse().expect("a request count"))
        .unwrap_or_else(|| panic!("no request count in wrk's report:\n{report}"));
    assert!(requests > 0, "{report}");
    assert!(
        !report.contains("Non-2xx or 3xx responses"),
        "non-2xx responses:\n{report}"
    );
    assert!(
        !report.contains("Socket errors"),
        "socket errors:\n{report}"
    );
    println!("wrk: {requests} requests in 2 s");
    server.stop().unwrap();
}

/// Opens `per_thread` connections on each of `threads` threads, one after another; on each,
/// one `Connection: close` request, read by its framing, then the client closes at once
/// without waiting for the server's close (as wrk and browsers do). Returns what went wrong.
fn connection_churn(addr: SocketAddr, threads: usize, per_thread: usize) -> Vec<String> {
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for _ in 0..per_thread {
                    if let Err(e) = one_close_exchange(addr) {
                        failures.push(e);
                    }
                }
                failures
            })
        })
        .collect();
    workers
        .into_iter()
        .flat_map(|w| w.join().expect("a churn thread"))
        .collect()
}

fn one_close_exchange(addr: SocketAddr) -> Result<(), String> {
    const EXPECTED: &[u8] = b"Hello, World!";
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(support::IO_GUARD)).unwrap();
    stream
        .write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !got.ends_with(EXPECTED) {
        match support::read_retrying(&mut stream, &mut chunk) {
            Ok(0) => return Err(format!("EOF after {} bytes of the response", got.len())),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read after {} bytes: {e}", got.len())),
        }
    }
    if !got.starts_with(b"HTTP/1.1 200") {
        return Err(format!("{:?}", String::from_utf8_lossy(&got)));
    }
    Ok(())
}

/// Every fresh connection is served, however fast connections come and go: the close of one
/// connection must never touch the next one.
///
/// Regression: io_uring runs SHUTDOWN in a worker thread, which resolves the registered file
/// only when it runs. An untracked SHUTDOWN could land after the slot's Close had freed the
/// file index and the next accept had reused it, ending the new connection before any
/// response (about 1 connection in 200). The Close now waits for the shutdown.
#[test]
fn connection_churn_never_loses_a_response() {
    let mut config = config();
    config.max_connections = 1024; // Far from full: slot exhaustion is the next test's subject.
    let server = TestServer::start(
        Builder::new(config).listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    );
    let failures = connection_churn(server.tcp(0), 4, 500);
    assert!(
        failures.is_empty(),
        "{} of 2000 connections failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    server.stop().unwrap();
}

/// When the connection slots are exhausted the backend keeps accepting: newcomers wait in its
/// waiting room, in arrival order, while the server makes room; prompt clients (none of which
/// has waited the grace period without a request) are never closed to make room, so none of
/// these 800 connections is refused or reset.
///
/// Regression: connections the multishot accept delivered after the slots ran out were once
/// closed at once, resetting them.
#[test]
fn connections_beyond_the_slots_wait_in_the_backlog() {
    let mut config = config();
    config.max_connections = 4;
    let server = TestServer::start(
        Builder::new(config).listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    );
    let failures = connection_churn(server.tcp(0), 16, 50);
    assert!(
        failures.is_empty(),
        "{} of 800 connections failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    server.stop().unwrap();
}

/// The bench contract echoes any method that is a token, extension methods included, on
/// every path but GET /plaintext and GET /json; CONNECT, which zzz does not implement, is 501
/// (RFC 9110 §15.6.2). A higher minor version is served as HTTP/1.1 (RFC 9110 §2.5).
#[test]
fn bench_contract_echoes_extension_methods() {
    let server = bench_server("127.0.0.1:0");
    let mut client = Client::connect(server.tcp(0));
    for method in [
        "PURGE", "REPORT", "SEARCH", "LINK", "SOURCE", "QUERY", "get", "M-SEARCH",
    ] {
        for path in ["/plaintext", "/json", "/any/where?x=1"] {
            client.send(
                format!("{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
                    .as_bytes(),
            );
            let r = client.response();
            assert_eq!(
                (r.status, r.body_str()),
                (200, "hi"),
                "{method} {path}: {r:?}"
            );
            assert_eq!(r.header("x-echo-method"), Some(method));
            assert_eq!(r.header("x-echo-target"), Some(path));
        }
    }
    client.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    let r = client.response();
    assert_eq!(r.status, 501, "{r:?}");
    client.send(b"GET /plaintext HTTP/1.2\r\nHost: t\r\n\r\n");
    let r = client.response();
    assert_eq!((r.status, r.body_str()), (200, "Hello, World!"), "{r:?}");
    assert_eq!(r.version, "HTTP/1.1");
    assert!(!r.closes(), "{r:?}");
    assert_eq!(client.get("/json").status, 200);
    server.stop().unwrap();
}

/// ARCHITECTURE.md §7 The bench contract: any path other than /plaintext and /json is echoed, `/`
/// included (the bench app's catch-all `/{*path}` matches `/` with an empty tail).
#[test]
fn bench_contract_echoes_the_root_path() {
    let server = bench_server("127.0.0.1:0");
    let mut client = Client::connect(server.tcp(0));
    let r = client.get("/");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-echo-target"), Some("/"));
    let r = client.post("/?x=1", b"root");
    assert_eq!((r.status, r.body_str()), (200, "root"), "{r:?}");
    server.stop().unwrap();
}

/// Both receive modes serve the contract: receiving straight into each connection's buffer
/// (`RecvMode::Direct`) as well as through the provided-buffer ring (the default, which every
/// other test here uses), including a body bigger than a ring buffer and a pipelined batch.
#[test]
fn direct_receive_mode() {
    let server = TestServer::start(
        Builder::new(config())
            .recv_mode(zzz::uring::RecvMode::Direct)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        |_| zzz::bench_app::app(),
    );
    let mut client = Client::connect(server.tcp(0));
    assert_eq!(client.get("/plaintext").body_str(), "Hello, World!");
    let body = pseudo_random(50_000, 7);
    let r = client.post("/upload", &body);
    assert_eq!((r.status, r.body.as_slice()), (200, body.as_slice()));
    client.send(&b"GET /json HTTP/1.1\r\nHost: t\r\n\r\n".repeat(8));
    for _ in 0..8 {
        assert_eq!(
            client.response().body_str(),
            "{\"message\":\"Hello, World!\"}"
        );
    }
    server.stop().unwrap();
}
