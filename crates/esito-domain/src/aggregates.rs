//! The aggregates: one state per stream type, `evolve` to fold events, `decide` for commands.
//!
//! Invariant: `decide` checks every rule before an event exists; `evolve` refuses any event that
//! would leave a stream inconsistent, so a replay that succeeds is a consistent stream.
//!
//! The orders, units, tenancies and accesses live here; the other stream types each have a
//! module of their own below, with their state, `evolve` and rules.

mod beneficiary;
mod catalogue;
mod contract;
mod path;
mod phase;
mod placement;
mod settlement;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::commands::{Command, Submission};
use crate::errors::DomainError;
use crate::events::*;
use crate::values::{EventId, Money, Month, OccurredAt, StreamId};

pub use beneficiary::BeneficiaryState;
pub use catalogue::{ProductState, ProviderState, Suspension};
pub use contract::ContractState;
pub use path::{PathState, PathStatus};
pub use phase::{due_date, InvoiceDue, PhaseState};
pub use placement::{PlacementState, PlacementStatus};
pub use settlement::{PeriodSettlement, SettlementState, SettlementStatus};

/// One event of a stream as the log holds it, enough to replay the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub event_id: EventId,
    pub corrects: Option<EventId>,
    pub occurred_at: OccurredAt,
    pub event: Event,
}

