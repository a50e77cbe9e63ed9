//! The indicators: values per period (or over a range of dates) as of a log position, and the
//! facts that explain each.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use esito_indicators::{IndicatorReport, Period, Window};
use esito_store::projection::ReportError;
use serde_json::json;

use crate::auth::Action;
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments, POSITION_MAX};
use crate::tables::{self, Format};
use crate::{contract_id, Shared};

/// Facts per page of an explanation when the client names no limit, and the most it may ask.
pub const EXPLAIN_PAGE_DEFAULT: u32 = 100;
pub const EXPLAIN_PAGE_MAX: u32 = 1_000;

/// The period of `params`, which must be given.
fn period(params: &Params) -> Result<Period, ApiError> {
    let text = params.required_text("period", "`2024`, `2024-H1`, `2024-Q1` or `2024-03`")?;
    text.parse().map_err(|e: esito_indicators::PeriodError| {
        ApiError::new(ErrorCode::InvalidValue, e.to_string()).with_field("period")
    })
}

async fn report(
    state: &crate::AppState,
    headers: &HeaderMap,
    contract: &str,
    period: Period,
    as_of: Option<u64>,
) -> Result<IndicatorReport, ApiError> {
    let contract = state
        .open(headers, contract, Action::ReadIndicators)
        .await?;
    let report = state
        .store
        .indicators(&contract, period, as_of)
        .await
        .map_err(report_error)?;
    Ok(report)
}

pub(crate) fn report_error(error: ReportError) -> ApiError {
    match error {
        ReportError::AsOfBeyondLog { .. } => {
            ApiError::new(ErrorCode::InvalidValue, format!("as_of: {error}")).with_field("as_of")
        }
        ReportError::NoDefinitions { .. } => {
            ApiError::new(ErrorCode::NoIndicatorDefinitions, error.to_string())
        }
        ReportError::UnknownIndicator(_) => {
            ApiError::new(ErrorCode::UnknownIndicator, error.to_string())
        }
        ReportError::Store(error) => ApiError::from(error),
    }
}

/// A date of the query (`from`, `to`), which must be given: `YYYY-MM-DD`.
fn date(params: &Params, name: &str) -> Result<NaiveDate, ApiError> {
    let text = params.required_text(name, "a date, `YYYY-MM-DD`")?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidValue,
            format!("{name}: `{text}` is not a date `YYYY-MM-DD`"),
        )
        .with_field(name.to_owned())
    })
}

/// The range of days `from` (included) to `to` (the first day after it), both given and
/// `to` after `from`; asked instead of a period, never with one.
fn window(params: &Params) -> Result<Window, ApiError> {
    if params.text("period").is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            "period: give either `period` or `from` and `to`, not both",
        )
        .with_field("period"));
    }
    let from = date(params, "from")?;
    let to = date(params, "to")?;
    Window::new(from, to).map_err(|error| {
        ApiError::new(ErrorCode::InvalidValue, format!("to: {error}")).with_field("to")
    })
}

/// `GET /v1/contracts/{id}/indicators?period=P[&as_of=N]`: every indicator of the contract's
/// template for the period, as of log position N (default: the latest). With
/// `?from=D1&to=D2` instead of `period`: every indicator over the days from D1 to the day
/// before D2, by the same formulas (`esito_store::Store::indicators_between`).
pub async fn indicators(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = params.only(&["period", "from", "to", "as_of", "format"])?;
    // The key first, so that a stranger learns nothing of what the query would be refused for.
    state.keys.authenticate(&state.store, &headers).await?;
    if params.text("from").is_some() || params.text("to").is_some() {
        let window = window(&params)?;
        let as_of = params.integer("as_of", 0..=POSITION_MAX)?;
        let format = tables::format(&params)?;
        let contract = state
            .open(&headers, &contract, Action::ReadIndicators)
            .await?;
        let report = state
            .store
            .indicators_between(&contract, window, as_of)
            .await
            .map_err(report_error)?;
        return Ok(match format {
            Format::Json => Json(report).into_response(),
            Format::Csv => tables::response(
                tables::indicators_between(&report),
                &format!(
                    "{}-{}-{}-indicators.csv",
                    report.contract_id, report.from, report.to
                ),
            ),
        });
    }
    let period = period(&params)?;
    let as_of = params.integer("as_of", 0..=POSITION_MAX)?;
    let format = tables::format(&params)?;
    let report = report(&state, &headers, &contract, period, as_of).await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => tables::response(
            tables::indicators(&report),
            &format!("{}-{}-indicators.csv", report.contract_id, report.period),
        ),
    })
}

