//! The main loop: at each step, every event that could happen now, and one of them chosen by
//! the seed; when none can (or the seed says so), time moves on. Bounded in steps and in
//! simulated time: a run that reaches either bound is stuck, and fails.

use zzz_core::{Event, OpKind};

use super::Sim;
use super::conn::State;

/// Most steps one seed may take before it is declared stuck.
const MAX_STEPS: u64 = 3_000_000;
/// Most simulated time one seed may take.
const MAX_SIM_MS: u64 = 6 * 3600 * 1000;

/// Something that can happen now.
#[derive(Clone, Copy, Debug)]
pub(super) enum Action {
    /// Client `i` writes.
    Write(usize),
    /// The receive posted on client `i`'s slot completes.
    Recv(usize),
    /// The send posted on client `i`'s slot completes.
    Send(usize),
    /// An operation on client `i`'s slot fails: broken (`true`) or to be retried.
    Fail(usize, OpKind, bool),
    /// The close of client `i`'s slot meets the operation still posted on it.
    Cancel(usize, OpKind),
    /// The close of client `i`'s slot completes.
    Closed(usize),
    /// The listener accepts client `i`.
    Accept(usize),
    /// Client `i` ends its side (EOF or reset).
    ClientEnd(usize),
    /// The next datagram arrives.
    Datagram,
    /// The datagram reply handed out under this number goes out.
    ReplySent(u16),
    /// The backend asks the server to make room for the connections that wait.
    MakeRoom,
}