/// The stream's events after corrections and voids: a corrected event is replaced, in its
/// place, by its latest correction; a voided event is left out.
pub fn effective_events(history: &[Recorded]) -> Result<Vec<&Recorded>, DomainError> {
    let mut slots: Vec<Option<&Recorded>> = Vec::with_capacity(history.len());
    let mut slot_of: BTreeMap<EventId, usize> = BTreeMap::new();
    for recorded in history {
        match recorded.corrects {
            None => {
                slot_of.insert(recorded.event_id, slots.len());
                slots.push(Some(recorded));
            }
            Some(target) => {
                let slot = *slot_of
                    .get(&target)
                    .ok_or(DomainError::CorrectedEventNotFound { event_id: target })?;
                let current = slots[slot]
                    .ok_or(DomainError::CorrectedEventNotEffective { event_id: target })?;
                if current.event_id != target {
                    return Err(DomainError::CorrectedEventNotEffective { event_id: target });
                }
                match &recorded.event {
                    Event::EntryVoided(_) => slots[slot] = None,
                    replacement => {
                        if replacement.event_type() != current.event.event_type() {
                            return Err(DomainError::CorrectionChangesEventType {
                                original: current.event.event_type().to_owned(),
                                replacement: replacement.event_type().to_owned(),
                            });
                        }
                        slots[slot] = Some(recorded);
                        slot_of.insert(recorded.event_id, slot);
                    }
                }
            }
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Folds a stream's history, corrections and voids applied, into its state.
pub fn replay(stream_type: StreamType, history: &[Recorded]) -> Result<StreamState, DomainError> {
    let mut state = StreamState::empty(stream_type);
    for recorded in effective_events(history)? {
        state.evolve(&recorded.event)?;
    }
    Ok(state)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    #[default]
    NotPlaced,
    Placed,
    TokenIssued,
    Redeemed,
    Expired,
    Refunded,
    Cancelled,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub status: OrderStatus,
    pub placed: Option<OrderPlaced>,
    pub token: Option<TokenIssued>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitState {
    pub available: Option<UnitMadeAvailable>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenancyStatus {
    #[default]
    NotStarted,
    Active,
    Ended,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenancyState {
    pub status: TenancyStatus,
    pub started: Option<TenancyStarted>,
    pub charged: BTreeMap<Month, Money>,
    pub paid: BTreeMap<Month, Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessState {
    pub recorded: Option<AccessRecorded>,
}

/// The state of any stream, by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Contract(ContractState),
    Provider(ProviderState),
    Product(ProductState),
    Beneficiary(BeneficiaryState),
    Order(OrderState),
    Unit(UnitState),
    Tenancy(TenancyState),
    Access(AccessState),
    Placement(PlacementState),
    Path(PathState),
    Phase(PhaseState),
    Settlement(SettlementState),
}

fn inconsistent(event: &Event, reason: &str) -> DomainError {
    DomainError::EventInconsistentWithStream {
        event_type: event.event_type().to_owned(),
        reason: reason.to_owned(),
    }
}

fn does_not_fit(command: &Command) -> DomainError {
    DomainError::CommandDoesNotFitStream {
        command: command.name().to_owned(),
    }
}

impl StreamState {
    pub fn empty(stream_type: StreamType) -> Self {
        match stream_type {
            StreamType::Contract => Self::Contract(Default::default()),
            StreamType::Provider => Self::Provider(Default::default()),
            StreamType::Product => Self::Product(Default::default()),
            StreamType::Beneficiary => Self::Beneficiary(Default::default()),
            StreamType::Order => Self::Order(Default::default()),
            StreamType::Unit => Self::Unit(Default::default()),
            StreamType::Tenancy => Self::Tenancy(Default::default()),
            StreamType::Access => Self::Access(Default::default()),
            StreamType::Placement => Self::Placement(Default::default()),
            StreamType::Path => Self::Path(Default::default()),
            StreamType::Phase => Self::Phase(Default::default()),
            StreamType::Settlement => Self::Settlement(Default::default()),
        }
    }

    /// Applies one effective event; refuses one the stream's state cannot follow.
    pub fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        match (self, event) {
            (StreamState::Contract(s), event) => s.evolve(event)?,
            (StreamState::Provider(s), event) => s.evolve(event)?,
            (StreamState::Product(s), event) => s.evolve(event)?,
            (StreamState::Beneficiary(s), event) => s.evolve(event)?,
            (StreamState::Placement(s), event) => s.evolve(event)?,
            (StreamState::Path(s), event) => s.evolve(event)?,
            (StreamState::Phase(s), event) => s.evolve(event)?,
            (StreamState::Settlement(s), event) => s.evolve(event)?,
            (StreamState::Unit(s), Event::UnitMadeAvailable(e)) if s.available.is_none() => {
                s.available = Some(e.clone());
            }
            (StreamState::Access(s), Event::AccessRecorded(e)) if s.recorded.is_none() => {
                s.recorded = Some(e.clone());
            }
            (StreamState::Order(s), event) => evolve_order(s, event)?,
            (StreamState::Tenancy(s), event) => evolve_tenancy(s, event)?,
            (_, event) => {
                return Err(inconsistent(
                    event,
                    "the stream already holds it or cannot hold it",
                ))
            }
        }
        Ok(())
    }
}

fn evolve_order(order: &mut OrderState, event: &Event) -> Result<(), DomainError> {
    use OrderStatus as S;
    order.status = match (order.status, event) {
        (S::NotPlaced, Event::OrderPlaced(e)) => {
            order.placed = Some(e.clone());
            S::Placed
        }
        (S::Placed, Event::TokenIssued(e)) => {
            order.token = Some(e.clone());
            S::TokenIssued
        }
        (S::TokenIssued, Event::DeliveryTimeAgreed(_)) => S::TokenIssued,
        (S::TokenIssued, Event::TokenRedeemed(e)) => {
            let token = order.token.as_ref().expect("an issued token is recorded");
            if token.provider_id != e.provider_id {
                return Err(inconsistent(
                    event,
                    "redeemed by a provider other than the token's",
                ));
            }
            S::Redeemed
        }
        (S::TokenIssued, Event::TokenExpired(_)) => S::Expired,
        (S::TokenIssued | S::Expired, Event::TokenRefunded(e)) => {
            let placed = order.placed.as_ref().expect("a placed order is recorded");
            if e.amount > placed.price {
                return Err(inconsistent(event, "refund above the price paid"));
            }
            S::Refunded
        }
        (S::Placed | S::TokenIssued, Event::OrderCancelled(_)) => S::Cancelled,
        (status, event) => {
            return Err(inconsistent(
                event,
                &format!("the order is {}", status_name(status)),
            ));
        }
    };
    Ok(())
}

fn status_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::NotPlaced => "not placed",
        OrderStatus::Placed => "placed, with no token yet",
        OrderStatus::TokenIssued => "waiting for delivery",
        OrderStatus::Redeemed => "already redeemed",
        OrderStatus::Expired => "expired",
        OrderStatus::Refunded => "refunded",
        OrderStatus::Cancelled => "cancelled",
    }
}

fn evolve_tenancy(tenancy: &mut TenancyState, event: &Event) -> Result<(), DomainError> {
    use TenancyStatus as S;
    match (tenancy.status, event) {
        (S::NotStarted, Event::TenancyStarted(e)) => {
            if e.pact.monthly_rent > e.pact.rent_cap {
                return Err(inconsistent(event, "rent above the pact's cap"));
            }
            tenancy.started = Some(e.clone());
            tenancy.status = S::Active;
        }
        (S::Active, Event::RentCharged(e)) => {
            if tenancy.charged.insert(e.month, e.amount).is_some() {
                return Err(inconsistent(event, "that month's rent was already charged"));
            }
        }
        (S::Active | S::Ended, Event::RentPaid(e)) => {
            let charged = tenancy
                .charged
                .get(&e.month)
                .ok_or_else(|| inconsistent(event, "no rent was charged for that month"))?
                .amount();
            let paid = tenancy.paid.entry(e.month).or_default();
            *paid += e.amount.amount();
            if *paid > charged {
                return Err(inconsistent(event, "more paid than charged for that month"));
            }
        }
        (S::Active, Event::TenantMilestoneReached(_)) => {}
        (S::Active, Event::TenancyEnded(_)) => tenancy.status = S::Ended,
        (_, event) => return Err(inconsistent(event, "the tenancy is not active")),
    }
    Ok(())
}

/// What `decide` may read besides the target stream: the contract and the streams the
/// command names (`Command::reads`), and for a correction the event it names.
#[derive(Debug, Clone, Default)]
pub struct DecisionContext {
    pub contract: ContractState,
    pub reads: BTreeMap<StreamRef, StreamState>,
    /// For a correction or a void: the stream's history, before this command.
    pub target_history: Vec<Recorded>,
}

impl DecisionContext {
    /// The state of a stream the command reads, if the caller loaded it.
    pub fn read(&self, stream_type: StreamType, id: &StreamId) -> Option<&StreamState> {
        self.reads.get(&StreamRef::new(stream_type, id.clone()))
    }
}

/// The beneficiary a command names must be registered.
fn check_registered_beneficiary<'a>(
    context: &'a DecisionContext,
    beneficiary_id: &StreamId,
) -> Result<&'a BeneficiaryState, DomainError> {
    match context.read(StreamType::Beneficiary, beneficiary_id) {
        Some(StreamState::Beneficiary(beneficiary)) if beneficiary.registered.is_some() => {
            Ok(beneficiary)
        }
        _ => Err(DomainError::UnknownBeneficiary {
            beneficiary_id: beneficiary_id.clone(),
        }),
    }
}

fn non_empty(field: &'static str, text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        Err(DomainError::FieldEmpty { field })
    } else {
        Ok(())
    }
}

