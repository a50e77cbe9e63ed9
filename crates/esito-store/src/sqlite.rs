//! The log on SQLite: the embedded default, one file, WAL with `synchronous=FULL`.
//!
//! Invariant: appends are serialised twice over: an in-process mutex (so writers queue instead
//! of spinning on `SQLITE_BUSY`) and `BEGIN IMMEDIATE` (so another process cannot interleave).

use std::str::FromStr;
use std::time::Duration;

use esito_domain::{ContractId, StreamRef, Submission};
use esito_log::merkle::tiles::{NodeRange, StoredNode};
use esito_log::merkle::Frontier;
use esito_log::Hash;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::ledger::{self, Head, KnownEvent, NewRow, PlanError, StreamRow};
use crate::{migrate, AppendError, AppendOutcome, StoreError, StoredEntry};

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite's limit on host parameters is 32,766; stay well under it.
const ROWS_PER_INSERT: usize = 500;
/// SQLite's limit on compound SELECTs is 500.
const STREAMS_PER_QUERY: usize = 200;

pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    pub(crate) writer: tokio::sync::Mutex<()>,
}

impl SqliteStore {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A ledger must not lose an acknowledged commit on power loss: FULL, not NORMAL.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            writer: tokio::sync::Mutex::new(()),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(migrate::CREATE_MIGRATIONS_TABLE)
            .execute(&mut *tx)
            .await?;
        for &(version, name, sql) in migrate::SQLITE {
            let applied: Option<i64> =
                sqlx::query_scalar("SELECT version FROM esito_migrations WHERE version = ?")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if applied.is_some() {
                continue;
            }
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration {
                    version,
                    reason: e.to_string(),
                })?;
            sqlx::query("INSERT INTO esito_migrations (version, name, applied_at) VALUES (?, ?, datetime('now'))")
                .bind(version)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A write transaction: the in-process writer lock, then `BEGIN IMMEDIATE`.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<
        (
            Option<tokio::sync::MutexGuard<'_, ()>>,
            Transaction<'static, Sqlite>,
        ),
        StoreError,
    > {
        let guard = self.writer.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((Some(guard), tx))
    }

    pub(crate) async fn append(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
        digests: &[[u8; 32]],
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head = lock_head(&mut tx, contract_id).await?;
        let mut ids: Vec<String> = submissions.iter().map(|s| s.event_id.to_string()).collect();
        ids.extend(
            submissions
                .iter()
                .filter_map(|s| s.command.corrects())
                .map(|id| id.to_string()),
        );
        let known = known_events(&mut tx, contract_id, &ids).await?;
        let resolved = ledger::resolve(submissions, digests, &known, contract_id)?;
        let mut streams = ledger::streams_needed(submissions, &resolved, contract_id);
        let now = chrono::Utc::now();
        let plan = loop {
            let rows = stream_rows(&mut tx, contract_id, streams.iter().cloned().collect()).await?;
            let histories = ledger::histories(&rows)?;
            let planned = ledger::plan(
                contract_id,
                principal,
                now,
                head.clone(),
                submissions,
                digests,
                resolved.clone(),
                histories,
                Some(&streams),
            );
            match planned {
                Ok(plan) => break plan,
                Err(PlanError::NeedStreams(more)) => streams.extend(more),
                Err(PlanError::Append(error)) => return Err(error),
            }
        };
        if !plan.rows.is_empty() {
            insert(&mut tx, contract_id, &plan.rows).await?;
            insert_subtrees(&mut tx, contract_id, &plan.subtrees, "").await?;
            sqlx::query("UPDATE contract_heads SET size = ?, frontier = ? WHERE contract_id = ?")
                .bind(plan.head.size as i64)
                .bind(plan.head.frontier.to_bytes())
                .bind(contract_id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(plan.outcomes)
    }

    pub(crate) async fn entries(
        &self,
        contract_id: &ContractId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, leaf_hash, entry FROM log_entries
             WHERE contract_id = ? AND position > ? ORDER BY position LIMIT ?",
        )
        .bind(contract_id.as_str())
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_entry).collect()
    }

