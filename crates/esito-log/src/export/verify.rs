//! The export verifier's checks, line by line in export order: positions, contract, leaf hashes, checkpoints and the trusted checkpoint; and what it keeps to check them.
//!
//! Invariant: the first failure returned is the first rule broken, in line order, whichever way
//! tree heads at checkpoint sizes are kept ([`TreeHeads`]).

use std::collections::BTreeMap;

use super::batch::{Batch, BatchEnd, ReadLine};
use super::line::ParsedLine;
use super::MAX_LINE_BYTES;
use crate::checkpoint::Checkpoint;
use crate::hash::{empty_root, Hash};
use crate::merkle::{verify_consistency, ConsistencyProof, ExtensionEdges, Frontier, ProofError};
use crate::note::{CheckpointNote, NoteError};
use crate::signing::{Keyring, SignatureError};

/// What a verifier holds beyond the export, obtained out of band; the default holds nothing.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// When not empty, every checkpoint (the trusted one too) must be signed by the key its
    /// `key_id` names, and that key must be here.
    pub keys: Keyring,
    /// A checkpoint kept from before, as JSON or as a C2SP note: the export must extend it.
    pub checkpoint: Option<TrustedCheckpoint>,
}

/// A checkpoint kept from before, in either of the forms the service signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedCheckpoint {
    /// The JSON checkpoint of docs/design.md §3.
    Signed(Checkpoint),
    /// The same tree head as a C2SP tlog-checkpoint signed note.
    Note(CheckpointNote),
}

impl From<Checkpoint> for TrustedCheckpoint {
    fn from(checkpoint: Checkpoint) -> Self {
        TrustedCheckpoint::Signed(checkpoint)
    }
}

impl TrustedCheckpoint {
    /// The tree head it states, whichever its form.
    fn head(&self) -> TrustedHead {
        match self {
            TrustedCheckpoint::Signed(checkpoint) => TrustedHead {
                contract_id: checkpoint.contract_id.clone(),
                size: checkpoint.size,
                root_hash: checkpoint.root_hash,
            },
            TrustedCheckpoint::Note(note) => TrustedHead {
                contract_id: note.contract_id.clone(),
                size: note.size,
                root_hash: note.root_hash,
            },
        }
    }
}

/// What the export must extend: a contract's tree head at a size.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TrustedHead {
    contract_id: String,
    size: u64,
    root_hash: Hash,
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
    /// Given keys, a trusted note carries a signature of one of them, and every signature of
    /// one of them verifies.
    #[error("trusted checkpoint note: {reason}")]
    TrustedNoteSignature { reason: NoteError },
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
/// say); [`verify_export`](super::verify_export) drives it from a [`BufRead`]. Such a caller bounds its own lines, as
/// `verify_export` does with [`MAX_LINE_BYTES`].
#[derive(Debug, Clone, Default)]
pub struct ExportVerifier {
    lines: u64,
    contract_id: Option<String>,
    frontier: Frontier,
    /// Where the tree heads of checkpoints below the end come from.
    heads: TreeHeads,
    /// The frontier at the trusted checkpoint's size and the compact range after it, once the
    /// entries reach that size: what the consistency proof is built from.
    edges: Option<ExtensionEdges>,
    checkpoints: Vec<Checkpoint>,
    /// Reused for every entry's canonical bytes.
    canonical: Vec<u8>,
    /// Checks every checkpoint's signature, unless empty.
    keys: Keyring,
    /// The tree head the export must extend, its signature already checked.
    trusted: Option<TrustedHead>,
}

impl ExportVerifier {
    /// A verifier that has seen nothing yet and trusts nothing beyond the export.
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier that checks signatures with `trust.keys` and that the export extends
    /// `trust.checkpoint`; fails at once if that checkpoint's own signature does not verify.
    pub fn trusting(trust: Trust) -> Result<Self, VerifyFailure> {
        if !trust.keys.is_empty() {
            match &trust.checkpoint {
                Some(TrustedCheckpoint::Signed(checkpoint)) => trust
                    .keys
                    .verify(checkpoint)
                    .map_err(|reason| VerifyFailure::TrustedCheckpointSignature { reason })?,
                Some(TrustedCheckpoint::Note(note)) => trust
                    .keys
                    .verify_note(note)
                    .map_err(|reason| VerifyFailure::TrustedNoteSignature { reason })?,
                None => {}
            }
        }
        let trusted = trust.checkpoint.as_ref().map(TrustedCheckpoint::head);
        if let Some(trusted) = &trusted {
            // The empty tree is checked here: no entry will reach its size.
            if trusted.size == 0 && trusted.root_hash != empty_root() {
                return Err(VerifyFailure::DoesNotExtendTrustedCheckpoint {
                    size: 0,
                    tree_head: empty_root(),
                    trusted_root: trusted.root_hash,
                });
            }
        }
        let edges = trusted
            .as_ref()
            .filter(|trusted| trusted.size == 0)
            .map(|_| ExtensionEdges::new(Frontier::new()));
        Ok(Self {
            keys: trust.keys,
            trusted,
            edges,
            ..Self::default()
        })
    }

    /// The same verifier, keeping the tree head only at each of `sizes` instead of every leaf
    /// hash: for a reader that knows the checkpoints' sizes before the entries. A checkpoint at
    /// another size below the end is not checked but noted ([`ExportVerifier::unplanned`]) on
    /// a first reading, and fails the export on a second one (`second_reading`), since the
    /// lines then differ from those read before.
    pub(super) fn keeping_heads_at(
        mut self,
        sizes: impl IntoIterator<Item = u64>,
        second_reading: bool,
    ) -> Self {
        let mut heads: BTreeMap<u64, Option<Hash>> = sizes.into_iter().map(|s| (s, None)).collect();
        heads.insert(0, Some(empty_root()));
        self.heads = TreeHeads::AtSizes {
            heads,
            second_reading,
            unplanned: Vec::new(),
        };
        self
    }

