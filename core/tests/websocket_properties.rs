//! Properties of the WebSocket wire layer, checked with proptest over generated frame
//! sequences.
//!
//! - (a) A valid sequence of client frames (messages fragmented anywhere, control frames
//!   between fragments, maybe a Close at the end) gives the events the model expects, and
//!   the same events however the bytes are split (RFC 6455 §5.2, §5.4: where reads fall is not
//!   part of the stream).
//! - (b) Frames written by the writer are read back as they were written: server frames by a
//!   client-role reader, masked client frames by a server-role reader (RFC 6455 §5.2–§5.3).
//! - (c) The reader never panics on arbitrary bytes split anywhere, and the split and whole
//!   runs agree.

use proptest::collection::vec;
use proptest::prelude::*;
use zzz_core::websocket::{
    CloseCode, DataKind, Event, FrameHeader, MAX_HEADER_LEN, MessageReader, Opcode, ReaderConfig,
    Role, Violation, apply_mask, write_close, write_frame, write_header,
};

/// `n` cases, unless `PROPTEST_CASES` asks for another number.
fn cases(n: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = n;
    }
    config
}

/// What a reader made of its input, each data message's pieces joined.
#[derive(Clone, PartialEq, Eq, Debug)]
enum Seen {
    Message(DataKind, Vec<u8>),
    Unfinished(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
    Fail(Violation),
}

/// Feeds `bytes` in pieces ending at `cuts` (sorted), then at the end.
fn drive(config: ReaderConfig, bytes: &[u8], cuts: &[usize]) -> Vec<Seen> {
    let mut reader = MessageReader::new(config);
    let mut buf = bytes.to_vec();
    let mut seen = Vec::new();
    let mut message: Option<(DataKind, Vec<u8>)> = None;
    let mut start = 0;
    for &end in cuts.iter().chain([bytes.len()].iter()) {
        let end = end.max(start);
        for _round in 0..=end - start + 1 {
            let len = end - start;
            let step = reader.read(&mut buf[start..end]);
            assert!(step.consumed <= len);
            match step.event {
                Event::Data {
                    range,
                    kind,
                    first,
                    fin,
                } => {
                    assert!(range.start <= range.end && range.end == step.consumed);
                    assert_eq!(first, message.is_none());
                    let piece = buf[start..end][range].to_vec();
                    let (_, payload) = message.get_or_insert_with(|| (kind, Vec::new()));
                    payload.extend_from_slice(&piece);
                    if fin {
                        let (kind, payload) = message.take().unwrap();
                        seen.push(Seen::Message(kind, payload));
                    }
                }
                Event::Ping(p) => seen.push(Seen::Ping(p.to_vec())),
                Event::Pong(p) => seen.push(Seen::Pong(p.to_vec())),
                Event::Close { code, reason, .. } => {
                    seen.push(Seen::Close(code.map(CloseCode::get), reason.into()));
                    return seen;
                }
                Event::Fail(v) => {
                    // A message cut short by a failure is dropped whole by its caller; how much
                    // of it was delivered depends on where the reads fell (a piece holding
                    // invalid UTF-8 is refused whole), so it is not recorded.
                    seen.push(Seen::Fail(v));
                    return seen;
                }
                Event::NeedMore => {
                    assert_eq!(step.consumed, len);
                    start = end;
                    break;
                }
            }
            start += step.consumed;
        }
        assert_eq!(start, end);
    }
    if let Some((kind, payload)) = message {
        seen.push(Seen::Unfinished(kind, payload));
    }
    seen
}

/// One frame: header (masked with `key` if given) and payload.
fn frame(out: &mut Vec<u8>, fin: bool, opcode: Opcode, payload: &[u8], key: Option<[u8; 4]>) {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: key,
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = write_header(&mut head, &header).unwrap();
    out.extend_from_slice(&head[..n]);
    let at = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = key {
        apply_mask(&mut out[at..], key, 0);
    }
}

#[derive(Clone, Debug)]
enum Item {
    /// A data message, its payload cut into fragments at these points, with a ping or pong
    /// (by the flag) of this payload after the fragment of that index.
    Message {
        text: bool,
        payload: Vec<u8>,
        cuts: Vec<prop::sample::Index>,
        control: Option<(prop::sample::Index, bool, Vec<u8>)>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn item() -> impl Strategy<Value = Item> {
    let payload = prop_oneof![
        any::<String>().prop_map(|s| (true, s.into_bytes())),
        vec(any::<u8>(), 0..300).prop_map(|b| (false, b)),
        // Over 65535: the 64-bit length.
        (1usize..3, any::<u8>()).prop_map(|(n, b)| (false, vec![b; 65535 + n])),
    ];
    prop_oneof![
        6 => (
            payload,
            vec(any::<prop::sample::Index>(), 0..4),
            prop::option::of((any::<prop::sample::Index>(), any::<bool>(), vec(any::<u8>(), 0..126))),
        )
            .prop_map(|((text, payload), cuts, control)| Item::Message { text, payload, cuts, control }),
        1 => vec(any::<u8>(), 0..126).prop_map(Item::Ping),
        1 => vec(any::<u8>(), 0..126).prop_map(Item::Pong),
    ]
}

/// The client's bytes for `items` (and a Close, if given), and the events they must give.
fn encode(items: &[Item], close: Option<(u16, String)>, key: [u8; 4]) -> (Vec<u8>, Vec<Seen>) {
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for item in items {
        match item {
            Item::Message {
                text,
                payload,
                cuts,
                control,
            } => {
                let mut points: Vec<usize> =
                    cuts.iter().map(|c| c.index(payload.len() + 1)).collect();
                points.push(0);
                points.push(payload.len());
                points.sort_unstable();
                let fragments: Vec<&[u8]> =
                    points.windows(2).map(|w| &payload[w[0]..w[1]]).collect();
                let control_after = control.as_ref().map(|(at, ..)| at.index(fragments.len()));
                for (i, fragment) in fragments.iter().enumerate() {
                    let opcode = match (i, text) {
                        (0, true) => Opcode::Text,
                        (0, false) => Opcode::Binary,
                        _ => Opcode::Continuation,
                    };
                    frame(
                        &mut bytes,
                        i + 1 == fragments.len(),
                        opcode,
                        fragment,
                        Some(key),
                    );
                    if control_after == Some(i) && i + 1 < fragments.len() {
                        let (_, ping, body) = control.as_ref().unwrap();
                        let opcode = if *ping { Opcode::Ping } else { Opcode::Pong };
                        frame(&mut bytes, true, opcode, body, Some(key));
                        expected.push(if *ping {
                            Seen::Ping(body.clone())
                        } else {
                            Seen::Pong(body.clone())
                        });
                    }
                }
                let kind = if *text {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                expected.push(Seen::Message(kind, payload.clone()));
            }
            Item::Ping(body) => {
                frame(&mut bytes, true, Opcode::Ping, body, Some(key));
                expected.push(Seen::Ping(body.clone()));
            }
            Item::Pong(body) => {
                frame(&mut bytes, true, Opcode::Pong, body, Some(key));
                expected.push(Seen::Pong(body.clone()));
            }
        }
    }
    if let Some((code, reason)) = close {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(reason.as_bytes());
        frame(&mut bytes, true, Opcode::Close, &body, Some(key));
        expected.push(Seen::Close(Some(code), reason));
        // Whatever follows a Close is not read.
        frame(&mut bytes, true, Opcode::Ping, b"after", Some(key));
    }
    (bytes, expected)
}

const SERVER: ReaderConfig = ReaderConfig::server(1 << 20, 1 << 20);

fn sorted_cuts(cuts: &[prop::sample::Index], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(cases(64))]

    /// (a) RFC 6455 §5.4: fragments and interleaved control frames give the model's events,
    /// whole and split anywhere.
    #[test]
    fn valid_sequences_split_anywhere(
        items in vec(item(), 0..5),
        close in prop::option::of((prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999], "[a-zé]{0,30}")),
        key in any::<[u8; 4]>(),
        cuts in vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let (bytes, expected) = encode(&items, close, key);
        prop_assert_eq!(&drive(SERVER, &bytes, &[]), &expected);
        let cuts = sorted_cuts(&cuts, bytes.len());
        prop_assert_eq!(&drive(SERVER, &bytes, &cuts), &expected);
    }

    /// (b) RFC 6455 §5.2: what the writer writes, a reader of the other role reads back.
    #[test]
    fn writer_round_trip(
        text in any::<String>(),
        binary in vec(any::<u8>(), 0..70000),
        ping in vec(any::<u8>(), 0..126),
        code in prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999],
        reason in any::<String>(),
        cuts in vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut bytes = vec![0u8; text.len() + binary.len() + 1024];
        let mut at = 0;
        at += write_frame(&mut bytes[at..], Opcode::Text, text.as_bytes()).unwrap();
        at += write_frame(&mut bytes[at..], Opcode::Binary, &binary).unwrap();
        at += write_frame(&mut bytes[at..], Opcode::Ping, &ping).unwrap();
        at += write_close(&mut bytes[at..], Some((CloseCode(code), &reason))).unwrap();
        bytes.truncate(at);
        let client = ReaderConfig { role: Role::Client, ..SERVER };
        let cuts = sorted_cuts(&cuts, bytes.len());
        let seen = drive(client, &bytes, &cuts);
        prop_assert_eq!(seen.len(), 4);
        prop_assert_eq!(&seen[0], &Seen::Message(DataKind::Text, text.into_bytes()));
        prop_assert_eq!(&seen[1], &Seen::Message(DataKind::Binary, binary));
        prop_assert_eq!(&seen[2], &Seen::Ping(ping));
        let Seen::Close(Some(read_code), read_reason) = &seen[3] else {
            panic!("{:?}", seen[3]);
        };
        prop_assert_eq!(*read_code, code);
        // RFC 6455 §5.5: 125 bytes at most, so the reason is cut to 123, at a character boundary.
        if reason.len() <= 123 {
            prop_assert_eq!(read_reason, &reason);
        } else {
            prop_assert!(reason.starts_with(read_reason.as_str()));
            prop_assert!(read_reason.len() <= 123 && 123 - read_reason.len() < 4);
        }
    }

    /// (c) Arbitrary bytes, split anywhere: no panic, and the same verdict as whole.
    #[test]
    fn arbitrary_bytes_split_anywhere(
        bytes in vec(prop_oneof![any::<u8>(), Just(0x81u8), Just(0x80u8), Just(0x88u8), Just(0x00u8)], 0..200),
        cuts in vec(any::<prop::sample::Index>(), 0..8),
        role in prop_oneof![Just(Role::Server), Just(Role::Client)],
    ) {
        let config = ReaderConfig { role, ..ReaderConfig::server(64, 100) };
        let cuts = sorted_cuts(&cuts, bytes.len());
        let whole = drive(config, &bytes, &[]);
        let split = drive(config, &bytes, &cuts);
        prop_assert_eq!(whole, split);
    }
}
