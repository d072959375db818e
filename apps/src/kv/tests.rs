//! The module through a server, driven by a scripted in-memory client: every command and
//! reply, pipelining, expiry on the server's clock, the limits, and malformed input.

use std::collections::VecDeque;
use std::string::String;
use std::vec::Vec;

use zzz_core::{App, Config, Event, Instant, Now, Op, PeerAddr, Server, SlotId, Sole};

use super::Kv;
use super::store::Capacity;

/// One server, one client at a time, a clock the test moves.
struct Driver {
    server: Server<'static, (), Kv>,
    now: Now,
    inbound: VecDeque<u8>,
    output: Vec<u8>,
    recv_posted: bool,
    shut: bool,
    closed: bool,
    slot: SlotId,
    /// The send posted and not completed yet.
    sending: Option<SlotId>,
    /// Sends wait (the client reads nothing) while set.
    hold_sends: bool,
    /// The client's EOF follows its bytes.
    eof: bool,
    eof_delivered: bool,
}

fn config() -> Config {
    let mut config = Config::DEFAULT;
    config.max_connections = 2;
    config.recv_buffer = 1024;
    config.send_buffer = 1024;
    // The configuration carries HTTP's limits too, checked against the buffers.
    config.limits.max_head = 1024;
    config.limits.max_request_line = 512;
    config
}

impl Driver {
    fn new(config: Config, capacity: Capacity) -> Driver {
        Driver::serving(config, Kv::new(capacity, 42))
    }

    fn serving(config: Config, kv: Kv) -> Driver {
        let app = App::with_modules((), kv);
        let region: &'static mut [u8] = std::vec![0u8; app.memory(&config).total].leak();
        let now = Now {
            monotonic: Instant(1_000),
            unix_secs: 0,
        };
        let mut server = Server::new(config, app, region, now).unwrap();
        let slot = server
            .handle(Event::Accepted {
                protocol: Sole,
                peer: PeerAddr::Local,
            })
            .accepted()
            .unwrap();
        let mut d = Driver {
            server,
            now,
            inbound: VecDeque::new(),
            output: Vec::new(),
            recv_posted: false,
            shut: false,
            closed: false,
            slot,
            sending: None,
            hold_sends: false,
            eof: false,
            eof_delivered: false,
        };
        d.run();
        d
    }

    fn standard() -> Driver {
        Driver::new(
            config(),
            Capacity {
                keys: 64,
                bytes: 16 * 1024,
            },
        )
    }

    /// Performs what the server asks until it waits on the client. A send completes only
    /// once the server has nothing more to ask, as a kernel's would, later: so a receive
    /// the server asks for meanwhile is posted with the output still queued.
    fn run(&mut self) {
        for _ in 0..10_000 {
            if let Some(op) = self.server.poll_op() {
                match op {
                    Op::Recv(_) => self.recv_posted = true,
                    Op::Send(slot) => self.sending = Some(slot),
                    Op::Shutdown(_) => self.shut = true,
                    Op::Close(slot) => {
                        self.closed = true;
                        self.recv_posted = false;
                        let _ = self.server.handle(Event::Closed { slot });
                    }
                    Op::SendDatagram(_) => unreachable!(),
                }
                continue;
            }
            if let Some(slot) = self.sending.filter(|_| !self.hold_sends) {
                self.sending = None;
                let [a, b] = self.server.send_parts(slot);
                let n = a.len() + b.len();
                self.output.extend_from_slice(a);
                self.output.extend_from_slice(b);
                let _ = self.server.handle(Event::Sent { slot, n });
                continue;
            }
            if self.recv_posted && !self.inbound.is_empty() && !self.closed {
                let buf = self.server.recv_buffer(self.slot);
                assert!(!buf.is_empty(), "a receive posted into no room");
                let n = buf.len().min(self.inbound.len());
                for (b, byte) in buf.iter_mut().zip(self.inbound.drain(..n)) {
                    *b = byte;
                }
                self.recv_posted = false;
                let _ = self.server.handle(Event::Received { slot: self.slot, n });
                continue;
            }
            if self.recv_posted && self.eof && !self.eof_delivered && !self.closed {
                self.recv_posted = false;
                self.eof_delivered = true;
                let _ = self.server.handle(Event::Received {
                    slot: self.slot,
                    n: 0,
                });
                continue;
            }
            return;
        }
        panic!("the server never waited");
    }

    fn send(&mut self, bytes: &[u8]) -> String {
        self.inbound.extend(bytes);
        self.run();
        String::from_utf8(std::mem::take(&mut self.output)).unwrap()
    }

