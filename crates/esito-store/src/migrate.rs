//! The migrations of both stores, embedded in the binary and applied in order at start.
//!
//! Invariant: a migration is applied once, in its own transaction, with its version recorded
//! in `esito_migrations` in that same transaction; applied migrations are never edited.

/// (version, name, SQL) for SQLite.
#[rustfmt::skip]
pub(crate) const SQLITE: &[(u32, &str, &str)] = &[
    (1, "log", include_str!("../../../migrations/sqlite/0001_log.sql")),
    (2, "keys", include_str!("../../../migrations/sqlite/0002_keys.sql")),
    (3, "checkpoints", include_str!("../../../migrations/sqlite/0003_checkpoints.sql")),
    (4, "subtrees", include_str!("../../../migrations/sqlite/0004_subtrees.sql")),
    (5, "signing keys", include_str!("../../../migrations/sqlite/0005_signing_keys.sql")),
    (10, "projection", include_str!("../../../migrations/sqlite/0010_projection.sql")),
    (11, "projection by year", include_str!("../../../migrations/sqlite/0011_projection_by_year.sql")),
];

/// (version, name, SQL) for PostgreSQL.
#[rustfmt::skip]
pub(crate) const POSTGRES: &[(u32, &str, &str)] = &[
    (1, "log", include_str!("../../../migrations/postgres/0001_log.sql")),
    (2, "keys", include_str!("../../../migrations/postgres/0002_keys.sql")),
    (3, "checkpoints", include_str!("../../../migrations/postgres/0003_checkpoints.sql")),
    (4, "subtrees", include_str!("../../../migrations/postgres/0004_subtrees.sql")),
    (5, "signing keys", include_str!("../../../migrations/postgres/0005_signing_keys.sql")),
    (10, "projection", include_str!("../../../migrations/postgres/0010_projection.sql")),
    (11, "projection by year", include_str!("../../../migrations/postgres/0011_projection_by_year.sql")),
];

pub(crate) const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS esito_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";
