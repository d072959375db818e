//! The message layer (RFC 6455 §5.4–§5.5, §7, §8.1): frames become messages and control
//! events, fed as bytes in pieces of any size.
//!
//! [`MessageReader::read`] takes the bytes received so far (`&mut`: payloads are unmasked in
//! place) and returns one [`Step`]: how many of them it consumed and one [`Event`]. The caller
//! acts on the event, drops the consumed bytes, and calls again with the rest (or, after
//! [`Event::NeedMore`], with the next bytes received). Every byte is consumed exactly once:
//! header bytes and control payloads are copied into the reader (at most 14 and 125 bytes),
//! data payloads are handed back where they lie, as [`Event::Data`] ranges of the input. The
//! reader never holds a message: a caller that wants one whole accumulates the pieces.

use core::ops::Range;

use super::{
    CloseCode, FrameHeader, FrameRules, HeaderParser, HeaderStep, MAX_CONTROL_PAYLOAD, Opcode,
    Role, Utf8Validator, Violation, apply_mask,
};

/// What a [`MessageReader`] accepts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReaderConfig {
    /// Which end reads ([`Role::Server`] in a server: frames must be masked).
    pub role: Role,
    /// RSV bits given a meaning by negotiated extensions ([`FrameRules::allowed_rsv`]); 0.
    pub allowed_rsv: u8,
    /// The largest payload of one frame; more is refused with 1009 from its header.
    pub max_frame: u64,
    /// The largest message, its fragments' payloads together; more is refused with 1009 from
    /// the header of the fragment that would pass it.
    pub max_message: u64,
}

impl ReaderConfig {
    /// A server's reader with these limits.
    pub const fn server(max_frame: u64, max_message: u64) -> ReaderConfig {
        ReaderConfig {
            role: Role::Server,
            allowed_rsv: 0,
            max_frame,
            max_message,
        }
    }

    const fn frame_rules(&self) -> FrameRules {
        FrameRules {
            role: self.role,
            allowed_rsv: self.allowed_rsv,
            max_frame: self.max_frame,
        }
    }
}

/// The kind of a data message, set by its first frame's opcode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataKind {
    /// A text message: its bytes, whole, are UTF-8 (the reader checks it as they arrive).
    Text,
    /// A binary message.
    Binary,
}

/// One step of [`MessageReader::read`]: the bytes it consumed from the front of the input, and
/// what they meant.
#[must_use = "the event names the caller's next duty, and `consumed` bytes must be dropped"]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Step<'r> {
    /// How many bytes from the front of the input this step consumed; the next call starts
    /// after them. For [`Event::Data`] it is `range.end`.
    pub consumed: usize,
    /// What they meant.
    pub event: Event<'r>,
}

/// What the bytes meant, and the caller's duty.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event<'r> {
    /// A piece of a data message: `input[range]`, unmasked, in place. Deliver or accumulate it
    /// before the input's bytes are reused. `first` marks the message's first piece and `fin`
    /// its last (both on a single-piece message). A frame with a payload gives only non-empty
    /// pieces; an empty frame gives one empty piece, so that every message has a first and a
    /// last piece. For text, a piece may end inside a character; the message whole is UTF-8.
    Data {
        /// Where the piece lies in the input of this call.
        range: Range<usize>,
        /// Text or binary.
        kind: DataKind,
        /// The message's first piece.
        first: bool,
        /// The message's last piece: the message is complete.
        fin: bool,
    },
    /// A ping (RFC 6455 §5.5.2): answer with a pong carrying the same payload (at most 125
    /// bytes), "as soon as is practical".
    Ping(&'r [u8]),
    /// A pong (RFC 6455 §5.5.3), solicited or not: nothing is owed.
    Pong(&'r [u8]),
    /// The peer's Close frame (RFC 6455 §5.5.1), validated: the code (`None` for an empty body,
    /// which RFC 6455 §7.1.5 reports as 1005) and the UTF-8 reason. If `reply` is set, send a
    /// Close frame with that code (the peer's, or 1000 when it gave none), then close the TCP
    /// connection; if `reply` is `None`, this answered our own Close: close the TCP connection.
    /// The reader ignores any bytes after it.
    Close {
        /// The peer's code, if its Close had a body.
        code: Option<CloseCode>,
        /// The peer's reason, possibly empty.
        reason: &'r str,
        /// The code to answer with, unless we had sent our Close already.
        reply: Option<CloseCode>,
    },
    /// The peer broke the protocol (RFC 6455 §7.1.7): send a Close frame with
    /// `violation.close_code()` (unless one was sent already), then close the TCP connection.
    /// Every later call returns the same.
    Fail(Violation),
    /// Every byte was consumed and the current frame is not finished: read more.
    NeedMore,
}

/// Where the closing handshake stands (RFC 6455 §7.1.2–§7.1.4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloseState {
    /// Neither side has sent a Close frame.
    Open,
    /// We sent a Close ([`MessageReader::sent_close`]): data may still arrive; wait (with a
    /// deadline of the caller's) for the peer's Close, then close the TCP connection.
    Sent,
    /// The peer's Close was read ([`Event::Close`]): answer it if owed, then close.
    Received,
    /// The peer broke the protocol ([`Event::Fail`]).
    Failed,
}

