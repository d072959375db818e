//! One instance: one thread, one ring, one [`Server`]. Completions become the server's events;
//! the server's operations become submissions; one `io_uring_enter` per loop turn submits
//! everything and waits, with the timer wheel's next deadline as its timeout.
//!
//! ## Memory
//!
//! Everything is reserved before the loop starts: the server's region, one [`SlotIo`] and one
//! iovec pair and `msghdr` per slot, the datagram buffers. The kernel reads and writes the
//! server's buffers directly (a receive lands where the parser reads; a send goes out from
//! where the response was written), and those buffers never move, which is what makes passing
//! their addresses to the kernel sound: see the `SAFETY` notes at each push.
//!
//! ## Connections
//!
//! Connections are accepted with a multishot accept into the ring's registered file table
//! ("direct descriptors"): no file-descriptor table lookups per operation, and no `close(2)`
//! system call. The accept stays armed when every slot is taken: a newcomer then waits in the
//! instance's waiting room (in arrival order, [`Builder::waiting_room`](crate::Builder::waiting_room)
//! places) while the server closes a connection to make room for it, the one that has waited
//! longest without a request head first (the core's overload policy). When nothing can be
//! closed and the room is full, the newcomer is turned away. So a flood of connections that
//! never send a byte competes with itself, not with real clients.
//!
//! ## Buffers
//!
//! Receives go into each connection's own buffer in the server's region, not into a
//! provided-buffer ring: the core parses requests in place in that buffer, across reads, so a
//! provided buffer would have to be copied into it — a copy per read for the memory saved by
//! sharing buffers between idle connections, which the region's lazily mapped pages already
//! give (an idle connection's buffer is never touched, so never resident).
//!
//! ## Recording
//!
//! With [`Builder::record`](crate::Builder::record), every call into the server goes through
//! one of the `tell_*` methods, which first appends the event to the instance's [`Recorder`]
//! (a buffer taken at startup): a receive's bytes are copied out of the server's receive
//! buffer right after the completion, before the server sees them; a tick is recorded when
//! its time differs from the last one recorded (a tick at an unchanged time does nothing, see
//! `Server::tick`). The recording is written to its file when the instance's state is dropped:
//! when the loop ends, fails or unwinds from a panic.

use std::io;
use std::io::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use io_uring::{CompletionQueue, IoUring, cqueue, opcode, types};
use zzz_core::memory::Region;
use zzz_core::record::Recorder;
use zzz_core::{
    AcceptError, App, Config, Instant, IoError, Now, Op, OpKind, PeerAddr, Server, Service, SlotId,
    Stats, UdpHandler,
};

use crate::buf_ring::{self, BufRing, Pending};
use crate::stats_board::StatsBoard;
use crate::submit::Submit;
use crate::token::{Kind, UDP_INDEX_MAX, token, udp_reply, udp_reply_of, untoken};

/// A listening socket of this instance.
pub(crate) struct Listener<S: 'static> {
    pub fd: Arc<OwnedFd>,
    pub service: Service<S>,
}

/// A UDP socket of this instance.
pub(crate) struct Datagrams<S: 'static> {
    pub fd: OwnedFd,
    pub handler: UdpHandler<S>,
}

/// What the instance needs to run.
pub(crate) struct Setup<S: 'static> {
    pub index: usize,
    pub config: Config,
    pub app: App<S>,
    pub listeners: Vec<Listener<S>>,
    pub datagrams: Vec<Datagrams<S>>,
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
    /// Accepted connections that may wait for a slot (see [`Io::waiting`]).
    pub waiting_room: usize,
}

/// Where an instance's recording goes, and how large it may grow.
pub(crate) struct RecordTo {
    /// The file.
    pub path: PathBuf,
    /// Bytes of the recording buffer.
    pub capacity: usize,
}

/// An instance's recording: the recorder and where it is written.
struct Recording<'b> {
    recorder: Recorder<'b>,
    index: usize,
    path: PathBuf,
    /// Written first, then renamed over `path`, so a reader never sees half a file.
    tmp: PathBuf,
    /// The time of the last tick recorded (at first, the server's start).
    last_tick: Now,
    /// The recorder's buffer filled up, and the log said so.
    told_full: bool,
}

impl Recording<'_> {
    /// Writes the recording so far to its file, replacing what a previous write left.
    fn write(&self) -> io::Result<()> {
        let mut file = std::fs::File::create(&self.tmp)?;
        file.write_all(self.recorder.bytes())?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)
    }

    /// Writes, and says how it went in the log.
    fn write_logged(&self) {
        let r = &self.recorder;
        match self.write() {
            Ok(()) => log::info!(
                "zzz: instance {}: recorded {} events{} ({} bytes) to {}",
                self.index,
                r.records(),
                if r.is_truncated() {
                    ", the first ones (truncated)"
                } else {
                    ""
                },
                r.len(),
                self.path.display()
            ),
            Err(e) => {
                log::error!(
                    "zzz: instance {}: cannot write its recording to {}: {e}",
                    self.index,
                    self.path.display()
                );
                eprintln!(
                    "zzz: instance {}: cannot write its recording to {}: {e}",
                    self.index,
                    self.path.display()
                );
            }
        }
    }
}

