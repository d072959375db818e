//! The protocol cases of the Autobahn test suite's sections 1–7 (and 9's limits), as a table:
//! client frames in, what the server's [`MessageReader`] makes of them out. Every case is run
//! whole, split in two at every position (or at a sample of positions for large inputs), and
//! one byte at a time, and must give the same outcome each way (RFC 6455 §5.2: a frame is a
//! byte stream; where the reads fall is not part of it).

use std::vec;
use std::vec::Vec;

use super::*;

/// What the reader made of the input, with each data message's pieces joined.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) enum Seen {
    Message(DataKind, Vec<u8>),
    /// A message still in progress when the input ran out: its pieces so far.
    Unfinished(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, std::string::String, Option<u16>),
    Fail(Violation),
}

/// Feeds `bytes` to a new reader in pieces ending at `cuts` (then at the end), checking each
/// step's consumption and ranges, and returns what it saw.
pub(super) fn drive(
    config: ReaderConfig,
    bytes: &[u8],
    cuts: &[usize],
    sent_close: bool,
) -> Vec<Seen> {
    let mut reader = MessageReader::new(config);
    if sent_close {
        reader.sent_close();
    }
    let mut buf = bytes.to_vec();
    let mut seen = Vec::new();
    let mut message: Option<(DataKind, Vec<u8>)> = None;
    let mut start = 0;
    for &end in cuts.iter().chain([bytes.len()].iter()) {
        for _round in 0..=end - start + 1 {
            let input = &mut buf[start..end];
            let len = input.len();
            let step = reader.read(input);
            assert!(step.consumed <= len);
            match step.event {
                Event::Data {
                    range,
                    kind,
                    first,
                    fin,
                } => {
                    assert!(range.start <= range.end && range.end <= len);
                    assert_eq!(step.consumed, range.end);
                    assert_eq!(first, message.is_none(), "first marks the first piece");
                    let (k, payload) = message.get_or_insert_with(|| (kind, Vec::new()));
                    assert_eq!(*k, kind);
                    payload.extend_from_slice(&buf[start..end][range]);
                    if fin {
                        let (kind, payload) = message.take().unwrap();
                        if kind == DataKind::Text {
                            assert!(core::str::from_utf8(&payload).is_ok());
                        }
                        seen.push(Seen::Message(kind, payload));
                    }
                }
                Event::Ping(p) => seen.push(Seen::Ping(p.to_vec())),
                Event::Pong(p) => seen.push(Seen::Pong(p.to_vec())),
                Event::Close {
                    code,
                    reason,
                    reply,
                } => {
                    seen.push(Seen::Close(
                        code.map(CloseCode::get),
                        reason.into(),
                        reply.map(CloseCode::get),
                    ));
                    return seen;
                }
                Event::Fail(violation) => {
                    seen.push(Seen::Fail(violation));
                    return seen;
                }
                Event::NeedMore => {
                    assert_eq!(step.consumed, len, "NeedMore consumes everything");
                    start += step.consumed;
                    break;
                }
            }
            start += step.consumed;
        }
        assert_eq!(start, end, "every byte received was consumed");
    }
    if let Some((kind, payload)) = message {
        seen.push(Seen::Unfinished(kind, payload));
    }
    seen
}

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A masked client frame: `first` is the first header byte (FIN, RSV, opcode).
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; MAX_HEADER_LEN];
    let header = FrameHeader {
        fin: first & 0x80 != 0,
        rsv: (first >> 4) & 7,
        opcode: Opcode::Text,
        mask: Some(KEY),
        payload_len: payload.len() as u64,
    };
    let n = write_header(&mut out, &header).unwrap();
    out.truncate(n);
    out[0] = first; // any opcode, reserved ones and fragmented control frames included
    let at = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[at..], KEY, 0);
    out
}

fn text(payload: &[u8]) -> Vec<u8> {
    frame(0x81, payload)
}

fn close(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason);
    frame(0x88, &body)
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn msg(kind: DataKind, payload: &[u8]) -> Seen {
    Seen::Message(kind, payload.to_vec())
}

const LIMITS: ReaderConfig = ReaderConfig::server(1 << 20, 1 << 20);

