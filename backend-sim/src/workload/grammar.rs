//! The pieces requests are made of, drawn within the grammar of RFC 9110 and RFC 9112:
//! tokens and methods, path segments (percent-encoded at times), hosts, field values, bodies
//! and chunked encodings (with extensions, their whitespace, and trailers).

use super::Gen;
use crate::app::pattern_byte;

/// Extension methods (RFC 9110 §9.1: any token; case-sensitive, so `get` and `Post` are
/// extension methods too), which the bench contract echoes like any other.
const EXTENSION_METHODS: &[&str] = &[
    "PURGE", "REPORT", "SEARCH", "LINK", "SOURCE", "QUERY", "BREW", "M-SEARCH", "get", "Post",
];
const SEGMENT_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@";
const TOKEN_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";

impl Gen<'_> {
    pub(super) fn segment(&mut self) -> String {
        let len = self.rng.range_usize(1, 12);
        let mut out = String::new();
        for _ in 0..len {
            if self.rng.chance(50_000) {
                out.push_str(&format!("%{:02X}", self.rng.below(256)));
            } else {
                out.push(*self.rng.pick(SEGMENT_CHARS) as char);
            }
        }
        out
    }

    pub(super) fn echo_path(&mut self) -> String {
        if self.rng.chance(50_000) {
            return "/".into();
        }
        let mut path = String::new();
        loop {
            let seg = self.segment();
            let seg = if path.is_empty() && matches!(seg.as_str(), "sim" | "plaintext" | "json") {
                "e".to_string()
            } else {
                seg
            };
            path.push('/');
            path.push_str(&seg);
            if self.rng.chance(600_000) {
                break;
            }
        }
        if self.rng.chance(200_000) {
            path.push('?');
            let n = self.rng.range_usize(0, 3);
            for i in 0..n {
                if i > 0 {
                    path.push('&');
                }
                path.push_str(&self.segment().replace(['&', '?'], "x"));
                path.push('=');
                path.push_str(&self.segment().replace(['&', '?'], "y"));
            }
        }
        path
    }

    pub(super) fn token(&mut self, max: usize) -> String {
        let len = self.rng.range_usize(1, max);
        (0..len)
            .map(|_| *self.rng.pick(TOKEN_CHARS) as char)
            .collect()
    }

    pub(super) fn field_value(&mut self, max: usize) -> String {
        let len = self.rng.range_usize(0, max);
        let mut v: String = (0..len)
            .map(|_| match self.rng.below(20) {
                0 => ' ',
                1 => '\t',
                _ => self.rng.range(0x21, 0x7e) as u8 as char,
            })
            .collect();
        // The server trims surrounding whitespace; keep the value's own ends visible.
        while v.ends_with([' ', '\t']) {
            v.pop();
        }
        v
    }

    pub(super) fn body(&mut self, max: usize) -> Vec<u8> {
        let len = if self.rng.chance(100_000) {
            max
        } else {
            self.rng.skewed(max.max(1)).min(max)
        };
        if self.rng.coin() {
            (0..len).map(|_| self.rng.next_u64() as u8).collect()
        } else {
            (0..len).map(|i| pattern_byte(i * 3)).collect()
        }
    }

    /// A chunked encoding of `body`, with random chunk sizes, extensions and trailers inside
    /// the limits, and whether an extension has whitespace before its `;` (the BWS of RFC 9112
    /// §7.1.1, which a recipient MUST parse, RFC 9110 §5.6.3).
    pub(super) fn chunked(&mut self, body: &[u8]) -> (Vec<u8>, bool) {
        let mut bws = false;
        let mut out = Vec::new();
        let ext_budget = self.config.limits.max_chunk_extensions as usize / 2;
        let mut ext_used = 0;
        let mut rest = body;
        let max_chunk = *self.rng.pick(&[1usize, 3, 50, 1 << 20]);
        loop {
            let n = if rest.is_empty() {
                0
            } else {
                self.rng.range_usize(1, rest.len().min(max_chunk))
            };
            let digits = format!("{n:x}");
            let zeros = self.rng.range_usize(0, 16 - digits.len()).min(3);
            out.extend(std::iter::repeat_n(b'0', zeros));
            if self.rng.coin() {
                out.extend_from_slice(digits.to_uppercase().as_bytes());
            } else {
                out.extend_from_slice(digits.as_bytes());
            }
            if self.rng.chance(100_000) {
                let ext = if self.rng.coin() {
                    format!(";{}={}", self.token(5), self.token(5))
                } else {
                    format!(";{}=\"{}\"", self.token(5), self.token(5))
                };
                let space = *self.rng.pick(&["", "", " ", "\t", " \t "]);
                let ext = format!("{space}{ext}");
                if ext_used + ext.len() <= ext_budget {
                    ext_used += ext.len();
                    bws |= !space.is_empty();
                    out.extend_from_slice(ext.as_bytes());
                }
            }
            out.extend_from_slice(b"\r\n");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        if self.rng.chance(100_000) {
            let t = format!("X-Trailer-{}: {}\r\n", self.token(3), self.token(8));
            if t.len() + 2 <= self.config.limits.max_trailers as usize / 2 {
                out.extend_from_slice(t.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
        (out, bws)
    }

    /// An extension method: one of the usual ones, or a token of its own (prefixed, so that
    /// it never spells a standard method).
    pub(super) fn extension_method(&mut self) -> String {
        if self.rng.coin() {
            self.rng.pick(EXTENSION_METHODS).to_string()
        } else {
            format!("X-{}", self.token(8))
        }
    }

    pub(super) fn host_name(&mut self) -> String {
        let len = self.rng.range_usize(1, 10);
        (0..len)
            .map(|_| *self.rng.pick(b"abcdefghijklmnopqrstuvwxyz0123456789-.") as char)
            .collect()
    }

    pub(super) fn host(&mut self) -> String {
        let name = self.host_name();
        if self.rng.chance(300_000) {
            format!("{name}:{}", self.rng.range(1, 65535))
        } else {
            name
        }
    }
}
