//! The WebSocket wire layer (RFC 6455): the opening handshake's checks, frames, and the
//! message state machine, on caller-provided buffers. Nothing here performs I/O or allocates;
//! a protocol module entered by HTTP `Upgrade` drives it (ARCHITECTURE.md §5.1 WebSocket).
//!
//! From the outside in:
//!
//! - [`handshake`]: [`validate`] checks a client's opening handshake and gives the
//!   `Sec-WebSocket-Accept` value ([`AcceptKey`]) or a [`HandshakeError`] with the status to
//!   answer; [`select_subprotocol`] picks a subprotocol.
//! - [`MessageReader`] is one connection's state machine: bytes in, one [`Event`] out per
//!   call (a piece of a data message, a ping, a pong, a close, a failure, or a request for
//!   more). It enforces fragmentation, `max_frame` and `max_message`, validates text as UTF-8
//!   across pieces and fragments, keeps control payloads whole, and tracks the closing
//!   handshake ([`CloseState`]). Every refusal is a [`Violation`] with its [`CloseCode`].
//! - Beneath it, [`HeaderParser`] reads frame headers resumably ([`FrameHeader`],
//!   [`Opcode`], the [`Role`] that decides masking), [`apply_mask`] unmasks a payload piece by
//!   piece, and [`Utf8Validator`] checks UTF-8 across pieces.
//! - [`write_frame`], [`write_header`] and [`write_close`] write a server's frames into a
//!   buffer, with the minimal length encoding.
//!
//! And the server's side of it:
//!
//! - [`upgrade`] answers an HTTP handler's opening handshake with `101` and hands the
//!   connection to the WebSocket module (or answers 400, 403, 405, 426);
//! - [`WebSocket`] is that protocol module: it hosts a [`WsHandler`], hands it each piece of
//!   a message as it arrives ([`MessagePiece`]), answers pings, runs the closing handshake,
//!   the idle and ping timeouts and the graceful shutdown ([`WsLimits`]).

mod close;
mod frame;
pub mod handshake;
mod mask;
mod message;
mod module;
#[cfg(test)]
mod module_tests;
mod upgrade;
mod utf8;
mod violation;
mod write;

#[cfg(test)]
mod tests;

pub use close::CloseCode;
pub use frame::{
    FrameHeader, FrameRules, HeaderParser, HeaderStep, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode,
    Role,
};
pub use handshake::{
    AcceptKey, HandshakeError, HandshakeRequest, accept_key, select_subprotocol, validate,
};
pub use mask::apply_mask;
pub use message::{CloseState, DataKind, Event, MessageReader, ReaderConfig, Step};
pub use module::{MessagePiece, SendError, Take, WebSocket, WsConn, WsCtx, WsHandler, WsLimits};
pub use upgrade::{UpgradeOptions, chosen_subprotocol, upgrade};
pub use utf8::{InvalidUtf8, Utf8Validator};
pub use violation::Violation;
pub use write::{MAX_CLOSE_REASON, WriteError, write_close, write_frame, write_header};
