//! Masking (RFC 6455 §5.3): payload byte `i` is XORed with key byte `i mod 4`. Masking and
//! unmasking are the same operation.

/// XORs `payload` with `key` in place, as the bytes at positions `offset..offset +
/// payload.len()` of a frame's payload: a payload that arrives in pieces is unmasked piece by
/// piece by passing, each time, how many of its bytes came before.
///
/// The bytes at 8-byte-aligned addresses are done a `u64` at a time, the few before and after
/// them one at a time; the result is the byte-at-a-time definition of RFC 6455 §5.3.
pub fn apply_mask(payload: &mut [u8], key: [u8; 4], offset: u64) {
    let (head, words, tail) = bytemuck::pod_align_to_mut::<u8, u64>(payload);
    apply_bytes(head, key, offset);
    let words_offset = offset.wrapping_add(head.len() as u64);
    let phase = (words_offset % 4) as usize;
    let mut pattern = [0u8; 8];
    for (i, byte) in pattern.iter_mut().enumerate() {
        *byte = key[(phase + i) % 4];
    }
    // Native byte order: the word's bytes in memory are `pattern` in order, whatever the
    // machine's endianness.
    let pattern = u64::from_ne_bytes(pattern);
    for word in words.iter_mut() {
        *word ^= pattern;
    }
    let tail_offset = words_offset.wrapping_add(8 * words.len() as u64);
    apply_bytes(tail, key, tail_offset);
}

/// The definition: one byte at a time.
fn apply_bytes(bytes: &mut [u8], key: [u8; 4], offset: u64) {
    let phase = (offset % 4) as usize;
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte ^= key[(phase + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// RFC 6455 §5.7: the masked "Hello" example.
    #[test]
    fn rfc_example() {
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    proptest! {
        /// RFC 6455 §5.3: `transformed-octet-i = original-octet-i XOR masking-key-octet-j`,
        /// `j = i MOD 4`, whatever the alignment of the buffer and however the payload is split.
        #[test]
        fn equals_the_definition_split_anywhere(
            payload in proptest::collection::vec(any::<u8>(), 0..200),
            key in any::<[u8; 4]>(),
            shift in 0usize..8,
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            // An offset into a larger buffer, so that every alignment is tried.
            let mut buffer = vec![0u8; shift];
            buffer.extend_from_slice(&payload);
            let data = &mut buffer[shift..];
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(payload.len() + 1)).collect();
            cuts.push(0);
            cuts.push(payload.len());
            cuts.sort_unstable();
            for pair in cuts.windows(2) {
                apply_mask(&mut data[pair[0]..pair[1]], key, pair[0] as u64);
            }
            let expected: Vec<u8> =
                payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
            prop_assert_eq!(&buffer[shift..], &expected[..]);
        }
    }
}
