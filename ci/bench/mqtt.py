#!/usr/bin/env python3
"""The MQTT benchmark: zzz's broker (examples/mqtt_broker.rs) against mosquitto, with
ci/bench/mqtt-load (rumqttc clients) as the load.

    python3 ci/bench/mqtt.py                      # about a minute
    BENCH_RUNS=1 BENCH_MQTT_SCALE=0.2 python3 ci/bench/mqtt.py   # a quick one

Both brokers run at once, each pinned to BENCH_SERVER_CPU, on loopback ports of their own
(zzz's broker with one instance; mosquitto with a generated configuration: a listener on
127.0.0.1, anonymous clients, no persistence, its other settings as they come). While
examples/mqtt_broker.rs does not exist, mosquitto is measured alone, and the report says so.
The generator runs pinned to BENCH_CLIENT_CPU. Cells: one publisher to one subscriber and to
100 subscribers, at QoS 0 and QoS 1, messages of 64 bytes. For each cell and run it measures
one broker then the other (the other order on odd runs), so that drift in the machine's speed
hits both alike. Per run: messages delivered to subscribers (and expected), the broker's CPU
time over the run (utime + stime of its PID from /proc/PID/stat, before and after), which
gives the figure compared: delivered messages per server CPU-second; and peak RSS (VmHWM,
reset per run through /proc/PID/clear_refs). The report, a Markdown table with the ratio
zzz / mosquitto per cell, is printed and written to ci/bench/results/mqtt-latest.md; the
generator's raw outputs stay in ci/bench/results/mqtt-<stamp>/.

Brokers are stopped by the PIDs this script started, never by name; only loopback is used.

Settings (environment):
  BENCH_RUNS=3              measured runs per cell and broker (after one warm-up run)
  BENCH_MQTT_SCALE=1        multiplies the message counts (200,000 to one subscriber,
                            10,000 to each of 100)
  BENCH_MQTT_PORT=18830     zzz's port; mosquitto takes the next one
  BENCH_MQTT_QUIET_MS=2000  a subscriber gives up after this long without a message
  BENCH_SERVER_CPU=0  BENCH_CLIENT_CPU=1
  BENCH_NO_BUILD=1          use the binaries as they are
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SIZE = 64


def env_int(name, default):
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        sys.exit(f"[mqtt-bench] {name}={value} is not a whole number")
    return int(value)


RUNS = env_int("BENCH_RUNS", 3)
SCALE = float(os.environ.get("BENCH_MQTT_SCALE", "1"))
PORT = env_int("BENCH_MQTT_PORT", 18830)
QUIET_MS = env_int("BENCH_MQTT_QUIET_MS", 2000)
SERVER_CPU = env_int("BENCH_SERVER_CPU", 0)
CLIENT_CPU = env_int("BENCH_CLIENT_CPU", 1)
CLK_TCK = os.sysconf("SC_CLK_TCK")
# (label, subscribers, messages the publisher sends, qos)
CELLS = [
    (f"1 -> 1, QoS {qos}", 1, int(200_000 * SCALE), qos) for qos in (0, 1)
] + [
    (f"1 -> 100, QoS {qos}", 100, int(10_000 * SCALE), qos) for qos in (0, 1)
]


def log(message):
    print(f"[mqtt-bench] {message}", file=sys.stderr, flush=True)


def ensure_tools():
    missing = [pkg for tool, pkg in [("mosquitto", "mosquitto"), ("taskset", "util-linux")]
               if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()]
    if missing:
        log(f"installing {' '.join(sorted(set(missing)))} with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *sorted(set(missing))], check=True, env=env,
                       stdout=subprocess.DEVNULL)


def mosquitto_program():
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def reset_peak_rss(pid):
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # not permitted here: the figure is then the peak since start


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Broker:
    def __init__(self, name, port, argv, logfile):
        self.name, self.port = name, port
        if accepts(port):
            sys.exit(f"[mqtt-bench] something already accepts at port {port}; set BENCH_MQTT_PORT")
        self.log = open(logfile, "w")
        self.process = subprocess.Popen(["taskset", "-c", str(SERVER_CPU), *argv],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        # Ready when the port accepts: polled, bounded at 20 s.
        for _ in range(200):
            if self.process.poll() is not None:
                sys.exit(f"[mqtt-bench] {name} exited during start-up; see {logfile}")
            if accepts(port):
                return
            time.sleep(0.1)
        self.stop()
        sys.exit(f"[mqtt-bench] {name} did not accept within 20 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def load(generator, broker, subscribers, messages, qos, raw_dir, tag):
    """One generator run against one broker: its JSON, the broker's CPU time and peak RSS."""
    argv = ["taskset", "-c", str(CLIENT_CPU), str(generator), f"127.0.0.1:{broker.port}",
            "--subscribers", str(subscribers), "--messages", str(messages), "--size", str(SIZE),
            "--qos", str(qos), "--quiet-ms", str(QUIET_MS)]
    pid = broker.process.pid
    reset_peak_rss(pid)
    before = cpu_seconds(pid)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    cpu = cpu_seconds(pid) - before
    rss = peak_rss_kib(pid)
    (raw_dir / f"{tag}.txt").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(f"[mqtt-bench] mqtt-load failed against {broker.name}: {result.stderr}")
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if outcome["order_violations"]:
        sys.exit(f"[mqtt-bench] {broker.name}: {outcome['order_violations']} messages out of order ({tag})")
    return outcome, cpu, rss


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def main():
    ensure_tools()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    has_zzz = (ROOT / "examples" / "mqtt_broker.rs").exists()
    if not os.environ.get("BENCH_NO_BUILD"):
        log("building the load generator (ci/bench/mqtt-load, release)")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=HERE / "mqtt-load", check=True)
        if has_zzz:
            log("building zzz's broker (cargo build --release --example mqtt_broker)")
            subprocess.run(["cargo", "build", "--release", "--example", "mqtt_broker"], cwd=ROOT, check=True)
    if not has_zzz:
        log("examples/mqtt_broker.rs does not exist yet: measuring mosquitto alone")
    generator = HERE / "mqtt-load" / "target" / "release" / "mqtt-load"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw_dir = HERE / "results" / f"mqtt-{stamp}"
    raw_dir.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([mosquitto_program(), "-h"], capture_output=True, text=True).stdout.splitlines()
    version = version[0].strip() if version else "mosquitto"
    brokers = []
    with tempfile.TemporaryDirectory(prefix="zzz-mqtt-bench-") as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(f"listener {PORT + 1} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                          "log_dest stderr\nlog_type error\nlog_type warning\n")
        try:
            if has_zzz:
                brokers.append(Broker("zzz", PORT, [str(target / "release" / "examples" / "mqtt_broker"),
                                                    f"127.0.0.1:{PORT}"], raw_dir / "zzz.log"))
            brokers.append(Broker("mosquitto", PORT + 1, [mosquitto_program(), "-c", str(config)],
                                  raw_dir / "mosquitto.log"))
            results = {}  # (cell, broker) -> list of (outcome, cpu, rss)
            for label, subscribers, messages, qos in CELLS:
                log(f"{label}: {messages} messages, {RUNS} runs x {len(brokers)} brokers")
                for broker in brokers:
                    load(generator, broker, subscribers, max(messages // 10, 100), qos, raw_dir,
                         f"warmup-{broker.name}-{subscribers}-q{qos}")
                for run in range(RUNS):
                    for broker in (brokers if run % 2 == 0 else list(reversed(brokers))):
                        outcome, cpu, rss = load(generator, broker, subscribers, messages, qos, raw_dir,
                                                 f"run{run}-{broker.name}-{subscribers}-q{qos}")
                        results.setdefault((label, broker.name), []).append((outcome, cpu, rss))
                        log(f"  run {run + 1} {broker.name}: {outcome['delivered']}/{outcome['expected']} "
                            f"delivered in {outcome['elapsed_s']:.2f} s; server CPU {cpu:.2f} s, "
                            f"peak RSS {rss / 1024:.1f} MiB")
        finally:
            for broker in brokers:
                broker.stop()
    report = render(results, [b.name for b in brokers], version)
    print(report)
    latest = HERE / "results" / "mqtt-latest.md"
    latest.write_text(report)
    (raw_dir / "report.md").write_text(report)
    log(f"report in {latest}, raw outputs in {raw_dir}")


def render(results, names, version):
    lines = [
        f"# MQTT benchmark: {' against '.join(names)} ({version})",
        "",
        f"ci/bench/mqtt-load (rumqttc, one thread) pinned to CPU {CLIENT_CPU}, each broker to CPU "
        f"{SERVER_CPU}; one publisher, messages of {SIZE} bytes; median of {RUNS} runs. Delivered per "
        "CPU-s: messages delivered to subscribers over the broker's CPU time during the run.",
        "",
    ]
    if "zzz" not in names:
        lines += ["**examples/mqtt_broker.rs does not exist yet: mosquitto alone, no ratio.**", ""]
    header = "| cell |"
    rule = "|---|"
    for name in names:
        header += f" {name} delivered | {name} CPU s | {name} delivered per CPU-s | {name} peak RSS MiB |"
        rule += "---:|---:|---:|---:|"
    if "zzz" in names and "mosquitto" in names:
        header += " zzz / mosquitto |"
        rule += "---:|"
    lines += [header, rule]
    for label, _, _, _ in CELLS:
        row = f"| {label} |"
        per_cpu = {}
        for name in names:
            runs = results[(label, name)]
            delivered = median([o["delivered"] for o, _, _ in runs])
            expected = runs[0][0]["expected"]
            cpu = median([c for _, c, _ in runs])
            per_cpu[name] = median([o["delivered"] / c for o, c, _ in runs if c > 0] or [0])
            rss = median([r for _, _, r in runs]) / 1024
            row += f" {delivered:,.0f} / {expected:,} | {cpu:.2f} | {per_cpu[name]:,.0f} | {rss:.1f} |"
        if "zzz" in per_cpu and "mosquitto" in per_cpu:
            ratio = per_cpu["zzz"] / per_cpu["mosquitto"] if per_cpu["mosquitto"] else float("nan")
            row += f" {ratio:.2f} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
