//! # zzz-uring
//!
//! The Linux backend of zzz. Each instance is one thread, one io_uring and one `zzz-core`
//! [`Server`]: completions from the kernel become the core's events, and the
//! core's operations become submissions, one `io_uring_enter` per loop turn. Several instances
//! run shared-nothing on several threads, each with its own app state, its own memory region
//! and its own `SO_REUSEPORT` listener.
//!
//! ```no_run
//! # use zzz_core::{Config, Service};
//! # fn app() -> zzz_core::App<()> { unimplemented!() }
//! zzz_uring::Builder::new(Config::DEFAULT)
//!     .threads(2)
//!     .listen_tcp("127.0.0.1:8080".parse().unwrap(), Service::Http)
//!     .run(|_instance| app())
//!     .unwrap();
//! ```
//!
//! - [`Builder::run`] serves until SIGINT or SIGTERM, then stops accepting, lets in-flight
//!   requests finish and idle connections close, and exits within the grace period; a second
//!   signal exits at once.
//! - [`Builder::start`] returns a [`Running`] server with a [`Handle`] for stopping it
//!   programmatically (tests do this).
//! - [`Builder::record`] records what each instance tells its server, so that the simulator
//!   can replay it as a test (`cargo run -p zzz-sim --release -- --replay FILE`).
//! - When io_uring is unavailable (old kernel, seccomp, `kernel.io_uring_disabled`), the error
//!   says which and how to use the portable server instead; with
//!   [`Builder::fallback_to_portable`] the switch is automatic.
//!
//! ## Listeners: `SO_REUSEPORT` or one shared socket
//!
//! By default each instance binds its own socket with `SO_REUSEPORT`, and the kernel spreads
//! connections over them by a hash of the addresses. The alternative, one listening socket
//! with a multishot accept armed by every instance ([`ListenerMode::Shared`]), lets whichever
//! instance wakes first take the connection. See the README's figures for how each balances.

mod availability;
mod buf_ring;
mod instance;
mod listen;
mod stats_board;
mod submit;
mod token;

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use zzz_core::{App, Config, Now, Server, Service, Snapshot, UdpHandler};
use zzz_poll::Portable;

use stats_board::StatsBoard;

pub use availability::{Unavailable, probe};
pub use listen::{BoundAddr, Listen};

/// How connections receive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecvMode {
    /// One receive per read, straight into the connection's buffer in the server's region:
    /// no copy, one submission per read.
    Direct,
    /// One multishot receive per connection, the kernel filling buffers from a shared
    /// provided-buffer ring, copied into the connection's buffer when the server asks: a copy
    /// of what arrives, and no submission per read. `buffers` (a power of two, at most
    /// 32768) of `size` (at least 1) bytes each; Linux 5.19+, else `Direct`.
    BufferRing {
        /// Buffers in the ring.
        buffers: u16,
        /// Bytes per buffer.
        size: u32,
    },
}

/// Why a [`RecvMode`] cannot be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvalidRecvMode {
    /// `buffers` is not a power of two (the kernel indexes the ring by masking).
    BuffersNotPowerOfTwo,
    /// `size` is 0.
    EmptyBuffers,
}

impl std::fmt::Display for InvalidRecvMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvalidRecvMode::BuffersNotPowerOfTwo => {
                "RecvMode::BufferRing: buffers must be a power of two, at most 32768"
            }
            InvalidRecvMode::EmptyBuffers => "RecvMode::BufferRing: size must be at least 1",
        })
    }
}

impl std::error::Error for InvalidRecvMode {}

/// Buffers in the default ring.
const DEFAULT_RING_BUFFERS: u16 = 256;
/// Bytes per buffer of the default ring.
const DEFAULT_RING_BUFFER_SIZE: u32 = 2048;
const _: () = assert!(
    DEFAULT_RING_BUFFERS.is_power_of_two()
        && DEFAULT_RING_BUFFERS <= buf_ring::BUFFERS_MAX
        && DEFAULT_RING_BUFFER_SIZE > 0
);

