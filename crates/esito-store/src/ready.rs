//! Whether the database can serve now, as `/readyz` asks: it answers, it takes writes, and it
//! says so within `READY_TIMEOUT`.
//!
//! Invariant: a store is answered ready only after a statement succeeded on it during the
//! check; on SQLite, after a write failed as unavailable, only once a write succeeded again.

use std::time::Duration;

use crate::{Store, StoreError};

/// The longest a readiness check takes: a database that does not answer within it is not
/// ready, so `/readyz` answers within 2 s.
pub const READY_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The probe's row on SQLite: 16 pages of 4 KiB, more than one append needs, so a file with
/// no room for it has no room for an append either.
const PROBE_BYTES: i64 = 64 * 1024;

impl Store {
    /// `Ok` when the database answers and takes writes: PostgreSQL answers a statement and is
    /// neither a standby nor read-only; SQLite answers a statement and, after a write failed
    /// as unavailable (`SqliteStore::append`), commits a probe write of a few pages.
    pub async fn check_ready(&self) -> Result<(), StoreError> {
        let check = async {
            match self {
                Store::Sqlite(store) => store.check_ready(PROBE_BYTES).await,
                Store::Postgres(store) => store.check_ready().await,
            }
        };
        tokio::time::timeout(READY_TIMEOUT, check)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(format!(
                    "the database did not answer within {} ms",
                    READY_TIMEOUT.as_millis()
                )))
            })
    }
}
