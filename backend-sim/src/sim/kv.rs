//! The key-value connections' side of the simulation: after every event told to the server,
//! what it queued on each key-value connection is handed to the oracle
//! ([`crate::kv_oracle`]) with the server's time then, so that replies are judged in the
//! order the server executed their commands, against one model of the one store.

use zzz_core::Event;

use super::Sim;
use super::conn::{Conn, State};
use crate::app::SimProtocol;
use crate::workload::{ClientKind, KvWhat};

impl Conn {
    /// Whether the key-value module has proven this connection (it proves one once it has
    /// consumed a byte: an empty line, or a command it answered).
    pub(super) fn kv_proven(&self) -> bool {
        let Some(first) = self.script.kv.first() else {
            return false;
        };
        let skipped = first.nothing_unit > 0 && self.delivered >= first.consumed_at();
        let served = self.kv.answered > 0 && matches!(first.what, KvWhat::Command(_));
        skipped || served
    }
}

impl Sim<'_> {
    /// After `event`: hands each key-value connection's newly queued bytes to its view.
    pub(super) fn observe_kv(&mut self, event: &Event<SimProtocol>) {
        let now = self.server.now().monotonic.0 - self.base_mono;
        for i in 0..self.conns.len() {
            let c = &self.conns[i];
            if c.script.kind != ClientKind::Kv || c.state != State::Open {
                continue;
            }
            let slot = c.slot;
            let mut delivered = c.delivered;
            match *event {
                Event::Sent { slot: s, n } if s == slot => self.conns[i].kv.acked += n,
                Event::Received { slot: s, n } if s == slot => delivered += n,
                _ => {}
            }
            let c = &mut self.conns[i];
            let parts = self.server.send_parts(slot);
            let queued = parts[0].len() + parts[1].len();
            let total = c.kv.acked + queued;
            if total <= c.kv.written.len() {
                continue;
            }
            let new = total - c.kv.written.len();
            let all: Vec<u8> = parts.concat();
            let bytes = &all[queued - new..];
            c.kv.on_written(bytes, now, delivered, &c.script.kv, &mut self.kv_model);
            self.drain_kv_view(i);
        }
    }

    /// Moves what a key-value view learnt into the coverage table and the failure.
    pub(super) fn drain_kv_view(&mut self, i: usize) {
        let hits = std::mem::take(&mut self.conns[i].kv.hits);
        for class in hits {
            self.cov.hit(class);
        }
        if let Some(f) = self.conns[i].kv.failure.clone() {
            self.fail(format!("client c{i} (client.kv): {f}"));
        }
    }

    /// Traces client `i`'s key-value items and what each is.
    pub(super) fn trace_kv_items(&mut self, i: usize) {
        for (k, item) in self.conns[i].script.kv.clone().iter().enumerate() {
            let bytes = &self.conns[i].script.bytes[item.cmd_start..item.end];
            let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
            let what = match &item.what {
                KvWhat::Command(_) => "command",
                KvWhat::ProtocolError(_) => "protocol error",
                KvWhat::Never => "never",
            };
            tr!(
                self,
                "  c{i} #{k} {what} {}..{} (due {}){}: {shown:?}",
                item.cmd_start,
                item.end,
                item.due,
                if item.inline { " inline" } else { "" }
            );
        }
    }
}
