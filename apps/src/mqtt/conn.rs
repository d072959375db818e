//! What the broker keeps per connection: where it stands, its session, and the QoS 1 and 2
//! messages in flight each way, as plain values in the connection's slot.

use zzz_core::Instant;

use super::MAX_INFLIGHT;
use super::websocket::{Framing, WsStream};

/// Where a connection stands.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(super) enum Phase {
    /// Accepted; its CONNECT awaited.
    #[default]
    Connecting,
    /// Its session is in the client table.
    Connected,
    /// Closing after its output: nothing more is read.
    Closing,
}

/// What the broker keeps per connection: plain values, nothing to drop.
#[derive(Clone, Debug)]
pub struct MqttConn {
    pub(super) phase: Phase,
    /// It was accepted by a CONNECT (its session is, or was, in the client table).
    pub(super) connected: bool,
    /// Its session's index in the client table (while connected).
    pub(super) client: u32,
    /// Keep-alive in milliseconds; 0: none.
    pub(super) keep_alive_ms: u64,
    /// When its last packet arrived.
    pub(super) last_packet: Instant,
    /// It sent DISCONNECT: no will.
    pub(super) disconnected: bool,
    /// The last packet identifier given.
    pub(super) last_id: u16,
    /// Messages sent at QoS 1 or 2 and not yet acknowledged, `inflight_len` of them.
    pub(super) inflight: [Inflight; MAX_INFLIGHT],
    pub(super) inflight_len: u8,
    /// Identifiers of QoS 2 messages received (delivered, PUBREC sent) whose PUBREL has not
    /// arrived: a PUBLISH with one of them again is a duplicate, not delivered again.
    pub(super) received: [u16; MAX_INFLIGHT],
    pub(super) received_len: u8,
    /// Since when its PUBLISH packets have met a receiver without room (reset when one
    /// finds room): past `Mqtt::stall_ms`, they are routed anyway.
    pub(super) stalled_since: Option<Instant>,
    /// Its next PUBLISH waits, unread, for room in a receiver's inbox.
    pub(super) waiting: bool,
    /// Its session outlives it (Clean Session 0): what it has in flight is kept in the
    /// session's store too.
    pub(super) persistent: bool,
    /// Messages in flight of a resumed session still to be sent again.
    pub(super) resend: u8,
    /// Over WebSocket: the frames' reading state. `None`: over TCP.
    pub(super) ws: Option<WsStream>,
}

/// A message sent and not yet acknowledged.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Inflight {
    pub(super) id: u16,
    pub(super) awaiting: Awaiting,
}

/// The acknowledgement an in-flight message waits for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Awaiting {
    /// QoS 1: PUBACK.
    Puback,
    /// QoS 2: PUBREC (then the broker sends PUBREL).
    Pubrec,
    /// QoS 2: PUBCOMP, after the broker's PUBREL.
    Pubcomp,
}

impl MqttConn {
    pub(super) fn new(now: Instant) -> MqttConn {
        MqttConn {
            phase: Phase::Connecting,
            connected: false,
            client: 0,
            keep_alive_ms: 0,
            last_packet: now,
            disconnected: false,
            last_id: 0,
            inflight: [Inflight {
                id: 0,
                awaiting: Awaiting::Puback,
            }; MAX_INFLIGHT],
            inflight_len: 0,
            received: [0; MAX_INFLIGHT],
            received_len: 0,
            stalled_since: None,
            waiting: false,
            persistent: false,
            resend: 0,
            ws: None,
        }
    }

    /// How its output is written.
    pub(super) fn framing(&self) -> Framing {
        Framing {
            ws: self.ws.is_some(),
        }
    }

    /// The next packet identifier not in flight. Bounded: at most `MAX_INFLIGHT + 1` tries.
    pub(super) fn next_id(&mut self) -> u16 {
        for _ in 0..=MAX_INFLIGHT {
            self.last_id = self.last_id.checked_add(1).unwrap_or(1);
            if self.find_inflight(self.last_id).is_none() {
                break;
            }
        }
        self.last_id
    }

    pub(super) fn find_inflight(&self, id: u16) -> Option<usize> {
        self.inflight[..self.inflight_len as usize]
            .iter()
            .position(|m| m.id == id)
    }

    /// The acknowledgement `ack` of message `id` arrived: whether it was the one awaited.
    /// PUBACK and PUBCOMP end the message; PUBREC moves it on to await PUBCOMP.
    pub(super) fn acknowledged(&mut self, id: u16, ack: Awaiting) -> bool {
        let Some(i) = self
            .find_inflight(id)
            .filter(|&i| self.inflight[i].awaiting == ack)
        else {
            return false;
        };
        if ack == Awaiting::Pubrec {
            self.inflight[i].awaiting = Awaiting::Pubcomp;
        } else {
            let n = self.inflight_len as usize;
            self.inflight[i] = self.inflight[n - 1];
            self.inflight_len -= 1;
        }
        true
    }

    /// Whether an incoming QoS 2 message `id` is new (`Some(true)`), a duplicate of one
    /// delivered whose PUBREL has not come (`Some(false)`), or one too many under way
    /// (`None`: `limit` are).
    pub(super) fn receiving(&self, id: u16, limit: usize) -> Option<bool> {
        let n = self.received_len as usize;
        if self.received[..n].contains(&id) {
            Some(false)
        } else {
            (n < limit).then_some(true)
        }
    }

    /// Remembers an incoming QoS 2 message, delivered, until its PUBREL (checked new and
    /// within the limit by [`MqttConn::receiving`]).
    pub(super) fn received(&mut self, id: u16) {
        let n = self.received_len as usize;
        assert!(n < MAX_INFLIGHT && !self.received[..n].contains(&id));
        self.received[n] = id;
        self.received_len += 1;
    }

    pub(super) fn released(&mut self, id: u16) {
        let n = self.received_len as usize;
        if let Some(i) = self.received[..n].iter().position(|&x| x == id) {
            self.received[i] = self.received[n - 1];
            self.received_len -= 1;
        }
    }
}
