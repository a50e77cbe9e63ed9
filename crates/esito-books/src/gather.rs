//! The one function that assembles the engine's input from the books and the figures, online
//! and offline alike; and the settlement it gives.
//!
//! What comes from where (docs/design.md §5, `docs/settlement.md`):
//! - indicator values: the period's report as of the pinned position;
//! - each beneficiary's count, for a rate card with per-beneficiary limits: the facts behind the
//!   value, counted by their key; what each beneficiary counted and earned before: the sum of
//!   the earlier settlements' parts;
//! - milestones: the phase defining the deliverable, its acceptance date and its advance;
//! - what was paid: the earlier settlements' totals less what their payers' caps left uncovered,
//!   and each payer's parts;
//! - restatements: each earlier settled period recomputed as of the pinned position, with the
//!   history it had, against what was settled for it so far (its `period_net` plus the
//!   restatements of it since);
//! - the funder's account: the statement of the latest earlier settlement that has one, if its
//!   funder is the same (a new funder opens a new account);
//! - the final settlement: the period holds the last day of the term.

use std::collections::BTreeMap;

use esito_domain::aggregates::{PeriodSettlement, PhaseState};
use esito_domain::events::SettlementCheckpoint;
use esito_domain::{Command, ContractTerms, Money, PaymentRule, PaymentTerms};
use esito_indicators::{Fact, IndicatorReport, Part, Period};
use esito_log::Hash;
use esito_settlement::{
    BeneficiaryCount, FunderInput, FunderState, IndicatorValue, LineKind, MilestoneFacts,
    Restatement, SettlementDocument, SettlementHistory, SettlementInput,
};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::books::{last_day, per_beneficiary, Books};
use crate::error::BooksError;

/// The indicator values and facts a settlement needs, fetched by the caller as of the books'
/// position: one report per needed period, and the facts of each per-beneficiary indicator.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    reports: BTreeMap<Period, IndicatorReport>,
    facts: BTreeMap<(Period, String), Vec<Fact>>,
    /// Each beneficiary's count, when the caller has counts rather than facts (the store's
    /// projection keeps counts per key).
    counts: BTreeMap<(Period, String), BTreeMap<String, u64>>,
}

impl Figures {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert_report(&mut self, report: IndicatorReport) {
        self.reports.insert(report.period, report);
    }

    /// The facts behind one indicator's value for a period (those `explain` gives).
    pub fn insert_facts(&mut self, period: Period, indicator: &str, facts: Vec<Fact>) {
        self.facts.insert((period, indicator.to_owned()), facts);
    }

    /// Each beneficiary's count of one indicator's events in a period (what `insert_facts`
    /// would count from the facts).
    pub fn insert_counts(
        &mut self,
        period: Period,
        indicator: &str,
        counts: BTreeMap<String, u64>,
    ) {
        self.counts.insert((period, indicator.to_owned()), counts);
    }

    fn report(&self, period: Period, as_of: u64) -> Result<&IndicatorReport, BooksError> {
        self.reports
            .get(&period)
            .filter(|report| report.as_of == as_of)
            .ok_or_else(|| BooksError::IndicatorValuesMissing {
                period: period.to_string(),
                as_of,
            })
    }
}

/// The engine's input, and what it was gathered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    pub input: SettlementInput,
    /// The template whose definitions computed the values, and their file's SHA-256.
    pub template: String,
    pub definitions_sha256: Hash,
    /// SHA-256 of the RFC 8785 JSON of the terms in force ([`terms_sha256`]).
    pub terms_sha256: Hash,
}

/// A period's settlement, and what it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub document: SettlementDocument,
    pub template: String,
    pub definitions_sha256: Hash,
    pub terms_sha256: Hash,
}

