//! `evolve` of the orders, units, tenancies and accesses: what each state carries after a
//! history, and the events a state cannot follow, refused with the reason.

mod common;

use common::*;
use esito_domain::aggregates::{OrderState, TenancyState};
use esito_domain::events::*;
use esito_domain::{replay, DomainError, Event, Month, Recorded, StreamState};

fn replayed(stream_type: StreamType, events: Vec<Event>) -> Result<StreamState, DomainError> {
    let history: Vec<Recorded> = events.into_iter().map(recorded).collect();
    replay(stream_type, &history)
}

fn inconsistent(event_type: &str, reason: &str) -> DomainError {
    DomainError::EventInconsistentWithStream {
        event_type: event_type.to_owned(),
        reason: reason.to_owned(),
    }
}

fn placed() -> OrderPlaced {
    OrderPlaced {
        beneficiary_id: id("ben-1"),
        product_id: id("prod-1"),
        provider_id: id("prov-1"),
        service_family: ServiceFamily::Meals,
        channel: OrderChannel::Online,
        isee_band: IseeBand::A,
        price: money("6.50"),
    }
}

fn token() -> TokenIssued {
    TokenIssued {
        token_code: "TK-1".into(),
        provider_id: id("prov-1"),
        notified_to: vec![TokenRecipient::Client],
        expires_on: date("2024-03-31"),
    }
}

fn cancelled() -> OrderCancelled {
    OrderCancelled {
        reason: "the beneficiary moved".into(),
    }
}

#[test]
fn an_order_cancelled_after_its_token_keeps_the_token() {
    let state = replayed(
        StreamType::Order,
        vec![
            Event::OrderPlaced(placed()),
            Event::TokenIssued(token()),
            Event::OrderCancelled(cancelled()),
        ],
    );
    assert_eq!(
        state,
        Ok(StreamState::Order(OrderState::Cancelled {
            placed: placed(),
            token: Some(token()),
            cancelled: cancelled(),
            money: Default::default(),
        }))
    );
}

#[test]
fn an_order_cancelled_before_its_token_has_none() {
    let state = replayed(
        StreamType::Order,
        vec![
            Event::OrderPlaced(placed()),
            Event::OrderCancelled(cancelled()),
        ],
    );
    assert_eq!(
        state,
        Ok(StreamState::Order(OrderState::Cancelled {
            placed: placed(),
            token: None,
            cancelled: cancelled(),
            money: Default::default(),
        }))
    );
}

#[test]
fn a_token_issued_for_an_order_never_placed_is_refused() {
    assert_eq!(
        replayed(StreamType::Order, vec![Event::TokenIssued(token())]),
        Err(inconsistent("TokenIssued", "the order is not placed"))
    );
}

#[test]
fn a_token_redeemed_by_a_provider_other_than_its_own_is_refused() {
    let events = vec![
        Event::OrderPlaced(placed()),
        Event::TokenIssued(token()),
        Event::TokenRedeemed(TokenRedeemed {
            provider_id: id("prov-2"),
        }),
    ];
    assert_eq!(
        replayed(StreamType::Order, events),
        Err(inconsistent(
            "TokenRedeemed",
            "redeemed by a provider other than the token's"
        ))
    );
}

#[test]
fn a_refund_above_the_price_is_refused_even_after_expiry() {
    let events = vec![
        Event::OrderPlaced(placed()),
        Event::TokenIssued(token()),
        Event::TokenExpired(TokenExpired {}),
        Event::TokenRefunded(TokenRefunded {
            amount: money("6.51"),
        }),
    ];
    assert_eq!(
        replayed(StreamType::Order, events),
        Err(inconsistent("TokenRefunded", "refund above the price paid"))
    );
}

#[test]
fn nothing_but_a_refund_follows_an_expired_token() {
    let events = vec![
        Event::OrderPlaced(placed()),
        Event::TokenIssued(token()),
        Event::TokenExpired(TokenExpired {}),
        Event::OrderCancelled(cancelled()),
    ];
    assert_eq!(
        replayed(StreamType::Order, events),
        Err(inconsistent("OrderCancelled", "the order is expired"))
    );
}

#[test]
fn a_redeemed_token_is_not_refunded() {
    let events = vec![
        Event::OrderPlaced(placed()),
        Event::TokenIssued(token()),
        Event::TokenRedeemed(TokenRedeemed {
            provider_id: id("prov-1"),
        }),
        Event::TokenRefunded(TokenRefunded {
            amount: money("6.50"),
        }),
    ];
    assert_eq!(
        replayed(StreamType::Order, events),
        Err(inconsistent(
            "TokenRefunded",
            "the order is already redeemed"
        ))
    );
}

