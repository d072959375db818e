//! Fuzzes the router (`zzz_core::router`): tables built from methods and pattern pieces the
//! input picks, then looked up with methods and paths picked the same way, against a model
//! written from the module documentation:
//!
//! > The most specific route wins, whatever the declaration order: comparing segment by
//! > segment from the left, a literal beats a parameter, a parameter beats a tail, and ending
//! > beats a tail. Literals match the percent-decoded segment; an encoded `/` (`%2F`) is never
//! > a separator.
//!
//! > Once the path has matched, the request goes to, in order: the route of its own method
//! > (methods are case-sensitive tokens); for HEAD, the GET route; the path's `Route::any`;
//! > for OPTIONS, an automatic `204` with `Allow`; otherwise `405 Method Not Allowed` with
//! > `Allow`, listing the methods the path declares, extension methods included, HEAD with GET,
//! > and OPTIONS. No matching path is `404`, whatever the method. CONNECT is `501`, and a
//! > CONNECT route is refused when the table is built.
//!
//! Input layout: byte 0 is the number of routes (modulo 48); each route and then each probe
//! (up to 16) is a method byte, a shape byte (low 5 bits: segments; bit 7: no leading `/`) and
//! one byte per segment choosing a piece. A route's method byte picks from [`TABLE_METHODS`]:
//! every standard method through `Route::new` (CONNECT and `Method::Extension` included, both
//! refused), standard tokens spelt through `Route::method` (the same rows), extension tokens
//! (`PURGE`, `QUERY`, `X-A`, lowercase `get`), invalid tokens (`BAD METHOD`, empty, `(any)`)
//! and `Route::any`. A probe's picks from [`PROBE_METHODS`]: every standard token, the same
//! extension and invalid tokens, and a token no table declares. Pieces include every parameter
//! type, tails, invalid syntax, escapes (valid, invalid, `%2F`, `%00`), and literals at 256
//! bytes and past them.
//!
//! Checks: no panic; `Router::new` accepts the table in one order exactly when it accepts it
//! reversed, and both give the same answers; a table it accepts has no invalid method and no
//! two routes that serve the same requests; an error is true of the routes it names (an
//! `InvalidMethod` names a row whose method is not a token or is CONNECT, a `Conflict` names a
//! row and a later one with the same shape and the same method or another spelling of the
//! pattern); every answer is the model's: the route (its method, pattern and raw parameters),
//! or the `Allow` of a `405` or an automatic OPTIONS (its standard methods, its extension
//! methods in byte order, its field value, and which tokens it contains); `all_methods` lists
//! each method of the table once; `RouterCapacity::of` the table is exactly what the router
//! uses.

#![no_main]

use core::cmp::Ordering;
use libfuzzer_sys::fuzz_target;
use zzz_core::handler::{Ctx, Request, Response};
use zzz_core::http::percent::{Decode, decode_into};
use zzz_core::http::{Method, MethodSet, Status};
use zzz_core::router::{Allow, RouteMatch, RouteMethod, RouterCapacity};
use zzz_core::{Route, RouteError, Router};

/// How a table row names its method: every way a user can spell one.
#[derive(Clone, Copy, Debug)]
enum MethodPick {
    /// `Route::new(method, ..)`.
    Variant(Method),
    /// `Route::method(token, ..)`.
    Token(&'static str),
    /// `Route::any(..)`.
    Any,
}

/// The methods of table rows. GET and `any` appear twice: they are the ones that interact
/// with the others (HEAD's fallback, the fallback of every method).
const TABLE_METHODS: &[MethodPick] = &[
    MethodPick::Variant(Method::Get),
    MethodPick::Variant(Method::Head),
    MethodPick::Variant(Method::Post),
    MethodPick::Variant(Method::Put),
    MethodPick::Variant(Method::Delete),
    MethodPick::Variant(Method::Connect),
    MethodPick::Variant(Method::Options),
    MethodPick::Variant(Method::Trace),
    MethodPick::Variant(Method::Patch),
    // Names no method: the row is refused.
    MethodPick::Variant(Method::Extension),
    // The same rows as their variants.
    MethodPick::Token("GET"),
    MethodPick::Token("HEAD"),
    MethodPick::Token("OPTIONS"),
    MethodPick::Token("CONNECT"),
    MethodPick::Token("PURGE"),
    MethodPick::Token("QUERY"),
    MethodPick::Token("X-A"),
    // Methods are case-sensitive (RFC 9110 §9.1): an extension method, not GET.
    MethodPick::Token("get"),
    MethodPick::Token("BAD METHOD"),
    MethodPick::Token(""),
    // How `RouteMethod::Any` displays, but not a token.
    MethodPick::Token("(any)"),
    MethodPick::Any,
    MethodPick::Variant(Method::Get),
    MethodPick::Any,
];

/// The methods of probes: every standard token, the tables' extension and invalid tokens, and
/// an extension token no table declares.
const PROBE_METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PURGE",
    "QUERY",
    "X-A",
    "get",
    "UNLISTED",
    "BAD METHOD",
    "",
    "(any)",
];

