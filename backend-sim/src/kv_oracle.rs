//! The oracle of the key-value clients: every reply the server writes to a key-value
//! connection is judged as it is written, against the store model ([`crate::kv_model`]) at
//! the server's time then, and in the order the server executes commands across every
//! connection (the order their replies are written in); what the client reads must be
//! those bytes; when the connection ends, no command the server received whole may be left
//! without its reply, and a close must have its reason.
//!
//! Judged as replies are written:
//! - each reply answers the oldest item of the connection's script not yet answered, which
//!   the server must have received whole (or, for a protocol error, enough of);
//! - it is the reply the model predicts, byte for byte (or one of the few the model allows,
//!   see [`crate::kv_model`]);
//! - nothing follows a reply that closes the connection (`QUIT`, a protocol error).
//!
//! Judged when the connection ends: every reply written was read (unless a fault explains
//! it), no item received whole is unanswered, and the server closed for a reason: the
//! client's EOF, a closing reply, a partial command older than the head timeout, or an idle
//! connection older than the module's idle timeout ([`crate::app::KV_IDLE_MS`]).

use crate::kv_model::KvModel;
use crate::oracle::{Ending, Timing};
use crate::workload::{KvItem, KvWhat};

/// A key-value client's view: what the server wrote to it and what it read.
#[derive(Debug, Default)]
pub struct KvView {
    /// Every byte the server has queued for the connection, in order.
    pub written: Vec<u8>,
    /// Bytes the server was told were sent.
    pub acked: usize,
    /// Bytes of `written` judged.
    judged: usize,
    /// The server's time when the bytes not yet judged were written.
    written_at: u64,
    /// Items answered.
    pub answered: usize,
    /// Where each answered item's reply ends in `written`.
    reply_ends: Vec<usize>,
    /// Bytes the client has read.
    pub read: usize,
    /// A reply that closes the connection was written.
    pub finished: bool,
    /// The client reset the connection: its end is not judged.
    pub gave_up: bool,
    /// The first failure found.
    pub failure: Option<String>,
    /// Coverage classes to count (drained by the simulator).
    pub hits: Vec<&'static str>,
}

/// At most this much of a reply is quoted in a failure.
const QUOTE: usize = 80;

fn quote(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(QUOTE)];
    let more = if bytes.len() > QUOTE { "..." } else { "" };
    format!("{:?}{more}", String::from_utf8_lossy(shown))
}

/// An item, for failure messages.
fn describe(item: &KvItem) -> String {
    match &item.what {
        KvWhat::Command(args) => {
            let words: Vec<String> = args
                .iter()
                .take(4)
                .map(|a| quote(&a[..a.len().min(24)]))
                .collect();
            format!("`{}`", words.join(" "))
        }
        KvWhat::ProtocolError(e) => format!("malformed input (owed {e:?})"),
        KvWhat::Never => "bytes after the closing reply".into(),
    }
}

impl KvView {
    /// Replies the client has read whole.
    pub fn replies_read(&self) -> usize {
        self.reply_ends
            .iter()
            .take_while(|&&e| e <= self.read)
            .count()
    }

