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
pub(crate) mod postgres;
pub mod projection;
pub mod settlement;
mod signing_keys;
pub(crate) mod sqlite;
mod views;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use esito_domain::{ContractId, DomainError, EventId, StreamRef, StreamType, Submission};
use esito_log::merkle::tiles::{self, NodeRange, ProofNodes, StoredNode, TILE_HEIGHT, TILE_WIDTH};
use esito_log::Hash;

pub use ledger::BATCH_SIZE_MAX;

/// Rows per page when the log is read in order (exports, the events endpoint).
pub const PAGE_SIZE_MAX: u32 = 10_000;

/// Tiles of leaves read at once when subtrees missing from an older log are computed: 16,384
/// leaf hashes, half a megabyte.
const FILL_TILES_PER_READ: usize = 1_024;

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

/// (level, index, hash) as a stored node; level 0 is a leaf.
pub(crate) fn stored_node(level: i64, index: i64, hash: &[u8]) -> Result<StoredNode, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: if level == 0 { index as u64 + 1 } else { 0 },
        reason: format!("subtree ({level}, {index}): {reason}"),
    };
    Ok(StoredNode {
        level: u32::try_from(level).map_err(|e| corrupt(e.to_string()))?,
        index: u64::try_from(index).map_err(|e| corrupt(e.to_string()))?,
        hash: Hash::from_slice(hash).map_err(|e| corrupt(e.to_string()))?,
    })
}

/// What the backends' `nodes` read, row by row: the contract's head (level −1: size,
/// frontier) or a stored node (level, index, hash).
#[derive(Default)]
pub(crate) struct NodesRead {
    pub head: Option<(u64, Vec<u8>)>,
    pub nodes: Vec<StoredNode>,
}

impl NodesRead {
    pub(crate) fn push(&mut self, level: i64, second: i64, bytes: &[u8]) -> Result<(), StoreError> {
        if level < 0 {
            self.head = Some((second as u64, bytes.to_vec()));
        } else {
            self.nodes.push(stored_node(level, second, bytes)?);
        }
        Ok(())
    }
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

/// A public key that has signed checkpoints, as kept so that its checkpoints stay verifiable
/// after it is rotated away. `created_at` is when the store first recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub key_id: String,
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
    OtherIsCurrent { key_id: String },
}

/// A contract's head: the size of its log and the tree head over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractHead {
    pub size: u64,
    pub root_hash: Hash,
}