    pub(crate) async fn head(
        &self,
        contract_id: &ContractId,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT size, frontier FROM contract_heads WHERE contract_id = ?")
            .bind(contract_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| (row.get::<i64, _>(0) as u64, row.get(1))))
    }

    pub(crate) async fn entry_by_event_id(
        &self,
        contract_id: &ContractId,
        event_id: uuid::Uuid,
    ) -> Result<Option<StoredEntry>, StoreError> {
        let row = sqlx::query("SELECT position, leaf_hash, entry FROM log_entries WHERE contract_id = ? AND event_id = ?")
            .bind(contract_id.as_str())
            .bind(event_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| stored_entry(&row)).transpose()
    }

    pub(crate) async fn stream_entries(
        &self,
        contract_id: &ContractId,
        stream: &esito_domain::StreamRef,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, leaf_hash, entry FROM log_entries
             WHERE contract_id = ? AND stream_type = ? AND stream_id = ? ORDER BY stream_seq",
        )
        .bind(contract_id.as_str())
        .bind(stream.stream_type.as_str())
        .bind(stream.stream_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_entry).collect()
    }

    pub(crate) async fn stream_ids(
        &self,
        contract_id: &ContractId,
        stream_type: esito_domain::StreamType,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT stream_id FROM log_entries
             WHERE contract_id = ? AND stream_type = ? AND stream_seq = 1 AND stream_id > ?
             ORDER BY stream_id LIMIT ?",
        )
        .bind(contract_id.as_str())
        .bind(stream_type.as_str())
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The leaf hashes (level 0, index = position - 1) and stored subtree roots in `ranges`,
    /// by level then index (nodes never stored are absent), and with `head` the contract's
    /// head (size, frontier) read in the same statement.
    pub(crate) async fn nodes(
        &self,
        contract_id: &ContractId,
        ranges: &[NodeRange],
        head: bool,
    ) -> Result<(Option<(u64, Vec<u8>)>, Vec<StoredNode>), StoreError> {
        let mut read = crate::NodesRead::default();
        for (n, chunk) in ranges.chunks(STREAMS_PER_QUERY).enumerate() {
            // One range scan of a primary key per range, as a compound SELECT.
            let mut query = QueryBuilder::<Sqlite>::new("");
            if head && n == 0 {
                query
                    .push("SELECT -1, size, frontier FROM contract_heads WHERE contract_id = ")
                    .push_bind(contract_id.as_str());
            }
            for (i, range) in chunk.iter().enumerate() {
                if i > 0 || (head && n == 0) {
                    query.push(" UNION ALL ");
                }
                if range.level == 0 {
                    query
                        .push("SELECT 0, position - 1, leaf_hash FROM log_entries WHERE contract_id = ")
                        .push_bind(contract_id.as_str())
                        .push(" AND position > ")
                        .push_bind(range.start as i64)
                        .push(" AND position <= ")
                        .push_bind(range.end as i64);
                } else {
                    query
                        .push("SELECT level, idx, hash FROM log_subtrees WHERE contract_id = ")
                        .push_bind(contract_id.as_str())
                        .push(" AND level = ")
                        .push_bind(range.level as i64)
                        .push(" AND idx >= ")
                        .push_bind(range.start as i64)
                        .push(" AND idx < ")
                        .push_bind(range.end as i64);
                }
            }
            query.push(" ORDER BY 1, 2");
            for row in query.build().fetch_all(&self.pool).await? {
                read.push(row.get(0), row.get(1), row.get(2))?;
            }
        }
        Ok((read.head, read.nodes))
    }

    /// Keeps subtree roots computed from the log; one already kept is left as it is.
    pub(crate) async fn insert_subtrees(
        &self,
        contract_id: &ContractId,
        nodes: &[StoredNode],
    ) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let mut connection = self.pool.acquire().await?;
        insert_subtrees(
            &mut connection,
            contract_id,
            nodes,
            " ON CONFLICT DO NOTHING",
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn insert_checkpoint(
        &self,
        checkpoint: &esito_log::Checkpoint,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (contract_id, size, root_hash, timestamp, key_id, signature)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(&checkpoint.contract_id)
        .bind(checkpoint.size as i64)
        .bind(checkpoint.root_hash.to_string())
        .bind(&checkpoint.timestamp)
        .bind(&checkpoint.key_id)
        .bind(&checkpoint.signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn checkpoints(
        &self,
        contract_id: &ContractId,
    ) -> Result<Vec<esito_log::Checkpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT contract_id, size, root_hash, timestamp, key_id, signature FROM checkpoints
             WHERE contract_id = ? ORDER BY size, timestamp",
        )
        .bind(contract_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let size = row.get::<i64, _>(1) as u64;
                Ok(esito_log::Checkpoint {
                    contract_id: row.get(0),
                    size,
                    root_hash: row.get::<&str, _>(2).parse().map_err(
                        |e: esito_log::HashParseError| StoreError::Corrupt {
                            position: size,
                            reason: e.to_string(),
                        },
                    )?,
                    timestamp: row.get(3),
                    key_id: row.get(4),
                    signature: row.get(5),
                })
            })
            .collect()
    }

    pub(crate) async fn insert_key(&self, key: &crate::KeyRecord) -> Result<(), StoreError> {
        let contracts =
            serde_json::to_string(&key.contracts).expect("a list of strings serializes");
        sqlx::query(
            "INSERT INTO api_keys (key_hash, principal, role, contracts, provider_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(key.key_hash.to_vec())
        .bind(&key.principal)
        .bind(&key.role)
        .bind(contracts)
        .bind(&key.provider_id)
        .bind(esito_domain::values::format_recorded_at(chrono::Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn key_by_hash(
        &self,
        key_hash: &[u8; 32],
    ) -> Result<Option<crate::KeyRecord>, StoreError> {
        let row = sqlx::query("SELECT key_hash, principal, role, contracts, provider_id FROM api_keys WHERE key_hash = ?")
            .bind(key_hash.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            crate::key_record(
                row.get::<&[u8], _>(0),
                row.get(1),
                row.get(2),
                row.get::<&str, _>(3),
                row.get(4),
            )
        })
        .transpose()
    }

    pub(crate) async fn contracts(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT contract_id FROM contract_heads WHERE size > 0 ORDER BY contract_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn lock_head(
    tx: &mut Transaction<'_, Sqlite>,
    contract_id: &ContractId,
) -> Result<Head, AppendError> {
    // BEGIN IMMEDIATE already holds the database's write lock; the upsert creates the head.
    let row = sqlx::query(
        "INSERT INTO contract_heads (contract_id, size, frontier) VALUES (?, 0, ?)
         ON CONFLICT (contract_id) DO UPDATE SET size = size RETURNING size, frontier",
    )
    .bind(contract_id.as_str())
    .bind(Frontier::default().to_bytes())
    .fetch_one(&mut **tx)
    .await?;
    let size = row.get::<i64, _>(0) as u64;
    let frontier =
        Frontier::from_bytes(row.get::<&[u8], _>(1)).map_err(|e| AppendError::Corrupt {
            position: size,
            reason: format!("frontier: {e}"),
        })?;
    Ok(Head { size, frontier })
}

async fn known_events(
    tx: &mut Transaction<'_, Sqlite>,
    contract_id: &ContractId,
    ids: &[String],
) -> Result<Vec<KnownEvent>, AppendError> {
    let mut known = Vec::new();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT event_id, position, stream_type, stream_id, request_digest, leaf_hash
             FROM log_entries INDEXED BY log_entries_event WHERE contract_id = ",
        );
        query
            .push_bind(contract_id.as_str())
            .push(" AND event_id IN (");
        let mut separated = query.separated(", ");
        for id in chunk {
            separated.push_bind(id);
        }
        query.push(")");
        for row in query.build().fetch_all(&mut **tx).await? {
            let position = row.get::<i64, _>(1) as u64;
            let corrupt = |reason: String| AppendError::Corrupt { position, reason };
            known.push(KnownEvent {
                event_id: row
                    .get::<&str, _>(0)
                    .parse()
                    .map_err(|e: uuid::Error| corrupt(e.to_string()))?,
                position,
                stream: stream_ref(row.get(2), row.get(3)).map_err(corrupt)?,
                request_digest: row.get(4),
                leaf_hash: Hash::from_slice(row.get::<&[u8], _>(5))
                    .map_err(|e| corrupt(e.to_string()))?,
            });
        }
    }
    Ok(known)
}

pub(crate) fn stream_ref(stream_type: &str, stream_id: &str) -> Result<StreamRef, String> {
    let stream_type = esito_domain::StreamType::parse(stream_type)
        .ok_or_else(|| format!("unknown stream type {stream_type}"))?;
    let stream_id = esito_domain::StreamId::parse(stream_id).map_err(|e| e.to_string())?;
    Ok(StreamRef::new(stream_type, stream_id))
}

async fn stream_rows(
    tx: &mut Transaction<'_, Sqlite>,
    contract_id: &ContractId,
    streams: Vec<StreamRef>,
) -> Result<Vec<StreamRow>, AppendError> {
    let mut rows = Vec::new();
    for chunk in streams.chunks(STREAMS_PER_QUERY) {
        // One indexed lookup per stream, as a compound SELECT: a row-value IN list is not
        // guaranteed to use the (contract, stream, seq) index, and INDEXED BY insists on it.
        let mut query = QueryBuilder::<Sqlite>::new("");
        for (i, stream) in chunk.iter().enumerate() {
            if i > 0 {
                query.push(" UNION ALL ");
            }
            query
                .push("SELECT position, entry FROM log_entries INDEXED BY log_entries_stream WHERE contract_id = ")
                .push_bind(contract_id.as_str())
                .push(" AND stream_type = ")
                .push_bind(stream.stream_type.as_str())
                .push(" AND stream_id = ")
                .push_bind(stream.stream_id.as_str());
        }
        for row in query.build().fetch_all(&mut **tx).await? {
            rows.push(StreamRow {
                position: row.get::<i64, _>(0) as u64,
                entry: row.get(1),
            });
        }
    }
    rows.sort_by_key(|row| row.position);
    Ok(rows)
}

async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    contract_id: &ContractId,
    rows: &[NewRow],
) -> Result<(), AppendError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO log_entries (contract_id, position, event_id, stream_type, stream_id, stream_seq, event_type,
             occurred_at, recorded_at, recorded_by, corrects, entry, leaf_hash, request_digest) ",
        );
        query.push_values(chunk, |mut values, row| {
            values
                .push_bind(contract_id.as_str())
                .push_bind(row.position as i64)
                .push_bind(row.event_id.to_string())
                .push_bind(row.stream_type)
                .push_bind(row.stream_id.as_str())
                .push_bind(row.stream_seq as i64)
                .push_bind(row.event_type)
                .push_bind(row.occurred_at.as_str())
                .push_bind(row.recorded_at.as_str())
                .push_bind(row.recorded_by.as_str())
                .push_bind(row.corrects.map(|id| id.to_string()))
                .push_bind(row.entry.as_str())
                .push_bind(row.leaf_hash.as_bytes().to_vec())
                .push_bind(row.request_digest.to_vec());
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts subtree roots, `conflict` being empty (a second root for the same subtree is an
/// error) or an ON CONFLICT clause.
async fn insert_subtrees(
    connection: &mut sqlx::SqliteConnection,
    contract_id: &ContractId,
    nodes: &[StoredNode],
    conflict: &str,
) -> Result<(), sqlx::Error> {
    for chunk in nodes.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO log_subtrees (contract_id, level, idx, hash) ",
        );
        query.push_values(chunk, |mut values, node| {
            values
                .push_bind(contract_id.as_str())
                .push_bind(node.level as i64)
                .push_bind(node.index as i64)
                .push_bind(node.hash.as_bytes().to_vec());
        });
        query.push(conflict);
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// (position, leaf_hash, entry) as a stored entry.
fn stored_entry(row: &sqlx::sqlite::SqliteRow) -> Result<StoredEntry, StoreError> {
    let position = row.get::<i64, _>(0) as u64;
    let leaf_hash = Hash::from_slice(row.get::<&[u8], _>(1)).map_err(|e| StoreError::Corrupt {
        position,
        reason: e.to_string(),
    })?;
    Ok(StoredEntry {
        position,
        leaf_hash,
        entry: row.get(2),
    })
}

crate::projection::projection_backend!(SqliteStore, Sqlite, "", "");

crate::signing_keys::signing_keys_backend!(SqliteStore);
