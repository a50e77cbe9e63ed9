//! The funder under mitigated risk, worked by hand: the tier chosen at exact boundaries, ACT/365
//! over a leap year, the waterfall, unpaid return carried forward, and the guarantee.

mod common;

use common::*;
use esito_domain::DomainError;
use esito_settlement::{
    settle, FunderSection, FunderState, Restatement, SettlementError, SettlementInput,
};

/// One funder of 100,000 euro disbursed on 2024-01-01, with one targeted indicator `score`
/// (target `score_target`, weight 1); the contract pays 100 euro per unit of `units`.
fn one_indicator_funder(score: &str, score_target: &str) -> SettlementInput {
    let mut input = with_value(input(terms(vec![rate_card("units", "100")])), "units", "0");
    input = with_value(input, "score", score);
    input.funder = funder(
        funder_terms(
            vec![disbursement("2024-01-01", "100000.00")],
            vec![targeted("score", score_target, "1")],
            "0.6",
            "0.5",
        ),
        FunderState::first(),
    );
    input
}

fn section(input: &SettlementInput) -> FunderSection {
    settled(input).funder.expect("the contract has a funder")
}

fn rate_at(score: &str, score_target: &str) -> (String, String) {
    let achievement = section(&one_indicator_funder(score, score_target)).achievement;
    (
        achievement.index.normalize().to_string(),
        achievement.annual_rate.to_string(),
    )
}

#[test]
fn the_tier_is_the_highest_whose_min_index_is_not_above_the_index() {
    // Tiers: 1 % from 0, 2.5 % from 0.5, 4 % from 0.8.
    // 5 ÷ 10 = 0.5 exactly: the 0.5 tier applies (not above the index).
    assert_eq!(rate_at("5", "10"), ("0.5".into(), "0.025".into()));
    // 8 ÷ 10 = 0.8 exactly: the 0.8 tier.
    assert_eq!(rate_at("8", "10"), ("0.8".into(), "0.04".into()));
    // 4.99999 ÷ 10 = 0.499999: still the floor.
    assert_eq!(rate_at("4.99999", "10"), ("0.499999".into(), "0.01".into()));
    // 0 ÷ 10 = 0: the floor tier at 0.
    assert_eq!(rate_at("0", "10"), ("0".into(), "0.01".into()));
    // 30 ÷ 10 = 3, counted at most 1: the top tier.
    assert_eq!(rate_at("30", "10"), ("1".into(), "0.04".into()));
}

#[test]
fn the_index_is_rounded_to_six_places_before_the_tier_is_chosen() {
    // 0.999999 ÷ 2 = 0.4999995 → round6, half away from zero → 0.5: the 2.5 % tier.
    assert_eq!(rate_at("0.999999", "2"), ("0.5".into(), "0.025".into()));
    // 0.999998 ÷ 2 = 0.499999 → stays below 0.5: the floor.
    assert_eq!(rate_at("0.999998", "2"), ("0.499999".into(), "0.01".into()));
}

#[test]
fn the_index_is_the_weighted_mean_of_each_indicator_achieved_at_most_once() {
    // Cuneo: clients 14 of 15 and occupancy 0.85 of 0.9, half each.
    // 0.5 × 14/15 + 0.5 × 0.85/0.9 = 0.4666666… + 0.4722222… = 0.9388888… → 0.938889 ≥ 0.8: 4 %.
    let mut input = with_value(input(terms(vec![rate_card("units", "100")])), "units", "0");
    input = with_value(input, "clients_reached", "14");
    input = with_value(input, "flat_occupancy", "0.85");
    input.funder = funder(
        funder_terms(
            vec![disbursement("2024-01-01", "100000.00")],
            vec![
                targeted("clients_reached", "15", "0.5"),
                targeted("flat_occupancy", "0.9", "0.5"),
            ],
            "0.6",
            "0.5",
        ),
        FunderState::first(),
    );
    let achievement = section(&input).achievement;
    assert_eq!(achievement.index.to_string(), "0.938889");
    assert_eq!(achievement.annual_rate.to_string(), "0.04");
    assert_eq!(
        achievement.arithmetic,
        "index = round6(0.5 × ≈ 0.933333 + 0.5 × ≈ 0.944444) = 0.938889; the highest tier not \
         above it starts at 0.8: annual rate 0.04"
    );
}

