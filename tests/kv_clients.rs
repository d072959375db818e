//! The Redis-protocol key-value module (`zzz_apps::kv`, served by `examples/kv.rs`) against
//! real Redis clients: `redis-cli` (one command at a time, and `--pipe`), `redis-benchmark`
//! (pipelined and not) and Python's `redis` package.
//!
//! Each test starts its own server on a port the kernel picks, bounds every client by a
//! timeout that kills it by PID, and stops its server when it ends. The clients come from
//! `ci/setup.sh` (apt `redis-tools`, the `redis` package in the tests' virtualenv).

#![cfg(target_os = "linux")]

mod support;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{TestServer, run_bounded, run_bounded_with_input, run_python_checks, test_python};
use zzz::core::{App, Config, Sole};
use zzz::uring::Builder;
use zzz_apps::kv::Kv;
use zzz_apps::kv::store::Capacity;

/// How long any client program may run before it is killed and the test fails.
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

fn kv_server() -> TestServer {
    let mut config = Config::DEFAULT;
    config.max_connections = 64;
    config.recv_buffer = 16 * 1024;
    config.send_buffer = 16 * 1024;
    config.large_buffers = 0;
    let capacity = Capacity {
        keys: 100_000,
        bytes: 16 << 20,
    };
    TestServer::start(
        Builder::new(config).listen_tcp("127.0.0.1:0".parse().unwrap(), Sole),
        move |_| App::with_modules((), Kv::new(capacity, 0x5eed)),
    )
}

/// `redis-cli` with `args` against `addr`: its standard output, after checking it ran well.
fn redis_cli(addr: SocketAddr, args: &[&str]) -> String {
    let output = run_bounded(
        Command::new("redis-cli")
            .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .args(args),
        CLIENT_LIMIT,
    );
    assert!(
        output.status.success(),
        "redis-cli {args:?}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 from redis-cli")
}

#[test]
fn redis_cli_one_command_at_a_time() {
    let server = kv_server();
    let addr = server.tcp(0);
    for (args, want) in [
        (&["PING"][..], "PONG\n"),
        (&["SET", "greeting", "hello world"], "OK\n"),
        (&["GET", "greeting"], "hello world\n"),
        (&["GET", "nope"], "\n"),
        (&["INCR", "counter"], "1\n"),
        (&["INCRBY", "counter", "41"], "42\n"),
        (&["MSET", "a", "1", "b", "2"], "OK\n"),
        (&["MGET", "a", "nope", "b"], "1\n\n2\n"),
        (&["EXISTS", "a", "b", "nope"], "2\n"),
        (&["SET", "session", "x", "EX", "100"], "OK\n"),
        (&["TTL", "session"], "100\n"),
        (&["DBSIZE"], "5\n"),
        (&["DEL", "a", "b"], "2\n"),
        (&["ECHO", "echoed"], "echoed\n"),
        // redis-cli ends an error reply with an empty line.
        (
            &["NOPE", "x"],
            "ERR unknown command 'NOPE', with args beginning with: 'x' \n\n",
        ),
        (
            &["GET"],
            "ERR wrong number of arguments for 'get' command\n\n",
        ),
        (&["FLUSHALL"], "OK\n"),
        (&["DBSIZE"], "0\n"),
    ] {
        assert_eq!(redis_cli(addr, args), want, "{args:?}");
    }
    server.stop().unwrap();
}

