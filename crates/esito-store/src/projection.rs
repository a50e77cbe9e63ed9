//! The indicators' projection in the database: the projector that turns each contract's log
//! into indicator rows (what the rows are, from the entries, is `esito_projector`'s, pure;
//! reading the log and writing the rows is here), and the queries that answer values as of a
//! log position.
//!
//! What is kept: for the parts that count within their period (count, distinct, sum, a
//! ratio's parts), events and amounts per calendar month; for those with keys, each key's
//! events per month of a year, and how many keys have events in each of the year's 19 periods
//! (months, quarters, halves, the year), as of the checkpoint; for the parts that reach back
//! (occupancy, cohorts, savings from a start), each fact with the positions it counts between.
//! Every period is a union of months within one year.
//!
//! Invariants:
//! - a contract's rows and its projector checkpoint change in one transaction, the checkpoint
//!   row locked first: a projector that fails before its commit leaves both as they were, and
//!   the next run derives the same entries again, so nothing is lost or counted twice;
//! - the monthly rows hold exactly the facts that count as of the checkpoint: an entry adds its
//!   facts, and an entry that corrects or voids another takes that one's facts away (derived
//!   again from its stored entry, which never changes);
//! - a period's distinct count is the number of keys with events in one of its months: it
//!   changes, in the same transaction, exactly when a key's row for the year starts or stops
//!   having events within the period;
//! - the rows are sums, so a value as of an earlier position `p` is the checkpoint's less what
//!   the entries after `p` added (their facts, less those of the entries they superseded): the
//!   log after `p` is read again, so the answer is exact and costs the length of that suffix;
//! - the rows are those of the template last named in the log up to the checkpoint, with the
//!   definitions built into this binary; when either changes, the contract's rows are rebuilt
//!   from position 1 in the step that notices it.

use std::collections::{BTreeMap, HashMap};

use esito_domain::ContractId;
use esito_indicators::facts::{EntryView, Fact, Part};
use esito_indicators::stored::StoredEntry;
use esito_indicators::{Aggregate, Definitions, Inputs, MemoryProjection, Period};
use esito_log::Entry;
use esito_projector::ProjectorError;
pub(crate) use esito_projector::{
    after_templates, aggregates_of, cents, copy_text, definitions_of, derived, distinct_changes,
    earlier_targets, fact_from_row, from_cents, inputs_by_indicator, month_range, part_of,
    plan_step, read_step, restart_for_definitions, rewind, stored_error, Advance, BatchFacts,
    Delta, DerivedChunk, DistinctChanges, Keys, MonthCounts, Months, StepPlan,
};
pub use esito_projector::{parse_entry, ProjectionState};

use crate::{Store, StoreError};

/// The projector's error as the store's: a broken invariant of the projector means the rows
/// or the log are not what they must be, so it is reported as corrupt data.
impl From<ProjectorError> for StoreError {
    fn from(error: ProjectorError) -> Self {
        match error {
            ProjectorError::Corrupt { position, reason } => {
                StoreError::Corrupt { position, reason }
            }
            ProjectorError::Definitions(reason) => StoreError::Definitions(reason),
            fault @ ProjectorError::Fault(_) => StoreError::Corrupt {
                position: fault.position(),
                reason: fault.to_string(),
            },
        }
    }
}

impl From<ProjectorError> for ReportError {
    fn from(error: ProjectorError) -> Self {
        ReportError::Store(error.into())
    }
}

/// [`esito_projector::derive_chunk`], its error as the store's, for a worker thread's result.
pub(crate) fn derive_chunk(
    definitions: Option<&Definitions>,
    rows: Vec<(u64, String)>,
) -> Result<DerivedChunk, StoreError> {
    Ok(esito_projector::derive_chunk(definitions, rows)?)
}

/// Entries one projector transaction takes.
pub const PROJECT_BATCH: u32 = 5_000;

/// What one projector step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepOutcome {
    /// The checkpoint after the step.
    pub position: u64,
    /// Entries applied by the step; 0 when the projection was already at the head.
    pub applied: usize,
}

/// A failure a test injects between the projector's read and its commit.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    BeforeCommit,
}

