//! The projector: how log entries become the indicators' projection rows, pure. The store
//! reads the log and writes the rows; everything between (which definitions apply, what a
//! step adds and takes away, the distinct counts, the rebuild's chunks, the rows as of an
//! earlier position, the rows read back into inputs) is a function of data here.
//!
//! Invariants the projector asserts instead of clamping: a step's entries follow on from its
//! checkpoint by one position each; a row never counts fewer than no events. A broken one is
//! a [`ProjectorError::Fault`] where the function returns a `Result`, a panic where it does
//! not: the books must not go on after they disagree.

mod delta;
mod distinct;
mod error;
mod rebuild;
mod rewind;
mod rows;
mod step;
mod stream;
mod templates;
mod versions;

pub use delta::{cents, from_cents, month_of, month_range, Delta, Keys, MonthCounts, Months};
pub use distinct::{distinct_changes, DistinctChanges};
pub use error::{Invariant, ProjectorError};
pub use rebuild::{derive_chunk, DerivedChunk};
pub use rewind::rewind;
pub use rows::{aggregates_of, fact_from_row, inputs_by_indicator, key_counts, part_of};
pub use step::{
    check_contiguous, derive_batch, derived, earlier_targets, missing_target, parse_entry,
    plan_step, read_step, stored_error, Advance, BatchFacts,
};
pub use stream::{Projected, SpanFacts, Streamed};
pub use templates::{
    after_templates, definitions_of, needs_text, prime, restart_for_definitions, ProjectionState,
    StepPlan,
};
pub use versions::{
    block_end, block_of, rewind_aggregates, room_in_block, step_versions, DistinctRow, KeyRow,
    MonthRow, Running, Versions, BLOCK_ENTRIES,
};