/// A literal of the longest length a pattern may have (`MAX_LITERAL`, 256 bytes).
const LONG: &str = concat!(
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
);
/// One byte past it: refused when the table is built.
const LONGER: &str = concat!(
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
);
/// `LONG` with its first byte escaped: it must still match `LONG`.
const LONG_ESCAPED: &str = concat!(
    "%6Clllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
);

/// Segments of route patterns: literals, parameters of every type, tails, and mistakes.
const PATTERN_PIECES: &[&str] = &[
    "a",
    "b",
    "ab",
    "users",
    "A",
    "caf\u{e9}",
    "a%41",
    "",
    LONG,
    LONGER,
    "{id}",
    "{id:u8}",
    "{id:u64}",
    "{n:i32}",
    "{n:i64}",
    "{v:u16}",
    "{w:u32}",
    "{name:str}",
    "{p0}",
    "{p1}",
    "{p2}",
    "{p3}",
    "{p4}",
    "{p5}",
    "{p6}",
    "{p7}",
    "{*rest}",
    "{*path}",
    "{id:float}",
    "{}",
    "{a-b}",
    "a{b}",
    "{*}",
    "{x",
    "x}",
    "*",
];

/// Segments of probed paths: the literals above, spelt plainly and escaped, values of every
/// type and past them, and escapes of every kind.
const PATH_PIECES: &[&str] = &[
    "a",
    "b",
    "ab",
    "users",
    "A",
    "%61",
    "%41",
    "caf%C3%A9",
    "caf\u{e9}",
    "a%2541",
    "a%41",
    "",
    "42",
    "0",
    "-7",
    "256",
    "65536",
    "18446744073709551616",
    "%2F",
    "a%2fb",
    "%00",
    "%zz",
    "%",
    "%4",
    "{id}",
    "*",
    LONG,
    LONGER,
    LONG_ESCAPED,
];

fn handler(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::NO_CONTENT)
}

/// The input, read a byte at a time; zeros once it is exhausted.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    /// One of `choices`.
    fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.next() as usize % choices.len()]
    }

    /// A method, then `/`-joined pieces.
    fn spec<M: Copy>(&mut self, methods: &[M], pieces: &[&str]) -> (M, String) {
        let method = self.pick(methods);
        let shape = self.next();
        let mut text = String::new();
        if shape & 0x80 == 0 {
            text.push('/');
        }
        for i in 0..shape & 0x1f {
            if i > 0 {
                text.push('/');
            }
            text.push_str(self.pick(pieces));
        }
        (method, text)
    }
}

/// Lends `value` as `'static` to `f`, then frees it. `Router::new` takes a `'static` table;
/// leaking one per run would grow without bound over millions of runs.
fn lend_static<T: ?Sized + 'static>(value: Box<T>, f: impl FnOnce(&'static T)) {
    let raw = Box::into_raw(value);
    // SAFETY: `raw` comes from `Box::into_raw` and is valid until freed below. `f` returns
    // nothing and this target keeps nothing it was lent beyond `f` (no statics, no
    // thread-locals), so no reference to it is used after this call.
    f(unsafe { &*raw });
    // SAFETY: freed once, after the last use of what was lent.
    drop(unsafe { Box::from_raw(raw) });
}

/// The standard method spelt `token`, if it is one (tokens are case-sensitive).
fn standard_method(token: &str) -> Option<Method> {
    Method::KNOWN
        .into_iter()
        .find(|m| m.as_str() == Some(token))
}

/// Whether `text` is a token (RFC 9110 §5.6.2: one or more tchar).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a table may declare a route for `method`: a token (RFC 9110 §9.1), and not
/// CONNECT, which zzz does not implement.
fn declarable(method: RouteMethod) -> bool {
    match method {
        RouteMethod::Token(token) => is_token(token) && token != "CONNECT",
        RouteMethod::Any => true,
    }
}

