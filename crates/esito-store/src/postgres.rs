//! The log on PostgreSQL: the store for production and scale.
//!
//! Invariant: an append takes the contract's head row lock (`INSERT .. ON CONFLICT DO UPDATE
//! .. RETURNING`) before anything else in its transaction, so positions are handed out in
//! commit order: a reader never sees position n+1 before n (STACK-NOTES, defect 4).

use std::time::Duration;

use esito_domain::{ContractId, StreamRef, Submission};
use esito_log::merkle::Frontier;
use esito_log::Hash;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};

use crate::ledger::{self, Head, KnownEvent, NewRow, StreamRow};
use crate::sqlite::stream_ref;
use crate::{migrate, AppendError, AppendOutcome, StoreError, StoredEntry};

/// Connections in the pool: enough for concurrent writers to queue on the row lock, not on the pool.
const POOL_SIZE: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Two instances starting together take turns.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('esito_migrations'))")
            .execute(&mut *tx)
            .await?;
        sqlx::query(migrate::CREATE_MIGRATIONS_TABLE)
            .execute(&mut *tx)
            .await?;
        for &(version, name, sql) in migrate::POSTGRES {
            let applied: Option<i32> =
                sqlx::query_scalar("SELECT version FROM esito_migrations WHERE version = $1")
                    .bind(version as i32)
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
            sqlx::query("INSERT INTO esito_migrations (version, name, applied_at) VALUES ($1, $2, now()::text)")
                .bind(version as i32)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn append(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
        digests: &[[u8; 32]],
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx, contract_id).await?;
        let mut ids: Vec<uuid::Uuid> = submissions.iter().map(|s| s.event_id).collect();
        ids.extend(submissions.iter().filter_map(|s| s.command.corrects()));
        let known = known_events(&mut tx, contract_id, &ids).await?;
        let resolved = ledger::resolve(submissions, digests, &known, contract_id)?;
        let streams = ledger::streams_needed(submissions, &resolved, contract_id);
        let rows = stream_rows(&mut tx, contract_id, streams.into_iter().collect()).await?;
        let now = chrono::Utc::now();
        let plan = ledger::plan(
            contract_id,
            principal,
            now,
            head,
            submissions,
            digests,
            resolved,
            &rows,
        )?;
        if !plan.rows.is_empty() {
            insert_and_advance(&mut tx, contract_id, &plan.rows, &plan.head).await?;
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
             WHERE contract_id = $1 AND position > $2 ORDER BY position LIMIT $3",
        )
        .bind(contract_id.as_str())
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let position = row.get::<i64, _>(0) as u64;
                let leaf_hash =
                    Hash::from_slice(row.get::<&[u8], _>(1)).map_err(|e| StoreError::Corrupt {
                        position,
                        reason: e.to_string(),
                    })?;
                Ok(StoredEntry {
                    position,
                    leaf_hash,
                    entry: row.get(2),
                })
            })
            .collect()
    }

    pub(crate) async fn head(
        &self,
        contract_id: &ContractId,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT size, frontier FROM contract_heads WHERE contract_id = $1")
            .bind(contract_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| (row.get::<i64, _>(0) as u64, row.get(1))))
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
    tx: &mut Transaction<'_, Postgres>,
    contract_id: &ContractId,
) -> Result<Head, AppendError> {
    let row = sqlx::query(
        "INSERT INTO contract_heads (contract_id, size, frontier) VALUES ($1, 0, $2)
         ON CONFLICT (contract_id) DO UPDATE SET size = contract_heads.size RETURNING size, frontier",
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
    tx: &mut Transaction<'_, Postgres>,
    contract_id: &ContractId,
    ids: &[uuid::Uuid],
) -> Result<Vec<KnownEvent>, AppendError> {
    let rows = sqlx::query(
        "SELECT event_id, position, stream_type, stream_id, request_digest, leaf_hash FROM log_entries
         WHERE contract_id = $1 AND event_id = ANY($2)",
    )
    .bind(contract_id.as_str())
    .bind(ids)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            let position = row.get::<i64, _>(1) as u64;
            let corrupt = |reason: String| AppendError::Corrupt { position, reason };
            Ok(KnownEvent {
                event_id: row.get(0),
                position,
                stream: stream_ref(row.get(2), row.get(3)).map_err(corrupt)?,
                request_digest: row.get(4),
                leaf_hash: Hash::from_slice(row.get::<&[u8], _>(5))
                    .map_err(|e| corrupt(e.to_string()))?,
            })
        })
        .collect()
}

async fn stream_rows(
    tx: &mut Transaction<'_, Postgres>,
    contract_id: &ContractId,
    streams: Vec<StreamRef>,
) -> Result<Vec<StreamRow>, AppendError> {
    let types: Vec<&str> = streams.iter().map(|s| s.stream_type.as_str()).collect();
    let ids: Vec<&str> = streams.iter().map(|s| s.stream_id.as_str()).collect();
    let rows = sqlx::query(
        "SELECT l.position, l.entry FROM log_entries l
         JOIN UNNEST($2::text[], $3::text[]) AS s(stream_type, stream_id)
           ON l.stream_type = s.stream_type AND l.stream_id = s.stream_id
         WHERE l.contract_id = $1 ORDER BY l.position",
    )
    .bind(contract_id.as_str())
    .bind(&types)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .iter()
        .map(|row| StreamRow {
            position: row.get::<i64, _>(0) as u64,
            entry: row.get(1),
        })
        .collect())
}

/// Inserts the rows and moves the head in one statement: one round trip however large the batch.
async fn insert_and_advance(
    tx: &mut Transaction<'_, Postgres>,
    contract_id: &ContractId,
    rows: &[NewRow],
    head: &Head,
) -> Result<(), AppendError> {
    let column = |f: fn(&NewRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let positions: Vec<i64> = rows.iter().map(|r| r.position as i64).collect();
    let event_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.event_id).collect();
    let stream_seqs: Vec<i64> = rows.iter().map(|r| r.stream_seq as i64).collect();
    let corrects: Vec<Option<uuid::Uuid>> = rows.iter().map(|r| r.corrects).collect();
    let leaf_hashes: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| r.leaf_hash.as_bytes().to_vec())
        .collect();
    let digests: Vec<Vec<u8>> = rows.iter().map(|r| r.request_digest.to_vec()).collect();
    sqlx::query(
        "WITH inserted AS (
            INSERT INTO log_entries (contract_id, position, event_id, stream_type, stream_id, stream_seq,
                event_type, occurred_at, recorded_at, recorded_by, corrects, entry, leaf_hash, request_digest)
            SELECT $1, * FROM UNNEST($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::uuid[], $12::text[], $13::bytea[], $14::bytea[])
            RETURNING 1
         )
         UPDATE contract_heads SET size = $15, frontier = $16
         WHERE contract_id = $1 AND (SELECT count(*) FROM inserted) = $17",
    )
    .bind(contract_id.as_str())
    .bind(&positions)
    .bind(&event_ids)
    .bind(column(|r| r.stream_type.to_owned()))
    .bind(column(|r| r.stream_id.clone()))
    .bind(&stream_seqs)
    .bind(column(|r| r.event_type.to_owned()))
    .bind(column(|r| r.occurred_at.clone()))
    .bind(column(|r| r.recorded_at.clone()))
    .bind(column(|r| r.recorded_by.clone()))
    .bind(&corrects)
    .bind(column(|r| r.entry.clone()))
    .bind(&leaf_hashes)
    .bind(&digests)
    .bind(head.size as i64)
    .bind(head.frontier.to_bytes())
    .bind(rows.len() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