impl RecvMode {
    /// Checks that the kernel can be given this mode's ring: `Ok` for `Direct`, and for
    /// `BufferRing` with `buffers` a power of two (hence at most 32768) and `size` at least 1.
    pub const fn validate(&self) -> Result<(), InvalidRecvMode> {
        match *self {
            RecvMode::Direct => Ok(()),
            RecvMode::BufferRing { buffers, .. } if !buffers.is_power_of_two() => {
                Err(InvalidRecvMode::BuffersNotPowerOfTwo)
            }
            RecvMode::BufferRing { size: 0, .. } => Err(InvalidRecvMode::EmptyBuffers),
            RecvMode::BufferRing { .. } => Ok(()),
        }
    }
}

impl Default for RecvMode {
    /// A ring of 256 buffers of 2 KiB (512 KiB per instance).
    fn default() -> Self {
        RecvMode::BufferRing {
            buffers: DEFAULT_RING_BUFFERS,
            size: DEFAULT_RING_BUFFER_SIZE,
        }
    }
}

/// How instances share a TCP address.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ListenerMode {
    /// One socket per instance with `SO_REUSEPORT`; the kernel balances by address hash.
    #[default]
    ReusePort,
    /// One socket for all instances; each arms its own accept on it.
    Shared,
}

/// Configures and starts the servers.
pub struct Builder<S: 'static> {
    config: Config,
    threads: usize,
    pin_cpus: bool,
    listen: Vec<Listen<S>>,
    mode: ListenerMode,
    grace: Duration,
    fallback: bool,
    ring_entries: u32,
    on_ready: Option<fn(usize)>,
    quiet: bool,
    batch_wait_us: u32,
    recv_mode: RecvMode,
    record: Option<(PathBuf, usize)>,
    waiting_room: usize,
}

/// Accepted connections that may wait, per instance, for the slot the server frees for each
/// while every slot is taken (see [`Builder::waiting_room`]).
pub const DEFAULT_WAITING_ROOM: usize = 1024;

/// The largest waiting room: io_uring's limit on registered files, each waiting connection
/// taking one.
pub const WAITING_ROOM_MAX: usize = 1 << 20;
const _: () = assert!(DEFAULT_WAITING_ROOM >= 1 && DEFAULT_WAITING_ROOM <= WAITING_ROOM_MAX);

