//! Byte classes of RFC 9110/9112/3986 and the scanners built on them.
//!
//! The scanners are the parser's hot loops. On x86_64 they look at 16 bytes per step with
//! SSE2, which every x86_64 CPU has, so no runtime detection is needed and the core stays
//! `no_std`; elsewhere they fall back to a table lookup per byte. Both paths return the same
//! index for every input (a test checks this).

/// `tchar` of RFC 9110 §5.6.2: the bytes of a token (methods, field names, codings).
pub(crate) const TOKEN: [bool; 256] = byte_class(b"!#$%&'*+-.^_`|~", true);

/// The bytes RFC 3986 allows in a request target: unreserved, reserved and `%`, except `#`
/// (a fragment is never sent, RFC 9112 §3.2).
pub(crate) const TARGET: [bool; 256] = byte_class(b"-._~:/?[]@!$&'()*+,;=%", true);

/// The bytes of a Host value: RFC 3986 reg-name, IP-literal and port.
pub(crate) const HOST: [bool; 256] = byte_class(b"-._~!$&'()*+,;=%:[]", true);

const fn byte_class(extra: &[u8], alnum: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    // Bounded: counted over extra (a const fn has no `for`).
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    let mut b = 0;
    // Bounded: counted, b < 256.
    while b < 256 {
        let c = b as u8;
        if alnum && c.is_ascii_alphanumeric() {
            table[b] = true;
        }
        b += 1;
    }
    table
}

/// Whether `b` may appear in a field value (RFC 9110 §5.5): VCHAR, obs-text, SP, HTAB.
#[inline]
pub(crate) const fn is_field_byte(b: u8) -> bool {
    (b >= 0x20 && b != 0x7f) || b == b'\t'
}

/// Index of the first byte at or after `from` that is not a token byte, or `buf.len()`.
#[inline]
pub(crate) fn scan_token(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_token(buf, from);
    scalar_scan(buf, i, |b| TOKEN[b as usize])
}

/// Index of the first byte at or after `from` that is not a [`TARGET`] byte, or `buf.len()`.
#[inline]
pub(crate) fn scan_target(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_target(buf, from);
    scalar_scan(buf, i, |b| TARGET[b as usize])
}

/// Like [`scan_target`], but also stops at `?`: finds where a path ends.
#[inline]
pub(crate) fn scan_path(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_path(buf, from);
    scalar_scan(buf, i, |b| TARGET[b as usize] && b != b'?')
}

/// Index of the first byte at or after `from` that is a control character (including HTAB,
/// which the caller handles) or DEL, or `buf.len()`.
#[inline]
pub(crate) fn scan_field_value(buf: &[u8], from: usize) -> usize {
    let mut i = simd::skip_field_value(buf, from);
    // The last field value of a head usually lies within 16 bytes of the end of what has been
    // received, past the reach of a 16-byte load: finish it eight bytes at a time.
    if i + 16 > buf.len() && i + 8 <= buf.len() {
        let word = u64::from_le_bytes(buf[i..i + 8].try_into().unwrap());
        let stops = field_value_stops(word);
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    scalar_scan(buf, i, |b| b >= 0x20 && b != 0x7f)
}

/// High bit of each byte of `word` (little-endian) that is below 0x20 or is 0x7F. Bits above
/// the lowest one may be spurious (borrows propagate upwards), but the lowest set bit marks
/// exactly the first such byte, which is all a scan needs.
#[inline]
fn field_value_stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_20 = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let del = word ^ (ONES * 0x7f);
    let is_del = del.wrapping_sub(ONES) & !del & HIGHS;
    below_20 | is_del
}

#[inline]
fn scalar_scan(buf: &[u8], from: usize, allowed: impl Fn(u8) -> bool) -> usize {
    buf[from..]
        .iter()
        .position(|&b| !allowed(b))
        .map_or(buf.len(), |p| from + p)
}

#[cfg(target_arch = "x86_64")]
mod simd {
    //! SSE2 versions: each returns an index at or before the first disallowed byte, having
    //! skipped whole 16-byte blocks of allowed bytes; the scalar loop finishes the tail.
    use core::arch::x86_64::*;

