//! One log entry, and the RFC 8785 bytes of it that are hashed into a leaf.
//!
//! Invariant (checked when an entry is read, and by [`Entry::validate`] for entries built in code):
//! the position is at least 1, the payload is an object, no integer lies beyond ±(2^53 − 1) and no
//! object repeats a key, so that the canonical bytes, and hence the leaf hash, determine the entry.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::hash::{leaf_hash, Hash};
use crate::jcs::{self, IJsonNode, IJsonValue, MAX_EXACT_INTEGER};

/// One event as the log records it. Its field names and types are the entry format of the export
/// and of the leaf hash; `corrects` is left out entirely when absent, never written as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EntryFields")]
pub struct Entry {
    pub contract_id: String,
    /// 1-based; the leaf index in the tree is `position - 1`.
    pub position: u64,
    /// A UUID, as text.
    pub event_id: String,
    pub stream_type: String,
    pub stream_id: String,
    pub stream_seq: u64,
    pub event_type: String,
    pub schema_version: u32,
    /// RFC 3339 with an offset.
    pub occurred_at: String,
    /// RFC 3339 in UTC, e.g. `2024-03-02T09:15:02.123456Z`.
    pub recorded_at: String,
    pub recorded_by: String,
    /// The `event_id` of the entry this one corrects, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// A JSON object.
    pub payload: Value,
}

/// A rule an entry breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Positions start at 1.
    #[error("position 0: positions start at 1")]
    PositionZero,
    /// The payload is a JSON object, never a bare value or array.
    #[error("position {position}: the payload is not a JSON object")]
    PayloadNotObject { position: u64 },
    /// Canonical JSON writes numbers as doubles, so a larger integer would be rounded and two
    /// different entries would share a leaf hash.
    #[error(
        "position {position}: {field} holds the integer {value}, beyond ±(2^53 - 1), \
         which canonical JSON cannot write exactly"
    )]
    InexactInteger {
        position: u64,
        field: &'static str,
        value: String,
    },
}

impl Entry {
    /// Checks the rules that deserialization enforces, for an entry built in code before it is
    /// appended to the log.
    pub fn validate(&self) -> Result<(), EntryError> {
        self.validate_fields()?;
        if let Some(number) = jcs::first_inexact_integer(&self.payload) {
            return Err(EntryError::InexactInteger {
                position: self.position,
                field: "payload",
                value: number.to_string(),
            });
        }
        Ok(())
    }

    /// The rules on the named fields; the payload's numbers are checked by whoever built it
    /// (the I-JSON reader while deserializing, [`Entry::validate`] otherwise).
    fn validate_fields(&self) -> Result<(), EntryError> {
        if self.position == 0 {
            return Err(EntryError::PositionZero);
        }
        for (field, value) in [("position", self.position), ("stream_seq", self.stream_seq)] {
            if value > MAX_EXACT_INTEGER {
                return Err(EntryError::InexactInteger {
                    position: self.position,
                    field,
                    value: value.to_string(),
                });
            }
        }
        if !self.payload.is_object() {
            return Err(EntryError::PayloadNotObject {
                position: self.position,
            });
        }
        Ok(())
    }

    /// The entry's RFC 8785 form: the exact text whose bytes are hashed into its leaf.
    pub fn canonical_json(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_canonical(&mut out);
        String::from_utf8(out).expect("the writer copies Rust strings and adds only ASCII")
    }

    /// Appends the canonical bytes to `out`, so a caller hashing many entries reuses one buffer.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        CanonicalFields {
            contract_id: &self.contract_id,
            position: self.position,
            event_id: &self.event_id,
            stream_type: &self.stream_type,
            stream_id: &self.stream_id,
            stream_seq: self.stream_seq,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            occurred_at: &self.occurred_at,
            recorded_at: &self.recorded_at,
            recorded_by: &self.recorded_by,
            corrects: self.corrects.as_deref(),
        }
        .write(out, |out| jcs::write_value(&self.payload, out));
    }

    /// `SHA-256(0x00 || JCS(entry))`.
    pub fn leaf_hash(&self) -> Hash {
        let mut out = Vec::with_capacity(512);
        self.write_canonical(&mut out);
        leaf_hash(&out)
    }
}

