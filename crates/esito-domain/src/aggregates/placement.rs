//! Torino's placements: a household in temporary accommodation paid by the City (a hotel, most
//! often), from its first night to its rehousing, the outcome whose savings earn the premium,
//! or to an end without one.
//!
//! Invariant: a placement starts once, at a cost above zero, and closes once (rehoused or
//! ended) on or after its first night; nothing follows its close.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{check_registered_beneficiary, does_not_fit, inconsistent, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{Event, HouseholdRehoused, PlacementEnded, PlacementStarted};
use crate::values::{OccurredAt, StreamId};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PlacementState {
    #[default]
    NotStarted,
    Active {
        started: PlacementStarted,
    },
    /// Closed without a home.
    Ended {
        started: PlacementStarted,
        ended: PlacementEnded,
    },
    Rehoused {
        started: PlacementStarted,
        rehoused: HouseholdRehoused,
    },
}

impl PlacementState {
    /// The placement's start, if it started.
    pub fn started(&self) -> Option<&PlacementStarted> {
        match self {
            PlacementState::NotStarted => None,
            PlacementState::Active { started }
            | PlacementState::Ended { started, .. }
            | PlacementState::Rehoused { started, .. } => Some(started),
        }
    }

    /// The day the household left the accommodation, rehoused or not.
    pub fn closed_on(&self) -> Option<NaiveDate> {
        match self {
            PlacementState::Ended { ended, .. } => Some(ended.ended_on),
            PlacementState::Rehoused { rehoused, .. } => Some(rehoused.rehoused_on),
            PlacementState::NotStarted | PlacementState::Active { .. } => None,
        }
    }

    /// Nights paid by the City from the first night up to, not including, `until` (or the
    /// day it closed, if earlier): what the `savings` indicators multiply by the nightly cost.
    pub fn nights_until(&self, until: NaiveDate) -> i64 {
        let Some(started) = self.started() else {
            return 0;
        };
        let end = self.closed_on().map_or(until, |closed| closed.min(until));
        (end - started.started_on).num_days().max(0)
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let next = match (&*self, event) {
            (PlacementState::NotStarted, Event::PlacementStarted(started)) => {
                if !started.nightly_cost.is_positive() {
                    return Err(inconsistent(event, "a nightly cost of zero"));
                }
                PlacementState::Active {
                    started: started.clone(),
                }
            }
            (PlacementState::Active { started }, Event::PlacementEnded(ended)) => {
                check_not_before_start(event, started, ended.ended_on)?;
                PlacementState::Ended {
                    started: started.clone(),
                    ended: ended.clone(),
                }
            }
            (PlacementState::Active { started }, Event::HouseholdRehoused(rehoused)) => {
                check_not_before_start(event, started, rehoused.rehoused_on)?;
                PlacementState::Rehoused {
                    started: started.clone(),
                    rehoused: rehoused.clone(),
                }
            }
            _ => return Err(inconsistent(event, "the placement is not active")),
        };
        *self = next;
        Ok(())
    }
}

fn check_not_before_start(
    event: &Event,
    started: &PlacementStarted,
    date: NaiveDate,
) -> Result<(), DomainError> {
    if date < started.started_on {
        return Err(inconsistent(event, "dated before the placement started"));
    }
    Ok(())
}

/// The placement's start, if it is active; else the rule that refuses acting on it.
fn active<'a>(
    placement_id: &StreamId,
    state: &'a PlacementState,
) -> Result<&'a PlacementStarted, DomainError> {
    match state {
        PlacementState::Active { started } => Ok(started),
        PlacementState::NotStarted => Err(DomainError::UnknownPlacement {
            placement_id: placement_id.clone(),
        }),
        PlacementState::Ended { .. } => Err(DomainError::PlacementEnded {
            placement_id: placement_id.clone(),
        }),
        PlacementState::Rehoused { .. } => Err(DomainError::HouseholdAlreadyRehoused {
            placement_id: placement_id.clone(),
        }),
    }
}

/// The close of a placement is dated from `occurred_at`, and a late record may carry a date
/// before the first night: refuse it rather than count negative nights.
fn closing_date(started: &PlacementStarted, at: OccurredAt) -> Result<NaiveDate, DomainError> {
    let date = at.local_date();
    if date < started.started_on {
        return Err(DomainError::DateBeforeStart {
            field: "occurred_at",
            date,
            start_on: started.started_on,
        });
    }
    Ok(date)
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &PlacementState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::StartPlacement {
            placement_id,
            beneficiary_id,
            accommodation,
            nightly_cost,
        } => {
            if *state != PlacementState::NotStarted {
                return Err(DomainError::PlacementAlreadyStarted {
                    placement_id: placement_id.clone(),
                });
            }
            check_registered_beneficiary(context, beneficiary_id)?;
            if !nightly_cost.is_positive() {
                return Err(DomainError::AmountNotPositive {
                    field: "nightly_cost",
                });
            }
            Ok(Event::PlacementStarted(PlacementStarted {
                beneficiary_id: beneficiary_id.clone(),
                accommodation: *accommodation,
                nightly_cost: *nightly_cost,
                started_on: at.local_date(),
            }))
        }
        Command::EndPlacement {
            placement_id,
            reason,
        } => {
            let started = active(placement_id, state)?;
            Ok(Event::PlacementEnded(PlacementEnded {
                reason: *reason,
                ended_on: closing_date(started, at)?,
            }))
        }
        Command::RehouseHousehold {
            placement_id,
            housing,
        } => {
            let started = active(placement_id, state)?;
            Ok(Event::HouseholdRehoused(HouseholdRehoused {
                housing: *housing,
                rehoused_on: closing_date(started, at)?,
            }))
        }
        other => Err(does_not_fit(other)),
    }
}
