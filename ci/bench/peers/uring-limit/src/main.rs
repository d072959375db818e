//! Bench peer: the upper limit of this machine for the plaintext test.
//!
//! `peer-uring-limit [ADDR] [--threads N]` (defaults 127.0.0.1:8080, 1 thread).
//!
//! A raw io_uring responder that does no HTTP parsing at all: it counts the `\r\n\r\n` head
//! terminators in what it receives (the count carries across reads, so a terminator split
//! between two reads still counts once) and sends that many copies of one fixed plaintext
//! response, built at startup (its `Date` is the start time and never changes). So it answers
//! any bodiless request, pipelined or not, as `GET /plaintext` would be answered, and
//! whatever a real server costs beyond this is the price of being a server.
//!
//! Per thread: one ring (`SINGLE_ISSUER | DEFER_TASKRUN`), one `SO_REUSEPORT` listener with a
//! multishot accept, and per connection one multishot recv drawing from a ring of provided
//! buffers (each buffer goes back to the ring as soon as its bytes are counted) and at most one
//! send in flight. Sends come straight from a static run of 64 copies of the response, never
//! copied. One `io_uring_enter` per loop turn submits everything queued and waits for a
//! completion. This is the fastest shape io_uring offers a plain TCP responder without
//! zero-copy or registered files; it needs Linux 6.0 or later.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::{IoUring, cqueue, opcode, squeue, types};

/// Provided receive buffers per thread (a power of two) and the size of each; a 16-deep
/// pipeline of wrk requests is about 1 KiB.
const RECV_BUFFERS: u16 = 512;
const RECV_BUF_SIZE: usize = 2048;
/// Buffer group id of the provided buffers.
const BUF_GROUP: u16 = 0;
/// Copies of the response in the send run; a larger batch goes out in several sends.
const RUN_COPIES: usize = 64;
/// Submission queue entries; the completion queue is twice that.
const RING_ENTRIES: u32 = 4096;

const OP_ACCEPT: u64 = 0;
const OP_RECV: u64 = 1;
const OP_SEND: u64 = 2;

fn user_data(op: u64, fd: RawFd) -> u64 {
    (op << 32) | fd as u32 as u64
}

#[derive(Default)]
struct Conn {
    /// How much of "\r\n\r\n" the bytes received so far end with (0..=3).
    matched: u8,
    /// Response bytes still owed to the client.
    owed: usize,
    /// Position of the next byte to send within one response (0..response length).
    phase: usize,
    /// A multishot recv is armed (until a completion without `F_MORE`).
    receiving: bool,
    /// A send is in flight.
    sending: bool,
    /// The connection is done; its descriptor is closed once no operation is in flight.
    closing: bool,
}

/// The provided-buffer ring shared with the kernel, and the buffers it hands out.
struct BufRing {
    /// `RECV_BUFFERS` entries, page-aligned as the kernel requires (an anonymous mapping).
    entries: *mut BufRingEntry,
    /// The buffers, `RECV_BUF_SIZE` bytes each.
    memory: Vec<u8>,
    /// Our copy of the ring tail.
    tail: u16,
}

struct Worker {
    ring: IoUring,
    listener: RawFd,
    buffers: BufRing,
    /// The send run: `RUN_COPIES` back-to-back copies of the response.
    run: Vec<u8>,
    response_len: usize,
    /// Connections by file descriptor.
    conns: Vec<Option<Conn>>,
    /// Completions of one loop turn: (user_data, result, flags).
    completions: Vec<(u64, i32, u32)>,
}

fn main() {
    let (addr, threads) = parse_args();
    let response = build_response();
    eprintln!(
        "peer-uring-limit: listening on {addr} with {threads} thread(s), {} byte response",
        response.len()
    );
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let response = response.clone();
            std::thread::Builder::new()
                .name(format!("uring-{i}"))
                .spawn(move || Worker::new(addr, &response)?.run())
                .expect("spawn worker thread")
        })
        .collect();
    for w in workers {
        if let Err(e) = w.join().expect("worker thread panicked") {
            eprintln!("peer-uring-limit: {e}");
            std::process::exit(1);
        }
    }
}

fn parse_args() -> (SocketAddr, usize) {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--threads needs a positive integer")
            }
            _ => addr = a,
        }
    }
    (addr.parse().expect("ADDR must be ip:port"), threads)
}

fn build_response() -> Vec<u8> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    format!(
        "HTTP/1.1 200 OK\r\nServer: L\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\
         Date: {date}\r\n\r\nHello, World!"
    )
    .into_bytes()
}

