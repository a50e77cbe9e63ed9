//! The identity vault's values and cryptography, with no I/O: who a pseudonym is (`Identity`),
//! the Italian fiscal code checked by its check character (`FiscalCode`), each person's record
//! sealed with a data key of its own, each data key wrapped by the master key (`MasterKey`),
//! and a keyed hash of the fiscal code to find a person without opening every record.
//!
//! Invariant: nothing here writes a plaintext anywhere; a record leaves only as ciphertext
//! (XChaCha20-Poly1305), bound to its contract and pseudonym, so a sealed record moved to
//! another row does not open.

mod fiscal_code;
mod identity;
mod sealing;

pub use fiscal_code::{FiscalCode, FiscalCodeError};
pub use identity::{Contacts, Identity, Name, Text, TEXT_CHARS_MAX};
pub use sealing::{MasterKey, Sealed, VaultError, MASTER_KEY_BYTES};
