//! Why a command was refused: one variant per broken rule, with a stable snake_case code.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::events::{AssessmentDimension, IseeBand, PathMilestone, PeriodKind};
use crate::period::Period;
use crate::values::{EventId, Money, Month, Rate, StreamId};

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
    #[error("there is no template {template:?}: name one of cuneo, torino, prato, cremona, or give the definitions' text")]
    UnknownTemplate { template: String },
    #[error("the definitions are refused: {reason}")]
    InvalidDefinitions { reason: String },
    #[error("{field} of item {index} (counting from 0) names indicator {indicator:?}, which the contract's definitions do not declare")]
    IndicatorNotDeclared {
        field: &'static str,
        index: usize,
        indicator: String,
    },
    #[error("outcome {outcome:?} is not one the contract's definitions declare")]
    UndeclaredOutcome { outcome: String },
    #[error("template {template:?} is not the name the definitions give themselves ({named:?})")]
    TemplateDiffersFromDefinitions { template: String, named: String },
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
    #[error("{field} is required: the contract's indicator definitions read it")]
    BeneficiaryFieldRequired { field: &'static str },
    #[error("beneficiary {beneficiary_id} has no isee_band, which an order's tariff needs: record it with update-beneficiary first")]
    BeneficiaryHasNoIseeBand { beneficiary_id: StreamId },
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
    #[error(
        "unit {unit_id} would be let to two tenancies at once from {from}: tenancy \
         {other_tenancy_id} holds it then, and a unit is let to one tenancy at a time"
    )]
    UnitLetTwice {
        /// The command's field that would do it: `unit_id` of a start, `voids` or `corrects`.
        field: &'static str,
        unit_id: StreamId,
        other_tenancy_id: StreamId,
        from: NaiveDate,
    },
    #[error(
        "a tenancy would hold unit {unit_id} from {from}, a day the unit is not available to \
         the programme (available from {})",
        .available_on.map_or_else(|| "no day".to_owned(), |on| on.to_string())
    )]
    TenancyBeforeUnitAvailable {
        /// The command's field that would do it: `unit_id` of a start, `voids` or `corrects`.
        field: &'static str,
        unit_id: StreamId,
        from: NaiveDate,
        available_on: Option<NaiveDate>,
    },
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
    // Dates of fields, in any stream.
    #[error("{field} {date} lies outside the contract's term {term_start_on} to {term_end_on}")]
    FieldDateOutsideContractTerm {
        field: &'static str,
        date: NaiveDate,
        term_start_on: NaiveDate,
        term_end_on: NaiveDate,
    },
    #[error("{field} {date} is before {latest_on}, the date of the latest change: changes are recorded in date order")]
    DateBeforeLatestChange {
        field: &'static str,
        date: NaiveDate,
        latest_on: NaiveDate,
    },
    #[error("{field} {date} is before {start_on}, the date it must follow")]
    DateBeforeStart {
        field: &'static str,
        date: NaiveDate,
        start_on: NaiveDate,
    },
    #[error("{field} {date} is after {occurred_on}, the day it is recorded as having happened")]
    DateAfterOccurrence {
        field: &'static str,
        date: NaiveDate,
        occurred_on: NaiveDate,
    },
    #[error("{field} must be above zero")]
    AmountNotPositive { field: &'static str },
    #[error("{field} names {key} more than once")]
    DuplicateInList { field: &'static str, key: String },
    // Contract terms and amendments.
    #[error(
        "the new term_end_on {term_end_on} is before the amendment's effective_on {effective_on}"
    )]
    TermEndsBeforeAmendment {
        term_end_on: NaiveDate,
        effective_on: NaiveDate,
    },
    #[error("a change of period_kind takes effect on the first day of a period of both kinds: {effective_on} does not start a {from:?} and a {to:?} period")]
    PeriodChangeNotAtPeriodStart {
        effective_on: NaiveDate,
        from: PeriodKind,
        to: PeriodKind,
    },
    #[error("funder_terms need a funder: the contract has none (add one with a `funder` change)")]
    FunderTermsWithoutFunder,
    #[error("the target of indicator {indicator} must be above zero")]
    TargetNotPositive { indicator: String },
    #[error(
        "the cap_ratio {cap_ratio} of indicator {indicator} is below its threshold {threshold}"
    )]
    CapRatioBelowThreshold {
        indicator: String,
        cap_ratio: Rate,
        threshold: Rate,
    },
    #[error("the shares of {field} add up to {total}, not 1")]
    SharesDoNotSumToOne { field: &'static str, total: Decimal },
    #[error("funder_terms.return_tiers need a floor tier with min_index 0")]
    ReturnTiersWithoutFloor,
    // Catalogue.
    #[error("provider {provider_id} has already asked for accreditation")]
    ProviderAccreditationAlreadyRequested { provider_id: StreamId },
    #[error("provider {provider_id} is suspended since {suspended_on}")]
    ProviderSuspended {
        provider_id: StreamId,
        suspended_on: NaiveDate,
    },
    #[error("provider {provider_id} is not suspended")]
    ProviderNotSuspended { provider_id: StreamId },
    #[error("product {product_id} is in prototyping: it is not in the catalogue yet")]
    ProductInPrototyping { product_id: StreamId },
    #[error("product {product_id} was withdrawn from the catalogue on {withdrawn_on}")]
    ProductWithdrawn {
        product_id: StreamId,
        withdrawn_on: NaiveDate,
    },
    // Beneficiaries and the services centre.
    #[error("an update must change isee_band, household_size or flags")]
    UpdateChangesNothing,
    #[error("a referral of beneficiary {beneficiary_id} follows an assessment of its needs (AssessNeed)")]
    ReferralWithoutAssessment { beneficiary_id: StreamId },
    // Torino: placements.
    #[error("placement {placement_id} has already started")]
    PlacementAlreadyStarted { placement_id: StreamId },
    #[error("placement {placement_id} was never started")]
    UnknownPlacement { placement_id: StreamId },
    #[error("placement {placement_id} has ended")]
    PlacementEnded { placement_id: StreamId },
    #[error("the household of placement {placement_id} is already rehoused")]
    HouseholdAlreadyRehoused { placement_id: StreamId },
    // Prato: autonomy paths.
    #[error("path {path_id} is already enrolled")]
    PathAlreadyEnrolled { path_id: StreamId },
    #[error("path {path_id} was never enrolled")]
    UnknownPath { path_id: StreamId },
    #[error("path {path_id} has been exited")]
    PathExited { path_id: StreamId },
    #[error("scores.{dimension:?} is {score}: scores run from 0 to {max}")]
    ScoreOutOfRange {
        dimension: AssessmentDimension,
        score: u8,
        max: u8,
    },
    #[error("a reassessment scores the dimensions of the enrolment, {expected:?} (got {got:?})")]
    ScoresDimensionsDiffer {
        expected: Vec<AssessmentDimension>,
        got: Vec<AssessmentDimension>,
    },
    #[error("milestone {milestone:?} was already reached on this path")]
    PathMilestoneAlreadyReached { milestone: PathMilestone },
    #[error("monthly_cost_avoided needs from_municipal_housing: only leaving a municipal home avoids its cost")]
    CostAvoidedWithoutHousingExit,
    // Cremona: phases, deliverables, invoices.
    #[error("phase {phase_id} is already defined")]
    PhaseAlreadyDefined { phase_id: StreamId },
    #[error("phase {phase_id} was never defined")]
    UnknownPhase { phase_id: StreamId },
    #[error("the phase's {field} differs from the contract's milestone terms for deliverable {deliverable}")]
    PhaseDisagreesWithTerms {
        field: &'static str,
        deliverable: String,
    },
    #[error("the phase has no advance: its advance_share is 0")]
    PhaseHasNoAdvance,
    #[error("the advance of this phase is already invoiced")]
    AdvanceAlreadyInvoiced,
    #[error("the balance of this phase is already invoiced: an advance can no longer be")]
    AdvanceAfterBalance,
    #[error("the balance of this phase is already invoiced")]
    BalanceAlreadyInvoiced,
    #[error("invoice amount {amount} is not {expected}, what the phase's terms give")]
    InvoiceAmountMismatch { expected: Money, amount: Money },
    #[error("invoice vat {vat} is not {expected}, the amount × the phase's vat_rate rounded to the cent")]
    InvoiceVatMismatch { expected: Money, vat: Money },
    #[error("invoice number {invoice_number} is already used in this phase")]
    InvoiceNumberAlreadyUsed { invoice_number: String },
    #[error("invoice {invoice_number} was never issued in this phase")]
    UnknownInvoice { invoice_number: String },
    #[error("payments of invoice {invoice_number} would exceed it: {outstanding} is outstanding")]
    PaymentAboveInvoice {
        invoice_number: String,
        outstanding: Money,
    },
    #[error("the deliverable has not been submitted")]
    DeliverableNotSubmitted,
    #[error("the deliverable is already accepted")]
    DeliverableAlreadyAccepted,
    #[error("the deliverable has not been accepted: the balance is invoiced on delivery")]
    DeliverableNotAccepted,
    #[error("accepted_by {accepted_by} is not the contract's payer, {payer}")]
    AcceptedByNonPayer { accepted_by: String, payer: String },
    #[error("payment_terms.vat is split_payment: the terms need a vat_rate")]
    SplitPaymentWithoutVatRate,
    #[error(
        "payee treasury: the phase's VAT is ordinary, paid to the operator with the net; only \
         under split payment is it paid to the Treasury"
    )]
    TreasuryPaidWithoutSplitPayment,
    // Settlements.
    #[error("the settlement document's {field} differs from the command's")]
    SettlementDocumentDisagrees { field: &'static str },
    #[error(
        "{period} (from {start_on} to {end_on}) is not a period of the contract, which is \
         settled by {period_kind:?}"
    )]
    SettlementPeriodNotOfTheContract {
        period: Period,
        start_on: NaiveDate,
        end_on: NaiveDate,
        period_kind: PeriodKind,
    },
    #[error("period {period} lies outside the contract's term {term_start_on} to {term_end_on}")]
    SettlementPeriodOutsideTerm {
        period: Period,
        term_start_on: NaiveDate,
        term_end_on: NaiveDate,
    },
    #[error("period {period} has not ended: it can be settled from {end_on}")]
    SettlementPeriodNotClosed { period: Period, end_on: NaiveDate },
    #[error(
        "periods are settled in order, one after another: the next to settle starts on \
         {expected_start_on}, not on {start_on} ({period})"
    )]
    SettlementPeriodOutOfOrder {
        period: Period,
        start_on: NaiveDate,
        expected_start_on: NaiveDate,
    },
    #[error("the settlement of {previous} is not approved yet: the next period waits for it")]
    PreviousSettlementNotApproved { previous: Period },
    #[error(
        "a settlement is computed as of a position no earlier than the one before it \
         (as_of {as_of} < {earlier_as_of})"
    )]
    SettlementAsOfGoesBack { as_of: u64, earlier_as_of: u64 },
    #[error("period {period} has no settlement yet")]
    SettlementNotCalculated { period: Period },
    #[error(
        "the settlement of {period} is now the calculation as of {current_as_of}, not the one as \
         of {as_of}: check that one"
    )]
    SettlementRecalculated {
        period: Period,
        as_of: u64,
        current_as_of: u64,
    },
    #[error("the settlement of {period} is already validated")]
    SettlementAlreadyValidated { period: Period },
    #[error("the settlement of {period} is not validated: the evaluator validates before the payer approves")]
    SettlementNotValidated { period: Period },
    #[error(
        "the settlement of {period} is already approved: it is never calculated or validated \
         again; a late event is restated in the next period's settlement"
    )]
    SettlementAlreadyApproved { period: Period },
    #[error("the settlement of {period} is not approved: only an approved settlement is paid")]
    SettlementNotApproved { period: Period },
    #[error("the settlement of {period} is already paid")]
    SettlementAlreadyPaid { period: Period },
    #[error(
        "the settlement of {period} is not certified: the contract has a CIG, and the RUP's \
         attestazione di regolare esecuzione comes before the determina di liquidazione"
    )]
    SettlementNotCertified { period: Period },
    #[error("the settlement of {period} is already certified")]
    SettlementAlreadyCertified { period: Period },
    #[error(
        "{field} is missing: an act is named by its number and its date, both required when \
         the contract has a CIG"
    )]
    SettlementActMissing { field: &'static str },
    #[error(
        "the settlement of {period} is {status}: only a calculated settlement, not yet \
         validated, is withdrawn"
    )]
    SettlementNotWithdrawable {
        period: Period,
        status: &'static str,
    },
    #[error("the settlement of {period} was withdrawn: calculate it again")]
    SettlementWithdrawn { period: Period },
    #[error(
        "settlement events are never corrected or voided: a later settlement restates what \
         changed"
    )]
    SettlementEventsAreFinal,
    #[error("{field}: {reason}")]
    TariffBandsInvalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the contract has no tariff terms in force: the ISEE bands' shares are needed")]
    TariffTermsMissing,
    #[error("the client's payment {amount} is not the order's tariff {price}")]
    ClientPaymentIsNotTheTariff { amount: Money, price: Money },
    #[error("the client's payment for order {order_id} is already recorded")]
    ClientAlreadyPaid { order_id: StreamId },
    #[error(
        "the token of order {order_id} is not redeemed: a provider is paid for a delivered token"
    )]
    TokenNotRedeemed { order_id: StreamId },
    #[error("the provider of order {order_id} is already paid")]
    ProviderAlreadyPaid { order_id: StreamId },
    #[error("provider {provider_id} is not the token's provider {token_provider_id}")]
    PaidProviderIsNotTheTokens {
        token_provider_id: StreamId,
        provider_id: StreamId,
    },
    #[error(
        "the provider's pay {amount} is not the full tariff of the order: ISEE band {band:?} pays \
         {share} of it, {client_tariff}, and the order's tariff is {price}"
    )]
    ProviderPayIsNotTheFullTariff {
        amount: Money,
        band: IseeBand,
        share: Decimal,
        client_tariff: Money,
        price: Money,
    },
    #[error("the solidarity cover of order {order_id} follows the client's payment and the provider's pay")]
    SolidarityCoverBeforePayments { order_id: StreamId },
    #[error("the solidarity cover {amount} is not the provider's pay less the client's payment, {expected}")]
    SolidarityCoverIsNotTheDifference { amount: Money, expected: Money },
    #[error("the solidarity cover of order {order_id} is already recorded")]
    SolidarityCoverAlreadyRecorded { order_id: StreamId },
}

