//! The commands: what each does to the store and how it answers, as Redis does for the
//! commands it shares with this server (replies and error texts included, so that clients
//! handle them as they would Redis's).
//!
//! A command is executed only when its whole reply fits the room in the send buffer:
//! [`reply_size`] says how much that is (exactly for the replies that carry values, a bound
//! of [`SMALL_REPLY`] for the rest), and the caller waits for the output to drain first.

use super::resp::{Arg, Command, Reply, bulk_size, line_size};
use super::store::{Expiry, Full, Store};

/// The most any reply but a value-carrying one takes: an error quoting the command (its name
/// and first arguments, each cut at 64 bytes) is the longest.
pub const SMALL_REPLY: usize = 512;

/// Bytes of an argument quoted in an error.
const QUOTED: usize = 64;

/// Redis's reply when the store is full.
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// What the connection does after a command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum After {
    /// Goes on.
    Continue,
    /// Closes once the reply is sent (`QUIT`).
    Close,
}

/// The commands served.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Name {
    Ping,
    Echo,
    Get,
    Set,
    Del,
    Exists,
    Incr,
    IncrBy,
    Decr,
    DecrBy,
    Mget,
    Mset,
    Dbsize,
    Flushall,
    Ttl,
    Pttl,
    Select,
    Command,
    Config,
    Hello,
    Quit,
}

/// The command a name (any case) names.
fn name_of(name: &[u8]) -> Option<Name> {
    let mut upper = [0u8; 8];
    let n = name.len();
    if n > upper.len() {
        return None;
    }
    upper[..n].copy_from_slice(name);
    upper.make_ascii_uppercase();
    Some(match &upper[..n] {
        b"PING" => Name::Ping,
        b"ECHO" => Name::Echo,
        b"GET" => Name::Get,
        b"SET" => Name::Set,
        b"DEL" => Name::Del,
        b"EXISTS" => Name::Exists,
        b"INCR" => Name::Incr,
        b"INCRBY" => Name::IncrBy,
        b"DECR" => Name::Decr,
        b"DECRBY" => Name::DecrBy,
        b"MGET" => Name::Mget,
        b"MSET" => Name::Mset,
        b"DBSIZE" => Name::Dbsize,
        b"FLUSHALL" | b"FLUSHDB" => Name::Flushall,
        b"TTL" => Name::Ttl,
        b"PTTL" => Name::Pttl,
        b"SELECT" => Name::Select,
        b"COMMAND" => Name::Command,
        b"CONFIG" => Name::Config,
        b"HELLO" => Name::Hello,
        b"QUIT" => Name::Quit,
        _ => return None,
    })
}

/// Whether `argc` arguments (the name included) suit the command: Redis's arity, a count
/// or (negative) a minimum.
fn arity_ok(name: Name, argc: usize) -> bool {
    let arity: i32 = match name {
        Name::Ping => -1,
        Name::Echo | Name::Get | Name::Incr | Name::Decr => 2,
        Name::Ttl | Name::Pttl | Name::Select => 2,
        Name::IncrBy | Name::DecrBy => 3,
        Name::Set => -3,
        Name::Del | Name::Exists | Name::Mget => -2,
        Name::Mset => -3,
        Name::Dbsize => 1,
        Name::Flushall | Name::Command | Name::Quit | Name::Hello => -1,
        Name::Config => -2,
    };
    let ok = if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= arity.unsigned_abs() as usize
    };
    // PING takes at most one argument, FLUSHALL at most one (ASYNC or SYNC), MSET pairs.
    ok && match name {
        Name::Ping | Name::Flushall | Name::Hello => argc <= 2,
        Name::Mset => argc % 2 == 1,
        _ => true,
    }
}