/// Runs one case whole, split in two, and one byte at a time.
fn check(name: &str, config: ReaderConfig, input: &[u8], expected: &[Seen]) {
    let whole = drive(config, input, &[], false);
    assert_eq!(whole, expected, "{name}: whole");
    let cuts: Vec<usize> = if input.len() <= 400 {
        (0..=input.len()).collect()
    } else {
        vec![
            1,
            2,
            3,
            5,
            9,
            13,
            14,
            15,
            200,
            input.len() / 2,
            input.len() - 1,
        ]
    };
    for &cut in &cuts {
        assert_eq!(
            drive(config, input, &[cut], false),
            expected,
            "{name}: split at {cut}"
        );
    }
    if input.len() <= 400 {
        let bytes: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            drive(config, input, &bytes, false),
            expected,
            "{name}: byte by byte"
        );
    }
}

/// Autobahn 1: text and binary messages of lengths at the edges of the length encodings
/// (RFC 6455 §5.2: 7-bit, 16-bit and 64-bit lengths).
#[test]
fn section_1_framing() {
    for len in [0, 125, 126, 127, 65535, 65536] {
        let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        check(
            "1.1 text",
            LIMITS,
            &text(&payload),
            &[msg(DataKind::Text, &payload)],
        );
        let binary: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        check(
            "1.2 binary",
            LIMITS,
            &frame(0x82, &binary),
            &[msg(DataKind::Binary, &binary)],
        );
    }
}

/// Autobahn 2: pings and pongs (RFC 6455 §5.5.2–§5.5.3).
#[test]
fn section_2_pings_and_pongs() {
    check(
        "2.1 empty ping",
        LIMITS,
        &frame(0x89, b""),
        &[Seen::Ping(vec![])],
    );
    check(
        "2.2 ping with payload",
        LIMITS,
        &frame(0x89, b"Hello, world!"),
        &[Seen::Ping(b"Hello, world!".to_vec())],
    );
    check(
        "2.3 binary ping",
        LIMITS,
        &frame(0x89, &[0, 0xff, 0xfe, 0xfd]),
        &[Seen::Ping(vec![0, 0xff, 0xfe, 0xfd])],
    );
    check(
        "2.4 125-byte ping",
        LIMITS,
        &frame(0x89, &[0xfe; 125]),
        &[Seen::Ping(vec![0xfe; 125])],
    );
    check(
        "2.5 126-byte ping",
        LIMITS,
        &frame(0x89, &[0xfe; 126]),
        &[Seen::Fail(Violation::ControlTooLong)],
    );
    check(
        "2.7 unsolicited pong",
        LIMITS,
        &frame(0x8A, b""),
        &[Seen::Pong(vec![])],
    );
    check(
        "2.8 unsolicited pong with payload, then a ping",
        LIMITS,
        &cat(&[frame(0x8A, b"unsolicited"), frame(0x89, b"ping")]),
        &[
            Seen::Pong(b"unsolicited".to_vec()),
            Seen::Ping(b"ping".to_vec()),
        ],
    );
    let ten: Vec<Vec<u8>> = (0..10).map(|i| frame(0x89, &[i; 3])).collect();
    let expected: Vec<Seen> = (0..10).map(|i| Seen::Ping(vec![i; 3])).collect();
    check("2.10 ten pings", LIMITS, &cat(&ten), &expected);
}

/// Autobahn 3: RSV bits without a negotiated extension (RFC 6455 §5.2) → 1002, after
/// whatever came before them was delivered.
#[test]
fn section_3_reserved_bits() {
    check(
        "3.1 RSV1 text",
        LIMITS,
        &frame(0xC1, b"Hello"),
        &[Seen::Fail(Violation::ReservedBits)],
    );
    check(
        "3.2 RSV2 after a text",
        LIMITS,
        &cat(&[text(b"Hello"), frame(0xA1, b"Hello"), frame(0x89, b"")]),
        &[
            msg(DataKind::Text, b"Hello"),
            Seen::Fail(Violation::ReservedBits),
        ],
    );
    check(
        "3.4 RSV1|RSV3 binary",
        LIMITS,
        &frame(0xD2, &[0xff]),
        &[Seen::Fail(Violation::ReservedBits)],
    );
    check(
        "3.6 RSV on a ping",
        LIMITS,
        &frame(0xE9, b""),
        &[Seen::Fail(Violation::ReservedBits)],
    );
    check(
        "3.7 RSV on a close",
        LIMITS,
        &frame(0xF8, b""),
        &[Seen::Fail(Violation::ReservedBits)],
    );
    assert_eq!(
        Violation::ReservedBits.close_code(),
        CloseCode::PROTOCOL_ERROR
    );
}

