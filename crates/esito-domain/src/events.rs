//! The events: past-tense facts with their payloads, one variant per stored `event_type`.
//!
//! Invariant: a variant's name is its stored `event_type` and never changes; a payload change
//! that old readers cannot read raises `SCHEMA_VERSION` for that type.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::terms::ContractChange;
use crate::values::{ContractId, Money, Month, OccurredAt, Rate, Share, StreamId};

/// The kinds of stream (aggregate) an event belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StreamType {
    Contract,
    Provider,
    Product,
    Beneficiary,
    Order,
    Unit,
    Tenancy,
    Access,
    /// Torino: a household's stay in temporary accommodation paid by the City.
    Placement,
    /// Prato: a household's autonomy path.
    Path,
    /// Cremona: a phase of the service with its deliverable and invoices.
    Phase,
    /// The settlements of a contract, every period's in one stream: their order is a rule.
    Settlement,
}

impl StreamType {
    pub const ALL: [StreamType; 12] = [
        StreamType::Contract,
        StreamType::Provider,
        StreamType::Product,
        StreamType::Beneficiary,
        StreamType::Order,
        StreamType::Unit,
        StreamType::Tenancy,
        StreamType::Access,
        StreamType::Placement,
        StreamType::Path,
        StreamType::Phase,
        StreamType::Settlement,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            StreamType::Contract => "contract",
            StreamType::Provider => "provider",
            StreamType::Product => "product",
            StreamType::Beneficiary => "beneficiary",
            StreamType::Order => "order",
            StreamType::Unit => "unit",
            StreamType::Tenancy => "tenancy",
            StreamType::Access => "access",
            StreamType::Placement => "placement",
            StreamType::Path => "path",
            StreamType::Phase => "phase",
            StreamType::Settlement => "settlement",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A stream: its type and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamRef {
    pub stream_type: StreamType,
    pub stream_id: StreamId,
}

impl StreamRef {
    pub fn new(stream_type: StreamType, stream_id: StreamId) -> Self {
        Self {
            stream_type,
            stream_id,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabularies

/// How often the contract is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    HalfYear,
    Year,
}

impl PeriodKind {
    /// True when a period of this kind starts on `date`: periods are calendar-aligned
    /// (`2024-Q2` starts on 1 April), so a change of kind takes effect on a common first day.
    pub fn starts_on(self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        let first_months: &[u32] = match self {
            PeriodKind::Month => &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            PeriodKind::Quarter => &[1, 4, 7, 10],
            PeriodKind::HalfYear => &[1, 7],
            PeriodKind::Year => &[1],
        };
        date.day() == 1 && first_months.contains(&date.month())
    }

    /// How many months a period of this kind lasts.
    pub fn months(self) -> u32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::HalfYear => 6,
            PeriodKind::Year => 12,
        }
    }

    /// The period of this kind that starts on `start_on`: its label as DESIGN.md section 10
    /// writes it (`2024`, `2024-H1`, `2024-Q1`, `2024-03`) and the first day after it. `None`
    /// when no period of this kind starts that day.
    pub fn period_starting(self, start_on: NaiveDate) -> Option<(String, NaiveDate)> {
        use chrono::Datelike;
        if !self.starts_on(start_on) {
            return None;
        }
        let (year, month) = (start_on.year(), start_on.month());
        let label = match self {
            PeriodKind::Month => format!("{year}-{month:02}"),
            PeriodKind::Quarter => format!("{year}-Q{}", (month - 1) / 3 + 1),
            PeriodKind::HalfYear => format!("{year}-H{}", (month - 1) / 6 + 1),
            PeriodKind::Year => format!("{year}"),
        };
        let end_on = start_on.checked_add_months(chrono::Months::new(self.months()))?;
        Some((label, end_on))
    }
}

/// ISEE band (fascia ISEE): the tariff a citizen pays depends on it. `a` is the lowest
/// declared ISEE (the most reduced tariff); `d` is a high ISEE or none declared (full tariff).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IseeBand {
    A,
    B,
    C,
    D,
}

impl IseeBand {
    pub const ALL: [IseeBand; 4] = [IseeBand::A, IseeBand::B, IseeBand::C, IseeBand::D];
}

/// The seven service families of Cuneo's catalogue.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceFamily {
    Meals,
    Cleaning,
    PersonalCare,
    SocioHealthCare,
    Accompaniment,
    BabyParking,
    SocioEducationalSupport,
}

