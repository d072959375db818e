//! MQTT over WebSocket in the simulation (MQTT 3.1.1 §6, RFC 6455): what a client that
//! reaches the broker through `GET /sim/mqtt` writes — the opening handshake with
//! subprotocol `mqtt`, then its packets in masked binary frames, each packet split at up to
//! two points drawn from its seed, pings, perhaps a text frame — and the reading of the
//! server's side: a `101` naming `mqtt` with the right `Sec-WebSocket-Accept`, then unmasked,
//! whole frames: binary ones carry the MQTT stream, pongs answer pings, one Close ends it.
//! Both the oracle's view of what the server wrote and the client's of what it read use
//! [`ServerFrames`]; the MQTT oracle judges the stream as over TCP.

use crate::workload::client_frame;
use crate::ws_oracle::expected_accept;

/// Frame opcodes.
pub const TEXT: u8 = 0x1;
/// Binary frame.
pub const BINARY: u8 = 0x2;
/// Close frame.
pub const CLOSE: u8 = 0x8;
/// Ping frame.
pub const PING: u8 = 0x9;
/// Pong frame.
pub const PONG: u8 = 0xA;

/// The opening handshake of a client with key `key`.
pub fn request(key: &str) -> Vec<u8> {
    format!(
        "GET /sim/mqtt HTTP/1.1\r\nHost: sim\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: \
         mqtt\r\n\r\n"
    )
    .into_bytes()
}

/// The next number of a client's xorshift sequence.
fn next(state: &mut u64) -> u64 {
    let mut x = (*state).max(1);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// Appends `payload` as a client writes it: binary data split into one to three frames at
/// points drawn from `state` (each a whole message), or one control or text frame; masked.
pub fn frames(out: &mut Vec<u8>, opcode: u8, payload: &[u8], state: &mut u64) {
    let mask = |state: &mut u64| (next(state) as u32).to_be_bytes();
    if opcode != BINARY || payload.len() < 2 {
        let key = mask(state);
        client_frame(out, 0x80 | opcode, payload, Some(key));
        return;
    }
    let cuts = (next(state) % 3) as usize;
    let mut points: Vec<usize> = (0..cuts)
        .map(|_| 1 + (next(state) as usize) % (payload.len() - 1))
        .collect();
    points.push(0);
    points.push(payload.len());
    points.sort_unstable();
    points.dedup();
    for w in points.windows(2) {
        let key = mask(state);
        client_frame(out, 0x80 | BINARY, &payload[w[0]..w[1]], Some(key));
    }
}

/// How the server's side of the handshake went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// Not whole yet.
    Pending,
    /// `101` with `mqtt`: frames follow.
    Switched,
    /// Another status (the server shed it or timed it out): nothing follows.
    Refused(u16),
}

/// A reader of what the server writes to an MQTT-over-WebSocket client.
#[derive(Clone, Debug)]
pub struct ServerFrames {
    key: String,
    buf: Vec<u8>,
    /// Where the handshake stands.
    pub handshake: Handshake,
    /// The payloads of the pongs read, in order.
    pub pongs: Vec<Vec<u8>>,
    /// The Close read (its code, if it has one).
    pub close: Option<Option<u16>>,
}

impl ServerFrames {
    /// A reader for a client whose key is `key`.
    pub fn new(key: &str) -> ServerFrames {
        ServerFrames {
            key: key.to_string(),
            buf: Vec::new(),
            handshake: Handshake::Pending,
            pongs: Vec::new(),
            close: None,
        }
    }

    /// Takes `bytes` of the server's output: the MQTT bytes among them.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        if self.handshake == Handshake::Pending {
            let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                if self.buf.len() > 4096 {
                    return Err("no end of the handshake's answer in 4,096 bytes".into());
                }
                return Ok(out);
            };
            let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
            self.buf.drain(..end + 4);
            self.handshake = check_head(&head, &self.key)?;
        }
        if self.handshake != Handshake::Switched {
            return Ok(out);
        }
        // Bounded: each turn takes a whole frame (at least 2 bytes), or stops.
        for _ in 0..self.buf.len() {
            let Some((opcode, payload, n)) = read_frame(&self.buf)? else {
                break;
            };
            if self.close.is_some() {
                return Err(format!(
                    "a frame (opcode {opcode}) after the server's Close"
                ));
            }
            match opcode {
                BINARY => out.extend_from_slice(&payload),
                PONG => self.pongs.push(payload),
                CLOSE => {
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    if payload.len() == 1 {
                        return Err("a Close frame with a 1-byte body".into());
                    }
                    self.close = Some(code);
                }
                other => return Err(format!("a server frame of opcode {other}")),
            }
            self.buf.drain(..n);
        }
        Ok(out)
    }
}

