//! Cuneo's catalogue: providers' accreditation and suspension, price changes and withdrawals,
//! and what they mean for orders and deliveries.

mod common;

use std::collections::BTreeMap;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{OrderState, ProductState, ProviderState, StreamState};
use esito_domain::events::*;
use esito_domain::{decide, Command, DecisionContext, DomainError, Event, Money, Submission};

fn tariffs(prices: [&str; 4]) -> BTreeMap<IseeBand, Money> {
    IseeBand::ALL
        .into_iter()
        .zip(prices)
        .map(|(band, price)| (band, money(price)))
        .collect()
}

fn accredited() -> Event {
    Event::ProviderAccredited(ProviderAccredited {
        name: "Pasti Cuneo".into(),
        service_family: ServiceFamily::Meals,
    })
}

fn suspended(on: &str) -> Event {
    Event::ProviderSuspended(ProviderSuspended {
        reason: "DURC irregolare".into(),
        suspended_on: date(on),
    })
}

fn reinstated(on: &str) -> Event {
    Event::ProviderReinstated(ProviderReinstated {
        reinstated_on: date(on),
    })
}

fn listed() -> Event {
    Event::ProductListed(ProductListed {
        provider_id: id("prov-1"),
        name: "Pasto a domicilio".into(),
        service_family: ServiceFamily::Meals,
        tariffs: tariffs(["5.00", "7.00", "9.00", "12.00"]),
    })
}

fn price_changed(on: &str) -> Event {
    Event::ProductPriceChanged(ProductPriceChanged {
        tariffs: tariffs(["5.50", "7.50", "9.50", "12.50"]),
        effective_on: date(on),
    })
}

fn withdrawn(on: &str) -> Event {
    Event::ProductWithdrawn(ProductWithdrawn {
        reason: "fornitore cessato".into(),
        withdrawn_on: date(on),
    })
}

// RequestProviderAccreditation and AccreditProvider

fn request() -> Command {
    Command::RequestProviderAccreditation {
        provider_id: id("prov-1"),
        name: "Pasti Cuneo".into(),
        service_family: ServiceFamily::Meals,
    }
}

fn requested() -> Event {
    Event::ProviderAccreditationRequested(ProviderAccreditationRequested {
        name: "Pasti Cuneo".into(),
        service_family: ServiceFamily::Meals,
    })
}

#[tokio::test]
async fn a_supplier_asks_for_accreditation() {
    TestFramework::<ProviderState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-01-10T10:00:00+01:00", request()))
        .await
        .then_expect_events(vec![requested()]);
}

#[tokio::test]
async fn asking_for_accreditation_twice_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![requested()])
        .when_async(submit("2024-01-11T10:00:00+01:00", request()))
        .await
        .then_expect_error(DomainError::ProviderAccreditationAlreadyRequested {
            provider_id: id("prov-1"),
        });
}

#[tokio::test]
async fn an_accredited_provider_cannot_ask_for_accreditation() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited()])
        .when_async(submit("2024-01-11T10:00:00+01:00", request()))
        .await
        .then_expect_error(DomainError::ProviderAlreadyAccredited {
            provider_id: id("prov-1"),
        });
}

#[tokio::test]
async fn a_request_without_a_name_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-01-10T10:00:00+01:00",
            Command::RequestProviderAccreditation {
                provider_id: id("prov-1"),
                name: "  ".into(),
                service_family: ServiceFamily::Meals,
            },
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "name" });
}

#[tokio::test]
async fn a_requested_provider_is_accredited() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![requested()])
        .when_async(submit(
            "2024-01-20T10:00:00+01:00",
            Command::AccreditProvider {
                provider_id: id("prov-1"),
                name: "Pasti Cuneo".into(),
                service_family: ServiceFamily::Meals,
            },
        ))
        .await
        .then_expect_events(vec![accredited()]);
}

