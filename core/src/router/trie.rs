//! The index of a route table: a trie over whole path segments, built once at startup into
//! fixed arrays, and walked by a lookup one segment at a time.
//!
//! A node is a distinct prefix of the table's patterns by shape: a literal by its text, any
//! parameter alike (two patterns that differ only in parameter names are refused, so the
//! names never matter here). It holds its parameter child, the path that ends there and the
//! path whose tail starts there. Its literal children are found through one hash table for the
//! whole trie, keyed by the parent node, the segment's length and its first eight bytes read as
//! one integer ([`head`]): open addressing, at most half full, so a lookup usually reads
//! one slot and one node, whatever the node's fan-out (the GitHub API's root has 21 literal
//! children, and `/repos/{owner}/{repo}` 28). Only a literal longer than eight bytes is then
//! compared byte by byte. The same table holds every static path (all literal, no `%`) under a
//! parent no node has, keyed by its length and its first and last eight bytes: a request path
//! spelt exactly as one is its most specific match (a literal beats anything else at every
//! segment), found by one probe before any walk.
//!
//! Nodes are laid out level by level, the children of one node side by side. The build reads
//! the paths ranked by specificity: the paths under one node are then a contiguous range of
//! ranks, split into children by their segment at the node's depth (literals, then
//! parameters, then the path that ends, then the tail), so each node is made by one pass over
//! its range, without any scratch memory.
//!
//! A lookup tries, at each node, the literal child spelt by the segment, then the parameter
//! child (for a non-empty segment), then the tail; and once the path is consumed, the path
//! that ends there, then the tail. When a child's subtree holds no match it backtracks to the
//! next choice. That is the documented specificity order (a literal beats a parameter, a
//! parameter beats a tail, ending beats a tail, from the left), so the first path found is
//! the most specific. Each node is entered at most once per lookup (the segment at each depth
//! is fixed, and a node has one parent), so a lookup is bounded by the table's size; without
//! backtracking, the common case, it enters one node per segment, in a loop that does nothing
//! else (backtracking is a function of its own, out of line).

use super::PathEntry;
use super::RouteError;
use super::params::Params;
use super::pattern::{MAX_PARAMS, MAX_SEGMENTS, SegmentKind, kind_of, same_shape, segment_at};
use super::segments::{HEAD_BYTES, Segment, head, head_at, scan_segment};
use crate::http::percent::{Decode, decode_into};

/// A missing child or path, or an empty slot.
const NONE: u16 = u16::MAX;

/// The parent the table of slots files a static path under, its child being the path's rank:
/// no node has this index.
const STATIC: u16 = u16::MAX - 1;

/// The longest path segment compared against literals after percent-decoding: no literal is
/// longer ([`MAX_LITERAL`](super::MAX_LITERAL)).
const MAX_DECODED_SEGMENT: usize = super::MAX_LITERAL;

/// One node of the trie: a prefix of patterns. Indices are `u16`: a table has at most
/// [`MAX_NODES`](super::MAX_NODES) nodes and [`MAX_PATHS`](super::MAX_PATHS) paths.
#[derive(Clone, Copy, Debug)]
pub(super) struct Node {
    /// The literal segment that leads here; empty for the root and a parameter's node.
    text: &'static str,
    /// [`head`] of `text`.
    key: u64,
    /// The literal children: `nodes[literals.0..literals.0 + literals.1]`, found by the
    /// table of slots.
    literals: (u16, u16),
    /// The parameter child, or [`NONE`].
    param: u16,
    /// The rank of the path that ends here, or [`NONE`].
    end: u16,
    /// The rank of the path whose tail starts here, or [`NONE`].
    tail: u16,
    /// The ranks of the paths under this node: `first..first + count`.
    paths: (u16, u16),
    /// Segments from the root to here.
    depth: u8,
}

/// The index: its nodes, the root first, and the hash table of literal children (`SLOTS`
/// slots, of which the first `mask + 1`, a power of two, are used). See the
/// [module documentation](self).
#[derive(Debug)]
pub(super) struct Trie<const NODES: usize, const SLOTS: usize> {
    nodes: heapless::Vec<Node, NODES>,
    /// `(parent, child)` of each literal child, at the slot of its hash or after it; `NONE`
    /// children are empty slots.
    slots: [(u16, u16); SLOTS],
    /// The slots used, less one.
    mask: usize,
    /// Bit `n` set when a static path is `n` bytes long (bit 63: 63 bytes or more), so that
    /// most paths that are not static skip the probe for one.
    static_lengths: u64,
}

