//! The export format, JSON Lines of entries in position order then checkpoints, and its streaming verifier.
//!
//! Each entry line is `{"position": n, "leaf_hash": "hex", "entry": {...}}` and each checkpoint
//! line is `{"checkpoint": {...}}`. The verifier reads one line at a time and checks, for every
//! entry, that positions run 1, 2, 3, … without a gap, that the entry agrees with its line's
//! position and with the first entry's contract, and that its recomputed leaf hash is the one
//! written; for every checkpoint, that it names the same contract and that its root hash is the
//! tree head of the entries at its size.
//!
//! # Memory
//!
//! Checkpoints come after all the entries, and a checkpoint may be at any size `m <= n`, so the
//! tree head at `m` must be computable once the entries have streamed past. The verifier keeps
//! the leaf hashes for that: 32 bytes per entry (32 MiB per million entries; up to twice that
//! while the vector grows), plus one line buffer of at most [`MAX_LINE_BYTES`], plus the
//! checkpoints themselves, which it returns so the caller can check their signatures. Nothing
//! else grows with the export. Tree heads for checkpoints are computed by replaying the kept
//! leaves into a second [`Frontier`], which costs one pass over the leaves in total when
//! checkpoints come in increasing size, as exports write them.
//!
//! # Limits
//!
//! Without checkpoints the verifier cannot notice entries cut off the end of an export: a
//! shortened export is a valid export of a shorter log. Nor can it notice a whole export
//! rewritten with recomputed hashes. Both are caught only by a signed checkpoint, whose
//! signature this crate does not check.

use std::io::{BufRead, Read};

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::checkpoint::Checkpoint;
use crate::entry::Entry;
use crate::hash::{leaf_hash, Hash};
use crate::merkle::Frontier;

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

/// What a verified export establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The contract the export belongs to; `None` for an export with no lines at all.
    pub contract_id: Option<String>,
    /// The number of entries.
    pub size: u64,
    /// The tree head over all the entries.
    pub root: Hash,
    /// The checkpoints, each checked against the entries but not for its signature.
    pub checkpoints: Vec<Checkpoint>,
}

/// The first rule an export breaks, named at the first line or position that breaks it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyFailure {
    /// The reader failed.
    #[error("line {line_number}: could not be read: {reason}")]
    Unreadable { line_number: u64, reason: String },
    /// Lines are bounded so that memory is.
    #[error("line {line_number}: longer than {MAX_LINE_BYTES} bytes")]
    LineTooLong { line_number: u64 },
    /// Every line is one JSON object of one of the two kinds.
    #[error("line {line_number}: not an export line: {reason}")]
    MalformedLine { line_number: u64, reason: String },
    /// Entries come first, then checkpoints.
    #[error("line {line_number}: an entry after a checkpoint; entries come first")]
    EntryAfterCheckpoint { line_number: u64 },
    /// Positions run 1, 2, 3, … with nothing missing, repeated or swapped.
    #[error(
        "position {expected}: found position {found} (a line is missing, repeated or out of order)"
    )]
    PositionOutOfOrder { expected: u64, found: u64 },
    /// The line's position is the entry's own.
    #[error("position {position}: the entry says it is at position {entry_position}")]
    EntryPositionMismatch { position: u64, entry_position: u64 },
    /// An export holds one contract's log.
    #[error("position {position}: the entry belongs to another contract than the first entry")]
    ContractMismatch { position: u64 },
    /// The written leaf hash is the hash of the entry.
    #[error("position {position}: leaf hash does not match the entry")]
    LeafHashMismatch { position: u64 },
    /// A checkpoint belongs to the export's contract.
    #[error("checkpoint at size {size}: it names another contract than the entries")]
    CheckpointContractMismatch { size: u64 },
    /// A checkpoint covers entries the export holds.
    #[error("checkpoint at size {size}: the export holds only {log_size} entries")]
    CheckpointBeyondLog { size: u64, log_size: u64 },
    /// A checkpoint's root hash is the tree head of the entries at its size.
    #[error("checkpoint at size {size}: root hash does not match the tree head of the entries")]
    CheckpointRootMismatch { size: u64 },
}

/// Verifies an export line by line, for callers that read lines themselves (an async reader,
/// say); [`verify_export`] drives it from a [`BufRead`]. Such a caller bounds its own lines, as
/// `verify_export` does with [`MAX_LINE_BYTES`].
#[derive(Debug, Clone, Default)]
pub struct ExportVerifier {
    lines: u64,
    contract_id: Option<String>,
    frontier: Frontier,
    /// Kept for checkpoints at sizes below the end; see the module documentation.
    leaves: Vec<Hash>,
    /// Tree heads at checkpoint sizes, grown by replaying `leaves`.
    replay: Frontier,
    checkpoints: Vec<Checkpoint>,
    /// Reused for every entry's canonical bytes.
    canonical: Vec<u8>,
}

impl ExportVerifier {
    /// A verifier that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries have been verified.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// How many lines have been given to [`ExportVerifier::verify_line`].
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Checks the next line (a trailing newline is allowed). After a failure the verifier's
    /// state is unspecified; the export is rejected at the first failure.
    pub fn verify_line(&mut self, line: &[u8]) -> Result<(), VerifyFailure> {
        self.lines += 1;
        let line_number = self.lines;
        let parsed: ExportLine =
            serde_json::from_slice(line).map_err(|error| VerifyFailure::MalformedLine {
                line_number,
                reason: error.to_string(),
            })?;
        match parsed {
            ExportLine::Entry {
                position,
                leaf_hash,
                entry,
            } => self.verify_entry(line_number, position, &leaf_hash, &entry),
            ExportLine::Checkpoint(checkpoint) => self.verify_checkpoint(checkpoint),
        }
    }

