//! The HTTP API: every command, the batch, reading the log, lists, bearer keys, errors, metrics, OpenAPI.
//!
//! Invariant: a handler writes only through `Store::append`, after `Principal::check` allowed
//! it; every failure leaves as problem+json (`error.rs`).

pub mod access_log;
pub mod auth;
pub mod body;
pub mod catalog;
pub mod checkpoint_note;
pub mod contract_file;
pub mod error;
pub mod export;
mod history;
pub mod idempotency;
pub mod identities;
pub mod import;
mod imports;
pub mod indicators;
pub mod indigo;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod query;
mod reads;
mod ready;
pub mod screens;
pub mod settlements;
pub mod tables;
pub mod titles;
pub mod views;

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use esito_domain::{Command, ContractId, EventId, OccurredAt, StreamRef, StreamType, Submission};
use esito_store::{AppendOutcome, Store};
use serde_json::json;

use crate::auth::{Action, KeyCache, Principal};
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments};

/// The largest body accepted: a full batch of commands fits well within it.
pub const BODY_BYTES_MAX: usize = 1024 * 1024;

pub struct AppState {
    pub store: Arc<Store>,
    pub keys: KeyCache,
    pub metrics: metrics::Metrics,
    /// Contracts known to exist: a contract, once registered, never goes away.
    contracts: RwLock<HashSet<ContractId>>,
    /// The key that signs checkpoints; without one, none are made.
    pub checkpoint_key: Option<esito_log::signing::CheckpointKey>,
    /// The identity vault's master key, or why the vault cannot be read.
    pub vault: identities::Vault,
}

impl AppState {
    /// A service that signs no checkpoints (tests, tools).
    pub fn new(store: Arc<Store>) -> Arc<Self> {
        Self::build(store, None)
    }

    pub fn with_checkpoint_key(
        store: Arc<Store>,
        key: esito_log::signing::CheckpointKey,
    ) -> Arc<Self> {
        Self::build(store, Some(key))
    }

    fn build(
        store: Arc<Store>,
        checkpoint_key: Option<esito_log::signing::CheckpointKey>,
    ) -> Arc<Self> {
        Self::serving(
            store,
            checkpoint_key,
            identities::Vault::closed("no master key was given"),
        )
    }

    /// A service with its checkpoint key, if any, and its identity vault.
    pub fn serving(
        store: Arc<Store>,
        checkpoint_key: Option<esito_log::signing::CheckpointKey>,
        vault: identities::Vault,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            keys: KeyCache::default(),
            metrics: metrics::Metrics::new(),
            contracts: RwLock::new(HashSet::new()),
            checkpoint_key,
            vault,
        })
    }

    /// Signs and keeps a checkpoint of the contract's current tree head; `None` when the log
    /// is empty or there is no signing key.
    pub async fn make_checkpoint(
        &self,
        contract_id: &ContractId,
    ) -> Result<Option<esito_log::Checkpoint>, ApiError> {
        let Some(key) = &self.checkpoint_key else {
            return Ok(None);
        };
        let Some(head) = self.store.head(contract_id).await? else {
            return Ok(None);
        };
        self.check_signing_key().await?;
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let checkpoint = key.sign(contract_id.as_str(), head.size, head.root_hash, timestamp);
        self.store.insert_checkpoint(&checkpoint).await?;
        Ok(Some(checkpoint))
    }

    /// Records the signing key as the current one, unless a rotation retired it or another key
    /// is current: then it must not sign, and the service must be restarted with the current
    /// key. So every checkpoint's key is in the list at `/v1/checkpoint-keys`, and no key signs
    /// after its retirement.
    pub async fn check_signing_key(&self) -> Result<(), ApiError> {
        let Some(key) = &self.checkpoint_key else {
            return Ok(());
        };
        let refused = |detail: String| Err(ApiError::new(ErrorCode::Unavailable, detail));
        match self
            .store
            .record_signing_key(key.key_id(), &key.public_key())
            .await?
        {
            esito_store::KeyStanding::Current => Ok(()),
            esito_store::KeyStanding::Retired { retired_at } => refused(format!(
                "signing key {} was retired at {retired_at}: restart the service with the current key",
                key.key_id()
            )),
            esito_store::KeyStanding::OtherIsCurrent { key_id } => refused(format!(
                "signing key {} is not the current one, {key_id}: start with that key's file, or \
                 retire it with `esito keys rotate-signing`",
                key.key_id()
            )),
        }
    }

    /// Signs and keeps a checkpoint of the tree head at `size`, whose root the caller read
    /// with it (a settlement's pinned head: later appends do not move it); `None` without a
    /// signing key.
    pub async fn sign_checkpoint_of(
        &self,
        contract_id: &ContractId,
        size: u64,
        root_hash: esito_log::Hash,
    ) -> Result<Option<esito_log::Checkpoint>, ApiError> {
        let Some(key) = &self.checkpoint_key else {
            return Ok(None);
        };
        self.check_signing_key().await?;
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let checkpoint = key.sign(contract_id.as_str(), size, root_hash, timestamp);
        self.store.insert_checkpoint(&checkpoint).await?;
        Ok(Some(checkpoint))
    }

    async fn require_contract(&self, contract_id: &ContractId) -> Result<(), ApiError> {
        if self
            .contracts
            .read()
            .expect("the contracts lock is never poisoned")
            .contains(contract_id)
        {
            return Ok(());
        }
        if self.store.head(contract_id).await?.is_none() {
            return Err(ApiError::new(
                ErrorCode::UnknownContract,
                format!("there is no contract {contract_id}"),
            ));
        }
        self.contracts
            .write()
            .expect("the contracts lock is never poisoned")
            .insert(contract_id.clone());
        Ok(())
    }

    /// The common opening of a read: the key, its right to `action` on this contract, and the
    /// contract's existence, in that order (so a stranger learns nothing of what exists).
    async fn open(
        &self,
        headers: &HeaderMap,
        contract: &str,
        action: Action,
    ) -> Result<ContractId, ApiError> {
        let principal = self.keys.authenticate(&self.store, headers).await?;
        let contract = contract_id(contract)?;
        principal.check(&contract, action)?;
        self.require_contract(&contract).await?;
        Ok(contract)
    }
}

