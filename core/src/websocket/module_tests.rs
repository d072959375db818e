//! The WebSocket module served in memory: an app of HTTP and an echo over WebSocket, upgraded
//! by `GET /ws`, driven by events with a scripted clock and masked client frames.

use std::collections::{BTreeMap, VecDeque};
use std::vec::Vec;

use super::{
    CloseCode, DataKind, FrameHeader, MessagePiece, Opcode, Take, UpgradeOptions, WebSocket, WsCtx,
    WsHandler, WsLimits, apply_mask, upgrade, write_header,
};
use crate::server::Protocols;
use crate::{App, Config, Ctx, Event, Http, Instant, Now, Op, PeerAddr, Request, Response};
use crate::{Route, Router, Server, SlotId};

/// The app's state: the close codes the handler was told, in order.
#[derive(Default)]
struct WsState {
    closed: Vec<Option<u16>>,
}

/// Echoes each piece as a fragment of the same message; the text message `bye` is answered
/// by a Close 1000 of ours.
struct Echo;

impl WsHandler<WsState> for Echo {
    /// Pieces echoed.
    type Conn = u32;

    fn open(&mut self, _: &mut WsCtx<'_, WsState>) -> u32 {
        0
    }

    fn message(
        &mut self,
        echoed: &mut u32,
        ctx: &mut WsCtx<'_, WsState>,
        piece: MessagePiece<'_>,
    ) -> Take {
        if piece.kind == DataKind::Text && piece.first && piece.last && piece.data == b"bye" {
            assert!(ctx.close(CloseCode::NORMAL));
            return Take::Done;
        }
        match ctx.send_piece(piece.kind, piece.data, piece.first, piece.last) {
            Ok(()) => {
                *echoed += 1;
                Take::Done
            }
            Err(super::SendError::Full) => Take::Later,
            Err(super::SendError::Closing) => Take::Done,
        }
    }

    fn closed(&mut self, _: &mut u32, state: &mut WsState, code: Option<CloseCode>) {
        state.closed.push(code.map(|c| c.get()));
    }
}

crate::protocols! {
    /// HTTP, and the echo over WebSocket.
    struct Served<WsState> {
        conn: ServedConn,
        id: ServedId,
        /// HTTP/1.1.
        http: Http => crate::Http<WsState>,
        /// The WebSocket echo.
        ws: Ws => WebSocket<Echo>,
    }
}

fn ws_upgrade(ctx: &mut Ctx<WsState>, req: &Request) -> Response {
    upgrade(
        ctx,
        req,
        &UpgradeOptions {
            protocol: Served::id_index(ServedId::Ws),
            subprotocols: &["chat.v2", "chat"],
            origin: None,
        },
    )
}

fn good_origin(origin: &[u8]) -> bool {
    origin == b"https://good.example"
}

fn strict_upgrade(ctx: &mut Ctx<WsState>, req: &Request) -> Response {
    upgrade(
        ctx,
        req,
        &UpgradeOptions {
            origin: Some(good_origin),
            ..UpgradeOptions::to(Served::id_index(ServedId::Ws))
        },
    )
}

static ROUTES: &[Route<WsState>] = &[
    Route::get("/ws", ws_upgrade),
    Route::post("/ws", ws_upgrade),
    Route::get("/strict", strict_upgrade),
];

/// Limits small enough to meet.
const LIMITS: WsLimits = WsLimits {
    max_frame: 2000,
    max_message: 3000,
    idle_ms: 10_000,
    ping_ms: None,
    close_ms: 2_000,
};

fn config() -> Config {
    let mut c = Config::DEFAULT;
    c.max_connections = 4;
    c.recv_buffer = 1024;
    c.send_buffer = 1024;
    c.large_buffers = 2;
    c.large_buffer_size = 8192;
    c.limits.max_head = 1024;
    c.limits.max_request_line = 512;
    c.limits.max_body = 8192;
    c.limits.max_headers = 16;
    c
}