/// `GET /v1/contracts/{id}/indicators/{indicator}/explain?period=P[&as_of=N][&after=K][&limit=L]`:
/// the facts behind one value, in position order, paged by position (`next_after`).
pub async fn explain(
    State(state): State<Shared>,
    Segments((contract, indicator)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = params.only(&["period", "as_of", "after", "limit", "format"])?;
    let period = period(&params)?;
    let format = tables::format(&params)?;
    let limit = params
        .integer("limit", 1..=u64::from(EXPLAIN_PAGE_MAX))?
        .map_or(EXPLAIN_PAGE_DEFAULT, |limit| {
            u32::try_from(limit).expect("a limit is at most EXPLAIN_PAGE_MAX")
        });
    let after = params.integer("after", 0..=POSITION_MAX)?.unwrap_or(0);
    let as_of = params.integer("as_of", 0..=POSITION_MAX)?;
    let report = report(&state, &headers, &contract, period, as_of).await?;
    let Some(value) = report.indicators.iter().find(|value| value.id == indicator) else {
        return Err(ApiError::new(
            ErrorCode::UnknownIndicator,
            format!(
                "template {} has no indicator `{indicator}`",
                report.template
            ),
        ));
    };
    let contract = contract_id(&contract)?;
    let (_, facts) = state
        .store
        .explain(
            &contract,
            &indicator,
            period,
            Some(report.as_of),
            after,
            limit,
        )
        .await
        .map_err(report_error)?;
    let next_after = (facts.len() == limit as usize)
        .then(|| facts.last().map(|fact| fact.position))
        .flatten();
    let facts: Vec<serde_json::Value> = facts
        .iter()
        .map(|fact| {
            json!({
                "position": fact.position,
                "event_id": fact.event_id,
                "part": fact.part.as_str(),
                "local_date": fact.local_date,
                "key": fact.key,
                "amount": fact.amount.map(|amount| format!("{amount:.2}")),
            })
        })
        .collect();
    let explanation = json!({
        "contract_id": report.contract_id,
        "indicator": indicator,
        "period": report.period,
        "as_of": report.as_of,
        "value": value.value,
        "definitions_sha256": report.definitions_sha256,
        "facts": facts,
        "next_after": next_after,
    });
    Ok(match format {
        Format::Json => Json(explanation).into_response(),
        Format::Csv => tables::response(
            tables::explanation(&explanation),
            &format!(
                "{}-{}-{indicator}-explanation.csv",
                report.contract_id, report.period
            ),
        ),
    })
}

/// One pass of the projector over every contract: each caught up to its head. Returns the
/// entries applied; the lag left (appends that raced the pass) goes to `/metrics`.
pub async fn project_all(state: &crate::AppState) -> Result<u64, esito_store::StoreError> {
    let (mut applied, mut lag) = (0, 0);
    for contract in state.store.contracts().await? {
        let head = state
            .store
            .head(&contract)
            .await?
            .map_or(0, |head| head.size);
        let before = state.store.projection_state(&contract).await?.position;
        let after = state.store.catch_up(&contract, head).await?.position;
        applied += after.saturating_sub(before);
        lag += head.saturating_sub(after);
    }
    state.metrics.projection(applied, lag);
    Ok(applied)
}
