//! The router: one table of routes, matched by longest prefix on whole segments, filtered by
//! method, with typed path parameters.
//!
//! ## Declaring
//!
//! A table is a `&'static [Route<S>]`, usually a `static`, built with `const fn`s:
//!
//! ```ignore
//! static ROUTES: &[Route<App>] = &[
//!     Route::get("/", home),
//!     Route::get("/users/{id:u64}", user).id("getUser").summary("One user"),
//!     Route::get("/static/{*path}", asset),
//! ];
//! ```
//!
//! The same rows carry the OpenAPI documentation ([`RouteDoc`]), so the spec is generated from
//! exactly what routes.
//!
//! ## Matching
//!
//! [`Router::new`] checks the table and builds its index at startup; it rejects invalid
//! patterns, a method declared twice for one path, and two patterns that differ only in
//! parameter names or types (they would match the same paths), naming both routes.
//! The most specific route wins, whatever the declaration order: comparing segment by segment
//! from the left, a literal beats a parameter, a parameter beats a tail, and ending beats a
//! tail. Literals match the percent-decoded segment; an encoded `/` (`%2F`) is never a
//! separator.
//!
//! Lookup is one pass over the path: each segment narrows a bit set of candidate paths (a
//! binary search among the literals at that depth, and two masks), so the work is linear in
//! the path's length whatever the table holds, and nothing is allocated.
//!
//! ## Methods
//!
//! A path that matches with another method answers `405` with `Allow` (RFC 9110 §15.5.6);
//! HEAD is served by the GET handler with the body suppressed; OPTIONS is answered with
//! `Allow` unless declared; a method zzz does not implement (an extension method, CONNECT)
//! is `501` (RFC 9110 §15.6.2); no matching path is `404`.

mod params;
mod pattern;
mod route;

use params::ParamSlot;
pub use params::{ParamError, Params};
pub use pattern::{MAX_LITERAL, MAX_PARAMS, MAX_SEGMENTS, ParamType};
pub use route::{BodyDoc, HeaderDoc, ParamDoc, QueryParam, ResponseDoc, Route, RouteDoc};

use crate::http::percent::{Decode, decode_into};
use crate::http::{Method, MethodSet};
pub(crate) use pattern::{Pattern, SegmentKind};

/// The most distinct paths (patterns) in one table.
pub const MAX_PATHS: usize = 256;
/// The most routes (pattern and method pairs) in one table.
pub const MAX_ROUTES: usize = 1024;
/// The most distinct (depth, literal) pairs in one table.
pub const MAX_LITERALS: usize = 512;
/// The longest path segment compared against literals after percent-decoding: no literal is
/// longer.
const MAX_DECODED_SEGMENT: usize = MAX_LITERAL;

