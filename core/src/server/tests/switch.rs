//! Handing a connection from one protocol module to another, in place: the old module's
//! `closed`, the new one's `open`, its output and the unconsumed input carried over.

use super::harness::Harness;
use super::{TestId, TestModules, TestState, app, config};
use crate::http::Status;
use crate::server::{InputTarget, Link, Protocol, Protocols};
use crate::{Ctx, Request, Response};

/// `GET /upgrade` with `Upgrade: echo`: `101`, and the connection is the raw-TCP echo's. With
/// `Upgrade: refuse` it asks for the switch but answers `200`, which does not switch.
pub(super) fn upgrade(ctx: &mut Ctx<TestState>, req: &Request) -> Response {
    ctx.switch_protocol(TestModules::id_index(TestId::Tcp));
    match req.header("upgrade") {
        Some(b"echo") => ctx
            .respond(Status::SWITCHING_PROTOCOLS)
            .header("Upgrade", "echo")
            .body(b""),
        _ => ctx.text(Status::OK, "not switched\n"),
    }
}

/// A protocol whose server speaks first (`hello`), answers each line `what?`, and hands the
/// connection to the raw-TCP echo on the line `switch` (after answering `ok`), or to a
/// protocol the set does not have on the line `nowhere`.
pub(crate) struct Greeter;

impl Protocol<TestState> for Greeter {
    /// Lines answered.
    type Conn = u32;

    fn open(&mut self, link: &mut Link<'_, '_, TestState>) -> u32 {
        link.write(b"hello\n");
        link.want_input(InputTarget::Buffer { limit: None });
        0
    }

    fn progress(&mut self, lines: &mut u32, link: &mut Link<'_, '_, TestState>) {
        // Bounded: each round consumes a line of the input.
        for _ in 0..link.input().len() {
            let Some(end) = link.input().iter().position(|&b| b == b'\n') else {
                break;
            };
            let is = |word: &[u8]| &link.input()[..end] == word;
            let (switch, nowhere) = (is(b"switch"), is(b"nowhere"));
            link.consume(end + 1);
            *lines += 1;
            if switch {
                link.write(b"ok\n");
                link.switch_protocol(TestModules::id_index(TestId::Tcp));
                return;
            }
            if nowhere {
                link.switch_protocol(9);
                return;
            }
            link.write(b"what?\n");
        }
        if link.peer_eof() {
            link.close_after_output();
        } else {
            link.want_input(InputTarget::Buffer { limit: None });
        }
    }

    fn timeout(&mut self, _: &mut u32, link: &mut Link<'_, '_, TestState>) {
        link.close_now();
    }

    fn closed(&mut self, _: &mut u32, link: &mut Link<'_, '_, TestState>) {
        link.state().greeters_closed += 1;
    }
}

#[test]
fn a_module_hands_its_connection_to_another_in_place() {
    let mut h = Harness::new(config(), app());
    let c = h.connect_service(TestId::Greeter);
    assert_eq!(h.take_output(c), "hello\n", "the server speaks first");
    // The bytes after `switch` arrive with it: they are the echo's, at once.
    h.client_send(c, b"hi\nswitch\nafter the switch");
    h.run();
    assert_eq!(h.take_output(c), "what?\nok\nafter the switch");
    assert_eq!(h.server.protocol_of(c), Some(TestId::Tcp));
    assert_eq!(h.server.state().greeters_closed, 1, "the greeter let go");
    assert_eq!(h.server.stats().protocol_switches, 1);
    h.client_send(c, b"echoed by the new module");
    h.run();
    assert_eq!(h.take_output(c), "echoed by the new module");
    h.client_close(c);
    h.run();
    assert!(!h.is_open(c));
    assert_eq!(
        h.server.state().greeters_closed,
        1,
        "a module's closed runs once, when it lets go"
    );
}