#[tokio::test]
async fn a_provider_is_still_accredited_without_a_request() {
    TestFramework::<ProviderState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-01-20T10:00:00+01:00",
            Command::AccreditProvider {
                provider_id: id("prov-1"),
                name: "Pasti Cuneo".into(),
                service_family: ServiceFamily::Meals,
            },
        ))
        .await
        .then_expect_events(vec![accredited()]);
}

// SuspendProvider and ReinstateProvider

fn suspend() -> Command {
    Command::SuspendProvider {
        provider_id: id("prov-1"),
        reason: "DURC irregolare".into(),
    }
}

fn reinstate() -> Command {
    Command::ReinstateProvider {
        provider_id: id("prov-1"),
    }
}

#[tokio::test]
async fn an_accredited_provider_is_suspended_from_the_day_of_the_event() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited()])
        .when_async(submit("2024-02-01T10:00:00+01:00", suspend()))
        .await
        .then_expect_events(vec![suspended("2024-02-01")]);
}

#[tokio::test]
async fn suspending_a_provider_never_accredited_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![requested()])
        .when_async(submit("2024-02-01T10:00:00+01:00", suspend()))
        .await
        .then_expect_error(DomainError::UnknownProvider {
            provider_id: id("prov-1"),
        });
}

#[tokio::test]
async fn suspending_a_suspended_provider_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited(), suspended("2024-02-01")])
        .when_async(submit("2024-02-05T10:00:00+01:00", suspend()))
        .await
        .then_expect_error(DomainError::ProviderSuspended {
            provider_id: id("prov-1"),
            suspended_on: date("2024-02-01"),
        });
}

#[tokio::test]
async fn a_suspension_without_a_reason_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited()])
        .when_async(submit(
            "2024-02-01T10:00:00+01:00",
            Command::SuspendProvider {
                provider_id: id("prov-1"),
                reason: "".into(),
            },
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "reason" });
}

#[tokio::test]
async fn a_suspension_dated_before_the_latest_reinstatement_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![
            accredited(),
            suspended("2024-02-01"),
            reinstated("2024-03-01"),
        ])
        .when_async(submit("2024-02-15T10:00:00+01:00", suspend()))
        .await
        .then_expect_error(DomainError::DateBeforeLatestChange {
            field: "occurred_at",
            date: date("2024-02-15"),
            latest_on: date("2024-03-01"),
        });
}

#[tokio::test]
async fn a_suspended_provider_is_reinstated() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited(), suspended("2024-02-01")])
        .when_async(submit("2024-03-01T10:00:00+01:00", reinstate()))
        .await
        .then_expect_events(vec![reinstated("2024-03-01")]);
}

#[tokio::test]
async fn reinstating_a_provider_not_suspended_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited()])
        .when_async(submit("2024-03-01T10:00:00+01:00", reinstate()))
        .await
        .then_expect_error(DomainError::ProviderNotSuspended {
            provider_id: id("prov-1"),
        });
}

#[tokio::test]
async fn reinstating_a_provider_never_accredited_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-03-01T10:00:00+01:00", reinstate()))
        .await
        .then_expect_error(DomainError::UnknownProvider {
            provider_id: id("prov-1"),
        });
}

#[tokio::test]
async fn a_reinstatement_dated_before_the_suspension_is_refused() {
    TestFramework::<ProviderState>::with(context())
        .given(vec![accredited(), suspended("2024-02-01")])
        .when_async(submit("2024-01-20T10:00:00+01:00", reinstate()))
        .await
        .then_expect_error(DomainError::DateBeforeLatestChange {
            field: "occurred_at",
            date: date("2024-01-20"),
            latest_on: date("2024-02-01"),
        });
}

// ChangeProductPrice and WithdrawProduct

fn change_price(prices: [&str; 4]) -> Command {
    Command::ChangeProductPrice {
        product_id: id("prod-1"),
        tariffs: tariffs(prices),
    }
}

fn withdraw() -> Command {
    Command::WithdrawProduct {
        product_id: id("prod-1"),
        reason: "fornitore cessato".into(),
    }
}

