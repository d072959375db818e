//! Why a request was rejected, and the status that says so.

use super::Status;

/// Everything that makes the engine reject a request. Each variant maps to the status the
/// client receives ([`RequestError::status`]); after any of them the connection is closed,
/// because the framing of whatever follows can no longer be trusted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RequestError {
    /// The method is not a token, or is empty (RFC 9112 §3.1).
    InvalidMethod,
    /// The request target holds a byte outside RFC 3986, or is not in a form its method allows
    /// (RFC 9112 §3.2).
    InvalidTarget,
    /// The version is not `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3).
    InvalidVersion,
    /// A well-formed version other than HTTP/1.0 or HTTP/1.1 (RFC 9110 §15.6.6).
    UnsupportedVersion,
    /// The request line is longer than [`Limits::max_request_line`](super::Limits).
    RequestLineTooLong,
    /// The head is longer than [`Limits::max_head`](super::Limits).
    HeadTooLarge,
    /// More header fields than [`Limits::max_headers`](super::Limits).
    TooManyHeaders,
    /// A field name is empty or not a token (RFC 9112 §5).
    InvalidHeaderName,
    /// Whitespace between a field name and its colon (RFC 9112 §5.1: MUST reject with 400).
    WhitespaceBeforeColon,
    /// A line that starts with whitespace: obs-fold (RFC 9112 §5.2) or whitespace before the
    /// first field line (RFC 9112 §2.2).
    LeadingWhitespace,
    /// A field value holds NUL, DEL or another control character (RFC 9110 §5.5).
    InvalidHeaderValue,
    /// A CR not followed by LF (RFC 9112 §2.2).
    BareCr,
    /// A line ended by LF alone. RFC 9112 §2.2 lets a recipient accept it; zzz does not,
    /// because two parsers that disagree on line ends are how requests get smuggled.
    BareLf,
    /// Content-Length is not a decimal number that fits in 64 bits (RFC 9110 §8.6).
    InvalidContentLength,
    /// Content-Length appears with differing values (RFC 9112 §6.3, item 5).
    ConflictingContentLength,
    /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.3, item 3: zzz rejects).
    ContentLengthWithTransferEncoding,
    /// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: the framing is faulty).
    TransferEncodingInHttp10,
    /// Transfer-Encoding without `chunked` as its final coding (RFC 9112 §6.3, item 4), or
    /// with `chunked` more than once (RFC 9112 §7), or not a list of tokens.
    InvalidTransferEncoding,
    /// A transfer coding other than `chunked` (RFC 9112 §6.1: SHOULD answer 501).
    UnsupportedTransferEncoding,
    /// An HTTP/1.1 request without Host (RFC 9112 §3.2: MUST answer 400).
    MissingHost,
    /// More than one Host field (RFC 9112 §3.2: MUST answer 400).
    DuplicateHost,
    /// A Host value that is not `host [ ":" port ]` (RFC 9112 §3.2: MUST answer 400).
    InvalidHost,
    /// An empty Host on an HTTP/1.1 request whose target takes its authority from Host (origin
    /// or asterisk form): the target URI would be an `http` URI without a host, which RFC 9110
    /// §4.2.1 makes invalid (RFC 9110 §7.2 allows an empty Host only where the target URI has
    /// no authority).
    EmptyHost,
    /// An expectation other than `100-continue` (RFC 9110 §10.1.1).
    UnsupportedExpectation,
    /// The declared or decoded body is larger than [`Limits::max_body`](super::Limits).
    BodyTooLarge,
    /// A chunk size that is not hex, has more than 16 digits, or overflows (RFC 9112 §7.1).
    InvalidChunkSize,
    /// A chunk extension that is not `;name[=value]` (RFC 9112 §7.1.1).
    InvalidChunkExtension,
    /// Chunk extensions over [`Limits::max_chunk_extensions`](super::Limits).
    ChunkExtensionsTooLarge,
    /// Chunk data not followed by CRLF (RFC 9112 §7.1).
    InvalidChunkData,
    /// A malformed trailer field (RFC 9112 §7.1.2).
    InvalidTrailer,
    /// A trailer section over [`Limits::max_trailers`](super::Limits).
    TrailersTooLarge,
}

impl RequestError {
    /// The status a client receives for this error.
    pub const fn status(self) -> Status {
        use RequestError::*;
        match self {
            UnsupportedVersion => Status::HTTP_VERSION_NOT_SUPPORTED,
            RequestLineTooLong => Status::URI_TOO_LONG,
            HeadTooLarge | TooManyHeaders | TrailersTooLarge => {
                Status::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            UnsupportedTransferEncoding => Status::NOT_IMPLEMENTED,
            UnsupportedExpectation => Status::EXPECTATION_FAILED,
            BodyTooLarge | ChunkExtensionsTooLarge => Status::CONTENT_TOO_LARGE,
            InvalidMethod
            | InvalidTarget
            | InvalidVersion
            | InvalidHeaderName
            | WhitespaceBeforeColon
            | LeadingWhitespace
            | InvalidHeaderValue
            | BareCr
            | BareLf
            | InvalidContentLength
            | ConflictingContentLength
            | ContentLengthWithTransferEncoding
            | TransferEncodingInHttp10
            | InvalidTransferEncoding
            | MissingHost
            | DuplicateHost
            | InvalidHost
            | EmptyHost
            | InvalidChunkSize
            | InvalidChunkExtension
            | InvalidChunkData
            | InvalidTrailer => Status::BAD_REQUEST,
        }
    }

    /// A short, static description for logs.
    pub const fn reason(self) -> &'static str {
        use RequestError::*;
        match self {
            InvalidMethod => "invalid method",
            InvalidTarget => "invalid request target",
            InvalidVersion => "invalid HTTP version",
            UnsupportedVersion => "unsupported HTTP version",
            RequestLineTooLong => "request line too long",
            HeadTooLarge => "request head too large",
            TooManyHeaders => "too many header fields",
            InvalidHeaderName => "invalid field name",
            WhitespaceBeforeColon => "whitespace before colon",
            LeadingWhitespace => "line starts with whitespace (obs-fold)",
            InvalidHeaderValue => "invalid field value",
            BareCr => "bare CR",
            BareLf => "bare LF",
            InvalidContentLength => "invalid Content-Length",
            ConflictingContentLength => "conflicting Content-Length",
            ContentLengthWithTransferEncoding => "Content-Length with Transfer-Encoding",
            TransferEncodingInHttp10 => "Transfer-Encoding in HTTP/1.0",
            InvalidTransferEncoding => "chunked is not the final transfer coding",
            UnsupportedTransferEncoding => "unsupported transfer coding",
            MissingHost => "missing Host",
            DuplicateHost => "repeated Host",
            InvalidHost => "invalid Host",
            EmptyHost => "empty Host",
            UnsupportedExpectation => "unsupported expectation",
            BodyTooLarge => "body too large",
            InvalidChunkSize => "invalid chunk size",
            InvalidChunkExtension => "invalid chunk extension",
            ChunkExtensionsTooLarge => "chunk extensions too large",
            InvalidChunkData => "chunk data not followed by CRLF",
            InvalidTrailer => "invalid trailer field",
            TrailersTooLarge => "trailer section too large",
        }
    }
}

impl core::fmt::Display for RequestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.reason(), self.status().code())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RequestError {}
