//! One instance: one thread, one ring, one [`Server`]. Completions become the server's events;
//! the server's operations become submissions; one `io_uring_enter` per loop turn submits
//! everything and waits, with the next timer's deadline as its timeout.
//!
//! Each turn: read the clock and tell the server the time (so that what it is told next is
//! stamped with the time of the wake-up), tell it the completions the wait brought, answer
//! the stats board, begin stopping if asked, admit waiting connections and ask for room for
//! the rest, post the operations the server asks for (at most
//! [`Server::op_budget`](zzz_core::Server::op_budget)), keep the accepts armed, then submit
//! and wait.
//!
//! The parts, one concept each: `accepting` (listeners, the waiting room), `connections`
//! (the operations on slots and their completions), `multishot` (receiving through the
//! provided-buffer ring), `datagrams` (UDP sockets and replies), `recording` (what is told,
//! kept for a replay).
//!
//! ## Memory
//!
//! Everything is reserved before the loop starts: the server's region (sized for the app's
//! protocol modules by [`App::memory`]), one `SlotIo` and one iovec pair and `msghdr` per
//! slot, a receive buffer per UDP socket and a `msghdr` per datagram reply, the buffer ring,
//! the recording's buffer. The kernel reads and writes the server's buffers directly (a
//! receive lands where the parser reads; a send goes out from where the response was
//! written), and those buffers never move, which is what makes passing their addresses to the
//! kernel sound: see the `SAFETY` notes at each push.
//!
//! ## Connections
//!
//! Connections are accepted with a multishot accept into the ring's registered file table
//! ("direct descriptors"): no file-descriptor table lookups per operation, and no `close(2)`
//! system call. The accept stays armed when every slot is taken: a newcomer then waits in the
//! instance's waiting room (in arrival order, [`Builder::waiting_room`](crate::Builder::waiting_room)
//! places) while the server closes a connection to make room for it, the one that has waited
//! longest without a complete first message first (the core's overload policy). When nothing
//! can be closed and the room is full, the newcomer is turned away. So a flood of connections
//! that never send a byte competes with itself, not with real clients.
//!
//! ## Receiving
//!
//! Two modes ([`RecvMode`](crate::RecvMode)). By default a multishot receive per connection
//! fills buffers of a ring shared by every connection of the instance, and the bytes are
//! copied into the slot's receive buffer when the server asks: no submission per read, and
//! the kernel holds no memory of an idle connection. In `Direct` mode each receive goes
//! straight into the slot's buffer in the server's region, where the protocol module parses
//! in place: no copy, a submission per read.
//!
//! ## Recording
//!
//! With [`Builder::record`](crate::Builder::record), every event goes to the server through
//! [`Io::tell`], which first appends it to the instance's recording (a buffer taken at
//! startup): a receive's bytes are copied out of the server's receive buffer before the
//! server sees them, a datagram's out of its datagram buffer; an accept is recorded with the
//! slot it got; a tick is recorded when its time differs from the last one recorded (a tick
//! at an unchanged time does nothing). The recording is written to its file when the
//! instance's state is dropped: when the loop ends, fails or unwinds from a panic.

mod accepting;
mod connections;
mod datagrams;
mod multishot;
mod recording;

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use io_uring::{CompletionQueue, IoUring, types};
use zzz_core::memory::Region;
use zzz_core::{App, Config, Event, Handled, Instant, Now, Protocols, Server, Stats};
use zzz_poll::Clock;

use crate::buf_ring::{BufRing, Pending};
use crate::mailbox::Mailbox;
use crate::stats_board::StatsBoard;
use crate::submit::Submit;
use crate::token::{Kind, token, untoken};
use accepting::ListenerState;
use connections::{Immediate, SlotIo};
use datagrams::{ReplyIo, SocketIo};
use recording::Recording;

pub(crate) use accepting::Listener;
pub(crate) use datagrams::DatagramSocket;
pub(crate) use recording::RecordTo;

