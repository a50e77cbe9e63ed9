//! C2SP checkpoints: a contract's tree head as a `tlog-checkpoint` signed note
//! (c2sp.org/tlog-checkpoint, c2sp.org/signed-note), so that any signed-note library or witness
//! can check it.
//!
//! The note text is three lines, each ending in a newline: the origin (`esito/contracts/{id}`),
//! the tree size in decimal, the root hash in base64. The signature line is `— {name}
//! base64(key id || Ed25519 signature of the note text)`, the key name being the origin (as
//! tlog-checkpoint recommends) and the key id the first four bytes of
//! `SHA-256(name || 0x0A || 0x01 || public key)`. The same Ed25519 key signs the JSON
//! checkpoints; only the bytes signed differ.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::hash::Hash;
use crate::signing::CheckpointKey;

/// What an origin starts with; the contract id follows.
pub const ORIGIN_PREFIX: &str = "esito/contracts/";

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// The most signature lines a note may carry (signed-note asks verifiers to accept 16).
const SIGNATURES_MAX: usize = 64;

/// Why a note is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a signed note: {0}")]
    Malformed(String),
    #[error("not a checkpoint: {0}")]
    NotACheckpoint(String),
    #[error("the origin {origin:?} is not {ORIGIN_PREFIX}{{contract}}")]
    ForeignOrigin { origin: String },
    #[error("not a verifier key: {0}")]
    MalformedVerifierKey(String),
    #[error("the signature of {name} ({key_id}) does not match the note")]
    Forged { name: String, key_id: String },
    #[error("no signature of a key given ({given}) is on the note")]
    NoKnownSignature { given: String },
}

/// The origin of a contract's checkpoints, and the name of the key that signs them.
pub fn origin(contract_id: &str) -> String {
    format!("{ORIGIN_PREFIX}{contract_id}")
}

/// The note text of a tree head: origin, size and root hash, each line ending in a newline.
pub fn note_text(contract_id: &str, size: u64, root_hash: &Hash) -> String {
    format!(
        "{}\n{size}\n{}\n",
        origin(contract_id),
        STANDARD.encode(root_hash.as_bytes())
    )
}

/// The signed-note key id of an Ed25519 key under `name`.
fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ED25519]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl CheckpointKey {
    /// The tree head of `contract_id` at `size` as a signed note, signed by this key under the
    /// contract's origin.
    pub fn sign_note(&self, contract_id: &str, size: u64, root_hash: &Hash) -> String {
        let text = note_text(contract_id, size, root_hash);
        let name = origin(contract_id);
        let signing = self.signing_key();
        let mut signature = key_id(&name, &signing.verifying_key()).to_vec();
        signature.extend_from_slice(&signing.sign(text.as_bytes()).to_bytes());
        format!("{text}\n\u{2014} {name} {}\n", STANDARD.encode(signature))
    }

    /// The verifier key of the contract's notes: `name+hex(key id)+base64(0x01 || key)`.
    pub fn note_verifier_key(&self, contract_id: &str) -> String {
        NoteVerifier::new(origin(contract_id), self.signing_key().verifying_key()).to_string()
    }
}

/// A key that checks notes: its name, key id and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// The verifier of `key` under `name`.
    pub fn new(name: String, key: VerifyingKey) -> Self {
        let id = key_id(&name, &key);
        Self { name, id, key }
    }

    /// Reads a verifier key, `name+hex(key id)+base64(0x01 || 32-byte key)`; the key id must
    /// be the one the name and key give.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedVerifierKey(format!("{vkey:?}: {why}"));
        // The name and the key id hold no `+`; the key's base64 may.
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("three parts separated by +"));
        };
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(bad("the name is empty or has spaces"));
        }
        let id: [u8; 4] = hex::decode(id)
            .ok()
            .and_then(|id| id.try_into().ok())
            .ok_or_else(|| bad("the key id is not 8 hex digits"))?;
        let key = STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let (&kind, key) = key.split_first().ok_or_else(|| bad("no key"))?;
        if kind != ED25519 {
            return Err(bad("not an Ed25519 key (type 0x01)"));
        }
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not an Ed25519 point"))?;
        let verifier = Self::new(name.to_owned(), key);
        if verifier.id != id {
            return Err(bad("the key id is not the name's and key's"));
        }
        Ok(verifier)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            STANDARD.encode(key)
        )
    }
}

