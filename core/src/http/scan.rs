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
#[inline(always)]
pub(crate) fn scan_token(buf: &[u8], from: usize) -> usize {
    // Methods and field names are nearly always letters, digits and `-`, which a cheaper SIMD
    // test covers (callgrind: about 20 instructions a block against 45 for the full class);
    // the full test runs only from a byte outside that subset that is still a token byte.
    let i = skip_common_token(buf, from);
    match buf.get(i) {
        Some(&b) if TOKEN[b as usize] => scan_token_rest(buf, i),
        _ => i,
    }
}

/// An index `i` such that every byte of `from..i` is a letter, digit or `-`, the common token
/// bytes: with SIMD and a buffer of a block or more, the first byte that is not one (or the
/// end); otherwise possibly less, down to `from`. So a non-token byte at `i` ends the token.
#[inline(always)]
pub(crate) fn skip_common_token(buf: &[u8], from: usize) -> usize {
    simd::skip_alnum_dash(buf, from)
}

/// Reads the first 16 bytes of the field line at `start` at once. `Some((name, stop))` when
/// the name is letters, digits and `-` ending at a colon among those bytes (the colon is at
/// `start + name.len()`); `stop` is the first control byte or DEL after the colon among them,
/// `None` if there is none there and the value goes on past `start + 16`. `None` otherwise
/// (another byte in the name, no colon there, fewer than 16 bytes left, no SIMD): the caller
/// takes the general way. The same answers as a token scan and a value scan from the colon,
/// with one load instead of two (callgrind: about 15 instructions a line less).
#[inline(always)]
pub(crate) fn field_line_block(buf: &[u8], start: usize) -> Option<(&[u8], Option<usize>)> {
    simd::field_line_block(buf, start)
}

/// [`scan_token`] on from a token byte outside its common subset, or in a buffer shorter than
/// a block (without SIMD: every scan). Out of line, with the other rare continuations below:
/// inlined, their SIMD constants took registers from the common path's loops (callgrind: a
/// dozen constants reloaded for every field).
#[cfg_attr(target_arch = "x86_64", cold)]
#[inline(never)]
fn scan_token_rest(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_token(buf, from);
    finish_scan(buf, i, |b| TOKEN[b as usize])
}

/// Index of the first byte at or after `from` that is not a [`TARGET`] byte, or `buf.len()`.
#[inline]
pub(crate) fn scan_target(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_target(buf, from);
    finish_scan(buf, i, |b| TARGET[b as usize])
}

/// Like [`scan_target`], but also stops at `?`: finds where a path ends.
#[inline]
pub(crate) fn scan_path(buf: &[u8], from: usize) -> usize {
    // Paths are mostly letters, digits and `-./_`: a cheaper SIMD test first, as in
    // `scan_token` (callgrind: 4 blocks of a 62-byte path cost about 100 instructions less).
    let i = skip_common_path(buf, from);
    match buf.get(i) {
        Some(&b) if TARGET[b as usize] && b != b'?' => scan_path_rest(buf, i),
        _ => i,
    }
}

/// An index `i` such that every byte of `from..i` is a letter, digit or one of `-./_`, the
/// common path bytes: with SIMD and a buffer of a block or more, the first byte that is not
/// one (or the end); otherwise possibly less, down to `from`. So a space at `i` ends the path.
#[inline(always)]
pub(crate) fn skip_common_path(buf: &[u8], from: usize) -> usize {
    simd::skip_plain_path(buf, from)
}

/// [`scan_path`] on from a path byte outside its common subset, or in a short buffer.
#[cfg_attr(target_arch = "x86_64", cold)]
#[inline(never)]
fn scan_path_rest(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_path(buf, from);
    finish_scan(buf, i, |b| TARGET[b as usize] && b != b'?')
}

