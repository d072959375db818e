//! Why a peer's bytes were refused, and the close code that says so.

use super::CloseCode;

/// Everything that makes the reader fail a WebSocket connection (RFC 6455 §7.1.7). Each
/// variant maps to the close code the endpoint sends before closing ([`Violation::close_code`]);
/// after any of them the connection is over, since the framing of what follows cannot be
/// trusted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Violation {
    /// RSV1, RSV2 or RSV3 set without an extension that defines it (RFC 6455 §5.2): 1002.
    ReservedBits,
    /// Opcode 0x3–0x7 or 0xB–0xF (RFC 6455 §5.2: "the receiving endpoint MUST _Fail the
    /// WebSocket Connection_"): 1002.
    ReservedOpcode,
    /// A client frame without MASK, read by a server (RFC 6455 §5.1: the server MUST close the
    /// connection), or a masked frame from a server, read by a client: 1002.
    WrongMasking,
    /// A control frame with FIN clear (RFC 6455 §5.5: control frames MUST NOT be fragmented):
    /// 1002.
    FragmentedControl,
    /// A control frame with more than 125 bytes of payload (RFC 6455 §5.5): 1002.
    ControlTooLong,
    /// A payload length not in the minimal number of bytes (RFC 6455 §5.2: "the minimal number
    /// of bytes MUST be used"). zzz is strict here, where many servers are lenient: two readers
    /// that disagree on a frame's encoding are a smuggling risk, and no conforming client sends
    /// it: 1002.
    NonMinimalLength,
    /// A 64-bit payload length with its most significant bit set (RFC 6455 §5.2): 1002.
    LengthHighBit,
    /// A continuation frame with no message begun (RFC 6455 §5.4): 1002.
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is in progress (RFC 6455 §5.4): 1002.
    MessageInProgress,
    /// A frame larger than the reader's `max_frame` (RFC 6455 §7.4.1): 1009.
    FrameTooBig,
    /// A message whose fragments together exceed the reader's `max_message`: 1009.
    MessageTooBig,
    /// A text message, or a close reason, that is not UTF-8 (RFC 6455 §8.1, §5.5.1): 1007.
    InvalidUtf8,
    /// A Close frame with a 1-byte payload (RFC 6455 §5.5.1: a body starts with a 2-byte code):
    /// 1002.
    CloseTooShort,
    /// A Close frame whose code may not be sent ([`CloseCode::is_allowed_on_wire`]): 1002.
    InvalidCloseCode,
}

impl Violation {
    /// The code to close the connection with (RFC 6455 §7.4.1).
    pub const fn close_code(self) -> CloseCode {
        use Violation::*;
        match self {
            FrameTooBig | MessageTooBig => CloseCode::TOO_BIG,
            InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            ReservedBits
            | ReservedOpcode
            | WrongMasking
            | FragmentedControl
            | ControlTooLong
            | NonMinimalLength
            | LengthHighBit
            | UnexpectedContinuation
            | MessageInProgress
            | CloseTooShort
            | InvalidCloseCode => CloseCode::PROTOCOL_ERROR,
        }
    }
}
