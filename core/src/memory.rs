//! The one memory region a server lives in, and how it is carved up.
//!
//! A server's capacities are known at startup ([`Config`](crate::Config)), so its memory is
//! too: [`Config::memory`](crate::Config::memory) computes the size, the caller reserves one
//! region of that size (a `static` array on bare metal, one `Region` allocation (with the `std` feature) on a hosted
//! system), and the server carves every table and buffer out of it. Nothing is allocated
//! afterwards.
//!
//! Carving typed slices out of raw bytes is the one place that needs `unsafe`: no maintained
//! crate carves runtime-sized, typed slices out of a caller's `&mut [u8]` without an
//! allocator, and doing it here keeps the whole server in a single, measurable region.

use core::mem::{align_of, needs_drop, size_of};

/// Alignment of every carved piece: a cache line, so that connections do not share lines.
pub const ALIGN: usize = 64;

/// Extra bytes [`Config::memory`](crate::Config::memory) adds for alignment: one `ALIGN` per
/// carved piece, with room to spare.
pub const ALIGN_SLACK: usize = ALIGN * 16;

const _: () = assert!(ALIGN.is_power_of_two() && ALIGN >= 16);

/// Bytes a slice of `n` values of `T` takes when carved, padding included.
pub const fn carved_size<T>(n: usize) -> usize {
    round_up(n * size_of::<T>())
}

const fn round_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Carves disjoint, aligned pieces off the front of a region.
#[derive(Debug)]
pub struct Arena<'m> {
    rest: &'m mut [u8],
}

/// The region is too small for what was carved from it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegionTooSmall;

impl<'m> Arena<'m> {
    /// An arena over `region`.
    pub fn new(region: &'m mut [u8]) -> Arena<'m> {
        Arena { rest: region }
    }

    /// Bytes not carved yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn take(&mut self, size: usize, align: usize) -> Result<&'m mut [u8], RegionTooSmall> {
        let align = align.max(ALIGN);
        let pad = self.rest.as_ptr().align_offset(align);
        let needed = pad.checked_add(size).ok_or(RegionTooSmall)?;
        if needed > self.rest.len() {
            return Err(RegionTooSmall);
        }
        let before = self.rest.len();
        let rest = core::mem::take(&mut self.rest);
        let (_, rest) = rest.split_at_mut(pad);
        let (piece, rest) = rest.split_at_mut(size);
        self.rest = rest;
        // The piece is where it was promised, and the carving only moves forward.
        assert!(piece.len() == size && piece.as_ptr().align_offset(align) == 0);
        assert_eq!(self.rest.len(), before - needed);
        Ok(piece)
    }

    /// `n` bytes, as they are in the region. Not cleared: buffers are always written before
    /// they are read, and leaving them alone keeps untouched pages of a lazily mapped region
    /// out of resident memory.
    pub fn bytes(&mut self, n: usize) -> Result<&'m mut [u8], RegionTooSmall> {
        self.take(n, 1)
    }

    /// `n` values of a plain-data type, as the region's bytes make them, without writing
    /// them: any bytes are a valid value of a `Pod` type, and not touching them keeps untouched
    /// pages of a lazily mapped region out of resident memory. Users of the slice must write an
    /// element before they rely on its value (the parser writes each header entry before the
    /// header count covers it).
    pub fn plain_slice<T: bytemuck::Pod>(
        &mut self,
        n: usize,
    ) -> Result<&'m mut [T], RegionTooSmall> {
        let size = n.checked_mul(size_of::<T>()).ok_or(RegionTooSmall)?;
        let piece = self.take(size, align_of::<T>())?;
        Ok(bytemuck::cast_slice_mut(piece))
    }

    /// `n` values of `T`, each made by `init(index)`. The values are never dropped, so `T`
    /// must own nothing that needs dropping (checked).
    pub fn slice<T>(
        &mut self,
        n: usize,
        mut init: impl FnMut(usize) -> T,
    ) -> Result<&'m mut [T], RegionTooSmall> {
        assert!(!needs_drop::<T>(), "arena values are never dropped");
        let size = n.checked_mul(size_of::<T>()).ok_or(RegionTooSmall)?;
        let piece = self.take(size, align_of::<T>())?;
        let ptr = piece.as_mut_ptr() as *mut T;
        // What makes the writes below sound: checked always, not only in debug builds.
        assert!(ptr.is_aligned() && piece.len() == n * size_of::<T>());
        for i in 0..n {
            // SAFETY: `piece` is exclusively ours for 'm, aligned for T (checked above) and
            // holds `n` values of T; each element is written exactly once before the slice
            // is created.
            unsafe { ptr.add(i).write(init(i)) };
        }
        // SAFETY: all `n` elements were initialized just above; the memory is borrowed
        // mutably for 'm through `piece`, which is consumed here.
        Ok(unsafe { core::slice::from_raw_parts_mut(ptr, n) })
    }
}

/// One owned, zeroed allocation to serve as a server's region on hosted systems. The pages
/// are requested zeroed, so the kernel maps them on first touch: reserving for 1024
/// connections costs resident memory only for the connections that are used.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Region {
    words: std::vec::Vec<u64>,
}

#[cfg(feature = "std")]
impl Region {
    /// A region of at least `bytes` bytes.
    pub fn new(bytes: usize) -> Region {
        Region {
            words: std::vec![0u64; bytes.div_ceil(8)],
        }
    }

    /// The region for an HTTP/1.1-only server with `config` ([`Config::memory`]); for an app
    /// with other protocol modules, `Region::new(app.memory(&config).total)`.
    ///
    /// [`Config::memory`]: crate::Config::memory
    pub fn for_config(config: &crate::Config) -> Region {
        Region::new(config.memory().total)
    }

    /// The region's bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        let len = self.words.len() * 8;
        // SAFETY: a `[u64]` of `len / 8` words is `len` initialized bytes; u8 has no
        // alignment requirement; the borrow of `self` keeps the allocation alive and unique.
        unsafe { core::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carves_aligned_disjoint_pieces() {
        let mut region = [0u8; 4096];
        let mut arena = Arena::new(&mut region);
        let a = arena.slice::<u32>(10, |i| i as u32).unwrap();
        let b = arena.bytes(100).unwrap();
        let c = arena.slice::<u64>(3, |_| 7).unwrap();
        assert_eq!(a[9], 9);
        assert_eq!(b.len(), 100);
        assert_eq!(c, &[7, 7, 7]);
        assert_eq!(a.as_ptr() as usize % ALIGN, 0);
        assert_eq!(c.as_ptr() as usize % ALIGN, 0);
        assert!(arena.bytes(100_000).is_err());
    }
}
