//! Static assets embedded in the binary at compile time and served from where they lie.
//!
//! An [`Asset`] is a `&'static [u8]` body (usually `include_bytes!`), optionally a
//! precompressed gzip body of the same content, the Content-Type of its file extension, a
//! strong entity tag computed at compile time, and a `Cache-Control` value. Declaring one is
//! a `const` expression, so the whole table of a site's assets is static data:
//!
//! ```
//! use zzz_core::assets::Asset;
//!
//! static STYLE: Asset = Asset::new("style.css", b"body { margin: 0 }");
//! assert_eq!(STYLE.content_type(), "text/css; charset=utf-8");
//! assert_eq!(STYLE.etag().len(), 18); // "0123456789abcdef"
//! ```
//!
//! [`serve`] (or [`Ctx::asset`]) answers a GET or HEAD for one asset:
//!
//! - **Content coding** (RFC 9110 §12.5.3): the gzip body is sent, with
//!   `Content-Encoding: gzip`, when `Accept-Encoding` gives gzip a weight above zero and at
//!   least that of identity; otherwise the plain body. A request without `Accept-Encoding`
//!   gets the plain body (what a client that never asked, curl without `--compressed`,
//!   expects). When neither is acceptable (`identity;q=0` or `*;q=0` and no gzip), `406`.
//!   Responses of an asset with a gzip variant carry `Vary: Accept-Encoding`.
//! - **Validators** (RFC 9110 §8.8.3, §13.1.2): each body has its own strong `ETag`; an
//!   `If-None-Match` that matches the selected body's tag by weak comparison, or `*`, is
//!   answered `304 Not Modified` with `ETag`, `Cache-Control` and `Vary` and no body
//!   (§15.4.5). A malformed element of the list never matches.
//! - **Sending**: the body goes out with [`Reply::static_body`](crate::Reply::static_body),
//!   straight from the binary, never copied, whatever its size; HEAD gets the same headers,
//!   `Content-Length` included, and no body (§9.3.2).
//!
//! The default `Cache-Control` is [`NO_CACHE`]: browsers keep the asset and revalidate it with
//! its `ETag` (a `304` of a few hundred bytes) before each use, which stays correct across
//! deployments whatever the asset's URL. An asset whose URL changes with its content can say
//! [`IMMUTABLE`] instead.
//!
//! The entity tag is a 64-bit hash of the bytes, computed by a `const fn`, so it costs nothing
//! at run time and changes whenever the content does (two contents colliding has odds of about
//! 2⁻⁶⁴). Compile-time evaluation bounds the work of a constant: for assets of more than a few
//! MiB, compute the tag in a build script and give it with [`Asset::with_etag`].

use crate::handler::{Ctx, Out, Response};
use crate::http::{self, Status, TokenList, trim_ows, write_hex};

/// `Cache-Control: no-cache`: store, but revalidate before each use (RFC 9111 §5.2.2.4). The
/// default of an [`Asset`].
pub const NO_CACHE: &str = "no-cache";

/// `Cache-Control` for assets whose URL changes with their content: cached for a year and
/// never revalidated (RFC 9111 §5.2.2.1, RFC 8246).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A strong entity tag (RFC 9110 §8.8.3): 16 hexadecimal digits between double quotes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EntityTag([u8; 18]);

impl EntityTag {
    /// The tag of `bytes`: a 64-bit hash of them (see the [module docs](self)).
    pub const fn of(bytes: &[u8]) -> EntityTag {
        EntityTag::from_hash(hash64(bytes))
    }

    /// The tag showing `hash`.
    pub const fn from_hash(hash: u64) -> EntityTag {
        let mut tag = [b'"'; 18];
        let (_, after_quote) = tag.split_at_mut(1);
        let (digits, _) = after_quote.split_at_mut(16);
        write_hex(hash, digits);
        EntityTag(tag)
    }

    /// The tag as sent in `ETag`, quotes included.
    pub fn as_str(&self) -> &str {
        // Only quotes and hexadecimal digits: always ASCII.
        core::str::from_utf8(&self.0).unwrap_or("\"\"")
    }

