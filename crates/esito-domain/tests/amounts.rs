//! Amounts that record money moving (a payment, a charge, a price, a refund, a tariff) are
//! above zero: a zero would record that nothing happened, so it is refused naming the field.

mod common;

use std::collections::BTreeMap;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{OrderState, ProductState, TenancyState};
use esito_domain::events::*;
use esito_domain::{decide, Command, DomainError, Event, Money, Month, StreamState};

fn month(text: &str) -> Month {
    Month::parse(text).expect("a test month")
}

#[tokio::test]
async fn a_rent_payment_of_zero_is_refused_naming_the_amount() {
    TestFramework::<TenancyState>::with(context())
        .given(active_tenancy())
        .when_async(submit(
            "2024-01-20T10:00:00+01:00",
            Command::RecordRentPayment {
                tenancy_id: id("ten-1"),
                month: month("2024-01"),
                amount: money("0.00"),
            },
        ))
        .await
        .then_expect_error(DomainError::AmountNotPositive { field: "amount" });
}

#[tokio::test]
async fn rent_charged_at_zero_is_refused_naming_the_amount() {
    TestFramework::<TenancyState>::with(context())
        .given(active_tenancy())
        .when_async(submit(
            "2024-02-01T10:00:00+01:00",
            Command::ChargeRent {
                tenancy_id: id("ten-1"),
                month: month("2024-02"),
                amount: money("0"),
            },
        ))
        .await
        .then_expect_error(DomainError::AmountNotPositive { field: "amount" });
}

fn tariffs(a: &str) -> BTreeMap<IseeBand, Money> {
    [
        (IseeBand::A, a),
        (IseeBand::B, "7.00"),
        (IseeBand::C, "9.00"),
        (IseeBand::D, "12.00"),
    ]
    .into_iter()
    .map(|(band, price)| (band, money(price)))
    .collect()
}

fn listed_product(a: &str) -> StreamState {
    StreamState::Product(ProductState::Listed {
        listed: ProductListed {
            provider_id: id("prov-1"),
            name: "Pasto a domicilio".into(),
            service_family: ServiceFamily::Meals,
            tariffs: tariffs(a),
        },
        price_changes: Vec::new(),
    })
}

#[test]
fn a_tariff_of_zero_is_refused_naming_its_band() {
    let context = reading(
        context(),
        StreamType::Provider,
        "prov-1",
        accredited_provider(),
    );
    assert_eq!(
        decide(
            &listing_with("0.00"),
            &StreamState::Product(ProductState::default()),
            &context
        ),
        Err(DomainError::AmountNotPositive { field: "tariffs.a" })
    );
    let change = submit(
        "2023-09-01T10:00:00+02:00",
        Command::ChangeProductPrice {
            product_id: id("prod-1"),
            tariffs: tariffs("0"),
        },
    );
    assert_eq!(
        decide(&change, &listed_product("5.00"), &context),
        Err(DomainError::AmountNotPositive { field: "tariffs.a" })
    );
    assert!(decide(
        &listing_with("5.00"),
        &StreamState::Product(ProductState::default()),
        &context
    )
    .is_ok());
}

fn listing_with(a: &str) -> esito_domain::Submission {
    submit(
        "2023-07-10T10:00:00+02:00",
        Command::ListProduct {
            product_id: id("prod-1"),
            provider_id: id("prov-1"),
            name: "Pasto a domicilio".into(),
            service_family: ServiceFamily::Meals,
            tariffs: tariffs(a),
        },
    )
}

#[test]
fn an_order_at_a_price_of_zero_is_refused_naming_the_price() {
    let context = reading(
        reading(
            context_with_beneficiary(),
            StreamType::Product,
            "prod-1",
            listed_product("5.00"),
        ),
        StreamType::Provider,
        "prov-1",
        accredited_provider(),
    );
    let order = submit(
        "2024-01-15T10:00:00+01:00",
        Command::PlaceOrder {
            order_id: id("ord-9"),
            beneficiary_id: id("ben-1"),
            product_id: id("prod-1"),
            channel: OrderChannel::Centre,
            price: money("0.00"),
        },
    );
    assert_eq!(
        decide(&order, &StreamState::Order(OrderState::default()), &context),
        Err(DomainError::AmountNotPositive { field: "price" })
    );
}

#[tokio::test]
async fn a_refund_of_zero_is_refused_naming_the_amount() {
    TestFramework::<OrderState>::with(context())
        .given(vec![
            Event::OrderPlaced(OrderPlaced {
                beneficiary_id: id("ben-1"),
                product_id: id("prod-1"),
                provider_id: id("prov-1"),
                service_family: ServiceFamily::Meals,
                channel: OrderChannel::Centre,
                isee_band: IseeBand::B,
                price: money("7.00"),
            }),
            Event::TokenIssued(TokenIssued {
                token_code: "TK-1".into(),
                provider_id: id("prov-1"),
                notified_to: vec![TokenRecipient::Client],
                expires_on: date("2024-06-30"),
            }),
        ])
        .when_async(submit(
            "2024-01-20T10:00:00+01:00",
            Command::RefundToken {
                order_id: id("ord-1"),
                amount: money("0.00"),
            },
        ))
        .await
        .then_expect_error(DomainError::AmountNotPositive { field: "amount" });
}
