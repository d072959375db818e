//! How much a route table needs: the capacities of a [`Router`](super::Router), computed from
//! the table itself by `const` evaluation, so that a router costs what its table declares
//! (a one-route table a few hundred bytes) instead of the largest table zzz accepts.

use super::route::{Route, RouteMethod};
use super::{MAX_EXTENSION_ROUTES, MAX_LITERALS, MAX_PARAM_SLOTS, MAX_PATHS};
use crate::http::Method;

/// The capacities of a router's index: what [`Router`](super::Router)'s const parameters
/// hold. [`RouterCapacity::of`] computes them from a table; [`RouterCapacity::MAX`] is what
/// [`Router::new`](super::Router::new) reserves, whatever the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RouterCapacity {
    /// Distinct paths (patterns).
    pub paths: usize,
    /// 64-bit words of a set of paths: `paths` rounded up to a multiple of 64, over 64, at
    /// least 1.
    pub words: usize,
    /// Distinct (depth, literal segment) pairs.
    pub literals: usize,
    /// Parameters summed over all paths.
    pub param_slots: usize,
    /// Routes of extension methods ([`Route::method`] with a token that has no [`Method`]
    /// variant).
    pub extensions: usize,
}

impl RouterCapacity {
    /// The capacities of [`Router::new`](super::Router::new): the largest table zzz accepts
    /// ([`MAX_PATHS`], [`MAX_LITERALS`], [`MAX_PARAM_SLOTS`], [`MAX_EXTENSION_ROUTES`]).
    pub const MAX: RouterCapacity = RouterCapacity {
        paths: MAX_PATHS,
        words: MAX_PATHS / 64,
        literals: MAX_LITERALS,
        param_slots: MAX_PARAM_SLOTS,
        extensions: MAX_EXTENSION_ROUTES,
    };

    /// The capacities `routes` needs, at compile time when `routes` is a constant or a static:
    /// exact for a valid table (paths are distinct patterns; a literal shared by several
    /// patterns at one depth is counted once), and never less than what
    /// [`Router::build`](super::Router::build) uses for any table, valid or not, so a table
    /// that builds with [`RouterCapacity::MAX`] builds with its own capacities too. Each is at
    /// least 1. Quadratic in the table's size, which is paid by the compiler, once.
    pub const fn of<S>(routes: &[Route<S>]) -> RouterCapacity {
        let (mut paths, mut literals, mut param_slots, mut extensions) = (0, 0, 0, 0);
        let mut i = 0;
        // Bounded: one pass over the table, each row compared with the rows before it.
        while i < routes.len() {
            let pattern = routes[i].pattern.as_bytes();
            if is_extension(routes[i].method) {
                extensions += 1;
            }
            if first_with_pattern(routes, i) {
                paths += 1;
                let mut depth = 0;
                // Bounded: one step per segment of the pattern.
                while let Some(segment) = segment_at(pattern, depth) {
                    if is_parameter(segment) {
                        param_slots += 1;
                    } else if !literal_seen_before(routes, i, depth, segment) {
                        literals += 1;
                    }
                    depth += 1;
                }
            }
            i += 1;
        }
        RouterCapacity {
            paths: at_least_one(paths),
            words: at_least_one(paths).div_ceil(64),
            literals: at_least_one(literals),
            param_slots: at_least_one(param_slots),
            extensions: at_least_one(extensions),
        }
    }
}