    /// Sends a command as an array of bulk strings; returns every reply so far.
    fn command(&mut self, args: &[&str]) -> String {
        self.send(&encode(args))
    }

    fn advance(&mut self, ms: u64) {
        self.now.monotonic = self.now.monotonic.after_ms(ms);
        let _ = self.server.handle(Event::Tick(self.now));
        self.run();
    }
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = std::format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(std::format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

#[test]
fn ping_echo_and_the_inline_form() {
    let mut d = Driver::standard();
    assert_eq!(d.command(&["PING"]), "+PONG\r\n");
    assert_eq!(d.command(&["ping", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(d.command(&["ECHO", "a b\r\nc"]), "$6\r\na b\r\nc\r\n");
    assert_eq!(d.send(b"PING\r\n"), "+PONG\r\n");
    assert_eq!(d.send(b"echo  word\n"), "$4\r\nword\r\n");
    assert_eq!(d.send(b"\r\n"), "", "an empty line is skipped");
}

/// Redis skips empty lines between commands, however many: a run of one-byte lines longer
/// than half the input once left the command after it unserved.
#[test]
fn a_command_after_a_run_of_empty_lines_is_answered() {
    let mut d = Driver::standard();
    let mut input = b"\n".repeat(300);
    input.extend_from_slice(b"PING\r\n");
    assert_eq!(d.send(&input), "+PONG\r\n");
    let mut input = b"\r\n".repeat(200);
    input.extend_from_slice(&encode(&["ECHO", "after"]));
    assert_eq!(d.send(&input), "$5\r\nafter\r\n");
}

#[test]
fn set_get_del_exists_dbsize_flushall() {
    let mut d = Driver::standard();
    assert_eq!(d.command(&["GET", "k"]), "$-1\r\n");
    assert_eq!(d.command(&["SET", "k", "v1"]), "+OK\r\n");
    assert_eq!(d.command(&["GET", "k"]), "$2\r\nv1\r\n");
    assert_eq!(d.command(&["SET", "k", "v2", "NX"]), "$-1\r\n");
    assert_eq!(d.command(&["SET", "j", "x", "XX"]), "$-1\r\n");
    assert_eq!(d.command(&["SET", "k", "v2", "XX"]), "+OK\r\n");
    assert_eq!(d.command(&["EXISTS", "k", "k", "nope"]), ":2\r\n");
    assert_eq!(d.command(&["DBSIZE"]), ":1\r\n");
    assert_eq!(d.command(&["DEL", "k", "nope"]), ":1\r\n");
    assert_eq!(d.command(&["DEL", "k"]), ":0\r\n");
    assert_eq!(d.command(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
    assert_eq!(
        d.command(&["MGET", "a", "nope", "b"]),
        "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
    );
    assert_eq!(d.command(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(d.command(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn incr_counts_and_refuses_what_is_not_an_integer() {
    let mut d = Driver::standard();
    assert_eq!(d.command(&["INCR", "n"]), ":1\r\n");
    assert_eq!(d.command(&["INCR", "n"]), ":2\r\n");
    assert_eq!(d.command(&["SET", "n", "-10"]), "+OK\r\n");
    assert_eq!(d.command(&["INCR", "n"]), ":-9\r\n");
    let not_integer = "-ERR value is not an integer or out of range\r\n";
    for bad in [
        "x",
        "01",
        "+1",
        " 1",
        "1.5",
        "",
        "-0",
        "99999999999999999999",
    ] {
        d.command(&["SET", "n", bad]);
        assert_eq!(d.command(&["INCR", "n"]), not_integer, "{bad:?}");
    }
    d.command(&["SET", "n", "9223372036854775807"]);
    assert_eq!(
        d.command(&["INCR", "n"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    d.command(&["SET", "n", "10"]);
    assert_eq!(d.command(&["INCRBY", "n", "-15"]), ":-5\r\n");
    assert_eq!(d.command(&["DECR", "n"]), ":-6\r\n");
    assert_eq!(d.command(&["DECRBY", "n", "4"]), ":-10\r\n");
    assert_eq!(d.command(&["DECRBY", "n", "x"]), not_integer);
    assert_eq!(
        d.command(&["DECRBY", "n", "-9223372036854775808"]),
        "-ERR decrement would overflow\r\n"
    );
}

#[test]
fn keys_expire_on_the_servers_clock() {
    let mut d = Driver::standard();
    d.command(&["SET", "px", "v", "PX", "250"]);
    d.command(&["SET", "ex", "v", "EX", "1"]);
    d.command(&["SET", "kept", "v", "EX", "1"]);
    d.command(&["INCR", "kept"]);
    assert_eq!(d.command(&["PTTL", "px"]), ":250\r\n");
    assert_eq!(d.command(&["TTL", "ex"]), ":1\r\n");
    assert_eq!(d.command(&["TTL", "nope"]), ":-2\r\n");
    d.advance(249);
    assert_eq!(
        d.command(&["GET", "px"]),
        "$1\r\nv\r\n",
        "live until its millisecond"
    );
    d.advance(1);
    assert_eq!(d.command(&["GET", "px"]), "$-1\r\n");
    assert_eq!(d.command(&["DBSIZE"]), ":2\r\n");
    // The sweep, not an access, removes the other two: INCR kept the expiry.
    d.advance(1000);
    assert_eq!(d.command(&["DBSIZE"]), ":0\r\n");
    assert_eq!(d.command(&["SET", "k", "v", "KEEPTTL"]), "+OK\r\n");
    assert_eq!(d.command(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(
        d.command(&["SET", "k", "v", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        d.command(&["SET", "k", "v", "EX", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        d.command(&["SET", "k", "v", "EX", "1", "PX", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        d.command(&["SET", "k", "v", "NX", "XX"]),
        "-ERR syntax error\r\n"
    );
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let mut d = Driver::standard();
    let mut batch = Vec::new();
    for i in 0..50 {
        batch.extend(encode(&[
            "SET",
            &std::format!("k{i}"),
            &std::format!("{i}"),
        ]));
        batch.extend(encode(&["GET", &std::format!("k{i}")]));
    }
    let replies = d.send(&batch);
    let mut want = String::new();
    for i in 0..50u32 {
        want.push_str("+OK\r\n");
        want.push_str(&std::format!("${}\r\n{i}\r\n", std::format!("{i}").len()));
    }
    assert_eq!(replies, want);
}

#[test]
fn replies_wait_for_room_in_the_send_buffer() {
    let mut d = Driver::standard();
    let value = "v".repeat(900);
    d.command(&["SET", "big", &value]);
    // Twenty GETs of a 900-byte value: far more than the 1024-byte send buffer holds at once.
    let batch: Vec<u8> = (0..20).flat_map(|_| encode(&["GET", "big"])).collect();
    let replies = d.send(&batch);
    assert_eq!(replies, std::format!("$900\r\n{value}\r\n").repeat(20));
}

/// A client that pipelines commands and half-closes at once is owed every reply: commands
/// waiting for room in the send buffer when the EOF arrived were once dropped, the connection
/// closed after the replies already queued.
#[test]
fn commands_waiting_for_room_are_answered_after_the_clients_eof() {
    let mut d = Driver::standard();
    let (small, big) = ("s".repeat(400), "b".repeat(900));
    d.command(&["SET", "small", &small]);
    d.command(&["SET", "big", &big]);
    d.hold_sends = true;
    d.eof = true;
    let batch: Vec<u8> = [encode(&["GET", "small"]), encode(&["GET", "big"])].concat();
    assert_eq!(d.send(&batch), "");
    assert!(
        d.eof_delivered,
        "the EOF arrived with the second reply still waiting"
    );
    d.hold_sends = false;
    d.run();
    let replies = String::from_utf8(std::mem::take(&mut d.output)).unwrap();
    assert_eq!(
        replies,
        std::format!("$400\r\n{small}\r\n$900\r\n{big}\r\n")
    );
    assert!(d.closed, "closed once everything owed is sent");
}

/// A receive buffer exactly full of whole commands, every one waiting for room to answer:
/// each is answered as the output drains, and the input after them is read on.
#[test]
fn a_receive_buffer_full_of_commands_waiting_for_room() {
    let mut d = Driver::standard();
    let key = "twelve-bytes";
    let value = "v".repeat(900);
    d.command(&["SET", key, &value]);
    let get = encode(&["GET", key]);
    assert_eq!(config().recv_buffer as usize % get.len(), 0);
    let batch: Vec<u8> = (0..64).flat_map(|_| get.clone()).collect();
    assert_eq!(
        d.send(&batch),
        std::format!("$900\r\n{value}\r\n").repeat(64)
    );
}

/// A command cut by the end of a full receive buffer, behind a reply that fills the send
/// buffer: its rest is read once the reply is sent, and it is served whole.
#[test]
fn a_command_cut_by_a_full_receive_buffer() {
    let mut d = Driver::standard();
    let value = "v".repeat(900);
    d.command(&["SET", "big", &value]);
    let mut batch = encode(&["GET", "big"]);
    let filler = "f".repeat(config().recv_buffer as usize - batch.len() - 20);
    batch.extend(encode(&["SET", "k", &filler]));
    assert!(batch.len() > config().recv_buffer as usize);
    batch.extend(encode(&["GET", "k"]));
    let want = std::format!(
        "$900\r\n{value}\r\n+OK\r\n${}\r\n{filler}\r\n",
        filler.len()
    );
    assert_eq!(d.send(&batch), want);
}

#[test]
fn unknown_commands_and_wrong_arities_get_redis_errors() {
    let mut d = Driver::standard();
    assert_eq!(
        d.command(&["NOPE", "a", "b"]),
        "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n"
    );
    // Named in lower case, as Redis's command table names it, however it was typed.
    assert_eq!(
        d.command(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        d.command(&["mSeT", "a"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        d.command(&["FlushDB", "a", "b"]),
        "-ERR wrong number of arguments for 'flushdb' command\r\n"
    );
    assert_eq!(d.command(&["PING"]), "+PONG\r\n", "the connection goes on");
}

#[test]
fn malformed_resp_is_answered_and_closed() {
    let mut d = Driver::standard();
    assert_eq!(
        d.send(b"*1\r\n$x\r\n"),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(d.shut, "closed after the error, gracefully");
}

/// The error answering malformed input queues behind the replies before it, as any reply
/// does: it once was dropped when those filled the send buffer, and the connection closed
/// without it.
#[test]
fn a_protocol_error_waits_for_room_behind_earlier_replies() {
    let mut d = Driver::standard();
    let value = "v".repeat(900);
    d.command(&["SET", "big", &value]);
    let mut batch: Vec<u8> = (0..3).flat_map(|_| encode(&["GET", "big"])).collect();
    batch.extend_from_slice(b"*x\r\n");
    let mut want = std::format!("$900\r\n{value}\r\n").repeat(3);
    want.push_str("-ERR Protocol error: invalid multibulk length\r\n");
    assert_eq!(d.send(&batch), want);
    assert!(d.shut, "closed after the error");
    // A command too long for the receive buffer, behind replies that fill the send buffer.
    let mut d = Driver::standard();
    d.command(&["SET", "big", &value]);
    let mut batch: Vec<u8> = (0..3).flat_map(|_| encode(&["GET", "big"])).collect();
    batch.extend_from_slice(std::format!("SET k {}\r\n", "x".repeat(2000)).as_bytes());
    let mut want = std::format!("$900\r\n{value}\r\n").repeat(3);
    want.push_str("-ERR Protocol error: command larger than the receive buffer\r\n");
    assert_eq!(d.send(&batch), want);
    assert!(d.shut);
}

#[test]
fn a_command_larger_than_the_receive_buffer_is_refused() {
    let mut d = Driver::standard();
    let long = "x".repeat(2000);
    let reply = d.send(std::format!("SET k {long}\r\n").as_bytes());
    assert_eq!(
        reply,
        "-ERR Protocol error: command larger than the receive buffer\r\n"
    );
    assert!(d.shut);
}

#[test]
fn a_full_store_answers_oom_and_allocates_nothing() {
    let mut d = Driver::new(
        config(),
        Capacity {
            keys: 2,
            bytes: 1024,
        },
    );
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert_eq!(d.command(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(d.command(&["SET", "b", "1"]), "+OK\r\n");
    assert_eq!(d.command(&["SET", "c", "1"]), oom, "one key past the limit");
    assert_eq!(
        d.command(&["MSET", "a", "2", "c", "2"]),
        oom,
        "all or nothing"
    );
    assert_eq!(d.command(&["GET", "a"]), "$1\r\n1\r\n");
}

#[test]
fn a_value_is_at_most_what_a_get_of_it_can_answer() {
    let mut config = config();
    config.recv_buffer = 4096;
    let mut d = Driver::new(
        config,
        Capacity {
            keys: 4,
            bytes: 8192,
        },
    );
    // `$1015\r\n` + 1015 bytes + `\r\n` is the 1024-byte send buffer, exactly.
    let at_limit = "x".repeat(1015);
    assert_eq!(d.command(&["SET", "k", &at_limit]), "+OK\r\n");
    assert_eq!(
        d.command(&["GET", "k"]),
        std::format!("$1015\r\n{at_limit}\r\n")
    );
    assert_eq!(
        d.command(&["SET", "k", &"y".repeat(1016)]),
        "-ERR value longer than the send buffer can answer\r\n"
    );
    // A bulk string longer than the receive buffer can never arrive.
    assert_eq!(
        d.command(&["SET", "k", &"z".repeat(5000)]),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(d.shut);
}

/// Just past a power of ten, the longest value's length has a digit fewer than the send
/// buffer's size: `$9995\r\n` + 9,995 bytes + `\r\n` fills 10,004 bytes exactly. It was once
/// refused, the limit counted with the buffer size's five digits.
#[test]
fn the_longest_value_at_a_power_of_ten() {
    let mut config = config();
    config.send_buffer = 10_004;
    config.recv_buffer = 12_000;
    config.large_buffer_size = 12_000;
    config.limits.max_body = 12_000;
    let mut d = Driver::new(
        config,
        Capacity {
            keys: 4,
            bytes: 32 * 1024,
        },
    );
    let at_limit = "x".repeat(9995);
    assert_eq!(d.command(&["SET", "k", &at_limit]), "+OK\r\n");
    assert_eq!(
        d.command(&["GET", "k"]),
        std::format!("$9995\r\n{at_limit}\r\n")
    );
    assert_eq!(
        d.command(&["SET", "k", &"y".repeat(9996)]),
        "-ERR value longer than the send buffer can answer\r\n"
    );
}

#[test]
fn a_stalled_command_times_out() {
    let mut d = Driver::standard();
    assert_eq!(d.send(b"*2\r\n$4\r\nECHO\r\n"), "");
    d.advance(config().timeouts.head_ms + 1);
    assert!(
        d.closed,
        "closed: a command must arrive whole within head_ms"
    );
}

/// A client that connects and never sends a byte is idle from its accept: the idle timeout
/// closes it (it once had no deadline at all until its first byte, and stayed for ever).
#[test]
fn a_silent_connection_is_closed_by_the_idle_timeout() {
    let capacity = Capacity {
        keys: 4,
        bytes: 1024,
    };
    let mut d = Driver::serving(config(), Kv::new(capacity, 42).idle_ms(1000));
    d.advance(999);
    assert!(!d.closed, "idle for less than the timeout");
    d.advance(1 + config().timer_tick_ms as u64);
    assert!(d.closed, "idle for the timeout since its accept");
    // Once it has spoken, the timeout counts from its last activity.
    let mut d = Driver::serving(config(), Kv::new(capacity, 42).idle_ms(1000));
    d.advance(600);
    assert_eq!(d.command(&["PING"]), "+PONG\r\n");
    d.advance(600);
    assert!(!d.closed, "600 ms after its last command");
    d.advance(400 + config().timer_tick_ms as u64);
    assert!(d.closed);
}

#[test]
fn quit_answers_and_closes() {
    let mut d = Driver::standard();
    assert_eq!(d.command(&["QUIT"]), "+OK\r\n");
    assert!(d.shut);
}

#[test]
fn what_redis_clients_ask_first_is_answered() {
    let mut d = Driver::standard();
    assert_eq!(d.command(&["COMMAND", "DOCS"]), "*0\r\n");
    assert_eq!(
        d.command(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    assert_eq!(d.command(&["CONFIG", "GET", "maxmemory"]), "*0\r\n");
    assert_eq!(d.command(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(
        d.command(&["HELLO", "3"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert!(
        d.command(&["HELLO", "2"])
            .starts_with("*12\r\n$6\r\nserver\r\n$6\r\nzzz-kv\r\n")
    );
    assert_eq!(
        d.command(&["SELECT", "1"]),
        "-ERR DB index is out of range\r\n"
    );
}

/// Commands far larger than their replies, pipelined past the receive buffer: a command cut
/// by the buffer's end waits for the rest of it with the output nearly empty.
#[test]
fn pipelined_commands_straddling_the_receive_buffer() {
    let mut d = Driver::standard();
    let value = "v".repeat(100);
    let batch: Vec<u8> = (0..40)
        .flat_map(|i| encode(&["SET", &std::format!("key{i}"), &value]))
        .collect();
    assert!(batch.len() > 4 * config().recv_buffer as usize);
    assert_eq!(d.send(&batch), "+OK\r\n".repeat(40));
    assert_eq!(d.command(&["DBSIZE"]), ":40\r\n");
}
