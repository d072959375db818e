//! The OpenAPI 3.1 document, generated from the route table that routes the requests, so that
//! the two cannot drift apart.
//!
//! [`write()`] writes the document into any `core::fmt::Write` ([`write_to_slice`] into a
//! caller's buffer) without allocating, the same bytes every time for the same table. An app
//! serves it with one row in its table, [`route`], once its state type implements
//! [`Documented`]:
//!
//! ```ignore
//! impl Documented for Notes {
//!     const INFO: ApiInfo = ApiInfo { title: "Notes", version: "1.0.0", description: "" };
//!     const ROUTES: &'static [Route<Notes>] = &[
//!         Route::get("/notes/{id:u32}", get_note).id("getNote").responses(&[...]),
//!         openapi::route(),
//!     ];
//! }
//! ```
//!
//! A list of `const fn` calls (`&[ResponseDoc::new(..), problem::doc(..)]`) passed to a
//! builder inside the table is not promoted to `'static`; declare it as a `const` item
//! (`const GET_RESPONSES: &[ResponseDoc] = &[...];`) and pass that, as `src/notes_api.rs`
//! does.
//!
//! ## What comes from where
//!
//! - **Paths** are the table's patterns, in the order they first appear in the table;
//!   `{id:u32}` becomes `{id}` and `{*tail}` becomes `{tail}`. The operations of a path are
//!   written in OpenAPI's order (get, put, post, delete, options, head, patch, trace).
//!   HEAD and OPTIONS, which the router answers for every path (RFC 9110 §9.3.2, §9.3.7),
//!   appear only when the table declares them. Hidden routes ([`Route::hidden`]) are left out,
//!   and so is a path whose routes all are.
//! - **Extension methods and [`Route::any`]** are left out too, as if hidden: an OpenAPI 3.1
//!   path item has a fixed field per method (the eight above) and nothing for `PURGE`, `QUERY`
//!   or "any other method". Their routes still serve; document them in a description.
//! - **Path parameters** come from the pattern alone: their names, and their types as
//!   schemas (`u32` is an integer from 0 to 4294967295, `str` a non-empty string, a tail any
//!   string, `/` included). The route's [`ParamDoc`](crate::router::ParamDoc)s only describe
//!   them; one that names a parameter the pattern lacks is an error, not a silent drift.
//! - **Query parameters, request body, responses** come from the route's
//!   [`RouteDoc`](crate::router::RouteDoc), schemas from [`crate::schema`].
//! - **Responses the server gives by itself** are added where they apply: `400`
//!   `application/problem+json` when a path parameter is typed (the server checks the type
//!   before the handler runs), and `413` when the operation takes a body (larger than
//!   `Limits::max_body`). A status the route declares itself keeps its description and gains
//!   the server's content. Protocol-level rejections (malformed requests, `414`, `431`, `505`)
//!   and exhaustion (`503`) can answer any request and are not repeated on every operation;
//!   `405` with `Allow` answers every method a path does not list.
//! - **Components**: every named schema ([`Schema::Named`]) reached from an operation is
//!   written once under `components/schemas`, sorted by name; two different schemas with one
//!   name are an error. At most [`MAX_COMPONENTS`] of them.
//!
//! The layout is [`Style::Pretty`] for the served document (readable, and diffs well in a
//! golden file); [`write()`] takes the style.

mod schema;

use core::fmt::Write;

pub use schema::MAX_COMPONENTS;

use crate::handler::{Ctx, Request, Response, StreamCursor, StreamOut, StreamStep};
use crate::http::{Method, Status};
use crate::json::{JsonWriter, Style, WriteError};
use crate::router::{Pattern, ResponseDoc, Route, RouteMethod, SegmentKind};
use crate::schema::{JsonSchema, Schema};
use schema::{Components, write_schema};

