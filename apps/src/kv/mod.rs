//! A Redis-protocol key-value server, written against the core's public module interface
//! only: [`Kv`] is a [`Protocol`] like the core's own HTTP and raw-TCP modules.
//!
//! What it serves: `PING`, `ECHO`, `GET`, `SET` (with `EX`, `PX`, `KEEPTTL`, `NX`, `XX`),
//! `DEL`, `EXISTS`, `INCR`, `INCRBY`, `DECR`, `DECRBY`, `MGET`, `MSET`, `DBSIZE`, `FLUSHALL`
//! (and `FLUSHDB`), `TTL`, `PTTL`, `SELECT 0`, `HELLO 2`, `QUIT`, and enough of `COMMAND` and
//! `CONFIG GET` for `redis-cli` and `redis-benchmark`; over RESP2 ([`resp`]), pipelined or
//! not (`HELLO 3` is answered `NOPROTO`, and clients fall back to RESP2). Unknown commands and wrong
//! arities get Redis's error replies; malformed RESP gets a protocol error and the connection
//! is closed after it, as Redis does.
//!
//! **Memory.** The store ([`store`]) lives in the module's shared memory, carved from the
//! server's region at startup and counted in its budget ([`Kv::capacity`]): a full store
//! answers Redis's `OOM` error, never allocates. Each server instance (each thread of
//! `examples/kv.rs`) has its own store. A command must fit the connection's receive buffer,
//! and a reply its send buffer: a value too long for a `GET` of it to fit is refused when
//! set, and an `MGET` whose reply would not fit is answered with an error.
//!
//! **Time.** Keys with an expiry (`EX`, `PX`) expire on access, and a sweep on the server's
//! tick, ten times a second while any key has an expiry, deletes expired ones among the next
//! [`SWEEP_ENTRIES`] entries of the index (Redis's active expiry, bounded per tick).
//!
//! **Connections.** A command that starts arriving must be whole within the configuration's
//! `head_ms` of the last byte received (else the connection closes); between commands a
//! connection may stay idle without limit (as Redis's default `timeout 0`) unless
//! [`Kv::idle_ms`] sets one, and idle connections are among those closed to make room under a
//! connection flood.

pub mod commands;
pub mod resp;
pub mod store;

use zzz_core::server::{InputTarget, Link, Protocol};
use zzz_core::{Config, Instant, Now};

use commands::{After, SMALL_REPLY, execute, reply_size};
use resp::{Parsed, ProtocolError, Reply, parse};
use store::{Capacity, Store};

/// Index entries a sweep looks at per tick.
pub const SWEEP_ENTRIES: usize = 1024;

/// Milliseconds between sweeps while keys have an expiry.
const SWEEP_EVERY_MS: u64 = 100;

/// The key-value module.
#[derive(Debug)]
pub struct Kv {
    capacity: Capacity,
    seed: u64,
    idle_ms: Option<u64>,
    /// When the next sweep for expired keys is due, while keys have an expiry.
    sweep_at: Option<Instant>,
}

/// How serving the input ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Served {
    /// Every whole command is answered; a partial one may follow.
    All,
    /// A whole command (or a protocol error's reply) waits for room in the send buffer.
    WaitingForRoom,
    /// The connection is to close after its output.
    Close,
}

/// What the module keeps per connection.
#[derive(Clone, Copy, Default, Debug)]
pub struct KvConn {
    /// How far a partial inline command was searched for its end.
    searched: u32,
}

impl Kv {
    /// A store for `capacity`, hashing with `seed` (pick it at random in production: a
    /// client that knows it can choose keys that collide).
    pub fn new(capacity: Capacity, seed: u64) -> Kv {
        Kv {
            capacity,
            seed,
            idle_ms: None,
            sweep_at: None,
        }
    }

    /// Closes connections idle (no command under way) for `ms` milliseconds; default never.
    pub fn idle_ms(mut self, ms: u64) -> Kv {
        self.idle_ms = Some(ms);
        self
    }

