//! Datagrams: the seed's datagrams arriving at the server's UDP socket, and the replies the
//! server hands out going back, as a backend does it.
//!
//! A datagram longer than [`Config::datagram_size`](zzz_core::Config::datagram_size) is
//! dropped by the backend (the socket would cut it: `MSG_TRUNC`) and never reaches the
//! server. Any other is put in [`Server::datagram_buffer`](zzz_core::Server::datagram_buffer)
//! and told. The oracle knows what the UDP pong owes: `pong:` and the datagram when that fits
//! a reply buffer (`datagram_size` bytes), nothing otherwise; and that the server drops a
//! datagram, unanswered and counted, exactly when every one of its
//! [`Config::datagram_replies`](zzz_core::Config::datagram_replies) reply buffers is in
//! flight. Each reply handed out ([`Op::SendDatagram`]) is checked at once (its bytes, its
//! peer, its socket) and goes out at once or, as the seed says, after a delay — which is how
//! every reply buffer comes to be in flight — unchanged meanwhile; then the server is told
//! ([`Event::DatagramSent`]).

use zzz_core::{Event, Op, PeerAddr};

use super::Sim;
use crate::app::SimProtocol;
use crate::workload::Datagram;

/// The longest a reply's send is delayed, in ms.
const MAX_REPLY_DELAY_MS: u64 = 100;

/// A reply the server handed out and the simulated network has not sent yet.
struct InFlight {
    reply: u16,
    /// Its bytes as handed out: they must not change until it is sent.
    bytes: Vec<u8>,
    /// When it goes out.
    due: u64,
}

/// The datagram traffic of a run.
pub(super) struct Datagrams {
    /// The seed's datagrams, in arrival order.
    queue: Vec<Datagram>,
    /// The next to arrive.
    next: usize,
    /// Replies handed out and not yet sent, at most `datagram_replies`.
    in_flight: Vec<InFlight>,
    /// The datagram being told to the server: a reply handed out now answers it.
    in_hand: Option<usize>,
    /// A reply to the datagram in hand was handed out.
    answered: bool,
    /// Datagrams told to the server.
    told: u64,
    /// Datagrams the server dropped for want of a free reply buffer.
    dropped: u64,
}

impl Datagrams {
    /// The traffic of `queue`, sorted by arrival.
    pub fn new(mut queue: Vec<Datagram>) -> Datagrams {
        queue.sort_by_key(|d| d.at);
        Datagrams {
            queue,
            next: 0,
            in_flight: Vec::new(),
            in_hand: None,
            answered: false,
            told: 0,
            dropped: 0,
        }
    }

    /// Every datagram has arrived and every reply has gone out.
    pub fn all_done(&self) -> bool {
        self.next == self.queue.len() && self.in_flight.is_empty()
    }

    /// Whether the next datagram arrives by `now`.
    pub fn arrival_due(&self, now: u64) -> bool {
        self.queue.get(self.next).is_some_and(|d| d.at <= now)
    }

    /// The replies that go out by `now`, in the order they were handed out.
    pub fn replies_due(&self, now: u64) -> impl Iterator<Item = u16> + '_ {
        self.in_flight
            .iter()
            .filter(move |r| r.due <= now)
            .map(|r| r.reply)
    }

    /// When the next datagram arrives or the next delayed reply goes out.
    pub fn next_time(&self) -> Option<u64> {
        let arrival = self.queue.get(self.next).map(|d| d.at);
        let reply = self.in_flight.iter().map(|r| r.due).min();
        match (arrival, reply) {
            (Some(a), Some(r)) => Some(a.min(r)),
            (a, r) => a.or(r),
        }
    }

    /// Datagrams told to the server, and those it dropped.
    pub fn counts(&self) -> (u64, u64) {
        (self.told, self.dropped)
    }
}

/// The address datagram `k` comes from.
fn datagram_peer(k: usize) -> PeerAddr {
    PeerAddr::V4([10, 1, (k >> 8) as u8, k as u8], 50_000 + k as u16)
}

/// What the UDP pong owes `data` with reply buffers of `size` bytes.
fn pong(data: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut want = b"pong:".to_vec();
    want.extend_from_slice(data);
    (want.len() <= size).then_some(want)
}

