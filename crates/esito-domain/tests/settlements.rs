//! Settlements: given a contract's settlement events, when a step, then its event or the rule.
//!
//! The contract of `common` runs from 2023-07-01 to 2024-12-31 and is settled by quarter:
//! 2023-Q3 to 2024-Q4, six periods, each settled after it ends and once the one before is
//! approved.

mod common;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{SettlementState, SettlementStatus};
use esito_domain::events::*;
use esito_domain::{decide, Command, DomainError, Event, EventId, Period, StreamState};
use serde_json::json;

const ROOT: &str = "6649f31df95d483f536a25f8f62a1f7044261e031478dd16b936669443a2a054";
const SHA: &str = "f9a3c3afa24f7ecd63120f1699a3e24cbc298a8763a424e33451546c9f22e602";

/// The quarter with this label: its first day and the first day after it.
fn period(label: &str) -> Period {
    label.parse().expect("a test period")
}

fn quarter(label: &str) -> (NaiveDateText, NaiveDateText) {
    match label {
        "2023-Q3" => ("2023-07-01", "2023-10-01"),
        "2023-Q4" => ("2023-10-01", "2024-01-01"),
        "2024-Q1" => ("2024-01-01", "2024-04-01"),
        "2024-Q2" => ("2024-04-01", "2024-07-01"),
        "2024-Q3" => ("2024-07-01", "2024-10-01"),
        "2024-Q4" => ("2024-10-01", "2025-01-01"),
        "2025-Q1" => ("2025-01-01", "2025-04-01"),
        other => unreachable!("no test quarter {other}"),
    }
}

type NaiveDateText = &'static str;

fn calculated(label: &str, as_of: u64) -> SettlementCalculated {
    let (start, end) = quarter(label);
    SettlementCalculated {
        period: period(label),
        period_start_on: date(start),
        period_end_on: date(end),
        as_of,
        root_hash: ROOT.parse().expect("a test hash"),
        checkpoint: None,
        template: "cuneo".into(),
        definitions_sha256: SHA.parse().expect("a test hash"),
        terms_sha256: SHA.parse().expect("a test hash"),
        final_settlement: label == "2024-Q4",
        document: json!({
            "period": label, "period_start_on": start, "period_end_on": end, "as_of": as_of,
            "root_hash": ROOT, "final_settlement": label == "2024-Q4", "total": "100.00"
        }),
    }
}

fn calculate_from(event: SettlementCalculated) -> Command {
    Command::CalculateSettlement {
        period: event.period,
        period_start_on: event.period_start_on,
        period_end_on: event.period_end_on,
        as_of: event.as_of,
        root_hash: event.root_hash,
        checkpoint: event.checkpoint,
        template: event.template,
        definitions_sha256: event.definitions_sha256,
        terms_sha256: event.terms_sha256,
        final_settlement: event.final_settlement,
        document: event.document,
    }
}

fn calculate(label: &str, as_of: u64) -> Command {
    calculate_from(calculated(label, as_of))
}

fn validated(label: &str, as_of: u64) -> Event {
    Event::SettlementValidated(SettlementValidated {
        period: period(label),
        as_of,
        note: None,
    })
}

fn approved(label: &str, as_of: u64) -> Event {
    Event::SettlementApproved(SettlementApproved {
        period: period(label),
        as_of,
        determina_number: None,
        determina_date: None,
        codes: ActCodes::default(),
    })
}

fn paid(label: &str) -> Event {
    Event::SettlementPaid(SettlementPaid {
        period: period(label),
        paid_on: date("2025-02-03"),
        reference: "mandato 118/2025".into(),
        mandato_number: None,
        mandato_date: None,
        codes: ActCodes::default(),
    })
}

/// The events of a period calculated as of `as_of`, validated and approved.
fn approved_settlement(label: &str, as_of: u64) -> Vec<Event> {
    vec![
        Event::SettlementCalculated(calculated(label, as_of)),
        validated(label, as_of),
        approved(label, as_of),
    ]
}

/// Settlements are asked for long after the term, in 2025.
fn later(command: Command) -> esito_domain::Submission {
    submit("2025-02-10T10:00:00+01:00", command)
}

fn framework() -> TestFramework<SettlementState> {
    TestFramework::<SettlementState>::with(context())
}

