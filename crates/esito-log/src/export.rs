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
//! RFC 9162 consistency proof from the trusted size to the export's size out of the leaves it
//! kept and checks it with [`verify_consistency`], exactly as a verifier holding only the old
//! checkpoint and the new tree head would check the proof the service serves; the report
//! carries the proof.
//!
//! # Memory
//!
//! Checkpoints come after all the entries, and a checkpoint may be at any size `m <= n`, so the
//! tree head at `m` must be computable once the entries have streamed past. The verifier keeps
//! the leaf hashes for that: 32 bytes per entry (32 MiB per million entries; up to twice that
//! while the vector grows), plus the checkpoints themselves, which it returns so the caller can
//! check their signatures. Tree heads for checkpoints are computed by replaying the kept leaves
//! into a second [`Frontier`], which costs one pass over the leaves in total when checkpoints
//! come in increasing size, as exports write them.
//!
//! [`verify_export`] also holds lines it has read but not yet checked, in batches of up to 4,096
//! lines that end early once past 1 MiB. It reads no new batch while 16 MiB of lines wait, so
//! they are at most 16 MiB plus one batch, which is at most 1 MiB plus one line of at most
//! [`MAX_LINE_BYTES`]; it keeps the buffers of up to two batches per thread for reuse, dropping
//! any grown past 4 MiB. For ordinary lines that is a few MiB in all. Nothing else grows with
//! the export.
//!
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
//! # Limits
//!
//! Without checkpoints the verifier cannot notice entries cut off the end of an export: a
//! shortened export is a valid export of a shorter log. Nor can it notice a whole export
//! rewritten with recomputed hashes. Both are caught only by a checkpoint made before the
//! change: one in the export, if its signature is checked with a key the rewriter does not
//! hold, or a trusted one kept apart from the export. A log rewritten before any checkpoint
//! the verifier holds, with checkpoints signed again by the service's own key, passes.

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::checkpoint::Checkpoint;
use crate::entry::{BorrowedEntry, Entry};
use crate::hash::{empty_root, leaf_hash, Hash};
use crate::merkle::{verify_consistency, ConsistencyProof, Frontier, ProofError};
use crate::signing::{Keyring, SignatureError};

/// The longest line, newline included, that [`verify_export`] reads; a longer one fails the
/// export rather than letting a hostile file exhaust memory.
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// The most lines [`verify_export`] hands to a thread at once: enough that handing them over
/// costs nothing beside reading them.
const BATCH_LINES: usize = 4096;

/// A batch ends after the line that takes it past this many bytes, so that long lines do not
/// make batches large.
const BATCH_BYTES: usize = 1024 * 1024;

/// [`verify_export`] reads no new batch while this many bytes of lines wait to be checked.
const IN_FLIGHT_BYTES: usize = 16 * 1024 * 1024;

/// The most threads [`verify_export`] reads lines on; beyond this the calling thread, which
/// reads the export and applies the checks in order, is the limit.
const MAX_WORKERS: usize = 8;

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

/// An export line as [`LineFields`] reads it, but with a [`BorrowedEntry`]: the reading that
/// verification uses, with the owned reading as its fallback for errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BorrowedLineFields<'a> {
    position: Option<u64>,
    leaf_hash: Option<Hash>,
    #[serde(borrow)]
    entry: Option<BorrowedEntry<'a>>,
    checkpoint: Option<Checkpoint>,
}

/// What one line says, with the entry's leaf hash computed: everything verification learns
/// from a line without looking at the lines before it.
enum ParsedLine<'a> {
    Entry {
        position: u64,
        written: Hash,
        entry_position: u64,
        contract_id: Cow<'a, str>,
        leaf: Hash,
    },
    Checkpoint(Checkpoint),
}

