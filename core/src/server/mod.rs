//! The sans-IO server: connection slots, buffers, the large-buffer pool, timers, the operation
//! queue and the overload policy, over one memory region; it hosts protocol modules and knows
//! no protocol itself.
//!
//! ## Events in, operations out
//!
//! A backend owns the sockets and the clock; the [`Server`] owns everything else. The backend
//! tells it what happened with one call, [`Server::handle`], and one type, [`Event`]: a
//! connection arrived, a receive or a send completed or failed, a socket it was asked to close
//! is closed, the time, a datagram. It asks what to do with [`Server::poll_op`], which hands
//! out a bounded batch of [`Op`]s: receive into [`Server::recv_buffer`], send
//! [`Server::send_parts`], shut down the sending side, close, send a datagram reply. At most
//! one receive and one send are posted per slot at a time, and the server never touches a
//! buffer region while an operation on it is posted. A recording of a server's inputs is a
//! list of these events ([`crate::record`]).
//!
//! ## Protocol modules
//!
//! What a connection speaks is a [`Protocol`]: it keeps its own per-connection state in the
//! slot, and the server calls it when the connection opens, when something moves on it, when
//! its deadline passes and when it is gone, lending it a [`Link`] to the connection. The app
//! declares the set it serves ([`Protocols`], [`protocols!`](crate::protocols)); HTTP/1.1
//! ([`crate::http1`]), raw TCP ([`crate::tcp`]) and UDP ([`crate::udp`]) are modules like any
//! other.
//!
//! ## Bounds
//!
//! Every queue is a fixed table sized by [`Config`]: slots, module states and scratch,
//! buffers, the large-buffer pool, the timer wheel (one timer per slot), the ready queue and
//! the overload queues (intrusive, one link per slot), the datagram buffers. Every exhaustion
//! has a defined outcome (see `ARCHITECTURE.md` §4 Bounds).

mod datagram;
mod event;
mod hub;
mod layout;
mod lifecycle;
mod link;
mod module;
mod ops;
mod overload;
mod slot;
#[cfg(test)]
mod tests;

use crate::config::{Config, MemoryBudget};
use crate::memory::{Arena, RegionTooSmall};
use crate::pool::BlockPool;
use crate::time::{Instant, Now};
use crate::timer::{TimerEntry, TimerWheel};

pub use crate::stats::{Gauges, PrometheusText, ServerView, Snapshot, Stats};
pub use datagram::DatagramReply;
pub use event::{AcceptError, Event, Handled, IoError, OpKind};
pub use hub::{Bus, Feed, Message, PublishError, Start, SubscribeError, TopicId};
pub use link::{Delivery, Link, LinkParts};
pub use module::{MAX_PROTOCOLS, Protocol, Protocols, SharedMemory, Sole};
pub use ops::Op;
pub use slot::InputTarget;

use datagram::{Datagrams, ReplyMeta};
#[cfg(test)]
pub(crate) use hub::HubScalars;
use hub::{Hub, Subscription, TopicState};
pub(crate) use layout::{Layout, ModuleNeeds};
use layout::{scratch_stride, shared_stride};
use overload::Overload;
use slot::{NONE, Slot};

/// Index of a connection slot.
pub type SlotId = u32;

/// Why a server could not be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NewError {
    /// A configuration field is wrong; the text says which and why.
    Config(&'static str),
    /// The region is smaller than [`App::memory`](crate::App::memory)`.total`.
    RegionTooSmall,
}

impl From<RegionTooSmall> for NewError {
    fn from(_: RegionTooSmall) -> NewError {
        NewError::RegionTooSmall
    }
}

impl core::fmt::Display for NewError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NewError::Config(reason) => write!(f, "invalid configuration: {reason}"),
            NewError::RegionTooSmall => {
                f.write_str("the memory region is smaller than App::memory().total")
            }
        }
    }
}

