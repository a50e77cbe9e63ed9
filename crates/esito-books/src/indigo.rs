//! The INDIGO export: a contract's `project.json` of the INDIGO data standard (Government
//! Outcomes Lab; `schemas/indigo/`), mapped from the books and the indicator values of its
//! approved settlements. The mapping table, and what INDIGO has no place for, are in
//! `docs/interoperability.md`.
//!
//! Invariant: the document is a function of the log alone, as of one position: no clock, keys
//! in sorted order, lists in the log's order (periods, then the lines of each settlement), so
//! the same log gives the same bytes from the CLI and over HTTP. Money is never a float: each
//! amount is written as the decimal text of its `Decimal` (two places), a JSON number.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use esito_domain::aggregates::PeriodSettlement;
use esito_domain::{ContractTerms, OccurredAt, PaymentRule};
use esito_indicators::{IndicatorReport, Period, Value};
use esito_log::{Entry, Hash};
use esito_settlement::{LineKind, SettlementDocument};
use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::books::Books;
use crate::error::BooksError;

/// The currency of every amount Esito keeps.
pub const CURRENCY: &str = "EUR";

/// The country of every contract Esito keeps (ISO 3166, INDIGO's `countries.csv`).
pub const COUNTRY: &str = "IT";

/// One node of the document: JSON whose numbers keep their decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Object(BTreeMap<String, Node>),
    Array(Vec<Node>),
    Text(String),
    /// A JSON number as written: the decimal text of a `Decimal` or of a count.
    Number(String),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Text(text) => serializer.serialize_str(text),
            Node::Number(text) => serde_json::value::RawValue::from_string(text.clone())
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
        }
    }
}

fn object<const N: usize>(members: [(&str, Node); N]) -> Node {
    Node::Object(
        members
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// Adds a member to an object node.
fn with(mut node: Node, key: &str, value: Node) -> Node {
    if let Node::Object(members) = &mut node {
        members.insert(key.to_owned(), value);
    }
    node
}

fn text(value: impl Into<String>) -> Node {
    Node::Text(value.into())
}

/// INDIGO's `{"value": ...}` of a string.
fn value(value: impl Into<String>) -> Node {
    object([("value", text(value))])
}

/// INDIGO's `{"value": ...}` of a date (`YYYY-MM-DD`).
fn date(on: NaiveDate) -> Node {
    value(on.format("%Y-%m-%d").to_string())
}

/// A decimal as a JSON number, its text as `Decimal` writes it (never an exponent).
fn decimal(number: Decimal) -> Node {
    Node::Number(number.normalize().to_string())
}

/// An amount of money as a JSON number with two places.
fn euros(amount: Decimal) -> Node {
    Node::Number(format!("{:.2}", amount.round_dp(2)))
}

/// INDIGO's `{"value": number}`.
fn number(node: Node) -> Node {
    object([("value", node)])
}

/// INDIGO's money: `{"currency": {"value": "EUR"}, "amount": {"value": number}}`.
fn money(amount: Decimal) -> Node {
    object([
        ("currency", value(CURRENCY)),
        ("amount", number(euros(amount))),
    ])
}

/// INDIGO's period: its first and last day (an Esito period's `end_on` is the day after).
fn period_dates(start_on: NaiveDate, end_on: NaiveDate) -> Node {
    object([
        ("start_date", date(start_on)),
        (
            "end_date",
            date(end_on.pred_opt().expect("a period ends after its start")),
        ),
    ])
}

/// An organisation's id: `org-` and its name in lower-case ASCII letters and digits joined by
/// `-` (`Comune di Cuneo` → `org-comune-di-cuneo`).
pub fn organisation_id(name: &str) -> String {
    let mut id = String::from("org");
    let mut gap = true;
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            if gap {
                id.push('-');
            }
            id.push(character.to_ascii_lowercase());
            gap = false;
        } else {
            gap = true;
        }
    }
    id
}

/// The parties of the contract, each with its roles (Italian, then English).
struct Organisations {
    by_name: BTreeMap<String, Vec<&'static str>>,
}

impl Organisations {
    fn new() -> Self {
        Self {
            by_name: BTreeMap::new(),
        }
    }

    fn add(&mut self, name: &str, role: &'static str) -> Node {
        let roles = self.by_name.entry(name.to_owned()).or_default();
        if !roles.contains(&role) {
            roles.push(role);
        }
        value(organisation_id(name))
    }

    fn node(&self) -> Node {
        Node::Array(
            self.by_name
                .iter()
                .map(|(name, roles)| {
                    object([
                        ("id", text(organisation_id(name))),
                        ("name", value(name.clone())),
                        (
                            "roles",
                            Node::Array(roles.iter().map(|r| text(*r)).collect()),
                        ),
                    ])
                })
                .collect(),
        )
    }
}

