//! Server-sent events (the WHATWG HTML standard, §9.2): a response that stays open and
//! carries the messages of a topic as they are published.
//!
//! A route answers with [`events`]: `200`, `Content-Type: text/event-stream`, and the
//! connection follows the topic ([`Bus::subscribe`](crate::server::Bus::subscribe)). Each
//! message published there becomes one event, `id:` its sequence number and one `data:` line
//! per line of the message. A client that reconnects with `Last-Event-ID` resumes after
//! that message, from the topic's ring (its bounded history); if the ring no longer holds
//! the messages after it, the stream starts with the oldest it holds, after a comment saying
//! how many were missed. So does a subscriber that falls behind ([`Lagging::Skip`]).
//!
//! Backpressure is HTTP's: an event is written only when the send buffer has room for it
//! whole; until the client reads, the messages wait in the ring. A comment line is written as
//! a heartbeat when the stream has been quiet for [`EventStream::heartbeat_ms`], so that
//! proxies keep the connection and a client that went away is found out by the failed send.
//! The stream ends when the client closes its side, or the connection is closed.
//!
//! [`Lagging::Skip`]: crate::Lagging::Skip

use crate::handler::{Ctx, Request, Response, StreamCursor, StreamOut, StreamStep};
use crate::http::{ByteWriter, Status};
use crate::server::{Start, SubscribeError, TopicId};

/// How an event stream is served.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EventStream {
    /// The topic whose messages are the events.
    pub topic: TopicId,
    /// Where a new client (one without `Last-Event-ID`) starts: [`Start::Next`] for what
    /// happens from now, [`Start::Oldest`] to get the ring's history first.
    pub start: Start,
    /// The reconnection time sent as `retry:` when the stream opens, in milliseconds; `None`
    /// sends none (browsers then wait about 3 s).
    pub retry_ms: Option<u32>,
    /// A comment line (`:`) after this many milliseconds without output. Default 15 s; at
    /// least 1.
    pub heartbeat_ms: u32,
}

impl EventStream {
    /// The events of `topic`, from the next message, a heartbeat every 15 s, no `retry:`.
    pub const fn of(topic: TopicId) -> EventStream {
        EventStream {
            topic,
            start: Start::Next,
            retry_ms: None,
            heartbeat_ms: 15_000,
        }
    }
}

/// Answers `req` with the event stream `stream` describes (see the module documentation):
/// `200 text/event-stream`, or `503` with `Retry-After` when the connection may follow no
/// more topics, `404` when there is no such topic.
pub fn events<S>(ctx: &mut Ctx<'_, S>, req: &Request<'_>, stream: EventStream) -> Response {
    let start = match last_event_id(req) {
        Some(seq) => Start::After(seq),
        None => stream.start,
    };
    let missed = match ctx.bus.subscribe(stream.topic, start) {
        Ok(missed) => missed,
        Err(SubscribeError::NoSuchTopic) => return ctx.empty(Status::NOT_FOUND),
        Err(SubscribeError::TooMany) => {
            return ctx
                .respond(Status::SERVICE_UNAVAILABLE)
                .header("Retry-After", "1")
                .body(b"");
        }
    };
    let cursor = Cursor {
        topic: stream.topic,
        retry_ms: stream.retry_ms,
        opened: false,
        missed,
        heartbeat_ms: stream.heartbeat_ms.max(1),
        quiet_since: ctx.now.monotonic.0,
    };
    ctx.respond(Status::OK)
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-cache")
        .stream_with_heartbeat(produce, cursor.encode(), stream.heartbeat_ms.max(1))
}

