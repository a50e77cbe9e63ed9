//! The indicators' projection in the database: the projector that turns each contract's log
//! into indicator rows (`esito_indicators::derive`), and the queries that answer values as of
//! a log position.
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

use std::collections::{BTreeMap, HashMap, HashSet};

use esito_domain::ContractId;
use esito_indicators::facts::{derive, EntryView, Fact, Part};
use esito_indicators::stored::StoredEntry;
use esito_indicators::templates::{built_in, template_named};
use esito_indicators::{Aggregate, Definitions, Inputs, MemoryProjection, Period};
use esito_log::Entry;
use rust_decimal::Decimal;

use crate::{Store, StoreError};

/// A key's events in each month of a year.
pub(crate) type MonthCounts = [i64; 12];

/// Entries one projector transaction takes.
pub const PROJECT_BATCH: u32 = 5_000;

/// How far a contract's log has been projected, and with which definitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectionState {
    pub position: u64,
    pub template: Option<String>,
    /// The position of the entry that named `template`.
    pub template_named_at: u64,
    pub definitions_sha256: Option<String>,
}

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

/// Monthly events and cents, by (indicator, part code, `YYYY-MM`).
pub(crate) type Months = BTreeMap<(String, i16, String), (i64, i64)>;
/// Events per month of one year, by (indicator, part code, key).
pub(crate) type Keys = BTreeMap<(String, i16, String), MonthCounts>;
/// Changes to the distinct counts, by (indicator, part code, period as written).
pub(crate) type DistinctChanges = HashMap<(String, i16, String), i64>;

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

/// Changes to the monthly rows (hashed: a rebuild adds to them millions of times).
#[derive(Debug, Default)]
pub(crate) struct Delta {
    pub months: HashMap<(String, i16, String), (i64, i64)>,
    /// By (indicator, part code, year, key).
    pub keys: HashMap<(String, i16, i32, String), MonthCounts>,
}

impl Delta {
    /// Adds (`sign` 1) or takes away (`sign` −1) the periodic facts among `facts`.
    fn apply(&mut self, facts: &[Fact], sign: i64) -> Result<(), StoreError> {
        for fact in facts.iter().filter(|fact| fact.part.is_periodic()) {
            let month = month_of(fact.local_date);
            let cents = fact
                .amount
                .map_or(Ok(0), |amount| cents(amount, fact.position))?;
            let row = self
                .months
                .entry((fact.indicator.clone(), fact.part.code(), month.clone()))
                .or_default();
            row.0 += sign;
            row.1 += sign * cents;
            if let Some(key) = &fact.key {
                use chrono::Datelike;
                let date = fact.local_date;
                self.keys
                    .entry((
                        fact.indicator.clone(),
                        fact.part.code(),
                        date.year(),
                        key.clone(),
                    ))
                    .or_default()[date.month0() as usize] += sign;
            }
        }
        Ok(())
    }

    /// The distinct counts of a projection whose rows per key are exactly this delta's.
    pub(crate) fn distinct_counts(&self) -> DistinctChanges {
        let mut out = DistinctChanges::new();
        for ((indicator, part, year, _), counts) in &self.keys {
            distinct_changes(&mut out, indicator, *part, *year, &[0; 12], counts);
        }
        out
    }
}

/// Which of a year's 19 periods (in the order of `Period::all_in_year`) a key has events in.
fn presence(counts: &MonthCounts) -> u32 {
    Period::all_in_year(0)
        .iter()
        .enumerate()
        .filter(|(_, period)| {
            counts[period.month_indexes()]
                .iter()
                .any(|events| *events > 0)
        })
        .fold(0, |mask, (bit, _)| mask | 1 << bit)
}

/// Adds to `out` how the distinct counts of the year's periods change when a key's row goes
/// from `before` to `after`.
pub(crate) fn distinct_changes(
    out: &mut DistinctChanges,
    indicator: &str,
    part: i16,
    year: i32,
    before: &MonthCounts,
    after: &MonthCounts,
) {
    let (was, is) = (presence(before), presence(after));
    if was == is {
        return;
    }
    for (bit, period) in Period::all_in_year(year).iter().enumerate() {
        let change = i64::from(is >> bit & 1) - i64::from(was >> bit & 1);
        if change != 0 {
            *out.entry((indicator.to_owned(), part, period.to_string()))
                .or_default() += change;
        }
    }
}

