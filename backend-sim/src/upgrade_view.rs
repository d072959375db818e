//! The oracle's view of a client that upgrades from HTTP/1.1 to the raw-TCP line protocol
//! (RFC 9110 §7.8): its first answer must be a `101 Switching Protocols` naming the protocol
//! and `Connection: upgrade`; every byte after that head belongs to the line protocol and is
//! judged as a raw-TCP client's ([`TcpView`]).

use crate::oracle::{Ending, TcpView, Timing};

/// The longest `101` head the view waits for before it calls the answer malformed.
const MAX_HEAD: usize = 4096;

/// An upgrading client's reading side and its judge.
#[derive(Debug, Default)]
pub struct UpgradeView {
    /// The bytes of the answer before the switch (the `101` head, once complete).
    head: Vec<u8>,
    /// The `101` head was complete and right: what follows is the line protocol's.
    pub switched: bool,
    /// The request was answered `408 Request Timeout` instead: right only if the server did
    /// not have the whole request (judged at the end).
    pub timed_out: bool,
    /// The line protocol's part, judged as a raw-TCP client's.
    pub tcp: TcpView,
    /// The first failure found in the HTTP part.
    pub failure: Option<String>,
}

impl UpgradeView {
    /// The client read `bytes`; `expected` is the line protocol's output it is owed.
    pub fn on_bytes(&mut self, bytes: &[u8], expected: &[u8]) {
        if self.failure.is_some() || self.tcp.gave_up || self.timed_out {
            return;
        }
        if self.switched {
            self.tcp.on_bytes(bytes, expected);
            return;
        }
        self.head.extend_from_slice(bytes);
        let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else {
            if self.head.len() > MAX_HEAD {
                self.failure = Some(format!("no end of the 101 head in {MAX_HEAD} bytes"));
            }
            return;
        };
        let rest = self.head.split_off(end + 4);
        if self.head.starts_with(b"HTTP/1.1 408 ") {
            // Its body, and the close, follow.
            self.timed_out = true;
            return;
        }
        if let Err(why) = check_switching_head(&self.head) {
            self.failure = Some(why);
            return;
        }
        self.switched = true;
        self.tcp.on_bytes(&rest, expected);
    }

    /// The connection ended; `request_end` is the offset just past the upgrade request,
    /// `had_at_answer` the bytes the server had received when it posted its answer.
    pub fn on_end(
        &mut self,
        request_end: usize,
        had_at_answer: usize,
        lines: &[(usize, usize)],
        quit_end: Option<usize>,
        t: &Timing<'_>,
        end: &Ending,
    ) {
        if self.failure.is_some() || self.tcp.gave_up || end.excused || end.shed {
            return;
        }
        if self.switched {
            self.tcp.on_end(lines, quit_end, t, end);
            return;
        }
        // Before the switch the HTTP module's deadlines apply, which the HTTP clients' oracle
        // judges; here only the answer owed to a complete request is.
        if self.timed_out && had_at_answer >= request_end {
            self.failure = Some("the server had the whole upgrade request but answered 408".into());
        } else if !self.timed_out && end.delivered >= request_end {
            self.failure = Some(format!(
                "the server had the whole upgrade request but closed after {} bytes of answer \
                 without a complete 101",
                self.head.len()
            ));
        }
    }

    /// The first failure found, in either part.
    pub fn failure(&self) -> Option<&String> {
        self.failure.as_ref().or(self.tcp.failure.as_ref())
    }
}

/// Checks a `101` head: the status line, `Upgrade: lines` and `Connection: upgrade`
/// (RFC 9110 §7.8: a server that switches sends `Upgrade` naming the protocol it switches to,
/// and RFC 9112 §9.6 `Connection: upgrade` so that intermediaries do not forward it).
fn check_switching_head(head: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(head).map_err(|_| "a 101 head that is not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or("");
    if status != "HTTP/1.1 101 Switching Protocols" {
        return Err(format!("the upgrade was answered {status:?}, not a 101"));
    }
    let mut upgrade = false;
    let mut connection = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("a 101 header line without a colon: {line:?}"))?;
        let (name, value) = (name.to_ascii_lowercase(), value.trim().to_ascii_lowercase());
        upgrade |= name == "upgrade" && value == "lines";
        connection |= name == "connection" && value.split(',').any(|v| v.trim() == "upgrade");
    }
    match (upgrade, connection) {
        (true, true) => Ok(()),
        (false, _) => Err("a 101 without `Upgrade: lines`".into()),
        (_, false) => Err("a 101 without `Connection: upgrade`".into()),
    }
}
