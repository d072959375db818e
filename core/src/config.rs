//! Every capacity of a server in one value, validated at startup, and the memory it needs.

use crate::http::Limits;

/// Timeouts, in milliseconds, with defaults in the range of nginx and h2o.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// The whole request head must arrive within this time of its first byte; otherwise
    /// `408` and close. This is what ends a slowloris that drips one byte a second. Default
    /// 10 s (h2o's `http1-request-timeout`; nginx resets its 60 s timer on every read,
    /// which slowloris exploits).
    pub head_ms: u64,
    /// Longest pause between two pieces of a request body; then `408` and close. Default 30 s.
    pub body_idle_ms: u64,
    /// How long a connection may wait, idle, for its next request; then it is closed
    /// silently. Default 30 s (nginx 75 s, h2o 10 s).
    pub keep_alive_ms: u64,
    /// Longest time a send may make no progress; then the connection is closed. Default 30 s
    /// (nginx's `send_timeout` is 60 s).
    pub send_stall_ms: u64,
    /// After the last response on a connection that closes, how long to keep reading and
    /// discarding what the client still sends, so that closing does not reset the connection
    /// before the client has read the response (RFC 9112 §9.6). Default 2 s (nginx's
    /// `lingering_timeout` is 5 s).
    pub linger_ms: u64,
    /// Under pressure (see [`Config::pressure_percent`]), how long a new connection may wait
    /// before its first byte; then it is closed silently. Once its first byte arrives the head
    /// timeout applies, counted from the accept. Default 2 s: a real client sends its request
    /// as soon as the handshake completes, a flood of silent connections frees its slots five
    /// times sooner. Envoy's overload manager scales its timeouts down the same way.
    pub pressured_first_byte_ms: u64,
    /// How long a new connection is safe from being closed to make room for a newcomer while
    /// it has not delivered a complete request head: long enough for a prompt client's
    /// request to arrive whatever else arrives meanwhile, short enough that a flood's silent
    /// connections make room almost at once. Default 100 ms.
    pub shed_grace_ms: u64,
}

impl Timeouts {
    /// The documented defaults.
    pub const DEFAULT: Timeouts = Timeouts {
        head_ms: 10_000,
        body_idle_ms: 30_000,
        keep_alive_ms: 30_000,
        send_stall_ms: 30_000,
        linger_ms: 2_000,
        pressured_first_byte_ms: 2_000,
        shed_grace_ms: 100,
    };
}

/// All capacities and limits of one server instance. Every field has a documented default;
/// [`Config::validate`] says which field is wrong and why; [`Config::memory`] is what the
/// instance reserves, once, at startup.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Connections served at once. When all slots are taken the backend keeps accepting: each
    /// newcomer waits for a slot (in the backend, boundedly) while the server closes one
    /// connection to make room for it, the one that has waited longest without a complete
    /// request head, else the oldest idle keep-alive one (see the overload policy in
    /// `server`). Default 1024.
    pub max_connections: u32,
    /// The share of slots in use, in percent, from which the server is under pressure: a
    /// connection accepted then gets only [`Timeouts::pressured_first_byte_ms`] for its first
    /// byte. 0 puts every connection under pressure, 100 only the one taking the last slot.
    /// Default 75.
    pub pressure_percent: u8,
    /// Receive buffer per connection, in bytes: holds request heads, small bodies and
    /// pipelined requests. At least `limits.max_head`. Default 16 KiB.
    pub recv_buffer: u32,
    /// Send buffer per connection, in bytes: responses are written straight into it. A
    /// response that does not fit moves to a large buffer from the pool. Default 16 KiB.
    pub send_buffer: u32,
    /// Large buffers shared by all connections, for request bodies and responses that do not
    /// fit a connection's own buffers. When none is free the request gets `503` with
    /// `Retry-After`. Default 16.
    pub large_buffers: u32,
    /// Size of each large buffer, in bytes; the largest body or response the server handles
    /// without streaming. At least `limits.max_body`. Default 1 MiB. (Each is reserved a few
    /// KiB larger, for the framing that ends a chunked body: see [`Config::block_size`].)
    pub large_buffer_size: u32,
    /// Requests served on one connection before it is closed (its last response says
    /// `Connection: close`). Default 1000 (nginx's `keepalive_requests`).
    pub max_requests_per_connection: u32,
    /// Granularity of the timer wheel, in milliseconds: timeouts fire within one tick of their
    /// deadline. Default 100 ms.
    pub timer_tick_ms: u32,
    /// Request limits, each mapped to its status.
    pub limits: Limits,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Bytes of the buffer UDP datagrams are received into, and of each reply buffer: the
    /// largest datagram served (a longer one is cut and dropped). 0 serves no UDP. Default 0.
    pub datagram_size: u32,
    /// Reply buffers for UDP datagrams, sent in flight at once; with all of them in flight a
    /// datagram is dropped unanswered (counted). Default 0.
    pub datagram_replies: u32,
    /// Topics: groups of connections that receive what is published to them (the hub, see
    /// `server::hub`). Default none.
    pub topics: Topics,
}