impl<'a> ParsedLine<'a> {
    /// Reads one line, using `canonical` as scratch for the entry's canonical bytes. The error
    /// is the reason the line is not an export line, exactly as the [`ExportLine`] reader
    /// words it.
    fn read(line: &'a [u8], canonical: &mut Vec<u8>) -> Result<Self, String> {
        // Checking the whole line as UTF-8 at once, and reading it as text, spares the reader
        // checking each string on its own; a line that is not UTF-8 is not JSON either and
        // goes to the owned reading for its error.
        let fields = std::str::from_utf8(line)
            .ok()
            .and_then(|text| serde_json::from_str::<BorrowedLineFields<'a>>(text).ok());
        if let Some(parsed) = fields.and_then(|fields| Self::from_borrowed(fields, canonical)) {
            return Ok(parsed);
        }
        // The borrowed reading refused the line, which the owned reading then refuses as
        // well; it is read again only so that the error is worded, and placed, as before.
        match serde_json::from_slice::<ExportLine>(line) {
            Ok(ExportLine::Entry {
                position,
                leaf_hash: written,
                entry,
            }) => {
                canonical.clear();
                entry.write_canonical(canonical);
                Ok(Self::Entry {
                    position,
                    written,
                    entry_position: entry.position,
                    contract_id: Cow::Owned(entry.contract_id),
                    leaf: leaf_hash(canonical),
                })
            }
            Ok(ExportLine::Checkpoint(checkpoint)) => Ok(Self::Checkpoint(checkpoint)),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The line, if it is one of the two kinds as [`ExportLine`]'s conversion from
    /// [`LineFields`] decides, and its entry keeps the entry rules.
    fn from_borrowed(fields: BorrowedLineFields<'a>, canonical: &mut Vec<u8>) -> Option<Self> {
        match fields {
            BorrowedLineFields {
                position: Some(position),
                leaf_hash: Some(written),
                entry: Some(entry),
                checkpoint: None,
            } if entry.follows_rules() => {
                canonical.clear();
                entry.write_canonical(canonical);
                Some(Self::Entry {
                    position,
                    written,
                    entry_position: entry.position,
                    contract_id: entry.contract_id,
                    leaf: leaf_hash(canonical),
                })
            }
            BorrowedLineFields {
                position: None,
                leaf_hash: None,
                entry: None,
                checkpoint: Some(checkpoint),
            } => Some(Self::Checkpoint(checkpoint)),
            _ => None,
        }
    }
}

/// What a verifier holds beyond the export, obtained out of band; the default holds nothing.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// When not empty, every checkpoint (the trusted one too) must be signed by the key its
    /// `key_id` names, and that key must be here.
    pub keys: Keyring,
    /// A checkpoint kept from before: the export must extend it.
    pub checkpoint: Option<Checkpoint>,
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
    /// The checkpoints, each checked against the entries.
    pub checkpoints: Vec<Checkpoint>,
    /// How many of the checkpoints had their signature checked: all of them when keys were
    /// given, none otherwise.
    pub signatures_checked: u64,
    /// With a trusted checkpoint: the RFC 9162 proof, checked, that the export's tree extends
    /// the trusted one (`first` is the trusted size, `second` the export's).
    pub extends: Option<ConsistencyProof>,
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
    /// Given keys, a checkpoint is signed by the key its key id names, and that key is given.
    #[error("{reason}")]
    CheckpointSignature { reason: SignatureError },
    /// Given keys, the trusted checkpoint is signed like any other.
    #[error("trusted {reason}")]
    TrustedCheckpointSignature { reason: SignatureError },
    /// The export is of the trusted checkpoint's contract.
    #[error("the trusted checkpoint is of contract {trusted}, the export of {export}")]
    TrustedCheckpointContractMismatch { trusted: String, export: String },
    /// An export holds at least the entries of a checkpoint made before it.
    #[error(
        "export does not extend the trusted checkpoint: the checkpoint is at size {size}, the export holds only {log_size} entries"
    )]
    TrustedCheckpointBeyondExport { size: u64, log_size: u64 },
    /// The export's first `size` entries are those the trusted checkpoint signed.
    #[error(
        "export does not extend the trusted checkpoint: tree head at size {size} is {tree_head}, trusted root is {trusted_root}"
    )]
    DoesNotExtendTrustedCheckpoint {
        size: u64,
        tree_head: Hash,
        trusted_root: Hash,
    },
    /// The RFC 9162 consistency proof from the trusted tree to the export's verifies.
    #[error(
        "export does not extend the trusted checkpoint: the consistency proof from size {first} to size {second} fails: {reason}"
    )]
    TrustedConsistencyProof {
        first: u64,
        second: u64,
        reason: ProofError,
    },
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
    /// Checks every checkpoint's signature, unless empty.
    keys: Keyring,
    /// The checkpoint the export must extend, its signature already checked.
    trusted: Option<Checkpoint>,
}

