//! Cuneo's units: a flat lent to the programme, made available once, which tenancies occupy.
//!
//! Invariant: a unit is made available once.

use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{Event, UnitMadeAvailable};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum UnitState {
    #[default]
    NotAvailable,
    Available {
        available: UnitMadeAvailable,
    },
}

impl UnitState {
    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        match (&*self, event) {
            (UnitState::NotAvailable, Event::UnitMadeAvailable(available)) => {
                *self = UnitState::Available {
                    available: available.clone(),
                };
                Ok(())
            }
            (_, event) => Err(inconsistent(
                event,
                "the stream already holds it or cannot hold it",
            )),
        }
    }
}

pub(super) fn decide(command: &Command, state: &UnitState) -> Result<Event, DomainError> {
    match command {
        Command::MakeUnitAvailable {
            unit_id,
            label,
            lent_by,
        } => {
            if let UnitState::Available { .. } = state {
                return Err(DomainError::UnitAlreadyAvailable {
                    unit_id: unit_id.clone(),
                });
            }
            non_empty("label", label)?;
            non_empty("lent_by", lent_by)?;
            Ok(Event::UnitMadeAvailable(UnitMadeAvailable {
                label: label.clone(),
                lent_by: lent_by.clone(),
            }))
        }
        other => Err(does_not_fit(other)),
    }
}