#[tokio::test]
async fn a_period_is_calculated_after_it_ends_even_after_the_term() {
    let given: Vec<Event> = ["2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3"]
        .into_iter()
        .zip(1..)
        .flat_map(|(label, n)| approved_settlement(label, n * 10))
        .collect();
    framework()
        .given(given)
        .when_async(later(calculate("2024-Q4", 120)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated(
            "2024-Q4", 120,
        ))]);
}

#[tokio::test]
async fn a_period_that_has_not_ended_is_not_settled() {
    framework()
        .given_no_previous_events()
        .when_async(submit(
            "2024-03-31T23:00:00+02:00",
            calculate("2024-Q1", 40),
        ))
        .await
        .then_expect_error(DomainError::SettlementPeriodNotClosed {
            period: period("2024-Q1"),
            end_on: date("2024-04-01"),
        });
}

#[tokio::test]
async fn a_month_of_a_contract_settled_by_quarter_is_refused() {
    let mut event = calculated("2024-Q1", 40);
    event.period = period("2024-02");
    event.period_start_on = date("2024-02-01");
    event.period_end_on = date("2024-03-01");
    event.document = json!({"period": "2024-02", "period_start_on": "2024-02-01",
        "period_end_on": "2024-03-01", "as_of": 40, "root_hash": ROOT, "final_settlement": false});
    framework()
        .given_no_previous_events()
        .when_async(later(calculate_from(event)))
        .await
        .then_expect_error(DomainError::SettlementPeriodNotOfTheContract {
            period: period("2024-02"),
            start_on: date("2024-02-01"),
            end_on: date("2024-03-01"),
            period_kind: PeriodKind::Quarter,
        });
}

#[tokio::test]
async fn a_label_that_is_not_its_dates_is_refused() {
    let mut event = calculated("2024-Q1", 40);
    event.period = period("2024-Q2");
    event.document["period"] = json!("2024-Q2");
    framework()
        .given_no_previous_events()
        .when_async(later(calculate_from(event)))
        .await
        .then_expect_error(DomainError::SettlementPeriodNotOfTheContract {
            period: period("2024-Q2"),
            start_on: date("2024-01-01"),
            end_on: date("2024-04-01"),
            period_kind: PeriodKind::Quarter,
        });
}

#[tokio::test]
async fn a_period_after_the_term_is_refused() {
    framework()
        .given_no_previous_events()
        .when_async(later(calculate("2025-Q1", 40)))
        .await
        .then_expect_error(DomainError::SettlementPeriodOutsideTerm {
            period: period("2025-Q1"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-12-31"),
        });
}

#[tokio::test]
async fn the_first_settlement_is_of_the_contracts_first_period() {
    // 2024-Q1 first would leave 2023-Q3 and 2023-Q4 never settled: each later period must
    // follow on from the one before it.
    framework()
        .given_no_previous_events()
        .when_async(later(calculate("2024-Q1", 40)))
        .await
        .then_expect_error(DomainError::SettlementPeriodOutOfOrder {
            period: period("2024-Q1"),
            start_on: date("2024-01-01"),
            expected_start_on: date("2023-07-01"),
        });
    framework()
        .given_no_previous_events()
        .when_async(later(calculate("2023-Q3", 40)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated("2023-Q3", 40))]);
}

/// The contract of `common` with payment terms from `effective_on` only (Cuneo's, "valido dal
/// 01/01/2024", over activity recorded from July 2023).
fn contract_with_terms_from(effective_on: &str) -> esito_domain::aggregates::ContractState {
    let payment_terms: esito_domain::PaymentTerms = serde_json::from_value(json!({
        "rules": [{"kind": "rate_card", "indicator": "tokens_redeemed", "rate": "12"}]
    }))
    .expect("test terms");
    contract_after(vec![
        Event::ContractRegistered(registration()),
        Event::ContractAmended(ContractAmended {
            effective_on: date(effective_on),
            changes: vec![esito_domain::ContractChange::PaymentTerms { payment_terms }],
        }),
    ])
}