impl ExportVerifier {
    /// A verifier that has seen nothing yet and trusts nothing beyond the export.
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier that checks signatures with `trust.keys` and that the export extends
    /// `trust.checkpoint`; fails at once if that checkpoint's own signature does not verify.
    pub fn trusting(trust: Trust) -> Result<Self, VerifyFailure> {
        if let Some(trusted) = &trust.checkpoint {
            if !trust.keys.is_empty() {
                trust
                    .keys
                    .verify(trusted)
                    .map_err(|reason| VerifyFailure::TrustedCheckpointSignature { reason })?;
            }
            // The empty tree is checked here: no entry will reach its size.
            if trusted.size == 0 && trusted.root_hash != empty_root() {
                return Err(VerifyFailure::DoesNotExtendTrustedCheckpoint {
                    size: 0,
                    tree_head: empty_root(),
                    trusted_root: trusted.root_hash,
                });
            }
        }
        Ok(Self {
            keys: trust.keys,
            trusted: trust.checkpoint,
            ..Self::default()
        })
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
        match ParsedLine::read(line, &mut self.canonical) {
            Ok(ParsedLine::Entry {
                position,
                written,
                entry_position,
                contract_id,
                leaf,
            }) => self.verify_entry(
                line_number,
                position,
                &written,
                entry_position,
                &contract_id,
                leaf,
            ),
            Ok(ParsedLine::Checkpoint(checkpoint)) => self.verify_checkpoint(checkpoint),
            Err(reason) => Err(VerifyFailure::MalformedLine {
                line_number,
                reason,
            }),
        }
    }

    /// Applies the lines of a batch read by [`Batch::read_lines`], in order, as
    /// [`ExportVerifier::verify_line`] would, then the failure that ended reading, if any.
    fn verify_batch(
        &mut self,
        batch: &mut Batch,
        on_progress: &mut impl FnMut(u64),
    ) -> Result<(), VerifyFailure> {
        for read in batch.lines.drain(..) {
            self.lines += 1;
            let line_number = self.lines;
            match read {
                ReadLine::Entry {
                    position,
                    written,
                    entry_position,
                    contract,
                    leaf,
                } => {
                    self.verify_entry(
                        line_number,
                        position,
                        &written,
                        entry_position,
                        &batch.contracts[contract],
                        leaf,
                    )?;
                    on_progress(self.size());
                }
                ReadLine::Checkpoint(checkpoint) => self.verify_checkpoint(*checkpoint)?,
                ReadLine::Malformed(reason) => {
                    return Err(VerifyFailure::MalformedLine {
                        line_number,
                        reason,
                    })
                }
            }
        }
        match batch.end.take() {
            Some(BatchEnd::Failed(failure)) => Err(failure),
            Some(BatchEnd::Eof) | None => Ok(()),
        }
    }

    fn verify_entry(
        &mut self,
        line_number: u64,
        position: u64,
        written: &Hash,
        entry_position: u64,
        contract_id: &str,
        leaf: Hash,
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
        if entry_position != position {
            return Err(VerifyFailure::EntryPositionMismatch {
                position,
                entry_position,
            });
        }
        match &self.contract_id {
            Some(known) if known != contract_id => {
                return Err(VerifyFailure::ContractMismatch { position });
            }
            Some(_) => {}
            None => self.learn_contract(contract_id)?,
        }
        if leaf != *written {
            return Err(VerifyFailure::LeafHashMismatch { position });
        }
        self.frontier.push(leaf);
        self.leaves.push(leaf);
        if let Some(trusted) = &self.trusted {
            if trusted.size == position {
                let tree_head = self.frontier.root();
                if tree_head != trusted.root_hash {
                    return Err(VerifyFailure::DoesNotExtendTrustedCheckpoint {
                        size: position,
                        tree_head,
                        trusted_root: trusted.root_hash,
                    });
                }
            }
        }
        Ok(())
    }

    /// Takes the contract of the first line as the export's, once it is the trusted
    /// checkpoint's.
    fn learn_contract(&mut self, contract_id: &str) -> Result<(), VerifyFailure> {
        if let Some(trusted) = &self.trusted {
            if trusted.contract_id != contract_id {
                return Err(VerifyFailure::TrustedCheckpointContractMismatch {
                    trusted: trusted.contract_id.clone(),
                    export: contract_id.to_owned(),
                });
            }
        }
        self.contract_id = Some(contract_id.to_owned());
        Ok(())
    }

