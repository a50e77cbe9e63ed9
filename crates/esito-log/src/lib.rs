//! The verifiable log: RFC 8785 entries, RFC 9162 leaf and node hashes, tree heads, proofs, the export format. No I/O.
//!
//! An [`Entry`] is hashed as `SHA-256(0x00 || JCS(entry))`; the leaves of a contract's log, in
//! position order, form an RFC 9162 Merkle tree whose head at each size is what a [`Checkpoint`]
//! signs. [`merkle`] builds and checks inclusion and consistency proofs over that tree, and
//! [`export`] defines the JSON Lines export and verifies one as it streams past. The crate reads
//! and writes no files, database or network, and reads no clock.

pub mod checkpoint;
pub mod entry;
pub mod export;
pub mod hash;
pub mod jcs;
pub mod merkle;
pub mod note;
pub mod position;
pub mod signing;

pub use checkpoint::{Checkpoint, UnsignedCheckpoint};
pub use entry::{Entry, EntryError};
pub use export::{
    verify_export, verify_export_seekable, verify_export_trusting, ExportLine, ExportVerifier,
    Trust, TrustedCheckpoint, VerifyFailure, VerifyReport, MAX_LINE_BYTES,
};
pub use hash::{empty_root, leaf_hash, node_hash, Hash, HashParseError};
pub use jcs::canonicalize;
pub use merkle::{
    consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion,
    ConsistencyProof, Frontier, FrontierError, InclusionProof, ProofError, SubtreeHashes,
};
pub use note::{CheckpointNote, NoteError, NoteVerifier};
pub use position::{Position, PositionError};
pub use signing::{KeyId, KeyIdParseError};