/// An entry's fields other than the payload, borrowed, so that an [`Entry`] and a
/// [`BorrowedEntry`] share one writer of the canonical form.
struct CanonicalFields<'a> {
    contract_id: &'a str,
    position: u64,
    event_id: &'a str,
    stream_type: &'a str,
    stream_id: &'a str,
    stream_seq: u64,
    event_type: &'a str,
    schema_version: u32,
    occurred_at: &'a str,
    recorded_at: &'a str,
    recorded_by: &'a str,
    corrects: Option<&'a str>,
}

impl CanonicalFields<'_> {
    /// The member names are written in RFC 8785 order by hand: they are ASCII, so UTF-16 order is
    /// alphabetical order. Tests hold this to `serde_jcs`'s output for the same entry.
    fn write(&self, out: &mut Vec<u8>, write_payload: impl FnOnce(&mut Vec<u8>)) {
        out.extend_from_slice(b"{\"contract_id\":");
        jcs::write_string(self.contract_id, out);
        if let Some(corrects) = self.corrects {
            out.extend_from_slice(b",\"corrects\":");
            jcs::write_string(corrects, out);
        }
        out.extend_from_slice(b",\"event_id\":");
        jcs::write_string(self.event_id, out);
        out.extend_from_slice(b",\"event_type\":");
        jcs::write_string(self.event_type, out);
        out.extend_from_slice(b",\"occurred_at\":");
        jcs::write_string(self.occurred_at, out);
        out.extend_from_slice(b",\"payload\":");
        write_payload(out);
        out.extend_from_slice(b",\"position\":");
        jcs::write_u64(self.position, out);
        out.extend_from_slice(b",\"recorded_at\":");
        jcs::write_string(self.recorded_at, out);
        out.extend_from_slice(b",\"recorded_by\":");
        jcs::write_string(self.recorded_by, out);
        out.extend_from_slice(b",\"schema_version\":");
        jcs::write_u64(u64::from(self.schema_version), out);
        out.extend_from_slice(b",\"stream_id\":");
        jcs::write_string(self.stream_id, out);
        out.extend_from_slice(b",\"stream_seq\":");
        jcs::write_u64(self.stream_seq, out);
        out.extend_from_slice(b",\"stream_type\":");
        jcs::write_string(self.stream_type, out);
        out.push(b'}');
    }
}

/// The entry as read from JSON, before the rules on its values are checked. Unknown fields are
/// refused because they would be dropped from the canonical form and escape the leaf hash.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFields {
    contract_id: String,
    position: u64,
    event_id: String,
    stream_type: String,
    stream_id: String,
    stream_seq: u64,
    event_type: String,
    schema_version: u32,
    occurred_at: String,
    recorded_at: String,
    recorded_by: String,
    #[serde(default, deserialize_with = "present_string")]
    corrects: Option<String>,
    #[serde(deserialize_with = "ijson_value")]
    payload: Value,
}

impl TryFrom<EntryFields> for Entry {
    type Error = EntryError;

    fn try_from(fields: EntryFields) -> Result<Self, Self::Error> {
        let entry = Entry {
            contract_id: fields.contract_id,
            position: fields.position,
            event_id: fields.event_id,
            stream_type: fields.stream_type,
            stream_id: fields.stream_id,
            stream_seq: fields.stream_seq,
            event_type: fields.event_type,
            schema_version: fields.schema_version,
            occurred_at: fields.occurred_at,
            recorded_at: fields.recorded_at,
            recorded_by: fields.recorded_by,
            corrects: fields.corrects,
            payload: fields.payload,
        };
        entry.validate_fields()?;
        Ok(entry)
    }
}

