//! Torino's placements: given a placement's events, when a command, then its event or the rule.

mod common;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{PlacementState, StreamState};
use esito_domain::events::*;
use esito_domain::{Command, DomainError, Event, StreamType};

fn start(cost: &str) -> Command {
    Command::StartPlacement {
        placement_id: id("pl-1"),
        beneficiary_id: id("ben-1"),
        accommodation: AccommodationKind::Hotel,
        nightly_cost: money(cost),
    }
}

fn started() -> Event {
    Event::PlacementStarted(PlacementStarted {
        beneficiary_id: id("ben-1"),
        accommodation: AccommodationKind::Hotel,
        nightly_cost: money("55.00"),
        started_on: date("2024-01-10"),
    })
}

fn rehouse() -> Command {
    Command::RehouseHousehold {
        placement_id: id("pl-1"),
        housing: HousingKind::PrivateAffordable,
    }
}

fn end() -> Command {
    Command::EndPlacement {
        placement_id: id("pl-1"),
        reason: PlacementEndReason::LeftVoluntarily,
    }
}

#[tokio::test]
async fn a_placement_starts_on_the_local_date_of_its_first_night() {
    // 23:30 UTC on 9 January is already 10 January in Rome.
    TestFramework::<PlacementState>::with(context_with_beneficiary())
        .given_no_previous_events()
        .when_async(submit("2024-01-09T23:30:00Z", start("55.00")))
        .await
        .then_expect_events(vec![started()]);
}

#[tokio::test]
async fn a_placement_cannot_start_twice() {
    TestFramework::<PlacementState>::with(context_with_beneficiary())
        .given(vec![started()])
        .when_async(submit("2024-01-11T10:00:00+01:00", start("55.00")))
        .await
        .then_expect_error(DomainError::PlacementAlreadyStarted {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn a_placement_of_an_unregistered_household_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-01-10T10:00:00+01:00", start("55.00")))
        .await
        .then_expect_error(DomainError::UnknownBeneficiary {
            beneficiary_id: id("ben-1"),
        });
}

#[tokio::test]
async fn a_placement_with_a_nightly_cost_of_zero_is_refused() {
    TestFramework::<PlacementState>::with(context_with_beneficiary())
        .given_no_previous_events()
        .when_async(submit("2024-01-10T10:00:00+01:00", start("0.00")))
        .await
        .then_expect_error(DomainError::AmountNotPositive {
            field: "nightly_cost",
        });
}

#[tokio::test]
async fn a_household_is_rehoused_from_an_active_placement() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![started()])
        .when_async(submit("2024-03-01T10:00:00+01:00", rehouse()))
        .await
        .then_expect_events(vec![Event::HouseholdRehoused(HouseholdRehoused {
            housing: HousingKind::PrivateAffordable,
            rehoused_on: date("2024-03-01"),
        })]);
}

#[tokio::test]
async fn rehousing_the_household_of_an_ended_placement_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![
            started(),
            Event::PlacementEnded(PlacementEnded {
                reason: PlacementEndReason::LeftVoluntarily,
                ended_on: date("2024-02-01"),
            }),
        ])
        .when_async(submit("2024-03-01T10:00:00+01:00", rehouse()))
        .await
        .then_expect_error(DomainError::PlacementEnded {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn rehousing_a_household_twice_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![
            started(),
            Event::HouseholdRehoused(HouseholdRehoused {
                housing: HousingKind::PublicHousing,
                rehoused_on: date("2024-02-01"),
            }),
        ])
        .when_async(submit("2024-03-01T10:00:00+01:00", rehouse()))
        .await
        .then_expect_error(DomainError::HouseholdAlreadyRehoused {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn rehousing_a_placement_never_started_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-03-01T10:00:00+01:00", rehouse()))
        .await
        .then_expect_error(DomainError::UnknownPlacement {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn a_rehousing_dated_before_the_first_night_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![started()])
        .when_async(submit("2024-01-09T10:00:00+01:00", rehouse()))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "occurred_at",
            date: date("2024-01-09"),
            start_on: date("2024-01-10"),
        });
}

#[tokio::test]
async fn a_placement_ends_without_a_rehousing() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![started()])
        .when_async(submit("2024-02-01T10:00:00+01:00", end()))
        .await
        .then_expect_events(vec![Event::PlacementEnded(PlacementEnded {
            reason: PlacementEndReason::LeftVoluntarily,
            ended_on: date("2024-02-01"),
        })]);
}

#[tokio::test]
async fn ending_a_placement_whose_household_was_rehoused_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![
            started(),
            Event::HouseholdRehoused(HouseholdRehoused {
                housing: HousingKind::PublicHousing,
                rehoused_on: date("2024-02-01"),
            }),
        ])
        .when_async(submit("2024-03-01T10:00:00+01:00", end()))
        .await
        .then_expect_error(DomainError::HouseholdAlreadyRehoused {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn ending_a_placement_twice_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![
            started(),
            Event::PlacementEnded(PlacementEnded {
                reason: PlacementEndReason::MovedAway,
                ended_on: date("2024-02-01"),
            }),
        ])
        .when_async(submit("2024-03-01T10:00:00+01:00", end()))
        .await
        .then_expect_error(DomainError::PlacementEnded {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn ending_a_placement_never_started_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-03-01T10:00:00+01:00", end()))
        .await
        .then_expect_error(DomainError::UnknownPlacement {
            placement_id: id("pl-1"),
        });
}

#[tokio::test]
async fn an_end_dated_before_the_first_night_is_refused() {
    TestFramework::<PlacementState>::with(context())
        .given(vec![started()])
        .when_async(submit("2024-01-05T10:00:00+01:00", end()))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "occurred_at",
            date: date("2024-01-05"),
            start_on: date("2024-01-10"),
        });
}

#[test]
fn a_replayed_rehousing_after_an_end_is_refused() {
    let history = vec![
        recorded(started()),
        recorded(Event::PlacementEnded(PlacementEnded {
            reason: PlacementEndReason::Other,
            ended_on: date("2024-02-01"),
        })),
        recorded(Event::HouseholdRehoused(HouseholdRehoused {
            housing: HousingKind::PublicHousing,
            rehoused_on: date("2024-02-02"),
        })),
    ];
    assert!(matches!(
        esito_domain::replay(StreamType::Placement, &history),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}

#[test]
fn nights_are_counted_from_the_first_night_up_to_the_rehousing_day() {
    let state = state_after(
        StreamType::Placement,
        vec![
            started(),
            Event::HouseholdRehoused(HouseholdRehoused {
                housing: HousingKind::PrivateAffordable,
                rehoused_on: date("2024-02-01"),
            }),
        ],
    );
    let StreamState::Placement(placement) = state else {
        panic!("a placement stream");
    };
    // 10 January to 1 February: 22 nights (the 10th to the 31st); a later bound changes nothing.
    assert_eq!(placement.nights_until(date("2024-03-31")), 22);
    // Up to 20 January (not included): 10 nights.
    assert_eq!(placement.nights_until(date("2024-01-20")), 10);
}
