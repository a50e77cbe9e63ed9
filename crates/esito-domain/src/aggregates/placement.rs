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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementStatus {
    #[default]
    NotStarted,
    Active,
    Ended,
    Rehoused,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementState {
    pub status: PlacementStatus,
    pub started: Option<PlacementStarted>,
    pub ended: Option<PlacementEnded>,
    pub rehoused: Option<HouseholdRehoused>,
}

impl PlacementState {
    /// The day the household left the accommodation, rehoused or not.
    pub fn closed_on(&self) -> Option<NaiveDate> {
        match (&self.ended, &self.rehoused) {
            (Some(ended), _) => Some(ended.ended_on),
            (_, Some(rehoused)) => Some(rehoused.rehoused_on),
            _ => None,
        }
    }

    /// Nights paid by the City from the first night up to, not including, `until` (or the
    /// day it closed, if earlier): what the `savings` indicators multiply by the nightly cost.
    pub fn nights_until(&self, until: NaiveDate) -> i64 {
        let Some(started) = &self.started else {
            return 0;
        };
        let end = self.closed_on().map_or(until, |closed| closed.min(until));
        (end - started.started_on).num_days().max(0)
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        use PlacementStatus as S;
        self.status = match (self.status, event) {
            (S::NotStarted, Event::PlacementStarted(started)) => {
                if !started.nightly_cost.is_positive() {
                    return Err(inconsistent(event, "a nightly cost of zero"));
                }
                self.started = Some(started.clone());
                S::Active
            }
            (S::Active, Event::PlacementEnded(ended)) => {
                self.check_not_before_start(event, ended.ended_on)?;
                self.ended = Some(ended.clone());
                S::Ended
            }
            (S::Active, Event::HouseholdRehoused(rehoused)) => {
                self.check_not_before_start(event, rehoused.rehoused_on)?;
                self.rehoused = Some(rehoused.clone());
                S::Rehoused
            }
            _ => return Err(inconsistent(event, "the placement is not active")),
        };
        Ok(())
    }

    fn check_not_before_start(&self, event: &Event, date: NaiveDate) -> Result<(), DomainError> {
        let started = self.started.as_ref().expect("an active placement started");
        if date < started.started_on {
            return Err(inconsistent(event, "dated before the placement started"));
        }
        Ok(())
    }
}

/// The placement's start, if it is active; else the rule that refuses acting on it.
fn active<'a>(
    placement_id: &StreamId,
    state: &'a PlacementState,
) -> Result<&'a PlacementStarted, DomainError> {
    match state.status {
        PlacementStatus::Active => Ok(state.started.as_ref().expect("an active placement started")),
        PlacementStatus::NotStarted => Err(DomainError::UnknownPlacement {
            placement_id: placement_id.clone(),
        }),
        PlacementStatus::Ended => Err(DomainError::PlacementEnded {
            placement_id: placement_id.clone(),
        }),
        PlacementStatus::Rehoused => Err(DomainError::HouseholdAlreadyRehoused {
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
            if state.status != PlacementStatus::NotStarted {
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