/// What [`Trie::walk`] found.
#[derive(Clone, Copy, Debug)]
pub(super) struct Walked {
    /// The rank of the path.
    pub(super) rank: usize,
    /// Whether the walk filled in the parameters' spans: not after backtracking, where they
    /// must be found again from the path's pattern.
    pub(super) spans: bool,
}

/// The slots a table of `literals` literal nodes uses: a power of two, at least twice as many
/// (so that a probe usually ends at the first or second slot), and at least one.
pub(super) const fn slots_for(literals: usize) -> usize {
    let wanted = 2 * literals;
    if wanted == 0 {
        1
    } else {
        wanted.next_power_of_two()
    }
}

impl<const NODES: usize, const SLOTS: usize> Trie<NODES, SLOTS> {
    /// An empty index, to be built with [`Trie::build`].
    pub(super) const fn new() -> Self {
        Trie {
            nodes: heapless::Vec::new(),
            slots: [(NONE, NONE); SLOTS],
            mask: 0,
            static_lengths: 0,
        }
    }

    /// How many nodes it holds.
    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// How many slots it uses.
    pub(super) fn slots_used(&self) -> usize {
        self.mask + 1
    }

    /// Builds the index of `paths`, ranked by specificity (strictly: their patterns are valid
    /// and of distinct shapes); more nodes than `NODES`, or more slots than `SLOTS` for the
    /// literal nodes, is [`RouteError::TooMany`].
    pub(super) fn build(&mut self, paths: &mut [PathEntry]) -> Result<(), RouteError> {
        self.nodes.clear();
        self.push(Node::new("", (0, paths.len()), 0))?;
        let mut next = 0;
        // Bounded: each turn expands one node, and there are at most NODES.
        while next < self.nodes.len() {
            self.expand(next, paths)?;
            next += 1;
        }
        self.fill_slots(paths)
    }

    fn push(&mut self, node: Node) -> Result<usize, RouteError> {
        self.nodes.push(node).map_err(|_| RouteError::TooMany {
            what: "pattern prefixes (index nodes)",
            capacity: NODES,
        })?;
        Ok(self.nodes.len() - 1)
    }

    /// Makes the children of node `at` from its range of paths: one pass, grouping the ranks
    /// that share a segment's shape at the node's depth (the ranking keeps them together).
    fn expand(&mut self, at: usize, paths: &[PathEntry]) -> Result<(), RouteError> {
        let node = self.nodes[at];
        let (first, count) = (node.paths.0 as usize, node.paths.1 as usize);
        let depth = node.depth as usize;
        let literals = self.nodes.len();
        let mut param = None;
        let mut rank = first;
        // Bounded: each turn takes at least one rank of the node's range.
        while rank < first + count {
            let Some(segment) = segment_at(paths[rank].pattern, depth) else {
                debug_assert_eq!(self.nodes[at].end, NONE, "two paths end at one node");
                self.nodes[at].end = rank as u16;
                rank += 1;
                continue;
            };
            let mut group = rank + 1;
            // Bounded: the node's range.
            while group < first + count
                && segment_at(paths[group].pattern, depth)
                    .is_some_and(|other| same_shape(segment, other))
            {
                group += 1;
            }
            let range = (rank, group - rank);
            match kind_of(segment) {
                SegmentKind::Literal => {
                    debug_assert!(param.is_none(), "a literal ranked after a parameter");
                    self.push(Node::new(segment, range, depth + 1))?;
                }
                SegmentKind::Param => param = Some(range),
                SegmentKind::Tail => {
                    debug_assert_eq!(group - rank, 1, "two tails at one node");
                    self.nodes[at].tail = rank as u16;
                }
            }
            rank = group;
        }
        self.nodes[at].literals = (literals as u16, (self.nodes.len() - literals) as u16);
        if let Some(range) = param {
            self.nodes[at].param = self.push(Node::new("", range, depth + 1))? as u16;
        }
        Ok(())
    }

