//! Properties of the router (`zzz_core::router`), checked with proptest over generated route
//! tables, against a reference model written from the module documentation:
//!
//! > The most specific route wins, whatever the declaration order: comparing segment by
//! > segment from the left, a literal beats a parameter, a parameter beats a tail, and ending
//! > beats a tail. Literals match the percent-decoded segment; an encoded `/` (`%2F`) is never
//! > a separator.
//!
//! and from issue 3 ("a route's own path always matches it; adding routes in any order gives
//! the same matches; conflicts are always detected"):
//!
//! - (a) A route's own path (its pattern with parameters filled by digits, which no literal
//!   spells) resolves to that route, or to a route that also matches the path and is strictly
//!   more specific by the documented order; and the whole answer (route, parameters, `405`
//!   with `Allow`, automatic `OPTIONS`, `404`, `501`) is the model's, for standard methods,
//!   extension methods (declared or not) and `Route::any` alike.
//! - (b) Building the same routes in any order gives the same answers on a set of probe paths.
//! - (c) A route whose shape duplicates an existing one (same literals, parameters in the same
//!   places under any names and types) makes [`Router::new`] fail with
//!   [`RouteError::Conflict`] naming both routes, the earlier one first; distinct shapes are
//!   never refused.
//! - (d) `resolve` never panics on arbitrary path strings (with or without the leading `/`,
//!   deep, with stray `%`) and arbitrary methods, and agrees with the model there too.
//!
//! Case counts keep the file within a few seconds in a debug build; `PROPTEST_CASES`
//! overrides them.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use zzz_core::handler::{Ctx, Request, Response};
use zzz_core::http::{Method, MethodSet, Status};
use zzz_core::router::{RouteMatch, RouteMethod};
use zzz_core::{Route, RouteError, Router};

/// `n` cases, unless `PROPTEST_CASES` asks for another number.
fn cases(n: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = n;
    }
    config
}

fn handler(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::NO_CONTENT)
}

// ───────────────────────────────────────────────────────────────────────── generators

/// Literal segments: letters only, so that a digit-only value never equals one. A small
/// alphabet, so that tables share prefixes and compete for the same paths.
const LITERALS: &[&str] = &["a", "b", "ab", "users", "x"];
/// Methods a route may be declared for: the standard ones, extension methods (`get` is one:
/// methods are case-sensitive) and any method. CONNECT is left out: zzz refuses a CONNECT
/// route and answers CONNECT with `501` (see `connect_route_is_refused`).
const ROUTE_METHODS: &[RouteMethod] = &[
    RouteMethod::Token("GET"),
    RouteMethod::Token("HEAD"),
    RouteMethod::Token("POST"),
    RouteMethod::Token("PUT"),
    RouteMethod::Token("DELETE"),
    RouteMethod::Token("OPTIONS"),
    RouteMethod::Token("TRACE"),
    RouteMethod::Token("PATCH"),
    RouteMethod::Token("PURGE"),
    RouteMethod::Token("QUERY"),
    RouteMethod::Token("get"),
    RouteMethod::Any,
];
/// Methods requests are sent with: every declarable one, CONNECT, and an extension method no
/// table declares.
const ALL_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PURGE",
    "QUERY", "get", "BREW",
];
const PARAM_TYPES: &[&str] = &["", ":str", ":u32", ":u64", ":i32", ":u8"];

/// One segment of a generated pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum GenSeg {
    Literal(&'static str),
    /// A parameter with its type suffix (`""` or `":u32"`...).
    Param(&'static str),
}

/// What ends a generated pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GenEnd {
    Nothing,
    /// A trailing slash: an empty last literal.
    Slash,
    Tail,
}

#[derive(Clone, Debug)]
struct GenShape {
    segments: Vec<GenSeg>,
    end: GenEnd,
}

/// What a pattern segment matches, for the model: names and types do not matter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    Literal(String),
    Param,
    Tail,
}

