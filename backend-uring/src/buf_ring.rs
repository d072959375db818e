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

/// The most buffers a ring may have: the kernel's limit on a buffer ring's entries.
pub(crate) const BUFFERS_MAX: u16 = 1 << 15;

/// The alignment of the entry array: the kernel requires it page-aligned.
const ENTRIES_ALIGN: usize = 4096;

// The entry array is the kernel's `struct io_uring_buf[]`: 16 bytes an entry (address, length,
// buffer id, and the reserved field the first entry uses as the tail).
const _: () = assert!(size_of::<BufRingEntry>() == 16);
// The tail wraps at 2^16 while indexing with `tail & (count - 1)`: every count that divides
// 2^16 (a power of two up to the kernel's limit) keeps the two in step.
const _: () = assert!(BUFFERS_MAX.is_power_of_two() && ENTRIES_ALIGN.is_power_of_two());

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
    /// Per buffer, whether a completion handed it to the instance (and it was not recycled
    /// since): the kernel must not get it back twice, nor the instance read one it does not hold.
    held: Vec<bool>,
    /// How many of `held` are set: the kernel has `count - held_count` buffers to fill.
    held_count: u16,
}

impl BufRing {
    /// `count` (a power of two, at most [`BUFFERS_MAX`]) buffers of `size` (at least 1)
    /// bytes; panics otherwise ([`RecvMode::validate`](crate::RecvMode::validate) checks a
    /// user's choice first).
    pub(crate) fn new(count: u16, size: u32) -> BufRing {
        assert!(count.is_power_of_two() && count <= BUFFERS_MAX && size > 0);
        let layout =
            Layout::from_size_align(count as usize * size_of::<BufRingEntry>(), ENTRIES_ALIGN)
                .expect("a valid layout");
        // SAFETY: the layout has a non-zero size (count >= 1).
        let entries = NonNull::new(unsafe { alloc_zeroed(layout) } as *mut BufRingEntry)
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        let bytes = (count as usize)
            .checked_mul(size as usize)
            .expect("the ring's buffers fit the address space");
        let buffers_layout = Layout::from_size_align(bytes, 64).expect("a valid layout");
        // SAFETY: the layout has a non-zero size (count >= 1 and size >= 1).
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
            held: vec![false; count as usize],
            held_count: 0,
        }
    }

    /// Registers the ring with the kernel and hands it every buffer.
    pub(crate) fn register(&mut self, submitter: &Submitter<'_>) -> std::io::Result<()> {
        assert!(
            self.tail == 0 && self.held_count == 0,
            "a buffer ring is registered once"
        );
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
        // Every buffer is the kernel's, once: the tail went round the ring exactly once (2^16
        // wraps to 0 only for a ring of 2^16 entries, which the kernel refuses).
        assert_eq!(self.tail, self.count);
        Ok(())
    }

    /// A completion handed buffer `bid` to the instance with `len` bytes in it: the instance
    /// holds it until [`BufRing::recycle`]. Panics if the kernel was not holding it, or wrote
    /// past its end: the ring's bookkeeping would no longer match the kernel's.
    pub(crate) fn take(&mut self, bid: u16, len: u32) {
        assert!(bid < self.count, "buffer {bid} is outside the ring");
        assert!(len <= self.size, "buffer {bid} holds more than its size");
        assert!(!self.held[bid as usize], "buffer {bid} handed over twice");
        self.held[bid as usize] = true;
        self.held_count += 1;
        assert!(self.held_count <= self.count);
    }

    /// Bytes `from..to` of buffer `bid`, which a completion handed over ([`BufRing::take`]) and
    /// which has not been recycled since.
    pub(crate) fn data(&self, bid: u16, from: u32, to: u32) -> &[u8] {
        assert!(bid < self.count && from <= to && to <= self.size);
        assert!(
            self.held[bid as usize],
            "buffer {bid} read while the kernel has it"
        );
        let offset = bid as usize * self.size as usize + from as usize;
        // SAFETY: inside the allocation (checked above); the kernel does not write a buffer
        // between handing it over in a completion and getting it back through `recycle`.
        unsafe {
            std::slice::from_raw_parts(self.buffers.as_ptr().add(offset), (to - from) as usize)
        }
    }

    /// Gives buffer `bid`, which the instance holds ([`BufRing::take`]), back to the kernel.
    pub(crate) fn recycle(&mut self, bid: u16) {
        assert!(bid < self.count, "buffer {bid} is outside the ring");
        // Giving the kernel a buffer twice would let it fill one buffer for two receives.
        assert!(self.held[bid as usize], "buffer {bid} recycled twice");
        self.held[bid as usize] = false;
        self.held_count -= 1;
        self.push(bid);
        self.publish();
    }

    /// Writes the entry of buffer `bid` at the tail (not yet published).
    fn push(&mut self, bid: u16) {
        // The kernel writes into the address this entry gives: it must be one of our buffers.
        assert!(bid < self.count, "buffer {bid} is outside the ring");
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
    /// The buffer is in a list.
    listed: bool,
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
                    next: NIL,
                    listed: false,
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
        self.list(slot).len as usize
    }

    /// The list of `slot`, checked: empty exactly when it has no head (and no tail), never
    /// longer than the ring (a buffer is in one list at most). Inlined, and the three checks
    /// one branch: it runs some nine times a request, and as a call with three formatted
    /// assertions it cost 33 instructions each time, 7% of a keep-alive request's instructions
    /// (callgrind).
    #[inline]
    fn list(&self, slot: usize) -> List {
        let list = self.lists[slot];
        let empty = list.head == NIL;
        assert!(
            (list.len == 0) == empty
                && (list.tail == NIL) == empty
                && list.len as usize <= self.nodes.len(),
            "slot {slot}'s list is inconsistent"
        );
        list
    }

    /// Appends the first `len` bytes of buffer `bid`, which is in no list, to the list of `slot`.
    pub(crate) fn push(&mut self, slot: usize, bid: u16, len: u32) {
        let list = self.list(slot);
        assert!(
            !self.nodes[bid as usize].listed,
            "buffer {bid} listed twice"
        );
        self.nodes[bid as usize] = Node {
            from: 0,
            to: len,
            next: NIL,
            listed: true,
        };
        if list.tail == NIL {
            self.lists[slot].head = bid;
        } else {
            self.nodes[list.tail as usize].next = bid;
        }
        let list = &mut self.lists[slot];
        list.tail = bid;
        list.len += 1;
        self.list(slot);
    }

    /// The oldest buffer of `slot` and the bytes of it not yet delivered (`from < to`, or the
    /// buffer is empty).
    pub(crate) fn front(&self, slot: usize) -> Option<(u16, u32, u32)> {
        let bid = self.list(slot).head;
        (bid != NIL).then(|| {
            let node = self.nodes[bid as usize];
            assert!(
                node.listed && node.from <= node.to,
                "buffer {bid} at a list's head"
            );
            (bid, node.from, node.to)
        })
    }

    /// Marks `n` more bytes of the oldest buffer of `slot` delivered; `n` is less than what
    /// remains of it (a buffer delivered whole is popped instead).
    pub(crate) fn consume(&mut self, slot: usize, n: u32) {
        let bid = self.list(slot).head;
        assert!(bid != NIL, "consume() on slot {slot}'s empty list");
        let node = &mut self.nodes[bid as usize];
        // Past `to`, the next delivery would read bytes the kernel did not write.
        assert!(
            n < node.to - node.from,
            "buffer {bid} consumed past its end"
        );
        node.from += n;
    }

    /// Removes the oldest buffer of `slot` from its list.
    pub(crate) fn pop(&mut self, slot: usize) -> Option<u16> {
        let list = self.list(slot);
        let bid = list.head;
        if bid == NIL {
            return None;
        }
        let node = &mut self.nodes[bid as usize];
        assert!(node.listed, "buffer {bid} at a list's head is not listed");
        node.listed = false;
        let list = &mut self.lists[slot];
        list.head = node.next;
        if list.head == NIL {
            list.tail = NIL;
        }
        list.len -= 1;
        self.list(slot);
        Some(bid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_goes_back_and_forth_once_each_way() {
        let mut ring = BufRing::new(4, 16);
        ring.take(3, 16);
        assert_eq!(ring.data(3, 0, 16).len(), 16);
        ring.recycle(3);
        // Handed over again after it went back: a new receive.
        ring.take(3, 1);
        ring.recycle(3);
    }

    #[test]
    #[should_panic(expected = "handed over twice")]
    fn a_buffer_handed_over_twice_is_a_bug() {
        let mut ring = BufRing::new(4, 16);
        ring.take(1, 8);
        ring.take(1, 8);
    }

    #[test]
    #[should_panic(expected = "recycled twice")]
    fn a_buffer_recycled_twice_is_a_bug() {
        let mut ring = BufRing::new(4, 16);
        ring.take(1, 8);
        ring.recycle(1);
        ring.recycle(1);
    }

    #[test]
    #[should_panic(expected = "read while the kernel has it")]
    fn a_buffer_the_kernel_holds_is_not_read() {
        BufRing::new(4, 16).data(0, 0, 1);
    }

    #[test]
    #[should_panic(expected = "outside the ring")]
    fn a_buffer_id_past_the_ring_is_a_bug() {
        BufRing::new(4, 16).take(4, 1);
    }

    #[test]
    fn pending_lists_are_first_in_first_out_per_slot() {
        let mut pending = Pending::new(4, 2);
        pending.push(0, 2, 10);
        pending.push(1, 0, 5);
        pending.push(0, 1, 7);
        assert_eq!((pending.len(0), pending.len(1)), (2, 1));
        pending.consume(0, 4);
        assert_eq!(pending.front(0), Some((2, 4, 10)));
        assert_eq!(pending.pop(0), Some(2));
        assert_eq!(pending.front(0), Some((1, 0, 7)));
        assert_eq!(pending.pop(0), Some(1));
        assert_eq!((pending.pop(0), pending.len(0)), (None, 0));
        // Popped, a buffer may be listed again.
        pending.push(0, 2, 3);
        assert_eq!(pending.front(0), Some((2, 0, 3)));
    }

    #[test]
    #[should_panic(expected = "listed twice")]
    fn a_buffer_in_two_lists_is_a_bug() {
        let mut pending = Pending::new(4, 2);
        pending.push(0, 3, 10);
        pending.push(1, 3, 10);
    }

    #[test]
    #[should_panic(expected = "consumed past its end")]
    fn consuming_a_whole_buffer_is_a_pop_not_a_consume() {
        let mut pending = Pending::new(4, 1);
        pending.push(0, 0, 10);
        pending.consume(0, 10);
    }
}
