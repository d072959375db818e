//! How much a route table needs: the capacities of a [`Router`](super::Router), computed from
//! the table itself by `const` evaluation, so that a router costs what its table declares
//! (a one-route table a few hundred bytes) instead of the largest table zzz accepts.

use super::pattern::{SegmentKind, bytes_eq, kind_of, segments_of, split_first_segment};
use super::route::{Route, RouteMethod};
use super::trie::{is_static, slots_for};
use super::{MAX_EXTENSION_ROUTES, MAX_LITERAL_SLOTS, MAX_NODES, MAX_PARAM_SLOTS, MAX_PATHS};
use crate::http::Method;

/// The capacities of a router's index: what [`Router`](super::Router)'s const parameters
/// hold. [`RouterCapacity::of`] computes them from a table; [`RouterCapacity::MAX`] is what
/// [`Router::new`](super::Router::new) reserves, whatever the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RouterCapacity {
    /// Distinct paths (patterns).
    pub paths: usize,
    /// Nodes of the index's trie: its root, and one per distinct prefix of the patterns (by
    /// shape: a literal by its text, any parameter alike) that ends with a literal or a
    /// parameter. `/users/{id}` and `/users/{name}/posts` share `/users` and `/users/{}`.
    pub nodes: usize,
    /// Slots of the index's hash table of literal children and static paths (all literal,
    /// no `%`): twice the nodes that end with a literal and the static paths together, rounded
    /// up to a power of two (at least 1).
    pub literal_slots: usize,
    /// Parameters summed over all paths.
    pub param_slots: usize,
    /// Routes of extension methods ([`Route::method`] with a token that has no [`Method`]
    /// variant).
    pub extensions: usize,
}

impl RouterCapacity {
    /// The capacities of [`Router::new`](super::Router::new): the largest table zzz accepts
    /// ([`MAX_PATHS`], [`MAX_NODES`], [`MAX_LITERAL_SLOTS`], [`MAX_PARAM_SLOTS`],
    /// [`MAX_EXTENSION_ROUTES`]).
    pub const MAX: RouterCapacity = RouterCapacity {
        paths: MAX_PATHS,
        nodes: MAX_NODES,
        literal_slots: MAX_LITERAL_SLOTS,
        param_slots: MAX_PARAM_SLOTS,
        extensions: MAX_EXTENSION_ROUTES,
    };

