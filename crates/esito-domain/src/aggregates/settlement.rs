//! The settlements of a contract (docs/design.md §5): each period's calculated, validated by
//! the evaluator, approved by the payer, paid; all periods in one stream, because their order
//! is a rule.
//!
//! Invariants (`decide` checks them, `evolve` asserts them again):
//! - periods are settled in order from the contract's first period, the one holding the first
//!   day of its payment terms (`decide` alone checks that one: it reads the contract), each starting the day the one before ended, and the next is
//!   calculated only once the one before is approved: so the figures a calculation carries
//!   forward (what was paid, each beneficiary's count, the funder's account) are final;
//! - a period is calculated again only before it is approved; each calculation is as of a log
//!   position no earlier than the one before;
//! - validation and approval name the calculation they act on (its `as_of`), so neither applies
//!   to figures its author did not see;
//! - calculated → validated → approved → paid, each step once; a calculated settlement, not yet
//!   validated, may instead be withdrawn by the payer, and stands withdrawn until the period is
//!   calculated again.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    Event, SettlementApproved, SettlementCalculated, SettlementPaid, SettlementValidated,
    SettlementWithdrawn,
};
use crate::period::Period;
use crate::values::OccurredAt;

/// How far a period's settlement has gone, each step holding what it brought:
/// calculated → validated → approved → paid, or calculated → withdrawn (→ calculated again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SettlementStatus {
    Calculated,
    Validated {
        validated: SettlementValidated,
    },
    Approved {
        validated: SettlementValidated,
    },
    Paid {
        validated: SettlementValidated,
        paid: SettlementPaid,
    },
    /// Withdrawn by the payer before validation: nothing follows but a new calculation.
    Withdrawn {
        withdrawn: SettlementWithdrawn,
    },
}

impl SettlementStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            SettlementStatus::Calculated => "calculated",
            SettlementStatus::Validated { .. } => "validated",
            SettlementStatus::Approved { .. } => "approved",
            SettlementStatus::Paid { .. } => "paid",
            SettlementStatus::Withdrawn { .. } => "withdrawn",
        }
    }

    /// Approved or paid: the figures are final.
    pub fn is_approved(&self) -> bool {
        matches!(
            self,
            SettlementStatus::Approved { .. } | SettlementStatus::Paid { .. }
        )
    }

    /// The validation of the calculation in force, once there is one.
    pub fn validated(&self) -> Option<&SettlementValidated> {
        match self {
            SettlementStatus::Calculated | SettlementStatus::Withdrawn { .. } => None,
            SettlementStatus::Validated { validated }
            | SettlementStatus::Approved { validated }
            | SettlementStatus::Paid { validated, .. } => Some(validated),
        }
    }

    /// The payment, once the settlement is paid.
    pub fn paid(&self) -> Option<&SettlementPaid> {
        match self {
            SettlementStatus::Paid { paid, .. } => Some(paid),
            _ => None,
        }
    }

    /// The withdrawal, while the settlement stands withdrawn.
    pub fn withdrawn(&self) -> Option<&SettlementWithdrawn> {
        match self {
            SettlementStatus::Withdrawn { withdrawn } => Some(withdrawn),
            _ => None,
        }
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
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementState {
    /// One per period settled, in period order.
    pub periods: Vec<PeriodSettlement>,
}

impl SettlementState {
    /// The settlement of the period.
    pub fn period(&self, period: Period) -> Option<&PeriodSettlement> {
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
                    calculated.period,
                    calculated.period_start_on,
                    calculated.as_of,
                ))?;
                match self.periods.last_mut() {
                    Some(latest) if latest.calculated.period == calculated.period => {
                        latest.calculated = calculated.clone();
                        latest.calculations += 1;
                        latest.status = SettlementStatus::Calculated;
                    }
                    _ => self.periods.push(PeriodSettlement {
                        calculated: calculated.clone(),
                        calculations: 1,
                        status: SettlementStatus::Calculated,
                    }),
                }
            }
            Event::SettlementValidated(validated) => {
                asserted(check_validation(self, validated.period, validated.as_of))?;
                self.period_mut(validated.period).status = SettlementStatus::Validated {
                    validated: validated.clone(),
                };
            }
            Event::SettlementApproved(approved) => {
                asserted(check_approval(self, approved.period, approved.as_of))?;
                let settlement = self.period_mut(approved.period);
                let SettlementStatus::Validated { validated } = &settlement.status else {
                    unreachable!("checked: only a validated settlement is approved");
                };
                settlement.status = SettlementStatus::Approved {
                    validated: validated.clone(),
                };
            }
            Event::SettlementPaid(paid) => {
                asserted(check_payment(self, paid.period))?;
                let settlement = self.period_mut(paid.period);
                let SettlementStatus::Approved { validated } = &settlement.status else {
                    unreachable!("checked: only an approved settlement is paid");
                };
                settlement.status = SettlementStatus::Paid {
                    validated: validated.clone(),
                    paid: paid.clone(),
                };
            }
            Event::SettlementWithdrawn(withdrawn) => {
                asserted(check_withdrawal(self, withdrawn.period, withdrawn.as_of))?;
                self.period_mut(withdrawn.period).status = SettlementStatus::Withdrawn {
                    withdrawn: withdrawn.clone(),
                };
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

    fn period_mut(&mut self, period: Period) -> &mut PeriodSettlement {
        self.periods
            .iter_mut()
            .find(|settlement| settlement.calculated.period == period)
            .expect("checked: the period has a settlement")
    }
}

