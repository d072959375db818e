//! WebSocket clients of the chat room ([`crate::app::SimRoom`], `GET /sim/ws`).
//!
//! Each client upgrades with an opening handshake of its own (RFC 6455 §4.1: a random
//! 16-byte key, version 13; some send version 8, owed `426`, or a key of 15 bytes, owed
//! `400`), then writes client frames, masked with seeded keys: text messages tagged
//! `w{client}.{k}:` so that every subscriber's frame names its sender and number, some
//! fragmented at random points (inside UTF-8 characters too) with pings between the
//! fragments; pings; unsolicited pongs; and perhaps one *terminal* frame that decides how the
//! server closes: a Close with or without a code (echoed, 1000 for none), a binary message
//! (refused by the room with 1003), or a protocol violation (unmasked frame, reserved opcode,
//! RSV bits, fragmented or over-long control frame, continuation without a message, a 1-byte
//! Close body, a close code not allowed on the wire: 1002; text not UTF-8: 1007; a frame over
//! `max_frame` or a message over `max_message`: 1009). Some clients stop reading for a while
//! or for good (slow subscribers the ring overtakes), some vanish without a Close (EOF or
//! reset).
//!
//! Frames are built here by hand (RFC 6455 §5.2), not with the core's writer, which writes
//! only a server's (unmasked) frames.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{ClientKind, EndMode, Gen, Pace, Script};
use crate::app::{WS_MAX_FRAME, WS_MAX_MESSAGE};
use crate::rng::Rng;
use crate::swarm::WorkloadShape;
use zzz_core::Config;

/// How a client's opening handshake goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// Valid: owed `101` with the right `Sec-WebSocket-Accept`.
    Valid,
    /// `Sec-WebSocket-Version: 8`: owed `426` naming 13.
    BadVersion,
    /// A key of 15 bytes: owed `400`.
    BadKey,
}

/// A text message of a script: its number `k` is its index.
#[derive(Clone, Debug)]
pub struct WsMsg {
    /// Offset just past its last frame.
    pub end: usize,
    /// The whole message.
    pub text: Vec<u8>,
    /// Sent before any terminal frame: the room must publish it once it has it whole.
    pub publishable: bool,
}

/// A ping of a script.
#[derive(Clone, Debug)]
pub struct WsPing {
    /// Offset just past it.
    pub end: usize,
    /// Its payload, which the pong must carry.
    pub payload: Vec<u8>,
}

/// The frame that decides how the server closes.
#[derive(Clone, Debug)]
pub struct Terminal {
    /// Offset of its first byte.
    pub start: usize,
    /// Offset just past it.
    pub end: usize,
    /// The code of the Close the server owes once it has read it.
    pub code: u16,
    /// What it is, for the trace and the coverage table.
    pub class: &'static str,
}

/// What a WebSocket client sends and what it is owed.
#[derive(Clone, Debug)]
pub struct WsScript {
    /// Its number among the WebSocket clients (the `w` of its tags).
    pub w: u32,
    /// Its `Sec-WebSocket-Key`.
    pub key: String,
    /// How its handshake goes.
    pub handshake: Handshake,
    /// Offset just past the upgrade request.
    pub request_end: usize,
    /// Its text messages, in order.
    pub msgs: Vec<WsMsg>,
    /// Its pings, in order.
    pub pings: Vec<WsPing>,
    /// The frame that decides the server's Close, if any.
    pub terminal: Option<Terminal>,
    /// It ends its side (EOF or reset, as the script's end says) once written, without
    /// waiting for a Close.
    pub vanish: bool,
}

/// The GUID of RFC 6455 §1.3.
pub const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Appends one client frame: `b0` is FIN, RSV and opcode; `mask` none for an unmasked frame;
/// the length field says `declared` (the payload's length unless given).
pub fn client_frame(out: &mut Vec<u8>, b0: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    let n = payload.len();
    let m = if mask.is_some() { 0x80 } else { 0 };
    out.push(b0);
    if n < 126 {
        out.push(m | n as u8);
    } else if n <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
}

