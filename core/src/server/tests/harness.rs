//! An in-memory backend for the server's unit tests: scripted clients, a scripted clock,
//! receives and sends split to chosen sizes, and sends that can be held back.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::string::String;
use std::vec::Vec;

use super::TestState;
use super::{TestId, TestModules};
use crate::{App, Config, Event, Instant, Now, Op, PeerAddr, Server, SlotId};

#[derive(Default)]
struct Client {
    inbound: VecDeque<u8>,
    output: Vec<u8>,
    eof: bool,
    open: bool,
    shut: bool,
    recv_posted: bool,
    send_posted: bool,
}

pub struct Harness {
    pub server: Server<'static, TestState, TestModules>,
    clients: BTreeMap<SlotId, Client>,
    now: Now,
    pub max_recv: usize,
    pub max_send: usize,
    held: BTreeSet<SlotId>,
}

impl Harness {
    pub fn new(config: Config, app: App<TestState, TestModules>) -> Harness {
        // Tests are short-lived; leaking one small region keeps the harness simple.
        let region: &'static mut [u8] = std::vec![0u8; app.memory(&config).total].leak();
        let now = Now {
            monotonic: Instant(1_000_000),
            unix_secs: 784_111_777,
        };
        let server = Server::new(config, app, region, now).unwrap();
        Harness {
            server,
            clients: BTreeMap::new(),
            now,
            max_recv: usize::MAX,
            max_send: usize::MAX,
            held: BTreeSet::new(),
        }
    }

    pub fn connect(&mut self) -> SlotId {
        self.try_connect().expect("a free slot")
    }

    pub fn connect_service(&mut self, protocol: TestId) -> SlotId {
        let slot = self
            .server
            .handle(Event::Accepted {
                protocol,
                peer: PeerAddr::Local,
            })
            .accepted()
            .expect("a free slot");
        self.clients.insert(
            slot,
            Client {
                open: true,
                ..Client::default()
            },
        );
        self.run();
        slot
    }

    pub fn try_connect(&mut self) -> Option<SlotId> {
        let result = self
            .server
            .handle(Event::Accepted {
                protocol: TestId::Http,
                peer: PeerAddr::Local,
            })
            .accepted();
        if let Ok(slot) = result {
            self.clients.insert(
                slot,
                Client {
                    open: true,
                    ..Client::default()
                },
            );
        }
        self.run();
        result.ok()
    }

    pub fn client_send(&mut self, slot: SlotId, bytes: &[u8]) {
        self.clients.get_mut(&slot).unwrap().inbound.extend(bytes);
        self.run();
    }

    pub fn client_close(&mut self, slot: SlotId) {
        self.clients.get_mut(&slot).unwrap().eof = true;
        self.run();
    }

    pub fn hold_sends(&mut self, slot: SlotId) {
        self.held.insert(slot);
    }

    pub fn release_sends(&mut self, slot: SlotId) {
        self.held.remove(&slot);
    }

    pub fn is_open(&self, slot: SlotId) -> bool {
        self.clients[&slot].open
    }

    /// Bytes the client has written that the server has not received yet.
    pub fn unread_by_server(&self, slot: SlotId) -> usize {
        self.clients[&slot].inbound.len()
    }

    pub fn is_shut_down(&self, slot: SlotId) -> bool {
        self.clients[&slot].shut
    }

    pub fn take_output_bytes(&mut self, slot: SlotId) -> Vec<u8> {
        core::mem::take(&mut self.clients.get_mut(&slot).unwrap().output)
    }

    pub fn take_output(&mut self, slot: SlotId) -> String {
        String::from_utf8(self.take_output_bytes(slot)).unwrap()
    }

    pub fn advance(&mut self, ms: u64) {
        // Step in ticks so that every timer sees its own tick.
        let step = 100;
        let mut left = ms;
        while left > 0 {
            let d = left.min(step);
            left -= d;
            self.now.monotonic = self.now.monotonic.after_ms(d);
            self.now.unix_secs = 784_111_777 + (self.now.monotonic.0 - 1_000_000) / 1000;
            let _ = self.server.handle(Event::Tick(self.now));
            self.run();
        }
    }

    /// Performs operations until nothing moves.
    pub fn run(&mut self) {
        for _ in 0..100_000 {
            let mut progress = false;
            while let Some(op) = self.server.poll_op() {
                progress = true;
                match op {
                    Op::Recv(s) => {
                        let c = self.clients.get_mut(&s).unwrap();
                        assert!(!c.recv_posted, "two receives posted on slot {s}");
                        c.recv_posted = true;
                    }
                    Op::Send(s) => {
                        let c = self.clients.get_mut(&s).unwrap();
                        assert!(!c.send_posted, "two sends posted on slot {s}");
                        c.send_posted = true;
                    }
                    Op::Shutdown(s) => self.clients.get_mut(&s).unwrap().shut = true,
                    Op::SendDatagram(reply) => {
                        let _ = self.server.handle(Event::DatagramSent { reply });
                    }
                    Op::Close(s) => {
                        let c = self.clients.get_mut(&s).unwrap();
                        c.open = false;
                        c.recv_posted = false;
                        c.send_posted = false;
                        let _ = self.server.handle(Event::Closed { slot: s });
                    }
                }
            }
            let slots: Vec<SlotId> = self.clients.keys().copied().collect();
            for s in slots {
                let c = self.clients.get_mut(&s).unwrap();
                if !c.open {
                    continue;
                }
                if c.send_posted && !self.held.contains(&s) {
                    let parts = self.server.send_parts(s);
                    let mut budget = self.max_send;
                    let mut n = 0;
                    for part in parts {
                        let take = part.len().min(budget);
                        c.output.extend_from_slice(&part[..take]);
                        budget -= take;
                        n += take;
                    }
                    assert!(n > 0, "a send of nothing was posted on slot {s}");
                    c.send_posted = false;
                    let _ = self.server.handle(Event::Sent { slot: s, n });
                    progress = true;
                }
                let c = self.clients.get_mut(&s).unwrap();
                if c.recv_posted && (!c.inbound.is_empty() || c.eof) {
                    let buf = self.server.recv_buffer(s);
                    assert!(
                        !buf.is_empty(),
                        "a receive into no space was posted on slot {s}"
                    );
                    let n = c.inbound.len().min(buf.len()).min(self.max_recv);
                    for (dst, src) in buf.iter_mut().zip(c.inbound.drain(..n)) {
                        *dst = src;
                    }
                    c.recv_posted = false;
                    let _ = self.server.handle(Event::Received { slot: s, n });
                    progress = true;
                }
            }
            if !progress {
                return;
            }
        }
        panic!("the server did not settle");
    }
}

/// Decodes a chunked body at the start of `text`; returns it and what follows.
pub fn dechunk(text: &str) -> (String, &str) {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            return (out, after.strip_prefix("\r\n").unwrap());
        }
        out.push_str(&after[..size]);
        rest = after[size..].strip_prefix("\r\n").unwrap();
    }
}