    /// Puts every literal child and every static path in the table of slots, sized for
    /// their number.
    fn fill_slots(&mut self, paths: &mut [PathEntry]) -> Result<(), RouteError> {
        let literals: usize = self.nodes.iter().map(|n| n.literals.1 as usize).sum();
        let statics = paths.iter().filter(|p| is_static(p.pattern)).count();
        let used = slots_for(literals + statics);
        if used > SLOTS {
            return Err(RouteError::TooMany {
                what: "literal slots (twice the literal nodes and static paths, to a power of two)",
                capacity: SLOTS,
            });
        }
        self.mask = used - 1;
        self.slots[..used].fill((NONE, NONE));
        for parent in 0..self.nodes.len() {
            let (first, count) = self.nodes[parent].literals;
            for child in first..first + count {
                let node = &self.nodes[child as usize];
                self.file(
                    slot_of(parent, node.text.len(), node.key),
                    parent as u16,
                    child,
                );
            }
        }
        self.static_lengths = 0;
        for (rank, path) in paths.iter_mut().enumerate() {
            if is_static(path.pattern) {
                let pattern = path.pattern.as_bytes();
                self.static_lengths |= length_bit(pattern.len());
                path.ends = ends_of(pattern);
                let slot = slot_of(STATIC as usize, pattern.len(), path_key(path.ends));
                self.file(slot, STATIC, rank as u16);
            }
        }
        Ok(())
    }

    /// Puts `(parent, child)` in the first empty slot from `slot` (unmasked) on.
    fn file(&mut self, slot: usize, parent: u16, child: u16) {
        let mut slot = slot & self.mask;
        // Bounded: the table is at most half full, so an empty slot comes.
        while self.slots[slot].1 != NONE {
            slot = (slot + 1) & self.mask;
        }
        self.slots[slot] = (parent, child);
    }

    /// The invariants the lookup relies on, checked once after the build (the lookup asserts
    /// its half where it reads): children come after their parent, one level down, inside its
    /// range of paths; each literal child is found from its parent by its own text; no node
    /// is deeper than a pattern, and a path that ends or a tail lies in its node's range.
    pub(super) fn assert_built(&self, paths: &[PathEntry]) {
        let path_count = paths.len();
        assert!(!self.nodes.is_empty() && self.nodes[0].paths == (0, path_count as u16));
        for (rank, path) in paths.iter().enumerate() {
            let found = self.find_static(path.pattern.as_bytes(), paths);
            assert_eq!(
                found.is_some(),
                is_static(path.pattern),
                "a static path not found"
            );
            assert!(
                found.is_none_or(|r| r == rank),
                "a static path found as another"
            );
        }
        assert!((self.mask + 1).is_power_of_two() && self.mask < SLOTS);
        for (at, node) in self.nodes.iter().enumerate() {
            assert!(node.depth as usize <= MAX_SEGMENTS);
            let (first, count) = (node.literals.0 as usize, node.literals.1 as usize);
            assert!(count == 0 || first > at, "a child before its parent");
            assert!(
                node.param == NONE || node.param as usize > at,
                "a child before its parent"
            );
            let children = &self.nodes[first..first + count];
            let param = (node.param != NONE).then(|| &self.nodes[node.param as usize]);
            for child in children.iter().chain(param) {
                assert_eq!(child.depth, node.depth + 1);
                let (lo, n) = child.paths;
                assert!(n > 0 && lo >= node.paths.0 && lo + n <= node.paths.0 + node.paths.1);
            }
            for (i, child) in children.iter().enumerate() {
                assert_eq!(child.key, head(child.text.as_bytes()));
                let text = child.text.as_bytes();
                let found = self.find_literal_out_of_line(at, text, child.key);
                assert_eq!(
                    found,
                    Some(first + i),
                    "a literal child not found by its text"
                );
            }
            for path in [node.end, node.tail] {
                let range = node.paths.0..node.paths.0 + node.paths.1;
                assert!(
                    path == NONE || range.contains(&path),
                    "a path outside its node"
                );
            }
        }
    }

    /// Calls `reach` with the rank of every path that ends at a node or has its tail there:
    /// every path, once, in a valid index.
    pub(super) fn each_path_reached(&self, reach: &mut dyn FnMut(usize)) {
        for node in self.nodes.iter() {
            for path in [node.end, node.tail] {
                if path != NONE {
                    reach(path as usize);
                }
            }
        }
    }

