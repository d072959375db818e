//! The chat (`zzz::chat`, served by `examples/chat.rs`) against real clients: Python's
//! `websockets` and `http.client` with a raw-socket reader of server-sent events, `curl -N`,
//! and two pages of headless Chromium driven over the Chrome DevTools Protocol.
//!
//! What every test checks is the chat's promise: one room, every message delivered to every
//! client (WebSocket and server-sent events alike) in the same order, the history first.
//!
//! Each test starts its own chat on a port of 127.0.0.1 the kernel picks, so each room starts
//! empty. Every client program is bounded by a time limit and killed by its PID when it
//! overruns; the server stops when the test ends.

#![cfg(target_os = "linux")]

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{Client, TestServer, chromium, run_bounded, run_python_checks, test_python};
use zzz::chat::{ChatProtocol, app, config};
use zzz::uring::Builder;

/// How long a client program may run before it is killed and the test fails.
const CLIENT_LIMIT: Duration = Duration::from_secs(45);

/// How long `curl` keeps its event stream open (`--max-time`), in seconds.
const CURL_SECONDS: u64 = 5;

/// The chat on a free port of 127.0.0.1, with a modest number of connections.
fn chat() -> TestServer {
    let mut config = config();
    config.max_connections = 64;
    config.large_buffers = 4;
    TestServer::start(
        Builder::new(config)
            .fallback_to_portable(true)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), ChatProtocol::Http),
        |_| app(),
    )
}

/// Real clients of all three ways in, at once, then the edges of what the chat accepts.
///
/// - Two WebSocket clients send 50 messages each while `POST /messages` sends 10: every
///   WebSocket client and an event-stream reader receive all 110, in one and the same order
///   (the room's), each client's own messages in the order it sent them, a WebSocket
///   client's text verbatim; the events' `id`s are consecutive, and a posted message's `id`
///   is the `seq` its `202` returned (WHATWG HTML §9.2.6: `id` sets the last event ID).
/// - `POST /messages`: not `application/json` → 415, not JSON → 400 (RFC 9110 §15.5.16,
///   §15.5.1), a name or text out of its length → 422 (§15.5.21), at the limits → 202.
/// - WebSocket: a message of `MESSAGE_MAX` = 1024 bytes is published; one of 1025 gets
///   Close 1009 and a binary one Close 1003 (RFC 6455 §7.4.1), and neither is published.
/// - A reader reconnecting with `Last-Event-ID: N` gets exactly the events after N, in order
///   (WHATWG HTML §9.2.4), after `retry: 2000`.
const CHECKS: &str = r#"
import contextlib, http.client, json, socket, sys, threading
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

host, port = sys.argv[1], int(sys.argv[2])
URL = f"ws://{host}:{port}/ws"
GUARD = 10  # seconds any one wait may block: a guard against a hang, never a delay


class Events:
    """A text/event-stream reader over a raw socket: the response's chunked body decoded as
    it arrives, the stream parsed into events as WHATWG HTML section 9.2.6 says."""

    def __init__(self, last_event_id=None):
        self.sock = socket.create_connection((host, port), timeout=GUARD)
        resume = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        self.sock.sendall((f"GET /events HTTP/1.1\r\nHost: {host}\r\n"
                           f"Accept: text/event-stream\r\n{resume}\r\n").encode())
        self.wire = b""  # bytes read, not yet taken out of their chunks
        self.body = b""  # the body, not yet split into lines
        while b"\r\n\r\n" not in self.wire:
            self.read()
        head, self.wire = self.wire.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        assert lines[0].startswith("HTTP/1.1 200 "), lines
        fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        assert fields.get("content-type") == "text/event-stream", fields
        assert fields.get("transfer-encoding") == "chunked", fields
        self.retry = None
        self.last_id = None
        self.data = []

    def read(self):
        chunk = self.sock.recv(65536)
        assert chunk, "the event stream closed"
        self.wire += chunk

    def dechunk(self):
        """Moves every whole chunk from the wire to the body."""
        while b"\r\n" in self.wire:
            size_line, rest = self.wire.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            assert size > 0, "the event stream ended"
            if len(rest) < size + 2:
                return
            assert rest[size:size + 2] == b"\r\n", rest[:size + 2]
            self.body += rest[:size]
            self.wire = rest[size + 2:]

    def line(self):
        while b"\n" not in self.body:
            self.dechunk()
            if b"\n" not in self.body:
                self.read()
        line, self.body = self.body.split(b"\n", 1)
        return line.decode().removesuffix("\r")

    def next(self):
        """The next event that has data: (its last event ID, its data)."""
        while True:
            line = self.line()
            if line == "":
                if self.data:
                    data, self.data = "\n".join(self.data), []
                    return self.last_id, data
                continue
            if line.startswith(":"):
                assert not line.startswith(": missed"), f"a reader fell behind: {line}"
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "id":
                self.last_id = int(value)
            elif field == "data":
                self.data.append(value)
            elif field == "retry":
                self.retry = int(value)
            else:
                raise AssertionError(f"unexpected field {line!r}")

    def take(self, n):
        return [self.next() for _ in range(n)]


