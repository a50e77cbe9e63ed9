//! Reads of the log on either database: pages of entries, an entry by its event id, a
//! stream's entries, stream ids, the head, the contracts, the export.
//!
//! Invariant: the rows read are decoded here and only here, checked on the way (a leaf hash of
//! the wrong length, a frontier that does not parse), so nothing above sees a malformed row.

use std::io::Write;

use esito_domain::{ContractId, EventId, StreamRef, StreamType};
use esito_log::merkle::Frontier;
use esito_log::Hash;

use crate::backend::each_backend;
use crate::{db, ContractHead, Store, StoreError, StoredEntry, PAGE_SIZE_MAX};

/// A row of `log_entries` read as (position, leaf_hash, entry).
pub(crate) type EntryRow = (i64, Vec<u8>, String);

impl Store {
    /// Entries after `after`, in position order, at most `limit` (capped at `PAGE_SIZE_MAX`).
    pub async fn entries(
        &self,
        contract_id: &ContractId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let limit = limit.min(PAGE_SIZE_MAX);
        let rows: Vec<EntryRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT position, leaf_hash, entry FROM log_entries
                 WHERE contract_id = $1 AND position > $2 ORDER BY position LIMIT $3",
            )
            .bind(contract_id.as_str())
            .bind(db::to_i64(after)?)
            .bind(i64::from(limit))
            .fetch_all(&store.pool)
            .await?
        });
        rows.into_iter().map(stored_entry).collect()
    }

    /// The contract's head, or `None` when nothing was ever appended.
    pub async fn head(&self, contract_id: &ContractId) -> Result<Option<ContractHead>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = each_backend!(self, Store(store) => {
            sqlx::query_as("SELECT size, frontier FROM contract_heads WHERE contract_id = $1")
                .bind(contract_id.as_str())
                .fetch_optional(&store.pool)
                .await?
        });
        row.map(|(size, frontier)| contract_head(db::to_u64(size)?, &frontier))
            .transpose()
    }

    /// The entry that recorded `event_id`, if any.
    pub async fn entry_by_event_id(
        &self,
        contract_id: &ContractId,
        event_id: EventId,
    ) -> Result<Option<StoredEntry>, StoreError> {
        let row: Option<EntryRow> = each_backend!(self, Store(store), dialect => {
            sqlx::query_as(
                "SELECT position, leaf_hash, entry FROM log_entries
                 WHERE contract_id = $1 AND event_id = $2",
            )
            .bind(contract_id.as_str())
            .bind(dialect::event_id(event_id))
            .fetch_optional(&store.pool)
            .await?
        });
        row.map(stored_entry).transpose()
    }

    /// Every entry of one stream, in position order.
    pub async fn stream_entries(
        &self,
        contract_id: &ContractId,
        stream: &StreamRef,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows: Vec<EntryRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT position, leaf_hash, entry FROM log_entries
                 WHERE contract_id = $1 AND stream_type = $2 AND stream_id = $3 ORDER BY stream_seq",
            )
            .bind(contract_id.as_str())
            .bind(stream.stream_type.as_str())
            .bind(stream.stream_id.as_str())
            .fetch_all(&store.pool)
            .await?
        });
        rows.into_iter().map(stored_entry).collect()
    }

    /// Ids of the streams of one type, in id order, after `after`, at most `limit`.
    pub async fn stream_ids(
        &self,
        contract_id: &ContractId,
        stream_type: StreamType,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let limit = limit.min(PAGE_SIZE_MAX);
        Ok(each_backend!(self, Store(store) => {
            sqlx::query_scalar(
                "SELECT stream_id FROM log_entries
                 WHERE contract_id = $1 AND stream_type = $2 AND stream_seq = 1 AND stream_id > $3
                 ORDER BY stream_id LIMIT $4",
            )
            .bind(contract_id.as_str())
            .bind(stream_type.as_str())
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&store.pool)
            .await?
        }))
    }

    /// Every contract with at least one entry.
    pub async fn contracts(&self) -> Result<Vec<ContractId>, StoreError> {
        let ids: Vec<String> = each_backend!(self, Store(store) => {
            sqlx::query_scalar(
                "SELECT contract_id FROM contract_heads WHERE size > 0 ORDER BY contract_id",
            )
            .fetch_all(&store.pool)
            .await?
        });
        ids.iter()
            .map(|id| {
                ContractId::parse(id).map_err(|e| StoreError::Corrupt {
                    position: 0,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// Writes the export of section 3: the entries, then a line per checkpoint.
    /// Returns the number of entries written.
    pub async fn export(
        &self,
        contract_id: &ContractId,
        out: &mut impl Write,
    ) -> Result<u64, StoreError> {
        let mut after = 0;
        loop {
            let page = self.entries(contract_id, after, PAGE_SIZE_MAX).await?;
            let Some(last) = page.last() else {
                for checkpoint in self.checkpoints(contract_id).await? {
                    let line = esito_log::ExportLine::Checkpoint(checkpoint);
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string(&line).expect("a checkpoint serializes")
                    )?;
                }
                return Ok(after);
            };
            after = last.position.get();
            for entry in &page {
                writeln!(out, "{}", entry.export_line())?;
            }
        }
    }
}

/// (position, leaf_hash, entry) as a stored entry.
pub(crate) fn stored_entry(
    (position, leaf_hash, entry): EntryRow,
) -> Result<StoredEntry, StoreError> {
    let position = db::position(position)?;
    let leaf_hash = Hash::from_slice(&leaf_hash).map_err(|e| StoreError::Corrupt {
        position: position.get(),
        reason: e.to_string(),
    })?;
    Ok(StoredEntry {
        position,
        leaf_hash,
        entry,
    })
}

/// Reads a stored head: its size and the tree head its frontier folds into.
pub(crate) fn contract_head(size: u64, frontier: &[u8]) -> Result<ContractHead, StoreError> {
    let frontier = Frontier::from_bytes(frontier).map_err(|e| StoreError::Corrupt {
        position: size,
        reason: format!("frontier: {e}"),
    })?;
    Ok(ContractHead {
        size,
        root_hash: frontier.root(),
    })
}

/// A stored (stream_type, stream_id) as a stream reference.
pub(crate) fn stream_ref(stream_type: &str, stream_id: &str) -> Result<StreamRef, String> {
    let stream_type = StreamType::parse(stream_type)
        .ok_or_else(|| format!("unknown stream type {stream_type}"))?;
    let stream_id = esito_domain::StreamId::parse(stream_id).map_err(|e| e.to_string())?;
    Ok(StreamRef::new(stream_type, stream_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use esito_log::Position;

    #[test]
    fn a_stored_entry_keeps_its_position_hash_and_text() {
        let hash = esito_log::leaf_hash(b"{}");
        let entry = stored_entry((7, hash.as_bytes().to_vec(), "{}".to_owned()))
            .expect("a 32-byte hash reads");
        assert_eq!(
            entry,
            StoredEntry {
                position: Position::new(7).expect("7 is a position"),
                leaf_hash: hash,
                entry: "{}".to_owned()
            }
        );
    }

    #[test]
    fn a_stored_entry_at_position_zero_or_below_is_corrupt() {
        let hash = esito_log::leaf_hash(b"{}");
        for position in [0, -1, i64::MIN] {
            let read = stored_entry((position, hash.as_bytes().to_vec(), "{}".to_owned()));
            assert!(
                matches!(&read, Err(StoreError::Corrupt { reason, .. }) if reason.contains(&format!("found {position}"))),
                "position {position} read as {read:?}"
            );
        }
    }

    #[test]
    fn a_leaf_hash_of_the_wrong_length_is_corrupt_at_its_position() {
        let error = stored_entry((9, vec![0; 31], "{}".to_owned())).expect_err("31 bytes");
        assert!(matches!(error, StoreError::Corrupt { position: 9, .. }));
    }

    #[test]
    fn a_head_folds_its_frontier_into_the_tree_head() {
        let leaves: Vec<Hash> = (0u8..5).map(|i| esito_log::leaf_hash(&[i])).collect();
        let mut frontier = Frontier::default();
        for leaf in &leaves {
            frontier.push_and_report(*leaf, |_, _| {});
        }
        let head = contract_head(5, &frontier.to_bytes()).expect("a frontier reads");
        assert_eq!(head.size, 5);
        assert_eq!(head.root_hash, esito_log::root(&leaves));
    }

    #[test]
    fn a_frontier_that_does_not_parse_is_corrupt_at_the_head_size() {
        let error = contract_head(3, &[1, 2, 3]).expect_err("three bytes are no frontier");
        assert!(matches!(error, StoreError::Corrupt { position: 3, .. }));
    }

    #[test]
    fn a_stream_of_an_unknown_type_is_refused() {
        assert!(stream_ref("no-such-type", "x").is_err());
        let contract = esito_domain::events::contract_stream(
            &ContractId::parse("c-1").expect("a contract id"),
        );
        let read = stream_ref(contract.stream_type.as_str(), contract.stream_id.as_str())
            .expect("the contract stream reads back");
        assert_eq!(read, contract);
    }
}
