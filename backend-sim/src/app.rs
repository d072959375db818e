//! The application the simulator serves: the production bench contract
//! ([`zzz_apps::bench`], the very handlers `examples/bench.rs` serves) plus a few routes of the
//! simulator's own, written against the public handler API, that exercise what the bench
//! contract does not: streamed, static, large and bodiless responses; and beside HTTP, two
//! more protocol modules of the core, served by the same server ([`SimModules`]): a raw-TCP
//! line protocol whose server speaks first ([`TcpLines`]) and a UDP pong; and the
//! Redis-protocol store of [`zzz_apps::kv`], sized small ([`KV_CAPACITY`]) so that its limits
//! are met often; a chat room over WebSocket ([`SimRoom`], reached by `GET /sim/ws`) on
//! the hub's topic [`ROOM`], its ring small so that slow subscribers are overtaken; and the
//! MQTT 3.1.1 broker of [`zzz_apps::mqtt`], sized small too ([`MQTT_CAPACITY`]).
//!
//! Everything here is as the oracle describes it in [`crate::workload`]; the oracle does not
//! call these functions, it knows what they answer.

use std::sync::OnceLock;

use zzz_apps::bench::{self, BenchState};
use zzz_apps::kv::Kv;
use zzz_apps::kv::store::Capacity;
use zzz_apps::mqtt::{self, Mqtt};
use zzz_core::http::Status;
use zzz_core::server::{Start, TopicId};
use zzz_core::tcp::TcpHandler;
use zzz_core::websocket::{
    CloseCode, DataKind, MessagePiece, Take, UpgradeOptions, WebSocket, WsCtx, WsHandler, WsLimits,
};
use zzz_core::{
    App, Ctx, Http, PeerAddr, Protocols, Request, Response, Route, Router, StreamCursor, StreamOut,
    StreamStep, Tcp, TcpCtx, Udp,
};

/// The byte at offset `i` of every generated body (streamed, static, large).
pub const fn pattern_byte(i: usize) -> u8 {
    b'a' + ((i * 7 + i / 26) % 26) as u8
}

/// Length of the static asset behind `GET /sim/static`.
pub const STATIC_LEN: usize = 20_000;

const fn make_asset() -> [u8; STATIC_LEN] {
    let mut out = [0u8; STATIC_LEN];
    let mut i = 0;
    while i < STATIC_LEN {
        out[i] = pattern_byte(i);
        i += 1;
    }
    out
}

static ASSET: [u8; STATIC_LEN] = make_asset();

/// `GET /sim/static`: a 20,000-byte static body, sent from where it lies.
fn static_asset(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "application/octet-stream")
        .static_body(&ASSET)
}

/// `GET /sim/big/{n}`: a formatted body of `n` pattern bytes (spills into a large buffer when
/// it outgrows the send buffer; a 500 when it outgrows that too).
fn big(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    let n: u32 = req.param("n").unwrap_or(0);
    let mut body = ctx
        .respond(Status::OK)
        .header("Content-Type", "application/octet-stream")
        .writer();
    let mut chunk = [0u8; 64];
    let mut i = 0usize;
    while i < n as usize {
        let k = (n as usize - i).min(chunk.len());
        for (j, b) in chunk[..k].iter_mut().enumerate() {
            *b = pattern_byte(i + j);
        }
        body.write(&chunk[..k]);
        i += k;
    }
    body.finish()
}

/// Cursor words of the stream producer: bytes produced, bytes in all, bytes per call.
fn numbers(_: &mut BenchState, cursor: &mut StreamCursor, out: &mut StreamOut<'_>) -> StreamStep {
    let [done, total, per_call, _] = cursor.0;
    let n = (total - done)
        .min(per_call.max(1))
        .min(out.remaining() as u64);
    let mut piece = [0u8; 64];
    let mut written = 0u64;
    while written < n {
        let k = ((n - written) as usize).min(piece.len());
        for (j, b) in piece[..k].iter_mut().enumerate() {
            *b = pattern_byte((done + written) as usize + j);
        }
        out.write(&piece[..k]);
        written += k as u64;
    }
    cursor.0[0] = done + n;
    if cursor.0[0] == total {
        StreamStep::Done
    } else {
        StreamStep::More
    }
}

