//! The sans-IO server: connection slots, buffers, timers and the protocol modules, driven by
//! events and answering with operations (DESIGN §2).
//!
//! ## The event interface
//!
//! A backend owns the sockets and the clock; the [`Server`] owns everything else. The backend
//! tells it what happened:
//!
//! - [`Server::accept`] when a connection arrives (it gets a slot, or `Full`);
//! - [`Server::received`] when a receive completes (`0` bytes is the peer's EOF);
//! - [`Server::sent`] when a send completes;
//! - [`Server::failed`] when an operation fails (retry, or the peer is gone);
//! - [`Server::closed`] when a socket the server asked to close is closed and nothing is in
//!   flight on it any more — only then is the slot reused;
//! - [`Server::tick`] with the time, at least when [`Server::next_wake`] says;
//! - [`Server::datagram`] for each UDP datagram.
//!
//! and asks what to do with [`Server::poll_op`], which hands out a bounded batch of
//! [`Op`]s: receive into [`Server::recv_buffer`], send [`Server::send_parts`], shut down the
//! sending side, close. At most one receive and one send are posted per slot at a time, and
//! the server never touches a buffer region while an operation on it is posted.
//!
//! ## Bounds
//!
//! Every queue is a fixed table sized by [`Config`]: slots, header arrays, buffers, the
//! large-buffer pool, the timer wheel (one timer per slot), the ready queue and the idle list
//! (intrusive, one link per slot). Every exhaustion has a defined outcome (DESIGN §4).

mod conn;
mod http;
mod overload;
mod stats;
mod tcp;
#[cfg(test)]
mod tests;

use crate::app::{App, Service, UdpHandler};
use crate::config::Config;
use crate::http::{HeaderSpan, HttpDate};
use crate::memory::{Arena, RegionTooSmall, carved_size};
use crate::net::PeerAddr;
use crate::pool::{BlockId, BlockPool};
use crate::time::{Instant, Now};
use crate::timer::{TimerEntry, TimerWheel};
use conn::{Conn, Kind, NONE, Phase, wants};
use overload::{Overload, Victim, under_pressure};
pub use stats::{Gauges, PrometheusText, ServerView, Snapshot, Stats};

/// Index of a connection slot.
pub type SlotId = u32;

/// An operation the backend must perform for the server.
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// Receive into [`Server::recv_buffer`]; report with [`Server::received`] or
    /// [`Server::failed`].
    Recv(SlotId),
    /// Send [`Server::send_parts`] (one vectored send); report with [`Server::sent`] or
    /// [`Server::failed`].
    Send(SlotId),
    /// Shut down the sending side (`shutdown(SHUT_WR)`); nothing to report.
    Shutdown(SlotId),
    /// Close the socket: cancel what is posted on it, wait for those completions (reporting
    /// them as usual is allowed), close, then call [`Server::closed`].
    Close(SlotId),
}

/// Which posted operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OpKind {
    /// A receive.
    Recv,
    /// A send.
    Send,
}

/// How an operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IoError {
    /// Nothing happened and it may be posted again (`EAGAIN`, `EINTR`, `ECANCELED` of a
    /// multishot operation that ended).
    Retry,
    /// The connection is unusable (`ECONNRESET`, `EPIPE`, ...): the server closes it.
    Broken,
}

/// Why [`Server::accept`] refused a connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AcceptError {
    /// Every slot is in use. The backend keeps the newcomer waiting (boundedly, in arrival
    /// order), asks the server to [make room](Server::make_room) for the connections that
    /// wait, and offers them again once [`Server::can_accept`]; a newcomer it cannot keep it
    /// closes, and reports with [`Server::turned_away`].
    Full,
    /// The server is shutting down.
    ShuttingDown,
}

/// How one connection's share of the region is laid out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotLayout {
    conn: usize,
    timer: usize,
    fields: usize,
    recv: usize,
    send: usize,
    n: usize,
    free_list: usize,
    block_list: usize,
}

