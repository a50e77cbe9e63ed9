//! The funder's page (`GET /contracts/{id}/funder`): capital disbursed, principal outstanding,
//! return accrued and paid over the term as charts and a table, each period's waterfall, the
//! achievement index per period and the guarantee at the end.
//!
//! Invariant: every figure is a settlement document's (`esito_settlement::funder_account`),
//! read as `GET /v1/contracts/{id}/settlements/{period}` reads it, with the same permission
//! (`Action::ReadSettlements`); a withdrawn settlement adds nothing.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use esito_api::auth::Action;
use esito_api::screens;
use esito_settlement::{funder_account, Amount, FunderAccount, FunderPeriod, SettlementDocument};
use maud::{html, Markup};
use rust_decimal::Decimal;

use crate::chart::{self, Bar, Chart};
use crate::contracts::{currency, parties, term};
use crate::format;
use crate::lang::Lang;
use crate::page::{self, layout, respond, Frame, PageError};
use crate::Web;

/// The documents of the settlements that stand (not withdrawn), from the API's views.
pub fn standing_documents(views: &[serde_json::Value]) -> Result<Vec<SettlementDocument>, String> {
    views
        .iter()
        .filter(|view| view["status"] != "withdrawn")
        .map(|view| {
            serde_json::from_value(view["document"].clone())
                .map_err(|error| format!("a settlement's document does not read: {error}"))
        })
        .collect()
}

/// `GET /contracts/{id}/funder`.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (viewer, id) = page::viewer_of(
        &web,
        &headers,
        lang,
        &contract_text,
        Action::ReadSettlements,
    )
    .await?;
    let api_error = |error| PageError::from_api(lang, &error);
    let contract = screens::contract(&web.api, &id).await.map_err(api_error)?;
    let views = screens::settlements(&web.api, &id)
        .await
        .map_err(api_error)?;
    let documents = standing_documents(&views).map_err(|detail| {
        tracing::error!(%detail, "the funder's page failed");
        PageError::Page {
            lang,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: lang.t("error.failed_title"),
            message: lang.t("error.failed").to_owned(),
            field: None,
        }
    })?;
    let account = funder_account(&documents);
    let terms = contract.terms_on(contract.registered.term_end_on);
    let currency = currency(&terms);
    let periods: Vec<String> = contract
        .registered
        .term_periods()
        .into_iter()
        .map(|period| period.to_string())
        .collect();
    let title = lang.t("funder.title");
    let path = format!("/contracts/{id}/funder");
    let frame = Frame {
        lang,
        title,
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(&viewer),
    };
    let body = html! {
        h1 { (title) }
        section.summary {
            (parties(&contract, lang))
            p { (term(&contract, lang)) }
            @if let Some(funder) = &contract.registered.funder {
                p { (lang.t("funder.intro")) " " strong { (funder) } "." }
            }
        }
        @if terms.funder_terms.is_none() {
            p.notice { (lang.t("funder.no_funder")) }
        } @else if account.periods.is_empty() {
            p.notice { (lang.t("funder.no_settlement")) }
        } @else {
            (body(&account, &periods, &currency, lang))
        }
    };
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}

fn money(amount: Amount, currency: &str, lang: Lang) -> String {
    format::money(amount.value(), currency, lang)
}

/// One chart of a figure per period of the term (no bar where no settlement stands).
fn chart_of(
    title: &str,
    periods: &[String],
    account: &FunderAccount,
    figure: impl Fn(&FunderPeriod) -> Decimal,
    shown: impl Fn(Decimal) -> String,
    lang: Lang,
) -> Markup {
    let bars = periods
        .iter()
        .map(|label| {
            let value = account
                .periods
                .iter()
                .find(|row| row.period.to_string() == *label)
                .map(&figure);
            Bar {
                label: label.clone(),
                value,
                shown: value.map_or_else(|| lang.t("dashboard.no_value").to_owned(), &shown),
            }
        })
        .collect();
    let description = format!("{title} · {}", lang.t("funder.chart_hint"));
    html! {
        figure {
            (chart::bar_chart(&Chart {
                title,
                description: &description,
                x_label: lang.t("chart.axis_periods"),
                y_label: title,
                bars,
                target: None,
                tick: &shown,
            }))
        }
    }
}

/// An axis value in whole units of the currency (`37.500 €`): short enough for the axis.
fn whole_money(value: Decimal, currency: &str, lang: Lang) -> String {
    let whole = format::money(value.round(), currency, lang);
    let point = if lang == Lang::It { ",00" } else { ".00" };
    whole.replacen(point, "", 1)
}

