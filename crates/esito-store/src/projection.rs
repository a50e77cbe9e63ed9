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
//! - each block of [`esito_projector::BLOCK_ENTRIES`] positions keeps the versions of the rows
//!   it touched as its end (or the checkpoint) left them, and a step never crosses a block's
//!   end; the rows are sums, so a value as of an earlier position `p` is the rows as of the end
//!   of `p`'s block less what the entries after `p` in that block added (their facts, less
//!   those of the entries they superseded): at most one block is read again, so the answer is
//!   exact and costs the same at any size of the log (counts per key as of an earlier position
//!   still rewind the whole year's rows by the log after `p`);
//! - the rows are those of the template last named in the log up to the checkpoint, with the
//!   definitions built into this binary; when either changes, the contract's rows are rebuilt
//!   from position 1 in the step that notices it.

use std::collections::{BTreeMap, HashMap};

use esito_domain::ContractId;
use esito_indicators::facts::{EntryView, Fact};
use esito_indicators::stored::StoredEntry;
use esito_indicators::{Aggregate, Definitions, Inputs, MemoryProjection, Period};
use esito_log::Entry;
use esito_projector::ProjectorError;
pub(crate) use esito_projector::{
    after_templates, aggregates_of, block_of, cents, definitions_of, derived, distinct_changes,
    earlier_targets, fact_from_row, from_cents, inputs_by_indicator, key_counts, month_range,
    part_of, plan_step, read_step, restart_for_definitions, rewind, rewind_aggregates,
    room_in_block, step_versions, stored_error, Advance, BatchFacts, Delta, DerivedChunk,
    DistinctChanges, Keys, MonthCounts, Months, Running, StepPlan, Versions,
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
    /// The rows as of the end of an earlier position's block, when read for one.
    pub at_block: Option<AtBlock>,
}

