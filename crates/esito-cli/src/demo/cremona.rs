//! Cremona, KCity: strategic advice on the three-year housing plan, in three phases of
//! 10,000, 10,000 and 8,000 euro plus VAT, each invoiced 30 % on signing and 70 % on delivery,
//! each invoice due 30 days after it is received.
//!
//! The phases run one after the other from July 2023 (12 to 15 weeks each, as the offer
//! estimates) to the summer of 2024; one balance is paid late, to show an overdue invoice.

use chrono::NaiveDate;
use esito_domain::events::PeriodKind;
use esito_domain::terms::{ContractChange, PaymentRule, PaymentTerms};
use esito_domain::{Command, Money, Rate, Share, Submission};

use super::{
    contract_id, date, euros, id, local, rate, share, Charter, Parties, Script, EVALUATOR,
};

pub const CONTRACT: &str = "cremona-kcity";

const PARTIES: Parties = Parties {
    payer: "Comune di Cremona",
    funder: None,
    operator: "KCity",
    evaluator: EVALUATOR,
};

/// VAT on consultancy services in Italy ("oltre IVA").
const VAT_RATE: &str = "0.22";
/// The share of each phase invoiced on signing.
const ADVANCE_SHARE: &str = "0.3";

/// A phase of the offer and the dates the demo gives its steps.
struct PhasePlan {
    number: u8,
    title: &'static str,
    /// The document the offer names as the phase's product.
    deliverable: &'static str,
    amount: &'static str,
    /// The phase's engagement is signed and its advance invoiced.
    signed_on: &'static str,
    advance_invoice: &'static str,
    advance_paid_on: &'static str,
    /// The document's versions, each a submission: the last one is accepted.
    submissions: &'static [(&'static str, &'static str)],
    accepted_on: &'static str,
    balance_invoice: &'static str,
    balance_issued_on: &'static str,
    balance_paid_on: &'static str,
}

// Assumption: the offer of 9 May 2023 gives no dates beyond "a partire dal mese di luglio
// 2023" and 12-15 weeks a phase; each phase is signed when the one before it is accepted, its
// deliverable is accepted in one or two weeks, and the balance of phase 2 is paid 19 days late.
const PHASES: [PhasePlan; 3] = [
    PhasePlan {
        number: 1,
        title: "Approfondimento sul sistema di domanda e offerta di servizi abitativi",
        deliverable: "Documento di indirizzo strategico",
        amount: "10000.00",
        signed_on: "2023-07-03",
        advance_invoice: "KC-2023-031",
        advance_paid_on: "2023-07-27",
        submissions: &[(
            "2023-10-16",
            "KCity_Cremona_F1_Documento_indirizzo_strategico_v1.pdf",
        )],
        accepted_on: "2023-10-27",
        balance_invoice: "KC-2023-052",
        balance_issued_on: "2023-10-30",
        balance_paid_on: "2023-11-24",
    },
    PhasePlan {
        number: 2,
        title: "Indirizzi e accompagnamenti tecnici per i Servizi Abitativi Sociali",
        deliverable:
            "Documento di indirizzo per la organizzazione e gestione dei Servizi Abitativi Sociali",
        amount: "10000.00",
        signed_on: "2023-11-13",
        advance_invoice: "KC-2023-058",
        advance_paid_on: "2023-12-06",
        submissions: &[
            (
                "2024-02-19",
                "KCity_Cremona_F2_Documento_indirizzo_SAS_v1.pdf",
            ),
            (
                "2024-03-01",
                "KCity_Cremona_F2_Documento_indirizzo_SAS_v2.pdf",
            ),
        ],
        accepted_on: "2024-03-08",
        balance_invoice: "KC-2024-011",
        balance_issued_on: "2024-03-11",
        balance_paid_on: "2024-04-29",
    },
    PhasePlan {
        number: 3,
        title: "Ampliamento del quadro strategico alla dimensione d'Ambito",
        deliverable: "Documento di indirizzo per il potenziamento dei Servizi abitativi di Ambito",
        amount: "8000.00",
        signed_on: "2024-04-08",
        advance_invoice: "KC-2024-019",
        advance_paid_on: "2024-05-03",
        submissions: &[(
            "2024-07-01",
            "KCity_Cremona_F3_Documento_indirizzo_Ambito_v1.pdf",
        )],
        accepted_on: "2024-07-12",
        balance_invoice: "KC-2024-034",
        balance_issued_on: "2024-07-15",
        balance_paid_on: "2024-08-07",
    },
];

