//! An online copy of a SQLite store: `VACUUM INTO` a new file, from one read transaction, so
//! the copy is the database as of one commit while the service goes on writing.
//!
//! Invariant: a backup never overwrites a file: the copy is written to a path that did not
//! exist, or nothing is written. PostgreSQL is backed up by its own tools (`pg_dump`).

use std::path::Path;

use crate::{Store, StoreError};

/// Why no backup was made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: the file exists; a backup never overwrites one")]
    Exists { path: String },
    #[error("{path}: the path is not valid UTF-8, which SQLite needs")]
    NotUtf8 { path: String },
    #[error("a PostgreSQL store is backed up with pg_dump, not by esito")]
    Postgres,
    #[error("the backup failed: {0}")]
    Store(#[from] StoreError),
}

impl Store {
    /// Writes a consistent copy of a SQLite store to `path`, a file that must not exist. The
    /// copy is a complete SQLite database (the WAL folded in): copying it to where the store
    /// was restores it.
    pub async fn backup_into(&self, path: &Path) -> Result<(), BackupError> {
        let shown = || path.display().to_string();
        let Store::Sqlite(sqlite) = self else {
            return Err(BackupError::Postgres);
        };
        if path.exists() {
            return Err(BackupError::Exists { path: shown() });
        }
        let target = path
            .to_str()
            .ok_or_else(|| BackupError::NotUtf8 { path: shown() })?;
        // VACUUM INTO itself refuses a target that exists and is not empty; it reads one
        // snapshot, so writers committing meanwhile are not in the copy and do not wait.
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&sqlite.pool)
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }
}