type Shared = Arc<AppState>;

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(ready::ready))
        .route("/metrics", get(metrics_page))
        .route("/openapi.json", get(openapi_document))
        .route("/v1/checkpoint-key", get(reads::checkpoint_key))
        .route("/v1/checkpoint-keys", get(reads::checkpoint_keys))
        .route(
            "/v1/contracts/{contract}/checkpoints",
            post(reads::make_checkpoint),
        )
        .route(
            "/v1/contracts/{contract}/checkpoint",
            get(checkpoint_note::note),
        )
        .route(
            "/v1/contracts/{contract}/checkpoint/verifier-key",
            get(checkpoint_note::verifier_key),
        )
        .route(
            "/v1/contracts/{contract}/checkpoints/latest",
            get(reads::latest_checkpoint),
        )
        .route("/v1/keys", get(keys::list).post(keys::create))
        .route("/v1/keys/{key_id}", delete(keys::revoke))
        .route("/v1/contracts/{contract}/identities", get(identities::find))
        .route(
            "/v1/contracts/{contract}/identities/{beneficiary_id}",
            get(identities::read)
                .put(identities::register)
                .delete(identities::erase),
        )
        .route("/v1/contracts", post(register_contract))
        .route("/v1/contracts/{contract}/commands/{command}", post(command))
        .route("/v1/contracts/{contract}/batch", post(batch))
        .route("/v1/contracts/{contract}/events", get(reads::events))
        .route("/v1/contracts/{contract}/export", get(export::export))
        .route(
            "/v1/contracts/{contract}/export/indigo",
            get(indigo::export),
        )
        .route(
            "/v1/contracts/{contract}/events/{event_id}",
            get(reads::event),
        )
        .route(
            "/v1/contracts/{contract}/streams/{stream_type}/{stream_id}",
            get(reads::stream),
        )
        .route(
            "/v1/contracts/{contract}/proofs/inclusion",
            get(reads::inclusion),
        )
        .route(
            "/v1/contracts/{contract}/proofs/consistency",
            get(reads::consistency),
        )
        .route(
            "/v1/contracts/{contract}/indicators",
            get(indicators::indicators),
        )
        .route(
            "/v1/contracts/{contract}/indicators/{indicator}/explain",
            get(indicators::explain),
        )
        .route(
            "/v1/contracts/{contract}/settlements",
            post(settlements::calculate).get(settlements::list),
        )
        .route(
            "/v1/contracts/{contract}/settlements/{period}",
            get(settlements::get),
        )
        .route(
            "/v1/contracts/{contract}/settlements/{period}/html",
            get(settlements::page),
        )
        .route(
            "/v1/contracts/{contract}/settlements/{period}/{step}",
            post(settlements::step),
        )
        .route("/v1/contracts/{contract}/{list}", get(reads::list))
        .fallback(|| async {
            ApiError::new(ErrorCode::NotFound, "no such endpoint: see /openapi.json")
        })
        // After every route: each path answers a method it does not serve with its `Allow`.
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not serve that method: see the Allow header and /openapi.json",
            )
        })
        .layer(axum::middleware::from_fn(body::json_only))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        // After the JSON-only layer: an import's body is CSV, and larger.
        .route(
            "/v1/contracts/{contract}/imports",
            post(imports::post).layer(DefaultBodyLimit::max(import::IMPORT_BODY_BYTES_MAX)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log::record,
        ))
        .with_state(state)
}

