//! The contract list (`GET /contracts`) and a contract's dashboard (`GET /contracts/{id}`):
//! the parties by name, the term, and each indicator by impact area (and by theme where the
//! definitions declare themes), its value per period over the whole term as a chart and a
//! table, its target where the terms have one, and a link to the events behind each value.
//!
//! Invariant: the list shows the contracts the key may read the indicators of, and the
//! dashboard checks `Action::ReadIndicators`, as `GET /v1/contracts/{id}/indicators` does.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::NaiveDate;
use esito_api::auth::Action;
use esito_api::screens;
use esito_domain::aggregates::Contract;
use esito_domain::events::PeriodKind;
use esito_domain::terms::{ContractTerms, PaymentRule};
use esito_indicators::{Area, IndicatorReport, Value};
use maud::{html, Markup};
use rust_decimal::Decimal;

use crate::chart::{self, Bar, Chart};
use crate::format;
use crate::lang::Lang;
use crate::page::{self, layout, respond, Frame, PageError, Viewer};
use crate::Web;

/// The four impact areas, in their order.
pub const AREAS: [Area; 4] = [
    Area::Reach,
    Area::Utilisation,
    Area::Change,
    Area::EconomicProxy,
];

pub fn area_label(area: Area, lang: Lang) -> &'static str {
    match area {
        Area::Reach => lang.t("area.reach"),
        Area::Utilisation => lang.t("area.utilisation"),
        Area::Change => lang.t("area.change"),
        Area::EconomicProxy => lang.t("area.economic_proxy"),
    }
}

fn area_id(area: Area) -> &'static str {
    match area {
        Area::Reach => "reach",
        Area::Utilisation => "utilisation",
        Area::Change => "change",
        Area::EconomicProxy => "economic_proxy",
    }
}

fn period_kind_label(kind: PeriodKind, lang: Lang) -> &'static str {
    match kind {
        PeriodKind::Month => lang.t("period.month"),
        PeriodKind::Quarter => lang.t("period.quarter"),
        PeriodKind::HalfYear => lang.t("period.half"),
        PeriodKind::Year => lang.t("period.year"),
    }
}

/// An indicator's unit in the reader's language: the ready-made units are in the labels
/// table (`unit.*`); a contract's own unit is written as its definitions write it.
pub fn unit_label(unit: &str, lang: Lang) -> String {
    let key = format!("unit.{unit}");
    if crate::labels::has(&key) {
        crate::labels::text(lang, &key).to_owned()
    } else {
        unit.to_owned()
    }
}

/// The currency of the contract's amounts: its payment terms', the euro without them.
pub fn currency(terms: &ContractTerms) -> String {
    terms
        .payment_terms
        .as_ref()
        .map_or("EUR", |terms| terms.currency.as_str())
        .to_owned()
}

/// A decimal in an indicator's unit: a share as a percentage, an amount in the contract's
/// currency, anything else as a number with at most two decimals.
pub fn decimal_text(value: Decimal, unit: &str, currency: &str, lang: Lang) -> String {
    match unit {
        "share" => format::percent(value, lang),
        "EUR" => format::money(value, currency, lang),
        _ => {
            let value = value.normalize();
            format::number(value, value.scale().min(2), lang)
        }
    }
}

/// An indicator's value as the page writes it; `n.d.` when it has none.
pub fn value_text(value: Option<Value>, unit: &str, currency: &str, lang: Lang) -> String {
    match value {
        None => lang.t("dashboard.no_value").to_owned(),
        Some(Value::Count(count)) => format::count(count, lang),
        Some(Value::Money(amount)) => format::money(amount, currency, lang),
        Some(Value::Ratio(ratio)) => decimal_text(ratio, unit, currency, lang),
    }
}

/// The targets the terms in force at the end of the term set, by indicator: a target rule's,
/// else the funder's targeted indicator's.
pub fn targets(terms: &ContractTerms) -> BTreeMap<String, Decimal> {
    let mut targets = BTreeMap::new();
    if let Some(funder) = &terms.funder_terms {
        for targeted in &funder.targeted_indicators {
            targets.insert(targeted.indicator.clone(), targeted.target.value());
        }
    }
    if let Some(payment) = &terms.payment_terms {
        for rule in &payment.rules {
            if let PaymentRule::Target {
                indicator, target, ..
            } = rule
            {
                targets.insert(indicator.clone(), target.value());
            }
        }
    }
    targets
}