/// Why a table was rejected; names the routes involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// A pattern is malformed.
    InvalidPattern {
        /// The route, as `METHOD /pattern`.
        route: (Method, &'static str),
        /// What is wrong.
        reason: &'static str,
    },
    /// Two routes would serve the same requests.
    Conflict {
        /// The first route.
        first: (Method, &'static str),
        /// The one declared later.
        second: (Method, &'static str),
    },
    /// More paths, routes or literals than the table can hold.
    TooMany(&'static str),
}

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = |m: Method| m.as_str().unwrap_or("?");
        match self {
            RouteError::InvalidPattern { route, reason } => {
                write!(f, "route `{} {}`: {}", name(route.0), route.1, reason)
            }
            RouteError::Conflict { first, second } => write!(
                f,
                "routes `{} {}` and `{} {}` match the same requests",
                name(first.0),
                first.1,
                name(second.0),
                second.1
            ),
            RouteError::TooMany(what) => write!(f, "too many {what}"),
        }
    }
}

/// A set of paths, one bit per path, in order of specificity (bit 0 is the most specific).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
struct PathSet([u64; MAX_PATHS / 64]);

impl PathSet {
    const EMPTY: PathSet = PathSet([0; MAX_PATHS / 64]);

    fn with(mut self, bit: usize) -> PathSet {
        self.0[bit / 64] |= 1 << (bit % 64);
        self
    }

    fn first_n(n: usize) -> PathSet {
        let mut set = PathSet::EMPTY;
        for (i, word) in set.0.iter_mut().enumerate() {
            let bits = n.saturating_sub(i * 64).min(64);
            *word = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
        }
        set
    }

    #[inline]
    fn and(self, other: PathSet) -> PathSet {
        PathSet(core::array::from_fn(|i| self.0[i] & other.0[i]))
    }

    #[inline]
    fn or(self, other: PathSet) -> PathSet {
        PathSet(core::array::from_fn(|i| self.0[i] | other.0[i]))
    }

    #[inline]
    fn lowest(self) -> Option<usize> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    #[inline]
    fn is_empty(self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// One distinct pattern and the routes (one per method) that share it.
#[derive(Clone, Copy, Debug)]
struct PathEntry {
    pattern: &'static str,
    /// Route index + 1 for each method in [`Method::KNOWN`] order; 0 when not declared.
    by_method: [u16; 9],
    methods: MethodSet,
    /// This path's parameters: `param_slots[params.0..params.0 + params.1]`.
    params: (u16, u8),
}

/// The most parameters summed over all paths of a table.
pub const MAX_PARAM_SLOTS: usize = 512;

#[derive(Clone, Copy, Debug)]
struct Literal {
    depth: u8,
    text: &'static str,
    paths: PathSet,
}

/// What a request's method and path resolve to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Returned by value once per request; boxing is not an option.
pub enum RouteMatch<'r, 'p, S: 'static> {
    /// A route serves it.
    Found {
        /// The route.
        route: &'r Route<S>,
        /// The captured parameters.
        params: Params<'p>,
    },
    /// The path exists but not with this method: `405` with `Allow`.
    MethodNotAllowed {
        /// The methods the path allows.
        allow: MethodSet,
    },
    /// OPTIONS on a path without an OPTIONS route: `204` with `Allow`.
    Options {
        /// The methods the path allows.
        allow: MethodSet,
    },
    /// No route matches the path: `404`.
    NotFound,
    /// zzz does not implement the method: `501`.
    NotImplemented,
}

/// A built route table. See the [module documentation](self).
pub struct Router<S: 'static> {
    routes: &'static [Route<S>],
    paths: heapless::Vec<PathEntry, MAX_PATHS>,
    literals: heapless::Vec<Literal, MAX_LITERALS>,
    /// For each depth, the range of `literals` at that depth.
    literal_ranges: [(u16, u16); MAX_SEGMENTS],
    /// Paths with a parameter at each depth.
    param_at: [PathSet; MAX_SEGMENTS],
    /// Paths whose tail starts at or before each depth.
    tail_covers: [PathSet; MAX_SEGMENTS],
    /// Paths that match a path of exactly n segments.
    ends_at: [PathSet; MAX_SEGMENTS + 1],
    /// Paths with a tail.
    tails: PathSet,
    /// The parameters of every path, grouped by path.
    param_slots: heapless::Vec<ParamSlot, MAX_PARAM_SLOTS>,
}

impl<S> core::fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes.len())
            .field("paths", &self.paths.len())
            .finish()
    }
}