impl Settled {
    /// The command that records this settlement, with the checkpoint signed of its tree head.
    pub fn command(&self, checkpoint: Option<SettlementCheckpoint>) -> Command {
        let document = &self.document;
        Command::CalculateSettlement {
            period: document.period,
            period_start_on: document.period_start_on,
            period_end_on: document.period_end_on,
            as_of: document.as_of,
            root_hash: document.root_hash,
            checkpoint,
            template: self.template.clone(),
            definitions_sha256: self.definitions_sha256,
            terms_sha256: self.terms_sha256,
            final_settlement: document.final_settlement,
            document: serde_json::to_value(document).expect("a settlement document serializes"),
        }
    }
}

/// SHA-256 (hex) of the RFC 8785 JSON of `{"payment_terms": ..., "funder_terms": ...}`, the
/// funder's terms left out when there are none: what a settlement records of its terms.
pub fn terms_sha256(
    payment_terms: &PaymentTerms,
    funder_terms: Option<&esito_domain::FunderTerms>,
) -> Hash {
    let mut terms = serde_json::Map::new();
    terms.insert(
        "payment_terms".to_owned(),
        serde_json::to_value(payment_terms).expect("terms serialize"),
    );
    if let Some(funder_terms) = funder_terms {
        terms.insert(
            "funder_terms".to_owned(),
            serde_json::to_value(funder_terms).expect("terms serialize"),
        );
    }
    let canonical = esito_log::canonicalize(&serde_json::Value::Object(terms));
    Hash::from_bytes(Sha256::digest(canonical.as_bytes()).into())
}

/// Computes the settlement of `period` as of the books' position ([`settlement_input`], then
/// the engine).
pub fn settle(
    books: &Books,
    period: Period,
    root_hash: Hash,
    figures: &Figures,
) -> Result<Settled, BooksError> {
    let gathered = settlement_input(books, period, root_hash, figures)?;
    let document = esito_settlement::settle(&gathered.input)?;
    Ok(Settled {
        document,
        template: gathered.template,
        definitions_sha256: gathered.definitions_sha256,
        terms_sha256: gathered.terms_sha256,
    })
}

/// What the earlier settlements counted and earned for each beneficiary under each rule.
type BeneficiaryHistory = BTreeMap<(String, String), (u32, Decimal)>;

fn documents<'a>(
    settlements: impl IntoIterator<Item = &'a PeriodSettlement>,
) -> Result<Vec<SettlementDocument>, BooksError> {
    settlements
        .into_iter()
        .map(|settlement| {
            serde_json::from_value(settlement.calculated.document.clone()).map_err(|error| {
                BooksError::SettlementDocumentUnreadable {
                    period: settlement.calculated.period.to_string(),
                    reason: error.to_string(),
                }
            })
        })
        .collect()
}

fn beneficiary_history(documents: &[SettlementDocument]) -> BeneficiaryHistory {
    let mut history = BeneficiaryHistory::new();
    for document in documents {
        for line in documents_rate_card_lines(document) {
            for part in &line.beneficiaries {
                let entry = history
                    .entry((line.subject.clone(), part.beneficiary.clone()))
                    .or_default();
                entry.0 += part.counted;
                entry.1 += part.amount;
            }
        }
    }
    history
}

fn documents_rate_card_lines(
    document: &SettlementDocument,
) -> impl Iterator<Item = &esito_settlement::Line> {
    document
        .lines
        .iter()
        .filter(|line| line.kind == LineKind::RateCard)
}