impl Sim<'_> {
    pub(super) fn main_loop(&mut self) {
        loop {
            if self.failure.is_some() {
                return;
            }
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.fail(format!("no end after {MAX_STEPS} steps"));
                return;
            }
            if self.now > MAX_SIM_MS {
                self.fail(format!("no end after {MAX_SIM_MS} simulated ms"));
                return;
            }
            self.connect_due();
            self.mqtt_commit_due();
            if self.all_done() {
                return;
            }
            self.maybe_shut_down();
            self.collect_ready();
            let step_time = self.rng.chance(self.p.faults.time_step);
            if self.ready.is_empty() || step_time {
                let target = if self.ready.is_empty() {
                    match self.next_time() {
                        Some(t) => t,
                        None => {
                            let open = self.describe_open();
                            self.fail(format!(
                                "stuck: nothing can happen, no timer is armed, and connections \
                                 are still open: {open}"
                            ));
                            return;
                        }
                    }
                } else {
                    self.now + self.rng.range(1, self.config.timer_tick_ms as u64)
                };
                self.advance(target);
                continue;
            }
            let pick = self.pick();
            self.perform(pick);
        }
    }

    /// Every client is gone, every datagram has arrived and every reply has gone out.
    fn all_done(&self) -> bool {
        self.datagrams.all_done() && self.conns.iter().all(|c| c.state == State::Done)
    }

    /// The connections still open, for the report of a stuck run.
    fn describe_open(&self) -> String {
        let open: Vec<String> = self
            .conns
            .iter()
            .filter(|c| c.state != State::Done)
            .map(|c| {
                format!(
                    "c{} {:?} written {}/{} delivered {} recv {} send {} fin {}",
                    c.id,
                    c.state,
                    c.written,
                    c.script.bytes.len(),
                    c.delivered,
                    c.recv.is_some(),
                    c.send.is_some(),
                    c.server_fin
                )
            })
            .collect();
        open.join("; ")
    }

    fn connect_due(&mut self) {
        for i in 0..self.conns.len() {
            if self.conns[i].state == State::Waiting && self.conns[i].script.connect_at <= self.now
            {
                self.conns[i].state = State::Backlog;
                tr!(self, "c{i} connects");
            }
        }
    }

    /// When the seed drains the server: once every client has written all it will and read
    /// all it expects, a graceful shutdown.
    fn maybe_shut_down(&mut self) {
        if !self.p.shape.drain || self.draining {
            return;
        }
        let finished = self
            .conns
            .iter()
            .all(|c| c.state == State::Done || (c.state == State::Open && self.client_finished(c)));
        if finished {
            self.draining = true;
            self.cov.hit("server.drain");
            tr!(self, "shutdown");
            self.tell(Event::Shutdown, &[]);
        }
    }

    /// Gathers what can happen now into `self.ready`, each with its posting order (completions
    /// of older operations have lower numbers; `u64::MAX` for the rest).
    fn collect_ready(&mut self) {
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        let f = self.p.faults;
        let can_accept = self.server.can_accept();
        let eager = self.p.shape.eager_accept;
        let mut backlog = false;
        for i in 0..self.conns.len() {
            let c = &self.conns[i];
            match c.state {
                State::Waiting | State::Done => continue,
                State::Backlog => {
                    backlog = true;
                    // An eager backend accepts each arrival at once, whether or not a slot is
                    // free; a refused one waits in its waiting room for a free slot.
                    if can_accept || (eager && !c.waiting) {
                        ready.push((Action::Accept(i), u64::MAX));
                    }
                }
                State::Open => {
                    if let Some(seq) = c.recv {
                        let limit = c.written;
                        let eof = c.client_eof && !c.eof_delivered && c.delivered == c.written;
                        let data = c.delivered < limit || eof;
                        if c.reset || data {
                            ready.push((Action::Recv(i), seq));
                        }
                        let may_retry = !c.reset && c.retried_at != Some(self.now);
                        if may_retry && self.rng.chance(f.retry) {
                            ready.push((Action::Fail(i, OpKind::Recv, false), seq));
                        }
                        if !c.reset && self.rng.chance(f.broken) {
                            ready.push((Action::Fail(i, OpKind::Recv, true), seq));
                        }
                    }
                    if let Some(s) = &c.send {
                        if c.reset || self.reading(c) {
                            ready.push((Action::Send(i), s.seq));
                        }
                        let may_retry = !c.reset && c.retried_at != Some(self.now);
                        if may_retry && self.rng.chance(f.retry) {
                            ready.push((Action::Fail(i, OpKind::Send, false), s.seq));
                        }
                        if !c.reset && self.rng.chance(f.broken) {
                            ready.push((Action::Fail(i, OpKind::Send, true), s.seq));
                        }
                    }
                }
                State::Closing => {
                    if let Some(seq) = c.recv {
                        ready.push((Action::Cancel(i, OpKind::Recv), seq));
                    }
                    if let Some(s) = &c.send {
                        ready.push((Action::Cancel(i, OpKind::Send), s.seq));
                    }
                    if c.recv.is_none() && c.send.is_none() {
                        ready.push((Action::Closed(i), u64::MAX));
                    }
                }
            }
            let c = &self.conns[i];
            if matches!(c.state, State::Backlog | State::Open) && !c.reset && !c.client_eof {
                if c.written < self.write_limit(c) && c.next_write_at <= self.now {
                    ready.push((Action::Write(i), u64::MAX));
                } else if self.wants_to_end(c) {
                    ready.push((Action::ClientEnd(i), u64::MAX));
                }
            }
        }
        if backlog && !can_accept {
            self.cov.hit("fault.slots-exhausted");
        }
        // As a backend does once per loop turn: here at most once per simulated millisecond.
        if self.waiting > 0 && self.made_room_at != Some(self.now) {
            ready.push((Action::MakeRoom, u64::MAX));
        }
        if self.datagrams.arrival_due(self.now) {
            ready.push((Action::Datagram, u64::MAX));
        }
        for reply in self.datagrams.replies_due(self.now) {
            ready.push((Action::ReplySent(reply), u64::MAX));
        }
        self.ready = ready;
    }

    /// One of the ready actions: the oldest completion (as often as the seed's `in_order`
    /// says), or any.
    fn pick(&mut self) -> Action {
        let completions = |a: &Action| {
            matches!(
                a,
                Action::Recv(_) | Action::Send(_) | Action::Fail(..) | Action::Cancel(..)
            )
        };
        let oldest = self
            .ready
            .iter()
            .filter(|(a, _)| completions(a))
            .map(|(_, s)| *s)
            .min();
        let (action, seq) = if self.rng.chance(self.p.faults.in_order)
            && let Some(min) = oldest
        {
            *self.ready.iter().find(|(_, s)| *s == min).expect("present")
        } else {
            self.ready[self.rng.below(self.ready.len() as u64) as usize]
        };
        if completions(&action) && oldest.is_some_and(|m| seq > m) {
            self.cov.hit("fault.reordered");
        }
        action
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Write(i) => self.client_write(i),
            Action::Recv(i) => self.complete_recv(i, false),
            Action::Send(i) => self.complete_send(i, false),
            Action::Fail(i, op, broken) => self.fail_op(i, op, broken),
            Action::Cancel(i, op) => self.cancel(i, op),
            Action::Closed(i) => self.finish_close(i),
            Action::Accept(i) => self.accept(i),
            Action::ClientEnd(i) => self.client_end(i),
            Action::Datagram => self.datagram_arrives(),
            Action::ReplySent(reply) => self.reply_sent(reply),
            Action::MakeRoom => self.make_room(),
        }
    }
}