impl Drop for Recording<'_> {
    /// The instance is stopping (its loop ended or failed) or unwinding from a panic: the
    /// recording goes to its file. A process that dies without unwinding writes nothing.
    fn drop(&mut self) {
        self.write_logged();
    }
}

/// What the backend knows about the operations of one slot. All clear (the default, but for
/// `file`) while the server may hand the slot out.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct SlotIo {
    /// Index in the registered file table.
    file: u32,
    recv: bool,
    send: bool,
    closing: bool,
    close_done: bool,
    /// A shutdown is in flight. io_uring always runs a shutdown in a worker thread, which
    /// looks the registered file up only when it runs: a Close issued meanwhile would free
    /// the index for the next accept, and the shutdown would hit that new connection.
    shutdown: bool,
    /// Close was asked for while a shutdown was in flight: issue it when that completes.
    close_deferred: bool,
    /// A multishot receive is armed (until its last completion, without `MORE`).
    multishot: bool,
    /// Its cancel was submitted.
    multishot_cancelled: bool,
    /// The peer's end of stream, or an error, arrived and waits for the server to ask.
    eof_pending: bool,
    error_pending: i32,
}

struct ListenerState<S: 'static> {
    /// `None` once stopping: closing the socket refuses new connections at once.
    fd: Option<Arc<OwnedFd>>,
    service: Service<S>,
    armed: bool,
    cancelling: bool,
}

/// Replies to datagrams wait here until their send completes.
const UDP_REPLY_SLOTS: usize = 32;
const UDP_BUFFER: usize = 65536;

// A UDP send's token numbers its reply slot in the bits `udp_reply` gives it.
const _: () = assert!(UDP_REPLY_SLOTS <= UDP_INDEX_MAX);
// `peer_of` reads the address the kernel wrote into a `sockaddr_storage` as the IPv4 or IPv6
// address its family says, in place.
const _: () = assert!(
    size_of::<libc::sockaddr_in>() <= size_of::<libc::sockaddr_storage>()
        && size_of::<libc::sockaddr_in6>() <= size_of::<libc::sockaddr_storage>()
        && align_of::<libc::sockaddr_in>() <= align_of::<libc::sockaddr_storage>()
        && align_of::<libc::sockaddr_in6>() <= align_of::<libc::sockaddr_storage>()
);

struct UdpState<S: 'static> {
    fd: OwnedFd,
    handler: UdpHandler<S>,
    buf: Box<[u8]>,
    iov: libc::iovec,
    name: libc::sockaddr_storage,
    msg: libc::msghdr,
    replies: Box<[UdpReply]>,
}

struct UdpReply {
    busy: bool,
    buf: Box<[u8]>,
    iov: libc::iovec,
    name: libc::sockaddr_storage,
    msg: libc::msghdr,
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
pub(crate) fn run<S>(setup: Setup<S>) -> io::Result<()> {
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
        waiting_room,
    } = setup;
    let clock = Clock::new();
    let mut region = Region::for_config(&config);
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
        Some(to) => {
            let recorder = Recorder::new(&mut record_buf, &config, start)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let mut tmp = to.path.clone().into_os_string();
            tmp.push(".tmp");
            Some(Recording {
                recorder,
                index,
                path: to.path,
                tmp: tmp.into(),
                last_tick: start,
                told_full: false,
            })
        }
        None => None,
    };
    // A recording numbers services: 0 for HTTP, k for the k-th raw-TCP listener.
    let mut tcp_services = 0u8;
    let services = listeners
        .iter()
        .map(|l| match l.service {
            Service::Http => 0,
            Service::Tcp(_) => {
                tcp_services = tcp_services.saturating_add(1);
                tcp_services
            }
        })
        .collect();
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
        datagrams.len() <= UDP_INDEX_MAX,
        "more UDP sockets than a token numbers"
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
        listeners: listeners
            .into_iter()
            .map(|l| ListenerState {
                fd: Some(l.fd),
                service: l.service,
                armed: false,
                cancelling: false,
            })
            .collect(),
        udp: datagrams.into_iter().map(UdpState::new).collect(),
        waker,
        wake_buf: Box::new(0u64),
        stop,
        stopping: None,
        grace,
        clock,
        inflight: 0,
        files,
        waiting: std::collections::VecDeque::with_capacity(waiting_room),
        waiting_room,
        buf_ring,
        pending: match recv_mode {
            crate::RecvMode::BufferRing { buffers, .. } => Pending::new(buffers, n),
            crate::RecvMode::Direct => Pending::new(0, n),
        },
        rec: recording,
        services,
        dumped: dump.load(Ordering::Relaxed),
        dump,
        stats,
        stats_answered: 0,
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
    // or the buffer ring; the wake-up read and the datagram receives always remain.
    let idle = io.server.is_idle();
    io.stats.publish_final(index, io.server.snapshot());
    drop(sub);
    drop(cq);
    drop(ring);
    let Io {
        udp,
        wake_buf,
        buf_ring,
        rec,
        ..
    } = io;
    // The recording goes to its file (its buffer is the backend's, never the kernel's).
    drop(rec);
    std::mem::forget(udp);
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

