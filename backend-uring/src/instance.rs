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

use io_uring::{IoUring, SubmissionQueue, Submitter, cqueue, opcode, squeue, types};
use zzz_core::memory::Region;
use zzz_core::record::Recorder;
use zzz_core::{
    AcceptError, App, Config, Instant, IoError, Now, Op, OpKind, PeerAddr, Server, Service, SlotId,
    Stats, UdpHandler,
};

use crate::buf_ring::{self, BufRing, Pending};
use crate::stats_board::StatsBoard;
use crate::token::{Kind, token, untoken};

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

/// What the backend knows about the operations of one slot.
#[derive(Clone, Copy, Default)]
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
    ring.submitter()
        .register_files_sparse((n + waiting_room + MAX_BATCH) as u32)?;
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
        waiting: std::collections::VecDeque::with_capacity(waiting_room),
        waiting_room,
        buf_ring,
        pending: match recv_mode {
            crate::RecvMode::BufferRing { buffers, .. } => Pending::new(buffers, n),
            crate::RecvMode::Direct => Pending::new(0, 0),
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
    io.arm_wake(&mut sub);
    for u in 0..io.udp.len() {
        io.arm_udp_recv(&mut sub, u);
    }
    if let Some(hook) = on_ready {
        hook(index);
    }
    let result = loop {
        cq.sync();
        for cqe in &mut cq {
            io.complete(&mut sub, cqe.user_data(), cqe.result(), cqe.flags());
        }
        let now = io.clock.now();
        io.tell_tick(now);
        let server = &io.server;
        io.stats
            .serve(io.index, &mut io.stats_answered, || server.snapshot());
        if io.stop.load(Ordering::Relaxed) && io.stopping.is_none() {
            io.begin_stop(&mut sub, now);
        }
        io.admit_waiting(&mut sub);
        io.make_room();
        io.perform_ops(&mut sub);
        io.arm_accepts(&mut sub);
        if io.rec.is_some() {
            io.recording_chores();
        }
        if let Some(since) = io.stopping {
            let expired = now.monotonic.since(since) > io.grace.as_millis() as u64;
            // An accept still in flight holds the listening socket open, and the kernel's
            // teardown of a closed ring is asynchronous: leaving before the cancelled accepts
            // complete would leave the address listening for a moment after the process ends,
            // so that a server started at once again fails to bind it (or, with SO_REUSEPORT,
            // shares it with a socket nobody accepts on).
            let accepting = io.listeners.iter().any(|l| l.armed);
            if (io.server.is_idle() && !accepting) || expired {
                let report = StopReport(io.server.stats());
                log::info!("zzz: instance {index}: {report}");
                if report_on_exit {
                    eprintln!("zzz: instance {index}: {report}");
                }
                break Ok(());
            }
        }
        let room_at = match io.waiting.is_empty() {
            true => None,
            false => io.server.room_at(),
        };
        let wait_ms = match (io.server.next_wake(), room_at) {
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
            want = io.inflight.clamp(1, MAX_BATCH);
        }
        sub.sq.sync();
        match sub.submitter.submit_with_args(want, &args) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) => {}
            Err(e) => break Err(e),
        }
    };
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

/// The submission side of the ring.
struct Submit<'r> {
    submitter: Submitter<'r>,
    sq: SubmissionQueue<'r>,
}