/// Reads a stored head: its size and the tree head its frontier folds into.
fn contract_head(size: u64, frontier: &[u8]) -> Result<ContractHead, StoreError> {
    let frontier =
        esito_log::merkle::Frontier::from_bytes(frontier).map_err(|e| StoreError::Corrupt {
            position: size,
            reason: format!("frontier: {e}"),
        })?;
    Ok(ContractHead {
        size,
        root_hash: frontier.root(),
    })
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
        head.map(|(size, frontier)| contract_head(size, &frontier))
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

    /// What proofs about `points` (leaf indices, below `tree_size`) in the tree of `tree_size`
    /// are built from, read in one statement with the contract's head: the stored subtree
    /// roots and the leaf hashes that [`proof_ranges`](tiles::proof_ranges) names, a few dozen
    /// hashes at any size. Subtrees a log written before they were kept lacks are computed from
    /// the levels below them (the leaves at worst), kept, and never computed again.
    pub async fn proof_nodes(
        &self,
        contract_id: &ContractId,
        tree_size: u64,
        points: &[u64],
    ) -> Result<ProofRead, StoreError> {
        let ranges = tiles::proof_ranges(tree_size, points);
        let (head, read) = self.nodes(contract_id, &ranges, true).await?;
        let head = match head {
            Some((size, frontier)) if size >= tree_size => contract_head(size, &frontier)?,
            other => {
                return Ok(ProofRead::BeyondHead {
                    head_size: other.map_or(0, |(size, _)| size),
                })
            }
        };
        let mut nodes = ProofNodes::new(tree_size);
        for node in read {
            nodes.insert(node.level, node.index, node.hash);
        }
        let missing = nodes.missing(&ranges);
        if !missing.is_empty() {
            self.fill_subtrees(contract_id, &mut nodes, missing).await?;
        }
        Ok(ProofRead::Ready { head, nodes })
    }

    async fn nodes(
        &self,
        contract_id: &ContractId,
        ranges: &[NodeRange],
        head: bool,
    ) -> Result<(Option<(u64, Vec<u8>)>, Vec<StoredNode>), StoreError> {
        match self {
            Store::Sqlite(store) => store.nodes(contract_id, ranges, head).await,
            Store::Postgres(store) => store.nodes(contract_id, ranges, head).await,
        }
    }

    /// Computes the stored subtrees in `missing` (and any they are made of that are missing
    /// too) from the level below, down to the leaves, adds them to `nodes` and keeps them.
    async fn fill_subtrees(
        &self,
        contract_id: &ContractId,
        nodes: &mut ProofNodes,
        missing: Vec<(u32, u64)>,
    ) -> Result<(), StoreError> {
        let mut wanted: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
        for (level, index) in missing {
            if level == 0 {
                return Err(StoreError::Corrupt {
                    position: index + 1,
                    reason: "the leaf hash is missing from the log".to_owned(),
                });
            }
            wanted.entry(level).or_default().insert(index);
        }
        // Top down: read the children of each wanted subtree above the first stored level;
        // those missing are wanted in turn.
        let mut level = wanted.keys().next_back().copied().unwrap_or(0);
        while level > TILE_HEIGHT {
            let children: Vec<NodeRange> = wanted
                .get(&level)
                .into_iter()
                .flatten()
                .map(|index| NodeRange::children_of(level, *index))
                .collect();
            for node in self.nodes(contract_id, &children, false).await?.1 {
                nodes.insert(node.level, node.index, node.hash);
            }
            let below = nodes.missing(&children);
            wanted
                .entry(level - TILE_HEIGHT)
                .or_default()
                .extend(below.into_iter().map(|(_, index)| index));
            level -= TILE_HEIGHT;
        }
        // Bottom up: the first stored level from leaves read a page at a time, each level above
        // from the one below.
        let mut computed = Vec::new();
        for (&level, indices) in &wanted {
            if level == TILE_HEIGHT {
                let indices: Vec<u64> = indices.iter().copied().collect();
                for page in indices
                    .chunk_by(|a, b| b == &(a + 1))
                    .flat_map(|run| run.chunks(FILL_TILES_PER_READ))
                {
                    let (first, last) = (page[0], page[page.len() - 1]);
                    let leaves = NodeRange {
                        level: 0,
                        start: first * TILE_WIDTH,
                        end: (last + 1) * TILE_WIDTH,
                    };
                    let (_, read) = self.nodes(contract_id, &[leaves], false).await?;
                    if read.len() as u64 != leaves.len() {
                        return Err(StoreError::Corrupt {
                            position: leaves.start + read.len() as u64 + 1,
                            reason: "the log has fewer leaf hashes than its head counts".to_owned(),
                        });
                    }
                    let hashes: Vec<Hash> = read.iter().map(|node| node.hash).collect();
                    for (index, tile) in (first..).zip(hashes.chunks_exact(TILE_WIDTH as usize)) {
                        computed.push(StoredNode {
                            level,
                            index,
                            hash: esito_log::root(tile),
                        });
                    }
                }
            } else {
                for &index in indices {
                    let children = NodeRange::children_of(level, index);
                    let row: Vec<Hash> = (children.start..children.end)
                        .map(|child| {
                            nodes
                                .get(children.level, child)
                                .copied()
                                .expect("the level below was read or computed first")
                        })
                        .collect();
                    computed.push(StoredNode {
                        level,
                        index,
                        hash: esito_log::root(&row),
                    });
                }
            }
            for node in &computed {
                nodes.insert(node.level, node.index, node.hash);
            }
        }
        match self {
            Store::Sqlite(store) => store.insert_subtrees(contract_id, &computed).await,
            Store::Postgres(store) => store.insert_subtrees(contract_id, &computed).await,
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

    /// Records the key a service signs with, unless another is current (at most one is), and
    /// says where it stands.
    pub async fn record_signing_key(
        &self,
        key_id: &str,
        public_key: &str,
    ) -> Result<KeyStanding, StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        match self {
            Store::Sqlite(store) => store.insert_signing_key(key_id, public_key, &now).await?,
            Store::Postgres(store) => store.insert_signing_key(key_id, public_key, &now).await?,
        }
        let keys = self.signing_keys().await?;
        if let Some(own) = keys.iter().find(|k| k.key_id == key_id) {
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

    /// Makes `new` (key id, public key) the current signing key in one transaction: `old`, the
    /// key it replaces if its file was at hand, is recorded if it was not, and every key that
    /// was current is retired.
    pub async fn rotate_signing_key(
        &self,
        old: Option<(&str, &str)>,
        new: (&str, &str),
    ) -> Result<(), StoreError> {
        let now = esito_domain::values::format_recorded_at(chrono::Utc::now());
        match self {
            Store::Sqlite(store) => store.rotate_signing_key(old, new, &now).await,
            Store::Postgres(store) => store.rotate_signing_key(old, new, &now).await,
        }
    }

    /// Every public key that has signed checkpoints, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        match self {
            Store::Sqlite(store) => store.signing_keys().await,
            Store::Postgres(store) => store.signing_keys().await,
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
