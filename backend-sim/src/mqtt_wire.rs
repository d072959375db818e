//! MQTT 3.1.1 on the wire, as the simulator's clients write it and as its oracle reads the
//! server's packets: written here from the standard (OASIS, 29 October 2014), never with the
//! core's codec (`zzz_core::mqtt`), which is part of what the simulator judges.
//!
//! - Client packets (§3): CONNECT, PUBLISH, the four acknowledgements, SUBSCRIBE,
//!   UNSUBSCRIBE, PINGREQ, DISCONNECT, each in the minimal length encoding (§2.2.3).
//! - Server packets: [`read_server_packet`] takes one whole packet from the front of what the
//!   server wrote and refuses anything a server may not send: a client's packet type, flags
//!   other than those its type prescribes (§2.2.2), a Remaining Length not in the fewest bytes
//!   (the core's writers promise the minimal encoding), reserved CONNACK flags or codes, a
//!   PUBLISH of QoS 3, DUP with QoS 0, an identifier of 0, a topic that is not a valid name,
//!   a SUBACK without codes or with a reserved one.
//! - Topics (§4.7): [`matches()`], and whether a filter is valid ([`valid_filter`]).

/// CONNECT's packet type.
pub const CONNECT: u8 = 1;
/// CONNACK's packet type.
pub const CONNACK: u8 = 2;
/// PUBLISH's packet type.
pub const PUBLISH: u8 = 3;
/// PUBACK's packet type.
pub const PUBACK: u8 = 4;
/// PUBREC's packet type.
pub const PUBREC: u8 = 5;
/// PUBREL's packet type.
pub const PUBREL: u8 = 6;
/// PUBCOMP's packet type.
pub const PUBCOMP: u8 = 7;
/// SUBSCRIBE's packet type.
pub const SUBSCRIBE: u8 = 8;
/// SUBACK's packet type.
pub const SUBACK: u8 = 9;
/// UNSUBSCRIBE's packet type.
pub const UNSUBSCRIBE: u8 = 10;
/// UNSUBACK's packet type.
pub const UNSUBACK: u8 = 11;
/// PINGREQ's packet type.
pub const PINGREQ: u8 = 12;
/// PINGRESP's packet type.
pub const PINGRESP: u8 = 13;
/// DISCONNECT's packet type.
pub const DISCONNECT: u8 = 14;

/// A client's will (§3.1.2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WillSpec {
    /// Its topic name.
    pub topic: String,
    /// Its message.
    pub message: Vec<u8>,
    /// Its QoS.
    pub qos: u8,
    /// Whether it is published retained.
    pub retain: bool,
}

/// A CONNECT as a client builds it (§3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectSpec {
    /// The protocol level: 4 for 3.1.1; another is answered CONNACK 0x01.
    pub level: u8,
    /// The client identifier.
    pub client_id: String,
    /// Clean Session.
    pub clean: bool,
    /// Keep-alive, in seconds (0: none).
    pub keep_alive: u16,
    /// The will.
    pub will: Option<WillSpec>,
    /// A user name and perhaps a password (ignored by the broker).
    pub user: Option<(String, Option<Vec<u8>>)>,
}

/// Appends a Remaining Length in the fewest bytes (§2.2.3).
pub fn remaining_length(out: &mut Vec<u8>, mut n: usize) {
    // Bounded: at most four bytes for a length the standard allows.
    for _ in 0..4 {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            return;
        }
    }
}