/// Specificity order of two patterns (see the module documentation). Patterns that compare
/// equal have the same shape.
fn specificity(a: &Pattern, b: &Pattern) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    // Literal < Param < End < Tail.
    let rank = |p: &Pattern, i: usize| match p.segments.get(i) {
        Some(s) if s.kind == SegmentKind::Literal => (0, s.text),
        Some(s) if s.kind == SegmentKind::Param => (1, ""),
        None => (2, ""),
        Some(_) => (3, ""),
    };
    for i in 0..=MAX_SEGMENTS {
        match rank(a, i).cmp(&rank(b, i)) {
            Ordering::Equal if i >= a.segments.len() || i >= b.segments.len() => {
                return Ordering::Equal;
            }
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

fn method_index(method: Method) -> Option<usize> {
    Method::KNOWN.iter().position(|m| *m == method)
}

impl<S> Router<S> {
    /// Checks `routes` and builds the index.
    pub fn new(routes: &'static [Route<S>]) -> Result<Router<S>, RouteError> {
        if routes.len() > MAX_ROUTES {
            return Err(RouteError::TooMany("routes (at most 1024)"));
        }
        let mut paths: heapless::Vec<PathEntry, MAX_PATHS> = heapless::Vec::new();
        for (index, route) in routes.iter().enumerate() {
            let key = (route.method, route.pattern);
            let pattern = Pattern::parse(route.pattern)
                .map_err(|reason| RouteError::InvalidPattern { route: key, reason })?;
            let Some(m) = method_index(route.method) else {
                return Err(RouteError::InvalidPattern {
                    route: key,
                    reason: "routes need a standard method",
                });
            };
            if route.method == Method::Connect {
                // CONNECT asks for a tunnel, which zzz does not implement: such a route could
                // never be reached (the server answers 501).
                return Err(RouteError::InvalidPattern {
                    route: key,
                    reason: "CONNECT is not supported (zzz answers it with 501)",
                });
            }
            let same_shape = paths.iter_mut().find(|p| {
                specificity(&Pattern::parse(p.pattern).expect("validated"), &pattern).is_eq()
            });
            match same_shape {
                Some(entry) if entry.pattern != route.pattern || entry.by_method[m] != 0 => {
                    let other = if entry.by_method[m] != 0 {
                        &routes[entry.by_method[m] as usize - 1]
                    } else {
                        &routes[entry
                            .by_method
                            .iter()
                            .find(|i| **i != 0)
                            .copied()
                            .unwrap_or(1) as usize
                            - 1]
                    };
                    return Err(RouteError::Conflict {
                        first: (other.method, other.pattern),
                        second: key,
                    });
                }
                Some(entry) => {
                    entry.by_method[m] = index as u16 + 1;
                    entry.methods = entry.methods.with(route.method);
                }
                None => {
                    let mut by_method = [0; 9];
                    by_method[m] = index as u16 + 1;
                    let entry = PathEntry {
                        pattern: route.pattern,
                        by_method,
                        methods: MethodSet::of(route.method),
                        params: (0, 0),
                    };
                    paths
                        .push(entry)
                        .map_err(|_| RouteError::TooMany("paths (at most 256)"))?;
                }
            }
        }
        paths.sort_unstable_by(|a, b| {
            specificity(
                &Pattern::parse(a.pattern).expect("validated"),
                &Pattern::parse(b.pattern).expect("validated"),
            )
        });

        let mut router = Router {
            routes,
            paths: heapless::Vec::new(),
            literals: heapless::Vec::new(),
            literal_ranges: [(0, 0); MAX_SEGMENTS],
            param_at: [PathSet::EMPTY; MAX_SEGMENTS],
            tail_covers: [PathSet::EMPTY; MAX_SEGMENTS],
            ends_at: [PathSet::EMPTY; MAX_SEGMENTS + 1],
            tails: PathSet::EMPTY,
            param_slots: heapless::Vec::new(),
        };
        let mut literals: heapless::Vec<Literal, MAX_LITERALS> = heapless::Vec::new();
        for (rank, entry) in paths.iter_mut().enumerate() {
            let pattern = Pattern::parse(entry.pattern).expect("validated");
            let n = pattern.segments.len();
            let mut has_tail = false;
            let first_param = router.param_slots.len();
            for (depth, segment) in pattern.segments.iter().enumerate() {
                if segment.kind != SegmentKind::Literal {
                    let slot = ParamSlot {
                        depth: depth as u8,
                        tail: segment.kind == SegmentKind::Tail,
                        ty: segment.ty,
                        name: segment.text,
                    };
                    router.param_slots.push(slot).map_err(|_| {
                        RouteError::TooMany("parameters summed over all paths (at most 512)")
                    })?;
                }
                match segment.kind {
                    SegmentKind::Literal => {
                        match literals
                            .iter_mut()
                            .find(|l| l.depth as usize == depth && l.text == segment.text)
                        {
                            Some(l) => l.paths = l.paths.with(rank),
                            None => literals
                                .push(Literal {
                                    depth: depth as u8,
                                    text: segment.text,
                                    paths: PathSet::EMPTY.with(rank),
                                })
                                .map_err(|_| {
                                    RouteError::TooMany("literal segments (at most 512)")
                                })?,
                        }
                    }
                    SegmentKind::Param => {
                        router.param_at[depth] = router.param_at[depth].with(rank)
                    }
                    SegmentKind::Tail => {
                        has_tail = true;
                        router.tails = router.tails.with(rank);
                        for d in depth..MAX_SEGMENTS {
                            router.tail_covers[d] = router.tail_covers[d].with(rank);
                        }
                        // A tail matches zero or more segments: paths of `depth` or more.
                        for d in depth..=MAX_SEGMENTS {
                            router.ends_at[d] = router.ends_at[d].with(rank);
                        }
                    }
                }
            }
            if !has_tail {
                router.ends_at[n] = router.ends_at[n].with(rank);
            }
            entry.params = (
                first_param as u16,
                (router.param_slots.len() - first_param) as u8,
            );
        }
        // Within a depth, literals are ordered by length first: most probes then compare a
        // length, not bytes.
        literals.sort_unstable_by(|a, b| {
            (a.depth, a.text.len(), a.text.as_bytes()).cmp(&(
                b.depth,
                b.text.len(),
                b.text.as_bytes(),
            ))
        });
        for depth in 0..MAX_SEGMENTS {
            let start = literals
                .iter()
                .position(|l| l.depth as usize >= depth)
                .unwrap_or(literals.len());
            let end = literals
                .iter()
                .position(|l| l.depth as usize > depth)
                .unwrap_or(literals.len());
            router.literal_ranges[depth] = (start as u16, end as u16);
        }
        router.literals = literals;
        router.paths = paths;
        Ok(router)
    }

    /// The routes of the table, in declaration order.
    pub fn routes(&self) -> &'static [Route<S>] {
        self.routes
    }

    /// The methods every path of the table allows together, for `OPTIONS *`.
    pub fn all_methods(&self) -> MethodSet {
        self.paths
            .iter()
            .fold(MethodSet::EMPTY, |acc, p| acc.union(allowed(p.methods)))
    }

    /// Resolves a request's method and path (the path component only, still
    /// percent-encoded, starting with `/`).
    pub fn resolve<'r: 'p, 'p>(&'r self, method: Method, path: &'p str) -> RouteMatch<'r, 'p, S> {
        if matches!(method, Method::Extension | Method::Connect) {
            return RouteMatch::NotImplemented;
        }
        let Some(rank) = self.match_path(path) else {
            return RouteMatch::NotFound;
        };
        let entry = &self.paths[rank];
        let route_for = |m: Method| {
            let i = entry.by_method[method_index(m)?];
            (i != 0).then(|| &self.routes[i as usize - 1])
        };
        let route = match route_for(method) {
            Some(route) => route,
            None if method == Method::Head => match route_for(Method::Get) {
                Some(route) => route,
                None => {
                    return RouteMatch::MethodNotAllowed {
                        allow: allowed(entry.methods),
                    };
                }
            },
            None if method == Method::Options => {
                return RouteMatch::Options {
                    allow: allowed(entry.methods),
                };
            }
            None => {
                return RouteMatch::MethodNotAllowed {
                    allow: allowed(entry.methods),
                };
            }
        };
        let (first, count) = entry.params;
        let params = capture(
            &self.param_slots[first as usize..first as usize + count as usize],
            path,
        );
        RouteMatch::Found { route, params }
    }

    /// The rank of the most specific path matching `path`.
    fn match_path(&self, path: &str) -> Option<usize> {
        let rest = path.strip_prefix('/')?;
        let mut candidates = PathSet::first_n(self.paths.len());
        let mut depth = 0;
        for segment in Segments::new(rest) {
            let accepted = if depth < MAX_SEGMENTS {
                let mut accepted = self.tail_covers[depth].or(self.literal_paths(depth, segment));
                if !segment.is_empty() {
                    accepted = accepted.or(self.param_at[depth]);
                }
                accepted
            } else {
                self.tails
            };
            candidates = candidates.and(accepted);
            if candidates.is_empty() {
                return None;
            }
            depth += 1;
        }
        candidates
            .and(self.ends_at[depth.min(MAX_SEGMENTS)])
            .lowest()
    }

    /// The paths with literal `segment` (percent-decoded) at `depth`.
    #[inline]
    fn literal_paths(&self, depth: usize, segment: &str) -> PathSet {
        let (start, end) = self.literal_ranges[depth];
        let here = &self.literals[start as usize..end as usize];
        if here.is_empty() {
            return PathSet::EMPTY;
        }
        let mut decoded = [0u8; MAX_DECODED_SEGMENT];
        let text: &[u8] = if segment.bytes().any(|b| b == b'%') {
            match decode_into(segment.as_bytes(), Decode::PathSegment, &mut decoded) {
                Ok(text) => text,
                Err(_) => return PathSet::EMPTY,
            }
        } else {
            segment.as_bytes()
        };
        match here.binary_search_by(|l| (l.text.len(), l.text.as_bytes()).cmp(&(text.len(), text)))
        {
            Ok(i) => here[i].paths,
            Err(_) => PathSet::EMPTY,
        }
    }
}

