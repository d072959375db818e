//! Several connections over non-blocking streams, driven from the caller's poll loop.

use crate::server::{AcceptError, Event, IoError, Op, OpKind, Protocols, Server, SlotId};
use crate::{Now, PeerAddr};

/// A byte stream whose operations may answer [`nb::Error::WouldBlock`].
pub trait NbStream {
    /// The stream's error.
    type Error;
    /// Reads some bytes; `Ok(0)` is end of stream.
    fn read(&mut self, buf: &mut [u8]) -> nb::Result<usize, Self::Error>;
    /// Writes some bytes (at least one when it does not block).
    fn write(&mut self, buf: &[u8]) -> nb::Result<usize, Self::Error>;
    /// Shuts the sending side, if the stream can (the default does nothing).
    fn shutdown_write(&mut self) {}
}

/// Any `embedded-io` stream that can tell whether an operation would block.
impl<T> NbStream for T
where
    T: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write + embedded_io::WriteReady,
{
    type Error = T::Error;

    fn read(&mut self, buf: &mut [u8]) -> nb::Result<usize, T::Error> {
        if !self.read_ready()? {
            return Err(nb::Error::WouldBlock);
        }
        Ok(embedded_io::Read::read(self, buf)?)
    }

    fn write(&mut self, buf: &[u8]) -> nb::Result<usize, T::Error> {
        if !self.write_ready()? {
            return Err(nb::Error::WouldBlock);
        }
        Ok(embedded_io::Write::write(self, buf)?)
    }
}

struct Entry<T> {
    slot: SlotId,
    stream: T,
    recv: bool,
    send: bool,
}

/// Up to `N` connections, each a stream and a server slot. Add connections with
/// [`NbDriver::add`]; call [`NbDriver::poll`] from the loop whenever a stream may be ready or
/// time has passed.
pub struct NbDriver<T, const N: usize> {
    entries: heapless::Vec<Entry<T>, N>,
}

impl<T, const N: usize> Default for NbDriver<T, N> {
    fn default() -> Self {
        NbDriver {
            entries: heapless::Vec::new(),
        }
    }
}

impl<T: NbStream, const N: usize> NbDriver<T, N> {
    /// A driver with no connections.
    pub fn new() -> NbDriver<T, N> {
        NbDriver::default()
    }

    /// Connections being served.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no connection is being served.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Serves a new connection. Gives the stream back when the server or this driver is full.
    pub fn add<S, P: Protocols<S>>(
        &mut self,
        server: &mut Server<'_, S, P>,
        stream: T,
        protocol: P::Id,
        peer: PeerAddr,
    ) -> Result<SlotId, (T, AcceptError)> {
        if self.entries.is_full() {
            return Err((stream, AcceptError::Full));
        }
        let slot = match server.handle(Event::Accepted { protocol, peer }).accepted() {
            Ok(slot) => slot,
            Err(e) => return Err((stream, e)),
        };
        let entry = Entry {
            slot,
            stream,
            recv: false,
            send: false,
        };
        if self.entries.push(entry).is_err() {
            unreachable!("checked for room above");
        }
        Ok(slot)
    }

    /// Advances every connection as far as it can go without blocking; returns how many
    /// operations completed (0: nothing was ready, the loop may wait).
    pub fn poll<S, P: Protocols<S>>(&mut self, server: &mut Server<'_, S, P>, now: Now) -> usize {
        let _ = server.handle(Event::Tick(now));
        let mut done = 0;
        // Bounded: each turn either completes an operation or stops.
        for _ in 0..N * 4 + 4 {
            let mut progress = 0;
            for _ in 0..server.op_budget() {
                let Some(op) = server.poll_op() else { break };
                match op {
                    Op::Recv(s) => self.with(s, |e| e.recv = true),
                    Op::Send(s) => self.with(s, |e| e.send = true),
                    Op::Shutdown(s) => self.with(s, |e| e.stream.shutdown_write()),
                    Op::Close(s) => {
                        if let Some(i) = self.entries.iter().position(|e| e.slot == s) {
                            // Dropping the stream closes it.
                            drop(self.entries.swap_remove(i));
                        }
                        let _ = server.handle(Event::Closed { slot: s });
                        progress += 1;
                    }
                    // No datagrams here: the reply is dropped.
                    Op::SendDatagram(reply) => {
                        let _ = server.handle(Event::DatagramSent { reply });
                    }
                }
            }
            for e in self.entries.iter_mut() {
                if e.send {
                    let [first, second] = server.send_parts(e.slot);
                    let part = if first.is_empty() { second } else { first };
                    match e.stream.write(part) {
                        Ok(n) => {
                            e.send = false;
                            let _ = server.handle(Event::Sent { slot: e.slot, n });
                            progress += 1;
                        }
                        Err(nb::Error::WouldBlock) => {}
                        Err(nb::Error::Other(_)) => {
                            e.send = false;
                            let _ = server.handle(broken(e.slot, OpKind::Send));
                            progress += 1;
                        }
                    }
                }
                if e.recv {
                    match e.stream.read(server.recv_buffer(e.slot)) {
                        Ok(n) => {
                            e.recv = false;
                            let _ = server.handle(Event::Received { slot: e.slot, n });
                            progress += 1;
                        }
                        Err(nb::Error::WouldBlock) => {}
                        Err(nb::Error::Other(_)) => {
                            e.recv = false;
                            let _ = server.handle(broken(e.slot, OpKind::Recv));
                            progress += 1;
                        }
                    }
                }
            }
            if progress == 0 {
                break;
            }
            done += progress;
        }
        done
    }

    fn with(&mut self, slot: SlotId, f: impl FnOnce(&mut Entry<T>)) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.slot == slot) {
            f(e);
        }
    }
}

fn broken<Id>(slot: SlotId, op: OpKind) -> Event<Id> {
    Event::Failed {
        slot,
        op,
        error: IoError::Broken,
    }
}
