//! What the people's screens (`esito-web`) read and do, as the API's handlers read and do it,
//! for a principal the screens authenticated from their session.
//!
//! Invariant: each function here is the same code the matching endpoint runs after it has read
//! its request: the same permission (`Principal::check`, hence `Role::may`), the same store
//! calls, the same JSON. The screens compute no figure of their own.

use axum::http::HeaderMap;
use axum::response::Response;
use esito_domain::aggregates::Contract;
use esito_domain::events::contract_stream;
use esito_domain::{ContractId, EventId, StreamState, StreamType};
use esito_indicators::{Fact, IndicatorReport, Period};
use serde_json::Value;

use crate::auth::{Action, Principal};
use crate::error::{ApiError, ErrorCode};
use crate::{contract_id, history, indicators, reads, settlements, AppState};

/// The contract `text` names, if `principal` may take `action` on it and it exists, in the
/// order the API's reads check them (so a stranger learns nothing of what exists).
pub async fn open(
    state: &AppState,
    principal: &Principal,
    text: &str,
    action: Action,
) -> Result<ContractId, ApiError> {
    let contract = contract_id(text)?;
    principal.check(&contract, action)?;
    state.require_contract(&contract).await?;
    Ok(contract)
}

/// The contracts `principal` may take `action` on, in the store's order.
pub async fn contracts(
    state: &AppState,
    principal: &Principal,
    action: Action,
) -> Result<Vec<ContractId>, ApiError> {
    Ok(state
        .store
        .contracts()
        .await?
        .into_iter()
        .filter(|contract| principal.check(contract, action).is_ok())
        .collect())
}

/// The contract's registration and amendments, as its stream replays (what
/// `GET /v1/contracts/{id}/streams/contract/{id}` reads, with `Action::ReadLog`).
pub async fn contract(state: &AppState, contract: &ContractId) -> Result<Contract, ApiError> {
    let stored = state
        .store
        .stream_entries(contract, &contract_stream(contract))
        .await?;
    match history::replayed(StreamType::Contract, &stored)? {
        StreamState::Contract(esito_domain::aggregates::ContractState::Registered(contract)) => {
            Ok(*contract)
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownContract,
            format!("there is no contract {contract}"),
        )),
    }
}

/// The indicators of `period` as of the head, as `GET .../indicators?period=P` answers them.
pub async fn report(
    state: &AppState,
    contract: &ContractId,
    period: Period,
) -> Result<IndicatorReport, ApiError> {
    state
        .store
        .indicators(contract, period, None)
        .await
        .map_err(indicators::report_error)
}

/// The size of the contract's log (0 before its first entry).
pub async fn head(state: &AppState, contract: &ContractId) -> Result<u64, ApiError> {
    Ok(state
        .store
        .head(contract)
        .await?
        .map_or(0, |head| head.size))
}

/// The indicators of each of `periods` as of the head, each as `GET .../indicators?period=P`
/// answers it, read together (`Store::indicators_of_periods`).
pub async fn reports(
    state: &AppState,
    contract: &ContractId,
    periods: &[Period],
) -> Result<Vec<IndicatorReport>, ApiError> {
    state
        .store
        .indicators_of_periods(contract, periods, None)
        .await
        .map_err(indicators::report_error)
}

/// The report and the first `limit` facts after position `after` behind one indicator's value,
/// as `GET .../indicators/{indicator}/explain?period=P` reads them.
pub async fn explain(
    state: &AppState,
    contract: &ContractId,
    indicator: &str,
    period: Period,
    after: u64,
    limit: u32,
) -> Result<(IndicatorReport, Vec<Fact>), ApiError> {
    let report = report(state, contract, period).await?;
    if !report.indicators.iter().any(|value| value.id == indicator) {
        return Err(ApiError::new(
            ErrorCode::UnknownIndicator,
            format!(
                "template {} has no indicator `{indicator}`",
                report.template
            ),
        ));
    }
    let (_, facts) = state
        .store
        .explain(
            contract,
            indicator,
            period,
            Some(report.as_of),
            after,
            limit,
        )
        .await
        .map_err(indicators::report_error)?;
    Ok((report, facts))
}

