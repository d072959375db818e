//! The hub through the server: a publish reaches every subscriber, after the event that made
//! it, in order; a subscriber whose output is full takes the rest when it drains; a slow one
//! skips what its topic's ring overwrote and is told how much; a closed one is forgotten.

use std::string::String;
use std::vec::Vec;

use super::harness::Harness;
use super::{TestId, TestState, app, config};
use crate::http::Status;
use crate::server::{InputTarget, Link, Protocol, Start, TopicId};
use crate::{Config, Ctx, Lagging, Request, Response, Topics};

/// `POST /publish/{topic}`: the body, published; `204`, or `413` when it is too long.
pub(super) fn publish(ctx: &mut Ctx<TestState>, req: &Request) -> Response {
    let topic: u32 = req.param("topic").unwrap();
    match ctx.bus.publish(TopicId(topic as u16), req.body()) {
        Ok(_) => ctx.empty(Status::NO_CONTENT),
        Err(_) => ctx.empty(Status::CONTENT_TOO_LARGE),
    }
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
