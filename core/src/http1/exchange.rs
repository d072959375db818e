//! Receiving one request after another on a connection: the head parsed as it arrives, the
//! body received (moved to a large buffer when it outgrows the receive buffer, decoded in
//! place when chunked), the request dispatched once whole; the deadlines of each stage; the
//! canned answers to what cannot be served.

use crate::http::{Framing, HeaderSpan, Method, Parsed, RequestError, canned};
use crate::router::Routing;
use crate::server::{InputTarget, Link};

use super::{BodyFraming, Http, HttpConn, Stage};

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

impl<S, R: Routing<S>> Http<S, R> {
    /// Runs the connection until it must wait for an event.
    pub(super) fn run(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        if conn.stage == Stage::Done {
            // Closing: only a stream still produces.
            if conn.stream.is_some() && !link.output_queued() && !link.output_posted() {
                self.run_stream(conn, link);
            }
            return;
        }
        // Bounded: every step that does not wait consumes input (a request is at least
        // `MIN_REQUEST` bytes of the receive buffer and takes at most three steps: head, body,
        // dispatch) or produces a stream chunk into an empty send buffer, which then blocks;
        // running out means the state machine stopped making progress.
        let budget = 3 * (link.config().recv_buffer as usize / MIN_REQUEST + 1) + 4;
        let mut waited = false;
        for _ in 0..budget {
            if conn.stage == Stage::Done || link.closing() {
                waited = true;
                break;
            }
            if conn.stream.is_some() && !link.output_queued() && !link.output_posted() {
                self.run_stream(conn, link);
                if conn.stream.is_some_and(|s| s.waiting) {
                    waited = true;
                    break;
                }
                continue;
            }
            if output_blocked(conn, link) {
                waited = true;
                break;
            }
            let step = match conn.stage {
                Stage::Head => self.step_head(conn, link),
                Stage::Body => self.step_body(conn, link),
                Stage::Done => Step::Continue,
            };
            if let Step::Wait = step {
                waited = true;
                break;
            }
        }
        assert!(
            waited,
            "slot {}: the HTTP state machine made no progress in {budget} steps",
            link.slot()
        );
        self.set_deadline(conn, link);
        let idle = conn.stage == Stage::Head
            && conn.stream.is_none()
            && conn.requests > 0
            && link.input().is_empty()
            && !conn.parser.started();
        link.set_idle(idle);
    }

    /// The deadline of the stage the connection is in: the whole head (from its first byte,
    /// or for the first one from the accept), the pause between two pieces of a body, the
    /// wait for a next request.
    fn set_deadline(&self, conn: &HttpConn<S>, link: &mut Link<'_, '_, S>) {
        let t = link.config().timeouts;
        if let Some(stream) = conn.stream.filter(|s| s.heartbeat_ms > 0) {
            // A response that stays open: no request deadline applies while it streams; its
            // producer is due again after a heartbeat without output.
            let at = link.progress_at().after_ms(stream.heartbeat_ms as u64);
            link.set_deadline(Some(at.max(link.now().monotonic.after_ms(1))));
            return;
        }
        let deadline = match conn.stage {
            Stage::Done => None,
            Stage::Body => Some(
                link.progress_at()
                    .max(conn.body_since)
                    .after_ms(t.body_idle_ms),
            ),
            Stage::Head => match conn.head_deadline {
                Some(d) => Some(d),
                None => Some(link.progress_at().after_ms(t.keep_alive_ms)),
            },
        };
        link.set_deadline(deadline);
    }

    /// The deadline passed: a head or body that came too slowly gets `408`; an idle
    /// connection closes silently.
    pub(super) fn timed_out(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        if conn.stream.is_some_and(|s| s.heartbeat_ms > 0) {
            // A stream's heartbeat: its producer runs (it may write a keep-alive) once its
            // output has drained; a send that stalls is the server's send timeout's.
            if let Some(stream) = conn.stream.as_mut() {
                stream.waiting = false;
            }
            self.run(conn, link);
            return;
        }
        match conn.stage {
            Stage::Done => link.close_now(),
            Stage::Body => {
                link.stats().body_timeouts += 1;
                self.reject_timeout(conn, link);
            }
            Stage::Head => {
                let partial = conn.parser.started() || !link.input().is_empty();
                if conn.head_deadline.is_some() && (partial || conn.requests == 0) {
                    link.stats().head_timeouts += 1;
                    if partial {
                        self.reject_timeout(conn, link);
                    } else {
                        link.close_now();
                    }
                } else {
                    link.stats().idle_timeouts += 1;
                    link.close_now();
                }
            }
        }
    }

