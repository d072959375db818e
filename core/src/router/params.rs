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

#[derive(Clone, Copy, Debug)]
struct Capture {
    name: &'static str,
    ty: ParamType,
    start: u32,
    end: u32,
}

/// The parameters captured from one path, as raw (still percent-encoded) slices of it.
#[derive(Clone, Copy, Debug)]
pub struct Params<'p> {
    path: &'p str,
    captures: [Capture; MAX_PARAMS],
    count: u8,
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
            captures: [Capture {
                name: "",
                ty: ParamType::Str,
                start: 0,
                end: 0,
            }; MAX_PARAMS],
            count: 0,
        }
    }

    pub(crate) fn push(&mut self, name: &'static str, ty: ParamType, start: usize, end: usize) {
        debug_assert!((self.count as usize) < MAX_PARAMS && end <= self.path.len());
        self.captures[self.count as usize] = Capture {
            name,
            ty,
            start: start as u32,
            end: end as u32,
        };
        self.count += 1;
    }

    /// How many parameters were captured.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// `(name, raw value)` of each parameter, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'p str)> + '_ {
        self.captures[..self.count as usize]
            .iter()
            .map(|c| (c.name, &self.path[c.start as usize..c.end as usize]))
    }

    /// The raw value of `name`, still percent-encoded.
    pub fn get(&self, name: &str) -> Option<&'p str> {
        let path = self.path;
        self.captures[..self.count as usize]
            .iter()
            .find(|c| c.name == name)
            .map(|c| &path[c.start as usize..c.end as usize])
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
    pub(crate) fn first_mismatch(&self) -> Option<(&'static str, ParamType)> {
        self.captures[..self.count as usize]
            .iter()
            .filter(|c| c.start != c.end)
            .find(|c| !c.ty.accepts(&self.path[c.start as usize..c.end as usize]))
            .map(|c| (c.name, c.ty))
    }
}