    /// The sizes of the checkpoints left unchecked because no tree head was kept at them.
    pub(super) fn unplanned(&self) -> &[u64] {
        match &self.heads {
            TreeHeads::Leaves { .. } => &[],
            TreeHeads::AtSizes { unplanned, .. } => unplanned,
        }
    }

    /// How many hashes the verifier keeps: every leaf's for a verifier made by
    /// [`ExportVerifier::new`] or [`ExportVerifier::trusting`], which cannot know where the
    /// checkpoints will be; O(log n) plus one per checkpoint for [`verify_export_seekable`]'s,
    /// which read the checkpoints' sizes first.
    ///
    /// [`verify_export_seekable`]: super::verify_export_seekable
    pub fn hashes_kept(&self) -> usize {
        let heads = match &self.heads {
            TreeHeads::Leaves { leaves, replay } => leaves.len() + replay.nodes().len(),
            TreeHeads::AtSizes { heads, .. } => heads.len(),
        };
        self.frontier.nodes().len()
            + heads
            + self.edges.as_ref().map_or(0, ExtensionEdges::hashes_kept)
            + self.checkpoints.len()
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
    pub(super) fn verify_batch(
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
        self.heads.passed(&self.frontier, leaf);
        if let Some(edges) = &mut self.edges {
            edges.push(leaf);
        }
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
                self.edges = Some(ExtensionEdges::new(self.frontier.clone()));
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
        let tree_head = if size == log_size {
            Some(self.frontier.root())
        } else {
            self.heads.at(size, self.lines)?
        };
        if tree_head.is_some_and(|tree_head| tree_head != checkpoint.root_hash) {
            return Err(VerifyFailure::CheckpointRootMismatch { size });
        }
        self.checkpoints.push(checkpoint);
        Ok(())
    }

    /// The report on everything verified, once every line is: fails if the export does not
    /// extend the trusted checkpoint.
    pub fn finish(self) -> Result<VerifyReport, VerifyFailure> {
        let size = self.frontier.size();
        let root = self.frontier.root();
        let extends = match &self.trusted {
            None => None,
            Some(trusted) => Some(extension(trusted, size, &root, self.edges.as_ref())?),
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

/// The checked consistency proof that the tree of `size` leaves and head `root`, known by its
/// `edges` at the trusted size, extends `trusted`.
///
/// When the tree head at the trusted size was already compared as the entries streamed past,
/// this proof verifies by construction; it is built and checked all the same so that the
/// verdict rests on the very check an independent RFC 9162 verifier makes with the proof the
/// service serves, and so that the report can show that proof.
fn extension(
    trusted: &TrustedHead,
    size: u64,
    root: &Hash,
    edges: Option<&ExtensionEdges>,
) -> Result<ConsistencyProof, VerifyFailure> {
    if trusted.size > size {
        return Err(VerifyFailure::TrustedCheckpointBeyondExport {
            size: trusted.size,
            log_size: size,
        });
    }
    let edges = edges.expect("the entries reached the trusted size, where the edges begin");
    let failed = |reason| VerifyFailure::TrustedConsistencyProof {
        first: trusted.size,
        second: size,
        reason,
    };
    let proof = ConsistencyProof::build(trusted.size, size, edges).map_err(failed)?;
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

/// Where the verifier finds the tree head at a checkpoint's size below the end.
#[derive(Debug, Clone)]
enum TreeHeads {
    /// Every leaf hash, 32 bytes per entry, replayed into a second frontier for each
    /// checkpoint: for lines whose checkpoints' sizes are not known before the entries.
    Leaves { leaves: Vec<Hash>, replay: Frontier },
    /// The frontier's root recorded as it passes each size given in advance.
    AtSizes {
        heads: BTreeMap<u64, Option<Hash>>,
        second_reading: bool,
        unplanned: Vec<u64>,
    },
}

impl Default for TreeHeads {
    fn default() -> Self {
        Self::Leaves {
            leaves: Vec::new(),
            replay: Frontier::new(),
        }
    }
}

impl TreeHeads {
    /// Notes the frontier that `leaf` has just been pushed onto.
    fn passed(&mut self, frontier: &Frontier, leaf: Hash) {
        match self {
            Self::Leaves { leaves, .. } => leaves.push(leaf),
            Self::AtSizes { heads, .. } => {
                if let Some(head) = heads.get_mut(&frontier.size()) {
                    *head = Some(frontier.root());
                }
            }
        }
    }

    /// The tree head at `size`, below the entries' count; `None` when no head was kept at that
    /// size on a first reading, which notes the size; the checkpoint at `line_number` then
    /// fails on a second reading.
    fn at(&mut self, size: u64, line_number: u64) -> Result<Option<Hash>, VerifyFailure> {
        match self {
            Self::Leaves { leaves, replay } => {
                if size < replay.size() {
                    *replay = Frontier::new();
                }
                let from = usize::try_from(replay.size()).expect("the replay is within the leaves");
                let to = usize::try_from(size).expect("the size is within the leaves");
                for leaf in &leaves[from..to] {
                    replay.push(*leaf);
                }
                Ok(Some(replay.root()))
            }
            Self::AtSizes {
                heads,
                second_reading,
                unplanned,
            } => match heads.get(&size).copied().flatten() {
                Some(head) => Ok(Some(head)),
                None if *second_reading => Err(VerifyFailure::Unreadable {
                    line_number,
                    reason: format!(
                        "the export changed while it was read: a checkpoint at size {size} was not there before"
                    ),
                }),
                None => {
                    unplanned.push(size);
                    Ok(None)
                }
            },
        }
    }
}