const PAYER: &str = "ente pagatore / outcome payer";
const OPERATOR: &str = "soggetto gestore / service provider";
const FUNDER: &str = "soggetto finanziatore / investor";
const EVALUATOR: &str = "valutatore / outcomes validator";

/// What the document is made from: the books as of a position, the tree head there, the books'
/// entries (for the registration's date) and, for each approved settlement, the indicator
/// report its calculation was made as of ([`needs`]).
pub struct Source<'a> {
    pub books: &'a Books,
    pub root_hash: Hash,
    pub entries: &'a [Entry],
    pub reports: &'a BTreeMap<Period, IndicatorReport>,
}

/// The settlements the document holds: approved or paid (the figures are final), in period
/// order.
fn approved(books: &Books) -> impl Iterator<Item = &PeriodSettlement> {
    books
        .settlements()
        .periods
        .iter()
        .filter(|settlement| settlement.status.is_approved())
}

/// The indicator reports the document needs: each approved settlement's period, as of the
/// position its calculation was made as of.
pub fn needs(books: &Books) -> Vec<(Period, u64)> {
    approved(books)
        .map(|settlement| (settlement.calculated.period, settlement.calculated.as_of))
        .collect()
}

/// The date the contract's registration records (its business time, in Europe/Rome): the
/// signing, as far as the log knows it.
fn registered_on(books: &Books, entries: &[Entry]) -> Option<NaiveDate> {
    entries
        .iter()
        .find(|entry| {
            entry.event_type == "ContractRegistered"
                && entry.stream_id == books.contract_id().as_str()
                && entry.position <= books.as_of()
        })
        .and_then(|entry| OccurredAt::parse(&entry.occurred_at).ok())
        .map(OccurredAt::local_date)
}

/// Each rule's outcome metric id: the indicator's id, or `milestone-N` for the N-th milestone
/// (a deliverable is a sentence, not an id).
fn metric_ids(rules: &[PaymentRule]) -> BTreeMap<String, String> {
    let mut milestones = 0;
    rules
        .iter()
        .map(|rule| match rule {
            PaymentRule::Milestone { deliverable, .. } => {
                milestones += 1;
                (deliverable.clone(), format!("milestone-{milestones}"))
            }
            other => (other.subject().to_owned(), other.subject().to_owned()),
        })
        .collect()
}

fn document(settlement: &PeriodSettlement) -> Result<SettlementDocument, BooksError> {
    serde_json::from_value(settlement.calculated.document.clone()).map_err(|error| {
        BooksError::SettlementDocumentUnreadable {
            period: settlement.calculated.period.to_string(),
            reason: error.to_string(),
        }
    })
}

/// The INDIGO `project.json` of the contract, pretty-printed, ending with a newline.
pub fn project_json(source: &Source<'_>) -> Result<Vec<u8>, BooksError> {
    let node = project(source)?;
    let mut bytes = serde_json::to_vec_pretty(&node).expect("a document of strings serializes");
    bytes.push(b'\n');
    Ok(bytes)
}

/// The INDIGO project of the contract (see the module's documentation).
pub fn project(source: &Source<'_>) -> Result<Node, BooksError> {
    let books = source.books;
    let contract = books
        .contract()
        .contract()
        .ok_or(BooksError::ContractNotRegistered {
            as_of: books.as_of(),
        })?;
    // The terms as the log holds them last: every amendment applied.
    let terms: ContractTerms = contract.terms_on(NaiveDate::MAX);
    let rules = terms
        .payment_terms
        .as_ref()
        .map_or(&[][..], |payment| &payment.rules[..]);
    let metric_of = metric_ids(rules);
    let settlements: Vec<(&PeriodSettlement, SettlementDocument)> = approved(books)
        .map(|settlement| Ok((settlement, document(settlement)?)))
        .collect::<Result<_, BooksError>>()?;

    let mut organisations = Organisations::new();
    let payer = organisations.add(&terms.payer, PAYER);
    let operator = organisations.add(&terms.operator, OPERATOR);
    let evaluator = organisations.add(&terms.evaluator, EVALUATOR);
    let funder = terms
        .funder
        .as_deref()
        .map(|funder| organisations.add(funder, FUNDER));

    let mut project = BTreeMap::new();
    let mut put = |key: &str, node: Node| {
        project.insert(key.to_owned(), node);
    };
    put("name", value(terms.title.clone()));
    put("jurisdiction", object([("jurisdiction", value(COUNTRY))]));
    put("stage_development", value(stage(&settlements)));
    put(
        "dates",
        dates(&terms, registered_on(books, source.entries), &settlements),
    );
    put(
        "notes",
        value(format!(
            "Esportato dal registro Esito del contratto {id} alla posizione {as_of} (radice {root}); \
             ogni importo in euro, al netto dell'IVA. / Exported from the Esito log of contract \
             {id} at position {as_of} (root {root}); every amount in euro, before VAT.",
            id = books.contract_id(),
            as_of = books.as_of(),
            root = source.root_hash,
        )),
    );
    put(
        "service_provisions",
        Node::Array(vec![object([
            ("id", text("service-1")),
            ("organisation_id", operator.clone()),
            ("intervention", value(terms.title.clone())),
            (
                "planned_service",
                object([
                    ("start_date", date(terms.term_start_on)),
                    ("end_date", date(terms.term_end_on)),
                ]),
            ),
        ])]),
    );
    put(
        "outcome_metrics",
        outcome_metrics(&terms.template, rules, &metric_of, source.reports),
    );
    put("outcome_pricings", outcome_pricings(rules, &metric_of));
    put(
        "outcome_payment_commitments",
        commitments(&terms, &mut organisations, &settlements),
    );
    put(
        "outcome_payments",
        outcome_payments(&settlements, &metric_of, &payer, &operator),
    );
    put(
        "results",
        results(&settlements, &metric_of, source.reports, &evaluator),
    );
    let investment = funder.as_ref().and_then(|funder| {
        terms
            .funder_terms
            .as_ref()
            .map(|funder_terms| investment(funder, funder_terms))
    });
    put(
        "transactions",
        transactions(
            &terms,
            &mut organisations,
            &settlements,
            &operator,
            funder.as_ref(),
        ),
    );
    put("investments", Node::Array(investment.into_iter().collect()));
    put("overall_project_finance", finance(&terms, &settlements));
    put("organisations", organisations.node());
    Ok(Node::Object(project))
}

