//! The offline settlement: a period's settlement from a log's entries alone, as an evaluator
//! computes it from an export: the indicators projected in memory, the books read from the
//! same entries, the tree head rebuilt from their leaf hashes.
//!
//! Invariant: entries are read once, in position order, and not kept (but for the few of the
//! books' streams), so memory grows with the indicators' facts, not with the log.

use esito_domain::{ContractId, StreamType};
use esito_indicators::facts::EntryView;
use esito_indicators::{Definitions, MemoryProjection, Period};
use esito_log::{Entry, Frontier};

use crate::books::{Books, BOOK_STREAM_TYPES};
use crate::error::BooksError;
use crate::gather::{settle, Figures, Settled};

/// The `as_of` of the calculation of `period` in force in the log: what an evaluator
/// re-computes by default. `None` when the log holds no settlement of the period. Only
/// settlement entries are looked at.
pub fn recorded_as_of<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    period: Period,
) -> Option<u64> {
    let label = period.to_string();
    entries
        .into_iter()
        .filter(|entry| {
            entry.stream_type == StreamType::Settlement.as_str()
                && entry.event_type == "SettlementCalculated"
                && entry.payload.get("period").and_then(|p| p.as_str()) == Some(label.as_str())
        })
        .filter_map(|entry| entry.payload.get("as_of").and_then(|as_of| as_of.as_u64()))
        .last()
}

/// The settlement of `period` as of `as_of` from the log's entries in position order (entries
/// after `as_of` are not read). The outer error is the reader's, the inner the log's or the
/// settlement's.
pub fn settlement<E>(
    definitions: &Definitions,
    entries: impl IntoIterator<Item = Result<Entry, E>>,
    period: Period,
    as_of: u64,
) -> Result<Result<Settled, BooksError>, E> {
    let mut projection = MemoryProjection::new();
    let mut frontier = Frontier::new();
    let mut kept = Vec::new();
    let mut contract_id = None;
    let mut canonical = Vec::with_capacity(1024);
    for entry in entries {
        let entry = entry?;
        if entry.position > as_of {
            break;
        }
        if entry.position != frontier.size() + 1 {
            return Ok(Err(BooksError::EntriesOutOfOrder {
                position: entry.position,
                previous: frontier.size(),
            }));
        }
        canonical.clear();
        entry.write_canonical(&mut canonical);
        frontier.push(esito_log::leaf_hash(&canonical));
        if let Err(error) = projection.apply(definitions, EntryView::from(&entry)) {
            return Ok(Err(BooksError::EntryUnreadable {
                position: entry.position,
                reason: error.to_string(),
            }));
        }
        if contract_id.is_none() {
            contract_id = Some(entry.contract_id.clone());
        }
        if BOOK_STREAM_TYPES
            .iter()
            .any(|kind| kind.as_str() == entry.stream_type)
        {
            kept.push(entry);
        }
    }
    Ok(settle_projected(
        definitions,
        &projection,
        &frontier,
        contract_id,
        &kept,
        period,
        as_of,
    ))
}

fn settle_projected(
    definitions: &Definitions,
    projection: &MemoryProjection,
    frontier: &Frontier,
    contract_id: Option<String>,
    kept: &[Entry],
    period: Period,
    as_of: u64,
) -> Result<Settled, BooksError> {
    let contract_id = contract_id.ok_or(BooksError::LogEmpty)?;
    if frontier.size() < as_of {
        return Err(BooksError::AsOfBeyondLog {
            as_of,
            size: frontier.size(),
        });
    }
    let contract_id =
        ContractId::parse(&contract_id).map_err(|error| BooksError::EntryUnreadable {
            position: 1,
            reason: error.to_string(),
        })?;
    let books = Books::from_entries(&contract_id, as_of, kept)?;
    let mut figures = Figures::new();
    for needed in books.needs(period)? {
        let report = esito_indicators::report::build(
            definitions,
            contract_id.as_str(),
            as_of,
            needed.period,
            |indicator| projection.inputs(indicator, needed.period, as_of),
        );
        for id in &needed.per_beneficiary {
            if let Some(indicator) = definitions.indicators.iter().find(|i| i.id == *id) {
                let facts = projection
                    .explain(indicator, needed.period, as_of)
                    .into_iter()
                    .cloned()
                    .collect();
                figures.insert_facts(needed.period, id, facts);
            }
        }
        figures.insert_report(report);
    }
    settle(&books, period, frontier.root(), &figures)
}
