//! Cremona, KCity: three phases of 10,000 + 10,000 + 8,000 euro plus 22 % VAT, 30 % invoiced
//! on signing (outside settlements) and 70 % on acceptance, settled quarter by quarter.

mod common;

use common::*;
use esito_settlement::{LineKind, SettlementInput};

const PHASE_1: &str = "Documento di indirizzo strategico";
const PHASE_2: &str =
    "Documento di indirizzo per la organizzazione e gestione dei Servizi Abitativi Sociali";
const PHASE_3: &str = "Documento di indirizzo per il potenziamento dei Servizi abitativi di Ambito";

/// The terms of the offer: three milestones, 28,000 euro in all, 22 % VAT; each phase's facts
/// as (accepted on, advance paid).
fn cremona(
    label: &str,
    start_on: &str,
    end_on: &str,
    paid_to_date: &str,
    phases: [(Option<&str>, &str); 3],
) -> SettlementInput {
    let mut terms = terms(vec![
        milestone(PHASE_1, "10000.00", "0.3"),
        milestone(PHASE_2, "10000.00", "0.3"),
        milestone(PHASE_3, "8000.00", "0.3"),
    ]);
    terms.contract_cap = Some(money("28000.00"));
    terms.vat_rate = Some(rate("0.22"));
    let mut input = input(terms);
    input.contract_id = esito_domain::ContractId::parse("cremona-kcity").expect("a valid id");
    input.period = period(label, start_on, end_on);
    input.history.paid_to_date = money(paid_to_date);
    for (deliverable, (accepted_on, advance)) in [PHASE_1, PHASE_2, PHASE_3].into_iter().zip(phases)
    {
        input
            .milestones
            .insert(deliverable.to_owned(), accepted(accepted_on, advance));
    }
    input
}

/// 2023-Q4: phase 1 accepted on 2023-10-27 (advance 30 % of 10,000 = 3,000 paid in July);
/// phase 2's advance paid in December, not accepted; phase 3 not signed.
fn quarter_2023_q4() -> SettlementInput {
    cremona(
        "2023-Q4",
        "2023-10-01",
        "2024-01-01",
        "0.00",
        [
            (Some("2023-10-27"), "3000.00"),
            (None, "3000.00"),
            (None, "0.00"),
        ],
    )
}

/// 2024-Q1: phase 2 accepted on 2024-03-08; 7,000 paid by the settlement of 2023-Q4.
fn quarter_2024_q1() -> SettlementInput {
    cremona(
        "2024-Q1",
        "2024-01-01",
        "2024-04-01",
        "7000.00",
        [
            (Some("2023-10-27"), "3000.00"),
            (Some("2024-03-08"), "3000.00"),
            (None, "0.00"),
        ],
    )
}

/// 2024-Q3: phase 3 accepted on 2024-07-12 (advance 30 % of 8,000 = 2,400 paid in May);
/// 14,000 paid by earlier settlements.
fn quarter_2024_q3() -> SettlementInput {
    cremona(
        "2024-Q3",
        "2024-07-01",
        "2024-10-01",
        "14000.00",
        [
            (Some("2023-10-27"), "3000.00"),
            (Some("2024-03-08"), "3000.00"),
            (Some("2024-07-12"), "2400.00"),
        ],
    )
}

#[test]
fn phase_one_accepted_in_2023_q4_pays_seventy_percent_plus_vat() {
    // Accepted on 2023-10-27: 10000 − 3000 = 7000. VAT 0.22 × 7000 = 1540. With VAT 8540.
    let document = settled(&quarter_2023_q4());
    assert_eq!(amounts(&document), ["7000.00", "0.00", "0.00"]);
    assert_eq!(document.total.to_string(), "7000.00");
    let vat = document.vat.as_ref().expect("Cremona has VAT");
    assert_eq!(vat.amount.to_string(), "1540.00");
    assert_eq!(vat.arithmetic, "0.22 × 7000.00 = 1540.00");
    assert_eq!(document.total_with_vat.to_string(), "8540.00");
}