/// What happens to a subscriber that falls so far behind that its topic's ring has
/// overwritten messages it had not taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Lagging {
    /// It skips to the oldest message still held; the next message it takes says how many it
    /// missed, and `Stats::messages_missed` counts them. A chat or a live feed.
    Skip,
    /// Its connection is closed (`Stats::lagging_closed`). A stream where a gap is an error.
    Close,
}

/// The capacities of the hub: topics, their rings, subscriptions per connection. All carved
/// from the region at startup and counted in the memory budget.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Topics {
    /// Topics of the instance, numbered from 0. Default 0: no hub, no memory.
    pub count: u16,
    /// Bytes of each topic's ring: its recent messages (12 bytes of header each), its
    /// history, and how far a subscriber may fall behind. At least twice `max_message` plus
    /// headers. Default 64 KiB.
    pub ring_bytes: u32,
    /// The longest message, in bytes; a longer one is refused (`PublishError::TooLarge`).
    /// Default 4 KiB.
    pub max_message: u32,
    /// Topics one connection may follow at once; one more is refused
    /// (`SubscribeError::TooMany`). Default 4.
    pub per_connection: u8,
    /// A subscriber that falls behind its ring, or a connection whose inbox is full.
    /// Default [`Lagging::Skip`].
    pub lagging: Lagging,
    /// Bytes of each connection's inbox, where messages sent to it alone wait
    /// (`Bus::send_to`; 4 bytes of header each); 0, the default, keeps none. At least twice
    /// `max_message` plus headers when set.
    pub inbox_bytes: u32,
}

impl Topics {
    /// The documented defaults: no topics.
    pub const DEFAULT: Topics = Topics {
        count: 0,
        ring_bytes: 64 * 1024,
        max_message: 4 * 1024,
        per_connection: 4,
        lagging: Lagging::Skip,
        inbox_bytes: 0,
    };

    /// Checks every field; the error names the field and the reason.
    pub const fn validate(&self) -> Result<(), &'static str> {
        if self.count == 0 && self.inbox_bytes == 0 {
            return Ok(());
        }
        if self.inbox_bytes > 0 && (self.inbox_bytes as u64) < 2 * (self.max_message as u64 + 4) {
            return Err(
                "topics.inbox_bytes: must hold two of the longest messages and their headers",
            );
        }
        if self.inbox_bytes > 1 << 24 {
            return Err("topics.inbox_bytes: at most 16 MiB");
        }
        if self.count == 0 {
            return Ok(());
        }
        if self.count > 4096 {
            return Err("topics.count: at most 4096");
        }
        if self.max_message == 0 {
            return Err("topics.max_message: at least 1 byte");
        }
        if (self.ring_bytes as u64) < 2 * (self.max_message as u64 + 12) {
            return Err(
                "topics.ring_bytes: must hold two of the longest messages and their headers",
            );
        }
        if self.ring_bytes > 1 << 30 {
            return Err("topics.ring_bytes: at most 1 GiB");
        }
        if self.per_connection == 0 {
            return Err("topics.per_connection: at least 1 when there are topics");
        }
        Ok(())
    }
}

// The documented defaults are a valid configuration.
const _: () = assert!(Config::DEFAULT.validate().is_ok());

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// Bytes reserved per part of the server, as [`Config::memory`] computes them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemoryBudget {
    /// Connection state, header arrays and both buffers, per connection.
    pub per_connection: usize,
    /// All connections.
    pub connections: usize,
    /// The large-buffer pool.
    pub large_buffers: usize,
    /// Everything, alignment padding included: the size of the region to reserve.
    pub total: usize,
}

impl Config {
    /// The documented defaults.
    pub const DEFAULT: Config = Config {
        max_connections: 1024,
        pressure_percent: 75,
        recv_buffer: 16 * 1024,
        send_buffer: 16 * 1024,
        large_buffers: 16,
        large_buffer_size: 1024 * 1024,
        max_requests_per_connection: 1000,
        timer_tick_ms: 100,
        limits: Limits::DEFAULT,
        timeouts: Timeouts::DEFAULT,
        datagram_size: 0,
        datagram_replies: 0,
        topics: Topics::DEFAULT,
    };