/// The clock: monotonic milliseconds from the instance's start, and the Unix second.
struct Clock {
    started: std::time::Instant,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            started: std::time::Instant::now(),
        }
    }

    fn now(&self) -> Now {
        let unix_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Now {
            monotonic: Instant(self.started.elapsed().as_millis() as u64),
            unix_secs,
        }
    }
}

/// Everything of an instance except the ring. `'m` is the server's region, `'r` the
/// recording's buffer (apart, so that the teardown may keep the one and free the other).
struct Io<'m, 'r, S: 'static> {
    server: Server<'m, S>,
    slots: Vec<SlotIo>,
    iov: Vec<[libc::iovec; 2]>,
    msg: Vec<libc::msghdr>,
    listeners: Vec<ListenerState<S>>,
    udp: Vec<UdpState<S>>,
    waker: OwnedFd,
    wake_buf: Box<u64>,
    stop: Arc<AtomicBool>,
    stopping: Option<Instant>,
    grace: Duration,
    clock: Clock,
    /// Receives and sends in flight: how many completions a batch may wait for.
    inflight: usize,
    /// Entries of the registered file table: every accepted connection's index is below.
    files: u32,
    /// Connections accepted while every slot was busy, in arrival order, waiting for the slot
    /// the server is freeing for each: (registered file, listener). At most `waiting_room`;
    /// beyond, a newcomer is turned away (closed unserved).
    waiting: std::collections::VecDeque<(u32, usize)>,
    waiting_room: usize,
    /// The provided-buffer ring, in [`RecvMode::BufferRing`](crate::RecvMode::BufferRing).
    buf_ring: Option<BufRing>,
    /// Per slot, received bytes the server has not asked for yet, in arrival order.
    pending: Pending,
    /// The recording of the server's events, when on.
    rec: Option<Recording<'r>>,
    /// The number of each listener's service in a recording.
    services: Vec<u8>,
    /// `Handle::dump` requests, and the last one served.
    dump: Arc<AtomicU64>,
    dumped: u64,
    /// `Handle::stats` requests, and the last one answered.
    stats: Arc<StatsBoard>,
    stats_answered: u64,
    index: usize,
}

/// Buffers a slot may hold before its multishot receive is cancelled (the server is not
/// reading: backpressure); completions that race the cancel still find room, since the lists
/// can hold every buffer of the ring.
const PENDING_HIGH: usize = 8;

/// The most completions one wait asks for.
const MAX_BATCH: usize = 64;

/// A failed operation's errno, as the server sees it.
fn classify(errno: i32) -> IoError {
    match errno {
        libc::EAGAIN | libc::EINTR | libc::ECANCELED | libc::ENOBUFS => IoError::Retry,
        _ => IoError::Broken,
    }
}

impl<S> Io<'_, '_, S> {
    // ----- events into the server, recorded first when recording -----------------------------

    fn tell_tick(&mut self, now: Now) {
        if let Some(r) = &mut self.rec
            && now != r.last_tick
        {
            r.last_tick = now;
            r.recorder.tick(now);
        }
        self.server.tick(now);
    }

    fn tell_received(&mut self, slot: SlotId, n: usize) {
        let buf = self.server.recv_buffer(slot);
        // The kernel, or `deliver_pending`, wrote at most the buffer posted: a count past it
        // would have the server parse bytes nobody sent.
        assert!(
            n <= buf.len(),
            "slot {slot}: {n} bytes received into {}",
            buf.len()
        );
        if let Some(r) = &mut self.rec {
            // What the kernel wrote, before the server reads (and may move past) it.
            r.recorder.received(slot, &buf[..n]);
        }
        self.server.received(slot, n);
    }

    fn tell_sent(&mut self, slot: SlotId, n: usize) {
        if let Some(r) = &mut self.rec {
            r.recorder.sent(slot, n);
        }
        self.server.sent(slot, n);
    }

    fn tell_failed(&mut self, slot: SlotId, op: OpKind, error: IoError) {
        if let Some(r) = &mut self.rec {
            r.recorder.failed(slot, op, error);
        }
        self.server.failed(slot, op, error);
    }

    fn tell_closed(&mut self, slot: SlotId) {
        if let Some(r) = &mut self.rec {
            r.recorder.closed(slot);
        }
        self.server.closed(slot);
    }

    fn tell_shutdown(&mut self) {
        if let Some(r) = &mut self.rec {
            r.recorder.shutdown();
        }
        self.server.shutdown();
    }

    /// Once per loop turn while recording: serves `Handle::dump`, and says once that the
    /// recording is full.
    fn recording_chores(&mut self) {
        let Some(r) = &mut self.rec else { return };
        let asked = self.dump.load(Ordering::Relaxed);
        if asked != self.dumped {
            self.dumped = asked;
            r.write_logged();
        }
        if r.recorder.is_truncated() && !r.told_full {
            r.told_full = true;
            log::warn!(
                "zzz: instance {}: the recording is full ({} bytes): it keeps the first {} events",
                r.index,
                r.recorder.capacity(),
                r.recorder.records()
            );
        }
    }

