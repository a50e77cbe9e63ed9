//! Changes to the projection's rows: each periodic fact adds one event (and its cents) to its
//! month's row and, when it has a key, to the key's row for the year.
//!
//! Invariant: a delta is a sum, so deltas of runs of the log added up in position order
//! ([`Delta::merge`]) equal the delta of the whole run.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;
use esito_indicators::{Fact, Period};
use rust_decimal::Decimal;

use crate::distinct::{distinct_changes, DistinctChanges};
use crate::ProjectorError;

/// A key's events in each month of a year.
pub type MonthCounts = [i64; 12];

/// Monthly events and cents, by (indicator, part code, `YYYY-MM`).
pub type Months = BTreeMap<(String, i16, String), (i64, i64)>;
/// Events per month of one year, by (indicator, part code, key).
pub type Keys = BTreeMap<(String, i16, String), MonthCounts>;

/// Changes to the monthly rows (hashed: a rebuild adds to them millions of times).
#[derive(Debug, Default)]
pub struct Delta {
    pub months: HashMap<(String, i16, String), (i64, i64)>,
    /// By (indicator, part code, year, key).
    pub keys: HashMap<(String, i16, i32, String), MonthCounts>,
    /// The rows per key that lost an event somewhere in the run (a correction or a void), even
    /// if they gained it back.
    pub lowered: HashSet<(String, i16, i32, String)>,
}

impl Delta {
    /// Adds (`sign` 1) or takes away (`sign` −1) the periodic facts among `facts`.
    pub fn apply(&mut self, facts: &[Fact], sign: i64) -> Result<(), ProjectorError> {
        for fact in facts.iter().filter(|fact| fact.part.is_periodic()) {
            let month = month_of(fact.local_date);
            let cents = fact
                .amount
                .map_or(Ok(0), |amount| cents(amount, fact.position))?;
            let row = self
                .months
                .entry((fact.indicator.clone(), fact.part.code(), month))
                .or_default();
            row.0 += sign;
            row.1 += sign * cents;
            if let Some(key) = &fact.key {
                let date = fact.local_date;
                let row = (
                    fact.indicator.clone(),
                    fact.part.code(),
                    date.year(),
                    key.clone(),
                );
                if sign < 0 {
                    self.lowered.insert(row.clone());
                }
                self.keys.entry(row).or_default()[date.month0() as usize] += sign;
            }
        }
        Ok(())
    }

    /// Adds `other` to this delta: the delta of this run followed by `other`'s.
    pub fn merge(&mut self, other: Delta) {
        for (row, (events, cents)) in other.months {
            let kept = self.months.entry(row).or_default();
            kept.0 += events;
            kept.1 += cents;
        }
        for (row, change) in other.keys {
            let counts = self.keys.entry(row).or_default();
            for (events, change) in counts.iter_mut().zip(change) {
                *events += change;
            }
        }
        self.lowered.extend(other.lowered);
    }

    /// The distinct counts of a projection whose rows per key are exactly this delta's.
    ///
    /// Panics if a row per key counts fewer than no events in a month: the rows of a whole
    /// projection never do.
    pub fn distinct_counts(&self) -> DistinctChanges {
        let mut out = DistinctChanges::new();
        for ((indicator, part, year, _), counts) in &self.keys {
            distinct_changes(&mut out, indicator, *part, *year, &[0; 12], counts);
        }
        out
    }
}

/// A money amount as whole cents; facts carry amounts of at most two places.
pub fn cents(amount: Decimal, position: u64) -> Result<i64, ProjectorError> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    if scaled.fract() != Decimal::ZERO {
        return Err(ProjectorError::Corrupt {
            position,
            reason: format!("the amount {amount} has more than two decimal places"),
        });
    }
    i64::try_from(scaled).map_err(|_| ProjectorError::Corrupt {
        position,
        reason: format!("the amount {amount} is out of range"),
    })
}

/// Whole cents as a money amount.
pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// `YYYY-MM`, as the monthly rows key a date.
pub fn month_of(date: chrono::NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The period's first month and the month after its last, as the monthly rows key them: its
/// months are those in `[first, end)`.
pub fn month_range(period: Period) -> (String, String) {
    (month_of(period.start_on()), month_of(period.end_on()))
}