#[tokio::test]
async fn new_tariffs_take_effect_from_the_day_of_the_change() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed()])
        .when_async(submit(
            "2024-03-01T10:00:00+01:00",
            change_price(["5.50", "7.50", "9.50", "12.50"]),
        ))
        .await
        .then_expect_events(vec![price_changed("2024-03-01")]);
}

#[tokio::test]
async fn a_price_change_without_every_band_is_refused() {
    let mut partial = tariffs(["5.50", "7.50", "9.50", "12.50"]);
    partial.remove(&IseeBand::C);
    TestFramework::<ProductState>::with(context())
        .given(vec![listed()])
        .when_async(submit(
            "2024-03-01T10:00:00+01:00",
            Command::ChangeProductPrice {
                product_id: id("prod-1"),
                tariffs: partial,
            },
        ))
        .await
        .then_expect_error(DomainError::TariffMissingForBand { band: IseeBand::C });
}

#[tokio::test]
async fn a_price_change_of_a_product_never_listed_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-03-01T10:00:00+01:00",
            change_price(["5.50", "7.50", "9.50", "12.50"]),
        ))
        .await
        .then_expect_error(DomainError::UnknownProduct {
            product_id: id("prod-1"),
        });
}

#[tokio::test]
async fn a_price_change_of_a_withdrawn_product_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed(), withdrawn("2024-02-01")])
        .when_async(submit(
            "2024-03-01T10:00:00+01:00",
            change_price(["5.50", "7.50", "9.50", "12.50"]),
        ))
        .await
        .then_expect_error(DomainError::ProductWithdrawn {
            product_id: id("prod-1"),
            withdrawn_on: date("2024-02-01"),
        });
}

#[tokio::test]
async fn a_price_change_dated_before_the_latest_one_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed(), price_changed("2024-03-01")])
        .when_async(submit(
            "2024-02-01T10:00:00+01:00",
            change_price(["6.00", "8.00", "10.00", "13.00"]),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeLatestChange {
            field: "occurred_at",
            date: date("2024-02-01"),
            latest_on: date("2024-03-01"),
        });
}

#[tokio::test]
async fn a_product_is_withdrawn() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed()])
        .when_async(submit("2024-04-01T10:00:00+02:00", withdraw()))
        .await
        .then_expect_events(vec![withdrawn("2024-04-01")]);
}

#[tokio::test]
async fn withdrawing_a_product_twice_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed(), withdrawn("2024-04-01")])
        .when_async(submit("2024-04-02T10:00:00+02:00", withdraw()))
        .await
        .then_expect_error(DomainError::ProductWithdrawn {
            product_id: id("prod-1"),
            withdrawn_on: date("2024-04-01"),
        });
}

#[tokio::test]
async fn withdrawing_a_product_never_listed_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-04-01T10:00:00+02:00", withdraw()))
        .await
        .then_expect_error(DomainError::UnknownProduct {
            product_id: id("prod-1"),
        });
}

#[tokio::test]
async fn a_withdrawal_without_a_reason_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed()])
        .when_async(submit(
            "2024-04-01T10:00:00+02:00",
            Command::WithdrawProduct {
                product_id: id("prod-1"),
                reason: "".into(),
            },
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "reason" });
}

#[tokio::test]
async fn a_withdrawal_dated_before_the_latest_price_change_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given(vec![listed(), price_changed("2024-03-01")])
        .when_async(submit("2024-02-10T10:00:00+01:00", withdraw()))
        .await
        .then_expect_error(DomainError::DateBeforeLatestChange {
            field: "occurred_at",
            date: date("2024-02-10"),
            latest_on: date("2024-03-01"),
        });
}

#[tokio::test]
async fn a_suspended_provider_cannot_list_a_product() {
    let provider = state_after(
        StreamType::Provider,
        vec![accredited(), suspended("2024-02-01")],
    );
    TestFramework::<ProductState>::with(reading(
        context(),
        StreamType::Provider,
        "prov-1",
        provider,
    ))
    .given_no_previous_events()
    .when_async(submit(
        "2024-02-10T10:00:00+01:00",
        Command::ListProduct {
            product_id: id("prod-1"),
            provider_id: id("prov-1"),
            name: "Pasto a domicilio".into(),
            service_family: ServiceFamily::Meals,
            tariffs: tariffs(["5.00", "7.00", "9.00", "12.00"]),
        },
    ))
    .await
    .then_expect_error(DomainError::ProviderSuspended {
        provider_id: id("prov-1"),
        suspended_on: date("2024-02-01"),
    });
}

