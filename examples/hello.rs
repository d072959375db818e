//! The smallest useful zzz app: one route, served by io_uring.
//!
//! ```text
//! cargo run --example hello            # then: curl http://127.0.0.1:8080/hello/world
//! ```

use zzz::core::{App, Config, Ctx, Request, Response, Route, Router, Sole, Status};

/// Per-instance state: here, a request counter.
#[derive(Default)]
struct Hello {
    served: u64,
}

fn hello(ctx: &mut Ctx<Hello>, req: &Request) -> Response {
    ctx.state.served += 1;
    let name = req.params().get("name").unwrap_or("world");
    ctx.out
        .respond(Status::OK)
        .header("Content-Type", "text/plain")
        .fmt(format_args!(
            "Hello, {name}! (request {} on this instance)\n",
            ctx.state.served
        ))
}

static ROUTES: &[Route<Hello>] = &[Route::get("/hello/{name}", hello), Route::get("/", hello)];

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    zzz::uring::Builder::new(Config::DEFAULT)
        .listen_tcp(addr.parse().expect("an address"), Sole)
        .run(|_| App::new(Hello::default(), Router::new(ROUTES).expect("valid routes")))
}
