//! The format of a recording: its magic, the sizes that bound it, the tag of each record, the
//! header's flags, and how the configuration and the codes of a `Failed` event become
//! integers. The [module](super) describes the layout.

use crate::config::{Config, Lagging};
use crate::server::{IoError, OpKind};

/// The first eight bytes of every recording.
pub const MAGIC: &[u8; 8] = b"ZZZREC04";

/// How many integers encode the configuration.
pub const CONFIG_FIELDS: usize = 28;

/// The most bytes one LEB128 integer of 64 bits takes.
pub const MAX_VARINT: usize = 10;

/// The most bytes a header takes: magic, configuration, flags, start time.
pub const HEADER_MAX: usize = MAGIC.len() + (CONFIG_FIELDS + 3) * MAX_VARINT;

/// The most bytes a record takes besides its data: a tag and three integers.
pub const RECORD_MAX: usize = 1 + 3 * MAX_VARINT;

// A record's fixed part is built in a header-sized scratch buffer.
const _: () = assert!(RECORD_MAX <= HEADER_MAX);

/// The tag byte of each record.
pub mod tag {
    /// [`Event::Accepted`](crate::Event::Accepted) and the slot it got.
    pub const ACCEPTED: u8 = 1;
    /// [`Event::Received`](crate::Event::Received) and the bytes received.
    pub const RECEIVED: u8 = 2;
    /// [`Event::Sent`](crate::Event::Sent).
    pub const SENT: u8 = 3;
    /// [`Event::Failed`](crate::Event::Failed).
    pub const FAILED: u8 = 4;
    /// [`Event::Closed`](crate::Event::Closed).
    pub const CLOSED: u8 = 5;
    /// [`Event::Tick`](crate::Event::Tick).
    pub const TICK: u8 = 6;
    /// [`Event::Datagram`](crate::Event::Datagram) and its bytes.
    pub const DATAGRAM: u8 = 7;
    /// [`Event::Shutdown`](crate::Event::Shutdown).
    pub const SHUTDOWN: u8 = 8;
    /// [`Event::TurnedAway`](crate::Event::TurnedAway).
    pub const TURNED_AWAY: u8 = 9;
    /// [`Event::MakeRoom`](crate::Event::MakeRoom).
    pub const MAKE_ROOM: u8 = 10;
    /// [`Event::DatagramSent`](crate::Event::DatagramSent).
    pub const DATAGRAM_SENT: u8 = 11;
    /// [`Event::Publish`](crate::Event::Publish) and the message's bytes.
    pub const PUBLISH: u8 = 12;
}

/// The bits of the header's flags.
pub mod flags {
    /// The recording stopped before the run did (its buffer was full, or it was stopped):
    /// it holds the run's first events.
    pub const TRUNCATED: u64 = 1;
}

/// The configuration's fields in encoding order.
pub const fn config_fields(c: &Config) -> [u64; CONFIG_FIELDS] {
    [
        c.max_connections as u64,
        c.recv_buffer as u64,
        c.send_buffer as u64,
        c.large_buffers as u64,
        c.large_buffer_size as u64,
        c.max_requests_per_connection as u64,
        c.timer_tick_ms as u64,
        c.limits.max_request_line as u64,
        c.limits.max_head as u64,
        c.limits.max_headers as u64,
        c.limits.max_body as u64,
        c.limits.max_chunk_extensions as u64,
        c.limits.max_trailers as u64,
        c.timeouts.head_ms,
        c.timeouts.body_idle_ms,
        c.timeouts.keep_alive_ms,
        c.timeouts.send_stall_ms,
        c.timeouts.linger_ms,
        c.pressure_percent as u64,
        c.timeouts.pressured_first_byte_ms,
        c.timeouts.shed_grace_ms,
        c.datagram_size as u64,
        c.datagram_replies as u64,
        c.topics.count as u64,
        c.topics.ring_bytes as u64,
        c.topics.max_message as u64,
        c.topics.per_connection as u64,
        lagging_code(c.topics.lagging),
    ]
}

/// The configuration [`config_fields`] encoded (values too large for a field are truncated;
/// [`Config::validate`] judges the result).
pub const fn config_from_fields(f: &[u64; CONFIG_FIELDS]) -> Config {
    let mut c = Config::DEFAULT;
    c.max_connections = f[0] as u32;
    c.recv_buffer = f[1] as u32;
    c.send_buffer = f[2] as u32;
    c.large_buffers = f[3] as u32;
    c.large_buffer_size = f[4] as u32;
    c.max_requests_per_connection = f[5] as u32;
    c.timer_tick_ms = f[6] as u32;
    c.limits.max_request_line = f[7] as u16;
    c.limits.max_head = f[8] as u16;
    c.limits.max_headers = f[9] as u16;
    c.limits.max_body = f[10] as u32;
    c.limits.max_chunk_extensions = f[11] as u16;
    c.limits.max_trailers = f[12] as u16;
    c.timeouts.head_ms = f[13];
    c.timeouts.body_idle_ms = f[14];
    c.timeouts.keep_alive_ms = f[15];
    c.timeouts.send_stall_ms = f[16];
    c.timeouts.linger_ms = f[17];
    c.pressure_percent = f[18] as u8;
    c.timeouts.pressured_first_byte_ms = f[19];
    c.timeouts.shed_grace_ms = f[20];
    c.datagram_size = f[21] as u32;
    c.datagram_replies = f[22] as u32;
    c.topics.count = f[23] as u16;
    c.topics.ring_bytes = f[24] as u32;
    c.topics.max_message = f[25] as u32;
    c.topics.per_connection = f[26] as u8;
    c.topics.lagging = lagging_of(f[27]);
    c
}

/// The code of a lagging policy in the configuration.
pub const fn lagging_code(lagging: Lagging) -> u64 {
    match lagging {
        Lagging::Skip => 0,
        Lagging::Close => 1,
    }
}

/// The lagging policy of a code ([`lagging_code`]); anything but 1 is `Skip`.
pub const fn lagging_of(code: u64) -> Lagging {
    if code == 1 {
        Lagging::Close
    } else {
        Lagging::Skip
    }
}

/// The code of an operation kind in a `Failed` record.
pub const fn op_code(op: OpKind) -> u64 {
    match op {
        OpKind::Recv => 0,
        OpKind::Send => 1,
    }
}

/// The operation kind of a code ([`op_code`]); anything but 0 is a send.
pub const fn op_of(code: u64) -> OpKind {
    if code == 0 {
        OpKind::Recv
    } else {
        OpKind::Send
    }
}

/// The code of an error in a `Failed` record.
pub const fn error_code(error: IoError) -> u64 {
    match error {
        IoError::Retry => 0,
        IoError::Broken => 1,
    }
}

/// The error of a code ([`error_code`]); anything but 0 is broken.
pub const fn error_of(code: u64) -> IoError {
    if code == 0 {
        IoError::Retry
    } else {
        IoError::Broken
    }
}
