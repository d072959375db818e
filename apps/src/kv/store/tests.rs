//! The store against a model (a `BTreeMap` with expiry times), over random operations; and
//! its limits, at the limit and one past.

use std::collections::BTreeMap;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// Memory for a store of `capacity`, 8-aligned as the region's.
fn memory(capacity: Capacity) -> Vec<u64> {
    std::vec![0u64; capacity.memory().div_ceil(8)]
}

fn bytes(words: &mut [u64]) -> &mut [u8] {
    bytemuck::cast_slice_mut(words)
}

fn value_of(store: &Store<'_>, item: &Item) -> Vec<u8> {
    let mut out = std::vec![0u8; item.value_len()];
    store.copy_value(item, &mut out);
    out
}

#[derive(Clone, Debug)]
enum Op {
    Set(u8, Vec<u8>, Option<u64>),
    Get(u8),
    Delete(u8),
    Advance(u64),
    Sweep(usize),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..24, proptest::collection::vec(any::<u8>(), 0..200), proptest::option::of(1u64..50))
            .prop_map(|(k, v, e)| Op::Set(k, v, e)),
        3 => (0u8..24).prop_map(Op::Get),
        2 => (0u8..24).prop_map(Op::Delete),
        1 => (0u64..40).prop_map(Op::Advance),
        1 => (1usize..64).prop_map(Op::Sweep),
        1 => Just(Op::Clear),
    ]
}

/// Keys of varied lengths, some longer than a block.
fn key(k: u8) -> Vec<u8> {
    std::iter::repeat_n(b'a' + k % 26, 1 + k as usize * 5).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_store_answers_as_a_map_does(ops in proptest::collection::vec(op(), 1..200)) {
        let capacity = Capacity { keys: 16, bytes: 4096 };
        let mut words = memory(capacity);
        let mut store = Store::new(bytes(&mut words), capacity, 7);
        let total = store.free_blocks();
        let mut model: BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)> = BTreeMap::new();
        let mut now = 1000u64;
        for op in ops {
            match op {
                Op::Set(k, v, e) => {
                    let expires = e.map(|ms| now + ms);
                    // The model holds what the store holds, expired keys not yet gone included.
                    let held = model.get(&key(k));
                    let freed = held.map_or(0, |(old, _)| Store::blocks_needed(key(k).len(), old.len()));
                    let need = Store::blocks_needed(key(k).len(), v.len());
                    let full = (held.is_none() && model.len() >= 16) || need > store.free_blocks() + freed;
                    let result = store.set(&key(k), &[&v[..]], expires);
                    prop_assert_eq!(result.is_err(), full);
                    if result.is_ok() {
                        model.insert(key(k), (v, expires));
                    }
                }
                Op::Get(k) => {
                    let want = model.get(&key(k)).filter(|(_, e)| e.is_none_or(|at| at > now));
                    let got = store.get(&key(k), now).map(|item| (value_of(&store, &item), item.expires()));
                    let want = want.map(|(v, e)| (v.clone(), *e));
                    prop_assert_eq!(got, want);
                }
                Op::Delete(k) => {
                    let live = model.remove(&key(k)).is_some_and(|(_, e)| e.is_none_or(|at| at > now));
                    prop_assert_eq!(store.delete(&key(k), now), live);
                }
                Op::Advance(ms) => now += ms,
                Op::Sweep(n) => { store.sweep(now, n); }
                Op::Clear => { store.clear(); model.clear(); }
            }
            // Expired keys are dropped from the model only when the store drops them: the
            // store never holds more than the model, nor fewer than its live keys.
            let live = model.values().filter(|(_, e)| e.is_none_or(|at| at > now)).count();
            prop_assert!(store.len() >= live && store.len() <= model.len());
            model.retain(|k, (_, e)| e.is_none_or(|at| at > now) || {
                // Still held by the store: keep it in the model until it goes.
                let hash = store.hash(k);
                store.find(k, hash).is_some()
            });
            prop_assert_eq!(store.len(), model.len());
        }
        store.clear();
        prop_assert_eq!(store.free_blocks(), total, "every block comes back");
    }
}

