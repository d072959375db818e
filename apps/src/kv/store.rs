//! The key-value store: a fixed-capacity hash table over a byte slice (the module's shared
//! memory in the server's region), nothing allocated, every operation bounded by the
//! store's capacity.
//!
//! ## Layout
//!
//! ```text
//! | Header | index: [Entry; 2^k] | blocks: [Block; n] |
//! ```
//!
//! - The **index** is an open-addressing table (linear probing, at most half full) of
//!   `(hash, first block + 1)`; `0` marks an empty entry. Deleting shifts the entries that
//!   follow back into the hole, so there are no tombstones and a probe ends at the first
//!   empty entry.
//! - An **item** is a chain of 64-byte blocks: the first holds the item's header (key length,
//!   value length, expiry) and the key and value follow, across as many blocks as they need.
//!   Uniform blocks never fragment: the store is full when its blocks are, whatever the sizes
//!   stored. A block costs 4 bytes of link, an item 16 bytes of header.
//! - Blocks are handed out from a free list, and past it from a bump pointer over blocks never
//!   used: a fresh store touches no page it does not need (the region's pages are mapped on
//!   first touch).
//!
//! Why our own table rather than a crate's: the table lives in memory the server carves
//! (not a heap, not a typed static) and must be laid out over bytes, with variable-sized
//! items in fixed blocks; `heapless`'s maps hold fixed-size values of one type in the value
//! itself.

use core::hash::BuildHasher;

use bytemuck::{Pod, Zeroable};
use foldhash::fast::FixedState;

/// Bytes of a block.
pub const BLOCK: usize = 64;
/// Bytes of a block's payload (the rest links it to the next).
const PAYLOAD: usize = BLOCK - 4;
/// Bytes of an item's header: key length, value length (u32 each), expiry (u64).
const ITEM_HEAD: usize = 16;
/// The end of a chain, or of the free list.
const NONE: u32 = u32::MAX;
/// Marks a laid-out store (a zeroed one is not yet).
const MAGIC: u32 = 0x5a5a_4b56;

/// What the store is sized for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Capacity {
    /// The most keys held at once.
    pub keys: u32,
    /// Bytes for keys and values (rounded up to whole 64-byte blocks; each item also costs
    /// a 16-byte header, each block 4 bytes of link).
    pub bytes: u64,
}

impl Capacity {
    /// Entries of the index: a power of two at least twice the keys.
    const fn index_entries(&self) -> usize {
        (2 * self.keys as usize).next_power_of_two()
    }

    /// Blocks for `bytes`.
    const fn blocks(&self) -> usize {
        (self.bytes as usize).div_ceil(BLOCK)
    }

