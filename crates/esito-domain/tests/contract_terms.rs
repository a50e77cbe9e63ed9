//! Contract terms as data: amendments effective from a date, the payment and funder terms
//! they carry, and the terms (and the term) in force on a date.

mod common;

use std::num::NonZeroU32;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{ContractState, ProviderState};
use esito_domain::events::*;
use esito_domain::terms::*;
use esito_domain::{decide, Command, DomainError, Event, StreamState, Submission};
use rust_decimal::Decimal;

fn payment_terms() -> PaymentTerms {
    PaymentTerms {
        currency: Default::default(),
        rules: vec![
            PaymentRule::RateCard {
                indicator: "accessi".into(),
                rate: rate("18.5"),
                threshold: Some(rate("10")),
                cap: Some(money("5000.00")),
                max_per_beneficiary: NonZeroU32::new(2),
                cap_per_beneficiary: Some(money("200.00")),
            },
            PaymentRule::Target {
                indicator: "utilizzo".into(),
                target: rate("0.8"),
                threshold: rate("0.5"),
                amount: money("10000.00"),
                cap_ratio: rate("1.2"),
            },
            PaymentRule::SavingsShare {
                indicator: "risparmio".into(),
                share: share("0.3"),
                cap: Some(money("50000.00")),
            },
            PaymentRule::Milestone {
                deliverable: "fase-1".into(),
                amount: money("10000.00"),
                advance_share: share("0.3"),
            },
        ],
        period_cap: Some(money("40000.00")),
        contract_cap: Some(money("120000.00")),
        vat_rate: Some(rate("0.22")),
        vat: Default::default(),
        payers: vec![
            PayerShare {
                name: PAYER.into(),
                share: share("0.6"),
                cap: None,
            },
            PayerShare {
                name: "Regione Piemonte".into(),
                share: share("0.4"),
                cap: Some(money("30000.00")),
            },
        ],
    }
}

/// Given out of order, to show that the event holds them in canonical order.
fn funder_terms() -> FunderTerms {
    FunderTerms {
        disbursements: vec![
            Disbursement {
                on: date("2024-06-01"),
                amount: money("20000.00"),
            },
            Disbursement {
                on: date("2023-07-01"),
                amount: money("50000.00"),
            },
        ],
        return_tiers: vec![
            ReturnTier {
                min_index: share("0.8"),
                annual_rate: rate("0.05"),
            },
            ReturnTier {
                min_index: share("0"),
                annual_rate: rate("0.01"),
            },
            ReturnTier {
                min_index: share("0.5"),
                annual_rate: rate("0.03"),
            },
        ],
        targeted_indicators: vec![
            TargetedIndicator {
                indicator: "accessi".into(),
                target: rate("300"),
                weight: share("0.6"),
            },
            TargetedIndicator {
                indicator: "utilizzo".into(),
                target: rate("0.8"),
                weight: share("0.4"),
            },
        ],
        max_funder_share: share("0.6"),
        guarantee_share: share("0.5"),
    }
}

fn amend(effective_on: &str, changes: Vec<ContractChange>) -> Command {
    Command::AmendContract {
        effective_on: date(effective_on),
        changes,
    }
}

fn on(day: &str, command: Command) -> Submission {
    submit(&format!("{day}T09:00:00+02:00"), command)
}

fn registered() -> Event {
    Event::ContractRegistered(registration())
}

/// An amendment decided on a contract after `given`: the ledger gives `decide` the contract's
/// own state both as the target and as the context.
async fn amending(given: Vec<Event>, submission: Submission) -> Result<Vec<Event>, DomainError> {
    TestFramework::<ContractState>::with(context_with(contract_after(given.clone())))
        .given(given)
        .when_async(submission)
        .await
        .inspect_result()
}

fn refused_with(result: Result<Vec<Event>, DomainError>) -> DomainError {
    result.expect_err("the amendment is refused")
}

