//! Frame headers (RFC 6455 §5.2): what they hold, and a resumable parser that validates each
//! field as soon as it has arrived.
//!
//! ```text
//!  0               1               2               3
//!  F R R R opcode  M len7          extended length (0, 2 or 8 bytes), big-endian
//!  I S S S (4)     A (7)           ... then the masking key (0 or 4 bytes)
//!  N V V V         S
//!    1 2 3         K
//! ```
//!
//! The header is 2 to 14 bytes and may arrive split anywhere: [`HeaderParser`] keeps the bytes
//! it has seen (at most 14) between calls, so its caller never has to keep them.

use super::Violation;

/// The longest frame header: 2 bytes, a 64-bit length, a masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode (RFC 6455 §5.2). The reserved values 0x3–0x7 and 0xB–0xF have no variant:
/// the parser refuses them ([`Violation::ReservedOpcode`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Opcode {
    /// 0x0: the next fragment of a message.
    Continuation,
    /// 0x1: the first frame of a text message (UTF-8).
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: the closing handshake (RFC 6455 §5.5.1).
    Close,
    /// 0x9: a ping, answered by a pong with the same payload (RFC 6455 §5.5.2).
    Ping,
    /// 0xA: a pong (RFC 6455 §5.5.3).
    Pong,
}

impl Opcode {
    /// The opcode of the low four bits of `bits`, or `None` for a reserved one.
    pub const fn from_bits(bits: u8) -> Option<Opcode> {
        match bits & 0x0f {
            0x0 => Some(Opcode::Continuation),
            0x1 => Some(Opcode::Text),
            0x2 => Some(Opcode::Binary),
            0x8 => Some(Opcode::Close),
            0x9 => Some(Opcode::Ping),
            0xA => Some(Opcode::Pong),
            _ => None,
        }
    }

    /// The four bits on the wire.
    pub const fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Whether this is a control frame's opcode (RFC 6455 §5.5: the most significant opcode
    /// bit is set).
    pub const fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

/// Which end of the connection is reading, since the two differ in masking (RFC 6455 §5.1):
/// a server reads masked frames only, a client unmasked frames only.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// The reader is a server: the frames it reads come from a client and must be masked.
    Server,
    /// The reader is a client (a test harness, a proxy): frames must be unmasked.
    Client,
}

/// What the header parser accepts: the reader's role, the RSV bits that negotiated
/// extensions define, and the largest payload of one frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameRules {
    /// Which end reads, and so which masking is required.
    pub role: Role,
    /// The RSV bits (RSV1 = `0b100`, RSV2 = `0b010`, RSV3 = `0b001`) that an extension
    /// negotiated in the handshake gives a meaning to; any other set bit is a protocol error.
    /// Zero without extensions, which is all zzz negotiates today.
    pub allowed_rsv: u8,
    /// The largest payload of one frame; a larger one is refused with 1009 as soon as its
    /// length is known, before any of its payload is read.
    pub max_frame: u64,
}

/// A validated frame header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameHeader {
    /// FIN: the last frame of its message (always set on control frames).
    pub fin: bool,
    /// RSV1–RSV3 as three bits (RSV1 is `0b100`); only bits in [`FrameRules::allowed_rsv`].
    pub rsv: u8,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, present exactly on frames sent by a client.
    pub mask: Option<[u8; 4]>,
    /// The payload length: at most 125 for control frames, at most `max_frame`.
    pub payload_len: u64,
}

impl FrameHeader {
    /// The number of bytes this header takes on the wire, with the minimal length encoding.
    pub const fn encoded_len(&self) -> usize {
        let length = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        let mask = if self.mask.is_some() { 4 } else { 0 };
        2 + length + mask
    }
}

/// What one call of [`HeaderParser::parse`] found.
#[must_use = "a complete header starts a payload; a violation must close the connection"]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeaderStep {
    /// The header is whole: it took the first `consumed` bytes of this call's input; the
    /// payload starts right after them.
    Complete {
        /// The header.
        header: FrameHeader,
        /// How many bytes of this call's input it took (1 to 14).
        consumed: usize,
    },
    /// All of the input was taken and the header is not whole yet: feed the next bytes.
    Partial,
    /// The header breaks RFC 6455: fail the connection with the violation's close code.
    Invalid(Violation),
}

/// A resumable frame-header parser: feed it bytes in pieces of any size; it keeps at most
/// [`MAX_HEADER_LEN`] bytes between calls and validates each field as soon as it has arrived
/// (the opcode and RSV bits after one byte, the masking and control-frame rules after two).
/// After `Complete` it is ready for the next header; after `Invalid` it must not be used again.
#[derive(Clone, Debug)]
pub struct HeaderParser {
    bytes: [u8; MAX_HEADER_LEN],
    have: u8,
    /// The header's full length, known once its second byte has arrived (0 before).
    need: u8,
}

