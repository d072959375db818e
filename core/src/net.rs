//! Peer addresses, as the backend reports them.

/// The address of the other end of a connection or datagram.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PeerAddr {
    /// IPv4 address and port.
    V4([u8; 4], u16),
    /// IPv6 address and port.
    V6([u8; 16], u16),
    /// A Unix domain socket, or a transport without addresses.
    #[default]
    Local,
}

impl core::fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PeerAddr::V4(ip, port) => write!(f, "{}.{}.{}.{}:{}", ip[0], ip[1], ip[2], ip[3], port),
            PeerAddr::V6(ip, port) => {
                f.write_str("[")?;
                for (i, pair) in ip.chunks(2).enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{:x}", u16::from_be_bytes([pair[0], pair[1]]))?;
                }
                write!(f, "]:{port}")
            }
            PeerAddr::Local => f.write_str("local"),
        }
    }
}

#[cfg(feature = "std")]
impl From<std::net::SocketAddr> for PeerAddr {
    fn from(addr: std::net::SocketAddr) -> PeerAddr {
        match addr {
            std::net::SocketAddr::V4(a) => PeerAddr::V4(a.ip().octets(), a.port()),
            std::net::SocketAddr::V6(a) => PeerAddr::V6(a.ip().octets(), a.port()),
        }
    }
}

#[cfg(feature = "std")]
impl PeerAddr {
    /// As a standard socket address; `None` for [`PeerAddr::Local`].
    pub fn to_socket_addr(self) -> Option<std::net::SocketAddr> {
        match self {
            PeerAddr::V4(ip, port) => Some((std::net::Ipv4Addr::from(ip), port).into()),
            PeerAddr::V6(ip, port) => Some((std::net::Ipv6Addr::from(ip), port).into()),
            PeerAddr::Local => None,
        }
    }
}
