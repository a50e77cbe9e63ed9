//! The PA's acts on a settlement (ADR 0016): for a contract with a CIG, validated by the
//! evaluator → certified by the RUP (attestazione di regolare esecuzione) → approved by the
//! determina di liquidazione (number, date) → paid by the mandato di pagamento (number, date),
//! each step once and in order, each act citing the contract's CIG and CUP; a contract without
//! a CIG reads and goes on as before.

mod common;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::SettlementState;
use esito_domain::events::*;
use esito_domain::terms::ContractChange;
use esito_domain::{Cig, Command, Cup, DomainError, Event, Period, Procurement};
use serde_json::json;

const ROOT: &str = "6649f31df95d483f536a25f8f62a1f7044261e031478dd16b936669443a2a054";
const CIG: &str = "A0B1C2D3E4";
const CUP: &str = "D21B23000120004";
const RUP: &str = "Responsabile Unico del Progetto, Settore Socio-Educativo";

fn q3() -> Period {
    "2023-Q3".parse().expect("a period")
}

fn procurement() -> Procurement {
    Procurement {
        cig: Some(Cig::parse(CIG).expect("a CIG")),
        cup: Some(Cup::parse(CUP).expect("a CUP")),
        rup: Some(RUP.into()),
    }
}

fn codes() -> ActCodes {
    ActCodes {
        cig: procurement().cig,
        cup: procurement().cup,
    }
}

/// The contract of `common`, registered with its CIG, CUP and RUP.
fn with_acts() -> esito_domain::DecisionContext {
    let mut registration = registration();
    registration.procurement = procurement();
    context_with(contract_after(vec![Event::ContractRegistered(
        registration,
    )]))
}

fn calculated() -> Event {
    Event::SettlementCalculated(SettlementCalculated {
        period: q3(),
        period_start_on: date("2023-07-01"),
        period_end_on: date("2023-10-01"),
        as_of: 10,
        root_hash: ROOT.parse().expect("a hash"),
        checkpoint: None,
        template: "cuneo".into(),
        definitions_sha256: ROOT.parse().expect("a hash"),
        terms_sha256: ROOT.parse().expect("a hash"),
        final_settlement: false,
        document: json!({}),
    })
}

fn validated() -> Event {
    Event::SettlementValidated(SettlementValidated {
        period: q3(),
        as_of: 10,
        note: None,
    })
}

fn certified() -> Event {
    Event::SettlementCertified(SettlementCertified {
        period: q3(),
        as_of: 10,
        certified_on: date("2023-10-20"),
        rup: Some(RUP.into()),
        codes: codes(),
    })
}

fn approved() -> Event {
    Event::SettlementApproved(SettlementApproved {
        period: q3(),
        as_of: 10,
        determina_number: Some("DD 1234/2023".into()),
        determina_date: Some(date("2023-10-25")),
        codes: codes(),
    })
}

fn certify(on: &str) -> Command {
    Command::CertifySettlement {
        period: q3(),
        as_of: 10,
        certified_on: date(on),
    }
}

fn approve(number: Option<&str>, on: Option<&str>) -> Command {
    Command::ApproveSettlement {
        period: q3(),
        as_of: 10,
        determina_number: number.map(str::to_owned),
        determina_date: on.map(date),
    }
}

fn pay(number: Option<&str>, on: Option<&str>, paid_on: &str) -> Command {
    Command::RecordSettlementPayment {
        period: q3(),
        paid_on: date(paid_on),
        reference: "SIOPE+ 2023-77812".into(),
        mandato_number: number.map(str::to_owned),
        mandato_date: on.map(date),
    }
}

fn at_day(day: &str, command: Command) -> esito_domain::Submission {
    submit(&format!("{day}T10:00:00+02:00"), command)
}

fn framework(context: esito_domain::DecisionContext) -> TestFramework<SettlementState> {
    TestFramework::<SettlementState>::with(context)
}

#[tokio::test]
async fn the_rup_certifies_a_validated_settlement_citing_the_cig_and_the_cup() {
    framework(with_acts())
        .given(vec![calculated(), validated()])
        .when_async(at_day("2023-10-20", certify("2023-10-20")))
        .await
        .then_expect_events(vec![certified()]);
}

