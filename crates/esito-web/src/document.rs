//! The settlement as the administrative document the officer signs and files with a
//! *determina di liquidazione*: one `Sheet` built from the API's settlement (its JSON, the
//! document `esito-settlement` computed), written as HTML here and as PDF by `pdf.rs`, so the
//! page and the PDF say the same thing.
//!
//! Invariant: every figure comes from the settlement's document as the API answers it,
//! formatted (`format.rs`), never computed again; the status is shown large, and a draft
//! (anything before approval) says so.

use std::collections::HashMap;

use esito_domain::aggregates::Contract;
use esito_settlement::{LineKind, SettlementDocument};
use maud::{html, Markup};
use serde_json::Value;

use crate::format;
use crate::lang::Lang;
use crate::lifecycle;

/// A block of the document, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    /// Label and value pairs.
    Pairs(Vec<(String, String)>),
    /// A table: its columns (`true` for a column of amounts, aligned right) and its rows; a
    /// cell's lines are separated by `\n`.
    Table {
        columns: Vec<(String, bool)>,
        rows: Vec<Vec<String>>,
    },
    /// Signature blocks: each its title and the signatory's organisation.
    Signatures(Vec<(String, String)>),
}

/// The whole document.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The authority that adopts it: the outcome payer.
    pub authority: String,
    pub title: String,
    pub status: String,
    pub is_final: bool,
    pub blocks: Vec<Block>,
    /// Label and value of the figures a reader compares first: the totals.
    pub totals: Vec<(String, String)>,
}

fn line_kind_words(kind: LineKind, lang: Lang) -> &'static str {
    match kind {
        LineKind::RateCard => lang.t("line.rate_card"),
        LineKind::Target => lang.t("line.target"),
        LineKind::SavingsShare => lang.t("line.savings_share"),
        LineKind::Milestone => lang.t("line.milestone"),
        LineKind::PeriodCap => lang.t("line.period_cap"),
        LineKind::Restatement => lang.t("line.restatement"),
        LineKind::ContractCap => lang.t("line.contract_cap"),
    }
}

/// Who recorded an event of the settlement and when, by event type: the last of each.
pub fn steps_recorded(view: &Value) -> HashMap<String, (String, String)> {
    let mut found = HashMap::new();
    for event in view["events"].as_array().into_iter().flatten() {
        if let Some(event_type) = event["event_type"].as_str() {
            found.insert(
                event_type.to_owned(),
                (
                    event["recorded_by"].as_str().unwrap_or_default().to_owned(),
                    event["occurred_at"].as_str().unwrap_or_default().to_owned(),
                ),
            );
        }
    }
    found
}

/// The status label of a settlement's status string; an unknown status shows as it is.
pub fn status_label(status: &str, lang: Lang) -> String {
    lifecycle::status(status).map_or_else(
        || status.to_uppercase(),
        |known| crate::labels::text(lang, known.label).to_owned(),
    )
}

/// The label of a settlement event (`SettlementValidated`...), by the step that records it.
fn event_label(event_type: &str, lang: Lang) -> String {
    if event_type == "SettlementCalculated" {
        return lang.t("event.calculated").to_owned();
    }
    lifecycle::STEPS
        .iter()
        .find(|step| step.event == event_type)
        .map_or_else(
            || event_type.to_owned(),
            |step| crate::labels::text(lang, step.recorded).to_owned(),
        )
}

