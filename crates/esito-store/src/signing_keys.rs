//! The keys that have signed checkpoints, on either database: every one is kept so that its
//! checkpoints stay verifiable after a rotation, and at most one is current (a unique index).
//! Writes go through `begin_write`, which serialises them as each backend does.

use crate::backend::{each_backend, Conn};
use crate::{KeyStanding, SigningKeyRecord, Store, StoreError};

impl Store {
    /// Records the key a service signs with, unless another is current (at most one is), and
    /// says where it stands.
    pub async fn record_signing_key(
        &self,
        key_id: &str,
        public_key: &str,
    ) -> Result<KeyStanding, StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        let mut write = self.begin_write().await?;
        each_backend!(write.conn(), Conn(conn) => {
            sqlx::query(
                "INSERT INTO signing_keys (key_id, public_key, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(key_id)
            .bind(public_key)
            .bind(&now)
            .execute(conn)
            .await?;
        });
        write.commit().await?;
        standing(key_id, &self.signing_keys().await?)
    }

    /// Makes `new` (key id, public key) the current signing key in one transaction: `old`, the
    /// key it replaces if its file was at hand, is recorded if it was not, and every key that
    /// was current is retired.
    pub async fn rotate_signing_key(
        &self,
        old: Option<(&str, &str)>,
        new: (&str, &str),
    ) -> Result<(), StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        let mut write = self.begin_write().await?;
        each_backend!(write.conn(), Conn(conn) => {
            if let Some((key_id, public_key)) = old {
                // Recorded as retired already, if it never was: it is being replaced.
                sqlx::query(
                    "INSERT INTO signing_keys (key_id, public_key, created_at, retired_at)
                     VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
                )
                .bind(key_id)
                .bind(public_key)
                .bind(&now)
                .execute(&mut *conn)
                .await?;
            }
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                .bind(&now)
                .execute(&mut *conn)
                .await?;
            sqlx::query("INSERT INTO signing_keys (key_id, public_key, created_at) VALUES ($1, $2, $3)")
                .bind(new.0)
                .bind(new.1)
                .bind(&now)
                .execute(&mut *conn)
                .await?;
        });
        write.commit().await
    }

    /// Every public key that has signed checkpoints, oldest first; a key id that does not parse
    /// was written behind the store's back.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>)> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT key_id, public_key, created_at, retired_at FROM signing_keys
                 ORDER BY created_at, key_id",
            )
            .fetch_all(&store.pool)
            .await?
        });
        rows.into_iter()
            .map(|(key_id, public_key, created_at, retired_at)| {
                Ok(SigningKeyRecord {
                    key_id: key_id.parse().map_err(|e: esito_log::KeyIdParseError| {
                        StoreError::Database(format!("signing_keys holds a malformed key id: {e}"))
                    })?,
                    public_key,
                    created_at,
                    retired_at,
                })
            })
            .collect()
    }
}

/// Where `key_id` stands among the recorded keys.
fn standing(key_id: &str, keys: &[SigningKeyRecord]) -> Result<KeyStanding, StoreError> {
    if let Some(own) = keys.iter().find(|k| k.key_id == *key_id) {
        return Ok(match &own.retired_at {
            Some(retired_at) => KeyStanding::Retired {
                retired_at: retired_at.clone(),
            },
            None => KeyStanding::Current,
        });
    }
    keys.iter()
        .find(|k| k.retired_at.is_none())
        .map(|current| KeyStanding::OtherIsCurrent {
            key_id: current.key_id.clone(),
        })
        .ok_or_else(|| StoreError::Database(format!("signing key {key_id} was not recorded")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key_id: &str, retired_at: Option<&str>) -> SigningKeyRecord {
        SigningKeyRecord {
            key_id: key_id.parse().expect("a test key id"),
            public_key: format!("pk-{key_id}"),
            created_at: "2024-01-01T00:00:00Z".to_owned(),
            retired_at: retired_at.map(str::to_owned),
        }
    }

    #[test]
    fn a_key_stands_as_recorded_or_behind_the_current_one() {
        let (old, new) = ("0000000000000001", "0000000000000002");
        let keys = [key(old, Some("2024-02-01T00:00:00Z")), key(new, None)];
        assert_eq!(standing(new, &keys).expect("known"), KeyStanding::Current);
        assert_eq!(
            standing(old, &keys).expect("known"),
            KeyStanding::Retired {
                retired_at: "2024-02-01T00:00:00Z".to_owned()
            }
        );
        assert_eq!(
            standing("other", &keys).expect("another is current"),
            KeyStanding::OtherIsCurrent {
                key_id: new.parse().expect("a test key id")
            }
        );
        assert!(standing("other", &keys[..1]).is_err());
    }
}
