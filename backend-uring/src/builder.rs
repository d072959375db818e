//! The [`Builder`]: what to listen on and how to run, then the instances started, each on its
//! thread, with io_uring or, when it is unavailable and allowed, the portable poll server.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use zzz_core::{App, Config, Http, Now, Protocols, Server};
use zzz_poll::Portable;

use crate::listen::{self, BoundAddr, Listen};
use crate::mailbox::Mailbox;
use crate::signals::{block_stop_signals, wait_for_signals};
use crate::stats_board::StatsBoard;
use crate::{Handle, RecvMode, Running, Unavailable, instance, probe};

/// The default bytes of an instance's mailbox ([`Builder::mailbox_bytes`]).
pub const DEFAULT_MAILBOX_BYTES: usize = 64 * 1024;

/// How instances share a TCP address.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ListenerMode {
    /// One socket per instance with `SO_REUSEPORT`; the kernel balances by address hash.
    #[default]
    ReusePort,
    /// One socket for all instances; each arms its own accept on it.
    Shared,
}

/// Configures and starts the servers of an app whose protocol set is `P` (HTTP/1.1 alone by
/// default; see [`zzz_core::protocols!`] for several).
pub struct Builder<S: 'static, P: Protocols<S> = Http<S>> {
    config: Config,
    threads: usize,
    pin_cpus: bool,
    listen: Vec<Listen<P::Id>>,
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
    mailbox_bytes: usize,
}

/// Accepted connections that may wait, per instance, for the slot the server frees for each
/// while every slot is taken (see [`Builder::waiting_room`]).
pub const DEFAULT_WAITING_ROOM: usize = 1024;

/// The largest waiting room: io_uring's limit on registered files, each waiting connection
/// taking one.
pub const WAITING_ROOM_MAX: usize = 1 << 20;
const _: () = assert!(DEFAULT_WAITING_ROOM >= 1 && DEFAULT_WAITING_ROOM <= WAITING_ROOM_MAX);