#[tokio::test]
async fn the_determina_approves_a_certified_settlement_with_its_number_and_date() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day(
            "2023-10-25",
            approve(Some("DD 1234/2023"), Some("2023-10-25")),
        ))
        .await
        .then_expect_events(vec![approved()]);
}

#[tokio::test]
async fn the_mandato_pays_an_approved_settlement_with_its_number_and_date() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified(), approved()])
        .when_async(at_day(
            "2023-11-06",
            pay(Some("MP 4321/2023"), Some("2023-11-03"), "2023-11-06"),
        ))
        .await
        .then_expect_events(vec![Event::SettlementPaid(SettlementPaid {
            period: q3(),
            paid_on: date("2023-11-06"),
            reference: "SIOPE+ 2023-77812".into(),
            mandato_number: Some("MP 4321/2023".into()),
            mandato_date: Some(date("2023-11-03")),
            codes: codes(),
        })]);
}

#[tokio::test]
async fn with_a_cig_approving_before_the_certification_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated()])
        .when_async(at_day(
            "2023-10-25",
            approve(Some("DD 1234/2023"), Some("2023-10-25")),
        ))
        .await
        .then_expect_error(DomainError::SettlementNotCertified { period: q3() });
}

#[tokio::test]
async fn certifying_before_the_validation_is_refused() {
    framework(with_acts())
        .given(vec![calculated()])
        .when_async(at_day("2023-10-20", certify("2023-10-20")))
        .await
        .then_expect_error(DomainError::SettlementNotValidated { period: q3() });
}

#[tokio::test]
async fn certifying_twice_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day("2023-10-21", certify("2023-10-21")))
        .await
        .then_expect_error(DomainError::SettlementAlreadyCertified { period: q3() });
}

#[tokio::test]
async fn certifying_an_approved_settlement_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified(), approved()])
        .when_async(at_day("2023-10-26", certify("2023-10-26")))
        .await
        .then_expect_error(DomainError::SettlementAlreadyApproved { period: q3() });
}

#[tokio::test]
async fn paying_a_certified_settlement_not_yet_approved_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day(
            "2023-11-06",
            pay(Some("MP 4321/2023"), Some("2023-11-03"), "2023-11-06"),
        ))
        .await
        .then_expect_error(DomainError::SettlementNotApproved { period: q3() });
}

#[tokio::test]
async fn validating_a_certified_settlement_again_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day(
            "2023-10-26",
            Command::ValidateSettlement {
                period: q3(),
                as_of: 10,
                note: None,
            },
        ))
        .await
        .then_expect_error(DomainError::SettlementAlreadyValidated { period: q3() });
}

#[tokio::test]
async fn with_a_cig_a_determina_without_its_number_or_date_is_refused_naming_the_field() {
    let missing_number = DomainError::SettlementActMissing {
        field: "determina_number",
    };
    assert_eq!(missing_number.field(), Some("determina_number"));
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day("2023-10-25", approve(None, None)))
        .await
        .then_expect_error(missing_number);
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day("2023-10-25", approve(Some("DD 1234/2023"), None)))
        .await
        .then_expect_error(DomainError::SettlementActMissing {
            field: "determina_date",
        });
}

#[tokio::test]
async fn with_a_cig_a_payment_without_its_mandato_is_refused_naming_the_field() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified(), approved()])
        .when_async(at_day("2023-11-06", pay(None, None, "2023-11-06")))
        .await
        .then_expect_error(DomainError::SettlementActMissing {
            field: "mandato_number",
        });
}

#[tokio::test]
async fn a_determina_dated_before_the_certification_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified()])
        .when_async(at_day(
            "2023-10-25",
            approve(Some("DD 1234/2023"), Some("2023-10-19")),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "determina_date",
            date: date("2023-10-19"),
            start_on: date("2023-10-20"),
        });
}

#[tokio::test]
async fn a_mandato_dated_before_the_determina_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated(), certified(), approved()])
        .when_async(at_day(
            "2023-11-06",
            pay(Some("MP 4321/2023"), Some("2023-10-24"), "2023-11-06"),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeStart {
            field: "mandato_date",
            date: date("2023-10-24"),
            start_on: date("2023-10-25"),
        });
}

