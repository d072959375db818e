//! The oracle's client side: what each simulated client reads back, parsed by a small HTTP
//! response reader of its own, and judged against the expectations the generator wrote down
//! ([`crate::workload`]).
//!
//! Judged on every response, as it arrives:
//! - it answers the oldest request not yet answered, in order;
//! - it is the expected one (status, every header but `Date`'s value, body), or one of the
//!   few alternatives the server may legitimately choose and whose cause the oracle can check:
//!   `408` only once the request has been in progress for a timeout; `503` only when the
//!   request may need a large buffer and the server reported the pool empty on that very
//!   connection; `500` only when the response is too close to the large-buffer size;
//! - nothing follows an answer that closes the connection, and nothing answers the bytes
//!   sent after it.
//!
//! Judged when the connection ends: a truncated response, a request received whole but never
//! answered, a close in the middle of a request without `408`, or an idle connection closed
//! before its timeout are all failures, unless the connection had a fault that explains them
//! (a reset, a broken socket, a stalled reader, a clock jump, a graceful shutdown).

use crate::app::TCP_IDLE_MS;
use crate::workload::{Expected as ExpectedResponse, Outcome, ReqSpec, reason};

/// One response as a client read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Every header, name lower-cased, value as sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// When the send carrying its first byte was posted (ms).
    pub posted_at: u64,
    /// The answer to HEAD: headers only, whatever its Content-Length says (RFC 9110 §9.3.2).
    pub head_only: bool,
}

impl Parsed {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the simulator knows about a connection when a response is judged.
#[derive(Clone, Copy, Debug)]
pub struct Timing<'a> {
    /// The server's timeouts.
    pub timeouts: zzz_core::Timeouts,
    /// When the server accepted the connection.
    pub accept_at: u64,
    /// When the client wrote the first byte of each request.
    pub first_write: &'a [Option<u64>],
    /// How far the server's clock ever lagged the simulator's (a regressing clock).
    pub lag: u64,
    /// A graceful shutdown is under way.
    pub draining: bool,
}

/// What the simulator knows about a connection when it has ended.
#[derive(Clone, Copy, Debug)]
pub struct Ending {
    /// Bytes the server received before it asked to close.
    pub delivered: usize,
    /// The server received the client's EOF.
    pub saw_eof: bool,
    /// A fault explains a lost answer (reset, broken socket, stalled reader, clock jump,
    /// shutdown).
    pub excused: bool,
    /// The server reported closing an idle connection to make room for this one's neighbour.
    pub reclaimed: bool,
    /// The server closed it to make room before it had delivered a complete first head (the
    /// simulator checked the choice when it happened: see [`crate::flood`]).
    pub shed: bool,
    /// Accepted under pressure: its first byte was due within this many ms of the accept.
    pub first_byte_ms: Option<u64>,
    /// When the server asked to close.
    pub close_at: u64,
    /// The last time bytes moved either way on the connection, or its accept.
    pub last_activity: u64,
    /// The server shut down its sending side before it closed (a graceful close).
    pub fin: bool,
}

/// A failure the oracle found: a short description for the trace and the report.
pub type Verdict = Result<(), String>;

/// A response head: status, reason, headers and its length in bytes.
type Head = (u16, String, Vec<(String, String)>, usize);

fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 64 * 1024 {
            return Err("a response head longer than 64 KiB".into());
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "a response head that is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    if rest.len() < 4 || rest.as_bytes()[3] != b' ' {
        return Err(format!("bad status line {status_line:?}"));
    }
    let status: u16 = rest[..3]
        .parse()
        .map_err(|_| format!("bad status line {status_line:?}"))?;
    let reason = rest[4..].to_string();
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        if name.is_empty() || name.contains([' ', '\t', '\r', '\n']) || value.contains(['\r', '\n'])
        {
            return Err(format!("bad header line {line:?}"));
        }
        headers.push((name.to_ascii_lowercase(), value.to_string()));
    }
    Ok(Some((status, reason, headers, end + 4)))
}

/// How far a chunked body has been decoded: complete chunks are decoded once, however many
/// pieces the body arrives in (re-decoding from the start at each piece would make a long
/// streamed response cost quadratic time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ChunkScan {
    /// Where the next chunk-size line starts, from the start of the body.
    pos: usize,
    /// The data of the chunks decoded so far.
    body: Vec<u8>,
}