impl GenShape {
    /// The pattern, with parameters named `{prefix}{i}`.
    fn pattern(&self, prefix: &str) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            out.push('/');
            match seg {
                GenSeg::Literal(text) => out.push_str(text),
                GenSeg::Param(ty) => out.push_str(&format!("{{{prefix}{i}{ty}}}")),
            }
        }
        match self.end {
            GenEnd::Nothing if self.segments.is_empty() => out.push('/'),
            GenEnd::Nothing => {}
            GenEnd::Slash => out.push('/'),
            GenEnd::Tail => out.push_str(&format!("/{{*{prefix}t}}")),
        }
        out
    }
}

/// The shape of a pattern, read from its text as the module documentation describes it.
fn shape_of(pattern: &str) -> Vec<Shape> {
    pattern
        .strip_prefix('/')
        .expect("patterns start with /")
        .split('/')
        .map(|seg| {
            if seg.starts_with("{*") {
                Shape::Tail
            } else if seg.starts_with('{') {
                Shape::Param
            } else {
                Shape::Literal(seg.to_string())
            }
        })
        .collect()
}

fn gen_shape() -> impl Strategy<Value = GenShape> {
    let segment = prop_oneof![
        2 => select(LITERALS).prop_map(GenSeg::Literal),
        1 => select(PARAM_TYPES).prop_map(GenSeg::Param),
    ];
    let end = prop_oneof![
        5 => Just(GenEnd::Nothing),
        1 => Just(GenEnd::Slash),
        2 => Just(GenEnd::Tail),
    ];
    (vec(segment, 0..5), end).prop_map(|(segments, end)| GenShape { segments, end })
}

/// One row of a generated table, before it is leaked into a `Route`.
#[derive(Clone, Debug)]
struct GenRoute {
    method: RouteMethod,
    pattern: &'static str,
}

/// A valid table: distinct shapes, each under one pattern text, each with a non-empty set of
/// methods; rows in a random order.
fn gen_table() -> impl Strategy<Value = Vec<GenRoute>> {
    vec(
        (
            gen_shape(),
            proptest::bits::u16::between(0, ROUTE_METHODS.len()),
        ),
        1..14,
    )
    .prop_map(|shapes| {
        let mut seen: Vec<Vec<Shape>> = Vec::new();
        let mut rows = Vec::new();
        for (shape, method_bits) in shapes {
            let pattern = shape.pattern("p");
            let key = shape_of(&pattern);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let pattern: &'static str = Box::leak(pattern.into_boxed_str());
            let mut any = false;
            for (i, &method) in ROUTE_METHODS.iter().enumerate() {
                if method_bits & (1 << i) != 0 {
                    rows.push(GenRoute { method, pattern });
                    any = true;
                }
            }
            if !any {
                rows.push(GenRoute {
                    method: RouteMethod::Token("GET"),
                    pattern,
                });
            }
        }
        rows
    })
    .prop_shuffle()
}

fn leak_table(rows: &[GenRoute]) -> &'static [Route<()>] {
    let routes: Vec<Route<()>> = rows
        .iter()
        .map(|r| match r.method {
            RouteMethod::Token(token) => Route::method(token, r.pattern, handler),
            RouteMethod::Any => Route::any(r.pattern, handler),
        })
        .collect();
    Box::leak(routes.into_boxed_slice())
}

/// Digits, which no literal spells.
fn digits() -> impl Strategy<Value = String> {
    (0u32..100_000).prop_map(|n| n.to_string())
}

/// A path segment for probes: literals (some percent-encoded), digits, empty, and the
/// escapes the router must not take for a separator or a literal.
fn probe_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(LITERALS).prop_map(String::from),
        2 => digits(),
        1 => Just(String::new()),
        1 => select(LITERALS).prop_map(|l| l.bytes().map(|b| format!("%{b:02X}")).collect()),
        1 => select(&["%2F", "a%2Fb", "%", "%4", "%zz", "%00", "%61%", "caf%C3%A9", "%FF"][..])
            .prop_map(String::from),
    ]
}

fn probe_path() -> impl Strategy<Value = String> {
    (vec(probe_segment(), 0..7), any::<bool>()).prop_map(|(segments, slash)| {
        let joined = segments.join("/");
        if slash || joined.is_empty() {
            format!("/{joined}")
        } else {
            joined
        }
    })
}

