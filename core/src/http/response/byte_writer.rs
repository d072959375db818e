//! [`ByteWriter`]: bytes appended to a fixed buffer, checked once at the end instead of at
//! every write, with an optional larger standby buffer to move to.

/// A writer into a fixed buffer. Once a write does not fit it stops writing, drops what it
/// held and remembers the overflow, so a sequence of writes is checked once at the end. It
/// can be given a larger *standby* buffer: on the first write that does not fit, everything
/// written so far moves there and writing continues (the server lends a pool buffer this way).
#[derive(Debug)]
pub struct ByteWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflowed: bool,
    standby: Option<&'a mut [u8]>,
    moved: bool,
}

impl<'a> ByteWriter<'a> {
    /// A writer over `buf`, empty.
    pub fn new(buf: &'a mut [u8]) -> ByteWriter<'a> {
        ByteWriter {
            buf,
            len: 0,
            overflowed: false,
            standby: None,
            moved: false,
        }
    }

    /// A writer over `buf` that moves to `standby` when `buf` is full.
    pub fn with_standby(buf: &'a mut [u8], standby: Option<&'a mut [u8]>) -> ByteWriter<'a> {
        ByteWriter {
            buf,
            len: 0,
            overflowed: false,
            standby,
            moved: false,
        }
    }

    /// Appends `data`, or records the overflow.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        if let Some(dst) = self.reserve(data.len()) {
            copy_bytes(dst, data);
        }
    }

    /// Appends `n` bytes and returns them for the caller to fill, or records the overflow.
    #[inline]
    pub fn reserve(&mut self, n: usize) -> Option<&mut [u8]> {
        if self.overflowed {
            return None;
        }
        let end = self.len + n;
        if end > self.buf.len() && !self.move_to_standby(end) {
            self.overflow();
            return None;
        }
        let start = self.len;
        self.len = end;
        Some(&mut self.buf[start..end])
    }

    /// The writer, leaving an empty one in its place, for [`ByteWriter::with_room`].
    #[inline]
    pub(crate) fn take(&mut self) -> ByteWriter<'a> {
        core::mem::replace(self, ByteWriter::new(&mut []))
    }

    /// This writer with [`ByteWriter::room`] for `n` more bytes: moved to the standby
    /// buffer if they do not fit here, overflowed (no room at all) if they fit nowhere.
    ///
    /// By value, where [`ByteWriter::reserve`] takes `&mut self`: the common case of a
    /// response's writes (a field, the framing and the body) is inlined into the handler and
    /// writes into the spare room directly; were its way to the standby a call given the
    /// writer's address, the compiler would keep the writer in memory and copy it at each
    /// step of the handler's `Reply` chain (callgrind, the bench's plaintext handler: 30
    /// instructions of copies).
    #[cold]
    pub(crate) fn with_room(mut self, n: usize) -> ByteWriter<'a> {
        let end = self.len + n;
        if !self.overflowed && end > self.buf.len() && !self.move_to_standby(end) {
            self.overflow();
        }
        self
    }

    /// Bytes that fit after what was written (0 once overflowed).
    #[inline]
    pub(crate) fn room(&self) -> usize {
        self.buf.len() - self.len
    }

    /// The next `n` bytes of the buffer, for a caller that writes there and then
    /// [`ByteWriter::commit`]s them, or `None` if they do not fit [`ByteWriter::room`]: the
    /// common case of a response's writes, without `reserve`'s way to the standby buffer.
    #[inline]
    pub(crate) fn spare(&mut self, n: usize) -> Option<&mut [u8]> {
        self.buf.get_mut(self.len..self.len + n)
    }

    /// Counts the `n` bytes written into [`ByteWriter::spare`] as written.
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        debug_assert!(n <= self.buf.len() - self.len);
        self.len += n;
    }

    /// Lends the unwritten rest of the buffer to `fill`, which writes at its start and
    /// returns how many bytes it wrote, or `None` when they did not fit (a serializer that
    /// writes into a slice: reserve and commit in one call). On `None`, what was written so
    /// far moves to the standby buffer, if there is one and it is larger, and `fill` runs once
    /// more on the larger rest; if that fails too the overflow is recorded, as for
    /// [`ByteWriter::write`]. Returns how many bytes were committed.
    pub fn write_with(
        &mut self,
        mut fill: impl FnMut(&mut [u8]) -> Option<usize>,
    ) -> Option<usize> {
        if self.overflowed {
            return None;
        }
        for _attempt in 0..2 {
            let start = self.len;
            if let Some(n) = fill(&mut self.buf[start..]) {
                assert!(n <= self.buf.len() - start, "fill wrote past its slice");
                self.len += n;
                return Some(n);
            }
            let larger = self
                .standby
                .as_deref()
                .is_some_and(|standby| standby.len() > self.buf.len());
            if !larger || !self.move_to_standby(self.buf.len() + 1) {
                break;
            }
        }
        self.overflow();
        None
    }

    /// Records the overflow and lets go of the buffer: an overflowed writer holds nothing
    /// (its length and capacity are 0), so no later write can fit and the fast path of
    /// `write_str` needs no test of its own.
    #[cold]
    fn overflow(&mut self) {
        self.overflowed = true;
        self.buf = &mut [];
        self.len = 0;
    }

    #[cold]
    fn move_to_standby(&mut self, needed: usize) -> bool {
        match self.standby.take() {
            Some(standby) if standby.len() >= needed => {
                standby[..self.len].copy_from_slice(&self.buf[..self.len]);
                self.buf = standby;
                self.moved = true;
                true
            }
            _ => false,
        }
    }

    /// Bytes written (0 once overflowed).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Size of the buffer being written (the standby's, once moved).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a write did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Whether the content moved to the standby buffer.
    pub fn moved(&self) -> bool {
        self.moved
    }

    /// The bytes written.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes written, mutable.
    pub fn written_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    /// Drops everything after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        debug_assert!(len <= self.len);
        self.len = self.len.min(len);
    }
}

