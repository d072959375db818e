//! An incremental decoder for the chunked transfer coding (RFC 9112 §7.1), in place.
//!
//! The decoder reads framing and data from `buf[read..]` and moves the data down to
//! `buf[written..]`, so the decoded body ends up contiguous in the buffer it arrived in, with
//! no second buffer. It keeps its state between calls, so the body may arrive in pieces of any
//! size, one byte included; each byte is examined once.
//!
//! Strict, as the smuggling advisories of the last decade require: sizes are 1–16 hex digits
//! with no prefix or sign; extensions must follow `;name[=token|quoted-string]` and together
//! stay under [`Limits::max_chunk_extensions`]; chunk data must be followed by CRLF exactly;
//! trailer fields are validated like header fields, bounded by [`Limits::max_trailers`], and
//! then discarded (zzz does not merge trailers into the head). Bare CR and bare LF are errors.
//!
//! ## Whitespace on a chunk-size line
//!
//! RFC 9112 §7.1 writes the line as `chunk-size [ chunk-ext ] CRLF` with
//! `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`: whitespace may
//! only stand before a `;` or an `=`, or after one. zzz accepts exactly that (`5 ;a = b`), since
//! RFC 9110 §5.6.3 says a recipient MUST parse such "bad" whitespace; and it rejects whitespace
//! anywhere else, above all between the size and the CRLF (`5 \r\n`) and inside the size
//! (`5 0`): parsers that skip it and parsers that stop at it read different sizes, which is a
//! request-smuggling primitive (llhttp has refused spaces after the size since its version 9,
//! and so do Pekko HTTP and picohttpparser for what follows them).

use super::error::RequestError::{self, *};
use super::limits::Limits;
use super::scan::{TOKEN, is_field_byte};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Hex digits of a chunk size; `digits` counts them.
    Size,
    /// Whitespace after the size: only more whitespace or `;` may follow.
    SizeBws,
    /// Whitespace after an extension value: only more whitespace or `;` may follow.
    ExtBws,
    /// After `;`, before the extension name.
    ExtNameStart,
    ExtName,
    /// Whitespace after a name: only more whitespace, `=` or `;` may follow.
    ExtAfterName,
    /// After `=`, before the value.
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedEscape,
    /// Just after the closing quote of a quoted value: `;`, whitespace or CR.
    ExtQuotedEnd,
    /// The LF of a chunk-size line.
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerLineStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    EndLf,
    Done,
}

