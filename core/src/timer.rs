//! A hashed timer wheel: at most one deadline per connection slot, O(1) to arm, disarm and
//! re-arm, and expiry work proportional to the timers that are due.
//!
//! Deadlines are rounded up to the wheel's tick. An entry is placed in bucket
//! `ceil(deadline / tick) % buckets`; a deadline further away than one turn of the wheel sits
//! in its bucket through earlier visits (its deadline is checked, not assumed). A deadline
//! moved later leaves the entry where it is: the visit of its bucket, still no later than the
//! new deadline, finds it not due and moves it on to the bucket of its deadline. Connections
//! push their deadline later on every event (a keep-alive connection: after each request and
//! each send), and this makes that an update of one field instead of an unlink and a link
//! (~200 instructions a keep-alive request under callgrind). Each tick the
//! wheel visits the buckets between the previous tick and now — at most one full turn, however
//! far the clock jumped — and moves due entries to a *fired* list that the server drains, so
//! handling a timeout may arm or disarm others safely. A bitmap of non-empty buckets tells the
//! backend when to wake next without scanning.

use crate::time::Instant;

const NONE: u32 = u32::MAX;

/// Number of buckets: 512 ticks of 100 ms cover 51 s in one turn.
pub const BUCKETS: usize = 512;
const BITMAP_WORDS: usize = BUCKETS / 64;

/// One entry's place in the wheel.
#[derive(Clone, Copy, Debug)]
pub struct TimerEntry {
    deadline: Instant,
    /// The tick of the bucket it is in: its deadline's when it was placed, at most the
    /// deadline's now (a later deadline does not move it).
    tick: u64,
    prev: u32,
    next: u32,
    /// Bucket index, or `NONE` when not armed; `FIRED` while on the fired list.
    bucket: u32,
}

const FIRED: u32 = u32::MAX - 1;

// The bitmap covers the buckets exactly, and the two markers are no bucket index.
const _: () = assert!(BUCKETS.is_multiple_of(64) && BUCKETS > 0);
const _: () = assert!((BUCKETS as u32) < FIRED && FIRED != NONE);

impl TimerEntry {
    /// An unarmed entry.
    pub const fn new() -> TimerEntry {
        TimerEntry {
            deadline: Instant(0),
            tick: 0,
            prev: NONE,
            next: NONE,
            bucket: NONE,
        }
    }
}

impl Default for TimerEntry {
    fn default() -> Self {
        TimerEntry::new()
    }
}

/// The wheel: buckets of intrusive lists through a caller-provided entry table.
#[derive(Debug)]
pub struct TimerWheel<'m> {
    entries: &'m mut [TimerEntry],
    heads: [u32; BUCKETS],
    occupied: [u64; BITMAP_WORDS],
    tick_ms: u64,
    /// The last tick whose bucket has been visited.
    current: u64,
    fired_head: u32,
    fired_tail: u32,
    armed: u32,
}

