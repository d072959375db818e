//! Load generator for the MQTT bench (ci/bench/mqtt.py).
//!
//! ```text
//! mqtt-load ADDR --subscribers N --messages M --size BYTES --qos 0|1 [--quiet-ms 2000]
//! ```
//!
//! Against an MQTT 3.1.1 broker at ADDR: N subscribers (clean sessions) subscribe to one topic
//! at the given QoS and the generator waits until every SUBACK is in; then one publisher sends M
//! messages of BYTES bytes to that topic at that QoS as fast as the broker takes them (at QoS 1
//! rumqttc keeps at most 100 unacknowledged, its default). Each message starts with its
//! sequence number (10 digits), padded with `.`; every subscriber checks the numbers only go up
//! (MQTT 3.1.1 section 4.6: one publisher's messages on one topic arrive in order) and counts
//! what it got. A subscriber stops at the last message, or after `--quiet-ms` without one (what
//! it lacks is lost: a broker may drop QoS 0 messages for a slow reader).
//!
//! Prints one line of JSON: delivered (to all subscribers), expected (N x M), order
//! violations, elapsed seconds from the first publish to the last message any subscriber got.
//! Runs on one thread (a current-thread runtime); the caller pins it.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::sync::Notify;
use tokio::time::timeout;

const TOPIC: &str = "bench/load";
/// Digits of the sequence number at the start of each message.
const SEQ_LEN: usize = 10;
/// Connecting and subscribing get this long, all subscribers together.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Publishing gets this long at most: a bound on a hang.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

struct Args {
    host: String,
    port: u16,
    subscribers: usize,
    messages: u64,
    size: usize,
    qos: QoS,
    quiet: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let addr = argv
        .next()
        .ok_or("usage: mqtt-load ADDR --subscribers N --messages M --size BYTES --qos 0|1")?;
    let (host, port) = addr.rsplit_once(':').ok_or("ADDR is HOST:PORT")?;
    let mut args = Args {
        host: host.to_string(),
        port: port.parse().map_err(|_| "ADDR's port is not a number")?,
        subscribers: 1,
        messages: 10_000,
        size: 64,
        qos: QoS::AtMostOnce,
        quiet: Duration::from_millis(2000),
    };
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or(format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag} {value}: not a whole number"))?;
        match flag.as_str() {
            "--subscribers" => args.subscribers = number as usize,
            "--messages" => args.messages = number,
            "--size" => args.size = number as usize,
            "--qos" => {
                args.qos = match number {
                    0 => QoS::AtMostOnce,
                    1 => QoS::AtLeastOnce,
                    2 => QoS::ExactlyOnce,
                    _ => return Err("--qos is 0, 1 or 2".into()),
                }
            }
            "--quiet-ms" => args.quiet = Duration::from_millis(number),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.size < SEQ_LEN || args.subscribers == 0 || args.messages == 0 {
        return Err(format!(
            "--size must be at least {SEQ_LEN}; --subscribers and --messages positive"
        ));
    }
    Ok(args)
}

fn options(args: &Args, id: String) -> MqttOptions {
    let mut options = MqttOptions::new(id, args.host.clone(), args.port);
    options.set_keep_alive(Duration::from_secs(60));
    options.set_clean_session(true);
    options.set_max_packet_size(args.size + 1024, args.size + 1024);
    options
}

/// What every subscriber adds to.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    violations: AtomicU64,
    subscribed: AtomicUsize,
    /// Set when the publisher starts: from then on a subscriber's quiet bound applies.
    started: AtomicBool,
}