/// The router type sized for a route table by [`RouterCapacity::of`]:
/// `sized_router!(State, ROUTES)` is a [`Router<State, ..>`](crate::router::Router) whose
/// capacities are those of `ROUTES` (a `const` or `static` table of `Route<State>`). Build it
/// with [`Router::build`](crate::router::Router::build).
///
/// ```
/// use zzz_core::router::Route;
/// use zzz_core::{Ctx, Request, Response, Status, sized_router};
///
/// fn hello(ctx: &mut Ctx<()>, _: &Request) -> Response {
///     ctx.out.text(Status::OK, "hello")
/// }
/// static ROUTES: &[Route<()>] = &[Route::get("/", hello), Route::get("/hello/{name}", hello)];
/// type HelloRouter = sized_router!((), ROUTES);
///
/// let router = HelloRouter::build(ROUTES).expect("a valid table");
/// assert_eq!(HelloRouter::CAPACITY.paths, 2);
/// assert!(size_of::<HelloRouter>() < 1024);
/// # let _ = router;
/// ```
#[macro_export]
macro_rules! sized_router {
    ($state:ty, $routes:expr) => {
        $crate::router::Router<
            $state,
            { $crate::router::RouterCapacity::of($routes).paths },
            { $crate::router::RouterCapacity::of($routes).words },
            { $crate::router::RouterCapacity::of($routes).literals },
            { $crate::router::RouterCapacity::of($routes).param_slots },
            { $crate::router::RouterCapacity::of($routes).extensions },
        >
    };
}

const fn at_least_one(n: usize) -> usize {
    if n == 0 { 1 } else { n }
}

/// Whether `method` goes to a path's extension routes.
const fn is_extension(method: RouteMethod) -> bool {
    match method {
        RouteMethod::Token(token) => {
            matches!(Method::from_token(token.as_bytes()), Method::Extension)
        }
        RouteMethod::Any => false,
    }
}

/// Whether row `i` is the first with its pattern.
const fn first_with_pattern<S>(routes: &[Route<S>], i: usize) -> bool {
    let pattern = routes[i].pattern.as_bytes();
    let mut j = 0;
    // Bounded: the rows before `i`.
    while j < i {
        if bytes_eq(routes[j].pattern.as_bytes(), pattern) {
            return false;
        }
        j += 1;
    }
    true
}

/// Whether a row before `i`, first with its pattern, has the literal `segment` at `depth`.
const fn literal_seen_before<S>(
    routes: &[Route<S>],
    i: usize,
    depth: usize,
    segment: &[u8],
) -> bool {
    let mut j = 0;
    // Bounded: the rows before `i`.
    while j < i {
        if first_with_pattern(routes, j)
            && let Some(other) = segment_at(routes[j].pattern.as_bytes(), depth)
            && !is_parameter(other)
            && bytes_eq(other, segment)
        {
            return true;
        }
        j += 1;
    }
    false
}

/// The `depth`-th `/`-separated segment of `pattern` (after its leading `/`), as the
/// pattern parser splits it; `None` past the last. A pattern without its leading `/` (which
/// the router refuses) is read as if it had one.
const fn segment_at(pattern: &[u8], depth: usize) -> Option<&[u8]> {
    let mut rest = match pattern {
        [b'/', rest @ ..] => rest,
        rest => rest,
    };
    let mut d = 0;
    // Bounded: one step per byte of the pattern.
    loop {
        let mut end = 0;
        // Bounded: the length of the rest of the pattern.
        while end < rest.len() && rest[end] != b'/' {
            end += 1;
        }
        let (segment, after) = rest.split_at(end);
        if d == depth {
            return Some(segment);
        }
        match after {
            [b'/', next @ ..] => rest = next,
            _ => return None,
        }
        d += 1;
    }
}