/// Decodes a chunked body at the start of `buf`, resuming from `scan`: the bytes the body
/// took, or `None` when incomplete (`scan` then holds the progress).
fn dechunk(buf: &[u8], scan: &mut ChunkScan) -> Result<Option<usize>, String> {
    loop {
        let pos = scan.pos;
        let Some(eol) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[pos..pos + eol]).map_err(|_| "bad chunk size")?;
        let size =
            usize::from_str_radix(line, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        let data = pos + eol + 2;
        if size == 0 {
            if buf.len() < data + 2 {
                return Ok(None);
            }
            if &buf[data..data + 2] != b"\r\n" {
                return Err("a chunked response with trailers or no final CRLF".into());
            }
            return Ok(Some(data + 2));
        }
        if buf.len() < data + size + 2 {
            return Ok(None);
        }
        if &buf[data + size..data + size + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".into());
        }
        scan.body.extend_from_slice(&buf[data..data + size]);
        scan.pos = data + size + 2;
    }
}

/// Whether `r` is the server's static answer with `status`: the status and its standard
/// reason, `Connection: close`, a plain-text body that is the reason and a newline, and for
/// 503 a `Retry-After`.
fn check_canned(r: &Parsed, status: u16) -> Verdict {
    let want_body = format!("{}\n", reason(status));
    let ok = r.status == status
        && r.reason == reason(status)
        && r.header("connection") == Some("close")
        && r.header("content-type") == Some("text/plain; charset=utf-8")
        && (r.body == want_body.as_bytes() || (r.head_only && r.body.is_empty()))
        && r.header("content-length") == Some(&want_body.len().to_string())
        && (status != 503 || r.header("retry-after").is_some())
        && date_ok(r);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected the static {status} {}, got {}",
            reason(status),
            describe(r)
        ))
    }
}

/// `Date` is present once and is an IMF-fixdate (RFC 9110 §5.6.7).
fn date_ok(r: &Parsed) -> bool {
    let dates: Vec<&str> = r
        .headers
        .iter()
        .filter(|(n, _)| n == "date")
        .map(|(_, v)| v.as_str())
        .collect();
    let [d] = dates[..] else { return false };
    let b = d.as_bytes();
    b.len() == 29
        && ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&d[..3])
        && &d[3..5] == ", "
        && d.ends_with(" GMT")
        && b[5].is_ascii_digit()
        && b[6].is_ascii_digit()
        && b[19] == b':'
        && b[22] == b':'
}

fn describe(r: &Parsed) -> String {
    let mut s = format!("{} {:?} [", r.status, r.reason);
    for (i, (n, v)) in r.headers.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if n == "date" {
            s.push_str("date: ..");
        } else {
            s.push_str(&format!("{n}: {v}"));
        }
    }
    s.push_str(&format!("] body {} bytes", r.body.len()));
    if r.body.len() <= 48 {
        s.push_str(&format!(" {:?}", String::from_utf8_lossy(&r.body)));
    }
    s
}

fn compare(r: &Parsed, e: &ExpectedResponse) -> Verdict {
    let mut got: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| n != "date" && !e.present.contains(&n.as_str()))
        .cloned()
        .collect();
    let mut want = e.headers.clone();
    got.sort();
    want.sort();
    let present_ok = e.present.iter().all(|p| r.header(p).is_some());
    if r.status == e.status
        && r.reason == reason(e.status)
        && got == want
        && present_ok
        && r.body == e.body
        && date_ok(r)
    {
        return Ok(());
    }
    let mut why = format!("expected {} [", e.status);
    for (i, (n, v)) in want.iter().enumerate() {
        if i > 0 {
            why.push_str(", ");
        }
        why.push_str(&format!("{n}: {v}"));
    }
    why.push_str(&format!("] body {} bytes", e.body.len()));
    if e.body.len() <= 48 {
        why.push_str(&format!(" {:?}", String::from_utf8_lossy(&e.body)));
    }
    if r.body.len() == e.body.len() && r.body != e.body {
        let at = r
            .body
            .iter()
            .zip(&e.body)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        why.push_str(&format!(" (bodies differ at byte {at})"));
    }
    Err(format!("{why}; got {}", describe(r)))
}

/// An HTTP client's reading side and its judge.
#[derive(Debug, Default)]
pub struct HttpView {
    received: Vec<u8>,
    pos: usize,
    /// (offset in `received`, posted time) of each delivery.
    marks: Vec<(usize, u64)>,
    /// Index of the oldest request without its final answer.
    pub next: usize,
    /// A `100 Continue` was read for `next`.
    pub continued: bool,
    /// An answer that closes the connection was read: only EOF may follow.
    pub finished: bool,
    /// The client reset the connection: nothing more is judged.
    pub gave_up: bool,
    /// The first failure found.
    pub failure: Option<String>,
    /// Statuses read, for the coverage table (drained by the simulator).
    pub seen_statuses: Vec<u16>,
    /// Classes of requests whose answer was judged right (drained by the simulator).
    pub answered: Vec<&'static str>,
    /// 503s accepted because the server reported the pool empty on this connection.
    pub pool_credits: u32,
    /// The chunked body of the response at `pos`, as far as it is decoded.
    chunks: ChunkScan,
}

