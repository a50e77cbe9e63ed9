//! Rows as of an earlier position: the rows are sums, so the rows as of `p` are the
//! checkpoint's less what the log after `p` added.
//!
//! Invariant: a rewound row never counts fewer than no events (asserted): a row below zero
//! means the checkpoint's rows and the log after `p` disagree.

use esito_indicators::Period;

use crate::delta::{month_range, Delta, Keys, Months};

/// Turns the checkpoint's monthly rows (of the period's months) and rows per key (of the
/// period's year) into those as of an earlier position, given what the log after that
/// position added (`suffix`): the rows are sums, so the earlier rows are the later less it.
/// The suffix's rows outside the period's months and year are left out.
///
/// Panics if a row would count fewer than no events: the rows were not those of the log.
pub fn rewind(period: Period, months: &mut Months, keys: &mut Keys, suffix: Delta) {
    let (first, end) = month_range(period);
    for ((indicator, part, month), (events, cents)) in suffix.months {
        if month < first || month >= end {
            continue;
        }
        let kept = months.entry((indicator, part, month)).or_default();
        kept.0 -= events;
        kept.1 -= cents;
        assert!(
            kept.0 >= 0,
            "rewound below zero: {} events in a month whose row the log after the position \
             added {events} to",
            kept.0
        );
    }
    for ((indicator, part, year, key), change) in suffix.keys {
        if year == period.year() {
            let counts = keys.entry((indicator, part, key)).or_default();
            for (kept, change) in counts.iter_mut().zip(change) {
                *kept -= change;
            }
            assert!(
                counts.iter().all(|events| *events >= 0),
                "rewound below zero: a key's row for {year} is {counts:?}"
            );
        }
    }
}
