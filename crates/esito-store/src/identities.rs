//! The identity vault's rows on either database: each person's sealed record (its wrapped data
//! key, its ciphertext, its fiscal code's keyed hash), the erasures, and the id of the master
//! key that wraps the data keys. The store sees ciphertext only; sealing and opening are
//! `esito-vault`'s, above it.
//!
//! Invariant: every write checks, in its own transaction, that the master key id it was
//! sealed under is the one recorded (on PostgreSQL holding that row shared, as a rotation holds
//! it exclusive), so a service still holding a rotated-away key writes nothing; registrations
//! and erasures of one pseudonym take turns; an erasure deletes the row and records the erasure in one transaction, and a
//! pseudonym once erased is never registered again. On SQLite the deleted bytes are
//! overwritten (`secure_delete`) and the write-ahead log is emptied after an erasure.

use crate::backend::{each_backend, Conn};
use crate::{Store, StoreError};

/// A person's record as stored: ciphertext only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRow {
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub fiscal_code_hmac: Option<Vec<u8>>,
}

/// What the vault holds for a pseudonym.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredIdentity {
    Present(SealedRow),
    Erased { erased_at: String },
    Absent,
}

/// What a registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    Created,
    Replaced,
    /// The pseudonym was erased: nothing was written.
    Erased {
        erased_at: String,
    },
    /// Another pseudonym of the contract has the same fiscal code: nothing was written.
    FiscalCodeTaken {
        beneficiary_id: String,
    },
    /// The record was sealed under another master key than the one recorded.
    OtherMasterKey {
        recorded: String,
    },
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erasure {
    /// Erased now: the row is gone.
    Erased { erased_at: String },
    /// Erased before; nothing changed.
    AlreadyErased { erased_at: String },
    /// Nothing was registered for the pseudonym: nothing changed.
    Absent,
}

/// One sealed record, for a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultRecord {
    pub contract_id: String,
    pub beneficiary_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

type Row = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

impl Store {
    /// The id of the master key recorded, if the vault has one yet.
    pub async fn vault_master_key_id(&self) -> Result<Option<String>, StoreError> {
        Ok(each_backend!(self, Store(store) => {
            sqlx::query_scalar("SELECT key_id FROM vault_master_key WHERE singleton = 1")
                .fetch_optional(&store.pool)
                .await?
        }))
    }

