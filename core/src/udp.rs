//! The UDP protocol module: each datagram to a handler, which may write one reply. The server
//! keeps the datagram buffers in its region
//! ([`Config::datagram_size`](crate::Config::datagram_size),
//! [`Config::datagram_replies`](crate::Config::datagram_replies)); with every reply buffer in
//! flight a datagram is dropped, as UDP allows, and counted.

use crate::net::PeerAddr;
use crate::server::{Link, Protocol};

/// A UDP handler: sees one datagram and its sender, may write a reply into the buffer it is
/// given and return the reply's length.
pub type UdpHandler<S> = fn(&mut S, PeerAddr, &[u8], &mut [u8]) -> Option<usize>;

/// The UDP module around a handler.
pub struct Udp<S: 'static> {
    /// The handler.
    pub handler: UdpHandler<S>,
}

impl<S> Udp<S> {
    /// The module around `handler`.
    pub fn new(handler: UdpHandler<S>) -> Udp<S> {
        Udp { handler }
    }
}

impl<S> core::fmt::Debug for Udp<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Udp")
    }
}

impl<S> Protocol<S> for Udp<S> {
    type Conn = ();

    /// UDP has no connections: one accepted for it by mistake is closed.
    fn open(&mut self, link: &mut Link<'_, '_, S>) {
        link.close_now();
    }

    fn progress(&mut self, _: &mut (), _: &mut Link<'_, '_, S>) {}

    fn timeout(&mut self, _: &mut (), link: &mut Link<'_, '_, S>) {
        link.close_now();
    }

    fn datagram(
        &mut self,
        state: &mut S,
        peer: PeerAddr,
        data: &[u8],
        reply: &mut [u8],
    ) -> Option<usize> {
        (self.handler)(state, peer, data, reply)
    }
}
