//! What inclusion and consistency proofs are built from, on either database: the contract's
//! head, the leaf hashes and the stored subtree roots that `tiles::proof_ranges` names, read
//! in one statement; and the subtrees a log written before they were kept lacks, computed once
//! from the level below and kept.
//!
//! Invariant: a stored subtree root is the root of a complete, aligned subtree of the log; it
//! never changes, so keeping one computed later is always safe (`ON CONFLICT DO NOTHING`).

use std::collections::{BTreeMap, BTreeSet};

use esito_domain::ContractId;
use esito_log::merkle::tiles::{self, NodeRange, ProofNodes, StoredNode, TILE_HEIGHT, TILE_WIDTH};
use esito_log::Hash;

use crate::backend::{each_backend, Conn};
use crate::log::contract_head;
use crate::{db, ProofRead, Store, StoreError};

/// Tiles of leaves read at once when subtrees missing from an older log are computed: 16,384
/// leaf hashes, half a megabyte.
const FILL_TILES_PER_READ: usize = 1_024;

/// Subtree roots per INSERT: 4 parameters each, far under either database's limit.
const SUBTREES_PER_INSERT: usize = 500;

/// A second root for the same subtree is an error: the append that completes a subtree is the
/// only one that writes it.
pub(crate) const SUBTREE_IS_NEW: &str = "";
/// A root computed later for an older log may meet one another reader kept meanwhile.
pub(crate) const SUBTREE_MAY_BE_KEPT: &str = " ON CONFLICT DO NOTHING";

/// The contract's head (size, frontier) if it was asked for, and the nodes read.
pub(crate) type Nodes = (Option<(u64, Vec<u8>)>, Vec<StoredNode>);

/// What a backend's `nodes` reads: the leaf hashes (level 0, index = position - 1) and stored
/// subtree roots in `ranges`, by level then index (nodes never stored are absent), and with
/// `head` the contract's head, all in one snapshot.
#[derive(Clone, Copy)]
pub(crate) struct NodesWanted<'a> {
    pub contract_id: &'a ContractId,
    pub ranges: &'a [NodeRange],
    pub head: bool,
}

impl Store {
    /// What proofs about `points` (leaf indices, below `tree_size`) in the tree of `tree_size`
    /// are built from, read in one statement with the contract's head: the stored subtree
    /// roots and the leaf hashes that [`proof_ranges`](tiles::proof_ranges) names, a few dozen
    /// hashes at any size. Subtrees a log written before they were kept lacks are computed from
    /// the levels below them (the leaves at worst), kept, and never computed again.
    pub async fn proof_nodes(
        &self,
        contract_id: &ContractId,
        tree_size: u64,
        points: &[u64],
    ) -> Result<ProofRead, StoreError> {
        let ranges = tiles::proof_ranges(tree_size, points);
        let (head, read) = self.nodes(contract_id, &ranges, true).await?;
        let head = match head {
            Some((size, frontier)) if size >= tree_size => contract_head(size, &frontier)?,
            other => {
                return Ok(ProofRead::BeyondHead {
                    head_size: other.map_or(0, |(size, _)| size),
                })
            }
        };
        let mut nodes = ProofNodes::new(tree_size);
        for node in read {
            nodes.insert(node.level, node.index, node.hash);
        }
        let missing = nodes.missing(&ranges);
        if !missing.is_empty() {
            self.fill_subtrees(contract_id, &mut nodes, missing).await?;
        }
        Ok(ProofRead::Ready { head, nodes })
    }

    /// The leaf hashes (level 0, index = position - 1) and stored subtree roots in `ranges`,
    /// by level then index (nodes never stored are absent), and with `head` the contract's
    /// head, in one snapshot. Each backend reads them its own way (see its `nodes`).
    async fn nodes(
        &self,
        contract_id: &ContractId,
        ranges: &[NodeRange],
        head: bool,
    ) -> Result<Nodes, StoreError> {
        let wanted = NodesWanted {
            contract_id,
            ranges,
            head,
        };
        each_backend!(self, Store(store) => store.nodes(wanted).await)
    }