/// Why the indicators could not be reported.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("as_of {as_of} is beyond the log's size {size}")]
    AsOfBeyondLog { as_of: u64, size: u64 },
    #[error("the contract's template {template:?} has no indicator definitions in projections/")]
    NoDefinitions { template: Option<String> },
    #[error("the contract's template has no indicator `{0}`")]
    UnknownIndicator(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one read of the projection returns (see the backends' `snapshot`).
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub checkpoint: u64,
    /// The periodic parts' aggregates over the period, when read as of the checkpoint.
    pub totals: Option<BTreeMap<(String, i16), Aggregate>>,
    pub months: Months,
    /// The rows per key of the period's year.
    pub keys: Keys,
    pub span: Vec<Fact>,
}

/// The highest part code that counts only within its period.
pub(crate) const PERIODIC_PART_MAX: i16 = 2;

pub(crate) const MONTHS_SQL: &str = "SELECT indicator, part, month, events, amount_cents
    FROM indicator_months WHERE contract_id = $1 AND month >= $2 AND month < $3";

pub(crate) const MONTH_TOTALS_SQL: &str = "SELECT indicator, part,
        CAST(SUM(events) AS BIGINT), CAST(SUM(amount_cents) AS BIGINT)
    FROM indicator_months WHERE contract_id = $1 AND month >= $2 AND month < $3
    GROUP BY indicator, part";

pub(crate) const DISTINCT_SQL: &str = "SELECT indicator, part, keys
    FROM indicator_distinct WHERE contract_id = $1 AND period = $2";

pub(crate) const KEYS_SQL: &str = "SELECT indicator, part, fact_key,
        m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12
    FROM indicator_keys WHERE contract_id = $1 AND year = $2";

pub(crate) const SPAN_FACTS_SQL: &str =
    "SELECT indicator, part, position, event_id, local_date, fact_key, amount_cents
    FROM indicator_facts
    WHERE contract_id = $1 AND part > $2 AND local_date < $3
      AND position <= $4 AND (until_position IS NULL OR until_position > $4)";

pub(crate) const ENTRIES_SQL: &str = "SELECT position, entry FROM log_entries
    WHERE contract_id = $1 AND position > $2 AND position <= $3 ORDER BY position";

pub(crate) const SUPERSEDE_SQL: &str = "UPDATE indicator_facts SET until_position = $1
    WHERE contract_id = $2 AND event_id = $3 AND until_position IS NULL";

/// The contract's checkpoint row, made at position 0 the first time it is projected.
pub(crate) const ENSURE_CHECKPOINT_SQL: &str =
    "INSERT INTO projector_checkpoints (contract_id, position, template_named_at)
     VALUES ($1, 0, 0) ON CONFLICT (contract_id) DO NOTHING";

pub(crate) const SAVE_STATE_SQL: &str = "UPDATE projector_checkpoints
    SET position = $1, template = $2, template_named_at = $3, definitions_sha256 = $4
    WHERE contract_id = $5";

pub(crate) const DELETE_SQL: [&str; 4] = [
    "DELETE FROM indicator_facts WHERE contract_id = $1",
    "DELETE FROM indicator_months WHERE contract_id = $1",
    "DELETE FROM indicator_keys WHERE contract_id = $1",
    "DELETE FROM indicator_distinct WHERE contract_id = $1",
];

pub(crate) const INSERT_FACTS_SQL: &str = "INSERT INTO indicator_facts
    (contract_id, indicator, part, position, until_position, event_id, local_date, fact_key, amount_cents) ";

pub(crate) const UPSERT_MONTHS_SQL: &str =
    "INSERT INTO indicator_months (contract_id, indicator, part, month, events, amount_cents) ";
pub(crate) const UPSERT_MONTHS_TAIL: &str =
    " ON CONFLICT (contract_id, indicator, part, month) DO UPDATE
    SET events = indicator_months.events + excluded.events,
        amount_cents = indicator_months.amount_cents + excluded.amount_cents";

pub(crate) const UPSERT_KEYS_SQL: &str = "INSERT INTO indicator_keys
    (contract_id, indicator, part, year, fact_key, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12) ";
/// The rows as they stand after the upsert, for the distinct counts' changes.
pub(crate) const UPSERT_KEYS_TAIL: &str =
    " ON CONFLICT (contract_id, indicator, part, year, fact_key) DO UPDATE SET
        m01 = indicator_keys.m01 + excluded.m01,
        m02 = indicator_keys.m02 + excluded.m02,
        m03 = indicator_keys.m03 + excluded.m03,
        m04 = indicator_keys.m04 + excluded.m04,
        m05 = indicator_keys.m05 + excluded.m05,
        m06 = indicator_keys.m06 + excluded.m06,
        m07 = indicator_keys.m07 + excluded.m07,
        m08 = indicator_keys.m08 + excluded.m08,
        m09 = indicator_keys.m09 + excluded.m09,
        m10 = indicator_keys.m10 + excluded.m10,
        m11 = indicator_keys.m11 + excluded.m11,
        m12 = indicator_keys.m12 + excluded.m12
    RETURNING indicator, part, year, fact_key, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12";

pub(crate) const UPSERT_DISTINCT_SQL: &str =
    "INSERT INTO indicator_distinct (contract_id, indicator, part, period, keys) ";
pub(crate) const UPSERT_DISTINCT_TAIL: &str =
    " ON CONFLICT (contract_id, indicator, part, period) DO UPDATE
    SET keys = indicator_distinct.keys + excluded.keys";

pub(crate) const DELETE_KEY_SQL: &str = "DELETE FROM indicator_keys
    WHERE contract_id = $1 AND indicator = $2 AND part = $3 AND year = $4 AND fact_key = $5";

pub(crate) const PRUNE_DISTINCT_SQL: &str =
    "DELETE FROM indicator_distinct WHERE contract_id = $1 AND keys = 0";

/// Rows per INSERT: at most 9 parameters each, under SQLite's 32,766.
pub(crate) const ROWS_PER_INSERT: usize = 2_000;
/// Rows per INSERT of rows per key: 17 parameters each.
pub(crate) const KEY_ROWS_PER_INSERT: usize = 1_000;

impl Store {
    /// The indicators for `period` as of `as_of` (default: the head), the projection caught
    /// up first so the answer is never behind the log.
    pub async fn indicators(
        &self,
        contract_id: &ContractId,
        period: Period,
        as_of: Option<u64>,
    ) -> Result<esito_indicators::IndicatorReport, ReportError> {
        let (definitions, as_of) = self.ready(contract_id, as_of).await?;
        let mut inputs = self
            .indicator_inputs(contract_id, definitions, period, as_of)
            .await?;
        Ok(esito_indicators::report::build(
            definitions,
            contract_id.as_str(),
            as_of,
            period,
            |indicator| inputs.remove(&indicator.id).unwrap_or_default(),
        ))
    }

    /// The projection caught up to the head; the definitions and the position to answer as of.
    async fn ready(
        &self,
        contract_id: &ContractId,
        as_of: Option<u64>,
    ) -> Result<(&'static Definitions, u64), ReportError> {
        let size = self.head(contract_id).await?.map_or(0, |head| head.size);
        let as_of = as_of.unwrap_or(size);
        if as_of > size {
            return Err(ReportError::AsOfBeyondLog { as_of, size });
        }
        let state = self.catch_up(contract_id, size).await?;
        match definitions_of(state.template.as_deref())? {
            Some(definitions) => Ok((definitions, as_of)),
            None => Err(ReportError::NoDefinitions {
                template: state.template,
            }),
        }
    }

    /// The facts behind one indicator's value, in position order after `after`, at most
    /// `limit`: derived again from the log up to `as_of`, as the offline computation does.
    pub async fn explain(
        &self,
        contract_id: &ContractId,
        indicator: &str,
        period: Period,
        as_of: Option<u64>,
        after: u64,
        limit: u32,
    ) -> Result<(u64, Vec<Fact>), ReportError> {
        let (all, as_of) = self.ready(contract_id, as_of).await?;
        let mut definitions = all.clone();
        definitions.indicators.retain(|one| one.id == indicator);
        let Some(only) = definitions.indicators.first().cloned() else {
            return Err(ReportError::UnknownIndicator(indicator.to_owned()));
        };
        let mut projection = MemoryProjection::new();
        let mut position = 0;
        while position < as_of {
            let page = self
                .entries(contract_id, position, crate::PAGE_SIZE_MAX)
                .await?;
            let Some(last) = page.last() else { break };
            position = last.position;
            for stored in page.iter().filter(|stored| stored.position <= as_of) {
                let entry =
                    StoredEntry::parse_for(stored.position, &stored.entry, Some(&definitions))
                        .map_err(stored_error)?;
                projection
                    .apply(&definitions, entry.view())
                    .map_err(|error| StoreError::Corrupt {
                        position: stored.position,
                        reason: error.to_string(),
                    })?;
            }
        }
        let facts = projection
            .explain(&only, period, as_of)
            .into_iter()
            .filter(|fact| fact.position > after)
            .take(limit as usize)
            .cloned()
            .collect();
        Ok((as_of, facts))
    }

    /// Each beneficiary's (or distinct value's) count of an indicator's main part in the
    /// period as of `as_of`: what caps per beneficiary need.
    pub async fn key_counts(
        &self,
        contract_id: &ContractId,
        indicator: &str,
        period: Period,
        as_of: Option<u64>,
    ) -> Result<BTreeMap<String, u64>, ReportError> {
        let (definitions, as_of) = self.ready(contract_id, as_of).await?;
        let snapshot = self
            .snapshot_as_of(contract_id, definitions, period, as_of, true)
            .await?;
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for ((one, part, key), months) in snapshot.keys {
            if one == indicator && part == Part::Main.code() {
                counts.insert(key, months[period.month_indexes()].iter().sum());
            }
        }
        Ok(counts
            .into_iter()
            .filter(|(_, events)| *events > 0)
            .map(|(key, events)| (key, events as u64))
            .collect())
    }

    /// One snapshot of the projection for the period as of `as_of`, the monthly rows rewound
    /// by the log after `as_of` when it is before the checkpoint.
    async fn snapshot_as_of(
        &self,
        contract_id: &ContractId,
        definitions: &'static Definitions,
        period: Period,
        as_of: u64,
        with_keys: bool,
    ) -> Result<Snapshot, StoreError> {
        let mut snapshot = match self {
            Store::Sqlite(store) => {
                store
                    .snapshot(contract_id, period, as_of, with_keys)
                    .await?
            }
            Store::Postgres(store) => {
                store
                    .snapshot(contract_id, period, as_of, with_keys)
                    .await?
            }
        };
        if snapshot.totals.is_none() && as_of < snapshot.checkpoint {
            let suffix = self
                .derive_range(
                    contract_id,
                    Some(definitions),
                    as_of,
                    snapshot.checkpoint,
                    |_, _| {},
                )
                .await?;
            rewind(period, &mut snapshot.months, &mut snapshot.keys, suffix);
            let (first, end) = month_range(period);
            snapshot
                .months
                .retain(|(_, _, month), _| *month >= first && *month < end);
        }
        Ok(snapshot)
    }

    /// The stored entries of the given event ids, by id.
    pub(crate) async fn entries_by_event_id(
        &self,
        contract_id: &ContractId,
        event_ids: &[String],
    ) -> Result<HashMap<String, Entry>, StoreError> {
        let mut out = HashMap::new();
        for event_id in event_ids {
            let Ok(id) = uuid::Uuid::parse_str(event_id) else {
                continue;
            };
            if let Some(stored) = self.entry_by_event_id(contract_id, id).await? {
                out.insert(
                    event_id.clone(),
                    parse_entry(stored.position, &stored.entry)?,
                );
            }
        }
        Ok(out)
    }

    /// Each indicator's inputs for the period as of `as_of` (at or before the checkpoint).
    pub(crate) async fn indicator_inputs(
        &self,
        contract_id: &ContractId,
        definitions: &'static Definitions,
        period: Period,
        as_of: u64,
    ) -> Result<BTreeMap<String, Inputs>, StoreError> {
        let snapshot = self
            .snapshot_as_of(contract_id, definitions, period, as_of, false)
            .await?;
        let aggregates = match snapshot.totals {
            Some(totals) => totals
                .into_iter()
                .map(|((indicator, part), aggregate)| Ok((indicator, part_of(part)?, aggregate)))
                .collect::<Result<Vec<_>, StoreError>>()?,
            None => aggregates_of(&snapshot.months, &snapshot.keys, period)?,
        };
        Ok(inputs_by_indicator(aggregates, snapshot.span))
    }

    /// Projects up to [`PROJECT_BATCH`] more entries of the contract's log in one transaction.
    pub async fn project_step(&self, contract_id: &ContractId) -> Result<StepOutcome, StoreError> {
        self.project_step_with(contract_id, PROJECT_BATCH, Fault::None)
            .await
    }

    #[doc(hidden)]
    pub async fn project_step_with(
        &self,
        contract_id: &ContractId,
        batch: u32,
        fault: Fault,
    ) -> Result<StepOutcome, StoreError> {
        match self {
            Store::Sqlite(store) => store.project_step(self, contract_id, batch, fault).await,
            Store::Postgres(store) => store.project_step(self, contract_id, batch, fault).await,
        }
    }

    /// Projects until the checkpoint reaches `position` (or the head, if it is lower), and
    /// says where the projection then stands.
    pub async fn catch_up(
        &self,
        contract_id: &ContractId,
        position: u64,
    ) -> Result<ProjectionState, StoreError> {
        loop {
            let state = self.projection_state(contract_id).await?;
            if state.position >= position {
                return Ok(state);
            }
            let step = self.project_step(contract_id).await?;
            if step.applied == 0 && step.position == state.position {
                return self.projection_state(contract_id).await;
            }
        }
    }

    /// Deletes the contract's rows and checkpoint: the next step starts from position 1.
    pub async fn reset_projection(&self, contract_id: &ContractId) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(store) => store.reset_projection(contract_id).await,
            Store::Postgres(store) => store.reset_projection(contract_id).await,
        }
    }

    /// How far the contract's log has been projected.
    pub async fn projection_state(
        &self,
        contract_id: &ContractId,
    ) -> Result<ProjectionState, StoreError> {
        match self {
            Store::Sqlite(store) => store.projection_state(contract_id).await,
            Store::Postgres(store) => store.projection_state(contract_id).await,
        }
    }
}

