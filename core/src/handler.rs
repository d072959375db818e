//! What a handler sees and how it answers: [`Ctx`], [`Request`], [`Response`].
//!
//! A handler is a plain function that runs to completion on the instance's thread:
//!
//! ```ignore
//! fn hello(ctx: &mut Ctx<App>, _req: &Request) -> Response {
//!     ctx.text(Status::OK, "Hello, World!")
//! }
//! ```
//!
//! It gets the instance's state (`ctx.state`), the request with its typed path parameters,
//! and `ctx.out`, which writes the response straight into the connection's send buffer.
//! The fields of [`Ctx`] are public so that a response can be formatted from the state
//! without fighting the borrow checker: `ctx.out.respond(Status::OK).fmt(format_args!("{}",
//! ctx.state.count))`.
//!
//! ## Bodies
//!
//! - **Bytes** ([`Reply::body`], [`Ctx::text`]): copied into the send buffer after a
//!   `Content-Length`.
//! - **Formatted** ([`Reply::fmt`], [`Reply::writer`]): `core::fmt` output (and templates)
//!   written in place; `Content-Length` is filled in when the body ends.
//! - **Static** ([`Reply::static_body`]): a `&'static [u8]` (an embedded asset) sent straight
//!   from where it lies, any size, never copied.
//! - **Streamed** ([`Reply::stream`]): a producer function called whenever the send buffer
//!   has room, writing one chunk at a time (chunked encoding for HTTP/1.1, until-close for
//!   HTTP/1.0), for generated bodies of any size.
//!
//! A bytes or formatted response that outgrows the free part of the send buffer moves to a
//! large buffer from the pool and continues there. If it outgrows that too, the client gets
//! the static `500` and the event is logged; if no large buffer is free, the static `503`
//! with `Retry-After`. A truncated response is never sent.

use core::marker::PhantomData;

use crate::http::{
    self, AsHeaderName, BodyWriter, ByteWriter, HttpDate, ResponseError, ResponseOptions,
    ResponseWriter, Status, StreamFraming,
};
use crate::router::params::{ParamError, Params};
use crate::server::{Bus, Feed};
use crate::stats::ServerView;
use crate::time::Now;

/// The handler signature.
pub type Handler<S> = for<'c, 'r> fn(&mut Ctx<'c, S>, &Request<'r>) -> Response;

/// A request as a handler sees it: the HTTP request (methods of [`http::Request`] through
/// `Deref`) plus the path parameters its route captured.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    http: http::Request<'a>,
    /// Borrowed from where the router wrote them: 96 bytes, copied three times a request when
    /// held here by value.
    params: &'a Params<'a>,
}

impl<'a> Request<'a> {
    /// Joins a parsed request and its route's parameters.
    pub fn new(http: http::Request<'a>, params: &'a Params<'a>) -> Request<'a> {
        Request { http, params }
    }

    /// Gives the request the parameters its route captured.
    pub(crate) fn set_params(&mut self, params: &'a Params<'a>) {
        self.params = params;
    }

    /// The path parameters.
    pub fn params(&self) -> &'a Params<'a> {
        self.params
    }

    /// The path parameter `name` parsed as `T`; see [`Params::parse`].
    pub fn param<T: core::str::FromStr>(&self, name: &str) -> Result<T, ParamError> {
        self.params.parse(name)
    }

    /// The HTTP request.
    pub fn http(&self) -> &http::Request<'a> {
        &self.http
    }
}

impl<'a> core::ops::Deref for Request<'a> {
    type Target = http::Request<'a>;

    fn deref(&self) -> &http::Request<'a> {
        &self.http
    }
}

/// Proof that a handler answered; made only by [`Out`]'s methods.
#[must_use = "a handler returns the Response its Ctx made"]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Response {
    status: Status,
}

impl Response {
    /// The status that was written.
    pub fn status(&self) -> Status {
        self.status
    }
}

/// State a stream producer keeps between calls: four words the producer interprets as it
/// likes (a row index, an offset...).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct StreamCursor(pub [u64; 4]);