    fn verify_entry(
        &mut self,
        line_number: u64,
        position: u64,
        written: &Hash,
        entry: &Entry,
    ) -> Result<(), VerifyFailure> {
        if !self.checkpoints.is_empty() {
            return Err(VerifyFailure::EntryAfterCheckpoint { line_number });
        }
        let expected = self.frontier.size() + 1;
        if position != expected {
            return Err(VerifyFailure::PositionOutOfOrder {
                expected,
                found: position,
            });
        }
        if entry.position != position {
            return Err(VerifyFailure::EntryPositionMismatch {
                position,
                entry_position: entry.position,
            });
        }
        match &self.contract_id {
            Some(contract_id) if *contract_id != entry.contract_id => {
                return Err(VerifyFailure::ContractMismatch { position });
            }
            Some(_) => {}
            None => self.contract_id = Some(entry.contract_id.clone()),
        }
        self.canonical.clear();
        entry.write_canonical(&mut self.canonical);
        let leaf = leaf_hash(&self.canonical);
        if leaf != *written {
            return Err(VerifyFailure::LeafHashMismatch { position });
        }
        self.frontier.push(leaf);
        self.leaves.push(leaf);
        Ok(())
    }

    fn verify_checkpoint(&mut self, checkpoint: Checkpoint) -> Result<(), VerifyFailure> {
        let size = checkpoint.size;
        match &self.contract_id {
            Some(contract_id) if *contract_id != checkpoint.contract_id => {
                return Err(VerifyFailure::CheckpointContractMismatch { size });
            }
            Some(_) => {}
            None => self.contract_id = Some(checkpoint.contract_id.clone()),
        }
        let log_size = self.frontier.size();
        if size > log_size {
            return Err(VerifyFailure::CheckpointBeyondLog { size, log_size });
        }
        if self.tree_head_at(size) != checkpoint.root_hash {
            return Err(VerifyFailure::CheckpointRootMismatch { size });
        }
        self.checkpoints.push(checkpoint);
        Ok(())
    }

    /// The tree head at `size <= self.size()`.
    fn tree_head_at(&mut self, size: u64) -> Hash {
        if size == self.frontier.size() {
            return self.frontier.root();
        }
        if size < self.replay.size() {
            self.replay = Frontier::new();
        }
        let from = usize::try_from(self.replay.size()).expect("the replay is within the leaves");
        let to = usize::try_from(size).expect("the size is within the leaves");
        for leaf in &self.leaves[from..to] {
            self.replay.push(*leaf);
        }
        self.replay.root()
    }

    /// The report on everything verified so far.
    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            contract_id: self.contract_id,
            size: self.frontier.size(),
            root: self.frontier.root(),
            checkpoints: self.checkpoints,
        }
    }
}

/// Verifies an export as it streams past, calling `on_progress` with the number of entries
/// verified after each entry. See the module documentation for what is checked and the memory
/// used.
pub fn verify_export<R: BufRead>(
    mut reader: R,
    mut on_progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyFailure> {
    let mut verifier = ExportVerifier::new();
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let line_number = verifier.lines() + 1;
        let read = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|error| VerifyFailure::Unreadable {
                line_number,
                reason: error.to_string(),
            })?;
        if read == 0 {
            return Ok(verifier.finish());
        }
        if read as u64 > MAX_LINE_BYTES {
            return Err(VerifyFailure::LineTooLong { line_number });
        }
        let size_before = verifier.size();
        verifier.verify_line(&line)?;
        if verifier.size() != size_before {
            on_progress(verifier.size());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::empty_root;

    #[test]
    fn an_empty_export_is_the_empty_log() {
        let report = verify_export(&b""[..], |_| {}).expect("nothing to reject");
        assert_eq!(
            report,
            VerifyReport {
                contract_id: None,
                size: 0,
                root: empty_root(),
                checkpoints: Vec::new()
            }
        );
    }

    #[test]
    fn a_line_mixing_both_kinds_is_malformed() {
        let line = format!(
            r#"{{"position":1,"leaf_hash":"{}","checkpoint":{{}}}}"#,
            empty_root()
        );
        assert!(matches!(
            verify_export(line.as_bytes(), |_| {}),
            Err(VerifyFailure::MalformedLine { line_number: 1, .. })
        ));
    }

    #[test]
    fn a_blank_line_is_malformed() {
        assert!(matches!(
            verify_export(&b"\n"[..], |_| {}),
            Err(VerifyFailure::MalformedLine { line_number: 1, .. })
        ));
    }

    #[test]
    fn a_line_beyond_the_limit_fails_without_being_read_whole() {
        let long = vec![b' '; usize::try_from(MAX_LINE_BYTES).expect("fits") + 10];
        assert_eq!(
            verify_export(&long[..], |_| {}),
            Err(VerifyFailure::LineTooLong { line_number: 1 })
        );
    }

    #[test]
    fn failures_read_as_one_line_naming_the_position() {
        assert_eq!(
            VerifyFailure::LeafHashMismatch { position: 17 }.to_string(),
            "position 17: leaf hash does not match the entry"
        );
        assert_eq!(
            VerifyFailure::PositionOutOfOrder {
                expected: 17,
                found: 18
            }
            .to_string(),
            "position 17: found position 18 (a line is missing, repeated or out of order)"
        );
    }
}
