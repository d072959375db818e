//! What the integration tests share: a server that stops when dropped, a raw HTTP/1.1 client
//! over a socket, and a runner for client programs that kills them (by PID, through a pidfd)
//! when they overrun their bound.
//!
//! Every wait here is on an event (a read, a child's exit) with a bounded timeout that only
//! guards against a hang; nothing sleeps to let something else happen.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use zzz::core::{App, Protocols};
use zzz::uring::{BoundAddr, Builder, Handle, Running};

/// How long any single read may block before the test fails: a guard, never a delay.
pub const IO_GUARD: Duration = Duration::from_secs(10);

/// `read`, retried when a signal interrupts it. Blocking reads with a timeout
/// (`SO_RCVTIMEO`) return `EINTR` instead of restarting, and a thread that created an
/// io_uring (as `Builder::start` does, to probe for it) may get one such interruption when
/// the kernel tears the ring down.
pub fn read_retrying(from: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match from.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            outcome => return outcome,
        }
    }
}

/// `recv` on a connected UDP socket, retried when a signal interrupts it.
pub fn recv_retrying(socket: &std::net::UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match socket.recv(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            outcome => return outcome,
        }
    }
}

/// A server started by a test; stopped (gracefully, then joined) when dropped, so that a
/// failing test does not leave its instance threads behind.
pub struct TestServer {
    running: Option<Running>,
    addrs: Vec<BoundAddr>,
}

impl TestServer {
    /// Starts `builder`'s listeners with `make_app`, quietly, with a short grace period.
    pub fn start<S: Send + 'static, P: Protocols<S> + Send + 'static>(
        builder: Builder<S, P>,
        make_app: impl Fn(usize) -> App<S, P> + Send + Sync + 'static,
    ) -> TestServer
    where
        P::Id: Send,
    {
        let running = builder
            .quiet()
            .shutdown_grace(Duration::from_secs(5))
            .start(make_app)
            .expect("the server starts");
        let addrs = running.addrs().to_vec();
        TestServer {
            running: Some(running),
            addrs,
        }
    }

    /// The TCP address of listener `i` (in the order the listeners were added).
    pub fn tcp(&self, i: usize) -> SocketAddr {
        match &self.addrs[i] {
            BoundAddr::Tcp(a) => *a,
            other => panic!("listener {i} is {other}, not TCP"),
        }
    }

    /// The UDP address of listener `i`.
    pub fn udp(&self, i: usize) -> SocketAddr {
        match &self.addrs[i] {
            BoundAddr::Udp(a) => *a,
            other => panic!("listener {i} is {other}, not UDP"),
        }
    }

    /// A handle for a graceful shutdown from another thread or mid-test.
    pub fn handle(&self) -> Handle {
        self.running.as_ref().expect("running").handle()
    }

    /// Waits for every instance to finish (after [`Handle::shutdown`]).
    pub fn wait(mut self) -> io::Result<()> {
        self.running.take().expect("running").wait()
    }

    /// Stops gracefully and waits; returns the first instance's error.
    pub fn stop(mut self) -> io::Result<()> {
        self.running.take().expect("running").stop()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop();
        }
    }
}

/// One HTTP response as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the response says the connection closes after it.
    pub fn closes(&self) -> bool {
        self.header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

/// A raw HTTP/1.1 client on one TCP connection: writes bytes as given, reads responses
/// strictly by their framing, so a stray byte shows up as a malformed next response.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        Client::from_stream(stream)
    }

    pub fn from_stream(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(IO_GUARD)).unwrap();
        stream.set_write_timeout(Some(IO_GUARD)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send a request");
    }

    /// `GET path` with keep-alive.
    pub fn get(&mut self, path: &str) -> Response {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        self.response()
    }

    /// `POST path` with a Content-Length body.
    pub fn post(&mut self, path: &str, body: &[u8]) -> Response {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.send(&[head.as_bytes(), body].concat());
        self.response()
    }

    /// Reads more bytes into the buffer; panics on EOF, error or the guard timeout.
    fn fill(&mut self, what: &str) {
        let mut chunk = [0u8; 16 * 1024];
        match read_retrying(&mut self.stream, &mut chunk) {
            Ok(0) => panic!(
                "connection closed while reading {what}; have {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "reading {what}: {e}; have {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill(what);
        }
        self.buf.drain(..n).collect()
    }

    fn line(&mut self, what: &str) -> String {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.take(end + 2, what);
                return String::from_utf8(line[..end].to_vec()).expect("an ASCII line");
            }
            self.fill(what);
        }
    }

    /// Reads a response head (status line and fields).
    pub fn head(&mut self) -> Response {
        let status_line = self.line("a status line");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_string();
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("malformed status line {status_line:?}"));
        assert!(
            version.starts_with("HTTP/1."),
            "malformed status line {status_line:?}"
        );
        let mut headers = Vec::new();
        loop {
            let line = self.line("a header line");
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("malformed header line {line:?}"));
            headers.push((name.to_string(), value.trim().to_string()));
        }
        Response {
            version,
            status,
            headers,
            body: Vec::new(),
        }
    }

    /// Reads the next final response (after any interim 1xx responses, which it checks are
    /// `100 Continue` and returns nothing of) and its body by its framing.
    pub fn response(&mut self) -> Response {
        loop {
            let r = self.response_with_interim();
            if r.status >= 200 {
                return r;
            }
        }
    }

    /// Reads the next response, interim ones included.
    pub fn response_with_interim(&mut self) -> Response {
        let mut r = self.head();
        if r.status < 200 || r.status == 204 || r.status == 304 {
            return r;
        }
        r.body = self.body_of(&r);
        r
    }

    /// Reads the next response to a HEAD request: a head only, whatever it declares.
    pub fn head_response(&mut self) -> Response {
        self.head()
    }

    fn body_of(&mut self, r: &Response) -> Vec<u8> {
        if r.header("Transfer-Encoding")
            .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
        {
            let mut body = Vec::new();
            loop {
                let size_line = self.line("a chunk size");
                let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
                    .unwrap_or_else(|_| panic!("malformed chunk size {size_line:?}"));
                if size == 0 {
                    // Trailer section, then the empty line.
                    while !self.line("a trailer line").is_empty() {}
                    return body;
                }
                body.extend(self.take(size, "chunk data"));
                assert_eq!(self.take(2, "a chunk's CRLF"), b"\r\n");
            }
        }
        if let Some(len) = r.header("Content-Length") {
            let len: usize = len.parse().expect("a numeric Content-Length");
            return self.take(len, "a body");
        }
        // Delimited by close.
        let mut body = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match read_retrying(&mut self.stream, &mut chunk) {
                Ok(0) => return body,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("reading a close-delimited body: {e}"),
            }
        }
    }

    /// Asserts that the server closes the connection without sending anything more: the next
    /// read sees EOF or a reset.
    pub fn expect_closed(&mut self) {
        assert!(
            self.buf.is_empty(),
            "unexpected bytes before close: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        let mut chunk = [0u8; 4096];
        match read_retrying(&mut self.stream, &mut chunk) {
            Ok(0) => {}
            Ok(n) => panic!(
                "expected the connection to close, got {:?}",
                String::from_utf8_lossy(&chunk[..n])
            ),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected the connection to close, got {e}"),
        }
    }
}

