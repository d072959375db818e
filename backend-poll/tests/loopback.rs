//! The portable server over real loopback sockets: HTTP/1.1 (pipelined requests, a malformed
//! one), a raw TCP module streaming more than the socket buffers hold, a UDP module, and a
//! graceful stop. Plain `std::net` clients, so these run wherever the backend does (natively,
//! and under qemu-user for the ARM targets: ci/cross.sh).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use zzz_core::memory::Region;
use zzz_core::tcp::TcpFn;
use zzz_core::{
    App, Config, Ctx, Now, PeerAddr, Protocols, Request, Response, Route, Router, Server, Sole,
    Status, Tcp, TcpCtx, Udp,
};
use zzz_poll::Portable;

/// How long a client waits for an answer before the test fails (rather than hangs).
const PATIENCE: Duration = Duration::from_secs(30);

/// A portable server on its own thread, serving one listener; stopped and joined when dropped.
struct Serving {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<()>>>,
    addr: SocketAddr,
}

impl Serving {
    /// Serves TCP connections on a free loopback port with the app `make_app` returns.
    fn tcp<S: 'static, P: Protocols<S, Id = Sole> + 'static>(
        config: Config,
        make_app: impl FnOnce() -> App<S, P> + Send + 'static,
    ) -> Serving {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        Serving::spawn(config, make_app, addr, move |portable| {
            portable.listen(listener, Sole)
        })
    }

    /// Serves datagrams on a free loopback port with the app `make_app` returns.
    fn udp<S: 'static, P: Protocols<S, Id = Sole> + 'static>(
        config: Config,
        make_app: impl FnOnce() -> App<S, P> + Send + 'static,
    ) -> Serving {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        Serving::spawn(config, make_app, addr, move |portable| {
            portable.listen_udp(socket, Sole)
        })
    }

    fn spawn<S: 'static, P: Protocols<S, Id = Sole> + 'static>(
        config: Config,
        make_app: impl FnOnce() -> App<S, P> + Send + 'static,
        addr: SocketAddr,
        attach: impl FnOnce(&mut Portable<'_, S, P>) -> io::Result<()> + Send + 'static,
    ) -> Serving {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let app = make_app();
            let mut region = Region::new(app.memory(&config).total);
            let server = Server::new(config, app, region.bytes(), Now::default())
                .map_err(|e| io::Error::other(e.to_string()))?;
            let mut portable = Portable::new(server);
            attach(&mut portable)?;
            portable.run(&stopped)
        });
        Serving {
            stop,
            thread: Some(thread),
            addr,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        stream
    }