    fn verify_checkpoint(&mut self, checkpoint: Checkpoint) -> Result<(), VerifyFailure> {
        let size = checkpoint.size;
        // First whether the checkpoint is the service's at all, then whether the entries agree
        // with it: a checkpoint edited in the export is named as forged, not as disagreeing.
        if !self.keys.is_empty() {
            self.keys
                .verify(&checkpoint)
                .map_err(|reason| VerifyFailure::CheckpointSignature { reason })?;
        }
        match &self.contract_id {
            Some(contract_id) if *contract_id != checkpoint.contract_id => {
                return Err(VerifyFailure::CheckpointContractMismatch { size });
            }
            Some(_) => {}
            None => self.learn_contract(&checkpoint.contract_id)?,
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

    /// The report on everything verified, once every line is: fails if the export does not
    /// extend the trusted checkpoint.
    pub fn finish(self) -> Result<VerifyReport, VerifyFailure> {
        let size = self.frontier.size();
        let root = self.frontier.root();
        let extends = match &self.trusted {
            None => None,
            Some(trusted) => Some(extension(trusted, size, &root, &self.leaves)?),
        };
        let signatures_checked = if self.keys.is_empty() {
            0
        } else {
            self.checkpoints.len() as u64
        };
        Ok(VerifyReport {
            contract_id: self.contract_id,
            size,
            root,
            checkpoints: self.checkpoints,
            signatures_checked,
            extends,
        })
    }
}

/// The checked consistency proof that the tree over `leaves` (of `size` leaves, head `root`)
/// extends `trusted`.
///
/// When the tree head at the trusted size was already compared as the entries streamed past,
/// this proof verifies by construction; it is built and checked all the same so that the
/// verdict rests on the very check an independent RFC 9162 verifier makes with the proof the
/// service serves, and so that the report can show that proof.
fn extension(
    trusted: &Checkpoint,
    size: u64,
    root: &Hash,
    leaves: &[Hash],
) -> Result<ConsistencyProof, VerifyFailure> {
    if trusted.size > size {
        return Err(VerifyFailure::TrustedCheckpointBeyondExport {
            size: trusted.size,
            log_size: size,
        });
    }
    let failed = |reason| VerifyFailure::TrustedConsistencyProof {
        first: trusted.size,
        second: size,
        reason,
    };
    let proof = ConsistencyProof::build(trusted.size, size, leaves).map_err(failed)?;
    verify_consistency(
        proof.first,
        proof.second,
        &trusted.root_hash,
        root,
        &proof.consistency_path,
    )
    .map_err(failed)?;
    Ok(proof)
}

/// Verifies an export as it streams past, calling `on_progress` with the number of entries
/// verified after each entry. See the module documentation for what is checked, the memory used
/// and the threads.
pub fn verify_export<R: BufRead>(
    reader: R,
    on_progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyFailure> {
    verify_export_trusting(reader, Trust::default(), on_progress)
}

/// [`verify_export`], checking signatures with `trust.keys` and that the export extends
/// `trust.checkpoint` (see the module documentation).
pub fn verify_export_trusting<R: BufRead>(
    reader: R,
    trust: Trust,
    on_progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyFailure> {
    let verifier = ExportVerifier::trusting(trust)?;
    let workers = thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS));
    verify_export_on(verifier, reader, on_progress, workers)
}

/// [`verify_export`] with the lines read on `workers` threads, or on the calling thread alone
/// for fewer than two; tests choose the number to exercise each way on any machine.
fn verify_export_on<R: BufRead>(
    mut verifier: ExportVerifier,
    reader: R,
    mut on_progress: impl FnMut(u64),
    workers: usize,
) -> Result<VerifyReport, VerifyFailure> {
    let mut lines = BatchReader { reader, lines: 0 };
    let mut batch = Batch::default();
    lines.read_batch(&mut batch);
    if batch.end.is_some() || workers < 2 {
        // An export of one batch, or one core: threads would only add their own cost.
        let mut canonical = Vec::with_capacity(1024);
        loop {
            batch.read_lines(&mut canonical);
            let last = batch.end.is_some();
            verifier.verify_batch(&mut batch, &mut on_progress)?;
            if last {
                return verifier.finish();
            }
            lines.read_batch(&mut batch);
        }
    }
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (send_batch, batches) = mpsc::channel::<Batch>();
            let (send_read, read) = mpsc::channel::<Batch>();
            let stop = &stop;
            scope.spawn(move || {
                let mut canonical = Vec::with_capacity(1024);
                for mut batch in batches {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    batch.read_lines(&mut canonical);
                    if send_read.send(batch).is_err() {
                        break;
                    }
                }
            });
            to_workers.push(send_batch);
            from_workers.push(read);
        }
        let verdict = verify_in_order(
            &mut verifier,
            &mut lines,
            batch,
            &to_workers,
            &from_workers,
            &mut on_progress,
        );
        // On a failure the workers may still hold batches; they are not needed.
        stop.store(true, Ordering::Relaxed);
        verdict
    })?;
    verifier.finish()
}