fn with_payment_terms(edit: impl FnOnce(&mut PaymentTerms)) -> Command {
    let mut terms = payment_terms();
    edit(&mut terms);
    amend(
        "2023-07-01",
        vec![ContractChange::PaymentTerms {
            payment_terms: terms,
        }],
    )
}

fn with_funder_terms(edit: impl FnOnce(&mut FunderTerms)) -> Command {
    let mut terms = funder_terms();
    edit(&mut terms);
    amend(
        "2023-07-01",
        vec![ContractChange::FunderTerms {
            funder_terms: terms,
        }],
    )
}

#[tokio::test]
async fn the_first_terms_are_set_by_an_amendment_effective_on_the_terms_first_day() {
    let mut sorted = funder_terms();
    sorted.disbursements.reverse();
    sorted.return_tiers = vec![
        sorted.return_tiers[1].clone(),
        sorted.return_tiers[2].clone(),
        sorted.return_tiers[0].clone(),
    ];
    TestFramework::<ContractState>::with(context())
        .given(vec![registered()])
        .when_async(on(
            "2023-07-01",
            amend(
                "2023-07-01",
                vec![
                    ContractChange::PaymentTerms {
                        payment_terms: payment_terms(),
                    },
                    ContractChange::FunderTerms {
                        funder_terms: funder_terms(),
                    },
                ],
            ),
        ))
        .await
        .then_expect_events(vec![Event::ContractAmended(ContractAmended {
            effective_on: date("2023-07-01"),
            changes: vec![
                ContractChange::PaymentTerms {
                    payment_terms: payment_terms(),
                },
                ContractChange::FunderTerms {
                    funder_terms: sorted,
                },
            ],
        })]);
}

#[test]
fn the_terms_in_force_change_on_the_amendments_effective_date() {
    let mut later = payment_terms();
    later.period_cap = Some(money("45000.00"));
    let contract = contract_after(vec![
        registered(),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2023-07-01"),
            changes: vec![ContractChange::PaymentTerms {
                payment_terms: payment_terms(),
            }],
        }),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2024-04-01"),
            changes: vec![
                ContractChange::PaymentTerms {
                    payment_terms: later,
                },
                ContractChange::Template {
                    template: "cuneo-v2".into(),
                    definitions: None,
                    definitions_sha256: None,
                },
            ],
        }),
    ]);
    let cap_on = |day: &str| {
        contract
            .terms_on(date(day))
            .and_then(|terms| terms.payment_terms)
            .and_then(|terms| terms.period_cap)
    };
    assert_eq!(cap_on("2024-03-31"), Some(money("40000.00")));
    assert_eq!(cap_on("2024-04-01"), Some(money("45000.00")));
    let template_on = |day: &str| contract.terms_on(date(day)).map(|terms| terms.template);
    assert_eq!(template_on("2024-03-31").as_deref(), Some("cuneo"));
    assert_eq!(template_on("2024-04-01").as_deref(), Some("cuneo-v2"));
    assert_eq!(ContractState::default().terms_on(date("2024-01-01")), None);
}

#[test]
fn an_amendment_payload_reads_as_decimal_strings_tagged_by_kind() {
    let event = Event::ContractAmended(ContractAmended {
        effective_on: date("2024-01-01"),
        changes: vec![
            ContractChange::TermEndOn {
                term_end_on: date("2025-12-31"),
            },
            ContractChange::PaymentTerms {
                payment_terms: PaymentTerms {
                    currency: Default::default(),
                    rules: vec![PaymentRule::SavingsShare {
                        indicator: "risparmio".into(),
                        share: share("0.30"),
                        cap: None,
                    }],
                    period_cap: None,
                    contract_cap: None,
                    vat_rate: None,
                    vat: Default::default(),
                    payers: vec![],
                },
            },
        ],
    });
    let payload = event.payload();
    assert_eq!(
        payload,
        serde_json::json!({
            "effective_on": "2024-01-01",
            "changes": [
                {"kind": "term_end_on", "term_end_on": "2025-12-31"},
                {"kind": "payment_terms", "payment_terms": {
                    "rules": [{"kind": "savings_share", "indicator": "risparmio", "share": "0.3"}]
                }}
            ]
        })
    );
    assert_eq!(Event::from_parts("ContractAmended", payload), Ok(event));
}

