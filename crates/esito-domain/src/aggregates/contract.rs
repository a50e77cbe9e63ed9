//! The contract stream: its registration, its amendments, and the terms in force on a date.
//!
//! Invariant: amendments are held in the order of their `effective_on` (`decide` refuses one
//! dated before the latest, `evolve` too), so the terms on a date are the registration with a
//! prefix of the amendments applied.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, DecisionContext};
use crate::commands::Command;
use crate::definitions::{CheckedDefinitions, DEFINITIONS_BYTES_MAX};
use crate::errors::DomainError;
use crate::events::{ContractAmended, ContractRegistered, Event};
use crate::period::Period;
use crate::terms::{ContractChange, ContractTerms, PaymentRule};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ContractState {
    #[default]
    NotRegistered,
    /// Boxed: a registration holds its definitions' text and hash, and a state not yet
    /// registered need not be as large.
    Registered(Box<Contract>),
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

    /// The definitions in force on `date`: the template they name themselves by, and their text
    /// where the log records it (entries written before it was, name only a template).
    pub fn definitions_on(&self, date: NaiveDate) -> (&str, Option<&str>) {
        let mut named = (
            self.registered.template.as_str(),
            self.registered.definitions.as_deref(),
        );
        for amendment in self
            .amendments
            .iter()
            .take_while(|amendment| amendment.effective_on <= date)
        {
            for change in &amendment.changes {
                if let ContractChange::Template {
                    template,
                    definitions,
                    ..
                } = change
                {
                    named = (template.as_str(), definitions.as_deref());
                }
            }
        }
        named
    }

    /// The contract's first period to settle: the one holding the first day its payment terms
    /// are in force (the term's first day when they are from the start, or when it has none
    /// yet), of the kind in force that day. Its settlement is the first: the activity recorded
    /// before the terms (Cuneo's, from July 2023, under terms "valido dal 01/01/2024") is
    /// counted by the indicators and settled under no terms.
    pub fn first_period(&self) -> Period {
        let start_on = self
            .payment_terms_from()
            .unwrap_or(self.registered.term_start_on);
        Period::containing(self.terms_on(start_on).period_kind, start_on)
    }

    /// The first day payment terms are in force: the `effective_on` of the first amendment
    /// that gives them (an amendment is never effective before the term's first day).
    pub fn payment_terms_from(&self) -> Option<NaiveDate> {
        self.amendments
            .iter()
            .find(|amendment| {
                amendment
                    .changes
                    .iter()
                    .any(|change| matches!(change, ContractChange::PaymentTerms { .. }))
            })
            .map(|amendment| amendment.effective_on.max(self.registered.term_start_on))
    }

    /// The periods to settle, in order: from the first period to the one holding the last day
    /// of the term as amended, each of the kind in force on its first day.
    pub fn settlement_periods(&self) -> Vec<Period> {
        let term_end_on = self.terms_on(NaiveDate::MAX).term_end_on;
        let mut periods = Vec::new();
        let mut period = self.first_period();
        while period.start_on() <= term_end_on {
            periods.push(period);
            let next_on = period.end_on();
            period = Period::containing(self.terms_on(next_on).period_kind, next_on);
        }
        periods
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
            ContractState::Registered(contract) => Some(contract.as_ref()),
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
                *self = ContractState::Registered(Box::new(Contract {
                    registered: registered.clone(),
                    amendments: Vec::new(),
                }));
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

/// The definitions a registration or an amendment names, as the log records them: a ready-made
/// template's text, or the contract's own text, each checked by the context's catalogue.
fn recorded_definitions(
    template: &str,
    definitions: Option<&str>,
    context: &DecisionContext,
) -> Result<(CheckedDefinitions, String), DomainError> {
    let catalog = context.definitions;
    let text = match definitions {
        Some(text) => {
            if text.len() > DEFINITIONS_BYTES_MAX {
                return Err(DomainError::InvalidDefinitions {
                    reason: format!(
                        "{} bytes, more than the {DEFINITIONS_BYTES_MAX} a definitions text may hold",
                        text.len()
                    ),
                });
            }
            text
        }
        None => {
            non_empty("template", template)?;
            catalog
                .and_then(|catalog| catalog.template_text(template))
                .ok_or_else(|| DomainError::UnknownTemplate {
                    template: template.to_owned(),
                })?
        }
    };
    let checked = match catalog {
        Some(catalog) => catalog
            .check(text)
            .map_err(|reason| DomainError::InvalidDefinitions { reason })?,
        None => {
            return Err(DomainError::InvalidDefinitions {
                reason: "no catalogue of definitions to check them with".to_owned(),
            })
        }
    };
    if !template.is_empty() && template != checked.template {
        return Err(DomainError::TemplateDiffersFromDefinitions {
            template: template.to_owned(),
            named: checked.template,
        });
    }
    Ok((checked, text.to_owned()))
}

pub(super) fn decide(
    command: &Command,
    state: &ContractState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::RegisterContract {
            title,
            template,
            definitions,
            payer,
            funder,
            operator,
            evaluator,
            term_start_on,
            term_end_on,
            period_kind,
            procurement,
        } => {
            if state.registered().is_some() {
                return Err(DomainError::ContractAlreadyRegistered);
            }
            for (field, text) in [
                ("title", title),
                ("payer", payer),
                ("operator", operator),
                ("evaluator", evaluator),
            ] {
                non_empty(field, text)?;
            }
            if term_end_on < term_start_on {
                return Err(DomainError::TermEndsBeforeItStarts);
            }
            check_procurement(procurement)?;
            let (checked, text) = recorded_definitions(template, definitions.as_deref(), context)?;
            Ok(Event::ContractRegistered(ContractRegistered {
                title: title.clone(),
                template: checked.template,
                definitions: Some(text),
                definitions_sha256: Some(checked.sha256),
                payer: payer.clone(),
                funder: funder.clone(),
                operator: operator.clone(),
                evaluator: evaluator.clone(),
                term_start_on: *term_start_on,
                term_end_on: *term_end_on,
                period_kind: *period_kind,
                procurement: procurement.clone(),
            }))
        }
        Command::AmendContract {
            effective_on,
            changes,
        } => amend(state, *effective_on, changes, context),
        other => Err(does_not_fit(other)),
    }
}

fn amend(
    state: &ContractState,
    effective_on: NaiveDate,
    changes: &[ContractChange],
    context: &DecisionContext,
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
    }
    for change in changes {
        let change = &match change {
            ContractChange::Template {
                template,
                definitions,
                ..
            } => {
                let (checked, text) =
                    recorded_definitions(template, definitions.as_deref(), context)?;
                ContractChange::Template {
                    template: checked.template,
                    definitions: Some(text),
                    definitions_sha256: Some(checked.sha256),
                }
            }
            other => other.clone(),
        };
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
            ContractChange::Template { .. } => {}
            ContractChange::Funder { funder } => non_empty("funder", funder)?,
            ContractChange::Procurement { procurement } => check_procurement(procurement)?,
            ContractChange::PaymentTerms { payment_terms } => payment_terms.check()?,
            // Checked below, against the funder and the term as amended.
            ContractChange::FunderTerms { .. } => {}
            ContractChange::TariffTerms { tariff_terms } => tariff_terms.check()?,
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
    // Checked on every amendment, so that new definitions cannot strand a rule.
    let contract = state.contract().ok_or(DomainError::ContractNotRegistered)?;
    let text = normalized
        .iter()
        .find_map(|change| match change {
            ContractChange::Template { definitions, .. } => definitions.as_deref(),
            _ => None,
        })
        .or_else(|| {
            let (template, text) = contract.definitions_on(effective_on);
            text.or_else(|| context.definitions?.template_text(template))
        });
    if let (Some(catalog), Some(text)) = (context.definitions, text) {
        let declared = catalog
            .check(text)
            .map_err(|reason| DomainError::InvalidDefinitions { reason })?;
        check_indicators_declared(&after, &declared.indicators)?;
    }
    Ok(Event::ContractAmended(ContractAmended {
        effective_on,
        changes: normalized,
    }))
}

/// Every rule of the payment terms, and every indicator of the funder's achievement index,
/// names an indicator the definitions declare (a milestone names a deliverable instead).
fn check_indicators_declared(
    terms: &ContractTerms,
    declared: &[String],
) -> Result<(), DomainError> {
    let known = |indicator: &str| declared.iter().any(|id| id == indicator);
    if let Some(payment_terms) = &terms.payment_terms {
        for (rule, payment_rule) in payment_terms.rules.iter().enumerate() {
            if matches!(payment_rule, PaymentRule::Milestone { .. }) {
                continue;
            }
            if !known(payment_rule.subject()) {
                return Err(DomainError::IndicatorNotDeclared {
                    field: "payment_terms.rules.indicator",
                    index: rule,
                    indicator: payment_rule.subject().to_owned(),
                });
            }
        }
    }
    if let Some(funder_terms) = &terms.funder_terms {
        for (index, targeted) in funder_terms.targeted_indicators.iter().enumerate() {
            if !known(&targeted.indicator) {
                return Err(DomainError::IndicatorNotDeclared {
                    field: "funder_terms.targeted_indicators.indicator",
                    index,
                    indicator: targeted.indicator.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The RUP, when named, is named by a text: the codes are checked as they are read.
fn check_procurement(procurement: &crate::procurement::Procurement) -> Result<(), DomainError> {
    if let Some(rup) = &procurement.rup {
        non_empty("procurement.rup", rup)?;
    }
    Ok(())
}