    /// What the store holds at most.
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    fn store<'m>(&self, memory: &'m mut [u8]) -> Store<'m> {
        Store::new(memory, self.capacity, self.seed)
    }

    /// Serves the complete commands at the start of the input, while their replies fit the
    /// output room.
    fn serve<S>(&mut self, conn: &mut KvConn, link: &mut Link<'_, '_, S>) -> Served {
        let now = link.now().monotonic.0;
        let limit = link.config().recv_buffer as usize;
        let send_buffer = link.config().send_buffer as usize;
        // The longest value whose `GET` reply fits the send buffer.
        let max_value = resp::longest_bulk(send_buffer);
        let (mut consumed, mut served, mut expiring) = (0, Served::All, false);
        let parts = link.split();
        let mut store = Store::new(parts.shared, self.capacity, self.seed);
        let mut reply = Reply::new(parts.output);
        let input = parts.input;
        // Bounded: each round consumes input (an empty line takes one byte) or stops.
        for _ in 0..input.len() + 1 {
            let rest = &input[consumed..];
            match parse(rest, conn.searched as usize, limit) {
                Parsed::Partial { searched } => {
                    conn.searched = searched as u32;
                    // It can never arrive whole: the error, once it fits (a reply before it
                    // may be waiting for the output to drain).
                    if rest.len() == limit {
                        served = if reply.fits(SMALL_REPLY) {
                            reply.error(ProtocolError::TooLarge.message());
                            Served::Close
                        } else {
                            Served::WaitingForRoom
                        };
                    }
                    break;
                }
                Parsed::Nothing(n) => {
                    consumed += n;
                    conn.searched = 0;
                }
                Parsed::Error(e) => {
                    // The error is a reply like any other: it waits for room, then closes.
                    served = if reply.fits(SMALL_REPLY) {
                        reply.error(e.message());
                        Served::Close
                    } else {
                        Served::WaitingForRoom
                    };
                    break;
                }
                Parsed::Command(cmd) => {
                    let need = reply_size(&cmd, rest, &mut store, now);
                    if need > send_buffer {
                        if !reply.fits(SMALL_REPLY) {
                            served = Served::WaitingForRoom;
                            break;
                        }
                        reply.error("ERR reply larger than the send buffer");
                    } else if !reply.fits(need) {
                        // Wait for the output to drain.
                        served = Served::WaitingForRoom;
                        break;
                    } else {
                        let before = store.expiring();
                        let after = execute(&cmd, rest, &mut store, now, max_value, &mut reply);
                        expiring |= store.expiring() > before;
                        if after == After::Close {
                            consumed += cmd.len;
                            served = Served::Close;
                            break;
                        }
                    }
                    consumed += cmd.len;
                    conn.searched = 0;
                }
            }
        }
        let written = reply.len();
        if expiring && self.sweep_at.is_none() {
            self.sweep_at = Some(Instant(now).after_ms(SWEEP_EVERY_MS));
        }
        link.commit_output(0, written);
        link.consume(consumed);
        if consumed > 0 {
            // It has spoken: no longer among the first closed to make room.
            link.proven();
        }
        served
    }
}

impl<S> Protocol<S> for Kv {
    type Conn = KvConn;

    fn shared_bytes(&self, _: &Config) -> usize {
        self.capacity.memory()
    }

    fn open(&mut self, link: &mut Link<'_, '_, S>) -> KvConn {
        assert!(
            link.config().send_buffer as usize >= SMALL_REPLY,
            "the key-value module needs a send buffer of at least {SMALL_REPLY} bytes"
        );
        link.want_input(InputTarget::Buffer { limit: None });
        // Idle from its accept until it speaks.
        let now = link.now().monotonic;
        link.set_deadline(self.idle_ms.map(|ms| now.after_ms(ms)));
        KvConn::default()
    }

    fn progress(&mut self, conn: &mut KvConn, link: &mut Link<'_, '_, S>) {
        link.compact_output();
        // The input moves to the buffer's start; what was searched of a partial command is
        // counted from the command's start, which moves with it.
        link.compact_input();
        let served = self.serve(conn, link);
        // After the peer's EOF, commands waiting for room are still owed their replies (this
        // is called again as the output drains); what is left besides is nothing, or a partial
        // command the peer will never finish.
        if served == Served::Close || (link.peer_eof() && served == Served::All) {
            link.close_after_output();
            return;
        }
        let partial = !link.input().is_empty();
        let waiting_output = link.output_queued();
        link.set_idle(!partial && !waiting_output);
        let t = link.config().timeouts;
        let deadline = if partial {
            Some(link.progress_at().after_ms(t.head_ms))
        } else {
            self.idle_ms.map(|ms| link.progress_at().after_ms(ms))
        };
        link.set_deadline(deadline);
        // Read on while there is room to answer (a full output waits for its drain, which
        // calls this again) and room to receive: what was served moves out of the way first.
        link.compact_input();
        let room_to_answer =
            link.send_pending() as usize + SMALL_REPLY <= link.config().send_buffer as usize;
        let room_to_receive = (link.input_end() as usize) < link.config().recv_buffer as usize;
        if room_to_answer && room_to_receive && !link.peer_eof() {
            link.want_input(InputTarget::Buffer { limit: None });
        }
    }

    fn timeout(&mut self, _: &mut KvConn, link: &mut Link<'_, '_, S>) {
        link.close_now();
    }

    fn drain(&mut self, _: &mut KvConn, link: &mut Link<'_, '_, S>) {
        link.close_after_output();
    }

    fn tick(&mut self, _: &mut S, shared: &mut [u8], now: Now) {
        let Some(at) = self.sweep_at else { return };
        if now.monotonic < at {
            return;
        }
        let mut store = self.store(shared);
        store.sweep(now.monotonic.0, SWEEP_ENTRIES);
        self.sweep_at = (store.expiring() > 0).then(|| now.monotonic.after_ms(SWEEP_EVERY_MS));
    }

    fn next_wake(&self) -> Option<Instant> {
        self.sweep_at
    }
}

#[cfg(test)]
mod tests;
