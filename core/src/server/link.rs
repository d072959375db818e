//! What a protocol module works with for one connection: its buffers, its deadline, its way
//! out. A [`Link`] borrows the connection's slot and buffers, the large-buffer pool, the
//! app's state and the counters for the length of one module callback; what the module asks
//! for (input, a send, a close, a deadline) is recorded in the slot, and the server acts on it
//! when the callback returns.

use crate::config::Config;
use crate::net::PeerAddr;
use crate::pool::{BlockId, BlockPool};
use crate::time::{Instant, Now};

use super::SlotId;
use super::hub::{Bus, Hub, Message, Next};
use super::slot::{InputTarget, Phase, RecvAt, Slot, Spill, StaticBody, wants};
use crate::stats::{Gauges, ServerView, Stats};

/// One connection, as a protocol module sees it during a callback.
///
/// Input: received bytes wait in the connection's receive buffer, `input_start..input_end`
/// ([`Link::input`]); the module consumes what it has used and asks for more
/// ([`Link::want_input`]). Output: the module writes into the room after what is queued in
/// the send buffer ([`Link::output_room`]) and commits it, or queues a large buffer or a
/// static body; the server sends it, in order. Lifecycle: [`Link::close_after_output`] ends
/// the connection gracefully, [`Link::close_now`] at once.
pub struct Link<'a, 'm, S> {
    pub(crate) id: SlotId,
    pub(crate) slot: &'a mut Slot,
    pub(crate) recv: &'a mut [u8],
    pub(crate) send: &'a mut [u8],
    pub(crate) scratch: &'a mut [u8],
    pub(crate) shared: &'a mut [u8],
    pub(crate) pool: &'a mut BlockPool<'m>,
    pub(crate) state: &'a mut S,
    pub(crate) stats: &'a mut Stats,
    pub(crate) hub: &'a mut Hub<'m>,
    pub(crate) gauges: Gauges,
    pub(crate) config: &'a Config,
    pub(crate) now: Now,
    pub(crate) draining: bool,
    /// Close at once when the callback returns.
    pub(crate) abort: bool,
    /// Hand the connection to this protocol of the set (by number) when the callback returns.
    pub(crate) switch: Option<u8>,
    /// The connection came to this module by a switch (set for `open` only).
    pub(crate) switched_in: bool,
    /// The message [`Link::next_message`] returned last: its subscription and sequence number.
    pub(crate) message: Option<(u32, u64)>,
}

/// What [`Link::write_next_message`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Delivery {
    /// No message was waiting.
    Nothing,
    /// The next message was written and taken.
    Written,
    /// The next message did not fit the output room; it is still the next.
    NoRoom,
}

/// A connection's parts, borrowed at once ([`Link::split`]).
#[derive(Debug)]
pub struct LinkParts<'l, S> {
    /// The bytes received and not consumed ([`Link::input`]).
    pub input: &'l [u8],
    /// The room after the queued output ([`Link::output_room`]).
    pub output: &'l mut [u8],
    /// The module's shared memory ([`Link::shared`]).
    pub shared: &'l mut [u8],
    /// The app's state.
    pub state: &'l mut S,
    /// The connection's handle on the hub ([`Link::bus`]), for a module that sends what it
    /// reads from its input or its shared memory.
    pub bus: Bus<'l>,
}

impl<S> core::fmt::Debug for Link<'_, '_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Link")
            .field("slot", &self.id)
            .field("input", &(self.slot.recv_start..self.slot.recv_end))
            .field("output", &(self.slot.send_start..self.slot.send_end))
            .finish()
    }
}

impl<'a, 'm, S> Link<'a, 'm, S> {
    // ----- what and when ----------------------------------------------------------------------

    /// In [`Protocol::open`](super::Protocol::open): whether the connection came to this
    /// module from another protocol of the set ([`Link::switch_protocol`], an HTTP `Upgrade`)
    /// rather than from a listener. A module served both ways (MQTT over TCP, and over
    /// WebSocket after an upgrade) tells them apart by this. `false` in every other call.
    pub fn switched_in(&self) -> bool {
        self.switched_in
    }

