//! The domain of outcome-based contracts: values, commands, events and the rules between them. No I/O.
//!
//! Everything here is a function of data: no database, no HTTP, no clock, no environment, so
//! the same rules run in the service, in tests and in an evaluator's offline re-computation.

#[cfg(feature = "cqrs")]
pub mod aggregate_shims;
pub mod aggregates;
pub mod commands;
pub mod definitions;
pub mod errors;
pub mod events;
pub mod period;
pub mod procurement;
pub mod terms;
pub mod values;
pub mod vat;

pub use aggregates::{
    decide, effective_events, peers_read, replay, DecisionContext, Recorded, StreamState,
};
pub use commands::{Command, Submission, Target};
pub use definitions::{CheckedDefinitions, DefinitionsCatalog};
pub use errors::DomainError;
pub use events::{Event, StreamRef, StreamType, SCHEMA_VERSION};
pub use period::{Period, PeriodError};
pub use procurement::{Cig, CodeError, Cup, Procurement};
pub use terms::{ContractChange, ContractTerms, FunderTerms, PaymentRule, PaymentTerms};
pub use values::{
    ContractId, Currency, EventId, Money, Month, OccurredAt, Rate, Share, StreamId, ValueError,
};
pub use vat::{Payee, VatRegime};
