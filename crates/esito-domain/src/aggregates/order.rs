//! Cuneo's orders: a beneficiary orders a product at its band's tariff, the centre issues a
//! token to the product's provider, and the token is redeemed on delivery, expires, is refunded,
//! or the order is cancelled.
//!
//! The token's money follows it: the client's payment of its band's tariff, the provider's pay
//! for the delivered token (the full tariff, of which the band pays the share the contract's
//! tariff terms give), and the solidarity cover of the difference, each once.
//!
//! Invariant: each state carries exactly what happened to the order so far (an issued token is
//! in every state after `TokenIssued`, the money recorded in every state after it is); a token
//! is redeemed only by its provider, and a refund never exceeds the price paid.

use serde::{Deserialize, Serialize};

use super::{
    catalogue, check_registered_beneficiary, does_not_fit, inconsistent, non_empty, positive,
    DecisionContext, StreamState,
};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    ClientPaymentRecorded, DeliveryTimeAgreed, Event, OrderCancelled, OrderPlaced,
    ProviderPaymentRecorded, SolidarityCoverRecorded, StreamType, TokenExpired, TokenIssued,
    TokenRedeemed, TokenRefunded,
};
use crate::values::{OccurredAt, StreamId};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum OrderState {
    #[default]
    NotPlaced,
    /// Placed, with no token yet.
    Placed {
        placed: OrderPlaced,
        #[serde(default, skip_serializing_if = "OrderMoney::is_empty")]
        money: OrderMoney,
    },
    /// The token is issued and waits for delivery.
    TokenIssued {
        placed: OrderPlaced,
        token: TokenIssued,
        #[serde(default, skip_serializing_if = "OrderMoney::is_empty")]
        money: OrderMoney,
    },
    Redeemed {
        placed: OrderPlaced,
        token: TokenIssued,
        redeemed: TokenRedeemed,
        #[serde(default, skip_serializing_if = "OrderMoney::is_empty")]
        money: OrderMoney,
    },
    Expired {
        placed: OrderPlaced,
        token: TokenIssued,
        #[serde(default, skip_serializing_if = "OrderMoney::is_empty")]
        money: OrderMoney,
    },
    Refunded {
        placed: OrderPlaced,
        token: TokenIssued,
        refunded: TokenRefunded,
        #[serde(default, skip_serializing_if = "OrderMoney::is_empty")]
        money: OrderMoney,
    },
    /// Cancelled before delivery: with the token, if one was issued.
    Cancelled {
        placed: OrderPlaced,
        token: Option<TokenIssued>,
        cancelled: OrderCancelled,
        #[serde(default, skip_serializing_if = "OrderMoney::is_empty")]
        money: OrderMoney,
    },
}

/// The token's money recorded so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMoney {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_paid: Option<ClientPaymentRecorded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_paid: Option<ProviderPaymentRecorded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solidarity_cover: Option<SolidarityCoverRecorded>,
}

impl OrderMoney {
    pub fn is_empty(&self) -> bool {
        *self == OrderMoney::default()
    }
}

impl OrderState {
    /// The token issued for the order, whatever became of it since; `None` before an issue
    /// (or after a voided one).
    pub fn token(&self) -> Option<&TokenIssued> {
        match self {
            OrderState::NotPlaced | OrderState::Placed { .. } => None,
            OrderState::TokenIssued { token, .. }
            | OrderState::Redeemed { token, .. }
            | OrderState::Expired { token, .. }
            | OrderState::Refunded { token, .. } => Some(token),
            OrderState::Cancelled { token, .. } => token.as_ref(),
        }
    }

    /// The order as placed; `None` before it is.
    pub fn placed(&self) -> Option<&OrderPlaced> {
        match self {
            OrderState::NotPlaced => None,
            OrderState::Placed { placed, .. }
            | OrderState::TokenIssued { placed, .. }
            | OrderState::Redeemed { placed, .. }
            | OrderState::Expired { placed, .. }
            | OrderState::Refunded { placed, .. }
            | OrderState::Cancelled { placed, .. } => Some(placed),
        }
    }