    /// The server queued `bytes` more at its time `now`, having received `delivered` bytes:
    /// judges every whole reply among what is not judged yet.
    pub fn on_written(
        &mut self,
        bytes: &[u8],
        now: u64,
        delivered: usize,
        items: &[KvItem],
        model: &mut KvModel,
    ) {
        if self.judged == self.written.len() {
            self.written_at = now;
        }
        self.written.extend_from_slice(bytes);
        // Bounded: each round judges a reply, or stops.
        while self.failure.is_none() && self.judged < self.written.len() {
            if self.finished {
                self.failure = Some(format!(
                    "{} bytes written after the reply that closes the connection",
                    self.written.len() - self.judged
                ));
                return;
            }
            let k = self.answered;
            let Some(item) = items.get(k) else {
                self.failure = Some(format!(
                    "a reply to no command: {}",
                    quote(&self.written[self.judged..])
                ));
                return;
            };
            if item.what == KvWhat::Never {
                self.failure = Some(format!(
                    "item #{k} was sent after a reply that closes the connection, yet it was \
                     answered: {}",
                    quote(&self.written[self.judged..])
                ));
                return;
            }
            if item.due > delivered {
                self.failure = Some(format!(
                    "item #{k} {} answered when the server had {} of its bytes (it needs {})",
                    describe(item),
                    delivered.saturating_sub(item.cmd_start),
                    item.due - item.cmd_start
                ));
                return;
            }
            let got = &self.written[self.judged..];
            let matched = match &item.what {
                KvWhat::Command(args) => {
                    let expectation = model.expect(args, self.written_at);
                    let found = expectation
                        .alternatives
                        .iter()
                        .find(|a| got.starts_with(&a.bytes))
                        .cloned();
                    match found {
                        Some(a) => {
                            model.apply(&expectation, &a);
                            if KvModel::expired(&expectation) {
                                self.hits.push("kv.expired");
                            }
                            self.hits.extend(a.classes.iter().copied());
                            Some(a.bytes.len())
                        }
                        None if expectation
                            .alternatives
                            .iter()
                            .any(|a| a.bytes.starts_with(got)) =>
                        {
                            return; // The rest of the reply is still to come.
                        }
                        None => {
                            let want: Vec<String> = expectation
                                .alternatives
                                .iter()
                                .map(|a| quote(&a.bytes))
                                .collect();
                            self.failure = Some(format!(
                                "item #{k} {} at {} ms: expected {}, got {}",
                                describe(item),
                                self.written_at,
                                want.join(" or "),
                                quote(got)
                            ));
                            None
                        }
                    }
                }
                KvWhat::ProtocolError(e) => {
                    let want = format!("-{e}\r\n").into_bytes();
                    if got.starts_with(&want) {
                        self.hits.push("kv.protocol-error");
                        if *e == crate::kv_model::TOO_LARGE {
                            self.hits.push("kv.too-large");
                        }
                        Some(want.len())
                    } else if want.starts_with(got) {
                        return;
                    } else {
                        self.failure = Some(format!(
                            "item #{k} {}: expected {}, got {}",
                            describe(item),
                            quote(&want),
                            quote(got)
                        ));
                        None
                    }
                }
                KvWhat::Never => unreachable!("judged above"),
            };
            let Some(len) = matched else { return };
            self.judged += len;
            self.reply_ends.push(self.judged);
            self.answered += 1;
            self.hits.push("kv.answered");
            if item.inline {
                self.hits.push("kv.inline");
            }
            if items.get(k + 1).is_some_and(|next| next.end <= delivered) {
                // The next command was in already: served from one read, in order.
                self.hits.push("kv.pipelined");
            }
            self.finished = item.closes();
        }
    }

    /// The client read `bytes`: they must be what the server wrote.
    pub fn on_read(&mut self, bytes: &[u8]) {
        if self.gave_up || self.failure.is_some() {
            return;
        }
        let expected = self.written.get(self.read..self.read + bytes.len());
        if expected != Some(bytes) {
            self.failure = Some(format!(
                "the client read {} at byte {}, which the server never wrote there",
                quote(bytes),
                self.read
            ));
            return;
        }
        self.read += bytes.len();
    }

    /// The connection ended.
    pub fn on_end(&mut self, items: &[KvItem], t: &Timing<'_>, end: &Ending, idle_ms: u64) {
        if self.gave_up || self.failure.is_some() || end.excused {
            return;
        }
        if self.read < self.written.len() {
            self.failure = Some(format!(
                "the connection closed with {} bytes of replies written and never sent",
                self.written.len() - self.read
            ));
            return;
        }
        if self.finished {
            return;
        }
        let left = &items[self.answered.min(items.len())..];
        if let Some(k) = left
            .iter()
            .position(|it| it.what != KvWhat::Never && it.due <= end.delivered)
        {
            let k = self.answered + k;
            self.failure = Some(format!(
                "item #{k} {} reached the server whole but the connection closed without its \
                 reply",
                describe(&items[k])
            ));
            return;
        }
        if end.saw_eof || end.reclaimed || end.shed {
            return;
        }
        let partial = left
            .first()
            .is_some_and(|it| it.what != KvWhat::Never && it.partly_in(end.delivered));
        let (timeout, what) = if partial {
            (t.timeouts.head_ms, "head")
        } else {
            match end.first_byte_ms {
                Some(ms) if end.delivered == 0 => (ms.min(idle_ms), "first-byte"),
                _ => (idle_ms, "idle"),
            }
        };
        if end.close_at + t.lag < end.last_activity + timeout {
            self.failure = Some(format!(
                "the connection was closed {} ms after its last activity, before its {} ms \
                 {what} timeout",
                end.close_at.saturating_sub(end.last_activity),
                timeout
            ));
            return;
        }
        self.hits.push("kv.timeout");
    }
}