    /// The rank of the most specific path matching `bytes` (a path that starts with `/`): the
    /// walk down the trie (see the [module documentation](self)); [`Trie::find_static`] finds
    /// a static path sooner. Without backtracking, the common case, the walk also fills in
    /// `spans` with where the match's parameters lie, in their order ([`Walked::spans`]).
    #[inline(always)]
    pub(super) fn walk(&self, bytes: &[u8], spans: &mut [u64; MAX_PARAMS]) -> Option<Walked> {
        // Bit `d` set when the walk took the parameter child at depth `d`: with the path, all
        // that backtracking needs to find the way back up (rebuilt then, out of line).
        let mut took_param = 0u32;
        // The parameters taken so far: every path under a parameter's node has that
        // parameter, and parameters come in depth order, so these are the match's.
        let mut params = 0;
        // The node, its depth, and where its segment starts: past the end of the path once it
        // is consumed.
        let (mut at, mut depth, mut start) = (0usize, 0usize, 1usize);
        // Down, a literal child first, else the parameter child, while the path lasts.
        // Bounded: one level a turn, and no node is deeper than MAX_SEGMENTS.
        let consumed = loop {
            let node = &self.nodes[at];
            debug_assert_eq!(node.depth as usize, depth);
            if start > bytes.len() {
                break true;
            }
            if node.literals.1 == 0 && node.param == NONE {
                break false;
            }
            let segment = scan_segment(bytes, start);
            let end = segment.end;
            let literal = if node.literals.1 != 0 {
                self.literal_child(node, at, bytes, start, segment)
            } else {
                None
            };
            let child = match literal {
                Some(child) => child,
                // A parameter matches a non-empty segment.
                None if node.param != NONE && end > start => {
                    took_param |= 1 << depth;
                    debug_assert!(params < MAX_PARAMS, "a path of more than MAX_PARAMS");
                    if let Some(span) = spans.get_mut(params) {
                        *span = Params::span(start, end);
                    }
                    params += 1;
                    node.param as usize
                }
                None => break false,
            };
            (at, depth, start) = (child, depth + 1, end + 1);
        };
        let node = &self.nodes[at];
        if consumed && node.end != NONE {
            return Some(Walked {
                rank: node.end as usize,
                spans: true,
            });
        }
        if node.tail != NONE {
            // The tail: everything from this segment on, or nothing after a consumed path.
            if let Some(span) = spans.get_mut(params) {
                *span = Params::span(start.min(bytes.len()), bytes.len());
            }
            return Some(Walked {
                rank: node.tail as usize,
                spans: true,
            });
        }
        let rank = self.backtrack(bytes, took_param, at, depth)?;
        Some(Walked { rank, spans: false })
    }

    /// [`Trie::find`] once the node `at`, at `depth`, holds no match: the rest of the walk,
    /// from its parent's next choice on. Rare (a literal child that leads nowhere where a
    /// parameter or a tail would match), so out of line.
    #[cold]
    #[inline(never)]
    fn backtrack(
        &self,
        bytes: &[u8],
        took_param: u32,
        mut at: usize,
        mut depth: usize,
    ) -> Option<usize> {
        // The node entered at each depth above the current one, and where each segment
        // starts, rebuilt from the root by the choices the walk made at each depth.
        let mut trail = [0u16; MAX_SEGMENTS + 1];
        let mut starts = [0usize; MAX_SEGMENTS + 2];
        starts[0] = 1;
        let mut node = 0;
        for d in 0..depth {
            trail[d] = node as u16;
            let segment = scan_segment(bytes, starts[d]);
            starts[d + 1] = segment.end + 1;
            node = if took_param & (1 << d) != 0 {
                self.nodes[node].param as usize
            } else {
                self.literal_child_out_of_line(node, bytes, starts[d], segment)
                    .expect("the literal child the walk took")
            };
        }
        debug_assert_eq!(node, at);
        // What to try next at the current node: 0 its literal child, 1 its parameter child,
        // 2 its tail, 3 nothing (leave it).
        let mut next = 3u8;
        // Bounded: each turn enters a node or leaves one, and each node is entered at most
        // once (see the module documentation).
        loop {
            let node = &self.nodes[at];
            debug_assert_eq!(node.depth as usize, depth);
            let start = starts[depth];
            if next < 3 && start > bytes.len() {
                // The path is consumed: a path that ends here, or a tail of zero segments.
                if node.end != NONE {
                    return Some(node.end as usize);
                }
                if node.tail != NONE {
                    return Some(node.tail as usize);
                }
            } else if next < 3 {
                if next < 2 && (node.literals.1 != 0 || node.param != NONE) {
                    let segment = scan_segment(bytes, start);
                    let end = segment.end;
                    let literal = if next == 0 && node.literals.1 != 0 {
                        self.literal_child_out_of_line(at, bytes, start, segment)
                    } else {
                        None
                    };
                    let param = node.param != NONE && end > start;
                    let child = literal.or(param.then_some(node.param as usize));
                    if let Some(child) = child {
                        trail[depth] = at as u16;
                        starts[depth + 1] = end + 1;
                        (at, next, depth) = (child, 0, depth + 1);
                        continue;
                    }
                }
                if node.tail != NONE {
                    return Some(node.tail as usize);
                }
            }
            if depth == 0 {
                return None;
            }
            // Back to the parent, at the choice after the child just left: the parameter
            // child after a literal one, the tail after the parameter child.
            depth -= 1;
            let child = at;
            at = trail[depth] as usize;
            next = if self.nodes[at].param as usize == child {
                2
            } else {
                1
            };
        }
    }