/// Decides one command against the state of its stream: the event to append, or the rule
/// it breaks. Pure: the caller loads the states and writes the event.
pub fn decide(
    submission: &Submission,
    target: &StreamState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let at = submission.occurred_at;
    let command = &submission.command;
    if !matches!(command, Command::RegisterContract { .. }) {
        let date = at.local_date();
        // The term as amended on that day: an extension counts from its effective date.
        let terms = context
            .contract
            .terms_on(date)
            .ok_or(DomainError::ContractNotRegistered)?;
        // A settlement comes after its period, the last one after the term: its own rules
        // check its period against the term instead.
        if !command.follows_the_term() && !terms.contains(date) {
            return Err(DomainError::DateOutsideContractTerm {
                date,
                term_start_on: terms.term_start_on,
                term_end_on: terms.term_end_on,
            });
        }
        for (field, field_date) in command.field_dates() {
            terms.check_within(field, field_date)?;
        }
    }
    let event = match (command, target) {
        (Command::CorrectEvent { .. } | Command::VoidEvent { .. }, StreamState::Settlement(_)) => {
            return Err(DomainError::SettlementEventsAreFinal)
        }
        (
            Command::CorrectEvent {
                corrects,
                replacement,
            },
            target,
        ) => {
            if matches!(replacement, Event::EntryVoided(_)) {
                return Err(DomainError::CorrectionChangesEventType {
                    original: "any".to_owned(),
                    replacement: "EntryVoided".to_owned(),
                });
            }
            check_correction(*corrects, replacement.clone(), at, target, context)?
        }
        (Command::VoidEvent { voids, reason }, target) => {
            non_empty("reason", reason)?;
            let void = Event::EntryVoided(EntryVoided {
                reason: reason.clone(),
            });
            check_correction(*voids, void, at, target, context)?
        }
        (command, StreamState::Contract(state)) => contract::decide(command, state)?,
        (command, StreamState::Provider(state)) => catalogue::decide_provider(command, at, state)?,
        (command, StreamState::Product(state)) => {
            catalogue::decide_product(command, at, state, context)?
        }
        (command, StreamState::Beneficiary(state)) => beneficiary::decide(command, state)?,
        (command, StreamState::Placement(state)) => placement::decide(command, at, state, context)?,
        (command, StreamState::Path(state)) => path::decide(command, at, state, context)?,
        (command, StreamState::Settlement(state)) => {
            settlement::decide(command, at, state, context)?
        }
        (command, StreamState::Phase(state)) => phase::decide(command, at, state, context)?,
        (
            Command::PlaceOrder {
                order_id,
                beneficiary_id,
                product_id,
                channel,
                price,
            },
            StreamState::Order(order),
        ) => {
            if order.status != OrderStatus::NotPlaced {
                return Err(DomainError::OrderAlreadyPlaced {
                    order_id: order_id.clone(),
                });
            }
            let date = at.local_date();
            // The band and the tariff of the order's day: either may have changed since.
            let beneficiary = check_registered_beneficiary(context, beneficiary_id)?
                .profile_on(date)
                .expect("a registered beneficiary has a profile");
            let product = match context.read(StreamType::Product, product_id) {
                Some(StreamState::Product(product)) if product.listed.is_some() => product,
                _ => {
                    return Err(DomainError::UnknownProduct {
                        product_id: product_id.clone(),
                    })
                }
            };
            let listed = product.listed.as_ref().expect("matched as listed");
            if let Some(withdrawn_on) = product.withdrawn_by(date) {
                return Err(DomainError::ProductWithdrawn {
                    product_id: product_id.clone(),
                    withdrawn_on,
                });
            }
            catalogue::check_not_suspended(context, &listed.provider_id, date)?;
            let band = beneficiary.isee_band;
            let tariff = product
                .tariffs_on(date)
                .and_then(|tariffs| tariffs.get(&band).copied())
                .ok_or(DomainError::TariffMissingForBand { band })?;
            if *price != tariff {
                return Err(DomainError::PriceIsNotTheTariff {
                    band,
                    tariff,
                    price: *price,
                });
            }
            Event::OrderPlaced(OrderPlaced {
                beneficiary_id: beneficiary_id.clone(),
                product_id: product_id.clone(),
                provider_id: listed.provider_id.clone(),
                service_family: listed.service_family,
                channel: *channel,
                isee_band: band,
                price: *price,
            })
        }
        (
            Command::IssueToken {
                order_id,
                token_code,
                notified_to,
                expires_on,
            },
            StreamState::Order(order),
        ) => {
            let placed = match order.status {
                OrderStatus::NotPlaced => {
                    return Err(DomainError::UnknownOrder {
                        order_id: order_id.clone(),
                    })
                }
                OrderStatus::Placed => order.placed.as_ref().expect("a placed order is recorded"),
                OrderStatus::Cancelled => {
                    return Err(DomainError::OrderCancelled {
                        order_id: order_id.clone(),
                    })
                }
                _ => {
                    return Err(DomainError::TokenAlreadyIssued {
                        order_id: order_id.clone(),
                    })
                }
            };
            non_empty("token_code", token_code)?;
            if *expires_on < at.local_date() {
                return Err(DomainError::TokenExpiresBeforeIssue {
                    expires_on: *expires_on,
                });
            }
            let mut notified_to = notified_to.clone();
            notified_to.sort();
            notified_to.dedup();
            Event::TokenIssued(TokenIssued {
                token_code: token_code.clone(),
                provider_id: placed.provider_id.clone(),
                notified_to,
                expires_on: *expires_on,
            })
        }
        (
            Command::AgreeDeliveryTime {
                order_id,
                agreed_for,
            },
            StreamState::Order(order),
        ) => {
            redeemable_token(order_id, order)?;
            Event::DeliveryTimeAgreed(DeliveryTimeAgreed {
                agreed_for: *agreed_for,
            })
        }
        (
            Command::RecordDelivery {
                order_id,
                provider_id,
            },
            StreamState::Order(order),
        ) => {
            let token = redeemable_token(order_id, order)?;
            if token.provider_id != *provider_id {
                return Err(DomainError::TokenDeliveredByAnotherProvider {
                    token_provider_id: token.provider_id.clone(),
                    provider_id: provider_id.clone(),
                });
            }
            if at.local_date() > token.expires_on {
                return Err(DomainError::TokenExpired {
                    expires_on: token.expires_on,
                });
            }
            catalogue::check_not_suspended(context, provider_id, at.local_date())?;
            Event::TokenRedeemed(TokenRedeemed {
                provider_id: provider_id.clone(),
            })
        }
        (Command::ExpireToken { order_id }, StreamState::Order(order)) => {
            let token = redeemable_token(order_id, order)?;
            if at.local_date() <= token.expires_on {
                return Err(DomainError::TokenNotYetExpired {
                    expires_on: token.expires_on,
                });
            }
            Event::TokenExpired(TokenExpired {})
        }
        (Command::RefundToken { order_id, amount }, StreamState::Order(order)) => {
            match order.status {
                OrderStatus::TokenIssued | OrderStatus::Expired => {}
                OrderStatus::Redeemed => {
                    return Err(DomainError::TokenAlreadyRedeemed {
                        order_id: order_id.clone(),
                    })
                }
                OrderStatus::NotPlaced => {
                    return Err(DomainError::UnknownOrder {
                        order_id: order_id.clone(),
                    })
                }
                _ => {
                    return Err(DomainError::TokenNotRefundable {
                        order_id: order_id.clone(),
                    })
                }
            }
            let price = order
                .placed
                .as_ref()
                .expect("a placed order is recorded")
                .price;
            if *amount > price {
                return Err(DomainError::RefundAbovePrice {
                    amount: *amount,
                    price,
                });
            }
            Event::TokenRefunded(TokenRefunded { amount: *amount })
        }
        (Command::CancelOrder { order_id, reason }, StreamState::Order(order)) => {
            match order.status {
                OrderStatus::Placed | OrderStatus::TokenIssued => {}
                OrderStatus::NotPlaced => {
                    return Err(DomainError::UnknownOrder {
                        order_id: order_id.clone(),
                    })
                }
                OrderStatus::Redeemed => {
                    return Err(DomainError::TokenAlreadyRedeemed {
                        order_id: order_id.clone(),
                    })
                }
                _ => {
                    return Err(DomainError::OrderCancelled {
                        order_id: order_id.clone(),
                    })
                }
            }
            non_empty("reason", reason)?;
            Event::OrderCancelled(OrderCancelled {
                reason: reason.clone(),
            })
        }
        (
            Command::MakeUnitAvailable {
                unit_id,
                label,
                lent_by,
            },
            StreamState::Unit(unit),
        ) => {
            if unit.available.is_some() {
                return Err(DomainError::UnitAlreadyAvailable {
                    unit_id: unit_id.clone(),
                });
            }
            non_empty("label", label)?;
            non_empty("lent_by", lent_by)?;
            Event::UnitMadeAvailable(UnitMadeAvailable {
                label: label.clone(),
                lent_by: lent_by.clone(),
            })
        }
        (
            Command::StartTenancy {
                tenancy_id,
                unit_id,
                beneficiary_id,
                pact,
            },
            StreamState::Tenancy(tenancy),
        ) => {
            if tenancy.status != TenancyStatus::NotStarted {
                return Err(DomainError::TenancyAlreadyStarted {
                    tenancy_id: tenancy_id.clone(),
                });
            }
            match context.read(StreamType::Unit, unit_id) {
                Some(StreamState::Unit(UnitState { available: Some(_) })) => {}
                _ => {
                    return Err(DomainError::UnknownUnit {
                        unit_id: unit_id.clone(),
                    })
                }
            }
            check_registered_beneficiary(context, beneficiary_id)?;
            if pact.monthly_rent > pact.rent_cap {
                return Err(DomainError::RentAboveCap {
                    monthly_rent: pact.monthly_rent,
                    rent_cap: pact.rent_cap,
                });
            }
            Event::TenancyStarted(TenancyStarted {
                unit_id: unit_id.clone(),
                beneficiary_id: beneficiary_id.clone(),
                pact: pact.clone(),
            })
        }
        (
            Command::ChargeRent {
                tenancy_id,
                month,
                amount,
            },
            StreamState::Tenancy(tenancy),
        ) => {
            let started = active_tenancy(tenancy_id, tenancy)?;
            if tenancy.charged.contains_key(month) {
                return Err(DomainError::RentAlreadyCharged { month: *month });
            }
            if *amount > started.pact.rent_cap {
                return Err(DomainError::RentAboveCap {
                    monthly_rent: *amount,
                    rent_cap: started.pact.rent_cap,
                });
            }
            Event::RentCharged(RentCharged {
                month: *month,
                amount: *amount,
            })
        }
        (
            Command::RecordRentPayment {
                tenancy_id,
                month,
                amount,
            },
            StreamState::Tenancy(tenancy),
        ) => {
            active_tenancy(tenancy_id, tenancy)?;
            let charged = tenancy
                .charged
                .get(month)
                .ok_or(DomainError::RentNotCharged { month: *month })?;
            let already_paid = tenancy.paid.get(month).copied().unwrap_or_default();
            if already_paid + amount.amount() > charged.amount() {
                return Err(DomainError::RentOverpaid {
                    month: *month,
                    charged: *charged,
                });
            }
            Event::RentPaid(RentPaid {
                month: *month,
                amount: *amount,
            })
        }
        (
            Command::RecordTenantMilestone {
                tenancy_id,
                milestone,
            },
            StreamState::Tenancy(tenancy),
        ) => {
            active_tenancy(tenancy_id, tenancy)?;
            Event::TenantMilestoneReached(TenantMilestoneReached {
                milestone: *milestone,
            })
        }
        (Command::EndTenancy { tenancy_id, reason }, StreamState::Tenancy(tenancy)) => {
            active_tenancy(tenancy_id, tenancy)?;
            Event::TenancyEnded(TenancyEnded { reason: *reason })
        }
        (
            Command::RecordAccess {
                access_id,
                beneficiary_id,
                channel,
                need,
                outcome,
            },
            StreamState::Access(access),
        ) => {
            if access.recorded.is_some() {
                return Err(DomainError::AccessAlreadyRecorded {
                    access_id: access_id.clone(),
                });
            }
            if let Some(beneficiary_id) = beneficiary_id {
                check_registered_beneficiary(context, beneficiary_id)?;
            }
            if let AccessOutcome::Referred { service } = outcome {
                non_empty("outcome.service", service)?;
            }
            Event::AccessRecorded(AccessRecorded {
                beneficiary_id: beneficiary_id.clone(),
                channel: *channel,
                need: *need,
                outcome: outcome.clone(),
            })
        }
        (command, _) => return Err(does_not_fit(command)),
    };
    Ok(event)
}

