//! What only PostgreSQL does: the store for production and scale. Its append takes one of
//! three ways (ADR 0002), the cheapest one conditional statement that writes and commits in
//! one round trip; it reads with arrays (`UNNEST`, `LATERAL`) where SQLite builds compound
//! SELECTs; a rebuild writes by COPY (`projection/copy.rs`); migrations take turns on an
//! advisory lock; reads that must agree run in `REPEATABLE READ`. Every query both databases
//! share is written once in the modules by purpose (ADR 0008).
//!
//! Invariant: entries are inserted only while the contract's head row is locked and only if the
//! head is still at the size the decision was made against, in the transaction that moves the
//! head; so positions are handed out in commit order and a reader never sees position n+1
//! before n (docs/design.md §11, defect 4).

use std::str::FromStr;

use esito_domain::{ContractId, EventId};
use esito_log::merkle::tiles::{NodeRange, StoredNode};
use esito_log::merkle::Frontier;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row};

use crate::append::{advance_head, head_from_row, insert_entries, known_event};
use crate::backend::{Conn, Tx, Write};
use crate::group::plan::{self, GroupInput, GroupPlan, Loaded, Need};
use crate::group::{Answer, Groups};
use crate::ledger::{self, Batch, Head, KnownEvent, NewRow, StreamRow};
use crate::proofs::{insert_subtrees, Nodes, NodesRead, NodesWanted, SUBTREE_IS_NEW};
use crate::views::Views;
use crate::{db, fault, AppendError, StoreError};

/// Connections in the pool: enough for concurrent writers to queue on the row lock, not on the pool.
const POOL_SIZE: u32 = 16;
/// Optimistic appends tried before taking the head's lock up front.
const OPTIMISTIC_ATTEMPTS: usize = 3;

/// A row read to be changed is locked by the statement that reads it: PostgreSQL's writers do
/// not exclude each other as SQLite's `BEGIN IMMEDIATE` does.
pub(crate) const ROW_LOCK: &str = " FOR UPDATE";

/// PostgreSQL keeps an event id as a `uuid`.
pub(crate) fn event_id(id: EventId) -> EventId {
    id
}

pub struct PgStore {
    pub(crate) pool: PgPool,
    views: Views,
    pub(crate) groups: Groups,
}

