//! Route patterns: `/users/{id:u64}/posts`, `/static/{*path}`.
//!
//! A pattern is `/` followed by segments separated by `/`. A segment is either literal text,
//! a parameter `{name}` or `{name:type}` (a whole segment; `type` is one of [`ParamType`]'s
//! names, default `str`), or, as the last segment only, a tail `{*name}` that matches zero or
//! more remaining segments (a mount: `/static/{*path}` serves `/static`, `/static/` and
//! `/static/css/a.css`, never `/staticx`). Only the last segment may be empty (a trailing
//! slash, which is significant). Literal text, at most [`MAX_LITERAL`] bytes, is matched
//! against the percent-decoded path segment.

/// The most segments a pattern may have.
pub const MAX_SEGMENTS: usize = 16;
/// The most parameters (tail included) a pattern may have.
pub const MAX_PARAMS: usize = 8;
/// The longest literal segment, in bytes: a request's segment is percent-decoded into a buffer
/// of this size to be compared with the literals, so a longer literal could never match a
/// request that escapes any of its bytes.
pub const MAX_LITERAL: usize = 256;

/// The type of a path parameter: parsed and checked before the handler runs (a mismatch is
/// `400`), and documented in the OpenAPI spec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParamType {
    /// Any non-empty segment (`{name}` or `{name:str}`).
    Str,
    /// `{name:u8}`.
    U8,
    /// `{name:u16}`.
    U16,
    /// `{name:u32}`.
    U32,
    /// `{name:u64}`.
    U64,
    /// `{name:i32}`.
    I32,
    /// `{name:i64}`.
    I64,
}

impl ParamType {
    fn from_name(name: &str) -> Option<ParamType> {
        Some(match name {
            "str" => ParamType::Str,
            "u8" => ParamType::U8,
            "u16" => ParamType::U16,
            "u32" => ParamType::U32,
            "u64" => ParamType::U64,
            "i32" => ParamType::I32,
            "i64" => ParamType::I64,
            _ => return None,
        })
    }

    /// The inclusive integer range of the type; `None` for strings.
    pub const fn range(self) -> Option<(i64, i64)> {
        Some(match self {
            ParamType::Str => return None,
            ParamType::U8 => (0, u8::MAX as i64),
            ParamType::U16 => (0, u16::MAX as i64),
            ParamType::U32 => (0, u32::MAX as i64),
            ParamType::U64 => (0, i64::MAX),
            ParamType::I32 => (i32::MIN as i64, i32::MAX as i64),
            ParamType::I64 => (i64::MIN, i64::MAX),
        })
    }

    /// Whether `raw` (a path segment, still percent-encoded) is a value of this type.
    /// Integers are plain ASCII digits with an optional `-` for signed types; no `+`, no
    /// spaces, no escapes.
    pub fn accepts(self, raw: &str) -> bool {
        let Some((min, max)) = self.range() else {
            return !raw.is_empty();
        };
        if self == ParamType::U64 {
            return !raw.is_empty()
                && raw.bytes().all(|b| b.is_ascii_digit())
                && raw.parse::<u64>().is_ok();
        }
        let digits = raw.strip_prefix('-').filter(|_| min < 0).unwrap_or(raw);
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && raw.parse::<i64>().is_ok_and(|v| (min..=max).contains(&v))
    }
}

/// What a pattern segment matches.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SegmentKind {
    /// Exactly this text.
    Literal,
    /// Any non-empty segment, captured.
    Param,
    /// Zero or more remaining segments, captured as one string.
    Tail,
}

/// One parsed segment of a pattern.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PatternSegment {
    pub kind: SegmentKind,
    /// The literal text, or the parameter's name.
    pub text: &'static str,
    pub ty: ParamType,
}

/// A pattern split into validated segments.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    pub segments: heapless::Vec<PatternSegment, MAX_SEGMENTS>,
}

