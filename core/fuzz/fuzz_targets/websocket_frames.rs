//! Fuzzes the WebSocket `MessageReader`: the input's first byte chooses the reader's role
//! (bit 7: client, else server), small or large limits (bit 6) and how many schedule bytes
//! follow (low nibble); the schedule gives the sizes of the pieces the rest arrives in. The
//! bytes are read piece by piece, and once whole.
//!
//! Checks: no panic; every step consumes at most what it was given and `NeedMore` all of it;
//! every `Data` range lies inside the slice fed and ends where the step's consumption does;
//! `first` marks exactly the first piece of each message; a text message that completes is
//! UTF-8 as a whole; the split and one-shot runs give the same events (each message's pieces
//! joined) and the same verdict.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zzz_core::websocket::{
    CloseCode, DataKind, Event, MessageReader, ReaderConfig, Role, Violation,
};

fn split(data: &[u8]) -> (ReaderConfig, &[u8], &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return (ReaderConfig::server(1 << 16, 1 << 16), &[], &[]);
    };
    let role = if control & 0x80 != 0 {
        Role::Client
    } else {
        Role::Server
    };
    let (max_frame, max_message) = if control & 0x40 != 0 {
        (64, 100)
    } else {
        (1 << 16, 1 << 16)
    };
    let config = ReaderConfig {
        role,
        ..ReaderConfig::server(max_frame, max_message)
    };
    let n = ((control & 0x0f) as usize).min(rest.len());
    let (schedule, payload) = rest.split_at(n);
    (config, schedule, payload)
}

#[derive(Debug, PartialEq)]
enum Seen {
    Message(DataKind, Vec<u8>),
    Unfinished(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseCode>, String, Option<CloseCode>),
    Fail(Violation),
}

fn read(config: ReaderConfig, payload: &[u8], schedule: &[u8]) -> Vec<Seen> {
    let mut reader = MessageReader::new(config);
    let mut buf = payload.to_vec();
    let mut seen = Vec::new();
    let mut message: Option<(DataKind, Vec<u8>)> = None;
    let (mut start, mut end) = (0usize, 0usize);
    let mut turn = 0;
    // Bounded: each piece advances `end` by at least one byte until the input is whole.
    while end < buf.len() || turn == 0 {
        let step_size = match schedule.get(turn % schedule.len().max(1)) {
            Some(&b) => b as usize + 1,
            None => buf.len().max(1),
        };
        turn += 1;
        end = (end + step_size).min(buf.len());
        // Bounded: each round consumes at least one byte or ends the piece.
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
                    assert!(
                        range.start <= range.end && range.end <= len,
                        "{range:?} in {len}"
                    );
                    assert_eq!(range.end, step.consumed);
                    assert_eq!(first, message.is_none());
                    let piece = buf[start..end][range].to_vec();
                    let (k, joined) = message.get_or_insert_with(|| (kind, Vec::new()));
                    assert_eq!(*k, kind);
                    joined.extend_from_slice(&piece);
                    if fin {
                        let (kind, joined) = message.take().unwrap();
                        if kind == DataKind::Text {
                            assert!(
                                std::str::from_utf8(&joined).is_ok(),
                                "a completed text message"
                            );
                        }
                        assert!(joined.len() as u64 <= config.max_message);
                        seen.push(Seen::Message(kind, joined));
                    }
                }
                Event::Ping(p) => seen.push(Seen::Ping(p.to_vec())),
                Event::Pong(p) => seen.push(Seen::Pong(p.to_vec())),
                Event::Close {
                    code,
                    reason,
                    reply,
                } => {
                    assert!(code.is_none_or(CloseCode::is_allowed_on_wire));
                    seen.push(Seen::Close(code, reason.into(), reply));
                    return seen;
                }
                Event::Fail(violation) => {
                    // The message cut short is dropped whole; how much of it was delivered
                    // depends on where the reads fell, so it is not compared.
                    seen.push(Seen::Fail(violation));
                    let again = reader.read(&mut buf[start..end]);
                    assert_eq!((again.consumed, again.event), (0, Event::Fail(violation)));
                    return seen;
                }
                Event::NeedMore => {
                    assert_eq!(step.consumed, len, "NeedMore consumes everything");
                    start = end;
                    break;
                }
            }
            start += step.consumed;
        }
        assert_eq!(start, end, "every byte received was consumed");
        if buf.is_empty() {
            break;
        }
    }
    if let Some((kind, joined)) = message {
        seen.push(Seen::Unfinished(kind, joined));
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    let (config, schedule, payload) = split(data);
    let pieces = read(config, payload, schedule);
    let whole = read(config, payload, &[]);
    assert_eq!(pieces, whole);
});
