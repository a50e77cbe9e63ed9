//! Every write carries its event id (docs/design.md §2): the body's `event_id`, or one derived
//! from an `Idempotency-Key` header, so that a retry after a time-out is the same event.
//!
//! Invariant: the same key, sent by the same principal for the same command on the same
//! contract, derives the same event id, whatever the instance or the day; no write is given
//! an id the client could not send again. The nil UUID is never an event id.

use axum::http::HeaderMap;
use esito_domain::{ContractId, EventId};
use serde_json::{json, Map, Value};

use crate::body;
use crate::error::{ApiError, ErrorCode};

/// The header a client may send instead of an `event_id` in the body.
pub const HEADER: &str = "idempotency-key";

/// The longest key accepted, in bytes.
pub const KEY_BYTES_MAX: usize = 255;

/// Esito's own namespace for the event ids derived from an `Idempotency-Key` (UUIDv5, RFC 9562).
pub const NAMESPACE: uuid::Uuid = uuid::uuid!("a0b3c5e2-6f1d-5c8e-9b47-3d2e1f0a9c68");

/// The key of the `Idempotency-Key` header, when one is sent: visible ASCII, 1 to 255 bytes,
/// its surrounding double quotes (an RFC 8941 string) taken off.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let refuse = |detail: &str| {
        Err(ApiError::new(
            ErrorCode::InvalidValue,
            format!("Idempotency-Key: {detail}"),
        )
        .with_field(HEADER))
    };
    let Ok(text) = value.to_str() else {
        return refuse("visible ASCII only");
    };
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(text);
    if text.is_empty() || text.len() > KEY_BYTES_MAX {
        return refuse("from 1 to 255 characters");
    }
    Ok(Some(text.to_owned()))
}

/// The event id a key derives: UUIDv5 in `NAMESPACE` of the JSON array
/// `[principal, contract, command, key]` as serde_json writes it (no spaces), where `principal`
/// is the name of the key's principal (the entry's `recorded_by`) and `command` the command's
/// type (`RecordAccess`, `CalculateSettlement`).
pub fn derive(principal: &str, contract: &ContractId, command: &str, key: &str) -> EventId {
    let name = json!([principal, contract.as_str(), command, key]).to_string();
    uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The write's event id, taken out of `fields` (at `prefix`, for a batch item): the body's
/// `event_id`, which must agree with `derived` when a key was sent too, or else `derived`.
pub fn event_id(
    fields: &mut Map<String, Value>,
    prefix: &str,
    derived: Option<EventId>,
) -> Result<EventId, ApiError> {
    let field = if prefix.is_empty() {
        "event_id".to_owned()
    } else {
        format!("{prefix}.event_id")
    };
    let event_id: EventId = match (fields.remove("event_id"), derived) {
        (Some(value), derived) => {
            let given: EventId = body::parse(value, &field)?;
            if derived.is_some_and(|derived| derived != given) {
                return Err(ApiError::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "{field}: {given} is not the event id the Idempotency-Key derives; send one \
                         or the other"
                    ),
                )
                .with_field(field));
            }
            given
        }
        (None, Some(derived)) => derived,
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                format!(
                    "{field}: missing field `event_id`: every write carries a UUID of the \
                     client's, or an Idempotency-Key header, so that a retry is the same event"
                ),
            )
            .with_field(field))
        }
    };
    if event_id.is_nil() {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            format!("{field}: the nil UUID is no event id"),
        )
        .with_field(field));
    }
    Ok(event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_derives_the_event_id_written_out_in_the_design() {
        let contract = ContractId::parse("strict-contract").expect("valid");
        // Python: uuid.uuid5(uuid.UUID("a0b3c5e2-6f1d-5c8e-9b47-3d2e1f0a9c68"),
        //   '["operator","strict-contract","RecordAccess","desk-1"]')
        assert_eq!(
            derive("operator", &contract, "RecordAccess", "desk-1").to_string(),
            "789d55e7-7cb2-583c-a851-3e690c9c0cea"
        );
        assert_ne!(
            derive("operator", &contract, "RecordAccess", "desk-1"),
            derive("operator", &contract, "RecordAccess", "desk-2")
        );
    }

    #[test]
    fn a_quoted_key_is_the_key_and_an_empty_or_long_one_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, "\"desk-1\"".parse().expect("a value"));
        assert_eq!(key(&headers).expect("read").as_deref(), Some("desk-1"));
        for bad in ["", "\"\"", &"k".repeat(KEY_BYTES_MAX + 1)] {
            headers.insert(HEADER, bad.parse().expect("a value"));
            let error = key(&headers).expect_err(bad);
            assert_eq!(
                (error.code, error.field.as_deref()),
                ("invalid_value", Some(HEADER))
            );
        }
    }
}
