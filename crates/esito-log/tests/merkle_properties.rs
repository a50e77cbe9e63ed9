//! Property tests of the Merkle tree: the frontier agrees with the recursive tree head, and proofs over random logs verify and fail once altered.

use std::collections::HashMap;

use esito_log::merkle::ExtensionEdges;
use esito_log::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion, Frontier, Hash,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// Distinct leaves for a log of `n` entries, varied by `seed`.
fn leaves(seed: u64, n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| {
            let mut data = [0u8; 16];
            data[..8].copy_from_slice(&seed.to_le_bytes());
            data[8..].copy_from_slice(&i.to_le_bytes());
            leaf_hash(&data)
        })
        .collect()
}

fn head(leaves: &[Hash], size: u64) -> Hash {
    root(&leaves[..size as usize])
}

fn flipped(path: &[Hash], at: usize) -> Vec<Hash> {
    let mut changed = path.to_vec();
    let mut bytes = *changed[at].as_bytes();
    bytes[31] ^= 1;
    changed[at] = Hash::from_bytes(bytes);
    changed
}

/// `MTH` straight from RFC 9162's definition, remembering complete subtrees so that the head of
/// every prefix of a long log costs O(log n) hashes rather than O(n) in a debug build.
struct ReferenceTree<'a> {
    leaves: &'a [Hash],
    complete: HashMap<(usize, usize), Hash>,
}

impl ReferenceTree<'_> {
    fn head(&mut self, start: usize, len: usize) -> Hash {
        if len == 1 {
            return self.leaves[start];
        }
        if let Some(hash) = self.complete.get(&(start, len)) {
            return *hash;
        }
        let k = 1 << (usize::BITS - 1 - (len - 1).leading_zeros());
        let hash = node_hash(&self.head(start, k), &self.head(start + k, len - k));
        if len.is_power_of_two() {
            self.complete.insert((start, len), hash);
        }
        hash
    }
}

