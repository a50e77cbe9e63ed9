//! The offline re-computation: the indicators of a period from a log's entries alone, as an
//! evaluator computes them from an export.

use crate::definitions::Definitions;
use crate::facts::{DeriveError, EntryView};
use crate::memory::MemoryProjection;
use crate::period::Period;
use crate::report::{build, IndicatorReport};

/// A log the report cannot be computed from.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error(transparent)]
    Derive(#[from] DeriveError),
    #[error("the log is empty")]
    Empty,
    #[error("as_of {as_of} is beyond the log's last position {size}")]
    AsOfBeyondLog { as_of: u64, size: u64 },
    #[error("position {position} follows position {previous}: entries must come in position order with no gaps")]
    OutOfOrder { position: u64, previous: u64 },
}

/// The report for `period` as of `as_of` (default: the last entry), from entries in position
/// order. Entries after `as_of` are not needed and are not read.
pub fn indicators<E>(
    definitions: &Definitions,
    entries: impl IntoIterator<Item = Result<esito_log::Entry, E>>,
    period: Period,
    as_of: Option<u64>,
) -> Result<Result<IndicatorReport, OfflineError>, E> {
    let mut projection = MemoryProjection::new();
    let mut contract_id = None;
    for entry in entries {
        let entry = entry?;
        if as_of.is_some_and(|as_of| entry.position > as_of) {
            break;
        }
        if entry.position != projection.position() + 1 {
            return Ok(Err(OfflineError::OutOfOrder {
                position: entry.position,
                previous: projection.position(),
            }));
        }
        contract_id.get_or_insert_with(|| entry.contract_id.clone());
        if let Err(error) = projection.apply(definitions, EntryView::from(&entry)) {
            return Ok(Err(error.into()));
        }
    }
    let size = projection.position();
    let Some(contract_id) = contract_id else {
        return Ok(Err(OfflineError::Empty));
    };
    let as_of = as_of.unwrap_or(size);
    if as_of > size {
        return Ok(Err(OfflineError::AsOfBeyondLog { as_of, size }));
    }
    Ok(Ok(build(
        definitions,
        &contract_id,
        as_of,
        period,
        |indicator| projection.inputs(indicator, period, as_of),
    )))
}
