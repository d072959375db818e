//! Router unit tests.

use super::*;
use crate::handler::{Ctx, Request, Response};
use crate::http::Status;

fn h(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::OK)
}

fn found(router: &Router<()>, method: Method, path: &str) -> Option<&'static str> {
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
    assert_eq!(found(&r, Method::Get, "/users/me"), Some("/users/me"));
    assert_eq!(found(&r, Method::Get, "/users/42"), Some("/users/{id:u64}"));
    assert_eq!(
        found(&r, Method::Get, "/users/42/posts/x"),
        Some("/users/{id:u64}/posts/{post}")
    );
    assert_eq!(found(&r, Method::Get, "/"), Some("/"));
    assert_eq!(found(&r, Method::Get, "/a/"), Some("/a/"));
    assert_eq!(found(&r, Method::Get, "/a"), Some("/{*any}"));
    assert_eq!(found(&r, Method::Get, "/users/42/posts"), Some("/{*any}"));
    assert_eq!(
        found(&r, Method::Get, "/users/"),
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
        assert_eq!(
            found(&r, Method::Get, path),
            Some("/static/{*path}"),
            "{path}"
        );
    }
    assert_eq!(found(&r, Method::Get, "/staticx"), Some("/{*any}"));
    let RouteMatch::Found { params, .. } = r.resolve(Method::Get, "/static/css/a.css") else {
        panic!()
    };
    assert_eq!(params.get("path"), Some("css/a.css"));
    let RouteMatch::Found { params, .. } = r.resolve(Method::Get, "/static") else {
        panic!()
    };
    assert_eq!(params.get("path"), Some(""));
}

#[test]
fn parameters() {
    let r = Router::new(TABLE).unwrap();
    let RouteMatch::Found { params, .. } = r.resolve(Method::Get, "/users/42/posts/hello%20world")
    else {
        panic!()
    };
    assert_eq!(params.parse::<u64>("id"), Ok(42));
    assert_eq!(params.get("post"), Some("hello%20world"));
    let mut buf = [0u8; 32];
    assert_eq!(params.decode("post", &mut buf), Ok("hello world"));
    assert_eq!(params.parse::<u64>("nope"), Err(ParamError::Missing));
    let RouteMatch::Found { params, .. } = r.resolve(Method::Get, "/users/4x2") else {
        panic!()
    };
    assert_eq!(params.first_mismatch().map(|(n, _)| n), Some("id"));
}

/// Literals match the percent-decoded segment; `%2F` is not a separator.
#[test]
fn percent_encoded_literals() {
    let r = Router::new(TABLE).unwrap();
    assert_eq!(found(&r, Method::Get, "/caf%C3%A9"), Some("/caf\u{e9}"));
    assert_eq!(found(&r, Method::Get, "/users%2Fme"), Some("/{*any}"));
}

/// RFC 9110 §15.5.6 (405 + Allow), §9.3.2 (HEAD via GET), §9.3.7 (OPTIONS), §15.6.2 (501).
#[test]
fn methods() {
    let r = Router::new(TABLE).unwrap();
    assert_eq!(found(&r, Method::Head, "/users/me"), Some("/users/me"));
    match r.resolve(Method::Delete, "/users") {
        RouteMatch::MethodNotAllowed { allow } => {
            assert_eq!(allow, MethodSet::of(Method::Post).with(Method::Options));
        }
        other => panic!("{other:?}"),
    }
    match r.resolve(Method::Options, "/users/me") {
        RouteMatch::Options { allow } => {
            assert!(allow.contains(Method::Get) && allow.contains(Method::Head))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        r.resolve(Method::Extension, "/users/me"),
        RouteMatch::NotImplemented
    ));
    assert!(matches!(
        r.resolve(Method::Connect, "/users/me"),
        RouteMatch::NotImplemented
    ));
    static ONLY: &[Route<()>] = &[Route::get("/x", h)];
    let only = ONLY;
    let r = Router::new(only).unwrap();
    assert!(matches!(r.resolve(Method::Get, "/y"), RouteMatch::NotFound));
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
            first: (Method::Get, "/users/{id}"),
            second: (Method::Get, "/users/{name}")
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
    assert_eq!(found(&r, Method::Get, &deep), Some("/{*any}"));
    static NO_TAIL: &[Route<()>] = &[Route::get("/a", h)];
    let r = Router::new(NO_TAIL).unwrap();
    assert!(matches!(
        r.resolve(Method::Get, &deep),
        RouteMatch::NotFound
    ));
}

/// A tail matches zero or more segments, so `/static` and `/static/` resolve to
/// `/static/{*path}` with an empty tail, and an empty tail is not a type mismatch (the bench
/// contract's `GET /` reaches its `/{*path}` echo instead of a 400).
#[test]
fn empty_tail_is_not_a_mismatch() {
    let r = Router::new(TABLE).unwrap();
    for path in ["/static", "/static/"] {
        let RouteMatch::Found { params, .. } = r.resolve(Method::Get, path) else {
            panic!("{path}")
        };
        assert_eq!(params.first_mismatch(), None, "{path}");
    }
    static TAIL_ONLY: &[Route<()>] = &[Route::post("/{*any}", h)];
    let r = Router::new(TAIL_ONLY).unwrap();
    let RouteMatch::Found { params, .. } = r.resolve(Method::Post, "/") else {
        panic!("/")
    };
    assert_eq!(params.first_mismatch(), None);
}