/// The inclusion proof of the entry at `position` in the tree of `size` (default: the whole
/// log), as `GET .../proofs/inclusion?position=P&size=N` answers it (`Action::ReadProofs`).
pub async fn inclusion(
    state: &AppState,
    contract: &ContractId,
    position: u64,
    size: Option<u64>,
) -> Result<Value, ApiError> {
    reads::inclusion_of(state, contract, position, size).await
}

/// Every settled period's settlement as `GET .../settlements/{period}` answers it (JSON), in
/// period order.
pub async fn settlements(state: &AppState, contract: &ContractId) -> Result<Vec<Value>, ApiError> {
    let (_, periods) = settlements::settlements(state, contract).await?;
    let mut views = Vec::with_capacity(periods.periods.len());
    for settlement in &periods.periods {
        views.push(
            settlement_view(state, contract, &settlement.calculated.period.to_string()).await?,
        );
    }
    Ok(views)
}

/// One period's settlement as `GET .../settlements/{period}` answers it (JSON).
pub async fn settlement_view(
    state: &AppState,
    contract: &ContractId,
    period: &str,
) -> Result<Value, ApiError> {
    let view = settlements::view_of(state, contract, period).await?;
    serde_json::to_value(view).map_err(|error| {
        ApiError::new(
            ErrorCode::Internal,
            format!("a settlement does not serialise: {error}"),
        )
    })
}

/// Asks for the settlement of `period` under `event_id`, as
/// `POST .../settlements` does once it has read its body.
pub async fn calculate(
    state: &AppState,
    principal: &Principal,
    contract: &ContractId,
    period: Period,
    event_id: EventId,
) -> Result<Response, ApiError> {
    principal.check(contract, Action::CalculateSettlement)?;
    state.require_contract(contract).await?;
    settlements::calculate_as(state, principal, contract, period, event_id).await
}

/// Takes a settlement's `step` (`validate`, `approve`, `pay`, …) with the body's `fields`, as
/// `POST .../settlements/{period}/{step}` does once it has read its body.
pub async fn step(
    state: &AppState,
    principal: &Principal,
    contract: &ContractId,
    period: &str,
    step: &str,
    fields: serde_json::Map<String, Value>,
) -> Result<Response, ApiError> {
    settlements::step_as(
        state,
        principal,
        contract,
        period,
        step,
        fields,
        &HeaderMap::new(),
    )
    .await
}

/// The command each step of a settlement sends, by its path segment: whether a principal may
/// take it is `principal.check(contract, Action::Command(command))`.
pub fn step_command(step: &str) -> Option<&'static str> {
    settlements::STEPS
        .iter()
        .find(|(path, _)| *path == step)
        .map(|(_, command)| *command)
}

/// Records `command` with a form's `fields` (`event_id` and `occurred_at` among them), as
/// `POST .../commands/{command}` does once it has read its body: the same permission, the same
/// parsing (so the same field named in a refusal), the same provider check and append.
pub async fn record(
    state: &AppState,
    principal: &Principal,
    contract: &ContractId,
    command: &'static str,
    fields: serde_json::Map<String, Value>,
) -> Result<Response, ApiError> {
    principal.check(contract, Action::Command(command))?;
    state.require_contract(contract).await?;
    let submission = crate::submission(fields, command, "", None)?;
    crate::check_provider(state, principal, contract, &submission).await?;
    crate::append_one(state, contract, principal, submission).await
}

/// The contract's signed checkpoints (as `GET .../checkpoints/latest` reads them) and every key
/// that has signed checkpoints (as `GET /v1/checkpoint-keys`).
pub async fn checkpoints(
    state: &AppState,
    contract: &ContractId,
) -> Result<
    (
        Vec<esito_log::Checkpoint>,
        Vec<esito_store::SigningKeyRecord>,
    ),
    ApiError,
> {
    Ok((
        state.store.checkpoints(contract).await?,
        state.store.signing_keys().await?,
    ))
}

/// The whole export of a contract `principal` may export, streamed, as
/// `GET /v1/contracts/{id}/export` answers it.
pub async fn export(
    state: std::sync::Arc<AppState>,
    principal: &Principal,
    contract: &str,
) -> Result<Response, ApiError> {
    let contract = open(&state, principal, contract, Action::ExportLog).await?;
    crate::export::stream(state, contract, 0).await
}
