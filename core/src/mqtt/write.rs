//! Writing packets into a caller-provided buffer, with the minimal Remaining Length encoding.
//! A server writes CONNACK, PUBLISH (whole, or its head with the payload copied after),
//! the acknowledgements, SUBACK, UNSUBACK and PINGRESP; the client's packets (CONNECT,
//! SUBSCRIBE, UNSUBSCRIBE, PUBLISH, PINGREQ, DISCONNECT) are here too, for tests and the
//! simulator's clients. Every writer checks first and writes after: on an error nothing was
//! written.

use super::packet::{Connect, Delivery, Packet, PacketId, Publish, SubackCode};
use super::topic::{check_topic_filter, check_topic_name};
use super::{
    ConnectReturnCode, DecodeError, MAX_REMAINING_LEN, PROTOCOL_LEVEL, PacketType, QoS, length_len,
};

/// Why a packet was not written. Nothing was written when one is returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteError {
    /// The buffer holds fewer bytes than the packet needs.
    DoesNotFit {
        /// The bytes the packet (for [`write_publish_head`], its head) needs.
        needed: usize,
    },
    /// A string or binary field over 65,535 bytes, or a packet whose Remaining Length would be
    /// over [`MAX_REMAINING_LEN`].
    TooLong,
    /// The packet would be malformed: the error a reader would refuse it with (a wildcard in
    /// a topic name, a bad filter, no filters, a password without a user name, U+0000 in a
    /// string, a session-present flag with a refusal).
    Invalid(DecodeError),
}

impl From<DecodeError> for WriteError {
    fn from(error: DecodeError) -> WriteError {
        WriteError::Invalid(error)
    }
}

/// Writes `packet` whole, whatever its kind (a decoded one included), and returns its length.
pub fn write_packet(buf: &mut [u8], packet: &Packet<'_>) -> Result<usize, WriteError> {
    match packet {
        Packet::Connect(connect) => write_connect(buf, connect),
        Packet::Connack(connack) => write_connack(buf, connack.session_present, connack.code),
        Packet::Publish(publish) => write_publish(buf, publish),
        Packet::Puback(id) => write_ack(buf, PacketType::Puback, *id),
        Packet::Pubrec(id) => write_ack(buf, PacketType::Pubrec, *id),
        Packet::Pubrel(id) => write_ack(buf, PacketType::Pubrel, *id),
        Packet::Pubcomp(id) => write_ack(buf, PacketType::Pubcomp, *id),
        Packet::Subscribe(s) => write_subscribe(buf, s.packet_id, s.filters),
        Packet::Suback(s) => write_suback(buf, s.packet_id, s.codes()),
        Packet::Unsubscribe(u) => write_unsubscribe(buf, u.packet_id, u.filters),
        Packet::Unsuback(id) => write_ack(buf, PacketType::Unsuback, *id),
        Packet::Pingreq => write_empty(buf, PacketType::Pingreq),
        Packet::Pingresp => write_empty(buf, PacketType::Pingresp),
        Packet::Disconnect => write_empty(buf, PacketType::Disconnect),
    }
}

/// Writes a CONNACK (§3.2): 4 bytes. `session_present` only with `Accepted`
/// (`[MQTT-3.2.2-4]`).
pub fn write_connack(
    buf: &mut [u8],
    session_present: bool,
    code: ConnectReturnCode,
) -> Result<usize, WriteError> {
    if session_present && code != ConnectReturnCode::Accepted {
        return Err(WriteError::Invalid(DecodeError::InvalidConnackFlags));
    }
    let mut w = Writer::start(buf, PacketType::Connack.bits() << 4, 2)?;
    w.bytes(&[session_present as u8, code.byte()]);
    Ok(w.finish())
}