// Orders: the tariff in force, withdrawn products, suspended providers

/// The context of an order: beneficiary `ben-1` in band b, `prod-1` after `product`, and
/// `prov-1` after `provider`.
fn order_context(product: Vec<Event>, provider: Vec<Event>) -> DecisionContext {
    let context = reading(
        context_with_beneficiary(),
        StreamType::Product,
        "prod-1",
        state_after(StreamType::Product, product),
    );
    reading(
        context,
        StreamType::Provider,
        "prov-1",
        state_after(StreamType::Provider, provider),
    )
}

fn order(when: &str, price: &str) -> Submission {
    submit(
        when,
        Command::PlaceOrder {
            order_id: id("ord-1"),
            beneficiary_id: id("ben-1"),
            product_id: id("prod-1"),
            channel: OrderChannel::Centre,
            price: money(price),
        },
    )
}

fn placed(price: &str) -> Event {
    Event::OrderPlaced(OrderPlaced {
        beneficiary_id: id("ben-1"),
        product_id: id("prod-1"),
        provider_id: id("prov-1"),
        service_family: ServiceFamily::Meals,
        channel: OrderChannel::Centre,
        isee_band: IseeBand::B,
        price: money(price),
    })
}

#[tokio::test]
async fn an_order_after_a_price_change_is_at_the_new_tariff() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed(), price_changed("2024-03-01")],
        vec![accredited()],
    ))
    .given_no_previous_events()
    .when_async(order("2024-03-02T10:00:00+01:00", "7.50"))
    .await
    .then_expect_events(vec![placed("7.50")]);
}

#[tokio::test]
async fn an_order_after_a_price_change_at_the_old_tariff_is_refused() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed(), price_changed("2024-03-01")],
        vec![accredited()],
    ))
    .given_no_previous_events()
    .when_async(order("2024-03-02T10:00:00+01:00", "7.00"))
    .await
    .then_expect_error(DomainError::PriceIsNotTheTariff {
        band: IseeBand::B,
        tariff: money("7.50"),
        price: money("7.00"),
    });
}

#[tokio::test]
async fn a_late_order_dated_before_a_price_change_is_at_the_old_tariff() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed(), price_changed("2024-03-01")],
        vec![accredited()],
    ))
    .given_no_previous_events()
    .when_async(order("2024-02-28T10:00:00+01:00", "7.00"))
    .await
    .then_expect_events(vec![placed("7.00")]);
}

#[tokio::test]
async fn ordering_a_withdrawn_product_is_refused() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed(), withdrawn("2024-03-01")],
        vec![accredited()],
    ))
    .given_no_previous_events()
    .when_async(order("2024-03-01T10:00:00+01:00", "7.00"))
    .await
    .then_expect_error(DomainError::ProductWithdrawn {
        product_id: id("prod-1"),
        withdrawn_on: date("2024-03-01"),
    });
}

#[tokio::test]
async fn a_late_order_dated_before_the_withdrawal_is_accepted() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed(), withdrawn("2024-03-01")],
        vec![accredited()],
    ))
    .given_no_previous_events()
    .when_async(order("2024-02-29T10:00:00+01:00", "7.00"))
    .await
    .then_expect_events(vec![placed("7.00")]);
}

#[tokio::test]
async fn ordering_a_suspended_providers_product_is_refused() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed()],
        vec![accredited(), suspended("2024-02-01")],
    ))
    .given_no_previous_events()
    .when_async(order("2024-02-10T10:00:00+01:00", "7.00"))
    .await
    .then_expect_error(DomainError::ProviderSuspended {
        provider_id: id("prov-1"),
        suspended_on: date("2024-02-01"),
    });
}

