//! The commands: imperative requests that `decide` turns into exactly one event, or refuses.
//!
//! Invariant: one command yields one event, so the client's `event_id` names that event and a
//! retry with the same id can be recognised.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::events::{
    AccessChannel, AccessOutcome, AgeBand, Event, IseeBand, NeedCategory, OrderChannel, Pact,
    PeriodKind, ServiceFamily, StreamRef, StreamType, TenancyEndReason, TenantMilestone,
    TokenRecipient, VulnerabilityFlag,
};
use crate::values::{ContractId, EventId, Money, Month, OccurredAt, StreamId};

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
        template: String,
        payer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        funder: Option<String>,
        operator: String,
        evaluator: String,
        term_start_on: NaiveDate,
        term_end_on: NaiveDate,
        period_kind: PeriodKind,
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
    RegisterBeneficiary {
        beneficiary_id: StreamId,
        isee_band: IseeBand,
        household_size: u8,
        age_band: AgeBand,
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
            Command::MakeUnitAvailable { .. } => "MakeUnitAvailable",
            Command::StartTenancy { .. } => "StartTenancy",
            Command::ChargeRent { .. } => "ChargeRent",
            Command::RecordRentPayment { .. } => "RecordRentPayment",
            Command::RecordTenantMilestone { .. } => "RecordTenantMilestone",
            Command::EndTenancy { .. } => "EndTenancy",
            Command::RecordAccess { .. } => "RecordAccess",
            Command::CorrectEvent { .. } => "CorrectEvent",
            Command::VoidEvent { .. } => "VoidEvent",
        }
    }

    /// The stream the command's event is appended to.
    pub fn target(&self, contract_id: &ContractId) -> Target {
        use StreamType as T;
        Target::Stream(match self {
            Command::RegisterContract { .. } => crate::events::contract_stream(contract_id),
            Command::AccreditProvider { provider_id, .. } => stream(T::Provider, provider_id),
            Command::ListProduct { product_id, .. } => stream(T::Product, product_id),
            Command::RegisterBeneficiary { beneficiary_id, .. } => {
                stream(T::Beneficiary, beneficiary_id)
            }
            Command::PlaceOrder { order_id, .. }
            | Command::IssueToken { order_id, .. }
            | Command::AgreeDeliveryTime { order_id, .. }
            | Command::RecordDelivery { order_id, .. }
            | Command::ExpireToken { order_id }
            | Command::RefundToken { order_id, .. }
            | Command::CancelOrder { order_id, .. } => stream(T::Order, order_id),
            Command::MakeUnitAvailable { unit_id, .. } => stream(T::Unit, unit_id),
            Command::StartTenancy { tenancy_id, .. }
            | Command::ChargeRent { tenancy_id, .. }
            | Command::RecordRentPayment { tenancy_id, .. }
            | Command::RecordTenantMilestone { tenancy_id, .. }
            | Command::EndTenancy { tenancy_id, .. } => stream(T::Tenancy, tenancy_id),
            Command::RecordAccess { access_id, .. } => stream(T::Access, access_id),
            Command::CorrectEvent { corrects: id, .. } | Command::VoidEvent { voids: id, .. } => {
                return Target::StreamOfEvent(*id)
            }
        })
    }

    /// Other streams whose state `decide` reads (the contract's own stream is always read).
    pub fn reads(&self) -> Vec<StreamRef> {
        use StreamType as T;
        match self {
            Command::ListProduct { provider_id, .. } => vec![stream(T::Provider, provider_id)],
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
            } => {
                vec![stream(T::Beneficiary, beneficiary_id)]
            }
            _ => Vec::new(),
        }
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