fn body(account: &FunderAccount, periods: &[String], currency: &str, lang: Lang) -> Markup {
    let in_money = |value: Decimal| whole_money(value, currency, lang);
    html! {
        section.charts {
            h2 { (lang.t("funder.over_term")) }
            h3 { (lang.t("funder.principal_outstanding")) }
            (chart_of(lang.t("funder.principal_outstanding"), periods, account,
                |row| row.principal_outstanding.value(), in_money, lang))
            h3 { (lang.t("funder.return_paid")) }
            (chart_of(lang.t("funder.return_paid"), periods, account,
                |row| row.return_paid.value(), in_money, lang))
            h3 { (lang.t("funder.index")) }
            (chart_of(lang.t("funder.index"), periods, account,
                |row| row.achievement_index, |value| format::number(value, 3, lang), lang))
        }
        section {
            h2 { (lang.t("funder.table")) }
            div.scroll { table.values.funder {
                thead { tr {
                    th scope="col" { (lang.t("dashboard.period")) }
                    th scope="col" { (lang.t("funder.principal_disbursed")) }
                    th scope="col" { (lang.t("funder.principal_repaid")) }
                    th scope="col" { (lang.t("funder.principal_outstanding")) }
                    th scope="col" { (lang.t("funder.accrued_in_period")) }
                    th scope="col" { (lang.t("funder.return_accrued")) }
                    th scope="col" { (lang.t("funder.return_paid")) }
                    th scope="col" { (lang.t("funder.return_unpaid")) }
                    th scope="col" { (lang.t("funder.index")) }
                    th scope="col" { (lang.t("funder.annual_rate")) }
                } }
                tbody {
                    @for row in &account.periods {
                        tr data-period=(row.period) {
                            th scope="row" { (row.period) }
                            td.figure data-figure="principal_disbursed" { (money(row.principal_disbursed, currency, lang)) }
                            td.figure data-figure="principal_repaid" { (money(row.principal_repaid, currency, lang)) }
                            td.figure data-figure="principal_outstanding" { (money(row.principal_outstanding, currency, lang)) }
                            td.figure data-figure="accrued_in_period" { (money(row.accrued_in_period, currency, lang)) }
                            td.figure data-figure="return_accrued" { (money(row.return_accrued, currency, lang)) }
                            td.figure data-figure="return_paid" { (money(row.return_paid, currency, lang)) }
                            td.figure data-figure="return_unpaid" { (money(row.return_unpaid, currency, lang)) }
                            td.figure data-figure="achievement_index" { (format::number(row.achievement_index, 6, lang)) }
                            td.figure data-figure="annual_rate" { (format::percent(row.annual_rate.value(), lang)) }
                        }
                    }
                }
            } }
        }
        section {
            h2 { (lang.t("funder.waterfalls")) }
            p { (lang.t("funder.waterfall_intro")) }
            @for row in &account.periods {
                @let waterfall = &row.waterfall;
                details {
                    summary { (lang.t("dashboard.period")) " " (row.period) ": "
                        (lang.t("funder.to_return")) " " (money(waterfall.to_return, currency, lang)) ", "
                        (lang.t("funder.to_principal")) " " (money(waterfall.to_principal, currency, lang)) ", "
                        (lang.t("funder.to_operator")) " " (money(waterfall.to_operator, currency, lang)) }
                    table.values {
                        tbody {
                            tr { th scope="row" { (lang.t("funder.payment")) } td.figure { (money(waterfall.payment, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.limit")) } td.figure { (money(waterfall.funder_limit, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.return_due")) } td.figure { (money(waterfall.return_due, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.to_return")) } td.figure { (money(waterfall.to_return, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.to_principal")) } td.figure { (money(waterfall.to_principal, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.to_operator")) } td.figure { (money(waterfall.to_operator, currency, lang)) } }
                        }
                    }
                    ol.arithmetic { @for step in &waterfall.arithmetic { li { code { (crate::arithmetic::in_words(step, lang)) } } } }
                }
            }
        }
        section {
            h2 { (lang.t("funder.guarantee")) }
            @match &account.guarantee {
                Some(guarantee) => {
                    table.values {
                        tbody {
                            tr { th scope="row" { (lang.t("funder.principal_outstanding")) } td.figure { (money(guarantee.principal_outstanding, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.guarantee_share")) } td.figure { (format::percent(guarantee.guarantee_share.value(), lang)) } }
                            tr { th scope="row" { (lang.t("funder.covered")) } td.figure data-figure="covered" { (money(guarantee.covered, currency, lang)) } }
                            tr { th scope="row" { (lang.t("funder.not_recovered")) } td.figure { (money(guarantee.not_recovered, currency, lang)) } }
                        }
                    }
                    p { code { (crate::arithmetic::in_words(&guarantee.arithmetic, lang)) } }
                }
                None => { p.notice { (lang.t("funder.guarantee_later")) } }
            }
        }
    }
}
