//! Creating the sockets the instances listen on.

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::net::{AddressFamily, SocketAddrUnix, SocketType, bind, listen, socket, sockopt};

/// Backlog of every listening socket: what the kernel holds while all slots are busy.
pub const BACKLOG: i32 = 4096;
const _: () = assert!(BACKLOG > 0);

/// Something to listen on, and the protocol of the app's set (its
/// [`Protocols::Id`](zzz_core::Protocols::Id)) that serves what arrives there.
pub enum Listen<Id> {
    /// A TCP address (IPv4 or IPv6).
    Tcp(SocketAddr, Id),
    /// A Unix domain socket path (a stale socket file at the path is replaced).
    Unix(PathBuf, Id),
    /// A UDP address.
    Udp(SocketAddr, Id),
}

/// Where a listener ended up (with the port the kernel chose for port 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoundAddr {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix domain socket path.
    Unix(PathBuf),
    /// A UDP address.
    Udp(SocketAddr),
}

impl std::fmt::Display for BoundAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BoundAddr::Tcp(a) => write!(f, "tcp://{a}"),
            BoundAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            BoundAddr::Udp(a) => write!(f, "udp://{a}"),
        }
    }
}

fn family(addr: &SocketAddr) -> AddressFamily {
    if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    }
}

/// A TCP listener; with `reuse_port`, several may share the address (one per instance).
pub(crate) fn tcp(addr: SocketAddr, reuse_port: bool) -> io::Result<(OwnedFd, SocketAddr)> {
    let fd = socket(family(&addr), SocketType::STREAM, None)?;
    sockopt::set_socket_reuseaddr(&fd, true)?;
    if reuse_port {
        sockopt::set_socket_reuseport(&fd, true)?;
    }
    // Accepted sockets inherit TCP_NODELAY from the listener on Linux: responses go out in
    // one send per batch and must not wait for Nagle.
    sockopt::set_tcp_nodelay(&fd, true)?;
    bind(&fd, &addr)?;
    listen(&fd, BACKLOG)?;
    let local = local_addr(&fd)?;
    assert_bound(addr, local);
    Ok((fd, local))
}

/// A UDP socket; with `reuse_port`, one per instance.
pub(crate) fn udp(addr: SocketAddr, reuse_port: bool) -> io::Result<(OwnedFd, SocketAddr)> {
    let fd = socket(family(&addr), SocketType::DGRAM, None)?;
    if reuse_port {
        sockopt::set_socket_reuseport(&fd, true)?;
    }
    bind(&fd, &addr)?;
    let local = local_addr(&fd)?;
    assert_bound(addr, local);
    Ok((fd, local))
}

/// A Unix stream listener, shared by all instances.
pub(crate) fn unix(path: &Path) -> io::Result<OwnedFd> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    let fd = socket(AddressFamily::UNIX, SocketType::STREAM, None)?;
    bind(&fd, &SocketAddrUnix::new(path)?)?;
    listen(&fd, BACKLOG)?;
    Ok(fd)
}

/// The address a socket asked for `addr` got is the one reported to the user (and to the
/// instances that bind it again with `SO_REUSEPORT`): the same port, or the one the kernel
/// picked for port 0.
fn assert_bound(addr: SocketAddr, local: SocketAddr) {
    assert!(
        local.port() != 0 && (addr.port() == 0 || local.port() == addr.port()),
        "bound {local} for {addr}"
    );
}

fn local_addr(fd: &OwnedFd) -> io::Result<SocketAddr> {
    let addr = rustix::net::getsockname(fd)?;
    SocketAddr::try_from(addr).map_err(|_| io::Error::other("not an IP socket"))
}