fn app(limits: WsLimits) -> App<WsState, Served> {
    App::with_modules(
        WsState::default(),
        Served {
            http: Http::new(Router::new(ROUTES).unwrap()),
            ws: WebSocket::new(Echo).limits(limits),
        },
    )
}

#[derive(Default)]
struct Client {
    inbound: VecDeque<u8>,
    output: Vec<u8>,
    eof: bool,
    open: bool,
    shut: bool,
    recv_posted: bool,
    send_posted: bool,
}

/// An in-memory backend (as the server's own tests have): clients, a clock, sends that can be
/// held back.
struct Harness {
    server: Server<'static, WsState, Served>,
    clients: BTreeMap<SlotId, Client>,
    now: Now,
    held: bool,
}

impl Harness {
    fn new(limits: WsLimits) -> Harness {
        let app = app(limits);
        let config = config();
        // Tests are short-lived; leaking one small region keeps the harness simple.
        let region: &'static mut [u8] = std::vec![0u8; app.memory(&config).total].leak();
        let now = Now {
            monotonic: Instant(1_000_000),
            unix_secs: 784_111_777,
        };
        Harness {
            server: Server::new(config, app, region, now).unwrap(),
            clients: BTreeMap::new(),
            now,
            held: false,
        }
    }

    fn connect(&mut self) -> SlotId {
        let slot = self
            .server
            .handle(Event::Accepted {
                protocol: ServedId::Http,
                peer: PeerAddr::Local,
            })
            .accepted()
            .expect("a free slot");
        self.clients.insert(
            slot,
            Client {
                open: true,
                ..Client::default()
            },
        );
        self.run();
        slot
    }

    fn send(&mut self, slot: SlotId, bytes: &[u8]) {
        self.clients.get_mut(&slot).unwrap().inbound.extend(bytes);
        self.run();
    }

    fn close(&mut self, slot: SlotId) {
        self.clients.get_mut(&slot).unwrap().eof = true;
        self.run();
    }

    fn is_open(&self, slot: SlotId) -> bool {
        self.clients[&slot].open
    }

    fn is_shut_down(&self, slot: SlotId) -> bool {
        self.clients[&slot].shut
    }

    fn output(&mut self, slot: SlotId) -> Vec<u8> {
        core::mem::take(&mut self.clients.get_mut(&slot).unwrap().output)
    }

    fn advance(&mut self, ms: u64) {
        let mut left = ms;
        // Bounded: 100 ms a step.
        while left > 0 {
            let d = left.min(100);
            left -= d;
            self.now.monotonic = self.now.monotonic.after_ms(d);
            let _ = self.server.handle(Event::Tick(self.now));
            self.run();
        }
    }

    fn run(&mut self) {
        for _ in 0..100_000 {
            let mut progress = false;
            // Bounded: the server hands out a bounded batch of operations (`op_budget`).
            while let Some(op) = self.server.poll_op() {
                progress = true;
                match op {
                    Op::Recv(s) => self.clients.get_mut(&s).unwrap().recv_posted = true,
                    Op::Send(s) => self.clients.get_mut(&s).unwrap().send_posted = true,
                    Op::Shutdown(s) => self.clients.get_mut(&s).unwrap().shut = true,
                    Op::SendDatagram(_) => unreachable!("no datagrams"),
                    Op::Close(s) => {
                        let c = self.clients.get_mut(&s).unwrap();
                        (c.open, c.recv_posted, c.send_posted) = (false, false, false);
                        let _ = self.server.handle(Event::Closed { slot: s });
                    }
                }
            }
            let slots: Vec<SlotId> = self.clients.keys().copied().collect();
            for s in slots {
                let c = self.clients.get_mut(&s).unwrap();
                if !c.open {
                    continue;
                }
                if c.send_posted && !self.held {
                    let mut n = 0;
                    for part in self.server.send_parts(s) {
                        c.output.extend_from_slice(part);
                        n += part.len();
                    }
                    c.send_posted = false;
                    let _ = self.server.handle(Event::Sent { slot: s, n });
                    progress = true;
                }
                let c = self.clients.get_mut(&s).unwrap();
                if c.recv_posted && (!c.inbound.is_empty() || c.eof) {
                    let buf = self.server.recv_buffer(s);
                    let n = c.inbound.len().min(buf.len());
                    for (dst, src) in buf.iter_mut().zip(c.inbound.drain(..n)) {
                        *dst = src;
                    }
                    c.recv_posted = false;
                    let _ = self.server.handle(Event::Received { slot: s, n });
                    progress = true;
                }
            }
            if !progress {
                return;
            }
        }
        panic!("the server did not settle");
    }

