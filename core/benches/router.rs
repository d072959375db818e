//! Lookup time of zzz's router against matchit on the same route sets: the GitHub API as
//! go-http-routing-benchmark declares it (203 routes, 142 distinct paths; matchit's own
//! benchmark routes the same paths) and a small app of 12 routes. Each lookup resolves a method and a path to a handler
//! and its parameters: for zzz one `Router::resolve`, for matchit one `Router::at` whose value
//! holds the handler of each method. Run with `cargo bench -p zzz-core --bench router`;
//! prints ns per lookup and the ratio zzz/matchit (below 1.0 means zzz is faster).

mod harness;

use std::time::Duration;

use harness::{Contender, compare, keep, report};
use zzz_core::handler::{Ctx, Request, Response};
use zzz_core::http::{Method, Status};
use zzz_core::router::RouteMatch;
use zzz_core::{Route, Router};

use Method::{Delete as DELETE, Get as GET, Post as POST, Put as PUT};

/// Rows of a route table, or requests to look up: a method and a path (pattern).
type Rows = &'static [(Method, &'static str)];

/// The GitHub API as go-http-routing-benchmark declares it (`githubAPI`, with its commented-out
/// rows left out), parameters in `{name}` syntax, which zzz and matchit share.
const GITHUB: &[(Method, &str)] = &[
    // OAuth Authorizations
    (GET, "/authorizations"),
    (GET, "/authorizations/{id}"),
    (POST, "/authorizations"),
    (DELETE, "/authorizations/{id}"),
    (GET, "/applications/{client_id}/tokens/{access_token}"),
    (DELETE, "/applications/{client_id}/tokens"),
    (DELETE, "/applications/{client_id}/tokens/{access_token}"),
    // Activity
    (GET, "/events"),
    (GET, "/repos/{owner}/{repo}/events"),
    (GET, "/networks/{owner}/{repo}/events"),
    (GET, "/orgs/{org}/events"),
    (GET, "/users/{user}/received_events"),
    (GET, "/users/{user}/received_events/public"),
    (GET, "/users/{user}/events"),
    (GET, "/users/{user}/events/public"),
    (GET, "/users/{user}/events/orgs/{org}"),
    (GET, "/feeds"),
    (GET, "/notifications"),
    (GET, "/repos/{owner}/{repo}/notifications"),
    (PUT, "/notifications"),
    (PUT, "/repos/{owner}/{repo}/notifications"),
    (GET, "/notifications/threads/{id}"),
    (GET, "/notifications/threads/{id}/subscription"),
    (PUT, "/notifications/threads/{id}/subscription"),
    (DELETE, "/notifications/threads/{id}/subscription"),
    (GET, "/repos/{owner}/{repo}/stargazers"),
    (GET, "/users/{user}/starred"),
    (GET, "/user/starred"),
    (GET, "/user/starred/{owner}/{repo}"),
    (PUT, "/user/starred/{owner}/{repo}"),
    (DELETE, "/user/starred/{owner}/{repo}"),
    (GET, "/repos/{owner}/{repo}/subscribers"),
    (GET, "/users/{user}/subscriptions"),
    (GET, "/user/subscriptions"),
    (GET, "/repos/{owner}/{repo}/subscription"),
    (PUT, "/repos/{owner}/{repo}/subscription"),
    (DELETE, "/repos/{owner}/{repo}/subscription"),
    (GET, "/user/subscriptions/{owner}/{repo}"),
    (PUT, "/user/subscriptions/{owner}/{repo}"),
    (DELETE, "/user/subscriptions/{owner}/{repo}"),
    // Gists
    (GET, "/users/{user}/gists"),
    (GET, "/gists"),
    (GET, "/gists/{id}"),
    (POST, "/gists"),
    (PUT, "/gists/{id}/star"),
    (DELETE, "/gists/{id}/star"),
    (GET, "/gists/{id}/star"),
    (POST, "/gists/{id}/forks"),
    (DELETE, "/gists/{id}"),
    // Git Data
    (GET, "/repos/{owner}/{repo}/git/blobs/{sha}"),
    (POST, "/repos/{owner}/{repo}/git/blobs"),
    (GET, "/repos/{owner}/{repo}/git/commits/{sha}"),
    (POST, "/repos/{owner}/{repo}/git/commits"),
    (GET, "/repos/{owner}/{repo}/git/refs"),
    (POST, "/repos/{owner}/{repo}/git/refs"),
    (GET, "/repos/{owner}/{repo}/git/tags/{sha}"),
    (POST, "/repos/{owner}/{repo}/git/tags"),
    (GET, "/repos/{owner}/{repo}/git/trees/{sha}"),
    (POST, "/repos/{owner}/{repo}/git/trees"),
    // Issues
    (GET, "/issues"),
    (GET, "/user/issues"),
    (GET, "/orgs/{org}/issues"),
    (GET, "/repos/{owner}/{repo}/issues"),
    (GET, "/repos/{owner}/{repo}/issues/{number}"),
    (POST, "/repos/{owner}/{repo}/issues"),
    (GET, "/repos/{owner}/{repo}/assignees"),
    (GET, "/repos/{owner}/{repo}/assignees/{assignee}"),
    (GET, "/repos/{owner}/{repo}/issues/{number}/comments"),
    (POST, "/repos/{owner}/{repo}/issues/{number}/comments"),
    (GET, "/repos/{owner}/{repo}/issues/{number}/events"),
    (GET, "/repos/{owner}/{repo}/labels"),
    (GET, "/repos/{owner}/{repo}/labels/{name}"),
    (POST, "/repos/{owner}/{repo}/labels"),
    (DELETE, "/repos/{owner}/{repo}/labels/{name}"),
    (GET, "/repos/{owner}/{repo}/issues/{number}/labels"),
    (POST, "/repos/{owner}/{repo}/issues/{number}/labels"),
    (
        DELETE,
        "/repos/{owner}/{repo}/issues/{number}/labels/{name}",
    ),
    (PUT, "/repos/{owner}/{repo}/issues/{number}/labels"),
    (DELETE, "/repos/{owner}/{repo}/issues/{number}/labels"),
    (GET, "/repos/{owner}/{repo}/milestones/{number}/labels"),
    (GET, "/repos/{owner}/{repo}/milestones"),
    (GET, "/repos/{owner}/{repo}/milestones/{number}"),
    (POST, "/repos/{owner}/{repo}/milestones"),
    (DELETE, "/repos/{owner}/{repo}/milestones/{number}"),
    // Miscellaneous
    (GET, "/emojis"),
    (GET, "/gitignore/templates"),
    (GET, "/gitignore/templates/{name}"),
    (POST, "/markdown"),
    (POST, "/markdown/raw"),
    (GET, "/meta"),
    (GET, "/rate_limit"),
    // Organizations
    (GET, "/users/{user}/orgs"),
    (GET, "/user/orgs"),
    (GET, "/orgs/{org}"),
    (GET, "/orgs/{org}/members"),
    (GET, "/orgs/{org}/members/{user}"),
    (DELETE, "/orgs/{org}/members/{user}"),
    (GET, "/orgs/{org}/public_members"),
    (GET, "/orgs/{org}/public_members/{user}"),
    (PUT, "/orgs/{org}/public_members/{user}"),
    (DELETE, "/orgs/{org}/public_members/{user}"),
    (GET, "/orgs/{org}/teams"),
    (GET, "/teams/{id}"),
    (POST, "/orgs/{org}/teams"),
    (DELETE, "/teams/{id}"),
    (GET, "/teams/{id}/members"),
    (GET, "/teams/{id}/members/{user}"),
    (PUT, "/teams/{id}/members/{user}"),
    (DELETE, "/teams/{id}/members/{user}"),
    (GET, "/teams/{id}/repos"),
    (GET, "/teams/{id}/repos/{owner}/{repo}"),
    (PUT, "/teams/{id}/repos/{owner}/{repo}"),
    (DELETE, "/teams/{id}/repos/{owner}/{repo}"),
    (GET, "/user/teams"),
    // Pull Requests
    (GET, "/repos/{owner}/{repo}/pulls"),
    (GET, "/repos/{owner}/{repo}/pulls/{number}"),
    (POST, "/repos/{owner}/{repo}/pulls"),
    (GET, "/repos/{owner}/{repo}/pulls/{number}/commits"),
    (GET, "/repos/{owner}/{repo}/pulls/{number}/files"),
    (GET, "/repos/{owner}/{repo}/pulls/{number}/merge"),
    (PUT, "/repos/{owner}/{repo}/pulls/{number}/merge"),
    (GET, "/repos/{owner}/{repo}/pulls/{number}/comments"),
    (PUT, "/repos/{owner}/{repo}/pulls/{number}/comments"),
    // Repositories
    (GET, "/user/repos"),
    (GET, "/users/{user}/repos"),
    (GET, "/orgs/{org}/repos"),
    (GET, "/repositories"),
    (POST, "/user/repos"),
    (POST, "/orgs/{org}/repos"),
    (GET, "/repos/{owner}/{repo}"),
    (GET, "/repos/{owner}/{repo}/contributors"),
    (GET, "/repos/{owner}/{repo}/languages"),
    (GET, "/repos/{owner}/{repo}/teams"),
    (GET, "/repos/{owner}/{repo}/tags"),
    (GET, "/repos/{owner}/{repo}/branches"),
    (GET, "/repos/{owner}/{repo}/branches/{branch}"),
    (DELETE, "/repos/{owner}/{repo}"),
    (GET, "/repos/{owner}/{repo}/collaborators"),
    (GET, "/repos/{owner}/{repo}/collaborators/{user}"),
    (PUT, "/repos/{owner}/{repo}/collaborators/{user}"),
    (DELETE, "/repos/{owner}/{repo}/collaborators/{user}"),
    (GET, "/repos/{owner}/{repo}/comments"),
    (GET, "/repos/{owner}/{repo}/commits/{sha}/comments"),
    (POST, "/repos/{owner}/{repo}/commits/{sha}/comments"),
    (GET, "/repos/{owner}/{repo}/comments/{id}"),
    (DELETE, "/repos/{owner}/{repo}/comments/{id}"),
    (GET, "/repos/{owner}/{repo}/commits"),
    (GET, "/repos/{owner}/{repo}/commits/{sha}"),
    (GET, "/repos/{owner}/{repo}/readme"),
    (GET, "/repos/{owner}/{repo}/keys"),
    (GET, "/repos/{owner}/{repo}/keys/{id}"),
    (POST, "/repos/{owner}/{repo}/keys"),
    (DELETE, "/repos/{owner}/{repo}/keys/{id}"),
    (GET, "/repos/{owner}/{repo}/downloads"),
    (GET, "/repos/{owner}/{repo}/downloads/{id}"),
    (DELETE, "/repos/{owner}/{repo}/downloads/{id}"),
    (GET, "/repos/{owner}/{repo}/forks"),
    (POST, "/repos/{owner}/{repo}/forks"),
    (GET, "/repos/{owner}/{repo}/hooks"),
    (GET, "/repos/{owner}/{repo}/hooks/{id}"),
    (POST, "/repos/{owner}/{repo}/hooks"),
    (POST, "/repos/{owner}/{repo}/hooks/{id}/tests"),
    (DELETE, "/repos/{owner}/{repo}/hooks/{id}"),
    (POST, "/repos/{owner}/{repo}/merges"),
    (GET, "/repos/{owner}/{repo}/releases"),
    (GET, "/repos/{owner}/{repo}/releases/{id}"),
    (POST, "/repos/{owner}/{repo}/releases"),
    (DELETE, "/repos/{owner}/{repo}/releases/{id}"),
    (GET, "/repos/{owner}/{repo}/releases/{id}/assets"),
    (GET, "/repos/{owner}/{repo}/stats/contributors"),
    (GET, "/repos/{owner}/{repo}/stats/commit_activity"),
    (GET, "/repos/{owner}/{repo}/stats/code_frequency"),
    (GET, "/repos/{owner}/{repo}/stats/participation"),
    (GET, "/repos/{owner}/{repo}/stats/punch_card"),
    (GET, "/repos/{owner}/{repo}/statuses/{ref}"),
    (POST, "/repos/{owner}/{repo}/statuses/{ref}"),
    // Search
    (GET, "/search/repositories"),
    (GET, "/search/code"),
    (GET, "/search/issues"),
    (GET, "/search/users"),
    (
        GET,
        "/legacy/issues/search/{owner}/{repository}/{state}/{keyword}",
    ),
    (GET, "/legacy/repos/search/{keyword}"),
    (GET, "/legacy/user/search/{keyword}"),
    (GET, "/legacy/user/email/{email}"),
    // Users
    (GET, "/users/{user}"),
    (GET, "/user"),
    (GET, "/users"),
    (GET, "/user/emails"),
    (POST, "/user/emails"),
    (DELETE, "/user/emails"),
    (GET, "/users/{user}/followers"),
    (GET, "/user/followers"),
    (GET, "/users/{user}/following"),
    (GET, "/user/following"),
    (GET, "/user/following/{user}"),
    (GET, "/users/{user}/following/{target_user}"),
    (PUT, "/user/following/{user}"),
    (DELETE, "/user/following/{user}"),
    (GET, "/users/{user}/keys"),
    (GET, "/user/keys"),
    (GET, "/user/keys/{id}"),
    (POST, "/user/keys"),
    (DELETE, "/user/keys/{id}"),
];