    /// The static path spelt by `path`, byte for byte: the most specific path matching it
    /// (a literal beats anything else at every segment), found by one probe of the table of
    /// slots when there is one. A request path with a `%` is never one: no static pattern
    /// holds a `%` ([`is_static`]), so it is left to the walk, which decodes it.
    #[inline(always)]
    pub(super) fn find_static(&self, path: &[u8], paths: &[PathEntry]) -> Option<usize> {
        if self.static_lengths & length_bit(path.len()) == 0 {
            return None;
        }
        let ends = ends_of(path);
        let mut slot = slot_of(STATIC as usize, path.len(), path_key(ends)) & self.mask;
        // Bounded: the table is at most half full, so an empty slot comes.
        loop {
            let (parent, child) = self.slots[slot];
            if child == NONE {
                return None;
            }
            if parent == STATIC {
                // The length and both ends decide a path of up to sixteen bytes; the middle of
                // a longer one is compared too.
                let entry = &paths[child as usize];
                let pattern = entry.pattern.as_bytes();
                if entry.ends == ends
                    && pattern.len() == path.len()
                    && (path.len() <= 2 * HEAD_BYTES
                        || pattern[HEAD_BYTES..path.len() - HEAD_BYTES]
                            == path[HEAD_BYTES..path.len() - HEAD_BYTES])
                {
                    return Some(child as usize);
                }
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// The literal child of node `at` spelt by the segment `bytes[start..end]`,
    /// percent-decoded when it is `escaped`. Always inlined, as [`Trie::find_literal`] is. A
    /// node with one literal child (`/users/{id}/posts`) compares it directly.
    #[inline(always)]
    fn literal_child(
        &self,
        node: &Node,
        at: usize,
        bytes: &[u8],
        start: usize,
        segment: Segment,
    ) -> Option<usize> {
        if segment.escaped {
            return self.escaped_literal_child(at, &bytes[start..segment.end]);
        }
        let (text, key) = (
            &bytes[start..segment.end],
            head_at(bytes, start, segment.end - start),
        );
        if node.literals.1 == 1 {
            let only = node.literals.0 as usize;
            return spells(&self.nodes[only], text, key).then_some(only);
        }
        self.find_literal(at, text, key)
    }

    /// [`Trie::literal_child`] for a segment with a `%`, decoded first: rare, and kept out of
    /// line so that the common case does not reserve the decoding buffer.
    #[cold]
    #[inline(never)]
    fn escaped_literal_child(&self, at: usize, raw: &[u8]) -> Option<usize> {
        let mut decoded = [0u8; MAX_DECODED_SEGMENT];
        let text = decode_into(raw, Decode::PathSegment, &mut decoded).ok()?;
        self.find_literal_out_of_line(at, text, head(text))
    }

    /// [`Trie::literal_child`] for the cold paths (backtracking): one copy of it, out of line,
    /// where an inlined one in each would cost flash for nothing.
    #[inline(never)]
    fn literal_child_out_of_line(
        &self,
        at: usize,
        bytes: &[u8],
        start: usize,
        segment: Segment,
    ) -> Option<usize> {
        if segment.escaped {
            return self.escaped_literal_child(at, &bytes[start..segment.end]);
        }
        let key = head_at(bytes, start, segment.end - start);
        self.find_literal_out_of_line(at, &bytes[start..segment.end], key)
    }

    /// [`Trie::find_literal`] for the cold paths (decoded segments, backtracking, the
    /// build-time checks), out of line for the same reason.
    #[inline(never)]
    fn find_literal_out_of_line(&self, at: usize, text: &[u8], key: u64) -> Option<usize> {
        self.find_literal(at, text, key)
    }

    /// The literal child of node `at` whose text is `text`, `key` its [`head`]: the
    /// slots from that of its hash on, up to an empty one; a candidate of the same parent,
    /// length and key is compared past the key.
    #[inline(always)]
    fn find_literal(&self, at: usize, text: &[u8], key: u64) -> Option<usize> {
        debug_assert_eq!(key, head(text));
        let mut slot = slot_of(at, text.len(), key) & self.mask;
        // Bounded: the table is at most half full, so an empty slot comes.
        loop {
            let (parent, child) = self.slots[slot];
            if child == NONE {
                return None;
            }
            if parent as usize == at && spells(&self.nodes[child as usize], text, key) {
                return Some(child as usize);
            }
            slot = (slot + 1) & self.mask;
        }
    }
}

impl Node {
    fn new(text: &'static str, paths: (usize, usize), depth: usize) -> Node {
        Node {
            text,
            key: head(text.as_bytes()),
            literals: (0, 0),
            param: NONE,
            end: NONE,
            tail: NONE,
            paths: (paths.0 as u16, paths.1 as u16),
            depth: depth as u8,
        }
    }
}

/// Where the hash table looks first for a literal child of node `parent` of `len` bytes and
/// key `key` (to be masked to the table): a multiplication mixes them into the high half,
/// which is where the slot is taken from.
#[inline]
fn slot_of(parent: usize, len: usize, key: u64) -> usize {
    let mixed =
        (key ^ ((parent as u64) << 40) ^ ((len as u64) << 56)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 32) as usize
}

/// Whether `pattern` (a valid one) is served from the table of slots as a whole: all its
/// segments literal, and no `%` in them (a request path without escapes is then its pattern
/// exactly when it matches it; one with escapes must be decoded, segment by segment).
pub(super) const fn is_static(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    // Bounded: the length of the pattern.
    while i < bytes.len() {
        if bytes[i] == b'{' || bytes[i] == b'%' {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `node`'s literal is `text`, whose [`head`] is `key`: the key and the length
/// tell, and the bytes past the key for a literal longer than it.
#[inline(always)]
fn spells(node: &Node, text: &[u8], key: u64) -> bool {
    node.key == key
        && node.text.len() == text.len()
        && (text.len() <= HEAD_BYTES || node.text.as_bytes()[HEAD_BYTES..] == text[HEAD_BYTES..])
}

/// The bit of [`Trie::static_lengths`] for a path of `len` bytes.
#[inline]
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// The first and the last eight bytes of a path as integers (both its [`head`] when it is
/// shorter).
#[inline]
fn ends_of(path: &[u8]) -> (u64, u64) {
    match (
        path.first_chunk::<HEAD_BYTES>(),
        path.last_chunk::<HEAD_BYTES>(),
    ) {
        (Some(first), Some(last)) => (u64::from_le_bytes(*first), u64::from_le_bytes(*last)),
        _ => {
            let key = head(path);
            (key, key)
        }
    }
}

/// The key of a whole path for the table of slots, from its [`ends_of`], to be mixed by
/// [`slot_of`] with its length.
#[inline]
fn path_key((first, last): (u64, u64)) -> u64 {
    first ^ last.rotate_left(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key tells literals of up to eight bytes apart by itself; longer ones may share it.
    #[test]
    fn keys_of_literals() {
        assert_eq!(head(b""), 0);
        assert_eq!(head(b"ab"), 0x6261);
        assert_eq!(head(b"abcdefghij"), head(b"abcdefgh"));
    }

    /// Twice as many slots as literals, to a power of two, at least one.
    #[test]
    fn slots_for_literals() {
        assert_eq!(
            [0, 1, 2, 3, 5, 8, 9].map(slots_for),
            [1, 2, 4, 8, 16, 16, 32]
        );
    }
}