/// The room the reply to `cmd` needs (see the module doc).
pub fn reply_size(cmd: &Command, input: &[u8], store: &mut Store<'_>, now: u64) -> usize {
    let args = cmd.args();
    let value_size = |store: &mut Store<'_>, key: &Arg| {
        store
            .get(key.of(input), now)
            .map_or(5, |item| bulk_size(item.value_len()))
    };
    let exact = match name_of(args[0].of(input)) {
        Some(name) if !arity_ok(name, args.len()) => 0,
        Some(Name::Get) => value_size(store, &args[1]),
        Some(Name::Echo | Name::Ping) if args.len() == 2 => bulk_size(args[1].len as usize),
        Some(Name::Mget) => {
            let keys = &args[1..];
            line_size(keys.len() as i64) + keys.iter().map(|k| value_size(store, k)).sum::<usize>()
        }
        _ => 0,
    };
    exact.max(SMALL_REPLY)
}

/// Executes `cmd` (its bytes in `input`) on `store` at monotonic millisecond `now`, writing
/// its reply; the reply's room was checked ([`reply_size`]). A value longer than `max_value`
/// is refused (its `GET` could not be answered).
pub fn execute(
    cmd: &Command,
    input: &[u8],
    store: &mut Store<'_>,
    now: u64,
    max_value: usize,
    reply: &mut Reply<'_>,
) -> After {
    let args = cmd.args();
    let arg = |i: usize| args[i].of(input);
    let Some(name) = name_of(arg(0)) else {
        unknown_command(args, input, reply);
        return After::Continue;
    };
    if !arity_ok(name, args.len()) {
        // Redis names the command as its table does, in lower case, however it was typed (a
        // known name: at most 8 bytes).
        let mut lower = [0u8; 8];
        let typed = arg(0);
        lower[..typed.len()].copy_from_slice(typed);
        lower.make_ascii_lowercase();
        reply.error_start();
        reply.error_text("ERR wrong number of arguments for '");
        reply.error_input(&lower[..typed.len()]);
        reply.error_text("' command");
        reply.error_end();
        return After::Continue;
    }
    let too_long = match name {
        Name::Set => args[2].len as usize > max_value,
        Name::Mset => args[2..]
            .iter()
            .step_by(2)
            .any(|v| v.len as usize > max_value),
        _ => false,
    };
    if too_long {
        reply.error("ERR value longer than the send buffer can answer");
        return After::Continue;
    }
    match name {
        Name::Ping if args.len() == 2 => reply.bulk(arg(1)),
        Name::Ping => reply.simple("PONG"),
        Name::Echo => reply.bulk(arg(1)),
        Name::Get => match store.get(arg(1), now) {
            Some(item) => reply.bulk_with(item.value_len(), |out| store.copy_value(&item, out)),
            None => reply.nil(),
        },
        Name::Set => set(args, input, store, now, reply),
        Name::Del => {
            let deleted = args[1..].iter().filter(|k| store.delete(k.of(input), now));
            reply.integer(deleted.count() as i64);
        }
        Name::Exists => {
            let held = args[1..]
                .iter()
                .filter(|k| store.get(k.of(input), now).is_some());
            reply.integer(held.count() as i64);
        }
        Name::Incr => add(arg(1), 1, store, now, reply),
        Name::Decr => add(arg(1), -1, store, now, reply),
        Name::IncrBy | Name::DecrBy => match integer(arg(2)) {
            Some(by) if name == Name::IncrBy => add(arg(1), by, store, now, reply),
            Some(by) => match by.checked_neg() {
                Some(by) => add(arg(1), by, store, now, reply),
                None => reply.error("ERR decrement would overflow"),
            },
            None => reply.error(NOT_INTEGER),
        },
        Name::Mget => {
            reply.array(args.len() - 1);
            for key in &args[1..] {
                match store.get(key.of(input), now) {
                    Some(item) => {
                        reply.bulk_with(item.value_len(), |out| store.copy_value(&item, out))
                    }
                    None => reply.nil(),
                }
            }
        }
        Name::Mset => mset(args, input, store, reply),
        Name::Dbsize => reply.integer(store.len() as i64),
        Name::Flushall => match args.get(1).map(|a| a.of(input)) {
            Some(mode)
                if !mode.eq_ignore_ascii_case(b"ASYNC") && !mode.eq_ignore_ascii_case(b"SYNC") =>
            {
                reply.error("ERR syntax error")
            }
            _ => {
                store.clear();
                reply.simple("OK");
            }
        },
        Name::Ttl | Name::Pttl => match store.get(arg(1), now) {
            None => reply.integer(-2),
            Some(item) => match item.expires() {
                None => reply.integer(-1),
                Some(at) => {
                    let ms = at.saturating_sub(now);
                    let left = if name == Name::Ttl {
                        (ms + 500) / 1000
                    } else {
                        ms
                    };
                    reply.integer(left as i64);
                }
            },
        },
        Name::Select => match arg(1) {
            b"0" => reply.simple("OK"),
            _ => reply.error("ERR DB index is out of range"),
        },
        // `redis-cli` asks for the command table to offer hints: there is none to give.
        Name::Command => reply.array(0),
        Name::Config => config(args, input, reply),
        Name::Hello => match args.get(1).map(|a| a.of(input)) {
            None | Some(b"2") => hello(reply),
            Some(_) => reply.error("NOPROTO unsupported protocol version"),
        },
        Name::Quit => {
            reply.simple("OK");
            return After::Close;
        }
    }
    After::Continue
}