/// One subscriber: connect, subscribe, then count messages until the last or a quiet spell.
/// Returns when it last received a message.
async fn subscriber(
    mut events: EventLoop,
    client: AsyncClient,
    args: Arc<Args>,
    tally: Arc<Tally>,
    ready: Arc<Notify>,
) -> Option<Instant> {
    let mut next = 0u64;
    let mut last = None;
    let mut got = 0u64;
    loop {
        // Before the publisher starts, the setup bound applies (a wait that began then ends
        // with the first message, which comes right after the start).
        let started = tally.started.load(Ordering::Relaxed);
        let limit = if started { args.quiet } else { SETUP_TIMEOUT };
        match timeout(limit, events.poll()).await {
            Err(_) => break, // quiet: the rest is lost
            Ok(Err(e)) => {
                eprintln!("mqtt-load: a subscriber's connection failed: {e}");
                break;
            }
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                client
                    .subscribe(TOPIC, args.qos)
                    .await
                    .expect("queue SUBSCRIBE");
            }
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => {
                tally.subscribed.fetch_add(1, Ordering::Relaxed);
                ready.notify_one();
            }
            Ok(Ok(Event::Incoming(Packet::Publish(publish)))) => {
                let seq: u64 = std::str::from_utf8(&publish.payload[..SEQ_LEN])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                if seq < next || seq == u64::MAX {
                    tally.violations.fetch_add(1, Ordering::Relaxed);
                } else {
                    next = seq + 1;
                }
                got += 1;
                last = Some(Instant::now());
                if got == args.messages {
                    break;
                }
            }
            Ok(Ok(_)) => {}
        }
    }
    tally.delivered.fetch_add(got, Ordering::Relaxed);
    last
}

/// The publisher: sends every message, then disconnects once the broker has acknowledged the
/// last (QoS 1: a message not yet acknowledged is not the broker's yet) or the event loop has
/// written it (QoS 0).
async fn publisher(args: Arc<Args>, id: String) -> Result<(), String> {
    let (client, mut events) = AsyncClient::new(options(&args, id), 1024);
    let closer = client.clone();
    let at_least_once = args.qos != QoS::AtMostOnce;
    let sender = {
        let args = args.clone();
        async move {
            let mut payload = vec![b'.'; args.size];
            for seq in 0..args.messages {
                payload[..SEQ_LEN].copy_from_slice(format!("{seq:0SEQ_LEN$}").as_bytes());
                client
                    .publish(TOPIC, args.qos, false, payload.clone())
                    .await
                    .map_err(|e| format!("queue PUBLISH: {e}"))?;
            }
            if at_least_once {
                return Ok(());
            }
            client
                .disconnect()
                .await
                .map_err(|e| format!("queue DISCONNECT: {e}"))
        }
    };
    let driver = async move {
        let mut acknowledged = 0u64;
        loop {
            match events.poll().await {
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return Ok(()),
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    acknowledged += 1;
                    if acknowledged == args.messages {
                        closer
                            .disconnect()
                            .await
                            .map_err(|e| format!("queue DISCONNECT: {e}"))?;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(format!("the publisher's connection failed: {e}")),
            }
        }
    };
    let (sent, driven) = tokio::join!(sender, driver);
    sent.and(driven)
}

async fn run(args: Args) -> Result<String, String> {
    let args = Arc::new(args);
    let tally = Arc::new(Tally::default());
    let ready = Arc::new(Notify::new());
    let run_id = std::process::id();
    let mut subscribers = Vec::new();
    for i in 0..args.subscribers {
        let (client, events) =
            AsyncClient::new(options(&args, format!("load-{run_id}-sub-{i}")), 16);
        subscribers.push(tokio::spawn(subscriber(
            events,
            client,
            args.clone(),
            tally.clone(),
            ready.clone(),
        )));
    }
    let setup = async {
        while tally.subscribed.load(Ordering::Relaxed) < args.subscribers {
            ready.notified().await;
        }
    };
    timeout(SETUP_TIMEOUT, setup).await.map_err(|_| {
        format!(
            "{} of {} subscribers subscribed within {SETUP_TIMEOUT:?}",
            tally.subscribed.load(Ordering::Relaxed),
            args.subscribers
        )
    })?;
    let began = Instant::now();
    tally.started.store(true, Ordering::Relaxed);
    timeout(
        RUN_TIMEOUT,
        publisher(args.clone(), format!("load-{run_id}-pub")),
    )
    .await
    .map_err(|_| format!("the publisher did not finish within {RUN_TIMEOUT:?}"))??;
    let mut last = began;
    for subscriber in subscribers {
        if let Some(at) = subscriber
            .await
            .map_err(|e| format!("a subscriber panicked: {e}"))?
        {
            last = last.max(at);
        }
    }
    Ok(format!(
        "{{\"delivered\": {}, \"expected\": {}, \"order_violations\": {}, \"elapsed_s\": {:.4}}}",
        tally.delivered.load(Ordering::Relaxed),
        args.subscribers as u64 * args.messages,
        tally.violations.load(Ordering::Relaxed),
        (last - began).as_secs_f64()
    ))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("mqtt-load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mqtt-load: {e}");
            ExitCode::FAILURE
        }
    }
}
