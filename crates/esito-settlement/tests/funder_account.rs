//! The funder's account over the term is what the settlements' documents state, period by
//! period, worked by hand for two quarters of one funder.

mod common;

use common::*;
use esito_settlement::{funder_account, FunderState, SettlementDocument, SettlementInput};

/// 100,000 euro disbursed on 2024-01-01; `score` 8 of 10 (index 0.8: the 4 % tier); the
/// contract pays 100 euro per unit; the funder takes at most 60 % of a payment, half of the
/// principal guaranteed.
fn quarter(label: &str, start_on: &str, end_on: &str, units: &str) -> SettlementInput {
    let mut input = with_value(
        input(terms(vec![rate_card("units", "100")])),
        "units",
        units,
    );
    input = with_value(input, "score", "8");
    input.period = period(label, start_on, end_on);
    input.funder = funder(
        funder_terms(
            vec![disbursement("2024-01-01", "100000.00")],
            vec![targeted("score", "10", "1")],
            "0.6",
            "0.5",
        ),
        FunderState::first(),
    );
    input
}

/// Q1 (10 units) then Q2 (50 units, the final settlement), Q2 given the state Q1 left.
fn two_quarters() -> (SettlementDocument, SettlementDocument) {
    let q1 = settled(&quarter("2024-Q1", "2024-01-01", "2024-04-01", "10"));
    let statement = &q1.funder.as_ref().expect("a funder").statement;
    let mut input = quarter("2024-Q2", "2024-04-01", "2024-07-01", "50");
    input.final_settlement = true;
    input.funder.as_mut().expect("a funder").state = FunderState {
        principal_repaid: money(&statement.principal_repaid.to_string()),
        return_accrued: money(&statement.return_accrued.to_string()),
        return_paid: money(&statement.return_paid.to_string()),
        principal_days: statement.principal_days,
        accrued_through: Some(statement.accrued_through),
    };
    (q1, settled(&input))
}

#[test]
fn the_account_follows_the_periods_with_the_documents_figures() {
    let (q1, q2) = two_quarters();
    // Given out of order: the account still starts with Q1.
    let account = funder_account(&[q2.clone(), q1.clone()]);
    let rows: Vec<[String; 9]> = account
        .periods
        .iter()
        .map(|row| {
            [
                row.period.to_string(),
                row.principal_disbursed.to_string(),
                row.principal_outstanding.to_string(),
                row.accrued_in_period.to_string(),
                row.return_accrued.to_string(),
                row.return_paid.to_string(),
                row.waterfall.to_principal.to_string(),
                row.waterfall.to_operator.to_string(),
                row.achievement_index.normalize().to_string(),
            ]
        })
        .collect();
    // Q1: 100000 × 0.04 × 91 ÷ 365 = 997.26 accrued; the payment 10 × 100 = 1000.00, the
    // funder's limit 0.6 × 1000 = 600.00, all of it to return; 400.00 to the operator.
    // Q2: 91 days again (30 + 31 + 30): 997.26; return due 397.26 + 997.26 = 1394.52; the
    // payment 5000.00, the limit 3000.00: 1394.52 to return, 1605.48 to principal, 2000.00 to
    // the operator; outstanding 100000 − 1605.48 = 98394.52; accrued 1994.52, paid 1994.52.
    assert_eq!(
        rows,
        [
            [
                "2024-Q1",
                "100000.00",
                "100000.00",
                "997.26",
                "997.26",
                "600.00",
                "0.00",
                "400.00",
                "0.8"
            ]
            .map(String::from),
            [
                "2024-Q2",
                "100000.00",
                "98394.52",
                "997.26",
                "1994.52",
                "1994.52",
                "1605.48",
                "2000.00",
                "0.8"
            ]
            .map(String::from),
        ]
    );
    assert!(!account.periods[0].final_settlement);
    assert!(account.periods[1].final_settlement);
    // The guarantee covers half of 98394.52: 49197.26, and as much is not recovered.
    let guarantee = account.guarantee.expect("the final settlement's guarantee");
    assert_eq!(guarantee.covered.to_string(), "49197.26");
    assert_eq!(guarantee.not_recovered.to_string(), "49197.26");
    assert_eq!(
        Some(&guarantee),
        q2.funder.as_ref().and_then(|f| f.guarantee.as_ref())
    );
}

#[test]
fn every_figure_is_the_documents_own() {
    let (q1, q2) = two_quarters();
    let account = funder_account(&[q1.clone(), q2.clone()]);
    for (row, document) in account.periods.iter().zip([&q1, &q2]) {
        let funder = document.funder.as_ref().expect("a funder");
        assert_eq!(row.waterfall, funder.waterfall);
        assert_eq!(row.return_unpaid, funder.statement.return_unpaid);
        assert_eq!(row.principal_repaid, funder.statement.principal_repaid);
        assert_eq!(row.annual_rate, funder.achievement.annual_rate);
        assert_eq!(row.period_end_on, document.period_end_on);
    }
}

#[test]
fn a_settlement_without_a_funder_adds_no_row_and_no_guarantee_before_the_final_one() {
    let (q1, _) = two_quarters();
    let without = settled(&with_value(
        input(terms(vec![rate_card("units", "100")])),
        "units",
        "3",
    ));
    assert!(without.funder.is_none(), "a contract without a funder");
    let account = funder_account(&[without, q1]);
    assert_eq!(account.periods.len(), 1);
    assert_eq!(account.periods[0].period.to_string(), "2024-Q1");
    assert_eq!(account.guarantee, None);
    assert_eq!(funder_account(&[]).periods, vec![]);
}
