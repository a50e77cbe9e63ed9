//! The operator's page (`GET /contracts/{id}/record`): forms for the events an operator records
//! most (a centre access, a rent payment, a tenant milestone, a delivery), each sent by
//! `POST /contracts/{id}/record/{form}`.
//!
//! Invariant: a form becomes the command the API's endpoint would build from the same fields
//! (`esito_api::screens::record`: the same permission, parsing and append), so it is refused
//! for the same reason, named beside the same field, and nothing is written; every form
//! carries a fresh event id, so the same form sent twice records one event; the page shows
//! only the forms whose command the key may send.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use esito_api::auth::Action;
use esito_api::screens;
use esito_domain::{ContractId, OccurredAt};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::lang::Lang;
use crate::page::{self, layout, respond, see_other, Frame, PageError, Viewer};
use crate::Web;

/// How a field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    /// One of the values, each shown by its label.
    Choice(&'static [&'static str]),
    /// `2024-03`.
    Month,
    /// A decimal amount with at most two places (`190.00`).
    Amount,
    /// A wall-clock time in Europe/Rome, sent as an instant with its offset.
    LocalTime,
}

/// One field of a form: its name is the JSON path the API names in a refusal.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub input: Input,
    pub required: bool,
}

/// A form: its path segment and the command it sends.
#[derive(Debug, Clone, Copy)]
pub struct RecordForm {
    pub slug: &'static str,
    pub command: &'static str,
    pub fields: &'static [Field],
}

const CHANNELS: &[&str] = &["in_person", "phone", "email"];
const NEEDS: &[&str] = &[
    "home_management",
    "elderly_care",
    "frail_person_support",
    "childcare",
    "housing",
    "work_life_balance",
    "other",
];
const OUTCOMES: &[&str] = &["service_activated", "referred", "information_only"];
const MILESTONES: &[&str] = &[
    "financial_education_module_completed",
    "job_found",
    "savings_target_reached",
    "private_market_home_found",
];

const fn field(name: &'static str, input: Input, required: bool) -> Field {
    Field {
        name,
        input,
        required,
    }
}

const OCCURRED_AT: Field = field("occurred_at", Input::LocalTime, true);

/// The four forms, in the page's order.
pub const FORMS: [RecordForm; 4] = [
    RecordForm {
        slug: "access",
        command: "RecordAccess",
        fields: &[
            OCCURRED_AT,
            field("access_id", Input::Text, true),
            field("beneficiary_id", Input::Text, false),
            field("channel", Input::Choice(CHANNELS), true),
            field("need", Input::Choice(NEEDS), true),
            field("outcome.kind", Input::Choice(OUTCOMES), true),
            field("outcome.service", Input::Text, false),
        ],
    },
    RecordForm {
        slug: "rent",
        command: "RecordRentPayment",
        fields: &[
            OCCURRED_AT,
            field("tenancy_id", Input::Text, true),
            field("month", Input::Month, true),
            field("amount", Input::Amount, true),
        ],
    },
    RecordForm {
        slug: "milestone",
        command: "RecordTenantMilestone",
        fields: &[
            OCCURRED_AT,
            field("tenancy_id", Input::Text, true),
            field("milestone", Input::Choice(MILESTONES), true),
        ],
    },
    RecordForm {
        slug: "delivery",
        command: "RecordDelivery",
        fields: &[
            OCCURRED_AT,
            field("order_id", Input::Text, true),
            field("provider_id", Input::Text, true),
        ],
    },
];

pub fn form_of(slug: &str) -> Option<&'static RecordForm> {
    FORMS.iter().find(|form| form.slug == slug)
}

/// A form's title.
pub fn form_title(form: &RecordForm, lang: Lang) -> &'static str {
    match form.slug {
        "access" => lang.t("record.access"),
        "rent" => lang.t("record.rent"),
        "milestone" => lang.t("record.milestone"),
        _ => lang.t("record.delivery"),
    }
}