impl SlotLayout {
    pub(crate) const fn of(config: &Config) -> SlotLayout {
        let n = config.max_connections as usize;
        SlotLayout {
            conn: carved_size::<Conn<()>>(n),
            timer: carved_size::<TimerEntry>(n),
            fields: carved_size::<HeaderSpan>(n * config.limits.max_headers as usize),
            recv: n * config.recv_buffer as usize,
            send: n * config.send_buffer as usize,
            n,
            free_list: carved_size::<u32>(n),
            block_list: carved_size::<BlockId>(config.large_buffers as usize)
                + carved_size::<bool>(config.large_buffers as usize),
        }
    }

    /// Bytes per connection: its state, timer, header array and both buffers.
    pub(crate) const fn per_connection(&self) -> usize {
        (self.conn + self.timer + self.fields + self.free_list + self.recv + self.send) / self.n
    }

    /// Bytes not proportional to the connections (beyond the large buffers).
    pub(crate) const fn fixed(&self) -> usize {
        self.block_list
            + (self.conn + self.timer + self.fields + self.free_list + self.recv + self.send)
                % self.n
    }
}

/// Why a server could not be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NewError {
    /// A configuration field is wrong; the text says which and why.
    Config(&'static str),
    /// The region is smaller than [`Config::memory`](crate::Config::memory)`.total`.
    RegionTooSmall,
}

impl From<RegionTooSmall> for NewError {
    fn from(_: RegionTooSmall) -> NewError {
        NewError::RegionTooSmall
    }
}

impl core::fmt::Display for NewError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NewError::Config(reason) => write!(f, "invalid configuration: {reason}"),
            NewError::RegionTooSmall => {
                f.write_str("the memory region is smaller than Config::memory().total")
            }
        }
    }
}

/// A server instance: one event loop's worth of connections over one memory region.
pub struct Server<'m, S: 'static> {
    app: App<S>,
    config: Config,
    conns: &'m mut [Conn<S>],
    fields: &'m mut [HeaderSpan],
    recv: &'m mut [u8],
    send: &'m mut [u8],
    pool: BlockPool<'m>,
    timers: TimerWheel<'m>,
    free: &'m mut [u32],
    free_count: usize,
    ready_head: u32,
    ready_tail: u32,
    overload: Overload,
    /// Slots asked to close whose close has not completed: the room already being made.
    closing: u32,
    date: HttpDate,
    now: Now,
    draining: bool,
    stats: Stats,
}

impl<S> core::fmt::Debug for Server<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("connections", &self.active_connections())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<'m, S> Server<'m, S> {
    /// Builds a server over `region` (at least [`Config::memory`](crate::Config::memory)`.total`
    /// bytes), starting at `now`. Nothing is allocated after this.
    pub fn new(
        config: Config,
        app: App<S>,
        region: &'m mut [u8],
        now: Now,
    ) -> Result<Server<'m, S>, NewError> {
        config.validate().map_err(NewError::Config)?;
        if region.len() < config.memory().total {
            return Err(NewError::RegionTooSmall);
        }
        let n = config.max_connections as usize;
        let mut arena = Arena::new(region);
        let conns = arena.slice(n, |_| Conn::free())?;
        let timer_entries = arena.slice(n, |_| TimerEntry::new())?;
        // Left unwritten (100 spans of 8 bytes per slot are 800 KiB at 1024 slots, mostly
        // never used): the parser writes each span before the header count covers it.
        let fields = arena.plain_slice::<HeaderSpan>(n * config.limits.max_headers as usize)?;
        let free = arena.slice(n, |i| (n - 1 - i) as u32)?;
        let block_ids = arena.slice(config.large_buffers as usize, |_| 0)?;
        let block_lent = arena.slice(config.large_buffers as usize, |_| false)?;
        let recv = arena.bytes(n * config.recv_buffer as usize)?;
        let send = arena.bytes(n * config.send_buffer as usize)?;
        let storage = arena.bytes(config.large_buffers as usize * config.block_size())?;
        let pool = BlockPool::new(storage, config.block_size(), block_ids, block_lent);
        let timers = TimerWheel::new(timer_entries, config.timer_tick_ms as u64, now.monotonic);
        let mut date = HttpDate::new();
        date.update(now.unix_secs);
        zlog_info!("zzz: {} conns, {} bytes reserved", n, config.memory().total);
        Ok(Server {
            app,
            config,
            conns,
            fields,
            recv,
            send,
            pool,
            timers,
            free,
            free_count: n,
            ready_head: NONE,
            ready_tail: NONE,
            overload: Overload::new(),
            closing: 0,
            date,
            now,
            draining: false,
            stats: Stats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The app's state.
    pub fn state(&self) -> &S {
        &self.app.state
    }

    /// The app's state, mutable.
    pub fn state_mut(&mut self) -> &mut S {
        &mut self.app.state
    }

    /// What the server has done so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// What the server holds now.
    pub fn gauges(&self) -> Gauges {
        Gauges {
            max_connections: self.conns.len() as u32,
            active_connections: self.active_connections() as u32,
            unproven_connections: self.overload.unproven.len(),
            idle_connections: self.overload.idle.len(),
            large_buffers: self.config.large_buffers,
            large_buffers_available: self.pool.available() as u32,
            draining: self.draining,
        }
    }

    /// Counters and gauges, copied: what monitoring publishes.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            stats: self.stats,
            gauges: self.gauges(),
        }
    }

