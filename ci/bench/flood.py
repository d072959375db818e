#!/usr/bin/env python3
"""A connection flood against one server, measured as a client sees it.

One thread opens FLOOD_CONNS TCP connections that never send a byte, FLOOD_RATE per second,
and holds them; meanwhile a prompt client makes FLOOD_REQUESTS requests (`GET /plaintext`,
`Connection: close`), one every FLOOD_INTERVAL_MS on a fresh connection, each with a
FLOOD_TIMEOUT second budget for connect and answer. Prints one JSON line: how many prompt
requests were answered 200, their latency percentiles, and how the flood fared.

    python3 ci/bench/flood.py 127.0.0.1:18090

Only loopback addresses are accepted. Nothing here is a test: it prints figures.
"""

import json
import os
import resource
import socket
import sys
import threading
import time

addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:18090"
host, port = addr.rsplit(":", 1)
host = host.strip("[]")
if not (host.startswith("127.") or host in ("::1", "localhost")):
    sys.exit(f"flood.py: {addr} is not a loopback address")
port = int(port)

conns = int(os.environ.get("FLOOD_CONNS", "10000"))
rate = float(os.environ.get("FLOOD_RATE", "500"))
requests = int(os.environ.get("FLOOD_REQUESTS", "1000"))
interval = float(os.environ.get("FLOOD_INTERVAL_MS", "10")) / 1000
timeout = float(os.environ.get("FLOOD_TIMEOUT", "5"))

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = conns + 1000
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: flood\r\nConnection: close\r\n\r\n"
family = socket.AF_INET6 if ":" in host else socket.AF_INET

flood_state = {"opened": 0, "failed": 0, "closed_by_server": 0}
stop = threading.Event()


def flood():
    held = []
    start = time.monotonic()
    for i in range(conns):
        if stop.is_set():
            break
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            flood_state["failed"] += 1
            s.close()
            continue
        held.append(s)
        flood_state["opened"] += 1
    stop.wait()
    for s in held:
        try:
            if s.recv(1, socket.MSG_DONTWAIT) == b"":
                flood_state["closed_by_server"] += 1
        except BlockingIOError:
            pass
        except OSError:
            flood_state["closed_by_server"] += 1
        s.close()


def one_request():
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(max(0.001, timeout - (time.monotonic() - t0)))
            s.sendall(REQUEST)
            got = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
                if time.monotonic() - t0 > timeout:
                    return None, "slow"
    except socket.timeout:
        return None, "timeout"
    except OSError as e:
        return None, type(e).__name__
    if got.startswith(b"HTTP/1.1 200") and got.endswith(b"Hello, World!"):
        return time.monotonic() - t0, None
    return None, "bad answer"


flooder = threading.Thread(target=flood, daemon=True)
flooder.start()
latencies = []
errors = {}
start = time.monotonic()
for i in range(requests):
    due = start + i * interval
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    took, error = one_request()
    if error is None:
        latencies.append(took)
    else:
        errors[error] = errors.get(error, 0) + 1
opened_during = flood_state["opened"]
stop.set()
flooder.join()
latencies.sort()


def pct(p):
    if not latencies:
        return None
    return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)


print(json.dumps({
    "answered": len(latencies),
    "requests": requests,
    "errors": errors,
    "p50_ms": pct(0.50),
    "p99_ms": pct(0.99),
    "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
    "flood_opened": opened_during,
    "flood_connect_failed": flood_state["failed"],
    "flood_closed_by_server": flood_state["closed_by_server"],
    "seconds": round(time.monotonic() - start, 1),
}))
