use super::*;
use crate::config::Config;
use crate::net::PeerAddr;
use crate::server::{Event, IoError, OpKind, SlotId};
use crate::time::{Instant, Now};
use std::vec::Vec;

fn start() -> Now {
    Now {
        monotonic: Instant(300),
        unix_secs: 1_700_000_000,
    }
}

#[test]
fn the_header_holds_the_configuration_and_start() {
    let mut buf = [0u8; HEADER_MAX];
    let rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
    let b = rec.bytes();
    assert!(b.starts_with(MAGIC));
    assert!(b.len() <= HEADER_MAX);
    assert_eq!(rec.records(), 0);
    assert!(rec.is_empty());
    let mut small = [0u8; 20];
    assert_eq!(
        Recorder::new(&mut small, &Config::DEFAULT, start()).unwrap_err(),
        TooSmall
    );
}

#[test]
fn config_fields_round_trip() {
    let mut c = Config::DEFAULT;
    c.max_connections = 7;
    c.timeouts.linger_ms = 0;
    c.limits.max_trailers = 3;
    c.datagram_size = 512;
    c.datagram_replies = 4;
    assert_eq!(config_from_fields(&config_fields(&c)), c);
    assert_eq!(op_of(op_code(OpKind::Send)), OpKind::Send);
    assert_eq!(error_of(error_code(IoError::Retry)), IoError::Retry);
}

#[test]
fn records_are_tagged_varints() {
    let mut buf = [0u8; 512];
    let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
    let header = rec.len();
    let local = PeerAddr::Local;
    rec.record(
        Event::Accepted {
            protocol: 0,
            peer: local,
        },
        &[],
        Some(200),
    );
    rec.record(Event::Received { slot: 200, n: 2 }, b"hi", None);
    rec.record(Event::Sent { slot: 200, n: 300 }, &[], None);
    let failed = Event::Failed {
        slot: 200,
        op: OpKind::Send,
        error: IoError::Broken,
    };
    rec.record(failed, &[], None);
    rec.record(Event::Closed { slot: 1 }, &[], None);
    rec.record(
        Event::Accepted {
            protocol: 1,
            peer: local,
        },
        &[],
        None,
    );
    rec.record(Event::Shutdown, &[], None);
    assert_eq!(
        &rec.bytes()[header..],
        &[
            1, 0, 201, 1, // accepted: protocol 0, slot 200 + 1 = 201 (two bytes)
            2, 200, 1, 2, b'h', b'i', // received
            3, 200, 1, 172, 2, // sent 300
            4, 200, 1, 1, 1, // failed send, broken
            5, 1, // closed
            1, 1, 0, // accepted refused on protocol 1
            8, // shutdown
        ]
    );
    assert_eq!(rec.records(), 7);
}

/// What is recorded decodes to the same events, in order, with their bytes.
#[test]
fn every_event_round_trips() {
    let local = PeerAddr::Local;
    let events: [(Event<u8>, &[u8], Option<SlotId>); 11] = [
        (
            Event::Accepted {
                protocol: 2,
                peer: local,
            },
            &[],
            Some(5),
        ),
        (Event::Received { slot: 5, n: 3 }, b"abc", None),
        (Event::Received { slot: 5, n: 0 }, b"", None),
        (Event::Sent { slot: 5, n: 70_000 }, &[], None),
        (
            Event::Failed {
                slot: 5,
                op: OpKind::Recv,
                error: IoError::Retry,
            },
            &[],
            None,
        ),
        (Event::Tick(start()), &[], None),
        (
            Event::Datagram {
                protocol: 1,
                origin: 3,
                peer: local,
                n: 4,
            },
            b"ping",
            None,
        ),
        (Event::DatagramSent { reply: 9 }, &[], None),
        (Event::MakeRoom { waiting: 12 }, &[], None),
        (Event::TurnedAway, &[], None),
        (Event::Closed { slot: 5 }, &[], None),
    ];
    let mut buf = [0u8; 1024];
    let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
    for (event, data, accepted) in events {
        rec.record(event, data, accepted);
    }
    let (header, decoder) = Decoder::new(rec.bytes()).unwrap();
    assert_eq!((header.config, header.start), (Config::DEFAULT, start()));
    let decoded: Vec<Recorded<'_>> = decoder.map(Result::unwrap).collect();
    assert_eq!(decoded.len(), events.len());
    for (d, (event, data, accepted)) in decoded.iter().zip(events) {
        assert_eq!((d.event, d.data, d.accepted), (event, data, accepted));
    }
    assert_eq!(
        Decoder::new(b"ZZZREC01").unwrap_err(),
        DecodeError::BadMagic
    );
    let cut = &rec.bytes()[..rec.len() - 1];
    let (_, decoder) = Decoder::new(cut).unwrap();
    assert_eq!(decoder.last(), Some(Err(DecodeError::Truncated)));
}

#[test]
fn a_full_buffer_keeps_whole_records_and_says_it_is_truncated() {
    let mut buf = [0u8; 140];
    let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
    let header = rec.len();
    let flags_at = rec.flags_at;
    assert_eq!(rec.bytes()[flags_at], 0);
    rec.record(Event::Received { slot: 0, n: 20 }, &[b'x'; 20], None);
    let after_one = rec.len();
    // Does not fit: nothing of it is written, and nothing after it either.
    rec.record(Event::Received { slot: 0, n: 200 }, &[b'y'; 200], None);
    rec.record(Event::Closed { slot: 0 }, &[], None);
    assert!(rec.is_truncated());
    assert_eq!(rec.len(), after_one);
    assert_eq!(rec.records(), 1);
    assert_eq!(rec.bytes()[flags_at], flags::TRUNCATED as u8);
    assert_eq!(after_one - header, 3 + 20);
    let (h, _) = Decoder::new(rec.bytes()).unwrap();
    assert!(h.truncated);
}

#[test]
fn a_varint_of_64_bits_decodes_and_one_bit_more_is_refused() {
    let mut buf = [0u8; 512];
    let mut rec = Recorder::new(&mut buf, &Config::DEFAULT, start()).unwrap();
    let max = Now {
        monotonic: Instant(u64::MAX),
        unix_secs: 0,
    };
    rec.record(Event::Tick(max), &[], None);
    let mut bytes = rec.bytes().to_vec();
    let (_, mut events) = Decoder::new(&bytes).unwrap();
    assert_eq!(events.next().unwrap().unwrap().event, Event::Tick(max));
    // u64::MAX is nine bytes of 0xff and a tenth holding the 64th bit; a 65th is past it.
    let tenth = bytes
        .windows(10)
        .position(|w| w[..9] == [0xff; 9] && w[9] == 0x01)
        .unwrap()
        + 9;
    bytes[tenth] = 0x03;
    let (_, mut events) = Decoder::new(&bytes).unwrap();
    assert_eq!(events.next().unwrap().unwrap_err(), DecodeError::BadInt);
}
