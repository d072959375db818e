//! An MQTT 3.1.1 broker against real clients: paho-mqtt (Python, with raw sockets for what a
//! well-behaved client will not do, in `tests/mqtt_checks.py`) and `mosquitto_sub` /
//! `mosquitto_pub`.
//!
//! The checks take the broker's address, so the same ones run against mosquitto, the
//! reference broker (`against_mosquitto`), and against zzz's broker (`against_zzz`). Each test
//! starts its own broker on a loopback port, bounds every client by a timeout that kills it by
//! PID, and stops its broker (by the PID it started) when it ends. The clients come from
//! `ci/setup.sh` (apt `mosquitto` and `mosquitto-clients`, `paho-mqtt` in the tests'
//! virtualenv).

#![cfg(target_os = "linux")]

mod support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{kill_after, run_bounded, run_bounded_with_input, test_python};
use zzz::mqtt_broker::BrokerProtocol;

/// How long any client program may run before it is killed and the test fails.
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// How long a broker may take to accept its first connection.
const START_LIMIT: Duration = Duration::from_secs(10);

/// Messages per QoS level in the `mosquitto_sub` / `mosquitto_pub` round trip.
const ROUND_TRIP_MESSAGES: usize = 20;

/// Every check, against the broker at `addr` (MQTT over TCP) and `ws` (MQTT over WebSocket,
/// the same broker): the Python checks once over TCP and once with its paho clients over
/// WebSocket (raw clients stay on TCP, so messages cross between the two), with the framing
/// checks.
fn check_broker(addr: SocketAddr, ws: SocketAddr, text_frames: TextFrames) {
    python_checks(addr, None, text_frames);
    python_checks(addr, Some(ws), text_frames);
    for qos in 0..=2 {
        mosquitto_round_trip(addr, qos);
    }
}

#[test]
fn against_zzz() {
    // As examples/mqtt_broker.rs serves it, with fewer connections: room for a 32 KiB
    // packet each way and a 64 KiB inbox per connection.
    let mut config = zzz::core::Config::DEFAULT;
    config.max_connections = 64;
    config.recv_buffer = 32 * 1024;
    config.send_buffer = 32 * 1024;
    config.topics.max_message = 16 * 1024;
    config.topics.inbox_bytes = 64 * 1024;
    let loopback = "127.0.0.1:0".parse().unwrap();
    let server = support::TestServer::start(
        zzz::uring::Builder::new(config)
            .listen_tcp(loopback, BrokerProtocol::Mqtt)
            .listen_tcp(loopback, BrokerProtocol::Http),
        |_| zzz::mqtt_broker::app(),
    );
    check_broker(server.tcp(0), server.tcp(1), TextFrames::Refused);
    refuses_a_websocket_without_the_mqtt_subprotocol(server.tcp(1));
    server.stop().unwrap();
}

#[test]
fn against_mosquitto() {
    let broker = Mosquitto::start();
    // mosquitto 2.0.11 reads a text frame's bytes as MQTT instead of closing
    // ([MQTT-6.0.0-1]): that one check is skipped for it.
    check_broker(broker.addr, broker.ws, TextFrames::Read);
}

/// What a broker does with a WebSocket text frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TextFrames {
    /// Closes the connection, as MQTT 3.1.1 asks: checked.
    Refused,
    /// Reads it as MQTT bytes (mosquitto 2.0.11): not checked.
    Read,
}

/// An upgrade that offers no MQTT subprotocol is refused with 400 (`[MQTT-6.0.0-3]`: the
/// client must offer `mqtt`); mosquitto 2.0.11 accepts it, so this is zzz's alone.
fn refuses_a_websocket_without_the_mqtt_subprotocol(ws: SocketAddr) {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(ws).expect("connect to the WebSocket listener");
    stream
        .set_read_timeout(Some(CLIENT_LIMIT))
        .expect("a read timeout");
    stream
        .write_all(
            b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n",
        )
        .expect("send the handshake");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 "),
        "an upgrade without Sec-WebSocket-Protocol: mqtt got {answer:?}"
    );
}

