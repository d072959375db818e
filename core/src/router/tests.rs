//! Router unit tests.

use super::*;
use crate::handler::{Ctx, Request, Response};
use crate::http::Status;

fn h(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::OK)
}

fn found(router: &Router<()>, method: &str, path: &str) -> Option<&'static str> {
    match router.resolve(method, path) {
        RouteMatch::Found { route, .. } => Some(route.pattern),
        _ => None,
    }
}

static TABLE: &[Route<()>] = &[
    Route::get("/static/{*path}", h),
    Route::get("/users/{id:u64}", h),
    Route::get("/users/me", h),
    Route::get("/users/{id:u64}/posts/{post}", h),
    Route::post("/users", h),
    Route::get("/", h),
    Route::get("/a/", h),
    Route::get("/{*any}", h),
    Route::get("/caf\u{e9}", h),
];

/// The most specific route wins, whatever the declaration order.
#[test]
fn specificity() {
    let r = Router::new(TABLE).unwrap();
    assert_eq!(found(&r, "GET", "/users/me"), Some("/users/me"));
    assert_eq!(found(&r, "GET", "/users/42"), Some("/users/{id:u64}"));
    assert_eq!(
        found(&r, "GET", "/users/42/posts/x"),
        Some("/users/{id:u64}/posts/{post}")
    );
    assert_eq!(found(&r, "GET", "/"), Some("/"));
    assert_eq!(found(&r, "GET", "/a/"), Some("/a/"));
    assert_eq!(found(&r, "GET", "/a"), Some("/{*any}"));
    assert_eq!(found(&r, "GET", "/users/42/posts"), Some("/{*any}"));
    assert_eq!(
        found(&r, "GET", "/users/"),
        Some("/{*any}"),
        "params never match empty segments"
    );
}

/// Mounts match on whole segments: `/static` and `/static/...`, never `/staticx`.
#[test]
fn mounts() {
    let r = Router::new(TABLE).unwrap();
    for path in [
        "/static",
        "/static/",
        "/static/a.css",
        "/static/css/a/b.css",
    ] {
        assert_eq!(found(&r, "GET", path), Some("/static/{*path}"), "{path}");
    }
    assert_eq!(found(&r, "GET", "/staticx"), Some("/{*any}"));
    let RouteMatch::Found { params, .. } = r.resolve("GET", "/static/css/a.css") else {
        panic!()
    };
    assert_eq!(params.get("path"), Some("css/a.css"));
    let RouteMatch::Found { params, .. } = r.resolve("GET", "/static") else {
        panic!()
    };
    assert_eq!(params.get("path"), Some(""));
}

#[test]
fn parameters() {
    let r = Router::new(TABLE).unwrap();
    let RouteMatch::Found { params, .. } = r.resolve("GET", "/users/42/posts/hello%20world") else {
        panic!()
    };
    assert_eq!(params.parse::<u64>("id"), Ok(42));
    assert_eq!(params.get("post"), Some("hello%20world"));
    let mut buf = [0u8; 32];
    assert_eq!(params.decode("post", &mut buf), Ok("hello world"));
    assert_eq!(params.parse::<u64>("nope"), Err(ParamError::Missing));
    let RouteMatch::Found { params, .. } = r.resolve("GET", "/users/4x2") else {
        panic!()
    };
    assert_eq!(params.first_mismatch().map(|(n, _)| n), Some("id"));
}

/// Literals match the percent-decoded segment; `%2F` is not a separator.
#[test]
fn percent_encoded_literals() {
    let r = Router::new(TABLE).unwrap();
    assert_eq!(found(&r, "GET", "/caf%C3%A9"), Some("/caf\u{e9}"));
    assert_eq!(found(&r, "GET", "/users%2Fme"), Some("/{*any}"));
}

