//! Control packets (MQTT 3.1.1 §3), decoded from a whole packet's bytes. Decoding borrows:
//! every string and payload is a slice of the input, validated once, so reading it later
//! checks nothing again and copies nothing.

use core::num::NonZeroU16;

use super::topic::{check_topic_filter, check_topic_name};
use super::{
    ConnectReturnCode, DecodeError, FixedHeader, HeaderDecoder, HeaderStep, PacketType, QoS,
};

/// A packet identifier: never 0 (`[MQTT-2.3.1-1]`).
pub type PacketId = NonZeroU16;

/// The protocol level of MQTT 3.1.1 (`[MQTT-3.1.2-2]`).
pub const PROTOCOL_LEVEL: u8 = 4;

/// A PUBLISH's quality of service with the packet identifier that QoS 1 and 2 carry and QoS 0
/// does not (`[MQTT-2.3.1-5]`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Delivery {
    /// QoS 0: no identifier, no acknowledgement.
    AtMostOnce,
    /// QoS 1, acknowledged by PUBACK with this identifier.
    AtLeastOnce(PacketId),
    /// QoS 2, acknowledged by PUBREC, PUBREL, PUBCOMP with this identifier.
    ExactlyOnce(PacketId),
}

impl Delivery {
    /// The quality of service.
    pub const fn qos(self) -> QoS {
        match self {
            Delivery::AtMostOnce => QoS::AtMostOnce,
            Delivery::AtLeastOnce(_) => QoS::AtLeastOnce,
            Delivery::ExactlyOnce(_) => QoS::ExactlyOnce,
        }
    }

    /// The packet identifier, for QoS 1 and 2.
    pub const fn packet_id(self) -> Option<PacketId> {
        match self {
            Delivery::AtMostOnce => None,
            Delivery::AtLeastOnce(id) | Delivery::ExactlyOnce(id) => Some(id),
        }
    }
}

/// A client's will (§3.1.2.5, §3.1.3.2–3): the message the server publishes if the
/// connection ends without a DISCONNECT.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Will<'a> {
    /// The topic name to publish to: non-empty, without wildcards.
    pub topic: &'a str,
    /// The message: any bytes, at most 65,535 of them.
    pub message: &'a [u8],
    /// The QoS to publish it with.
    pub qos: QoS,
    /// Whether to publish it retained.
    pub retain: bool,
}

/// A CONNECT (§3.1) of protocol "MQTT" level 4, validated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Connect<'a> {
    /// Clean Session: start afresh and discard the session when the connection ends.
    pub clean_session: bool,
    /// The keep-alive in seconds; 0 turns it off (§3.1.2.10).
    pub keep_alive: u16,
    /// The client identifier: UTF-8, empty only with `clean_session` (`[MQTT-3.1.3-7]`).
    pub client_id: &'a str,
    /// The will, if the Will Flag is set.
    pub will: Option<Will<'a>>,
    /// The user name, if its flag is set.
    pub username: Option<&'a str>,
    /// The password (binary data), if its flag is set; only with a user name.
    pub password: Option<&'a [u8]>,
}

/// A CONNACK (§3.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Connack {
    /// Whether the server holds a session for the client; only with `Accepted`
    /// (`[MQTT-3.2.2-4]`).
    pub session_present: bool,
    /// The verdict.
    pub code: ConnectReturnCode,
}

/// A PUBLISH (§3.3): an application message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Publish<'a> {
    /// DUP: a redelivery of an earlier attempt; never with QoS 0 (`[MQTT-3.3.1-2]`).
    pub dup: bool,
    /// The QoS and, for QoS 1 and 2, the packet identifier.
    pub delivery: Delivery,
    /// RETAIN (§3.3.1.3).
    pub retain: bool,
    /// The topic name: non-empty, without wildcards.
    pub topic: &'a str,
    /// The payload: the rest of the packet, any bytes, possibly none.
    pub payload: &'a [u8],
}

/// The topic filters of a SUBSCRIBE with their requested QoS, validated, read lazily: an
/// iterator over the packet's bytes that yields `(filter, qos)` pairs and allocates nothing.
/// Two are equal when they hold the same pairs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SubscribeFilters<'a> {
    /// The pairs not yet read; every one of them already validated.
    rest: &'a [u8],
}

