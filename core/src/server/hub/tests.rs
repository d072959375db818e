//! Hub unit tests: the rings, cursors, history and wake-ups, and a property test of the ring
//! against the messages published.

use super::*;
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

/// The pieces of a hub for `config` and `slots` connections, owned by the test.
struct Pieces {
    topics: Vec<TopicState>,
    rings: Vec<u8>,
    subs: Vec<Subscription>,
    wake: Vec<u32>,
    woken: Vec<bool>,
    inbox_bytes: Vec<u8>,
    inboxes: Vec<InboxState>,
}

impl Pieces {
    fn new(config: &Topics, slots: usize) -> Pieces {
        let sizes = Hub::counts(config, slots);
        Pieces {
            topics: vec![TopicState::EMPTY; sizes.topics],
            rings: vec![0; sizes.ring_bytes],
            subs: vec![Subscription::UNUSED; sizes.subs],
            wake: vec![NONE; sizes.wake],
            woken: vec![false; sizes.wake],
            inbox_bytes: vec![0; sizes.inbox_bytes],
            inboxes: vec![InboxState::EMPTY; sizes.inboxes],
        }
    }

    fn hub(&mut self, config: Topics) -> Hub<'_> {
        Hub::new(
            config,
            &mut self.topics,
            &mut self.rings,
            &mut self.subs,
            &mut self.wake,
            &mut self.woken,
            (&mut self.inbox_bytes, &mut self.inboxes),
        )
    }
}

fn topics(ring_bytes: u32, lagging: Lagging) -> Topics {
    Topics {
        count: 2,
        ring_bytes,
        max_message: 100,
        per_connection: 2,
        lagging,
        inbox_bytes: 0,
    }
}

/// Takes every message waiting for `slot`: (topic, seq, data, missed).
fn take_all(hub: &mut Hub<'_>, slot: SlotId) -> Vec<(u16, u64, Vec<u8>, u64)> {
    let mut taken = Vec::new();
    // Bounded: the test's rings hold a few hundred messages at most.
    for _ in 0..10_000 {
        match hub.view().next(slot) {
            Next::Nothing => return taken,
            Next::Lagging => panic!("lagging under Skip"),
            Next::Message(found) => {
                // Looking again without taking finds the same message, the same gap.
                let Next::Message(again) = hub.view().next(slot) else {
                    panic!("the message went away untaken");
                };
                assert_eq!((again.seq, again.missed), (found.seq, found.missed));
                let message = found.message(hub.bytes(&found));
                taken.push((found.topic, found.seq, message.data.to_vec(), found.missed));
                hub.view().taken(slot, found.index, found.seq);
            }
        }
    }
    panic!("more messages than a ring can hold");
}

#[test]
fn messages_are_numbered_from_one_and_taken_in_order() {
    let config = topics(1024, Lagging::Skip);
    let mut pieces = Pieces::new(&config, 3);
    let mut hub = pieces.hub(config);
    assert_eq!(hub.view().subscribe(0, TopicId(0), Start::Next), Ok(0));
    assert_eq!(hub.view().publish(TopicId(0), b"one"), Ok(1));
    assert_eq!(hub.view().publish(TopicId(0), b"two"), Ok(2));
    assert_eq!(hub.view().publish(TopicId(1), b"elsewhere"), Ok(1));
    let taken = take_all(&mut hub, 0);
    assert_eq!(
        taken,
        [(0, 1, b"one".to_vec(), 0), (0, 2, b"two".to_vec(), 0)]
    );
    assert!(take_all(&mut hub, 1).is_empty(), "slot 1 follows nothing");
}

