//! Cremona's phases: given a phase's events, when a command, then its event or the rule.
//!
//! Figures of KCity's offer: phase 1 is 10,000 € + VAT; 30 % is invoiced on signing
//! (3,000 € + 22 % VAT = 660 €), the 70 % balance on delivery (7,000 € + 1,540 €), each invoice
//! due 30 days after issue.

mod common;

use std::num::NonZeroU8;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{PhaseState, StreamState};
use esito_domain::events::*;
use esito_domain::terms::{ContractChange, PaymentRule, PaymentTerms};
use esito_domain::{Command, DecisionContext, DomainError, Event, StreamType, Submission};

const CREMONA: &str = "Comune di Cremona";
const DELIVERABLE: &str = "documento-indirizzo-strategico";

fn cremona() -> ContractRegistered {
    ContractRegistered {
        title: "Piano Triennale dei servizi abitativi".into(),
        template: "cremona".into(),
        definitions: None,
        definitions_sha256: None,
        payer: CREMONA.into(),
        funder: None,
        operator: "KCity".into(),
        evaluator: "Valutatore indipendente".into(),
        term_start_on: date("2023-07-01"),
        term_end_on: date("2024-12-31"),
        period_kind: PeriodKind::Month,
        procurement: Default::default(),
    }
}

fn cremona_context() -> DecisionContext {
    context_with(contract_after(vec![Event::ContractRegistered(cremona())]))
}

/// The contract with a milestone rule for phase 1's deliverable.
fn cremona_context_with_terms(amount: &str, advance_share: &str) -> DecisionContext {
    context_with(contract_after(vec![
        Event::ContractRegistered(cremona()),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2023-07-01"),
            changes: vec![ContractChange::PaymentTerms {
                payment_terms: PaymentTerms {
                    currency: Default::default(),
                    rules: vec![PaymentRule::Milestone {
                        deliverable: DELIVERABLE.into(),
                        amount: money(amount),
                        advance_share: share(advance_share),
                    }],
                    period_cap: None,
                    contract_cap: None,
                    vat_rate: Some(rate("0.22")),
                    vat: Default::default(),
                    payers: vec![],
                },
            }],
        }),
    ]))
}

fn define(amount: &str, advance_share: &str) -> Command {
    Command::DefinePhase {
        phase_id: id("fase-1"),
        number: NonZeroU8::new(1).expect("one"),
        title: "Integrazione del quadro conoscitivo".into(),
        deliverable: DELIVERABLE.into(),
        amount: money(amount),
        vat_rate: rate("0.22"),
        advance_share: share(advance_share),
        vat: Default::default(),
    }
}

fn defined() -> Event {
    defined_with("10000.00", "0.3")
}

fn defined_with(amount: &str, advance_share: &str) -> Event {
    Event::PhaseDefined(PhaseDefined {
        number: NonZeroU8::new(1).expect("one"),
        title: "Integrazione del quadro conoscitivo".into(),
        deliverable: DELIVERABLE.into(),
        amount: money(amount),
        vat_rate: rate("0.22"),
        advance_share: share(advance_share),
        vat: Default::default(),
    })
}

fn advance_invoiced() -> Event {
    Event::AdvanceInvoiced(AdvanceInvoiced {
        invoice_number: "2023/41".into(),
        amount: money("3000.00"),
        vat: money("660.00"),
        issued_on: date("2023-07-10"),
        due_on: date("2023-08-09"),
    })
}

fn submitted() -> Event {
    Event::DeliverableSubmitted(DeliverableSubmitted {
        document: "fase1-documento.pdf".into(),
        submitted_on: date("2023-10-02"),
    })
}

fn accepted() -> Event {
    Event::DeliverableAccepted(DeliverableAccepted {
        accepted_by: CREMONA.into(),
        accepted_on: date("2023-10-16"),
    })
}

