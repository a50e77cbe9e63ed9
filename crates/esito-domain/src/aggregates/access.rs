//! Cuneo's accesses to the services centre: one contact (in person, by phone, …) with its need
//! and its outcome, of a registered beneficiary or of someone not registered.
//!
//! Invariant: an access is recorded once, and a beneficiary it names is registered.

use serde::{Deserialize, Serialize};

use super::DecisionContext;
use super::{check_registered_beneficiary, does_not_fit, inconsistent, non_empty};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{AccessOutcome, AccessRecorded, Event};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum AccessState {
    #[default]
    NotRecorded,
    Recorded {
        recorded: AccessRecorded,
    },
}

impl AccessState {
    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        match (&*self, event) {
            (AccessState::NotRecorded, Event::AccessRecorded(recorded)) => {
                *self = AccessState::Recorded {
                    recorded: recorded.clone(),
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

pub(super) fn decide(
    command: &Command,
    state: &AccessState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::RecordAccess {
            access_id,
            beneficiary_id,
            channel,
            need,
            outcome,
        } => {
            if let AccessState::Recorded { .. } = state {
                return Err(DomainError::AccessAlreadyRecorded {
                    access_id: access_id.clone(),
                });
            }
            if let Some(beneficiary_id) = beneficiary_id {
                check_registered_beneficiary(context, beneficiary_id)?;
            }
            if let AccessOutcome::Referred { service } = outcome {
                non_empty("outcome.service", service)?;
            }
            Ok(Event::AccessRecorded(AccessRecorded {
                beneficiary_id: beneficiary_id.clone(),
                channel: *channel,
                need: *need,
                outcome: outcome.clone(),
            }))
        }
        other => Err(does_not_fit(other)),
    }
}
