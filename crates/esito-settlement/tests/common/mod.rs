//! Helpers shared by the settlement tests: values from text, rules with their usual options,
//! and an input for one period with nothing paid before.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use chrono::NaiveDate;
use esito_domain::terms::{Disbursement, PayerShare, ReturnTier, TargetedIndicator};
use esito_domain::{ContractId, FunderTerms, Money, PaymentRule, PaymentTerms, Rate, Share};
use esito_settlement::{
    settle, BeneficiaryCount, FunderInput, FunderState, IndicatorValue, Line, LineKind,
    MilestoneFacts, Period, SettlementDocument, SettlementHistory, SettlementInput,
};
use rust_decimal::Decimal;

pub const ROOT_HASH: &str = "3f5a0c6e9b1d2f4a7c8e0b1d2f3a4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e";

pub fn d(text: &str) -> Decimal {
    text.parse().expect("test decimals are valid")
}
pub fn money(text: &str) -> Money {
    Money::parse(text).expect("test amounts are valid")
}
pub fn rate(text: &str) -> Rate {
    Rate::parse(text).expect("test rates are valid")
}
pub fn share(text: &str) -> Share {
    Share::parse(text).expect("test shares are valid")
}
pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

/// The period `label`, which the test also writes as its dates `[start_on, end_on)`.
pub fn period(label: &str, start_on: &str, end_on: &str) -> Period {
    let period: Period = label.parse().expect("test periods are valid");
    assert_eq!(
        (period.start_on(), period.end_on()),
        (date(start_on), date(end_on)),
        "{label} is not [{start_on}, {end_on})"
    );
    period
}

/// `2024-Q1`: [2024-01-01, 2024-04-01), 91 days (2024 is a leap year).
pub fn q1_2024() -> Period {
    period("2024-Q1", "2024-01-01", "2024-04-01")
}

pub fn rate_card(indicator: &str, rate_text: &str) -> PaymentRule {
    PaymentRule::RateCard {
        indicator: indicator.to_owned(),
        rate: rate(rate_text),
        threshold: None,
        cap: None,
        max_per_beneficiary: None,
        cap_per_beneficiary: None,
    }
}

pub fn rate_card_with(
    indicator: &str,
    rate_text: &str,
    threshold: Option<&str>,
    cap: Option<&str>,
    max_per_beneficiary: Option<u32>,
    cap_per_beneficiary: Option<&str>,
) -> PaymentRule {
    PaymentRule::RateCard {
        indicator: indicator.to_owned(),
        rate: rate(rate_text),
        threshold: threshold.map(rate),
        cap: cap.map(money),
        max_per_beneficiary: max_per_beneficiary.and_then(NonZeroU32::new),
        cap_per_beneficiary: cap_per_beneficiary.map(money),
    }
}

pub fn target(
    indicator: &str,
    target_text: &str,
    threshold: &str,
    amount: &str,
    cap_ratio: &str,
) -> PaymentRule {
    PaymentRule::Target {
        indicator: indicator.to_owned(),
        target: rate(target_text),
        threshold: rate(threshold),
        amount: money(amount),
        cap_ratio: rate(cap_ratio),
    }
}

pub fn savings_share(indicator: &str, share_text: &str, cap: Option<&str>) -> PaymentRule {
    PaymentRule::SavingsShare {
        indicator: indicator.to_owned(),
        share: share(share_text),
        cap: cap.map(money),
    }
}

pub fn milestone(deliverable: &str, amount: &str, advance_share: &str) -> PaymentRule {
    PaymentRule::Milestone {
        deliverable: deliverable.to_owned(),
        amount: money(amount),
        advance_share: share(advance_share),
    }
}

pub fn terms(rules: Vec<PaymentRule>) -> PaymentTerms {
    PaymentTerms {
        currency: Default::default(),
        rules,
        period_cap: None,
        contract_cap: None,
        vat_rate: None,
        vat: Default::default(),
        payers: Vec::new(),
    }
}

pub fn payer(name: &str, share_text: &str, cap: Option<&str>) -> PayerShare {
    PayerShare {
        name: name.to_owned(),
        share: share(share_text),
        cap: cap.map(money),
    }
}

pub fn beneficiary(
    name: &str,
    count: u32,
    counted_before: u32,
    amount_before: &str,
) -> BeneficiaryCount {
    BeneficiaryCount {
        beneficiary: name.to_owned(),
        count,
        counted_before,
        amount_before: d(amount_before),
    }
}

pub fn accepted(on: Option<&str>, advance_paid: &str) -> MilestoneFacts {
    MilestoneFacts {
        accepted_on: on.map(date),
        advance_paid: money(advance_paid),
    }
}

/// The first settlement of `2024-Q1` under `payment_terms`, with no indicator values yet.
pub fn input(payment_terms: PaymentTerms) -> SettlementInput {
    SettlementInput {
        contract_id: ContractId::parse("cuneo-communal-living").expect("a valid id"),
        period: q1_2024(),
        as_of: 1234,
        root_hash: ROOT_HASH.parse().expect("a test hash"),
        payment_terms,
        indicators: BTreeMap::new(),
        milestones: BTreeMap::new(),
        history: SettlementHistory::first(),
        funder: None,
        final_settlement: false,
        procurement: Default::default(),
    }
}

/// Sets an indicator's value.
pub fn with_value(mut input: SettlementInput, indicator: &str, value: &str) -> SettlementInput {
    input
        .indicators
        .insert(indicator.to_owned(), IndicatorValue::of(d(value)));
    input
}

pub fn settled(input: &SettlementInput) -> SettlementDocument {
    settle(input).expect("the input is whole and consistent")
}

/// The one line of a kind about a subject.
pub fn line<'a>(document: &'a SettlementDocument, kind: LineKind, subject: &str) -> &'a Line {
    let found: Vec<&Line> = document
        .lines
        .iter()
        .filter(|line| line.kind == kind && line.subject == subject)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind:?} line about {subject}: {found:#?}"
    );
    found[0]
}

pub fn amounts(document: &SettlementDocument) -> Vec<String> {
    document
        .lines
        .iter()
        .map(|line| line.amount.to_string())
        .collect()
}

pub fn disbursement(on: &str, amount: &str) -> Disbursement {
    Disbursement {
        on: date(on),
        amount: money(amount),
    }
}

pub fn tier(min_index: &str, annual_rate: &str) -> ReturnTier {
    ReturnTier {
        min_index: share(min_index),
        annual_rate: rate(annual_rate),
    }
}

pub fn targeted(indicator: &str, target_text: &str, weight: &str) -> TargetedIndicator {
    TargetedIndicator {
        indicator: indicator.to_owned(),
        target: rate(target_text),
        weight: share(weight),
    }
}

/// Funder terms with Cuneo's shape: tiers 1 % from 0, 2.5 % from 0.5, 4 % from 0.8.
pub fn funder_terms(
    disbursements: Vec<Disbursement>,
    targeted_indicators: Vec<TargetedIndicator>,
    max_funder_share: &str,
    guarantee_share: &str,
) -> FunderTerms {
    FunderTerms {
        disbursements,
        return_tiers: vec![tier("0", "0.01"), tier("0.5", "0.025"), tier("0.8", "0.04")],
        targeted_indicators,
        max_funder_share: share(max_funder_share),
        guarantee_share: share(guarantee_share),
    }
}

pub fn funder(terms: FunderTerms, state: FunderState) -> Option<FunderInput> {
    Some(FunderInput { terms, state })
}
