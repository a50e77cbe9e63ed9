//! Inclusion and consistency proofs: built as RFC 9162 PATH (2.1.3.1) and PROOF/SUBPROOF (2.1.4.1), checked by the algorithms of 2.1.3.2 and 2.1.4.2.
//!
//! RFC 9162 checks consistency only for `0 < first < second`. The two trivial cases are settled
//! here the way other RFC 9162 implementations settle them: the empty tree is consistent with
//! every tree, and a tree with itself, each with an empty path and nothing else to prove.

use serde::{Deserialize, Serialize};

use super::{split_point, SubtreeHashes};
use crate::hash::{empty_root, node_hash, Hash};

/// A rule a proof request or a proof breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A leaf index is below the tree size.
    #[error("leaf index {leaf_index} is not in a tree of size {tree_size}")]
    LeafIndexOutOfRange { leaf_index: u64, tree_size: u64 },
    /// A proof can only be built for a tree whose leaves the source holds.
    #[error("a tree of size {tree_size} was asked of a source holding {leaf_count} leaves")]
    TreeBeyondLeaves { tree_size: u64, leaf_count: u64 },
    /// The earlier tree cannot be larger than the later one.
    #[error("the first tree size {first} is larger than the second, {second}")]
    FirstBeyondSecond { first: u64, second: u64 },
    /// RFC 9162 2.1.4.2 step 1: a non-trivial consistency proof is never empty.
    #[error("the consistency path is empty")]
    EmptyConsistencyPath,
    /// A consistency proof from the empty tree, or from a tree to itself, has nothing to prove.
    #[error("a consistency proof from size {first} to size {second} must have an empty path")]
    PathNotEmpty { first: u64, second: u64 },
    /// The path has more hashes than the tree has levels above the leaf (step "if sn is 0, fail").
    #[error("the path is longer than the tree is deep")]
    PathTooLong,
    /// The path ran out before reaching the top of the tree (final check `sn == 0`).
    #[error("the path is shorter than the tree is deep")]
    PathTooShort,
    /// The path leads to a different tree head.
    #[error("the path does not lead to the tree head")]
    RootMismatch,
    /// The path does not rebuild the first tree head.
    #[error("the path does not lead to the first tree head")]
    FirstRootMismatch,
    /// The path does not rebuild the second tree head.
    #[error("the path does not lead to the second tree head")]
    SecondRootMismatch,
}

