//! The hub through the server: a publish reaches every subscriber, after the event that made
//! it, in order; a subscriber whose output is full takes the rest when it drains; a slow one
//! skips what its topic's ring overwrote and is told how much; a closed one is forgotten.

use std::string::String;
use std::vec::Vec;

use super::harness::Harness;
use super::{TestId, TestState, app, config};
use crate::http::Status;
use crate::server::{InputTarget, Link, Protocol, Start, TopicId};
use crate::sse::EventStream;
use crate::{Config, Ctx, Lagging, Request, Response, Topics};

/// `POST /publish/{topic}`: the body, published; `204`, or `413` when it is too long.
pub(super) fn publish(ctx: &mut Ctx<TestState>, req: &Request) -> Response {
    let topic: u32 = req.param("topic").unwrap();
    match ctx.bus.publish(TopicId(topic as u16), req.body()) {
        Ok(_) => ctx.empty(Status::NO_CONTENT),
        Err(_) => ctx.empty(Status::CONTENT_TOO_LARGE),
    }
}

/// `GET /events/{topic}`: the topic's messages as server-sent events, `retry: 2000`, a
/// heartbeat after a second without output.
pub(super) fn events(ctx: &mut Ctx<TestState>, req: &Request) -> Response {
    let topic: u32 = req.param("topic").unwrap();
    let stream = EventStream {
        retry_ms: Some(2000),
        heartbeat_ms: 1000,
        ..EventStream::of(TopicId(topic as u16))
    };
    crate::sse::events(ctx, req, stream)
}

/// Follows topic 0 from the next message; publishes each line it receives there (without
/// its `\n`); writes every message of the topic back as a line, `missed N` first when it
/// missed N, as much as its output has room for.
pub(crate) struct Chat;

impl Protocol<TestState> for Chat {
    type Conn = ();

    fn open(&mut self, link: &mut Link<'_, '_, TestState>) {
        link.bus()
            .subscribe(TopicId(0), Start::Next)
            .expect("room for one subscription");
        let me = link.bus().me();
        link.state().chats.push(me);
        link.want_input(InputTarget::Buffer { limit: None });
    }

    fn progress(&mut self, _: &mut (), link: &mut Link<'_, '_, TestState>) {
        // Bounded: each round consumes a line of the input.
        for _ in 0..link.input().len() {
            let Some(end) = link.input().iter().position(|&b| b == b'\n') else {
                break;
            };
            let mut line = [0u8; 256];
            line[..end].copy_from_slice(&link.input()[..end]);
            link.consume(end + 1);
            // `@N text`: to the N-th chat connection opened, alone.
            if let Some(rest) = line[..end].strip_prefix(b"@") {
                let (n, text) = rest.split_at(rest.iter().position(|&b| b == b' ').unwrap());
                let n: usize = std::str::from_utf8(n).unwrap().parse().unwrap();
                let to = link.state().chats[n];
                let result = link.bus().send_to(to, &text[1..]);
                link.state().direct_results.push(result);
                continue;
            }
            let _ = link.bus().publish(TopicId(0), &line[..end]);
        }
        // Bounded: each round takes a message; at most as many as the ring holds.
        for _ in 0..4096 {
            let Some(message) = link.next_message() else {
                break;
            };
            let mut line = [0u8; 300];
            let mut n = 0;
            if message.missed > 0 {
                let text = std::format!("missed {}\n", message.missed);
                line[..text.len()].copy_from_slice(text.as_bytes());
                n = text.len();
            }
            line[n..n + message.data.len()].copy_from_slice(message.data);
            n += message.data.len();
            line[n] = b'\n';
            n += 1;
            if link.output_room().len() < n {
                break;
            }
            assert!(link.write(&line[..n]));
            link.message_taken();
        }
        if link.peer_eof() {
            link.close_after_output();
        } else {
            link.compact_input();
            link.want_input(InputTarget::Buffer { limit: None });
        }
    }

    fn timeout(&mut self, _: &mut (), link: &mut Link<'_, '_, TestState>) {
        link.close_now();
    }
}