    /// Connections in use (including those closing).
    pub fn active_connections(&self) -> usize {
        self.conns.len() - self.free_count
    }

    /// Large buffers not lent out.
    pub fn large_buffers_available(&self) -> usize {
        self.pool.available()
    }

    /// Whether a new connection would get a slot.
    pub fn can_accept(&self) -> bool {
        self.free_count > 0 && !self.draining
    }

    /// The time of the last tick.
    pub fn now(&self) -> Now {
        self.now
    }

    /// When to call [`Server::tick`] next at the latest (a timer is due); `None` when no
    /// timer is armed.
    pub fn next_wake(&self) -> Option<Instant> {
        self.timers.next_wake()
    }

    /// While connections wait for a slot: when [`Server::make_room`] could next close a
    /// connection it cannot close now (the oldest connection without a request head reaches
    /// [`Timeouts::shed_grace_ms`](crate::Timeouts::shed_grace_ms)); `None` when no such
    /// connection exists. Call `make_room` again then.
    pub fn room_at(&self) -> Option<Instant> {
        let oldest = self.overload.unproven.front()?;
        let c = &self.conns[oldest as usize];
        Some(c.accepted_at.after_ms(self.config.timeouts.shed_grace_ms))
    }

    /// Whether a graceful shutdown is under way.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// Starts a graceful shutdown: no new connections, idle connections close now, busy ones
    /// close after their current response (which says `Connection: close`).
    pub fn shutdown(&mut self) {
        self.draining = true;
        for slot in 0..self.conns.len() as u32 {
            let c = &self.conns[slot as usize];
            if c.phase == Phase::Head
                && !c.output_pending()
                && c.recv_start == c.recv_end
                && !c.parser.started()
            {
                self.close(slot);
            }
        }
    }

    /// Whether every connection has closed (after [`Server::shutdown`]).
    pub fn is_idle(&self) -> bool {
        self.free_count == self.conns.len()
    }

    // ----- events in -------------------------------------------------------------------------