    const LANES: usize = 16;

    /// Bit i set when byte i of the block is not a target byte.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn target_mask(x: __m128i) -> u32 {
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        // 0x21..=0x7E, via unsigned compares (max(x, lo) == x  <=>  x >= lo).
        let ge_21 = _mm_cmpeq_epi8(_mm_max_epu8(x, splat(0x21)), x);
        let ge_7f = _mm_cmpeq_epi8(_mm_max_epu8(x, splat(0x7f)), x);
        // `"` 0x22 and `#` 0x23 differ in bit 0; `<` 0x3C and `>` 0x3E, `\` 0x5C and `^`
        // 0x5E in bit 1.
        let quote_hash = _mm_cmpeq_epi8(_mm_or_si128(x, splat(1)), splat(0x23));
        let angle = _mm_cmpeq_epi8(_mm_or_si128(x, splat(2)), splat(0x3e));
        let slash_caret = _mm_cmpeq_epi8(_mm_or_si128(x, splat(2)), splat(0x5e));
        let backtick = _mm_cmpeq_epi8(x, splat(0x60));
        // `{` `|` `}` are 0x7B..=0x7D.
        let ge_7b = _mm_cmpeq_epi8(_mm_max_epu8(x, splat(0x7b)), x);
        let tilde = _mm_cmpeq_epi8(x, splat(0x7e));
        let braces = _mm_andnot_si128(ge_7f, _mm_andnot_si128(tilde, ge_7b));
        let bad = _mm_or_si128(
            _mm_or_si128(
                _mm_or_si128(quote_hash, angle),
                _mm_or_si128(slash_caret, backtick),
            ),
            _mm_or_si128(braces, ge_7f),
        );
        let good = _mm_andnot_si128(bad, ge_21);
        !(_mm_movemask_epi8(good) as u32) & 0xffff
    }

    /// Bit i set when byte i of the block is not a token byte (RFC 9110 §5.6.2): outside
    /// 0x21..=0x7E, or one of the delimiters `"(),/:;<=>?@[\]{}`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn token_mask(x: __m128i) -> u32 {
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        let ge = |lo: u8| _mm_cmpeq_epi8(_mm_max_epu8(x, splat(lo)), x);
        let eq = |b: u8| _mm_cmpeq_epi8(x, splat(b));
        let in_range = |lo: u8, hi: u8| _mm_andnot_si128(ge(hi + 1), ge(lo));
        // `(` 0x28 and `)` 0x29 differ only in bit 0.
        let parens = _mm_cmpeq_epi8(_mm_or_si128(x, splat(1)), splat(0x29));
        let delimiters = _mm_or_si128(
            _mm_or_si128(
                _mm_or_si128(eq(b'"'), parens),
                _mm_or_si128(eq(b','), eq(b'/')),
            ),
            _mm_or_si128(
                _mm_or_si128(in_range(b':', b'@'), in_range(b'[', b']')),
                _mm_or_si128(eq(b'{'), eq(b'}')),
            ),
        );
        let visible = _mm_andnot_si128(ge(0x7f), ge(0x21));
        let good = _mm_andnot_si128(delimiters, visible);
        !(_mm_movemask_epi8(good) as u32) & 0xffff
    }

    /// Bit i set when byte i of the block is not a target byte or is `?`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn path_mask(x: __m128i) -> u32 {
        let question = _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b'?' as i8))) as u32;
        target_mask(x) | question
    }

    /// Bit i set when byte i of the block is a control character or DEL.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn field_value_mask(x: __m128i) -> u32 {
        let ge_20 = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x20)), x);
        let del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
        let good = _mm_andnot_si128(del, ge_20);
        !(_mm_movemask_epi8(good) as u32) & 0xffff
    }

    macro_rules! skip_blocks {
        ($buf:expr, $from:expr, $mask:ident) => {{
            let (buf, mut i) = ($buf, $from);
            // Bounded: counted, LANES bytes a step.
            while i + LANES <= buf.len() {
                // SAFETY: `i + 16 <= buf.len()`: the unaligned 16-byte load stays inside `buf`.
                let x = unsafe { _mm_loadu_si128(buf.as_ptr().add(i) as *const __m128i) };
                let m = $mask(x);
                if m != 0 {
                    return i + m.trailing_zeros() as usize;
                }
                i += LANES;
            }
            i
        }};
    }

    #[target_feature(enable = "sse2")]
    fn skip_target_sse2(buf: &[u8], from: usize) -> usize {
        skip_blocks!(buf, from, target_mask)
    }

    #[target_feature(enable = "sse2")]
    fn skip_token_sse2(buf: &[u8], from: usize) -> usize {
        skip_blocks!(buf, from, token_mask)
    }

    #[target_feature(enable = "sse2")]
    fn skip_path_sse2(buf: &[u8], from: usize) -> usize {
        skip_blocks!(buf, from, path_mask)
    }

    #[target_feature(enable = "sse2")]
    fn skip_field_value_sse2(buf: &[u8], from: usize) -> usize {
        skip_blocks!(buf, from, field_value_mask)
    }

    #[inline]
    pub(super) fn skip_target(buf: &[u8], from: usize) -> usize {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        unsafe { skip_target_sse2(buf, from) }
    }

    #[inline]
    pub(super) fn skip_token(buf: &[u8], from: usize) -> usize {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        unsafe { skip_token_sse2(buf, from) }
    }

    #[inline]
    pub(super) fn skip_path(buf: &[u8], from: usize) -> usize {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        unsafe { skip_path_sse2(buf, from) }
    }

    #[inline]
    pub(super) fn skip_field_value(buf: &[u8], from: usize) -> usize {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        unsafe { skip_field_value_sse2(buf, from) }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    #[inline]
    pub(super) fn skip_target(_buf: &[u8], from: usize) -> usize {
        from
    }

    #[inline]
    pub(super) fn skip_token(_buf: &[u8], from: usize) -> usize {
        from
    }

    #[inline]
    pub(super) fn skip_path(_buf: &[u8], from: usize) -> usize {
        from
    }

    #[inline]
    pub(super) fn skip_field_value(_buf: &[u8], from: usize) -> usize {
        from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9110 §5.6.2: tchar.
    #[test]
    fn token_class() {
        for b in 0u8..=255 {
            let expected = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(TOKEN[b as usize], expected, "byte {b:#x}");
        }
    }

    /// The SIMD and scalar scanners agree on every byte value at every position of a block.
    #[test]
    fn simd_matches_scalar() {
        for b in 0u8..=255 {
            for pos in 0..40 {
                let mut buf = [b'a'; 40];
                buf[pos] = b;
                let scalar_target = scalar_scan(&buf, 0, |c| TARGET[c as usize]);
                assert_eq!(
                    scan_target(&buf, 0),
                    scalar_target,
                    "target byte {b:#x} at {pos}"
                );
                let scalar_token = scalar_scan(&buf, 0, |c| TOKEN[c as usize]);
                assert_eq!(
                    scan_token(&buf, 0),
                    scalar_token,
                    "token byte {b:#x} at {pos}"
                );
                let scalar_path = scalar_scan(&buf, 0, |c| TARGET[c as usize] && c != b'?');
                assert_eq!(scan_path(&buf, 0), scalar_path, "path byte {b:#x} at {pos}");
                let scalar_value = scalar_scan(&buf, 0, |c| c >= 0x20 && c != 0x7f);
                assert_eq!(
                    scan_field_value(&buf, 0),
                    scalar_value,
                    "value byte {b:#x} at {pos}"
                );
            }
        }
    }

    /// RFC 3986 §2: the characters a URI may hold; everything else stops the scan.
    #[test]
    fn target_class() {
        for b in b"\"#<>\\^`{|} \x7f\x80\xff\x00\t" {
            assert!(
                !TARGET[*b as usize],
                "byte {b:#x} must not be a target byte"
            );
        }
        for b in b"azAZ09-._~:/?[]@!$&'()*+,;=%" {
            assert!(TARGET[*b as usize]);
        }
    }
}