impl core::fmt::Write for ByteWriter<'_> {
    /// Appends `s`; `Err` once the writer has overflowed, so that a formatter (a template)
    /// stops at the first write that does not fit.
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // The common case in as few steps as possible (templates write many short pieces);
        // the rest out of line, so that this part needs no stack frame.
        let end = self.len + s.len();
        if end <= self.buf.len() {
            copy_bytes(&mut self.buf[self.len..end], s.as_bytes());
            self.len = end;
            return Ok(());
        }
        self.write_str_slow(s)
    }
}

impl ByteWriter<'_> {
    #[cold]
    #[inline(never)]
    fn write_str_slow(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes());
        if self.overflowed {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Copies `src` into `dst` (of the same length). Short copies (status lines, header names
/// and values, digits, small bodies) make up most of every response, and for them a call to
/// `memcpy` costs more than the copy: up to 16 bytes move as two overlapping words.
#[inline(always)]
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    if (8..=16).contains(&n) {
        let head = u64::from_ne_bytes(src[..8].try_into().unwrap());
        let tail = u64::from_ne_bytes(src[n - 8..].try_into().unwrap());
        dst[..8].copy_from_slice(&head.to_ne_bytes());
        dst[n - 8..].copy_from_slice(&tail.to_ne_bytes());
    } else if (4..8).contains(&n) {
        let head = u32::from_ne_bytes(src[..4].try_into().unwrap());
        let tail = u32::from_ne_bytes(src[n - 4..].try_into().unwrap());
        dst[..4].copy_from_slice(&head.to_ne_bytes());
        dst[n - 4..].copy_from_slice(&tail.to_ne_bytes());
    } else if n < 4 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// How many decimal digits `n` has: a comparison a digit, the few digits of most bodies'
/// lengths in a few instructions (`ilog10` takes twenty, and 200 bytes on a Cortex-M).
#[inline]
pub(crate) fn decimal_len(n: u64) -> usize {
    let mut len = 1;
    let mut rest = n;
    // Bounded: at most 20 turns, the digits of u64::MAX.
    while rest >= 10 {
        rest /= 10;
        len += 1;
    }
    len
}

/// Writes `n` in decimal into `dst`, which is [`decimal_len`]`(n)` bytes long: in place,
/// without the formatting buffer and the copy out of it that `itoa` takes.
#[inline]
pub(crate) fn write_decimal(dst: &mut [u8], n: u64) {
    debug_assert_eq!(dst.len(), decimal_len(n));
    let mut rest = n;
    // Bounded: counted over dst.
    for digit in dst.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
}
