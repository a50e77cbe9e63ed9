//! Prato's autonomy paths: given a path's events, when a command, then its event or the rule.

mod common;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::PathState;
use esito_domain::events::*;
use esito_domain::{Command, DomainError, Event, Money};

fn scores(pairs: &[(AssessmentDimension, u8)]) -> AssessmentScores {
    pairs.iter().copied().collect()
}

fn enrolment_scores() -> AssessmentScores {
    scores(&[
        (AssessmentDimension::Housing, 2),
        (AssessmentDimension::Employment, 3),
        (AssessmentDimension::Income, 1),
    ])
}

fn enrolled() -> Event {
    Event::PathEnrolled(PathEnrolled {
        beneficiary_id: id("ben-1"),
        scores: enrolment_scores(),
        enrolled_on: date("2024-01-15"),
    })
}

fn enrol(scores: AssessmentScores) -> Command {
    Command::EnrolInPath {
        path_id: id("path-1"),
        beneficiary_id: id("ben-1"),
        scores,
    }
}

fn reassess(scores: AssessmentScores) -> Command {
    Command::ReassessPath {
        path_id: id("path-1"),
        scores,
    }
}

fn milestone(milestone: PathMilestone) -> Command {
    Command::RecordPathMilestone {
        path_id: id("path-1"),
        milestone,
    }
}

fn exit(from_municipal_housing: bool, cost: Option<Money>) -> Command {
    Command::ExitPath {
        path_id: id("path-1"),
        reason: PathExitReason::MovedToPrivateMarket,
        from_municipal_housing,
        monthly_cost_avoided: cost,
    }
}

fn exited() -> Event {
    Event::PathExited(PathExited {
        reason: PathExitReason::DroppedOut,
        from_municipal_housing: false,
        monthly_cost_avoided: None,
        exited_on: date("2024-05-01"),
    })
}

#[tokio::test]
async fn a_registered_household_is_enrolled_with_its_assessment_scores() {
    TestFramework::<PathState>::with(context_with_beneficiary())
        .given_no_previous_events()
        .when_async(submit(
            "2024-01-15T10:00:00+01:00",
            enrol(enrolment_scores()),
        ))
        .await
        .then_expect_events(vec![enrolled()]);
}

#[tokio::test]
async fn enrolling_a_path_twice_is_refused() {
    TestFramework::<PathState>::with(context_with_beneficiary())
        .given(vec![enrolled()])
        .when_async(submit(
            "2024-01-16T10:00:00+01:00",
            enrol(enrolment_scores()),
        ))
        .await
        .then_expect_error(DomainError::PathAlreadyEnrolled {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn enrolling_an_unregistered_household_is_refused() {
    TestFramework::<PathState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-01-15T10:00:00+01:00",
            enrol(enrolment_scores()),
        ))
        .await
        .then_expect_error(DomainError::UnknownBeneficiary {
            beneficiary_id: id("ben-1"),
        });
}

#[tokio::test]
async fn an_enrolment_without_scores_is_refused() {
    TestFramework::<PathState>::with(context_with_beneficiary())
        .given_no_previous_events()
        .when_async(submit("2024-01-15T10:00:00+01:00", enrol(scores(&[]))))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "scores" });
}

#[tokio::test]
async fn a_score_above_ten_is_refused() {
    TestFramework::<PathState>::with(context_with_beneficiary())
        .given_no_previous_events()
        .when_async(submit(
            "2024-01-15T10:00:00+01:00",
            enrol(scores(&[(AssessmentDimension::Health, 11)])),
        ))
        .await
        .then_expect_error(DomainError::ScoreOutOfRange {
            dimension: AssessmentDimension::Health,
            score: 11,
            max: 10,
        });
}

#[tokio::test]
async fn a_reassessment_of_the_same_dimensions_is_recorded() {
    let later = scores(&[
        (AssessmentDimension::Housing, 5),
        (AssessmentDimension::Employment, 7),
        (AssessmentDimension::Income, 10),
    ]);
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit("2024-04-15T10:00:00+02:00", reassess(later.clone())))
        .await
        .then_expect_events(vec![Event::PathReassessed(PathReassessed {
            scores: later,
            reassessed_on: date("2024-04-15"),
        })]);
}

#[tokio::test]
async fn a_reassessment_of_other_dimensions_is_refused() {
    let other = scores(&[
        (AssessmentDimension::Housing, 5),
        (AssessmentDimension::Health, 7),
    ]);
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit("2024-04-15T10:00:00+02:00", reassess(other)))
        .await
        .then_expect_error(DomainError::ScoresDimensionsDiffer {
            expected: vec![
                AssessmentDimension::Housing,
                AssessmentDimension::Employment,
                AssessmentDimension::Income,
            ],
            got: vec![AssessmentDimension::Housing, AssessmentDimension::Health],
        });
}

#[tokio::test]
async fn a_reassessment_score_above_ten_is_refused() {
    let too_high = scores(&[
        (AssessmentDimension::Housing, 5),
        (AssessmentDimension::Employment, 12),
        (AssessmentDimension::Income, 1),
    ]);
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit("2024-04-15T10:00:00+02:00", reassess(too_high)))
        .await
        .then_expect_error(DomainError::ScoreOutOfRange {
            dimension: AssessmentDimension::Employment,
            score: 12,
            max: 10,
        });
}

#[tokio::test]
async fn a_reassessment_dated_before_the_latest_scores_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![
            enrolled(),
            Event::PathReassessed(PathReassessed {
                scores: enrolment_scores(),
                reassessed_on: date("2024-04-15"),
            }),
        ])
        .when_async(submit(
            "2024-03-01T10:00:00+01:00",
            reassess(enrolment_scores()),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeLatestChange {
            field: "occurred_at",
            date: date("2024-03-01"),
            latest_on: date("2024-04-15"),
        });
}

