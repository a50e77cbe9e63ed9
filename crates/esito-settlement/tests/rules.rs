//! Each payment rule of docs/design.md §5, worked by hand: rate card, target, savings share,
//! milestone, and an indicator without a value.

mod common;

use common::*;
use esito_settlement::{IndicatorValue, LineKind};

#[test]
fn a_rate_card_pays_the_rate_for_each_unit() {
    // 12 units at 150 euro each: 12 × 150 = 1800, exactly.
    let input = with_value(input(terms(vec![rate_card("exits", "150")])), "exits", "12");
    let document = settled(&input);
    let line = line(&document, LineKind::RateCard, "exits");
    assert_eq!(line.amount.to_string(), "1800.00");
    assert_eq!(line.arithmetic, "12 × 150.00 = 1800.00");
    assert_eq!(document.total.to_string(), "1800.00");
}

#[test]
fn a_rate_card_pays_nothing_below_its_threshold_and_everything_at_it() {
    let rules = vec![rate_card_with("exits", "150", Some("10"), None, None, None)];
    // 8 < 10: nothing.
    let below = settled(&with_value(input(terms(rules.clone())), "exits", "8"));
    let line_below = line(&below, LineKind::RateCard, "exits");
    assert_eq!(line_below.amount.to_string(), "0.00");
    assert_eq!(line_below.arithmetic, "8 < threshold 10: 0.00");
    // 10 ≥ 10: the threshold is met, and every unit is paid: 10 × 150 = 1500.
    let at = settled(&with_value(input(terms(rules)), "exits", "10"));
    let line_at = line(&at, LineKind::RateCard, "exits");
    assert_eq!(line_at.amount.to_string(), "1500.00");
    assert_eq!(
        line_at.arithmetic,
        "10 ≥ threshold 10; 10 × 150.00 = 1500.00"
    );
}

#[test]
fn a_target_pays_the_amount_times_the_ratio_rounded_to_six_places_first() {
    // Cuneo's clients reached: target 15, threshold 0.5, 6,000 euro, at most 120 %.
    // 14 ÷ 15 = 0.9333333… → r = 0.933333; 6000 × 0.933333 = 5599.998 → 5600.00.
    // (Without rounding r first it would be 6000 × 14 ÷ 15 = 5600 too, but by another road:
    // the figure the auditor checks is r.)
    let rules = vec![target("clients_reached", "15", "0.5", "6000.00", "1.2")];
    let document = settled(&with_value(input(terms(rules)), "clients_reached", "14"));
    let line = line(&document, LineKind::Target, "clients_reached");
    assert_eq!(line.amount.to_string(), "5600.00");
    assert_eq!(
        line.arithmetic,
        "r = round6(14 ÷ 15) = 0.933333 ≥ threshold 0.5; 6000.00 × min(0.933333, 1.2) = 5599.998 → 5600.00"
    );
}

#[test]
fn a_target_is_capped_at_its_cap_ratio() {
    // 20 ÷ 15 = 1.333333; min(1.333333, 1.2) = 1.2; 6000 × 1.2 = 7200.
    let rules = vec![target("clients_reached", "15", "0.5", "6000.00", "1.2")];
    let document = settled(&with_value(input(terms(rules)), "clients_reached", "20"));
    assert_eq!(
        line(&document, LineKind::Target, "clients_reached")
            .amount
            .to_string(),
        "7200.00"
    );
}

#[test]
fn a_target_pays_nothing_below_its_threshold_and_pays_at_exactly_the_threshold() {
    let rules = vec![target("clients_reached", "15", "0.5", "6000.00", "1.2")];
    // 7 ÷ 15 = 0.4666666… → 0.466667 < 0.5: nothing.
    let below = settled(&with_value(
        input(terms(rules.clone())),
        "clients_reached",
        "7",
    ));
    let line_below = line(&below, LineKind::Target, "clients_reached");
    assert_eq!(line_below.amount.to_string(), "0.00");
    assert_eq!(
        line_below.arithmetic,
        "r = round6(7 ÷ 15) = 0.466667 < threshold 0.5: 0.00"
    );
    // 7.5 ÷ 15 = 0.5 exactly, not below the threshold: 6000 × 0.5 = 3000.
    let at = settled(&with_value(input(terms(rules)), "clients_reached", "7.5"));
    assert_eq!(
        line(&at, LineKind::Target, "clients_reached")
            .amount
            .to_string(),
        "3000.00"
    );
}

#[test]
fn a_target_on_a_ratio_indicator_uses_the_rounded_ratio() {
    // Cuneo's flats: occupancy 0.85 against 0.9: 0.85 ÷ 0.9 = 0.9444444… → 0.944444;
    // 3000 × 0.944444 = 2833.332 → 2833.33.
    let rules = vec![target("flat_occupancy", "0.9", "0.6", "3000.00", "1")];
    let document = settled(&with_value(input(terms(rules)), "flat_occupancy", "0.85"));
    assert_eq!(
        line(&document, LineKind::Target, "flat_occupancy")
            .amount
            .to_string(),
        "2833.33"
    );
}

#[test]
fn a_savings_share_pays_its_share_of_the_savings() {
    // Torino: half of 12,345.67 euro saved = 6172.835 → 6172.84 (half a cent, away from zero).
    let rules = vec![savings_share("hotel_nights_savings", "0.5", None)];
    let document = settled(&with_value(
        input(terms(rules)),
        "hotel_nights_savings",
        "12345.67",
    ));
    let line = line(&document, LineKind::SavingsShare, "hotel_nights_savings");
    assert_eq!(line.amount.to_string(), "6172.84");
    assert_eq!(line.arithmetic, "0.5 × 12345.67 = 6172.835 → 6172.84");
}