    /// Stage::Head: parse what is buffered.
    fn step_head(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) -> Step {
        let cap = link.config().recv_buffer as usize;
        let limits = link.config().limits;
        let max_fields = limits.max_headers as usize;
        if link.input().is_empty() {
            if !link.input_posted() {
                link.set_input_start(0);
                link.set_input_end(0);
            }
            if link.peer_eof() || link.draining() {
                return begin_close(conn, link);
            }
            link.want_input(InputTarget::Buffer { limit: None });
            return Step::Wait;
        }
        if conn.head_deadline.is_none() {
            let head_ms = link.config().timeouts.head_ms;
            conn.head_deadline = Some(link.now().monotonic.after_ms(head_ms));
        }
        let (start, end) = (link.input_start() as usize, link.input_end() as usize);
        let Link { recv, scratch, .. } = link;
        let buf = &recv[start..end];
        let span = core::mem::size_of::<HeaderSpan>();
        let fields: &mut [HeaderSpan] = bytemuck::cast_slice_mut(&mut scratch[..max_fields * span]);
        match conn.parser.parse(buf, fields, &limits) {
            Ok(Parsed::Complete(_)) => {
                link.proven();
                self.start_request(conn, link)
            }
            Ok(Parsed::Partial) => {
                if link.peer_eof() {
                    // The request can never complete.
                    return begin_close(conn, link);
                }
                if end == cap && !link.input_posted() {
                    // The head's offsets are relative to its start, so it can move.
                    debug_assert!(
                        start > 0,
                        "a head larger than the receive buffer passed the limits"
                    );
                    link.compact_input();
                }
                link.want_input(InputTarget::Buffer { limit: None });
                Step::Wait
            }
            Err(error) => {
                link.stats().parse_errors += 1;
                self.reject(conn, link, error);
                Step::Continue
            }
        }
    }

    /// A head is complete: decide where its body goes, or dispatch it.
    fn start_request(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) -> Step {
        let cap = link.config().recv_buffer as usize;
        assert!(conn.stage == Stage::Head && conn.body.block.is_none());
        let recv_start = link.input_start();
        let recv_end = link.input_end();
        assert!(recv_start as usize + conn.parser.head().len as usize <= recv_end as usize);
        let head_end = recv_start + conn.parser.head().len as u32;
        let available = (recv_end - head_end) as u64;
        // A connection comes to Stage::Head with a body reset (`HttpConn::new`, and
        // `next_request` after each request): only the offsets are this request's.
        let b = &mut conn.body;
        debug_assert!(b.remaining == 0 && b.framing == BodyFraming::Length);
        b.start = head_end;
        b.read = head_end;
        b.written = head_end;
        b.end = recv_end;
        match conn.parser.head().framing {
            Framing::None => {
                b.end = head_end;
                self.dispatch(conn, link);
                return Step::Continue;
            }
            Framing::Length(n) if available >= n => {
                b.written = head_end + n as u32;
                b.read = b.written;
                self.dispatch(conn, link);
                return Step::Continue;
            }
            Framing::Length(n) => {
                b.framing = BodyFraming::Length;
                b.written = recv_end;
                b.read = recv_end;
                b.remaining = n - available;
                let needed = conn.parser.head().len as u64 + n;
                if head_end as u64 + n > cap as u64 {
                    if needed <= cap as u64 && !link.input_posted() {
                        compact_recv(conn, link);
                    } else if !self.move_body_to_block(conn, link) {
                        return Step::Continue;
                    }
                }
            }
            Framing::Chunked => {
                b.framing = BodyFraming::Chunked;
            }
        }
        conn.stage = Stage::Body;
        conn.body_since = link.now().monotonic;
        if conn.parser.head().expect_continue {
            send_continue(link);
        }
        Step::Continue
    }

    /// Moves the body received so far into a large buffer; answers 503 and returns `false`
    /// when none is free.
    fn move_body_to_block(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) -> bool {
        let Some(id) = link.pool().take() else {
            link.stats().pool_exhausted += 1;
            self.reject_with(conn, link, &canned::SERVICE_UNAVAILABLE);
            return false;
        };
        link.stats().large_bodies += 1;
        compact_recv(conn, link);
        let b = &mut conn.body;
        let decoded = (b.written - b.start) as usize;
        let raw = (b.end - b.read) as usize;
        let Link { recv, pool, .. } = link;
        let block = pool.block(id);
        block[..decoded].copy_from_slice(&recv[b.start as usize..b.written as usize]);
        block[decoded..decoded + raw].copy_from_slice(&recv[b.read as usize..b.end as usize]);
        link.set_input_end(b.start);
        b.block = Some(id);
        b.start = 0;
        b.written = decoded as u32;
        b.read = decoded as u32;
        b.end = (decoded + raw) as u32;
        true
    }

