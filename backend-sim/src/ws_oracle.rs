//! The WebSocket clients' oracle: a model of the chat room written from its semantics (a
//! topic of the hub, [`crate::app::SimRoom`]) and RFC 6455, never from the module's code.
//!
//! - **The one order.** The room's handler logs each publication with the sequence number
//!   the hub gave it, and each subscription with the first number it is owed; the simulator
//!   reads that log after every event (`Sim::observe_room`). Each publication must be a
//!   whole message its sender wrote before any terminal frame, whose bytes the server had
//!   received, the sender's messages in order with none skipped, numbered 1, 2, 3, ...
//! - **Every subscriber, that order.** What a subscriber receives is one text frame per
//!   message, its bytes exactly the sender's message, in increasing sequence numbers from
//!   the first it is owed, contiguous except where the ring overtook it: a run may be missing
//!   only if the messages from the first missed to the newest published by then did not fit
//!   the ring (with a wrap's waste at most one entry), i.e. it was lagging.
//! - **The connection.** The `101` names `websocket`, says `Connection: upgrade`, and its
//!   `Sec-WebSocket-Accept` is the oracle's own SHA-1 and base64 of the key it sent; a refused
//!   handshake is answered `426` (with `Sec-WebSocket-Version: 13`) or `400`. Server frames
//!   are unmasked, without RSV bits, whole (FIN), in the minimal length encoding. Pongs echo
//!   the pings in order. At most one Close, carrying the code the client's terminal frame
//!   deserves (1000 or its own code echoed, 1002/1007/1009 for a violation, 1003 for binary)
//!   once the server had it, or 1001 (idle, shutdown); no data frame after it. A connection
//!   ends with a reason: the server's Close, the client's EOF or reset, or a fault.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::app::RoomEvent;
use crate::oracle::Ending;
use crate::workload::{Handshake, WS_GUID, WsScript};

/// The hub's per-message header in the ring (ARCHITECTURE.md §6.1): 12 bytes.
const RING_HEADER: usize = 12;

/// The longest head the view waits for.
const MAX_HEAD: usize = 4096;

/// The room as the oracle knows it.
#[derive(Debug, Default)]
pub struct RoomModel {
    /// Published messages in order (sequence number = index + 1): `(client, k, len)`.
    pub published: Vec<(u32, u32, usize)>,
    /// Sequence number of each `(client, k)`.
    pub seq_of: BTreeMap<(u32, u32), u64>,
    /// Every client's messages, by `(client, k)`.
    pub texts: BTreeMap<(u32, u32), Vec<u8>>,
    /// The topic's ring bytes and largest message.
    pub ring_bytes: usize,
    /// See `ring_bytes`.
    pub max_message: usize,
    /// Log entries read so far.
    pub read: usize,
}

impl RoomModel {
    /// A room for these scripts.
    pub fn new<'a>(
        scripts: impl Iterator<Item = &'a WsScript>,
        ring_bytes: usize,
        max_message: usize,
    ) -> RoomModel {
        let mut texts = BTreeMap::new();
        for s in scripts {
            for (k, m) in s.msgs.iter().enumerate() {
                texts.insert((s.w, k as u32), m.text.clone());
            }
        }
        RoomModel {
            texts,
            ring_bytes,
            max_message,
            ..RoomModel::default()
        }
    }

    /// The next sequence number to be published.
    pub fn next_seq(&self) -> u64 {
        self.published.len() as u64 + 1
    }

    /// A gap from `first` to just before `next` is explained by the ring: from `first`
    /// to the newest published the messages did not fit it (less a wrap's waste).
    fn overtaken(&self, first: u64) -> bool {
        let bytes: usize = self.published[(first - 1) as usize..]
            .iter()
            .map(|(_, _, len)| RING_HEADER + len)
            .sum();
        bytes + RING_HEADER + self.max_message > self.ring_bytes
    }
}

