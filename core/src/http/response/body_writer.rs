//! [`BodyWriter`]: a body whose length is known only once it is written (`core::fmt` output,
//! templates). The head leaves a gap for `Content-Length`; when the body is finished the
//! header goes into the gap and the gap closes.

use super::ResponseError;
use super::byte_writer::{ByteWriter, decimal_len, write_decimal};
use super::head::ResponseWriter;

/// Room left for `Content-Length: <20 digits>\r\n\r\n` when the body length is not yet known.
const LENGTH_GAP: usize = 40;

/// A body of not-yet-known length; implements [`core::fmt::Write`]. Finish it with
/// [`BodyWriter::finish`].
#[derive(Debug)]
pub struct BodyWriter<'a> {
    head: ResponseWriter<'a>,
    gap_start: usize,
    /// HEAD or a bodiless status: count the body, do not store it.
    discard: bool,
    discarded: u64,
    /// The producer gave up; the response is an error whatever was written.
    failed: bool,
}

impl<'a> BodyWriter<'a> {
    /// Leaves the gap for `Content-Length` after `head`, whose other fields are all written.
    pub(super) fn after_head(mut head: ResponseWriter<'a>) -> BodyWriter<'a> {
        let gap_start = head.out.len();
        let discard = head.head || head.status.forbids_body();
        head.out.reserve(LENGTH_GAP);
        BodyWriter {
            head,
            gap_start,
            discard,
            discarded: 0,
            failed: false,
        }
    }

    /// Appends body bytes.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        if self.discard {
            self.discarded += data.len() as u64;
        } else {
            self.head.out.write(data);
        }
    }

    /// Appends what `fill` writes in place; see [`ByteWriter::write_with`]. For HEAD and
    /// bodiless statuses the bytes are counted (for `Content-Length`) and dropped.
    pub fn write_with(&mut self, fill: impl FnMut(&mut [u8]) -> Option<usize>) -> Option<usize> {
        if !self.discard {
            return self.head.out.write_with(fill);
        }
        let before = self.head.out.len();
        let n = self.head.out.write_with(fill)?;
        self.head.out.truncate(before);
        self.discarded += n as u64;
        Some(n)
    }

    /// Whether a write did not fit (the response will fail).
    pub fn overflowed(&self) -> bool {
        self.head.out.overflowed()
    }

    /// The writer underneath, for a producer that writes many pieces (a template): writing
    /// to it directly spares each piece a test. Bytes written there while the body is only
    /// counted (HEAD, bodiless statuses) are counted and dropped by [`BodyWriter::settle`],
    /// which must follow.
    #[cfg_attr(not(feature = "templates"), allow(dead_code))]
    pub(crate) fn raw(&mut self) -> &mut ByteWriter<'a> {
        &mut self.head.out
    }

    /// Accounts for what was written through [`BodyWriter::raw`].
    #[cfg_attr(not(feature = "templates"), allow(dead_code))]
    pub(crate) fn settle(&mut self) {
        let body_start = self.gap_start + LENGTH_GAP;
        if self.discard && self.head.out.len() > body_start {
            self.discarded += (self.head.out.len() - body_start) as u64;
            self.head.out.truncate(body_start);
        }
    }

    /// Body bytes so far.
    pub fn body_len(&self) -> u64 {
        if self.discard {
            self.discarded
        } else {
            self.head
                .out
                .len()
                .saturating_sub(self.gap_start + LENGTH_GAP) as u64
        }
    }

    /// Marks the body as failed for a reason other than room (a template's own error):
    /// [`BodyWriter::finish`] then returns [`ResponseError::Render`], so the server answers
    /// its static 500 instead of a page cut short.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Writes `Content-Length` into the gap, closes it, and returns the writer holding the
    /// whole response: the body moves down over the unused part of the gap.
    pub fn finish(mut self) -> Result<ByteWriter<'a>, ResponseError> {
        let unused = self.fill_gap()?;
        let end = self.head.out.len();
        self.head
            .out
            .written_mut()
            .copy_within(self.gap_start + unused..end, self.gap_start);
        self.head.out.truncate(end - unused);
        self.head.result()
    }

    /// Like [`BodyWriter::finish`], but closes the gap by moving the head (a few hundred
    /// bytes) up against the body instead of the body (any size) down: returns the writer and
    /// the offset at which the response starts in it; the bytes before are unused. The server
    /// sends from that offset, so a page is never copied after it is rendered.
    pub fn finish_in_place(mut self) -> Result<(ByteWriter<'a>, usize), ResponseError> {
        let unused = self.fill_gap()?;
        self.head
            .out
            .written_mut()
            .copy_within(0..self.gap_start, unused);
        Ok((self.head.result()?, unused))
    }

    /// Writes `Content-Length` and the empty line at the end of the gap, just before the body;
    /// returns how many bytes of the gap's start are unused.
    fn fill_gap(&mut self) -> Result<usize, ResponseError> {
        if self.head.out.overflowed() || self.head.invalid {
            return Err(if self.head.invalid {
                ResponseError::InvalidHeader
            } else {
                ResponseError::Overflow
            });
        }
        if self.failed {
            return Err(ResponseError::Render);
        }
        let body_len = self.body_len();
        let mut tail = [0u8; LENGTH_GAP];
        let mut n = 0;
        let mut push = |bytes: &[u8]| {
            tail[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        if !self.head.status.forbids_body() {
            push(b"Content-Length: ");
            let mut digits = [0; 20];
            let digits = &mut digits[..decimal_len(body_len)];
            write_decimal(digits, body_len);
            push(digits);
            push(b"\r\n");
        }
        push(b"\r\n");
        let unused = LENGTH_GAP - n;
        let at = self.gap_start + unused;
        self.head.out.written_mut()[at..at + n].copy_from_slice(&tail[..n]);
        Ok(unused)
    }
}

impl core::fmt::Write for BodyWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if self.discard {
            self.discarded += s.len() as u64;
            return Ok(());
        }
        self.head.out.write_str(s)
    }
}