impl HttpView {
    /// Bytes read so far that are not yet part of a judged response.
    pub fn pending(&self) -> usize {
        self.received.len() - self.pos
    }

    /// The client read `bytes`, sent by a send posted at `posted_at`.
    pub fn on_bytes(&mut self, bytes: &[u8], posted_at: u64, specs: &[ReqSpec], t: &Timing<'_>) {
        if self.gave_up || self.failure.is_some() {
            return;
        }
        if self.finished && !bytes.is_empty() {
            self.failure = Some(format!(
                "{} bytes after the answer that closed the connection",
                bytes.len()
            ));
            return;
        }
        self.marks.push((self.received.len(), posted_at));
        self.received.extend_from_slice(bytes);
        self.parse_all(false, specs, t);
    }

    fn posted_at(&self, offset: usize) -> u64 {
        self.marks
            .iter()
            .rev()
            .find(|(o, _)| *o <= offset)
            .map_or(0, |(_, t)| *t)
    }

    fn parse_all(&mut self, eof: bool, specs: &[ReqSpec], t: &Timing<'_>) {
        while self.failure.is_none() && !self.finished && self.pos < self.received.len() {
            let head_method = specs.get(self.next).is_some_and(|s| s.head_method);
            match self.parse_one(eof, head_method) {
                Ok(Some((r, used))) => {
                    self.pos += used;
                    self.chunks = ChunkScan::default();
                    self.seen_statuses.push(r.status);
                    if let Err(e) = self.judge(r, specs, t) {
                        self.failure = Some(e);
                    }
                }
                Ok(None) => return,
                Err(e) => self.failure = Some(e),
            }
        }
        // Forget what was judged, so the buffer does not grow with the connection.
        if self.pos > 0 && self.pos == self.received.len() {
            self.received.clear();
            self.marks.clear();
            self.pos = 0;
        }
    }

    fn parse_one(
        &mut self,
        eof: bool,
        head_method: bool,
    ) -> Result<Option<(Parsed, usize)>, String> {
        let buf = &self.received[self.pos..];
        let Some((status, reason, headers, head_len)) = parse_head(buf)? else {
            return Ok(None);
        };
        let mut r = Parsed {
            status,
            reason,
            headers,
            body: Vec::new(),
            posted_at: self.posted_at(self.pos),
            head_only: false,
        };
        let rest = &buf[head_len..];
        // The server's static error answers close the connection. For HEAD they carry no body
        // once the server has read the method, and their body when it had not (a request line
        // cut short by a timeout): either way the connection's end tells where the answer ends.
        let canned = status >= 400
            && r.header("connection") == Some("close")
            && r.header("content-type") == Some("text/plain; charset=utf-8")
            && r.header("server").is_none();
        if head_method && canned {
            let n: usize = r
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if rest.len() >= n && n > 0 {
                r.body = rest[..n].to_vec();
                return Ok(Some((r, head_len + n)));
            }
            if rest.is_empty() && eof {
                r.head_only = true;
                return Ok(Some((r, head_len)));
            }
            if !eof {
                return Ok(None);
            }
        }
        let bodiless = (100..200).contains(&status)
            || status == 204
            || status == 304
            || (head_method && !canned);
        if bodiless {
            return Ok(Some((r, head_len)));
        }
        if r.header("transfer-encoding") == Some("chunked") {
            return Ok(dechunk(rest, &mut self.chunks)?.map(|used| {
                r.body = std::mem::take(&mut self.chunks.body);
                (r, head_len + used)
            }));
        }
        if let Some(len) = r.header("content-length") {
            let n: usize = len
                .parse()
                .map_err(|_| format!("bad Content-Length {len:?}"))?;
            if rest.len() < n {
                return Ok(None);
            }
            r.body = rest[..n].to_vec();
            return Ok(Some((r, head_len + n)));
        }
        if !eof {
            return Ok(None);
        }
        r.body = rest.to_vec();
        Ok(Some((r, buf.len())))
    }

