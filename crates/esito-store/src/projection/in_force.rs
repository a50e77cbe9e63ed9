//! Which definitions a period's values come from, and where they are read: the rows, when the
//! definitions they are derived with are those in force for the period as of the position asked
//! (`esito_indicators::in_force`); otherwise the log itself, projected in memory by the same
//! projector with the definitions in force.
//!
//! Invariant: a contract whose definitions were never amended is always answered from the rows,
//! at no cost beyond the projection's state; an amended one costs one read of its contract
//! stream, and a period before the amendment's effective date (or a position before the
//! amendment) a read of the log up to the position asked.

use std::collections::HashSet;

use esito_indicators::in_force::Namings;
use esito_indicators::{Definitions, EntryView};
use esito_projector::{Projected, Streamed};

use super::*;
use crate::backend::each_backend;
use crate::db;
use crate::log::{stored_entry, EntryRow};

/// Where a period's values are read from, with the definitions in force for it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    Rows(&'static Definitions),
    Log(&'static Definitions),
}

impl Source {
    pub(crate) fn definitions(self) -> &'static Definitions {
        match self {
            Source::Rows(definitions) | Source::Log(definitions) => definitions,
        }
    }
}

/// The source of a range of days ending before `end_on` as of `as_of`, given the entries that
/// name definitions (none: only the registration does) and the rows' definitions `rows`.
pub(crate) fn source_of(
    namings: Option<&Namings>,
    rows: &'static Definitions,
    end_on: chrono::NaiveDate,
    as_of: u64,
) -> Source {
    match namings.and_then(|namings| namings.in_force_until(end_on, as_of)) {
        Some(in_force) if in_force.sha256 != rows.sha256 => Source::Log(in_force),
        _ => Source::Rows(rows),
    }
}

impl Store {
    /// The source of the values of a range of days ending before `end_on` (a period's, or a
    /// window's) as of `as_of`, the rows being derived with `rows` (the definitions `state`
    /// names).
    pub(crate) async fn source(
        &self,
        contract_id: &ContractId,
        state: &ProjectionState,
        rows: &'static Definitions,
        end_on: chrono::NaiveDate,
        as_of: u64,
    ) -> Result<Source, StoreError> {
        let namings = self.namings_if_amended(contract_id, state, as_of).await?;
        Ok(source_of(namings.as_ref(), rows, end_on, as_of))
    }

    /// The entries that name definitions up to `as_of`, if any but the registration does
    /// (none: the registration's are in force everywhere, at no read).
    pub(crate) async fn namings_if_amended(
        &self,
        contract_id: &ContractId,
        state: &ProjectionState,
        as_of: u64,
    ) -> Result<Option<Namings>, StoreError> {
        if state.template_named_at <= 1 {
            return Ok(None);
        }
        Ok(Some(self.namings(contract_id, as_of).await?))
    }

    /// The entries of the contract's own stream up to `as_of` that name definitions.
    async fn namings(&self, contract_id: &ContractId, as_of: u64) -> Result<Namings, StoreError> {
        let rows: Vec<EntryRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT position, leaf_hash, entry FROM log_entries
                 WHERE contract_id = $1 AND stream_type = 'contract' AND position <= $2
                 ORDER BY position",
            )
            .bind(contract_id.as_str())
            .bind(db::to_i64(as_of)?)
            .fetch_all(&store.pool)
            .await?
        });
        let mut namings = Namings::new();
        for row in rows {
            let stored = stored_entry(row)?;
            let entry = parse_entry(stored.position.get(), &stored.entry)?;
            namings
                .read(EntryView::from(&entry))
                .map_err(|error| StoreError::Corrupt {
                    position: error.position(),
                    reason: error.to_string(),
                })?;
        }
        Ok(namings)
    }

    /// The log up to `as_of` projected in memory with `definitions`, as the offline
    /// computation does: read once for the entries that later ones correct or void, and once
    /// to project.
    pub(crate) async fn projected_from_log(
        &self,
        contract_id: &ContractId,
        definitions: &'static Definitions,
        as_of: u64,
    ) -> Result<Projected, StoreError> {
        let mut targets = HashSet::new();
        self.each_entry(contract_id, as_of, |entry| {
            if let Some(target) = entry.corrects {
                targets.insert(target);
            }
            Ok(())
        })
        .await?;
        let mut projection = Streamed::new(definitions, targets);
        self.each_entry(contract_id, as_of, |entry| {
            projection.push(entry).map_err(StoreError::from)
        })
        .await?;
        Ok(projection.finish()?)
    }

    /// Calls `each` with the entries up to `as_of`, in position order, a page at a time.
    async fn each_entry(
        &self,
        contract_id: &ContractId,
        as_of: u64,
        mut each: impl FnMut(Entry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut position = 0;
        while position < as_of {
            let page = self
                .entries(contract_id, position, crate::PAGE_SIZE_MAX)
                .await?;
            let Some(last) = page.last() else { break };
            position = last.position.get();
            for stored in page.iter().filter(|stored| stored.position.get() <= as_of) {
                each(parse_entry(stored.position.get(), &stored.entry)?)?;
            }
        }
        Ok(())
    }
}