impl Pattern {
    /// Parses and validates a pattern; the error says what is wrong.
    pub fn parse(pattern: &'static str) -> Result<Pattern, &'static str> {
        let Some(rest) = pattern.strip_prefix('/') else {
            return Err("must start with `/`");
        };
        let mut segments = heapless::Vec::new();
        let mut params = 0;
        let count = rest.split('/').count();
        for (i, text) in rest.split('/').enumerate() {
            let last = i + 1 == count;
            let segment = Self::segment(text, last)?;
            if segment.kind != SegmentKind::Literal {
                params += 1;
                if params > MAX_PARAMS {
                    return Err("more than 8 parameters");
                }
                if segments.iter().any(|s: &PatternSegment| {
                    s.kind != SegmentKind::Literal && s.text == segment.text
                }) {
                    return Err("a parameter name appears twice");
                }
            }
            segments
                .push(segment)
                .map_err(|_| "more than 16 segments")?;
        }
        Ok(Pattern { segments })
    }

    fn segment(text: &'static str, last: bool) -> Result<PatternSegment, &'static str> {
        let literal = PatternSegment {
            kind: SegmentKind::Literal,
            text,
            ty: ParamType::Str,
        };
        if text.is_empty() {
            return if last {
                Ok(literal)
            } else {
                Err("empty segment (`//`)")
            };
        }
        let Some(inner) = text.strip_prefix('{') else {
            if text.contains(['{', '}']) {
                return Err("a parameter must be a whole segment");
            }
            if text.len() > MAX_LITERAL {
                return Err("a literal segment is longer than 256 bytes");
            }
            return Ok(literal);
        };
        let inner = inner
            .strip_suffix('}')
            .ok_or("a parameter must be a whole segment")?;
        if let Some(name) = inner.strip_prefix('*') {
            if !last {
                return Err("a tail `{*name}` must be the last segment");
            }
            check_name(name)?;
            return Ok(PatternSegment {
                kind: SegmentKind::Tail,
                text: name,
                ty: ParamType::Str,
            });
        }
        let (name, ty) = match inner.split_once(':') {
            Some((name, ty)) => (
                name,
                ParamType::from_name(ty).ok_or("unknown parameter type")?,
            ),
            None => (inner, ParamType::Str),
        };
        check_name(name)?;
        Ok(PatternSegment {
            kind: SegmentKind::Param,
            text: name,
            ty,
        })
    }
}

/// The `depth`-th `/`-separated segment of `pattern` (after its leading `/`), as
/// [`Pattern::parse`] splits it; `None` past the last. A pattern without its leading `/` (which
/// the router refuses) is read as if it had one. A `const fn`, for
/// [`RouterCapacity::of`](super::RouterCapacity::of), and what the index is built from.
pub(super) const fn segment_at(pattern: &str, depth: usize) -> Option<&str> {
    let mut rest = Some(segments_of(pattern));
    let mut d = 0;
    // Bounded: one turn per segment, each at least one byte of the pattern shorter.
    while let Some(text) = rest {
        let (segment, after) = split_first_segment(text);
        if d == depth {
            return Some(segment);
        }
        rest = after;
        d += 1;
    }
    None
}

/// `pattern` without its leading `/`: its segments, joined by `/`.
pub(super) const fn segments_of(pattern: &str) -> &str {
    match pattern.as_bytes() {
        [b'/', ..] => pattern.split_at(1).1,
        _ => pattern,
    }
}

/// The first segment of `segments` (`/`-joined), and the segments after it, if any.
pub(super) const fn split_first_segment(segments: &str) -> (&str, Option<&str>) {
    let bytes = segments.as_bytes();
    let mut end = 0;
    // Bounded: the length of `segments`.
    while end < bytes.len() && bytes[end] != b'/' {
        end += 1;
    }
    let (segment, after) = segments.split_at(end);
    if after.is_empty() {
        (segment, None)
    } else {
        (segment, Some(after.split_at(1).1))
    }
}

/// What a segment of a valid pattern is, read from its first bytes (the rest was validated by
/// [`Pattern::parse`]).
pub(super) const fn kind_of(segment: &str) -> SegmentKind {
    match segment.as_bytes() {
        [b'{', b'*', ..] => SegmentKind::Tail,
        [b'{', ..] => SegmentKind::Param,
        _ => SegmentKind::Literal,
    }
}

/// Whether two segments of valid patterns match the same path segments: the same literal, or
/// two parameters (whatever their names and types), or two tails.
pub(super) const fn same_shape(a: &str, b: &str) -> bool {
    match (kind_of(a), kind_of(b)) {
        (SegmentKind::Literal, SegmentKind::Literal) => bytes_eq(a.as_bytes(), b.as_bytes()),
        (SegmentKind::Param, SegmentKind::Param) | (SegmentKind::Tail, SegmentKind::Tail) => true,
        _ => false,
    }
}

/// `a == b`, in a `const fn`.
pub(super) const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    // Bounded: the length of `a`.
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

fn check_name(name: &str) -> Result<(), &'static str> {
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err("a parameter name must be letters, digits and `_`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_segments() {
        let p = Pattern::parse("/users/{id:u64}/files/{*path}").unwrap();
        let kinds: heapless::Vec<SegmentKind, 8> = p.segments.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SegmentKind::Literal,
                SegmentKind::Param,
                SegmentKind::Literal,
                SegmentKind::Tail
            ]
        );
        assert_eq!(p.segments[1].ty, ParamType::U64);
        assert_eq!(p.segments[3].text, "path");
        assert_eq!(Pattern::parse("/").unwrap().segments.len(), 1);
        assert_eq!(Pattern::parse("/a/").unwrap().segments[1].text, "");
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in [
            "users",
            "/a//b",
            "/{*t}/x",
            "/a{b}",
            "/{x:float}",
            "/{}",
            "/{a}/{a}",
            "/{a-b}",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    /// Found by the `router` fuzz target: a route `/l...l` (264 bytes) answered `404` to
    /// `/%6Cl...l`, the same segment with its first byte escaped, since the router decodes a
    /// request's segment into `MAX_LITERAL` bytes to compare it with literals. A literal at
    /// the bound matches however its request is escaped; one past it is refused when the table
    /// is built.
    #[test]
    fn literals_fit_the_decoded_segment() {
        use crate::handler::{Ctx, Request, Response};
        use crate::http::Status;
        use crate::router::{Route, RouteMatch, Router};
        use std::string::String;
        use std::vec::Vec;

        fn h(ctx: &mut Ctx<()>, _: &Request) -> Response {
            ctx.empty(Status::OK)
        }
        let pattern = |len: usize| -> &'static str {
            let mut text = String::from("/");
            text.push_str(&"l".repeat(len));
            text.leak()
        };
        assert_eq!(
            Pattern::parse(pattern(MAX_LITERAL + 1)).err(),
            Some("a literal segment is longer than 256 bytes")
        );
        assert_eq!(
            Pattern::parse(pattern(264)).err(),
            Pattern::parse(pattern(257)).err()
        );

        let at_limit = pattern(MAX_LITERAL);
        let routes: &'static [Route<()>] = Vec::from([Route::get(at_limit, h)]).leak();
        let router = Router::new(routes).unwrap();
        let escaped = std::format!("/%6C{}", &at_limit[2..]);
        for path in [at_limit, escaped.as_str()] {
            assert!(
                matches!(router.resolve("GET", path), RouteMatch::Found { .. }),
                "{path}"
            );
        }
    }

