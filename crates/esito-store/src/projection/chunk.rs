//! What a stretch of the log adds to the rows, derived without the database: a chunk of
//! stored entries parsed and derived on a worker thread, and deltas added up in order.

use super::*;

/// What one chunk of the log contributes, derived on a worker thread.
pub(crate) struct DerivedChunk {
    pub last_position: u64,
    pub delta: Delta,
    pub facts: BatchFacts,
}

/// Parses and derives one chunk of stored entries (position, text) with the definitions the
/// rebuild applies; the facts of entries from before the chunk that it supersedes are left
/// to the caller (`BatchFacts::missing`).
pub(crate) fn derive_chunk(
    definitions: Option<&Definitions>,
    rows: Vec<(u64, String)>,
) -> Result<DerivedChunk, StoreError> {
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
        last_position: rows.last().map_or(0, |(position, _)| *position),
        delta,
        facts,
    })
}

impl Delta {
    pub(crate) fn merge(&mut self, other: Delta) {
        for (row, (events, cents)) in other.months {
            let kept = self.months.entry(row).or_default();
            kept.0 += events;
            kept.1 += cents;
        }
        for (row, change) in other.keys {
            let counts = self.keys.entry(row).or_default();
            for (events, change) in counts.iter_mut().zip(change) {
                *events += change;
            }
        }
    }
}
