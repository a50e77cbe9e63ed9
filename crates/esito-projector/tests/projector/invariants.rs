//! The projector asserts its invariants instead of clamping: positions arrive contiguous from
//! the checkpoint, and no count goes below zero.

use esito_projector::{
    aggregates_of, derive_chunk, distinct_changes, plan_step, DistinctChanges, Invariant, Keys,
    Months, ProjectorError,
};

use crate::log::{at, in_months, read, Log};

fn three() -> Log {
    let mut log = Log::registered("cuneo");
    log.access("b1", "2024-01-15");
    log.access("b2", "2024-01-16");
    log
}

fn broken(found: Result<impl std::fmt::Debug, ProjectorError>) -> Invariant {
    match found {
        Err(ProjectorError::Fault(broken)) => broken,
        other => panic!("no fault: {other:?}"),
    }
}

/// The invariant a step from a checkpoint at 1 over `rows` breaks.
fn step_from_one(rows: &[(u64, String)]) -> Invariant {
    let mut entries = read(&at("cuneo", 1), rows);
    broken(plan_step(
        &at("cuneo", 1),
        &mut entries,
        &Default::default(),
    ))
}

fn not_contiguous(expected: u64, found: u64) -> Invariant {
    Invariant::PositionsNotContiguous { expected, found }
}

#[test]
fn a_step_that_does_not_start_right_after_its_checkpoint_is_a_fault() {
    // The checkpoint is at 1, so the step's first entry must be 2, not 3.
    assert_eq!(step_from_one(&three().rows(2, 3)), not_contiguous(2, 3));
}

#[test]
fn a_step_with_a_gap_or_a_repeat_is_a_fault() {
    let log = three();
    let mut swapped = log.rows(1, 3);
    swapped.swap(0, 1);
    assert_eq!(step_from_one(&swapped), not_contiguous(2, 3));
    let mut repeated = log.rows(1, 2);
    repeated.extend(log.rows(1, 2));
    assert_eq!(step_from_one(&repeated), not_contiguous(3, 2));
}

#[test]
fn a_rebuild_chunk_that_is_empty_or_skips_a_position_is_a_fault() {
    let log = three();
    let definitions = esito_indicators::templates::built_in("cuneo")
        .expect("cuneo is built in")
        .expect("cuneo parses");
    assert_eq!(
        broken(derive_chunk(Some(definitions), Vec::new())),
        Invariant::EmptyChunk
    );
    let mut rows = log.rows(0, 3);
    rows.remove(1);
    assert_eq!(
        broken(derive_chunk(Some(definitions), rows)),
        not_contiguous(2, 3)
    );
}

#[test]
fn a_monthly_row_below_zero_is_a_fault_not_a_zero() {
    let months = Months::from([(("orders".to_owned(), 0, "2024-01".to_owned()), (-1, 0))]);
    assert_eq!(
        broken(aggregates_of(
            &months,
            &Keys::new(),
            "2024-01".parse().expect("a period")
        )),
        Invariant::CountBelowZero {
            indicator: "orders".to_owned(),
            part: 0,
            row: "2024-01".to_owned(),
            events: -1
        }
    );
}

#[test]
fn a_row_per_key_below_zero_is_a_fault_even_outside_the_period() {
    let keys = Keys::from([(
        ("users".to_owned(), 0, "b1".to_owned()),
        in_months(&[(1, 1), (7, -1)]),
    )]);
    assert_eq!(
        broken(aggregates_of(
            &Months::new(),
            &keys,
            "2024-01".parse().expect("a period")
        )),
        Invariant::CountBelowZero {
            indicator: "users".to_owned(),
            part: 0,
            row: "b1".to_owned(),
            events: -1
        }
    );
}

#[test]
#[should_panic(expected = "never counts fewer than no events")]
fn a_key_row_going_below_zero_is_a_broken_invariant() {
    // One event in January taken away twice: the row the store would hold is −1.
    distinct_changes(
        &mut DistinctChanges::new(),
        "users",
        0,
        2024,
        &in_months(&[(1, 1)]),
        &in_months(&[(1, -1)]),
    );
}

#[test]
fn a_fault_converts_with_the_position_it_is_about() {
    let fault = ProjectorError::Fault(not_contiguous(2, 3));
    assert_eq!(fault.position(), 3);
    assert!(fault
        .to_string()
        .contains("position 3 came where position 2 was due"));
}