#[tokio::test]
async fn ordering_from_a_reinstated_provider_is_accepted() {
    TestFramework::<OrderState>::with(order_context(
        vec![listed()],
        vec![
            accredited(),
            suspended("2024-02-01"),
            reinstated("2024-02-15"),
        ],
    ))
    .given_no_previous_events()
    .when_async(order("2024-02-15T10:00:00+01:00", "7.00"))
    .await
    .then_expect_events(vec![placed("7.00")]);
}

#[test]
fn an_order_reads_the_provider_of_its_product_once_the_product_is_known() {
    let command = Command::PlaceOrder {
        order_id: id("ord-1"),
        beneficiary_id: id("ben-1"),
        product_id: id("prod-1"),
        channel: OrderChannel::Online,
        price: money("7.00"),
    };
    let context = order_context(vec![listed()], vec![accredited()]);
    assert_eq!(
        command.dependent_reads(&context.reads),
        vec![StreamRef::new(StreamType::Provider, id("prov-1"))]
    );
    assert!(command.dependent_reads(&BTreeMap::new()).is_empty());
}

// Deliveries by suspended providers

fn issued_order() -> Vec<Event> {
    vec![
        placed("7.00"),
        Event::TokenIssued(TokenIssued {
            token_code: "TK-1".into(),
            provider_id: id("prov-1"),
            notified_to: vec![TokenRecipient::Client, TokenRecipient::Provider],
            expires_on: date("2024-06-30"),
        }),
    ]
}

fn delivery(when: &str) -> Submission {
    submit(
        when,
        Command::RecordDelivery {
            order_id: id("ord-1"),
            provider_id: id("prov-1"),
        },
    )
}

fn provider_context(events: Vec<Event>) -> DecisionContext {
    reading(
        context(),
        StreamType::Provider,
        "prov-1",
        state_after(StreamType::Provider, events),
    )
}

#[test]
fn a_delivery_reads_the_providers_stream() {
    assert_eq!(
        delivery("2024-02-10T10:00:00+01:00").command.reads(),
        vec![StreamRef::new(StreamType::Provider, id("prov-1"))]
    );
}

#[tokio::test]
async fn a_suspended_provider_cannot_redeem_a_token() {
    TestFramework::<OrderState>::with(provider_context(vec![
        accredited(),
        suspended("2024-02-01"),
    ]))
    .given(issued_order())
    .when_async(delivery("2024-02-10T10:00:00+01:00"))
    .await
    .then_expect_error(DomainError::ProviderSuspended {
        provider_id: id("prov-1"),
        suspended_on: date("2024-02-01"),
    });
}

#[tokio::test]
async fn a_late_record_of_a_delivery_made_before_the_suspension_is_accepted() {
    TestFramework::<OrderState>::with(provider_context(vec![
        accredited(),
        suspended("2024-02-01"),
    ]))
    .given(issued_order())
    .when_async(delivery("2024-01-31T10:00:00+01:00"))
    .await
    .then_expect_events(vec![Event::TokenRedeemed(TokenRedeemed {
        provider_id: id("prov-1"),
    })]);
}

#[tokio::test]
async fn a_reinstated_provider_redeems_its_token() {
    TestFramework::<OrderState>::with(provider_context(vec![
        accredited(),
        suspended("2024-02-01"),
        reinstated("2024-02-05"),
    ]))
    .given(issued_order())
    .when_async(delivery("2024-02-10T10:00:00+01:00"))
    .await
    .then_expect_events(vec![Event::TokenRedeemed(TokenRedeemed {
        provider_id: id("prov-1"),
    })]);
}

