//! The MQTT 3.1.1 wire layer (OASIS standard, 29 October 2014): fixed headers, control
//! packets, topic filters, on caller-provided buffers. Nothing here performs I/O or allocates;
//! a broker module drives it (ARCHITECTURE.md §5.2 MQTT).
//!
//! From the outside in:
//!
//! - [`HeaderDecoder`] reads a fixed header ([`FixedHeader`]: [`PacketType`], flags,
//!   Remaining Length) from bytes arriving in pieces of any size, checks the flags each type
//!   allows, and refuses a Remaining Length over the caller's `max_packet` before any of the
//!   body is read.
//! - [`decode_packet`] decodes a whole packet's body into a [`Packet`] that borrows from it
//!   (strings as `&str`, payloads as `&[u8]`), validating every field once: UTF-8 strings
//!   (§1.5.3), topic names and filters (§4.7), packet identifiers, CONNECT's flags. A
//!   SUBSCRIBE's filters are read lazily ([`SubscribeFilters`]) from the validated bytes.
//!   [`read_packet`] does both for a caller holding the bytes in one buffer.
//! - Every refusal is a [`DecodeError`] naming the rule broken; [`DecodeError::connack`] says
//!   which two a server answers with a CONNACK ([`ConnectReturnCode`]) before it closes.
//! - [`matches()`] matches a topic filter against a topic name (§4.7), with
//!   [`check_topic_filter`] and [`check_topic_name`] to validate them.
//! - The writers ([`write_packet`] and one per packet, [`write_publish_head`] for a payload
//!   copied separately) encode into a buffer, with the minimal length encoding, or say how
//!   many bytes they need ([`WriteError`]).
//!
//! Statement numbers such as `[MQTT-3.1.2-3]` are the standard's normative statements.

mod error;
mod header;
mod packet;
mod topic;
mod write;

#[cfg(test)]
mod tests;

pub use error::{ConnectReturnCode, DecodeError};
pub use header::{
    FixedHeader, HeaderDecoder, HeaderStep, MAX_FIXED_HEADER_LEN, MAX_REMAINING_LEN, PacketType,
    QoS, length_len,
};
pub use packet::{
    Connack, Connect, Delivery, PROTOCOL_LEVEL, Packet, PacketId, Publish, Suback, SubackCode,
    Subscribe, SubscribeFilters, Unsubscribe, UnsubscribeFilters, Will, decode_packet, read_packet,
};
pub use topic::{check_topic_filter, check_topic_name, matches};
pub use write::{
    WriteError, write_ack, write_connack, write_connect, write_disconnect, write_packet,
    write_pingreq, write_pingresp, write_publish, write_publish_head, write_suback,
    write_subscribe, write_unsuback, write_unsubscribe,
};