/// The period's indicator values, with each beneficiary's count where a rule needs it.
fn indicator_values(
    period: Period,
    report: &IndicatorReport,
    rules: &[PaymentRule],
    figures: &Figures,
    before: &BeneficiaryHistory,
) -> Result<BTreeMap<String, IndicatorValue>, BooksError> {
    let per_beneficiary = per_beneficiary(rules);
    let mut values = BTreeMap::new();
    for reported in &report.indicators {
        let mut value = IndicatorValue {
            value: reported.value.map(esito_indicators::Value::decimal),
            beneficiaries: Vec::new(),
        };
        if per_beneficiary.contains(&reported.id) {
            let facts = figures
                .facts
                .get(&(period, reported.id.clone()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for fact in facts.iter().filter(|fact| fact.part == Part::Main) {
                let key = fact
                    .key
                    .as_deref()
                    .ok_or_else(|| BooksError::BeneficiaryKeyMissing {
                        indicator: reported.id.clone(),
                    })?;
                *counts.entry(key).or_default() += 1;
            }
            if let Some(given) = figures.counts.get(&(period, reported.id.clone())) {
                for (key, count) in given {
                    *counts.entry(key).or_default() += u32::try_from(*count).unwrap_or(u32::MAX);
                }
            }
            value.beneficiaries = counts
                .into_iter()
                .map(|(beneficiary, count)| {
                    let (counted_before, amount_before) = before
                        .get(&(reported.id.clone(), beneficiary.to_owned()))
                        .copied()
                        .unwrap_or_default();
                    BeneficiaryCount {
                        beneficiary: beneficiary.to_owned(),
                        count,
                        counted_before,
                        amount_before,
                    }
                })
                .collect();
        }
        values.insert(reported.id.clone(), value);
    }
    Ok(values)
}

/// Each milestone rule's deliverable: when the phase defining it was accepted, and the net
/// advance invoiced on it. The advance is the one the phase invoiced on signing (paid or not
/// yet): it is owed under its own invoice, so the settlement never claims it again, and the
/// line is then exactly the phase's balance invoice.
fn milestones(books: &Books, rules: &[PaymentRule]) -> BTreeMap<String, MilestoneFacts> {
    rules
        .iter()
        .filter_map(|rule| match rule {
            PaymentRule::Milestone { deliverable, .. } => Some(deliverable),
            _ => None,
        })
        .map(|deliverable| {
            let phase = books
                .phases
                .iter()
                .filter_map(PhaseState::phase)
                .find(|phase| phase.defined.deliverable == *deliverable);
            let facts = MilestoneFacts {
                accepted_on: phase
                    .and_then(|phase| phase.accepted.as_ref())
                    .map(|accepted| accepted.accepted_on),
                advance_paid: phase
                    .and_then(|phase| phase.advance.as_ref())
                    .map_or(Money::ZERO, |advance| advance.amount),
            };
            (deliverable.clone(), facts)
        })
        .collect()
}

fn money(value: Decimal) -> Result<Money, BooksError> {
    Money::new(value).map_err(|_| BooksError::PaidToDateNegative {
        total: value.to_string(),
    })
}

/// What each earlier period has been settled at so far: its own `period_net`, plus every
/// restatement of it in the settlements after it.
fn settled_so_far(documents: &[SettlementDocument]) -> BTreeMap<String, Decimal> {
    let mut settled: BTreeMap<String, Decimal> = BTreeMap::new();
    for document in documents {
        *settled.entry(document.period.to_string()).or_default() += document.period_net.value();
        for line in &document.lines {
            if line.kind == LineKind::Restatement {
                *settled.entry(line.subject.clone()).or_default() += line.amount.value();
            }
        }
    }
    settled
}

/// The engine's input for `period` from its own terms and indicator values as of the books'
/// position (caps per beneficiary counting the settlements in `documents_before`), as a first
/// settlement with no funder; with the terms and the report it read.
fn own_input<'f>(
    books: &Books,
    period: Period,
    root_hash: Hash,
    figures: &'f Figures,
    documents_before: &[SettlementDocument],
) -> Result<(SettlementInput, ContractTerms, &'f IndicatorReport), BooksError> {
    let terms = books.terms_for(period)?;
    let payment_terms =
        terms
            .payment_terms
            .clone()
            .ok_or_else(|| BooksError::PaymentTermsMissing {
                period: period.to_string(),
            })?;
    let report = figures.report(period, books.as_of)?;
    let indicators = indicator_values(
        period,
        report,
        &payment_terms.rules,
        figures,
        &beneficiary_history(documents_before),
    )?;
    let input = SettlementInput {
        contract_id: books.contract_id.clone(),
        period,
        as_of: books.as_of,
        root_hash,
        milestones: milestones(books, &payment_terms.rules),
        payment_terms,
        indicators,
        history: SettlementHistory::first(),
        funder: None,
        final_settlement: false,
        procurement: terms.procurement.clone(),
    };
    Ok((input, terms, report))
}

/// An earlier period's `period_net` recomputed as of the books' position: its own terms and
/// values now, the history it had when it was settled, no funder (which `period_net` does not
/// depend on).
fn recomputed_net(
    books: &Books,
    period: Period,
    root_hash: Hash,
    figures: &Figures,
    documents_before: &[SettlementDocument],
) -> Result<Money, BooksError> {
    let (input, _, _) = own_input(books, period, root_hash, figures, documents_before)?;
    let document = esito_settlement::settle(&input)?;
    money(document.period_net.value())
}

/// Assembles the engine's input for `period` as of the books' position, whose tree head is
/// `root_hash`: the one function both the service and `esito settle --offline` call.
pub fn settlement_input(
    books: &Books,
    period: Period,
    root_hash: Hash,
    figures: &Figures,
) -> Result<Gathered, BooksError> {
    let earlier = books.earlier(period);
    let documents = documents(earlier.iter().copied())?;
    let (mut input, terms, report) = own_input(books, period, root_hash, figures, &documents)?;

    let mut paid_to_date = Decimal::ZERO;
    let mut payers_paid_to_date: BTreeMap<String, Decimal> = BTreeMap::new();
    for document in &documents {
        paid_to_date += document.total.value() - document.uncovered.value();
        for payer in &document.payers {
            *payers_paid_to_date.entry(payer.name.clone()).or_default() += payer.owed.value();
        }
    }
    let settled = settled_so_far(&documents);
    let mut restatements = Vec::with_capacity(documents.len());
    for (index, document) in documents.iter().enumerate() {
        let recomputed = recomputed_net(
            books,
            document.period,
            root_hash,
            figures,
            &documents[..index],
        )?;
        restatements.push(Restatement {
            period: document.period.to_string(),
            recomputed_net: recomputed,
            settled_net: money(settled[&document.period.to_string()])?,
        });
    }
    let history = SettlementHistory {
        paid_to_date: money(paid_to_date)?,
        payers_paid_to_date: payers_paid_to_date
            .into_iter()
            .map(|(payer, owed)| Ok((payer, money(owed)?)))
            .collect::<Result<_, BooksError>>()?,
        restatements,
    };

    let funder = match &terms.funder_terms {
        None => None,
        Some(funder_terms) => {
            // The account carries on from the latest earlier settlement with a funder, if that
            // funder is still the one: a funder that joins by amendment (Torino's Compagnia di
            // San Paolo after the Fund's grant) opens an account of its own.
            let mut latest = None;
            for document in documents.iter().rev() {
                if let Some(section) = document.funder.as_ref() {
                    if books.terms_for(document.period)?.funder == terms.funder {
                        latest = Some(section);
                    }
                    break;
                }
            }
            let state = match latest {
                None => FunderState::first(),
                Some(section) => {
                    let statement = &section.statement;
                    FunderState {
                        principal_repaid: money(statement.principal_repaid.value())?,
                        return_accrued: money(statement.return_accrued.value())?,
                        return_paid: money(statement.return_paid.value())?,
                        principal_days: statement.principal_days,
                        accrued_through: Some(statement.accrued_through),
                    }
                }
            };
            Some(FunderInput {
                terms: funder_terms.clone(),
                state,
            })
        }
    };

    input.history = history;
    input.funder = funder;
    input.final_settlement = last_day(period) >= terms.term_end_on;
    Ok(Gathered {
        terms_sha256: terms_sha256(&input.payment_terms, terms.funder_terms.as_ref()),
        template: report.template.clone(),
        definitions_sha256: report.definitions_sha256.parse().expect(
            "esito-indicators writes a definitions file's SHA-256 as 64 lowercase hex digits",
        ),
        input,
    })
}