impl<S: Send + 'static> Builder<S> {
    /// A builder for instances with this configuration (validated when starting).
    pub fn new(config: Config) -> Builder<S> {
        Builder {
            config,
            threads: 1,
            pin_cpus: false,
            listen: Vec::new(),
            mode: ListenerMode::ReusePort,
            grace: Duration::from_secs(10),
            fallback: false,
            ring_entries: 4096,
            on_ready: None,
            quiet: false,
            batch_wait_us: 0,
            recv_mode: RecvMode::default(),
            record: None,
            waiting_room: DEFAULT_WAITING_ROOM,
        }
    }

    /// How many accepted connections may wait, per instance, while every slot is taken
    /// (default [`DEFAULT_WAITING_ROOM`], at least 1, at most [`WAITING_ROOM_MAX`]). An instance keeps accepting when full:
    /// for each newcomer the server closes one connection to make room (the oldest without a
    /// complete request head, else the oldest idle one) and the newcomer waits here, in
    /// arrival order, for that slot. When nobody can be closed (every slot is serving a
    /// request) and the room is full, a newcomer is closed at once: turned away, and counted.
    /// Each place costs one entry in the ring's registered file table.
    pub fn waiting_room(mut self, connections: usize) -> Self {
        self.waiting_room = connections.clamp(1, WAITING_ROOM_MAX);
        self
    }

    /// Runs `n` instances, one per thread (default 1).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Pins instance `i` to CPU `i` (modulo the CPUs available).
    pub fn pin_cpus(mut self, pin: bool) -> Self {
        self.pin_cpus = pin;
        self
    }

    /// Serves `service` on a TCP address (IPv4 or IPv6; port 0 picks a free port, see
    /// [`Running::addrs`]).
    pub fn listen_tcp(mut self, addr: SocketAddr, service: Service<S>) -> Self {
        self.listen.push(Listen::Tcp(addr, service));
        self
    }

    /// Serves `service` on a Unix domain socket.
    pub fn listen_unix(mut self, path: impl Into<PathBuf>, service: Service<S>) -> Self {
        self.listen.push(Listen::Unix(path.into(), service));
        self
    }

    /// Answers datagrams on a UDP address with `handler`.
    pub fn listen_udp(mut self, addr: SocketAddr, handler: UdpHandler<S>) -> Self {
        self.listen.push(Listen::Udp(addr, handler));
        self
    }

    /// How instances share TCP addresses (default [`ListenerMode::ReusePort`]).
    pub fn listener_mode(mut self, mode: ListenerMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a graceful shutdown waits for connections to finish (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Runs the portable poll server instead when io_uring is unavailable (default: fail with
    /// an [`Unavailable`] error that explains why).
    pub fn fallback_to_portable(mut self, fallback: bool) -> Self {
        self.fallback = fallback;
        self
    }

    /// Submission queue entries per ring (default 4096).
    pub fn ring_entries(mut self, entries: u32) -> Self {
        self.ring_entries = entries;
        self
    }

    /// Calls `hook(instance)` on each instance's thread once it is set up, just before its
    /// loop starts: after this point the instance allocates nothing.
    pub fn on_ready(mut self, hook: fn(usize)) -> Self {
        self.on_ready = Some(hook);
        self
    }

    /// Under load, lets each wait for completions take up to `us` microseconds to gather a
    /// batch (several completions per wake-up instead of one) before returning with fewer:
    /// less CPU per request for at most that much added latency. Needs Linux 6.12; ignored
    /// before. Default 0 (wake for every completion).
    pub fn batch_wait_us(mut self, us: u32) -> Self {
        self.batch_wait_us = us;
        self
    }

    /// How connections receive (default: a ring of 256 buffers of 2 KiB, see
    /// [`RecvMode::default`]); [`Builder::start`] fails with [`InvalidRecvMode`] for a ring the
    /// kernel cannot be given.
    pub fn recv_mode(mut self, mode: RecvMode) -> Self {
        self.recv_mode = mode;
        self
    }

    /// Records what each instance tells its server, so that the simulator can replay it: a
    /// production incident becomes a test. Off by default.
    ///
    /// Each instance takes a buffer of `capacity_bytes` at startup (nothing is allocated in
    /// the loop) and appends to it, in order, every event it feeds its [`Server`]: each
    /// accept with the slot it got, each receive with the bytes the kernel put in the receive
    /// buffer, each send's byte count, each failure, each close, each tick whose time changed,
    /// each datagram with its bytes, the shutdown. The format is [`zzz_core::record`]'s. The
    /// server is deterministic, so replaying these events into a fresh server with the same
    /// app and configuration reproduces every byte it sent:
    ///
    /// ```text
    /// cargo run -p zzz-sim --release -- --replay /var/tmp/zzz/incident.0.zzzrec --app bench
    /// ```
    ///
    /// or, with your own app, `zzz_sim::record::replay` in a test. A recording numbers
    /// services: an accept's service is 0 for HTTP and `k` for the `k`-th listener with a
    /// [`Service::Tcp`] (in the order the listeners were added); a datagram's handler is the
    /// index of its [`Builder::listen_udp`] among the UDP listeners.
    ///
    /// **Files.** Instance `i` writes `<path>.<i>.zzzrec`, or `<path>/zzz.<i>.zzzrec` when
    /// `path` is a directory, when it stops: after a graceful stop, when its loop fails, and
    /// when a panic unwinds through it (the last record is then the event the server was
    /// being told, so the replay reproduces the panic). **A crash that does not unwind
    /// (abort, `SIGKILL`, the OOM killer, power loss, the second signal under
    /// [`Builder::run`], which exits at once) writes nothing.** [`Handle::dump`] —
    /// and `SIGUSR1` under [`Builder::run`] — writes each instance's recording so far without
    /// stopping it (from the loop, between two turns: a blocking write of at most
    /// `capacity_bytes`).
    ///
    /// **Bounded.** When the next event does not fit, recording stops and the file says it is
    /// truncated: it holds the run's first events, and a prefix of a deterministic run
    /// replays as well as the whole (a ring keeping the last events could not be replayed,
    /// lacking the state they started from). Size the buffer for the traffic to capture:
    /// received bytes plus a few bytes per event.
    ///
    /// **What is not recorded**: peer addresses (a replay passes `PeerAddr::Local`; this
    /// backend passes it for connections anyway, but a UDP handler that reads the peer may
    /// replay differently). The file holds every byte clients sent, credentials included:
    /// treat it like a packet capture. The portable fallback server
    /// ([`Builder::fallback_to_portable`]) does not record.
    pub fn record(mut self, path: impl Into<PathBuf>, capacity_bytes: usize) -> Self {
        self.record = Some((path.into(), capacity_bytes));
        self
    }

    /// Does not print the startup line.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Binds, starts the instances and returns at once.
    pub fn start(
        self,
        make_app: impl Fn(usize) -> App<S> + Send + Sync + 'static,
    ) -> io::Result<Running> {
        self.config
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.recv_mode
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        if let Some((_, capacity)) = &self.record
            && *capacity < zzz_core::record::HEADER_MAX
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                zzz_core::record::TooSmall,
            ));
        }
        // Probe on a thread of its own: creating and dropping rings on the caller's thread has
        // been seen to interrupt the caller's next blocking system call (EINTR).
        let probed = std::thread::spawn(|| {
            probe().map(|()| instance::build_ring(2).map_or("plain", |(_, f)| f))
        })
        .join()
        .map_err(|_| io::Error::other("the io_uring probe panicked"))?;
        let (uring, flags) = match probed {
            Ok(flags) => (true, flags),
            Err(unavailable) if self.fallback => {
                log::warn!("zzz: {unavailable}; serving with the portable poll server");
                (false, "")
            }
            Err(unavailable) => {
                return Err(io::Error::new(io::ErrorKind::Unsupported, unavailable));
            }
        };
        let (per_instance, addrs) = bind_all(&self.listen, self.threads, self.mode)?;
        if !uring && self.record.is_some() {
            log::warn!("zzz: the portable poll server does not record; nothing will be recorded");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let dump = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(StatsBoard::new(per_instance.len()));
        let make_app = Arc::new(make_app);
        let mut wakers = Vec::new();
        let mut threads = Vec::new();
        if !self.quiet {
            let listening: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            println!(
                "zzz: {} on {}, {} instance(s), per instance {}",
                if uring {
                    "io_uring"
                } else {
                    "portable poll server"
                },
                listening.join(", "),
                self.threads,
                self.config.memory()
            );
            if uring {
                log::info!("zzz: ring setup: {flags}");
            }
            if let (true, Some((path, capacity))) = (uring, &self.record) {
                println!(
                    "zzz: recording up to {capacity} bytes per instance, written when it stops \
                     (instance 0: {})",
                    recording_path(path, 0).display()
                );
            }
        }
        for (index, sockets) in per_instance.into_iter().enumerate() {
            let waker = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC)?;
            wakers.push(waker.try_clone()?);
            let stop = stop.clone();
            let dump = dump.clone();
            let stats = stats.clone();
            let waiting_room = self.waiting_room;
            let record = self
                .record
                .as_ref()
                .map(|(path, capacity)| instance::RecordTo {
                    path: recording_path(path, index),
                    capacity: *capacity,
                });
            let make_app = make_app.clone();
            let quiet = self.quiet;
            let recv_mode = self.recv_mode;
            let (config, grace, entries, on_ready, pin, batch_wait_us) = (
                self.config,
                self.grace,
                self.ring_entries,
                self.on_ready,
                self.pin_cpus,
                self.batch_wait_us,
            );
            let thread = std::thread::Builder::new()
                .name(format!("zzz-{index}"))
                .spawn(move || {
                    if pin {
                        pin_to_cpu(index);
                    }
                    let app = make_app(index);
                    if uring {
                        let setup = instance::Setup {
                            index,
                            config,
                            app,
                            listeners: sockets.listeners,
                            datagrams: sockets.datagrams,
                            stop,
                            waker,
                            grace,
                            ring_entries: entries,
                            on_ready,
                            batch_wait_us,
                            report_on_exit: !quiet,
                            recv_mode,
                            record,
                            dump,
                            stats,
                            waiting_room,
                        };
                        instance::run(setup)
                    } else {
                        run_portable(
                            config,
                            app,
                            sockets,
                            &stop,
                            grace,
                            on_ready.map(|h| (h, index)),
                            (&stats, index),
                        )
                    }
                })?;
            threads.push(thread);
        }
        Ok(Running {
            handle: Handle {
                stop,
                dump,
                stats,
                wakers: Arc::new(wakers),
            },
            threads,
            addrs,
        })
    }

    /// Starts the instances and serves until SIGINT or SIGTERM (graceful; a second signal
    /// exits at once) or until every instance has stopped. When recording
    /// ([`Builder::record`]), SIGUSR1 writes the recordings so far ([`Handle::dump`]).
    pub fn run(self, make_app: impl Fn(usize) -> App<S> + Send + Sync + 'static) -> io::Result<()> {
        let signals = block_stop_signals(self.record.is_some())?;
        let running = self.start(make_app)?;
        let handle = running.handle();
        std::thread::Builder::new()
            .name("zzz-signals".into())
            .spawn(move || wait_for_signals(signals, handle))?;
        running.wait()
    }
}