/// Checks one publication: `script` is its sender's, `next_k` the sender's next message
/// owed publication, `delivered` what the server had received from it. Returns the failure.
pub fn judge_publication(
    room: &mut RoomModel,
    event: RoomEvent,
    sender: Option<(&WsScript, &mut u32, usize)>,
) -> Result<(), String> {
    let RoomEvent::Published { seq, tag, len } = event else {
        return Ok(());
    };
    if seq != room.next_seq() {
        return Err(format!(
            "the hub numbered a publication {seq}, the next being {}",
            room.next_seq()
        ));
    }
    let Some((w, k)) = tag else {
        return Err(format!("published message {seq} has no client tag"));
    };
    let Some((script, next_k, delivered)) = sender else {
        return Err(format!("published message {seq} from unknown client w{w}"));
    };
    if k != *next_k {
        return Err(format!(
            "client w{w}'s message {k} published when its message {} was next (lost or \
             reordered)",
            next_k
        ));
    }
    let Some(msg) = script.msgs.get(k as usize) else {
        return Err(format!("client w{w} never sent a message {k}"));
    };
    if !msg.publishable {
        return Err(format!(
            "client w{w}'s message {k}, sent after its terminal frame, was published"
        ));
    }
    if msg.text.len() != len {
        return Err(format!(
            "client w{w}'s message {k} published with {len} bytes, not {}",
            msg.text.len()
        ));
    }
    if delivered < msg.end {
        return Err(format!(
            "client w{w}'s message {k} published with {delivered} bytes received, before \
             its end at {}",
            msg.end
        ));
    }
    *next_k += 1;
    room.published.push((w, k, len));
    room.seq_of.insert((w, k), seq);
    Ok(())
}

/// What the view needs to judge bytes as they arrive.
pub struct WsJudge<'a> {
    /// The client's script.
    pub script: &'a WsScript,
    /// The room.
    pub room: &'a RoomModel,
    /// Bytes the server has received from this client.
    pub delivered: usize,
}

/// A WebSocket client's reading side and its judge.
#[derive(Debug, Default)]
pub struct WsView {
    head: Vec<u8>,
    /// The status of the answer to the handshake.
    pub status: Option<u16>,
    /// The `101` was right: what follows is frames.
    pub switched: bool,
    buf: Vec<u8>,
    /// The first sequence number it is owed (from the room's log).
    pub first_seq: Option<u64>,
    /// The last sequence number it received.
    pub last_seq: Option<u64>,
    /// Messages received.
    pub messages: usize,
    /// Pongs received.
    pub pongs: usize,
    /// The server's Close code.
    pub close: Option<u16>,
    /// Its own next message owed publication.
    pub next_k: u32,
    /// The client stopped judging (it reset).
    pub gave_up: bool,
    /// The first failure found.
    pub failure: Option<String>,
    /// Coverage classes to count.
    pub hits: Vec<&'static str>,
}