/// `GET /sim/stream/{n}/{per_call}`: `n` pattern bytes streamed, at most `per_call` per call
/// of the producer (chunked for HTTP/1.1, until close for HTTP/1.0).
fn stream(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    let n: u32 = req.param("n").unwrap_or(0);
    let per_call: u32 = req.param("per_call").unwrap_or(1);
    ctx.respond(Status::OK)
        .header("Content-Type", "application/octet-stream")
        .stream(
            numbers,
            StreamCursor([0, n as u64, per_call.max(1) as u64, 0]),
        )
}

/// `GET /sim/empty`: 204 without content.
fn empty(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    ctx.empty(Status::NO_CONTENT)
}

/// `GET /sim/not-modified`: 304 without content.
fn not_modified(ctx: &mut Ctx<BenchState>, _: &Request) -> Response {
    ctx.empty(Status::NOT_MODIFIED)
}

/// What an upgrading client writes first (RFC 9110 §7.8): `GET /sim/upgrade` asking for the
/// line protocol.
pub const UPGRADE_REQUEST: &[u8] =
    b"GET /sim/upgrade HTTP/1.1\r\nHost: sim\r\nUpgrade: lines\r\nConnection: upgrade\r\n\r\n";

/// `GET /sim/upgrade` with `Upgrade: lines`: `101`, and the connection is the line
/// protocol's ([`TcpLines`]), which greets it. Without that `Upgrade`, `426 Upgrade Required`.
fn upgrade(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    if req.header("upgrade") != Some(b"lines") {
        return ctx
            .respond(Status::UPGRADE_REQUIRED)
            .header("Upgrade", "lines")
            .body(b"");
    }
    ctx.switch_protocol(SimModules::id_index(SimProtocol::Tcp));
    ctx.respond(Status::SWITCHING_PROTOCOLS)
        .header("Upgrade", "lines")
        .body(b"")
}

/// The simulator's own routes, mounted beside the bench contract's.
static SIM_ROUTES: &[Route<BenchState>] = &[
    Route::get("/sim/static", static_asset),
    Route::get("/sim/big/{n:u32}", big),
    Route::get("/sim/stream/{n:u32}/{per_call:u32}", stream),
    Route::get("/sim/empty", empty),
    Route::get("/sim/not-modified", not_modified),
    Route::get("/sim/upgrade", upgrade),
    Route::get("/sim/ws", ws),
    Route::get("/sim/mqtt", mqtt_ws),
];

/// `GET /sim/mqtt`: MQTT over WebSocket (subprotocol `mqtt`), to the broker.
fn mqtt_ws(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    mqtt::websocket::upgrade(ctx, req, SimModules::id_index(SimProtocol::Mqtt))
}

/// `GET /sim/ws`: the WebSocket opening handshake (RFC 6455 §4), to the room ([`SimRoom`]).
fn ws(ctx: &mut Ctx<BenchState>, req: &Request) -> Response {
    zzz_core::websocket::upgrade(
        ctx,
        req,
        &UpgradeOptions::to(SimModules::id_index(SimProtocol::Ws)),
    )
}

/// The bench contract's routes followed by the simulator's, built once per process.
pub fn routes() -> &'static [Route<BenchState>] {
    static ALL: OnceLock<&'static [Route<BenchState>]> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<Route<BenchState>> = bench::routes().to_vec();
        all.extend_from_slice(SIM_ROUTES);
        Box::leak(all.into_boxed_slice())
    })
}

zzz_core::protocols! {
    /// The protocols a simulated server serves, numbered in this order in recordings (HTTP 0,
    /// raw TCP 1, UDP 2, key-value 3, WebSocket 4, MQTT 5): a recording of the bench contract
    /// alone (HTTP, numbered 0 too) replays in it unchanged.
    pub struct SimModules<BenchState> {
        conn: SimConn,
        id: SimProtocol,
        /// HTTP/1.1: the bench contract and the simulator's routes.
        http: Http => Http<BenchState>,
        /// The raw-TCP line protocol ([`TcpLines`]).
        tcp: Tcp => Tcp<TcpLines>,
        /// The UDP pong ([`udp_pong`]).
        udp: Udp => Udp<BenchState>,
        /// The Redis-protocol key-value store ([`KV_CAPACITY`], [`KV_IDLE_MS`]).
        kv: Kv => Kv,
        /// The chat room over WebSocket ([`SimRoom`], [`WS_LIMITS`]).
        ws: Ws => WebSocket<SimRoom>,
        /// The MQTT 3.1.1 broker ([`MQTT_CAPACITY`], [`MQTT_CONNECT_MS`]).
        mqtt: Mqtt => Mqtt,
    }
}

