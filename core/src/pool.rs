//! The pool of large buffers that connections borrow for bodies and responses too big for
//! their own buffers. Fixed count, fixed size, taken from the server's region at startup.

/// Index of a large buffer.
pub type BlockId = u32;

/// A block and its id.
pub type LentBlock<'a> = (BlockId, &'a mut [u8]);

/// Fixed-size blocks with a free list.
#[derive(Debug)]
pub struct BlockPool<'m> {
    storage: &'m mut [u8],
    block_size: usize,
    free: &'m mut [BlockId],
    free_count: usize,
    /// Per block, whether it is lent out: asserted where a block is taken and where it comes
    /// back, so that a block is never lent twice nor returned twice.
    lent: &'m mut [bool],
}

impl<'m> BlockPool<'m> {
    /// A pool of `free.len()` blocks of `block_size` bytes in `storage`.
    pub fn new(
        storage: &'m mut [u8],
        block_size: usize,
        free: &'m mut [BlockId],
        lent: &'m mut [bool],
    ) -> BlockPool<'m> {
        assert_eq!(storage.len(), block_size * free.len());
        assert_eq!(lent.len(), free.len());
        assert!(free.len() <= BlockId::MAX as usize);
        let n = free.len();
        for (i, slot) in free.iter_mut().enumerate() {
            *slot = (n - 1 - i) as BlockId;
        }
        lent.fill(false);
        let free_count = free.len();
        BlockPool {
            storage,
            block_size,
            free,
            free_count,
            lent,
        }
    }

    /// Whether block `id` is lent out.
    pub fn is_lent(&self, id: BlockId) -> bool {
        self.lent.get(id as usize).copied().unwrap_or(false)
    }

    /// Blocks not lent out.
    pub fn available(&self) -> usize {
        self.free_count
    }

    /// Blocks in all.
    pub fn capacity(&self) -> usize {
        self.free.len()
    }

    /// Size of each block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// The block that [`BlockPool::take`] would return next, without taking it.
    pub fn peek(&mut self) -> Option<(BlockId, &mut [u8])> {
        let id = *self.free[..self.free_count].last()?;
        let size = self.block_size;
        Some((
            id,
            &mut self.storage[id as usize * size..(id as usize + 1) * size],
        ))
    }

    /// Takes a free block.
    pub fn take(&mut self) -> Option<BlockId> {
        if self.free_count == 0 {
            return None;
        }
        self.free_count -= 1;
        let id = self.free[self.free_count];
        assert!(
            !self.lent[id as usize],
            "block {id} on the free list is lent"
        );
        self.lent[id as usize] = true;
        Some(id)
    }

    /// Returns a block.
    pub fn release(&mut self, id: BlockId) {
        assert!(self.lent[id as usize], "block {id} released but not lent");
        self.lent[id as usize] = false;
        assert!(self.free_count < self.free.len());
        self.free[self.free_count] = id;
        self.free_count += 1;
    }

    /// A lent block's bytes.
    pub fn block(&mut self, id: BlockId) -> &mut [u8] {
        assert!(self.lent[id as usize], "block {id} written but not lent");
        let size = self.block_size;
        &mut self.storage[id as usize * size..(id as usize + 1) * size]
    }

    /// A lent block, read-only, together with the block [`BlockPool::take`] would return next
    /// (without taking it): a request body and a standby buffer for its response.
    #[inline]
    pub fn lent_and_next(
        &mut self,
        lent: Option<BlockId>,
    ) -> (Option<&[u8]>, Option<LentBlock<'_>>) {
        let size = self.block_size;
        let next = self.free[..self.free_count].last().copied();
        if let Some(l) = lent {
            assert!(
                self.lent[l as usize] && lent != next,
                "block {l} read but not lent"
            );
        }
        let range = |id: BlockId| id as usize * size..(id as usize + 1) * size;
        match (lent, next) {
            (None, None) => (None, None),
            (Some(l), None) => (Some(&self.storage[range(l)]), None),
            (None, Some(n)) => (None, Some((n, &mut self.storage[range(n)]))),
            (Some(l), Some(n)) => {
                // Split between the two blocks so both can be borrowed at once.
                let split = l.max(n) as usize * size;
                let (low, high) = self.storage.split_at_mut(split);
                if l < n {
                    (Some(&low[range(l)]), Some((n, &mut high[..size])))
                } else {
                    (Some(&high[..size]), Some((n, &mut low[range(n)])))
                }
            }
        }
    }

    /// A lent block's bytes, read-only.
    pub fn block_ref(&self, id: BlockId) -> &[u8] {
        assert!(self.lent[id as usize], "block {id} read but not lent");
        let size = self.block_size;
        &self.storage[id as usize * size..(id as usize + 1) * size]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_and_release() {
        let mut storage = [0u8; 64];
        let mut free = [0; 4];
        let mut lent = [false; 4];
        let mut pool = BlockPool::new(&mut storage, 16, &mut free, &mut lent);
        let (peeked, _) = pool.peek().unwrap();
        let a = pool.take().unwrap();
        assert_eq!(a, peeked);
        let ids: heapless::Vec<BlockId, 4> = (0..3).map(|_| pool.take().unwrap()).collect();
        assert!(pool.take().is_none());
        assert!(pool.peek().is_none());
        pool.block(ids[1])[0] = 9;
        pool.release(ids[1]);
        assert_eq!(pool.available(), 1);
        assert_eq!(pool.take(), Some(ids[1]));
        assert_eq!(pool.block_ref(ids[1])[0], 9, "blocks are not cleared");
    }

    /// The pair of assertions around lending: a block is never returned twice, nor used
    /// while it is not lent.
    #[test]
    #[should_panic(expected = "released but not lent")]
    fn a_block_returned_twice_is_caught() {
        let mut storage = [0u8; 32];
        let mut free = [0; 2];
        let mut lent = [false; 2];
        let mut pool = BlockPool::new(&mut storage, 16, &mut free, &mut lent);
        let id = pool.take().unwrap();
        pool.release(id);
        pool.release(id);
    }
}
