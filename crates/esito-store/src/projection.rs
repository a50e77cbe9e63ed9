//! The indicators' projection in the database: the projector that turns each contract's log
//! into facts (`esito_indicators::derive`), and the queries that answer values and their
//! explanations as of a log position.
//!
//! Invariants:
//! - a contract's facts and its projector checkpoint change in one transaction, the checkpoint
//!   row locked first: a projector that fails before its commit leaves both as they were, and
//!   the next run derives the same entries again, so nothing is lost or counted twice;
//! - the facts are those of the template last named in the log up to the checkpoint, with the
//!   definitions built into this binary; when either changes, the contract's facts are rebuilt
//!   from position 1 in the step that notices it;
//! - a fact counts as of `p` when `position <= p` and it was not superseded at or before `p`.

use std::collections::BTreeMap;

use esito_domain::ContractId;
use esito_indicators::facts::{derive, EntryView, Fact, Part};
use esito_indicators::templates::{embedded, template_named};
use esito_indicators::{Aggregate, Definitions, Inputs, Period};
use rust_decimal::Decimal;

use crate::{Store, StoreError};

/// Entries one projector transaction takes.
pub const PROJECT_BATCH: u32 = 2_000;

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

/// What a step writes: facts, supersessions and the new checkpoint; or a restart from the
/// beginning with other definitions.
pub(crate) enum StepPlan {
    Advance {
        facts: Vec<Fact>,
        /// (event id, position of the entry that supersedes it), in position order.
        superseded: Vec<(String, u64)>,
        state: ProjectionState,
    },
    Restart(ProjectionState),
}

pub(crate) fn definitions_of(template: Option<&str>) -> Result<Option<Definitions>, StoreError> {
    match template.and_then(embedded) {
        None => Ok(None),
        Some(Ok(definitions)) => Ok(Some(definitions)),
        Some(Err(error)) => Err(StoreError::Definitions(error.to_string())),
    }
}

/// The state to restart from when the definitions this binary holds differ from those the
/// facts were derived with.
pub(crate) fn restart_for_definitions(
    state: &ProjectionState,
) -> Result<Option<ProjectionState>, StoreError> {
    let definitions = definitions_of(state.template.as_deref())?;
    let sha = definitions.map(|definitions| definitions.sha256);
    if sha == state.definitions_sha256 {
        return Ok(None);
    }
    Ok(Some(ProjectionState {
        position: 0,
        definitions_sha256: sha,
        ..state.clone()
    }))
}

/// Plans the step over `entries` (stored canonical JSON, in position order after
/// `state.position`).
pub(crate) fn plan_step(
    state: &ProjectionState,
    entries: &[(u64, String)],
) -> Result<StepPlan, StoreError> {
    let mut state = state.clone();
    let mut definitions = definitions_of(state.template.as_deref())?;
    let mut facts = Vec::new();
    let mut superseded = Vec::new();
    for (position, text) in entries {
        let entry: esito_log::Entry =
            serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
                position: *position,
                reason: error.to_string(),
            })?;
        let view = EntryView::from(&entry);
        if let Some(named) = template_named(view) {
            if entry.position > state.template_named_at
                && state.template.as_deref() != Some(named.as_str())
            {
                let named_definitions = definitions_of(Some(&named))?;
                let restart = ProjectionState {
                    position: 0,
                    template: Some(named),
                    template_named_at: entry.position,
                    definitions_sha256: named_definitions
                        .as_ref()
                        .map(|definitions| definitions.sha256.clone()),
                };
                // Nothing projected yet: the first template simply applies from here.
                if state.position == 0 && facts.is_empty() {
                    state = ProjectionState {
                        position: state.position,
                        ..restart
                    };
                    definitions = named_definitions;
                } else {
                    return Ok(StepPlan::Restart(restart));
                }
            }
        }
        if let Some(definitions) = &definitions {
            let derived = derive(definitions, view).map_err(|error| StoreError::Corrupt {
                position: entry.position,
                reason: error.to_string(),
            })?;
            facts.extend(derived.facts);
            if let Some(event_id) = derived.supersedes {
                superseded.push((event_id, entry.position));
            }
        }
        state.position = entry.position;
    }
    Ok(StepPlan::Advance {
        facts,
        superseded,
        state,
    })
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
        part: Part::from_code(part).ok_or_else(|| corrupt(format!("part {part}")))?,
        position: position as u64,
        event_id,
        local_date: local_date
            .parse()
            .map_err(|_| corrupt(format!("date {local_date}")))?,
        key,
        amount: amount_cents.map(from_cents),
    })
}