#[test]
fn a_switch_with_nothing_after_it_waits_for_the_new_modules_input() {
    let mut h = Harness::new(config(), app());
    let c = h.connect_service(TestId::Greeter);
    h.client_send(c, b"switch\n");
    h.run();
    assert_eq!(h.take_output(c), "hello\nok\n");
    h.client_send(c, b"ping");
    h.run();
    assert_eq!(h.take_output(c), "ping");
}

#[test]
#[should_panic(expected = "which is not in the set")]
fn a_switch_to_a_protocol_outside_the_set_is_a_bug() {
    let mut h = Harness::new(config(), app());
    let c = h.connect_service(TestId::Greeter);
    h.client_send(c, b"nowhere\n");
    h.run();
}

/// An upgrade to the raw-TCP echo, and the first bytes the echo owns.
const UPGRADE_TO_ECHO: &[u8] =
    b"GET /upgrade HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nfirst";

/// RFC 9110 §7.8: a 101 names the new protocol in `Upgrade`, with the "upgrade" connection
/// option, and the bytes after the request are that protocol's.
#[test]
fn an_http_upgrade_hands_the_connection_to_another_module() {
    let mut h = Harness::new(config(), app());
    let c = h.connect();
    h.client_send(c, UPGRADE_TO_ECHO);
    h.run();
    let out = h.take_output(c);
    let (head, rest) = out.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(head.lines().any(|l| l == "Connection: upgrade"), "{head}");
    assert!(head.lines().any(|l| l == "Upgrade: echo"), "{head}");
    assert!(
        !head.contains("Content-Length"),
        "RFC 9110 §8.6: none in a 1xx"
    );
    assert_eq!(rest, "first", "what followed the request is echoed");
    assert_eq!(h.server.protocol_of(c), Some(TestId::Tcp));
    h.client_send(c, b" and more");
    h.run();
    assert_eq!(h.take_output(c), " and more");
    assert_eq!(h.server.stats().protocol_switches, 1);
}

/// RFC 9110 §7.8: a 101 promises the switch.
#[test]
fn a_101_switches_even_on_the_last_request_a_connection_may_make() {
    // The 101 says `Connection: upgrade`: it promises the switch, so the limit on HTTP
    // requests per connection (which would close after this one) no longer applies.
    let mut cfg = config();
    cfg.max_requests_per_connection = 1;
    let mut h = Harness::new(cfg, app());
    let c = h.connect();
    h.client_send(c, UPGRADE_TO_ECHO);
    h.run();
    let out = h.take_output(c);
    let (head, rest) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(!head.contains("Connection: close"), "{head}");
    assert_eq!(rest, "first", "what followed the request is echoed");
    assert_eq!(h.server.protocol_of(c), Some(TestId::Tcp));
    assert!(
        h.is_open(c) && !h.is_shut_down(c),
        "the connection goes on in the new protocol"
    );
    h.client_send(c, b" and more");
    h.run();
    assert_eq!(h.take_output(c), " and more");
}

/// RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request is ignored; and a switch asked for with
/// any answer but 101 does not happen.
#[test]
fn only_a_101_to_http_1_1_switches() {
    let mut h = Harness::new(config(), app());
    let c = h.connect();
    h.client_send(
        c,
        b"GET /upgrade HTTP/1.1\r\nHost: a\r\nUpgrade: refuse\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    h.run();
    let out = h.take_output(c);
    assert!(
        out.contains("not switched") && out.ends_with("Hello, World!"),
        "{out}"
    );
    assert_eq!(h.server.protocol_of(c), Some(TestId::Http));
    let d = h.connect();
    h.client_send(
        d,
        b"GET /upgrade HTTP/1.0\r\nHost: a\r\nUpgrade: echo\r\n\r\n",
    );
    h.run();
    assert!(h.take_output(d).starts_with("HTTP/1.1 101"));
    assert_eq!(h.server.stats().protocol_switches, 0);
    assert!(
        h.is_shut_down(d),
        "an HTTP/1.0 connection closes after its answer"
    );
}
