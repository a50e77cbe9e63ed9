//! Stored subtrees: the roots of complete, aligned subtrees at every fourth level, and the few of them (with at most two tiles of leaf hashes) that a proof needs.
//!
//! Invariant: everything a proof, or a tree head, asks about a point `p` (a leaf index) of a tree
//! of size `n` is made of complete nodes that lie, at each stored level `L` (0 for the leaves,
//! then 4, 8, ...), inside the level-`L + 4` subtree holding `p`: at most 16 nodes per level and
//! point. So a proof at size `n` reads O(log n) stored nodes, never the log.
//!
//! Why: every subtree a proof asks for is a sibling of a node on the path from the root to a
//! point (the proved leaf, the last leaf of the first tree, the last leaf of the tree) or the
//! node holding that point. A complete subtree of height `h`, with `L <= h < L + 4` for a stored
//! level `L`, is the root of `2^(h - L)` nodes of level `L`; being a sibling (or an ancestor) of
//! the point's own node at height `h`, it lies inside the point's level-`L + 4` subtree.

use std::collections::HashMap;

use super::{root, split_point, SubtreeHashes};
use crate::hash::{empty_root, node_hash, Hash};

/// Stored levels are the multiples of this height: a tile is 4 levels of the tree whose bottom
/// row is stored, as in RFC 9162 logs served as tiles. Four, not eight: a leaf's row in the log
/// is wide (its canonical entry), and reading 16 of them for a proof costs a sixth of reading
/// 256 (ADR 0003), while a subtree root is written once per 16 entries instead of 256.
pub const TILE_HEIGHT: u32 = 4;

/// Nodes in a tile's bottom row: 16 leaves, or 16 subtrees of the stored level below.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// Whether a store keeps the roots of the complete subtrees of this height (the leaves, height
/// 0, are kept by the log itself).
pub fn is_stored_level(level: u32) -> bool {
    level >= TILE_HEIGHT && level % TILE_HEIGHT == 0
}

/// The root of a complete subtree of a stored level: its height, its index at that height
/// (leaves `index * 2^level .. (index + 1) * 2^level`), and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredNode {
    pub level: u32,
    pub index: u64,
    pub hash: Hash,
}

/// The nodes of one level with indices `start..end`; level 0 names leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRange {
    pub level: u32,
    pub start: u64,
    pub end: u64,
}

