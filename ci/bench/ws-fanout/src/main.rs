//! Load generator for the WebSocket fan-out bench (ci/bench/ws-fanout.sh).
//!
//! ```text
//! ws-fanout ADDR --subscribers N --messages M --size BYTES [--publishers P]
//!           [--quiet-ms 2000] [--settle-ms 200] [--flush-every 64]
//! ```
//!
//! Against a chat room at `ws://ADDR/ws` (every text message any client sends goes to every
//! connected client, the sender included, in the order the server received it): opens N
//! subscriber connections that only read, then P publisher connections, waits `--settle-ms` so
//! that the server has surely joined every one to the room, then each publisher sends M text
//! messages of BYTES bytes as fast as the server takes them (pipelined: frames are buffered and
//! written every `--flush-every` messages, nobody waits for an echo). Publishers read their own
//! copies too (and must, or a server that blocks on a full socket would stall them), and are
//! counted apart from the subscribers.
//!
//! Every message starts with `r<run:06>p<publisher:04>s<sequence:010>` and is padded with `.`
//! to BYTES. The run number is this invocation's own: a message of another run (a server that
//! keeps a history sends its recent messages to a new client first) is counted as `foreign`
//! and otherwise ignored.
//! so each reader checks, per publisher, that sequence numbers only go up: a number below the
//! expected one is an order violation, one above it a gap (messages the server skipped for a
//! lagging reader, or lost). A reader stops when it has seen every publisher's last message, or
//! after `--quiet-ms` without any message (then what it lacks is reported as lost). Readers that
//! got everything also fold the (publisher, sequence) pairs they saw into a digest: all of them
//! must have seen the same interleaving, which checks "in the order the server received them"
//! across publishers.
//!
//! Prints one line of JSON. Runs on one thread (a current-thread runtime); the caller pins it.
//! Times: `elapsed_s` from the first publisher write to the last message any reader got;
//! `first_latency_ms` from the first message's write to the moment the last subscriber had it;
//! `last_latency_ms` the same for the last write (how far behind the publishers the room ran).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `p` + 4 digits + `s` + 10 digits: the smallest message.
const HEADER_LEN: usize = 23;
/// Bounds of what the header can spell.
const MAX_PUBLISHERS: u32 = 9_999;
const MAX_MESSAGES: u64 = 9_999_999_999;
/// Each connect (TCP and the upgrade) gets this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Closing handshakes at the end get this long, all together.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

struct Args {
    addr: SocketAddr,
    subscribers: u32,
    publishers: u32,
    messages: u64,
    size: usize,
    quiet: Duration,
    settle: Duration,
    flush_every: u64,
}

/// What one reader saw.
struct Tally {
    received: u64,
    /// Messages of other runs (a server's history), ignored.
    foreign: u64,
    /// Sequence numbers that went backwards or repeated.
    order_violations: u64,
    /// Messages not in the `p0000s0000000000...` form, or from an unknown publisher.
    malformed: u64,
    /// Messages missing between two that arrived (skipped by the server, or lost).
    gaps: u64,
    /// Every publisher's last message seen.
    complete: bool,
    /// FNV-1a over the (publisher, sequence) pairs in arrival order.
    digest: u64,
    /// When publisher 0's message 0 arrived, and when the last message did.
    first_at: Option<Instant>,
    last_at: Option<Instant>,
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("ws-fanout: {e}");
        eprintln!(
            "usage: ws-fanout ADDR --subscribers N --messages M --size BYTES [--publishers P] \
             [--quiet-ms MS] [--settle-ms MS] [--flush-every K]"
        );
        std::process::exit(2)
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build tokio runtime");
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("ws-fanout: {e}");
        std::process::exit(1);
    }
}