/// What the instance needs to run.
pub(crate) struct Setup<S: 'static, P: Protocols<S>> {
    pub index: usize,
    pub config: Config,
    pub app: App<S, P>,
    pub listeners: Vec<Listener<P::Id>>,
    pub datagrams: Vec<DatagramSocket<P::Id>>,
    pub stop: Arc<AtomicBool>,
    pub waker: OwnedFd,
    pub grace: Duration,
    pub ring_entries: u32,
    pub on_ready: Option<fn(usize)>,
    /// Microseconds to wait for a batch of completions before taking fewer (0: none).
    pub batch_wait_us: u32,
    /// Print what the instance served when it stops.
    pub report_on_exit: bool,
    /// How connections receive.
    pub recv_mode: crate::RecvMode,
    /// Record the server's events (see [`Builder::record`](crate::Builder::record)).
    pub record: Option<RecordTo>,
    /// Bumped by `Handle::dump`: write the recording so far.
    pub dump: Arc<AtomicU64>,
    /// Where `Handle::stats` reads this instance's counters.
    pub stats: Arc<StatsBoard>,
    /// Messages from other threads for the server's topics.
    pub mailbox: Arc<Mailbox>,
    /// Accepted connections that may wait for a slot (see [`Io::waiting`]).
    pub waiting_room: usize,
}

/// Which setup flags the ring got, for the startup line.
pub(crate) fn build_ring(entries: u32) -> io::Result<(IoUring, &'static str)> {
    // Newest first: a single thread submits (SINGLE_ISSUER), completions are processed when
    // this thread asks for them rather than by interrupting it (DEFER_TASKRUN, 6.1+), and
    // work is never signalled across threads (COOP_TASKRUN, 5.19+).
    if let Ok(ring) = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(entries)
    {
        return Ok((ring, "single-issuer, defer-taskrun"));
    }
    if let Ok(ring) = IoUring::builder().setup_coop_taskrun().build(entries) {
        return Ok((ring, "coop-taskrun"));
    }
    Ok((IoUring::new(entries)?, "plain"))
}

/// Runs one instance until it is stopped and its connections have finished.
pub(crate) fn run<S, P: Protocols<S>>(setup: Setup<S, P>) -> io::Result<()> {
    let Setup {
        index,
        config,
        app,
        listeners,
        datagrams,
        stop,
        waker,
        grace,
        ring_entries,
        on_ready,
        batch_wait_us,
        report_on_exit,
        recv_mode,
        record,
        dump,
        stats,
        mailbox,
        waiting_room,
    } = setup;
    let clock = Clock::new();
    let mut region = Region::new(app.memory(&config).total);
    let start = clock.now();
    let server = Server::new(config, app, region.bytes(), start)
        .map_err(|e| io::Error::other(e.to_string()))?;
    // Declared before the ring, so that it outlives it (the kernel writes into it).
    let mut buf_ring = match recv_mode {
        crate::RecvMode::BufferRing { buffers, size } => Some(BufRing::new(buffers, size)),
        crate::RecvMode::Direct => None,
    };
    // The recording's buffer, taken now like everything else (an empty one when off).
    let mut record_buf = vec![0u8; record.as_ref().map_or(0, |r| r.capacity)].into_boxed_slice();
    let recording = match record {
        Some(to) => Some(Recording::new(&mut record_buf, to, index, &config, start)?),
        None => None,
    };
    let (mut ring, _) = build_ring(ring_entries)?;
    if let Some(b) = &mut buf_ring
        && let Err(e) = b.register(&ring.submitter())
    {
        // Before Linux 5.19: receive into each connection's buffer instead.
        log::warn!("zzz: no provided-buffer ring ({e}); receiving directly");
        buf_ring = None;
    }
    // Waiting a few microseconds for several completions, instead of waking for each, saves a
    // sleep and a wake-up per completion under load (kernel 6.12+).
    let batch_wait_us = if ring.params().is_feature_min_timeout() {
        batch_wait_us
    } else {
        0
    };
    let n = config.max_connections as usize;
    // Every slot, every connection of the waiting room, and room for the accepts that complete
    // in the turn that fills them.
    let files = u32::try_from(n + waiting_room + MAX_BATCH)
        .expect("slots (at most 2^20) and the waiting room (at most WAITING_ROOM_MAX) fit a u32");
    ring.submitter().register_files_sparse(files)?;
    assert!(
        datagrams.len() <= usize::from(u16::MAX) + 1,
        "more UDP sockets than a datagram's origin numbers"
    );
    assert!(
        datagrams.is_empty() || config.datagram_size > 0,
        "UDP sockets without datagram buffers (checked by Builder::start)"
    );
    let mut io = Io {
        server,
        slots: vec![SlotIo::default(); n],
        iov: vec![
            [libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0
            }; 2];
            n
        ],
        // SAFETY: msghdr is plain data for which all-zeroes is a valid (empty) value.
        msg: vec![unsafe { std::mem::zeroed::<libc::msghdr>() }; n],
        listeners: listeners.into_iter().map(ListenerState::new).collect(),
        udp: datagrams
            .into_iter()
            .map(|d| SocketIo::new(d, config.datagram_size as usize))
            .collect(),
        replies: (0..config.datagram_replies)
            .map(|_| ReplyIo::new())
            .collect(),
        waker,
        wake_buf: Box::new(0u64),
        stop,
        stopping: None,
        grace,
        clock,
        inflight: 0,
        immediate: VecDeque::with_capacity(n + config.datagram_replies as usize),
        files,
        waiting: VecDeque::with_capacity(waiting_room),
        waiting_room,
        buf_ring,
        pending: match recv_mode {
            crate::RecvMode::BufferRing { buffers, .. } => Pending::new(buffers, n),
            crate::RecvMode::Direct => Pending::new(0, n),
        },
        rec: recording,
        dumped: dump.load(Ordering::Relaxed),
        dump,
        stats,
        stats_answered: 0,
        mailbox,
        index,
    };
    let (submitter, sq, mut cq) = ring.split();
    let mut sub = Submit { submitter, sq };
    let result = io.arm_standing(&mut sub).and_then(|()| {
        if let Some(hook) = on_ready {
            hook(index);
        }
        io.serve(&mut sub, &mut cq, batch_wait_us, report_on_exit)
    });
    // Teardown. Closing the ring cancels what is still in flight, but the kernel may finish
    // doing so after `close` returns: memory it may still write into is never freed. Once
    // every connection has closed (the normal end), no operation targets the server's region
    // or the buffer ring; the wake-up read and the datagram receives always remain, and a
    // datagram reply may still be in flight (it reads from the region).
    let idle = io.server.is_idle() && !io.replies.iter().any(ReplyIo::is_busy);
    io.stats.publish_final(index, io.server.snapshot());
    drop(sub);
    drop(cq);
    drop(ring);
    let Io {
        udp,
        replies,
        wake_buf,
        buf_ring,
        rec,
        ..
    } = io;
    // The recording goes to its file (its buffer is the backend's, never the kernel's).
    drop(rec);
    std::mem::forget(udp);
    std::mem::forget(replies);
    std::mem::forget(wake_buf);
    if idle {
        drop(buf_ring);
        drop(region);
    } else {
        std::mem::forget(buf_ring);
        std::mem::forget(region);
    }
    result
}