/// Writes a PUBLISH whole (§3.3) and returns its length.
pub fn write_publish(buf: &mut [u8], publish: &Publish<'_>) -> Result<usize, WriteError> {
    let payload = publish.payload;
    let head = publish_head_len(publish, payload.len())?;
    let needed = head + payload.len();
    if buf.len() < needed {
        return Err(WriteError::DoesNotFit { needed });
    }
    let at = write_publish_head(buf, publish, payload.len())?;
    debug_assert_eq!(at, head);
    buf[at..needed].copy_from_slice(payload);
    Ok(needed)
}

/// Writes a PUBLISH's fixed header, topic name and packet identifier, declaring a payload of
/// `payload_len` bytes, and returns the head's length: the caller copies the payload right
/// after it (from wherever it lies, in as many pieces as it likes). `publish.payload` is
/// neither read nor written.
pub fn write_publish_head(
    buf: &mut [u8],
    publish: &Publish<'_>,
    payload_len: usize,
) -> Result<usize, WriteError> {
    let head = publish_head_len(publish, payload_len)?;
    let remaining = head_remaining(publish) + payload_len;
    let flags =
        (publish.dup as u8) << 3 | publish.delivery.qos().bits() << 1 | publish.retain as u8;
    let mut w = Writer::start_with(
        buf,
        PacketType::Publish.bits() << 4 | flags,
        remaining,
        head,
    )?;
    w.string(publish.topic);
    if let Some(id) = publish.delivery.packet_id() {
        w.u16(id.get());
    }
    let written = w.at;
    debug_assert_eq!(written, head);
    Ok(written)
}

/// The length of a PUBLISH's head (fixed header, topic, packet identifier), after checking it.
fn publish_head_len(publish: &Publish<'_>, payload_len: usize) -> Result<usize, WriteError> {
    check_string(publish.topic)?;
    check_topic_name(publish.topic)?;
    if publish.dup && publish.delivery == Delivery::AtMostOnce {
        return Err(WriteError::Invalid(DecodeError::DupWithQosZero));
    }
    let remaining = head_remaining(publish)
        .checked_add(payload_len)
        .ok_or(WriteError::TooLong)?;
    let remaining = remaining_len(remaining)?;
    Ok(1 + length_len(remaining) + head_remaining(publish))
}

fn head_remaining(publish: &Publish<'_>) -> usize {
    2 + publish.topic.len()
        + if publish.delivery.packet_id().is_some() {
            2
        } else {
            0
        }
}

/// Writes a PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (4 bytes) for `id`; PUBREL gets
/// its required flags 0b0010. Any other type is refused as [`DecodeError::InvalidFlags`].
pub fn write_ack(
    buf: &mut [u8],
    packet_type: PacketType,
    id: PacketId,
) -> Result<usize, WriteError> {
    match packet_type {
        PacketType::Puback
        | PacketType::Pubrec
        | PacketType::Pubrel
        | PacketType::Pubcomp
        | PacketType::Unsuback => {}
        _ => return Err(WriteError::Invalid(DecodeError::InvalidFlags)),
    }
    let mut w = Writer::start(buf, first_byte(packet_type), 2)?;
    w.u16(id.get());
    Ok(w.finish())
}

/// Writes a SUBACK (§3.9) with one return code per filter of the SUBSCRIBE it answers, in
/// their order (`[MQTT-3.8.4-5]`); at least one.
pub fn write_suback(
    buf: &mut [u8],
    id: PacketId,
    codes: impl Iterator<Item = SubackCode> + Clone,
) -> Result<usize, WriteError> {
    let count = codes.clone().count();
    if count == 0 {
        return Err(WriteError::Invalid(DecodeError::NoTopicFilters));
    }
    let mut w = Writer::start(buf, first_byte(PacketType::Suback), 2 + count)?;
    w.u16(id.get());
    // Bounded: `count` codes, counted above.
    for code in codes {
        w.bytes(&[code.byte()]);
    }
    Ok(w.finish())
}

/// Writes an UNSUBACK (§3.11) for `id`: 4 bytes.
pub fn write_unsuback(buf: &mut [u8], id: PacketId) -> Result<usize, WriteError> {
    write_ack(buf, PacketType::Unsuback, id)
}