impl<'m> TimerWheel<'m> {
    /// A wheel over `entries` (one per timer id) with the given tick, starting at `now`.
    pub fn new(entries: &'m mut [TimerEntry], tick_ms: u64, now: Instant) -> TimerWheel<'m> {
        assert!(tick_ms > 0 && entries.len() < FIRED as usize);
        TimerWheel {
            entries,
            heads: [NONE; BUCKETS],
            occupied: [0; BITMAP_WORDS],
            tick_ms,
            current: now.0 / tick_ms,
            fired_head: NONE,
            fired_tail: NONE,
            armed: 0,
        }
    }

    /// Timers armed and not yet fired.
    pub fn armed(&self) -> u32 {
        self.armed
    }

    /// The deadline of `id`, if armed.
    pub fn deadline(&self, id: u32) -> Option<Instant> {
        let e = &self.entries[id as usize];
        (e.bucket != NONE && e.bucket != FIRED).then_some(e.deadline)
    }

    /// Arms `id` for `deadline`, replacing any other deadline of `id`.
    pub fn arm(&mut self, id: u32, deadline: Instant) {
        let tick = self.tick_of(deadline);
        let e = &mut self.entries[id as usize];
        if (e.bucket as usize) < BUCKETS && e.tick <= tick {
            // Armed, in a bucket visited no later than the new deadline's tick: that visit
            // moves it on.
            debug_assert!(
                e.tick > self.current,
                "timer {id} in a bucket already passed"
            );
            e.deadline = deadline;
            return;
        }
        self.disarm(id);
        self.link(id, deadline, tick);
        self.armed += 1;
        assert!(self.armed as usize <= self.entries.len());
        debug_assert!(self.deadline(id) == Some(deadline));
    }

    /// The tick whose bucket `deadline` belongs in: the tick it rounds up to, and never one
    /// already visited.
    fn tick_of(&self, deadline: Instant) -> u64 {
        deadline.0.div_ceil(self.tick_ms).max(self.current + 1)
    }

    /// Puts `id`, in no bucket, at the head of the bucket of `tick`, due at `deadline`.
    fn link(&mut self, id: u32, deadline: Instant, tick: u64) {
        let bucket = (tick % BUCKETS as u64) as u32;
        let head = self.heads[bucket as usize];
        {
            let e = &mut self.entries[id as usize];
            assert!(e.bucket == NONE, "timer {id} linked twice");
            e.deadline = deadline;
            e.tick = tick;
            e.bucket = bucket;
            e.prev = NONE;
            e.next = head;
        }
        if head != NONE {
            self.entries[head as usize].prev = id;
        }
        self.heads[bucket as usize] = id;
        self.occupied[bucket as usize / 64] |= 1 << (bucket % 64);
    }

    /// Takes `id` out of its bucket (it is armed).
    fn unlink(&mut self, id: u32) {
        let e = self.entries[id as usize];
        assert!((e.bucket as usize) < BUCKETS, "timer {id} in no bucket");
        if e.prev != NONE {
            assert_eq!(self.entries[e.prev as usize].next, id, "timer list broken");
            self.entries[e.prev as usize].next = e.next;
        } else {
            assert_eq!(self.heads[e.bucket as usize], id, "timer list broken");
            self.heads[e.bucket as usize] = e.next;
            if e.next == NONE {
                self.occupied[e.bucket as usize / 64] &= !(1 << (e.bucket % 64));
            }
        }
        if e.next != NONE {
            assert_eq!(self.entries[e.next as usize].prev, id, "timer list broken");
            self.entries[e.next as usize].prev = e.prev;
        }
        let e = &mut self.entries[id as usize];
        e.bucket = NONE;
        e.prev = NONE;
        e.next = NONE;
    }

    /// Disarms `id` (armed, fired-but-not-taken, or neither).
    pub fn disarm(&mut self, id: u32) {
        let e = self.entries[id as usize];
        if e.bucket == NONE {
            return;
        }
        if e.bucket == FIRED {
            self.remove_fired(id);
            return;
        }
        assert!(self.armed > 0);
        self.unlink(id);
        self.armed -= 1;
    }

    fn remove_fired(&mut self, id: u32) {
        // The fired list is short-lived (drained in the same tick); a linear unlink is fine.
        let mut prev = NONE;
        let mut cur = self.fired_head;
        let mut found = false;
        // Bounded: each timer is on the fired list at most once.
        for _ in 0..self.entries.len() {
            if cur == NONE {
                break;
            }
            let next = self.entries[cur as usize].next;
            if cur == id {
                if prev == NONE {
                    self.fired_head = next;
                } else {
                    self.entries[prev as usize].next = next;
                }
                if self.fired_tail == id {
                    self.fired_tail = prev;
                }
                found = true;
                break;
            }
            prev = cur;
            cur = next;
        }
        assert!(found, "timer {id} marked fired but not on the fired list");
        let e = &mut self.entries[id as usize];
        e.bucket = NONE;
        e.next = NONE;
    }

    /// Moves every timer due at `now` to the fired list; take them with
    /// [`TimerWheel::pop_fired`].
    pub fn expire(&mut self, now: Instant) {
        let target = now.0 / self.tick_ms;
        if target <= self.current {
            return;
        }
        let steps = (target - self.current).min(BUCKETS as u64);
        for step in 1..=steps {
            let bucket = ((self.current + step) % BUCKETS as u64) as usize;
            let mut id = self.heads[bucket];
            // Bounded: a bucket holds at most every timer once.
            for _ in 0..=self.entries.len() {
                if id == NONE {
                    break;
                }
                let next = self.entries[id as usize].next;
                let deadline = self.entries[id as usize].deadline;
                if deadline <= now {
                    self.disarm(id);
                    self.push_fired(id);
                } else {
                    // Not due: its deadline was moved later, or is more than a turn away.
                    // Its tick is past `target`, so no bucket this call still visits.
                    let tick = self.tick_of(deadline);
                    debug_assert!(tick > target);
                    if tick % BUCKETS as u64 != bucket as u64 {
                        self.unlink(id);
                        self.link(id, deadline, tick);
                    } else {
                        self.entries[id as usize].tick = tick;
                    }
                }
                id = next;
            }
            assert!(id == NONE, "timer bucket {bucket} holds a cycle");
        }
        self.current = target;
    }

    fn push_fired(&mut self, id: u32) {
        let e = &mut self.entries[id as usize];
        assert!(e.bucket == NONE, "timer {id} fired while still armed");
        e.bucket = FIRED;
        e.next = NONE;
        if self.fired_tail == NONE {
            self.fired_head = id;
        } else {
            self.entries[self.fired_tail as usize].next = id;
        }
        self.fired_tail = id;
    }

    /// The next fired timer, in the order they were found due.
    pub fn pop_fired(&mut self) -> Option<u32> {
        let id = self.fired_head;
        if id == NONE {
            return None;
        }
        let e = &mut self.entries[id as usize];
        assert!(
            e.bucket == FIRED,
            "timer {id} on the fired list is not marked fired"
        );
        self.fired_head = e.next;
        if self.fired_head == NONE {
            self.fired_tail = NONE;
        }
        e.bucket = NONE;
        e.next = NONE;
        Some(id)
    }

    /// When the backend should call [`expire`](TimerWheel::expire) next: the start of the next
    /// non-empty bucket's tick (possibly early, for a deadline more than a turn away), or
    /// `None` when nothing is armed.
    pub fn next_wake(&self) -> Option<Instant> {
        if self.armed == 0 {
            return None;
        }
        let start = (self.current + 1) % BUCKETS as u64;
        let mut offset = 0;
        // Bounded: each round moves to the next bitmap word (one more for a start within one).
        for _ in 0..=BITMAP_WORDS {
            if offset >= BUCKETS as u64 {
                break;
            }
            let bucket = (start + offset) % BUCKETS as u64;
            let bits = self.occupied[bucket as usize / 64] >> (bucket % 64);
            if bits == 0 {
                offset += 64 - bucket % 64;
                continue;
            }
            let skip = bits.trailing_zeros() as u64;
            return Some(Instant((self.current + 1 + offset + skip) * self.tick_ms));
        }
        // Armed timers are in some bucket, so a bit is set: the search above returns.
        debug_assert!(false, "{} timers armed, no bucket occupied", self.armed);
        Some(Instant((self.current + 1) * self.tick_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn drain(wheel: &mut TimerWheel<'_>) -> Vec<u32> {
        core::iter::from_fn(|| wheel.pop_fired()).collect()
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut entries = [TimerEntry::new(); 8];
        let mut wheel = TimerWheel::new(&mut entries, 100, Instant(0));
        wheel.arm(1, Instant(250));
        wheel.arm(2, Instant(100));
        wheel.expire(Instant(199));
        assert_eq!(drain(&mut wheel), [2]);
        wheel.expire(Instant(249));
        assert!(drain(&mut wheel).is_empty());
        wheel.expire(Instant(300));
        assert_eq!(drain(&mut wheel), [1]);
        assert_eq!(wheel.armed(), 0);
    }

    #[test]
    fn rearm_and_disarm() {
        let mut entries = [TimerEntry::new(); 8];
        let mut wheel = TimerWheel::new(&mut entries, 10, Instant(0));
        wheel.arm(3, Instant(50));
        wheel.arm(3, Instant(500));
        wheel.arm(4, Instant(50));
        wheel.disarm(4);
        wheel.expire(Instant(100));
        assert!(drain(&mut wheel).is_empty());
        assert_eq!(wheel.deadline(3), Some(Instant(500)));
        wheel.expire(Instant(500));
        assert_eq!(drain(&mut wheel), [3]);
    }

    /// Deadlines further than one turn away survive earlier visits of their bucket.
    #[test]
    fn far_deadlines_and_clock_jumps() {
        let mut entries = [TimerEntry::new(); 8];
        let mut wheel = TimerWheel::new(&mut entries, 1, Instant(0));
        wheel.arm(0, Instant(BUCKETS as u64 * 3 + 5));
        wheel.arm(1, Instant(7));
        for t in (0..BUCKETS as u64 * 3).step_by(50) {
            wheel.expire(Instant(t));
        }
        assert_eq!(drain(&mut wheel), [1]);
        // A jump far past every deadline fires everything in one call.
        wheel.expire(Instant(1_000_000));
        assert_eq!(drain(&mut wheel), [0]);
    }

    #[test]
    fn next_wake() {
        let mut entries = [TimerEntry::new(); 8];
        let mut wheel = TimerWheel::new(&mut entries, 100, Instant(1000));
        assert_eq!(wheel.next_wake(), None);
        wheel.arm(0, Instant(1750));
        assert_eq!(wheel.next_wake(), Some(Instant(1800)));
        wheel.arm(1, Instant(1010));
        assert_eq!(wheel.next_wake(), Some(Instant(1100)));
    }

    /// A deadline moved later fires at the new deadline, neither at the old one nor a turn
    /// late; one moved earlier fires at the earlier one.
    #[test]
    fn moved_deadlines_fire_when_they_are_due() {
        let mut entries = [TimerEntry::new(); 8];
        let mut wheel = TimerWheel::new(&mut entries, 100, Instant(0));
        wheel.arm(0, Instant(250));
        wheel.arm(0, Instant(1_250));
        wheel.arm(1, Instant(5_000));
        wheel.arm(1, Instant(150));
        wheel.expire(Instant(299));
        assert_eq!(drain(&mut wheel), [1]);
        assert_eq!(
            wheel.next_wake(),
            Some(Instant(300)),
            "still where it was placed"
        );
        wheel.expire(Instant(300));
        assert!(drain(&mut wheel).is_empty());
        assert_eq!(wheel.deadline(0), Some(Instant(1_250)));
        assert_eq!(
            wheel.next_wake(),
            Some(Instant(1_300)),
            "moved on by the visit"
        );
        wheel.expire(Instant(1_249));
        assert!(drain(&mut wheel).is_empty());
        wheel.expire(Instant(1_300));
        assert_eq!(drain(&mut wheel), [0]);
        assert_eq!(wheel.armed(), 0);
    }

    proptest::proptest! {
        /// Against a list of deadlines: whatever is armed, moved, disarmed and however the
        /// clock advances, an expiry fires no timer before its deadline, every timer whose
        /// tick has come (the tick its deadline rounds up to, never one already visited when
        /// it was armed), and each once. (One moved later may fire at its deadline, between
        /// the two: the visit of its old bucket finds it due.)
        #[test]
        fn fires_exactly_what_is_due(
            tick_ms in 1u64..200,
            steps in proptest::collection::vec((0u8..4, 0u32..16, 0u64..40_000), 1..300),
        ) {
            let mut entries = [TimerEntry::new(); 16];
            let mut wheel = TimerWheel::new(&mut entries, tick_ms, Instant(0));
            // Each armed timer's deadline and the tick it is due at.
            let mut model: [Option<(u64, u64)>; 16] = [None; 16];
            let mut now = 0u64;
            let mut visited = 0u64;
            for (op, id, value) in steps {
                match op {
                    0 | 1 => {
                        let deadline = now + value;
                        wheel.arm(id, Instant(deadline));
                        let due = deadline.div_ceil(tick_ms).max(visited + 1);
                        model[id as usize] = Some((deadline, due));
                    }
                    2 => {
                        wheel.disarm(id);
                        model[id as usize] = None;
                    }
                    _ => {
                        now += value % 3_000;
                        wheel.expire(Instant(now));
                        visited = visited.max(now / tick_ms);
                        let fired = drain(&mut wheel);
                        for &i in &fired {
                            let armed = model[i as usize].take();
                            proptest::prop_assert!(
                                armed.is_some_and(|(d, _)| d <= now),
                                "{} fired at {}, armed {:?}", i, now, armed
                            );
                        }
                        for (i, armed) in model.iter().enumerate() {
                            proptest::prop_assert!(
                                armed.is_none_or(|(_, t)| t > visited),
                                "{} not fired at {}, armed {:?}", i, now, armed
                            );
                        }
                    }
                }
                let armed = model.iter().filter(|d| d.is_some()).count();
                proptest::prop_assert_eq!(wheel.armed() as usize, armed);
                for (i, d) in model.iter().enumerate() {
                    proptest::prop_assert_eq!(wheel.deadline(i as u32), d.map(|(d, _)| Instant(d)));
                }
            }
        }
    }

    #[test]
    fn disarm_while_fired() {
        let mut entries = [TimerEntry::new(); 8];
        let mut wheel = TimerWheel::new(&mut entries, 10, Instant(0));
        wheel.arm(0, Instant(10));
        wheel.arm(1, Instant(10));
        wheel.arm(2, Instant(10));
        wheel.expire(Instant(20));
        wheel.disarm(1);
        assert_eq!(drain(&mut wheel).len(), 2);
    }
}