/// Autobahn 4: reserved opcodes (RFC 6455 §5.2) → 1002.
#[test]
fn section_4_reserved_opcodes() {
    for opcode in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        check(
            "4.x reserved opcode after a text",
            LIMITS,
            &cat(&[
                text(b"ok"),
                frame(0x80 | opcode, b"reserved"),
                frame(0x89, b""),
            ]),
            &[
                msg(DataKind::Text, b"ok"),
                Seen::Fail(Violation::ReservedOpcode),
            ],
        );
    }
}

/// Autobahn 5: fragmentation (RFC 6455 §5.4).
#[test]
fn section_5_fragmentation() {
    check(
        "5.1 fragmented ping",
        LIMITS,
        &cat(&[frame(0x09, b"frag"), frame(0x80, b"ment")]),
        &[Seen::Fail(Violation::FragmentedControl)],
    );
    check(
        "5.2 fragmented pong",
        LIMITS,
        &frame(0x0A, b"frag"),
        &[Seen::Fail(Violation::FragmentedControl)],
    );
    check(
        "5.3 text in two fragments",
        LIMITS,
        &cat(&[frame(0x01, b"frag"), frame(0x80, b"ment")]),
        &[msg(DataKind::Text, b"fragment")],
    );
    let one_byte_frames: Vec<Vec<u8>> = b"fragmented"
        .iter()
        .enumerate()
        .map(|(i, b)| {
            frame(
                if i == 0 {
                    0x02
                } else if i == 9 {
                    0x80
                } else {
                    0x00
                },
                &[*b],
            )
        })
        .collect();
    check(
        "5.5 binary in 1-byte fragments",
        LIMITS,
        &cat(&one_byte_frames),
        &[msg(DataKind::Binary, b"fragmented")],
    );
    check(
        "5.6 a ping between fragments",
        LIMITS,
        &cat(&[
            frame(0x01, b"frag"),
            frame(0x89, b"ping"),
            frame(0x8A, b"pong"),
            frame(0x80, b"ment"),
        ]),
        &[
            Seen::Ping(b"ping".to_vec()),
            Seen::Pong(b"pong".to_vec()),
            msg(DataKind::Text, b"fragment"),
        ],
    );
    check(
        "5.8 empty fragments",
        LIMITS,
        &cat(&[frame(0x01, b""), frame(0x00, b""), frame(0x80, b"")]),
        &[msg(DataKind::Text, b"")],
    );
    check(
        "5.9 continuation without a message",
        LIMITS,
        &frame(0x80, b"orphan"),
        &[Seen::Fail(Violation::UnexpectedContinuation)],
    );
    check(
        "5.10 continuation after a finished message",
        LIMITS,
        &cat(&[text(b"done"), frame(0x00, b"orphan")]),
        &[
            msg(DataKind::Text, b"done"),
            Seen::Fail(Violation::UnexpectedContinuation),
        ],
    );
    check(
        "5.18 a new text frame while a message is in progress",
        LIMITS,
        &cat(&[frame(0x01, b"frag"), text(b"other")]),
        &[Seen::Fail(Violation::MessageInProgress)],
    );
    check(
        "5.x a binary frame while a text message is in progress",
        LIMITS,
        &cat(&[frame(0x01, b"frag"), frame(0x02, b"other")]),
        &[Seen::Fail(Violation::MessageInProgress)],
    );
    check(
        "5.x an unfinished message",
        LIMITS,
        &cat(&[frame(0x01, b"frag"), frame(0x00, b"men")]),
        &[Seen::Unfinished(DataKind::Text, b"fragmen".to_vec())],
    );
}

