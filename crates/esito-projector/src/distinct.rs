//! Distinct counts: how many keys have events in each of a year's 19 periods (months,
//! quarters, halves, the year), kept up to date from each key's row for the year.
//!
//! Invariant: a period's count moves by one exactly when a key's row starts or stops having
//! events in one of the period's months; a row never counts fewer than no events (asserted).

use std::collections::HashMap;

use esito_indicators::Period;

use crate::delta::MonthCounts;

/// Changes to the distinct counts, by (indicator, part code, period as written).
pub type DistinctChanges = HashMap<(String, i16, String), i64>;

/// Which of a year's 19 periods (in the order of `Period::all_in_year`) a key has events in.
pub(crate) fn presence(counts: &MonthCounts) -> u32 {
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
///
/// Panics if either row counts fewer than no events in a month: the rows and the log would
/// disagree, and a key with −1 events would count as having none.
pub fn distinct_changes(
    out: &mut DistinctChanges,
    indicator: &str,
    part: i16,
    year: i32,
    before: &MonthCounts,
    after: &MonthCounts,
) {
    assert!(
        before.iter().chain(after).all(|events| *events >= 0),
        "indicator `{indicator}` part {part}, {year}: a key's row goes from {before:?} to \
         {after:?}, and a month never counts fewer than no events"
    );
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
