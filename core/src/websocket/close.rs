//! Close status codes (RFC 6455 §7.4) and which of them may travel in a Close frame.

/// A WebSocket close status code (RFC 6455 §7.4): the first two bytes of a Close frame's
/// payload, big-endian. Any `u16` can be held; [`CloseCode::is_allowed_on_wire`] says whether
/// an endpoint may send or accept it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled (RFC 6455 §7.4.1).
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutting down, page left).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol (framing, fragmentation, control frames, close codes).
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a kind of data the endpoint cannot accept (say, binary to a text-only endpoint).
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present. Never sent; zzz reports a Close frame without a code
    /// as `None` instead (RFC 6455 §7.4.1: "MUST NOT be set as a status code in a Close frame").
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1007: data inconsistent with the message type, such as a text message that is not UTF-8.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy (the generic refusal).
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: a frame or message too big to process (`max_frame`, `max_message`).
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: the server met an unexpected condition that kept it from fulfilling the request.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// The code as a number.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// Whether this code may appear in a Close frame (RFC 6455 §7.4.1, §7.4.2 and the IANA
    /// registry of §11.7): 1000–1003 and 1007–1014 (the defined and registered codes), and
    /// 3000–4999 (libraries, frameworks and applications). Not 0–999 (unused), 1004
    /// (reserved), 1005 and 1006 (MUST NOT be sent), 1015 (TLS failure, MUST NOT be sent), nor
    /// the unassigned rest of 1016–2999. A received Close frame with any other code is a
    /// protocol error (1002), as the Autobahn suite's section 7.9 expects.
    pub const fn is_allowed_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §7.4.1–§7.4.2: the codes an endpoint may put in a Close frame.
    #[test]
    fn allowed_codes() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert!(CloseCode(code).is_allowed_on_wire(), "{code}");
        }
        for code in [3000, 3999, 4000, 4999] {
            assert!(CloseCode(code).is_allowed_on_wire(), "{code}");
        }
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!CloseCode(code).is_allowed_on_wire(), "{code}");
        }
    }
}
