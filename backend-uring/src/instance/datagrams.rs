//! UDP: each socket keeps one receive posted into a buffer of its own; a datagram that
//! arrives is copied into the server's datagram buffer and told; the replies the server
//! writes go out from its reply buffers, with a `msghdr` per reply taken at startup.
//!
//! Why a buffer per socket and a copy, when connections receive in place: the server has one
//! datagram buffer, and a receive must stay posted on every socket at once (a socket without
//! one would be read only when another's datagram arrived). The copy is of one datagram, at
//! most [`Config::datagram_size`](zzz_core::Config::datagram_size) bytes, against a
//! submission and a completion per datagram either way.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use io_uring::{opcode, types};
use zzz_core::{Event, PeerAddr, Protocols};

use super::Io;
use super::connections::Immediate;
use crate::submit::Submit;
use crate::token::{Kind, token};

/// A UDP socket of an instance, and the protocol its datagrams go to.
pub(crate) struct DatagramSocket<Id> {
    /// The bound socket.
    pub fd: OwnedFd,
    /// The protocol of the app's set that answers its datagrams.
    pub protocol: Id,
}

/// A UDP socket as the loop drives it: its receive's buffer and header. Kept in a table that
/// is never resized while the loop runs, so the kernel's pointers into it stay valid.
pub(super) struct SocketIo<Id> {
    fd: OwnedFd,
    protocol: Id,
    /// [`Config::datagram_size`](zzz_core::Config::datagram_size) bytes.
    buf: Box<[u8]>,
    iov: libc::iovec,
    name: libc::sockaddr_storage,
    msg: libc::msghdr,
}

/// The header of a reply's send, while it is in flight.
pub(super) struct ReplyIo {
    busy: bool,
    iov: libc::iovec,
    name: libc::sockaddr_storage,
    msg: libc::msghdr,
}

// `peer_of` reads the address the kernel wrote into a `sockaddr_storage` as the IPv4 or IPv6
// address its family says, and `sockaddr_of` writes one, in place.
const _: () = assert!(
    size_of::<libc::sockaddr_in>() <= size_of::<libc::sockaddr_storage>()
        && size_of::<libc::sockaddr_in6>() <= size_of::<libc::sockaddr_storage>()
        && align_of::<libc::sockaddr_in>() <= align_of::<libc::sockaddr_storage>()
        && align_of::<libc::sockaddr_in6>() <= align_of::<libc::sockaddr_storage>()
);

fn empty_iov() -> libc::iovec {
    libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }
}

fn zeroed_msg() -> libc::msghdr {
    // SAFETY: all-zeroes is a valid (empty) msghdr.
    unsafe { std::mem::zeroed() }
}

fn zeroed_name() -> libc::sockaddr_storage {
    // SAFETY: all-zeroes is a valid sockaddr_storage (family AF_UNSPEC).
    unsafe { std::mem::zeroed() }
}

impl<Id> SocketIo<Id> {
    /// The socket with its receive buffer of `size` bytes.
    pub(super) fn new(socket: DatagramSocket<Id>, size: usize) -> SocketIo<Id> {
        assert!(size > 0, "a UDP socket without datagram buffers");
        SocketIo {
            fd: socket.fd,
            protocol: socket.protocol,
            buf: vec![0; size].into_boxed_slice(),
            iov: empty_iov(),
            name: zeroed_name(),
            msg: zeroed_msg(),
        }
    }
}

impl ReplyIo {
    /// A reply header, free.
    pub(super) fn new() -> ReplyIo {
        ReplyIo {
            busy: false,
            iov: empty_iov(),
            name: zeroed_name(),
            msg: zeroed_msg(),
        }
    }

    /// Its send is in flight.
    pub(super) fn is_busy(&self) -> bool {
        self.busy
    }
}

impl<S, P: Protocols<S>> Io<'_, '_, S, P> {
    /// Posts the receive of UDP socket `u`. With `MSG_TRUNC` the kernel answers with the
    /// datagram's whole length, so that one longer than the buffer is seen, and dropped.
    pub(super) fn arm_datagram_recv(&mut self, sub: &mut Submit<'_>, u: usize) -> io::Result<()> {
        let socket = &mut self.udp[u];
        socket.iov = libc::iovec {
            iov_base: socket.buf.as_mut_ptr().cast(),
            iov_len: socket.buf.len(),
        };
        socket.msg.msg_name = (&mut socket.name as *mut libc::sockaddr_storage).cast();
        socket.msg.msg_namelen = size_of::<libc::sockaddr_storage>() as u32;
        socket.msg.msg_iov = &mut socket.iov;
        socket.msg.msg_iovlen = 1;
        let entry = opcode::RecvMsg::new(types::Fd(socket.fd.as_raw_fd()), &mut socket.msg)
            .flags(libc::MSG_TRUNC as u32)
            .build()
            .user_data(token(Kind::UdpRecv, u as u32));
        // SAFETY: the buffer is boxed, and the iovec, name and msghdr live in `self.udp`,
        // which is not resized while the loop runs.
        unsafe { sub.push(&entry) }
    }

