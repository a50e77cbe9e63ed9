//! The online settlement: a period's settlement as of the contract's head, gathered from the
//! store by `esito-books` (the books' streams from the log, the indicator values and facts
//! from the projection, caught up first), exactly as `esito settle --offline` gathers it from
//! an export.

use esito_books::{Books, BooksError, Figures, Settled};
use esito_domain::events::{contract_stream, settlement_stream};
use esito_domain::{ContractId, StreamId, StreamRef, StreamType};
use esito_indicators::Period;

use crate::projection::ReportError;
use crate::{Store, StoreError, PAGE_SIZE_MAX};

/// Why a settlement could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SettlementFailure {
    #[error("the contract has no entries")]
    EmptyLog,
    #[error(transparent)]
    Books(#[from] BooksError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The settlement of `period` as of the contract's head now (the `as_of` and tree head
    /// are the document's). Nothing is recorded: the caller appends it.
    pub async fn settlement(
        &self,
        contract_id: &ContractId,
        period: Period,
    ) -> Result<Settled, SettlementFailure> {
        let head = self
            .head(contract_id)
            .await?
            .ok_or(SettlementFailure::EmptyLog)?;
        let as_of = head.size;
        let entries = self.book_entries(contract_id).await?;
        let books = Books::from_entries(contract_id, as_of, &entries)?;
        let needs = books.needs(period)?;
        self.catch_up(contract_id, as_of).await?;
        // Every period's values in one snapshot; the counts per beneficiary are independent
        // reads, which the pool answers side by side.
        let periods: Vec<Period> = needs.iter().map(|needed| needed.period).collect();
        let reports = self
            .indicators_of_periods(contract_id, &periods, Some(as_of))
            .await?;
        let counted = futures_util::future::try_join_all(needs.iter().map(|needed| async move {
            let mut counts = Vec::with_capacity(needed.per_beneficiary.len());
            for indicator in &needed.per_beneficiary {
                counts.push((
                    indicator,
                    self.key_counts(contract_id, indicator, needed.period, Some(as_of))
                        .await?,
                ));
            }
            Ok::<_, SettlementFailure>((needed.period, counts))
        }))
        .await?;
        let mut figures = Figures::new();
        for report in reports {
            figures.insert_report(report);
        }
        for (period, counts) in counted {
            for (indicator, counts) in counts {
                figures.insert_counts(period, indicator, counts);
            }
        }
        Ok(esito_books::settle(
            &books,
            period,
            head.root_hash,
            &figures,
        )?)
    }

    /// Every entry of the streams the books read (`esito_books::BOOK_STREAM_TYPES`: the
    /// contract's, its settlements', its phases'), stream after stream, each in position order.
    pub async fn book_entries(
        &self,
        contract_id: &ContractId,
    ) -> Result<Vec<esito_log::Entry>, StoreError> {
        let mut streams = vec![contract_stream(contract_id), settlement_stream(contract_id)];
        let mut after: Option<String> = None;
        loop {
            let ids = self
                .stream_ids(
                    contract_id,
                    StreamType::Phase,
                    after.as_deref(),
                    PAGE_SIZE_MAX,
                )
                .await?;
            let full = ids.len() == PAGE_SIZE_MAX as usize;
            after = ids.last().cloned();
            for id in ids {
                let id = StreamId::parse(&id).map_err(|error| StoreError::Corrupt {
                    position: 0,
                    reason: format!("stream id {id}: {error}"),
                })?;
                streams.push(StreamRef::new(StreamType::Phase, id));
            }
            if !full {
                break;
            }
        }
        let mut entries = Vec::new();
        for stream in &streams {
            for stored in self.stream_entries(contract_id, stream).await? {
                entries.push(serde_json::from_str(&stored.entry).map_err(|error| {
                    StoreError::Corrupt {
                        position: stored.position.get(),
                        reason: error.to_string(),
                    }
                })?);
            }
        }
        Ok(entries)
    }
}
