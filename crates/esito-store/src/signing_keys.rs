//! The signing keys' table on both stores: the same SQL (`$n` placeholders, which SQLite reads
//! too), written once; each backend's `begin_write` serialises the writes its own way.

/// The key methods for one backend.
macro_rules! signing_keys_backend {
    ($store:ty) => {
        impl $store {
            pub(crate) async fn insert_signing_key(
                &self,
                key_id: &str,
                public_key: &str,
                now: &str,
            ) -> Result<(), $crate::StoreError> {
                let (_guard, mut tx) = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO signing_keys (key_id, public_key, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(key_id)
                .bind(public_key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn rotate_signing_key(
                &self,
                old: Option<(&str, &str)>,
                new: (&str, &str),
                now: &str,
            ) -> Result<(), $crate::StoreError> {
                let (_guard, mut tx) = self.begin_write().await?;
                if let Some((key_id, public_key)) = old {
                    // Recorded as retired already, if it never was: it is being replaced.
                    sqlx::query(
                        "INSERT INTO signing_keys (key_id, public_key, created_at, retired_at)
                         VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(key_id)
                    .bind(public_key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO signing_keys (key_id, public_key, created_at) VALUES ($1, $2, $3)",
                )
                .bind(new.0)
                .bind(new.1)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn signing_keys(
                &self,
            ) -> Result<Vec<$crate::SigningKeyRecord>, $crate::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT key_id, public_key, created_at, retired_at FROM signing_keys
                     ORDER BY created_at, key_id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::SigningKeyRecord {
                            key_id: row.try_get(0)?,
                            public_key: row.try_get(1)?,
                            created_at: row.try_get(2)?,
                            retired_at: row.try_get(3)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use signing_keys_backend;