#[test]
fn a_share_given_as_a_json_number_in_the_terms_is_refused() {
    let payload = serde_json::json!({
        "effective_on": "2024-01-01",
        "changes": [{"kind": "payment_terms", "payment_terms": {
            "rules": [{"kind": "savings_share", "indicator": "risparmio", "share": 0.3}]
        }}]
    });
    assert!(Event::from_parts("ContractAmended", payload).is_err());
}

#[tokio::test]
async fn an_amendment_before_registration_is_refused() {
    let result = TestFramework::<ContractState>::with(Default::default())
        .given_no_previous_events()
        .when_async(on(
            "2024-01-01",
            amend(
                "2024-01-01",
                vec![ContractChange::Template {
                    template: "x".into(),
                    definitions: None,
                    definitions_sha256: None,
                }],
            ),
        ))
        .await
        .inspect_result();
    assert_eq!(result, Err(DomainError::ContractNotRegistered));
}

#[tokio::test]
async fn an_amendment_without_changes_is_refused() {
    let error = refused_with(
        amending(
            vec![registered()],
            on("2024-01-01", amend("2024-01-01", vec![])),
        )
        .await,
    );
    assert_eq!(error, DomainError::FieldEmpty { field: "changes" });
}

#[tokio::test]
async fn an_amendment_changing_one_term_twice_is_refused() {
    let command = amend(
        "2024-01-01",
        vec![
            ContractChange::Template {
                template: "a".into(),
                definitions: None,
                definitions_sha256: None,
            },
            ContractChange::Template {
                template: "b".into(),
                definitions: None,
                definitions_sha256: None,
            },
        ],
    );
    let error = refused_with(amending(vec![registered()], on("2024-01-01", command)).await);
    assert_eq!(
        error,
        DomainError::DuplicateInList {
            field: "changes",
            key: "template".into()
        }
    );
}

#[tokio::test]
async fn an_amendment_effective_before_the_latest_one_is_refused() {
    let given = vec![
        registered(),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2024-04-01"),
            changes: vec![ContractChange::Template {
                template: "v2".into(),
                definitions: None,
                definitions_sha256: None,
            }],
        }),
    ];
    let command = amend(
        "2024-03-01",
        vec![ContractChange::Template {
            template: "v3".into(),
            definitions: None,
            definitions_sha256: None,
        }],
    );
    let error = refused_with(amending(given, on("2024-04-02", command)).await);
    assert_eq!(
        error,
        DomainError::DateBeforeLatestChange {
            field: "effective_on",
            date: date("2024-03-01"),
            latest_on: date("2024-04-01"),
        }
    );
}

