//! One projector step: the entries after the checkpoint, read for their facts, become a
//! delta of the rows, the facts of the parts that reach back, and the events they supersede.
//!
//! Invariant: a step's entries follow on from its checkpoint by one position each (asserted:
//! `Invariant::PositionsNotContiguous`); an entry adds its facts and takes away those of the
//! entry it corrects or voids, so the rows hold exactly the facts that count.

use std::collections::{HashMap, HashSet};

use esito_indicators::facts::derive;
use esito_indicators::{Definitions, Derived, EntryView, Fact, StoredEntry, StoredError};
use esito_log::Entry;

use crate::delta::Delta;
use crate::templates::{after_templates, definitions_of, ProjectionState, StepPlan};
use crate::{Invariant, ProjectorError};

/// What a step writes.
#[derive(Debug)]
pub struct Advance {
    pub delta: Delta,
    /// Facts of the parts that reach back, added from their position.
    pub span_facts: Vec<Fact>,
    /// (event id, position of the entry that supersedes it), in position order.
    pub superseded: Vec<(String, u64)>,
    pub state: ProjectionState,
}

/// What a run of entries contributes, apart from the facts of the entries from before it
/// that they supersede.
#[derive(Debug, Default)]
pub struct BatchFacts {
    /// Facts of the parts that reach back, added from their position.
    pub span_facts: Vec<Fact>,
    /// (event id, position of the entry that supersedes it), in position order.
    pub superseded: Vec<(String, u64)>,
    /// Superseded events that are neither in the run nor in `earlier`: their facts are still
    /// to be taken away.
    pub missing: Vec<String>,
}

/// A stored entry's text read as a whole, checked entry.
pub fn parse_entry(position: u64, text: &str) -> Result<Entry, ProjectorError> {
    serde_json::from_str(text).map_err(|error| ProjectorError::Corrupt {
        position,
        reason: error.to_string(),
    })
}

/// The facts `entry` adds and the event it supersedes, with `definitions`.
pub fn derived<'a>(
    definitions: &Definitions,
    entry: impl Into<EntryView<'a>>,
) -> Result<Derived, ProjectorError> {
    let entry = entry.into();
    derive(definitions, entry).map_err(|error| ProjectorError::Corrupt {
        position: entry.position,
        reason: error.to_string(),
    })
}

/// A stored entry that cannot be read, as the projector's error.
pub fn stored_error(error: StoredError) -> ProjectorError {
    ProjectorError::Corrupt {
        position: error.position,
        reason: error.reason,
    }
}