/// `arg` cut at [`QUOTED`] bytes.
fn quoted(arg: &[u8]) -> &[u8] {
    &arg[..arg.len().min(QUOTED)]
}

/// Redis's answer to an unknown command: its name and first arguments, quoted.
fn unknown_command(args: &[Arg], input: &[u8], reply: &mut Reply<'_>) {
    reply.error_start();
    reply.error_text("ERR unknown command '");
    reply.error_input(quoted(args[0].of(input)));
    reply.error_text("', with args beginning with: ");
    for arg in args[1..].iter().take(3) {
        reply.error_text("'");
        reply.error_input(quoted(arg.of(input)));
        reply.error_text("' ");
    }
    reply.error_end();
}

/// Parses a decimal i64 as Redis does: an optional `-`, digits, no `+`, no spaces, no
/// leading zeros (but `0`).
fn integer(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) || (negative && digits == b"0") {
        return None;
    }
    let magnitude = digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `SET key value [EX seconds | PX milliseconds | KEEPTTL] [NX | XX]`.
fn set(args: &[Arg], input: &[u8], store: &mut Store<'_>, now: u64, reply: &mut Reply<'_>) {
    let (key, value) = (args[1].of(input), args[2].of(input));
    let mut expiry: Option<Expiry> = None; // None: no option; Some(e): EX, PX or KEEPTTL.
    let mut keep_ttl = false;
    let (mut nx, mut xx) = (false, false);
    let mut i = 3;
    // Bounded: each round takes one or two arguments.
    while i < args.len() {
        let option = args[i].of(input);
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        if (is("EX") || is("PX")) && i + 1 < args.len() && expiry.is_none() && !keep_ttl {
            let Some(n) = integer(args[i + 1].of(input)) else {
                return reply.error(NOT_INTEGER);
            };
            let ms = if is("EX") {
                n.checked_mul(1000)
            } else {
                Some(n)
            };
            let at = ms
                .filter(|&ms| ms > 0)
                .and_then(|ms| now.checked_add(ms as u64));
            let Some(at) = at else {
                return reply.error("ERR invalid expire time in 'set' command");
            };
            expiry = Some(Some(at));
            i += 2;
        } else if is("KEEPTTL") && expiry.is_none() {
            keep_ttl = true;
            i += 1;
        } else if is("NX") && !xx {
            nx = true;
            i += 1;
        } else if is("XX") && !nx {
            xx = true;
            i += 1;
        } else {
            return reply.error("ERR syntax error");
        }
    }
    let held = store.get(key, now);
    if (nx && held.is_some()) || (xx && held.is_none()) {
        return reply.nil();
    }
    let expires = match (expiry, keep_ttl) {
        (Some(e), _) => e,
        (None, true) => held.and_then(|item| item.expires()),
        (None, false) => None,
    };
    match store.set(key, &[value], expires) {
        Ok(()) => reply.simple("OK"),
        Err(Full) => reply.error(OOM),
    }
}