impl Default for HeaderParser {
    fn default() -> Self {
        HeaderParser::new()
    }
}

impl HeaderParser {
    /// A parser at the start of a header.
    pub const fn new() -> HeaderParser {
        HeaderParser {
            bytes: [0; MAX_HEADER_LEN],
            have: 0,
            need: 0,
        }
    }

    /// Whether some bytes of a header have been taken and the rest are awaited.
    pub const fn is_partial(&self) -> bool {
        self.have > 0
    }

    /// Takes header bytes from the front of `input`, never more than the header needs.
    pub fn parse(&mut self, input: &[u8], rules: &FrameRules) -> HeaderStep {
        for (i, &byte) in input.iter().enumerate() {
            assert!((self.have as usize) < MAX_HEADER_LEN);
            self.bytes[self.have as usize] = byte;
            self.have += 1;
            let checked = match self.have {
                1 => check_first(byte, rules),
                2 => self.check_second(byte, rules),
                _ => Ok(()),
            };
            if let Err(violation) = checked {
                return HeaderStep::Invalid(violation);
            }
            if self.have >= 2 && self.have == self.need {
                let header = self.finish(rules);
                *self = HeaderParser::new();
                return match header {
                    Ok(header) => HeaderStep::Complete {
                        header,
                        consumed: i + 1,
                    },
                    Err(violation) => HeaderStep::Invalid(violation),
                };
            }
        }
        HeaderStep::Partial
    }

    fn check_second(&mut self, byte: u8, rules: &FrameRules) -> Result<(), Violation> {
        let masked = byte & 0x80 != 0;
        if masked != (rules.role == Role::Server) {
            return Err(Violation::WrongMasking);
        }
        let len7 = byte & 0x7f;
        let control = self.bytes[0] & 0x08 != 0;
        if control && len7 as usize > MAX_CONTROL_PAYLOAD {
            return Err(Violation::ControlTooLong);
        }
        let length_bytes = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        self.need = 2 + length_bytes + if masked { 4 } else { 0 };
        Ok(())
    }

    /// The header from its complete bytes; the length rules that need the extended length.
    fn finish(&self, rules: &FrameRules) -> Result<FrameHeader, Violation> {
        assert!(self.have == self.need && self.have >= 2);
        let b = &self.bytes[..self.have as usize];
        let len7 = b[1] & 0x7f;
        let (payload_len, rest) = match len7 {
            126 => {
                let len = u16::from_be_bytes([b[2], b[3]]) as u64;
                if len < 126 {
                    return Err(Violation::NonMinimalLength);
                }
                (len, &b[4..])
            }
            127 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&b[2..10]);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(Violation::LengthHighBit);
                }
                if len <= 0xFFFF {
                    return Err(Violation::NonMinimalLength);
                }
                (len, &b[10..])
            }
            _ => (len7 as u64, &b[2..]),
        };
        if payload_len > rules.max_frame {
            return Err(Violation::FrameTooBig);
        }
        let mask = match rest {
            [k0, k1, k2, k3] => Some([*k0, *k1, *k2, *k3]),
            [] => None,
            _ => unreachable!("a header ends with a 4-byte key or nothing"),
        };
        let opcode = Opcode::from_bits(b[0]).expect("checked with the first byte");
        let header = FrameHeader {
            fin: b[0] & 0x80 != 0,
            rsv: (b[0] >> 4) & 0x07,
            opcode,
            mask,
            payload_len,
        };
        // The pair of the writer's minimal encoding: what was read is what would be written.
        debug_assert_eq!(header.encoded_len(), self.have as usize);
        Ok(header)
    }
}