/// The paths of matchit's benchmark, and more of the table's shapes: static, 1 to 4
/// parameters, deep and shallow.
const GITHUB_LOOKUPS: &[(Method, &str)] = &[
    (GET, "/user/repos"),
    (GET, "/repos/rust-lang/rust/stargazers"),
    (GET, "/orgs/rust-lang/public_members/nikomatsakis"),
    (GET, "/repos/rust-lang/rust/releases/1.51.0"),
    (POST, "/repos/rust-lang/rust/issues/42/comments"),
    (GET, "/legacy/issues/search/rust-lang/rust/open/router"),
    (GET, "/gitignore/templates"),
    (GET, "/users/nikomatsakis/received_events/public"),
    (DELETE, "/user/keys/7"),
    (GET, "/authorizations"),
];

/// A small app.
const SMALL: &[(Method, &str)] = &[
    (GET, "/"),
    (GET, "/plaintext"),
    (GET, "/json"),
    (GET, "/health"),
    (GET, "/users"),
    (POST, "/users"),
    (GET, "/users/{id}"),
    (PUT, "/users/{id}"),
    (DELETE, "/users/{id}"),
    (GET, "/users/{id}/posts"),
    (GET, "/users/{id}/posts/{post}"),
    (GET, "/static/{*path}"),
];

