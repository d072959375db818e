"""MQTT 3.1.1 broker checks with a real client (paho-mqtt 2.x) and raw sockets.

    python tests/mqtt_checks.py HOST PORT [WS_PORT [--lenient-text-frames]]

Run by tests/mqtt_clients.rs against mosquitto (the reference) and zzz's broker. With WS_PORT,
the paho clients speak MQTT over WebSocket to that port (path /mqtt, subprotocol mqtt) while
the raw clients stay on TCP, so messages cross between the two transports; and the WebSocket
framing is checked with the websockets library (packets split across frames and joined in
one, pings, a text frame refused). Each check
prints one line as it passes; the last line is `ok`. A failing check raises with a message
that says what was expected and what arrived.

Nothing here sleeps to let something happen. Where a check must show that a message did NOT
arrive, it sends a fence: a message on a topic the receiver also subscribes to, published after
the event under test, by a publisher whose earlier work the broker has acknowledged. The
receiver reads until the fence; whatever the broker would have delivered before it is in
front of it. This leans on the broker forwarding one publisher's messages in the order it
received them across topics; MQTT 3.1.1 section 4.6 requires that per topic, and every broker
that processes a connection's packets in order does it across topics too.

Every wait is bounded by GUARD, which only guards against a hang.
"""

import os
import queue
import socket
import struct
import sys
import time

import paho.mqtt.client as mqtt

HOST, PORT = sys.argv[1], int(sys.argv[2])
WS_PORT = int(sys.argv[3]) if len(sys.argv) > 3 else None
# mosquitto 2.0.11 keeps a connection open after a text frame, against [MQTT-6.0.0-1].
LENIENT_TEXT = "--lenient-text-frames" in sys.argv[4:]
GUARD = 10.0  # seconds any single wait may take before the check fails
# Topics and client ids carry a per-run prefix, so checks never see another run's state.
RUN = f"zt{os.getpid()}-{int(time.monotonic() * 1000) % 100000}"


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


class Client:
    """A paho client driven from its own network thread, with every callback on a queue."""

    def __init__(self, name, clean_session=True, will=None):
        self.name = name
        self.client_id = f"{RUN}-{name}"
        self.paho = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            transport="websockets" if WS_PORT else "tcp",
        )
        if WS_PORT:
            self.paho.ws_set_options(path="/mqtt")
        # No automatic reconnection: a dropped connection must show up as a failure.
        self.paho.reconnect_delay_set(min_delay=GUARD * 10, max_delay=GUARD * 10)
        if will is not None:
            topic, payload, qos = will
            self.paho.will_set(topic, payload, qos)
        self.connacks = queue.Queue()
        self.subacks = queue.Queue()
        self.messages = queue.Queue()
        self.disconnects = queue.Queue()
        self.paho.on_connect = lambda c, u, flags, rc, props: self.connacks.put((flags.session_present, rc))
        self.paho.on_subscribe = lambda c, u, mid, rcs, props: self.subacks.put((mid, rcs))
        self.paho.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.qos, m.retain))
        self.paho.on_disconnect = lambda c, u, flags, rc, props: self.disconnects.put(rc)

    def connect(self, keepalive=60):
        """Connects and waits for CONNACK; returns its session-present flag."""
        self.paho.connect(HOST, WS_PORT or PORT, keepalive)
        self.paho.loop_start()
        try:
            session_present, rc = self.connacks.get(timeout=GUARD)
        except queue.Empty:
            raise CheckFailed(f"{self.name}: no CONNACK within {GUARD} s") from None
        expect(not rc.is_failure, f"{self.name}: CONNACK refused: {rc}")
        return session_present

    def subscribe(self, *filters):
        """Subscribes to (filter, qos) pairs in one SUBSCRIBE; checks SUBACK grants each qos."""
        result, mid = self.paho.subscribe(list(filters))
        expect(result == mqtt.MQTT_ERR_SUCCESS, f"{self.name}: SUBSCRIBE not sent: {result}")
        try:
            acked, codes = self.subacks.get(timeout=GUARD)
        except queue.Empty:
            raise CheckFailed(f"{self.name}: no SUBACK within {GUARD} s") from None
        expect(acked == mid, f"{self.name}: SUBACK for mid {acked}, sent {mid}")
        granted = [c.value for c in codes]
        expect(granted == [q for _, q in filters], f"{self.name}: SUBACK granted {granted} for {filters}")

    def publish(self, topic, payload, qos=0, retain=False):
        """Publishes and waits until the flow completes (sent at QoS 0, PUBACK, PUBCOMP)."""
        info = self.paho.publish(topic, payload, qos, retain)
        info.wait_for_publish(timeout=GUARD)
        expect(info.is_published(), f"{self.name}: publish to {topic} at QoS {qos} not acknowledged")

    def receive(self, what):
        try:
            return self.messages.get(timeout=GUARD)
        except queue.Empty:
            raise CheckFailed(f"{self.name}: no message within {GUARD} s while waiting for {what}") from None

    def until_fence(self, fence):
        """Every message before the first one on topic `fence`, as (topic, payload, qos, retain)."""
        got = []
        while True:
            message = self.receive(f"the fence {fence} (so far {got})")
            if message[0] == fence:
                return got
            got.append(message)

    def disconnect(self):
        """Sends DISCONNECT and waits until the network thread has seen the connection end."""
        self.paho.disconnect()
        try:
            self.disconnects.get(timeout=GUARD)
        except queue.Empty:
            raise CheckFailed(f"{self.name}: DISCONNECT did not end the connection within {GUARD} s") from None
        self.paho.loop_stop()