/// What a step writes.
pub(crate) struct Advance {
    pub delta: Delta,
    /// Facts of the parts that reach back, added from their position.
    pub span_facts: Vec<Fact>,
    /// (event id, position of the entry that supersedes it), in position order.
    pub superseded: Vec<(String, u64)>,
    pub state: ProjectionState,
}

/// Going on (with `T`), or a restart from the beginning with other definitions.
pub(crate) enum StepPlan<T> {
    Advance(T),
    Restart(ProjectionState),
}

pub(crate) fn definitions_of(
    template: Option<&str>,
) -> Result<Option<&'static Definitions>, StoreError> {
    match template.and_then(built_in) {
        None => Ok(None),
        Some(Ok(definitions)) => Ok(Some(definitions)),
        Some(Err(error)) => Err(StoreError::Definitions(error.to_string())),
    }
}

/// The state to restart from when the definitions this binary holds differ from those the
/// rows were derived with.
pub(crate) fn restart_for_definitions(
    state: &ProjectionState,
) -> Result<Option<ProjectionState>, StoreError> {
    let definitions = definitions_of(state.template.as_deref())?;
    let sha = definitions.map(|definitions| definitions.sha256.clone());
    if sha == state.definitions_sha256 {
        return Ok(None);
    }
    Ok(Some(ProjectionState {
        position: 0,
        definitions_sha256: sha,
        ..state.clone()
    }))
}

pub fn parse_entry(position: u64, text: &str) -> Result<Entry, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        position,
        reason: error.to_string(),
    })
}

fn derived<'a>(
    definitions: &Definitions,
    entry: impl Into<EntryView<'a>>,
) -> Result<esito_indicators::Derived, StoreError> {
    let entry = entry.into();
    derive(definitions, entry).map_err(|error| StoreError::Corrupt {
        position: entry.position,
        reason: error.to_string(),
    })
}

/// The event ids that `entries` correct or void and that are not among them: their stored
/// entries are needed to take their facts away.
pub(crate) fn earlier_targets(entries: &[StoredEntry<'_>]) -> Vec<String> {
    let here: HashSet<&str> = entries
        .iter()
        .map(|entry| entry.event_id.as_ref())
        .collect();
    entries
        .iter()
        .filter_map(|entry| entry.corrects.as_deref())
        .filter(|target| !here.contains(target))
        .map(str::to_owned)
        .collect()
}

/// The state after the templates that `entries` (in position order after `state.position`)
/// name: the log's first entry may name the first template, which then applies from it;
/// any other change of template restarts the projection from position 1 with the new one.
pub(crate) fn after_templates<'a>(
    state: &ProjectionState,
    entries: impl IntoIterator<Item = EntryView<'a>>,
) -> Result<StepPlan<ProjectionState>, StoreError> {
    let mut state = state.clone();
    for entry in entries {
        let Some(named) = template_named(entry) else {
            continue;
        };
        if entry.position <= state.template_named_at
            || state.template.as_deref() == Some(named.as_str())
        {
            continue;
        }
        let definitions_sha256 =
            definitions_of(Some(&named))?.map(|definitions| definitions.sha256.clone());
        let named = ProjectionState {
            position: 0,
            template: Some(named),
            template_named_at: entry.position,
            definitions_sha256,
        };
        if state.position == 0 && entry.position == 1 {
            state = named;
        } else {
            return Ok(StepPlan::Restart(named));
        }
    }
    Ok(StepPlan::Advance(state))
}

/// What a run of entries contributes, apart from the facts of the entries from before it
/// that they supersede.
#[derive(Debug, Default)]
pub(crate) struct BatchFacts {
    /// Facts of the parts that reach back, added from their position.
    pub span_facts: Vec<Fact>,
    /// (event id, position of the entry that supersedes it), in position order.
    pub superseded: Vec<(String, u64)>,
    /// Superseded events that are neither in the run nor in `earlier`: their facts are still
    /// to be taken away.
    pub missing: Vec<String>,
}

