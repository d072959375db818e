//! One connection over a blocking stream.

use embedded_io::{Read, Write};

use crate::server::{AcceptError, IoError, Op, OpKind, Server};
use crate::{Now, PeerAddr, Service};

/// Why [`serve_connection`] stopped early.
#[derive(Debug, PartialEq, Eq)]
pub enum ServeError {
    /// The server refused the connection.
    Accept(AcceptError),
}

/// Serves one connection over `stream` until the server closes it. Reads block, so timeouts
/// fire between operations only: give the stream its own read timeout if a silent peer must
/// not hold the connection forever. Sends are performed before reads, so a response is always
/// flushed before waiting for the next request. Stream errors end the connection (the server
/// sees the peer as gone), not the call.
pub fn serve_connection<S, T: Read + Write>(
    server: &mut Server<'_, S>,
    stream: &mut T,
    service: Service<S>,
    peer: PeerAddr,
    mut clock: impl FnMut() -> Now,
) -> Result<(), ServeError> {
    server.tick(clock());
    let slot = server.accept(service, peer).map_err(ServeError::Accept)?;
    let (mut recv, mut send) = (false, false);
    // Bounded: every turn performs one operation on a blocking stream, and the server closes
    // the connection after `max_requests_per_connection` requests or when a timeout fires;
    // the turn budget is a backstop whose exhaustion means the server stopped closing.
    let config = server.config();
    let turns = (config.max_requests_per_connection as u64 + 2)
        .saturating_mul(2 * (config.limits.max_body as u64 + config.recv_buffer as u64 + 64));
    for _ in 0..turns {
        for _ in 0..server.op_budget() {
            let Some(op) = server.poll_op() else { break };
            match op {
                Op::Recv(s) if s == slot => recv = true,
                Op::Send(s) if s == slot => send = true,
                Op::Shutdown(_) => {
                    let _ = stream.flush();
                }
                Op::Close(s) if s == slot => {
                    let _ = stream.flush();
                    server.closed(slot);
                    return Ok(());
                }
                Op::Close(other) => server.closed(other),
                other => debug_assert!(false, "operation {other:?} for another connection"),
            }
        }
        if send {
            send = false;
            let [first, second] = server.send_parts(slot);
            let part = if first.is_empty() { second } else { first };
            match stream.write(part) {
                Ok(n) if n > 0 => server.sent(slot, n),
                _ => server.failed(slot, OpKind::Send, IoError::Broken),
            }
        } else if recv {
            recv = false;
            match stream.read(server.recv_buffer(slot)) {
                Ok(n) => server.received(slot, n),
                Err(_) => server.failed(slot, OpKind::Recv, IoError::Broken),
            }
        }
        server.tick(clock());
    }
    panic!("a connection outlived every bound the server sets");
}
