//! Limits on what a request may contain, each mapped to the status that answers it.

/// The limits the HTTP engine enforces on every request, with defaults in the range of nginx
/// and h2o. Each limit names the status a request gets when it goes past it; the connection
/// is closed afterwards. A request exactly at a limit is accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Longest request line, in bytes, without its CRLF (and without the empty lines that
    /// RFC 9112 §2.2 lets precede it). Past it: `414 URI Too Long`, as nginx answers.
    /// Default 8 KiB (nginx's `large_client_header_buffers` line size).
    pub max_request_line: u16,
    /// Largest request head, in bytes: request line, header fields and the empty line that ends
    /// them. Past it: `431 Request Header Fields Too Large`. Default 16 KiB (Node.js's
    /// `--max-http-header-size`). At most 65535, so that offsets into the head fit in `u16`.
    pub max_head: u16,
    /// Most header fields in one request. Past it: `431`. Default 100 (Apache's
    /// `LimitRequestFields`).
    pub max_headers: u16,
    /// Largest request body, in bytes, after chunked decoding. Past it: `413 Content Too
    /// Large`. Default 1 MiB (nginx's `client_max_body_size`).
    pub max_body: u32,
    /// Most bytes of chunk extensions (everything between a chunk size and its CRLF) summed over
    /// one body. Past it: `413`, as Node.js answers since CVE-2024-22019. Default 4 KiB.
    pub max_chunk_extensions: u16,
    /// Largest trailer section of a chunked body, in bytes. Past it: `431`. Default 4 KiB.
    pub max_trailers: u16,
}

// The documented defaults are valid limits.
const _: () = assert!(Limits::DEFAULT.validate().is_ok());

impl Limits {
    /// The documented defaults.
    pub const DEFAULT: Limits = Limits {
        max_request_line: 8 * 1024,
        max_head: 16 * 1024,
        max_headers: 100,
        max_body: 1024 * 1024,
        max_chunk_extensions: 4 * 1024,
        max_trailers: 4 * 1024,
    };

    /// Checks that the limits are usable together; says which field is wrong and why.
    pub const fn validate(&self) -> Result<(), &'static str> {
        if self.max_request_line < 16 {
            return Err("max_request_line: must be at least 16 bytes to hold any request line");
        }
        if self.max_head < self.max_request_line {
            return Err("max_head: must be at least max_request_line");
        }
        if self.max_trailers < 2 {
            return Err(
                "max_trailers: must be at least 2 (the empty line that ends every chunked body)",
            );
        }
        if self.max_headers == 0 {
            return Err("max_headers: must be at least 1 (HTTP/1.1 requires Host)");
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
