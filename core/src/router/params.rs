//! The path parameters a route captured, with typed and decoded access.

use super::pattern::{MAX_PARAMS, ParamType};
use crate::http::percent::{Decode, PercentError, decode_str};

/// Why a parameter could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParamError {
    /// The route has no parameter of that name.
    Missing,
    /// The value does not parse as the requested type.
    Invalid,
    /// The value's percent-encoding is invalid, or decodes to `/` or NUL, or does not fit.
    Decode(PercentError),
}

/// Where one parameter of a path lies, found when the table is built so that capturing the
/// parameters of a match is one pass over the path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParamSlot {
    pub depth: u8,
    pub tail: bool,
    pub ty: ParamType,
    pub name: &'static str,
}

/// The parameters captured from one path, as raw (still percent-encoded) slices of it. Small
/// and `Copy`: the names and types stay in the route table; only where each value lies in the
/// path is stored.
#[derive(Clone, Copy, Debug)]
pub struct Params<'p> {
    path: &'p str,
    slots: &'p [ParamSlot],
    /// Where each value lies: `start | end << 32`, one word each, so that the result of a
    /// lookup is written a word per parameter.
    spans: [u64; MAX_PARAMS],
}

impl Default for Params<'_> {
    fn default() -> Self {
        Params::empty("")
    }
}

impl<'p> Params<'p> {
    pub(crate) const fn empty(path: &'p str) -> Params<'p> {
        Params {
            path,
            slots: &[],
            spans: [0; MAX_PARAMS],
        }
    }

    /// Parameters described by `slots`, whose values lie at `spans` of `path` (the `i`-th at
    /// `spans[i]`, made by [`Params::span`]; those past `slots.len()` unused).
    pub(crate) fn with_spans(
        path: &'p str,
        slots: &'p [ParamSlot],
        spans: [u64; MAX_PARAMS],
    ) -> Params<'p> {
        debug_assert!(slots.len() <= MAX_PARAMS);
        debug_assert!(spans[..slots.len()].iter().all(|&span| {
            let (start, end) = (span as u32, (span >> 32) as u32);
            start <= end && end as usize <= path.len()
        }));
        Params { path, slots, spans }
    }

    /// Whether `other` holds the same values (for debug assertions).
    pub(crate) fn same_spans(&self, other: &Params<'_>) -> bool {
        let n = self.slots.len();
        n == other.slots.len() && self.spans[..n] == other.spans[..n]
    }

    /// A span of [`Params::with_spans`]: the value at `start..end` of the path.
    #[inline]
    pub(crate) fn span(start: usize, end: usize) -> u64 {
        debug_assert!(start <= end && end <= u32::MAX as usize);
        start as u64 | (end as u64) << 32
    }

    fn value(&self, i: usize) -> &'p str {
        let span = self.spans[i];
        &self.path[span as u32 as usize..(span >> 32) as usize]
    }

    /// How many parameters were captured.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// `(name, raw value)` of each parameter, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'p str)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, slot)| (slot.name, self.value(i)))
    }

    /// The raw value of `name`, still percent-encoded.
    pub fn get(&self, name: &str) -> Option<&'p str> {
        self.slots
            .iter()
            .position(|slot| slot.name == name)
            .map(|i| self.value(i))
    }

    /// The value of `name` parsed as `T` (integers: plain digits, checked by the route's type
    /// before the handler runs).
    pub fn parse<T: core::str::FromStr>(&self, name: &str) -> Result<T, ParamError> {
        self.get(name)
            .ok_or(ParamError::Missing)?
            .parse()
            .map_err(|_| ParamError::Invalid)
    }

    /// The value of `name`, percent-decoded into `out` (`%2F` and `%00` are refused: see
    /// [`Decode::PathSegment`]). A tail keeps its `/` separators: only escapes are refused.
    pub fn decode<'o>(&self, name: &str, out: &'o mut [u8]) -> Result<&'o str, ParamError> {
        let raw = self.get(name).ok_or(ParamError::Missing)?;
        decode_str(raw, Decode::PathSegment, out).map_err(ParamError::Decode)
    }

    /// The first parameter whose value does not fit its declared type. An empty capture is a
    /// tail that matched zero segments (a parameter never matches an empty segment), which
    /// the router accepted: it is not a mismatch.
    #[inline]
    pub(crate) fn first_mismatch(&self) -> Option<(&'static str, ParamType)> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, slot)| (slot, self.value(i)))
            .find(|(slot, value)| !value.is_empty() && !slot.ty.accepts(value))
            .map(|(slot, _)| (slot.name, slot.ty))
    }
}