    /// The tag's bytes, quotes included (the opaque-tag of RFC 9110 §8.8.3).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A content coding an asset can be sent in (RFC 9110 §8.4.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Coding {
    /// The body as it is.
    Identity,
    /// The precompressed gzip body (§8.4.1.3).
    Gzip,
}

/// A file embedded in the binary, with what serving it needs.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
    content_type: &'static str,
    cache_control: &'static str,
    etag: EntityTag,
    gzip_etag: EntityTag,
}

impl Asset {
    /// The asset `name` (a file name or path: its extension gives the Content-Type, see
    /// [`content_type_for`]) with `body`, no gzip variant, `Cache-Control: no-cache`, and the
    /// entity tag of `body`.
    pub const fn new(name: &str, body: &'static [u8]) -> Asset {
        Asset {
            body,
            gzip: None,
            content_type: content_type_for(name),
            cache_control: NO_CACHE,
            etag: EntityTag::of(body),
            gzip_etag: EntityTag::of(b""),
        }
    }

    /// The same asset with a precompressed variant: `gzip` must be the gzip encoding of the
    /// body (it is sent as is, with `Content-Encoding: gzip`). It gets its own entity tag, as
    /// a different representation must (RFC 9110 §8.8.3).
    pub const fn with_gzip(mut self, gzip: &'static [u8]) -> Asset {
        self.gzip = Some(gzip);
        self.gzip_etag = EntityTag::of(gzip);
        self
    }

    /// The same asset with another `Cache-Control` value ([`IMMUTABLE`], `max-age=600`...).
    pub const fn with_cache_control(mut self, value: &'static str) -> Asset {
        self.cache_control = value;
        self
    }

    /// The same asset with another Content-Type.
    pub const fn with_content_type(mut self, value: &'static str) -> Asset {
        self.content_type = value;
        self
    }

    /// The same asset with entity tags computed elsewhere (a build script, for large assets):
    /// `identity` for the body, `gzip` for the gzip variant.
    pub const fn with_etag(mut self, identity: u64, gzip: u64) -> Asset {
        self.etag = EntityTag::from_hash(identity);
        self.gzip_etag = EntityTag::from_hash(gzip);
        self
    }

    /// The body.
    pub const fn body(&self) -> &'static [u8] {
        self.body
    }

    /// The gzip variant, if any.
    pub const fn gzip(&self) -> Option<&'static [u8]> {
        self.gzip
    }

    /// The Content-Type.
    pub const fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The `Cache-Control` value.
    pub const fn cache_control(&self) -> &'static str {
        self.cache_control
    }

    /// The entity tag of the body, as sent in `ETag`.
    pub fn etag(&self) -> &str {
        self.etag.as_str()
    }

    /// The entity tag of the gzip variant, if there is one.
    pub fn gzip_etag(&self) -> Option<&str> {
        self.gzip.map(|_| self.gzip_etag.as_str())
    }

    /// The body and entity tag sent in `coding`; the plain ones when there is no gzip variant.
    pub fn representation(&self, coding: Coding) -> (&'static [u8], &EntityTag) {
        match (coding, self.gzip) {
            (Coding::Gzip, Some(gzip)) => (gzip, &self.gzip_etag),
            _ => (self.body, &self.etag),
        }
    }
}

/// Answers a GET or HEAD request for `asset`: `200` with the body in the coding
/// `Accept-Encoding` prefers, `304` when `If-None-Match` matches, `406` when no coding is
/// acceptable. See the [module docs](self).
pub fn serve<S>(out: &mut Out<'_, S>, req: &http::Request<'_>, asset: &Asset) -> Response {
    let varies = asset.gzip.is_some();
    let Some(coding) = negotiate_encoding(req.header_all("accept-encoding"), varies) else {
        return out
            .respond(Status::NOT_ACCEPTABLE)
            .header("Vary", "Accept-Encoding")
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(b"Not Acceptable: no acceptable content coding\n");
    };
    let (body, etag) = asset.representation(coding);
    if not_modified(req.header_all("if-none-match"), etag) {
        let reply = out
            .respond(Status::NOT_MODIFIED)
            .header_bytes("ETag", etag.as_bytes())
            .header("Cache-Control", asset.cache_control);
        let reply = if varies {
            reply.header("Vary", "Accept-Encoding")
        } else {
            reply
        };
        return reply.body(b"");
    }
    let reply = out
        .respond(Status::OK)
        .header("Content-Type", asset.content_type)
        .header_bytes("ETag", etag.as_bytes())
        .header("Cache-Control", asset.cache_control);
    let reply = if coding == Coding::Gzip {
        reply.header("Content-Encoding", "gzip")
    } else {
        reply
    };
    let reply = if varies {
        reply.header("Vary", "Accept-Encoding")
    } else {
        reply
    };
    reply.static_body(body)
}

