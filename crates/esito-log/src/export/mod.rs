//! The export format, JSON Lines of entries in position order then checkpoints, and its streaming verifier.
//!
//! Each entry line is `{"position": n, "leaf_hash": "hex", "entry": {...}}` and each checkpoint
//! line is `{"checkpoint": {...}}`. The verifier reads one line at a time and checks, for every
//! entry, that positions run 1, 2, 3, … without a gap, that the entry agrees with its line's
//! position and with the first entry's contract, and that its recomputed leaf hash is the one
//! written; for every checkpoint, that it names the same contract and that its root hash is the
//! tree head of the entries at its size.
//!
//! # Trust
//!
//! What the export alone cannot establish comes from a [`Trust`], obtained out of band: the
//! public keys the service signs checkpoints with (each checkpoint is then checked, as it
//! streams past, with the key its `key_id` names), and a checkpoint kept from an earlier
//! look at the log. The export must extend that trusted checkpoint: same contract, at least as
//! many entries, and the tree head over its first `size` leaves equal to the trusted root,
//! compared the moment the frontier reaches that size. At the end the verifier also builds the
//! RFC 9162 consistency proof from the trusted size to the export's size out of the frontier it
//! kept at the trusted size and the compact range after it, and checks it with
//! [`verify_consistency`], exactly as a verifier holding only the old checkpoint and the new
//! tree head would check the proof the service serves; the report carries the proof.
//!
//! [`verify_consistency`]: crate::merkle::verify_consistency
//!
//! # Memory
//!
//! Checkpoints come after all the entries, and a checkpoint may be at any size `m <= n`, so the
//! tree head at `m` must be known once the entries have streamed past. A reader that can seek
//! ([`verify_export_seekable`], which `esito verify` uses for a file) first reads the
//! checkpoint lines back from the end of the export, keeping only their sizes, then reads the
//! export from the start and records the frontier's root as it passes each of those sizes:
//! O(log n) hashes for the frontier, one per checkpoint, and, with a trusted checkpoint at
//! size `m`, the frontier at `m` and the compact range of `[m, n)` ([`ExtensionEdges`]), from
//! which the consistency proof is built. Nothing kept grows with the number of entries
//! ([`ExportVerifier::hashes_kept`]). Should a checkpoint turn up at a size the end did not
//! show (lines out of place, or a file written meanwhile), the export is read once more with
//! that size known, so the verdict is the same as when every leaf hash is kept.
//!
//! A reader that cannot seek (a pipe, a body streamed over HTTP) cannot know the sizes before
//! the entries, so [`verify_export`] and a verifier driven line by line keep the leaf hashes:
//! 32 bytes per entry (32 MiB per million entries; up to twice that while the vector grows),
//! and replay them into a second [`Frontier`] for each checkpoint, which costs one pass over
//! the leaves in total when checkpoints come in increasing size, as exports write them.
//!
//! [`verify_export`] also holds lines it has read but not yet checked, in batches of up to 4,096
//! lines that end early once past 1 MiB. It reads no new batch while 16 MiB of lines wait, so
//! they are at most 16 MiB plus one batch, which is at most 1 MiB plus one line of at most
//! [`MAX_LINE_BYTES`]; it keeps the buffers of up to two batches per thread for reuse, dropping
//! any grown past 4 MiB. For ordinary lines that is a few MiB in all.
//!
//! [`ExtensionEdges`]: crate::merkle::ExtensionEdges
//! [`Frontier`]: crate::merkle::Frontier

