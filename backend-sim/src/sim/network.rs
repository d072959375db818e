//! The simulated network completing the operations the server posted, with its faults:
//! receives and sends that complete whole, partially or one byte at a time; retryable
//! failures (`EAGAIN`, `EINTR`, `ECANCELED`, the end of a multishot receive); broken sockets
//! (`ECONNRESET`, `EPIPE`); and at a close, operations still posted that are cancelled,
//! complete anyway, or vanish, before the close itself completes.

use std::panic::{AssertUnwindSafe, catch_unwind};

use zzz_core::{Event, IoError, OpKind};

use super::Sim;
use super::conn::State;
use crate::panics::panic_message;

impl Sim<'_> {
    /// The receive posted on client `i`'s slot completes (after the server asked to close,
    /// when `after_close`).
    pub(super) fn complete_recv(&mut self, i: usize, after_close: bool) {
        let slot = self.conns[i].slot;
        let f = self.p.faults;
        self.conns[i].recv = None;
        if self.conns[i].reset && !after_close {
            tr!(self, "s{slot} recv fails ECONNRESET");
            self.cov.hit("fault.broken-recv");
            self.tell_failed(i, OpKind::Recv, IoError::Broken);
            return;
        }
        let limit = self.conns[i].written;
        let c = &self.conns[i];
        if c.delivered < limit {
            let avail = limit - c.delivered;
            let room = match catch_unwind(AssertUnwindSafe(|| self.server.recv_buffer(slot).len()))
            {
                Ok(n) => n,
                Err(p) => {
                    let msg = panic_message(&p);
                    self.fail(format!("the server panicked in recv_buffer: {msg}"));
                    return;
                }
            };
            if room == 0 && !after_close {
                self.fail(format!("a receive was posted on slot {slot} into no space"));
                return;
            }
            let mut n = avail.min(room);
            if n > 1 && self.rng.chance(f.partial_recv) {
                n = if self.rng.chance(f.one_byte) {
                    self.cov.hit("fault.one-byte-recv");
                    1
                } else {
                    self.rng.range_usize(1, n - 1)
                };
                self.cov.hit("fault.partial-recv");
            }
            let from = self.conns[i].delivered;
            let mut data = std::mem::take(&mut self.scratch);
            data.clear();
            data.extend_from_slice(&self.conns[i].script.bytes[from..from + n]);
            tr!(
                self,
                "s{slot} recv {n} bytes of {avail}{}",
                if after_close { " (after close)" } else { "" }
            );
            self.tell(Event::Received { slot, n }, &data);
            self.scratch = data;
            let now = self.now;
            let c = &mut self.conns[i];
            c.delivered += n;
            if !after_close {
                c.last_activity = now;
            }
        } else {
            // EOF (or, after a close, nothing: report the cancellation).
            if after_close && (!c.client_eof || c.eof_delivered) {
                self.cancelled(i, OpKind::Recv);
                return;
            }
            self.conns[i].eof_delivered = true;
            tr!(self, "s{slot} recv EOF");
            self.tell(Event::Received { slot, n: 0 }, &[]);
        }
    }

    /// The send posted on client `i`'s slot completes (after the server asked to close, when
    /// `after_close`): the client reads what went out.
    pub(super) fn complete_send(&mut self, i: usize, after_close: bool) {
        let slot = self.conns[i].slot;
        let f = self.p.faults;
        let posted = self.conns[i].send.take().expect("a posted send");
        if self.conns[i].reset && !after_close {
            tr!(self, "s{slot} send fails EPIPE");
            self.cov.hit("fault.broken-send");
            self.tell_failed(i, OpKind::Send, IoError::Broken);
            return;
        }
        // The bytes of a posted send must not change until it completes.
        let parts = self.server.send_parts(slot);
        let mut same = true;
        let mut k = 0;
        for part in parts {
            for &b in part {
                if k >= posted.bytes.len() {
                    break;
                }
                same &= posted.bytes[k] == b;
                k += 1;
            }
        }
        if !same || k < posted.bytes.len() {
            self.fail(format!(
                "the bytes of the send posted on slot {slot} changed before it completed"
            ));
            return;
        }
        let total = posted.bytes.len();
        let mut n = total;
        if n > 1 && self.rng.chance(f.partial_send) {
            n = if self.rng.chance(f.one_byte) {
                self.cov.hit("fault.one-byte-send");
                1
            } else {
                self.rng.range_usize(1, n - 1)
            };
            self.cov.hit("fault.partial-send");
        }
        tr!(
            self,
            "s{slot} sent {n} of {total} bytes{}",
            if after_close { " (after close)" } else { "" }
        );
        self.deliver_to_client(i, &posted.bytes[..n], posted.posted_at);
        self.tell(Event::Sent { slot, n }, &[]);
        if !after_close {
            self.conns[i].last_activity = self.now;
            if n > 0 {
                self.conns[i].send_since = self.now;
            }
        }
    }

    /// An operation posted on client `i`'s slot fails: the socket broke (`broken`), or a
    /// retryable error.
    pub(super) fn fail_op(&mut self, i: usize, op: OpKind, broken: bool) {
        let slot = self.conns[i].slot;
        match op {
            OpKind::Recv => self.conns[i].recv = None,
            OpKind::Send => self.conns[i].send = None,
        }
        let error = if broken {
            let c = &mut self.conns[i];
            c.reset = true;
            c.excused = true;
            self.cov.hit(match op {
                OpKind::Recv => "fault.broken-recv",
                OpKind::Send => "fault.broken-send",
            });
            tr!(self, "s{slot} {op:?} fails ECONNRESET (network)");
            IoError::Broken
        } else {
            self.conns[i].retried_at = Some(self.now);
            let kinds: &[&'static str] = match op {
                OpKind::Recv => &["eagain", "eintr", "ecanceled", "multishot-ended"],
                OpKind::Send => &["eagain", "eintr", "ecanceled"],
            };
            let kind = *self.rng.pick(kinds);
            self.cov.hit(match kind {
                "eagain" => "fault.eagain",
                "eintr" => "fault.eintr",
                "ecanceled" => "fault.ecanceled",
                _ => "fault.multishot-ended",
            });
            tr!(self, "s{slot} {op:?} fails {kind} (retry)");
            if op == OpKind::Send {
                self.conns[i].send_retrying = true;
            }
            IoError::Retry
        };
        self.tell_failed(i, op, error);
    }

    fn tell_failed(&mut self, i: usize, op: OpKind, error: IoError) {
        let slot = self.conns[i].slot;
        self.tell(Event::Failed { slot, op, error }, &[]);
    }

    /// The close cancelled the operation posted on client `i`'s slot (`ECANCELED`).
    fn cancelled(&mut self, i: usize, op: OpKind) {
        let slot = self.conns[i].slot;
        tr!(self, "s{slot} {op:?} cancelled by the close (ECANCELED)");
        self.cov.hit("fault.cancel-on-close");
        self.tell_failed(i, op, IoError::Retry);
    }

    /// The close of client `i`'s slot meets the operation still posted on it: cancelled,
    /// completed anyway, or gone without a word (all three are allowed by `Op::Close`).
    pub(super) fn cancel(&mut self, i: usize, op: OpKind) {
        let f = self.p.faults;
        let choice = if self.rng.chance(f.cancel_on_close) {
            0
        } else {
            self.rng.range(1, 2)
        };
        match (choice, op) {
            (0, OpKind::Recv) => {
                self.conns[i].recv = None;
                self.cancelled(i, op);
            }
            (0, OpKind::Send) => {
                self.cancelled(i, op);
                self.conns[i].send = None;
            }
            (1, OpKind::Recv) => {
                self.cov.hit("fault.complete-after-close");
                self.complete_recv(i, true);
            }
            (1, OpKind::Send) => {
                self.cov.hit("fault.complete-after-close");
                self.complete_send(i, true);
            }
            (_, OpKind::Recv) => {
                let slot = self.conns[i].slot;
                tr!(self, "s{slot} recv dropped silently by the close");
                self.conns[i].recv = None;
            }
            (_, OpKind::Send) => {
                let slot = self.conns[i].slot;
                tr!(self, "s{slot} send dropped silently by the close");
                self.conns[i].send = None;
            }
        }
    }

    /// The close of client `i`'s slot completes: the slot is free, the connection over.
    pub(super) fn finish_close(&mut self, i: usize) {
        let slot = self.conns[i].slot;
        tr!(self, "s{slot} closed (c{i})");
        self.tell(Event::Closed { slot }, &[]);
        self.slots[slot as usize] = None;
        self.conns[i].state = State::Done;
        self.end_connection(i);
    }
}