/// What the simulated MQTT broker holds at most: small, so that clients meet every limit.
///
/// - 6 client sessions (connected or offline persistent ones): a seventh identifier is
///   answered CONNACK 0x03;
/// - identifiers of 23 bytes at most (the least the broker takes, `[MQTT-3.1.3-5]`): a longer
///   one is answered 0x02;
/// - wills of 40 bytes (topic and message, plus 3): a longer one is answered 0x03;
/// - 12 subscriptions, all clients together, filters of 16 bytes: one more, or a longer
///   filter, is answered SUBACK 0x80;
/// - 3 QoS 1 and 2 messages in flight to a connection (more wait in its inbox);
/// - 4 retained messages of 64 bytes (topic and payload);
/// - 200 bytes of offline queue per persistent session (each message 7 bytes plus topic
///   and payload): a few messages, then drops.
///
/// The inboxes are the configuration's ([`Topics::inbox_bytes`](zzz_core::Topics), 808 to
/// 2,048 bytes, drawn by [`crate::swarm`]): two to five of the longest records, so that a
/// subscriber that does not read loses its oldest messages.
pub const MQTT_CAPACITY: mqtt::Capacity = mqtt::Capacity {
    clients: 6,
    client_id_bytes: 23,
    will_bytes: 40,
    subscriptions: 12,
    topic_bytes: 16,
    inflight: 3,
    retained: 4,
    retained_bytes: 64,
    queue_bytes: 200,
};

/// How long the broker waits for a connection's CONNECT before it closes it.
pub const MQTT_CONNECT_MS: u64 = 2_000;

/// What the simulated key-value store holds at most: few keys and little memory, so that
/// clients fill it (its `OOM` error) and one value at the send buffer's limit fits.
pub const KV_CAPACITY: Capacity = Capacity {
    keys: 12,
    bytes: 24 * 1024,
};

/// The key-value module's idle timeout: a connection with no command under way is closed
/// after this long.
pub const KV_IDLE_MS: u64 = 2_000;

/// The app every simulated server runs (built before `Server::new`, so its allocation is
/// not the server's).
pub fn app() -> App<BenchState, SimModules> {
    App::with_modules(
        BenchState::default(),
        SimModules {
            http: Http::new(Router::new(routes()).expect("the simulator's routes are valid")),
            tcp: Tcp::new(TcpLines::default()).idle_ms(TCP_IDLE_MS),
            udp: Udp::new(udp_pong),
            kv: Kv::new(KV_CAPACITY, 0x5eed_4b56).idle_ms(KV_IDLE_MS),
            ws: WebSocket::new(SimRoom::new()).limits(WS_LIMITS),
            mqtt: Mqtt::new(MQTT_CAPACITY).connect_ms(MQTT_CONNECT_MS),
        },
    )
}

/// What the line protocol's server says first, on every connection.
pub const TCP_GREETING: &[u8] = b"lines ready\n";

/// The line protocol's idle timeout, its own rather than the configuration's keep-alive.
pub const TCP_IDLE_MS: u64 = 1_500;

/// The raw-TCP line protocol, with typed per-connection state: the server greets first
/// ([`TCP_GREETING`]); each `\n`-terminated line comes back upper-cased; `quit` is answered
/// `bye N` (N: the lines echoed on this connection) and closes. A line is consumed only when
/// its answer fits. The module counts the connections it opened and was told were closed, so
/// that the simulator can check that every open has its close.
#[derive(Debug, Default)]
pub struct TcpLines {
    /// Connections opened.
    pub opened: u64,
    /// Connections the server reported closed.
    pub closed: u64,
}

/// One connection's state in [`TcpLines`].
#[derive(Debug)]
pub struct LinesConn {
    /// Lines echoed so far.
    pub echoed: u32,
}

