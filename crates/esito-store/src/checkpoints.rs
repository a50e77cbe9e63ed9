//! Signed checkpoints on either database: every one is kept, the same one twice once.

use esito_domain::ContractId;
use esito_log::Checkpoint;

use crate::backend::each_backend;
use crate::{db, Store, StoreError};

/// A row of `checkpoints` read as (contract_id, size, root_hash, timestamp, key_id, signature).
type CheckpointRow = (String, i64, String, String, String, String);

impl Store {
    /// Keeps a signed checkpoint; the same checkpoint twice is kept once (Ed25519 signatures
    /// are deterministic, so the same head at the same second signs the same).
    pub async fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        each_backend!(self, Store(store) => {
            sqlx::query(
                "INSERT INTO checkpoints (contract_id, size, root_hash, timestamp, key_id, signature)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&checkpoint.contract_id)
            .bind(db::to_i64(checkpoint.size)?)
            .bind(checkpoint.root_hash.to_string())
            .bind(&checkpoint.timestamp)
            .bind(checkpoint.key_id.as_str())
            .bind(&checkpoint.signature)
            .execute(&store.pool)
            .await?;
        });
        Ok(())
    }

    /// Every checkpoint of the contract, by size then time.
    pub async fn checkpoints(
        &self,
        contract_id: &ContractId,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<CheckpointRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT contract_id, size, root_hash, timestamp, key_id, signature FROM checkpoints
                 WHERE contract_id = $1 ORDER BY size, timestamp",
            )
            .bind(contract_id.as_str())
            .fetch_all(&store.pool)
            .await?
        });
        rows.into_iter().map(checkpoint).collect()
    }
}

/// Reads a stored checkpoint; a tree head or a key id that does not parse is corrupt at its size.
fn checkpoint(
    (contract_id, size, root_hash, timestamp, key_id, signature): CheckpointRow,
) -> Result<Checkpoint, StoreError> {
    let size = db::to_u64(size)?;
    Ok(Checkpoint {
        contract_id,
        size,
        root_hash: root_hash.parse().map_err(|e: esito_log::HashParseError| {
            StoreError::Corrupt {
                position: size,
                reason: e.to_string(),
            }
        })?,
        timestamp,
        key_id: key_id
            .parse()
            .map_err(|e: esito_log::KeyIdParseError| StoreError::Corrupt {
                position: size,
                reason: e.to_string(),
            })?,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(root_hash: String) -> CheckpointRow {
        (
            "c-1".to_owned(),
            12,
            root_hash,
            "2024-01-01T00:00:00Z".to_owned(),
            "0011223344556677".to_owned(),
            "c2lnbmF0dXJl".to_owned(),
        )
    }

    #[test]
    fn a_checkpoint_row_reads_back_with_its_tree_head() {
        let root = esito_log::leaf_hash(b"root");
        let read = checkpoint(row(root.to_string())).expect("a valid row");
        assert_eq!(read.size, 12);
        assert_eq!(read.root_hash, root);
        assert_eq!(read.key_id.as_str(), "0011223344556677");
    }

    #[test]
    fn a_tree_head_that_does_not_parse_is_corrupt_at_the_checkpoint_size() {
        let error = checkpoint(row("not a hash".to_owned())).expect_err("no hash");
        assert!(matches!(error, StoreError::Corrupt { position: 12, .. }));
    }
}