//! # Threads
//!
//! Reading an entry line, canonicalizing it and hashing it depends on nothing but the line, and
//! is most of the work; [`verify_export`] does it on as many threads as the machine runs at
//! once (at most 8), a batch of lines at a time, while the calling thread reads the batches and
//! applies, line by line in order, the checks that depend on the lines before (positions,
//! contract, leaf hash, the tree, checkpoints). Those checks see exactly what
//! [`ExportVerifier::verify_line`] would see, so the result and the first failure are the same
//! as when the lines are verified one by one, however the threads are scheduled.
//!
//! A line exactly as the service writes it needs no canonicalizing: its entry's bytes are
//! already the RFC 8785 form, which one pass over them confirms, and the leaf hash is taken of
//! them as they stand. Any other line (escapes, decimals, whitespace, a hand-edited member) is
//! parsed and canonicalized as above, and both readings say the same of every line.
//!
//! # Limits
//!
//! Without checkpoints the verifier cannot notice entries cut off the end of an export: a
//! shortened export is a valid export of a shorter log. Nor can it notice a whole export
//! rewritten with recomputed hashes. Both are caught only by a checkpoint made before the
//! change: one in the export, if its signature is checked with a key the rewriter does not
//! hold, or a trusted one kept apart from the export. A log rewritten before any checkpoint
//! the verifier holds, with checkpoints signed again by the service's own key, passes.

mod batch;
mod canonical_line;
mod line;
mod seekable;
#[cfg(test)]
mod tests;
mod verify;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::checkpoint::Checkpoint;
use crate::entry::Entry;
use crate::hash::Hash;

pub use batch::{verify_export, verify_export_trusting};
pub use seekable::verify_export_seekable;
pub use verify::{ExportVerifier, Trust, TrustedCheckpoint, VerifyFailure, VerifyReport};

/// The longest line, newline included, that [`verify_export`] reads; a longer one fails the
/// export rather than letting a hostile file exhaust memory.
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "LineFields")]
pub enum ExportLine {
    /// `{"position": n, "leaf_hash": "hex", "entry": {...}}`
    Entry {
        position: u64,
        leaf_hash: Hash,
        entry: Entry,
    },
    /// `{"checkpoint": {...}}`
    Checkpoint(Checkpoint),
}

impl ExportLine {
    /// The line for an entry, with the position and leaf hash computed from it.
    pub fn for_entry(entry: Entry) -> Self {
        Self::Entry {
            position: entry.position,
            leaf_hash: entry.leaf_hash(),
            entry,
        }
    }
}

impl From<Checkpoint> for ExportLine {
    fn from(checkpoint: Checkpoint) -> Self {
        Self::Checkpoint(checkpoint)
    }
}

impl Serialize for ExportLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Entry {
                position,
                leaf_hash,
                entry,
            } => {
                let mut line = serializer.serialize_struct("ExportLine", 3)?;
                line.serialize_field("position", position)?;
                line.serialize_field("leaf_hash", leaf_hash)?;
                line.serialize_field("entry", entry)?;
                line.end()
            }
            Self::Checkpoint(checkpoint) => {
                let mut line = serializer.serialize_struct("ExportLine", 1)?;
                line.serialize_field("checkpoint", checkpoint)?;
                line.end()
            }
        }
    }
}

/// A line as read, before deciding which kind it is; one pass over the text, with no buffering
/// of the kind an untagged enum would need.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineFields {
    position: Option<u64>,
    leaf_hash: Option<Hash>,
    entry: Option<Entry>,
    checkpoint: Option<Checkpoint>,
}

/// A line that mixes or lacks the fields of both kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an export line holds either position, leaf_hash and entry, or checkpoint alone")]
struct NeitherEntryNorCheckpoint;

impl TryFrom<LineFields> for ExportLine {
    type Error = NeitherEntryNorCheckpoint;

    fn try_from(fields: LineFields) -> Result<Self, Self::Error> {
        match fields {
            LineFields {
                position: Some(position),
                leaf_hash: Some(leaf_hash),
                entry: Some(entry),
                checkpoint: None,
            } => Ok(Self::Entry {
                position,
                leaf_hash,
                entry,
            }),
            LineFields {
                position: None,
                leaf_hash: None,
                entry: None,
                checkpoint: Some(checkpoint),
            } => Ok(Self::Checkpoint(checkpoint)),
            _ => Err(NeitherEntryNorCheckpoint),
        }
    }
}