/// Judges the server's answer to the handshake (its head, without the blank line).
fn check_head(head: &str, key: &str) -> Result<Handshake, String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("a malformed status line {status_line:?}"))?;
    if status != 101 {
        // Shed or timed out before the upgrade: nothing else is judged.
        return match status {
            408 | 503 => Ok(Handshake::Refused(status)),
            _ => Err(format!(
                "the upgrade to MQTT over WebSocket answered {status}"
            )),
        };
    }
    let header = |name: &str| {
        lines.clone().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let accept = expected_accept(key);
    let checks = [
        (
            "upgrade",
            header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")),
        ),
        (
            "connection",
            header("connection").is_some_and(|v| v.to_ascii_lowercase().contains("upgrade")),
        ),
        (
            "sec-websocket-accept",
            header("sec-websocket-accept").as_deref() == Some(accept.as_str()),
        ),
        (
            "sec-websocket-protocol",
            header("sec-websocket-protocol").as_deref() == Some("mqtt"),
        ),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((name, _)) => Err(format!(
            "the 101 to MQTT over WebSocket has a wrong or no {name}: {head:?}"
        )),
        None => Ok(Handshake::Switched),
    }
}

/// The first whole server frame of `buf`: its opcode, payload and length; `None` if not
/// whole yet. Server frames are unmasked, final and minimally encoded.
fn read_frame(buf: &[u8]) -> Result<Option<(u8, Vec<u8>, usize)>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x80 == 0 || b0 & 0x70 != 0 {
        return Err(format!(
            "a server frame not final or with RSV bits: {b0:#04x}"
        ));
    }
    if b1 & 0x80 != 0 {
        return Err("a masked server frame".into());
    }
    let (len, head) = match b1 & 0x7f {
        126 => {
            let Some(b) = buf.get(2..4) else {
                return Ok(None);
            };
            let n = u16::from_be_bytes([b[0], b[1]]) as usize;
            if n < 126 {
                return Err("a frame length not minimally encoded".into());
            }
            (n, 4)
        }
        127 => {
            let Some(b) = buf.get(2..10) else {
                return Ok(None);
            };
            let n = u64::from_be_bytes(b.try_into().expect("8 bytes")) as usize;
            if n <= 0xffff {
                return Err("a frame length not minimally encoded".into());
            }
            (n, 10)
        }
        n => (n as usize, 2),
    };
    let Some(payload) = buf.get(head..head + len) else {
        return Ok(None);
    };
    Ok(Some((b0 & 0x0f, payload.to_vec(), head + len)))
}

/// An MQTT-over-WebSocket client's two views of the server's side, and its own frames'.
#[derive(Clone, Debug)]
pub struct WsSide {
    /// What the server wrote (read by the oracle as it is written).
    pub written: ServerFrames,
    /// What the client read.
    pub read: ServerFrames,
    /// Every byte the server wrote.
    pub raw: Vec<u8>,
    /// Bytes of `raw` the client read.
    pub raw_read: usize,
    /// The payloads of its pings, in order.
    pub pings: Vec<Vec<u8>>,
    /// The first ping no pong has answered yet (a pong answers the latest ping owed, so it
    /// may skip some).
    pub pong_next: usize,
    /// The pongs judged so far.
    pub pongs_seen: usize,
    /// The state of its masks and splits.
    pub rng: u64,
}

impl WsSide {
    /// The views of a client with key `key`, its frames drawn from `seed`.
    pub fn new(key: &str, seed: u64) -> WsSide {
        WsSide {
            written: ServerFrames::new(key),
            read: ServerFrames::new(key),
            raw: Vec::new(),
            raw_read: 0,
            pings: Vec::new(),
            pong_next: 0,
            pongs_seen: 0,
            rng: seed,
        }
    }

    /// Judges the pongs read since the last call: each carries the payload of a ping sent
    /// and not yet passed, in order.
    pub fn judge_pongs(&mut self) -> Result<(), String> {
        for pong in &self.read.pongs[self.pongs_seen..] {
            let Some(j) = self.pings[self.pong_next..].iter().position(|p| p == pong) else {
                return Err(format!(
                    "a pong with payload {pong:?}, which answers no ping sent and not yet \
                     answered"
                ));
            };
            self.pong_next += j + 1;
        }
        self.pongs_seen = self.read.pongs.len();
        Ok(())
    }
}