    /// Stage::Body: account for what arrived, decode, dispatch when complete.
    fn step_body(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) -> Step {
        let cap = link.config().recv_buffer as usize;
        let block_size = link.pool().block_size();
        // What the last receive brought: into the body's block, or into the buffer (where a
        // body that did not move lies up to the input's end).
        match conn.body.block {
            Some(id) => {
                if let Some((at, offset, n)) = link.take_block_arrival() {
                    assert!(
                        at == id && offset == conn.body.end,
                        "a receive into the wrong place"
                    );
                    conn.body.end += n;
                }
            }
            None => conn.body.end = link.input_end(),
        }
        match conn.body.framing {
            BodyFraming::Length => {
                let b = &mut conn.body;
                let arrived = (b.end - b.written) as u64;
                debug_assert!(arrived <= b.remaining);
                b.remaining -= arrived;
                b.written = b.end;
                b.read = b.end;
                if b.remaining == 0 {
                    self.dispatch(conn, link);
                    return Step::Continue;
                }
            }
            BodyFraming::Chunked => {
                let limits = link.config().limits;
                let b = &mut conn.body;
                let Link { recv, pool, .. } = link;
                let area: &mut [u8] = match b.block {
                    Some(id) => &mut pool.block(id)[..b.end as usize],
                    None => &mut recv[..b.end as usize],
                };
                let (mut read, mut written) = (b.read as usize, b.written as usize);
                let result = b
                    .decoder
                    .decode_in_place(area, &mut read, &mut written, &limits);
                b.read = read as u32;
                b.written = written as u32;
                match result {
                    Err(error) => {
                        self.reject(conn, link, error);
                        return Step::Continue;
                    }
                    Ok(true) => {
                        if conn.body.block.is_some() {
                            return_leftover(conn, link);
                        }
                        self.dispatch(conn, link);
                        return Step::Continue;
                    }
                    Ok(false) => {
                        // Undecoded bytes are all consumed; make room for more.
                        let b = &mut conn.body;
                        debug_assert_eq!(b.read, b.end);
                        if b.block.is_none() {
                            link.set_input_end(b.end);
                            if b.end as usize == cap && !link.input_posted() {
                                if link.input_start() > 0 {
                                    compact_recv(conn, link);
                                } else if !self.move_body_to_block(conn, link) {
                                    return Step::Continue;
                                }
                            }
                        } else {
                            // Decoded data stays; the raw tail was consumed.
                            b.end = b.written;
                            b.read = b.written;
                            if b.end as usize >= block_size {
                                self.reject(conn, link, RequestError::BodyTooLarge);
                                return Step::Continue;
                            }
                        }
                    }
                }
            }
        }
        if link.peer_eof() {
            return begin_close(conn, link);
        }
        want_body(conn, link);
        Step::Wait
    }

    /// Answers a request error with its canned response and closes after it.
    pub(super) fn reject(
        &mut self,
        conn: &mut HttpConn<S>,
        link: &mut Link<'_, '_, S>,
        error: RequestError,
    ) {
        zlog_debug!("zzz: slot {}: {}", link.slot(), error.reason());
        self.reject_with(conn, link, canned::for_error(error));
    }

    /// Answers a timeout with `408` and closes after it.
    fn reject_timeout(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        self.reject_with(conn, link, &canned::REQUEST_TIMEOUT);
    }

    /// Queues a canned response and ends the connection after it.
    pub(super) fn reject_with(
        &mut self,
        conn: &mut HttpConn<S>,
        link: &mut Link<'_, '_, S>,
        response: &canned::CannedResponse,
    ) {
        let head_only = match conn.stage {
            Stage::Body => conn.parser.head().method == Method::Head,
            _ => conn.parser.method() == Some(Method::Head),
        };
        self.reject_with_head(conn, link, response, head_only);
    }

