//! The migrations of both stores, embedded in the binary and applied in order at start.
//!
//! Invariant: a migration is applied once, in its own transaction, with its version recorded
//! in `esito_migrations` in that same transaction; applied migrations are never edited.

use esito_domain::values::format_recorded_at;

use crate::backend::{each_backend, Conn};
use crate::{Store, StoreError};

/// (version, name, SQL) for SQLite.
#[rustfmt::skip]
const SQLITE: &[(u32, &str, &str)] = &[
    (1, "log", include_str!("../../../migrations/sqlite/0001_log.sql")),
    (2, "keys", include_str!("../../../migrations/sqlite/0002_keys.sql")),
    (3, "checkpoints", include_str!("../../../migrations/sqlite/0003_checkpoints.sql")),
    (4, "subtrees", include_str!("../../../migrations/sqlite/0004_subtrees.sql")),
    (5, "signing keys", include_str!("../../../migrations/sqlite/0005_signing_keys.sql")),
    (10, "projection", include_str!("../../../migrations/sqlite/0010_projection.sql")),
    (11, "projection by year", include_str!("../../../migrations/sqlite/0011_projection_by_year.sql")),
    (12, "readiness probe", include_str!("../../../migrations/sqlite/0012_readiness_probe.sql")),
    (13, "projection versions", include_str!("../../../migrations/sqlite/0013_projection_versions.sql")),
    (20, "key lifecycle", include_str!("../../../migrations/sqlite/0020_key_lifecycle.sql")),
    (21, "identity vault", include_str!("../../../migrations/sqlite/0021_identity_vault.sql")),
];

/// (version, name, SQL) for PostgreSQL: no readiness probe table (see its SQLite migration).
#[rustfmt::skip]
const POSTGRES: &[(u32, &str, &str)] = &[
    (1, "log", include_str!("../../../migrations/postgres/0001_log.sql")),
    (2, "keys", include_str!("../../../migrations/postgres/0002_keys.sql")),
    (3, "checkpoints", include_str!("../../../migrations/postgres/0003_checkpoints.sql")),
    (4, "subtrees", include_str!("../../../migrations/postgres/0004_subtrees.sql")),
    (5, "signing keys", include_str!("../../../migrations/postgres/0005_signing_keys.sql")),
    (10, "projection", include_str!("../../../migrations/postgres/0010_projection.sql")),
    (11, "projection by year", include_str!("../../../migrations/postgres/0011_projection_by_year.sql")),
    (13, "projection versions", include_str!("../../../migrations/postgres/0013_projection_versions.sql")),
    (20, "key lifecycle", include_str!("../../../migrations/postgres/0020_key_lifecycle.sql")),
    (21, "identity vault", include_str!("../../../migrations/postgres/0021_identity_vault.sql")),
];

const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS esito_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

impl Store {
    /// Applies the migrations this store has not applied yet, in one transaction begun as
    /// the backend's `begin_migration` begins it (so two instances starting together take
    /// turns).
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        let (migrations, mut write) = match self {
            Store::Sqlite(store) => (SQLITE, store.begin_migration().await?),
            Store::Postgres(store) => (POSTGRES, store.begin_migration().await?),
        };
        each_backend!(write.conn(), Conn(conn) => {
            sqlx::query(CREATE_MIGRATIONS_TABLE).execute(&mut *conn).await?;
            for &(version, name, sql) in migrations {
                let version_column =
                    i32::try_from(version).expect("migration versions are small numbers");
                let applied: Option<i32> =
                    sqlx::query_scalar("SELECT version FROM esito_migrations WHERE version = $1")
                        .bind(version_column)
                        .fetch_optional(&mut *conn)
                        .await?;
                if applied.is_some() {
                    continue;
                }
                sqlx::raw_sql(sql)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| StoreError::Migration {
                        version,
                        reason: e.to_string(),
                    })?;
                sqlx::query(
                    "INSERT INTO esito_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(version_column)
                .bind(name)
                .bind(format_recorded_at(chrono::Utc::now()))
                .execute(&mut *conn)
                .await?;
            }
        });
        write.commit().await
    }
}