/// Everything of an instance except the ring. `'m` is the server's region, `'r` the
/// recording's buffer (apart, so that the teardown may keep the one and free the other).
struct Io<'m, 'r, S: 'static, P: Protocols<S>> {
    server: Server<'m, S, P>,
    slots: Vec<SlotIo>,
    iov: Vec<[libc::iovec; 2]>,
    msg: Vec<libc::msghdr>,
    listeners: Vec<ListenerState<P::Id>>,
    /// The UDP sockets; a datagram's origin is its index here.
    udp: Vec<SocketIo<P::Id>>,
    /// The send headers of the server's datagram replies, by reply number.
    replies: Vec<ReplyIo>,
    waker: OwnedFd,
    wake_buf: Box<u64>,
    stop: Arc<AtomicBool>,
    stopping: Option<Instant>,
    grace: Duration,
    clock: Clock,
    /// Receives and sends in flight: how many completions a batch may wait for.
    inflight: usize,
    /// What completed as it was posted, told once the drain of operations is over (see
    /// [`Io::perform_ops`]). At most one per slot and one per datagram reply.
    immediate: VecDeque<Immediate>,
    /// Entries of the registered file table: every accepted connection's index is below.
    files: u32,
    /// Connections accepted while every slot was busy, in arrival order, waiting for the slot
    /// the server is freeing for each: (registered file, listener). At most `waiting_room`;
    /// beyond, a newcomer is turned away (closed unserved).
    waiting: VecDeque<(u32, usize)>,
    waiting_room: usize,
    /// The provided-buffer ring, in [`RecvMode::BufferRing`](crate::RecvMode::BufferRing).
    buf_ring: Option<BufRing>,
    /// Per slot, received bytes the server has not asked for yet, in arrival order.
    pending: Pending,
    /// The recording of the server's events, when on.
    rec: Option<Recording<'r>>,
    /// `Handle::dump` requests, and the last one served.
    dump: Arc<AtomicU64>,
    dumped: u64,
    /// `Handle::stats` requests, and the last one answered.
    stats: Arc<StatsBoard>,
    stats_answered: u64,
    mailbox: Arc<Mailbox>,
    index: usize,
}

