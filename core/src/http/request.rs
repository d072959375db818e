//! A parsed request head, and a read-only view of a request over its buffer.
//!
//! As in smoltcp, the validated representation ([`RequestHead`], plain data with offsets)
//! is separate from the bytes it describes; a [`Request`] joins the two, and every accessor
//! on it is infallible because the parser already validated what it returns.

use super::header::TokenList;
use super::method::Method;
use super::query::QueryPairs;

/// A byte range of the request head: an offset from the head's first byte and a length.
/// Offsets fit in `u16` because [`Limits::max_head`](super::Limits) is at most 65535.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u16,
    /// Length in bytes.
    pub len: u16,
}

impl Span {
    /// The span covering `start..end`.
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end && end <= u16::MAX as usize);
        Span {
            start: start as u16,
            len: (end - start) as u16,
        }
    }

    /// The bytes this span covers in `buf`.
    #[inline]
    pub fn of(self, buf: &[u8]) -> &[u8] {
        &buf[self.start as usize..self.start as usize + self.len as usize]
    }

    /// Offset one past the last byte.
    #[inline]
    pub fn end(self) -> usize {
        self.start as usize + self.len as usize
    }
}

/// Where a header field's name and value lie in the head. The value has its surrounding
/// whitespace removed (RFC 9112 §5.1).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct HeaderSpan {
    /// The field name.
    pub name: Span,
    /// The field value, without leading or trailing whitespace.
    pub value: Span,
}

// SAFETY: `Span` and `HeaderSpan` are `repr(C)` structs of `u16`s: no padding, and every bit
// pattern is a valid value. This lets a server's header arrays be carved out of its region
// without writing them (see `Arena::plain_slice`).
unsafe impl bytemuck::Zeroable for Span {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for Span {}
// SAFETY: as above.
unsafe impl bytemuck::Zeroable for HeaderSpan {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for HeaderSpan {}

/// The protocol versions zzz speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Version {
    /// HTTP/1.0: connections close after each response unless the client asks otherwise.
    Http10,
    /// HTTP/1.1: connections persist unless either side says `close`.
    #[default]
    Http11,
}

/// How the request body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Framing {
    /// No Content-Length and no Transfer-Encoding: the request has no body, and whatever
    /// follows the head is the next request.
    #[default]
    None,
    /// A Content-Length body of this many bytes.
    Length(u64),
    /// A chunked body; decode it with a [`ChunkedDecoder`](super::ChunkedDecoder).
    Chunked,
}

/// The four forms of a request target (RFC 9112 §3.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TargetForm {
    /// `/path?query`: what nearly every request uses.
    #[default]
    Origin,
    /// `http://host/path?query`: as sent to proxies; servers must accept it too.
    Absolute,
    /// `host:port`: CONNECT only.
    Authority,
    /// `*`: OPTIONS only.
    Asterisk,
}

/// What the parser learned from a complete, valid request head. Plain data: spans are
/// offsets into the head's buffer, so it can be kept while the buffer is reused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The method's text (needed for extension methods).
    pub method_span: Span,
    /// The request target, exactly as received.
    pub target: Span,
    /// The form of the target.
    pub target_form: TargetForm,
    /// The path component: of an origin- or absolute-form target, without the query
    /// (empty when an absolute-form target has no path, which means `/`); `*` for the
    /// asterisk form; empty for the authority form.
    pub path: Span,
    /// The query component, without its `?`; `None` when the target has no `?`.
    pub query: Option<Span>,
    /// The protocol version.
    pub version: Version,
    /// How many header fields the caller's header array holds for this request.
    pub header_count: u16,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    pub keep_alive: bool,
    /// Whether the client sent `Expect: 100-continue` in HTTP/1.1 (RFC 9110 §10.1.1).
    pub expect_continue: bool,
    /// The Host value (HTTP/1.1 requests always have exactly one).
    pub host: Option<Span>,
    /// Length of the head in bytes, including the empty line that ends it.
    pub len: u16,
}

impl RequestHead {
    /// A head of no request (before one is parsed).
    pub const EMPTY: RequestHead = RequestHead {
        method: Method::Get,
        method_span: Span { start: 0, len: 0 },
        target: Span { start: 0, len: 0 },
        target_form: TargetForm::Origin,
        path: Span { start: 0, len: 0 },
        query: None,
        version: Version::Http11,
        header_count: 0,
        framing: Framing::None,
        keep_alive: false,
        expect_continue: false,
        host: None,
        len: 0,
    };
}

/// A read-only view of one request: its head, the buffer the head was parsed from, its header
/// fields and its body (already de-chunked).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    head: &'a RequestHead,
    buf: &'a [u8],
    fields: &'a [HeaderSpan],
    body: &'a [u8],
}