    // ----- the loop ------------------------------------------------------------------------------

    /// Arms what stays armed for the instance's whole life: the wake-up read and each UDP
    /// socket's receive.
    fn arm_standing(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        self.arm_wake(sub)?;
        for u in 0..self.udp.len() {
            self.arm_udp_recv(sub, u)?;
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
            cq.sync();
            for cqe in &mut *cq {
                self.complete(sub, cqe.user_data(), cqe.result(), cqe.flags())?;
            }
            let now = self.clock.now();
            self.tell_tick(now);
            let server = &self.server;
            self.stats
                .serve(self.index, &mut self.stats_answered, || server.snapshot());
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
                let accepting = self.listeners.iter().any(|l| l.armed);
                if (self.server.is_idle() && !accepting) || expired {
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

    // ----- the ring ------------------------------------------------------------------------------

    fn arm_wake(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        let entry = opcode::Read::new(
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
        self.tell_shutdown();
        // Waiting connections never got a request in: close them.
        for (file, _) in self.waiting.drain(..) {
            push_close_rejected(sub, file)?;
        }
        // A posted accept keeps its own reference to the socket until it completes, so the
        // socket can be released now.
        for listener in self.listeners.iter_mut() {
            listener.fd = None;
        }
        for (l, listener) in self.listeners.iter_mut().enumerate() {
            if listener.armed && !listener.cancelling {
                listener.cancelling = true;
                let entry = opcode::AsyncCancel::new(token(Kind::Accept, l as u32))
                    .build()
                    .user_data(token(Kind::Cancel, 0));
                // SAFETY: a cancel refers to no buffer.
                unsafe { sub.push(&entry) }?;
            }
        }
        Ok(())
    }

    /// Keeps an accept armed on every listener until the instance stops, whether or not the
    /// server has a free slot: with every slot taken the server makes room for each newcomer
    /// (its overload policy), which is what keeps a flood of idle connections from locking
    /// real clients out. Accepts are cancelled only by [`Io::begin_stop`].
    fn arm_accepts(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        if self.stopping.is_some() {
            return Ok(());
        }
        for (l, listener) in self.listeners.iter_mut().enumerate() {
            let Some(fd) = &listener.fd else { continue };
            if !listener.armed {
                listener.armed = true;
                listener.cancelling = false;
                let entry = opcode::AcceptMulti::new(types::Fd(fd.as_raw_fd()))
                    .allocate_file_index(true)
                    .build()
                    .user_data(token(Kind::Accept, l as u32));
                // SAFETY: a multishot accept into the file table refers to no buffer.
                unsafe { sub.push(&entry) }?;
            }
        }
        Ok(())
    }

    /// Submits what the server asks for, at most [`Server::op_budget`] operations: a receive
    /// served at once from the buffer ring tells the server, which may ask for more (a
    /// pipelining client). Returns whether operations may be left for the next turn.
    fn perform_ops(&mut self, sub: &mut Submit<'_>) -> io::Result<bool> {
        for _ in 0..self.server.op_budget() {
            let Some(op) = self.server.poll_op() else {
                return Ok(false);
            };
            match op {
                Op::Recv(slot) if self.buf_ring.is_some() => self.post_ring_recv(sub, slot)?,
                Op::Recv(slot) => self.post_recv(sub, slot)?,
                Op::Send(slot) => self.post_send(sub, slot)?,
                Op::Shutdown(slot) => self.post_shutdown(sub, slot)?,
                Op::Close(slot) => self.post_close(sub, slot)?,
            }
        }
        Ok(true)
    }

    /// One more receive or send in flight.
    fn posted(&mut self) {
        self.inflight += 1;
        // A receive and a send per slot at most, which `SlotIo` tracks.
        assert!(
            self.inflight <= 2 * self.slots.len(),
            "more operations in flight than slots allow"
        );
    }

    /// One receive or send fewer in flight.
    fn finished(&mut self) {
        assert!(
            self.inflight > 0,
            "an operation finished that was never posted"
        );
        self.inflight -= 1;
    }

    /// A receive in the buffer ring's mode: served at once from what the multishot receive
    /// kept, else waiting for its next completion.
    fn post_ring_recv(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.recv && !s.closing,
            "slot {slot}: a receive posted twice or after close"
        );
        s.recv = true;
        if !self.deliver_pending(slot) {
            self.posted();
            self.arm_multishot(sub, slot)?;
        }
        Ok(())
    }

    /// A receive straight into the slot's buffer in the server's region.
    fn post_recv(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        self.posted();
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.recv && !s.closing,
            "slot {slot}: a receive posted twice or after close"
        );
        s.recv = true;
        let buf = self.server.recv_buffer(slot);
        // An empty buffer would complete with 0 bytes, which the server takes for the end of
        // the stream: the connection would close on a request it never read.
        assert!(
            !buf.is_empty(),
            "slot {slot}: a receive into an empty buffer"
        );
        let len = u32::try_from(buf.len()).expect("a receive buffer is sized by a u32");
        let entry = opcode::Recv::new(types::Fixed(s.file), buf.as_mut_ptr(), len)
            .build()
            .user_data(token(Kind::Recv, slot));
        // SAFETY: the buffer lies in the server's region, which outlives the loop and never
        // moves; the server does not touch it until `received`.
        unsafe { sub.push(&entry) }
    }

    fn post_send(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        self.posted();
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.send && !s.closing,
            "slot {slot}: a send posted twice or after close"
        );
        s.send = true;
        let [first, second] = self.server.send_parts(slot);
        // A send of nothing completes with 0 bytes, which asks the server to try again: it
        // would spin without end.
        assert!(!first.is_empty(), "slot {slot}: a send of nothing");
        let entry = if second.is_empty() {
            // A part past 4 GiB (a static body) goes out in several sends, as a short send
            // would: the server counts what was sent.
            let len = u32::try_from(first.len()).unwrap_or(u32::MAX);
            opcode::Send::new(types::Fixed(s.file), first.as_ptr(), len)
                .flags(libc::MSG_NOSIGNAL)
                .build()
        } else {
            let iov = &mut self.iov[slot as usize];
            iov[0] = libc::iovec {
                iov_base: first.as_ptr() as *mut _,
                iov_len: first.len(),
            };
            iov[1] = libc::iovec {
                iov_base: second.as_ptr() as *mut _,
                iov_len: second.len(),
            };
            let msg = &mut self.msg[slot as usize];
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            opcode::SendMsg::new(types::Fixed(s.file), msg)
                .flags(libc::MSG_NOSIGNAL as u32)
                .build()
        };
        // SAFETY: the parts lie in the server's region or in `'static` data, the iovecs and
        // msghdr in per-slot tables allocated before the loop; none of them changes until
        // `sent`.
        unsafe { sub.push(&entry.user_data(token(Kind::Send, slot))) }
    }

    fn post_shutdown(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.shutdown && !s.closing,
            "slot {slot}: a shutdown posted twice or after close"
        );
        s.shutdown = true;
        let entry = opcode::Shutdown::new(types::Fixed(s.file), libc::SHUT_WR)
            .build()
            .user_data(token(Kind::Shutdown, slot));
        // SAFETY: refers to no buffer.
        unsafe { sub.push(&entry) }
    }

