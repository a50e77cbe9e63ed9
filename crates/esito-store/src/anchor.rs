//! Anchors for benchmarks: the raw INSERT rate of the same database, measured the same way
//! as the ledger's appends, so a benchmark reports a ratio rather than a machine-bound figure.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::StoreError;

/// The size of a raw row's body: about the size of a log entry with its columns.
const BODY_BYTES: usize = 600;

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

/// Raw autocommit INSERTs of `rows_per_commit` rows from `clients` connections for `duration`.
pub async fn raw_insert_rate(
    url: &str,
    clients: usize,
    rows_per_commit: usize,
    duration: Duration,
) -> Result<Rate, StoreError> {
    let body = "x".repeat(BODY_BYTES);
    let values: Vec<String> = (0..rows_per_commit)
        .map(|_| "('anchor', $1)".to_owned())
        .collect();
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
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS anchor_rows (id INTEGER PRIMARY KEY, contract_id TEXT NOT NULL, body TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        let statement = Arc::new(format!(
            "INSERT INTO anchor_rows (contract_id, body) VALUES {}",
            values.join(", ")
        ));
        run_clients(clients, duration, move || {
            let (pool, statement, body) = (pool.clone(), statement.clone(), body.clone());
            async move {
                sqlx::query(&statement)
                    .bind(body)
                    .execute(&pool)
                    .await
                    .map(|_| ())
            }
        })
        .await?
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(clients as u32)
            .test_before_acquire(false)
            .connect(url)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS anchor_rows (id BIGSERIAL PRIMARY KEY, contract_id TEXT NOT NULL, body TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        let statement = Arc::new(format!(
            "INSERT INTO anchor_rows (contract_id, body) VALUES {}",
            values.join(", ")
        ));
        run_clients(clients, duration, move || {
            let (pool, statement, body) = (pool.clone(), statement.clone(), body.clone());
            async move {
                sqlx::query(&statement)
                    .bind(body)
                    .execute(&pool)
                    .await
                    .map(|_| ())
            }
        })
        .await?
    };
    let seconds = duration.as_secs_f64();
    Ok(Rate {
        commits_per_second: counts as f64 / seconds,
        rows_per_second: (counts * rows_per_commit as u64) as f64 / seconds,
    })
}

/// Runs `clients` tasks, each committing one statement at a time until `duration` has passed;
/// returns the commits made.
async fn run_clients<F, Fut>(
    clients: usize,
    duration: Duration,
    commit: F,
) -> Result<u64, StoreError>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
{
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let commit = commit.clone();
            tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    commit().await?;
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
