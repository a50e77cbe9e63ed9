//! The projector's unit tests: steps, corrections and voids, distinct counts, rewinding,
//! the rebuild's chunks and templates, on small logs worked out by hand, and properties over
//! random short histories.

mod distinct;
mod invariants;
mod log;
mod rebuild;
mod rewind;
mod rows;
mod step;
mod stream;
mod templates;