impl Sim<'_> {
    /// The next datagram arrives.
    pub(super) fn datagram_arrives(&mut self) {
        let k = self.datagrams.next;
        self.datagrams.next += 1;
        let Datagram { data, origin, .. } = self.datagrams.queue[k].clone();
        let size = self.config.datagram_size as usize;
        if data.len() > size {
            self.cov.hit("udp.too-long");
            if data.len() == size + 1 {
                self.cov.hit("udp.past-size");
            }
            tr!(
                self,
                "datagram d{k} of {} bytes, longer than {size}: dropped by the backend",
                data.len()
            );
            return;
        }
        if data.len() == size {
            // At the limit: served like any other.
            self.cov.hit("udp.at-size");
        }
        let replies = self.config.datagram_replies as usize;
        let all_in_flight = self.datagrams.in_flight.len() == replies;
        tr!(
            self,
            "datagram d{k} of {} bytes on socket {origin}, {} of {replies} replies in flight",
            data.len(),
            self.datagrams.in_flight.len()
        );
        let dropped_before = self.server.stats().datagrams_dropped;
        self.datagrams.in_hand = Some(k);
        self.datagrams.answered = false;
        let event = Event::Datagram {
            protocol: SimProtocol::Udp,
            origin,
            peer: datagram_peer(k),
            n: data.len(),
        };
        let told = self.tell(event, &data);
        self.datagrams.in_hand = None;
        if told.is_none() {
            return;
        }
        self.datagrams.told += 1;
        let dropped = self.server.stats().datagrams_dropped - dropped_before;
        let answered = self.datagrams.answered;
        if dropped > 0 {
            self.datagrams.dropped += dropped;
            self.cov.hit("check.datagram-dropped");
            tr!(self, "datagram d{k} dropped by the server");
            if !all_in_flight || answered || dropped > 1 {
                self.fail(format!(
                    "datagram d{k} dropped (counted {dropped}) with {} of {replies} reply \
                     buffers in flight{}",
                    self.datagrams.in_flight.len(),
                    if answered { ", and answered too" } else { "" }
                ));
            }
            return;
        }
        if all_in_flight {
            self.fail(format!(
                "datagram d{k} was served with every one of the {replies} reply buffers in \
                 flight: it must be dropped and counted"
            ));
            return;
        }
        match (pong(&data, size).is_some(), answered) {
            (true, true) => {}
            (false, false) => self.cov.hit("udp.reply-does-not-fit"),
            (owed, _) => self.fail(format!(
                "datagram d{k} of {} bytes with reply buffers of {size}: {}",
                data.len(),
                if owed {
                    "its pong fits, but no reply was handed out"
                } else {
                    "its pong does not fit, but a reply was handed out"
                }
            )),
        }
    }

    /// The server handed out `reply` ([`Op::SendDatagram`]): check it and put it in flight.
    pub(super) fn reply_handed_out(&mut self, reply: u16) {
        let r = self.server.datagram_reply(reply);
        self.digest.op(Op::SendDatagram(reply), [r.data, &[]]);
        let (bytes, protocol, origin, peer) = (r.data.to_vec(), r.protocol, r.origin, r.peer);
        let Some(k) = self.datagrams.in_hand else {
            self.fail(format!(
                "reply {reply} handed out while no datagram was being served"
            ));
            return;
        };
        if self.datagrams.answered {
            self.fail(format!("datagram d{k} answered twice"));
            return;
        }
        self.datagrams.answered = true;
        if reply as u32 >= self.config.datagram_replies
            || self.datagrams.in_flight.iter().any(|f| f.reply == reply)
        {
            self.fail(format!(
                "reply buffer {reply} handed out while in flight, or not one of the {}",
                self.config.datagram_replies
            ));
            return;
        }
        let d = &self.datagrams.queue[k];
        let want = pong(&d.data, self.config.datagram_size as usize);
        let right_way =
            protocol == SimProtocol::Udp && origin == d.origin && peer == datagram_peer(k);
        if want.as_deref() != Some(&bytes[..]) || !right_way {
            self.fail(format!(
                "datagram d{k}: reply {:?} from {protocol:?} to {peer} on socket {origin}; \
                 expected {:?} from Udp to {} on socket {}",
                String::from_utf8_lossy(&bytes),
                want.as_deref().map(String::from_utf8_lossy),
                datagram_peer(k),
                d.origin
            ));
            return;
        }
        if bytes.len() == self.config.datagram_size as usize {
            self.cov.hit("udp.reply-at-size");
        }
        let due = if self.rng.chance(self.p.faults.reply_delay) {
            self.cov.hit("udp.reply-delayed");
            self.now + self.rng.range(1, MAX_REPLY_DELAY_MS)
        } else {
            self.now
        };
        tr!(
            self,
            "op send reply {reply} for d{k} ({} bytes) at {due}",
            bytes.len()
        );
        self.datagrams
            .in_flight
            .push(InFlight { reply, bytes, due });
    }

    /// `reply` goes out: its bytes are what was handed out; the server's buffer is free again.
    pub(super) fn reply_sent(&mut self, reply: u16) {
        let Some(at) = self
            .datagrams
            .in_flight
            .iter()
            .position(|f| f.reply == reply)
        else {
            self.fail(format!("reply {reply} sent but not in flight"));
            return;
        };
        let sent = self.datagrams.in_flight.remove(at);
        if self.server.datagram_reply(reply).data != sent.bytes {
            self.fail(format!(
                "the bytes of reply {reply} changed before it was sent"
            ));
            return;
        }
        self.cov.hit("udp.answered");
        tr!(self, "reply {reply} sent");
        self.tell(Event::DatagramSent { reply }, &[]);
    }
}