/// `redis-cli --pipe`: a thousand commands in one stream, every reply counted.
#[test]
fn redis_cli_pipe_mode() {
    let server = kv_server();
    let addr = server.tcp(0);
    let mut commands = String::new();
    for i in 0..1000 {
        commands.push_str(&format!("SET key:{i} value:{i}\r\n"));
    }
    let path = std::env::temp_dir().join(format!("zzz-kv-pipe-{}", std::process::id()));
    std::fs::write(&path, commands).unwrap();
    let output = run_bounded_with_input(
        Command::new("redis-cli")
            .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .arg("--pipe"),
        Stdio::from(std::fs::File::open(&path).unwrap()),
        CLIENT_LIMIT,
    );
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("errors: 0, replies: 1000"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(redis_cli(addr, &["DBSIZE"]), "1000\n");
    assert_eq!(redis_cli(addr, &["GET", "key:999"]), "value:999\n");
    server.stop().unwrap();
}

/// `redis-benchmark`, 16 commands per write and one: every test runs to its end.
#[test]
fn redis_benchmark_pipelined_and_not() {
    let server = kv_server();
    let addr = server.tcp(0);
    for pipeline in ["16", "1"] {
        let output = run_bounded(
            Command::new("redis-benchmark")
                .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
                .args(["-n", "20000", "-c", "20", "-q", "-P", pipeline])
                .args(["-t", "ping,set,get,incr,mset"]),
            CLIENT_LIMIT,
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        for test in [
            "PING_INLINE",
            "PING_MBULK",
            "SET",
            "GET",
            "INCR",
            "MSET (10 keys)",
        ] {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.contains(&format!("{test}: ")) && l.contains("requests per second")),
                "-P {pipeline}: no result for {test}:\n{stdout}"
            );
        }
    }
    // INCR ran 2 x 20,000 times on one counter.
    assert_eq!(redis_cli(addr, &["GET", "counter:__rand_int__"]), "40000\n");
    // 1,000-byte values, 64 commands per write: each write is four receive buffers' worth,
    // and commands straddle the buffer's end.
    let output = run_bounded(
        Command::new("redis-benchmark")
            .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .args(["-n", "20000", "-c", "10", "-q", "-P", "64", "-d", "1000"])
            .args(["-t", "set,get"]),
        CLIENT_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("SET: ") && stdout.contains("GET: "),
        "{stdout}"
    );
    assert_eq!(
        redis_cli(addr, &["GET", "key:__rand_int__"]).len(),
        1000 + 1
    );
    server.stop().unwrap();
}

/// Python's `redis` package: commands, a pipeline, errors as exceptions, expiry.
#[test]
fn python_redis_client() {
    const SCRIPT: &str = r#"
import sys, time, redis
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), protocol=2, socket_timeout=10)
assert r.ping() is True
assert r.set("a", "1") is True and r.get("a") == b"1"
assert r.incr("a") == 2 and r.decr("a", 5) == -3 and r.incrby("a", 10) == 7
assert r.mset({"x": "1", "y": "2"}) is True
assert r.mget("x", "y", "z") == [b"1", b"2", None]
assert r.exists("a", "x", "nope") == 2 and r.delete("x", "nope") == 1
assert r.set("a", "v", nx=True) is None and r.set("new", "v", xx=True) is None
big = bytes(range(256)) * 40
assert r.set("big", big) and r.get("big") == big
p = r.pipeline(transaction=False)
for i in range(500):
    p.set(f"k{i}", i)
for i in range(500):
    p.get(f"k{i}")
replies = p.execute()
assert replies[:500] == [True] * 500 and replies[500:] == [str(i).encode() for i in range(500)]
try:
    r.execute_command("NOPE", "arg")
    raise SystemExit("no error for an unknown command")
except redis.ResponseError as e:
    assert "unknown command" in str(e), e
try:
    r.incr("big")
    raise SystemExit("no error for INCR of a non-integer")
except redis.ResponseError as e:
    assert "not an integer" in str(e), e
assert r.set("short", "lived", px=100) is True and 0 < r.pttl("short") <= 100
# Gone within a bounded wait: each GET is a round trip, and the server's clock, not ours,
# decides when it answers nil.
deadline = time.monotonic() + 10
while r.get("short") is not None:
    assert time.monotonic() < deadline, "a key set with PX 100 did not expire in 10 s"
assert r.ttl("short") == -2
assert r.dbsize() == 503, r.dbsize()
assert r.flushall() is True and r.dbsize() == 0
print("ok")
"#;
    let server = kv_server();
    let addr = server.tcp(0);
    run_python_checks(test_python(), SCRIPT, addr, CLIENT_LIMIT);
    server.stop().unwrap();
}