impl BufRing {
    /// Maps the ring, fills it with every buffer and registers it with `ring`.
    fn register(ring: &IoUring) -> io::Result<BufRing> {
        let bytes = RECV_BUFFERS as usize * size_of::<BufRingEntry>();
        // SAFETY: an anonymous private mapping; checked for failure below.
        let entries = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if entries == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut buffers = BufRing {
            entries: entries.cast(),
            memory: vec![0; RECV_BUFFERS as usize * RECV_BUF_SIZE],
            tail: 0,
        };
        for bid in 0..RECV_BUFFERS {
            buffers.give_back(bid);
        }
        // SAFETY: the ring memory is page-aligned, holds RECV_BUFFERS entries and lives as long
        // as the worker, which owns the io_uring instance too.
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(entries as u64, RECV_BUFFERS, BUF_GROUP, 0)
                .map_err(|e| io::Error::new(e.kind(), format!("register_buf_ring: {e}")))?;
        }
        Ok(buffers)
    }

    fn buffer(&self, bid: u16, len: usize) -> &[u8] {
        let start = bid as usize * RECV_BUF_SIZE;
        &self.memory[start..start + len]
    }

    /// Puts buffer `bid` back at the tail of the ring, for the kernel to fill again.
    fn give_back(&mut self, bid: u16) {
        let slot = (self.tail & (RECV_BUFFERS - 1)) as usize;
        // SAFETY: slot < RECV_BUFFERS; the kernel reads an entry only once the tail below has
        // passed it, and never writes entries.
        unsafe {
            let entry = &mut *self.entries.add(slot);
            entry.set_addr(self.memory.as_ptr().add(bid as usize * RECV_BUF_SIZE) as u64);
            entry.set_len(RECV_BUF_SIZE as u32);
            entry.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail is a u16 in the ring's first entry, shared with the kernel; a release
        // store publishes the entry written above.
        unsafe {
            let tail = BufRingEntry::tail(self.entries) as *const AtomicU16;
            (*tail).store(self.tail, Ordering::Release);
        }
    }
}

impl Worker {
    fn new(addr: SocketAddr, response: &[u8]) -> io::Result<Worker> {
        let ring = new_ring()?;
        let buffers = BufRing::register(&ring)?;
        Ok(Worker {
            ring,
            listener: listen(addr)?,
            buffers,
            run: response.repeat(RUN_COPIES),
            response_len: response.len(),
            conns: Vec::new(),
            completions: Vec::with_capacity(RING_ENTRIES as usize * 2),
        })
    }

    fn run(mut self) -> io::Result<()> {
        let mut queued: Vec<squeue::Entry> = Vec::with_capacity(1024);
        queued.push(self.accept_entry());
        loop {
            self.submit(&mut queued)?;
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
            let mut completions = std::mem::take(&mut self.completions);
            completions.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(data, res, flags) in &completions {
                let fd = data as u32 as RawFd;
                match data >> 32 {
                    OP_ACCEPT => self.on_accept(res, flags, &mut queued),
                    OP_RECV => self.on_recv(fd, res, flags, &mut queued),
                    OP_SEND => self.on_send(fd, res, &mut queued),
                    _ => unreachable!("unknown operation in user_data {data:#x}"),
                }
            }
            completions.clear();
            self.completions = completions;
        }
    }

    /// Moves queued entries into the submission queue, submitting when it is full.
    fn submit(&mut self, queued: &mut Vec<squeue::Entry>) -> io::Result<()> {
        for entry in queued.drain(..) {
            // SAFETY: the buffers entries point at (the provided buffers, the send run) live
            // as long as the worker and its ring.
            while unsafe { self.ring.submission().push(&entry) }.is_err() {
                self.ring.submit()?;
            }
        }
        Ok(())
    }

