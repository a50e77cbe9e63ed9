//! Sealing a person's record: a data key of its own (32 random bytes) encrypts the record with
//! XChaCha20-Poly1305 under a random 24-byte nonce; the master key wraps the data key the same
//! way. Both are bound, as associated data, to the contract and the pseudonym. The fiscal code's
//! lookup is HMAC-SHA256 under a key derived from the master key.
//!
//! Invariant: the master key never leaves this module but as the bytes its file holds; erasing
//! the wrapped data key makes the record unreadable, whoever holds the master key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{FiscalCode, Identity};

pub const MASTER_KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// What went wrong with the vault's cryptography.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("no randomness from the operating system: {0}")]
    Randomness(String),
    /// A wrapped key or record that the master key does not open: another master key, or bytes
    /// changed.
    #[error("the {what} does not open with this master key (another key, or altered bytes)")]
    Unopenable { what: &'static str },
    #[error("the record opened but does not read as an identity: {0}")]
    Unreadable(String),
}

/// The key that wraps every data key. Its id (16 hex digits) is recorded in the database, so a
/// service started with another key refuses to use the vault rather than fail record by record.
pub struct MasterKey([u8; MASTER_KEY_BYTES]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.key_id())
    }
}

/// A record as stored: the wrapped data key and the record, each a nonce followed by
/// ciphertext, and the fiscal code's keyed hash when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub fiscal_code_hmac: Option<Vec<u8>>,
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| VaultError::Randomness(e.to_string()))?;
    Ok(bytes)
}

fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let nonce = random::<NONCE_BYTES>()?;
    let cipher = XChaCha20Poly1305::new(key.into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| VaultError::Randomness("encryption failed".to_owned()))?;
    let mut sealed = nonce.to_vec();
    sealed.extend(ciphertext);
    Ok(sealed)
}

fn open(
    key: &[u8; 32],
    aad: &[u8],
    sealed: &[u8],
    what: &'static str,
) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < NONCE_BYTES {
        return Err(VaultError::Unopenable { what });
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| VaultError::Unopenable { what })
}

fn data_key_aad(contract: &str, beneficiary: &str) -> Vec<u8> {
    format!("esito-vault/data-key/{contract}/{beneficiary}").into_bytes()
}

