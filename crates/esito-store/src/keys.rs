//! Bearer keys on either database: only each key's SHA-256 is stored, with its principal, its
//! role and the contracts it may touch (a JSON array of ids; empty for an admin of every
//! contract).

use crate::backend::each_backend;
use crate::{KeyRecord, Store, StoreError};

/// A row of `api_keys` read as (key_hash, principal, role, contracts, provider_id).
type KeyRow = (Vec<u8>, String, String, String, Option<String>);

impl Store {
    /// Stores a key's hash with what it may do.
    pub async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let contracts =
            serde_json::to_string(&key.contracts).expect("a list of strings serializes");
        let created_at = esito_domain::values::format_recorded_at(chrono::Utc::now());
        each_backend!(self, Store(store) => {
            sqlx::query(
                "INSERT INTO api_keys (key_hash, principal, role, contracts, provider_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(key.key_hash.to_vec())
            .bind(&key.principal)
            .bind(&key.role)
            .bind(&contracts)
            .bind(&key.provider_id)
            .bind(&created_at)
            .execute(&store.pool)
            .await?;
        });
        Ok(())
    }

    /// The key whose SHA-256 is `key_hash`, if one was created.
    pub async fn key_by_hash(&self, key_hash: &[u8; 32]) -> Result<Option<KeyRecord>, StoreError> {
        let row: Option<KeyRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT key_hash, principal, role, contracts, provider_id FROM api_keys
                 WHERE key_hash = $1",
            )
            .bind(key_hash.to_vec())
            .fetch_optional(&store.pool)
            .await?
        });
        row.map(key_record).transpose()
    }
}

/// Reads a stored key's row; `contracts` is a JSON array of ids.
pub(crate) fn key_record(
    (key_hash, principal, role, contracts, provider_id): KeyRow,
) -> Result<KeyRecord, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: 0,
        reason: format!("api key: {reason}"),
    };
    Ok(KeyRecord {
        key_hash: key_hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("hash length".to_owned()))?,
        principal,
        role,
        contracts: serde_json::from_str(&contracts).map_err(|e| corrupt(e.to_string()))?,
        provider_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key_hash: Vec<u8>, contracts: &str) -> KeyRow {
        (
            key_hash,
            "evaluator-1".to_owned(),
            "evaluator".to_owned(),
            contracts.to_owned(),
            Some("provider-7".to_owned()),
        )
    }

    #[test]
    fn a_key_row_reads_back_as_the_record_that_was_stored() {
        let record = key_record(row(vec![3; 32], r#"["c-1","c-2"]"#)).expect("a valid row");
        assert_eq!(
            record,
            KeyRecord {
                key_hash: [3; 32],
                principal: "evaluator-1".to_owned(),
                role: "evaluator".to_owned(),
                contracts: vec!["c-1".to_owned(), "c-2".to_owned()],
                provider_id: Some("provider-7".to_owned()),
            }
        );
    }

    #[test]
    fn a_key_hash_of_the_wrong_length_is_corrupt() {
        let error = key_record(row(vec![3; 20], "[]")).expect_err("20 bytes");
        assert!(
            matches!(error, StoreError::Corrupt { reason, .. } if reason.contains("hash length"))
        );
    }

    #[test]
    fn contracts_that_are_not_a_json_list_are_corrupt() {
        let error = key_record(row(vec![3; 32], "c-1")).expect_err("not JSON");
        assert!(
            matches!(error, StoreError::Corrupt { reason, .. } if reason.starts_with("api key:"))
        );
    }
}