/// A field's label.
pub fn field_label(name: &str, lang: Lang) -> &'static str {
    match name {
        "occurred_at" => lang.t("record.occurred_at"),
        "access_id" => lang.t("record.access_id"),
        "beneficiary_id" => lang.t("record.beneficiary_id"),
        "channel" => lang.t("record.channel"),
        "need" => lang.t("record.need"),
        "outcome.kind" => lang.t("record.outcome"),
        "outcome.service" => lang.t("record.service"),
        "tenancy_id" => lang.t("record.tenancy_id"),
        "month" => lang.t("record.month"),
        "amount" => lang.t("record.amount"),
        "milestone" => lang.t("record.milestone_kind"),
        "order_id" => lang.t("record.order_id"),
        _ => lang.t("record.provider_id"),
    }
}

/// A field's hint: what to write.
fn field_hint(field: &Field, lang: Lang) -> Option<&'static str> {
    match (field.name, field.input) {
        (_, Input::LocalTime) => Some(lang.t("record.hint_time")),
        (_, Input::Month) => Some(lang.t("record.hint_month")),
        (_, Input::Amount) => Some(lang.t("record.hint_amount")),
        ("beneficiary_id", _) => Some(lang.t("record.hint_beneficiary")),
        ("outcome.service", _) => Some(lang.t("record.hint_service")),
        _ => None,
    }
}

/// A choice's label.
pub fn choice_label(value: &str, lang: Lang) -> &'static str {
    match value {
        "in_person" => lang.t("choice.in_person"),
        "phone" => lang.t("choice.phone"),
        "email" => lang.t("choice.email"),
        "home_management" => lang.t("choice.home_management"),
        "elderly_care" => lang.t("choice.elderly_care"),
        "frail_person_support" => lang.t("choice.frail_person_support"),
        "childcare" => lang.t("choice.childcare"),
        "housing" => lang.t("choice.housing"),
        "work_life_balance" => lang.t("choice.work_life_balance"),
        "other" => lang.t("choice.other"),
        "service_activated" => lang.t("choice.service_activated"),
        "referred" => lang.t("choice.referred"),
        "information_only" => lang.t("choice.information_only"),
        "financial_education_module_completed" => {
            lang.t("choice.financial_education_module_completed")
        }
        "job_found" => lang.t("choice.job_found"),
        "savings_target_reached" => lang.t("choice.savings_target_reached"),
        _ => lang.t("choice.private_market_home_found"),
    }
}

/// Why a form was not recorded: the field at fault (a form field's name, when the API's names
/// one of them) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: Option<String>,
    pub message: String,
}

/// The body the API reads from a form's fields: empty optional fields left out, the outcome
/// as its tagged object, the local time as an instant in Europe/Rome; or the field that cannot
/// be read, named as the form names it.
pub fn body_of(
    form: &RecordForm,
    fields: &BTreeMap<String, String>,
    lang: Lang,
) -> Result<Map<String, Value>, Refusal> {
    let mut body = Map::new();
    let value = |name: &str| fields.get(name).map(|text| text.trim()).unwrap_or("");
    let event_id = value("event_id");
    if !event_id.is_empty() {
        body.insert("event_id".to_owned(), json!(event_id));
    }
    for field in form.fields {
        let text = value(field.name);
        if text.is_empty() {
            if field.required {
                return Err(Refusal {
                    field: Some(field.name.to_owned()),
                    message: lang.t("record.required").to_owned(),
                });
            }
            continue;
        }
        let written = match field.input {
            Input::LocalTime => {
                let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                    .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
                    .map_err(|_| Refusal {
                        field: Some(field.name.to_owned()),
                        message: lang.t("record.bad_time").to_owned(),
                    })?;
                let at = OccurredAt::at_local(local).ok_or_else(|| Refusal {
                    field: Some(field.name.to_owned()),
                    message: lang.t("record.skipped_time").to_owned(),
                })?;
                json!(at)
            }
            _ => json!(text),
        };
        match field.name.split_once('.') {
            Some((outer, inner)) => {
                let object = body
                    .entry(outer.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(object) = object {
                    object.insert(inner.to_owned(), written);
                }
            }
            None => {
                body.insert(field.name.to_owned(), written);
            }
        }
    }
    Ok(body)
}

/// The forms the key may send, in the page's order.
fn allowed(viewer: &Viewer, contract: &ContractId) -> Vec<&'static RecordForm> {
    FORMS
        .iter()
        .filter(|form| {
            viewer
                .principal
                .check(contract, Action::Command(form.command))
                .is_ok()
        })
        .collect()
}