/// A pattern segment as the model reads it (the router validated the pattern).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Segment<'a> {
    Literal(&'a str),
    Param(&'a str),
    Tail(&'a str),
}

fn segments(pattern: &str) -> Vec<Segment<'_>> {
    pattern[1..]
        .split('/')
        .map(|s| match s.strip_prefix("{*") {
            Some(name) => Segment::Tail(&name[..name.len() - 1]),
            None if s.starts_with('{') => {
                let inner = &s[1..s.len() - 1];
                Segment::Param(inner.split(':').next().unwrap())
            }
            None => Segment::Literal(s),
        })
        .collect()
}

/// Whether two (valid) patterns differ at most in parameter names and types: they match the
/// same paths.
fn same_shape(a: &str, b: &str) -> bool {
    let (a, b) = (segments(a), segments(b));
    a.len() == b.len()
        && a.iter().zip(&b).all(|pair| match pair {
            (Segment::Literal(x), Segment::Literal(y)) => x == y,
            (Segment::Param(_), Segment::Param(_)) | (Segment::Tail(_), Segment::Tail(_)) => true,
            _ => false,
        })
}

/// Whether two rows, both declarable and with valid patterns, would serve the same requests:
/// one pattern spelt two ways, or one method declared twice for a pattern.
fn conflict(a: &Route<()>, b: &Route<()>) -> bool {
    same_shape(a.pattern, b.pattern) && (a.pattern != b.pattern || a.method == b.method)
}

/// The parameters `pattern` captures from `path` (names and raw values), if it matches.
fn model_match<'p>(pattern: &str, path: &'p str) -> Option<Vec<(String, &'p str)>> {
    let rest = path.strip_prefix('/')?;
    // Each path segment with its byte offset in `path`.
    let mut offset = 1;
    let parts: Vec<(usize, &str)> = rest
        .split('/')
        .map(|s| {
            let at = offset;
            offset += s.len() + 1;
            (at, s)
        })
        .collect();
    let mut captures = Vec::new();
    let pattern = segments(pattern);
    for (i, segment) in pattern.iter().enumerate() {
        match *segment {
            Segment::Tail(name) => {
                let start = parts.get(i).map_or(path.len(), |&(at, _)| at);
                captures.push((name.to_string(), &path[start..]));
                return Some(captures);
            }
            Segment::Param(name) => {
                let &(_, value) = parts.get(i)?;
                if value.is_empty() {
                    return None;
                }
                captures.push((name.to_string(), value));
            }
            Segment::Literal(text) => {
                let &(_, value) = parts.get(i)?;
                let mut decoded = vec![0u8; value.len()];
                let same = decode_into(value.as_bytes(), Decode::PathSegment, &mut decoded)
                    .is_ok_and(|d| d == text.as_bytes());
                if !same {
                    return None;
                }
            }
        }
    }
    (parts.len() == pattern.len()).then_some(captures)
}

/// The documented specificity order: literal < parameter < end < tail, segment by segment.
fn specificity(a: &str, b: &str) -> Ordering {
    let rank = |s: Option<&Segment>| match s {
        Some(Segment::Literal(_)) => 0,
        Some(Segment::Param(_)) => 1,
        None => 2,
        Some(Segment::Tail(_)) => 3,
    };
    let (a, b) = (segments(a), segments(b));
    (0..a.len().max(b.len()))
        .map(|i| rank(a.get(i)).cmp(&rank(b.get(i))))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// An `Allow`, comparable with the model's: its standard methods, its extension methods in the
/// order it lists them, the field's value, and whether it contains each of [`PROBE_METHODS`].
#[derive(PartialEq, Debug)]
struct AllowList {
    standard: MethodSet,
    extensions: Vec<String>,
    field: String,
    contains: Vec<bool>,
}

impl AllowList {
    fn of(allow: &Allow) -> AllowList {
        AllowList {
            standard: allow.standard(),
            extensions: allow.extensions().map(str::to_string).collect(),
            field: allow.to_string(),
            contains: PROBE_METHODS.iter().map(|m| allow.contains(m)).collect(),
        }
    }

    /// What the documentation says a path declaring `rows` allows: its standard methods, HEAD
    /// with GET, and OPTIONS always (RFC 9110 §10.2.1), in `Method::KNOWN` order; then its
    /// extension methods, each once, in byte order. `Route::any` adds none.
    fn model<'a>(rows: impl Iterator<Item = &'a Route<()>>) -> AllowList {
        let mut standard = MethodSet::of(Method::Options);
        let mut extensions = Vec::new();
        for row in rows {
            let RouteMethod::Token(token) = row.method else {
                continue;
            };
            match standard_method(token) {
                Some(method) => standard = standard.with(method),
                None => extensions.push(token.to_string()),
            }
        }
        if standard.contains(Method::Get) {
            standard = standard.with(Method::Head);
        }
        extensions.sort();
        extensions.dedup();
        let names: Vec<String> = standard
            .iter()
            .filter_map(Method::as_str)
            .map(str::to_string)
            .chain(extensions.iter().cloned())
            .collect();
        let contains = PROBE_METHODS
            .iter()
            .map(|m| match standard_method(m) {
                Some(method) => standard.contains(method),
                None => extensions.iter().any(|e| e == m),
            })
            .collect();
        AllowList {
            standard,
            field: names.join(", "),
            extensions,
            contains,
        }
    }
}

