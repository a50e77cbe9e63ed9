//! Anchors for benchmarks: the raw INSERT rate of the same database, measured the same way
//! as the ledger's appends, so a benchmark reports a ratio rather than a machine-bound figure.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{db, StoreError};

/// The size of a raw row's entry text: about the size of a synthetic access's canonical entry.
const BODY_BYTES: usize = 480;

/// Commits and rows per second over the measured interval.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub commits_per_second: f64,
    pub rows_per_second: f64,
}

/// Creates an empty schema in the PostgreSQL at `base_url` and returns a URL that uses it.
pub async fn scratch_postgres(base_url: &str, name: &str) -> Result<String, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(base_url)
        .await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .execute(&pool)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let separator = if base_url.contains('?') { '&' } else { '?' };
    Ok(format!("{base_url}{separator}options[search_path]={name}"))
}

/// Flushes what earlier measurements left dirty (a checkpoint), so that no measurement pays
/// for the writes of the one before it.
pub async fn settle(url: &str) -> Result<(), StoreError> {
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
        pool.close().await;
    } else {
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query("CHECKPOINT").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// The anchor's table: the log's columns, keys and indexes, without its triggers and
/// without the ledger around it (no head, no decision, no hashing).
const ANCHOR_TABLE: &str = "CREATE TABLE IF NOT EXISTS anchor_entries (
    contract_id TEXT NOT NULL, position BIGINT NOT NULL, event_id TEXT NOT NULL,
    stream_type TEXT NOT NULL, stream_id TEXT NOT NULL, stream_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL, corrects TEXT, entry TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL, request_digest BYTEA NOT NULL,
    PRIMARY KEY (contract_id, position),
    UNIQUE (contract_id, event_id),
    UNIQUE (contract_id, stream_type, stream_id, stream_seq))";

const INSERT_COLUMNS: &str = "INSERT INTO anchor_entries (contract_id, position, event_id, stream_type,
    stream_id, stream_seq, event_type, occurred_at, recorded_at, recorded_by, entry, leaf_hash, request_digest) ";

/// The commit of one client of the anchor: `rows_per_commit` log-shaped rows in one INSERT.
/// A macro, not a function: the two databases' query builders share a shape, not a type.
macro_rules! insert_anchor_rows {
    ($database:ty, $pool:ident, $body:ident, $run:ident, $rows_per_commit:ident) => {
        move |client: usize, commit: u64| {
            let (pool, body, run) = ($pool.clone(), $body.clone(), $run.clone());
            async move {
                let mut query = sqlx::QueryBuilder::<$database>::new(INSERT_COLUMNS);
                query.push_values(0..$rows_per_commit, |mut values, row| {
                    let row =
                        AnchorRow::new(&run, client, commit * $rows_per_commit as u64 + row as u64);
                    values
                        .push_bind(row.contract_id)
                        .push_bind(row.position)
                        .push_bind(row.event_id)
                        .push_bind("access")
                        .push_bind(row.stream_id)
                        .push_bind(1_i64)
                        .push_bind("AccessRecorded")
                        .push_bind("2024-02-01T10:15:00+01:00")
                        .push_bind("2024-02-01T09:15:02.123456Z")
                        .push_bind("anchor")
                        .push_bind(body.clone())
                        .push_bind(row.hash.clone())
                        .push_bind(row.hash);
                });
                query.build().execute(&pool).await.map(|_| ())
            }
        }
    };
}

/// Raw autocommit INSERTs of `rows_per_commit` log-shaped rows (the same columns, indexes and
/// about the same bytes as an entry) from `clients` connections for `duration`: what the
/// database does for the ledger's rows with none of the ledger's work.
pub async fn raw_insert_rate(
    url: &str,
    clients: usize,
    rows_per_commit: usize,
    duration: Duration,
) -> Result<Rate, StoreError> {
    let body = "x".repeat(BODY_BYTES);
    // Each measurement writes contracts of its own.
    let run: std::sync::Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
    let counts = if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(clients as u32)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::query(&ANCHOR_TABLE.replace("BYTEA", "BLOB"))
            .execute(&pool)
            .await?;
        run_clients(
            clients,
            duration,
            insert_anchor_rows!(sqlx::Sqlite, pool, body, run, rows_per_commit),
        )
        .await?
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(clients as u32)
            .test_before_acquire(false)
            .connect(url)
            .await?;
        sqlx::query(ANCHOR_TABLE).execute(&pool).await?;
        run_clients(
            clients,
            duration,
            insert_anchor_rows!(sqlx::Postgres, pool, body, run, rows_per_commit),
        )
        .await?
    };
    let seconds = duration.as_secs_f64();
    Ok(Rate {
        commits_per_second: counts as f64 / seconds,
        rows_per_second: (counts * rows_per_commit as u64) as f64 / seconds,
    })
}

/// One anchor row's varying columns: each client writes its own contract, positions 1, 2, ...
struct AnchorRow {
    contract_id: String,
    position: i64,
    event_id: String,
    stream_id: String,
    hash: Vec<u8>,
}

impl AnchorRow {
    fn new(run: &str, client: usize, index: u64) -> Self {
        let event_id = uuid::Uuid::new_v4();
        Self {
            contract_id: format!("anchor-{run}-{client}"),
            position: i64::try_from(index + 1)
                .expect("an anchor writes far fewer rows than i64::MAX"),
            event_id: event_id.to_string(),
            stream_id: format!("acc-{index}"),
            hash: [
                event_id.as_bytes().as_slice(),
                event_id.as_bytes().as_slice(),
            ]
            .concat(),
        }
    }
}

/// Runs `clients` tasks, each committing one statement at a time until `duration` has passed;
/// `commit(client, n)` makes client's n-th commit. Returns the commits made.
async fn run_clients<F, Fut>(
    clients: usize,
    duration: Duration,
    commit: F,
) -> Result<u64, StoreError>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
{
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let commit = commit.clone();
            tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    commit(client, count).await?;
                    count += 1;
                }
                Ok::<u64, sqlx::Error>(count)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task
            .await
            .map_err(|e| StoreError::Database(format!("a benchmark client failed: {e}")))??;
    }
    Ok(total)
}

/// The anchor of a projection rebuild: a plain SELECT of one contract's entries in position
/// order, streamed and counted, with nothing done to them; or, given definitions (a
/// diagnostic), each entry also parsed and its facts derived, nothing written. Returns rows
/// and seconds.
pub async fn stream_log(
    url: &str,
    contract_id: &str,
    derive_with: Option<&esito_indicators::Definitions>,
) -> Result<(u64, f64), StoreError> {
    use futures_util::TryStreamExt;
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    let started = Instant::now();
    let mut rows = sqlx::query_as::<_, (i64, String)>(
        "SELECT position, entry FROM log_entries WHERE contract_id = $1 ORDER BY position",
    )
    .bind(contract_id)
    .fetch(&pool);
    let (mut count, mut work) = (0u64, 0usize);
    while let Some((position, text)) = rows.try_next().await? {
        let position = db::position(position)?.get();
        count += 1;
        work += text.len();
        if let Some(definitions) = derive_with {
            let entry =
                esito_indicators::StoredEntry::parse_for(position, &text, Some(definitions))
                    .map_err(|error| StoreError::Corrupt {
                        position: error.position,
                        reason: error.reason,
                    })?;
            let derived = esito_indicators::derive(definitions, entry.view()).map_err(|e| {
                StoreError::Corrupt {
                    position,
                    reason: e.to_string(),
                }
            })?;
            work += derived.facts.len();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(rows);
    pool.close().await;
    std::hint::black_box(work);
    Ok((count, seconds))
}