/// The file instance `index` records into: `<path>.<index>.zzzrec`, or
/// `<path>/zzz.<index>.zzzrec` when `path` is a directory.
fn recording_path(path: &Path, index: usize) -> PathBuf {
    if path.is_dir() {
        return path.join(format!("zzz.{index}.zzzrec"));
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}.zzzrec"));
    name.into()
}

/// The sockets of one instance.
struct InstanceSockets<S: 'static> {
    listeners: Vec<instance::Listener<S>>,
    datagrams: Vec<instance::Datagrams<S>>,
}

/// Binds every listener for every instance; returns the sockets per instance and the bound
/// addresses.
fn bind_all<S>(
    listen: &[Listen<S>],
    threads: usize,
    mode: ListenerMode,
) -> io::Result<(Vec<InstanceSockets<S>>, Vec<BoundAddr>)> {
    let mut per: Vec<InstanceSockets<S>> = (0..threads)
        .map(|_| InstanceSockets {
            listeners: Vec::new(),
            datagrams: Vec::new(),
        })
        .collect();
    let mut addrs = Vec::new();
    for spec in listen {
        match spec {
            Listen::Tcp(addr, service) => {
                let reuse = mode == ListenerMode::ReusePort;
                let (first, bound) = listen::tcp(*addr, reuse)?;
                let first = Arc::new(first);
                addrs.push(BoundAddr::Tcp(bound));
                for (i, sockets) in per.iter_mut().enumerate() {
                    let fd = if i == 0 || !reuse {
                        first.clone()
                    } else {
                        Arc::new(listen::tcp(bound, true)?.0)
                    };
                    sockets.listeners.push(instance::Listener {
                        fd,
                        service: *service,
                    });
                }
            }
            Listen::Unix(path, service) => {
                let fd = Arc::new(listen::unix(path)?);
                addrs.push(BoundAddr::Unix(path.clone()));
                for sockets in per.iter_mut() {
                    sockets.listeners.push(instance::Listener {
                        fd: fd.clone(),
                        service: *service,
                    });
                }
            }
            Listen::Udp(addr, handler) => {
                let (first, bound) = listen::udp(*addr, true)?;
                addrs.push(BoundAddr::Udp(bound));
                let mut first = Some(first);
                for sockets in per.iter_mut() {
                    let fd = match first.take() {
                        Some(fd) => fd,
                        None => listen::udp(bound, true)?.0,
                    };
                    sockets.datagrams.push(instance::Datagrams {
                        fd,
                        handler: *handler,
                    });
                }
            }
        }
    }
    Ok((per, addrs))
}

