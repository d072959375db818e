//! The clients: how far each may write now (its pace, its stalls, pipelining, waiting for
//! `100 Continue`), its writes, how it ends its side (EOF or reset), and its reading side —
//! the oracle's view of what it receives, judged as bytes arrive and when the connection ends.

use super::Sim;
use super::conn::{Conn, State};
use crate::app::KV_IDLE_MS;
use crate::app::TCP_GREETING;
use crate::oracle::{Ending, Timing};
use crate::workload::{ClientKind, Cut, EndMode, KvWhat, Outcome, Pace};
use crate::ws_oracle::WsJudge;

/// How long a client that announced `Expect: 100-continue` waits before sending its body.
pub(super) const EXPECT_WAIT_MS: u64 = 1000;

impl Sim<'_> {
    /// Whether a client has written all it will and read all it expects.
    pub(super) fn client_finished(&self, c: &Conn) -> bool {
        if c.reset || c.client_eof {
            return true;
        }
        if c.written < self.final_limit(c) {
            return false;
        }
        match c.script.kind {
            ClientKind::Http => {
                c.http.finished
                    || c.http.failure.is_some()
                    || c.script.requests[c.http.next..]
                        .iter()
                        .all(|r| r.outcome == Outcome::Never)
            }
            ClientKind::Tcp => c.tcp.received.len() >= c.script.tcp_expected.len(),
            ClientKind::Upgrade => {
                c.upgrade.failure().is_some()
                    || c.upgrade.tcp.received.len() >= c.script.tcp_expected.len()
            }
            ClientKind::Ws => {
                let refused = c.ws.status.is_some() && !c.ws.switched;
                let vanish = c.script.ws.as_ref().is_some_and(|w| w.vanish);
                c.ws.failure.is_some() || c.ws.close.is_some() || refused || vanish
            }
            ClientKind::Mqtt => c.script.mqtt.as_ref().is_none_or(|m| c.mqtt.finished(m)),
            ClientKind::Kv => {
                let owed = c.script.kv[c.kv.answered.min(c.script.kv.len())..]
                    .iter()
                    .any(|k| k.what != KvWhat::Never);
                c.kv.failure.is_some()
                    || ((c.kv.finished || !owed) && c.kv.read == c.kv.written.len())
            }
        }
    }

    /// How far the client will ever write (its script, or its cut).
    pub(super) fn final_limit(&self, c: &Conn) -> usize {
        match c.script.cut {
            Some(Cut::Eof(at) | Cut::Reset(at)) => at.min(c.script.bytes.len()),
            None => c.script.bytes.len(),
        }
    }

    /// How far the client may write now.
    pub(super) fn write_limit(&self, c: &Conn) -> usize {
        let mut lim = self.final_limit(c);
        if c.script.kind == ClientKind::Http {
            let reqs = &c.script.requests;
            if c.http.finished {
                lim = lim.min(c.written);
            }
            if !c.script.pipelined
                && let Some(r) = reqs.get(c.http.next)
            {
                lim = lim.min(r.end);
            }
            // Expect: 100-continue: hold the body back until 100, an answer, or the wait ends.
            if c.script.honor_expect
                && let Some(k) = reqs
                    .iter()
                    .position(|r| c.written >= r.start && c.written < r.end)
            {
                let r = &reqs[k];
                let answered = c.http.next > k || (c.http.next == k && c.http.continued);
                let waited = matches!(c.expect_since, Some((j, t)) if j == k && self.now >= t + EXPECT_WAIT_MS);
                if r.expect_continue && c.written >= r.body_start && !answered && !waited {
                    lim = lim.min(r.body_start);
                }
            }
        }
        if c.script.kind == ClientKind::Kv && !c.script.pipelined {
            // One command at a time: the next once the last one's reply is read.
            if let Some(item) = c.script.kv.get(c.kv.replies_read()) {
                lim = lim.min(item.end);
            }
        }
        if let Some((at, _)) = c.script.write_stall
            && c.written >= at
            && c.stall_until.is_none_or(|t| self.now < t)
        {
            lim = lim.min(c.written);
        }
        lim
    }

    /// Whether the client reads now (outside its read stall).
    pub(super) fn reading(&self, c: &Conn) -> bool {
        match c.script.read_stall {
            Some((after, ms)) => {
                let start = c.accept_at + after;
                !(self.now >= start && self.now < start + ms)
            }
            None => true,
        }
    }

    /// Whether the client is at a point where it ends its side (EOF or reset): its cut, its
    /// script's end, or the server's FIN.
    pub(super) fn wants_to_end(&self, c: &Conn) -> bool {
        if c.state != State::Open {
            return false;
        }
        if c.script.cut.is_some() && c.written >= self.final_limit(c) {
            return true;
        }
        if c.server_fin && c.script.eof_after_fin {
            return true;
        }
        c.script.end != EndMode::Idle && self.client_finished(c)
    }

    /// Client `i` writes its next piece, as its pace says.
    pub(super) fn client_write(&mut self, i: usize) {
        let lim = self.write_limit(&self.conns[i]);
        let now = self.now;
        let c = &self.conns[i];
        let left = lim - c.written;
        let (n, gap) = match c.script.pace {
            Pace::Burst { max_chunk, gap_ms } => (left.min(max_chunk), gap_ms),
            Pace::Drip { every_ms } => (1, every_ms),
        };
        let n = if n > 1 { self.rng.range_usize(1, n) } else { n };
        let c = &mut self.conns[i];
        let from = c.written;
        c.written += n;
        c.next_write_at = now + gap;
        for (k, r) in c.script.requests.iter().enumerate() {
            if r.start < c.written && r.end > from && c.first_write[k].is_none() {
                c.first_write[k] = Some(now);
            }
            if r.expect_continue
                && c.written >= r.body_start
                && from < r.body_start + 1
                && c.expect_since.is_none_or(|(j, _)| j != k)
                && c.written == r.body_start
            {
                c.expect_since = Some((k, now));
            }
        }
        if let Some((at, ms)) = c.script.write_stall
            && c.written >= at
            && c.stall_until.is_none()
        {
            c.stall_until = Some(now + ms);
            self.cov.hit("fault.write-stall");
        }
        tr!(self, "c{i} writes {n} bytes ({}..{})", from, from + n);
    }

    /// Client `i` ends its side: a reset, or an EOF.
    pub(super) fn client_end(&mut self, i: usize) {
        let c = &self.conns[i];
        let reset = match c.script.cut {
            Some(Cut::Reset(_)) if c.written >= self.final_limit(c) => true,
            Some(Cut::Eof(_)) if c.written >= self.final_limit(c) => false,
            _ if c.server_fin && c.script.eof_after_fin => false,
            _ => c.script.end == EndMode::Reset,
        };
        let mid_request = c.script.kind == ClientKind::Http
            && c.script
                .requests
                .iter()
                .any(|r| c.written > r.start && c.written < r.end && r.outcome != Outcome::Never);
        let c = &mut self.conns[i];
        let written = c.written;
        if reset {
            c.reset = true;
            c.excused = true;
            c.http.gave_up = true;
            c.tcp.gave_up = true;
            c.upgrade.tcp.gave_up = true;
            c.kv.gave_up = true;
            c.ws.gave_up = true;
            self.cov.hit("fault.client-reset");
            tr!(self, "c{i} resets after {written} bytes");
        } else {
            c.client_eof = true;
            if mid_request {
                self.cov.hit("fault.client-eof-mid-request");
            }
            tr!(self, "c{i} sends EOF after {written} bytes");
        }
    }

    /// Client `i` reads `bytes`, from a send posted at `posted_at`; the oracle judges them.
    pub(super) fn deliver_to_client(&mut self, i: usize, bytes: &[u8], posted_at: u64) {
        let draining = self.draining;
        let timeouts = self.config.timeouts;
        let lag = self.lag;
        let c = &mut self.conns[i];
        match c.script.kind {
            ClientKind::Http => {
                let t = Timing {
                    timeouts,
                    accept_at: c.accept_at,
                    first_write: &c.first_write,
                    lag,
                    draining,
                };
                c.http.on_bytes(bytes, posted_at, &c.script.requests, &t);
            }
            ClientKind::Tcp => c.tcp.on_bytes(bytes, &c.script.tcp_expected),
            ClientKind::Upgrade => c.upgrade.on_bytes(bytes, &c.script.tcp_expected),
            ClientKind::Kv => {
                c.kv.on_read(bytes);
                self.drain_kv_view(i);
            }
            ClientKind::Mqtt => {
                let bytes = bytes.to_vec();
                self.mqtt_read(i, &bytes);
            }
            ClientKind::Ws => {
                let judge = WsJudge {
                    script: c.script.ws.as_ref().expect("a WebSocket script"),
                    room: &self.room,
                    delivered: c.delivered,
                };
                c.ws.on_bytes(bytes, &judge);
            }
        }
        self.drain_view(i);
    }

    /// Client `i`'s connection is over: the oracle judges what it never received.
    pub(super) fn end_connection(&mut self, i: usize) {
        let draining = self.draining;
        let timeouts = self.config.timeouts;
        let lag = self.lag;
        let stall_excuse = self.conns[i].stalled_send;
        let c = &mut self.conns[i];
        if c.ended {
            return;
        }
        c.ended = true;
        if stall_excuse {
            self.cov.hit("fault.read-stall");
        }
        let c = &mut self.conns[i];
        let end = Ending {
            delivered: c.delivered_at_close,
            saw_eof: c.eof_delivered,
            excused: c.excused || stall_excuse || draining,
            reclaimed: c.reclaimed,
            shed: c.shed,
            first_byte_ms: c.pressured.then_some(timeouts.pressured_first_byte_ms),
            close_at: c.close_at,
            last_activity: c.last_activity,
            fin: c.server_fin,
        };
        let t = Timing {
            timeouts,
            accept_at: c.accept_at,
            first_write: &c.first_write,
            lag,
            draining,
        };
        match c.script.kind {
            ClientKind::Http => {
                c.http.on_end(&c.script.requests, &t, &end);
                let never_sent = c
                    .script
                    .requests
                    .iter()
                    .any(|r| r.outcome == Outcome::Never && r.end <= c.delivered_at_close);
                if never_sent && c.http.failure.is_none() {
                    self.cov.hit("check.never-answered-after-close");
                }
            }
            ClientKind::Tcp => {
                c.tcp
                    .on_end(&c.script.tcp_lines, c.script.tcp_quit_end, &t, &end);
                if c.tcp.failure.is_none() && c.tcp.received.len() >= TCP_GREETING.len() {
                    self.cov.hit("tcp.greeted");
                }
                if c.tcp.failure.is_none() && c.tcp.received.len() > TCP_GREETING.len() {
                    self.cov.hit("tcp.answered");
                }
                if c.server_fin {
                    // Closed gracefully: its answers sent, the sending side shut, then held
                    // open until the client's EOF or the linger timeout.
                    self.cov.hit("tcp.lingered");
                }
            }
            ClientKind::Upgrade => {
                let request_end = c
                    .script
                    .upgrade_end
                    .expect("an upgrade script has its request");
                let lines = &c.script.tcp_lines;
                c.upgrade.on_end(
                    request_end,
                    c.delivered_at_first_send,
                    lines,
                    c.script.tcp_quit_end,
                    &t,
                    &end,
                );
                if c.upgrade.failure().is_none() && c.upgrade.switched {
                    self.cov.hit("upgrade.switched");
                }
                if c.upgrade.failure().is_none()
                    && c.upgrade.tcp.received.len() > TCP_GREETING.len()
                {
                    self.cov.hit("upgrade.answered");
                }
            }
            ClientKind::Kv => {
                c.kv.on_end(&c.script.kv, &t, &end, KV_IDLE_MS);
                self.drain_kv_view(i);
            }
            ClientKind::Mqtt => self.mqtt_end(i),
            ClientKind::Ws => {
                let script = c.script.ws.as_ref().expect("a WebSocket script");
                c.ws.on_end(script, &end, c.client_eof, c.delivered_at_first_send);
                if c.ws.failure.is_none() && c.ws.switched {
                    self.cov.hit("ws.ended");
                }
            }
        }
        self.drain_view(i);
    }

    /// Moves what the client's view learnt into the coverage table and the failure.
    fn drain_view(&mut self, i: usize) {
        let c = &mut self.conns[i];
        let statuses = std::mem::take(&mut c.http.seen_statuses);
        let answered = std::mem::take(&mut c.http.answered);
        let failure = c
            .http
            .failure
            .clone()
            .or_else(|| c.tcp.failure.clone())
            .or_else(|| c.upgrade.failure().cloned())
            .or_else(|| c.ws.failure.clone());
        for class in std::mem::take(&mut c.ws.hits) {
            self.cov.hit(class);
        }
        for s in &statuses {
            self.cov.status(*s);
        }
        for class in answered {
            self.cov.hit(answered_class(class));
            if self.p.shape.silent_clients > 0 {
                // A client served while a flood of silent connections arrives.
                self.cov.hit("flood.answered");
            }
        }
        if !statuses.is_empty() {
            let list: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
            tr!(self, "c{i} reads {}", list.join(", "));
        }
        if let Some(f) = failure {
            let class = self.conns[i].script.class;
            self.fail(format!("client c{i} ({class}): {f}"));
        }
    }
}

/// The coverage name of a request class answered as expected (`answered.` and the class).
fn answered_class(class: &'static str) -> &'static str {
    // Coverage names are static; map each class to its `answered.` name.
    match crate::coverage::REQUIRED
        .iter()
        .find(|r| r.strip_prefix("answered.") == Some(class))
    {
        Some(name) => name,
        None => "answered.other",
    }
}
