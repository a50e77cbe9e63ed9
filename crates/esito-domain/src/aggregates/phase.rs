//! Cremona's phases: each phase of the service has a net amount plus VAT, an advance invoiced
//! on signing (30 % in KCity's offer), a deliverable submitted and accepted by the payer, the
//! balance invoiced on delivery, each invoice due `PAYMENT_DUE_DAYS` after issue, and payments.
//!
//! Invariant: the advance and the balance add up to the phase's amount; each invoice's VAT is
//! its amount × the phase's rate, rounded to the cent; its due date is exactly
//! `PAYMENT_DUE_DAYS` after issue; payments never exceed the invoice they name; the deliverable
//! is accepted once, after a submission. `evolve` asserts the same rules `decide` checks.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    AdvanceInvoiced, DeliverableAccepted, DeliverableSubmitted, Event, InvoiceIssued, PaymentMade,
    PhaseDefined, PAYMENT_DUE_DAYS,
};
use crate::terms::{ContractTerms, PaymentRule};
use crate::values::{Money, OccurredAt, StreamId};
use crate::vat::{Payee, VatRegime};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PhaseState {
    #[default]
    NotDefined,
    /// Boxed: a phase with its invoices is much larger than no phase at all.
    Defined(Box<Phase>),
}

/// A defined phase: its definition and what was invoiced, submitted, accepted and paid since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub defined: PhaseDefined,
    pub advance: Option<AdvanceInvoiced>,
    pub submissions: Vec<DeliverableSubmitted>,
    pub accepted: Option<DeliverableAccepted>,
    pub balance: Option<InvoiceIssued>,
    /// Paid so far to the operator on each invoice, by invoice number: VAT included under
    /// ordinary VAT, the net only under split payment.
    pub paid: BTreeMap<String, Money>,
    /// Under split payment: the VAT of each invoice paid so far to the Treasury.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paid_to_treasury: BTreeMap<String, Money>,
}

/// What an invoice of the phase asks: its issue date and its total, VAT included, with the
/// net and the VAT apart (under split payment the operator is owed the net, the Treasury the
/// VAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceDue {
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub total: Money,
    pub net: Money,
    pub vat: Money,
}

fn add(a: Money, b: Money) -> Money {
    Money::new(a.amount() + b.amount()).expect("a sum of amounts is an amount")
}

impl Phase {
    fn new(defined: PhaseDefined) -> Self {
        Self {
            defined,
            advance: None,
            submissions: Vec::new(),
            accepted: None,
            balance: None,
            paid: BTreeMap::new(),
            paid_to_treasury: BTreeMap::new(),
        }
    }

    /// The advance or the balance invoice with that number.
    pub fn invoice(&self, invoice_number: &str) -> Option<InvoiceDue> {
        let advance = self
            .advance
            .as_ref()
            .filter(|invoice| invoice.invoice_number == invoice_number)
            .map(|invoice| InvoiceDue {
                issued_on: invoice.issued_on,
                due_on: invoice.due_on,
                total: add(invoice.amount, invoice.vat),
                net: invoice.amount,
                vat: invoice.vat,
            });
        let balance = self
            .balance
            .as_ref()
            .filter(|invoice| invoice.invoice_number == invoice_number)
            .map(|invoice| InvoiceDue {
                issued_on: invoice.issued_on,
                due_on: invoice.due_on,
                total: add(invoice.amount, invoice.vat),
                net: invoice.amount,
                vat: invoice.vat,
            });
        advance.or(balance)
    }

    /// What is still owed on an invoice, VAT included.
    pub fn outstanding(&self, invoice_number: &str) -> Option<Money> {
        Some(add(
            self.outstanding_to(invoice_number, Payee::Operator)?,
            self.outstanding_to(invoice_number, Payee::Treasury)?,
        ))
    }

    /// What is still owed on an invoice to one payee: under split payment the net to the
    /// operator and the VAT to the Treasury; otherwise everything to the operator.
    pub fn outstanding_to(&self, invoice_number: &str, payee: Payee) -> Option<Money> {
        let due = self.invoice(invoice_number)?;
        let (asked, paid) = match (self.defined.vat, payee) {
            (VatRegime::Ordinary, Payee::Operator) => (due.total, &self.paid),
            (VatRegime::Ordinary, Payee::Treasury) => (Money::ZERO, &self.paid_to_treasury),
            (VatRegime::SplitPayment, Payee::Operator) => (due.net, &self.paid),
            (VatRegime::SplitPayment, Payee::Treasury) => (due.vat, &self.paid_to_treasury),
        };
        let paid = paid.get(invoice_number).copied().unwrap_or(Money::ZERO);
        Some(
            Money::new(asked.amount() - paid.amount())
                .expect("payments never exceed their invoice"),
        )
    }

