//! Settlements: every period of the term with its status, total and who validated, approved
//! and paid it and when (`GET /contracts/{id}/settlements`); one period's document as a page
//! and as PDF (`GET /contracts/{id}/settlements/{period}[.pdf]`); and the role's actions as
//! buttons, each a form with the session's CSRF token and a fresh event id, that call the
//! API's own calculation and steps and come back (`303`).
//!
//! Invariant: reading checks `Action::ReadSettlements`, as `GET /v1/.../settlements` does; a
//! button is shown only when the permission table allows its command and the status allows
//! the step (`lifecycle.rs`); a form is refused (403 page, nothing written) unless its CSRF
//! token is the session's.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use esito_api::auth::Action;
use esito_api::screens;
use esito_domain::{ContractId, EventId};
use esito_indicators::Period;
use esito_settlement::SettlementDocument;
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::document;
use crate::format;
use crate::lang::Lang;
use crate::lifecycle::{self, Step};
use crate::page::{self, layout, respond, see_other, Frame, PageError, Viewer};
use crate::Web;

fn api_error(lang: Lang) -> impl Fn(esito_api::error::ApiError) -> PageError {
    move |error| PageError::from_api(lang, &error)
}

/// The settlement's document, read from the API's JSON of it.
fn document_of(view: &Value, lang: Lang) -> Result<SettlementDocument, PageError> {
    serde_json::from_value(view["document"].clone()).map_err(|error| {
        tracing::error!(%error, "a settlement's document does not read");
        PageError::from_api(
            lang,
            &esito_api::error::ApiError::new(
                esito_api::error::ErrorCode::Internal,
                "a settlement's document does not read",
            ),
        )
    })
}

/// Whether the viewer's key may take `step` on the contract (the permission table) and the
/// settlement's `status` allows it.
fn may_take(viewer: &Viewer, contract: &ContractId, step: &Step, status: &str) -> bool {
    step.after.contains(&status)
        && screens::step_command(step.step).is_some_and(|command| {
            viewer
                .principal
                .check(contract, Action::Command(command))
                .is_ok()
        })
}

/// The hidden fields every form carries: the session's CSRF token and a fresh event id, so a
/// form sent twice records once.
fn hidden(viewer: &Viewer) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(viewer.session.csrf);
        input type="hidden" name="event_id" value=(uuid::Uuid::new_v4());
    }
}

/// The calculate button for `period`.
fn calculate_form(viewer: &Viewer, contract: &ContractId, period: &str, lang: Lang) -> Markup {
    html! {
        form method="post" action={ "/contracts/" (contract) "/settlements" } {
            (hidden(viewer))
            input type="hidden" name="period" value=(period);
            button type="submit" { (lang.t("settlements.calculate")) " " (period) }
        }
    }
}

/// The buttons of the steps the viewer may take on a settlement in `status`.
fn step_forms(
    viewer: &Viewer,
    contract: &ContractId,
    period: &str,
    status: &str,
    as_of: u64,
    lang: Lang,
) -> Markup {
    html! {
        @for step in lifecycle::STEPS.iter().filter(|step| may_take(viewer, contract, step, status)) {
            form.step method="post" action={ "/contracts/" (contract) "/settlements/" (period) "/" (step.step) } {
                (hidden(viewer))
                @if step.names_as_of {
                    input type="hidden" name="as_of" value=(as_of);
                }
                @for field in step.fields {
                    @let id = format!("{}-{}-{}", step.step, field.name, period);
                    label for=(id) { (crate::labels::text(lang, field.label)) }
                    input id=(id) name=(field.name) type=(field.input) required[field.required];
                }
                button type="submit" data-step=(step.step) { (crate::labels::text(lang, step.label)) }
            }
        }
    }
}