#[tokio::test]
async fn an_amendment_effective_after_the_term_is_refused() {
    let command = amend(
        "2025-01-01",
        vec![ContractChange::Template {
            template: "v2".into(),
            definitions: None,
            definitions_sha256: None,
        }],
    );
    let error = refused_with(amending(vec![registered()], on("2024-06-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldDateOutsideContractTerm {
            field: "effective_on",
            date: date("2025-01-01"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-12-31"),
        }
    );
}

#[tokio::test]
async fn a_term_ending_before_the_amendment_takes_effect_is_refused() {
    let command = amend(
        "2024-06-01",
        vec![ContractChange::TermEndOn {
            term_end_on: date("2024-05-31"),
        }],
    );
    let error = refused_with(amending(vec![registered()], on("2024-05-01", command)).await);
    assert_eq!(
        error,
        DomainError::TermEndsBeforeAmendment {
            term_end_on: date("2024-05-31"),
            effective_on: date("2024-06-01"),
        }
    );
}

#[tokio::test]
async fn settlement_by_month_instead_of_quarter_starts_on_the_first_day_of_a_quarter() {
    let command = amend(
        "2024-07-01",
        vec![ContractChange::PeriodKind {
            period_kind: PeriodKind::Month,
        }],
    );
    let events = amending(vec![registered()], on("2024-06-01", command))
        .await
        .expect("1 July starts a quarter and a month");
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn a_change_of_period_kind_in_the_middle_of_a_quarter_is_refused() {
    let command = amend(
        "2024-08-01",
        vec![ContractChange::PeriodKind {
            period_kind: PeriodKind::Month,
        }],
    );
    let error = refused_with(amending(vec![registered()], on("2024-06-01", command)).await);
    assert_eq!(
        error,
        DomainError::PeriodChangeNotAtPeriodStart {
            effective_on: date("2024-08-01"),
            from: PeriodKind::Quarter,
            to: PeriodKind::Month,
        }
    );
}

#[tokio::test]
async fn an_empty_template_is_refused() {
    let command = amend(
        "2024-01-01",
        vec![ContractChange::Template {
            template: " ".into(),
            definitions: None,
            definitions_sha256: None,
        }],
    );
    let error = refused_with(amending(vec![registered()], on("2024-01-01", command)).await);
    assert_eq!(error, DomainError::FieldEmpty { field: "template" });
}

#[tokio::test]
async fn payment_terms_without_rules_are_refused() {
    let command = with_payment_terms(|terms| terms.rules.clear());
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldEmpty {
            field: "payment_terms.rules"
        }
    );
}

#[tokio::test]
async fn a_rule_without_an_indicator_is_refused() {
    let command = with_payment_terms(|terms| {
        terms.rules[2] = PaymentRule::SavingsShare {
            indicator: "".into(),
            share: share("0.3"),
            cap: None,
        }
    });
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldEmpty {
            field: "payment_terms.rules.indicator"
        }
    );
}

#[tokio::test]
async fn a_target_of_zero_is_refused() {
    let command = with_payment_terms(|terms| {
        if let PaymentRule::Target { target, .. } = &mut terms.rules[1] {
            *target = rate("0");
        }
    });
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::TargetNotPositive {
            indicator: "utilizzo".into()
        }
    );
}

#[tokio::test]
async fn a_cap_ratio_below_the_threshold_is_refused() {
    let command = with_payment_terms(|terms| {
        if let PaymentRule::Target { cap_ratio, .. } = &mut terms.rules[1] {
            *cap_ratio = rate("0.4");
        }
    });
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::CapRatioBelowThreshold {
            indicator: "utilizzo".into(),
            cap_ratio: rate("0.4"),
            threshold: rate("0.5"),
        }
    );
}

#[tokio::test]
async fn a_milestone_of_zero_euro_is_refused() {
    let command = with_payment_terms(|terms| {
        if let PaymentRule::Milestone { amount, .. } = &mut terms.rules[3] {
            *amount = money("0");
        }
    });
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::AmountNotPositive {
            field: "payment_terms.rules.amount"
        }
    );
}

#[tokio::test]
async fn two_rules_for_one_indicator_are_refused() {
    let command = with_payment_terms(|terms| {
        terms.rules.push(PaymentRule::SavingsShare {
            indicator: "accessi".into(),
            share: share("0.1"),
            cap: None,
        })
    });
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::DuplicateInList {
            field: "payment_terms.rules",
            key: "accessi".into()
        }
    );
}

#[tokio::test]
async fn a_payer_named_twice_is_refused() {
    let command = with_payment_terms(|terms| terms.payers[1].name = PAYER.into());
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::DuplicateInList {
            field: "payment_terms.payers",
            key: PAYER.into()
        }
    );
}

