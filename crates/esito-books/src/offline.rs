//! The offline settlement and indicators: a period's figures from a log's entries alone, as an
//! evaluator computes them from an export: the indicators projected by the store's own
//! projector into rows held in memory, the books read from the same entries, the tree head
//! rebuilt from their leaf hashes.
//!
//! Invariant: entries are read twice, in position order, and not kept (but for the few of the
//! books' streams and those later entries supersede): memory grows with the projection's rows
//! (indicators × months, keys per year), not with the log. The values are read from the rows
//! exactly as the store reads its own, so offline and online documents are the same bytes.

use std::collections::HashSet;

use esito_domain::{ContractId, StreamType};
use esito_indicators::in_force::Namings;
use esito_indicators::{Definitions, EntryView, IndicatorReport, Period};
use esito_log::{Entry, Frontier};
use esito_projector::{Projected, ProjectorError, Streamed};

use crate::books::{Books, Needed, BOOK_STREAM_TYPES};
use crate::error::BooksError;
use crate::gather::{settle, Figures, Settled};

/// The `as_of` of the calculation of `period` in force in the log: what an evaluator
/// re-computes by default. `None` when the log holds no settlement of the period, or when its
/// last calculation was withdrawn. Only settlement entries are looked at.
pub fn recorded_as_of<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    period: Period,
) -> Option<u64> {
    let label = period.to_string();
    entries
        .into_iter()
        .filter(|entry| {
            entry.stream_type == StreamType::Settlement.as_str()
                && entry.payload.get("period").and_then(|p| p.as_str()) == Some(label.as_str())
        })
        .fold(None, |in_force, entry| match entry.event_type.as_str() {
            "SettlementCalculated" => entry.payload.get("as_of").and_then(|as_of| as_of.as_u64()),
            "SettlementWithdrawn" => None,
            _ => in_force,
        })
}

/// What a first reading of a log up to `as_of` tells before it is projected: its contract,
/// its size, the definitions it names, the event ids its entries correct or void (whose
/// entries the projection keeps), the books' entries, and, when asked for, the tree head.
#[derive(Debug, Default)]
struct Survey {
    contract_id: Option<String>,
    namings: Namings,
    size: u64,
    targets: HashSet<String>,
    books: Vec<Entry>,
    frontier: Option<Frontier>,
}

fn survey<E>(
    entries: impl IntoIterator<Item = Result<Entry, E>>,
    as_of: Option<u64>,
    with_root: bool,
) -> Result<Result<Survey, BooksError>, E> {
    let mut survey = Survey {
        frontier: with_root.then(Frontier::new),
        ..Survey::default()
    };
    let mut canonical = Vec::with_capacity(1024);
    for entry in entries {
        let entry = entry?;
        if as_of.is_some_and(|as_of| entry.position > as_of) {
            break;
        }
        if entry.position != survey.size + 1 {
            return Ok(Err(BooksError::EntriesOutOfOrder {
                position: entry.position,
                previous: survey.size,
            }));
        }
        survey.size = entry.position;
        if let Some(frontier) = &mut survey.frontier {
            canonical.clear();
            entry.write_canonical(&mut canonical);
            frontier.push(esito_log::leaf_hash(&canonical));
        }
        survey
            .contract_id
            .get_or_insert_with(|| entry.contract_id.clone());
        if let Some(target) = &entry.corrects {
            survey.targets.insert(target.clone());
        }
        if entry.event_type.starts_with("Contract") {
            if let Err(error) = survey.namings.read(EntryView::from(&entry)) {
                return Ok(Err(BooksError::EntryUnreadable {
                    position: error.position(),
                    reason: error.to_string(),
                }));
            }
        }
        if with_root
            && BOOK_STREAM_TYPES
                .iter()
                .any(|kind| kind.as_str() == entry.stream_type)
        {
            survey.books.push(entry);
        }
    }
    Ok(Ok(survey))
}

impl Survey {
    /// The definitions `period` is computed with: `given` when the caller gives its own, else
    /// those the log names in force for the period as of `as_of` (`esito_indicators::in_force`).
    fn definitions<'d>(
        &self,
        given: Option<&'d Definitions>,
        period: Period,
        as_of: u64,
    ) -> Result<&'d Definitions, BooksError> {
        match given {
            Some(given) => Ok(given),
            None => self
                .namings
                .in_force(period, as_of)
                .ok_or(BooksError::ContractNotRegistered { as_of }),
        }
    }
}

/// The log up to `as_of` projected by the store's projector ([`Streamed`]), read a second
/// time; the survey named the entries to keep.
fn project<E>(
    definitions: &Definitions,
    entries: impl IntoIterator<Item = Result<Entry, E>>,
    targets: HashSet<String>,
    as_of: u64,
) -> Result<Result<Projected, BooksError>, E> {
    let unreadable = |error: ProjectorError| BooksError::EntryUnreadable {
        position: error.position(),
        reason: error.to_string(),
    };
    let mut projection = Streamed::new(definitions, targets);
    for entry in entries {
        let entry = entry?;
        if entry.position > as_of {
            break;
        }
        if let Err(error) = projection.push(entry) {
            return Ok(Err(unreadable(error)));
        }
    }
    Ok(projection.finish().map_err(unreadable))
}