/// The `/`-separated segments of a path (without its leading `/`). A byte loop rather than
/// `str::split`: path segments are short, and `split`'s search costs more to set up than to
/// run on them.
struct Segments<'p> {
    rest: Option<&'p str>,
}

impl<'p> Segments<'p> {
    fn new(path: &'p str) -> Segments<'p> {
        Segments { rest: Some(path) }
    }
}

impl<'p> Iterator for Segments<'p> {
    type Item = &'p str;

    #[inline]
    fn next(&mut self) -> Option<&'p str> {
        let rest = self.rest?;
        match rest.bytes().position(|b| b == b'/') {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// A path's methods as `Allow` lists them: HEAD with GET, and OPTIONS always.
fn allowed(methods: MethodSet) -> MethodSet {
    let with_head = if methods.contains(Method::Get) {
        methods.with(Method::Head)
    } else {
        methods
    };
    with_head.with(Method::Options)
}

/// Captures the parameters of a path from `path`, which is known to match it: one pass over
/// the path, guided by where the table said the parameters are.
fn capture<'p>(slots: &'p [ParamSlot], path: &'p str) -> Params<'p> {
    let bytes = path.as_bytes();
    let mut params = Params::with_slots(path, slots);
    let mut depth = 0;
    let mut start = 1; // past the leading '/'
    for (i, slot) in slots.iter().enumerate() {
        while depth < slot.depth as usize {
            start = bytes[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(bytes.len(), |p| start + p + 1);
            depth += 1;
        }
        if slot.tail {
            params.set(i, start.min(bytes.len()), bytes.len());
            break;
        }
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(bytes.len(), |p| start + p);
        params.set(i, start, end);
    }
    params
}

#[cfg(test)]
mod tests;