/// Assembles each indicator's inputs from the aggregate rows and the non-periodic facts.
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

/// The highest part code that counts only within its period.
pub(crate) const PERIODIC_PART_MAX: i16 = 2;

pub(crate) const AGGREGATES_SQL: &str =
    "SELECT indicator, part, COUNT(*), COUNT(DISTINCT fact_key),
        CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)
    FROM indicator_facts
    WHERE contract_id = $1 AND part <= $2 AND local_date >= $3 AND local_date < $4
      AND position <= $5 AND (until_position IS NULL OR until_position > $5)
    GROUP BY indicator, part";

pub(crate) const SPAN_FACTS_SQL: &str =
    "SELECT indicator, part, position, event_id, local_date, fact_key, amount_cents
    FROM indicator_facts
    WHERE contract_id = $1 AND part > $2 AND local_date < $3
      AND position <= $4 AND (until_position IS NULL OR until_position > $4)";

pub(crate) const EXPLAIN_SQL: &str =
    "SELECT indicator, part, position, event_id, local_date, fact_key, amount_cents
    FROM indicator_facts
    WHERE contract_id = $1 AND indicator = $2 AND position > $3
      AND position <= $4 AND (until_position IS NULL OR until_position > $4)
      AND local_date < $5 AND (part > $6 OR local_date >= $7)
    ORDER BY position, part
    LIMIT $8";

pub(crate) const ENTRIES_SQL: &str = "SELECT position, entry FROM log_entries
    WHERE contract_id = $1 AND position > $2 ORDER BY position LIMIT $3";

pub(crate) const SUPERSEDE_SQL: &str = "UPDATE indicator_facts SET until_position = $1
    WHERE contract_id = $2 AND event_id = $3 AND until_position IS NULL";

pub(crate) const SAVE_STATE_SQL: &str = "UPDATE projector_checkpoints
    SET position = $1, template = $2, template_named_at = $3, definitions_sha256 = $4
    WHERE contract_id = $5";

pub(crate) const DELETE_FACTS_SQL: &str = "DELETE FROM indicator_facts WHERE contract_id = $1";

pub(crate) const INSERT_FACTS_SQL: &str = "INSERT INTO indicator_facts
    (contract_id, indicator, part, position, until_position, event_id, local_date, fact_key, amount_cents) ";

/// Rows per INSERT: 9 parameters each, under SQLite's 32,766.
pub(crate) const FACTS_PER_INSERT: usize = 1_000;

