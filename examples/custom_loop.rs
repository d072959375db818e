//! Linking zzz into an event loop you already have: a hand-written, edge-triggered epoll loop
//! (through rustix) that drives a [`Server`] through its event interface directly. Read it as
//! documentation; `zzz-uring` and the portable backend do the same thing at larger scale.
//!
//! ```text
//! cargo run --example custom_loop -- [ADDR]
//! ```
//!
//! The contract between a loop and the server is four rules:
//!
//! 1. Tell the server what happened, with `handle(Event::...)`: `Accepted`, `Received`
//!    (0 bytes = EOF), `Sent`, `Failed`, `Closed`, and `Tick` with the time.
//! 2. Ask it what to do with `poll_op` until it returns `None`, and do it: receive into
//!    `recv_buffer(slot)`, send `send_parts(slot)`, shut down, close.
//! 3. Keep at most one receive and one send in flight per slot (the server never asks for
//!    more), and report each exactly once.
//! 4. Tell `Closed { slot }` only when nothing is in flight on that socket any more.
//!
//! This loop accepts only while the server has a free slot, leaving the rest in the kernel's
//! backlog; a loop that must stand a flood of idle connections keeps accepting and lets the
//! server make room (`Event::MakeRoom`), as `zzz-poll` and `zzz-uring` do.

use std::collections::BTreeMap;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::event::epoll;
use zzz::bench_app;
use zzz::core::memory::Region;
use zzz::core::{
    Config, Event, Http, Instant, IoError, Now, Op, OpKind, PeerAddr, Server, SlotId, Sole,
};

/// The server this loop drives: the bench app's state, HTTP/1.1 as its one protocol.
type BenchServer<'m> = Server<'m, bench_app::BenchState, Http<bench_app::BenchState>>;

/// What the loop knows about one connection.
struct Socket {
    stream: TcpStream,
    /// The server has a receive / a send posted on this socket.
    recv_posted: bool,
    send_posted: bool,
    /// Edge-triggered readiness not yet used up.
    readable: bool,
    writable: bool,
}

const LISTENER: u64 = u64::MAX;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr)?;
    listener.set_nonblocking(true)?;

    // All of the server's memory, once.
    let mut config = Config::DEFAULT;
    config.max_connections = 256;
    let mut region = Region::for_config(&config);
    let started = std::time::Instant::now();
    let clock = || Now {
        monotonic: Instant(started.elapsed().as_millis() as u64),
        unix_secs: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let mut server =
        Server::new(config, bench_app::app(), region.bytes(), clock()).expect("server");
    println!("custom loop: http://{addr}, {}", config.memory());

    let epoll_fd = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    epoll::add(
        &epoll_fd,
        listener.as_fd(),
        epoll::EventData::new_u64(LISTENER),
        epoll::EventFlags::IN,
    )?;
    let mut sockets: BTreeMap<SlotId, Socket> = BTreeMap::new();
    let mut events = Vec::with_capacity(256);

    loop {
        // Rule 2: do what the server asks.
        while let Some(op) = server.poll_op() {
            match op {
                Op::Recv(slot) => sockets.get_mut(&slot).unwrap().recv_posted = true,
                Op::Send(slot) => sockets.get_mut(&slot).unwrap().send_posted = true,
                Op::Shutdown(slot) => {
                    let _ = sockets[&slot].stream.shutdown(Shutdown::Write);
                }
                Op::Close(slot) => {
                    // Nothing is in flight in a readiness loop, so the slot is free at once
                    // (rule 4). Dropping the stream closes it and leaves the epoll set.
                    sockets.remove(&slot);
                    let _ = server.handle(Event::Closed { slot });
                }
                // This loop has no UDP socket, so the server writes no datagram replies.
                Op::SendDatagram(_) => unreachable!("no datagrams without a UDP socket"),
            }
        }
        // Perform posted operations on sockets that are ready; each completion may post more,
        // so go back to `poll_op` after any progress.
        if drive(&mut server, &mut sockets) {
            continue;
        }

        // Wait for readiness or the next timer.
        let now = clock();
        let timeout_ms = server
            .next_wake()
            .map_or(1000, |at| at.since(now.monotonic).min(1000));
        let timeout = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: (timeout_ms * 1_000_000) as i64,
        };
        events.clear();
        match epoll::wait(
            &epoll_fd,
            rustix::buffer::spare_capacity(&mut events),
            Some(&timeout),
        ) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        let _ = server.handle(Event::Tick(clock())); // Rule 1: time.
        for event in &events {
            let key = event.data.u64();
            if key == LISTENER {
                accept_all(&listener, &epoll_fd, &mut server, &mut sockets)?;
                continue;
            }
            if let Some(socket) = sockets.get_mut(&(key as SlotId)) {
                let flags = event.flags;
                socket.readable |= flags.intersects(
                    epoll::EventFlags::IN | epoll::EventFlags::HUP | epoll::EventFlags::ERR,
                );
                socket.writable |= flags.intersects(
                    epoll::EventFlags::OUT | epoll::EventFlags::HUP | epoll::EventFlags::ERR,
                );
            }
        }
    }
}

/// Accepts every pending connection the server has room for (rule 1).
fn accept_all(
    listener: &TcpListener,
    epoll_fd: &impl AsFd,
    server: &mut BenchServer<'_>,
    sockets: &mut BTreeMap<SlotId, Socket>,
) -> io::Result<()> {
    while server.can_accept() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        };
        stream.set_nonblocking(true)?;
        let accepted = server.handle(Event::Accepted {
            protocol: Sole,
            peer: PeerAddr::from(peer),
        });
        let Ok(slot) = accepted.accepted() else {
            return Ok(());
        };
        let interest = epoll::EventFlags::IN | epoll::EventFlags::OUT | epoll::EventFlags::ET;
        epoll::add(
            epoll_fd,
            stream.as_fd(),
            epoll::EventData::new_u64(slot as u64),
            interest,
        )?;
        // A new socket may already be readable: edge-triggered epoll reports only changes.
        sockets.insert(
            slot,
            Socket {
                stream,
                recv_posted: false,
                send_posted: false,
                readable: true,
                writable: true,
            },
        );
    }
    Ok(())
}

/// Completes posted operations on ready sockets; returns whether anything completed.
fn drive(server: &mut BenchServer<'_>, sockets: &mut BTreeMap<SlotId, Socket>) -> bool {
    let mut progress = false;
    for (&slot, socket) in sockets.iter_mut() {
        if socket.send_posted && socket.writable {
            let [first, second] = server.send_parts(slot);
            match socket
                .stream
                .write_vectored(&[IoSlice::new(first), IoSlice::new(second)])
            {
                Ok(n) => {
                    socket.send_posted = false;
                    let _ = server.handle(Event::Sent { slot, n });
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => socket.writable = false,
                Err(_) => {
                    socket.send_posted = false;
                    let _ = server.handle(Event::Failed {
                        slot,
                        op: OpKind::Send,
                        error: IoError::Broken,
                    });
                    progress = true;
                }
            }
        }
        if socket.recv_posted && socket.readable {
            match socket.stream.read(server.recv_buffer(slot)) {
                Ok(n) => {
                    socket.recv_posted = false;
                    let _ = server.handle(Event::Received { slot, n });
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => socket.readable = false,
                Err(_) => {
                    socket.recv_posted = false;
                    let _ = server.handle(Event::Failed {
                        slot,
                        op: OpKind::Recv,
                        error: IoError::Broken,
                    });
                    progress = true;
                }
            }
        }
    }
    progress
}