    /// The connection's slot number.
    pub fn slot(&self) -> SlotId {
        self.id
    }

    /// The peer's address.
    pub fn peer(&self) -> PeerAddr {
        self.slot.peer
    }

    /// The time of the event being handled.
    pub fn now(&self) -> Now {
        self.now
    }

    /// The server's configuration.
    pub fn config(&self) -> &Config {
        self.config
    }

    /// Whether a graceful shutdown is under way: finish what is in progress, take nothing new.
    pub fn draining(&self) -> bool {
        self.draining
    }

    /// The app's state, shared by every connection of the instance.
    pub fn state(&mut self) -> &mut S {
        self.state
    }

    /// The server's counters (modules count their own events in them).
    pub fn stats(&mut self) -> &mut Stats {
        self.stats
    }

    /// Counters and gauges, for a handler that reports them.
    pub fn server_view(&self) -> ServerView<'_> {
        ServerView {
            stats: self.stats,
            gauges: self.gauges,
        }
    }

    /// The module's scratch memory for this connection
    /// ([`Protocol::scratch_bytes`](super::Protocol::scratch_bytes)).
    pub fn scratch(&mut self) -> &mut [u8] {
        self.scratch
    }

    /// The module's shared memory ([`Protocol::shared_bytes`](super::Protocol::shared_bytes)).
    pub fn shared(&mut self) -> &mut [u8] {
        self.shared
    }

    /// The app's state and the module's shared memory at once.
    pub fn state_and_shared(&mut self) -> (&mut S, &mut [u8]) {
        (&mut *self.state, &mut *self.shared)
    }

    /// The input, the output room, the module's shared memory, the app's state and the hub at once,
    /// for a module that answers straight from its input into its output; then
    /// [`Link::commit_output`] what it wrote and [`Link::consume`] what it read.
    pub fn split(&mut self) -> LinkParts<'_, S> {
        let s = &*self.slot;
        LinkParts {
            input: &self.recv[s.recv_start as usize..s.recv_end as usize],
            output: &mut self.send[s.send_end as usize..],
            shared: &mut *self.shared,
            state: &mut *self.state,
            bus: Bus {
                hub: &mut *self.hub,
                slot: self.id,
            },
        }
    }

    /// When input or output last made progress (for idle deadlines).
    pub fn progress_at(&self) -> Instant {
        self.slot.progress_at
    }

    /// When the connection was accepted.
    pub fn accepted_at(&self) -> Instant {
        self.slot.accepted_at
    }

    /// Sets the module's deadline: [`Protocol::timeout`](super::Protocol::timeout) is called
    /// when it passes (`None`: no deadline).
    pub fn set_deadline(&mut self, at: Option<Instant>) {
        self.slot.deadline = at;
    }

    // ----- input ------------------------------------------------------------------------------

    /// The bytes received and not consumed yet.
    pub fn input(&self) -> &[u8] {
        &self.recv[self.slot.recv_start as usize..self.slot.recv_end as usize]
    }

    /// Consumes the first `n` bytes of [`Link::input`].
    pub fn consume(&mut self, n: usize) {
        assert!(n <= (self.slot.recv_end - self.slot.recv_start) as usize);
        self.slot.recv_start += n as u32;
    }

    /// The whole receive buffer, for a module that works on it in place (the HTTP module
    /// decodes chunked bodies there); input lies at `input_start..input_end`.
    pub fn recv_buffer(&mut self) -> &mut [u8] {
        self.recv
    }

    /// Where unconsumed input starts in the receive buffer.
    pub fn input_start(&self) -> u32 {
        self.slot.recv_start
    }

    /// Where received input ends in the receive buffer.
    pub fn input_end(&self) -> u32 {
        self.slot.recv_end
    }

    /// Sets where unconsumed input starts (at most [`Link::input_end`]).
    pub fn set_input_start(&mut self, start: u32) {
        assert!(start <= self.slot.recv_end);
        self.slot.recv_start = start;
    }

    /// Sets where input ends, dropping what lies past it (at least the start).
    pub fn set_input_end(&mut self, end: u32) {
        assert!(self.slot.recv_start <= end && end as usize <= self.recv.len());
        self.slot.recv_end = end;
    }

    /// Whether a receive is posted (the receive buffer past `input_end` is the kernel's
    /// until it completes; nothing may move).
    pub fn input_posted(&self) -> bool {
        self.slot.recv_posted
    }

    /// Moves the unconsumed input to the start of the receive buffer, if no receive is
    /// posted; returns by how much it moved.
    pub fn compact_input(&mut self) -> u32 {
        let s = &mut *self.slot;
        if s.recv_posted || s.recv_start == 0 {
            return 0;
        }
        let shift = s.recv_start;
        self.recv
            .copy_within(shift as usize..s.recv_end as usize, 0);
        s.recv_end -= shift;
        s.recv_start = 0;
        shift
    }

    /// Asks for more input, to go where `target` says (unless a receive is posted already).
    pub fn want_input(&mut self, target: InputTarget) {
        if let InputTarget::Block { id, offset, len } = target {
            assert!(offset as usize + len as usize <= self.pool.block_size() && len > 0);
            assert!(
                self.pool.is_lent(id),
                "input into block {id}, which is not lent"
            );
        }
        self.slot.input_target = target;
        // A receive already posted satisfies this: the module is called when it completes,
        // and asks again if it still needs to.
        if !self.slot.recv_posted {
            self.slot.wants |= wants::RECV;
        }
    }

    /// What the last receive into a block brought, once: (block, offset, bytes).
    pub fn take_block_arrival(&mut self) -> Option<(BlockId, u32, u32)> {
        self.slot.block_arrival.take()
    }

    /// Whether the peer has closed its sending side (EOF received).
    pub fn peer_eof(&self) -> bool {
        self.slot.peer_eof
    }

    // ----- output -----------------------------------------------------------------------------

    /// The room after what is queued in the send buffer, to write into; then
    /// [`Link::commit_output`].
    pub fn output_room(&mut self) -> &mut [u8] {
        &mut self.send[self.slot.send_end as usize..]
    }

    /// Queues `len` bytes written `start` bytes into [`Link::output_room`] (what lies before
    /// them is not sent). With earlier output still queued they are moved to follow it.
    pub fn commit_output(&mut self, start: usize, len: usize) {
        let s = &mut *self.slot;
        let end = s.send_end as usize;
        assert!(
            end + start + len <= self.send.len(),
            "output past the send buffer"
        );
        if start > 0 && s.send_pending() > 0 {
            self.send.copy_within(end + start..end + start + len, end);
            s.send_end += len as u32;
        } else {
            if start > 0 {
                s.send_start = s.send_end + start as u32;
            }
            s.send_end += (start + len) as u32;
        }
        assert!(s.send_start <= s.send_end && s.send_end as usize <= self.send.len());
    }

    /// Appends `data` to the output if it fits the send buffer's room; `false` otherwise.
    pub fn write(&mut self, data: &[u8]) -> bool {
        let room = self.output_room();
        if data.len() > room.len() {
            return false;
        }
        room[..data.len()].copy_from_slice(data);
        self.commit_output(0, data.len());
        true
    }

    /// Queues `start..end` of a large buffer the module took from the pool, after the send
    /// buffer's bytes; the block goes back to the pool once sent. At most one at a time.
    pub fn queue_block(&mut self, id: BlockId, start: u32, end: u32) {
        assert!(self.slot.spill.is_none(), "a second block queued");
        assert!(start <= end && end as usize <= self.pool.block_size());
        assert!(self.pool.is_lent(id));
        self.slot.spill = Some(Spill { id, start, end });
    }

    /// Queues `body` to be sent from where it lies, after the buffered output (and any block).
    pub fn queue_static(&mut self, body: &'static [u8]) {
        assert!(
            self.slot.static_body.is_none(),
            "a second static body queued"
        );
        if !body.is_empty() {
            self.slot.static_body = Some(StaticBody { body, sent: 0 });
        }
    }

    /// Moves the unsent bytes to the front of the send buffer, if no send is posted.
    pub fn compact_output(&mut self) {
        let s = &mut *self.slot;
        if s.send_start > 0 && !s.send_posted {
            let (start, end) = (s.send_start as usize, s.send_end as usize);
            self.send.copy_within(start..end, 0);
            s.send_end -= s.send_start;
            s.send_start = 0;
        }
    }

    /// Bytes queued in the send buffer.
    pub fn send_pending(&self) -> u32 {
        self.slot.send_pending()
    }

    /// Where queued bytes end in the send buffer (its room starts there).
    pub fn output_end(&self) -> u32 {
        self.slot.send_end
    }

    /// Whether output is queued (buffer, block or static body).
    pub fn output_queued(&self) -> bool {
        self.slot.output_queued()
    }

    /// Whether output is queued outside the send buffer: a large buffer or a static body.
    pub fn output_outside_buffer(&self) -> bool {
        self.slot.spill.is_some() || self.slot.static_body.is_some()
    }

    /// Whether output is queued or still to be produced ([`Link::set_producing`]).
    pub fn output_pending(&self) -> bool {
        self.slot.output_pending()
    }

    /// Whether a send is posted.
    pub fn output_posted(&self) -> bool {
        self.slot.send_posted
    }

    /// The whole send buffer, for a module that writes a chunk of a stream in place; then
    /// [`Link::set_output`].
    pub fn send_buffer(&mut self) -> &mut [u8] {
        self.send
    }

    /// With nothing queued and no send posted, queues `0..len` of the send buffer.
    pub fn set_output(&mut self, len: usize) {
        let s = &mut *self.slot;
        assert!(!s.send_posted && s.send_pending() == 0 && len <= self.send.len());
        s.send_start = 0;
        s.send_end = len as u32;
    }

    /// Says whether the module will produce more output once what is queued is sent (a
    /// streamed body): the connection is not done while it does, and the module's
    /// [`progress`](super::Protocol::progress) is called whenever the output drains.
    pub fn set_producing(&mut self, producing: bool) {
        self.slot.producing = producing;
    }

    // ----- large buffers ----------------------------------------------------------------------

    /// The pool of large buffers.
    pub fn pool(&mut self) -> &mut BlockPool<'m> {
        self.pool
    }

    /// Returns a block the module holds to the pool; if a posted receive still writes into
    /// it, when that receive completes.
    pub fn release_block(&mut self, id: BlockId) {
        let s = &mut *self.slot;
        let receiving =
            s.recv_posted && matches!(s.recv_at, RecvAt::Block { id: b, .. } if b == id);
        if receiving {
            assert!(s.pinned.is_none());
            s.pinned = Some(id);
        } else {
            self.pool.release(id);
        }
    }

    // ----- lifecycle --------------------------------------------------------------------------

    /// The connection has proven itself (a complete first request, a first byte): it is no
    /// longer among the first closed to make room for newcomers.
    pub fn proven(&mut self) {
        self.slot.proven = true;
    }

    /// Says whether the connection waits idle, with nothing in progress, for its next request:
    /// the idle ones are closed to make room when no unproven one can be.
    pub fn set_idle(&mut self, idle: bool) {
        self.slot.idle = idle;
    }

    /// Ends the connection gracefully: what is queued (and produced) is sent, then the sending
    /// side is shut and input drained until the peer closes or the linger timeout. Input is
    /// no longer handed to the module.
    pub fn close_after_output(&mut self) {
        if self.slot.phase == Phase::Open {
            self.slot.phase = Phase::Closing;
        }
    }

    /// Closes the connection at once, dropping what is queued.
    pub fn close_now(&mut self) {
        self.abort = true;
    }

    /// Whether the module has ended the connection ([`Link::close_after_output`]).
    pub fn closing(&self) -> bool {
        self.slot.phase != Phase::Open || self.abort
    }

    // ----- the hub ----------------------------------------------------------------------------

    /// The connection's handle on the hub: publish, follow topics.
    pub fn bus(&mut self) -> Bus<'_> {
        Bus {
            hub: &mut *self.hub,
            slot: self.id,
        }
    }

    /// The next message waiting for the connection in the topics it follows, if any; it
    /// stays the next until [`Link::message_taken`]. A module takes messages in `progress`
    /// (the hub runs it after a publish), as many as its output has room for, and again
    /// when the output drains. With [`Lagging::Close`](crate::Lagging::Close), a connection
    /// that fell behind gets `None` and is closed when the callback returns.
    pub fn next_message(&mut self) -> Option<Message<'_>> {
        match self.hub.view().next(self.id) {
            Next::Nothing => None,
            Next::Lagging => {
                self.abort = true;
                None
            }
            Next::Message(found) => {
                self.message = Some((found.index as u32, found.seq));
                Some(found.message(self.hub.bytes(&found)))
            }
        }
    }

    /// Writes the next message waiting, if any, into the output: `write` gets it and the
    /// output room and returns the bytes it wrote for it (the message is then taken and the
    /// bytes queued), or `None` when it does not fit (it stays the next, for when the output
    /// has drained). [`Link::next_message`] and [`Link::message_taken`] in one, for a module
    /// that copies the message into its own framing.
    pub fn write_next_message(
        &mut self,
        write: impl FnOnce(&Message<'_>, &mut [u8]) -> Option<usize>,
    ) -> Delivery {
        self.write_next_message_keeping(|message, room, _| write(message, room))
    }

    /// [`Link::write_next_message`] for a module that keeps something of what it sends in
    /// its shared memory ([`Link::shared`], the third argument): a broker keeping a copy of a
    /// message until the receiver acknowledges it.
    pub fn write_next_message_keeping(
        &mut self,
        write: impl FnOnce(&Message<'_>, &mut [u8], &mut [u8]) -> Option<usize>,
    ) -> Delivery {
        let (index, seq, written) = match self.hub.view().next(self.id) {
            Next::Nothing => return Delivery::Nothing,
            Next::Lagging => {
                self.abort = true;
                return Delivery::Nothing;
            }
            Next::Message(found) => {
                let message = found.message(self.hub.bytes(&found));
                let room = &mut self.send[self.slot.send_end as usize..];
                let room_len = room.len();
                let written = write(&message, room, self.shared);
                assert!(
                    written.is_none_or(|n| n <= room_len),
                    "a message written past the output room"
                );
                (found.index, found.seq, written)
            }
        };
        match written {
            Some(n) => {
                self.commit_output(0, n);
                self.hub.view().taken(self.id, index, seq);
                Delivery::Written
            }
            None => Delivery::NoRoom,
        }
    }

    /// The message [`Link::next_message`] returned last is taken (written out, or dropped on
    /// purpose): the next call returns the one after it.
    ///
    /// Panics if `next_message` returned none since the last call.
    pub fn message_taken(&mut self) {
        let (index, seq) = self
            .message
            .take()
            .expect("message_taken without a message from next_message");
        self.hub.view().taken(self.id, index as usize, seq);
    }

    /// Hands the connection to another protocol of the app's set, `protocol` being its number
    /// ([`Protocols::id_index`](super::Protocols::id_index)): when this callback returns, this
    /// module's [`closed`](super::Protocol::closed) runs (the connection goes on, without
    /// it), then the other's [`open`](super::Protocol::open). What this module queued is sent
    /// first, and the input it did not consume is the other's. An HTTP `Upgrade` is this,
    /// after the `101` response. Ignored once the connection is closing.
    ///
    /// Panics (when the callback returns) if `protocol` names no protocol of the set.
    pub fn switch_protocol(&mut self, protocol: u8) {
        self.switch = Some(protocol);
    }
}
