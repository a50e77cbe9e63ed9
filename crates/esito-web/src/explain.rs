//! The events behind one value (`GET /contracts/{id}/indicators/{indicator}/{period}`): each
//! entry with its log position and a link to its inclusion proof, a page of them at a time.
//!
//! Invariant: the same facts as `GET /v1/contracts/{id}/indicators/{indicator}/explain`, with
//! the same permission (`Action::ReadIndicators`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use esito_api::auth::Action;
use esito_api::screens;
use esito_indicators::{Part, Period};
use maud::html;
use serde::Deserialize;

use crate::contracts::{currency, unit_label, value_text};
use crate::format;
use crate::lang::Lang;
use crate::page::{self, layout, respond, Frame, PageError};
use crate::Web;

/// Events per page.
pub const PAGE_SIZE: u32 = 100;

#[derive(Deserialize)]
pub struct ExplainQuery {
    #[serde(default)]
    after: Option<u64>,
}

fn part_label(part: Part) -> &'static str {
    part.as_str()
}

/// `GET /contracts/{id}/indicators/{indicator}/{period}[?after=N]`.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path((contract_text, indicator, period_text)): Path<(String, String, String)>,
    query: Result<Query<ExplainQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = page::viewer(&web, &headers, lang).await?;
    let api_error = |error| PageError::from_api(lang, &error);
    let id = screens::open(
        &web.api,
        &viewer.principal,
        &contract_text,
        Action::ReadIndicators,
    )
    .await
    .map_err(api_error)?;
    let period: Period = period_text
        .parse()
        .map_err(|_| PageError::not_found(lang))?;
    let after = query.ok().and_then(|Query(query)| query.after).unwrap_or(0);
    let contract = screens::contract(&web.api, &id).await.map_err(api_error)?;
    let (report, facts) = screens::explain(&web.api, &id, &indicator, period, after, PAGE_SIZE)
        .await
        .map_err(api_error)?;
    let value = report
        .indicators
        .iter()
        .find(|value| value.id == indicator)
        .ok_or_else(|| PageError::not_found(lang))?;
    let currency = currency(&contract.terms_on(contract.registered.term_end_on));
    let label = lang.pick(&value.label.it, &value.label.en);
    let next = (facts.len() == PAGE_SIZE as usize)
        .then(|| facts.last().map(|fact| fact.position))
        .flatten();
    let path = format!("/contracts/{id}/indicators/{indicator}/{period}");
    let title = format!("{label} · {period}");
    let frame = Frame {
        lang,
        title: &title,
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(&viewer),
    };
    let body = html! {
        h1 { (lang.t("explain.title")) }
        dl.parties {
            dt { (lang.t("document.indicator")) } dd { (label) }
            dt { (lang.t("dashboard.period")) } dd {
                (period) " (" (format::date(report.start_on, lang)) " – "
                (format::date(report.end_on.pred_opt().unwrap_or(report.end_on), lang)) ")"
            }
            dt { (lang.t("dashboard.value")) } dd {
                strong.figure data-indicator=(indicator) data-period=(period) {
                    (value_text(value.value, &value.unit, &currency, lang))
                }
                " " (unit_label(&value.unit, lang))
            }
            dt { (lang.t("dashboard.as_of")) } dd { (report.as_of) }
        }
        p { (lang.t("explain.intro")) }
        @if facts.is_empty() {
            p.notice { (lang.t("explain.none")) }
        } @else {
            table.facts {
                thead { tr {
                    th scope="col" { (lang.t("explain.position")) }
                    th scope="col" { (lang.t("explain.date")) }
                    th scope="col" { (lang.t("explain.part")) }
                    th scope="col" { (lang.t("explain.key")) }
                    th scope="col" class="amount" { (lang.t("explain.amount")) }
                    th scope="col" { (lang.t("explain.event")) }
                    th scope="col" { (lang.t("explain.proof")) }
                } }
                tbody {
                    @for fact in &facts {
                        tr {
                            td.figure { (fact.position) }
                            td { (format::date(fact.local_date, lang)) }
                            td { (part_label(fact.part)) }
                            td { @if let Some(key) = &fact.key { code { (key) } } }
                            td.amount { @if let Some(amount) = fact.amount { (format::money(amount, &currency, lang)) } }
                            td { code { (fact.event_id) } }
                            td {
                                a href={ "/v1/contracts/" (id) "/proofs/inclusion?position=" (fact.position) "&size=" (report.as_of) } {
                                    (lang.t("explain.proof_link")) " " (fact.position)
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a href={ (path) "?after=" (next) } { (lang.t("explain.more")) } }
            }
        }
        p { a href={ "/contracts/" (id) "#indicator-" (indicator) } { (lang.t("explain.back")) } }
    };
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}
