//! Raw-TCP clients of the line protocol ([`crate::app::TcpLines`]), a third of them reaching
//! it through an HTTP/1.1 upgrade ([`crate::app::UPGRADE_REQUEST`], written with the lines
//! that follow it, so that some arrive with the request): owed the greeting at once (after
//! the `101`), then lines of printable bytes, each owed its upper-cased echo, perhaps a `quit`
//! (owed `bye N` with N the lines before it, then the server closes) or a last line without
//! its end (owed nothing).

use super::{ClientKind, Gen, Script};
use crate::app::{TCP_GREETING, UPGRADE_REQUEST, bye_line};

impl Gen<'_> {
    pub(super) fn tcp_client(&mut self) -> Script {
        let mut s = if self.rng.below(3) == 0 {
            let mut s = self.base_script(ClientKind::Upgrade, "client.upgrade");
            s.bytes.extend_from_slice(UPGRADE_REQUEST);
            s.upgrade_end = Some(s.bytes.len());
            s
        } else {
            self.base_script(ClientKind::Tcp, "client.tcp")
        };
        // The greeting is owed as soon as the line protocol opens.
        s.tcp_expected.extend_from_slice(TCP_GREETING);
        s.tcp_lines.push((s.bytes.len(), s.tcp_expected.len()));
        let lines = self.rng.range_usize(0, 8);
        let max_line = (self.config.recv_buffer.min(self.config.send_buffer) / 4).min(200) as usize;
        for _ in 0..lines {
            let len = self.rng.range_usize(0, max_line);
            let mut line: Vec<u8> = (0..len).map(|_| self.rng.range(0x20, 0x7e) as u8).collect();
            if line == b"quit" {
                line.push(b'!');
            }
            s.bytes.extend_from_slice(&line);
            s.bytes.push(b'\n');
            s.tcp_expected
                .extend(line.iter().map(|b| b.to_ascii_uppercase()));
            s.tcp_expected.push(b'\n');
            s.tcp_lines.push((s.bytes.len(), s.tcp_expected.len()));
        }
        match self.rng.below(3) {
            0 => {
                s.bytes.extend_from_slice(b"quit\n");
                let mut bye = [0u8; 16];
                let n = bye_line(lines as u32, &mut bye);
                s.tcp_expected.extend_from_slice(&bye[..n]);
                s.tcp_lines.push((s.bytes.len(), s.tcp_expected.len()));
                s.tcp_quit_end = Some(s.bytes.len());
            }
            1 => {
                // A last line without its end: never answered.
                let len = self.rng.range_usize(1, 10);
                s.bytes.extend((0..len).map(|_| b'p'));
            }
            _ => {}
        }
        self.add_cuts_and_stalls(&mut s);
        s
    }
}