#[tokio::test]
async fn payers_shares_that_do_not_add_up_to_one_are_refused() {
    let command = with_payment_terms(|terms| terms.payers[1].share = share("0.3"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::SharesDoNotSumToOne {
            field: "payment_terms.payers",
            total: Decimal::new(9, 1),
        }
    );
}

fn registered_without_funder() -> Event {
    Event::ContractRegistered(ContractRegistered {
        funder: None,
        ..registration()
    })
}

#[tokio::test]
async fn funder_terms_on_a_contract_without_a_funder_are_refused() {
    let command = with_funder_terms(|_| {});
    let error =
        refused_with(amending(vec![registered_without_funder()], on("2023-07-01", command)).await);
    assert_eq!(error, DomainError::FunderTermsWithoutFunder);
}

#[tokio::test]
async fn an_investor_joins_with_its_funder_terms_in_one_amendment() {
    // Prato's future social impact bond: the investor arrives by amendment.
    let command = amend(
        "2024-01-01",
        vec![
            ContractChange::Funder {
                funder: "Investitore SIB".into(),
            },
            ContractChange::FunderTerms {
                funder_terms: funder_terms(),
            },
        ],
    );
    let events = amending(vec![registered_without_funder()], on("2024-01-01", command))
        .await
        .expect("a funder and its terms");
    let contract = contract_after(
        std::iter::once(registered_without_funder())
            .chain(events)
            .collect(),
    );
    let terms = contract.terms_on(date("2024-01-01")).expect("registered");
    assert_eq!(terms.funder.as_deref(), Some("Investitore SIB"));
    assert_eq!(
        terms.funder_terms.map(|t| t.return_tiers[0].min_index),
        Some(share("0"))
    );
    assert_eq!(
        contract
            .terms_on(date("2023-12-31"))
            .and_then(|terms| terms.funder),
        None
    );
}

#[tokio::test]
async fn funder_terms_without_disbursements_are_refused() {
    let command = with_funder_terms(|terms| terms.disbursements.clear());
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldEmpty {
            field: "funder_terms.disbursements"
        }
    );
}