    /// A connection upgraded by `GET /ws`: its slot, the 101 checked and taken.
    fn upgraded(&mut self) -> SlotId {
        let c = self.connect();
        self.send(c, UPGRADE);
        let out = std::string::String::from_utf8(self.output(c)).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{out}"
        );
        assert_eq!(self.server.protocol_of(c), Some(ServedId::Ws));
        c
    }
}

const UPGRADE: &[u8] = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A client's frame (RFC 6455 §5.3: masked).
fn frame(fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut out = std::vec![0u8; 14];
    let n = write_header(&mut out, &header).unwrap();
    out.truncate(n);
    let mut body = payload.to_vec();
    apply_mask(&mut body, key, 0);
    out.extend(body);
    out
}

/// A client's Close frame with `code`.
fn close_frame(code: u16) -> Vec<u8> {
    frame(true, Opcode::Close, &code.to_be_bytes())
}

/// The server's frames in `bytes`, messages reassembled: (opcode of the first frame, payload).
fn frames(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut message: Option<(u8, Vec<u8>)> = None;
    let mut at = 0;
    // Bounded: each round takes a frame of at least 2 bytes.
    while at < bytes.len() {
        let (b0, b1) = (bytes[at], bytes[at + 1]);
        assert_eq!(b1 & 0x80, 0, "a server's frames are unmasked");
        let (len, head) = match b1 & 0x7f {
            126 => (
                u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize,
                4,
            ),
            127 => (
                u64::from_be_bytes(bytes[at + 2..at + 10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let payload = bytes[at + head..at + head + len].to_vec();
        at += head + len;
        let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
        if opcode >= 8 {
            out.push((opcode, payload));
            continue;
        }
        let m = message.get_or_insert((opcode, Vec::new()));
        m.1.extend(payload);
        if fin {
            out.push(message.take().unwrap());
        }
    }
    if let Some((opcode, payload)) = message {
        // Unfinished: marked.
        out.push((0x40 | opcode, payload));
    }
    out
}

fn close_payload(code: u16) -> (u8, Vec<u8>) {
    (8, code.to_be_bytes().to_vec())
}

/// RFC 6455 §4.2.2: the 101 carries the accept value and the subprotocol chosen.
#[test]
fn upgrade_answers_101_with_accept_and_subprotocol() {
    let mut h = Harness::new(LIMITS);
    let c = h.connect();
    let request = std::string::String::from_utf8(UPGRADE.to_vec())
        .unwrap()
        .replace(
            "\r\n\r\n",
            "\r\nSec-WebSocket-Protocol: soap, chat\r\nSec-WebSocket-Protocol: chat.v2\r\n\r\n",
        );
    h.send(c, request.as_bytes());
    let out = std::string::String::from_utf8(h.output(c)).unwrap();
    let head = out.split("\r\n").collect::<Vec<_>>();
    assert!(head[0] == "HTTP/1.1 101 Switching Protocols", "{out}");
    for line in [
        "Upgrade: websocket",
        "Connection: upgrade",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "Sec-WebSocket-Protocol: chat.v2",
    ] {
        assert!(head.contains(&line), "{line} in {out}");
    }
    assert_eq!(h.server.protocol_of(c), Some(ServedId::Ws));
}

/// RFC 6455 §4.2.1–§4.2.2 and §10.2: each refusal's status and fields; the connection stays
/// HTTP's.
#[test]
fn handshake_refusals() {
    let text = std::string::String::from_utf8(UPGRADE.to_vec()).unwrap();
    let cases = [
        (
            text.replace("GET /ws", "POST /ws")
                .replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n"),
            "405 Method Not Allowed",
            Some("Allow: GET"),
        ),
        (
            text.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            "426 Upgrade Required",
            Some("Sec-WebSocket-Version: 13"),
        ),
        (
            text.replace(
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Key: short",
            ),
            "400 Bad Request",
            None,
        ),
        (
            text.replace("Upgrade: websocket\r\n", ""),
            "400 Bad Request",
            None,
        ),
        (
            text.replace("Connection: Upgrade", "Connection: keep-alive"),
            "400 Bad Request",
            None,
        ),
        (
            text.replace(
                "\r\n\r\n",
                "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            ),
            "400 Bad Request",
            None,
        ),
        (
            text.replace("GET /ws", "GET /strict")
                .replace("\r\n\r\n", "\r\nOrigin: https://evil.example\r\n\r\n"),
            "403 Forbidden",
            None,
        ),
    ];
    for (request, status, field) in cases {
        let mut h = Harness::new(LIMITS);
        let c = h.connect();
        h.send(c, request.as_bytes());
        let out = std::string::String::from_utf8(h.output(c)).unwrap();
        assert!(
            out.starts_with(&std::format!("HTTP/1.1 {status}\r\n")),
            "{request}\n{out}"
        );
        if let Some(field) = field {
            assert!(out.split("\r\n").any(|l| l == field), "{field} in {out}");
        }
        assert_eq!(h.server.protocol_of(c), Some(ServedId::Http), "{request}");
    }
    let mut h = Harness::new(LIMITS);
    let c = h.connect();
    let good = text
        .replace("GET /ws", "GET /strict")
        .replace("\r\n\r\n", "\r\nOrigin: https://good.example\r\n\r\n");
    h.send(c, good.as_bytes());
    assert!(h.output(c).starts_with(b"HTTP/1.1 101 "));
}

/// What a client sends in the echo test: a text, a binary message, a fragmented text with a
/// ping between its fragments (RFC 6455 §5.4: control frames may be injected), an empty one.
fn echo_script() -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    let mut bytes = Vec::new();
    bytes.extend(frame(true, Opcode::Text, "héllo".as_bytes()));
    let binary: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    bytes.extend(frame(true, Opcode::Binary, &binary));
    bytes.extend(frame(false, Opcode::Text, b"frag"));
    bytes.extend(frame(true, Opcode::Ping, b"are you there"));
    bytes.extend(frame(false, Opcode::Continuation, "ment\u{e9}".as_bytes()));
    bytes.extend(frame(true, Opcode::Continuation, b"ed"));
    bytes.extend(frame(true, Opcode::Binary, b""));
    let want = std::vec![
        (1, "héllo".as_bytes().to_vec()),
        (2, binary),
        (10, b"are you there".to_vec()),
        (1, "fragment\u{e9}ed".as_bytes().to_vec()),
        (2, Vec::new()),
    ];
    (bytes, want)
}

/// RFC 6455 §5.4, §5.5.2, §5.6: echoes of text, binary and fragmented messages, a ping
/// answered with its payload, whatever way the bytes are split.
#[test]
fn echo_split_at_every_position() {
    let (bytes, want) = echo_script();
    for split in 0..=bytes.len() {
        let mut h = Harness::new(LIMITS);
        let c = h.upgraded();
        h.send(c, &bytes[..split]);
        h.send(c, &bytes[split..]);
        let got = frames(&h.output(c));
        // The pong may come before the echo of the fragments that preceded it.
        let mut sorted = got.clone();
        sorted.sort();
        let mut expected = want.clone();
        expected.sort();
        assert_eq!(sorted, expected, "split at {split}");
        assert!(h.is_open(c) && !h.is_shut_down(c));
    }
}

/// A frame larger than the receive buffer arrives in pieces, each echoed as a fragment; the
/// limits are met at `max_frame` and `max_message` exactly.
#[test]
fn limits_at_and_past() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    let at_frame: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
    h.send(c, &frame(true, Opcode::Binary, &at_frame));
    assert_eq!(
        frames(&h.output(c)),
        std::vec![(2, at_frame.clone())],
        "max_frame exactly"
    );
    h.send(c, &frame(false, Opcode::Binary, &at_frame));
    h.send(c, &frame(true, Opcode::Continuation, &at_frame[..1000]));
    let mut whole = at_frame.clone();
    whole.extend_from_slice(&at_frame[..1000]);
    assert_eq!(
        frames(&h.output(c)),
        std::vec![(2, whole)],
        "max_message exactly"
    );
    // One byte past max_message: 1009 from the header of the fragment that passes it.
    h.send(c, &frame(false, Opcode::Binary, &at_frame));
    h.send(c, &frame(true, Opcode::Continuation, &at_frame[..1001]));
    assert_eq!(
        frames(&h.output(c)),
        std::vec![close_payload(1009), (0x42, at_frame.clone())],
        "the first fragment is echoed, then the Close"
    );
    assert!(h.is_shut_down(c), "closed after the Close");
    h.close(c);
    assert!(!h.is_open(c));
    assert_eq!(h.server.state().closed, std::vec![Some(1009)]);
    // One byte past max_frame.
    let c = h.upgraded();
    h.send(c, &frame(true, Opcode::Binary, &[0; 2001]));
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(1009)]);
    assert!(h.is_shut_down(c));
}

/// RFC 6455 §5.1, §7.1.7: an unmasked client frame fails the connection with 1002.
#[test]
fn protocol_violation_closes_with_1002() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.send(c, &[0x81, 0x02, b'h', b'i']);
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(1002)]);
    assert!(h.is_shut_down(c));
    h.close(c);
    assert!(!h.is_open(c));
    assert_eq!(h.server.state().closed, std::vec![Some(1002)]);
}

