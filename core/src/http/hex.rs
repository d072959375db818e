//! Numbers written in lowercase hexadecimal: chunk sizes (RFC 9112 §7.1: `chunk-size =
//! 1*HEXDIG`, either case, leading zeros allowed) and entity tags. Reading hexadecimal needs
//! nothing of ours: `char::to_digit(16)` does it.

/// How many hexadecimal digits `n` needs: 1 to 16 (0 is written `0`).
#[inline]
pub(crate) const fn hex_len(n: u64) -> usize {
    let bits = (u64::BITS - n.leading_zeros()) as usize;
    if bits == 0 { 1 } else { bits.div_ceil(4) }
}

/// Writes `n` into all of `out` in lowercase hexadecimal, most significant digit first,
/// padded with leading zeros. `out` holds at least [`hex_len`]`(n)` bytes (asserted in debug
/// builds: a digit dropped would be a wrong chunk size).
#[inline]
pub(crate) const fn write_hex(mut n: u64, out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    debug_assert!(
        out.len() >= hex_len(n),
        "a hexadecimal digit would be dropped"
    );
    let mut i = out.len();
    // Bounded: counted down from out.len() (a const fn has no `for`).
    while i > 0 {
        i -= 1;
        out[i] = DIGITS[(n & 0xf) as usize];
        n >>= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9112 §7.1: chunk-size = 1*HEXDIG; what we write is what `u64::from_str_radix`
    /// (any HEXDIG reader) reads back, in the fewest digits.
    #[test]
    fn shortest_digits_read_back() {
        for n in [
            0,
            1,
            0xf,
            0x10,
            0x1a,
            0xfff,
            0x1000,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut buf = [0u8; 16];
            let digits = &mut buf[..hex_len(n)];
            write_hex(n, digits);
            let text = core::str::from_utf8(digits).unwrap();
            assert_eq!(u64::from_str_radix(text, 16), Ok(n), "{text}");
            assert!(n == 0 || !text.starts_with('0'), "{text}: a leading zero");
            assert!(!text.bytes().any(|b| b.is_ascii_uppercase()));
        }
    }

    /// The digit count at each boundary of a digit and one past it.
    #[test]
    fn lengths_at_digit_boundaries() {
        assert_eq!(hex_len(0), 1);
        for digits in 1..16 {
            let largest = (1u64 << (4 * digits)) - 1;
            assert_eq!(hex_len(largest), digits);
            assert_eq!(hex_len(largest + 1), digits + 1);
        }
        assert_eq!(hex_len(u64::MAX), 16);
    }

    /// A fixed width pads with leading zeros (RFC 9112 §7.1 allows them in a chunk size).
    #[test]
    fn fixed_width_pads_with_zeros() {
        let mut out = [b'x'; 6];
        write_hex(0x1a, &mut out);
        assert_eq!(&out, b"00001a");
        let mut out = [b'x'; 3];
        write_hex(0x1a2, &mut out);
        assert_eq!(&out, b"1a2", "exactly as wide as the number");
    }

    /// One digit short of the number is a caller's bug, caught rather than truncated.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "digit would be dropped")]
    fn too_narrow_is_refused() {
        write_hex(0x1a2, &mut [0u8; 2]);
    }
}
