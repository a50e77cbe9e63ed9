//! Prato's autonomy paths: a vulnerable household enrolled after a multidimensional
//! assessment, re-assessed on the same dimensions, reaching milestones, and leaving the path
//! (at best from municipal housing to the private market, which frees the City's cost).
//!
//! Invariant: every score lies in 0..=`ASSESSMENT_SCORE_MAX`; re-assessments score the
//! enrolment's dimensions, in date order; a milestone is reached once; nothing follows the exit.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{check_registered_beneficiary, does_not_fit, inconsistent, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    AssessmentDimension, AssessmentScores, Event, PathEnrolled, PathExited, PathMilestone,
    PathMilestoneReached, PathReassessed, ASSESSMENT_SCORE_MAX,
};
use crate::values::{OccurredAt, StreamId};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PathState {
    #[default]
    NotEnrolled,
    Enrolled(Path),
    Exited {
        path: Path,
        exited: PathExited,
    },
}

/// A path since its enrolment: its assessments and milestones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Path {
    pub enrolled: PathEnrolled,
    /// In date order.
    pub reassessments: Vec<PathReassessed>,
    /// Each milestone with the day it was reached.
    pub milestones: BTreeMap<PathMilestone, NaiveDate>,
}

impl Path {
    fn new(enrolled: PathEnrolled) -> Self {
        Self {
            enrolled,
            reassessments: Vec::new(),
            milestones: BTreeMap::new(),
        }
    }

    /// The most recent scores and their date: the enrolment's or the latest re-assessment's.
    pub fn latest_scores(&self) -> (NaiveDate, &AssessmentScores) {
        match self.reassessments.last() {
            Some(latest) => (latest.reassessed_on, &latest.scores),
            None => (self.enrolled.enrolled_on, &self.enrolled.scores),
        }
    }
}

impl PathState {
    /// The path, enrolled or exited.
    pub fn path(&self) -> Option<&Path> {
        match self {
            PathState::NotEnrolled => None,
            PathState::Enrolled(path) | PathState::Exited { path, .. } => Some(path),
        }
    }

    /// The most recent scores and their date (`Path::latest_scores`). `None` before enrolment.
    pub fn latest_scores(&self) -> Option<(NaiveDate, &AssessmentScores)> {
        self.path().map(Path::latest_scores)
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let asserted = |rule: Result<(), DomainError>| {
            rule.map_err(|error| inconsistent(event, &error.to_string()))
        };
        match (&mut *self, event) {
            (PathState::NotEnrolled, Event::PathEnrolled(enrolled)) => {
                asserted(check_scores(&enrolled.scores))?;
                *self = PathState::Enrolled(Path::new(enrolled.clone()));
            }
            (PathState::Enrolled(path), Event::PathReassessed(reassessed)) => {
                asserted(check_reassessment(path, &reassessed.scores))?;
                asserted(check_after_latest_scores(path, reassessed.reassessed_on))?;
                path.reassessments.push(reassessed.clone());
            }
            (PathState::Enrolled(path), Event::PathMilestoneReached(reached)) => {
                asserted(check_after_enrolment(path, reached.reached_on))?;
                if path
                    .milestones
                    .insert(reached.milestone, reached.reached_on)
                    .is_some()
                {
                    return Err(inconsistent(event, "the milestone was already reached"));
                }
            }
            (PathState::Enrolled(path), Event::PathExited(exited)) => {
                asserted(check_after_enrolment(path, exited.exited_on))?;
                asserted(check_cost_avoided(exited))?;
                *self = PathState::Exited {
                    path: path.clone(),
                    exited: exited.clone(),
                };
            }
            _ => return Err(inconsistent(event, "the path is not open")),
        }
        Ok(())
    }
}

/// Scores: at least one dimension, each within 0..=`ASSESSMENT_SCORE_MAX`.
fn check_scores(scores: &AssessmentScores) -> Result<(), DomainError> {
    if scores.is_empty() {
        return Err(DomainError::FieldEmpty { field: "scores" });
    }
    match scores
        .iter()
        .find(|(_, score)| **score > ASSESSMENT_SCORE_MAX)
    {
        Some((dimension, score)) => Err(DomainError::ScoreOutOfRange {
            dimension: *dimension,
            score: *score,
            max: ASSESSMENT_SCORE_MAX,
        }),
        None => Ok(()),
    }
}