#[test]
fn a_stored_suspension_of_a_provider_never_accredited_does_not_replay() {
    let history = vec![recorded(suspended("2024-02-01"))];
    assert!(matches!(
        esito_domain::replay(StreamType::Provider, &history),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}

#[test]
fn a_provider_is_suspended_from_its_suspension_up_to_its_reinstatement() {
    let StreamState::Provider(provider) = state_after(
        StreamType::Provider,
        vec![
            accredited(),
            suspended("2024-02-01"),
            reinstated("2024-02-05"),
        ],
    ) else {
        panic!("a provider stream");
    };
    assert_eq!(provider.suspended_since(date("2024-01-31")), None);
    assert_eq!(
        provider.suspended_since(date("2024-02-04")),
        Some(date("2024-02-01"))
    );
    assert_eq!(provider.suspended_since(date("2024-02-05")), None);
}

#[test]
fn an_order_whose_provider_state_was_not_loaded_is_not_checked_for_suspension() {
    // A store that does not yet load `dependent_reads` gives no provider state: the order is
    // decided on the rest, as before suspensions existed.
    let context = reading(
        context_with_beneficiary(),
        StreamType::Product,
        "prod-1",
        state_after(StreamType::Product, vec![listed()]),
    );
    let empty = StreamState::Order(OrderState::default());
    assert_eq!(
        decide(
            &order("2024-02-02T10:00:00+01:00", "7.00"),
            &empty,
            &context
        )
        .map(|event| event.event_type()),
        Ok("OrderPlaced")
    );
}

// Products in prototyping

fn start_prototype() -> Command {
    Command::StartProductPrototype {
        product_id: id("prod-1"),
        provider_id: id("prov-1"),
        name: "Spesa a domicilio".into(),
        service_family: ServiceFamily::Accompaniment,
    }
}

fn prototype_started() -> Event {
    Event::ProductPrototypeStarted(ProductPrototypeStarted {
        provider_id: id("prov-1"),
        name: "Spesa a domicilio".into(),
        service_family: ServiceFamily::Accompaniment,
    })
}

fn with_accredited_provider() -> DecisionContext {
    reading(
        context(),
        StreamType::Provider,
        "prov-1",
        state_after(StreamType::Provider, vec![accredited()]),
    )
}

#[tokio::test]
async fn an_accredited_provider_starts_a_product_in_prototyping() {
    TestFramework::<ProductState>::with(with_accredited_provider())
        .given_no_previous_events()
        .when_async(submit("2024-02-15T10:00:00+01:00", start_prototype()))
        .await
        .then_expect_events(vec![prototype_started()]);
}

#[tokio::test]
async fn a_prototype_of_a_provider_not_accredited_is_refused() {
    TestFramework::<ProductState>::with(context())
        .given_no_previous_events()
        .when_async(submit("2024-02-15T10:00:00+01:00", start_prototype()))
        .await
        .then_expect_error(DomainError::UnknownProvider {
            provider_id: id("prov-1"),
        });
}

#[tokio::test]
async fn a_prototype_started_twice_is_refused() {
    TestFramework::<ProductState>::with(with_accredited_provider())
        .given(vec![prototype_started()])
        .when_async(submit("2024-02-16T10:00:00+01:00", start_prototype()))
        .await
        .then_expect_error(DomainError::ProductInPrototyping {
            product_id: id("prod-1"),
        });
}

#[tokio::test]
async fn a_prototype_enters_the_catalogue_when_listed() {
    TestFramework::<ProductState>::with(with_accredited_provider())
        .given(vec![prototype_started()])
        .when_async(submit(
            "2024-04-01T10:00:00+02:00",
            Command::ListProduct {
                product_id: id("prod-1"),
                provider_id: id("prov-1"),
                name: "Pasto a domicilio".into(),
                service_family: ServiceFamily::Meals,
                tariffs: tariffs(["5.00", "7.00", "9.00", "12.00"]),
            },
        ))
        .await
        .then_expect_events(vec![listed()]);
}

#[tokio::test]
async fn a_product_in_prototyping_cannot_be_ordered() {
    TestFramework::<OrderState>::with(order_context(vec![prototype_started()], vec![accredited()]))
        .given_no_previous_events()
        .when_async(order("2024-02-20T10:00:00+01:00", "7.00"))
        .await
        .then_expect_error(DomainError::ProductInPrototyping {
            product_id: id("prod-1"),
        });
}