impl TcpHandler<BenchState> for TcpLines {
    type Conn = LinesConn;

    fn open(&mut self, ctx: &mut TcpCtx<'_, BenchState>) -> LinesConn {
        self.opened += 1;
        // The send buffer is empty at open and holds far more than the greeting.
        assert!(
            ctx.write(TCP_GREETING),
            "the greeting fits an empty send buffer"
        );
        LinesConn { echoed: 0 }
    }

    fn input(
        &mut self,
        conn: &mut LinesConn,
        ctx: &mut TcpCtx<'_, BenchState>,
        data: &[u8],
    ) -> usize {
        let mut consumed = 0;
        while let Some(end) = data[consumed..].iter().position(|&b| b == b'\n') {
            let line = &data[consumed..consumed + end];
            if line == b"quit" {
                let mut bye = [0u8; 16];
                let n = bye_line(conn.echoed, &mut bye);
                if !ctx.write(&bye[..n]) {
                    break;
                }
                ctx.close();
                return consumed + end + 1;
            }
            if ctx.room() < line.len() + 1 {
                break;
            }
            for &b in line {
                let _ = ctx.write(&[b.to_ascii_uppercase()]);
            }
            let _ = ctx.write(b"\n");
            conn.echoed += 1;
            consumed += end + 1;
        }
        consumed
    }

    fn closed(&mut self, _: &mut LinesConn, _: &mut BenchState) {
        self.closed += 1;
        assert!(
            self.closed <= self.opened,
            "closed a connection never opened"
        );
    }
}

/// Writes `bye N\n` into `out` (without allocating: it runs inside the server), returning
/// its length.
pub fn bye_line(echoed: u32, out: &mut [u8; 16]) -> usize {
    use std::io::Write;
    let mut cursor = &mut out[..];
    writeln!(cursor, "bye {echoed}").expect("`bye` and a u32 fit in 16 bytes");
    16 - cursor.len()
}

/// The UDP handler: `pong:` followed by the datagram, when it fits in the reply buffer
/// ([`Config::datagram_size`](zzz_core::Config::datagram_size) bytes); no reply otherwise.
pub fn udp_pong(_: &mut BenchState, _: PeerAddr, data: &[u8], reply: &mut [u8]) -> Option<usize> {
    let n = 5 + data.len();
    if n > reply.len() {
        return None;
    }
    reply[..5].copy_from_slice(b"pong:");
    reply[5..n].copy_from_slice(data);
    Some(n)
}

/// The room: the hub's one topic in the simulated server.
pub const ROOM: TopicId = TopicId(0);

/// The longest WebSocket message (and frame is [`WS_MAX_FRAME`]); also the topic's
/// `max_message`, so that every message the module lets through can be published.
pub const WS_MAX_MESSAGE: usize = 400;

/// The longest WebSocket frame payload.
pub const WS_MAX_FRAME: usize = 200;

/// The WebSocket limits of the simulated server: small, so that clients meet them; an idle
/// timeout short enough that quiet subscribers are closed (1001) within a run.
pub const WS_LIMITS: WsLimits = WsLimits {
    max_frame: WS_MAX_FRAME as u64,
    max_message: WS_MAX_MESSAGE as u64,
    idle_ms: 2_000,
    ping_ms: None,
    close_ms: 1_000,
};

/// How many publications and opens [`SimRoom`] logs at most (reserved up front: the handler
/// runs inside the server, which must not allocate).
pub const ROOM_LOG: usize = 4096;

/// What the room's handler did, in the order it did it: the simulator's oracle reads this
/// log to learn the one order of publication, which every subscriber must then see.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RoomEvent {
    /// A connection subscribed (`Start::Next`: it is owed every message published after this
    /// entry of the log).
    Opened {
        /// Its slot.
        slot: u32,
        /// What `subscribe` answered: how many messages it missed (0 from `Start::Next`).
        missed: u64,
    },
    /// A whole text message was published with this sequence number; the tag it began with
    /// (`w{client}.{k}:`, parsed; `None` if it had none) and its length.
    Published {
        /// Its number in the topic.
        seq: u64,
        /// `(client, k)` of its tag.
        tag: Option<(u32, u32)>,
        /// Its length.
        len: usize,
    },
    /// A whole message could not be published (never expected).
    PublishFailed,
}

