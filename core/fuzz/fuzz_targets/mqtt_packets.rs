//! Fuzzes the MQTT 3.1.1 wire layer: the input's first byte chooses the packet-size limit
//! (bit 7: 64 bytes, else the protocol's maximum) and how many schedule bytes follow (low
//! nibble); the schedule gives the sizes of the pieces the rest arrives in. The rest is read
//! as a stream of packets: through the resumable `HeaderDecoder` fed piece by piece, then
//! `decode_packet` on each body; and once more whole, with `read_packet`.
//!
//! Checks: no panic; the split and whole runs give the same packets and the same verdict;
//! every string and byte field of a decoded packet is a slice of the input (UTF-8 by its
//! type); every decoded packet written again with `write_packet` gives the very bytes it was
//! decoded from, which decode to the same packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zzz_core::mqtt::{
    DecodeError, HeaderDecoder, HeaderStep, MAX_REMAINING_LEN, Packet, decode_packet, read_packet,
    write_packet,
};

fn split(data: &[u8]) -> (u32, &[u8], &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return (MAX_REMAINING_LEN, &[], &[]);
    };
    let max_packet = if control & 0x80 != 0 {
        64
    } else {
        MAX_REMAINING_LEN
    };
    let n = ((control & 0x0f) as usize).min(rest.len());
    let (schedule, stream) = rest.split_at(n);
    (max_packet, schedule, stream)
}

/// What was read: each packet's bytes (its decoded value is checked against them), then how
/// the stream ended.
#[derive(Debug, PartialEq)]
enum End {
    /// The stream ended on a packet boundary, or inside a packet (`true`).
    Clean(bool),
    Failed(DecodeError),
}

fn inside(input: &[u8], field: &[u8]) {
    let start = input.as_ptr() as usize;
    let at = field.as_ptr() as usize;
    assert!(
        field.is_empty() || (at >= start && at + field.len() <= start + input.len()),
        "a decoded field lies inside the packet it was decoded from"
    );
}

/// Checks a decoded packet against its bytes: its fields are slices of them, and writing it
/// again gives them back.
fn check(packet: &Packet<'_>, bytes: &[u8], max_packet: u32) {
    match packet {
        Packet::Connect(c) => {
            inside(bytes, c.client_id.as_bytes());
            if let Some(w) = &c.will {
                inside(bytes, w.topic.as_bytes());
                inside(bytes, w.message);
            }
            if let Some(u) = c.username {
                inside(bytes, u.as_bytes());
            }
            if let Some(p) = c.password {
                inside(bytes, p);
            }
        }
        Packet::Publish(p) => {
            inside(bytes, p.topic.as_bytes());
            inside(bytes, p.payload);
        }
        Packet::Subscribe(s) => {
            for (filter, _) in s.filters {
                inside(bytes, filter.as_bytes());
            }
        }
        Packet::Unsubscribe(u) => {
            for filter in u.filters {
                inside(bytes, filter.as_bytes());
            }
        }
        Packet::Suback(s) => inside(bytes, s.code_bytes()),
        _ => {}
    }
    let mut buf = vec![0u8; bytes.len()];
    let n = write_packet(&mut buf, packet).expect("a decoded packet can be written");
    assert_eq!(&buf[..n], bytes, "written again, byte for byte");
    let (again, len) = read_packet(&buf[..n], max_packet)
        .expect("decodes again")
        .expect("whole");
    assert_eq!((&again, len), (packet, n));
}

fn read_split(max_packet: u32, stream: &[u8], schedule: &[u8]) -> (Vec<Vec<u8>>, End) {
    let mut packets = Vec::new();
    let mut decoder = HeaderDecoder::new(max_packet);
    // Where the current packet started, and how far the bytes have arrived.
    let (mut packet_start, mut at, mut arrived) = (0usize, 0usize, 0usize);
    let mut turn = 0;
    let mut body: Option<(zzz_core::mqtt::FixedHeader, usize)> = None;
    // Bounded: each turn delivers at least one more byte until all have arrived.
    while arrived < stream.len() {
        let size = match schedule.get(turn % schedule.len().max(1)) {
            Some(&b) => b as usize + 1,
            None => stream.len(),
        };
        turn += 1;
        arrived = (arrived + size).min(stream.len());
        // Bounded: each round completes a header or a packet, or waits for more bytes.
        for _round in 0..=arrived - at + 1 {
            match body {
                None => match decoder.decode(&stream[at..arrived]) {
                    HeaderStep::Partial => {
                        at = arrived;
                        break;
                    }
                    HeaderStep::Invalid(error) => return (packets, End::Failed(error)),
                    HeaderStep::Complete { header, consumed } => {
                        at += consumed;
                        body = Some((header, at));
                    }
                },
                Some((header, start)) => {
                    let end = start + header.remaining_len as usize;
                    if arrived < end {
                        break;
                    }
                    if let Err(error) = decode_packet(&header, &stream[start..end]) {
                        return (packets, End::Failed(error));
                    }
                    packets.push(stream[packet_start..end].to_vec());
                    (packet_start, at, body) = (end, end, None);
                }
            }
        }
    }
    let partial = decoder.is_partial() || body.is_some();
    (packets, End::Clean(partial))
}

fn read_whole(max_packet: u32, stream: &[u8]) -> (Vec<Vec<u8>>, End) {
    let mut packets = Vec::new();
    let mut at = 0;
    // Bounded: each turn takes a whole packet of at least 2 bytes, or ends.
    while at < stream.len() {
        match read_packet(&stream[at..], max_packet) {
            Ok(Some((packet, len))) => {
                let bytes = &stream[at..at + len];
                check(&packet, bytes, max_packet);
                packets.push(bytes.to_vec());
                at += len;
            }
            Ok(None) => return (packets, End::Clean(true)),
            Err(error) => return (packets, End::Failed(error)),
        }
    }
    (packets, End::Clean(false))
}

fuzz_target!(|data: &[u8]| {
    let (max_packet, schedule, stream) = split(data);
    let pieces = read_split(max_packet, stream, schedule);
    let whole = read_whole(max_packet, stream);
    assert_eq!(pieces, whole);
});