    /// Asks the server to stop and returns what its loop returned.
    fn stop(mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("stopped once");
        thread.join().expect("the server thread does not panic")
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads until the peer closes.
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    stream
        .read_to_end(&mut received)
        .expect("the server answers and closes within the patience");
    received
}

fn greet(ctx: &mut Ctx<()>, req: &Request) -> Response {
    let name = req.params().get("name").unwrap_or("nobody");
    ctx.out
        .respond(Status::OK)
        .header("Content-Type", "text/plain")
        .fmt(format_args!("hello, {name}\n"))
}

fn echo_body(ctx: &mut Ctx<()>, req: &Request) -> Response {
    ctx.out.respond(Status::OK).body(req.body())
}

static ROUTES: &[Route<()>] = &[
    Route::get("/hello/{name}", greet),
    Route::post("/echo", echo_body),
];

fn http_app() -> App<()> {
    App::new((), Router::new(ROUTES).expect("valid routes"))
}

#[test]
fn pipelined_http_requests_are_answered_in_order() {
    let server = Serving::tcp(Config::DEFAULT, http_app);
    let mut client = server.connect();
    client
        .write_all(
            b"GET /hello/first HTTP/1.1\r\nHost: t\r\n\r\n\
              GET /hello/second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let received = String::from_utf8(read_to_close(&mut client)).unwrap();
    assert_eq!(
        received.matches("HTTP/1.1 200 OK\r\n").count(),
        2,
        "{received}"
    );
    let first = received.find("hello, first").expect("the first answer");
    let second = received.find("hello, second").expect("the second answer");
    assert!(first < second, "in request order: {received}");
    server.stop().expect("a clean stop");
}

#[test]
fn a_malformed_request_gets_400_and_a_close() {
    let server = Serving::tcp(Config::DEFAULT, http_app);
    let mut client = server.connect();
    client
        .write_all(b"GET /hello/x HTTP/1.1\r\nBad Header\r\n\r\n")
        .unwrap();
    let received = String::from_utf8(read_to_close(&mut client)).unwrap();
    assert!(received.starts_with("HTTP/1.1 400 "), "{received}");
    server.stop().expect("a clean stop");
}

/// Writes back what it receives, as much as the send buffer takes now.
fn echo(ctx: &mut TcpCtx<()>, data: &[u8]) -> usize {
    let n = data.len().min(ctx.room());
    ctx.write(&data[..n]);
    n
}

#[test]
fn a_raw_tcp_stream_larger_than_the_socket_buffers_is_echoed_whole() {
    let server = Serving::tcp(Config::DEFAULT, || {
        App::with_modules((), Tcp::new(echo as TcpFn<()>))
    });
    let client = server.connect();
    // Several megabytes: more than the kernel's buffers on both sides, so sends and receives
    // would block and the loop must wait for readiness both ways.
    let sent: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut writer = client.try_clone().unwrap();
    let expected = sent.clone();
    let writing = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut reader = client;
    let mut received = Vec::with_capacity(expected.len());
    let mut chunk = [0u8; 64 * 1024];
    while received.len() < expected.len() {
        let n = reader.read(&mut chunk).expect("echoed within the patience");
        assert_ne!(
            n,
            0,
            "closed after {} of {} bytes",
            received.len(),
            expected.len()
        );
        received.extend_from_slice(&chunk[..n]);
    }
    writing.join().unwrap();
    assert!(received == expected, "the echo differs from what was sent");
    drop(reader);
    server.stop().expect("a clean stop");
}

fn reverse(_: &mut (), _peer: PeerAddr, datagram: &[u8], reply: &mut [u8]) -> Option<usize> {
    let n = datagram.len().min(reply.len());
    for (out, byte) in reply[..n].iter_mut().zip(datagram[..n].iter().rev()) {
        *out = *byte;
    }
    Some(n)
}

#[test]
fn datagrams_are_answered_to_their_sender() {
    let mut config = Config::DEFAULT;
    config.datagram_size = 2048;
    config.datagram_replies = 8;
    let server = Serving::udp(config, || App::with_modules((), Udp::new(reverse)));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.connect(server.addr).unwrap();
    for message in [&b"ping"[..], b"abc", b"a longer datagram"] {
        client.send(message).unwrap();
        let mut answer = [0u8; 2048];
        let n = client
            .recv(&mut answer)
            .expect("an answer within the patience");
        let expected: Vec<u8> = message.iter().rev().copied().collect();
        assert_eq!(&answer[..n], &expected[..]);
    }
    server.stop().expect("a clean stop");
}

#[test]
fn a_stop_lets_a_request_in_progress_finish() {
    let server = Serving::tcp(Config::DEFAULT, http_app);
    let mut client = server.connect();
    // The 100 Continue says the server holds this request; the stop comes before its body.
    client
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\
              Expect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut received = [0u8; 25];
    client
        .read_exact(&mut received)
        .expect("the interim answer");
    assert_eq!(&received, interim);
    server.stop.store(true, Ordering::Relaxed);
    client.write_all(b"later").unwrap();
    let received = String::from_utf8(read_to_close(&mut client)).unwrap();
    assert!(received.starts_with("HTTP/1.1 200 OK\r\n"), "{received}");
    assert!(received.ends_with("\r\n\r\nlater"), "{received}");
    server
        .stop()
        .expect("the loop ends once the request is answered");
}