/// Autobahn 6: UTF-8 in text messages (RFC 6455 §8.1) → 1007 when invalid, however the
/// message is framed and split.
#[test]
fn section_6_utf8() {
    let valid = "Hello-µ@ßöäüàá-UTF-8!! κόσμε \u{10000}\u{10ffff}".as_bytes();
    check(
        "6.2 valid multi-byte text",
        LIMITS,
        &text(valid),
        &[msg(DataKind::Text, valid)],
    );
    // 6.2.2: fragmented at every position into two frames.
    for cut in 0..=valid.len() {
        let input = cat(&[frame(0x01, &valid[..cut]), frame(0x80, &valid[cut..])]);
        check(
            "6.2.2 valid, fragmented anywhere",
            LIMITS,
            &input,
            &[msg(DataKind::Text, valid)],
        );
    }
    let invalid: &[&[u8]] = &[
        b"\xc0\xaf",                                                       // overlong '/'
        b"\xe0\x80\xaf",                                                   // overlong, 3 bytes
        b"\xf0\x80\x80\xaf",                                               // overlong, 4 bytes
        b"\xed\xa0\x80",                                                   // U+D800, a surrogate
        b"\xed\xbf\xbf",                                                   // U+DFFF
        b"\xf4\x90\x80\x80", // U+110000, above U+10FFFF
        b"\xce\xba\xe1\xbd", // truncated at the message's end
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // 6.3.1
        b"\xfe",
        b"\x80",
    ];
    for bytes in invalid {
        check(
            "6.x invalid",
            LIMITS,
            &text(bytes),
            &[Seen::Fail(Violation::InvalidUtf8)],
        );
        for cut in 0..=bytes.len() {
            let input = cat(&[frame(0x01, &bytes[..cut]), frame(0x80, &bytes[cut..])]);
            check(
                "6.x invalid, fragmented",
                LIMITS,
                &input,
                &[Seen::Fail(Violation::InvalidUtf8)],
            );
        }
    }
    // 6.4: fail fast, before the message (or even the frame) ends.
    check(
        "6.4.1 invalid in the first fragment, the rest never sent",
        LIMITS,
        &frame(0x01, b"\xce\xba\xe1\xbd\xb9\xf4\x90\x80\x80"),
        &[Seen::Fail(Violation::InvalidUtf8)],
    );
    let mut partial = text(b"ok \xf4\x90\x80\x80 and more that never arrives");
    partial.truncate(6 + 5);
    check(
        "6.4.3 invalid inside a frame not yet whole",
        LIMITS,
        &partial,
        &[Seen::Fail(Violation::InvalidUtf8)],
    );
    // Binary messages are not checked.
    check(
        "binary is not UTF-8-checked",
        LIMITS,
        &frame(0x82, b"\xff\xfe"),
        &[msg(DataKind::Binary, b"\xff\xfe")],
    );
}

/// Autobahn 7: the closing handshake (RFC 6455 §5.5.1, §7.1.5, §7.4).
#[test]
fn section_7_close() {
    check(
        "7.1.1 text then close",
        LIMITS,
        &cat(&[text(b"Hello"), close(1000, b"")]),
        &[
            msg(DataKind::Text, b"Hello"),
            Seen::Close(Some(1000), "".into(), Some(1000)),
        ],
    );
    check(
        "7.1.3 nothing after close is read",
        LIMITS,
        &cat(&[close(1000, b""), frame(0x89, b""), frame(0x83, b"")]),
        &[Seen::Close(Some(1000), "".into(), Some(1000))],
    );
    check(
        "7.3.1 empty close",
        LIMITS,
        &frame(0x88, b""),
        &[Seen::Close(None, "".into(), Some(1000))],
    );
    check(
        "7.3.2 close with a 1-byte payload",
        LIMITS,
        &frame(0x88, b"\x03"),
        &[Seen::Fail(Violation::CloseTooShort)],
    );
    check(
        "7.3.4 close with a reason",
        LIMITS,
        &close(1000, b"Hello World!"),
        &[Seen::Close(Some(1000), "Hello World!".into(), Some(1000))],
    );
    let reason = [b'*'; 123];
    check(
        "7.3.5 close with a 123-byte reason",
        LIMITS,
        &close(1000, &reason),
        &[Seen::Close(
            Some(1000),
            core::str::from_utf8(&reason).unwrap().into(),
            Some(1000),
        )],
    );
    check(
        "7.3.6 close with a 124-byte reason",
        LIMITS,
        &close(1000, &[b'*'; 124]),
        &[Seen::Fail(Violation::ControlTooLong)],
    );
    check(
        "7.5.1 close reason not UTF-8",
        LIMITS,
        &close(1000, b"\xce\xba\xe1\xbd\xb9\xed\xa0\x80"),
        &[Seen::Fail(Violation::InvalidUtf8)],
    );
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        check(
            "7.7 valid close code",
            LIMITS,
            &close(code, b""),
            &[Seen::Close(Some(code), "".into(), Some(code))],
        );
    }
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        check(
            "7.9 invalid close code",
            LIMITS,
            &close(code, b""),
            &[Seen::Fail(Violation::InvalidCloseCode)],
        );
    }
    // RFC 6455 §7.1.2: our own Close answered by the peer's: nothing more to send.
    assert_eq!(
        drive(LIMITS, &close(1001, b"bye"), &[], true),
        [Seen::Close(Some(1001), "bye".into(), None)]
    );
}

