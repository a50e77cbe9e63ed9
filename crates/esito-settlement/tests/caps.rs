//! Every kind of cap, worked by hand: a line's cap, a beneficiary's count and amount over the
//! contract, the period cap, the contract cap; and restatements, which come after the period
//! cap and before the contract cap.

mod common;

use common::*;
use esito_settlement::{settle, IndicatorValue, LineKind, Restatement, SettlementError};

#[test]
fn a_rate_card_is_capped_at_the_lines_cap() {
    // Cuneo's tokens: 12 euro each, at most 2,400 a quarter. 250 × 12 = 3000 > 2400.
    let rules = vec![rate_card_with(
        "tokens_redeemed",
        "12",
        None,
        Some("2400.00"),
        None,
        None,
    )];
    let document = settled(&with_value(input(terms(rules)), "tokens_redeemed", "250"));
    let line = line(&document, LineKind::RateCard, "tokens_redeemed");
    assert_eq!(line.amount.to_string(), "2400.00");
    assert_eq!(
        line.arithmetic,
        "250 × 12.00 = 3000.00; at most the cap 2400.00: 2400.00"
    );
}

fn tenant_milestones(
    beneficiaries: Vec<esito_settlement::BeneficiaryCount>,
    value: &str,
) -> IndicatorValue {
    IndicatorValue {
        value: Some(d(value)),
        beneficiaries,
    }
}

