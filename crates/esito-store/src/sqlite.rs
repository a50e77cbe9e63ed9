//! What only SQLite does: the embedded default, one file, WAL with `synchronous=FULL`; its
//! writers serialised in process; its append in one `BEGIN IMMEDIATE` transaction; proofs'
//! nodes read by a compound SELECT; a pool that never lends a connection left inside a
//! transaction, and a readiness probe that writes. Every query both databases share is written once in the
//! modules by purpose (ADR 0008).
//!
//! Invariant: appends are serialised twice over: an in-process mutex (so writers queue instead
//! of spinning on `SQLITE_BUSY`) and `BEGIN IMMEDIATE` (so another process cannot interleave).

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use esito_domain::{ContractId, EventId, StreamId, StreamRef, StreamType};
use esito_log::merkle::Frontier;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::append::{advance_head, head_from_row, insert_entries, known_event};
use crate::backend::{Conn, Tx, Write};
use crate::group::plan::{self, GroupInput, Loaded, Need};
use crate::group::{Answer, Groups};
use crate::ledger::{self, Batch, Head, KnownEvent, StreamRow};
use crate::proofs::{insert_subtrees, Nodes, NodesRead, NodesWanted, SUBTREE_IS_NEW};
use crate::{db, fault, AppendError, StoreError};

/// How long a writer waits for another process's write lock before the database is answered
/// as unavailable (`SQLITE_BUSY`): within the 2 s a fault is answered in.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// Event ids looked up per statement: SQLite's limit on host parameters is 32,766.
const IDS_PER_QUERY: usize = 500;
/// SQLite's limit on compound SELECTs is 500.
const STREAMS_PER_QUERY: usize = 200;

/// SQLite has no `SELECT … FOR UPDATE`: `BEGIN IMMEDIATE` already holds the database's write
/// lock, so a row read to be changed needs no lock of its own.
pub(crate) const ROW_LOCK: &str = "";

/// SQLite keeps an event id as its text (it has no uuid type).
pub(crate) fn event_id(id: EventId) -> String {
    id.to_string()
}

pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    writer: tokio::sync::Mutex<()>,
    /// `max_page_count` for every connection (`Store::limit_sqlite_pages`); 0 when never set.
    page_limit: Arc<AtomicU32>,
    /// Set when an append failed because the file could not be written (full, read-only, an
    /// I/O error, busy); cleared by the next write that commits. Readiness probes while set.
    unwritable: AtomicBool,
    pub(crate) groups: Groups,
}

/// Each connection's page cache, as SQLite takes it: negative for KiB.
const CACHE_KIB: i32 = -16 * 1024;

/// SQLite's largest `max_page_count`: the limit lifted.
const PAGES_UNLIMITED: u32 = 4_294_967_294;

