//! Ed25519 checkpoints: signing a tree head, and checking a signature with a published key.
//!
//! Invariant: a signature covers exactly `Checkpoint::signed_bytes` (JCS of the five signed
//! fields); the key id is the first 8 bytes of the SHA-256 of the public key, in hex, so an old
//! key id keeps naming its key after a rotation.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::checkpoint::{Checkpoint, UnsignedCheckpoint};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not 32 bytes of base64")]
    MalformedPublicKey,
    #[error(
        "checkpoint of size {size}: signed by key {key_id}, not by the key given ({expected})"
    )]
    OtherKey {
        size: u64,
        key_id: String,
        expected: String,
    },
    #[error("checkpoint of size {size}: the signature is not 64 bytes of base64")]
    MalformedSignature { size: u64 },
    #[error("checkpoint of size {size}: the signature does not match the checkpoint")]
    Forged { size: u64 },
}

/// The key id of a public key.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

/// The service's signing key.
pub struct CheckpointKey {
    signing: SigningKey,
    key_id: String,
}

impl CheckpointKey {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let key_id = key_id(&signing.verifying_key());
        Self { signing, key_id }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
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

/// Checks a checkpoint's signature with a public key obtained out of band (base64).
pub fn verify_signature(checkpoint: &Checkpoint, public_key: &str) -> Result<(), SignatureError> {
    let bytes: [u8; 32] = STANDARD
        .decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SignatureError::MalformedPublicKey)?;
    let public =
        VerifyingKey::from_bytes(&bytes).map_err(|_| SignatureError::MalformedPublicKey)?;
    let expected = key_id(&public);
    if checkpoint.key_id != expected {
        return Err(SignatureError::OtherKey {
            size: checkpoint.size,
            key_id: checkpoint.key_id.clone(),
            expected,
        });
    }
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
            Err(SignatureError::Forged { size: 11 })
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
            Err(SignatureError::Forged { size: 10 })
        );
    }
}