/// Adds to `delta` the facts of `entries` (a run in position order) and takes away those of
/// the entries they supersede, found in the run or in `earlier`. A pure function of its
/// arguments: runs may be derived on several threads and their deltas added up.
pub(crate) fn derive_batch(
    definitions: &Definitions,
    entries: &[EntryView<'_>],
    earlier: &HashMap<String, Entry>,
    delta: &mut Delta,
) -> Result<BatchFacts, StoreError> {
    let mut out = BatchFacts::default();
    // Only the facts of entries that the same run supersedes need keeping.
    let targets: HashSet<&str> = entries.iter().filter_map(|entry| entry.corrects).collect();
    let mut run_facts: HashMap<&str, Vec<Fact>> = HashMap::new();
    for entry in entries {
        let derived = derived(definitions, *entry)?;
        if let Some(target) = &derived.supersedes {
            match run_facts.remove(target.as_str()) {
                Some(gone) => delta.apply(&gone, -1)?,
                None => match earlier.get(target) {
                    Some(earlier) => {
                        delta.apply(&self::derived(definitions, earlier)?.facts, -1)?
                    }
                    None => out.missing.push(target.clone()),
                },
            }
            out.superseded.push((target.clone(), entry.position));
        }
        delta.apply(&derived.facts, 1)?;
        out.span_facts.extend(
            derived
                .facts
                .iter()
                .filter(|fact| !fact.part.is_periodic())
                .cloned(),
        );
        if targets.contains(entry.event_id) {
            run_facts.insert(entry.event_id, derived.facts);
        }
    }
    Ok(out)
}

/// Reads the stored entries (position, text) of a step for the definitions of `state`'s
/// template ([`StoredEntry::parse_for`]).
pub(crate) fn read_step<'a>(
    state: &ProjectionState,
    rows: &'a [(u64, String)],
) -> Result<Vec<StoredEntry<'a>>, StoreError> {
    let definitions = definitions_of(state.template.as_deref())?;
    rows.iter()
        .map(|(position, text)| {
            StoredEntry::parse_for(*position, text, definitions).map_err(stored_error)
        })
        .collect()
}

fn stored_error(error: esito_indicators::StoredError) -> StoreError {
    StoreError::Corrupt {
        position: error.position,
        reason: error.reason,
    }
}

/// Plans the step over `entries` (in position order after `state.position`, read by
/// [`read_step`] for `state`); `earlier` holds the stored entries they supersede from before
/// the batch.
pub(crate) fn plan_step(
    state: &ProjectionState,
    entries: &mut [StoredEntry<'_>],
    earlier: &HashMap<String, Entry>,
) -> Result<StepPlan<Advance>, StoreError> {
    let mut state = match after_templates(state, entries.iter().map(StoredEntry::view))? {
        StepPlan::Restart(restart) => return Ok(StepPlan::Restart(restart)),
        StepPlan::Advance(named) => {
            // The log's first entry named the first template: read what its definitions read.
            if named.definitions_sha256 != state.definitions_sha256 {
                for entry in entries.iter_mut() {
                    entry.read_whole_payload().map_err(stored_error)?;
                }
            }
            named
        }
    };
    let views: Vec<EntryView<'_>> = entries.iter().map(StoredEntry::view).collect();
    let mut delta = Delta::default();
    let mut facts = BatchFacts::default();
    if let Some(definitions) = definitions_of(state.template.as_deref())? {
        facts = derive_batch(definitions, &views, earlier, &mut delta)?;
        if let Some(target) = facts.missing.first() {
            let position = facts
                .superseded
                .iter()
                .find(|(event_id, _)| event_id == target)
                .map_or(0, |(_, position)| *position);
            return Err(StoreError::Corrupt {
                position,
                reason: format!("it supersedes {target}, which is not in the log"),
            });
        }
    }
    if let Some(last) = views.last() {
        state.position = last.position;
    }
    Ok(StepPlan::Advance(Advance {
        delta,
        span_facts: facts.span_facts,
        superseded: facts.superseded,
        state,
    }))
}

/// Turns the checkpoint's monthly rows and rows per key (of the period's year) into those as
/// of an earlier position, given what the log after that position added (`suffix`, from
/// [`Store::derive_range`]): the rows are sums, so the earlier rows are the later less it.
pub(crate) fn rewind(period: Period, months: &mut Months, keys: &mut Keys, suffix: Delta) {
    for (row, (events, cents)) in suffix.months {
        let kept = months.entry(row).or_default();
        kept.0 -= events;
        kept.1 -= cents;
    }
    for ((indicator, part, year, key), change) in suffix.keys {
        if year == period.year() {
            let counts = keys.entry((indicator, part, key)).or_default();
            for (kept, change) in counts.iter_mut().zip(change) {
                *kept -= change;
            }
        }
    }
}

/// A money amount as whole cents; facts carry amounts of at most two places.
pub(crate) fn cents(amount: Decimal, position: u64) -> Result<i64, StoreError> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    if scaled.fract() != Decimal::ZERO {
        return Err(StoreError::Corrupt {
            position,
            reason: format!("the amount {amount} has more than two decimal places"),
        });
    }
    i64::try_from(scaled).map_err(|_| StoreError::Corrupt {
        position,
        reason: format!("the amount {amount} is out of range"),
    })
}