/// The same app on the portable poll server, when io_uring is unavailable.
fn run_portable<S>(
    config: Config,
    app: App<S>,
    sockets: InstanceSockets<S>,
    stop: &AtomicBool,
    grace: Duration,
    on_ready: Option<(fn(usize), usize)>,
    (stats, index): (&StatsBoard, usize),
) -> io::Result<()> {
    let mut region = zzz_core::memory::Region::for_config(&config);
    let server = Server::new(config, app, region.bytes(), Now::default())
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut portable = Portable::new(server);
    portable.set_shutdown_grace(grace);
    for l in sockets.listeners {
        let fd = Arc::try_unwrap(l.fd).or_else(|shared| shared.try_clone())?;
        portable.listen(std::net::TcpListener::from(fd), l.service)?;
    }
    for d in sockets.datagrams {
        portable.listen_udp(std::net::UdpSocket::from(d.fd), d.handler)?;
    }
    if let Some((hook, index)) = on_ready {
        hook(index);
    }
    let mut answered = 0;
    let result = portable.run_with(stop, |server| {
        stats.serve(index, &mut answered, || server.snapshot())
    });
    stats.publish_final(index, portable.server().snapshot());
    result
}

fn pin_to_cpu(index: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut set = rustix::thread::CpuSet::new();
    set.set(index % cpus);
    if let Err(e) = rustix::thread::sched_setaffinity(None, &set) {
        log::warn!("zzz: could not pin instance {index} to a CPU: {e}");
    }
}