    /// [`Http::reject_with`], saying whether the request was HEAD.
    pub(super) fn reject_with_head(
        &mut self,
        conn: &mut HttpConn<S>,
        link: &mut Link<'_, '_, S>,
        response: &canned::CannedResponse,
        head_only: bool,
    ) {
        if let Some(block) = conn.body.block.take() {
            // If the kernel still writes into it, it goes back when that receive completes.
            link.release_block(block);
        }
        let written = {
            let mut out = crate::http::ByteWriter::new(link.output_room());
            response.write(&mut out, &self.date, head_only);
            (!out.overflowed()).then(|| out.len())
        };
        if let Some(len) = written {
            link.commit_output(0, len);
            link.stats().responses[(response.status.code() / 100) as usize] += 1;
        }
        conn.stage = Stage::Done;
        conn.stream = None;
        link.set_producing(false);
        // Nothing after a rejected request is ever parsed.
        let end = link.input_end();
        link.set_input_start(end);
        link.close_after_output();
        assert!(conn.body.block.is_none());
    }
}

/// Whether earlier output must drain before the next request is handled: a response in a
/// large buffer or a static/streamed body is pending, or the send buffer is over half full.
fn output_blocked<S>(conn: &HttpConn<S>, link: &mut Link<'_, '_, S>) -> bool {
    if conn.stream.is_some() || link.output_outside_buffer() {
        return true;
    }
    link.compact_output();
    let cap = link.config().send_buffer;
    link.send_pending() > 0 && cap - link.output_end() < cap / 2
}

/// Stops reading: close once the output is sent.
fn begin_close<S>(conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) -> Step {
    assert!(matches!(conn.stage, Stage::Head | Stage::Body));
    conn.stage = Stage::Done;
    link.close_after_output();
    Step::Continue
}

/// Asks for more of the body: into its block, into the buffer up to the body's end (what
/// follows is the next request, read once this one is handled), or into the buffer.
fn want_body<S>(conn: &HttpConn<S>, link: &mut Link<'_, '_, S>) {
    let cap = link.config().recv_buffer;
    let b = &conn.body;
    let target = match (b.block, b.framing) {
        (Some(id), framing) => {
            let room = link.pool().block_size() as u32 - b.end;
            let len = match framing {
                BodyFraming::Length => (b.remaining.min(room as u64)) as u32,
                // Chunked: what follows the body may arrive too, and goes back to the receive
                // buffer afterwards, so never read more than that buffer holds.
                BodyFraming::Chunked => {
                    let head_end = link.input_start() + conn.parser.head().len as u32;
                    room.min(cap - head_end)
                }
            };
            InputTarget::Block {
                id,
                offset: b.end,
                len,
            }
        }
        (None, BodyFraming::Length) => InputTarget::Buffer {
            limit: Some(b.remaining.min(u32::MAX as u64) as u32),
        },
        (None, BodyFraming::Chunked) => InputTarget::Buffer { limit: None },
    };
    link.want_input(target);
}

/// Moves the head (and the body so far) to the front of the receive buffer.
fn compact_recv<S>(conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
    debug_assert!(!link.input_posted());
    let shift = link.compact_input();
    if shift == 0 {
        return;
    }
    let b = &mut conn.body;
    if conn.stage == Stage::Body || b.start >= shift {
        b.start -= shift;
        b.read -= shift;
        b.written -= shift;
        b.end -= shift;
    }
}

/// A chunked body in a large buffer is complete: the bytes received after it belong to the
/// next request and go back to the receive buffer, right after the head.
fn return_leftover<S>(conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
    let cap = link.config().recv_buffer as usize;
    let Some(id) = conn.body.block else { return };
    let head_end = (link.input_start() + conn.parser.head().len as u32) as usize;
    let b = &mut conn.body;
    let Link { recv, pool, .. } = link;
    let leftover = &pool.block_ref(id)[b.read as usize..b.end as usize];
    // Block receives of a chunked body are limited so that this always fits.
    assert!(
        head_end + leftover.len() <= cap,
        "leftover of a chunked body does not fit"
    );
    recv[head_end..head_end + leftover.len()].copy_from_slice(leftover);
    let end = (head_end + leftover.len()) as u32;
    b.end = b.read;
    link.set_input_end(end);
}

/// Writes the interim `100 Continue` (RFC 9110 §15.2.1).
fn send_continue<S>(link: &mut Link<'_, '_, S>) {
    // Without room the client sends the body anyway after its own timeout.
    if link.write(CONTINUE_100) {
        link.stats().continues += 1;
        link.stats().responses[1] += 1;
    }
}