/// `n` pseudo-random bytes (xorshift), so bodies are not all one byte.
pub fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `body` as a chunked message body, in chunks of `chunk` bytes, with a final chunk.
pub fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Runs a client program to completion, killing it (by its pidfd: the very process, whatever
/// PIDs were reused) if it runs longer than `limit`. A program that is not installed fails
/// the test with a message that says how to install it.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    run_bounded_with_input(cmd, Stdio::null(), limit)
}

/// [`run_bounded`], with `stdin` as the program's standard input.
pub fn run_bounded_with_input(cmd: &mut Command, stdin: Stdio, limit: Duration) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
            "`{program}` is not installed: run ci/setup.sh, which installs the clients the \
             integration tests use"
        ),
        Err(e) => panic!("could not start `{program}`: {e}"),
    };
    let watchdog = kill_after(&child, limit);
    let output = child.wait_with_output().expect("wait for a client program");
    let killed = watchdog.join().expect("the watchdog thread");
    assert!(
        !killed,
        "`{program}` did not finish within {limit:?} and was killed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A watchdog for `child`: a thread that kills it (by its pidfd: the very process, whatever
/// PIDs were reused) if it has not exited within `limit`. Joining the thread gives whether it
/// had to kill; it returns as soon as the child exits, reaped or not.
pub fn kill_after(child: &std::process::Child, limit: Duration) -> std::thread::JoinHandle<bool> {
    let pid = rustix::process::Pid::from_child(child);
    let pidfd =
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).expect("pidfd_open");
    std::thread::spawn(move || {
        let timeout = rustix::event::Timespec {
            tv_sec: limit.as_secs() as i64,
            tv_nsec: limit.subsec_nanos() as i64,
        };
        let mut fds = [rustix::event::PollFd::new(
            &pidfd,
            rustix::event::PollFlags::IN,
        )];
        loop {
            // Readable once the process has exited (before it is reaped).
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                Ok(0) => {
                    let _ =
                        rustix::process::pidfd_send_signal(&pidfd, rustix::process::Signal::KILL);
                    return true;
                }
                Ok(_) => return false,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => panic!("poll on a pidfd: {e}"),
            }
        }
    })
}

/// Runs a Python `script` with `python`, the server's address as its arguments (host, then
/// port), bounded by `limit`; the script prints `ok` and nothing else when every check passed.
pub fn run_python_checks(
    python: impl AsRef<std::ffi::OsStr>,
    script: &str,
    addr: SocketAddr,
    limit: Duration,
) {
    let output = run_bounded(
        Command::new(python)
            .arg("-c")
            .arg(script)
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string()),
        limit,
    );
    assert!(
        output.status.success() && output.stdout == b"ok\n",
        "the Python checks failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The Python of the tests' virtualenv (`ci/setup.sh` makes it under the target directory,
/// with the packages the tests import, pinned).
pub fn test_python() -> std::path::PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`.
    let python = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../test-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run ci/setup.sh, which makes the tests' Python virtualenv",
        python.display()
    );
    python
}

/// The Chromium binary (Debian's), installed with apt-get if it is missing, as `ci/setup.sh`
/// does; looked up once per test binary.
pub fn chromium() -> &'static std::path::Path {
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;
    static CHROMIUM: OnceLock<PathBuf> = OnceLock::new();
    CHROMIUM.get_or_init(|| {
        let find = || {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        };
        if let Some(path) = find() {
            return path;
        }
        eprintln!("chromium is missing; installing it with apt-get");
        let apt = |args: &[&str]| {
            let status = Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
                .expect("apt-get runs (as root)");
            assert!(status.success(), "apt-get {args:?} failed");
        };
        apt(&["update", "-qq"]);
        apt(&["install", "-y", "-qq", "chromium"]);
        find().expect("chromium is installed")
    })
}
