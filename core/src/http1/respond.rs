//! Answering a complete request: the application's part (which route serves it, the
//! 404/405/OPTIONS/HEAD/501 rules, the hooks, the handler) and the connection's part (where
//! the answer was written, queueing it after earlier answers, consuming the request, keeping
//! the connection or closing it).

use crate::handler::{Ctx, Handler, HeadersHook, Out, Outcome, Request, Response};
use crate::http::{self, Framing, Method, RequestHead, Status, TargetForm, canned};
use crate::pool::BlockId;
use crate::router::{Params, RouteMatch, Routing};
use crate::server::{Bus, Link};

use super::{BodyRecv, Http, HttpConn, Stage, Stream};

/// The parameters of a request no route serves.
const NO_PARAMS: Params<'static> = Params::empty("");

/// What an `after` hook learns about a finished response.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Completed {
    /// The status sent.
    pub status: Status,
    /// Body bytes (as counted for `Content-Length`, or of a static body; 0 for streams).
    pub body_len: u64,
}

/// A hook run before the handler; a response it returns is sent instead of the handler's.
pub type BeforeHook<S> = fn(&mut Ctx<'_, S>, &Request<'_>) -> Option<Response>;

/// App-level hooks, each optional.
pub struct Hooks<S: 'static> {
    /// Runs before routing-matched handlers; returning a response (e.g. `401`) skips the
    /// handler.
    pub before: Option<BeforeHook<S>>,
    /// Runs after each response is written (access logs, metrics).
    pub after: Option<fn(&mut S, &Request<'_>, &Completed)>,
    /// Adds headers to every response the app writes.
    pub headers: Option<HeadersHook>,
    /// Answers requests no route matches, instead of the built-in `404`.
    pub not_found: Option<Handler<S>>,
}

impl<S> Default for Hooks<S> {
    fn default() -> Self {
        Hooks {
            before: None,
            after: None,
            headers: None,
            not_found: None,
        }
    }
}

/// Which route serves `http_request`, or which rule answers it.
fn resolve<'r, S, R: Routing<S>>(
    router: &'r R,
    http_request: &http::Request<'r>,
) -> RouteMatch<'r, 'r, S> {
    if http_request.head().target_form == TargetForm::Asterisk {
        RouteMatch::Options {
            allow: router.all_methods(),
        }
    } else {
        router.resolve_parsed(
            http_request.head().method,
            http_request.method_str(),
            http_request.path(),
        )
    }
}

/// The application's answer to `request`, written into `ctx`: the handler of the route that
/// `resolved` found (after the `before` hook), or the rule for a request no route serves.
fn answer<S>(
    resolved: &RouteMatch<'_, '_, S>,
    hooks: &Hooks<S>,
    ctx: &mut Ctx<'_, S>,
    request: &Request<'_>,
) {
    match resolved {
        RouteMatch::Found { route, .. } => {
            if let Some((name, _)) = request.params().first_mismatch() {
                let _ = crate::problem::respond(
                    &mut ctx.out,
                    Status::BAD_REQUEST,
                    "Invalid path parameter",
                    format_args!("path parameter `{}` does not have the declared type", name),
                );
            } else if hooks
                .before
                .and_then(|before| before(ctx, request))
                .is_none()
            {
                let _ = (route.handler)(ctx, request);
            }
        }
        RouteMatch::NotFound => match hooks.not_found {
            Some(handler) => {
                let _ = handler(ctx, request);
            }
            None => {
                let _ = ctx.out.text(Status::NOT_FOUND, "Not Found\n");
            }
        },
        RouteMatch::MethodNotAllowed { allow } => {
            let _ = ctx
                .out
                .respond(Status::METHOD_NOT_ALLOWED)
                .header_fmt("Allow", format_args!("{allow}"))
                .header("Content-Type", "text/plain; charset=utf-8")
                .body(b"Method Not Allowed\n");
        }
        RouteMatch::Options { allow } => {
            let _ = ctx
                .out
                .respond(Status::NO_CONTENT)
                .header_fmt("Allow", format_args!("{allow}"))
                .body(b"");
        }
        RouteMatch::NotImplemented => {
            let _ = ctx.out.text(Status::NOT_IMPLEMENTED, "Not Implemented\n");
        }
    }
}

