//! The rules of the aggregates: given events, when a command, then an event or the broken rule.

use std::collections::BTreeMap;

use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{Contract, ContractState, OrderState, StreamState, TenancyState};
use esito_domain::events::*;
use esito_domain::{
    decide, replay, Command, DecisionContext, DomainError, Event, Recorded, Submission,
};
use esito_domain::{EventId, Money, Month};

mod common;
use common::{active_tenancy, at, id, money, submit};

fn contract() -> ContractState {
    ContractState::Registered(Box::new(Contract {
        registered: ContractRegistered {
            title: "Communal Living".into(),
            template: "cuneo".into(),
            definitions: None,
            definitions_sha256: None,
            payer: "Comune di Cuneo".into(),
            funder: Some("CRC Innova".into()),
            operator: "Open House".into(),
            evaluator: "Valutatore indipendente".into(),
            term_start_on: "2023-07-01".parse().expect("date"),
            term_end_on: "2024-12-31".parse().expect("date"),
            period_kind: PeriodKind::Quarter,
            procurement: Default::default(),
        },
        amendments: Vec::new(),
    }))
}

fn context() -> DecisionContext {
    DecisionContext {
        contract: contract(),
        ..Default::default()
    }
}

fn placed_order() -> Vec<Event> {
    vec![
        Event::OrderPlaced(OrderPlaced {
            beneficiary_id: id("ben-1"),
            product_id: id("prod-1"),
            provider_id: id("prov-1"),
            service_family: ServiceFamily::Meals,
            channel: OrderChannel::Online,
            isee_band: IseeBand::A,
            price: money("6.50"),
        }),
        Event::TokenIssued(TokenIssued {
            token_code: "TK-1".into(),
            provider_id: id("prov-1"),
            notified_to: vec![
                TokenRecipient::Client,
                TokenRecipient::Centre,
                TokenRecipient::Provider,
            ],
            expires_on: "2024-03-31".parse().expect("date"),
        }),
    ]
}

fn delivery(provider: &str) -> Submission {
    submit(
        "2024-02-10T11:00:00+01:00",
        Command::RecordDelivery {
            order_id: id("ord-1"),
            provider_id: id(provider),
        },
    )
}

#[tokio::test]
async fn a_token_is_redeemed_by_its_provider() {
    TestFramework::<OrderState>::with(context())
        .given(placed_order())
        .when_async(delivery("prov-1"))
        .await
        .then_expect_events(vec![Event::TokenRedeemed(TokenRedeemed {
            provider_id: id("prov-1"),
        })]);
}

#[tokio::test]
async fn delivering_a_token_twice_is_refused() {
    let mut history = placed_order();
    history.push(Event::TokenRedeemed(TokenRedeemed {
        provider_id: id("prov-1"),
    }));
    TestFramework::<OrderState>::with(context())
        .given(history)
        .when_async(delivery("prov-1"))
        .await
        .then_expect_error(DomainError::TokenAlreadyRedeemed {
            order_id: id("ord-1"),
        });
}

#[tokio::test]
async fn a_delivery_by_another_provider_is_refused() {
    TestFramework::<OrderState>::with(context())
        .given(placed_order())
        .when_async(delivery("prov-2"))
        .await
        .then_expect_error(DomainError::TokenDeliveredByAnotherProvider {
            token_provider_id: id("prov-1"),
            provider_id: id("prov-2"),
        });
}

#[tokio::test]
async fn a_date_outside_the_contracts_term_is_refused() {
    let late = submit(
        "2025-01-01T00:30:00+01:00",
        Command::RecordDelivery {
            order_id: id("ord-1"),
            provider_id: id("prov-1"),
        },
    );
    TestFramework::<OrderState>::with(context())
        .given(placed_order())
        .when_async(late)
        .await
        .then_expect_error(DomainError::DateOutsideContractTerm {
            date: "2025-01-01".parse().expect("date"),
            term_start_on: "2023-07-01".parse().expect("date"),
            term_end_on: "2024-12-31".parse().expect("date"),
        });
}