fn hub_config(ring_bytes: u32, lagging: Lagging) -> Config {
    let mut c = config();
    c.topics = Topics {
        count: 2,
        ring_bytes,
        max_message: 200,
        per_connection: 2,
        lagging,
        inbox_bytes: 1024,
    };
    c
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn a_message_reaches_every_subscriber_the_publisher_too() {
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let chats: Vec<_> = (0..3).map(|_| h.connect_service(TestId::Chat)).collect();
    h.client_send(chats[1], b"hello\nworld\n");
    for &c in &chats {
        assert_eq!(h.take_output(c), "hello\nworld\n", "slot {c}");
    }
    assert_eq!(h.server.stats().published, 2);
}

#[test]
fn an_http_handler_publishes_to_the_chat() {
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let chat = h.connect_service(TestId::Chat);
    let http = h.connect();
    h.client_send(
        http,
        b"POST /publish/0 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfrom!",
    );
    assert!(h.take_output(http).starts_with("HTTP/1.1 204"));
    assert_eq!(h.take_output(chat), "from!\n");
    // Topic 1 has no subscriber; topic 2 does not exist.
    h.client_send(
        http,
        b"POST /publish/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx",
    );
    assert!(h.take_output(http).starts_with("HTTP/1.1 204"));
    h.client_send(
        http,
        b"POST /publish/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx",
    );
    assert!(h.take_output(http).starts_with("HTTP/1.1 413"));
    assert_eq!(h.take_output(chat), "");
}

/// `Topics::max_message` (200 here): a message of exactly 200 bytes is published, 201 is
/// refused.
#[test]
fn the_longest_message_at_the_limit_and_past_it() {
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let chat = h.connect_service(TestId::Chat);
    let http = h.connect();
    for (len, status) in [(200, "204"), (201, "413")] {
        let mut request =
            std::format!("POST /publish/0 HTTP/1.1\r\nHost: t\r\nContent-Length: {len}\r\n\r\n")
                .into_bytes();
        request.extend(std::iter::repeat_n(b'm', len));
        h.client_send(http, &request);
        assert!(
            h.take_output(http)
                .starts_with(&std::format!("HTTP/1.1 {status}"))
        );
    }
    assert_eq!(
        h.take_output(chat).len(),
        201,
        "the 200-byte message and its newline"
    );
}

/// A subscriber that cannot send keeps its place: the ring holds what it has not taken,
/// and it takes all of it, in order, once its output drains.
#[test]
fn a_subscriber_with_full_output_takes_the_rest_when_it_drains() {
    let mut h = Harness::new(hub_config(64 * 1024, Lagging::Skip), app());
    let (fast, slow, publisher) = (
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
    );
    h.hold_sends(slow);
    let mut sent = String::new();
    for i in 0..200 {
        let line = std::format!("message number {i:04} with some padding to fill buffers\n");
        sent.push_str(&line);
        h.client_send(publisher, line.as_bytes());
    }
    assert_eq!(h.take_output(fast), sent);
    assert!(h.take_output(slow).len() < sent.len(), "held back");
    h.release_sends(slow);
    h.run();
    assert_eq!(
        h.take_output(slow),
        sent,
        "everything, in order, once it drains"
    );
    assert_eq!(h.server.stats().messages_missed, 0);
}

/// A subscriber that falls behind the ring skips to the oldest message held, told how many
/// it missed; what it then receives is the newest messages, in order.
#[test]
fn a_lagging_subscriber_skips_what_the_ring_overwrote() {
    let mut h = Harness::new(hub_config(1024, Lagging::Skip), app());
    let (slow, publisher) = (
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
    );
    h.hold_sends(slow);
    let total = 300;
    for i in 0..total {
        h.client_send(publisher, std::format!("m{i:03}\n").as_bytes());
    }
    let early = h.take_output(slow);
    h.release_sends(slow);
    h.run();
    let late = h.take_output(slow);
    let text = early + &late;
    let missed: u64 = text
        .lines()
        .filter_map(|l| l.strip_prefix("missed "))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    let received: Vec<u32> = text
        .lines()
        .filter_map(|l| l.strip_prefix('m').and_then(|n| n.parse().ok()))
        .collect();
    assert!(missed > 0, "a 1 KiB ring cannot hold 300 messages");
    assert_eq!(
        missed + received.len() as u64,
        total as u64,
        "every message taken or counted"
    );
    assert!(received.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(*received.last().unwrap(), total - 1, "up to the newest");
    assert_eq!(h.server.stats().messages_missed, missed);
    assert_eq!(lines(&h.take_output(publisher)).len(), total as usize);
}

/// With `Lagging::Close` the subscriber that falls behind is closed instead, and counted.
#[test]
fn a_lagging_subscriber_is_closed_when_so_configured() {
    let mut h = Harness::new(hub_config(1024, Lagging::Close), app());
    let (slow, publisher) = (
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
    );
    h.hold_sends(slow);
    for i in 0..300 {
        h.client_send(publisher, std::format!("m{i:03}\n").as_bytes());
    }
    h.release_sends(slow);
    h.run();
    assert!(!h.is_open(slow));
    assert!(h.is_open(publisher));
    assert_eq!(h.server.stats().lagging_closed, 1);
}

/// A closed subscriber's subscription is gone: publishing goes on, and its slot, reused,
/// starts afresh.
#[test]
fn a_closed_subscriber_is_forgotten() {
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let (a, b) = (
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
    );
    h.client_close(a);
    h.client_send(b, b"after\n");
    assert_eq!(h.take_output(b), "after\n");
    let c = h.connect_service(TestId::Chat);
    h.client_send(b, b"again\n");
    assert_eq!(
        h.take_output(c),
        "again\n",
        "the new connection follows from now"
    );
    assert_eq!(h.take_output(b), "again\n");
}

/// Publishes `body` to topic 0 through `POST /publish/0` on `http`.
fn publish_over_http(h: &mut Harness, http: crate::SlotId, body: &str) {
    let request = std::format!(
        "POST /publish/0 HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    h.client_send(http, request.as_bytes());
    assert!(h.take_output(http).starts_with("HTTP/1.1 204"));
}

/// The event stream's body so far: the chunks after the head (or, with no head, all of it),
/// decoded; the stream has not ended, so there is no last chunk.
fn event_text(raw: &str) -> String {
    let mut rest = if raw.starts_with("HTTP/1.1") {
        raw.split_once("\r\n\r\n").unwrap().1
    } else {
        raw
    };
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size, 16).unwrap();
        assert!(size > 0, "the event stream ended");
        out.push_str(&after[..size]);
        rest = after[size..].strip_prefix("\r\n").unwrap();
    }
    assert!(rest.is_empty(), "a chunk cut short: {rest:?}");
    out
}

#[test]
fn server_sent_events_carry_each_message_as_an_event() {
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let sse = h.connect();
    h.client_send(sse, b"GET /events/0 HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = h.take_output(sse);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: text/event-stream")
            || head.contains("Content-Type: text/event-stream"),
        "{head}"
    );
    assert!(
        head.contains("transfer-encoding: chunked") || head.contains("Transfer-Encoding: chunked"),
        "{head}"
    );
    let http = h.connect();
    publish_over_http(&mut h, http, "first");
    publish_over_http(&mut h, http, "two\nlines");
    let text = event_text(&(head + &h.take_output(sse)));
    assert_eq!(
        text,
        "retry: 2000\n\nid: 1\ndata: first\n\nid: 2\ndata: two\ndata: lines\n\n"
    );
    assert!(h.is_open(sse));
}