fn parse_args() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let addr = argv
        .next()
        .ok_or("no ADDR")?
        .parse()
        .map_err(|_| "ADDR must be ip:port")?;
    let mut args = Args {
        addr,
        subscribers: 0,
        publishers: 1,
        messages: 0,
        size: 0,
        quiet: Duration::from_millis(2000),
        settle: Duration::from_millis(200),
        flush_every: 64,
    };
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or(format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a whole number: {value}"))?;
        match flag.as_str() {
            "--subscribers" => {
                args.subscribers = number.try_into().map_err(|_| "too many subscribers")?
            }
            "--publishers" => {
                args.publishers = number.try_into().map_err(|_| "too many publishers")?
            }
            "--messages" => args.messages = number,
            "--size" => args.size = number.try_into().map_err(|_| "size too large")?,
            "--quiet-ms" => args.quiet = Duration::from_millis(number),
            "--settle-ms" => args.settle = Duration::from_millis(number),
            "--flush-every" => args.flush_every = number,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.subscribers == 0 || args.messages == 0 || args.flush_every == 0 {
        return Err("--subscribers, --messages and --flush-every must be positive".into());
    }
    if args.publishers == 0 || args.publishers > MAX_PUBLISHERS || args.messages > MAX_MESSAGES {
        return Err(format!(
            "1..={MAX_PUBLISHERS} publishers, at most {MAX_MESSAGES} messages"
        ));
    }
    if args.size < HEADER_LEN {
        return Err(format!(
            "--size must be at least {HEADER_LEN} (the sequence header)"
        ));
    }
    Ok(args)
}

async fn run(args: Args) -> Result<(), String> {
    let url = format!("ws://{}/ws", args.addr);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let run_id = (std::process::id() ^ nanos) % 1_000_000;
    // Readers wait for this before they start their quiet clock: connecting many clients may
    // take longer than the quiet timeout.
    let (go_tx, go_rx) = watch::channel(false);

    let mut subscribers = Vec::with_capacity(args.subscribers as usize);
    let mut subscriber_conns = Vec::with_capacity(args.subscribers as usize);
    for i in 0..args.subscribers {
        let ws = connect(&url)
            .await
            .map_err(|e| format!("subscriber {i}: {e}"))?;
        let (sink, stream) = ws.split();
        subscriber_conns.push(sink);
        subscribers.push(tokio::spawn(read(
            stream,
            go_rx.clone(),
            run_id,
            args.publishers,
            args.messages,
            args.quiet,
        )));
    }
    let mut publisher_sinks = Vec::with_capacity(args.publishers as usize);
    let mut publisher_readers = Vec::with_capacity(args.publishers as usize);
    for i in 0..args.publishers {
        let ws = connect(&url)
            .await
            .map_err(|e| format!("publisher {i}: {e}"))?;
        let (sink, stream) = ws.split();
        publisher_sinks.push(sink);
        publisher_readers.push(tokio::spawn(read(
            stream,
            go_rx.clone(),
            run_id,
            args.publishers,
            args.messages,
            args.quiet,
        )));
    }
    // A server may join a connection to the room a little after its 101 response went out.
    tokio::time::sleep(args.settle).await;

    let started = Instant::now();
    go_tx.send_replace(true);
    let mut sends = Vec::with_capacity(publisher_sinks.len());
    for (id, sink) in publisher_sinks.into_iter().enumerate() {
        sends.push(tokio::spawn(publish(
            sink,
            run_id,
            id as u32,
            args.messages,
            args.size,
            args.flush_every,
        )));
    }
    let mut sent = Vec::with_capacity(sends.len());
    for s in sends {
        sent.push(s.await.map_err(|e| e.to_string())?);
    }
    let mut tallies = Vec::with_capacity(subscribers.len());
    for s in subscribers {
        tallies.push(s.await.map_err(|e| e.to_string())?);
    }
    let mut own = Vec::with_capacity(publisher_readers.len());
    for r in publisher_readers {
        own.push(r.await.map_err(|e| e.to_string())?);
    }

    // Close politely, so that both servers pay for a normal close, within a bound.
    let closing = async {
        for mut sink in subscriber_conns {
            let _ = sink.close().await;
        }
        for s in sent.iter_mut() {
            let _ = s.sink.close().await;
        }
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, closing).await;

    let write_error = sent.iter().find_map(|s| s.error.clone());
    // The generator's own CPU time: close to `elapsed_s`, it says the client set the pace.
    println!(
        "{}",
        report(
            &args,
            started,
            &sent,
            &tallies,
            &own,
            write_error,
            own_cpu_seconds()
        )
    );
    Ok(())
}

async fn connect(url: &str) -> Result<Ws, String> {
    // Nagle off: the publisher batches its own writes, and a reader's close should not wait.
    let connecting = tokio_tungstenite::connect_async_with_config(url, None, true);
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no upgrade within {CONNECT_TIMEOUT:?}")),
    }
}