/// Appends a length-prefixed string or binary field (§1.5.3).
pub fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A whole packet: its first byte (type and flags), the Remaining Length, the body.
pub fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    remaining_length(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// A CONNECT (§3.1).
pub fn connect(c: &ConnectSpec) -> Vec<u8> {
    let mut body = Vec::new();
    field(&mut body, b"MQTT");
    body.push(c.level);
    let mut flags = 0u8;
    if c.clean {
        flags |= 0x02;
    }
    if let Some(w) = &c.will {
        flags |= 0x04 | (w.qos << 3) | if w.retain { 0x20 } else { 0 };
    }
    if let Some((_, password)) = &c.user {
        flags |= 0x80 | if password.is_some() { 0x40 } else { 0 };
    }
    body.push(flags);
    body.extend_from_slice(&c.keep_alive.to_be_bytes());
    field(&mut body, c.client_id.as_bytes());
    if let Some(w) = &c.will {
        field(&mut body, w.topic.as_bytes());
        field(&mut body, &w.message);
    }
    if let Some((name, password)) = &c.user {
        field(&mut body, name.as_bytes());
        if let Some(p) = password {
            field(&mut body, p);
        }
    }
    packet(CONNECT << 4, &body)
}

/// A PUBLISH (§3.3): `id` only for QoS 1 and 2.
pub fn publish(topic: &str, payload: &[u8], qos: u8, retain: bool, dup: bool, id: u16) -> Vec<u8> {
    let mut body = Vec::new();
    field(&mut body, topic.as_bytes());
    if qos > 0 {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.extend_from_slice(payload);
    let flags = (dup as u8) << 3 | qos << 1 | retain as u8;
    packet(PUBLISH << 4 | flags, &body)
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP (`kind`) for identifier `id` (PUBREL's flags 0b0010).
pub fn ack(kind: u8, id: u16) -> Vec<u8> {
    let flags = if kind == PUBREL { 0b0010 } else { 0 };
    packet(kind << 4 | flags, &id.to_be_bytes())
}

/// A SUBSCRIBE (§3.8).
pub fn subscribe(id: u16, filters: &[(String, u8)]) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    for (f, qos) in filters {
        field(&mut body, f.as_bytes());
        body.push(*qos);
    }
    packet(SUBSCRIBE << 4 | 0b0010, &body)
}

/// An UNSUBSCRIBE (§3.10).
pub fn unsubscribe(id: u16, filters: &[String]) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    for f in filters {
        field(&mut body, f.as_bytes());
    }
    packet(UNSUBSCRIBE << 4 | 0b0010, &body)
}

/// A PINGREQ (§3.12).
pub fn pingreq() -> Vec<u8> {
    vec![PINGREQ << 4, 0]
}

/// A DISCONNECT (§3.14).
pub fn disconnect() -> Vec<u8> {
    vec![DISCONNECT << 4, 0]
}

/// A packet a server sends, as the oracle reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerPacket {
    /// CONNACK (§3.2).
    Connack {
        /// Session Present.
        session_present: bool,
        /// The return code.
        code: u8,
    },
    /// PUBLISH (§3.3).
    Publish {
        /// DUP.
        dup: bool,
        /// QoS.
        qos: u8,
        /// RETAIN.
        retain: bool,
        /// The packet identifier (0 for QoS 0).
        id: u16,
        /// The topic name.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
    },
    /// PUBACK (§3.4).
    Puback(u16),
    /// PUBREC (§3.5).
    Pubrec(u16),
    /// PUBREL (§3.6).
    Pubrel(u16),
    /// PUBCOMP (§3.7).
    Pubcomp(u16),
    /// SUBACK (§3.9).
    Suback {
        /// The SUBSCRIBE's identifier.
        id: u16,
        /// One return code per filter.
        codes: Vec<u8>,
    },
    /// UNSUBACK (§3.11).
    Unsuback(u16),
    /// PINGRESP (§3.13).
    Pingresp,
}

impl ServerPacket {
    /// The packet's name, for coverage and messages.
    pub fn name(&self) -> &'static str {
        match self {
            ServerPacket::Connack { .. } => "CONNACK",
            ServerPacket::Publish { .. } => "PUBLISH",
            ServerPacket::Puback(_) => "PUBACK",
            ServerPacket::Pubrec(_) => "PUBREC",
            ServerPacket::Pubrel(_) => "PUBREL",
            ServerPacket::Pubcomp(_) => "PUBCOMP",
            ServerPacket::Suback { .. } => "SUBACK",
            ServerPacket::Unsuback(_) => "UNSUBACK",
            ServerPacket::Pingresp => "PINGRESP",
        }
    }
}