impl ServiceFamily {
    pub const ALL: [ServiceFamily; 7] = [
        ServiceFamily::Meals,
        ServiceFamily::Cleaning,
        ServiceFamily::PersonalCare,
        ServiceFamily::SocioHealthCare,
        ServiceFamily::Accompaniment,
        ServiceFamily::BabyParking,
        ServiceFamily::SocioEducationalSupport,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    Under18,
    From18To34,
    From35To64,
    From65To79,
    From80,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VulnerabilityFlag {
    FrailElderly,
    Disability,
    SingleParent,
    LargeFamily,
    LeavingSaiSystem,
    HousingEmergency,
}

/// Where an order was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderChannel {
    Online,
    Centre,
}

/// Who a token is notified to (the seeds: the client, the services centre, the provider).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TokenRecipient {
    Client,
    Centre,
    Provider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantMilestone {
    FinancialEducationModuleCompleted,
    JobFound,
    SavingsTargetReached,
    PrivateMarketHomeFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenancyEndReason {
    MovedToPrivateMarket,
    MovedToPublicHousing,
    LeftVoluntarily,
    PactBroken,
    Other,
}

/// How a person reached the services centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessChannel {
    InPerson,
    Phone,
    Email,
}

/// The need brought to the centre (the seeds: home management, care of elderly or frail people).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NeedCategory {
    HomeManagement,
    ElderlyCare,
    FrailPersonSupport,
    Childcare,
    Housing,
    WorkLifeBalance,
    Other,
}

/// What followed an access: a service activated, a referral to a service of the territory,
/// or information only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccessOutcome {
    ServiceActivated,
    Referred { service: String },
    InformationOnly,
}

/// The pact (patto) a tenant signs: capped rent, housing accompaniment, financial education.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pact {
    pub monthly_rent: Money,
    pub rent_cap: Money,
    pub housing_accompaniment: bool,
    pub financial_education: bool,
}

/// Torino: the temporary accommodation a household is placed in (albergamento temporaneo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccommodationKind {
    Hotel,
    Residence,
    Shelter,
    Other,
}

/// Torino: where a household is rehoused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HousingKind {
    /// A private home at an affordable rent, found by the programme's partners.
    PrivateAffordable,
    PublicHousing,
}

/// Torino: why a placement ended without a rehousing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacementEndReason {
    LeftVoluntarily,
    MovedAway,
    PlacementRevoked,
    Other,
}

/// Prato: a dimension of the multidimensional assessment of a household.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentDimension {
    Housing,
    Employment,
    Income,
    FinancialManagement,
    Health,
    SocialNetwork,
    FamilyCare,
}

/// Prato: a step on the way to socio-economic autonomy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PathMilestone {
    JobFound,
    IncomeStabilised,
    FinancialEducationCompleted,
    SavingsTargetReached,
    DebtsSettled,
    PrivateRentalFound,
}

/// Prato: why a household left its autonomy path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PathExitReason {
    MovedToPrivateMarket,
    MovedToOtherHousing,
    DroppedOut,
    Other,
}

/// Prato: the highest score of a dimension; scores run from 0 to this.
pub const ASSESSMENT_SCORE_MAX: u8 = 10;

/// Scores of a multidimensional assessment, 0 to `ASSESSMENT_SCORE_MAX` per dimension.
pub type AssessmentScores = BTreeMap<AssessmentDimension, u8>;