/// The most completions one wait asks for.
const MAX_BATCH: usize = 64;

impl<S, P: Protocols<S>> Io<'_, '_, S, P> {
    /// Tells the server `event`, recording it first when recording (an accept after, with the
    /// slot it got). Every event the instance has goes through here.
    fn tell(&mut self, event: Event<P::Id>) -> Handled {
        if let Some(rec) = &mut self.rec
            && !matches!(event, Event::Accepted { .. })
        {
            // What the kernel wrote, before the server reads (and may move past) it.
            let data: &[u8] = match event {
                Event::Received { slot, n } => &self.server.recv_buffer(slot)[..n],
                Event::Datagram { n, .. } => &self.server.datagram_buffer()[..n],
                Event::Publish { n, .. } => &self.server.publish_buffer()[..n],
                _ => &[],
            };
            rec.record(event.map_protocol(P::id_index), data, None);
        }
        let handled = self.server.handle(event);
        if let Some(rec) = &mut self.rec
            && let Event::Accepted { .. } = event
        {
            let slot = handled.accepted().ok();
            rec.record(event.map_protocol(P::id_index), &[], slot);
        }
        handled
    }

    /// Once per loop turn: publishes what other threads posted (`Handle::publish`), one
    /// message at a time, straight into the server's publish buffer.
    fn take_mail(&mut self) {
        // Bounded: the mailbox holds at most `max_messages`, and this takes one a turn.
        for _ in 0..self.mailbox.max_messages() {
            let Some((topic, n)) = self.mailbox.take(self.server.publish_buffer()) else {
                return;
            };
            let _ = self.tell(Event::Publish { topic, n });
        }
    }

    /// Once per loop turn while recording: serves `Handle::dump`, and says once that the
    /// recording is full.
    fn recording_chores(&mut self) {
        let Some(rec) = &mut self.rec else { return };
        let asked = self.dump.load(Ordering::Relaxed);
        if asked != self.dumped {
            self.dumped = asked;
            rec.write_logged();
        }
        rec.warn_once_full();
    }

    /// Arms what stays armed for the instance's whole life: the wake-up read and each UDP
    /// socket's receive.
    fn arm_standing(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        self.arm_wake(sub)?;
        for u in 0..self.udp.len() {
            self.arm_datagram_recv(sub, u)?;
        }
        Ok(())
    }

    /// The event loop: one turn per `io_uring_enter`, until the instance has stopped and its
    /// connections have finished (or the grace period is over). Fails when the ring does.
    fn serve(
        &mut self,
        sub: &mut Submit<'_>,
        cq: &mut CompletionQueue<'_>,
        batch_wait_us: u32,
        report_on_exit: bool,
    ) -> io::Result<()> {
        // Bounded: this is the event loop, which turns until the instance is asked to stop,
        // then for at most `grace` more: the deadline is checked every turn, and a turn waits
        // at most a second. Every turn's work is bounded: the completions queued when it
        // starts, and `Server::op_budget` operations.
        loop {
            let now = self.clock.now();
            let _ = self.tell(Event::Tick(now));
            cq.sync();
            for cqe in &mut *cq {
                self.complete(sub, cqe.user_data(), cqe.result(), cqe.flags())?;
            }
            let server = &self.server;
            self.stats
                .serve(self.index, &mut self.stats_answered, || server.snapshot());
            self.take_mail();
            if self.stop.load(Ordering::Relaxed) && self.stopping.is_none() {
                self.begin_stop(sub, now)?;
            }
            self.admit_waiting(sub)?;
            self.make_room();
            let ops_left = self.perform_ops(sub)?;
            self.arm_accepts(sub)?;
            if self.rec.is_some() {
                self.recording_chores();
            }
            if let Some(since) = self.stopping {
                let expired = now.monotonic.since(since) > self.grace.as_millis() as u64;
                // An accept still in flight holds the listening socket open, and the kernel's
                // teardown of a closed ring is asynchronous: leaving before the cancelled
                // accepts complete would leave the address listening for a moment after the
                // process ends, so that a server started at once again fails to bind it (or,
                // with SO_REUSEPORT, shares it with a socket nobody accepts on).
                if (self.server.is_idle() && !self.accepting()) || expired {
                    let report = StopReport(self.server.stats());
                    log::info!("zzz: instance {}: {report}", self.index);
                    if report_on_exit {
                        eprintln!("zzz: instance {}: {report}", self.index);
                    }
                    return Ok(());
                }
            }
            self.submit_and_wait(sub, now, batch_wait_us, ops_left)?;
        }
    }