/// Why the indicators could not be reported.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("as_of {as_of} is beyond the log's size {size}")]
    AsOfBeyondLog { as_of: u64, size: u64 },
    #[error("the contract's template {template:?} has no indicator definitions in projections/")]
    NoDefinitions { template: Option<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The indicators for `period` as of `as_of` (default: the head), the projection caught
    /// up first so the answer is never behind the log.
    pub async fn indicators(
        &self,
        contract_id: &ContractId,
        period: Period,
        as_of: Option<u64>,
    ) -> Result<esito_indicators::IndicatorReport, ReportError> {
        let size = self.head(contract_id).await?.map_or(0, |head| head.size);
        let as_of = as_of.unwrap_or(size);
        if as_of > size {
            return Err(ReportError::AsOfBeyondLog { as_of, size });
        }
        self.catch_up(contract_id, size).await?;
        let state = self.projection_state(contract_id).await?;
        let Some(definitions) = definitions_of(state.template.as_deref())? else {
            return Err(ReportError::NoDefinitions {
                template: state.template,
            });
        };
        let mut inputs = self.indicator_inputs(contract_id, period, as_of).await?;
        Ok(esito_indicators::report::build(
            &definitions,
            contract_id.as_str(),
            as_of,
            period,
            |indicator| inputs.remove(&indicator.id).unwrap_or_default(),
        ))
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
            Store::Sqlite(store) => store.project_step(contract_id, batch, fault).await,
            Store::Postgres(store) => store.project_step(contract_id, batch, fault).await,
        }
    }

    /// Projects until the checkpoint reaches `position` (or the head, if it is lower).
    pub async fn catch_up(
        &self,
        contract_id: &ContractId,
        position: u64,
    ) -> Result<u64, StoreError> {
        loop {
            let state = self.projection_state(contract_id).await?;
            if state.position >= position {
                return Ok(state.position);
            }
            let step = self.project_step(contract_id).await?;
            if step.applied == 0 && step.position == state.position {
                return Ok(step.position);
            }
        }
    }

    /// Deletes the contract's facts and checkpoint: the next step starts from position 1.
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

    /// Each indicator's inputs for the period as of `as_of`, from the facts projected so far
    /// (the caller catches the projection up to `as_of` first).
    pub async fn indicator_inputs(
        &self,
        contract_id: &ContractId,
        period: Period,
        as_of: u64,
    ) -> Result<BTreeMap<String, Inputs>, StoreError> {
        match self {
            Store::Sqlite(store) => store.indicator_inputs(contract_id, period, as_of).await,
            Store::Postgres(store) => store.indicator_inputs(contract_id, period, as_of).await,
        }
    }

    /// The facts behind one indicator's value, in position order after `after`, at most `limit`.
    pub async fn explain(
        &self,
        contract_id: &ContractId,
        indicator: &str,
        period: Period,
        as_of: u64,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Fact>, StoreError> {
        match self {
            Store::Sqlite(store) => {
                store
                    .explain(contract_id, indicator, period, as_of, after, limit)
                    .await
            }
            Store::Postgres(store) => {
                store
                    .explain(contract_id, indicator, period, as_of, after, limit)
                    .await
            }
        }
    }
}

