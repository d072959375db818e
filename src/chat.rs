//! The chat (`examples/chat.rs`): one room, reached three ways, every message delivered to
//! everyone in order.
//!
//! - `GET /`: the page (an askama template) with a chat box over WebSocket and a feed over
//!   server-sent events.
//! - `GET /ws`: upgrades to WebSocket ([`ChatWs`]). Every text message a client sends is
//!   published to the room as it is (the page sends JSON `{"name","text"}`), and every
//!   message of the room is sent to the client as a text frame, the history first.
//! - `GET /events`: the room as server-sent events, the history first; a reconnecting client
//!   resumes after its `Last-Event-ID`.
//! - `POST /messages` with JSON `{"name","text"}`: checked, published, `202` with its number.
//!
//! The room is topic 0 of the server's hub: a ring of [`RING_BYTES`] holding the recent
//! messages, each at most [`MESSAGE_MAX`] bytes; a new client first gets the last [`HISTORY`]
//! of them. A client that falls so far behind that the ring overwrote what it had not read
//! skips to the oldest message kept (the SSE feed says how many it missed). With `--threads N` each instance has
//! its own room: clients of different threads do not see each other's messages.

use askama::Template;
use serde::{Deserialize, Serialize};
use zzz_core::http::Status;
use zzz_core::json::BodyError;
use zzz_core::server::{Protocols, Start, TopicId};
use zzz_core::sse::{EventStream, events};
use zzz_core::websocket::{
    DataKind, MessagePiece, Take, UpgradeOptions, WebSocket, WsCtx, WsHandler, WsLimits, upgrade,
};
use zzz_core::{App, Config, Ctx, Http, Lagging, Request, Response, Route, Router, Topics};

/// The room: the one topic.
pub const ROOM: TopicId = TopicId(0);

/// The longest message, in bytes, over any of the three ways in.
pub const MESSAGE_MAX: usize = 1024;

/// Bytes of the room's ring: how far a client may fall behind before it skips. 1,216 KiB
/// hold 16,384 messages of 64 bytes (12 bytes of header each).
pub const RING_BYTES: u32 = 16_384 * (64 + 12);

/// How many recent messages a new client gets first.
pub const HISTORY: u64 = 100;

/// The longest name and text of a posted message, in characters.
pub const NAME_MAX: usize = 32;
/// See [`NAME_MAX`].
pub const TEXT_MAX: usize = 500;

/// The configuration the example serves with: the defaults, and the room.
pub fn config() -> Config {
    Config {
        topics: Topics {
            count: 1,
            ring_bytes: RING_BYTES,
            max_message: MESSAGE_MAX as u32,
            per_connection: 1,
            lagging: Lagging::Skip,
            inbox_bytes: 0,
        },
        // Room for 900 framed 64-byte messages per send: a subscriber drains a backlog in
        // large sends, so that it keeps up with a publisher whose input arrives in large reads.
        send_buffer: 64 * 1024,
        large_buffer_size: 1024 * 1024,
        ..Config::DEFAULT
    }
}

/// What the handlers share: counts of what came in.
#[derive(Debug, Default)]
pub struct ChatState {
    /// Messages published, by every way in.
    pub posted: u64,
}

/// The page.
#[derive(Template)]
#[template(path = "chat.html")]
struct Page {
    title: &'static str,
    history: u64,
    name_max: usize,
    text_max: usize,
}

/// A message as `POST /messages` takes it and as the page sends it.
#[derive(Deserialize, Serialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Posted {
    /// Who says it: 1 to [`NAME_MAX`] characters.
    pub name: heapless::String<{ NAME_MAX * 4 }>,
    /// What they say: 1 to [`TEXT_MAX`] characters.
    pub text: heapless::String<{ TEXT_MAX * 4 }>,
}

/// What `POST /messages` answers.
#[derive(Serialize, Debug)]
struct Accepted {
    /// The message's number in the room (its SSE `id`).
    seq: u64,
}

fn page(ctx: &mut Ctx<ChatState>, _: &Request) -> Response {
    let page = Page {
        title: "zzz chat",
        history: HISTORY,
        name_max: NAME_MAX,
        text_max: TEXT_MAX,
    };
    ctx.template(Status::OK, &page)
}

fn ws(ctx: &mut Ctx<ChatState>, req: &Request) -> Response {
    upgrade(
        ctx,
        req,
        &UpgradeOptions::to(ChatModules::id_index(ChatProtocol::Ws)),
    )
}

fn feed(ctx: &mut Ctx<ChatState>, req: &Request) -> Response {
    let stream = EventStream {
        start: Start::Last(HISTORY),
        retry_ms: Some(2_000),
        ..EventStream::of(ROOM)
    };
    events(ctx, req, stream)
}

