//! The oracle's model of the key-value store: what each command deserves, byte for byte,
//! written from the Redis command semantics and the limits `zzz_apps::kv` documents, never
//! calling its code.
//!
//! The limits the model takes from the module's documentation:
//! - the store holds at most `keys` keys and `bytes` bytes in 64-byte blocks, each block
//!   carrying 60 bytes of an item, each item 16 bytes of header besides its key and value;
//!   a write that does not fit is answered Redis's `OOM` error and changes nothing;
//! - a value longer than the longest whose `GET` reply fits the send buffer is refused when
//!   set; a reply longer than the send buffer (an `ECHO`, an `MGET`) is answered an error;
//! - a key with an expiry is gone once the server's monotonic clock reaches it; the server
//!   deletes an expired key when a command reads it, and on its periodic sweep.
//!
//! One store serves every client, and the model follows the server's own order: the
//! simulator feeds it each command when the server writes the command's reply, at the
//! server's time then ([`crate::kv_oracle`]). Two things the model cannot see are kept as
//! ranges rather than guessed: whether the sweep has yet deleted an expired key nobody read
//! (so `DBSIZE` and whether a write fits may count it or not), and how tightly `MSET`
//! reserves room (it may count every pair as new; a batch that fits either way must succeed
//! and one that fits neither way must fail).

use std::collections::BTreeMap;
use std::rc::Rc;

/// Protocol error: an array header that is not a count.
pub const BAD_ARRAY_LENGTH: &str = "ERR Protocol error: invalid multibulk length";
/// Protocol error: more than 64 arguments.
pub const TOO_MANY_ARGS: &str = "ERR Protocol error: too many arguments (at most 64)";
/// Protocol error: an array element that is not a bulk string.
pub const EXPECTED_BULK: &str = "ERR Protocol error: expected '$'";
/// Protocol error: a bulk length that is negative or past the receive buffer.
pub const BAD_BULK_LENGTH: &str = "ERR Protocol error: invalid bulk length";
/// Protocol error: a bulk string not followed by CRLF.
pub const MISSING_CRLF: &str = "ERR Protocol error: expected CRLF after a bulk string";
/// Protocol error: a command longer than the receive buffer.
pub const TOO_LARGE: &str = "ERR Protocol error: command larger than the receive buffer";

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const VALUE_TOO_LONG: &str = "ERR value longer than the send buffer can answer";
const REPLY_TOO_LARGE: &str = "ERR reply larger than the send buffer";
const SYNTAX: &str = "ERR syntax error";

/// Bytes of a block, and of the part of it that holds an item's bytes.
const BLOCK: u64 = 64;
const PAYLOAD: usize = 60;
/// Bytes of an item's header.
const ITEM_HEAD: usize = 16;

/// Bytes of the RESP2 bulk string of `len` bytes.
fn bulk_size(len: usize) -> usize {
    1 + len.to_string().len() + 2 + len + 2
}

/// The longest value whose bulk-string reply fits a send buffer of `send_buffer` bytes.
pub fn max_value(send_buffer: usize) -> usize {
    let mut len = send_buffer;
    // Bounded: the framing of a value is a few bytes, under 30.
    while bulk_size(len) > send_buffer {
        len -= 1;
    }
    len
}

/// Parses a decimal i64 as Redis's `string2ll` does: an optional `-`, digits without a
/// leading zero (but `0` itself), nothing else, in range.
fn integer(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if !canonical {
        return None;
    }
    text.parse().ok()
}

fn simple(text: &str) -> Vec<u8> {
    format!("+{text}\r\n").into_bytes()
}

fn error(text: &str) -> Vec<u8> {
    format!("-{text}\r\n").into_bytes()
}

fn int(n: i64) -> Vec<u8> {
    format!(":{n}\r\n").into_bytes()
}

fn bulk(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out
}

const NIL: &[u8] = b"$-1\r\n";

/// A key's value and when it expires (the server's monotonic ms).
#[derive(Clone, Debug)]
struct Entry {
    value: Rc<[u8]>,
    expires: Option<u64>,
}

/// A change a reply stands for.
#[derive(Clone, Debug)]
enum Effect {
    Put(Vec<u8>, Rc<[u8]>, Option<u64>),
    Remove(Vec<u8>),
    Clear,
}

/// One reply the server may rightly write, and what writing it means.
#[derive(Clone, Debug)]
pub struct Alternative {
    /// The reply's bytes.
    pub bytes: Vec<u8>,
    effects: Vec<Effect>,
    /// Coverage classes it stands for.
    pub classes: Vec<&'static str>,
}

