//! A unit is let to one tenancy at a time, on days it is available: a start, a correction or
//! a void that would leave a local day in two tenancies of one unit, or in a tenancy before its
//! unit is available, is refused, so a flat's occupancy never exceeds 1. `decide` compares the
//! tenancy with every other and with its unit (`DecisionContext::peers`), by the local dates of
//! their events, as occupancy counts them: from the start's day up to, not including, the
//! end's.

mod common;

use std::collections::BTreeMap;

use common::*;
use esito_domain::aggregates::{TenancyState, UnitState};
use esito_domain::events::*;
use esito_domain::{
    decide, peers_read, Command, DecisionContext, DomainError, Event, EventId, Recorded,
    StreamState,
};

fn recorded_at(when: &str, event: Event) -> Recorded {
    Recorded {
        event_id: EventId::new_v4(),
        corrects: None,
        occurred_at: at(when),
        event,
    }
}

fn started(unit: &str, when: &str) -> Recorded {
    recorded_at(
        when,
        Event::TenancyStarted(TenancyStarted {
            unit_id: id(unit),
            beneficiary_id: id("ben-1"),
            pact: pact(),
        }),
    )
}

fn ended(when: &str) -> Recorded {
    recorded_at(
        when,
        Event::TenancyEnded(TenancyEnded {
            reason: TenancyEndReason::MovedToPrivateMarket,
        }),
    )
}

/// A unit made available to the programme on that day.
fn made_available(when: &str) -> Vec<Recorded> {
    vec![recorded_at(
        when,
        Event::UnitMadeAvailable(UnitMadeAvailable {
            label: "Via Roma".into(),
            lent_by: "Comune".into(),
        }),
    )]
}

/// The context of a start: `flat-1` and `flat-2` available since 1 January 2024, `ben-1`
/// registered, and the other tenancies with their histories.
fn context_with_peers(peers: Vec<(&str, Vec<Recorded>)>) -> DecisionContext {
    let available = |label: &str| {
        StreamState::Unit(UnitState::Available {
            available: UnitMadeAvailable {
                label: label.into(),
                lent_by: "Comune".into(),
            },
        })
    };
    let mut context = reading(
        reading(
            context_with_beneficiary(),
            StreamType::Unit,
            "flat-1",
            available("Via Roma 1"),
        ),
        StreamType::Unit,
        "flat-2",
        available("Via Roma 2"),
    );
    context.peers = peers
        .into_iter()
        .map(|(tenancy, history)| (StreamRef::new(StreamType::Tenancy, id(tenancy)), history))
        .chain(["flat-1", "flat-2"].map(|unit| {
            (
                StreamRef::new(StreamType::Unit, id(unit)),
                made_available("2024-01-01T08:00:00+01:00"),
            )
        }))
        .collect::<BTreeMap<_, _>>();
    context
}

fn start(unit: &str, when: &str) -> esito_domain::Submission {
    submit(
        when,
        Command::StartTenancy {
            tenancy_id: id("ten-b"),
            unit_id: id(unit),
            beneficiary_id: id("ben-1"),
            pact: pact(),
        },
    )
}

fn not_started() -> StreamState {
    StreamState::Tenancy(TenancyState::NotStarted)
}

#[test]
fn a_start_and_a_correction_or_void_of_a_tenancy_read_every_tenancy() {
    assert_eq!(
        peers_read(
            &start("flat-1", "2024-01-08T10:00:00+01:00").command,
            StreamType::Tenancy
        ),
        [StreamType::Tenancy, StreamType::Unit]
    );
    let void = Command::VoidEvent {
        voids: EventId::new_v4(),
        reason: "by mistake".into(),
    };
    assert_eq!(
        peers_read(&void, StreamType::Tenancy),
        [StreamType::Tenancy, StreamType::Unit]
    );
    assert_eq!(peers_read(&void, StreamType::Unit), [StreamType::Tenancy]);
    assert_eq!(peers_read(&void, StreamType::Order), []);
    let payment = Command::RecordRentPayment {
        tenancy_id: id("ten-a"),
        month: esito_domain::Month::parse("2024-01").expect("a month"),
        amount: money("250.00"),
    };
    assert_eq!(peers_read(&payment, StreamType::Tenancy), []);
}