    fn accept_entry(&self) -> squeue::Entry {
        opcode::AcceptMulti::new(types::Fd(self.listener))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(OP_ACCEPT, self.listener))
    }

    fn recv_entry(fd: RawFd) -> squeue::Entry {
        opcode::RecvMulti::new(types::Fd(fd), BUF_GROUP)
            .build()
            .user_data(user_data(OP_RECV, fd))
    }

    fn send_entry(&mut self, fd: RawFd) -> squeue::Entry {
        let conn = self.conns[fd as usize]
            .as_mut()
            .expect("send on a live connection");
        conn.sending = true;
        let start = conn.phase;
        let len = conn.owed.min(self.run.len() - start);
        opcode::Send::new(types::Fd(fd), self.run[start..].as_ptr(), len as u32)
            .build()
            .user_data(user_data(OP_SEND, fd))
    }

    fn on_accept(&mut self, res: i32, flags: u32, queued: &mut Vec<squeue::Entry>) {
        if !cqueue::more(flags) {
            queued.push(self.accept_entry());
        }
        if res < 0 {
            return;
        }
        let fd = res;
        set_nodelay(fd);
        let slot = fd as usize;
        if self.conns.len() <= slot {
            self.conns.resize_with(slot + 1, || None);
        }
        self.conns[slot] = Some(Conn {
            receiving: true,
            ..Conn::default()
        });
        queued.push(Self::recv_entry(fd));
    }

    fn on_recv(&mut self, fd: RawFd, res: i32, flags: u32, queued: &mut Vec<squeue::Entry>) {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let response_len = self.response_len;
        let conn = self.conns[fd as usize]
            .as_mut()
            .expect("recv on a live connection");
        if let Some(bid) = bid {
            if res > 0 {
                let (requests, matched) =
                    count_heads(self.buffers.buffer(bid, res as usize), conn.matched);
                conn.matched = matched;
                conn.owed += requests * response_len;
            }
            self.buffers.give_back(bid);
        }
        if res == 0 || (res < 0 && res != -libc::ENOBUFS) {
            conn.closing = true;
        }
        if !more {
            conn.receiving = false;
            if !conn.closing {
                // Ended without an error (out of buffers, or the kernel's choice): re-arm.
                conn.receiving = true;
                queued.push(Self::recv_entry(fd));
            }
        }
        if !conn.sending && conn.owed > 0 && !conn.closing {
            let entry = self.send_entry(fd);
            queued.push(entry);
        } else {
            self.close_if_idle(fd);
        }
    }

    fn on_send(&mut self, fd: RawFd, res: i32, queued: &mut Vec<squeue::Entry>) {
        let response_len = self.response_len;
        let conn = self.conns[fd as usize]
            .as_mut()
            .expect("send on a live connection");
        conn.sending = false;
        if res < 0 {
            conn.closing = true;
            // Wakes the armed recv so that it ends and the descriptor can be closed.
            // SAFETY: fd is this connection's socket, still open.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        } else {
            conn.owed -= res as usize;
            conn.phase = (conn.phase + res as usize) % response_len;
        }
        if conn.owed > 0 && !conn.closing {
            let entry = self.send_entry(fd);
            queued.push(entry);
        } else {
            self.close_if_idle(fd);
        }
    }

    /// Closes a finished connection once it has no operation in flight, so that its
    /// descriptor number (the key of its completions) is not reused too early.
    fn close_if_idle(&mut self, fd: RawFd) {
        let slot = &mut self.conns[fd as usize];
        if slot
            .as_ref()
            .is_some_and(|c| c.closing && !c.receiving && !c.sending)
        {
            *slot = None;
            // SAFETY: fd came from accept and no operation on it is in flight.
            unsafe { libc::close(fd) };
        }
    }
}

/// Counts "\r\n\r\n" in `bytes`, given that the bytes before them ended with the first
/// `matched` bytes of it; returns the count and the new `matched`.
fn count_heads(bytes: &[u8], mut matched: u8) -> (usize, u8) {
    let mut count = 0;
    for &b in bytes {
        matched = match (matched, b) {
            (0 | 2, b'\r') => matched + 1,
            (1, b'\n') => 2,
            (3, b'\n') => {
                count += 1;
                0
            }
            (_, b'\r') => 1,
            _ => 0,
        };
    }
    (count, matched)
}

fn new_ring() -> io::Result<IoUring> {
    let cq = RING_ENTRIES * 2;
    IoUring::builder()
        .setup_cqsize(cq)
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(RING_ENTRIES)
        .or_else(|_| {
            IoUring::builder()
                .setup_cqsize(cq)
                .setup_coop_taskrun()
                .build(RING_ENTRIES)
        })
        .or_else(|_| IoUring::builder().setup_cqsize(cq).build(RING_ENTRIES))
}

fn set_nodelay(fd: RawFd) {
    let one: libc::c_int = 1;
    // SAFETY: fd is a TCP socket; the option value is a c_int of the stated size.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// A listening socket with `SO_REUSEADDR` and `SO_REUSEPORT`, so each thread can have its own.
fn listen(addr: SocketAddr) -> io::Result<RawFd> {
    let (family, storage, len) = sockaddr(addr);
    // SAFETY: plain socket calls on a descriptor this function owns; `storage` holds a valid
    // sockaddr of `len` bytes for `family`.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        for opt in [libc::SO_REUSEADDR, libc::SO_REUSEPORT] {
            let r = libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            );
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::listen(fd, 4096) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(fd)
    }
}

fn sockaddr(addr: SocketAddr) -> (libc::c_int, libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            (
                libc::AF_INET,
                storage,
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            (
                libc::AF_INET6,
                storage,
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::count_heads;

    #[test]
    fn counts_terminators_split_across_reads() {
        let req = b"GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(count_heads(req, 0), (1, 0));
        assert_eq!(count_heads(&req.repeat(16), 0), (16, 0));
        for cut in 0..req.len() {
            let (a, m) = count_heads(&req[..cut], 0);
            let (b, m) = count_heads(&req[cut..], m);
            assert_eq!((a + b, m), (1, 0), "cut at {cut}");
        }
        assert_eq!(count_heads(b"\r\r\n\r\n", 0), (1, 0));
    }
}
