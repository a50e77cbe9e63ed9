//! Cuneo's tenancies: a registered beneficiary living in an available unit under a pact (the
//! rent and its cap), rent charged and paid month by month, milestones reached, and the end.
//!
//! Invariant: the rent charged for a month never exceeds the pact's cap and is charged once;
//! what is paid for a month never exceeds what was charged for it; after the end, only
//! payments of rent already charged follow. A unit is let to one tenancy at a time, on days
//! it is available: no local day lies in two tenancies of one unit (from the start's day up to,
//! not including, the end's, as occupancy counts them) nor in a tenancy before its unit is
//! available, whether by a start, a correction or a void; `decide` checks it against every
//! other tenancy and unit (`DecisionContext::peers`), so occupancy never exceeds 1.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{check_registered_beneficiary, does_not_fit, inconsistent, positive, DecisionContext};
use super::{effective_events, Recorded, StreamState, UnitState};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    Event, RentCharged, RentPaid, StreamRef, StreamType, TenancyEnded, TenancyStarted,
    TenantMilestoneReached,
};
use crate::values::{EventId, Money, Month, OccurredAt, StreamId};

/// The rent of a tenancy: charged and paid so far, by month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rent {
    pub charged: BTreeMap<Month, Money>,
    pub paid: BTreeMap<Month, Decimal>,
}