    /// A connection was accepted for `service`. Returns its slot; post the operations that
    /// [`Server::poll_op`] returns next. When every slot is taken the server closes a
    /// connection to make room (see [`AcceptError::Full`]).
    pub fn accept(&mut self, service: Service<S>, peer: PeerAddr) -> Result<SlotId, AcceptError> {
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
            self.conns.len(),
            self.config.pressure_percent,
        );
        let c = &mut self.conns[slot as usize];
        assert!(
            c.phase == Phase::Free,
            "slot {slot} on the free list is in use"
        );
        assert!(
            !c.recv_posted && !c.send_posted && !c.queued && c.standing == overload::Standing::Busy,
            "free slot {slot} still has operations or queue links"
        );
        *c = Conn::free();
        c.kind = match service {
            Service::Http => Kind::Http,
            Service::Tcp(handler) => Kind::Tcp(handler),
        };
        c.phase = Phase::Head;
        c.peer = peer;
        c.accepted_at = now;
        c.progress_at = now;
        c.send_since = now;
        // An HTTP connection's first head must arrive within the head timeout of the accept,
        // a raw TCP connection's first byte within the idle timeout; under pressure, the first
        // byte within the shorter pressured deadline.
        let (usual_wait, http) = match service {
            Service::Http => (t.head_ms, true),
            Service::Tcp(_) => (t.keep_alive_ms, false),
        };
        c.first_byte_wait = pressured && t.pressured_first_byte_ms < usual_wait;
        if c.first_byte_wait {
            c.head_deadline = Some(now.after_ms(t.pressured_first_byte_ms));
        } else if http {
            c.head_deadline = Some(now.after_ms(t.head_ms));
        }
        self.overload.unproven.push(self.conns, slot);
        self.stats.accepted += 1;
        if pressured {
            self.stats.pressured_accepts += 1;
        }
        self.want(slot, wants::RECV);
        self.rearm_timer(slot);
        Ok(slot)
    }

    /// `waiting` connections wait in the backend for a slot: closes connections to make room
    /// for them, by the overload policy (`overload`), until as many slots are being freed as
    /// connections wait, or no connection may be closed now. The backend calls this after
    /// [`AcceptError::Full`], each loop turn while connections wait, and at
    /// [`Server::room_at`]. Counted in [`Stats::shed`] and [`Stats::reclaimed`].
    pub fn make_room(&mut self, waiting: usize) {
        let now = self.now.monotonic;
        let grace = self.config.timeouts.shed_grace_ms;
        // Bounded: each round closes a slot, and at most every slot can be closing.
        for _ in 0..self.conns.len() {
            if self.closing as usize >= waiting {
                return;
            }
            match self.overload.victim(self.conns, now, grace) {
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

    /// The backend closed a connection it had accepted without ever handing it to the server:
    /// no slot could be freed for it and it could not wait any longer. Counted in
    /// [`Stats::turned_away`].
    pub fn turned_away(&mut self) {
        self.stats.turned_away += 1;
    }

    /// A posted receive completed with `n` bytes in [`Server::recv_buffer`]; `0` is EOF.
    pub fn received(&mut self, slot: SlotId, n: usize) {
        let c = &mut self.conns[slot as usize];
        assert!(
            c.recv_posted,
            "received() without a posted receive on slot {slot}"
        );
        c.recv_posted = false;
        if let Some(block) = c.pinned.take() {
            // The request this body belonged to is gone; so are these bytes.
            self.pool.release(block);
            let c = &mut self.conns[slot as usize];
            if n == 0 {
                c.peer_eof = true;
            }
            self.process(slot);
            return;
        }
        let c = &mut self.conns[slot as usize];
        let at = c.recv_at;
        match c.phase {
            Phase::Free => panic!("received() on free slot {slot}"),
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
                    c.peer_eof = true;
                } else {
                    self.want(slot, wants::RECV);
                }
                self.process(slot);
                return;
            }
            _ => {}
        }
        match at {
            _ if n == 0 => c.peer_eof = true,
            conn::RecvAt::Block { id, offset, len } => {
                assert!(
                    n <= len as usize,
                    "received more than the posted receive could hold"
                );
                debug_assert!(
                    c.phase == Phase::Body && c.body.block == Some(id) && c.body.end == offset
                );
                c.body.end += n as u32;
            }
            conn::RecvAt::Buffer { offset, len } => {
                assert!(
                    n <= len as usize,
                    "received more than the posted receive could hold"
                );
                if offset == c.recv_end {
                    c.recv_end += n as u32;
                    if c.phase == Phase::Body {
                        c.body.end = c.recv_end;
                    }
                }
                // Otherwise the input was dropped while the receive was posted (a rejected
                // request): the bytes are not part of anything.
            }
            conn::RecvAt::Discard { .. } => {}
        }
        assert!(
            c.recv_start <= c.recv_end && c.recv_end <= self.config.recv_buffer,
            "slot {slot}: received bytes outside the receive buffer"
        );
        if n > 0 {
            c.progress_at = self.now.monotonic;
            c.heard = true;
            if c.first_byte_wait {
                // The pressured first-byte deadline is met: the head timeout applies again,
                // from the accept.
                c.first_byte_wait = false;
                c.head_deadline = match c.kind {
                    Kind::Http => Some(c.accepted_at.after_ms(self.config.timeouts.head_ms)),
                    Kind::Tcp(_) => None,
                };
            }
        }
        self.process(slot);
    }

    /// A posted send completed, having sent `n` bytes of [`Server::send_parts`].
    pub fn sent(&mut self, slot: SlotId, n: usize) {
        let c = &mut self.conns[slot as usize];
        assert!(c.send_posted, "sent() without a posted send on slot {slot}");
        c.send_posted = false;
        if c.phase == Phase::Closed {
            return;
        }
        if n > 0 {
            c.progress_at = self.now.monotonic;
            c.send_since = self.now.monotonic;
        }
        self.consume_sent(slot, n);
        let c = &self.conns[slot as usize];
        assert!(c.send_start <= c.send_end && c.send_end <= self.config.send_buffer);
        self.process(slot);
    }

    /// A posted operation failed.
    pub fn failed(&mut self, slot: SlotId, op: OpKind, error: IoError) {
        if op == OpKind::Recv
            && let Some(block) = self.conns[slot as usize].pinned.take()
        {
            self.pool.release(block);
        }
        let c = &mut self.conns[slot as usize];
        match op {
            OpKind::Recv => {
                assert!(
                    c.recv_posted,
                    "failed(Recv) without a posted receive on slot {slot}"
                );
                c.recv_posted = false;
            }
            OpKind::Send => {
                assert!(
                    c.send_posted,
                    "failed(Send) without a posted send on slot {slot}"
                );
                c.send_posted = false;
            }
        }
        if c.phase == Phase::Closed {
            return;
        }
        match error {
            IoError::Retry => {
                self.stats.retries += 1;
                self.want(
                    slot,
                    if op == OpKind::Recv {
                        wants::RECV
                    } else {
                        wants::SEND
                    },
                );
            }
            IoError::Broken => {
                self.stats.broken += 1;
                self.close(slot);
            }
        }
    }

    /// The backend closed the socket of `slot` and nothing is in flight on it: the slot is
    /// free again.
    pub fn closed(&mut self, slot: SlotId) {
        let c = &mut self.conns[slot as usize];
        assert!(
            c.phase == Phase::Closed,
            "closed() on slot {slot} that was not asked to close"
        );
        assert!(
            !c.queued && c.wants == 0 && c.standing == overload::Standing::Busy,
            "closed() on slot {slot} before its Close was handed out"
        );
        // Completions of operations that were posted when Close was emitted may have been
        // reported or not; either way nothing is in flight now.
        c.recv_posted = false;
        c.send_posted = false;
        if let Some(spill) = c.spill.take() {
            self.pool.release(spill.id);
        }
        if let Some(block) = c.body.block.take() {
            self.pool.release(block);
        }
        if let Some(block) = c.pinned.take() {
            self.pool.release(block);
        }
        c.then = conn::Then::Nothing;
        c.phase = Phase::Free;
        assert!(
            self.closing > 0,
            "a close completed that was never asked for"
        );
        self.closing -= 1;
        self.timers.disarm(slot);
        assert!(
            self.free_count < self.conns.len(),
            "more slots freed than exist"
        );
        self.free[self.free_count] = slot;
        self.free_count += 1;
        self.stats.closed += 1;
        debug_assert_eq!(self.timers.deadline(slot), None);
    }

    /// The time is `now`: refreshes `Date` and fires due timers.
    pub fn tick(&mut self, now: Now) {
        let monotonic = now.monotonic.max(self.now.monotonic);
        self.now = Now {
            monotonic,
            unix_secs: now.unix_secs,
        };
        self.date.update(now.unix_secs);
        self.timers.expire(monotonic);
        // Bounded: each slot's one timer fires at most once per expiry (a timeout re-arms a
        // timer into the wheel, never onto the fired list).
        for _ in 0..self.conns.len() {
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

    /// A UDP datagram from `peer` for `handler`; returns the length of the reply written
    /// into `reply`, if any.
    pub fn datagram(
        &mut self,
        handler: UdpHandler<S>,
        peer: PeerAddr,
        data: &[u8],
        reply: &mut [u8],
    ) -> Option<usize> {
        self.stats.datagrams += 1;
        let n = handler(&mut self.app.state, peer, data, reply)?;
        assert!(
            n <= reply.len(),
            "UDP handler returned a reply longer than its buffer"
        );
        Some(n)
    }

    // ----- operations out --------------------------------------------------------------------

    /// The most operations [`Server::poll_op`] hands out before it returns `None`, when the
    /// backend calls nothing but [`Server::closed`] meanwhile: a receive, a send, a shutdown and
    /// a close per slot. Backends bound their drain loops by it.
    pub fn op_budget(&self) -> usize {
        4 * self.conns.len() + 1
    }

    /// The next operation to perform, or `None` when there is nothing to do. A slot appears at
    /// most once per call for each kind of operation; call until `None`.
    pub fn poll_op(&mut self) -> Option<Op> {
        // Bounded: each round that returns nothing dequeues a slot, and at most every slot is
        // queued once.
        for _ in 0..=self.conns.len() {
            let slot = self.ready_head;
            if slot == NONE {
                return None;
            }
            let c = &mut self.conns[slot as usize];
            assert!(
                c.queued,
                "slot {slot} on the ready queue is not marked queued"
            );
            // A want covered by an operation already posted is satisfied by it: the state
            // machine asks again, if it still needs to, when that operation completes.
            if c.recv_posted {
                c.wants &= !wants::RECV;
            }
            if c.send_posted {
                c.wants &= !wants::SEND;
            }
            let op = if c.wants & wants::CLOSE != 0 {
                c.wants = 0;
                Some(Op::Close(slot))
            } else if c.wants & wants::SEND != 0 {
                c.wants &= !wants::SEND;
                c.send_posted = true;
                Some(Op::Send(slot))
            } else if c.wants & wants::SHUTDOWN != 0 && !c.send_posted {
                c.wants &= !wants::SHUTDOWN;
                Some(Op::Shutdown(slot))
            } else if c.wants & wants::RECV != 0 {
                c.wants &= !wants::RECV;
                c.recv_posted = true;
                Some(Op::Recv(slot))
            } else {
                None
            };
            let shutdown_waits = c.wants & wants::SHUTDOWN != 0 && c.send_posted;
            let more = c.wants & !wants::SHUTDOWN != 0
                || (c.wants & wants::SHUTDOWN != 0 && !shutdown_waits);
            if op.is_none() || !more {
                // Dequeue; a shutdown waiting for its send is requested again after it.
                self.ready_head = c.ready_next;
                if self.ready_head == NONE {
                    self.ready_tail = NONE;
                }
                let c = &mut self.conns[slot as usize];
                c.queued = false;
                c.ready_next = NONE;
            }
            if let Some(Op::Recv(_)) = op {
                let at = self.recv_target(slot);
                self.conns[slot as usize].recv_at = at;
            }
            if op.is_some() {
                return op;
            }
        }
        panic!("the ready queue holds more entries than there are slots");
    }

    /// Where the posted receive of `slot` writes: fixed when the receive was posted, and
    /// stable until it completes, whatever happens to the connection meanwhile.
    pub fn recv_buffer(&mut self, slot: SlotId) -> &mut [u8] {
        let cap = self.config.recv_buffer as usize;
        let base = slot as usize * cap;
        let c = &self.conns[slot as usize];
        debug_assert!(
            c.recv_posted,
            "recv_buffer() without a posted receive on slot {slot}"
        );
        match c.recv_at {
            conn::RecvAt::Buffer { offset, len } => {
                &mut self.recv[base + offset as usize..base + (offset + len) as usize]
            }
            conn::RecvAt::Block { id, offset, len } => {
                &mut self.pool.block(id)[offset as usize..(offset + len) as usize]
            }
            conn::RecvAt::Discard { len } => &mut self.recv[base..base + len as usize],
        }
    }

    /// Where a receive posted now should write.
    fn recv_target(&self, slot: SlotId) -> conn::RecvAt {
        let cap = self.config.recv_buffer;
        let c = &self.conns[slot as usize];
        if matches!(c.phase, Phase::Lingering | Phase::Closing) {
            // Discard: anything read lands in the buffer and is forgotten.
            return conn::RecvAt::Discard { len: cap };
        }
        if c.phase == Phase::Body
            && let Some(id) = c.body.block
        {
            let len = self.body_recv_limit(slot) as u32;
            return conn::RecvAt::Block {
                id,
                offset: c.body.end,
                len,
            };
        }
        let end = c.recv_end.min(cap);
        if c.phase == Phase::Body && c.body.framing == conn::BodyFraming::Length {
            // Receive no further than the end of the body: what follows is the next request,
            // and it is read once the body has been handled.
            let len = (c.body.remaining.min((cap - end) as u64)) as u32;
            return conn::RecvAt::Buffer { offset: end, len };
        }
        conn::RecvAt::Buffer {
            offset: end,
            len: cap - end,
        }
    }

    /// What the posted send of `slot` sends, in order: up to two parts (send them as one
    /// vectored send; a partial send is fine). Stable until the send completes.
    pub fn send_parts(&self, slot: SlotId) -> [&[u8]; 2] {
        let c = &self.conns[slot as usize];
        let cap = self.config.send_buffer as usize;
        let base = slot as usize * cap;
        let buffered = &self.send[base + c.send_start as usize..base + c.send_end as usize];
        let later: &[u8] = match (&c.spill, &c.then) {
            (Some(spill), _) => {
                &self.pool.block_ref(spill.id)[spill.start as usize..spill.end as usize]
            }
            (None, conn::Then::Static { body, sent }) => &body[*sent..],
            _ => &[],
        };
        if buffered.is_empty() {
            // Two parts after the buffer: the spill block, then a static body.
            let last: &[u8] = match (&c.spill, &c.then) {
                (Some(_), conn::Then::Static { body, sent }) => &body[*sent..],
                _ => &[],
            };
            [later, last]
        } else {
            [buffered, later]
        }
    }

    // ----- internals -------------------------------------------------------------------------

    /// Queues the slot for [`Server::poll_op`] with the given wants.
    fn want(&mut self, slot: SlotId, mut flags: u8) {
        let c = &mut self.conns[slot as usize];
        assert!(
            c.phase != Phase::Free,
            "an operation wanted on free slot {slot}"
        );
        assert!(
            c.phase != Phase::Closed || flags == wants::CLOSE,
            "slot {slot} wants {flags:#b} after it was asked to close"
        );
        if c.recv_posted {
            flags &= !wants::RECV;
        }
        if c.send_posted {
            flags &= !wants::SEND;
        }
        if flags == 0 {
            return;
        }
        c.wants |= flags;
        if !c.queued {
            c.queued = true;
            c.ready_next = NONE;
            if self.ready_tail == NONE {
                assert_eq!(self.ready_head, NONE);
                self.ready_head = slot;
            } else {
                assert!(self.conns[self.ready_tail as usize].queued);
                self.conns[self.ready_tail as usize].ready_next = slot;
            }
            self.ready_tail = slot;
        }
    }

    /// Asks the backend to close `slot`; the slot is freed by [`Server::closed`].
    fn close(&mut self, slot: SlotId) {
        let c = &mut self.conns[slot as usize];
        if matches!(c.phase, Phase::Closed | Phase::Free) {
            return;
        }
        c.phase = Phase::Closed;
        c.wants = 0;
        self.closing += 1;
        assert!(self.closing as usize <= self.conns.len());
        self.overload.leave(self.conns, slot);
        self.timers.disarm(slot);
        self.want(slot, wants::CLOSE);
        debug_assert!(self.conns[slot as usize].standing == overload::Standing::Busy);
    }

    /// Keeps `slot` on the overload queue its state calls for: it leaves the unproven queue
    /// for good once a first head is complete, an answer is queued or it is closing; it is on
    /// the idle queue while it waits, with nothing buffered either way, for a next request.
    fn update_standing(&mut self, slot: SlotId) {
        let c = &self.conns[slot as usize];
        let quiet = c.phase == Phase::Head
            && !c.output_pending()
            && c.recv_start == c.recv_end
            && !c.parser.started();
        match c.standing {
            overload::Standing::Unproven => {
                let first = match c.kind {
                    Kind::Http => c.requests == 0,
                    Kind::Tcp(_) => !c.heard,
                };
                let unproven = first && c.phase == Phase::Head && !c.output_pending();
                if !unproven {
                    self.overload.unproven.remove(self.conns, slot);
                }
            }
            overload::Standing::Idle => {
                if !quiet {
                    self.overload.idle.remove(self.conns, slot);
                }
            }
            overload::Standing::Busy => {
                if quiet && c.requests > 0 && matches!(c.kind, Kind::Http) {
                    self.overload.idle.push(self.conns, slot);
                }
            }
        }
    }

    /// Marks `n` bytes of the posted send as gone.
    fn consume_sent(&mut self, slot: SlotId, mut n: usize) {
        let c = &mut self.conns[slot as usize];
        let from_buffer = (c.send_pending() as usize).min(n);
        c.send_start += from_buffer as u32;
        n -= from_buffer;
        if c.send_start == c.send_end {
            c.send_start = 0;
            c.send_end = 0;
        }
        if n > 0
            && let Some(spill) = &mut c.spill
        {
            let from_spill = ((spill.end - spill.start) as usize).min(n);
            spill.start += from_spill as u32;
            n -= from_spill;
            if spill.start == spill.end {
                let id = spill.id;
                c.spill = None;
                self.pool.release(id);
            }
        }
        let c = &mut self.conns[slot as usize];
        if n > 0
            && let conn::Then::Static { body, sent } = &mut c.then
        {
            let from_static = (body.len() - *sent).min(n);
            *sent += from_static;
            n -= from_static;
            if *sent == body.len() {
                c.then = conn::Then::Nothing;
            }
        }
        assert_eq!(
            n, 0,
            "the backend reported more bytes sent than were posted on slot {slot}"
        );
    }

    /// How many bytes a body receive into a large buffer may take.
    fn body_recv_limit(&self, slot: SlotId) -> usize {
        let c = &self.conns[slot as usize];
        let room = self.pool.block_size() - c.body.end as usize;
        match c.body.framing {
            conn::BodyFraming::Length => (c.body.remaining as usize).min(room),
            // Chunked: what follows the body may arrive too, and goes back to the receive
            // buffer afterwards, so never read more than that buffer holds.
            conn::BodyFraming::Chunked => {
                let head_end = (c.recv_start + c.head.len as u32) as usize;
                room.min(self.config.recv_buffer as usize - head_end)
            }
        }
    }

    /// Runs the slot's protocol after an event.
    fn process(&mut self, slot: SlotId) {
        match self.conns[slot as usize].kind {
            Kind::Http => self.process_http(slot),
            Kind::Tcp(_) => self.process_tcp(slot),
        }
    }

    /// Arms the one timer of `slot` for what it is waiting on.
    fn rearm_timer(&mut self, slot: SlotId) {
        let t = self.config.timeouts;
        let c = &self.conns[slot as usize];
        let deadline = match c.phase {
            Phase::Free | Phase::Closed => None,
            Phase::Lingering => Some(c.progress_at.after_ms(t.linger_ms)),
            _ if c.output_pending() => Some(c.send_since.after_ms(t.send_stall_ms)),
            Phase::Body => Some(c.progress_at.after_ms(t.body_idle_ms)),
            Phase::Closing => None,
            Phase::Head => match (c.kind, c.head_deadline) {
                (Kind::Http, Some(deadline)) => Some(deadline),
                (Kind::Tcp(_), Some(deadline)) if c.first_byte_wait => Some(deadline),
                _ => Some(c.progress_at.after_ms(t.keep_alive_ms)),
            },
        };
        match deadline {
            Some(d) => self.timers.arm(slot, d),
            None => self.timers.disarm(slot),
        }
    }

    /// The slot's timer fired.
    fn timed_out(&mut self, slot: SlotId) {
        let c = &self.conns[slot as usize];
        match c.phase {
            Phase::Free | Phase::Closed => {}
            Phase::Lingering => {
                self.stats.linger_timeouts += 1;
                self.close(slot);
            }
            _ if c.output_pending() => {
                self.stats.send_timeouts += 1;
                self.close(slot);
            }
            Phase::Body => {
                self.stats.body_timeouts += 1;
                self.reject_timeout(slot);
            }
            Phase::Closing => self.close(slot),
            Phase::Head => {
                let partial = c.parser.started() || c.recv_start < c.recv_end;
                if c.first_byte_wait {
                    debug_assert!(!partial && c.requests == 0);
                    self.stats.first_byte_timeouts += 1;
                    self.close(slot);
                } else if matches!(c.kind, Kind::Http)
                    && c.head_deadline.is_some()
                    && (partial || c.requests == 0)
                {
                    self.stats.head_timeouts += 1;
                    if partial {
                        self.reject_timeout(slot);
                    } else {
                        self.close(slot);
                    }
                } else {
                    self.stats.idle_timeouts += 1;
                    self.close(slot);
                }
            }
        }
    }
}