/// `INCR`, `DECR`, `INCRBY`, `DECRBY`: the value as an i64, plus `by`; the key's expiry
/// kept.
fn add(key: &[u8], by: i64, store: &mut Store<'_>, now: u64, reply: &mut Reply<'_>) {
    let (current, expires) = match store.get(key, now) {
        None => (0, None),
        Some(item) if item.value_len() > 20 => return reply.error(NOT_INTEGER),
        Some(item) => {
            let mut digits = [0u8; 20];
            let value = &mut digits[..item.value_len()];
            store.copy_value(&item, value);
            match integer(value) {
                Some(n) => (n, item.expires()),
                None => return reply.error(NOT_INTEGER),
            }
        }
    };
    let Some(next) = current.checked_add(by) else {
        return reply.error("ERR increment or decrement would overflow");
    };
    let mut text = itoa::Buffer::new();
    match store.set(key, &[text.format(next).as_bytes()], expires) {
        Ok(()) => reply.integer(next),
        Err(Full) => reply.error(OOM),
    }
}

/// `MSET key value [key value ...]`: all or nothing.
fn mset(args: &[Arg], input: &[u8], store: &mut Store<'_>, reply: &mut Reply<'_>) {
    let pairs = args[1..].chunks_exact(2);
    // Counted as if every key were new and gave no block back: what fits then fits anyway.
    let blocks: usize = pairs
        .clone()
        .map(|p| Store::blocks_needed(p[0].len as usize, p[1].len as usize))
        .sum();
    if blocks > store.free_blocks() || store.len() + pairs.len() > store.max_keys() {
        return reply.error(OOM);
    }
    for pair in pairs {
        let set = store.set(pair[0].of(input), &[pair[1].of(input)], None);
        assert!(set.is_ok(), "an MSET checked for room ran out of it");
    }
    reply.simple("OK");
}

/// `HELLO [2]`: who answers, in RESP2 (the only protocol served).
fn hello(reply: &mut Reply<'_>) {
    reply.array(12);
    for (field, value) in [("server", "zzz-kv"), ("version", env!("CARGO_PKG_VERSION"))] {
        reply.bulk(field.as_bytes());
        reply.bulk(value.as_bytes());
    }
    reply.bulk(b"proto");
    reply.integer(2);
    for (field, value) in [("mode", "standalone"), ("role", "master")] {
        reply.bulk(field.as_bytes());
        reply.bulk(value.as_bytes());
    }
    reply.bulk(b"modules");
    reply.array(0);
}

/// `CONFIG GET parameter`: what `redis-benchmark` asks before it starts (`save`,
/// `appendonly`): this server neither saves nor appends. Other parameters: none.
fn config(args: &[Arg], input: &[u8], reply: &mut Reply<'_>) {
    let sub = args[1].of(input);
    if !sub.eq_ignore_ascii_case(b"GET") || args.len() != 3 {
        return reply.error("ERR CONFIG: only CONFIG GET parameter is served");
    }
    let param = args[2].of(input);
    let value: &[u8] = if param.eq_ignore_ascii_case(b"save") {
        b""
    } else if param.eq_ignore_ascii_case(b"appendonly") {
        b"no"
    } else {
        return reply.array(0);
    };
    reply.array(2);
    reply.bulk(param);
    reply.bulk(value);
}