/// Hands batches to the workers in turn (batch k to worker k mod n) and takes their results
/// back in the same turn, so that results arrive in export order without any reordering;
/// `first` is the batch already read.
fn verify_in_order<R: BufRead>(
    verifier: &mut ExportVerifier,
    lines: &mut BatchReader<R>,
    first: Batch,
    to_workers: &[mpsc::Sender<Batch>],
    from_workers: &[mpsc::Receiver<Batch>],
    on_progress: &mut impl FnMut(u64),
) -> Result<(), VerifyFailure> {
    let workers = to_workers.len();
    let mut next = Some(first);
    let mut spare: Vec<Batch> = Vec::new();
    let (mut sent, mut done, mut in_flight_bytes) = (0usize, 0usize, 0usize);
    let mut read_all = false;
    loop {
        // Two batches per worker keep each busy while the calling thread reads and checks.
        while !read_all && sent - done < 2 * workers && in_flight_bytes < IN_FLIGHT_BYTES {
            let batch = match next.take() {
                Some(batch) => batch,
                None => {
                    let mut batch = spare.pop().unwrap_or_default();
                    lines.read_batch(&mut batch);
                    batch
                }
            };
            read_all = batch.end.is_some();
            in_flight_bytes += batch.text.len();
            to_workers[sent % workers]
                .send(batch)
                .expect("a worker takes batches until the verifier stops");
            sent += 1;
        }
        if done == sent {
            return Ok(());
        }
        let mut batch = from_workers[done % workers]
            .recv()
            .expect("a worker returns every batch it takes unless it panicked");
        done += 1;
        in_flight_bytes -= batch.text.len();
        verifier.verify_batch(&mut batch, on_progress)?;
        // A batch that held a very long line gives its memory back rather than keeping it.
        if batch.text.capacity() <= 4 * BATCH_BYTES {
            spare.push(batch);
        }
    }
}

/// Consecutive lines of an export, read but not yet checked.
#[derive(Default)]
struct Batch {
    /// The lines, each with its newline, one after another.
    text: Vec<u8>,
    /// Where each line ends in `text`.
    ends: Vec<usize>,
    /// Why reading stopped after these lines; `None` if there are more.
    end: Option<BatchEnd>,
    /// What each line says, filled by [`Batch::read_lines`]; stops at the first malformed line,
    /// since the export fails there at the latest.
    lines: Vec<ReadLine>,
    /// The contracts the entries name, each once in a row, so that a line does not copy its
    /// contract id.
    contracts: Vec<String>,
}

enum BatchEnd {
    Eof,
    /// The reader failed or a line was too long; the export fails here unless a line before
    /// fails first.
    Failed(VerifyFailure),
}

/// A line of a [`Batch`] as read on a worker.
enum ReadLine {
    Entry {
        position: u64,
        written: Hash,
        entry_position: u64,
        /// Index into [`Batch::contracts`].
        contract: usize,
        leaf: Hash,
    },
    /// Boxed, being rare and much larger than an entry's result.
    Checkpoint(Box<Checkpoint>),
    Malformed(String),
}

impl Batch {
    /// Reads, canonicalizes and hashes each line: the work that needs no other line.
    fn read_lines(&mut self, canonical: &mut Vec<u8>) {
        self.lines.clear();
        self.contracts.clear();
        let mut start = 0;
        for &end in &self.ends {
            let line = &self.text[start..end];
            start = end;
            let read = match ParsedLine::read(line, canonical) {
                Ok(ParsedLine::Entry {
                    position,
                    written,
                    entry_position,
                    contract_id,
                    leaf,
                }) => {
                    if self.contracts.last().map(String::as_str) != Some(&*contract_id) {
                        self.contracts.push(contract_id.into_owned());
                    }
                    ReadLine::Entry {
                        position,
                        written,
                        entry_position,
                        contract: self.contracts.len() - 1,
                        leaf,
                    }
                }
                Ok(ParsedLine::Checkpoint(checkpoint)) => {
                    ReadLine::Checkpoint(Box::new(checkpoint))
                }
                Err(reason) => {
                    self.lines.push(ReadLine::Malformed(reason));
                    return;
                }
            };
            self.lines.push(read);
        }
    }
}

/// Reads an export into batches, bounding each line by [`MAX_LINE_BYTES`].
struct BatchReader<R> {
    reader: R,
    /// Lines read so far, to number the line a read fails on.
    lines: u64,
}