/// The frame being read: its header and how much of its payload has arrived.
#[derive(Clone, Copy, Debug)]
struct Frame {
    header: FrameHeader,
    received: u64,
}

impl Frame {
    const fn remaining(&self) -> u64 {
        self.header.payload_len - self.received
    }
}

/// The WebSocket message state machine of one connection: frame headers, fragmentation,
/// message limits, incremental UTF-8 validation, control frames and the closing handshake.
/// Its size is fixed (about 200 bytes, [`MAX_CONTROL_PAYLOAD`] of it for a control frame's
/// payload, delivered whole however it was split). It allocates nothing and performs no I/O.
#[derive(Clone, Debug)]
pub struct MessageReader {
    config: ReaderConfig,
    header: HeaderParser,
    frame: Option<Frame>,
    /// The kind of the data message in progress: begun by a frame, not yet ended by FIN.
    message: Option<DataKind>,
    /// Payload bytes the message's frames have declared so far (for `max_message`).
    message_len: u64,
    /// Whether the message in progress has had its first `Data`.
    delivered: bool,
    utf8: Utf8Validator,
    control: [u8; MAX_CONTROL_PAYLOAD],
    close_sent: bool,
    close_received: bool,
    failed: Option<Violation>,
}

impl MessageReader {
    /// A reader at the start of a connection, just after the opening handshake.
    pub const fn new(config: ReaderConfig) -> MessageReader {
        MessageReader {
            config,
            header: HeaderParser::new(),
            frame: None,
            message: None,
            message_len: 0,
            delivered: false,
            utf8: Utf8Validator::new(),
            control: [0; MAX_CONTROL_PAYLOAD],
            close_sent: false,
            close_received: false,
            failed: None,
        }
    }

    /// What this reader accepts.
    pub const fn config(&self) -> &ReaderConfig {
        &self.config
    }

    /// Where the closing handshake stands.
    pub const fn close_state(&self) -> CloseState {
        if self.failed.is_some() {
            CloseState::Failed
        } else if self.close_received {
            CloseState::Received
        } else if self.close_sent {
            CloseState::Sent
        } else {
            CloseState::Open
        }
    }

    /// Whether a data message has begun and not ended.
    pub const fn is_in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Tells the reader that we sent a Close frame (RFC 6455 §7.1.2): the peer's Close will
    /// then be the answer to it ([`Event::Close`] with no `reply`).
    pub fn sent_close(&mut self) {
        self.close_sent = true;
    }