    /// Bytes of memory the store takes for this capacity.
    pub const fn memory(&self) -> usize {
        size_of::<Header>() + self.index_entries() * size_of::<Entry>() + self.blocks() * BLOCK
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Header {
    magic: u32,
    keys: u32,
    max_keys: u32,
    /// Keys with an expiry.
    expiring: u32,
    free_head: u32,
    free_blocks: u32,
    /// Blocks below this have been used at least once.
    bump: u32,
    blocks: u32,
    index_mask: u32,
    /// Where the next sweep for expired keys starts in the index.
    sweep_at: u32,
    seed: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Entry {
    hash: u32,
    /// The item's first block plus one; 0: empty.
    head: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Block {
    next: u32,
    payload: [u8; PAYLOAD],
}

/// The store is full: no block or no key is left (Redis's "OOM").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Full;

/// When an item expires: never, or at a monotonic millisecond.
pub type Expiry = Option<u64>;

/// A found item: its first block and lengths.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    head: u32,
    key_len: usize,
    value_len: usize,
    expires: Expiry,
}

impl Item {
    /// Bytes of its value.
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    /// When it expires.
    pub fn expires(&self) -> Expiry {
        self.expires
    }
}

/// The store, over its memory.
pub struct Store<'a> {
    header: &'a mut Header,
    index: &'a mut [Entry],
    blocks: &'a mut [Block],
}

/// Blocks an item of these lengths takes.
const fn blocks_for(key_len: usize, value_len: usize) -> usize {
    (ITEM_HEAD + key_len + value_len).div_ceil(PAYLOAD)
}

impl<'a> Store<'a> {
    /// The store in `memory` (8-aligned, [`Capacity::memory`] bytes), laid out for `capacity`
    /// with hash seed `seed` on first use (the memory starts zeroed).
    pub fn new(memory: &'a mut [u8], capacity: Capacity, seed: u64) -> Store<'a> {
        assert!(
            memory.len() >= capacity.memory(),
            "the store's memory is smaller than its capacity needs"
        );
        let (header, rest) = memory.split_at_mut(size_of::<Header>());
        let (index, rest) = rest.split_at_mut(capacity.index_entries() * size_of::<Entry>());
        let blocks = &mut rest[..capacity.blocks() * BLOCK];
        let mut store = Store {
            header: bytemuck::from_bytes_mut(header),
            index: bytemuck::cast_slice_mut(index),
            blocks: bytemuck::cast_slice_mut(blocks),
        };
        if store.header.magic != MAGIC {
            store.lay_out(capacity, seed);
        }
        assert!(
            store.header.max_keys == capacity.keys
                && store.header.blocks as usize == store.blocks.len()
                && store.header.index_mask as usize == store.index.len() - 1,
            "the store's memory was laid out for another capacity"
        );
        store
    }

    fn lay_out(&mut self, capacity: Capacity, seed: u64) {
        assert!(
            capacity.keys >= 1 && capacity.keys <= 1 << 30 && self.blocks.len() < NONE as usize,
            "a store of 1 to 2^30 keys and fewer than 2^32 blocks"
        );
        *self.header = Header {
            magic: MAGIC,
            keys: 0,
            max_keys: capacity.keys,
            expiring: 0,
            free_head: NONE,
            free_blocks: self.blocks.len() as u32,
            bump: 0,
            blocks: self.blocks.len() as u32,
            index_mask: (self.index.len() - 1) as u32,
            sweep_at: 0,
            seed,
        };
    }

    /// Keys held (expired ones not yet swept included, as Redis's `DBSIZE` counts them).
    pub fn len(&self) -> usize {
        self.header.keys as usize
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.header.keys == 0
    }

    /// The most keys it holds.
    pub fn max_keys(&self) -> usize {
        self.header.max_keys as usize
    }

    /// Keys with an expiry.
    pub fn expiring(&self) -> usize {
        self.header.expiring as usize
    }

    /// Blocks free.
    pub fn free_blocks(&self) -> usize {
        self.header.free_blocks as usize
    }

    fn hash(&self, key: &[u8]) -> u32 {
        let h = FixedState::with_seed(self.header.seed).hash_one(key);
        (h ^ (h >> 32)) as u32
    }

    // ----- items in blocks --------------------------------------------------------------------

    fn item_at(&self, head: u32) -> Item {
        let p = &self.blocks[head as usize].payload;
        let word = |at: usize| u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
        let mut expires = [0u8; 8];
        expires.copy_from_slice(&p[8..16]);
        let expires = u64::from_le_bytes(expires);
        Item {
            head,
            key_len: word(0) as usize,
            value_len: word(4) as usize,
            expires: expires.checked_sub(1),
        }
    }

    /// Calls `f` on each piece of the item's bytes from `from` (0: the key's first byte) for
    /// `len` bytes, in order.
    fn pieces(&self, item: &Item, from: usize, len: usize, mut f: impl FnMut(&[u8])) {
        let mut block = item.head;
        // Position of the current block's payload within the item (header included).
        let mut at = 0usize;
        let (start, end) = (ITEM_HEAD + from, ITEM_HEAD + from + len);
        // Bounded: one round per block of the chain, which has at most `blocks` blocks.
        for _ in 0..self.blocks.len() {
            if at >= end || block == NONE {
                break;
            }
            let b = &self.blocks[block as usize];
            let (lo, hi) = (start.max(at), end.min(at + PAYLOAD));
            if lo < hi {
                f(&b.payload[lo - at..hi - at]);
            }
            at += PAYLOAD;
            block = b.next;
        }
    }

    /// Whether the item's key is `key`.
    fn key_is(&self, item: &Item, key: &[u8]) -> bool {
        if item.key_len != key.len() {
            return false;
        }
        let mut at = 0;
        let mut same = true;
        self.pieces(item, 0, key.len(), |piece| {
            same &= piece == &key[at..at + piece.len()];
            at += piece.len();
        });
        same
    }

    /// Calls `f` on each piece of the item's value, in order.
    pub fn value_pieces(&self, item: &Item, f: impl FnMut(&[u8])) {
        self.pieces(item, item.key_len, item.value_len, f);
    }

    /// Copies the item's value into `out` (at least [`Item::value_len`] bytes).
    pub fn copy_value(&self, item: &Item, out: &mut [u8]) {
        let mut at = 0;
        self.value_pieces(item, |piece| {
            out[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        });
    }

    fn take_block(&mut self) -> u32 {
        let h = &mut *self.header;
        assert!(h.free_blocks > 0, "a block taken from a full store");
        h.free_blocks -= 1;
        if h.free_head != NONE {
            let block = h.free_head;
            h.free_head = self.blocks[block as usize].next;
            block
        } else {
            assert!(
                h.bump < h.blocks,
                "the free count and the free list disagree"
            );
            h.bump += 1;
            h.bump - 1
        }
    }

    fn free_chain(&mut self, head: u32) {
        let mut block = head;
        // Bounded: one round per block of the chain, and one to see its end.
        for _ in 0..=self.blocks.len() {
            if block == NONE {
                return;
            }
            let next = self.blocks[block as usize].next;
            self.blocks[block as usize].next = self.header.free_head;
            self.header.free_head = block;
            self.header.free_blocks += 1;
            block = next;
        }
        panic!("a chain longer than the store");
    }

    /// Writes a new item into fresh blocks; returns its first block. The blocks must be free.
    fn write_item(&mut self, key: &[u8], value: &[&[u8]], expires: Expiry) -> u32 {
        let value_len: usize = value.iter().map(|v| v.len()).sum();
        let n = blocks_for(key.len(), value_len);
        let mut head_bytes = [0u8; ITEM_HEAD];
        head_bytes[0..4].copy_from_slice(&(key.len() as u32).to_le_bytes());
        head_bytes[4..8].copy_from_slice(&(value_len as u32).to_le_bytes());
        head_bytes[8..16]
            .copy_from_slice(&expires.map_or(0, |e| e.saturating_add(1)).to_le_bytes());
        let head = self.take_block();
        let (mut block, mut filled) = (head, 0usize);
        self.blocks[block as usize].next = NONE;
        let pieces = [&head_bytes[..], key]
            .into_iter()
            .chain(value.iter().copied());
        for mut piece in pieces {
            // Bounded: each round fills the block or uses up the piece.
            while !piece.is_empty() {
                if filled == PAYLOAD {
                    let next = self.take_block();
                    self.blocks[block as usize].next = next;
                    self.blocks[next as usize].next = NONE;
                    block = next;
                    filled = 0;
                }
                let take = piece.len().min(PAYLOAD - filled);
                self.blocks[block as usize].payload[filled..filled + take]
                    .copy_from_slice(&piece[..take]);
                filled += take;
                piece = &piece[take..];
            }
        }
        debug_assert_eq!(n, blocks_for(key.len(), value_len));
        head
    }

    // ----- the index ----------------------------------------------------------------------------

    /// The index position and item of `key`, expired or not.
    fn find(&self, key: &[u8], hash: u32) -> Option<(usize, Item)> {
        let mask = self.index.len() - 1;
        let mut pos = hash as usize & mask;
        // Bounded: the index is at most half full, so a probe meets an empty entry.
        for _ in 0..self.index.len() {
            let e = self.index[pos];
            if e.head == 0 {
                return None;
            }
            if e.hash == hash {
                let item = self.item_at(e.head - 1);
                if self.key_is(&item, key) {
                    return Some((pos, item));
                }
            }
            pos = (pos + 1) & mask;
        }
        panic!("the index has no empty entry");
    }

    /// Removes the entry at `pos`, shifting back the entries whose probe passed through it.
    fn remove_entry(&mut self, pos: usize) {
        let mask = self.index.len() - 1;
        let mut hole = pos;
        let mut at = (pos + 1) & mask;
        // Bounded: the index is at most half full, so a scan meets an empty entry.
        for _ in 0..self.index.len() {
            let e = self.index[at];
            if e.head == 0 {
                break;
            }
            let home = e.hash as usize & mask;
            // The entry may move into the hole if its home is not in (hole, at].
            let distance_home = at.wrapping_sub(home) & mask;
            let distance_hole = at.wrapping_sub(hole) & mask;
            if distance_home >= distance_hole {
                self.index[hole] = e;
                hole = at;
            }
            at = (at + 1) & mask;
        }
        self.index[hole] = Entry::zeroed();
    }

    fn delete_at(&mut self, pos: usize, item: &Item) {
        self.remove_entry(pos);
        self.free_chain(item.head);
        self.header.keys -= 1;
        if item.expires.is_some() {
            self.header.expiring -= 1;
        }
    }

    // ----- operations ---------------------------------------------------------------------------

    /// The item of `key`, if it is held and not expired at `now` (an expired one is deleted).
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<Item> {
        let hash = self.hash(key);
        let (pos, item) = self.find(key, hash)?;
        if item.expires.is_some_and(|at| at <= now) {
            self.delete_at(pos, &item);
            return None;
        }
        Some(item)
    }

    /// Blocks an item of these lengths takes: for checking a whole batch against
    /// [`Store::free_blocks`] first (`MSET` sets all or nothing).
    pub fn blocks_needed(key_len: usize, value_len: usize) -> usize {
        blocks_for(key_len, value_len)
    }

    /// Sets `key` to the concatenation of `value`'s pieces, expiring at `expires`. Fails
    /// when the store has no room: the key is then unchanged.
    pub fn set(&mut self, key: &[u8], value: &[&[u8]], expires: Expiry) -> Result<(), Full> {
        let value_len: usize = value.iter().map(|v| v.len()).sum();
        let hash = self.hash(key);
        let need = blocks_for(key.len(), value_len);
        let found = self.find(key, hash);
        let freed = found.map_or(0, |(_, i)| blocks_for(i.key_len, i.value_len));
        if need > self.free_blocks() + freed {
            return Err(Full);
        }
        match found {
            Some((pos, old)) => {
                self.free_chain(old.head);
                if old.expires.is_some() {
                    self.header.expiring -= 1;
                }
                let head = self.write_item(key, value, expires);
                self.index[pos].head = head + 1;
            }
            None => {
                if self.header.keys >= self.header.max_keys {
                    return Err(Full);
                }
                let head = self.write_item(key, value, expires);
                let mask = self.index.len() - 1;
                let mut pos = hash as usize & mask;
                // Bounded: the index is at most half full.
                for _ in 0..self.index.len() {
                    if self.index[pos].head == 0 {
                        break;
                    }
                    pos = (pos + 1) & mask;
                }
                assert!(self.index[pos].head == 0, "the index has no empty entry");
                self.index[pos] = Entry {
                    hash,
                    head: head + 1,
                };
                self.header.keys += 1;
            }
        }
        if expires.is_some() {
            self.header.expiring += 1;
        }
        Ok(())
    }

    /// Deletes `key`; returns whether it was held (and not expired).
    pub fn delete(&mut self, key: &[u8], now: u64) -> bool {
        let hash = self.hash(key);
        let Some((pos, item)) = self.find(key, hash) else {
            return false;
        };
        let live = item.expires.is_none_or(|at| at > now);
        self.delete_at(pos, &item);
        live
    }

    /// Deletes every key.
    pub fn clear(&mut self) {
        self.index.fill(Entry::zeroed());
        let h = &mut *self.header;
        h.keys = 0;
        h.expiring = 0;
        h.free_head = NONE;
        h.free_blocks = h.blocks;
        h.bump = 0;
        h.sweep_at = 0;
    }

    /// Deletes the expired keys among the next `entries` entries of the index, from where the
    /// last sweep stopped; returns how many it deleted.
    pub fn sweep(&mut self, now: u64, entries: usize) -> usize {
        let mask = self.index.len() - 1;
        let mut pos = self.header.sweep_at as usize & mask;
        let mut deleted = 0;
        for _ in 0..entries.min(self.index.len()) {
            let e = self.index[pos];
            if e.head != 0 {
                let item = self.item_at(e.head - 1);
                if item.expires.is_some_and(|at| at <= now) {
                    // The entries after it shift back: look at this position again.
                    self.delete_at(pos, &item);
                    deleted += 1;
                    continue;
                }
            }
            pos = (pos + 1) & mask;
        }
        self.header.sweep_at = pos as u32;
        deleted
    }
}

#[cfg(test)]
mod tests;