    /// Submits the turn's entries and waits for completions: until the next timer (at most a
    /// second, so that the loop sees a stop request and the grace deadline), not at all when
    /// operations are left for the next turn.
    fn submit_and_wait(
        &self,
        sub: &mut Submit<'_>,
        now: Now,
        batch_wait_us: u32,
        ops_left: bool,
    ) -> io::Result<()> {
        let room_at = match self.waiting.is_empty() {
            true => None,
            false => self.server.room_at(),
        };
        let wait_ms = match (self.server.next_wake(), room_at) {
            (Some(a), Some(b)) => a.min(b).since(now.monotonic).clamp(1, 1000),
            (Some(at), None) | (None, Some(at)) => at.since(now.monotonic).clamp(1, 1000),
            (None, None) => 1000,
        };
        let timeout = types::Timespec::new()
            .sec(wait_ms / 1000)
            .nsec((wait_ms % 1000) as u32 * 1_000_000);
        let mut args = types::SubmitArgs::new().timespec(&timeout);
        let mut want = 1;
        if batch_wait_us > 0 {
            args = args.min_wait_usec(batch_wait_us);
            want = self.inflight.clamp(1, MAX_BATCH);
        }
        if ops_left {
            // The server has operations the turn's budget left over: no sleeping on them.
            want = 0;
        }
        sub.sq.sync();
        match sub.submitter.submit_with_args(want, &args) {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn arm_wake(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        let entry = io_uring::opcode::Read::new(
            types::Fd(self.waker.as_raw_fd()),
            (&mut *self.wake_buf as *mut u64).cast(),
            size_of::<u64>() as u32,
        )
        .build()
        .user_data(token(Kind::Wake, 0));
        // SAFETY: `wake_buf` is boxed and lives as long as the instance.
        unsafe { sub.push(&entry) }
    }

    fn begin_stop(&mut self, sub: &mut Submit<'_>, now: Now) -> io::Result<()> {
        assert!(self.stopping.is_none(), "an instance stops once");
        self.stopping = Some(now.monotonic);
        let _ = self.tell(Event::Shutdown);
        self.stop_accepting(sub)
    }

    /// Routes one completion by its token.
    fn complete(
        &mut self,
        sub: &mut Submit<'_>,
        user_data: u64,
        result: i32,
        flags: u32,
    ) -> io::Result<()> {
        let (kind, index) = untoken(user_data);
        match kind {
            Kind::Accept => self.accepted(sub, index as usize, result, flags)?,
            Kind::Recv => self.recv_completed(index, result),
            Kind::RecvMulti => self.multishot_completed(sub, index, result, flags)?,
            Kind::Send => self.send_completed(index, result),
            Kind::Shutdown => self.shutdown_completed(sub, index)?,
            Kind::Close => self.close_completed(index),
            Kind::Wake => {
                if !self.stop.load(Ordering::Relaxed) {
                    self.arm_wake(sub)?;
                }
            }
            Kind::UdpRecv => self.datagram_received(sub, index as usize, result)?,
            Kind::UdpSend => self.datagram_sent(index, result),
            Kind::Cancel | Kind::CloseRejected => {}
        }
        Ok(())
    }
}

/// What an instance says of its run when it stops: what it served and what its overload
/// policy had to shed.
struct StopReport<'a>(&'a Stats);

impl std::fmt::Display for StopReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        write!(
            f,
            "{} requests, {} connections; made room by closing {} without a request head and \
             {} idle, turned {} away; {} first-byte timeouts under pressure",
            s.requests, s.accepted, s.shed, s.reclaimed, s.turned_away, s.first_byte_timeouts
        )
    }
}
