//! The catalogue (Cuneo): providers, which ask for accreditation, are accredited, suspended and
//! reinstated; products, first in prototyping if need be, then listed with a tariff per ISEE band
//! that dated price changes replace, until they are withdrawn.
//!
//! Invariant: suspensions, reinstatements and price changes are held in date order (`decide`
//! refuses one dated before the latest, `evolve` too), so "in force on a date" is a scan.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, positive, DecisionContext, StreamState};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    Event, IseeBand, ProductListed, ProductPriceChanged, ProductPrototypeStarted, ProductWithdrawn,
    ProviderAccreditationRequested, ProviderAccredited, ProviderReinstated, ProviderSuspended,
    StreamType,
};
use crate::values::{Money, OccurredAt, StreamId};

/// One suspension of a provider: from `suspended_on` up to, not including, `reinstated_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub suspended_on: NaiveDate,
    pub reinstated_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ProviderState {
    #[default]
    Unknown,
    /// Asked for accreditation, not yet accredited.
    Requested {
        requested: ProviderAccreditationRequested,
    },
    /// Accredited: with the request, if one came first, and its suspensions.
    Accredited {
        accredited: ProviderAccredited,
        #[serde(default)]
        requested: Option<ProviderAccreditationRequested>,
        /// In date order; only the last may be open.
        #[serde(default)]
        suspensions: Vec<Suspension>,
    },
}

impl ProviderState {
    /// The accreditation, if the provider is accredited.
    pub fn accredited(&self) -> Option<&ProviderAccredited> {
        match self {
            ProviderState::Accredited { accredited, .. } => Some(accredited),
            ProviderState::Unknown | ProviderState::Requested { .. } => None,
        }
    }

    /// The provider's suspensions, in date order: none before its accreditation.
    pub fn suspensions(&self) -> &[Suspension] {
        match self {
            ProviderState::Accredited { suspensions, .. } => suspensions,
            ProviderState::Unknown | ProviderState::Requested { .. } => &[],
        }
    }

    /// The suspension not yet lifted, if any.
    pub fn open_suspension(&self) -> Option<&Suspension> {
        self.suspensions()
            .last()
            .filter(|suspension| suspension.reinstated_on.is_none())
    }

    /// When the suspension covering `date` began, if the provider was suspended that day.
    pub fn suspended_since(&self, date: NaiveDate) -> Option<NaiveDate> {
        self.suspensions()
            .iter()
            .find(|s| s.suspended_on <= date && s.reinstated_on.is_none_or(|r| date < r))
            .map(|s| s.suspended_on)
    }