/// Whether a pattern segment is a parameter or a tail (`{name}`, `{name:type}`, `{*name}`).
const fn is_parameter(segment: &[u8]) -> bool {
    matches!(segment, [b'{', ..])
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    // Bounded: the length of `a`.
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::{Ctx, Request, Response};
    use crate::http::Status;
    use crate::router::{RouteError, RouteMatch, Router};

    fn h(ctx: &mut Ctx<()>, _: &Request) -> Response {
        ctx.empty(Status::OK)
    }

    static TABLE: &[Route<()>] = &[
        Route::get("/users/{id:u64}", h),
        Route::delete("/users/{id:u64}", h),
        Route::method("PURGE", "/users/{id:u64}", h),
        Route::get("/users/me", h),
        Route::get("/users/{id:u64}/posts/{post}", h),
        Route::method("PURGE", "/static/{*path}", h),
        Route::any("/static/{*path}", h),
        Route::get("/", h),
    ];

    /// Paths are distinct patterns; a literal shared at one depth counts once (`users` at
    /// depth 0 for three patterns); `me` and `posts` are at other depths or differ.
    #[test]
    fn counted_from_the_table() {
        let capacity = RouterCapacity::of(TABLE);
        assert_eq!(
            capacity,
            RouterCapacity {
                paths: 5,
                words: 1,
                literals: 5, // users, me, posts, static, "" (the root's empty segment)
                param_slots: 4,
                extensions: 2,
            }
        );
        let built = Router::new(TABLE).expect("a valid table");
        assert_eq!(built.used(), capacity);
    }

    /// A router sized by `sized_router!` holds its table and answers as the largest one does.
    #[test]
    fn sized_router_answers_as_the_largest_one() {
        type Sized = crate::sized_router!((), TABLE);
        let sized = Sized::build(TABLE).expect("fits its own capacities");
        let largest = Router::new(TABLE).expect("a valid table");
        assert!(core::mem::size_of::<Sized>() * 20 < core::mem::size_of::<Router<()>>());
        for (method, path) in [
            ("GET", "/users/7"),
            ("PURGE", "/users/7"),
            ("GET", "/users/me"),
            ("GET", "/users/7/posts/x"),
            ("PATCH", "/static/a/b"),
            ("POST", "/users/7"),
            ("GET", "/nowhere"),
            ("GET", "/"),
        ] {
            let pattern = |m: RouteMatch<'_, '_, ()>| match m {
                RouteMatch::Found { route, .. } => Some(route.pattern),
                _ => None,
            };
            assert_eq!(
                pattern(sized.resolve(method, path)),
                pattern(largest.resolve(method, path)),
                "{method} {path}"
            );
        }
    }

    /// Each capacity at the table's need builds; one less is `TooMany` naming it.
    #[test]
    fn one_less_than_needed_is_too_many() {
        assert!(Router::<(), 5, 1, 5, 4, 2>::build(TABLE).is_ok());
        let too_many = |result: Result<_, RouteError>| match result {
            Err(RouteError::TooMany { what, capacity }) => Some((what, capacity)),
            _ => None,
        };
        assert_eq!(
            too_many(Router::<(), 4, 1, 5, 4, 2>::build(TABLE).map(drop)),
            Some(("paths", 4))
        );
        assert_eq!(
            too_many(Router::<(), 5, 1, 4, 4, 2>::build(TABLE).map(drop)),
            Some(("literal segments", 4))
        );
        assert_eq!(
            too_many(Router::<(), 5, 1, 5, 3, 2>::build(TABLE).map(drop)),
            Some(("parameters summed over all paths", 3))
        );
        assert_eq!(
            too_many(Router::<(), 5, 1, 5, 4, 1>::build(TABLE).map(drop)),
            Some(("extension-method routes", 1))
        );
    }

    /// An empty table needs nothing, but every capacity is at least 1.
    #[test]
    fn an_empty_table_needs_one_of_each() {
        let empty: &[Route<()>] = &[];
        let one = RouterCapacity {
            paths: 1,
            words: 1,
            literals: 1,
            param_slots: 1,
            extensions: 1,
        };
        assert_eq!(RouterCapacity::of(empty), one);
    }

    /// The split into segments is the pattern parser's: a trailing `/` is an empty literal.
    #[test]
    fn segments_as_the_parser_splits_them() {
        assert_eq!(segment_at(b"/a/{b}/", 0), Some(&b"a"[..]));
        assert_eq!(segment_at(b"/a/{b}/", 1), Some(&b"{b}"[..]));
        assert_eq!(segment_at(b"/a/{b}/", 2), Some(&b""[..]));
        assert_eq!(segment_at(b"/a/{b}/", 3), None);
        assert_eq!(segment_at(b"/", 0), Some(&b""[..]));
    }
}