fn post(ctx: &mut Ctx<ChatState>, req: &Request) -> Response {
    // Both strings decoded at their longest, and the keys (a client may escape those too).
    let mut scratch = [0u8; (NAME_MAX + TEXT_MAX) * 4 + "nametext".len()];
    let message: Posted = match zzz_core::json::read_request(req, &mut scratch) {
        Ok(message) => message,
        Err(error @ BodyError::UnsupportedMediaType) => {
            return ctx
                .out
                .problem(error.status(), error.title(), format_args!("{error}"));
        }
        Err(error) => {
            return ctx
                .out
                .problem(error.status(), error.title(), format_args!("{error}"));
        }
    };
    let (name, text) = (message.name.chars().count(), message.text.chars().count());
    if !(1..=NAME_MAX).contains(&name) || !(1..=TEXT_MAX).contains(&text) {
        return ctx.out.problem(
            Status::UNPROCESSABLE_CONTENT,
            "Invalid body",
            format_args!("`name` must be 1 to {NAME_MAX} characters, `text` 1 to {TEXT_MAX}"),
        );
    }
    let mut bytes = [0u8; MESSAGE_MAX];
    let Ok(len) = zzz_core::json::to_slice(&message, &mut bytes) else {
        return ctx.out.problem(
            Status::CONTENT_TOO_LARGE,
            "Message too long",
            format_args!("a message is at most {MESSAGE_MAX} bytes of JSON"),
        );
    };
    match ctx.bus.publish(ROOM, &bytes[..len]) {
        Ok(seq) => {
            ctx.state.posted += 1;
            ctx.out.respond(Status::ACCEPTED).json(&Accepted { seq })
        }
        Err(_) => ctx.out.problem(
            Status::CONTENT_TOO_LARGE,
            "Message too long",
            format_args!("a message is at most {MESSAGE_MAX} bytes"),
        ),
    }
}

/// A WebSocket client of the room: follows it from the last [`HISTORY`] messages, and publishes
/// each text message it sends, whole (a message arrives in pieces; at most [`MESSAGE_MAX`]
/// bytes, which the module's limit enforces with Close 1009). Binary messages are refused
/// with Close 1003.
#[derive(Debug, Default)]
pub struct ChatWs;

/// A WebSocket client's message being received (plain bytes and a length: the state lives
/// in the connection's slot, which owns nothing that needs dropping).
#[derive(Debug)]
pub struct Incoming {
    bytes: [u8; MESSAGE_MAX],
    len: usize,
}

impl WsHandler<ChatState> for ChatWs {
    type Conn = Incoming;

    fn open(&mut self, ctx: &mut WsCtx<'_, ChatState>) -> Incoming {
        // One subscription per connection: `Topics::per_connection` is 1, and this is it.
        if ctx.bus.subscribe(ROOM, Start::Last(HISTORY)).is_err() {
            ctx.close(zzz_core::websocket::CloseCode::INTERNAL_ERROR);
        }
        Incoming {
            bytes: [0; MESSAGE_MAX],
            len: 0,
        }
    }

    fn message(
        &mut self,
        incoming: &mut Incoming,
        ctx: &mut WsCtx<'_, ChatState>,
        piece: MessagePiece<'_>,
    ) -> Take {
        if piece.kind == DataKind::Binary {
            ctx.close(zzz_core::websocket::CloseCode::UNSUPPORTED_DATA);
            return Take::Done;
        }
        if piece.first {
            incoming.len = 0;
        }
        let end = incoming.len + piece.data.len();
        let Some(room) = incoming.bytes.get_mut(incoming.len..end) else {
            ctx.close(zzz_core::websocket::CloseCode::TOO_BIG);
            return Take::Done;
        };
        room.copy_from_slice(piece.data);
        incoming.len = end;
        if piece.last {
            if ctx.bus.publish(ROOM, &incoming.bytes[..end]).is_ok() {
                ctx.state.posted += 1;
            }
            incoming.len = 0;
        }
        Take::Done
    }
}

zzz_core::protocols! {
    /// What the chat speaks: HTTP, upgraded to WebSocket at `/ws`.
    pub struct ChatModules<ChatState> {
        conn: ChatConn,
        id: ChatProtocol,
        /// The page, the feed, the posts, the upgrade.
        http: Http => Http<ChatState>,
        /// The room over WebSocket.
        ws: Ws => WebSocket<ChatWs>,
    }
}

static ROUTES: &[Route<ChatState>] = &[
    Route::get("/", page),
    Route::get("/ws", ws),
    Route::get("/events", feed),
    Route::post("/messages", post),
];

/// The WebSocket limits: frames and messages of at most [`MESSAGE_MAX`] bytes.
pub const WS_LIMITS: WsLimits = WsLimits {
    max_frame: MESSAGE_MAX as u64,
    max_message: MESSAGE_MAX as u64,
    ..WsLimits::DEFAULT
};

/// The chat app, for one instance.
pub fn app() -> App<ChatState, ChatModules> {
    App::with_modules(
        ChatState::default(),
        ChatModules {
            http: Http::new(Router::new(ROUTES).expect("the chat's routes are valid")),
            ws: WebSocket::new(ChatWs).limits(WS_LIMITS),
        },
    )
}