/// The OpenAPI version written.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The `info` of the document.
#[derive(Clone, Copy, Debug)]
pub struct ApiInfo {
    /// The API's title.
    pub title: &'static str,
    /// The API's version (not OpenAPI's).
    pub version: &'static str,
    /// What it is (CommonMark), or empty.
    pub description: &'static str,
}

/// An app state whose route table is documented: what [`serve`] needs to write the document.
pub trait Documented: Sized + 'static {
    /// The document's `info`.
    const INFO: ApiInfo;
    /// The route table: the same one given to [`Router::new`](crate::Router::new).
    const ROUTES: &'static [Route<Self>];
}

/// Why no document could be written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SpecError {
    /// The destination refused a write (a buffer too small).
    Destination,
    /// A schema nests deeper than the writer allows (or loops without a named schema).
    TooDeep,
    /// A route's pattern is invalid (the router rejects it too).
    InvalidPattern {
        /// The route.
        route: (RouteMethod, &'static str),
        /// What is wrong.
        reason: &'static str,
    },
    /// A route describes a path parameter its pattern does not have.
    UnknownPathParam {
        /// The route.
        route: (RouteMethod, &'static str),
        /// The parameter named in its documentation.
        name: &'static str,
    },
    /// Two routes share an operationId.
    DuplicateOperationId(&'static str),
    /// A route declares one status with one media type twice.
    DuplicateResponse {
        /// The route.
        route: (RouteMethod, &'static str),
        /// The status.
        status: u16,
    },
    /// More than [`MAX_COMPONENTS`] named schemas.
    TooManyComponents,
    /// Two different schemas share a component name.
    NameConflict(&'static str),
}

impl From<WriteError> for SpecError {
    fn from(error: WriteError) -> SpecError {
        match error {
            WriteError::Destination => SpecError::Destination,
            WriteError::TooDeep => SpecError::TooDeep,
        }
    }
}

impl From<core::fmt::Error> for SpecError {
    fn from(_: core::fmt::Error) -> SpecError {
        SpecError::Destination
    }
}

impl core::fmt::Display for SpecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpecError::Destination => f.write_str("the document does not fit its destination"),
            SpecError::TooDeep => f.write_str("a schema nests too deep"),
            SpecError::InvalidPattern { route, reason } => {
                write!(f, "route `{} {}`: {}", route.0, route.1, reason)
            }
            SpecError::UnknownPathParam { route, name } => write!(
                f,
                "route `{} {}` documents a path parameter `{}` its pattern does not have",
                route.0, route.1, name
            ),
            SpecError::DuplicateOperationId(id) => write!(f, "operationId `{id}` is used twice"),
            SpecError::DuplicateResponse { route, status } => write!(
                f,
                "route `{} {}` declares status {} with one media type twice",
                route.0, route.1, status
            ),
            SpecError::TooManyComponents => {
                write!(f, "more than {MAX_COMPONENTS} named schemas")
            }
            SpecError::NameConflict(name) => {
                write!(f, "two different schemas are named `{name}`")
            }
        }
    }
}

/// Writes the document for `routes` into `out`.
pub fn write<S, W: Write + ?Sized>(
    info: &ApiInfo,
    routes: &[Route<S>],
    style: Style,
    out: &mut W,
) -> Result<(), SpecError> {
    let components = check(routes)?;
    let mut w = JsonWriter::new(out, style);
    w.begin_object()?;
    w.string_member("openapi", OPENAPI_VERSION)?;
    w.key("info")?;
    w.begin_object()?;
    w.string_member("title", info.title)?;
    w.string_member("version", info.version)?;
    if !info.description.is_empty() {
        w.string_member("description", info.description)?;
    }
    w.end_object()?;
    w.key("paths")?;
    write_paths(&mut w, routes)?;
    if !components.is_empty() {
        w.key("components")?;
        w.begin_object()?;
        w.key("schemas")?;
        components.write(&mut w)?;
        w.end_object()?;
    }
    w.end_object()?;
    Ok(())
}

/// Writes the document into `buf`; returns its length.
pub fn write_to_slice<S>(
    info: &ApiInfo,
    routes: &[Route<S>],
    style: Style,
    buf: &mut [u8],
) -> Result<usize, SpecError> {
    let mut out = crate::http::ByteWriter::new(buf);
    write(info, routes, style, &mut out)?;
    Ok(out.len())
}

/// The document's length in bytes.
pub fn len<S>(info: &ApiInfo, routes: &[Route<S>], style: Style) -> Result<usize, SpecError> {
    let mut count = Window::counting();
    write(info, routes, style, &mut count)?;
    Ok(count.total as usize)
}

/// The document's route: `GET /openapi.json`, hidden from the document itself.
pub const fn route<S: Documented>() -> Route<S> {
    Route::get("/openapi.json", serve::<S>)
        .id("getOpenApiDocument")
        .summary("This OpenAPI document")
        .hidden()
}

/// Serves the document of `S` as `application/json`. It is streamed (written again from the
/// start for each piece, skipping what was sent), so it fits any buffer size. A table the
/// generator rejects gets a `500` problem naming the error.
pub fn serve<S: Documented>(ctx: &mut Ctx<'_, S>, _req: &Request<'_>) -> Response {
    if let Err(error) = check(S::ROUTES) {
        zlog_error!("zzz: the OpenAPI document cannot be generated");
        return ctx.out.problem(
            Status::INTERNAL_SERVER_ERROR,
            "No OpenAPI document",
            format_args!("{error}"),
        );
    }
    ctx.respond(Status::OK)
        .header("Content-Type", "application/json")
        .stream(produce::<S>, StreamCursor::default())
}

/// Writes the next piece of the document: cursor word 0 is the offset sent so far.
fn produce<S: Documented>(
    _state: &mut S,
    cursor: &mut StreamCursor,
    out: &mut StreamOut<'_>,
) -> StreamStep {
    let mut window = Window {
        skip: cursor.0[0],
        total: 0,
        out: Some(out),
        full: false,
    };
    let result = write(&S::INFO, S::ROUTES, Style::Pretty, &mut window);
    cursor.0[0] = window.total.min(cursor.0[0] + window.written());
    match result {
        Err(_) if window.full => StreamStep::More,
        _ => StreamStep::Done,
    }
}

/// A writer that sees the whole document but keeps only the bytes from `skip` on, as many as
/// `out` takes; without `out` it only counts.
struct Window<'a, 'b> {
    skip: u64,
    total: u64,
    out: Option<&'a mut StreamOut<'b>>,
    full: bool,
}

impl Window<'_, '_> {
    fn counting() -> Self {
        Window {
            skip: 0,
            total: 0,
            out: None,
            full: false,
        }
    }

    fn written(&self) -> u64 {
        self.out.as_ref().map_or(0, |o| o.len() as u64)
    }
}

impl Write for Window<'_, '_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let bytes = s.as_bytes();
        let start = self.total;
        self.total += bytes.len() as u64;
        let Some(out) = self.out.as_deref_mut() else {
            return Ok(());
        };
        if self.total <= self.skip {
            return Ok(());
        }
        let from = self.skip.saturating_sub(start) as usize;
        let wanted = &bytes[from..];
        let room = out.remaining();
        if wanted.len() > room {
            out.write(&wanted[..room]);
            self.full = true;
            return Err(core::fmt::Error);
        }
        out.write(wanted);
        Ok(())
    }
}