#[test]
fn a_savings_share_is_capped_at_the_lines_cap() {
    // Half of 12,345.67 = 6172.835, more than the cap of 5,000: the line pays 5000.00.
    let rules = vec![savings_share(
        "hotel_nights_savings",
        "0.5",
        Some("5000.00"),
    )];
    let document = settled(&with_value(
        input(terms(rules)),
        "hotel_nights_savings",
        "12345.67",
    ));
    let line = line(&document, LineKind::SavingsShare, "hotel_nights_savings");
    assert_eq!(line.amount.to_string(), "5000.00");
    assert_eq!(
        line.arithmetic,
        "0.5 × 12345.67 = 6172.835; at most the cap 5000.00: 5000.00"
    );
}

#[test]
fn a_milestone_pays_its_amount_less_the_advance_when_accepted_in_the_period() {
    // 10,000 euro, 30 % advance paid on signing (3,000): 10000 − 3000 = 7000 on acceptance.
    let mut input = input(terms(vec![milestone("phase-2", "10000.00", "0.3")]));
    input
        .milestones
        .insert("phase-2".into(), accepted(Some("2024-03-08"), "3000.00"));
    let document = settled(&input);
    let line = line(&document, LineKind::Milestone, "phase-2");
    assert_eq!(line.amount.to_string(), "7000.00");
    assert_eq!(
        line.arithmetic,
        "accepted on 2024-03-08: 10000.00 − advance 3000.00 = 7000.00"
    );
}

#[test]
fn a_milestone_accepted_in_another_period_or_not_at_all_pays_nothing() {
    let mut input = input(terms(vec![
        milestone("phase-1", "10000.00", "0.3"),
        milestone("phase-3", "8000.00", "0.3"),
    ]));
    // Accepted on 2023-10-27: before 2024-Q1, so paid in 2023-Q4, not now.
    input
        .milestones
        .insert("phase-1".into(), accepted(Some("2023-10-27"), "3000.00"));
    input
        .milestones
        .insert("phase-3".into(), accepted(None, "0.00"));
    // Accepted on the first day after the period belongs to the next one.
    let document = settled(&input);
    assert_eq!(amounts(&document), ["0.00", "0.00"]);
    assert_eq!(
        line(&document, LineKind::Milestone, "phase-1").arithmetic,
        "accepted on 2023-10-27, outside the period: 0.00"
    );
    assert_eq!(
        line(&document, LineKind::Milestone, "phase-3").arithmetic,
        "not accepted: 0.00"
    );
    let mut next_day = input.clone();
    next_day
        .milestones
        .insert("phase-3".into(), accepted(Some("2024-04-01"), "2400.00"));
    assert_eq!(amounts(&settled(&next_day)), ["0.00", "0.00"]);
}

#[test]
fn an_indicator_without_a_value_pays_nothing_and_says_so() {
    // A ratio whose denominator was 0 has no value (docs/design.md §4).
    let mut input = input(terms(vec![target(
        "flat_occupancy",
        "0.9",
        "0.6",
        "3000.00",
        "1",
    )]));
    input.indicators.insert(
        "flat_occupancy".into(),
        IndicatorValue {
            value: None,
            beneficiaries: Vec::new(),
        },
    );
    let document = settled(&input);
    let line = line(&document, LineKind::Target, "flat_occupancy");
    assert_eq!(line.amount.to_string(), "0.00");
    assert_eq!(line.arithmetic, "no value for the period: 0.00");
}

#[test]
fn every_line_lists_the_figures_it_used() {
    let rules = vec![target("clients_reached", "15", "0.5", "6000.00", "1.2")];
    let document = settled(&with_value(input(terms(rules)), "clients_reached", "14"));
    let figures: Vec<(String, String)> = line(&document, LineKind::Target, "clients_reached")
        .figures
        .iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    let expected = [
        ("value", "14"),
        ("target", "15"),
        ("ratio", "0.933333"),
        ("threshold", "0.5"),
        ("amount", "6000.00"),
        ("cap_ratio", "1.2"),
    ]
    .map(|(n, v)| (n.to_owned(), v.to_owned()));
    assert_eq!(figures, expected);
}

#[test]
fn lines_follow_the_order_of_the_terms() {
    // Cuneo's four rules, in the order the contract lists them.
    let rules = vec![
        target("clients_reached", "15", "0.5", "6000.00", "1.2"),
        rate_card_with("tokens_redeemed", "12", None, Some("2400.00"), None, None),
        target("flat_occupancy", "0.9", "0.6", "3000.00", "1"),
    ];
    let input = with_value(
        with_value(
            with_value(input(terms(rules)), "clients_reached", "15"),
            "tokens_redeemed",
            "89",
        ),
        "flat_occupancy",
        "0.9",
    );
    let document = settled(&input);
    // 15 ÷ 15 = 1 → 6000; 89 × 12 = 1068; 0.9 ÷ 0.9 = 1 → 3000. Total 10068.
    let subjects: Vec<&str> = document.lines.iter().map(|l| l.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["clients_reached", "tokens_redeemed", "flat_occupancy"]
    );
    assert_eq!(amounts(&document), ["6000.00", "1068.00", "3000.00"]);
    assert_eq!(document.total.to_string(), "10068.00");
}