/// What an outcome says of the finished response, for the `after` hook and the counters.
fn completed<S>(outcome: &Outcome<S>) -> Option<Completed> {
    match outcome {
        Outcome::Written {
            status, body_len, ..
        } => Some(Completed {
            status: *status,
            body_len: *body_len,
        }),
        Outcome::Static { status, body, .. } => Some(Completed {
            status: *status,
            body_len: body.len() as u64,
        }),
        Outcome::Stream { status, .. } => Some(Completed {
            status: *status,
            body_len: 0,
        }),
        Outcome::Failed { .. } | Outcome::Nothing => None,
    }
}

impl<S, R: Routing<S>> Http<S, R> {
    /// Runs the app for the complete request of `conn` and queues its answer; the request's
    /// bytes are consumed and the connection is ready for the next one (or closing).
    pub(super) fn dispatch(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        let limits = link.config().limits;
        let max_requests = link.config().max_requests_per_connection;
        conn.requests += 1;
        link.stats().requests += 1;
        // Borrowed, not copied: the request reads it until its answer is queued.
        let head: &RequestHead = conn.parser.head();
        let (method, version) = (head.method, head.version);
        let keep_alive = head.keep_alive && conn.requests < max_requests && !link.draining();
        let (recv_start, recv_end) = (link.input_start(), link.input_end());
        let body_range = (conn.body.start, conn.body.written);
        let now = link.now();
        let view_gauges = link.gauges;
        let Link {
            id,
            recv,
            send,
            scratch,
            pool,
            state,
            stats,
            hub,
            slot,
            ..
        } = link;
        let head_bytes = &recv[recv_start as usize..recv_end.max(body_range.0) as usize];
        let span = core::mem::size_of::<http::HeaderSpan>();
        let fields: &[http::HeaderSpan] =
            bytemuck::cast_slice(&scratch[..limits.max_headers as usize * span]);
        let (body_block, standby) = pool.lent_and_next(conn.body.block);
        let body: &[u8] = match body_block {
            Some(block) => &block[body_range.0 as usize..body_range.1 as usize],
            None => &recv[body_range.0 as usize..body_range.1 as usize],
        };
        // The head was parsed from these bytes, which nothing has written to since.
        let http_request = http::Request::parsed(head, head_bytes, fields, body);
        let room = &mut send[slot.send_end as usize..];
        let standby_id: Option<BlockId> = standby.as_ref().map(|(id, _)| *id);
        let out = Out::new(
            room,
            standby.map(|(_, block)| block),
            self.date.for_server(self.server_name),
            version,
            keep_alive,
            method == Method::Head,
            self.hooks.headers,
        );
        let mut ctx = Ctx {
            state: &mut **state,
            out,
            now,
            server: crate::stats::ServerView {
                stats,
                gauges: view_gauges,
            },
            bus: Bus {
                hub: &mut **hub,
                slot: *id,
            },
        };
        // Made where it stays (moving it costs a copy), then given the parameters, which stay
        // where the router wrote them.
        let mut request = Request::new(http_request, &NO_PARAMS);
        let resolved = resolve(&self.router, request.http());
        if let RouteMatch::Found { params, .. } = &resolved {
            request.set_params(params);
        }
        answer(&resolved, &self.hooks, &mut ctx, &request);
        let keep_alive = ctx.out.keep_alive();
        let switch = ctx.out.switch();
        let outcome = ctx.out.into_outcome();
        let done = completed(&outcome);
        if let Some(done) = done {
            stats.responses[(done.status.code() / 100) as usize] += 1;
            if let Some(after) = self.hooks.after {
                after(state, &request, &done);
            }
        }
        // A 101 to HTTP/1.1 promises the switch (it says `Connection: upgrade`), whatever the
        // limit on requests per connection: the connection stops being HTTP's.
        let upgrade = switch.filter(|_| {
            done.is_some_and(|d| d.status == Status::SWITCHING_PROTOCOLS)
                && version == http::Version::Http11
        });
        let failure = queue(conn, link, outcome, standby_id, method);
        self.next_request(conn, link, keep_alive || upgrade.is_some());
        if let Some(failure) = failure {
            self.fail(conn, link, failure, method);
        } else if let Some(protocol) = upgrade {
            assert_eq!(
                conn.stage,
                Stage::Head,
                "a queued 101 leaves the connection open"
            );
            // The 101 is queued and the request consumed: what follows is the other
            // protocol's, and this module is done with the connection.
            conn.stage = Stage::Done;
            link.switch_protocol(protocol);
        }
    }

