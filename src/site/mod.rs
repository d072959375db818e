//! A small personal website, served by `examples/site.rs` and loaded in Chromium by
//! `tests/site_chromium.rs`: a home page, a blog index, one page per post, an about page, a
//! 404 page, and a stylesheet.
//!
//! - Pages are askama templates in `examples/site/templates/` (found through `askama.toml`),
//!   compiled into the binary and rendered by [`Ctx::template`] straight into the connection's
//!   send buffer. They use substitution, `if`/`else`, loops over slices (with `for`/`else`
//!   and `loop.index`), `match`, includes (the navigation, the footer, a post card), and one
//!   layout (`base.html`) that every page extends, filling its `title` and `content` blocks.
//! - Assets in `examples/site/static/` are embedded with `include_bytes!`; the build script
//!   (`build.rs`) writes a gzip copy of each into `OUT_DIR`, embedded beside it, so that
//!   browsers that accept gzip get the smaller body (see [`zzz_core::assets`]).
//! - An unknown path, post or asset gets the 404 page: the app's `not_found` hook and the
//!   post and asset handlers render the same template with status 404.
//! - Opt-in ([`app_with_metrics`]), `/metrics` answers with the serving instance's counters
//!   and gauges in the Prometheus text format ([`zzz_core::metrics`]).

mod content;

use askama::Template;
use zzz_core::assets::{Asset, IMMUTABLE};
use zzz_core::{App, Ctx, Hooks, Request, Response, Route, Router, Status};

pub use content::{ABOUT, About, Block, Link, POSTS, Post, SITE, Section, Site};

/// What the site shows is static data; its one setting is whether it serves `/metrics`.
#[derive(Debug, Default)]
pub struct SiteState {
    /// Serve the server's counters at `/metrics` (Prometheus text format); otherwise that
    /// path is the 404 page like any unknown one.
    pub metrics: bool,
}

/// `/`: an introduction and the latest posts.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    /// The site.
    pub site: &'a Site,
    /// The navigation entry to mark.
    pub current: Section,
    /// The newest posts.
    pub latest: &'a [Post],
    /// How many posts there are.
    pub total: usize,
}

/// `/blog`: every post, newest first.
#[derive(Template)]
#[template(path = "blog.html")]
pub struct BlogPage<'a> {
    /// The site.
    pub site: &'a Site,
    /// The navigation entry to mark.
    pub current: Section,
    /// The posts.
    pub posts: &'a [Post],
}

/// `/blog/{slug}`: one post, with links to its neighbours.
#[derive(Template)]
#[template(path = "post.html")]
pub struct PostPage<'a> {
    /// The site.
    pub site: &'a Site,
    /// The navigation entry to mark.
    pub current: Section,
    /// The post.
    pub post: &'a Post,
    /// The next newer post.
    pub newer: Option<&'a Post>,
    /// The next older post.
    pub older: Option<&'a Post>,
}

/// `/about`.
#[derive(Template)]
#[template(path = "about.html")]
pub struct AboutPage<'a> {
    /// The site.
    pub site: &'a Site,
    /// The navigation entry to mark.
    pub current: Section,
    /// What the page says.
    pub about: &'a About,
}

/// The 404 page.
#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage<'a> {
    /// The site.
    pub site: &'a Site,
    /// The navigation entry to mark.
    pub current: Section,
    /// The path that was asked for, as received (escaped when rendered).
    pub path: &'a str,
}

/// How many posts the home page lists.
pub const LATEST: usize = 3;

/// The embedded assets, by name under `/static/`.
pub static ASSETS: &[(&str, Asset)] = &[
    (
        "style.css",
        Asset::new(
            "style.css",
            include_bytes!("../../examples/site/static/style.css"),
        )
        .with_gzip(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/site-static/style.css.gz"
        ))),
    ),
    (
        "favicon.svg",
        Asset::new(
            "favicon.svg",
            include_bytes!("../../examples/site/static/favicon.svg"),
        )
        .with_gzip(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/site-static/favicon.svg.gz"
        )))
        .with_cache_control(IMMUTABLE),
    ),
    (
        "robots.txt",
        Asset::new(
            "robots.txt",
            include_bytes!("../../examples/site/static/robots.txt"),
        ),
    ),
];

fn home(ctx: &mut Ctx<SiteState>, _: &Request) -> Response {
    ctx.template(
        Status::OK,
        &HomePage {
            site: &SITE,
            current: Section::Home,
            latest: &POSTS[..LATEST.min(POSTS.len())],
            total: POSTS.len(),
        },
    )
}

fn blog(ctx: &mut Ctx<SiteState>, _: &Request) -> Response {
    ctx.template(
        Status::OK,
        &BlogPage {
            site: &SITE,
            current: Section::Blog,
            posts: POSTS,
        },
    )
}

fn post(ctx: &mut Ctx<SiteState>, req: &Request) -> Response {
    let slug = req.params().get("slug").unwrap_or("");
    let Some(index) = POSTS.iter().position(|p| p.slug == slug) else {
        return not_found(ctx, req);
    };
    ctx.template(
        Status::OK,
        &PostPage {
            site: &SITE,
            current: Section::Blog,
            post: &POSTS[index],
            newer: index.checked_sub(1).map(|i| &POSTS[i]),
            older: POSTS.get(index + 1),
        },
    )
}

fn about(ctx: &mut Ctx<SiteState>, _: &Request) -> Response {
    ctx.template(
        Status::OK,
        &AboutPage {
            site: &SITE,
            current: Section::About,
            about: &ABOUT,
        },
    )
}

fn asset(ctx: &mut Ctx<SiteState>, req: &Request) -> Response {
    let name = req.params().get("path").unwrap_or("");
    match ASSETS.iter().find(|(n, _)| *n == name) {
        Some((_, asset)) => ctx.asset(req, asset),
        None => not_found(ctx, req),
    }
}

/// The 404 page, for the `not_found` hook and for unknown posts and assets.
fn not_found(ctx: &mut Ctx<SiteState>, req: &Request) -> Response {
    ctx.template(
        Status::NOT_FOUND,
        &NotFoundPage {
            site: &SITE,
            current: Section::Elsewhere,
            path: req.path(),
        },
    )
}

/// `/metrics`, when the site serves it.
fn metrics(ctx: &mut Ctx<SiteState>, req: &Request) -> Response {
    if ctx.state.metrics {
        zzz_core::metrics::prometheus(ctx, req)
    } else {
        not_found(ctx, req)
    }
}

static ROUTES: &[Route<SiteState>] = &[
    Route::get("/", home),
    Route::get("/blog", blog),
    Route::get("/blog/{slug}", post),
    Route::get("/about", about),
    Route::get("/static/{*path}", asset),
    Route::get("/metrics", metrics),
];

/// The site's route table.
pub fn routes() -> &'static [Route<SiteState>] {
    ROUTES
}

/// The site as an app: its routes, and the 404 page for every path they do not match.
pub fn app() -> App<SiteState> {
    app_of(SiteState::default())
}

/// The site, serving its counters at `/metrics` too.
pub fn app_with_metrics() -> App<SiteState> {
    app_of(SiteState { metrics: true })
}

fn app_of(state: SiteState) -> App<SiteState> {
    let mut app = App::new(
        state,
        Router::new(ROUTES).expect("the site's routes are valid"),
    );
    app.modules.hooks = Hooks {
        not_found: Some(not_found),
        ..Hooks::default()
    };
    app
}
