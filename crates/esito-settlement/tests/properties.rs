//! Rules that must hold for every input: the payers' parts add up to the total, no cap is ever
//! exceeded, the total is the sum of the lines, and the waterfall never gives the funder more
//! than its share or more than it is owed.

mod common;

use common::*;
use esito_settlement::{settle, IndicatorValue, LineKind, Restatement, SettlementInput};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// An amount of euro from a number of cents.
fn euros(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn money_of(cents: i64) -> esito_domain::Money {
    esito_domain::Money::new(euros(cents)).expect("cents are never negative here")
}

/// Shares in millionths that add up to exactly one, from positive weights.
fn shares_from(weights: &[u32]) -> Vec<Decimal> {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let mut millionths: Vec<u64> = weights
        .iter()
        .map(|w| u64::from(*w) * 1_000_000 / total)
        .collect();
    let given: u64 = millionths.iter().sum();
    if let Some(last) = millionths.last_mut() {
        *last += 1_000_000 - given;
    }
    millionths
        .into_iter()
        .map(|m| Decimal::new(i64::try_from(m).expect("at most a million millionths"), 6))
        .collect()
}

/// A period that earns nothing and restates an earlier one from `settled` to `recomputed`
/// cents, so the total is any signed amount.
fn with_total(recomputed: i64, settled: i64) -> SettlementInput {
    let mut input = with_value(input(terms(vec![rate_card("units", "1")])), "units", "0");
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.restatements = vec![Restatement {
        period: "2024-Q1".into(),
        recomputed_net: money_of(recomputed),
        settled_net: money_of(settled),
    }];
    input
}

/// A billion euro, in cents: far above any contract, far below the range of a `Decimal`.
const CENTS_MAX: i64 = 100_000_000_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_payers_parts_add_up_to_the_total_and_respect_their_caps(
        recomputed in 0..CENTS_MAX,
        settled_cents in 0..CENTS_MAX,
        payers in prop::collection::vec(
            (1u32..1000, prop::option::of(0..CENTS_MAX), 0..CENTS_MAX),
            1..10,
        ),
    ) {
        let mut input = with_total(recomputed, settled_cents);
        let weights: Vec<u32> = payers.iter().map(|(w, _, _)| *w).collect();
        for (index, ((_, cap, before), share)) in payers.iter().zip(shares_from(&weights)).enumerate() {
            let name = format!("payer-{index}");
            input.payment_terms.payers.push(esito_domain::terms::PayerShare {
                name: name.clone(),
                share: esito_domain::Share::new(share).expect("a share"),
                cap: cap.map(money_of),
            });
            input.history.payers_paid_to_date.insert(name, money_of(*before));
        }
        let document = settle(&input).expect("a whole input");
        let allocated: Decimal = document.payers.iter().map(|p| p.allocated.value()).sum();
        prop_assert_eq!(allocated, document.total.value());
        let uncovered: Decimal = document.payers.iter().map(|p| p.uncovered.value()).sum();
        prop_assert_eq!(uncovered, document.uncovered.value());
        for part in &document.payers {
            prop_assert!((part.allocated.value() - part.exact).abs() < Decimal::new(1, 2));
            prop_assert_eq!(part.owed.value() + part.uncovered.value(), part.allocated.value());
            prop_assert!(part.uncovered.value() >= Decimal::ZERO);
            if let Some(left) = part.cap_left {
                prop_assert!(part.owed.value() <= left.value());
            }
        }
    }

    #[test]
    fn no_cap_is_ever_exceeded_and_the_total_is_the_sum_of_the_lines(
        rules in prop::collection::vec(
            (0i64..100_000, 0i64..1_000_000, prop::option::of(0..CENTS_MAX / 1000)),
            1..5,
        ),
        period_cap in prop::option::of(0..CENTS_MAX / 100),
        contract_cap in prop::option::of((0..CENTS_MAX / 10, 0..CENTS_MAX / 10)),
    ) {
        let mut payment_rules = Vec::new();
        let mut input = input(terms(vec![rate_card("placeholder", "0")]));
        for (index, (value_cents, rate_cents, cap)) in rules.iter().enumerate() {
            let indicator = format!("indicator-{index}");
            payment_rules.push(esito_domain::PaymentRule::RateCard {
                indicator: indicator.clone(),
                rate: esito_domain::Rate::new(euros(*rate_cents)).expect("a rate"),
                threshold: None,
                cap: cap.map(money_of),
                max_per_beneficiary: None,
                cap_per_beneficiary: None,
            });
            input.indicators.insert(indicator, IndicatorValue::of(euros(*value_cents)));
        }
        input.payment_terms.rules = payment_rules;
        input.payment_terms.period_cap = period_cap.map(money_of);
        if let Some((cap, paid)) = contract_cap {
            input.payment_terms.contract_cap = Some(money_of(cap));
            input.history.paid_to_date = money_of(paid);
        }
        let document = settle(&input).expect("a whole input");
        for (line, (_, _, cap)) in document.lines.iter().zip(&rules) {
            prop_assert_eq!(line.kind, LineKind::RateCard);
            prop_assert!(line.amount.value() >= Decimal::ZERO);
            if let Some(cap) = cap {
                prop_assert!(line.amount.value() <= euros(*cap));
            }
        }
        if let Some(cap) = period_cap {
            prop_assert!(document.period_net.value() <= euros(cap));
        }
        if let Some((cap, paid)) = contract_cap {
            prop_assert!(document.total.value() <= euros((cap - paid).max(0)));
        }
        let sum: Decimal = document.lines.iter().map(|l| l.amount.value()).sum();
        prop_assert_eq!(sum, document.total.value());
        let adjustments = document.lines.iter().filter(|l| l.amount.is_negative()).count();
        prop_assert!(adjustments <= 2, "one line per binding cap at most");
    }

    #[test]
    fn a_beneficiary_never_counts_or_earns_beyond_its_limits(
        beneficiaries in prop::collection::vec((0u32..10, 0u32..10, 0i64..200_000), 0..8),
        max in 1u32..6,
        cap_cents in 0i64..150_000,
    ) {
        let rule = rate_card_with("outcomes", "250", None, None, Some(max), Some(&format!("{}", euros(cap_cents))));
        let counts: Vec<_> = beneficiaries
            .iter()
            .enumerate()
            .map(|(i, (count, before, amount_before))| esito_settlement::BeneficiaryCount {
                beneficiary: format!("b-{i}"),
                count: *count,
                counted_before: *before,
                amount_before: euros(*amount_before),
            })
            .collect();
        let value: u32 = beneficiaries.iter().map(|(count, _, _)| count).sum();
        let mut input = input(terms(vec![rule]));
        input.indicators.insert(
            "outcomes".into(),
            IndicatorValue { value: Some(Decimal::from(value)), beneficiaries: counts.clone() },
        );
        let document = settle(&input).expect("a whole input");
        let line = &document.lines[0];
        for part in &line.beneficiaries {
            prop_assert!(part.counted <= part.count);
            prop_assert!(part.counted <= max.saturating_sub(part.counted_before));
            prop_assert!(part.amount <= (euros(cap_cents) - part.amount_before).max(Decimal::ZERO));
            prop_assert!(part.amount >= Decimal::ZERO);
        }
        // The order the beneficiaries come in changes nothing.
        let mut reversed = input.clone();
        if let Some(given) = reversed.indicators.get_mut("outcomes") {
            given.beneficiaries.reverse();
        }
        prop_assert_eq!(settle(&reversed).expect("a whole input"), document);
    }

    #[test]
    fn the_waterfall_gives_the_funder_at_most_its_share_and_what_it_is_owed(
        units in 0i64..10_000,
        repaid_cents in 0i64..6_000_000,
        accrued_cents in 0i64..500_000,
        paid_share in 0u32..=100,
        max_share in 0u32..=100,
        restated_down in 0i64..1_000_000,
    ) {
        let paid_cents = accrued_cents * i64::from(paid_share) / 100;
        let mut input = with_value(input(terms(vec![rate_card("units", "100")])), "units", &units.to_string());
        input = with_value(input, "score", "5");
        input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
        input.history.restatements = vec![Restatement {
            period: "2024-Q1".into(),
            recomputed_net: money("0.00"),
            settled_net: money_of(restated_down),
        }];
        input.funder = funder(
            funder_terms(
                vec![disbursement("2024-01-01", "60000.00")],
                vec![targeted("score", "10", "1")],
                &euros(i64::from(max_share)).to_string(),
                "0.5",
            ),
            esito_settlement::FunderState {
                principal_repaid: money_of(repaid_cents),
                return_accrued: money_of(accrued_cents),
                return_paid: money_of(paid_cents),
                principal_days: Decimal::ZERO,
                accrued_through: Some(date("2024-04-01")),
            },
        );
        let document = settle(&input).expect("a whole input");
        let funder = document.funder.expect("a funder");
        let w = &funder.waterfall;
        prop_assert!(w.to_return.value() + w.to_principal.value() <= w.funder_limit.value());
        prop_assert!(w.to_return.value() <= w.return_due.value());
        prop_assert!(w.to_principal.value() <= w.principal_outstanding.value());
        prop_assert!(w.to_return.value() >= Decimal::ZERO && w.to_principal.value() >= Decimal::ZERO);
        prop_assert_eq!(
            w.to_return.value() + w.to_principal.value() + w.to_operator.value(),
            w.payment.value()
        );
        let s = &funder.statement;
        prop_assert_eq!(s.return_unpaid.value(), s.return_accrued.value() - s.return_paid.value());
        prop_assert!(s.return_unpaid.value() >= Decimal::ZERO);
        prop_assert!(s.principal_outstanding.value() >= Decimal::ZERO);
    }
}
