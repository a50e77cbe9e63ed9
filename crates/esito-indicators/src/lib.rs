//! Indicator definitions and the seven kinds, as folds over log entries: the same code online
//! (the store's projector) and offline (an evaluator's export).
//!
//! The flow: a template's TOML file → [`Definitions`]; each log entry → [`Fact`]s ([`derive`]);
//! the facts that count as of a position, for a period → [`Inputs`]; inputs → a [`Value`]
//! ([`value`]). Nothing here reads a database, a clock or the environment.

pub mod definitions;
pub mod evaluate;
pub mod facts;
pub mod in_force;
pub mod memory;
pub mod offline;
pub mod outcomes;
pub mod period;
mod reads;
pub mod report;
mod selection;
pub mod stored;
pub mod templates;
pub mod themes;
pub mod window;

pub use definitions::{Area, DefinitionError, Definitions, Indicator, Kind};
pub use evaluate::{value, Aggregate, Inputs, Value};
pub use facts::{derive, Derived, EntryView, Fact, Part};
pub use memory::MemoryProjection;
pub use period::{Period, PeriodError};
pub use report::{IndicatorReport, IndicatorValue, RangeReport};
pub use stored::{StoredEntry, StoredError};
pub use themes::{GridCell, Theme};
pub use window::{EmptyWindow, Window};