/// Whether every byte of `buf[start..end]` is a [`HOST`] byte.
#[inline(always)]
pub(crate) fn is_host(buf: &[u8], start: usize, end: usize) -> bool {
    simd::all_plain_host(buf, start, end) || scan_host(&buf[..end], start) >= end
}

/// Index of the first byte at or after `from` that is not a [`HOST`] byte, or `buf.len()`.
#[inline(always)]
pub(crate) fn scan_host(buf: &[u8], from: usize) -> usize {
    // Host names and IPv4 addresses with a port are letters, digits and `-.:`; anything else
    // (an IPv6 literal, a percent-encoded name) is rare enough for a byte at a time.
    let i = simd::skip_plain_host(buf, from);
    match buf.get(i) {
        Some(&b) if HOST[b as usize] => scan_host_rest(buf, i),
        _ => i,
    }
}

/// [`scan_host`] on from a host byte outside its common subset, or in a short buffer.
#[cfg_attr(target_arch = "x86_64", cold)]
#[inline(never)]
fn scan_host_rest(buf: &[u8], from: usize) -> usize {
    scalar_scan(buf, from, |b| HOST[b as usize])
}

/// Index of the first byte at or after `from` that is a control character (including HTAB,
/// which the caller handles) or DEL, or `buf.len()`; never less than `from` (the parser's
/// unchecked slice of a field value relies on it).
#[inline(always)]
pub(crate) fn scan_field_value(buf: &[u8], from: usize) -> usize {
    let i = simd::skip_field_value(buf, from);
    if buf.len() >= simd::EXACT_FROM {
        return i;
    }
    scan_field_value_short(buf, i)
}

/// [`scan_field_value`] in a buffer shorter than a block (without SIMD: every scan).
#[cfg_attr(target_arch = "x86_64", cold)]
#[inline(never)]
fn scan_field_value_short(buf: &[u8], from: usize) -> usize {
    scalar_scan(buf, from, |b| b >= 0x20 && b != 0x7f)
}

