//! UTF-8 validation of a text message that arrives in pieces (RFC 6455 §8.1).

/// Validates a byte stream as UTF-8 piece by piece, failing as soon as a sequence can no
/// longer become valid (RFC 3629: overlong forms, surrogates and code points above U+10FFFF
/// are invalid), as the Autobahn suite's section 6 asks ("fail fast").
///
/// Between pieces it keeps the incomplete sequence that ended the last one: at most 3 bytes.
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    pending: [u8; 3],
    pending_len: u8,
}

/// The bytes are not UTF-8, or the stream ended inside a sequence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InvalidUtf8;

impl Utf8Validator {
    /// A validator at the start of a stream.
    pub const fn new() -> Utf8Validator {
        Utf8Validator {
            pending: [0; 3],
            pending_len: 0,
        }
    }

    /// Whether the stream so far ends inside a multi-byte sequence.
    pub const fn is_inside_sequence(&self) -> bool {
        self.pending_len > 0
    }

    /// Validates the next piece of the stream.
    pub fn feed(&mut self, piece: &[u8]) -> Result<(), InvalidUtf8> {
        let rest = match self.complete_pending(piece)? {
            Some(taken) => &piece[taken..],
            None => return Ok(()),
        };
        match core::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                self.keep(&rest[e.valid_up_to()..]);
                Ok(())
            }
        }
    }

    /// Validates the end of the stream: it must not end inside a sequence.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let inside = self.is_inside_sequence();
        *self = Utf8Validator::new();
        if inside { Err(InvalidUtf8) } else { Ok(()) }
    }

    /// Completes the sequence kept from the last piece with bytes from the front of `piece`.
    /// Returns how many bytes of `piece` that took, or `None` if `piece` ended before the
    /// sequence did (it is kept, longer).
    fn complete_pending(&mut self, piece: &[u8]) -> Result<Option<usize>, InvalidUtf8> {
        let kept = self.pending_len as usize;
        if kept == 0 {
            return Ok(Some(0));
        }
        let mut joined = [0u8; 4];
        joined[..kept].copy_from_slice(&self.pending[..kept]);
        let added = piece.len().min(4 - kept);
        joined[kept..kept + added].copy_from_slice(&piece[..added]);
        let joined = &joined[..kept + added];
        match core::str::from_utf8(joined) {
            Ok(_) => {
                self.pending_len = 0;
                Ok(Some(added))
            }
            Err(e) if e.valid_up_to() > 0 => {
                // The kept bytes are a proper prefix of one sequence, so whatever is valid
                // covers all of them and completes it.
                debug_assert!(e.valid_up_to() > kept);
                self.pending_len = 0;
                Ok(Some(e.valid_up_to() - kept))
            }
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(_) => {
                debug_assert!(added == piece.len(), "four bytes always decide a sequence");
                self.keep(joined);
                Ok(None)
            }
        }
    }

    fn keep(&mut self, incomplete: &[u8]) {
        assert!(!incomplete.is_empty() && incomplete.len() <= 3);
        self.pending[..incomplete.len()].copy_from_slice(incomplete);
        self.pending_len = incomplete.len() as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn validate_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            v.feed(&bytes[start..cut])?;
            start = cut;
        }
        v.finish()
    }

    /// RFC 6455 §8.1 with RFC 3629 §3-§4: every split of valid and invalid sequences.
    #[test]
    fn every_split_of_known_sequences() {
        let valid: &[&[u8]] = &[
            "κόσμε".as_bytes(),
            "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}".as_bytes(),
            b"",
        ];
        let invalid: &[&[u8]] = &[
            b"\xc0\xaf",             // overlong '/'
            b"\xe0\x80\xaf",         // overlong, 3 bytes
            b"\xed\xa0\x80",         // U+D800, a surrogate
            b"\xed\xbf\xbf",         // U+DFFF
            b"\xf4\x90\x80\x80",     // U+110000
            b"\xf8\x88\x80\x80\x80", // 5-byte form
            b"\xce\xba\xe1\xbd",     // truncated at the end
            b"\x80",                 // lone continuation byte
            b"a\xffb",
        ];
        for bytes in valid.iter().chain(invalid) {
            let expected = core::str::from_utf8(bytes).is_ok();
            for a in 0..=bytes.len() {
                for b in a..=bytes.len() {
                    let got = validate_in_pieces(bytes, &[a, b]).is_ok();
                    assert_eq!(got, expected, "{bytes:02x?} cut at {a}, {b}");
                }
            }
        }
    }

    /// Fail fast: `F4 90` can never become a code point at most U+10FFFF, so it is refused
    /// before the sequence's last bytes arrive.
    #[test]
    fn fails_fast() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ok\xf4"), Ok(()));
        assert!(v.is_inside_sequence());
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"\xed\xa0"), Err(InvalidUtf8));
    }

    proptest! {
        /// Any bytes, split anywhere: the same verdict as `core::str::from_utf8` on the whole.
        #[test]
        fn equals_from_utf8(
            bytes in proptest::collection::vec(
                prop_oneof![any::<u8>(), 0x80u8..0xc0, 0xc2u8..0xf5], 0..24),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let expected = core::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(validate_in_pieces(&bytes, &cuts).is_ok(), expected);
        }
    }
}
