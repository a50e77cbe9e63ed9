//! The aggregates: one state per stream type, `evolve` to fold events, `decide` for commands.
//!
//! Invariant: `decide` checks every rule before an event exists; `evolve` refuses any event that
//! would leave a stream inconsistent, so a replay that succeeds is a consistent stream.
//!
//! Each stream type has a module of its own below: its state, its `evolve` and its rules. A
//! state is an enum whose variants carry exactly what the stream holds in that state (all but,
//! so far, the settlements': a status per period), so no rule restates a status to reach its
//! data. Here: the replay, the state of any stream, and `decide`, which checks the contract's
//! term and routes a command to its stream's rules.

mod access;
mod beneficiary;
mod catalogue;
mod contract;
mod order;
mod path;
mod phase;
mod placement;
mod settlement;
mod tenancy;
mod unit;

use std::collections::BTreeMap;

use crate::commands::{Command, Submission};
use crate::definitions::DefinitionsCatalog;
use crate::errors::DomainError;
use crate::events::*;
use crate::values::{EventId, Money, OccurredAt, StreamId};

pub use access::AccessState;
pub use beneficiary::{Beneficiary, BeneficiaryState};
pub use catalogue::{ProductState, ProviderState, Suspension};
pub use contract::{Contract, ContractState};
pub use order::{OrderMoney, OrderState};
pub use path::{Path, PathState};
pub use phase::{due_date, InvoiceDue, Phase, PhaseState};
pub use placement::PlacementState;
pub use settlement::{PeriodSettlement, SettlementState, SettlementStatus};
pub use tenancy::{Rent, TenancyState};
pub use unit::UnitState;

/// One event of a stream as the log holds it, enough to replay the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub event_id: EventId,
    pub corrects: Option<EventId>,
    pub occurred_at: OccurredAt,
    pub event: Event,
}