// ---------------------------------------------------------------------------------------------
// Payloads

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractRegistered {
    pub title: String,
    /// The contract template under `projections/` (e.g. `cuneo`).
    pub template: String,
    pub payer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funder: Option<String>,
    pub operator: String,
    pub evaluator: String,
    pub term_start_on: NaiveDate,
    pub term_end_on: NaiveDate,
    pub period_kind: PeriodKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderAccredited {
    pub name: String,
    pub service_family: ServiceFamily,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductListed {
    pub provider_id: StreamId,
    pub name: String,
    pub service_family: ServiceFamily,
    /// The price for each ISEE band; every band has one.
    pub tariffs: BTreeMap<IseeBand, Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryRegistered {
    pub isee_band: IseeBand,
    pub household_size: u8,
    pub age_band: AgeBand,
    #[serde(default)]
    pub flags: Vec<VulnerabilityFlag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderPlaced {
    pub beneficiary_id: StreamId,
    pub product_id: StreamId,
    pub provider_id: StreamId,
    pub service_family: ServiceFamily,
    pub channel: OrderChannel,
    pub isee_band: IseeBand,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIssued {
    pub token_code: String,
    pub provider_id: StreamId,
    pub notified_to: Vec<TokenRecipient>,
    pub expires_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryTimeAgreed {
    pub agreed_for: OccurredAt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRedeemed {
    pub provider_id: StreamId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenExpired {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRefunded {
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCancelled {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitMadeAvailable {
    pub label: String,
    pub lent_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenancyStarted {
    pub unit_id: StreamId,
    pub beneficiary_id: StreamId,
    pub pact: Pact,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RentCharged {
    pub month: Month,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RentPaid {
    pub month: Month,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantMilestoneReached {
    pub milestone: TenantMilestone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenancyEnded {
    pub reason: TenancyEndReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRecorded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary_id: Option<StreamId>,
    pub channel: AccessChannel,
    pub need: NeedCategory,
    pub outcome: AccessOutcome,
}

/// Changes to the contract, in force from `effective_on`; each change replaces one term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractAmended {
    pub effective_on: NaiveDate,
    pub changes: Vec<ContractChange>,
}

/// A supplier asked to be accredited (the seeds: "2 fornitori in fase di accreditamento").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderAccreditationRequested {
    pub name: String,
    pub service_family: ServiceFamily,
}

/// From `suspended_on` the provider's products cannot be ordered and it cannot redeem tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSuspended {
    pub reason: String,
    /// The local date of `occurred_at`, kept in the payload so that replay knows it.
    pub suspended_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderReinstated {
    /// The local date of `occurred_at`.
    pub reinstated_on: NaiveDate,
}

/// New tariffs, in force from `effective_on` (the local date of `occurred_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPriceChanged {
    pub tariffs: BTreeMap<IseeBand, Money>,
    pub effective_on: NaiveDate,
}

/// The product leaves the catalogue from `withdrawn_on` (the local date of `occurred_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductWithdrawn {
    pub reason: String,
    pub withdrawn_on: NaiveDate,
}

/// A change of a beneficiary's circumstances from `effective_on`; absent fields are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryUpdated {
    pub effective_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isee_band: Option<IseeBand>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_size: Option<u8>,
    /// The whole new set of flags, when they change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<VulnerabilityFlag>>,
}

/// The services centre's analysis of a beneficiary's needs (analisi del bisogno).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedAssessed {
    pub needs: Vec<NeedCategory>,
    /// A score on the scale of the template's assessment grid; the domain fixes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
}

/// The centre oriented the beneficiary to a service of the territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralMade {
    pub to_service: String,
    pub reason: String,
}

/// Torino: a household placed in temporary accommodation paid by the City.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementStarted {
    pub beneficiary_id: StreamId,
    pub accommodation: AccommodationKind,
    pub nightly_cost: Money,
    /// The local date of `occurred_at`: the first night.
    pub started_on: NaiveDate,
}

/// Torino: the placement ended without a rehousing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementEnded {
    pub reason: PlacementEndReason,
    /// The local date of `occurred_at`: the day the household left, not a night paid.
    pub ended_on: NaiveDate,
}

/// Torino: the household moved to a stable home, which ends its placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdRehoused {
    pub housing: HousingKind,
    /// The local date of `occurred_at`: the day the household moved, not a night paid.
    pub rehoused_on: NaiveDate,
}

/// Prato: a household starts its path after a multidimensional assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathEnrolled {
    pub beneficiary_id: StreamId,
    pub scores: AssessmentScores,
    /// The local date of `occurred_at`.
    pub enrolled_on: NaiveDate,
}

/// Prato: a later assessment of the same dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathReassessed {
    pub scores: AssessmentScores,
    /// The local date of `occurred_at`.
    pub reassessed_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathMilestoneReached {
    pub milestone: PathMilestone,
    /// The local date of `occurred_at`.
    pub reached_on: NaiveDate,
}

/// Prato: the household leaves its path, perhaps leaving municipal housing and the cost of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathExited {
    pub reason: PathExitReason,
    /// The household left a municipal home (alloggio comunale or one the City rents).
    pub from_municipal_housing: bool,
    /// What the home cost the City each month: the saving, for the economic-proxy indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_cost_avoided: Option<Money>,
    /// The local date of `occurred_at`.
    pub exited_on: NaiveDate,
}

/// Cremona: a phase of the service, with its deliverable, its net amount and how it is invoiced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseDefined {
    pub number: std::num::NonZeroU8,
    pub title: String,
    /// The deliverable's name, as a `milestone` payment rule names it.
    pub deliverable: String,
    /// Net of VAT.
    pub amount: Money,
    pub vat_rate: Rate,
    /// The share invoiced on signing (Cremona: 0.3); the rest on delivery.
    pub advance_share: Share,
}

/// Cremona: the advance invoice, issued on signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceInvoiced {
    pub invoice_number: String,
    /// Net: the phase's amount × its advance share, rounded to the cent.
    pub amount: Money,
    pub vat: Money,
    pub issued_on: NaiveDate,
    /// `issued_on` + `PAYMENT_DUE_DAYS`.
    pub due_on: NaiveDate,
}

/// Cremona: the balance invoice, issued on delivery once the deliverable is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceIssued {
    pub invoice_number: String,
    /// Net: the phase's amount less the advance invoiced.
    pub amount: Money,
    pub vat: Money,
    pub issued_on: NaiveDate,
    /// `issued_on` + `PAYMENT_DUE_DAYS`.
    pub due_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverableSubmitted {
    /// A reference to the document delivered (a file name, a protocol number or a hash).
    pub document: String,
    /// The local date of `occurred_at`.
    pub submitted_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverableAccepted {
    /// The payer that accepted it, as the contract names it.
    pub accepted_by: String,
    /// The local date of `occurred_at`.
    pub accepted_on: NaiveDate,
}

/// Cremona: the payer paid (part of) an invoice of the phase, VAT included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMade {
    pub invoice_number: String,
    pub amount: Money,
    pub paid_on: NaiveDate,
}

/// Days from an invoice's issue to its due date (Cremona's offer: "entro 30 giorni dalla data
/// di ricevimento della fattura"; an e-invoice is received the day it is issued).
pub const PAYMENT_DUE_DAYS: u64 = 30;

/// The checkpoint signed of the tree head a settlement was computed as of: with the
/// settlement's `as_of` (the size) and `root_hash`, the whole checkpoint of DESIGN.md section 3,
/// whose signature anyone holding the service's public key can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementCheckpoint {
    /// RFC 3339 in UTC.
    pub timestamp: String,
    pub key_id: String,
    /// Base64 of the Ed25519 signature.
    pub signature: String,
}

/// A period's settlement, computed by the service (DESIGN.md section 5) from the log as it stood
/// at `as_of`: what it was computed from, and the whole document. A later calculation of the
/// same period, before it is approved, replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementCalculated {
    /// As DESIGN.md section 10 writes periods (`2024-Q1`).
    pub period: String,
    pub period_start_on: NaiveDate,
    /// The first day after the period.
    pub period_end_on: NaiveDate,
    /// The log position the settlement was computed as of: the head when it was asked for.
    pub as_of: u64,
    /// The tree head (hex) at `as_of`.
    pub root_hash: String,
    /// The checkpoint signed at that moment; absent only when the service has no signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<SettlementCheckpoint>,
    /// The indicator-definition template under `projections/` the values were computed with.
    pub template: String,
    /// SHA-256 (hex) of that template's file.
    pub definitions_sha256: String,
    /// SHA-256 (hex) of the RFC 8785 JSON of the terms in force for the period:
    /// `{"payment_terms": ..., "funder_terms": ...}` (`funder_terms` absent without a funder).
    pub terms_sha256: String,
    /// The last settlement of the contract's term: the funder's guarantee is called.
    pub final_settlement: bool,
    /// The settlement document (`schemas/settlement/SettlementDocument.json`), whole.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub document: serde_json::Value,
}