    /// The token's money recorded so far; `None` before the order is placed.
    pub fn money(&self) -> Option<&OrderMoney> {
        match self {
            OrderState::NotPlaced => None,
            OrderState::Placed { money, .. }
            | OrderState::TokenIssued { money, .. }
            | OrderState::Redeemed { money, .. }
            | OrderState::Expired { money, .. }
            | OrderState::Refunded { money, .. }
            | OrderState::Cancelled { money, .. } => Some(money),
        }
    }

    fn money_mut(&mut self) -> Option<&mut OrderMoney> {
        match self {
            OrderState::NotPlaced => None,
            OrderState::Placed { money, .. }
            | OrderState::TokenIssued { money, .. }
            | OrderState::Redeemed { money, .. }
            | OrderState::Expired { money, .. }
            | OrderState::Refunded { money, .. }
            | OrderState::Cancelled { money, .. } => Some(money),
        }
    }

    /// How `evolve`'s refusals name the state.
    fn describe(&self) -> &'static str {
        match self {
            OrderState::NotPlaced => "not placed",
            OrderState::Placed { .. } => "placed, with no token yet",
            OrderState::TokenIssued { .. } => "waiting for delivery",
            OrderState::Redeemed { .. } => "already redeemed",
            OrderState::Expired { .. } => "expired",
            OrderState::Refunded { .. } => "refunded",
            OrderState::Cancelled { .. } => "cancelled",
        }
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        if let Some(result) = self.evolve_money(event) {
            return result;
        }
        let money = self.money().cloned().unwrap_or_default();
        let next = match (&*self, event) {
            (OrderState::NotPlaced, Event::OrderPlaced(placed)) => OrderState::Placed {
                placed: placed.clone(),
                money,
            },
            (OrderState::Placed { placed, .. }, Event::TokenIssued(token)) => {
                OrderState::TokenIssued {
                    placed: placed.clone(),
                    token: token.clone(),
                    money,
                }
            }
            (OrderState::TokenIssued { .. }, Event::DeliveryTimeAgreed(_)) => return Ok(()),
            (OrderState::TokenIssued { placed, token, .. }, Event::TokenRedeemed(redeemed)) => {
                if token.provider_id != redeemed.provider_id {
                    return Err(inconsistent(
                        event,
                        "redeemed by a provider other than the token's",
                    ));
                }
                OrderState::Redeemed {
                    placed: placed.clone(),
                    token: token.clone(),
                    redeemed: redeemed.clone(),
                    money,
                }
            }
            (
                OrderState::TokenIssued { placed, token, .. },
                Event::TokenExpired(TokenExpired {}),
            ) => OrderState::Expired {
                placed: placed.clone(),
                token: token.clone(),
                money,
            },
            (
                OrderState::TokenIssued { placed, token, .. }
                | OrderState::Expired { placed, token, .. },
                Event::TokenRefunded(refunded),
            ) => {
                if refunded.amount > placed.price {
                    return Err(inconsistent(event, "refund above the price paid"));
                }
                OrderState::Refunded {
                    placed: placed.clone(),
                    token: token.clone(),
                    refunded: refunded.clone(),
                    money,
                }
            }
            (OrderState::Placed { placed, .. }, Event::OrderCancelled(cancelled)) => {
                OrderState::Cancelled {
                    placed: placed.clone(),
                    token: None,
                    cancelled: cancelled.clone(),
                    money,
                }
            }
            (OrderState::TokenIssued { placed, token, .. }, Event::OrderCancelled(cancelled)) => {
                OrderState::Cancelled {
                    placed: placed.clone(),
                    token: Some(token.clone()),
                    cancelled: cancelled.clone(),
                    money,
                }
            }
            (state, event) => {
                return Err(inconsistent(
                    event,
                    &format!("the order is {}", state.describe()),
                ))
            }
        };
        *self = next;
        Ok(())
    }
}