#[test]
fn return_accrues_act_365_so_a_leap_year_earns_366_days() {
    // 100,000 at 4 % over 2024, a leap year: [2024-01-01, 2025-01-01) is 366 days.
    // 100000 × 0.04 × 366 ÷ 365 = 1464000 ÷ 365 = 4010.9589… → 4010.96.
    let mut input = one_indicator_funder("8", "10");
    input.period = period("2024", "2024-01-01", "2025-01-01");
    let accrual = section(&input).accrual;
    assert_eq!(accrual.segments.len(), 1);
    assert_eq!(accrual.segments[0].days, 366);
    assert_eq!(accrual.amount.to_string(), "4010.96");
    assert_eq!(
        accrual.arithmetic,
        "0.04 × Σ principal × days 36600000.00 ÷ 365 = ≈ 4010.958904 → 4010.96"
    );
}

#[test]
fn a_quarter_holding_the_29th_of_february_has_91_days() {
    // [2024-01-01, 2024-04-01): 31 + 29 + 31 = 91 days.
    // 100000 × 0.04 × 91 ÷ 365 = 364000 ÷ 365 = 997.2602… → 997.26.
    let accrual = section(&one_indicator_funder("8", "10")).accrual;
    assert_eq!(accrual.segments[0].days, 91);
    assert_eq!(accrual.amount.to_string(), "997.26");
}

/// Cuneo's funder: 40,000 on 2023-07-03 and 20,000 on 2024-01-08; the contract pays
/// `payment_units × 100` in 2024-Q1 and the achievement index is 0.6 (2.5 %).
fn cuneo(payment_units: &str) -> SettlementInput {
    let mut input = with_value(
        input(terms(vec![rate_card("units", "100")])),
        "units",
        payment_units,
    );
    // 9 ÷ 15 = 0.6 and 0.54 ÷ 0.9 = 0.6: index 0.6, the 2.5 % tier.
    input = with_value(input, "clients_reached", "9");
    input = with_value(input, "flat_occupancy", "0.54");
    input.funder = funder(
        funder_terms(
            vec![
                disbursement("2023-07-03", "40000.00"),
                disbursement("2024-01-08", "20000.00"),
            ],
            vec![
                targeted("clients_reached", "15", "0.5"),
                targeted("flat_occupancy", "0.9", "0.5"),
            ],
            "0.6",
            "0.5",
        ),
        FunderState::first(),
    );
    input
}

#[test]
fn the_first_settlement_accrues_each_disbursement_from_its_own_date() {
    // 40,000 from 2023-07-03 to 2024-04-01: 29 + 31 + 30 + 31 + 30 + 31 + 31 + 29 + 31 = 273 days.
    // 20,000 from 2024-01-08 to 2024-04-01: 24 + 29 + 31 = 84 days.
    // Σ principal × days = 40000 × 273 + 20000 × 84 = 10,920,000 + 1,680,000 = 12,600,000.
    // 0.025 × 12,600,000 ÷ 365 = 315,000 ÷ 365 = 863.0136… → 863.01 (one rounding).
    let accrual = section(&cuneo("100")).accrual;
    let days: Vec<u32> = accrual.segments.iter().map(|s| s.days).collect();
    assert_eq!(days, [273, 84]);
    assert_eq!(
        accrual.segments[0].arithmetic,
        "40000.00 × 0.025 × 273 ÷ 365 = ≈ 747.945205"
    );
    assert_eq!(accrual.amount.to_string(), "863.01");
}

