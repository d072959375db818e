//! An MQTT 3.1.1 broker: the `zzz_apps::mqtt` protocol module, served by io_uring (one
//! instance, one thread), with an optional HTTP status page on the same instance.
//!
//! ```text
//! cargo run --release --example mqtt_broker -- [ADDR] [--http ADDR] [--ws ADDR]
//! mosquitto_sub -p 1883 -t 'sensors/#' -v &
//! mosquitto_pub -p 1883 -t sensors/t1 -m 21.5
//! curl http://127.0.0.1:8083/
//! ```
//!
//! - ADDR (MQTT over TCP) defaults to 127.0.0.1:1883.
//! - `--http ADDR` serves `GET /`: the broker's counters as JSON (clients, subscriptions,
//!   retained messages, messages in and out, dropped, refusals, publishers waiting for room).
//! - `--ws ADDR` serves MQTT over WebSocket (MQTT 3.1.1 §6, subprotocol `mqtt`): an HTTP
//!   listener whose `GET /mqtt` (or `GET /` with `Upgrade`) upgrades the connection to the
//!   broker, the same broker and tables as the TCP listener's; its `GET /` without `Upgrade`
//!   is the status page too. Several protocols on one instance: MQTT, HTTP, WebSocket.
//!
//! Limits (`zzz_apps::mqtt::Capacity` defaults): 1,024 clients, 4,096 subscriptions (filters
//! up to 128 bytes), 256 retained messages of up to 1 KiB, 16 QoS 1 and 2 messages in flight
//! per connection, a 4 KiB store per persistent session (Clean Session 0: copies of what is in
//! flight, QoS 1 and 2 messages kept while it is away): about 5 MiB of tables. A packet must fit the 32 KiB receive buffer; a message
//! is delivered through the receiver's 64 KiB inbox as a record (3 bytes, the topic, the
//! payload) of at most 16 KiB (`topics.max_message`), a longer one is dropped and counted.

use std::net::SocketAddr;

use zzz::mqtt_broker::{BrokerProtocol, app, config};

fn main() -> std::io::Result<()> {
    let mut addr: SocketAddr = "127.0.0.1:1883".parse().unwrap();
    let mut http: Option<SocketAddr> = None;
    let mut ws: Option<SocketAddr> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http" => {
                let value = args.next().expect("--http ADDR");
                http = Some(value.parse().expect("an address such as 127.0.0.1:8083"));
            }
            "--ws" => {
                let value = args.next().expect("--ws ADDR");
                ws = Some(value.parse().expect("an address such as 127.0.0.1:8080"));
            }
            other => addr = other.parse().expect("an address such as 127.0.0.1:1883"),
        }
    }
    let mut builder = zzz::uring::Builder::new(config())
        .fallback_to_portable(true)
        .listen_tcp(addr, BrokerProtocol::Mqtt);
    // Both are the HTTP module: the status page, and the upgrade to MQTT over WebSocket.
    for addr in [http, ws].into_iter().flatten() {
        builder = builder.listen_tcp(addr, BrokerProtocol::Http);
    }
    builder.run(|_| app())
}