#[test]
fn a_beneficiary_counts_at_most_max_per_beneficiary_times_over_the_contract() {
    // Cuneo's tenant milestones: 250 euro each, at most 4 per household, at most 1,000 euro.
    // hh-a: 3 this quarter, 2 counted before: 4 − 2 = 2 left → counts 2 → 500;
    //       cap 1000 − 500 paid before = 500 left → 500.
    // hh-b: 1 this quarter, none before → counts 1 → 250; cap 1000 left → 250.
    // hh-c: 2 this quarter, 4 counted before: nothing left → counts 0 → 0.
    // Value 3 + 1 + 2 = 6 outcomes, 3 counted: 500 + 250 + 0 = 750.
    let rules = vec![rate_card_with(
        "tenant_milestones",
        "250",
        None,
        None,
        Some(4),
        Some("1000.00"),
    )];
    let mut input = input(terms(rules));
    input.indicators.insert(
        "tenant_milestones".into(),
        tenant_milestones(
            vec![
                beneficiary("hh-c", 2, 4, "1000"),
                beneficiary("hh-a", 3, 2, "500"),
                beneficiary("hh-b", 1, 0, "0"),
            ],
            "6",
        ),
    );
    let document = settled(&input);
    let line = line(&document, LineKind::RateCard, "tenant_milestones");
    assert_eq!(line.amount.to_string(), "750.00");
    assert_eq!(
        line.arithmetic,
        "3 of 6 outcomes count, over 3 beneficiaries (see each): Σ = 750.00"
    );
    // Beneficiaries are listed by pseudonym, whatever order they came in.
    let parts: Vec<(&str, u32, String)> = line
        .beneficiaries
        .iter()
        .map(|p| {
            (
                p.beneficiary.as_str(),
                p.counted,
                p.amount.normalize().to_string(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            ("hh-a", 2, "500".to_owned()),
            ("hh-b", 1, "250".to_owned()),
            ("hh-c", 0, "0".to_owned())
        ]
    );
    assert_eq!(
        line.beneficiaries[0].arithmetic,
        "3 in the period, at most 4 − 2 counted before = 2 left: counts 2; 2 × 250.00 = 500.00; \
         cap 1000.00 − 500.00 before = 500.00 left: 500.00"
    );
}

#[test]
fn a_beneficiary_is_paid_at_most_cap_per_beneficiary_over_the_contract() {
    // 250 euro an outcome, at most 600 euro a beneficiary, no limit on counts.
    // b-1: 3 × 250 = 750, none paid before: min(750, 600) = 600.
    // b-2: 2 × 250 = 500, 400 paid before: min(500, 600 − 400 = 200) = 200.
    // Line: 600 + 200 = 800.
    let rules = vec![rate_card_with(
        "milestones",
        "250",
        None,
        None,
        None,
        Some("600.00"),
    )];
    let mut input = input(terms(rules));
    input.indicators.insert(
        "milestones".into(),
        tenant_milestones(
            vec![
                beneficiary("b-1", 3, 0, "0"),
                beneficiary("b-2", 2, 2, "400"),
            ],
            "5",
        ),
    );
    let document = settled(&input);
    assert_eq!(
        line(&document, LineKind::RateCard, "milestones")
            .amount
            .to_string(),
        "800.00"
    );
}

#[test]
fn prato_pays_an_exit_once_per_household() {
    // 4,000 euro per exit to the private market, once per household: a household that already
    // counted an exit counts nothing more. 2 exits, one of them a household's second: 4000.
    let rules = vec![rate_card_with(
        "exits_to_private_market",
        "4000",
        None,
        None,
        Some(1),
        Some("4000.00"),
    )];
    let mut input = input(terms(rules));
    input.indicators.insert(
        "exits_to_private_market".into(),
        tenant_milestones(
            vec![
                beneficiary("pr-01", 1, 1, "4000"),
                beneficiary("pr-02", 1, 0, "0"),
            ],
            "2",
        ),
    );
    assert_eq!(amounts(&settled(&input)), ["4000.00"]);
}

#[test]
fn per_beneficiary_amounts_are_not_rounded_before_the_line() {
    // A rate of 33.335 euro, three beneficiaries with one outcome each: 3 × 33.335 = 100.005,
    // rounded once → 100.01 (rounding each part first would give 3 × 33.34 = 100.02).
    let rules = vec![rate_card_with(
        "outcomes",
        "33.335",
        None,
        None,
        Some(5),
        None,
    )];
    let mut input = input(terms(rules));
    input.indicators.insert(
        "outcomes".into(),
        tenant_milestones(
            vec![
                beneficiary("a", 1, 0, "0"),
                beneficiary("b", 1, 0, "0"),
                beneficiary("c", 1, 0, "0"),
            ],
            "3",
        ),
    );
    let document = settled(&input);
    let line = line(&document, LineKind::RateCard, "outcomes");
    assert_eq!(line.amount.to_string(), "100.01");
    assert_eq!(
        line.arithmetic,
        "3 of 3 outcomes count, over 3 beneficiaries (see each): Σ = 100.005 → 100.01"
    );
}

#[test]
fn a_per_beneficiary_limit_without_per_beneficiary_counts_is_refused() {
    let rules = vec![rate_card_with(
        "tenant_milestones",
        "250",
        None,
        None,
        Some(4),
        None,
    )];
    let input = with_value(input(terms(rules)), "tenant_milestones", "2");
    assert_eq!(
        settle(&input),
        Err(SettlementError::BeneficiaryCountsMissing {
            indicator: "tenant_milestones".into(),
            value: d("2"),
        })
    );
}

#[test]
fn per_beneficiary_counts_that_do_not_add_up_to_the_value_are_refused() {
    let rules = vec![rate_card_with(
        "tenant_milestones",
        "250",
        None,
        None,
        Some(4),
        None,
    )];
    let mut input = input(terms(rules));
    input.indicators.insert(
        "tenant_milestones".into(),
        tenant_milestones(vec![beneficiary("a", 1, 0, "0")], "2"),
    );
    assert_eq!(
        settle(&input),
        Err(SettlementError::BeneficiaryCountsDisagreeWithValue {
            indicator: "tenant_milestones".into(),
            value: d("2"),
            sum: 1,
        })
    );
}

/// Cuneo's rules with values that earn 15,600 euro: 7200 + 2400 + 3000 + 3000.
fn cuneo_earning_15600() -> esito_settlement::SettlementInput {
    let rules = vec![
        // 20 ÷ 15 = 1.333333 → capped at 1.2: 6000 × 1.2 = 7200.
        target("clients_reached", "15", "0.5", "6000.00", "1.2"),
        // 250 × 12 = 3000 → the line's cap: 2400.
        rate_card_with("tokens_redeemed", "12", None, Some("2400.00"), None, None),
        // 0.95 ÷ 0.9 = 1.055556 → capped at 1: 3000.
        target("flat_occupancy", "0.9", "0.6", "3000.00", "1"),
        // 12 × 250 = 3000.
        rate_card("rent_paid_on_time", "250"),
    ];
    let mut terms = terms(rules);
    terms.period_cap = Some(money("15000.00"));
    terms.contract_cap = Some(money("90000.00"));
    let input = with_value(input(terms), "clients_reached", "20");
    let input = with_value(input, "tokens_redeemed", "250");
    let input = with_value(input, "flat_occupancy", "0.95");
    with_value(input, "rent_paid_on_time", "12")
}

#[test]
fn a_binding_period_cap_adds_one_line_that_brings_the_total_down_to_it() {
    // 15600 > 15000: one line of 15000 − 15600 = −600; the four lines stay as computed.
    let document = settled(&cuneo_earning_15600());
    assert_eq!(
        amounts(&document),
        ["7200.00", "2400.00", "3000.00", "3000.00", "-600.00"]
    );
    let cap = line(&document, LineKind::PeriodCap, "period_cap");
    assert_eq!(
        cap.arithmetic,
        "the lines add up to 15600.00 > period cap 15000.00: 15000.00 − 15600.00 = -600.00"
    );
    assert_eq!(document.period_net.to_string(), "15000.00");
    assert_eq!(document.total.to_string(), "15000.00");
}

#[test]
fn a_period_cap_that_does_not_bind_adds_no_line() {
    let mut input = cuneo_earning_15600();
    input.payment_terms.period_cap = Some(money("15600.00"));
    let document = settled(&input);
    assert_eq!(document.lines.len(), 4);
    assert_eq!(document.total.to_string(), "15600.00");
}

#[test]
fn a_binding_contract_cap_brings_the_total_down_to_what_is_left_of_it() {
    // 90,000 appropriated, 87,000 paid by earlier settlements: 3,000 left.
    // The period earns 15,600, the period cap takes it to 15,000, the contract cap to 3,000:
    // 3000 − 15000 = −12000.
    let mut input = cuneo_earning_15600();
    input.history.paid_to_date = money("87000.00");
    let document = settled(&input);
    assert_eq!(
        amounts(&document),
        [
            "7200.00",
            "2400.00",
            "3000.00",
            "3000.00",
            "-600.00",
            "-12000.00"
        ]
    );
    assert_eq!(
        line(&document, LineKind::ContractCap, "contract_cap").arithmetic,
        "left of the contract cap: 90000.00 − 87000.00 paid by earlier settlements = 3000.00; \
         the total 15000.00 > 3000.00: 3000.00 − 15000.00 = -12000.00"
    );
    assert_eq!(document.period_net.to_string(), "15000.00");
    assert_eq!(document.total.to_string(), "3000.00");
}

#[test]
fn a_contract_cap_already_spent_leaves_nothing_to_pay() {
    // Earlier settlements paid 90,000 of 90,000: nothing is left, the whole 15,000 goes.
    let mut input = cuneo_earning_15600();
    input.history.paid_to_date = money("90000.00");
    let document = settled(&input);
    assert_eq!(
        line(&document, LineKind::ContractCap, "contract_cap")
            .amount
            .to_string(),
        "-15000.00"
    );
    assert_eq!(document.total.to_string(), "0.00");
}

#[test]
fn a_restatement_adds_the_difference_of_each_changed_earlier_period() {
    // A late event raised 2024-Q1 from 1,800 to 1,950: +150. 2023-Q4 is recomputed unchanged
    // and adds no line. This period (2024-Q2) earns 10 × 150 = 1500. Total 1650.
    let mut input = with_value(input(terms(vec![rate_card("exits", "150")])), "exits", "10");
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.restatements = vec![
        Restatement {
            period: "2024-Q1".into(),
            recomputed_net: money("1950.00"),
            settled_net: money("1800.00"),
        },
        Restatement {
            period: "2023-Q4".into(),
            recomputed_net: money("900.00"),
            settled_net: money("900.00"),
        },
    ];
    let document = settled(&input);
    assert_eq!(amounts(&document), ["1500.00", "150.00"]);
    let restated = line(&document, LineKind::Restatement, "2024-Q1");
    assert_eq!(
        restated.arithmetic,
        "2024-Q1 recomputed 1950.00 − settled 1800.00 = 150.00"
    );
    assert_eq!(document.period_net.to_string(), "1500.00");
    assert_eq!(document.total.to_string(), "1650.00");
}

#[test]
fn a_restatement_that_lowers_an_earlier_period_is_a_negative_line() {
    // 2024-Q1 recomputed at 1,500 instead of 1,800: −300. This period earns 1,500: total 1,200.
    let mut input = with_value(input(terms(vec![rate_card("exits", "150")])), "exits", "10");
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.restatements = vec![Restatement {
        period: "2024-Q1".into(),
        recomputed_net: money("1500.00"),
        settled_net: money("1800.00"),
    }];
    let document = settled(&input);
    assert_eq!(amounts(&document), ["1500.00", "-300.00"]);
    assert_eq!(document.total.to_string(), "1200.00");
}

#[test]
fn restatements_escape_the_period_cap_but_not_the_contract_cap() {
    // This period earns 14 × 150 = 2100 against a period cap of 2000: −100, period net 2000.
    // 2024-Q1 is restated by +150 after the period cap: 2150.
    // The contract cap of 10,000 with 7,900 paid leaves 2,100: 2100 − 2150 = −50. Total 2100.
    let mut terms = terms(vec![rate_card("exits", "150")]);
    terms.period_cap = Some(money("2000.00"));
    terms.contract_cap = Some(money("10000.00"));
    let mut input = with_value(input(terms), "exits", "14");
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.paid_to_date = money("7900.00");
    input.history.restatements = vec![Restatement {
        period: "2024-Q1".into(),
        recomputed_net: money("1950.00"),
        settled_net: money("1800.00"),
    }];
    let document = settled(&input);
    let kinds: Vec<LineKind> = document.lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            LineKind::RateCard,
            LineKind::PeriodCap,
            LineKind::Restatement,
            LineKind::ContractCap
        ]
    );
    assert_eq!(
        amounts(&document),
        ["2100.00", "-100.00", "150.00", "-50.00"]
    );
    assert_eq!(document.period_net.to_string(), "2000.00");
    assert_eq!(document.total.to_string(), "2100.00");
}