/// RFC 9110 §15.5.6 (405 + Allow), §9.3.2 (HEAD via GET), §9.3.7 (OPTIONS), §15.6.2 (501).
#[test]
fn methods() {
    let r = Router::new(TABLE).unwrap();
    assert_eq!(found(&r, "HEAD", "/users/me"), Some("/users/me"));
    match r.resolve("DELETE", "/users") {
        RouteMatch::MethodNotAllowed { allow } => {
            assert_eq!(
                allow.standard(),
                MethodSet::of(Method::Post).with(Method::Options)
            );
            assert_eq!(std::format!("{allow}"), "POST, OPTIONS");
        }
        other => panic!("{other:?}"),
    }
    match r.resolve("OPTIONS", "/users/me") {
        RouteMatch::Options { allow } => assert_eq!(std::format!("{allow}"), "GET, HEAD, OPTIONS"),
        other => panic!("{other:?}"),
    }
    // RFC 9110 §9.1: methods are case-sensitive; `get` is an extension method, which no
    // route of this path names: 405 like any other method the resource lacks.
    for method in ["PURGE", "get", "QUERY"] {
        match r.resolve(method, "/users/me") {
            RouteMatch::MethodNotAllowed { allow } => {
                assert_eq!(std::format!("{allow}"), "GET, HEAD, OPTIONS", "{method}")
            }
            other => panic!("{method}: {other:?}"),
        }
    }
    assert!(matches!(
        r.resolve("CONNECT", "/users/me"),
        RouteMatch::NotImplemented
    ));
    static ONLY: &[Route<()>] = &[Route::get("/x", h)];
    let only = ONLY;
    let r = Router::new(only).unwrap();
    assert!(matches!(r.resolve("GET", "/y"), RouteMatch::NotFound));
    assert!(matches!(r.resolve("PURGE", "/y"), RouteMatch::NotFound));
}

fn purge(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::ACCEPTED)
}

fn fallback(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::NOT_FOUND)
}

static EXTENDED: &[Route<()>] = &[
    Route::get("/cache/{*key}", h),
    Route::method("PURGE", "/cache/{*key}", purge),
    Route::method("QUERY", "/search", h),
    Route::method("purge", "/cache/{*key}", h),
    Route::any("/echo/{*rest}", fallback),
    Route::get("/echo/{*rest}", h),
    Route::method("REPORT", "/echo/{*rest}", purge),
    Route::method("GET", "/plain", h),
];

/// The route a request reaches, as `METHOD /pattern`.
fn route_of(r: &Router<()>, method: &str, path: &str) -> Option<std::string::String> {
    match r.resolve(method, path) {
        RouteMatch::Found { route, .. } => Some(std::format!("{route}")),
        _ => None,
    }
}

/// Extension methods are routed by their token, case-sensitively (RFC 9110 §9.1); `Allow`
/// lists the ones a path declares (RFC 9110 §10.2.1).
#[test]
fn extension_methods() {
    let r = Router::new(EXTENDED).unwrap();
    let some = |s: &str| Some(std::string::String::from(s));
    assert_eq!(
        route_of(&r, "PURGE", "/cache/a/b"),
        some("PURGE /cache/{*key}")
    );
    assert_eq!(
        route_of(&r, "purge", "/cache/a/b"),
        some("purge /cache/{*key}")
    );
    assert_eq!(route_of(&r, "QUERY", "/search"), some("QUERY /search"));
    assert_eq!(route_of(&r, "GET", "/cache/a"), some("GET /cache/{*key}"));
    let RouteMatch::Found { route, .. } = r.resolve("GET", "/plain") else {
        panic!("GET /plain")
    };
    assert_eq!(
        route.method.standard(),
        Some(Method::Get),
        "`GET` is Route::get"
    );
    match r.resolve("DELETE", "/cache/a") {
        RouteMatch::MethodNotAllowed { allow } => {
            assert_eq!(std::format!("{allow}"), "GET, HEAD, OPTIONS, PURGE, purge");
            assert!(allow.contains("PURGE") && allow.contains("purge") && allow.contains("HEAD"));
            assert!(!allow.contains("QUERY") && !allow.contains("DELETE"));
        }
        other => panic!("{other:?}"),
    }
    match r.resolve("GET", "/search") {
        RouteMatch::MethodNotAllowed { allow } => {
            assert_eq!(std::format!("{allow}"), "OPTIONS, QUERY")
        }
        other => panic!("{other:?}"),
    }
    match r.resolve("OPTIONS", "/search") {
        RouteMatch::Options { allow } => assert_eq!(std::format!("{allow}"), "OPTIONS, QUERY"),
        other => panic!("{other:?}"),
    }
    // `OPTIONS *`: every method of the table, each once.
    let all = std::format!("{}", r.all_methods());
    let mut listed: std::vec::Vec<&str> = all.split(", ").collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "GET", "HEAD", "OPTIONS", "PURGE", "QUERY", "REPORT", "purge"
        ]
    );
}

