//! Values: an indicator's value for a period from the facts that count as of a position.
//!
//! The store answers the periodic parts with SQL aggregates (count, distinct count, sum) and
//! hands over the facts of the other parts; the offline path builds the same [`Inputs`] from
//! facts in memory. Both end in [`value`], the one place each kind's formula is written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

use crate::definitions::{Actual, Indicator, Kind, Measure, UnitCost};
use crate::facts::{Fact, Part};
use crate::window::Window;

/// Places a value that is neither a count nor money is rounded to (docs/design.md §4).
pub const RATIO_DECIMALS: u32 = 6;

/// The aggregates of one periodic part over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    pub count: u64,
    /// Distinct non-null keys.
    pub distinct: u64,
    /// The sum of the non-null amounts.
    pub sum: Decimal,
}

/// What one indicator's value is computed from, for one period as of one position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Periodic parts: aggregates over the facts dated in the period.
    pub aggregates: BTreeMap<Part, Aggregate>,
    /// Other parts: every fact dated before the period's end.
    pub facts: Vec<Fact>,
}

impl Inputs {
    /// The inputs from facts that count as of the position in question, in any order, for a
    /// period or any other window of days.
    pub fn from_facts<'a>(
        period: impl Into<Window>,
        facts: impl IntoIterator<Item = &'a Fact>,
    ) -> Self {
        let period: Window = period.into();
        let mut inputs = Inputs::default();
        let mut keys: BTreeMap<Part, BTreeSet<&str>> = BTreeMap::new();
        for fact in facts {
            if fact.part.is_periodic() {
                if !period.contains(fact.local_date) {
                    continue;
                }
                let aggregate = inputs.aggregates.entry(fact.part).or_default();
                aggregate.count += 1;
                if let Some(amount) = fact.amount {
                    aggregate.sum += amount;
                }
                if let Some(key) = &fact.key {
                    keys.entry(fact.part).or_default().insert(key);
                }
            } else if fact.local_date < period.end_on() {
                inputs.facts.push(fact.clone());
            }
        }
        for (part, keys) in keys {
            inputs.aggregates.entry(part).or_default().distinct = keys.len() as u64;
        }
        inputs.facts.sort_by_key(|fact| (fact.position, fact.part));
        inputs
    }

    fn aggregate(&self, part: Part) -> Aggregate {
        self.aggregates.get(&part).cloned().unwrap_or_default()
    }
}

/// True when a fact contributes to the indicator's value for the period: the facts that
/// explain a value. A distinct count counts keys, so a fact without one (an access of no
/// beneficiary) is no part of it; a sum adds amounts, so a fact without one adds nothing.
pub fn contributes(indicator: &Indicator, fact: &Fact, period: impl Into<Window>) -> bool {
    let period: Window = period.into();
    if !fact.part.is_periodic() {
        return fact.local_date < period.end_on();
    }
    if !period.contains(fact.local_date) {
        return false;
    }
    let measure = match (&indicator.kind, fact.part) {
        (Kind::Distinct { .. }, _) => Some(MeasureOf::Key),
        (Kind::Sum { .. }, _) => Some(MeasureOf::Amount),
        (Kind::Ratio { numerator, .. }, Part::Numerator) => MeasureOf::of(&numerator.1),
        (Kind::Ratio { denominator, .. }, Part::Denominator) => MeasureOf::of(&denominator.1),
        _ => None,
    };
    match measure {
        Some(MeasureOf::Key) => fact.key.is_some(),
        Some(MeasureOf::Amount) => fact.amount.is_some(),
        None => true,
    }
}

/// What of a periodic fact a value reads, beyond the fact itself being there.
enum MeasureOf {
    Key,
    Amount,
}

impl MeasureOf {
    fn of(measure: &Measure) -> Option<Self> {
        match measure {
            Measure::Count => None,
            Measure::Distinct(_) => Some(MeasureOf::Key),
            Measure::Sum(_) => Some(MeasureOf::Amount),
        }
    }
}

/// A value: counts are integers; money has two places; ratios, shares and indexes six.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Count(u64),
    Money(Decimal),
    Ratio(Decimal),
}

impl Value {
    /// The value as a decimal, as payments use it.
    pub fn decimal(self) -> Decimal {
        match self {
            Value::Count(count) => Decimal::from(count),
            Value::Money(amount) | Value::Ratio(amount) => amount,
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Count(count) => serializer.serialize_u64(*count),
            Value::Money(amount) => serializer.serialize_str(&format!("{amount:.2}")),
            Value::Ratio(ratio) => serializer.serialize_str(&format!("{ratio:.6}")),
        }
    }
}

/// Rounds half away from zero to `places`.
pub fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Value> {
    (!denominator.is_zero()).then(|| Value::Ratio(round(numerator / denominator, RATIO_DECIMALS)))
}

