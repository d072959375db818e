//! Compiled templates: [askama] pages rendered straight into the connection's send buffer
//! (feature `templates`).
//!
//! askama parses a template when the crate is compiled, type-checks it against its struct,
//! embeds it in the binary and escapes HTML by default; its rendering needs neither `std` nor
//! an allocator. zzz adds the last step: a handler hands over a template and zzz renders it
//! into the response in place, through [`BodyOut`]'s `core::fmt::Write`, with no
//! intermediate buffer and no allocation.
//!
//! ```ignore
//! #[derive(askama::Template)]
//! #[template(path = "hello.html")]
//! struct Hello<'a> { name: &'a str }
//!
//! fn hello(ctx: &mut Ctx<App>, req: &Request) -> Response {
//!     let name = req.params().get("name").unwrap_or("world");
//!     ctx.template(Status::OK, &Hello { name })
//! }
//! ```
//!
//! Applications derive their templates with their own dependency on the same askama
//! (`askama = { version = "0.16", default-features = false, features = ["derive"] }`, which
//! stays `no_std`); the version zzz was built with is re-exported as [`askama`].
//!
//! ## Content-Type
//!
//! askama no longer tells what media type a template produces, so zzz sends
//! [`HTML`] (`text/html; charset=utf-8`) for [`Reply::template`], as the askama web
//! integrations do, and the caller's type for [`Reply::template_as`] (for a `.txt` or `.xml`
//! template, [`content_type_for`] maps the extension).
//!
//! ## Length and size
//!
//! The body's length is known only once rendering ends, so the response writer leaves room
//! for `Content-Length` and fills it in at the end (see [`http::ResponseWriter`](crate::http::ResponseWriter)).
//!
//! **A page larger than the send buffer** moves, on the first write that does not fit, to a
//! large buffer lent by the server's pool ([`Config::large_buffer_size`], 1 MiB by
//! default), and rendering continues there. **A page larger than that** is not streamed:
//! the write that does not fit fails, askama stops rendering at once (bounded work), and the
//! client gets the server's static `500`, with an error logged naming the slot and the
//! status. If no large buffer is free, the client gets the static `503` with `Retry-After`.
//! A truncated page is never sent. Streaming was ruled out because askama renders in one call:
//! resuming a render where the last chunk stopped would mean rendering the page again for
//! every chunk. A page that may exceed the large buffers belongs in a [`Reply::stream`]
//! producer instead.
//!
//! A template's own error (a filter that fails, a `Display` that returns an error) ends the
//! same way: static `500`, logged.
//!
//! A HEAD request renders the page like GET, to send the same headers, `Content-Length`
//! included, then drops the body (RFC 9110 §9.3.2); a page too large for GET is the same `500`
//! for HEAD.
//!
//! [`Config::large_buffer_size`]: crate::Config::large_buffer_size
//! [`Reply::stream`]: crate::Reply::stream

pub use askama;
pub use askama::Template;

pub use crate::assets::content_type_for;
use crate::handler::{BodyOut, Ctx, Out, Reply, Response};
use crate::http::Status;

/// The Content-Type of HTML pages, what [`Reply::template`] sends.
pub const HTML: &str = "text/html; charset=utf-8";

/// The header line of [`HTML`], written without checking it at run time.
const HTML_LINE: &str = "Content-Type: text/html; charset=utf-8\r\n";

impl<S> Reply<'_, S> {
    /// Ends the response with `page` rendered as HTML (`Content-Type: text/html;
    /// charset=utf-8`) straight into the send buffer, `Content-Length` filled in at the end.
    /// See the [module docs](crate::templates) for what happens when it does not fit.
    pub fn template<T: Template>(self, page: &T) -> Response {
        self.header_line(HTML_LINE).render(page)
    }

    /// Ends the response with `page` rendered and sent as `content_type`.
    pub fn template_as<T: Template>(self, content_type: &str, page: &T) -> Response {
        self.header("Content-Type", content_type).render(page)
    }

    /// Ends the response with `page` rendered as its body; the `Content-Type` is the caller's.
    pub fn render<T: Template>(self, page: &T) -> Response {
        let mut body = self.writer();
        body.render(page);
        body.finish()
    }
}

impl<S> BodyOut<'_, S> {
    /// Renders `page` at the end of the body. On failure (no room left in any buffer, or the
    /// template's own error) the whole response becomes the static error; see the
    /// [module docs](crate::templates).
    pub fn render<T: Template>(&mut self, page: &T) {
        // An overflow is already recorded; any other error is the template's own. Either
        // way the server logs the failure when it sends the static error.
        // Straight into the buffer (a HEAD response's page too: it is counted, then dropped).
        let body = self.body_writer();
        let result = page.render_into(body.raw());
        body.settle();
        if result.is_err() && !self.overflowed() {
            self.fail();
        }
    }
}

impl<S> Out<'_, S> {
    /// A complete response of `status` with `page` rendered as HTML; see
    /// [`Reply::template`].
    pub fn template<T: Template>(&mut self, status: Status, page: &T) -> Response {
        self.respond(status).template(page)
    }
}

impl<S> Ctx<'_, S> {
    /// A complete response of `status` with `page` rendered as HTML; see
    /// [`Reply::template`].
    pub fn template<T: Template>(&mut self, status: Status, page: &T) -> Response {
        self.out.template(status, page)
    }
}

#[cfg(test)]
mod tests;