#[test]
fn restatements_are_listed_in_the_order_of_their_periods() {
    let mut input = with_value(input(terms(vec![rate_card("exits", "150")])), "exits", "0");
    input.period = period("2024-Q3", "2024-07-01", "2024-10-01");
    input.history.restatements = vec![
        Restatement {
            period: "2024-Q2".into(),
            recomputed_net: money("10.00"),
            settled_net: money("0.00"),
        },
        Restatement {
            period: "2024-Q1".into(),
            recomputed_net: money("20.00"),
            settled_net: money("0.00"),
        },
    ];
    let subjects: Vec<String> = settled(&input)
        .lines
        .iter()
        .map(|l| l.subject.clone())
        .collect();
    assert_eq!(subjects, ["exits", "2024-Q1", "2024-Q2"]);
}

#[test]
fn a_period_cannot_restate_itself_or_an_earlier_period_twice() {
    let mut input = with_value(input(terms(vec![rate_card("exits", "150")])), "exits", "1");
    let restatement = Restatement {
        period: "2024-Q1".into(),
        recomputed_net: money("1.00"),
        settled_net: money("0.00"),
    };
    input.history.restatements = vec![restatement.clone()];
    assert_eq!(
        settle(&input),
        Err(SettlementError::RestatementOfTheSettledPeriod {
            period: "2024-Q1".into()
        })
    );
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.restatements = vec![restatement.clone(), restatement];
    assert_eq!(
        settle(&input),
        Err(SettlementError::RestatementListedTwice {
            period: "2024-Q1".into()
        })
    );
}
