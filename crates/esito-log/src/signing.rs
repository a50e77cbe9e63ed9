//! Ed25519 checkpoints: signing a tree head, and checking a signature with a published key.
//!
//! Invariant: a signature covers exactly `Checkpoint::signed_bytes` (JCS of the five signed
//! fields); the key id is the first 8 bytes of the SHA-256 of the public key, in hex, so an old
//! key id keeps naming its key after a rotation. A verifier given several keys (a [`Keyring`])
//! checks each checkpoint with the one key its `key_id` names, and with no other.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::{Checkpoint, UnsignedCheckpoint};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not 32 bytes of base64")]
    MalformedPublicKey,
    #[error(
        "checkpoint at size {size}: signed by key {key_id}, not by the key given ({expected})"
    )]
    OtherKey {
        size: u64,
        key_id: String,
        expected: String,
    },
    /// A keyring holds no key with the checkpoint's key id.
    #[error(
        "checkpoint at size {size}: signed by key {key_id}, which is none of the keys given ({given})"
    )]
    UnknownKey {
        size: u64,
        key_id: String,
        /// The ids of the keys given, comma-separated.
        given: String,
    },
    #[error("checkpoint at size {size}: the signature is not 64 bytes of base64")]
    MalformedSignature { size: u64 },
    #[error(
        "checkpoint at size {size}: the signature does not match the checkpoint under key {key_id}"
    )]
    Forged { size: u64, key_id: String },
}

/// The key id of a public key.
pub fn key_id(public: &VerifyingKey) -> KeyId {
    KeyId(hex::encode(&Sha256::digest(public.as_bytes())[..8]))
}

/// A key id: the first 8 bytes of the SHA-256 of the public key, written as 16 lowercase hex
/// digits. Invariant: the text is exactly that, so a key id has one spelling; `Deserialize`
/// goes through the same check as `parse`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

/// Text that is not a key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key id is 16 lowercase hex digits (0-9, a-f), found {found:?}")]
pub struct KeyIdParseError {
    pub found: String,
}

impl KeyId {
    /// The number of hex digits of a key id (8 bytes).
    pub const DIGITS: usize = 16;

    /// Checks the text form: 16 digits of `0-9` or `a-f`.
    pub fn parse(text: &str) -> Result<Self, KeyIdParseError> {
        let digits = text.as_bytes();
        if digits.len() == Self::DIGITS
            && digits
                .iter()
                .all(|digit| matches!(digit, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(text.to_owned()))
        } else {
            Err(KeyIdParseError {
                found: text.to_owned(),
            })
        }
    }

    /// The text form, as checkpoints and `/v1/checkpoint-keys` write it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for KeyId {
    type Err = KeyIdParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyIdParseError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> Self {
        id.0
    }
}

impl PartialEq<str> for KeyId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The service's signing key.
pub struct CheckpointKey {
    signing: SigningKey,
    key_id: KeyId,
}

impl CheckpointKey {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let key_id = key_id(&signing.verifying_key());
        Self { signing, key_id }
    }

    /// The key id's text, as a checkpoint's `key_id` holds it.
    pub fn key_id(&self) -> &str {
        self.key_id.as_str()
    }

    /// The key id.
    pub fn id(&self) -> &KeyId {
        &self.key_id
    }

    /// The Ed25519 key itself, for the signed notes (`note.rs`).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key, base64, as published at `/v1/checkpoint-key`.
    pub fn public_key(&self) -> String {
        STANDARD.encode(self.signing.verifying_key().as_bytes())
    }

    pub fn sign(
        &self,
        contract_id: &str,
        size: u64,
        root_hash: crate::Hash,
        timestamp: String,
    ) -> Checkpoint {
        let unsigned = UnsignedCheckpoint {
            contract_id: contract_id.to_owned(),
            size,
            root_hash,
            timestamp,
            key_id: self.key_id.clone(),
        };
        let signature = self.signing.sign(&unsigned.signed_bytes());
        unsigned.with_signature(STANDARD.encode(signature.to_bytes()))
    }
}

/// Reads a public key published as base64 of its 32 bytes.
fn parse_public_key(public_key: &str) -> Result<VerifyingKey, SignatureError> {
    let bytes: [u8; 32] = STANDARD
        .decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SignatureError::MalformedPublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| SignatureError::MalformedPublicKey)
}

