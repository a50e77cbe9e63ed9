//! The commands: imperative requests that `decide` turns into exactly one event, or refuses.
//!
//! Invariant: one command yields one event, so the client's `event_id` names that event and a
//! retry with the same id can be recognised.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use esito_log::Hash;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aggregates::StreamState;
use crate::events::{
    AccessChannel, AccessOutcome, AccommodationKind, AgeBand, AssessmentScores, Event, HousingKind,
    IseeBand, NeedCategory, OrderChannel, Pact, PathExitReason, PathMilestone, PeriodKind,
    PlacementEndReason, ServiceFamily, SettlementCheckpoint, StreamRef, StreamType,
    TenancyEndReason, TenantMilestone, TokenRecipient, VulnerabilityFlag,
};
use crate::period::Period;
use crate::procurement::Procurement;
use crate::terms::ContractChange;
use crate::values::{ContractId, EventId, Money, Month, OccurredAt, Rate, Share, StreamId};
use crate::vat::{Payee, VatRegime};

/// A command with its envelope: the id the resulting event will carry and its business time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub event_id: EventId,
    pub occurred_at: OccurredAt,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Command {
    RegisterContract {
        title: String,
        /// A ready-made template (`cuneo`, `torino`, `prato`, `cremona`); or, with
        /// `definitions`, the name the text gives itself, if the client repeats it.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        template: String,
        /// The text of an indicator definitions file of the contract's own (the format of
        /// `projections/*.toml`), instead of a template.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definitions: Option<String>,
        payer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        funder: Option<String>,
        operator: String,
        evaluator: String,
        term_start_on: NaiveDate,
        term_end_on: NaiveDate,
        period_kind: PeriodKind,
        /// The CIG, CUP and RUP every payment act cites (an amendment may set them later).
        #[serde(default, skip_serializing_if = "Procurement::is_empty")]
        procurement: Procurement,
    },
    AccreditProvider {
        provider_id: StreamId,
        name: String,
        service_family: ServiceFamily,
    },
    ListProduct {
        product_id: StreamId,
        provider_id: StreamId,
        name: String,
        service_family: ServiceFamily,
        tariffs: BTreeMap<IseeBand, Money>,
    },
    /// `isee_band`, `household_size` and `age_band` are required unless the contract's
    /// definitions in force read none of them.
    RegisterBeneficiary {
        beneficiary_id: StreamId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        isee_band: Option<IseeBand>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        household_size: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        age_band: Option<AgeBand>,
        #[serde(default)]
        flags: Vec<VulnerabilityFlag>,
    },
    PlaceOrder {
        order_id: StreamId,
        beneficiary_id: StreamId,
        product_id: StreamId,
        channel: OrderChannel,
        /// The price the client is charged: must be the tariff of the client's ISEE band.
        price: Money,
    },
    IssueToken {
        order_id: StreamId,
        token_code: String,
        notified_to: Vec<TokenRecipient>,
        expires_on: NaiveDate,
    },
    AgreeDeliveryTime {
        order_id: StreamId,
        agreed_for: OccurredAt,
    },
    RecordDelivery {
        order_id: StreamId,
        provider_id: StreamId,
    },
    ExpireToken {
        order_id: StreamId,
    },
    RefundToken {
        order_id: StreamId,
        amount: Money,
    },
    CancelOrder {
        order_id: StreamId,
        reason: String,
    },
    /// What the client paid at order: the tariff of its ISEE band (the order's price).
    RecordClientPayment {
        order_id: StreamId,
        amount: Money,
    },
    /// What the provider is paid for the delivered token: the full tariff, of which the
    /// client's band pays the share the tariff terms give.
    RecordProviderPayment {
        order_id: StreamId,
        provider_id: StreamId,
        amount: Money,
    },
    /// Who covers the difference between the provider's pay and the client's reduced tariff.
    RecordSolidarityCover {
        order_id: StreamId,
        covered_by: String,
        amount: Money,
    },
    MakeUnitAvailable {
        unit_id: StreamId,
        label: String,
        lent_by: String,
    },
    StartTenancy {
        tenancy_id: StreamId,
        unit_id: StreamId,
        beneficiary_id: StreamId,
        pact: Pact,
    },
    ChargeRent {
        tenancy_id: StreamId,
        month: Month,
        amount: Money,
    },
    RecordRentPayment {
        tenancy_id: StreamId,
        month: Month,
        amount: Money,
    },
    RecordTenantMilestone {
        tenancy_id: StreamId,
        milestone: TenantMilestone,
    },
    EndTenancy {
        tenancy_id: StreamId,
        reason: TenancyEndReason,
    },
    RecordAccess {
        access_id: StreamId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        beneficiary_id: Option<StreamId>,
        channel: AccessChannel,
        need: NeedCategory,
        outcome: AccessOutcome,
    },
    /// An outcome of a registered beneficiary, one the contract's definitions declare.
    RecordOutcome {
        beneficiary_id: StreamId,
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Rate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<String>,
    },
    /// Changes terms of the contract from `effective_on`. The first payment and funder terms
    /// are set this way too, effective on the term's first day.
    AmendContract {
        effective_on: NaiveDate,
        changes: Vec<ContractChange>,
    },
    RequestProviderAccreditation {
        provider_id: StreamId,
        name: String,
        service_family: ServiceFamily,
    },
    SuspendProvider {
        provider_id: StreamId,
        reason: String,
    },
    ReinstateProvider {
        provider_id: StreamId,
    },
    /// New tariffs for every ISEE band, in force from the day of `occurred_at`.
    ChangeProductPrice {
        product_id: StreamId,
        tariffs: BTreeMap<IseeBand, Money>,
    },
    WithdrawProduct {
        product_id: StreamId,
        reason: String,
    },
    /// A new product in prototyping with an accredited provider: not orderable until listed.
    StartProductPrototype {
        product_id: StreamId,
        provider_id: StreamId,
        name: String,
        service_family: ServiceFamily,
    },
    /// New circumstances from `effective_on`; give only what changes.
    UpdateBeneficiary {
        beneficiary_id: StreamId,
        effective_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        isee_band: Option<IseeBand>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        household_size: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<Vec<VulnerabilityFlag>>,
    },
    /// The service records that it erased the person behind the pseudonym from the identity
    /// vault (`DELETE .../identities/{beneficiary_id}`): no client sends it.
    EraseIdentity {
        beneficiary_id: StreamId,
    },
    AssessNeed {
        beneficiary_id: StreamId,
        needs: Vec<NeedCategory>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score: Option<u8>,
    },
    MakeReferral {
        beneficiary_id: StreamId,
        to_service: String,
        reason: String,
    },
    /// Torino: the first night is the day of `occurred_at`.
    StartPlacement {
        placement_id: StreamId,
        beneficiary_id: StreamId,
        accommodation: AccommodationKind,
        nightly_cost: Money,
    },
    EndPlacement {
        placement_id: StreamId,
        reason: PlacementEndReason,
    },
    RehouseHousehold {
        placement_id: StreamId,
        housing: HousingKind,
    },
    /// Prato: enrolment after the multidimensional assessment whose scores it carries.
    EnrolInPath {
        path_id: StreamId,
        beneficiary_id: StreamId,
        scores: AssessmentScores,
    },
    ReassessPath {
        path_id: StreamId,
        scores: AssessmentScores,
    },
    RecordPathMilestone {
        path_id: StreamId,
        milestone: PathMilestone,
    },
    ExitPath {
        path_id: StreamId,
        reason: PathExitReason,
        from_municipal_housing: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        monthly_cost_avoided: Option<Money>,
    },
    /// Cremona: a phase with its deliverable, net amount, VAT rate and advance share.
    DefinePhase {
        phase_id: StreamId,
        number: std::num::NonZeroU8,
        title: String,
        deliverable: String,
        amount: Money,
        vat_rate: Rate,
        advance_share: Share,
        /// `"split_payment"` when the contract's terms say so; ordinary when left out.
        #[serde(default, skip_serializing_if = "VatRegime::is_ordinary")]
        vat: VatRegime,
    },
    /// The advance invoice; `decide` adds its due date.
    InvoiceAdvance {
        phase_id: StreamId,
        invoice_number: String,
        amount: Money,
        vat: Money,
        issued_on: NaiveDate,
    },
    /// The balance invoice, once the deliverable is accepted; `decide` adds its due date.
    IssueInvoice {
        phase_id: StreamId,
        invoice_number: String,
        amount: Money,
        vat: Money,
        issued_on: NaiveDate,
    },
    SubmitDeliverable {
        phase_id: StreamId,
        document: String,
    },
    AcceptDeliverable {
        phase_id: StreamId,
        accepted_by: String,
    },
    RecordInvoicePayment {
        phase_id: StreamId,
        invoice_number: String,
        amount: Money,
        paid_on: NaiveDate,
        /// `"treasury"` for the VAT paid to the Treasury under split payment; the operator when
        /// left out.
        #[serde(default, skip_serializing_if = "Payee::is_operator")]
        payee: Payee,
    },
    /// The service's own command: a period's settlement as `esito-books` computed it from the
    /// log as of `as_of`. `POST /v1/contracts/{id}/settlements` sends it; no client may.
    CalculateSettlement {
        period: Period,
        period_start_on: NaiveDate,
        period_end_on: NaiveDate,
        as_of: u64,
        #[schemars(with = "String")]
        root_hash: Hash,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<SettlementCheckpoint>,
        template: String,
        #[schemars(with = "String")]
        definitions_sha256: Hash,
        #[schemars(with = "String")]
        terms_sha256: Hash,
        final_settlement: bool,
        #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
        document: serde_json::Value,
    },
    /// The evaluator's: the calculation as of `as_of` is checked.
    ValidateSettlement {
        period: Period,
        as_of: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The payer's (its RUP's): the validated calculation as of `as_of` is certified, the
    /// *attestazione di regolare esecuzione* dated `certified_on`.
    CertifySettlement {
        period: Period,
        as_of: u64,
        certified_on: NaiveDate,
    },
    /// The payer's: the validated calculation as of `as_of` is approved by the *determina di
    /// liquidazione* with its number and date (required when the contract has a CIG).
    ApproveSettlement {
        period: Period,
        as_of: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        determina_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        determina_date: Option<NaiveDate>,
    },
    /// The payer's: the approved settlement was paid on `paid_on`, by the *mandato di
    /// pagamento* with its number and date (required when the contract has a CIG).
    RecordSettlementPayment {
        period: Period,
        paid_on: NaiveDate,
        reference: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mandato_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mandato_date: Option<NaiveDate>,
    },
    /// The payer's: the calculation as of `as_of`, not yet validated, is withdrawn; the period
    /// may then be calculated again.
    WithdrawSettlement {
        period: Period,
        as_of: u64,
        reason: String,
    },
    /// Supersedes an earlier event with a corrected payload of the same type, in its stream.
    CorrectEvent {
        corrects: EventId,
        #[schemars(with = "serde_json::Value")]
        replacement: Event,
    },
    /// Voids an earlier event: it stops counting from this event's position on.
    VoidEvent {
        voids: EventId,
        reason: String,
    },
}

