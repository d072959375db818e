//! MQTT over WebSocket (MQTT 3.1.1 §6): a connection that reaches the broker through an HTTP
//! `Upgrade` ([`upgrade`], subprotocol `mqtt`) carries its packets in binary frames, which may
//! split and join packets anyhow. The broker reads them with the core's frame reader and
//! keeps its own packet code: `WsStream::deframe` unmasks each data frame's payload in
//! place and moves it down to the front of the receive buffer, so that the packets read
//! from there exactly as from TCP; what the broker writes is framed by `Framing`, one binary
//! frame per batch of packets.
//!
//! Pings are answered with pongs (the latest one owed, RFC 6455 §5.5.2), the peer's Close
//! with a Close, and a text frame ends the connection with 1003 (`[MQTT-6.0.0-1]`); frame
//! violations with their codes (1002, 1009). A connection the broker ends after its output
//! (DISCONNECT, a refusing CONNACK, shutdown) gets a Close frame first.

use zzz_core::Response;
use zzz_core::handler::{Ctx, Request};
use zzz_core::http::Status;
use zzz_core::server::Link;
use zzz_core::websocket::{
    self, CloseCode, DataKind, Event, FrameHeader, MAX_CONTROL_PAYLOAD, MessageReader, Opcode,
    ReaderConfig, UpgradeOptions, write_close, write_frame, write_header,
};

/// The subprotocol names a client may offer (`[MQTT-6.0.0-3]`; `mqttv3.1` is what older
/// clients send).
pub const SUBPROTOCOLS: &[&str] = &["mqtt", "mqttv3.1"];

/// The largest frame header the broker writes (64-bit length, no mask).
const MAX_HEADER: usize = 10;

/// Answers a WebSocket opening handshake for MQTT: `101` with `Sec-WebSocket-Protocol: mqtt`,
/// the connection then going to protocol number `protocol` (the broker's, in the app's set),
/// or 400 when the client offers no MQTT subprotocol, or the handshake's own refusals
/// ([`websocket::upgrade`]).
pub fn upgrade<S>(ctx: &mut Ctx<'_, S>, req: &Request<'_>, protocol: u8) -> Response {
    if websocket::chosen_subprotocol(req, SUBPROTOCOLS).is_none()
        && req.http().header("upgrade").is_some()
    {
        return ctx.text(
            Status::BAD_REQUEST,
            "MQTT over WebSocket needs Sec-WebSocket-Protocol: mqtt\n",
        );
    }
    let options = UpgradeOptions {
        protocol,
        subprotocols: SUBPROTOCOLS,
        origin: None,
    };
    websocket::upgrade(ctx, req, &options)
}

/// What a WebSocket connection's input asks for, besides packets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum WsInput {
    /// Frames read; packets (if any) at the front of the input.
    Open,
    /// Answer with a Close frame with this code, then close.
    Close(CloseCode),
    /// The peer answered our Close: close.
    Closed,
}

/// A WebSocket connection's reading state.
#[derive(Clone, Debug)]
pub(super) struct WsStream {
    reader: MessageReader,
    /// Bytes of packets at the front of the input, their frames taken off.
    stream: u32,
    /// Where the frames not read yet start in the input (after `stream`; the bytes between
    /// are spent, until the input can be moved).
    raw: u32,
    /// The payload of the latest ping not yet answered (`pong_len` bytes).
    pong: [u8; MAX_CONTROL_PAYLOAD],
    pong_len: Option<u8>,
    /// A Close frame was sent.
    close_sent: bool,
}

impl WsStream {
    /// A stream right after the handshake; frames of at most `max_frame` bytes.
    pub(super) fn new(max_frame: u64) -> WsStream {
        WsStream {
            reader: MessageReader::new(ReaderConfig::server(max_frame, u64::MAX)),
            stream: 0,
            raw: 0,
            pong: [0; MAX_CONTROL_PAYLOAD],
            pong_len: None,
            close_sent: false,
        }
    }

    /// Bytes of packets at the front of the input.
    pub(super) fn packets(&self) -> usize {
        self.stream as usize
    }

    /// `n` bytes of packets were consumed from the front of the input.
    pub(super) fn consumed(&mut self, n: usize) {
        assert!(n <= self.stream as usize, "consumed more than was deframed");
        self.stream -= n as u32;
        self.raw -= n as u32;
    }

