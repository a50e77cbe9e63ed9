//! Which definitions apply: the first template applies from the registration; an amendment
//! that names another restarts the projection with it, and it then applies from position 1,
//! the amendment remembered at its own position so that it is not met again as a change.

use std::collections::BTreeSet;

use esito_indicators::EntryView;
use esito_projector::{after_templates, restart_for_definitions, ProjectionState, StepPlan};
use serde_json::json;

use crate::log::{at, months, Log};

/// Registration with cuneo (1), an access (2), an amendment to torino (3), a placement (4).
fn amended() -> Log {
    let mut log = Log::registered("cuneo");
    log.access("b1", "2024-01-15");
    log.push(
        "ContractAmended",
        "contract",
        "2024-02-01",
        json!({
            "effective_on": "2024-02-01",
            "changes": [{ "kind": "template", "template": "torino" }]
        }),
    );
    log.push(
        "PlacementStarted",
        "placement-1",
        "2024-02-10",
        json!({ "beneficiary_id": "b9" }),
    );
    log
}

fn torino_from(named_at: u64) -> ProjectionState {
    ProjectionState {
        template_named_at: named_at,
        ..at("torino", 0)
    }
}

fn plan(state: &ProjectionState, log: &Log, up_to: u64) -> StepPlan<ProjectionState> {
    let views = log
        .entries
        .iter()
        .filter(|entry| entry.position > state.position && entry.position <= up_to)
        .map(EntryView::from);
    after_templates(state, views).expect("built-in definitions parse")
}

#[test]
fn an_amendment_to_another_template_restarts_from_position_one_named_at_its_own_position() {
    let log = amended();
    // From the start, the registration names cuneo (it applies from position 1), and the
    // amendment at 3 then names torino: a restart, whatever was projected.
    assert_eq!(
        plan(&ProjectionState::default(), &log, 4),
        StepPlan::Restart(torino_from(3))
    );
    assert_eq!(
        plan(&at("cuneo", 2), &log, 4),
        StepPlan::Restart(torino_from(3))
    );
    // Before the amendment, cuneo goes on.
    assert_eq!(
        plan(&ProjectionState::default(), &log, 2),
        StepPlan::Advance(at("cuneo", 0))
    );
}

#[test]
fn after_the_restart_the_amended_template_applies_to_the_whole_log() {
    let log = amended();
    // Read again from position 1: the registration (1) is at or before the amendment and
    // names a template no longer in force; the amendment (3) names torino, already in force.
    assert_eq!(
        plan(&torino_from(3), &log, 4),
        StepPlan::Advance(torino_from(3))
    );
    // So the step derives every entry with torino's definitions: the access, which torino
    // does not count, adds nothing; the placement adds to torino's two periodic indicators.
    let advance = log.advance(&torino_from(3), 4);
    assert_eq!(advance.state.position, 4);
    let indicators: BTreeSet<String> = months(&advance.delta)
        .into_keys()
        .map(|(indicator, _, _)| indicator)
        .collect();
    assert_eq!(
        indicators,
        BTreeSet::from([
            "households_taken_in_charge".to_owned(),
            "placements_started".to_owned()
        ])
    );
    // Its facts of the parts that reach back: the placement enters the cohort and starts the
    // savings' count of days.
    let reaching_back: BTreeSet<&str> = advance
        .span_facts
        .iter()
        .map(|fact| fact.indicator.as_str())
        .collect();
    assert_eq!(
        reaching_back,
        BTreeSet::from(["rehoused_within_180_days_share", "hotel_nights_savings"])
    );
}

#[test]
fn a_step_that_meets_the_amendment_restarts() {
    let log = amended();
    assert_eq!(
        log.step(&at("cuneo", 2), 4).map_restart(),
        Some(torino_from(3))
    );
}

#[test]
fn an_amendment_that_names_the_template_in_force_changes_nothing() {
    let mut log = Log::registered("cuneo");
    log.push(
        "ContractAmended",
        "contract",
        "2024-02-01",
        json!({ "effective_on": "2024-02-01", "changes": [{ "kind": "template", "template": "cuneo" }] }),
    );
    assert_eq!(
        plan(&at("cuneo", 1), &log, 2),
        StepPlan::Advance(at("cuneo", 1))
    );
}

#[test]
fn definitions_that_changed_since_the_rows_were_derived_restart_the_projection() {
    let stale = ProjectionState {
        definitions_sha256: Some("an older file".to_owned()),
        ..at("cuneo", 40)
    };
    assert_eq!(
        restart_for_definitions(&stale).expect("cuneo parses"),
        Some(at("cuneo", 0))
    );
    assert_eq!(
        restart_for_definitions(&at("cuneo", 40)).expect("cuneo parses"),
        None
    );
}

/// The state a plan restarts from, if it does.
trait Restarts {
    fn map_restart(self) -> Option<ProjectionState>;
}

impl<T> Restarts for StepPlan<T> {
    fn map_restart(self) -> Option<ProjectionState> {
        match self {
            StepPlan::Advance(_) => None,
            StepPlan::Restart(restart) => Some(restart),
        }
    }
}
