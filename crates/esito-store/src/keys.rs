//! Bearer keys on either database: only each key's SHA-256 is stored, with its principal, its
//! role and the contracts it may touch (a JSON array of ids; empty for an admin of every
//! contract), and its lifecycle: expiry, revocation, last use, and whether it is a demo key.
//!
//! Invariant: a key is never deleted nor rewritten, only revoked (once) and its last use
//! moved forward; its revocation is final.

use crate::backend::each_backend;
use crate::{KeyRecord, Store, StoreError, StoredKey};

/// A row of `api_keys` read as (key_hash, principal, role, contracts, provider_id, expires_at,
/// demo, created_at, last_used_at, revoked_at).
type KeyRow = (
    Vec<u8>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    String,
    Option<String>,
    Option<String>,
);

const KEY_COLUMNS: &str = "key_hash, principal, role, contracts, provider_id, expires_at, demo, \
                           created_at, last_used_at, revoked_at";

impl Store {
    /// Stores a key's hash with what it may do.
    pub async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let contracts =
            serde_json::to_string(&key.contracts).expect("a list of strings serializes");
        let created_at = esito_domain::values::format_recorded_at(chrono::Utc::now());
        each_backend!(self, Store(store) => {
            sqlx::query(
                "INSERT INTO api_keys
                     (key_hash, principal, role, contracts, provider_id, created_at, expires_at, demo)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(key.key_hash.to_vec())
            .bind(&key.principal)
            .bind(&key.role)
            .bind(&contracts)
            .bind(&key.provider_id)
            .bind(&created_at)
            .bind(&key.expires_at)
            .bind(key.demo)
            .execute(&store.pool)
            .await?;
        });
        Ok(())
    }

    /// The key whose SHA-256 is `key_hash`, if one was created (revoked or expired included).
    pub async fn key_by_hash(&self, key_hash: &[u8; 32]) -> Result<Option<StoredKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1");
        let row: Option<KeyRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(&sql)
                .bind(key_hash.to_vec())
                .fetch_optional(&store.pool)
                .await?
        });
        row.map(stored_key).transpose()
    }

    /// Every key, revoked and expired ones included, oldest first.
    pub async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_hash");
        let rows: Vec<KeyRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(&sql).fetch_all(&store.pool).await?
        });
        rows.into_iter().map(stored_key).collect()
    }

    /// Revokes the key at `revoked_at` (RFC 3339, UTC); `false` when it was already revoked,
    /// whose first revocation stands, or when there is no such key.
    pub async fn revoke_key(
        &self,
        key_hash: &[u8; 32],
        revoked_at: &str,
    ) -> Result<bool, StoreError> {
        let done = each_backend!(self, Store(store) => {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL",
            )
            .bind(key_hash.to_vec())
            .bind(revoked_at)
            .execute(&store.pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records a use of the key at `used_at`, unless one was recorded after `unless_since`:
    /// several instances seeing the same key write its last use at most once between them.
    /// Both are RFC 3339 UTC texts of one format, which sort as the instants do.
    pub async fn record_key_use(
        &self,
        key_hash: &[u8; 32],
        used_at: &str,
        unless_since: &str,
    ) -> Result<bool, StoreError> {
        let done = each_backend!(self, Store(store) => {
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $2
                 WHERE key_hash = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(key_hash.to_vec())
            .bind(used_at)
            .bind(unless_since)
            .execute(&store.pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Whether every contract in the database is one the demo's keys name: the demo's keys work
    /// only then. A database with no demo key holds no demo contract either.
    pub async fn holds_only_demo_contracts(&self) -> Result<bool, StoreError> {
        let named: Vec<String> = each_backend!(self, Store(store) => {
            sqlx::query_scalar("SELECT contracts FROM api_keys WHERE demo = $1")
                .bind(true)
                .fetch_all(&store.pool)
                .await?
        });
        let mut demo = std::collections::BTreeSet::new();
        for contracts in named {
            let contracts: Vec<String> =
                serde_json::from_str(&contracts).map_err(|e| StoreError::Corrupt {
                    position: 0,
                    reason: format!("api key: {e}"),
                })?;
            demo.extend(contracts);
        }
        Ok(self
            .contracts()
            .await?
            .iter()
            .all(|contract| demo.contains(contract.as_str())))
    }
}

/// Reads a stored key's row; `contracts` is a JSON array of ids.
pub(crate) fn stored_key(
    (
        key_hash,
        principal,
        role,
        contracts,
        provider_id,
        expires_at,
        demo,
        created_at,
        last_used_at,
        revoked_at,
    ): KeyRow,
) -> Result<StoredKey, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: 0,
        reason: format!("api key: {reason}"),
    };
    Ok(StoredKey {
        record: KeyRecord {
            key_hash: key_hash
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("hash length".to_owned()))?,
            principal,
            role,
            contracts: serde_json::from_str(&contracts).map_err(|e| corrupt(e.to_string()))?,
            provider_id,
            expires_at,
            demo,
        },
        created_at,
        last_used_at,
        revoked_at,
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
            Some("2030-01-01T00:00:00.000000Z".to_owned()),
            false,
            "2026-01-01T00:00:00.000000Z".to_owned(),
            None,
            None,
        )
    }

    #[test]
    fn a_key_row_reads_back_as_the_record_that_was_stored() {
        let stored = stored_key(row(vec![3; 32], r#"["c-1","c-2"]"#)).expect("a valid row");
        assert_eq!(
            stored,
            StoredKey {
                record: KeyRecord {
                    key_hash: [3; 32],
                    principal: "evaluator-1".to_owned(),
                    role: "evaluator".to_owned(),
                    contracts: vec!["c-1".to_owned(), "c-2".to_owned()],
                    provider_id: Some("provider-7".to_owned()),
                    expires_at: Some("2030-01-01T00:00:00.000000Z".to_owned()),
                    demo: false,
                },
                created_at: "2026-01-01T00:00:00.000000Z".to_owned(),
                last_used_at: None,
                revoked_at: None,
            }
        );
    }

    #[test]
    fn a_key_hash_of_the_wrong_length_is_corrupt() {
        let error = stored_key(row(vec![3; 20], "[]")).expect_err("20 bytes");
        assert!(
            matches!(error, StoreError::Corrupt { reason, .. } if reason.contains("hash length"))
        );
    }

    #[test]
    fn contracts_that_are_not_a_json_list_are_corrupt() {
        let error = stored_key(row(vec![3; 32], "c-1")).expect_err("not JSON");
        assert!(
            matches!(error, StoreError::Corrupt { reason, .. } if reason.starts_with("api key:"))
        );
    }
}
