//! The books: the streams a settlement depends on, replayed from the log as of a position.
//!
//! Invariant: only entries at or before `as_of` are read, and each stream is replayed by the
//! domain's own `replay` (corrections applied, voids left out), so the books hold exactly what
//! the service's own decisions saw at that position.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use esito_domain::aggregates::{PeriodSettlement, PhaseState, SettlementState};
use esito_domain::{
    replay, ContractId, ContractTerms, Event, EventId, OccurredAt, PaymentRule, Recorded, StreamId,
    StreamRef, StreamState, StreamType,
};
use esito_indicators::Period;
use esito_log::Entry;

use crate::error::BooksError;

/// The stream types a settlement reads besides the indicators: the contract's terms, Cremona's
/// phases (milestones) and the earlier settlements. An online caller fetches these streams.
pub const BOOK_STREAM_TYPES: [StreamType; 3] = [
    StreamType::Contract,
    StreamType::Phase,
    StreamType::Settlement,
];

/// What the log says, as of a position, about a contract's terms, phases and settlements.
#[derive(Debug, Clone)]
pub struct Books {
    pub(crate) contract_id: ContractId,
    pub(crate) as_of: u64,
    pub(crate) contract: esito_domain::aggregates::ContractState,
    pub(crate) phases: Vec<PhaseState>,
    pub(crate) settlements: SettlementState,
}

/// One period whose indicator values a settlement needs, and the indicators whose facts it
/// needs too (those a rule pays per beneficiary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub period: Period,
    pub per_beneficiary: Vec<String>,
}

/// One entry of the log as the domain replays it: its stream and the typed event it records.
pub fn recorded(entry: &Entry) -> Result<(StreamRef, Recorded), BooksError> {
    let unreadable = |reason: String| BooksError::EntryUnreadable {
        position: entry.position,
        reason,
    };
    let stream_type = StreamType::parse(&entry.stream_type)
        .ok_or_else(|| unreadable(format!("unknown stream type {}", entry.stream_type)))?;
    let stream_id = StreamId::parse(&entry.stream_id).map_err(|e| unreadable(e.to_string()))?;
    let parse_id = |text: &str| EventId::parse_str(text).map_err(|e| unreadable(e.to_string()));
    let recorded = Recorded {
        event_id: parse_id(&entry.event_id)?,
        corrects: entry.corrects.as_deref().map(parse_id).transpose()?,
        occurred_at: OccurredAt::parse(&entry.occurred_at)
            .map_err(|e| unreadable(e.to_string()))?,
        event: Event::from_parts(&entry.event_type, entry.payload.clone())
            .map_err(|e| unreadable(e.to_string()))?,
    };
    Ok((StreamRef::new(stream_type, stream_id), recorded))
}

impl Books {
    /// Reads the books from the log's entries: each stream's in position order (the streams
    /// may come one after another, or interleaved as in the log). Entries after `as_of`, and
    /// entries of streams the books do not read, are skipped.
    pub fn from_entries<'a>(
        contract_id: &ContractId,
        as_of: u64,
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Result<Self, BooksError> {
        let mut histories: BTreeMap<StreamRef, Vec<Recorded>> = BTreeMap::new();
        for entry in entries {
            if entry.position > as_of
                || !BOOK_STREAM_TYPES
                    .iter()
                    .any(|kind| kind.as_str() == entry.stream_type)
            {
                continue;
            }
            let (stream, recorded) = recorded(entry)?;
            histories.entry(stream).or_default().push(recorded);
        }
        let mut books = Books {
            contract_id: contract_id.clone(),
            as_of,
            contract: Default::default(),
            phases: Vec::new(),
            settlements: SettlementState::default(),
        };
        for (stream, history) in &histories {
            let state = replay(stream.stream_type, history).map_err(|error| {
                BooksError::StreamDoesNotReplay {
                    stream: format!("{}/{}", stream.stream_type.as_str(), stream.stream_id),
                    error,
                }
            })?;
            match state {
                // The contract's own stream is the one named by its id.
                StreamState::Contract(contract)
                    if stream.stream_id.as_str() == contract_id.as_str() =>
                {
                    books.contract = contract
                }
                StreamState::Phase(phase) => books.phases.push(phase),
                StreamState::Settlement(settlements)
                    if stream.stream_id.as_str() == contract_id.as_str() =>
                {
                    books.settlements = settlements
                }
                _ => {}
            }
        }
        if books.contract.registered().is_none() {
            return Err(BooksError::ContractNotRegistered { as_of });
        }
        Ok(books)
    }

    pub fn contract_id(&self) -> &ContractId {
        &self.contract_id
    }

    /// The log position the books are read as of.
    pub fn as_of(&self) -> u64 {
        self.as_of
    }

    /// The contract's registration and amendments up to `as_of`.
    pub fn contract(&self) -> &esito_domain::aggregates::ContractState {
        &self.contract
    }

    /// The settlements recorded up to `as_of`, in period order.
    pub fn settlements(&self) -> &SettlementState {
        &self.settlements
    }

    /// The terms in force for a period: those of its last day, every amendment effective by
    /// then applied (the rules a period's results are paid by are the rules at its end).
    pub(crate) fn terms_for(&self, period: Period) -> Result<ContractTerms, BooksError> {
        self.contract
            .terms_on(last_day(period))
            .ok_or(BooksError::ContractNotRegistered { as_of: self.as_of })
    }

    /// The earlier settlements a settlement of `period` builds on: those of the periods that
    /// ended by its start, in period order. A settlement of `period` itself, or of a later one,
    /// is not history.
    pub(crate) fn earlier(&self, period: Period) -> Vec<&PeriodSettlement> {
        self.settlements
            .periods
            .iter()
            .filter(|settlement| settlement.calculated.period_end_on <= period.start_on())
            .collect()
    }

    /// The periods whose indicator values the settlement of `period` needs: its own, then each
    /// earlier settled period (recomputed as of the same position, to be restated).
    pub fn needs(&self, period: Period) -> Result<Vec<Needed>, BooksError> {
        let mut periods = vec![period];
        for earlier in self.earlier(period) {
            periods.push(earlier.calculated.period);
        }
        periods
            .into_iter()
            .map(|period| {
                let terms = self.terms_for(period)?;
                let payment_terms =
                    terms
                        .payment_terms
                        .ok_or_else(|| BooksError::PaymentTermsMissing {
                            period: period.to_string(),
                        })?;
                Ok(Needed {
                    period,
                    per_beneficiary: per_beneficiary(&payment_terms.rules),
                })
            })
            .collect()
    }
}

/// The indicators of rate cards that limit what one beneficiary may earn.
pub(crate) fn per_beneficiary(rules: &[PaymentRule]) -> Vec<String> {
    rules
        .iter()
        .filter_map(|rule| match rule {
            PaymentRule::RateCard {
                indicator,
                max_per_beneficiary,
                cap_per_beneficiary,
                ..
            } if max_per_beneficiary.is_some() || cap_per_beneficiary.is_some() => {
                Some(indicator.clone())
            }
            _ => None,
        })
        .collect()
}

/// A period's last day.
pub(crate) fn last_day(period: Period) -> NaiveDate {
    period
        .end_on()
        .pred_opt()
        .expect("a period ends after the first representable day")
}
