//! The raw TCP module: a byte-stream handler on the same slots, buffers and timers as HTTP.

use super::conn::{Kind, Phase, wants};
use super::{Server, SlotId};
use crate::app::TcpCtx;

impl<S> Server<'_, S> {
    /// Hands the buffered bytes of `slot` to its handler, queues what it wrote, and asks for
    /// more input while there is room to answer it.
    pub(super) fn process_tcp(&mut self, slot: SlotId) {
        let recv_cap = self.config.recv_buffer as usize;
        let send_cap = self.config.send_buffer as usize;
        let now = self.now;
        let c = &self.conns[slot as usize];
        match c.phase {
            Phase::Head => {}
            Phase::Closing => {
                self.update_standing(slot);
                let c = &self.conns[slot as usize];
                if !c.output_pending() && !c.send_posted {
                    self.close(slot);
                } else {
                    self.flush(slot);
                    self.rearm_timer(slot);
                }
                return;
            }
            _ => return,
        }
        let Kind::Tcp(handler) = c.kind else {
            unreachable!("a TCP slot")
        };

        // Compact both buffers when nothing is posted on them.
        let c = &mut self.conns[slot as usize];
        if c.send_start > 0 && !c.send_posted {
            let base = slot as usize * send_cap;
            self.send.copy_within(
                base + c.send_start as usize..base + c.send_end as usize,
                base,
            );
            c.send_end -= c.send_start;
            c.send_start = 0;
        }
        if c.recv_start > 0 && !c.recv_posted {
            let base = slot as usize * recv_cap;
            self.recv.copy_within(
                base + c.recv_start as usize..base + c.recv_end as usize,
                base,
            );
            c.recv_end -= c.recv_start;
            c.recv_start = 0;
        }

        let pending = c.recv_end > c.recv_start;
        let room = send_cap - c.send_end as usize;
        let mut close = false;
        if pending && room > 0 {
            let recv_base = slot as usize * recv_cap;
            let send_base = slot as usize * send_cap;
            let data =
                &self.recv[recv_base + c.recv_start as usize..recv_base + c.recv_end as usize];
            let mut ctx = TcpCtx {
                state: &mut self.app.state,
                user: &mut c.user,
                now,
                peer: c.peer,
                out: &mut self.send[send_base + c.send_end as usize..send_base + send_cap],
                written: 0,
                close: false,
            };
            let consumed = handler(&mut ctx, data).min(data.len());
            let (written, wants_close) = (ctx.written, ctx.close);
            // The writer kept to the room it was given: the send buffer cannot overflow.
            assert!(written <= room, "a TCP handler wrote past its room");
            c.recv_start += consumed as u32;
            c.send_end += written as u32;
            assert!(c.recv_start <= c.recv_end && c.send_end as usize <= send_cap);
            close = wants_close;
            if consumed == 0 && c.recv_end as usize == recv_cap && c.recv_start == 0 && written == 0
            {
                // The handler cannot make progress and nothing more fits: give up.
                close = true;
            }
        }
        if c.peer_eof && c.recv_start == c.recv_end {
            close = true;
        }
        if close {
            c.close_after = true;
            c.phase = Phase::Closing;
            // Once more, in the Closing phase: it only flushes or closes, never recurses.
            self.process_tcp(slot);
            assert!(matches!(
                self.conns[slot as usize].phase,
                Phase::Closing | Phase::Closed
            ));
            return;
        }
        let c = &self.conns[slot as usize];
        let can_read = (c.recv_end as usize) < recv_cap && !c.peer_eof;
        // Backpressure: read more only while there is room to answer.
        if can_read && (send_cap - c.send_end as usize) >= send_cap / 4 {
            self.want(slot, wants::RECV);
        }
        self.flush(slot);
        self.update_standing(slot);
        self.rearm_timer(slot);
    }
}