#[tokio::test]
async fn a_disbursement_of_zero_is_refused() {
    let command = with_funder_terms(|terms| terms.disbursements[0].amount = money("0"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::AmountNotPositive {
            field: "funder_terms.disbursements.amount"
        }
    );
}

#[tokio::test]
async fn a_disbursement_outside_the_term_is_refused() {
    let command = with_funder_terms(|terms| terms.disbursements[0].on = date("2025-02-01"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldDateOutsideContractTerm {
            field: "funder_terms.disbursements.on",
            date: date("2025-02-01"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-12-31"),
        }
    );
}

#[tokio::test]
async fn a_shorter_term_that_strands_a_disbursement_is_refused() {
    let given = vec![
        registered(),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2023-07-01"),
            changes: vec![ContractChange::FunderTerms {
                funder_terms: funder_terms().sorted(),
            }],
        }),
    ];
    let command = amend(
        "2024-03-01",
        vec![ContractChange::TermEndOn {
            term_end_on: date("2024-03-31"),
        }],
    );
    let error = refused_with(amending(given, on("2024-02-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldDateOutsideContractTerm {
            field: "funder_terms.disbursements.on",
            date: date("2024-06-01"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-03-31"),
        }
    );
}

#[tokio::test]
async fn funder_terms_without_return_tiers_are_refused() {
    let command = with_funder_terms(|terms| terms.return_tiers.clear());
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldEmpty {
            field: "funder_terms.return_tiers"
        }
    );
}

#[tokio::test]
async fn two_tiers_at_one_index_are_refused() {
    let command = with_funder_terms(|terms| terms.return_tiers[2].min_index = share("0.8"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::DuplicateInList {
            field: "funder_terms.return_tiers",
            key: "0.8".into()
        }
    );
}

#[tokio::test]
async fn return_tiers_without_a_floor_at_zero_are_refused() {
    let command = with_funder_terms(|terms| terms.return_tiers[1].min_index = share("0.2"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(error, DomainError::ReturnTiersWithoutFloor);
}

#[tokio::test]
async fn funder_terms_without_targeted_indicators_are_refused() {
    let command = with_funder_terms(|terms| terms.targeted_indicators.clear());
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::FieldEmpty {
            field: "funder_terms.targeted_indicators"
        }
    );
}

#[tokio::test]
async fn a_targeted_indicator_with_a_target_of_zero_is_refused() {
    let command = with_funder_terms(|terms| terms.targeted_indicators[0].target = rate("0"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::TargetNotPositive {
            indicator: "accessi".into()
        }
    );
}

#[tokio::test]
async fn weights_that_do_not_add_up_to_one_are_refused() {
    let command = with_funder_terms(|terms| terms.targeted_indicators[1].weight = share("0.5"));
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::SharesDoNotSumToOne {
            field: "funder_terms.targeted_indicators",
            total: Decimal::new(11, 1),
        }
    );
}

#[tokio::test]
async fn an_indicator_targeted_twice_is_refused() {
    let command =
        with_funder_terms(|terms| terms.targeted_indicators[1].indicator = "accessi".into());
    let error = refused_with(amending(vec![registered()], on("2023-07-01", command)).await);
    assert_eq!(
        error,
        DomainError::DuplicateInList {
            field: "funder_terms.targeted_indicators",
            key: "accessi".into()
        }
    );
}

// The term in force, as every command's date is checked against it

fn accreditation(when: &str) -> Submission {
    submit(
        when,
        Command::AccreditProvider {
            provider_id: id("prov-9"),
            name: "Nuovo fornitore".into(),
            service_family: ServiceFamily::Cleaning,
        },
    )
}

#[test]
fn an_event_after_the_original_end_is_accepted_once_the_term_is_extended() {
    let extended = contract_after(vec![
        registered(),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2024-06-01"),
            changes: vec![ContractChange::TermEndOn {
                term_end_on: date("2025-12-31"),
            }],
        }),
    ]);
    let provider = StreamState::Provider(ProviderState::default());
    assert_eq!(
        decide(
            &accreditation("2025-03-01T10:00:00+01:00"),
            &provider,
            &context_with(extended)
        )
        .map(|event| event.event_type()),
        Ok("ProviderAccredited")
    );
    assert_eq!(
        decide(
            &accreditation("2025-03-01T10:00:00+01:00"),
            &provider,
            &context()
        ),
        Err(DomainError::DateOutsideContractTerm {
            date: date("2025-03-01"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-12-31"),
        })
    );
}

#[test]
fn an_event_after_a_shortened_end_is_refused_but_one_before_the_amendment_is_not() {
    let shortened = context_with(contract_after(vec![
        registered(),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2024-06-01"),
            changes: vec![ContractChange::TermEndOn {
                term_end_on: date("2024-09-30"),
            }],
        }),
    ]));
    let provider = StreamState::Provider(ProviderState::default());
    assert_eq!(
        decide(
            &accreditation("2024-10-15T10:00:00+02:00"),
            &provider,
            &shortened
        ),
        Err(DomainError::DateOutsideContractTerm {
            date: date("2024-10-15"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-09-30"),
        })
    );
    assert!(decide(
        &accreditation("2024-05-15T10:00:00+02:00"),
        &provider,
        &shortened
    )
    .is_ok());
}

#[test]
fn a_stored_amendment_before_the_registration_does_not_replay() {
    let history = vec![recorded(Event::ContractAmended(ContractAmended {
        effective_on: date("2024-01-01"),
        changes: vec![ContractChange::Template {
            template: "x".into(),
            definitions: None,
            definitions_sha256: None,
        }],
    }))];
    assert!(matches!(
        esito_domain::replay(StreamType::Contract, &history),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}