fn balance_invoiced() -> Event {
    Event::InvoiceIssued(InvoiceIssued {
        invoice_number: "2023/57".into(),
        amount: money("7000.00"),
        vat: money("1540.00"),
        issued_on: date("2023-10-20"),
        due_on: date("2023-11-19"),
    })
}

fn invoice_advance(number: &str, amount: &str, vat: &str, issued_on: &str) -> Command {
    Command::InvoiceAdvance {
        phase_id: id("fase-1"),
        invoice_number: number.into(),
        amount: money(amount),
        vat: money(vat),
        issued_on: date(issued_on),
    }
}

fn issue_invoice(number: &str, amount: &str, vat: &str, issued_on: &str) -> Command {
    Command::IssueInvoice {
        phase_id: id("fase-1"),
        invoice_number: number.into(),
        amount: money(amount),
        vat: money(vat),
        issued_on: date(issued_on),
    }
}

fn pay(number: &str, amount: &str, paid_on: &str) -> Command {
    Command::RecordInvoicePayment {
        phase_id: id("fase-1"),
        invoice_number: number.into(),
        amount: money(amount),
        paid_on: date(paid_on),
        payee: Default::default(),
    }
}

fn on(day: &str, command: Command) -> Submission {
    submit(&format!("{day}T10:00:00+02:00"), command)
}

// DefinePhase

#[tokio::test]
async fn a_phase_is_defined_with_its_amount_vat_rate_and_advance_share() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on("2023-07-03", define("10000.00", "0.3")))
        .await
        .then_expect_events(vec![defined()]);
}

#[tokio::test]
async fn defining_a_phase_twice_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on("2023-07-03", define("10000.00", "0.3")))
        .await
        .then_expect_error(DomainError::PhaseAlreadyDefined {
            phase_id: id("fase-1"),
        });
}

#[tokio::test]
async fn a_phase_of_zero_euro_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on("2023-07-03", define("0.00", "0.3")))
        .await
        .then_expect_error(DomainError::AmountNotPositive { field: "amount" });
}

#[tokio::test]
async fn a_phase_without_a_title_is_refused() {
    let mut command = define("10000.00", "0.3");
    if let Command::DefinePhase { title, .. } = &mut command {
        *title = " ".into();
    }
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on("2023-07-03", command))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "title" });
}

#[tokio::test]
async fn a_phase_without_a_deliverable_is_refused() {
    let mut command = define("10000.00", "0.3");
    if let Command::DefinePhase { deliverable, .. } = &mut command {
        *deliverable = String::new();
    }
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on("2023-07-03", command))
        .await
        .then_expect_error(DomainError::FieldEmpty {
            field: "deliverable",
        });
}

#[tokio::test]
async fn a_phase_that_agrees_with_the_contracts_milestone_terms_is_defined() {
    TestFramework::<PhaseState>::with(cremona_context_with_terms("10000.00", "0.3"))
        .given_no_previous_events()
        .when_async(on("2023-07-03", define("10000.00", "0.3")))
        .await
        .then_expect_events(vec![defined()]);
}

#[tokio::test]
async fn a_phase_whose_amount_differs_from_the_milestone_terms_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context_with_terms("8000.00", "0.3"))
        .given_no_previous_events()
        .when_async(on("2023-07-03", define("10000.00", "0.3")))
        .await
        .then_expect_error(DomainError::PhaseDisagreesWithTerms {
            field: "amount",
            deliverable: DELIVERABLE.into(),
        });
}

#[tokio::test]
async fn a_phase_whose_advance_share_differs_from_the_milestone_terms_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context_with_terms("10000.00", "0.4"))
        .given_no_previous_events()
        .when_async(on("2023-07-03", define("10000.00", "0.3")))
        .await
        .then_expect_error(DomainError::PhaseDisagreesWithTerms {
            field: "advance_share",
            deliverable: DELIVERABLE.into(),
        });
}

