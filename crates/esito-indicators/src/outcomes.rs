//! The outcomes a definitions file declares (`[[outcome]]`), which `OutcomeRecorded` names and
//! indicators select by `where = { outcome = ... }`.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::definitions::{invalid, DefinitionError, Indicator, Labels};

/// An outcome the contract records with `record-outcome` (`OutcomeRecorded`): its id, which
/// the event's `outcome` names, and its label.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub id: String,
    pub label: Labels,
}

/// The declared outcomes: ids as indicator ids are written, none twice.
pub(crate) fn check_outcomes(outcomes: Vec<Outcome>) -> Result<Vec<Outcome>, DefinitionError> {
    let mut seen = BTreeSet::new();
    for outcome in &outcomes {
        let id = &outcome.id;
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid_outcome(
                id,
                "use lower-case letters, digits and `_`",
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(invalid_outcome(id, "declared twice in the same file"));
        }
    }
    Ok(outcomes)
}

fn invalid_outcome(id: &str, reason: &str) -> DefinitionError {
    DefinitionError::Invalid {
        indicator: format!("outcome {id}"),
        field: "id".to_owned(),
        reason: reason.to_owned(),
    }
}

/// An indicator that selects `OutcomeRecorded` by its `outcome` names declared outcomes only.
pub(crate) fn check_outcomes_selected(
    indicator: &Indicator,
    outcomes: &[Outcome],
) -> Result<(), DefinitionError> {
    for (selection, _) in indicator.selections() {
        if !selection.events.contains("OutcomeRecorded") {
            continue;
        }
        for (path, values) in &selection.filters {
            if path.as_slice() != ["outcome"] {
                continue;
            }
            if let Some(undeclared) = values
                .iter()
                .find(|value| !outcomes.iter().any(|outcome| &outcome.id == *value))
            {
                return Err(invalid(
                    &indicator.id,
                    "where.outcome",
                    format!("`{undeclared}` is not an outcome the file declares"),
                ));
            }
        }
    }
    Ok(())
}