/// The schema of a path parameter of this pattern segment.
fn param_schema(kind: SegmentKind, ty: crate::router::ParamType) -> &'static Schema {
    use crate::router::ParamType;
    const NON_EMPTY: Schema = Schema::String {
        min_length: Some(1),
        max_length: None,
        format: None,
    };
    if kind == SegmentKind::Tail {
        return <str as JsonSchema>::SCHEMA;
    }
    match ty {
        ParamType::Str => &NON_EMPTY,
        ParamType::U8 => u8::SCHEMA,
        ParamType::U16 => u16::SCHEMA,
        ParamType::U32 => u32::SCHEMA,
        ParamType::U64 => u64::SCHEMA,
        ParamType::I32 => i32::SCHEMA,
        ParamType::I64 => i64::SCHEMA,
    }
}

/// The server's own `400` for a path parameter of the wrong type.
static BAD_PATH_PARAM: ResponseDoc =
    crate::problem::doc(400, "A path parameter is not of its declared type.");

/// The server's own `413`.
static TOO_LARGE: ResponseDoc = ResponseDoc::new(
    413,
    "The body is larger than the server accepts.",
    "text/plain",
    <str as JsonSchema>::SCHEMA,
);

/// The responses the server adds to an operation by itself.
fn automatic(route_has_typed_param: bool, has_body: bool) -> [Option<&'static ResponseDoc>; 2] {
    [
        route_has_typed_param.then_some(&BAD_PATH_PARAM),
        has_body.then_some(&TOO_LARGE),
    ]
}