#[test]
fn a_unit_is_made_available_once() {
    let available = Event::UnitMadeAvailable(UnitMadeAvailable {
        label: "Via Roma 1".into(),
        lent_by: "Fondazione".into(),
    });
    assert_eq!(
        replayed(StreamType::Unit, vec![available.clone(), available]),
        Err(inconsistent(
            "UnitMadeAvailable",
            "the stream already holds it or cannot hold it"
        ))
    );
}

#[test]
fn an_access_is_recorded_once() {
    let access = Event::AccessRecorded(AccessRecorded {
        beneficiary_id: None,
        channel: AccessChannel::Phone,
        need: NeedCategory::Housing,
        outcome: AccessOutcome::InformationOnly,
    });
    assert_eq!(
        replayed(StreamType::Access, vec![access.clone(), access]),
        Err(inconsistent(
            "AccessRecorded",
            "the stream already holds it or cannot hold it"
        ))
    );
}

#[test]
fn an_access_stream_holds_nothing_else() {
    let unit = Event::UnitMadeAvailable(UnitMadeAvailable {
        label: "Via Roma 1".into(),
        lent_by: "Fondazione".into(),
    });
    assert_eq!(
        replayed(StreamType::Access, vec![unit]),
        Err(inconsistent(
            "UnitMadeAvailable",
            "the stream already holds it or cannot hold it"
        ))
    );
}

fn started(monthly_rent: &str) -> Event {
    Event::TenancyStarted(TenancyStarted {
        unit_id: id("flat-1"),
        beneficiary_id: id("ben-1"),
        pact: Pact {
            monthly_rent: money(monthly_rent),
            rent_cap: money("300.00"),
            housing_accompaniment: true,
            financial_education: true,
        },
    })
}

fn january() -> Month {
    Month::parse("2024-01").expect("month")
}

fn charged(amount: &str) -> Event {
    Event::RentCharged(RentCharged {
        month: january(),
        amount: money(amount),
    })
}

fn paid(amount: &str) -> Event {
    Event::RentPaid(RentPaid {
        month: january(),
        amount: money(amount),
    })
}

fn ended() -> Event {
    Event::TenancyEnded(TenancyEnded {
        reason: TenancyEndReason::MovedToPrivateMarket,
    })
}

#[test]
fn a_tenancy_started_above_its_pacts_cap_is_refused() {
    assert_eq!(
        replayed(StreamType::Tenancy, vec![started("300.01")]),
        Err(inconsistent("TenancyStarted", "rent above the pact's cap"))
    );
}

#[test]
fn a_months_rent_is_charged_once() {
    let events = vec![started("250.00"), charged("250.00"), charged("250.00")];
    assert_eq!(
        replayed(StreamType::Tenancy, events),
        Err(inconsistent(
            "RentCharged",
            "that month's rent was already charged"
        ))
    );
}

#[test]
fn rent_paid_for_a_month_never_charged_is_refused() {
    assert_eq!(
        replayed(StreamType::Tenancy, vec![started("250.00"), paid("250.00")]),
        Err(inconsistent(
            "RentPaid",
            "no rent was charged for that month"
        ))
    );
}

#[test]
fn more_paid_than_charged_for_a_month_is_refused_across_payments() {
    let events = vec![
        started("250.00"),
        charged("250.00"),
        paid("200.00"),
        paid("50.01"),
    ];
    assert_eq!(
        replayed(StreamType::Tenancy, events),
        Err(inconsistent(
            "RentPaid",
            "more paid than charged for that month"
        ))
    );
}

#[test]
fn rent_charged_before_the_end_is_paid_after_it_and_the_payments_add_up() {
    let events = vec![
        started("250.00"),
        charged("250.00"),
        paid("100.00"),
        ended(),
        paid("150.00"),
    ];
    let Ok(StreamState::Tenancy(TenancyState::Ended { rent, .. })) =
        replayed(StreamType::Tenancy, events)
    else {
        panic!("an ended tenancy");
    };
    assert_eq!(
        rent.paid.get(&january()).copied(),
        Some(money("250.00").amount())
    );
}

#[test]
fn no_rent_is_charged_after_the_end() {
    let events = vec![started("250.00"), ended(), charged("250.00")];
    assert_eq!(
        replayed(StreamType::Tenancy, events),
        Err(inconsistent("RentCharged", "the tenancy is not active"))
    );
}

#[test]
fn a_tenancy_ends_once() {
    let events = vec![started("250.00"), ended(), ended()];
    assert_eq!(
        replayed(StreamType::Tenancy, events),
        Err(inconsistent("TenancyEnded", "the tenancy is not active"))
    );
}
