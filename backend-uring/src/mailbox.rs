//! Messages from other threads for an instance's topics ([`Handle::publish`]): a bounded byte
//! ring behind a mutex, filled by producers, emptied by the instance at the top of each loop
//! turn into its server ([`Event::Publish`](zzz_core::Event::Publish)).
//!
//! A producer copies its message in and wakes the instance (its eventfd); the instance takes
//! one message at a time, straight into the server's publish buffer, so the lock is held for
//! a copy, never while the server runs. Memory is the ring, taken when the instance starts;
//! a full ring refuses the message ([`PublishRefused::Full`]): the producer decides whether
//! to drop it or try again, and the instance never allocates or blocks for it.
//!
//! Ours rather than a crate's queue: the messages are variable-length byte strings, and a
//! byte ring keeps them in one allocation made once, which a queue of owned buffers would not.
//!
//! [`Handle::publish`]: crate::Handle::publish

use std::sync::Mutex;

use zzz_core::server::TopicId;

/// Bytes before each message in the ring: its topic (`u16`) and length (`u32`), little-endian.
const HEADER: usize = 6;

/// Why a message from another thread was not taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PublishRefused {
    /// An instance's mailbox has no room for it now (its loop has not caught up).
    Full,
    /// Longer than the instance's `Topics::max_message`, or than its mailbox could ever hold.
    TooLarge,
}

impl std::fmt::Display for PublishRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishRefused::Full => f.write_str("an instance's mailbox is full"),
            PublishRefused::TooLarge => f.write_str("the message is longer than the largest"),
        }
    }
}

impl std::error::Error for PublishRefused {}

/// One instance's mailbox.
pub(crate) struct Mailbox {
    ring: Mutex<Ring>,
    /// The longest message the instance's server takes.
    max_message: usize,
}

/// The bytes of the messages waiting: `len` bytes from `head`, wrapping at the end.
struct Ring {
    bytes: Box<[u8]>,
    head: usize,
    len: usize,
}

impl Ring {
    /// Copies `data` in at the ring's end (there is room for it).
    fn push(&mut self, data: &[u8]) {
        let size = self.bytes.len();
        debug_assert!(self.len + data.len() <= size);
        let at = (self.head + self.len) % size;
        let first = data.len().min(size - at);
        self.bytes[at..at + first].copy_from_slice(&data[..first]);
        self.bytes[..data.len() - first].copy_from_slice(&data[first..]);
        self.len += data.len();
    }

    /// Copies `out.len()` bytes out from the ring's start (they are there).
    fn pop(&mut self, out: &mut [u8]) {
        let size = self.bytes.len();
        assert!(out.len() <= self.len, "taking more than the mailbox holds");
        let first = out.len().min(size - self.head);
        out[..first].copy_from_slice(&self.bytes[self.head..self.head + first]);
        let rest = out.len() - first;
        out[first..].copy_from_slice(&self.bytes[..rest]);
        self.head = (self.head + out.len()) % size;
        self.len -= out.len();
    }
}

impl Mailbox {
    /// A mailbox of `capacity` bytes for a server whose messages are at most `max_message`
    /// bytes (0: a server without topics, which takes none).
    pub(crate) fn new(capacity: usize, max_message: usize) -> Mailbox {
        Mailbox {
            ring: Mutex::new(Ring {
                bytes: vec![0; capacity.max(HEADER)].into_boxed_slice(),
                head: 0,
                len: 0,
            }),
            max_message,
        }
    }

    /// From a producer: queues `data` for `topic`.
    pub(crate) fn post(&self, topic: TopicId, data: &[u8]) -> Result<(), PublishRefused> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if data.len() > self.max_message || HEADER + data.len() > ring.bytes.len() {
            return Err(PublishRefused::TooLarge);
        }
        if ring.len + HEADER + data.len() > ring.bytes.len() {
            return Err(PublishRefused::Full);
        }
        let mut header = [0u8; HEADER];
        header[..2].copy_from_slice(&topic.0.to_le_bytes());
        header[2..].copy_from_slice(&(data.len() as u32).to_le_bytes());
        ring.push(&header);
        ring.push(data);
        Ok(())
    }

    /// From the instance: takes the oldest message into `into` (the server's publish
    /// buffer); its topic and length, or `None` when the mailbox is empty.
    pub(crate) fn take(&self, into: &mut [u8]) -> Option<(TopicId, usize)> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.len == 0 {
            return None;
        }
        let mut header = [0u8; HEADER];
        ring.pop(&mut header);
        let topic = TopicId(u16::from_le_bytes([header[0], header[1]]));
        let n = u32::from_le_bytes(header[2..].try_into().expect("4 bytes")) as usize;
        // The pair of `post`'s check: no message longer than the server's buffer was queued.
        assert!(
            n <= into.len(),
            "a queued message longer than the publish buffer"
        );
        ring.pop(&mut into[..n]);
        Some((topic, n))
    }

    /// The most messages [`Mailbox::take`] can find in one go: a bound for the loop that
    /// empties it.
    pub(crate) fn max_messages(&self) -> usize {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.bytes.len() / HEADER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages come out whole and in order across the ring's wrap; a full mailbox refuses,
    /// then takes again once emptied; an over-long message is refused outright.
    #[test]
    fn messages_in_order_across_the_wrap() {
        let mailbox = Mailbox::new(64, 32);
        let mut out = [0u8; 32];
        let mut next = 0u8;
        let mut expect = 0u8;
        for round in 0..20 {
            // Fill until refused.
            loop {
                let data = vec![next; (next as usize % 20) + 1];
                match mailbox.post(TopicId(next as u16), &data) {
                    Ok(()) => next = next.wrapping_add(1),
                    Err(PublishRefused::Full) => break,
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
            while let Some((topic, n)) = mailbox.take(&mut out) {
                assert_eq!(topic, TopicId(expect as u16));
                assert_eq!(&out[..n], &vec![expect; (expect as usize % 20) + 1][..]);
                expect = expect.wrapping_add(1);
            }
        }
        assert_eq!(expect, next, "every message taken");
        assert_eq!(
            mailbox.post(TopicId(0), &[0; 33]),
            Err(PublishRefused::TooLarge)
        );
        assert_eq!(mailbox.post(TopicId(0), &[0; 32]), Ok(()), "at the limit");
    }
}