/// What a publisher did.
struct Sent {
    sink: SplitSink<Ws, Message>,
    /// After message 0 was flushed, and after the last one was.
    first_at: Instant,
    last_at: Instant,
    error: Option<String>,
}

async fn publish(
    mut sink: SplitSink<Ws, Message>,
    run: u32,
    id: u32,
    messages: u64,
    size: usize,
    flush_every: u64,
) -> Sent {
    let mut template = String::with_capacity(size);
    template.push_str(&header(run, id, 0));
    template.extend(std::iter::repeat_n('.', size - HEADER_LEN));
    let mut first_at = Instant::now();
    let mut error = None;
    for seq in 0..messages {
        // One allocation per message: the payload the library frames and masks.
        let mut text = template.clone();
        text.replace_range(..HEADER_LEN, &header(run, id, seq));
        let result = sink.feed(Message::Text(Utf8Bytes::from(text))).await;
        // The first message goes out alone, so that its latency is the server's, not a batch's.
        let result = match result {
            Ok(()) if seq == 0 || (seq + 1) % flush_every == 0 => sink.flush().await,
            other => other,
        };
        if let Err(e) = result {
            error = Some(format!("publisher {id} at message {seq}: {e}"));
            break;
        }
        if seq == 0 {
            first_at = Instant::now();
        }
    }
    if error.is_none()
        && let Err(e) = sink.flush().await
    {
        error = Some(format!("publisher {id} at the last flush: {e}"));
    }
    Sent {
        sink,
        first_at,
        last_at: Instant::now(),
        error,
    }
}

fn header(run: u32, publisher: u32, seq: u64) -> String {
    format!("r{run:06}p{publisher:04}s{seq:010}")
}

/// Parses the header: (run, publisher, sequence).
fn parse_header(text: &str) -> Option<(u32, u32, u64)> {
    let b = text.as_bytes();
    if b.len() < HEADER_LEN || b[0] != b'r' || b[7] != b'p' || b[12] != b's' {
        return None;
    }
    Some((
        text[1..7].parse().ok()?,
        text[8..12].parse().ok()?,
        text[13..HEADER_LEN].parse().ok()?,
    ))
}

async fn read<S>(
    mut stream: S,
    mut go: watch::Receiver<bool>,
    run: u32,
    publishers: u32,
    messages: u64,
    quiet: Duration,
) -> Tally
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    let mut tally = Tally {
        received: 0,
        foreign: 0,
        order_violations: 0,
        malformed: 0,
        gaps: 0,
        complete: false,
        digest: 0xcbf2_9ce4_8422_2325,
        first_at: None,
        last_at: None,
    };
    // Next expected sequence number per publisher; a publisher is done at `messages`.
    let mut next = vec![0u64; publishers as usize];
    let mut done_publishers = 0u32;
    if go.wait_for(|&g| g).await.is_err() {
        return tally;
    }
    while done_publishers < publishers {
        let text = match tokio::time::timeout(quiet, stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue, // pings are answered by the library
            Ok(Some(Err(_)) | None) | Err(_) => break,
        };
        let Some((r, p, seq)) = parse_header(&text) else {
            tally.received += 1;
            tally.malformed += 1;
            continue;
        };
        if r != run {
            tally.foreign += 1;
            continue;
        }
        tally.received += 1;
        tally.last_at = Some(Instant::now());
        if p >= publishers || seq >= messages {
            tally.malformed += 1;
            continue;
        }
        if p == 0 && seq == 0 {
            tally.first_at = tally.last_at;
        }
        tally.digest = (tally.digest ^ (u64::from(p) << 40 | seq)).wrapping_mul(0x0100_0000_01b3);
        let expected = &mut next[p as usize];
        if seq < *expected {
            tally.order_violations += 1;
            continue;
        }
        tally.gaps += seq - *expected;
        *expected = seq + 1;
        if *expected == messages {
            done_publishers += 1;
        }
    }
    tally.complete = done_publishers == publishers;
    tally
}

