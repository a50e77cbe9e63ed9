//! The rebuild's chunks: the log read in runs of entries, each parsed and derived on a worker
//! thread, their deltas added up in position order.
//!
//! Invariant: a chunk holds at least one entry, at positions that go on by one (asserted);
//! the chunks' deltas merged in position order, with the facts of the entries from before a
//! chunk that it supersedes taken away, equal one step over the whole run.

use std::collections::HashMap;

use esito_indicators::{Definitions, EntryView, StoredEntry};

use crate::delta::Delta;
use crate::step::{check_contiguous, derive_batch, stored_error, BatchFacts};
use crate::{Invariant, ProjectorError};

/// What one chunk of the log contributes, derived on a worker thread.
#[derive(Debug)]
pub struct DerivedChunk {
    pub last_position: u64,
    pub delta: Delta,
    pub facts: BatchFacts,
}

/// Parses and derives one chunk of stored entries (position, text) with the definitions the
/// rebuild applies (none: nothing is derived); the facts of entries from before the chunk
/// that it supersedes are left to the caller (`BatchFacts::missing`).
pub fn derive_chunk(
    definitions: Option<&Definitions>,
    rows: Vec<(u64, String)>,
) -> Result<DerivedChunk, ProjectorError> {
    let (Some((first, _)), Some((last_position, _))) = (rows.first(), rows.last()) else {
        return Err(Invariant::EmptyChunk.into());
    };
    let last_position = *last_position;
    check_contiguous(*first, rows.iter().map(|(position, _)| *position))?;
    let mut delta = Delta::default();
    let facts = match definitions {
        Some(definitions) => {
            let entries = rows
                .iter()
                .map(|(position, text)| {
                    StoredEntry::parse_for(*position, text, Some(definitions)).map_err(stored_error)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let views: Vec<EntryView<'_>> = entries.iter().map(StoredEntry::view).collect();
            derive_batch(definitions, &views, &HashMap::new(), &mut delta)?
        }
        None => BatchFacts::default(),
    };
    Ok(DerivedChunk {
        last_position,
        delta,
        facts,
    })
}
