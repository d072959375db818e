//! The server's side of the opening handshake (RFC 6455 §4.2): validating the client's
//! request, computing `Sec-WebSocket-Accept`, choosing a subprotocol.
//!
//! The fields are given as the bytes of their values, as the HTTP parser found them; each
//! failure names the status to answer with ([`HandshakeError::status`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::http::{Status, TokenList, trim_ows};

/// The GUID that RFC 6455 §1.3 appends to the client's key.
pub const GUID: &[u8; 36] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this server speaks (RFC 6455 §4.1).
pub const VERSION: &[u8] = b"13";

/// The bytes of a `Sec-WebSocket-Accept` value: base64 of a 20-byte SHA-1 digest.
pub const ACCEPT_LEN: usize = 28;

/// The fields of a client's opening handshake that RFC 6455 §4.2.1 checks, as the bytes of
/// their values (`None` when absent). A field that appears more than once should be given as
/// its values joined with commas (RFC 9110 §5.3), which is how the HTTP parser reads lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct HandshakeRequest<'a> {
    /// The request method; must be `GET`.
    pub method: &'a [u8],
    /// The HTTP version, as in the request line; must be `HTTP/1.1`.
    pub version: &'a [u8],
    /// `Upgrade`; must list the token `websocket`, case-insensitively.
    pub upgrade: Option<&'a [u8]>,
    /// `Connection`; must list the token `upgrade`, case-insensitively.
    pub connection: Option<&'a [u8]>,
    /// `Sec-WebSocket-Version`; must be `13`.
    pub ws_version: Option<&'a [u8]>,
    /// `Sec-WebSocket-Key`; must be the base64 of 16 bytes.
    pub key: Option<&'a [u8]>,
}