/// Writes a PINGRESP (§3.13): 2 bytes.
pub fn write_pingresp(buf: &mut [u8]) -> Result<usize, WriteError> {
    write_empty(buf, PacketType::Pingresp)
}

/// Writes a PINGREQ (§3.12): 2 bytes.
pub fn write_pingreq(buf: &mut [u8]) -> Result<usize, WriteError> {
    write_empty(buf, PacketType::Pingreq)
}

/// Writes a DISCONNECT (§3.14): 2 bytes.
pub fn write_disconnect(buf: &mut [u8]) -> Result<usize, WriteError> {
    write_empty(buf, PacketType::Disconnect)
}

fn write_empty(buf: &mut [u8], packet_type: PacketType) -> Result<usize, WriteError> {
    Ok(Writer::start(buf, first_byte(packet_type), 0)?.finish())
}

/// Writes a CONNECT (§3.1) for protocol "MQTT" level 4, as a client does.
pub fn write_connect(buf: &mut [u8], connect: &Connect<'_>) -> Result<usize, WriteError> {
    if connect.password.is_some() && connect.username.is_none() {
        return Err(WriteError::Invalid(DecodeError::PasswordWithoutUserName));
    }
    if connect.client_id.is_empty() && !connect.clean_session {
        return Err(WriteError::Invalid(DecodeError::IdentifierRejected));
    }
    let mut remaining = 6 + 1 + 1 + 2;
    remaining += field_len(check_string(connect.client_id)?);
    if let Some(will) = &connect.will {
        check_topic_name(will.topic)?;
        remaining += field_len(check_string(will.topic)?) + field_len(check_binary(will.message)?);
    }
    if let Some(username) = connect.username {
        remaining += field_len(check_string(username)?);
    }
    if let Some(password) = connect.password {
        remaining += field_len(check_binary(password)?);
    }
    let mut flags = (connect.clean_session as u8) << 1;
    if let Some(will) = &connect.will {
        flags |= 0x04 | will.qos.bits() << 3 | (will.retain as u8) << 5;
    }
    flags |= (connect.password.is_some() as u8) << 6 | (connect.username.is_some() as u8) << 7;
    let mut w = Writer::start(buf, first_byte(PacketType::Connect), remaining)?;
    w.string("MQTT");
    w.bytes(&[PROTOCOL_LEVEL, flags]);
    w.u16(connect.keep_alive);
    w.string(connect.client_id);
    if let Some(will) = &connect.will {
        w.string(will.topic);
        w.binary(will.message);
    }
    if let Some(username) = connect.username {
        w.string(username);
    }
    if let Some(password) = connect.password {
        w.binary(password);
    }
    Ok(w.finish())
}

/// Writes a SUBSCRIBE (§3.8) of the `(filter, requested QoS)` pairs, at least one, as a client
/// does. A decoded packet's [`SubscribeFilters`](super::SubscribeFilters) is such an iterator.
pub fn write_subscribe<'f>(
    buf: &mut [u8],
    id: PacketId,
    filters: impl Iterator<Item = (&'f str, QoS)> + Clone,
) -> Result<usize, WriteError> {
    let mut remaining = 2usize;
    // Bounded: one turn per pair the caller gives; each adds at least 3 bytes to a length
    // checked against MAX_REMAINING_LEN.
    for (filter, _) in filters.clone() {
        check_topic_filter(filter)?;
        remaining += field_len(check_string(filter)?) + 1;
        remaining_len(remaining)?;
    }
    if remaining == 2 {
        return Err(WriteError::Invalid(DecodeError::NoTopicFilters));
    }
    let mut w = Writer::start(buf, first_byte(PacketType::Subscribe), remaining)?;
    w.u16(id.get());
    // Bounded: the same pairs as above.
    for (filter, qos) in filters {
        w.string(filter);
        w.bytes(&[qos.bits()]);
    }
    Ok(w.finish())
}