    /// Computes the stored subtrees in `missing` (and any they are made of that are missing
    /// too) from the level below, down to the leaves, adds them to `nodes` and keeps them.
    async fn fill_subtrees(
        &self,
        contract_id: &ContractId,
        nodes: &mut ProofNodes,
        missing: Vec<(u32, u64)>,
    ) -> Result<(), StoreError> {
        let mut wanted: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
        for (level, index) in missing {
            if level == 0 {
                return Err(StoreError::Corrupt {
                    position: index + 1,
                    reason: "the leaf hash is missing from the log".to_owned(),
                });
            }
            wanted.entry(level).or_default().insert(index);
        }
        // Top down: read the children of each wanted subtree above the first stored level;
        // those missing are wanted in turn.
        let mut level = wanted.keys().next_back().copied().unwrap_or(0);
        while level > TILE_HEIGHT {
            let children: Vec<NodeRange> = wanted
                .get(&level)
                .into_iter()
                .flatten()
                .map(|index| NodeRange::children_of(level, *index))
                .collect();
            for node in self.nodes(contract_id, &children, false).await?.1 {
                nodes.insert(node.level, node.index, node.hash);
            }
            let below = nodes.missing(&children);
            wanted
                .entry(level - TILE_HEIGHT)
                .or_default()
                .extend(below.into_iter().map(|(_, index)| index));
            level -= TILE_HEIGHT;
        }
        // Bottom up: the first stored level from leaves read a page at a time, each level above
        // from the one below.
        let mut computed = Vec::new();
        for (&level, indices) in &wanted {
            if level == TILE_HEIGHT {
                let indices: Vec<u64> = indices.iter().copied().collect();
                for page in indices
                    .chunk_by(|a, b| b == &(a + 1))
                    .flat_map(|run| run.chunks(FILL_TILES_PER_READ))
                {
                    let (first, last) = (page[0], page[page.len() - 1]);
                    let leaves = NodeRange {
                        level: 0,
                        start: first * TILE_WIDTH,
                        end: (last + 1) * TILE_WIDTH,
                    };
                    let (_, read) = self.nodes(contract_id, &[leaves], false).await?;
                    if read.len() as u64 != leaves.len() {
                        return Err(StoreError::Corrupt {
                            position: leaves.start + read.len() as u64 + 1,
                            reason: "the log has fewer leaf hashes than its head counts".to_owned(),
                        });
                    }
                    let hashes: Vec<Hash> = read.iter().map(|node| node.hash).collect();
                    for (index, tile) in (first..).zip(hashes.chunks_exact(TILE_WIDTH as usize)) {
                        computed.push(StoredNode {
                            level,
                            index,
                            hash: esito_log::root(tile),
                        });
                    }
                }
            } else {
                for &index in indices {
                    let children = NodeRange::children_of(level, index);
                    let row: Vec<Hash> = (children.start..children.end)
                        .map(|child| {
                            nodes
                                .get(children.level, child)
                                .copied()
                                .expect("the level below was read or computed first")
                        })
                        .collect();
                    computed.push(StoredNode {
                        level,
                        index,
                        hash: esito_log::root(&row),
                    });
                }
            }
            for node in &computed {
                nodes.insert(node.level, node.index, node.hash);
            }
        }
        let mut write = self.begin_write().await?;
        insert_subtrees(write.conn(), contract_id, &computed, SUBTREE_MAY_BE_KEPT).await?;
        write.commit().await
    }
}

/// Inserts subtree roots, `conflict` being [`SUBTREE_IS_NEW`] or [`SUBTREE_MAY_BE_KEPT`].
pub(crate) async fn insert_subtrees(
    conn: Conn<'_>,
    contract_id: &ContractId,
    nodes: &[StoredNode],
    conflict: &'static str,
) -> Result<(), StoreError> {
    each_backend!(conn, Conn(conn) => {
        for chunk in nodes.chunks(SUBTREES_PER_INSERT) {
            let mut query =
                sqlx::QueryBuilder::new("INSERT INTO log_subtrees (contract_id, level, idx, hash) ");
            let indices = db::to_i64_all(chunk.iter().map(|node| node.index))?;
            query.push_values(chunk.iter().zip(indices), |mut values, (node, index)| {
                values
                    .push_bind(contract_id.as_str())
                    .push_bind(i64::from(node.level))
                    .push_bind(index)
                    .push_bind(node.hash.as_bytes().to_vec());
            });
            query.push(conflict);
            query.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// What a backend's `nodes` reads, row by row: the contract's head (level −1: size,
/// frontier) or a stored node (level, index, hash).
#[derive(Default)]
pub(crate) struct NodesRead {
    pub head: Option<(u64, Vec<u8>)>,
    pub nodes: Vec<StoredNode>,
}

impl NodesRead {
    pub(crate) fn push(&mut self, level: i64, second: i64, bytes: &[u8]) -> Result<(), StoreError> {
        if level < 0 {
            self.head = Some((db::to_u64(second)?, bytes.to_vec()));
        } else {
            self.nodes.push(stored_node(level, second, bytes)?);
        }
        Ok(())
    }

    pub(crate) fn into_nodes(self) -> Nodes {
        (self.head, self.nodes)
    }
}

/// (level, index, hash) as a stored node; level 0 is a leaf.
pub(crate) fn stored_node(level: i64, index: i64, hash: &[u8]) -> Result<StoredNode, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        // A leaf's position is its index + 1; 0 (no entry's) when that is unknown.
        position: match u64::try_from(index) {
            Ok(index) if level == 0 => index + 1,
            _ => 0,
        },
        reason: format!("subtree ({level}, {index}): {reason}"),
    };
    Ok(StoredNode {
        level: u32::try_from(level).map_err(|e| corrupt(e.to_string()))?,
        index: u64::try_from(index).map_err(|e| corrupt(e.to_string()))?,
        hash: Hash::from_slice(hash).map_err(|e| corrupt(e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_node_reads_its_level_index_and_hash() {
        let hash = esito_log::leaf_hash(b"a");
        let node = stored_node(4, 2, hash.as_bytes()).expect("a valid row");
        assert_eq!((node.level, node.index, node.hash), (4, 2, hash));
    }

    #[test]
    fn a_leaf_with_a_short_hash_is_corrupt_at_its_position() {
        let error = stored_node(0, 6, &[0; 8]).expect_err("8 bytes");
        assert!(matches!(error, StoreError::Corrupt { position: 7, .. }));
    }

    #[test]
    fn a_negative_index_is_corrupt() {
        let hash = esito_log::leaf_hash(b"a");
        let error = stored_node(4, -1, hash.as_bytes()).expect_err("negative");
        assert!(
            matches!(error, StoreError::Corrupt { position: 0, reason } if reason.starts_with("subtree (4, -1)"))
        );
    }

    #[test]
    fn the_head_row_and_the_node_rows_are_told_apart_by_level() {
        let hash = esito_log::leaf_hash(b"a");
        let mut read = NodesRead::default();
        read.push(-1, 17, &[9, 9]).expect("a head row");
        read.push(0, 3, hash.as_bytes()).expect("a leaf row");
        let (head, nodes) = read.into_nodes();
        assert_eq!(head, Some((17, vec![9, 9])));
        assert_eq!(nodes.len(), 1);
        assert_eq!((nodes[0].level, nodes[0].index), (0, 3));
    }
}
