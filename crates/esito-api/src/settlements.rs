//! Settlements (docs/design.md §5): a period's settlement calculated by the service as of the
//! head, with a checkpoint signed of that tree head; validated by the evaluator, approved and
//! paid by the payer, or withdrawn by the payer before validation; read as JSON or as a
//! printable page.
//!
//! Invariant: the service alone writes `SettlementCalculated`, with the document `esito-books`
//! computed from the log as of the head it read; every step is one event, decided by the
//! settlement stream's `decide`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::SubsecRound;
use esito_domain::aggregates::{PeriodSettlement, SettlementState};
use esito_domain::events::{
    contract_stream, settlement_stream, SettlementCheckpoint, SettlementPaid, SettlementValidated,
    SettlementWithdrawn,
};
use esito_domain::{
    ContractId, DecisionContext, EventId, OccurredAt, StreamState, StreamType, Submission,
};
use esito_indicators::Period;
use esito_settlement::SettlementDocument;
use esito_store::AppendError;
use esito_store::StoredEntry;
use serde::Serialize;
use serde_json::{json, Value};

use crate::auth::{
    Action, APPROVE_SETTLEMENT, RECORD_SETTLEMENT_PAYMENT, VALIDATE_SETTLEMENT, WITHDRAW_SETTLEMENT,
};
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments};
use crate::{
    append_one, body, body_bytes, contract_id, derived_event_id, history, idempotency, submission,
    AppState, Shared,
};

/// The business time the service gives the events it writes itself: now, to the second.
fn now() -> OccurredAt {
    OccurredAt::new(chrono::Utc::now().trunc_subsecs(0).fixed_offset())
}

fn period(text: &str, field: &str) -> Result<Period, ApiError> {
    text.parse().map_err(|e: esito_indicators::PeriodError| {
        ApiError::new(ErrorCode::InvalidValue, e.to_string()).with_field(field)
    })
}

/// The command whose event id an `Idempotency-Key` on a calculation derives.
const CALCULATE_SETTLEMENT: &str = "CalculateSettlement";

/// `POST /v1/contracts/{id}/settlements` with `{"period": P, "event_id": E}` (or an
/// `Idempotency-Key` header): the payer (or the admin) asks for the settlement of P as of the
/// head now. The service signs a checkpoint of that tree head, computes the settlement and
/// records it under E; 201 with the settlement as `GET` gives it. The same E again is answered
/// with that settlement, `Idempotent-Replay: true`, and nothing is computed or written.
pub async fn calculate(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = contract_id(&contract)?;
    principal.check(&contract, Action::CalculateSettlement)?;
    state.require_contract(&contract).await?;
    let mut fields = body::object(&body_bytes(body)?)?;
    let derived = derived_event_id(&headers, &principal, &contract, CALCULATE_SETTLEMENT)?;
    let event_id = idempotency::event_id(&mut fields, "", derived)?;
    let text: String = match fields.remove("period") {
        Some(value) => body::parse(value, "period")?,
        None => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "period: missing field `period` (`2024`, `2024-H1`, `2024-Q1` or `2024-03`)",
            )
            .with_field("period"))
        }
    };
    if let Some(unknown) = fields.keys().next() {
        return Err(ApiError::new(
            ErrorCode::UnknownField,
            format!("unknown field `{unknown}`, expected `period` and `event_id`"),
        )
        .with_field(unknown.clone()));
    }
    let period = period(&text, "period")?;
    calculate_as(&state, &principal, &contract, period, event_id).await
}

