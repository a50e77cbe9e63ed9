//! The settlements of a contract (docs/design.md §5): each period's calculated, validated by
//! the evaluator, certified by the payer's RUP (*attestazione di regolare esecuzione*),
//! approved by the payer (*determina di liquidazione*), paid (*mandato di pagamento*); all
//! periods in one stream, because their order is a rule.
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
//! - calculated → validated → certified → approved → paid, each step once; a calculated
//!   settlement, not yet validated, may instead be withdrawn by the payer, and stands withdrawn
//!   until the period is calculated again;
//! - for a contract with a CIG (the PA's acts, ADR 0016) the certification is required before
//!   the approval, the approval names its determina (number and date) and the payment its
//!   mandato (number and date), each act dated no earlier than the one before it; a contract
//!   without a CIG may skip the certification, as every approval recorded before acts were
//!   did: so `evolve` accepts an approval of a validated settlement, and `decide` alone, which
//!   reads the contract, requires the acts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    ActCodes, Event, SettlementApproved, SettlementCalculated, SettlementCertified, SettlementPaid,
    SettlementValidated, SettlementWithdrawn,
};
use crate::period::Period;
use crate::values::OccurredAt;

/// How far a period's settlement has gone, each step holding what it brought:
/// calculated → validated → certified → approved → paid (the certification absent where the
/// contract has no CIG), or calculated → withdrawn (→ calculated again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SettlementStatus {
    Calculated,
    Validated {
        validated: SettlementValidated,
    },
    Certified {
        validated: SettlementValidated,
        certified: SettlementCertified,
    },
    Approved {
        validated: SettlementValidated,
        certified: Option<SettlementCertified>,
        approved: SettlementApproved,
    },
    Paid {
        validated: SettlementValidated,
        certified: Option<SettlementCertified>,
        approved: SettlementApproved,
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
            SettlementStatus::Certified { .. } => "certified",
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
            | SettlementStatus::Certified { validated, .. }
            | SettlementStatus::Approved { validated, .. }
            | SettlementStatus::Paid { validated, .. } => Some(validated),
        }
    }

    /// The RUP's certification, once there is one.
    pub fn certified(&self) -> Option<&SettlementCertified> {
        match self {
            SettlementStatus::Certified { certified, .. } => Some(certified),
            SettlementStatus::Approved { certified, .. }
            | SettlementStatus::Paid { certified, .. } => certified.as_ref(),
            _ => None,
        }
    }

    /// The approval (the determina), once there is one.
    pub fn approved(&self) -> Option<&SettlementApproved> {
        match self {
            SettlementStatus::Approved { approved, .. }
            | SettlementStatus::Paid { approved, .. } => Some(approved),
            _ => None,
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
            Event::SettlementCertified(certified) => {
                asserted(check_certification(self, certified.period, certified.as_of))?;
                let settlement = self.period_mut(certified.period);
                let SettlementStatus::Validated { validated } = &settlement.status else {
                    unreachable!("checked: only a validated settlement is certified");
                };
                settlement.status = SettlementStatus::Certified {
                    validated: validated.clone(),
                    certified: certified.clone(),
                };
            }
            Event::SettlementApproved(approved) => {
                // Whether the certification was required is `decide`'s to say (it reads the
                // contract): an approval recorded before acts were follows the validation.
                asserted(check_approval(self, approved.period, approved.as_of, false))?;
                let settlement = self.period_mut(approved.period);
                let (validated, certified) = match &settlement.status {
                    SettlementStatus::Validated { validated } => (validated.clone(), None),
                    SettlementStatus::Certified {
                        validated,
                        certified,
                    } => (validated.clone(), Some(certified.clone())),
                    _ => unreachable!("checked: only a validated settlement is approved"),
                };
                settlement.status = SettlementStatus::Approved {
                    validated,
                    certified,
                    approved: approved.clone(),
                };
            }
            Event::SettlementPaid(paid) => {
                asserted(check_payment(self, paid.period))?;
                let settlement = self.period_mut(paid.period);
                let SettlementStatus::Approved {
                    validated,
                    certified,
                    approved,
                } = &settlement.status
                else {
                    unreachable!("checked: only an approved settlement is paid");
                };
                settlement.status = SettlementStatus::Paid {
                    validated: validated.clone(),
                    certified: certified.clone(),
                    approved: approved.clone(),
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
        SettlementStatus::Validated { .. } | SettlementStatus::Certified { .. } => {
            Err(DomainError::SettlementAlreadyValidated { period })
        }
        SettlementStatus::Approved { .. } | SettlementStatus::Paid { .. } => {
            Err(DomainError::SettlementAlreadyApproved { period })
        }
        SettlementStatus::Withdrawn { .. } => Err(DomainError::SettlementWithdrawn { period }),
    }
}

/// Only a validated settlement is certified, naming the calculation validated.
fn check_certification(
    state: &SettlementState,
    period: Period,
    as_of: u64,
) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    match settlement.status {
        SettlementStatus::Calculated => Err(DomainError::SettlementNotValidated { period }),
        SettlementStatus::Validated { .. } => check_names_the_calculation(settlement, as_of),
        SettlementStatus::Certified { .. } => {
            Err(DomainError::SettlementAlreadyCertified { period })
        }
        SettlementStatus::Approved { .. } | SettlementStatus::Paid { .. } => {
            Err(DomainError::SettlementAlreadyApproved { period })
        }
        SettlementStatus::Withdrawn { .. } => Err(DomainError::SettlementWithdrawn { period }),
    }
}

/// A validated settlement is approved once certified; without the PA's acts (no CIG),
/// certified or not.
fn check_approval(
    state: &SettlementState,
    period: Period,
    as_of: u64,
    certification_required: bool,
) -> Result<(), DomainError> {
    let settlement = settlement_of(state, period)?;
    match settlement.status {
        SettlementStatus::Calculated => Err(DomainError::SettlementNotValidated { period }),
        SettlementStatus::Validated { .. } if certification_required => {
            Err(DomainError::SettlementNotCertified { period })
        }
        SettlementStatus::Validated { .. } | SettlementStatus::Certified { .. } => {
            check_names_the_calculation(settlement, as_of)
        }
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
        | SettlementStatus::Certified { .. }
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
        | SettlementStatus::Certified { .. }
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
        Command::CertifySettlement {
            period,
            as_of,
            certified_on,
        } => {
            check_certification(state, *period, *as_of)?;
            not_after("certified_on", *certified_on, at)?;
            let procurement = procurement_of(context);
            Ok(Event::SettlementCertified(SettlementCertified {
                period: *period,
                as_of: *as_of,
                certified_on: *certified_on,
                rup: procurement.rup.clone(),
                codes: codes_of(&procurement),
            }))
        }
        Command::ApproveSettlement {
            period,
            as_of,
            determina_number,
            determina_date,
        } => {
            let procurement = procurement_of(context);
            check_approval(state, *period, *as_of, procurement.requires_acts())?;
            act(
                ("determina_number", determina_number),
                ("determina_date", *determina_date),
                procurement.requires_acts(),
                at,
            )?;
            if let (Some(date), Some(certified)) = (
                determina_date,
                state
                    .period(*period)
                    .and_then(|settlement| settlement.status.certified()),
            ) {
                not_before("determina_date", *date, certified.certified_on)?;
            }
            Ok(Event::SettlementApproved(SettlementApproved {
                period: *period,
                as_of: *as_of,
                determina_number: determina_number.clone(),
                determina_date: *determina_date,
                codes: codes_of(&procurement),
            }))
        }
        Command::RecordSettlementPayment {
            period,
            paid_on,
            reference,
            mandato_number,
            mandato_date,
        } => {
            check_payment(state, *period)?;
            non_empty("reference", reference)?;
            not_after("paid_on", *paid_on, at)?;
            let procurement = procurement_of(context);
            act(
                ("mandato_number", mandato_number),
                ("mandato_date", *mandato_date),
                procurement.requires_acts(),
                at,
            )?;
            if let Some(date) = mandato_date {
                let approved = state
                    .period(*period)
                    .and_then(|settlement| settlement.status.approved());
                if let Some(determina_date) = approved.and_then(|a| a.determina_date) {
                    not_before("mandato_date", *date, determina_date)?;
                }
                // The treasurer pays on the mandato, not before it.
                not_before("paid_on", *paid_on, *date)?;
            }
            Ok(Event::SettlementPaid(SettlementPaid {
                period: *period,
                paid_on: *paid_on,
                reference: reference.clone(),
                mandato_number: mandato_number.clone(),
                mandato_date: *mandato_date,
                codes: codes_of(&procurement),
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

/// The contract's CIG, CUP and RUP as recorded so far, whatever the amendment's effective date:
/// an act cites the codes in force when it is adopted.
fn procurement_of(context: &DecisionContext) -> crate::procurement::Procurement {
    context
        .contract
        .terms_on(NaiveDate::MAX)
        .map(|terms| terms.procurement)
        .unwrap_or_default()
}

fn codes_of(procurement: &crate::procurement::Procurement) -> ActCodes {
    ActCodes {
        cig: procurement.cig.clone(),
        cup: procurement.cup.clone(),
    }
}

/// A date of an act cannot be after the day the act is recorded as happening.
fn not_after(field: &'static str, date: NaiveDate, at: OccurredAt) -> Result<(), DomainError> {
    let occurred_on = at.local_date();
    if date > occurred_on {
        return Err(DomainError::DateAfterOccurrence {
            field,
            date,
            occurred_on,
        });
    }
    Ok(())
}

/// An act is not dated before the act it follows.
fn not_before(
    field: &'static str,
    date: NaiveDate,
    start_on: NaiveDate,
) -> Result<(), DomainError> {
    if date < start_on {
        return Err(DomainError::DateBeforeStart {
            field,
            date,
            start_on,
        });
    }
    Ok(())
}

/// An act's number and date: both or neither, both when the PA's acts are required; the number
/// not empty, the date not after the day it is recorded.
fn act(
    (number_field, number): (&'static str, &Option<String>),
    (date_field, date): (&'static str, Option<NaiveDate>),
    required: bool,
    at: OccurredAt,
) -> Result<(), DomainError> {
    match (number, date) {
        (Some(number), Some(date)) => {
            non_empty(number_field, number)?;
            not_after(date_field, date, at)
        }
        (None, None) if !required => Ok(()),
        (None, _) => Err(DomainError::SettlementActMissing {
            field: number_field,
        }),
        (Some(_), None) => Err(DomainError::SettlementActMissing { field: date_field }),
    }
}
