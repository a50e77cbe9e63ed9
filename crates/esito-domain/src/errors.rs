//! Why a command was refused: one variant per broken rule, with a stable snake_case code.

use chrono::NaiveDate;

use crate::events::IseeBand;
use crate::values::{EventId, Money, Month, StreamId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the contract is not registered")]
    ContractNotRegistered,
    #[error("the contract is already registered")]
    ContractAlreadyRegistered,
    #[error("the term ends before it starts")]
    TermEndsBeforeItStarts,
    #[error(
        "occurred_at falls on {date}, outside the contract's term {term_start_on} to {term_end_on}"
    )]
    DateOutsideContractTerm {
        date: NaiveDate,
        term_start_on: NaiveDate,
        term_end_on: NaiveDate,
    },
    #[error("{field} must not be empty")]
    FieldEmpty { field: &'static str },
    #[error("provider {provider_id} is already accredited")]
    ProviderAlreadyAccredited { provider_id: StreamId },
    #[error("provider {provider_id} is not accredited in this contract")]
    UnknownProvider { provider_id: StreamId },
    #[error("product {product_id} is already listed")]
    ProductAlreadyListed { product_id: StreamId },
    #[error("product {product_id} is not in the catalogue")]
    UnknownProduct { product_id: StreamId },
    #[error("the tariffs have no price for ISEE band {band:?}")]
    TariffMissingForBand { band: IseeBand },
    #[error("beneficiary {beneficiary_id} is already registered")]
    BeneficiaryAlreadyRegistered { beneficiary_id: StreamId },
    #[error("beneficiary {beneficiary_id} is not registered in this contract")]
    UnknownBeneficiary { beneficiary_id: StreamId },
    #[error("household_size must be 1 to 20 (got {household_size})")]
    HouseholdSizeOutOfRange { household_size: u8 },
    #[error("order {order_id} is already placed")]
    OrderAlreadyPlaced { order_id: StreamId },
    #[error("order {order_id} was never placed")]
    UnknownOrder { order_id: StreamId },
    #[error("price {price} is not the tariff {tariff} of ISEE band {band:?}")]
    PriceIsNotTheTariff {
        band: IseeBand,
        tariff: Money,
        price: Money,
    },
    #[error("order {order_id} is cancelled")]
    OrderCancelled { order_id: StreamId },
    #[error("order {order_id} already has its token")]
    TokenAlreadyIssued { order_id: StreamId },
    #[error("order {order_id} has no token yet")]
    TokenNotIssued { order_id: StreamId },
    #[error("expires_on {expires_on} is before the token is issued")]
    TokenExpiresBeforeIssue { expires_on: NaiveDate },
    #[error("the token of order {order_id} is already redeemed")]
    TokenAlreadyRedeemed { order_id: StreamId },
    #[error("the token was issued to provider {token_provider_id}, not to {provider_id}")]
    TokenDeliveredByAnotherProvider {
        token_provider_id: StreamId,
        provider_id: StreamId,
    },
    #[error("the token expired on {expires_on}")]
    TokenExpired { expires_on: NaiveDate },
    #[error("the token does not expire before {expires_on}")]
    TokenNotYetExpired { expires_on: NaiveDate },
    #[error("the token of order {order_id} can no longer be refunded or used")]
    TokenNotRefundable { order_id: StreamId },
    #[error("refund {amount} is above the price paid {price}")]
    RefundAbovePrice { amount: Money, price: Money },
    #[error("unit {unit_id} is already available")]
    UnitAlreadyAvailable { unit_id: StreamId },
    #[error("unit {unit_id} was never made available to the programme")]
    UnknownUnit { unit_id: StreamId },
    #[error("tenancy {tenancy_id} has already started")]
    TenancyAlreadyStarted { tenancy_id: StreamId },
    #[error("tenancy {tenancy_id} was never started")]
    UnknownTenancy { tenancy_id: StreamId },
    #[error("tenancy {tenancy_id} has ended")]
    TenancyEnded { tenancy_id: StreamId },
    #[error("rent {monthly_rent} is above the pact's cap {rent_cap}")]
    RentAboveCap {
        monthly_rent: Money,
        rent_cap: Money,
    },
    #[error("rent for {month} is already charged")]
    RentAlreadyCharged { month: Month },
    #[error("no rent was charged for {month}")]
    RentNotCharged { month: Month },
    #[error("payments for {month} would exceed the rent charged, {charged}")]
    RentOverpaid { month: Month, charged: Money },
    #[error("access {access_id} is already recorded")]
    AccessAlreadyRecorded { access_id: StreamId },
    #[error("event {event_id} is not in this contract")]
    CorrectedEventNotFound { event_id: EventId },
    #[error("event {event_id} was already voided or superseded: correct its latest correction")]
    CorrectedEventNotEffective { event_id: EventId },
    #[error("a correction keeps the event type: {original} cannot become {replacement}")]
    CorrectionChangesEventType {
        original: String,
        replacement: String,
    },
    #[error("after this correction the stream no longer holds: {event_type}: {reason}")]
    CorrectionBreaksStream { event_type: String, reason: String },
    #[error("{event_type} cannot follow the stream's state: {reason}")]
    EventInconsistentWithStream { event_type: String, reason: String },
    #[error("{command} does not apply to this stream")]
    CommandDoesNotFitStream { command: String },
}

