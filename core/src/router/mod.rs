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
//!     Route::method("PURGE", "/static/{*path}", purge), // an extension method
//!     Route::any("/legacy/{*path}", legacy),             // every other method
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
//! The index is a trie over whole segments, built at startup into fixed storage. A lookup
//! first looks the whole path up among the static paths (those without parameters: one probe
//! of a hash table), then walks down the trie from the root, splitting the path as it goes: at
//! each node it takes the literal child spelt by the segment (one probe of the same table),
//! else the parameter child, else the tail, and backtracks when a subtree does not match. Each
//! node is entered at most once, so the work is bounded by the table's size, and is one node
//! per segment when nothing backtracks; nothing is allocated.
//!
//! ## Methods
//!
//! A route names one method by its token ([`Route::get`]..., or [`Route::method`] for any
//! other, such as `PURGE` or `QUERY`), or every method ([`Route::any`]). Once the path has
//! matched, the request goes to, in order:
//!
//! 1. the route of its own method (methods are case-sensitive tokens, RFC 9110 §9.1);
//! 2. for HEAD, the GET route, with the body suppressed (RFC 9110 §9.3.2);
//! 3. the path's [`Route::any`];
//! 4. for OPTIONS, an automatic `204` with `Allow` (RFC 9110 §9.3.7);
//! 5. otherwise `405 Method Not Allowed` with `Allow`, listing the methods the path declares,
//!    extension methods included, HEAD with GET, and OPTIONS (RFC 9110 §15.5.6, §10.2.1).
//!
//! No matching path is `404`, whatever the method. `405` answers every method a resource
//! lacks, extension methods included, as axum, actix-web and Go's `ServeMux` do: zzz routes
//! any token, so no method is one it cannot recognise, and RFC 9110 §9.1 reserves `501` for a
//! method that is "unrecognized or not implemented" by the server. The one such method is
//! CONNECT: zzz implements no tunnels, for any resource (its authority-form target names no
//! path of the table either), so CONNECT is `501 Not Implemented` (RFC 9110 §15.6.2) and a
//! CONNECT route is refused when the table is built.

mod capacity;
mod heapsort;
mod methods;
pub(crate) mod params;
mod pattern;
mod route;
mod routing;
mod segments;
mod trie;

pub use capacity::RouterCapacity;
pub use methods::Allow;
use methods::{ExtensionRoute, GET, MethodSlot, allowed, method_index, method_slot};
use params::ParamSlot;
pub use params::{ParamError, Params};
pub use pattern::{MAX_LITERAL, MAX_PARAMS, MAX_SEGMENTS, ParamType};
pub use route::{
    BodyDoc, HeaderDoc, ParamDoc, QueryParam, ResponseDoc, Route, RouteDoc, RouteMethod,
};
pub use routing::Routing;
use trie::Trie;

use crate::http::{Method, MethodSet};
pub(crate) use pattern::{Pattern, SegmentKind};

/// The most distinct paths (patterns) in one table.
pub const MAX_PATHS: usize = 256;
/// The most routes (pattern and method pairs) in one table.
pub const MAX_ROUTES: usize = 1024;
/// The most nodes of one table's index: distinct prefixes of its patterns, by shape, and the
/// root ([`RouterCapacity::nodes`]).
pub const MAX_NODES: usize = 1024;
/// The most slots of one table's hash table of literal children
/// ([`RouterCapacity::literal_slots`]): enough for [`MAX_NODES`] literal nodes.
pub const MAX_LITERAL_SLOTS: usize = 2 * MAX_NODES;
/// The most routes for extension methods ([`Route::method`] with a method that has no
/// [`Method`] variant of its own) in one table. They are looked up by a scan of the path's
/// own, so the bound keeps that scan short.
pub const MAX_EXTENSION_ROUTES: usize = 64;