    /// The request's bytes are consumed; what follows is the next request.
    fn next_request(
        &mut self,
        conn: &mut HttpConn<S>,
        link: &mut Link<'_, '_, S>,
        keep_alive: bool,
    ) {
        let (head_len, framing) = (conn.parser.head().len, conn.parser.head().framing);
        let body_in_block = conn.body.block.is_some();
        if let Some(block) = conn.body.block.take() {
            link.release_block(block);
        }
        let head_end = link.input_start() + head_len as u32;
        let start = match (body_in_block, framing) {
            // The body lay in a large buffer; what followed it was moved back after the head.
            (true, _) | (false, Framing::None) => head_end,
            (false, Framing::Length(_)) => conn.body.written,
            (false, Framing::Chunked) => conn.body.read,
        };
        link.set_input_start(start);
        conn.parser.reset();
        conn.body = BodyRecv::none();
        conn.stage = Stage::Head;
        conn.head_deadline = None;
        if !keep_alive {
            conn.stage = Stage::Done;
            link.close_after_output();
        }
    }

    /// The handler's answer could not be written: the static 503 (no large buffer was free
    /// to hold it) or 500 (it did not fit one), and the connection closes.
    fn fail(
        &mut self,
        conn: &mut HttpConn<S>,
        link: &mut Link<'_, '_, S>,
        failure: Failure,
        method: Method,
    ) {
        let response = if failure.error == http::ResponseError::Overflow && !failure.had_standby {
            link.stats().pool_exhausted += 1;
            &canned::SERVICE_UNAVAILABLE
        } else {
            link.stats().response_overflows += 1;
            zlog_error!(
                "zzz: slot {}: the {} response could not be written ({:?}); sent 500",
                link.slot(),
                failure.status.code(),
                failure.error
            );
            &canned::INTERNAL_SERVER_ERROR
        };
        // The connection was ready for a next request; a failed answer ends it instead.
        self.reject_with_head(conn, link, response, method == Method::Head);
    }
}

/// Why a handler's answer was not queued.
struct Failure {
    error: http::ResponseError,
    had_standby: bool,
    status: Status,
}

/// Queues what the handler wrote: bytes in the send buffer (or in the large buffer it moved
/// to), then a static body or a stream.
fn queue<S>(
    conn: &mut HttpConn<S>,
    link: &mut Link<'_, '_, S>,
    outcome: Outcome<S>,
    standby: Option<BlockId>,
    method: Method,
) -> Option<Failure> {
    match outcome {
        Outcome::Written {
            start, len, moved, ..
        } => {
            // The response begins `start` bytes into the room it was given (a formatted body
            // leaves the unused part of its length gap before the head). Sending from there
            // copies nothing, unless an earlier response is still waiting in the buffer: then
            // the two must touch (`commit_output` moves it).
            queue_bytes(link, start, len, moved, standby);
            None
        }
        Outcome::Static {
            head_len,
            moved,
            status,
            body,
        } => {
            queue_bytes(link, 0, head_len, moved, standby);
            if method != Method::Head && !status.forbids_body() {
                link.queue_static(body);
            }
            None
        }
        Outcome::Stream {
            head_len,
            moved,
            producer,
            cursor,
            framing,
            heartbeat_ms,
            ..
        } => {
            queue_bytes(link, 0, head_len, moved, standby);
            if framing != http::StreamFraming::None {
                conn.stream = Some(Stream {
                    producer,
                    cursor,
                    framing,
                    finished: false,
                    waiting: false,
                    heartbeat_ms,
                });
                link.set_producing(true);
                link.stats().streams += 1;
            }
            None
        }
        Outcome::Failed {
            error,
            had_standby,
            status,
        } => Some(Failure {
            error,
            had_standby,
            status,
        }),
        Outcome::Nothing => Some(Failure {
            error: http::ResponseError::Overflow,
            had_standby: true,
            status: Status::INTERNAL_SERVER_ERROR,
        }),
    }
}

/// Accounts for a response (or head) of `len` bytes the handler wrote, `start` bytes into the
/// room it was given, or into the standby block when it `moved` there. Inlined: as a call
/// it cost some 15 instructions a request, a tenth of them the answer's own work.
#[inline(always)]
fn queue_bytes<S>(
    link: &mut Link<'_, '_, S>,
    start: usize,
    len: usize,
    moved: bool,
    standby: Option<BlockId>,
) {
    if moved {
        let id = link.pool().take().expect("the standby block was free");
        assert_eq!(
            Some(id),
            standby,
            "a response moved to a block it was not lent"
        );
        link.queue_block(id, start as u32, (start + len) as u32);
        link.stats().spills += 1;
    } else {
        link.commit_output(start, len);
    }
}