/// `Route::any` takes every method its path has no route of its own for, after HEAD has
/// tried the GET route (RFC 9110 §9.3.2); OPTIONS reaches it too; CONNECT never does.
#[test]
fn any_method() {
    let r = Router::new(EXTENDED).unwrap();
    let some = |s: &str| Some(std::string::String::from(s));
    assert_eq!(route_of(&r, "GET", "/echo/x"), some("GET /echo/{*rest}"));
    assert_eq!(route_of(&r, "HEAD", "/echo/x"), some("GET /echo/{*rest}"));
    assert_eq!(
        route_of(&r, "REPORT", "/echo/x"),
        some("REPORT /echo/{*rest}")
    );
    for method in ["POST", "DELETE", "OPTIONS", "TRACE", "PATCH", "BREW", "x"] {
        assert_eq!(
            route_of(&r, method, "/echo/x"),
            some("(any) /echo/{*rest}"),
            "{method}"
        );
    }
    assert!(matches!(
        r.resolve("CONNECT", "/echo/x"),
        RouteMatch::NotImplemented
    ));
    static ANY_ONLY: &[Route<()>] = &[Route::any("/", fallback)];
    let r = Router::new(ANY_ONLY).unwrap();
    assert_eq!(route_of(&r, "HEAD", "/"), some("(any) /"));
    assert!(matches!(r.resolve("GET", "/x"), RouteMatch::NotFound));
}

/// A route's method must be a token (RFC 9110 §9.1), and not CONNECT; the error names the
/// route.
#[test]
fn invalid_methods() {
    static SPACE: &[Route<()>] = &[Route::get("/a", h), Route::method("PU RGE", "/a", h)];
    let e = Router::new(SPACE).unwrap_err();
    assert!(matches!(
        e,
        RouteError::InvalidMethod {
            route: (RouteMethod::Token("PU RGE"), "/a"),
            ..
        }
    ));
    assert!(std::format!("{e}").starts_with("route `PU RGE /a`: the method is not a token"));
    static EMPTY: &[Route<()>] = &[Route::new(Method::Extension, "/a", h)];
    assert!(matches!(
        Router::new(EMPTY),
        Err(RouteError::InvalidMethod {
            route: (RouteMethod::Token(""), "/a"),
            ..
        })
    ));
    static CONNECT: &[Route<()>] = &[Route::method("CONNECT", "/a", h)];
    assert!(matches!(
        Router::new(CONNECT),
        Err(RouteError::InvalidMethod { .. })
    ));
    static PARENS: &[Route<()>] = &[Route::method("(any)", "/a", h)];
    assert!(matches!(
        Router::new(PARENS),
        Err(RouteError::InvalidMethod { .. })
    ));
}