#[test]
fn the_waterfall_pays_return_first_then_principal_within_the_funders_share() {
    // Payment 100 × 100 = 10,000; the funder takes at most 60 %: 6,000.
    // Return due: 0 unpaid before + 863.01 accrued = 863.01 → all of it to return.
    // Principal: min(60,000 outstanding, 6000 − 863.01 = 5136.99) = 5136.99.
    // Operator: 10000 − 863.01 − 5136.99 = 4000.00.
    let funder = section(&cuneo("100"));
    let waterfall = &funder.waterfall;
    assert_eq!(waterfall.payment.to_string(), "10000.00");
    assert_eq!(waterfall.funder_limit.to_string(), "6000.00");
    assert_eq!(waterfall.to_return.to_string(), "863.01");
    assert_eq!(waterfall.to_principal.to_string(), "5136.99");
    assert_eq!(waterfall.to_operator.to_string(), "4000.00");
    assert_eq!(
        waterfall.arithmetic,
        [
            "payment: the net total 10000.00",
            "funder's limit: 0.6 × 10000.00 = 6000.00",
            "return due: 0.00 unpaid before + 863.01 accrued = 863.01; to return: min(863.01, 6000.00) = 863.01",
            "to principal: min(60000.00 outstanding, 6000.00 − 863.01 = 5136.99) = 5136.99",
            "to the operator: 10000.00 − 863.01 − 5136.99 = 4000.00",
        ]
    );
    // Statement: 60,000 disbursed, 5,136.99 repaid, 54,863.01 outstanding; return 863.01
    // accrued and paid. Average rate: round6(863.01 × 365 ÷ 12,600,000) = round6(0.02499989…)
    // = 0.025.
    let statement = &funder.statement;
    assert_eq!(statement.principal_disbursed.to_string(), "60000.00");
    assert_eq!(statement.principal_repaid.to_string(), "5136.99");
    assert_eq!(statement.principal_outstanding.to_string(), "54863.01");
    assert_eq!(statement.return_accrued.to_string(), "863.01");
    assert_eq!(statement.return_paid.to_string(), "863.01");
    assert_eq!(statement.return_unpaid.to_string(), "0.00");
    assert_eq!(statement.accrued_through, date("2024-04-01"));
    assert_eq!(
        statement.average_annual_rate.normalize().to_string(),
        "0.025"
    );
    assert!(funder.guarantee.is_none());
}

#[test]
fn return_the_payment_cannot_cover_is_carried_forward_and_paid_first_next_time() {
    // 2024-Q1: payment 1,000, limit 60 % = 600. Return due 863.01: 600 paid, 263.01 unpaid.
    // Nothing is left for principal; the operator gets 400.
    let q1 = section(&cuneo("10"));
    assert_eq!(q1.waterfall.to_return.to_string(), "600.00");
    assert_eq!(q1.waterfall.to_principal.to_string(), "0.00");
    assert_eq!(q1.waterfall.to_operator.to_string(), "400.00");
    assert_eq!(q1.statement.return_unpaid.to_string(), "263.01");

    // 2024-Q2, from the statement above (written out by hand): 60,000 outstanding for
    // [2024-04-01, 2024-07-01) = 30 + 31 + 30 = 91 days; index 1 → 4 %.
    // 60000 × 91 = 5,460,000; 0.04 × 5,460,000 ÷ 365 = 218,400 ÷ 365 = 598.356… → 598.36.
    // Return due: 263.01 + 598.36 = 861.37. Payment 5,000, limit 3,000: return 861.37,
    // principal 3000 − 861.37 = 2138.63, operator 5000 − 3000 = 2000.
    let mut q2 = cuneo("50");
    q2.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    q2 = with_value(q2, "clients_reached", "15");
    q2 = with_value(q2, "flat_occupancy", "0.9");
    if let Some(funder) = q2.funder.as_mut() {
        funder.state = FunderState {
            principal_repaid: money("0.00"),
            return_accrued: money("863.01"),
            return_paid: money("600.00"),
            principal_days: d("12600000.00"),
            accrued_through: Some(date("2024-04-01")),
        };
    }
    let q2 = section(&q2);
    assert_eq!(q2.accrual.amount.to_string(), "598.36");
    assert_eq!(q2.waterfall.return_due.to_string(), "861.37");
    assert_eq!(q2.waterfall.to_return.to_string(), "861.37");
    assert_eq!(q2.waterfall.to_principal.to_string(), "2138.63");
    assert_eq!(q2.waterfall.to_operator.to_string(), "2000.00");
    // Statement: accrued 863.01 + 598.36 = 1461.37, paid 600 + 861.37 = 1461.37, none unpaid;
    // 57,861.37 outstanding; euro-days 12,600,000 + 5,460,000 = 18,060,000;
    // average 1461.37 × 365 ÷ 18,060,000 = 0.0295348… → 0.029535.
    let statement = &q2.statement;
    assert_eq!(statement.return_accrued.to_string(), "1461.37");
    assert_eq!(statement.return_paid.to_string(), "1461.37");
    assert_eq!(statement.return_unpaid.to_string(), "0.00");
    assert_eq!(statement.principal_outstanding.to_string(), "57861.37");
    assert_eq!(statement.principal_days.normalize().to_string(), "18060000");
    assert_eq!(statement.average_annual_rate.to_string(), "0.029535");
}

