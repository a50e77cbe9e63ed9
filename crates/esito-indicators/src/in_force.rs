//! Which definitions a period is computed with, when a contract's definitions were amended.
//!
//! The registration names the first definitions, in force from the start; an amendment of kind
//! `template` names others from its `effective_on`. As for the terms, a period is computed
//! with the definitions in force on its last day: of the entries up to the position asked
//! about that name definitions, the last in log order whose effective date is on or before
//! that day.
//!
//! Invariants: an amendment changes no value of a period that ends before its effective date,
//! and no value as of a position before its own; asked as of the same position, every reader
//! (the store's projection, the offline computation) chooses the same definitions.

use chrono::NaiveDate;
use serde_json::Value;

use crate::definitions::{DefinitionError, Definitions};
use crate::facts::EntryView;
use crate::period::Period;
use crate::templates::{definitions_named, definitions_of_entry};

/// An entry that names definitions: where it is, from when they apply, and what they are.
#[derive(Debug, Clone, Copy)]
pub struct Naming {
    pub position: u64,
    /// `None` for the registration: from the start.
    pub effective_on: Option<NaiveDate>,
    pub definitions: &'static Definitions,
}

/// Why an entry's definitions cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NamingError {
    #[error("position {position}: the recorded definitions: {error}")]
    Definitions {
        position: u64,
        error: DefinitionError,
    },
    #[error("position {position}: the entry names template `{template}` without its text, and this binary has no such file")]
    NoText { position: u64, template: String },
    #[error("position {position}: the amendment has no readable `effective_on`")]
    NoEffectiveDate { position: u64 },
}

impl NamingError {
    pub fn position(&self) -> u64 {
        match self {
            NamingError::Definitions { position, .. }
            | NamingError::NoText { position, .. }
            | NamingError::NoEffectiveDate { position } => *position,
        }
    }
}

/// The definitions `entry` names, if it names any.
pub fn naming(entry: EntryView<'_>) -> Option<Result<Naming, NamingError>> {
    let named = definitions_named(entry)?;
    let position = entry.position;
    let effective_on = match entry.event_type {
        "ContractAmended" => match entry
            .payload
            .get("effective_on")
            .and_then(Value::as_str)
            .and_then(|text| text.parse().ok())
        {
            Some(date) => Some(date),
            None => return Some(Err(NamingError::NoEffectiveDate { position })),
        },
        _ => None,
    };
    Some(match definitions_of_entry(named) {
        Some(Ok(definitions)) => Ok(Naming {
            position,
            effective_on,
            definitions,
        }),
        Some(Err(error)) => Err(NamingError::Definitions { position, error }),
        None => Err(NamingError::NoText {
            position,
            template: named.template.to_owned(),
        }),
    })
}

/// The namings of a log, gathered entry by entry in position order.
#[derive(Debug, Clone, Default)]
pub struct Namings(Vec<Naming>);

impl Namings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `entry`, keeping the definitions it names.
    pub fn read(&mut self, entry: EntryView<'_>) -> Result<(), NamingError> {
        if let Some(naming) = naming(entry) {
            self.0.push(naming?);
        }
        Ok(())
    }

    /// The definitions in force for `period` as of `as_of`: see the module's rule. `None`
    /// before the registration.
    pub fn in_force(&self, period: Period, as_of: u64) -> Option<&'static Definitions> {
        self.in_force_until(period.end_on(), as_of)
    }

    /// The definitions in force for a range of days that ends before `end_on` (its last day
    /// is the one before), as of `as_of`.
    pub fn in_force_until(&self, end_on: NaiveDate, as_of: u64) -> Option<&'static Definitions> {
        let last_day = end_on.pred_opt().expect("a range ends after a first day");
        self.0
            .iter()
            .filter(|naming| naming.position <= as_of)
            .rfind(|naming| naming.effective_on.is_none_or(|from| from <= last_day))
            .map(|naming| naming.definitions)
    }

    /// The definitions in force for any period as of `as_of`, each once, in the order met.
    pub fn all(&self, as_of: u64) -> Vec<&'static Definitions> {
        let mut all: Vec<&'static Definitions> = Vec::new();
        for naming in self.0.iter().filter(|naming| naming.position <= as_of) {
            if !all
                .iter()
                .any(|known| known.sha256 == naming.definitions.sha256)
            {
                all.push(naming.definitions);
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry<'a>(position: u64, event_type: &'a str, payload: &'a Value) -> EntryView<'a> {
        EntryView {
            position,
            event_id: "e",
            event_type,
            stream_id: "c",
            occurred_at: "2024-01-01T10:00:00+01:00",
            corrects: None,
            payload,
        }
    }

    fn namings() -> Namings {
        let registration = json!({ "template": "cuneo" });
        let to_torino = json!({ "effective_on": "2024-04-01", "changes": [{ "kind": "template", "template": "torino" }] });
        let to_prato = json!({ "effective_on": "2024-02-15", "changes": [{ "kind": "template", "template": "prato" }] });
        let mut namings = Namings::new();
        namings
            .read(entry(1, "ContractRegistered", &registration))
            .expect("cuneo");
        namings
            .read(entry(10, "ContractAmended", &to_torino))
            .expect("torino");
        namings
            .read(entry(20, "ContractAmended", &to_prato))
            .expect("prato");
        namings
    }

    fn template(namings: &Namings, period: &str, as_of: u64) -> String {
        namings
            .in_force(period.parse().expect("a period"), as_of)
            .expect("definitions in force")
            .template
            .clone()
    }

    #[test]
    fn a_period_is_computed_with_the_definitions_in_force_on_its_last_day() {
        let namings = namings();
        // Before either amendment's position, the registration's, whatever the period.
        assert_eq!(template(&namings, "2024-Q2", 9), "cuneo");
        // As of 10: torino from 2024-04-01 on, cuneo before.
        assert_eq!(template(&namings, "2024-Q1", 10), "cuneo");
        assert_eq!(template(&namings, "2024-Q2", 10), "torino");
        // As of 20: prato from 2024-02-15, the later amendment in log order winning where both
        // are in force; the day before it, cuneo still.
        assert_eq!(template(&namings, "2024-01", 20), "cuneo");
        assert_eq!(template(&namings, "2024-02", 20), "prato");
        assert_eq!(template(&namings, "2024-Q2", 20), "prato");
        assert_eq!(namings.all(20).len(), 3);
        assert_eq!(namings.all(9).len(), 1);
    }

    #[test]
    fn nothing_is_in_force_before_the_registration() {
        assert!(Namings::new()
            .in_force("2024".parse().expect("a period"), 5)
            .is_none());
    }

    #[test]
    fn an_amendment_without_its_effective_date_is_unreadable() {
        let amendment = json!({ "changes": [{ "kind": "template", "template": "torino" }] });
        let error = Namings::new()
            .read(entry(3, "ContractAmended", &amendment))
            .expect_err("no date");
        assert_eq!(error, NamingError::NoEffectiveDate { position: 3 });
    }
}