/// The same extension method twice on one path, or two `any` routes, conflict; the error
/// names both routes, the earlier first.
#[test]
fn extension_conflicts() {
    static TWICE: &[Route<()>] = &[
        Route::method("PURGE", "/a/{x}", h),
        Route::get("/a/{x}", h),
        Route::method("PURGE", "/a/{x}", purge),
    ];
    assert_eq!(
        Router::new(TWICE).unwrap_err(),
        RouteError::Conflict {
            first: (RouteMethod::Token("PURGE"), "/a/{x}"),
            second: (RouteMethod::Token("PURGE"), "/a/{x}"),
        }
    );
    static ANY_TWICE: &[Route<()>] = &[Route::any("/a", h), Route::any("/a", h)];
    let e = Router::new(ANY_TWICE).unwrap_err();
    assert_eq!(
        std::format!("{e}"),
        "routes `(any) /a` and `(any) /a` match the same requests"
    );
    static RESPELT: &[Route<()>] = &[
        Route::method("PURGE", "/a/{x}", h),
        Route::method("QUERY", "/a/{y}", h),
    ];
    assert_eq!(
        Router::new(RESPELT).unwrap_err(),
        RouteError::Conflict {
            first: (RouteMethod::Token("PURGE"), "/a/{x}"),
            second: (RouteMethod::Token("QUERY"), "/a/{y}"),
        }
    );
}

/// At most `MAX_EXTENSION_ROUTES` extension-method routes: at the limit the table builds,
/// one past it is refused.
#[test]
fn extension_route_limit() {
    let names: std::vec::Vec<&'static str> = (0..=MAX_EXTENSION_ROUTES)
        .map(|i| &*std::boxed::Box::leak(std::format!("M{i}").into_boxed_str()))
        .collect();
    let table = |n: usize| -> &'static [Route<()>] {
        let rows: std::vec::Vec<Route<()>> = names[..n]
            .iter()
            .map(|m| Route::method(m, "/x", h))
            .collect();
        std::boxed::Box::leak(rows.into_boxed_slice())
    };
    let r = Router::new(table(MAX_EXTENSION_ROUTES)).expect("at the limit");
    assert_eq!(route_of(&r, "M63", "/x").as_deref(), Some("M63 /x"));
    assert!(matches!(
        Router::new(table(MAX_EXTENSION_ROUTES + 1)),
        Err(RouteError::TooMany { .. })
    ));
}

/// Conflicts are errors that name both routes.
#[test]
fn conflicts() {
    static SAME_SHAPE: &[Route<()>] =
        &[Route::get("/users/{id}", h), Route::get("/users/{name}", h)];
    let e = Router::new(SAME_SHAPE).unwrap_err();
    assert_eq!(
        e,
        RouteError::Conflict {
            first: (Method::Get.into(), "/users/{id}"),
            second: (Method::Get.into(), "/users/{name}")
        }
    );
    assert_eq!(
        std::format!("{e}"),
        "routes `GET /users/{id}` and `GET /users/{name}` match the same requests"
    );
    static TWICE: &[Route<()>] = &[
        Route::get("/a", h),
        Route::post("/a", h),
        Route::get("/a", h),
    ];
    assert!(matches!(
        Router::new(TWICE),
        Err(RouteError::Conflict { .. })
    ));
    static TYPED: &[Route<()>] = &[Route::get("/a/{x:u32}", h), Route::post("/a/{x}", h)];
    assert!(matches!(
        Router::new(TYPED),
        Err(RouteError::Conflict { .. })
    ));
    static BAD: &[Route<()>] = &[Route::get("/a/{x", h)];
    assert!(matches!(
        Router::new(BAD),
        Err(RouteError::InvalidPattern { .. })
    ));
    static FINE: &[Route<()>] = &[
        Route::get("/a/{x}", h),
        Route::post("/a/{x}", h),
        Route::get("/a/b", h),
    ];
    assert!(Router::new(FINE).is_ok());
}