impl<'a> Request<'a> {
    /// Joins a head with the buffer it was parsed from (starting at the head's first byte),
    /// its header fields and its body.
    ///
    /// # Panics
    ///
    /// If `buf` does not hold the whole head, `fields` holds fewer than its header count, or
    /// a span the accessors return as text (the method, the target, its path and query, the
    /// Host value, the field names) lies outside the head or holds a byte that is not ASCII:
    /// a head from [`HeadParser`](super::HeadParser) over `buf` never does. Checked here
    /// because the head's fields are public and the accessors read those spans as `str`
    /// without checking them again.
    pub fn new(
        head: &'a RequestHead,
        buf: &'a [u8],
        fields: &'a [HeaderSpan],
        body: &'a [u8],
    ) -> Request<'a> {
        let request = Request::parsed(head, buf, fields, body);
        let head_bytes = &buf[..head.len as usize];
        let ascii = |span: Span| {
            head_bytes
                .get(span.start as usize..span.start as usize + span.len as usize)
                .is_some_and(|bytes| bytes.is_ascii())
        };
        assert!(
            [head.method_span, head.target, head.path]
                .into_iter()
                .all(ascii)
                && head.query.is_none_or(ascii)
                && head.host.is_none_or(ascii)
                && request.fields.iter().all(|f| ascii(f.name)),
            "a text span of the head is not ASCII within the head"
        );
        request
    }

    /// [`Request::new`] for a head [`HeadParser`](super::HeadParser) made from `buf`: its
    /// text spans lie within the head and hold only ASCII, so they are not checked again
    /// (the server makes one of these per request).
    pub(crate) fn parsed(
        head: &'a RequestHead,
        buf: &'a [u8],
        fields: &'a [HeaderSpan],
        body: &'a [u8],
    ) -> Request<'a> {
        assert!(
            buf.len() >= head.len as usize,
            "the buffer must hold the whole head"
        );
        assert!(fields.len() >= head.header_count as usize);
        Request {
            head,
            buf,
            fields: &fields[..head.header_count as usize],
            body,
        }
    }

    /// The parsed head.
    pub fn head(&self) -> &'a RequestHead {
        self.head
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.head.method
    }

    /// The method as text, extension methods included.
    pub fn method_str(&self) -> &'a str {
        self.text(self.head.method_span)
    }

    /// The request target exactly as received.
    pub fn target(&self) -> &'a str {
        self.text(self.head.target)
    }

    /// The path, still percent-encoded; `/` for an absolute-form target without a path.
    pub fn path(&self) -> &'a str {
        if self.head.path.len == 0 && self.head.target_form == TargetForm::Absolute {
            return "/";
        }
        self.text(self.head.path)
    }

    /// The query string without its `?`, still percent-encoded.
    pub fn query(&self) -> Option<&'a str> {
        self.head.query.map(|q| self.text(q))
    }

    /// The query's `name=value` pairs, still encoded; see [`QueryPairs`].
    pub fn query_pairs(&self) -> QueryPairs<'a> {
        QueryPairs::new(self.query().unwrap_or(""))
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The value of the first field named `name` (case-insensitive, RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.header_all(name).next()
    }

    /// The value of the first field named `name` as text, if it is ASCII.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// Every value of the fields named `name`, in order.
    pub fn header_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        let buf = self.buf;
        self.fields
            .iter()
            .filter(move |f| f.name.of(buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |f| f.value.of(buf))
    }

    /// Whether the list-valued fields named `name` contain `token` (case-insensitive), as
    /// `Connection: keep-alive, Upgrade` contains `upgrade`.
    pub fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.header_all(name)
            .any(|v| TokenList::new(v).any(|t| t.eq_ignore_ascii_case(token.as_bytes())))
    }

    /// All header fields as `(name, value)`, in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        let buf = self.buf;
        self.fields
            .iter()
            .map(move |f| (self.text(f.name), f.value.of(buf)))
    }

    /// The body: Content-Length bytes, or the decoded chunks; empty without framing.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Whether the connection may carry another request after this one.
    pub fn keep_alive(&self) -> bool {
        self.head.keep_alive
    }

    /// The Host value, or the empty string in an HTTP/1.0 request without one.
    pub fn host(&self) -> &'a str {
        self.head.host.map(|h| self.text(h)).unwrap_or("")
    }

    /// The text of a span the parser admitted only ASCII into: the method (a token), the
    /// target and its path and query (RFC 3986 characters), field names (tokens) and the Host
    /// value (RFC 3986 host characters).
    fn text(&self, span: Span) -> &'a str {
        let bytes = span.of(self.buf);
        debug_assert!(bytes.is_ascii(), "the parser admits only ASCII here");
        // Checked in debug builds; in release, UTF-8 validation of every method, path and
        // field name would cost more than the rest of routing.
        if cfg!(debug_assertions) && !bytes.is_ascii() {
            return "";
        }
        // SAFETY: ASCII is valid UTF-8, and these spans hold only ASCII: the parser admits
        // nothing else into them (see `scan::TOKEN`, `scan::TARGET`, `scan::HOST`), and a
        // request made by `Request::new` from a head of any other origin was checked there;
        // `Request::parsed` takes only heads the parser made from the same bytes.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }
}