# --- A raw MQTT 3.1.1 client on a socket, for what paho will not do: vanish without
# DISCONNECT, or stay silent past its keep-alive.


def utf8(text):
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def connect_packet(client_id, keepalive, will=None):
    flags = 0x02  # clean session
    payload = utf8(client_id)
    if will is not None:
        topic, message, qos = will
        flags |= 0x04 | (qos << 3)
        payload += utf8(topic) + struct.pack("!H", len(message)) + message
    body = utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + payload
    return bytes([0x10]) + remaining_length(len(body)) + body


def recv_exactly(sock, n, what):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        expect(chunk, f"connection closed while reading {what} (have {data!r})")
        data += chunk
    return data


def raw_connect(name, keepalive=60, will=None):
    """A socket that has sent CONNECT and read a CONNACK accepting it."""
    sock = socket.create_connection((HOST, PORT), timeout=GUARD)
    sock.sendall(connect_packet(f"{RUN}-{name}", keepalive, will))
    connack = recv_exactly(sock, 4, "CONNACK")
    expect(connack == b"\x20\x02\x00\x00", f"{name}: CONNACK {connack.hex()}, want 20020000")
    return sock


def closed_by_peer(sock, timeout):
    """Reads until the peer closes (EOF or reset): True, or False if `timeout` passed first.
    Anything the peer sends before closing is a failure: this client asked for nothing."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(64)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    expect(data == b"", f"expected the connection to close, got {data!r}")
    return True


# --- The checks.


def check_wildcards():
    """Section 4.7.1.2: '#' matches its parent level and every level below it; 4.7.1.3: '+'
    matches one level; [MQTT-4.7.2-1] a filter starting with a wildcard matches no topic
    starting with '$'."""
    fence = f"{RUN}-fence/wildcards"
    filters = {"single": "a/+/c", "multi": "a/#", "all": "#", "plus-first": "+/x"}
    want = {
        "single": ["a/b/c"],
        "multi": ["a/b/c", "a/x"],
        "all": ["a/b/c", "a/x"],
        "plus-first": ["a/x"],
    }
    subscribers = {}
    for name, topic_filter in filters.items():
        sub = Client(f"wild-{name}")
        sub.connect()
        sub.subscribe((topic_filter, 0), (fence, 0))
        subscribers[name] = sub
    pub = Client("wild-pub")
    pub.connect()
    for topic in ["a/b/c", "a/x", "$SYS/x"]:
        pub.publish(topic, topic.encode(), qos=1)
    pub.publish(fence, b"fence", qos=1)
    for name, sub in subscribers.items():
        got = [topic for topic, _, _, _ in sub.until_fence(fence)]
        expect(got == want[name], f"wildcards: '{filters[name]}' received {got}, want {want[name]}")
        sub.disconnect()
    pub.disconnect()
    print("wildcards: a/+/c, a/#, #, +/x each received exactly their topics; $SYS/x matched none")


def check_retained():
    """[MQTT-3.3.1-5] a retained message replaces the topic's previous one; [MQTT-3.3.1-6] a
    new subscription gets it, with RETAIN set [MQTT-3.3.1-8]; [MQTT-3.3.1-10] an empty
    retained payload removes it, and is not stored itself [MQTT-3.3.1-11]."""
    topic = f"{RUN}/retained/t"
    fence = f"{RUN}/retained/fence"
    pub = Client("ret-pub")
    pub.connect()
    pub.publish(topic, b"first", qos=1, retain=True)
    pub.publish(topic, b"second", qos=1, retain=True)

    late = Client("ret-late")
    late.connect()
    late.subscribe((f"{RUN}/retained/#", 1))
    pub.publish(fence, b"fence", qos=1)
    got = late.until_fence(fence)
    expect(got == [(topic, b"second", 1, True)], f"retained: a new subscriber got {got}, want only 'second' retained")
    late.disconnect()

    pub.publish(topic, b"", qos=1, retain=True)
    after = Client("ret-after-clear")
    after.connect()
    after.subscribe((f"{RUN}/retained/#", 1))
    pub.publish(fence, b"fence", qos=1)
    got = after.until_fence(fence)
    expect(got == [], f"retained: after clearing, a new subscriber got {got}, want nothing")
    after.disconnect()
    pub.disconnect()
    print("retained: set, replaced, cleared; a new subscriber got only the current one, none after clearing")


def check_persistent_session():
    """[MQTT-3.1.2-4] a session with Clean Session 0 resumes on reconnection, and CONNACK says
    session present [MQTT-3.2.2-2]; [MQTT-3.1.2-5] QoS 1 and 2 messages matching its
    subscriptions while it is away are stored and delivered when it returns, QoS 2 exactly once
    (section 4.3.3)."""
    q1, q2 = f"{RUN}/session/q1", f"{RUN}/session/q2"
    count = 5
    away = Client("persistent", clean_session=False)
    expect(away.connect() is False, "session: a new client id's first CONNACK says session present")
    away.subscribe((q1, 1), (q2, 2))
    away.disconnect()

    pub = Client("session-pub")
    pub.connect()
    for i in range(count):
        pub.publish(q1, f"q1-{i}".encode(), qos=1)
        pub.publish(q2, f"q2-{i}".encode(), qos=2)
    # Fences on each topic at its own QoS: ordering is promised per topic and QoS.
    pub.publish(q1, b"end", qos=1)
    pub.publish(q2, b"end", qos=2)
    pub.disconnect()

    back = Client("persistent", clean_session=False)
    expect(back.connect() is True, "session: reconnecting with Clean Session 0 got session present 0")
    got = {q1: [], q2: []}
    ended = set()
    while ended != {q1, q2}:
        topic, payload, qos, _ = back.receive(f"the stored messages (so far {got})")
        expect(topic in got, f"session: a message on {topic}")
        expect(topic not in ended, f"session: {payload!r} on {topic} after its fence")
        if payload == b"end":
            ended.add(topic)
            continue
        expect(qos == (1 if topic == q1 else 2), f"session: {payload!r} on {topic} delivered at QoS {qos}")
        got[topic].append(payload)
    want1 = [f"q1-{i}".encode() for i in range(count)]
    want2 = [f"q2-{i}".encode() for i in range(count)]
    # QoS 1 is at least once: duplicates allowed, none missing, in order of first arrival.
    expect(list(dict.fromkeys(got[q1])) == want1, f"session: QoS 1 messages {got[q1]}, want {want1}")
    expect(got[q2] == want2, f"session: QoS 2 messages {got[q2]}, want each of {want2} exactly once")
    back.disconnect()
    # Leave no session behind: a clean connect with the same id discards it [MQTT-3.1.2-6].
    Client("persistent", clean_session=True).connect()
    print(f"session: {count} QoS 1 and {count} QoS 2 messages published while away arrived after "
          "reconnecting (session present 1), QoS 2 exactly once")


def check_will():
    """[MQTT-3.1.2-8] the will is published when the connection closes without DISCONNECT;
    [MQTT-3.1.2-10] DISCONNECT discards it."""
    will_topic = f"{RUN}/will"
    fence = f"{RUN}/will-fence"
    watcher = Client("will-watcher")
    watcher.connect()
    watcher.subscribe((f"{will_topic}/#", 1), (fence, 1))

    abrupt = raw_connect("will-abrupt", will=(f"{will_topic}/abrupt", b"gone", 1))
    abrupt.close()  # no DISCONNECT
    topic, payload, qos, _ = watcher.receive("the will of a client that closed without DISCONNECT")
    expect((topic, payload, qos) == (f"{will_topic}/abrupt", b"gone", 1),
           f"will: got {(topic, payload, qos)}, want the abrupt client's will at QoS 1")

    polite = raw_connect("will-polite", will=(f"{will_topic}/polite", b"gone", 1))
    polite.sendall(b"\xe0\x00")  # DISCONNECT
    polite.shutdown(socket.SHUT_WR)
    # The broker has read DISCONNECT once it closes its side (after DISCONNECT or our EOF).
    expect(closed_by_peer(polite, GUARD), f"will: the broker did not close after DISCONNECT within {GUARD} s")
    polite.close()
    pub = Client("will-fence-pub")
    pub.connect()
    pub.publish(fence, b"fence", qos=1)
    got = watcher.until_fence(fence)
    expect(got == [], f"will: after a clean DISCONNECT the watcher got {got}, want no will")
    pub.disconnect()
    watcher.disconnect()
    print("will: published when a client closed its socket without DISCONNECT, not after DISCONNECT")


def check_keepalive():
    """[MQTT-3.1.2-24] a client silent for one and a half times its keep-alive is disconnected,
    and its will is published [MQTT-3.1.2-8]."""
    keepalive = 1
    # A bound on a hang, not on timing: mosquitto 2.0.11 checks keep-alives lazily and closes
    # such a client 1 to 6 s after it went silent; a loaded machine adds its own delays.
    margin = GUARD
    watcher = Client("keepalive-watcher")
    watcher.connect()
    watcher.subscribe((f"{RUN}/keepalive/#", 1))
    silent = raw_connect("keepalive-silent", keepalive=keepalive, will=(f"{RUN}/keepalive/will", b"timed out", 1))
    started = time.monotonic()
    closed = closed_by_peer(silent, keepalive * 1.5 + margin)
    elapsed = time.monotonic() - started
    silent.close()
    expect(closed, f"keep-alive: a client silent for {elapsed:.1f} s with keep-alive {keepalive} s is still connected")
    topic, payload, _, _ = watcher.receive("the will of the client that timed out")
    expect((topic, payload) == (f"{RUN}/keepalive/will", b"timed out"), f"keep-alive: the watcher got {(topic, payload)}")
    watcher.disconnect()
    print(f"keep-alive: a client silent past keep-alive {keepalive} s was closed (after {elapsed:.1f} s) "
          "and its will published")


def check_ws_framing():
    """MQTT over WebSocket [MQTT-6.0.0-1..4]: packets may be split across binary frames and
    several may share one; the broker answers with binary frames, pongs pings, and closes on a
    text frame."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect as ws_connect

    url = f"ws://{HOST}:{WS_PORT}/mqtt"
    topic = f"{RUN}/ws-frames"
    with ws_connect(url, subprotocols=["mqtt"], open_timeout=GUARD, close_timeout=GUARD) as ws:
        expect(ws.subprotocol == "mqtt", f"ws: subprotocol {ws.subprotocol!r}, want 'mqtt'")
        packet = connect_packet(f"{RUN}-ws-raw", 60)
        ws.send(packet[:3])  # CONNECT split across two frames
        ws.send(packet[3:])
        stream = b""

        def read_packets(count, what):
            nonlocal stream
            packets = []
            while len(packets) < count:
                while True:
                    parsed = split_packet(stream)
                    if parsed is None:
                        break
                    packet, stream = parsed
                    packets.append(packet)
                if len(packets) >= count:
                    break
                try:
                    frame = ws.recv(timeout=GUARD)
                except TimeoutError:
                    raise CheckFailed(f"ws: no frame within {GUARD} s while waiting for {what}") from None
                expect(isinstance(frame, bytes), f"ws: a text frame from the broker: {frame!r}")
                stream += frame
            return packets

        (connack,) = read_packets(1, "CONNACK")
        expect(connack == b"\x20\x02\x00\x00", f"ws: CONNACK {connack!r}")
        # SUBSCRIBE and a QoS 1 PUBLISH to the same topic in one frame.
        topic_bytes = utf8(topic)
        subscribe = b"\x82" + bytes([2 + len(topic_bytes) + 1]) + b"\x00\x01" + topic_bytes + b"\x01"
        payload = b"framed"
        body = topic_bytes + b"\x00\x02" + payload
        publish = b"\x32" + bytes([len(body)]) + body
        ws.send(subscribe + publish)
        got = read_packets(3, "SUBACK, PUBACK and the PUBLISH")
        kinds = sorted(p[0] & 0xF0 for p in got)
        expect(kinds == [0x30, 0x40, 0x90], f"ws: got packets {got!r}, want SUBACK, PUBACK, PUBLISH")
        delivered = next(p for p in got if p[0] & 0xF0 == 0x30)
        expect(delivered.endswith(payload), f"ws: the PUBLISH delivered was {delivered!r}")
        pong = ws.ping(b"zzz")
        expect(pong.wait(GUARD), f"ws: no pong within {GUARD} s")
        if LENIENT_TEXT:
            print("websocket: packets split across frames and joined in one, ping answered "
                  "(the text frame check skipped: this broker reads text frames as MQTT bytes)")
            return
        ws.send("a text frame")
        # [MQTT-6.0.0-1]: the broker closes the connection (with a Close frame or without).
        try:
            while True:
                ws.recv(timeout=GUARD)
        except TimeoutError:
            raise CheckFailed(f"ws: still open {GUARD} s after a text frame") from None
        except ConnectionClosed:
            pass
        code = ws.close_code
        expect(code in (None, 1002, 1003), f"ws: after a text frame the close code was {code}")
        print(f"websocket: packets split across frames and joined in one, ping answered, "
              f"a text frame ended the connection (close code {code})")


def split_packet(stream):
    """The first whole MQTT packet of `stream` and the rest, or None."""
    if len(stream) < 2:
        return None
    length, multiplier, at = 0, 1, 1
    while True:
        if at >= len(stream):
            return None
        byte = stream[at]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        at += 1
        if byte & 0x80 == 0:
            break
    end = at + length
    if len(stream) < end:
        return None
    return stream[:end], stream[end:]


def main():
    checks = [check_wildcards, check_retained, check_persistent_session, check_will, check_keepalive]
    if WS_PORT:
        checks.append(check_ws_framing)
    for check in checks:
        try:
            check()
        except CheckFailed as failure:
            print(f"FAILED {check.__name__}: {failure}", flush=True)
            sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
