//! The INDIGO document's money and results: each approved settlement's lines as outcome
//! payments, the money paid ones moved as transactions, the paid-on indicators' values as
//! results, the project's totals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use esito_domain::ContractTerms;
use esito_indicators::{IndicatorReport, Period, Value};
use esito_settlement::LineKind;
use rust_decimal::Decimal;

use super::node::{date, euros, money, number, object, period_dates, text, value, with};
use super::terms::INVESTMENT_ID;
use super::{Approved, Node, Organisations, CURRENCY, PAYER};

/// One outcome payment per line of each approved settlement: `Actual` once paid, `Planned`
/// while approved. The lines of a settlement add up to its net total.
pub(super) fn outcome_payments(
    settlements: &[Approved<'_>],
    metric_of: &BTreeMap<String, String>,
    payer: &Node,
    operator: &Node,
) -> Node {
    let mut payments = Vec::new();
    for (settlement, document) in settlements {
        let kind = if settlement.status.paid().is_some() {
            "Actual"
        } else {
            "Planned"
        };
        for line in &document.lines {
            let mut payment = object([
                (
                    "period",
                    period_dates(document.period_start_on, document.period_end_on),
                ),
                ("payer_organisation_id", payer.clone()),
                ("recipient_organisation_id", operator.clone()),
                ("type", value(kind)),
                ("money", money(line.amount.value())),
                (
                    "notes",
                    text(format!(
                        "{period} {kind}: {subject}: {arithmetic}",
                        period = document.period,
                        kind = line.kind.as_str(),
                        subject = line.subject,
                        arithmetic = line.arithmetic
                    )),
                ),
            ]);
            let rule_line = !matches!(
                line.kind,
                LineKind::PeriodCap | LineKind::Restatement | LineKind::ContractCap
            );
            if let Some(metric) = metric_of.get(&line.subject).filter(|_| rule_line) {
                payment = with(payment, "outcome_metric_id", value(metric.clone()));
            }
            payments.push(payment);
        }
    }
    Node::Array(payments)
}

/// The values of each paid-on indicator in each approved settlement's period, as of the
/// position the settlement was calculated as of.
pub(super) fn results(
    settlements: &[Approved<'_>],
    metric_of: &BTreeMap<String, String>,
    reports: &BTreeMap<Period, IndicatorReport>,
    evaluator: &Node,
) -> Node {
    let mut results = Vec::new();
    for (settlement, document) in settlements {
        let Some(report) = reports
            .get(&document.period)
            .filter(|report| report.as_of == settlement.calculated.as_of)
        else {
            continue;
        };
        for indicator in &report.indicators {
            let Some(metric) = metric_of.get(&indicator.id) else {
                continue;
            };
            let achieved = match indicator.value {
                None => "nessun valore / no value".to_owned(),
                Some(Value::Count(count)) => count.to_string(),
                Some(Value::Money(amount)) => format!("{amount:.2}"),
                Some(Value::Ratio(ratio)) => format!("{ratio:.6}"),
            };
            let mut result = object([
                ("outcome_metric_id", value(metric.clone())),
                ("result_level", value("Outcome level")),
                (
                    "result_type",
                    value(if document.final_settlement {
                        "Final"
                    } else {
                        "Interim"
                    }),
                ),
                (
                    "period",
                    period_dates(document.period_start_on, document.period_end_on),
                ),
                ("outcomes_achieved", value(achieved)),
                ("outcomes_validator_organisation_ids", evaluator.clone()),
                (
                    "notes",
                    text(format!(
                        "{period}, {unit}, alla posizione {as_of} / at position {as_of}",
                        period = document.period,
                        unit = indicator.unit,
                        as_of = report.as_of
                    )),
                ),
            ]);
            if let Some(Value::Count(count)) = indicator.value {
                result = with(
                    result,
                    "number_with_positive_social_outcomes",
                    number(Node::Number(count.to_string())),
                );
            }
            results.push(result);
        }
    }
    Node::Array(results)
}

/// Money that moved: the funder's disbursements; for each paid settlement, each payer's
/// payment to the operator and the funder's return and principal from the waterfall.
pub(super) fn transactions(
    terms: &ContractTerms,
    organisations: &mut Organisations,
    settlements: &[Approved<'_>],
    operator: &Node,
    funder: Option<&Node>,
) -> Node {
    let transaction = |on: NaiveDate, from: &Node, to: &Node, kind: &str, amount: Decimal| {
        object([
            ("date", date(on)),
            ("sending_organisation_id", from.clone()),
            ("receiving_organisation_id", to.clone()),
            ("transaction_type", value(kind)),
            (
                "money",
                object([
                    ("currency", value(CURRENCY)),
                    ("amount", number(euros(amount))),
                ]),
            ),
        ])
    };
    let investment = |node: Node| with(node, "investment_id", value(INVESTMENT_ID));
    let mut transactions = Vec::new();
    if let (Some(funder), Some(funder_terms)) = (funder, &terms.funder_terms) {
        for disbursement in &funder_terms.disbursements {
            transactions.push(investment(transaction(
                disbursement.on,
                funder,
                operator,
                "Debt",
                disbursement.amount.amount(),
            )));
        }
    }
    for (settlement, document) in settlements {
        let Some(paid) = settlement.status.paid() else {
            continue;
        };
        let note = |node: Node, what: &str| {
            with(
                node,
                "notes",
                text(format!(
                    "{period}, {what}, riferimento / reference {reference}",
                    period = document.period,
                    reference = paid.reference
                )),
            )
        };
        let parts: Vec<(String, Decimal)> = if document.payers.is_empty() {
            vec![(
                terms.payer.clone(),
                document.total.value() - document.uncovered.value(),
            )]
        } else {
            document
                .payers
                .iter()
                .map(|part| (part.name.clone(), part.owed.value()))
                .collect()
        };
        for (payer, amount) in parts {
            if amount.is_zero() {
                continue;
            }
            let payer = organisations.add(&payer, PAYER);
            transactions.push(note(
                transaction(paid.paid_on, &payer, operator, "Outcome Payment", amount),
                "pagamento per risultati, netto IVA / outcome payment, before VAT",
            ));
        }
        if let (Some(funder), Some(section)) = (funder, &document.funder) {
            let waterfall = &section.waterfall;
            for (kind, amount, what) in [
                (
                    "Interest Payment",
                    waterfall.to_return.value(),
                    "rendimento / return",
                ),
                (
                    "Capital Repayment",
                    waterfall.to_principal.value(),
                    "rimborso del capitale / principal repaid",
                ),
            ] {
                if !amount.is_zero() {
                    transactions.push(note(
                        investment(transaction(paid.paid_on, operator, funder, kind, amount)),
                        what,
                    ));
                }
            }
        }
    }
    Node::Array(transactions)
}

pub(super) fn finance(terms: &ContractTerms, settlements: &[Approved<'_>]) -> Node {
    let paid: Decimal = settlements
        .iter()
        .filter(|(settlement, _)| settlement.status.paid().is_some())
        .map(|(_, document)| document.total.value() - document.uncovered.value())
        .sum();
    let amount = |amount: Decimal| {
        object([
            ("currency", value(CURRENCY)),
            ("amount", number(euros(amount))),
        ])
    };
    let mut finance = object([("total_outcome_payments_made", amount(paid))]);
    if let Some(cap) = terms
        .payment_terms
        .as_ref()
        .and_then(|payment| payment.contract_cap)
    {
        finance = with(
            finance,
            "maximum_potential_outcome_payment_v2",
            amount(cap.amount()),
        );
    }
    if let Some(funder_terms) = &terms.funder_terms {
        let committed: Decimal = funder_terms
            .disbursements
            .iter()
            .map(|disbursement| disbursement.amount.amount())
            .sum();
        finance = with(
            finance,
            "total_investment_commitment",
            object([
                ("currency", value(CURRENCY)),
                ("amount", object([("exact", number(euros(committed)))])),
            ]),
        );
    }
    finance
}