async fn healthz(params: Params) -> Result<Json<serde_json::Value>, ApiError> {
    params.only(&[])?;
    Ok(Json(json!({"status": "ok"})))
}

async fn metrics_page(state: State<Shared>, params: Params) -> Result<Response, ApiError> {
    params.only(&[])?;
    Ok(metrics::render(state).await)
}

async fn openapi_document(params: Params) -> Result<Json<serde_json::Value>, ApiError> {
    params.only(&[])?;
    Ok(Json(openapi::document()))
}

fn contract_id(text: &str) -> Result<ContractId, ApiError> {
    ContractId::parse(text).map_err(|e| ApiError::new(ErrorCode::UnknownContract, e.to_string()))
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!("a body holds at most {BODY_BYTES_MAX} bytes"),
            )
        } else {
            ApiError::new(ErrorCode::MalformedJson, rejection.body_text())
        }
    })
}

/// Builds a submission from a command's JSON object: `event_id` (required, unless `derived`
/// from an `Idempotency-Key`: a retry with the same id is the same event), `occurred_at`, and
/// the command's own fields.
fn submission(
    mut fields: serde_json::Map<String, serde_json::Value>,
    command: &'static str,
    prefix: &str,
    derived: Option<EventId>,
) -> Result<Submission, ApiError> {
    let at = |field: &str| {
        if prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{prefix}.{field}")
        }
    };
    let event_id = idempotency::event_id(&mut fields, prefix, derived)?;
    let occurred_at: OccurredAt = match fields.remove("occurred_at") {
        Some(value) => body::parse(value, &at("occurred_at"))?,
        None => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                format!("{}: missing field `occurred_at`", at("occurred_at")),
            )
            .with_field(at("occurred_at")))
        }
    };
    fields.insert("type".to_owned(), json!(command));
    let command: Command = body::parse(serde_json::Value::Object(fields), prefix)?;
    Ok(Submission {
        event_id,
        occurred_at,
        command,
    })
}

/// A provider speaks only about its own tokens: the order's token must be issued to it, as the
/// order stream replays, and a delivery must name it. A key that may speak for every provider
/// passes; a command that names no token is left to the table, which already allowed it.
async fn check_provider(
    state: &AppState,
    principal: &Principal,
    contract: &ContractId,
    submission: &Submission,
) -> Result<(), ApiError> {
    let (order_id, named) = match &submission.command {
        Command::RecordDelivery {
            order_id,
            provider_id,
        } => (order_id, Some(provider_id)),
        Command::AgreeDeliveryTime { order_id, .. } => (order_id, None),
        _ => return Ok(()),
    };
    if principal.role.may(Action::SpeakForEveryProvider) {
        return Ok(());
    }
    let not_yours = || {
        ApiError::new(
            ErrorCode::NotYourToken,
            "a provider speaks only about the tokens issued to it",
        )
    };
    // A key with no provider speaks for none.
    let mine = principal.provider_id.as_deref().ok_or_else(not_yours)?;
    if named.is_some_and(|named| named.as_str() != mine) {
        return Err(not_yours().with_field("provider_id"));
    }
    let stream = StreamRef::new(StreamType::Order, order_id.clone());
    let entries = state.store.stream_entries(contract, &stream).await?;
    // An order without a token is left to the domain, which names the rule.
    match history::token_provider(&entries)? {
        Some(provider) if provider.as_str() != mine => Err(not_yours().with_field("order_id")),
        _ => Ok(()),
    }
}