/// The document of a settlement: `view` is the API's JSON of it, `labels` the indicators'
/// labels by id in the reader's language.
pub fn sheet(
    contract: &Contract,
    view: &Value,
    document: &SettlementDocument,
    labels: &HashMap<String, String>,
    lang: Lang,
) -> Sheet {
    let registered = &contract.registered;
    let currency = document.currency.as_str();
    let money = |amount: rust_decimal::Decimal| format::money(amount, currency, lang);
    let status = view["status"].as_str().unwrap_or_default();
    let last_day = document
        .period_end_on
        .pred_opt()
        .unwrap_or(document.period_end_on);
    let period_text = format!(
        "{} ({} {} {} {})",
        format::period(&document.period.to_string(), lang),
        lang.t("document.from"),
        format::date(document.period_start_on, lang),
        lang.t("document.to"),
        format::date(last_day, lang)
    );
    let mut blocks = vec![Block::Paragraph(format!(
        "{}: {} {} – {} «{}»",
        lang.t("document.subject"),
        lang.t("document.subject_text"),
        period_text,
        lang.t("document.contract"),
        registered.title
    ))];
    let terms = contract.terms_on(last_day);
    let mut parties = vec![
        (
            lang.t("document.contract").to_owned(),
            format!("{} ({})", registered.title, document.contract_id),
        ),
        (lang.t("document.period").to_owned(), period_text.clone()),
    ];
    parties.extend(crate::contracts::party_pairs(contract, last_day, lang));
    if document.final_settlement {
        parties.push((
            lang.t("document.final").to_owned(),
            lang.t("document.yes").to_owned(),
        ));
    }
    blocks.push(Block::Pairs(parties));
    if !lifecycle::is_final(status) {
        blocks.push(Block::Paragraph(lang.t("document.draft_note").to_owned()));
    }
    if let Some(reason) = view["withdrawn"]["reason"].as_str() {
        blocks.push(Block::Pairs(vec![(
            lang.t("document.withdrawn_reason").to_owned(),
            reason.to_owned(),
        )]));
    }
    blocks.push(Block::Heading(lang.t("document.lines").to_owned()));
    let rows = document
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let subject = labels
                .get(&line.subject)
                .cloned()
                .unwrap_or_else(|| line.subject.clone());
            let figures = line
                .figures
                .iter()
                .map(|figure| {
                    format!(
                        "{} = {}",
                        crate::arithmetic::figure_name(&figure.name, lang),
                        figure.value
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let mut arithmetic = format!(
                "{}\n{}",
                line_kind_words(line.kind, lang),
                crate::arithmetic::in_words(&line.arithmetic, lang)
            );
            if !figures.is_empty() {
                arithmetic.push('\n');
                arithmetic.push_str(&figures);
            }
            vec![
                (index + 1).to_string(),
                subject,
                arithmetic,
                money(line.amount.value()),
            ]
        })
        .collect();
    blocks.push(Block::Table {
        columns: vec![
            (lang.t("document.line").to_owned(), false),
            (lang.t("document.indicator").to_owned(), false),
            (lang.t("document.arithmetic").to_owned(), false),
            (lang.t("document.amount").to_owned(), true),
        ],
        rows,
    });
    let mut totals = vec![(
        lang.t("document.total").to_owned(),
        money(document.total.value()),
    )];
    if let Some(vat) = &document.vat {
        totals.push((
            format!(
                "{} {}",
                lang.t("document.vat"),
                format::percent(vat.rate.value(), lang)
            ),
            money(vat.amount.value()),
        ));
    }
    totals.push((
        lang.t("document.total_with_vat").to_owned(),
        money(document.total_with_vat.value()),
    ));
    blocks.push(Block::Heading(lang.t("document.totals").to_owned()));
    blocks.push(Block::Pairs(totals.clone()));
    if document.vat.is_some() {
        blocks.push(Block::Paragraph(lang.t("document.vat_split").to_owned()));
    }
    if !document.payers.is_empty() {
        blocks.push(Block::Heading(lang.t("document.payers").to_owned()));
        blocks.push(Block::Table {
            columns: vec![
                (lang.t("document.payer").to_owned(), false),
                (lang.t("document.share").to_owned(), true),
                (lang.t("document.amount").to_owned(), true),
                (lang.t("document.uncovered").to_owned(), true),
            ],
            rows: document
                .payers
                .iter()
                .map(|payer| {
                    vec![
                        payer.name.clone(),
                        format::percent(payer.share.value(), lang),
                        money(payer.owed.value()),
                        money(payer.uncovered.value()),
                    ]
                })
                .collect(),
        });
    }
    if let Some(funder) = &document.funder {
        let waterfall = &funder.waterfall;
        blocks.push(Block::Heading(lang.t("document.waterfall").to_owned()));
        blocks.push(Block::Pairs(vec![
            (
                lang.t("document.to_funder").to_owned(),
                money(waterfall.to_return.value() + waterfall.to_principal.value()),
            ),
            (
                lang.t("document.to_operator").to_owned(),
                money(waterfall.to_operator.value()),
            ),
        ]));
    }
    blocks.push(Block::Heading(lang.t("document.integrity").to_owned()));
    let checkpoint = &view["checkpoint"];
    let mut integrity = vec![
        (
            lang.t("document.as_of").to_owned(),
            document.as_of.to_string(),
        ),
        (
            lang.t("document.root_hash").to_owned(),
            document.root_hash.to_string(),
        ),
    ];
    match checkpoint["signature"].as_str() {
        Some(signature) => {
            integrity.push((
                lang.t("document.checkpoint").to_owned(),
                format!(
                    "{} · {}",
                    format::instant(checkpoint["timestamp"].as_str().unwrap_or_default(), lang),
                    signature
                ),
            ));
            integrity.push((
                lang.t("document.key_id").to_owned(),
                checkpoint["key_id"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        None => integrity.push((
            lang.t("document.checkpoint").to_owned(),
            lang.t("document.no_checkpoint").to_owned(),
        )),
    }
    blocks.push(Block::Pairs(integrity));
    blocks.push(Block::Paragraph(lang.t("document.verify").to_owned()));
    let events: Vec<Vec<String>> = view["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| {
            vec![
                event_label(event["event_type"].as_str().unwrap_or_default(), lang),
                event["recorded_by"].as_str().unwrap_or_default().to_owned(),
                format::instant(event["occurred_at"].as_str().unwrap_or_default(), lang),
                event["position"].to_string(),
            ]
        })
        .collect();
    blocks.push(Block::Heading(lang.t("document.history").to_owned()));
    blocks.push(Block::Table {
        columns: vec![
            (lang.t("document.step_event").to_owned(), false),
            (lang.t("document.step_by").to_owned(), false),
            (lang.t("document.step_at").to_owned(), false),
            (lang.t("explain.position").to_owned(), true),
        ],
        rows: events,
    });
    blocks.push(Block::Heading(lang.t("document.signatures").to_owned()));
    blocks.push(Block::Signatures(vec![
        (
            lang.t("document.sign_evaluator").to_owned(),
            terms.evaluator.clone(),
        ),
        (
            lang.t("document.sign_payer").to_owned(),
            terms.payer.clone(),
        ),
    ]));
    Sheet {
        authority: terms.payer.clone(),
        title: format!("{} · {}", lang.t("document.heading"), document.period),
        status: status_label(status, lang),
        is_final: lifecycle::is_final(status),
        blocks,
        totals,
    }
}

/// A cell's lines, each on its own line.
fn lines(text: &str) -> Markup {
    html! {
        @for (index, line) in text.split('\n').enumerate() {
            @if index > 0 { br; }
            (line)
        }
    }
}

/// The document as HTML, inside the page's `<main>`.
pub fn html(sheet: &Sheet, lang: Lang) -> Markup {
    html! {
        article.document {
            p.authority { strong { (sheet.authority) } }
            h1 { (sheet.title) }
            p {
                span class={ "status " (if sheet.is_final { "final" } else { "draft" }) } id="status" {
                    (sheet.status)
                }
            }
            @for block in &sheet.blocks {
                @match block {
                    Block::Heading(text) => h2 { (text) },
                    Block::Paragraph(text) => p { (text) },
                    Block::Pairs(pairs) => dl.parties {
                        @for (label, value) in pairs { dt { (label) } dd { (lines(value)) } }
                    },
                    Block::Table { columns, rows } => table {
                        thead { tr { @for (column, amount) in columns {
                            th scope="col" class=[amount.then_some("amount")] { (column) }
                        } } }
                        tbody { @for row in rows { tr {
                            @for (index, cell) in row.iter().enumerate() {
                                td class=[columns.get(index).and_then(|(_, amount)| amount.then_some("amount"))] { (lines(cell)) }
                            }
                        } } }
                    },
                    Block::Signatures(blocks) => div.signatures {
                        @for (title, organisation) in blocks {
                            div.signature {
                                h3 { (title) }
                                p { (organisation) }
                                p { (lang.t("document.sign_name")) ": " }
                                p { (lang.t("document.sign_date")) ": " }
                                p { (lang.t("document.sign_signature")) ": " }
                            }
                        }
                    },
                }
            }
        }
    }
}