pub(crate) fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// `YYYY-MM`, as the monthly rows key a date.
pub(crate) fn month_of(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}", date.year(), date.month())
}

pub(crate) fn month_range(period: Period) -> (String, String) {
    (month_of(period.start_on()), month_of(period.end_on()))
}

fn part_of(code: i16) -> Result<Part, StoreError> {
    Part::from_code(code).ok_or_else(|| StoreError::Corrupt {
        position: 0,
        reason: format!("indicator row: part {code}"),
    })
}

/// A stored fact row back into a fact.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fact_from_row(
    indicator: String,
    part: i16,
    position: i64,
    event_id: String,
    local_date: &str,
    key: Option<String>,
    amount_cents: Option<i64>,
) -> Result<Fact, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: position as u64,
        reason: format!("indicator fact: {reason}"),
    };
    Ok(Fact {
        indicator,
        part: part_of(part)?,
        position: position as u64,
        event_id,
        local_date: local_date
            .parse()
            .map_err(|_| corrupt(format!("date {local_date}")))?,
        key,
        amount: amount_cents.map(from_cents),
    })
}

/// Each indicator's inputs from the aggregates of its periodic parts and the facts of the
/// others.
pub(crate) fn inputs_by_indicator(
    aggregates: Vec<(String, Part, Aggregate)>,
    facts: Vec<Fact>,
) -> BTreeMap<String, Inputs> {
    let mut inputs: BTreeMap<String, Inputs> = BTreeMap::new();
    for (indicator, part, aggregate) in aggregates {
        inputs
            .entry(indicator)
            .or_default()
            .aggregates
            .insert(part, aggregate);
    }
    for fact in facts {
        inputs
            .entry(fact.indicator.clone())
            .or_default()
            .facts
            .push(fact);
    }
    for one in inputs.values_mut() {
        one.facts.sort_by_key(|fact| (fact.position, fact.part));
    }
    inputs
}

/// The aggregates of monthly rows (already limited to the period's months) and of the rows
/// per key of the period's year.
pub(crate) fn aggregates_of(
    months: &Months,
    keys: &Keys,
    period: Period,
) -> Result<Vec<(String, Part, Aggregate)>, StoreError> {
    let mut out: BTreeMap<(String, i16), Aggregate> = BTreeMap::new();
    for ((indicator, part, _), (events, cents)) in months {
        let aggregate = out.entry((indicator.clone(), *part)).or_default();
        aggregate.count += u64::try_from(*events).unwrap_or(0);
        aggregate.sum += from_cents(*cents);
    }
    for ((indicator, part, _), counts) in keys {
        if counts[period.month_indexes()]
            .iter()
            .any(|events| *events > 0)
        {
            out.entry((indicator.clone(), *part)).or_default().distinct += 1;
        }
    }
    out.into_iter()
        .map(|((indicator, part), aggregate)| Ok((indicator, part_of(part)?, aggregate)))
        .collect()
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

// The projection's SQL half, by purpose: the queries, the running projector's step, the
// rebuild, PostgreSQL's COPY, and the pure derivation of a stretch of the log they share.
mod chunk;
mod copy;
mod queries;
mod rebuild;
mod step;