impl NodeRange {
    /// The 16 nodes one level of tiles down whose root is the stored node (`level`, `index`).
    pub fn children_of(level: u32, index: u64) -> Self {
        debug_assert!(
            is_stored_level(level),
            "only stored nodes have tile children"
        );
        Self {
            level: level - TILE_HEIGHT,
            start: index * TILE_WIDTH,
            end: (index + 1) * TILE_WIDTH,
        }
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// What a store reads to prove anything about `points` (leaf indices below `tree_size`) in the
/// tree of `tree_size` leaves, and to compute that tree's head and the head of the tree ending
/// after each point: per stored level, the complete nodes inside each point's tile. Ranges of
/// one level are merged; lowest level first.
pub fn proof_ranges(tree_size: u64, points: &[u64]) -> Vec<NodeRange> {
    debug_assert!(
        points.iter().all(|p| *p < tree_size),
        "points are leaves of the tree"
    );
    let mut ranges: Vec<NodeRange> = Vec::new();
    let mut level = 0;
    while level < u64::BITS && tree_size >> level > 0 {
        let complete = tree_size >> level;
        let mut at_level: Vec<NodeRange> = points
            .iter()
            .map(|point| {
                let tile = point.checked_shr(level + TILE_HEIGHT).unwrap_or(0);
                let start = tile * TILE_WIDTH;
                NodeRange {
                    level,
                    start,
                    end: (start + TILE_WIDTH).min(complete),
                }
            })
            .filter(|range| !range.is_empty())
            .collect();
        at_level.sort_by_key(|range| range.start);
        for range in at_level {
            match ranges.last_mut() {
                Some(last) if last.level == level && range.start <= last.end => {
                    last.end = last.end.max(range.end);
                }
                _ => ranges.push(range),
            }
        }
        level += TILE_HEIGHT;
    }
    ranges
}

/// Leaf hashes and stored subtree roots of one tree, as loaded for a proof: answers
/// `subtree_root` for every run a proof about the points it was loaded for asks (see
/// [`proof_ranges`]), hashing at most 15 nodes per level.
#[derive(Debug, Clone, Default)]
pub struct ProofNodes {
    tree_size: u64,
    nodes: HashMap<(u32, u64), Hash>,
}

impl ProofNodes {
    /// An empty set of nodes for the tree of `tree_size` leaves.
    pub fn new(tree_size: u64) -> Self {
        Self {
            tree_size,
            nodes: HashMap::new(),
        }
    }

    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// Adds leaf `index` (`level` 0) or the stored subtree root (`level`, `index`).
    pub fn insert(&mut self, level: u32, index: u64, hash: Hash) {
        debug_assert!(level == 0 || is_stored_level(level));
        self.nodes.insert((level, index), hash);
    }

    pub fn get(&self, level: u32, index: u64) -> Option<&Hash> {
        self.nodes.get(&(level, index))
    }

    /// The nodes of `ranges` not (yet) held, as (level, index), in the order of the ranges.
    pub fn missing(&self, ranges: &[NodeRange]) -> Vec<(u32, u64)> {
        ranges
            .iter()
            .flat_map(|range| (range.start..range.end).map(move |index| (range.level, index)))
            .filter(|(level, index)| self.get(*level, *index).is_none())
            .collect()
    }

    /// The tree head `MTH(D[0:tree_size])`.
    pub fn tree_head(&self) -> Hash {
        self.head_at(self.tree_size)
    }

    /// The tree head of the first `size` leaves: answerable when `size` is the tree size or
    /// one past a point the nodes were loaded for.
    pub fn head_at(&self, size: u64) -> Hash {
        if size == 0 {
            empty_root()
        } else {
            self.subtree_root(0, size)
        }
    }

    /// The root of the complete subtree of `height` with index `index` at that height.
    fn complete(&self, height: u32, index: u64) -> Hash {
        let stored = height - height % TILE_HEIGHT;
        let below = height - stored;
        let first = index << below;
        let row: Vec<Hash> = (first..first + (1 << below))
            .map(|i| {
                *self
                    .get(stored, i)
                    .expect("the loaded ranges hold every node a proof about their points asks for")
            })
            .collect();
        root(&row)
    }
}

impl SubtreeHashes for ProofNodes {
    fn leaf_count(&self) -> u64 {
        self.tree_size
    }

    fn subtree_root(&self, start: u64, len: u64) -> Hash {
        debug_assert!(len >= 1 && start + len <= self.tree_size);
        if len.is_power_of_two() && start % len == 0 {
            let height = len.trailing_zeros();
            self.complete(height, start >> height)
        } else {
            // A run ending at a tree size: RFC 9162's split, down to complete subtrees.
            let k = split_point(len);
            node_hash(
                &self.subtree_root(start, k),
                &self.subtree_root(start + k, len - k),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::{consistency_proof, inclusion_proof};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Every stored node of a tree over `leaves`, as a store that wrote them all would hold.
    fn all_stored(leaves: &[Hash]) -> HashMap<(u32, u64), Hash> {
        let mut nodes: HashMap<(u32, u64), Hash> = leaves
            .iter()
            .enumerate()
            .map(|(i, leaf)| ((0, i as u64), *leaf))
            .collect();
        let mut level = TILE_HEIGHT;
        while leaves.len() as u64 >> level > 0 {
            for index in 0..leaves.len() as u64 >> level {
                let width = 1usize << level;
                let start = index as usize * width;
                nodes.insert((level, index), root(&leaves[start..start + width]));
            }
            level += TILE_HEIGHT;
        }
        nodes
    }

    /// Only what `proof_ranges` names, as a store would load it.
    fn loaded(all: &HashMap<(u32, u64), Hash>, tree_size: u64, points: &[u64]) -> ProofNodes {
        let ranges = proof_ranges(tree_size, points);
        let mut nodes = ProofNodes::new(tree_size);
        for range in &ranges {
            for index in range.start..range.end {
                nodes.insert(range.level, index, all[&(range.level, index)]);
            }
        }
        assert!(nodes.missing(&ranges).is_empty());
        nodes
    }

    /// Points worth proving in a tree of `n` leaves: its ends, tile edges, and at some sizes a
    /// spread (each point costs hundreds of unoptimised hashes).
    fn points(n: u64) -> Vec<u64> {
        let mut points: Vec<u64> = [0, 15, 16, 255, 256, 511, 512, n / 2, n - 1]
            .into_iter()
            .chain(
                (0..n)
                    .step_by(n.max(8) as usize / 8)
                    .filter(|_| n % 50 == 0),
            )
            .filter(|p| *p < n)
            .collect();
        points.sort_unstable();
        points.dedup();
        points
    }

    /// Every level of the tree over `leaves`, kept whole: the reference a large tree's proofs
    /// are compared with (hashing a slice of 65,536 leaves per sibling would take minutes).
    struct FullTree {
        size: u64,
        levels: Vec<Vec<Hash>>,
    }

    impl FullTree {
        fn new(leaves: &[Hash], size: u64) -> Self {
            let mut levels = vec![leaves[..size as usize].to_vec()];
            while levels.last().is_some_and(|level| level.len() > 1) {
                let below = levels.last().expect("a level");
                let above = below
                    .chunks_exact(2)
                    .map(|pair| node_hash(&pair[0], &pair[1]))
                    .collect();
                levels.push(above);
            }
            Self { size, levels }
        }
    }

    impl SubtreeHashes for FullTree {
        fn leaf_count(&self) -> u64 {
            self.size
        }

        fn subtree_root(&self, start: u64, len: u64) -> Hash {
            if len.is_power_of_two() && start % len == 0 {
                let height = len.trailing_zeros();
                self.levels[height as usize][(start >> height) as usize]
            } else {
                let k = split_point(len);
                node_hash(
                    &self.subtree_root(start, k),
                    &self.subtree_root(start + k, len - k),
                )
            }
        }
    }

    /// Proofs and heads from the loaded ranges equal those from `reference`, the whole tree.
    fn check_size<S: SubtreeHashes + ?Sized>(
        reference: &S,
        leaves: &[Hash],
        all: &HashMap<(u32, u64), Hash>,
        n: u64,
    ) {
        for m in points(n) {
            let nodes = loaded(all, n, &[m, n - 1]);
            assert_eq!(
                inclusion_proof(m, n, &nodes),
                inclusion_proof(m, n, reference),
                "leaf {m} of {n}"
            );
            assert_eq!(nodes.subtree_root(m, 1), leaves[m as usize]);
            // The first tree of a consistency proof ends after the point: the same ranges.
            let first = m + 1;
            assert_eq!(
                consistency_proof(first, n, &nodes),
                consistency_proof(first, n, reference),
                "{first} to {n}"
            );
            assert_eq!(nodes.head_at(first), reference.subtree_root(0, first));
        }
    }

    #[test]
    fn proofs_from_the_loaded_ranges_equal_proofs_from_every_leaf_up_to_600_leaves() {
        let leaves = leaves(600);
        let all = all_stored(&leaves);
        for n in 1..=600 {
            let prefix = &leaves[..n as usize];
            let reference = FullTree::new(&leaves, n);
            assert_eq!(reference.subtree_root(0, n), root(prefix));
            if n % 50 == 0 {
                // The reference itself against RFC 9162 over the leaves, at a few sizes.
                check_size(prefix, &leaves, &all, n);
            }
            check_size(&reference, &leaves, &all, n);
            assert_eq!(loaded(&all, n, &[n - 1]).tree_head(), root(prefix));
        }
    }

    #[test]
    fn proofs_from_the_loaded_ranges_equal_proofs_from_every_leaf_around_65536_leaves() {
        let leaves = leaves(65_536 + 300);
        let all = all_stored(&leaves);
        for n in [
            65_535,
            65_536,
            65_537,
            65_536 + 255,
            65_536 + 256,
            65_536 + 300,
        ] {
            let reference = FullTree::new(&leaves, n);
            assert_eq!(reference.subtree_root(0, n), root(&leaves[..n as usize]));
            check_size(&reference, &leaves, &all, n);
            assert_eq!(
                loaded(&all, n, &[n - 1]).tree_head(),
                root(&leaves[..n as usize])
            );
        }
    }

    #[test]
    fn a_proof_at_a_million_leaves_reads_at_most_160_nodes() {
        let n = 1_000_000;
        let ranges = proof_ranges(n, &[123_456, n - 1]);
        let nodes: u64 = ranges.iter().map(NodeRange::len).sum();
        // Two tiles of 16 at each of the levels 0, 4, 8, 12 and 16.
        assert!(nodes <= 2 * 16 * 5, "{nodes} nodes: {ranges:?}");
        assert_eq!(ranges.last().map(|r| r.level), Some(16));
    }

    #[test]
    fn ranges_of_one_level_are_merged() {
        assert_eq!(
            proof_ranges(40, &[3, 12, 39]),
            vec![
                NodeRange {
                    level: 0,
                    start: 0,
                    end: 16
                },
                NodeRange {
                    level: 0,
                    start: 32,
                    end: 40
                },
                NodeRange {
                    level: 4,
                    start: 0,
                    end: 2
                },
            ]
        );
    }

    #[test]
    fn only_every_fourth_level_above_the_leaves_is_stored() {
        let stored: Vec<u32> = (0..20).filter(|l| is_stored_level(*l)).collect();
        assert_eq!(stored, vec![4, 8, 12, 16]);
    }
}