/// Checks a checkpoint's signature with a public key obtained out of band (base64).
pub fn verify_signature(checkpoint: &Checkpoint, public_key: &str) -> Result<(), SignatureError> {
    let public = parse_public_key(public_key)?;
    let expected = key_id(&public);
    if expected != checkpoint.key_id {
        return Err(SignatureError::OtherKey {
            size: checkpoint.size,
            key_id: checkpoint.key_id.to_string(),
            expected: expected.into(),
        });
    }
    check_with(&public, checkpoint)
}

/// The public keys a verifier was given out of band, each under its key id: the keys of a
/// service that rotates its signing key, old and new.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    /// (key id, key), in the order given, without repeats.
    keys: Vec<(KeyId, VerifyingKey)>,
    /// The note key names given with keys in the verifier key form.
    note_names: Vec<(KeyId, String)>,
}

impl Keyring {
    /// A keyring with no keys: checkpoints' signatures are not checked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a public key (base64 of its 32 bytes, as `/v1/checkpoint-key` publishes it, or a
    /// signed-note verifier key, `name+id+key`, which checks notes under that name only);
    /// adding a key already held changes nothing.
    pub fn add(&mut self, public_key: &str) -> Result<(), SignatureError> {
        // Base64 may hold a plus too: a verifier key is what is not a bare key.
        let public = match parse_public_key(public_key) {
            Ok(public) => public,
            Err(error) => {
                let verifier = crate::note::NoteVerifier::parse(public_key).map_err(|_| error)?;
                let public = *verifier.key();
                self.note_names
                    .push((key_id(&public), verifier.name().to_owned()));
                public
            }
        };
        let id = key_id(&public);
        if !self.keys.iter().any(|(known, _)| *known == id) {
            self.keys.push((id, public));
        }
        Ok(())
    }

    /// Checks a checkpoint note with the keys held: each under the name its verifier key gave,
    /// or under the note's own origin for a key given as base64.
    pub fn verify_note(
        &self,
        note: &crate::note::CheckpointNote,
    ) -> Result<(), crate::note::NoteError> {
        let verifiers: Vec<crate::note::NoteVerifier> = self
            .keys
            .iter()
            .flat_map(|(id, public)| {
                let names: Vec<&String> = self
                    .note_names
                    .iter()
                    .filter(|(named, _)| named == id)
                    .map(|(_, name)| name)
                    .collect();
                if names.is_empty() {
                    vec![crate::note::NoteVerifier::new(note.origin.clone(), *public)]
                } else {
                    names
                        .into_iter()
                        .map(|name| crate::note::NoteVerifier::new(name.clone(), *public))
                        .collect()
                }
            })
            .collect();
        note.verify(&verifiers)
    }

    /// Whether no key was given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The ids of the keys held, in the order given.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Checks a checkpoint's signature with the key its `key_id` names; a checkpoint whose key
    /// is not held fails, whatever its signature.
    pub fn verify(&self, checkpoint: &Checkpoint) -> Result<(), SignatureError> {
        let Some((_, public)) = self.keys.iter().find(|(id, _)| *id == checkpoint.key_id) else {
            return Err(SignatureError::UnknownKey {
                size: checkpoint.size,
                key_id: checkpoint.key_id.to_string(),
                given: self.key_ids().collect::<Vec<_>>().join(", "),
            });
        };
        check_with(public, checkpoint)
    }
}

