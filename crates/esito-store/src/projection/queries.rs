//! The projection's queries on either database: values, facts and counts per key for a
//! period as of a position, each read from one snapshot of the rows and the checkpoint.
//!
//! Invariant: the checkpoint and the rows a value is computed from are read in one read
//! transaction (`begin_read`), so a projector committing meanwhile cannot mix two states.

use sqlx::Row;

use super::*;
use crate::backend::{each_backend, Conn};
use crate::db;
use esito_projector::block_end;

use super::in_force::{source_of, Source};

impl Store {
    /// The indicators for `period` as of `as_of` (default: the head), the projection caught
    /// up first so the answer is never behind the log; with the definitions in force for the
    /// period (`in_force`).
    pub async fn indicators(
        &self,
        contract_id: &ContractId,
        period: Period,
        as_of: Option<u64>,
    ) -> Result<esito_indicators::IndicatorReport, ReportError> {
        let (source, as_of) = self.ready(contract_id, period.end_on(), as_of).await?;
        let mut inputs = match source {
            Source::Rows(definitions) => {
                self.indicator_inputs(contract_id, definitions, period, as_of)
                    .await?
            }
            Source::Log(definitions) => self
                .projected_from_log(contract_id, definitions, as_of)
                .await?
                .inputs(period)
                .map_err(StoreError::from)?,
        };
        Ok(esito_indicators::report::build(
            source.definitions(),
            contract_id.as_str(),
            as_of,
            period,
            |indicator| inputs.remove(&indicator.id).unwrap_or_default(),
        ))
    }

    /// The indicators of each of `periods` as of `as_of` (default: the head), equal to
    /// `indicators(period, as_of)` for each: the periods whose rows answer them are read in one snapshot (the monthly rows
    /// of their months, their distinct counts and the facts that reach back, each read once
    /// for all of them), so that a whole term costs about what one period does. A period whose
    /// definitions in force are not the rows' is answered from the log, as `indicators` does.
    pub async fn indicators_of_periods(
        &self,
        contract_id: &ContractId,
        periods: &[Period],
        as_of: Option<u64>,
    ) -> Result<Vec<esito_indicators::IndicatorReport>, ReportError> {
        let (Some(first), Some(last)) = (
            periods.iter().min_by_key(|period| period.start_on()),
            periods.iter().max_by_key(|period| period.end_on()),
        ) else {
            return Ok(Vec::new());
        };
        let (state, rows, as_of) = self.caught_up(contract_id, as_of).await?;
        let namings = self.namings_if_amended(contract_id, &state, as_of).await?;
        let sources: Vec<Source> = periods
            .iter()
            .map(|period| source_of(namings.as_ref(), rows, period.end_on(), as_of))
            .collect();
        let read = if sources
            .iter()
            .any(|source| matches!(source, Source::Rows(_)))
        {
            self.term_snapshot(contract_id, *first, *last, as_of)
                .await?
        } else {
            None
        };
        let mut reports = Vec::with_capacity(periods.len());
        for (period, source) in periods.iter().zip(sources) {
            let inputs = match (source, &read) {
                (Source::Rows(_), Some(term)) => Some(term.inputs(*period)?),
                _ => None,
            };
            let report = match inputs {
                Some(mut inputs) => esito_indicators::report::build(
                    source.definitions(),
                    contract_id.as_str(),
                    as_of,
                    *period,
                    |indicator| inputs.remove(&indicator.id).unwrap_or_default(),
                ),
                None => self.indicators(contract_id, *period, Some(as_of)).await?,
            };
            reports.push(report);
        }
        Ok(reports)
    }