    /// Cancels what is in flight for the slot, then closes it (after its shutdown, if one is
    /// in flight); the slot is reported closed once every completion is in.
    fn post_close(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        self.drop_pending(slot);
        let ring_mode = self.buf_ring.is_some();
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.closing && !s.close_done && !s.close_deferred,
            "slot {slot} closed twice"
        );
        s.closing = true;
        if s.multishot && !s.multishot_cancelled {
            s.multishot_cancelled = true;
            let entry = opcode::AsyncCancel::new(token(Kind::RecvMulti, slot))
                .build()
                .user_data(token(Kind::Cancel, slot));
            // SAFETY: refers to no buffer.
            unsafe { sub.push(&entry) }?;
        }
        if ring_mode && s.recv {
            // No receive is in flight for it in this mode: only the multishot.
            s.recv = false;
            self.finished();
        }
        let s = self.slots[slot as usize];
        // A posted receive waits for bytes that may never come: cancel what is in flight,
        // then close.
        for (posted, kind) in [(s.recv, Kind::Recv), (s.send, Kind::Send)] {
            if posted {
                let entry = opcode::AsyncCancel::new(token(kind, slot))
                    .build()
                    .user_data(token(Kind::Cancel, slot));
                // SAFETY: refers to no buffer.
                unsafe { sub.push(&entry) }?;
            }
        }
        if s.shutdown {
            self.slots[slot as usize].close_deferred = true;
            Ok(())
        } else {
            push_close(sub, s.file, slot)
        }
    }

    /// Reports one completion to the server.
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
            Kind::Send => self.send_completed(index, result),
            Kind::Shutdown => {
                let s = &mut self.slots[index as usize];
                assert!(
                    s.shutdown,
                    "slot {index}: a shutdown completed that was not posted"
                );
                s.shutdown = false;
                if s.close_deferred {
                    assert!(s.closing);
                    s.close_deferred = false;
                    push_close(sub, s.file, index)?;
                }
            }
            Kind::RecvMulti => self.multishot_completed(sub, index, result, flags)?,
            Kind::Close => {
                let s = &mut self.slots[index as usize];
                assert!(
                    s.closing && !s.close_done && !s.shutdown && !s.close_deferred,
                    "slot {index}: a close completed that was not posted"
                );
                s.close_done = true;
                self.maybe_closed(index);
            }
            Kind::Wake => {
                if !self.stop.load(Ordering::Relaxed) {
                    self.arm_wake(sub)?;
                }
            }
            Kind::UdpRecv => self.datagram(sub, index as usize, result)?,
            Kind::UdpSend => {
                let (u, r) = udp_reply_of(index);
                let reply = &mut self.udp[u].replies[r];
                assert!(
                    reply.busy,
                    "UDP reply {u}.{r}: a send completed that was not posted"
                );
                reply.busy = false;
            }
            Kind::Cancel | Kind::CloseRejected => {}
        }
        Ok(())
    }

    fn recv_completed(&mut self, slot: SlotId, result: i32) {
        assert!(
            self.buf_ring.is_none(),
            "a plain receive in the buffer ring's mode"
        );
        self.finished();
        let s = &mut self.slots[slot as usize];
        assert!(
            s.recv,
            "slot {slot}: a receive completed that was not posted"
        );
        s.recv = false;
        if s.closing {
            self.maybe_closed(slot);
        } else if result >= 0 {
            self.tell_received(slot, result as usize);
        } else {
            self.tell_failed(slot, OpKind::Recv, classify(-result));
        }
    }

    fn send_completed(&mut self, slot: SlotId, result: i32) {
        self.finished();
        let s = &mut self.slots[slot as usize];
        assert!(s.send, "slot {slot}: a send completed that was not posted");
        s.send = false;
        if s.closing {
            self.maybe_closed(slot);
        } else if result > 0 {
            self.tell_sent(slot, result as usize);
        } else if result == 0 {
            // The kernel took nothing: try again.
            self.tell_failed(slot, OpKind::Send, IoError::Retry);
        } else {
            self.tell_failed(slot, OpKind::Send, classify(-result));
        }
    }

    fn accepted(
        &mut self,
        sub: &mut Submit<'_>,
        l: usize,
        result: i32,
        flags: u32,
    ) -> io::Result<()> {
        // Every completion of a multishot accept, its last included, arrives while it is armed.
        assert!(
            self.listeners[l].armed,
            "listener {l}: an accept completed that was not armed"
        );
        if !cqueue::more(flags) {
            self.listeners[l].armed = false;
        }
        if result < 0 {
            // EMFILE, ENFILE, ECONNABORTED, ECANCELED (our own cancel): nothing to serve;
            // the accept is re-armed when it ended and the server has room.
            log::debug!(
                "zzz: accept failed: {}",
                io::Error::from_raw_os_error(-result)
            );
            return Ok(());
        }
        let file = result as u32;
        assert!(
            file < self.files,
            "the kernel allocated file {file} outside the table"
        );
        // Earlier arrivals first: they may have a slot by now.
        self.admit_waiting(sub)?;
        self.offer(sub, file, l)
    }

    /// Asks the server to make room for the connections that wait (once per loop turn).
    fn make_room(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        if let Some(r) = &mut self.rec {
            r.recorder.make_room(self.waiting.len());
        }
        self.server.make_room(self.waiting.len());
    }

    /// Hands waiting connections to the server while it has room, in arrival order.
    fn admit_waiting(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        for _ in 0..self.waiting.len() {
            if !self.server.can_accept() {
                break;
            }
            let Some((file, l)) = self.waiting.pop_front() else {
                break;
            };
            self.offer(sub, file, l)?;
        }
        Ok(())
    }

    /// Offers an accepted connection to the server. With every slot taken the server begins
    /// freeing one for it, and it waits in arrival order; when the waiting room is full it is
    /// turned away.
    fn offer(&mut self, sub: &mut Submit<'_>, file: u32, l: usize) -> io::Result<()> {
        let accepted = self
            .server
            .accept(self.listeners[l].service, PeerAddr::Local);
        if let Some(r) = &mut self.rec {
            r.recorder.accept(self.services[l], accepted.ok());
        }
        match accepted {
            Ok(slot) => {
                // The server hands out a slot only after `closed`, which `maybe_closed` calls
                // once the backend is done with it too.
                assert!(
                    self.slots[slot as usize] == SlotIo::default()
                        && self.pending.len(slot as usize) == 0,
                    "slot {slot} handed out while the backend still has operations on it"
                );
                self.slots[slot as usize] = SlotIo {
                    file,
                    ..SlotIo::default()
                };
                Ok(())
            }
            Err(AcceptError::Full) if self.waiting.len() < self.waiting_room => {
                self.waiting.push_back((file, l));
                // Within the capacity taken at startup: the queue never reallocates.
                assert!(self.waiting.len() <= self.waiting_room);
                Ok(())
            }
            Err(AcceptError::Full) => {
                if let Some(r) = &mut self.rec {
                    r.recorder.turned_away();
                }
                self.server.turned_away();
                push_close_rejected(sub, file)
            }
            // Shutting down: no new connections.
            Err(AcceptError::ShuttingDown) => push_close_rejected(sub, file),
        }
    }

    /// Arms the multishot receive of `slot` if it is not armed. Called when the server asks
    /// for bytes and none are kept for it.
    fn arm_multishot(&mut self, sub: &mut Submit<'_>, slot: SlotId) -> io::Result<()> {
        assert!(
            self.buf_ring.is_some(),
            "a multishot receive without a buffer ring"
        );
        let kept = self.pending.len(slot as usize);
        let s = &mut self.slots[slot as usize];
        assert!(
            !s.closing,
            "slot {slot}: a multishot receive armed after close"
        );
        if s.multishot {
            return Ok(());
        }
        // Bytes, an end of stream or an error kept for the slot are delivered before any
        // newer completion: arming with them kept would reorder the stream.
        assert!(
            kept == 0 && !s.eof_pending && s.error_pending == 0,
            "slot {slot}: a multishot receive armed with data kept"
        );
        s.multishot = true;
        s.multishot_cancelled = false;
        let entry = opcode::RecvMulti::new(types::Fixed(s.file), buf_ring::GROUP)
            .build()
            .user_data(token(Kind::RecvMulti, slot));
        // SAFETY: the kernel picks buffers from the registered ring, which outlives the ring.
        unsafe { sub.push(&entry) }
    }

    /// A multishot receive completed: keep the bytes for the server, and hand them over at
    /// once if it asked.
    fn multishot_completed(
        &mut self,
        sub: &mut Submit<'_>,
        slot: SlotId,
        result: i32,
        flags: u32,
    ) -> io::Result<()> {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let s = &mut self.slots[slot as usize];
        // Every completion of a multishot receive, its last included, arrives while it is
        // armed (`maybe_closed` waits for the last).
        assert!(
            s.multishot,
            "slot {slot}: a multishot completion without one armed"
        );
        if !more {
            s.multishot = false;
        }
        let closing = s.closing;
        let ring = self
            .buf_ring
            .as_mut()
            .expect("a multishot receive has a buffer ring");
        if let Some(bid) = bid {
            ring.take(bid, result.max(0) as u32);
        }
        match (result, bid) {
            (n, Some(bid)) if n > 0 && !closing => self.pending.push(slot as usize, bid, n as u32),
            (_, Some(bid)) => ring.recycle(bid),
            (0, None) if !closing => self.slots[slot as usize].eof_pending = true,
            // The ring ran dry (ENOBUFS) or our cancel: re-armed when asked for data again.
            (e, None) if e == -libc::ENOBUFS || e == -libc::ECANCELED => {}
            (e, None) if e < 0 && !closing => self.slots[slot as usize].error_pending = -e,
            _ => {}
        }
        if closing {
            self.maybe_closed(slot);
            return Ok(());
        }
        let s = self.slots[slot as usize];
        if s.recv {
            if self.deliver_pending(slot) {
                self.finished();
            } else if !s.multishot {
                self.arm_multishot(sub, slot)?;
            }
        } else if s.multishot
            && !s.multishot_cancelled
            && self.pending.len(slot as usize) >= PENDING_HIGH
        {
            // The server is not reading: stop the kernel from filling more buffers for it.
            self.slots[slot as usize].multishot_cancelled = true;
            let entry = opcode::AsyncCancel::new(token(Kind::RecvMulti, slot))
                .build()
                .user_data(token(Kind::Cancel, slot));
            // SAFETY: refers to no buffer.
            unsafe { sub.push(&entry) }?;
        }
        Ok(())
    }

    /// Gives the server what is pending for `slot` (bytes, then an end of stream or an error),
    /// if anything; returns whether it did. The server asked: a receive is posted.
    fn deliver_pending(&mut self, slot: SlotId) -> bool {
        let Some(ring) = &mut self.buf_ring else {
            return false;
        };
        let i = slot as usize;
        assert!(
            self.slots[i].recv,
            "slot {slot}: bytes delivered without a receive posted"
        );
        let held = self.pending.len(i);
        if held == 0 {
            let s = &mut self.slots[i];
            if s.eof_pending {
                s.eof_pending = false;
                s.recv = false;
                self.tell_received(slot, 0);
                return true;
            }
            if s.error_pending != 0 {
                let errno = std::mem::take(&mut s.error_pending);
                s.recv = false;
                self.tell_failed(slot, OpKind::Recv, classify(errno));
                return true;
            }
            return false;
        }
        let target = self.server.recv_buffer(slot);
        // Delivering 0 bytes would tell the server the stream ended.
        assert!(
            !target.is_empty(),
            "slot {slot}: a receive into an empty buffer"
        );
        let mut n = 0;
        // Bounded: one round per buffer held for the slot.
        for _ in 0..held {
            let (bid, from, to) = self.pending.front(i).expect("a list holds `len` buffers");
            let data = ring.data(bid, from, to);
            let take = data.len().min(target.len() - n);
            target[n..n + take].copy_from_slice(&data[..take]);
            n += take;
            if take < data.len() {
                self.pending.consume(i, take as u32);
                break;
            }
            self.pending.pop(i);
            ring.recycle(bid);
        }
        // Either the target is full or every buffer was delivered, and something was.
        assert!(n > 0 && (n == target.len() || self.pending.len(i) == 0));
        self.slots[i].recv = false;
        // The multishot receive is re-armed, if it ended, when the server asks again.
        self.tell_received(slot, n);
        true
    }

    /// Returns the buffers held for `slot` to the ring.
    fn drop_pending(&mut self, slot: SlotId) {
        let Some(ring) = &mut self.buf_ring else {
            return;
        };
        // Bounded: one round per buffer held for the slot.
        for _ in 0..self.pending.len(slot as usize) {
            let bid = self
                .pending
                .pop(slot as usize)
                .expect("a list holds `len` buffers");
            ring.recycle(bid);
        }
        assert_eq!(self.pending.len(slot as usize), 0);
    }

    /// Reports `slot` closed once its close and every operation posted before it completed.
    fn maybe_closed(&mut self, slot: SlotId) {
        let s = self.slots[slot as usize];
        if s.closing && s.close_done && !s.recv && !s.send && !s.multishot {
            // The close was issued after the shutdown completed, and the buffers it held were
            // given back when it was asked for.
            assert!(!s.shutdown && !s.close_deferred && self.pending.len(slot as usize) == 0);
            self.slots[slot as usize] = SlotIo::default();
            self.tell_closed(slot);
        }
    }

    fn arm_udp_recv(&mut self, sub: &mut Submit<'_>, u: usize) -> io::Result<()> {
        let state = &mut self.udp[u];
        state.iov = libc::iovec {
            iov_base: state.buf.as_mut_ptr().cast(),
            iov_len: state.buf.len(),
        };
        state.msg.msg_name = (&mut state.name as *mut libc::sockaddr_storage).cast();
        state.msg.msg_namelen = size_of::<libc::sockaddr_storage>() as u32;
        state.msg.msg_iov = &mut state.iov;
        state.msg.msg_iovlen = 1;
        let entry = opcode::RecvMsg::new(types::Fd(state.fd.as_raw_fd()), &mut state.msg)
            .build()
            .user_data(token(Kind::UdpRecv, u as u32));
        // SAFETY: the buffer is boxed and the iovec, name and msghdr live in `self.udp`,
        // which is not resized while the loop runs.
        unsafe { sub.push(&entry) }
    }

    fn datagram(&mut self, sub: &mut Submit<'_>, u: usize, result: i32) -> io::Result<()> {
        if result >= 0 {
            let state = &mut self.udp[u];
            assert!(
                result as usize <= state.buf.len(),
                "a datagram longer than its buffer"
            );
            let peer = peer_of(&state.name);
            let free = state.replies.iter().position(|r| !r.busy);
            if let Some(r) = free {
                let handler = state.handler;
                let reply = &mut state.replies[r];
                let data = &state.buf[..result as usize];
                if let Some(r) = &mut self.rec {
                    // The peer is not recorded: a replay passes `PeerAddr::Local`.
                    r.recorder.datagram(u as u8, data, reply.buf.len());
                }
                if let Some(len) = self.server.datagram(handler, peer, data, &mut reply.buf) {
                    reply.busy = true;
                    reply.name = state.name;
                    reply.iov = libc::iovec {
                        iov_base: reply.buf.as_mut_ptr().cast(),
                        iov_len: len,
                    };
                    reply.msg.msg_name = (&mut reply.name as *mut libc::sockaddr_storage).cast();
                    reply.msg.msg_namelen = state.msg.msg_namelen;
                    reply.msg.msg_iov = &mut reply.iov;
                    reply.msg.msg_iovlen = 1;
                    let entry = opcode::SendMsg::new(types::Fd(state.fd.as_raw_fd()), &reply.msg)
                        .build()
                        .user_data(token(Kind::UdpSend, udp_reply(u, r)));
                    // SAFETY: the reply slot is boxed and marked busy until its completion.
                    unsafe { sub.push(&entry) }?;
                }
            }
            // With every reply slot busy the datagram is dropped, as UDP allows.
        }
        self.arm_udp_recv(sub, u)
    }
}

