#!/usr/bin/env python3
"""Checks the firmware (examples/firmware) over QEMU's TCP port for its UART0.

    ci/firmware_client.py PORT [QUIET_MS]

Real clients: Python's http.client for keep-alive requests, raw sockets for what http.client
cannot send (pipelining, malformed and oversize heads). Every answer's status, headers and
body are checked; any failure exits 1.

QEMU's serial TCP server takes one client at a time, and the firmware never sees a TCP
connect or disconnect, only bytes. After a response that makes the server close its
connection (400, 431, `Connection: close`), the firmware discards what arrives until the
line has been quiet for QUIET_MS (default 50, `uart::QUIET_MS` in the firmware). So after
such a response the client closes its connection, waits (polling /proc/net/tcp, bounded)
until QEMU has handed the UART every byte it sent, then stays silent for a few times
QUIET_MS before its next request: that pause is the UART's framing rule (the only connection
boundary a UART has), not a wait for the server to be ready. See `after_close`.
"""

import http.client
import json
import socket
import sys
import time

HOST = "127.0.0.1"
TIMEOUT_S = 10


class Checks:
    """Counts checks and remembers failures."""

    def __init__(self):
        self.passed = 0
        self.failures = []

    def expect(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failures.append(what)
            print(f"  FAIL {what}: {detail}")


def quiet_gap(quiet_ms):
    """Leaves the line silent long enough for the firmware to start a new connection."""
    time.sleep(3 * quiet_ms / 1000)


def unread_by_qemu(port, client_port):
    """Bytes the client sent on its connection from `client_port` that QEMU has not yet read
    (the receive queue of QEMU's socket, from /proc/net/tcp), or None once that socket is gone."""
    me = f"0100007F:{port:04X}"
    peer = f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1] == me and fields[2] == peer:
                return int(fields[4].split(":")[1], 16)
    return None


def after_close(port, client_port, quiet_ms):
    """After a response that closed the server's connection, and the client's own close:
    waits (bounded, polling) until QEMU has handed the UART every byte the client sent, then
    leaves the quiet gap. The server may answer before reading all of a request (a 431 reads
    2 KiB of a longer head), and the rest still reaches the firmware, which discards it: under
    QEMU the UART takes a byte only when QEMU's main loop runs, so the rest may trail the
    response by up to a millisecond per byte, and the gap counts from the last byte the firmware
    saw, not from the last byte the client sent."""
    deadline = time.monotonic() + TIMEOUT_S
    while (unread_by_qemu(port, client_port) or 0) > 0:
        if time.monotonic() > deadline:
            raise TimeoutError("QEMU did not read what the client sent")
        time.sleep(0.005)
    quiet_gap(quiet_ms)


def read_response(sock_file):
    """Reads one HTTP/1.1 response (status line, headers, Content-Length body) from a
    socket's file; returns (status, headers as a dict of lower-case names, body)."""
    status_line = sock_file.readline()
    if not status_line:
        raise EOFError("connection ended before a response")
    parts = status_line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        line = sock_file.readline().decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = sock_file.read(length) if length else b""
    return status, headers, body


def raw_exchange(port, payload, responses):
    """Sends `payload` in one write on a new connection and reads `responses` answers;
    returns them and the client's port."""
    with socket.create_connection((HOST, port), timeout=TIMEOUT_S) as sock:
        sock.sendall(payload)
        f = sock.makefile("rb")
        return [read_response(f) for _ in range(responses)], sock.getsockname()[1]