/// The backend methods, the same SQL on both databases; `$lock` is how the checkpoint row is
/// locked (PostgreSQL's `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` already holds the database),
/// `$isolation` how a read sees one snapshot (SQLite's read transaction already does).
macro_rules! projection_backend {
    ($store:ty, $db:ty, $lock:literal, $isolation:literal) => {
        impl $store {
            pub(crate) async fn project_step(
                &self,
                outer: &$crate::Store,
                contract_id: &esito_domain::ContractId,
                batch: u32,
                fault: $crate::projection::Fault,
            ) -> Result<$crate::projection::StepOutcome, $crate::StoreError> {
                use sqlx::Row;
                use $crate::projection::*;
                let (_guard, mut tx) = self.begin_write().await?;
                sqlx::query(ENSURE_CHECKPOINT_SQL)
                    .bind(contract_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(concat!(
                    "SELECT position, template, template_named_at, definitions_sha256
                     FROM projector_checkpoints WHERE contract_id = $1",
                    $lock
                ))
                .bind(contract_id.as_str())
                .fetch_one(&mut *tx)
                .await?;
                let mut state = ProjectionState {
                    position: row.try_get::<i64, _>(0)? as u64,
                    template: row.try_get(1)?,
                    template_named_at: row.try_get::<i64, _>(2)? as u64,
                    definitions_sha256: row.try_get(3)?,
                };
                let before = state.position;
                if let Some(restart) = restart_for_definitions(&state)? {
                    $crate::projection::delete_rows(&mut tx, contract_id).await?;
                    state = restart;
                }
                let rows = sqlx::query(ENTRIES_SQL)
                    .bind(contract_id.as_str())
                    .bind(state.position as i64)
                    .bind((state.position + u64::from(batch)) as i64)
                    .fetch_all(&mut *tx)
                    .await?;
                let rows = rows
                    .iter()
                    .map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?)))
                    .collect::<Result<Vec<(u64, String)>, $crate::StoreError>>()?;
                let mut entries = read_step(&state, &rows)?;
                // Entries the batch supersedes from before it: read outside the transaction,
                // which is safe because stored entries never change.
                let earlier = outer
                    .entries_by_event_id(contract_id, &earlier_targets(&entries))
                    .await?;
                let (state, applied) = match plan_step(&state, &mut entries, &earlier)? {
                    StepPlan::Restart(restart) => {
                        $crate::projection::delete_rows(&mut tx, contract_id).await?;
                        (restart, 0)
                    }
                    StepPlan::Advance(Advance {
                        delta,
                        span_facts,
                        superseded,
                        state,
                    }) => {
                        let span_facts: Vec<(esito_indicators::Fact, Option<u64>)> =
                            span_facts.into_iter().map(|fact| (fact, None)).collect();
                        Self::write_rows(&mut tx, contract_id, &delta, &span_facts).await?;
                        for (event_id, position) in &superseded {
                            sqlx::query(SUPERSEDE_SQL)
                                .bind(*position as i64)
                                .bind(contract_id.as_str())
                                .bind(event_id.as_str())
                                .execute(&mut *tx)
                                .await?;
                        }
                        (state, entries.len())
                    }
                };
                save_state(&mut tx, contract_id, &state).await?;
                if fault == Fault::BeforeCommit {
                    return Err($crate::StoreError::Database(format!(
                        "injected failure before committing positions {}..={}",
                        before + 1,
                        state.position
                    )));
                }
                tx.commit().await?;
                Ok(StepOutcome {
                    position: state.position,
                    applied,
                })
            }

            /// Adds `delta` to the monthly rows (upserts) and inserts the facts of the parts
            /// that reach back, each with the position it stops counting at.
            pub(crate) async fn write_rows(
                tx: &mut sqlx::Transaction<'static, $db>,
                contract_id: &esito_domain::ContractId,
                delta: &$crate::projection::Delta,
                span_facts: &[(esito_indicators::Fact, Option<u64>)],
            ) -> Result<(), $crate::StoreError> {
                use $crate::projection::*;
                let months: Vec<_> = delta
                    .months
                    .iter()
                    .filter(|(_, change)| **change != (0, 0))
                    .collect();
                for chunk in months.chunks(ROWS_PER_INSERT) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(UPSERT_MONTHS_SQL);
                    upsert.push_values(
                        chunk,
                        |mut row, ((indicator, part, month), (events, cents))| {
                            row.push_bind(contract_id.as_str())
                                .push_bind(indicator.as_str())
                                .push_bind(*part)
                                .push_bind(month.as_str())
                                .push_bind(*events)
                                .push_bind(*cents);
                        },
                    );
                    upsert.push(UPSERT_MONTHS_TAIL);
                    upsert.build().execute(&mut **tx).await?;
                }
                use sqlx::Row;
                let keys: Vec<_> = delta
                    .keys
                    .iter()
                    .filter(|(_, change)| **change != [0; 12])
                    .collect();
                let mut distinct = DistinctChanges::new();
                let mut emptied = Vec::new();
                for chunk in keys.chunks(KEY_ROWS_PER_INSERT) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(UPSERT_KEYS_SQL);
                    upsert.push_values(chunk, |mut row, ((indicator, part, year, key), change)| {
                        row.push_bind(contract_id.as_str())
                            .push_bind(indicator.as_str())
                            .push_bind(*part)
                            .push_bind(*year)
                            .push_bind(key.as_str());
                        for events in change.iter() {
                            row.push_bind(*events);
                        }
                    });
                    upsert.push(UPSERT_KEYS_TAIL);
                    for row in upsert.build().fetch_all(&mut **tx).await? {
                        let stored: (String, i16, i32, String) = (
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                        );
                        let mut after: MonthCounts = [0; 12];
                        for (month, events) in after.iter_mut().enumerate() {
                            *events = row.try_get(4 + month)?;
                        }
                        let change = delta.keys.get(&stored).copied().unwrap_or_default();
                        let mut before = after;
                        for (events, change) in before.iter_mut().zip(change) {
                            *events -= change;
                        }
                        let (indicator, part, year, _) = &stored;
                        distinct_changes(&mut distinct, indicator, *part, *year, &before, &after);
                        if after == [0; 12] {
                            emptied.push(stored);
                        }
                    }
                }
                for (indicator, part, year, key) in &emptied {
                    sqlx::query(DELETE_KEY_SQL)
                        .bind(contract_id.as_str())
                        .bind(indicator.as_str())
                        .bind(*part)
                        .bind(*year)
                        .bind(key.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
                let distinct: Vec<_> = distinct
                    .iter()
                    .filter(|(_, change)| **change != 0)
                    .collect();
                for chunk in distinct.chunks(ROWS_PER_INSERT) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(UPSERT_DISTINCT_SQL);
                    upsert.push_values(chunk, |mut row, ((indicator, part, period), change)| {
                        row.push_bind(contract_id.as_str())
                            .push_bind(indicator.as_str())
                            .push_bind(*part)
                            .push_bind(period.as_str())
                            .push_bind(*change);
                    });
                    upsert.push(UPSERT_DISTINCT_TAIL);
                    upsert.build().execute(&mut **tx).await?;
                }
                if distinct.iter().any(|(_, change)| **change < 0) {
                    sqlx::query(PRUNE_DISTINCT_SQL)
                        .bind(contract_id.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
                let mut amounts = Vec::with_capacity(span_facts.len());
                for (fact, _) in span_facts {
                    amounts.push(
                        fact.amount
                            .map(|amount| cents(amount, fact.position))
                            .transpose()?,
                    );
                }
                let rows: Vec<_> = span_facts.iter().zip(amounts).collect();
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(INSERT_FACTS_SQL);
                    insert.push_values(chunk, |mut row, ((fact, until), amount)| {
                        row.push_bind(contract_id.as_str())
                            .push_bind(fact.indicator.as_str())
                            .push_bind(fact.part.code())
                            .push_bind(fact.position as i64)
                            .push_bind(until.map(|until| until as i64))
                            .push_bind(fact.event_id.as_str())
                            .push_bind(fact.local_date.format("%Y-%m-%d").to_string())
                            .push_bind(fact.key.as_deref())
                            .push_bind(*amount);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            pub(crate) async fn reset_projection(
                &self,
                contract_id: &esito_domain::ContractId,
            ) -> Result<(), $crate::StoreError> {
                let (_guard, mut tx) = self.begin_write().await?;
                $crate::projection::delete_rows(&mut tx, contract_id).await?;
                sqlx::query("DELETE FROM projector_checkpoints WHERE contract_id = $1")
                    .bind(contract_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn projection_state(
                &self,
                contract_id: &esito_domain::ContractId,
            ) -> Result<$crate::projection::ProjectionState, $crate::StoreError> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT position, template, template_named_at, definitions_sha256
                     FROM projector_checkpoints WHERE contract_id = $1",
                )
                .bind(contract_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else {
                    return Ok(Default::default());
                };
                Ok($crate::projection::ProjectionState {
                    position: row.try_get::<i64, _>(0)? as u64,
                    template: row.try_get(1)?,
                    template_named_at: row.try_get::<i64, _>(2)? as u64,
                    definitions_sha256: row.try_get(3)?,
                })
            }

            /// What a value is computed from, read in one snapshot so that the checkpoint and
            /// the rows agree: the periodic parts' totals when `as_of` is the checkpoint (and
            /// keys are not asked for), else the rows per month and key to rewind; and the
            /// facts of the parts that reach back, counting as of `as_of`.
            pub(crate) async fn snapshot(
                &self,
                contract_id: &esito_domain::ContractId,
                period: esito_indicators::Period,
                as_of: u64,
                with_keys: bool,
            ) -> Result<$crate::projection::Snapshot, $crate::StoreError> {
                use sqlx::Row;
                use $crate::projection::*;
                let mut tx = self.pool.begin().await?;
                if !$isolation.is_empty() {
                    sqlx::query($isolation).execute(&mut *tx).await?;
                }
                let checkpoint = sqlx::query_scalar::<_, i64>(
                    "SELECT position FROM projector_checkpoints WHERE contract_id = $1",
                )
                .bind(contract_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0) as u64;
                let (first, end) = month_range(period);
                let mut snapshot = Snapshot {
                    checkpoint,
                    ..Default::default()
                };
                if as_of == checkpoint && !with_keys {
                    let mut totals: std::collections::BTreeMap<
                        (String, i16),
                        esito_indicators::Aggregate,
                    > = Default::default();
                    for row in sqlx::query(MONTH_TOTALS_SQL)
                        .bind(contract_id.as_str())
                        .bind(&first)
                        .bind(&end)
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        let aggregate = totals
                            .entry((row.try_get(0)?, row.try_get(1)?))
                            .or_default();
                        aggregate.count = row.try_get::<i64, _>(2)?.max(0) as u64;
                        aggregate.sum = from_cents(row.try_get::<i64, _>(3)?);
                    }
                    for row in sqlx::query(DISTINCT_SQL)
                        .bind(contract_id.as_str())
                        .bind(period.to_string())
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        totals
                            .entry((row.try_get(0)?, row.try_get(1)?))
                            .or_default()
                            .distinct = row.try_get::<i64, _>(2)?.max(0) as u64;
                    }
                    snapshot.totals = Some(totals);
                } else {
                    for row in sqlx::query(MONTHS_SQL)
                        .bind(contract_id.as_str())
                        .bind(&first)
                        .bind(&end)
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        snapshot.months.insert(
                            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                            (row.try_get(3)?, row.try_get(4)?),
                        );
                    }
                    for row in sqlx::query(KEYS_SQL)
                        .bind(contract_id.as_str())
                        .bind(period.year())
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        let mut counts: MonthCounts = [0; 12];
                        for (month, events) in counts.iter_mut().enumerate() {
                            *events = row.try_get(3 + month)?;
                        }
                        snapshot
                            .keys
                            .insert((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?), counts);
                    }
                }
                for row in sqlx::query(SPAN_FACTS_SQL)
                    .bind(contract_id.as_str())
                    .bind(PERIODIC_PART_MAX)
                    .bind(period.end_on().format("%Y-%m-%d").to_string())
                    .bind(as_of as i64)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    snapshot.span.push(fact_from_row(
                        row.try_get(0)?,
                        row.try_get(1)?,
                        row.try_get(2)?,
                        row.try_get(3)?,
                        &row.try_get::<String, _>(4)?,
                        row.try_get(5)?,
                        row.try_get(6)?,
                    )?);
                }
                tx.commit().await?;
                Ok(snapshot)
            }
        }
    };
}