/// Where a command's event goes. Corrections and voids go to the stream of the event they
/// name, which only the log knows: the caller resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stream(StreamRef),
    StreamOfEvent(EventId),
}

impl Target {
    /// The stream, when the command names it itself.
    pub fn stream(self) -> Option<StreamRef> {
        match self {
            Target::Stream(stream) => Some(stream),
            Target::StreamOfEvent(_) => None,
        }
    }
}

fn stream(stream_type: StreamType, id: &StreamId) -> StreamRef {
    StreamRef::new(stream_type, id.clone())
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::RegisterContract { .. } => "RegisterContract",
            Command::AccreditProvider { .. } => "AccreditProvider",
            Command::ListProduct { .. } => "ListProduct",
            Command::RegisterBeneficiary { .. } => "RegisterBeneficiary",
            Command::PlaceOrder { .. } => "PlaceOrder",
            Command::IssueToken { .. } => "IssueToken",
            Command::AgreeDeliveryTime { .. } => "AgreeDeliveryTime",
            Command::RecordDelivery { .. } => "RecordDelivery",
            Command::ExpireToken { .. } => "ExpireToken",
            Command::RefundToken { .. } => "RefundToken",
            Command::CancelOrder { .. } => "CancelOrder",
            Command::RecordClientPayment { .. } => "RecordClientPayment",
            Command::RecordProviderPayment { .. } => "RecordProviderPayment",
            Command::RecordSolidarityCover { .. } => "RecordSolidarityCover",
            Command::MakeUnitAvailable { .. } => "MakeUnitAvailable",
            Command::StartTenancy { .. } => "StartTenancy",
            Command::ChargeRent { .. } => "ChargeRent",
            Command::RecordRentPayment { .. } => "RecordRentPayment",
            Command::RecordTenantMilestone { .. } => "RecordTenantMilestone",
            Command::EndTenancy { .. } => "EndTenancy",
            Command::RecordAccess { .. } => "RecordAccess",
            Command::RecordOutcome { .. } => "RecordOutcome",
            Command::AmendContract { .. } => "AmendContract",
            Command::RequestProviderAccreditation { .. } => "RequestProviderAccreditation",
            Command::SuspendProvider { .. } => "SuspendProvider",
            Command::ReinstateProvider { .. } => "ReinstateProvider",
            Command::ChangeProductPrice { .. } => "ChangeProductPrice",
            Command::WithdrawProduct { .. } => "WithdrawProduct",
            Command::StartProductPrototype { .. } => "StartProductPrototype",
            Command::UpdateBeneficiary { .. } => "UpdateBeneficiary",
            Command::EraseIdentity { .. } => "EraseIdentity",
            Command::AssessNeed { .. } => "AssessNeed",
            Command::MakeReferral { .. } => "MakeReferral",
            Command::StartPlacement { .. } => "StartPlacement",
            Command::EndPlacement { .. } => "EndPlacement",
            Command::RehouseHousehold { .. } => "RehouseHousehold",
            Command::EnrolInPath { .. } => "EnrolInPath",
            Command::ReassessPath { .. } => "ReassessPath",
            Command::RecordPathMilestone { .. } => "RecordPathMilestone",
            Command::ExitPath { .. } => "ExitPath",
            Command::DefinePhase { .. } => "DefinePhase",
            Command::InvoiceAdvance { .. } => "InvoiceAdvance",
            Command::IssueInvoice { .. } => "IssueInvoice",
            Command::SubmitDeliverable { .. } => "SubmitDeliverable",
            Command::AcceptDeliverable { .. } => "AcceptDeliverable",
            Command::RecordInvoicePayment { .. } => "RecordInvoicePayment",
            Command::CalculateSettlement { .. } => "CalculateSettlement",
            Command::ValidateSettlement { .. } => "ValidateSettlement",
            Command::CertifySettlement { .. } => "CertifySettlement",
            Command::ApproveSettlement { .. } => "ApproveSettlement",
            Command::RecordSettlementPayment { .. } => "RecordSettlementPayment",
            Command::WithdrawSettlement { .. } => "WithdrawSettlement",
            Command::CorrectEvent { .. } => "CorrectEvent",
            Command::VoidEvent { .. } => "VoidEvent",
        }
    }

    /// The stream the command's event is appended to.
    pub fn target(&self, contract_id: &ContractId) -> Target {
        use StreamType as T;
        Target::Stream(match self {
            Command::RegisterContract { .. } | Command::AmendContract { .. } => {
                crate::events::contract_stream(contract_id)
            }
            Command::AccreditProvider { provider_id, .. }
            | Command::RequestProviderAccreditation { provider_id, .. }
            | Command::SuspendProvider { provider_id, .. }
            | Command::ReinstateProvider { provider_id } => stream(T::Provider, provider_id),
            Command::ListProduct { product_id, .. }
            | Command::ChangeProductPrice { product_id, .. }
            | Command::WithdrawProduct { product_id, .. }
            | Command::StartProductPrototype { product_id, .. } => stream(T::Product, product_id),
            Command::RegisterBeneficiary { beneficiary_id, .. }
            | Command::UpdateBeneficiary { beneficiary_id, .. }
            | Command::EraseIdentity { beneficiary_id }
            | Command::AssessNeed { beneficiary_id, .. }
            | Command::MakeReferral { beneficiary_id, .. }
            | Command::RecordOutcome { beneficiary_id, .. } => {
                stream(T::Beneficiary, beneficiary_id)
            }
            Command::StartPlacement { placement_id, .. }
            | Command::EndPlacement { placement_id, .. }
            | Command::RehouseHousehold { placement_id, .. } => stream(T::Placement, placement_id),
            Command::EnrolInPath { path_id, .. }
            | Command::ReassessPath { path_id, .. }
            | Command::RecordPathMilestone { path_id, .. }
            | Command::ExitPath { path_id, .. } => stream(T::Path, path_id),
            Command::DefinePhase { phase_id, .. }
            | Command::InvoiceAdvance { phase_id, .. }
            | Command::IssueInvoice { phase_id, .. }
            | Command::SubmitDeliverable { phase_id, .. }
            | Command::AcceptDeliverable { phase_id, .. }
            | Command::RecordInvoicePayment { phase_id, .. } => stream(T::Phase, phase_id),
            Command::PlaceOrder { order_id, .. }
            | Command::IssueToken { order_id, .. }
            | Command::AgreeDeliveryTime { order_id, .. }
            | Command::RecordDelivery { order_id, .. }
            | Command::ExpireToken { order_id }
            | Command::RefundToken { order_id, .. }
            | Command::CancelOrder { order_id, .. }
            | Command::RecordClientPayment { order_id, .. }
            | Command::RecordProviderPayment { order_id, .. }
            | Command::RecordSolidarityCover { order_id, .. } => stream(T::Order, order_id),
            Command::MakeUnitAvailable { unit_id, .. } => stream(T::Unit, unit_id),
            Command::StartTenancy { tenancy_id, .. }
            | Command::ChargeRent { tenancy_id, .. }
            | Command::RecordRentPayment { tenancy_id, .. }
            | Command::RecordTenantMilestone { tenancy_id, .. }
            | Command::EndTenancy { tenancy_id, .. } => stream(T::Tenancy, tenancy_id),
            Command::RecordAccess { access_id, .. } => stream(T::Access, access_id),
            Command::CalculateSettlement { .. }
            | Command::ValidateSettlement { .. }
            | Command::CertifySettlement { .. }
            | Command::ApproveSettlement { .. }
            | Command::RecordSettlementPayment { .. }
            | Command::WithdrawSettlement { .. } => crate::events::settlement_stream(contract_id),
            Command::CorrectEvent { corrects: id, .. } | Command::VoidEvent { voids: id, .. } => {
                return Target::StreamOfEvent(*id)
            }
        })
    }

    /// Other streams whose state `decide` reads (the contract's own stream is always read).
    pub fn reads(&self) -> Vec<StreamRef> {
        use StreamType as T;
        match self {
            Command::ListProduct { provider_id, .. }
            | Command::StartProductPrototype { provider_id, .. } => {
                vec![stream(T::Provider, provider_id)]
            }
            Command::PlaceOrder {
                beneficiary_id,
                product_id,
                ..
            } => {
                vec![
                    stream(T::Beneficiary, beneficiary_id),
                    stream(T::Product, product_id),
                ]
            }
            Command::StartTenancy {
                unit_id,
                beneficiary_id,
                ..
            } => {
                vec![
                    stream(T::Unit, unit_id),
                    stream(T::Beneficiary, beneficiary_id),
                ]
            }
            Command::RecordAccess {
                beneficiary_id: Some(beneficiary_id),
                ..
            }
            | Command::StartPlacement { beneficiary_id, .. }
            | Command::EnrolInPath { beneficiary_id, .. } => {
                vec![stream(T::Beneficiary, beneficiary_id)]
            }
            // A suspended provider cannot redeem tokens.
            Command::RecordDelivery { provider_id, .. } => vec![stream(T::Provider, provider_id)],
            _ => Vec::new(),
        }
    }

    /// Streams `decide` also reads that the command names only through the state of its
    /// `reads`: the provider of an ordered product, whose suspension refuses the order.
    /// A store loads these after `reads`; `decide` checks the provider when its state is given.
    pub fn dependent_reads(&self, reads: &BTreeMap<StreamRef, StreamState>) -> Vec<StreamRef> {
        match self {
            Command::PlaceOrder { product_id, .. } => {
                match reads.get(&stream(StreamType::Product, product_id)) {
                    Some(StreamState::Product(product)) => {
                        product.listed().map_or_else(Vec::new, |listed| {
                            vec![stream(StreamType::Provider, &listed.provider_id)]
                        })
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// The business dates the command's fields carry, each of which must lie in the
    /// contract's term (the term's own new end, in an amendment, is checked by its own rule).
    pub fn field_dates(&self) -> Vec<(&'static str, NaiveDate)> {
        match self {
            Command::AmendContract { effective_on, .. }
            | Command::UpdateBeneficiary { effective_on, .. } => {
                vec![("effective_on", *effective_on)]
            }
            Command::InvoiceAdvance { issued_on, .. } | Command::IssueInvoice { issued_on, .. } => {
                vec![("issued_on", *issued_on)]
            }
            Command::RecordInvoicePayment { paid_on, .. } => vec![("paid_on", *paid_on)],
            _ => Vec::new(),
        }
    }

    /// True for the settlement's commands: a period is settled after it ends, the last one after
    /// the term's end, so their `occurred_at` need not lie in the term (their periods must).
    /// And for an identity's erasure, which a person may ask for long after the term.
    pub fn follows_the_term(&self) -> bool {
        matches!(
            self,
            Command::EraseIdentity { .. }
                | Command::CalculateSettlement { .. }
                | Command::ValidateSettlement { .. }
                | Command::CertifySettlement { .. }
                | Command::ApproveSettlement { .. }
                | Command::RecordSettlementPayment { .. }
                | Command::WithdrawSettlement { .. }
        )
    }

    /// The event this command corrects or voids, if any: it goes into the envelope's `corrects`.
    pub fn corrects(&self) -> Option<EventId> {
        match self {
            Command::CorrectEvent { corrects, .. } => Some(*corrects),
            Command::VoidEvent { voids, .. } => Some(*voids),
            _ => None,
        }
    }
}