/// The stream's events after corrections and voids: a corrected event is replaced, in its
/// place, by its latest correction; a voided event is left out.
pub fn effective_events(history: &[Recorded]) -> Result<Vec<&Recorded>, DomainError> {
    let mut slots: Vec<Option<&Recorded>> = Vec::with_capacity(history.len());
    let mut slot_of: BTreeMap<EventId, usize> = BTreeMap::new();
    for recorded in history {
        match recorded.corrects {
            None => {
                slot_of.insert(recorded.event_id, slots.len());
                slots.push(Some(recorded));
            }
            Some(target) => {
                let slot = *slot_of
                    .get(&target)
                    .ok_or(DomainError::CorrectedEventNotFound { event_id: target })?;
                let current = slots[slot]
                    .ok_or(DomainError::CorrectedEventNotEffective { event_id: target })?;
                if current.event_id != target {
                    return Err(DomainError::CorrectedEventNotEffective { event_id: target });
                }
                match &recorded.event {
                    Event::EntryVoided(_) => slots[slot] = None,
                    replacement => {
                        if replacement.event_type() != current.event.event_type() {
                            return Err(DomainError::CorrectionChangesEventType {
                                original: current.event.event_type().to_owned(),
                                replacement: replacement.event_type().to_owned(),
                            });
                        }
                        slots[slot] = Some(recorded);
                        slot_of.insert(recorded.event_id, slot);
                    }
                }
            }
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Folds a stream's history, corrections and voids applied, into its state.
pub fn replay(stream_type: StreamType, history: &[Recorded]) -> Result<StreamState, DomainError> {
    let mut state = StreamState::empty(stream_type);
    for recorded in effective_events(history)? {
        state.evolve(&recorded.event)?;
    }
    Ok(state)
}

/// The state of any stream, by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Contract(ContractState),
    Provider(ProviderState),
    Product(ProductState),
    Beneficiary(BeneficiaryState),
    Order(OrderState),
    Unit(UnitState),
    Tenancy(TenancyState),
    Access(AccessState),
    Placement(PlacementState),
    Path(PathState),
    Phase(PhaseState),
    Settlement(SettlementState),
}

fn inconsistent(event: &Event, reason: &str) -> DomainError {
    DomainError::EventInconsistentWithStream {
        event_type: event.event_type().to_owned(),
        reason: reason.to_owned(),
    }
}

fn does_not_fit(command: &Command) -> DomainError {
    DomainError::CommandDoesNotFitStream {
        command: command.name().to_owned(),
    }
}

impl StreamState {
    pub fn empty(stream_type: StreamType) -> Self {
        match stream_type {
            StreamType::Contract => Self::Contract(Default::default()),
            StreamType::Provider => Self::Provider(Default::default()),
            StreamType::Product => Self::Product(Default::default()),
            StreamType::Beneficiary => Self::Beneficiary(Default::default()),
            StreamType::Order => Self::Order(Default::default()),
            StreamType::Unit => Self::Unit(Default::default()),
            StreamType::Tenancy => Self::Tenancy(Default::default()),
            StreamType::Access => Self::Access(Default::default()),
            StreamType::Placement => Self::Placement(Default::default()),
            StreamType::Path => Self::Path(Default::default()),
            StreamType::Phase => Self::Phase(Default::default()),
            StreamType::Settlement => Self::Settlement(Default::default()),
        }
    }

    /// Applies one effective event; refuses one the stream's state cannot follow.
    pub fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        match (self, event) {
            (StreamState::Contract(s), event) => s.evolve(event)?,
            (StreamState::Provider(s), event) => s.evolve(event)?,
            (StreamState::Product(s), event) => s.evolve(event)?,
            (StreamState::Beneficiary(s), event) => s.evolve(event)?,
            (StreamState::Placement(s), event) => s.evolve(event)?,
            (StreamState::Path(s), event) => s.evolve(event)?,
            (StreamState::Phase(s), event) => s.evolve(event)?,
            (StreamState::Settlement(s), event) => s.evolve(event)?,
            (StreamState::Order(s), event) => s.evolve(event)?,
            (StreamState::Unit(s), event) => s.evolve(event)?,
            (StreamState::Tenancy(s), event) => s.evolve(event)?,
            (StreamState::Access(s), event) => s.evolve(event)?,
        }
        Ok(())
    }
}

/// What `decide` may read besides the target stream: the contract and the streams the
/// command names (`Command::reads`), and for a correction the event it names.
#[derive(Debug, Clone, Default)]
pub struct DecisionContext {
    pub contract: ContractState,
    pub reads: BTreeMap<StreamRef, StreamState>,
    /// For a correction or a void: the stream's history, before this command.
    pub target_history: Vec<Recorded>,
    /// Every stream of each type `peers_read` names, but the target, with its history: the
    /// rules read their events' dates (`occurred_at`), which a stream's state does not keep.
    pub peers: BTreeMap<StreamRef, Vec<Recorded>>,
    /// The stream the command writes to, when the caller names it: a correction of a unit's
    /// event compares the tenancies of that unit.
    pub target: Option<StreamRef>,
    /// What checks indicator definitions and knows the ready-made templates' texts; without
    /// one, every template is unknown and every definitions text refused.
    pub definitions: Option<&'static dyn DefinitionsCatalog>,
}

/// The types of the streams whose every history `decide` reads, besides the target's, for this
/// command on a stream of `target` type; the caller loads them into `DecisionContext::peers`.
/// A unit is let to one tenancy at a time, on days it is available: a tenancy's start, and a
/// correction or a void of a tenancy's event, read every tenancy and every unit; a correction
/// or a void of a unit's event reads every tenancy.
pub fn peers_read(command: &Command, target: StreamType) -> &'static [StreamType] {
    let correction = matches!(
        command,
        Command::CorrectEvent { .. } | Command::VoidEvent { .. }
    );
    match target {
        StreamType::Tenancy if correction || matches!(command, Command::StartTenancy { .. }) => {
            &[StreamType::Tenancy, StreamType::Unit]
        }
        StreamType::Unit if correction => &[StreamType::Tenancy],
        _ => &[],
    }
}