/// Autobahn 9's sizes as limits: a frame or message over `max_frame` / `max_message` → 1009
/// (RFC 6455 §7.4.1), refused from its header; one exactly at the limit is delivered.
#[test]
fn limits() {
    let config = ReaderConfig::server(100, 150);
    check(
        "frame at max_frame",
        config,
        &frame(0x82, &[1; 100]),
        &[msg(DataKind::Binary, &[1; 100])],
    );
    let mut over = frame(0x82, &[1; 101]);
    over.truncate(8); // the header alone is enough to refuse it
    check(
        "frame over max_frame",
        config,
        &over,
        &[Seen::Fail(Violation::FrameTooBig)],
    );
    check(
        "message at max_message",
        config,
        &cat(&[frame(0x02, &[1; 100]), frame(0x80, &[2; 50])]),
        &[msg(DataKind::Binary, &cat(&[vec![1; 100], vec![2; 50]]))],
    );
    check(
        "message over max_message",
        config,
        &cat(&[frame(0x02, &[1; 100]), frame(0x80, &[2; 51])]),
        &[Seen::Fail(Violation::MessageTooBig)],
    );
    assert_eq!(Violation::MessageTooBig.close_code(), CloseCode::TOO_BIG);
    // Control frames do not count against the message.
    check(
        "pings between fragments",
        config,
        &cat(&[
            frame(0x02, &[1; 100]),
            frame(0x89, &[0; 100]),
            frame(0x80, &[2; 50]),
        ]),
        &[
            Seen::Ping(vec![0; 100]),
            msg(DataKind::Binary, &cat(&[vec![1; 100], vec![2; 50]])),
        ],
    );
}

/// RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
/// masked", and a client the other way round.
#[test]
fn masking_by_role() {
    check(
        "unmasked to a server",
        LIMITS,
        &[0x81, 0x02, b'h', b'i'],
        &[Seen::Fail(Violation::WrongMasking)],
    );
    let client = ReaderConfig {
        role: Role::Client,
        ..LIMITS
    };
    check(
        "unmasked to a client",
        client,
        &[0x81, 0x02, b'h', b'i'],
        &[msg(DataKind::Text, b"hi")],
    );
    check(
        "masked to a client",
        client,
        &text(b"hi"),
        &[Seen::Fail(Violation::WrongMasking)],
    );
}

/// A failed reader stays failed; the close state follows the handshake (RFC 6455 §7.1).
#[test]
fn states_after_the_end() {
    let mut reader = MessageReader::new(LIMITS);
    assert_eq!(reader.close_state(), CloseState::Open);
    let mut bad = frame(0x83, b"");
    assert_eq!(
        reader.read(&mut bad).event,
        Event::Fail(Violation::ReservedOpcode)
    );
    let mut good = text(b"ok");
    let step = reader.read(&mut good);
    assert_eq!(
        (step.consumed, step.event),
        (0, Event::Fail(Violation::ReservedOpcode))
    );
    assert_eq!(reader.close_state(), CloseState::Failed);

    let mut reader = MessageReader::new(LIMITS);
    reader.sent_close();
    assert_eq!(reader.close_state(), CloseState::Sent);
    let mut input = cat(&[text(b"late data"), close(1000, b"")]);
    let step = reader.read(&mut input);
    assert!(
        matches!(step.event, Event::Data { fin: true, .. }),
        "data still arrives after our Close"
    );
    let consumed = step.consumed;
    let step = reader.read(&mut input[consumed..]);
    assert_eq!(
        step.event,
        Event::Close {
            code: Some(CloseCode::NORMAL),
            reason: "",
            reply: None
        }
    );
    assert_eq!(reader.close_state(), CloseState::Received);
}