const FIN: u8 = 0x80;
const TEXT: u8 = 0x1;
const CONT: u8 = 0x0;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// Generates the WebSocket clients of one seed.
pub fn ws_clients(config: &Config, shape: &WorkloadShape, rng: &mut Rng) -> Vec<Script> {
    let mut g = Gen { rng, config, shape };
    let spread = *g.rng.pick(&[0u64, 200, 1_000, 3_000]);
    (0..shape.ws_clients)
        .map(|w| {
            let mut s = g.ws_client(w as u32);
            s.connect_at = g.rng.range(0, spread);
            s
        })
        .collect()
}

/// What a client mostly does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// Many messages.
    Chatty,
    /// Few messages, reads slowly or not at all.
    Subscriber,
    /// No messages; stops reading almost at once, for long: the ring overtakes it.
    Lurker,
    /// Messages, then a Close.
    Closer,
    /// Messages, then a violation.
    Violator,
    /// Messages, then a binary message.
    Binary,
    /// A handshake the server refuses.
    BadHandshake,
    /// Messages, then gone without a Close.
    Vanisher,
}

impl Gen<'_> {
    fn mask(&mut self) -> Option<[u8; 4]> {
        Some((self.rng.next_u64() as u32).to_be_bytes())
    }

    /// Text of `len` bytes at most, after `tag`: ASCII with some two- and three-byte
    /// characters; exactly `len` when `exact`.
    fn text(&mut self, tag: &str, len: usize, exact: bool) -> Vec<u8> {
        let mut t = tag.as_bytes().to_vec();
        // Bounded: every turn adds a character, or stops.
        for _ in 0..len {
            let left = len.saturating_sub(t.len());
            if left == 0 {
                break;
            }
            let c = match self.rng.below(10) {
                0 if left >= 2 => "é",
                1 if left >= 3 => "€",
                _ => "abcdefghijklmnopqrstuvwxyz ABC.!?"
                    .get(self.rng.range_usize(0, 32)..)
                    .and_then(|s| s.get(..1))
                    .unwrap_or("x"),
            };
            t.extend_from_slice(c.as_bytes());
        }
        if exact {
            t.resize(len.max(t.len()), b'z');
        }
        t
    }

    fn ping(&mut self, s: &mut Script, ws: &mut WsScript) {
        let n = *self.rng.pick(&[0usize, 1, 4, 30, 125]);
        let payload: Vec<u8> = (0..n).map(|_| self.rng.below(256) as u8).collect();
        let mask = self.mask();
        client_frame(&mut s.bytes, FIN | PING, &payload, mask);
        ws.pings.push(WsPing {
            end: s.bytes.len(),
            payload,
        });
    }

    /// A text message, in one frame or fragmented, perhaps with pings between fragments.
    fn message(&mut self, s: &mut Script, ws: &mut WsScript, publishable: bool) {
        let k = ws.msgs.len();
        let tag = format!("w{}.{k}:", ws.w);
        let len = match self.rng.below(6) {
            0 => WS_MAX_MESSAGE,
            1 => self.rng.range_usize(WS_MAX_FRAME, WS_MAX_MESSAGE),
            2 => self.rng.range_usize(30, WS_MAX_FRAME),
            _ => self.rng.range_usize(0, 30),
        };
        let exact = self.rng.coin();
        let text = self.text(&tag, len, exact);
        let pings = self.rng.chance(300_000);
        let mut at = 0;
        let mut first = true;
        // Bounded: every turn writes at least one byte of the message, or its only frame.
        for _ in 0..=text.len() {
            let left = text.len() - at;
            let take = if left <= WS_MAX_FRAME && self.rng.coin() {
                left
            } else {
                self.rng.range_usize(1, left.min(WS_MAX_FRAME))
            };
            let last = take == left;
            let op = if first { TEXT } else { CONT };
            let mask = self.mask();
            client_frame(
                &mut s.bytes,
                if last { FIN | op } else { op },
                &text[at..at + take],
                mask,
            );
            at += take;
            first = false;
            if last {
                break;
            }
            if pings && self.rng.coin() {
                self.ping(s, ws);
            }
        }
        debug_assert_eq!(at, text.len());
        ws.msgs.push(WsMsg {
            end: s.bytes.len(),
            text,
            publishable,
        });
    }

    /// Some traffic: messages, pings, unsolicited pongs.
    fn traffic(&mut self, s: &mut Script, ws: &mut WsScript, messages: usize) {
        for _ in 0..messages {
            match self.rng.below(10) {
                0 => self.ping(s, ws),
                1 => {
                    let mask = self.mask();
                    client_frame(&mut s.bytes, FIN | PONG, b"unsolicited", mask);
                }
                _ => {}
            }
            self.message(s, ws, true);
        }
    }

    /// A violation: its bytes and the code the server owes.
    fn violation(&mut self, out: &mut Vec<u8>) -> (u16, &'static str) {
        let mask = self.mask();
        match self.rng.below(10) {
            0 => {
                client_frame(out, FIN | TEXT, b"unmasked", None);
                (1002, "ws.violation.unmasked")
            }
            1 => {
                let op = *self.rng.pick(&[0x3u8, 0x7, 0xB, 0xF]);
                client_frame(out, FIN | op, b"reserved", mask);
                (1002, "ws.violation.opcode")
            }
            2 => {
                let rsv = *self.rng.pick(&[0x40u8, 0x20, 0x10]);
                client_frame(out, FIN | rsv | TEXT, b"rsv", mask);
                (1002, "ws.violation.rsv")
            }
            3 => {
                client_frame(out, FIN | CONT, b"orphan", mask);
                (1002, "ws.violation.continuation")
            }
            4 => {
                let n = *self.rng.pick(&[126usize, 200]);
                client_frame(
                    out,
                    if self.rng.coin() { PING } else { FIN | PING },
                    &vec![b'p'; n],
                    mask,
                );
                (1002, "ws.violation.control")
            }
            5 => {
                let body: &[u8] = if self.rng.coin() {
                    b"\x03"
                } else {
                    &[0x03, 0xED]
                };
                client_frame(out, FIN | CLOSE, body, mask);
                (1002, "ws.violation.close-code")
            }
            6 => {
                let mut t = b"bad utf-8 ".to_vec();
                t.push(*self.rng.pick(&[0xFFu8, 0xC0, 0x80]));
                t.extend_from_slice(b" after");
                client_frame(out, FIN | TEXT, &t, mask);
                (1007, "ws.violation.utf8")
            }
            7 => {
                let n = WS_MAX_FRAME + self.rng.range_usize(1, 40);
                client_frame(out, FIN | TEXT, &vec![b'L'; n], mask);
                (1009, "ws.violation.frame-too-big")
            }
            8 => {
                // Fragments of at most `max_frame` adding up past `max_message`.
                let mut sent = 0;
                let mut first = true;
                while sent <= WS_MAX_MESSAGE {
                    let n = WS_MAX_FRAME;
                    let op = if first { TEXT } else { CONT };
                    let mask = self.mask();
                    client_frame(out, op, &vec![b'M'; n], mask);
                    sent += n;
                    first = false;
                }
                (1009, "ws.violation.message-too-big")
            }
            _ => {
                // A text frame inside a fragmented message.
                client_frame(out, TEXT, b"one", mask);
                let mask = self.mask();
                client_frame(out, FIN | TEXT, b"two", mask);
                (1002, "ws.violation.interleaved")
            }
        }
    }

    fn ws_client(&mut self, w: u32) -> Script {
        let style = *self.rng.pick(&[
            Style::Chatty,
            Style::Chatty,
            Style::Subscriber,
            Style::Lurker,
            Style::Closer,
            Style::Violator,
            Style::Binary,
            Style::BadHandshake,
            Style::Vanisher,
        ]);
        let pace = Pace::Burst {
            max_chunk: *self.rng.pick(&[1usize, 7, 100, 1 << 20]),
            gap_ms: *self.rng.pick(&[0u64, 0, 1, 5]),
        };
        let end = match style {
            Style::Vanisher if self.rng.coin() => EndMode::Reset,
            Style::Subscriber | Style::Chatty | Style::Lurker if self.rng.coin() => EndMode::Idle,
            _ => EndMode::Eof,
        };
        let mut s = Script::new(ClientKind::Ws, "client.ws", pace, end);
        let key_bytes: Vec<u8> = (0..16).map(|_| self.rng.below(256) as u8).collect();
        let handshake = match style {
            Style::BadHandshake if self.rng.coin() => Handshake::BadVersion,
            Style::BadHandshake => Handshake::BadKey,
            _ => Handshake::Valid,
        };
        let key = match handshake {
            Handshake::BadKey => STANDARD.encode(&key_bytes[..15]),
            _ => STANDARD.encode(&key_bytes),
        };
        let version = if handshake == Handshake::BadVersion {
            "8"
        } else {
            "13"
        };
        let connection = *self
            .rng
            .pick(&["Upgrade", "keep-alive, Upgrade", "upgrade"]);
        s.bytes.extend_from_slice(
            format!(
                "GET /sim/ws HTTP/1.1\r\nHost: sim\r\nUpgrade: websocket\r\nConnection: \
                 {connection}\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: \
                 {version}\r\n\r\n"
            )
            .as_bytes(),
        );
        let request_end = s.bytes.len();
        s.upgrade_end = Some(request_end);
        let mut ws = WsScript {
            w,
            key,
            handshake,
            request_end,
            msgs: Vec::new(),
            pings: Vec::new(),
            terminal: None,
            vanish: style == Style::Vanisher,
        };
        if handshake != Handshake::Valid {
            s.ws = Some(ws);
            return s;
        }
        let messages = match style {
            Style::Chatty => self.rng.range_usize(3, 24),
            Style::Subscriber => self.rng.range_usize(0, 2),
            Style::Lurker => 0,
            _ => self.rng.range_usize(0, 5),
        };
        self.traffic(&mut s, &mut ws, messages);
        let start = s.bytes.len();
        let terminal = match style {
            Style::Closer => {
                let code =
                    *self
                        .rng
                        .pick(&[None, Some(1000u16), Some(1001), Some(3000), Some(4999)]);
                let mut body = Vec::new();
                if let Some(c) = code {
                    body.extend_from_slice(&c.to_be_bytes());
                    if self.rng.coin() {
                        body.extend_from_slice("bye é".as_bytes());
                    }
                }
                let mask = self.mask();
                client_frame(&mut s.bytes, FIN | CLOSE, &body, mask);
                Some((code.unwrap_or(1000), "ws.close"))
            }
            Style::Violator => Some(self.violation(&mut s.bytes)),
            Style::Binary => {
                let n = self.rng.range_usize(0, WS_MAX_FRAME);
                let mask = self.mask();
                client_frame(&mut s.bytes, FIN | BINARY, &vec![0xB1; n], mask);
                Some((1003, "ws.refused.1003"))
            }
            _ => None,
        };
        if let Some((code, class)) = terminal {
            ws.terminal = Some(Terminal {
                start,
                end: s.bytes.len(),
                code,
                class,
            });
            // After it: more messages, never published (ignored after a Close, or never read
            // after a violation); after a refused binary message, perhaps the client's Close.
            if self.rng.coin() {
                self.message(&mut s, &mut ws, false);
            }
            if style == Style::Binary && self.rng.coin() {
                let mask = self.mask();
                client_frame(&mut s.bytes, FIN | CLOSE, &1000u16.to_be_bytes(), mask);
            }
        }
        if style == Style::Lurker {
            let after = self.rng.range(0, 30);
            let ms = *self.rng.pick(&[1_500u64, 4_000, 1_000_000]);
            s.read_stall = Some((after, ms));
        } else if style == Style::Subscriber || self.rng.chance(100_000) {
            // Stops reading: for a while, or for good.
            let after = self.rng.range(0, 300);
            let ms = *self.rng.pick(&[300u64, 1_500, 5_000, 1_000_000]);
            s.read_stall = Some((after, ms));
        }
        if self.rng.chance(self.shape.cut) {
            let at = self.rng.range_usize(0, s.bytes.len());
            s.cut = Some(if self.rng.coin() {
                super::Cut::Eof(at)
            } else {
                super::Cut::Reset(at)
            });
        }
        s.ws = Some(ws);
        s
    }
}