impl OrderState {
    /// The token's money, which leaves the order's state as it is: `None` for any other event.
    /// `evolve` asserts the rules `decide` checks: each once, the client's payment on a placed
    /// order, the provider's pay for a redeemed token by its provider, the cover after both.
    fn evolve_money(&mut self, event: &Event) -> Option<Result<(), DomainError>> {
        let redeemed_by = match self {
            OrderState::Redeemed { redeemed, .. } => Some(redeemed.provider_id.clone()),
            _ => None,
        };
        let cancelled = matches!(self, OrderState::Cancelled { .. });
        if !matches!(
            event,
            Event::ClientPaymentRecorded(_)
                | Event::ProviderPaymentRecorded(_)
                | Event::SolidarityCoverRecorded(_)
        ) {
            return None;
        }
        let Some(money) = self.money_mut() else {
            return Some(Err(inconsistent(event, "the order is not placed")));
        };
        let refused = |reason: &str| Some(Err(inconsistent(event, reason)));
        match event {
            Event::ClientPaymentRecorded(paid) => {
                if money.client_paid.is_some() || cancelled {
                    return refused("the client has paid already, or the order is cancelled");
                }
                money.client_paid = Some(paid.clone());
            }
            Event::ProviderPaymentRecorded(paid) => {
                if money.provider_paid.is_some() || redeemed_by.as_ref() != Some(&paid.provider_id)
                {
                    return refused("the provider is paid already, or for no token it redeemed");
                }
                money.provider_paid = Some(paid.clone());
            }
            Event::SolidarityCoverRecorded(cover) => {
                if money.solidarity_cover.is_some()
                    || money.client_paid.is_none()
                    || money.provider_paid.is_none()
                {
                    return refused("the cover is recorded already, or before the payments");
                }
                money.solidarity_cover = Some(cover.clone());
            }
            _ => unreachable!("matched above"),
        }
        Some(Ok(()))
    }
}

/// How far a band's tariff may lie from its share of the rounded full tariff: both are
/// rounded to the cent from the same unrounded figure.
const ONE_CENT: rust_decimal::Decimal = rust_decimal::Decimal::from_parts(1, 0, 0, false, 2);

