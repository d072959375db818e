//! The HTTP side of the opening handshake (RFC 6455 §4.2): a handler's one call that checks
//! the request, answers `101 Switching Protocols` and hands the connection to the WebSocket
//! module, or answers why not.

use crate::handler::{Ctx, Request, Response};
use crate::http::{Status, Version};

use super::handshake::{HandshakeError, HandshakeRequest, VERSION, validate};
use super::select_subprotocol;

/// How [`upgrade`] answers: which protocol of the app's set takes the connection, the
/// subprotocols the server speaks, and who may connect.
#[derive(Clone, Copy, Debug)]
pub struct UpgradeOptions<'a> {
    /// The WebSocket module's number in the app's set
    /// ([`Protocols::id_index`](crate::server::Protocols::id_index)).
    pub protocol: u8,
    /// The subprotocols the server speaks, in its order of preference; the first the client
    /// offered is answered in `Sec-WebSocket-Protocol` ([`select_subprotocol`]).
    pub subprotocols: &'a [&'a str],
    /// Checks the `Origin` field's value (RFC 6455 §10.2): `false` refuses with 403. A request
    /// without `Origin` (not from a browser) is given `b""`. `None`: every origin is accepted.
    pub origin: Option<fn(&[u8]) -> bool>,
}

impl UpgradeOptions<'_> {
    /// Upgrades to protocol number `protocol`, without subprotocols or an origin check.
    pub const fn to(protocol: u8) -> UpgradeOptions<'static> {
        UpgradeOptions {
            protocol,
            subprotocols: &[],
            origin: None,
        }
    }
}

/// The value of the field `name` if it appears exactly once; a value no check accepts if it
/// appears more than once (a repeated `Sec-WebSocket-Key` or `-Version` is an error).
fn single<'a>(req: &Request<'a>, name: &str) -> Option<&'a [u8]> {
    let mut values = req.http().header_all(name);
    let first = values.next()?;
    match values.next() {
        None => Some(first),
        Some(_) => Some(b","),
    }
}

/// The subprotocol to answer with: the server's first preference offered in any of the
/// request's `Sec-WebSocket-Protocol` fields (repeated fields are one list, RFC 9110 §5.3).
pub fn chosen_subprotocol<'s>(req: &Request<'_>, supported: &[&'s str]) -> Option<&'s str> {
    supported.iter().copied().find(|name| {
        req.http()
            .header_all("sec-websocket-protocol")
            .any(|offered| select_subprotocol(Some(offered), &[name]).is_some())
    })
}

/// Checks a WebSocket opening handshake and answers it: `101 Switching Protocols` with
/// `Upgrade: websocket`, `Sec-WebSocket-Accept` and the chosen `Sec-WebSocket-Protocol` (the
/// server adds `Connection: upgrade`), the connection then going to `options.protocol`; or the
/// refusal's status ([`HandshakeError::status`]): 400, 405 with `Allow: GET`, 426 with
/// `Sec-WebSocket-Version: 13`, or 403 when the origin check refuses. `Upgrade` and
/// `Connection` are read as lists over every field of their name.
pub fn upgrade<S>(
    ctx: &mut Ctx<'_, S>,
    req: &Request<'_>,
    options: &UpgradeOptions<'_>,
) -> Response {
    let http = req.http();
    let has = |name: &str, token: &'static str| {
        http.header_has_token(name, token)
            .then_some(token.as_bytes())
    };
    let handshake = HandshakeRequest {
        method: http.method_str().as_bytes(),
        version: match http.version() {
            Version::Http11 => b"HTTP/1.1",
            Version::Http10 => b"HTTP/1.0",
        },
        upgrade: has("upgrade", "websocket"),
        connection: has("connection", "upgrade"),
        ws_version: single(req, "sec-websocket-version"),
        key: single(req, "sec-websocket-key"),
    };
    let accept = match validate(&handshake) {
        Ok(accept) => accept,
        Err(error) => return refuse(ctx, error),
    };
    if let Some(check) = options.origin
        && !check(http.header("origin").unwrap_or(b""))
    {
        return ctx.text(Status::FORBIDDEN, "origin not allowed\n");
    }
    let subprotocol = chosen_subprotocol(req, options.subprotocols);
    ctx.switch_protocol(options.protocol);
    let reply = ctx
        .respond(Status::SWITCHING_PROTOCOLS)
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Accept", accept.as_str());
    match subprotocol {
        Some(name) => reply.header("Sec-WebSocket-Protocol", name).body(b""),
        None => reply.body(b""),
    }
}

/// The answer to a refused handshake, with the fields RFC 6455 §4.2.2 and RFC 9110 ask for.
fn refuse<S>(ctx: &mut Ctx<'_, S>, error: HandshakeError) -> Response {
    let status = error.status();
    let reply = ctx.respond(status).header("Content-Type", "text/plain");
    let reply = match error {
        HandshakeError::MethodNotGet => reply.header("Allow", "GET"),
        HandshakeError::UnsupportedVersion => reply
            .header_bytes("Sec-WebSocket-Version", VERSION)
            .header("Upgrade", "websocket"),
        HandshakeError::NotHttp11
        | HandshakeError::MissingUpgrade
        | HandshakeError::MissingConnectionUpgrade
        | HandshakeError::InvalidKey => reply,
    };
    reply.body(status.reason().as_bytes())
}