/// RFC 6455 §8.1: a text message that is not UTF-8 fails the connection with 1007.
#[test]
fn invalid_utf8_closes_with_1007() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.send(c, &frame(true, Opcode::Text, &[b'a', 0xff]));
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(1007)]);
    assert!(h.is_shut_down(c));
}

/// RFC 6455 §5.5.1: the peer's Close is echoed, then the server closes the TCP connection.
#[test]
fn close_handshake_from_the_client() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.send(c, &close_frame(4000));
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(4000)]);
    assert!(
        h.is_shut_down(c),
        "the server closes first (RFC 6455 §7.1.1)"
    );
    h.close(c);
    assert!(!h.is_open(c));
    assert_eq!(h.server.state().closed, std::vec![Some(4000)]);
    // An empty Close is answered with 1000.
    let c = h.upgraded();
    h.send(c, &frame(true, Opcode::Close, b""));
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(1000)]);
}

/// RFC 6455 §7.1.2: a Close of ours waits for the peer's, reading data meanwhile; then the
/// TCP connection is closed. Without an answer, it is closed after `close_ms`.
#[test]
fn close_handshake_from_the_server() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.send(c, &frame(true, Opcode::Text, b"bye"));
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(1000)]);
    assert!(
        h.is_open(c) && !h.is_shut_down(c),
        "waiting for the peer's Close"
    );
    h.send(c, &frame(true, Opcode::Text, b"late"));
    assert_eq!(h.output(c), b"", "no data after our Close");
    h.send(c, &close_frame(1000));
    assert!(h.is_shut_down(c));
    h.close(c);
    assert!(!h.is_open(c));
    assert_eq!(h.server.state().closed, std::vec![Some(1000)]);
    // No answer: closed at close_ms, not before.
    let c = h.upgraded();
    h.send(c, &frame(true, Opcode::Text, b"bye"));
    h.advance(LIMITS.close_ms - 100);
    assert!(h.is_open(c));
    h.advance(200);
    assert!(!h.is_open(c));
}

