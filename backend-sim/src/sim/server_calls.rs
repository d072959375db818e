//! Telling the server what happened, and taking the operations it asks for.
//!
//! Every event is recorded (when the run records), guarded against a panic and checked not
//! to allocate; then the operations it caused are drained, each checked as it comes out: it
//! is for a slot that holds a connection the server has not asked to close, at most one
//! receive and one send are posted per slot, a send is never empty, a shutdown never overtakes
//! a posted send. The simulated network then completes them ([`super::network`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use zzz_apps::bench::BenchState;
use zzz_core::{Event, Handled, Op, Protocols, SlotId};

use super::Sim;
use super::conn::{PostedSend, State};
use crate::alloc;
use crate::app::{SimModules, SimProtocol};
use crate::panics::panic_message;
use crate::record::Record;
use crate::workload::ClientKind;

/// The slot an event is about, if it is about one.
fn event_slot(event: &Event<SimProtocol>) -> Option<SlotId> {
    match *event {
        Event::Received { slot, .. }
        | Event::Sent { slot, .. }
        | Event::Failed { slot, .. }
        | Event::Closed { slot } => Some(slot),
        _ => None,
    }
}

impl Sim<'_> {
    /// Tells the server `event` with the bytes it brought (a receive's, written into the
    /// posted receive's buffer first; a datagram's, into the datagram buffer), then drains
    /// the operations it asks for (unless the caller defers that). `None` when the server
    /// panicked.
    pub(super) fn tell(&mut self, event: Event<SimProtocol>, data: &[u8]) -> Option<Handled> {
        if let Some(rec) = self.recording.as_mut() {
            let numbered = event.map_protocol(<SimModules as Protocols<BenchState>>::id_index);
            rec.push(Record::with_data(numbered, data.to_vec()));
        }
        let before_stats = *self.server.stats();
        let before = alloc::allocations();
        let server = &mut self.server;
        let result = catch_unwind(AssertUnwindSafe(|| {
            match event {
                Event::Received { slot, n } => server.recv_buffer(slot)[..n].copy_from_slice(data),
                Event::Datagram { n, .. } => server.datagram_buffer()[..n].copy_from_slice(data),
                _ => {}
            }
            server.handle(event)
        }));
        let allocated = alloc::allocations() - before;
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic_message(&panic);
                self.fail(format!("the server panicked: {msg}"));
                return None;
            }
        };
        if allocated > 0 {
            self.fail(format!(
                "the server allocated {allocated} times after Server::new"
            ));
        }
        self.observe_kv(&event);
        self.observe_room(&event);
        self.observe_mqtt(&event);
        let stats = *self.server.stats();
        if stats.pool_exhausted > before_stats.pool_exhausted
            && let Some(s) = event_slot(&event)
            && let Some(i) = self.slots[s as usize]
        {
            self.conns[i].http.pool_credits +=
                (stats.pool_exhausted - before_stats.pool_exhausted) as u32;
        }
        if stats.shed + stats.reclaimed != before_stats.shed + before_stats.reclaimed
            && self.making_room.is_none()
        {
            self.fail("the server closed connections to make room outside MakeRoom".into());
        }
        if !self.defer_drain {
            self.drain();
        }
        Some(result)
    }

    /// Takes every operation the server asks for, checks it and posts it on the simulated
    /// network. At most [`Server::op_budget`](zzz_core::Server::op_budget) of them: nothing
    /// is reported to the server meanwhile.
    pub(super) fn drain(&mut self) {
        for _ in 0..self.server.op_budget() {
            let before = alloc::allocations();
            let op = catch_unwind(AssertUnwindSafe(|| self.server.poll_op()));
            let op = match op {
                Ok(Some(op)) => op,
                Ok(None) => return,
                Err(panic) => {
                    let msg = panic_message(&panic);
                    self.fail(format!("the server panicked in poll_op: {msg}"));
                    return;
                }
            };
            if alloc::allocations() != before {
                self.fail("the server allocated in poll_op".into());
            }
            let slot = match op {
                Op::Recv(s) | Op::Send(s) | Op::Shutdown(s) | Op::Close(s) => s,
                Op::SendDatagram(reply) => {
                    self.reply_handed_out(reply);
                    continue;
                }
            };
            let Some(i) = self.slots.get(slot as usize).copied().flatten() else {
                self.fail(format!("{op:?} for slot {slot}, which has no connection"));
                return;
            };
            if self.conns[i].state != State::Open {
                self.fail(format!(
                    "{op:?} for slot {slot} after the server asked to close it"
                ));
                return;
            }
            let posted = match op {
                Op::Recv(_) => self.post_recv(i),
                Op::Send(_) => self.post_send(i),
                Op::Shutdown(_) => self.post_shutdown(i),
                Op::Close(_) => self.post_close(i),
                Op::SendDatagram(_) => unreachable!("handled above"),
            };
            if !posted {
                return;
            }
        }
        self.fail(format!(
            "poll_op handed out more than its op_budget of {} operations in one drain",
            self.server.op_budget()
        ));
    }

    fn post_recv(&mut self, i: usize) -> bool {
        let slot = self.conns[i].slot;
        self.digest.op(Op::Recv(slot), [&[], &[]]);
        if self.conns[i].recv.is_some() {
            self.fail(format!("two receives posted on slot {slot}"));
            return false;
        }
        self.seq += 1;
        self.conns[i].recv = Some(self.seq);
        tr!(self, "op recv s{slot} (c{i})");
        true
    }

    fn post_send(&mut self, i: usize) -> bool {
        let slot = self.conns[i].slot;
        let parts = self.server.send_parts(slot);
        self.digest.op(Op::Send(slot), parts);
        let mut bytes = Vec::with_capacity(parts[0].len() + parts[1].len());
        bytes.extend_from_slice(parts[0]);
        bytes.extend_from_slice(parts[1]);
        if self.conns[i].send.is_some() {
            self.fail(format!("two sends posted on slot {slot}"));
            return false;
        }
        if bytes.is_empty() {
            self.fail(format!("a send of nothing posted on slot {slot}"));
            return false;
        }
        if self.conns[i].server_fin {
            self.fail(format!(
                "a send posted on slot {slot} after its sending side was shut down"
            ));
            return false;
        }
        self.seq += 1;
        tr!(self, "op send s{slot} (c{i}) {} bytes", bytes.len());
        let now = self.now;
        let c = &mut self.conns[i];
        if !c.answered {
            c.delivered_at_first_send = c.delivered;
        }
        c.answered = true;
        if !c.send_retrying {
            c.send_since = now;
        }
        c.send_retrying = false;
        c.send = Some(PostedSend {
            seq: self.seq,
            posted_at: now,
            bytes,
        });
        true
    }

    fn post_shutdown(&mut self, i: usize) -> bool {
        let slot = self.conns[i].slot;
        self.digest.op(Op::Shutdown(slot), [&[], &[]]);
        if self.conns[i].send.is_some() {
            self.fail(format!("shutdown of slot {slot} while a send is posted"));
            return false;
        }
        self.conns[i].server_fin = true;
        tr!(self, "op shutdown s{slot} (c{i})");
        if self.conns[i].script.kind == ClientKind::Mqtt {
            self.mqtt_close_requested(i, true);
        }
        true
    }

    fn post_close(&mut self, i: usize) -> bool {
        let slot = self.conns[i].slot;
        self.digest.op(Op::Close(slot), [&[], &[]]);
        let now = self.now;
        let (lag, tick) = (self.lag, self.config.timer_tick_ms as u64);
        let stall_ms = self.config.timeouts.send_stall_ms;
        let c = &mut self.conns[i];
        c.state = State::Closing;
        c.close_at = now;
        c.delivered_at_close = c.delivered;
        // A send stall: output waited for the client (or the network) longer than the stall
        // timeout since the last progress.
        c.stalled_send = c.send.is_some() && now + lag + tick >= c.send_since + stall_ms;
        // Making room closes only idle connections (which have been answered) and connections
        // without a complete first head (which cannot have been).
        let proven = match c.script.kind {
            ClientKind::Kv => c.kv_proven(),
            _ => c.answered,
        };
        if let Some((shed, reclaimed)) = &mut self.making_room {
            if proven {
                *reclaimed += 1;
                c.reclaimed = true;
            } else {
                *shed += 1;
                c.shed = true;
                self.judge_shed(i);
            }
        }
        tr!(self, "op close s{slot} (c{i})");
        if self.conns[i].script.kind == ClientKind::Mqtt {
            self.mqtt_close_requested(i, false);
        }
        true
    }
}