pub(crate) use projection_backend;

/// What a rebuild writes: every row of the contract's projection, derived from the whole log.
#[derive(Debug, Default)]
pub(crate) struct Rebuilt {
    pub state: ProjectionState,
    pub delta: Delta,
    /// Facts of the parts that reach back, with the position they stop counting at.
    pub span_facts: Vec<(Fact, Option<u64>)>,
}

impl Store {
    /// Rebuilds the contract's projection from position 1 in one transaction, the checkpoint
    /// row locked throughout: the log is read and derived in memory and the rows written once
    /// (by COPY on PostgreSQL). `progress` hears each position reached.
    pub async fn rebuild_projection(
        &self,
        contract_id: &ContractId,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, StoreError> {
        let head = self.head(contract_id).await?.map_or(0, |head| head.size);
        let started = std::time::Instant::now();
        let state = self.templates_up_to(contract_id, head).await?;
        let definitions = definitions_of(state.template.as_deref())?;
        let mut span_facts: Vec<(Fact, Option<u64>)> = Vec::new();
        let mut span_index: HashMap<String, Vec<usize>> = HashMap::new();
        let delta = self
            .derive_range(contract_id, definitions, 0, head, |facts, last_position| {
                for fact in std::mem::take(&mut facts.span_facts) {
                    span_index
                        .entry(fact.event_id.clone())
                        .or_default()
                        .push(span_facts.len());
                    span_facts.push((fact, None));
                }
                for (event_id, at) in &facts.superseded {
                    for &index in span_index.get(event_id).into_iter().flatten() {
                        span_facts[index].1.get_or_insert(*at);
                    }
                }
                progress(last_position);
            })
            .await?;
        let rebuilt = Rebuilt {
            state: ProjectionState {
                position: head,
                ..state
            },
            delta,
            span_facts,
        };
        let derived_in = started.elapsed();
        match self {
            Store::Sqlite(store) => store.write_rebuilt(contract_id, &rebuilt).await?,
            Store::Postgres(store) => store.write_rebuilt(contract_id, &rebuilt).await?,
        }
        tracing::info!(
            contract = %contract_id,
            entries = rebuilt.state.position,
            month_rows = rebuilt.delta.months.len(),
            key_rows = rebuilt.delta.keys.len(),
            span_facts = rebuilt.span_facts.len(),
            read_and_derived_seconds = derived_in.as_secs_f64(),
            written_seconds = (started.elapsed() - derived_in).as_secs_f64(),
            "projection rebuilt"
        );
        Ok(rebuilt.state.position)
    }
}

impl Store {
    /// What the log's entries in `(after, up_to]` add to the rows: their facts, less those of
    /// the entries they supersede, derived with `definitions` (none: nothing). Chunks are
    /// parsed and derived on worker threads while the read streams, and added up in position
    /// order; `each` hears every chunk's other facts and its last position, in order.
    pub(crate) async fn derive_range(
        &self,
        contract_id: &ContractId,
        definitions: Option<&'static Definitions>,
        after: u64,
        up_to: u64,
        mut each: impl FnMut(&mut BatchFacts, u64),
    ) -> Result<Delta, StoreError> {
        use futures_util::StreamExt;
        let workers = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        let chunks = futures_util::stream::unfold(
            self.entry_chunks(contract_id, after, up_to),
            |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
        );
        let derived_chunks = chunks
            .map(|chunk| async move {
                let rows = chunk?;
                tokio::task::spawn_blocking(move || derive_chunk(definitions, rows))
                    .await
                    .map_err(|error| {
                        StoreError::Database(format!("a derivation worker failed: {error}"))
                    })?
            })
            .buffered(workers + 1);
        let mut derived_chunks = std::pin::pin!(derived_chunks);
        let mut total = Delta::default();
        while let Some(chunk) = derived_chunks.next().await {
            let DerivedChunk {
                last_position,
                mut delta,
                mut facts,
            } = chunk?;
            if let (Some(definitions), false) = (definitions, facts.missing.is_empty()) {
                let earlier = self
                    .entries_by_event_id(contract_id, &facts.missing)
                    .await?;
                for target in &facts.missing {
                    let Some(entry) = earlier.get(target) else {
                        return Err(StoreError::Corrupt {
                            position: last_position,
                            reason: format!(
                                "an entry supersedes {target}, which is not in the log"
                            ),
                        });
                    };
                    delta.apply(&derived(definitions, entry)?.facts, -1)?;
                }
            }
            total.merge(delta);
            each(&mut facts, last_position);
        }
        Ok(total)
    }
}

impl Store {
    /// The projection state a rebuild up to `head` ends with, as far as templates go: the
    /// contract stream's entries (where templates are named) run through the rules of
    /// [`after_templates`], restarting as the projector would, so that one pass over the log
    /// derives every entry with the definitions it ends with.
    async fn templates_up_to(
        &self,
        contract_id: &ContractId,
        head: u64,
    ) -> Result<ProjectionState, StoreError> {
        let stream = esito_domain::events::contract_stream(contract_id);
        let entries = self
            .stream_entries(contract_id, &stream)
            .await?
            .iter()
            .filter(|stored| stored.position <= head)
            .map(|stored| parse_entry(stored.position, &stored.entry))
            .collect::<Result<Vec<_>, _>>()?;
        let mut state = ProjectionState::default();
        loop {
            match after_templates(&state, entries.iter().map(EntryView::from))? {
                StepPlan::Advance(state) => return Ok(state),
                StepPlan::Restart(restart) => state = restart,
            }
        }
    }
}

/// Rows per chunk when the log is streamed for a rebuild.
const CHUNK_ENTRIES: usize = 5_000;

impl Store {
    /// The log's entries in `(after, up_to]` in position order, in chunks, read by a task of its own
    /// (a streamed SELECT on PostgreSQL) so that reading and deriving overlap.
    fn entry_chunks(
        &self,
        contract_id: &ContractId,
        after: u64,
        up_to: u64,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<(u64, String)>, StoreError>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let contract = contract_id.as_str().to_owned();
        macro_rules! stream_chunks {
            ($pool:expr) => {{
                let pool = $pool.clone();
                tokio::spawn(async move {
                    use futures_util::TryStreamExt;
                    let mut rows = sqlx::query_as::<_, (i64, String)>(
                        "SELECT position, entry FROM log_entries
                         WHERE contract_id = $1 AND position > $2 AND position <= $3
                         ORDER BY position",
                    )
                    .bind(&contract)
                    .bind(after as i64)
                    .bind(up_to as i64)
                    .fetch(&pool);
                    let mut chunk = Vec::with_capacity(CHUNK_ENTRIES);
                    loop {
                        match rows.try_next().await {
                            Ok(Some((position, entry))) => {
                                chunk.push((position as u64, entry));
                                if chunk.len() == CHUNK_ENTRIES
                                    && sender.send(Ok(std::mem::take(&mut chunk))).await.is_err()
                                {
                                    return;
                                }
                            }
                            Ok(None) => break,
                            Err(error) => {
                                let _ = sender.send(Err(error.into())).await;
                                return;
                            }
                        }
                    }
                    if !chunk.is_empty() {
                        let _ = sender.send(Ok(chunk)).await;
                    }
                });
            }};
        }
        match self {
            Store::Sqlite(store) => stream_chunks!(store.pool),
            Store::Postgres(store) => stream_chunks!(store.pool),
        }
        receiver
    }
}

impl crate::postgres::PgStore {
    pub(crate) async fn write_rebuilt(
        &self,
        contract_id: &ContractId,
        rebuilt: &Rebuilt,
    ) -> Result<(), StoreError> {
        use std::fmt::Write as _;
        let mut tx = self.pool.begin().await?;
        sqlx::query(ENSURE_CHECKPOINT_SQL)
            .bind(contract_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT position FROM projector_checkpoints WHERE contract_id = $1 FOR UPDATE")
            .bind(contract_id.as_str())
            .execute(&mut *tx)
            .await?;
        delete_rows(&mut tx, contract_id).await?;
        let mut text = String::new();
        for ((indicator, part, month), (events, cents)) in &rebuilt.delta.months {
            if (*events, *cents) == (0, 0) {
                continue;
            }
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = writeln!(text, "\t{part}\t{month}\t{events}\t{cents}");
        }
        let mut copy = tx
            .copy_in_raw("COPY indicator_months (contract_id, indicator, part, month, events, amount_cents) FROM STDIN")
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        let mut text = String::new();
        let mut copy = tx
            .copy_in_raw(concat!(
                "COPY indicator_keys (contract_id, indicator, part, year, fact_key, ",
                "m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12) FROM STDIN"
            ))
            .await?;
        for ((indicator, part, year, key), counts) in &rebuilt.delta.keys {
            if *counts == [0; 12] {
                continue;
            }
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = write!(text, "\t{part}\t{year}\t");
            copy_text(&mut text, key);
            for events in counts {
                let _ = write!(text, "\t{events}");
            }
            text.push('\n');
            if text.len() > 1 << 20 {
                copy.send(text.as_bytes()).await?;
                text.clear();
            }
        }
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        let mut text = String::new();
        for ((indicator, part, period), keys) in rebuilt.delta.distinct_counts() {
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, &indicator);
            let _ = writeln!(text, "\t{part}\t{period}\t{keys}");
        }
        let mut copy = tx
            .copy_in_raw(
                "COPY indicator_distinct (contract_id, indicator, part, period, keys) FROM STDIN",
            )
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        let mut text = String::new();
        for (fact, until) in &rebuilt.span_facts {
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, &fact.indicator);
            let _ = write!(text, "\t{}\t{}\t", fact.part.code(), fact.position);
            match until {
                Some(until) => {
                    let _ = write!(text, "{until}");
                }
                None => text.push_str("\\N"),
            }
            text.push('\t');
            copy_text(&mut text, &fact.event_id);
            let _ = write!(text, "\t{}\t", fact.local_date.format("%Y-%m-%d"));
            match &fact.key {
                Some(key) => copy_text(&mut text, key),
                None => text.push_str("\\N"),
            }
            text.push('\t');
            match fact.amount {
                Some(amount) => {
                    let _ = write!(text, "{}", cents(amount, fact.position)?);
                }
                None => text.push_str("\\N"),
            }
            text.push('\n');
        }
        let mut copy = tx
            .copy_in_raw("COPY indicator_facts (contract_id, indicator, part, position, until_position, event_id, local_date, fact_key, amount_cents) FROM STDIN")
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        save_state(&mut tx, contract_id, &rebuilt.state).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Deletes the contract's projection rows (not its checkpoint) in `tx`.
pub(crate) async fn delete_rows<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    contract_id: &ContractId,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    for sql in DELETE_SQL {
        sqlx::query(sql)
            .bind(contract_id.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Saves the contract's projector checkpoint in `tx`.
pub(crate) async fn save_state<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    contract_id: &ContractId,
    state: &ProjectionState,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    for<'q> Option<&'q str>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    for<'q> &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    sqlx::query(SAVE_STATE_SQL)
        .bind(state.position as i64)
        .bind(state.template.as_deref())
        .bind(state.template_named_at as i64)
        .bind(state.definitions_sha256.as_deref())
        .bind(contract_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl crate::sqlite::SqliteStore {
    pub(crate) async fn write_rebuilt(
        &self,
        contract_id: &ContractId,
        rebuilt: &Rebuilt,
    ) -> Result<(), StoreError> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(ENSURE_CHECKPOINT_SQL)
            .bind(contract_id.as_str())
            .execute(&mut *tx)
            .await?;
        delete_rows(&mut tx, contract_id).await?;
        Self::write_rows(&mut tx, contract_id, &rebuilt.delta, &rebuilt.span_facts).await?;
        save_state(&mut tx, contract_id, &rebuilt.state).await?;
        tx.commit().await?;
        Ok(())
    }
}