/// Why a table was rejected; names the routes involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteError {
    /// A pattern is malformed.
    InvalidPattern {
        /// The route, as `METHOD /pattern`.
        route: (RouteMethod, &'static str),
        /// What is wrong.
        reason: &'static str,
    },
    /// A route's method is not a token, or is one zzz does not implement (CONNECT).
    InvalidMethod {
        /// The route, as `METHOD /pattern`.
        route: (RouteMethod, &'static str),
        /// What is wrong.
        reason: &'static str,
    },
    /// Two routes would serve the same requests.
    Conflict {
        /// The first route.
        first: (RouteMethod, &'static str),
        /// The one declared later.
        second: (RouteMethod, &'static str),
    },
    /// More routes, paths, pattern prefixes, parameters or extension-method routes than the
    /// router holds.
    TooMany {
        /// What overflowed.
        what: &'static str,
        /// How many the router holds.
        capacity: usize,
    },
}

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RouteError::InvalidPattern { route, reason }
            | RouteError::InvalidMethod { route, reason } => {
                write!(f, "route `{} {}`: {}", route.0, route.1, reason)
            }
            RouteError::Conflict { first, second } => write!(
                f,
                "routes `{} {}` and `{} {}` match the same requests",
                first.0, first.1, second.0, second.1
            ),
            RouteError::TooMany { what, capacity } => {
                write!(f, "too many {what} (the router holds at most {capacity})")
            }
        }
    }
}

/// One distinct pattern and the routes (one per method) that share it.
#[derive(Clone, Copy, Debug)]
struct PathEntry {
    pattern: &'static str,
    /// The index of the first route declared with this pattern, for conflict reports.
    first_route: u16,
    /// Route index + 1 serving each method, in [`Method::KNOWN`] order; 0 when none does.
    /// While routes are added, the route declared for that method; once the table is built,
    /// also the fallbacks the module documentation lists (HEAD the GET route, then any
    /// method the [`Route::any`]), so that a lookup reads one entry.
    by_method: [u16; 9],
    /// The methods the path declares a route of its own for.
    methods: MethodSet,
    /// Route index + 1 of its [`Route::any`]; 0 when not declared.
    any: u16,
    /// This path's extension-method routes: `extensions[extensions.0..extensions.0 + .1]`.
    extensions: (u16, u8),
    /// This path's parameters: `param_slots[params.0..params.0 + params.1]`.
    params: (u16, u8),
    /// For a static path, its first and last eight bytes as the index reads them (they decide
    /// a path of up to sixteen bytes): set when the index is built.
    ends: (u64, u64),
}

/// The most parameters summed over all paths of a table.
pub const MAX_PARAM_SLOTS: usize = 512;

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
    /// The path exists but has no route for this method (whatever the method, extension
    /// methods included): `405` with `Allow`.
    MethodNotAllowed {
        /// The methods the path allows.
        allow: Allow<'r>,
    },
    /// OPTIONS on a path without an OPTIONS or [`Route::any`] route: `204` with `Allow`.
    Options {
        /// The methods the path allows.
        allow: Allow<'r>,
    },
    /// No route matches the path: `404`.
    NotFound,
    /// CONNECT, which zzz does not implement for any resource: `501`.
    NotImplemented,
}

/// A built route table. See the [module documentation](self).
///
/// Its index lives in fixed arrays whose capacities are its const parameters:
/// [`Router::new`] reserves the largest table zzz accepts ([`RouterCapacity::MAX`], about
/// 79 KB on x86_64); [`sized_router!`](crate::sized_router) names the type sized for one table by
/// [`RouterCapacity::of`], built with [`Router::build`], which costs what the table declares.
pub struct Router<
    S: 'static,
    const PATHS: usize = MAX_PATHS,
    const NODES: usize = MAX_NODES,
    const SLOTS: usize = MAX_LITERAL_SLOTS,
    const PARAMS: usize = MAX_PARAM_SLOTS,
    const EXTENSIONS: usize = MAX_EXTENSION_ROUTES,
> {
    routes: &'static [Route<S>],
    /// The distinct paths, ranked by specificity (the most specific first).
    paths: heapless::Vec<PathEntry, PATHS>,
    /// The index: a trie of the paths' segments.
    trie: Trie<NODES, SLOTS>,
    /// The parameters of every path, grouped by path.
    param_slots: heapless::Vec<ParamSlot, PARAMS>,
    /// The extension-method routes of every path, grouped by path.
    extensions: heapless::Vec<ExtensionRoute, EXTENSIONS>,
}

impl<
    S,
    const PATHS: usize,
    const NODES: usize,
    const SLOTS: usize,
    const PARAMS: usize,
    const EXTENSIONS: usize,