impl Alternative {
    fn new(bytes: Vec<u8>) -> Alternative {
        Alternative {
            bytes,
            effects: Vec::new(),
            classes: Vec::new(),
        }
    }

    fn class(mut self, class: &'static str) -> Alternative {
        self.classes.push(class);
        self
    }

    fn effect(mut self, effect: Effect) -> Alternative {
        self.effects.push(effect);
        self
    }
}

/// What a command deserves: one of the alternatives, after the keys it read that had
/// expired are deleted (whichever alternative).
#[derive(Clone, Debug)]
pub struct Expectation {
    /// The replies the server may write.
    pub alternatives: Vec<Alternative>,
    /// Expired keys the command read: the server deletes them.
    purged: Vec<Vec<u8>>,
}

/// The store as the model knows it.
#[derive(Debug)]
pub struct KvModel {
    entries: BTreeMap<Vec<u8>, Entry>,
    max_keys: usize,
    blocks: u64,
    send_buffer: usize,
}

/// Blocks an item of these lengths takes.
fn blocks_of(key: usize, value: usize) -> u64 {
    (ITEM_HEAD + key + value).div_ceil(PAYLOAD) as u64
}

/// What the store holds: the least (expired keys swept) and the most (not swept).
#[derive(Clone, Copy, Debug)]
struct Usage {
    keys: (usize, usize),
    blocks: (u64, u64),
}

impl KvModel {
    /// An empty store of `max_keys` keys and `bytes` bytes, answering into a send buffer of
    /// `send_buffer` bytes.
    pub fn new(max_keys: usize, bytes: u64, send_buffer: usize) -> KvModel {
        KvModel {
            entries: BTreeMap::new(),
            max_keys,
            blocks: bytes.div_ceil(BLOCK),
            send_buffer,
        }
    }

    fn live(&self, key: &[u8], now: u64) -> Option<&Entry> {
        self.entries
            .get(key)
            .filter(|e| e.expires.is_none_or(|at| at > now))
    }

    fn usage(&self, now: u64) -> Usage {
        let mut u = Usage {
            keys: (0, 0),
            blocks: (0, 0),
        };
        for (k, e) in &self.entries {
            let b = blocks_of(k.len(), e.value.len());
            u.keys.1 += 1;
            u.blocks.1 += b;
            if e.expires.is_none_or(|at| at > now) {
                u.keys.0 += 1;
                u.blocks.0 += b;
            }
        }
        u
    }

    /// Whether the store, less the keys `removed` and plus `added` items (key and value
    /// lengths), fits: surely (`.0`, counting every expired key as still there) and possibly
    /// (`.1`, counting none).
    fn fits(&self, now: u64, removed: &[&[u8]], added: &[(usize, usize)]) -> (bool, bool) {
        let u = self.usage(now);
        let (mut keys, mut blocks) = (u.keys, u.blocks);
        for key in removed {
            if let Some(e) = self.entries.get(*key) {
                let b = blocks_of(key.len(), e.value.len());
                keys.1 -= 1;
                blocks.1 -= b;
                if e.expires.is_none_or(|at| at > now) {
                    keys.0 -= 1;
                    blocks.0 -= b;
                }
            }
        }
        for &(k, v) in added {
            keys.0 += 1;
            keys.1 += 1;
            blocks.0 += blocks_of(k, v);
            blocks.1 += blocks_of(k, v);
        }
        let surely = keys.1 <= self.max_keys && blocks.1 <= self.blocks;
        let possibly = keys.0 <= self.max_keys && blocks.0 <= self.blocks;
        (surely, possibly)
    }

    /// A write of `key` to `value`: `ok` (the command's reply when it is done), `OOM`, or
    /// either when whether it fits depends on what the sweep has deleted.
    fn write(
        &self,
        now: u64,
        key: &[u8],
        value: Rc<[u8]>,
        expires: Option<u64>,
        ok: Vec<u8>,
    ) -> Vec<Alternative> {
        let (surely, possibly) = self.fits(now, &[key], &[(key.len(), value.len())]);
        let done = Alternative::new(ok).effect(Effect::Put(key.to_vec(), value, expires));
        let full = Alternative::new(error(OOM)).class("kv.oom");
        match (surely, possibly) {
            (true, _) => vec![done],
            (false, false) => vec![full],
            (false, true) => vec![done, full],
        }
    }