impl<'a> SubscribeFilters<'a> {
    /// The bytes of the pairs not yet read, as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for SubscribeFilters<'a> {
    type Item = (&'a str, QoS);

    fn next(&mut self) -> Option<(&'a str, QoS)> {
        if self.rest.is_empty() {
            return None;
        }
        let mut reader = Reader { rest: self.rest };
        let pair = reader.subscription();
        self.rest = reader.rest;
        Some(pair.expect("validated when the packet was decoded"))
    }
}

/// The topic filters of an UNSUBSCRIBE, validated, read lazily like [`SubscribeFilters`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnsubscribeFilters<'a> {
    rest: &'a [u8],
}

impl<'a> UnsubscribeFilters<'a> {
    /// The bytes of the filters not yet read, as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for UnsubscribeFilters<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let mut reader = Reader { rest: self.rest };
        let filter = reader.filter();
        self.rest = reader.rest;
        Some(filter.expect("validated when the packet was decoded"))
    }
}

/// A SUBSCRIBE (§3.8).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Subscribe<'a> {
    /// The packet identifier the SUBACK answers with.
    pub packet_id: PacketId,
    /// At least one `(filter, requested QoS)` pair.
    pub filters: SubscribeFilters<'a>,
}

/// An UNSUBSCRIBE (§3.10).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Unsubscribe<'a> {
    /// The packet identifier the UNSUBACK answers with.
    pub packet_id: PacketId,
    /// At least one filter.
    pub filters: UnsubscribeFilters<'a>,
}

/// One return code of a SUBACK (§3.9.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubackCode {
    /// 0x00–0x02: the subscription was accepted with this maximum QoS.
    Granted(QoS),
    /// 0x80: the subscription was refused.
    Failure,
}

impl SubackCode {
    /// The code of `byte`, or `None` for the reserved values (`[MQTT-3.9.3-2]`).
    pub const fn from_byte(byte: u8) -> Option<SubackCode> {
        match byte {
            0x80 => Some(SubackCode::Failure),
            _ => match QoS::from_bits(byte) {
                Some(qos) => Some(SubackCode::Granted(qos)),
                None => None,
            },
        }
    }

    /// The byte on the wire.
    pub const fn byte(self) -> u8 {
        match self {
            SubackCode::Granted(qos) => qos.bits(),
            SubackCode::Failure => 0x80,
        }
    }
}

/// A SUBACK (§3.9).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Suback<'a> {
    /// The identifier of the SUBSCRIBE it answers.
    pub packet_id: PacketId,
    /// One validated return code a byte, in the SUBSCRIBE's order; at least one.
    codes: &'a [u8],
}

impl<'a> Suback<'a> {
    /// The return codes, in the order of the SUBSCRIBE's filters.
    pub fn codes(&self) -> impl Iterator<Item = SubackCode> + Clone + 'a {
        self.codes
            .iter()
            .map(|&b| SubackCode::from_byte(b).expect("validated when the packet was decoded"))
    }

    /// The return codes as on the wire.
    pub const fn code_bytes(&self) -> &'a [u8] {
        self.codes
    }
}

