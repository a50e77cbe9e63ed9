//! The books read from a log: what they keep as of a position, what a settlement of a period
//! needs, the recorded calculation an evaluator re-computes, and the hash of the terms.

use esito_books::{terms_sha256, Books};
use esito_domain::events::*;
use esito_domain::terms::{ContractChange, PaymentRule, PaymentTerms};
use esito_domain::{ContractId, Event, Money, Rate, Share};
use esito_indicators::Period;
use esito_log::Entry;
use serde_json::json;
use sha2::{Digest, Sha256};

const CONTRACT: &str = "books-contract";
const ROOT: &str = "6649f31df95d483f536a25f8f62a1f7044261e031478dd16b936669443a2a054";

fn entry(position: u64, stream_type: StreamType, stream_id: &str, event: Event) -> Entry {
    Entry {
        contract_id: CONTRACT.into(),
        position,
        event_id: uuid::Uuid::new_v4().to_string(),
        stream_type: stream_type.as_str().into(),
        stream_id: stream_id.into(),
        stream_seq: 1,
        event_type: event.event_type().into(),
        schema_version: esito_domain::SCHEMA_VERSION,
        occurred_at: "2025-02-10T10:00:00+01:00".into(),
        recorded_at: "2025-02-10T09:00:00.000000Z".into(),
        recorded_by: "test".into(),
        corrects: None,
        payload: event.payload(),
    }
}

fn date(text: &str) -> chrono::NaiveDate {
    text.parse().expect("a date")
}

fn terms() -> PaymentTerms {
    PaymentTerms {
        currency: Default::default(),
        rules: vec![
            PaymentRule::RateCard {
                indicator: "tenant_milestones".into(),
                rate: Rate::parse("250").expect("a rate"),
                threshold: None,
                cap: None,
                max_per_beneficiary: std::num::NonZeroU32::new(4),
                cap_per_beneficiary: None,
            },
            PaymentRule::Milestone {
                deliverable: "report".into(),
                amount: Money::parse("1000.00").expect("an amount"),
                advance_share: Share::parse("0.3").expect("a share"),
            },
        ],
        period_cap: None,
        contract_cap: None,
        vat_rate: None,
        vat: Default::default(),
        payers: vec![],
    }
}

fn calculated(period: &str, start: &str, end: &str, as_of: u64) -> Event {
    Event::SettlementCalculated(SettlementCalculated {
        period: period.parse().expect("a test period"),
        period_start_on: date(start),
        period_end_on: date(end),
        as_of,
        root_hash: ROOT.parse().expect("a test hash"),
        checkpoint: None,
        template: "cuneo".into(),
        definitions_sha256: ROOT.parse().expect("a test hash"),
        terms_sha256: ROOT.parse().expect("a test hash"),
        final_settlement: false,
        document: json!({"period": period, "period_start_on": start, "period_end_on": end,
            "as_of": as_of, "root_hash": ROOT, "final_settlement": false}),
    })
}

/// A contract settled by quarter with its terms, then 2023-Q3 settled as of position 3 and
/// approved, and 2023-Q4 calculated as of 7, with entries of other streams between.
fn log() -> Vec<Entry> {
    let contract = CONTRACT;
    vec![
        entry(
            1,
            StreamType::Contract,
            contract,
            Event::ContractRegistered(ContractRegistered {
                title: "Books".into(),
                template: "cuneo".into(),
                definitions: None,
                definitions_sha256: None,
                payer: "Comune".into(),
                funder: None,
                operator: "Operatore".into(),
                evaluator: "Valutatore".into(),
                term_start_on: date("2023-07-01"),
                term_end_on: date("2024-12-31"),
                period_kind: PeriodKind::Quarter,
                procurement: Default::default(),
            }),
        ),
        entry(
            2,
            StreamType::Contract,
            contract,
            Event::ContractAmended(ContractAmended {
                effective_on: date("2023-07-01"),
                changes: vec![ContractChange::PaymentTerms {
                    payment_terms: terms(),
                }],
            }),
        ),
        entry(
            3,
            StreamType::Access,
            "acc-1",
            Event::AccessRecorded(AccessRecorded {
                beneficiary_id: None,
                channel: AccessChannel::Phone,
                need: NeedCategory::Childcare,
                outcome: AccessOutcome::InformationOnly,
            }),
        ),
        entry(
            4,
            StreamType::Settlement,
            contract,
            calculated("2023-Q3", "2023-07-01", "2023-10-01", 3),
        ),
        entry(
            5,
            StreamType::Settlement,
            contract,
            Event::SettlementValidated(SettlementValidated {
                period: "2023-Q3".parse().expect("a test period"),
                as_of: 3,
                note: None,
            }),
        ),
        entry(
            6,
            StreamType::Settlement,
            contract,
            Event::SettlementApproved(SettlementApproved {
                period: "2023-Q3".parse().expect("a test period"),
                as_of: 3,
                determina_number: None,
                determina_date: None,
                codes: Default::default(),
            }),
        ),
        entry(
            7,
            StreamType::Settlement,
            contract,
            calculated("2023-Q4", "2023-10-01", "2024-01-01", 6),
        ),
    ]
}

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

