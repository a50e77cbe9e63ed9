//! Why a settlement could not be gathered: one variant per broken rule, with a stable code, so
//! that the API and the offline tool refuse alike.

use esito_domain::DomainError;
use esito_settlement::SettlementError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BooksError {
    #[error("position {position}: the entry cannot be read as an event: {reason}")]
    EntryUnreadable { position: u64, reason: String },
    #[error("stream {stream} does not replay: {error}")]
    StreamDoesNotReplay { stream: String, error: DomainError },
    #[error("the contract is not registered as of position {as_of}")]
    ContractNotRegistered { as_of: u64 },
    #[error("the contract has no payment terms in force for {period}")]
    PaymentTermsMissing { period: String },
    #[error("the settlement of {period} in the log cannot be read: {reason}")]
    SettlementDocumentUnreadable { period: String, reason: String },
    #[error("the indicator values of {period} as of position {as_of} were not gathered")]
    IndicatorValuesMissing { period: String, as_of: u64 },
    #[error(
        "indicator {indicator} pays per beneficiary, but its definition names no beneficiary \
         (`beneficiary = ...` in the template)"
    )]
    BeneficiaryKeyMissing { indicator: String },
    #[error("what earlier settlements made the payers owe adds up to {total}, below zero")]
    PaidToDateNegative { total: String },
    #[error("the log has no entry")]
    LogEmpty,
    #[error("as_of {as_of} is beyond the log's last position {size}")]
    AsOfBeyondLog { as_of: u64, size: u64 },
    #[error(
        "position {position} follows position {previous}: entries must come in position order \
         with no gaps"
    )]
    EntriesOutOfOrder { position: u64, previous: u64 },
    #[error("{0}")]
    Settlement(#[from] SettlementError),
}

impl BooksError {
    /// A stable snake_case code for each rule, for problem details and scripts; the engine's
    /// refusals keep their own.
    pub fn code(&self) -> &'static str {
        match self {
            BooksError::EntryUnreadable { .. } => "entry_unreadable",
            BooksError::StreamDoesNotReplay { .. } => "stream_does_not_replay",
            BooksError::ContractNotRegistered { .. } => "contract_not_registered",
            BooksError::PaymentTermsMissing { .. } => "payment_terms_missing",
            BooksError::SettlementDocumentUnreadable { .. } => "settlement_document_unreadable",
            BooksError::IndicatorValuesMissing { .. } => "indicator_values_missing",
            BooksError::BeneficiaryKeyMissing { .. } => "beneficiary_key_missing",
            BooksError::PaidToDateNegative { .. } => "paid_to_date_negative",
            BooksError::LogEmpty => "log_empty",
            BooksError::AsOfBeyondLog { .. } => "as_of_beyond_log",
            BooksError::EntriesOutOfOrder { .. } => "entries_out_of_order",
            BooksError::Settlement(error) => error.code(),
        }
    }

    /// True when the log itself is at fault (it cannot be read or replayed), not the request.
    pub fn is_corrupt_log(&self) -> bool {
        matches!(
            self,
            BooksError::EntryUnreadable { .. }
                | BooksError::StreamDoesNotReplay { .. }
                | BooksError::SettlementDocumentUnreadable { .. }
                | BooksError::EntriesOutOfOrder { .. }
        )
    }
}
