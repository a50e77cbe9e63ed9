//! The admin's keys over HTTP: `GET /v1/keys` lists every key (never a key itself, which is not
//! stored), `POST /v1/keys` creates one and shows it once, `DELETE /v1/keys/{key_id}` revokes
//! one. The same rules as `esito keys` (`auth::NewKey`).
//!
//! Invariant: only a key whose role may `ManageKeys` and that reaches every contract gets here
//! (`Principal::check_everywhere`); a revocation is final and seen by every instance within
//! `auth::KEY_FRESHNESS`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use esito_domain::values::format_recorded_at;
use esito_domain::ContractId;
use esito_store::StoredKey;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::access_log::key_id;
use crate::auth::{Action, KeyRequestError, Lifetime, NewKey, Role};
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments};
use crate::{body, body_bytes, Shared};

/// A key as listed: its id (16 hex digits of its SHA-256, as the access log names it), what it
/// may do and its lifecycle; never the key.
pub fn listing(stored: &StoredKey, now: chrono::DateTime<Utc>) -> Value {
    let record = &stored.record;
    let expired = record.expires_at.as_deref().is_some_and(|expires_at| {
        chrono::DateTime::parse_from_rfc3339(expires_at).is_ok_and(|at| at <= now)
    });
    let state = if stored.revoked_at.is_some() {
        "revoked"
    } else if expired {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": key_id(&record.key_hash),
        "principal": record.principal,
        "role": record.role,
        "contracts": record.contracts,
        "provider_id": record.provider_id,
        "created_at": stored.created_at,
        "last_used_at": stored.last_used_at,
        "expires_at": record.expires_at,
        "revoked_at": stored.revoked_at,
        "demo": record.demo,
        "state": state,
    })
}

/// `POST /v1/keys`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    role: String,
    #[serde(default)]
    contracts: Vec<ContractId>,
    provider_id: Option<String>,
    principal: Option<String>,
    /// `90d`, `12h`, `30m`; absent: until revoked.
    expires_in: Option<String>,
}

fn invalid(error: KeyRequestError) -> ApiError {
    let field = match error.field {
        "provider" => "provider_id",
        other => other,
    };
    ApiError::new(
        ErrorCode::InvalidValue,
        format!("{field}: {}", error.reason),
    )
    .with_field(field)
}

async fn admin(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let principal = state.keys.authenticate(&state.store, headers).await?;
    principal.check_everywhere(Action::ManageKeys)
}

/// `GET /v1/keys`: every key, revoked and expired ones included, oldest first.
pub async fn list(
    State(state): State<Shared>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    admin(&state, &headers).await?;
    let now = Utc::now();
    let keys: Vec<Value> = state
        .store
        .keys()
        .await?
        .iter()
        .map(|stored| listing(stored, now))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

/// `POST /v1/keys`: 201 with the new key, shown this once, and its listing.
pub async fn create(
    State(state): State<Shared>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    admin(&state, &headers).await?;
    let fields = body::object(&body_bytes(body)?)?;
    let request: CreateKey = body::parse(Value::Object(fields), "")?;
    let role = Role::parse(&request.role).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidValue,
            format!(
                "role: `{}` is none of admin, operator, provider, payer, funder, evaluator",
                request.role
            ),
        )
        .with_field("role")
    })?;
    let lifetime = request
        .expires_in
        .as_deref()
        .map(Lifetime::parse)
        .transpose()
        .map_err(invalid)?;
    let new = NewKey::new(
        request.principal,
        role,
        request.contracts,
        request.provider_id,
        lifetime,
    )
    .map_err(invalid)?;
    let key = crate::auth::create(&state.store, &new).await?;
    let stored = state
        .store
        .key_by_hash(&crate::auth::key_hash(&key))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "the key just stored is not found"))?;
    let mut body = listing(&stored, Utc::now());
    body["key"] = json!(key);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /v1/keys/{key_id}`: revokes the key; every instance refuses it within a second. A
/// key revoked before keeps its first revocation.
pub async fn revoke(
    State(state): State<Shared>,
    Segments(id): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    admin(&state, &headers).await?;
    let stored = revoke_by_id(&state.store, &id).await?;
    Ok(Json(listing(&stored, Utc::now())))
}

/// Revokes the key whose id is `id` and reads it back: what `esito keys revoke` does too.
pub async fn revoke_by_id(store: &esito_store::Store, id: &str) -> Result<StoredKey, ApiError> {
    let unknown = || {
        ApiError::new(
            ErrorCode::UnknownKey,
            format!("there is no key {id}: `GET /v1/keys` lists their ids"),
        )
    };
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unknown());
    }
    let id = id.to_ascii_lowercase();
    let key = store
        .keys()
        .await?
        .into_iter()
        .find(|stored| key_id(&stored.record.key_hash) == id)
        .ok_or_else(unknown)?;
    store
        .revoke_key(&key.record.key_hash, &format_recorded_at(Utc::now()))
        .await?;
    store
        .key_by_hash(&key.record.key_hash)
        .await?
        .ok_or_else(unknown)
}