/// utime + stime of this process from /proc/self/stat, in seconds (None off Linux).
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses: fields are counted after its `)`.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ, the unit of these fields, is 100 on every Linux architecture (times(2)).
    Some((utime + stime) as f64 / 100.0)
}

fn report(
    args: &Args,
    started: Instant,
    sent: &[Sent],
    subs: &[Tally],
    own: &[Tally],
    error: Option<String>,
    client_cpu: Option<f64>,
) -> String {
    let per_reader = u64::from(args.publishers) * args.messages;
    let expected = u64::from(args.subscribers) * per_reader;
    let sum = |ts: &[Tally], f: fn(&Tally) -> u64| ts.iter().map(f).sum::<u64>();
    let delivered = sum(subs, |t| t.received);
    let latest = |ts: &[Tally], f: fn(&Tally) -> Option<Instant>| ts.iter().filter_map(f).max();
    let last_any = latest(subs, |t| t.last_at).max(latest(own, |t| t.last_at));
    let elapsed = last_any.map_or(0.0, |t| t.duration_since(started).as_secs_f64());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    // Latencies only when every subscriber got the message in question.
    let first_latency = (subs.iter().all(|t| t.first_at.is_some()))
        .then(|| latest(subs, |t| t.first_at))
        .flatten()
        .zip(sent.iter().map(|s| s.first_at).min())
        .map(|(got, wrote)| ms(got.saturating_duration_since(wrote)));
    let last_latency = subs
        .iter()
        .all(|t| t.complete)
        .then(|| latest(subs, |t| t.last_at))
        .flatten()
        .zip(sent.iter().map(|s| s.last_at).max())
        .map(|(got, wrote)| ms(got.saturating_duration_since(wrote)));
    let send_s = sent
        .iter()
        .map(|s| s.last_at.duration_since(started).as_secs_f64())
        .fold(0.0, f64::max);
    // Readers that saw everything must have seen it in one order.
    let whole: Vec<&Tally> = subs
        .iter()
        .chain(own)
        .filter(|t| t.complete && t.gaps == 0 && t.order_violations == 0)
        .collect();
    let interleaving_mismatches = whole.iter().filter(|t| t.digest != whole[0].digest).count();
    let json_ms = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.3}"));
    let json_str = |v: Option<String>| v.map_or("null".to_string(), |v| format!("{:?}", v));
    format!(
        concat!(
            "{{\"subscribers\":{},\"publishers\":{},\"messages\":{},\"size\":{},",
            "\"delivered\":{},\"expected\":{},\"lost\":{},\"gaps\":{},\"incomplete_subscribers\":{},",
            "\"publisher_received\":{},\"publisher_expected\":{},",
            "\"order_violations\":{},\"malformed\":{},\"foreign\":{},\"interleaving_mismatches\":{},",
            "\"elapsed_s\":{:.4},\"send_s\":{:.4},\"client_cpu_s\":{},\"first_latency_ms\":{},\"last_latency_ms\":{},\"error\":{}}}"
        ),
        args.subscribers,
        args.publishers,
        args.messages,
        args.size,
        delivered,
        expected,
        expected.saturating_sub(delivered),
        sum(subs, |t| t.gaps),
        subs.iter().filter(|t| !t.complete).count(),
        sum(own, |t| t.received),
        u64::from(args.publishers) * per_reader,
        sum(subs, |t| t.order_violations) + sum(own, |t| t.order_violations),
        sum(subs, |t| t.malformed) + sum(own, |t| t.malformed),
        sum(subs, |t| t.foreign) + sum(own, |t| t.foreign),
        interleaving_mismatches,
        elapsed,
        send_s,
        client_cpu.map_or("null".to_string(), |v| format!("{v:.2}")),
        json_ms(first_latency),
        json_ms(last_latency),
        json_str(error),
    )
}