/// What a stream producer reports after writing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamStep {
    /// More to come: call again when the buffer has room.
    More,
    /// Nothing to write now: call again when a message arrives for the connection (the
    /// hub's [`StreamOut::feed`]) or its output has drained. A response that stays open
    /// (server-sent events) waits this way; one that would wait for nothing never ends.
    Wait,
    /// The body is complete.
    Done,
}

/// A stream producer: writes the next part of the body into `out` (which may take up to
/// `out.remaining()` bytes; writing more fails the response). It may write nothing and return
/// `More` to be called again later, but it must not return `More` forever.
pub type StreamFn<S> = fn(&mut S, &mut StreamCursor, &mut StreamOut<'_>) -> StreamStep;

/// Where a stream producer writes one piece of the body.
#[derive(Debug)]
pub struct StreamOut<'a> {
    pub(crate) writer: ByteWriter<'a>,
    /// The messages waiting for the connection in the topics it follows.
    pub feed: Feed<'a>,
    /// The time of the call.
    pub now: Now,
}

impl StreamOut<'_> {
    /// Bytes it can still take in this call.
    pub fn remaining(&self) -> usize {
        self.writer.capacity() - self.writer.len()
    }

    /// Appends bytes.
    pub fn write(&mut self, data: &[u8]) {
        self.writer.write(data);
    }

    /// Bytes written in this call.
    pub fn len(&self) -> usize {
        self.writer.len()
    }

    /// Whether nothing was written in this call.
    pub fn is_empty(&self) -> bool {
        self.writer.is_empty()
    }
}

impl core::fmt::Write for StreamOut<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        core::fmt::Write::write_str(&mut self.writer, s)
    }
}

/// What the handler's response turned out to be, for the server to act on.
#[derive(Debug)]
pub(crate) enum Outcome<S: 'static> {
    /// Nothing written yet.
    Nothing,
    /// A complete response of `len` bytes at `start` in the buffer, or in the standby
    /// buffer when `moved` (the bytes before `start` are unused; see
    /// [`BodyWriter::finish_in_place`]).
    Written {
        start: usize,
        len: usize,
        moved: bool,
        status: Status,
        body_len: u64,
    },
    /// A head of `head_len` bytes in the buffer, then `body` sent from where it lies.
    Static {
        head_len: usize,
        moved: bool,
        status: Status,
        body: &'static [u8],
    },
    /// A head of `head_len` bytes in the buffer, then a streamed body.
    Stream {
        head_len: usize,
        moved: bool,
        status: Status,
        producer: StreamFn<S>,
        cursor: StreamCursor,
        framing: StreamFraming,
        /// Call the producer at least this often while it waits (0: only when woken).
        heartbeat_ms: u32,
    },
    /// The response could not be written; the server sends a static error instead.
    Failed {
        error: ResponseError,
        had_standby: bool,
        status: Status,
    },
}

/// A handler's way to answer: writes into the connection's send buffer.
pub struct Out<'a, S: 'static> {
    buf: &'a mut [u8],
    standby: Option<&'a mut [u8]>,
    /// The `Date`, and the `Server` name: the one its opening lines are composed for.
    date: &'a HttpDate,
    version: http::Version,
    keep_alive: bool,
    head: bool,
    headers_hook: Option<HeadersHook>,
    outcome: Outcome<S>,
    /// The protocol the connection switches to after this response (a `101`).
    switch: Option<u8>,
    _state: PhantomData<fn(&mut S)>,
}

/// A hook that adds headers to every response (security headers, CORS...), given the status.
pub type HeadersHook = fn(Status, &mut ResponseWriter<'_>);

impl<S> core::fmt::Debug for Out<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Out")
            .field("room", &self.buf.len())
            .field("head", &self.head)
            .finish()
    }
}