fn record_aad(contract: &str, beneficiary: &str) -> Vec<u8> {
    format!("esito-vault/record/{contract}/{beneficiary}").into_bytes()
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; MASTER_KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, VaultError> {
        Ok(Self(random()?))
    }

    /// The bytes its file holds.
    pub fn bytes(&self) -> &[u8; MASTER_KEY_BYTES] {
        &self.0
    }

    /// 16 hex digits that name the key without revealing it.
    pub fn key_id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"esito-vault/master-key-id/")
            .chain_update(self.0)
            .finalize();
        hex::encode(&digest[..8])
    }

    /// The keyed hash of a fiscal code, the same for the same code under this master key.
    pub fn lookup(&self, fiscal_code: &FiscalCode) -> Vec<u8> {
        let mut derive =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        derive.update(b"esito-vault/fiscal-code-lookup");
        let subkey = derive.finalize().into_bytes();
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&subkey).expect("HMAC takes any key length");
        mac.update(fiscal_code.as_str().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Seals `identity` under a new data key of its own, wrapped by this key.
    pub fn seal(
        &self,
        contract: &str,
        beneficiary: &str,
        identity: &Identity,
    ) -> Result<Sealed, VaultError> {
        let data_key = random::<32>()?;
        let plaintext = serde_json::to_vec(identity).expect("an identity serializes");
        Ok(Sealed {
            wrapped_key: seal(&self.0, &data_key_aad(contract, beneficiary), &data_key)?,
            ciphertext: seal(&data_key, &record_aad(contract, beneficiary), &plaintext)?,
            fiscal_code_hmac: identity.fiscal_code.as_ref().map(|code| self.lookup(code)),
        })
    }

    fn data_key(
        &self,
        contract: &str,
        beneficiary: &str,
        wrapped_key: &[u8],
    ) -> Result<[u8; 32], VaultError> {
        let key = open(
            &self.0,
            &data_key_aad(contract, beneficiary),
            wrapped_key,
            "wrapped data key",
        )?;
        key.try_into().map_err(|_| VaultError::Unopenable {
            what: "wrapped data key",
        })
    }

    /// Opens a sealed record.
    pub fn open(
        &self,
        contract: &str,
        beneficiary: &str,
        wrapped_key: &[u8],
        ciphertext: &[u8],
    ) -> Result<Identity, VaultError> {
        let data_key = self.data_key(contract, beneficiary, wrapped_key)?;
        let plaintext = open(
            &data_key,
            &record_aad(contract, beneficiary),
            ciphertext,
            "record",
        )?;
        serde_json::from_slice(&plaintext).map_err(|e| VaultError::Unreadable(e.to_string()))
    }

    /// The record's data key wrapped by `new` instead, and its fiscal code's lookup under
    /// `new`: what a rotation writes. The record itself is not encrypted again.
    pub fn rewrap(
        &self,
        new: &MasterKey,
        contract: &str,
        beneficiary: &str,
        wrapped_key: &[u8],
        ciphertext: &[u8],
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), VaultError> {
        let data_key = self.data_key(contract, beneficiary, wrapped_key)?;
        let identity = self.open(contract, beneficiary, wrapped_key, ciphertext)?;
        Ok((
            seal(&new.0, &data_key_aad(contract, beneficiary), &data_key)?,
            identity.fiscal_code.as_ref().map(|code| new.lookup(code)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maria() -> Identity {
        serde_json::from_value(serde_json::json!({
            "given_name": "Maria", "family_name": "Rossi", "fiscal_code": "RSSMRA85T10A562S"
        }))
        .expect("valid")
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_sealed_record_opens_with_its_key_and_shows_no_plaintext() {
        let master = MasterKey::generate().expect("randomness");
        let sealed = master.seal("c-1", "ben-1", &maria()).expect("sealed");
        for bytes in [&sealed.wrapped_key, &sealed.ciphertext] {
            assert!(!contains(bytes, b"Rossi") && !contains(bytes, b"RSSMRA85T10A562S"));
        }
        assert_eq!(
            master
                .open("c-1", "ben-1", &sealed.wrapped_key, &sealed.ciphertext)
                .expect("opens"),
            maria()
        );
    }

    #[test]
    fn another_master_key_or_another_row_does_not_open_it() {
        let master = MasterKey::generate().expect("randomness");
        let sealed = master.seal("c-1", "ben-1", &maria()).expect("sealed");
        let other = MasterKey::generate().expect("randomness");
        assert_eq!(
            other.open("c-1", "ben-1", &sealed.wrapped_key, &sealed.ciphertext),
            Err(VaultError::Unopenable {
                what: "wrapped data key"
            })
        );
        assert!(master
            .open("c-1", "ben-2", &sealed.wrapped_key, &sealed.ciphertext)
            .is_err());
    }

    #[test]
    fn a_rewrapped_key_opens_the_same_record_under_the_new_master_key_only() {
        let old = MasterKey::generate().expect("randomness");
        let new = MasterKey::generate().expect("randomness");
        let sealed = old.seal("c-1", "ben-1", &maria()).expect("sealed");
        let (wrapped, lookup) = old
            .rewrap(
                &new,
                "c-1",
                "ben-1",
                &sealed.wrapped_key,
                &sealed.ciphertext,
            )
            .expect("rewrapped");
        assert_eq!(
            new.open("c-1", "ben-1", &wrapped, &sealed.ciphertext)
                .expect("opens"),
            maria()
        );
        assert!(old
            .open("c-1", "ben-1", &wrapped, &sealed.ciphertext)
            .is_err());
        let code = maria().fiscal_code.expect("a code");
        assert_eq!(lookup, Some(new.lookup(&code)));
        assert_ne!(new.lookup(&code), old.lookup(&code));
        assert_ne!(new.key_id(), old.key_id());
    }
}