/// A decoded control packet, borrowing from the bytes it was decoded from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Packet<'a> {
    /// A client's request to connect.
    Connect(Connect<'a>),
    /// The server's answer to CONNECT.
    Connack(Connack),
    /// An application message.
    Publish(Publish<'a>),
    /// QoS 1 acknowledgement.
    Puback(PacketId),
    /// QoS 2, first acknowledgement.
    Pubrec(PacketId),
    /// QoS 2, release.
    Pubrel(PacketId),
    /// QoS 2, completion.
    Pubcomp(PacketId),
    /// A client's subscriptions.
    Subscribe(Subscribe<'a>),
    /// The server's answer to SUBSCRIBE.
    Suback(Suback<'a>),
    /// A client's unsubscriptions.
    Unsubscribe(Unsubscribe<'a>),
    /// The server's answer to UNSUBSCRIBE.
    Unsuback(PacketId),
    /// A client's ping.
    Pingreq,
    /// The server's answer to PINGREQ.
    Pingresp,
    /// A client's clean disconnection.
    Disconnect,
}

impl Packet<'_> {
    /// The packet's type.
    pub const fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::Connack(_) => PacketType::Connack,
            Packet::Publish(_) => PacketType::Publish,
            Packet::Puback(_) => PacketType::Puback,
            Packet::Pubrec(_) => PacketType::Pubrec,
            Packet::Pubrel(_) => PacketType::Pubrel,
            Packet::Pubcomp(_) => PacketType::Pubcomp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::Suback(_) => PacketType::Suback,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::Unsuback(_) => PacketType::Unsuback,
            Packet::Pingreq => PacketType::Pingreq,
            Packet::Pingresp => PacketType::Pingresp,
            Packet::Disconnect => PacketType::Disconnect,
        }
    }
}

/// Decodes the body of a packet whose fixed header is `header`: `body` must be exactly its
/// `remaining_len` bytes (asserted). Every field is validated here, so nothing read from the
/// packet afterwards fails.
pub fn decode_packet<'a>(header: &FixedHeader, body: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
    assert_eq!(
        body.len(),
        header.remaining_len as usize,
        "the body is the remaining bytes"
    );
    let mut r = Reader { rest: body };
    let packet = match header.packet_type {
        PacketType::Connect => Packet::Connect(connect(&mut r)?),
        PacketType::Connack => Packet::Connack(connack(&mut r)?),
        PacketType::Publish => return publish(header.flags, r).map(Packet::Publish),
        PacketType::Puback => Packet::Puback(r.packet_id()?),
        PacketType::Pubrec => Packet::Pubrec(r.packet_id()?),
        PacketType::Pubrel => Packet::Pubrel(r.packet_id()?),
        PacketType::Pubcomp => Packet::Pubcomp(r.packet_id()?),
        PacketType::Subscribe => {
            let packet_id = r.packet_id()?;
            let filters = SubscribeFilters { rest: r.rest };
            r.all(|r| r.subscription().map(drop))?;
            Packet::Subscribe(Subscribe { packet_id, filters })
        }
        PacketType::Suback => {
            let packet_id = r.packet_id()?;
            let codes = r.rest;
            r.all(|r| {
                let byte = r.byte()?;
                SubackCode::from_byte(byte).ok_or(DecodeError::ReservedSubackCode)?;
                Ok(())
            })?;
            Packet::Suback(Suback { packet_id, codes })
        }
        PacketType::Unsubscribe => {
            let packet_id = r.packet_id()?;
            let filters = UnsubscribeFilters { rest: r.rest };
            r.all(|r| r.filter().map(drop))?;
            Packet::Unsubscribe(Unsubscribe { packet_id, filters })
        }
        PacketType::Unsuback => Packet::Unsuback(r.packet_id()?),
        PacketType::Pingreq => Packet::Pingreq,
        PacketType::Pingresp => Packet::Pingresp,
        PacketType::Disconnect => Packet::Disconnect,
    };
    if !r.rest.is_empty() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(packet)
}

/// Decodes one whole packet from the front of `input`, for a caller that holds its bytes in
/// one buffer: `Ok(Some((packet, len)))` with the packet's length on the wire, `Ok(None)` if
/// `input` does not hold a whole packet yet, or the error. A Remaining Length over `max_packet`
/// is refused from the fixed header. The same as feeding the bytes to a [`HeaderDecoder`] in
/// pieces and calling [`decode_packet`] on the body.
pub fn read_packet(
    input: &[u8],
    max_packet: u32,
) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    let (header, at) = match HeaderDecoder::new(max_packet).decode(input) {
        HeaderStep::Complete { header, consumed } => (header, consumed),
        HeaderStep::Partial => return Ok(None),
        HeaderStep::Invalid(error) => return Err(error),
    };
    let Some(body) = input.get(at..at + header.remaining_len as usize) else {
        return Ok(None);
    };
    let packet = decode_packet(&header, body)?;
    Ok(Some((packet, header.packet_len())))
}

