//! Fuzzes `ChunkedDecoder`: the input's first bytes choose the limits and the sizes of the
//! pieces the rest arrives in; the decoder decodes it in place piece by piece, and once whole.
//!
//! Checks: no panic; `written <= read <= received` and `body_len() == written` after every
//! call; the split and one-shot runs give the same verdict, cursors and body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zzz_core::http::{ChunkedDecoder, Limits, RequestError};

/// Small limits, so that short inputs reach every limit.
const SMALL: Limits = Limits {
    max_request_line: 64,
    max_head: 256,
    max_headers: 8,
    max_body: 1000,
    max_chunk_extensions: 32,
    max_trailers: 32,
};

/// The same layout as `head_parser`: control byte, schedule bytes, payload.
fn split(data: &[u8]) -> (Limits, &[u8], &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return (Limits::DEFAULT, &[], &[]);
    };
    let limits = if control & 0x80 != 0 {
        SMALL
    } else {
        Limits::DEFAULT
    };
    let n = ((control & 0x0f) as usize).min(rest.len());
    let (schedule, payload) = rest.split_at(n);
    (limits, schedule, payload)
}

#[derive(Debug, PartialEq)]
enum Decoded {
    Done { read: usize, body: Vec<u8> },
    NeedMore { read: usize, body: Vec<u8> },
    Error(RequestError),
}

fn decode(payload: &[u8], schedule: &[u8], limits: &Limits) -> Decoded {
    let mut buf = payload.to_vec();
    let mut decoder = ChunkedDecoder::new();
    let (mut read, mut written, mut end) = (0usize, 0usize, 0usize);
    let mut turn = 0;
    loop {
        let step = match schedule.get(turn % schedule.len().max(1)) {
            Some(&b) => b as usize + 1,
            None => buf.len().max(1),
        };
        turn += 1;
        end = (end + step).min(buf.len());
        let result = decoder.decode_in_place(&mut buf[..end], &mut read, &mut written, limits);
        assert!(
            written <= read && read <= end,
            "cursors {written} {read} {end}"
        );
        match result {
            Ok(done) => {
                assert_eq!(decoder.body_len(), written as u64);
                assert_eq!(done, decoder.is_done());
                if done {
                    return Decoded::Done {
                        read,
                        body: buf[..written].to_vec(),
                    };
                }
                if end == buf.len() {
                    return Decoded::NeedMore {
                        read,
                        body: buf[..written].to_vec(),
                    };
                }
            }
            Err(e) => return Decoded::Error(e),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (limits, schedule, payload) = split(data);
    let pieces = decode(payload, schedule, &limits);
    let whole = decode(payload, &[], &limits);
    assert_eq!(pieces, whole);
});