fn outcome_body(outcome: &AppendOutcome) -> serde_json::Value {
    json!({
        "event_id": outcome.event_id,
        "position": outcome.position,
        "leaf_hash": outcome.leaf_hash.to_string(),
    })
}

/// The event id an `Idempotency-Key` header derives for `command`, when one is sent.
fn derived_event_id(
    headers: &HeaderMap,
    principal: &Principal,
    contract: &ContractId,
    command: &str,
) -> Result<Option<EventId>, ApiError> {
    Ok(idempotency::key(headers)?
        .map(|key| idempotency::derive(&principal.name, contract, command, &key)))
}

/// 201 with the event's position; a replay of an event already in the log answers the same,
/// marked by `Idempotent-Replay: true`.
fn created(outcome: &AppendOutcome) -> Response {
    let mut response = (StatusCode::CREATED, Json(outcome_body(outcome))).into_response();
    if outcome.duplicate {
        response
            .headers_mut()
            .insert("idempotent-replay", HeaderValue::from_static("true"));
    }
    response
}

async fn append_one(
    state: &AppState,
    contract: &ContractId,
    principal: &Principal,
    submission: Submission,
) -> Result<Response, ApiError> {
    let outcomes = state
        .store
        .append(contract, &principal.name, std::slice::from_ref(&submission))
        .await;
    let outcome = state.metrics.appended(outcomes)?;
    Ok(created(&outcome[0]))
}

async fn register_contract(
    State(state): State<Shared>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let mut fields = body::object(&body_bytes(body)?)?;
    if let Some(file) = fields.remove("file") {
        return register_contract_file(&state, &principal, &headers, fields, file).await;
    }
    let contract = match fields.remove("contract_id") {
        Some(value) => body::parse::<ContractId>(value, "contract_id")?,
        None => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "contract_id: missing field `contract_id`",
            )
            .with_field("contract_id"))
        }
    };
    principal.check(&contract, Action::Command("RegisterContract"))?;
    let derived = derived_event_id(&headers, &principal, &contract, "RegisterContract")?;
    let submission = submission(fields, "RegisterContract", "", derived)?;
    let response = append_one(&state, &contract, &principal, submission).await?;
    state
        .contracts
        .write()
        .expect("the contracts lock is never poisoned")
        .insert(contract);
    Ok(response)
}

/// A whole contract from one file (`contract_file`): its registration and its terms, written
/// together or not at all.
async fn register_contract_file(
    state: &Shared,
    principal: &Principal,
    headers: &HeaderMap,
    fields: serde_json::Map<String, serde_json::Value>,
    file: serde_json::Value,
) -> Result<Response, ApiError> {
    if let Some(other) = fields.keys().next() {
        return Err(ApiError::new(
            ErrorCode::UnknownField,
            format!("{other}: a contract file is sent alone, as the member `file`"),
        )
        .with_field(other.clone()));
    }
    if headers.contains_key(idempotency::HEADER) {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            "idempotency-key: a contract file's event ids derive from its bytes",
        )
        .with_field(idempotency::HEADER));
    }
    let text: String = body::parse(file, "file")?;
    let (contract, submissions) = contract_file::submissions(&text)?;
    principal.check(&contract, Action::Command("RegisterContract"))?;
    principal.check(&contract, Action::Command("AmendContract"))?;
    let outcomes = state
        .store
        .append(&contract, &principal.name, &submissions)
        .await;
    let outcome = state.metrics.appended(outcomes)?;
    state
        .contracts
        .write()
        .expect("the contracts lock is never poisoned")
        .insert(contract);
    Ok(created(&outcome[0]))
}

async fn command(
    State(state): State<Shared>,
    Segments((contract, command)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = contract_id(&contract)?;
    let name = *catalog::catalog().by_path.get(&command).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownCommand,
            format!("there is no command {command}"),
        )
    })?;
    principal.check(&contract, Action::Command(name))?;
    state.require_contract(&contract).await?;
    let derived = derived_event_id(&headers, &principal, &contract, name)?;
    let submission = submission(body::object(&body_bytes(body)?)?, name, "", derived)?;
    check_provider(&state, &principal, &contract, &submission).await?;
    append_one(&state, &contract, &principal, submission).await
}

