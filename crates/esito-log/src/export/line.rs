//! One export line read for verification: as the service writes it, checked to be canonical and hashed as it stands; otherwise the entry borrowed from the line's text, canonicalized and hashed; with nothing learnt from other lines.
//!
//! Invariant: [`ParsedLine::read`] says what the owned [`ExportLine`] reader says of the same
//! bytes, down to the wording of its error.

use std::borrow::Cow;

use serde::Deserialize;

use super::{canonical_line, ExportLine};
use crate::checkpoint::Checkpoint;
use crate::entry::BorrowedEntry;
use crate::hash::{leaf_hash, Hash};

/// An export line as `LineFields` reads it, but with a [`BorrowedEntry`]: the reading that
/// verification uses, with the owned reading as its fallback for errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BorrowedLineFields<'a> {
    position: Option<u64>,
    leaf_hash: Option<Hash>,
    #[serde(borrow)]
    entry: Option<BorrowedEntry<'a>>,
    checkpoint: Option<Checkpoint>,
}

/// What one line says, with the entry's leaf hash computed: everything verification learns
/// from a line without looking at the lines before it.
pub(super) enum ParsedLine<'a> {
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
    pub(super) fn read(line: &'a [u8], canonical: &mut Vec<u8>) -> Result<Self, String> {
        // A line as the service writes it is already canonical: checked in one pass and hashed
        // as it stands.
        if let Some(quick) = canonical_line::read(line) {
            return Ok(Self::Entry {
                position: quick.position,
                written: quick.written,
                entry_position: quick.entry_position,
                contract_id: Cow::Borrowed(quick.contract_id),
                leaf: quick.leaf,
            });
        }
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
    /// `LineFields` decides, and its entry keeps the entry rules.
    pub(super) fn from_borrowed(
        fields: BorrowedLineFields<'a>,
        canonical: &mut Vec<u8>,
    ) -> Option<Self> {
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