#[derive(Deserialize)]
pub struct RecordedQuery {
    #[serde(default)]
    recorded: Option<u64>,
    #[serde(default)]
    replayed: Option<u64>,
}

/// What a form shows: the values typed and the refusal, when it comes back refused.
struct Shown<'a> {
    form: &'a RecordForm,
    values: BTreeMap<String, String>,
    refusal: Option<Refusal>,
}

fn form_markup(id: &ContractId, viewer: &Viewer, shown: &Shown<'_>, lang: Lang) -> Markup {
    let form = shown.form;
    let error_of = |name: &str| {
        shown
            .refusal
            .as_ref()
            .filter(|refusal| refusal.field.as_deref() == Some(name))
            .map(|refusal| refusal.message.clone())
    };
    let general = shown
        .refusal
        .as_ref()
        .filter(|refusal| {
            refusal
                .field
                .as_deref()
                .is_none_or(|name| !form.fields.iter().any(|field| field.name == name))
        })
        .map(|refusal| match &refusal.field {
            Some(field) => format!("{} ({field})", refusal.message),
            None => refusal.message.clone(),
        });
    // A refused form keeps its event id, so that sending it again once corrected is still one
    // event; a fresh form gets a new one.
    let event_id = shown
        .values
        .get("event_id")
        .cloned()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    html! {
        section.record id={ "form-" (form.slug) } {
            h2 { (form_title(form, lang)) }
            @if let Some(message) = &general {
                p.problem role="alert" { (message) }
            }
            form method="post" action={ "/contracts/" (id) "/record/" (form.slug) } novalidate {
                input type="hidden" name="csrf" value=(viewer.session.csrf);
                input type="hidden" name="event_id" value=(event_id);
                @for field in form.fields {
                    @let input_id = format!("{}-{}", form.slug, field.name.replace('.', "-"));
                    @let hint_id = format!("{input_id}-hint");
                    @let error_id = format!("{input_id}-error");
                    @let error = error_of(field.name);
                    @let value = shown.values.get(field.name).cloned().unwrap_or_default();
                    @let hint = field_hint(field, lang);
                    @let described = [hint.map(|_| hint_id.clone()), error.as_ref().map(|_| error_id.clone())]
                        .into_iter().flatten().collect::<Vec<_>>().join(" ");
                    label for=(input_id) {
                        (field_label(field.name, lang))
                        @if !field.required { " " span.optional { (lang.t("record.optional")) } }
                    }
                    @if let Some(hint) = hint { p.hint id=(hint_id) { (hint) } }
                    @match field.input {
                        Input::Choice(values) => {
                            select id=(input_id) name=(field.name) required[field.required]
                                aria-invalid=[error.as_ref().map(|_| "true")]
                                aria-describedby=[(!described.is_empty()).then_some(described.as_str())] {
                                @for choice in values {
                                    option value=(choice) selected[value == *choice] { (choice_label(choice, lang)) }
                                }
                            }
                        }
                        _ => {
                            input id=(input_id) name=(field.name) value=(value)
                                type=(match field.input { Input::LocalTime => "datetime-local", Input::Month => "month", _ => "text" })
                                inputmode=[(field.input == Input::Amount).then_some("decimal")]
                                required[field.required]
                                aria-invalid=[error.as_ref().map(|_| "true")]
                                aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
                        }
                    }
                    @if let Some(error) = &error {
                        p.field-error id=(error_id) role="alert" { (error) }
                    }
                }
                p { button type="submit" { (lang.t("record.submit")) } }
            }
        }
    }
}

