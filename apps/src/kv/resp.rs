//! RESP2, the Redis serialization protocol, as a server reads and writes it.
//!
//! Requests are arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client
//! library sends) or inline commands (`GET k\r\n`, what a person types into telnet: words
//! separated by spaces or tabs; quoting is not supported). Replies are the five RESP2 types:
//! simple strings, errors, integers, bulk strings (and the nil bulk), arrays.
//!
//! Parsing is resumable at no cost: a command is parsed again from its start when more of it
//! arrives, but that only reads the headers of its arguments (their bytes are skipped by
//! length), and an inline command's line is searched for its end only in the bytes that
//! arrived since the last search.

/// The most arguments a command may have, its name included (`MSET` of 31 pairs).
pub const MAX_ARGS: usize = 64;

/// The longest header of an array or a bulk string (`*`, `$` and the digits), CRLF included.
const MAX_HEADER: usize = 24;

/// Where an argument lies in the input.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Arg {
    /// Its first byte.
    pub start: u32,
    /// Its length.
    pub len: u32,
}

impl Arg {
    /// Its bytes in `input`.
    pub fn of<'i>(&self, input: &'i [u8]) -> &'i [u8] {
        &input[self.start as usize..(self.start + self.len) as usize]
    }
}

/// A command: its arguments (the name first) and the bytes of input it took.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// The arguments; the first `argc` are set.
    pub args: [Arg; MAX_ARGS],
    /// How many arguments.
    pub argc: usize,
    /// Bytes of input the command took.
    pub len: usize,
}

impl Command {
    /// The arguments that are set.
    pub fn args(&self) -> &[Arg] {
        &self.args[..self.argc]
    }
}

/// Why the input is not RESP: the connection is answered with the error and closed, as Redis
/// does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProtocolError {
    /// An array header that is not `*` and a decimal count.
    BadArrayLength,
    /// More than [`MAX_ARGS`] arguments.
    TooManyArgs,
    /// An array element that is not a bulk string (`$`).
    ExpectedBulk,
    /// A bulk header that is not `$` and a decimal length, or a length past the receive buffer.
    BadBulkLength,
    /// A bulk string not followed by CRLF.
    MissingCrlf,
    /// A command that does not fit the receive buffer.
    TooLarge,
}

impl ProtocolError {
    /// The error reply's text (after `-`).
    pub fn message(self) -> &'static str {
        match self {
            ProtocolError::BadArrayLength => "ERR Protocol error: invalid multibulk length",
            ProtocolError::TooManyArgs => "ERR Protocol error: too many arguments (at most 64)",
            ProtocolError::ExpectedBulk => "ERR Protocol error: expected '$'",
            ProtocolError::BadBulkLength => "ERR Protocol error: invalid bulk length",
            ProtocolError::MissingCrlf => "ERR Protocol error: expected CRLF after a bulk string",
            ProtocolError::TooLarge => "ERR Protocol error: command larger than the receive buffer",
        }
    }
}

/// What the input holds.
// A command's argument table travels by value, once per command: there is no heap to box it
// into, and the caller keeps it on its stack anyway.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum Parsed {
    /// A whole command.
    Command(Command),
    /// Bytes that make no command (an empty line, an empty array): skip them.
    Nothing(usize),
    /// The start of a command: wait for more. `searched` is how far an inline command's line
    /// was searched for its end without finding it.
    Partial {
        /// Bytes searched.
        searched: usize,
    },
    /// Not RESP.
    Error(ProtocolError),
}

/// Parses the command at the start of `input`. `searched` is what the last call on this
/// input said (0 at first). `limit` is the longest a bulk string may be (the receive buffer).
pub fn parse(input: &[u8], searched: usize, limit: usize) -> Parsed {
    match input.first() {
        None => Parsed::Partial { searched: 0 },
        Some(b'*') => parse_array(input, limit),
        Some(_) => parse_inline(input, searched),
    }
}