/// The rows as of `end`, the end of an earlier position's block or the checkpoint: the period's
/// monthly rows and distinct counts, and the rows per key of its year that the block touched.
#[derive(Debug, Default)]
pub(crate) struct AtBlock {
    pub end: u64,
    pub months: Months,
    pub distinct: BTreeMap<(String, i16), i64>,
    pub keys: Keys,
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

/// Every period's distinct counts of a contract: a term's, read at once.
pub(crate) const ALL_DISTINCT_SQL: &str = "SELECT indicator, part, period, keys
    FROM indicator_distinct WHERE contract_id = $1";

pub(crate) const KEYS_SQL: &str = "SELECT indicator, part, fact_key,
        m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12
    FROM indicator_keys WHERE contract_id = $1 AND year = $2";

/// One indicator part's rows per key for a year: what counts per key need.
pub(crate) const KEYS_OF_SQL: &str = "SELECT indicator, part, fact_key,
        m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12
    FROM indicator_keys WHERE contract_id = $1 AND year = $2 AND indicator = $3 AND part = $4";

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

pub(crate) const DELETE_SQL: [&str; 7] = [
    "DELETE FROM indicator_facts WHERE contract_id = $1",
    "DELETE FROM indicator_months WHERE contract_id = $1",
    "DELETE FROM indicator_keys WHERE contract_id = $1",
    "DELETE FROM indicator_distinct WHERE contract_id = $1",
    "DELETE FROM indicator_month_versions WHERE contract_id = $1",
    "DELETE FROM indicator_distinct_versions WHERE contract_id = $1",
    "DELETE FROM indicator_key_versions WHERE contract_id = $1",
];

pub(crate) const INSERT_FACTS_SQL: &str = "INSERT INTO indicator_facts
    (contract_id, indicator, part, position, until_position, event_id, local_date, fact_key, amount_cents) ";

pub(crate) const UPSERT_MONTHS_SQL: &str =
    "INSERT INTO indicator_months (contract_id, indicator, part, month, events, amount_cents) ";
pub(crate) const UPSERT_MONTHS_TAIL: &str =
    " ON CONFLICT (contract_id, indicator, part, month) DO UPDATE
    SET events = indicator_months.events + excluded.events,
        amount_cents = indicator_months.amount_cents + excluded.amount_cents
    RETURNING indicator, part, month, events, amount_cents";

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
    SET keys = indicator_distinct.keys + excluded.keys
    RETURNING indicator, part, period, keys";

pub(crate) const DELETE_KEY_SQL: &str = "DELETE FROM indicator_keys
    WHERE contract_id = $1 AND indicator = $2 AND part = $3 AND year = $4 AND fact_key = $5";

pub(crate) const PRUNE_DISTINCT_SQL: &str =
    "DELETE FROM indicator_distinct WHERE contract_id = $1 AND keys = 0";

/// A block's versions of monthly rows, as the rows stand after a step (or a rebuild's block).
pub(crate) const UPSERT_MONTH_VERSIONS_SQL: &str = "INSERT INTO indicator_month_versions
    (contract_id, indicator, part, month, block, events, amount_cents) ";
pub(crate) const UPSERT_MONTH_VERSIONS_TAIL: &str =
    " ON CONFLICT (contract_id, indicator, part, month, block) DO UPDATE
    SET events = excluded.events, amount_cents = excluded.amount_cents";

pub(crate) const UPSERT_DISTINCT_VERSIONS_SQL: &str = "INSERT INTO indicator_distinct_versions
    (contract_id, indicator, part, period, block, keys) ";
pub(crate) const UPSERT_DISTINCT_VERSIONS_TAIL: &str =
    " ON CONFLICT (contract_id, indicator, part, period, block) DO UPDATE SET keys = excluded.keys";

pub(crate) const UPSERT_KEY_VERSIONS_SQL: &str = "INSERT INTO indicator_key_versions
    (contract_id, block, year, indicator, part, fact_key, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12) ";
pub(crate) const UPSERT_KEY_VERSIONS_TAIL: &str =
    " ON CONFLICT (contract_id, block, year, indicator, part, fact_key) DO UPDATE SET
        m01 = excluded.m01, m02 = excluded.m02, m03 = excluded.m03, m04 = excluded.m04,
        m05 = excluded.m05, m06 = excluded.m06, m07 = excluded.m07, m08 = excluded.m08,
        m09 = excluded.m09, m10 = excluded.m10, m11 = excluded.m11, m12 = excluded.m12";

/// The monthly rows of a period's months as of the end of a block: each row's latest version
/// at or before it (an index seek per row; rows made later have none and are left out).
pub(crate) const MONTHS_AT_SQL: &str =
    "SELECT m.indicator, m.part, m.month, v.events, v.amount_cents
    FROM indicator_months m JOIN indicator_month_versions v
      ON v.contract_id = m.contract_id AND v.indicator = m.indicator AND v.part = m.part
     AND v.month = m.month
    WHERE m.contract_id = $1 AND m.month >= $2 AND m.month < $3
      AND v.block = (SELECT MAX(w.block) FROM indicator_month_versions w
          WHERE w.contract_id = m.contract_id AND w.indicator = m.indicator
            AND w.part = m.part AND w.month = m.month AND w.block <= $4)";

/// A period's distinct counts as of the end of a block: for each (indicator, part) with
/// monthly rows in the period (a distinct count needs them), its latest version at or before.
pub(crate) const DISTINCT_AT_SQL: &str = "SELECT g.indicator, g.part, v.keys
    FROM (SELECT DISTINCT indicator, part FROM indicator_months
          WHERE contract_id = $1 AND month >= $2 AND month < $3) g
    JOIN indicator_distinct_versions v
      ON v.contract_id = $1 AND v.indicator = g.indicator AND v.part = g.part AND v.period = $4
    WHERE v.block = (SELECT MAX(w.block) FROM indicator_distinct_versions w
          WHERE w.contract_id = $1 AND w.indicator = g.indicator AND w.part = g.part
            AND w.period = $4 AND w.block <= $5)";

/// The rows per key of one year that one block touched, as its end left them.
pub(crate) const KEYS_AT_SQL: &str = "SELECT indicator, part, fact_key,
        m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12
    FROM indicator_key_versions WHERE contract_id = $1 AND block = $2 AND year = $3";

/// Rows per INSERT: at most 9 parameters each, under SQLite's 32,766.
pub(crate) const ROWS_PER_INSERT: usize = 2_000;
/// Rows per INSERT of rows per key: 17 parameters each.
pub(crate) const KEY_ROWS_PER_INSERT: usize = 1_000;

// The projection's SQL half, by purpose: the queries, the running projector's step, the
// rebuild and PostgreSQL's COPY.
mod copy;
mod in_force;
mod queries;
mod rebuild;
mod step;
