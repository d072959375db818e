//! Valid requests, and the responses the bench contract and the simulator's routes owe them:
//! every route and method, HEAD, HTTP/1.0, absolute-form targets, bodies by length or
//! chunked, `Expect: 100-continue`, keep-alive and close, and requests exactly at a limit.

use super::{Built, Expected, Gen, Outcome, wire_len};
use crate::app::{STATIC_LEN, pattern_byte};

/// What route a valid request goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Plaintext,
    Json,
    Echo,
    OptionsStar,
    /// CONNECT: zzz implements no tunnels (501).
    NotImplemented,
    /// A method the simulator's own GET-only routes lack: 405 with `Allow`.
    MethodNotAllowed,
    Static,
    Big(u32),
    Stream(u32, u32),
    Empty,
    NotModified,
}

const ECHO_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD",
];
/// The `Allow` of the simulator's own routes, which are GET only.
const SIM_ROUTE_ALLOW: &str = "GET, HEAD, OPTIONS";

impl Gen<'_> {
    /// A valid request, the `k`-th on its connection.
    pub(super) fn valid(&mut self, k: u32, small: bool) -> Built {
        let cfg = *self.config;
        let v10 = self.rng.chance(80_000);
        let roll = self.rng.below(100);
        let mut class = "valid.echo";
        let (mut method, target_kind): (String, Target) = match roll {
            0..=14 => {
                class = "valid.plaintext";
                ("GET".into(), Target::Plaintext)
            }
            15..=19 => {
                class = "valid.json";
                ("GET".into(), Target::Json)
            }
            20..=21 if !v10 => {
                class = "valid.options-star";
                ("OPTIONS".into(), Target::OptionsStar)
            }
            22 => {
                class = "valid.not-implemented";
                ("CONNECT".into(), Target::NotImplemented)
            }
            23 => {
                class = "valid.extension-method";
                (self.extension_method(), Target::Echo)
            }
            24..=26 if !small => {
                class = "valid.static";
                ("GET".into(), Target::Static)
            }
            27..=30 if !small => {
                class = "valid.big";
                let n = self.rng.range(
                    0,
                    cfg.large_buffer_size as u64 + cfg.large_buffer_size as u64 / 8,
                ) as u32;
                ("GET".into(), Target::Big(n))
            }
            31..=34 if !small => {
                class = "valid.stream";
                let n = self.rng.skewed(60_000) as u32 - 1;
                let per = *self.rng.pick(&[1u32, 10, 1000, 1 << 20]);
                ("GET".into(), Target::Stream(n, per))
            }
            35 => {
                class = "valid.no-content";
                ("GET".into(), Target::Empty)
            }
            36 => {
                class = "valid.not-modified";
                ("GET".into(), Target::NotModified)
            }
            37 => {
                class = "valid.method-not-allowed";
                let m = self.rng.pick(&["POST", "PUT", "DELETE", "PATCH", "TRACE"]);
                let m = if self.rng.coin() {
                    m.to_string()
                } else {
                    self.extension_method()
                };
                (m, Target::MethodNotAllowed)
            }
            _ => (self.rng.pick(ECHO_METHODS).to_string(), Target::Echo),
        };
        if method == "GET"
            && matches!(
                target_kind,
                Target::Plaintext
                    | Target::Json
                    | Target::Static
                    | Target::Big(_)
                    | Target::Stream(..)
            )
            && self.rng.chance(150_000)
        {
            method = "HEAD".into();
            class = match target_kind {
                Target::Plaintext | Target::Json => "valid.head",
                _ => "valid.head-generated",
            };
        }
        let literal_other = self.shape.literal_other_methods
            && matches!(target_kind, Target::Plaintext | Target::Json)
            && self.rng.chance(200_000);
        let mut target_kind = target_kind;
        if literal_other {
            method = self
                .rng
                .pick(&[
                    "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PURGE", "QUERY",
                ])
                .to_string();
            target_kind = Target::Echo;
            class = "valid.literal-other-method";
        }
        let head_method = method == "HEAD";

        let mut target: String = match target_kind {
            Target::Plaintext if literal_other || self.rng.chance(800_000) => "/plaintext".into(),
            Target::Plaintext => {
                class = if class == "valid.head" {
                    class
                } else {
                    "valid.plaintext-variant"
                };
                self.rng
                    .pick(&[
                        "/plain%74ext",
                        "/%70laintext",
                        "/plaintext?x=1",
                        "http://h/plaintext",
                    ])
                    .to_string()
            }
            Target::Json => "/json".into(),
            Target::Echo => {
                if self.rng.chance(80_000) && class != "valid.extension-method" {
                    class = "valid.absolute-form";
                    format!("http://{}{}", self.host(), self.echo_path())
                } else {
                    self.echo_path()
                }
            }
            Target::OptionsStar => "*".into(),
            Target::NotImplemented => {
                format!("{}:{}", self.host_name(), self.rng.range(1, 65535))
            }
            Target::MethodNotAllowed => self
                .rng
                .pick(&[
                    "/sim/static",
                    "/sim/empty",
                    "/sim/not-modified",
                    "/sim/big/7",
                ])
                .to_string(),
            Target::Static => "/sim/static".into(),
            Target::Big(n) => format!("/sim/big/{n}"),
            Target::Stream(n, per) => format!("/sim/stream/{n}/{per}"),
            Target::Empty => "/sim/empty".into(),
            Target::NotModified => "/sim/not-modified".into(),
        };
        if method.len() + target.len() + 10 > cfg.limits.max_request_line as usize {
            target = match target_kind {
                Target::NotImplemented => "h:1".into(),
                Target::MethodNotAllowed => "/sim/empty".into(),
                _ => "/e".into(),
            };
            // The target is no longer absolute-form: an empty Host would now be invalid
            // (found by seeds 2281, 8191, 10148 and 15980 of a 100,000-seed campaign).
            if class == "valid.absolute-form" {
                class = "valid.echo";
            }
        }

        // Body.
        let may_have_body = matches!(target_kind, Target::Echo) && !head_method;
        let body_kind = if may_have_body { self.rng.below(3) } else { 0 };
        let max_body = cfg.limits.max_body as usize;
        let body = match body_kind {
            0 => Vec::new(),
            _ => self.body(if small { max_body.min(40) } else { max_body }),
        };
        let chunked = body_kind == 2 && !v10;
        // RFC 9110 §2.5: a higher minor version is served as HTTP/1.1.
        let minor = (!v10 && self.rng.chance(30_000)).then(|| self.rng.range(2, 9));

        // Connection handling.
        let conn_token = *self.rng.pick(&[
            "",
            "",
            "",
            "",
            "close",
            "keep-alive",
            "Keep-Alive",
            "upgrade, close",
            "keep-alive, x-foo",
        ]);
        let says_close = conn_token
            .to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "close");
        let says_keep = conn_token
            .to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "keep-alive");
        let stream_until_close = v10 && matches!(target_kind, Target::Stream(..)) && !head_method;
        let closes = says_close
            || (v10 && !says_keep)
            || k >= cfg.max_requests_per_connection
            || stream_until_close;

        // Head.
        let mut headers: Vec<(String, String)> = Vec::new();
        if !v10 || self.rng.coin() {
            let name = *self.rng.pick(&["Host", "host", "HOST"]);
            // An absolute-form target carries its own authority; Host is then ignored, even
            // empty (RFC 9112 §3.2.2).
            let host = if class == "valid.absolute-form" && self.rng.chance(300_000) {
                class = "valid.absolute-form-empty-host";
                String::new()
            } else {
                self.host()
            };
            headers.push((name.into(), host));
        }
        if !conn_token.is_empty() {
            headers.push(("Connection".into(), conn_token.into()));
        }
        // Stay inside the head limits: a valid request must be valid.
        let essential = headers.len() + 3;
        let extras = self
            .rng
            .range_usize(0, 3)
            .min((cfg.limits.max_headers as usize).saturating_sub(essential));
        for _ in 0..extras {
            let name = format!("X-{}", self.token(8));
            let value = self.field_value(30);
            headers.push((name, value));
        }
        let expect = !v10 && !body.is_empty() && self.rng.chance(250_000);
        if expect {
            headers.push(("Expect".into(), "100-continue".into()));
        }
        if chunked {
            headers.push(("Transfer-Encoding".into(), "chunked".into()));
        } else if !body.is_empty() || (may_have_body && self.rng.coin()) {
            headers.push(("Content-Length".into(), body.len().to_string()));
            if self.rng.chance(50_000) {
                // The same length twice is allowed (RFC 9110 §8.6).
                headers.push(("content-length".into(), body.len().to_string()));
                class = "valid.repeated-length";
            }
        }
        if !headers.is_empty() {
            let i = self.rng.range_usize(0, headers.len() - 1);
            let j = self.rng.range_usize(0, headers.len() - 1);
            headers.swap(i, j);
        }
        if chunked && class == "valid.echo" {
            class = "valid.chunked";
        }
        if expect && (class == "valid.echo" || class == "valid.chunked") {
            class = "valid.expect-continue";
        }
        if v10 {
            class = "valid.http10";
        }
        let minor_version;
        let version = match minor {
            _ if v10 => "HTTP/1.0",
            Some(m) => {
                class = "valid.minor-version";
                minor_version = format!("HTTP/1.{m}");
                minor_version.as_str()
            }
            None => "HTTP/1.1",
        };
        let mut bytes = Vec::new();
        if self.rng.chance(30_000) {
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(format!("{method} {target} {version}\r\n").as_bytes());
        for (n, v) in &headers {
            let ows = if self.rng.chance(100_000) { " \t" } else { " " };
            bytes.extend_from_slice(format!("{n}:{ows}{v}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");

        // Limits exactly reached are still accepted.
        if !small
            && self.rng.chance(20_000)
            && body.is_empty()
            && !chunked
            && let Some(b) = self.at_limit(&mut bytes, &method, &target, version, k, closes)
        {
            return b;
        }

        let body_start = bytes.len();
        if chunked {
            let (enc, bws) = self.chunked(&body);
            bytes.extend_from_slice(&enc);
            if bws && class == "valid.chunked" {
                class = "valid.chunk-ext-bws";
            }
        } else {
            bytes.extend_from_slice(&body);
        }

        let expected = self.expected(&method, &target, target_kind, v10, closes, &body);
        // Static and streamed bodies never pass through a buffer of the server's: only their
        // head counts against the buffers.
        let generated = matches!(target_kind, Target::Static | Target::Stream(..));
        let wire = if generated {
            wire_len(&expected, true)
        } else {
            wire_len(&expected, head_method)
        };
        // A large buffer is reserved with room for a chunked body's final framing beyond
        // `large_buffer_size` (`Config::block_size`); a response may use all of it.
        let large = cfg.block_size();
        let outcome = if wire > large {
            Outcome::Overflow
        } else {
            Outcome::Response {
                expected,
                may_500: wire + 64 > large,
            }
        };
        let may_need_block = !body.is_empty() || chunked || wire > cfg.send_buffer as usize / 2;
        Built {
            bytes,
            body_start,
            outcome,
            expect_continue: expect,
            head_method,
            class,
            may_need_block,
        }
    }

    /// Replaces `bytes` by a request at one of the limits, exactly: the request line, the
    /// head, or the number of header fields. `None` when the configuration leaves no room.
    fn at_limit(
        &mut self,
        bytes: &mut Vec<u8>,
        _method: &str,
        _target: &str,
        version: &str,
        k: u32,
        closes: bool,
    ) -> Option<Built> {
        let l = self.config.limits;
        let conn = if closes { "Connection: close\r\n" } else { "" };
        let closes = closes || k >= self.config.max_requests_per_connection;
        let host = "Host: h\r\n";
        let (class, out) = match self.rng.below(3) {
            0 => {
                // Request line of exactly max_request_line bytes.
                let fixed = "GET /".len() + 1 + version.len();
                let pad = (l.max_request_line as usize).checked_sub(fixed)?;
                let target = format!("/{}", "r".repeat(pad));
                let line = format!("GET {target} {version}\r\n");
                debug_assert_eq!(line.len() - 2, l.max_request_line as usize);
                let head = format!("{line}{host}{conn}\r\n");
                if head.len() > l.max_head as usize {
                    return None;
                }
                ("limit.request-line", (head, target))
            }
            1 => {
                // A head of exactly max_head bytes.
                let line = format!("GET /limit {version}\r\n");
                let fixed = line.len() + host.len() + conn.len() + "X-Pad: \r\n".len() + 2;
                let pad = (l.max_head as usize).checked_sub(fixed)?;
                let head = format!("{line}{host}{conn}X-Pad: {}\r\n\r\n", "p".repeat(pad));
                debug_assert_eq!(head.len(), l.max_head as usize);
                if 3 + usize::from(!conn.is_empty()) > l.max_headers as usize {
                    return None;
                }
                ("limit.head", (head, "/limit".to_string()))
            }
            _ => {
                // Exactly max_headers fields.
                let line = format!("GET /fields {version}\r\n");
                let own = 1 + usize::from(!conn.is_empty());
                let n = (l.max_headers as usize).checked_sub(own)?;
                let mut head = format!("{line}{host}{conn}");
                for i in 0..n {
                    head.push_str(&format!("X-F{i}: v\r\n"));
                }
                head.push_str("\r\n");
                if head.len() > l.max_head as usize {
                    return None;
                }
                ("limit.headers", (head, "/fields".to_string()))
            }
        };
        let (head, target) = out;
        bytes.clear();
        bytes.extend_from_slice(head.as_bytes());
        let v10 = version == "HTTP/1.0";
        let closes = closes || v10;
        let expected = self.expected("GET", &target, Target::Echo, v10, closes, &[]);
        let wire = wire_len(&expected, false);
        Some(Built {
            body_start: bytes.len(),
            bytes: std::mem::take(bytes),
            outcome: Outcome::Response {
                expected,
                may_500: wire + 64 > self.config.block_size(),
            },
            expect_continue: false,
            head_method: false,
            class,
            may_need_block: wire > self.config.send_buffer as usize / 2,
        })
    }

    /// The response the contract prescribes.
    fn expected(
        &mut self,
        method: &str,
        target: &str,
        kind: Target,
        v10: bool,
        closes: bool,
        body: &[u8],
    ) -> Expected {
        let head_method = method == "HEAD";
        let mut e = Expected {
            status: 200,
            headers: vec![("server".into(), "zzz".into())],
            present: Vec::new(),
            body: Vec::new(),
            closes,
        };
        let connection = if closes {
            Some("close")
        } else if v10 {
            Some("keep-alive")
        } else {
            None
        };
        let mut length: Option<usize> = None;
        let mut chunked = false;
        match kind {
            Target::Plaintext => {
                e.headers.push(("content-type".into(), "text/plain".into()));
                e.body = b"Hello, World!".to_vec();
                length = Some(13);
            }
            Target::Json => {
                e.headers
                    .push(("content-type".into(), "application/json".into()));
                e.body = br#"{"message":"Hello, World!"}"#.to_vec();
                length = Some(e.body.len());
            }
            Target::Echo => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.headers.push(("x-echo-method".into(), method.into()));
                e.headers.push(("x-echo-target".into(), target.into()));
                e.body = body.to_vec();
                length = Some(body.len());
            }
            Target::OptionsStar => {
                e.status = 204;
                e.present.push("allow");
            }
            Target::MethodNotAllowed => {
                e.status = 405;
                e.headers.push(("allow".into(), SIM_ROUTE_ALLOW.into()));
                e.headers
                    .push(("content-type".into(), "text/plain; charset=utf-8".into()));
                e.body = b"Method Not Allowed\n".to_vec();
                length = Some(e.body.len());
            }
            Target::NotImplemented => {
                e.status = 501;
                e.headers
                    .push(("content-type".into(), "text/plain; charset=utf-8".into()));
                e.body = b"Not Implemented\n".to_vec();
                length = Some(e.body.len());
            }
            Target::Static => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.body = (0..STATIC_LEN).map(pattern_byte).collect();
                length = Some(STATIC_LEN);
            }
            Target::Big(n) => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.body = (0..n as usize).map(pattern_byte).collect();
                length = Some(n as usize);
            }
            Target::Stream(n, _) => {
                e.headers
                    .push(("content-type".into(), "application/octet-stream".into()));
                e.body = (0..n as usize).map(pattern_byte).collect();
                chunked = !v10 && !head_method;
            }
            Target::Empty => e.status = 204,
            Target::NotModified => e.status = 304,
        }
        if let Some(c) = connection {
            e.headers.push(("connection".into(), c.into()));
        }
        if let Some(n) = length {
            e.headers.push(("content-length".into(), n.to_string()));
        }
        if chunked {
            e.headers
                .push(("transfer-encoding".into(), "chunked".into()));
        }
        if head_method {
            e.body.clear();
        }
        e
    }
}