/// `Last-Event-ID`: a reconnecting client resumes after the last event it saw, from the
/// ring; one too old for the ring is told how many it missed.
#[test]
fn last_event_id_resumes_from_the_ring() {
    let mut h = Harness::new(hub_config(512, Lagging::Skip), app());
    let http = h.connect();
    for i in 1..=60 {
        publish_over_http(&mut h, http, &std::format!("event {i:02}"));
    }
    let sse = h.connect();
    h.client_send(
        sse,
        b"GET /events/0 HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 58\r\n\r\n",
    );
    let text = event_text(&h.take_output(sse));
    assert_eq!(
        text,
        "retry: 2000\n\nid: 59\ndata: event 59\n\nid: 60\ndata: event 60\n\n"
    );
    let old = h.connect();
    h.client_send(
        old,
        b"GET /events/0 HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 2\r\n\r\n",
    );
    let text = event_text(&h.take_output(old));
    // A 512-byte ring holds about 25 of these 20-byte messages: the gap after 2 is reported,
    // then every message the ring holds, up to the newest.
    let missed: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix(": missed "))
        .expect("the gap is reported")
        .parse()
        .unwrap();
    let ids: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(ids.first(), Some(&(3 + missed)));
    assert_eq!(ids, (3 + missed..=60).collect::<Vec<u64>>());
}

