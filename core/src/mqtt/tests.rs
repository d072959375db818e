//! MQTT 3.1.1 packets as the standard's clauses describe them: its examples byte for byte, a
//! table of malformed packets with the error each one gets, and properties: every packet kind
//! round-trips through its writer and the decoder, a packet decodes the same however its bytes
//! are split, and `matches` agrees with a reference written from §4.7's prose.

use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn whole(bytes: &[u8]) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    read_packet(bytes, MAX_REMAINING_LEN)
}

fn decode(bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match whole(bytes)? {
        Some((packet, len)) => {
            assert_eq!(len, bytes.len(), "{bytes:02x?}");
            Ok(packet)
        }
        None => panic!("incomplete: {bytes:02x?}"),
    }
}

/// A CONNECT's bytes: `flags`, keep-alive 60, then `fields` (already length-prefixed).
fn connect_bytes(name: &[u8], level: u8, flags: u8, fields: &[u8]) -> Vec<u8> {
    let mut body = vec![0, name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(&[level, flags, 0, 60]);
    body.extend_from_slice(fields);
    let mut out = vec![0x10, body.len() as u8];
    out.extend_from_slice(&body);
    out
}

fn field(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// §2.2.3, table 2.4: the boundaries of each Remaining Length size, read and written.
#[test]
fn remaining_length_table() {
    let cases: &[(u32, &[u8])] = &[
        (0, &[0x00]),
        (127, &[0x7F]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xFF, 0x7F]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
        (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
    ];
    for &(len, encoded) in cases {
        let mut bytes = vec![0x30];
        bytes.extend_from_slice(encoded);
        let step = HeaderDecoder::new(MAX_REMAINING_LEN).decode(&bytes);
        let HeaderStep::Complete { header, consumed } = step else {
            panic!("{len}: {step:?}");
        };
        assert_eq!((header.remaining_len, consumed), (len, bytes.len()));
        assert_eq!(length_len(len), encoded.len());
        let payload = vec![0u8; len as usize];
        if (3..3_000_000).contains(&len) {
            let publish = Publish {
                dup: false,
                delivery: Delivery::AtMostOnce,
                retain: false,
                topic: "a",
                payload: &payload[..len as usize - 3],
            };
            let mut buf = vec![0u8; len as usize + 5];
            let n = write_publish(&mut buf, &publish).unwrap();
            assert_eq!(&buf[1..1 + encoded.len()], encoded, "{len}");
            assert_eq!(n, 1 + encoded.len() + len as usize);
        }
    }
}

/// §2.2.3: a length is at most four bytes; a fourth byte with its continuation bit is
/// malformed, whatever follows. And `max_packet` refuses from the header.
#[test]
fn remaining_length_limits() {
    let mut d = HeaderDecoder::new(MAX_REMAINING_LEN);
    assert_eq!(
        d.decode(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        HeaderStep::Invalid(DecodeError::RemainingLengthTooLong)
    );
    let mut d = HeaderDecoder::new(100);
    assert!(matches!(
        d.decode(&[0x30, 100]),
        HeaderStep::Complete { .. }
    ));
    assert_eq!(
        d.decode(&[0x30, 101]),
        HeaderStep::Invalid(DecodeError::PacketTooBig)
    );
    assert_eq!(DecodeError::PacketTooBig.connack(), None);
    let mut d = HeaderDecoder::new(MAX_REMAINING_LEN);
    assert_eq!(d.decode(&[0x30, 0x80]), HeaderStep::Partial);
    assert!(d.is_partial());
    assert_eq!(
        d.decode(&[0x80, 0x00]),
        HeaderStep::Invalid(DecodeError::NonMinimalLength)
    );
    // Only the header's bytes are taken.
    let mut d = HeaderDecoder::new(MAX_REMAINING_LEN);
    assert_eq!(
        d.decode(&[0xC0, 0x00, 0xC0]),
        HeaderStep::Complete {
            header: FixedHeader {
                packet_type: PacketType::Pingreq,
                flags: 0,
                remaining_len: 0
            },
            consumed: 2
        }
    );
}

/// §3.1.2.10, figure 3.6 (variable header non-normative example), with a client id "zzz".
#[test]
fn connect_example() {
    let mut fields = field(b"zzz");
    fields.extend_from_slice(&field(b"will/topic"));
    fields.extend_from_slice(&field(b"gone"));
    fields.extend_from_slice(&field(b"user"));
    fields.extend_from_slice(&field(&[0, 1, 2]));
    // User Name, Password, Will QoS 1, Will Flag, Clean Session, as in figure 3.6 (0xCE).
    let bytes = connect_bytes(b"MQTT", 4, 0xCE, &fields);
    let Packet::Connect(c) = decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(
        c,
        Connect {
            clean_session: true,
            keep_alive: 60,
            client_id: "zzz",
            will: Some(Will {
                topic: "will/topic",
                message: b"gone",
                qos: QoS::AtLeastOnce,
                retain: false
            }),
            username: Some("user"),
            password: Some(&[0, 1, 2]),
        }
    );
    let mut buf = [0u8; 64];
    let n = write_connect(&mut buf, &c).unwrap();
    assert_eq!(&buf[..n], &bytes[..]);
}

/// [MQTT-3.1.2-2]: another level gets CONNACK 0x01, even when the rest is another version's
/// layout (MQTT 5's properties), and [MQTT-3.1.3-8]: an empty id without Clean Session gets
/// 0x02; [MQTT-3.1.3-6]: an empty id with Clean Session is accepted.
#[test]
fn connect_refusals_answered_with_connack() {
    let v5 = connect_bytes(b"MQTT", 5, 0x02, &[0x00, 0x00, 0x00]);
    assert_eq!(decode(&v5), Err(DecodeError::UnacceptableProtocolVersion));
    assert_eq!(
        DecodeError::UnacceptableProtocolVersion.connack(),
        Some(ConnectReturnCode::UnacceptableProtocolVersion)
    );
    let v3 = connect_bytes(b"MQIsdp", 3, 0x02, &field(b"x"));
    assert_eq!(decode(&v3), Err(DecodeError::ProtocolName));
    let empty = connect_bytes(b"MQTT", 4, 0x00, &field(b""));
    assert_eq!(decode(&empty), Err(DecodeError::IdentifierRejected));
    assert_eq!(
        DecodeError::IdentifierRejected
            .connack()
            .map(ConnectReturnCode::byte),
        Some(0x02)
    );
    let clean = connect_bytes(b"MQTT", 4, 0x02, &field(b""));
    assert!(matches!(decode(&clean), Ok(Packet::Connect(c)) if c.client_id.is_empty()));
    // A malformed CONNECT with an empty id is malformed, not rejected: closed unanswered.
    let mut trailing = field(b"");
    trailing.push(0);
    let bad = connect_bytes(b"MQTT", 4, 0x00, &trailing);
    assert_eq!(decode(&bad), Err(DecodeError::TrailingBytes));
}

/// §3.3, figure 3.11 (PUBLISH example): topic "a/b", packet identifier 10, QoS 1.
#[test]
fn publish_example() {
    let bytes = [
        0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
    ];
    let packet = decode(&bytes).unwrap();
    let expected = Publish {
        dup: false,
        delivery: Delivery::AtLeastOnce(pid(10)),
        retain: false,
        topic: "a/b",
        payload: b"hi",
    };
    assert_eq!(packet, Packet::Publish(expected));
    let mut buf = [0u8; 11];
    assert_eq!(write_publish(&mut buf, &expected), Ok(11));
    assert_eq!(buf, bytes);
    // The head alone, the payload copied after it.
    let mut buf = [0u8; 11];
    assert_eq!(write_publish_head(&mut buf, &expected, 2), Ok(9));
    buf[9..].copy_from_slice(b"hi");
    assert_eq!(buf, bytes);
    assert_eq!(
        write_publish(&mut [0u8; 10], &expected),
        Err(WriteError::DoesNotFit { needed: 11 })
    );
    assert_eq!(
        write_publish_head(&mut [0u8; 8], &expected, 2),
        Err(WriteError::DoesNotFit { needed: 9 })
    );
    // [MQTT-2.3.1-5]: no packet identifier at QoS 0: the bytes after the topic are payload.
    let qos0 = [0x31, 0x05, 0x00, 0x01, b't', 0x00, 0x00];
    assert_eq!(
        decode(&qos0),
        Ok(Packet::Publish(Publish {
            dup: false,
            delivery: Delivery::AtMostOnce,
            retain: true,
            topic: "t",
            payload: &[0, 0],
        }))
    );
}

/// The server's packets byte for byte: §3.2 CONNACK, §3.4–3.7 acknowledgements (PUBREL with
/// flags 0b0010, [MQTT-3.6.1-1]), §3.9 SUBACK with a failure (figure 3.26), §3.11 UNSUBACK,
/// §3.13 PINGRESP; and the client's PINGREQ and DISCONNECT.
#[test]
fn server_packets_bytes() {
    let mut buf = [0u8; 16];
    let n = write_connack(&mut buf, true, ConnectReturnCode::Accepted).unwrap();
    assert_eq!(&buf[..n], &[0x20, 0x02, 0x01, 0x00]);
    let n = write_connack(&mut buf, false, ConnectReturnCode::NotAuthorized).unwrap();
    assert_eq!(&buf[..n], &[0x20, 0x02, 0x00, 0x05]);
    // [MQTT-3.2.2-4]: session present only with 0x00.
    assert_eq!(
        write_connack(&mut buf, true, ConnectReturnCode::ServerUnavailable),
        Err(WriteError::Invalid(DecodeError::InvalidConnackFlags))
    );
    for (t, first) in [
        (PacketType::Puback, 0x40),
        (PacketType::Pubrec, 0x50),
        (PacketType::Pubrel, 0x62),
        (PacketType::Pubcomp, 0x70),
        (PacketType::Unsuback, 0xB0),
    ] {
        let n = write_ack(&mut buf, t, pid(0x1234)).unwrap();
        assert_eq!(&buf[..n], &[first, 0x02, 0x12, 0x34]);
    }
    let codes = [
        SubackCode::Granted(QoS::AtMostOnce),
        SubackCode::Granted(QoS::ExactlyOnce),
        SubackCode::Failure,
    ];
    let n = write_suback(&mut buf, pid(1), codes.iter().copied()).unwrap();
    assert_eq!(&buf[..n], &[0x90, 0x05, 0x00, 0x01, 0x00, 0x02, 0x80]);
    let Packet::Suback(s) = decode(&buf[..n]).unwrap() else {
        panic!()
    };
    assert!(s.codes().eq(codes.iter().copied()));
    assert_eq!(write_unsuback(&mut buf, pid(7)), Ok(4));
    assert_eq!(write_pingresp(&mut buf), Ok(2));
    assert_eq!(&buf[..2], &[0xD0, 0x00]);
    assert_eq!(write_pingreq(&mut buf), Ok(2));
    assert_eq!(&buf[..2], &[0xC0, 0x00]);
    assert_eq!(write_disconnect(&mut buf), Ok(2));
    assert_eq!(&buf[..2], &[0xE0, 0x00]);
    assert_eq!(
        write_connack(&mut [0u8; 3], false, ConnectReturnCode::Accepted),
        Err(WriteError::DoesNotFit { needed: 4 })
    );
}

/// §3.8.3, figure 3.22: SUBSCRIBE "a/b" QoS 1 and "c/d" QoS 2, read lazily.
#[test]
fn subscribe_example() {
    let bytes = [
        0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x01, 0x00, 0x03, b'c', b'/', b'd',
        0x02,
    ];
    let Packet::Subscribe(s) = decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(s.packet_id, pid(10));
    let pairs: Vec<_> = s.filters.collect();
    assert_eq!(
        pairs,
        [("a/b", QoS::AtLeastOnce), ("c/d", QoS::ExactlyOnce)]
    );
    let mut buf = [0u8; 16];
    let n = write_subscribe(&mut buf, pid(10), pairs.iter().copied()).unwrap();
    assert_eq!(&buf[..n], &bytes[..]);
    // §3.10.3, figure 3.30: UNSUBSCRIBE "a/b" and "c/d".
    let unsub = [
        0xA2, 0x0C, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x03, b'c', b'/', b'd',
    ];
    let Packet::Unsubscribe(u) = decode(&unsub).unwrap() else {
        panic!()
    };
    assert!(u.filters.eq(["a/b", "c/d"]));
    let n = write_unsubscribe(&mut buf, pid(10), ["a/b", "c/d"].into_iter()).unwrap();
    assert_eq!(&buf[..n], &unsub[..]);
    assert_eq!(
        write_subscribe(&mut buf, pid(1), [("a/#/b", QoS::AtMostOnce)].into_iter()),
        Err(WriteError::Invalid(DecodeError::InvalidTopicFilter))
    );
    assert_eq!(
        write_unsubscribe(&mut buf, pid(1), [].into_iter()),
        Err(WriteError::Invalid(DecodeError::NoTopicFilters))
    );
}

/// Malformed packets, each with the error it gets. Every one is also decoded split at every
/// position, with the same verdict.
#[test]
fn malformed_table() {
    use DecodeError::*;
    let will_qos3 = connect_bytes(b"MQTT", 4, 0x1E, &[]);
    let cases: &[(&str, Vec<u8>, DecodeError)] = &[
        (
            "type 0 is reserved (§2.2.1)",
            vec![0x00, 0x00],
            ReservedPacketType,
        ),
        (
            "type 15 is reserved (§2.2.1)",
            vec![0xF0, 0x00],
            ReservedPacketType,
        ),
        (
            "[MQTT-2.2.2-1] CONNECT flags",
            vec![0x11, 0x00],
            InvalidFlags,
        ),
        (
            "[MQTT-2.2.2-2] PINGREQ flags",
            vec![0xC8, 0x00],
            InvalidFlags,
        ),
        (
            "[MQTT-3.6.1-1] PUBREL flags 0",
            vec![0x60, 0x02, 0, 1],
            InvalidFlags,
        ),
        (
            "[MQTT-3.8.1-1] SUBSCRIBE flags 0",
            vec![0x80, 0x00],
            InvalidFlags,
        ),
        (
            "[MQTT-3.10.1-1] UNSUBSCRIBE flags",
            vec![0xA3, 0x00],
            InvalidFlags,
        ),
        ("PUBACK flags 0b0010", vec![0x42, 0x02, 0, 1], InvalidFlags),
        ("[MQTT-3.3.1-4] QoS 3", vec![0x36, 0x00], PublishQosThree),
        (
            "[MQTT-3.3.1-2] DUP at QoS 0",
            vec![0x38, 0x00],
            DupWithQosZero,
        ),
        (
            "§2.2.3 five length bytes",
            vec![0x30, 0x80, 0x80, 0x80, 0x80, 0x01],
            RemainingLengthTooLong,
        ),
        (
            "non-minimal length",
            vec![0xD0, 0x80, 0x00],
            NonMinimalLength,
        ),
        ("PUBACK without its id", vec![0x40, 0x01, 0x00], Truncated),
        (
            "PUBACK with 3 bytes",
            vec![0x40, 0x03, 0, 1, 0],
            TrailingBytes,
        ),
        ("PINGREQ with a body", vec![0xC0, 0x01, 0x00], TrailingBytes),
        (
            "DISCONNECT with a body",
            vec![0xE0, 0x01, 0x00],
            TrailingBytes,
        ),
        (
            "[MQTT-2.3.1-1] PUBACK id 0",
            vec![0x40, 0x02, 0, 0],
            ZeroPacketId,
        ),
        (
            "[MQTT-2.3.1-1] PUBLISH QoS 1 id 0",
            vec![0x32, 0x05, 0, 1, b'a', 0, 0],
            ZeroPacketId,
        ),
        (
            "PUBLISH QoS 2 without its id",
            vec![0x34, 0x04, 0, 1, b'a', 0],
            Truncated,
        ),
        (
            "PUBLISH topic past the end",
            vec![0x30, 0x03, 0, 5, b'a'],
            Truncated,
        ),
        (
            "[MQTT-4.7.3-1] empty topic",
            vec![0x30, 0x02, 0, 0],
            EmptyTopic,
        ),
        (
            "[MQTT-3.3.2-2] + in a topic name",
            vec![0x30, 0x05, 0, 3, b'a', b'/', b'+'],
            WildcardInTopicName,
        ),
        (
            "[MQTT-3.3.2-2] # in a topic name",
            vec![0x30, 0x03, 0, 1, b'#'],
            WildcardInTopicName,
        ),
        (
            "[MQTT-1.5.3-1] invalid UTF-8",
            vec![0x30, 0x03, 0, 1, 0xFF],
            InvalidUtf8,
        ),
        (
            "[MQTT-1.5.3-1] a surrogate",
            vec![0x30, 0x05, 0, 3, 0xED, 0xA0, 0x80],
            InvalidUtf8,
        ),
        (
            "[MQTT-1.5.3-2] U+0000",
            vec![0x30, 0x04, 0, 2, b'a', 0],
            NullCharacter,
        ),
        (
            "[MQTT-3.1.2-1] protocol name",
            connect_bytes(b"MQTS", 4, 2, &field(b"x")),
            ProtocolName,
        ),
        (
            "[MQTT-3.1.2-2] level 3",
            connect_bytes(b"MQTT", 3, 2, &field(b"x")),
            UnacceptableProtocolVersion,
        ),
        (
            "[MQTT-3.1.2-3] reserved flag",
            connect_bytes(b"MQTT", 4, 3, &field(b"x")),
            ReservedConnectFlag,
        ),
        (
            "[MQTT-3.1.2-13] will QoS without will",
            connect_bytes(b"MQTT", 4, 0x0A, &field(b"x")),
            WillFlagsWithoutWill,
        ),
        (
            "[MQTT-3.1.2-15] will retain without will",
            connect_bytes(b"MQTT", 4, 0x22, &field(b"x")),
            WillFlagsWithoutWill,
        ),
        ("[MQTT-3.1.2-14] will QoS 3", will_qos3, WillQosThree),
        (
            "[MQTT-3.1.2-22] password without user name",
            connect_bytes(b"MQTT", 4, 0x42, &field(b"x")),
            PasswordWithoutUserName,
        ),
        (
            "[MQTT-3.1.3-8] empty id, no clean session",
            connect_bytes(b"MQTT", 4, 0, &field(b"")),
            IdentifierRejected,
        ),
        (
            "CONNECT missing its client id",
            connect_bytes(b"MQTT", 4, 2, &[]),
            Truncated,
        ),
        (
            "CONNECT user name flag, no user name",
            connect_bytes(b"MQTT", 4, 0x82, &field(b"x")),
            Truncated,
        ),
        (
            "CONNECT will topic with a wildcard",
            connect_bytes(
                b"MQTT",
                4,
                0x06,
                &[field(b"x"), field(b"a/#"), field(b"m")].concat(),
            ),
            WildcardInTopicName,
        ),
        (
            "[MQTT-1.5.3-2] client id with U+0000",
            connect_bytes(b"MQTT", 4, 2, &field(b"a\0")),
            NullCharacter,
        ),
        (
            "[MQTT-3.8.3-3] SUBSCRIBE without filters",
            vec![0x82, 0x02, 0, 1],
            NoTopicFilters,
        ),
        (
            "[MQTT-3.10.3-2] UNSUBSCRIBE without filters",
            vec![0xA2, 0x02, 0, 1],
            NoTopicFilters,
        ),
        (
            "[MQTT-3-8.3-4] requested QoS 3",
            vec![0x82, 0x06, 0, 1, 0, 1, b'a', 3],
            InvalidRequestedQos,
        ),
        (
            "[MQTT-3-8.3-4] reserved QoS bits",
            vec![0x82, 0x06, 0, 1, 0, 1, b'a', 0x41],
            InvalidRequestedQos,
        ),
        (
            "SUBSCRIBE filter without its QoS",
            vec![0x82, 0x05, 0, 1, 0, 1, b'a'],
            Truncated,
        ),
        (
            "[MQTT-4.7.1-2] # not last",
            vec![0x82, 0x08, 0, 1, 0, 3, b'#', b'/', b'a', 0],
            InvalidTopicFilter,
        ),
        (
            "[MQTT-4.7.1-3] + not alone",
            vec![0xA2, 0x06, 0, 1, 0, 2, b'a', b'+'],
            InvalidTopicFilter,
        ),
        (
            "[MQTT-4.7.3-1] empty filter",
            vec![0xA2, 0x04, 0, 1, 0, 0],
            EmptyTopic,
        ),
        (
            "[MQTT-3.2.2-1] CONNACK reserved flags",
            vec![0x20, 0x02, 0x02, 0x00],
            InvalidConnackFlags,
        ),
        (
            "[MQTT-3.2.2-4] session present with 0x05",
            vec![0x20, 0x02, 0x01, 0x05],
            InvalidConnackFlags,
        ),
        (
            "CONNACK return code 6",
            vec![0x20, 0x02, 0x00, 0x06],
            ReservedConnackCode,
        ),
        ("CONNACK of 1 byte", vec![0x20, 0x01, 0x00], Truncated),
        (
            "[MQTT-3.9.3-2] SUBACK code 3",
            vec![0x90, 0x03, 0, 1, 3],
            ReservedSubackCode,
        ),
        (
            "SUBACK without codes",
            vec![0x90, 0x02, 0, 1],
            NoTopicFilters,
        ),
    ];
    for (name, bytes, error) in cases {
        assert_eq!(whole(bytes).map(|_| ()), Err(*error), "{name}");
        for cut in 0..=bytes.len() {
            assert_eq!(split(bytes, &[cut]), Err(*error), "{name}, split at {cut}");
        }
        let answered = matches!(error, UnacceptableProtocolVersion | IdentifierRejected);
        assert_eq!(error.connack().is_some(), answered, "{name}");
    }
}

/// Decodes `bytes` through the resumable header decoder, fed in pieces ending at `cuts`, then
/// the body: the outcome as an owned value (`Ok(None)` for an incomplete packet).
fn split(bytes: &[u8], cuts: &[usize]) -> Result<Option<(Owned, usize)>, DecodeError> {
    let mut decoder = HeaderDecoder::new(MAX_REMAINING_LEN);
    let mut start = 0;
    for &end in cuts.iter().chain([bytes.len()].iter()) {
        let end = end.max(start);
        match decoder.decode(&bytes[start..end]) {
            HeaderStep::Partial => start = end,
            HeaderStep::Invalid(error) => return Err(error),
            HeaderStep::Complete { header, consumed } => {
                let at = start + consumed;
                let Some(body) = bytes.get(at..at + header.remaining_len as usize) else {
                    return Ok(None);
                };
                let packet = decode_packet(&header, body)?;
                return Ok(Some((own(&packet), header.packet_len())));
            }
        }
    }
    Ok(None)
}

/// A packet with owned fields, for properties that generate and compare them.
#[derive(Clone, PartialEq, Eq, Debug)]
enum Owned {
    Connect {
        clean_session: bool,
        keep_alive: u16,
        client_id: String,
        will: Option<(String, Vec<u8>, QoS, bool)>,
        username: Option<String>,
        password: Option<Vec<u8>>,
    },
    Connack(bool, ConnectReturnCode),
    Publish(bool, Delivery, bool, String, Vec<u8>),
    Ack(PacketType, PacketId),
    Subscribe(PacketId, Vec<(String, QoS)>),
    Suback(PacketId, Vec<SubackCode>),
    Unsubscribe(PacketId, Vec<String>),
    Empty(PacketType),
}

fn own(packet: &Packet<'_>) -> Owned {
    use std::string::ToString;
    match *packet {
        Packet::Connect(c) => Owned::Connect {
            clean_session: c.clean_session,
            keep_alive: c.keep_alive,
            client_id: c.client_id.to_string(),
            will: c
                .will
                .map(|w| (w.topic.to_string(), w.message.to_vec(), w.qos, w.retain)),
            username: c.username.map(ToString::to_string),
            password: c.password.map(<[u8]>::to_vec),
        },
        Packet::Connack(c) => Owned::Connack(c.session_present, c.code),
        Packet::Publish(p) => Owned::Publish(
            p.dup,
            p.delivery,
            p.retain,
            p.topic.to_string(),
            p.payload.to_vec(),
        ),
        Packet::Puback(id) => Owned::Ack(PacketType::Puback, id),
        Packet::Pubrec(id) => Owned::Ack(PacketType::Pubrec, id),
        Packet::Pubrel(id) => Owned::Ack(PacketType::Pubrel, id),
        Packet::Pubcomp(id) => Owned::Ack(PacketType::Pubcomp, id),
        Packet::Unsuback(id) => Owned::Ack(PacketType::Unsuback, id),
        Packet::Subscribe(s) => Owned::Subscribe(
            s.packet_id,
            s.filters.map(|(f, q)| (f.to_string(), q)).collect(),
        ),
        Packet::Suback(s) => Owned::Suback(s.packet_id, s.codes().collect()),
        Packet::Unsubscribe(u) => {
            Owned::Unsubscribe(u.packet_id, u.filters.map(ToString::to_string).collect())
        }
        Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => {
            Owned::Empty(packet.packet_type())
        }
    }
}

/// Writes an owned packet with the writer of its kind.
fn write_owned(buf: &mut [u8], packet: &Owned) -> Result<usize, WriteError> {
    match packet {
        Owned::Connect {
            clean_session,
            keep_alive,
            client_id,
            will,
            username,
            password,
        } => write_connect(
            buf,
            &Connect {
                clean_session: *clean_session,
                keep_alive: *keep_alive,
                client_id,
                will: will.as_ref().map(|(topic, message, qos, retain)| Will {
                    topic,
                    message,
                    qos: *qos,
                    retain: *retain,
                }),
                username: username.as_deref(),
                password: password.as_deref(),
            },
        ),
        Owned::Connack(present, code) => write_connack(buf, *present, *code),
        Owned::Publish(dup, delivery, retain, topic, payload) => write_publish(
            buf,
            &Publish {
                dup: *dup,
                delivery: *delivery,
                retain: *retain,
                topic,
                payload,
            },
        ),
        Owned::Ack(t, id) => write_ack(buf, *t, *id),
        Owned::Subscribe(id, pairs) => {
            write_subscribe(buf, *id, pairs.iter().map(|(f, q)| (f.as_str(), *q)))
        }
        Owned::Suback(id, codes) => write_suback(buf, *id, codes.iter().copied()),
        Owned::Unsubscribe(id, filters) => {
            write_unsubscribe(buf, *id, filters.iter().map(String::as_str))
        }
        Owned::Empty(PacketType::Pingreq) => write_pingreq(buf),
        Owned::Empty(PacketType::Pingresp) => write_pingresp(buf),
        Owned::Empty(_) => write_disconnect(buf),
    }
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (1u16..).prop_map(pid)
}

fn topic_name() -> impl Strategy<Value = String> {
    "[a-z$ /é\u{1F600}]{1,12}"
}

/// A valid filter: levels of letters, `+` or empty, and maybe a final `#`.
fn topic_filter() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(prop_oneof!["[a-c$]{0,3}", Just("+".into())], 0..5),
        any::<bool>(),
    )
        .prop_filter_map("a filter has at least one character", |(levels, hash)| {
            let mut levels: Vec<String> = levels;
            if hash {
                levels.push("#".into());
            }
            let filter = levels.join("/");
            (!filter.is_empty()).then_some(filter)
        })
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        Just(Delivery::AtMostOnce),
        packet_id().prop_map(Delivery::AtLeastOnce),
        packet_id().prop_map(Delivery::ExactlyOnce),
    ]
}

fn connect() -> impl Strategy<Value = Owned> {
    let will = proptest::option::of((
        topic_name(),
        proptest::collection::vec(any::<u8>(), 0..8),
        qos(),
        any::<bool>(),
    ));
    let credentials = proptest::option::of((
        "[a-z]{0,6}",
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6)),
    ));
    (
        any::<bool>(),
        any::<u16>(),
        "[a-zA-Z0-9]{0,10}",
        will,
        credentials,
    )
        .prop_map(
            |(clean, keep_alive, client_id, will, credentials)| Owned::Connect {
                clean_session: clean || client_id.is_empty(),
                keep_alive,
                client_id,
                will,
                username: credentials.as_ref().map(|(u, _)| u.clone()),
                password: credentials.and_then(|(_, p)| p),
            },
        )
}

