//! A step over a few entries gives the deltas worked out by hand; a correction and a void take
//! the facts of the entries they supersede away, whether those are in the step or before it.

use std::collections::BTreeMap;

use esito_projector::{earlier_targets, plan_step, ProjectionState, ProjectorError, StepPlan};
use serde_json::json;

use crate::log::{at, id, in_months, key, keys, month, months, read, Log};

/// Registration (1); accesses by b1 and b2 in January (2, 3), by b1 in February (4); a rent
/// of 350.00 paid in February (5).
fn five() -> Log {
    let mut log = Log::registered("cuneo");
    log.access("b1", "2024-01-15");
    log.access("b2", "2024-01-20");
    log.access("b1", "2024-02-03");
    log.push(
        "RentPaid",
        "t1",
        "2024-02-05",
        json!({ "month": "2024-02", "amount": "350.00" }),
    );
    log
}

/// [`five`], then: 6 corrects 3 (the January access was b3's, not b2's); 7 voids 4 (b1's
/// February access); 8 b3's access in March; 9 b4's access in March, voided by 10.
fn ten() -> Log {
    let mut log = five();
    log.correct(
        3,
        "2024-01-20",
        json!({ "beneficiary_id": "b3", "channel": "in_person" }),
    );
    log.void(4);
    log.access("b3", "2024-03-01");
    log.access("b4", "2024-03-10");
    log.void(9);
    log
}

#[test]
fn a_step_from_the_start_takes_the_template_the_first_entry_names_and_counts_each_fact_once() {
    let log = five();
    let advance = log.advance(&ProjectionState::default(), 5);
    // The registration at position 1 names cuneo, which applies from it: no restart.
    assert_eq!(advance.state, at("cuneo", 5));
    // Two accesses in January and one in February, each counted by centre_accesses (a count)
    // and centre_users (distinct users); the rent is one event of 35,000 cents.
    assert_eq!(
        months(&advance.delta),
        BTreeMap::from([
            (month("centre_accesses", "2024-01"), (2, 0)),
            (month("centre_accesses", "2024-02"), (1, 0)),
            (month("centre_users", "2024-01"), (2, 0)),
            (month("centre_users", "2024-02"), (1, 0)),
            (month("rent_collected", "2024-02"), (1, 35_000)),
        ])
    );
    // Only the distinct users have keys: b1 in January and February, b2 in January.
    assert_eq!(
        keys(&advance.delta),
        BTreeMap::from([
            (key("centre_users", "b1"), in_months(&[(1, 1), (2, 1)])),
            (key("centre_users", "b2"), in_months(&[(1, 1)])),
        ])
    );
    assert!(advance.span_facts.is_empty(), "no part reaches back");
    assert!(advance.superseded.is_empty());
}

#[test]
fn a_correction_and_a_void_take_the_superseded_facts_away() {
    let log = ten();
    let advance = log.advance(&at("cuneo", 5), 10);
    assert_eq!(advance.state.position, 10);
    // 6: January loses b2's access and gains b3's: the monthly rows do not move, the keys do.
    // 7: February loses b1's access. 8: March gains b3's. 9 and 10: b4's access comes and goes.
    assert_eq!(
        months(&advance.delta),
        BTreeMap::from([
            (month("centre_accesses", "2024-02"), (-1, 0)),
            (month("centre_accesses", "2024-03"), (1, 0)),
            (month("centre_users", "2024-02"), (-1, 0)),
            (month("centre_users", "2024-03"), (1, 0)),
        ])
    );
    assert_eq!(
        keys(&advance.delta),
        BTreeMap::from([
            (key("centre_users", "b1"), in_months(&[(2, -1)])),
            (key("centre_users", "b2"), in_months(&[(1, -1)])),
            (key("centre_users", "b3"), in_months(&[(1, 1), (3, 1)])),
        ])
    );
    // Each superseded event with the position of the entry that supersedes it, in order.
    assert_eq!(
        advance.superseded,
        vec![(id(3), 6), (id(4), 7), (id(9), 10)]
    );
}

#[test]
fn two_steps_add_up_to_one_step_over_the_same_entries() {
    let log = ten();
    let first = log.advance(&ProjectionState::default(), 5);
    let second = log.advance(&first.state, 10);
    let mut both = first.delta;
    both.merge(second.delta);
    let whole = log.advance(&ProjectionState::default(), 10);
    assert_eq!(months(&both), months(&whole.delta));
    assert_eq!(keys(&both), keys(&whole.delta));
    // What counts after position 10: accesses 2 (b1) and 6 (b3) in January, 8 (b3) in March;
    // the rent in February.
    assert_eq!(
        months(&whole.delta),
        BTreeMap::from([
            (month("centre_accesses", "2024-01"), (2, 0)),
            (month("centre_accesses", "2024-03"), (1, 0)),
            (month("centre_users", "2024-01"), (2, 0)),
            (month("centre_users", "2024-03"), (1, 0)),
            (month("rent_collected", "2024-02"), (1, 35_000)),
        ])
    );
    assert_eq!(
        keys(&whole.delta),
        BTreeMap::from([
            (key("centre_users", "b1"), in_months(&[(1, 1)])),
            (key("centre_users", "b3"), in_months(&[(1, 1), (3, 1)])),
        ])
    );
}

#[test]
fn a_step_needs_the_entries_it_supersedes_from_before_it() {
    let log = ten();
    let rows = log.rows(5, 10);
    let mut entries = read(&at("cuneo", 5), &rows);
    // 6 and 7 supersede 3 and 4, from before the step; 10 supersedes 9, in it.
    assert_eq!(earlier_targets(&entries), vec![id(3), id(4)]);
    let refused = plan_step(&at("cuneo", 5), &mut entries, &Default::default());
    match refused {
        Err(ProjectorError::Corrupt { position, reason }) => {
            assert_eq!(position, 6, "the first entry whose target is missing");
            assert!(reason.contains(&id(3)), "{reason}");
        }
        Err(other) => panic!("another error: {other}"),
        Ok(StepPlan::Advance(_)) => panic!("a step without its targets went on"),
        Ok(StepPlan::Restart(restart)) => panic!("a restart: {restart:?}"),
    }
}

#[test]
fn a_step_at_the_head_changes_nothing() {
    let log = five();
    let advance = log.advance(&at("cuneo", 5), 5);
    assert_eq!(advance.state, at("cuneo", 5));
    assert!(months(&advance.delta).is_empty());
    assert!(keys(&advance.delta).is_empty());
}
