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

/// The requests a route serves, by method.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteMethod {
    /// One method, by its token as a request line spells it: `GET`, or an extension method
    /// such as `PURGE`. Methods are case-sensitive (RFC 9110 §9.1): `purge` is another method.
    /// [`Router::new`](super::Router::new) checks that it is a token.
    Token(&'static str),
    /// Every method the path has no route of its own for (HEAD still goes to a GET route
    /// first); CONNECT excepted, which zzz answers with 501 whatever the table says.
    Any,
}

impl RouteMethod {
    /// The [`Method`] this row serves, when it is one with a variant of its own (not
    /// [`Method::Extension`], not [`RouteMethod::Any`]).
    pub fn standard(self) -> Option<Method> {
        match self {
            RouteMethod::Token(token) => match Method::from_token(token.as_bytes()) {
                Method::Extension => None,
                method => Some(method),
            },
            RouteMethod::Any => None,
        }
    }
}

impl From<Method> for RouteMethod {
    /// The row for a method with a variant of its own; [`Method::Extension`] names no method
    /// (an empty token, which the router refuses): declare one with [`Route::method`].
    fn from(method: Method) -> RouteMethod {
        RouteMethod::Token(method.as_str().unwrap_or_default())
    }
}

impl core::fmt::Display for RouteMethod {
    /// The token, or `(any)`, which no token spells (parentheses are delimiters).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RouteMethod::Token(token) => token,
            RouteMethod::Any => "(any)",
        })
    }
}

/// One route: requests with `method` whose path matches `pattern` go to `handler`.
/// See [`crate::router`] for the pattern syntax.
pub struct Route<S: 'static> {
    /// The method it serves. HEAD is served by the GET route unless one is declared for HEAD;
    /// OPTIONS is answered automatically unless one is declared; [`RouteMethod::Any`] takes
    /// every method the path declares no route for.
    pub method: RouteMethod,
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
        write!(f, "{} {}", self.method, self.pattern)
    }
}

impl<S> core::fmt::Display for Route<S> {
    /// `GET /users/{id}`, `PURGE /cache/{*key}`, `(any) /{*path}`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.method, self.pattern)
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
    /// A route for `method`, one of the methods with a variant of their own;
    /// [`Method::Extension`] names no method, and [`Router::new`](super::Router::new) refuses
    /// the row: declare an extension method by its name with [`Route::method`].
    pub const fn new(method: Method, pattern: &'static str, handler: Handler<S>) -> Route<S> {
        let token = match method.as_str() {
            Some(name) => name,
            None => "",
        };
        Route::method(token, pattern, handler)
    }

    /// A route for the method spelt `token` (case-sensitive, RFC 9110 §9.1), such as an
    /// extension method: `Route::method("PURGE", "/cache/{*key}", purge)`. `"GET"` is the same
    /// row as [`Route::get`]. [`Router::new`] refuses a `token` that is not a token
    /// ([`RouteError::InvalidMethod`](super::RouteError::InvalidMethod), naming the route), and
    /// CONNECT, which zzz does not implement.
    ///
    /// [`Router::new`]: super::Router::new
    pub const fn method(
        token: &'static str,
        pattern: &'static str,
        handler: Handler<S>,
    ) -> Route<S> {
        Route {
            method: RouteMethod::Token(token),
            pattern,
            handler,
            doc: RouteDoc::EMPTY,
        }
    }

    /// A route for every method its path has no route of its own for, extension methods
    /// included (a fallback, as axum's `any`): a GET route of the same path still serves GET and
    /// HEAD, and OPTIONS comes here rather than to the automatic answer. CONNECT never does
    /// (501). The OpenAPI document leaves it out: OpenAPI 3.1 names only its fixed methods.
    pub const fn any(pattern: &'static str, handler: Handler<S>) -> Route<S> {
        Route {
            method: RouteMethod::Any,
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