/// The tenancy of `active_tenancy`, ended.
fn ended_tenancy() -> Vec<Event> {
    let mut events = active_tenancy();
    events.push(Event::TenancyEnded(TenancyEnded {
        reason: TenancyEndReason::MovedToPrivateMarket,
    }));
    events
}

#[tokio::test]
async fn rent_on_an_ended_tenancy_is_refused() {
    let payment = submit(
        "2024-02-01T09:00:00+01:00",
        Command::RecordRentPayment {
            tenancy_id: id("ten-1"),
            month: Month::parse("2024-01").expect("month"),
            amount: money("250.00"),
        },
    );
    TestFramework::<TenancyState>::with(context())
        .given(ended_tenancy())
        .when_async(payment)
        .await
        .then_expect_error(DomainError::TenancyEnded {
            tenancy_id: id("ten-1"),
        });
}

#[test]
fn an_order_at_a_price_other_than_the_bands_tariff_is_refused() {
    let mut context = context();
    context.reads.insert(
        StreamRef::new(StreamType::Beneficiary, id("ben-1")),
        StreamState::Beneficiary(esito_domain::aggregates::BeneficiaryState::Registered(
            esito_domain::aggregates::Beneficiary::new(BeneficiaryRegistered {
                isee_band: Some(IseeBand::B),
                household_size: Some(2),
                age_band: Some(AgeBand::From65To79),
                flags: vec![],
            }),
        )),
    );
    let tariffs: BTreeMap<IseeBand, Money> = [
        (IseeBand::A, "5.00"),
        (IseeBand::B, "7.00"),
        (IseeBand::C, "9.00"),
        (IseeBand::D, "12.00"),
    ]
    .into_iter()
    .map(|(band, price)| (band, money(price)))
    .collect();
    context.reads.insert(
        StreamRef::new(StreamType::Product, id("prod-1")),
        StreamState::Product(esito_domain::aggregates::ProductState::Listed {
            listed: ProductListed {
                provider_id: id("prov-1"),
                name: "Pasto a domicilio".into(),
                service_family: ServiceFamily::Meals,
                tariffs,
            },
            price_changes: Vec::new(),
        }),
    );
    let order = |price: &str| {
        submit(
            "2024-01-15T10:00:00+01:00",
            Command::PlaceOrder {
                order_id: id("ord-9"),
                beneficiary_id: id("ben-1"),
                product_id: id("prod-1"),
                channel: OrderChannel::Centre,
                price: money(price),
            },
        )
    };
    let empty = StreamState::Order(OrderState::default());
    assert_eq!(
        decide(&order("5.00"), &empty, &context),
        Err(DomainError::PriceIsNotTheTariff {
            band: IseeBand::B,
            tariff: money("7.00"),
            price: money("5.00")
        })
    );
    let placed = decide(&order("7.00"), &empty, &context).expect("the band's tariff is accepted");
    assert!(matches!(
        placed,
        Event::OrderPlaced(OrderPlaced {
            isee_band: IseeBand::B,
            ..
        })
    ));
}

fn recorded(event: Event) -> Recorded {
    Recorded {
        event_id: EventId::new_v4(),
        corrects: None,
        occurred_at: at("2024-01-10T10:00:00+01:00"),
        event,
    }
}