const SMALL_LOOKUPS: &[(Method, &str)] = &[
    (GET, "/plaintext"),
    (GET, "/json"),
    (GET, "/users/42"),
    (PUT, "/users/42"),
    (GET, "/users/42/posts/hello-world"),
    (GET, "/static/css/site.css"),
    (GET, "/"),
    (POST, "/users"),
];

fn handler(ctx: &mut Ctx<()>, _: &Request) -> Response {
    ctx.empty(Status::NO_CONTENT)
}

fn zzz_router(table: &[(Method, &'static str)]) -> Router<()> {
    let routes: Vec<Route<()>> = table
        .iter()
        .map(|&(method, pattern)| Route::new(method, pattern, handler))
        .collect();
    Router::new(Box::leak(routes.into_boxed_slice())).expect("a valid table")
}

/// One handler id per method (by `Method as usize`), as a method-blind router needs to
/// dispatch like zzz; 0 when the path has no route for the method.
type ByMethod = [u16; 10];

fn matchit_router(table: &[(Method, &str)]) -> matchit::Router<ByMethod> {
    let mut paths: Vec<(&str, ByMethod)> = Vec::new();
    for (id, &(method, pattern)) in table.iter().enumerate() {
        let row = match paths.iter().position(|(p, _)| *p == pattern) {
            Some(i) => &mut paths[i].1,
            None => {
                paths.push((pattern, [0; 10]));
                &mut paths.last_mut().unwrap().1
            }
        };
        row[method as usize] = id as u16 + 1;
    }
    let mut router = matchit::Router::new();
    for (pattern, row) in paths {
        router.insert(pattern, row).expect("a valid table");
    }
    router
}

/// Resolves every lookup to its handler and parameters; returns the parameter count.
fn zzz_lookups(router: &Router<()>, lookups: &[(Method, &str)]) -> usize {
    let mut params = 0;
    for &(method, path) in lookups {
        // As the server does: the parser classified the method, and the token is the
        // request line's.
        let token = method.as_str().expect("a standard method");
        match router.resolve_parsed(keep(method), keep(token), keep(path)) {
            RouteMatch::Found {
                route,
                params: found,
            } => {
                keep(route.handler);
                params += found.len();
            }
            other => panic!("{method:?} {path}: {other:?}"),
        }
    }
    params
}

fn matchit_lookups(router: &matchit::Router<ByMethod>, lookups: &[(Method, &str)]) -> usize {
    let mut params = 0;
    for &(method, path) in lookups {
        let found = router.at(keep(path)).expect("a route");
        let id = found.value[keep(method) as usize];
        assert!(id != 0, "{method:?} {path}");
        keep(id);
        params += found.params.len();
    }
    params
}

/// Both routers pick the same row of the table, with the same parameters.
fn check_agreement(table: &[(Method, &'static str)], lookups: &[(Method, &str)]) {
    let zzz = zzz_router(table);
    let matchit = matchit_router(table);
    for &(method, path) in lookups {
        let token = method.as_str().expect("a standard method");
        let RouteMatch::Found { route, params } = zzz.resolve(token, path) else {
            panic!("zzz: {method:?} {path}")
        };
        let found = matchit.at(path).expect("matchit finds it");
        let (m, p) = table[found.value[method as usize] as usize - 1];
        assert_eq!((route.method, route.pattern), (m.into(), p), "{path}");
        let zzz_params: Vec<(&str, &str)> = params.iter().collect();
        let matchit_params: Vec<(&str, &str)> = found.params.iter().collect();
        assert_eq!(zzz_params, matchit_params, "{path}");
    }
}

fn main() {
    let sets: [(&str, Rows, Rows); 2] = [
        ("GitHub API", GITHUB, GITHUB_LOOKUPS),
        ("small app", SMALL, SMALL_LOOKUPS),
    ];
    // `--profile zzz|matchit github|small`: run one router only, for perf or callgrind.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let (_, table, lookups) = if args.get(i + 2).is_some_and(|a| a == "small") {
            sets[1]
        } else {
            sets[0]
        };
        if args[i + 1] == "zzz" {
            let router = zzz_router(table);
            for _ in 0..1_000_000 {
                keep(zzz_lookups(&router, lookups));
            }
        } else {
            let router = matchit_router(table);
            for _ in 0..1_000_000 {
                keep(matchit_lookups(&router, lookups));
            }
        }
        return;
    }
    let budget = Duration::from_millis(
        std::env::var("ZZZ_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    println!(
        "router lookup time per request (method and path), median of interleaved batches \
         (lower is better)"
    );
    for (name, table, lookups) in sets {
        check_agreement(table, lookups);
        let zzz = zzz_router(table);
        let matchit = matchit_router(table);
        let mut contenders = [
            Contender {
                run: Box::new(|| {
                    keep(zzz_lookups(&zzz, lookups));
                }),
            },
            Contender {
                run: Box::new(|| {
                    keep(matchit_lookups(&matchit, lookups));
                }),
            },
        ];
        let per_batch = compare(&mut contenders, budget);
        let per_lookup: Vec<f64> = per_batch
            .iter()
            .map(|ns| ns / lookups.len() as f64)
            .collect();
        let case = format!("{name}, {} routes", table.len());
        report(&case, &["zzz", "matchit"], &per_lookup);
    }
}