impl<S: Send + 'static, P: Protocols<S> + Send + 'static> Builder<S, P>
where
    P::Id: Send,
{
    /// A builder for instances with this configuration (validated when starting).
    pub fn new(config: Config) -> Builder<S, P> {
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
            mailbox_bytes: DEFAULT_MAILBOX_BYTES,
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

    /// Bytes of each instance's mailbox, where messages from other threads
    /// ([`Handle::publish`]) wait for the instance's next loop turn (default
    /// [`DEFAULT_MAILBOX_BYTES`]; 6 bytes of header each). Taken at startup; a full mailbox
    /// refuses a message.
    pub fn mailbox_bytes(mut self, bytes: usize) -> Self {
        self.mailbox_bytes = bytes;
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

    /// Serves connections to a TCP address (IPv4 or IPv6; port 0 picks a free port, see
    /// [`Running::addrs`]) with `protocol`, a protocol of the app's set: [`Sole`] for an app
    /// of one protocol, else the set's id (`Proto::Http`, say).
    ///
    /// [`Sole`]: zzz_core::Sole
    pub fn listen_tcp(mut self, addr: SocketAddr, protocol: P::Id) -> Self {
        self.listen.push(Listen::Tcp(addr, protocol));
        self
    }

    /// Serves connections to a Unix domain socket with `protocol`.
    pub fn listen_unix(mut self, path: impl Into<PathBuf>, protocol: P::Id) -> Self {
        self.listen.push(Listen::Unix(path.into(), protocol));
        self
    }

    /// Hands the datagrams that arrive on a UDP address to `protocol`, and sends its replies
    /// from there. Needs datagram buffers ([`Config::datagram_size`] and
    /// [`Config::datagram_replies`]; [`Builder::start`] fails without them).
    pub fn listen_udp(mut self, addr: SocketAddr, protocol: P::Id) -> Self {
        self.listen.push(Listen::Udp(addr, protocol));
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
    /// an [`Unavailable`](crate::Unavailable) error that explains why). The reason is then
    /// logged as a warning and, unless [`Builder::quiet`], told in the startup line.
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
    /// [`RecvMode::default`]); [`Builder::start`] fails with [`InvalidRecvMode`](crate::InvalidRecvMode) for a ring the
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
    /// or, with your own app, `zzz_sim::record::replay` in a test. A recording names each
    /// accept's and each datagram's protocol by its number in the app's set
    /// ([`Protocols::id_index`]), and a datagram's socket by the index of its
    /// [`Builder::listen_udp`] among the UDP listeners.
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
        make_app: impl Fn(usize) -> App<S, P> + Send + Sync + 'static,
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
        let udp = self.listen.iter().any(|l| matches!(l, Listen::Udp(..)));
        if udp && self.config.datagram_size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "listen_udp needs datagram buffers: set Config::datagram_size and \
                 Config::datagram_replies",
            ));
        }
        // Probe on a thread of its own: creating and dropping rings on the caller's thread has
        // been seen to interrupt the caller's next blocking system call (EINTR).
        let probed = std::thread::spawn(|| {
            probe().map(|()| instance::build_ring(2).map_or("plain", |(_, f)| f))
        })
        .join()
        .map_err(|_| io::Error::other("the io_uring probe panicked"))?;
        let (flags, unavailable) = match probed {
            Ok(flags) => (flags, None),
            Err(unavailable) if self.fallback => {
                log::warn!("zzz: {unavailable}; serving with the portable poll server");
                ("", Some(unavailable))
            }
            Err(unavailable) => {
                return Err(io::Error::new(io::ErrorKind::Unsupported, unavailable));
            }
        };
        let uring = unavailable.is_none();
        let (per_instance, addrs) = bind_all(&self.listen, self.threads, self.mode)?;
        if !uring && self.record.is_some() {
            log::warn!("zzz: the portable poll server does not record; nothing will be recorded");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let dump = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(StatsBoard::new(per_instance.len()));
        let make_app = Arc::new(make_app);
        let mut wakers = Vec::new();
        let mut mailboxes = Vec::new();
        let mut threads = Vec::new();
        // The startup line, printed by instance 0 once its app is made: the memory it reserves
        // depends on the app's protocol modules.
        let mut announce = None;
        if !self.quiet {
            announce = Some(startup_line(unavailable.as_ref(), &addrs, self.threads));
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
            let max_message = match self.config.topics.count {
                0 => 0,
                _ => self.config.topics.max_message as usize,
            };
            let mailbox = Arc::new(Mailbox::new(self.mailbox_bytes, max_message));
            mailboxes.push(mailbox.clone());
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
            let announce = announce.take();
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
                    if let Some(line) = announce {
                        println!("{line}, per instance {}", app.memory(&config));
                    }
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
                            mailbox,
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
                            (&stats, &mailbox, index),
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
                mailboxes: Arc::new(mailboxes),
            },
            threads,
            addrs,
        })
    }

    /// Starts the instances and serves until SIGINT or SIGTERM (graceful; a second signal
    /// exits at once) or until every instance has stopped. When recording
    /// ([`Builder::record`]), SIGUSR1 writes the recordings so far ([`Handle::dump`]).
    pub fn run(
        self,
        make_app: impl Fn(usize) -> App<S, P> + Send + Sync + 'static,
    ) -> io::Result<()> {
        let signals = block_stop_signals(self.record.is_some())?;
        let running = self.start(make_app)?;
        let handle = running.handle();
        std::thread::Builder::new()
            .name("zzz-signals".into())
            .spawn(move || wait_for_signals(signals, handle))?;
        running.wait()
    }
}

