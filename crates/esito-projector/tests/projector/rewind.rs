//! `rewind` of a suffix gives the rows as of the position before it: the rows of the whole
//! log less what the suffix added equal the rows of the prefix.

use esito_indicators::Period;
use esito_projector::{month_range, rewind, Delta, Keys, Months, ProjectionState};
use proptest::prelude::*;
use serde_json::json;

use crate::log::{at, history, Log};

/// What a snapshot of the rows `delta` holds reads for `period`: the monthly rows of its
/// months and the rows per key of its year (rows that count nothing left out).
fn snapshot(delta: &Delta, period: Period) -> (Months, Keys) {
    let (first, end) = month_range(period);
    let months = delta
        .months
        .iter()
        .filter(|((_, _, month), change)| *month >= first && *month < end && **change != (0, 0))
        .map(|(row, change)| (row.clone(), *change))
        .collect();
    let keys = delta
        .keys
        .iter()
        .filter(|((_, _, year, _), change)| *year == period.year() && **change != [0; 12])
        .map(|((indicator, part, _, key), change)| {
            ((indicator.clone(), *part, key.clone()), *change)
        })
        .collect();
    (months, keys)
}

fn without_zeros((mut months, mut keys): (Months, Keys)) -> (Months, Keys) {
    months.retain(|_, change| *change != (0, 0));
    keys.retain(|_, change| *change != [0; 12]);
    (months, keys)
}

/// The rows of `log` up to `as_of` for `period`, rewound from those of the whole log.
fn rewound(log: &Log, period: Period, as_of: u64) -> (Months, Keys) {
    let head = log.entries.len() as u64;
    let whole = log.advance(&ProjectionState::default(), head);
    let (mut months, mut keys) = snapshot(&whole.delta, period);
    let suffix = log.chunked(&at("cuneo", as_of), as_of, head, 3).delta;
    rewind(period, &mut months, &mut keys, suffix);
    without_zeros((months, keys))
}

fn period(text: &str) -> Period {
    text.parse().expect("a test period")
}

#[test]
fn rewinding_past_a_void_and_a_correction_gives_back_what_they_took_away() {
    let mut log = Log::registered("cuneo");
    log.access("b1", "2024-01-15"); // 2
    log.access("b2", "2024-01-20"); // 3
    log.void(2); // 4
    log.correct(
        3,
        "2024-04-02",
        json!({ "beneficiary_id": "b1", "channel": "in_person" }),
    ); // 5
       // As of 3: two accesses in January, by b1 and b2. The log after 3 takes both away and
       // adds b1's in April, which is outside the first quarter but inside the year.
    let q1 = rewound(&log, period("2024-Q1"), 3);
    assert_eq!(
        q1.0,
        Months::from([
            (
                ("centre_accesses".to_owned(), 0, "2024-01".to_owned()),
                (2, 0)
            ),
            (("centre_users".to_owned(), 0, "2024-01".to_owned()), (2, 0)),
        ])
    );
    let mut january = [0; 12];
    january[0] = 1;
    assert_eq!(
        q1.1,
        Keys::from([
            (("centre_users".to_owned(), 0, "b1".to_owned()), january),
            (("centre_users".to_owned(), 0, "b2".to_owned()), january),
        ])
    );
    // The same, read for the year: April's row rewinds to nothing.
    assert_eq!(rewound(&log, period("2024"), 3).0, q1.0);
}

#[test]
#[should_panic(expected = "rewound below zero")]
fn rewinding_more_than_the_rows_hold_is_a_broken_invariant() {
    let mut log = Log::registered("cuneo");
    log.access("b1", "2024-01-15");
    // Rows that never saw the access: the log after position 1 cannot be taken away from them.
    let (mut months, mut keys) = (Months::new(), Keys::new());
    let suffix = log.chunked(&at("cuneo", 1), 1, 2, 1).delta;
    rewind(period("2024-01"), &mut months, &mut keys, suffix);
}

/// The periods a random history's rows are read for.
const PERIODS: [&str; 7] = [
    "2024-01", "2024-02", "2024-Q1", "2024-H2", "2024", "2025-01", "2025",
];

proptest! {
    /// For any short history, any position and any period: the rows as of the position
    /// (a step over the prefix) equal the rows of the whole log rewound by the suffix.
    #[test]
    fn the_rows_of_a_prefix_are_those_of_the_whole_less_the_suffix(
        log in history(),
        cut in any::<prop::sample::Index>(),
        which in 0..PERIODS.len(),
    ) {
        let head = log.entries.len() as u64;
        let as_of = cut.index(head as usize) as u64 + 1;
        let period = period(PERIODS[which]);
        let prefix = log.advance(&ProjectionState::default(), as_of);
        prop_assert_eq!(
            without_zeros(snapshot(&prefix.delta, period)),
            rewound(&log, period, as_of)
        );
    }
}
