//! The payloads of the programmes' streams (contract, catalogue, orders, tenancies, accesses,
//! beneficiaries, placements, paths, phases) and the void that any stream may hold.
//!
//! Invariant: a struct's name is its event's stored `event_type`, its fields the stored payload.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::vocabulary::{
    AccessChannel, AccessOutcome, AccommodationKind, AgeBand, AssessmentScores, HousingKind,
    IseeBand, NeedCategory, OrderChannel, Pact, PathExitReason, PathMilestone, PeriodKind,
    PlacementEndReason, ServiceFamily, TenancyEndReason, TenantMilestone, TokenRecipient,
    VulnerabilityFlag,
};
use crate::procurement::Procurement;
use crate::terms::ContractChange;
use crate::values::{Money, Month, OccurredAt, Rate, Share, StreamId};
use crate::vat::{Payee, VatRegime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractRegistered {
    pub title: String,
    /// The name the definitions give themselves: a ready-made template under `projections/`
    /// (e.g. `cuneo`) or the contract's own.
    pub template: String,
    /// The definitions' whole text; absent from entries written before it was recorded, whose
    /// template's file is then the one built in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definitions: Option<String>,
    /// SHA-256 (hex) of `definitions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub definitions_sha256: Option<esito_log::Hash>,
    pub payer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funder: Option<String>,
    pub operator: String,
    pub evaluator: String,
    pub term_start_on: NaiveDate,
    pub term_end_on: NaiveDate,
    pub period_kind: PeriodKind,
    /// The CIG, CUP and RUP the payment acts cite; none in registrations written before them.
    #[serde(default, skip_serializing_if = "Procurement::is_empty")]
    pub procurement: Procurement,
}

impl ContractRegistered {
    /// The periods of the contract's term, in order: the one holding its first day to the one
    /// holding its last.
    pub fn term_periods(&self) -> Vec<crate::period::Period> {
        let mut period = crate::period::Period::containing(self.period_kind, self.term_start_on);
        let mut periods = Vec::new();
        while period.start_on() <= self.term_end_on {
            periods.push(period);
            period = period.next();
        }
        periods
    }
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
    /// The circumstances below may be left out where the contract's definitions read none of
    /// them (a rate card on outcomes needs only the pseudonym); absent, they are not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isee_band: Option<IseeBand>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_size: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
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

/// The client paid the order's tariff, that of its ISEE band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPaymentRecorded {
    pub amount: Money,
    /// The band the order was placed in.
    pub isee_band: IseeBand,
}

/// The provider was paid for the delivered token: the full tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderPaymentRecorded {
    pub provider_id: StreamId,
    pub amount: Money,
    /// The band the order was placed in, and the share of the full tariff it pays.
    pub isee_band: IseeBand,
    pub tariff_share: Share,
}

/// The difference between the provider's pay and the client's reduced tariff, and who
/// covered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SolidarityCoverRecorded {
    pub covered_by: String,
    pub amount: Money,
    pub isee_band: IseeBand,
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

/// An outcome of a beneficiary that the contract's definitions declare (`[[outcome]]`): entered
/// employment, sustained accommodation for six months, and so on. In the beneficiary's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRecorded {
    pub beneficiary_id: StreamId,
    /// An outcome id the definitions in force on `occurred_at`'s date declare.
    pub outcome: String,
    /// A measure of the outcome where the definitions read one (hours, euros, weeks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Rate>,
    /// A reference to the evidence (a document's hash, an identifier in the operator's
    /// records); never personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
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

/// A new product in prototyping: designed with an accredited provider, not yet in the catalogue
/// and not yet orderable (the seeds: "2 nuovi prodotti in fase di prototipizzazione"). Listing
/// it later puts it in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPrototypeStarted {
    pub provider_id: StreamId,
    pub name: String,
    pub service_family: ServiceFamily,
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
    /// How the invoices' VAT is paid: under split payment the operator is paid the net and
    /// the VAT goes to the Treasury. Ordinary when absent (phases recorded before it was).
    #[serde(default, skip_serializing_if = "VatRegime::is_ordinary")]
    pub vat: VatRegime,
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

/// Cremona: the payer paid (part of) an invoice of the phase: to the operator, VAT included
/// (ordinary VAT) or the net only (split payment); or, under split payment, its VAT to the
/// Treasury.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMade {
    pub invoice_number: String,
    pub amount: Money,
    pub paid_on: NaiveDate,
    /// Who was paid; the operator when absent.
    #[serde(default, skip_serializing_if = "Payee::is_operator")]
    pub payee: Payee,
}

/// Days from an invoice's issue to its due date (Cremona's offer: "entro 30 giorni dalla data
/// di ricevimento della fattura"; an e-invoice is received the day it is issued).
pub const PAYMENT_DUE_DAYS: u64 = 30;

/// Voids the event named by the envelope's `corrects`: it stops counting from here on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryVoided {
    pub reason: String,
}

/// The person behind a beneficiary's pseudonym was erased from the identity vault: its data key
/// and record are gone. The stream id is the pseudonym and `occurred_at` the time; nothing else
/// is recorded, and no indicator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityErased {}