impl DecisionContext {
    /// The state of a stream the command reads, if the caller loaded it.
    pub fn read(&self, stream_type: StreamType, id: &StreamId) -> Option<&StreamState> {
        self.reads.get(&StreamRef::new(stream_type, id.clone()))
    }
}

/// The beneficiary a command names must be registered.
fn check_registered_beneficiary<'a>(
    context: &'a DecisionContext,
    beneficiary_id: &StreamId,
) -> Result<&'a Beneficiary, DomainError> {
    match context.read(StreamType::Beneficiary, beneficiary_id) {
        Some(StreamState::Beneficiary(BeneficiaryState::Registered(beneficiary))) => {
            Ok(beneficiary)
        }
        _ => Err(DomainError::UnknownBeneficiary {
            beneficiary_id: beneficiary_id.clone(),
        }),
    }
}

/// An amount that records money moving (a payment, a charge, a price): zero would record
/// that nothing happened.
fn positive(field: &'static str, amount: Money) -> Result<(), DomainError> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(DomainError::AmountNotPositive { field })
    }
}

fn non_empty(field: &'static str, text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        Err(DomainError::FieldEmpty { field })
    } else {
        Ok(())
    }
}

/// Decides one command against the state of its stream: the event to append, or the rule
/// it breaks. Pure: the caller loads the states and writes the event.
pub fn decide(
    submission: &Submission,
    target: &StreamState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let at = submission.occurred_at;
    let command = &submission.command;
    if !matches!(command, Command::RegisterContract { .. }) {
        let date = at.local_date();
        // The term as amended on that day: an extension counts from its effective date.
        let terms = context
            .contract
            .terms_on(date)
            .ok_or(DomainError::ContractNotRegistered)?;
        // A settlement comes after its period, the last one after the term: its own rules
        // check its period against the term instead.
        if !command.follows_the_term() && !terms.contains(date) {
            return Err(DomainError::DateOutsideContractTerm {
                date,
                term_start_on: terms.term_start_on,
                term_end_on: terms.term_end_on,
            });
        }
        for (field, field_date) in command.field_dates() {
            terms.check_within(field, field_date)?;
        }
    }
    let event = match (command, target) {
        (Command::CorrectEvent { .. } | Command::VoidEvent { .. }, StreamState::Settlement(_)) => {
            return Err(DomainError::SettlementEventsAreFinal)
        }
        (
            Command::CorrectEvent {
                corrects,
                replacement,
            },
            target,
        ) => {
            if matches!(replacement, Event::EntryVoided(_)) {
                return Err(DomainError::CorrectionChangesEventType {
                    original: "any".to_owned(),
                    replacement: "EntryVoided".to_owned(),
                });
            }
            if let Event::OutcomeRecorded(recorded) = replacement {
                check_outcome_declared(&recorded.outcome, context, at.local_date())?;
            }
            let event = check_correction(*corrects, replacement.clone(), at, target, context)?;
            tenancy::check_lettings_after(*corrects, &event, at, target, context, "corrects")?;
            event
        }
        (Command::VoidEvent { voids, reason }, target) => {
            non_empty("reason", reason)?;
            let void = Event::EntryVoided(EntryVoided {
                reason: reason.clone(),
            });
            let event = check_correction(*voids, void, at, target, context)?;
            tenancy::check_lettings_after(*voids, &event, at, target, context, "voids")?;
            event
        }
        (command, StreamState::Contract(state)) => contract::decide(command, state, context)?,
        (command, StreamState::Provider(state)) => catalogue::decide_provider(command, at, state)?,
        (command, StreamState::Product(state)) => {
            catalogue::decide_product(command, at, state, context)?
        }
        (
            Command::RecordOutcome {
                beneficiary_id,
                outcome,
                value,
                evidence,
            },
            StreamState::Beneficiary(state),
        ) => {
            if state.registered().is_none() {
                return Err(DomainError::UnknownBeneficiary {
                    beneficiary_id: beneficiary_id.clone(),
                });
            }
            check_outcome_declared(outcome, context, at.local_date())?;
            if let Some(evidence) = evidence {
                non_empty("evidence", evidence)?;
            }
            Event::OutcomeRecorded(OutcomeRecorded {
                beneficiary_id: beneficiary_id.clone(),
                outcome: outcome.clone(),
                value: *value,
                evidence: evidence.clone(),
            })
        }
        (command, StreamState::Beneficiary(state)) => {
            beneficiary::decide(command, at, state, context)?
        }
        (command, StreamState::Placement(state)) => placement::decide(command, at, state, context)?,
        (command, StreamState::Path(state)) => path::decide(command, at, state, context)?,
        (command, StreamState::Settlement(state)) => {
            settlement::decide(command, at, state, context)?
        }
        (command, StreamState::Phase(state)) => phase::decide(command, at, state, context)?,
        (command, StreamState::Order(state)) => order::decide(command, at, state, context)?,
        (command, StreamState::Unit(state)) => unit::decide(command, state)?,
        (command, StreamState::Tenancy(state)) => tenancy::decide(command, at, state, context)?,
        (command, StreamState::Access(state)) => access::decide(command, state, context)?,
    };
    Ok(event)
}