impl<R: BufRead> BatchReader<R> {
    /// Refills `batch` with the next lines, up to [`BATCH_LINES`] or a little over
    /// [`BATCH_BYTES`], and notes in it why reading stopped if it did.
    fn read_batch(&mut self, batch: &mut Batch) {
        batch.text.clear();
        batch.ends.clear();
        batch.end = None;
        while batch.ends.len() < BATCH_LINES && batch.text.len() < BATCH_BYTES {
            let line_number = self.lines + 1;
            let start = batch.text.len();
            let read = (&mut self.reader)
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut batch.text);
            let end = match read {
                Ok(0) => BatchEnd::Eof,
                Ok(read) if read as u64 > MAX_LINE_BYTES => {
                    BatchEnd::Failed(VerifyFailure::LineTooLong { line_number })
                }
                Ok(_) => {
                    self.lines = line_number;
                    batch.ends.push(batch.text.len());
                    continue;
                }
                Err(error) => BatchEnd::Failed(VerifyFailure::Unreadable {
                    line_number,
                    reason: error.to_string(),
                }),
            };
            batch.text.truncate(start);
            batch.end = Some(end);
            return;
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
                checkpoints: Vec::new(),
                signatures_checked: 0,
                extends: None,
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

    fn entry(position: u64) -> Entry {
        Entry {
            contract_id: "contract-7".to_owned(),
            position,
            event_id: format!("00000000-0000-4000-8000-{position:012}"),
            stream_type: "access".to_owned(),
            stream_id: format!("acc-{position}"),
            stream_seq: 1,
            event_type: "AccessRecorded".to_owned(),
            schema_version: 1,
            occurred_at: "2024-02-01T10:15:00+01:00".to_owned(),
            recorded_at: "2024-02-01T09:15:02.123456Z".to_owned(),
            recorded_by: "operator \"ü\"\n".to_owned(),
            corrects: (position % 7 == 0).then(|| format!("prev-{position}")),
            payload: serde_json::json!({
                "need": "elderly_care",
                "outcome": {"kind": "referred", "service": "Servizi sociali"},
                "n": [position, -1.5, null, true],
                "\u{e000}": 1,
                "\u{1f600}": 2
            }),
        }
    }

    /// The lines of an export of `n` entries and checkpoints at the given sizes, without
    /// newlines.
    fn export_lines(n: u64, checkpoint_sizes: &[u64]) -> Vec<String> {
        let entries: Vec<Entry> = (1..=n).map(entry).collect();
        let leaves: Vec<Hash> = entries.iter().map(Entry::leaf_hash).collect();
        let mut lines: Vec<String> = entries
            .into_iter()
            .map(|entry| serde_json::to_string(&ExportLine::for_entry(entry)).expect("writes"))
            .collect();
        for &size in checkpoint_sizes {
            let checkpoint = crate::UnsignedCheckpoint {
                contract_id: "contract-7".to_owned(),
                size,
                root_hash: crate::root(&leaves[..usize::try_from(size).expect("fits")]),
                timestamp: "2024-03-02T10:00:00Z".to_owned(),
                key_id: "key-1".to_owned(),
            }
            .with_signature("c2ln".to_owned());
            let line = ExportLine::Checkpoint(checkpoint);
            lines.push(serde_json::to_string(&line).expect("writes"));
        }
        lines
    }

    fn text(lines: &[String]) -> String {
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    /// The verdict and progress of checking the lines one by one with
    /// [`ExportVerifier::verify_line`], the sequential reference.
    fn one_by_one(lines: &[String]) -> (Result<VerifyReport, VerifyFailure>, Vec<u64>) {
        let mut verifier = ExportVerifier::new();
        let mut progress = Vec::new();
        for line in lines {
            let before = verifier.size();
            if let Err(failure) = verifier.verify_line(format!("{line}\n").as_bytes()) {
                return (Err(failure), progress);
            }
            if verifier.size() != before {
                progress.push(verifier.size());
            }
        }
        (verifier.finish(), progress)
    }

    /// Verifies `reader` with each number of workers and checks that the verdict and the
    /// progress are `expected`'s.
    fn check_every_worker_count<R: BufRead>(
        reader: impl Fn() -> R,
        expected: &(Result<VerifyReport, VerifyFailure>, Vec<u64>),
    ) {
        for workers in [1, 2, 3, 8] {
            let mut progress = Vec::new();
            let verdict = verify_export_on(
                ExportVerifier::new(),
                reader(),
                |n| progress.push(n),
                workers,
            );
            assert_eq!(verdict, expected.0, "{workers} workers");
            assert!(
                progress == expected.1,
                "{workers} workers: progress differs"
            );
        }
    }

    /// Replaces the written leaf hash of the entry at `position`.
    fn tamper(lines: &mut [String], position: usize) {
        let other = empty_root().to_string();
        let line = &mut lines[position - 1];
        let start = line.find("\"leaf_hash\":\"").expect("an entry line") + 13;
        line.replace_range(start..start + 64, &other);
    }

    #[test]
    fn threads_find_the_first_failure_that_the_lines_one_by_one_find() {
        let clean = export_lines(10_000, &[1, 4096, 4097, 9_999, 10_000, 5]);
        let mut scenarios = vec![clean.clone()];
        let mut two_hashes = clean.clone();
        tamper(&mut two_hashes, 9_000);
        tamper(&mut two_hashes, 4_500);
        scenarios.push(two_hashes);
        let mut malformed_then_hash = clean.clone();
        malformed_then_hash[4_999] = "{\"position\": 5000,".to_owned();
        tamper(&mut malformed_then_hash, 9_000);
        scenarios.push(malformed_then_hash);
        let mut hash_then_malformed = clean.clone();
        tamper(&mut hash_then_malformed, 5_000);
        hash_then_malformed[8_999] = "not json".to_owned();
        scenarios.push(hash_then_malformed);
        let mut swapped_then_malformed = clean.clone();
        swapped_then_malformed.swap(8_191, 8_192);
        swapped_then_malformed[9_500] = String::new();
        scenarios.push(swapped_then_malformed);
        let mut other_contract = clean.clone();
        other_contract[6_000] = other_contract[6_000].replace("contract-7", "contract-8");
        scenarios.push(other_contract);
        let mut escaped_contract = clean.clone();
        escaped_contract[7_000] = escaped_contract[7_000].replace("contract-7", "contract\\u002d7");
        scenarios.push(escaped_contract);
        let mut entry_after_checkpoint = clean.clone();
        entry_after_checkpoint.push(clean[0].clone());
        scenarios.push(entry_after_checkpoint);
        let mut wrong_checkpoint = clean;
        let last = wrong_checkpoint.len() - 1;
        wrong_checkpoint[last] = wrong_checkpoint[last].replace("\"size\":5", "\"size\":6");
        scenarios.push(wrong_checkpoint);

        for lines in &scenarios {
            let expected = one_by_one(lines);
            let text = text(lines);
            check_every_worker_count(|| text.as_bytes(), &expected);
        }
    }

    #[test]
    fn a_reader_failing_deep_in_the_export_fails_after_the_lines_before_it() {
        struct FailsAfter<'a>(&'a [u8]);

        impl Read for FailsAfter<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }

        let mut lines = export_lines(9_000, &[]);
        let text_before = text(&lines);
        let reader = || std::io::BufReader::new(FailsAfter(text_before.as_bytes()));
        let expected = Err(VerifyFailure::Unreadable {
            line_number: 9_001,
            reason: "disk on fire".to_owned(),
        });
        check_every_worker_count(reader, &(expected, (1..=9_000).collect()));

        tamper(&mut lines, 8_000);
        let text_tampered = text(&lines);
        let reader = || std::io::BufReader::new(FailsAfter(text_tampered.as_bytes()));
        let expected = Err(VerifyFailure::LeafHashMismatch { position: 8_000 });
        check_every_worker_count(reader, &(expected, (1..8_000).collect()));
    }