/// The evaluator checked the settlement's figures (re-computed, for one, from an export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementValidated {
    pub period: String,
    /// The `as_of` of the calculation validated: the one the evaluator checked.
    pub as_of: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The payer approved the validated settlement: from here it is never calculated again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementApproved {
    pub period: String,
    /// The `as_of` of the calculation approved.
    pub as_of: u64,
}

/// The payer paid the approved settlement: its total with VAT, split as the document says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementPaid {
    pub period: String,
    pub paid_on: NaiveDate,
    /// The payment order or transfer that paid it.
    pub reference: String,
}

/// Voids the event named by the envelope's `corrects`: it stops counting from here on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryVoided {
    pub reason: String,
}

macro_rules! events {
    ($($variant:ident => $stream:ident),* $(,)?) => {
        /// Every event, tagged by its `event_type`. A variant's payload is the struct of the same name.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "event_type", content = "payload")]
        pub enum Event {
            $($variant($variant),)*
        }

        impl Event {
            /// Every stored `event_type`.
            pub const TYPES: &'static [&'static str] = &[$(stringify!($variant)),*];

            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Event::$variant(_) => stringify!($variant),)*
                }
            }

            /// The stream type the event belongs to; `None` for events of any stream (voids).
            pub fn stream_type(&self) -> Option<StreamType> {
                match self {
                    $(Event::$variant(_) => events!(@stream $stream),)*
                }
            }

            /// The JSON Schema of each event type's payload, generated from the types.
            pub fn payload_schemas() -> Vec<(&'static str, schemars::Schema)> {
                vec![$((stringify!($variant), schemars::schema_for!($variant)),)*]
            }
        }

        $(impl From<$variant> for Event {
            fn from(payload: $variant) -> Self {
                Event::$variant(payload)
            }
        })*
    };
    (@stream any) => { None };
    (@stream $stream:ident) => { Some(StreamType::$stream) };
}

