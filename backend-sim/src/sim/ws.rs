//! The WebSocket connections' side of the simulation: after every event told to the server,
//! the room's log ([`crate::app::SimRoom`]) is read, so that each subscription and each
//! publication is judged when it happens, against the one order of the room
//! ([`crate::ws_oracle`]).

use zzz_core::Event;

use super::Sim;
use crate::app::{RoomEvent, SimProtocol};
use crate::workload::ClientKind;
use crate::ws_oracle::judge_publication;

impl Sim<'_> {
    /// After `event`: judges what the room logged during it.
    pub(super) fn observe_room(&mut self, event: &Event<SimProtocol>) {
        let handler = &self.server.modules().ws.handler;
        if handler.overflow {
            return self.fail("the room's log overflowed".into());
        }
        if handler.log.len() == self.room.read {
            return;
        }
        let new: Vec<RoomEvent> = handler.log[self.room.read..].to_vec();
        self.room.read = handler.log.len();
        for e in new {
            match e {
                RoomEvent::Opened { slot, missed } => {
                    let first_seq = self.room.next_seq();
                    let Some(i) = self.slots.get(slot as usize).copied().flatten() else {
                        return self.fail(format!("the room opened slot {slot}, which is empty"));
                    };
                    if self.conns[i].script.kind != ClientKind::Ws {
                        return self.fail(format!("the room opened c{i}, not a WebSocket client"));
                    }
                    if missed != 0 {
                        return self.fail(format!(
                            "c{i} subscribed from the next message but missed {missed}"
                        ));
                    }
                    self.conns[i].ws.first_seq = Some(first_seq);
                    self.cov.hit("ws.upgraded");
                    tr!(self, "room: c{i} follows from {first_seq}");
                }
                RoomEvent::Published { seq, tag, .. } => {
                    let sender = tag.and_then(|(w, _)| {
                        self.conns
                            .iter()
                            .position(|c| c.script.ws.as_ref().is_some_and(|s| s.w == w))
                    });
                    let verdict = match sender {
                        Some(i) => {
                            let c = &mut self.conns[i];
                            let mut delivered = c.delivered;
                            if let Event::Received { slot, n } = *event
                                && slot == c.slot
                                && c.state == super::conn::State::Open
                            {
                                delivered += n;
                            }
                            let script = c.script.ws.as_ref().expect("a WebSocket script");
                            judge_publication(
                                &mut self.room,
                                e,
                                Some((script, &mut c.ws.next_k, delivered)),
                            )
                        }
                        None => judge_publication(&mut self.room, e, None),
                    };
                    if let Err(why) = verdict {
                        return self.fail(why);
                    }
                    self.cov.hit("ws.message");
                    tr!(self, "room: published {seq} {tag:?}");
                }
                RoomEvent::PublishFailed => {
                    return self.fail("the room could not publish a whole message".into());
                }
            }
        }
    }

    /// Traces client `i`'s WebSocket script.
    pub(super) fn trace_ws_script(&mut self, i: usize) {
        let Some(ws) = self.conns[i].script.ws.clone() else {
            return;
        };
        tr!(
            self,
            "  c{i} w{} {:?} key {} request ..{} vanish {}",
            ws.w,
            ws.handshake,
            ws.key,
            ws.request_end,
            ws.vanish
        );
        for (k, m) in ws.msgs.iter().enumerate() {
            tr!(
                self,
                "  c{i} msg {k} ..{} {} bytes{}",
                m.end,
                m.text.len(),
                if m.publishable { "" } else { " (never)" }
            );
        }
        for p in &ws.pings {
            tr!(self, "  c{i} ping ..{} {} bytes", p.end, p.payload.len());
        }
        if let Some(t) = &ws.terminal {
            tr!(
                self,
                "  c{i} {} {}..{} owed {}",
                t.class,
                t.start,
                t.end,
                t.code
            );
        }
    }
}