/// An outcome must be one the contract's definitions in force on `date` declare.
fn check_outcome_declared(
    outcome: &str,
    context: &DecisionContext,
    date: chrono::NaiveDate,
) -> Result<(), DomainError> {
    let undeclared = || DomainError::UndeclaredOutcome {
        outcome: outcome.to_owned(),
    };
    let contract = context
        .contract
        .contract()
        .ok_or(DomainError::ContractNotRegistered)?;
    let catalog = context.definitions.ok_or_else(undeclared)?;
    let (template, text) = contract.definitions_on(date);
    let text = text
        .or_else(|| catalog.template_text(template))
        .ok_or_else(undeclared)?;
    let declared = catalog.check(text).map_err(|_| undeclared())?;
    if declared.outcomes.iter().any(|known| known == outcome) {
        Ok(())
    } else {
        Err(undeclared())
    }
}

/// A correction or void must name an effective event of the stream, keep its type, and leave a
/// stream that still replays.
fn check_correction(
    target_event: EventId,
    event: Event,
    at: OccurredAt,
    target: &StreamState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let stream_type = stream_type_of(target);
    let mut history = context.target_history.clone();
    if !history
        .iter()
        .any(|recorded| recorded.event_id == target_event)
    {
        return Err(DomainError::CorrectedEventNotFound {
            event_id: target_event,
        });
    }
    history.push(Recorded {
        event_id: EventId::nil(),
        corrects: Some(target_event),
        occurred_at: at,
        event,
    });
    replay(stream_type, &history).map_err(|error| match error {
        DomainError::EventInconsistentWithStream { event_type, reason } => {
            DomainError::CorrectionBreaksStream { event_type, reason }
        }
        other => other,
    })?;
    Ok(history.pop().expect("pushed above").event)
}

fn stream_type_of(state: &StreamState) -> StreamType {
    match state {
        StreamState::Contract(_) => StreamType::Contract,
        StreamState::Provider(_) => StreamType::Provider,
        StreamState::Product(_) => StreamType::Product,
        StreamState::Beneficiary(_) => StreamType::Beneficiary,
        StreamState::Order(_) => StreamType::Order,
        StreamState::Unit(_) => StreamType::Unit,
        StreamState::Tenancy(_) => StreamType::Tenancy,
        StreamState::Access(_) => StreamType::Access,
        StreamState::Placement(_) => StreamType::Placement,
        StreamState::Path(_) => StreamType::Path,
        StreamState::Phase(_) => StreamType::Phase,
        StreamState::Settlement(_) => StreamType::Settlement,
    }
}