/// `Topics::max_message` (100): 100 bytes are published, 101 refused; no such topic is
/// refused too.
#[test]
fn the_longest_message_at_the_limit_and_past_it() {
    let config = topics(1024, Lagging::Skip);
    let mut pieces = Pieces::new(&config, 1);
    let mut hub = pieces.hub(config);
    assert_eq!(hub.view().publish(TopicId(0), &[7; 100]), Ok(1));
    assert_eq!(
        hub.view().publish(TopicId(0), &[7; 101]),
        Err(PublishError::TooLarge)
    );
    assert_eq!(
        hub.view().publish(TopicId(2), b"x"),
        Err(PublishError::NoSuchTopic)
    );
}

/// `Topics::per_connection` (2): two topics followed, a third refused; following one
/// again moves the cursor instead of taking a place.
#[test]
fn subscriptions_per_connection_at_the_limit_and_past_it() {
    let mut config = topics(1024, Lagging::Skip);
    config.count = 3;
    let mut pieces = Pieces::new(&config, 2);
    let mut hub = pieces.hub(config);
    let mut view = hub.view();
    assert_eq!(view.subscribe(1, TopicId(0), Start::Next), Ok(0));
    assert_eq!(view.subscribe(1, TopicId(1), Start::Next), Ok(0));
    assert_eq!(view.subscribe(1, TopicId(1), Start::Oldest), Ok(0));
    assert_eq!(
        view.subscribe(1, TopicId(2), Start::Next),
        Err(SubscribeError::TooMany)
    );
    assert_eq!(
        view.subscribe(1, TopicId(3), Start::Next),
        Err(SubscribeError::NoSuchTopic)
    );
    view.unsubscribe(1, TopicId(0));
    assert_eq!(view.subscribe(1, TopicId(2), Start::Next), Ok(0));
    assert!(hub.follows(1, TopicId(2)) && !hub.follows(1, TopicId(0)));
    assert!(
        !hub.follows(0, TopicId(1)),
        "another slot's subscriptions are its own"
    );
}

/// The ring is the topic's history: `Oldest` starts with the oldest message held, `Last(n)`
/// with the newest n of those,
/// `After(seq)` after a given one (SSE's `Last-Event-ID`), reporting the gap when it is
/// gone; a future `seq` starts with the next message.
#[test]
fn history_from_the_oldest_or_after_a_sequence_number() {
    let config = topics(256, Lagging::Skip);
    let mut pieces = Pieces::new(&config, 4);
    let mut hub = pieces.hub(config);
    for i in 0..20u8 {
        hub.view().publish(TopicId(0), &[i; 20]).unwrap();
    }
    // 256 bytes hold eight messages of 32 bytes: 13..=20 are held.
    assert_eq!(hub.view().subscribe(0, TopicId(0), Start::Oldest), Ok(0));
    let seqs = |t: &[(u16, u64, Vec<u8>, u64)]| t.iter().map(|m| m.1).collect::<Vec<_>>();
    assert_eq!(seqs(&take_all(&mut hub, 0)), (13..=20).collect::<Vec<_>>());
    assert_eq!(hub.view().subscribe(1, TopicId(0), Start::After(17)), Ok(0));
    assert_eq!(seqs(&take_all(&mut hub, 1)), [18, 19, 20]);
    assert_eq!(hub.view().subscribe(2, TopicId(0), Start::After(3)), Ok(9));
    assert_eq!(seqs(&take_all(&mut hub, 2)), (13..=20).collect::<Vec<_>>());
    assert_eq!(hub.view().subscribe(3, TopicId(0), Start::Last(2)), Ok(0));
    assert_eq!(seqs(&take_all(&mut hub, 3)), [19, 20]);
    assert_eq!(hub.view().subscribe(3, TopicId(0), Start::Last(100)), Ok(0));
    assert_eq!(seqs(&take_all(&mut hub, 3)), (13..=20).collect::<Vec<_>>());
    assert_eq!(hub.view().subscribe(3, TopicId(0), Start::After(99)), Ok(0));
    assert!(take_all(&mut hub, 3).is_empty());
    hub.view().publish(TopicId(0), b"next").unwrap();
    assert_eq!(seqs(&take_all(&mut hub, 3)), [21]);
}