#[test]
fn a_unit_let_to_a_running_tenancy_is_not_let_again() {
    let context = context_with_peers(vec![(
        "ten-a",
        vec![started("flat-1", "2024-01-08T10:00:00+01:00")],
    )]);
    assert_eq!(
        decide(
            &start("flat-1", "2024-02-01T10:00:00+01:00"),
            &not_started(),
            &context
        ),
        Err(DomainError::UnitLetTwice {
            field: "unit_id",
            unit_id: id("flat-1"),
            other_tenancy_id: id("ten-a"),
            from: date("2024-02-01"),
        })
    );
    // Another flat is free.
    assert!(decide(
        &start("flat-2", "2024-02-01T10:00:00+01:00"),
        &not_started(),
        &context
    )
    .is_ok());
}

#[test]
fn a_start_dated_within_an_ended_tenancy_is_refused_and_one_on_its_last_day_is_not() {
    // ten-a held flat-1 from 8 January up to, not including, 1 February.
    let context = context_with_peers(vec![(
        "ten-a",
        vec![
            started("flat-1", "2024-01-08T10:00:00+01:00"),
            ended("2024-02-01T10:00:00+01:00"),
        ],
    )]);
    assert_eq!(
        decide(
            &start("flat-1", "2024-01-25T10:00:00+01:00"),
            &not_started(),
            &context
        ),
        Err(DomainError::UnitLetTwice {
            field: "unit_id",
            unit_id: id("flat-1"),
            other_tenancy_id: id("ten-a"),
            from: date("2024-01-25"),
        })
    );
    // Backdated before ten-a began, it would run on into ten-a's days.
    assert!(matches!(
        decide(
            &start("flat-1", "2024-01-02T10:00:00+01:00"),
            &not_started(),
            &context
        ),
        Err(DomainError::UnitLetTwice { .. })
    ));
    assert!(decide(
        &start("flat-1", "2024-02-01T18:00:00+01:00"),
        &not_started(),
        &context
    )
    .is_ok());
}

/// ten-a held flat-1 from 8 January to 1 February; ten-b holds it from 15 February.
fn let_again() -> (Vec<Recorded>, DecisionContext) {
    let ten_a = vec![
        started("flat-1", "2024-01-08T10:00:00+01:00"),
        ended("2024-02-01T10:00:00+01:00"),
    ];
    let mut context = context_with_peers(vec![(
        "ten-b",
        vec![started("flat-1", "2024-02-15T10:00:00+01:00")],
    )]);
    context.target_history = ten_a.clone();
    (ten_a, context)
}

fn state_of(history: &[Recorded]) -> StreamState {
    esito_domain::replay(StreamType::Tenancy, history).expect("a consistent tenancy")
}

#[test]
fn voiding_the_end_of_a_tenancy_whose_unit_was_let_again_is_refused() {
    let (ten_a, context) = let_again();
    let void = submit(
        "2024-03-01T10:00:00+01:00",
        Command::VoidEvent {
            voids: ten_a[1].event_id,
            reason: "recorded by mistake".into(),
        },
    );
    assert_eq!(
        decide(&void, &state_of(&ten_a), &context),
        Err(DomainError::UnitLetTwice {
            field: "voids",
            unit_id: id("flat-1"),
            other_tenancy_id: id("ten-b"),
            from: date("2024-02-15"),
        })
    );
    // Before ten-b, the same void was the tenancy's own business.
    let mut alone = context.clone();
    alone
        .peers
        .retain(|stream, _| stream.stream_type != StreamType::Tenancy);
    assert!(decide(&void, &state_of(&ten_a), &alone).is_ok());
}

