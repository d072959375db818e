//! Pre-built responses for every status the engine emits on its own.
//!
//! They are complete byte strings built at compile time; sending one is a copy and a patch of
//! the 29-byte `Date` (RFC 9110 §6.6.1 requires `Date` on 4xx responses from a server with a
//! clock). Each ends with `Connection: close`: the engine sends them when it cannot trust the
//! rest of the connection, and closes it after.

use super::RequestError;
use super::date::{HTTP_DATE_LEN, HttpDate};
use super::response::ByteWriter;
use super::status::Status;

/// A complete, static response whose `Date` is patched in when sent.
#[derive(Debug)]
pub struct CannedResponse {
    /// Its status.
    pub status: Status,
    bytes: &'static [u8],
    date_at: usize,
}

impl CannedResponse {
    /// The response bytes, with the epoch as their date.
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }

    /// Length of the head, up to and including the empty line.
    pub fn head_len(&self) -> usize {
        self.bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(self.bytes.len(), |p| p + 4)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never empty; for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Copies the response into `out` with `date` patched in; without its body when
    /// `head_only` (the answer to a HEAD request: same headers, no content, RFC 9110 §9.3.2).
    pub fn write(&self, out: &mut ByteWriter<'_>, date: &HttpDate, head_only: bool) {
        let len = if head_only {
            self.head_len()
        } else {
            self.bytes.len()
        };
        if let Some(dst) = out.reserve(len) {
            dst.copy_from_slice(&self.bytes[..len]);
            dst[self.date_at..self.date_at + HTTP_DATE_LEN].copy_from_slice(date.as_bytes());
        }
    }
}

macro_rules! canned {
    ($(#[$doc:meta])* $name:ident = $code:literal $reason:literal, $extra:literal, $len:literal $body:literal;) => {
        $(#[$doc])*
        pub const $name: CannedResponse = CannedResponse {
            status: Status::$name,
            bytes: concat!(
                "HTTP/1.1 ", $code, " ", $reason, "\r\n",
                "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
                $extra,
                "Content-Type: text/plain; charset=utf-8\r\n",
                "Content-Length: ", $len, "\r\n",
                "Connection: close\r\n",
                "\r\n",
                $body
            ).as_bytes(),
            date_at: concat!("HTTP/1.1 ", $code, " ", $reason, "\r\nDate: ").len(),
        };
    };
}

canned! { /// 400: the request is malformed.
BAD_REQUEST = 400 "Bad Request", "", 12 "Bad Request\n"; }
canned! { /// 408: the head or body did not arrive in time.
REQUEST_TIMEOUT = 408 "Request Timeout", "", 16 "Request Timeout\n"; }
canned! { /// 413: the body is over the limit.
CONTENT_TOO_LARGE = 413 "Content Too Large", "", 18 "Content Too Large\n"; }
canned! { /// 414: the request line is over the limit.
URI_TOO_LONG = 414 "URI Too Long", "", 13 "URI Too Long\n"; }
canned! { /// 417: an expectation other than 100-continue.
EXPECTATION_FAILED = 417 "Expectation Failed", "", 19 "Expectation Failed\n"; }
canned! { /// 431: the head is over the limit.
REQUEST_HEADER_FIELDS_TOO_LARGE = 431 "Request Header Fields Too Large", "", 32 "Request Header Fields Too Large\n"; }
canned! { /// 500: the handler's response could not be written.
INTERNAL_SERVER_ERROR = 500 "Internal Server Error", "", 22 "Internal Server Error\n"; }
canned! { /// 501: a transfer coding or method the server does not implement.
NOT_IMPLEMENTED = 501 "Not Implemented", "", 16 "Not Implemented\n"; }
canned! { /// 503: an internal pool is exhausted; try again in a second.
SERVICE_UNAVAILABLE = 503 "Service Unavailable", "Retry-After: 1\r\n", 20 "Service Unavailable\n"; }
canned! { /// 505: an HTTP version other than 1.0 and 1.1.
HTTP_VERSION_NOT_SUPPORTED = 505 "HTTP Version Not Supported", "", 27 "HTTP Version Not Supported\n"; }

/// Every canned response.
pub const ALL: [&CannedResponse; 10] = [
    &BAD_REQUEST,
    &REQUEST_TIMEOUT,
    &CONTENT_TOO_LARGE,
    &URI_TOO_LONG,
    &EXPECTATION_FAILED,
    &REQUEST_HEADER_FIELDS_TOO_LARGE,
    &INTERNAL_SERVER_ERROR,
    &NOT_IMPLEMENTED,
    &SERVICE_UNAVAILABLE,
    &HTTP_VERSION_NOT_SUPPORTED,
];

/// The canned response for `status`, if there is one.
pub fn for_status(status: Status) -> Option<&'static CannedResponse> {
    ALL.iter().copied().find(|c| c.status == status)
}

/// The canned response that answers a request error.
pub fn for_error(error: RequestError) -> &'static CannedResponse {
    for_status(error.status()).unwrap_or(&BAD_REQUEST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HeaderSpan, Limits};

    /// Each canned response is a well-formed response whose Content-Length matches its body
    /// and whose Date lies where it is patched.
    #[test]
    fn canned_responses_are_well_formed() {
        for canned in ALL {
            let text = core::str::from_utf8(canned.bytes).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let status_line = head.lines().next().unwrap();
            assert_eq!(status_line, std::format!("HTTP/1.1 {}", canned.status));
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(length, body.len(), "{status_line}");
            assert_eq!(
                &canned.bytes[canned.date_at..canned.date_at + 29],
                b"Thu, 01 Jan 1970 00:00:00 GMT"
            );
            assert!(head.contains("\r\nConnection: close"));
        }
        assert!(
            SERVICE_UNAVAILABLE
                .bytes
                .windows(15)
                .any(|w| w == b"Retry-After: 1\r")
        );
    }

    #[test]
    fn every_request_error_has_a_canned_answer() {
        use RequestError::*;
        for e in [
            InvalidMethod,
            UnsupportedVersion,
            RequestLineTooLong,
            HeadTooLarge,
            BodyTooLarge,
            UnsupportedTransferEncoding,
            UnsupportedExpectation,
            ChunkExtensionsTooLarge,
            TrailersTooLarge,
        ] {
            assert_eq!(for_error(e).status, e.status(), "{e:?}");
        }
        let _ = (Limits::DEFAULT, HeaderSpan::default());
    }

    #[test]
    fn date_is_patched() {
        let mut buf = [0u8; 256];
        let mut out = ByteWriter::new(&mut buf);
        let mut date = HttpDate::new();
        date.update(784_111_777);
        BAD_REQUEST.write(&mut out, &date, false);
        let text = core::str::from_utf8(out.written()).unwrap();
        assert!(text.contains("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
    }
}