events! {
    ContractRegistered => Contract,
    ProviderAccredited => Provider,
    ProductListed => Product,
    BeneficiaryRegistered => Beneficiary,
    OrderPlaced => Order,
    TokenIssued => Order,
    DeliveryTimeAgreed => Order,
    TokenRedeemed => Order,
    TokenExpired => Order,
    TokenRefunded => Order,
    OrderCancelled => Order,
    UnitMadeAvailable => Unit,
    TenancyStarted => Tenancy,
    RentCharged => Tenancy,
    RentPaid => Tenancy,
    TenantMilestoneReached => Tenancy,
    TenancyEnded => Tenancy,
    AccessRecorded => Access,
    ContractAmended => Contract,
    ProviderAccreditationRequested => Provider,
    ProviderSuspended => Provider,
    ProviderReinstated => Provider,
    ProductPriceChanged => Product,
    ProductWithdrawn => Product,
    BeneficiaryUpdated => Beneficiary,
    NeedAssessed => Beneficiary,
    ReferralMade => Beneficiary,
    PlacementStarted => Placement,
    PlacementEnded => Placement,
    HouseholdRehoused => Placement,
    PathEnrolled => Path,
    PathReassessed => Path,
    PathMilestoneReached => Path,
    PathExited => Path,
    PhaseDefined => Phase,
    AdvanceInvoiced => Phase,
    InvoiceIssued => Phase,
    DeliverableSubmitted => Phase,
    DeliverableAccepted => Phase,
    PaymentMade => Phase,
    SettlementCalculated => Settlement,
    SettlementValidated => Settlement,
    SettlementApproved => Settlement,
    SettlementPaid => Settlement,
    EntryVoided => any,
}

/// Every event type is at version 1 of its payload.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_type}: {reason}")]
pub struct PayloadError {
    pub event_type: String,
    pub reason: String,
}

impl Event {
    /// The payload alone, as stored in an entry.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self)
            .expect("event payloads serialize: no maps with non-string keys")
        {
            serde_json::Value::Object(mut tagged) => tagged
                .remove("payload")
                .expect("adjacently tagged events carry a payload"),
            _ => unreachable!("an adjacently tagged enum serializes as an object"),
        }
    }

    /// Reads an event back from its stored type and payload, through the same checks as input.
    pub fn from_parts(event_type: &str, payload: serde_json::Value) -> Result<Self, PayloadError> {
        let tagged = serde_json::json!({ "event_type": event_type, "payload": payload });
        serde_json::from_value(tagged).map_err(|error| PayloadError {
            event_type: event_type.to_owned(),
            reason: error.to_string(),
        })
    }
}

/// The stream a contract's own events live in.
pub fn contract_stream(contract_id: &ContractId) -> StreamRef {
    StreamRef::new(
        StreamType::Contract,
        StreamId::parse(contract_id.as_str()).expect("a contract id is a valid stream id"),
    )
}

/// The stream of a contract's settlements: one for all its periods, whose order is a rule.
pub fn settlement_stream(contract_id: &ContractId) -> StreamRef {
    StreamRef::new(
        StreamType::Settlement,
        StreamId::parse(contract_id.as_str()).expect("a contract id is a valid stream id"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_its_type_and_payload() {
        let event = Event::RentPaid(RentPaid {
            month: Month::parse("2024-01").expect("month"),
            amount: Money::parse("250.00").expect("money"),
        });
        let payload = event.payload();
        assert_eq!(
            payload,
            serde_json::json!({"month": "2024-01", "amount": "250.00"})
        );
        assert_eq!(Event::from_parts("RentPaid", payload), Ok(event));
    }

    #[test]
    fn a_payload_with_an_unknown_field_is_refused() {
        let error = Event::from_parts(
            "RentPaid",
            serde_json::json!({"month": "2024-01", "amount": "1.00", "x": 1}),
        )
        .expect_err("unknown field");
        assert!(error.reason.contains("unknown field"), "{error}");
    }

    #[test]
    fn every_event_type_has_a_schema() {
        let names: Vec<_> = Event::payload_schemas()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, Event::TYPES);
    }
}
