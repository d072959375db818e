//! Fuzzes the router (`zzz_core::router`): tables built from pattern pieces the input picks,
//! then looked up with paths built the same way, against a model written from the module
//! documentation:
//!
//! > The most specific route wins, whatever the declaration order: comparing segment by
//! > segment from the left, a literal beats a parameter, a parameter beats a tail, and ending
//! > beats a tail. Literals match the percent-decoded segment; an encoded `/` (`%2F`) is never
//! > a separator.
//!
//! Input layout: byte 0 is the number of routes (modulo 48); each route and then each probe
//! (up to 16) is a method byte, a shape byte (low 5 bits: segments; bit 7: no leading `/`) and
//! one byte per segment choosing a piece. Pieces include every parameter type, tails, invalid
//! syntax, escapes (valid, invalid, `%2F`, `%00`), and literals at 256 bytes and past them.
//!
//! Checks: no panic; `Router::new` accepts the table in one order exactly when it accepts it
//! reversed, and both give the same answers; an error names routes of the table; a path is
//! `404` exactly when no pattern matches it; a route found is the most specific pattern that
//! matches, declared for the method (or GET for HEAD), and its parameters are the model's.

#![no_main]

use core::cmp::Ordering;
use libfuzzer_sys::fuzz_target;
use zzz_core::handler::{Ctx, Request, Response};
use zzz_core::http::percent::{Decode, decode_into};
use zzz_core::http::{Method, MethodSet, Status};
use zzz_core::router::RouteMatch;
use zzz_core::{Route, RouteError, Router};

const METHODS: [Method; 10] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Connect,
    Method::Options,
    Method::Trace,
    Method::Patch,
    Method::Extension,
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

    /// A method, then `/`-joined pieces.
    fn spec(&mut self, pieces: &[&str]) -> (Method, String) {
        let method = METHODS[self.next() as usize % METHODS.len()];
        let shape = self.next();
        let mut text = String::new();
        if shape & 0x80 == 0 {
            text.push('/');
        }
        for i in 0..shape & 0x1f {
            if i > 0 {
                text.push('/');
            }
            text.push_str(pieces[self.next() as usize % pieces.len()]);
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

/// An answer, comparable across two tables: route method, pattern and parameters.
#[derive(PartialEq, Debug)]
enum Answer {
    Found(Method, String, Vec<(String, String)>),
    MethodNotAllowed(MethodSet),
    Options(MethodSet),
    NotFound,
    NotImplemented,
}

fn answer(router: &Router<()>, method: Method, path: &str) -> Answer {
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
        RouteMatch::MethodNotAllowed { allow } => Answer::MethodNotAllowed(allow),
        RouteMatch::Options { allow } => Answer::Options(allow),
        RouteMatch::NotFound => Answer::NotFound,
        RouteMatch::NotImplemented => Answer::NotImplemented,
    }
}

/// Checks one lookup against the model.
fn check_probe(routes: &[Route<()>], answer: &Answer, method: Method, path: &str) {
    let winner = routes
        .iter()
        .filter(|r| model_match(r.pattern, path).is_some())
        .min_by(|a, b| specificity(a.pattern, b.pattern))
        .map(|r| r.pattern);
    match answer {
        Answer::NotImplemented => {}
        Answer::NotFound => assert_eq!(winner, None, "404 for {path:?}"),
        Answer::MethodNotAllowed(_) | Answer::Options(_) => {
            assert!(
                winner.is_some(),
                "{answer:?} for {path:?} that nothing matches"
            )
        }
        Answer::Found(found, pattern, params) => {
            assert_eq!(Some(pattern.as_str()), winner, "route for {path:?}");
            assert!(
                *found == method || (method == Method::Head && *found == Method::Get),
                "{found:?} route serves {method:?}"
            );
            let expected: Vec<(String, String)> = model_match(pattern, path)
                .unwrap()
                .into_iter()
                .map(|(n, v)| (n, v.to_string()))
                .collect();
            assert_eq!(*params, expected, "parameters of {path:?}");
        }
    }
}

/// An error names routes of the table.
fn check_error(routes: &[Route<()>], error: RouteError) {
    let listed = |(method, pattern): (Method, &str)| {
        routes
            .iter()
            .any(|r| r.method == method && r.pattern == pattern)
    };
    match error {
        RouteError::InvalidPattern { route, .. } => assert!(listed(route), "{error:?}"),
        RouteError::Conflict { first, second } => {
            assert!(listed(first) && listed(second), "{error:?}")
        }
        RouteError::TooMany(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    // Tables of a few dozen routes: building one costs a square of its size, and more routes
    // add little that a few dozen over these pieces do not already reach.
    let count = input.next() as usize % 48;
    let specs: Vec<(Method, String)> = (0..count).map(|_| input.spec(PATTERN_PIECES)).collect();
    let mut probes = Vec::new();
    while !input.0.is_empty() && probes.len() < 16 {
        probes.push(input.spec(PATH_PIECES));
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
            .map(|((method, _), range)| Route::new(*method, &text[range.clone()], handler))
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
                        check_error(routes, b);
                        return;
                    }
                    (a, b) => panic!("declaration order changed the verdict: {a:?} / {b:?}"),
                };
                assert_eq!(router.routes().len(), routes.len());
                let _ = router.all_methods();
                for (method, path) in &probes {
                    let got = answer(&router, *method, path);
                    assert_eq!(
                        got,
                        answer(&router_reversed, *method, path),
                        "{method:?} {path:?} in reversed order"
                    );
                    check_probe(routes, &got, *method, path);
                }
            })
        })
    });
});
