//! The events' vocabularies: the closed sets of values their payloads name (period kinds,
//! ISEE bands, service families, reasons, milestones). A value's snake_case name is stored.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::period::Period;
use crate::values::Money;

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

    /// The period of this kind that starts on `start_on`; `None` when no period of this kind
    /// starts that day.
    pub fn period_starting(self, start_on: NaiveDate) -> Option<Period> {
        self.starts_on(start_on)
            .then(|| Period::containing(self, start_on))
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