#[tokio::test]
async fn a_phase_whose_vat_rate_differs_from_the_payment_terms_is_refused() {
    let mut command = define("10000.00", "0.3");
    if let Command::DefinePhase { vat_rate, .. } = &mut command {
        *vat_rate = rate("0.1");
    }
    TestFramework::<PhaseState>::with(cremona_context_with_terms("10000.00", "0.3"))
        .given_no_previous_events()
        .when_async(on("2023-07-03", command))
        .await
        .then_expect_error(DomainError::PhaseDisagreesWithTerms {
            field: "vat_rate",
            deliverable: DELIVERABLE.into(),
        });
}

#[test]
fn a_phase_numbered_zero_does_not_parse() {
    let body = serde_json::json!({
        "event_id": "6f1c1c64-5d0e-4c55-9a59-0f5b4b8f8a11",
        "occurred_at": "2023-07-03T10:00:00+02:00",
        "command": {"type": "DefinePhase", "phase_id": "fase-1", "number": 0, "title": "t",
                    "deliverable": "d", "amount": "10000.00", "vat_rate": "0.22", "advance_share": "0.3"}
    });
    assert!(serde_json::from_value::<Submission>(body).is_err());
}

// InvoiceAdvance

#[tokio::test]
async fn the_advance_is_thirty_percent_plus_vat_due_thirty_days_after_issue() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3000.00", "660.00", "2023-07-10"),
        ))
        .await
        .then_expect_events(vec![advance_invoiced()]);
}

#[tokio::test]
async fn an_advance_is_rounded_to_the_cent_half_away_from_zero() {
    // 6,000.05 × 0.5 = 3,000.025 → 3,000.03 (half to even would give 3,000.02);
    // VAT 3,000.03 × 0.22 = 660.0066 → 660.01.
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined_with("6000.05", "0.5")])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3000.03", "660.01", "2023-07-10"),
        ))
        .await
        .then_expect_events(vec![Event::AdvanceInvoiced(AdvanceInvoiced {
            invoice_number: "2023/41".into(),
            amount: money("3000.03"),
            vat: money("660.01"),
            issued_on: date("2023-07-10"),
            due_on: date("2023-08-09"),
        })]);
}

#[tokio::test]
async fn an_advance_of_another_amount_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3500.00", "770.00", "2023-07-10"),
        ))
        .await
        .then_expect_error(DomainError::InvoiceAmountMismatch {
            expected: money("3000.00"),
            amount: money("3500.00"),
        });
}

#[tokio::test]
async fn an_advance_with_the_wrong_vat_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3000.00", "600.00", "2023-07-10"),
        ))
        .await
        .then_expect_error(DomainError::InvoiceVatMismatch {
            expected: money("660.00"),
            vat: money("600.00"),
        });
}

#[tokio::test]
async fn an_advance_invoiced_twice_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on(
            "2023-07-12",
            invoice_advance("2023/42", "3000.00", "660.00", "2023-07-12"),
        ))
        .await
        .then_expect_error(DomainError::AdvanceAlreadyInvoiced);
}

#[tokio::test]
async fn an_advance_after_the_balance_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted(), accepted()])
        .and(vec![Event::InvoiceIssued(InvoiceIssued {
            invoice_number: "2023/57".into(),
            amount: money("10000.00"),
            vat: money("2200.00"),
            issued_on: date("2023-10-20"),
            due_on: date("2023-11-19"),
        })])
        .when_async(on(
            "2023-10-21",
            invoice_advance("2023/58", "3000.00", "660.00", "2023-10-21"),
        ))
        .await
        .then_expect_error(DomainError::AdvanceAfterBalance);
}

#[tokio::test]
async fn an_advance_on_a_phase_without_one_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined_with("10000.00", "0")])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "0.00", "0.00", "2023-07-10"),
        ))
        .await
        .then_expect_error(DomainError::PhaseHasNoAdvance);
}

#[tokio::test]
async fn an_advance_on_a_phase_never_defined_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3000.00", "660.00", "2023-07-10"),
        ))
        .await
        .then_expect_error(DomainError::UnknownPhase {
            phase_id: id("fase-1"),
        });
}