    fn judge(&mut self, r: Parsed, specs: &[ReqSpec], t: &Timing<'_>) -> Verdict {
        let Some(spec) = specs.get(self.next) else {
            return Err(format!("a response to no request: {}", describe(&r)));
        };
        let n = self.next;
        if spec.outcome == Outcome::Never {
            return Err(format!(
                "request #{n} was sent after an answer that closes the connection and must never \
                 be parsed, yet it was answered: {}",
                describe(&r)
            ));
        }
        if r.status == 100 {
            if spec.expect_continue
                && !self.continued
                && r.body.is_empty()
                && r.headers.is_empty()
                && r.reason == "Continue"
            {
                self.continued = true;
                return Ok(());
            }
            return Err(format!(
                "an unexpected interim response to request #{n} ({}): {}",
                spec.class,
                describe(&r)
            ));
        }
        let closing = |view: &mut HttpView| {
            view.finished = true;
            view.next += 1;
            view.continued = false;
            Ok(())
        };
        if r.status == 408 {
            check_canned(&r, 408)?;
            let Some(written) = t.first_write.get(n).copied().flatten() else {
                return Err(format!(
                    "408 for request #{n}, of which the client had not sent a byte"
                ));
            };
            let start = if n == 0 { t.accept_at } else { written };
            let timeout = t.timeouts.head_ms.min(t.timeouts.body_idle_ms);
            if r.posted_at + t.lag < start + timeout {
                return Err(format!(
                    "408 for request #{n} ({}) {} ms after it started, before the {} ms timeout",
                    spec.class,
                    r.posted_at.saturating_sub(start),
                    timeout
                ));
            }
            return closing(self);
        }
        if r.status == 503 && spec.may_need_block && self.pool_credits > 0 {
            check_canned(&r, 503)?;
            self.pool_credits -= 1;
            return closing(self);
        }
        match &spec.outcome {
            Outcome::Response { expected, may_500 } => {
                if r.status == 500 && *may_500 {
                    check_canned(&r, 500)?;
                    return closing(self);
                }
                let drained;
                let expected =
                    if t.draining && !expected.closes && r.header("connection") == Some("close") {
                        // A graceful shutdown closes busy connections after their current answer.
                        let mut e = expected.clone();
                        e.headers.retain(|(n, _)| n != "connection");
                        e.headers.push(("connection".into(), "close".into()));
                        e.closes = true;
                        drained = e;
                        &drained
                    } else {
                        expected
                    };
                compare(&r, expected).map_err(|e| format!("request #{n} ({}): {e}", spec.class))?;
                self.answered.push(spec.class);
                if expected.closes {
                    return closing(self);
                }
                self.next += 1;
                self.continued = false;
                Ok(())
            }
            Outcome::Overflow => {
                check_canned(&r, 500).map_err(|e| format!("request #{n} ({}): {e}", spec.class))?;
                self.answered.push(spec.class);
                closing(self)
            }
            Outcome::Reject(status) => {
                check_canned(&r, *status)
                    .map_err(|e| format!("request #{n} ({}): {e}", spec.class))?;
                self.answered.push(spec.class);
                closing(self)
            }
            Outcome::RejectEither(a, b) => {
                check_canned(&r, *a)
                    .or_else(|_| check_canned(&r, *b))
                    .map_err(|e| format!("request #{n} ({}): {e} (or {a})", spec.class))?;
                self.answered.push(spec.class);
                closing(self)
            }
            Outcome::Never => unreachable!(),
        }
    }

    /// The connection ended: judge what is left.
    pub fn on_end(&mut self, specs: &[ReqSpec], t: &Timing<'_>, end: &Ending) {
        if self.gave_up || self.failure.is_some() {
            return;
        }
        if end.excused {
            // A fault cut the connection: a body read until close may be truncated, and what
            // is missing is explained. Everything read whole was judged as it arrived.
            return;
        }
        self.parse_all(true, specs, t);
        if self.failure.is_some() || self.finished {
            return;
        }
        if let Err(e) = self.judge_end(specs, t, end) {
            self.failure = Some(e);
        }
    }