/// `Sec-WebSocket-Accept` for `key` (RFC 6455 §4.2.2), computed here.
pub fn expected_accept(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WS_GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

impl WsView {
    /// The client read `bytes`.
    pub fn on_bytes(&mut self, bytes: &[u8], j: &WsJudge<'_>) {
        if self.failure.is_some() || self.gave_up {
            return;
        }
        if let Err(why) = self.take(bytes, j) {
            self.failure = Some(why);
        }
    }

    fn take(&mut self, bytes: &[u8], j: &WsJudge<'_>) -> Result<(), String> {
        if self.status.is_none() {
            self.head.extend_from_slice(bytes);
            let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else {
                if self.head.len() > MAX_HEAD {
                    return Err(format!(
                        "no end of the handshake's answer in {MAX_HEAD} bytes"
                    ));
                }
                return Ok(());
            };
            let rest = self.head.split_off(end + 4);
            self.judge_head(j.script)?;
            if !self.switched {
                // A refusal's body and what follows are HTTP's; the status was all.
                return Ok(());
            }
            self.buf = rest;
        } else if self.switched {
            self.buf.extend_from_slice(bytes);
        } else {
            return Ok(());
        }
        self.frames(j)
    }

    fn judge_head(&mut self, script: &WsScript) -> Result<(), String> {
        let text = std::str::from_utf8(&self.head)
            .map_err(|_| "a handshake answer that is not UTF-8".to_string())?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("a malformed status line {status_line:?}"))?;
        self.status = Some(status);
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let has = |name: &str, value: &str| headers.iter().any(|(n, v)| n == name && v == value);
        if status == 408 {
            // The head timeout cut the request short: judged at the end.
            return Ok(());
        }
        match script.handshake {
            Handshake::Valid => {
                if status != 101 {
                    return Err(format!("a valid handshake answered {status_line:?}"));
                }
                if !headers
                    .iter()
                    .any(|(n, v)| n == "upgrade" && v.eq_ignore_ascii_case("websocket"))
                {
                    return Err("a 101 without `Upgrade: websocket`".into());
                }
                if !headers.iter().any(|(n, v)| {
                    n == "connection"
                        && v.split(',')
                            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
                }) {
                    return Err("a 101 without `Connection: upgrade`".into());
                }
                let accept = expected_accept(&script.key);
                if !has("sec-websocket-accept", &accept) {
                    return Err(format!(
                        "a 101 without `Sec-WebSocket-Accept: {accept}` for key {}",
                        script.key
                    ));
                }
                self.switched = true;
                self.hits.push("ws.handshake.101");
            }
            Handshake::BadVersion => {
                if status != 426 || !has("sec-websocket-version", "13") {
                    return Err(format!(
                        "version 8 answered {status_line:?}, not 426 with \
                         `Sec-WebSocket-Version: 13`"
                    ));
                }
                self.hits.push("ws.handshake.426");
            }
            Handshake::BadKey => {
                if status != 400 {
                    return Err(format!("a 15-byte key answered {status_line:?}, not 400"));
                }
                self.hits.push("ws.handshake.400");
            }
        }
        Ok(())
    }

    /// Parses and judges every whole frame in the buffer.
    fn frames(&mut self, j: &WsJudge<'_>) -> Result<(), String> {
        // Bounded: every turn takes a whole frame (at least 2 bytes), or stops.
        for _ in 0..self.buf.len() {
            if self.buf.len() < 2 {
                return Ok(());
            }
            let (b0, b1) = (self.buf[0], self.buf[1]);
            if b1 & 0x80 != 0 {
                return Err("a masked frame from the server (RFC 6455 §5.1)".into());
            }
            if b0 & 0x70 != 0 {
                return Err(format!("a server frame with RSV bits {b0:#04x}"));
            }
            let (header, len) = match b1 & 0x7f {
                126 => {
                    let Some(l) = self.buf.get(2..4) else {
                        return Ok(());
                    };
                    let len = u16::from_be_bytes([l[0], l[1]]) as usize;
                    if len < 126 {
                        return Err(format!("a 16-bit length {len} that fits 7 bits"));
                    }
                    (4, len)
                }
                127 => {
                    let Some(l) = self.buf.get(2..10) else {
                        return Ok(());
                    };
                    let len = u64::from_be_bytes(l.try_into().expect("8 bytes"));
                    if len <= 0xffff {
                        return Err(format!("a 64-bit length {len} that fits 16 bits"));
                    }
                    (10, len as usize)
                }
                n => (2, n as usize),
            };
            if self.buf.len() < header + len {
                return Ok(());
            }
            let payload: Vec<u8> = self.buf[header..header + len].to_vec();
            self.buf.drain(..header + len);
            if b0 & 0x80 == 0 {
                return Err(format!(
                    "a server frame without FIN (opcode {:#x})",
                    b0 & 0xf
                ));
            }
            match b0 & 0x0f {
                0x1 => self.message(&payload, j)?,
                0x8 => self.close_frame(&payload, j)?,
                0xA => self.pong(&payload, j)?,
                op => return Err(format!("a server frame with opcode {op:#x}")),
            }
        }
        Ok(())
    }

    fn message(&mut self, payload: &[u8], j: &WsJudge<'_>) -> Result<(), String> {
        if let Some(code) = self.close {
            return Err(format!("a data frame after the server's Close {code}"));
        }
        let shown = || String::from_utf8_lossy(&payload[..payload.len().min(40)]).into_owned();
        let tag = crate::app::parse_tag(payload)
            .ok_or_else(|| format!("a message without a tag: {:?}", shown()))?;
        match j.room.texts.get(&tag) {
            Some(text) if text == payload => {}
            Some(_) => return Err(format!("message {tag:?} arrived altered: {:?}", shown())),
            None => return Err(format!("message {tag:?} was never sent: {:?}", shown())),
        }
        let seq = *j
            .room
            .seq_of
            .get(&tag)
            .ok_or_else(|| format!("message {tag:?} delivered but never published"))?;
        let first = self
            .first_seq
            .ok_or_else(|| format!("message {seq} delivered before the room saw a subscription"))?;
        let expected = self.last_seq.map_or(first, |s| s + 1);
        if seq < expected {
            return Err(format!(
                "message {seq} {tag:?} received when {expected} was next (first owed {first}): \
                 a duplicate, out of order, or from before it subscribed"
            ));
        }
        if seq > expected {
            if !j.room.overtaken(expected) {
                return Err(format!(
                    "messages {expected}..{} missed although the ring ({} bytes) still held \
                     them: {} published",
                    seq - 1,
                    j.room.ring_bytes,
                    j.room.published.len()
                ));
            }
            self.hits.push("ws.lagged");
        }
        self.last_seq = Some(seq);
        self.messages += 1;
        self.hits.push(if tag.0 == j.script.w {
            "ws.own-message"
        } else {
            "ws.fanout"
        });
        Ok(())
    }

    fn pong(&mut self, payload: &[u8], j: &WsJudge<'_>) -> Result<(), String> {
        let Some(ping) = j.script.pings.get(self.pongs) else {
            return Err(format!("pong {} answers no ping", self.pongs));
        };
        if ping.payload != payload {
            return Err(format!(
                "pong {} carries {payload:?}, its ping {:?}",
                self.pongs, ping.payload
            ));
        }
        if j.delivered < ping.end {
            return Err(format!("pong {} before its ping was received", self.pongs));
        }
        self.pongs += 1;
        self.hits.push("ws.pong");
        Ok(())
    }

    fn close_frame(&mut self, payload: &[u8], j: &WsJudge<'_>) -> Result<(), String> {
        if let Some(code) = self.close {
            return Err(format!("a second Close after {code}"));
        }
        if payload.len() != 2 {
            return Err(format!(
                "the server's Close has {} bytes, not a code alone",
                payload.len()
            ));
        }
        let code = u16::from_be_bytes([payload[0], payload[1]]);
        self.close = Some(code);
        let t = j.script.terminal.as_ref();
        match t {
            Some(t) if code == t.code && j.delivered > t.start => {
                self.hits.push(t.class);
                self.hits.push(match code {
                    1002 => "ws.violation.1002",
                    1007 => "ws.violation.1007",
                    1009 => "ws.violation.1009",
                    1003 => "ws.close.1003",
                    _ => "ws.close.echoed",
                });
                let owed = j.script.pings.iter().filter(|p| p.end <= t.start).count();
                if self.pongs < owed && code == 1001 {
                    // Not the echo of the client's Close 1001: the server's own (its idle
                    // timeout, or a shutdown), posted before the client's ping and Close
                    // reached it. `delivered` counts what had arrived when the client read
                    // the frame, which may be more than when the server wrote it.
                    self.hits.push("ws.going-away");
                    return Ok(());
                }
                if self.pongs < owed {
                    return Err(format!(
                        "Close {code} after {} pongs, {owed} pings before its cause",
                        self.pongs
                    ));
                }
            }
            _ if code == 1001 => self.hits.push("ws.going-away"),
            Some(t) => {
                return Err(format!(
                    "Close {code}; {} ({}..{}) deserves {}, and the server had {} bytes",
                    t.class, t.start, t.end, t.code, j.delivered
                ));
            }
            None => {
                return Err(format!(
                    "Close {code} although the client sent nothing that deserves one"
                ));
            }
        }
        Ok(())
    }

    /// The connection ended: `client_eof` the client sent its EOF, `had_at_answer` the
    /// bytes the server had when it answered first.
    pub fn on_end(
        &mut self,
        script: &WsScript,
        end: &Ending,
        client_eof: bool,
        had_at_answer: usize,
    ) {
        if self.failure.is_some() || self.gave_up || end.excused || end.shed || end.reclaimed {
            return;
        }
        if let Err(why) = self.judge_end(script, end, client_eof, had_at_answer) {
            self.failure = Some(why);
        }
    }

    fn judge_end(
        &mut self,
        script: &WsScript,
        end: &Ending,
        client_eof: bool,
        had_at_answer: usize,
    ) -> Result<(), String> {
        match self.status {
            None if end.delivered >= script.request_end => {
                return Err(format!(
                    "the server had the whole handshake but closed after {} bytes without an \
                     answer",
                    self.head.len()
                ));
            }
            None => return Ok(()),
            Some(408) if had_at_answer >= script.request_end => {
                return Err("the server had the whole handshake but answered 408".into());
            }
            _ => {}
        }
        if !self.switched {
            return Ok(());
        }
        if !end.fin {
            // Closed at once (our Close's wait for the peer's ran out, a fault): the Close
            // may lie unread in a buffer the client never read.
            return Ok(());
        }
        if self.close.is_none() {
            if let Some(t) = &script.terminal
                && end.delivered >= t.end
            {
                return Err(format!(
                    "the server had the client's {} ({}..{}) but closed without Close {}",
                    t.class, t.start, t.end, t.code
                ));
            }
            if !client_eof {
                return Err(
                    "the server closed a WebSocket without a Close, the client still there".into(),
                );
            }
        }
        if self.close.is_none() || self.close == Some(1001) {
            // Before any Close of the server's, every whole message it had is published.
            // (After its 1001, the room takes nothing more.)
            if self.close.is_none()
                && let Some((k, m)) = script.msgs.iter().enumerate().find(|(k, m)| {
                    *k as u32 >= self.next_k && m.publishable && m.end <= end.delivered
                })
            {
                return Err(format!(
                    "message {k} (ending at {}) was received whole but never published",
                    m.end
                ));
            }
        }
        Ok(())
    }
}