#[tokio::test]
async fn an_invoice_without_a_number_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-07-11",
            invoice_advance("", "3000.00", "660.00", "2023-07-10"),
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty {
            field: "invoice_number",
        });
}

#[tokio::test]
async fn an_invoice_issued_after_the_day_it_is_recorded_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3000.00", "660.00", "2023-07-20"),
        ))
        .await
        .then_expect_error(DomainError::DateAfterOccurrence {
            field: "issued_on",
            date: date("2023-07-20"),
            occurred_on: date("2023-07-11"),
        });
}

#[tokio::test]
async fn an_invoice_issued_before_the_contracts_term_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-07-11",
            invoice_advance("2023/41", "3000.00", "660.00", "2023-06-30"),
        ))
        .await
        .then_expect_error(DomainError::FieldDateOutsideContractTerm {
            field: "issued_on",
            date: date("2023-06-30"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-12-31"),
        });
}

// SubmitDeliverable and AcceptDeliverable

#[tokio::test]
async fn a_deliverable_is_submitted() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on(
            "2023-10-02",
            Command::SubmitDeliverable {
                phase_id: id("fase-1"),
                document: "fase1-documento.pdf".into(),
            },
        ))
        .await
        .then_expect_events(vec![submitted()]);
}

#[tokio::test]
async fn a_submission_without_a_document_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on(
            "2023-10-02",
            Command::SubmitDeliverable {
                phase_id: id("fase-1"),
                document: "".into(),
            },
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "document" });
}

#[tokio::test]
async fn a_submission_after_acceptance_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            Command::SubmitDeliverable {
                phase_id: id("fase-1"),
                document: "v2.pdf".into(),
            },
        ))
        .await
        .then_expect_error(DomainError::DeliverableAlreadyAccepted);
}

#[tokio::test]
async fn a_submission_to_a_phase_never_defined_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on(
            "2023-10-02",
            Command::SubmitDeliverable {
                phase_id: id("fase-1"),
                document: "x.pdf".into(),
            },
        ))
        .await
        .then_expect_error(DomainError::UnknownPhase {
            phase_id: id("fase-1"),
        });
}

fn accept(by: &str) -> Command {
    Command::AcceptDeliverable {
        phase_id: id("fase-1"),
        accepted_by: by.into(),
    }
}

#[tokio::test]
async fn the_payer_accepts_a_submitted_deliverable() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted()])
        .when_async(on("2023-10-16", accept(CREMONA)))
        .await
        .then_expect_events(vec![accepted()]);
}

#[tokio::test]
async fn a_deliverable_never_submitted_cannot_be_accepted() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined()])
        .when_async(on("2023-10-16", accept(CREMONA)))
        .await
        .then_expect_error(DomainError::DeliverableNotSubmitted);
}

#[tokio::test]
async fn a_deliverable_is_accepted_only_once() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted(), accepted()])
        .when_async(on("2023-10-17", accept(CREMONA)))
        .await
        .then_expect_error(DomainError::DeliverableAlreadyAccepted);
}

#[tokio::test]
async fn an_acceptance_by_someone_other_than_the_payer_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted()])
        .when_async(on("2023-10-16", accept("KCity")))
        .await
        .then_expect_error(DomainError::AcceptedByNonPayer {
            accepted_by: "KCity".into(),
            payer: CREMONA.into(),
        });
}

#[tokio::test]
async fn an_acceptance_dated_before_the_submission_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted()])
        .when_async(on("2023-09-30", accept(CREMONA)))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "occurred_at",
            date: date("2023-09-30"),
            start_on: date("2023-10-02"),
        });
}

// IssueInvoice (the balance)

#[tokio::test]
async fn the_balance_is_invoiced_on_delivery_due_thirty_days_after_issue() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/57", "7000.00", "1540.00", "2023-10-20"),
        ))
        .await
        .then_expect_events(vec![balance_invoiced()]);
}