impl<'a, S> Out<'a, S> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        buf: &'a mut [u8],
        standby: Option<&'a mut [u8]>,
        date: &'a HttpDate,
        version: http::Version,
        keep_alive: bool,
        head: bool,
        headers_hook: Option<HeadersHook>,
    ) -> Out<'a, S> {
        Out {
            buf,
            standby,
            date,
            version,
            keep_alive,
            head,
            headers_hook,
            outcome: Outcome::Nothing,
            switch: None,
            _state: PhantomData,
        }
    }

    /// An `Out` over a caller's buffers, outside any server, for testing and benchmarking
    /// handlers: the response is written exactly as the server writes it into a connection's
    /// send buffer (`buf`), moving to `standby` (the server lends a large buffer from its pool)
    /// when it outgrows `buf`. It answers an HTTP/1.1 keep-alive request (a HEAD request when
    /// `head`), with `Server: zzz` and `date`, and no app header hook. Read what was written
    /// with [`Out::written`].
    pub fn detached(
        buf: &'a mut [u8],
        standby: Option<&'a mut [u8]>,
        date: &'a HttpDate,
        head: bool,
    ) -> Out<'a, S> {
        Out::new(buf, standby, date, http::Version::Http11, true, head, None)
    }

    /// What the server would send from its buffers for the response written so far: the whole
    /// response, or only the head when the body is static or streamed (those are sent from
    /// elsewhere); empty before a response is written. `Err` is the failure for which the
    /// server sends its static `500` (or `503` when no large buffer was free) instead.
    pub fn written(&self) -> Result<&[u8], ResponseError> {
        let (start, len, moved) = match self.outcome {
            Outcome::Nothing => return Ok(&[]),
            Outcome::Written {
                start, len, moved, ..
            } => (start, len, moved),
            Outcome::Static {
                head_len, moved, ..
            }
            | Outcome::Stream {
                head_len, moved, ..
            } => (0, head_len, moved),
            Outcome::Failed { error, .. } => return Err(error),
        };
        match (moved, self.standby.as_deref()) {
            (true, Some(standby)) => Ok(&standby[start..start + len]),
            _ => Ok(&self.buf[start..start + len]),
        }
    }

    /// Switches the connection to another protocol of the app's set after this response
    /// (HTTP `Upgrade`, RFC 9110 §7.8): `protocol` is its number
    /// ([`Protocols::id_index`](crate::server::Protocols::id_index)). It takes effect only if
    /// the response is `101 Switching Protocols` to an HTTP/1.1 request (the handler checks the
    /// request's `Upgrade` header and names the protocol in its own); the server then sends
    /// `Connection: upgrade`, and the bytes after this request are the new protocol's.
    pub fn switch_protocol(&mut self, protocol: u8) {
        self.switch = Some(protocol);
    }

    /// The protocol [`Out::switch_protocol`] asked for.
    pub(crate) fn switch(&self) -> Option<u8> {
        self.switch
    }

    /// The outcome, for the server, which sends from the ranges it names: asserted here, where
    /// they were written, to lie within the buffers they name (the server asserts again where
    /// it queues them).
    pub(crate) fn into_outcome(self) -> Outcome<S> {
        let room = |moved: bool| match (moved, &self.standby) {
            (true, Some(standby)) => standby.len(),
            (true, None) => 0,
            (false, _) => self.buf.len(),
        };
        match &self.outcome {
            Outcome::Written {
                start, len, moved, ..
            } => assert!(
                start + len <= room(*moved),
                "a response ends past its buffer"
            ),
            Outcome::Static {
                head_len, moved, ..
            }
            | Outcome::Stream {
                head_len, moved, ..
            } => assert!(*head_len <= room(*moved), "a head ends past its buffer"),
            Outcome::Failed { .. } | Outcome::Nothing => {}
        }
        self.outcome
    }

    /// Whether the connection stays open after this response. A handler may set it to
    /// `false` to close after answering.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Closes the connection after this response (`Connection: close`). Call before
    /// [`Out::respond`].
    pub fn close_after(&mut self) {
        self.keep_alive = false;
    }

    /// Starts a response with `status`: writes the status line, `Server` and `Date`, and the
    /// app's headers. Starting again discards what an earlier call wrote.
    // `inline(always)` on 64-bit targets: see "Speed" in `http::response`.
    #[cfg_attr(target_pointer_width = "64", inline(always))]
    #[cfg_attr(not(target_pointer_width = "64"), inline)]
    pub fn respond(&mut self, status: Status) -> Reply<'_, S> {
        let options = ResponseOptions {
            date: self.date,
            server: self.date.server(),
            version: self.version,
            keep_alive: self.keep_alive,
            head: self.head,
        };
        let had_standby = self.standby.is_some();
        let mut out = ByteWriter::with_standby(&mut *self.buf, self.standby.as_deref_mut());
        ResponseWriter::open(&mut out, status, self.date, options.server);
        let mut invalid = false;
        if let Some(hook) = self.headers_hook {
            (out, invalid) = with_hook(out, status, &options, hook);
        }
        // The writer is made from its parts here, where the compiler sees `status` and the
        // flags, and keeps it in registers through the `Reply` chain (see "Speed" in
        // `http::response`).
        Reply {
            writer: ResponseWriter::with_output(out, status, &options, invalid),
            outcome: &mut self.outcome,
            had_standby,
        }
    }

    /// A complete response with a text body.
    pub fn text(&mut self, status: Status, body: &str) -> Response {
        self.respond(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body.as_bytes())
    }

    /// A complete response with an HTML body.
    pub fn html(&mut self, status: Status, body: &str) -> Response {
        self.respond(status)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body.as_bytes())
    }

    /// A complete response without content.
    pub fn empty(&mut self, status: Status) -> Response {
        self.respond(status).body(b"")
    }
}

