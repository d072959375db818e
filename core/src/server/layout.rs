//! How a server's region is carved, and so how large it must be: computed up front, from the
//! configuration and the sizes the protocol modules declare, in the same order as
//! `Server::new` carves it.

use crate::config::{Config, MemoryBudget};
use crate::memory::{ALIGN_SLACK, carved_size};
use crate::pool::BlockId;
use crate::timer::TimerEntry;

use super::datagram::ReplyMeta;
use super::hub::{Hub, Subscription, TopicState};
use super::slot::Slot;

/// What the protocol modules need, beside what the server needs for itself.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ModuleNeeds {
    /// `size_of` the set's per-connection state.
    pub conn: usize,
    /// Scratch bytes per connection (rounded up to 8 when carved).
    pub scratch: usize,
    /// Shared bytes, every protocol's rounded up to the region's alignment, summed.
    pub shared: usize,
}

/// Bytes of each piece of the region.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    n: usize,
    per_slot_pieces: usize,
    fixed: usize,
    large_buffers: usize,
}

impl Layout {
    /// The pieces for `config` and the modules' `needs`.
    pub(crate) const fn of(config: &Config, needs: ModuleNeeds) -> Layout {
        let n = config.max_connections as usize;
        let blocks = config.large_buffers as usize;
        let replies = config.datagram_replies as usize;
        let per_slot_pieces = carved_size::<Slot>(n)
            + round_up(n * needs.conn)
            + carved_size::<TimerEntry>(n)
            + round_up(n * scratch_stride(needs.scratch))
            + carved_size::<u32>(n)
            + n * config.recv_buffer as usize
            + n * config.send_buffer as usize;
        let fixed = carved_size::<BlockId>(blocks)
            + carved_size::<bool>(blocks)
            + needs.shared
            + round_up(config.datagram_size as usize * (1 + replies))
            + carved_size::<ReplyMeta>(replies)
            + Layout::hub(config, n);
        Layout {
            n,
            per_slot_pieces,
            fixed,
            large_buffers: blocks * config.block_size(),
        }
    }

    /// The hub's pieces: topic states, rings, subscriptions, the wake queue and its flags.
    const fn hub(config: &Config, n: usize) -> usize {
        let (topics, ring_bytes, subs, wake) = Hub::counts(&config.topics, n);
        carved_size::<TopicState>(topics)
            + round_up(Hub::publish_buffer(&config.topics))
            + round_up(ring_bytes)
            + carved_size::<Subscription>(subs)
            + carved_size::<u32>(wake)
            + carved_size::<bool>(wake)
    }

    /// The budget: per connection, all connections, large buffers, and the whole region.
    pub(crate) const fn budget(&self) -> MemoryBudget {
        let per_connection = self.per_slot_pieces / self.n;
        let connections = per_connection * self.n;
        MemoryBudget {
            per_connection,
            connections,
            large_buffers: self.large_buffers,
            total: self.per_slot_pieces + self.fixed + self.large_buffers + ALIGN_SLACK,
        }
    }
}

/// Scratch bytes per connection as carved: a multiple of 8, so that every connection's
/// scratch is 8-aligned for the module that casts it.
pub(crate) const fn scratch_stride(scratch: usize) -> usize {
    scratch.div_ceil(8) * 8
}

/// Shared bytes of one protocol as carved.
pub(crate) const fn shared_stride(shared: usize) -> usize {
    round_up(shared)
}

const fn round_up(n: usize) -> usize {
    carved_size::<u8>(n)
}