def keep_alive(port, checks, _quiet_ms):
    """Several requests one after another on one http.client connection."""
    print("keep-alive: one connection, several requests")
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
    sockets = set()

    def request(method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        sockets.add(id(conn.sock))
        return response, data

    r, body = request("GET", "/")
    checks.expect(
        "GET / is 200 text/html with the home page",
        r.status == 200
        and r.getheader("Content-Type", "").startswith("text/html")
        and b"zzz on a Cortex-M4" in body
        and int(r.getheader("Content-Length")) == len(body),
        f"{r.status} {r.getheaders()} {body[:80]!r}",
    )
    checks.expect("the server says Server: zzz", r.getheader("Server") == "zzz", r.getheaders())

    for sensor, celsius in [(3, 21), (12, 22), (4_000_000_000, 18)]:
        r, body = request("GET", f"/sensors/{sensor}")
        checks.expect(
            f"GET /sensors/{sensor} is JSON with the id and {celsius} C",
            r.status == 200
            and r.getheader("Content-Type") == "application/json"
            and json.loads(body) == {"id": sensor, "celsius": celsius},
            f"{r.status} {body!r}",
        )

    r, body = request("GET", "/sensors/minus-one")
    checks.expect("GET /sensors/minus-one (not a u32) is 400", r.status == 400, r.status)

    r, body = request("GET", "/hello/world")
    checks.expect(
        "GET /hello/world is the askama page",
        r.status == 200
        and r.getheader("Content-Type") == "text/html; charset=utf-8"
        and b"<h1>Hello, world!</h1>" in body,
        f"{r.status} {body[:120]!r}",
    )
    r, body = request("GET", "/hello/%3Cb%3E")
    checks.expect(
        "GET /hello/%3Cb%3E is decoded, then escaped by the template",
        r.status == 200
        and b"<b>" not in body
        and (b"Hello, &#60;b&#62;!" in body or b"Hello, &lt;b&gt;!" in body),
        body[:160],
    )

    payload = b"ping from http.client \x00\x01\x02 " * 20
    r, body = request("POST", "/echo", payload, {"Content-Type": "application/x-test"})
    checks.expect(
        f"POST /echo ({len(payload)} bytes) answers the body with its Content-Type",
        r.status == 200 and body == payload and r.getheader("Content-Type") == "application/x-test",
        f"{r.status} {len(body)} {r.getheaders()}",
    )
    r, body = request("POST", "/echo", b"x" * 1234, {"Accept": "application/json"})
    checks.expect(
        "POST /echo with Accept: application/json is its length as JSON",
        r.status == 200 and json.loads(body) == {"length": 1234},
        f"{r.status} {body!r}",
    )

    r, body = request("GET", "/no/such/page")
    checks.expect("GET /no/such/page is 404", r.status == 404, r.status)
    r, body = request("DELETE", "/sensors/3")
    allow = r.getheader("Allow", "")
    checks.expect(
        "DELETE /sensors/3 is 405 with Allow: GET, HEAD",
        r.status == 405 and "GET" in allow and "HEAD" in allow and "DELETE" not in allow,
        f"{r.status} Allow={allow!r}",
    )
    r, body = request("HEAD", "/sensors/3")
    checks.expect(
        "HEAD /sensors/3 is 200 without a body",
        r.status == 200 and body == b"" and r.getheader("Content-Length") == "21",
        f"{r.status} {r.getheaders()}",
    )
    checks.expect(
        "every request went over the same connection",
        len(sockets) == 1 and not r.will_close,
        f"{len(sockets)} sockets",
    )
    conn.close()


def pipelined(port, checks, _quiet_ms):
    """Two requests in one write, two answers in order."""
    print("pipelining: two requests in one write")
    payload = (
        b"GET /sensors/1 HTTP/1.1\r\nHost: board\r\n\r\n"
        b"GET /sensors/2 HTTP/1.1\r\nHost: board\r\n\r\n"
    )
    [(s1, _, b1), (s2, _, b2)], _ = raw_exchange(port, payload, 2)
    checks.expect(
        "both answered, in order",
        s1 == 200 and s2 == 200 and json.loads(b1)["id"] == 1 and json.loads(b2)["id"] == 2,
        f"{s1} {b1!r} {s2} {b2!r}",
    )


def closing(port, checks, quiet_ms):
    """Requests after which the server closes its connection, each followed by the quiet gap."""
    print("closing: bad request, oversize head, Connection: close")
    [(status, headers, _)], client_port = raw_exchange(
        port, b"GET / HTTP/1.1\r\nHost board\r\n\r\n", 1
    )
    checks.expect(
        "a malformed header field is 400 and closes",
        status == 400 and headers.get("connection") == "close",
        f"{status} {headers}",
    )
    after_close(port, client_port, quiet_ms)

    big = b"GET / HTTP/1.1\r\nHost: board\r\nX-Filler: " + b"a" * 900 + b"\r\n"
    big += b"X-Filler-2: " + b"b" * 900 + b"\r\nX-Filler-3: " + b"c" * 900 + b"\r\n\r\n"
    [(status, headers, _)], client_port = raw_exchange(port, big, 1)
    checks.expect(
        f"a {len(big)}-byte head (over 2 KiB) is 431 and closes",
        status == 431 and headers.get("connection") == "close",
        f"{status} {headers}",
    )
    after_close(port, client_port, quiet_ms)

    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
    conn.request("GET", "/sensors/5", headers={"Connection": "close"})
    client_port = conn.sock.getsockname()[1]
    r = conn.getresponse()
    body = r.read()
    checks.expect(
        "Connection: close is answered and honoured",
        r.status == 200 and r.getheader("Connection") == "close" and json.loads(body)["id"] == 5,
        f"{r.status} {r.getheaders()}",
    )
    conn.close()
    after_close(port, client_port, quiet_ms)

    # After the gap, a new connection is served as usual.
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
    conn.request("GET", "/sensors/6")
    r = conn.getresponse()
    checks.expect(
        "after the quiet gap the next connection is served",
        r.status == 200 and json.loads(r.read())["id"] == 6,
        r.status,
    )
    conn.close()


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    port = int(sys.argv[1])
    quiet_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    checks = Checks()
    for group in (keep_alive, pipelined, closing):
        try:
            group(port, checks, quiet_ms)
        except (OSError, EOFError, ValueError, http.client.HTTPException) as error:
            checks.expect(f"{group.__name__} ran to its end", False, repr(error))
            # Whatever the failure left half-sent, the next group starts on a fresh line.
            quiet_gap(quiet_ms)
    print(f"firmware client: {checks.passed} checks passed, {len(checks.failures)} failed")
    if checks.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