/// A response being written: add headers, then end it with one of the body methods.
pub struct Reply<'o, S: 'static> {
    writer: ResponseWriter<'o>,
    outcome: &'o mut Outcome<S>,
    had_standby: bool,
}

impl<S> core::fmt::Debug for Reply<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.writer.status())
            .finish()
    }
}

impl<'o, S> Reply<'o, S> {
    /// Adds a header line that zzz itself declares (`Name: value\r\n`), unchecked.
    #[cfg_attr(not(feature = "templates"), allow(dead_code))]
    pub(crate) fn header_line(mut self, line: &'static str) -> Self {
        self.writer.header_line(line);
        self
    }

    /// Adds a header (see [`ResponseWriter::header`] for what is refused).
    #[inline]
    pub fn header(mut self, name: impl AsHeaderName, value: &str) -> Self {
        self.writer.header(name, value.as_bytes());
        self
    }

    /// Adds a header with a byte value.
    pub fn header_bytes(mut self, name: impl AsHeaderName, value: &[u8]) -> Self {
        self.writer.header(name, value);
        self
    }

    /// Adds a header with a formatted value.
    pub fn header_fmt(mut self, name: &str, value: core::fmt::Arguments<'_>) -> Self {
        self.writer.header_fmt(name, value);
        self
    }

    /// Ends the response with `body`.
    // `inline(always)` on 64-bit targets: see "Speed" in `http::response`.
    #[cfg_attr(target_pointer_width = "64", inline(always))]
    #[cfg_attr(not(target_pointer_width = "64"), inline)]
    pub fn body(mut self, body: &[u8]) -> Response {
        // In place: the writer is read, not moved out and back.
        self.writer.end_with_body(body);
        let status = self.writer.status();
        *self.outcome = match self.writer.written() {
            Ok((len, moved)) => Outcome::Written {
                start: 0,
                len,
                moved,
                status,
                body_len: body.len() as u64,
            },
            Err(error) => Outcome::Failed {
                error,
                had_standby: self.had_standby,
                status,
            },
        };
        Response { status }
    }

    /// Ends the response with a text body (`Content-Type` is the caller's).
    pub fn text(self, body: &str) -> Response {
        self.body(body.as_bytes())
    }

    /// Ends the response with a formatted body.
    pub fn fmt(self, args: core::fmt::Arguments<'_>) -> Response {
        let mut body = self.writer();
        let _ = core::fmt::Write::write_fmt(&mut body, args);
        body.finish()
    }

