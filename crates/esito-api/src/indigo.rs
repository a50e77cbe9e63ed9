//! `GET /v1/contracts/{id}/export/indigo` and `esito export --format indigo`: a contract's
//! INDIGO `project.json`, gathered from the store here and mapped by `esito_books::indigo`.
//!
//! Invariant: one snapshot, the log as of the head read first: the books are read as of it,
//! and each approved settlement's indicator values as of the position its calculation was made
//! as of; so the CLI and the service give the same bytes for the same log.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use esito_books::Books;
use esito_domain::ContractId;
use esito_store::settlement::SettlementFailure;
use esito_store::Store;

use crate::auth::Action;
use crate::error::ApiError;
use crate::query::{Params, Segments};
use crate::Shared;

/// The contract's INDIGO document as of its head now, pretty-printed JSON ending with a newline.
pub async fn document(store: &Store, contract: &ContractId) -> Result<Vec<u8>, SettlementFailure> {
    let head = store
        .head(contract)
        .await?
        .ok_or(SettlementFailure::EmptyLog)?;
    let entries = store.book_entries(contract).await?;
    let books = Books::from_entries(contract, head.size, &entries)?;
    let mut reports = BTreeMap::new();
    for (period, as_of) in esito_books::indigo::needs(&books) {
        reports.insert(
            period,
            store.indicators(contract, period, Some(as_of)).await?,
        );
    }
    Ok(esito_books::indigo::project_json(
        &esito_books::indigo::Source {
            books: &books,
            root_hash: head.root_hash,
            entries: &entries,
            reports: &reports,
        },
    )?)
}

/// `GET /v1/contracts/{id}/export/indigo`: the roles that may export the log.
pub async fn export(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let contract = state.open(&headers, &contract, Action::ExportLog).await?;
    let body = document(&state.store, &contract).await?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