/// The report of `period` from the projected rows.
fn report(
    definitions: &Definitions,
    contract_id: &str,
    projected: &Projected,
    period: Period,
) -> Result<IndicatorReport, BooksError> {
    let mut inputs = projected
        .inputs(period)
        .map_err(|error| BooksError::EntryUnreadable {
            position: error.position(),
            reason: error.to_string(),
        })?;
    Ok(esito_indicators::report::build(
        definitions,
        contract_id,
        projected.position(),
        period,
        |indicator| inputs.remove(&indicator.id).unwrap_or_default(),
    ))
}

/// The indicators of `period` as of `as_of` (default: the last entry) from a log's entries
/// in position order, read twice (`read` gives them from the start each time), with the
/// definitions given or else those the log names in force for the period. The outer error is
/// the reader's, the inner the log's.
pub fn indicators<I, E>(
    definitions: Option<&Definitions>,
    mut read: impl FnMut() -> Result<I, E>,
    period: Period,
    as_of: Option<u64>,
) -> Result<Result<IndicatorReport, BooksError>, E>
where
    I: IntoIterator<Item = Result<Entry, E>>,
{
    let survey = match survey(read()?, as_of, false)? {
        Ok(survey) => survey,
        Err(error) => return Ok(Err(error)),
    };
    let Some(contract_id) = survey.contract_id.clone() else {
        return Ok(Err(BooksError::LogEmpty));
    };
    let as_of = as_of.unwrap_or(survey.size);
    if as_of > survey.size {
        return Ok(Err(BooksError::AsOfBeyondLog {
            as_of,
            size: survey.size,
        }));
    }
    let definitions = match survey.definitions(definitions, period, as_of) {
        Ok(definitions) => definitions,
        Err(error) => return Ok(Err(error)),
    };
    Ok(project(definitions, read()?, survey.targets, as_of)?
        .and_then(|projected| report(definitions, &contract_id, &projected, period)))
}

/// The settlement of `period` as of `as_of` from the log's entries in position order, read
/// twice (`read` gives them from the start each time; entries after `as_of` are not read), and
/// once more for each other definitions the periods it needs are computed with. The outer
/// error is the reader's, the inner the log's or the settlement's.
pub fn settlement<I, E>(
    definitions: Option<&Definitions>,
    mut read: impl FnMut() -> Result<I, E>,
    period: Period,
    as_of: u64,
) -> Result<Result<Settled, BooksError>, E>
where
    I: IntoIterator<Item = Result<Entry, E>>,
{
    let survey = match survey(read()?, Some(as_of), true)? {
        Ok(survey) => survey,
        Err(error) => return Ok(Err(error)),
    };
    let Some(contract_id) = survey.contract_id.clone() else {
        return Ok(Err(BooksError::LogEmpty));
    };
    if survey.size < as_of {
        return Ok(Err(BooksError::AsOfBeyondLog {
            as_of,
            size: survey.size,
        }));
    }
    let contract_id = match ContractId::parse(&contract_id) {
        Ok(contract_id) => contract_id,
        Err(error) => {
            return Ok(Err(BooksError::EntryUnreadable {
                position: 1,
                reason: error.to_string(),
            }))
        }
    };
    let books = match Books::from_entries(&contract_id, as_of, &survey.books) {
        Ok(books) => books,
        Err(error) => return Ok(Err(error)),
    };
    let needs = match books.needs(period) {
        Ok(needs) => needs,
        Err(error) => return Ok(Err(error)),
    };
    // The periods needed, by the definitions each is computed with, in the order first met.
    let mut by_definitions: Vec<(&Definitions, Vec<Needed>)> = Vec::new();
    for needed in needs {
        let definitions = match survey.definitions(definitions, needed.period, as_of) {
            Ok(definitions) => definitions,
            Err(error) => return Ok(Err(error)),
        };
        match by_definitions
            .iter_mut()
            .find(|(known, _)| known.sha256 == definitions.sha256)
        {
            Some((_, periods)) => periods.push(needed),
            None => by_definitions.push((definitions, vec![needed])),
        }
    }
    let mut figures = Figures::new();
    for (definitions, needed) in by_definitions {
        let projected = match project(definitions, read()?, survey.targets.clone(), as_of)? {
            Ok(projected) => projected,
            Err(error) => return Ok(Err(error)),
        };
        if let Err(error) = figures_of(definitions, &books, &projected, &needed, &mut figures) {
            return Ok(Err(error));
        }
    }
    let root = survey
        .frontier
        .as_ref()
        .expect("a survey with the root keeps its frontier")
        .root();
    Ok(settle(&books, period, root, &figures))
}

/// The figures the books need for the periods `needed`, from the rows projected with their
/// definitions: a report per period and each beneficiary's count where a rate card pays per
/// beneficiary, as the store gives them.
fn figures_of(
    definitions: &Definitions,
    books: &Books,
    projected: &Projected,
    needed: &[Needed],
    figures: &mut Figures,
) -> Result<(), BooksError> {
    for needed in needed {
        for id in &needed.per_beneficiary {
            let counts = projected.key_counts(id, needed.period).map_err(|error| {
                BooksError::EntryUnreadable {
                    position: error.position(),
                    reason: error.to_string(),
                }
            })?;
            figures.insert_counts(needed.period, id, counts);
        }
        figures.insert_report(report(
            definitions,
            books.contract_id().as_str(),
            projected,
            needed.period,
        )?);
    }
    Ok(())
}
