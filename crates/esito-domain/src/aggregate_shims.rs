//! cqrs-es `Aggregate` implementations: thin shims over `decide` and `evolve`.
//!
//! The ledger calls `decide` directly inside its append transaction (ADR 0001); these shims
//! let cqrs-es tooling (its `TestFramework`, its event stores) drive the same rules. They are
//! built with the `cqrs` feature only: cqrs-es brings tokio, which the pure crates do without.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use crate::aggregates::*;
use crate::commands::Submission;
use crate::errors::DomainError;
use crate::events::{Event, SCHEMA_VERSION};

impl cqrs_es::DomainEvent for Event {
    fn event_type(&self) -> String {
        Event::event_type(self).to_owned()
    }
    fn event_version(&self) -> String {
        SCHEMA_VERSION.to_string()
    }
}

macro_rules! shim {
    ($($state:ident => $variant:ident, $type_name:literal);* $(;)?) => {$(
        impl Aggregate for $state {
            const TYPE: &'static str = $type_name;
            type Command = Submission;
            type Event = Event;
            type Error = DomainError;
            type Services = DecisionContext;

            async fn handle(
                &mut self,
                submission: Submission,
                context: &DecisionContext,
                sink: &EventSink<Self>,
            ) -> Result<(), DomainError> {
                let event = decide(&submission, &StreamState::$variant(self.clone()), context)?;
                sink.write(event, self).await;
                Ok(())
            }

            fn apply(&mut self, event: Event) {
                let mut state = StreamState::$variant(std::mem::take(self));
                state
                    .evolve(&event)
                    .expect("a decided or stored event follows its stream's state");
                match state {
                    StreamState::$variant(next) => *self = next,
                    _ => unreachable!("evolve keeps the stream type"),
                }
            }
        }
    )*};
}

shim! {
    ContractState => Contract, "contract";
    ProviderState => Provider, "provider";
    ProductState => Product, "product";
    BeneficiaryState => Beneficiary, "beneficiary";
    OrderState => Order, "order";
    UnitState => Unit, "unit";
    TenancyState => Tenancy, "tenancy";
    AccessState => Access, "access";
    PlacementState => Placement, "placement";
    PathState => Path, "path";
    PhaseState => Phase, "phase";
    SettlementState => Settlement, "settlement";
}
