//! Bench peer for the WebSocket fan-out bench (ci/bench/ws-fanout.sh): one chat room.
//!
//! `peer-ws-tokio ADDR [--capacity N]` (default capacity 1024 messages).
//!
//! The contract: `GET /ws` upgrades to WebSocket (RFC 6455); every text message any client
//! sends is delivered to every connected client, the sender included, in the order the server
//! received them. Any other path is refused with 404 before the upgrade.
//!
//! Layout: one tokio current-thread runtime (one thread, as one zzz instance pinned to one CPU),
//! one `tokio::sync::broadcast` channel of `Utf8Bytes` as the room, one task per connection that
//! forwards its incoming text messages into the channel and the channel's messages out to its
//! socket. A message is received once (tungstenite allocates its payload) and then shared by
//! reference count: `Message::Text(Utf8Bytes)` wraps `Bytes`, so fan-out to N clients clones a
//! pointer N times, never the payload.
//!
//! Slow receivers: the channel keeps the last `capacity` messages. A connection that falls
//! further behind skips what it missed (`RecvError::Lagged`) and goes on with the oldest message
//! still held; it is not closed. That is the policy zzz's hub applies by default (skip, counted),
//! so both servers drop the same kind of message under overload. Skips are counted per
//! connection and printed to stderr when the connection ends.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Messages the room holds for its slowest reader (broadcast channel capacity).
const DEFAULT_CAPACITY: usize = 1024;

/// At most this many queued messages go into one socket write: a ready backlog is written with
/// one flush (one `write` syscall) instead of one per message, and the bound keeps one
/// connection from holding the thread while the others wait.
const WRITE_BATCH: usize = 256;

type Ws = WebSocketStream<TcpStream>;

fn main() {
    let (addr, capacity) = parse_args();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("build tokio runtime");
    rt.block_on(serve(addr, capacity));
}

fn parse_args() -> (SocketAddr, usize) {
    let mut addr = None;
    let mut capacity = DEFAULT_CAPACITY;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--capacity" => {
                capacity = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--capacity needs a positive integer")
            }
            _ => addr = Some(a.parse().expect("ADDR must be ip:port")),
        }
    }
    (
        addr.expect("usage: peer-ws-tokio ADDR [--capacity N]"),
        capacity,
    )
}

async fn serve(addr: SocketAddr, capacity: usize) {
    let listener = TcpListener::bind(addr).await.expect("bind");
    eprintln!("peer-ws-tokio: listening on {addr}, room capacity {capacity} messages");
    // The receiver the channel returns is dropped: each connection subscribes its own.
    let (room, _) = broadcast::channel::<Utf8Bytes>(capacity);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Writes are batched by the connection task; Nagle would only add delay to a batch.
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, room.clone()));
    }
}

/// Refuses anything but `GET /ws` (tungstenite checks the method and the upgrade headers).
fn only_ws_path(request: &Request, response: Response) -> Result<Response, ErrorResponse> {
    if request.uri().path() == "/ws" {
        return Ok(response);
    }
    let mut refusal = ErrorResponse::new(None);
    *refusal.status_mut() = StatusCode::NOT_FOUND;
    Err(refusal)
}

async fn connection(stream: TcpStream, room: broadcast::Sender<Utf8Bytes>) {
    // Subscribed before the handshake: a client that has its 101 response is already in the
    // room, so nothing published after it connected can be missed.
    let mut inbox = room.subscribe();
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, only_ws_path).await else {
        return;
    };
    let mut skipped: u64 = 0;
    loop {
        // Both branches are cancel-safe: the stream keeps a partial frame in its own buffer and
        // a broadcast receiver loses nothing when its `recv` is dropped.
        tokio::select! {
            incoming = ws.next() => match incoming {
                // No receiver is an error only when the room is empty, which cannot be while this
                // connection holds its inbox; either way there is nobody to tell.
                Some(Ok(Message::Text(text))) => { let _ = room.send(text); }
                // Pings are answered by tungstenite on its next write or read; binary messages
                // are not part of the contract.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            outgoing = inbox.recv() => match outgoing {
                Ok(text) => {
                    if write_backlog(&mut ws, &mut inbox, text, &mut skipped).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(n)) => skipped += n,
                Err(RecvError::Closed) => break,
            },
        }
    }
    if skipped > 0 {
        eprintln!("peer-ws-tokio: a connection lagged and skipped {skipped} messages");
    }
}

/// Writes `first` and whatever else is already queued for this connection (at most
/// `WRITE_BATCH`), then flushes once.
async fn write_backlog(
    ws: &mut Ws,
    inbox: &mut broadcast::Receiver<Utf8Bytes>,
    first: Utf8Bytes,
    skipped: &mut u64,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    // `feed` frames into tungstenite's write buffer (it writes to the socket only when that
    // buffer passes its size); `flush` sends the rest.
    ws.feed(Message::Text(first)).await?;
    for _ in 1..WRITE_BATCH {
        match inbox.try_recv() {
            Ok(text) => ws.feed(Message::Text(text)).await?,
            Err(TryRecvError::Lagged(n)) => *skipped += n,
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    ws.flush().await
}