    /// The advance's net amount: the phase's amount × its advance share, rounded to the cent.
    pub fn expected_advance(&self) -> Money {
        let defined = &self.defined;
        Money::rounded(defined.amount.amount() * defined.advance_share.value())
            .expect("a share of an amount is an amount")
    }

    /// The balance's net amount: what the advance left of the phase's amount, so that the two
    /// add up to it exactly whatever the rounding.
    pub fn expected_balance(&self) -> Money {
        let advance = self.advance.as_ref().map_or(Money::ZERO, |a| a.amount);
        Money::new(self.defined.amount.amount() - advance.amount())
            .expect("an advance is at most the phase's amount")
    }
}

impl PhaseState {
    /// The phase, if it is defined.
    pub fn phase(&self) -> Option<&Phase> {
        match self {
            PhaseState::Defined(phase) => Some(phase.as_ref()),
            PhaseState::NotDefined => None,
        }
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let asserted = |rule: Result<(), DomainError>| {
            rule.map_err(|error| inconsistent(event, &error.to_string()))
        };
        let phase = match (&mut *self, event) {
            (PhaseState::NotDefined, Event::PhaseDefined(defined)) => {
                *self = PhaseState::Defined(Box::new(Phase::new(defined.clone())));
                return Ok(());
            }
            (PhaseState::NotDefined, _) => {
                return Err(inconsistent(event, "the phase is not defined"))
            }
            (PhaseState::Defined(phase), _) => phase,
        };
        match event {
            Event::AdvanceInvoiced(invoice) => {
                asserted(check_advance(phase, &invoice.invoice_number))?;
                asserted(check_invoice_figures(
                    phase,
                    phase.expected_advance(),
                    invoice.amount,
                    invoice.vat,
                ))?;
                check_due_date(event, invoice.issued_on, invoice.due_on)?;
                phase.advance = Some(invoice.clone());
            }
            Event::InvoiceIssued(invoice) => {
                asserted(check_balance(
                    phase,
                    &invoice.invoice_number,
                    invoice.issued_on,
                ))?;
                asserted(check_invoice_figures(
                    phase,
                    phase.expected_balance(),
                    invoice.amount,
                    invoice.vat,
                ))?;
                check_due_date(event, invoice.issued_on, invoice.due_on)?;
                phase.balance = Some(invoice.clone());
            }
            Event::DeliverableSubmitted(submitted) if phase.accepted.is_none() => {
                phase.submissions.push(submitted.clone());
            }
            Event::DeliverableAccepted(accepted) => {
                asserted(check_acceptance(phase, accepted.accepted_on))?;
                phase.accepted = Some(accepted.clone());
            }
            Event::PaymentMade(payment) => {
                asserted(check_payment(
                    phase,
                    &payment.invoice_number,
                    payment.amount,
                    payment.paid_on,
                    payment.payee,
                ))?;
                let payments = match payment.payee {
                    Payee::Operator => &mut phase.paid,
                    Payee::Treasury => &mut phase.paid_to_treasury,
                };
                let paid = payments
                    .entry(payment.invoice_number.clone())
                    .or_insert(Money::ZERO);
                *paid = add(*paid, payment.amount);
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

/// The due date of an invoice issued on `issued_on`.
pub fn due_date(issued_on: NaiveDate) -> NaiveDate {
    issued_on
        .checked_add_days(Days::new(PAYMENT_DUE_DAYS))
        .expect("a date inside a contract's term has a date 30 days later")
}

fn check_due_date(
    event: &Event,
    issued_on: NaiveDate,
    due_on: NaiveDate,
) -> Result<(), DomainError> {
    if due_on != due_date(issued_on) {
        return Err(inconsistent(
            event,
            "due_on is not exactly PAYMENT_DUE_DAYS after issued_on",
        ));
    }
    Ok(())
}

fn check_new_invoice_number(phase: &Phase, invoice_number: &str) -> Result<(), DomainError> {
    non_empty("invoice_number", invoice_number)?;
    if phase.invoice(invoice_number).is_some() {
        return Err(DomainError::InvoiceNumberAlreadyUsed {
            invoice_number: invoice_number.to_owned(),
        });
    }
    Ok(())
}

fn check_advance(phase: &Phase, invoice_number: &str) -> Result<(), DomainError> {
    if phase.balance.is_some() {
        return Err(DomainError::AdvanceAfterBalance);
    }
    if phase.advance.is_some() {
        return Err(DomainError::AdvanceAlreadyInvoiced);
    }
    if phase.defined.advance_share.value().is_zero() {
        return Err(DomainError::PhaseHasNoAdvance);
    }
    check_new_invoice_number(phase, invoice_number)
}

/// The balance is invoiced on delivery: after the payer accepted the deliverable.
fn check_balance(
    phase: &Phase,
    invoice_number: &str,
    issued_on: NaiveDate,
) -> Result<(), DomainError> {
    if phase.balance.is_some() {
        return Err(DomainError::BalanceAlreadyInvoiced);
    }
    let accepted = phase
        .accepted
        .as_ref()
        .ok_or(DomainError::DeliverableNotAccepted)?;
    check_new_invoice_number(phase, invoice_number)?;
    if issued_on < accepted.accepted_on {
        return Err(DomainError::DateBeforeStart {
            field: "issued_on",
            date: issued_on,
            start_on: accepted.accepted_on,
        });
    }
    Ok(())
}

fn check_invoice_figures(
    phase: &Phase,
    expected: Money,
    amount: Money,
    vat: Money,
) -> Result<(), DomainError> {
    if amount != expected {
        return Err(DomainError::InvoiceAmountMismatch { expected, amount });
    }
    let expected_vat = Money::rounded(amount.amount() * phase.defined.vat_rate.value())
        .expect("VAT on an amount is an amount");
    if vat != expected_vat {
        return Err(DomainError::InvoiceVatMismatch {
            expected: expected_vat,
            vat,
        });
    }
    Ok(())
}

fn check_acceptance(phase: &Phase, accepted_on: NaiveDate) -> Result<(), DomainError> {
    if phase.accepted.is_some() {
        return Err(DomainError::DeliverableAlreadyAccepted);
    }
    let submitted = phase
        .submissions
        .last()
        .ok_or(DomainError::DeliverableNotSubmitted)?;
    if accepted_on < submitted.submitted_on {
        return Err(DomainError::DateBeforeStart {
            field: "occurred_at",
            date: accepted_on,
            start_on: submitted.submitted_on,
        });
    }
    Ok(())
}

fn check_payment(
    phase: &Phase,
    invoice_number: &str,
    amount: Money,
    paid_on: NaiveDate,
    payee: Payee,
) -> Result<(), DomainError> {
    if payee == Payee::Treasury && phase.defined.vat.is_ordinary() {
        return Err(DomainError::TreasuryPaidWithoutSplitPayment);
    }
    let invoice = phase
        .invoice(invoice_number)
        .ok_or_else(|| DomainError::UnknownInvoice {
            invoice_number: invoice_number.to_owned(),
        })?;
    if !amount.is_positive() {
        return Err(DomainError::AmountNotPositive { field: "amount" });
    }
    if paid_on < invoice.issued_on {
        return Err(DomainError::DateBeforeStart {
            field: "paid_on",
            date: paid_on,
            start_on: invoice.issued_on,
        });
    }
    let outstanding = phase
        .outstanding_to(invoice_number, payee)
        .expect("the invoice exists");
    if amount > outstanding {
        return Err(DomainError::PaymentAboveInvoice {
            invoice_number: invoice_number.to_owned(),
            outstanding,
        });
    }
    Ok(())
}

/// A fact dated in a field cannot have happened after the day it is recorded as happening.
fn check_not_after(
    field: &'static str,
    date: NaiveDate,
    at: OccurredAt,
) -> Result<(), DomainError> {
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

/// Where the contract's payment terms have a milestone for this deliverable, the phase must
/// say the same: two figures for one payment would let settlement and invoices disagree.
fn check_against_terms(
    terms: Option<&ContractTerms>,
    phase: &PhaseDefined,
) -> Result<(), DomainError> {
    let Some(payment_terms) = terms.and_then(|terms| terms.payment_terms.as_ref()) else {
        return Ok(());
    };
    let disagrees = |field| DomainError::PhaseDisagreesWithTerms {
        field,
        deliverable: phase.deliverable.clone(),
    };
    for rule in &payment_terms.rules {
        if let PaymentRule::Milestone {
            deliverable,
            amount,
            advance_share,
        } = rule
        {
            if *deliverable == phase.deliverable {
                if *amount != phase.amount {
                    return Err(disagrees("amount"));
                }
                if *advance_share != phase.advance_share {
                    return Err(disagrees("advance_share"));
                }
                if payment_terms
                    .vat_rate
                    .is_some_and(|vat_rate| vat_rate != phase.vat_rate)
                {
                    return Err(disagrees("vat_rate"));
                }
                if payment_terms.vat != phase.vat {
                    return Err(disagrees("vat"));
                }
            }
        }
    }
    Ok(())
}

/// The phase, if it is defined; else the rule that refuses acting on it.
fn defined_phase<'a>(phase_id: &StreamId, state: &'a PhaseState) -> Result<&'a Phase, DomainError> {
    state.phase().ok_or_else(|| DomainError::UnknownPhase {
        phase_id: phase_id.clone(),
    })
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &PhaseState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let date = at.local_date();
    match command {
        Command::DefinePhase {
            phase_id,
            number,
            title,
            deliverable,
            amount,
            vat_rate,
            advance_share,
            vat,
        } => {
            if state.phase().is_some() {
                return Err(DomainError::PhaseAlreadyDefined {
                    phase_id: phase_id.clone(),
                });
            }
            non_empty("title", title)?;
            non_empty("deliverable", deliverable)?;
            if !amount.is_positive() {
                return Err(DomainError::AmountNotPositive { field: "amount" });
            }
            let defined = PhaseDefined {
                number: *number,
                title: title.clone(),
                deliverable: deliverable.clone(),
                amount: *amount,
                vat_rate: *vat_rate,
                advance_share: *advance_share,
                vat: *vat,
            };
            check_against_terms(context.contract.terms_on(date).as_ref(), &defined)?;
            Ok(Event::PhaseDefined(defined))
        }
        Command::InvoiceAdvance {
            phase_id,
            invoice_number,
            amount,
            vat,
            issued_on,
        } => {
            let phase = defined_phase(phase_id, state)?;
            check_advance(phase, invoice_number)?;
            check_not_after("issued_on", *issued_on, at)?;
            check_invoice_figures(phase, phase.expected_advance(), *amount, *vat)?;
            Ok(Event::AdvanceInvoiced(AdvanceInvoiced {
                invoice_number: invoice_number.clone(),
                amount: *amount,
                vat: *vat,
                issued_on: *issued_on,
                due_on: due_date(*issued_on),
            }))
        }
        Command::IssueInvoice {
            phase_id,
            invoice_number,
            amount,
            vat,
            issued_on,
        } => {
            let phase = defined_phase(phase_id, state)?;
            check_balance(phase, invoice_number, *issued_on)?;
            check_not_after("issued_on", *issued_on, at)?;
            check_invoice_figures(phase, phase.expected_balance(), *amount, *vat)?;
            Ok(Event::InvoiceIssued(InvoiceIssued {
                invoice_number: invoice_number.clone(),
                amount: *amount,
                vat: *vat,
                issued_on: *issued_on,
                due_on: due_date(*issued_on),
            }))
        }
        Command::SubmitDeliverable { phase_id, document } => {
            let phase = defined_phase(phase_id, state)?;
            if phase.accepted.is_some() {
                return Err(DomainError::DeliverableAlreadyAccepted);
            }
            non_empty("document", document)?;
            Ok(Event::DeliverableSubmitted(DeliverableSubmitted {
                document: document.clone(),
                submitted_on: date,
            }))
        }
        Command::AcceptDeliverable {
            phase_id,
            accepted_by,
        } => {
            let phase = defined_phase(phase_id, state)?;
            check_acceptance(phase, date)?;
            let terms = context
                .contract
                .terms_on(date)
                .ok_or(DomainError::ContractNotRegistered)?;
            let is_payer = *accepted_by == terms.payer
                || terms.payment_terms.as_ref().is_some_and(|payment| {
                    payment
                        .payers
                        .iter()
                        .any(|payer| payer.name == *accepted_by)
                });
            if !is_payer {
                return Err(DomainError::AcceptedByNonPayer {
                    accepted_by: accepted_by.clone(),
                    payer: terms.payer,
                });
            }
            Ok(Event::DeliverableAccepted(DeliverableAccepted {
                accepted_by: accepted_by.clone(),
                accepted_on: date,
            }))
        }
        Command::RecordInvoicePayment {
            phase_id,
            invoice_number,
            amount,
            paid_on,
            payee,
        } => {
            let phase = defined_phase(phase_id, state)?;
            check_not_after("paid_on", *paid_on, at)?;
            check_payment(phase, invoice_number, *amount, *paid_on, *payee)?;
            Ok(Event::PaymentMade(PaymentMade {
                invoice_number: invoice_number.clone(),
                amount: *amount,
                paid_on: *paid_on,
                payee: *payee,
            }))
        }
        other => Err(does_not_fit(other)),
    }
}