def join():
    """A WebSocket client of the room. Its queue of received messages is unbounded: with the
    default bound its reader stops reading at 16 unread messages (the history is longer),
    and would then not see the server's Close answering its own."""
    return connect(URL, open_timeout=GUARD, close_timeout=GUARD, max_queue=None)


def post(body, content_type="application/json"):
    conn = http.client.HTTPConnection(host, port, timeout=GUARD)
    conn.request("POST", "/messages", body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    answer = (response.status, response.getheader("Content-Type"), response.read())
    conn.close()
    return answer


def post_message(name, text):
    status, kind, body = post(json.dumps({"name": name, "text": text}).encode())
    assert (status, kind) == (202, "application/json"), (name, text, status, kind, body)
    return json.loads(body)["seq"]


def refused(status, body, content_type="application/json"):
    got, kind, answer = post(body, content_type)
    assert got == status, (body, status, got, answer)
    assert kind == "application/problem+json", (body, kind)
    assert json.loads(answer)["status"] == status, answer


def received(ws, n):
    return [ws.recv(timeout=GUARD) for _ in range(n)]


def closed_with(ws):
    """Reads until the server closes; the code of its Close frame."""
    try:
        for _ in range(10000):
            ws.recv(timeout=GUARD)
        raise AssertionError("still open after 10000 messages")
    except ConnectionClosed:
        pass
    assert ws.protocol.close_rcvd is not None, "closed without a Close frame"
    return ws.protocol.close_rcvd.code


room = Events()
clients = contextlib.ExitStack()
a = clients.enter_context(join())
b = clients.enter_context(join())

sent_a = [json.dumps({"name": "alice", "text": f"a{i}"}) for i in range(50)]
sent_b = [json.dumps({"name": "bob", "text": f"b{i}"}) for i in range(50)]
sent_posts = [("carol", f"p{i}") for i in range(10)]
seqs = []
start = threading.Barrier(3, timeout=GUARD)
failures = []


def sender(job):
    def run():
        try:
            start.wait()
            job()
        except BaseException as e:
            failures.append(e)
    return threading.Thread(target=run)


def send_all(ws, messages):
    for m in messages:
        ws.send(m)


def post_all():
    for name, text in sent_posts:
        seqs.append(post_message(name, text))


senders = [sender(lambda: send_all(a, sent_a)), sender(lambda: send_all(b, sent_b)),
           sender(post_all)]
for t in senders:
    t.start()
for t in senders:
    t.join(timeout=3 * GUARD)
    assert not t.is_alive(), "a sender hangs"
assert not failures, failures

got_a, got_b, events = received(a, 110), received(b, 110), room.take(110)
assert room.retry == 2000, room.retry
ids = [i for i, _ in events]
assert ids == list(range(ids[0], ids[0] + 110)), f"ids not consecutive: {ids}"
assert got_a == got_b, "the two WebSocket clients saw different orders"
assert [d for _, d in events] == got_a, "the event stream and WebSocket saw different orders"
assert [m for m in got_a if '"alice"' in m] == sent_a, "alice's messages out of order or changed"
assert [m for m in got_a if '"bob"' in m] == sent_b, "bob's messages out of order or changed"
posted = [(i, json.loads(d)) for i, d in events if json.loads(d)["name"] == "carol"]
assert [(m["name"], m["text"]) for _, m in posted] == sent_posts, posted
assert seqs == sorted(seqs) and len(set(seqs)) == 10, f"seqs do not increase: {seqs}"
assert [i for i, _ in posted] == seqs, f"posts' seqs {seqs}, their event ids {posted}"

# POST /messages refuses what it cannot take, and takes what is at its limits.
refused(415, b'{"name":"x","text":"y"}', "text/plain")
refused(400, b'{"name":"x","text":')
refused(400, b'not json')
refused(422, b'{"name":"","text":"y"}')
refused(422, b'{"name":"x","text":""}')
refused(422, json.dumps({"name": "n" * 33, "text": "y"}).encode())
refused(422, json.dumps({"name": "é" * 33, "text": "y"}).encode())
refused(422, json.dumps({"name": "x", "text": "t" * 501}).encode())
refused(422, b'{"name":"x"}')
at_limits = [("n" * 32, "y"), ("é" * 32, "y"), ("x", "t" * 500)]
limit_seqs = [post_message(n, t) for n, t in at_limits]
assert limit_seqs == list(range(ids[-1] + 1, ids[-1] + 4)), limit_seqs
for name, text in at_limits:
    assert json.loads(a.recv(timeout=GUARD)) == {"name": name, "text": text}

# WebSocket: 1024 bytes are published; 1025 bytes, or binary, close the connection and are
# not published (the marker posted next is the next message).
frame = '{"name":"edge","text":"%s"}'
edge = frame % ("x" * (1024 - len(frame % "")))
assert len(edge.encode()) == 1024
with join() as c:
    c.send(edge)
    assert a.recv(timeout=GUARD) == edge, "a 1024-byte message was not published"
with join() as c:
    c.send(edge[:-2] + 'x"}')
    assert closed_with(c) == 1009, "1025 bytes: not Close 1009"
marker = post_message("marker", "after 1025")
assert json.loads(a.recv(timeout=GUARD)) == {"name": "marker", "text": "after 1025"}
with join() as c:
    c.send(b"binary")
    assert closed_with(c) == 1003, "binary: not Close 1003"
marker = post_message("marker", "after binary")
assert json.loads(a.recv(timeout=GUARD)) == {"name": "marker", "text": "after binary"}

# Everyone saw the same room after the 110 too.
later = received(b, 6)
assert [json.loads(m)["name"] for m in later] == ["n" * 32, "é" * 32, "x", "edge", "marker",
                                                 "marker"], later
later_events = room.take(6)
assert [d for _, d in later_events] == later
assert [i for i, _ in later_events] == list(range(ids[-1] + 1, ids[-1] + 7)), later_events
everything = events + later_events

# A reader that reconnects with Last-Event-ID: N resumes after N.
n = ids[59]
resumed = Events(last_event_id=n)
again = resumed.take(len(everything) - 60)
assert resumed.retry == 2000, resumed.retry
assert again == everything[60:], f"after {n}: {again[:3]}..."
clients.close()
print("ok")
"#;

#[test]
fn python_clients_see_one_room_in_one_order() {
    let server = chat();
    let addr = server.tcp(0);
    let started = Instant::now();
    run_python_checks(test_python(), CHECKS, addr, CLIENT_LIMIT);
    eprintln!("python checks took {:?}", started.elapsed());
    server.stop().unwrap();
}

/// A child process killed (by its PID) and reaped when dropped, so that a failing test
/// leaves none behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `POST /messages` with `{"name","text"}`; the `seq` of its `202`.
fn post_message(addr: SocketAddr, name: &str, text: &str) -> u64 {
    let body = format!(r#"{{"name":"{name}","text":"{text}"}}"#);
    let mut client = Client::connect(addr);
    client.send(
        format!(
            "POST /messages HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let response = client.response();
    assert_eq!(response.status, 202, "{}", response.body_str());
    let answer = response.body_str();
    answer
        .strip_prefix(r#"{"seq":"#)
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not {{\"seq\":N}}: {answer}"))
}

/// WHATWG HTML §9.2: `curl -N` (no buffering) reads the room as server-sent events: the
/// `retry:` first, then a message posted while it listens as `id: <seq>` and its `data:`
/// line, and nothing else until `--max-time` ends it (exit code 28, "operation timed out").
#[test]
fn curl_follows_the_event_stream() {
    let server = chat();
    let addr = server.tcp(0);
    let started = Instant::now();
    let mut curl = match Command::new("curl")
        .args(["-sN", "--max-time", &CURL_SECONDS.to_string()])
        .arg(format!("http://{addr}/events"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => Killed(child),
        Err(e) => panic!("curl does not start ({e}): run ci/setup.sh, which installs it"),
    };
    let mut stdout = curl.0.stdout.take().unwrap();
    let (chunks, arrived) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Bounded by curl's --max-time (or its kill): EOF ends the loop.
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            if chunks.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(CURL_SECONDS + 10);
    let mut out = Vec::new();
    // The stream is open once its first line arrived: post then.
    while !out.ends_with(b"retry: 2000\n\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        match arrived.recv_timeout(left) {
            Ok(chunk) => out.extend(chunk),
            Err(e) => panic!(
                "no `retry:` from curl ({e}); have {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    let seq = post_message(addr, "dave", "over curl");
    // Until curl ends the stream at --max-time (the sender is dropped at EOF).
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match arrived.recv_timeout(left) {
            Ok(chunk) => out.extend(chunk),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "curl ran past its --max-time; have {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    reader.join().unwrap();
    let status = curl.0.wait().unwrap();
    let mut stderr = String::new();
    let _ = curl.0.stderr.take().unwrap().read_to_string(&mut stderr);
    assert_eq!(status.code(), Some(28), "curl: {status}; {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("retry: 2000\n\nid: {seq}\ndata: {{\"name\":\"dave\",\"text\":\"over curl\"}}\n\n")
    );
    eprintln!("curl test took {:?}", started.elapsed());
    server.stop().unwrap();
}

/// Headless Chromium with a fresh profile and a DevTools port; killed (by its PID) and its
/// profile removed when dropped.
struct Chromium {
    child: Killed,
    profile: PathBuf,
}

impl Chromium {
    fn start() -> Chromium {
        let profile =
            std::env::temp_dir().join(format!("zzz-chat-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        Chromium {
            child: Killed(child),
            profile,
        }
    }

    /// The DevTools port Chromium picked: the first line of `DevToolsActivePort` in its
    /// profile, which it writes once it listens. Polled, with a bounded deadline.
    fn devtools_port(&mut self) -> u16 {
        let file = self.profile.join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let port = std::fs::read_to_string(&file)
                .ok()
                .and_then(|s| s.lines().next().and_then(|l| l.parse().ok()));
            if let Some(port) = port {
                return port;
            }
            if let Some(status) = self.child.0.try_wait().unwrap() {
                panic!("chromium exited ({status}) before it listened for DevTools");
            }
            assert!(
                Instant::now() < deadline,
                "no {} after 30 s",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.0.kill();
        let _ = self.child.0.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Two pages of the chat in one headless Chromium, driven over the DevTools Protocol (a
/// WebSocket client of the browser, `Target.createTarget`, `Target.attachToTarget` with
/// `flatten`, `Runtime.evaluate` in a page's session). Both connect; what page one submits
/// shows in page two's chat (WebSocket) and feed (server-sent events), and the reverse; at
/// the end all four lists are the two messages, in the order they were sent.
const TWO_PAGES: &str = r#"
import contextlib, http.client, json, sys, time
from websockets.sync.client import connect

host, port, devtools = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
GUARD = 10  # seconds any one wait may block
WAIT = 20   # seconds a page has to show what it should

conn = http.client.HTTPConnection("127.0.0.1", devtools, timeout=GUARD)
conn.request("GET", "/json/version")
version = conn.getresponse()
assert version.status == 200, version.status
session_of_browser = contextlib.ExitStack()
browser = session_of_browser.enter_context(connect(
    json.loads(version.read())["webSocketDebuggerUrl"], max_size=2**24, max_queue=None,
    open_timeout=GUARD, close_timeout=GUARD))
calls = 0


def call(method, session=None, **params):
    """Sends a command; its reply (events met on the way are not needed)."""
    global calls
    calls += 1
    command = {"id": calls, "method": method, "params": params}
    if session:
        command["sessionId"] = session
    browser.send(json.dumps(command))
    deadline = time.monotonic() + GUARD
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no reply to {method}"
        reply = json.loads(browser.recv(timeout=left))
        if reply.get("id") == calls:
            return reply


def open_page():
    target = call("Target.createTarget", url=f"http://{host}:{port}/", newWindow=True)
    assert "result" in target, target
    attached = call("Target.attachToTarget", targetId=target["result"]["targetId"],
                    flatten=True)
    assert "result" in attached, attached
    return attached["result"]["sessionId"]


def evaluate(session, expression):
    """The value of `expression` in the page, or None while it cannot be evaluated (the
    page still loading)."""
    reply = call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    result = reply.get("result", {})
    if "error" in reply or "exceptionDetails" in result:
        return None
    return result["result"].get("value")


SHOWN = """JSON.stringify({
  status: document.getElementById('status')?.textContent,
  chat: [...document.querySelectorAll('#chat li')].map(li => li.textContent),
  feed: [...document.querySelectorAll('#feed li')].map(li => li.textContent),
})"""


def shown(session):
    value = evaluate(session, SHOWN)
    return json.loads(value) if value else {}


def wait_until(session, what, holds):
    """Polls the page until `holds(shown)`, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        now = shown(session)
        if holds(now):
            return now
        assert time.monotonic() < deadline, f"page never showed {what}: {now}"
        time.sleep(0.05)


def say(session, name, text):
    left = evaluate(session, f"""(() => {{
      document.getElementById('name').value = {json.dumps(name)};
      document.getElementById('text').value = {json.dumps(text)};
      document.getElementById('say').requestSubmit();
      return document.getElementById('text').value;
    }})()""")
    assert left == "", f"the form was not submitted: the text field holds {left!r}"


one, two = open_page(), open_page()
for page in (one, two):
    wait_until(page, "connected", lambda s: s.get("status") == "connected")

first, second = "alice: hello from page one", "bob: hello from page two"
say(one, "alice", "hello from page one")
wait_until(two, first, lambda s: first in s["chat"] and first in s["feed"])
say(two, "bob", "hello from page two")
wait_until(one, second, lambda s: second in s["chat"] and second in s["feed"])
for page in (one, two):
    final = wait_until(page, "both messages",
                       lambda s: len(s["chat"]) >= 2 and len(s["feed"]) >= 2)
    assert final["chat"] == [first, second] and final["feed"] == [first, second], final
    assert final["status"] == "connected", final
session_of_browser.close()
print("ok")
"#;

#[test]
fn two_chromium_pages_exchange_messages() {
    let server = chat();
    let addr = server.tcp(0);
    let started = Instant::now();
    let mut browser = Chromium::start();
    let devtools = browser.devtools_port();
    let output = run_bounded(
        Command::new(test_python())
            .arg("-c")
            .arg(TWO_PAGES)
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .arg(devtools.to_string()),
        CLIENT_LIMIT,
    );
    drop(browser);
    assert!(
        output.status.success() && output.stdout == b"ok\n",
        "the two pages failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("chromium test took {:?}", started.elapsed());
    server.stop().unwrap();
}
