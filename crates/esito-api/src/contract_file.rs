//! A whole contract in one TOML file (`docs/contracts.md`): its registration and, from its
//! first day, its payment and funder terms, read into the submissions that record them.
//!
//! Invariant: a file becomes exactly the commands a client would send one by one (a
//! `RegisterContract`, then an `AmendContract` effective on the term's first day when the file
//! has terms), each read by the same `submission` as a JSON body, so a file is checked by the
//! same rules and `decide`; their event ids derive from the file's bytes, so the same file sent
//! again is answered as a replay.

use esito_domain::{ContractId, EventId, Submission};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};

/// The most bytes a contract file may hold: its definitions (at most 256 KiB) and its terms.
pub const CONTRACT_FILE_BYTES_MAX: usize = 512 * 1024;

/// The namespace of the event ids a contract file's submissions take (UUIDv5 of the contract
/// id, the file's SHA-256 and the command).
const NAMESPACE: uuid::Uuid = uuid::uuid!("4f0d3c2a-9b8e-5d71-a6c4-2e1f0b9d8c73");

/// The file as written. Dates and instants are strings, as in a JSON body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractFile {
    contract_id: String,
    /// The registration's `occurred_at`.
    registered_at: String,
    title: String,
    payer: String,
    #[serde(default)]
    funder: Option<String>,
    operator: String,
    evaluator: String,
    term_start_on: String,
    term_end_on: String,
    period_kind: String,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    definitions: Option<String>,
    #[serde(default)]
    payment_terms: Option<toml::Value>,
    #[serde(default)]
    funder_terms: Option<toml::Value>,
}

fn refused(code: ErrorCode, field: &str, detail: String) -> ApiError {
    ApiError::new(code, format!("{field}: {detail}")).with_field(field)
}

/// A refusal of a field of the file's commands, named as the file names it.
fn under_file(mut error: ApiError) -> ApiError {
    error.field = Some(match error.field {
        Some(field) => format!("file.{field}"),
        None => "file".to_owned(),
    });
    error
}

fn to_json(value: toml::Value, field: &str) -> Result<Value, ApiError> {
    serde_json::to_value(value)
        .map_err(|error| refused(ErrorCode::InvalidValue, field, error.to_string()))
}

/// The contract a file registers, and the submissions that register it (in order).
pub fn submissions(text: &str) -> Result<(ContractId, Vec<Submission>), ApiError> {
    if text.len() > CONTRACT_FILE_BYTES_MAX {
        return Err(refused(
            ErrorCode::BodyTooLarge,
            "file",
            format!(
                "{} bytes, more than the {CONTRACT_FILE_BYTES_MAX} a contract file may hold",
                text.len()
            ),
        ));
    }
    // A TOML error names its line and column.
    let file: ContractFile = toml::from_str(text)
        .map_err(|error| refused(ErrorCode::InvalidValue, "file", error.to_string()))?;
    let contract: ContractId = crate::body::parse(json!(file.contract_id), "file.contract_id")?;
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let event_id = |command: &str| -> EventId {
        uuid::Uuid::new_v5(
            &NAMESPACE,
            format!("{contract}/{digest}/{command}").as_bytes(),
        )
    };
    let mut registration = Map::new();
    for (name, value) in [
        ("title", Some(file.title)),
        ("payer", Some(file.payer)),
        ("funder", file.funder),
        ("operator", Some(file.operator)),
        ("evaluator", Some(file.evaluator)),
        ("term_start_on", Some(file.term_start_on.clone())),
        ("term_end_on", Some(file.term_end_on)),
        ("period_kind", Some(file.period_kind)),
        ("template", file.template),
        ("definitions", file.definitions),
    ] {
        if let Some(value) = value {
            registration.insert(name.to_owned(), json!(value));
        }
    }
    registration.insert("occurred_at".to_owned(), json!(file.registered_at));
    registration.insert(
        "event_id".to_owned(),
        json!(event_id("RegisterContract").to_string()),
    );
    let mut submissions =
        vec![crate::submission(registration, "RegisterContract", "", None).map_err(under_file)?];
    let mut changes = Vec::new();
    if let Some(terms) = file.payment_terms {
        changes.push(json!({"kind": "payment_terms",
                            "payment_terms": to_json(terms, "file.payment_terms")?}));
    }
    if let Some(terms) = file.funder_terms {
        changes.push(json!({"kind": "funder_terms",
                            "funder_terms": to_json(terms, "file.funder_terms")?}));
    }
    if !changes.is_empty() {
        let mut amendment = Map::new();
        amendment.insert(
            "event_id".to_owned(),
            json!(event_id("AmendContract").to_string()),
        );
        amendment.insert("occurred_at".to_owned(), json!(file.registered_at));
        amendment.insert("effective_on".to_owned(), json!(file.term_start_on));
        amendment.insert("changes".to_owned(), Value::Array(changes));
        submissions
            .push(crate::submission(amendment, "AmendContract", "", None).map_err(under_file)?);
    }
    Ok((contract, submissions))
}