impl Rent {
    /// Paid so far for `month`.
    fn paid_for(&self, month: &Month) -> Decimal {
        self.paid.get(month).copied().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum TenancyState {
    #[default]
    NotStarted,
    Active {
        started: TenancyStarted,
        rent: Rent,
    },
    Ended {
        started: TenancyStarted,
        rent: Rent,
        ended: TenancyEnded,
    },
}

impl TenancyState {
    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        match (&mut *self, event) {
            (TenancyState::NotStarted, Event::TenancyStarted(started)) => {
                if started.pact.monthly_rent > started.pact.rent_cap {
                    return Err(inconsistent(event, "rent above the pact's cap"));
                }
                *self = TenancyState::Active {
                    started: started.clone(),
                    rent: Rent::default(),
                };
            }
            (TenancyState::Active { rent, .. }, Event::RentCharged(charged)) => {
                if rent.charged.contains_key(&charged.month) {
                    return Err(inconsistent(event, "that month's rent was already charged"));
                }
                rent.charged.insert(charged.month, charged.amount);
            }
            (
                TenancyState::Active { rent, .. } | TenancyState::Ended { rent, .. },
                Event::RentPaid(payment),
            ) => {
                let charged = rent
                    .charged
                    .get(&payment.month)
                    .ok_or_else(|| inconsistent(event, "no rent was charged for that month"))?
                    .amount();
                let paid = rent.paid_for(&payment.month) + payment.amount.amount();
                if paid > charged {
                    return Err(inconsistent(event, "more paid than charged for that month"));
                }
                rent.paid.insert(payment.month, paid);
            }
            (TenancyState::Active { .. }, Event::TenantMilestoneReached(_)) => {}
            (TenancyState::Active { started, rent }, Event::TenancyEnded(ended)) => {
                *self = TenancyState::Ended {
                    started: started.clone(),
                    rent: std::mem::take(rent),
                    ended: ended.clone(),
                };
            }
            (_, event) => return Err(inconsistent(event, "the tenancy is not active")),
        }
        Ok(())
    }
}

/// A tenancy's hold on its unit: the local days from its start's up to, not including, its
/// end's (open while it runs), as the occupancy indicator counts them (docs/design.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Letting {
    unit_id: StreamId,
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl Letting {
    /// True when both hold the same unit on some day. A letting of no day holds none.
    fn overlaps(&self, other: &Letting) -> bool {
        let holds_a_day = |letting: &Letting| letting.until != Some(letting.from);
        self.unit_id == other.unit_id
            && holds_a_day(self)
            && holds_a_day(other)
            && other.until.is_none_or(|until| self.from < until)
            && self.until.is_none_or(|until| other.from < until)
    }
}

/// A tenancy's letting from its history, corrections applied and voids left out: `None`
/// before it starts.
fn letting_of(history: &[Recorded]) -> Result<Option<Letting>, DomainError> {
    let mut letting = None;
    for recorded in effective_events(history)? {
        match &recorded.event {
            Event::TenancyStarted(started) => {
                letting = Some(Letting {
                    unit_id: started.unit_id.clone(),
                    from: recorded.occurred_at.local_date(),
                    until: None,
                })
            }
            Event::TenancyEnded(_) => {
                if let Some(letting) = &mut letting {
                    letting.until = Some(recorded.occurred_at.local_date());
                }
            }
            _ => {}
        }
    }
    Ok(letting)
}

/// The day a unit is available to the programme from, by its history (corrections applied,
/// voids left out): `None` when it is not.
fn available_on(history: &[Recorded]) -> Result<Option<NaiveDate>, DomainError> {
    Ok(effective_events(history)?
        .into_iter()
        .find(|recorded| matches!(recorded.event, Event::UnitMadeAvailable(_)))
        .map(|recorded| recorded.occurred_at.local_date()))
}

/// The other tenancies (`DecisionContext::peers`), each with its letting.
fn other_lettings(
    context: &DecisionContext,
) -> impl Iterator<Item = Result<(&StreamId, Option<Letting>), DomainError>> {
    context
        .peers
        .iter()
        .filter(|(stream, _)| stream.stream_type == StreamType::Tenancy)
        .map(|(stream, history)| Ok((&stream.stream_id, letting_of(history)?)))
}

/// Refuses a letting that holds its unit on a day the unit is not available, or on a day
/// another tenancy holds it; `field` is the command's field that would do it.
fn check_letting(
    letting: &Letting,
    context: &DecisionContext,
    field: &'static str,
) -> Result<(), DomainError> {
    let unit = StreamRef::new(StreamType::Unit, letting.unit_id.clone());
    let available = match context.peers.get(&unit) {
        Some(history) => available_on(history)?,
        None => None,
    };
    if available.is_none_or(|on| letting.from < on) {
        return Err(DomainError::TenancyBeforeUnitAvailable {
            field,
            unit_id: letting.unit_id.clone(),
            from: letting.from,
            available_on: available,
        });
    }
    for other in other_lettings(context) {
        if let (tenancy_id, Some(other)) = other? {
            if letting.overlaps(&other) {
                return Err(DomainError::UnitLetTwice {
                    field,
                    unit_id: letting.unit_id.clone(),
                    other_tenancy_id: tenancy_id.clone(),
                    from: letting.from.max(other.from),
                });
            }
        }
    }
    Ok(())
}

/// After a correction or void (`replacing` an event with `event`, recorded at `at`) of a
/// tenancy's event, the tenancy still holds its unit alone and on days it is available; of a
/// unit's event, the unit is still available on every day its tenancies hold it. So a void of
/// an end whose unit was let again since, a correction that moves a start or an end over
/// another tenancy's days, or a unit's availability moved after a tenancy's start, is refused.
pub(super) fn check_lettings_after(
    replacing: EventId,
    event: &Event,
    at: OccurredAt,
    target: &StreamState,
    context: &DecisionContext,
    field: &'static str,
) -> Result<(), DomainError> {
    let mut history = context.target_history.clone();
    history.push(Recorded {
        event_id: EventId::nil(),
        corrects: Some(replacing),
        occurred_at: at,
        event: event.clone(),
    });
    match (target, &context.target) {
        (StreamState::Tenancy(_), _) => match letting_of(&history)? {
            Some(letting) => check_letting(&letting, context, field),
            None => Ok(()),
        },
        (StreamState::Unit(_), Some(unit)) => {
            let available = available_on(&history)?;
            for other in other_lettings(context) {
                if let (_, Some(letting)) = other? {
                    if letting.unit_id == unit.stream_id
                        && available.is_none_or(|on| letting.from < on)
                    {
                        return Err(DomainError::TenancyBeforeUnitAvailable {
                            field,
                            unit_id: letting.unit_id,
                            from: letting.from,
                            available_on: available,
                        });
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The start and the rent of an active tenancy; else the rule that refuses acting on it.
fn active<'a>(
    tenancy_id: &StreamId,
    state: &'a TenancyState,
) -> Result<(&'a TenancyStarted, &'a Rent), DomainError> {
    match state {
        TenancyState::Active { started, rent } => Ok((started, rent)),
        TenancyState::NotStarted => Err(DomainError::UnknownTenancy {
            tenancy_id: tenancy_id.clone(),
        }),
        TenancyState::Ended { .. } => Err(DomainError::TenancyEnded {
            tenancy_id: tenancy_id.clone(),
        }),
    }
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &TenancyState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::StartTenancy {
            tenancy_id,
            unit_id,
            beneficiary_id,
            pact,
        } => {
            if *state != TenancyState::NotStarted {
                return Err(DomainError::TenancyAlreadyStarted {
                    tenancy_id: tenancy_id.clone(),
                });
            }
            match context.read(StreamType::Unit, unit_id) {
                Some(StreamState::Unit(UnitState::Available { .. })) => {}
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
            let letting = Letting {
                unit_id: unit_id.clone(),
                from: at.local_date(),
                until: None,
            };
            check_letting(&letting, context, "unit_id")?;
            Ok(Event::TenancyStarted(TenancyStarted {
                unit_id: unit_id.clone(),
                beneficiary_id: beneficiary_id.clone(),
                pact: pact.clone(),
            }))
        }
        Command::ChargeRent {
            tenancy_id,
            month,
            amount,
        } => {
            positive("amount", *amount)?;
            let (started, rent) = active(tenancy_id, state)?;
            if rent.charged.contains_key(month) {
                return Err(DomainError::RentAlreadyCharged { month: *month });
            }
            if *amount > started.pact.rent_cap {
                return Err(DomainError::RentAboveCap {
                    monthly_rent: *amount,
                    rent_cap: started.pact.rent_cap,
                });
            }
            Ok(Event::RentCharged(RentCharged {
                month: *month,
                amount: *amount,
            }))
        }
        Command::RecordRentPayment {
            tenancy_id,
            month,
            amount,
        } => {
            positive("amount", *amount)?;
            let (_, rent) = active(tenancy_id, state)?;
            let charged = rent
                .charged
                .get(month)
                .ok_or(DomainError::RentNotCharged { month: *month })?;
            if rent.paid_for(month) + amount.amount() > charged.amount() {
                return Err(DomainError::RentOverpaid {
                    month: *month,
                    charged: *charged,
                });
            }
            Ok(Event::RentPaid(RentPaid {
                month: *month,
                amount: *amount,
            }))
        }
        Command::RecordTenantMilestone {
            tenancy_id,
            milestone,
        } => {
            active(tenancy_id, state)?;
            Ok(Event::TenantMilestoneReached(TenantMilestoneReached {
                milestone: *milestone,
            }))
        }
        Command::EndTenancy { tenancy_id, reason } => {
            active(tenancy_id, state)?;
            Ok(Event::TenancyEnded(TenancyEnded { reason: *reason }))
        }
        other => Err(does_not_fit(other)),
    }
}
