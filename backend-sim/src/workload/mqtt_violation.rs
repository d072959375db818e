//! The violations MQTT clients commit (see the MQTT clients, `workload::mqtt`): bytes after
//! which the server must close without answering — as a connection's first bytes (a packet
//! that is not a CONNECT, a malformed CONNECT), or after it (reserved packet types, flags
//! other than a type's, QoS 3, DUP with QoS 0, lengths not minimal or too long, a packet
//! longer than the receive buffer, fields past their packet's end or short of it, topics
//! that are not UTF-8 or hold U+0000 or a wildcard, bad filters and requested QoS, identifier
//! 0, a second CONNECT, a packet only a server sends).

use super::Gen;
use crate::mqtt_wire as wire;

impl Gen<'_> {
    /// A violation as a connection's first bytes: a packet that is not a CONNECT, or a
    /// malformed CONNECT.
    pub(super) fn mqtt_first_violation(&mut self, n: u32) -> (Vec<u8>, &'static str) {
        let c = self.mqtt_connect(n);
        let good = wire::connect(&c);
        // The CONNECT's body, and where its flags byte lies in it (after the protocol name
        // and level).
        let head = 1 + good[1..].iter().position(|b| b & 0x80 == 0).unwrap_or(0) + 1;
        let mut body = good[head..].to_vec();
        let flags = 2 + 4 + 1;
        match self.rng.below(6) {
            0 => (wire::pingreq(), "mqtt.violation.first-not-connect"),
            1 => (
                wire::publish("t", b"x", 0, false, false, 0),
                "mqtt.violation.first-not-connect",
            ),
            2 => {
                // The protocol name of 3.1, "MQIsdp".
                let mut body = Vec::new();
                wire::field(&mut body, b"MQIsdp");
                body.extend_from_slice(&[3, 2, 0, 0]);
                wire::field(&mut body, b"old");
                (wire::packet(0x10, &body), "mqtt.violation.connect")
            }
            3 => {
                // The reserved flag, or a will's QoS or RETAIN without the will flag (a will's
                // fields, if any, would then trail: refused either way).
                body[flags] = (body[flags] & !0x04) | *self.rng.pick(&[0x01u8, 0x08, 0x20]);
                (wire::packet(0x10, &body), "mqtt.violation.connect")
            }
            4 => {
                // A password without a user name.
                body[flags] = (body[flags] & !0x80) | 0x40;
                (wire::packet(0x10, &body), "mqtt.violation.connect")
            }
            _ => {
                // Trailing bytes after the last field.
                body.push(0);
                (wire::packet(0x10, &body), "mqtt.violation.connect")
            }
        }
    }

    /// A violation after the CONNECT.
    pub(super) fn mqtt_violation(&mut self, n: u32) -> (Vec<u8>, &'static str) {
        let id = 1u16;
        match self.rng.below(16) {
            0 => (
                vec![*self.rng.pick(&[0x00u8, 0xF0]), 0],
                "mqtt.violation.reserved-type",
            ),
            1 => {
                let bytes = match self.rng.below(3) {
                    0 => wire::packet(0x80, &[0, 1, 0, 1, b't', 0]),
                    1 => vec![0x60, 2, 0, 1],
                    _ => vec![0xC1, 0],
                };
                (bytes, "mqtt.violation.flags")
            }
            2 => {
                let mut p = wire::publish("t", b"q3", 1, false, false, 9);
                p[0] |= 0x06;
                (p, "mqtt.violation.qos3")
            }
            3 => {
                let mut p = wire::publish("t", b"dup", 0, false, false, 0);
                p[0] |= 0x08;
                (p, "mqtt.violation.dup-qos0")
            }
            4 => (
                vec![*self.rng.pick(&[0xC0u8, 0xE0]), 0x80, 0x00],
                "mqtt.violation.length",
            ),
            5 => (
                vec![0x30, 0x80, 0x80, 0x80, 0x80, 0x01],
                "mqtt.violation.length",
            ),
            6 => {
                // A Remaining Length past the receive buffer: refused from the header.
                let mut p = vec![0x30];
                wire::remaining_length(&mut p, self.config.recv_buffer as usize);
                p.extend_from_slice(&[0, 1, b't']);
                (p, "mqtt.violation.too-big")
            }
            7 => {
                let bytes = match self.rng.below(3) {
                    0 => vec![0x30, 3, 0, 5, b't'],
                    1 => vec![0xC0, 1, 0],
                    _ => vec![0x40, 3, 0, 1, 0],
                };
                (bytes, "mqtt.violation.framing")
            }
            8 => {
                let topics: [&[u8]; 3] = [b"t\xff", b"t\0x", b"\xc0\x80"];
                let topic = *self.rng.pick(&topics);
                let mut body = Vec::new();
                wire::field(&mut body, topic);
                body.extend_from_slice(b"bad");
                (wire::packet(0x30, &body), "mqtt.violation.utf8")
            }
            9 => {
                let topic = *self.rng.pick(&["t/+", "t/#", "#", ""]);
                (
                    wire::publish(topic, b"wild", 0, false, false, 0),
                    "mqtt.violation.topic",
                )
            }
            10 => {
                let f = *self.rng.pick(&["t/#/x", "t+", "#/t", ""]);
                (
                    wire::subscribe(id, &[(f.into(), 0)]),
                    "mqtt.violation.filter",
                )
            }
            11 => {
                let bytes = match self.rng.below(3) {
                    0 => wire::packet(0x82, &[0, 1]),
                    1 => wire::subscribe(id, &[("t".into(), *self.rng.pick(&[3u8, 4, 0x81]))]),
                    _ => wire::packet(0xA2, &[0, 1]),
                };
                (bytes, "mqtt.violation.subscribe")
            }
            12 => {
                let bytes = if self.rng.coin() {
                    wire::publish("t", b"id0", 1, false, false, 0)
                } else {
                    wire::subscribe(0, &[("t".into(), 0)])
                };
                (bytes, "mqtt.violation.id-zero")
            }
            13 => {
                let c = self.mqtt_connect(n);
                (wire::connect(&c), "mqtt.violation.second-connect")
            }
            _ => {
                let bytes = match self.rng.below(4) {
                    0 => vec![0x20, 2, 0, 0],
                    1 => vec![0x90, 3, 0, 1, 0],
                    2 => vec![0xD0, 0],
                    _ => vec![0xB0, 2, 0, 1],
                };
                (bytes, "mqtt.violation.server-packet")
            }
        }
    }
}