/// The parties and the procurement codes of the terms in force on `on` (a funder that joins
/// by amendment is a party from its effective date), label and text, in the order the
/// dashboard and the settlement's document show them.
pub fn party_pairs(contract: &Contract, on: NaiveDate, lang: Lang) -> Vec<(String, String)> {
    let terms = contract.terms_on(on);
    let mut pairs = vec![
        (lang.t("party.payer").to_owned(), terms.payer),
        (lang.t("party.operator").to_owned(), terms.operator),
    ];
    if let Some(funder) = terms.funder {
        pairs.push((lang.t("party.funder").to_owned(), funder));
    }
    pairs.push((lang.t("party.evaluator").to_owned(), terms.evaluator));
    let procurement = terms.procurement;
    if let Some(cig) = &procurement.cig {
        pairs.push((
            lang.t("procurement.cig").to_owned(),
            cig.as_str().to_owned(),
        ));
    }
    if let Some(cup) = &procurement.cup {
        pairs.push((
            lang.t("procurement.cup").to_owned(),
            cup.as_str().to_owned(),
        ));
    }
    if let Some(rup) = procurement.rup {
        pairs.push((lang.t("procurement.rup").to_owned(), rup));
    }
    pairs
}

/// The parties by name as the terms in force at the end of the term name them, as a
/// description list.
pub fn parties(contract: &Contract, lang: Lang) -> Markup {
    html! {
        dl.parties {
            @for (label, text) in party_pairs(contract, contract.registered.term_end_on, lang) {
                dt { (label) } dd { (text) }
            }
        }
    }
}

/// `dal 01/07/2023 al 31/12/2024`.
pub fn term(contract: &Contract, lang: Lang) -> String {
    let registered = &contract.registered;
    format!(
        "{} {} {} {}",
        lang.t("term.from_to"),
        format::date(registered.term_start_on, lang),
        lang.t("term.to"),
        format::date(registered.term_end_on, lang)
    )
}

/// `GET /contracts`: the contracts the key may read, by name, with parties and term.
pub async fn list(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = page::viewer(&web, &headers, lang).await?;
    let api_error = |error| PageError::from_api(lang, &error);
    let ids = screens::contracts(&web.api, &viewer.principal, Action::ReadIndicators)
        .await
        .map_err(api_error)?;
    let mut contracts = Vec::with_capacity(ids.len());
    for id in ids {
        let contract = screens::contract(&web.api, &id).await.map_err(api_error)?;
        contracts.push((id, contract));
    }
    let frame = Frame {
        lang,
        title: lang.t("contracts.title"),
        path: "/contracts",
        contract: None,
        viewer: Some(&viewer),
    };
    let body = html! {
        h1 { (lang.t("contracts.title")) }
        p { (lang.t("contracts.intro")) }
        @if contracts.is_empty() {
            p.notice { (lang.t("contracts.none")) }
        } @else {
            ul.contracts {
                @for (id, contract) in &contracts {
                    li {
                        h2 { a href={ "/contracts/" (id) } { (contract.registered.title) } }
                        p.term { (lang.t("contracts.term")) ": " (term(contract, lang)) }
                        (parties(contract, lang))
                    }
                }
            }
        }
    };
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}

/// One indicator over the term: its label, unit and values per period.
struct Series<'a> {
    id: &'a str,
    label: &'a str,
    unit: &'a str,
    values: Vec<(String, Option<Value>)>,
}

/// The indicators' series over the term, in the definitions' order.
fn series<'a>(reports: &'a [IndicatorReport], lang: Lang) -> Vec<Series<'a>> {
    let Some(first) = reports.first() else {
        return Vec::new();
    };
    first
        .indicators
        .iter()
        .map(|indicator| Series {
            id: &indicator.id,
            label: lang.pick(&indicator.label.it, &indicator.label.en),
            unit: &indicator.unit,
            values: reports
                .iter()
                .map(|report| {
                    let value = report
                        .indicators
                        .iter()
                        .find(|other| other.id == indicator.id)
                        .and_then(|other| other.value);
                    (report.period.to_string(), value)
                })
                .collect(),
        })
        .collect()
}

