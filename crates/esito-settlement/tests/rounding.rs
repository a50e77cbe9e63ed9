//! Rounding to the cent, half away from zero, once per line, worked by hand: the half cent in
//! both directions, a figure a binary float gets wrong, and a total that is the sum of rounded
//! lines rather than the rounding of a sum.

mod common;

use common::*;
use esito_settlement::{LineKind, Restatement};

#[test]
fn half_a_cent_rounds_up_to_a_cent() {
    // 1 × 0.005 = 0.005: exactly half a cent, away from zero → 0.01.
    let document = settled(&with_value(
        input(terms(vec![rate_card("units", "0.005")])),
        "units",
        "1",
    ));
    let line = line(&document, LineKind::RateCard, "units");
    assert_eq!(line.amount.to_string(), "0.01");
    assert_eq!(line.arithmetic, "1 × 0.005 = 0.005 → 0.01");
}

#[test]
fn just_under_half_a_cent_rounds_down() {
    // 1 × 0.004999 = 0.004999 < 0.005 → 0.00.
    let document = settled(&with_value(
        input(terms(vec![rate_card("units", "0.004999")])),
        "units",
        "1",
    ));
    assert_eq!(amounts(&document), ["0.00"]);
}

#[test]
fn a_figure_a_binary_float_gets_wrong_rounds_as_decimal_arithmetic_says() {
    // 2.675 is 2.67499999… as a binary float, which would round to 2.67; in decimal it is
    // exactly half way and rounds away from zero to 2.68.
    let document = settled(&with_value(
        input(terms(vec![rate_card("units", "2.675")])),
        "units",
        "1",
    ));
    assert_eq!(amounts(&document), ["2.68"]);
}

#[test]
fn a_negative_half_cent_rounds_away_from_zero_too() {
    // A restatement recovers 0.05 (recomputed 0.00, settled 0.05) in a period that earns nothing:
    // total −0.05. VAT at 10 %: 0.1 × −0.05 = −0.005 → −0.01 (away from zero, not up to 0.00).
    let mut terms = terms(vec![rate_card("units", "1")]);
    terms.vat_rate = Some(rate("0.1"));
    let mut input = with_value(input(terms), "units", "0");
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.restatements = vec![Restatement {
        period: "2024-Q1".into(),
        recomputed_net: money("0.00"),
        settled_net: money("0.05"),
    }];
    let document = settled(&input);
    assert_eq!(document.total.to_string(), "-0.05");
    let vat = document.vat.expect("the contract has VAT");
    assert_eq!(vat.amount.to_string(), "-0.01");
    assert_eq!(vat.arithmetic, "0.1 × -0.05 = -0.005 → -0.01");
    assert_eq!(document.total_with_vat.to_string(), "-0.06");
}

#[test]
fn vat_on_a_half_cent_rounds_up() {
    // 0.25 × 22 % = 0.055 → 0.06.
    let mut terms = terms(vec![rate_card("units", "0.25")]);
    terms.vat_rate = Some(rate("0.22"));
    let document = settled(&with_value(input(terms), "units", "1"));
    let vat = document.vat.expect("the contract has VAT");
    assert_eq!(vat.amount.to_string(), "0.06");
    assert_eq!(document.total_with_vat.to_string(), "0.31");
}

#[test]
fn the_total_is_the_sum_of_rounded_lines_not_the_rounding_of_a_sum() {
    // Three lines of 0.005 each round to 0.01 each: the total is 0.03. Summing first would give
    // 0.015 → 0.02; the lines the reader sees would then not add up to the total.
    let rules = vec![
        rate_card("a", "0.005"),
        rate_card("b", "0.005"),
        rate_card("c", "0.005"),
    ];
    let input = with_value(
        with_value(with_value(input(terms(rules)), "a", "1"), "b", "1"),
        "c",
        "1",
    );
    let document = settled(&input);
    assert_eq!(amounts(&document), ["0.01", "0.01", "0.01"]);
    assert_eq!(document.total.to_string(), "0.03");
}