/// The calculation of `period` under `event_id` by `principal`, whose right to ask for it the
/// caller has checked: what `calculate` does once it has read the request.
pub(crate) async fn calculate_as(
    state: &AppState,
    principal: &crate::auth::Principal,
    contract: &ContractId,
    period: Period,
    event_id: EventId,
) -> Result<Response, ApiError> {
    if let Some(replay) = replayed_calculation(state, contract, event_id, period).await? {
        return Ok(replay);
    }
    let settled = state.store.settlement(contract, period).await?;
    // The settlement stream's rules first, so that a refused calculation signs no checkpoint
    // either; the append decides again against the head it writes at.
    check_calculation(state, contract, &settled.command(None)).await?;
    let checkpoint = state
        .sign_checkpoint_of(contract, settled.document.as_of, settled.document.root_hash)
        .await?
        .map(|checkpoint| SettlementCheckpoint {
            timestamp: checkpoint.timestamp,
            key_id: checkpoint.key_id,
            signature: checkpoint.signature,
        });
    let submission = Submission {
        event_id,
        occurred_at: now(),
        command: settled.command(checkpoint),
    };
    let outcomes = state
        .store
        .append(contract, &principal.name, std::slice::from_ref(&submission))
        .await;
    // A retry that raced this one recorded its own calculation under the same id first.
    if let Err(AppendError::EventIdReused { .. }) = &outcomes {
        if let Some(replay) = replayed_calculation(state, contract, event_id, period).await? {
            return Ok(replay);
        }
    }
    state.metrics.appended(outcomes)?;
    let view = view_of(state, contract, &period.to_string()).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// The answer to a calculation whose event id is already in the log: the settlement, marked as
/// a replay, when that event is the calculation of the same period; a conflict otherwise.
async fn replayed_calculation(
    state: &AppState,
    contract: &ContractId,
    event_id: EventId,
    period: Period,
) -> Result<Option<Response>, ApiError> {
    let Some(stored) = state.store.entry_by_event_id(contract, event_id).await? else {
        return Ok(None);
    };
    let (entry, _) = history::recorded(&stored)?;
    let period = period.to_string();
    if entry.event_type != "SettlementCalculated"
        || entry.payload.get("period").and_then(Value::as_str) != Some(period.as_str())
    {
        return Err(ApiError::from(AppendError::EventIdReused {
            index: 0,
            event_id,
        }));
    }
    let view = view_of(state, contract, &period).await?;
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    response
        .headers_mut()
        .insert("idempotent-replay", HeaderValue::from_static("true"));
    Ok(Some(response))
}

/// Refuses, as the append would, a calculation the settlement stream's rules refuse.
async fn check_calculation(
    state: &AppState,
    contract: &ContractId,
    command: &esito_domain::Command,
) -> Result<(), ApiError> {
    let (_, settlements) = settlements(state, contract).await?;
    let stored = state
        .store
        .stream_entries(contract, &contract_stream(contract))
        .await?;
    let StreamState::Contract(contract_state) = history::replayed(StreamType::Contract, &stored)?
    else {
        unreachable!("the contract stream replays into a contract");
    };
    let submission = Submission {
        event_id: EventId::new_v4(),
        occurred_at: now(),
        command: command.clone(),
    };
    let context = DecisionContext {
        contract: contract_state,
        ..Default::default()
    };
    esito_domain::decide(&submission, &StreamState::Settlement(settlements), &context)
        .map(drop)
        .map_err(|error| ApiError::rule(&error))
}

/// The settlement stream's entries, parsed, and its state.
pub(crate) async fn settlements(
    state: &AppState,
    contract: &ContractId,
) -> Result<(Vec<(StoredEntry, esito_log::Entry)>, SettlementState), ApiError> {
    let stored = state
        .store
        .stream_entries(contract, &settlement_stream(contract))
        .await?;
    let esito_domain::StreamState::Settlement(settlements) =
        history::replayed(StreamType::Settlement, &stored)?
    else {
        unreachable!("the settlement stream replays into settlements");
    };
    let mut entries = Vec::with_capacity(stored.len());
    for stored in stored {
        let (entry, _) = history::recorded(&stored)?;
        entries.push((stored, entry));
    }
    Ok((entries, settlements))
}

pub(crate) fn document_of(settlement: &PeriodSettlement) -> Result<SettlementDocument, ApiError> {
    serde_json::from_value(settlement.calculated.document.clone()).map_err(|error| {
        ApiError::from(esito_store::StoreError::Corrupt {
            position: settlement.calculated.as_of,
            reason: format!(
                "the settlement of {} holds an unreadable document: {error}",
                settlement.calculated.period
            ),
        })
    })
}

fn unknown_settlement(contract: &ContractId, period: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownSettlement,
        format!("contract {contract} has no settlement of {period}"),
    )
}

