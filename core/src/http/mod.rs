//! The HTTP/1.1 engine (RFC 9110, RFC 9112): parsing requests, decoding bodies, writing
//! responses. Everything here works on caller-provided buffers and allocates nothing.
//!
//! - [`HeadParser`] parses a request head, resumably and strictly; [`RequestHead`] is what it
//!   learned and [`Request`] reads it back over the buffer.
//! - [`ChunkedDecoder`] decodes a chunked body in place.
//! - [`ResponseWriter`] writes a response; [`canned`] holds the pre-built error responses.
//! - [`Limits`] bounds every part of a request, each limit mapped to its status.
//! - [`TokenList`], [`QueryPairs`] and [`percent`] are what handlers use to read values.

pub mod canned;
mod chunked;
mod date;
mod error;
mod header;
mod hex;
mod limits;
mod method;
mod parse;
pub mod percent;
mod query;
mod request;
mod response;
mod scan;
mod status;

pub use chunked::ChunkedDecoder;
pub use date::{HTTP_DATE_LEN, HttpDate, format_imf_fixdate};
pub use error::RequestError;
pub use header::{TokenList, trim_ows};
pub(crate) use hex::{hex_len, write_hex};
pub use limits::Limits;
pub use method::{Method, MethodSet, is_method_token};
pub use parse::{HeadParser, Parsed};
pub use query::QueryPairs;
pub use request::{Framing, HeaderSpan, Request, RequestHead, Span, TargetForm, Version};
pub use response::{
    AsHeaderName, BodyWriter, ByteWriter, HeaderName, LAST_CHUNK, ResponseError, ResponseOptions,
    ResponseWriter, StreamFraming, chunk_overhead, write_chunk,
};
#[cfg_attr(not(feature = "json"), allow(unused_imports))]
pub(crate) use response::{copy_bytes, decimal_len, write_decimal};
pub use status::Status;
