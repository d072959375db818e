//! Coverage: how often each fault class, response status, timeout kind and request class
//! fired. A campaign fails when a class it must exercise never fired: a simulator that
//! silently stopped injecting a fault would otherwise pass forever.

use std::collections::BTreeMap;

use zzz_core::Stats;

/// Counters by name (a `BTreeMap`, so the table's order is fixed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    counts: BTreeMap<&'static str, u64>,
    statuses: BTreeMap<u16, u64>,
}

/// Classes every campaign of at least [`REQUIRED_FROM_SEEDS`] seeds must exercise.
pub const REQUIRED: &[&str] = &[
    // Faults the network and clock inject.
    "fault.partial-recv",
    "fault.one-byte-recv",
    "fault.partial-send",
    "fault.one-byte-send",
    "fault.eagain",
    "fault.eintr",
    "fault.ecanceled",
    "fault.multishot-ended",
    "fault.broken-recv",
    "fault.broken-send",
    "fault.client-reset",
    "fault.client-eof-mid-request",
    "fault.accept-emfile",
    "fault.accept-econnaborted",
    "fault.accept-full",
    "fault.reordered",
    "fault.clock-jump",
    "fault.clock-drift",
    "fault.clock-regress",
    "fault.cancel-on-close",
    "fault.complete-after-close",
    "fault.slots-exhausted",
    "fault.read-stall",
    "fault.write-stall",
    // What the server did about it (its own counters).
    "server.head-timeout",
    "server.body-timeout",
    "server.idle-timeout",
    "server.send-timeout",
    "server.linger-timeout",
    "server.reclaimed",
    "server.shed",
    "server.turned-away",
    "server.pressured",
    "server.first-byte-timeout",
    "server.pool-exhausted",
    "server.response-overflow",
    "server.spill",
    "server.large-body",
    "server.continue",
    "server.stream",
    "server.retry",
    "server.broken",
    "server.datagram",
    "server.datagram-dropped",
    "server.drain",
    // Workload: clients and request classes answered as the oracle expected.
    "client.valid",
    "client.invalid",
    "client.slow",
    "client.tcp",
    "client.silent",
    "client.silent-partial",
    "answered.valid.plaintext",
    "answered.valid.json",
    "answered.valid.echo",
    "answered.valid.chunked",
    "answered.valid.expect-continue",
    "answered.valid.head",
    "answered.valid.http10",
    "answered.valid.options-star",
    "answered.valid.not-implemented",
    "answered.valid.extension-method",
    "answered.valid.method-not-allowed",
    "answered.valid.minor-version",
    "answered.valid.chunk-ext-bws",
    "answered.valid.absolute-form-empty-host",
    "answered.valid.static",
    "answered.valid.big",
    "answered.valid.stream",
    "answered.valid.no-content",
    "answered.valid.not-modified",
    "answered.valid.absolute-form",
    "answered.valid.plaintext-variant",
    "answered.valid.repeated-length",
    "answered.limit.request-line",
    "answered.limit.head",
    "answered.limit.headers",
    "answered.smuggle.cl-te",
    "answered.smuggle.te-cl",
    "answered.smuggle.cl-conflict",
    "answered.smuggle.cl-list-conflict",
    "answered.smuggle.cl-invalid",
    "answered.smuggle.cl-overflow",
    "answered.smuggle.te-not-final",
    "answered.smuggle.te-unknown",
    "answered.smuggle.te-double-chunked",
    "answered.smuggle.te-http10",
    "answered.smuggle.te-not-chunked",
    "answered.smuggle.space-before-colon",
    "answered.smuggle.obs-fold",
    "answered.smuggle.bare-cr",
    "answered.smuggle.bare-lf",
    "answered.smuggle.nul",
    "answered.smuggle.leading-space",
    "answered.host.missing",
    "answered.host.duplicate",
    "answered.host.invalid",
    "answered.host.empty",
    "answered.version.unsupported",
    "answered.version.malformed",
    "answered.chunk.size-overflow",
    "answered.chunk.size-too-many-digits",
    "answered.chunk.size-invalid",
    "answered.chunk.extensions-too-long",
    "answered.chunk.data-no-crlf",
    "answered.chunk.size-whitespace",
    "answered.oversize.request-line",
    "answered.oversize.head",
    "answered.oversize.header-count",
    "answered.oversize.body-length",
    "answered.oversize.body-chunked",
    "answered.garbage",
    "answered.expect.unsupported",
    "answered.target.invalid",
    "answered.method.invalid",
    "answered.target.connect-no-port",
    "check.never-answered-after-close",
    "check.shed",
    "check.datagram-dropped",
    "flood.answered",
    "tcp.greeted",
    "tcp.answered",
    "tcp.lingered",
    "upgrade.switched",
    "upgrade.answered",
    // Datagrams: answered; exactly as long as the server's buffer; too long (dropped by the
    // backend), by one byte; a pong that fills a reply buffer exactly, or does not fit (no
    // reply); a reply sent late.
    "udp.answered",
    "udp.at-size",
    "udp.too-long",
    "udp.past-size",
    "udp.reply-at-size",
    "udp.reply-does-not-fit",
    "udp.reply-delayed",
    // The key-value store: replies as the model predicted them; several commands in the
    // server's hands at once; inline commands; a key read after its expiry; a full store; a
    // protocol error (then the close); a close by the idle or head timeout; a value at the
    // longest a reply can carry, and one past it; a command larger than the receive buffer.
    "client.kv",
    // WebSocket clients of the chat room, judged by the room's model (ws_oracle.rs).
    "client.ws",
    "ws.upgraded",
    "ws.handshake.101",
    "ws.handshake.400",
    "ws.handshake.426",
    "ws.message",
    "ws.fanout",
    "ws.lagged",
    "ws.pong",
    "ws.close.echoed",
    "ws.close.1003",
    "ws.going-away",
    "ws.violation.1002",
    "ws.violation.1007",
    "ws.violation.1009",
    "ws.ended",
    "kv.answered",
    "kv.pipelined",
    "kv.inline",
    "kv.expired",
    "kv.oom",
    "kv.protocol-error",
    "kv.timeout",
    "kv.value-at-limit",
    "kv.value-past-limit",
    "kv.too-large",
    "kv.reply-too-large",
    "kv.overflow",
    "kv.not-integer",
    "kv.quit",
    // The MQTT broker, judged by its model (mqtt_oracle.rs): every kind of server packet;
    // CONNACK accepting and refusing (0x01 level, 0x02 identifier, 0x03 table full or will
    // too long), session present, a takeover; SUBACK granting and refusing (full, too long);
    // deliveries at each QoS, retained, wills, through an offline queue; a QoS 2 duplicate
    // acknowledged and not delivered again; inbox drops accounted for; a DISCONNECT handled;
    // violations and the QoS 2 receive limit closing the connection.
    "client.mqtt",
    "mqtt.packet.connack",
    "mqtt.packet.publish",
    "mqtt.packet.puback",
    "mqtt.packet.pubrec",
    "mqtt.packet.pubrel",
    "mqtt.packet.pubcomp",
    "mqtt.packet.suback",
    "mqtt.packet.unsuback",
    "mqtt.packet.pingresp",
    "mqtt.connack.0",
    "mqtt.connack.1",
    "mqtt.connack.2",
    "mqtt.connack.3",
    "mqtt.session-present",
    "mqtt.takeover",
    "mqtt.suback.granted",
    "mqtt.suback.refused-full",
    "mqtt.suback.refused-long",
    "mqtt.delivered.qos0",
    "mqtt.delivered.qos1",
    "mqtt.delivered.qos2",
    "mqtt.delivered.retained",
    "mqtt.delivered.will",
    "mqtt.delivered.queued",
    "mqtt.qos2-duplicate-acknowledged",
    "mqtt.dropped",
    "mqtt.will",
    "mqtt.disconnected",
    "mqtt.violation.closed",
    "mqtt.violation.first-not-connect",
    "mqtt.violation.connect",
    "mqtt.limit.qos2-unreleased",
    "mqtt.ended",
    "mqtt.publisher-waited",
    "mqtt.disconnect-behind-waiting-publish",
    "mqtt.resume.in-flight",
    "mqtt.resent.publish",
    "mqtt.resent.pubrel",
    "mqtt.delivered.left-over",
    "mqtt.client-resent",
    "mqtt.resent.by-client-kept",
];