#[test]
fn a_voided_redemption_makes_the_token_redeemable_again() {
    let mut history: Vec<Recorded> = placed_order().into_iter().map(recorded).collect();
    let redemption = recorded(Event::TokenRedeemed(TokenRedeemed {
        provider_id: id("prov-1"),
    }));
    let redemption_id = redemption.event_id;
    history.push(redemption);
    let void = submit(
        "2024-02-11T09:00:00+01:00",
        Command::VoidEvent {
            voids: redemption_id,
            reason: "wrong token".into(),
        },
    );
    let target = replay(StreamType::Order, &history).expect("consistent");
    let void_context = DecisionContext {
        target_history: history.clone(),
        ..context()
    };
    let event = decide(&void, &target, &void_context).expect("a redemption can be voided");
    history.push(Recorded {
        event_id: void.event_id,
        corrects: Some(redemption_id),
        occurred_at: void.occurred_at,
        event,
    });
    let after = replay(StreamType::Order, &history).expect("consistent");
    assert_eq!(
        decide(&delivery("prov-1"), &after, &context()).map(|e| e.event_type()),
        Ok("TokenRedeemed")
    );
}

#[test]
fn voiding_a_token_that_was_redeemed_is_refused_because_the_redemption_would_dangle() {
    let mut history: Vec<Recorded> = placed_order().into_iter().map(recorded).collect();
    let token_id = history[1].event_id;
    history.push(recorded(Event::TokenRedeemed(TokenRedeemed {
        provider_id: id("prov-1"),
    })));
    let target = replay(StreamType::Order, &history).expect("consistent");
    let context = DecisionContext {
        target_history: history,
        ..context()
    };
    let void = submit(
        "2024-02-11T09:00:00+01:00",
        Command::VoidEvent {
            voids: token_id,
            reason: "mistake".into(),
        },
    );
    assert!(matches!(
        decide(&void, &target, &context),
        Err(DomainError::CorrectionBreaksStream { .. })
    ));
}

#[test]
fn a_correction_must_keep_the_event_type() {
    let history: Vec<Recorded> = placed_order().into_iter().map(recorded).collect();
    let target = replay(StreamType::Order, &history).expect("consistent");
    let placed_id = history[0].event_id;
    let context = DecisionContext {
        target_history: history,
        ..context()
    };
    let correction = submit(
        "2024-02-11T09:00:00+01:00",
        Command::CorrectEvent {
            corrects: placed_id,
            replacement: Event::TokenExpired(TokenExpired {}),
        },
    );
    assert_eq!(
        decide(&correction, &target, &context),
        Err(DomainError::CorrectionChangesEventType {
            original: "OrderPlaced".into(),
            replacement: "TokenExpired".into()
        })
    );
}

#[test]
fn a_command_with_an_amount_of_three_decimals_does_not_parse_and_names_the_rule() {
    let body = serde_json::json!({
        "event_id": "6f1c1c64-5d0e-4c55-9a59-0f5b4b8f8a11",
        "occurred_at": "2024-02-01T09:00:00+01:00",
        "command": {"type": "RecordRentPayment", "tenancy_id": "ten-1", "month": "2024-01", "amount": "250.005"}
    });
    let error = serde_json::from_value::<Submission>(body).expect_err("three decimals");
    assert!(
        error.to_string().contains("at most 2 decimal places"),
        "{error}"
    );
    let negative = serde_json::json!({
        "event_id": "6f1c1c64-5d0e-4c55-9a59-0f5b4b8f8a11",
        "occurred_at": "2024-02-01T09:00:00+01:00",
        "command": {"type": "RefundToken", "order_id": "ord-1", "amount": "-3.00"}
    });
    let error = serde_json::from_value::<Submission>(negative).expect_err("negative");
    assert!(
        error.to_string().contains("must not be negative"),
        "{error}"
    );
}

#[test]
fn a_command_with_an_unknown_field_is_refused() {
    let body = serde_json::json!({
        "event_id": "6f1c1c64-5d0e-4c55-9a59-0f5b4b8f8a11",
        "occurred_at": "2024-02-01T09:00:00+01:00",
        "command": {"type": "ExpireToken", "order_id": "ord-1", "colour": "blue"}
    });
    let error = serde_json::from_value::<Submission>(body).expect_err("unknown field");
    assert!(error.to_string().contains("unknown field"), "{error}");
}
