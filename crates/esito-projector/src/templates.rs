//! Which definitions a contract's rows are derived with: those of the template last named in
//! its log, as built into this binary.
//!
//! Invariant: the rows are those of one template's definitions, derived from position 1;
//! when the template or the definitions change, the projection restarts from position 1.

use esito_indicators::templates::{built_in, template_named};
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

/// The definitions built into this binary for `template`; none for no template, or one with
/// no file under `projections/`.
pub fn definitions_of(
    template: Option<&str>,
) -> Result<Option<&'static Definitions>, ProjectorError> {
    match template.and_then(built_in) {
        None => Ok(None),
        Some(Ok(definitions)) => Ok(Some(definitions)),
        Some(Err(error)) => Err(ProjectorError::Definitions(error.to_string())),
    }
}

/// The state to restart from when the definitions this binary holds differ from those the
/// rows were derived with.
pub fn restart_for_definitions(
    state: &ProjectionState,
) -> Result<Option<ProjectionState>, ProjectorError> {
    let definitions = definitions_of(state.template.as_deref())?;
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

/// The state after the templates that `entries` (in position order after `state.position`)
/// name: the log's first entry may name the first template, which then applies from it;
/// any other change of template restarts the projection from position 1 with the new one.
pub fn after_templates<'a>(
    state: &ProjectionState,
    entries: impl IntoIterator<Item = EntryView<'a>>,
) -> Result<StepPlan<ProjectionState>, ProjectorError> {
    let mut state = state.clone();
    for entry in entries {
        let Some(named) = template_named(entry) else {
            continue;
        };
        if entry.position <= state.template_named_at
            || state.template.as_deref() == Some(named.as_str())
        {
            continue;
        }
        let definitions_sha256 =
            definitions_of(Some(&named))?.map(|definitions| definitions.sha256.clone());
        let named = ProjectionState {
            position: 0,
            template: Some(named),
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
