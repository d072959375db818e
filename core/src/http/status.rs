//! Response status codes (RFC 9110 §15) and their reason phrases.

/// An HTTP status code, 100..=999.
///
/// Any three-digit code is representable; [`Status::reason`] knows the phrases of the codes
/// registered by RFC 9110 and a few widely used extensions, and falls back to an empty phrase
/// (RFC 9112 §4: the reason phrase may be empty).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status(u16);

macro_rules! statuses {
    ($($name:ident = $code:literal, $phrase:literal;)+) => {
        impl Status {
            $(
                #[doc = concat!("`", stringify!($code), " ", $phrase, "`")]
                pub const $name: Status = Status($code);
            )+

            /// The reason phrase sent on the status line; empty for unregistered codes.
            pub const fn reason(self) -> &'static str {
                match self.0 {
                    $($code => $phrase,)+
                    _ => "",
                }
            }

            /// The whole status line, `HTTP/1.1 200 OK\r\n`, for registered codes.
            pub const fn line(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some(concat!("HTTP/1.1 ", stringify!($code), " ", $phrase, "\r\n")),)+
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    CONTINUE = 100, "Continue";
    SWITCHING_PROTOCOLS = 101, "Switching Protocols";
    OK = 200, "OK";
    CREATED = 201, "Created";
    ACCEPTED = 202, "Accepted";
    NON_AUTHORITATIVE_INFORMATION = 203, "Non-Authoritative Information";
    NO_CONTENT = 204, "No Content";
    RESET_CONTENT = 205, "Reset Content";
    PARTIAL_CONTENT = 206, "Partial Content";
    MULTIPLE_CHOICES = 300, "Multiple Choices";
    MOVED_PERMANENTLY = 301, "Moved Permanently";
    FOUND = 302, "Found";
    SEE_OTHER = 303, "See Other";
    NOT_MODIFIED = 304, "Not Modified";
    TEMPORARY_REDIRECT = 307, "Temporary Redirect";
    PERMANENT_REDIRECT = 308, "Permanent Redirect";
    BAD_REQUEST = 400, "Bad Request";
    UNAUTHORIZED = 401, "Unauthorized";
    PAYMENT_REQUIRED = 402, "Payment Required";
    FORBIDDEN = 403, "Forbidden";
    NOT_FOUND = 404, "Not Found";
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed";
    NOT_ACCEPTABLE = 406, "Not Acceptable";
    REQUEST_TIMEOUT = 408, "Request Timeout";
    CONFLICT = 409, "Conflict";
    GONE = 410, "Gone";
    LENGTH_REQUIRED = 411, "Length Required";
    PRECONDITION_FAILED = 412, "Precondition Failed";
    CONTENT_TOO_LARGE = 413, "Content Too Large";
    URI_TOO_LONG = 414, "URI Too Long";
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported Media Type";
    RANGE_NOT_SATISFIABLE = 416, "Range Not Satisfiable";
    EXPECTATION_FAILED = 417, "Expectation Failed";
    MISDIRECTED_REQUEST = 421, "Misdirected Request";
    UNPROCESSABLE_CONTENT = 422, "Unprocessable Content";
    UPGRADE_REQUIRED = 426, "Upgrade Required";
    PRECONDITION_REQUIRED = 428, "Precondition Required";
    TOO_MANY_REQUESTS = 429, "Too Many Requests";
    REQUEST_HEADER_FIELDS_TOO_LARGE = 431, "Request Header Fields Too Large";
    INTERNAL_SERVER_ERROR = 500, "Internal Server Error";
    NOT_IMPLEMENTED = 501, "Not Implemented";
    BAD_GATEWAY = 502, "Bad Gateway";
    SERVICE_UNAVAILABLE = 503, "Service Unavailable";
    GATEWAY_TIMEOUT = 504, "Gateway Timeout";
    HTTP_VERSION_NOT_SUPPORTED = 505, "HTTP Version Not Supported";
    INSUFFICIENT_STORAGE = 507, "Insufficient Storage";
}

impl Status {
    /// A status from its numeric code; `None` outside 100..=999.
    pub const fn from_u16(code: u16) -> Option<Status> {
        if code >= 100 && code <= 999 {
            Some(Status(code))
        } else {
            None
        }
    }

    /// The numeric code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The code as three ASCII digits, as it appears on the status line.
    pub const fn digits(self) -> [u8; 3] {
        let c = self.0;
        [
            b'0' + (c / 100) as u8,
            b'0' + (c / 10 % 10) as u8,
            b'0' + (c % 10) as u8,
        ]
    }

    /// 1xx: an interim response, never the final answer to a request.
    pub const fn is_informational(self) -> bool {
        self.0 < 200
    }

    /// Whether a response with this status carries no content by definition
    /// (1xx, 204, 304; RFC 9110 §6.4.1).
    pub const fn forbids_body(self) -> bool {
        self.0 < 200 || self.0 == 204 || self.0 == 304
    }
}

impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.0, self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_reason() {
        assert_eq!(Status::NOT_FOUND.digits(), *b"404");
        assert_eq!(Status::NOT_FOUND.reason(), "Not Found");
        assert_eq!(Status::from_u16(299).unwrap().reason(), "");
        assert!(Status::from_u16(99).is_none());
        assert!(Status::from_u16(1000).is_none());
    }

    /// RFC 9110 §6.4.1: 1xx, 204 and 304 responses have no content.
    #[test]
    fn bodiless_statuses() {
        assert!(Status::CONTINUE.forbids_body());
        assert!(Status::NO_CONTENT.forbids_body());
        assert!(Status::NOT_MODIFIED.forbids_body());
        assert!(!Status::OK.forbids_body());
        assert!(!Status::RESET_CONTENT.forbids_body());
    }
}
