//! An in-place heapsort for the router's build-time tables.
//!
//! Ours rather than `slice::sort_unstable_by`: the router sorts three tables of different
//! element types once, at startup, where speed does not matter, and core's pattern-defeating
//! quicksort is instantiated per element type with its small-sort networks, about 3 KB of
//! flash each (9 KB of the Cortex-M4 firmware's 94 KB); this is a few hundred bytes. Heapsort
//! needs no scratch memory and is O(n log n) whatever the input.

use core::cmp::Ordering;

/// Sorts `items` by `compare`, in place, not stably.
pub(super) fn sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let n = items.len();
    // Build a max-heap: sift down every parent, last first.
    for parent in (0..n / 2).rev() {
        sift_down(items, parent, n, &mut compare);
    }
    // Move the largest to the end, one at a time, and restore the heap before it.
    for end in (1..n).rev() {
        items.swap(0, end);
        sift_down(items, 0, end, &mut compare);
    }
}

/// Moves `items[node]` down the heap `items[..end]` until both children are not greater.
fn sift_down<T>(
    items: &mut [T],
    mut node: usize,
    end: usize,
    compare: &mut impl FnMut(&T, &T) -> Ordering,
) {
    // Bounded: `node` at least doubles each turn and stays below `end`.
    loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && compare(&items[child], &items[child + 1]).is_lt() {
            child += 1;
        }
        if compare(&items[node], &items[child]).is_ge() {
            return;
        }
        items.swap(node, child);
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use super::sort_by;
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard library's sort, for any input.
        #[test]
        fn sorts_as_the_standard_library_does(mut items in proptest::collection::vec(0u8..16, 0..200)) {
            let mut expected = items.clone();
            expected.sort_unstable();
            sort_by(&mut items, |a, b| a.cmp(b));
            prop_assert_eq!(items, expected);
        }
    }
}