    /// The receive of UDP socket `u` completed: tells the server the datagram, unless it was
    /// longer than the buffer, and posts the next receive.
    pub(super) fn datagram_received(
        &mut self,
        sub: &mut Submit<'_>,
        u: usize,
        result: i32,
    ) -> io::Result<()> {
        let socket = &self.udp[u];
        match usize::try_from(result) {
            Ok(n) if n <= socket.buf.len() => {
                let (protocol, peer) = (socket.protocol, peer_of(&socket.name));
                self.server.datagram_buffer()[..n].copy_from_slice(&socket.buf[..n]);
                let origin = u16::try_from(u).expect("at most 65536 UDP sockets");
                let _ = self.tell(Event::Datagram {
                    protocol,
                    origin,
                    peer,
                    n,
                });
            }
            Ok(n) => log::debug!("zzz: dropped a datagram of {n} bytes, longer than the buffer"),
            Err(_) => log::debug!(
                "zzz: a UDP receive failed: {}",
                io::Error::from_raw_os_error(-result)
            ),
        }
        self.arm_datagram_recv(sub, u)
    }

    /// Sends reply `reply` from the socket its datagram came in on; a reply to an address
    /// that is not IP (never one the kernel gave) is reported sent once the drain is over.
    pub(super) fn send_datagram(&mut self, sub: &mut Submit<'_>, reply: u16) -> io::Result<()> {
        let r = self.server.datagram_reply(reply);
        let header = &mut self.replies[reply as usize];
        assert!(!header.busy, "UDP reply {reply} posted twice");
        let Some(namelen) = sockaddr_of(r.peer, &mut header.name) else {
            self.immediate.push_back(Immediate::DatagramSent(reply));
            assert!(self.immediate.len() <= self.immediate.capacity());
            return Ok(());
        };
        let socket = &self.udp[r.origin as usize];
        header.busy = true;
        header.iov = libc::iovec {
            iov_base: r.data.as_ptr() as *mut _,
            iov_len: r.data.len(),
        };
        header.msg.msg_name = (&mut header.name as *mut libc::sockaddr_storage).cast();
        header.msg.msg_namelen = namelen;
        header.msg.msg_iov = &mut header.iov;
        header.msg.msg_iovlen = 1;
        let entry = opcode::SendMsg::new(types::Fd(socket.fd.as_raw_fd()), &header.msg)
            .build()
            .user_data(token(Kind::UdpSend, reply as u32));
        // SAFETY: the bytes lie in the server's region, which never moves, and the server
        // does not reuse the reply buffer until `DatagramSent`; the header lives in
        // `self.replies`, which is not resized while the loop runs.
        unsafe { sub.push(&entry) }
    }

    /// The send of reply `reply` completed (or failed, as UDP may): its buffer is free again.
    pub(super) fn datagram_sent(&mut self, reply: u32, result: i32) {
        let header = &mut self.replies[reply as usize];
        assert!(
            header.busy,
            "UDP reply {reply}: a send completed that was not posted"
        );
        header.busy = false;
        if result < 0 {
            log::debug!(
                "zzz: a UDP reply was not sent: {}",
                io::Error::from_raw_os_error(-result)
            );
        }
        let reply = u16::try_from(reply).expect("reply numbers are u16");
        let _ = self.tell(Event::DatagramSent { reply });
    }
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

/// Writes `peer` into `name` as the kernel reads a destination, and returns its length;
/// `None` for an address that is not IP. An IPv6 peer's scope and flow label are not kept
/// by [`PeerAddr`]: a reply to a link-local address goes out on the default interface.
fn sockaddr_of(peer: PeerAddr, name: &mut libc::sockaddr_storage) -> Option<libc::socklen_t> {
    *name = zeroed_name();
    match peer {
        PeerAddr::V4(octets, port) => {
            // SAFETY: a sockaddr_in fits in, and is no more aligned than, sockaddr_storage.
            let a =
                unsafe { &mut *(name as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            a.sin_family = libc::AF_INET as libc::sa_family_t;
            a.sin_port = port.to_be();
            a.sin_addr.s_addr = u32::from_ne_bytes(octets);
            Some(size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        PeerAddr::V6(octets, port) => {
            // SAFETY: as above, for sockaddr_in6.
            let a =
                unsafe { &mut *(name as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            a.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            a.sin6_port = port.to_be();
            a.sin6_addr.s6_addr = octets;
            Some(size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
        PeerAddr::Local => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_written_for_the_kernel_reads_back_the_same() {
        let mut name = zeroed_name();
        for peer in [
            PeerAddr::V4([127, 0, 0, 1], 5353),
            PeerAddr::V4([255, 254, 0, 9], 1),
            PeerAddr::V6(std::net::Ipv6Addr::LOCALHOST.octets(), 65535),
        ] {
            assert!(sockaddr_of(peer, &mut name).is_some());
            assert_eq!(peer_of(&name), peer);
        }
        assert_eq!(sockaddr_of(PeerAddr::Local, &mut name), None);
    }
}