    /// Records `key_id` as the vault's master key unless one is recorded; returns the one
    /// recorded afterwards.
    pub async fn adopt_vault_master_key(&self, key_id: &str) -> Result<String, StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        // Two services starting together: the first one's key is recorded, the other reads it.
        let recorded: String = each_backend!(self, Store(store) => {
            sqlx::query(
                "INSERT INTO vault_master_key (singleton, key_id, recorded_at) VALUES (1, $1, $2)
                 ON CONFLICT (singleton) DO NOTHING",
            )
            .bind(key_id)
            .bind(&now)
            .execute(&store.pool)
            .await?;
            sqlx::query_scalar("SELECT key_id FROM vault_master_key WHERE singleton = 1")
                .fetch_one(&store.pool)
                .await?
        });
        Ok(recorded)
    }

    /// How many people the vault holds.
    pub async fn identity_count(&self) -> Result<u64, StoreError> {
        let count: i64 = each_backend!(self, Store(store) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM identities")
                .fetch_one(&store.pool)
                .await?
        });
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Registers or replaces the sealed record of `beneficiary_id`, sealed under `key_id`.
    pub async fn put_identity(
        &self,
        contract_id: &str,
        beneficiary_id: &str,
        key_id: &str,
        sealed: &SealedRow,
    ) -> Result<Registration, StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        let mut write = self.begin_write().await?;
        let recorded = each_backend!(write.conn(), Conn(conn), dialect => {
            dialect::lock_identity(&mut *conn, contract_id, beneficiary_id).await?;
            dialect::vault_key_id_locked(&mut *conn, false).await?
        });
        match recorded {
            Some(recorded) if recorded == key_id => {}
            Some(recorded) => return Ok(Registration::OtherMasterKey { recorded }),
            None => {
                return Ok(Registration::OtherMasterKey {
                    recorded: "none".to_owned(),
                })
            }
        }
        let outcome = each_backend!(write.conn(), Conn(conn), dialect => {
            let erased: Option<String> = sqlx::query_scalar(
                "SELECT erased_at FROM identity_erasures WHERE contract_id = $1 AND beneficiary_id = $2",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(erased_at) = erased {
                return Ok(Registration::Erased { erased_at });
            }
            if let Some(hmac) = &sealed.fiscal_code_hmac {
                // Two pseudonyms registered with one fiscal code at once take turns too.
                let code: String = hmac.iter().map(|byte| format!("{byte:02x}")).collect();
                dialect::lock_identity(&mut *conn, contract_id, &format!("fiscal-code/{code}"))
                    .await?;
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT beneficiary_id FROM identities
                     WHERE contract_id = $1 AND fiscal_code_hmac = $2 AND beneficiary_id <> $3",
                )
                .bind(contract_id)
                .bind(hmac)
                .bind(beneficiary_id)
                .fetch_optional(&mut *conn)
                .await?;
                if let Some(beneficiary_id) = other {
                    return Ok(Registration::FiscalCodeTaken { beneficiary_id });
                }
            }
            dialect::overwrite_deleted(&mut *conn, true).await?;
            let replaced = sqlx::query(
                "UPDATE identities SET wrapped_key = $3, ciphertext = $4, fiscal_code_hmac = $5,
                     updated_at = $6
                 WHERE contract_id = $1 AND beneficiary_id = $2",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .bind(&sealed.wrapped_key)
            .bind(&sealed.ciphertext)
            .bind(&sealed.fiscal_code_hmac)
            .bind(&now)
            .execute(&mut *conn)
            .await?
            .rows_affected()
                == 1;
            if !replaced {
                sqlx::query(
                    "INSERT INTO identities
                         (contract_id, beneficiary_id, wrapped_key, ciphertext, fiscal_code_hmac, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(contract_id)
                .bind(beneficiary_id)
                .bind(&sealed.wrapped_key)
                .bind(&sealed.ciphertext)
                .bind(&sealed.fiscal_code_hmac)
                .bind(&now)
                .execute(&mut *conn)
                .await?;
            }
            dialect::overwrite_deleted(&mut *conn, false).await?;
            if replaced {
                Registration::Replaced
            } else {
                Registration::Created
            }
        });
        write.commit().await?;
        Ok(outcome)
    }

    /// The sealed record of `beneficiary_id`, or that it was erased, or nothing.
    pub async fn identity(
        &self,
        contract_id: &str,
        beneficiary_id: &str,
    ) -> Result<StoredIdentity, StoreError> {
        let (row, erased): (Option<Row>, Option<String>) = each_backend!(self, Store(store) => {
            let row = sqlx::query_as(
                "SELECT wrapped_key, ciphertext, fiscal_code_hmac FROM identities
                 WHERE contract_id = $1 AND beneficiary_id = $2",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .fetch_optional(&store.pool)
            .await?;
            let erased = sqlx::query_scalar(
                "SELECT erased_at FROM identity_erasures WHERE contract_id = $1 AND beneficiary_id = $2",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .fetch_optional(&store.pool)
            .await?;
            (row, erased)
        });
        Ok(match (row, erased) {
            (Some((wrapped_key, ciphertext, fiscal_code_hmac)), _) => {
                StoredIdentity::Present(SealedRow {
                    wrapped_key,
                    ciphertext,
                    fiscal_code_hmac,
                })
            }
            (None, Some(erased_at)) => StoredIdentity::Erased { erased_at },
            (None, None) => StoredIdentity::Absent,
        })
    }

    /// The pseudonym whose fiscal code has this keyed hash in the contract, if any.
    pub async fn identity_by_fiscal_code(
        &self,
        contract_id: &str,
        fiscal_code_hmac: &[u8],
    ) -> Result<Option<String>, StoreError> {
        Ok(each_backend!(self, Store(store) => {
            sqlx::query_scalar(
                "SELECT beneficiary_id FROM identities WHERE contract_id = $1 AND fiscal_code_hmac = $2",
            )
            .bind(contract_id)
            .bind(fiscal_code_hmac)
            .fetch_optional(&store.pool)
            .await?
        }))
    }

    /// Erases `beneficiary_id`: deletes its wrapped data key and ciphertext and records the
    /// erasure, in one transaction. On SQLite the freed bytes are overwritten and the
    /// write-ahead log is then emptied (when no reader holds it), so no earlier copy of the row
    /// stays in either file.
    pub async fn erase_identity(
        &self,
        contract_id: &str,
        beneficiary_id: &str,
    ) -> Result<Erasure, StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        let mut write = self.begin_write().await?;
        let outcome = each_backend!(write.conn(), Conn(conn), dialect => {
            dialect::lock_identity(&mut *conn, contract_id, beneficiary_id).await?;
            let erased: Option<String> = sqlx::query_scalar(
                "SELECT erased_at FROM identity_erasures WHERE contract_id = $1 AND beneficiary_id = $2",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(erased_at) = erased {
                return Ok(Erasure::AlreadyErased { erased_at });
            }
            dialect::overwrite_deleted(&mut *conn, true).await?;
            let deleted = sqlx::query(
                "DELETE FROM identities WHERE contract_id = $1 AND beneficiary_id = $2",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            dialect::overwrite_deleted(&mut *conn, false).await?;
            if deleted == 0 {
                return Ok(Erasure::Absent);
            }
            sqlx::query(
                "INSERT INTO identity_erasures (contract_id, beneficiary_id, erased_at)
                 VALUES ($1, $2, $3)",
            )
            .bind(contract_id)
            .bind(beneficiary_id)
            .bind(&now)
            .execute(&mut *conn)
            .await?;
            Erasure::Erased { erased_at: now }
        });
        write.commit().await?;
        if let Store::Sqlite(store) = self {
            store.empty_write_ahead_log().await;
        }
        Ok(outcome)
    }

    /// Every sealed record, for a rotation: `rewrap` gives each its data key wrapped by the new
    /// master key and its new lookup, and the rows and the recorded key id change in one
    /// transaction, or none does. Returns how many records were rewrapped.
    pub async fn rotate_vault_master_key<E>(
        &self,
        old_key_id: &str,
        new_key_id: &str,
        mut rewrap: impl FnMut(&VaultRecord) -> Result<(Vec<u8>, Option<Vec<u8>>), E>,
    ) -> Result<Result<u64, RotationRefused<E>>, StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        let mut write = self.begin_write().await?;
        let recorded = each_backend!(write.conn(), Conn(conn), dialect => {
            dialect::vault_key_id_locked(&mut *conn, true).await?
        });
        match recorded {
            Some(recorded) if recorded == old_key_id => {}
            recorded => {
                return Ok(Err(RotationRefused::OtherMasterKey {
                    recorded: recorded.unwrap_or_else(|| "none".to_owned()),
                }))
            }
        }
        let rows: Vec<(String, String, Vec<u8>, Vec<u8>)> = each_backend!(write.conn(), Conn(conn) => {
            sqlx::query_as(
                "SELECT contract_id, beneficiary_id, wrapped_key, ciphertext FROM identities
                 ORDER BY contract_id, beneficiary_id",
            )
            .fetch_all(&mut *conn)
            .await?
        });
        let mut count = 0;
        for (contract_id, beneficiary_id, wrapped_key, ciphertext) in rows {
            let record = VaultRecord {
                contract_id,
                beneficiary_id,
                wrapped_key,
                ciphertext,
            };
            let (wrapped_key, fiscal_code_hmac) = match rewrap(&record) {
                Ok(rewrapped) => rewrapped,
                Err(error) => {
                    return Ok(Err(RotationRefused::Record {
                        contract_id: record.contract_id,
                        beneficiary_id: record.beneficiary_id,
                        error,
                    }))
                }
            };
            each_backend!(write.conn(), Conn(conn) => {
                sqlx::query(
                    "UPDATE identities SET wrapped_key = $3, fiscal_code_hmac = $4
                     WHERE contract_id = $1 AND beneficiary_id = $2",
                )
                .bind(&record.contract_id)
                .bind(&record.beneficiary_id)
                .bind(&wrapped_key)
                .bind(&fiscal_code_hmac)
                .execute(&mut *conn)
                .await?;
            });
            count += 1;
        }
        each_backend!(write.conn(), Conn(conn) => {
            sqlx::query(
                "UPDATE vault_master_key SET key_id = $1, recorded_at = $2 WHERE singleton = 1",
            )
            .bind(new_key_id)
            .bind(&now)
            .execute(&mut *conn)
            .await?;
        });
        write.commit().await?;
        Ok(Ok(count))
    }
}

/// Why a rotation wrote nothing.
#[derive(Debug)]
pub enum RotationRefused<E> {
    /// The recorded master key is not the one given as the old key.
    OtherMasterKey { recorded: String },
    /// A record the old key does not open.
    Record {
        contract_id: String,
        beneficiary_id: String,
        error: E,
    },
}