/// Reads one whole server packet from the front of `buf`: `Ok(None)` while it is not whole,
/// `Err` for bytes no server may send.
pub fn read_server_packet(buf: &[u8]) -> Result<Option<(ServerPacket, usize)>, String> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let (kind, flags) = (first >> 4, first & 0x0f);
    let (mut len, mut at) = (0usize, 1usize);
    // Bounded: at most four bytes of length (§2.2.3).
    for i in 0..4 {
        let Some(&b) = buf.get(at) else {
            return Ok(None);
        };
        at += 1;
        len |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(format!("a Remaining Length of {at} bytes that fits fewer"));
            }
            break;
        }
        if i == 3 {
            return Err("a Remaining Length of more than four bytes".into());
        }
    }
    let Some(body) = buf.get(at..at + len) else {
        return Ok(None);
    };
    let id_of = |b: &[u8]| -> Result<u16, String> {
        let id = u16::from_be_bytes([b[0], b[1]]);
        if id == 0 {
            return Err("a packet identifier of 0 [MQTT-2.3.1-1]".into());
        }
        Ok(id)
    };
    let fixed = |want_flags: u8, want_len: usize| -> Result<(), String> {
        if flags != want_flags {
            return Err(format!(
                "type {kind} with flags {flags:#06b} [MQTT-2.2.2-2]"
            ));
        }
        if len != want_len {
            return Err(format!("type {kind} with a Remaining Length of {len}"));
        }
        Ok(())
    };
    let packet = match kind {
        CONNACK => {
            fixed(0, 2)?;
            let (ack, code) = (body[0], body[1]);
            if ack & 0xfe != 0 {
                return Err(format!(
                    "CONNACK acknowledge flags {ack:#04x} [MQTT-3.2.2-1]"
                ));
            }
            if code > 5 {
                return Err(format!("CONNACK with the reserved code {code}"));
            }
            if ack == 1 && code != 0 {
                return Err(format!(
                    "CONNACK session present with code {code} [MQTT-3.2.2-4]"
                ));
            }
            ServerPacket::Connack {
                session_present: ack == 1,
                code,
            }
        }
        PUBLISH => read_publish(flags, body)?,
        PUBACK | PUBREC | PUBCOMP => {
            fixed(0, 2)?;
            let id = id_of(body)?;
            match kind {
                PUBACK => ServerPacket::Puback(id),
                PUBREC => ServerPacket::Pubrec(id),
                _ => ServerPacket::Pubcomp(id),
            }
        }
        PUBREL => {
            fixed(0b0010, 2)?;
            ServerPacket::Pubrel(id_of(body)?)
        }
        SUBACK => {
            if flags != 0 || len < 3 {
                return Err(format!("SUBACK with flags {flags:#06b}, {len} bytes"));
            }
            let codes = body[2..].to_vec();
            if let Some(c) = codes.iter().find(|&&c| c > 2 && c != 0x80) {
                return Err(format!(
                    "SUBACK with the reserved code {c:#04x} [MQTT-3.9.3-2]"
                ));
            }
            ServerPacket::Suback {
                id: id_of(body)?,
                codes,
            }
        }
        UNSUBACK => {
            fixed(0, 2)?;
            ServerPacket::Unsuback(id_of(body)?)
        }
        PINGRESP => {
            fixed(0, 0)?;
            ServerPacket::Pingresp
        }
        0 | 15 => return Err(format!("the reserved packet type {kind}")),
        _ => return Err(format!("packet type {kind}, which only a client sends")),
    };
    Ok(Some((packet, at + len)))
}