#[tokio::test]
async fn the_first_settlement_is_of_the_period_the_payment_terms_take_effect_in() {
    // The term runs from 2023-07-01, the payment terms from 2024-01-01: 2023-Q3 and 2023-Q4
    // had no terms to settle under, and 2024-Q1 is the first period.
    let contract = contract_with_terms_from("2024-01-01");
    TestFramework::<SettlementState>::with(context_with(contract.clone()))
        .given_no_previous_events()
        .when_async(later(calculate("2023-Q3", 40)))
        .await
        .then_expect_error(DomainError::SettlementPeriodOutOfOrder {
            period: period("2023-Q3"),
            start_on: date("2023-07-01"),
            expected_start_on: date("2024-01-01"),
        });
    TestFramework::<SettlementState>::with(context_with(contract.clone()))
        .given_no_previous_events()
        .when_async(later(calculate("2024-Q1", 40)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated("2024-Q1", 40))]);
    let periods: Vec<String> = contract
        .contract()
        .expect("registered")
        .settlement_periods()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(periods, ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]);
    // Terms effective within a quarter: that quarter is the first.
    let contract = contract_with_terms_from("2023-08-15");
    assert_eq!(
        contract.contract().expect("registered").first_period(),
        period("2023-Q3")
    );
}

#[tokio::test]
async fn a_term_that_starts_within_a_period_is_first_settled_for_that_period() {
    // The term starts on 15 August: its first quarter is 2023-Q3, from 1 July.
    let mut registration = registration();
    registration.term_start_on = date("2023-08-15");
    let contract = contract_after(vec![Event::ContractRegistered(registration)]);
    TestFramework::<SettlementState>::with(context_with(contract.clone()))
        .given_no_previous_events()
        .when_async(later(calculate("2023-Q4", 40)))
        .await
        .then_expect_error(DomainError::SettlementPeriodOutOfOrder {
            period: period("2023-Q4"),
            start_on: date("2023-10-01"),
            expected_start_on: date("2023-07-01"),
        });
    TestFramework::<SettlementState>::with(context_with(contract))
        .given_no_previous_events()
        .when_async(later(calculate("2023-Q3", 40)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated("2023-Q3", 40))]);
}

#[tokio::test]
async fn the_next_period_waits_for_the_previous_one_to_be_approved() {
    framework()
        .given(vec![
            Event::SettlementCalculated(calculated("2023-Q3", 10)),
            validated("2023-Q3", 10),
        ])
        .when_async(later(calculate("2023-Q4", 20)))
        .await
        .then_expect_error(DomainError::PreviousSettlementNotApproved {
            previous: period("2023-Q3"),
        });
}

#[tokio::test]
async fn the_next_period_follows_an_approved_one() {
    framework()
        .given(approved_settlement("2023-Q3", 10))
        .when_async(later(calculate("2023-Q4", 20)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated("2023-Q4", 20))]);
}

#[tokio::test]
async fn a_period_that_skips_one_is_refused() {
    framework()
        .given(approved_settlement("2023-Q3", 10))
        .when_async(later(calculate("2024-Q1", 20)))
        .await
        .then_expect_error(DomainError::SettlementPeriodOutOfOrder {
            period: period("2024-Q1"),
            start_on: date("2024-01-01"),
            expected_start_on: date("2023-10-01"),
        });
}

