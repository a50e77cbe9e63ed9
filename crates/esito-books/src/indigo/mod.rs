//! The INDIGO export: a contract's `project.json` of the INDIGO data standard (Government
//! Outcomes Lab; `schemas/indigo/`), mapped from the books and the indicator values of its
//! approved settlements. The mapping table, and what INDIGO has no place for, are in
//! `docs/interoperability.md`.
//!
//! Invariant: the document is a function of the log alone, as of one position: no clock, keys
//! in sorted order, lists in the log's order (periods, then the lines of each settlement), so
//! the same log gives the same bytes from the CLI and over HTTP. Money is never a float: each
//! amount is written as the decimal text of its `Decimal` (two places), a JSON number.

mod flows;
mod node;
mod terms;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use esito_domain::aggregates::PeriodSettlement;
use esito_domain::{ContractTerms, OccurredAt, PaymentRule};
use esito_indicators::{IndicatorReport, Period};
use esito_log::{Entry, Hash};
use esito_settlement::SettlementDocument;

use crate::books::Books;
use crate::error::BooksError;
use flows::{finance, outcome_payments, results, transactions};
pub use node::Node;
use node::{date, object, text, value, with};
use terms::{commitments, investment, outcome_metrics, outcome_pricings};

/// The currency of every amount Esito keeps.
pub const CURRENCY: &str = "EUR";

/// The country of every contract Esito keeps (ISO 3166, INDIGO's `countries.csv`).
pub const COUNTRY: &str = "IT";

/// An approved or paid settlement and its document, in period order.
type Approved<'a> = (&'a PeriodSettlement, SettlementDocument);

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
pub(super) struct Organisations {
    by_name: BTreeMap<String, Vec<&'static str>>,
}

impl Organisations {
    pub(super) fn new() -> Self {
        Self {
            by_name: BTreeMap::new(),
        }
    }

    pub(super) fn add(&mut self, name: &str, role: &'static str) -> Node {
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

pub(super) const PAYER: &str = "ente pagatore / outcome payer";
pub(super) const OPERATOR: &str = "soggetto gestore / service provider";
pub(super) const FUNDER: &str = "soggetto finanziatore / investor";
pub(super) const EVALUATOR: &str = "valutatore / outcomes validator";

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
fn stage(settlements: &[Approved<'_>]) -> &'static str {
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
    settlements: &[Approved<'_>],
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
}