#[test]
fn the_guarantee_covers_its_share_of_the_principal_outstanding_at_the_final_settlement() {
    // 2024-Q4 [2024-10-01, 2025-01-01), 92 days; 60,000 disbursed, 50,000 repaid: 10,000
    // outstanding; the index is 0 (nothing achieved): 1 %.
    // Accrual: 10000 × 0.01 × 92 ÷ 365 = 9200 ÷ 365 = 25.2054… → 25.21.
    // Payment 20 × 100 = 2,000, limit 60 % = 1,200: return 25.21, principal 1174.79, operator 800.
    // Outstanding after: 10000 − 1174.79 = 8825.21. Guarantee 50 %: 4412.605 → 4412.61 (half a
    // cent, away from zero); not recovered 8825.21 − 4412.61 = 4412.60.
    let mut input = cuneo("20");
    input.period = period("2024-Q4", "2024-10-01", "2025-01-01");
    input = with_value(input, "clients_reached", "0");
    input = with_value(input, "flat_occupancy", "0");
    input.final_settlement = true;
    if let Some(funder) = input.funder.as_mut() {
        funder.state = FunderState {
            principal_repaid: money("50000.00"),
            return_accrued: money("1900.00"),
            return_paid: money("1900.00"),
            principal_days: d("20000000.00"),
            accrued_through: Some(date("2024-10-01")),
        };
    }
    let funder = section(&input);
    assert_eq!(funder.accrual.amount.to_string(), "25.21");
    assert_eq!(funder.waterfall.to_principal.to_string(), "1174.79");
    assert_eq!(funder.waterfall.to_operator.to_string(), "800.00");
    let guarantee = funder
        .guarantee
        .expect("the final settlement calls the guarantee");
    assert_eq!(guarantee.principal_outstanding.to_string(), "8825.21");
    assert_eq!(guarantee.covered.to_string(), "4412.61");
    assert_eq!(guarantee.not_recovered.to_string(), "4412.60");
    assert_eq!(
        guarantee.arithmetic,
        "0.5 × 8825.21 outstanding = 4412.605 → 4412.61; not recovered: 8825.21 − 4412.61 = 4412.60"
    );
}