    fn judge_end(&self, specs: &[ReqSpec], t: &Timing<'_>, end: &Ending) -> Verdict {
        let n = self.next;
        if self.pending() > 0 {
            if end.excused {
                return Ok(());
            }
            return Err(format!(
                "the connection closed in the middle of the answer to request #{n} ({} bytes of it \
                 read): a truncated response",
                self.pending()
            ));
        }
        let whole: Vec<usize> = (n..specs.len())
            .filter(|&i| specs[i].outcome != Outcome::Never && specs[i].end <= end.delivered)
            .collect();
        if let Some(&i) = whole.first() {
            if end.excused {
                return Ok(());
            }
            return Err(format!(
                "request #{i} ({}) reached the server whole but the connection closed without an \
                 answer",
                specs[i].class
            ));
        }
        let partial = specs
            .get(n)
            .is_some_and(|s| end.delivered > s.start && s.outcome != Outcome::Never);
        if partial {
            if end.saw_eof || end.excused || end.shed {
                return Ok(());
            }
            return Err(format!(
                "the connection closed in the middle of request #{n} ({}, {} of {} bytes \
                 received) without a 408",
                specs[n].class,
                end.delivered - specs[n].start,
                specs[n].end - specs[n].start
            ));
        }
        if end.saw_eof || end.excused || end.reclaimed || end.shed {
            return Ok(());
        }
        let (from, timeout, what) = if n == 0 && end.delivered == 0 {
            match end.first_byte_ms {
                Some(ms) if ms < t.timeouts.head_ms => (t.accept_at, ms, "pressured first-byte"),
                _ => (t.accept_at, t.timeouts.head_ms, "head"),
            }
        } else {
            (end.last_activity, t.timeouts.keep_alive_ms, "keep-alive")
        };
        if end.close_at + t.lag < from + timeout {
            return Err(format!(
                "an idle connection was closed {} ms after its last activity, before its {} ms \
                 {what} timeout",
                end.close_at.saturating_sub(from),
                timeout
            ));
        }
        Ok(())
    }
}

/// A raw-TCP client's reading side and its judge.
#[derive(Debug, Default)]
pub struct TcpView {
    /// Bytes read so far.
    pub received: Vec<u8>,
    /// The client reset the connection: nothing more is judged.
    pub gave_up: bool,
    /// The first failure found.
    pub failure: Option<String>,
}

impl TcpView {
    /// The client read `bytes`; they must continue the expected output.
    pub fn on_bytes(&mut self, bytes: &[u8], expected: &[u8]) {
        if self.gave_up || self.failure.is_some() {
            return;
        }
        let at = self.received.len();
        self.received.extend_from_slice(bytes);
        let n = self.received.len();
        if n > expected.len() || self.received[at..] != expected[at..n] {
            let diff = (at..n)
                .find(|&i| expected.get(i) != Some(&self.received[i]))
                .unwrap_or(at);
            self.failure = Some(format!(
                "TCP output differs from the expected echo at byte {diff} (got {:?}, expected {:?})",
                String::from_utf8_lossy(&self.received[diff..n.min(diff + 16)]),
                String::from_utf8_lossy(
                    &expected[diff.min(expected.len())..expected.len().min(diff + 16)]
                )
            ));
        }
    }

    /// The connection ended.
    pub fn on_end(
        &mut self,
        lines: &[(usize, usize)],
        quit_end: Option<usize>,
        t: &Timing<'_>,
        end: &Ending,
    ) {
        if self.gave_up || self.failure.is_some() || end.excused || end.shed {
            // A shed connection had sent nothing: it may go before its greeting is sent.
            return;
        }
        let owed = lines
            .iter()
            .filter(|(e, _)| *e <= end.delivered)
            .map(|(_, o)| *o)
            .max()
            .unwrap_or(0);
        if self.received.len() < owed {
            self.failure = Some(format!(
                "TCP: the server had lines owing {owed} bytes of answer but closed after {}",
                self.received.len()
            ));
            return;
        }
        let quit = quit_end.is_some_and(|q| q <= end.delivered);
        if quit && !end.fin && !end.saw_eof {
            // Closing a socket with input unread resets the connection, and the reset may
            // destroy the answer still in flight (RFC 1122 §4.2.2.13): the module ends by
            // shutting its sending side and reading until the client's EOF (or the linger
            // timeout).
            self.failure = Some(
                "TCP: after `quit` the server closed without shutting down its sending side \
                 first, while the client had not closed its own"
                    .into(),
            );
            return;
        }
        if quit || end.saw_eof || end.reclaimed {
            return;
        }
        // The module's idle timeout is its own, not the configuration's keep-alive, and counts
        // from the last activity (the greeting included); under pressure, a connection that
        // has sent nothing may go once the shortened first-byte wait, from its accept, ends.
        let idle_end = end.last_activity + TCP_IDLE_MS;
        let earliest = match end.first_byte_ms {
            Some(ms) if end.delivered == 0 => idle_end.min(t.accept_at + ms),
            _ => idle_end,
        };
        if end.close_at + t.lag < earliest {
            self.failure = Some(format!(
                "TCP: an idle connection was closed {} ms after its last activity, {} ms after \
                 its accept, before its {TCP_IDLE_MS} ms idle timeout (first-byte wait {:?})",
                end.close_at.saturating_sub(end.last_activity),
                end.close_at.saturating_sub(t.accept_at),
                end.first_byte_ms
            ));
        }
    }
}