impl PgStore {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            // A ping before every use would double the round trips of an append; a broken
            // connection fails its statement instead, and the pool replaces it.
            .test_before_acquire(false)
            // A server that is down is answered as unavailable within 2 s, not after 30 s of
            // retried connections: the pool's wait bounds a new connection's too.
            .acquire_timeout(fault::ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            views: Views::default(),
            groups: Groups::default(),
        })
    }

    /// Ready when the server answers and takes writes: neither a standby in recovery nor a
    /// server whose transactions are read-only. A full disk fails writes with 53100, which
    /// `fault.rs` classes as unavailable.
    pub(crate) async fn check_ready(&self) -> Result<(), StoreError> {
        let read_only: bool = sqlx::query_scalar(
            "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
        )
        .fetch_one(&self.pool)
        .await?;
        if read_only {
            return Err(StoreError::Unavailable(
                "the database takes no writes: a standby, or read-only".to_owned(),
            ));
        }
        Ok(())
    }

    /// A write transaction; the rows it must serialise on are locked by its statements
    /// (`ROW_LOCK`, the head's upsert), so writers of other contracts never wait.
    pub(crate) async fn begin_write(&self) -> Result<Write<'_>, StoreError> {
        Ok(Write {
            tx: Tx::Postgres(self.pool.begin().await?),
            _writer: None,
        })
    }

    /// Two instances starting together take turns on a transaction-scoped advisory lock:
    /// PostgreSQL's transactions do not exclude each other's DDL as SQLite's write lock does.
    pub(crate) async fn begin_migration(&self) -> Result<Write<'_>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('esito_migrations'))")
            .execute(&mut *tx)
            .await?;
        Ok(Write {
            tx: Tx::Postgres(tx),
            _writer: None,
        })
    }

    /// A read transaction in `REPEATABLE READ`: PostgreSQL's default, `READ COMMITTED`, gives
    /// each statement a snapshot of its own, so a projector committing between two statements
    /// could mix two states.
    pub(crate) async fn begin_read(&self) -> Result<Tx, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
        Ok(Tx::Postgres(tx))
    }

    /// Three ways, cheapest first. From the cached view: decide, then write and commit in one
    /// statement that succeeds only if the head has not moved (one round trip). Optimistic: the
    /// same after reading the head and streams in one statement (two round trips). After
    /// `OPTIMISTIC_ATTEMPTS` lost races, the locked path, which always succeeds. A group of
    /// batches (`group.rs`) takes them as one batch would: one answer per batch.
    pub(crate) async fn append(&self, group: &[Batch<'_>]) -> Result<Vec<Answer>, AppendError> {
        if let Some(answers) = self.append_from_view(group).await? {
            return Ok(answers);
        }
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            if let Some(answers) = self.append_optimistic(group).await? {
                return Ok(answers);
            }
        }
        self.append_locked(group).await
    }

    /// `None` whenever the view cannot decide alone: the caller then reads the log. A rejection
    /// is never answered from here, since a stream missing from the view may exist.
    async fn append_from_view(
        &self,
        group: &[Batch<'_>],
    ) -> Result<Option<Vec<Answer>>, AppendError> {
        let contract_id = group[0].contract_id;
        if group
            .iter()
            .flat_map(|batch| batch.submissions)
            .any(|s| s.command.corrects().is_some())
        {
            return Ok(None);
        }
        let mut streams = plan::streams_named(group);
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
            let planned = plan::plan_group(GroupInput {
                batches: group,
                recorded_at: now,
                head,
                known: Vec::new(),
                histories,
                loaded: Loaded::View,
                // The view cannot tell that it holds every stream of a type: such a command
                // is planned on a snapshot read from the log.
                every_stream_of: std::collections::BTreeSet::new(),
            });
            match planned {
                Ok(plan) => break (plan, expected_size),
                Err(Need::Streams(more)) if !more.iter().all(|s| streams.contains(s)) => {
                    streams.extend(more)
                }
                Err(_) => return Ok(None),
            }
        };
        // A refusal is never answered from the view: a stream it lacks may exist.
        if plan.rows.is_empty() || plan.refused() {
            return Ok(None);
        }
        match self
            .write_if_head_at(contract_id, expected_size, &plan)
            .await
        {
            Ok(true) => {
                self.views
                    .committed(contract_id, expected_size, &plan.head, None, &plan.appended);
                Ok(Some(plan.answers))
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
        group: &[Batch<'_>],
    ) -> Result<Option<Vec<Answer>>, AppendError> {
        let contract_id = group[0].contract_id;
        let mut connection = self.pool.acquire().await?;
        let (plan, expected_size, read) = plan_on_snapshot(&mut connection, group).await?;
        drop(connection);
        if plan.rows.is_empty() {
            return Ok(Some(plan.answers));
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
        Ok(Some(plan.answers))
    }

    /// Inserts the plan's rows and moves the head, committing, if the head is still at
    /// `expected_size`; `false` (nothing written) if another writer moved it.
    async fn write_if_head_at(
        &self,
        contract_id: &ContractId,
        expected_size: u64,
        plan: &GroupPlan,
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
            .bind(db::to_i64(expected_size)?)
            .bind(db::to_i64(plan.head.size)?)
            .bind(plan.head.frontier.to_bytes());
        let query = if let [row] = plan.rows.as_slice() {
            query
                .bind(db::to_i64(row.position)?)
                .bind(row.event_id)
                .bind(row.stream_type)
                .bind(row.stream_id.clone())
                .bind(db::to_i64(row.stream_seq)?)
                .bind(row.event_type)
                .bind(row.occurred_at.clone())
                .bind(row.recorded_at.clone())
                .bind(row.recorded_by.clone())
                .bind(row.corrects)
                .bind(row.entry.clone())
                .bind(row.leaf_hash.as_bytes().to_vec())
                .bind(row.request_digest.to_vec())
        } else {
            let columns = Columns::of(&plan.rows)?;
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
            let subtrees = SubtreeColumns::of(&plan.subtrees)?;
            query
                .bind(subtrees.levels)
                .bind(subtrees.indices)
                .bind(subtrees.hashes)
        };
        // Counts the entries only: the rows of a data-modifying WITH are not counted.
        let inserted = query.execute(&self.pool).await?.rows_affected();
        Ok(inserted == plan.rows.len() as u64)
    }

    /// A group of any size written outside the contract's queue, by the locked path (whose
    /// INSERTs go 500 rows a statement, where the conditional one would not fit).
    pub(crate) async fn append_large(
        &self,
        group: &[Batch<'_>],
    ) -> Result<Vec<Answer>, AppendError> {
        self.append_locked(group).await
    }

    /// The answers a group would get, planned on one snapshot as an append is, with nothing
    /// written and no lock taken: the transaction rolls back.
    pub(crate) async fn check(&self, group: &[Batch<'_>]) -> Result<Vec<Answer>, AppendError> {
        let mut tx = self.pool.begin().await?;
        let (plan, _, _) = plan_on_snapshot(&mut tx, group).await?;
        Ok(plan.answers)
    }

    /// The pessimistic path: take the head's row lock first, then read, decide and write in
    /// one transaction. Used when optimistic attempts keep losing to other writers.
    async fn append_locked(&self, group: &[Batch<'_>]) -> Result<Vec<Answer>, AppendError> {
        let contract_id = group[0].contract_id;
        let mut tx = self.pool.begin().await?;
        lock_head(&mut tx, contract_id).await?;
        // Read after the lock: this statement's snapshot includes every earlier commit.
        let (plan, expected_size, read) = plan_on_snapshot(&mut tx, group).await?;
        if !plan.rows.is_empty() {
            insert_entries(Conn::Postgres(&mut tx), contract_id, &plan.rows).await?;
            advance_head(Conn::Postgres(&mut tx), contract_id, &plan.head).await?;
            insert_subtrees(
                Conn::Postgres(&mut tx),
                contract_id,
                &plan.subtrees,
                SUBTREE_IS_NEW,
            )
            .await?;
            tx.commit().await?;
            self.views.committed(
                contract_id,
                expected_size,
                &plan.head,
                Some(read),
                &plan.appended,
            );
        }
        Ok(plan.answers)
    }

    /// The leaf hashes and stored subtree roots in `ranges`, and with `head` the contract's
    /// head, in one statement (so one snapshot) whatever the number of ranges: the ranges go
    /// in as arrays, one range scan of a primary key each.
    pub(crate) async fn nodes(&self, wanted: NodesWanted<'_>) -> Result<Nodes, StoreError> {
        let (leaves, subtrees): (Vec<&NodeRange>, Vec<&NodeRange>) =
            wanted.ranges.iter().partition(|range| range.level == 0);
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
        .bind(wanted.contract_id.as_str())
        .bind(db::to_i64_all(leaves.iter().map(|r| r.start))?)
        .bind(db::to_i64_all(leaves.iter().map(|r| r.end))?)
        .bind(subtrees.iter().map(|r| r.level as i16).collect::<Vec<_>>())
        .bind(db::to_i64_all(subtrees.iter().map(|r| r.start))?)
        .bind(db::to_i64_all(subtrees.iter().map(|r| r.end))?)
        .bind(wanted.head)
        .fetch_all(&self.pool)
        .await?;
        let mut read = NodesRead::default();
        for row in &rows {
            read.push(row.get(0), row.get(1), row.get(2))?;
        }
        Ok(read.into_nodes())
    }
}

/// Reads a snapshot and plans the group on it; reads again with more streams when a command
/// reads a stream only its other reads name. Returns the plan, the head size it was decided
/// against, and the histories read.
async fn plan_on_snapshot(
    connection: &mut PgConnection,
    group: &[Batch<'_>],
) -> Result<(GroupPlan, u64, ledger::Histories), AppendError> {
    let mut streams = plan::streams_named(group);
    let mut every_stream_of = std::collections::BTreeSet::new();
    loop {
        let snapshot = read_snapshot(&mut *connection, group, &streams, &every_stream_of).await?;
        let expected_size = snapshot.head.size;
        let read = ledger::histories(&snapshot.streams)?;
        // The streams of a type read whole are loaded too, as their rows came back.
        streams.extend(
            read.keys()
                .filter(|stream| every_stream_of.contains(&stream.stream_type))
                .cloned(),
        );
        let planned = plan::plan_group(GroupInput {
            batches: group,
            recorded_at: chrono::Utc::now(),
            head: snapshot.head,
            known: snapshot.known,
            histories: read.clone(),
            loaded: Loaded::Read(&streams),
            every_stream_of: every_stream_of.clone(),
        });
        match planned {
            Ok(plan) => return Ok((plan, expected_size, read)),
            Err(Need::Streams(more)) => streams.extend(more),
            Err(Need::StreamsOfType(kind)) => {
                every_stream_of.insert(kind);
            }
        }
    }
}

/// Creates the contract's head if it is new, and takes its row lock until the transaction
/// ends (PostgreSQL's upsert locks the row it updates); the head is read afterwards, in the
/// snapshot.
async fn lock_head(tx: &mut PgConnection, contract_id: &ContractId) -> Result<(), AppendError> {
    sqlx::query(
        "INSERT INTO contract_heads (contract_id, size, frontier) VALUES ($1, 0, $2)
         ON CONFLICT (contract_id) DO UPDATE SET size = contract_heads.size",
    )
    .bind(contract_id.as_str())
    .bind(Frontier::default().to_bytes())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What one statement saw: the head, the events already stored under the group's ids (and
/// the ids it corrects), and every event of the streams the group writes or reads.
struct Snapshot {
    head: Head,
    known: Vec<KnownEvent>,
    streams: Vec<StreamRow>,
}

/// Reads everything `decide` needs in one statement, so in one consistent snapshot.
async fn read_snapshot(
    connection: &mut PgConnection,
    group: &[Batch<'_>],
    streams: &std::collections::BTreeSet<esito_domain::StreamRef>,
    every_stream_of: &std::collections::BTreeSet<esito_domain::StreamType>,
) -> Result<Snapshot, AppendError> {
    let contract_id = group[0].contract_id;
    let submissions = || group.iter().flat_map(|batch| batch.submissions);
    let mut ids: Vec<uuid::Uuid> = submissions().map(|s| s.event_id).collect();
    let corrected: Vec<uuid::Uuid> = submissions().filter_map(|s| s.command.corrects()).collect();
    ids.extend(&corrected);
    let types: Vec<&str> = streams.iter().map(|s| s.stream_type.as_str()).collect();
    let stream_ids: Vec<&str> = streams.iter().map(|s| s.stream_id.as_str()).collect();
    let whole_types: Vec<&str> = every_stream_of.iter().map(|kind| kind.as_str()).collect();
    let rows = sqlx::query(
        // LATERAL with OFFSET 0 (which keeps the planner from flattening it into a join that
        // scans the whole contract): one index lookup per stream, however long the log.
        "WITH wanted AS (
             SELECT * FROM UNNEST($2::text[], $3::text[]) AS s(stream_type, stream_id)
             UNION
             SELECT stream_type, stream_id FROM log_entries WHERE contract_id = $1 AND event_id = ANY($5)
             UNION
             SELECT stream_type, stream_id FROM log_entries
              WHERE contract_id = $1 AND stream_type = ANY($6) AND stream_seq = 1
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
    .bind(&whole_types)
    .fetch_all(connection)
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
        let position: i64 = row.get(1);
        match row.get::<i32, _>(0) {
            0 => snapshot.head = head_from_row(position, row.get(5))?,
            1 => snapshot.known.push(known_event(
                row.get(2),
                position,
                (row.get(3), row.get(4)),
                row.get(5),
                row.get(6),
            )?),
            _ => snapshot.streams.push(StreamRow {
                position: db::position(position)?.get(),
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
    fn of(rows: &[NewRow]) -> Result<Self, sqlx::Error> {
        Ok(Self {
            positions: db::to_i64_all(rows.iter().map(|r| r.position))?,
            event_ids: rows.iter().map(|r| r.event_id).collect(),
            stream_types: rows.iter().map(|r| r.stream_type).collect(),
            stream_ids: rows.iter().map(|r| r.stream_id.clone()).collect(),
            stream_seqs: db::to_i64_all(rows.iter().map(|r| r.stream_seq))?,
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
        })
    }
}

/// The roots of completed subtrees, column by column, as PostgreSQL arrays.
struct SubtreeColumns {
    levels: Vec<i16>,
    indices: Vec<i64>,
    hashes: Vec<Vec<u8>>,
}

impl SubtreeColumns {
    fn of(nodes: &[StoredNode]) -> Result<Self, sqlx::Error> {
        Ok(Self {
            levels: nodes.iter().map(|n| n.level as i16).collect(),
            indices: db::to_i64_all(nodes.iter().map(|n| n.index))?,
            hashes: nodes.iter().map(|n| n.hash.as_bytes().to_vec()).collect(),
        })
    }
}

/// SQLite's `secure_delete` has no PostgreSQL counterpart: a deleted row's tuple stays in the
/// table's file until `VACUUM` reuses its space, and a `pg_dump` never holds it.
pub(crate) async fn overwrite_deleted(
    _conn: &mut sqlx::PgConnection,
    _on: bool,
) -> Result<(), StoreError> {
    Ok(())
}

/// The vault's recorded master key id, locked until the transaction ends: shared by
/// registrations, exclusive for a rotation, so a record is never written under a key that a
/// rotation running meanwhile is replacing.
pub(crate) async fn vault_key_id_locked(
    conn: &mut sqlx::PgConnection,
    exclusive: bool,
) -> Result<Option<String>, StoreError> {
    let sql = if exclusive {
        "SELECT key_id FROM vault_master_key WHERE singleton = 1 FOR UPDATE"
    } else {
        "SELECT key_id FROM vault_master_key WHERE singleton = 1 FOR SHARE"
    };
    Ok(sqlx::query_scalar(sql).fetch_optional(conn).await?)
}

/// Registrations and erasures of one pseudonym take turns (a transaction-scoped advisory lock):
/// under READ COMMITTED a registration could otherwise check for an erasure just before one
/// commits, and write the person back.
pub(crate) async fn lock_identity(
    conn: &mut sqlx::PgConnection,
    contract_id: &str,
    beneficiary_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("esito-identity/{contract_id}/{beneficiary_id}"))
        .execute(conn)
        .await?;
    Ok(())
}