    /// Checks every field; the error names the field and the reason.
    pub const fn validate(&self) -> Result<(), &'static str> {
        if let Err(e) = self.limits.validate() {
            return Err(e);
        }
        if let Err(e) = self.topics.validate() {
            return Err(e);
        }
        if self.max_connections == 0 {
            return Err("max_connections: must be at least 1");
        }
        if self.max_connections > 1 << 20 {
            return Err("max_connections: at most 1048576");
        }
        if self.pressure_percent > 100 {
            return Err("pressure_percent: at most 100");
        }
        if self.recv_buffer < self.limits.max_head as u32 {
            return Err("recv_buffer: must hold a whole head (at least limits.max_head)");
        }
        if self.send_buffer < 1024 {
            return Err("send_buffer: must be at least 1024 bytes");
        }
        if self.large_buffer_size < self.limits.max_body {
            return Err("large_buffer_size: must hold the largest body (at least limits.max_body)");
        }
        if self.large_buffer_size < self.recv_buffer || self.large_buffer_size < self.send_buffer {
            return Err("large_buffer_size: must be at least recv_buffer and send_buffer");
        }
        if self.timer_tick_ms == 0 {
            return Err("timer_tick_ms: must be at least 1");
        }
        let t = &self.timeouts;
        if t.head_ms == 0
            || t.body_idle_ms == 0
            || t.keep_alive_ms == 0
            || t.send_stall_ms == 0
            || t.pressured_first_byte_ms == 0
        {
            return Err("timeouts: every timeout must be at least 1 ms");
        }
        if self.max_requests_per_connection == 0 {
            return Err("max_requests_per_connection: must be at least 1");
        }
        if self.datagram_size > 65_536 {
            return Err("datagram_size: at most 65536 (the largest UDP datagram)");
        }
        if self.datagram_replies > u16::MAX as u32 {
            return Err("datagram_replies: at most 65535");
        }
        if (self.datagram_size == 0) != (self.datagram_replies == 0) {
            return Err("datagram_size and datagram_replies: both 0 (no UDP) or both at least 1");
        }
        // The region is sized in `usize`: its buffers must fit the address space, which on a
        // 32-bit target is 4 GiB (the server's tables beside them are small).
        let buffers = self.max_connections as u128
            * (self.recv_buffer as u128 + self.send_buffer as u128)
            + self.large_buffers as u128 * self.block_bytes() as u128
            + self.datagram_size as u128 * (1 + self.datagram_replies as u128);
        if buffers > isize::MAX as u128 {
            return Err(
                "memory: the buffers exceed this target's address space (isize::MAX bytes)",
            );
        }
        Ok(())
    }

    /// Bytes of each large buffer as reserved: `large_buffer_size` plus room for the framing
    /// that ends a chunked body (last chunk, extensions, trailers), so that a body of exactly
    /// `max_body` bytes decoded into a large buffer still has room for its last bytes.
    pub const fn block_size(&self) -> usize {
        self.block_bytes() as usize
    }

    /// [`Config::block_size`] computed wide enough for any configuration, valid or not.
    const fn block_bytes(&self) -> u64 {
        self.large_buffer_size as u64
            + self.limits.max_chunk_extensions as u64
            + self.limits.max_trailers as u64
            + 64
    }
}

impl core::fmt::Display for MemoryBudget {
    /// `1024 conns x 33.6 KiB + 16.0 MiB large buffers = 49.6 MiB reserved`, as the startup
    /// line shows (the total includes what the protocol modules share).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let conns = self
            .connections
            .checked_div(self.per_connection)
            .unwrap_or(0);
        write!(
            f,
            "{} conns x {} + {} large buffers = {} reserved",
            conns,
            Bytes(self.per_connection),
            Bytes(self.large_buffers),
            Bytes(self.total)
        )
    }
}

/// A byte count shown in KiB or MiB with one decimal.
struct Bytes(usize);

impl core::fmt::Display for Bytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (unit, div) = if self.0 >= 1 << 20 {
            ("MiB", 1 << 20)
        } else {
            ("KiB", 1 << 10)
        };
        let tenths = self.0 * 10 / div;
        write!(f, "{}.{} {}", tenths / 10, tenths % 10, unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buffers the address space cannot hold are a configuration error, named as such,
    /// rather than an overflow when the region is sized.
    #[test]
    fn buffers_beyond_the_address_space_are_invalid() {
        let mut huge_pool = Config::DEFAULT;
        huge_pool.large_buffers = u32::MAX;
        huge_pool.large_buffer_size = u32::MAX;
        let error = huge_pool.validate().unwrap_err();
        assert!(error.starts_with("memory:"), "{error}");

        // 2^20 connections of 32 KiB of buffers: 32 GiB, beyond a 32-bit address space.
        let mut many_connections = Config::DEFAULT;
        many_connections.max_connections = 1 << 20;
        let fits = many_connections.validate();
        if usize::BITS == 32 {
            assert!(fits.unwrap_err().starts_with("memory:"));
        } else {
            assert_eq!(fits, Ok(()));
            assert!(many_connections.memory().total > 32 << 30);
        }
    }
}
