//! The events: past-tense facts with their payloads, one variant per stored `event_type`.
//!
//! Invariant: a variant's name is its stored `event_type` and never changes; a payload change
//! that old readers cannot read raises `SCHEMA_VERSION` for that type.
//!
//! The payloads live in `payloads` (the programmes' streams) and `settlement`, the values they
//! name in `vocabulary`; all are re-exported here, so each is `esito_domain::events::Name`.

mod payloads;
mod settlement;
mod vocabulary;

pub use payloads::*;
pub use settlement::*;
pub use vocabulary::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::values::{ContractId, StreamId};

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
    ClientPaymentRecorded => Order,
    ProviderPaymentRecorded => Order,
    SolidarityCoverRecorded => Order,
    UnitMadeAvailable => Unit,
    TenancyStarted => Tenancy,
    RentCharged => Tenancy,
    RentPaid => Tenancy,
    TenantMilestoneReached => Tenancy,
    TenancyEnded => Tenancy,
    AccessRecorded => Access,
    OutcomeRecorded => Beneficiary,
    ContractAmended => Contract,
    ProviderAccreditationRequested => Provider,
    ProviderSuspended => Provider,
    ProviderReinstated => Provider,
    ProductPriceChanged => Product,
    ProductWithdrawn => Product,
    ProductPrototypeStarted => Product,
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
    SettlementWithdrawn => Settlement,
    SettlementCertified => Settlement,
    IdentityErased => Beneficiary,
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
    use crate::values::{Money, Month};

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
