//! Cuneo's orders: a beneficiary orders a product at its band's tariff, the centre issues a
//! token to the product's provider, and the token is redeemed on delivery, expires, is refunded,
//! or the order is cancelled.
//!
//! Invariant: each state carries exactly what happened to the order so far (an issued token is
//! in every state after `TokenIssued`); a token is redeemed only by its provider, and a refund
//! never exceeds the price paid.

use serde::{Deserialize, Serialize};

use super::{
    catalogue, check_registered_beneficiary, does_not_fit, inconsistent, non_empty, positive,
    DecisionContext, StreamState,
};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    DeliveryTimeAgreed, Event, OrderCancelled, OrderPlaced, StreamType, TokenExpired, TokenIssued,
    TokenRedeemed, TokenRefunded,
};
use crate::values::{OccurredAt, StreamId};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum OrderState {
    #[default]
    NotPlaced,
    /// Placed, with no token yet.
    Placed { placed: OrderPlaced },
    /// The token is issued and waits for delivery.
    TokenIssued {
        placed: OrderPlaced,
        token: TokenIssued,
    },
    Redeemed {
        placed: OrderPlaced,
        token: TokenIssued,
        redeemed: TokenRedeemed,
    },
    Expired {
        placed: OrderPlaced,
        token: TokenIssued,
    },
    Refunded {
        placed: OrderPlaced,
        token: TokenIssued,
        refunded: TokenRefunded,
    },
    /// Cancelled before delivery: with the token, if one was issued.
    Cancelled {
        placed: OrderPlaced,
        token: Option<TokenIssued>,
        cancelled: OrderCancelled,
    },
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
        let next = match (&*self, event) {
            (OrderState::NotPlaced, Event::OrderPlaced(placed)) => OrderState::Placed {
                placed: placed.clone(),
            },
            (OrderState::Placed { placed }, Event::TokenIssued(token)) => OrderState::TokenIssued {
                placed: placed.clone(),
                token: token.clone(),
            },
            (OrderState::TokenIssued { .. }, Event::DeliveryTimeAgreed(_)) => return Ok(()),
            (OrderState::TokenIssued { placed, token }, Event::TokenRedeemed(redeemed)) => {
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
                }
            }
            (OrderState::TokenIssued { placed, token }, Event::TokenExpired(TokenExpired {})) => {
                OrderState::Expired {
                    placed: placed.clone(),
                    token: token.clone(),
                }
            }
            (
                OrderState::TokenIssued { placed, token } | OrderState::Expired { placed, token },
                Event::TokenRefunded(refunded),
            ) => {
                if refunded.amount > placed.price {
                    return Err(inconsistent(event, "refund above the price paid"));
                }
                OrderState::Refunded {
                    placed: placed.clone(),
                    token: token.clone(),
                    refunded: refunded.clone(),
                }
            }
            (OrderState::Placed { placed }, Event::OrderCancelled(cancelled)) => {
                OrderState::Cancelled {
                    placed: placed.clone(),
                    token: None,
                    cancelled: cancelled.clone(),
                }
            }
            (OrderState::TokenIssued { placed, token }, Event::OrderCancelled(cancelled)) => {
                OrderState::Cancelled {
                    placed: placed.clone(),
                    token: Some(token.clone()),
                    cancelled: cancelled.clone(),
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
                OrderState::Placed { placed } => placed,
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
        other => Err(does_not_fit(other)),
    }
}
