//! Which definitions a contract's rows are derived with: the text its log last recorded, or,
//! for a log that names a template without its text, that template's file built into this
//! binary.
//!
//! Invariant: the rows are those of one template's definitions, derived from position 1;
//! when the template or the definitions change, the projection restarts from position 1.

use esito_indicators::templates::{built_in, definitions_named, definitions_of_entry, recorded};
use esito_indicators::{Definitions, EntryView};

use crate::ProjectorError;

/// How far a contract's log has been projected, and with which definitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectionState {
    pub position: u64,
    pub template: Option<String>,
    /// The position of the entry that named `template`.
    pub template_named_at: u64,
    pub definitions_sha256: Option<String>,
}

/// Going on (with `T`), or a restart from the beginning with other definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepPlan<T> {
    Advance(T),
    Restart(ProjectionState),
}

/// The definitions the rows of `state` are derived with: the text its log recorded (parsed
/// when the projector read the entry, or after the store primed it with [`needs_text`]); for a
/// log that names a template without its text, the file built into this binary; none for no
/// template, or one with no file under `projections/`.
pub fn definitions_of(
    state: &ProjectionState,
) -> Result<Option<&'static Definitions>, ProjectorError> {
    if let Some(definitions) = state.definitions_sha256.as_deref().and_then(recorded) {
        return Ok(Some(definitions));
    }
    match state.template.as_deref().and_then(built_in) {
        None => Ok(None),
        Some(Ok(definitions)) => Ok(Some(definitions)),
        Some(Err(error)) => Err(ProjectorError::Definitions(error.to_string())),
    }
}

/// The position of the entry whose recorded text the store must read (and hand to
/// [`prime`]) before the rows of `state` can be derived: the rows were derived with a text this
/// process has not parsed yet, and that is no built-in file.
pub fn needs_text(state: &ProjectionState) -> Option<u64> {
    let sha = state.definitions_sha256.as_deref()?;
    if recorded(sha).is_some() || state.template_named_at == 0 {
        return None;
    }
    let built_in_sha = state
        .template
        .as_deref()
        .and_then(built_in)
        .and_then(Result::ok)
        .map(|definitions| definitions.sha256.as_str());
    (built_in_sha != Some(sha)).then_some(state.template_named_at)
}

/// Parses the definitions the entry at [`needs_text`]'s position records, so that
/// [`definitions_of`] finds them.
pub fn prime(entry: EntryView<'_>) -> Result<(), ProjectorError> {
    if let Some(named) = definitions_named(entry) {
        if named.text.is_some() {
            definitions_of_entry(named)
                .transpose()
                .map_err(|error| ProjectorError::Definitions(error.to_string()))?;
        }
    }
    Ok(())
}

/// The state to restart from when the definitions this binary holds differ from those the
/// rows were derived with (a built-in file changed under a log that names only its template).
pub fn restart_for_definitions(
    state: &ProjectionState,
) -> Result<Option<ProjectionState>, ProjectorError> {
    let definitions = definitions_of(state)?;
    let sha = definitions.map(|definitions| definitions.sha256.clone());
    if sha == state.definitions_sha256 {
        return Ok(None);
    }
    Ok(Some(ProjectionState {
        position: 0,
        definitions_sha256: sha,
        ..state.clone()
    }))
}

/// The state after the definitions that `entries` (in position order after `state.position`)
/// record: the log's first entry names the first definitions, which then apply from it; any
/// other change of definitions restarts the projection from position 1 with the new ones.
pub fn after_templates<'a>(
    state: &ProjectionState,
    entries: impl IntoIterator<Item = EntryView<'a>>,
) -> Result<StepPlan<ProjectionState>, ProjectorError> {
    let mut state = state.clone();
    for entry in entries {
        let Some(named) = definitions_named(entry) else {
            continue;
        };
        if entry.position <= state.template_named_at {
            continue;
        }
        let definitions_sha256 = definitions_of_entry(named)
            .transpose()
            .map_err(|error| ProjectorError::Definitions(error.to_string()))?
            .map(|definitions| definitions.sha256.clone());
        if state.template.as_deref() == Some(named.template)
            && state.definitions_sha256 == definitions_sha256
        {
            continue;
        }
        let named = ProjectionState {
            position: 0,
            template: Some(named.template.to_owned()),
            template_named_at: entry.position,
            definitions_sha256,
        };
        if state.position == 0 && entry.position == 1 {
            state = named;
        } else {
            return Ok(StepPlan::Restart(named));
        }
    }
    Ok(StepPlan::Advance(state))
}