/// The startup line but its memory figure (which instance 0 adds once its app is made): the
/// backend, why not io_uring when it serves with the portable server (said even when no
/// logger shows the warning), the addresses and the instance count.
fn startup_line(unavailable: Option<&Unavailable>, addrs: &[BoundAddr], threads: usize) -> String {
    let backend = match unavailable {
        None => "io_uring".to_string(),
        Some(u) => format!(
            "portable poll server (io_uring is unavailable: {}; {})",
            u.reason, u.error
        ),
    };
    let listening: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    format!(
        "zzz: {backend} on {}, {threads} instance(s)",
        listening.join(", ")
    )
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
struct InstanceSockets<Id> {
    listeners: Vec<instance::Listener<Id>>,
    datagrams: Vec<instance::DatagramSocket<Id>>,
}

/// Binds every listener for every instance; returns the sockets per instance and the bound
/// addresses.
fn bind_all<Id: Copy>(
    listen: &[Listen<Id>],
    threads: usize,
    mode: ListenerMode,
) -> io::Result<(Vec<InstanceSockets<Id>>, Vec<BoundAddr>)> {
    let mut per: Vec<InstanceSockets<Id>> = (0..threads)
        .map(|_| InstanceSockets {
            listeners: Vec::new(),
            datagrams: Vec::new(),
        })
        .collect();
    let mut addrs = Vec::new();
    for spec in listen {
        match spec {
            Listen::Tcp(addr, protocol) => {
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
                        protocol: *protocol,
                    });
                }
            }
            Listen::Unix(path, protocol) => {
                let fd = Arc::new(listen::unix(path)?);
                addrs.push(BoundAddr::Unix(path.clone()));
                for sockets in per.iter_mut() {
                    sockets.listeners.push(instance::Listener {
                        fd: fd.clone(),
                        protocol: *protocol,
                    });
                }
            }
            Listen::Udp(addr, protocol) => {
                let (first, bound) = listen::udp(*addr, true)?;
                addrs.push(BoundAddr::Udp(bound));
                let mut first = Some(first);
                for sockets in per.iter_mut() {
                    let fd = match first.take() {
                        Some(fd) => fd,
                        None => listen::udp(bound, true)?.0,
                    };
                    sockets.datagrams.push(instance::DatagramSocket {
                        fd,
                        protocol: *protocol,
                    });
                }
            }
        }
    }
    Ok((per, addrs))
}

/// The same app on the portable poll server, when io_uring is unavailable.
fn run_portable<S, P: Protocols<S>>(
    config: Config,
    app: App<S, P>,
    sockets: InstanceSockets<P::Id>,
    stop: &AtomicBool,
    grace: Duration,
    on_ready: Option<(fn(usize), usize)>,
    (stats, mailbox, index): (&StatsBoard, &Mailbox, usize),
) -> io::Result<()> {
    let mut region = zzz_core::memory::Region::new(app.memory(&config).total);
    let server = Server::new(config, app, region.bytes(), Now::default())
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut portable = Portable::new(server);
    portable.set_shutdown_grace(grace);
    for l in sockets.listeners {
        let fd = Arc::try_unwrap(l.fd).or_else(|shared| shared.try_clone())?;
        portable.listen(std::net::TcpListener::from(fd), l.protocol)?;
    }
    for d in sockets.datagrams {
        portable.listen_udp(std::net::UdpSocket::from(d.fd), d.protocol)?;
    }
    if let Some((hook, index)) = on_ready {
        hook(index);
    }
    let mut answered = 0;
    let result = portable.run_with(stop, |server| {
        stats.serve(index, &mut answered, || server.snapshot());
        // Bounded: the mailbox holds at most `max_messages`.
        for _ in 0..mailbox.max_messages() {
            let Some((topic, n)) = mailbox.take(server.publish_buffer()) else {
                break;
            };
            let _ = server.handle(zzz_core::Event::Publish { topic, n });
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_startup_line_says_why_it_serves_with_the_portable_server() {
        let addrs = [BoundAddr::Tcp("127.0.0.1:8080".parse().unwrap())];
        assert_eq!(
            startup_line(None, &addrs, 2),
            "zzz: io_uring on tcp://127.0.0.1:8080, 2 instance(s)"
        );
        let enosys = crate::availability::explain(io::Error::from_raw_os_error(libc::ENOSYS), None);
        let line = startup_line(Some(&enosys), &addrs, 1);
        assert!(
            line.starts_with("zzz: portable poll server (io_uring is unavailable: this kernel has no io_uring (ENOSYS"),
            "{line}"
        );
        assert!(
            line.ends_with(") on tcp://127.0.0.1:8080, 1 instance(s)"),
            "{line}"
        );
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
