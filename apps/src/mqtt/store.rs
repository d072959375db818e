//! A persistent session's store: [`Capacity::queue_bytes`](super::Capacity::queue_bytes) per
//! client in the tables, a list of entries, oldest first. It holds
//!
//! - while its client is away, the QoS 1 and 2 messages that wait for it ([`Kept::Queued`]),
//!   and the identifiers of the QoS 2 messages the client sent whose PUBREL had not come
//!   ([`Kept::Received`]: a PUBLISH sent again with one of them is not delivered again);
//! - while connected and after, a copy of every QoS 1 and 2 message sent to it and not yet
//!   acknowledged ([`Kept::Puback`], [`Kept::Pubrec`]; [`Kept::Pubcomp`] once PUBREL was
//!   sent), so that a client coming back gets them again, with their identifiers and DUP set,
//!   before anything new (`[MQTT-4.4.0-1]`).
//!
//! ```text
//! entry: | record length: u32 LE | kept: u8 (bit 7: to send again) | id: u16 LE | record |
//! ```
//!
//! Every operation is a scan of at most `queue_bytes / ENTRY_HEAD` entries.

/// Bytes of an entry's header.
pub const ENTRY_HEAD: usize = 7;

/// An entry's flag: a message (or PUBREL) to send again, its client having come back.
const RESEND: u8 = 0x80;

/// What an entry keeps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kept {
    /// A message for the client while it is away, not sent yet.
    Queued,
    /// A QoS 1 message sent, awaiting PUBACK.
    Puback,
    /// A QoS 2 message sent, awaiting PUBREC.
    Pubrec,
    /// A QoS 2 message whose PUBREC came and PUBREL went, awaiting PUBCOMP.
    Pubcomp,
    /// The identifier of a QoS 2 message received from the client, delivered, its PUBREL
    /// not yet come (no record).
    Received,
}

impl Kept {
    fn byte(self) -> u8 {
        match self {
            Kept::Queued => 0,
            Kept::Puback => 1,
            Kept::Pubrec => 2,
            Kept::Pubcomp => 3,
            Kept::Received => 4,
        }
    }

    fn from_byte(byte: u8) -> Kept {
        match byte & !RESEND {
            0 => Kept::Queued,
            1 => Kept::Puback,
            2 => Kept::Pubrec,
            3 => Kept::Pubcomp,
            4 => Kept::Received,
            other => panic!("a store entry of unknown kind {other}"),
        }
    }

    /// Whether it is a message sent and not yet acknowledged.
    pub fn in_flight(self) -> bool {
        matches!(self, Kept::Puback | Kept::Pubrec | Kept::Pubcomp)
    }
}

/// One entry, read.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// Where it starts in the store's bytes.
    pub at: usize,
    /// What it keeps.
    pub kept: Kept,
    /// Its packet identifier (0 for [`Kept::Queued`]).
    pub id: u16,
    /// Whether it is to be sent again.
    pub resend: bool,
    /// The message's record (empty for [`Kept::Received`]).
    pub record: &'a [u8],
}

/// One client's store over its bytes and its length in the client table.
#[derive(Debug)]
pub struct Store<'a> {
    bytes: &'a mut [u8],
    len: &'a mut u32,
}

