//! One connection over a blocking stream.

use embedded_io::{Read, Write};

use crate::server::{AcceptError, Event, IoError, Op, OpKind, Protocols, Server};
use crate::{Now, PeerAddr};

/// Why [`serve_connection`] stopped early.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServeError {
    /// The server refused the connection.
    Accept(AcceptError),
}

/// Serves one connection over `stream` until the server closes it. Reads block, so timeouts
/// fire between operations only: give the stream its own read timeout if a silent peer must
/// not hold the connection forever. Sends are performed before reads, so a response is always
/// flushed before waiting for the next request. Stream errors end the connection (the server
/// sees the peer as gone), not the call.
pub fn serve_connection<S, P: Protocols<S>, T: Read + Write>(
    server: &mut Server<'_, S, P>,
    stream: &mut T,
    protocol: P::Id,
    peer: PeerAddr,
    mut clock: impl FnMut() -> Now,
) -> Result<(), ServeError> {
    let _ = server.handle(Event::Tick(clock()));
    let slot = server
        .handle(Event::Accepted { protocol, peer })
        .accepted()
        .map_err(ServeError::Accept)?;
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
            let event = match op {
                Op::Recv(s) if s == slot => {
                    recv = true;
                    continue;
                }
                Op::Send(s) if s == slot => {
                    send = true;
                    continue;
                }
                Op::Shutdown(_) => {
                    let _ = stream.flush();
                    continue;
                }
                Op::Close(s) if s == slot => {
                    let _ = stream.flush();
                    let _ = server.handle(Event::Closed { slot });
                    return Ok(());
                }
                Op::Close(other) => Event::Closed { slot: other },
                // No datagrams here: the reply is dropped.
                Op::SendDatagram(reply) => Event::DatagramSent { reply },
                other => {
                    debug_assert!(false, "operation {other:?} for another connection");
                    continue;
                }
            };
            let _ = server.handle(event);
        }
        let event = if send {
            send = false;
            let [first, second] = server.send_parts(slot);
            let part = if first.is_empty() { second } else { first };
            match stream.write(part) {
                Ok(n) if n > 0 => Event::Sent { slot, n },
                _ => broken(slot, OpKind::Send),
            }
        } else if recv {
            recv = false;
            match stream.read(server.recv_buffer(slot)) {
                Ok(n) => Event::Received { slot, n },
                Err(_) => broken(slot, OpKind::Recv),
            }
        } else {
            Event::Tick(clock())
        };
        let _ = server.handle(event);
        let _ = server.handle(Event::Tick(clock()));
    }
    panic!("a connection outlived every bound the server sets");
}

fn broken<Id>(slot: crate::SlotId, op: OpKind) -> Event<Id> {
    Event::Failed {
        slot,
        op,
        error: IoError::Broken,
    }
}