#[tokio::test]
async fn the_balance_before_acceptance_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/57", "7000.00", "1540.00", "2023-10-20"),
        ))
        .await
        .then_expect_error(DomainError::DeliverableNotAccepted);
}

#[tokio::test]
async fn the_balance_invoiced_twice_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted(), accepted()])
        .and(vec![balance_invoiced()])
        .when_async(on(
            "2023-10-21",
            issue_invoice("2023/58", "7000.00", "1540.00", "2023-10-21"),
        ))
        .await
        .then_expect_error(DomainError::BalanceAlreadyInvoiced);
}

#[tokio::test]
async fn a_balance_reusing_the_advances_number_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/41", "7000.00", "1540.00", "2023-10-20"),
        ))
        .await
        .then_expect_error(DomainError::InvoiceNumberAlreadyUsed {
            invoice_number: "2023/41".into(),
        });
}

#[tokio::test]
async fn a_balance_is_what_the_advance_left_of_the_phase() {
    // No advance was invoiced: the balance is the whole phase.
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/57", "7000.00", "1540.00", "2023-10-20"),
        ))
        .await
        .then_expect_error(DomainError::InvoiceAmountMismatch {
            expected: money("10000.00"),
            amount: money("7000.00"),
        });
}

#[tokio::test]
async fn a_balance_with_the_wrong_vat_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/57", "7000.00", "1400.00", "2023-10-20"),
        ))
        .await
        .then_expect_error(DomainError::InvoiceVatMismatch {
            expected: money("1540.00"),
            vat: money("1400.00"),
        });
}

#[tokio::test]
async fn a_balance_issued_before_the_acceptance_date_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/57", "7000.00", "1540.00", "2023-10-10"),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "issued_on",
            date: date("2023-10-10"),
            start_on: date("2023-10-16"),
        });
}

#[tokio::test]
async fn a_balance_issued_after_the_day_it_is_recorded_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced(), submitted(), accepted()])
        .when_async(on(
            "2023-10-20",
            issue_invoice("2023/57", "7000.00", "1540.00", "2023-10-25"),
        ))
        .await
        .then_expect_error(DomainError::DateAfterOccurrence {
            field: "issued_on",
            date: date("2023-10-25"),
            occurred_on: date("2023-10-20"),
        });
}

// RecordInvoicePayment

#[tokio::test]
async fn a_payment_of_an_issued_invoice_is_recorded() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on("2023-08-01", pay("2023/41", "3660.00", "2023-08-01")))
        .await
        .then_expect_events(vec![Event::PaymentMade(PaymentMade {
            invoice_number: "2023/41".into(),
            amount: money("3660.00"),
            paid_on: date("2023-08-01"),
            payee: Default::default(),
        })]);
}

#[tokio::test]
async fn a_payment_naming_no_issued_invoice_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on("2023-08-01", pay("2023/99", "100.00", "2023-08-01")))
        .await
        .then_expect_error(DomainError::UnknownInvoice {
            invoice_number: "2023/99".into(),
        });
}

#[tokio::test]
async fn payments_never_exceed_their_invoice() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .and(vec![Event::PaymentMade(PaymentMade {
            invoice_number: "2023/41".into(),
            amount: money("3000.00"),
            paid_on: date("2023-08-01"),
            payee: Default::default(),
        })])
        .when_async(on("2023-08-05", pay("2023/41", "660.01", "2023-08-05")))
        .await
        .then_expect_error(DomainError::PaymentAboveInvoice {
            invoice_number: "2023/41".into(),
            outstanding: money("660.00"),
        });
}

#[tokio::test]
async fn a_payment_of_zero_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on("2023-08-01", pay("2023/41", "0.00", "2023-08-01")))
        .await
        .then_expect_error(DomainError::AmountNotPositive { field: "amount" });
}