impl<S> Ctx<'_, S> {
    /// Answers a GET or HEAD request for `asset`; see [`serve`].
    pub fn asset(&mut self, req: &http::Request<'_>, asset: &Asset) -> Response {
        serve(&mut self.out, req, asset)
    }
}

/// Which coding to send, from the values of the `Accept-Encoding` fields (all of them, in
/// order: several fields form one list, RFC 9110 §5.3) and whether a gzip variant exists.
/// `None` when no available coding is acceptable.
///
/// RFC 9110 §12.5.3: codings compare case-insensitively and `x-gzip` is `gzip` (§8.4.1.3);
/// `*` stands for every coding not listed; a weight of 0 means "not acceptable"; identity is
/// acceptable unless `identity;q=0`, or `*;q=0` without an `identity` entry, says otherwise,
/// and an unlisted identity ranks below every listed coding. The highest weight wins and gzip
/// wins a tie. An element with a malformed weight is ignored. No field at all means the plain
/// body.
pub fn negotiate_encoding<'a>(
    fields: impl IntoIterator<Item = &'a [u8]>,
    gzip_available: bool,
) -> Option<Coding> {
    let mut present = false;
    let (mut gzip, mut identity, mut any) = (None, None, None);
    for value in fields {
        present = true;
        for element in TokenList::new(value) {
            let Some((coding, weight)) = weighted(element) else {
                continue;
            };
            let entry =
                if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
                    &mut gzip
                } else if coding.eq_ignore_ascii_case(b"identity") {
                    &mut identity
                } else if coding == b"*" {
                    &mut any
                } else {
                    continue;
                };
            *entry = Some(entry.map_or(weight, |old: u16| old.max(weight)));
        }
    }
    if !present {
        return Some(Coding::Identity);
    }
    let gzip = if gzip_available {
        gzip.or(any).unwrap_or(0)
    } else {
        0
    };
    let identity = identity.or(any).unwrap_or(1);
    if gzip > 0 && gzip >= identity {
        Some(Coding::Gzip)
    } else if identity > 0 {
        Some(Coding::Identity)
    } else {
        None
    }
}

