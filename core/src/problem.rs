//! Problem details (RFC 9457): the `application/problem+json` bodies that errors are answered
//! with, by the server itself (a path parameter of the wrong type) and by handlers.
//!
//! A problem is written with `core::fmt`, without serde, so the server can send one in every
//! build: `{"type":"about:blank","title":"Not Found","status":404,"detail":"..."}`. Its schema,
//! [`SCHEMA`], is the `Problem` component of the OpenAPI document; [`doc`] declares a problem
//! response in a route's documentation.

use crate::handler::{Out, Response};
use crate::http::Status;
use crate::json::{JsonEscape, JsonText};
use crate::router::ResponseDoc;
use crate::schema::{Property, Schema};

/// The media type of a problem (RFC 9457 §3).
pub const CONTENT_TYPE: &str = "application/problem+json";

/// The schema of what [`respond`] writes: the `Problem` component.
pub static SCHEMA: Schema = Schema::Named {
    name: "Problem",
    description: "Problem details (RFC 9457).",
    schema: &Schema::Object {
        properties: &[
            Property {
                name: "type",
                schema: &Schema::String {
                    min_length: None,
                    max_length: None,
                    format: Some("uri-reference"),
                },
                required: true,
                description: "A URI reference that identifies the problem type; `about:blank` \
                              when the status says it all.",
            },
            Property {
                name: "title",
                schema: &Schema::String {
                    min_length: None,
                    max_length: None,
                    format: None,
                },
                required: true,
                description: "A short summary of the problem type.",
            },
            Property {
                name: "status",
                schema: &Schema::Integer {
                    format: None,
                    minimum: Some(400),
                    maximum: Some(599),
                },
                required: true,
                description: "The HTTP status code.",
            },
            Property {
                name: "detail",
                schema: &Schema::String {
                    min_length: None,
                    max_length: None,
                    format: None,
                },
                required: true,
                description: "What went wrong with this request.",
            },
        ],
    },
};

/// A problem response in a route's documentation: `status`, `application/problem+json`,
/// [`SCHEMA`].
pub const fn doc(status: u16, description: &'static str) -> ResponseDoc {
    ResponseDoc::new(status, description, CONTENT_TYPE, &SCHEMA)
}

/// Answers with a problem: `type` is `about:blank`, `title` and `detail` are escaped for JSON.
/// The body is formatted in place, so it fails (static `500`) only if it outgrows the send and
/// large buffers.
pub fn respond<S>(
    out: &mut Out<'_, S>,
    status: Status,
    title: &str,
    detail: core::fmt::Arguments<'_>,
) -> Response {
    let mut body = out
        .respond(status)
        .header("Content-Type", CONTENT_TYPE)
        .writer();
    let _ = core::fmt::write(
        &mut body,
        format_args!(
            "{{\"type\":\"about:blank\",\"title\":\"{}\",\"status\":{},\"detail\":\"",
            JsonText(title),
            status.code()
        ),
    );
    let _ = core::fmt::write(&mut JsonEscape(&mut body), detail);
    core::fmt::Write::write_str(&mut body, "\"}").ok();
    body.finish()
}

impl<S> Out<'_, S> {
    /// Answers with a problem (RFC 9457); see [`respond`].
    pub fn problem(
        &mut self,
        status: Status,
        title: &str,
        detail: core::fmt::Arguments<'_>,
    ) -> Response {
        respond(self, status, title, detail)
    }
}