/// Quiet for the heartbeat (a second here), the stream writes a comment; not before.
#[test]
fn a_quiet_event_stream_sends_a_heartbeat() {
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let sse = h.connect();
    h.client_send(sse, b"GET /events/0 HTTP/1.1\r\nHost: t\r\n\r\n");
    let _ = h.take_output(sse);
    h.advance(900);
    assert_eq!(h.take_output(sse), "", "not yet");
    h.advance(200);
    assert_eq!(event_text(&h.take_output(sse)), ":\n\n");
    // Far past any request timeout, the stream is still open.
    h.advance(60_000);
    assert!(h.is_open(sse));
    assert_eq!(event_text(&h.take_output(sse)).matches(":\n\n").count(), 60);
}

/// An event stream whose client does not read keeps its events in the ring, and gets them in
/// order once it reads; a client that leaves ends the stream.
#[test]
fn a_slow_event_client_gets_every_event_in_order_then_leaves() {
    let mut h = Harness::new(hub_config(64 * 1024, Lagging::Skip), app());
    let sse = h.connect();
    h.client_send(sse, b"GET /events/0 HTTP/1.1\r\nHost: t\r\n\r\n");
    h.hold_sends(sse);
    let http = h.connect();
    for i in 0..300 {
        publish_over_http(
            &mut h,
            http,
            &std::format!("number {i:03} and some padding"),
        );
    }
    h.release_sends(sse);
    h.run();
    let text = event_text(&h.take_output(sse));
    let ids: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=300).collect::<Vec<u64>>());
    h.client_close(sse);
    assert!(!h.is_open(sse), "the client's EOF ends the stream");
}

/// `Bus::send_to`: a message to one connection reaches it alone, before what its topics
/// hold; one to a connection that has gone is refused even when another took its slot.
#[test]
fn a_message_to_one_connection_reaches_it_alone() {
    use crate::server::DirectError;
    let mut h = Harness::new(hub_config(4096, Lagging::Skip), app());
    let (a, b, c) = (
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
        h.connect_service(TestId::Chat),
    );
    h.client_send(a, b"@1 psst, b\n");
    assert_eq!(h.take_output(b), "psst, b\n");
    assert_eq!(h.take_output(a), "");
    assert_eq!(h.take_output(c), "");
    h.client_close(b);
    let d = h.connect_service(TestId::Chat);
    assert_eq!(d, b, "the new connection took the old one's slot");
    h.client_send(a, b"@1 are you b?\n");
    assert_eq!(h.take_output(d), "", "not for the slot's new connection");
    h.client_send(a, b"@3 welcome, d\n");
    assert_eq!(h.take_output(d), "welcome, d\n");
    assert_eq!(
        h.server.state().direct_results,
        [Ok(()), Err(DirectError::Gone), Ok(())]
    );
}

/// A full inbox (1 KiB here) drops its oldest messages to make room, and the receiver is
/// told how many it missed; with `Lagging::Close` the receiver is closed instead.
#[test]
fn a_full_inbox_drops_its_oldest_or_closes() {
    for lagging in [Lagging::Skip, Lagging::Close] {
        let mut h = Harness::new(hub_config(64 * 1024, lagging), app());
        let (a, b) = (
            h.connect_service(TestId::Chat),
            h.connect_service(TestId::Chat),
        );
        h.hold_sends(b);
        for i in 0..400 {
            h.client_send(
                a,
                std::format!("@1 number {i:03} with padding\n").as_bytes(),
            );
        }
        h.release_sends(b);
        h.run();
        let text = h.take_output(b);
        match lagging {
            Lagging::Skip => {
                assert!(h.is_open(b));
                let missed: u64 = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("missed "))
                    .map(|l| l.split(' ').next().unwrap().parse::<u64>().unwrap())
                    .sum();
                let got = text.matches("number ").count() as u64;
                assert!(missed > 0, "1 KiB holds fewer than 400 of these");
                assert_eq!(got + missed, 400, "{text}");
                assert!(text.ends_with("number 399 with padding\n"));
            }
            Lagging::Close => assert!(!h.is_open(b), "closed for falling behind"),
        }
    }
}