async fn render(
    web: &Web,
    viewer: &Viewer,
    id: &ContractId,
    lang: Lang,
    status: StatusCode,
    refused: Option<Shown<'_>>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let contract = screens::contract(&web.api, id)
        .await
        .map_err(|error| PageError::from_api(lang, &error))?;
    let forms = allowed(viewer, id);
    let title = lang.t("record.title");
    let path = format!("/contracts/{id}/record");
    let frame = Frame {
        lang,
        title,
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(viewer),
    };
    let body = html! {
        h1 { (title) }
        p { (lang.t("record.intro")) }
        @if let Some(notice) = &notice { p.notice role="status" { (notice) } }
        nav aria-label=(lang.t("record.forms")) {
            ul { @for form in &forms { li { a href={ "#form-" (form.slug) } { (form_title(form, lang)) } } } }
        }
        @for form in &forms {
            @match &refused {
                Some(shown) if shown.form.slug == form.slug => { (form_markup(id, viewer, shown, lang)) }
                _ => { (form_markup(id, viewer, &Shown { form, values: BTreeMap::new(), refusal: None }, lang)) }
            }
        }
    };
    Ok(respond(status, layout(&frame, body)))
}

/// The contract, if the key may send at least one of the forms' commands on it (each checked
/// as its endpoint checks it); the 403 page otherwise.
async fn open(
    web: &Web,
    headers: &HeaderMap,
    contract_text: &str,
    lang: Lang,
) -> Result<(Viewer, ContractId), PageError> {
    let viewer = page::viewer(web, headers, lang).await?;
    let mut refused = None;
    for form in &FORMS {
        match screens::open(
            &web.api,
            &viewer.principal,
            contract_text,
            Action::Command(form.command),
        )
        .await
        {
            Ok(id) => return Ok((viewer, id)),
            Err(error) => refused = refused.or(Some(error)),
        }
    }
    Err(refused.map_or_else(
        || PageError::forbidden(lang),
        |error| PageError::from_api(lang, &error),
    ))
}

/// `GET /contracts/{id}/record[?recorded=N|replayed=N]`.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    query: Result<Query<RecordedQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (viewer, id) = open(&web, &headers, &contract_text, lang).await?;
    let notice = query
        .ok()
        .and_then(|Query(query)| match (query.recorded, query.replayed) {
            (Some(position), _) => Some(format!("{} {position}.", lang.t("record.recorded"))),
            (_, Some(position)) => Some(format!("{} {position}.", lang.t("record.replayed"))),
            _ => None,
        });
    render(&web, &viewer, &id, lang, StatusCode::OK, None, notice).await
}

/// `POST /contracts/{id}/record/{form}`: the command recorded, then the page again (303) saying
/// at which position; refused, the form again with what was typed and the reason beside its
/// field, with the API's status.
pub async fn submit(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path((contract_text, slug)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (viewer, id) = open(&web, &headers, &contract_text, lang).await?;
    crate::check_csrf(&viewer, fields.get("csrf").map(String::as_str), lang)?;
    let form = form_of(&slug).ok_or_else(|| PageError::not_found(lang))?;
    viewer
        .principal
        .check(&id, Action::Command(form.command))
        .map_err(|_| PageError::forbidden(lang))?;
    let mut values = fields.clone();
    values.remove("csrf");
    let refused = |refusal: Refusal| Shown {
        form,
        values: values.clone(),
        refusal: Some(refusal),
    };
    let body = match body_of(form, &fields, lang) {
        Ok(body) => body,
        Err(refusal) => {
            let shown = refused(refusal);
            return render(
                &web,
                &viewer,
                &id,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(shown),
                None,
            )
            .await;
        }
    };
    match screens::record(&web.api, &viewer.principal, &id, form.command, body).await {
        Ok(response) => {
            let replayed = response.headers().contains_key("idempotent-replay");
            let bytes = to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let position = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|answer| answer["position"].as_u64())
                .unwrap_or(0);
            let outcome = if replayed { "replayed" } else { "recorded" };
            Ok(see_other(&format!(
                "/contracts/{id}/record?{outcome}={position}#form-{}",
                form.slug
            )))
        }
        Err(error) if error.status.is_client_error() && error.status != StatusCode::FORBIDDEN => {
            let title = esito_api::titles::of_code(error.code);
            let refusal = Refusal {
                field: error.field.clone().map(|field| form_field_of(form, &field)),
                message: format!("{}: {}", lang.pick(title.it, title.en), error.detail),
            };
            let shown = refused(refusal);
            render(&web, &viewer, &id, lang, error.status, Some(shown), None).await
        }
        Err(error) => Err(PageError::from_api(lang, &error)),
    }
}

