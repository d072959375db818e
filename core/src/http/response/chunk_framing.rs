//! Chunked transfer coding on the way out (RFC 9112 §7.1): a chunk is its size in
//! hexadecimal, CRLF, the data, CRLF; the body ends with a chunk of size zero and an empty
//! trailer section. (The way in is [`ChunkedDecoder`](super::super::ChunkedDecoder).)

use super::super::hex::{hex_len, write_hex};
use super::byte_writer::ByteWriter;

/// Writes one chunk of a chunked body: size line, data, CRLF. Empty data writes nothing
/// (a chunk of size zero is the last chunk: it would end the body).
pub fn write_chunk(out: &mut ByteWriter<'_>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let size = data.len() as u64;
    let digits = hex_len(size);
    if let Some(size_line) = out.reserve(digits + 2) {
        write_hex(size, &mut size_line[..digits]);
        size_line[digits..].copy_from_slice(b"\r\n");
    }
    out.write(data);
    out.write(b"\r\n");
}

/// Bytes a chunk of `len` data bytes takes on the wire besides the data: the size in
/// hexadecimal and two CRLFs.
pub fn chunk_overhead(len: usize) -> usize {
    hex_len(len as u64) + 4
}

/// The last chunk and an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