/// Reads `corrects` only as a string: an explicit `null` would hash the same as an absent field,
/// so two different lines would carry one leaf hash.
fn present_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

fn ijson_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    IJsonValue::deserialize(deserializer).map(|value| value.0)
}

/// An entry read from an export line for verification only: the same fields, read by the same
/// rules as [`EntryFields`], but borrowing its text from the line and keeping its payload as an
/// [`IJsonNode`], so that reading it allocates little. It is hashed and dropped; nothing else
/// is done with it.
///
/// Whatever it accepts and [`BorrowedEntry::follows_rules`] passes, the [`Entry`] reader accepts
/// with the same canonical bytes. Where it refuses, the caller reads the line again as an
/// [`Entry`] for the exact error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BorrowedEntry<'a> {
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    pub(crate) contract_id: Cow<'a, str>,
    pub(crate) position: u64,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    event_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    stream_type: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    stream_id: Cow<'a, str>,
    stream_seq: u64,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    event_type: Cow<'a, str>,
    schema_version: u32,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    occurred_at: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    recorded_at: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "jcs::borrowed_str")]
    recorded_by: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "present_borrowed_str")]
    corrects: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: IJsonNode<'a>,
}

impl BorrowedEntry<'_> {
    /// Whether the entry keeps the rules [`Entry::validate_fields`] checks; the payload's numbers
    /// were checked while reading it.
    pub(crate) fn follows_rules(&self) -> bool {
        self.position != 0
            && self.position <= MAX_EXACT_INTEGER
            && self.stream_seq <= MAX_EXACT_INTEGER
            && self.payload.is_object()
    }

    /// Appends the canonical bytes, the same as [`Entry::write_canonical`] writes for the entry.
    pub(crate) fn write_canonical(&self, out: &mut Vec<u8>) {
        CanonicalFields {
            contract_id: &self.contract_id,
            position: self.position,
            event_id: &self.event_id,
            stream_type: &self.stream_type,
            stream_id: &self.stream_id,
            stream_seq: self.stream_seq,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            occurred_at: &self.occurred_at,
            recorded_at: &self.recorded_at,
            recorded_by: &self.recorded_by,
            corrects: self.corrects.as_deref(),
        }
        .write(out, |out| self.payload.write_canonical(out));
    }
}