    /// Continues with a body written in pieces (`core::fmt::Write`, templates); end it with
    /// [`BodyOut::finish`].
    pub fn writer(self) -> BodyOut<'o, S> {
        let Reply {
            writer,
            outcome,
            had_standby,
        } = self;
        let status = writer.status();
        BodyOut {
            body: writer.into_body(),
            outcome,
            had_standby,
            status,
        }
    }

    /// Ends the response with a static body sent without copying, of any size.
    pub fn static_body(self, body: &'static [u8]) -> Response {
        let Reply {
            writer,
            outcome,
            had_standby,
        } = self;
        let status = writer.status();
        *outcome = match writer.head_for_length(body.len() as u64) {
            Ok(out) => Outcome::Static {
                head_len: out.len(),
                moved: out.moved(),
                status,
                body,
            },
            Err(error) => Outcome::Failed {
                error,
                had_standby,
                status,
            },
        };
        Response { status }
    }

    /// Ends the head; the body comes from `producer`, called with `cursor` whenever the send
    /// buffer has room, until it returns [`StreamStep::Done`].
    pub fn stream(self, producer: StreamFn<S>, cursor: StreamCursor) -> Response {
        self.stream_with_heartbeat(producer, cursor, 0)
    }

    /// [`Reply::stream`] whose producer is also called every `heartbeat_ms` while it waits
    /// ([`StreamStep::Wait`]) with its output drained, and may write something to keep the
    /// connection alive (server-sent events write a comment). 0: only when woken.
    pub fn stream_with_heartbeat(
        self,
        producer: StreamFn<S>,
        cursor: StreamCursor,
        heartbeat_ms: u32,
    ) -> Response {
        let Reply {
            writer,
            outcome,
            had_standby,
        } = self;
        let status = writer.status();
        *outcome = match writer.head_for_stream() {
            Ok((out, framing)) => Outcome::Stream {
                head_len: out.len(),
                moved: out.moved(),
                status,
                producer,
                cursor,
                framing,
                heartbeat_ms,
            },
            Err(error) => Outcome::Failed {
                error,
                had_standby,
                status,
            },
        };
        Response { status }
    }
}

/// Runs the app's header hook on a response opened in `out`; returns the output and whether
/// the hook added an invalid header. Out of line: the writer's address escapes to the hook.
fn with_hook<'a>(
    out: ByteWriter<'a>,
    status: Status,
    options: &ResponseOptions<'_>,
    hook: HeadersHook,
) -> (ByteWriter<'a>, bool) {
    let mut writer = ResponseWriter::with_output(out, status, options, false);
    hook(status, &mut writer);
    writer.into_output()
}

/// The outcome of a response written whole, starting at the given offset of the writer.
fn written<S>(
    result: Result<(ByteWriter<'_>, usize), ResponseError>,
    had_standby: bool,
    status: Status,
    body_len: u64,
) -> Outcome<S> {
    match result {
        Ok((out, start)) => Outcome::Written {
            start,
            len: out.len() - start,
            moved: out.moved(),
            status,
            body_len,
        },
        Err(error) => Outcome::Failed {
            error,
            had_standby,
            status,
        },
    }
}

/// A body being written in pieces; implements [`core::fmt::Write`].
pub struct BodyOut<'o, S: 'static> {
    body: BodyWriter<'o>,
    outcome: &'o mut Outcome<S>,
    had_standby: bool,
    status: Status,
}

impl<S> core::fmt::Debug for BodyOut<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BodyOut")
            .field("status", &self.status)
            .finish()
    }
}

impl<'o, S> BodyOut<'o, S> {
    /// Appends bytes.
    pub fn write(&mut self, data: &[u8]) {
        self.body.write(data);
    }

    /// Appends what `fill` writes in place into the buffer's spare room (a serializer that
    /// writes into a slice); see [`ByteWriter::write_with`]: on `None` the response moves to
    /// the standby large buffer and `fill` runs once more, and if it still does not fit the
    /// response fails like any other overflow.
    pub fn write_with(&mut self, fill: impl FnMut(&mut [u8]) -> Option<usize>) -> Option<usize> {
        self.body.write_with(fill)
    }

