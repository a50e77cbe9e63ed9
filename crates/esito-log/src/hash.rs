//! SHA-256 as RFC 9162 uses it: leaf and node hashes with their one-byte domain prefixes, and the text form of a hash.
//!
//! Invariant: a [`Hash`] is exactly 32 bytes, and its text form is exactly 64 lowercase hex digits,
//! so a hash has one spelling and two exports of the same log are byte-identical.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The prefix that keeps a leaf hash from ever equalling a node hash (RFC 9162, section 2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// The prefix of an interior node's hash input (RFC 9162, section 2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 digest: a leaf hash, a node hash or a tree head.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; 32]);

impl Hash {
    /// The length of a digest in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes; every 32-byte string is a possible digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a digest from a byte slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashParseError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| HashParseError::WrongByteLength { found: bytes.len() })
    }

    /// Writes the 64 hex digits into a stack buffer, so formatting never allocates.
    fn hex_digits(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        hex::encode_to_slice(self.0, &mut out).expect("32 bytes are 64 hex digits");
        out
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `SHA-256(0x00 || canonical_entry)`: the hash of one leaf, given the entry's RFC 8785 bytes.
pub fn leaf_hash(canonical_entry: &[u8]) -> Hash {
    let digest = Sha256::new()
        .chain_update([LEAF_PREFIX])
        .chain_update(canonical_entry)
        .finalize();
    Hash(digest.into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let digest = Sha256::new()
        .chain_update([NODE_PREFIX])
        .chain_update(left.0)
        .chain_update(right.0)
        .finalize();
    Hash(digest.into())
}

/// The tree head of the empty log: SHA-256 of the empty string (RFC 9162, section 2.1.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// Why a text or byte string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// The text form is always 64 characters.
    #[error("a hash is 64 hex digits, found {found} bytes of text")]
    WrongLength { found: usize },
    /// Only `0-9` and `a-f` are allowed, so that each hash has a single spelling.
    #[error("a hash is written in lowercase hex digits (0-9, a-f); byte {offset} is not one")]
    NotLowercaseHex { offset: usize },
    /// The binary form is always 32 bytes.
    #[error("a hash is 32 bytes, found {found}")]
    WrongByteLength { found: usize },
}

impl FromStr for Hash {
    type Err = HashParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(HashParseError::WrongLength {
                found: digits.len(),
            });
        }
        // Decoded by hand rather than by `hex`, which also accepts uppercase (a second spelling)
        // and is slow enough to show when a million leaf hashes are read from an export. The
        // table marks every other byte with the high bit, so one OR over the digits tells
        // whether any is bad before looking for the first.
        let mut bytes = [0u8; 32];
        let mut bad = 0u8;
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (high, low) = (
                HEX_VALUES[usize::from(pair[0])],
                HEX_VALUES[usize::from(pair[1])],
            );
            bad |= high | low;
            *byte = high << 4 | (low & 0x0f);
        }
        if bad & NOT_HEX != 0 {
            let offset = digits
                .iter()
                .position(|&digit| HEX_VALUES[usize::from(digit)] & NOT_HEX != 0)
                .expect("some digit was marked bad");
            return Err(HashParseError::NotLowercaseHex { offset });
        }
        Ok(Self(bytes))
    }
}

/// Marks a byte that is not one of `0-9`, `a-f` in [`HEX_VALUES`].
const NOT_HEX: u8 = 0x80;

/// The value of each lowercase hex digit, and [`NOT_HEX`] for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut value = 0u8;
    while value < 16 {
        let digit = if value < 10 {
            b'0' + value
        } else {
            b'a' + value - 10
        };
        table[digit as usize] = value;
        value += 1;
    }
    table
};

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.hex_digits();
        let text = std::str::from_utf8(&digits).expect("hex digits are ASCII");
        f.write_str(text)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let digits = self.hex_digits();
        let text = std::str::from_utf8(&digits).expect("hex digits are ASCII");
        serializer.serialize_str(text)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor rather than `String::deserialize`, so that reading a hash from an
        // export line borrows the text instead of allocating it.
        struct HexVisitor;

        impl Visitor<'_> for HexVisitor {
            type Value = Hash;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 hash as 64 lowercase hex digits")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Hash, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(HexVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_root_is_the_sha256_of_nothing() {
        assert_eq!(
            empty_root().to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn text_form_round_trips() {
        let hash = leaf_hash(b"abc");
        let text = hash.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<Hash>(), Ok(hash));
    }

    #[test]
    fn uppercase_hex_is_refused_so_each_hash_has_one_spelling() {
        let text = leaf_hash(b"abc").to_string().to_uppercase();
        assert!(matches!(
            text.parse::<Hash>(),
            Err(HashParseError::NotLowercaseHex { .. })
        ));
    }

    #[test]
    fn a_short_or_long_text_is_refused_by_length() {
        assert_eq!(
            "abcd".parse::<Hash>(),
            Err(HashParseError::WrongLength { found: 4 })
        );
        let long = "0".repeat(66);
        assert_eq!(
            long.parse::<Hash>(),
            Err(HashParseError::WrongLength { found: 66 })
        );
    }

    #[test]
    fn a_non_hex_character_is_refused_at_its_offset() {
        let mut text = "0".repeat(64);
        text.replace_range(10..11, "g");
        assert_eq!(
            text.parse::<Hash>(),
            Err(HashParseError::NotLowercaseHex { offset: 10 })
        );
    }

    #[test]
    fn serde_writes_and_reads_the_hex_string() {
        let hash = node_hash(&leaf_hash(b""), &leaf_hash(b"\x00"));
        let json = serde_json::to_string(&hash).expect("a hash serializes");
        assert_eq!(json, format!("\"{hash}\""));
        let back: Hash = serde_json::from_str(&json).expect("a hash deserializes");
        assert_eq!(back, hash);
    }

    #[test]
    fn from_slice_wants_exactly_32_bytes() {
        assert_eq!(
            Hash::from_slice(&[0u8; 31]),
            Err(HashParseError::WrongByteLength { found: 31 })
        );
        assert_eq!(
            Hash::from_slice(&[7u8; 32]),
            Ok(Hash::from_bytes([7u8; 32]))
        );
    }

    #[test]
    fn leaf_and_node_hashes_are_domain_separated() {
        let a = leaf_hash(b"x");
        let b = leaf_hash(b"y");
        let mut concatenated = Vec::new();
        concatenated.extend_from_slice(a.as_bytes());
        concatenated.extend_from_slice(b.as_bytes());
        assert_ne!(node_hash(&a, &b), leaf_hash(&concatenated));
    }
}
