//! The log on PostgreSQL: the store for production and scale.
//!
//! Invariant: entries are inserted only while the contract's head row is locked and only if the
//! head is still at the size the decision was made against, in the transaction that moves the
//! head; so positions are handed out in commit order and a reader never sees position n+1
//! before n (docs/design.md §11, defect 4).

use std::str::FromStr;
use std::time::Duration;

use esito_domain::{ContractId, Submission};
use esito_log::merkle::tiles::{NodeRange, StoredNode};
use esito_log::merkle::Frontier;
use esito_log::Hash;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};

use crate::ledger::{self, Head, KnownEvent, NewRow, Plan, PlanError, StreamRow};
use crate::sqlite::stream_ref;
use crate::views::Views;
use crate::{migrate, AppendError, AppendOutcome, StoreError, StoredEntry};

/// Connections in the pool: enough for concurrent writers to queue on the row lock, not on the pool.
const POOL_SIZE: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Optimistic appends tried before taking the head's lock up front.
const OPTIMISTIC_ATTEMPTS: usize = 3;

pub struct PgStore {
    pub(crate) pool: PgPool,
    views: Views,
}

impl PgStore {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            // A ping before every use would double the round trips of an append; a broken
            // connection fails its statement instead, and the pool replaces it.
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            views: Views::default(),
        };
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

    /// Three ways, cheapest first. From the cached view: decide, then write and commit in one
    /// statement that succeeds only if the head has not moved (one round trip). Optimistic: the
    /// same after reading the head and streams in one statement (two round trips). After
    /// `OPTIMISTIC_ATTEMPTS` lost races, the locked path, which always succeeds.
    pub(crate) async fn append(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
        digests: &[[u8; 32]],
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        if let Some(outcomes) = self
            .append_from_view(contract_id, principal, submissions, digests)
            .await?
        {
            return Ok(outcomes);
        }
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            if let Some(outcomes) = self
                .append_optimistic(contract_id, principal, submissions, digests)
                .await?
            {
                return Ok(outcomes);
            }
        }
        self.append_locked(contract_id, principal, submissions, digests)
            .await
    }

    /// `None` whenever the view cannot decide alone: the caller then reads the log. A rejection
    /// is never answered from here, since a stream missing from the view may exist.
    async fn append_from_view(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
        digests: &[[u8; 32]],
    ) -> Result<Option<Vec<AppendOutcome>>, AppendError> {
        if submissions.iter().any(|s| s.command.corrects().is_some()) {
            return Ok(None);
        }
        let Ok(resolved) = ledger::resolve(submissions, digests, &[], contract_id) else {
            return Ok(None);
        };
        let mut streams = ledger::streams_named(submissions, contract_id);
        let now = chrono::Utc::now();
        let (plan, expected_size) = loop {
            let Some((head, histories)) =
                self.views.speculate(contract_id, streams.iter().cloned())
            else {
                return Ok(None);
            };
            let expected_size = head.size;
            // A stream the view lacks is taken as empty only where the database would refuse a
            // wrong guess (the target) or the guess can only refuse (the command's reads). A
            // stream read through another, such as an order's provider, must be in the view.
            let present: std::collections::BTreeSet<_> = histories.keys().cloned().collect();
            let planned = ledger::plan(
                contract_id,
                principal,
                now,
                head,
                submissions,
                digests,
                resolved.clone(),
                histories,
                Some(&present),
            );
            match planned {
                Ok(plan) => break (plan, expected_size),
                Err(PlanError::NeedStreams(more)) if !more.iter().all(|s| streams.contains(s)) => {
                    streams.extend(more)
                }
                Err(_) => return Ok(None),
            }
        };
        if plan.rows.is_empty() {
            return Ok(None);
        }
        match self
            .write_if_head_at(contract_id, expected_size, &plan)
            .await
        {
            Ok(true) => {
                self.views
                    .committed(contract_id, expected_size, &plan.head, None, &plan.appended);
                Ok(Some(plan.outcomes))
            }
            Ok(false) => {
                self.views.forget(contract_id);
                Ok(None)
            }
            // A stream or an event id the view did not know: read the log and decide again.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                self.views.forget(contract_id);
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn append_optimistic(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
        digests: &[[u8; 32]],
    ) -> Result<Option<Vec<AppendOutcome>>, AppendError> {
        let mut connection = self.pool.acquire().await?;
        let (plan, expected_size, read) = plan_on_snapshot(
            &mut connection,
            contract_id,
            principal,
            submissions,
            digests,
        )
        .await?;
        drop(connection);
        if plan.rows.is_empty() {
            return Ok(Some(plan.outcomes));
        }
        if !self
            .write_if_head_at(contract_id, expected_size, &plan)
            .await?
        {
            return Ok(None);
        }
        self.views.committed(
            contract_id,
            expected_size,
            &plan.head,
            Some(read),
            &plan.appended,
        );
        Ok(Some(plan.outcomes))
    }

    /// Inserts the plan's rows and moves the head, committing, if the head is still at
    /// `expected_size`; `false` (nothing written) if another writer moved it.
    async fn write_if_head_at(
        &self,
        contract_id: &ContractId,
        expected_size: u64,
        plan: &Plan,
    ) -> Result<bool, sqlx::Error> {
        // One statement, so one round trip that also commits. Taking the head's row lock, the
        // size is compared on the latest committed version (not the statement's snapshot):
        // when the head has moved no row comes back and no entry is inserted. A plain UPDATE
        // costs less than an upsert; only the first append of a contract creates the head.
        let head = if expected_size == 0 {
            "INSERT INTO contract_heads (contract_id, size, frontier) VALUES ($1, $3, $4)
             ON CONFLICT (contract_id) DO UPDATE SET size = EXCLUDED.size, frontier = EXCLUDED.frontier
             WHERE contract_heads.size = $2
             RETURNING 1"
        } else {
            "UPDATE contract_heads SET size = $3, frontier = $4 WHERE contract_id = $1 AND size = $2 RETURNING 1"
        };
        const COLUMNS: &str = "INSERT INTO log_entries (contract_id, position, event_id, stream_type, stream_id,
            stream_seq, event_type, occurred_at, recorded_at, recorded_by, corrects, entry, leaf_hash, request_digest)";
        // Once in 16 entries a subtree of a stored level completes: its root goes in too.
        let subtrees = if plan.subtrees.is_empty() {
            ""
        } else {
            ", subtrees AS (INSERT INTO log_subtrees (contract_id, level, idx, hash)
                 SELECT $1, * FROM UNNEST($18::smallint[], $19::bigint[], $20::bytea[])
                 WHERE EXISTS (SELECT 1 FROM head))"
        };
        let statement = if plan.rows.len() == 1 {
            // One row (a single append, the common case): plain parameters, no arrays to unpack.
            format!(
                "WITH head AS ({head}){subtrees} {COLUMNS}
                 SELECT $1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
                 WHERE EXISTS (SELECT 1 FROM head)"
            )
        } else {
            format!(
                "WITH head AS ({head}){subtrees} {COLUMNS}
                 SELECT $1, * FROM UNNEST($5::bigint[], $6::uuid[], $7::text[], $8::text[], $9::bigint[], $10::text[],
                     $11::text[], $12::text[], $13::text[], $14::uuid[], $15::text[], $16::bytea[], $17::bytea[])
                 WHERE EXISTS (SELECT 1 FROM head)"
            )
        };
        let query = sqlx::query(&statement)
            .bind(contract_id.as_str())
            .bind(expected_size as i64)
            .bind(plan.head.size as i64)
            .bind(plan.head.frontier.to_bytes());
        let query = if let [row] = plan.rows.as_slice() {
            query
                .bind(row.position as i64)
                .bind(row.event_id)
                .bind(row.stream_type)
                .bind(row.stream_id.clone())
                .bind(row.stream_seq as i64)
                .bind(row.event_type)
                .bind(row.occurred_at.clone())
                .bind(row.recorded_at.clone())
                .bind(row.recorded_by.clone())
                .bind(row.corrects)
                .bind(row.entry.clone())
                .bind(row.leaf_hash.as_bytes().to_vec())
                .bind(row.request_digest.to_vec())
        } else {
            let columns = Columns::of(&plan.rows);
            query
                .bind(columns.positions)
                .bind(columns.event_ids)
                .bind(columns.stream_types)
                .bind(columns.stream_ids)
                .bind(columns.stream_seqs)
                .bind(columns.event_types)
                .bind(columns.occurred_at)
                .bind(columns.recorded_at)
                .bind(columns.recorded_by)
                .bind(columns.corrects)
                .bind(columns.entries)
                .bind(columns.leaf_hashes)
                .bind(columns.digests)
        };
        let query = if plan.subtrees.is_empty() {
            query
        } else {
            let subtrees = SubtreeColumns::of(&plan.subtrees);
            query
                .bind(subtrees.levels)
                .bind(subtrees.indices)
                .bind(subtrees.hashes)
        };
        // Counts the entries only: the rows of a data-modifying WITH are not counted.
        let inserted = query.execute(&self.pool).await?.rows_affected();
        Ok(inserted == plan.rows.len() as u64)
    }

    /// The pessimistic path: take the head's row lock first, then read, decide and write in
    /// one transaction. Used when optimistic attempts keep losing to other writers.
    async fn append_locked(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
        digests: &[[u8; 32]],
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        let mut tx = self.pool.begin().await?;
        lock_head(&mut tx, contract_id).await?;
        // Read after the lock: this statement's snapshot includes every earlier commit.
        let (plan, expected_size, read) =
            plan_on_snapshot(&mut tx, contract_id, principal, submissions, digests).await?;
        if !plan.rows.is_empty() {
            insert_and_advance(&mut tx, contract_id, &plan.rows, &plan.head).await?;
            insert_subtrees(&mut *tx, contract_id, &plan.subtrees, "").await?;
            tx.commit().await?;
            self.views.committed(
                contract_id,
                expected_size,
                &plan.head,
                Some(read),
                &plan.appended,
            );
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
        rows.iter().map(stored_entry).collect()
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

    pub(crate) async fn entry_by_event_id(
        &self,
        contract_id: &ContractId,
        event_id: uuid::Uuid,
    ) -> Result<Option<StoredEntry>, StoreError> {
        let row = sqlx::query("SELECT position, leaf_hash, entry FROM log_entries WHERE contract_id = $1 AND event_id = $2")
            .bind(contract_id.as_str())
            .bind(event_id)
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
             WHERE contract_id = $1 AND stream_type = $2 AND stream_id = $3 ORDER BY stream_seq",
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
             WHERE contract_id = $1 AND stream_type = $2 AND stream_seq = 1 AND stream_id > $3
             ORDER BY stream_id LIMIT $4",
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
    /// head (size, frontier). One statement, so one snapshot, with one range scan of a primary
    /// key per range.
    pub(crate) async fn nodes(
        &self,
        contract_id: &ContractId,
        ranges: &[NodeRange],
        head: bool,
    ) -> Result<(Option<(u64, Vec<u8>)>, Vec<StoredNode>), StoreError> {
        let (leaves, subtrees): (Vec<&NodeRange>, Vec<&NodeRange>) =
            ranges.iter().partition(|range| range.level == 0);
        let rows = sqlx::query(
            "SELECT -1::bigint, size, frontier FROM contract_heads WHERE contract_id = $1 AND $7
             UNION ALL
             SELECT 0::bigint, l.position - 1, l.leaf_hash
               FROM UNNEST($2::bigint[], $3::bigint[]) AS r(first, last) CROSS JOIN LATERAL (
                   SELECT position, leaf_hash FROM log_entries
                   WHERE contract_id = $1 AND position > r.first AND position <= r.last OFFSET 0
               ) l
             UNION ALL
             SELECT s.level::bigint, s.idx, s.hash
               FROM UNNEST($4::smallint[], $5::bigint[], $6::bigint[]) AS r(level, first, last) CROSS JOIN LATERAL (
                   SELECT level, idx, hash FROM log_subtrees
                   WHERE contract_id = $1 AND level = r.level AND idx >= r.first AND idx < r.last OFFSET 0
               ) s
             ORDER BY 1, 2",
        )
        .bind(contract_id.as_str())
        .bind(leaves.iter().map(|r| r.start as i64).collect::<Vec<_>>())
        .bind(leaves.iter().map(|r| r.end as i64).collect::<Vec<_>>())
        .bind(subtrees.iter().map(|r| r.level as i16).collect::<Vec<_>>())
        .bind(subtrees.iter().map(|r| r.start as i64).collect::<Vec<_>>())
        .bind(subtrees.iter().map(|r| r.end as i64).collect::<Vec<_>>())
        .bind(head)
        .fetch_all(&self.pool)
        .await?;
        let mut read = crate::NodesRead::default();
        for row in &rows {
            read.push(row.get(0), row.get(1), row.get(2))?;
        }
        Ok((read.head, read.nodes))
    }

    /// Keeps subtree roots computed from the log; one already kept is left as it is.
    pub(crate) async fn insert_subtrees(
        &self,
        contract_id: &ContractId,
        nodes: &[StoredNode],
    ) -> Result<(), StoreError> {
        insert_subtrees(&self.pool, contract_id, nodes, " ON CONFLICT DO NOTHING").await?;
        Ok(())
    }

    pub(crate) async fn insert_checkpoint(
        &self,
        checkpoint: &esito_log::Checkpoint,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (contract_id, size, root_hash, timestamp, key_id, signature)
             VALUES ($1, $2, $3, $4, $5, $6)
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
             WHERE contract_id = $1 ORDER BY size, timestamp",
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
             VALUES ($1, $2, $3, $4, $5, $6)",
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
        let row = sqlx::query("SELECT key_hash, principal, role, contracts, provider_id FROM api_keys WHERE key_hash = $1")
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

/// Reads a snapshot and plans the batch on it; reads again with more streams when a command
/// reads a stream only its other reads name. Returns the plan, the head size it was decided
/// against, and the histories read.
async fn plan_on_snapshot(
    connection: &mut sqlx::PgConnection,
    contract_id: &ContractId,
    principal: &str,
    submissions: &[Submission],
    digests: &[[u8; 32]],
) -> Result<(Plan, u64, ledger::Histories), AppendError> {
    let mut streams = ledger::streams_named(submissions, contract_id);
    loop {
        let snapshot = read_snapshot(&mut *connection, contract_id, submissions, &streams).await?;
        let expected_size = snapshot.head.size;
        let resolved = ledger::resolve(submissions, digests, &snapshot.known, contract_id)?;
        let read = ledger::histories(&snapshot.streams)?;
        let now = chrono::Utc::now();
        let planned = ledger::plan(
            contract_id,
            principal,
            now,
            snapshot.head,
            submissions,
            digests,
            resolved,
            read.clone(),
            Some(&streams),
        );
        match planned {
            Ok(plan) => return Ok((plan, expected_size, read)),
            Err(PlanError::NeedStreams(more)) => streams.extend(more),
            Err(PlanError::Append(error)) => return Err(error),
        }
    }
}

async fn lock_head(
    tx: &mut Transaction<'_, Postgres>,
    contract_id: &ContractId,
) -> Result<(), AppendError> {
    sqlx::query(
        "INSERT INTO contract_heads (contract_id, size, frontier) VALUES ($1, 0, $2)
         ON CONFLICT (contract_id) DO UPDATE SET size = contract_heads.size",
    )
    .bind(contract_id.as_str())
    .bind(Frontier::default().to_bytes())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What one statement saw: the head, the events already stored under the batch's ids (and
/// the ids it corrects), and every event of the streams the batch writes or reads.
struct Snapshot {
    head: Head,
    known: Vec<KnownEvent>,
    streams: Vec<StreamRow>,
}

/// Reads everything `decide` needs in one statement, so in one consistent snapshot.
async fn read_snapshot<'e, E>(
    executor: E,
    contract_id: &ContractId,
    submissions: &[Submission],
    streams: &std::collections::BTreeSet<esito_domain::StreamRef>,
) -> Result<Snapshot, AppendError>
where
    E: sqlx::PgExecutor<'e>,
{
    let mut ids: Vec<uuid::Uuid> = submissions.iter().map(|s| s.event_id).collect();
    let corrected: Vec<uuid::Uuid> = submissions
        .iter()
        .filter_map(|s| s.command.corrects())
        .collect();
    ids.extend(&corrected);
    let types: Vec<&str> = streams.iter().map(|s| s.stream_type.as_str()).collect();
    let stream_ids: Vec<&str> = streams.iter().map(|s| s.stream_id.as_str()).collect();
    let rows = sqlx::query(
        // LATERAL with OFFSET 0 (which keeps the planner from flattening it into a join that
        // scans the whole contract): one index lookup per stream, however long the log.
        "WITH wanted AS (
             SELECT * FROM UNNEST($2::text[], $3::text[]) AS s(stream_type, stream_id)
             UNION
             SELECT stream_type, stream_id FROM log_entries WHERE contract_id = $1 AND event_id = ANY($5)
         )
         SELECT 0 AS kind, size AS position, NULL::uuid AS event_id, NULL::text AS stream_type,
                NULL::text AS stream_id, frontier AS bytes, NULL::bytea AS leaf_hash, NULL::text AS entry
           FROM contract_heads WHERE contract_id = $1
         UNION ALL
         SELECT 1, position, event_id, stream_type, stream_id, request_digest, leaf_hash, NULL
           FROM log_entries WHERE contract_id = $1 AND event_id = ANY($4)
         UNION ALL
         SELECT 2, l.position, NULL, NULL, NULL, NULL, NULL, l.entry
           FROM wanted w CROSS JOIN LATERAL (
               SELECT position, entry FROM log_entries
               WHERE contract_id = $1 AND stream_type = w.stream_type AND stream_id = w.stream_id
               OFFSET 0
           ) l",
    )
    .bind(contract_id.as_str())
    .bind(&types)
    .bind(&stream_ids)
    .bind(&ids)
    .bind(&corrected)
    .fetch_all(executor)
    .await?;
    let mut snapshot = Snapshot {
        head: Head {
            size: 0,
            frontier: Frontier::default(),
        },
        known: Vec::new(),
        streams: Vec::new(),
    };
    for row in &rows {
        let position = row.get::<i64, _>(1) as u64;
        let corrupt = |reason: String| AppendError::Corrupt { position, reason };
        match row.get::<i32, _>(0) {
            0 => {
                let frontier = Frontier::from_bytes(row.get::<&[u8], _>(5))
                    .map_err(|e| corrupt(format!("frontier: {e}")))?;
                snapshot.head = Head {
                    size: position,
                    frontier,
                };
            }
            1 => snapshot.known.push(KnownEvent {
                event_id: row.get(2),
                position,
                stream: stream_ref(row.get(3), row.get(4)).map_err(corrupt)?,
                request_digest: row.get(5),
                leaf_hash: Hash::from_slice(row.get::<&[u8], _>(6))
                    .map_err(|e| corrupt(e.to_string()))?,
            }),
            _ => snapshot.streams.push(StreamRow {
                position,
                entry: row.get(7),
            }),
        }
    }
    snapshot.streams.sort_by_key(|row| row.position);
    Ok(snapshot)
}

/// The new rows, column by column, as PostgreSQL arrays.
struct Columns {
    positions: Vec<i64>,
    event_ids: Vec<uuid::Uuid>,
    stream_types: Vec<&'static str>,
    stream_ids: Vec<String>,
    stream_seqs: Vec<i64>,
    event_types: Vec<&'static str>,
    occurred_at: Vec<String>,
    recorded_at: Vec<String>,
    recorded_by: Vec<String>,
    corrects: Vec<Option<uuid::Uuid>>,
    entries: Vec<String>,
    leaf_hashes: Vec<Vec<u8>>,
    digests: Vec<Vec<u8>>,
}

impl Columns {
    fn of(rows: &[NewRow]) -> Self {
        Self {
            positions: rows.iter().map(|r| r.position as i64).collect(),
            event_ids: rows.iter().map(|r| r.event_id).collect(),
            stream_types: rows.iter().map(|r| r.stream_type).collect(),
            stream_ids: rows.iter().map(|r| r.stream_id.clone()).collect(),
            stream_seqs: rows.iter().map(|r| r.stream_seq as i64).collect(),
            event_types: rows.iter().map(|r| r.event_type).collect(),
            occurred_at: rows.iter().map(|r| r.occurred_at.clone()).collect(),
            recorded_at: rows.iter().map(|r| r.recorded_at.clone()).collect(),
            recorded_by: rows.iter().map(|r| r.recorded_by.clone()).collect(),
            corrects: rows.iter().map(|r| r.corrects).collect(),
            entries: rows.iter().map(|r| r.entry.clone()).collect(),
            leaf_hashes: rows
                .iter()
                .map(|r| r.leaf_hash.as_bytes().to_vec())
                .collect(),
            digests: rows.iter().map(|r| r.request_digest.to_vec()).collect(),
        }
    }
}

/// The roots of completed subtrees, column by column, as PostgreSQL arrays.
struct SubtreeColumns {
    levels: Vec<i16>,
    indices: Vec<i64>,
    hashes: Vec<Vec<u8>>,
}

impl SubtreeColumns {
    fn of(nodes: &[StoredNode]) -> Self {
        Self {
            levels: nodes.iter().map(|n| n.level as i16).collect(),
            indices: nodes.iter().map(|n| n.index as i64).collect(),
            hashes: nodes.iter().map(|n| n.hash.as_bytes().to_vec()).collect(),
        }
    }
}

/// Inserts subtree roots in one statement, `conflict` being empty (a second root for the same
/// subtree is an error) or an ON CONFLICT clause.
async fn insert_subtrees<'e, E>(
    executor: E,
    contract_id: &ContractId,
    nodes: &[StoredNode],
    conflict: &str,
) -> Result<(), sqlx::Error>
where
    E: sqlx::PgExecutor<'e>,
{
    if nodes.is_empty() {
        return Ok(());
    }
    let columns = SubtreeColumns::of(nodes);
    sqlx::query(&format!(
        "INSERT INTO log_subtrees (contract_id, level, idx, hash)
         SELECT $1, * FROM UNNEST($2::smallint[], $3::bigint[], $4::bytea[]){conflict}"
    ))
    .bind(contract_id.as_str())
    .bind(columns.levels)
    .bind(columns.indices)
    .bind(columns.hashes)
    .execute(executor)
    .await?;
    Ok(())
}

/// Inserts the rows and moves the head in one statement, inside the locked transaction.
async fn insert_and_advance(
    tx: &mut Transaction<'_, Postgres>,
    contract_id: &ContractId,
    rows: &[NewRow],
    head: &Head,
) -> Result<(), AppendError> {
    let columns = Columns::of(rows);
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
    .bind(&columns.positions)
    .bind(&columns.event_ids)
    .bind(&columns.stream_types)
    .bind(&columns.stream_ids)
    .bind(&columns.stream_seqs)
    .bind(&columns.event_types)
    .bind(&columns.occurred_at)
    .bind(&columns.recorded_at)
    .bind(&columns.recorded_by)
    .bind(&columns.corrects)
    .bind(&columns.entries)
    .bind(&columns.leaf_hashes)
    .bind(&columns.digests)
    .bind(head.size as i64)
    .bind(head.frontier.to_bytes())
    .bind(rows.len() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// (position, leaf_hash, entry) as a stored entry.
fn stored_entry(row: &sqlx::postgres::PgRow) -> Result<StoredEntry, StoreError> {
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

impl PgStore {
    /// A write transaction; rows it must serialise on are locked by its statements.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<
        (
            Option<tokio::sync::MutexGuard<'_, ()>>,
            sqlx::Transaction<'static, sqlx::Postgres>,
        ),
        StoreError,
    > {
        Ok((None, self.pool.begin().await?))
    }
}

crate::projection::projection_backend!(
    PgStore,
    sqlx::Postgres,
    " FOR UPDATE",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"
);

crate::signing_keys::signing_keys_backend!(PgStore);