    fn latest_change_on(&self) -> Option<NaiveDate> {
        self.suspensions()
            .last()
            .map(|s| s.reinstated_on.unwrap_or(s.suspended_on))
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let latest_change_on = self.latest_change_on();
        match (&mut *self, event) {
            (ProviderState::Unknown, Event::ProviderAccreditationRequested(requested)) => {
                *self = ProviderState::Requested {
                    requested: requested.clone(),
                };
            }
            // Back-compatibility: an accreditation needs no request before it.
            (ProviderState::Unknown, Event::ProviderAccredited(accredited)) => {
                *self = ProviderState::Accredited {
                    accredited: accredited.clone(),
                    requested: None,
                    suspensions: Vec::new(),
                };
            }
            (ProviderState::Requested { requested }, Event::ProviderAccredited(accredited)) => {
                *self = ProviderState::Accredited {
                    accredited: accredited.clone(),
                    requested: Some(requested.clone()),
                    suspensions: Vec::new(),
                };
            }
            (
                ProviderState::Accredited { suspensions, .. },
                Event::ProviderSuspended(suspended),
            ) if suspensions.last().is_none_or(|s| s.reinstated_on.is_some()) => {
                if latest_change_on.is_some_and(|latest| suspended.suspended_on < latest) {
                    return Err(inconsistent(event, "dated before the latest reinstatement"));
                }
                suspensions.push(Suspension {
                    suspended_on: suspended.suspended_on,
                    reinstated_on: None,
                });
            }
            (_, Event::ProviderSuspended(_)) => {
                return Err(inconsistent(
                    event,
                    "the provider is not accredited or already suspended",
                ))
            }
            (
                ProviderState::Accredited { suspensions, .. },
                Event::ProviderReinstated(reinstated),
            ) => {
                let open = suspensions
                    .last_mut()
                    .filter(|s| s.reinstated_on.is_none())
                    .ok_or_else(|| inconsistent(event, "the provider is not suspended"))?;
                if reinstated.reinstated_on < open.suspended_on {
                    return Err(inconsistent(event, "dated before the suspension"));
                }
                open.reinstated_on = Some(reinstated.reinstated_on);
            }
            (_, Event::ProviderReinstated(_)) => {
                return Err(inconsistent(event, "the provider is not suspended"))
            }
            _ => {
                return Err(inconsistent(
                    event,
                    "the stream already holds it or cannot hold it",
                ))
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ProductState {
    #[default]
    NotListed,
    /// In prototyping: not in the catalogue, not orderable.
    Prototyping { prototype: ProductPrototypeStarted },
    /// In the catalogue.
    Listed {
        listed: ProductListed,
        /// In `effective_on` order.
        #[serde(default)]
        price_changes: Vec<ProductPriceChanged>,
    },
    /// Out of the catalogue from its withdrawal date.
    Withdrawn {
        listed: ProductListed,
        /// In `effective_on` order.
        #[serde(default)]
        price_changes: Vec<ProductPriceChanged>,
        withdrawn: ProductWithdrawn,
    },
}

impl ProductState {
    /// The listing, if the product was ever listed (withdrawn or not).
    pub fn listed(&self) -> Option<&ProductListed> {
        match self {
            ProductState::Listed { listed, .. } | ProductState::Withdrawn { listed, .. } => {
                Some(listed)
            }
            ProductState::NotListed | ProductState::Prototyping { .. } => None,
        }
    }

    /// Whether the product is in prototyping, not yet listed.
    pub fn in_prototyping(&self) -> bool {
        matches!(self, ProductState::Prototyping { .. })
    }

    /// The price changes, in `effective_on` order.
    pub fn price_changes(&self) -> &[ProductPriceChanged] {
        match self {
            ProductState::Listed { price_changes, .. }
            | ProductState::Withdrawn { price_changes, .. } => price_changes,
            ProductState::NotListed | ProductState::Prototyping { .. } => &[],
        }
    }

    /// The tariffs in force on `date`: the latest price change effective by then, else the
    /// listing's. `None` for a product never listed.
    pub fn tariffs_on(&self, date: NaiveDate) -> Option<&BTreeMap<IseeBand, Money>> {
        let listed = self.listed()?;
        Some(
            self.price_changes()
                .iter()
                .rev()
                .find(|change| change.effective_on <= date)
                .map_or(&listed.tariffs, |change| &change.tariffs),
        )
    }

    /// The withdrawal date, if the product was withdrawn on or before `date`.
    pub fn withdrawn_by(&self, date: NaiveDate) -> Option<NaiveDate> {
        match self {
            ProductState::Withdrawn { withdrawn, .. } => Some(withdrawn.withdrawn_on),
            ProductState::NotListed
            | ProductState::Prototyping { .. }
            | ProductState::Listed { .. } => None,
        }
        .filter(|withdrawn_on| *withdrawn_on <= date)
    }

    fn latest_price_change_on(&self) -> Option<NaiveDate> {
        self.price_changes()
            .last()
            .map(|change| change.effective_on)
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let latest_price_change_on = self.latest_price_change_on();
        match (&mut *self, event) {
            (ProductState::NotListed, Event::ProductPrototypeStarted(prototype)) => {
                *self = ProductState::Prototyping {
                    prototype: prototype.clone(),
                };
            }
            (
                ProductState::NotListed | ProductState::Prototyping { .. },
                Event::ProductListed(listed),
            ) => {
                if missing_band(&listed.tariffs).is_some() {
                    return Err(inconsistent(event, "a band has no tariff"));
                }
                *self = ProductState::Listed {
                    listed: listed.clone(),
                    price_changes: Vec::new(),
                };
            }
            (ProductState::Listed { price_changes, .. }, Event::ProductPriceChanged(changed)) => {
                if missing_band(&changed.tariffs).is_some() {
                    return Err(inconsistent(event, "a band has no tariff"));
                }
                if latest_price_change_on.is_some_and(|latest| changed.effective_on < latest) {
                    return Err(inconsistent(event, "dated before the latest price change"));
                }
                price_changes.push(changed.clone());
            }
            (_, Event::ProductPriceChanged(_)) => {
                return Err(inconsistent(event, "the product is not in the catalogue"))
            }
            (
                ProductState::Listed {
                    listed,
                    price_changes,
                },
                Event::ProductWithdrawn(withdrawn),
            ) => {
                if latest_price_change_on.is_some_and(|latest| withdrawn.withdrawn_on < latest) {
                    return Err(inconsistent(event, "dated before the latest price change"));
                }
                *self = ProductState::Withdrawn {
                    listed: listed.clone(),
                    price_changes: std::mem::take(price_changes),
                    withdrawn: withdrawn.clone(),
                };
            }
            _ => {
                return Err(inconsistent(
                    event,
                    "the stream already holds it or cannot hold it",
                ))
            }
        }
        Ok(())
    }
}

/// The first ISEE band without a tariff: every band must have one.
pub(super) fn missing_band(tariffs: &BTreeMap<IseeBand, Money>) -> Option<IseeBand> {
    IseeBand::ALL
        .into_iter()
        .find(|band| !tariffs.contains_key(band))
}

/// Every band has a tariff, and each is a price above zero: an order's price is its band's
/// tariff, and a price of zero would record a sale of nothing.
fn check_tariffs(tariffs: &BTreeMap<IseeBand, Money>) -> Result<(), DomainError> {
    if let Some(band) = missing_band(tariffs) {
        return Err(DomainError::TariffMissingForBand { band });
    }
    for (band, tariff) in tariffs {
        let field = match band {
            IseeBand::A => "tariffs.a",
            IseeBand::B => "tariffs.b",
            IseeBand::C => "tariffs.c",
            IseeBand::D => "tariffs.d",
        };
        positive(field, *tariff)?;
    }
    Ok(())
}

/// Refuses a provider suspended on `date`. A provider stream the caller did not load (or one
/// with no events) is taken as not suspended.
pub(super) fn check_not_suspended(
    context: &DecisionContext,
    provider_id: &StreamId,
    date: NaiveDate,
) -> Result<(), DomainError> {
    if let Some(StreamState::Provider(provider)) = context.read(StreamType::Provider, provider_id) {
        if let Some(suspended_on) = provider.suspended_since(date) {
            return Err(DomainError::ProviderSuspended {
                provider_id: provider_id.clone(),
                suspended_on,
            });
        }
    }
    Ok(())
}

pub(super) fn decide_provider(
    command: &Command,
    at: OccurredAt,
    state: &ProviderState,
) -> Result<Event, DomainError> {
    let date = at.local_date();
    match command {
        Command::RequestProviderAccreditation {
            provider_id,
            name,
            service_family,
        } => {
            match state {
                ProviderState::Unknown => {}
                ProviderState::Requested { .. } => {
                    return Err(DomainError::ProviderAccreditationAlreadyRequested {
                        provider_id: provider_id.clone(),
                    })
                }
                ProviderState::Accredited { .. } => {
                    return Err(DomainError::ProviderAlreadyAccredited {
                        provider_id: provider_id.clone(),
                    })
                }
            }
            non_empty("name", name)?;
            Ok(Event::ProviderAccreditationRequested(
                ProviderAccreditationRequested {
                    name: name.clone(),
                    service_family: *service_family,
                },
            ))
        }
        Command::AccreditProvider {
            provider_id,
            name,
            service_family,
        } => {
            if state.accredited().is_some() {
                return Err(DomainError::ProviderAlreadyAccredited {
                    provider_id: provider_id.clone(),
                });
            }
            non_empty("name", name)?;
            Ok(Event::ProviderAccredited(ProviderAccredited {
                name: name.clone(),
                service_family: *service_family,
            }))
        }
        Command::SuspendProvider {
            provider_id,
            reason,
        } => {
            if state.accredited().is_none() {
                return Err(DomainError::UnknownProvider {
                    provider_id: provider_id.clone(),
                });
            }
            if let Some(open) = state.open_suspension() {
                return Err(DomainError::ProviderSuspended {
                    provider_id: provider_id.clone(),
                    suspended_on: open.suspended_on,
                });
            }
            non_empty("reason", reason)?;
            if let Some(latest_on) = state.latest_change_on() {
                if date < latest_on {
                    return Err(DomainError::DateBeforeLatestChange {
                        field: "occurred_at",
                        date,
                        latest_on,
                    });
                }
            }
            Ok(Event::ProviderSuspended(ProviderSuspended {
                reason: reason.clone(),
                suspended_on: date,
            }))
        }
        Command::ReinstateProvider { provider_id } => {
            if state.accredited().is_none() {
                return Err(DomainError::UnknownProvider {
                    provider_id: provider_id.clone(),
                });
            }
            let open =
                state
                    .open_suspension()
                    .ok_or_else(|| DomainError::ProviderNotSuspended {
                        provider_id: provider_id.clone(),
                    })?;
            if date < open.suspended_on {
                return Err(DomainError::DateBeforeLatestChange {
                    field: "occurred_at",
                    date,
                    latest_on: open.suspended_on,
                });
            }
            Ok(Event::ProviderReinstated(ProviderReinstated {
                reinstated_on: date,
            }))
        }
        other => Err(does_not_fit(other)),
    }
}

pub(super) fn decide_product(
    command: &Command,
    at: OccurredAt,
    state: &ProductState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    let date = at.local_date();
    match command {
        Command::ListProduct {
            product_id,
            provider_id,
            name,
            service_family,
            tariffs,
        } => {
            if state.listed().is_some() {
                return Err(DomainError::ProductAlreadyListed {
                    product_id: product_id.clone(),
                });
            }
            non_empty("name", name)?;
            match context.read(StreamType::Provider, provider_id) {
                Some(StreamState::Provider(ProviderState::Accredited { .. })) => {}
                _ => {
                    return Err(DomainError::UnknownProvider {
                        provider_id: provider_id.clone(),
                    })
                }
            }
            check_not_suspended(context, provider_id, date)?;
            check_tariffs(tariffs)?;
            Ok(Event::ProductListed(ProductListed {
                provider_id: provider_id.clone(),
                name: name.clone(),
                service_family: *service_family,
                tariffs: tariffs.clone(),
            }))
        }
        Command::StartProductPrototype {
            product_id,
            provider_id,
            name,
            service_family,
        } => {
            if state.listed().is_some() {
                return Err(DomainError::ProductAlreadyListed {
                    product_id: product_id.clone(),
                });
            }
            if state.in_prototyping() {
                return Err(DomainError::ProductInPrototyping {
                    product_id: product_id.clone(),
                });
            }
            non_empty("name", name)?;
            match context.read(StreamType::Provider, provider_id) {
                Some(StreamState::Provider(ProviderState::Accredited { .. })) => {}
                _ => {
                    return Err(DomainError::UnknownProvider {
                        provider_id: provider_id.clone(),
                    })
                }
            }
            check_not_suspended(context, provider_id, date)?;
            Ok(Event::ProductPrototypeStarted(ProductPrototypeStarted {
                provider_id: provider_id.clone(),
                name: name.clone(),
                service_family: *service_family,
            }))
        }
        Command::ChangeProductPrice {
            product_id,
            tariffs,
        } => {
            listed_product(product_id, state)?;
            check_tariffs(tariffs)?;
            if let Some(latest_on) = state.latest_price_change_on() {
                if date < latest_on {
                    return Err(DomainError::DateBeforeLatestChange {
                        field: "occurred_at",
                        date,
                        latest_on,
                    });
                }
            }
            Ok(Event::ProductPriceChanged(ProductPriceChanged {
                tariffs: tariffs.clone(),
                effective_on: date,
            }))
        }
        Command::WithdrawProduct { product_id, reason } => {
            listed_product(product_id, state)?;
            non_empty("reason", reason)?;
            if let Some(latest_on) = state.latest_price_change_on() {
                if date < latest_on {
                    return Err(DomainError::DateBeforeLatestChange {
                        field: "occurred_at",
                        date,
                        latest_on,
                    });
                }
            }
            Ok(Event::ProductWithdrawn(ProductWithdrawn {
                reason: reason.clone(),
                withdrawn_on: date,
            }))
        }
        other => Err(does_not_fit(other)),
    }
}

/// A product in the catalogue: listed and not withdrawn.
fn listed_product<'a>(
    product_id: &StreamId,
    state: &'a ProductState,
) -> Result<&'a ProductListed, DomainError> {
    match state {
        ProductState::Listed { listed, .. } => Ok(listed),
        ProductState::Prototyping { .. } => Err(DomainError::ProductInPrototyping {
            product_id: product_id.clone(),
        }),
        ProductState::NotListed => Err(DomainError::UnknownProduct {
            product_id: product_id.clone(),
        }),
        ProductState::Withdrawn { withdrawn, .. } => Err(DomainError::ProductWithdrawn {
            product_id: product_id.clone(),
            withdrawn_on: withdrawn.withdrawn_on,
        }),
    }
}