/// Segments deeper than any pattern match only tails.
#[test]
fn deep_paths() {
    let r = Router::new(TABLE).unwrap();
    let deep: std::string::String = (0..40).map(|i| std::format!("/s{i}")).collect();
    assert_eq!(found(&r, "GET", &deep), Some("/{*any}"));
    static NO_TAIL: &[Route<()>] = &[Route::get("/a", h)];
    let r = Router::new(NO_TAIL).unwrap();
    assert!(matches!(r.resolve("GET", &deep), RouteMatch::NotFound));
}

/// A tail matches zero or more segments, so `/static` and `/static/` resolve to
/// `/static/{*path}` with an empty tail, and an empty tail is not a type mismatch (the bench
/// contract's `GET /` reaches its `/{*path}` echo instead of a 400).
#[test]
fn empty_tail_is_not_a_mismatch() {
    let r = Router::new(TABLE).unwrap();
    for path in ["/static", "/static/"] {
        let RouteMatch::Found { params, .. } = r.resolve("GET", path) else {
            panic!("{path}")
        };
        assert_eq!(params.first_mismatch(), None, "{path}");
    }
    static TAIL_ONLY: &[Route<()>] = &[Route::post("/{*any}", h)];
    let r = Router::new(TAIL_ONLY).unwrap();
    let RouteMatch::Found { params, .. } = r.resolve("POST", "/") else {
        panic!("/")
    };
    assert_eq!(params.first_mismatch(), None);
}

/// A literal that leads nowhere sends the walk back to the parameter, then to the tail; the
/// parameters are those of the path found, not of the way tried first.
#[test]
fn backtracking_finds_the_parameters_of_the_match() {
    static BACK: &[Route<()>] = &[
        Route::get("/a/b/c", h),
        Route::get("/{x}/b/d", h),
        Route::get("/a/{y}/{z}/e", h),
        Route::get("/{*t}", h),
    ];
    let r = Router::new(BACK).unwrap();
    let params = |path| match r.resolve("GET", path) {
        RouteMatch::Found { route, params } => {
            let values: std::vec::Vec<_> = params.iter().collect();
            (route.pattern, values)
        }
        other => panic!("{path}: {other:?}"),
    };
    assert_eq!(params("/a/b/c"), ("/a/b/c", std::vec![]));
    assert_eq!(params("/a/b/d"), ("/{x}/b/d", std::vec![("x", "a")]));
    assert_eq!(
        params("/a/q/r/e"),
        ("/a/{y}/{z}/e", std::vec![("y", "q"), ("z", "r")])
    );
    assert_eq!(params("/a/b/e"), ("/{*t}", std::vec![("t", "a/b/e")]));
    assert_eq!(params("/a/b/c/"), ("/{*t}", std::vec![("t", "a/b/c/")]));
}

/// The index against the simplest lookup there is: the first path, in the specificity order
/// the table ranks them by, whose pattern matches, read segment by segment.
mod against_a_linear_scan {
    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    /// Pieces of patterns: literals sharing prefixes, of up to and past the eight bytes the
    /// index compares as one integer, parameters of several names and types, tails, and the
    /// empty literal (a trailing `/`).
    const PATTERN_PIECES: &[&str] = &[
        "a",
        "b",
        "ab",
        "",
        "abcdefgh",
        "abcdefghij",
        "abcdefghik",
        "{x}",
        "{y:u8}",
        "{*t}",
    ];
    /// Pieces of paths: the literals, escaped or not, values no literal spells, empty ones.
    const PATH_PIECES: &[&str] = &[
        "a",
        "b",
        "ab",
        "",
        "abcdefgh",
        "abcdefghij",
        "abcdefghik",
        "%61",
        "abcdefgh%69j",
        "%2F",
        "%zz",
        "1",
        "abcdefghijk",
    ];

