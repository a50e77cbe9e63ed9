//! The identity vault over HTTP (docs/privacy.md): `PUT`, `GET` and `DELETE
//! /v1/contracts/{contract}/identities/{beneficiary_id}`, and `GET .../identities?fiscal_code=`
//! to find a pseudonym by fiscal code. The operator registers, reads and erases; the admin
//! registers and erases; no other role reaches an identity.
//!
//! Invariant: a record reaches the store only sealed (`esito_vault::MasterKey::seal`), and an
//! identity's plaintext leaves only in the answer to the operator's `GET`. An erasure deletes
//! the record, then records `IdentityErased` under an event id fixed by the contract and the
//! pseudonym, so a retried erasure writes the event once; it needs no master key.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use esito_domain::{Command, ContractId, OccurredAt, StreamId, StreamRef, StreamType, Submission};
use esito_store::identities::{Erasure, Registration, SealedRow, StoredIdentity};
use esito_vault::{FiscalCode, Identity, MasterKey};
use serde_json::{json, Value};

use crate::auth::Action;
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments};
use crate::{body, body_bytes, Shared};

/// The namespace of an erasure's event id (UUIDv5 of `contract/beneficiary`): one erasure, one
/// event, however often it is asked for.
const ERASURE_NAMESPACE: uuid::Uuid = uuid::uuid!("c3f1d2a4-7b6e-4d5c-9a8b-1e2f3a4b5c6d");

/// The earliest birth date accepted.
const BIRTH_DATE_MIN: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => panic!("1900-01-01 is a date"),
};

/// The vault as the service holds it: open with the master key, or closed with the reason, which
/// every request that needs the key is told (503 `vault_unavailable`). Erasure needs no key.
pub enum Vault {
    Open(MasterKey),
    Closed(String),
}

impl Vault {
    pub fn closed(reason: impl Into<String>) -> Self {
        Vault::Closed(reason.into())
    }

    fn key(&self) -> Result<&MasterKey, ApiError> {
        match self {
            Vault::Open(key) => Ok(key),
            Vault::Closed(reason) => Err(unavailable(reason)),
        }
    }
}

fn unavailable(reason: &str) -> ApiError {
    ApiError::new(
        ErrorCode::VaultUnavailable,
        format!("the identity vault cannot be used: {reason}; the log and everything computed from it still work"),
    )
}

fn pseudonym(text: &str) -> Result<StreamId, ApiError> {
    StreamId::parse(text).map_err(|e| {
        ApiError::new(ErrorCode::InvalidValue, format!("beneficiary_id: {e}"))
            .with_field("beneficiary_id")
    })
}

/// The beneficiary must be registered in the log: the vault names only pseudonyms the log knows.
async fn require_beneficiary(
    state: &Shared,
    contract: &ContractId,
    beneficiary: &StreamId,
) -> Result<(), ApiError> {
    let stream = StreamRef::new(StreamType::Beneficiary, beneficiary.clone());
    if state
        .store
        .stream_entries(contract, &stream)
        .await?
        .is_empty()
    {
        return Err(
            ApiError::rule(&esito_domain::DomainError::UnknownBeneficiary {
                beneficiary_id: beneficiary.clone(),
            })
            .with_field("beneficiary_id"),
        );
    }
    Ok(())
}

/// `PUT .../identities/{beneficiary_id}`: registers or replaces the person's identity; 201 when
/// new, 200 when replaced. Refused: a pseudonym erased before (404 `identity_erased`), a fiscal
/// code another pseudonym of the contract has (409 `fiscal_code_registered`).
pub async fn register(
    State(state): State<Shared>,
    Segments((contract, beneficiary)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let contract = state
        .open(&headers, &contract, Action::WriteIdentities)
        .await?;
    let beneficiary = pseudonym(&beneficiary)?;
    let key = state.vault.key()?;
    let identity: Identity = body::parse(Value::Object(body::object(&body_bytes(body)?)?), "")?;
    if let Some(born) = identity.birth_date {
        if born < BIRTH_DATE_MIN || born > Utc::now().date_naive() {
            return Err(ApiError::new(
                ErrorCode::InvalidValue,
                format!("birth_date: {born} is not between {BIRTH_DATE_MIN} and today"),
            )
            .with_field("birth_date"));
        }
    }
    require_beneficiary(&state, &contract, &beneficiary).await?;
    let sealed = key
        .seal(contract.as_str(), beneficiary.as_str(), &identity)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let row = SealedRow {
        wrapped_key: sealed.wrapped_key,
        ciphertext: sealed.ciphertext,
        fiscal_code_hmac: sealed.fiscal_code_hmac,
    };
    let status = match state
        .store
        .put_identity(contract.as_str(), beneficiary.as_str(), &key.key_id(), &row)
        .await?
    {
        Registration::Created => StatusCode::CREATED,
        Registration::Replaced => StatusCode::OK,
        Registration::Erased { erased_at } => return Err(erased(&beneficiary, &erased_at)),
        Registration::FiscalCodeTaken { beneficiary_id } => {
            return Err(ApiError::new(
                ErrorCode::FiscalCodeRegistered,
                format!("fiscal_code: already registered for beneficiary {beneficiary_id} of this contract"),
            )
            .with_field("fiscal_code"))
        }
        Registration::OtherMasterKey { recorded } => {
            return Err(unavailable(&format!(
                "this service's master key {} is not the vault's, {recorded}: restart it with the current key file",
                key.key_id()
            )))
        }
    };
    Ok((status, Json(json!({ "beneficiary_id": beneficiary }))).into_response())
}

fn erased(beneficiary: &StreamId, erased_at: &str) -> ApiError {
    ApiError::new(
        ErrorCode::IdentityErased,
        format!("the identity of beneficiary {beneficiary} was erased at {erased_at}"),
    )
}

fn unknown(beneficiary: &StreamId) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownIdentity,
        format!("no identity is registered for beneficiary {beneficiary}"),
    )
}