/// A re-assessment scores exactly the enrolment's dimensions, so that each change is measured
/// against a score of the same dimension.
fn check_reassessment(path: &Path, scores: &AssessmentScores) -> Result<(), DomainError> {
    check_scores(scores)?;
    let expected: Vec<AssessmentDimension> = path.enrolled.scores.keys().copied().collect();
    let got: Vec<AssessmentDimension> = scores.keys().copied().collect();
    if expected != got {
        return Err(DomainError::ScoresDimensionsDiffer { expected, got });
    }
    Ok(())
}

fn check_after_latest_scores(path: &Path, date: NaiveDate) -> Result<(), DomainError> {
    let (latest_on, _) = path.latest_scores();
    if date < latest_on {
        return Err(DomainError::DateBeforeLatestChange {
            field: "occurred_at",
            date,
            latest_on,
        });
    }
    Ok(())
}

fn check_after_enrolment(path: &Path, date: NaiveDate) -> Result<(), DomainError> {
    let enrolled = &path.enrolled;
    if date < enrolled.enrolled_on {
        return Err(DomainError::DateBeforeStart {
            field: "occurred_at",
            date,
            start_on: enrolled.enrolled_on,
        });
    }
    Ok(())
}

/// Only leaving a municipal home avoids its monthly cost, and a cost avoided is above zero.
fn check_cost_avoided(exited: &PathExited) -> Result<(), DomainError> {
    match exited.monthly_cost_avoided {
        Some(_) if !exited.from_municipal_housing => {
            Err(DomainError::CostAvoidedWithoutHousingExit)
        }
        Some(cost) if !cost.is_positive() => Err(DomainError::AmountNotPositive {
            field: "monthly_cost_avoided",
        }),
        _ => Ok(()),
    }
}

/// The path, if it is open; else the rule that refuses acting on it.
fn open_path<'a>(path_id: &StreamId, state: &'a PathState) -> Result<&'a Path, DomainError> {
    match state {
        PathState::Enrolled(path) => Ok(path),
        PathState::NotEnrolled => Err(DomainError::UnknownPath {
            path_id: path_id.clone(),
        }),
        PathState::Exited { .. } => Err(DomainError::PathExited {
            path_id: path_id.clone(),
        }),
    }
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &PathState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let date = at.local_date();
    match command {
        Command::EnrolInPath {
            path_id,
            beneficiary_id,
            scores,
        } => {
            if *state != PathState::NotEnrolled {
                return Err(DomainError::PathAlreadyEnrolled {
                    path_id: path_id.clone(),
                });
            }
            check_registered_beneficiary(context, beneficiary_id)?;
            check_scores(scores)?;
            Ok(Event::PathEnrolled(PathEnrolled {
                beneficiary_id: beneficiary_id.clone(),
                scores: scores.clone(),
                enrolled_on: date,
            }))
        }
        Command::ReassessPath { path_id, scores } => {
            let path = open_path(path_id, state)?;
            check_reassessment(path, scores)?;
            check_after_latest_scores(path, date)?;
            Ok(Event::PathReassessed(PathReassessed {
                scores: scores.clone(),
                reassessed_on: date,
            }))
        }
        Command::RecordPathMilestone { path_id, milestone } => {
            let path = open_path(path_id, state)?;
            if path.milestones.contains_key(milestone) {
                return Err(DomainError::PathMilestoneAlreadyReached {
                    milestone: *milestone,
                });
            }
            check_after_enrolment(path, date)?;
            Ok(Event::PathMilestoneReached(PathMilestoneReached {
                milestone: *milestone,
                reached_on: date,
            }))
        }
        Command::ExitPath {
            path_id,
            reason,
            from_municipal_housing,
            monthly_cost_avoided,
        } => {
            let path = open_path(path_id, state)?;
            let exited = PathExited {
                reason: *reason,
                from_municipal_housing: *from_municipal_housing,
                monthly_cost_avoided: *monthly_cost_avoided,
                exited_on: date,
            };
            check_cost_avoided(&exited)?;
            check_after_enrolment(path, date)?;
            Ok(Event::PathExited(exited))
        }
        other => Err(does_not_fit(other)),
    }
}
