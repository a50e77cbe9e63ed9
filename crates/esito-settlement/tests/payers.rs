//! Several payers, worked by hand: the largest-remainder method, ties, a capped payer whose
//! excess is reported as uncovered, and a negative total.

mod common;

use common::*;
use esito_settlement::{settle, PayerPart, Restatement, SettlementError, SettlementInput};

/// A contract whose one rule pays `total` (one unit at that rate), shared by `payers`.
fn shared(total: &str, payers: Vec<esito_domain::terms::PayerShare>) -> SettlementInput {
    let mut terms = terms(vec![rate_card("outcomes", total)]);
    terms.payers = payers;
    with_value(input(terms), "outcomes", "1")
}

fn owed(parts: &[PayerPart]) -> Vec<(String, String)> {
    parts
        .iter()
        .map(|p| (p.name.clone(), p.owed.to_string()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(n, a)| ((*n).to_owned(), (*a).to_owned()))
        .collect()
}

#[test]
fn one_hundred_euro_in_thirds_gives_the_odd_cent_to_the_largest_remainder() {
    // Shares 0.333333 + 0.333333 + 0.333334 = 1.
    // Exact parts: 33.3333, 33.3333, 33.3334. Rounded down: 33.33 each, 99.99 in all.
    // One cent is left; the remainders are 0.33, 0.33 and 0.34 of a cent: the third payer's is
    // the largest, so it gets the cent: 33.33 + 33.33 + 33.34 = 100.00.
    let input = shared(
        "100",
        vec![
            payer("Comune", "0.333333", None),
            payer("Regione", "0.333333", None),
            payer("Fondazione", "0.333334", None),
        ],
    );
    let document = settled(&input);
    assert_eq!(
        owed(&document.payers),
        pairs(&[
            ("Comune", "33.33"),
            ("Regione", "33.33"),
            ("Fondazione", "33.34")
        ])
    );
    assert_eq!(
        document.payers[2].arithmetic,
        "0.333334 × 100.00 = 33.3334 → 33.34 (largest remainder)"
    );
    assert_eq!(document.uncovered.to_string(), "0.00");
}

#[test]
fn equal_remainders_give_the_cent_to_the_payer_listed_first() {
    // 100.01 in halves: 50.005 each; rounded down 50.00 + 50.00 = 100.00; one cent left and
    // the remainders are equal (half a cent each): the payer listed first in the terms gets it.
    let input = shared(
        "100.01",
        vec![payer("Comune", "0.5", None), payer("Regione", "0.5", None)],
    );
    assert_eq!(
        owed(&settled(&input).payers),
        pairs(&[("Comune", "50.01"), ("Regione", "50.00")])
    );
    // Listed the other way round, the other payer gets it.
    let input = shared(
        "100.01",
        vec![payer("Regione", "0.5", None), payer("Comune", "0.5", None)],
    );
    assert_eq!(
        owed(&settled(&input).payers),
        pairs(&[("Regione", "50.01"), ("Comune", "50.00")])
    );
}

#[test]
fn three_cents_in_four_quarters_go_to_the_first_three_payers() {
    // 0.03 in quarters: 0.0075 each, all rounded down to 0.00; three cents left, four equal
    // remainders: the first three payers in the terms get one each.
    let input = shared(
        "0.03",
        vec![
            payer("A", "0.25", None),
            payer("B", "0.25", None),
            payer("C", "0.25", None),
            payer("D", "0.25", None),
        ],
    );
    assert_eq!(
        owed(&settled(&input).payers),
        pairs(&[("A", "0.01"), ("B", "0.01"), ("C", "0.01"), ("D", "0.00")])
    );
}

#[test]
fn a_payer_owes_at_most_what_is_left_of_its_cap_and_the_rest_is_uncovered() {
    // 9,000 euro: Regione 50 % = 4500, Comune 30 % = 2700, Fondazione 20 % = 1800.
    // Regione's cap is 10,000 and it owed 7,000 before: 3,000 left, so it owes 3,000 and
    // 4500 − 3000 = 1500 is uncovered. The others owe their parts: nothing moves to them.
    let mut input = shared(
        "9000",
        vec![
            payer("Regione", "0.5", Some("10000.00")),
            payer("Comune", "0.3", Some("50000.00")),
            payer("Fondazione", "0.2", None),
        ],
    );
    input
        .history
        .payers_paid_to_date
        .insert("Regione".into(), money("7000.00"));
    input
        .history
        .payers_paid_to_date
        .insert("Comune".into(), money("2700.00"));
    let document = settled(&input);
    assert_eq!(
        owed(&document.payers),
        pairs(&[
            ("Regione", "3000.00"),
            ("Comune", "2700.00"),
            ("Fondazione", "1800.00")
        ])
    );
    let regione = &document.payers[0];
    assert_eq!(regione.allocated.to_string(), "4500.00");
    assert_eq!(
        regione.cap_left.map(|a| a.to_string()).as_deref(),
        Some("3000.00")
    );
    assert_eq!(regione.uncovered.to_string(), "1500.00");
    assert_eq!(
        regione.arithmetic,
        "0.5 × 9000.00 = 4500.00; \
         cap 10000.00 − 7000.00 owed before = 3000.00 left: owes 3000.00; \
         4500.00 − 3000.00 = 1500.00 uncovered"
    );
    assert_eq!(document.uncovered.to_string(), "1500.00");
    // The total stays what the lines say; the uncovered part is reported, not hidden.
    assert_eq!(document.total.to_string(), "9000.00");
}

#[test]
fn a_negative_total_is_split_on_its_magnitude() {
    // A restatement recovers 100 euro (recomputed 0, settled 100) and the period earns nothing:
    // −100.00 in thirds is −33.33, −33.33, −33.34 (the same cents as +100.00, negated).
    let mut terms = terms(vec![rate_card("outcomes", "1")]);
    terms.payers = vec![
        payer("Comune", "0.333333", None),
        payer("Regione", "0.333333", Some("1.00")),
        payer("Fondazione", "0.333334", None),
    ];
    let mut input = with_value(input(terms), "outcomes", "0");
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.restatements = vec![Restatement {
        period: "2024-Q1".into(),
        recomputed_net: money("0.00"),
        settled_net: money("100.00"),
    }];
    let document = settled(&input);
    assert_eq!(document.total.to_string(), "-100.00");
    // A cap limits what a payer owes, never what it is owed back.
    assert_eq!(
        owed(&document.payers),
        pairs(&[
            ("Comune", "-33.33"),
            ("Regione", "-33.33"),
            ("Fondazione", "-33.34")
        ])
    );
    assert_eq!(document.uncovered.to_string(), "0.00");
}

#[test]
fn without_several_payers_the_document_lists_none() {
    let document = settled(&with_value(
        input(terms(vec![rate_card("outcomes", "5")])),
        "outcomes",
        "2",
    ));
    assert!(document.payers.is_empty());
    assert_eq!(document.uncovered.to_string(), "0.00");
}

#[test]
fn what_earlier_settlements_paid_must_name_a_payer_of_the_terms() {
    let mut input = shared("100", vec![payer("Comune", "1", None)]);
    input
        .history
        .payers_paid_to_date
        .insert("Provincia".into(), money("1.00"));
    assert_eq!(
        settle(&input),
        Err(SettlementError::UnknownPayer {
            payer: "Provincia".into()
        })
    );
}

#[test]
fn a_payer_that_owed_nothing_before_has_its_whole_cap_left() {
    // 100 euro to one payer whose cap is 60: it owes 60, and 100 − 60 = 40 is uncovered.
    let input = shared("100", vec![payer("Comune", "1", Some("60.00"))]);
    let document = settled(&input);
    assert_eq!(
        document.payers[0].arithmetic,
        "1 × 100.00 = 100.00; cap 60.00 − 0.00 owed before = 60.00 left: owes 60.00; \
         100.00 − 60.00 = 40.00 uncovered"
    );
    assert_eq!(document.uncovered.to_string(), "40.00");
}
