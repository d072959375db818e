//! Invalid requests, one class each — request smuggling (RFC 9112 §6.1, §6.3, §11.2),
//! malformed fields and versions, bad chunked framing, every head and body limit passed,
//! garbage — with the status RFC 9112 and zzz's strict rules give each.

use super::{Built, Gen, Outcome};

impl Gen<'_> {
    /// An invalid request: one class of smuggling, oversize or garbage, with the status that
    /// RFC 9112 and zzz's strict rules prescribe.
    pub(super) fn invalid(&mut self) -> Built {
        let l = self.config.limits;
        let ok_line = "POST /x HTTP/1.1\r\n";
        let host = "Host: h\r\n";
        if self.rng.below(37) == 0 {
            // A chunk size that overflows 64 bits is over any body limit too: 400 or 413.
            let bytes: Vec<u8> =
                format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n")
                    .into();
            return Built {
                body_start: bytes.len(),
                bytes,
                outcome: Outcome::RejectEither(400, 413),
                expect_continue: false,
                head_method: false,
                class: "chunk.size-overflow",
                may_need_block: true,
            };
        }
        let (class, status, bytes): (&'static str, u16, Vec<u8>) = match self.rng.below(38) {
            0 => ("smuggle.cl-te", 400, format!("{ok_line}{host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into()),
            1 => ("smuggle.te-cl", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello").into()),
            2 => ("smuggle.cl-conflict", 400, format!("{ok_line}{host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!").into()),
            3 => ("smuggle.cl-list-conflict", 400, format!("{ok_line}{host}Content-Length: 5, 6\r\n\r\nhello!").into()),
            4 => {
                let v = self.rng.pick(&["+5", "-1", "0x10", "1 2", "", "5;", "abc", "5.0"]);
                ("smuggle.cl-invalid", 400, format!("{ok_line}{host}Content-Length: {v}\r\n\r\nhello").into())
            }
            5 => ("smuggle.cl-overflow", 400, format!("{ok_line}{host}Content-Length: 184467440737095516160\r\n\r\n").into()),
            6 => ("smuggle.te-not-final", 400, format!("{ok_line}{host}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n").into()),
            7 => {
                let te = self.rng.pick(&[
                    "Transfer-Encoding: gzip, chunked\r\n",
                    "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                    "Transfer-Encoding: deflate ,chunked\r\n",
                ]);
                ("smuggle.te-unknown", 501, format!("{ok_line}{host}{te}\r\n0\r\n\r\n").into())
            }
            8 => ("smuggle.te-double-chunked", 400, format!("{ok_line}{host}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n").into()),
            9 => ("smuggle.te-http10", 400, "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into()),
            10 => {
                let te = self.rng.pick(&["gzip", "xchunked", "chunkedx"]);
                ("smuggle.te-not-chunked", 400, format!("{ok_line}{host}Transfer-Encoding: {te}\r\n\r\n").into())
            }
            11 => {
                let field = self.rng.pick(&["Host : h\r\n", "Content-Length : 0\r\n", "X-A\t: b\r\n"]);
                ("smuggle.space-before-colon", 400, format!("GET / HTTP/1.1\r\nHost: h\r\n{field}\r\n").replace("Host: h\r\nHost : h", "Host : h").into())
            }
            12 => ("smuggle.obs-fold", 400, format!("GET / HTTP/1.1\r\n{host}X-A: a\r\n b\r\n\r\n").into()),
            13 => ("smuggle.bare-cr", 400, format!("GET / HTTP/1.1\r\n{host}X-A: a\rb\r\n\r\n").into()),
            14 => {
                let req = self.rng.pick(&[
                    "GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n",
                    "GET / HTTP/1.1\nHost: h\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: h\r\n\n",
                ]);
                ("smuggle.bare-lf", 400, req.as_bytes().to_vec())
            }
            15 => ("smuggle.nul", 400, format!("GET / HTTP/1.1\r\n{host}X-A: a\0b\r\n\r\n").into()),
            16 => ("host.missing", 400, "GET / HTTP/1.1\r\nX-A: b\r\n\r\n".into()),
            17 => ("host.duplicate", 400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".into()),
            18 => ("host.invalid", 400, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n".into()),
            19 => {
                // HTTP/1.2 and up are HTTP/1.1 (RFC 9110 §2.5): only another major version.
                let v = self.rng.pick(&["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.1"]);
                ("version.unsupported", 505, format!("GET / {v}\r\n{host}\r\n").into())
            }
            20 => {
                let v = self.rng.pick(&["HTTP/1", "HTTX/1.1", "http/1.1", "HTTP/1.1x", "HTTP/11"]);
                ("version.malformed", 400, format!("GET / {v}\r\n{host}\r\n").into())
            }
            21 => {
                // More than 16 hex digits, even if the value is small (RFC 9112 §7.1; zzz
                // accepts at most 16).
                ("chunk.size-too-many-digits", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n").into())
            }
            22 => {
                let size = self.rng.pick(&["zz", "-1", "0x5", ";a=b", "+5"]);
                ("chunk.size-invalid", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n").into())
            }
            23 => {
                let ext = "e".repeat(l.max_chunk_extensions as usize + 1);
                ("chunk.extensions-too-long", 413, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n1;a={ext}\r\nx\r\n0\r\n\r\n").into())
            }
            24 => ("chunk.data-no-crlf", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n").into()),
            25 => {
                let extra = self.rng.range_usize(1, 300);
                let target = format!("/{}", "u".repeat(l.max_request_line as usize + extra));
                ("oversize.request-line", 414, format!("GET {target} HTTP/1.1\r\n{host}\r\n").into())
            }
            26 => {
                let mut head = format!("GET / HTTP/1.1\r\n{host}");
                let value = "v".repeat(l.max_head as usize / 4);
                while head.len() <= l.max_head as usize {
                    head.push_str(&format!("X-Big: {value}\r\n"));
                }
                head.push_str("\r\n");
                ("oversize.head", 431, head.into())
            }
            27 => {
                let mut head = format!("GET / HTTP/1.1\r\n{host}");
                for i in 0..l.max_headers {
                    head.push_str(&format!("X-{i}: v\r\n"));
                }
                head.push_str("\r\n");
                ("oversize.header-count", 431, head.into())
            }
            28 => {
                let n = l.max_body as u64 + self.rng.range(1, 1000);
                ("oversize.body-length", 413, format!("{ok_line}{host}Content-Length: {n}\r\n\r\n").into())
            }
            29 => {
                let mut req = format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
                let mut left = l.max_body as usize + 1;
                while left > 0 {
                    let n = left.min(self.rng.range_usize(1, 5000));
                    req.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    req.extend(std::iter::repeat_n(b'b', n));
                    req.extend_from_slice(b"\r\n");
                    left -= n;
                }
                req.extend_from_slice(b"0\r\n\r\n");
                ("oversize.body-chunked", 413, req)
            }
            30 => {
                let bad: &[u8] = b"\x00\x01\x07\x0b\x0c\x1f()<>@,;:\\\"/[]?={} \t\x7f\x80\xff";
                let mut g = vec![*self.rng.pick(bad)];
                let n = self.rng.skewed(200);
                g.extend((0..n).map(|_| self.rng.next_u64() as u8));
                ("garbage", 400, g)
            }
            31 => ("expect.unsupported", 417, format!("{ok_line}{host}Content-Length: 2\r\nExpect: 200-ok\r\n\r\nhi").into()),
            32 => {
                let t = self.rng.pick(&["/a<b", "/a\"b", "/a{b}", "/a|b", "/a b", "/a#b", "ftp://h/x"]);
                ("target.invalid", 400, format!("GET {t} HTTP/1.1\r\n{host}\r\n").into())
            }
            33 => {
                let m = self.rng.pick(&["GE(T", "G@T", "GET\t", "[GET]"]);
                ("method.invalid", 400, format!("{m} / HTTP/1.1\r\n{host}\r\n").into())
            }
            34 => ("smuggle.leading-space", 400, "GET / HTTP/1.1\r\n Host: h\r\n\r\n".into()),
            35 => ("target.connect-no-port", 400, format!("CONNECT h HTTP/1.1\r\n{host}\r\n").into()),
            36 => {
                // RFC 9112 §7.1: whitespace after a chunk size only before an extension's `;`.
                let size = self.rng.pick(&["5 ", "5\t", "5  ", "5 0", "05 \t"]);
                ("chunk.size-whitespace", 400, format!("{ok_line}{host}Transfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n").into())
            }
            _ => {
                // RFC 9110 §7.2, §4.2.1: an empty Host leaves an origin-form target no authority.
                let req = self.rng.pick(&[
                    "GET / HTTP/1.1\r\nHost:\r\n\r\n",
                    "GET /x HTTP/1.1\r\nHost: \t\r\n\r\n",
                    "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n",
                    "GET /plaintext HTTP/1.2\r\nHost:\r\n\r\n",
                ]);
                ("host.empty", 400, req.as_bytes().to_vec())
            }
        };
        Built {
            body_start: bytes.len(),
            bytes,
            outcome: Outcome::Reject(status),
            expect_continue: false,
            head_method: false,
            class,
            may_need_block: true,
        }
    }
}
