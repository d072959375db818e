//! The life of a connection slot: accepted, run by its protocol module, closing, lingering,
//! closed, free again; its one timer; its place on the overload queues; what each event does
//! to it. The module is called through a [`Link`]; what it asked for is acted on when it
//! returns ([`Server::settle`]).

use crate::net::PeerAddr;
use crate::time::Now;

use super::datagram::ReplyState;
use super::event::{AcceptError, IoError, OpKind};
use super::overload::{Victim, under_pressure};
use super::slot::{Phase, RecvAt, Slot, Standing, wants};
use super::{Link, MAX_PROTOCOLS, Protocols, Server, SharedMemory, SlotId};

/// Which module callback to run.
#[derive(Clone, Copy)]
enum Call<Id> {
    Open(Id),
    Progress,
    Timeout,
    Drain,
    Closed,
}

impl<S, P: Protocols<S>> Server<'_, S, P> {
    // ----- events ---------------------------------------------------------------------------

    pub(super) fn accept(
        &mut self,
        protocol: P::Id,
        peer: PeerAddr,
    ) -> Result<SlotId, AcceptError> {
        if self.draining {
            return Err(AcceptError::ShuttingDown);
        }
        if self.free_count == 0 {
            return Err(AcceptError::Full);
        }
        self.free_count -= 1;
        let slot = self.free[self.free_count];
        let now = self.now.monotonic;
        let t = self.config.timeouts;
        let pressured = under_pressure(
            self.active_connections(),
            self.slots.len(),
            self.config.pressure_percent,
        );
        let s = &mut self.slots[slot as usize];
        assert!(
            s.phase == Phase::Free,
            "slot {slot} on the free list is in use"
        );
        assert!(
            !s.recv_posted && !s.send_posted && !s.queued && s.standing == Standing::Busy,
            "free slot {slot} still has operations or queue links"
        );
        assert!(P::id_of(&self.conns[slot as usize]).is_none());
        *s = Slot::free();
        s.phase = Phase::Open;
        s.peer = peer;
        s.accepted_at = now;
        s.progress_at = now;
        s.send_since = now;
        s.first_byte_at = now.after_ms(t.pressured_first_byte_ms);
        self.overload.unproven.push(self.slots, slot);
        let _ = self.hub.view().opened(slot);
        self.stats.accepted += 1;
        if pressured {
            self.stats.pressured_accepts += 1;
        }
        self.run(slot, Call::Open(protocol));
        let s = &mut self.slots[slot as usize];
        // Under pressure the first byte is due sooner than the module would wait for it.
        s.first_byte_wait = pressured && s.deadline.is_none_or(|d| s.first_byte_at < d);
        if s.phase == Phase::Open && s.wants == 0 {
            s.wants = wants::RECV;
        }
        self.settle(slot);
        Ok(slot)
    }

    pub(super) fn received(&mut self, slot: SlotId, n: usize) {
        let s = &mut self.slots[slot as usize];
        assert!(
            s.recv_posted,
            "a receive completed on slot {slot} with none posted"
        );
        s.recv_posted = false;
        if let Some(block) = s.pinned.take() {
            // The module let go of this block while the receive was posted: so are these bytes.
            self.pool.release(block);
            let s = &mut self.slots[slot as usize];
            if n == 0 {
                s.peer_eof = true;
            }
            self.process(slot);
            return;
        }
        let s = &mut self.slots[slot as usize];
        let at = s.recv_at;
        match s.phase {
            Phase::Free => panic!("a receive completed on free slot {slot}"),
            Phase::Closed => return,
            Phase::Lingering => {
                if n == 0 {
                    self.close(slot);
                } else {
                    self.want(slot, wants::RECV);
                }
                return;
            }
            Phase::Closing => {
                // Input after the last answer is read and discarded while that answer waits
                // to be sent: a client that reads only once it has written everything (and
                // whose writes the server would otherwise stop taking) still gets it.
                if n == 0 {
                    s.peer_eof = true;
                } else {
                    self.want(slot, wants::RECV);
                }
                self.process(slot);
                return;
            }
            Phase::Open => {}
        }
        match at {
            _ if n == 0 => s.peer_eof = true,
            RecvAt::Block { id, offset, len } => {
                assert!(
                    n <= len as usize,
                    "received more than the posted receive could hold"
                );
                assert!(s.block_arrival.is_none());
                s.block_arrival = Some((id, offset, n as u32));
            }
            RecvAt::Buffer { offset, len } => {
                assert!(
                    n <= len as usize,
                    "received more than the posted receive could hold"
                );
                // Otherwise the module dropped the input while the receive was posted (a
                // rejected request): the bytes are not part of anything.
                if offset == s.recv_end {
                    s.recv_end += n as u32;
                }
            }
            RecvAt::Discard { .. } => {}
        }
        assert!(
            s.recv_start <= s.recv_end && s.recv_end <= self.config.recv_buffer,
            "slot {slot}: received bytes outside the receive buffer"
        );
        if n > 0 {
            s.progress_at = self.now.monotonic;
            s.heard = true;
            // The pressured first-byte deadline is met; the module's own deadlines apply.
            s.first_byte_wait = false;
        }
        self.process(slot);
    }

    pub(super) fn sent(&mut self, slot: SlotId, n: usize) {
        let s = &mut self.slots[slot as usize];
        assert!(
            s.send_posted,
            "a send completed on slot {slot} with none posted"
        );
        s.send_posted = false;
        if s.phase == Phase::Closed {
            return;
        }
        if n > 0 {
            s.progress_at = self.now.monotonic;
            s.send_since = self.now.monotonic;
        }
        self.consume_sent(slot, n);
        let s = &self.slots[slot as usize];
        assert!(s.send_start <= s.send_end && s.send_end <= self.config.send_buffer);
        self.process(slot);
    }

    pub(super) fn failed(&mut self, slot: SlotId, op: OpKind, error: IoError) {
        if op == OpKind::Recv
            && let Some(block) = self.slots[slot as usize].pinned.take()
        {
            self.pool.release(block);
        }
        let s = &mut self.slots[slot as usize];
        match op {
            OpKind::Recv => {
                assert!(
                    s.recv_posted,
                    "a receive failed on slot {slot} with none posted"
                );
                s.recv_posted = false;
            }
            OpKind::Send => {
                assert!(
                    s.send_posted,
                    "a send failed on slot {slot} with none posted"
                );
                s.send_posted = false;
            }
        }
        if s.phase == Phase::Closed {
            return;
        }
        match error {
            IoError::Retry => {
                self.stats.retries += 1;
                let again = match op {
                    OpKind::Recv => wants::RECV,
                    OpKind::Send => wants::SEND,
                };
                self.want(slot, again);
            }
            IoError::Broken => {
                self.stats.broken += 1;
                self.close(slot);
            }
        }
    }

    pub(super) fn closed(&mut self, slot: SlotId) {
        let s = &mut self.slots[slot as usize];
        assert!(
            s.phase == Phase::Closed,
            "slot {slot} reported closed but was not asked to close"
        );
        assert!(
            !s.queued && s.wants == 0 && s.standing == Standing::Busy,
            "slot {slot} reported closed before its Close was handed out"
        );
        // Completions of operations that were posted when Close was emitted may have been
        // reported or not; either way nothing is in flight now.
        s.recv_posted = false;
        s.send_posted = false;
        if let Some(spill) = s.spill.take() {
            self.pool.release(spill.id);
        }
        if let Some(block) = s.pinned.take() {
            self.pool.release(block);
        }
        s.static_body = None;
        // The module releases what its state holds (a request body's block).
        self.run(slot, Call::Closed);
        self.hub.view().forget(slot);
        self.conns[slot as usize] = P::VACANT;
        let s = &mut self.slots[slot as usize];
        s.phase = Phase::Free;
        assert!(
            self.closing > 0,
            "a close completed that was never asked for"
        );
        self.closing -= 1;
        self.timers.disarm(slot);
        assert!(
            self.free_count < self.slots.len(),
            "more slots freed than exist"
        );
        self.free[self.free_count] = slot;
        self.free_count += 1;
        self.stats.closed += 1;
        debug_assert_eq!(self.timers.deadline(slot), None);
    }

    pub(super) fn tick(&mut self, now: Now) {
        let monotonic = now.monotonic.max(self.now.monotonic);
        self.now = Now {
            monotonic,
            unix_secs: now.unix_secs,
        };
        let mut shared = SharedMemory {
            parts: &mut self.shared,
        };
        self.modules.tick(&mut self.state, &mut shared, self.now);
        self.timers.expire(monotonic);
        // Bounded: each slot's one timer fires at most once per expiry (a timeout re-arms a
        // timer into the wheel, never onto the fired list).
        for _ in 0..self.slots.len() {
            let Some(slot) = self.timers.pop_fired() else {
                return;
            };
            self.timed_out(slot);
        }
        assert!(
            self.timers.pop_fired().is_none(),
            "more timers fired than there are slots"
        );
    }

    pub(super) fn datagram(&mut self, protocol: P::Id, origin: u16, peer: PeerAddr, n: usize) {
        self.stats.datagrams += 1;
        let Some(r) = self.datagrams.free_reply() else {
            self.stats.datagrams_dropped += 1;
            return;
        };
        let size = self.datagrams.size;
        assert!(n <= size, "a datagram longer than the datagram buffer");
        let data = &self.datagrams.input[..n];
        let reply = &mut self.datagrams.replies[r * size..(r + 1) * size];
        let written = self
            .modules
            .datagram(protocol, &mut self.state, peer, data, reply);
        if let Some(len) = written {
            assert!(len <= size, "a datagram reply longer than its buffer");
            let m = &mut self.datagrams.meta[r];
            m.state = ReplyState::Ready;
            m.len = len as u32;
            m.peer = peer;
            m.protocol = P::id_index(protocol);
            m.origin = origin;
        }
    }

    pub(super) fn datagram_sent(&mut self, reply: u16) {
        let m = &mut self.datagrams.meta[reply as usize];
        assert!(
            m.state == ReplyState::Posted,
            "reply {reply} reported sent but not posted"
        );
        m.state = ReplyState::Free;
    }

    pub(super) fn make_room(&mut self, waiting: usize) {
        let now = self.now.monotonic;
        let grace = self.config.timeouts.shed_grace_ms;
        // Bounded: each round closes a slot, and at most every slot can be closing.
        for _ in 0..self.slots.len() {
            if self.closing as usize >= waiting {
                return;
            }
            match self.overload.victim(self.slots, now, grace) {
                Some(Victim::Unproven(slot)) => {
                    self.stats.shed += 1;
                    self.close(slot);
                }
                Some(Victim::Idle(slot)) => {
                    self.stats.reclaimed += 1;
                    self.close(slot);
                }
                None => return,
            }
        }
    }

    pub(super) fn shutdown(&mut self) {
        self.draining = true;
        for slot in 0..self.slots.len() as SlotId {
            if self.slots[slot as usize].phase == Phase::Open {
                self.run(slot, Call::Drain);
                self.settle(slot);
            }
        }
    }

    /// Runs the open connections the hub woke (a publish), in the order they were woken: one
    /// round of the slots at most, so that connections publishing to each other cannot keep
    /// one event going; the rest run after the next event, which [`Server::next_wake`] asks
    /// for at once. Then the hub's counters join the server's.
    pub(super) fn run_woken(&mut self) {
        // Most events wake nobody: then no view of the hub is made.
        if self.hub.anyone_woken() {
            for _ in 0..self.slots.len() {
                let Some(slot) = self.hub.view().take_woken() else {
                    break;
                };
                if self.slots[slot as usize].phase == Phase::Open {
                    self.process(slot);
                }
            }
        }
        let c = self.hub.scalars.counters;
        self.stats.published = c.published;
        self.stats.messages_missed = c.missed;
        self.stats.lagging_closed = c.lagging_closed;
    }

    // ----- running the module ---------------------------------------------------------------

    /// Runs the connection after an event: its module while it is open, the closing steps
    /// once the module is done.
    pub(super) fn process(&mut self, slot: SlotId) {
        match self.slots[slot as usize].phase {
            Phase::Open => {
                self.run(slot, Call::Progress);
                self.settle(slot);
            }
            Phase::Closing => self.finish_closing(slot),
            Phase::Free | Phase::Lingering | Phase::Closed => {}
        }
    }

    /// Calls the module of `slot` with a [`Link`] to it; a close it asked for at once is
    /// carried out, and a switch to another protocol: the old module's `closed`, the new
    /// one's `open`, in place.
    fn run(&mut self, slot: SlotId, call: Call<P::Id>) {
        let mut call = call;
        let mut switched = false;
        // Bounded: a round either returns or follows a switch (the new module's open, then
        // its progress); more switches than the set has protocols means modules handing the
        // connection around in a circle.
        for _ in 0..2 * MAX_PROTOCOLS + 2 {
            match (self.run_module(slot, call, switched), call) {
                (Some(to), _) => {
                    let Some(next) = P::id_from_index(to) else {
                        panic!("slot {slot}: a switch to protocol {to}, which is not in the set");
                    };
                    self.stats.protocol_switches += 1;
                    let _ = self.run_module(slot, Call::Closed, false);
                    let s = &mut self.slots[slot as usize];
                    assert!(
                        s.phase == Phase::Open && !s.producing,
                        "slot {slot}: switched while closing or producing"
                    );
                    // The new module sets its own deadline; the connection starts busy.
                    s.deadline = None;
                    s.idle = false;
                    switched = true;
                    call = Call::Open(next);
                }
                // What the old module left unconsumed (or the peer's end) is the new one's
                // at once: no event may come to hand it over.
                (None, Call::Open(_))
                    if switched && self.slots[slot as usize].phase == Phase::Open =>
                {
                    switched = false;
                    call = Call::Progress;
                }
                (None, _) => return,
            }
        }
        panic!("slot {slot}: switched protocols more than {MAX_PROTOCOLS} times in a row");
    }

    /// Calls the module of `slot` once (`switched`: an `Open` after a switch); returns the
    /// protocol it switches the connection to, if it asked to and the connection is still
    /// open.
    fn run_module(&mut self, slot: SlotId, call: Call<P::Id>, switched: bool) -> Option<u8> {
        let gauges = self.gauges();
        let i = slot as usize;
        let (rc, sc, stride) = (
            self.config.recv_buffer as usize,
            self.config.send_buffer as usize,
            self.scratch_stride,
        );
        let protocol = match call {
            Call::Open(id) => id,
            _ => P::id_of(&self.conns[i])?,
        };
        let Server {
            state,
            modules,
            config,
            slots,
            conns,
            scratch,
            shared,
            recv,
            send,
            pool,
            stats,
            hub,
            now,
            draining,
            ..
        } = self;
        let mut link = Link {
            id: slot,
            slot: &mut slots[i],
            recv: &mut recv[i * rc..(i + 1) * rc],
            send: &mut send[i * sc..(i + 1) * sc],
            scratch: &mut scratch[i * stride..(i + 1) * stride],
            shared: &mut *shared[P::id_index(protocol) as usize],
            pool,
            state,
            stats,
            hub,
            gauges,
            config,
            now: *now,
            draining: *draining,
            abort: false,
            switch: None,
            switched_in: switched && matches!(call, Call::Open(_)),
            message: None,
        };
        let conn = &mut conns[i];
        match call {
            Call::Open(id) => *conn = modules.open(id, &mut link),
            Call::Progress => modules.progress(conn, &mut link),
            Call::Timeout => modules.timeout(conn, &mut link),
            Call::Drain => modules.drain(conn, &mut link),
            Call::Closed => modules.closed(conn, &mut link),
        }
        let switch = link.switch;
        let closed = matches!(call, Call::Closed);
        if link.abort && !closed {
            self.close(slot);
        }
        let open = self.slots[i].phase == Phase::Open;
        switch.filter(|_| open && !closed)
    }

    /// Acts on what the module asked for: sends what it queued, posts what it wants, keeps
    /// the overload queues and the timer in step, finishes a close it began.
    fn settle(&mut self, slot: SlotId) {
        match self.slots[slot as usize].phase {
            Phase::Open => {}
            Phase::Closing => return self.finish_closing(slot),
            Phase::Free | Phase::Lingering | Phase::Closed => return,
        }
        self.flush(slot);
        let s = &self.slots[slot as usize];
        let wanted = s.wants;
        self.want(slot, wanted);
        self.update_standing(slot);
        self.rearm_timer(slot);
    }

    /// Asks for a send if output is queued and none is posted.
    fn flush(&mut self, slot: SlotId) {
        let s = &mut self.slots[slot as usize];
        if s.output_queued() && !s.send_posted {
            if s.wants & wants::SEND == 0 {
                // From now on the connection waits for the peer to read.
                s.send_since = self.now.monotonic;
            }
            self.want(slot, wants::SEND);
        }
    }

    /// Phase::Closing: when the output is sent (and produced), shut the sending side and
    /// linger, or close at once if the peer has gone.
    fn finish_closing(&mut self, slot: SlotId) {
        // A closing connection is on no overload queue: closing it to make room would cut its
        // last answer short.
        self.update_standing(slot);
        let s = &self.slots[slot as usize];
        assert!(s.phase == Phase::Closing);
        if s.output_pending() {
            if s.producing && !s.output_queued() && !s.send_posted {
                // The module's stream produces its next piece (or ends, or fails and closes).
                self.run(slot, Call::Progress);
                if self.slots[slot as usize].phase != Phase::Closing {
                    return;
                }
            }
            // The stream's last call may have ended it with nothing more to send: then go on
            // closing now, for no send completion will come to call us again.
            if self.slots[slot as usize].output_pending() {
                self.flush(slot);
                if !self.slots[slot as usize].peer_eof {
                    // Keep taking (and discarding) what the client still sends meanwhile.
                    self.want(slot, wants::RECV);
                }
                self.rearm_timer(slot);
                return;
            }
        }
        let s = &self.slots[slot as usize];
        if s.send_posted {
            return;
        }
        if s.peer_eof {
            self.close(slot);
            return;
        }
        let s = &mut self.slots[slot as usize];
        assert!(!s.output_pending() && !s.send_posted);
        s.phase = Phase::Lingering;
        s.progress_at = self.now.monotonic;
        s.recv_start = 0;
        s.recv_end = 0;
        self.want(slot, wants::SHUTDOWN | wants::RECV);
        self.rearm_timer(slot);
    }

    /// Asks the backend to close `slot`; the slot is freed by [`Event::Closed`](super::Event::Closed).
    pub(super) fn close(&mut self, slot: SlotId) {
        let s = &mut self.slots[slot as usize];
        if matches!(s.phase, Phase::Closed | Phase::Free) {
            return;
        }
        s.phase = Phase::Closed;
        s.wants = 0;
        self.closing += 1;
        assert!(self.closing as usize <= self.slots.len());
        self.overload.leave(self.slots, slot);
        self.timers.disarm(slot);
        self.want(slot, wants::CLOSE);
        debug_assert!(self.slots[slot as usize].standing == Standing::Busy);
    }

    /// Keeps `slot` on the overload queue its state calls for: it leaves the unproven queue
    /// for good once its module says it has proven itself, output is queued or it is closing;
    /// it is on the idle queue while its module says it waits idle, with nothing pending.
    fn update_standing(&mut self, slot: SlotId) {
        let s = &self.slots[slot as usize];
        let open = s.phase == Phase::Open;
        let idle = open && s.idle && !s.output_pending();
        match s.standing {
            Standing::Unproven => {
                if s.proven || !open || s.output_queued() {
                    self.overload.unproven.remove(self.slots, slot);
                }
            }
            Standing::Idle => {
                if !idle {
                    self.overload.idle.remove(self.slots, slot);
                }
            }
            Standing::Busy => {
                if idle && s.proven {
                    self.overload.idle.push(self.slots, slot);
                }
            }
        }
    }

    /// Marks `n` bytes of the posted send as gone: the buffer's, then the block's, then the
    /// static body's.
    fn consume_sent(&mut self, slot: SlotId, mut n: usize) {
        let s = &mut self.slots[slot as usize];
        let from_buffer = (s.send_pending() as usize).min(n);
        s.send_start += from_buffer as u32;
        n -= from_buffer;
        if s.send_start == s.send_end {
            s.send_start = 0;
            s.send_end = 0;
        }
        if n > 0
            && let Some(spill) = &mut s.spill
        {
            let from_spill = ((spill.end - spill.start) as usize).min(n);
            spill.start += from_spill as u32;
            n -= from_spill;
            if spill.start == spill.end {
                let id = spill.id;
                s.spill = None;
                self.pool.release(id);
            }
        }
        let s = &mut self.slots[slot as usize];
        if n > 0
            && let Some(body) = &mut s.static_body
        {
            let from_static = (body.body.len() - body.sent).min(n);
            body.sent += from_static;
            n -= from_static;
            if body.sent == body.body.len() {
                s.static_body = None;
            }
        }
        assert_eq!(
            n, 0,
            "the backend reported more bytes sent than were posted on slot {slot}"
        );
    }

    // ----- the one timer of a slot ----------------------------------------------------------

    /// Arms the one timer of `slot` for what it waits on: the linger, the peer reading its
    /// output, the pressured first byte, or the module's deadline.
    pub(super) fn rearm_timer(&mut self, slot: SlotId) {
        let t = self.config.timeouts;
        let s = &self.slots[slot as usize];
        let deadline = match s.phase {
            Phase::Free | Phase::Closed => None,
            Phase::Lingering => Some(s.progress_at.after_ms(t.linger_ms)),
            _ if s.output_pending() => Some(s.send_since.after_ms(t.send_stall_ms)),
            Phase::Closing => None,
            Phase::Open => match (s.first_byte_wait, s.deadline) {
                (true, Some(d)) => Some(d.min(s.first_byte_at)),
                (true, None) => Some(s.first_byte_at),
                (false, d) => d,
            },
        };
        match deadline {
            Some(d) => self.timers.arm(slot, d),
            None => self.timers.disarm(slot),
        }
    }

    /// The timer of `slot` fired.
    fn timed_out(&mut self, slot: SlotId) {
        let now = self.now.monotonic;
        let s = &self.slots[slot as usize];
        match s.phase {
            Phase::Free | Phase::Closed => {}
            Phase::Lingering => {
                self.stats.linger_timeouts += 1;
                self.close(slot);
            }
            _ if s.output_pending() => {
                self.stats.send_timeouts += 1;
                self.close(slot);
            }
            Phase::Closing => self.close(slot),
            Phase::Open => {
                if s.first_byte_wait && s.first_byte_at <= now {
                    self.stats.first_byte_timeouts += 1;
                    self.close(slot);
                } else if s.deadline.is_some_and(|d| d <= now) {
                    self.slots[slot as usize].deadline = None;
                    self.run(slot, Call::Timeout);
                    self.settle(slot);
                } else {
                    self.rearm_timer(slot);
                }
            }
        }
    }
}