/// Whether a route appears in the document: not hidden, and for a method an OpenAPI 3.1
/// path item can name.
fn documented<S>(route: &Route<S>) -> bool {
    !route.doc.hidden && route.method.standard().is_some()
}

fn pattern_of<S>(route: &Route<S>) -> Result<Pattern, SpecError> {
    Pattern::parse(route.pattern).map_err(|reason| SpecError::InvalidPattern {
        route: (route.method, route.pattern),
        reason,
    })
}

fn has_typed_param(pattern: &Pattern) -> bool {
    pattern
        .segments
        .iter()
        .any(|s| s.kind == SegmentKind::Param && s.ty.range().is_some())
}

/// Validates the table and collects its components.
fn check<S>(routes: &[Route<S>]) -> Result<Components, SpecError> {
    let mut components = Components::new();
    for (i, route) in routes.iter().enumerate() {
        if !documented(route) {
            continue;
        }
        let key = (route.method, route.pattern);
        let pattern = pattern_of(route)?;
        let doc = &route.doc;
        for param in doc.path_params.iter() {
            let known = pattern
                .segments
                .iter()
                .any(|s| s.kind != SegmentKind::Literal && s.text == param.name);
            if !known {
                return Err(SpecError::UnknownPathParam {
                    route: key,
                    name: param.name,
                });
            }
        }
        if !doc.operation_id.is_empty()
            && routes[..i]
                .iter()
                .any(|r| documented(r) && r.doc.operation_id == doc.operation_id)
        {
            return Err(SpecError::DuplicateOperationId(doc.operation_id));
        }
        for (j, a) in doc.responses.iter().enumerate() {
            let twice = doc.responses[..j]
                .iter()
                .any(|b| b.status == a.status && b.content_type == a.content_type);
            if twice {
                return Err(SpecError::DuplicateResponse {
                    route: key,
                    status: a.status,
                });
            }
        }
        for query in doc.query.iter() {
            components.collect(query.schema)?;
        }
        if let Some(body) = &doc.body {
            components.collect(body.schema)?;
        }
        let auto = automatic(has_typed_param(&pattern), doc.body.is_some());
        for response in doc.responses.iter().chain(auto.iter().flatten().copied()) {
            if let Some(schema) = response.schema {
                components.collect(schema)?;
            }
            for header in response.headers.iter() {
                components.collect(header.schema)?;
            }
        }
    }
    components.sort();
    Ok(components)
}

/// Whether two patterns are the same OpenAPI path (they differ at most in parameter types).
fn same_path(a: &Pattern, b: &Pattern) -> bool {
    a.segments.len() == b.segments.len()
        && a.segments
            .iter()
            .zip(b.segments.iter())
            .all(|(x, y)| x.kind == y.kind && x.text == y.text)
}