/// A decimal header line (`*12\r\n`, `$3\r\n`) at `input[at..]`: its value (negative allowed
/// for arrays and nil bulk strings) and where it ends, `None` if incomplete.
fn header(input: &[u8], at: usize) -> Result<Option<(i64, usize)>, ()> {
    let rest = &input[at + 1..];
    let window = &rest[..rest.len().min(MAX_HEADER)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        return if rest.len() >= MAX_HEADER {
            Err(())
        } else {
            Ok(None)
        };
    };
    if cr + 1 >= rest.len() {
        return Ok(None);
    }
    if rest[cr + 1] != b'\n' {
        return Err(());
    }
    let digits = &rest[..cr];
    let (negative, digits) = match digits.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let value = digits
        .iter()
        .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Ok(Some((
        if negative { -value } else { value },
        at + 1 + cr + 2,
    )))
}

fn parse_array(input: &[u8], limit: usize) -> Parsed {
    let (count, mut at) = match header(input, 0) {
        Err(()) => return Parsed::Error(ProtocolError::BadArrayLength),
        Ok(None) => return Parsed::Partial { searched: 0 },
        Ok(Some(h)) => h,
    };
    if count <= 0 {
        // An empty or null array: Redis skips it.
        return Parsed::Nothing(at);
    }
    if count as usize > MAX_ARGS {
        return Parsed::Error(ProtocolError::TooManyArgs);
    }
    let mut command = Command {
        args: [Arg::default(); MAX_ARGS],
        argc: count as usize,
        len: 0,
    };
    for arg in command.args.iter_mut().take(count as usize) {
        if at >= input.len() {
            return Parsed::Partial { searched: 0 };
        }
        if input[at] != b'$' {
            return Parsed::Error(ProtocolError::ExpectedBulk);
        }
        let (len, data) = match header(input, at) {
            Err(()) => return Parsed::Error(ProtocolError::BadBulkLength),
            Ok(None) => return Parsed::Partial { searched: 0 },
            Ok(Some(h)) => h,
        };
        if len < 0 || len as usize > limit {
            return Parsed::Error(ProtocolError::BadBulkLength);
        }
        let end = data + len as usize;
        if end + 2 > input.len() {
            return Parsed::Partial { searched: 0 };
        }
        if &input[end..end + 2] != b"\r\n" {
            return Parsed::Error(ProtocolError::MissingCrlf);
        }
        *arg = Arg {
            start: data as u32,
            len: len as u32,
        };
        at = end + 2;
    }
    command.len = at;
    Parsed::Command(command)
}