/// A correction or void must name an effective event of the stream, keep its type, and leave a
/// stream that still replays.
fn check_correction(
    target_event: EventId,
    event: Event,
    at: OccurredAt,
    target: &StreamState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let stream_type = stream_type_of(target);
    let mut history = context.target_history.clone();
    if !history
        .iter()
        .any(|recorded| recorded.event_id == target_event)
    {
        return Err(DomainError::CorrectedEventNotFound {
            event_id: target_event,
        });
    }
    history.push(Recorded {
        event_id: EventId::nil(),
        corrects: Some(target_event),
        occurred_at: at,
        event,
    });
    replay(stream_type, &history).map_err(|error| match error {
        DomainError::EventInconsistentWithStream { event_type, reason } => {
            DomainError::CorrectionBreaksStream { event_type, reason }
        }
        other => other,
    })?;
    Ok(history.pop().expect("pushed above").event)
}

fn stream_type_of(state: &StreamState) -> StreamType {
    match state {
        StreamState::Contract(_) => StreamType::Contract,
        StreamState::Provider(_) => StreamType::Provider,
        StreamState::Product(_) => StreamType::Product,
        StreamState::Beneficiary(_) => StreamType::Beneficiary,
        StreamState::Order(_) => StreamType::Order,
        StreamState::Unit(_) => StreamType::Unit,
        StreamState::Tenancy(_) => StreamType::Tenancy,
        StreamState::Access(_) => StreamType::Access,
        StreamState::Placement(_) => StreamType::Placement,
        StreamState::Path(_) => StreamType::Path,
        StreamState::Phase(_) => StreamType::Phase,
        StreamState::Settlement(_) => StreamType::Settlement,
    }
}