#[test]
fn the_frontier_root_equals_the_tree_head_for_every_size_up_to_4096() {
    let leaves = leaves(7, 4096);
    let mut reference = ReferenceTree {
        leaves: &leaves,
        complete: HashMap::new(),
    };
    let mut frontier = Frontier::new();
    assert_eq!(frontier.root(), root(&[]));
    for (n, leaf) in leaves.iter().enumerate() {
        frontier.push(*leaf);
        assert_eq!(frontier.size(), n as u64 + 1);
        assert_eq!(frontier.root(), reference.head(0, n + 1), "size {}", n + 1);
    }
    for n in [1, 2, 3, 1000, 1023, 1024, 1025, 4095, 4096] {
        assert_eq!(root(&leaves[..n]), reference.head(0, n), "size {n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn the_frontier_root_is_the_full_tree_head_at_every_size_of_a_random_log_up_to_5000(
        seed in any::<u64>(),
        n in 0u64..=5000,
    ) {
        let leaves = leaves(seed, n);
        let mut reference = ReferenceTree {
            leaves: &leaves,
            complete: HashMap::new(),
        };
        let mut frontier = Frontier::new();
        prop_assert_eq!(frontier.root(), root(&[]));
        for (size, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf);
            prop_assert_eq!(frontier.root(), reference.head(0, size + 1), "size {}", size + 1);
            prop_assert_eq!(frontier.nodes().len(), (size + 1).count_ones() as usize);
        }
    }

    #[test]
    fn consistency_proofs_from_a_frontier_and_the_compact_range_after_it_are_those_from_the_leaves(
        seed in any::<u64>(),
        n in 1u64..=5000,
        picks in vec(any::<u64>(), 4),
    ) {
        let leaves = leaves(seed, n);
        for pick in picks {
            let first = pick % (n + 1);
            let mut edges = ExtensionEdges::new(Frontier::from_leaves(&leaves[..first as usize]));
            for (index, leaf) in leaves.iter().enumerate().skip(first as usize) {
                edges.push(*leaf);
                let second = index as u64 + 1;
                // Every size after `first` would be quadratic in a debug build; the powers of two
                // and their neighbours, and the end, are where the proof's shape changes.
                if second == n || second.is_power_of_two() || (second + 1).is_power_of_two() {
                    prop_assert_eq!(
                        consistency_proof(first, second, &edges),
                        consistency_proof(first, second, &leaves[..]),
                        "from {} to {}", first, second
                    );
                }
            }
            prop_assert!(edges.hashes_kept() <= 3 * 64);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_persisted_frontier_has_the_same_root_and_keeps_growing_the_same(
        seed in any::<u64>(),
        n in 0u64..3000,
        more in 0u64..50,
    ) {
        let leaves = leaves(seed, n + more);
        let frontier = Frontier::from_leaves(&leaves[..n as usize]);
        let mut restored = Frontier::from_bytes(&frontier.to_bytes())
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(restored.root(), frontier.root());
        for leaf in &leaves[n as usize..] {
            restored.push(*leaf);
        }
        prop_assert_eq!(restored.root(), root(&leaves));
    }

    #[test]
    fn inclusion_proofs_verify_and_fail_once_a_hash_the_index_or_the_size_changes(
        seed in any::<u64>(),
        n in 1u64..=2000,
        picks in vec((any::<u64>(), any::<u64>(), any::<u64>()), 4),
    ) {
        let leaves = leaves(seed, n);
        for (a, b, c) in picks {
            let size = 1 + a % n;
            let index = b % size;
            let tree_head = head(&leaves, size);
            let leaf = leaves[index as usize];
            let path = inclusion_proof(index, size, &leaves[..])
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &path, &tree_head), Ok(()));

            for at in 0..path.len() {
                let changed = flipped(&path, at);
                prop_assert!(verify_inclusion(&leaf, index, size, &changed, &tree_head).is_err());
            }
            if size > 1 {
                let other_index = (index + 1 + c % (size - 1)) % size;
                prop_assert!(
                    verify_inclusion(&leaf, other_index, size, &path, &tree_head).is_err(),
                    "leaf {} of {} verified as leaf {}", index, size, other_index
                );
            }
            // Another size, with that size's true tree head: what a verifier holding a
            // checkpoint at the other size would check against.
            let other_size = index + 1 + c % (n - index);
            if other_size != size {
                let other_head = head(&leaves, other_size);
                prop_assert!(
                    verify_inclusion(&leaf, index, other_size, &path, &other_head).is_err(),
                    "leaf {} of {} verified in a tree of {}", index, size, other_size
                );
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_fail_once_a_hash_or_either_size_changes(
        seed in any::<u64>(),
        n in 1u64..=2000,
        picks in vec((any::<u64>(), any::<u64>(), any::<u64>()), 4),
    ) {
        let leaves = leaves(seed, n);
        for (a, b, c) in picks {
            let second = 1 + a % n;
            let first = b % (second + 1);
            let (first_head, second_head) = (head(&leaves, first), head(&leaves, second));
            let path = consistency_proof(first, second, &leaves[..])
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            prop_assert_eq!(
                verify_consistency(first, second, &first_head, &second_head, &path),
                Ok(())
            );
            prop_assert_eq!(path.is_empty(), first == 0 || first == second);
            if path.is_empty() {
                continue;
            }

            for at in 0..path.len() {
                let changed = flipped(&path, at);
                prop_assert!(
                    verify_consistency(first, second, &first_head, &second_head, &changed).is_err()
                );
            }
            let other_first = (first + 1 + c % second) % (second + 1);
            prop_assert!(
                verify_consistency(
                    other_first,
                    second,
                    &head(&leaves, other_first),
                    &second_head,
                    &path
                )
                .is_err(),
                "{} to {} verified from {}", first, second, other_first
            );
            let other_second = first + (c % (n - first + 1));
            if other_second != second {
                prop_assert!(
                    verify_consistency(
                        first,
                        other_second,
                        &first_head,
                        &head(&leaves, other_second),
                        &path
                    )
                    .is_err(),
                    "{} to {} verified to {}", first, second, other_second
                );
            }
        }
    }
}