/// The route's own path: its literals, digits for its parameters, and zero or more segments
/// (of any kind) for its tail.
fn own_path(pattern: &str, values: &[String], tail: &[String]) -> String {
    let shape = shape_of(pattern);
    let mut out = String::new();
    for (i, seg) in shape.iter().enumerate() {
        match seg {
            Shape::Literal(text) => {
                out.push('/');
                out.push_str(text);
            }
            Shape::Param => {
                out.push('/');
                out.push_str(&values[i % values.len()]);
            }
            Shape::Tail => {
                for t in tail {
                    out.push('/');
                    out.push_str(t);
                }
            }
        }
    }
    if out.is_empty() {
        out.push('/'); // `/{*t}` with an empty tail.
    }
    out
}

// ───────────────────────────────────────────────────────────────────────── the model

/// A segment percent-decoded as a path segment: `None` for an invalid escape, `%2F`, `%00`.
fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            if value == b'/' || value == 0 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The raw parameter values `pattern` captures from `path`, or `None` if it does not match.
fn model_match(pattern: &'static str, path: &str) -> Option<Vec<(String, String)>> {
    let rest = path.strip_prefix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    let pattern_segments: Vec<&str> = pattern[1..].split('/').collect();
    let mut params = Vec::new();
    for (i, p) in pattern_segments.iter().enumerate() {
        if let Some(name) = p.strip_prefix("{*") {
            let name = name.trim_end_matches('}');
            params.push((name.to_string(), segments.get(i..).unwrap_or(&[]).join("/")));
            return Some(params);
        }
        let segment = segments.get(i)?;
        if let Some(inner) = p.strip_prefix('{') {
            if segment.is_empty() {
                return None;
            }
            let name = inner.trim_end_matches('}').split(':').next().unwrap();
            params.push((name.to_string(), segment.to_string()));
        } else if decode_segment(segment)? != p.as_bytes() {
            return None;
        }
    }
    (segments.len() == pattern_segments.len()).then_some(params)
}

/// The documented order between two patterns that match the same path: the first segment
/// where they differ decides; literal before parameter before tail, and ending before tail.
fn more_specific(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (shape_of(a), shape_of(b));
    for i in 0.. {
        let rank = |s: &[Shape]| match s.get(i) {
            Some(Shape::Literal(_)) => 0,
            Some(Shape::Param) => 1,
            None => 2,
            Some(Shape::Tail) => 3,
        };
        let (ra, rb) = (rank(&a), rank(&b));
        if ra != rb {
            // Literal against end, or parameter against end, cannot both match one path.
            assert!(
                ra == 3 || rb == 3 || (ra < 2 && rb < 2),
                "two matching patterns differ in a way the documentation does not order: {a:?} {b:?}"
            );
            return ra.cmp(&rb);
        }
        if i >= a.len() {
            return Ordering::Equal;
        }
    }
    unreachable!()
}

/// The answer the documentation promises, in a form both sides can be compared in.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Found {
        method: RouteMethod,
        pattern: &'static str,
        params: Vec<(String, String)>,
    },
    /// The standard methods of `Allow`, its extension methods in order, and its value.
    MethodNotAllowed(MethodSet, Vec<&'static str>, String),
    Options(MethodSet, Vec<&'static str>, String),
    NotFound,
    NotImplemented,
}

fn answer_of(m: RouteMatch<'_, '_, ()>, path: &str) -> Answer {
    match m {
        RouteMatch::Found { route, params } => {
            let params = params
                .iter()
                .map(|(n, v)| {
                    let range = path.as_bytes().as_ptr_range();
                    assert!(
                        v.is_empty() || range.contains(&v.as_ptr()),
                        "a parameter value is a slice of the path"
                    );
                    (n.to_string(), v.to_string())
                })
                .collect();
            Answer::Found {
                method: route.method,
                pattern: route.pattern,
                params,
            }
        }
        RouteMatch::MethodNotAllowed { allow } => Answer::MethodNotAllowed(
            allow.standard(),
            allow.extensions().collect(),
            allow.to_string(),
        ),
        RouteMatch::Options { allow } => Answer::Options(
            allow.standard(),
            allow.extensions().collect(),
            allow.to_string(),
        ),
        RouteMatch::NotFound => Answer::NotFound,
        RouteMatch::NotImplemented => Answer::NotImplemented,
    }
}

/// The most specific pattern of `rows` that matches `path`.
fn model_winner(rows: &[GenRoute], path: &str) -> Option<&'static str> {
    let mut best: Option<&'static str> = None;
    let mut seen: Vec<&'static str> = Vec::new();
    for row in rows {
        if seen.contains(&row.pattern) {
            continue; // One row per method: the pattern was judged already.
        }
        seen.push(row.pattern);
        if model_match(row.pattern, path).is_none() {
            continue;
        }
        best = match best {
            Some(b) if more_specific(b, row.pattern).is_le() => Some(b),
            _ => Some(row.pattern),
        };
    }
    best
}