/// Statuses every campaign must have seen.
pub const REQUIRED_STATUSES: &[u16] = &[
    100, 200, 204, 304, 400, 405, 408, 413, 414, 417, 431, 500, 501, 503, 505,
];

/// Campaigns shorter than this are not held to [`REQUIRED`].
pub const REQUIRED_FROM_SEEDS: u64 = 1000;

impl Coverage {
    /// Counts one occurrence of `class`.
    pub fn hit(&mut self, class: &'static str) {
        self.add(class, 1);
    }

    /// Counts `n` occurrences of `class`.
    pub fn add(&mut self, class: &'static str, n: u64) {
        if n > 0 {
            *self.counts.entry(class).or_insert(0) += n;
        }
    }

    /// Counts a response status a client read.
    pub fn status(&mut self, status: u16) {
        *self.statuses.entry(status).or_insert(0) += 1;
    }

    /// How often `class` fired.
    pub fn count(&self, class: &str) -> u64 {
        self.counts.get(class).copied().unwrap_or(0)
    }

    /// How often `status` was read.
    pub fn status_count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Adds the server's own counters.
    pub fn server_stats(&mut self, s: &Stats) {
        self.add("server.head-timeout", s.head_timeouts);
        self.add("server.body-timeout", s.body_timeouts);
        self.add("server.idle-timeout", s.idle_timeouts);
        self.add("server.send-timeout", s.send_timeouts);
        self.add("server.linger-timeout", s.linger_timeouts);
        self.add("server.reclaimed", s.reclaimed);
        self.add("server.shed", s.shed);
        self.add("server.turned-away", s.turned_away);
        self.add("server.pressured", s.pressured_accepts);
        self.add("server.first-byte-timeout", s.first_byte_timeouts);
        self.add("server.pool-exhausted", s.pool_exhausted);
        self.add("server.response-overflow", s.response_overflows);
        self.add("server.spill", s.spills);
        self.add("server.large-body", s.large_bodies);
        self.add("server.continue", s.continues);
        self.add("server.stream", s.streams);
        self.add("server.retry", s.retries);
        self.add("server.broken", s.broken);
        self.add("server.datagram", s.datagrams);
        self.add("server.datagram-dropped", s.datagrams_dropped);
        self.add("server.requests", s.requests);
        self.add("server.accepted", s.accepted);
    }

    /// Adds another table.
    pub fn merge(&mut self, other: &Coverage) {
        for (k, v) in &other.counts {
            *self.counts.entry(k).or_insert(0) += v;
        }
        for (k, v) in &other.statuses {
            *self.statuses.entry(*k).or_insert(0) += v;
        }
    }

    /// The required classes and statuses that never fired.
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = REQUIRED
            .iter()
            .filter(|c| self.count(c) == 0)
            .map(|c| c.to_string())
            .collect();
        out.extend(
            REQUIRED_STATUSES
                .iter()
                .filter(|s| self.status_count(**s) == 0)
                .map(|s| format!("status.{s}")),
        );
        out
    }

    /// The table, one `name count` row per class, statuses last.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let width = self
            .counts
            .keys()
            .map(|k| k.len())
            .max()
            .unwrap_or(10)
            .max(10);
        for (k, v) in &self.counts {
            out.push_str(&format!("  {k:<width$} {v:>12}\n"));
        }
        for (s, v) in &self.statuses {
            let name = format!("status.{s}");
            out.push_str(&format!("  {name:<width$} {v:>12}\n"));
        }
        for m in self.missing() {
            out.push_str(&format!("  {m:<width$} {:>12}   <- never fired\n", 0));
        }
        out
    }
}