/// The rules between a new calculation and the settlements before it.
fn check_calculation(
    state: &SettlementState,
    period: Period,
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
            Err(DomainError::SettlementAlreadyApproved { period })
        } else {
            Ok(())
        };
    }
    if start_on != latest.calculated.period_end_on {
        // An earlier period, approved or not, is never calculated again once a later one is.
        if let Some(earlier) = state.period(period) {
            return Err(DomainError::SettlementAlreadyApproved {
                period: earlier.calculated.period,
            });
        }
        return Err(DomainError::SettlementPeriodOutOfOrder {
            period,
            start_on,
            expected_start_on: latest.calculated.period_end_on,
        });
    }
    if !latest.status.is_approved() {
        return Err(DomainError::PreviousSettlementNotApproved {
            previous: latest.calculated.period,
        });
    }
    Ok(())
}

fn settlement_of(
    state: &SettlementState,
    period: Period,
) -> Result<&PeriodSettlement, DomainError> {
    state
        .period(period)
        .ok_or(DomainError::SettlementNotCalculated { period })
}

fn check_names_the_calculation(
    settlement: &PeriodSettlement,
    as_of: u64,
) -> Result<(), DomainError> {
    if settlement.calculated.as_of != as_of {
        return Err(DomainError::SettlementRecalculated {
            period: settlement.calculated.period,
            as_of,
            current_as_of: settlement.calculated.as_of,
        });
    }
    Ok(())
}

fn check_validation(
    state: &SettlementState,
    period: Period,
    as_of: u64,
) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    match settlement.status {
        SettlementStatus::Calculated => check_names_the_calculation(settlement, as_of),
        SettlementStatus::Validated { .. } => {
            Err(DomainError::SettlementAlreadyValidated { period })
        }
        SettlementStatus::Approved { .. } | SettlementStatus::Paid { .. } => {
            Err(DomainError::SettlementAlreadyApproved { period })
        }
        SettlementStatus::Withdrawn { .. } => Err(DomainError::SettlementWithdrawn { period }),
    }
}

fn check_approval(state: &SettlementState, period: Period, as_of: u64) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    match settlement.status {
        SettlementStatus::Calculated => Err(DomainError::SettlementNotValidated { period }),
        SettlementStatus::Validated { .. } => check_names_the_calculation(settlement, as_of),
        SettlementStatus::Approved { .. } | SettlementStatus::Paid { .. } => {
            Err(DomainError::SettlementAlreadyApproved { period })
        }
        SettlementStatus::Withdrawn { .. } => Err(DomainError::SettlementWithdrawn { period }),
    }
}

fn check_payment(state: &SettlementState, period: Period) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    match settlement.status {
        SettlementStatus::Calculated
        | SettlementStatus::Validated { .. }
        | SettlementStatus::Withdrawn { .. } => Err(DomainError::SettlementNotApproved { period }),
        SettlementStatus::Approved { .. } => Ok(()),
        SettlementStatus::Paid { .. } => Err(DomainError::SettlementAlreadyPaid { period }),
    }
}