/// Where a scan ends that the SIMD skip brought to `i`: there, if the skip was exact.
#[inline(always)]
fn finish_scan(buf: &[u8], i: usize, allowed: impl Fn(u8) -> bool) -> usize {
    if buf.len() >= simd::EXACT_FROM {
        return i;
    }
    scalar_scan(buf, i, allowed)
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
    //! SSE2 versions: each returns an index `i` such that every byte of `from..i` is allowed,
    //! exact (the first disallowed byte, or the end) when the buffer holds at least one
    //! 16-byte block; the caller's scalar loop finishes a shorter buffer.
    use core::arch::x86_64::*;

    const LANES: usize = 16;

    /// From this buffer length on, the skips return the exact answer.
    pub(super) const EXACT_FROM: usize = LANES;

    #[inline]
    #[target_feature(enable = "sse2")]
    fn splat(b: u8) -> __m128i {
        _mm_set1_epi8(b as i8)
    }

    /// Lanes whose byte lies in `lo..=hi`. SSE2 compares bytes as signed only: adding
    /// `0x80 - lo` moves `lo` to -128, so the range becomes "less than -128 + its size", one
    /// add and one compare.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn in_range(x: __m128i, lo: u8, hi: u8) -> __m128i {
        let shifted = _mm_add_epi8(x, splat(0x80u8.wrapping_sub(lo)));
        _mm_cmplt_epi8(shifted, splat(0x80u8.wrapping_add(hi - lo + 1)))
    }

    /// Lanes holding an ASCII letter of either case: setting bit 5 maps `A..=Z` (and only
    /// them) onto `a..=z`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn letters(x: __m128i) -> __m128i {
        in_range(_mm_or_si128(x, splat(0x20)), b'a', b'z')
    }

    /// Bit i set when byte i of the block is not selected by `good`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn stops(good: __m128i) -> u32 {
        !(_mm_movemask_epi8(good) as u32) & 0xffff
    }

    /// Bit i set when byte i of the block is not a letter, digit or `-`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn alnum_dash_mask(x: __m128i) -> u32 {
        let digits = in_range(x, b'0', b'9');
        let dash = _mm_cmpeq_epi8(x, splat(b'-'));
        stops(_mm_or_si128(_mm_or_si128(letters(x), digits), dash))
    }

    /// Bit i set when byte i of the block is not a letter, digit or one of `-./_`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn plain_path_mask(x: __m128i) -> u32 {
        // `-` `.` `/` and the digits are 0x2D..=0x39.
        let punct_digits = in_range(x, b'-', b'9');
        let underscore = _mm_cmpeq_epi8(x, splat(b'_'));
        stops(_mm_or_si128(
            _mm_or_si128(letters(x), punct_digits),
            underscore,
        ))
    }

    /// Bit i set when byte i of the block is not a letter, digit or one of `-.:`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn plain_host_mask(x: __m128i) -> u32 {
        // The digits and `:` are 0x30..=0x3A; `-` and `.` are 0x2D and 0x2E.
        let digits_colon = in_range(x, b'0', b':');
        let dash_dot = in_range(x, b'-', b'.');
        stops(_mm_or_si128(
            _mm_or_si128(letters(x), digits_colon),
            dash_dot,
        ))
    }

    /// Bit i set when byte i of the block is not a target byte.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn target_mask(x: __m128i) -> u32 {
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
        stops(_mm_andnot_si128(bad, ge_21))
    }

    /// Bit i set when byte i of the block is not a token byte (RFC 9110 §5.6.2): outside
    /// 0x21..=0x7E, or one of the delimiters `"(),/:;<=>?@[\]{}`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn token_mask(x: __m128i) -> u32 {
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
        stops(_mm_andnot_si128(delimiters, visible))
    }

    /// Bit i set when byte i of the block is not a target byte or is `?`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn path_mask(x: __m128i) -> u32 {
        let question = _mm_movemask_epi8(_mm_cmpeq_epi8(x, splat(b'?'))) as u32;
        target_mask(x) | question
    }

    /// Bit i set when byte i of the block is a control character or DEL.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn field_value_mask(x: __m128i) -> u32 {
        let ge_20 = _mm_cmpeq_epi8(_mm_max_epu8(x, splat(0x20)), x);
        let del = _mm_cmpeq_epi8(x, splat(0x7f));
        stops(_mm_andnot_si128(del, ge_20))
    }

    /// The 16 bytes at `buf[at..]`.
    #[inline(always)]
    fn load(buf: &[u8], at: usize) -> __m128i {
        assert!(at + LANES <= buf.len());
        // SAFETY: `at + 16 <= buf.len()` (asserted, and known to the optimizer at every call
        // site, which removes the check): the unaligned 16-byte load stays inside `buf`.
        unsafe { _mm_loadu_si128(buf.as_ptr().add(at) as *const __m128i) }
    }

    /// Skips the bytes of `buf[from..]` whose bit `mask` leaves clear: a block at a time,
    /// then the last, partial block as the one ending at the buffer's end.
    ///
    /// Not `#[target_feature]` (whose functions cannot be `inline(always)`), so that every
    /// scan inlines into its caller: the masks are, and inline into it in turn.
    #[inline(always)]
    fn skip(buf: &[u8], from: usize, mask: impl Fn(__m128i) -> u32) -> usize {
        let mut i = from;
        // The first two blocks before the loop: most scans (names, short values, paths) end
        // in them, and end cheaper there than in the loop (callgrind, the browser request: 70
        // instructions less; one block or three before the loop, 30 and 55 less).
        for _ in 0..2 {
            if i + LANES <= buf.len() {
                let m = mask(load(buf, i));
                if m != 0 {
                    return i + m.trailing_zeros() as usize;
                }
                i += LANES;
            }
        }
        // Bounded: counted, LANES bytes a step.
        while i + LANES <= buf.len() {
            let m = mask(load(buf, i));
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += LANES;
        }
        // Fewer than 16 bytes left (the last field value of a head nearly always ends there):
        // the block that ends at the buffer's end, with the bits of the bytes already checked
        // shifted out, instead of a scalar loop over the rest.
        let i = opaque(i);
        if i < buf.len() && buf.len() >= LANES {
            let last = buf.len() - LANES;
            let m = mask(load(buf, last)) >> (i - last);
            return if m != 0 {
                i + m.trailing_zeros() as usize
            } else {
                buf.len()
            };
        }
        i
    }

    /// `i`, hidden from the optimizer. Between a scan's loop and its last block: seeing the
    /// last block's uses of the loop's index, LLVM kept five induction variables in every
    /// scan loop instead of one (callgrind: 18 instructions a block instead of 13; the last
    /// block out of line instead cost a call and a dozen reloaded constants per scan).
    #[inline(always)]
    fn opaque(mut i: usize) -> usize {
        // SAFETY: the template is an assembler comment: it executes nothing, reads and writes
        // no memory, and leaves `i` as it is.
        unsafe {
            core::arch::asm!("/* {0} */", inout(reg) i, options(pure, nomem, nostack, preserves_flags));
        }
        i
    }

    /// See [`super::field_line_block`].
    #[inline(always)]
    pub(super) fn field_line_block(buf: &[u8], start: usize) -> Option<(&[u8], Option<usize>)> {
        let block = buf.get(start..start + LANES)?;
        let x = load(block, 0);
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        let (name_stops, value_stops) = unsafe { (alnum_dash_mask(x), field_value_mask(x)) };
        // The name ends at the first byte that is not a letter, digit or `-`: it must be a
        // colon, and not the line's first byte.
        let colon = name_stops.trailing_zeros() as usize;
        if !(1..LANES).contains(&colon) || block[colon] != b':' {
            return None;
        }
        // `colon < 16`: the bits past it are the value's first bytes in the block.
        let after = value_stops >> colon >> 1;
        let stop = (after != 0).then(|| start + colon + 1 + after.trailing_zeros() as usize);
        Some((&block[..colon], stop))
    }

    /// Whether `buf[start..end]` is at most a block of letters, digits and `-.:` ending at
    /// least a block into `buf`: then one load, the block that ends at `end`, checks it
    /// (callgrind: about 25 instructions less than a scan for a short Host value).
    #[inline(always)]
    pub(super) fn all_plain_host(buf: &[u8], start: usize, end: usize) -> bool {
        if !(start <= end && end - start <= LANES && LANES <= end && end <= buf.len()) {
            return false;
        }
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        let m = unsafe { plain_host_mask(load(buf, end - LANES)) };
        // The value's bytes are the block's last `end - start`; a value of 0 bytes shifts by
        // 16, which a u32 allows.
        m >> (LANES - (end - start)) == 0
    }

    macro_rules! skip_fns {
        ($($name:ident, $mask:ident;)*) => {$(
            #[inline(always)]
            pub(super) fn $name(buf: &[u8], from: usize) -> usize {
                // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
                skip(buf, from, |x| unsafe { $mask(x) })
            }
        )*};
    }

    skip_fns! {
        skip_alnum_dash, alnum_dash_mask;
        skip_plain_path, plain_path_mask;
        skip_plain_host, plain_host_mask;
        skip_target, target_mask;
        skip_token, token_mask;
        skip_path, path_mask;
        skip_field_value, field_value_mask;
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    //! Without SIMD every scanner is the caller's scalar loop: these skip nothing.

    /// Never sure without SIMD: the caller scans.
    #[inline]
    pub(super) fn field_line_block(_buf: &[u8], _start: usize) -> Option<(&[u8], Option<usize>)> {
        None
    }

    /// Never sure without SIMD: the caller scans.
    #[inline]
    pub(super) fn all_plain_host(_buf: &[u8], _start: usize, _end: usize) -> bool {
        false
    }

    /// The skips are never exact.
    pub(super) const EXACT_FROM: usize = usize::MAX;

    macro_rules! skip_nothing {
        ($($name:ident),*) => {$(
            #[inline]
            pub(super) fn $name(_buf: &[u8], from: usize) -> usize {
                from
            }
        )*};
    }

    skip_nothing!(
        skip_alnum_dash,
        skip_plain_path,
        skip_plain_host,
        skip_target,
        skip_token,
        skip_path,
        skip_field_value
    );
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

    /// The SIMD and scalar scanners agree on every byte value at every position, in buffers
    /// shorter than a block, of whole blocks and with a partial last block, from several
    /// starting points, among fillers inside and outside the scanners' common subsets.
    #[test]
    fn simd_matches_scalar() {
        for filler in [b'a', b'_', b'%', b'7', b'.'] {
            for len in [1, 8, 15, 16, 17, 31, 32, 40] {
                for b in 0u8..=255 {
                    for pos in 0..len {
                        let mut buf = [filler; 40];
                        buf[pos] = b;
                        let buf = &buf[..len];
                        for from in [0, 1, 3, 16, 17].into_iter().filter(|&f| f <= len) {
                            check_scanners(buf, from);
                        }
                    }
                }
            }
        }
    }

    /// `field_line_block` answers as a token scan and a value scan from the colon would, when
    /// it answers: every byte value at every position of field lines.
    #[test]
    fn field_line_block_matches_scans() {
        let line = b"Content-Type: a b\tc\r\nX:\r\nHost: h\r\n\r\nGET ";
        for len in [16, 17, 20, 30, line.len()] {
            for pos in 0..len {
                for b in 0u8..=255 {
                    let mut buf = *line;
                    buf[pos] = b;
                    let buf = &buf[..len];
                    for from in 0..len {
                        let Some((name, stop)) = field_line_block(buf, from) else {
                            continue;
                        };
                        let colon = from + name.len();
                        let ctx = || std::format!("{buf:?} from {from}");
                        assert!(colon > from && buf[colon] == b':', "{}", ctx());
                        assert_eq!(colon, scan_token(buf, from), "{}", ctx());
                        let value_end = scan_field_value(buf, colon + 1);
                        match stop {
                            Some(stop) => assert!(stop == value_end && stop < from + 16),
                            None => assert_eq!(scan_field_value(buf, from + 16), value_end),
                        }
                    }
                }
            }
        }
    }

    fn check_scanners(buf: &[u8], from: usize) {
        let ctx = || std::format!("{buf:?} from {from}");
        let scalar = |allowed: fn(u8) -> bool| scalar_scan(buf, from, allowed);
        assert_eq!(
            scan_target(buf, from),
            scalar(|c| TARGET[c as usize]),
            "target {}",
            ctx()
        );
        assert_eq!(
            scan_token(buf, from),
            scalar(|c| TOKEN[c as usize]),
            "token {}",
            ctx()
        );
        assert_eq!(
            scan_path(buf, from),
            scalar(|c| TARGET[c as usize] && c != b'?'),
            "path {}",
            ctx()
        );
        assert_eq!(
            scan_host(buf, from),
            scalar(|c| HOST[c as usize]),
            "host {}",
            ctx()
        );
        for end in [
            from,
            from + 1,
            from + 15,
            from + 16,
            buf.len() - 1,
            buf.len(),
        ] {
            if !(from..=buf.len()).contains(&end) {
                continue;
            }
            assert_eq!(
                is_host(buf, from, end),
                buf[from..end].iter().all(|&c| HOST[c as usize]),
                "is_host to {end} {}",
                ctx()
            );
        }
        assert_eq!(
            scan_field_value(buf, from),
            scalar(|c| c >= 0x20 && c != 0x7f),
            "value {}",
            ctx()
        );
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
