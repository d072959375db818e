//! An MQTT 3.1.1 broker: the `zzz_apps::mqtt` protocol module, served by io_uring (one
//! instance, one thread), with an optional HTTP status page on the same instance.
//!
//! ```text
//! cargo run --release --example mqtt_broker -- [ADDR] [--http ADDR]
//! mosquitto_sub -p 1883 -t 'sensors/#' -v &
//! mosquitto_pub -p 1883 -t sensors/t1 -m 21.5
//! curl http://127.0.0.1:8083/
//! ```
//!
//! - ADDR (MQTT over TCP) defaults to 127.0.0.1:1883.
//! - `--http ADDR` serves `GET /`: the broker's counters as JSON (clients, subscriptions,
//!   retained messages, messages in and out, dropped, refusals, publishers waiting for room).
//!
//! Limits (`zzz_apps::mqtt::Capacity` defaults): 1,024 clients, 4,096 subscriptions (filters
//! up to 128 bytes), 256 retained messages of up to 1 KiB, 16 QoS 1 and 2 messages in flight
//! per connection, 4 KiB of QoS 1 and 2 messages queued per offline persistent session (Clean
//! Session 0): about 5 MiB of tables. A packet must fit the 32 KiB receive buffer; a message
//! is delivered through the receiver's 64 KiB inbox as a record (3 bytes, the topic, the
//! payload) of at most 16 KiB (`topics.max_message`), a longer one is dropped and counted.

use std::net::SocketAddr;

use zzz::core::http::Status;
use zzz::core::{App, Config, Ctx, Http, Request, Response, Route, Router};
use zzz_apps::mqtt::{BrokerStatus, Capacity, Mqtt};

zzz::core::protocols! {
    /// What the broker's instance speaks: MQTT on one listener, HTTP on the other.
    struct Broker<BrokerStatus> {
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

static ROUTES: &[Route<BrokerStatus>] = &[Route::get("/", status)];

fn main() -> std::io::Result<()> {
    let mut addr: SocketAddr = "127.0.0.1:1883".parse().unwrap();
    let mut http: Option<SocketAddr> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http" => {
                let value = args.next().expect("--http ADDR");
                http = Some(value.parse().expect("an address such as 127.0.0.1:8083"));
            }
            other => addr = other.parse().expect("an address such as 127.0.0.1:1883"),
        }
    }
    let mut builder = zzz::uring::Builder::new(config())
        .fallback_to_portable(true)
        .listen_tcp(addr, BrokerProtocol::Mqtt);
    if let Some(http) = http {
        builder = builder.listen_tcp(http, BrokerProtocol::Http);
    }
    builder.run(|_| {
        App::with_modules(
            BrokerStatus::default(),
            Broker {
                http: Http::new(Router::new(ROUTES).expect("the status routes are valid")),
                mqtt: Mqtt::new(Capacity::DEFAULT),
            },
        )
    })
}

/// Connections with room for a 32 KiB packet each way, and an inbox of 64 KiB (four of the
/// longest records): 128 KiB a connection.
fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 1024;
    config.recv_buffer = 32 * 1024;
    config.send_buffer = 32 * 1024;
    config.topics.max_message = 16 * 1024;
    config.topics.inbox_bytes = 64 * 1024;
    config
}
