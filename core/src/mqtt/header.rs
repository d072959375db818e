//! The fixed header (MQTT 3.1.1 §2.2): the packet type, its flags and the Remaining Length,
//! and a resumable decoder for it.
//!
//! ```text
//!  byte 1              bytes 2..=5
//!  type (4) flags (4)  Remaining Length: 7 bits a byte, least significant first,
//!                      bit 7 set on every byte but the last (at most 4 bytes)
//! ```

use super::DecodeError;

/// The most a Remaining Length can say: four bytes of seven bits (§2.2.3).
pub const MAX_REMAINING_LEN: u32 = 268_435_455;

/// The longest fixed header: one byte of type and flags, four of length.
pub const MAX_FIXED_HEADER_LEN: usize = 5;

/// A control packet's type (§2.2.1). The reserved values 0 and 15 have no variant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PacketType {
    /// 1: a client's request to connect.
    Connect = 1,
    /// 2: the server's answer to CONNECT.
    Connack,
    /// 3: an application message, either way.
    Publish,
    /// 4: the acknowledgement of a QoS 1 PUBLISH.
    Puback,
    /// 5: the first acknowledgement of a QoS 2 PUBLISH.
    Pubrec,
    /// 6: the answer to PUBREC.
    Pubrel,
    /// 7: the answer to PUBREL, the end of a QoS 2 exchange.
    Pubcomp,
    /// 8: a client's subscriptions.
    Subscribe,
    /// 9: the server's answer to SUBSCRIBE.
    Suback,
    /// 10: a client's unsubscriptions.
    Unsubscribe,
    /// 11: the server's answer to UNSUBSCRIBE.
    Unsuback,
    /// 12: a client's keep-alive ping.
    Pingreq,
    /// 13: the server's answer to PINGREQ.
    Pingresp,
    /// 14: a client's clean disconnection.
    Disconnect,
}

impl PacketType {
    /// The type of the high four bits of `byte`, or `None` for a reserved one (0, 15).
    pub const fn from_first_byte(byte: u8) -> Option<PacketType> {
        use PacketType::*;
        Some(match byte >> 4 {
            1 => Connect,
            2 => Connack,
            3 => Publish,
            4 => Puback,
            5 => Pubrec,
            6 => Pubrel,
            7 => Pubcomp,
            8 => Subscribe,
            9 => Suback,
            10 => Unsubscribe,
            11 => Unsuback,
            12 => Pingreq,
            13 => Pingresp,
            14 => Disconnect,
            _ => return None,
        })
    }

    /// The four bits on the wire (1 to 14).
    pub const fn bits(self) -> u8 {
        self as u8
    }

    /// The flags every packet of this type carries, or `None` for PUBLISH, whose flags are
    /// DUP, QoS and RETAIN (§2.2.2, table 2.2).
    pub const fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

/// A quality of service (§4.3). The value 3 has no variant: it is malformed wherever it
/// appears.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QoS {
    /// 0: at most once.
    AtMostOnce = 0,
    /// 1: at least once.
    AtLeastOnce = 1,
    /// 2: exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS of the value `bits` (0 to 2), or `None` for 3 and above.
    pub const fn from_bits(bits: u8) -> Option<QoS> {
        match bits {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The value on the wire (0 to 2).
    pub const fn bits(self) -> u8 {
        self as u8
    }
}

/// A validated fixed header: the type's flags are those it allows, and the Remaining Length
/// is within the decoder's `max_packet`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FixedHeader {
    /// The packet's type.
    pub packet_type: PacketType,
    /// The low four bits of the first byte: DUP (0b1000), QoS (0b0110) and RETAIN (0b0001)
    /// for PUBLISH (QoS 3 refused); the type's required flags for every other type.
    pub flags: u8,
    /// The number of bytes after the fixed header: the variable header and the payload.
    pub remaining_len: u32,
}

impl FixedHeader {
    /// The number of bytes this header takes on the wire (2 to 5).
    pub const fn encoded_len(&self) -> usize {
        1 + length_len(self.remaining_len)
    }