/// OpenAPI's order of the operations in a path item.
const METHOD_ORDER: [(Method, &str); 8] = [
    (Method::Get, "get"),
    (Method::Put, "put"),
    (Method::Post, "post"),
    (Method::Delete, "delete"),
    (Method::Options, "options"),
    (Method::Head, "head"),
    (Method::Patch, "patch"),
    (Method::Trace, "trace"),
];

fn write_paths<S, W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    routes: &[Route<S>],
) -> Result<(), SpecError> {
    w.begin_object()?;
    for (i, route) in routes.iter().enumerate() {
        if !documented(route) {
            continue;
        }
        let pattern = pattern_of(route)?;
        let mut seen = false;
        for earlier in routes[..i].iter().filter(|r| documented(r)) {
            if same_path(&pattern_of(earlier)?, &pattern) {
                seen = true;
                break;
            }
        }
        if seen {
            continue;
        }
        w.key_fmt(format_args!("{}", OpenApiPath(&pattern)))?;
        w.begin_object()?;
        for (method, name) in METHOD_ORDER {
            for candidate in routes[i..]
                .iter()
                .filter(|r| documented(r) && r.method.standard() == Some(method))
            {
                let candidate_pattern = pattern_of(candidate)?;
                if same_path(&candidate_pattern, &pattern) {
                    w.key(name)?;
                    write_operation(w, candidate, &candidate_pattern)?;
                    break;
                }
            }
        }
        w.end_object()?;
    }
    w.end_object()?;
    Ok(())
}

/// The distinct descriptions of the responses that share a status, joined by a space.
struct Descriptions<'f, F>(&'f F);

impl<'a, F, I> core::fmt::Display for Descriptions<'_, F>
where
    F: Fn() -> I,
    I: Iterator<Item = &'a ResponseDoc>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut first = true;
        for (k, response) in (self.0)().enumerate() {
            let text = response.description;
            if text.is_empty() || (self.0)().take(k).any(|r| r.description == text) {
                continue;
            }
            if !first {
                f.write_char(' ')?;
            }
            f.write_str(text)?;
            first = false;
        }
        Ok(())
    }
}

/// A pattern as an OpenAPI path: `/notes/{id:u32}` is `/notes/{id}`, `{*tail}` is `{tail}`.
struct OpenApiPath<'p>(&'p Pattern);

impl core::fmt::Display for OpenApiPath<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for segment in self.0.segments.iter() {
            f.write_char('/')?;
            match segment.kind {
                SegmentKind::Literal => f.write_str(segment.text)?,
                _ => write!(f, "{{{}}}", segment.text)?,
            }
        }
        Ok(())
    }
}