    /// Reads from the front of `input`, unmasking payloads in place, and returns what it
    /// found. Call again with `input[step.consumed..]` until [`Event::NeedMore`].
    pub fn read(&mut self, input: &mut [u8]) -> Step<'_> {
        if let Some(violation) = self.failed {
            return Step {
                consumed: 0,
                event: Event::Fail(violation),
            };
        }
        if self.close_received {
            // RFC 6455 §5.5.1: nothing may follow a Close frame; whatever does is discarded.
            return Step {
                consumed: input.len(),
                event: Event::NeedMore,
            };
        }
        let mut at = 0;
        if self.frame.is_none() {
            match self.header.parse(input, &self.config.frame_rules()) {
                HeaderStep::Partial => {
                    return Step {
                        consumed: input.len(),
                        event: Event::NeedMore,
                    };
                }
                HeaderStep::Invalid(violation) => return self.fail(violation, input.len()),
                HeaderStep::Complete { header, consumed } => {
                    at = consumed;
                    if let Err(violation) = self.begin_frame(header) {
                        return self.fail(violation, at);
                    }
                }
            }
        }
        let frame = self.frame.expect("a frame is begun above");
        if frame.header.opcode.is_control() {
            self.read_control(input, at)
        } else {
            self.read_data(input, at)
        }
    }

    /// The fragmentation and size rules a new frame's header must meet (RFC 6455 §5.4).
    fn begin_frame(&mut self, header: FrameHeader) -> Result<(), Violation> {
        let kind = match header.opcode {
            Opcode::Text => Some(DataKind::Text),
            Opcode::Binary => Some(DataKind::Binary),
            Opcode::Continuation | Opcode::Close | Opcode::Ping | Opcode::Pong => None,
        };
        match (header.opcode, self.message, kind) {
            (Opcode::Continuation, None, _) => return Err(Violation::UnexpectedContinuation),
            (_, Some(_), Some(_)) => return Err(Violation::MessageInProgress),
            (_, None, Some(kind)) => {
                self.message = Some(kind);
                self.message_len = 0;
                self.delivered = false;
                debug_assert!(!self.utf8.is_inside_sequence());
            }
            _ => {}
        }
        if !header.opcode.is_control() {
            self.message_len = self.message_len.saturating_add(header.payload_len);
            if self.message_len > self.config.max_message {
                return Err(Violation::MessageTooBig);
            }
        }
        self.frame = Some(Frame {
            header,
            received: 0,
        });
        Ok(())
    }

    /// The next piece of a data frame's payload, from `input[at..]`.
    fn read_data(&mut self, input: &mut [u8], at: usize) -> Step<'_> {
        let mut frame = self.frame.expect("reading a frame");
        let kind = self.message.expect("a data frame belongs to a message");
        let n = frame.remaining().min((input.len() - at) as u64) as usize;
        if n == 0 && frame.remaining() > 0 {
            debug_assert_eq!(at, input.len());
            return Step {
                consumed: at,
                event: Event::NeedMore,
            };
        }
        let range = at..at + n;
        if let Some(key) = frame.header.mask {
            apply_mask(&mut input[range.clone()], key, frame.received);
        }
        frame.received += n as u64;
        let frame_done = frame.remaining() == 0;
        let fin = frame_done && frame.header.fin;
        if kind == DataKind::Text {
            let valid = self.utf8.feed(&input[range.clone()]);
            let ended = if fin { self.utf8.finish() } else { Ok(()) };
            if valid.and(ended).is_err() {
                return self.fail(Violation::InvalidUtf8, range.end);
            }
        }
        let first = !self.delivered;
        self.delivered = true;
        self.frame = if frame_done { None } else { Some(frame) };
        if fin {
            self.message = None;
            self.message_len = 0;
            self.delivered = false;
        }
        Step {
            consumed: range.end,
            event: Event::Data {
                range,
                kind,
                first,
                fin,
            },
        }
    }

    /// Copies a control frame's payload from `input[at..]`, and acts on it once whole.
    fn read_control(&mut self, input: &mut [u8], at: usize) -> Step<'_> {
        let mut frame = self.frame.expect("reading a frame");
        let n = frame.remaining().min((input.len() - at) as u64) as usize;
        let start = frame.received as usize;
        let piece = &mut self.control[start..start + n];
        piece.copy_from_slice(&input[at..at + n]);
        if let Some(key) = frame.header.mask {
            apply_mask(piece, key, frame.received);
        }
        frame.received += n as u64;
        let consumed = at + n;
        if frame.remaining() > 0 {
            debug_assert_eq!(consumed, input.len());
            self.frame = Some(frame);
            return Step {
                consumed,
                event: Event::NeedMore,
            };
        }
        self.frame = None;
        let len = frame.header.payload_len as usize;
        debug_assert!(len <= MAX_CONTROL_PAYLOAD);
        match frame.header.opcode {
            Opcode::Ping => Step {
                consumed,
                event: Event::Ping(&self.control[..len]),
            },
            Opcode::Pong => Step {
                consumed,
                event: Event::Pong(&self.control[..len]),
            },
            Opcode::Close => self.read_close(len, consumed),
            Opcode::Continuation | Opcode::Text | Opcode::Binary => {
                unreachable!("a control frame's opcode")
            }
        }
    }

    /// A whole Close frame's body (RFC 6455 §5.5.1): empty, or a code and a UTF-8 reason.
    fn read_close(&mut self, len: usize, consumed: usize) -> Step<'_> {
        let code = match len {
            0 => None,
            1 => return self.fail(Violation::CloseTooShort, consumed),
            _ => Some(CloseCode(u16::from_be_bytes([
                self.control[0],
                self.control[1],
            ]))),
        };
        if code.is_some_and(|code| !code.is_allowed_on_wire()) {
            return self.fail(Violation::InvalidCloseCode, consumed);
        }
        let reason_bytes = len.saturating_sub(2);
        if core::str::from_utf8(&self.control[2..2 + reason_bytes]).is_err() {
            return self.fail(Violation::InvalidUtf8, consumed);
        }
        self.close_received = true;
        let reply = if self.close_sent {
            None
        } else {
            Some(code.unwrap_or(CloseCode::NORMAL))
        };
        let reason = core::str::from_utf8(&self.control[2..2 + reason_bytes])
            .expect("checked above, and the buffer has not changed");
        Step {
            consumed,
            event: Event::Close {
                code,
                reason,
                reply,
            },
        }
    }

    fn fail(&mut self, violation: Violation, consumed: usize) -> Step<'_> {
        assert!(self.failed.is_none(), "a failed reader reads nothing more");
        self.failed = Some(violation);
        Step {
            consumed,
            event: Event::Fail(violation),
        }
    }
}