/// An answer, comparable across two tables and with the model's.
#[derive(PartialEq, Debug)]
enum Answer {
    /// The route's method and pattern (unique in a table the router accepts) and its
    /// parameters, raw.
    Found(RouteMethod, String, Vec<(String, String)>),
    MethodNotAllowed(AllowList),
    Options(AllowList),
    NotFound,
    NotImplemented,
}

fn answer(router: &Router<()>, method: &str, path: &str) -> Answer {
    match router.resolve(method, path) {
        RouteMatch::Found { route, params } => {
            let mut out = [0u8; 512];
            for (name, _) in params.iter() {
                let _ = params.decode(name, &mut out);
            }
            let params = params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            Answer::Found(route.method, route.pattern.to_string(), params)
        }
        RouteMatch::MethodNotAllowed { allow } => Answer::MethodNotAllowed(AllowList::of(&allow)),
        RouteMatch::Options { allow } => Answer::Options(AllowList::of(&allow)),
        RouteMatch::NotFound => Answer::NotFound,
        RouteMatch::NotImplemented => Answer::NotImplemented,
    }
}

/// The documented answer of a table the router accepted to `method` and `path`.
fn model_answer(routes: &[Route<()>], method: &str, path: &str) -> Answer {
    if method == "CONNECT" {
        return Answer::NotImplemented;
    }
    let Some(winner) = routes
        .iter()
        .filter(|r| model_match(r.pattern, path).is_some())
        .min_by(|a, b| specificity(a.pattern, b.pattern))
        .map(|r| r.pattern)
    else {
        return Answer::NotFound;
    };
    // An accepted table spells each shape one way, so the winner's rows share its pattern.
    let rows = || routes.iter().filter(|r| r.pattern == winner);
    let declared =
        |token: &str| rows().find(|r| matches!(r.method, RouteMethod::Token(t) if t == token));
    let own = declared(method);
    let get_for_head = (method == "HEAD").then(|| declared("GET")).flatten();
    let any = rows().find(|r| r.method == RouteMethod::Any);
    match own.or(get_for_head).or(any) {
        Some(route) => {
            let params = model_match(winner, path)
                .expect("the winner matches")
                .into_iter()
                .map(|(n, v)| (n, v.to_string()))
                .collect();
            Answer::Found(route.method, winner.to_string(), params)
        }
        None if method == "OPTIONS" => Answer::Options(AllowList::model(rows())),
        None => Answer::MethodNotAllowed(AllowList::model(rows())),
    }
}

/// A table the router accepted: every method declarable, no two rows serving the same
/// requests.
fn check_accepted(routes: &[Route<()>]) {
    for (i, a) in routes.iter().enumerate() {
        assert!(declarable(a.method), "accepted {a:?}");
        for b in &routes[i + 1..] {
            assert!(!conflict(a, b), "accepted {a:?} and {b:?}");
        }
    }
}

/// `all_methods`: the union of the paths' `Allow`s, each extension method once.
fn check_all_methods(router: &Router<()>, routes: &[Route<()>]) {
    let all = router.all_methods();
    let mut patterns: Vec<&str> = routes.iter().map(|r| r.pattern).collect();
    patterns.sort_unstable();
    patterns.dedup();
    let per_path: Vec<AllowList> = patterns
        .iter()
        .map(|&p| AllowList::model(routes.iter().filter(|r| r.pattern == p)))
        .collect();
    let standard = per_path
        .iter()
        .fold(MethodSet::EMPTY, |acc, a| acc.union(a.standard));
    assert_eq!(all.standard(), standard, "all_methods");
    let listed: Vec<&str> = all.extensions().collect();
    let mut once = listed.clone();
    once.sort_unstable();
    once.dedup();
    assert_eq!(once.len(), listed.len(), "all_methods lists {listed:?}");
    let mut expected: Vec<&str> = per_path
        .iter()
        .flat_map(|a| a.extensions.iter().map(String::as_str))
        .collect();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(once, expected, "all_methods");
}

