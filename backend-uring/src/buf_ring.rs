//! A provided-buffer ring: buffers the kernel picks from for multishot receives.
//!
//! The ring is an array of `(address, length, id)` entries shared with the kernel, registered
//! under a buffer group id; the kernel takes entries from its head as receives complete, and
//! the instance gives buffers back by writing entries at its tail and publishing the new tail
//! with a release store. Everything is allocated when the instance starts.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::Submitter;
use io_uring::types::BufRingEntry;

/// The buffer group of the instance's receive buffers.
pub(crate) const GROUP: u16 = 0;

pub(crate) struct BufRing {
    entries: NonNull<BufRingEntry>,
    layout: Layout,
    /// The buffers themselves, behind a raw pointer: the kernel writes into them while the
    /// instance runs, so no Rust reference may cover them all; slices are made of one
    /// completed buffer at a time.
    buffers: NonNull<u8>,
    buffers_layout: Layout,
    count: u16,
    size: u32,
    /// Our copy of the tail: entries written so far, modulo 2^16.
    tail: u16,
}

impl BufRing {
    /// `count` (a power of two, at most 32768) buffers of `size` bytes.
    pub(crate) fn new(count: u16, size: u32) -> BufRing {
        assert!(count.is_power_of_two() && count <= 32768);
        // The kernel requires the entry array to be page-aligned.
        let layout = Layout::from_size_align(count as usize * size_of::<BufRingEntry>(), 4096)
            .expect("a valid layout");
        // SAFETY: the layout has a non-zero size (count >= 1).
        let entries = NonNull::new(unsafe { alloc_zeroed(layout) } as *mut BufRingEntry)
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        let buffers_layout =
            Layout::from_size_align(count as usize * size as usize, 64).expect("a valid layout");
        // SAFETY: the layout has a non-zero size.
        let buffers = NonNull::new(unsafe { alloc_zeroed(buffers_layout) })
            .unwrap_or_else(|| std::alloc::handle_alloc_error(buffers_layout));
        BufRing {
            entries,
            layout,
            buffers,
            buffers_layout,
            count,
            size,
            tail: 0,
        }
    }

    /// Registers the ring with the kernel and hands it every buffer.
    pub(crate) fn register(&mut self, submitter: &Submitter<'_>) -> std::io::Result<()> {
        // SAFETY: the entry array stays allocated (and in place) until this value is dropped,
        // which happens after the ring that uses it (see `instance::run`).
        unsafe {
            submitter.register_buf_ring_with_flags(
                self.entries.as_ptr() as u64,
                self.count,
                GROUP,
                0,
            )?
        };
        for bid in 0..self.count {
            self.push(bid);
        }
        self.publish();
        Ok(())
    }

    /// Bytes `from..to` of buffer `bid`, which a completion handed over and which has not been
    /// recycled since.
    pub(crate) fn data(&self, bid: u16, from: u32, to: u32) -> &[u8] {
        assert!(bid < self.count && from <= to && to <= self.size);
        let offset = bid as usize * self.size as usize + from as usize;
        // SAFETY: inside the allocation (checked above); the kernel does not write a buffer
        // between handing it over in a completion and getting it back through `recycle`.
        unsafe {
            std::slice::from_raw_parts(self.buffers.as_ptr().add(offset), (to - from) as usize)
        }
    }

    /// Gives buffer `bid` back to the kernel.
    pub(crate) fn recycle(&mut self, bid: u16) {
        self.push(bid);
        self.publish();
    }

    fn push(&mut self, bid: u16) {
        debug_assert!(bid < self.count);
        let index = (self.tail & (self.count - 1)) as usize;
        // SAFETY: `index < count`, inside the entry array; the kernel reads this entry only
        // after the tail published below covers it.
        let entry = unsafe { &mut *self.entries.as_ptr().add(index) };
        let addr = self.buffers.as_ptr() as u64 + bid as u64 * self.size as u64;
        entry.set_addr(addr);
        entry.set_len(self.size);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    fn publish(&self) {
        // SAFETY: the tail is the `resv` field of the first entry (the ring's documented
        // layout); the kernel reads it concurrently, hence the atomic release store, which also
        // makes the entries written before it visible.
        unsafe {
            let tail = BufRingEntry::tail(self.entries.as_ptr()) as *const AtomicU16;
            (*tail).store(self.tail, Ordering::Release);
        }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: both allocated in `new` with these layouts; the ring using them is gone (see
        // `register`).
        unsafe {
            dealloc(self.entries.as_ptr() as *mut u8, self.layout);
            dealloc(self.buffers.as_ptr(), self.buffers_layout);
        }
    }
}

/// "No buffer" in [`Pending`]'s lists.
const NIL: u16 = u16::MAX;

#[derive(Clone, Copy)]
struct Node {
    from: u32,
    to: u32,
    next: u16,
}

#[derive(Clone, Copy)]
struct List {
    head: u16,
    tail: u16,
    len: u16,
}

/// Received bytes waiting for the server, per connection: first-in-first-out lists threaded
/// through the ring's buffers. A buffer is in at most one list, so the lists together can
/// never hold more than the ring has, however fast a peer sends.
pub(crate) struct Pending {
    nodes: Vec<Node>,
    lists: Vec<List>,
}

impl Pending {
    /// Lists for `slots` connections over a ring of `buffers`.
    pub(crate) fn new(buffers: u16, slots: usize) -> Pending {
        Pending {
            nodes: vec![
                Node {
                    from: 0,
                    to: 0,
                    next: NIL
                };
                buffers as usize
            ],
            lists: vec![
                List {
                    head: NIL,
                    tail: NIL,
                    len: 0
                };
                slots
            ],
        }
    }

    /// Buffers held for `slot`.
    pub(crate) fn len(&self, slot: usize) -> usize {
        self.lists[slot].len as usize
    }

    /// Appends the first `len` bytes of buffer `bid` to the list of `slot`.
    pub(crate) fn push(&mut self, slot: usize, bid: u16, len: u32) {
        self.nodes[bid as usize] = Node {
            from: 0,
            to: len,
            next: NIL,
        };
        let list = &mut self.lists[slot];
        if list.tail == NIL {
            list.head = bid;
        } else {
            self.nodes[list.tail as usize].next = bid;
        }
        list.tail = bid;
        list.len += 1;
    }

    /// The oldest buffer of `slot` and the bytes of it not yet delivered.
    pub(crate) fn front(&self, slot: usize) -> Option<(u16, u32, u32)> {
        let bid = self.lists[slot].head;
        (bid != NIL).then(|| {
            (
                bid,
                self.nodes[bid as usize].from,
                self.nodes[bid as usize].to,
            )
        })
    }

    /// Marks `n` more bytes of the oldest buffer of `slot` delivered.
    pub(crate) fn consume(&mut self, slot: usize, n: u32) {
        let bid = self.lists[slot].head;
        let node = &mut self.nodes[bid as usize];
        node.from += n;
        debug_assert!(node.from <= node.to);
    }

    /// Removes the oldest buffer of `slot` from its list.
    pub(crate) fn pop(&mut self, slot: usize) -> Option<u16> {
        let list = &mut self.lists[slot];
        let bid = list.head;
        if bid == NIL {
            return None;
        }
        list.head = self.nodes[bid as usize].next;
        if list.head == NIL {
            list.tail = NIL;
        }
        list.len -= 1;
        Some(bid)
    }
}