/// Publishing wakes each subscriber once, in the order they subscribed, whatever the
/// number of messages.
#[test]
fn a_publish_wakes_each_subscriber_once() {
    let config = topics(1024, Lagging::Skip);
    let mut pieces = Pieces::new(&config, 4);
    let mut hub = pieces.hub(config);
    for slot in [2, 0, 3] {
        hub.view().subscribe(slot, TopicId(1), Start::Next).unwrap();
    }
    hub.view().publish(TopicId(1), b"a").unwrap();
    hub.view().publish(TopicId(1), b"b").unwrap();
    let mut woken = Vec::new();
    while let Some(slot) = hub.view().take_woken() {
        woken.push(slot);
    }
    woken.sort_unstable();
    assert_eq!(woken, [0, 2, 3]);
    assert!(!hub.has_woken());
}

/// With `Lagging::Close` a subscriber behind the ring's tail is reported, not moved.
#[test]
fn lagging_close_reports_the_subscriber() {
    let config = topics(256, Lagging::Close);
    let mut pieces = Pieces::new(&config, 1);
    let mut hub = pieces.hub(config);
    hub.view().subscribe(0, TopicId(0), Start::Next).unwrap();
    for i in 0..20u8 {
        hub.view().publish(TopicId(0), &[i; 20]).unwrap();
    }
    assert!(matches!(hub.view().next(0), Next::Lagging));
    assert_eq!(hub.scalars.counters.lagging_closed, 1);
}

proptest! {
    /// Whatever the sizes and whenever subscribers take: every subscriber's messages come
    /// in sequence order, each the exact bytes published with that number, and each gap
    /// is reported as missed (nothing lost silently); a subscriber that takes after every
    /// publish misses nothing.
    #[test]
    fn subscribers_get_exact_messages_or_an_exact_count_of_missed(
        ring in 128u32..2048,
        ops in proptest::collection::vec((0usize..100, 0u8..4), 1..400),
    ) {
        let config = Topics {
            count: 1,
            ring_bytes: ring,
            max_message: ring / 2 - 12,
            per_connection: 1,
            lagging: Lagging::Skip,
            inbox_bytes: 0,
        };
        let mut pieces = Pieces::new(&config, 3);
        let mut hub = pieces.hub(config);
        for slot in 0..3 {
            hub.view().subscribe(slot, TopicId(0), Start::Next).unwrap();
        }
        let mut published: Vec<Vec<u8>> = Vec::new();
        let mut last = [0u64; 3];
        for (i, (size, takers)) in ops.iter().enumerate() {
            let size = *size % (config.max_message as usize + 1);
            let data: Vec<u8> = (0..size).map(|j| (i + j) as u8).collect();
            let seq = hub.view().publish(TopicId(0), &data).unwrap();
            prop_assert_eq!(seq, published.len() as u64 + 1);
            published.push(data);
            // Slot 0 takes after every publish; slots 1 and 2 now and then.
            for slot in 0..3u32 {
                if slot != 0 && (*takers as u32 & slot) == 0 {
                    continue;
                }
                for (_, seq, data, missed) in take_all(&mut hub, slot) {
                    prop_assert_eq!(seq, last[slot as usize] + 1 + missed);
                    prop_assert_eq!(&data, &published[seq as usize - 1]);
                    if slot == 0 {
                        prop_assert_eq!(missed, 0);
                    }
                    last[slot as usize] = seq;
                }
            }
        }
        for slot in 0..3u32 {
            for (_, seq, data, missed) in take_all(&mut hub, slot) {
                prop_assert_eq!(seq, last[slot as usize] + 1 + missed);
                prop_assert_eq!(&data, &published[seq as usize - 1]);
                last[slot as usize] = seq;
            }
            prop_assert_eq!(last[slot as usize], published.len() as u64);
        }
    }
}