    /// Whether a pong is owed and not yet written (no more is read until it is).
    pub(super) fn pong_owed(&self) -> bool {
        self.pong_len.is_some()
    }

    /// Reads the frames received after the packets already deframed: their data moves down
    /// to follow those packets, unmasked. Stops at a control frame it must act on.
    pub(super) fn deframe<S>(&mut self, link: &mut Link<'_, '_, S>) -> WsInput {
        let (start, end) = (link.input_start() as usize, link.input_end() as usize);
        let posted = link.input_posted();
        let buf = &mut link.recv_buffer()[start..end];
        let (mut stream, mut raw) = (self.stream as usize, self.raw as usize);
        assert!(
            stream <= raw && raw <= buf.len(),
            "the stream and frames out of order"
        );
        let mut outcome = WsInput::Open;
        // Bounded: each turn consumes at least one byte or stops (NeedMore, a close).
        for _ in 0..buf.len() + 1 {
            if self.pong_len.is_some() {
                break; // Nothing more is read while a pong waits for room.
            }
            let step = self.reader.read(&mut buf[raw..]);
            let consumed = step.consumed;
            match step.event {
                Event::Data { range, kind, .. } => {
                    if kind == DataKind::Text {
                        outcome = WsInput::Close(CloseCode::UNSUPPORTED_DATA);
                        break;
                    }
                    let len = range.len();
                    buf.copy_within(raw + range.start..raw + range.end, stream);
                    stream += len;
                    raw += consumed;
                }
                Event::Ping(payload) => {
                    self.pong[..payload.len()].copy_from_slice(payload);
                    self.pong_len = Some(payload.len() as u8);
                    raw += consumed;
                }
                Event::Pong(_) => raw += consumed,
                Event::Close { reply, .. } => {
                    raw += consumed;
                    outcome = match reply {
                        Some(code) => WsInput::Close(code),
                        None => WsInput::Closed,
                    };
                    break;
                }
                Event::Fail(violation) => {
                    outcome = WsInput::Close(violation.close_code());
                    break;
                }
                Event::NeedMore => {
                    raw += consumed;
                    break;
                }
            }
        }
        // What was not read yet is moved to follow the packets, unless a receive is posted:
        // the space past the input's end is the kernel's until it completes, so the end
        // stays (with spent bytes in between) until then.
        if !posted {
            let rest = buf.len() - raw;
            buf.copy_within(raw.., stream);
            link.set_input_end((start + stream + rest) as u32);
            raw = stream;
        }
        self.stream = stream as u32;
        self.raw = raw as u32;
        outcome
    }

    /// Writes the pong owed, if the output has room.
    pub(super) fn write_pong<S>(&mut self, link: &mut Link<'_, '_, S>) {
        let Some(len) = self.pong_len else { return };
        let payload = &self.pong[..len as usize];
        if let Ok(n) = write_frame(link.output_room(), Opcode::Pong, payload) {
            link.commit_output(0, n);
            self.pong_len = None;
        }
    }

    /// Writes a Close frame with `code` (once), if the output has room.
    pub(super) fn write_close<S>(&mut self, link: &mut Link<'_, '_, S>, code: CloseCode) {
        if self.close_sent {
            return;
        }
        if let Ok(n) = write_close(link.output_room(), Some((code, ""))) {
            link.commit_output(0, n);
            self.close_sent = true;
            self.reader.sent_close();
        }
    }
}

/// How the broker's output is written: as it is (TCP), or in binary frames (WebSocket).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Framing {
    /// Whether packets go in frames.
    pub(super) ws: bool,
}

impl Framing {
    /// Bytes to leave at the front of the output room for a frame header.
    pub(super) fn reserve(self) -> usize {
        if self.ws { MAX_HEADER } else { 0 }
    }

    /// `room[reserve()..reserve() + n]` holds packets: frames them in place and moves them to
    /// the front of `room`. Returns the bytes to queue from `room[0]`.
    pub(super) fn finish(self, room: &mut [u8], n: usize) -> usize {
        if !self.ws || n == 0 {
            return n;
        }
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: Opcode::Binary,
            mask: None,
            payload_len: n as u64,
        };
        let h = header.encoded_len();
        let at = MAX_HEADER - h;
        let written = write_header(&mut room[at..MAX_HEADER], &header);
        assert_eq!(written, Ok(h), "a frame header in its reserve");
        room.copy_within(at..MAX_HEADER + n, 0);
        h + n
    }
}
