//! `distinct_changes` moves a period's count by one exactly when a key starts or stops having
//! events in one of the period's months.

use std::collections::BTreeMap;

use esito_indicators::Period;
use esito_projector::{distinct_changes, Delta, DistinctChanges, MonthCounts};
use proptest::prelude::*;

use crate::log::{in_months, key};

/// The changes of one key's row going from `before` to `after`, by period as written.
fn changes(before: &MonthCounts, after: &MonthCounts) -> BTreeMap<String, i64> {
    let mut out = DistinctChanges::new();
    distinct_changes(&mut out, "users", 0, 2024, before, after);
    out.into_iter()
        .map(|((indicator, part, period), change)| {
            assert_eq!((indicator.as_str(), part), ("users", 0));
            (period, change)
        })
        .collect()
}

fn periods(changes: &[(&str, i64)]) -> BTreeMap<String, i64> {
    changes
        .iter()
        .map(|(period, change)| ((*period).to_owned(), *change))
        .collect()
}

#[test]
fn a_key_first_seen_in_january_counts_in_january_the_first_quarter_the_first_half_and_the_year() {
    assert_eq!(
        changes(&[0; 12], &in_months(&[(1, 1)])),
        periods(&[("2024-01", 1), ("2024-Q1", 1), ("2024-H1", 1), ("2024", 1)])
    );
}

#[test]
fn a_second_event_in_a_month_the_key_already_has_changes_no_count() {
    assert!(changes(&in_months(&[(1, 1)]), &in_months(&[(1, 2)])).is_empty());
}

#[test]
fn a_key_that_moves_from_january_to_april_leaves_the_first_quarter_for_the_second() {
    // The first half and the year hold both months: the key stays counted in them.
    assert_eq!(
        changes(&in_months(&[(1, 1)]), &in_months(&[(4, 1)])),
        periods(&[
            ("2024-01", -1),
            ("2024-Q1", -1),
            ("2024-04", 1),
            ("2024-Q2", 1)
        ])
    );
}

#[test]
fn a_key_whose_last_event_is_taken_away_stops_counting_everywhere() {
    assert_eq!(
        changes(&in_months(&[(12, 1)]), &[0; 12]),
        periods(&[
            ("2024-12", -1),
            ("2024-Q4", -1),
            ("2024-H2", -1),
            ("2024", -1)
        ])
    );
}

#[test]
fn the_distinct_counts_of_a_whole_delta_count_each_key_once_per_period() {
    let mut delta = Delta::default();
    // b1 in January and February, b2 in February: February has two keys, January one.
    delta
        .keys
        .insert(key("users", "b1"), in_months(&[(1, 1), (2, 3)]));
    delta.keys.insert(key("users", "b2"), in_months(&[(2, 1)]));
    let counts: BTreeMap<String, i64> = delta
        .distinct_counts()
        .into_iter()
        .map(|((_, _, period), keys)| (period, keys))
        .collect();
    assert_eq!(
        counts,
        periods(&[
            ("2024-01", 1),
            ("2024-02", 2),
            ("2024-Q1", 2),
            ("2024-H1", 2),
            ("2024", 2)
        ])
    );
}

/// A row of a year: each month holds 0 to 2 events.
fn row() -> impl Strategy<Value = MonthCounts> {
    prop::array::uniform12(0i64..3)
}

proptest! {
    /// For any two rows of a key, each of the year's 19 periods moves by +1 when the key
    /// starts having events in it, −1 when it stops, and not at all otherwise.
    #[test]
    fn each_period_moves_by_one_exactly_when_the_key_starts_or_stops_having_events_in_it(
        before in row(),
        after in row(),
    ) {
        let found = changes(&before, &after);
        for period in Period::all_in_year(2024) {
            let has = |counts: &MonthCounts| {
                (1..=12).any(|month| {
                    let first = chrono::NaiveDate::from_ymd_opt(2024, month, 1)
                        .expect("a month's first day");
                    period.contains(first) && counts[month as usize - 1] > 0
                })
            };
            let expected = i64::from(has(&after)) - i64::from(has(&before));
            prop_assert_eq!(
                found.get(&period.to_string()).copied().unwrap_or(0),
                expected,
                "{}", period
            );
        }
        prop_assert!(found.values().all(|change| *change != 0));
    }
}
