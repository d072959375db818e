//! The run's trace: one readable line per event, hashed as it is written (FNV-1a, 64 bits),
//! so that two runs of a seed can be compared by one number. The last lines are kept in a
//! ring for the failure report; the whole trace only on request.

use std::fmt::Write;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A 64-bit FNV-1a hash, fed incrementally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(FNV_OFFSET)
    }
}

impl Fnv {
    /// Feeds bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(FNV_PRIME);
        }
    }

    /// Feeds a number.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
}

/// How much of the trace to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Keep {
    /// Only the last lines, for a failure report.
    #[default]
    Tail,
    /// Every line, in memory.
    All,
    /// Every line, printed to standard output as it happens.
    Print,
}

/// Lines kept for the failure report.
pub const TAIL_LINES: usize = 400;

/// The trace of one run.
#[derive(Debug)]
pub struct Trace {
    hash: Fnv,
    lines: u64,
    line: String,
    ring: Vec<String>,
    ring_next: usize,
    all: Vec<String>,
    keep: Keep,
}

impl Trace {
    /// An empty trace.
    pub fn new(keep: Keep) -> Trace {
        Trace {
            hash: Fnv::default(),
            lines: 0,
            line: String::with_capacity(256),
            ring: Vec::with_capacity(TAIL_LINES),
            ring_next: 0,
            all: Vec::new(),
            keep,
        }
    }

    /// Appends one line (without its newline).
    pub fn line(&mut self, args: std::fmt::Arguments<'_>) {
        self.line.clear();
        let _ = self.line.write_fmt(args);
        self.hash.bytes(self.line.as_bytes());
        self.hash.bytes(b"\n");
        self.lines += 1;
        match self.keep {
            Keep::All => self.all.push(self.line.clone()),
            Keep::Print => println!("{}", self.line),
            Keep::Tail => {}
        }
        if self.ring.len() < TAIL_LINES {
            self.ring.push(self.line.clone());
        } else {
            self.ring[self.ring_next].clear();
            self.ring[self.ring_next].push_str(&self.line);
        }
        self.ring_next = (self.ring_next + 1) % TAIL_LINES;
    }

    /// The hash of every line so far.
    pub fn hash(&self) -> u64 {
        self.hash.0
    }

    /// Lines so far.
    pub fn len(&self) -> u64 {
        self.lines
    }

    /// Whether nothing was traced.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The last lines, oldest first.
    pub fn tail(&self) -> Vec<String> {
        if self.ring.len() < TAIL_LINES {
            return self.ring.clone();
        }
        let mut out = self.ring[self.ring_next..].to_vec();
        out.extend_from_slice(&self.ring[..self.ring_next]);
        out
    }

    /// Every line, when kept ([`Keep::All`]).
    pub fn take_all(&mut self) -> Vec<String> {
        std::mem::take(&mut self.all)
    }
}