/// Up to `BATCH_SIZE_MAX` commands: `{"items": [{"type": "PlaceOrder", "event_id": ...,
/// "occurred_at": ..., ...}]}`, all or nothing unless `?atomic=false`. Each item carries its
/// own `event_id`: one `Idempotency-Key` would not say which item it is for.
async fn batch(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let atomic = params.only(&["atomic"])?.boolean("atomic")?.unwrap_or(true);
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = contract_id(&contract)?;
    principal.check(&contract, Action::SendBatch)?;
    state.require_contract(&contract).await?;
    if headers.contains_key(idempotency::HEADER) {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            "Idempotency-Key: a batch's items each carry their own `event_id`",
        )
        .with_field(idempotency::HEADER));
    }
    let mut fields = body::object(&body_bytes(body)?)?;
    let items = match fields.remove("items") {
        Some(serde_json::Value::Array(items)) => items,
        Some(_) => {
            return Err(
                ApiError::new(ErrorCode::InvalidType, "items: an array of commands")
                    .with_field("items"),
            )
        }
        None => {
            return Err(
                ApiError::new(ErrorCode::MissingField, "items: missing field `items`")
                    .with_field("items"),
            )
        }
    };
    if let Some(unknown) = fields.keys().next() {
        return Err(ApiError::new(
            ErrorCode::UnknownField,
            format!("unknown field `{unknown}`, expected `items`"),
        )
        .with_field(unknown.clone()));
    }
    if items.is_empty() || items.len() > esito_store::BATCH_SIZE_MAX {
        return Err(ApiError::from(esito_store::AppendError::BatchSize {
            size: items.len(),
        }));
    }
    let mut submissions = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match batch_item(&state, &principal, &contract, index, item).await {
            Ok(submission) => submissions.push(Some(submission)),
            Err(error) => {
                problems.push(error.at_index(index));
                submissions.push(None);
            }
        }
    }
    if atomic {
        if let Some(first) = problems.first() {
            return Err(first.clone());
        }
        let submissions: Vec<Submission> = submissions.into_iter().flatten().collect();
        let outcomes = state.metrics.appended(
            state
                .store
                .append(&contract, &principal.name, &submissions)
                .await,
        )?;
        let items: Vec<_> = outcomes
            .iter()
            .enumerate()
            .map(|(index, o)| {
                let mut item = outcome_body(o);
                item["index"] = json!(index);
                item["status"] = json!(201);
                item["duplicate"] = json!(o.duplicate);
                item
            })
            .collect();
        return Ok((
            StatusCode::OK,
            Json(json!({"atomic": true, "items": items})),
        )
            .into_response());
    }
    let mut answers = Vec::new();
    let mut problems = problems.into_iter().peekable();
    for (index, submission) in submissions.into_iter().enumerate() {
        let answer = match submission {
            None => problems
                .next()
                .expect("a problem for each item that did not parse")
                .body(),
            Some(submission) => match state.metrics.appended(
                state
                    .store
                    .append(&contract, &principal.name, &[submission])
                    .await,
            ) {
                Ok(outcomes) => {
                    let mut item = outcome_body(&outcomes[0]);
                    item["status"] = json!(201);
                    item["duplicate"] = json!(outcomes[0].duplicate);
                    item
                }
                Err(error) => error.body(),
            },
        };
        let mut answer = answer;
        answer["index"] = json!(index);
        answers.push(answer);
    }
    Ok((
        StatusCode::OK,
        Json(json!({"atomic": false, "items": answers})),
    )
        .into_response())
}

async fn batch_item(
    state: &AppState,
    principal: &Principal,
    contract: &ContractId,
    index: usize,
    item: serde_json::Value,
) -> Result<Submission, ApiError> {
    let prefix = format!("items[{index}]");
    let serde_json::Value::Object(mut fields) = item else {
        return Err(ApiError::new(
            ErrorCode::InvalidType,
            format!("{prefix}: a command object"),
        )
        .with_field(prefix));
    };
    let name = match fields.remove("type") {
        Some(serde_json::Value::String(name)) => catalog::catalog()
            .schemas
            .keys()
            .find(|known| **known == name)
            .copied()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::UnknownCommand,
                    format!("{prefix}.type: there is no command {name}"),
                )
                .with_field(format!("{prefix}.type"))
            })?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                format!("{prefix}.type: missing command type"),
            )
            .with_field(format!("{prefix}.type")))
        }
    };
    principal.check(contract, Action::Command(name))?;
    let submission = submission(fields, name, &prefix, None)?;
    check_provider(state, principal, contract, &submission).await?;
    Ok(submission)
}