/// `GET .../identities/{beneficiary_id}`: the identity, to the operator only.
pub async fn read(
    State(state): State<Shared>,
    Segments((contract, beneficiary)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let contract = state
        .open(&headers, &contract, Action::ReadIdentities)
        .await?;
    let beneficiary = pseudonym(&beneficiary)?;
    let key = state.vault.key()?;
    match state
        .store
        .identity(contract.as_str(), beneficiary.as_str())
        .await?
    {
        StoredIdentity::Present(row) => {
            let identity = key
                .open(
                    contract.as_str(),
                    beneficiary.as_str(),
                    &row.wrapped_key,
                    &row.ciphertext,
                )
                .map_err(|e| unavailable(&e.to_string()))?;
            let mut answer = serde_json::to_value(&identity).expect("an identity serializes");
            answer["beneficiary_id"] = json!(beneficiary);
            Ok(Json(answer))
        }
        StoredIdentity::Erased { erased_at } => Err(erased(&beneficiary, &erased_at)),
        StoredIdentity::Absent => Err(unknown(&beneficiary)),
    }
}

/// `GET .../identities?fiscal_code=CODE`: the pseudonym registered with that fiscal code, found
/// by its keyed hash without opening any record; to the operator only.
pub async fn find(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let params = params.only(&["fiscal_code"])?;
    let contract = state
        .open(&headers, &contract, Action::ReadIdentities)
        .await?;
    let code = params.required_text("fiscal_code", "the fiscal code to look for")?;
    let code = FiscalCode::parse(code).map_err(|e| {
        ApiError::new(ErrorCode::InvalidValue, format!("fiscal_code: {e}"))
            .with_field("fiscal_code")
    })?;
    let key = state.vault.key()?;
    match state
        .store
        .identity_by_fiscal_code(contract.as_str(), &key.lookup(&code))
        .await?
    {
        Some(beneficiary_id) => Ok(Json(json!({ "beneficiary_id": beneficiary_id }))),
        None => Err(ApiError::new(
            ErrorCode::UnknownIdentity,
            "no identity of this contract has that fiscal code",
        )),
    }
}

/// `DELETE .../identities/{beneficiary_id}`: erasure. The wrapped data key and the record are
/// deleted in one transaction, then `IdentityErased` is recorded in the log; asked again, it
/// answers the same and writes nothing more.
pub async fn erase(
    State(state): State<Shared>,
    Segments((contract, beneficiary)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = crate::contract_id(&contract)?;
    principal.check(&contract, Action::WriteIdentities)?;
    state.require_contract(&contract).await?;
    let beneficiary = pseudonym(&beneficiary)?;
    let erased_at = match state
        .store
        .erase_identity(contract.as_str(), beneficiary.as_str())
        .await?
    {
        Erasure::Erased { erased_at } | Erasure::AlreadyErased { erased_at } => erased_at,
        Erasure::Absent => return Err(unknown(&beneficiary)),
    };
    let submission = Submission {
        event_id: uuid::Uuid::new_v5(
            &ERASURE_NAMESPACE,
            format!("{contract}/{beneficiary}").as_bytes(),
        ),
        // The erasure's own time, as recorded with it: a retried erasure is the same event.
        occurred_at: OccurredAt::parse(&erased_at).map_err(|e| {
            ApiError::from(esito_store::StoreError::Corrupt {
                position: 0,
                reason: format!("identity erasure time: {e}"),
            })
        })?,
        command: Command::EraseIdentity {
            beneficiary_id: beneficiary.clone(),
        },
    };
    let outcomes = state.metrics.appended(
        state
            .store
            .append(
                &contract,
                &principal.name,
                std::slice::from_ref(&submission),
            )
            .await,
    )?;
    Ok(Json(json!({
        "beneficiary_id": beneficiary,
        "erased_at": erased_at,
        "event_id": outcomes[0].event_id,
        "position": outcomes[0].position,
    })))
}