/// The sequence number a reconnecting client last received: its `Last-Event-ID`, when it is
/// one of ours (a decimal number).
fn last_event_id(req: &Request<'_>) -> Option<u64> {
    let value = req.header_str("last-event-id")?.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// What the producer keeps between calls, packed into a [`StreamCursor`]'s four words.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Cursor {
    topic: TopicId,
    retry_ms: Option<u32>,
    /// The opening lines (`retry:`, a missed-count comment) are written.
    opened: bool,
    /// Messages missed before the first one, to say so when the stream opens.
    missed: u64,
    heartbeat_ms: u32,
    /// When the stream last wrote something (monotonic milliseconds).
    quiet_since: u64,
}

impl Cursor {
    fn encode(self) -> StreamCursor {
        let flags = (self.opened as u64) << 16 | (self.retry_ms.is_some() as u64) << 17;
        StreamCursor([
            self.topic.0 as u64 | flags | (self.retry_ms.unwrap_or(0) as u64) << 32,
            self.missed,
            self.heartbeat_ms as u64,
            self.quiet_since,
        ])
    }

    fn decode(cursor: &StreamCursor) -> Cursor {
        let [first, missed, heartbeat_ms, quiet_since] = cursor.0;
        Cursor {
            topic: TopicId(first as u16),
            retry_ms: (first >> 17 & 1 == 1).then_some((first >> 32) as u32),
            opened: first >> 16 & 1 == 1,
            missed,
            heartbeat_ms: heartbeat_ms as u32,
            quiet_since,
        }
    }
}

/// The longest event line prefix and number: `id: ` and 20 digits, `data: `, the newlines.
const EVENT_OVERHEAD: usize = 40;

/// Writes the events waiting, each whole, as many as fit; a heartbeat comment when there are
/// none and the stream has been quiet for its heartbeat.
fn produce<S>(_: &mut S, cursor: &mut StreamCursor, out: &mut StreamOut<'_>) -> StreamStep {
    let StreamOut { writer, feed, now } = out;
    let mut state = Cursor::decode(cursor);
    if !state.opened {
        if let Some(retry) = state.retry_ms {
            let _ = core::fmt::write(writer, format_args!("retry: {retry}\n\n"));
        }
        if state.missed > 0 {
            let _ = core::fmt::write(writer, format_args!(": missed {}\n\n", state.missed));
        }
        state.opened = true;
        state.missed = 0;
    }
    // Bounded: each turn takes a message of the ring, or stops.
    while let Some(message) = feed.next_message() {
        if message.topic != state.topic {
            // Another topic of the connection's: not this stream's to show.
            feed.message_taken();
            continue;
        }
        let lines = message
            .data
            .iter()
            .filter(|&&b| b == b'\n' || b == b'\r')
            .count()
            + 1;
        let missed_note = if message.missed > 0 { 32 } else { 0 };
        let needed = message.data.len() + lines * 7 + EVENT_OVERHEAD + missed_note;
        if needed > writer.capacity() - writer.len() {
            break;
        }
        if message.missed > 0 {
            let _ = core::fmt::write(writer, format_args!(": missed {}\n", message.missed));
        }
        let _ = core::fmt::write(writer, format_args!("id: {}\n", message.seq));
        write_data(writer, message.data);
        writer.write(b"\n");
        feed.message_taken();
    }
    let now = now.monotonic.0;
    if writer.is_empty() && now.saturating_sub(state.quiet_since) >= state.heartbeat_ms as u64 {
        // Quiet for a heartbeat: a comment keeps proxies and finds a vanished client.
        writer.write(b":\n\n");
    }
    if !writer.is_empty() {
        state.quiet_since = now;
    }
    *cursor = state.encode();
    StreamStep::Wait
}

/// One `data:` line per line of `data` (split at LF, CR LF or CR, as the client will split).
fn write_data(out: &mut ByteWriter<'_>, data: &[u8]) {
    let mut rest = data;
    // Bounded: each turn writes one line of `data` and moves past it.
    loop {
        let end = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        out.write(b"data: ");
        out.write(&rest[..end]);
        out.write(b"\n");
        if end == rest.len() {
            return;
        }
        let skip = if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
    }
}