#[tokio::test]
async fn an_act_dated_after_the_day_it_is_recorded_is_refused() {
    framework(with_acts())
        .given(vec![calculated(), validated()])
        .when_async(at_day("2023-10-20", certify("2023-10-21")))
        .await
        .then_expect_error(DomainError::DateAfterOccurrence {
            field: "certified_on",
            date: date("2023-10-21"),
            occurred_on: date("2023-10-20"),
        });
}

#[tokio::test]
async fn without_a_cig_a_validated_settlement_is_approved_without_acts_as_before() {
    framework(context())
        .given(vec![calculated(), validated()])
        .when_async(at_day("2023-10-25", approve(None, None)))
        .await
        .then_expect_events(vec![Event::SettlementApproved(SettlementApproved {
            period: q3(),
            as_of: 10,
            determina_number: None,
            determina_date: None,
            codes: ActCodes::default(),
        })]);
}

#[tokio::test]
async fn an_amendment_that_sets_the_cig_makes_the_acts_required() {
    let amended = contract_after(vec![
        Event::ContractRegistered(registration()),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2024-01-01"),
            changes: vec![ContractChange::Procurement {
                procurement: procurement(),
            }],
        }),
    ]);
    framework(context_with(amended))
        .given(vec![calculated(), validated()])
        .when_async(at_day("2024-01-10", approve(None, None)))
        .await
        .then_expect_error(DomainError::SettlementNotCertified { period: q3() });
}

#[test]
fn an_approval_recorded_before_acts_existed_reads_without_them() {
    let old = r#"{"period":"2023-Q3","as_of":10}"#;
    let approval: SettlementApproved = serde_json::from_str(old).expect("an old approval");
    assert_eq!(approval.determina_number, None);
    assert_eq!(serde_json::to_string(&approval).expect("json"), old);
    let old = r#"{"period":"2023-Q3","paid_on":"2023-11-06","reference":"mandato 1"}"#;
    let payment: SettlementPaid = serde_json::from_str(old).expect("an old payment");
    assert_eq!(payment.mandato_number, None);
    assert_eq!(serde_json::to_string(&payment).expect("json"), old);
}

#[test]
fn a_cig_is_ten_and_a_cup_fifteen_capitals_or_digits() {
    assert!(Cig::parse("A0B1C2D3E4").is_ok());
    for bad in ["A0B1C2D3E", "A0B1C2D3E45", "a0b1c2d3e4", "A0B1C2D3E-"] {
        let error = Cig::parse(bad).expect_err(bad);
        assert!(
            error.to_string().contains("a CIG is 10 characters"),
            "{error}"
        );
    }
    assert!(Cup::parse("D21B23000120004").is_ok());
    for bad in [
        "D21B2300012000",
        "D21B230001200045",
        "d21b23000120004",
        "D21B23000120 04",
    ] {
        let error = Cup::parse(bad).expect_err(bad);
        assert!(
            error.to_string().contains("a CUP is 15 characters"),
            "{error}"
        );
    }
}

#[test]
fn a_registration_with_a_malformed_cig_does_not_read() {
    let text = json!({
        "type": "RegisterContract", "title": "t", "template": "cuneo", "payer": "p",
        "operator": "o", "evaluator": "e", "term_start_on": "2023-07-01",
        "term_end_on": "2024-12-31", "period_kind": "quarter",
        "procurement": {"cig": "A0B1C2", "cup": CUP}
    });
    let error = serde_json::from_value::<Command>(text).expect_err("a bad CIG");
    assert!(
        error.to_string().contains("a CIG is 10 characters"),
        "{error}"
    );
}

#[tokio::test]
async fn a_registration_naming_an_empty_rup_is_refused() {
    let mut procurement = procurement();
    procurement.rup = Some("  ".into());
    TestFramework::<esito_domain::aggregates::ContractState>::with(Default::default())
        .given_no_previous_events()
        .when_async(at_day(
            "2023-07-01",
            Command::RegisterContract {
                title: "t".into(),
                template: "cuneo".into(),
                definitions: None,
                payer: "p".into(),
                funder: None,
                operator: "o".into(),
                evaluator: "e".into(),
                term_start_on: date("2023-07-01"),
                term_end_on: date("2024-12-31"),
                period_kind: PeriodKind::Quarter,
                procurement,
            },
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty {
            field: "procurement.rup",
        });
}
