//! The connection flood: clients that connect and never complete their first request head,
//! arriving among the ordinary clients, and the oracle's rule for the connections the server
//! closes to make room ("shedding").
//!
//! The server's overload policy (zzz-core's `server::overload`) promises that when a newcomer
//! needs a slot, the connection closed for it is the one that has waited longest without a
//! complete first head; so a client that sends its request promptly is never the one shed
//! while an older silent connection is still there. [`Candidate`] is what the simulator knows
//! of each open connection at that moment, from its own bookkeeping (what the client wrote and
//! the server was handed), and [`judge_shed`] holds the victim against the rule.

use crate::rng::Rng;
use crate::swarm::WorkloadShape;
use crate::workload::{ClientKind, EndMode, Outcome, Pace, ReqSpec, Script};

/// The request a partial flood client starts and never finishes.
const PARTIAL_REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: flood\r\nAccept: */*\r\n\r\n";

/// The flood's clients: `shape.silent_clients` of them, connecting over the run; about a
/// third write part of a request head and stop there, the rest never write a byte.
pub fn silent_clients(shape: &WorkloadShape, rng: &mut Rng) -> Vec<Script> {
    (0..shape.silent_clients)
        .map(|_| {
            let partial = rng.below(3) == 0;
            let pace = Pace::Burst {
                max_chunk: 1 << 20,
                gap_ms: 0,
            };
            let mut script = Script {
                connect_at: rng.range(0, shape.spread_ms + 1),
                ..Script::new(ClientKind::Http, "client.silent", pace, EndMode::Idle)
            };
            if partial {
                let stop_at = rng.range_usize(1, PARTIAL_REQUEST.len() - 4);
                script.class = "client.silent-partial";
                // It writes the beginning of the head and nothing more, ever: only a 408 (its
                // head deadline) or a shed can end it, never a response.
                script.bytes = PARTIAL_REQUEST[..stop_at].to_vec();
                script.requests.push(ReqSpec {
                    start: 0,
                    body_start: PARTIAL_REQUEST.len(),
                    end: PARTIAL_REQUEST.len(),
                    expect_continue: false,
                    head_method: false,
                    outcome: Outcome::Reject(408),
                    class: "flood.partial-head",
                    may_need_block: false,
                });
            }
            script
        })
        .collect()
}

/// What the simulator knows of an open connection when the server sheds one.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// The client's number, for messages.
    pub id: usize,
    /// Accept order: lower was accepted earlier.
    pub accept_seq: u64,
    /// When it was accepted, in simulated ms.
    pub accept_at: u64,
    /// Bytes the server has been handed.
    pub delivered: usize,
    /// Where the first request's head ends, when the client's first request is one the server
    /// must answer (so the generator knows its head is complete there); `None` for a silent
    /// client (no request) and for raw TCP (whose first byte proves it).
    pub head_end: Option<usize>,
    /// It is a raw-TCP connection.
    pub tcp: bool,
    /// The client's first request is invalid: the server may reject it at any byte.
    pub invalid_first: bool,
    /// The server has posted a send on it (an answer is under way).
    pub answered: bool,
    /// The server has been handed its EOF.
    pub eof: bool,
}

impl Candidate {
    /// Whether the connection may still be without a complete first head (or first byte), as
    /// far as the simulator can tell.
    fn may_be_unproven(&self) -> bool {
        if self.answered || self.eof {
            return false;
        }
        if self.tcp {
            return self.delivered == 0;
        }
        match self.head_end {
            Some(end) => self.delivered < end,
            None => true,
        }
    }

    /// Whether the connection certainly has no complete first head: the server must prefer
    /// it to any younger connection.
    fn surely_unproven(&self) -> bool {
        self.may_be_unproven() && (self.delivered == 0 || !self.invalid_first)
    }
}

/// When and under which rules a connection was shed.
#[derive(Clone, Copy, Debug)]
pub struct ShedTime {
    /// The simulator's time.
    pub now: u64,
    /// How far the server's clock ever lagged the simulator's (a regressing clock).
    pub lag: u64,
    /// The server's `shed_grace_ms`.
    pub grace_ms: u64,
}

/// Checks that shedding `victim` follows the overload policy, given every other connection
/// that is open (and not closing) at that moment.
pub fn judge_shed(victim: &Candidate, others: &[Candidate], at: ShedTime) -> Result<(), String> {
    if at.now + at.lag < victim.accept_at + at.grace_ms {
        return Err(format!(
            "the server shed c{} {} ms after its accept, within its {} ms grace period",
            victim.id,
            at.now.saturating_sub(victim.accept_at),
            at.grace_ms
        ));
    }
    if !victim.may_be_unproven() {
        return Err(format!(
            "the server shed c{} to make room, but it had delivered its first request head \
             ({} bytes) or was being answered: a prompt client must never be shed",
            victim.id, victim.delivered
        ));
    }
    if let Some(older) = others
        .iter()
        .filter(|w| w.accept_seq < victim.accept_seq && w.surely_unproven())
        .min_by_key(|w| w.accept_seq)
    {
        return Err(format!(
            "the server shed c{}, but c{} was accepted earlier and had not completed a head \
             either ({} bytes delivered): the oldest must go first",
            victim.id, older.id, older.delivered
        ));
    }
    Ok(())
}
