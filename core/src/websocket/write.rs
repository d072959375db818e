//! Writing frames into a caller-provided buffer (RFC 6455 §5.2), with the minimal length
//! encoding. A server's frames are unmasked (RFC 6455 §5.1); a masked header can be written
//! too, for a client or a test harness, with [`apply_mask`](super::apply_mask) over the
//! payload.

use super::{CloseCode, FrameHeader, MAX_CONTROL_PAYLOAD, Opcode};

/// Why a frame was not written. Nothing was written when one is returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteError {
    /// The buffer holds fewer bytes than the frame needs.
    DoesNotFit {
        /// The bytes the frame needs.
        needed: usize,
    },
    /// A control frame with more than 125 bytes of payload (RFC 6455 §5.5), or a fragmented
    /// one.
    InvalidControl,
    /// A close code that may not be sent ([`CloseCode::is_allowed_on_wire`]).
    InvalidCloseCode,
}

/// The most bytes of a close reason: a control payload is at most 125 bytes, 2 of them the code.
pub const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// Writes `header` at the start of `buf` and returns its length (2 to 14 bytes). The payload,
/// masked by the caller if `header.mask` is set, goes right after it.
pub fn write_header(buf: &mut [u8], header: &FrameHeader) -> Result<usize, WriteError> {
    if header.opcode.is_control()
        && (!header.fin || header.payload_len > MAX_CONTROL_PAYLOAD as u64)
    {
        return Err(WriteError::InvalidControl);
    }
    let needed = header.encoded_len();
    let Some(out) = buf.get_mut(..needed) else {
        return Err(WriteError::DoesNotFit { needed });
    };
    out[0] = (header.fin as u8) << 7 | (header.rsv & 0x07) << 4 | header.opcode.bits();
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    let len = header.payload_len;
    let key_at = match len {
        0..=125 => {
            out[1] = mask_bit | len as u8;
            2
        }
        126..=0xFFFF => {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&len.to_be_bytes());
            10
        }
    };
    if let Some(key) = header.mask {
        out[key_at..key_at + 4].copy_from_slice(&key);
    }
    debug_assert_eq!(key_at + if header.mask.is_some() { 4 } else { 0 }, needed);
    Ok(needed)
}

/// Writes a whole unmasked frame (a server's: a single-frame text or binary message, a ping,
/// a pong) and returns its length. For a fragment, write the header with [`write_header`].
/// Control frames must hold at most 125 bytes; the caller checks that a text payload is UTF-8.
pub fn write_frame(buf: &mut [u8], opcode: Opcode, payload: &[u8]) -> Result<usize, WriteError> {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: None,
        payload_len: payload.len() as u64,
    };
    let needed = header.encoded_len() + payload.len();
    if buf.len() < needed {
        return Err(WriteError::DoesNotFit { needed });
    }
    let at = write_header(buf, &header)?;
    buf[at..needed].copy_from_slice(payload);
    Ok(needed)
}

/// Writes an unmasked Close frame with `code` and `reason` (RFC 6455 §5.5.1) and returns its
/// length. A reason longer than [`MAX_CLOSE_REASON`] bytes is cut at the last character
/// boundary that fits, so that it stays UTF-8. `None` writes a Close frame without a body.
pub fn write_close(buf: &mut [u8], close: Option<(CloseCode, &str)>) -> Result<usize, WriteError> {
    let Some((code, reason)) = close else {
        return write_frame(buf, Opcode::Close, &[]);
    };
    if !code.is_allowed_on_wire() {
        return Err(WriteError::InvalidCloseCode);
    }
    let reason = truncate_to_char_boundary(reason, MAX_CLOSE_REASON);
    let mut body = [0u8; MAX_CONTROL_PAYLOAD];
    body[..2].copy_from_slice(&code.get().to_be_bytes());
    body[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
    write_frame(buf, Opcode::Close, &body[..2 + reason.len()])
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_to_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    // Bounded: a UTF-8 character is at most 4 bytes, so at most 3 steps back.
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    debug_assert!(max - end < 4);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §5.7's unmasked examples, written byte for byte.
    #[test]
    fn rfc_examples() {
        let mut buf = [0u8; 70000];
        let n = write_frame(&mut buf, Opcode::Text, b"Hello").unwrap();
        assert_eq!(&buf[..n], &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        let n = write_frame(&mut buf, Opcode::Ping, b"Hello").unwrap();
        assert_eq!(&buf[..n], &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        let n = write_frame(&mut buf, Opcode::Binary, &[0; 256]).unwrap();
        assert_eq!((&buf[..4], n), (&[0x82, 0x7E, 0x01, 0x00][..], 260));
        let n = write_frame(&mut buf, Opcode::Binary, &[0; 65536]).unwrap();
        assert_eq!(&buf[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(n, 65546);
    }

    /// RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    #[test]
    fn minimal_length_encoding() {
        let mut buf = [0u8; 14];
        for (len, header_len) in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let header = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: Opcode::Binary,
                mask: None,
                payload_len: len,
            };
            assert_eq!(write_header(&mut buf, &header), Ok(header_len), "{len}");
        }
    }

    #[test]
    fn does_not_fit() {
        let mut buf = [0u8; 6];
        assert_eq!(
            write_frame(&mut buf, Opcode::Text, b"Hello"),
            Err(WriteError::DoesNotFit { needed: 7 })
        );
        assert_eq!(buf, [0; 6], "nothing written");
        assert_eq!(
            write_frame(&mut [0u8; 200], Opcode::Ping, &[0; 126]),
            Err(WriteError::InvalidControl)
        );
    }

    /// RFC 6455 §5.5.1: the body is a 2-byte code and a UTF-8 reason, 125 bytes in all.
    #[test]
    fn close_frames() {
        let mut buf = [0u8; 200];
        let n = write_close(&mut buf, Some((CloseCode::NORMAL, "bye"))).unwrap();
        assert_eq!(&buf[..n], &[0x88, 0x05, 0x03, 0xE8, b'b', b'y', b'e']);
        let n = write_close(&mut buf, None).unwrap();
        assert_eq!(&buf[..n], &[0x88, 0x00]);
        assert_eq!(
            write_close(&mut buf, Some((CloseCode::NO_STATUS, ""))),
            Err(WriteError::InvalidCloseCode)
        );
        // 61 two-byte characters are 122 bytes; one more would be 124: cut before it.
        let long: std::string::String = core::iter::repeat_n('é', 62).collect();
        let n = write_close(&mut buf, Some((CloseCode::GOING_AWAY, &long))).unwrap();
        assert_eq!((buf[1], n), (124, 126));
        assert!(core::str::from_utf8(&buf[4..n]).is_ok());
        let ascii = [b'x'; 200];
        let ascii = core::str::from_utf8(&ascii).unwrap();
        let n = write_close(&mut buf, Some((CloseCode::GOING_AWAY, ascii))).unwrap();
        assert_eq!((buf[1], n), (125, 127));
    }
}
