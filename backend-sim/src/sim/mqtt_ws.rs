//! The MQTT clients over WebSocket ([`crate::mqtt_ws`]): their packets framed as they are
//! written, the server's frames taken off what it queues (for the oracle) and what the
//! client reads (for the client), the handshake, pongs and the Close judged on the way.

use super::Sim;
use crate::mqtt_client::Sent;
use crate::mqtt_ws::{self as ws, Handshake, WsSide};

impl Sim<'_> {
    /// Client `i`'s WebSocket side, if it speaks MQTT over WebSocket.
    fn mqtt_ws_side(&mut self, i: usize) -> Option<&mut WsSide> {
        let c = &mut self.conns[i];
        if c.mqtt.ws.is_none() {
            let w = c.script.mqtt.as_ref()?.ws.as_ref()?;
            c.mqtt.ws = Some(WsSide::new(&w.key, w.seed));
        }
        c.mqtt.ws.as_mut()
    }

    /// Whether client `i` speaks MQTT over WebSocket.
    pub(super) fn mqtt_over_ws(&self, i: usize) -> bool {
        let c = &self.conns[i];
        c.script.mqtt.as_ref().is_some_and(|m| m.ws.is_some())
    }

    /// Whether client `i` may write frames: over TCP, always; over WebSocket, once it read
    /// the `101` (a client waits for the handshake's answer, RFC 6455 §4.1).
    pub(super) fn mqtt_ws_open(&self, i: usize) -> bool {
        !self.mqtt_over_ws(i)
            || self.conns[i]
                .mqtt
                .ws
                .as_ref()
                .is_some_and(|w| w.read.handshake == Handshake::Switched)
    }

    /// The bytes client `i` writes for `sent` (its `bytes`): framed over WebSocket.
    pub(super) fn mqtt_frame(&mut self, i: usize, bytes: Vec<u8>, sent: &Sent) -> Vec<u8> {
        let Some(side) = self.mqtt_ws_side(i) else {
            return bytes;
        };
        let opcode = match sent {
            Sent::Violation("mqtt.ws.text") => ws::TEXT,
            Sent::WsPing(p) => {
                side.pings.push(p.clone());
                ws::PING
            }
            _ => ws::BINARY,
        };
        let mut out = Vec::new();
        ws::frames(&mut out, opcode, &bytes, &mut side.rng);
        out
    }

    /// The server queued `raw` more for client `i`: the MQTT bytes among them (all of them
    /// over TCP).
    pub(super) fn mqtt_unframe_written(&mut self, i: usize, raw: &[u8]) -> Result<Vec<u8>, String> {
        let Some(side) = self.mqtt_ws_side(i) else {
            return Ok(raw.to_vec());
        };
        side.raw.extend_from_slice(raw);
        let was = side.written.handshake;
        let out = side.written.feed(raw)?;
        if was == Handshake::Pending && side.written.handshake == Handshake::Switched {
            self.cov.hit("mqtt.ws.upgraded");
        }
        Ok(out)
    }

    /// Bytes the server queued for client `i` so far, as the oracle counts them.
    pub(super) fn mqtt_written_len(&self, i: usize) -> Option<usize> {
        self.conns[i].mqtt.ws.as_ref().map(|w| w.raw.len())
    }

    /// Client `i` read `raw`: the MQTT bytes among them, once checked (the bytes are the
    /// server's, the pongs answer pings, the Close has the code owed); `None` if nothing more
    /// is judged (a failure, or a handshake refused).
    pub(super) fn mqtt_unframe_read(&mut self, i: usize, raw: &[u8]) -> Option<Vec<u8>> {
        if !self.mqtt_over_ws(i) {
            return Some(raw.to_vec());
        }
        let side = self.mqtt_ws_side(i).expect("over WebSocket");
        let at = side.raw_read;
        if side.raw.get(at..at + raw.len()) != Some(raw) {
            let why = format!(
                "the client read {} bytes at byte {at} that the server never wrote there",
                raw.len()
            );
            self.fail(format!("client c{i} (client.mqtt over WebSocket): {why}"));
            return None;
        }
        side.raw_read += raw.len();
        let closed_before = side.read.close.is_some();
        let verdict = side.read.feed(raw).and_then(|out| {
            side.judge_pongs()?;
            Ok(out)
        });
        let (handshake, close) = (side.read.handshake, side.read.close);
        let out = match verdict {
            Ok(out) => out,
            Err(why) => {
                self.fail(format!("client c{i} (client.mqtt over WebSocket): {why}"));
                return None;
            }
        };
        if let Handshake::Refused(status) = handshake {
            tr!(self, "c{i} mqtt: the upgrade was answered {status}");
            self.conns[i].mqtt.refused = true;
            return None;
        }
        if let Some(code) = close.filter(|_| !closed_before)
            && let Err(why) = self.mqtt_judge_close(i, code)
        {
            self.fail(format!("client c{i} (client.mqtt over WebSocket): {why}"));
            return None;
        }
        Some(out)
    }

    /// The server's Close to client `i` carries `code`: 1003 for a text frame it had (its
    /// last packet), else 1000 (DISCONNECT, a refused CONNECT) or 1001 (shutting down).
    fn mqtt_judge_close(&mut self, i: usize, code: Option<u16>) -> Result<(), String> {
        let st = self.mqtt.conns.get(&i);
        // The server closes on the text frame's first bytes, perhaps before it has it whole.
        let text = st.is_some_and(|st| {
            st.closing
                .is_some_and(|k| st.packets[k].sent == Sent::Violation("mqtt.ws.text"))
        });
        let ok = match code {
            Some(1003) => text,
            Some(1000) | Some(1001) => !text || self.draining,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "the server's Close carries {code:?}, owed {}",
                if text {
                    "1003 for the text frame"
                } else {
                    "1000 or 1001"
                }
            ));
        }
        self.cov.hit(match code {
            Some(1003) => "mqtt.ws.close-1003",
            _ => "mqtt.ws.closed",
        });
        Ok(())
    }
}
