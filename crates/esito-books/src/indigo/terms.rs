//! The INDIGO document's terms: the outcome metrics and pricings from the payment rules, each
//! payer's commitment, the funder's investment.

use std::collections::BTreeMap;

use esito_domain::{ContractTerms, PaymentRule};
use esito_indicators::{IndicatorReport, Period};
use rust_decimal::Decimal;

use super::node::{cents, date, decimal, euros, money, number, object, text, value, with};
use super::{Approved, Node, Organisations, CURRENCY, PAYER};

pub(super) fn outcome_metrics(
    template: &str,
    rules: &[PaymentRule],
    metric_of: &BTreeMap<String, String>,
    reports: &BTreeMap<Period, IndicatorReport>,
) -> Node {
    // The template's definitions say what each indicator is; the reports, where the template
    // is not built in.
    let definitions = esito_indicators::templates::built_in(template).and_then(Result::ok);
    let described = |id: &str| {
        definitions
            .and_then(|definitions| definitions.indicators.iter().find(|i| i.id == id))
            .map(|indicator| (&indicator.label, &indicator.unit))
            .or_else(|| {
                reports
                    .values()
                    .flat_map(|report| &report.indicators)
                    .find(|indicator| indicator.id == id)
                    .map(|indicator| (&indicator.label, &indicator.unit))
            })
    };
    Node::Array(
        rules
            .iter()
            .map(|rule| {
                let subject = rule.subject();
                let (definition, unit) = match (rule, described(subject)) {
                    (PaymentRule::Milestone { deliverable, .. }, _) => (
                        format!("Consegna accettata: {deliverable} / Deliverable accepted"),
                        "consegna / deliverable".to_owned(),
                    ),
                    (_, Some((label, unit))) => {
                        (format!("{} / {}", label.it, label.en), unit.clone())
                    }
                    (_, None) => (subject.to_owned(), String::new()),
                };
                let mut metric = object([
                    ("id", text(metric_of[subject].clone())),
                    ("definition", value(definition)),
                    (
                        "outcome_validation_method",
                        value(
                            "Calcolato dal registro Esito, validato dal valutatore, approvato \
                             dall'ente pagatore / Computed from the Esito log, validated by the \
                             evaluator, approved by the outcome payer",
                        ),
                    ),
                    (
                        "data_source_for_outcome_validation",
                        value(format!(
                            "Registro Esito, indicatore {subject} / Esito log, indicator {subject}"
                        )),
                    ),
                ]);
                if !unit.is_empty() {
                    metric = with(
                        metric,
                        "unit_description_of_service_user_or_beneficiaries",
                        value(unit),
                    );
                }
                metric
            })
            .collect(),
    )
}

pub(super) fn outcome_pricings(
    rules: &[PaymentRule],
    metric_of: &BTreeMap<String, String>,
) -> Node {
    Node::Array(
        rules
            .iter()
            .map(|rule| {
                let mut pricing = object([
                    ("outcome_metric_id", value(metric_of[rule.subject()].clone())),
                    ("currency", value(CURRENCY)),
                ]);
                let (unit_price, description, maximum) = match rule {
                    PaymentRule::RateCard {
                        rate,
                        threshold,
                        cap,
                        max_per_beneficiary,
                        cap_per_beneficiary,
                        ..
                    } => {
                        let mut description =
                            "tariffa × valore del periodo / rate × the period's value".to_owned();
                        if let Some(threshold) = threshold {
                            description.push_str(&format!(
                                "; nulla sotto {t} / nothing below {t}",
                                t = threshold.value().normalize()
                            ));
                        }
                        if let Some(times) = max_per_beneficiary {
                            description.push_str(&format!(
                                "; al più {times} volte per beneficiario / at most {times} times a beneficiary"
                            ));
                        }
                        if let Some(cap) = cap_per_beneficiary {
                            description.push_str(&format!(
                                "; al più {cap} per beneficiario / at most {cap} a beneficiary"
                            ));
                        }
                        (Some(rate.value()), description, cap.map(|cap| cap.amount()))
                    }
                    PaymentRule::Target {
                        target,
                        threshold,
                        amount,
                        cap_ratio,
                        ..
                    } => (
                        Some(amount.amount()),
                        format!(
                            "importo × min(valore ÷ {target}, {cap}), nulla sotto {threshold} del \
                             target / amount × min(value ÷ {target}, {cap}), nothing below \
                             {threshold} of the target",
                            target = target.value().normalize(),
                            cap = cap_ratio.value().normalize(),
                            threshold = threshold.value().normalize(),
                        ),
                        Some(amount.amount() * cap_ratio.value()),
                    ),
                    PaymentRule::SavingsShare { share, cap, .. } => (
                        None,
                        format!(
                            "{share} dei risparmi del periodo / {share} of the period's savings",
                            share = share.value().normalize()
                        ),
                        cap.map(|cap| cap.amount()),
                    ),
                    PaymentRule::Milestone {
                        amount,
                        advance_share,
                        ..
                    } => (
                        Some(amount.amount()),
                        format!(
                            "importo fisso alla consegna accettata, {share} in anticipo alla firma \
                             / a fixed amount on the accepted deliverable, {share} advanced on signing",
                            share = advance_share.value().normalize()
                        ),
                        Some(amount.amount()),
                    ),
                };
                if let Some(unit_price) = unit_price {
                    pricing = with(
                        pricing,
                        "price_per_unit",
                        object([("amount", number(decimal(unit_price)))]),
                    );
                }
                pricing = with(pricing, "price_description", value(description));
                if let Some(maximum) = maximum {
                    pricing = with(
                        pricing,
                        "maximum_price_if_all_targets_achieved",
                        object([("amount", value(cents(maximum)))]),
                    );
                }
                pricing
            })
            .collect(),
    )
}