impl<'a> Store<'a> {
    /// The store over `bytes`, of which `len` are in use.
    pub fn new(bytes: &'a mut [u8], len: &'a mut u32) -> Store<'a> {
        assert!(
            *len as usize <= bytes.len(),
            "a store longer than its bytes"
        );
        Store { bytes, len }
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        *self.len == 0
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self.len = 0;
    }

    /// Appends an entry: `false` when it does not fit.
    pub fn push(&mut self, kept: Kept, id: u16, record: &[u8]) -> bool {
        let at = *self.len as usize;
        let end = at + ENTRY_HEAD + record.len();
        if end > self.bytes.len() {
            return false;
        }
        let entry = &mut self.bytes[at..end];
        entry[..4].copy_from_slice(&(record.len() as u32).to_le_bytes());
        entry[4] = kept.byte();
        entry[5..7].copy_from_slice(&id.to_le_bytes());
        entry[ENTRY_HEAD..].copy_from_slice(record);
        *self.len = end as u32;
        true
    }

    /// The entry at `at` (a start of entry).
    fn entry(&self, at: usize) -> Entry<'_> {
        let head = &self.bytes[at..at + ENTRY_HEAD];
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        Entry {
            at,
            kept: Kept::from_byte(head[4]),
            id: u16::from_le_bytes([head[5], head[6]]),
            resend: head[4] & RESEND != 0,
            record: &self.bytes[at + ENTRY_HEAD..at + ENTRY_HEAD + len],
        }
    }

    /// Where the entry after the one at `at` starts.
    fn next(&self, at: usize) -> usize {
        at + ENTRY_HEAD + self.entry(at).record.len()
    }

    /// The first entry from `from` on for which `pick` holds.
    pub fn find(&self, from: usize, pick: impl Fn(&Entry<'_>) -> bool) -> Option<Entry<'_>> {
        let mut at = from;
        // Bounded: each turn passes an entry of at least ENTRY_HEAD bytes.
        while at < *self.len as usize {
            let entry = self.entry(at);
            if pick(&entry) {
                return Some(self.entry(at));
            }
            at = self.next(at);
        }
        None
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let mut at = 0;
        // Bounded: each item passes an entry of at least ENTRY_HEAD bytes.
        core::iter::from_fn(move || {
            (at < *self.len as usize).then(|| {
                let entry = self.entry(at);
                at = self.next(at);
                entry
            })
        })
    }

    /// Removes the entry at `at`, moving the later ones down.
    pub fn remove(&mut self, at: usize) {
        let next = self.next(at);
        let len = *self.len as usize;
        self.bytes.copy_within(next..len, at);
        *self.len = (len - (next - at)) as u32;
    }

    /// The message `id` awaiting `kept` is acknowledged: its entry removed. Whether it was
    /// there.
    pub fn acknowledge(&mut self, id: u16, kept: Kept) -> bool {
        match self.find(0, |e| e.id == id && e.kept == kept) {
            Some(entry) => {
                let at = entry.at;
                self.remove(at);
                true
            }
            None => false,
        }
    }

    /// The message `id` awaiting `from` now awaits `to` (PUBREC came: PUBCOMP is next).
    pub fn advance(&mut self, id: u16, from: Kept, to: Kept) {
        if let Some(entry) = self.find(0, |e| e.id == id && e.kept == from) {
            let at = entry.at;
            self.bytes[at + 4] = to.byte() | (self.bytes[at + 4] & RESEND);
        }
    }

    /// Marks the entry at `at` to be sent again (`true`) or sent.
    pub fn set_resend(&mut self, at: usize, resend: bool) {
        let flags = self.bytes[at + 4] & !RESEND;
        self.bytes[at + 4] = flags | if resend { RESEND } else { 0 };
    }

    /// Marks every message in flight to be sent again.
    pub fn resend_in_flight(&mut self) {
        let mut at = 0;
        // Bounded: each turn passes an entry of at least ENTRY_HEAD bytes.
        while at < *self.len as usize {
            let in_flight = self.entry(at).kept.in_flight();
            self.set_resend(at, in_flight);
            at = self.next(at);
        }
    }

    /// Keeps only the entries for which `keep` holds, in order.
    pub fn retain(&mut self, keep: impl Fn(&Entry<'_>) -> bool) {
        let mut at = 0;
        // Bounded: each turn passes or removes an entry of at least ENTRY_HEAD bytes.
        while at < *self.len as usize {
            if keep(&self.entry(at)) {
                at = self.next(at);
            } else {
                self.remove(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    proptest! {
        /// The store is a list: pushes append while they fit, acknowledgements remove the
        /// entry named, `retain` filters, and every entry reads back as it was written.
        #[test]
        fn a_store_is_an_ordered_list_of_entries(
            ops in proptest::collection::vec((0u8..4, 1u16..8, 0usize..40), 1..60),
        ) {
            let mut bytes = [0u8; 256];
            let mut len = 0u32;
            let mut model: Vec<(Kept, u16, Vec<u8>)> = Vec::new();
            for (op, id, size) in ops {
                let mut store = Store::new(&mut bytes, &mut len);
                match op {
                    0 | 1 => {
                        let kept = if op == 0 { Kept::Queued } else { Kept::Puback };
                        let record: Vec<u8> = (0..size).map(|i| (i as u16 + id) as u8).collect();
                        let used: usize = model.iter().map(|e| ENTRY_HEAD + e.2.len()).sum();
                        let fits = used + ENTRY_HEAD + size <= 256;
                        prop_assert_eq!(store.push(kept, id, &record), fits);
                        if fits {
                            model.push((kept, id, record));
                        }
                    }
                    2 => {
                        let found = model.iter().position(|e| e.0 == Kept::Puback && e.1 == id);
                        prop_assert_eq!(store.acknowledge(id, Kept::Puback), found.is_some());
                        if let Some(i) = found {
                            model.remove(i);
                        }
                    }
                    _ => {
                        store.retain(|e| e.kept != Kept::Queued);
                        model.retain(|e| e.0 != Kept::Queued);
                    }
                }
                let store = Store::new(&mut bytes, &mut len);
                let read: Vec<(Kept, u16, Vec<u8>)> =
                    store.entries().map(|e| (e.kept, e.id, e.record.to_vec())).collect();
                prop_assert_eq!(&read, &model);
            }
        }
    }

    #[test]
    fn advance_and_resend_keep_each_other() {
        let mut bytes = [0u8; 64];
        let mut len = 0u32;
        let mut store = Store::new(&mut bytes, &mut len);
        assert!(store.push(Kept::Pubrec, 7, b"r"));
        store.set_resend(0, true);
        store.advance(7, Kept::Pubrec, Kept::Pubcomp);
        let e = store.entries().next().unwrap();
        assert_eq!(
            (e.kept, e.id, e.resend, e.record),
            (Kept::Pubcomp, 7, true, &b"r"[..])
        );
        store.set_resend(0, false);
        assert!(!store.entries().next().unwrap().resend);
        assert!(store.acknowledge(7, Kept::Pubcomp) && store.is_empty());
    }
}
