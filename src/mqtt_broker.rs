//! The MQTT broker's instance, as `examples/mqtt_broker.rs` serves it and the tests start it:
//! the protocol set ([`Broker`]: the broker, and HTTP for the status page and the upgrade to
//! MQTT over WebSocket), its routes and its configuration.

use zzz_apps::mqtt::{BrokerStatus, Capacity, Mqtt};
use zzz_core::http::Status;
use zzz_core::{App, Config, Ctx, Http, Protocols, Request, Response, Route, Router};

zzz_core::protocols! {
    /// What the broker's instance speaks: MQTT on its listener, HTTP on the others (the
    /// status page, and MQTT over WebSocket after an upgrade).
    pub struct Broker<BrokerStatus> {
        conn: BrokerConn,
        id: BrokerProtocol,
        /// The status page.
        http: Http => Http<BrokerStatus>,
        /// The broker.
        mqtt: Mqtt => Mqtt,
    }
}

/// `GET /`: the counters, as JSON.
fn status(ctx: &mut Ctx<BrokerStatus>, _: &Request) -> Response {
    let s = *ctx.state;
    ctx.respond(Status::OK)
        .header("content-type", "application/json")
        .fmt(format_args!(
            "{{\"clients\":{},\"subscriptions\":{},\"retained\":{},\"messages_in\":{},\
             \"messages_out\":{},\"dropped\":{},\"retained_dropped\":{},\
             \"clients_refused\":{},\"subscriptions_refused\":{},\"takeovers\":{},\
             \"stalled\":{},\"stalls\":{}}}\n",
            s.clients,
            s.subscriptions,
            s.retained,
            s.messages_in,
            s.messages_out,
            s.dropped,
            s.retained_dropped,
            s.clients_refused,
            s.subscriptions_refused,
            s.takeovers,
            s.stalled,
            s.stalls
        ))
}

/// `GET /` and `GET /mqtt` with `Upgrade: websocket`: MQTT over WebSocket (subprotocol
/// `mqtt`); `GET /` without it: the status.
fn root(ctx: &mut Ctx<BrokerStatus>, req: &Request) -> Response {
    if req.http().header("upgrade").is_some() {
        return mqtt_ws(ctx, req);
    }
    status(ctx, req)
}

/// `GET /mqtt`: the WebSocket handshake, the connection then going to the broker.
fn mqtt_ws(ctx: &mut Ctx<BrokerStatus>, req: &Request) -> Response {
    let broker = Broker::id_index(BrokerProtocol::Mqtt);
    zzz_apps::mqtt::websocket::upgrade(ctx, req, broker)
}

/// The HTTP routes: the status page and the WebSocket upgrade.
pub static ROUTES: &[Route<BrokerStatus>] = &[Route::get("/", root), Route::get("/mqtt", mqtt_ws)];

/// Connections with room for a 32 KiB packet each way, and an inbox of 64 KiB (four of the
/// longest records): 128 KiB a connection.
pub fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 1024;
    config.recv_buffer = 32 * 1024;
    config.send_buffer = 32 * 1024;
    config.topics.max_message = 16 * 1024;
    config.topics.inbox_bytes = 64 * 1024;
    config
}

/// The instance: the status routes and a broker of the default capacity.
pub fn app() -> App<BrokerStatus, Broker> {
    App::with_modules(
        BrokerStatus::default(),
        Broker {
            http: Http::new(Router::new(ROUTES).expect("the status routes are valid")),
            mqtt: Mqtt::new(Capacity::DEFAULT),
        },
    )
}
