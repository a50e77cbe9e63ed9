//! The settlements of a contract (docs/design.md §5): each period's calculated, validated by
//! the evaluator, approved by the payer, paid; all periods in one stream, because their order
//! is a rule.
//!
//! Invariants (`decide` checks them, `evolve` asserts them again):
//! - periods are settled in order, each starting the day the one before ended, and the next is
//!   calculated only once the one before is approved: so the figures a calculation carries
//!   forward (what was paid, each beneficiary's count, the funder's account) are final;
//! - a period is calculated again only before it is approved; each calculation is as of a log
//!   position no earlier than the one before;
//! - validation and approval name the calculation they act on (its `as_of`), so neither applies
//!   to figures its author did not see;
//! - calculated → validated → approved → paid, each step once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    Event, SettlementApproved, SettlementCalculated, SettlementPaid, SettlementValidated,
};
use crate::values::OccurredAt;

/// Length of a SHA-256 written in hex.
const SHA256_HEX_LENGTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementStatus {
    Calculated,
    Validated,
    Approved,
    Paid,
}

impl SettlementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementStatus::Calculated => "calculated",
            SettlementStatus::Validated => "validated",
            SettlementStatus::Approved => "approved",
            SettlementStatus::Paid => "paid",
        }
    }

    /// Approved or paid: the figures are final.
    pub fn is_approved(self) -> bool {
        matches!(self, SettlementStatus::Approved | SettlementStatus::Paid)
    }
}

/// One period's settlement: the calculation in force and how far it has gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSettlement {
    /// The latest calculation of the period: the one in force.
    pub calculated: SettlementCalculated,
    /// How many times the period was calculated.
    pub calculations: u32,
    pub status: SettlementStatus,
    pub validated: Option<SettlementValidated>,
    pub paid: Option<SettlementPaid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementState {
    /// One per period settled, in period order.
    pub periods: Vec<PeriodSettlement>,
}

impl SettlementState {
    /// The settlement of the period with this label.
    pub fn period(&self, period: &str) -> Option<&PeriodSettlement> {
        self.periods
            .iter()
            .find(|settlement| settlement.calculated.period == period)
    }

    /// The settlement of the latest period settled.
    pub fn latest(&self) -> Option<&PeriodSettlement> {
        self.periods.last()
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let asserted = |rule: Result<(), DomainError>| {
            rule.map_err(|error| inconsistent(event, &error.to_string()))
        };
        match event {
            Event::SettlementCalculated(calculated) => {
                asserted(check_calculation(
                    self,
                    &calculated.period,
                    calculated.period_start_on,
                    calculated.as_of,
                ))?;
                match self.periods.last_mut() {
                    Some(latest) if latest.calculated.period == calculated.period => {
                        latest.calculated = calculated.clone();
                        latest.calculations += 1;
                        latest.status = SettlementStatus::Calculated;
                        latest.validated = None;
                    }
                    _ => self.periods.push(PeriodSettlement {
                        calculated: calculated.clone(),
                        calculations: 1,
                        status: SettlementStatus::Calculated,
                        validated: None,
                        paid: None,
                    }),
                }
            }
            Event::SettlementValidated(validated) => {
                asserted(check_validation(self, &validated.period, validated.as_of))?;
                let settlement = self.period_mut(&validated.period);
                settlement.status = SettlementStatus::Validated;
                settlement.validated = Some(validated.clone());
            }
            Event::SettlementApproved(approved) => {
                asserted(check_approval(self, &approved.period, approved.as_of))?;
                self.period_mut(&approved.period).status = SettlementStatus::Approved;
            }
            Event::SettlementPaid(paid) => {
                asserted(check_payment(self, &paid.period))?;
                let settlement = self.period_mut(&paid.period);
                settlement.status = SettlementStatus::Paid;
                settlement.paid = Some(paid.clone());
            }
            _ => {
                return Err(inconsistent(
                    event,
                    "the stream already holds it or cannot hold it",
                ))
            }
        }
        Ok(())
    }

    fn period_mut(&mut self, period: &str) -> &mut PeriodSettlement {
        self.periods
            .iter_mut()
            .find(|settlement| settlement.calculated.period == period)
            .expect("checked: the period has a settlement")
    }
}

