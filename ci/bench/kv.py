#!/usr/bin/env python3
"""The key-value benchmark: examples/kv.rs against redis-server, by redis-benchmark.

    python3 ci/bench/kv.py                       # full run, about 3 minutes
    BENCH_RUNS=1 BENCH_KV_SCALE=0.2 python3 ci/bench/kv.py    # a quick one

Both servers run at once, each pinned to BENCH_SERVER_CPU (one thread: zzz's kv with one
instance, redis-server as it comes, persistence off), on ports of their own; redis-benchmark
runs pinned to BENCH_CLIENT_CPU. For each mode (16 commands per write, and one) and each run,
redis-benchmark -t ping,set,get measures one server then the other, so that drift in the
machine's speed hits both alike. Per run it records redis-benchmark's requests per second
for each test and the server's CPU time over the run (utime + stime of its PID from
/proc/PID/stat), which gives the figure compared: requests per server CPU-second. The report,
a Markdown table, is printed and written to ci/bench/results/kv-latest.md; raw outputs stay in
ci/bench/results/kv-<stamp>/.

Servers are stopped by the PIDs this script started, never by name, and only loopback
addresses are used.

Settings (environment):
  BENCH_RUNS=3              measured runs per mode and server
  BENCH_KV_SCALE=1          multiplies the request counts (2,000,000 pipelined, 200,000 not)
  BENCH_KV_CLIENTS=50       redis-benchmark connections
  BENCH_KV_PORT=16379       zzz's port; redis-server takes the next one
  BENCH_SERVER_CPU=0  BENCH_CLIENT_CPU=1
  BENCH_NO_BUILD=1          use target/release/examples/kv as it is
"""

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TESTS = ["PING_INLINE", "PING_MBULK", "SET", "GET"]


def env_int(name, default):
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        sys.exit(f"[kv-bench] {name}={value} is not a whole number")
    return int(value)


RUNS = env_int("BENCH_RUNS", 3)
SCALE = float(os.environ.get("BENCH_KV_SCALE", "1"))
CLIENTS = env_int("BENCH_KV_CLIENTS", 50)
PORT = env_int("BENCH_KV_PORT", 16379)
SERVER_CPU = env_int("BENCH_SERVER_CPU", 0)
CLIENT_CPU = env_int("BENCH_CLIENT_CPU", 1)
CLK_TCK = os.sysconf("SC_CLK_TCK")
MODES = [("pipelined, -P 16", 16, int(2_000_000 * SCALE)), ("one per write", 1, int(200_000 * SCALE))]


def log(message):
    print(f"[kv-bench] {message}", file=sys.stderr, flush=True)


def ensure_tools():
    missing = [pkg for tool, pkg in [("redis-server", "redis-server"), ("redis-benchmark", "redis-tools"),
                                     ("redis-cli", "redis-tools"), ("taskset", "util-linux")]
               if shutil.which(tool) is None]
    if missing:
        log(f"installing {' '.join(sorted(set(missing)))} with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *sorted(set(missing))], check=True, env=env,
                       stdout=subprocess.DEVNULL)


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def answers(port):
    result = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True, timeout=5)
    return result.stdout.strip() == "PONG"