    /// The whole packet's length: this header and its remaining bytes.
    pub const fn packet_len(&self) -> usize {
        self.encoded_len() + self.remaining_len as usize
    }
}

/// The bytes the Remaining Length `len` takes in its minimal encoding (1 to 4).
pub const fn length_len(len: u32) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// What one call of [`HeaderDecoder::decode`] found.
#[must_use = "a complete header starts a packet's body; an error must close the connection"]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeaderStep {
    /// The header is whole: it took the first `consumed` bytes of this call's input; the
    /// body (`header.remaining_len` bytes) starts right after them.
    Complete {
        /// The header.
        header: FixedHeader,
        /// How many bytes of this call's input it took (1 to 5).
        consumed: usize,
    },
    /// All of the input was taken and the header is not whole yet: feed the next bytes.
    Partial,
    /// The header breaks MQTT 3.1.1 or the size limit: close the connection.
    Invalid(DecodeError),
}

/// A resumable fixed-header decoder: feed it bytes in pieces of any size; it keeps the few
/// bytes of state a header needs between calls and validates the type and flags as soon as the
/// first byte arrives, the length as soon as its last byte does. After `Complete` it is ready
/// for the next header; after `Invalid` it must not be used again.
#[derive(Clone, Debug)]
pub struct HeaderDecoder {
    max_packet: u32,
    first: u8,
    /// Bytes of the header taken so far (0 to 4; a fifth completes or fails it).
    have: u8,
    length: u32,
}

impl HeaderDecoder {
    /// A decoder at the start of a header that refuses a Remaining Length over `max_packet`
    /// ([`DecodeError::PacketTooBig`]); `max_packet` at or over [`MAX_REMAINING_LEN`] refuses
    /// nothing the encoding can say.
    pub const fn new(max_packet: u32) -> HeaderDecoder {
        HeaderDecoder {
            max_packet,
            first: 0,
            have: 0,
            length: 0,
        }
    }

    /// Whether some bytes of a header have been taken and the rest are awaited.
    pub const fn is_partial(&self) -> bool {
        self.have > 0
    }

    /// The configured limit on the Remaining Length.
    pub const fn max_packet(&self) -> u32 {
        self.max_packet
    }

    /// Takes header bytes from the front of `input`, never more than the header needs.
    pub fn decode(&mut self, input: &[u8]) -> HeaderStep {
        // Bounded: at most one iteration per byte of `input`, and at most 5 before a return.
        for (i, &byte) in input.iter().enumerate() {
            assert!((self.have as usize) < MAX_FIXED_HEADER_LEN);
            if self.have == 0 {
                if let Err(error) = check_first(byte) {
                    return HeaderStep::Invalid(error);
                }
                self.first = byte;
                self.have = 1;
                continue;
            }
            let index = self.have - 1; // 0 to 3: which length byte this is
            self.length |= ((byte & 0x7f) as u32) << (7 * index);
            self.have += 1;
            if byte & 0x80 != 0 {
                if index == 3 {
                    return HeaderStep::Invalid(DecodeError::RemainingLengthTooLong);
                }
                continue;
            }
            if index > 0 && byte == 0 {
                return HeaderStep::Invalid(DecodeError::NonMinimalLength);
            }
            if self.length > self.max_packet {
                return HeaderStep::Invalid(DecodeError::PacketTooBig);
            }
            let header = FixedHeader {
                packet_type: PacketType::from_first_byte(self.first).expect("checked"),
                flags: self.first & 0x0f,
                remaining_len: self.length,
            };
            // The pair of the writer's minimal encoding: what was read is what would be written.
            debug_assert_eq!(header.encoded_len(), self.have as usize);
            *self = HeaderDecoder::new(self.max_packet);
            return HeaderStep::Complete {
                header,
                consumed: i + 1,
            };
        }
        HeaderStep::Partial
    }
}

/// The rules the first byte alone decides: the type, and the flags it allows.
fn check_first(byte: u8) -> Result<(), DecodeError> {
    let packet_type = PacketType::from_first_byte(byte).ok_or(DecodeError::ReservedPacketType)?;
    let flags = byte & 0x0f;
    match packet_type.required_flags() {
        Some(required) if flags != required => Err(DecodeError::InvalidFlags),
        Some(_) => Ok(()),
        None => {
            let qos = QoS::from_bits((flags >> 1) & 0b11).ok_or(DecodeError::PublishQosThree)?;
            if flags & 0b1000 != 0 && qos == QoS::AtMostOnce {
                return Err(DecodeError::DupWithQosZero);
            }
            Ok(())
        }
    }
}