fn connect<'a>(r: &mut Reader<'a>) -> Result<Connect<'a>, DecodeError> {
    if r.string()? != "MQTT" {
        return Err(DecodeError::ProtocolName);
    }
    if r.byte()? != PROTOCOL_LEVEL {
        return Err(DecodeError::UnacceptableProtocolVersion);
    }
    let flags = r.byte()?;
    if flags & 0x01 != 0 {
        return Err(DecodeError::ReservedConnectFlag);
    }
    let clean_session = flags & 0x02 != 0;
    let will_flag = flags & 0x04 != 0;
    let will_qos = (flags >> 3) & 0b11;
    let will_retain = flags & 0x20 != 0;
    let password_flag = flags & 0x40 != 0;
    let username_flag = flags & 0x80 != 0;
    if !will_flag && (will_qos != 0 || will_retain) {
        return Err(DecodeError::WillFlagsWithoutWill);
    }
    let will_qos = QoS::from_bits(will_qos).ok_or(DecodeError::WillQosThree)?;
    if password_flag && !username_flag {
        return Err(DecodeError::PasswordWithoutUserName);
    }
    let keep_alive = r.u16()?;
    let client_id = r.string()?;
    let will = match will_flag {
        true => {
            let topic = r.string()?;
            check_topic_name(topic)?;
            let message = r.binary()?;
            Some(Will {
                topic,
                message,
                qos: will_qos,
                retain: will_retain,
            })
        }
        false => None,
    };
    let username = if username_flag {
        Some(r.string()?)
    } else {
        None
    };
    let password = if password_flag {
        Some(r.binary()?)
    } else {
        None
    };
    if !r.rest.is_empty() {
        return Err(DecodeError::TrailingBytes);
    }
    // Last, so that a malformed CONNECT is closed without an answer ([MQTT-4.8.0-1]).
    if client_id.is_empty() && !clean_session {
        return Err(DecodeError::IdentifierRejected);
    }
    Ok(Connect {
        clean_session,
        keep_alive,
        client_id,
        will,
        username,
        password,
    })
}

fn connack(r: &mut Reader<'_>) -> Result<Connack, DecodeError> {
    let flags = r.byte()?;
    let code = r.byte()?;
    if flags & 0xfe != 0 {
        return Err(DecodeError::InvalidConnackFlags);
    }
    let code = ConnectReturnCode::from_byte(code).ok_or(DecodeError::ReservedConnackCode)?;
    let session_present = flags & 0x01 != 0;
    if session_present && code != ConnectReturnCode::Accepted {
        return Err(DecodeError::InvalidConnackFlags);
    }
    Ok(Connack {
        session_present,
        code,
    })
}

fn publish(flags: u8, mut r: Reader<'_>) -> Result<Publish<'_>, DecodeError> {
    let qos = QoS::from_bits((flags >> 1) & 0b11).expect("checked by the header decoder");
    let topic = r.string()?;
    check_topic_name(topic)?;
    let delivery = match qos {
        QoS::AtMostOnce => Delivery::AtMostOnce,
        QoS::AtLeastOnce => Delivery::AtLeastOnce(r.packet_id()?),
        QoS::ExactlyOnce => Delivery::ExactlyOnce(r.packet_id()?),
    };
    Ok(Publish {
        dup: flags & 0b1000 != 0,
        delivery,
        retain: flags & 0b0001 != 0,
        topic,
        payload: r.rest,
    })
}

/// Reads fields from the front of a packet's body.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        PacketId::new(self.u16()?).ok_or(DecodeError::ZeroPacketId)
    }

    /// Binary data (§1.5.3 for the framing): a big-endian u16 length and that many bytes.
    fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.take(len as usize)
    }

    /// A UTF-8 encoded string (§1.5.3): well-formed, without U+0000.
    fn string(&mut self) -> Result<&'a str, DecodeError> {
        let bytes = self.binary()?;
        let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
        if bytes.contains(&0) {
            return Err(DecodeError::NullCharacter);
        }
        Ok(s)
    }

    fn filter(&mut self) -> Result<&'a str, DecodeError> {
        let filter = self.string()?;
        check_topic_filter(filter)?;
        Ok(filter)
    }

    fn subscription(&mut self) -> Result<(&'a str, QoS), DecodeError> {
        let filter = self.filter()?;
        let byte = self.byte()?;
        if byte & 0xfc != 0 {
            return Err(DecodeError::InvalidRequestedQos);
        }
        let qos = QoS::from_bits(byte).ok_or(DecodeError::InvalidRequestedQos)?;
        Ok((filter, qos))
    }

    /// Reads items with `item` up to the end of the body: at least one.
    fn all(
        &mut self,
        mut item: impl FnMut(&mut Reader<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            return Err(DecodeError::NoTopicFilters);
        }
        // Bounded: every item takes at least one byte of the body, or fails.
        while !self.rest.is_empty() {
            item(self)?;
        }
        Ok(())
    }
}