#[test]
fn phase_two_accepted_in_2024_q1_pays_its_balance_and_phase_one_nothing_more() {
    // Phase 1 was accepted in 2023-Q4: nothing now. Phase 2 accepted on 2024-03-08:
    // 10000 − 3000 = 7000; VAT 1540; 8540 with VAT. 21,000 of 28,000 left: the cap holds.
    let document = settled(&quarter_2024_q1());
    assert_eq!(amounts(&document), ["0.00", "7000.00", "0.00"]);
    assert_eq!(document.total_with_vat.to_string(), "8540.00");
}

#[test]
fn phase_three_accepted_in_2024_q3_pays_seventy_percent_of_eight_thousand() {
    // 8000 − 2400 = 5600; VAT 0.22 × 5600 = 1232; with VAT 6832. 14,000 left: the cap holds.
    let document = settled(&quarter_2024_q3());
    assert_eq!(
        line(&document, LineKind::Milestone, PHASE_3).arithmetic,
        "accepted on 2024-07-12: 8000.00 − advance 2400.00 = 5600.00"
    );
    assert_eq!(document.total.to_string(), "5600.00");
    assert_eq!(
        document
            .vat
            .as_ref()
            .map(|v| v.amount.to_string())
            .as_deref(),
        Some("1232.00")
    );
    assert_eq!(document.total_with_vat.to_string(), "6832.00");
    assert!(document.lines.iter().all(|l| l.kind == LineKind::Milestone));
}

#[test]
fn the_three_balances_and_the_three_advances_make_the_offers_total() {
    // Advances 3000 + 3000 + 2400 = 8400; balances 7000 + 7000 + 5600 = 19600;
    // 8400 + 19600 = 28000 net, the offer's total. The balances' VAT: 1540 + 1540 + 1232.
    let documents = [quarter_2023_q4(), quarter_2024_q1(), quarter_2024_q3()].map(|i| settled(&i));
    let balances: Vec<String> = documents.iter().map(|d| d.total.to_string()).collect();
    assert_eq!(balances, ["7000.00", "7000.00", "5600.00"]);
    let vat: Vec<String> = documents
        .iter()
        .filter_map(|d| d.vat.as_ref().map(|v| v.amount.to_string()))
        .collect();
    assert_eq!(vat, ["1540.00", "1540.00", "1232.00"]);
}

/// 2023-Q4 under split payment (art. 17-ter DPR 633/72): the Comune pays KCity the net and the
/// VAT to the Treasury.
#[test]
fn under_split_payment_kcity_is_paid_the_net_and_the_treasury_the_vat() {
    // Phase 1 accepted on 2023-10-27: 10000.00 − 30 % advance 3000.00 = 7000.00 net to KCity;
    // 22 % of 7000.00 = 1540.00 VAT to the Treasury; charged to the budget 8540.00.
    let mut input = quarter_2023_q4();
    input.payment_terms.vat = esito_domain::VatRegime::SplitPayment;
    let document = settled(&input);
    assert_eq!(document.vat_regime, esito_domain::VatRegime::SplitPayment);
    let payable: Vec<(esito_domain::Payee, String)> = document
        .payable
        .iter()
        .map(|line| (line.payee, line.amount.to_string()))
        .collect();
    assert_eq!(
        payable,
        [
            (esito_domain::Payee::Operator, "7000.00".to_owned()),
            (esito_domain::Payee::Treasury, "1540.00".to_owned()),
        ]
    );
    assert_eq!(document.total_with_vat.to_string(), "8540.00");
    let page = esito_settlement::render_html(&document);
    assert!(page.contains("IVA da versare all&#39;Erario / VAT payable to the Treasury"));
    assert!(page.contains("Imponibile da pagare al soggetto gestore / Net payable to the operator"));
}

#[test]
fn under_ordinary_vat_kcity_is_paid_the_total_with_vat_in_one_line() {
    let document = settled(&quarter_2023_q4());
    assert_eq!(document.vat_regime, esito_domain::VatRegime::Ordinary);
    assert_eq!(document.payable.len(), 1);
    assert_eq!(document.payable[0].payee, esito_domain::Payee::Operator);
    assert_eq!(document.payable[0].amount.to_string(), "8540.00");
    assert!(!esito_settlement::render_html(&document).contains("Erario"));
}
