//! The opt-in metrics route: the server's counters and gauges in the Prometheus text format.
//!
//! ```ignore
//! static ROUTES: &[Route<App>] = &[
//!     Route::get("/metrics", zzz_core::metrics::prometheus),
//!     // ...
//! ];
//! ```
//!
//! The numbers are the instance's that serves the request: with several instances (threads)
//! each answers with its own, so a scrape sees one instance at a time; the io_uring backend's
//! `Handle::stats` reads every instance at once from outside. Nothing is allocated: the text
//! is formatted straight into the response (about 5 KiB).

use crate::handler::{Ctx, Request, Response};
use crate::http::Status;
use crate::stats::PrometheusText;

/// A handler answering `200` with [`PrometheusText`] of the serving instance, unlabelled.
pub fn prometheus<S>(ctx: &mut Ctx<'_, S>, _request: &Request<'_>) -> Response {
    let snapshot = ctx.server.snapshot();
    let text = PrometheusText {
        snapshot: &snapshot,
        labels: "",
    };
    ctx.out
        .respond(Status::OK)
        .header("Content-Type", PrometheusText::CONTENT_TYPE)
        .header("Cache-Control", "no-store")
        .fmt(format_args!("{text}"))
}