impl Submit<'_> {
    /// Queues an entry, submitting first if the queue is full.
    ///
    /// # Safety
    ///
    /// Every buffer the entry points to must stay valid and unmoved until its completion.
    unsafe fn push(&mut self, entry: &squeue::Entry) {
        loop {
            // SAFETY: forwarded to the caller.
            if unsafe { self.sq.push(entry) }.is_ok() {
                return;
            }
            self.sq.sync();
            let _ = self.submitter.submit();
            self.sq.sync();
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
        if let Some(r) = &mut self.rec {
            // What the kernel wrote, before the server reads (and may move past) it.
            let buf = self.server.recv_buffer(slot);
            r.recorder.received(slot, &buf[..n.min(buf.len())]);
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

    // ----- the ring ------------------------------------------------------------------------------

    fn arm_wake(&mut self, sub: &mut Submit<'_>) {
        let entry = opcode::Read::new(
            types::Fd(self.waker.as_raw_fd()),
            (&mut *self.wake_buf as *mut u64).cast(),
            8,
        )
        .build()
        .user_data(token(Kind::Wake, 0));
        // SAFETY: `wake_buf` is boxed and lives as long as the instance.
        unsafe { sub.push(&entry) };
    }

    fn begin_stop(&mut self, sub: &mut Submit<'_>, now: Now) {
        self.stopping = Some(now.monotonic);
        self.tell_shutdown();
        // Waiting connections never got a request in: close them.
        while let Some((file, _)) = self.waiting.pop_front() {
            push_close_rejected(sub, file);
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
                unsafe { sub.push(&entry) };
            }
        }
    }

    /// Keeps an accept armed on every listener until the instance stops, whether or not the
    /// server has a free slot: with every slot taken the server makes room for each newcomer
    /// (its overload policy), which is what keeps a flood of idle connections from locking
    /// real clients out. Accepts are cancelled only by [`Io::begin_stop`].
    fn arm_accepts(&mut self, sub: &mut Submit<'_>) {
        if self.stopping.is_some() {
            return;
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
                unsafe { sub.push(&entry) };
            }
        }
    }

    /// Submits what the server asks for.
    fn perform_ops(&mut self, sub: &mut Submit<'_>) {
        while let Some(op) = self.server.poll_op() {
            match op {
                Op::Recv(slot) if self.buf_ring.is_some() => {
                    self.slots[slot as usize].recv = true;
                    if !self.deliver_pending(slot) {
                        self.inflight += 1;
                        self.arm_multishot(sub, slot);
                    }
                }
                Op::Recv(slot) => {
                    self.inflight += 1;
                    let s = &mut self.slots[slot as usize];
                    s.recv = true;
                    let buf = self.server.recv_buffer(slot);
                    debug_assert!(!buf.is_empty());
                    let entry =
                        opcode::Recv::new(types::Fixed(s.file), buf.as_mut_ptr(), buf.len() as u32)
                            .build()
                            .user_data(token(Kind::Recv, slot));
                    // SAFETY: the buffer lies in the server's region, which outlives the loop
                    // and never moves; the server does not touch it until `received`.
                    unsafe { sub.push(&entry) };
                }
                Op::Send(slot) => {
                    self.inflight += 1;
                    let s = &mut self.slots[slot as usize];
                    s.send = true;
                    let [first, second] = self.server.send_parts(slot);
                    let entry = if second.is_empty() {
                        opcode::Send::new(types::Fixed(s.file), first.as_ptr(), first.len() as u32)
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
                        msg.msg_iovlen = 2;
                        opcode::SendMsg::new(types::Fixed(s.file), msg)
                            .flags(libc::MSG_NOSIGNAL as u32)
                            .build()
                    };
                    // SAFETY: the parts lie in the server's region or in `'static` data, the
                    // iovecs and msghdr in per-slot tables allocated before the loop; none of
                    // them changes until `sent`.
                    unsafe { sub.push(&entry.user_data(token(Kind::Send, slot))) };
                }
                Op::Shutdown(slot) => {
                    self.slots[slot as usize].shutdown = true;
                    let file = self.slots[slot as usize].file;
                    let entry = opcode::Shutdown::new(types::Fixed(file), libc::SHUT_WR)
                        .build()
                        .user_data(token(Kind::Shutdown, slot));
                    // SAFETY: refers to no buffer.
                    unsafe { sub.push(&entry) };
                }
                Op::Close(slot) => {
                    self.drop_pending(slot);
                    let s = &mut self.slots[slot as usize];
                    s.closing = true;
                    if s.multishot && !s.multishot_cancelled {
                        s.multishot_cancelled = true;
                        let entry = opcode::AsyncCancel::new(token(Kind::RecvMulti, slot))
                            .build()
                            .user_data(token(Kind::Cancel, slot));
                        // SAFETY: refers to no buffer.
                        unsafe { sub.push(&entry) };
                    }
                    if self.buf_ring.is_some() && s.recv {
                        // No receive is in flight for it in this mode: only the multishot.
                        s.recv = false;
                        self.inflight -= 1;
                    }
                    let s = &mut self.slots[slot as usize];
                    // A posted receive waits for bytes that may never come: cancel what is in
                    // flight, then close; the slot is reported closed after all three complete.
                    for (posted, kind) in [(s.recv, Kind::Recv), (s.send, Kind::Send)] {
                        if posted {
                            let entry = opcode::AsyncCancel::new(token(kind, slot))
                                .build()
                                .user_data(token(Kind::Cancel, slot));
                            // SAFETY: refers to no buffer.
                            unsafe { sub.push(&entry) };
                        }
                    }
                    if s.shutdown {
                        s.close_deferred = true;
                    } else {
                        push_close(sub, s.file, slot);
                    }
                }
            }
        }
    }

    /// Reports one completion to the server.
    fn complete(&mut self, sub: &mut Submit<'_>, user_data: u64, result: i32, flags: u32) {
        let (kind, index) = untoken(user_data);
        match kind {
            Kind::Accept => self.accepted(sub, index as usize, result, flags),
            Kind::Recv => {
                self.inflight -= 1;
                let s = &mut self.slots[index as usize];
                s.recv = false;
                if s.closing {
                    self.maybe_closed(index);
                } else if result >= 0 {
                    self.tell_received(index, result as usize);
                } else {
                    self.tell_failed(index, OpKind::Recv, classify(-result));
                }
            }
            Kind::Send => {
                self.inflight -= 1;
                let s = &mut self.slots[index as usize];
                s.send = false;
                if s.closing {
                    self.maybe_closed(index);
                } else if result > 0 {
                    self.tell_sent(index, result as usize);
                } else if result == 0 {
                    // The kernel took nothing: try again.
                    self.tell_failed(index, OpKind::Send, IoError::Retry);
                } else {
                    self.tell_failed(index, OpKind::Send, classify(-result));
                }
            }
            Kind::Shutdown => {
                let s = &mut self.slots[index as usize];
                s.shutdown = false;
                if s.close_deferred {
                    s.close_deferred = false;
                    push_close(sub, s.file, index);
                }
            }
            Kind::RecvMulti => self.multishot_completed(sub, index, result, flags),
            Kind::Close => {
                self.slots[index as usize].close_done = true;
                self.maybe_closed(index);
            }
            Kind::Wake => {
                if !self.stop.load(Ordering::Relaxed) {
                    self.arm_wake(sub);
                }
            }
            Kind::UdpRecv => self.datagram(sub, index as usize, result),
            Kind::UdpSend => {
                let (u, r) = ((index >> 16) as usize, (index & 0xffff) as usize);
                self.udp[u].replies[r].busy = false;
            }
            Kind::Cancel | Kind::CloseRejected => {}
        }
    }

    fn accepted(&mut self, sub: &mut Submit<'_>, l: usize, result: i32, flags: u32) {
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
            return;
        }
        let file = result as u32;
        // Earlier arrivals first: they may have a slot by now.
        self.admit_waiting(sub);
        self.offer(sub, file, l);
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
    fn admit_waiting(&mut self, sub: &mut Submit<'_>) {
        for _ in 0..self.waiting.len() {
            if !self.server.can_accept() {
                return;
            }
            let Some((file, l)) = self.waiting.pop_front() else {
                return;
            };
            self.offer(sub, file, l);
        }
    }

    /// Offers an accepted connection to the server. With every slot taken the server begins
    /// freeing one for it, and it waits in arrival order; when the waiting room is full it is
    /// turned away.
    fn offer(&mut self, sub: &mut Submit<'_>, file: u32, l: usize) {
        let accepted = self
            .server
            .accept(self.listeners[l].service, PeerAddr::Local);
        if let Some(r) = &mut self.rec {
            r.recorder.accept(self.services[l], accepted.ok());
        }
        match accepted {
            Ok(slot) => {
                self.slots[slot as usize] = SlotIo {
                    file,
                    ..SlotIo::default()
                }
            }
            Err(AcceptError::Full) if self.waiting.len() < self.waiting_room => {
                self.waiting.push_back((file, l));
            }
            Err(AcceptError::Full) => {
                if let Some(r) = &mut self.rec {
                    r.recorder.turned_away();
                }
                self.server.turned_away();
                push_close_rejected(sub, file);
            }
            // Shutting down: no new connections.
            Err(AcceptError::ShuttingDown) => push_close_rejected(sub, file),
        }
    }

    /// Arms the multishot receive of `slot` if it is not armed and the ring has buffers left.
    fn arm_multishot(&mut self, sub: &mut Submit<'_>, slot: SlotId) {
        let s = &mut self.slots[slot as usize];
        if s.multishot || s.closing {
            return;
        }
        s.multishot = true;
        s.multishot_cancelled = false;
        let entry = opcode::RecvMulti::new(types::Fixed(s.file), buf_ring::GROUP)
            .build()
            .user_data(token(Kind::RecvMulti, slot));
        // SAFETY: the kernel picks buffers from the registered ring, which outlives the ring.
        unsafe { sub.push(&entry) };
    }

    /// A multishot receive completed: keep the bytes for the server, and hand them over at
    /// once if it asked.
    fn multishot_completed(&mut self, sub: &mut Submit<'_>, slot: SlotId, result: i32, flags: u32) {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let s = &mut self.slots[slot as usize];
        if !more {
            s.multishot = false;
        }
        let closing = s.closing;
        match (result, bid) {
            (n, Some(bid)) if n > 0 && !closing => self.pending.push(slot as usize, bid, n as u32),
            (_, Some(bid)) => {
                if let Some(ring) = &mut self.buf_ring {
                    ring.recycle(bid);
                }
            }
            (0, None) if !closing => self.slots[slot as usize].eof_pending = true,
            // The ring ran dry (ENOBUFS) or our cancel: re-armed when asked for data again.
            (e, None) if e == -libc::ENOBUFS || e == -libc::ECANCELED => {}
            (e, None) if e < 0 && !closing => self.slots[slot as usize].error_pending = -e,
            _ => {}
        }
        if closing {
            self.maybe_closed(slot);
            return;
        }
        let s = self.slots[slot as usize];
        if s.recv {
            if self.deliver_pending(slot) {
                self.inflight -= 1;
            } else if !s.multishot {
                self.arm_multishot(sub, slot);
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
            unsafe { sub.push(&entry) };
        }
    }

    /// Gives the server what is pending for `slot` (bytes, then an end of stream or an error),
    /// if anything; returns whether it did.
    fn deliver_pending(&mut self, slot: SlotId) -> bool {
        let Some(ring) = &mut self.buf_ring else {
            return false;
        };
        let i = slot as usize;
        if self.pending.len(i) == 0 {
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
        let mut n = 0;
        while let Some((bid, from, to)) = self.pending.front(i) {
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
        debug_assert!(n > 0, "a posted receive always has room");
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
        while let Some(bid) = self.pending.pop(slot as usize) {
            ring.recycle(bid);
        }
    }

    fn maybe_closed(&mut self, slot: SlotId) {
        let s = self.slots[slot as usize];
        if s.closing && s.close_done && !s.recv && !s.send && !s.multishot {
            self.slots[slot as usize] = SlotIo::default();
            self.tell_closed(slot);
        }
    }

    fn arm_udp_recv(&mut self, sub: &mut Submit<'_>, u: usize) {
        let state = &mut self.udp[u];
        state.iov = libc::iovec {
            iov_base: state.buf.as_mut_ptr().cast(),
            iov_len: state.buf.len(),
        };
        state.msg.msg_name = (&mut state.name as *mut libc::sockaddr_storage).cast();
        state.msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
        state.msg.msg_iov = &mut state.iov;
        state.msg.msg_iovlen = 1;
        let entry = opcode::RecvMsg::new(types::Fd(state.fd.as_raw_fd()), &mut state.msg)
            .build()
            .user_data(token(Kind::UdpRecv, u as u32));
        // SAFETY: the buffer is boxed and the iovec, name and msghdr live in `self.udp`,
        // which is not resized while the loop runs.
        unsafe { sub.push(&entry) };
    }

    fn datagram(&mut self, sub: &mut Submit<'_>, u: usize, result: i32) {
        if result >= 0 {
            let state = &mut self.udp[u];
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
                        .user_data(token(Kind::UdpSend, (u as u32) << 16 | r as u32));
                    // SAFETY: the reply slot is boxed and marked busy until its completion.
                    unsafe { sub.push(&entry) };
                }
            }
            // With every reply slot busy the datagram is dropped, as UDP allows.
        }
        self.arm_udp_recv(sub, u);
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
fn push_close_rejected(sub: &mut Submit<'_>, file: u32) {
    let entry = opcode::Close::new(types::Fixed(file))
        .build()
        .user_data(token(Kind::CloseRejected, file));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) };
}

/// Closes the registered file of `slot`.
fn push_close(sub: &mut Submit<'_>, file: u32, slot: SlotId) {
    let entry = opcode::Close::new(types::Fixed(file))
        .build()
        .user_data(token(Kind::Close, slot));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) };
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
