//! The events behind one value (`GET /contracts/{id}/indicators/{indicator}/{period}`): each
//! entry with its log position and a link to its inclusion proof, a page of them at a time.
//!
//! Invariant: the same facts as `GET /v1/contracts/{id}/indicators/{indicator}/explain`, with
//! the same permission (`Action::ReadIndicators`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
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

/// What part of the computation a fact is, in the reader's language.
fn part_label(part: Part, lang: Lang) -> &'static str {
    match part {
        Part::Main => lang.t("part.main"),
        Part::Numerator => lang.t("part.numerator"),
        Part::Denominator => lang.t("part.denominator"),
        Part::Available => lang.t("part.available"),
        Part::Withdrawn => lang.t("part.withdrawn"),
        Part::Occupied => lang.t("part.occupied"),
        Part::Vacated => lang.t("part.vacated"),
        Part::Entered => lang.t("part.entered"),
        Part::Reached => lang.t("part.reached"),
        Part::Start => lang.t("part.start"),
        Part::Outcome => lang.t("part.outcome"),
    }
}

/// `GET /contracts/{id}/indicators/{indicator}/{period}[?after=N]`.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path((contract_text, indicator, period_text)): Path<(String, String, String)>,
    query: Result<Query<ExplainQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (viewer, id) =
        page::viewer_of(&web, &headers, lang, &contract_text, Action::ReadIndicators).await?;
    let api_error = |error| PageError::from_api(lang, &error);
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
                            td { (part_label(fact.part, lang)) }
                            td { @if let Some(key) = &fact.key { code { (key) } } }
                            td.amount { @if let Some(amount) = fact.amount { (format::money(amount, &currency, lang)) } }
                            td { code { (fact.event_id) } }
                            td {
                                a href={ "/contracts/" (id) "/proofs/inclusion?position=" (fact.position) "&size=" (report.as_of) } type="application/json" {
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

#[derive(Deserialize)]
pub struct ProofQuery {
    position: u64,
    #[serde(default)]
    size: Option<u64>,
}

/// `GET /contracts/{id}/proofs/inclusion?position=P[&size=N]`: the inclusion proof as the
/// API's JSON (`GET /v1/contracts/{id}/proofs/inclusion`), for a reader signed in: the link
/// each event of an explanation carries.
pub async fn proof(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    query: Result<Query<ProofQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, id) = page::viewer_of(&web, &headers, lang, &contract_text, Action::ReadProofs).await?;
    let api_error = |error| PageError::from_api(lang, &error);
    let Ok(Query(query)) = query else {
        return Err(PageError::not_found(lang));
    };
    let proof = screens::inclusion(&web.api, &id, query.position, query.size)
        .await
        .map_err(api_error)?;
    Ok(axum::Json(proof).into_response())
}