/// One element of a weighted list (`gzip;q=0.8`): the value before the first `;` and its
/// weight in thousandths (1000 without `q`), or `None` when the weight is malformed
/// (RFC 9110 §12.4.2: `weight = OWS ";" OWS "q=" qvalue`, the name case-insensitive).
fn weighted(element: &[u8]) -> Option<(&[u8], u16)> {
    let mut parts = element.split(|&b| b == b';');
    let value = trim_ows(parts.next().unwrap_or(b""));
    let mut weight = 1000;
    for parameter in parts {
        let parameter = trim_ows(parameter);
        if parameter.len() >= 2 && parameter[..2].eq_ignore_ascii_case(b"q=") {
            weight = qvalue(&parameter[2..])?;
        }
    }
    Some((value, weight))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths
/// (RFC 9110 §12.4.2).
fn qvalue(text: &[u8]) -> Option<u16> {
    let (&first, rest) = text.split_first()?;
    let fraction = match rest {
        [] => &[][..],
        [b'.', digits @ ..] if digits.len() <= 3 => digits,
        _ => return None,
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for i in 0..3 {
        thousandths = thousandths * 10 + fraction.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match first {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether `If-None-Match` (the values of all its fields) makes a GET or HEAD for the
/// representation tagged `etag` a `304` (RFC 9110 §13.1.2): `*`, or a listed tag equal to
/// `etag` by weak comparison (§8.8.3.2: `W/` ignored, opaque tags compared octet by octet).
/// No field means no condition: `false`.
pub fn not_modified<'a>(fields: impl IntoIterator<Item = &'a [u8]>, etag: &EntityTag) -> bool {
    fields.into_iter().any(|value| {
        TokenList::new(value).any(|element| {
            element == b"*" || opaque_tag(element).is_some_and(|tag| tag == etag.as_bytes())
        })
    })
}

/// The opaque-tag of an entity-tag (`W/"x"` → `"x"`), or `None` if `element` is not one
/// (RFC 9110 §8.8.3: `entity-tag = [ weak ] opaque-tag`, `weak = %s"W/"`,
/// `opaque-tag = DQUOTE *etagc DQUOTE`, `etagc = %x21 / %x23-7E / obs-text`).
fn opaque_tag(element: &[u8]) -> Option<&[u8]> {
    let tag = element.strip_prefix(b"W/").unwrap_or(element);
    match tag {
        [b'"', inner @ .., b'"']
            if inner.iter().all(|&b| b == 0x21 || (b >= 0x23 && b != 0x7f)) =>
        {
            Some(tag)
        }
        _ => None,
    }
}

/// The Content-Type of a file named `name`, by its extension (ASCII case-insensitive);
/// `application/octet-stream` for an unknown one. Text types say `charset=utf-8`.
pub const fn content_type_for(name: &str) -> &'static str {
    const TYPES: &[(&str, &str)] = &[
        ("html", "text/html; charset=utf-8"),
        ("htm", "text/html; charset=utf-8"),
        ("css", "text/css; charset=utf-8"),
        ("js", "text/javascript; charset=utf-8"),
        ("mjs", "text/javascript; charset=utf-8"),
        ("json", "application/json"),
        ("map", "application/json"),
        ("webmanifest", "application/manifest+json"),
        ("txt", "text/plain; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
        ("csv", "text/csv; charset=utf-8"),
        ("xml", "application/xml"),
        ("atom", "application/atom+xml"),
        ("rss", "application/rss+xml"),
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("avif", "image/avif"),
        ("ico", "image/vnd.microsoft.icon"),
        ("woff", "font/woff"),
        ("woff2", "font/woff2"),
        ("ttf", "font/ttf"),
        ("otf", "font/otf"),
        ("pdf", "application/pdf"),
        ("wasm", "application/wasm"),
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("mp3", "audio/mpeg"),
        ("ogg", "audio/ogg"),
    ];
    let ext = extension(name.as_bytes());
    let mut i = 0;
    // Bounded: counted over TYPES (a const fn has no `for`).
    while i < TYPES.len() {
        if ext.eq_ignore_ascii_case(TYPES[i].0.as_bytes()) {
            return TYPES[i].1;
        }
        i += 1;
    }
    "application/octet-stream"
}

/// What follows the last `.` of the last path segment of `name`; empty without one.
const fn extension(name: &[u8]) -> &[u8] {
    let mut i = name.len();
    // Bounded: counted down from name.len() (a const fn has no `for`).
    while i > 0 {
        i -= 1;
        match name[i] {
            b'.' => return name.split_at(i + 1).1,
            b'/' => return &[],
            _ => {}
        }
    }
    &[]
}

/// A 64-bit hash of `bytes` for entity tags, cheap enough for compile-time evaluation: eight
/// bytes per step (multiply and fold), then the finalizer of SplitMix64 so every input bit
/// reaches every output bit. Not cryptographic: it detects change, it does not resist forgery.
const fn hash64(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = K ^ (bytes.len() as u64).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let mut i = 0;
    // Bounded: counted over bytes, 8 a step (a const fn has no `for`).
    while i < bytes.len() {
        let word = if i + 8 <= bytes.len() {
            let b = bytes;
            [
                b[i],
                b[i + 1],
                b[i + 2],
                b[i + 3],
                b[i + 4],
                b[i + 5],
                b[i + 6],
                b[i + 7],
            ]
        } else {
            let mut tail = [0u8; 8];
            let mut j = 0;
            // Bounded: counted, fewer than 8 (a const fn has no `for`).
            while i + j < bytes.len() {
                tail[j] = bytes[i + j];
                j += 1;
            }
            tail
        };
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(K);
        h ^= h >> 29;
        i += 8;
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests;
