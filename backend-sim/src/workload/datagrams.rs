//! The UDP datagrams of a seed: when each arrives, its bytes, and the socket it comes in on.
//! Most are up to 200 bytes; some sit at the limits of the server's datagram buffers: exactly
//! [`Config::datagram_size`] (served), one byte more (dropped), or just short enough for the
//! pong to fill a reply buffer exactly. What the UDP pong owes each is judged by the
//! simulator (`sim::datagram`).

use zzz_core::Config;

use crate::rng::Rng;
use crate::swarm::WorkloadShape;

/// One datagram a client sends the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// When it arrives, in ms from the start.
    pub at: u64,
    /// Its bytes.
    pub data: Vec<u8>,
    /// The backend's tag of the UDP socket it comes in on (two sockets), which the reply
    /// must go out from.
    pub origin: u16,
}

/// Generates the UDP datagrams of one seed, for a server configured with `config`.
pub fn datagrams(config: &Config, shape: &WorkloadShape, rng: &mut Rng) -> Vec<Datagram> {
    let size = config.datagram_size as usize;
    (0..shape.datagrams)
        .map(|_| {
            let at = rng.range(0, shape.spread_ms + 10);
            let len = if size > 5 && rng.chance(150_000) {
                // At the limits: the pong fills a reply buffer; the datagram fills the
                // buffer; one byte past it.
                *rng.pick(&[size - 5, size, size + 1])
            } else {
                rng.skewed(200)
            };
            let data = (0..len).map(|_| rng.next_u64() as u8).collect();
            let origin = rng.below(2) as u16;
            Datagram { at, data, origin }
        })
        .collect()
}