impl SqliteStore {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A ledger must not lose an acknowledged commit on power loss: FULL, not NORMAL.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // The default page cache (2 MiB) holds little of a log's indexes past a few
            // hundred thousand entries, and every append then reads their pages back from the
            // file; 16 MiB a connection keeps them.
            .pragma("cache_size", CACHE_KIB.to_string());
        let page_limit = Arc::new(AtomicU32::new(0));
        let (on_connect, on_acquire) = (page_limit.clone(), page_limit.clone());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(fault::ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                let pages = on_connect.load(Ordering::Acquire);
                Box::pin(async move { apply_page_limit(conn, pages).await })
            })
            .before_acquire(move |conn, _| {
                let pages = on_acquire.load(Ordering::Acquire);
                Box::pin(async move { apply_page_limit(conn, pages).await.map(|()| true) })
            })
            // A connection goes back to the pool only outside a transaction: when SQLite has
            // already rolled back a failed one itself (a full disk, an I/O error), the
            // rollback that dropping it queues fails, sqlx still counts a transaction open,
            // and every later `BEGIN` on that connection would be refused. Such a connection
            // is closed instead, and the pool opens a fresh one.
            .after_release(|conn, _| {
                Box::pin(async move { released_outside_a_transaction(conn).await })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            writer: tokio::sync::Mutex::new(()),
            page_limit,
            unwritable: AtomicBool::new(false),
            groups: Groups::default(),
        })
    }

    /// From the next use of each connection on, the database may hold at most `pages` pages
    /// (SQLite's `max_page_count`, never below its size); `None` lifts the limit. A full
    /// disk, made on purpose by the tests of faults.
    pub(crate) fn limit_pages(&self, pages: Option<u32>) {
        self.page_limit
            .store(pages.unwrap_or(PAGES_UNLIMITED), Ordering::Release);
    }

    /// A write transaction: the in-process writer lock, then `BEGIN IMMEDIATE`, which takes
    /// the database's write lock at once rather than at the first write (a deferred
    /// transaction that reads first could not upgrade while another process writes).
    pub(crate) async fn begin_write(&self) -> Result<Write<'_>, StoreError> {
        let guard = self.writer.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Write {
            tx: Tx::Sqlite(tx),
            _writer: Some(guard),
        })
    }

    /// Migrations run as any write does: `BEGIN IMMEDIATE` already excludes another process.
    pub(crate) async fn begin_migration(&self) -> Result<Write<'_>, StoreError> {
        self.begin_write().await
    }

    /// A read transaction: SQLite's sees one snapshot from its first read (WAL) as it is.
    pub(crate) async fn begin_read(&self) -> Result<Tx, StoreError> {
        Ok(Tx::Sqlite(self.pool.begin().await?))
    }

    /// The append, noting whether the file took it: an append that failed as unavailable
    /// marks the file unwritable until a write commits again (see `check_ready`).
    pub(crate) async fn append(&self, group: &[Batch<'_>]) -> Result<Vec<Answer>, AppendError> {
        let result = self.append_in_one_transaction(group, true).await;
        match &result {
            Err(error) if error.is_unavailable() => self.unwritable.store(true, Ordering::Release),
            Ok(answers)
                if answers
                    .iter()
                    .flatten()
                    .flatten()
                    .any(|outcome| !outcome.duplicate) =>
            {
                self.unwritable.store(false, Ordering::Release);
            }
            _ => {}
        }
        result
    }

    /// A group of any size written as an append writes it, outside the contract's queue: the
    /// write lock serialises it with every other writer.
    pub(crate) async fn append_large(
        &self,
        group: &[Batch<'_>],
    ) -> Result<Vec<Answer>, AppendError> {
        self.append(group).await
    }

    /// The answers a group would get, planned under the write lock as an append is, with
    /// nothing written.
    pub(crate) async fn check(&self, group: &[Batch<'_>]) -> Result<Vec<Answer>, AppendError> {
        self.append_in_one_transaction(group, false).await
    }

    /// Ready when a statement is answered and, if the last append failed as unavailable, a
    /// probe write of `probe_bytes` commits: a row written and deleted in one transaction
    /// (`readiness_probe`), which needs as many free pages, and so fails on a full file.
    pub(crate) async fn check_ready(&self, probe_bytes: i64) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        if !self.unwritable.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut write = self.begin_write().await?;
        let Tx::Sqlite(tx) = &mut write.tx else {
            unreachable!("a SQLite store begins SQLite transactions")
        };
        sqlx::query("INSERT INTO readiness_probe (pad) VALUES (zeroblob($1))")
            .bind(probe_bytes)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM readiness_probe")
            .execute(&mut **tx)
            .await?;
        write.commit().await?;
        self.unwritable.store(false, Ordering::Release);
        Ok(())
    }

    /// One transaction for a group of batches (`group.rs`): the head created or read under the
    /// write lock, the known events and the streams read, each batch planned in order, the
    /// accepted rows and completed subtrees inserted and the head moved. One answer per batch.
    async fn append_in_one_transaction(
        &self,
        group: &[Batch<'_>],
        write_rows: bool,
    ) -> Result<Vec<Answer>, AppendError> {
        let contract_id = group[0].contract_id;
        let mut write = self.begin_write().await?;
        let Tx::Sqlite(tx) = &mut write.tx else {
            unreachable!("a SQLite store begins SQLite transactions")
        };
        let head = lock_head(tx, contract_id).await?;
        let submissions = || group.iter().flat_map(|batch| batch.submissions);
        let corrected: Vec<EventId> = submissions().filter_map(|s| s.command.corrects()).collect();
        let ids: Vec<String> = submissions()
            .map(|s| s.event_id)
            .chain(corrected.iter().copied())
            .map(|id| id.to_string())
            .collect();
        let known = known_events(tx, contract_id, &ids).await?;
        let mut streams = plan::streams_named(group);
        streams.extend(
            known
                .iter()
                .filter(|k| corrected.contains(&k.event_id))
                .map(|k| k.stream.clone()),
        );
        let mut every_stream_of = std::collections::BTreeSet::new();
        let now = chrono::Utc::now();
        let plan = loop {
            let rows = stream_rows(tx, contract_id, streams.iter().cloned().collect()).await?;
            let planned = plan::plan_group(GroupInput {
                batches: group,
                recorded_at: now,
                head: head.clone(),
                known: known.clone(),
                histories: ledger::histories(&rows)?,
                loaded: Loaded::Read(&streams),
                every_stream_of: every_stream_of.clone(),
            });
            match planned {
                Ok(plan) => break plan,
                Err(Need::Streams(more)) => streams.extend(more),
                Err(Need::StreamsOfType(kind)) => {
                    // Under the write lock: no stream of the type can begin meanwhile.
                    streams.extend(streams_of_type(tx, contract_id, kind).await?);
                    every_stream_of.insert(kind);
                }
            }
        };
        // A check (`Store::check`) plans and writes nothing: the transaction rolls back.
        if write_rows && !plan.rows.is_empty() {
            insert_entries(Conn::Sqlite(&mut *tx), contract_id, &plan.rows).await?;
            insert_subtrees(
                Conn::Sqlite(&mut *tx),
                contract_id,
                &plan.subtrees,
                SUBTREE_IS_NEW,
            )
            .await?;
            advance_head(Conn::Sqlite(tx), contract_id, &plan.head).await?;
            write.commit().await?;
        }
        Ok(plan.answers)
    }

    /// The leaf hashes and stored subtree roots in `ranges`, and with `head` the contract's
    /// head, in one statement (so one snapshot): one range scan of a primary key per range, as
    /// a compound SELECT, at most `STREAMS_PER_QUERY` ranges to a statement (SQLite has no
    /// arrays to unnest).
    pub(crate) async fn nodes(&self, wanted: NodesWanted<'_>) -> Result<Nodes, StoreError> {
        let contract_id = wanted.contract_id;
        let mut read = NodesRead::default();
        for (n, chunk) in wanted.ranges.chunks(STREAMS_PER_QUERY).enumerate() {
            let mut query = QueryBuilder::<Sqlite>::new("");
            let with_head = wanted.head && n == 0;
            if with_head {
                query
                    .push("SELECT -1, size, frontier FROM contract_heads WHERE contract_id = ")
                    .push_bind(contract_id.as_str());
            }
            for (i, range) in chunk.iter().enumerate() {
                if i > 0 || with_head {
                    query.push(" UNION ALL ");
                }
                if range.level == 0 {
                    query
                        .push("SELECT 0, position - 1, leaf_hash FROM log_entries WHERE contract_id = ")
                        .push_bind(contract_id.as_str())
                        .push(" AND position > ")
                        .push_bind(db::to_i64(range.start)?)
                        .push(" AND position <= ")
                        .push_bind(db::to_i64(range.end)?);
                } else {
                    query
                        .push("SELECT level, idx, hash FROM log_subtrees WHERE contract_id = ")
                        .push_bind(contract_id.as_str())
                        .push(" AND level = ")
                        .push_bind(i64::from(range.level))
                        .push(" AND idx >= ")
                        .push_bind(db::to_i64(range.start)?)
                        .push(" AND idx < ")
                        .push_bind(db::to_i64(range.end)?);
                }
            }
            query.push(" ORDER BY 1, 2");
            for row in query.build().fetch_all(&self.pool).await? {
                read.push(row.get(0), row.get(1), row.get(2))?;
            }
        }
        Ok(read.into_nodes())
    }
}

/// True when `conn` holds no transaction once the rollback that dropping a transaction
/// queues has run: the ping is answered after every command queued before it.
async fn released_outside_a_transaction(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

/// Sets `max_page_count` on a connection, unless no limit was ever set (0).
async fn apply_page_limit(conn: &mut SqliteConnection, pages: u32) -> Result<(), sqlx::Error> {
    if pages != 0 {
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Creates the contract's head if it is new and reads it. `BEGIN IMMEDIATE` already holds the
/// database's write lock, so the upsert needs no row lock; `RETURNING` reads it in the same
/// statement.
async fn lock_head(
    tx: &mut SqliteConnection,
    contract_id: &ContractId,
) -> Result<Head, AppendError> {
    let (size, frontier): (i64, Vec<u8>) = sqlx::query_as(
        "INSERT INTO contract_heads (contract_id, size, frontier) VALUES ($1, 0, $2)
         ON CONFLICT (contract_id) DO UPDATE SET size = size RETURNING size, frontier",
    )
    .bind(contract_id.as_str())
    .bind(Frontier::default().to_bytes())
    .fetch_one(&mut *tx)
    .await?;
    head_from_row(size, &frontier)
}

/// The events stored under `ids`, through the event id index (`INDEXED BY`: SQLite's planner
/// may otherwise prefer the contract's primary key and scan the whole log).
async fn known_events(
    tx: &mut SqliteConnection,
    contract_id: &ContractId,
    ids: &[String],
) -> Result<Vec<KnownEvent>, AppendError> {
    let mut known = Vec::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
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
        for row in query.build().fetch_all(&mut *tx).await? {
            let position: i64 = row.get(1);
            let stored_at = db::position(position)?.get();
            let event_id =
                row.get::<&str, _>(0)
                    .parse()
                    .map_err(|e: uuid::Error| AppendError::Corrupt {
                        position: stored_at,
                        reason: e.to_string(),
                    })?;
            known.push(known_event(
                event_id,
                position,
                (row.get(2), row.get(3)),
                row.get(4),
                row.get(5),
            )?);
        }
    }
    Ok(known)
}

/// Every stored event of `streams`, in position order.
/// Every stream of one type the contract's log holds: those with a first event.
async fn streams_of_type(
    tx: &mut SqliteConnection,
    contract_id: &ContractId,
    kind: StreamType,
) -> Result<Vec<StreamRef>, AppendError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT stream_id FROM log_entries
         WHERE contract_id = $1 AND stream_type = $2 AND stream_seq = 1",
    )
    .bind(contract_id.as_str())
    .bind(kind.as_str())
    .fetch_all(&mut *tx)
    .await?;
    ids.iter()
        .map(|id| {
            StreamId::parse(id)
                .map(|id| StreamRef::new(kind, id))
                .map_err(|error| AppendError::Corrupt {
                    position: 0,
                    reason: format!("a stored stream id does not parse: {error}"),
                })
        })
        .collect()
}

async fn stream_rows(
    tx: &mut SqliteConnection,
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
        for row in query.build().fetch_all(&mut *tx).await? {
            rows.push(StreamRow {
                position: db::position(row.get(0))?.get(),
                entry: row.get(1),
            });
        }
    }
    rows.sort_by_key(|row| row.position);
    Ok(rows)
}

/// Whether the connection overwrites with zeros the bytes it frees: on around the identity
/// vault's writes, so a deleted or replaced record leaves no copy in the file's free space.
pub(crate) async fn overwrite_deleted(
    conn: &mut SqliteConnection,
    on: bool,
) -> Result<(), StoreError> {
    let pragma = if on {
        "PRAGMA secure_delete = ON"
    } else {
        "PRAGMA secure_delete = OFF"
    };
    sqlx::query(pragma).execute(conn).await?;
    Ok(())
}

impl SqliteStore {
    /// Copies the write-ahead log into the file and truncates it, so the pages an erasure
    /// replaced leave no copy in the log. A reader holding the log open makes it wait for the
    /// next erasure or the next automatic checkpoint: logged, not an error.
    pub(crate) async fn empty_write_ahead_log(&self) {
        let done: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await;
        match done {
            Ok((0, _, _)) => {}
            Ok(_) => tracing::warn!("the write-ahead log was busy and is emptied later"),
            Err(error) => tracing::warn!(%error, "emptying the write-ahead log"),
        }
    }
}

/// The vault's recorded master key id, read inside a write transaction. SQLite's one writer
/// already keeps registrations, erasures and a rotation apart, so no lock is asked for.
pub(crate) async fn vault_key_id_locked(
    conn: &mut SqliteConnection,
    _exclusive: bool,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT key_id FROM vault_master_key WHERE singleton = 1")
            .fetch_optional(conn)
            .await?,
    )
}

/// One writer at a time already: nothing to lock per pseudonym.
pub(crate) async fn lock_identity(
    _conn: &mut SqliteConnection,
    _contract_id: &str,
    _beneficiary_id: &str,
) -> Result<(), StoreError> {
    Ok(())
}