#[test]
fn a_store_holds_its_capacity_of_keys_and_refuses_one_more() {
    let capacity = Capacity {
        keys: 100,
        bytes: 100 * BLOCK as u64,
    };
    let mut words = memory(capacity);
    let mut store = Store::new(bytes(&mut words), capacity, 1);
    for i in 0..100u32 {
        store.set(&i.to_le_bytes(), &[b"v"], None).unwrap();
    }
    assert_eq!(store.len(), 100);
    assert_eq!(store.set(b"one more", &[b"v"], None), Err(Full));
    // Replacing a held key needs no new key.
    assert_eq!(store.set(&7u32.to_le_bytes(), &[b"w"], None), Ok(()));
}

#[test]
fn a_store_holds_its_capacity_of_bytes_and_refuses_one_block_more() {
    let capacity = Capacity {
        keys: 10,
        bytes: 4 * BLOCK as u64,
    };
    let mut words = memory(capacity);
    let mut store = Store::new(bytes(&mut words), capacity, 1);
    // One item of exactly four blocks: 16 bytes of header, 1 of key, the rest value.
    let value = std::vec![b'x'; 4 * PAYLOAD - ITEM_HEAD - 1];
    assert_eq!(Store::blocks_needed(1, value.len()), 4);
    store.set(b"k", &[&value[..]], None).unwrap();
    assert_eq!(store.free_blocks(), 0);
    assert_eq!(store.set(b"j", &[b""], None), Err(Full));
    // Its value replaced by one a byte longer than fits: refused, the old one kept.
    let longer = std::vec![b'y'; value.len() + 1];
    assert_eq!(store.set(b"k", &[&longer[..]], None), Err(Full));
    let item = store.get(b"k", 0).unwrap();
    assert_eq!(value_of(&store, &item), value);
    assert!(store.delete(b"k", 0));
    assert_eq!(store.free_blocks(), 4);
}

#[test]
fn a_value_in_pieces_is_stored_whole_across_blocks() {
    let capacity = Capacity {
        keys: 4,
        bytes: 1024,
    };
    let mut words = memory(capacity);
    let mut store = Store::new(bytes(&mut words), capacity, 3);
    store
        .set(b"key", &[b"one ", b"two ", &[b'3'; 150]], None)
        .unwrap();
    let item = store.get(b"key", 0).unwrap();
    let mut want = b"one two ".to_vec();
    want.extend_from_slice(&[b'3'; 150]);
    assert_eq!(value_of(&store, &item), want);
}

#[test]
fn an_expired_key_is_gone_on_access_and_swept_otherwise() {
    let capacity = Capacity {
        keys: 8,
        bytes: 1024,
    };
    let mut words = memory(capacity);
    let mut store = Store::new(bytes(&mut words), capacity, 3);
    store.set(b"a", &[b"1"], Some(100)).unwrap();
    store.set(b"b", &[b"2"], Some(100)).unwrap();
    store.set(b"c", &[b"3"], None).unwrap();
    assert_eq!(store.expiring(), 2);
    assert!(store.get(b"a", 99).is_some(), "live until its millisecond");
    assert!(store.get(b"a", 100).is_none(), "gone at it");
    assert_eq!(store.len(), 2, "deleted on access");
    assert_eq!(store.sweep(100, 1 << 20), 1, "the sweep deletes the other");
    assert_eq!((store.len(), store.expiring()), (1, 0));
}

#[test]
fn memory_laid_out_for_another_capacity_is_refused() {
    let small = Capacity {
        keys: 4,
        bytes: 256,
    };
    let big = Capacity {
        keys: 8,
        bytes: 256,
    };
    let mut words = memory(big);
    let _ = Store::new(bytes(&mut words), small, 1);
    let result = std::panic::catch_unwind(move || {
        let _ = Store::new(bytes(&mut words), big, 1);
    });
    assert!(result.is_err());
}