impl<S> UdpState<S> {
    fn new(d: Datagrams<S>) -> UdpState<S> {
        // SAFETY: all-zeroes is a valid value of these plain C structures.
        let zeroed_msg = || unsafe { std::mem::zeroed::<libc::msghdr>() };
        // SAFETY: as above.
        let zeroed_name = || unsafe { std::mem::zeroed::<libc::sockaddr_storage>() };
        let empty_iov = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        UdpState {
            fd: d.fd,
            handler: d.handler,
            buf: vec![0; UDP_BUFFER].into_boxed_slice(),
            iov: empty_iov,
            name: zeroed_name(),
            msg: zeroed_msg(),
            replies: (0..UDP_REPLY_SLOTS)
                .map(|_| UdpReply {
                    busy: false,
                    buf: vec![0; UDP_BUFFER].into_boxed_slice(),
                    iov: empty_iov,
                    name: zeroed_name(),
                    msg: zeroed_msg(),
                })
                .collect(),
        }
    }
}

/// Closes a registered file that never got a slot.
fn push_close_rejected(sub: &mut Submit<'_>, file: u32) -> io::Result<()> {
    let entry = opcode::Close::new(types::Fixed(file))
        .build()
        .user_data(token(Kind::CloseRejected, file));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) }
}

/// Closes the registered file of `slot`.
fn push_close(sub: &mut Submit<'_>, file: u32, slot: SlotId) -> io::Result<()> {
    let entry = opcode::Close::new(types::Fixed(file))
        .build()
        .user_data(token(Kind::Close, slot));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) }
}

/// The address in a `sockaddr_storage` filled by the kernel.
fn peer_of(name: &libc::sockaddr_storage) -> PeerAddr {
    match name.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in, which fits in sockaddr_storage.
            let a =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            PeerAddr::V4(a.sin_addr.s_addr.to_ne_bytes(), u16::from_be(a.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel wrote a sockaddr_in6, which fits in sockaddr_storage.
            let a =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            PeerAddr::V6(a.sin6_addr.s6_addr, u16::from_be(a.sin6_port))
        }
        _ => PeerAddr::Local,
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
