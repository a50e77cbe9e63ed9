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
mod ledger;
mod migrate;
mod postgres;
pub mod projection;
pub mod settlement;
mod sqlite;
mod views;

use std::io::Write;

use esito_domain::{ContractId, DomainError, EventId, StreamRef, StreamType, Submission};
use esito_log::Hash;

pub use ledger::BATCH_SIZE_MAX;

/// Rows per page when the log is read in order (exports, the events endpoint).
pub const PAGE_SIZE_MAX: u32 = 10_000;

/// A database failure, in the store's own words: nothing above the store sees `sqlx::Error`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("the database refused the operation: {0}")]
    Database(String),
    #[error("migration {version} failed: {reason}")]
    Migration { version: u32, reason: String },
    #[error("stored entry at position {position} is unreadable: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("the indicator definitions built into this binary are invalid: {0}")]
    Definitions(String),
    #[error("writing the export: {0}")]
    Export(#[from] std::io::Error),
}

/// Reads a stored key's row; `contracts` is a JSON array of ids.
pub(crate) fn key_record(
    key_hash: &[u8],
    principal: String,
    role: String,
    contracts: &str,
    provider_id: Option<String>,
) -> Result<KeyRecord, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: 0,
        reason: format!("api key: {reason}"),
    };
    Ok(KeyRecord {
        key_hash: key_hash
            .try_into()
            .map_err(|_| corrupt("hash length".to_owned()))?,
        principal,
        role,
        contracts: serde_json::from_str(contracts).map_err(|e| corrupt(e.to_string()))?,
        provider_id,
    })
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error.to_string())
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
    pub position: u64,
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
}

/// A contract's head: the size of its log and the tree head over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractHead {
    pub size: u64,
    pub root_hash: Hash,
}

