//! One row of the route table: method, pattern, handler, and the documentation the OpenAPI
//! generator reads. Routes are `const` values built with `const fn` builders, so a whole
//! table can be a `static` and the spec is generated from the very rows that route.

use crate::handler::Handler;
use crate::http::Method;
use crate::schema::Schema;

/// A path parameter's description (its name and type come from the pattern).
#[derive(Clone, Copy, Debug)]
pub struct ParamDoc {
    /// The parameter's name in the pattern.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
}

/// A query parameter the operation reads.
#[derive(Clone, Copy, Debug)]
pub struct QueryParam {
    /// Its name.
    pub name: &'static str,
    /// Its schema (an integer, a string, a boolean).
    pub schema: &'static Schema,
    /// Whether it must be present.
    pub required: bool,
    /// What it is.
    pub description: &'static str,
}

/// The request body an operation takes.
#[derive(Clone, Copy, Debug)]
pub struct BodyDoc {
    /// Its media type, such as `application/json`.
    pub content_type: &'static str,
    /// Its schema.
    pub schema: &'static Schema,
}

/// A header a response carries (`Location`, `Retry-After`...).
#[derive(Clone, Copy, Debug)]
pub struct HeaderDoc {
    /// Its name.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// The schema of its value.
    pub schema: &'static Schema,
}

/// One response an operation may give. Several with one status but different media types
/// make one response with several contents.
#[derive(Clone, Copy, Debug)]
pub struct ResponseDoc {
    /// The status code.
    pub status: u16,
    /// What it means.
    pub description: &'static str,
    /// The media type of its body; empty for a response without content.
    pub content_type: &'static str,
    /// The schema of its body.
    pub schema: Option<&'static Schema>,
    /// The headers it carries.
    pub headers: &'static [HeaderDoc],
}

impl ResponseDoc {
    /// A response with a body of the given media type and schema.
    pub const fn new(
        status: u16,
        description: &'static str,
        content_type: &'static str,
        schema: &'static Schema,
    ) -> Self {
        ResponseDoc {
            status,
            description,
            content_type,
            schema: Some(schema),
            headers: &[],
        }
    }

    /// A response without content (e.g. 204).
    pub const fn empty(status: u16, description: &'static str) -> Self {
        ResponseDoc {
            status,
            description,
            content_type: "",
            schema: None,
            headers: &[],
        }
    }

    /// The same response, documented with these headers.
    pub const fn with_headers(mut self, headers: &'static [HeaderDoc]) -> Self {
        self.headers = headers;
        self
    }
}

/// What the OpenAPI document says about one route.
#[derive(Clone, Copy, Debug)]
pub struct RouteDoc {
    /// The operationId; unique in the table.
    pub operation_id: &'static str,
    /// A one-line summary.
    pub summary: &'static str,
    /// A longer description.
    pub description: &'static str,
    /// Tags that group operations.
    pub tags: &'static [&'static str],
    /// Descriptions of the path parameters.
    pub path_params: &'static [ParamDoc],
    /// The query parameters.
    pub query: &'static [QueryParam],
    /// The request body, if the operation takes one.
    pub body: Option<BodyDoc>,
    /// The responses.
    pub responses: &'static [ResponseDoc],
    /// Left out of the document (the route still serves).
    pub hidden: bool,
}

impl RouteDoc {
    /// No documentation.
    pub const EMPTY: RouteDoc = RouteDoc {
        operation_id: "",
        summary: "",
        description: "",
        tags: &[],
        path_params: &[],
        query: &[],
        body: None,
        responses: &[],
        hidden: false,
    };
}

/// One route: requests with `method` whose path matches `pattern` go to `handler`.
/// See [`crate::router`] for the pattern syntax.
pub struct Route<S: 'static> {
    /// The method it serves. HEAD is served by the GET route unless one is declared for HEAD;
    /// OPTIONS is answered automatically unless one is declared.
    pub method: Method,
    /// The path pattern.
    pub pattern: &'static str,
    /// The handler.
    pub handler: Handler<S>,
    /// Its documentation.
    pub doc: RouteDoc,
}

impl<S> Clone for Route<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Route<S> {}

impl<S> core::fmt::Debug for Route<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?} {}", self.method, self.pattern)
    }
}

impl<S> core::fmt::Display for Route<S> {
    /// `GET /users/{id}`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {}",
            self.method.as_str().unwrap_or("?"),
            self.pattern
        )
    }
}

macro_rules! method_constructors {
    ($($name:ident => $method:ident),*) => {$(
        #[doc = concat!("A ", stringify!($method), " route.")]
        pub const fn $name(pattern: &'static str, handler: Handler<S>) -> Route<S> {
            Route::new(Method::$method, pattern, handler)
        }
    )*};
}

impl<S> Route<S> {
    /// A route for `method`.
    pub const fn new(method: Method, pattern: &'static str, handler: Handler<S>) -> Route<S> {
        Route {
            method,
            pattern,
            handler,
            doc: RouteDoc::EMPTY,
        }
    }

    method_constructors!(get => Get, post => Post, put => Put, delete => Delete, patch => Patch,
        head => Head, options => Options);

    /// Sets the operationId.
    pub const fn id(mut self, operation_id: &'static str) -> Self {
        self.doc.operation_id = operation_id;
        self
    }

    /// Sets the summary.
    pub const fn summary(mut self, summary: &'static str) -> Self {
        self.doc.summary = summary;
        self
    }

    /// Sets the description.
    pub const fn description(mut self, description: &'static str) -> Self {
        self.doc.description = description;
        self
    }

    /// Sets the tags.
    pub const fn tags(mut self, tags: &'static [&'static str]) -> Self {
        self.doc.tags = tags;
        self
    }

    /// Describes the path parameters.
    pub const fn path_params(mut self, params: &'static [ParamDoc]) -> Self {
        self.doc.path_params = params;
        self
    }

    /// Declares the query parameters.
    pub const fn query(mut self, params: &'static [QueryParam]) -> Self {
        self.doc.query = params;
        self
    }

    /// Declares the request body.
    pub const fn body(mut self, content_type: &'static str, schema: &'static Schema) -> Self {
        self.doc.body = Some(BodyDoc {
            content_type,
            schema,
        });
        self
    }

    /// Declares the responses.
    pub const fn responses(mut self, responses: &'static [ResponseDoc]) -> Self {
        self.doc.responses = responses;
        self
    }

    /// Leaves the route out of the OpenAPI document.
    pub const fn hidden(mut self) -> Self {
        self.doc.hidden = true;
        self
    }
}
