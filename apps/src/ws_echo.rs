//! A WebSocket echo (`examples/ws_echo.rs`, `tests/websocket_clients.rs`): `GET /` serves a
//! tiny page whose script talks to `GET /ws`, which upgrades to [`Echo`]: every message comes
//! back as it was sent (text as text, binary as binary, fragments as fragments).

use zzz_core::http::Status;
use zzz_core::server::Protocols;
use zzz_core::websocket::{
    MessagePiece, SendError, Take, UpgradeOptions, WebSocket, WsCtx, WsHandler, upgrade,
};
use zzz_core::{App, Ctx, Http, Request, Response, Route, Router};

/// The page at `/`: a form that sends a line and shows the echo.
pub const PAGE: &str = "<!doctype html><meta charset=utf-8><title>zzz echo</title>\
<input id=m value=hello><button onclick=\"s.send(m.value)\">send</button><pre id=o></pre>\
<script>const s=new WebSocket(`ws://${location.host}/ws`);\
s.onmessage=e=>o.textContent+=e.data+'\\n';</script>\n";

/// Echoes each piece of a message as a fragment of the same message, as soon as it arrives;
/// waits for room when the send buffer is full.
#[derive(Debug, Default)]
pub struct Echo;

impl<S> WsHandler<S> for Echo {
    type Conn = ();

    fn open(&mut self, _: &mut WsCtx<'_, S>) {}

    fn message(&mut self, _: &mut (), ctx: &mut WsCtx<'_, S>, piece: MessagePiece<'_>) -> Take {
        match ctx.send_piece(piece.kind, piece.data, piece.first, piece.last) {
            Ok(()) | Err(SendError::Closing) => Take::Done,
            Err(SendError::Full) => Take::Later,
        }
    }
}

zzz_core::protocols! {
    /// What the echo server speaks: HTTP, upgraded to WebSocket at `/ws`.
    pub struct EchoModules<()> {
        conn: EchoConn,
        id: EchoProtocol,
        /// The page and the upgrade.
        http: Http => Http<()>,
        /// The echo.
        ws: Ws => WebSocket<Echo>,
    }
}

fn page(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.html(Status::OK, PAGE)
}

fn ws(ctx: &mut Ctx<()>, req: &Request) -> Response {
    upgrade(
        ctx,
        req,
        &UpgradeOptions::to(EchoModules::id_index(EchoProtocol::Ws)),
    )
}

static ROUTES: &[Route<()>] = &[Route::get("/", page), Route::get("/ws", ws)];

/// The app: HTTP on the listener, the echo after an upgrade, with the default limits.
pub fn app() -> App<(), EchoModules> {
    App::with_modules(
        (),
        EchoModules {
            http: Http::new(Router::new(ROUTES).expect("the echo's routes are valid")),
            ws: WebSocket::new(Echo),
        },
    )
}