#[test]
fn a_correction_that_moves_an_end_or_a_start_over_another_tenancy_is_refused() {
    let (ten_a, context) = let_again();
    let end_corrected = |when: &str| {
        submit(
            when,
            Command::CorrectEvent {
                corrects: ten_a[1].event_id,
                replacement: Event::TenancyEnded(TenancyEnded {
                    reason: TenancyEndReason::Other,
                }),
            },
        )
    };
    assert_eq!(
        decide(
            &end_corrected("2024-02-20T10:00:00+01:00"),
            &state_of(&ten_a),
            &context
        ),
        Err(DomainError::UnitLetTwice {
            field: "corrects",
            unit_id: id("flat-1"),
            other_tenancy_id: id("ten-b"),
            from: date("2024-02-15"),
        })
    );
    assert!(decide(
        &end_corrected("2024-02-15T09:00:00+01:00"),
        &state_of(&ten_a),
        &context
    )
    .is_ok());
    // ten-b's start moved to 20 January: into ten-a's days.
    let ten_b = vec![started("flat-1", "2024-02-15T10:00:00+01:00")];
    let mut context_of_b = context_with_peers(vec![("ten-a", ten_a)]);
    context_of_b.target_history = ten_b.clone();
    let start_corrected = submit(
        "2024-01-20T10:00:00+01:00",
        Command::CorrectEvent {
            corrects: ten_b[0].event_id,
            replacement: ten_b[0].event.clone(),
        },
    );
    assert!(matches!(
        decide(&start_corrected, &state_of(&ten_b), &context_of_b),
        Err(DomainError::UnitLetTwice {
            field: "corrects",
            ..
        })
    ));
}

#[test]
fn a_tenancy_holds_its_unit_only_on_days_the_unit_is_available() {
    let mut context = context_with_peers(vec![]);
    context.peers.insert(
        StreamRef::new(StreamType::Unit, id("flat-2")),
        made_available("2024-02-01T09:00:00+01:00"),
    );
    assert_eq!(
        decide(
            &start("flat-2", "2024-01-20T10:00:00+01:00"),
            &not_started(),
            &context
        ),
        Err(DomainError::TenancyBeforeUnitAvailable {
            field: "unit_id",
            unit_id: id("flat-2"),
            from: date("2024-01-20"),
            available_on: Some(date("2024-02-01")),
        })
    );
    assert!(decide(
        &start("flat-2", "2024-02-01T10:00:00+01:00"),
        &not_started(),
        &context
    )
    .is_ok());
    // A unit whose availability was voided is available on no day.
    context
        .peers
        .insert(StreamRef::new(StreamType::Unit, id("flat-2")), Vec::new());
    assert!(matches!(
        decide(
            &start("flat-2", "2024-02-05T10:00:00+01:00"),
            &not_started(),
            &context
        ),
        Err(DomainError::TenancyBeforeUnitAvailable {
            available_on: None,
            ..
        })
    ));
}

#[test]
fn a_units_availability_is_not_moved_after_or_voided_under_a_tenancy_it_holds() {
    let flat = made_available("2024-01-01T08:00:00+01:00");
    let mut context = context_with_peers(vec![(
        "ten-a",
        vec![started("flat-1", "2024-01-08T10:00:00+01:00")],
    )]);
    context
        .peers
        .remove(&StreamRef::new(StreamType::Unit, id("flat-1")));
    context.target = Some(StreamRef::new(StreamType::Unit, id("flat-1")));
    context.target_history = flat.clone();
    let state = esito_domain::replay(StreamType::Unit, &flat).expect("a unit");
    let moved = |when: &str| {
        submit(
            when,
            Command::CorrectEvent {
                corrects: flat[0].event_id,
                replacement: flat[0].event.clone(),
            },
        )
    };
    assert_eq!(
        decide(&moved("2024-01-15T08:00:00+01:00"), &state, &context),
        Err(DomainError::TenancyBeforeUnitAvailable {
            field: "corrects",
            unit_id: id("flat-1"),
            from: date("2024-01-08"),
            available_on: Some(date("2024-01-15")),
        })
    );
    assert!(decide(&moved("2024-01-05T08:00:00+01:00"), &state, &context).is_ok());
    let void = submit(
        "2024-03-01T08:00:00+01:00",
        Command::VoidEvent {
            voids: flat[0].event_id,
            reason: "recorded by mistake".into(),
        },
    );
    assert!(matches!(
        decide(&void, &state, &context),
        Err(DomainError::TenancyBeforeUnitAvailable {
            field: "voids",
            available_on: None,
            ..
        })
    ));
}