/// The rules the first byte alone decides: RSV bits, opcode, control-frame FIN.
fn check_first(byte: u8, rules: &FrameRules) -> Result<(), Violation> {
    let rsv = (byte >> 4) & 0x07;
    if rsv & !rules.allowed_rsv != 0 {
        return Err(Violation::ReservedBits);
    }
    let opcode = Opcode::from_bits(byte).ok_or(Violation::ReservedOpcode)?;
    let fin = byte & 0x80 != 0;
    if opcode.is_control() && !fin {
        return Err(Violation::FragmentedControl);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: FrameRules = FrameRules {
        role: Role::Server,
        allowed_rsv: 0,
        max_frame: u64::MAX,
    };
    const CLIENT: FrameRules = FrameRules {
        role: Role::Client,
        ..SERVER
    };

    fn parse_whole(bytes: &[u8], rules: &FrameRules) -> HeaderStep {
        HeaderParser::new().parse(bytes, rules)
    }

    /// RFC 6455 §5.7: "A single-frame unmasked text message" (`0x81 0x05 "Hello"`), read by a
    /// client, and the masked one read by a server.
    #[test]
    fn rfc_examples() {
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let HeaderStep::Complete { header, consumed } = parse_whole(&unmasked, &CLIENT) else {
            panic!("incomplete");
        };
        assert_eq!(consumed, 2);
        assert_eq!(
            (header.fin, header.opcode, header.mask),
            (true, Opcode::Text, None)
        );
        assert_eq!(header.payload_len, 5);
        let masked = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let HeaderStep::Complete { header, consumed } = parse_whole(&masked, &SERVER) else {
            panic!("incomplete");
        };
        assert_eq!(consumed, 6);
        assert_eq!(header.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        // RFC 6455 §5.7: 256 bytes and 64 KiB binary messages in a single unmasked frame.
        let step = parse_whole(&[0x82, 0x7E, 0x01, 0x00], &CLIENT);
        assert!(
            matches!(step, HeaderStep::Complete { header, consumed: 4 } if header.payload_len == 256)
        );
        let step = parse_whole(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0], &CLIENT);
        assert!(
            matches!(step, HeaderStep::Complete { header, consumed: 10 } if header.payload_len == 65536)
        );
    }

    /// RFC 6455 §5.2: the header may be read in any number of pieces.
    #[test]
    fn split_one_byte_at_a_time() {
        let bytes = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4, 0xAA];
        let mut parser = HeaderParser::new();
        for &b in &bytes[..13] {
            assert_eq!(parser.parse(&[b], &SERVER), HeaderStep::Partial);
            assert!(parser.is_partial());
        }
        let step = parser.parse(&bytes[13..], &SERVER);
        let HeaderStep::Complete { header, consumed } = step else {
            panic!("{step:?}");
        };
        assert_eq!((consumed, header.payload_len), (1, 65536));
        assert_eq!(header.mask, Some([1, 2, 3, 4]));
        assert!(!parser.is_partial());
    }

    /// RFC 6455 §5.1–§5.2, §5.5: each header rule and the violation it maps to.
    #[test]
    fn violations() {
        let cases: &[(&[u8], FrameRules, Violation)] = &[
            (&[0xC1, 0x80], SERVER, Violation::ReservedBits),
            (&[0xA1], SERVER, Violation::ReservedBits),
            (&[0x91], SERVER, Violation::ReservedBits),
            (&[0x83], SERVER, Violation::ReservedOpcode),
            (&[0x87], SERVER, Violation::ReservedOpcode),
            (&[0x8B], SERVER, Violation::ReservedOpcode),
            (&[0x8F], SERVER, Violation::ReservedOpcode),
            (&[0x81, 0x05], SERVER, Violation::WrongMasking),
            (&[0x81, 0x85], CLIENT, Violation::WrongMasking),
            (&[0x09, 0x80], SERVER, Violation::FragmentedControl),
            (&[0x89, 0xFE], SERVER, Violation::ControlTooLong),
            (&[0x88, 0xFF], SERVER, Violation::ControlTooLong),
            (
                &[0x82, 0x7E, 0x00, 0x7D],
                CLIENT,
                Violation::NonMinimalLength,
            ),
            (
                &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF],
                CLIENT,
                Violation::NonMinimalLength,
            ),
            (
                &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
                CLIENT,
                Violation::LengthHighBit,
            ),
        ];
        for (bytes, rules, violation) in cases {
            assert_eq!(
                parse_whole(bytes, rules),
                HeaderStep::Invalid(*violation),
                "{bytes:02x?}"
            );
            assert_eq!(violation.close_code().get(), 1002);
        }
        // The RSV bits an extension defines are allowed.
        let rules = FrameRules {
            allowed_rsv: 0b100,
            ..CLIENT
        };
        assert!(
            matches!(parse_whole(&[0xC1, 0x00], &rules), HeaderStep::Complete { header, .. } if header.rsv == 0b100)
        );
    }

    /// A frame over `max_frame` is refused from its header, with 1009 (RFC 6455 §7.4.1), and
    /// one exactly at it is accepted.
    #[test]
    fn max_frame() {
        let rules = FrameRules {
            max_frame: 126,
            ..CLIENT
        };
        assert!(matches!(
            parse_whole(&[0x82, 0x7E, 0x00, 0x7E], &rules),
            HeaderStep::Complete { .. }
        ));
        let step = parse_whole(&[0x82, 0x7E, 0x00, 0x7F], &rules);
        assert_eq!(step, HeaderStep::Invalid(Violation::FrameTooBig));
        assert_eq!(Violation::FrameTooBig.close_code().get(), 1009);
    }
}