/// A settlement as `GET` answers it: its state, what it was computed from (the checkpoint
/// whole, so that its signature can be checked), its events, and the document, whose fields
/// keep their order (as `esito settle --offline` prints them).
#[derive(Serialize)]
pub(crate) struct SettlementView {
    contract_id: ContractId,
    period: String,
    status: &'static str,
    calculations: u32,
    as_of: u64,
    root_hash: esito_log::Hash,
    checkpoint: Option<esito_log::Checkpoint>,
    template: String,
    definitions_sha256: esito_log::Hash,
    terms_sha256: esito_log::Hash,
    final_settlement: bool,
    validated: Option<SettlementValidated>,
    paid: Option<SettlementPaid>,
    /// While the settlement stands withdrawn: the withdrawal, with its reason.
    withdrawn: Option<SettlementWithdrawn>,
    events: Vec<Value>,
    document: SettlementDocument,
}

pub(crate) async fn view_of(
    state: &AppState,
    contract: &ContractId,
    period: &str,
) -> Result<SettlementView, ApiError> {
    let (entries, settlements) = settlements(state, contract).await?;
    let settlement = settlements
        .period(
            period
                .parse()
                .map_err(|_| unknown_settlement(contract, period))?,
        )
        .ok_or_else(|| unknown_settlement(contract, period))?;
    let calculated = &settlement.calculated;
    let root_hash = calculated.root_hash;
    let checkpoint = calculated
        .checkpoint
        .as_ref()
        .map(|checkpoint| esito_log::Checkpoint {
            contract_id: contract.to_string(),
            size: calculated.as_of,
            root_hash,
            timestamp: checkpoint.timestamp.clone(),
            key_id: checkpoint.key_id.clone(),
            signature: checkpoint.signature.clone(),
        });
    let events: Vec<Value> = entries
        .iter()
        .filter(|(_, entry)| entry.payload.get("period").and_then(Value::as_str) == Some(period))
        .map(|(stored, entry)| {
            json!({
                "position": stored.position,
                "event_id": entry.event_id,
                "event_type": entry.event_type,
                "occurred_at": entry.occurred_at,
                "recorded_at": entry.recorded_at,
                "recorded_by": entry.recorded_by,
            })
        })
        .collect();
    Ok(SettlementView {
        contract_id: contract.clone(),
        period: calculated.period.to_string(),
        status: settlement.status.as_str(),
        calculations: settlement.calculations,
        as_of: calculated.as_of,
        root_hash,
        checkpoint,
        template: calculated.template.clone(),
        definitions_sha256: calculated.definitions_sha256,
        terms_sha256: calculated.terms_sha256,
        final_settlement: calculated.final_settlement,
        validated: settlement.status.validated().cloned(),
        paid: settlement.status.paid().cloned(),
        withdrawn: settlement.status.withdrawn().cloned(),
        events,
        document: document_of(settlement)?,
    })
}