/// INDIGO's stage: complete once the final settlement is paid, service delivery complete once
/// it is approved, implementation before.
fn stage(settlements: &[(&PeriodSettlement, SettlementDocument)]) -> &'static str {
    match settlements
        .iter()
        .find(|(_, document)| document.final_settlement)
    {
        Some((settlement, _)) if settlement.status.paid().is_some() => "Complete",
        Some(_) => "Service delivery complete",
        None => "Implementation",
    }
}

fn dates(
    terms: &ContractTerms,
    signed_on: Option<NaiveDate>,
    settlements: &[(&PeriodSettlement, SettlementDocument)],
) -> Node {
    let mut dates = object([
        ("start_date_of_service_provision", date(terms.term_start_on)),
        (
            "anticipated_end_date_of_service_provision",
            date(terms.term_end_on),
        ),
    ]);
    if let Some(signed_on) = signed_on {
        dates = with(dates, "outcomes_contract_signed", date(signed_on));
    }
    if settlements
        .iter()
        .any(|(_, document)| document.final_settlement)
    {
        dates = with(
            dates,
            "actual_end_date_of_service_provision",
            date(terms.term_end_on),
        );
    }
    dates
}

fn outcome_metrics(
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

fn outcome_pricings(rules: &[PaymentRule], metric_of: &BTreeMap<String, String>) -> Node {
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
                        object([("amount", value(format!("{:.2}", maximum.round_dp(2))))]),
                    );
                }
                pricing
            })
            .collect(),
    )
}

/// Each payer's commitment: its cap, and what the approved settlements owe it to pay.
fn commitments(
    terms: &ContractTerms,
    organisations: &mut Organisations,
    settlements: &[(&PeriodSettlement, SettlementDocument)],
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

/// One outcome payment per line of each approved settlement: `Actual` once paid, `Planned`
/// while approved. The lines of a settlement add up to its net total.
fn outcome_payments(
    settlements: &[(&PeriodSettlement, SettlementDocument)],
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
fn results(
    settlements: &[(&PeriodSettlement, SettlementDocument)],
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

const INVESTMENT_ID: &str = "investment-1";

fn investment(funder: &Node, funder_terms: &esito_domain::FunderTerms) -> Node {
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

/// Money that moved: the funder's disbursements; for each paid settlement, each payer's
/// payment to the operator and the funder's return and principal from the waterfall.
fn transactions(
    terms: &ContractTerms,
    organisations: &mut Organisations,
    settlements: &[(&PeriodSettlement, SettlementDocument)],
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

fn finance(terms: &ContractTerms, settlements: &[(&PeriodSettlement, SettlementDocument)]) -> Node {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_id_is_its_name_in_ascii_words() {
        assert_eq!(organisation_id("Comune di Cuneo"), "org-comune-di-cuneo");
        assert_eq!(
            organisation_id("Consorzio Fabrica (Gruppo CO&SO)"),
            "org-consorzio-fabrica-gruppo-co-so"
        );
        assert_eq!(organisation_id("Città di Torino"), "org-citt-di-torino");
    }

    #[test]
    fn amounts_are_json_numbers_with_their_decimal_text() {
        let node = object([
            ("a", euros(Decimal::new(123_450, 2))),
            ("b", decimal(Decimal::new(12, 0))),
            ("c", euros(Decimal::new(-5, 1))),
        ]);
        let json = serde_json::to_string(&node).expect("serializes");
        assert_eq!(json, r#"{"a":1234.50,"b":12,"c":-0.50}"#);
    }
}
