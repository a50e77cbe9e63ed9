//! Rows read back: fact rows into facts, monthly rows and rows per key into aggregates, and
//! the rows' units (cents, months, COPY text).

use esito_indicators::{Aggregate, Part};
use esito_projector::{
    aggregates_of, cents, fact_from_row, from_cents, inputs_by_indicator, month_range, Keys,
    Months, ProjectorError,
};
use rust_decimal::Decimal;

use crate::log::in_months;

fn dec(text: &str) -> Decimal {
    text.parse().expect("a test decimal")
}

#[test]
fn amounts_are_whole_cents_and_back() {
    assert_eq!(cents(dec("350.5"), 7), Ok(35_050));
    assert_eq!(from_cents(35_050), dec("350.50"));
    assert!(matches!(
        cents(dec("0.125"), 7),
        Err(ProjectorError::Corrupt { position: 7, .. })
    ));
}

#[test]
fn a_period_reads_the_months_from_its_first_to_the_one_after_its_last() {
    let period = "2024-H2".parse().expect("a period");
    assert_eq!(
        month_range(period),
        ("2024-07".to_owned(), "2025-01".to_owned())
    );
}

#[test]
fn the_aggregates_sum_the_monthly_rows_and_count_the_keys_with_events_in_the_period() {
    // Q1: 3 + 1 orders worth 10.00 + 2.50; b1 ordered in February, b2 only in June.
    let months = Months::from([
        (("orders".to_owned(), 0, "2024-01".to_owned()), (3, 1_000)),
        (("orders".to_owned(), 0, "2024-03".to_owned()), (1, 250)),
    ]);
    let keys = Keys::from([
        (
            ("orders".to_owned(), 0, "b1".to_owned()),
            in_months(&[(2, 1)]),
        ),
        (
            ("orders".to_owned(), 0, "b2".to_owned()),
            in_months(&[(6, 2)]),
        ),
    ]);
    let aggregates =
        aggregates_of(&months, &keys, "2024-Q1".parse().expect("a period")).expect("rows read");
    assert_eq!(
        aggregates,
        vec![(
            "orders".to_owned(),
            Part::Main,
            Aggregate {
                count: 4,
                sum: dec("12.50"),
                distinct: 1
            }
        )]
    );
    let inputs = inputs_by_indicator(aggregates, Vec::new());
    assert_eq!(inputs["orders"].aggregates[&Part::Main].count, 4);
}

#[test]
fn a_fact_row_reads_back_and_a_row_at_no_position_is_refused() {
    let fact = fact_from_row(
        "flat_occupancy".to_owned(),
        Part::Occupied.code(),
        12,
        "e12".to_owned(),
        "2024-03-01",
        Some("flat-1".to_owned()),
        Some(1_050),
    )
    .expect("a stored row");
    assert_eq!(
        (fact.part, fact.position, fact.amount),
        (Part::Occupied, 12, Some(dec("10.50")))
    );
    let negative = fact_from_row(
        "flat_occupancy".to_owned(),
        5,
        -3,
        "e".to_owned(),
        "2024-03-01",
        None,
        None,
    );
    assert!(matches!(negative, Err(ProjectorError::Corrupt { .. })));
}