fn initial_terms() -> Vec<ContractChange> {
    let payment_terms = PaymentTerms {
        rules: PHASES
            .iter()
            .map(|phase| PaymentRule::Milestone {
                deliverable: phase.deliverable.to_owned(),
                amount: euros(phase.amount),
                advance_share: share(ADVANCE_SHARE),
            })
            .collect(),
        period_cap: None,
        // The offer's total: 28,000 euro plus VAT.
        contract_cap: Some(euros("28000.00")),
        vat_rate: Some(rate(VAT_RATE)),
        payers: Vec::new(),
    };
    vec![ContractChange::PaymentTerms { payment_terms }]
}

/// An invoice's net amount and VAT, as the phase aggregate computes them.
fn invoice_figures(net: rust_decimal::Decimal, vat_rate: Rate) -> (Money, Money) {
    let amount = Money::rounded(net).expect("a share of an amount is an amount");
    let vat =
        Money::rounded(amount.amount() * vat_rate.value()).expect("VAT on an amount is an amount");
    (amount, vat)
}

fn total(amount: Money, vat: Money) -> Money {
    Money::new(amount.amount() + vat.amount()).expect("a sum of amounts is an amount")
}

/// Cremona's submissions: the phases defined on signing, then each phase's invoices,
/// deliverable and payments.
pub(super) fn submissions() -> Vec<Submission> {
    let signed_on = date(PHASES[0].signed_on);
    let charter = Charter {
        title: "Implementazione delle strategie del Piano Triennale dei servizi abitativi",
        template: "cremona",
        term_start_on: signed_on,
        // Assumption: the term runs to the end of 2024, beyond the last phase's payment.
        term_end_on: date("2024-12-31"),
        period_kind: PeriodKind::Quarter,
    };
    let mut script = Script::open(&contract_id(CONTRACT), &charter, &PARTIES, initial_terms());
    let vat_rate = rate(VAT_RATE);
    let advance_share: Share = share(ADVANCE_SHARE);
    for phase in &PHASES {
        let phase_id = id(&format!("phase-{}", phase.number));
        let label = |step: &str| format!("phase/{}/{step}", phase.number);
        let on = |text: &str| -> NaiveDate { date(text) };
        let amount = euros(phase.amount);
        script.add(
            &label("defined"),
            local(signed_on, 9, 10 + u32::from(phase.number)),
            Command::DefinePhase {
                phase_id: phase_id.clone(),
                number: std::num::NonZeroU8::new(phase.number).expect("phases count from 1"),
                title: phase.title.to_owned(),
                deliverable: phase.deliverable.to_owned(),
                amount,
                vat_rate,
                advance_share,
            },
        );

        let (advance, advance_vat) =
            invoice_figures(amount.amount() * advance_share.value(), vat_rate);
        script.add(
            &label("advance-invoiced"),
            local(on(phase.signed_on), 10, 0),
            Command::InvoiceAdvance {
                phase_id: phase_id.clone(),
                invoice_number: phase.advance_invoice.to_owned(),
                amount: advance,
                vat: advance_vat,
                issued_on: on(phase.signed_on),
            },
        );
        script.add(
            &label("advance-paid"),
            local(on(phase.advance_paid_on), 12, 0),
            Command::RecordInvoicePayment {
                phase_id: phase_id.clone(),
                invoice_number: phase.advance_invoice.to_owned(),
                amount: total(advance, advance_vat),
                paid_on: on(phase.advance_paid_on),
            },
        );

        for (version, (submitted_on, document)) in phase.submissions.iter().enumerate() {
            script.add(
                &label(&format!("submitted/{}", version + 1)),
                local(on(submitted_on), 17, 0),
                Command::SubmitDeliverable {
                    phase_id: phase_id.clone(),
                    document: (*document).to_owned(),
                },
            );
        }
        script.add(
            &label("accepted"),
            local(on(phase.accepted_on), 12, 0),
            Command::AcceptDeliverable {
                phase_id: phase_id.clone(),
                accepted_by: PARTIES.payer.to_owned(),
            },
        );

        let (balance, balance_vat) = invoice_figures(amount.amount() - advance.amount(), vat_rate);
        script.add(
            &label("balance-invoiced"),
            local(on(phase.balance_issued_on), 10, 0),
            Command::IssueInvoice {
                phase_id: phase_id.clone(),
                invoice_number: phase.balance_invoice.to_owned(),
                amount: balance,
                vat: balance_vat,
                issued_on: on(phase.balance_issued_on),
            },
        );
        script.add(
            &label("balance-paid"),
            local(on(phase.balance_paid_on), 12, 0),
            Command::RecordInvoicePayment {
                phase_id,
                invoice_number: phase.balance_invoice.to_owned(),
                amount: total(balance, balance_vat),
                paid_on: on(phase.balance_paid_on),
            },
        );
    }
    script.into_submissions()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use esito_domain::aggregates::due_date;

    use super::super::tests::count;
    use super::*;

    #[test]
    fn cremona_has_three_phases_with_the_offers_amounts() {
        let submissions = submissions();
        let phases: Vec<(u8, Money, Rate, Share)> = submissions
            .iter()
            .filter_map(|submission| match &submission.command {
                Command::DefinePhase {
                    number,
                    amount,
                    vat_rate,
                    advance_share,
                    ..
                } => Some((number.get(), *amount, *vat_rate, *advance_share)),
                _ => None,
            })
            .collect();
        assert_eq!(
            phases,
            [
                (1, euros("10000.00"), rate("0.22"), share("0.3")),
                (2, euros("10000.00"), rate("0.22"), share("0.3")),
                (3, euros("8000.00"), rate("0.22"), share("0.3")),
            ]
        );
        // 30 % on signing and 70 % on delivery, VAT at 22 % on each.
        let invoices: Vec<(Money, Money)> = submissions
            .iter()
            .filter_map(|submission| match &submission.command {
                Command::InvoiceAdvance { amount, vat, .. }
                | Command::IssueInvoice { amount, vat, .. } => Some((*amount, *vat)),
                _ => None,
            })
            .collect();
        assert_eq!(
            invoices,
            [
                (euros("3000.00"), euros("660.00")),
                (euros("7000.00"), euros("1540.00")),
                (euros("3000.00"), euros("660.00")),
                (euros("7000.00"), euros("1540.00")),
                (euros("2400.00"), euros("528.00")),
                (euros("5600.00"), euros("1232.00")),
            ]
        );
        // 28,000 euro plus 22 % VAT, all paid.
        let paid: rust_decimal::Decimal = submissions
            .iter()
            .filter_map(|submission| match &submission.command {
                Command::RecordInvoicePayment { amount, .. } => Some(amount.amount()),
                _ => None,
            })
            .sum();
        assert_eq!(Money::new(paid), Ok(euros("34160.00")));
        assert_eq!(count(&submissions, "AcceptDeliverable"), 3);
    }

    #[test]
    fn cremona_pays_within_30_days_but_once_late() {
        let mut issued: BTreeMap<String, NaiveDate> = BTreeMap::new();
        let mut late = Vec::new();
        for submission in submissions() {
            match submission.command {
                Command::InvoiceAdvance {
                    invoice_number,
                    issued_on,
                    ..
                }
                | Command::IssueInvoice {
                    invoice_number,
                    issued_on,
                    ..
                } => {
                    issued.insert(invoice_number, issued_on);
                }
                Command::RecordInvoicePayment {
                    invoice_number,
                    paid_on,
                    ..
                } if paid_on > due_date(issued[&invoice_number]) => late.push(invoice_number),
                _ => {}
            }
        }
        assert_eq!(issued.len(), 6);
        assert_eq!(late, ["KC-2024-011"]);
    }

    #[test]
    fn cremona_phases_follow_one_another() {
        for pair in PHASES.windows(2) {
            assert!(date(pair[0].accepted_on) <= date(pair[1].signed_on));
        }
        for phase in &PHASES {
            let weeks = (date(phase.submissions[0].0) - date(phase.signed_on)).num_weeks();
            assert!((12..=15).contains(&weeks), "phase {}", phase.number);
        }
    }
}