/// Writes an UNSUBSCRIBE (§3.10) of the filters, at least one, as a client does.
pub fn write_unsubscribe<'f>(
    buf: &mut [u8],
    id: PacketId,
    filters: impl Iterator<Item = &'f str> + Clone,
) -> Result<usize, WriteError> {
    let mut remaining = 2usize;
    // Bounded: one turn per filter the caller gives; each adds at least 2 bytes to a length
    // checked against MAX_REMAINING_LEN.
    for filter in filters.clone() {
        check_topic_filter(filter)?;
        remaining += field_len(check_string(filter)?);
        remaining_len(remaining)?;
    }
    if remaining == 2 {
        return Err(WriteError::Invalid(DecodeError::NoTopicFilters));
    }
    let mut w = Writer::start(buf, first_byte(PacketType::Unsubscribe), remaining)?;
    w.u16(id.get());
    // Bounded: the same filters as above.
    for filter in filters {
        w.string(filter);
    }
    Ok(w.finish())
}

/// The first byte of a packet of a type with fixed flags.
fn first_byte(packet_type: PacketType) -> u8 {
    packet_type.bits() << 4 | packet_type.required_flags().unwrap_or(0)
}

/// Checks a string field: at most 65,535 bytes, no U+0000 ([MQTT-1.5.3-2]); its length.
fn check_string(s: &str) -> Result<usize, WriteError> {
    if s.as_bytes().contains(&0) {
        return Err(WriteError::Invalid(DecodeError::NullCharacter));
    }
    check_binary(s.as_bytes())
}

fn check_binary(b: &[u8]) -> Result<usize, WriteError> {
    if b.len() > u16::MAX as usize {
        return Err(WriteError::TooLong);
    }
    Ok(b.len())
}

/// The bytes a length-prefixed field of `len` bytes takes.
const fn field_len(len: usize) -> usize {
    2 + len
}

fn remaining_len(len: usize) -> Result<u32, WriteError> {
    match u32::try_from(len) {
        Ok(len) if len <= MAX_REMAINING_LEN => Ok(len),
        _ => Err(WriteError::TooLong),
    }
}

/// Writes one packet whose length has been computed and checked up front.
struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
    end: usize,
}

impl<'b> Writer<'b> {
    /// Writes the fixed header of a packet of `remaining` bytes, after checking that all of it
    /// fits.
    fn start(buf: &'b mut [u8], first: u8, remaining: usize) -> Result<Writer<'b>, WriteError> {
        let len = remaining_len(remaining)?;
        let total = 1 + length_len(len) + remaining;
        Writer::start_with(buf, first, remaining, total)
    }

    /// Writes the fixed header of a packet of `remaining` bytes, after checking that its first
    /// `end` bytes fit.
    fn start_with(
        buf: &'b mut [u8],
        first: u8,
        remaining: usize,
        end: usize,
    ) -> Result<Writer<'b>, WriteError> {
        let len = remaining_len(remaining)?;
        if buf.len() < end {
            return Err(WriteError::DoesNotFit { needed: end });
        }
        buf[0] = first;
        let mut at = 1;
        let mut rest = len;
        // Bounded: a length of at most 28 bits takes at most 4 bytes.
        loop {
            let byte = (rest & 0x7f) as u8;
            rest >>= 7;
            buf[at] = if rest > 0 { byte | 0x80 } else { byte };
            at += 1;
            if rest == 0 {
                break;
            }
        }
        debug_assert_eq!(at, 1 + length_len(len));
        Ok(Writer { buf, at, end })
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    fn u16(&mut self, value: u16) {
        self.bytes(&value.to_be_bytes());
    }

    fn binary(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() <= u16::MAX as usize);
        self.u16(bytes.len() as u16);
        self.bytes(bytes);
    }

    fn string(&mut self, s: &str) {
        self.binary(s.as_bytes());
    }

    /// The packet's length, asserting that exactly the computed bytes were written.
    fn finish(self) -> usize {
        assert_eq!(
            self.at, self.end,
            "the length computed is the length written"
        );
        self.at
    }
}