/// The indicator's value for the period, or for any other window of days (the same formula:
/// a period is the window of its days); `None` when it has none (a ratio over nothing).
pub fn value(indicator: &Indicator, period: impl Into<Window>, inputs: &Inputs) -> Option<Value> {
    let period: Window = period.into();
    match &indicator.kind {
        Kind::Count { .. } => Some(Value::Count(inputs.aggregate(Part::Main).count)),
        Kind::Distinct { .. } => Some(Value::Count(inputs.aggregate(Part::Main).distinct)),
        Kind::Sum { .. } => Some(Value::Money(round(inputs.aggregate(Part::Main).sum, 2))),
        Kind::Ratio {
            numerator,
            denominator,
        } => {
            let measured = |part: Part, measure: &Measure| {
                let aggregate = inputs.aggregate(part);
                match measure {
                    Measure::Count => Decimal::from(aggregate.count),
                    Measure::Distinct(_) => Decimal::from(aggregate.distinct),
                    Measure::Sum(_) => aggregate.sum,
                }
            };
            ratio(
                measured(Part::Numerator, &numerator.1),
                measured(Part::Denominator, &denominator.1),
            )
        }
        Kind::Occupancy { .. } => {
            let days = |from: Part, to: Part| -> i64 {
                intervals(&inputs.facts, from, to)
                    .into_iter()
                    .map(|(start, end)| overlap_days(start, end, period))
                    .sum()
            };
            let available = days(Part::Available, Part::Withdrawn);
            let occupied = days(Part::Occupied, Part::Vacated);
            ratio(Decimal::from(occupied), Decimal::from(available))
        }
        Kind::CohortShare { within_days, .. } => {
            let entered = earliest(&inputs.facts, Part::Entered);
            let mut reached_by_key: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
            for fact in inputs
                .facts
                .iter()
                .filter(|fact| fact.part == Part::Reached)
            {
                if let Some(key) = &fact.key {
                    reached_by_key.entry(key).or_default().push(fact.local_date);
                }
            }
            let window = chrono::Duration::days(i64::from(*within_days));
            let reached = entered
                .iter()
                .filter(|(key, entered_on)| {
                    reached_by_key.get(*key).is_some_and(|dates| {
                        dates
                            .iter()
                            .any(|on| *on >= **entered_on && *on <= **entered_on + window)
                    })
                })
                .count();
            ratio(
                Decimal::from(reached as u64),
                Decimal::from(entered.len() as u64),
            )
        }
        Kind::Savings {
            baseline,
            actual,
            unit_cost,
            ..
        } => {
            let starts: BTreeMap<&str, &Fact> = {
                let mut starts = BTreeMap::new();
                for fact in inputs.facts.iter().filter(|fact| fact.part == Part::Start) {
                    if let Some(key) = &fact.key {
                        starts
                            .entry(key.as_str())
                            .and_modify(|kept: &mut &Fact| {
                                if (fact.local_date, fact.position)
                                    < (kept.local_date, kept.position)
                                {
                                    *kept = fact;
                                }
                            })
                            .or_insert(fact);
                    }
                }
                starts
            };
            // Outcomes with no start event were summed as they arrived (their terms need
            // nothing else); those measured from a start are matched to it here.
            let mut total = inputs.aggregate(Part::Main).sum;
            for outcome in inputs
                .facts
                .iter()
                .filter(|fact| fact.part == Part::Outcome && period.contains(fact.local_date))
            {
                if let Some(term) = savings_term(outcome, &starts, *baseline, *actual, unit_cost) {
                    total += round(term, 2);
                }
            }
            Some(Value::Money(round(total, 2)))
        }
    }
}

/// One beneficiary's term of a savings indicator: `max(0, baseline − actual) × unit cost`,
/// which the total adds rounded to the cent; `None` when a figure it needs is missing (no
/// start event, no unit cost).
pub fn savings_term(
    outcome: &Fact,
    starts: &BTreeMap<&str, &Fact>,
    baseline: Decimal,
    actual: Actual,
    unit_cost: &UnitCost,
) -> Option<Decimal> {
    let start = outcome.key.as_deref().and_then(|key| starts.get(key));
    let actual = match actual {
        Actual::Zero => Decimal::ZERO,
        Actual::DaysSinceStart => {
            Decimal::from((outcome.local_date - start?.local_date).num_days())
        }
    };
    let cost = match unit_cost {
        UnitCost::Fixed(cost) => *cost,
        UnitCost::OutcomeField(_) => outcome.amount?,
        UnitCost::StartField(_) => start?.amount?,
    };
    Some((baseline - actual).max(Decimal::ZERO) * cost)
}

/// The earliest date of each key among the facts of `part`.
fn earliest(facts: &[Fact], part: Part) -> BTreeMap<&str, NaiveDate> {
    let mut dates: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for fact in facts.iter().filter(|fact| fact.part == part) {
        if let Some(key) = &fact.key {
            dates
                .entry(key)
                .and_modify(|on| *on = (*on).min(fact.local_date))
                .or_insert(fact.local_date);
        }
    }
    dates
}

/// Per key: `[start, end)`, `end` open (`None`) when no closing fact is known.
fn intervals(facts: &[Fact], from: Part, to: Part) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    let ends = earliest(facts, to);
    earliest(facts, from)
        .into_iter()
        .map(|(key, start)| (start, ends.get(key).copied()))
        .collect()
}

/// Days of `[start, end)` inside the period.
fn overlap_days(start: NaiveDate, end: Option<NaiveDate>, period: Window) -> i64 {
    let from = start.max(period.start_on());
    let to = end.map_or(period.end_on(), |end| end.min(period.end_on()));
    (to - from).num_days().max(0)
}