impl DomainError {
    /// The stable code of the broken rule, as clients and metrics see it.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::ContractNotRegistered => "contract_not_registered",
            DomainError::ContractAlreadyRegistered => "contract_already_registered",
            DomainError::TermEndsBeforeItStarts => "term_ends_before_it_starts",
            DomainError::DateOutsideContractTerm { .. } => "date_outside_contract_term",
            DomainError::FieldEmpty { .. } => "field_empty",
            DomainError::ProviderAlreadyAccredited { .. } => "provider_already_accredited",
            DomainError::UnknownProvider { .. } => "unknown_provider",
            DomainError::ProductAlreadyListed { .. } => "product_already_listed",
            DomainError::UnknownProduct { .. } => "unknown_product",
            DomainError::TariffMissingForBand { .. } => "tariff_missing_for_band",
            DomainError::BeneficiaryAlreadyRegistered { .. } => "beneficiary_already_registered",
            DomainError::UnknownBeneficiary { .. } => "unknown_beneficiary",
            DomainError::HouseholdSizeOutOfRange { .. } => "household_size_out_of_range",
            DomainError::OrderAlreadyPlaced { .. } => "order_already_placed",
            DomainError::UnknownOrder { .. } => "unknown_order",
            DomainError::PriceIsNotTheTariff { .. } => "price_is_not_the_tariff",
            DomainError::OrderCancelled { .. } => "order_cancelled",
            DomainError::TokenAlreadyIssued { .. } => "token_already_issued",
            DomainError::TokenNotIssued { .. } => "token_not_issued",
            DomainError::TokenExpiresBeforeIssue { .. } => "token_expires_before_issue",
            DomainError::TokenAlreadyRedeemed { .. } => "token_already_redeemed",
            DomainError::TokenDeliveredByAnotherProvider { .. } => {
                "token_delivered_by_another_provider"
            }
            DomainError::TokenExpired { .. } => "token_expired",
            DomainError::TokenNotYetExpired { .. } => "token_not_yet_expired",
            DomainError::TokenNotRefundable { .. } => "token_not_refundable",
            DomainError::RefundAbovePrice { .. } => "refund_above_price",
            DomainError::UnitAlreadyAvailable { .. } => "unit_already_available",
            DomainError::UnknownUnit { .. } => "unknown_unit",
            DomainError::TenancyAlreadyStarted { .. } => "tenancy_already_started",
            DomainError::UnknownTenancy { .. } => "unknown_tenancy",
            DomainError::TenancyEnded { .. } => "tenancy_ended",
            DomainError::RentAboveCap { .. } => "rent_above_cap",
            DomainError::RentAlreadyCharged { .. } => "rent_already_charged",
            DomainError::RentNotCharged { .. } => "rent_not_charged",
            DomainError::RentOverpaid { .. } => "rent_overpaid",
            DomainError::AccessAlreadyRecorded { .. } => "access_already_recorded",
            DomainError::CorrectedEventNotFound { .. } => "corrected_event_not_found",
            DomainError::CorrectedEventNotEffective { .. } => "corrected_event_not_effective",
            DomainError::CorrectionChangesEventType { .. } => "correction_changes_event_type",
            DomainError::CorrectionBreaksStream { .. } => "correction_breaks_stream",
            DomainError::EventInconsistentWithStream { .. } => "event_inconsistent_with_stream",
            DomainError::CommandDoesNotFitStream { .. } => "command_does_not_fit_stream",
        }
    }
}
