//! The projection's rows as stored, read back: a fact row into a fact, monthly rows and rows
//! per key into a period's aggregates, and both into each indicator's inputs; and the text
//! PostgreSQL's COPY reads them from.
//!
//! Invariant: a row read back counts no fewer than no events, and names a part and a position
//! that exist (a row that does not is refused, never clamped).

use std::collections::BTreeMap;

use esito_indicators::{Aggregate, Fact, Inputs, Part, Period};

use crate::delta::{from_cents, Keys, Months};
use crate::{Invariant, ProjectorError};

/// The part a stored part code names.
pub fn part_of(code: i16) -> Result<Part, ProjectorError> {
    Part::from_code(code).ok_or_else(|| ProjectorError::Corrupt {
        position: 0,
        reason: format!("indicator row: part {code}"),
    })
}

/// A stored fact row back into a fact.
#[allow(clippy::too_many_arguments)]
pub fn fact_from_row(
    indicator: String,
    part: i16,
    position: i64,
    event_id: String,
    local_date: &str,
    key: Option<String>,
    amount_cents: Option<i64>,
) -> Result<Fact, ProjectorError> {
    let corrupt = |position: u64, reason: String| ProjectorError::Corrupt {
        position,
        reason: format!("indicator fact: {reason}"),
    };
    let position = u64::try_from(position)
        .ok()
        .filter(|position| *position > 0)
        .ok_or_else(|| corrupt(0, format!("position {position}")))?;
    Ok(Fact {
        indicator,
        part: part_of(part)?,
        position,
        event_id,
        local_date: local_date
            .parse()
            .map_err(|_| corrupt(position, format!("date {local_date}")))?,
        key,
        amount: amount_cents.map(from_cents),
    })
}

/// Each indicator's inputs from the aggregates of its periodic parts and the facts of the
/// others.
pub fn inputs_by_indicator(
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
/// per key of the period's year. A row that counts fewer than no events is a fault.
pub fn aggregates_of(
    months: &Months,
    keys: &Keys,
    period: Period,
) -> Result<Vec<(String, Part, Aggregate)>, ProjectorError> {
    let mut out: BTreeMap<(String, i16), Aggregate> = BTreeMap::new();
    for ((indicator, part, month), (events, cents)) in months {
        let below_zero = || Invariant::CountBelowZero {
            indicator: indicator.clone(),
            part: *part,
            row: month.clone(),
            events: *events,
        };
        let aggregate = out.entry((indicator.clone(), *part)).or_default();
        aggregate.count += u64::try_from(*events).map_err(|_| below_zero())?;
        aggregate.sum += from_cents(*cents);
    }
    for ((indicator, part, key), counts) in keys {
        if let Some(events) = counts.iter().find(|events| **events < 0) {
            return Err(Invariant::CountBelowZero {
                indicator: indicator.clone(),
                part: *part,
                row: key.clone(),
                events: *events,
            }
            .into());
        }
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

/// Each key's events of an indicator's main part in the period, from the rows per key of the
/// period's year (keys with none left out): what caps per beneficiary count. A row that counts
/// fewer than no events is a fault.
pub fn key_counts(
    keys: &Keys,
    indicator: &str,
    period: Period,
) -> Result<BTreeMap<String, u64>, ProjectorError> {
    let main = Part::Main.code();
    let mut counts = BTreeMap::new();
    for ((one, part, key), months) in keys {
        if one != indicator || *part != main {
            continue;
        }
        let events: i64 = months[period.month_indexes()].iter().sum();
        match u64::try_from(events) {
            Ok(0) => {}
            Ok(events) => {
                counts.insert(key.clone(), events);
            }
            Err(_) => {
                return Err(Invariant::CountBelowZero {
                    indicator: indicator.to_owned(),
                    part: main,
                    row: key.clone(),
                    events,
                }
                .into())
            }
        }
    }
    Ok(counts)
}