/// RFC 9162 PATH(leaf_index, D[0:tree_size]): the audit path proving that leaf `leaf_index` is in
/// the tree of size `tree_size`, from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: SubtreeHashes + ?Sized>(
    leaf_index: u64,
    tree_size: u64,
    leaves: &S,
) -> Result<Vec<Hash>, ProofError> {
    check_tree_size(tree_size, leaves)?;
    if leaf_index >= tree_size {
        return Err(ProofError::LeafIndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    let mut path = Vec::with_capacity(64);
    audit_path(leaf_index, 0, tree_size, leaves, &mut path);
    Ok(path)
}

/// RFC 9162 PROOF(first, D[0:second]): the path proving that the tree of size `second` extends
/// the tree of size `first`. Empty when `first` is 0 or equals `second`.
pub fn consistency_proof<S: SubtreeHashes + ?Sized>(
    first: u64,
    second: u64,
    leaves: &S,
) -> Result<Vec<Hash>, ProofError> {
    check_tree_size(second, leaves)?;
    if first > second {
        return Err(ProofError::FirstBeyondSecond { first, second });
    }
    let mut path = Vec::with_capacity(64);
    if first > 0 {
        subproof(first, 0, second, true, leaves, &mut path);
    }
    Ok(path)
}

fn check_tree_size<S: SubtreeHashes + ?Sized>(
    tree_size: u64,
    leaves: &S,
) -> Result<(), ProofError> {
    let leaf_count = leaves.leaf_count();
    if tree_size > leaf_count {
        return Err(ProofError::TreeBeyondLeaves {
            tree_size,
            leaf_count,
        });
    }
    Ok(())
}

/// PATH(m, D[start:start + n]), appended to `out` innermost first.
fn audit_path<S: SubtreeHashes + ?Sized>(
    m: u64,
    start: u64,
    n: u64,
    leaves: &S,
    out: &mut Vec<Hash>,
) {
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        audit_path(m, start, k, leaves, out);
        out.push(leaves.subtree_root(start + k, n - k));
    } else {
        audit_path(m - k, start + k, n - k, leaves, out);
        out.push(leaves.subtree_root(start, k));
    }
}

/// SUBPROOF(m, D[start:start + n], b), appended to `out` innermost first; `b` records whether the
/// subtree is the first tree itself, whose root the verifier already has.
fn subproof<S: SubtreeHashes + ?Sized>(
    m: u64,
    start: u64,
    n: u64,
    whole_first_tree: bool,
    leaves: &S,
    out: &mut Vec<Hash>,
) {
    if m == n {
        if !whole_first_tree {
            out.push(leaves.subtree_root(start, n));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, start, k, whole_first_tree, leaves, out);
        out.push(leaves.subtree_root(start + k, n - k));
    } else {
        subproof(m - k, start + k, n - k, false, leaves, out);
        out.push(leaves.subtree_root(start, k));
    }
}

/// RFC 9162 2.1.3.2: checks that `leaf_hash` is leaf `leaf_index` of the tree of size `tree_size`
/// whose head is `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    leaf_index: u64,
    tree_size: u64,
    audit_path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // Step 1.
    if leaf_index >= tree_size {
        return Err(ProofError::LeafIndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    // Steps 2 and 3: fn and sn walk up the tree as the index of the node and of the last node
    // at the current level.
    let mut fn_ = leaf_index;
    let mut sn = tree_size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for p in audit_path {
        if sn == 0 {
            return Err(ProofError::PathTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // A right-edge node with no right sibling is carried up unchanged until it is a
            // right child again.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    if sn != 0 {
        return Err(ProofError::PathTooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 2.1.4.2: checks that the tree of size `second` with head `second_root` extends the
/// tree of size `first` with head `first_root`.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    consistency_path: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::FirstBeyondSecond { first, second });
    }
    if first == 0 || first == second {
        if !consistency_path.is_empty() {
            return Err(ProofError::PathNotEmpty { first, second });
        }
        if first == 0 && *first_root != empty_root() {
            return Err(ProofError::FirstRootMismatch);
        }
        if first == second && first_root != second_root {
            return Err(ProofError::SecondRootMismatch);
        }
        return Ok(());
    }
    // Step 1.
    let Some((head, rest)) = consistency_path.split_first() else {
        return Err(ProofError::EmptyConsistencyPath);
    };
    // Step 2, without copying the path: when `first` is a power of two the first tree is a
    // complete subtree, so the path starts with its root, which the verifier already holds.
    let (start, rest) = if first.is_power_of_two() {
        (first_root, consistency_path)
    } else {
        (head, rest)
    };
    // Step 3.
    let mut fn_ = first - 1;
    let mut sn = second - 1;
    // Step 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let mut fr = *start;
    let mut sr = *start;
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(ProofError::PathTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(ProofError::PathTooShort);
    }
    if fr != *first_root {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *second_root {
        return Err(ProofError::SecondRootMismatch);
    }
    Ok(())
}

/// An inclusion proof as served and exported: `{"leaf_index", "tree_size", "audit_path"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub audit_path: Vec<Hash>,
}

impl InclusionProof {
    /// Builds the proof for leaf `leaf_index` in the tree of size `tree_size`.
    pub fn build<S: SubtreeHashes + ?Sized>(
        leaf_index: u64,
        tree_size: u64,
        leaves: &S,
    ) -> Result<Self, ProofError> {
        let audit_path = inclusion_proof(leaf_index, tree_size, leaves)?;
        Ok(Self {
            leaf_index,
            tree_size,
            audit_path,
        })
    }

    /// Checks the proof for `leaf_hash` against the tree head `root` of size `tree_size`.
    pub fn verify(&self, leaf_hash: &Hash, root: &Hash) -> Result<(), ProofError> {
        verify_inclusion(
            leaf_hash,
            self.leaf_index,
            self.tree_size,
            &self.audit_path,
            root,
        )
    }
}

/// A consistency proof as served and exported: `{"first", "second", "consistency_path"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub consistency_path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Builds the proof that the tree of size `second` extends the tree of size `first`.
    pub fn build<S: SubtreeHashes + ?Sized>(
        first: u64,
        second: u64,
        leaves: &S,
    ) -> Result<Self, ProofError> {
        let consistency_path = consistency_proof(first, second, leaves)?;
        Ok(Self {
            first,
            second,
            consistency_path,
        })
    }

    /// Checks the proof against the two tree heads.
    pub fn verify(&self, first_root: &Hash, second_root: &Hash) -> Result<(), ProofError> {
        verify_consistency(
            self.first,
            self.second,
            first_root,
            second_root,
            &self.consistency_path,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::root;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn every_inclusion_proof_in_every_tree_up_to_40_leaves_verifies() {
        let leaves = leaves(40);
        for size in 1..=40u64 {
            let head = root(&leaves[..size as usize]);
            for index in 0..size {
                let path = inclusion_proof(index, size, &leaves[..]).expect("a valid request");
                assert_eq!(
                    verify_inclusion(&leaves[index as usize], index, size, &path, &head),
                    Ok(()),
                    "leaf {index} of {size}"
                );
            }
        }
    }

    #[test]
    fn every_consistency_proof_between_trees_up_to_40_leaves_verifies() {
        let leaves = leaves(40);
        let heads: Vec<Hash> = (0..=40).map(|n| root(&leaves[..n])).collect();
        for second in 0..=40u64 {
            for first in 0..=second {
                let path = consistency_proof(first, second, &leaves[..]).expect("a valid request");
                assert_eq!(
                    verify_consistency(
                        first,
                        second,
                        &heads[first as usize],
                        &heads[second as usize],
                        &path
                    ),
                    Ok(()),
                    "{first} to {second}"
                );
            }
        }
    }

    #[test]
    fn a_leaf_index_outside_the_tree_is_refused_both_ways() {
        let leaves = leaves(4);
        assert_eq!(
            inclusion_proof(4, 4, &leaves[..]),
            Err(ProofError::LeafIndexOutOfRange {
                leaf_index: 4,
                tree_size: 4
            })
        );
        assert_eq!(
            verify_inclusion(&leaves[0], 0, 0, &[], &empty_root()),
            Err(ProofError::LeafIndexOutOfRange {
                leaf_index: 0,
                tree_size: 0
            })
        );
    }

    #[test]
    fn a_tree_larger_than_the_source_is_refused() {
        let leaves = leaves(4);
        assert_eq!(
            inclusion_proof(0, 5, &leaves[..]),
            Err(ProofError::TreeBeyondLeaves {
                tree_size: 5,
                leaf_count: 4
            })
        );
        assert_eq!(
            consistency_proof(1, 5, &leaves[..]),
            Err(ProofError::TreeBeyondLeaves {
                tree_size: 5,
                leaf_count: 4
            })
        );
    }

    #[test]
    fn a_first_size_beyond_the_second_is_refused_both_ways() {
        let leaves = leaves(4);
        let head = root(&leaves);
        assert_eq!(
            consistency_proof(3, 2, &leaves[..]),
            Err(ProofError::FirstBeyondSecond {
                first: 3,
                second: 2
            })
        );
        assert_eq!(
            verify_consistency(3, 2, &head, &head, &[]),
            Err(ProofError::FirstBeyondSecond {
                first: 3,
                second: 2
            })
        );
    }

    #[test]
    fn the_trivial_consistency_cases_need_an_empty_path_and_the_right_heads() {
        let leaves = leaves(3);
        let head = root(&leaves);
        let other = root(&leaves[..2]);
        assert_eq!(verify_consistency(0, 3, &empty_root(), &head, &[]), Ok(()));
        assert_eq!(verify_consistency(3, 3, &head, &head, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 3, &head, &head, &[]),
            Err(ProofError::FirstRootMismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &head, &other, &[]),
            Err(ProofError::SecondRootMismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &head, &head, &[head]),
            Err(ProofError::PathNotEmpty {
                first: 3,
                second: 3
            })
        );
    }

    #[test]
    fn a_non_trivial_consistency_proof_with_an_empty_path_is_refused() {
        let leaves = leaves(3);
        assert_eq!(
            verify_consistency(1, 3, &leaves[0], &root(&leaves), &[]),
            Err(ProofError::EmptyConsistencyPath)
        );
    }

    #[test]
    fn a_path_with_an_extra_or_a_missing_hash_is_refused() {
        let leaves = leaves(8);
        let head = root(&leaves);
        let path = inclusion_proof(5, 8, &leaves[..]).expect("a valid request");
        let mut long = path.clone();
        long.push(head);
        assert_eq!(
            verify_inclusion(&leaves[5], 5, 8, &long, &head),
            Err(ProofError::PathTooLong)
        );
        assert_eq!(
            verify_inclusion(&leaves[5], 5, 8, &path[..2], &head),
            Err(ProofError::PathTooShort)
        );
    }

    #[test]
    fn proofs_serialize_with_the_documented_field_names() {
        let leaves = leaves(3);
        let inclusion = InclusionProof::build(0, 3, &leaves[..]).expect("a valid request");
        let json = serde_json::to_value(&inclusion).expect("a proof serializes");
        assert_eq!(json["leaf_index"], 0);
        assert_eq!(json["tree_size"], 3);
        assert_eq!(json["audit_path"][0], leaves[1].to_string());
        let consistency = ConsistencyProof::build(1, 3, &leaves[..]).expect("a valid request");
        let json = serde_json::to_value(&consistency).expect("a proof serializes");
        assert_eq!(json["first"], 1);
        assert_eq!(json["second"], 3);
        assert_eq!(json["consistency_path"].as_array().map(Vec::len), Some(2));
        let back: ConsistencyProof = serde_json::from_value(json).expect("a proof deserializes");
        assert_eq!(back.verify(&leaves[0], &root(&leaves)), Ok(()));
    }
}