/// Only a calculated settlement, not yet validated, is withdrawn, naming the calculation: once
/// the evaluator has validated it, the figures are the evaluator's to refuse, not the payer's
/// to take back.
fn check_withdrawal(
    state: &SettlementState,
    period: Period,
    as_of: u64,
) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    match settlement.status {
        SettlementStatus::Calculated => check_names_the_calculation(settlement, as_of),
        SettlementStatus::Validated { .. }
        | SettlementStatus::Approved { .. }
        | SettlementStatus::Paid { .. }
        | SettlementStatus::Withdrawn { .. } => Err(DomainError::SettlementNotWithdrawable {
            period,
            status: settlement.status.as_str(),
        }),
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
                period: *period,
                period_start_on: *period_start_on,
                period_end_on: *period_end_on,
                as_of: *as_of,
                root_hash: *root_hash,
                checkpoint: checkpoint.clone(),
                template: template.clone(),
                definitions_sha256: *definitions_sha256,
                terms_sha256: *terms_sha256,
                final_settlement: *final_settlement,
                document: document.clone(),
            };
            non_empty("template", template)?;
            check_document(&calculated)?;
            check_period_of_the_contract(&calculated, context)?;
            if at.local_date() < *period_end_on {
                return Err(DomainError::SettlementPeriodNotClosed {
                    period: *period,
                    end_on: *period_end_on,
                });
            }
            check_first_period(state, &calculated, context)?;
            check_calculation(state, *period, *period_start_on, *as_of)?;
            Ok(Event::SettlementCalculated(calculated))
        }
        Command::ValidateSettlement {
            period,
            as_of,
            note,
        } => {
            check_validation(state, *period, *as_of)?;
            if let Some(note) = note {
                non_empty("note", note)?;
            }
            Ok(Event::SettlementValidated(SettlementValidated {
                period: *period,
                as_of: *as_of,
                note: note.clone(),
            }))
        }
        Command::ApproveSettlement { period, as_of } => {
            check_approval(state, *period, *as_of)?;
            Ok(Event::SettlementApproved(SettlementApproved {
                period: *period,
                as_of: *as_of,
            }))
        }
        Command::RecordSettlementPayment {
            period,
            paid_on,
            reference,
        } => {
            check_payment(state, *period)?;
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
                period: *period,
                paid_on: *paid_on,
                reference: reference.clone(),
            }))
        }
        Command::WithdrawSettlement {
            period,
            as_of,
            reason,
        } => {
            check_withdrawal(state, *period, *as_of)?;
            non_empty("reason", reason)?;
            Ok(Event::SettlementWithdrawn(SettlementWithdrawn {
                period: *period,
                as_of: *as_of,
                reason: reason.clone(),
            }))
        }
        other => Err(does_not_fit(other)),
    }
}

/// The first settlement of a contract is of its first period, the one holding the first day of
/// its payment terms (`Contract::first_period`): every later one then follows on from it, so no
/// period under the terms is ever left unsettled behind a later one, and none before them is
/// settled under terms not yet in force.
fn check_first_period(
    state: &SettlementState,
    calculated: &SettlementCalculated,
    context: &DecisionContext,
) -> Result<(), DomainError> {
    if !state.periods.is_empty() {
        return Ok(());
    }
    let contract = context
        .contract
        .contract()
        .ok_or(DomainError::ContractNotRegistered)?;
    let first = contract.first_period();
    if calculated.period != first {
        return Err(DomainError::SettlementPeriodOutOfOrder {
            period: calculated.period,
            start_on: calculated.period_start_on,
            expected_start_on: first.start_on(),
        });
    }
    Ok(())
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
    if expected != Some(calculated.period) || calculated.period.end_on() != calculated.period_end_on
    {
        return Err(DomainError::SettlementPeriodNotOfTheContract {
            period: calculated.period,
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
            period: calculated.period,
            term_start_on: terms.term_start_on,
            term_end_on: terms.term_end_on,
        });
    }
    Ok(())
}