/// The log, on whichever database the URL names.
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl Store {
    /// Connects and applies the migrations: `sqlite://PATH` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::SqliteStore::connect(url).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::PgStore::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Appends a batch of commands to one contract's log in one transaction, all or nothing.
    /// `principal` is recorded as `recorded_by`.
    pub async fn append(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        if submissions.is_empty() || submissions.len() > BATCH_SIZE_MAX {
            return Err(AppendError::BatchSize {
                size: submissions.len(),
            });
        }
        let digests: Vec<[u8; 32]> = submissions.iter().map(ledger::request_digest).collect();
        match self {
            Store::Sqlite(store) => {
                store
                    .append(contract_id, principal, submissions, &digests)
                    .await
            }
            Store::Postgres(store) => {
                store
                    .append(contract_id, principal, submissions, &digests)
                    .await
            }
        }
    }

    /// Entries after `after`, in position order, at most `limit` (capped at `PAGE_SIZE_MAX`).
    pub async fn entries(
        &self,
        contract_id: &ContractId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let limit = limit.min(PAGE_SIZE_MAX);
        match self {
            Store::Sqlite(store) => store.entries(contract_id, after, limit).await,
            Store::Postgres(store) => store.entries(contract_id, after, limit).await,
        }
    }

    /// The contract's head, or `None` when nothing was ever appended.
    pub async fn head(&self, contract_id: &ContractId) -> Result<Option<ContractHead>, StoreError> {
        let head = match self {
            Store::Sqlite(store) => store.head(contract_id).await?,
            Store::Postgres(store) => store.head(contract_id).await?,
        };
        head.map(|(size, frontier)| {
            let frontier = esito_log::merkle::Frontier::from_bytes(&frontier).map_err(|e| {
                StoreError::Corrupt {
                    position: size,
                    reason: format!("frontier: {e}"),
                }
            })?;
            Ok(ContractHead {
                size,
                root_hash: frontier.root(),
            })
        })
        .transpose()
    }

    /// The entry that recorded `event_id`, if any.
    pub async fn entry_by_event_id(
        &self,
        contract_id: &ContractId,
        event_id: EventId,
    ) -> Result<Option<StoredEntry>, StoreError> {
        match self {
            Store::Sqlite(store) => store.entry_by_event_id(contract_id, event_id).await,
            Store::Postgres(store) => store.entry_by_event_id(contract_id, event_id).await,
        }
    }

    /// Every entry of one stream, in position order.
    pub async fn stream_entries(
        &self,
        contract_id: &ContractId,
        stream: &StreamRef,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        match self {
            Store::Sqlite(store) => store.stream_entries(contract_id, stream).await,
            Store::Postgres(store) => store.stream_entries(contract_id, stream).await,
        }
    }

    /// Ids of the streams of one type, in id order, after `after`, at most `limit`.
    pub async fn stream_ids(
        &self,
        contract_id: &ContractId,
        stream_type: StreamType,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let limit = limit.min(PAGE_SIZE_MAX);
        match self {
            Store::Sqlite(store) => {
                store
                    .stream_ids(contract_id, stream_type, after.unwrap_or(""), limit)
                    .await
            }
            Store::Postgres(store) => {
                store
                    .stream_ids(contract_id, stream_type, after.unwrap_or(""), limit)
                    .await
            }
        }
    }

    /// The leaf hashes of positions 1..=`size`, in order: what proofs are built from.
    pub async fn leaf_hashes(
        &self,
        contract_id: &ContractId,
        size: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        match self {
            Store::Sqlite(store) => store.leaf_hashes(contract_id, size).await,
            Store::Postgres(store) => store.leaf_hashes(contract_id, size).await,
        }
    }

    /// Keeps a signed checkpoint; the same checkpoint twice is kept once (Ed25519 signatures
    /// are deterministic, so the same head at the same second signs the same).
    pub async fn insert_checkpoint(
        &self,
        checkpoint: &esito_log::Checkpoint,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(store) => store.insert_checkpoint(checkpoint).await,
            Store::Postgres(store) => store.insert_checkpoint(checkpoint).await,
        }
    }

    /// Every checkpoint of the contract, by size then time.
    pub async fn checkpoints(
        &self,
        contract_id: &ContractId,
    ) -> Result<Vec<esito_log::Checkpoint>, StoreError> {
        match self {
            Store::Sqlite(store) => store.checkpoints(contract_id).await,
            Store::Postgres(store) => store.checkpoints(contract_id).await,
        }
    }

    /// Stores a key's hash with what it may do.
    pub async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(store) => store.insert_key(key).await,
            Store::Postgres(store) => store.insert_key(key).await,
        }
    }

    /// The key whose SHA-256 is `key_hash`, if one was created.
    pub async fn key_by_hash(&self, key_hash: &[u8; 32]) -> Result<Option<KeyRecord>, StoreError> {
        match self {
            Store::Sqlite(store) => store.key_by_hash(key_hash).await,
            Store::Postgres(store) => store.key_by_hash(key_hash).await,
        }
    }

    /// Every contract with at least one entry.
    pub async fn contracts(&self) -> Result<Vec<ContractId>, StoreError> {
        let ids = match self {
            Store::Sqlite(store) => store.contracts().await?,
            Store::Postgres(store) => store.contracts().await?,
        };
        ids.iter()
            .map(|id| {
                ContractId::parse(id).map_err(|e| StoreError::Corrupt {
                    position: 0,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// Writes the export of section 3: the entries, then a line per checkpoint.
    /// Returns the number of entries written.
    pub async fn export(
        &self,
        contract_id: &ContractId,
        out: &mut impl Write,
    ) -> Result<u64, StoreError> {
        let mut after = 0;
        loop {
            let page = self.entries(contract_id, after, PAGE_SIZE_MAX).await?;
            let Some(last) = page.last() else {
                for checkpoint in self.checkpoints(contract_id).await? {
                    let line = esito_log::ExportLine::Checkpoint(checkpoint);
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string(&line).expect("a checkpoint serializes")
                    )?;
                }
                return Ok(after);
            };
            after = last.position;
            for entry in &page {
                writeln!(out, "{}", entry.export_line())?;
            }
        }
    }
}