/// Decodes one chunked body. Create one per request; it ends in [`ChunkedDecoder::is_done`].
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    digits: u8,
    size: u64,
    /// Data bytes left in the current chunk.
    remaining: u64,
    /// Decoded bytes so far.
    body_len: u64,
    /// Bytes declared by the size lines so far, checked against the limit as they arrive.
    declared: u64,
    extension_bytes: u32,
    trailer_bytes: u32,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub const fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            digits: 0,
            size: 0,
            remaining: 0,
            body_len: 0,
            declared: 0,
            extension_bytes: 0,
            trailer_bytes: 0,
        }
    }

    /// Whether the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded body bytes so far.
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Whether the decoder is inside chunk data, waiting for this many more bytes. Lets a
    /// caller size a receive to the data it expects.
    pub fn data_remaining(&self) -> u64 {
        if self.state == State::Data {
            self.remaining
        } else {
            0
        }
    }

    /// Decodes `buf[*read..]`, moving data down to `buf[*written..]` (`*written <= *read`).
    /// Advances both cursors and returns `true` once the body is complete, at which point
    /// `*read` is just past the body and `buf[*read..]` belongs to the next request.
    pub fn decode_in_place(
        &mut self,
        buf: &mut [u8],
        read: &mut usize,
        written: &mut usize,
        limits: &Limits,
    ) -> Result<bool, RequestError> {
        assert!(*written <= *read && *read <= buf.len());
        if self.state == State::Done {
            return Ok(true);
        }
        // Bounded: each round consumes at least one byte of `buf` (data, or a byte of a size,
        // extension, CRLF or trailer line) or returns.
        let mut budget = buf.len() - *read + 1;
        while *read < buf.len() {
            assert!(
                budget > 0,
                "the chunked decoder stopped consuming its input"
            );
            budget -= 1;
            if self.state == State::Data {
                let available = (buf.len() - *read) as u64;
                let n = self.remaining.min(available) as usize;
                buf.copy_within(*read..*read + n, *written);
                *read += n;
                *written += n;
                self.remaining -= n as u64;
                self.body_len += n as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            let b = buf[*read];
            *read += 1;
            self.step(b, limits)?;
            if self.state == State::Done {
                return Ok(true);
            }
        }
        Ok(self.state == State::Done)
    }

    /// One framing byte.
    fn step(&mut self, b: u8, limits: &Limits) -> Result<(), RequestError> {
        use State::*;
        if b != b'\r'
            && matches!(
                self.state,
                SizeBws
                    | ExtBws
                    | ExtNameStart
                    | ExtName
                    | ExtAfterName
                    | ExtValueStart
                    | ExtToken
                    | ExtQuoted
                    | ExtQuotedEscape
                    | ExtQuotedEnd
            )
            || (self.state == Size && matches!(b, b';' | b' ' | b'\t'))
        {
            self.extension_bytes += 1;
            if self.extension_bytes > limits.max_chunk_extensions as u32 {
                return Err(ChunkExtensionsTooLarge);
            }
        }
        if matches!(
            self.state,
            TrailerLineStart | TrailerName | TrailerValue | TrailerLf | EndLf
        ) {
            self.trailer_bytes += 1;
            if self.trailer_bytes > limits.max_trailers as u32 {
                return Err(TrailersTooLarge);
            }
        }
        let is_ws = b == b' ' || b == b'\t';
        let is_token = TOKEN[b as usize];
        self.state = match (self.state, b) {
            (Size, _) if (b as char).is_ascii_hexdigit() => {
                self.digits += 1;
                if self.digits > 16 {
                    return Err(InvalidChunkSize);
                }
                self.size = self.size << 4 | (b as char).to_digit(16).unwrap_or(0) as u64;
                if self.declared.saturating_add(self.size) > limits.max_body as u64 {
                    return Err(BodyTooLarge);
                }
                Size
            }
            (Size, _) if self.digits == 0 => return Err(InvalidChunkSize),
            (Size | SizeBws | ExtBws | ExtQuotedEnd, b';') => ExtNameStart,
            (Size | SizeBws, _) if is_ws => SizeBws,
            (ExtBws | ExtQuotedEnd, _) if is_ws => ExtBws,
            (Size | ExtName | ExtToken | ExtQuotedEnd, b'\r') => SizeLf,
            (Size, b'\n') => return Err(BareLf),
            // Whitespace after the size that no `;` follows: `5 \r\n`, `5 0` (module docs).
            (Size | SizeBws, _) => return Err(InvalidChunkSize),
            (ExtNameStart, _) if is_ws => ExtNameStart,
            (ExtNameStart | ExtName, _) if is_token => ExtName,
            (ExtName | ExtAfterName, _) if is_ws => ExtAfterName,
            (ExtName | ExtAfterName, b'=') => ExtValueStart,
            (ExtName | ExtAfterName | ExtToken, b';') => ExtNameStart,
            (ExtValueStart, _) if is_ws => ExtValueStart,
            (ExtValueStart, b'"') => ExtQuoted,
            (ExtValueStart | ExtToken, _) if is_token => ExtToken,
            (ExtToken, _) if is_ws => ExtBws,
            (ExtQuoted, b'"') => ExtQuotedEnd,
            (ExtQuoted, b'\\') => ExtQuotedEscape,
            (ExtQuoted | ExtQuotedEscape, _) if is_field_byte(b) => ExtQuoted,
            (_, b'\n')
                if !matches!(
                    self.state,
                    SizeLf | TrailerLf | EndLf | DataCr | DataLf | TrailerLineStart
                ) =>
            {
                return Err(BareLf);
            }
            (
                ExtBws | ExtNameStart | ExtName | ExtAfterName | ExtValueStart | ExtToken
                | ExtQuoted | ExtQuotedEscape | ExtQuotedEnd,
                _,
            ) => return Err(InvalidChunkExtension),
            (SizeLf, b'\n') => self.end_size_line(limits)?,
            (SizeLf, _) => return Err(BareCr),
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => {
                self.digits = 0;
                self.size = 0;
                Size
            }
            (DataCr | DataLf, _) => return Err(InvalidChunkData),
            (TrailerLineStart, b'\r') => EndLf,
            (TrailerLineStart, b'\n') => return Err(BareLf),
            (TrailerLineStart | TrailerName, _) if is_token => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerLineStart | TrailerName, _) => return Err(InvalidTrailer),
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, _) if is_field_byte(b) => TrailerValue,
            (TrailerValue, _) => return Err(InvalidTrailer),
            (TrailerLf, b'\n') => TrailerLineStart,
            (EndLf, b'\n') => Done,
            (TrailerLf | EndLf, _) => return Err(BareCr),
            (Data | Done, _) => unreachable!("data is copied in bulk; nothing follows Done"),
        };
        Ok(())
    }

    fn end_size_line(&mut self, limits: &Limits) -> Result<State, RequestError> {
        debug_assert!(self.digits > 0);
        if self.size == 0 {
            return Ok(State::TrailerLineStart);
        }
        self.declared += self.size;
        debug_assert!(self.declared <= limits.max_body as u64);
        self.remaining = self.size;
        Ok(State::Data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<(heapless::Vec<u8, 256>, usize), RequestError> {
        let mut buf: heapless::Vec<u8, 256> = heapless::Vec::from_slice(input).unwrap();
        let (mut read, mut written) = (0, 0);
        let mut decoder = ChunkedDecoder::new();
        let done = decoder.decode_in_place(&mut buf, &mut read, &mut written, &Limits::DEFAULT)?;
        assert!(done, "incomplete");
        assert_eq!(decoder.body_len(), written as u64);
        Ok((heapless::Vec::from_slice(&buf[..written]).unwrap(), read))
    }

    /// RFC 9112 §7.1: chunks, last-chunk, empty trailer section.
    #[test]
    fn decodes_chunks() {
        let (body, read) = decode_all(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT").unwrap();
        assert_eq!(&body[..], b"hello world");
        assert_eq!(read, 26);
    }

    /// RFC 9112 §7.1.1: extensions are parsed and ignored; §7.1.2: trailers are discarded.
    #[test]
    fn extensions_and_trailers() {
        let input = b"5 ; a=b;c ;d=\"q\\\"x\"\r\nhello\r\n0;last\r\nX-Sum: 1\r\nY: z \r\n\r\n";
        let (body, read) = decode_all(input).unwrap();
        assert_eq!(&body[..], b"hello");
        assert_eq!(read, input.len());
    }

    #[test]
    fn hex_sizes_any_case() {
        let mut input = heapless::Vec::<u8, 256>::new();
        input
            .extend_from_slice(b"0A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n")
            .unwrap();
        assert_eq!(decode_all(&input).unwrap().0.len(), 21);
    }

    /// RFC 9112 §7.1: chunk-size = 1*HEXDIG; no sign, no prefix, no leading whitespace.
    #[test]
    fn rejects_malformed_sizes() {
        for bad in [
            &b"-5\r\nhello\r\n0\r\n\r\n"[..],
            b"+5\r\n",
            b"0x5\r\n",
            b" 5\r\n",
            b"\r\n",
            b";a\r\n",
            b"g\r\n",
        ] {
            assert!(
                matches!(decode_all(bad), Err(InvalidChunkSize)),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        assert_eq!(
            decode_all(b"00000000000000001\r\nx\r\n0\r\n\r\n"),
            Err(InvalidChunkSize)
        );
        assert_eq!(decode_all(b"ffffffffffffffff\r\n"), Err(BodyTooLarge));
    }

    #[test]
    fn rejects_bare_line_ends() {
        assert_eq!(decode_all(b"5\nhello\r\n0\r\n\r\n"), Err(BareLf));
        assert_eq!(decode_all(b"5\rhello\r\n0\r\n\r\n"), Err(BareCr));
        assert_eq!(decode_all(b"5\r\nhello\n0\r\n\r\n"), Err(InvalidChunkData));
        assert_eq!(decode_all(b"5\r\nhello\r\n0\r\n\n"), Err(BareLf));
        assert_eq!(decode_all(b"5;a\nb\r\nhello\r\n0\r\n\r\n"), Err(BareLf));
    }

    /// Chunk data must be followed by CRLF: data longer than its size is not smuggled on.
    #[test]
    fn rejects_data_overrun() {
        assert_eq!(
            decode_all(b"3\r\nhello\r\n0\r\n\r\n"),
            Err(InvalidChunkData)
        );
    }

    /// RFC 9112 §7.1: `chunk = chunk-size [ chunk-ext ] CRLF`, and whitespace belongs only to
    /// chunk-ext, as the BWS around its `;` and `=`. Whitespace between the size and the CRLF,
    /// or inside the size, is not in the grammar: parsers that skip it and parsers that stop at
    /// it disagree on the size (a smuggling vector), so it is 400.
    #[test]
    fn whitespace_after_size_only_before_an_extension() {
        for bad in [
            &b"5 \r\nhello\r\n0\r\n\r\n"[..],
            b"5\t\r\nhello\r\n0\r\n\r\n",
            b"5 \t \r\nhello\r\n0\r\n\r\n",
            b"5\r\nhello\r\n0 \r\n\r\n",
            b"5 0\r\n",
            b"5 \n",
        ] {
            assert_eq!(
                decode_all(bad),
                Err(InvalidChunkSize),
                "{:?}",
                core::str::from_utf8(bad)
            );
            assert_eq!(InvalidChunkSize.status().code(), 400);
        }
        // After an extension, whitespace must be followed by `;` or `=` too.
        for bad in [
            &b"5;a \r\n"[..],
            b"5;a=b \r\n",
            b"5;a=\"b\" \r\n",
            b"5;a=b\t\r\n",
        ] {
            assert_eq!(
                decode_all(bad),
                Err(InvalidChunkExtension),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        // RFC 9110 §5.6.3: a recipient MUST parse BWS where the grammar has it.
        for good in [
            &b"5 ;a\r\nhello\r\n0\r\n\r\n"[..],
            b"5\t; a = b ;c\r\nhello\r\n0\r\n\r\n",
            b"5;a=\"b\" ;c=d\r\nhello\r\n0 ;x\r\n\r\n",
        ] {
            let (body, read) = decode_all(good).unwrap();
            assert_eq!((&body[..], read), (&b"hello"[..], good.len()));
        }
    }

    #[test]
    fn rejects_malformed_extensions() {
        for bad in [
            &b"5;\r\n"[..],
            b"5;=a\r\n",
            b"5;a=\r\n",
            b"5;a=\"x\r\n",
            b"5;a b\r\n",
            b"5;a=b c\r\n",
        ] {
            assert!(
                matches!(decode_all(bad), Err(InvalidChunkExtension) | Err(BareCr)),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }

    #[test]
    fn extension_limit() {
        let limits = Limits {
            max_chunk_extensions: 4,
            ..Limits::DEFAULT
        };
        let run = |input: &[u8]| {
            let mut buf: heapless::Vec<u8, 64> = heapless::Vec::from_slice(input).unwrap();
            let (mut r, mut w) = (0, 0);
            ChunkedDecoder::new().decode_in_place(&mut buf, &mut r, &mut w, &limits)
        };
        assert_eq!(run(b"1;abc\r\nx\r\n0\r\n\r\n"), Ok(true), "at the limit");
        assert_eq!(
            run(b"1;abcd\r\nx\r\n0\r\n\r\n"),
            Err(ChunkExtensionsTooLarge),
            "one past"
        );
    }

    #[test]
    fn trailer_limit() {
        let limits = Limits {
            max_trailers: 8,
            ..Limits::DEFAULT
        };
        let run = |input: &[u8]| {
            let mut buf: heapless::Vec<u8, 64> = heapless::Vec::from_slice(input).unwrap();
            let (mut r, mut w) = (0, 0);
            ChunkedDecoder::new().decode_in_place(&mut buf, &mut r, &mut w, &limits)
        };
        assert_eq!(run(b"0\r\nA: b\r\n\r\n"), Ok(true), "8 bytes: at the limit");
        assert_eq!(
            run(b"0\r\nA: bc\r\n\r\n"),
            Err(TrailersTooLarge),
            "one past"
        );
    }

    #[test]
    fn body_limit() {
        let limits = Limits {
            max_body: 5,
            ..Limits::DEFAULT
        };
        let run = |input: &[u8]| {
            let mut buf: heapless::Vec<u8, 64> = heapless::Vec::from_slice(input).unwrap();
            let (mut r, mut w) = (0, 0);
            ChunkedDecoder::new().decode_in_place(&mut buf, &mut r, &mut w, &limits)
        };
        assert_eq!(
            run(b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"),
            Ok(true),
            "at the limit"
        );
        assert_eq!(
            run(b"2\r\nab\r\n4\r\ncdef\r\n0\r\n\r\n"),
            Err(BodyTooLarge),
            "one past"
        );
    }

    #[test]
    fn rejects_bad_trailers() {
        assert_eq!(decode_all(b"0\r\nA : b\r\n\r\n"), Err(InvalidTrailer));
        assert_eq!(decode_all(b"0\r\n folded\r\n\r\n"), Err(InvalidTrailer));
        assert_eq!(decode_all(b"0\r\nA: \x00\r\n\r\n"), Err(InvalidTrailer));
    }
}
