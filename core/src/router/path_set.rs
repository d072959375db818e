//! A set of a table's paths, one bit each: what each segment of a lookup narrows.

/// A set of paths, one bit per path, in order of specificity (bit 0 is the most specific):
/// `W` words of 64 paths.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct PathSet<const W: usize>([u64; W]);

impl<const W: usize> PathSet<W> {
    pub(super) const EMPTY: PathSet<W> = PathSet([0; W]);

    pub(super) fn with(mut self, bit: usize) -> PathSet<W> {
        self.0[bit / 64] |= 1 << (bit % 64);
        self
    }

    pub(super) fn first_n(n: usize) -> PathSet<W> {
        debug_assert!(n <= W * 64);
        let mut set = PathSet::EMPTY;
        for (i, word) in set.0.iter_mut().enumerate() {
            let bits = n.saturating_sub(i * 64).min(64);
            *word = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
        }
        set
    }

    #[inline]
    pub(super) fn and(self, other: PathSet<W>) -> PathSet<W> {
        PathSet(core::array::from_fn(|i| self.0[i] & other.0[i]))
    }

    #[inline]
    pub(super) fn or(self, other: PathSet<W>) -> PathSet<W> {
        PathSet(core::array::from_fn(|i| self.0[i] | other.0[i]))
    }

    #[inline]
    pub(super) fn lowest(self) -> Option<usize> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    #[inline]
    pub(super) fn is_empty(self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}