/// Checks the signature alone, with a key already matched to the checkpoint's key id.
fn check_with(public: &VerifyingKey, checkpoint: &Checkpoint) -> Result<(), SignatureError> {
    let signature: [u8; 64] = STANDARD
        .decode(&checkpoint.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SignatureError::MalformedSignature {
            size: checkpoint.size,
        })?;
    public
        .verify(
            &checkpoint.signed_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| SignatureError::Forged {
            size: checkpoint.size,
            key_id: checkpoint.key_id.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_is_caught() {
        let key = CheckpointKey::from_seed([7; 32]);
        let checkpoint = key.sign(
            "cuneo",
            10,
            crate::empty_root(),
            "2024-04-01T00:00:00Z".to_owned(),
        );
        verify_signature(&checkpoint, &key.public_key()).expect("verifies");
        let mut moved = checkpoint.clone();
        moved.size = 11;
        assert_eq!(
            verify_signature(&moved, &key.public_key()),
            Err(SignatureError::Forged {
                size: 11,
                key_id: key.key_id().to_owned()
            })
        );
        let other = CheckpointKey::from_seed([8; 32]);
        assert!(matches!(
            verify_signature(&checkpoint, &other.public_key()),
            Err(SignatureError::OtherKey { .. })
        ));
        let mut forged = other.sign(
            "cuneo",
            10,
            crate::empty_root(),
            "2024-04-01T00:00:00Z".to_owned(),
        );
        forged.key_id = checkpoint.key_id.clone();
        assert_eq!(
            verify_signature(&forged, &key.public_key()),
            Err(SignatureError::Forged {
                size: 10,
                key_id: key.key_id().to_owned()
            })
        );
    }

    fn sign(key: &CheckpointKey, size: u64) -> Checkpoint {
        key.sign(
            "cuneo",
            size,
            crate::empty_root(),
            "2024-04-01T00:00:00Z".to_owned(),
        )
    }

    #[test]
    fn a_keyring_checks_each_checkpoint_with_the_key_its_key_id_names() {
        let (old, new) = (
            CheckpointKey::from_seed([7; 32]),
            CheckpointKey::from_seed([8; 32]),
        );
        let mut keyring = Keyring::new();
        keyring.add(&old.public_key()).expect("a key");
        keyring.add(&new.public_key()).expect("a key");
        keyring.add(&old.public_key()).expect("a key given twice");
        assert_eq!(
            keyring.key_ids().collect::<Vec<_>>(),
            [old.key_id(), new.key_id()]
        );
        keyring
            .verify(&sign(&old, 10))
            .expect("the old key's checkpoint");
        keyring
            .verify(&sign(&new, 20))
            .expect("the new key's checkpoint");
        let mut moved = sign(&new, 20);
        moved.size = 21;
        assert_eq!(
            keyring.verify(&moved),
            Err(SignatureError::Forged {
                size: 21,
                key_id: new.key_id().to_owned()
            })
        );
    }

    #[test]
    fn a_checkpoint_signed_by_a_key_not_in_the_keyring_is_refused_naming_its_key_id() {
        let (given, other) = (
            CheckpointKey::from_seed([7; 32]),
            CheckpointKey::from_seed([9; 32]),
        );
        let mut keyring = Keyring::new();
        keyring.add(&given.public_key()).expect("a key");
        let failure = keyring.verify(&sign(&other, 5)).expect_err("another key");
        assert_eq!(
            failure,
            SignatureError::UnknownKey {
                size: 5,
                key_id: other.key_id().to_owned(),
                given: given.key_id().to_owned()
            }
        );
        assert_eq!(
            failure.to_string(),
            format!(
                "checkpoint at size 5: signed by key {}, which is none of the keys given ({})",
                other.key_id(),
                given.key_id()
            )
        );
    }

    #[test]
    fn a_key_id_parses_only_its_text_form_and_is_written_as_today() {
        let key = CheckpointKey::from_seed([7; 32]);
        // Today's text: the first 8 bytes of SHA-256 of the public key, in lowercase hex.
        let public = STANDARD.decode(key.public_key()).expect("base64");
        let today = hex::encode(&Sha256::digest(&public)[..8]);
        assert_eq!(key.key_id(), today);
        assert_eq!(KeyId::parse(&today).as_ref(), Ok(key.id()));
        let json = serde_json::to_string(key.id()).expect("a key id serialises");
        assert_eq!(json, format!("\"{today}\""));
        assert_eq!(
            &serde_json::from_str::<KeyId>(&json).expect("reads back"),
            key.id()
        );
        for refused in [
            "",
            "key-1",
            &today[..15],
            &format!("{today}0"),
            "00112233445566AA",
            " 0011223344556677",
        ] {
            assert_eq!(
                KeyId::parse(refused),
                Err(KeyIdParseError {
                    found: refused.to_owned()
                })
            );
            assert!(serde_json::from_value::<KeyId>(serde_json::json!(refused)).is_err());
        }
        assert!(KeyId::parse("0011223344556677").is_ok());
    }

    #[test]
    fn a_keyring_refuses_a_key_that_is_not_32_bytes_of_base64() {
        let mut keyring = Keyring::new();
        assert_eq!(
            keyring.add("c2hvcnQ="),
            Err(SignatureError::MalformedPublicKey)
        );
        assert!(keyring.is_empty());
    }
}