/// An error is true of the routes it names.
fn check_error(routes: &[Route<()>], error: RouteError) {
    let first = |(method, pattern): (RouteMethod, &str)| {
        routes
            .iter()
            .position(|r| r.method == method && r.pattern == pattern)
    };
    let last = |(method, pattern): (RouteMethod, &str)| {
        routes
            .iter()
            .rposition(|r| r.method == method && r.pattern == pattern)
    };
    match error {
        RouteError::InvalidPattern { route, .. } => {
            assert!(first(route).is_some(), "{error:?}")
        }
        RouteError::InvalidMethod { route, .. } => {
            assert!(first(route).is_some() && !declarable(route.0), "{error:?}")
        }
        RouteError::Conflict {
            first: a,
            second: b,
        } => {
            let (Some(i), Some(j)) = (first(a), last(b)) else {
                panic!("{error:?} names a route not in the table");
            };
            assert!(i < j, "{error:?}: the first is declared later");
            assert!(
                declarable(a.0) && declarable(b.0) && conflict(&routes[i], &routes[j]),
                "{error:?}"
            );
        }
        // Tables here have fewer than 48 rows, each with at most 16 segments over a few
        // literals: far below every capacity of a table.
        RouteError::TooMany { .. } => panic!("{error:?}"),
    }
}

fn route(method: MethodPick, pattern: &'static str) -> Route<()> {
    match method {
        MethodPick::Variant(method) => Route::new(method, pattern, handler),
        MethodPick::Token(token) => Route::method(token, pattern, handler),
        MethodPick::Any => Route::any(pattern, handler),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    // Tables of a few dozen routes: building one costs a square of its size, and more routes
    // add little that a few dozen over these pieces do not already reach.
    let count = input.next() as usize % 48;
    let specs: Vec<(MethodPick, String)> = (0..count)
        .map(|_| input.spec(TABLE_METHODS, PATTERN_PIECES))
        .collect();
    let mut probes = Vec::new();
    while !input.0.is_empty() && probes.len() < 16 {
        probes.push(input.spec(PROBE_METHODS, PATH_PIECES));
    }

    // Every pattern in one string, lent as `'static` for this run.
    let mut text = String::new();
    let mut ranges = Vec::with_capacity(specs.len());
    for (_, pattern) in &specs {
        ranges.push(text.len()..text.len() + pattern.len());
        text.push_str(pattern);
    }
    lend_static(text.into_boxed_str(), |text| {
        let routes: Vec<Route<()>> = specs
            .iter()
            .zip(&ranges)
            .map(|((method, _), range)| route(*method, &text[range.clone()]))
            .collect();
        let reversed: Vec<Route<()>> = routes.iter().rev().copied().collect();
        lend_static(routes.into_boxed_slice(), |routes| {
            lend_static(reversed.into_boxed_slice(), |reversed| {
                let built = Router::new(routes);
                let built_reversed = Router::new(reversed);
                let (router, router_reversed) = match (built, built_reversed) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(a), Err(b)) => {
                        check_error(routes, a);
                        check_error(reversed, b);
                        return;
                    }
                    (a, b) => panic!("declaration order changed the verdict: {a:?} / {b:?}"),
                };
                check_accepted(routes);
                assert_eq!(router.routes().len(), routes.len());
                // A router sized by `RouterCapacity::of` holds every table the largest holds.
                let (used, needed) = (router.used(), RouterCapacity::of(routes));
                let at_least_one = |n: usize| n.max(1);
                assert_eq!(at_least_one(used.paths), needed.paths);
                assert_eq!(used.nodes, needed.nodes);
                assert_eq!(used.literal_slots, needed.literal_slots);
                assert_eq!(at_least_one(used.param_slots), needed.param_slots);
                assert_eq!(at_least_one(used.extensions), needed.extensions);
                check_all_methods(&router, routes);
                for (method, path) in &probes {
                    let got = answer(&router, method, path);
                    assert_eq!(
                        got,
                        answer(&router_reversed, method, path),
                        "{method:?} {path:?} in reversed order"
                    );
                    assert_eq!(
                        got,
                        model_answer(routes, method, path),
                        "{method:?} {path:?}"
                    );
                }
            })
        })
    });
});