    /// The capacities `routes` needs, at compile time when `routes` is a constant or a static:
    /// exact for a valid table (paths are distinct patterns; a prefix shared by several
    /// patterns is one node), and never less than what [`Router::build`](super::Router::build)
    /// uses for any table, valid or not, so a table that builds with [`RouterCapacity::MAX`]
    /// builds with its own capacities too. Each is at least 1. Quadratic in the table's size,
    /// which is paid by the compiler, once.
    pub const fn of<S>(routes: &[Route<S>]) -> RouterCapacity {
        let (mut paths, mut nodes, mut literals, mut param_slots, mut extensions) = (0, 1, 0, 0, 0);
        let mut i = 0;
        // Bounded: one pass over the table, each row compared with the rows before it.
        while i < routes.len() {
            let pattern = routes[i].pattern;
            if is_extension(routes[i].method) {
                extensions += 1;
            }
            if first_with_pattern(routes, i) {
                let (new_nodes, new_literals, params) =
                    walk(pattern, shared_prefix_nodes(routes, i));
                paths += 1;
                nodes += new_nodes;
                literals += new_literals + is_static(pattern) as usize;
                param_slots += params;
            }
            i += 1;
        }
        RouterCapacity {
            paths: at_least_one(paths),
            nodes,
            literal_slots: slots_for(literals),
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
            { $crate::router::RouterCapacity::of($routes).nodes },
            { $crate::router::RouterCapacity::of($routes).literal_slots },
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

/// The trie nodes below the root that `pattern` passes through past its first `shared` (one
/// per segment, a tail excepted: it is its parent node's), those of them that end with a
/// literal, and its parameters (a tail included).
const fn walk(pattern: &str, shared: usize) -> (usize, usize, usize) {
    let (mut nodes, mut literals, mut params) = (0, 0, 0);
    let mut rest = Some(segments_of(pattern));
    let mut depth = 0;
    // Bounded: one turn per segment of the pattern.
    while let Some(text) = rest {
        let (segment, after) = split_first_segment(text);
        let new = depth >= shared;
        match kind_of(segment) {
            SegmentKind::Literal if new => {
                nodes += 1;
                literals += 1;
            }
            SegmentKind::Literal => {}
            SegmentKind::Param => {
                nodes += new as usize;
                params += 1;
            }
            SegmentKind::Tail => params += 1,
        }
        rest = after;
        depth += 1;
    }
    (nodes, literals, params)
}

/// The most nodes below the root that row `i`'s pattern shares with the pattern of a row
/// before it.
const fn shared_prefix_nodes<S>(routes: &[Route<S>], i: usize) -> usize {
    let mut most = 0;
    let mut j = 0;
    // Bounded: the rows before `i`.
    while j < i {
        let shared = shared_shape(routes[i].pattern, routes[j].pattern);
        if shared > most {
            most = shared;
        }
        j += 1;
    }
    most
}

/// How many leading segments of `a` have the shape of `b`'s, up to a tail of `a` (a tail is
/// no node of its own): the trie nodes below the root the two patterns share. One pass over
/// both, which stops at the first byte that tells them apart: the compiler runs this for every
/// pair of rows of a table, so it must be cheap for a table of a few hundred routes.
const fn shared_shape(a: &str, b: &str) -> usize {
    let (a, b) = (segments_of(a).as_bytes(), segments_of(b).as_bytes());
    let (mut i, mut j, mut shared) = (0, 0, 0);
    // Bounded: each turn consumes a segment of each pattern.
    loop {
        let (param_a, param_b) = (i < a.len() && a[i] == b'{', j < b.len() && b[j] == b'{');
        let tail = param_a
            && ((i + 1 < a.len() && a[i + 1] == b'*') || (j + 1 < b.len() && b[j + 1] == b'*'));
        if param_a != param_b || tail {
            // A literal against a parameter, or a tail: a tail is the same shape as a tail,
            // but no node.
            return shared;
        }
        if param_a {
            // Two parameters, whatever their names and types.
            i = segment_end(a, i);
            j = segment_end(b, j);
        } else {
            // Two literals: the same bytes up to a `/` or the end in both.
            // Bounded: the shorter segment.
            while i < a.len() && j < b.len() && a[i] != b'/' && a[i] == b[j] {
                i += 1;
                j += 1;
            }
            let end_a = i == a.len() || a[i] == b'/';
            let end_b = j == b.len() || b[j] == b'/';
            if !(end_a && end_b) {
                return shared;
            }
        }
        shared += 1;
        if i == a.len() || j == b.len() {
            return shared;
        }
        i += 1;
        j += 1;
    }
}

/// Where the segment of `pattern` that starts at `from` ends: its `/`, or the end.
const fn segment_end(pattern: &[u8], from: usize) -> usize {
    let mut end = from;
    // Bounded: the length of the pattern.
    while end < pattern.len() && pattern[end] != b'/' {
        end += 1;
    }
    end
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

    /// Paths are distinct patterns; a prefix shared by several patterns is one node (`/users`
    /// for three, `/users/{id}` for two); a tail is no node.
    #[test]
    fn counted_from_the_table() {
        let capacity = RouterCapacity::of(TABLE);
        assert_eq!(
            capacity,
            RouterCapacity {
                paths: 5,
                // The root; /users, /users/{}, /users/me, /users/{}/posts,
                // /users/{}/posts/{}; /static; and / (the root's empty segment).
                nodes: 8,
                // Five literal nodes (users, me, posts, static and "") and two static paths
                // (/users/me and /).
                literal_slots: 16,
                param_slots: 4,
                extensions: 2,
            }
        );
        let built = Router::new(TABLE).expect("a valid table");
        assert_eq!(built.used(), capacity);
    }

    proptest::proptest! {
        /// The one-pass count of shared nodes is the segment-by-segment one, for valid
        /// patterns and invalid ones alike (on these it must only not panic: the compiler
        /// runs it on whatever a table holds).
        #[test]
        fn shared_shape_counts_the_shared_prefix(
            a in proptest::collection::vec(proptest::sample::select(PIECES), 0..5),
            b in proptest::collection::vec(proptest::sample::select(PIECES), 0..5),
        ) {
            let pattern = |pieces: &[&str]| std::format!("/{}", pieces.join("/"));
            let (a, b) = (pattern(&a), pattern(&b));
            let shared = shared_shape(&a, &b);
            if crate::router::Pattern::parse(std::string::String::leak(a.clone())).is_ok()
                && crate::router::Pattern::parse(std::string::String::leak(b.clone())).is_ok()
            {
                let mut expected = 0;
                while let (Some(x), Some(y)) = (
                    crate::router::pattern::segment_at(&a, expected),
                    crate::router::pattern::segment_at(&b, expected),
                ) {
                    if matches!(kind_of(x), SegmentKind::Tail)
                        || !crate::router::pattern::same_shape(x, y)
                    {
                        break;
                    }
                    expected += 1;
                }
                proptest::prop_assert_eq!(shared, expected, "{} {}", a, b);
            }
        }
    }

    /// Pieces of patterns for `shared_shape`: literals sharing prefixes, parameters, tails,
    /// the empty literal, and broken syntax.
    const PIECES: &[&str] = &["a", "ab", "b", "", "{x}", "{y:u8}", "{*t}", "{", "{*", "a{"];

    /// Parameters share a node whatever their names and types; literals share one only under
    /// the same prefix.
    #[test]
    fn nodes_are_distinct_prefixes_by_shape() {
        static SHARED: &[Route<()>] = &[
            Route::get("/a/{x}/b", h),
            Route::get("/a/{y:u8}/c", h),
            Route::get("/b/{x}/b", h),
            Route::get("/a/{x}/b/{*rest}", h),
            Route::get("/{*all}", h),
            Route::get("/a/", h),
        ];
        // The root; /a, /a/{}, /a/{}/b, /a/{}/c, /b, /b/{}, /b/{}/b, /a/.
        let capacity = RouterCapacity::of(SHARED);
        assert_eq!(capacity.nodes, 9);
        // /a, /a/{}/b, /a/{}/c, /b, /b/{}/b and /a/ end with a literal; /a/ is static.
        assert_eq!(capacity.literal_slots, 16);
        let used = Router::new(SHARED).expect("valid").used();
        assert_eq!(
            (used.nodes, used.literal_slots),
            (capacity.nodes, capacity.literal_slots)
        );
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
        assert!(Router::<(), 5, 8, 16, 4, 2>::build(TABLE).is_ok());
        let too_many = |result: Result<_, RouteError>| match result {
            Err(RouteError::TooMany { what, capacity }) => Some((what, capacity)),
            _ => None,
        };
        assert_eq!(
            too_many(Router::<(), 4, 8, 16, 4, 2>::build(TABLE).map(drop)),
            Some(("paths", 4))
        );
        assert_eq!(
            too_many(Router::<(), 5, 7, 16, 4, 2>::build(TABLE).map(drop)),
            Some(("pattern prefixes (index nodes)", 7))
        );
        assert_eq!(
            too_many(Router::<(), 5, 8, 15, 4, 2>::build(TABLE).map(drop)),
            Some((
                "literal slots (twice the literal nodes and static paths, to a power of two)",
                15
            ))
        );
        assert_eq!(
            too_many(Router::<(), 5, 8, 16, 3, 2>::build(TABLE).map(drop)),
            Some(("parameters summed over all paths", 3))
        );
        assert_eq!(
            too_many(Router::<(), 5, 8, 16, 4, 1>::build(TABLE).map(drop)),
            Some(("extension-method routes", 1))
        );
    }

    /// An empty table needs nothing, but every capacity is at least 1 (the index, its root).
    #[test]
    fn an_empty_table_needs_one_of_each() {
        let empty: &[Route<()>] = &[];
        let one = RouterCapacity {
            paths: 1,
            nodes: 1,
            literal_slots: 1,
            param_slots: 1,
            extensions: 1,
        };
        assert_eq!(RouterCapacity::of(empty), one);
    }
}