impl DomainError {
    /// The field of the command the rule finds at fault, as the command names it (`amount`,
    /// `tariffs.a`, `period`); `None` when the rule is about the stream, not one field.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::FieldEmpty { field }
            | DomainError::FieldDateOutsideContractTerm { field, .. }
            | DomainError::DateBeforeLatestChange { field, .. }
            | DomainError::DateBeforeStart { field, .. }
            | DomainError::DateAfterOccurrence { field, .. }
            | DomainError::AmountNotPositive { field }
            | DomainError::IndicatorNotDeclared { field, .. }
            | DomainError::DuplicateInList { field, .. }
            | DomainError::SharesDoNotSumToOne { field, .. }
            | DomainError::UnitLetTwice { field, .. }
            | DomainError::TenancyBeforeUnitAvailable { field, .. }
            | DomainError::SettlementActMissing { field }
            | DomainError::BeneficiaryFieldRequired { field }
            | DomainError::TariffBandsInvalid { field, .. } => Some(field),
            DomainError::ClientPaymentIsNotTheTariff { .. }
            | DomainError::ProviderPayIsNotTheFullTariff { .. }
            | DomainError::SolidarityCoverIsNotTheDifference { .. } => Some("amount"),
            DomainError::PaidProviderIsNotTheTokens { .. } => Some("provider_id"),
            DomainError::BeneficiaryHasNoIseeBand { .. } => Some("beneficiary_id"),
            DomainError::DateOutsideContractTerm { .. } => Some("occurred_at"),
            DomainError::UnknownTemplate { .. }
            | DomainError::TemplateDiffersFromDefinitions { .. } => Some("template"),
            DomainError::InvalidDefinitions { .. } => Some("definitions"),
            DomainError::UndeclaredOutcome { .. } => Some("outcome"),
            DomainError::PriceIsNotTheTariff { .. } => Some("price"),
            DomainError::RefundAbovePrice { .. } | DomainError::RentOverpaid { .. } => {
                Some("amount")
            }
            DomainError::SettlementPeriodNotOfTheContract { .. }
            | DomainError::SettlementPeriodOutsideTerm { .. }
            | DomainError::SettlementPeriodNotClosed { .. }
            | DomainError::SettlementPeriodOutOfOrder { .. }
            | DomainError::PreviousSettlementNotApproved { .. }
            | DomainError::SettlementNotCalculated { .. }
            | DomainError::SettlementNotWithdrawable { .. }
            | DomainError::SettlementWithdrawn { .. } => Some("period"),
            DomainError::SettlementRecalculated { .. } => Some("as_of"),
            DomainError::SplitPaymentWithoutVatRate => Some("payment_terms.vat_rate"),
            DomainError::TreasuryPaidWithoutSplitPayment => Some("payee"),
            _ => None,
        }
    }

    /// The stable code of the broken rule, as clients and metrics see it.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::ContractNotRegistered => "contract_not_registered",
            DomainError::ContractAlreadyRegistered => "contract_already_registered",
            DomainError::TermEndsBeforeItStarts => "term_ends_before_it_starts",
            DomainError::DateOutsideContractTerm { .. } => "date_outside_contract_term",
            DomainError::FieldEmpty { .. } => "field_empty",
            DomainError::UnknownTemplate { .. } => "unknown_template",
            DomainError::InvalidDefinitions { .. } => "invalid_definitions",
            DomainError::UndeclaredOutcome { .. } => "undeclared_outcome",
            DomainError::IndicatorNotDeclared { .. } => "indicator_not_declared",
            DomainError::TemplateDiffersFromDefinitions { .. } => {
                "template_differs_from_definitions"
            }
            DomainError::ProviderAlreadyAccredited { .. } => "provider_already_accredited",
            DomainError::UnknownProvider { .. } => "unknown_provider",
            DomainError::ProductAlreadyListed { .. } => "product_already_listed",
            DomainError::UnknownProduct { .. } => "unknown_product",
            DomainError::TariffMissingForBand { .. } => "tariff_missing_for_band",
            DomainError::BeneficiaryAlreadyRegistered { .. } => "beneficiary_already_registered",
            DomainError::UnknownBeneficiary { .. } => "unknown_beneficiary",
            DomainError::BeneficiaryFieldRequired { .. } => "beneficiary_field_required",
            DomainError::BeneficiaryHasNoIseeBand { .. } => "beneficiary_has_no_isee_band",
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
            DomainError::TariffBandsInvalid { .. } => "tariff_bands_invalid",
            DomainError::TariffTermsMissing => "tariff_terms_missing",
            DomainError::ClientPaymentIsNotTheTariff { .. } => "client_payment_is_not_the_tariff",
            DomainError::ClientAlreadyPaid { .. } => "client_already_paid",
            DomainError::TokenNotRedeemed { .. } => "token_not_redeemed",
            DomainError::ProviderAlreadyPaid { .. } => "provider_already_paid",
            DomainError::PaidProviderIsNotTheTokens { .. } => "paid_provider_is_not_the_tokens",
            DomainError::ProviderPayIsNotTheFullTariff { .. } => {
                "provider_pay_is_not_the_full_tariff"
            }
            DomainError::SolidarityCoverBeforePayments { .. } => "solidarity_cover_before_payments",
            DomainError::SolidarityCoverIsNotTheDifference { .. } => {
                "solidarity_cover_is_not_the_difference"
            }
            DomainError::SolidarityCoverAlreadyRecorded { .. } => {
                "solidarity_cover_already_recorded"
            }
            DomainError::UnitAlreadyAvailable { .. } => "unit_already_available",
            DomainError::UnknownUnit { .. } => "unknown_unit",
            DomainError::TenancyAlreadyStarted { .. } => "tenancy_already_started",
            DomainError::UnknownTenancy { .. } => "unknown_tenancy",
            DomainError::TenancyEnded { .. } => "tenancy_ended",
            DomainError::RentAboveCap { .. } => "rent_above_cap",
            DomainError::RentAlreadyCharged { .. } => "rent_already_charged",
            DomainError::RentNotCharged { .. } => "rent_not_charged",
            DomainError::RentOverpaid { .. } => "rent_overpaid",
            DomainError::UnitLetTwice { .. } => "unit_let_twice",
            DomainError::TenancyBeforeUnitAvailable { .. } => "tenancy_before_unit_available",
            DomainError::AccessAlreadyRecorded { .. } => "access_already_recorded",
            DomainError::CorrectedEventNotFound { .. } => "corrected_event_not_found",
            DomainError::CorrectedEventNotEffective { .. } => "corrected_event_not_effective",
            DomainError::CorrectionChangesEventType { .. } => "correction_changes_event_type",
            DomainError::CorrectionBreaksStream { .. } => "correction_breaks_stream",
            DomainError::EventInconsistentWithStream { .. } => "event_inconsistent_with_stream",
            DomainError::CommandDoesNotFitStream { .. } => "command_does_not_fit_stream",
            DomainError::FieldDateOutsideContractTerm { .. } => "field_date_outside_contract_term",
            DomainError::DateBeforeLatestChange { .. } => "date_before_latest_change",
            DomainError::DateBeforeStart { .. } => "date_before_start",
            DomainError::DateAfterOccurrence { .. } => "date_after_occurrence",
            DomainError::AmountNotPositive { .. } => "amount_not_positive",
            DomainError::DuplicateInList { .. } => "duplicate_in_list",
            DomainError::TermEndsBeforeAmendment { .. } => "term_ends_before_amendment",
            DomainError::PeriodChangeNotAtPeriodStart { .. } => "period_change_not_at_period_start",
            DomainError::FunderTermsWithoutFunder => "funder_terms_without_funder",
            DomainError::TargetNotPositive { .. } => "target_not_positive",
            DomainError::CapRatioBelowThreshold { .. } => "cap_ratio_below_threshold",
            DomainError::SharesDoNotSumToOne { .. } => "shares_do_not_sum_to_one",
            DomainError::ReturnTiersWithoutFloor => "return_tiers_without_floor",
            DomainError::ProviderAccreditationAlreadyRequested { .. } => {
                "provider_accreditation_already_requested"
            }
            DomainError::ProviderSuspended { .. } => "provider_suspended",
            DomainError::ProviderNotSuspended { .. } => "provider_not_suspended",
            DomainError::ProductWithdrawn { .. } => "product_withdrawn",
            DomainError::ProductInPrototyping { .. } => "product_in_prototyping",
            DomainError::UpdateChangesNothing => "update_changes_nothing",
            DomainError::ReferralWithoutAssessment { .. } => "referral_without_assessment",
            DomainError::PlacementAlreadyStarted { .. } => "placement_already_started",
            DomainError::UnknownPlacement { .. } => "unknown_placement",
            DomainError::PlacementEnded { .. } => "placement_ended",
            DomainError::HouseholdAlreadyRehoused { .. } => "household_already_rehoused",
            DomainError::PathAlreadyEnrolled { .. } => "path_already_enrolled",
            DomainError::UnknownPath { .. } => "unknown_path",
            DomainError::PathExited { .. } => "path_exited",
            DomainError::ScoreOutOfRange { .. } => "score_out_of_range",
            DomainError::ScoresDimensionsDiffer { .. } => "scores_dimensions_differ",
            DomainError::PathMilestoneAlreadyReached { .. } => "path_milestone_already_reached",
            DomainError::CostAvoidedWithoutHousingExit => "cost_avoided_without_housing_exit",
            DomainError::PhaseAlreadyDefined { .. } => "phase_already_defined",
            DomainError::UnknownPhase { .. } => "unknown_phase",
            DomainError::PhaseDisagreesWithTerms { .. } => "phase_disagrees_with_terms",
            DomainError::PhaseHasNoAdvance => "phase_has_no_advance",
            DomainError::AdvanceAlreadyInvoiced => "advance_already_invoiced",
            DomainError::AdvanceAfterBalance => "advance_after_balance",
            DomainError::BalanceAlreadyInvoiced => "balance_already_invoiced",
            DomainError::InvoiceAmountMismatch { .. } => "invoice_amount_mismatch",
            DomainError::InvoiceVatMismatch { .. } => "invoice_vat_mismatch",
            DomainError::InvoiceNumberAlreadyUsed { .. } => "invoice_number_already_used",
            DomainError::UnknownInvoice { .. } => "unknown_invoice",
            DomainError::PaymentAboveInvoice { .. } => "payment_above_invoice",
            DomainError::DeliverableNotSubmitted => "deliverable_not_submitted",
            DomainError::DeliverableAlreadyAccepted => "deliverable_already_accepted",
            DomainError::DeliverableNotAccepted => "deliverable_not_accepted",
            DomainError::AcceptedByNonPayer { .. } => "accepted_by_non_payer",
            DomainError::SplitPaymentWithoutVatRate => "split_payment_without_vat_rate",
            DomainError::TreasuryPaidWithoutSplitPayment => "treasury_paid_without_split_payment",
            DomainError::SettlementDocumentDisagrees { .. } => "settlement_document_disagrees",
            DomainError::SettlementPeriodNotOfTheContract { .. } => {
                "settlement_period_not_of_the_contract"
            }
            DomainError::SettlementPeriodOutsideTerm { .. } => "settlement_period_outside_term",
            DomainError::SettlementPeriodNotClosed { .. } => "settlement_period_not_closed",
            DomainError::SettlementPeriodOutOfOrder { .. } => "settlement_period_out_of_order",
            DomainError::PreviousSettlementNotApproved { .. } => "previous_settlement_not_approved",
            DomainError::SettlementAsOfGoesBack { .. } => "settlement_as_of_goes_back",
            DomainError::SettlementNotCalculated { .. } => "settlement_not_calculated",
            DomainError::SettlementRecalculated { .. } => "settlement_recalculated",
            DomainError::SettlementAlreadyValidated { .. } => "settlement_already_validated",
            DomainError::SettlementNotValidated { .. } => "settlement_not_validated",
            DomainError::SettlementAlreadyApproved { .. } => "settlement_already_approved",
            DomainError::SettlementNotApproved { .. } => "settlement_not_approved",
            DomainError::SettlementAlreadyPaid { .. } => "settlement_already_paid",
            DomainError::SettlementNotCertified { .. } => "settlement_not_certified",
            DomainError::SettlementAlreadyCertified { .. } => "settlement_already_certified",
            DomainError::SettlementActMissing { .. } => "settlement_act_missing",
            DomainError::SettlementNotWithdrawable { .. } => "settlement_not_withdrawable",
            DomainError::SettlementWithdrawn { .. } => "settlement_withdrawn",
            DomainError::SettlementEventsAreFinal => "settlement_events_are_final",
        }
    }
}
