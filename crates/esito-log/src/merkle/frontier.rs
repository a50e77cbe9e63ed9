//! The right edge of a growing tree (a compact range from leaf 0): enough to append leaves and compute the tree head without the leaves themselves.
//!
//! Invariant: `nodes` holds the roots of the complete subtrees that size decomposes into, largest
//! (leftmost) first, one for each set bit of `size`; so there are never more than 64.

use crate::hash::{empty_root, node_hash, Hash};

/// The roots of the complete subtrees that cover leaves `0..size`, e.g. for size 13 the roots over
/// leaves 0..8, 8..12 and 12..13. Appending costs amortised O(1) hashes and the tree head
/// O(log size).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

/// Why bytes are not a persisted frontier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    /// The first eight bytes are the size.
    #[error("a frontier starts with an 8-byte size, found only {found} bytes")]
    MissingSize { found: usize },
    /// A frontier of size n holds one 32-byte hash for each set bit of n.
    #[error("a frontier of size {size} is {expected} bytes long, found {found}")]
    LengthDoesNotMatchSize {
        size: u64,
        expected: usize,
        found: usize,
    },
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree holding `leaves`.
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a Hash>) -> Self {
        let mut frontier = Self::new();
        for leaf in leaves {
            frontier.push(*leaf);
        }
        frontier
    }

    /// Appends one leaf hash: like adding one to a binary counter, every complete subtree of the
    /// same height as the new one merges with it, smallest first.
    pub fn push(&mut self, leaf: Hash) {
        self.push_and_report(leaf, |_, _| {});
    }

    /// Appends one leaf hash like [`Frontier::push`], and reports each complete subtree that
    /// the merges produce, smallest first, as its height (1 for two leaves) and root. After the
    /// push, the subtree of height `h` is the one with index `(size >> h) - 1` at that height.
    pub fn push_and_report(&mut self, leaf: Hash, mut report: impl FnMut(u32, &Hash)) {
        let mut merged = leaf;
        let mut carry = self.size;
        let mut height = 0;
        while carry & 1 == 1 {
            let left = self
                .nodes
                .pop()
                .expect("each set bit of the size has its subtree root");
            merged = node_hash(&left, &merged);
            carry >>= 1;
            height += 1;
            report(height, &merged);
        }
        self.nodes.push(merged);
        self.size = self
            .size
            .checked_add(1)
            .expect("a log holds fewer than 2^64 entries");
    }

    /// How many leaves have been pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree head `MTH(D[0:size])`: the subtree roots folded from the right, which is the
    /// RFC 9162 split because the leftmost subtree is the largest power of two below the size.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        match nodes.next() {
            None => empty_root(),
            Some(rightmost) => nodes.fold(*rightmost, |right, left| node_hash(left, &right)),
        }
    }

    /// The subtree roots, largest (leftmost) first.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// The persisted form, for one database column: the size as 8 big-endian bytes, then the
    /// subtree roots, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + Hash::LEN * self.nodes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for node in &self.nodes {
            out.extend_from_slice(node.as_bytes());
        }
        out
    }

    /// Reads the form written by [`Frontier::to_bytes`], checking that it holds exactly one
    /// subtree root per set bit of its size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FrontierError> {
        let (size_bytes, hashes) = bytes
            .split_first_chunk::<8>()
            .ok_or(FrontierError::MissingSize { found: bytes.len() })?;
        let size = u64::from_be_bytes(*size_bytes);
        let expected = 8 + Hash::LEN * size.count_ones() as usize;
        if bytes.len() != expected {
            return Err(FrontierError::LengthDoesNotMatchSize {
                size,
                expected,
                found: bytes.len(),
            });
        }
        let nodes = hashes
            .chunks_exact(Hash::LEN)
            .map(|chunk| Hash::from_slice(chunk).expect("chunks_exact yields 32-byte chunks"))
            .collect();
        Ok(Self { size, nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::root;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn the_empty_frontier_has_the_empty_root() {
        assert_eq!(Frontier::new().root(), empty_root());
        assert_eq!(Frontier::new().size(), 0);
    }

    #[test]
    fn the_frontier_holds_one_subtree_root_per_set_bit_of_the_size() {
        let leaves = leaves(13);
        let frontier = Frontier::from_leaves(&leaves);
        assert_eq!(
            frontier.nodes(),
            [
                root(&leaves[0..8]),
                root(&leaves[8..12]),
                root(&leaves[12..13])
            ]
        );
    }

    #[test]
    fn the_frontier_root_equals_the_tree_head_for_every_size_up_to_300() {
        let leaves = leaves(300);
        let mut frontier = Frontier::new();
        for (n, leaf) in leaves.iter().enumerate() {
            assert_eq!(frontier.root(), root(&leaves[..n]), "size {n}");
            frontier.push(*leaf);
        }
        assert_eq!(frontier.root(), root(&leaves));
    }

    #[test]
    fn each_push_reports_exactly_the_subtrees_it_completes() {
        let leaves = leaves(300);
        let mut frontier = Frontier::new();
        for leaf in &leaves {
            let mut reported = Vec::new();
            frontier.push_and_report(*leaf, |height, root| reported.push((height, *root)));
            let size = frontier.size();
            let heights: Vec<u32> = reported.iter().map(|(height, _)| *height).collect();
            let expected: Vec<u32> = (1..=size.trailing_zeros()).collect();
            assert_eq!(heights, expected, "size {size}");
            for (height, subtree_root) in reported {
                let start = (size - (1 << height)) as usize;
                assert_eq!(subtree_root, root(&leaves[start..size as usize]));
            }
        }
    }

    #[test]
    fn bytes_round_trip_at_every_size_up_to_70() {
        let leaves = leaves(70);
        let mut frontier = Frontier::new();
        for leaf in &leaves {
            let bytes = frontier.to_bytes();
            assert_eq!(bytes.len(), 8 + 32 * frontier.size().count_ones() as usize);
            assert_eq!(Frontier::from_bytes(&bytes).as_ref(), Ok(&frontier));
            frontier.push(*leaf);
        }
    }

    #[test]
    fn bytes_without_a_full_size_are_refused() {
        assert_eq!(
            Frontier::from_bytes(&[0, 0, 0]),
            Err(FrontierError::MissingSize { found: 3 })
        );
    }

    #[test]
    fn bytes_whose_length_disagrees_with_the_size_are_refused() {
        let mut bytes = Frontier::from_leaves(&leaves(3)).to_bytes();
        bytes.truncate(8 + 32);
        assert_eq!(
            Frontier::from_bytes(&bytes),
            Err(FrontierError::LengthDoesNotMatchSize {
                size: 3,
                expected: 8 + 64,
                found: 8 + 32
            })
        );
    }

    #[test]
    fn a_restored_frontier_keeps_growing_like_the_original() {
        let leaves = leaves(40);
        let original = Frontier::from_leaves(&leaves[..27]);
        let mut restored = Frontier::from_bytes(&original.to_bytes()).expect("valid bytes");
        for leaf in &leaves[27..] {
            restored.push(*leaf);
        }
        assert_eq!(restored.root(), root(&leaves));
    }
}