    /// Whether `pattern` (valid) matches `path`, as the module documentation says.
    fn matches(pattern: &'static str, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let pattern = Pattern::parse(pattern).expect("valid");
        for (i, piece) in pattern.segments.iter().enumerate() {
            let segment = segments.get(i);
            match piece.kind {
                SegmentKind::Tail => return segments.len() >= i,
                SegmentKind::Param if segment.is_none_or(|s| s.is_empty()) => return false,
                SegmentKind::Param => {}
                SegmentKind::Literal => {
                    let mut out = [0u8; 512];
                    let decoded = segment.and_then(|s| {
                        crate::http::percent::decode_into(
                            s.as_bytes(),
                            crate::http::percent::Decode::PathSegment,
                            &mut out,
                        )
                        .ok()
                    });
                    if decoded != Some(piece.text.as_bytes()) {
                        return false;
                    }
                }
            }
        }
        segments.len() == pattern.segments.len()
    }

    fn pattern() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PATTERN_PIECES), 1..5).prop_map(
            |pieces| {
                let mut text = String::new();
                for piece in pieces {
                    text.push('/');
                    text.push_str(piece);
                }
                text
            },
        )
    }

    fn path() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PATH_PIECES), 1..6).prop_map(|pieces| {
            let mut text = String::new();
            for piece in pieces {
                text.push('/');
                text.push_str(piece);
            }
            text
        })
    }

    proptest! {
        /// Every path resolves to the rank the scan finds, with the parameters the pattern
        /// names at the places the scan reads them; and the index uses exactly the nodes
        /// `RouterCapacity::of` counts.
        #[test]
        fn the_index_finds_what_the_scan_finds(
            patterns in proptest::collection::vec(pattern(), 1..24),
            paths in proptest::collection::vec(path(), 1..24),
        ) {
            // Invalid patterns (a tail before the end) and shapes declared twice are refused:
            // other properties cover that. The rest must build.
            let mut kept: Vec<(&'static str, Pattern)> = Vec::new();
            for text in patterns {
                let text: &'static str = String::leak(text);
                let Ok(parsed) = Pattern::parse(text) else { continue };
                if !kept.iter().any(|(_, other)| crate::router::specificity(other, &parsed).is_eq()) {
                    kept.push((text, parsed));
                }
            }
            let routes: Vec<Route<()>> = kept.iter().map(|(text, _)| Route::get(text, h)).collect();
            let routes: &'static [Route<()>] = routes.leak();
            let router = Router::new(routes).expect("valid, distinct shapes");
            prop_assert_eq!(RouterCapacity::of(routes).nodes, router.used().nodes);
            for path in &paths {
                let expected = router.paths.iter().position(|p| matches(p.pattern, path));
                // The walk alone, static paths included, finds it; and the table of static
                // paths finds it when it is one, and nothing else.
                let mut spans = [0; MAX_PARAMS];
                let got = router.trie.walk(path.as_bytes(), &mut spans).map(|w| w.rank);
                prop_assert_eq!(got, expected, "{}", path);
                let found = router.trie.find_static(path.as_bytes(), &router.paths);
                prop_assert!(found.is_none() || found == expected, "{}", path);
                let spelt = expected.is_some_and(|rank| {
                    let pattern = router.paths[rank].pattern;
                    pattern == path && trie::is_static(pattern)
                });
                prop_assert_eq!(found.is_some(), spelt, "{}", path);
                let Some(rank) = got else { continue };
                let RouteMatch::Found { params, .. } = router.resolve("GET", path) else {
                    panic!("{path}");
                };
                let pattern = Pattern::parse(router.paths[rank].pattern).expect("valid");
                let parts: Vec<&str> = path[1..].split('/').collect();
                for piece in pattern.segments.iter().filter(|p| p.kind != SegmentKind::Literal) {
                    let depth = pattern.segments.iter().position(|p| p == piece).expect("in it");
                    let value = match piece.kind {
                        SegmentKind::Tail if depth >= parts.len() => String::new(),
                        SegmentKind::Tail => parts[depth..].join("/"),
                        _ => String::from(parts[depth]),
                    };
                    prop_assert_eq!(params.get(piece.text), Some(value.as_str()), "{}", path);
                }
            }
        }
    }
}