/// Why a handshake was refused, each mapped to its status (RFC 6455 §4.2.1–§4.2.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HandshakeError {
    /// The method is not GET (RFC 6455 §4.1, item 2): 405, with `Allow: GET`.
    MethodNotGet,
    /// The version is not HTTP/1.1 (RFC 6455 §4.1, item 2): 400.
    NotHttp11,
    /// `Upgrade` is missing or does not list `websocket` (RFC 6455 §4.2.1, item 3): 400.
    MissingUpgrade,
    /// `Connection` is missing or does not list `upgrade` (RFC 6455 §4.2.1, item 4): 400.
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` is missing or not 13 (RFC 6455 §4.2.2, item 4): 426 Upgrade
    /// Required, with `Sec-WebSocket-Version: 13` to say which version this server speaks.
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is missing or not the base64 of exactly 16 bytes (RFC 6455 §4.2.1,
    /// item 5): 400.
    InvalidKey,
}

impl HandshakeError {
    /// The status to answer with before closing the connection.
    pub const fn status(self) -> Status {
        match self {
            HandshakeError::MethodNotGet => Status::METHOD_NOT_ALLOWED,
            HandshakeError::UnsupportedVersion => Status::UPGRADE_REQUIRED,
            HandshakeError::NotHttp11
            | HandshakeError::MissingUpgrade
            | HandshakeError::MissingConnectionUpgrade
            | HandshakeError::InvalidKey => Status::BAD_REQUEST,
        }
    }
}

/// A handshake that passed [`validate`]: the accept value to send in the 101 response.
#[must_use = "answer 101 Switching Protocols with this Sec-WebSocket-Accept"]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AcceptKey([u8; ACCEPT_LEN]);

impl AcceptKey {
    /// The value's bytes (ASCII base64).
    pub const fn as_bytes(&self) -> &[u8; ACCEPT_LEN] {
        &self.0
    }

    /// The value as text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).expect("base64 is ASCII")
    }
}

/// Checks a client's opening handshake (RFC 6455 §4.2.1) and computes the
/// `Sec-WebSocket-Accept` value of the answer (§4.2.2). The checks run in the order of the
/// RFC's list, so the first failure is the one reported.
pub fn validate(request: &HandshakeRequest<'_>) -> Result<AcceptKey, HandshakeError> {
    if request.method != b"GET" {
        return Err(HandshakeError::MethodNotGet);
    }
    if request.version != b"HTTP/1.1" {
        return Err(HandshakeError::NotHttp11);
    }
    if !lists_token(request.upgrade, b"websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !lists_token(request.connection, b"upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let key = request
        .key
        .map(trim_ows)
        .ok_or(HandshakeError::InvalidKey)?;
    let mut decoded = [0u8; 18];
    match STANDARD.decode_slice(key, &mut decoded) {
        Ok(16) => {}
        _ => return Err(HandshakeError::InvalidKey),
    }
    if request.ws_version.map(trim_ows) != Some(VERSION) {
        return Err(HandshakeError::UnsupportedVersion);
    }
    Ok(accept_key(key))
}

/// `Sec-WebSocket-Accept` for `key` (RFC 6455 §4.2.2, item 5.4): the base64 of the SHA-1 of
/// the key, as sent, followed by [`GUID`].
pub fn accept_key(key: &[u8]) -> AcceptKey {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.finalize();
    let mut out = [0u8; ACCEPT_LEN];
    let written = STANDARD
        .encode_slice(digest.as_slice(), &mut out)
        .expect("20 bytes are 28 in base64");
    assert_eq!(written, ACCEPT_LEN);
    AcceptKey(out)
}

/// The subprotocol to answer with in `Sec-WebSocket-Protocol` (RFC 6455 §4.2.2, item 5.4):
/// the first of the server's `supported` names, in its order of preference, that the client
/// listed in `offered` (its `Sec-WebSocket-Protocol` value); `None` if there is none, and then
/// the answer carries no `Sec-WebSocket-Protocol` at all. Names are compared exactly.
pub fn select_subprotocol<'s>(offered: Option<&[u8]>, supported: &[&'s str]) -> Option<&'s str> {
    let offered = offered?;
    supported
        .iter()
        .find(|name| TokenList::new(offered).any(|token| token == name.as_bytes()))
        .copied()
}

/// Whether the list value `field` holds `token`, case-insensitively (RFC 9110 §7.8 for
/// `Upgrade`, §7.6.1 for `Connection`).
fn lists_token(field: Option<&[u8]>, token: &[u8]) -> bool {
    field.is_some_and(|value| TokenList::new(value).any(|t| t.eq_ignore_ascii_case(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_KEY: &[u8] = b"dGhlIHNhbXBsZSBub25jZQ==";

    fn sample() -> HandshakeRequest<'static> {
        HandshakeRequest {
            method: b"GET",
            version: b"HTTP/1.1",
            upgrade: Some(b"websocket"),
            connection: Some(b"Upgrade"),
            ws_version: Some(b"13"),
            key: Some(SAMPLE_KEY),
        }
    }

    /// RFC 6455 §1.3: the key `dGhlIHNhbXBsZSBub25jZQ==` is answered with
    /// `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
    #[test]
    fn rfc_example_accept() {
        assert_eq!(
            accept_key(SAMPLE_KEY).as_str(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            validate(&sample()).map(|a| *a.as_bytes()),
            Ok(*b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
    }

    /// RFC 6455 §4.2.1: tokens in lists, case-insensitively, among others.
    #[test]
    fn token_lists() {
        let request = HandshakeRequest {
            upgrade: Some(b"h2c, WebSocket"),
            connection: Some(b"keep-alive, UPGRADE"),
            ..sample()
        };
        assert!(validate(&request).is_ok());
    }

    /// RFC 6455 §4.2.1–§4.2.2: each refusal and its status.
    #[test]
    fn refusals() {
        let cases: &[(HandshakeRequest, HandshakeError, u16)] = &[
            (
                HandshakeRequest {
                    method: b"POST",
                    ..sample()
                },
                HandshakeError::MethodNotGet,
                405,
            ),
            (
                HandshakeRequest {
                    method: b"get",
                    ..sample()
                },
                HandshakeError::MethodNotGet,
                405,
            ),
            (
                HandshakeRequest {
                    version: b"HTTP/1.0",
                    ..sample()
                },
                HandshakeError::NotHttp11,
                400,
            ),
            (
                HandshakeRequest {
                    upgrade: None,
                    ..sample()
                },
                HandshakeError::MissingUpgrade,
                400,
            ),
            (
                HandshakeRequest {
                    upgrade: Some(b"websockets"),
                    ..sample()
                },
                HandshakeError::MissingUpgrade,
                400,
            ),
            (
                HandshakeRequest {
                    connection: Some(b"keep-alive"),
                    ..sample()
                },
                HandshakeError::MissingConnectionUpgrade,
                400,
            ),
            (
                HandshakeRequest {
                    ws_version: Some(b"8"),
                    ..sample()
                },
                HandshakeError::UnsupportedVersion,
                426,
            ),
            (
                HandshakeRequest {
                    ws_version: None,
                    ..sample()
                },
                HandshakeError::UnsupportedVersion,
                426,
            ),
            (
                HandshakeRequest {
                    key: None,
                    ..sample()
                },
                HandshakeError::InvalidKey,
                400,
            ),
            (
                // 15 bytes.
                HandshakeRequest {
                    key: Some(b"dGhlIHNhbXBsZSBub25j"),
                    ..sample()
                },
                HandshakeError::InvalidKey,
                400,
            ),
            (
                // 17 bytes.
                HandshakeRequest {
                    key: Some(b"dGhlIHNhbXBsZSBub25jZQ8A"),
                    ..sample()
                },
                HandshakeError::InvalidKey,
                400,
            ),
            (
                HandshakeRequest {
                    key: Some(b"dGhlIHNhbXBsZSBub25jZQ=!"),
                    ..sample()
                },
                HandshakeError::InvalidKey,
                400,
            ),
        ];
        for (request, error, status) in cases {
            assert_eq!(validate(request), Err(*error), "{request:?}");
            assert_eq!(error.status().code(), *status);
        }
    }

    /// RFC 6455 §4.2.2, item 5.4: the server's first preference that the client offered.
    #[test]
    fn subprotocols() {
        let supported = ["mqtt", "chat.v2", "chat"];
        let offered: Option<&[u8]> = Some(b"chat, chat.v2");
        assert_eq!(select_subprotocol(offered, &supported), Some("chat.v2"));
        assert_eq!(select_subprotocol(Some(b"chat"), &supported), Some("chat"));
        assert_eq!(select_subprotocol(Some(b"soap, wamp"), &supported), None);
        assert_eq!(select_subprotocol(Some(b"CHAT"), &supported), None);
        assert_eq!(select_subprotocol(None, &supported), None);
        assert_eq!(select_subprotocol(offered, &[]), None);
    }
}
