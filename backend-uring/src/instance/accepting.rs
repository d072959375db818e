//! Accepting: a multishot accept armed on every listener for the instance's whole life, the
//! waiting room for connections that arrive while every slot is taken, and the requests to
//! the server to make room for them.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{cqueue, opcode, types};
use zzz_core::{AcceptError, Event, PeerAddr, Protocols};

use super::Io;
use super::connections::SlotIo;
use crate::submit::Submit;
use crate::token::{Kind, token};

/// A listening socket of an instance, and the protocol its connections are served with.
pub(crate) struct Listener<Id> {
    /// The socket (shared by every instance in [`ListenerMode::Shared`](crate::ListenerMode)).
    pub fd: Arc<OwnedFd>,
    /// The protocol of the app's set its connections speak.
    pub protocol: Id,
}

/// A listener as the loop drives it.
pub(super) struct ListenerState<Id> {
    /// `None` once stopping: closing the socket refuses new connections at once.
    fd: Option<Arc<OwnedFd>>,
    protocol: Id,
    /// Its multishot accept is armed (until its last completion, without `MORE`).
    pub(super) armed: bool,
    cancelling: bool,
}

impl<Id> ListenerState<Id> {
    pub(super) fn new(l: Listener<Id>) -> ListenerState<Id> {
        ListenerState {
            fd: Some(l.fd),
            protocol: l.protocol,
            armed: false,
            cancelling: false,
        }
    }
}

impl<S, P: Protocols<S>> Io<'_, '_, S, P> {
    /// Keeps an accept armed on every listener until the instance stops, whether or not the
    /// server has a free slot: with every slot taken the server makes room for each newcomer
    /// (its overload policy), which is what keeps a flood of idle connections from locking
    /// real clients out. Accepts are cancelled only by [`Io::stop_accepting`].
    pub(super) fn arm_accepts(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        if self.stopping.is_some() {
            return Ok(());
        }
        for (l, listener) in self.listeners.iter_mut().enumerate() {
            let Some(fd) = &listener.fd else { continue };
            if !listener.armed {
                listener.armed = true;
                listener.cancelling = false;
                let entry = opcode::AcceptMulti::new(types::Fd(fd.as_raw_fd()))
                    .allocate_file_index(true)
                    .build()
                    .user_data(token(Kind::Accept, l as u32));
                // SAFETY: a multishot accept into the file table refers to no buffer.
                unsafe { sub.push(&entry) }?;
            }
        }
        Ok(())
    }

    /// Stopping: closes the waiting connections (they never got a request in), releases the
    /// listening sockets and cancels the accepts.
    pub(super) fn stop_accepting(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        for (file, _) in self.waiting.drain(..) {
            push_close_rejected(sub, file)?;
        }
        // A posted accept keeps its own reference to the socket until it completes, so the
        // socket can be released now.
        for listener in self.listeners.iter_mut() {
            listener.fd = None;
        }
        for (l, listener) in self.listeners.iter_mut().enumerate() {
            if listener.armed && !listener.cancelling {
                listener.cancelling = true;
                let entry = opcode::AsyncCancel::new(token(Kind::Accept, l as u32))
                    .build()
                    .user_data(token(Kind::Cancel, 0));
                // SAFETY: a cancel refers to no buffer.
                unsafe { sub.push(&entry) }?;
            }
        }
        Ok(())
    }

    /// Whether an accept is still armed: it holds its listening socket open.
    pub(super) fn accepting(&self) -> bool {
        self.listeners.iter().any(|l| l.armed)
    }

    /// An accept of listener `l` completed.
    pub(super) fn accepted(
        &mut self,
        sub: &mut Submit<'_>,
        l: usize,
        result: i32,
        flags: u32,
    ) -> io::Result<()> {
        // Every completion of a multishot accept, its last included, arrives while it is armed.
        assert!(
            self.listeners[l].armed,
            "listener {l}: an accept completed that was not armed"
        );
        if !cqueue::more(flags) {
            self.listeners[l].armed = false;
        }
        if result < 0 {
            // EMFILE, ENFILE, ECONNABORTED, ECANCELED (our own cancel): nothing to serve;
            // the accept is re-armed at the end of the turn.
            log::debug!(
                "zzz: accept failed: {}",
                io::Error::from_raw_os_error(-result)
            );
            return Ok(());
        }
        let file = result as u32;
        assert!(
            file < self.files,
            "the kernel allocated file {file} outside the table"
        );
        // Earlier arrivals first: they may have a slot by now.
        self.admit_waiting(sub)?;
        self.offer(sub, file, l)
    }

    /// Asks the server to make room for the connections that wait (once per loop turn).
    pub(super) fn make_room(&mut self) {
        if !self.waiting.is_empty() {
            let waiting = self.waiting.len();
            let _ = self.tell(Event::MakeRoom { waiting });
        }
    }

    /// Hands waiting connections to the server while it has room, in arrival order.
    pub(super) fn admit_waiting(&mut self, sub: &mut Submit<'_>) -> io::Result<()> {
        // Bounded: one round per waiting connection.
        for _ in 0..self.waiting.len() {
            if !self.server.can_accept() {
                break;
            }
            let Some((file, l)) = self.waiting.pop_front() else {
                break;
            };
            self.offer(sub, file, l)?;
        }
        Ok(())
    }

    /// Offers an accepted connection to the server. With every slot taken the server begins
    /// freeing one for it, and it waits in arrival order; when the waiting room is full it is
    /// turned away.
    fn offer(&mut self, sub: &mut Submit<'_>, file: u32, l: usize) -> io::Result<()> {
        let protocol = self.listeners[l].protocol;
        // Connections are accepted into the file table without their address.
        let peer = PeerAddr::Local;
        match self.tell(Event::Accepted { protocol, peer }).accepted() {
            Ok(slot) => {
                // The server hands out a slot only after `Closed`, which `maybe_closed` tells
                // once the backend is done with it too.
                assert!(
                    self.slots[slot as usize] == SlotIo::default()
                        && self.pending.len(slot as usize) == 0,
                    "slot {slot} handed out while the backend still has operations on it"
                );
                self.slots[slot as usize] = SlotIo {
                    file,
                    ..SlotIo::default()
                };
                Ok(())
            }
            Err(AcceptError::Full) if self.waiting.len() < self.waiting_room => {
                self.waiting.push_back((file, l));
                // Within the capacity taken at startup: the queue never reallocates.
                assert!(self.waiting.len() <= self.waiting_room);
                Ok(())
            }
            Err(AcceptError::Full) => {
                let _ = self.tell(Event::TurnedAway);
                push_close_rejected(sub, file)
            }
            // Shutting down: no new connections.
            Err(AcceptError::ShuttingDown) => push_close_rejected(sub, file),
        }
    }
}

/// Closes a registered file that never got a slot.
fn push_close_rejected(sub: &mut Submit<'_>, file: u32) -> io::Result<()> {
    let entry = opcode::Close::new(types::Fixed(file))
        .build()
        .user_data(token(Kind::CloseRejected, file));
    // SAFETY: refers to no buffer.
    unsafe { sub.push(&entry) }
}