/// [`present_string`] for a borrowed string.
fn present_borrowed_str<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    jcs::borrowed_str(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry_json() -> Value {
        json!({
            "contract_id": "c-1",
            "position": 1,
            "event_id": "6f1c2a4e-0d4b-4a53-9b8e-2f6f0f3c9a11",
            "stream_type": "contract",
            "stream_id": "c-1",
            "stream_seq": 1,
            "event_type": "ContractOpened",
            "schema_version": 1,
            "occurred_at": "2024-03-02T10:15:02+01:00",
            "recorded_at": "2024-03-02T09:15:02.123456Z",
            "recorded_by": "user:ada",
            "payload": {"b": 2, "a": [1, "é"]}
        })
    }

    fn read(value: &Value) -> Result<Entry, serde_json::Error> {
        serde_json::from_str(&value.to_string())
    }

    #[test]
    fn canonical_json_sorts_keys_and_omits_an_absent_correction() {
        let entry = read(&entry_json()).expect("a valid entry");
        assert_eq!(
            entry.canonical_json(),
            concat!(
                r#"{"contract_id":"c-1","event_id":"6f1c2a4e-0d4b-4a53-9b8e-2f6f0f3c9a11","#,
                r#""event_type":"ContractOpened","occurred_at":"2024-03-02T10:15:02+01:00","#,
                r#""payload":{"a":[1,"é"],"b":2},"position":1,"#,
                r#""recorded_at":"2024-03-02T09:15:02.123456Z","recorded_by":"user:ada","#,
                r#""schema_version":1,"stream_id":"c-1","stream_seq":1,"stream_type":"contract"}"#
            )
        );
    }

    #[test]
    fn the_leaf_hash_is_the_rfc_9162_leaf_hash_of_the_canonical_bytes() {
        let entry = read(&entry_json()).expect("a valid entry");
        assert_eq!(
            entry.leaf_hash(),
            leaf_hash(entry.canonical_json().as_bytes())
        );
    }

    #[test]
    fn the_hand_written_canonical_form_is_the_one_serde_jcs_writes() {
        let mut entry = read(&entry_json()).expect("a valid entry");
        let reference = |entry: &Entry| serde_jcs::to_string(entry).expect("serde_jcs writes it");
        assert_eq!(entry.canonical_json(), reference(&entry));
        entry.corrects = Some("0b7e0d9e-5a43-4f0a-9e0e-4d1d6e7f8a90".to_owned());
        entry.stream_seq = u64::MAX;
        entry.contract_id = "ü\u{1}\"\\".to_owned();
        assert_eq!(entry.canonical_json(), reference(&entry));
    }

    #[test]
    fn the_canonical_form_is_the_canonical_form_of_the_entry_as_plain_json() {
        let mut value = entry_json();
        value["corrects"] = json!("0b7e0d9e-5a43-4f0a-9e0e-4d1d6e7f8a90");
        let entry = read(&value).expect("a valid entry");
        assert_eq!(entry.canonical_json(), jcs::canonicalize(&value));
    }

    #[test]
    fn an_entry_survives_a_round_trip_through_json() {
        let entry = read(&entry_json()).expect("a valid entry");
        let text = serde_json::to_string(&entry).expect("an entry serializes");
        assert_eq!(serde_json::from_str::<Entry>(&text).ok(), Some(entry));
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let mut value = entry_json();
        value["extra"] = json!(1);
        assert!(read(&value).is_err());
    }

    #[test]
    fn a_null_correction_is_refused_because_it_would_hash_like_an_absent_one() {
        let mut value = entry_json();
        value["corrects"] = Value::Null;
        assert!(read(&value).is_err());
    }

    #[test]
    fn a_missing_field_is_refused() {
        let mut value = entry_json();
        value.as_object_mut().map(|o| o.remove("recorded_by"));
        assert!(read(&value).is_err());
    }

    #[test]
    fn position_zero_is_refused() {
        let mut value = entry_json();
        value["position"] = json!(0);
        let error = read(&value).expect_err("position 0 is invalid");
        assert!(
            error.to_string().contains("positions start at 1"),
            "{error}"
        );
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_refused() {
        let mut value = entry_json();
        value["payload"] = json!([1, 2]);
        assert!(read(&value).is_err());
    }

    #[test]
    fn a_payload_with_a_repeated_key_is_refused() {
        let text = entry_json()
            .to_string()
            .replace(r#""b":2"#, r#""b":2,"b":3"#);
        assert!(serde_json::from_str::<Entry>(&text).is_err());
    }

    #[test]
    fn an_integer_that_canonical_json_would_round_is_refused() {
        let mut value = entry_json();
        value["payload"] = json!({"amount": 9_007_199_254_740_993_u64});
        assert!(read(&value).is_err());
        let mut value = entry_json();
        value["stream_seq"] = json!(9_007_199_254_740_993_u64);
        assert!(read(&value).is_err());
    }

    #[test]
    fn validate_applies_the_reading_rules_to_an_entry_built_in_code() {
        let mut entry = read(&entry_json()).expect("a valid entry");
        assert_eq!(entry.validate(), Ok(()));
        entry.payload = json!({"n": [u64::MAX]});
        assert_eq!(
            entry.validate(),
            Err(EntryError::InexactInteger {
                position: 1,
                field: "payload",
                value: u64::MAX.to_string()
            })
        );
        entry.payload = json!("text");
        assert_eq!(
            entry.validate(),
            Err(EntryError::PayloadNotObject { position: 1 })
        );
        entry.position = 0;
        assert_eq!(entry.validate(), Err(EntryError::PositionZero));
    }
}