fn write_operation<S, W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    route: &Route<S>,
    pattern: &Pattern,
) -> Result<(), SpecError> {
    let doc = &route.doc;
    w.begin_object()?;
    if !doc.operation_id.is_empty() {
        w.string_member("operationId", doc.operation_id)?;
    }
    if !doc.summary.is_empty() {
        w.string_member("summary", doc.summary)?;
    }
    if !doc.description.is_empty() {
        w.string_member("description", doc.description)?;
    }
    if !doc.tags.is_empty() {
        w.key("tags")?;
        w.begin_array()?;
        for tag in doc.tags.iter() {
            w.string(tag)?;
        }
        w.end_array()?;
    }
    let params = pattern
        .segments
        .iter()
        .filter(|s| s.kind != SegmentKind::Literal);
    if params.clone().next().is_some() || !doc.query.is_empty() {
        w.key("parameters")?;
        w.begin_array()?;
        for segment in params {
            let description = doc
                .path_params
                .iter()
                .find(|p| p.name == segment.text)
                .map_or("", |p| p.description);
            let description = match (description, segment.kind) {
                ("", SegmentKind::Tail) => "The rest of the path; may contain `/`.",
                (d, _) => d,
            };
            w.begin_object()?;
            w.string_member("name", segment.text)?;
            w.string_member("in", "path")?;
            w.key("required")?;
            w.bool(true)?;
            if !description.is_empty() {
                w.string_member("description", description)?;
            }
            w.key("schema")?;
            write_schema(w, param_schema(segment.kind, segment.ty), "")?;
            w.end_object()?;
        }
        for query in doc.query.iter() {
            w.begin_object()?;
            w.string_member("name", query.name)?;
            w.string_member("in", "query")?;
            w.key("required")?;
            w.bool(query.required)?;
            if !query.description.is_empty() {
                w.string_member("description", query.description)?;
            }
            w.key("schema")?;
            write_schema(w, query.schema, "")?;
            w.end_object()?;
        }
        w.end_array()?;
    }
    if let Some(body) = &doc.body {
        w.key("requestBody")?;
        w.begin_object()?;
        w.key("required")?;
        w.bool(true)?;
        w.key("content")?;
        w.begin_object()?;
        w.key(body.content_type)?;
        w.begin_object()?;
        w.key("schema")?;
        write_schema(w, body.schema, "")?;
        w.end_object()?;
        w.end_object()?;
        w.end_object()?;
    }
    let auto = automatic(has_typed_param(pattern), doc.body.is_some());
    write_responses(w, doc.responses, &auto)?;
    w.end_object()?;
    Ok(())
}

/// Writes `responses`, ordered by status, merging the declared and the automatic ones.
fn write_responses<W: Write + ?Sized>(
    w: &mut JsonWriter<'_, W>,
    declared: &[ResponseDoc],
    auto: &[Option<&'static ResponseDoc>; 2],
) -> Result<(), SpecError> {
    let all = || declared.iter().chain(auto.iter().flatten().copied());
    if all().next().is_none() {
        return Ok(());
    }
    w.key("responses")?;
    w.begin_object()?;
    let mut last = 0u16;
    // Bounded: each turn takes the next larger status, one of the responses' own.
    for _ in 0..all().count() {
        let Some(status) = all().map(|r| r.status).filter(|s| *s > last).min() else {
            break;
        };
        last = status;
        let with_status = || all().filter(move |r| r.status == status);
        w.key_fmt(format_args!("{status}"))?;
        w.begin_object()?;
        w.key("description")?;
        w.string_fmt(format_args!("{}", Descriptions(&with_status)))?;
        let headers = with_status().flat_map(|r| r.headers.iter());
        if headers.clone().next().is_some() {
            w.key("headers")?;
            w.begin_object()?;
            let mut count = 0;
            for (k, header) in headers.enumerate() {
                let earlier = with_status()
                    .flat_map(|r| r.headers.iter())
                    .take(k)
                    .any(|h| h.name.eq_ignore_ascii_case(header.name));
                if earlier {
                    continue;
                }
                count += 1;
                w.key(header.name)?;
                w.begin_object()?;
                if !header.description.is_empty() {
                    w.string_member("description", header.description)?;
                }
                w.key("schema")?;
                write_schema(w, header.schema, "")?;
                w.end_object()?;
            }
            debug_assert!(count > 0);
            w.end_object()?;
        }
        let contents = with_status().filter(|r| !r.content_type.is_empty());
        if contents.clone().next().is_some() {
            w.key("content")?;
            w.begin_object()?;
            for (k, response) in contents.clone().enumerate() {
                let earlier = contents
                    .clone()
                    .take(k)
                    .any(|r| r.content_type == response.content_type);
                if earlier {
                    continue;
                }
                w.key(response.content_type)?;
                w.begin_object()?;
                if let Some(schema) = response.schema {
                    w.key("schema")?;
                    write_schema(w, schema, "")?;
                }
                w.end_object()?;
            }
            w.end_object()?;
        }
        w.end_object()?;
    }
    w.end_object()?;
    Ok(())
}

#[cfg(test)]
mod tests;