/// A server instance: one event loop's worth of connections over one memory region, serving
/// the protocols `P` with the app's state `S`.
pub struct Server<'m, S: 'static, P: Protocols<S>> {
    state: S,
    modules: P,
    config: Config,
    slots: &'m mut [Slot],
    conns: &'m mut [P::Conn],
    scratch: &'m mut [u8],
    scratch_stride: usize,
    shared: [&'m mut [u8]; MAX_PROTOCOLS],
    recv: &'m mut [u8],
    send: &'m mut [u8],
    pool: BlockPool<'m>,
    timers: TimerWheel<'m>,
    free: &'m mut [u32],
    free_count: usize,
    ready_head: u32,
    ready_tail: u32,
    overload: Overload,
    /// Slots asked to close whose close has not completed: the room already being made.
    closing: u32,
    datagrams: Datagrams<'m>,
    hub: Hub<'m>,
    /// Where a backend puts a message from outside for [`Event::Publish`].
    publish: &'m mut [u8],
    now: Now,
    draining: bool,
    stats: Stats,
}

impl<S, P: Protocols<S>> core::fmt::Debug for Server<'_, S, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("connections", &self.active_connections())
            .field("stats", &self.stats)
            .finish()
    }
}

/// The memory a server of `modules` needs with `config` (see [`App::memory`]).
pub(crate) fn budget<S, P: Protocols<S>>(config: &Config, modules: &P) -> MemoryBudget {
    Layout::of(config, needs(config, modules)).budget()
}

fn needs<S, P: Protocols<S>>(config: &Config, modules: &P) -> ModuleNeeds {
    let shared = (0..MAX_PROTOCOLS as u8)
        .map(|i| shared_stride(modules.shared_bytes(config, i)))
        .sum();
    ModuleNeeds {
        conn: core::mem::size_of::<P::Conn>(),
        scratch: modules.scratch_bytes(config),
        shared,
    }
}