/// The event ids that `entries` correct or void and that are not among them: their stored
/// entries are needed to take their facts away.
pub fn earlier_targets(entries: &[StoredEntry<'_>]) -> Vec<String> {
    let here: HashSet<&str> = entries
        .iter()
        .map(|entry| entry.event_id.as_ref())
        .collect();
    entries
        .iter()
        .filter_map(|entry| entry.corrects.as_deref())
        .filter(|target| !here.contains(target))
        .map(str::to_owned)
        .collect()
}

/// Adds to `delta` the facts of `entries` (a run in position order) and takes away those of
/// the entries they supersede, found in the run or in `earlier`. A pure function of its
/// arguments: runs may be derived on several threads and their deltas added up.
pub fn derive_batch(
    definitions: &Definitions,
    entries: &[EntryView<'_>],
    earlier: &HashMap<String, Entry>,
    delta: &mut Delta,
) -> Result<BatchFacts, ProjectorError> {
    let mut out = BatchFacts::default();
    // Only the facts of entries that the same run supersedes need keeping.
    let targets: HashSet<&str> = entries.iter().filter_map(|entry| entry.corrects).collect();
    let mut run_facts: HashMap<&str, Vec<Fact>> = HashMap::new();
    for entry in entries {
        let derived = derived(definitions, *entry)?;
        if let Some(target) = &derived.supersedes {
            match run_facts.remove(target.as_str()) {
                Some(gone) => delta.apply(&gone, -1)?,
                None => match earlier.get(target) {
                    Some(earlier) => {
                        delta.apply(&self::derived(definitions, earlier)?.facts, -1)?
                    }
                    None => out.missing.push(target.clone()),
                },
            }
            out.superseded.push((target.clone(), entry.position));
        }
        delta.apply(&derived.facts, 1)?;
        out.span_facts.extend(
            derived
                .facts
                .iter()
                .filter(|fact| !fact.part.is_periodic())
                .cloned(),
        );
        if targets.contains(entry.event_id) {
            run_facts.insert(entry.event_id, derived.facts);
        }
    }
    Ok(out)
}

/// The error for the first event a run supersedes that is neither in the run nor among the
/// earlier entries given: an entry that corrects or voids what the log does not hold.
pub fn missing_target(facts: &BatchFacts) -> Option<ProjectorError> {
    let target = facts.missing.first()?;
    let position = facts
        .superseded
        .iter()
        .find(|(event_id, _)| event_id == target)
        .map(|(_, position)| *position)
        .expect("derive_batch records every event it finds missing as superseded");
    Some(ProjectorError::Corrupt {
        position,
        reason: format!("it supersedes {target}, which is not in the log"),
    })
}

/// Fails unless `positions` are `first`, `first + 1`, … in order, as the log's positions are.
pub fn check_contiguous(
    first: u64,
    positions: impl IntoIterator<Item = u64>,
) -> Result<(), ProjectorError> {
    match (first..)
        .zip(positions)
        .find(|(expected, found)| expected != found)
    {
        Some((expected, found)) => {
            Err(Invariant::PositionsNotContiguous { expected, found }.into())
        }
        None => Ok(()),
    }
}

/// Reads the stored entries (position, text) of a step for the definitions of `state`'s
/// template ([`StoredEntry::parse_for`]).
pub fn read_step<'a>(
    state: &ProjectionState,
    rows: &'a [(u64, String)],
) -> Result<Vec<StoredEntry<'a>>, ProjectorError> {
    let definitions = definitions_of(state)?;
    rows.iter()
        .map(|(position, text)| {
            StoredEntry::parse_for(*position, text, definitions).map_err(stored_error)
        })
        .collect()
}

/// Plans the step over `entries` (in position order from `state.position + 1`, read by
/// [`read_step`] for `state`); `earlier` holds the stored entries they supersede from before
/// the batch.
pub fn plan_step(
    state: &ProjectionState,
    entries: &mut [StoredEntry<'_>],
    earlier: &HashMap<String, Entry>,
) -> Result<StepPlan<Advance>, ProjectorError> {
    check_contiguous(
        state.position + 1,
        entries.iter().map(|entry| entry.position),
    )?;
    let mut state = match after_templates(state, entries.iter().map(StoredEntry::view))? {
        StepPlan::Restart(restart) => return Ok(StepPlan::Restart(restart)),
        StepPlan::Advance(named) => {
            // The log's first entry named the first template: read what its definitions read.
            if named.definitions_sha256 != state.definitions_sha256 {
                for entry in entries.iter_mut() {
                    entry.read_whole_payload().map_err(stored_error)?;
                }
            }
            named
        }
    };
    let views: Vec<EntryView<'_>> = entries.iter().map(StoredEntry::view).collect();
    let mut delta = Delta::default();
    let mut facts = BatchFacts::default();
    if let Some(definitions) = definitions_of(&state)? {
        facts = derive_batch(definitions, &views, earlier, &mut delta)?;
        if let Some(error) = missing_target(&facts) {
            return Err(error);
        }
    }
    if let Some(last) = views.last() {
        state.position = last.position;
    }
    Ok(StepPlan::Advance(Advance {
        delta,
        span_facts: facts.span_facts,
        superseded: facts.superseded,
        state,
    }))
}
