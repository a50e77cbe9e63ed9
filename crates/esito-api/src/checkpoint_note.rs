//! The checkpoints as C2SP `tlog-checkpoint` signed notes (`text/plain`), and the verifier key
//! that checks them, so that any signed-note library or witness can follow a contract's log.
//!
//! Invariant: a note states the tree head of a checkpoint the service signed and kept (the
//! latest), and is signed by the current key only (a retired key signs nothing, as for JSON
//! checkpoints). Ed25519 is deterministic: the same checkpoint gives the same note.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::auth::Action;
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments};
use crate::Shared;

/// The media type of both answers.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

fn text(body: String) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN));
    response
}

fn no_key() -> ApiError {
    ApiError::new(ErrorCode::Unavailable, "this service signs no checkpoints")
}

/// `GET /v1/contracts/{id}/checkpoint`: the latest checkpoint as a signed note.
pub async fn note(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let contract = state.open(&headers, &contract, Action::ReadProofs).await?;
    let key = state.checkpoint_key.as_ref().ok_or_else(no_key)?;
    let latest = state
        .store
        .checkpoints(&contract)
        .await?
        .into_iter()
        .max_by(|a, b| (a.size, &a.timestamp).cmp(&(b.size, &b.timestamp)))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnknownEvent,
                format!("{contract} has no checkpoint yet"),
            )
        })?;
    state.check_signing_key().await?;
    Ok(text(key.sign_note(
        contract.as_str(),
        latest.size,
        &latest.root_hash,
    )))
}

/// `GET /v1/contracts/{id}/checkpoint/verifier-key`: the key that checks the contract's notes,
/// as a signed-note verifier key (`name+id+key`), with a newline.
pub async fn verifier_key(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let contract = state.open(&headers, &contract, Action::ReadProofs).await?;
    let key = state.checkpoint_key.as_ref().ok_or_else(no_key)?;
    Ok(text(format!(
        "{}\n",
        key.note_verifier_key(contract.as_str())
    )))
}