/// The form field an API's field path names: itself, or the tagged object's `kind` when the
/// path names the object (`outcome`).
fn form_field_of(form: &RecordForm, path: &str) -> String {
    if form.fields.iter().any(|field| field.name == path) {
        return path.to_owned();
    }
    let kind = format!("{path}.kind");
    if form.fields.iter().any(|field| field.name == kind) {
        return kind;
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn an_access_form_becomes_the_apis_body_with_the_time_in_rome() {
        let form = form_of("access").expect("the access form");
        let body = body_of(
            form,
            &fields(&[
                ("event_id", "0b6f2c1e-9a57-4d0e-8f4f-3c2b1a0d9e01"),
                ("occurred_at", "2024-03-05T10:30"),
                ("access_id", "acc-900"),
                ("beneficiary_id", ""),
                ("channel", "phone"),
                ("need", "housing"),
                ("outcome.kind", "referred"),
                ("outcome.service", "Sportello casa"),
            ]),
            Lang::It,
        )
        .expect("a readable form");
        // 5 March is winter time in Rome: +01:00. No beneficiary: the field is left out.
        assert_eq!(
            Value::Object(body),
            json!({
                "event_id": "0b6f2c1e-9a57-4d0e-8f4f-3c2b1a0d9e01",
                "occurred_at": "2024-03-05T10:30:00+01:00",
                "access_id": "acc-900",
                "channel": "phone",
                "need": "housing",
                "outcome": {"kind": "referred", "service": "Sportello casa"},
            })
        );
    }

    #[test]
    fn a_missing_required_field_or_an_unreadable_time_is_named() {
        let form = form_of("rent").expect("the rent form");
        let refusal = body_of(
            form,
            &fields(&[("occurred_at", "2024-03-05T10:30"), ("tenancy_id", "ten-1")]),
            Lang::En,
        )
        .expect_err("the month is missing");
        assert_eq!(refusal.field.as_deref(), Some("month"));
        let refusal = body_of(
            form,
            &fields(&[("occurred_at", "5 March"), ("tenancy_id", "ten-1")]),
            Lang::En,
        )
        .expect_err("the time does not read");
        assert_eq!(refusal.field.as_deref(), Some("occurred_at"));
        // 2024-03-31 02:30 does not exist in Rome (the clocks go forward).
        let refusal = body_of(
            form,
            &fields(&[
                ("occurred_at", "2024-03-31T02:30"),
                ("tenancy_id", "ten-1"),
                ("month", "2024-03"),
                ("amount", "190.00"),
            ]),
            Lang::En,
        )
        .expect_err("a skipped time");
        assert_eq!(refusal.field.as_deref(), Some("occurred_at"));
    }

    #[test]
    fn an_apis_field_path_names_the_forms_field() {
        let form = form_of("access").expect("the access form");
        assert_eq!(form_field_of(form, "outcome"), "outcome.kind");
        assert_eq!(form_field_of(form, "outcome.service"), "outcome.service");
        assert_eq!(form_field_of(form, "channel"), "channel");
    }
}