#[tokio::test]
async fn reassessing_a_path_never_enrolled_is_refused() {
    TestFramework::<PathState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-04-15T10:00:00+02:00",
            reassess(enrolment_scores()),
        ))
        .await
        .then_expect_error(DomainError::UnknownPath {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn reassessing_an_exited_path_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled(), exited()])
        .when_async(submit(
            "2024-06-15T10:00:00+02:00",
            reassess(enrolment_scores()),
        ))
        .await
        .then_expect_error(DomainError::PathExited {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn a_milestone_is_recorded_on_an_open_path() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit(
            "2024-03-01T10:00:00+01:00",
            milestone(PathMilestone::JobFound),
        ))
        .await
        .then_expect_events(vec![Event::PathMilestoneReached(PathMilestoneReached {
            milestone: PathMilestone::JobFound,
            reached_on: date("2024-03-01"),
        })]);
}

#[tokio::test]
async fn a_milestone_reached_twice_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![
            enrolled(),
            Event::PathMilestoneReached(PathMilestoneReached {
                milestone: PathMilestone::JobFound,
                reached_on: date("2024-03-01"),
            }),
        ])
        .when_async(submit(
            "2024-04-01T10:00:00+02:00",
            milestone(PathMilestone::JobFound),
        ))
        .await
        .then_expect_error(DomainError::PathMilestoneAlreadyReached {
            milestone: PathMilestone::JobFound,
        });
}

#[tokio::test]
async fn a_milestone_before_enrolment_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit(
            "2024-01-10T10:00:00+01:00",
            milestone(PathMilestone::DebtsSettled),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "occurred_at",
            date: date("2024-01-10"),
            start_on: date("2024-01-15"),
        });
}

#[tokio::test]
async fn a_milestone_on_an_exited_path_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled(), exited()])
        .when_async(submit(
            "2024-06-01T10:00:00+02:00",
            milestone(PathMilestone::JobFound),
        ))
        .await
        .then_expect_error(DomainError::PathExited {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn a_milestone_on_a_path_never_enrolled_is_refused() {
    TestFramework::<PathState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-06-01T10:00:00+02:00",
            milestone(PathMilestone::JobFound),
        ))
        .await
        .then_expect_error(DomainError::UnknownPath {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn leaving_municipal_housing_for_the_private_market_records_the_cost_avoided() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit(
            "2024-09-30T10:00:00+02:00",
            exit(true, Some(money("620.00"))),
        ))
        .await
        .then_expect_events(vec![Event::PathExited(PathExited {
            reason: PathExitReason::MovedToPrivateMarket,
            from_municipal_housing: true,
            monthly_cost_avoided: Some(money("620.00")),
            exited_on: date("2024-09-30"),
        })]);
}

#[tokio::test]
async fn a_cost_avoided_without_leaving_municipal_housing_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit(
            "2024-09-30T10:00:00+02:00",
            exit(false, Some(money("620.00"))),
        ))
        .await
        .then_expect_error(DomainError::CostAvoidedWithoutHousingExit);
}

#[tokio::test]
async fn a_cost_avoided_of_zero_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit(
            "2024-09-30T10:00:00+02:00",
            exit(true, Some(money("0.00"))),
        ))
        .await
        .then_expect_error(DomainError::AmountNotPositive {
            field: "monthly_cost_avoided",
        });
}

#[tokio::test]
async fn exiting_a_path_twice_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled(), exited()])
        .when_async(submit("2024-09-30T10:00:00+02:00", exit(true, None)))
        .await
        .then_expect_error(DomainError::PathExited {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn exiting_a_path_never_enrolled_is_refused() {
    TestFramework::<PathState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-09-30T10:00:00+02:00", exit(false, None)))
        .await
        .then_expect_error(DomainError::UnknownPath {
            path_id: id("path-1"),
        });
}

#[tokio::test]
async fn an_exit_dated_before_enrolment_is_refused() {
    TestFramework::<PathState>::with(context())
        .given(vec![enrolled()])
        .when_async(submit("2024-01-01T10:00:00+01:00", exit(false, None)))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "occurred_at",
            date: date("2024-01-01"),
            start_on: date("2024-01-15"),
        });
}

#[test]
fn a_stored_enrolment_with_a_score_above_ten_does_not_replay() {
    let history = vec![recorded(Event::PathEnrolled(PathEnrolled {
        beneficiary_id: id("ben-1"),
        scores: scores(&[(AssessmentDimension::Income, 40)]),
        enrolled_on: date("2024-01-15"),
    }))];
    assert!(matches!(
        esito_domain::replay(esito_domain::StreamType::Path, &history),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}

#[test]
fn an_enrolment_payload_holds_scores_by_dimension_name_and_reads_back() {
    let payload = enrolled().payload();
    assert_eq!(
        payload,
        serde_json::json!({
            "beneficiary_id": "ben-1",
            "scores": {"housing": 2, "employment": 3, "income": 1},
            "enrolled_on": "2024-01-15"
        })
    );
    assert_eq!(Event::from_parts("PathEnrolled", payload), Ok(enrolled()));
    let unknown_dimension = serde_json::json!({
        "beneficiary_id": "ben-1", "scores": {"luck": 2}, "enrolled_on": "2024-01-15"
    });
    assert!(Event::from_parts("PathEnrolled", unknown_dimension).is_err());
}