fn indicator_section(
    contract: &str,
    series: &Series<'_>,
    target: Option<Decimal>,
    currency: &str,
    lang: Lang,
) -> Markup {
    let unit = unit_label(series.unit, lang);
    let bars = series
        .values
        .iter()
        .map(|(period, value)| Bar {
            label: period.clone(),
            value: value.map(Value::decimal),
            shown: value_text(*value, series.unit, currency, lang),
        })
        .collect();
    let target_text = target.map(|target| decimal_text(target, series.unit, currency, lang));
    let tick = |value: Decimal| decimal_text(value, series.unit, currency, lang);
    let description = format!("{} · {}", series.label, lang.t("chart.title"));
    let svg = chart::bar_chart(&Chart {
        title: series.label,
        description: &description,
        x_label: lang.t("chart.axis_periods"),
        y_label: &unit,
        bars,
        target: target.zip(target_text.clone()),
        tick: &tick,
    });
    html! {
        section.indicator id={ "indicator-" (series.id) } {
            h3 { (series.label) }
            p.meta {
                (lang.t("dashboard.unit")) ": " (unit)
                @if let Some(target) = &target_text {
                    " · " (lang.t("dashboard.target")) ": " strong.target { (target) }
                }
            }
            figure {
                (svg)
            }
            details {
                summary { (lang.t("dashboard.table")) }
                table.values {
                    thead { tr {
                        th scope="col" { (lang.t("dashboard.period")) }
                        th scope="col" { (lang.t("dashboard.value")) }
                        th scope="col" { (lang.t("dashboard.explain")) }
                    } }
                    tbody {
                        @for (period, value) in &series.values {
                            tr {
                                th scope="row" { (period) }
                                td.figure data-indicator=(series.id) data-period=(period) {
                                    (value_text(*value, series.unit, currency, lang))
                                }
                                td {
                                    a href={ "/contracts/" (contract) "/indicators/" (series.id) "/" (period) }
                                        title=(lang.t("dashboard.explain_hint")) {
                                        (lang.t("dashboard.explain"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The grid themes × areas: each cell links to its indicators.
fn grid(report: &IndicatorReport, lang: Lang) -> Markup {
    let label_of = |id: &str| {
        report
            .indicators
            .iter()
            .find(|indicator| indicator.id == id)
            .map_or(id.to_owned(), |indicator| {
                lang.pick(&indicator.label.it, &indicator.label.en)
                    .to_owned()
            })
    };
    html! {
        section.grid {
            h2 { (lang.t("dashboard.grid")) }
            p { (lang.t("dashboard.grid_intro")) }
            table.grid {
                thead { tr {
                    td {}
                    @for area in AREAS { th scope="col" { (area_label(area, lang)) } }
                } }
                tbody {
                    @for theme in &report.themes {
                        tr {
                            th scope="row" { (lang.pick(&theme.label.it, &theme.label.en)) }
                            @for area in AREAS {
                                td {
                                    @let cell = report.grid.iter().find(|cell| cell.theme == theme.id && cell.area == area);
                                    @match cell {
                                        Some(cell) if !cell.indicators.is_empty() => {
                                            ul { @for id in &cell.indicators {
                                                li { a href={ "#indicator-" (id) } { (label_of(id)) } }
                                            } }
                                        }
                                        _ => { span.empty { (lang.t("dashboard.empty_cell")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The dashboard's content once read: the parts other pages may reuse.
pub fn dashboard_body(
    id: &esito_domain::ContractId,
    contract: &Contract,
    reports: &[IndicatorReport],
    viewer: &Viewer,
    lang: Lang,
) -> Markup {
    let terms = contract.terms_on(contract.registered.term_end_on);
    let currency = currency(&terms);
    let targets = targets(&terms);
    let all = series(reports, lang);
    let as_of = reports.iter().map(|report| report.as_of).max().unwrap_or(0);
    let contract_id = id.as_str();
    let may_settle = viewer.principal.check(id, Action::ReadSettlements).is_ok();
    html! {
        h1 { (contract.registered.title) }
        section.summary {
            h2 { (lang.t("dashboard.parties")) }
            (parties(contract, lang))
            h2 { (lang.t("dashboard.term")) }
            p {
                (term(contract, lang)) " · " (lang.t("term.periods")) " "
                (period_kind_label(contract.registered.period_kind, lang))
            }
            @if may_settle {
                p { a.button href={ "/contracts/" (contract_id) "/settlements" } { (lang.t("dashboard.settlements")) } }
            }
        }
        @if all.is_empty() {
            p.notice { (lang.t("dashboard.no_indicators")) }
        } @else {
            p.as-of { (lang.t("dashboard.as_of")) " " strong { (as_of) } }
            @if let Some(first) = reports.first() {
                @if !first.themes.is_empty() { (grid(first, lang)) }
            }
            h2 { (lang.t("dashboard.areas")) }
            @for area in AREAS {
                @let in_area: Vec<&Series> = all.iter().filter(|series| {
                    reports[0].indicators.iter().any(|i| i.id == series.id && i.area == area)
                }).collect();
                @if !in_area.is_empty() {
                    section.area id={ "area-" (area_id(area)) } {
                        h2 { (area_label(area, lang)) }
                        @for series in in_area {
                            (indicator_section(contract_id, series, targets.get(series.id).copied(), &currency, lang))
                        }
                    }
                }
            }
        }
    }
}

/// `GET /contracts/{id}`: the dashboard.
pub async fn dashboard(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (viewer, id) =
        page::viewer_of(&web, &headers, lang, &contract_text, Action::ReadIndicators).await?;
    let api_error = |error| PageError::from_api(lang, &error);
    let contract = screens::contract(&web.api, &id).await.map_err(api_error)?;
    let periods = contract.registered.term_periods();
    let reports = match web.reports.of_term(&web.api, &id, &periods).await {
        Ok(reports) => reports,
        Err(error) if error.code == "no_indicator_definitions" => Default::default(),
        Err(error) => return Err(api_error(error)),
    };
    let path = format!("/contracts/{id}");
    let frame = Frame {
        lang,
        title: &contract.registered.title,
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(&viewer),
    };
    let body = dashboard_body(&id, &contract, &reports, &viewer, lang);
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registered without a funder or codes; a funder and the codes join on 2024-01-01.
    fn contract() -> Contract {
        serde_json::from_value(serde_json::json!({
            "registered": {
                "title": "Prova",
                "template": "cuneo",
                "payer": "Comune di Prova",
                "operator": "Cooperativa Gestore",
                "evaluator": "Valutatore Indipendente",
                "term_start_on": "2023-07-01",
                "term_end_on": "2024-12-31",
                "period_kind": "quarter"
            },
            "amendments": [{
                "effective_on": "2024-01-01",
                "changes": [
                    {"kind": "funder", "funder": "Fondazione Finanziatrice"},
                    {"kind": "procurement", "procurement": {
                        "cig": "Z8C3B1A9F2",
                        "cup": "C12F22000310001",
                        "rup": "Responsabile Unico del Progetto, Settore Politiche Sociali"
                    }}
                ]
            }]
        }))
        .expect("a contract")
    }

    fn labels(pairs: &[(String, String)]) -> Vec<&str> {
        pairs.iter().map(|(label, _)| label.as_str()).collect()
    }

    #[test]
    fn a_funder_that_joins_by_amendment_is_a_party_from_its_effective_date() {
        let contract = contract();
        let before = party_pairs(&contract, "2023-12-31".parse().expect("a date"), Lang::It);
        assert_eq!(
            labels(&before),
            [
                "Amministrazione committente",
                "Soggetto gestore",
                "Soggetto valutatore"
            ]
        );
        let after = party_pairs(&contract, "2024-03-31".parse().expect("a date"), Lang::It);
        assert!(after.contains(&(
            "Soggetto finanziatore".to_owned(),
            "Fondazione Finanziatrice".to_owned()
        )));
        for (label, text) in [
            ("procurement.cig", "Z8C3B1A9F2"),
            ("procurement.cup", "C12F22000310001"),
            (
                "procurement.rup",
                "Responsabile Unico del Progetto, Settore Politiche Sociali",
            ),
        ] {
            for lang in [Lang::It, Lang::En] {
                let pairs = party_pairs(&contract, "2024-03-31".parse().expect("a date"), lang);
                assert!(
                    pairs.contains(&(lang.t(label).to_owned(), text.to_owned())),
                    "{label} in {pairs:?}"
                );
            }
        }
    }
}