/// One signature line: the key's name, its id, the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NoteSignature {
    name: String,
    id: [u8; 4],
    signature: Vec<u8>,
}

/// A checkpoint note as read: the tree head it states and its signatures, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointNote {
    /// The note text the signatures cover, final newline included.
    text: String,
    pub origin: String,
    pub contract_id: String,
    pub size: u64,
    pub root_hash: Hash,
    signatures: Vec<NoteSignature>,
}

impl CheckpointNote {
    /// Reads a signed note and its checkpoint; checks the form only (see [`Self::verify`]).
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        let malformed = |why: &str| NoteError::Malformed(why.to_owned());
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(malformed("a control character other than newline"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let (text, signatures) = (&note[..=split], &note[split + 2..]);
        let signatures = signatures
            .strip_suffix('\n')
            .ok_or_else(|| malformed("the last signature line does not end in a newline"))?;
        let signatures = signatures
            .split('\n')
            .map(|line| {
                let line = line.strip_prefix("\u{2014} ").ok_or_else(|| {
                    malformed("a signature line starts with an em dash and a space")
                })?;
                let (name, signature) = line
                    .split_once(' ')
                    .ok_or_else(|| malformed("a signature line is name, space, signature"))?;
                let bytes = STANDARD
                    .decode(signature)
                    .map_err(|_| malformed("a signature is not base64"))?;
                if name.is_empty() || bytes.len() < 5 {
                    return Err(malformed("a signature line without a name or a signature"));
                }
                Ok(NoteSignature {
                    name: name.to_owned(),
                    id: [bytes[0], bytes[1], bytes[2], bytes[3]],
                    signature: bytes[4..].to_vec(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.len() > SIGNATURES_MAX {
            return Err(malformed("more than 64 signatures"));
        }
        let not_a_checkpoint = |why: &str| NoteError::NotACheckpoint(why.to_owned());
        let mut lines = text.strip_suffix('\n').unwrap_or(text).split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(not_a_checkpoint("fewer than three lines"));
        };
        if origin.is_empty() || lines.any(str::is_empty) {
            return Err(not_a_checkpoint("an empty line in the note text"));
        }
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(not_a_checkpoint(
                "the size is not a decimal without leading zeros",
            ));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| not_a_checkpoint("the size is too large"))?;
        let root: [u8; 32] = STANDARD
            .decode(root)
            .ok()
            .and_then(|root| root.try_into().ok())
            .ok_or_else(|| not_a_checkpoint("the root hash is not 32 bytes of base64"))?;
        let contract_id = origin
            .strip_prefix(ORIGIN_PREFIX)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| NoteError::ForeignOrigin {
                origin: origin.to_owned(),
            })?;
        Ok(Self {
            text: text.to_owned(),
            origin: origin.to_owned(),
            contract_id: contract_id.to_owned(),
            size,
            root_hash: Hash::from_bytes(root),
            signatures,
        })
    }

    /// Checks the signatures as signed-note requires: a signature whose name and key id are
    /// those of a verifier given must verify, others are ignored, and at least one must be of
    /// a verifier given.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> Result<(), NoteError> {
        let mut verified = 0;
        for line in &self.signatures {
            let Some(verifier) = verifiers
                .iter()
                .find(|v| v.name == line.name && v.id == line.id)
            else {
                continue;
            };
            let forged = || NoteError::Forged {
                name: line.name.clone(),
                key_id: hex::encode(line.id),
            };
            let signature: [u8; 64] = line.signature.as_slice().try_into().map_err(|_| forged())?;
            verifier
                .key
                .verify_strict(self.text.as_bytes(), &Signature::from_bytes(&signature))
                .map_err(|_| forged())?;
            verified += 1;
        }
        if verified == 0 {
            return Err(NoteError::NoKnownSignature {
                given: verifiers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of c2sp.org/signed-note: its verifier key verifies its note.
    const EXAMPLE_VKEY: &str =
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const EXAMPLE_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn the_specifications_example_key_is_read_and_written_back_as_it_is() {
        let verifier = NoteVerifier::parse(EXAMPLE_VKEY).expect("the example key");
        assert_eq!(verifier.to_string(), EXAMPLE_VKEY);
        assert!(NoteVerifier::parse(&EXAMPLE_VKEY.replace("530d903a", "530d903b")).is_err());
    }

    #[test]
    fn the_specifications_example_signature_verifies_over_its_text() {
        let verifier = NoteVerifier::parse(EXAMPLE_VKEY).expect("the example key");
        // Not a checkpoint, so its signature is checked the way `verify` does, by hand.
        let (text, line) = EXAMPLE_NOTE.rsplit_once("\n\n").expect("a blank line");
        let signature = STANDARD
            .decode(line.trim_end().rsplit_once(' ').expect("a signature").1)
            .expect("base64");
        assert_eq!(signature[..4], verifier.id);
        let signature: [u8; 64] = signature[4..].try_into().expect("64 bytes");
        assert!(verifier
            .key
            .verify_strict(
                format!("{text}\n").as_bytes(),
                &Signature::from_bytes(&signature)
            )
            .is_ok());
    }

    #[test]
    fn a_verifier_key_whose_base64_holds_a_plus_reads() {
        // The base64 of a key may hold `+`, the separator of the three parts: only the first
        // two `+` separate.
        let (seed, vkey) = (0..=255u8)
            .map(|n| {
                let key = CheckpointKey::from_seed([n; 32]);
                (n, key.note_verifier_key("cuneo-communal-living"))
            })
            .find(|(_, vkey)| vkey.matches('+').count() > 2)
            .expect("some seed gives a key with + in its base64");
        let verifier = NoteVerifier::parse(&vkey).expect("a verifier key");
        let key = CheckpointKey::from_seed([seed; 32]);
        let root = crate::hash::leaf_hash(b"root");
        let note = key.sign_note("cuneo-communal-living", 7, &root);
        CheckpointNote::parse(&note)
            .expect("a checkpoint note")
            .verify(std::slice::from_ref(&verifier))
            .expect("verifies");
    }

    #[test]
    fn a_signed_checkpoint_note_verifies_and_any_byte_changed_is_refused() {
        let key = CheckpointKey::from_seed([3; 32]);
        let root = crate::hash::leaf_hash(b"root");
        let note = key.sign_note("cuneo-communal-living", 962, &root);
        let verifier = NoteVerifier::parse(&key.note_verifier_key("cuneo-communal-living"))
            .expect("a verifier key");
        let parsed = CheckpointNote::parse(&note).expect("a checkpoint note");
        assert_eq!(
            (parsed.contract_id.as_str(), parsed.size, parsed.root_hash),
            ("cuneo-communal-living", 962, root)
        );
        parsed
            .verify(std::slice::from_ref(&verifier))
            .expect("it verifies");
        // Every byte of the note text, changed: refused as malformed or as forged.
        let text_length = note.find("\n\n").expect("a blank line") + 1;
        for index in 0..text_length {
            let mut bytes = note.clone().into_bytes();
            bytes[index] ^= 0x01;
            let Ok(changed) = String::from_utf8(bytes) else {
                continue;
            };
            let verdict = CheckpointNote::parse(&changed)
                .and_then(|n| n.verify(std::slice::from_ref(&verifier)));
            assert!(verdict.is_err(), "byte {index} changed: {changed}");
        }
        // Another contract's key, or another key: no known signature.
        let other = NoteVerifier::parse(&key.note_verifier_key("torino-homes4all")).expect("key");
        assert!(matches!(
            parsed.verify(&[other]),
            Err(NoteError::NoKnownSignature { .. })
        ));
    }
}