/// The backend methods, the same SQL on both databases; `$lock` is how the checkpoint row is
/// locked (PostgreSQL's `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` already holds the database).
macro_rules! projection_backend {
    ($store:ty, $db:ty, $lock:literal) => {
        impl $store {
            pub(crate) async fn project_step(
                &self,
                contract_id: &esito_domain::ContractId,
                batch: u32,
                fault: $crate::projection::Fault,
            ) -> Result<$crate::projection::StepOutcome, $crate::StoreError> {
                use sqlx::Row;
                use $crate::projection::*;
                let (_guard, mut tx) = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO projector_checkpoints (contract_id, position, template_named_at)
                     VALUES ($1, 0, 0) ON CONFLICT (contract_id) DO NOTHING",
                )
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
                    sqlx::query(DELETE_FACTS_SQL)
                        .bind(contract_id.as_str())
                        .execute(&mut *tx)
                        .await?;
                    state = restart;
                }
                let rows = sqlx::query(ENTRIES_SQL)
                    .bind(contract_id.as_str())
                    .bind(state.position as i64)
                    .bind(i64::from(batch))
                    .fetch_all(&mut *tx)
                    .await?;
                let entries = rows
                    .iter()
                    .map(|row| {
                        Ok((
                            row.try_get::<i64, _>(0)? as u64,
                            row.try_get::<String, _>(1)?,
                        ))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                let (state, applied) = match plan_step(&state, &entries)? {
                    StepPlan::Restart(restart) => {
                        sqlx::query(DELETE_FACTS_SQL)
                            .bind(contract_id.as_str())
                            .execute(&mut *tx)
                            .await?;
                        (restart, 0)
                    }
                    StepPlan::Advance {
                        facts,
                        superseded,
                        state,
                    } => {
                        for chunk in facts.chunks(FACTS_PER_INSERT) {
                            let mut insert = sqlx::QueryBuilder::<$db>::new(INSERT_FACTS_SQL);
                            let mut failure = None;
                            insert.push_values(chunk, |mut row, fact| {
                                let amount = match fact
                                    .amount
                                    .map(|amount| cents(amount, fact.position))
                                    .transpose()
                                {
                                    Ok(amount) => amount,
                                    Err(error) => {
                                        failure = Some(error);
                                        None
                                    }
                                };
                                row.push_bind(contract_id.as_str())
                                    .push_bind(fact.indicator.as_str())
                                    .push_bind(fact.part.code())
                                    .push_bind(fact.position as i64)
                                    .push_bind(None::<i64>)
                                    .push_bind(fact.event_id.as_str())
                                    .push_bind(fact.local_date.format("%Y-%m-%d").to_string())
                                    .push_bind(fact.key.as_deref())
                                    .push_bind(amount);
                            });
                            if let Some(error) = failure {
                                return Err(error);
                            }
                            insert.build().execute(&mut *tx).await?;
                        }
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
                sqlx::query(SAVE_STATE_SQL)
                    .bind(state.position as i64)
                    .bind(state.template.as_deref())
                    .bind(state.template_named_at as i64)
                    .bind(state.definitions_sha256.as_deref())
                    .bind(contract_id.as_str())
                    .execute(&mut *tx)
                    .await?;
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

            pub(crate) async fn reset_projection(
                &self,
                contract_id: &esito_domain::ContractId,
            ) -> Result<(), $crate::StoreError> {
                let (_guard, mut tx) = self.begin_write().await?;
                sqlx::query($crate::projection::DELETE_FACTS_SQL)
                    .bind(contract_id.as_str())
                    .execute(&mut *tx)
                    .await?;
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

            pub(crate) async fn indicator_inputs(
                &self,
                contract_id: &esito_domain::ContractId,
                period: esito_indicators::Period,
                as_of: u64,
            ) -> Result<
                std::collections::BTreeMap<String, esito_indicators::Inputs>,
                $crate::StoreError,
            > {
                use sqlx::Row;
                use $crate::projection::*;
                let start = period.start_on().format("%Y-%m-%d").to_string();
                let end = period.end_on().format("%Y-%m-%d").to_string();
                let rows = sqlx::query(AGGREGATES_SQL)
                    .bind(contract_id.as_str())
                    .bind(PERIODIC_PART_MAX)
                    .bind(&start)
                    .bind(&end)
                    .bind(as_of as i64)
                    .fetch_all(&self.pool)
                    .await?;
                let mut aggregates = Vec::with_capacity(rows.len());
                for row in &rows {
                    let part: i16 = row.try_get(1)?;
                    let part = esito_indicators::Part::from_code(part).ok_or_else(|| {
                        $crate::StoreError::Corrupt {
                            position: 0,
                            reason: format!("indicator fact: part {part}"),
                        }
                    })?;
                    aggregates.push((
                        row.try_get::<String, _>(0)?,
                        part,
                        esito_indicators::Aggregate {
                            count: row.try_get::<i64, _>(2)? as u64,
                            distinct: row.try_get::<i64, _>(3)? as u64,
                            sum: from_cents(row.try_get::<i64, _>(4)?),
                        },
                    ));
                }
                let rows = sqlx::query(SPAN_FACTS_SQL)
                    .bind(contract_id.as_str())
                    .bind(PERIODIC_PART_MAX)
                    .bind(&end)
                    .bind(as_of as i64)
                    .fetch_all(&self.pool)
                    .await?;
                let facts = rows
                    .iter()
                    .map(|row| {
                        fact_from_row(
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                            &row.try_get::<String, _>(4)?,
                            row.try_get(5)?,
                            row.try_get(6)?,
                        )
                    })
                    .collect::<Result<Vec<_>, $crate::StoreError>>()?;
                Ok(inputs_by_indicator(aggregates, facts))
            }

            pub(crate) async fn explain(
                &self,
                contract_id: &esito_domain::ContractId,
                indicator: &str,
                period: esito_indicators::Period,
                as_of: u64,
                after: u64,
                limit: u32,
            ) -> Result<Vec<esito_indicators::Fact>, $crate::StoreError> {
                use sqlx::Row;
                use $crate::projection::*;
                let rows = sqlx::query(EXPLAIN_SQL)
                    .bind(contract_id.as_str())
                    .bind(indicator)
                    .bind(after as i64)
                    .bind(as_of as i64)
                    .bind(period.end_on().format("%Y-%m-%d").to_string())
                    .bind(PERIODIC_PART_MAX)
                    .bind(period.start_on().format("%Y-%m-%d").to_string())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        fact_from_row(
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                            &row.try_get::<String, _>(4)?,
                            row.try_get(5)?,
                            row.try_get(6)?,
                        )
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use projection_backend;