    /// What `args` deserves at the server's monotonic time `now`.
    pub fn expect(&self, args: &[Vec<u8>], now: u64) -> Expectation {
        let mut purged = Vec::new();
        let alternatives = self.answer(args, now, &mut purged);
        Expectation {
            alternatives,
            purged,
        }
    }

    /// Notes that `key` is read at `now`: if it has expired, the server deletes it.
    fn read(&self, key: &[u8], now: u64, purged: &mut Vec<Vec<u8>>) {
        if self.entries.contains_key(key) && self.live(key, now).is_none() {
            purged.push(key.to_vec());
        }
    }

    fn answer(&self, args: &[Vec<u8>], now: u64, purged: &mut Vec<Vec<u8>>) -> Vec<Alternative> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        let argc = args.len();
        let arity_ok = match name.as_str() {
            "PING" | "FLUSHALL" | "FLUSHDB" => argc <= 2,
            "ECHO" | "GET" | "INCR" | "DECR" | "TTL" | "PTTL" => argc == 2,
            "INCRBY" | "DECRBY" => argc == 3,
            "SET" => argc >= 3,
            "DEL" | "EXISTS" | "MGET" => argc >= 2,
            "MSET" => argc >= 3 && argc % 2 == 1,
            "DBSIZE" => argc == 1,
            "QUIT" => true,
            _ => {
                let mut text = format!(
                    "ERR unknown command '{}', with args beginning with: ",
                    String::from_utf8_lossy(&args[0])
                );
                for a in args.iter().skip(1).take(3) {
                    text.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
                }
                return vec![Alternative::new(error(&text)).class("kv.unknown-command")];
            }
        };
        if !arity_ok {
            let text = format!(
                "ERR wrong number of arguments for '{}' command",
                name.to_ascii_lowercase()
            );
            return vec![Alternative::new(error(&text)).class("kv.wrong-arity")];
        }
        let limit = max_value(self.send_buffer);
        let values: Vec<&Vec<u8>> = match name.as_str() {
            "SET" => vec![&args[2]],
            "MSET" => args[2..].iter().step_by(2).collect(),
            _ => Vec::new(),
        };
        if values.iter().any(|v| v.len() > limit) {
            return vec![Alternative::new(error(VALUE_TOO_LONG)).class("kv.value-past-limit")];
        }
        let fitting = |reply: Vec<u8>| {
            if reply.len() > self.send_buffer {
                Alternative::new(error(REPLY_TOO_LARGE)).class("kv.reply-too-large")
            } else {
                Alternative::new(reply)
            }
        };
        let one = |a: Alternative| vec![a];
        match name.as_str() {
            "PING" if argc == 2 => one(fitting(bulk(&args[1]))),
            "PING" => one(Alternative::new(simple("PONG"))),
            "ECHO" => one(fitting(bulk(&args[1]))),
            "GET" => {
                self.read(&args[1], now, purged);
                let alt = match self.live(&args[1], now) {
                    Some(e) => {
                        let a = Alternative::new(bulk(&e.value));
                        if e.value.len() == limit {
                            a.class("kv.value-at-limit")
                        } else {
                            a
                        }
                    }
                    None => Alternative::new(NIL.to_vec()),
                };
                one(alt)
            }
            "SET" => self.set(args, now, purged),
            "DEL" => {
                let mut gone: Vec<&[u8]> = Vec::new();
                let mut count = 0;
                let mut alt = Alternative::new(Vec::new());
                for k in &args[1..] {
                    if gone.contains(&k.as_slice()) || !self.entries.contains_key(k) {
                        continue;
                    }
                    gone.push(k);
                    if self.live(k, now).is_some() {
                        count += 1;
                    }
                    alt = alt.effect(Effect::Remove(k.clone()));
                }
                alt.bytes = int(count);
                one(alt)
            }
            "EXISTS" => {
                for k in &args[1..] {
                    self.read(k, now, purged);
                }
                let held = args[1..].iter().filter(|k| self.live(k, now).is_some());
                one(Alternative::new(int(held.count() as i64)))
            }
            "INCR" | "DECR" | "INCRBY" | "DECRBY" => {
                let by = match name.as_str() {
                    "INCR" => 1,
                    "DECR" => -1,
                    _ => match integer(&args[2]) {
                        None => {
                            return one(
                                Alternative::new(error(NOT_INTEGER)).class("kv.not-integer")
                            );
                        }
                        Some(n) if name == "INCRBY" => n,
                        Some(n) => match n.checked_neg() {
                            Some(n) => n,
                            None => {
                                return one(Alternative::new(error(
                                    "ERR decrement would overflow",
                                ))
                                .class("kv.overflow"));
                            }
                        },
                    },
                };
                let key = &args[1];
                self.read(key, now, purged);
                let (current, expires) = match self.live(key, now) {
                    None => (0, None),
                    Some(e) => match integer(&e.value) {
                        Some(n) => (n, e.expires),
                        None => {
                            return one(
                                Alternative::new(error(NOT_INTEGER)).class("kv.not-integer")
                            );
                        }
                    },
                };
                let Some(next) = current.checked_add(by) else {
                    return one(Alternative::new(error(
                        "ERR increment or decrement would overflow",
                    ))
                    .class("kv.overflow"));
                };
                let text: Rc<[u8]> = next.to_string().into_bytes().into();
                self.write(now, key, text, expires, int(next))
            }
            "MGET" => {
                for k in &args[1..] {
                    self.read(k, now, purged);
                }
                let mut reply = format!("*{}\r\n", argc - 1).into_bytes();
                for k in &args[1..] {
                    match self.live(k, now) {
                        Some(e) => reply.extend_from_slice(&bulk(&e.value)),
                        None => reply.extend_from_slice(NIL),
                    }
                }
                one(fitting(reply))
            }
            "MSET" => self.mset(args, now),
            "DBSIZE" => {
                let u = self.usage(now);
                (u.keys.0..=u.keys.1)
                    .map(|n| Alternative::new(int(n as i64)))
                    .collect()
            }
            "FLUSHALL" | "FLUSHDB" => match args.get(1) {
                Some(mode)
                    if !mode.eq_ignore_ascii_case(b"ASYNC")
                        && !mode.eq_ignore_ascii_case(b"SYNC") =>
                {
                    one(Alternative::new(error(SYNTAX)))
                }
                _ => one(Alternative::new(simple("OK")).effect(Effect::Clear)),
            },
            "TTL" | "PTTL" => {
                self.read(&args[1], now, purged);
                let n = match self.live(&args[1], now) {
                    None => -2,
                    Some(Entry { expires: None, .. }) => -1,
                    Some(Entry {
                        expires: Some(at), ..
                    }) => {
                        let ms = at - now;
                        if name == "TTL" {
                            ((ms + 500) / 1000) as i64
                        } else {
                            ms as i64
                        }
                    }
                };
                one(Alternative::new(int(n)))
            }
            "QUIT" => one(Alternative::new(simple("OK")).class("kv.quit")),
            _ => unreachable!("every name was matched above"),
        }
    }

    /// `SET key value [EX s | PX ms | KEEPTTL] [NX | XX]`.
    fn set(&self, args: &[Vec<u8>], now: u64, purged: &mut Vec<Vec<u8>>) -> Vec<Alternative> {
        let (key, value) = (&args[1], &args[2]);
        let mut expiry: Option<u64> = None;
        let mut keep_ttl = false;
        let (mut nx, mut xx) = (false, false);
        let mut i = 3;
        let is = |i: usize, o: &str| args[i].eq_ignore_ascii_case(o.as_bytes());
        while i < args.len() {
            if (is(i, "EX") || is(i, "PX")) && i + 1 < args.len() && expiry.is_none() && !keep_ttl {
                let Some(n) = integer(&args[i + 1]) else {
                    return vec![Alternative::new(error(NOT_INTEGER)).class("kv.not-integer")];
                };
                let ms = if is(i, "EX") {
                    n.checked_mul(1000)
                } else {
                    Some(n)
                };
                let at = ms
                    .filter(|&ms| ms > 0)
                    .and_then(|ms| now.checked_add(ms as u64));
                let Some(at) = at else {
                    return vec![Alternative::new(error(
                        "ERR invalid expire time in 'set' command",
                    ))];
                };
                expiry = Some(at);
                i += 2;
            } else if is(i, "KEEPTTL") && expiry.is_none() {
                keep_ttl = true;
                i += 1;
            } else if is(i, "NX") && !xx {
                nx = true;
                i += 1;
            } else if is(i, "XX") && !nx {
                xx = true;
                i += 1;
            } else {
                return vec![Alternative::new(error(SYNTAX)).class("kv.syntax-error")];
            }
        }
        self.read(key, now, purged);
        let held = self.live(key, now);
        if (nx && held.is_some()) || (xx && held.is_none()) {
            return vec![Alternative::new(NIL.to_vec()).class("kv.set-condition")];
        }
        let expires = match (expiry, keep_ttl) {
            (Some(at), _) => Some(at),
            (None, true) => held.and_then(|e| e.expires),
            (None, false) => None,
        };
        let mut alts = self.write(now, key, value.as_slice().into(), expires, simple("OK"));
        if value.len() == max_value(self.send_buffer) {
            for a in &mut alts {
                if a.bytes == simple("OK") {
                    a.classes.push("kv.value-at-limit");
                }
            }
        }
        alts
    }

    /// `MSET key value ...`: all or nothing. Surely done when it fits with every pair counted
    /// as a new key; surely refused when the store after it would not fit.
    fn mset(&self, args: &[Vec<u8>], now: u64) -> Vec<Alternative> {
        let pairs: Vec<(&Vec<u8>, &Vec<u8>)> =
            args[1..].chunks(2).map(|p| (&p[0], &p[1])).collect();
        let as_new: Vec<(usize, usize)> = pairs.iter().map(|(k, v)| (k.len(), v.len())).collect();
        let (surely, _) = self.fits(now, &[], &as_new);
        // The store after it: each key once, with its last value.
        let mut last: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
        for (k, v) in &pairs {
            last.insert(k, v);
        }
        let keys: Vec<&[u8]> = last.keys().copied().collect();
        let added: Vec<(usize, usize)> = last.iter().map(|(k, v)| (k.len(), v.len())).collect();
        let (_, possibly) = self.fits(now, &keys, &added);
        let mut done = Alternative::new(simple("OK"));
        for (k, v) in &pairs {
            done = done.effect(Effect::Put(k.to_vec(), v.as_slice().into(), None));
        }
        let full = Alternative::new(error(OOM)).class("kv.oom");
        match (surely, possibly) {
            (true, _) => vec![done],
            (false, false) => vec![full],
            (false, true) => vec![done, full],
        }
    }

    /// The server wrote `alternative` (one of `expectation`'s): the store changes as it says.
    pub fn apply(&mut self, expectation: &Expectation, alternative: &Alternative) {
        for key in &expectation.purged {
            self.entries.remove(key);
        }
        for effect in &alternative.effects {
            match effect {
                Effect::Put(k, v, expires) => {
                    self.entries.insert(
                        k.clone(),
                        Entry {
                            value: v.clone(),
                            expires: *expires,
                        },
                    );
                }
                Effect::Remove(k) => {
                    self.entries.remove(k);
                }
                Effect::Clear => self.entries.clear(),
            }
        }
    }

    /// Whether the command read a key that had expired.
    pub fn expired(expectation: &Expectation) -> bool {
        !expectation.purged.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_value_fills_the_send_buffer_with_its_framing() {
        // `$1015\r\n` + 1015 bytes + `\r\n` = 1024.
        assert_eq!(max_value(1024), 1015);
        // Past a power of ten the length has a digit fewer than the buffer's size.
        assert_eq!(max_value(10_004), 9995);
        assert_eq!(bulk_size(9995), 10_004);
        assert_eq!(max_value(1005), 997);
    }

    #[test]
    fn integers_are_read_as_redis_reads_them() {
        assert_eq!(integer(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"007"[..],
            b"-0",
            b"+5",
            b"1.5",
            b"",
            b" 3",
            b"9223372036854775808",
        ] {
            assert_eq!(integer(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn an_expired_key_is_gone_and_counted_either_way_by_dbsize() {
        let mut m = KvModel::new(4, 4096, 1024);
        let set = [
            b"SET".to_vec(),
            b"k".to_vec(),
            b"v".to_vec(),
            b"PX".to_vec(),
            b"10".to_vec(),
        ];
        let e = m.expect(&set, 100);
        assert_eq!(e.alternatives.len(), 1);
        m.apply(&e, &e.alternatives[0].clone());
        let size = m.expect(&[b"DBSIZE".to_vec()], 110);
        let replies: Vec<&[u8]> = size.alternatives.iter().map(|a| &a.bytes[..]).collect();
        assert_eq!(replies, [&b":0\r\n"[..], b":1\r\n"]);
        let get = m.expect(&[b"GET".to_vec(), b"k".to_vec()], 109);
        assert_eq!(get.alternatives[0].bytes, b"$1\r\nv\r\n");
        let get = m.expect(&[b"GET".to_vec(), b"k".to_vec()], 110);
        assert_eq!(get.alternatives[0].bytes, NIL);
        assert!(KvModel::expired(&get));
    }
}
