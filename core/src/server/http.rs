//! The HTTP/1.1 module: parsing heads, receiving bodies, dispatching to the router, and
//! queueing responses in order, on one connection slot.

use super::conn::{self, BodyFraming, BodyRecv, Phase, Spill, Then, wants};
use super::{Server, ServerView, SlotId};
use crate::app::Completed;
use crate::handler::{Ctx, Out, Outcome, Request, StreamOut, StreamStep};
use crate::http::{
    self, ByteWriter, Framing, Method, Parsed, RequestError, Status, StreamFraming, TargetForm,
    canned,
};
use crate::router::{Params, RouteMatch};

/// What one processing step achieved.
enum Step {
    /// Progress was made; run the next step.
    Continue,
    /// Waiting for an event (bytes, a send, a timer).
    Wait,
}

const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The fewest bytes a request takes (`GET / HTTP/1.0` and the blank line): what bounds the
/// requests a receive buffer can hold.
const MIN_REQUEST: usize = b"A / HTTP/1.0\r\n\r\n".len();

impl<S> Server<'_, S> {
    /// Runs the HTTP state machine of `slot` until it must wait for an event.
    pub(super) fn process_http(&mut self, slot: SlotId) {
        // Bounded: every step that does not wait consumes input (a request is at least
        // `MIN_REQUEST` bytes of the receive buffer and takes at most three steps: head, body,
        // dispatch) or produces a stream chunk into an empty send buffer, which then blocks;
        // running out means the state machine stopped making progress.
        let budget = 3 * (self.config.recv_buffer as usize / MIN_REQUEST + 1) + 4;
        let mut waited = false;
        for _ in 0..budget {
            let c = &self.conns[slot as usize];
            match c.phase {
                Phase::Free | Phase::Closed | Phase::Lingering => return,
                Phase::Closing => {
                    // A closing connection is on no overload queue, even while its last answer
                    // waits: closing it to make room would cut that answer short.
                    self.update_standing(slot);
                    self.finish_closing(slot);
                    return;
                }
                Phase::Head | Phase::Body => {}
            }
            if matches!(c.then, Then::Stream { .. })
                && c.send_pending() == 0
                && c.spill.is_none()
                && !c.send_posted
            {
                self.run_stream(slot);
                continue;
            }
            if self.output_blocked(slot) {
                waited = true;
                break;
            }
            let step = match self.conns[slot as usize].phase {
                Phase::Head => self.step_head(slot),
                Phase::Body => self.step_body(slot),
                _ => Step::Continue,
            };
            if let Step::Wait = step {
                waited = true;
                break;
            }
        }
        assert!(
            waited,
            "slot {slot}: the HTTP state machine made no progress in {budget} steps"
        );
        self.flush(slot);
        self.update_standing(slot);
        self.rearm_timer(slot);
    }

    /// Whether earlier output must drain before the next request is handled: a response in a
    /// large buffer or a static/streamed body is pending, or the send buffer is over half full.
    fn output_blocked(&mut self, slot: SlotId) -> bool {
        let cap = self.config.send_buffer;
        let c = &mut self.conns[slot as usize];
        if c.spill.is_some() || !c.then.is_nothing() {
            return true;
        }
        if c.send_start > 0 && !c.send_posted {
            // Compact: move the unsent bytes to the front.
            let base = slot as usize * cap as usize;
            let (start, end) = (c.send_start as usize, c.send_end as usize);
            self.send.copy_within(base + start..base + end, base);
            c.send_end -= c.send_start;
            c.send_start = 0;
        }
        c.send_pending() > 0 && cap - c.send_end < cap / 2
    }

    /// Asks for a send if output is waiting and none is posted.
    pub(super) fn flush(&mut self, slot: SlotId) {
        let c = &self.conns[slot as usize];
        let has_bytes =
            c.send_pending() > 0 || c.spill.is_some() || matches!(c.then, Then::Static { .. });
        if has_bytes && !c.send_posted {
            if c.wants & wants::SEND == 0 {
                // From now on the connection waits for the peer to read.
                self.conns[slot as usize].send_since = self.now.monotonic;
            }
            self.want(slot, wants::SEND);
        }
    }

    /// Phase::Head: parse what is buffered.
    fn step_head(&mut self, slot: SlotId) -> Step {
        let cap = self.config.recv_buffer as usize;
        let max_fields = self.config.limits.max_headers as usize;
        let now = self.now.monotonic;
        let head_ms = self.config.timeouts.head_ms;
        let c = &mut self.conns[slot as usize];
        if c.recv_start == c.recv_end {
            if !c.recv_posted {
                c.recv_start = 0;
                c.recv_end = 0;
            }
            if c.peer_eof {
                return self.begin_close(slot);
            }
            if self.draining {
                return self.begin_close(slot);
            }
            self.want(slot, wants::RECV);
            return Step::Wait;
        }
        if c.head_deadline.is_none() {
            c.head_deadline = Some(now.after_ms(head_ms));
        }
        let base = slot as usize * cap;
        let buf = &self.recv[base + c.recv_start as usize..base + c.recv_end as usize];
        let fields = &mut self.fields[slot as usize * max_fields..(slot as usize + 1) * max_fields];
        match c.parser.parse(buf, fields, &self.config.limits) {
            Ok(Parsed::Complete(head)) => {
                c.head = *head;
                self.start_request(slot)
            }
            Ok(Parsed::Partial) => {
                if c.peer_eof {
                    // The request can never complete.
                    return self.begin_close(slot);
                }
                if c.recv_end as usize == cap && !c.recv_posted {
                    // The head's offsets are relative to its start, so it can move.
                    debug_assert!(
                        c.recv_start > 0,
                        "a head larger than the receive buffer passed the limits"
                    );
                    let (start, end) = (c.recv_start as usize, c.recv_end as usize);
                    self.recv.copy_within(base + start..base + end, base);
                    c.recv_end -= c.recv_start;
                    c.recv_start = 0;
                }
                self.want(slot, wants::RECV);
                Step::Wait
            }
            Err(error) => {
                self.stats.parse_errors += 1;
                self.reject(slot, error);
                Step::Continue
            }
        }
    }

    /// A head is complete: decide where its body goes, or dispatch it.
    fn start_request(&mut self, slot: SlotId) -> Step {
        let cap = self.config.recv_buffer as usize;
        let c = &mut self.conns[slot as usize];
        assert!(c.phase == Phase::Head && c.body.block.is_none());
        assert!(c.recv_start as usize + c.head.len as usize <= c.recv_end as usize);
        let head_end = c.recv_start + c.head.len as u32;
        let available = (c.recv_end - head_end) as u64;
        c.body = BodyRecv::none();
        c.body.start = head_end;
        c.body.read = head_end;
        c.body.written = head_end;
        c.body.end = c.recv_end;
        match c.head.framing {
            Framing::None => {
                c.body.end = head_end;
                self.dispatch(slot);
                return Step::Continue;
            }
            Framing::Length(n) if available >= n => {
                c.body.written = head_end + n as u32;
                c.body.read = c.body.written;
                self.dispatch(slot);
                return Step::Continue;
            }
            Framing::Length(n) => {
                c.body.framing = BodyFraming::Length;
                c.body.written = c.recv_end;
                c.body.read = c.recv_end;
                c.body.remaining = n - available;
                let needed = c.head.len as u64 + n;
                if head_end as u64 + n > cap as u64 {
                    if needed <= cap as u64 && !c.recv_posted {
                        self.compact_recv(slot);
                    } else if !self.move_body_to_block(slot) {
                        return Step::Continue;
                    }
                }
            }
            Framing::Chunked => {
                c.body.framing = BodyFraming::Chunked;
            }
        }
        let c = &mut self.conns[slot as usize];
        c.phase = Phase::Body;
        c.progress_at = self.now.monotonic;
        if c.head.expect_continue {
            self.send_continue(slot);
        }
        Step::Continue
    }

    /// Moves the head (and the body so far) to the front of the receive buffer.
    fn compact_recv(&mut self, slot: SlotId) {
        let cap = self.config.recv_buffer as usize;
        let base = slot as usize * cap;
        let c = &mut self.conns[slot as usize];
        debug_assert!(!c.recv_posted);
        let shift = c.recv_start;
        if shift == 0 {
            return;
        }
        self.recv
            .copy_within(base + shift as usize..base + c.recv_end as usize, base);
        c.recv_start = 0;
        c.recv_end -= shift;
        if c.phase == Phase::Body || c.body.start >= shift {
            c.body.start -= shift;
            c.body.read -= shift;
            c.body.written -= shift;
            c.body.end -= shift;
        }
    }

    /// Moves the body received so far into a large buffer; answers 503 and returns `false`
    /// when none is free.
    fn move_body_to_block(&mut self, slot: SlotId) -> bool {
        let Some(id) = self.pool.take() else {
            self.stats.pool_exhausted += 1;
            self.reject_with(slot, &canned::SERVICE_UNAVAILABLE);
            return false;
        };
        self.stats.large_bodies += 1;
        self.compact_recv(slot);
        let cap = self.config.recv_buffer as usize;
        let base = slot as usize * cap;
        let c = &mut self.conns[slot as usize];
        let b = &mut c.body;
        let decoded = (b.written - b.start) as usize;
        let raw = (b.end - b.read) as usize;
        let block = self.pool.block(id);
        block[..decoded]
            .copy_from_slice(&self.recv[base + b.start as usize..base + b.written as usize]);
        block[decoded..decoded + raw]
            .copy_from_slice(&self.recv[base + b.read as usize..base + b.end as usize]);
        c.recv_end = b.start;
        b.block = Some(id);
        b.start = 0;
        b.written = decoded as u32;
        b.read = decoded as u32;
        b.end = (decoded + raw) as u32;
        true
    }

    /// Phase::Body: account for what arrived, decode, dispatch when complete.
    fn step_body(&mut self, slot: SlotId) -> Step {
        let cap = self.config.recv_buffer as usize;
        let block_size = self.pool.block_size();
        let c = &mut self.conns[slot as usize];
        match c.body.framing {
            BodyFraming::Length => {
                let arrived = (c.body.end - c.body.written) as u64;
                debug_assert!(arrived <= c.body.remaining);
                c.body.remaining -= arrived;
                c.body.written = c.body.end;
                c.body.read = c.body.end;
                if c.body.remaining == 0 {
                    self.dispatch(slot);
                    return Step::Continue;
                }
            }
            BodyFraming::Chunked => {
                let base = slot as usize * cap;
                let area: &mut [u8] = match c.body.block {
                    Some(id) => &mut self.pool.block(id)[..c.body.end as usize],
                    None => &mut self.recv[base..base + c.body.end as usize],
                };
                let (mut read, mut written) = (c.body.read as usize, c.body.written as usize);
                let result = c.body.decoder.decode_in_place(
                    area,
                    &mut read,
                    &mut written,
                    &self.config.limits,
                );
                c.body.read = read as u32;
                c.body.written = written as u32;
                match result {
                    Err(error) => {
                        self.reject(slot, error);
                        return Step::Continue;
                    }
                    Ok(true) => {
                        if c.body.block.is_some() {
                            self.return_leftover(slot);
                        }
                        self.dispatch(slot);
                        return Step::Continue;
                    }
                    Ok(false) => {
                        // Undecoded bytes are all consumed; make room for more.
                        debug_assert_eq!(c.body.read, c.body.end);
                        if c.body.block.is_none() {
                            c.recv_end = c.body.end;
                            if c.body.end as usize == cap && !c.recv_posted {
                                if c.recv_start > 0 {
                                    self.compact_recv(slot);
                                } else if !self.move_body_to_block(slot) {
                                    return Step::Continue;
                                }
                            }
                        } else {
                            // Decoded data stays; the raw tail was consumed.
                            c.body.end = c.body.written;
                            c.body.read = c.body.written;
                            if c.body.end as usize >= block_size {
                                self.reject(slot, RequestError::BodyTooLarge);
                                return Step::Continue;
                            }
                        }
                    }
                }
            }
        }
        let c = &self.conns[slot as usize];
        if c.peer_eof {
            return self.begin_close(slot);
        }
        self.want(slot, wants::RECV);
        Step::Wait
    }

    /// A chunked body in a large buffer is complete: the bytes received after it belong to
    /// the next request and go back to the receive buffer, right after the head.
    fn return_leftover(&mut self, slot: SlotId) {
        let cap = self.config.recv_buffer as usize;
        let base = slot as usize * cap;
        let c = &mut self.conns[slot as usize];
        let Some(id) = c.body.block else { return };
        let head_end = (c.recv_start + c.head.len as u32) as usize;
        let leftover = &self.pool.block_ref(id)[c.body.read as usize..c.body.end as usize];
        // Block receives of a chunked body are limited so that this always fits.
        assert!(
            head_end + leftover.len() <= cap,
            "leftover of a chunked body does not fit"
        );
        self.recv[base + head_end..base + head_end + leftover.len()].copy_from_slice(leftover);
        c.recv_end = (head_end + leftover.len()) as u32;
        c.body.end = c.body.read;
    }

    /// Writes the interim `100 Continue` (RFC 9110 §15.2.1).
    fn send_continue(&mut self, slot: SlotId) {
        let cap = self.config.send_buffer as usize;
        let c = &mut self.conns[slot as usize];
        let end = c.send_end as usize;
        if cap - end < CONTINUE_100.len() {
            return; // The client will send the body anyway after its own timeout.
        }
        let base = slot as usize * cap;
        self.send[base + end..base + end + CONTINUE_100.len()].copy_from_slice(CONTINUE_100);
        c.send_end += CONTINUE_100.len() as u32;
        self.stats.continues += 1;
        self.stats.responses[1] += 1;
    }

    /// Answers a request error with its canned response and closes after it.
    pub(super) fn reject(&mut self, slot: SlotId, error: RequestError) {
        zlog_debug!("zzz: slot {}: {}", slot, error.reason());
        self.reject_with(slot, canned::for_error(error));
    }

    /// Answers a timeout with `408` and closes after it.
    pub(super) fn reject_timeout(&mut self, slot: SlotId) {
        self.reject_with(slot, &canned::REQUEST_TIMEOUT);
        self.process(slot);
    }

    /// Queues a canned response and moves the connection to closing.
    pub(super) fn reject_with(&mut self, slot: SlotId, response: &canned::CannedResponse) {
        let c = &self.conns[slot as usize];
        let head_only = match c.phase {
            Phase::Body => c.head.method == Method::Head,
            _ => c.parser.method() == Some(Method::Head),
        };
        self.reject_with_head(slot, response, head_only);
    }

    /// [`Server::reject_with`], saying whether the request was HEAD.
    fn reject_with_head(
        &mut self,
        slot: SlotId,
        response: &canned::CannedResponse,
        head_only: bool,
    ) {
        let cap = self.config.send_buffer as usize;
        let base = slot as usize * cap;
        let c = &mut self.conns[slot as usize];
        if let Some(block) = c.body.block.take() {
            if c.recv_posted && matches!(c.recv_at, conn::RecvAt::Block { id, .. } if id == block) {
                // The kernel still writes into it: return it when that receive completes.
                c.pinned = Some(block);
            } else {
                self.pool.release(block);
            }
        }
        let end = c.send_end as usize;
        let mut out = ByteWriter::new(&mut self.send[base + end..base + cap]);
        response.write(&mut out, &self.date, head_only);
        if !out.overflowed() {
            c.send_end += out.len() as u32;
            self.stats.responses[(response.status.code() / 100) as usize] += 1;
        }
        c.close_after = true;
        c.phase = Phase::Closing;
        // Nothing after a rejected request is ever parsed.
        c.recv_start = c.recv_end;
        assert!(c.body.block.is_none() && c.send_end as usize <= cap);
    }

    /// Stops reading: close once the output is sent.
    fn begin_close(&mut self, slot: SlotId) -> Step {
        let c = &mut self.conns[slot as usize];
        assert!(matches!(c.phase, Phase::Head | Phase::Body));
        c.close_after = true;
        c.phase = Phase::Closing;
        Step::Continue
    }

    /// Phase::Closing: when the output is sent, shut the sending side and linger (or close
    /// at once if the peer has gone).
    fn finish_closing(&mut self, slot: SlotId) {
        let c = &self.conns[slot as usize];
        assert!(c.phase == Phase::Closing && c.close_after);
        if c.output_pending() {
            if matches!(c.then, Then::Stream { .. })
                && c.send_pending() == 0
                && c.spill.is_none()
                && !c.send_posted
            {
                self.run_stream(slot);
                if self.conns[slot as usize].phase != Phase::Closing {
                    return; // The producer failed and the slot is closing.
                }
            }
            // The stream's last call may have ended it with nothing more to send: then go on
            // closing now, for no send completion will come to call us again.
            if self.conns[slot as usize].output_pending() {
                self.flush(slot);
                if !self.conns[slot as usize].peer_eof {
                    // Keep taking (and discarding) what the client still sends meanwhile.
                    self.want(slot, wants::RECV);
                }
                self.rearm_timer(slot);
                return;
            }
        }
        let c = &self.conns[slot as usize];
        if c.send_posted {
            return;
        }
        if c.peer_eof {
            self.close(slot);
            return;
        }
        let c = &mut self.conns[slot as usize];
        assert!(!c.output_pending() && !c.send_posted);
        c.phase = Phase::Lingering;
        c.progress_at = self.now.monotonic;
        c.recv_start = 0;
        c.recv_end = 0;
        self.want(slot, wants::SHUTDOWN | wants::RECV);
        self.rearm_timer(slot);
    }

    /// Runs the handler for the complete request of `slot` and queues its response.
    fn dispatch(&mut self, slot: SlotId) {
        let recv_cap = self.config.recv_buffer as usize;
        let send_cap = self.config.send_buffer as usize;
        let max_fields = self.config.limits.max_headers as usize;
        let max_requests = self.config.max_requests_per_connection;
        let draining = self.draining;
        let now = self.now;
        let gauges = self.gauges();
        let Server {
            app,
            conns,
            recv,
            send,
            fields,
            pool,
            date,
            stats,
            ..
        } = self;
        let c = &mut conns[slot as usize];
        c.requests += 1;
        stats.requests += 1;
        let head = c.head;
        let keep_alive = head.keep_alive && c.requests < max_requests && !draining;

        let recv_base = slot as usize * recv_cap;
        let head_bytes = &recv
            [recv_base + c.recv_start as usize..recv_base + c.recv_end.max(c.body.start) as usize];
        let fields = &fields[slot as usize * max_fields..(slot as usize + 1) * max_fields];
        let (body_block, standby) = pool.lent_and_next(c.body.block);
        let body: &[u8] = match body_block {
            Some(block) => &block[c.body.start as usize..c.body.written as usize],
            None => &recv[recv_base + c.body.start as usize..recv_base + c.body.written as usize],
        };
        let http_request = http::Request::new(&head, head_bytes, fields, body);
        let send_base = slot as usize * send_cap;
        let room = &mut send[send_base + c.send_end as usize..send_base + send_cap];
        let standby_id = standby.as_ref().map(|(id, _)| *id);
        let out = Out::new(
            room,
            standby.map(|(_, block)| block),
            date,
            app.server_name,
            head.version,
            keep_alive,
            head.method == Method::Head,
            app.hooks.headers,
        );
        let mut ctx = Ctx {
            state: &mut app.state,
            out,
            now,
            server: ServerView { stats, gauges },
        };

        let path = http_request.path();
        let resolved = if head.target_form == TargetForm::Asterisk {
            RouteMatch::Options {
                allow: app.router.all_methods(),
            }
        } else {
            app.router
                .resolve_parsed(head.method, http_request.method_str(), path)
        };
        let mut params = Params::default();
        match resolved {
            RouteMatch::Found {
                route,
                params: captured,
            } => {
                params = captured;
                let request = Request::new(http_request, params);
                if let Some((name, _)) = params.first_mismatch() {
                    let _ = crate::problem::respond(
                        &mut ctx.out,
                        Status::BAD_REQUEST,
                        "Invalid path parameter",
                        format_args!("path parameter `{}` does not have the declared type", name),
                    );
                } else {
                    let early = app
                        .hooks
                        .before
                        .and_then(|before| before(&mut ctx, &request));
                    if early.is_none() {
                        let _ = (route.handler)(&mut ctx, &request);
                    }
                }
            }
            RouteMatch::NotFound => match app.hooks.not_found {
                Some(handler) => {
                    let _ = handler(&mut ctx, &Request::new(http_request, params));
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
        let keep_alive = ctx.out.keep_alive();
        let outcome = ctx.out.into_outcome();
        let request = Request::new(http_request, params);

        let completed = match &outcome {
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
        };
        if let Some(done) = completed {
            stats.responses[(done.status.code() / 100) as usize] += 1;
            if let Some(after) = app.hooks.after {
                after(&mut app.state, &request, &done);
            }
        }

        // Queue what the handler wrote.
        let mut failure = None;
        match outcome {
            Outcome::Written {
                start, len, moved, ..
            } => {
                // The response begins `start` bytes into the room it was given (a formatted
                // body leaves the unused part of its length gap before the head). Sending from
                // there copies nothing, unless an earlier response is still waiting in the
                // buffer: then the two must touch.
                let start = if start > 0 && !moved && c.send_pending() > 0 {
                    let at = send_base + c.send_end as usize;
                    send.copy_within(at + start..at + start + len, at);
                    0
                } else {
                    start
                };
                queue_bytes(c, start, len, moved, standby_id, pool, stats)
            }
            Outcome::Static {
                head_len,
                moved,
                status,
                body,
            } => {
                queue_bytes(c, 0, head_len, moved, standby_id, pool, stats);
                if head.method != Method::Head && !status.forbids_body() && !body.is_empty() {
                    c.then = Then::Static { body, sent: 0 };
                }
            }
            Outcome::Stream {
                head_len,
                moved,
                producer,
                cursor,
                framing,
                ..
            } => {
                queue_bytes(c, 0, head_len, moved, standby_id, pool, stats);
                if framing != StreamFraming::None {
                    c.then = Then::Stream {
                        producer,
                        cursor,
                        framing,
                        finished: false,
                    };
                    stats.streams += 1;
                }
            }
            Outcome::Failed {
                error,
                had_standby,
                status,
            } => failure = Some((error, had_standby, status)),
            Outcome::Nothing => {
                failure = Some((
                    http::ResponseError::Overflow,
                    true,
                    Status::INTERNAL_SERVER_ERROR,
                ))
            }
        }

        // The request's bytes are consumed; what follows is the next request.
        let body_in_block = c.body.block.is_some();
        if let Some(block) = c.body.block.take() {
            pool.release(block);
        }
        let head_end = c.recv_start + head.len as u32;
        c.recv_start = match (body_in_block, head.framing) {
            // The body lay in a large buffer; what followed it was moved back after the head.
            (true, _) | (false, Framing::None) => head_end,
            (false, Framing::Length(_)) => c.body.written,
            (false, Framing::Chunked) => c.body.read,
        };
        debug_assert!(c.recv_start <= c.recv_end);
        c.parser.reset();
        c.body = BodyRecv::none();
        c.phase = Phase::Head;
        c.head_deadline = None;
        if !keep_alive {
            c.close_after = true;
            c.phase = Phase::Closing;
        }

        if let Some((error, had_standby, status)) = failure {
            let response = if error == http::ResponseError::Overflow && !had_standby {
                self.stats.pool_exhausted += 1;
                &canned::SERVICE_UNAVAILABLE
            } else {
                self.stats.response_overflows += 1;
                zlog_error!(
                    "zzz: slot {}: the {} response could not be written ({:?}); sent 500",
                    slot,
                    status.code(),
                    error
                );
                &canned::INTERNAL_SERVER_ERROR
            };
            let recv_start = self.conns[slot as usize].recv_start;
            self.reject_with_head(slot, response, head.method == Method::Head);
            // reject_with forgets the rest of the input: a failed response closes the
            // connection, so that is right, but keep the bookkeeping consistent.
            debug_assert!(self.conns[slot as usize].recv_start >= recv_start);
        }
    }

    /// Calls the stream producer of `slot` to fill the (empty) send buffer with one chunk.
    fn run_stream(&mut self, slot: SlotId) {
        let cap = self.config.send_buffer as usize;
        let base = slot as usize * cap;
        let Server {
            app, conns, send, ..
        } = self;
        let c = &mut conns[slot as usize];
        debug_assert!(c.send_pending() == 0 && !c.send_posted && c.spill.is_none());
        c.send_start = 0;
        c.send_end = 0;
        let Then::Stream {
            producer,
            mut cursor,
            framing,
            finished,
        } = c.then
        else {
            return;
        };
        if finished {
            c.then = Then::Nothing;
            return;
        }
        let buf = &mut send[base..base + cap];
        // Chunk header: the size as fixed-width hex (leading zeros are valid, RFC 9112 §7.1),
        // so the data can be written in place before its size is known.
        let width = hex_width(cap);
        let (head_room, tail_room) = match framing {
            StreamFraming::Chunked => (width + 2, 2 + http::LAST_CHUNK.len()),
            _ => (0, 0),
        };
        let mut out = StreamOut {
            writer: ByteWriter::new(&mut buf[head_room..cap - tail_room]),
        };
        let step = producer(&mut app.state, &mut cursor, &mut out);
        let (n, overflowed) = (out.writer.len(), out.writer.overflowed());
        if overflowed || (step == StreamStep::More && n == 0) {
            // A body cannot be taken back once started: end the connection.
            zlog_error!(
                "zzz: slot {}: stream producer overflowed or stalled; closing",
                slot
            );
            c.then = Then::Nothing;
            c.send_end = 0;
            self.close(slot);
            return;
        }
        let end = match framing {
            StreamFraming::Chunked => {
                let mut end = 0;
                if n > 0 {
                    write_hex_fixed(n, &mut buf[..width]);
                    buf[width..width + 2].copy_from_slice(b"\r\n");
                    end = head_room + n;
                    buf[end..end + 2].copy_from_slice(b"\r\n");
                    end += 2;
                }
                if step == StreamStep::Done {
                    buf[end..end + http::LAST_CHUNK.len()].copy_from_slice(http::LAST_CHUNK);
                    end += http::LAST_CHUNK.len();
                }
                end
            }
            _ => n,
        };
        c.send_end = end as u32;
        c.then = match step {
            StreamStep::More => Then::Stream {
                producer,
                cursor,
                framing,
                finished: false,
            },
            StreamStep::Done => {
                if framing == StreamFraming::UntilClose {
                    c.close_after = true;
                    c.phase = Phase::Closing;
                }
                Then::Nothing
            }
        };
        self.flush(slot);
    }
}

/// Accounts for a response (or head) of `len` bytes the handler wrote, `start` bytes into the
/// room it was given.
fn queue_bytes<S>(
    c: &mut super::conn::Conn<S>,
    start: usize,
    len: usize,
    moved: bool,
    standby: Option<crate::pool::BlockId>,
    pool: &mut crate::pool::BlockPool<'_>,
    stats: &mut super::Stats,
) {
    if moved {
        let id = pool.take().expect("the standby block was free");
        assert_eq!(
            Some(id),
            standby,
            "a response moved to a block it was not lent"
        );
        assert!(start + len <= pool.block_size());
        c.spill = Some(Spill {
            id,
            start: start as u32,
            end: (start + len) as u32,
        });
        stats.spills += 1;
    } else {
        assert!(start == 0 || c.send_pending() == 0);
        if start > 0 {
            c.send_start = c.send_end + start as u32;
        }
        c.send_end += (start + len) as u32;
    }
}

/// Digits of the largest chunk size a buffer of `cap` bytes can hold.
fn hex_width(cap: usize) -> usize {
    let bits = (usize::BITS - cap.leading_zeros()) as usize;
    let width = bits.div_ceil(4).max(1);
    // `cap` has exactly `width` hex digits.
    debug_assert!(width * 4 >= usize::BITS as usize || cap < 1 << (4 * width));
    debug_assert!(width == 1 || cap >= 1 << (4 * (width - 1)));
    width
}

fn write_hex_fixed(mut n: usize, out: &mut [u8]) {
    for digit in out.iter_mut().rev() {
        *digit = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
    }
}