#[test]
fn the_books_hold_what_the_log_said_as_of_their_position() {
    let log = log();
    let books = Books::from_entries(&contract(), 6, &log).expect("the books read");
    let periods: Vec<String> = books
        .settlements()
        .periods
        .iter()
        .map(|settlement| settlement.calculated.period.to_string())
        .collect();
    assert_eq!(
        periods,
        ["2023-Q3"],
        "the calculation at position 7 is later"
    );
    let books = Books::from_entries(&contract(), 7, &log).expect("the books read");
    assert_eq!(books.settlements().periods.len(), 2);
    assert!(
        Books::from_entries(&contract(), 0, &log).is_err(),
        "before its registration the contract is not in the books"
    );
}

#[test]
fn a_settlement_needs_its_own_values_and_those_of_every_earlier_settled_period() {
    let books = Books::from_entries(&contract(), 7, &log()).expect("the books read");
    let needs = books
        .needs("2024-Q1".parse().expect("a period"))
        .expect("the terms are in force");
    let periods: Vec<String> = needs.iter().map(|n| n.period.to_string()).collect();
    assert_eq!(periods, ["2024-Q1", "2023-Q3", "2023-Q4"]);
    assert!(needs
        .iter()
        .all(|n| n.per_beneficiary == ["tenant_milestones"]));
    // A calculation of 2023-Q4 again builds on 2023-Q3 only: its own is not history.
    let needs = books
        .needs("2023-Q4".parse().expect("a period"))
        .expect("the terms are in force");
    let periods: Vec<String> = needs.iter().map(|n| n.period.to_string()).collect();
    assert_eq!(periods, ["2023-Q4", "2023-Q3"]);
}

#[test]
fn the_evaluator_recomputes_the_calculation_in_force_by_default() {
    let mut log = log();
    log.push(entry(
        8,
        StreamType::Settlement,
        CONTRACT,
        calculated("2023-Q4", "2023-10-01", "2024-01-01", 7),
    ));
    let q4: Period = "2023-Q4".parse().expect("a period");
    assert_eq!(esito_books::offline::recorded_as_of(&log, q4), Some(7));
    let q1: Period = "2024-Q1".parse().expect("a period");
    assert_eq!(esito_books::offline::recorded_as_of(&log, q1), None);
}

#[test]
fn a_withdrawn_calculation_is_not_in_force_until_the_period_is_calculated_again() {
    let mut log = log();
    let q4: Period = "2023-Q4".parse().expect("a period");
    log.push(entry(
        8,
        StreamType::Settlement,
        CONTRACT,
        Event::SettlementWithdrawn(esito_domain::events::SettlementWithdrawn {
            period: q4,
            as_of: 7,
            reason: "consegna registrata due volte".into(),
        }),
    ));
    assert_eq!(esito_books::offline::recorded_as_of(&log, q4), None);
    log.push(entry(
        9,
        StreamType::Settlement,
        CONTRACT,
        calculated("2023-Q4", "2023-10-01", "2024-01-01", 8),
    ));
    assert_eq!(esito_books::offline::recorded_as_of(&log, q4), Some(8));
}

#[test]
fn the_terms_hash_is_the_sha256_of_their_canonical_json() {
    let payment_terms = PaymentTerms {
        currency: Default::default(),
        rules: vec![PaymentRule::Milestone {
            deliverable: "report".into(),
            amount: Money::parse("1000.00").expect("an amount"),
            advance_share: Share::parse("0.3").expect("a share"),
        }],
        period_cap: None,
        contract_cap: None,
        vat_rate: Some(Rate::parse("0.22").expect("a rate")),
        vat: Default::default(),
        payers: vec![],
    };
    // RFC 8785 by hand: members sorted, no spaces; absent options are left out.
    let canonical = r#"{"payment_terms":{"rules":[{"advance_share":"0.3","amount":"1000.00","deliverable":"report","kind":"milestone"}],"vat_rate":"0.22"}}"#;
    assert_eq!(
        terms_sha256(&payment_terms, None).to_string(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
}