    /// The rows that answer every period from `first`'s start to `last`'s end as of `as_of`,
    /// read in one snapshot; none when the checkpoint is no longer `as_of` (a projector moved
    /// it on meanwhile), which the caller answers period by period.
    async fn term_snapshot(
        &self,
        contract_id: &ContractId,
        first: Period,
        last: Period,
        as_of: u64,
    ) -> Result<Option<TermRows>, StoreError> {
        let (from, _) = month_range(first);
        let (_, until) = month_range(last);
        let mut tx = self.begin_read().await?;
        let term = each_backend!(tx.conn(), Conn(tx) => {
            let checkpoint = db::to_u64(
                sqlx::query_scalar::<_, i64>(
                    CHECKPOINT_SQL,
                )
                .bind(contract_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0),
            )?;
            if checkpoint != as_of {
                None
            } else {
                let mut term = TermRows::default();
                for row in sqlx::query(MONTHS_SQL)
                    .bind(contract_id.as_str())
                    .bind(&from)
                    .bind(&until)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let (month, counts) = month_row(&row)?;
                    term.months.insert(month, counts);
                }
                for row in sqlx::query(ALL_DISTINCT_SQL)
                    .bind(contract_id.as_str())
                    .fetch_all(&mut *tx)
                    .await?
                {
                    term.distinct.insert(
                        (row.try_get(2)?, row.try_get(0)?, row.try_get(1)?),
                        db::to_u64(row.try_get::<i64, _>(3)?)?,
                    );
                }
                for row in sqlx::query(SPAN_FACTS_SQL)
                    .bind(contract_id.as_str())
                    .bind(PERIODIC_PART_MAX)
                    .bind(last.end_on().format("%Y-%m-%d").to_string())
                    .bind(db::to_i64(as_of)?)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    term.span.push(span_fact(&row)?);
                }
                Some(term)
            }
        });
        tx.commit().await?;
        Ok(term)
    }

    /// The projection caught up to the head; where the values of a range of days ending before
    /// `end_on` (a period's, a window's) as of the position to answer as of are read from, and
    /// that position.
    async fn ready(
        &self,
        contract_id: &ContractId,
        end_on: chrono::NaiveDate,
        as_of: Option<u64>,
    ) -> Result<(Source, u64), ReportError> {
        let (state, rows, as_of) = self.caught_up(contract_id, as_of).await?;
        Ok((
            self.source(contract_id, &state, rows, end_on, as_of)
                .await?,
            as_of,
        ))
    }

    /// The projection caught up to the head: its state, the definitions its rows are derived
    /// with, and the position to answer as of (`as_of`, default the head).
    async fn caught_up(
        &self,
        contract_id: &ContractId,
        as_of: Option<u64>,
    ) -> Result<(ProjectionState, &'static Definitions, u64), ReportError> {
        let size = self.head(contract_id).await?.map_or(0, |head| head.size);
        let as_of = as_of.unwrap_or(size);
        if as_of > size {
            return Err(ReportError::AsOfBeyondLog { as_of, size });
        }
        let state = self.catch_up(contract_id, size).await?;
        match definitions_of(&state)? {
            Some(rows) => Ok((state, rows, as_of)),
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
        let (source, as_of) = self.ready(contract_id, period.end_on(), as_of).await?;
        let mut definitions = source.definitions().clone();
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
            position = last.position.get();
            for stored in page.iter().filter(|stored| stored.position <= as_of) {
                let entry = StoredEntry::parse_for(
                    stored.position.get(),
                    &stored.entry,
                    Some(&definitions),
                )
                .map_err(stored_error)?;
                projection
                    .apply(&definitions, entry.view())
                    .map_err(|error| StoreError::Corrupt {
                        position: stored.position.get(),
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

    /// The indicators over a range of days given by dates (`Window`) as of `as_of` (default:
    /// the head): derived again from the log up to `as_of`, as `explain` and the offline
    /// computation do, and valued by the same formulas as a period's report. A range need not
    /// be a period of the calendar nor lie within one year, which the projection's rows are
    /// kept by.
    pub async fn indicators_between(
        &self,
        contract_id: &ContractId,
        window: esito_indicators::Window,
        as_of: Option<u64>,
    ) -> Result<esito_indicators::RangeReport, ReportError> {
        let (source, as_of) = self.ready(contract_id, window.end_on(), as_of).await?;
        let definitions = source.definitions();
        let mut projection = MemoryProjection::new();
        let mut position = 0;
        while position < as_of {
            let page = self
                .entries(contract_id, position, crate::PAGE_SIZE_MAX)
                .await?;
            let Some(last) = page.last() else { break };
            position = last.position.get();
            for stored in page.iter().filter(|stored| stored.position <= as_of) {
                let entry =
                    StoredEntry::parse_for(stored.position.get(), &stored.entry, Some(definitions))
                        .map_err(stored_error)?;
                projection
                    .apply(definitions, entry.view())
                    .map_err(|error| StoreError::Corrupt {
                        position: stored.position.get(),
                        reason: error.to_string(),
                    })?;
            }
        }
        Ok(esito_indicators::report::build_range(
            definitions,
            contract_id.as_str(),
            as_of,
            window,
            |indicator| projection.inputs(indicator, window, as_of),
        ))
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
        let (source, as_of) = self.ready(contract_id, period.end_on(), as_of).await?;
        Ok(match source {
            Source::Rows(definitions) => {
                let keys = self
                    .key_rows(contract_id, definitions, indicator, period, as_of)
                    .await?;
                key_counts(&keys, indicator, period)
            }
            Source::Log(definitions) => self
                .projected_from_log(contract_id, definitions, as_of)
                .await?
                .key_counts(indicator, period),
        }
        .map_err(StoreError::from)?)
    }

    /// The rows per key of one indicator's main part for the period's year as of `as_of`: read
    /// with the checkpoint in one snapshot, then rewound by the log after `as_of` when it is
    /// before the checkpoint (only that indicator's rows, so a rate card with many outcomes
    /// reads each of its indicators' keys once).
    async fn key_rows(
        &self,
        contract_id: &ContractId,
        definitions: &'static Definitions,
        indicator: &str,
        period: Period,
        as_of: u64,
    ) -> Result<Keys, StoreError> {
        let main = esito_indicators::Part::Main.code();
        let mut tx = self.begin_read().await?;
        let (checkpoint, mut keys) = each_backend!(tx.conn(), Conn(tx) => {
            let checkpoint = db::to_u64(
                sqlx::query_scalar::<_, i64>(
                    CHECKPOINT_SQL,
                )
                .bind(contract_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0),
            )?;
            // As of the checkpoint, a key with no event in the period's months counts nothing:
            // only the others are read. As of an earlier position every key is, to be rewound.
            let sql = if as_of >= checkpoint {
                keys_of_in_months_sql(period)
            } else {
                KEYS_OF_SQL.to_owned()
            };
            let mut keys = Keys::new();
            for row in sqlx::query(&sql)
                .bind(contract_id.as_str())
                .bind(period.year())
                .bind(indicator)
                .bind(main)
                .fetch_all(&mut *tx)
                .await?
            {
                keys.insert(
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                    month_counts(&row, 3)?,
                );
            }
            (checkpoint, keys)
        });
        tx.commit().await?;
        if as_of < checkpoint {
            let mut suffix = self
                .derive_suffix(contract_id, Some(definitions), as_of, checkpoint)
                .await?;
            suffix.months.clear();
            suffix
                .keys
                .retain(|(one, part, _, _), _| one == indicator && *part == main);
            rewind(period, &mut Months::new(), &mut keys, suffix);
        }
        Ok(keys)
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
        let mut snapshot = self.snapshot(contract_id, period, as_of, with_keys).await?;
        if let Some(at) = snapshot.at_block.take() {
            let suffix = if at.end > as_of {
                self.derive_suffix(contract_id, Some(definitions), as_of, at.end)
                    .await?
            } else {
                Delta::default()
            };
            let aggregates = rewind_aggregates(period, at.months, at.distinct, &at.keys, suffix)?;
            snapshot.totals = Some(
                aggregates
                    .into_iter()
                    .map(|(indicator, part, aggregate)| ((indicator, part.code()), aggregate))
                    .collect(),
            );
        } else if snapshot.totals.is_none() && as_of < snapshot.checkpoint {
            let suffix = self
                .derive_suffix(contract_id, Some(definitions), as_of, snapshot.checkpoint)
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
                    parse_entry(stored.position.get(), &stored.entry)?,
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

    /// What a value is computed from, read in one snapshot so that the checkpoint and
    /// the rows agree: the periodic parts' totals when `as_of` is the checkpoint (and
    /// keys are not asked for); when it is earlier, the rows as of the end of its block
    /// (`at_block`), or, when keys are asked for, every row per month and key of the period
    /// to rewind; and the facts of the parts that reach back, counting as of `as_of`.
    async fn snapshot(
        &self,
        contract_id: &ContractId,
        period: Period,
        as_of: u64,
        with_keys: bool,
    ) -> Result<Snapshot, StoreError> {
        let mut tx = self.begin_read().await?;
        let snapshot = each_backend!(tx.conn(), Conn(tx) => {
            let checkpoint = db::to_u64(
                sqlx::query_scalar::<_, i64>(
                    CHECKPOINT_SQL,
                )
                .bind(contract_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0),
            )?;
            let (first, end_month) = month_range(period);
            let mut snapshot = Snapshot {
                checkpoint,
                ..Default::default()
            };
            if as_of == checkpoint && !with_keys {
                let mut totals: BTreeMap<(String, i16), Aggregate> = BTreeMap::new();
                for row in sqlx::query(MONTH_TOTALS_SQL)
                    .bind(contract_id.as_str())
                    .bind(&first)
                    .bind(&end_month)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let aggregate = totals
                        .entry((row.try_get(0)?, row.try_get(1)?))
                        .or_default();
                    aggregate.count = db::to_u64(row.try_get::<i64, _>(2)?)?;
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
                        .distinct = db::to_u64(row.try_get::<i64, _>(2)?)?;
                }
                snapshot.totals = Some(totals);
            } else if as_of < checkpoint && !with_keys {
                let end = block_end(as_of).min(checkpoint);
                let block = db::to_i64(block_of(end))?;
                let mut at = AtBlock { end, ..Default::default() };
                for row in sqlx::query(MONTHS_AT_SQL)
                    .bind(contract_id.as_str())
                    .bind(&first)
                    .bind(&end_month)
                    .bind(block)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let (month, counts) = month_row(&row)?;
                    at.months.insert(month, counts);
                }
                for row in sqlx::query(DISTINCT_AT_SQL)
                    .bind(contract_id.as_str())
                    .bind(&first)
                    .bind(&end_month)
                    .bind(period.to_string())
                    .bind(block)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    at.distinct
                        .insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
                }
                for row in sqlx::query(KEYS_AT_SQL)
                    .bind(contract_id.as_str())
                    .bind(block)
                    .bind(period.year())
                    .fetch_all(&mut *tx)
                    .await?
                {
                    at.keys.insert(
                        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                        month_counts(&row, 3)?,
                    );
                }
                snapshot.at_block = Some(at);
            } else {
                for row in sqlx::query(MONTHS_SQL)
                    .bind(contract_id.as_str())
                    .bind(&first)
                    .bind(&end_month)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let (month, counts) = month_row(&row)?;
                    snapshot.months.insert(month, counts);
                }
                for row in sqlx::query(KEYS_SQL)
                    .bind(contract_id.as_str())
                    .bind(period.year())
                    .fetch_all(&mut *tx)
                    .await?
                {
                    snapshot.keys.insert(
                        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                        month_counts(&row, 3)?,
                    );
                }
            }
            for row in sqlx::query(SPAN_FACTS_SQL)
                .bind(contract_id.as_str())
                .bind(PERIODIC_PART_MAX)
                .bind(period.end_on().format("%Y-%m-%d").to_string())
                .bind(db::to_i64(as_of)?)
                .fetch_all(&mut *tx)
                .await?
            {
                snapshot.span.push(span_fact(&row)?);
            }
            snapshot
        });
        tx.commit().await?;
        Ok(snapshot)
    }
}

/// The rows of a run of periods as of the checkpoint: monthly rows, distinct counts by
/// `(period, indicator, part)` and the facts that reach back to before the last period's end.
#[derive(Debug, Default)]
struct TermRows {
    months: Months,
    distinct: BTreeMap<(String, String, i16), u64>,
    span: Vec<Fact>,
}

impl TermRows {
    /// Each indicator's inputs for `period`, as `snapshot` and `indicator_inputs` give them as
    /// of the checkpoint: the monthly rows of its months summed, its distinct counts, the facts
    /// that reach back dated before its end.
    fn inputs(&self, period: Period) -> Result<BTreeMap<String, Inputs>, StoreError> {
        let (first, end) = month_range(period);
        let mut totals: BTreeMap<(String, i16), Aggregate> = BTreeMap::new();
        for ((indicator, part, month), (events, cents)) in &self.months {
            if *month < first || *month >= end {
                continue;
            }
            let aggregate = totals.entry((indicator.clone(), *part)).or_default();
            aggregate.count += db::to_u64(*events)?;
            aggregate.sum += from_cents(*cents);
        }
        let name = period.to_string();
        for ((one, indicator, part), keys) in &self.distinct {
            if *one == name {
                totals
                    .entry((indicator.clone(), *part))
                    .or_default()
                    .distinct = *keys;
            }
        }
        let aggregates = totals
            .into_iter()
            .map(|((indicator, part), aggregate)| Ok((indicator, part_of(part)?, aggregate)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let end_on = period.end_on();
        let span = self
            .span
            .iter()
            .filter(|fact| fact.local_date < end_on)
            .cloned()
            .collect();
        Ok(inputs_by_indicator(aggregates, span))
    }
}

/// `KEYS_OF_SQL` limited to the keys with an event in one of `period`'s months.
fn keys_of_in_months_sql(period: Period) -> String {
    let months: Vec<String> = period
        .month_indexes()
        .map(|index| format!("m{:02} <> 0", index + 1))
        .collect();
    format!("{KEYS_OF_SQL} AND ({})", months.join(" OR "))
}

/// The contract's checkpoint, read in a snapshot with the rows it stands for.
const CHECKPOINT_SQL: &str = "SELECT position FROM projector_checkpoints WHERE contract_id = $1";

/// A monthly row's key (indicator, part, month) and its events and cents, as `Months` holds it.
type MonthRow = ((String, i16, String), (i64, i64));

/// A monthly row (`MONTHS_SQL`, `MONTHS_AT_SQL`): its indicator, part and month, and its events
/// and cents.
fn month_row<R: Row>(row: &R) -> Result<MonthRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i16: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
        (row.try_get(3)?, row.try_get(4)?),
    ))
}

/// A fact that reaches back, as `SPAN_FACTS_SQL` reads it.
fn span_fact<R: Row>(row: &R) -> Result<Fact, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i16: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(fact_from_row(
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        &row.try_get::<String, _>(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
    )?)
}

/// Twelve monthly counts read from a row's columns from `first` on.
fn month_counts<R: Row>(row: &R, first: usize) -> Result<MonthCounts, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut counts: MonthCounts = [0; 12];
    for (month, events) in counts.iter_mut().enumerate() {
        *events = row.try_get(first + month)?;
    }
    Ok(counts)
}