/// Each payer's commitment: its cap, and what the approved settlements owe it to pay.
pub(super) fn commitments(
    terms: &ContractTerms,
    organisations: &mut Organisations,
    settlements: &[Approved<'_>],
) -> Node {
    let Some(payment_terms) = &terms.payment_terms else {
        return Node::Array(Vec::new());
    };
    let period = object([
        ("start_date", date(terms.term_start_on)),
        ("end_date", date(terms.term_end_on)),
    ]);
    let commitment = |id: Node, cap: Option<Decimal>, owed: Decimal, notes: String| {
        let mut node = object([
            ("organisation_id", id),
            ("period", period.clone()),
            ("total_outcome_payments", money(owed)),
            ("notes", text(notes)),
        ]);
        if let Some(cap) = cap {
            node = with(node, "maximum_potential_outcome_payment", money(cap));
        }
        node
    };
    if payment_terms.payers.is_empty() {
        let owed = settlements
            .iter()
            .map(|(_, document)| document.total.value() - document.uncovered.value())
            .sum();
        let id = organisations.add(&terms.payer, PAYER);
        let node = commitment(
            id,
            payment_terms.contract_cap.map(|cap| cap.amount()),
            owed,
            "Tetto del contratto, al netto dell'IVA / The contract's cap, before VAT".to_owned(),
        );
        return Node::Array(vec![with(
            node,
            "organisation_role_category",
            value("Government/Public Sector/Public Bank"),
        )]);
    }
    Node::Array(
        payment_terms
            .payers
            .iter()
            .map(|payer| {
                let owed = settlements
                    .iter()
                    .flat_map(|(_, document)| &document.payers)
                    .filter(|part| part.name == payer.name)
                    .map(|part| part.owed.value())
                    .sum();
                let id = organisations.add(&payer.name, PAYER);
                commitment(
                    id,
                    payer.cap.map(|cap| cap.amount()),
                    owed,
                    format!(
                        "Quota {share} del totale netto / Share {share} of the net total",
                        share = payer.share.value().normalize()
                    ),
                )
            })
            .collect(),
    )
}

pub(super) const INVESTMENT_ID: &str = "investment-1";

pub(super) fn investment(funder: &Node, funder_terms: &esito_domain::FunderTerms) -> Node {
    let committed: Decimal = funder_terms
        .disbursements
        .iter()
        .map(|disbursement| disbursement.amount.amount())
        .sum();
    let tiers: Vec<String> = funder_terms
        .return_tiers
        .iter()
        .map(|tier| {
            format!(
                "{} da indice {} / from index {}",
                tier.annual_rate.value().normalize(),
                tier.min_index.value().normalize(),
                tier.min_index.value().normalize()
            )
        })
        .collect();
    object([
        ("id", text(INVESTMENT_ID)),
        ("organisation_id", funder.clone()),
        (
            "investment_commitment",
            object([
                ("currency", value(CURRENCY)),
                ("amount", object([("exact", number(euros(committed)))])),
            ]),
        ),
        ("investment_type", value("Debt")),
        (
            "notes",
            text(format!(
                "Rendimento annuo per indice di raggiungimento: {tiers}; al più {share} di ogni \
                 pagamento; garanzia su {guarantee} del capitale residuo. / Annual return by \
                 achievement index as above; at most {share} of each payment; guarantee on \
                 {guarantee} of the principal outstanding.",
                tiers = tiers.join(", "),
                share = funder_terms.max_funder_share.value().normalize(),
                guarantee = funder_terms.guarantee_share.value().normalize(),
            )),
        ),
    ])
}