fn read_publish(flags: u8, body: &[u8]) -> Result<ServerPacket, String> {
    let (dup, qos, retain) = (flags & 0b1000 != 0, (flags >> 1) & 0b11, flags & 1 != 0);
    if qos == 3 {
        return Err("a PUBLISH of QoS 3 [MQTT-3.3.1-4]".into());
    }
    if dup && qos == 0 {
        return Err("a PUBLISH with DUP and QoS 0 [MQTT-3.3.1-2]".into());
    }
    let short = || "a PUBLISH shorter than its fields".to_string();
    let tlen = u16::from_be_bytes([
        *body.first().ok_or_else(short)?,
        *body.get(1).ok_or_else(short)?,
    ]) as usize;
    let topic = body.get(2..2 + tlen).ok_or_else(short)?;
    let topic = std::str::from_utf8(topic)
        .map_err(|_| "a PUBLISH topic that is not UTF-8 [MQTT-1.5.3-1]".to_string())?;
    if topic.is_empty() || topic.contains(['+', '#', '\0']) {
        return Err(format!("a PUBLISH to the invalid topic name {topic:?}"));
    }
    let mut at = 2 + tlen;
    let mut id = 0;
    if qos > 0 {
        let b = body.get(at..at + 2).ok_or_else(short)?;
        id = u16::from_be_bytes([b[0], b[1]]);
        if id == 0 {
            return Err("a PUBLISH identifier of 0 [MQTT-2.3.1-1]".into());
        }
        at += 2;
    }
    Ok(ServerPacket::Publish {
        dup,
        qos,
        retain,
        id,
        topic: topic.to_string(),
        payload: body[at..].to_vec(),
    })
}

/// Whether a topic filter is valid (§4.7.1): not empty, `#` alone in the last level, `+`
/// alone in its level.
pub fn valid_filter(filter: &str) -> bool {
    let levels: Vec<&str> = filter.split('/').collect();
    !filter.is_empty()
        && levels.iter().enumerate().all(|(i, l)| {
            let wild = l.contains(['+', '#']);
            !wild || *l == "+" || (*l == "#" && i + 1 == levels.len())
        })
}

/// Whether `filter` matches the topic name `topic` (§4.7): `+` one level (empty ones too), a
/// last `#` the rest and its parent, no normalisation, and a filter starting with a wildcard
/// never matching a topic starting with `$` (`[MQTT-4.7.2-1]`).
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    for (i, level) in f.iter().enumerate() {
        match *level {
            "#" => return true,
            "+" if i < t.len() => {}
            l if t.get(i) == Some(&l) => {}
            _ => return false,
        }
    }
    f.len() == t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_minimal() {
        for (n, want) in [
            (0usize, vec![0u8]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (16_383, vec![0xff, 0x7f]),
            (16_384, vec![0x80, 0x80, 0x01]),
        ] {
            let mut out = Vec::new();
            remaining_length(&mut out, n);
            assert_eq!(out, want, "{n}");
        }
    }

    #[test]
    fn server_packets_are_read_and_client_ones_refused() {
        let p = publish("a/b", b"hi", 1, false, false, 7);
        assert_eq!(
            read_server_packet(&p),
            Ok(Some((
                ServerPacket::Publish {
                    dup: false,
                    qos: 1,
                    retain: false,
                    id: 7,
                    topic: "a/b".into(),
                    payload: b"hi".to_vec()
                },
                p.len()
            )))
        );
        assert_eq!(read_server_packet(&p[..p.len() - 1]), Ok(None));
        assert_eq!(
            read_server_packet(&ack(PUBREL, 3)),
            Ok(Some((ServerPacket::Pubrel(3), 4)))
        );
        assert!(read_server_packet(&pingreq()).is_err());
        assert!(read_server_packet(&[0x20, 0x02, 0x01, 0x02]).is_err());
        assert!(read_server_packet(&[0xd0, 0x80, 0x00]).is_err());
        assert!(read_server_packet(&[0x90, 0x03, 0, 1, 3]).is_err());
        assert!(read_server_packet(&[0x40, 0x02, 0, 0]).is_err());
    }

    #[test]
    fn topics_match_as_the_standard_says() {
        assert!(matches("sport/tennis/player1/#", "sport/tennis/player1"));
        assert!(matches("sport/#", "sport"));
        assert!(matches("sport/+", "sport/"));
        assert!(!matches("sport/+", "sport"));
        assert!(matches("+/+", "/finance"));
        assert!(!matches("+", "/finance"));
        assert!(!matches("#", "$SYS/x"));
        assert!(!matches("+/x", "$SYS/x"));
        assert!(matches("$SYS/#", "$SYS/x"));
        assert!(!matches("a", "a/b"));
        assert!(!matches("a/b", "a"));
        assert!(valid_filter("+/tennis/#") && valid_filter("/+"));
        assert!(!valid_filter("a/#/b") && !valid_filter("a+") && !valid_filter(""));
    }
}