#[tokio::test]
async fn a_payment_before_its_invoice_was_issued_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on("2023-08-01", pay("2023/41", "3660.00", "2023-07-05")))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "paid_on",
            date: date("2023-07-05"),
            start_on: date("2023-07-10"),
        });
}

#[tokio::test]
async fn a_payment_dated_after_the_day_it_is_recorded_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on("2023-08-01", pay("2023/41", "3660.00", "2023-08-02")))
        .await
        .then_expect_error(DomainError::DateAfterOccurrence {
            field: "paid_on",
            date: date("2023-08-02"),
            occurred_on: date("2023-08-01"),
        });
}

#[tokio::test]
async fn a_payment_on_a_phase_never_defined_is_refused() {
    TestFramework::<PhaseState>::with(cremona_context())
        .given_no_previous_events()
        .when_async(on("2023-08-01", pay("2023/41", "3660.00", "2023-08-01")))
        .await
        .then_expect_error(DomainError::UnknownPhase {
            phase_id: id("fase-1"),
        });
}

// Replay

#[test]
fn an_invoice_whose_due_date_is_not_thirty_days_after_issue_does_not_replay() {
    let history = vec![
        recorded(defined()),
        recorded(Event::AdvanceInvoiced(AdvanceInvoiced {
            invoice_number: "2023/41".into(),
            amount: money("3000.00"),
            vat: money("660.00"),
            issued_on: date("2023-07-10"),
            due_on: date("2023-08-10"),
        })),
    ];
    let error = esito_domain::replay(StreamType::Phase, &history).expect_err("31 days");
    assert!(
        matches!(error, DomainError::EventInconsistentWithStream { ref reason, .. } if reason.contains("due_on")),
        "{error}"
    );
}

#[test]
fn the_advance_and_the_balance_add_up_to_the_phase_and_its_vat() {
    let state = state_after(
        StreamType::Phase,
        vec![
            defined(),
            advance_invoiced(),
            submitted(),
            accepted(),
            balance_invoiced(),
        ],
    );
    let StreamState::Phase(PhaseState::Defined(phase)) = state else {
        panic!("a defined phase stream");
    };
    let advance = phase.invoice("2023/41").expect("the advance");
    let balance = phase.invoice("2023/57").expect("the balance");
    // 10,000 € + 22 % = 12,200 €: 3,660 on signing, 8,540 on delivery.
    assert_eq!(advance.total, money("3660.00"));
    assert_eq!(balance.total, money("8540.00"));
    assert_eq!(balance.due_on, date("2023-11-19"));
}

// Split payment (art. 17-ter DPR 633/72): the comune pays KCity the net and the VAT to the
// Treasury.

fn split(event: Event) -> Event {
    match event {
        Event::PhaseDefined(mut defined) => {
            defined.vat = esito_domain::VatRegime::SplitPayment;
            Event::PhaseDefined(defined)
        }
        other => other,
    }
}

fn pay_to(number: &str, amount: &str, paid_on: &str, payee: esito_domain::Payee) -> Command {
    let mut command = pay(number, amount, paid_on);
    if let Command::RecordInvoicePayment { payee: field, .. } = &mut command {
        *field = payee;
    }
    command
}

#[tokio::test]
async fn under_split_payment_the_operator_is_paid_the_net_only() {
    // The advance: 3000.00 net + 660.00 VAT; KCity is owed 3000.00, not 3660.00.
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![split(defined()), advance_invoiced()])
        .when_async(on("2023-08-01", pay("2023/41", "3660.00", "2023-08-01")))
        .await
        .then_expect_error(DomainError::PaymentAboveInvoice {
            invoice_number: "2023/41".into(),
            outstanding: money("3000.00"),
        });
}

