//! Checkpoints: a contract's tree head at some size, signed, and the exact bytes the signature covers.
//!
//! The signature is Ed25519 over the RFC 8785 form of the five other fields; signing and checking
//! it happen elsewhere, this crate only fixes the bytes.

use serde::{Deserialize, Serialize};

use crate::hash::Hash;
use crate::jcs;
use crate::signing::KeyId;

/// A signed tree head: `{"contract_id", "size", "root_hash", "timestamp", "key_id", "signature"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub contract_id: String,
    /// The number of entries the tree head covers.
    pub size: u64,
    /// `MTH` over the leaves of positions `1..=size`.
    pub root_hash: Hash,
    /// RFC 3339 in UTC.
    pub timestamp: String,
    /// Names the key that made the signature.
    pub key_id: KeyId,
    /// Base64 of the Ed25519 signature over [`Checkpoint::signed_bytes`].
    pub signature: String,
}

/// A checkpoint before it is signed: the five fields the signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsignedCheckpoint {
    pub contract_id: String,
    pub size: u64,
    pub root_hash: Hash,
    pub timestamp: String,
    pub key_id: KeyId,
}

/// The signed fields, borrowed, so that a checkpoint's signed bytes are computed without copying
/// it.
#[derive(Serialize)]
struct SignedFields<'a> {
    contract_id: &'a str,
    size: u64,
    root_hash: &'a Hash,
    timestamp: &'a str,
    key_id: &'a str,
}

impl SignedFields<'_> {
    fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        jcs::write_canonical(self, &mut out);
        out
    }
}

impl UnsignedCheckpoint {
    /// The bytes to sign: RFC 8785 JSON of the five fields.
    pub fn signed_bytes(&self) -> Vec<u8> {
        SignedFields {
            contract_id: &self.contract_id,
            size: self.size,
            root_hash: &self.root_hash,
            timestamp: &self.timestamp,
            key_id: self.key_id.as_str(),
        }
        .canonical_bytes()
    }

    /// Attaches the signature made over [`UnsignedCheckpoint::signed_bytes`].
    pub fn with_signature(self, signature: String) -> Checkpoint {
        Checkpoint {
            contract_id: self.contract_id,
            size: self.size,
            root_hash: self.root_hash,
            timestamp: self.timestamp,
            key_id: self.key_id,
            signature,
        }
    }
}

/// An export's checkpoint line, `{"checkpoint": {...}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: Checkpoint,
}

impl Checkpoint {
    /// Reads a checkpoint kept apart from an export: either the object itself, as
    /// `/v1/contracts/{id}/checkpoints/latest` answers it, or an export's line
    /// `{"checkpoint": {...}}` copied as it stands.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if value.get("checkpoint").is_some() {
            serde_json::from_value::<CheckpointLine>(value).map(|line| line.checkpoint)
        } else {
            serde_json::from_value(value)
        }
    }

    /// The bytes the signature covers: RFC 8785 JSON of every field but `signature`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        SignedFields {
            contract_id: &self.contract_id,
            size: self.size,
            root_hash: &self.root_hash,
            timestamp: &self.timestamp,
            key_id: self.key_id.as_str(),
        }
        .canonical_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::empty_root;

    fn unsigned() -> UnsignedCheckpoint {
        UnsignedCheckpoint {
            contract_id: "c-1".to_owned(),
            size: 0,
            root_hash: empty_root(),
            timestamp: "2024-03-02T09:15:02Z".to_owned(),
            key_id: KeyId::parse("0123456789abcdef").expect("a test key id"),
        }
    }

    #[test]
    fn the_signed_bytes_are_the_canonical_json_of_the_five_fields() {
        assert_eq!(
            String::from_utf8(unsigned().signed_bytes()).ok(),
            Some(
                concat!(
                    r#"{"contract_id":"c-1","key_id":"0123456789abcdef","#,
                    r#""root_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","#,
                    r#""size":0,"timestamp":"2024-03-02T09:15:02Z"}"#
                )
                .to_owned()
            )
        );
    }

    #[test]
    fn signing_does_not_change_the_signed_bytes() {
        let before = unsigned().signed_bytes();
        let checkpoint = unsigned().with_signature("c2ln".to_owned());
        assert_eq!(checkpoint.signed_bytes(), before);
    }

    #[test]
    fn a_checkpoint_reads_bare_or_as_an_export_line_and_nothing_else() {
        let checkpoint = unsigned().with_signature("c2ln".to_owned());
        let bare = serde_json::to_string(&checkpoint).expect("a checkpoint serializes");
        let line = format!("{{\"checkpoint\":{bare}}}\n");
        assert_eq!(Checkpoint::from_json(&bare).ok(), Some(checkpoint.clone()));
        assert_eq!(Checkpoint::from_json(&line).ok(), Some(checkpoint));
        let with_more = format!("{{\"checkpoint\":{bare},\"position\":1}}");
        assert!(Checkpoint::from_json(&with_more).is_err());
        assert!(Checkpoint::from_json(r#"{"size": 3}"#).is_err());
    }

    #[test]
    fn a_checkpoint_reads_and_writes_its_six_fields() {
        let checkpoint = unsigned().with_signature("c2ln".to_owned());
        let json = serde_json::to_value(&checkpoint).expect("a checkpoint serializes");
        assert_eq!(json.as_object().map(|o| o.len()), Some(6));
        assert_eq!(serde_json::from_value(json).ok(), Some(checkpoint));
    }
}