/// The token of an order waiting for delivery; else the rule that refuses acting on it.
fn redeemable_token<'a>(
    order_id: &StreamId,
    state: &'a OrderState,
) -> Result<&'a TokenIssued, DomainError> {
    match state {
        OrderState::TokenIssued { token, .. } => Ok(token),
        OrderState::NotPlaced => Err(DomainError::UnknownOrder {
            order_id: order_id.clone(),
        }),
        OrderState::Placed { .. } => Err(DomainError::TokenNotIssued {
            order_id: order_id.clone(),
        }),
        OrderState::Redeemed { .. } => Err(DomainError::TokenAlreadyRedeemed {
            order_id: order_id.clone(),
        }),
        OrderState::Expired { token, .. } => Err(DomainError::TokenExpired {
            expires_on: token.expires_on,
        }),
        OrderState::Refunded { .. } => Err(DomainError::TokenNotRefundable {
            order_id: order_id.clone(),
        }),
        OrderState::Cancelled { .. } => Err(DomainError::OrderCancelled {
            order_id: order_id.clone(),
        }),
    }
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &OrderState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::PlaceOrder {
            order_id,
            beneficiary_id,
            product_id,
            channel,
            price,
        } => {
            positive("price", *price)?;
            if *state != OrderState::NotPlaced {
                return Err(DomainError::OrderAlreadyPlaced {
                    order_id: order_id.clone(),
                });
            }
            let date = at.local_date();
            // The band and the tariff of the order's day: either may have changed since.
            let beneficiary =
                check_registered_beneficiary(context, beneficiary_id)?.profile_on(date);
            let listing = match context.read(StreamType::Product, product_id) {
                Some(StreamState::Product(product)) if product.in_prototyping() => {
                    return Err(DomainError::ProductInPrototyping {
                        product_id: product_id.clone(),
                    })
                }
                Some(StreamState::Product(product)) => {
                    product.listed().map(|listed| (product, listed))
                }
                _ => None,
            };
            let Some((product, listed)) = listing else {
                return Err(DomainError::UnknownProduct {
                    product_id: product_id.clone(),
                });
            };
            if let Some(withdrawn_on) = product.withdrawn_by(date) {
                return Err(DomainError::ProductWithdrawn {
                    product_id: product_id.clone(),
                    withdrawn_on,
                });
            }
            catalogue::check_not_suspended(context, &listed.provider_id, date)?;
            let band =
                beneficiary
                    .isee_band
                    .ok_or_else(|| DomainError::BeneficiaryHasNoIseeBand {
                        beneficiary_id: beneficiary_id.clone(),
                    })?;
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
            Ok(Event::OrderPlaced(OrderPlaced {
                beneficiary_id: beneficiary_id.clone(),
                product_id: product_id.clone(),
                provider_id: listed.provider_id.clone(),
                service_family: listed.service_family,
                channel: *channel,
                isee_band: band,
                price: *price,
            }))
        }
        Command::IssueToken {
            order_id,
            token_code,
            notified_to,
            expires_on,
        } => {
            let placed = match state {
                OrderState::NotPlaced => {
                    return Err(DomainError::UnknownOrder {
                        order_id: order_id.clone(),
                    })
                }
                OrderState::Placed { placed, .. } => placed,
                OrderState::Cancelled { .. } => {
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
            Ok(Event::TokenIssued(TokenIssued {
                token_code: token_code.clone(),
                provider_id: placed.provider_id.clone(),
                notified_to,
                expires_on: *expires_on,
            }))
        }
        Command::AgreeDeliveryTime {
            order_id,
            agreed_for,
        } => {
            redeemable_token(order_id, state)?;
            Ok(Event::DeliveryTimeAgreed(DeliveryTimeAgreed {
                agreed_for: *agreed_for,
            }))
        }
        Command::RecordDelivery {
            order_id,
            provider_id,
        } => {
            let token = redeemable_token(order_id, state)?;
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
            Ok(Event::TokenRedeemed(TokenRedeemed {
                provider_id: provider_id.clone(),
            }))
        }
        Command::ExpireToken { order_id } => {
            let token = redeemable_token(order_id, state)?;
            if at.local_date() <= token.expires_on {
                return Err(DomainError::TokenNotYetExpired {
                    expires_on: token.expires_on,
                });
            }
            Ok(Event::TokenExpired(TokenExpired {}))
        }
        Command::RefundToken { order_id, amount } => {
            positive("amount", *amount)?;
            let price = match state {
                OrderState::TokenIssued { placed, .. } | OrderState::Expired { placed, .. } => {
                    placed.price
                }
                OrderState::Redeemed { .. } => {
                    return Err(DomainError::TokenAlreadyRedeemed {
                        order_id: order_id.clone(),
                    })
                }
                OrderState::NotPlaced => {
                    return Err(DomainError::UnknownOrder {
                        order_id: order_id.clone(),
                    })
                }
                OrderState::Placed { .. }
                | OrderState::Refunded { .. }
                | OrderState::Cancelled { .. } => {
                    return Err(DomainError::TokenNotRefundable {
                        order_id: order_id.clone(),
                    })
                }
            };
            if *amount > price {
                return Err(DomainError::RefundAbovePrice {
                    amount: *amount,
                    price,
                });
            }
            Ok(Event::TokenRefunded(TokenRefunded { amount: *amount }))
        }
        Command::CancelOrder { order_id, reason } => {
            match state {
                OrderState::Placed { .. } | OrderState::TokenIssued { .. } => {}
                OrderState::NotPlaced => {
                    return Err(DomainError::UnknownOrder {
                        order_id: order_id.clone(),
                    })
                }
                OrderState::Redeemed { .. } => {
                    return Err(DomainError::TokenAlreadyRedeemed {
                        order_id: order_id.clone(),
                    })
                }
                OrderState::Expired { .. }
                | OrderState::Refunded { .. }
                | OrderState::Cancelled { .. } => {
                    return Err(DomainError::OrderCancelled {
                        order_id: order_id.clone(),
                    })
                }
            }
            non_empty("reason", reason)?;
            Ok(Event::OrderCancelled(OrderCancelled {
                reason: reason.clone(),
            }))
        }
        Command::RecordClientPayment { order_id, amount } => {
            positive("amount", *amount)?;
            let (placed, money) = placed_order(order_id, state)?;
            if matches!(state, OrderState::Cancelled { .. }) {
                return Err(DomainError::OrderCancelled {
                    order_id: order_id.clone(),
                });
            }
            if money.client_paid.is_some() {
                return Err(DomainError::ClientAlreadyPaid {
                    order_id: order_id.clone(),
                });
            }
            if *amount != placed.price {
                return Err(DomainError::ClientPaymentIsNotTheTariff {
                    amount: *amount,
                    price: placed.price,
                });
            }
            Ok(Event::ClientPaymentRecorded(ClientPaymentRecorded {
                amount: *amount,
                isee_band: placed.isee_band,
            }))
        }
        Command::RecordProviderPayment {
            order_id,
            provider_id,
            amount,
        } => {
            positive("amount", *amount)?;
            let (placed, money) = placed_order(order_id, state)?;
            let OrderState::Redeemed { redeemed, .. } = state else {
                return Err(DomainError::TokenNotRedeemed {
                    order_id: order_id.clone(),
                });
            };
            if redeemed.provider_id != *provider_id {
                return Err(DomainError::PaidProviderIsNotTheTokens {
                    token_provider_id: redeemed.provider_id.clone(),
                    provider_id: provider_id.clone(),
                });
            }
            if money.provider_paid.is_some() {
                return Err(DomainError::ProviderAlreadyPaid {
                    order_id: order_id.clone(),
                });
            }
            // The full tariff, of which the order's band pays its share: the shares are the
            // contract's, in force on the day of the payment. Each band's tariff is its share
            // of the full tariff before that is rounded to the cent, so the share of the
            // rounded full tariff may differ from it by one cent, never more.
            let tariff_terms = context
                .contract
                .terms_on(at.local_date())
                .and_then(|terms| terms.tariff_terms)
                .ok_or(DomainError::TariffTermsMissing)?;
            let band = placed.isee_band;
            let client_tariff = tariff_terms.client_tariff(band, *amount)?;
            if (client_tariff.amount() - placed.price.amount()).abs() > ONE_CENT {
                return Err(DomainError::ProviderPayIsNotTheFullTariff {
                    amount: *amount,
                    band,
                    share: tariff_terms.share(band).value(),
                    client_tariff,
                    price: placed.price,
                });
            }
            Ok(Event::ProviderPaymentRecorded(ProviderPaymentRecorded {
                provider_id: provider_id.clone(),
                amount: *amount,
                isee_band: band,
                tariff_share: tariff_terms.share(band),
            }))
        }
        Command::RecordSolidarityCover {
            order_id,
            covered_by,
            amount,
        } => {
            positive("amount", *amount)?;
            non_empty("covered_by", covered_by)?;
            let (placed, money) = placed_order(order_id, state)?;
            if money.solidarity_cover.is_some() {
                return Err(DomainError::SolidarityCoverAlreadyRecorded {
                    order_id: order_id.clone(),
                });
            }
            let (Some(client), Some(provider)) = (&money.client_paid, &money.provider_paid) else {
                return Err(DomainError::SolidarityCoverBeforePayments {
                    order_id: order_id.clone(),
                });
            };
            let expected =
                crate::values::Money::new(provider.amount.amount() - client.amount.amount())
                    .unwrap_or(crate::values::Money::ZERO);
            if *amount != expected {
                return Err(DomainError::SolidarityCoverIsNotTheDifference {
                    amount: *amount,
                    expected,
                });
            }
            Ok(Event::SolidarityCoverRecorded(SolidarityCoverRecorded {
                covered_by: covered_by.clone(),
                amount: *amount,
                isee_band: placed.isee_band,
            }))
        }
        other => Err(does_not_fit(other)),
    }
}

/// The order as placed and its money; an order never placed is refused.
fn placed_order<'a>(
    order_id: &StreamId,
    state: &'a OrderState,
) -> Result<(&'a OrderPlaced, &'a OrderMoney), DomainError> {
    match (state.placed(), state.money()) {
        (Some(placed), Some(money)) => Ok((placed, money)),
        _ => Err(DomainError::UnknownOrder {
            order_id: order_id.clone(),
        }),
    }
}