/// `tests/mqtt_checks.py` (wildcards, retained messages, a persistent session across a
/// reconnect, wills, keep-alive expiry; over WebSocket also the framing) with the tests'
/// Python; it prints a line per check.
fn python_checks(addr: SocketAddr, ws: Option<SocketAddr>, text_frames: TextFrames) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mqtt_checks.py");
    let mut command = Command::new(test_python());
    command
        .arg(script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    if let Some(ws) = ws {
        command.arg(ws.port().to_string());
        if text_frames == TextFrames::Read {
            command.arg("--lenient-text-frames");
        }
    }
    let output = run_bounded(&mut command, CLIENT_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    assert!(
        output.status.success() && stdout.ends_with("\nok\n"),
        "the MQTT checks failed against {addr} ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `mosquitto_sub -C N` receives exactly the `N` messages `mosquitto_pub -l` sends, in order, at
/// `qos`. The publisher starts once the subscriber has printed its SUBACK (`-d`): an event, not
/// a delay.
fn mosquitto_round_trip(addr: SocketAddr, qos: u8) {
    let topic = format!("round-trip/{qos}");
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    // Line-buffered (stdbuf, coreutils): mosquitto_sub's stdio would hold back the SUBACK line
    // in a full buffer when writing to a pipe.
    let mut sub = Command::new("stdbuf")
        .args(["-oL", "mosquitto_sub"])
        .args([
            "-h",
            &host,
            "-p",
            &port,
            "-t",
            &topic,
            "-q",
            &qos.to_string(),
        ])
        .args([
            "-C",
            &ROUND_TRIP_MESSAGES.to_string(),
            "-d",
            "-F",
            "msg %q %p",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start mosquitto_sub ({e}): run ci/setup.sh"));
    // The watchdog bounds every read below: killing the subscriber ends its output.
    let watchdog = kill_after(&sub, CLIENT_LIMIT);
    let mut lines = BufReader::new(sub.stdout.take().expect("piped")).lines();
    let mut seen = Vec::new();
    let subscribed = format!("): {qos}");
    loop {
        let line = match lines.next() {
            Some(line) => line.expect("mosquitto_sub's output"),
            None => {
                let killed = watchdog.join().expect("the watchdog thread");
                let output = sub.wait_with_output().expect("wait for mosquitto_sub");
                panic!(
                    "mosquitto_sub ended before its SUBACK ({}; killed after {CLIENT_LIMIT:?}: \
                     {killed}):\n{}\n{}",
                    output.status,
                    seen.join("\n"),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        let done = line.starts_with("Subscribed (mid: ");
        seen.push(line);
        if done {
            let granted = seen.last().expect("just pushed");
            assert!(
                granted.ends_with(&subscribed),
                "SUBACK at QoS {qos}: {granted}"
            );
            break;
        }
    }

    let payloads: Vec<String> = (0..ROUND_TRIP_MESSAGES)
        .map(|i| format!("qos{qos}-{i}"))
        .collect();
    let input = TempDir::new("pub").file("messages", &(payloads.join("\n") + "\n"));
    let published = run_bounded_with_input(
        Command::new("mosquitto_pub")
            .args([
                "-h",
                &host,
                "-p",
                &port,
                "-t",
                &topic,
                "-q",
                &qos.to_string(),
            ])
            .arg("-l"),
        Stdio::from(std::fs::File::open(&input.1).expect("the messages file")),
        CLIENT_LIMIT,
    );
    assert!(
        published.status.success(),
        "mosquitto_pub at QoS {qos}: {}\n{}",
        published.status,
        String::from_utf8_lossy(&published.stderr)
    );

    let received: Vec<String> = lines
        .map(|line| line.expect("mosquitto_sub's output"))
        .filter(|line| line.starts_with("msg "))
        .collect();
    let status = sub.wait().expect("wait for mosquitto_sub");
    let killed = watchdog.join().expect("the watchdog thread");
    assert!(
        !killed && status.success(),
        "mosquitto_sub -C {ROUND_TRIP_MESSAGES} at QoS {qos} did not end well \
         (killed after {CLIENT_LIMIT:?}: {killed}, {status}); it received {received:?}"
    );
    let want: Vec<String> = payloads.iter().map(|p| format!("msg {qos} {p}")).collect();
    assert_eq!(received, want, "mosquitto_sub at QoS {qos}");
    println!(
        "mosquitto_sub -C {ROUND_TRIP_MESSAGES} / mosquitto_pub -l at QoS {qos}: all received, in order"
    );
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("zzz-mqtt-{what}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    /// Writes `contents` to `name` inside; the directory lives as long as the returned value.
    fn file(self, name: &str, contents: &str) -> (TempDir, PathBuf) {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write a temporary file");
        (self, path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// mosquitto, started by a test on a free loopback port with a generated configuration, and
/// killed (by the PID it was started with, which stays its own until it is reaped here) when
/// dropped.
struct Mosquitto {
    addr: SocketAddr,
    /// Its MQTT-over-WebSocket listener.
    ws: SocketAddr,
    child: Child,
    dir: TempDir,
}

impl Mosquitto {
    fn start() -> Mosquitto {
        // A port the kernel picks, released for mosquitto to bind: another process could take
        // it in between, and then mosquitto exits and the start fails, saying so.
        let free_port = || {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
        };
        let (addr, ws) = (free_port(), free_port());
        // The configuration, not `-p`: a listener given by `-p` would bind every interface.
        let (dir, config) = TempDir::new("mosquitto").file(
            "mosquitto.conf",
            &format!(
                "listener {} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 listener {} 127.0.0.1\nprotocol websockets\n\
                 log_dest stderr\nlog_type error\nlog_type warning\n",
                addr.port(),
                ws.port()
            ),
        );
        let log = std::fs::File::create(dir.0.join("log")).expect("mosquitto's log file");
        let child = Command::new(mosquitto_program())
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start mosquitto: {e}"));
        let mut broker = Mosquitto {
            addr,
            ws,
            child,
            dir,
        };
        broker.wait_until_accepting();
        broker
    }

    /// Polls (bounded by [`START_LIMIT`]) until the port accepts a connection.
    fn wait_until_accepting(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait on mosquitto") {
                panic!(
                    "mosquitto exited during start-up ({status}):\n{}",
                    self.log()
                );
            }
            if TcpStream::connect_timeout(&self.addr, START_LIMIT).is_ok() {
                return;
            }
            assert!(
                started.elapsed() < START_LIMIT,
                "mosquitto did not accept on {} within {START_LIMIT:?}:\n{}",
                self.addr,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10)); // the polling interval
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("log")).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        // SIGKILL to the child this test spawned and has not reaped: its PID is still its own.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// mosquitto installs into /usr/sbin, which is not on every user's PATH.
fn mosquitto_program() -> PathBuf {
    let in_sbin = PathBuf::from("/usr/sbin/mosquitto");
    if in_sbin.exists() {
        return in_sbin;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.exists());
    on_path.unwrap_or_else(|| {
        panic!("mosquitto is not installed: run ci/setup.sh (apt mosquitto, mosquitto-clients)")
    })
}