fn redeemable_token<'a>(
    order_id: &StreamId,
    order: &'a OrderState,
) -> Result<&'a TokenIssued, DomainError> {
    match order.status {
        OrderStatus::TokenIssued => Ok(order.token.as_ref().expect("an issued token is recorded")),
        OrderStatus::NotPlaced => Err(DomainError::UnknownOrder {
            order_id: order_id.clone(),
        }),
        OrderStatus::Placed => Err(DomainError::TokenNotIssued {
            order_id: order_id.clone(),
        }),
        OrderStatus::Redeemed => Err(DomainError::TokenAlreadyRedeemed {
            order_id: order_id.clone(),
        }),
        OrderStatus::Expired => Err(DomainError::TokenExpired {
            expires_on: order
                .token
                .as_ref()
                .expect("an expired token was issued")
                .expires_on,
        }),
        OrderStatus::Refunded => Err(DomainError::TokenNotRefundable {
            order_id: order_id.clone(),
        }),
        OrderStatus::Cancelled => Err(DomainError::OrderCancelled {
            order_id: order_id.clone(),
        }),
    }
}

fn active_tenancy<'a>(
    tenancy_id: &StreamId,
    tenancy: &'a TenancyState,
) -> Result<&'a TenancyStarted, DomainError> {
    match tenancy.status {
        TenancyStatus::Active => Ok(tenancy
            .started
            .as_ref()
            .expect("an active tenancy was started")),
        TenancyStatus::NotStarted => Err(DomainError::UnknownTenancy {
            tenancy_id: tenancy_id.clone(),
        }),
        TenancyStatus::Ended => Err(DomainError::TenancyEnded {
            tenancy_id: tenancy_id.clone(),
        }),
    }
}