#[tokio::test]
async fn under_split_payment_the_vat_is_paid_to_the_treasury_up_to_the_invoices_vat() {
    let paid_net = Event::PaymentMade(PaymentMade {
        invoice_number: "2023/41".into(),
        amount: money("3000.00"),
        paid_on: date("2023-08-01"),
        payee: esito_domain::Payee::Operator,
    });
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![split(defined()), advance_invoiced(), paid_net.clone()])
        .when_async(on(
            "2023-08-01",
            pay_to(
                "2023/41",
                "660.00",
                "2023-08-01",
                esito_domain::Payee::Treasury,
            ),
        ))
        .await
        .then_expect_events(vec![Event::PaymentMade(PaymentMade {
            invoice_number: "2023/41".into(),
            amount: money("660.00"),
            paid_on: date("2023-08-01"),
            payee: esito_domain::Payee::Treasury,
        })]);
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![split(defined()), advance_invoiced(), paid_net])
        .when_async(on(
            "2023-08-01",
            pay_to(
                "2023/41",
                "660.01",
                "2023-08-01",
                esito_domain::Payee::Treasury,
            ),
        ))
        .await
        .then_expect_error(DomainError::PaymentAboveInvoice {
            invoice_number: "2023/41".into(),
            outstanding: money("660.00"),
        });
}

#[tokio::test]
async fn paying_the_treasury_under_ordinary_vat_is_refused_naming_the_payee() {
    let error = DomainError::TreasuryPaidWithoutSplitPayment;
    assert_eq!(error.field(), Some("payee"));
    TestFramework::<PhaseState>::with(cremona_context())
        .given(vec![defined(), advance_invoiced()])
        .when_async(on(
            "2023-08-01",
            pay_to(
                "2023/41",
                "660.00",
                "2023-08-01",
                esito_domain::Payee::Treasury,
            ),
        ))
        .await
        .then_expect_error(error);
}

#[tokio::test]
async fn a_phase_whose_vat_regime_differs_from_the_payment_terms_is_refused() {
    let mut command = define("10000.00", "0.3");
    if let Command::DefinePhase { vat, .. } = &mut command {
        *vat = esito_domain::VatRegime::SplitPayment;
    }
    TestFramework::<PhaseState>::with(cremona_context_with_terms("10000.00", "0.3"))
        .given_no_previous_events()
        .when_async(on("2023-07-03", command))
        .await
        .then_expect_error(DomainError::PhaseDisagreesWithTerms {
            field: "vat",
            deliverable: DELIVERABLE.into(),
        });
}

#[test]
fn split_payment_without_a_vat_rate_is_refused_naming_the_field() {
    let terms = PaymentTerms {
        currency: Default::default(),
        rules: vec![PaymentRule::Milestone {
            deliverable: DELIVERABLE.into(),
            amount: money("10000.00"),
            advance_share: share("0.3"),
        }],
        period_cap: None,
        contract_cap: None,
        vat_rate: None,
        vat: esito_domain::VatRegime::SplitPayment,
        payers: vec![],
    };
    let error = terms.check().expect_err("split payment needs a rate");
    assert_eq!(error, DomainError::SplitPaymentWithoutVatRate);
    assert_eq!(error.field(), Some("payment_terms.vat_rate"));
}

#[test]
fn terms_without_a_vat_field_read_as_ordinary_and_are_written_as_before() {
    let text = r#"{"rules":[{"kind":"milestone","deliverable":"d","amount":"1.00","advance_share":"0.3"}],"vat_rate":"0.22"}"#;
    let terms: PaymentTerms = serde_json::from_str(text).expect("terms");
    assert_eq!(terms.vat, esito_domain::VatRegime::Ordinary);
    assert_eq!(serde_json::to_string(&terms).expect("json"), text);
    let split_text = r#"{"rules":[{"kind":"milestone","deliverable":"d","amount":"1.00","advance_share":"0.3"}],"vat_rate":"0.22","vat":"split_payment"}"#;
    let split: PaymentTerms = serde_json::from_str(split_text).expect("split terms");
    assert_eq!(split.vat, esito_domain::VatRegime::SplitPayment);
}
