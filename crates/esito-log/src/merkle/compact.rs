//! Compact ranges: the roots of the perfect, aligned subtrees that exactly cover a run of leaves, and a tree known only by its frontier at one size and the compact range after it.
//!
//! Invariant: a [`CompactRange`] over `[begin, end)` holds the fewest aligned perfect subtrees
//! that cover the run, left to right: heights first rising, then falling; so there are never
//! more than 128. An [`ExtensionEdges`] holds a [`Frontier`] at size `m` and the compact range
//! of `[m, n)`: O(log n) hashes, from which the RFC 9162 consistency proof from `m` to `n` is
//! built without the leaves.

use crate::hash::{node_hash, Hash};
use crate::merkle::{Frontier, SubtreeHashes};

/// The roots of the aligned perfect subtrees covering leaves `begin..end`, left to right, each
/// with its height (0 for a leaf). Appending a leaf costs amortised O(1) hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactRange {
    begin: u64,
    end: u64,
    nodes: Vec<(u32, Hash)>,
}

impl CompactRange {
    /// The empty range at `begin`.
    pub fn new(begin: u64) -> Self {
        Self {
            begin,
            end: begin,
            nodes: Vec::new(),
        }
    }

    /// Appends the leaf at index `end`: a node merges with its left neighbour while the two are
    /// of one height and the pair is aligned, that is, while they are siblings in the tree.
    pub fn push(&mut self, leaf: Hash) {
        self.nodes.push((0, leaf));
        self.end = self
            .end
            .checked_add(1)
            .expect("a log holds fewer than 2^64 entries");
        while let [.., (left_height, left), (right_height, right)] = self.nodes[..] {
            let pair = 1u64 << (right_height + 1);
            if left_height != right_height || self.end % pair != 0 {
                break;
            }
            self.nodes.truncate(self.nodes.len() - 2);
            self.nodes
                .push((right_height + 1, node_hash(&left, &right)));
        }
    }

    /// The first leaf index of the range.
    pub fn begin(&self) -> u64 {
        self.begin
    }

    /// One past the last leaf index of the range.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The subtrees as (first leaf index, number of leaves, root), left to right.
    pub fn subtrees(&self) -> impl Iterator<Item = (u64, u64, Hash)> + '_ {
        let mut start = self.begin;
        self.nodes.iter().map(move |&(height, root)| {
            let len = 1u64 << height;
            let subtree = (start, len, root);
            start += len;
            subtree
        })
    }

    /// How many hashes the range holds.
    pub fn hashes_kept(&self) -> usize {
        self.nodes.len()
    }
}

/// A tree of `n` leaves known by its frontier at size `m` and the compact range of `[m, n)`:
/// enough to answer every subtree root the consistency proof from `m` to `n` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionEdges {
    first: Frontier,
    rest: CompactRange,
}

impl ExtensionEdges {
    /// The tree whose first `first.size()` leaves `first` covers, with no leaf after them yet.
    pub fn new(first: Frontier) -> Self {
        let rest = CompactRange::new(first.size());
        Self { first, rest }
    }

    /// Appends the next leaf after the first tree.
    pub fn push(&mut self, leaf: Hash) {
        self.rest.push(leaf);
    }

    /// The size of the first tree.
    pub fn first_size(&self) -> u64 {
        self.first.size()
    }

    /// How many hashes are kept: O(log n).
    pub fn hashes_kept(&self) -> usize {
        self.first.nodes().len() + self.rest.hashes_kept()
    }

    /// Every subtree known, as (first leaf index, number of leaves, root), left to right.
    fn subtrees(&self) -> impl Iterator<Item = (u64, u64, Hash)> + '_ {
        let size = self.first.size();
        let mut start = 0;
        let first = self
            .first
            .nodes()
            .iter()
            .enumerate()
            .map(move |(i, &root)| {
                // Largest first: the i-th node is the i-th set bit of the size from the top.
                let len = nth_highest_bit(size, i);
                let subtree = (start, len, root);
                start += len;
                subtree
            });
        first.chain(self.rest.subtrees())
    }
}

/// The value of the `n`-th set bit of `size`, counting from the highest.
fn nth_highest_bit(size: u64, n: usize) -> u64 {
    let mut rest = size;
    for _ in 0..n {
        rest &= !(1u64 << (63 - rest.leading_zeros()));
    }
    1u64 << (63 - rest.leading_zeros())
}

impl SubtreeHashes for ExtensionEdges {
    fn leaf_count(&self) -> u64 {
        self.rest.end()
    }

    /// Invariant: a consistency proof from the first tree's size asks only for runs that are
    /// one or more consecutive known subtrees of falling size (a complete subtree is one of
    /// them; a run ending at the tree size is the falling right edge of the compact range).
    fn subtree_root(&self, start: u64, len: u64) -> Hash {
        let end = start + len;
        let mut run: Vec<(u64, Hash)> = Vec::new();
        for (first, size, root) in self.subtrees() {
            if first >= end {
                break;
            }
            if first >= start {
                run.push((size, root));
            }
        }
        let covered: u64 = run.iter().map(|(size, _)| size).sum();
        let starts_on_a_boundary = self.subtrees().any(|(first, _, _)| first == start);
        assert!(
            starts_on_a_boundary && covered == len,
            "the run [{start}, {end}) is not made of known subtrees"
        );
        assert!(
            run.windows(2).all(|pair| pair[0].0 > pair[1].0),
            "the run [{start}, {end}) is not a falling edge"
        );
        let mut nodes = run.iter().rev().map(|(_, root)| *root);
        let rightmost = nodes.next().expect("a run holds at least one leaf");
        nodes.fold(rightmost, |right, left| node_hash(&left, &right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::{consistency_proof, root};

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn a_compact_range_holds_the_aligned_subtrees_that_cover_it() {
        let leaves = leaves(16);
        let mut range = CompactRange::new(3);
        for leaf in &leaves[3..13] {
            range.push(*leaf);
        }
        let subtrees: Vec<(u64, u64, Hash)> = range.subtrees().collect();
        assert_eq!(
            subtrees,
            [
                (3, 1, leaves[3]),
                (4, 4, root(&leaves[4..8])),
                (8, 4, root(&leaves[8..12])),
                (12, 1, leaves[12]),
            ]
        );
    }

    #[test]
    fn the_nth_highest_bit_counts_from_the_top() {
        assert_eq!(nth_highest_bit(13, 0), 8);
        assert_eq!(nth_highest_bit(13, 1), 4);
        assert_eq!(nth_highest_bit(13, 2), 1);
    }

    #[test]
    fn consistency_proofs_from_the_edges_are_those_from_the_leaves_up_to_80_leaves() {
        let leaves = leaves(80);
        for first in 0..=80u64 {
            let mut edges = ExtensionEdges::new(Frontier::from_leaves(&leaves[..first as usize]));
            for second in first..=80u64 {
                if second > first {
                    edges.push(leaves[second as usize - 1]);
                }
                assert_eq!(
                    consistency_proof(first, second, &edges),
                    consistency_proof(first, second, leaves.as_slice()),
                    "from {first} to {second}"
                );
                assert!(edges.hashes_kept() <= 2 * 64, "{first} to {second}");
            }
        }
    }
}