/// `idle_ms` without input: Close 1001; a connection heard from just before stays.
#[test]
fn idle_timeout_at_and_past() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.advance(LIMITS.idle_ms - 100);
    assert_eq!(h.output(c), b"", "not yet idle");
    h.advance(200);
    assert_eq!(frames(&h.output(c)), std::vec![close_payload(1001)]);
    assert_eq!(h.server.stats().idle_timeouts, 1);
    h.send(c, &close_frame(1001));
    assert!(h.is_shut_down(c));
}

/// `ping_ms`: a ping after that long without input; an answer keeps the connection, silence
/// drops it after as long again.
#[test]
fn ping_interval() {
    let limits = WsLimits {
        ping_ms: Some(1_000),
        ..LIMITS
    };
    let mut h = Harness::new(limits);
    let c = h.upgraded();
    h.advance(900);
    assert_eq!(h.output(c), b"");
    h.advance(200);
    assert_eq!(frames(&h.output(c)), std::vec![(9, Vec::new())]);
    h.send(c, &frame(true, Opcode::Pong, b""));
    h.advance(900);
    assert_eq!(
        h.output(c),
        b"",
        "answered: the next ping is a full interval away"
    );
    h.advance(200);
    assert_eq!(frames(&h.output(c)), std::vec![(9, Vec::new())]);
    // The ping went out at 2.1 s (1 s after the pong); it is 2.2 s.
    h.advance(800);
    assert!(h.is_open(c), "still within the interval");
    h.advance(200);
    assert!(!h.is_open(c), "no answer within another interval");
}