    /// The split is the parser's: a trailing `/` is an empty literal.
    #[test]
    fn segments_as_the_parser_splits_them() {
        assert_eq!(segment_at("/a/{b}/", 0), Some("a"));
        assert_eq!(segment_at("/a/{b}/", 1), Some("{b}"));
        assert_eq!(segment_at("/a/{b}/", 2), Some(""));
        assert_eq!(segment_at("/a/{b}/", 3), None);
        assert_eq!(segment_at("/", 0), Some(""));
        assert_eq!(kind_of("{*t}"), SegmentKind::Tail);
        assert_eq!(kind_of("{t:u8}"), SegmentKind::Param);
        assert_eq!(kind_of("t"), SegmentKind::Literal);
        assert!(same_shape("{a}", "{b:u64}") && !same_shape("{a}", "{*a}"));
        assert!(same_shape("x", "x") && !same_shape("x", "y") && !same_shape("x", "{x}"));
        for pattern in [
            "/",
            "/a",
            "/a/",
            "/users/{id:u64}/posts/{*rest}",
            "/caf\u{e9}/x",
        ] {
            let parsed = Pattern::parse(pattern).unwrap();
            for (depth, segment) in parsed.segments.iter().enumerate() {
                let raw = segment_at(pattern, depth).unwrap();
                assert_eq!(kind_of(raw), segment.kind, "{pattern}");
            }
            assert_eq!(segment_at(pattern, parsed.segments.len()), None);
        }
    }

    #[test]
    fn typed_parameters() {
        assert!(ParamType::U8.accepts("255") && !ParamType::U8.accepts("256"));
        assert!(
            ParamType::U64.accepts("18446744073709551615")
                && !ParamType::U64.accepts("18446744073709551616")
        );
        assert!(ParamType::I32.accepts("-5") && !ParamType::U32.accepts("-5"));
        for bad in ["", "+1", " 1", "1a", "%31", "-"] {
            assert!(!ParamType::I64.accepts(bad), "{bad:?}");
        }
        assert!(ParamType::Str.accepts("x") && !ParamType::Str.accepts(""));
    }
}