    #[test]
    fn a_line_too_long_deep_in_the_export_fails_after_the_lines_before_it() {
        let mut lines = export_lines(9_000, &[]);
        let long = " ".repeat(usize::try_from(MAX_LINE_BYTES).expect("fits"));
        let with_long_line = format!("{}{long}\n", text(&lines));
        let expected = Err(VerifyFailure::LineTooLong { line_number: 9_001 });
        check_every_worker_count(
            || with_long_line.as_bytes(),
            &(expected, (1..=9_000).collect()),
        );

        tamper(&mut lines, 6_000);
        let with_long_line = format!("{}{long}\n", text(&lines));
        let expected = Err(VerifyFailure::LeafHashMismatch { position: 6_000 });
        check_every_worker_count(
            || with_long_line.as_bytes(),
            &(expected, (1..6_000).collect()),
        );
    }

    /// What a line says, comparably.
    #[derive(Debug, PartialEq)]
    enum Said {
        Entry(u64, Hash, u64, String, Hash),
        Checkpoint(Checkpoint),
    }

    fn said(parsed: ParsedLine<'_>) -> Said {
        match parsed {
            ParsedLine::Entry {
                position,
                written,
                entry_position,
                contract_id,
                leaf,
            } => Said::Entry(
                position,
                written,
                entry_position,
                contract_id.into_owned(),
                leaf,
            ),
            ParsedLine::Checkpoint(checkpoint) => Said::Checkpoint(checkpoint),
        }
    }

