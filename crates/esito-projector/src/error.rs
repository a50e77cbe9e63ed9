//! Why the projector refused its input: an entry or a row it cannot read, definitions that do
//! not parse, or a broken invariant (`Fault`), which it reports instead of clamping.

/// Why entries or rows could not be projected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectorError {
    /// A stored entry or row that cannot be read or derived.
    #[error("position {position}: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("the indicator definitions built into this binary are invalid: {0}")]
    Definitions(String),
    /// The input breaks an invariant the projector relies on: the rows and the log disagree.
    #[error("the projector's invariant is broken: {0}")]
    Fault(Invariant),
}

/// The invariants the projector asserts of its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invariant {
    /// A step's entries start at its checkpoint + 1 and go on by one, as the log's positions do.
    #[error("position {found} came where position {expected} was due")]
    PositionsNotContiguous { expected: u64, found: u64 },
    /// The log is read for a rebuild in chunks of at least one entry.
    #[error("a chunk of the log holds no entries")]
    EmptyChunk,
    /// A row counts events, and a count is never below zero.
    #[error("indicator `{indicator}` part {part}, {row}: {events} events")]
    CountBelowZero {
        indicator: String,
        part: i16,
        /// The month (`YYYY-MM`) or the key the row is for.
        row: String,
        events: i64,
    },
}

impl ProjectorError {
    /// The log position the error is about; 0 when it is about a row, not an entry.
    pub fn position(&self) -> u64 {
        match self {
            ProjectorError::Corrupt { position, .. } => *position,
            ProjectorError::Fault(Invariant::PositionsNotContiguous { found, .. }) => *found,
            ProjectorError::Definitions(_) | ProjectorError::Fault(_) => 0,
        }
    }
}

impl From<Invariant> for ProjectorError {
    fn from(broken: Invariant) -> Self {
        ProjectorError::Fault(broken)
    }
}