/// Controls the instances of a [`Running`] server from any thread: stops them, asks them to
/// write their recordings, reads their counters.
#[derive(Clone)]
pub struct Handle {
    stop: Arc<AtomicBool>,
    dump: Arc<AtomicU64>,
    stats: Arc<StatsBoard>,
    wakers: Arc<Vec<OwnedFd>>,
}

impl Handle {
    /// Starts a graceful shutdown of every instance.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Asks every recording instance ([`Builder::record`]) to write its recording so far to
    /// its file, and returns at once; each does so on its next loop turn, and goes on
    /// recording. Does nothing when not recording.
    pub fn dump(&self) {
        self.dump.fetch_add(1, Ordering::SeqCst);
        self.wake();
    }

    /// Every instance's counters and gauges, fresh: each instance copies them at its next
    /// loop turn (woken for it), and this waits for them, at most two seconds in all (the
    /// portable fallback's loop turns at least once a second); an instance that has stopped
    /// gives its last ones. For monitoring; the instances allocate nothing for it.
    pub fn stats(&self) -> Vec<Snapshot> {
        self.stats.read(|| self.wake(), Duration::from_secs(2))
    }

    fn wake(&self) {
        for waker in self.wakers.iter() {
            let _ = rustix::io::write(waker, &1u64.to_ne_bytes());
        }
    }
}

/// A started server.
pub struct Running {
    handle: Handle,
    threads: Vec<JoinHandle<io::Result<()>>>,
    addrs: Vec<BoundAddr>,
}

impl Running {
    /// Where the listeners are bound, in the order they were added.
    pub fn addrs(&self) -> &[BoundAddr] {
        &self.addrs
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Waits for every instance to stop; returns the first error.
    pub fn wait(self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("an instance panicked")));
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    }

    /// Stops gracefully and waits.
    pub fn stop(self) -> io::Result<()> {
        self.handle.shutdown();
        self.wait()
    }
}