class Server:
    def __init__(self, name, port, argv, logfile):
        self.name, self.port = name, port
        if answers_safely(port):
            sys.exit(f"[kv-bench] something already answers at port {port}; set BENCH_KV_PORT")
        self.log = open(logfile, "w")
        self.process = subprocess.Popen(["taskset", "-c", str(SERVER_CPU), *argv],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        # Ready when it answers PING: bounded at 20 s.
        for _ in range(200):
            if self.process.poll() is not None:
                sys.exit(f"[kv-bench] {name} exited during start-up; see {logfile}")
            if answers_safely(port):
                return
            time.sleep(0.1)
        self.stop()
        sys.exit(f"[kv-bench] {name} did not answer PING within 20 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def answers_safely(port):
    try:
        return answers(port)
    except (subprocess.TimeoutExpired, OSError):
        return False


def benchmark(server, pipeline, requests, raw_dir, tag):
    """One redis-benchmark run against one server: rps per test, and the server's CPU time."""
    argv = ["taskset", "-c", str(CLIENT_CPU), "redis-benchmark", "-p", str(server.port), "-q", "--csv",
            "-c", str(CLIENTS), "-n", str(requests), "-P", str(pipeline), "-t", "ping,set,get"]
    before = cpu_seconds(server.process.pid)
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(server.process.pid) - before
    (raw_dir / f"{tag}.csv").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(f"[kv-bench] redis-benchmark failed against {server.name}: {result.stderr}")
    rps = {}
    for row in csv.reader(io.StringIO(result.stdout)):
        if row and row[0] in TESTS:
            rps[row[0]] = float(row[1])
    missing = [t for t in TESTS if t not in rps]
    if missing:
        sys.exit(f"[kv-bench] no result for {missing} from {server.name}:\n{result.stdout}")
    return rps, cpu, elapsed


def main():
    ensure_tools()
    if not os.environ.get("BENCH_NO_BUILD"):
        log("building zzz's kv (cargo build --release --example kv)")
        subprocess.run(["cargo", "build", "--release", "--example", "kv"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    kv = target / "release" / "examples" / "kv"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw_dir = HERE / "results" / f"kv-{stamp}"
    raw_dir.mkdir(parents=True, exist_ok=True)
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    servers = []
    try:
        servers.append(Server("zzz kv", PORT, [str(kv), f"127.0.0.1:{PORT}", "--keys", "1000000", "--memory", "256"],
                              raw_dir / "zzz.log"))
        servers.append(Server("redis-server", PORT + 1,
                              ["redis-server", "--port", str(PORT + 1), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--protected-mode", "no", "--maxclients", "1024"],
                              raw_dir / "redis.log"))
        results = {}  # (mode, server) -> list of (rps dict, cpu, requests)
        for mode, pipeline, requests in MODES:
            log(f"{mode}: {RUNS} runs x {len(servers)} servers, {requests} requests per test")
            # A warm-up for each server, not measured.
            for server in servers:
                benchmark(server, pipeline, max(requests // 10, 1000), raw_dir, f"warmup-{server.port}-{pipeline}")
            for run in range(RUNS):
                order = servers if run % 2 == 0 else list(reversed(servers))
                for server in order:
                    rps, cpu, elapsed = benchmark(server, pipeline, requests, raw_dir,
                                                  f"run{run}-{server.port}-P{pipeline}")
                    results.setdefault((mode, server.name), []).append((rps, cpu, requests))
                    log(f"  run {run + 1} {server.name}: "
                        + ", ".join(f"{t} {rps[t]:,.0f}/s" for t in TESTS)
                        + f"; server CPU {cpu:.2f} s in {elapsed:.1f} s")
    finally:
        for server in servers:
            server.stop()
    report = render(results, version)
    print(report)
    latest = HERE / "results" / "kv-latest.md"
    latest.write_text(report)
    (raw_dir / "report.md").write_text(report)
    log(f"report in {latest}, raw outputs in {raw_dir}")


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def render(results, version):
    lines = [
        f"# Key-value benchmark: zzz kv against {version.split(' sha=')[0]}",
        "",
        f"redis-benchmark -t ping,set,get, {CLIENTS} connections, each server pinned to CPU {SERVER_CPU}, "
        f"the client to CPU {CLIENT_CPU}; median of {RUNS} runs. Requests per server CPU-second: the "
        "run's requests (all four tests) over the server's CPU time during the run.",
        "",
        "| mode | test | zzz kv req/s | redis req/s | zzz / redis |",
        "|---|---|---:|---:|---:|",
    ]
    for mode, _, _ in MODES:
        for test in TESTS:
            z = median([r[test] for r, _, _ in results[(mode, "zzz kv")]])
            r = median([r[test] for r, _, _ in results[(mode, "redis-server")]])
            lines.append(f"| {mode} | {test} | {z:,.0f} | {r:,.0f} | {z / r:.2f} |")
    lines += [
        "",
        "| mode | zzz kv req per CPU-s | redis req per CPU-s | zzz / redis |",
        "|---|---:|---:|---:|",
    ]
    for mode, _, _ in MODES:
        per_cpu = {}
        for name in ("zzz kv", "redis-server"):
            per_cpu[name] = median([len(TESTS) * n / cpu for _, cpu, n in results[(mode, name)] if cpu > 0])
        z, r = per_cpu["zzz kv"], per_cpu["redis-server"]
        lines.append(f"| {mode} | {z:,.0f} | {r:,.0f} | {z / r:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