    /// Whether the body has outgrown every buffer it may use: the response will be the
    /// static `500` (or `503`), and further writes are dropped.
    pub fn overflowed(&self) -> bool {
        self.body.overflowed()
    }

    /// Gives up on this body (whatever produced it failed): the client gets the static `500`
    /// instead of a page cut short, and the failure is logged.
    pub fn fail(&mut self) {
        self.body.fail();
    }

    /// The body writer underneath, for integrations that write through it directly.
    #[cfg_attr(not(feature = "templates"), allow(dead_code))]
    pub(crate) fn body_writer(&mut self) -> &mut BodyWriter<'o> {
        &mut self.body
    }

    /// Ends the body and the response.
    pub fn finish(self) -> Response {
        let BodyOut {
            body,
            outcome,
            had_standby,
            status,
        } = self;
        let body_len = body.body_len();
        *outcome = written(body.finish_in_place(), had_standby, status, body_len);
        Response { status }
    }
}

impl<S> core::fmt::Write for BodyOut<'_, S> {
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.body.write_str(s)
    }
}

/// Everything a handler works with.
pub struct Ctx<'a, S: 'static> {
    /// The instance's state.
    pub state: &'a mut S,
    /// The response writer.
    pub out: Out<'a, S>,
    /// The time of the event being handled.
    pub now: Now,
    /// The server's counters and gauges, for a metrics route (see
    /// [`PrometheusText`](crate::stats::PrometheusText)).
    pub server: ServerView<'a>,
    /// The connection's handle on the hub: publish to a topic, follow topics (a response
    /// that stays open, such as server-sent events, takes the messages).
    pub bus: Bus<'a>,
}

impl<S> core::fmt::Debug for Ctx<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ctx")
            .field("out", &self.out)
            .field("now", &self.now)
            .finish()
    }
}

impl<S> Ctx<'_, S> {
    /// Switches the connection to another protocol after this response; see
    /// [`Out::switch_protocol`].
    pub fn switch_protocol(&mut self, protocol: u8) {
        self.out.switch_protocol(protocol);
    }

    /// Starts a response; see [`Out::respond`].
    pub fn respond(&mut self, status: Status) -> Reply<'_, S> {
        self.out.respond(status)
    }

    /// A complete text response.
    pub fn text(&mut self, status: Status, body: &str) -> Response {
        self.out.text(status, body)
    }

    /// A complete HTML response.
    pub fn html(&mut self, status: Status, body: &str) -> Response {
        self.out.html(status, body)
    }

    /// A complete response without content.
    pub fn empty(&mut self, status: Status) -> Response {
        self.out.empty(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(_: Status, writer: &mut ResponseWriter<'_>) {
        writer.header("X-Frame-Options", b"DENY");
    }

    fn splitting(_: Status, writer: &mut ResponseWriter<'_>) {
        writer.header("X-Bad", b"a\r\nb");
    }

    fn out<'a>(buf: &'a mut [u8], date: &'a HttpDate, hook: HeadersHook) -> Out<'a, ()> {
        Out::new(
            buf,
            None,
            date,
            http::Version::Http11,
            true,
            false,
            Some(hook),
        )
    }

    /// The app's header hook writes after `Date`, before the handler's fields; a header it
    /// refuses fails the response like one the handler wrote.
    #[test]
    fn headers_hook() {
        let date = HttpDate::new();
        let mut buf = [0u8; 256];
        let mut o = out(&mut buf, &date, security);
        let _ = o.text(Status::OK, "hi");
        let sent = core::str::from_utf8(o.written().unwrap()).unwrap();
        assert!(
            sent.ends_with(
                "GMT\r\nX-Frame-Options: DENY\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Content-Length: 2\r\n\r\nhi"
            ),
            "{sent}"
        );
        let mut buf = [0u8; 256];
        let mut o = out(&mut buf, &date, splitting);
        let _ = o.text(Status::OK, "hi");
        assert_eq!(o.written(), Err(ResponseError::InvalidHeader));
    }
}