/// A graceful shutdown sends Close 1001 to every WebSocket and waits for the peer's Close.
#[test]
fn graceful_shutdown_sends_1001() {
    let mut h = Harness::new(LIMITS);
    let a = h.upgraded();
    let b = h.upgraded();
    let _ = h.server.handle(Event::Shutdown);
    h.run();
    assert_eq!(frames(&h.output(a)), std::vec![close_payload(1001)]);
    assert_eq!(frames(&h.output(b)), std::vec![close_payload(1001)]);
    h.send(a, &close_frame(1001));
    h.close(a);
    assert!(!h.is_open(a));
    h.advance(LIMITS.close_ms + 100);
    assert!(!h.is_open(b), "no answer: closed after close_ms");
    assert!(h.server.is_idle());
}

/// Backpressure: with the send buffer held full, pings are not dropped, and echoes wait.
#[test]
fn backpressure_keeps_every_pong_and_echo() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.held = true;
    let mut bytes = Vec::new();
    let mut want = Vec::new();
    for i in 0..40u8 {
        let payload = [i; 100];
        bytes.extend(frame(true, Opcode::Binary, &payload));
        bytes.extend(frame(true, Opcode::Ping, &[i]));
        want.push((2, payload.to_vec()));
        want.push((10, std::vec![i]));
    }
    h.send(c, &bytes);
    h.held = false;
    h.run();
    assert_eq!(frames(&h.output(c)), want);
    assert!(h.is_open(c) && !h.is_shut_down(c));
}

/// The peer's TCP end without a closing handshake: the handler is told, with no code.
#[test]
fn peer_gone_without_close() {
    let mut h = Harness::new(LIMITS);
    let c = h.upgraded();
    h.close(c);
    assert!(!h.is_open(c));
    assert_eq!(h.server.state().closed, std::vec![None]);
}
