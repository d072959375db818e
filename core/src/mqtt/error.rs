//! Why a peer's bytes were refused, and what the broker answers before it closes.

/// A CONNACK return code (MQTT 3.1.1 §3.2.2.3, table 3.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectReturnCode {
    /// 0x00: connection accepted.
    Accepted,
    /// 0x01: the server does not support the protocol level the client asked for.
    UnacceptableProtocolVersion,
    /// 0x02: the client identifier is correct UTF-8 but not allowed by the server.
    IdentifierRejected,
    /// 0x03: the network connection was made but the MQTT service is unavailable.
    ServerUnavailable,
    /// 0x04: the data in the user name or password is malformed (or wrong).
    BadUserNameOrPassword,
    /// 0x05: the client is not authorized to connect.
    NotAuthorized,
}

impl ConnectReturnCode {
    /// The code of the byte `byte`, or `None` for the reserved values 6–255.
    pub const fn from_byte(byte: u8) -> Option<ConnectReturnCode> {
        use ConnectReturnCode::*;
        Some(match byte {
            0 => Accepted,
            1 => UnacceptableProtocolVersion,
            2 => IdentifierRejected,
            3 => ServerUnavailable,
            4 => BadUserNameOrPassword,
            5 => NotAuthorized,
            _ => return None,
        })
    }

    /// The byte on the wire.
    pub const fn byte(self) -> u8 {
        self as u8
    }
}

/// Everything that makes a packet unacceptable. Nearly all of them are protocol violations
/// after which the receiver closes the network connection at once (`[MQTT-4.8.0-1]`); two are
/// refusals of a well-formed CONNECT that a server answers with a CONNACK first
/// ([`DecodeError::connack`]). After any of them the connection is over: what follows cannot be
/// trusted to be framed as the peer meant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// Packet type 0 or 15, both reserved (§2.2.1).
    ReservedPacketType,
    /// Fixed-header flags other than those its type prescribes: 0b0010 for PUBREL, SUBSCRIBE
    /// and UNSUBSCRIBE, 0 for the others but PUBLISH (`[MQTT-2.2.2-1]`, `[MQTT-2.2.2-2]`,
    /// `[MQTT-3.6.1-1]`, `[MQTT-3.8.1-1]`, `[MQTT-3.10.1-1]`).
    InvalidFlags,
    /// A PUBLISH with both QoS bits set (`[MQTT-3.3.1-4]`).
    PublishQosThree,
    /// A PUBLISH with DUP set and QoS 0 (`[MQTT-3.3.1-2]`: DUP MUST be 0 for QoS 0). zzz
    /// refuses it rather than ignore a flag whose sender broke a MUST.
    DupWithQosZero,
    /// A Remaining Length whose fourth byte has its continuation bit set: more than the
    /// maximum of 268,435,455 (§2.2.3).
    RemainingLengthTooLong,
    /// A Remaining Length not in the fewest bytes (`0x80 0x00` for 0). MQTT 3.1.1 only shows
    /// the minimal form; 5.0 makes it a MUST (`[MQTT-1.5.5-1]`). Two readers that disagree on
    /// framing are a smuggling risk and no conforming client sends it, so zzz refuses it.
    NonMinimalLength,
    /// A Remaining Length over the reader's configured `max_packet`; refused from the fixed
    /// header, before any of the body is read.
    PacketTooBig,
    /// A field runs past the end of the packet (the Remaining Length is too short for it).
    Truncated,
    /// Bytes left after the last field of a packet whose body has a fixed layout.
    TrailingBytes,
    /// A string that is not well-formed UTF-8, surrogates included (`[MQTT-1.5.3-1]`).
    InvalidUtf8,
    /// A string containing U+0000 (`[MQTT-1.5.3-2]`).
    NullCharacter,
    /// A CONNECT whose protocol name is not "MQTT" (`[MQTT-3.1.2-1]`).
    ProtocolName,
    /// A CONNECT with a protocol level other than 4 (`[MQTT-3.1.2-2]`): answered with CONNACK
    /// 0x01, then closed. It is reported as soon as the level byte is read, since the rest of
    /// another version's CONNECT has another layout.
    UnacceptableProtocolVersion,
    /// A CONNECT with the reserved flag (bit 0) set (`[MQTT-3.1.2-3]`).
    ReservedConnectFlag,
    /// Will QoS or Will Retain set with the Will Flag clear (`[MQTT-3.1.2-13]`,
    /// `[MQTT-3.1.2-15]`).
    WillFlagsWithoutWill,
    /// A Will QoS of 3 (`[MQTT-3.1.2-14]`).
    WillQosThree,
    /// The Password Flag set with the User Name Flag clear (`[MQTT-3.1.2-22]`).
    PasswordWithoutUserName,
    /// A zero-length client identifier with Clean Session 0 (`[MQTT-3.1.3-8]`): answered with
    /// CONNACK 0x02, then closed. Reported only for a CONNECT otherwise well-formed.
    IdentifierRejected,
    /// A packet identifier of 0 (`[MQTT-2.3.1-1]`).
    ZeroPacketId,
    /// An empty topic name or topic filter (`[MQTT-4.7.3-1]`).
    EmptyTopic,
    /// A topic name (in a PUBLISH or a will) containing `+` or `#` (`[MQTT-3.3.2-2]`,
    /// `[MQTT-4.7.1-1]`).
    WildcardInTopicName,
    /// A topic filter with `#` not alone in the last level (`[MQTT-4.7.1-2]`) or `+` not alone
    /// in its level (`[MQTT-4.7.1-3]`).
    InvalidTopicFilter,
    /// A SUBSCRIBE or UNSUBSCRIBE without any topic filter (`[MQTT-3.8.3-3]`,
    /// `[MQTT-3.10.3-2]`), or a SUBACK without any return code.
    NoTopicFilters,
    /// A SUBSCRIBE's requested-QoS byte with reserved bits set or QoS 3 (`[MQTT-3-8.3-4]`).
    InvalidRequestedQos,
    /// A CONNACK whose acknowledge flags have reserved bits set (`[MQTT-3.2.2-1]`), or whose
    /// session-present flag is set with a non-zero return code (`[MQTT-3.2.2-4]`).
    InvalidConnackFlags,
    /// A CONNACK return code 6–255 (§3.2.2.3: reserved).
    ReservedConnackCode,
    /// A SUBACK return code other than 0x00, 0x01, 0x02 and 0x80 (`[MQTT-3.9.3-2]`).
    ReservedSubackCode,
}

impl DecodeError {
    /// The CONNACK a server sends before it closes, or `None` to close at once: only
    /// [`UnacceptableProtocolVersion`](DecodeError::UnacceptableProtocolVersion) (0x01) and
    /// [`IdentifierRejected`](DecodeError::IdentifierRejected) (0x02) are answered; every
    /// other error is a protocol violation, closed without an answer (`[MQTT-4.8.0-1]`).
    pub const fn connack(self) -> Option<ConnectReturnCode> {
        match self {
            DecodeError::UnacceptableProtocolVersion => {
                Some(ConnectReturnCode::UnacceptableProtocolVersion)
            }
            DecodeError::IdentifierRejected => Some(ConnectReturnCode::IdentifierRejected),
            _ => None,
        }
    }
}