> core::fmt::Debug for Router<S, PATHS, NODES, SLOTS, PARAMS, EXTENSIONS>
{
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

/// The specificity order of two patterns the table has validated.
fn specificity_of(a: &'static str, b: &'static str) -> core::cmp::Ordering {
    specificity(
        &Pattern::parse(a).expect("validated"),
        &Pattern::parse(b).expect("validated"),
    )
}

/// What serves each method of [`Method::KNOWN`] that `entry` declares no route of its own
/// for: for HEAD its GET route, if it declares one; else its [`Route::any`] (route index + 1,
/// or 0 when there is none).
fn fallbacks_of(entry: &PathEntry) -> [u16; 9] {
    core::array::from_fn(|m| match Method::KNOWN[m] {
        Method::Head if entry.methods.contains(Method::Get) => entry.by_method[GET],
        _ => entry.any,
    })
}

/// Asserts that `visit` reaches each of `0..count` exactly once. 64 at a time: a bit set per
/// window instead of one flag per item keeps this check's stack small whatever the table holds.
fn assert_reached_once(count: usize, what: &str, visit: impl Fn(&mut dyn FnMut(usize))) {
    for window in (0..count).step_by(64) {
        let mut reached = 0u64;
        visit(&mut |item| {
            assert!(item < count, "{what} {item} out of the table");
            if (window..window + 64).contains(&item) {
                let bit = 1u64 << (item - window);
                assert!(reached & bit == 0, "{what} {item} reached twice");
                reached |= bit;
            }
        });
        let in_window = (count - window).min(64);
        let all = if in_window == 64 {
            u64::MAX
        } else {
            (1u64 << in_window) - 1
        };
        assert_eq!(reached, all, "a {what} is unreachable");
    }
}

impl<S> Router<S> {
    /// Checks `routes` and builds the index, with the capacities of the largest table zzz
    /// accepts ([`RouterCapacity::MAX`]); [`Router::build`] says what is refused. A router
    /// sized for its table ([`sized_router!`](crate::sized_router)) is much smaller.
    pub fn new(routes: &'static [Route<S>]) -> Result<Router<S>, RouteError> {
        Router::build(routes)
    }
}

impl<
    S,
    const PATHS: usize,
    const NODES: usize,
    const SLOTS: usize,
    const PARAMS: usize,
    const EXTENSIONS: usize,
> Router<S, PATHS, NODES, SLOTS, PARAMS, EXTENSIONS>
{
    /// The capacities of this router type.
    pub const CAPACITY: RouterCapacity = RouterCapacity {
        paths: PATHS,
        nodes: NODES,
        literal_slots: SLOTS,
        param_slots: PARAMS,
        extensions: EXTENSIONS,
    };

    /// Checks `routes` and builds the index in place. Refuses an invalid pattern or method
    /// and two routes that would serve the same requests, naming them ([`RouteError`]); a
    /// table of more than [`MAX_ROUTES`] routes, or more paths, pattern prefixes, parameters
    /// or extension-method routes than this type's capacities, is [`RouteError::TooMany`].
    pub fn build(routes: &'static [Route<S>]) -> Result<Self, RouteError> {
        const {
            // `u16::MAX` is the index's "none", and `u16::MAX - 1` its parent of static paths.
            assert!(
                PATHS < u16::MAX as usize
                    && NODES < u16::MAX as usize - 1
                    && SLOTS > 0
                    && PARAMS <= u16::MAX as usize
                    && EXTENSIONS <= u16::MAX as usize,
                "the index is addressed with 16-bit integers"
            );
        }
        if routes.len() > MAX_ROUTES {
            return Err(RouteError::TooMany {
                what: "routes",
                capacity: MAX_ROUTES,
            });
        }
        let mut router = Router {
            routes,
            paths: heapless::Vec::new(),
            trie: Trie::new(),
            param_slots: heapless::Vec::new(),
            extensions: heapless::Vec::new(),
        };
        router.add_routes()?;
        router.add_fallbacks();
        heapsort::sort_by(&mut router.paths, |a, b| {
            specificity_of(a.pattern, b.pattern)
        });
        router.group_extensions();
        router.index_params()?;
        router.trie.build(&mut router.paths)?;
        router.assert_built();
        Ok(router)
    }

    /// Gives every route its place in its path's entry (paths in declaration order; extension
    /// routes in declaration order, not yet grouped), refusing conflicts.
    fn add_routes(&mut self) -> Result<(), RouteError> {
        let routes = self.routes;
        for (index, route) in routes.iter().enumerate() {
            let key = (route.method, route.pattern);
            let pattern = Pattern::parse(route.pattern)
                .map_err(|reason| RouteError::InvalidPattern { route: key, reason })?;
            let slot = method_slot(route.method)
                .map_err(|reason| RouteError::InvalidMethod { route: key, reason })?;
            let same_shape = self.paths.iter().position(|p| {
                specificity(&Pattern::parse(p.pattern).expect("validated"), &pattern).is_eq()
            });
            let at = match same_shape {
                Some(at) => at,
                None => {
                    let entry = PathEntry {
                        pattern: route.pattern,
                        first_route: index as u16,
                        by_method: [0; 9],
                        methods: MethodSet::EMPTY,
                        any: 0,
                        extensions: (0, 0),
                        params: (0, 0),
                        ends: (0, 0),
                    };
                    self.paths.push(entry).map_err(|_| RouteError::TooMany {
                        what: "paths",
                        capacity: PATHS,
                    })?;
                    self.paths.len() - 1
                }
            };
            let entry = self.paths[at];
            let declared = match slot {
                MethodSlot::Standard(m) => entry.by_method[m],
                MethodSlot::Any => entry.any,
                MethodSlot::Extension(name) => self
                    .extensions
                    .iter()
                    .find(|e| routes[e.route as usize].pattern == entry.pattern && e.name == name)
                    .map_or(0, |e| e.route + 1),
            };
            if entry.pattern != route.pattern || declared != 0 {
                let other = if declared != 0 {
                    &routes[declared as usize - 1]
                } else {
                    &routes[entry.first_route as usize]
                };
                return Err(RouteError::Conflict {
                    first: (other.method, other.pattern),
                    second: key,
                });
            }
            let entry = &mut self.paths[at];
            match slot {
                MethodSlot::Standard(m) => {
                    entry.by_method[m] = index as u16 + 1;
                    entry.methods = entry.methods.with(Method::KNOWN[m]);
                }
                MethodSlot::Any => entry.any = index as u16 + 1,
                MethodSlot::Extension(name) => self
                    .extensions
                    .push(ExtensionRoute {
                        name,
                        route: index as u16,
                    })
                    .map_err(|_| RouteError::TooMany {
                        what: "extension-method routes",
                        capacity: EXTENSIONS,
                    })?,
            }
        }
        Ok(())
    }

    /// Fills in the methods each path declares no route of its own for: HEAD goes to the GET
    /// route, then every method to the [`Route::any`] (RFC 9110 §9.3.2; see the module
    /// documentation).
    fn add_fallbacks(&mut self) {
        for entry in self.paths.iter_mut() {
            let fallbacks = fallbacks_of(entry);
            for (route, fallback) in entry.by_method.iter_mut().zip(fallbacks) {
                if *route == 0 {
                    *route = fallback;
                }
            }
        }
    }

    /// Orders the extension routes by path rank, then name, and gives each path its range.
    fn group_extensions(&mut self) {
        let (routes, paths) = (self.routes, &self.paths);
        let rank_of = |e: &ExtensionRoute| {
            let pattern = routes[e.route as usize].pattern;
            paths
                .iter()
                .position(|p| p.pattern == pattern)
                .expect("an extension route's path is in the table")
        };
        heapsort::sort_by(&mut self.extensions, |a, b| {
            (rank_of(a), a.name).cmp(&(rank_of(b), b.name))
        });
        let mut next = 0;
        for entry in self.paths.iter_mut() {
            let count = self.extensions[next..]
                .iter()
                .take_while(|e| routes[e.route as usize].pattern == entry.pattern)
                .count();
            entry.extensions = (next as u16, count as u8);
            next += count;
        }
        debug_assert_eq!(next, self.extensions.len());
    }

    /// Lists the parameters of every ranked path, where each lies in its pattern.
    fn index_params(&mut self) -> Result<(), RouteError> {
        for rank in 0..self.paths.len() {
            let pattern = Pattern::parse(self.paths[rank].pattern).expect("validated");
            let first_param = self.param_slots.len();
            for (depth, segment) in pattern.segments.iter().enumerate() {
                if segment.kind == SegmentKind::Literal {
                    continue;
                }
                let slot = ParamSlot {
                    depth: depth as u8,
                    tail: segment.kind == SegmentKind::Tail,
                    ty: segment.ty,
                    name: segment.text,
                };
                self.param_slots
                    .push(slot)
                    .map_err(|_| RouteError::TooMany {
                        what: "parameters summed over all paths",
                        capacity: PARAMS,
                    })?;
            }
            self.paths[rank].params = (
                first_param as u16,
                (self.param_slots.len() - first_param) as u8,
            );
        }
        Ok(())
    }

    /// The invariants lookups rely on, checked once when the table is built (the lookup side
    /// asserts its half of each pair where it reads): paths strictly ordered by specificity,
    /// the index's own ([`Trie::assert_built`]), every range inside its array, every path
    /// reached from exactly one node of the index, and every route from exactly one path.
    fn assert_built(&self) {
        for pair in self.paths.windows(2) {
            assert!(
                specificity_of(pair[0].pattern, pair[1].pattern).is_lt(),
                "paths out of specificity order"
            );
        }
        self.trie.assert_built(&self.paths);
        for p in self.paths.iter() {
            let (first, count) = (p.params.0 as usize, p.params.1 as usize);
            assert!(first + count <= self.param_slots.len());
            let (first, count) = (p.extensions.0 as usize, p.extensions.1 as usize);
            assert!(first + count <= self.extensions.len());
            for (m, (&route, fallback)) in p.by_method.iter().zip(fallbacks_of(p)).enumerate() {
                if p.methods.contains(Method::KNOWN[m]) {
                    assert_ne!(route, 0, "a declared method without its route");
                } else {
                    assert_eq!(route, fallback, "a method without its fallback");
                }
            }
        }
        assert_reached_once(self.paths.len(), "path", |reach| {
            self.trie.each_path_reached(reach)
        });
        assert_reached_once(self.routes.len(), "route", |reach| {
            self.each_route_reached(reach)
        });
    }

    /// Calls `reach` with the index of every route each path leads to.
    fn each_route_reached(&self, reach: &mut dyn FnMut(usize)) {
        for p in self.paths.iter() {
            let (first, count) = (p.extensions.0 as usize, p.extensions.1 as usize);
            for e in &self.extensions[first..first + count] {
                reach(e.route as usize);
            }
            // Its own routes: the others are fallbacks to them or to its `any`.
            for (m, &route) in p.by_method.iter().enumerate() {
                if p.methods.contains(Method::KNOWN[m]) {
                    reach(route as usize - 1);
                }
            }
            if p.any != 0 {
                reach(p.any as usize - 1);
            }
        }
    }

    /// How much of each capacity the table uses, never more than [`RouterCapacity::of`] the
    /// same table.
    pub fn used(&self) -> RouterCapacity {
        RouterCapacity {
            paths: self.paths.len(),
            nodes: self.trie.len(),
            literal_slots: self.trie.slots_used(),
            param_slots: self.param_slots.len(),
            extensions: self.extensions.len(),
        }
    }

    /// The routes of the table, in declaration order.
    pub fn routes(&self) -> &'static [Route<S>] {
        self.routes
    }

    /// The methods every path of the table allows together, for `OPTIONS *` (a
    /// [`Route::any`] adds none: it cannot be listed).
    pub fn all_methods(&self) -> Allow<'_> {
        Allow {
            standard: self
                .paths
                .iter()
                .fold(MethodSet::EMPTY, |acc, p| acc.union(allowed(p.methods))),
            extensions: &self.extensions,
        }
    }

    /// Resolves a request's method (its token, as the request line spells it) and path (the
    /// path component only, still percent-encoded, starting with `/`). See the
    /// [module documentation](self) for the order in which routes are tried.
    pub fn resolve<'r: 'p, 'p>(&'r self, method: &str, path: &'p str) -> RouteMatch<'r, 'p, S> {
        self.resolve_parsed(Method::from_token(method.as_bytes()), method, path)
    }

    /// [`Router::resolve`] for a method the parser has classified already: `standard` is
    /// `Method::from_token(method)` (as [`RequestHead::method`](crate::http::RequestHead) holds
    /// it), which spares classifying it again on every request.
    pub fn resolve_parsed<'r: 'p, 'p>(
        &'r self,
        standard: Method,
        method: &str,
        path: &'p str,
    ) -> RouteMatch<'r, 'p, S> {
        debug_assert_eq!(standard, Method::from_token(method.as_bytes()));
        if standard == Method::Connect {
            return RouteMatch::NotImplemented;
        }
        if !path.starts_with('/') {
            return RouteMatch::NotFound;
        }
        // A static path first (it has no parameters), then the walk, which finds where the
        // parameters lie on its way down. Two calls of `answer`, so that a static path's
        // empty parameters are written straight into the result.
        if let Some(rank) = self.trie.find_static(path.as_bytes(), &self.paths) {
            return self.answer(standard, method, rank, |slots| {
                debug_assert!(slots.is_empty(), "a static path with parameters");
                Params::with_spans(path, slots, [0; MAX_PARAMS])
            });
        }
        let mut spans = [0; MAX_PARAMS];
        let Some(walked) = self.trie.walk(path.as_bytes(), &mut spans) else {
            return RouteMatch::NotFound;
        };
        self.answer(standard, method, walked.rank, |slots| {
            if walked.spans {
                let params = Params::with_spans(path, slots, spans);
                debug_assert!(params.same_spans(&capture(slots, path)), "{path}");
                params
            } else {
                capture(slots, path)
            }
        })
    }

    /// The answer for a request whose path matches path `rank`: its method's route and the
    /// parameters `params` makes from the path's parameter slots, or `405`, or the automatic
    /// `OPTIONS`.
    #[inline(always)]
    fn answer<'r: 'p, 'p>(
        &'r self,
        standard: Method,
        method: &str,
        rank: usize,
        params: impl FnOnce(&'r [ParamSlot]) -> Params<'p>,
    ) -> RouteMatch<'r, 'p, S> {
        let entry = &self.paths[rank];
        // The fallbacks are in `by_method` already; an extension method has its own list.
        let route_index = match method_index(standard) {
            Some(m) => entry.by_method[m].checked_sub(1),
            None => self
                .extensions_of(entry)
                .iter()
                .find(|e| e.name == method)
                .map(|e| e.route)
                .or(entry.any.checked_sub(1)),
        };
        let Some(index) = route_index else {
            let allow = Allow {
                standard: allowed(entry.methods),
                extensions: self.extensions_of(entry),
            };
            return match standard {
                Method::Options => RouteMatch::Options { allow },
                _ => RouteMatch::MethodNotAllowed { allow },
            };
        };
        let (first, count) = entry.params;
        let slots = &self.param_slots[first as usize..first as usize + count as usize];
        RouteMatch::Found {
            route: &self.routes[index as usize],
            params: params(slots),
        }
    }

    /// The extension-method routes of a path.
    fn extensions_of(&self, entry: &PathEntry) -> &[ExtensionRoute] {
        let (first, count) = entry.extensions;
        &self.extensions[first as usize..first as usize + count as usize]
    }
}

/// Captures the parameters of a path from `path`, which is known to match it: one pass over
/// the path, guided by where the table said the parameters are. For a match found after
/// backtracking; the walk finds the others' on its way down.
fn capture<'p>(slots: &'p [ParamSlot], path: &'p str) -> Params<'p> {
    let bytes = path.as_bytes();
    let mut spans = [0; MAX_PARAMS];
    let mut depth = 0;
    let mut start = 1; // past the leading '/'
    for (span, slot) in spans.iter_mut().zip(slots) {
        // Bounded: counted up to the slot's depth (at most MAX_SEGMENTS).
        while depth < slot.depth as usize {
            start = bytes[start.min(bytes.len())..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(bytes.len() + 1, |p| start + p + 1);
            depth += 1;
        }
        let end = if slot.tail {
            bytes.len()
        } else {
            bytes[start.min(bytes.len())..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(bytes.len(), |p| start + p)
        };
        *span = Params::span(start.min(bytes.len()), end);
    }
    Params::with_spans(path, slots, spans)
}

#[cfg(test)]
mod tests;