fn parse_inline(input: &[u8], searched: usize) -> Parsed {
    let from = searched.min(input.len());
    let Some(newline) = input[from..].iter().position(|&b| b == b'\n') else {
        return Parsed::Partial {
            searched: input.len(),
        };
    };
    let end = from + newline;
    let line = &input[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut command = Command {
        args: [Arg::default(); MAX_ARGS],
        argc: 0,
        len: end + 1,
    };
    let mut at = 0;
    // Bounded: each round takes a word, or ends the line.
    for _ in 0..=line.len() {
        let Some(start) = line[at..].iter().position(|&b| b != b' ' && b != b'\t') else {
            break;
        };
        let start = at + start;
        let len = line[start..]
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(line.len() - start);
        if command.argc == MAX_ARGS {
            return Parsed::Error(ProtocolError::TooManyArgs);
        }
        command.args[command.argc] = Arg {
            start: start as u32,
            len: len as u32,
        };
        command.argc += 1;
        at = start + len;
    }
    if command.argc == 0 {
        return Parsed::Nothing(end + 1);
    }
    Parsed::Command(command)
}

/// Writes replies into a buffer. Every write fits: the caller checks the room first
/// ([`Reply::fits`]); a write past the end is a bug.
#[derive(Debug)]
pub struct Reply<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl<'o> Reply<'o> {
    /// Replies into `out`.
    pub fn new(out: &'o mut [u8]) -> Reply<'o> {
        Reply { out, len: 0 }
    }

    /// Bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `n` more bytes fit.
    pub fn fits(&self, n: usize) -> bool {
        self.len + n <= self.out.len()
    }

    fn put(&mut self, bytes: &[u8]) {
        assert!(
            self.fits(bytes.len()),
            "a reply past the room checked for it"
        );
        self.out[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn line(&mut self, kind: u8, n: i64) {
        let mut digits = itoa::Buffer::new();
        self.put(&[kind]);
        self.put(digits.format(n).as_bytes());
        self.put(b"\r\n");
    }

    /// `+text`.
    pub fn simple(&mut self, text: &str) {
        self.put(b"+");
        self.put(text.as_bytes());
        self.put(b"\r\n");
    }

    /// `-message`, a whole error reply (the message holds no CR or LF).
    pub fn error(&mut self, message: &str) {
        self.error_start();
        self.error_text(message);
        self.error_end();
    }

    /// Starts an error reply, written in pieces: [`Reply::error_text`],
    /// [`Reply::error_input`], then [`Reply::error_end`].
    pub fn error_start(&mut self) {
        self.put(b"-");
    }

    /// A piece of an error's message (holding no CR or LF).
    pub fn error_text(&mut self, text: &str) {
        self.put(text.as_bytes());
    }

    /// Input quoted in an error's message, its CR and LF made spaces.
    pub fn error_input(&mut self, input: &[u8]) {
        for &b in input {
            self.put(&[if b == b'\r' || b == b'\n' { b' ' } else { b }]);
        }
    }

    /// Ends an error reply.
    pub fn error_end(&mut self) {
        self.put(b"\r\n");
    }

    /// `:n`.
    pub fn integer(&mut self, n: i64) {
        self.line(b':', n);
    }

    /// `$len` and the bytes.
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.line(b'$', bytes.len() as i64);
        self.put(bytes);
        self.put(b"\r\n");
    }

    /// A bulk string of `len` bytes written by `fill` into the slice it is given.
    pub fn bulk_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) {
        self.line(b'$', len as i64);
        assert!(self.fits(len + 2), "a reply past the room checked for it");
        fill(&mut self.out[self.len..self.len + len]);
        self.len += len;
        self.put(b"\r\n");
    }

    /// `$-1`, the nil bulk string.
    pub fn nil(&mut self) {
        self.put(b"$-1\r\n");
    }

    /// `*n`, an array of the `n` replies that follow.
    pub fn array(&mut self, n: usize) {
        self.line(b'*', n as i64);
    }
}

/// Bytes of a bulk string reply of `len` bytes.
pub const fn bulk_size(len: usize) -> usize {
    1 + decimal_digits(len as u64) + 2 + len + 2
}

/// The longest bulk string whose reply fits `room` bytes (at least 6, an empty one's): its
/// framing counts its own length's digits, which may be one fewer than `room` has.
pub const fn longest_bulk(room: usize) -> usize {
    let mut len = room - (bulk_size(room) - room);
    // Bounded: the framing shrinks by a byte per digit the length loses, at most 20 digits.
    while bulk_size(len + 1) <= room {
        len += 1;
    }
    len
}

/// Bytes of an integer or array-header reply for `n` (`:n\r\n`).
pub const fn line_size(n: i64) -> usize {
    1 + (n < 0) as usize + decimal_digits(n.unsigned_abs()) + 2
}

const fn decimal_digits(mut n: u64) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(input: &[u8]) -> std::vec::Vec<&[u8]> {
        match parse(input, 0, 1 << 20) {
            Parsed::Command(c) => c.args().iter().map(|a| a.of(input)).collect(),
            other => panic!("{other:?}"),
        }
    }

    extern crate std;

    #[test]
    fn an_array_of_bulk_strings() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\nrest";
        assert_eq!(command(input), [&b"SET"[..], b"k", b""]);
        let Parsed::Command(c) = parse(input, 0, 100) else {
            panic!()
        };
        assert_eq!(&input[c.len..], b"rest");
    }

    #[test]
    fn an_inline_command() {
        assert_eq!(command(b"  get\tkey  \r\n"), [&b"get"[..], b"key"]);
        assert_eq!(command(b"PING\n"), [&b"PING"[..]]);
        assert!(matches!(parse(b"\r\n", 0, 100), Parsed::Nothing(2)));
        assert!(matches!(parse(b"*0\r\n", 0, 100), Parsed::Nothing(4)));
    }

    #[test]
    fn every_prefix_of_a_command_is_partial() {
        let input = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
        for n in 0..input.len() {
            assert!(
                matches!(parse(&input[..n], 0, 100), Parsed::Partial { .. }),
                "{n} bytes"
            );
        }
        let inline = b"ECHO hello\r\n";
        let mut searched = 0;
        for n in 0..inline.len() {
            match parse(&inline[..n], searched, 100) {
                Parsed::Partial { searched: s } => searched = s,
                other => panic!("{n} bytes: {other:?}"),
            }
        }
        assert!(matches!(parse(inline, searched, 100), Parsed::Command(_)));
    }

    #[test]
    fn malformed_input_is_a_protocol_error() {
        for (input, error) in [
            (&b"*x\r\n"[..], ProtocolError::BadArrayLength),
            (b"*65\r\n", ProtocolError::TooManyArgs),
            (b"*1\r\n:1\r\n", ProtocolError::ExpectedBulk),
            (b"*1\r\n$-1\r\n", ProtocolError::BadBulkLength),
            (b"*1\r\n$101\r\n", ProtocolError::BadBulkLength),
            (b"*1\r\n$1\r\nab\r\n", ProtocolError::MissingCrlf),
            (
                b"*1\r\n$12345678901234567890123\r\n",
                ProtocolError::BadBulkLength,
            ),
        ] {
            assert!(
                matches!(parse(input, 0, 100), Parsed::Error(e) if e == error),
                "{:?}",
                std::string::String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn the_argument_limit_is_64() {
        let mut at_limit = std::format!("*{MAX_ARGS}\r\n");
        for _ in 0..MAX_ARGS {
            at_limit.push_str("$1\r\na\r\n");
        }
        assert!(matches!(
            parse(at_limit.as_bytes(), 0, 100),
            Parsed::Command(c) if c.argc == MAX_ARGS
        ));
        let words = "a ".repeat(MAX_ARGS) + "\n";
        assert!(matches!(
            parse(words.as_bytes(), 0, 1000),
            Parsed::Command(_)
        ));
        let past = "a ".repeat(MAX_ARGS + 1) + "\n";
        assert!(matches!(
            parse(past.as_bytes(), 0, 1000),
            Parsed::Error(ProtocolError::TooManyArgs)
        ));
    }

    #[test]
    fn the_longest_bulk_fills_its_room() {
        for room in [
            6, 13, 14, 15, 1005, 1024, 10_000, 10_004, 10_008, 10_010, 16_384,
        ] {
            let len = longest_bulk(room);
            assert!(
                bulk_size(len) <= room && bulk_size(len + 1) > room,
                "{room}"
            );
        }
    }

    #[test]
    fn replies_are_sized_exactly() {
        let mut buf = [0u8; 64];
        let mut r = Reply::new(&mut buf);
        r.bulk(b"hello");
        assert_eq!(r.len(), bulk_size(5));
        let before = r.len();
        r.integer(-12345);
        assert_eq!(r.len() - before, line_size(-12345));
        let len = r.len();
        assert_eq!(&buf[..len], b"$5\r\nhello\r\n:-12345\r\n");
    }
}