/// Blocks SIGINT and SIGTERM (and SIGUSR1, when `dump` is set) in this thread (and the
/// threads it spawns) and returns a signalfd that receives them.
fn block_stop_signals(dump: bool) -> io::Result<OwnedFd> {
    // SAFETY: plain libc calls on a local sigset; the returned descriptor is owned.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if dump {
            libc::sigaddset(&mut set, libc::SIGUSR1);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(std::os::fd::FromRawFd::from_raw_fd(fd))
    }
}

/// Bytes of one signal read from a signalfd: `struct signalfd_siginfo`.
const SIGINFO_LEN: usize = 128;
// signalfd(2) fixes the structure at 128 bytes, its first field the signal number.
const _: () = assert!(
    size_of::<libc::signalfd_siginfo>() == SIGINFO_LEN
        && std::mem::offset_of!(libc::signalfd_siginfo, ssi_signo) == 0
);

/// Reads of the signalfd in a row that may be interrupted before the signal thread gives up
/// (every signal it reads is blocked, so an interruption carries none: this is a backstop).
const INTERRUPTED_READS_MAX: u32 = 64;

/// First SIGINT or SIGTERM: graceful shutdown. Second: exit at once. SIGUSR1 (received only
/// when recording): [`Handle::dump`].
fn wait_for_signals(signals: OwnedFd, handle: Handle) {
    let mut info = [0u8; SIGINFO_LEN];
    let mut count = 0;
    let mut interrupted = 0;
    // Bounded: the process's signal loop, one round per signal, until the second stop signal
    // exits; an interrupted read, which carries no signal, counts against `interrupted`.
    loop {
        // SAFETY: reads into a local buffer of the size signalfd requires.
        let n = unsafe { libc::read(signals.as_raw_fd(), info.as_mut_ptr().cast(), info.len()) };
        if n <= 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                interrupted += 1;
                if interrupted < INTERRUPTED_READS_MAX {
                    continue;
                }
                log::error!(
                    "zzz: the signal thread was interrupted {INTERRUPTED_READS_MAX} times in a \
                     row; SIGINT and SIGTERM are no longer handled"
                );
            }
            return;
        }
        interrupted = 0;
        // A signalfd read returns whole structures.
        assert_eq!(
            n as usize, SIGINFO_LEN,
            "a signalfd read of part of a signal"
        );
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        if signo == libc::SIGUSR1 as u32 {
            handle.dump();
            continue;
        }
        count += 1;
        if count == 1 {
            eprintln!("zzz: stopping (signal again to exit at once)");
            handle.shutdown();
        } else {
            eprintln!("zzz: exiting at once");
            std::process::exit(130);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_of_32768_buffers_of_one_byte_is_valid() {
        let mode = RecvMode::BufferRing {
            buffers: 32768,
            size: 1,
        };
        assert_eq!(mode.validate(), Ok(()));
        assert_eq!(RecvMode::default().validate(), Ok(()));
        assert_eq!(RecvMode::Direct.validate(), Ok(()));
    }

    #[test]
    fn a_ring_the_kernel_cannot_index_is_refused() {
        for buffers in [0, 3, 32767, u16::MAX] {
            let mode = RecvMode::BufferRing {
                buffers,
                size: 2048,
            };
            assert_eq!(
                mode.validate(),
                Err(InvalidRecvMode::BuffersNotPowerOfTwo),
                "{buffers} buffers"
            );
        }
        let empty = RecvMode::BufferRing {
            buffers: 256,
            size: 0,
        };
        assert_eq!(empty.validate(), Err(InvalidRecvMode::EmptyBuffers));
    }

    #[test]
    fn the_waiting_room_holds_one_to_waiting_room_max() {
        let room = |n| {
            Builder::<()>::new(Config::DEFAULT)
                .waiting_room(n)
                .waiting_room
        };
        assert_eq!(room(0), 1);
        assert_eq!(room(WAITING_ROOM_MAX), WAITING_ROOM_MAX);
        assert_eq!(room(WAITING_ROOM_MAX + 1), WAITING_ROOM_MAX);
    }
}