/// What the model says about a path, whatever the method: the winning pattern, its
/// parameters, and the methods declared for it, in the table's order.
type PathVerdict = Option<(&'static str, Vec<(String, String)>, Vec<RouteMethod>)>;

fn model_path(rows: &[GenRoute], path: &str) -> PathVerdict {
    let pattern = model_winner(rows, path)?;
    let declared = rows
        .iter()
        .filter(|r| r.pattern == pattern)
        .map(|r| r.method)
        .collect();
    Some((pattern, model_match(pattern, path).unwrap(), declared))
}

/// The router module's documentation: CONNECT is 501 (RFC 9110 §15.6.2); no path is 404;
/// then the method's own route, HEAD by the GET route (RFC 9110 §9.3.2), the path's `any`
/// route, OPTIONS answered with `Allow` (§9.3.7), and 405 with `Allow` for any other method
/// (§15.5.6), extension methods included.
fn model_answer(verdict: &PathVerdict, method: &'static str) -> Answer {
    if method == "CONNECT" {
        return Answer::NotImplemented;
    }
    let Some((pattern, params, declared)) = verdict else {
        return Answer::NotFound;
    };
    let has = |m: RouteMethod| declared.contains(&m);
    let served_by = if has(RouteMethod::Token(method)) {
        Some(RouteMethod::Token(method))
    } else if method == "HEAD" && has(RouteMethod::Token("GET")) {
        Some(RouteMethod::Token("GET"))
    } else if has(RouteMethod::Any) {
        Some(RouteMethod::Any)
    } else {
        None
    };
    if let Some(m) = served_by {
        return Answer::Found {
            method: m,
            pattern,
            params: params.clone(),
        };
    }
    // `Allow` (RFC 9110 §10.2.1): the standard methods in a fixed order, HEAD with GET,
    // OPTIONS always, then the extension methods in byte order.
    let mut standard = MethodSet::of(Method::Options);
    let mut extensions = Vec::new();
    for m in declared {
        let RouteMethod::Token(token) = *m else {
            continue;
        };
        match Method::from_token(token.as_bytes()) {
            Method::Extension => extensions.push(token),
            Method::Get => standard = standard.with(Method::Get).with(Method::Head),
            other => standard = standard.with(other),
        }
    }
    extensions.sort_unstable();
    let value = standard
        .iter()
        .map(|m| m.as_str().unwrap())
        .chain(extensions.iter().copied())
        .collect::<Vec<_>>()
        .join(", ");
    if method == "OPTIONS" {
        Answer::Options(standard, extensions, value)
    } else {
        Answer::MethodNotAllowed(standard, extensions, value)
    }
}

/// The router's answer for `path` with each of `methods` is the model's.
fn check_against_model(
    router: &Router<()>,
    rows: &[GenRoute],
    methods: &[&'static str],
    path: &str,
) -> Result<(), TestCaseError> {
    let verdict = model_path(rows, path);
    for &method in methods {
        let actual = answer_of(router.resolve(method, path), path);
        let expected = model_answer(&verdict, method);
        prop_assert_eq!(&actual, &expected, "{:?} {:?}", method, path);
    }
    Ok(())
}

// ───────────────────────────────────────────────────────────────────────── properties

proptest! {
    #![proptest_config(cases(256))]

    /// (a) A route's own path resolves to it, or to a strictly more specific route that also
    /// matches it; and the whole answer is the documented one.
    #[test]
    fn own_path_resolves_to_the_route_or_a_more_specific_one(
        rows in gen_table(),
        values in vec(digits(), 1..4),
        tail in vec(probe_segment(), 0..3),
    ) {
        let router = Router::new(leak_table(&rows)).expect("distinct shapes are accepted");
        for row in &rows {
            let path = own_path(row.pattern, &values, &tail);
            prop_assert!(
                model_match(row.pattern, &path).is_some(),
                "generator: {} should match {}", row.pattern, path
            );
            let winner = model_winner(&rows, &path).unwrap();
            prop_assert!(
                winner == row.pattern || more_specific(winner, row.pattern).is_lt(),
                "{} won over {} on {}", winner, row.pattern, path
            );
            let token = match row.method {
                RouteMethod::Token(token) => token,
                // Any method the path declares no route for: one no table declares.
                RouteMethod::Any => "BREW",
            };
            let answer = answer_of(router.resolve(token, &path), &path);
            if winner == row.pattern {
                prop_assert_eq!(
                    &answer,
                    &Answer::Found {
                        method: row.method,
                        pattern: row.pattern,
                        params: model_match(row.pattern, &path).unwrap(),
                    },
                    "{} {}", row.pattern, path
                );
            }
            check_against_model(&router, &rows, ALL_METHODS, &path)?;
        }
    }

    /// (b) The declaration order does not change any answer.
    #[test]
    fn declaration_order_does_not_matter(
        (rows, shuffled) in gen_table().prop_flat_map(|rows| {
            let shuffled = Just(rows.clone()).prop_shuffle();
            (Just(rows), shuffled)
        }),
        probes in vec(probe_path(), 1..24),
        values in vec(digits(), 1..3),
    ) {
        let a = Router::new(leak_table(&rows)).expect("valid table");
        let b = Router::new(leak_table(&shuffled)).expect("the same table, reordered");
        let own = rows.iter().map(|r| own_path(r.pattern, &values, &[]));
        for path in probes.iter().cloned().chain(own) {
            for &method in ALL_METHODS {
                let (x, y) = (a.resolve(method, &path), b.resolve(method, &path));
                prop_assert_eq!(answer_of(x, &path), answer_of(y, &path), "{:?} {}", method, path);
            }
            check_against_model(&a, &rows, ALL_METHODS, &path)?;
        }
    }

    /// (c) A duplicate shape (same literals, parameters and tail in the same places, any
    /// names and types) is refused, naming both routes, the earlier one first.
    #[test]
    fn duplicate_shapes_are_conflicts(
        rows in gen_table(),
        original in any::<Index>(),
        position in any::<Index>(),
        rename in any::<bool>(),
        retype in vec(select(PARAM_TYPES), 8),
        other_method in proptest::option::of(select(ROUTE_METHODS)),
    ) {
        let original = &rows[original.index(rows.len())];
        // The same shape, re-spelled: other names and types for the parameters and the tail.
        let prefix = if rename { "q" } else { "p" };
        let mut k = 0;
        let respelled: Vec<String> = original.pattern[1..]
            .split('/')
            .enumerate()
            .map(|(i, seg)| {
                if seg.starts_with("{*") {
                    format!("{{*{prefix}t}}")
                } else if seg.starts_with('{') {
                    k += 1;
                    format!("{{{prefix}{i}{}}}", retype[k % retype.len()])
                } else {
                    seg.to_string()
                }
            })
            .collect();
        let pattern: &'static str = Box::leak(format!("/{}", respelled.join("/")).into_boxed_str());
        prop_assert_eq!(shape_of(pattern), shape_of(original.pattern));
        let method = other_method.unwrap_or(original.method);
        let duplicate = GenRoute { method, pattern };
        let at = position.index(rows.len() + 1);
        let mut table = rows.clone();
        table.insert(at, duplicate.clone());

        // Two rows conflict when they have one shape and either differ in spelling or share
        // a method. The generated table has none, so every conflict involves the duplicate.
        let conflicts = |x: &GenRoute, y: &GenRoute| {
            shape_of(x.pattern) == shape_of(y.pattern)
                && (x.pattern != y.pattern || x.method == y.method)
        };
        let expect_conflict = rows.iter().any(|r| conflicts(r, &duplicate));
        match Router::new(leak_table(&table)) {
            Ok(_) => prop_assert!(!expect_conflict, "{:?} was accepted beside {:?}", duplicate, rows),
            Err(RouteError::Conflict { first, second }) => {
                prop_assert!(expect_conflict, "a conflict where none is: {:?} {:?}", first, second);
                let key = |r: &GenRoute| (r.method, r.pattern);
                let dup = key(&duplicate);
                prop_assert!(first == dup || second == dup, "the duplicate is named: {:?} {:?}", first, second);
                let position_of = |k: (RouteMethod, &str)| {
                    table.iter().enumerate()
                        .filter(|(_, r)| key(r) == k)
                        .map(|(i, _)| i)
                        .collect::<Vec<_>>()
                };
                let (fs, ss) = (position_of(first), position_of(second));
                prop_assert!(!fs.is_empty() && !ss.is_empty(), "both named routes are rows");
                let (f, s) = (&table[fs[0]], &table[*ss.last().unwrap()]);
                prop_assert!(conflicts(f, s), "the named routes conflict: {:?} {:?}", f, s);
                prop_assert!(fs[0] < *ss.last().unwrap(), "the earlier route is named first");
            }
            Err(other) => prop_assert!(false, "expected a conflict, got {:?}", other),
        }
        if other_method.is_none() {
            prop_assert!(expect_conflict, "the same method on the same shape always conflicts");
        }
    }

    /// (d) Arbitrary paths and methods: no panic, and the documented answer.
    #[test]
    fn resolve_never_panics(
        rows in gen_table(),
        paths in vec(
            prop_oneof![
                any::<String>(),
                "/[a-z%/0-9]{0,40}",
                probe_path(),
                vec(probe_segment(), 15..40).prop_map(|s| format!("/{}", s.join("/"))),
            ],
            1..16,
        ),
        method in select(ALL_METHODS),
    ) {
        let router = Router::new(leak_table(&rows)).expect("valid table");
        for path in &paths {
            check_against_model(&router, &rows, &[method], path)?;
        }
    }
}

// ───────────────────────────────────────────────────────────────────────── edge cases

/// The capture offsets of a path beyond 64 KiB. The server never routes one (a request line
/// is at most `u16::MAX` bytes), but `Router::resolve` is public.
#[test]
fn parameters_of_a_very_long_path() {
    static ROUTES: &[Route<()>] = &[Route::get("/files/{*rest}", handler)];
    let router = Router::new(ROUTES).unwrap();
    let path = format!("/files/{}/end", "a".repeat(70_000));
    let RouteMatch::Found { params, .. } = router.resolve("GET", &path) else {
        panic!("the tail route matches")
    };
    assert_eq!(params.get("rest"), Some(&path["/files/".len()..]));
}

/// The module documentation: CONNECT is `501`, since zzz implements no tunnels, and issue 3:
/// conflicting or unreachable routes are an error when the table is built, "never a silent
/// shadow". A CONNECT row could never serve, so the table is refused, naming it.
#[test]
fn connect_route_is_refused() {
    static ROUTES: &[Route<()>] = &[
        Route::get("/tunnel", handler),
        Route::new(Method::Connect, "/tunnel", handler),
    ];
    match Router::new(ROUTES) {
        Err(RouteError::InvalidMethod { route, .. }) => {
            assert_eq!(route, (RouteMethod::Token("CONNECT"), "/tunnel"))
        }
        other => panic!("{other:?}"),
    }
    static ANY: &[Route<()>] = &[Route::any("/tunnel", handler)];
    let router = Router::new(ANY).unwrap();
    assert!(matches!(
        router.resolve("CONNECT", "/tunnel"),
        RouteMatch::NotImplemented
    ));
}
