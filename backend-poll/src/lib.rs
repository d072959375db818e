//! # zzz-poll
//!
//! A complete server over `std::net` non-blocking sockets and a `poll(2)` readiness loop
//! (through rustix): for any Unix, and for Linux kernels without io_uring. Slower than
//! `zzz-uring` (a system call per operation and a poll per turn), equally correct: it drives
//! the same [`Server`] through the same event interface.
//!
//! Everything it needs is allocated in [`Portable::new`]: the per-slot socket table, the poll
//! set and the datagram buffer. The loop allocates nothing.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::net::RecvFlags;

use zzz_core::{Event, Instant, IoError, Now, Op, OpKind, PeerAddr, Protocols, Server};

/// The most connections accepted from one listener per loop turn, so that a flood of
/// connections cannot starve the connections already served.
pub const ACCEPTS_PER_TURN: usize = 64;

/// Accepted connections that may wait for a slot while every slot is taken; beyond, new
/// connections stay in the kernel's listen backlog.
pub const WAITING_ROOM: usize = 64;

/// How long [`Portable::run`] lets connections finish after a stop request.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

struct Conn {
    stream: TcpStream,
    recv: bool,
    send: bool,
}

/// What a poll entry stands for.
#[derive(Clone, Copy)]
enum Target {
    Listener(usize),
    Datagrams(usize),
    Slot(u32),
}

/// The portable server: a [`Server`], its listeners, and the sockets of its connections.
pub struct Portable<'m, S: 'static, P: Protocols<S>> {
    server: Server<'m, S, P>,
    listeners: Vec<(TcpListener, P::Id)>,
    datagrams: Vec<(UdpSocket, P::Id)>,
    conns: Vec<Option<Conn>>,
    fds: Vec<PollFd<'static>>,
    targets: Vec<Target>,
    /// Accepted connections waiting, in arrival order, for the slot the server frees for each
    /// ([`Server::make_room`]); at most [`WAITING_ROOM`].
    waiting: VecDeque<(TcpStream, PeerAddr, P::Id)>,
    /// The last drain stopped at its budget: operations wait, so the next poll must not sleep.
    ops_left: bool,
    clock: Clock,
    grace: Duration,
}