impl<'m, S, P: Protocols<S>> Server<'m, S, P> {
    /// Builds a server of the app `state` and `modules` over `region`, starting at `now`
    /// ([`Server::new`], which takes an [`App`] apart, is with `App`: the app bundles modules
    /// this layer knows only by their interface).
    pub(crate) fn build(
        config: Config,
        state: S,
        modules: P,
        region: &'m mut [u8],
        now: Now,
    ) -> Result<Server<'m, S, P>, NewError> {
        config.validate().map_err(NewError::Config)?;
        let needs = needs(&config, &modules);
        let budget = Layout::of(&config, needs).budget();
        if region.len() < budget.total {
            return Err(NewError::RegionTooSmall);
        }
        assert!(
            !core::mem::needs_drop::<P::Conn>(),
            "a protocol's per-connection state must own nothing that needs dropping"
        );
        let n = config.max_connections as usize;
        let blocks = config.large_buffers as usize;
        let replies = config.datagram_replies as usize;
        let mut arena = Arena::new(region);
        // In the order `Layout::of` counts them.
        let slots = arena.slice(n, |_| Slot::free())?;
        let conns = arena.slice(n, |_| P::VACANT)?;
        let timer_entries = arena.slice(n, |_| TimerEntry::new())?;
        let stride = scratch_stride(needs.scratch);
        // Left unwritten (HTTP's 100 header spans of 8 bytes per slot are 800 KiB at 1024
        // slots, mostly never used): a module writes its scratch before it reads it.
        let scratch = arena.bytes(n * stride)?;
        let free = arena.slice(n, |i| (n - 1 - i) as u32)?;
        let recv = arena.bytes(n * config.recv_buffer as usize)?;
        let send = arena.bytes(n * config.send_buffer as usize)?;
        let block_ids = arena.slice(blocks, |_| 0)?;
        let block_lent = arena.slice(blocks, |_| false)?;
        let mut shared: [&'m mut [u8]; MAX_PROTOCOLS] = Default::default();
        for (index, part) in shared.iter_mut().enumerate() {
            let bytes = modules.shared_bytes(&config, index as u8);
            if bytes > 0 {
                let piece = arena.bytes(shared_stride(bytes))?;
                // Zeroed once: a module's shared memory starts as all zero bytes.
                piece.fill(0);
                *part = &mut piece[..bytes];
            }
        }
        let size = config.datagram_size as usize;
        let datagram_bytes = arena.bytes(size * (1 + replies))?;
        let (input, reply_bytes) = datagram_bytes.split_at_mut(size);
        let meta = arena.slice(replies, |_| ReplyMeta::free())?;
        let (topics, ring_bytes, subs, wake) = Hub::counts(&config.topics, n);
        let publish = arena.bytes(Hub::publish_buffer(&config.topics))?;
        let hub = Hub::new(
            config.topics,
            arena.slice(topics, |_| TopicState::EMPTY)?,
            arena.bytes(ring_bytes)?,
            arena.slice(subs, |_| Subscription::UNUSED)?,
            arena.slice(wake, |_| NONE)?,
            arena.slice(wake, |_| false)?,
        );
        let storage = arena.bytes(blocks * config.block_size())?;
        let pool = BlockPool::new(storage, config.block_size(), block_ids, block_lent);
        let timers = TimerWheel::new(timer_entries, config.timer_tick_ms as u64, now.monotonic);
        zlog_info!("zzz: {} conns, {} bytes reserved", n, budget.total);
        let mut server = Server {
            state,
            modules,
            config,
            slots,
            conns,
            scratch,
            scratch_stride: stride,
            shared,
            recv,
            send,
            pool,
            timers,
            free,
            free_count: n,
            ready_head: NONE,
            ready_tail: NONE,
            overload: Overload::new(),
            closing: 0,
            datagrams: Datagrams {
                input,
                replies: reply_bytes,
                meta,
                size,
            },
            hub,
            publish,
            now,
            draining: false,
            stats: Stats::default(),
        };
        // The modules start at `now` as if ticked (HTTP's `Date`): a first `Tick` at the same
        // time then changes nothing, as every `Tick` at an unchanged time does (a recording
        // leaves those out).
        let mut shared = SharedMemory {
            parts: &mut server.shared,
        };
        server
            .modules
            .tick(&mut server.state, &mut shared, server.now);
        Ok(server)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The app's state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The app's state, mutable.
    pub fn state_mut(&mut self) -> &mut S {
        &mut self.state
    }

    /// The protocol modules.
    pub fn modules(&self) -> &P {
        &self.modules
    }

    /// What the server has done so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// What the server holds now.
    pub fn gauges(&self) -> Gauges {
        Gauges {
            max_connections: self.slots.len() as u32,
            active_connections: self.active_connections() as u32,
            unproven_connections: self.overload.unproven.len(),
            idle_connections: self.overload.idle.len(),
            large_buffers: self.config.large_buffers,
            large_buffers_available: self.pool.available() as u32,
            draining: self.draining,
        }
    }

    /// Counters and gauges, copied: what monitoring publishes.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            stats: self.stats,
            gauges: self.gauges(),
        }
    }

    /// Connections in use (including those closing).
    pub fn active_connections(&self) -> usize {
        self.slots.len() - self.free_count
    }

    /// Large buffers not lent out.
    pub fn large_buffers_available(&self) -> usize {
        self.pool.available()
    }

    /// Whether a new connection would get a slot.
    pub fn can_accept(&self) -> bool {
        self.free_count > 0 && !self.draining
    }

    /// The protocol connection `slot` speaks (`None`: no connection).
    pub fn protocol_of(&self, slot: SlotId) -> Option<P::Id> {
        P::id_of(&self.conns[slot as usize])
    }

    /// The time of the last tick.
    pub fn now(&self) -> Now {
        self.now
    }

    /// When to tell the server the time next at the latest (a timer or a module's chore is
    /// due); `None` when nothing is.
    pub fn next_wake(&self) -> Option<Instant> {
        if self.hub.has_woken() {
            return Some(self.now.monotonic);
        }
        match (self.timers.next_wake(), self.modules.next_wake()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// While connections wait for a slot: when [`Event::MakeRoom`] could next close a
    /// connection it cannot close now (the oldest connection without a request head reaches
    /// [`Timeouts::shed_grace_ms`](crate::Timeouts::shed_grace_ms)); `None` when no such
    /// connection exists. Make room again then.
    pub fn room_at(&self) -> Option<Instant> {
        let oldest = self.overload.unproven.front()?;
        let s = &self.slots[oldest as usize];
        Some(s.accepted_at.after_ms(self.config.timeouts.shed_grace_ms))
    }

    /// Where to put a message from outside before [`Event::Publish`]:
    /// [`Topics::max_message`](crate::Topics::max_message) bytes (none without topics).
    pub fn publish_buffer(&mut self) -> &mut [u8] {
        self.publish
    }

    /// Whether a graceful shutdown is under way.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// Whether every connection has closed (after [`Event::Shutdown`]).
    pub fn is_idle(&self) -> bool {
        self.free_count == self.slots.len()
    }
}