    /// The line as the owned [`ExportLine`] reader reads it, which is what verification read
    /// before lines were borrowed.
    fn owned_reading(line: &[u8]) -> Result<Said, String> {
        match serde_json::from_slice::<ExportLine>(line).map_err(|error| error.to_string())? {
            ExportLine::Entry {
                position,
                leaf_hash: written,
                entry,
            } => Ok(Said::Entry(
                position,
                written,
                entry.position,
                entry.contract_id.clone(),
                entry.leaf_hash(),
            )),
            ExportLine::Checkpoint(checkpoint) => Ok(Said::Checkpoint(checkpoint)),
        }
    }

    #[test]
    fn the_borrowed_reading_says_what_the_owned_reading_says() {
        let good = export_lines(7, &[3]);
        let entry_line = good[6].clone();
        let mut lines = good.clone();
        let variants: [(&str, &str); 22] = [
            (
                "\"contract_id\":\"contract-7\"",
                "\"contract_id\":\"contr\\u0061ct-7\"",
            ),
            ("\"need\":", "\"ne\\u0065d\":"),
            (
                "\"need\":\"elderly_care\"",
                "\"need\":\"elderly_care\",\"need\":1",
            ),
            (
                "\"need\":\"elderly_care\"",
                "\"need\":\"elderly_care\",\"ne\\u0065d\":1",
            ),
            ("\"need\":\"elderly_care\"", "\"need\":9007199254740992"),
            ("\"need\":\"elderly_care\"", "\"need\":-9007199254740991"),
            ("\"need\":\"elderly_care\"", "\"need\":-0"),
            ("\"need\":\"elderly_care\"", "\"need\":1E400"),
            ("\"need\":\"elderly_care\"", "\"need\":[1e-7,0.1,2.50]"),
            ("\"corrects\":\"prev-7\"", "\"corrects\":null"),
            ("\"corrects\":\"prev-7\",", ""),
            ("\"position\":7,\"event_id\"", "\"position\":0,\"event_id\""),
            ("\"stream_seq\":1", "\"stream_seq\":9007199254740992"),
            ("\"schema_version\":1", "\"schema_version\":4294967296"),
            ("\"payload\":{", "\"payload\":[{"),
            ("\"entry\":{", "\"checkpoint\":null,\"entry\":{"),
            ("\"entry\":{", "\"checkpoint\":{},\"entry\":{"),
            (
                "\"position\":7,\"leaf_hash\"",
                "\"position\":7,\"position\":7,\"leaf_hash\"",
            ),
            ("\"position\":7,\"leaf_hash\"", "\"leaf_hash\""),
            (
                "\"stream_type\":\"access\"",
                "\"stream_type\":\"access\",\"extra\":1",
            ),
            (
                "\"stream_type\":\"access\"",
                "\"stream_type\":\"a\\ud83d\\ude00\\n\"",
            ),
            ("\"stream_type\":\"access\"", "\"stream_type\":\"a\\ud83d\""),
        ];
        for (from, to) in variants {
            assert!(entry_line.contains(from), "{from}");
            lines.push(entry_line.replacen(from, to, 1));
        }
        let hash = good[0][27..91].to_owned();
        lines.push(good[0].replace(&hash, &hash.to_uppercase()));
        lines.push(good[7].replace("\"checkpoint\":{", "\"position\":null,\"checkpoint\":{"));
        lines.push(good[7].replace("\"size\":3", "\"size\":3,\"extra\":true"));
        lines.push(format!("{} ", good[2]));
        lines.push(format!("{}x", good[2]));
        lines.push(String::new());
        lines.push("[]".to_owned());
        let mut texts: Vec<Vec<u8>> = lines.into_iter().map(String::into_bytes).collect();
        let mut invalid_utf8 = good[1].clone().into_bytes();
        let at = good[1].find("acc-2").expect("the stream id");
        invalid_utf8[at] = 0xff;
        texts.push(invalid_utf8);

        let mut canonical = Vec::new();
        for text in &texts {
            let borrowed = ParsedLine::read(text, &mut canonical).map(said);
            assert_eq!(
                borrowed,
                owned_reading(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        // The lines the export writes go the borrowed way, not through the fallback.
        for line in &good {
            let text = std::str::from_utf8(line.as_bytes()).expect("UTF-8");
            let fields: BorrowedLineFields<'_> = serde_json::from_str(text).expect("reads");
            assert!(ParsedLine::from_borrowed(fields, &mut canonical).is_some());
        }
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