impl<'m, S, P: Protocols<S>> Portable<'m, S, P> {
    /// Wraps a server; reserves everything the loop needs.
    pub fn new(server: Server<'m, S, P>) -> Portable<'m, S, P> {
        let n = server.config().max_connections as usize;
        const MAX_LISTENERS: usize = 16;
        Portable {
            server,
            listeners: Vec::with_capacity(MAX_LISTENERS),
            datagrams: Vec::with_capacity(MAX_LISTENERS),
            conns: (0..n).map(|_| None).collect(),
            fds: Vec::with_capacity(n + 2 * MAX_LISTENERS),
            targets: Vec::with_capacity(n + 2 * MAX_LISTENERS),
            waiting: VecDeque::with_capacity(WAITING_ROOM),
            ops_left: false,
            clock: Clock::new(),
            grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    /// Serves connections accepted on `listener` with `protocol`. At most 16 listeners.
    pub fn listen(&mut self, listener: TcpListener, protocol: P::Id) -> io::Result<()> {
        assert!(
            self.listeners.len() < self.listeners.capacity(),
            "at most 16 listeners"
        );
        listener.set_nonblocking(true)?;
        self.listeners.push((listener, protocol));
        Ok(())
    }

    /// Hands datagrams received on `socket` to `protocol`, and sends its replies from there.
    /// At most 16 sockets; the configuration must have datagram buffers.
    pub fn listen_udp(&mut self, socket: UdpSocket, protocol: P::Id) -> io::Result<()> {
        assert!(
            self.datagrams.len() < self.datagrams.capacity(),
            "at most 16 UDP sockets"
        );
        socket.set_nonblocking(true)?;
        self.datagrams.push((socket, protocol));
        Ok(())
    }

    /// How long to let connections finish after a stop request before closing them anyway.
    pub fn set_shutdown_grace(&mut self, grace: Duration) {
        self.grace = grace;
    }

    /// The server.
    pub fn server(&mut self) -> &mut Server<'m, S, P> {
        &mut self.server
    }

    /// Runs until `stop` is set and every connection has finished (or the grace period ends).
    pub fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        self.run_with(stop, |_| {})
    }

    /// [`Portable::run`], calling `each_turn` with the server at the top of every loop turn
    /// (at least once a second): for publishing its counters, or telling it messages from
    /// other threads ([`Event::Publish`]), say.
    pub fn run_with(
        &mut self,
        stop: &AtomicBool,
        mut each_turn: impl FnMut(&mut Server<'m, S, P>),
    ) -> io::Result<()> {
        let mut stop_at: Option<Now> = None;
        // Bounded: this is the event loop; it ends once stopped (idle, or the grace period
        // over). Every turn within it is bounded.
        loop {
            // The time first, then what the last poll found: the server stamps what it is told
            // with the time it was last given, which is now that of the wake-up.
            let now = self.clock.now();
            let _ = self.server.handle(Event::Tick(now));
            self.handle_ready();
            each_turn(&mut self.server);
            if stop.load(Ordering::Relaxed) && stop_at.is_none() {
                stop_at = Some(now);
                let _ = self.server.handle(Event::Shutdown);
            }
            self.perform_ops();
            self.admit_waiting();
            if let Some(at) = stop_at {
                let expired = now.monotonic.since(at.monotonic) > self.grace.as_millis() as u64;
                if self.server.is_idle() || expired {
                    return Ok(());
                }
            }
            self.build_poll_set();
            let room_at = match self.waiting.is_empty() {
                true => None,
                false => self.server.room_at(),
            };
            let wake_ms = match (self.server.next_wake(), room_at) {
                _ if self.ops_left => 0,
                (Some(a), Some(b)) => a.min(b).since(now.monotonic).min(1000),
                (Some(at), None) | (None, Some(at)) => at.since(now.monotonic).min(1000),
                (None, None) => 1000,
            };
            let timeout = Timespec {
                tv_sec: (wake_ms / 1000) as i64,
                tv_nsec: ((wake_ms % 1000) * 1_000_000) as i64,
            };
            match poll(&mut self.fds, Some(&timeout)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Serves what the last poll found ready (nothing after an interrupted poll, which
    /// reports nothing).
    fn handle_ready(&mut self) {
        for i in 0..self.fds.len() {
            let ready = self.fds[i].revents();
            if ready.is_empty() {
                continue;
            }
            match self.targets[i] {
                Target::Listener(l) => self.accept_all(l),
                Target::Datagrams(d) => self.answer_datagrams(d),
                Target::Slot(slot) => self.ready(slot, ready),
            }
        }
    }

    /// Performs the operations the server hands out: sends at once (they rarely block),
    /// receives when the socket is readable. At most [`Server::op_budget`] of them: a send
    /// that completes at once tells the server, which may ask for the next (a long stream to a
    /// fast reader); what is left waits for the next turn, which then does not sleep.
    fn perform_ops(&mut self) {
        self.ops_left = false;
        for _ in 0..self.server.op_budget() {
            let Some(op) = self.server.poll_op() else {
                return;
            };
            match op {
                Op::Recv(slot) => self.conn(slot).recv = true,
                Op::Send(slot) => {
                    self.conn(slot).send = true;
                    self.try_send(slot);
                }
                Op::Shutdown(slot) => {
                    let _ = self.conn(slot).stream.shutdown(Shutdown::Write);
                }
                Op::Close(slot) => {
                    // Dropping the stream closes the socket; nothing is in flight in this
                    // backend, so the slot is free at once.
                    self.conns[slot as usize] = None;
                    let _ = self.server.handle(Event::Closed { slot });
                }
                Op::SendDatagram(reply) => self.send_datagram(reply),
            }
        }
        self.ops_left = true;
    }

    fn conn(&mut self, slot: u32) -> &mut Conn {
        self.conns[slot as usize]
            .as_mut()
            .expect("an operation for an open connection")
    }

    fn build_poll_set(&mut self) {
        self.fds.clear();
        self.targets.clear();
        let borrow = |fd: &dyn AsRawFd| {
            // SAFETY: the poll set is rebuilt before every poll from sockets that stay open
            // until after that poll returns (sockets are closed only in `perform_ops`, before
            // the set is built), so each borrowed descriptor outlives its use.
            unsafe { BorrowedFd::borrow_raw(fd.as_raw_fd()) }
        };
        // Listening even with every slot taken: the server makes room for newcomers (its
        // overload policy), so a flood of idle connections cannot lock real clients out. Only
        // a full waiting room leaves connections in the kernel's backlog.
        if !self.server.is_draining() && self.waiting.len() < WAITING_ROOM {
            for (i, (listener, _)) in self.listeners.iter().enumerate() {
                self.fds
                    .push(PollFd::from_borrowed_fd(borrow(listener), PollFlags::IN));
                self.targets.push(Target::Listener(i));
            }
        }
        for (i, (socket, _)) in self.datagrams.iter().enumerate() {
            self.fds
                .push(PollFd::from_borrowed_fd(borrow(socket), PollFlags::IN));
            self.targets.push(Target::Datagrams(i));
        }
        for (slot, conn) in self.conns.iter().enumerate() {
            let Some(conn) = conn else { continue };
            let mut flags = PollFlags::empty();
            if conn.recv {
                flags |= PollFlags::IN;
            }
            if conn.send {
                flags |= PollFlags::OUT;
            }
            if !flags.is_empty() {
                self.fds
                    .push(PollFd::from_borrowed_fd(borrow(&conn.stream), flags));
                self.targets.push(Target::Slot(slot as u32));
            }
        }
    }

    /// Accepts what the listener holds, at most [`ACCEPTS_PER_TURN`] connections. With every
    /// slot taken a newcomer waits, and the server makes room for it.
    fn accept_all(&mut self, l: usize) {
        for _ in 0..ACCEPTS_PER_TURN {
            if self.waiting.len() == WAITING_ROOM || self.server.is_draining() {
                return;
            }
            let (stream, addr) = match self.listeners[l].0.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // EMFILE, ECONNABORTED...: skip this one; the loop comes back.
                Err(_) => return,
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            self.waiting
                .push_back((stream, PeerAddr::from(addr), self.listeners[l].1));
            self.admit_waiting();
        }
    }

    /// Hands waiting connections to the server while it has slots, in arrival order, and asks
    /// it to make room for the rest (closes complete at once here).
    fn admit_waiting(&mut self) {
        for _ in 0..2 * WAITING_ROOM {
            if self.waiting.is_empty() {
                return;
            }
            if !self.server.can_accept() {
                let waiting = self.waiting.len();
                let _ = self.server.handle(Event::MakeRoom { waiting });
                self.perform_ops();
                if !self.server.can_accept() {
                    return;
                }
            }
            let Some((stream, peer, protocol)) = self.waiting.pop_front() else {
                return;
            };
            match self
                .server
                .handle(Event::Accepted { protocol, peer })
                .accepted()
            {
                Ok(slot) => {
                    self.conns[slot as usize] = Some(Conn {
                        stream,
                        recv: false,
                        send: false,
                    })
                }
                // Shutting down, or (cannot be) full: the connection is closed.
                Err(_) => drop(stream),
            }
            self.perform_ops();
        }
    }

    fn answer_datagrams(&mut self, d: usize) {
        // Bounded: at most 64 datagrams per readiness, so one socket cannot starve the rest.
        for _ in 0..64 {
            let buf = self.server.datagram_buffer();
            if buf.is_empty() {
                return; // No datagram buffers: the configuration serves no UDP.
            }
            // With TRUNC the kernel says how long the datagram was, so that one longer than
            // the buffer is dropped rather than served cut.
            let (n, length, from) =
                match rustix::net::recvfrom(&self.datagrams[d].0, buf, RecvFlags::TRUNC) {
                    Ok(received) => received,
                    Err(_) => return,
                };
            if length > n {
                continue;
            }
            let peer = from
                .and_then(|a| std::net::SocketAddr::try_from(a).ok())
                .map_or(PeerAddr::Local, PeerAddr::from);
            let _ = self.server.handle(Event::Datagram {
                protocol: self.datagrams[d].1,
                origin: d as u16,
                peer,
                n,
            });
            self.perform_ops();
        }
    }

    /// Sends a datagram reply from the socket its datagram came in on.
    fn send_datagram(&mut self, reply: u16) {
        let r = self.server.datagram_reply(reply);
        if let (Some(to), Some((socket, _))) = (
            r.peer.to_socket_addr(),
            self.datagrams.get(r.origin as usize),
        ) {
            let _ = socket.send_to(r.data, to);
        }
        let _ = self.server.handle(Event::DatagramSent { reply });
    }

    fn ready(&mut self, slot: u32, ready: PollFlags) {
        let Some(conn) = self.conns[slot as usize].as_mut() else {
            return;
        };
        if conn.send && ready.intersects(PollFlags::OUT | PollFlags::ERR | PollFlags::HUP) {
            self.try_send(slot);
        }
        let Some(conn) = self.conns[slot as usize].as_mut() else {
            return;
        };
        if conn.recv && ready.intersects(PollFlags::IN | PollFlags::ERR | PollFlags::HUP) {
            let result = conn.stream.read(self.server.recv_buffer(slot));
            match result {
                Ok(n) => {
                    conn.recv = false;
                    let _ = self.server.handle(Event::Received { slot, n });
                }
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    conn.recv = false;
                    let _ = self.server.handle(Event::Failed {
                        slot,
                        op: OpKind::Recv,
                        error: IoError::Broken,
                    });
                }
            }
        }
        self.perform_ops();
    }

    fn try_send(&mut self, slot: u32) {
        let Some(conn) = self.conns[slot as usize].as_mut() else {
            return;
        };
        let [first, second] = self.server.send_parts(slot);
        let result = conn
            .stream
            .write_vectored(&[IoSlice::new(first), IoSlice::new(second)]);
        match result {
            Ok(n) => {
                conn.send = false;
                let _ = self.server.handle(Event::Sent { slot, n });
            }
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                conn.send = false;
                let _ = self.server.handle(Event::Failed {
                    slot,
                    op: OpKind::Send,
                    error: IoError::Broken,
                });
            }
        }
    }
}

/// The time as a server wants it: monotonic milliseconds since the clock was made, and the
/// Unix second (for the `Date` header). One per loop; `zzz-uring` uses it too.
#[derive(Debug)]
pub struct Clock {
    started: std::time::Instant,
}

impl Clock {
    /// A clock whose monotonic time starts at 0 now.
    pub fn new() -> Clock {
        Clock {
            started: std::time::Instant::now(),
        }
    }

    /// The time now.
    pub fn now(&self) -> Now {
        let unix_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Now {
            monotonic: Instant(self.started.elapsed().as_millis() as u64),
            unix_secs,
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}