#[tokio::test]
async fn a_settlement_not_yet_approved_may_be_calculated_again_and_is_validated_again() {
    let given = vec![
        Event::SettlementCalculated(calculated("2023-Q3", 10)),
        validated("2023-Q3", 10),
    ];
    framework()
        .given(given.clone())
        .when_async(later(calculate("2023-Q3", 15)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated("2023-Q3", 15))]);
    let mut recalculated = given;
    recalculated.push(Event::SettlementCalculated(calculated("2023-Q3", 15)));
    framework()
        .given(recalculated)
        .when_async(later(Command::ApproveSettlement {
            period: period("2023-Q3"),
            as_of: 15,
            determina_number: None,
            determina_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementNotValidated {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn an_approved_settlement_is_never_calculated_again() {
    let mut given = approved_settlement("2023-Q3", 10);
    given.push(paid("2023-Q3"));
    framework()
        .given(given)
        .when_async(later(calculate("2023-Q3", 30)))
        .await
        .then_expect_error(DomainError::SettlementAlreadyApproved {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn an_earlier_period_is_never_calculated_again_once_a_later_one_is() {
    let mut given = approved_settlement("2023-Q3", 10);
    given.push(Event::SettlementCalculated(calculated("2023-Q4", 20)));
    framework()
        .given(given)
        .when_async(later(calculate("2023-Q3", 30)))
        .await
        .then_expect_error(DomainError::SettlementAlreadyApproved {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn a_calculation_as_of_an_earlier_position_than_the_last_is_refused() {
    framework()
        .given(approved_settlement("2023-Q3", 30))
        .when_async(later(calculate("2023-Q4", 20)))
        .await
        .then_expect_error(DomainError::SettlementAsOfGoesBack {
            as_of: 20,
            earlier_as_of: 30,
        });
}

#[tokio::test]
async fn approving_a_settlement_the_evaluator_has_not_validated_is_refused_naming_the_rule() {
    framework()
        .given(vec![Event::SettlementCalculated(calculated("2023-Q3", 10))])
        .when_async(later(Command::ApproveSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            determina_number: None,
            determina_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementNotValidated {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn validation_names_the_calculation_it_checked() {
    framework()
        .given(vec![
            Event::SettlementCalculated(calculated("2023-Q3", 10)),
            Event::SettlementCalculated(calculated("2023-Q3", 12)),
        ])
        .when_async(later(Command::ValidateSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            note: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementRecalculated {
            period: period("2023-Q3"),
            as_of: 10,
            current_as_of: 12,
        });
}

#[tokio::test]
async fn the_evaluator_validates_with_a_note() {
    framework()
        .given(vec![Event::SettlementCalculated(calculated("2023-Q3", 10))])
        .when_async(later(Command::ValidateSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            note: Some("re-computed from the export: same figures".into()),
        }))
        .await
        .then_expect_events(vec![Event::SettlementValidated(SettlementValidated {
            period: period("2023-Q3"),
            as_of: 10,
            note: Some("re-computed from the export: same figures".into()),
        })]);
}

#[tokio::test]
async fn each_step_is_taken_once() {
    let calculated_and_validated = vec![
        Event::SettlementCalculated(calculated("2023-Q3", 10)),
        validated("2023-Q3", 10),
    ];
    framework()
        .given(calculated_and_validated)
        .when_async(later(Command::ValidateSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            note: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementAlreadyValidated {
            period: period("2023-Q3"),
        });
    framework()
        .given(approved_settlement("2023-Q3", 10))
        .when_async(later(Command::ApproveSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            determina_number: None,
            determina_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementAlreadyApproved {
            period: period("2023-Q3"),
        });
    let mut settled = approved_settlement("2023-Q3", 10);
    settled.push(paid("2023-Q3"));
    framework()
        .given(settled)
        .when_async(later(Command::RecordSettlementPayment {
            period: period("2023-Q3"),
            paid_on: date("2025-02-03"),
            reference: "mandato 118/2025".into(),
            mandato_number: None,
            mandato_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementAlreadyPaid {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn only_an_approved_settlement_is_paid_and_not_before_it_is_recorded() {
    framework()
        .given(vec![
            Event::SettlementCalculated(calculated("2023-Q3", 10)),
            validated("2023-Q3", 10),
        ])
        .when_async(later(Command::RecordSettlementPayment {
            period: period("2023-Q3"),
            paid_on: date("2025-02-03"),
            reference: "mandato 118/2025".into(),
            mandato_number: None,
            mandato_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementNotApproved {
            period: period("2023-Q3"),
        });
    framework()
        .given(approved_settlement("2023-Q3", 10))
        .when_async(later(Command::RecordSettlementPayment {
            period: period("2023-Q3"),
            paid_on: date("2025-02-11"),
            reference: "mandato 118/2025".into(),
            mandato_number: None,
            mandato_date: None,
        }))
        .await
        .then_expect_error(DomainError::DateAfterOccurrence {
            field: "paid_on",
            date: date("2025-02-11"),
            occurred_on: date("2025-02-10"),
        });
    framework()
        .given(approved_settlement("2023-Q3", 10))
        .when_async(later(Command::RecordSettlementPayment {
            period: period("2023-Q3"),
            paid_on: date("2025-02-03"),
            reference: "mandato 118/2025".into(),
            mandato_number: None,
            mandato_date: None,
        }))
        .await
        .then_expect_events(vec![paid("2023-Q3")]);
}

#[tokio::test]
async fn a_step_on_a_period_never_calculated_is_refused() {
    framework()
        .given_no_previous_events()
        .when_async(later(Command::ValidateSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            note: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementNotCalculated {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn a_document_that_disagrees_with_its_command_is_refused() {
    let mut event = calculated("2023-Q3", 10);
    event.document["as_of"] = json!(9);
    framework()
        .given_no_previous_events()
        .when_async(later(calculate_from(event)))
        .await
        .then_expect_error(DomainError::SettlementDocumentDisagrees { field: "as_of" });
}

#[test]
fn a_malformed_hash_is_refused_as_the_command_is_read() {
    let mut command = serde_json::to_value(calculate("2023-Q3", 10)).expect("a command writes");
    command["terms_sha256"] = json!("F9A3");
    let refused = serde_json::from_value::<Command>(command).expect_err("F9A3 is not a hash");
    assert!(
        refused
            .to_string()
            .contains("a hash is 64 hex digits, found 4 bytes of text"),
        "{refused}"
    );
}

#[test]
fn settlement_events_are_never_corrected_or_voided() {
    let state = state_after(
        StreamType::Settlement,
        vec![Event::SettlementCalculated(calculated("2023-Q3", 10))],
    );
    assert!(matches!(state, StreamState::Settlement(_)));
    for command in [
        Command::VoidEvent {
            voids: EventId::new_v4(),
            reason: "wrong figures".into(),
        },
        Command::CorrectEvent {
            corrects: EventId::new_v4(),
            replacement: Event::SettlementCalculated(calculated("2023-Q3", 11)),
        },
    ] {
        assert_eq!(
            decide(
                &submit("2024-06-10T10:00:00+02:00", command),
                &state,
                &context()
            ),
            Err(DomainError::SettlementEventsAreFinal)
        );
    }
}

#[test]
fn a_stream_whose_events_break_the_order_does_not_replay() {
    let history = vec![
        recorded(Event::SettlementCalculated(calculated("2023-Q3", 10))),
        recorded(Event::SettlementCalculated(calculated("2023-Q4", 20))),
    ];
    assert!(matches!(
        esito_domain::replay(StreamType::Settlement, &history),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}

#[test]
fn each_step_of_a_settlement_keeps_what_it_brought() {
    let mut history = vec![recorded(Event::SettlementCalculated(calculated(
        "2023-Q3", 10,
    )))];
    let status_after = |history: &[esito_domain::Recorded]| {
        let Ok(StreamState::Settlement(state)) =
            esito_domain::replay(StreamType::Settlement, history)
        else {
            panic!("the settlement stream replays");
        };
        state
            .period(period("2023-Q3"))
            .expect("2023-Q3 is calculated")
            .status
            .clone()
    };
    assert_eq!(status_after(&history), SettlementStatus::Calculated);
    history.push(recorded(validated("2023-Q3", 10)));
    let Event::SettlementValidated(validation) = validated("2023-Q3", 10) else {
        unreachable!("validated makes a validation");
    };
    assert_eq!(
        status_after(&history),
        SettlementStatus::Validated {
            validated: validation.clone()
        }
    );
    history.push(recorded(approved("2023-Q3", 10)));
    assert_eq!(
        status_after(&history),
        SettlementStatus::Approved {
            validated: validation.clone(),
            certified: None,
            approved: match approved("2023-Q3", 10) {
                Event::SettlementApproved(approval) => approval,
                _ => unreachable!("approved makes an approval"),
            },
        }
    );
    history.push(recorded(paid("2023-Q3")));
    let Event::SettlementPaid(payment) = paid("2023-Q3") else {
        unreachable!("paid makes a payment");
    };
    let status = status_after(&history);
    assert_eq!(status.as_str(), "paid");
    assert_eq!(status.validated(), Some(&validation));
    assert_eq!(status.paid(), Some(&payment));
    assert!(status.is_approved());
}

#[test]
fn a_stored_settlement_event_reads_back_to_the_same_bytes() {
    // As the log stores payloads: canonical JSON, members in key order.
    for text in [
        r#"{"as_of":10,"note":"checked","period":"2024-Q1"}"#,
        r#"{"as_of":10,"period":"2024"}"#,
        r#"{"as_of":10,"period":"2024-H2"}"#,
        r#"{"as_of":10,"period":"2024-03"}"#,
    ] {
        let payload: serde_json::Value = serde_json::from_str(text).expect("a payload");
        let event = Event::from_parts("SettlementValidated", payload).expect("it reads");
        assert_eq!(
            serde_json::to_string(&event.payload()).expect("it writes"),
            text
        );
    }
    let refused = Event::from_parts(
        "SettlementValidated",
        json!({"period": "2024-Q5", "as_of": 10}),
    )
    .expect_err("2024-Q5 is not a period");
    assert!(
        refused.reason.contains("`2024-Q5` is not a period"),
        "{refused}"
    );
}

#[test]
fn a_stored_settlement_calculation_reads_back_to_the_same_bytes_with_its_hashes_and_key_id() {
    // As the log stores payloads: canonical JSON, members in key order.
    let text = format!(
        concat!(
            r#"{{"as_of":10,"checkpoint":{{"key_id":"0123456789abcdef","signature":"c2ln","#,
            r#""timestamp":"2025-02-10T09:00:00Z"}},"definitions_sha256":"{sha}","#,
            r#""document":{{"total":"100.00"}},"final_settlement":false,"period":"2023-Q3","#,
            r#""period_end_on":"2023-10-01","period_start_on":"2023-07-01","#,
            r#""root_hash":"{root}","template":"cuneo","terms_sha256":"{sha}"}}"#
        ),
        sha = SHA,
        root = ROOT
    );
    let payload: serde_json::Value = serde_json::from_str(&text).expect("a payload");
    let event = Event::from_parts("SettlementCalculated", payload).expect("it reads");
    let Event::SettlementCalculated(calculated) = &event else {
        panic!("a SettlementCalculated reads as one, not {event:?}");
    };
    assert_eq!(
        calculated.root_hash,
        ROOT.parse::<esito_log::Hash>().expect("a test hash")
    );
    let checkpoint = calculated.checkpoint.as_ref().expect("a checkpoint");
    assert_eq!(
        checkpoint.key_id,
        esito_log::KeyId::parse("0123456789abcdef").expect("a test key id")
    );
    assert_eq!(
        serde_json::to_string(&event.payload()).expect("it writes"),
        text
    );

    let uppercase = text.replace(ROOT, &ROOT.to_uppercase());
    let payload: serde_json::Value = serde_json::from_str(&uppercase).expect("a payload");
    Event::from_parts("SettlementCalculated", payload)
        .expect_err("an uppercase root hash is a second spelling");
    let short_key = text.replace("0123456789abcdef", "key-1");
    let payload: serde_json::Value = serde_json::from_str(&short_key).expect("a payload");
    Event::from_parts("SettlementCalculated", payload).expect_err("key-1 is not a key id");
}

fn withdraw(label: &str, as_of: u64, reason: &str) -> Command {
    Command::WithdrawSettlement {
        period: period(label),
        as_of,
        reason: reason.into(),
    }
}

fn withdrawn(label: &str, as_of: u64) -> Event {
    Event::SettlementWithdrawn(SettlementWithdrawn {
        period: period(label),
        as_of,
        reason: "a delivery was recorded twice".into(),
    })
}

#[tokio::test]
async fn a_calculated_settlement_is_withdrawn_with_its_reason_and_calculated_again() {
    framework()
        .given(vec![Event::SettlementCalculated(calculated("2023-Q3", 10))])
        .when_async(later(withdraw(
            "2023-Q3",
            10,
            "a delivery was recorded twice",
        )))
        .await
        .then_expect_events(vec![withdrawn("2023-Q3", 10)]);
    // Mended: the period is calculated again, and the new calculation goes the usual way.
    framework()
        .given(vec![
            Event::SettlementCalculated(calculated("2023-Q3", 10)),
            withdrawn("2023-Q3", 10),
        ])
        .when_async(later(calculate("2023-Q3", 14)))
        .await
        .then_expect_events(vec![Event::SettlementCalculated(calculated("2023-Q3", 14))]);
}

#[tokio::test]
async fn a_withdrawal_gives_its_reason_and_names_the_calculation_it_withdraws() {
    framework()
        .given(vec![Event::SettlementCalculated(calculated("2023-Q3", 10))])
        .when_async(later(withdraw("2023-Q3", 10, "  ")))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "reason" });
    framework()
        .given(vec![
            Event::SettlementCalculated(calculated("2023-Q3", 10)),
            Event::SettlementCalculated(calculated("2023-Q3", 12)),
        ])
        .when_async(later(withdraw("2023-Q3", 10, "wrong figures")))
        .await
        .then_expect_error(DomainError::SettlementRecalculated {
            period: period("2023-Q3"),
            as_of: 10,
            current_as_of: 12,
        });
    framework()
        .given_no_previous_events()
        .when_async(later(withdraw("2023-Q3", 10, "wrong figures")))
        .await
        .then_expect_error(DomainError::SettlementNotCalculated {
            period: period("2023-Q3"),
        });
}

#[tokio::test]
async fn a_validated_approved_paid_or_withdrawn_settlement_is_not_withdrawn() {
    let calculated_and_validated = vec![
        Event::SettlementCalculated(calculated("2023-Q3", 10)),
        validated("2023-Q3", 10),
    ];
    let mut paid_settlement = approved_settlement("2023-Q3", 10);
    paid_settlement.push(paid("2023-Q3"));
    let twice = vec![
        Event::SettlementCalculated(calculated("2023-Q3", 10)),
        withdrawn("2023-Q3", 10),
    ];
    for (given, status) in [
        (calculated_and_validated, "validated"),
        (approved_settlement("2023-Q3", 10), "approved"),
        (paid_settlement, "paid"),
        (twice, "withdrawn"),
    ] {
        framework()
            .given(given)
            .when_async(later(withdraw("2023-Q3", 10, "wrong figures")))
            .await
            .then_expect_error(DomainError::SettlementNotWithdrawable {
                period: period("2023-Q3"),
                status,
            });
    }
}

#[tokio::test]
async fn a_withdrawn_settlement_is_not_validated_approved_paid_or_followed() {
    let given = vec![
        Event::SettlementCalculated(calculated("2023-Q3", 10)),
        withdrawn("2023-Q3", 10),
    ];
    framework()
        .given(given.clone())
        .when_async(later(Command::ValidateSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            note: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementWithdrawn {
            period: period("2023-Q3"),
        });
    framework()
        .given(given.clone())
        .when_async(later(Command::ApproveSettlement {
            period: period("2023-Q3"),
            as_of: 10,
            determina_number: None,
            determina_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementWithdrawn {
            period: period("2023-Q3"),
        });
    framework()
        .given(given.clone())
        .when_async(later(Command::RecordSettlementPayment {
            period: period("2023-Q3"),
            paid_on: date("2025-02-03"),
            reference: "mandato 118/2025".into(),
            mandato_number: None,
            mandato_date: None,
        }))
        .await
        .then_expect_error(DomainError::SettlementNotApproved {
            period: period("2023-Q3"),
        });
    framework()
        .given(given)
        .when_async(later(calculate("2023-Q4", 20)))
        .await
        .then_expect_error(DomainError::PreviousSettlementNotApproved {
            previous: period("2023-Q3"),
        });
}

#[test]
fn a_withdrawn_settlement_keeps_its_withdrawal_until_it_is_calculated_again() {
    let status_after = |history: &[esito_domain::Recorded]| {
        let Ok(StreamState::Settlement(state)) =
            esito_domain::replay(StreamType::Settlement, history)
        else {
            panic!("the settlement stream replays");
        };
        state
            .period(period("2023-Q3"))
            .expect("2023-Q3 is calculated")
            .clone()
    };
    let mut history = vec![
        recorded(Event::SettlementCalculated(calculated("2023-Q3", 10))),
        recorded(withdrawn("2023-Q3", 10)),
    ];
    let Event::SettlementWithdrawn(withdrawal) = withdrawn("2023-Q3", 10) else {
        unreachable!("withdrawn makes a withdrawal");
    };
    let settlement = status_after(&history);
    assert_eq!(
        settlement.status,
        SettlementStatus::Withdrawn {
            withdrawn: withdrawal.clone()
        }
    );
    assert_eq!(settlement.status.as_str(), "withdrawn");
    assert_eq!(settlement.status.withdrawn(), Some(&withdrawal));
    assert!(!settlement.status.is_approved());
    history.push(recorded(Event::SettlementCalculated(calculated(
        "2023-Q3", 12,
    ))));
    let settlement = status_after(&history);
    assert_eq!(settlement.status, SettlementStatus::Calculated);
    assert_eq!(settlement.calculations, 2);
    // A withdrawal the stream cannot follow does not replay.
    let validated_then_withdrawn = vec![
        recorded(Event::SettlementCalculated(calculated("2023-Q3", 10))),
        recorded(validated("2023-Q3", 10)),
        recorded(withdrawn("2023-Q3", 10)),
    ];
    assert!(matches!(
        esito_domain::replay(StreamType::Settlement, &validated_then_withdrawn),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}
