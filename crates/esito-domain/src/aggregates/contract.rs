//! The contract stream: its registration, its amendments, and the terms in force on a date.
//!
//! Invariant: amendments are held in the order of their `effective_on` (`decide` refuses one
//! dated before the latest, `evolve` too), so the terms on a date are the registration with a
//! prefix of the amendments applied.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{ContractAmended, ContractRegistered, Event};
use crate::period::Period;
use crate::terms::{ContractChange, ContractTerms};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ContractState {
    #[default]
    NotRegistered,
    Registered(Contract),
}

/// A registered contract: its registration and its amendments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub registered: ContractRegistered,
    /// In `effective_on` order.
    #[serde(default)]
    pub amendments: Vec<ContractAmended>,
}

impl Contract {
    /// The terms in force on `date`: the registration with every amendment effective on or
    /// before it.
    pub fn terms_on(&self, date: NaiveDate) -> ContractTerms {
        let mut terms = ContractTerms::registered(&self.registered);
        for amendment in self
            .amendments
            .iter()
            .take_while(|amendment| amendment.effective_on <= date)
        {
            for change in &amendment.changes {
                terms.apply(change);
            }
        }
        terms
    }

    /// The contract's first period: the one holding the term's first day, of the kind in force
    /// that day. Its settlement is the first.
    pub fn first_period(&self) -> Period {
        let start_on = self.registered.term_start_on;
        Period::containing(self.terms_on(start_on).period_kind, start_on)
    }

    /// The `effective_on` of the latest amendment: a new one may not be dated before it.
    pub fn latest_amendment_on(&self) -> Option<NaiveDate> {
        self.amendments
            .last()
            .map(|amendment| amendment.effective_on)
    }
}

impl ContractState {
    /// The contract's registration, if it is registered.
    pub fn registered(&self) -> Option<&ContractRegistered> {
        self.contract().map(|contract| &contract.registered)
    }

    /// The contract, if it is registered.
    pub fn contract(&self) -> Option<&Contract> {
        match self {
            ContractState::Registered(contract) => Some(contract),
            ContractState::NotRegistered => None,
        }
    }

    /// The terms in force on `date` (`Contract::terms_on`). `None` before registration.
    pub fn terms_on(&self, date: NaiveDate) -> Option<ContractTerms> {
        self.contract().map(|contract| contract.terms_on(date))
    }

    /// The `effective_on` of the latest amendment: a new one may not be dated before it.
    pub fn latest_amendment_on(&self) -> Option<NaiveDate> {
        self.contract().and_then(Contract::latest_amendment_on)
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        match (&mut *self, event) {
            (ContractState::NotRegistered, Event::ContractRegistered(registered)) => {
                *self = ContractState::Registered(Contract {
                    registered: registered.clone(),
                    amendments: Vec::new(),
                });
            }
            (ContractState::NotRegistered, Event::ContractAmended(_)) => {
                return Err(inconsistent(event, "the contract is not registered"));
            }
            (ContractState::Registered(contract), Event::ContractAmended(amended)) => {
                if amended.changes.is_empty() {
                    return Err(inconsistent(event, "an amendment changes something"));
                }
                if contract
                    .latest_amendment_on()
                    .is_some_and(|latest| amended.effective_on < latest)
                {
                    return Err(inconsistent(event, "effective before the latest amendment"));
                }
                contract.amendments.push(amended.clone());
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
}

pub(super) fn decide(command: &Command, state: &ContractState) -> Result<Event, DomainError> {
    match command {
        Command::RegisterContract {
            title,
            template,
            payer,
            funder,
            operator,
            evaluator,
            term_start_on,
            term_end_on,
            period_kind,
        } => {
            if state.registered().is_some() {
                return Err(DomainError::ContractAlreadyRegistered);
            }
            for (field, text) in [
                ("title", title),
                ("template", template),
                ("payer", payer),
                ("operator", operator),
                ("evaluator", evaluator),
            ] {
                non_empty(field, text)?;
            }
            if term_end_on < term_start_on {
                return Err(DomainError::TermEndsBeforeItStarts);
            }
            Ok(Event::ContractRegistered(ContractRegistered {
                title: title.clone(),
                template: template.clone(),
                payer: payer.clone(),
                funder: funder.clone(),
                operator: operator.clone(),
                evaluator: evaluator.clone(),
                term_start_on: *term_start_on,
                term_end_on: *term_end_on,
                period_kind: *period_kind,
            }))
        }
        Command::AmendContract {
            effective_on,
            changes,
        } => amend(state, *effective_on, changes),
        other => Err(does_not_fit(other)),
    }
}

fn amend(
    state: &ContractState,
    effective_on: NaiveDate,
    changes: &[ContractChange],
) -> Result<Event, DomainError> {
    let before = state
        .terms_on(effective_on)
        .ok_or(DomainError::ContractNotRegistered)?;
    if changes.is_empty() {
        return Err(DomainError::FieldEmpty { field: "changes" });
    }
    if let Some(latest_on) = state.latest_amendment_on() {
        if effective_on < latest_on {
            return Err(DomainError::DateBeforeLatestChange {
                field: "effective_on",
                date: effective_on,
                latest_on,
            });
        }
    }
    // The amendment takes effect inside the term in force on that day, not an earlier one.
    before.check_within("effective_on", effective_on)?;
    let mut after = before.clone();
    let mut kinds = std::collections::BTreeSet::new();
    let mut normalized = Vec::with_capacity(changes.len());
    for change in changes {
        if !kinds.insert(change.kind()) {
            return Err(DomainError::DuplicateInList {
                field: "changes",
                key: change.kind().to_owned(),
            });
        }
        match change {
            ContractChange::TermEndOn { term_end_on } => {
                if *term_end_on < effective_on {
                    return Err(DomainError::TermEndsBeforeAmendment {
                        term_end_on: *term_end_on,
                        effective_on,
                    });
                }
            }
            ContractChange::PeriodKind { period_kind } => {
                // Periods are calendar-aligned: the old kind's last period must close the
                // day before the new kind's first one opens.
                if !(before.period_kind.starts_on(effective_on)
                    && period_kind.starts_on(effective_on))
                {
                    return Err(DomainError::PeriodChangeNotAtPeriodStart {
                        effective_on,
                        from: before.period_kind,
                        to: *period_kind,
                    });
                }
            }
            ContractChange::Template { template } => non_empty("template", template)?,
            ContractChange::Funder { funder } => non_empty("funder", funder)?,
            ContractChange::PaymentTerms { payment_terms } => payment_terms.check()?,
            // Checked below, against the funder and the term as amended.
            ContractChange::FunderTerms { .. } => {}
        }
        after.apply(change);
        normalized.push(match change {
            ContractChange::FunderTerms { funder_terms } => ContractChange::FunderTerms {
                funder_terms: funder_terms.sorted(),
            },
            other => other.clone(),
        });
    }
    // Checked on every amendment, so that a shorter term cannot strand a disbursement.
    if let Some(funder_terms) = &after.funder_terms {
        if after.funder.is_none() {
            return Err(DomainError::FunderTermsWithoutFunder);
        }
        funder_terms.check(&after)?;
    }
    Ok(Event::ContractAmended(ContractAmended {
        effective_on,
        changes: normalized,
    }))
}