/// The rules between a new calculation and the settlements before it.
fn check_calculation(
    state: &SettlementState,
    period: &str,
    start_on: NaiveDate,
    as_of: u64,
) -> Result<(), DomainError> {
    let Some(latest) = state.latest() else {
        return Ok(());
    };
    if as_of < latest.calculated.as_of {
        return Err(DomainError::SettlementAsOfGoesBack {
            as_of,
            earlier_as_of: latest.calculated.as_of,
        });
    }
    if latest.calculated.period == period {
        return if latest.status.is_approved() {
            Err(DomainError::SettlementAlreadyApproved {
                period: period.to_owned(),
            })
        } else {
            Ok(())
        };
    }
    if start_on != latest.calculated.period_end_on {
        // An earlier period, approved or not, is never calculated again once a later one is.
        if let Some(earlier) = state.period(period) {
            return Err(DomainError::SettlementAlreadyApproved {
                period: earlier.calculated.period.clone(),
            });
        }
        return Err(DomainError::SettlementPeriodOutOfOrder {
            period: period.to_owned(),
            start_on,
            expected_start_on: latest.calculated.period_end_on,
        });
    }
    if !latest.status.is_approved() {
        return Err(DomainError::PreviousSettlementNotApproved {
            previous: latest.calculated.period.clone(),
        });
    }
    Ok(())
}

fn settlement_of<'a>(
    state: &'a SettlementState,
    period: &str,
) -> Result<&'a PeriodSettlement, DomainError> {
    state
        .period(period)
        .ok_or_else(|| DomainError::SettlementNotCalculated {
            period: period.to_owned(),
        })
}

fn check_names_the_calculation(
    settlement: &PeriodSettlement,
    as_of: u64,
) -> Result<(), DomainError> {
    if settlement.calculated.as_of != as_of {
        return Err(DomainError::SettlementRecalculated {
            period: settlement.calculated.period.clone(),
            as_of,
            current_as_of: settlement.calculated.as_of,
        });
    }
    Ok(())
}

fn check_validation(state: &SettlementState, period: &str, as_of: u64) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    let period = period.to_owned();
    match settlement.status {
        SettlementStatus::Calculated => check_names_the_calculation(settlement, as_of),
        SettlementStatus::Validated => Err(DomainError::SettlementAlreadyValidated { period }),
        SettlementStatus::Approved | SettlementStatus::Paid => {
            Err(DomainError::SettlementAlreadyApproved { period })
        }
    }
}

fn check_approval(state: &SettlementState, period: &str, as_of: u64) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    let period = period.to_owned();
    match settlement.status {
        SettlementStatus::Calculated => Err(DomainError::SettlementNotValidated { period }),
        SettlementStatus::Validated => check_names_the_calculation(settlement, as_of),
        SettlementStatus::Approved | SettlementStatus::Paid => {
            Err(DomainError::SettlementAlreadyApproved { period })
        }
    }
}

fn check_payment(state: &SettlementState, period: &str) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    let period = period.to_owned();
    match settlement.status {
        SettlementStatus::Calculated | SettlementStatus::Validated => {
            Err(DomainError::SettlementNotApproved { period })
        }
        SettlementStatus::Approved => Ok(()),
        SettlementStatus::Paid => Err(DomainError::SettlementAlreadyPaid { period }),
    }
}

fn check_sha256(field: &'static str, value: &str) -> Result<(), DomainError> {
    let well_formed = value.len() == SHA256_HEX_LENGTH
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if well_formed {
        Ok(())
    } else {
        Err(DomainError::HashMalformed {
            field,
            value: value.to_owned(),
        })
    }
}