/// The chat room: every WebSocket connection follows [`ROOM`] from the next message, and each
/// whole text message it sends is published there as it is. A binary message is refused with
/// Close 1003; pieces that arrive after a Close of the server's are ignored. Messages are
/// accumulated in the connection's state, at most [`WS_MAX_MESSAGE`] bytes (the module's
/// `max_message` refuses a longer one before it arrives).
#[derive(Debug)]
pub struct SimRoom {
    /// What the handler did, in order (at most [`ROOM_LOG`] entries; `overflow` past it).
    pub log: Vec<RoomEvent>,
    /// The log was full: later events were not logged.
    pub overflow: bool,
    /// Connections opened.
    pub opened: u64,
    /// Connections the module reported closed.
    pub closed: u64,
}

impl SimRoom {
    /// An empty room, its log reserved.
    pub fn new() -> SimRoom {
        SimRoom {
            log: Vec::with_capacity(ROOM_LOG),
            overflow: false,
            opened: 0,
            closed: 0,
        }
    }

    fn note(&mut self, event: RoomEvent) {
        if self.log.len() < ROOM_LOG {
            self.log.push(event);
        } else {
            self.overflow = true;
        }
    }
}

impl Default for SimRoom {
    fn default() -> SimRoom {
        SimRoom::new()
    }
}

/// One WebSocket connection's state in [`SimRoom`].
#[derive(Debug)]
pub struct RoomConn {
    bytes: [u8; WS_MAX_MESSAGE],
    len: usize,
    /// A binary message was refused: nothing more is taken.
    refused: bool,
}

/// Parses `w{client}.{k}:` at the start of a message.
pub fn parse_tag(data: &[u8]) -> Option<(u32, u32)> {
    let rest = data.strip_prefix(b"w")?;
    let dot = rest.iter().position(|&b| b == b'.')?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let num = |s: &[u8]| -> Option<u32> {
        if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(s.iter().fold(0u32, |n, &d| n * 10 + (d - b'0') as u32))
    };
    if colon < dot {
        return None;
    }
    Some((num(&rest[..dot])?, num(&rest[dot + 1..colon])?))
}

impl WsHandler<BenchState> for SimRoom {
    type Conn = RoomConn;

    fn open(&mut self, ctx: &mut WsCtx<'_, BenchState>) -> RoomConn {
        self.opened += 1;
        match ctx.bus.subscribe(ROOM, Start::Next) {
            Ok(missed) => self.note(RoomEvent::Opened {
                slot: ctx.slot,
                missed,
            }),
            Err(_) => {
                ctx.close(CloseCode::INTERNAL_ERROR);
            }
        }
        RoomConn {
            bytes: [0; WS_MAX_MESSAGE],
            len: 0,
            refused: false,
        }
    }

    fn message(
        &mut self,
        conn: &mut RoomConn,
        ctx: &mut WsCtx<'_, BenchState>,
        piece: MessagePiece<'_>,
    ) -> Take {
        if conn.refused || ctx.is_closing() {
            return Take::Done;
        }
        if piece.kind == DataKind::Binary {
            conn.refused = true;
            ctx.close(CloseCode::UNSUPPORTED_DATA);
            return Take::Done;
        }
        if piece.first {
            conn.len = 0;
        }
        let end = conn.len + piece.data.len();
        let Some(room) = conn.bytes.get_mut(conn.len..end) else {
            conn.refused = true;
            ctx.close(CloseCode::TOO_BIG);
            return Take::Done;
        };
        room.copy_from_slice(piece.data);
        conn.len = end;
        if piece.last {
            let data = &conn.bytes[..end];
            let event = match ctx.bus.publish(ROOM, data) {
                Ok(seq) => RoomEvent::Published {
                    seq,
                    tag: parse_tag(data),
                    len: end,
                },
                Err(_) => RoomEvent::PublishFailed,
            };
            self.note(event);
            conn.len = 0;
        }
        Take::Done
    }

    fn closed(&mut self, _: &mut RoomConn, _: &mut BenchState, _: Option<CloseCode>) {
        self.closed += 1;
        assert!(
            self.closed <= self.opened,
            "closed a WebSocket never opened"
        );
    }
}