/// `GET /contracts/{id}/settlements`.
pub async fn list(
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
    let contract = screens::contract(&web.api, &id)
        .await
        .map_err(api_error(lang))?;
    let views = screens::settlements(&web.api, &id)
        .await
        .map_err(api_error(lang))?;
    let by_period: HashMap<String, &Value> = views
        .iter()
        .filter_map(|view| Some((view["period"].as_str()?.to_owned(), view)))
        .collect();
    let may_calculate = viewer
        .principal
        .check(&id, Action::CalculateSettlement)
        .is_ok();
    let periods = contract.registered.term_periods();
    // The first period to settle is the one the payment terms take effect in: those before
    // it are listed, and settled under no terms.
    let first_unsettled = contract
        .settlement_periods()
        .iter()
        .map(ToString::to_string)
        .find(|period| !by_period.contains_key(period));
    let columns: Vec<&Step> = lifecycle::LIST_COLUMNS
        .iter()
        .filter_map(|step| lifecycle::step(step))
        .collect();
    let path = format!("/contracts/{id}/settlements");
    let frame = Frame {
        lang,
        title: lang.t("settlements.title"),
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(&viewer),
    };
    let body = html! {
        h1 { (lang.t("settlements.title")) }
        p { (lang.t("settlements.intro")) }
        table.settlements {
            thead { tr {
                th scope="col" { (lang.t("settlements.period")) }
                th scope="col" { (lang.t("settlements.status")) }
                th scope="col" class="amount" { (lang.t("settlements.total")) }
                @for step in &columns { th scope="col" { (crate::labels::text(lang, step.column)) } }
                th scope="col" { (lang.t("settlements.actions")) }
            } }
            tbody {
                @for period in periods.iter().map(ToString::to_string) {
                    @let view = by_period.get(&period);
                    tr {
                        th scope="row" {
                            @if view.is_some() {
                                a href={ (path) "/" (period) } { (format::period(&period, lang)) }
                            } @else { (format::period(&period, lang)) }
                        }
                        @match view {
                            Some(view) => {
                                @let status = view["status"].as_str().unwrap_or_default();
                                @let recorded = document::steps_recorded(view);
                                @let currency = view["document"]["currency"].as_str().unwrap_or("EUR");
                                td { strong class={ "badge " (if lifecycle::is_final(status) { "final" } else { "draft" }) } { (document::status_label(status, lang)) } }
                                td.amount data-period=(period) {
                                    @if let Some(total) = view["document"]["total_with_vat"].as_str().and_then(|t| t.parse().ok()) {
                                        (format::money(total, currency, lang))
                                    }
                                }
                                @for step in &columns {
                                    td {
                                        @if let Some((who, when)) = recorded.get(step.event) {
                                            (who) br; (format::instant(when, lang))
                                        }
                                    }
                                }
                                td.actions {
                                    a href={ (path) "/" (period) } { (lang.t("settlements.open")) }
                                    @if may_calculate && (status == "calculated" || status == "withdrawn") {
                                        (calculate_form(&viewer, &id, &period, lang))
                                    }
                                }
                            }
                            None => {
                                td { (lang.t("settlements.not_settled")) }
                                td {}
                                @for _ in &columns { td {} }
                                td.actions {
                                    @if may_calculate && first_unsettled.as_deref() == Some(period.as_str()) {
                                        (calculate_form(&viewer, &id, &period, lang))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}

/// The indicators' labels by id in the reader's language, from the period's report.
async fn indicator_labels(
    web: &Web,
    id: &ContractId,
    period: Period,
    lang: Lang,
) -> HashMap<String, String> {
    match screens::report(&web.api, id, period).await {
        Ok(report) => report
            .indicators
            .into_iter()
            .map(|value| {
                let label = lang.pick(&value.label.it, &value.label.en).to_owned();
                (value.id, label)
            })
            .collect(),
        Err(_) => HashMap::new(),
    }
}

/// `GET /contracts/{id}/settlements/{period}` and `.../{period}.pdf`.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path((contract_text, period_text)): Path<(String, String)>,
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
    let (period_text, pdf) = match period_text.strip_suffix(".pdf") {
        Some(period) => (period.to_owned(), true),
        None => (period_text, false),
    };
    let period: Period = period_text
        .parse()
        .map_err(|_| PageError::not_found(lang))?;
    let contract = screens::contract(&web.api, &id)
        .await
        .map_err(api_error(lang))?;
    let view = screens::settlement_view(&web.api, &id, &period.to_string())
        .await
        .map_err(api_error(lang))?;
    let document = document_of(&view, lang)?;
    let labels = indicator_labels(&web, &id, period, lang).await;
    let sheet = document::sheet(&contract, &view, &document, &labels, lang);
    if pdf {
        let bytes = crate::pdf::write(&sheet, lang);
        let mut response = bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("inline; filename=\"{id}-{period}.pdf\""))
                .expect("ids and periods are ASCII"),
        );
        return Ok(response);
    }
    let status = view["status"].as_str().unwrap_or_default();
    let path = format!("/contracts/{id}/settlements/{period}");
    let frame = Frame {
        lang,
        title: &sheet.title,
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(&viewer),
    };
    let may_calculate = viewer
        .principal
        .check(&id, Action::CalculateSettlement)
        .is_ok();
    let body = html! {
        nav.no-print {
            a href={ "/contracts/" (id) "/settlements" } { (lang.t("document.back")) }
            " · "
            a href={ (path) ".pdf" } type="application/pdf" { (lang.t("document.pdf")) }
        }
        (document::html(&sheet, lang))
        section.actions.no-print {
            (step_forms(&viewer, &id, &period.to_string(), status, document.as_of, lang))
            @if may_calculate && (status == "calculated" || status == "withdrawn") {
                (calculate_form(&viewer, &id, &period.to_string(), lang))
            }
        }
    };
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}

/// A form's fields, or the 403 page when its CSRF token is not the session's.
fn checked_form(
    viewer: &Viewer,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
    lang: Lang,
) -> Result<HashMap<String, String>, PageError> {
    let fields = form.map(|Form(fields)| fields).unwrap_or_default();
    crate::check_csrf(viewer, fields.get("csrf").map(String::as_str), lang)?;
    Ok(fields)
}

/// A form's viewer, its fields (its CSRF token checked first) and the contract it is about,
/// if the viewer may take `action` on it.
async fn opened_form(
    web: &Web,
    headers: &HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
    contract_text: &str,
    action: Action,
    lang: Lang,
) -> Result<(Viewer, HashMap<String, String>, ContractId), PageError> {
    let viewer = page::viewer(web, headers, lang).await?;
    let fields = checked_form(&viewer, form, lang)?;
    let id = screens::open(&web.api, &viewer.principal, contract_text, action)
        .await
        .map_err(api_error(lang))?;
    Ok((viewer, fields, id))
}

fn event_id(fields: &HashMap<String, String>, lang: Lang) -> Result<EventId, PageError> {
    fields
        .get("event_id")
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            PageError::from_api(
                lang,
                &esito_api::error::ApiError::new(
                    esito_api::error::ErrorCode::InvalidValue,
                    "event_id: the form's event id is missing or not a UUID: reload the page",
                )
                .with_field("event_id"),
            )
        })
}

/// `POST /contracts/{id}/settlements` with `period`: the API's calculation, then the document.
pub async fn calculate(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    let (viewer, fields, id) = opened_form(
        &web,
        &headers,
        form,
        &contract_text,
        Action::CalculateSettlement,
        lang,
    )
    .await?;
    let event_id = event_id(&fields, lang)?;
    let period: Period = fields
        .get("period")
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| PageError::not_found(lang))?;
    screens::calculate(&web.api, &viewer.principal, &id, period, event_id)
        .await
        .map_err(api_error(lang))?;
    Ok(see_other(&format!("/contracts/{id}/settlements/{period}")))
}

/// `POST /contracts/{id}/settlements/{period}/{step}`: the API's step, then the document.
pub async fn step(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path((contract_text, period_text, step_text)): Path<(String, String, String)>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    let (viewer, fields, id) = opened_form(
        &web,
        &headers,
        form,
        &contract_text,
        Action::ReadSettlements,
        lang,
    )
    .await?;
    let step = lifecycle::step(&step_text).ok_or_else(|| PageError::not_found(lang))?;
    let period: Period = period_text
        .parse()
        .map_err(|_| PageError::not_found(lang))?;
    let mut body = serde_json::Map::new();
    body.insert("event_id".to_owned(), json!(event_id(&fields, lang)?));
    if step.names_as_of {
        let as_of: Option<u64> = fields.get("as_of").and_then(|text| text.parse().ok());
        body.insert("as_of".to_owned(), json!(as_of));
    }
    for field in step.fields {
        match fields.get(field.name).map(|value| value.trim()) {
            Some(value) if !value.is_empty() => {
                body.insert(field.name.to_owned(), json!(value));
            }
            _ => {}
        }
    }
    screens::step(
        &web.api,
        &viewer.principal,
        &id,
        &period.to_string(),
        step.step,
        body,
    )
    .await
    .map_err(api_error(lang))?;
    Ok(see_other(&format!("/contracts/{id}/settlements/{period}")))
}
