//! The segments of a request path, scanned by the lookup as it walks down the index: each
//! once, when the walk first needs it, eight bytes at a time, for where it ends and whether it
//! holds an escape; and its first bytes as one integer, the key the index compares.

/// One segment of a path, as the walk scans it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Segment {
    /// Where it ends: its `/`, or the end of the path.
    pub(super) end: usize,
    /// Whether it holds a `%` escape: then it must be decoded before it is compared with
    /// literals.
    pub(super) escaped: bool,
}

/// Scans the segment that starts at byte `start` of `bytes` (a `/` or the end of `bytes` ends
/// it).
#[inline]
pub(super) fn scan_segment(bytes: &[u8], start: usize) -> Segment {
    let at = next_separator_or_escape(bytes, start);
    if bytes.get(at) == Some(&b'%') {
        // Rare: finish the segment a byte at a time.
        let end = bytes[at..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(bytes.len(), |i| at + i);
        return Segment { end, escaped: true };
    }
    Segment {
        end: at,
        escaped: false,
    }
}

/// [`head`] of `bytes[start..start + len]`, read as one word from `bytes` where it has eight
/// bytes from `start`, or its last eight (shifted), and masked to `len`: two overlapping reads
/// of the segment itself only for a path under eight bytes.
#[inline]
pub(super) fn head_at(bytes: &[u8], start: usize, len: usize) -> u64 {
    debug_assert!(start + len <= bytes.len());
    if len == 0 {
        // Also where `start` may be the end of `bytes`, past the last eight.
        return 0;
    }
    let word = if let Some(chunk) = bytes.get(start..start + HEAD_BYTES) {
        u64::from_le_bytes(chunk.try_into().expect("eight bytes"))
    } else if let Some(last) = bytes.last_chunk::<HEAD_BYTES>() {
        u64::from_le_bytes(*last) >> (8 * (start - (bytes.len() - HEAD_BYTES)))
    } else {
        return head(&bytes[start..start + len]);
    };
    if len >= HEAD_BYTES {
        word
    } else {
        word & ((1u64 << (8 * len)) - 1)
    }
}

/// The bytes [`head`] holds.
pub(super) const HEAD_BYTES: usize = 8;

/// The first [`HEAD_BYTES`] bytes of `text` as one little-endian integer, zeros past its end:
/// with the length, it tells apart any two texts of up to eight bytes, and most longer ones, in
/// one comparison.
#[inline]
pub(super) fn head(text: &[u8]) -> u64 {
    let len = text.len();
    if let Some(first) = text.first_chunk::<HEAD_BYTES>() {
        return u64::from_le_bytes(*first);
    }
    // Shorter: two reads that overlap (their common bytes land on the same bits), rather than
    // a byte loop.
    if let (Some(low), Some(high)) = (text.first_chunk::<4>(), text.last_chunk::<4>()) {
        let (low, high) = (u32::from_le_bytes(*low), u32::from_le_bytes(*high));
        return low as u64 | (high as u64) << (8 * (len - 4));
    }
    match text {
        [] => 0,
        [first, ..] => {
            let (middle, last) = (text[len / 2] as u64, text[len - 1] as u64);
            *first as u64 | middle << (8 * (len / 2)) | last << (8 * (len - 1))
        }
    }
}

/// Eight bytes of one.
const ONES: u64 = u64::from_ne_bytes([1; 8]);

/// The high bit of each byte of `word` equal to `byte` set, and perhaps of some bytes after
/// one that is (a borrow runs up): the lowest bit set is always exact.
#[inline]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * byte as u64);
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// The first `/` or `%` of `bytes` at or after `from`, or `bytes.len()`. Eight bytes at a time
/// (a word read little-endian, so the lowest bit set is the first byte found): a byte loop
/// with two comparisons per byte was a fifth of a lookup.
#[inline]
fn next_separator_or_escape(bytes: &[u8], from: usize) -> usize {
    let found = |word: u64| bytes_equal(word, b'/') | bytes_equal(word, b'%');
    let mut at = from;
    // Bounded: eight bytes a turn, up to the path's end.
    while let Some(chunk) = bytes.get(at..at + 8) {
        let hits = found(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        if hits != 0 {
            return at + (hits.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    if at >= bytes.len() {
        return bytes.len();
    }
    if let Some(last) = bytes.last_chunk::<8>() {
        // The last eight bytes, those before `at` shifted out (zeros come in, matching neither).
        let skipped = at - (bytes.len() - 8);
        let hits = found(u64::from_le_bytes(*last) >> (8 * skipped));
        return if hits != 0 {
            at + (hits.trailing_zeros() / 8) as usize
        } else {
            bytes.len()
        };
    }
    // A path under eight bytes.
    bytes[at..]
        .iter()
        .position(|&b| b == b'/' || b == b'%')
        .map_or(bytes.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::super::pattern::MAX_SEGMENTS;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// The segments of `path` as a walk through every one of them scans them.
    fn split(path: &str) -> Vec<(&str, bool)> {
        let mut parts = Vec::new();
        let mut start = 1;
        while start <= path.len() && parts.len() <= MAX_SEGMENTS {
            let segment = scan_segment(path.as_bytes(), start);
            parts.push((&path[start..segment.end], segment.escaped));
            start = segment.end + 1;
        }
        parts
    }

    #[test]
    fn splits_on_every_slash() {
        let texts = |path| split(path).into_iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(texts("/"), [""]);
        assert_eq!(texts("/a"), ["a"]);
        assert_eq!(texts("/a/"), ["a", ""]);
        assert_eq!(texts("/a//b"), ["a", "", "b"]);
        assert_eq!(
            split("/a/b%2Fc/d%"),
            [("a", false), ("b%2Fc", true), ("d%", true)]
        );
    }

    proptest! {
        /// Reading the head from the path around a segment gives the segment's own head,
        /// wherever the segment lies and however long the path is.
        #[test]
        fn head_at_is_the_segments_head(
            bytes in proptest::collection::vec(any::<u8>(), 0..24),
            start in 0usize..24,
            len in 0usize..24,
        ) {
            let start = start.min(bytes.len());
            let len = len.min(bytes.len() - start);
            prop_assert_eq!(head_at(&bytes, start, len), head(&bytes[start..start + len]));
        }

        /// The head is the bytes in order, little-endian, zeros past the end, however short.
        #[test]
        fn head_is_the_first_bytes(text in proptest::collection::vec(any::<u8>(), 0..12)) {
            let mut expected = [0u8; HEAD_BYTES];
            let n = text.len().min(HEAD_BYTES);
            expected[..n].copy_from_slice(&text[..n]);
            prop_assert_eq!(head(&text), u64::from_le_bytes(expected));
        }

        /// The segments are `str::split`'s, and one is escaped exactly when it holds a `%`.
        #[test]
        fn as_str_split(path in "/[a-c/%]{0,40}") {
            let expected: Vec<(&str, bool)> = path[1..]
                .split('/')
                .map(|s| (s, s.contains('%')))
                .take(MAX_SEGMENTS + 1)
                .collect();
            prop_assert_eq!(split(&path), expected);
        }

        /// The word-at-a-time search finds what a byte loop does, from anywhere, whatever the
        /// bytes (those with the high bit set included).
        #[test]
        fn separator_search_as_a_byte_loop(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'/'), Just(b'%'), any::<u8>()],
                0..40,
            ),
            from in 0usize..41,
        ) {
            let from = from.min(bytes.len());
            let expected = bytes[from..]
                .iter()
                .position(|&b| b == b'/' || b == b'%')
                .map_or(bytes.len(), |i| from + i);
            prop_assert_eq!(next_separator_or_escape(&bytes, from), expected);
        }
    }
}