/// The document must say what the command says it was computed from.
fn check_document(calculated: &SettlementCalculated) -> Result<(), DomainError> {
    let document = &calculated.document;
    let agrees = |field: &'static str, expected: serde_json::Value| {
        if document.get(field) == Some(&expected) {
            Ok(())
        } else {
            Err(DomainError::SettlementDocumentDisagrees { field })
        }
    };
    agrees("period", serde_json::json!(calculated.period))?;
    agrees(
        "period_start_on",
        serde_json::json!(calculated.period_start_on),
    )?;
    agrees("period_end_on", serde_json::json!(calculated.period_end_on))?;
    agrees("as_of", serde_json::json!(calculated.as_of))?;
    agrees("root_hash", serde_json::json!(calculated.root_hash))?;
    agrees(
        "final_settlement",
        serde_json::json!(calculated.final_settlement),
    )
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &SettlementState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::CalculateSettlement {
            period,
            period_start_on,
            period_end_on,
            as_of,
            root_hash,
            checkpoint,
            template,
            definitions_sha256,
            terms_sha256,
            final_settlement,
            document,
        } => {
            let calculated = SettlementCalculated {
                period: period.clone(),
                period_start_on: *period_start_on,
                period_end_on: *period_end_on,
                as_of: *as_of,
                root_hash: root_hash.clone(),
                checkpoint: checkpoint.clone(),
                template: template.clone(),
                definitions_sha256: definitions_sha256.clone(),
                terms_sha256: terms_sha256.clone(),
                final_settlement: *final_settlement,
                document: document.clone(),
            };
            non_empty("template", template)?;
            check_sha256("root_hash", root_hash)?;
            check_sha256("definitions_sha256", definitions_sha256)?;
            check_sha256("terms_sha256", terms_sha256)?;
            check_document(&calculated)?;
            check_period_of_the_contract(&calculated, context)?;
            if at.local_date() < *period_end_on {
                return Err(DomainError::SettlementPeriodNotClosed {
                    period: period.clone(),
                    end_on: *period_end_on,
                });
            }
            check_calculation(state, period, *period_start_on, *as_of)?;
            Ok(Event::SettlementCalculated(calculated))
        }
        Command::ValidateSettlement {
            period,
            as_of,
            note,
        } => {
            check_validation(state, period, *as_of)?;
            if let Some(note) = note {
                non_empty("note", note)?;
            }
            Ok(Event::SettlementValidated(SettlementValidated {
                period: period.clone(),
                as_of: *as_of,
                note: note.clone(),
            }))
        }
        Command::ApproveSettlement { period, as_of } => {
            check_approval(state, period, *as_of)?;
            Ok(Event::SettlementApproved(SettlementApproved {
                period: period.clone(),
                as_of: *as_of,
            }))
        }
        Command::RecordSettlementPayment {
            period,
            paid_on,
            reference,
        } => {
            check_payment(state, period)?;
            non_empty("reference", reference)?;
            let occurred_on = at.local_date();
            if *paid_on > occurred_on {
                return Err(DomainError::DateAfterOccurrence {
                    field: "paid_on",
                    date: *paid_on,
                    occurred_on,
                });
            }
            Ok(Event::SettlementPaid(SettlementPaid {
                period: period.clone(),
                paid_on: *paid_on,
                reference: reference.clone(),
            }))
        }
        other => Err(does_not_fit(other)),
    }
}

/// The period is one of the contract's: of the kind the terms settle by on its first day, its
/// label and dates agreeing, within the term.
fn check_period_of_the_contract(
    calculated: &SettlementCalculated,
    context: &DecisionContext,
) -> Result<(), DomainError> {
    let start_on = calculated.period_start_on;
    let terms = context
        .contract
        .terms_on(start_on)
        .ok_or(DomainError::ContractNotRegistered)?;
    let expected = terms.period_kind.period_starting(start_on);
    if expected != Some((calculated.period.clone(), calculated.period_end_on)) {
        return Err(DomainError::SettlementPeriodNotOfTheContract {
            period: calculated.period.clone(),
            start_on,
            end_on: calculated.period_end_on,
            period_kind: terms.period_kind,
        });
    }
    // The term as amended by the end of the period: an extension counts.
    let last_day = calculated
        .period_end_on
        .pred_opt()
        .expect("a period's end follows its start");
    let terms = context
        .contract
        .terms_on(last_day)
        .ok_or(DomainError::ContractNotRegistered)?;
    if calculated.period_end_on <= terms.term_start_on || start_on > terms.term_end_on {
        return Err(DomainError::SettlementPeriodOutsideTerm {
            period: calculated.period.clone(),
            term_start_on: terms.term_start_on,
            term_end_on: terms.term_end_on,
        });
    }
    Ok(())
}
