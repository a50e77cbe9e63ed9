//! The stores: each contract's append-only log on SQLite (embedded) or PostgreSQL, its head, and the append transaction.
//!
//! Invariants of the log, held by every backend:
//! - positions of a contract are 1..n without gaps, in commit order: an append takes the
//!   contract's head row lock first and hands out `size + 1 ..`, all in one transaction;
//! - an event id appears once per contract: a retry with the same content answers with the
//!   original and writes nothing, the same id with other content is refused;
//! - the entry's canonical bytes and their leaf hash are written with the event, and the
//!   database itself refuses UPDATE and DELETE on the log (triggers, see `migrations/`).

pub mod anchor;
mod append;
mod backend;
mod backup;
mod check;
mod checkpoints;
pub mod database_url;
mod db;
mod fault;
mod group;
pub mod identities;
mod keys;
mod ledger;
mod log;
mod migrate;
pub(crate) mod postgres;
pub mod projection;
mod proofs;
mod ready;
pub mod settlement;
mod signing_keys;
pub(crate) mod sqlite;
mod views;

use esito_domain::{DomainError, EventId};
use esito_log::merkle::tiles::ProofNodes;
use esito_log::{Hash, Position};

pub use backup::BackupError;
pub use check::CHECK_SIZE_MAX;
pub use database_url::redacted;
pub use group::GroupStats;
pub use ledger::BATCH_SIZE_MAX;
pub use ready::READY_TIMEOUT;

/// Rows per page when the log is read in order (exports, the events endpoint).
pub const PAGE_SIZE_MAX: u32 = 10_000;

/// A database failure, in the store's own words: nothing above the store sees `sqlx::Error`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("the database refused the operation: {0}")]
    Database(String),
    /// The database is down, unreachable, full, read-only or busy (`fault.rs`): the request is
    /// not acknowledged, and the same request may succeed once it is back (as a replay, if a
    /// commit went through and only its answer was lost).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("migration {version} failed: {reason}")]
    Migration { version: u32, reason: String },
    #[error("stored entry at position {position} is unreadable: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("the indicator definitions built into this binary are invalid: {0}")]
    Definitions(String),
    #[error("writing the export: {0}")]
    Export(#[from] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if fault::is_unavailable(&error) {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::Database(error.to_string())
        }
    }
}

impl StoreError {
    /// True when the database could not serve now (down, full, read-only, busy): a retry may
    /// succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Why an append wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("command {index} refused: {error}")]
    Rejected { index: usize, error: DomainError },
    #[error("command {index}: event id {event_id} was already used for a different event")]
    EventIdReused { index: usize, event_id: EventId },
    #[error("a batch holds 1 to {BATCH_SIZE_MAX} commands (got {size})")]
    BatchSize { size: usize },
    #[error("stored entry at position {position} is unreadable: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(error: sqlx::Error) -> Self {
        AppendError::Store(error.into())
    }
}

impl AppendError {
    /// True when the database could not serve now: the append is not acknowledged.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AppendError::Store(error) if error.is_unavailable())
    }
}

/// What the log answered for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub event_id: EventId,
    pub position: u64,
    pub leaf_hash: Hash,
    /// True when the event was already in the log and nothing was written.
    pub duplicate: bool,
}

/// One entry as stored: its position, leaf hash and canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub position: Position,
    pub leaf_hash: Hash,
    pub entry: String,
}

impl StoredEntry {
    /// The export line of section 3: the canonical entry is embedded byte for byte.
    pub fn export_line(&self) -> String {
        format!(
            r#"{{"position":{},"leaf_hash":"{}","entry":{}}}"#,
            self.position, self.leaf_hash, self.entry
        )
    }
}

/// A bearer key as stored: only its SHA-256, the principal, the role and what it may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_hash: [u8; 32],
    pub principal: String,
    pub role: String,
    /// Contract ids; empty for an admin of every contract.
    pub contracts: Vec<String>,
    /// The provider a provider's key speaks for.
    pub provider_id: Option<String>,
    /// When it stops working (RFC 3339, UTC); `None`: never.
    pub expires_at: Option<String>,
    /// One of the demo's public keys: it works only while the database holds nothing but the
    /// demo's contracts.
    pub demo: bool,
}

/// A stored key with its lifecycle: what `esito keys list` and `GET /v1/keys` show (never the
/// key, which is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub record: KeyRecord,
    pub created_at: String,
    /// Written at most once a minute.
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A public key that has signed checkpoints, as kept so that its checkpoints stay verifiable
/// after it is rotated away. `created_at` is when the store first recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub key_id: esito_log::KeyId,
    /// Base64, as published at `/v1/checkpoint-key`.
    pub public_key: String,
    pub created_at: String,
    /// When a rotation replaced it; `None` for the current key.
    pub retired_at: Option<String>,
}

/// What the store says of the key a service means to sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStanding {
    /// The current key (recorded now if it was not known).
    Current,
    /// Replaced by a rotation: it must not sign again.
    Retired { retired_at: String },
    /// Another key is current; this one was not recorded.
    OtherIsCurrent { key_id: esito_log::KeyId },
}

/// A contract's head: the size of its log and the tree head over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractHead {
    pub size: u64,
    pub root_hash: Hash,
}

/// What a proof is built from, as [`Store::proof_nodes`] read it.
#[derive(Debug)]
pub enum ProofRead {
    /// The log holds the tree asked for: its head now, and the nodes.
    Ready {
        head: ContractHead,
        nodes: ProofNodes,
    },
    /// The log holds fewer entries than the tree asked for (0: nothing was ever appended).
    BeyondHead { head_size: u64 },
}

/// The log, on whichever database the URL names. Its methods live in the modules by purpose
/// (`log`, `append`, `proofs`, `checkpoints`, `keys`, `signing_keys`, `projection`); each query
/// they share is written once for both databases (`backend`, ADR 0008).
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl Store {
    /// Connects and applies the migrations: `sqlite://PATH` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = if url.starts_with("sqlite:") {
            Store::Sqlite(sqlite::SqliteStore::connect(url).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Store::Postgres(postgres::PgStore::connect(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(redacted(url)));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// For the tests of a full disk: from the next use of each connection on, a SQLite
    /// database may hold at most `pages` pages (`max_page_count`, never below its size);
    /// `None` lifts the limit. PostgreSQL is left as it is.
    #[doc(hidden)]
    pub fn limit_sqlite_pages(&self, pages: Option<u32>) {
        if let Store::Sqlite(store) = self {
            store.limit_pages(pages);
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}
