//! RFC 9162 Merkle tree heads over a log's leaf hashes, the compact right edge of the tree, and proofs.
//!
//! The tree head of size `n` is `MTH(D[0:n])` of RFC 9162 section 2.1.1, where leaf `i` is the
//! entry at position `i + 1`.

mod compact;
mod frontier;
mod proof;
pub mod tiles;

pub use compact::{CompactRange, ExtensionEdges};
pub use frontier::{Frontier, FrontierError};
pub use proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, ConsistencyProof,
    InclusionProof, ProofError,
};

use crate::hash::{empty_root, node_hash, Hash};

/// `MTH(D[n])` of RFC 9162 section 2.1.1: the tree head over `leaves`, split recursively at the
/// largest power of two below the number of leaves.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            let k = split_point(leaves.len() as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly below `n`, for `n >= 2`: where RFC 9162 splits a tree of
/// `n` leaves into its left and right subtrees.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "only a tree of two or more leaves is split");
    1 << (63 - (n - 1).leading_zeros())
}

/// Whatever can answer "what is the tree head of this run of leaves": the source that proofs are
/// built from.
///
/// A slice of leaf hashes answers by hashing the run, in time linear in its length; a store that
/// keeps the hashes of complete subtrees answers from a few of them ([`tiles::ProofNodes`]) and
/// builds proofs without reading every leaf.
pub trait SubtreeHashes {
    /// How many leaves the source holds; proofs can be built for trees up to this size.
    fn leaf_count(&self) -> u64;

    /// `MTH(D[start:start + len])`. Proof building asks only for `len >= 1` and
    /// `start + len <= leaf_count()`; and every run it asks for is either a complete subtree
    /// (`len` a power of two, `start` a multiple of `len`) or one that ends at the tree size
    /// being proved.
    fn subtree_root(&self, start: u64, len: u64) -> Hash;
}

impl SubtreeHashes for [Hash] {
    fn leaf_count(&self) -> u64 {
        self.len() as u64
    }

    fn subtree_root(&self, start: u64, len: u64) -> Hash {
        let start = usize::try_from(start).expect("the run starts inside the slice");
        let end = start + usize::try_from(len).expect("the run ends inside the slice");
        root(&self[start..end])
    }
}

impl SubtreeHashes for Vec<Hash> {
    fn leaf_count(&self) -> u64 {
        self.as_slice().leaf_count()
    }

    fn subtree_root(&self, start: u64, len: u64) -> Hash {
        self.as_slice().subtree_root(start, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn the_split_point_is_the_largest_power_of_two_below_n() {
        let expected = [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ];
        for (n, k) in expected {
            assert_eq!(split_point(n), k, "n = {n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn the_root_of_one_leaf_is_the_leaf_and_of_none_is_the_empty_root() {
        let leaf = leaf_hash(b"only");
        assert_eq!(root(&[leaf]), leaf);
        assert_eq!(root(&[]), empty_root());
    }

    #[test]
    fn a_slice_answers_subtree_roots_by_hashing_the_run() {
        let leaves: Vec<Hash> = (0u8..7).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(leaves.subtree_root(4, 3), root(&leaves[4..7]));
        assert_eq!(leaves.leaf_count(), 7);
    }
}