/// `GET /v1/contracts/{id}/settlements`: every period settled, in order, at a glance.
pub async fn list(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let contract = state
        .open(&headers, &contract, Action::ReadSettlements)
        .await?;
    let (_, settlements) = settlements(&state, &contract).await?;
    let items = settlements
        .periods
        .iter()
        .map(|settlement| {
            let document = document_of(settlement)?;
            Ok(json!({
                "period": document.period,
                "status": settlement.status.as_str(),
                "calculations": settlement.calculations,
                "as_of": document.as_of,
                "final_settlement": document.final_settlement,
                "total": document.total,
                "total_with_vat": document.total_with_vat,
            }))
        })
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(
        json!({ "contract_id": contract, "settlements": items }),
    ))
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The printable page; a withdrawn settlement's says so, with the reason.
fn html(document: &SettlementDocument, withdrawn: Option<&SettlementWithdrawn>) -> Response {
    let page = match withdrawn {
        Some(withdrawn) => esito_settlement::render_html_withdrawn(document, &withdrawn.reason),
        None => esito_settlement::render_html(document),
    };
    let mut response = page.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// `GET /v1/contracts/{id}/settlements/{period}`: JSON, or the printable page when the client
/// accepts `text/html`.
pub async fn get(
    State(state): State<Shared>,
    Segments((contract, period)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = params.only(&["format"])?;
    let format = crate::tables::format(&params)?;
    let contract = state
        .open(&headers, &contract, Action::ReadSettlements)
        .await?;
    if format == crate::tables::Format::Csv {
        return table_of(&state, &contract, &period).await;
    }
    if wants_html(&headers) {
        return page_of(&state, &contract, &period).await;
    }
    Ok(Json(view_of(&state, &contract, &period).await?).into_response())
}

/// `GET /v1/contracts/{id}/settlements/{period}/html`: the printable page.
pub async fn page(
    State(state): State<Shared>,
    Segments((contract, period)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let contract = state
        .open(&headers, &contract, Action::ReadSettlements)
        .await?;
    page_of(&state, &contract, &period).await
}

async fn page_of(
    state: &AppState,
    contract: &ContractId,
    period: &str,
) -> Result<Response, ApiError> {
    let (_, settlements) = settlements(state, contract).await?;
    let settlement = settlements
        .period(
            period
                .parse()
                .map_err(|_| unknown_settlement(contract, period))?,
        )
        .ok_or_else(|| unknown_settlement(contract, period))?;
    Ok(html(
        &document_of(settlement)?,
        settlement.status.withdrawn(),
    ))
}

/// A settlement's lines as a table (`?format=csv`).
async fn table_of(
    state: &AppState,
    contract: &ContractId,
    period: &str,
) -> Result<Response, ApiError> {
    let (_, settlements) = settlements(state, contract).await?;
    let settlement = settlements
        .period(
            period
                .parse()
                .map_err(|_| unknown_settlement(contract, period))?,
        )
        .ok_or_else(|| unknown_settlement(contract, period))?;
    Ok(crate::tables::response(
        crate::tables::settlement(&document_of(settlement)?),
        &format!("{contract}-{period}-settlement.csv"),
    ))
}

/// The steps after the calculation, each one role's and one command's.
pub(crate) const STEPS: [(&str, &str); 4] = [
    ("validate", VALIDATE_SETTLEMENT),
    ("approve", APPROVE_SETTLEMENT),
    ("pay", RECORD_SETTLEMENT_PAYMENT),
    ("withdraw", WITHDRAW_SETTLEMENT),
];

/// `POST /v1/contracts/{id}/settlements/{period}/{validate|approve|pay|withdraw}`: the command
/// of the step, its fields from the body (`as_of` for validate, approve and withdraw, with an
/// optional `note` to validate and a `reason` to withdraw; `paid_on` and `reference` to pay),
/// the period from the path, `event_id` (or an `Idempotency-Key`), `occurred_at` now unless
/// given (a retry under an event id already in the log takes that event's, so it is the same
/// event). 201 as any command.
pub async fn step(
    State(state): State<Shared>,
    Segments((contract, period, step)): Segments<(String, String, String)>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = contract_id(&contract)?;
    let fields = body::object(&body_bytes(body)?)?;
    step_as(
        &state, &principal, &contract, &period, &step, fields, &headers,
    )
    .await
}

/// A step of `period` taken by `principal` with the body's `fields`: what `step` does once it
/// has read the request (the key's right to the step is checked here).
pub(crate) async fn step_as(
    state: &AppState,
    principal: &crate::auth::Principal,
    contract: &ContractId,
    period: &str,
    step: &str,
    mut fields: serde_json::Map<String, Value>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Some((_, name)) = STEPS.iter().find(|(path, _)| *path == step) else {
        return Err(ApiError::new(
            ErrorCode::UnknownCommand,
            format!("a settlement is validated, approved, paid or withdrawn, not `{step}`"),
        ));
    };
    principal.check(contract, Action::Command(name))?;
    state.require_contract(contract).await?;
    for reserved in ["period", "type"] {
        if fields.contains_key(reserved) {
            return Err(ApiError::new(
                ErrorCode::UnknownField,
                format!("unknown field `{reserved}`: the period is the path's"),
            )
            .with_field(reserved));
        }
    }
    fields.insert("period".to_owned(), json!(period));
    let derived = derived_event_id(headers, principal, contract, name)?;
    let event_id = idempotency::event_id(&mut fields, "", derived)?;
    if !fields.contains_key("occurred_at") {
        let occurred_at = match state.store.entry_by_event_id(contract, event_id).await? {
            Some(stored) => json!(history::recorded(&stored)?.0.occurred_at),
            None => json!(now()),
        };
        fields.insert("occurred_at".to_owned(), occurred_at);
    }
    let submission = submission(fields, name, "", Some(event_id))?;
    append_one(state, contract, principal, submission).await
}