#[test]
fn a_negative_payment_gives_the_funder_nothing_and_its_return_is_carried_forward() {
    // The period earns nothing and a restatement recovers 500: payment −500. The funder's
    // limit is 0; the 863.01 accrued stays unpaid.
    let mut input = cuneo("0");
    input.history.restatements = vec![Restatement {
        period: "2023-Q4".into(),
        recomputed_net: money("0.00"),
        settled_net: money("500.00"),
    }];
    let funder = section(&input);
    assert_eq!(funder.waterfall.payment.to_string(), "-500.00");
    assert_eq!(funder.waterfall.funder_limit.to_string(), "0.00");
    assert_eq!(funder.waterfall.to_return.to_string(), "0.00");
    assert_eq!(funder.waterfall.to_principal.to_string(), "0.00");
    assert_eq!(funder.waterfall.to_operator.to_string(), "-500.00");
    assert_eq!(funder.statement.return_unpaid.to_string(), "863.01");
}

#[test]
fn the_waterfall_splits_only_what_the_payers_cover() {
    // 10,000 owed by one payer whose cap leaves 7,500: payment 7,500, limit 0.6 × 7500 = 4500.
    let mut input = cuneo("100");
    input.payment_terms.payers = vec![payer("Comune", "1", Some("7500.00"))];
    let funder = section(&input);
    assert_eq!(funder.waterfall.payment.to_string(), "7500.00");
    assert_eq!(
        funder.waterfall.arithmetic[0],
        "payment: the net total 10000.00 − 2500.00 uncovered = 7500.00"
    );
    assert_eq!(funder.waterfall.funder_limit.to_string(), "4500.00");
}

#[test]
fn principal_not_yet_disbursed_neither_accrues_nor_is_repaid() {
    // Prato: 90,000 disbursed on 2024-01-15; 2023-H2 ends on 2024-01-01, before it.
    let mut input = cuneo("100");
    input.period = period("2023-H2", "2023-07-01", "2024-01-01");
    if let Some(funder) = input.funder.as_mut() {
        funder.terms.disbursements = vec![disbursement("2024-01-15", "90000.00")];
    }
    let funder = section(&input);
    assert!(funder.accrual.segments.is_empty());
    assert_eq!(funder.accrual.amount.to_string(), "0.00");
    assert_eq!(funder.waterfall.to_principal.to_string(), "0.00");
    assert_eq!(funder.waterfall.to_operator.to_string(), "10000.00");
    assert_eq!(funder.statement.principal_disbursed.to_string(), "0.00");
}

#[test]
fn a_funder_state_that_contradicts_the_terms_is_refused() {
    let with_state = |state: FunderState| {
        let mut input = cuneo("1");
        if let Some(funder) = input.funder.as_mut() {
            funder.state = state;
        }
        settle(&input)
    };
    let first = FunderState::first();
    assert_eq!(
        with_state(FunderState {
            principal_repaid: money("1.00"),
            ..first.clone()
        }),
        Err(SettlementError::PrincipalRepaidExceedsDisbursed {
            repaid: money("1.00"),
            disbursed: d("0"),
            before: date("2023-07-03"),
        })
    );
    assert_eq!(
        with_state(FunderState {
            return_paid: money("1.00"),
            ..first.clone()
        }),
        Err(SettlementError::ReturnPaidExceedsAccrued {
            paid: money("1.00"),
            accrued: money("0.00"),
        })
    );
    assert_eq!(
        with_state(FunderState {
            accrued_through: Some(date("2024-04-01")),
            ..first
        }),
        Err(SettlementError::InterestAccruedPastPeriod {
            period: "2024-Q1".into(),
            accrued_through: date("2024-04-01"),
            end_on: date("2024-04-01"),
        })
    );
}

#[test]
fn return_tiers_without_a_floor_are_refused() {
    let mut input = cuneo("1");
    if let Some(funder) = input.funder.as_mut() {
        funder.terms.return_tiers = vec![tier("0.5", "0.025")];
    }
    assert_eq!(
        settle(&input),
        Err(SettlementError::FunderTermsInvalid(
            DomainError::ReturnTiersWithoutFloor
        ))
    );
}