fn connack() -> impl Strategy<Value = Owned> {
    (any::<bool>(), 0u8..6).prop_map(|(present, code)| {
        let code = ConnectReturnCode::from_byte(code).unwrap();
        Owned::Connack(present && code == ConnectReturnCode::Accepted, code)
    })
}

fn publish() -> impl Strategy<Value = Owned> {
    (
        any::<bool>(),
        delivery(),
        any::<bool>(),
        topic_name(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(dup, delivery, retain, topic, payload)| {
            let dup = dup && delivery != Delivery::AtMostOnce;
            Owned::Publish(dup, delivery, retain, topic, payload)
        })
}

fn any_packet() -> impl Strategy<Value = Owned> {
    let ack = prop_oneof![
        Just(PacketType::Puback),
        Just(PacketType::Pubrec),
        Just(PacketType::Pubrel),
        Just(PacketType::Pubcomp),
        Just(PacketType::Unsuback),
    ];
    let suback_code = prop_oneof![
        qos().prop_map(SubackCode::Granted),
        Just(SubackCode::Failure)
    ];
    prop_oneof![
        connect(),
        connack(),
        publish(),
        (ack, packet_id()).prop_map(|(t, id)| Owned::Ack(t, id)),
        (
            packet_id(),
            proptest::collection::vec((topic_filter(), qos()), 1..5)
        )
            .prop_map(|(id, pairs)| Owned::Subscribe(id, pairs)),
        (packet_id(), proptest::collection::vec(suback_code, 1..5))
            .prop_map(|(id, codes)| Owned::Suback(id, codes)),
        (packet_id(), proptest::collection::vec(topic_filter(), 1..5))
            .prop_map(|(id, filters)| Owned::Unsubscribe(id, filters)),
        prop_oneof![
            Just(PacketType::Pingreq),
            Just(PacketType::Pingresp),
            Just(PacketType::Disconnect)
        ]
        .prop_map(Owned::Empty),
    ]
}

/// §4.7, written from the prose, level by level and recursively: the reference `matches` is
/// checked against.
fn reference_matches(filter: &str, topic: &str) -> bool {
    fn levels(f: &[&str], t: &[&str]) -> bool {
        match (f.split_first(), t.split_first()) {
            (None, None) => true,
            (Some((&"#", _)), _) => true,
            (Some((&"+", fr)), Some((_, tr))) => levels(fr, tr),
            (Some((fl, fr)), Some((tl, tr))) => fl == tl && levels(fr, tr),
            _ => false,
        }
    }
    let wild_first = filter.starts_with('+') || filter.starts_with('#');
    if topic.starts_with('$') && wild_first {
        return false;
    }
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    levels(&f, &t)
}

proptest! {
    /// Every packet kind: written by its writer, decoded back to the same value, and the
    /// writer's length is the decoder's; a decoded packet written again gives the same bytes.
    #[test]
    fn round_trip(packet in any_packet()) {
        let mut buf = vec![0u8; 1024];
        let n = write_owned(&mut buf, &packet).unwrap();
        let decoded = decode(&buf[..n]).unwrap();
        prop_assert_eq!(own(&decoded), packet);
        let mut again = vec![0u8; 1024];
        prop_assert_eq!(write_packet(&mut again, &decoded), Ok(n));
        prop_assert_eq!(&again[..n], &buf[..n]);
        // A buffer one byte short is refused with the size needed, and left untouched.
        let mut short = vec![0u8; n - 1];
        prop_assert_eq!(write_packet(&mut short, &decoded), Err(WriteError::DoesNotFit { needed: n }));
        prop_assert!(short.iter().all(|&b| b == 0));
    }

    /// A packet split anywhere, in up to four pieces, through the header decoder, decodes as
    /// it does whole; so do its prefixes (incomplete) and corruptions of it.
    #[test]
    fn split_anywhere(
        packet in any_packet(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        flip in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
        prefix in any::<prop::sample::Index>(),
    ) {
        let mut buf = vec![0u8; 1024];
        let n = write_owned(&mut buf, &packet).unwrap();
        let mut bytes = buf[..n].to_vec();
        if let Some((at, value)) = flip {
            let at = at.index(n);
            bytes[at] = value;
        }
        let cut_prefix = prefix.index(bytes.len() + 1);
        for bytes in [&bytes[..], &bytes[..cut_prefix]] {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let expected = whole(bytes).map(|p| p.map(|(p, len)| (own(&p), len)));
            prop_assert_eq!(split(bytes, &cuts), expected);
        }
    }

    /// `matches` agrees with the reference over random filters and topics (of few letters,
    /// so that matches are frequent).
    #[test]
    fn matches_reference(filter in topic_filter(), topic in "[a-c$/]{0,8}") {
        prop_assert_eq!(matches(&filter, &topic), reference_matches(&filter, &topic));
    }

    /// Any bytes get a verdict without a panic, the same split as whole.
    #[test]
    fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40), cut in any::<prop::sample::Index>()) {
        let cut = cut.index(bytes.len() + 1);
        let expected = whole(&bytes).map(|p| p.map(|(p, len)| (own(&p), len)));
        prop_assert_eq!(split(&bytes, &[cut]), expected);
    }
}
