//! A token's money: the client pays its band's tariff, the provider is paid the full tariff for
//! the delivered token, and the difference is the solidarity cover; the bands' thresholds and
//! shares are the contract's tariff terms.
//!
//! The contract of `common` with tariff terms from 2023-07-01 (the demo's assumption): band a
//! below 8,000 euro of ISEE pays 50 % of the full tariff, b below 15,000 70 %, c below 25,000
//! 85 %, d the rest 100 %. The order: `ord-1`, band b, 7.00 euro, its token redeemed by
//! `prov-1`; its full tariff is 10.00 (0.7 × 10.00 = 7.00).

mod common;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::OrderState;
use esito_domain::events::*;
use esito_domain::terms::{BandTariff, TariffTerms};
use esito_domain::{decide, Command, DecisionContext, DomainError, Event, StreamState};

fn band(band: IseeBand, isee_below: Option<&str>, tariff_share: &str) -> BandTariff {
    BandTariff {
        band,
        isee_below: isee_below.map(money),
        tariff_share: share(tariff_share),
    }
}

fn tariff_terms(b_share: &str) -> TariffTerms {
    TariffTerms {
        bands: vec![
            band(IseeBand::A, Some("8000.00"), "0.5"),
            band(IseeBand::B, Some("15000.00"), b_share),
            band(IseeBand::C, Some("25000.00"), "0.85"),
            band(IseeBand::D, None, "1"),
        ],
    }
}

/// The contract with the tariff terms whose band b pays `b_share`.
fn context_with_shares(b_share: &str) -> DecisionContext {
    context_with(contract_after(vec![
        Event::ContractRegistered(registration()),
        Event::ContractAmended(ContractAmended {
            effective_on: date("2023-07-01"),
            changes: vec![esito_domain::ContractChange::TariffTerms {
                tariff_terms: tariff_terms(b_share),
            }],
        }),
    ]))
}

fn framework() -> TestFramework<OrderState> {
    TestFramework::<OrderState>::with(context_with_shares("0.7"))
}

fn placed() -> Event {
    Event::OrderPlaced(OrderPlaced {
        beneficiary_id: id("ben-1"),
        product_id: id("prod-1"),
        provider_id: id("prov-1"),
        service_family: ServiceFamily::Meals,
        channel: OrderChannel::Centre,
        isee_band: IseeBand::B,
        price: money("7.00"),
    })
}

fn issued() -> Event {
    Event::TokenIssued(TokenIssued {
        token_code: "TK-1".into(),
        provider_id: id("prov-1"),
        notified_to: vec![TokenRecipient::Client, TokenRecipient::Provider],
        expires_on: date("2024-06-30"),
    })
}

fn redeemed() -> Event {
    Event::TokenRedeemed(TokenRedeemed {
        provider_id: id("prov-1"),
    })
}

fn client_paid() -> Event {
    Event::ClientPaymentRecorded(ClientPaymentRecorded {
        amount: money("7.00"),
        isee_band: IseeBand::B,
    })
}

fn provider_paid() -> Event {
    Event::ProviderPaymentRecorded(ProviderPaymentRecorded {
        provider_id: id("prov-1"),
        amount: money("10.00"),
        isee_band: IseeBand::B,
        tariff_share: share("0.7"),
    })
}

fn pay_client(amount: &str) -> esito_domain::Submission {
    submit(
        "2024-02-01T10:00:00+01:00",
        Command::RecordClientPayment {
            order_id: id("ord-1"),
            amount: money(amount),
        },
    )
}

fn pay_provider(provider: &str, amount: &str) -> esito_domain::Submission {
    submit(
        "2024-02-20T10:00:00+01:00",
        Command::RecordProviderPayment {
            order_id: id("ord-1"),
            provider_id: id(provider),
            amount: money(amount),
        },
    )
}

fn cover(covered_by: &str, amount: &str) -> esito_domain::Submission {
    submit(
        "2024-02-21T10:00:00+01:00",
        Command::RecordSolidarityCover {
            order_id: id("ord-1"),
            covered_by: covered_by.into(),
            amount: money(amount),
        },
    )
}

/// The rule `decide` breaks, with the field it names, for an order in the state after `given`.
fn refusal(
    context: &DecisionContext,
    given: Vec<Event>,
    submission: esito_domain::Submission,
) -> (DomainError, Option<&'static str>) {
    let mut state = StreamState::Order(OrderState::default());
    for event in given {
        state.evolve(&event).expect("a consistent order");
    }
    let error = decide(&submission, &state, context).expect_err("refused");
    let field = error.field();
    (error, field)
}

#[tokio::test]
async fn the_client_pays_the_orders_tariff_once() {
    framework()
        .given(vec![placed()])
        .when_async(pay_client("7.00"))
        .await
        .then_expect_events(vec![client_paid()]);
    framework()
        .given(vec![placed(), issued(), redeemed(), client_paid()])
        .when_async(pay_client("7.00"))
        .await
        .then_expect_error(DomainError::ClientAlreadyPaid {
            order_id: id("ord-1"),
        });
}

#[test]
fn a_client_payment_that_is_not_the_tariff_is_refused_naming_the_amount() {
    let context = context_with_shares("0.7");
    assert_eq!(
        refusal(&context, vec![placed()], pay_client("10.00")),
        (
            DomainError::ClientPaymentIsNotTheTariff {
                amount: money("10.00"),
                price: money("7.00"),
            },
            Some("amount")
        )
    );
    assert_eq!(
        refusal(&context, vec![placed()], pay_client("0.00")),
        (
            DomainError::AmountNotPositive { field: "amount" },
            Some("amount")
        )
    );
    assert_eq!(
        refusal(&context, vec![], pay_client("7.00")).0,
        DomainError::UnknownOrder {
            order_id: id("ord-1")
        }
    );
    let cancelled = Event::OrderCancelled(OrderCancelled {
        reason: "chiesto dal cliente".into(),
    });
    assert_eq!(
        refusal(&context, vec![placed(), cancelled], pay_client("7.00")).0,
        DomainError::OrderCancelled {
            order_id: id("ord-1")
        }
    );
}

#[tokio::test]
async fn the_provider_is_paid_the_full_tariff_of_a_redeemed_token() {
    // 0.7 × 10.00 = 7.00, the order's tariff: 10.00 is the full tariff.
    framework()
        .given(vec![placed(), issued(), redeemed()])
        .when_async(pay_provider("prov-1", "10.00"))
        .await
        .then_expect_events(vec![provider_paid()]);
    framework()
        .given(vec![placed(), issued(), redeemed(), provider_paid()])
        .when_async(pay_provider("prov-1", "10.00"))
        .await
        .then_expect_error(DomainError::ProviderAlreadyPaid {
            order_id: id("ord-1"),
        });
}

#[test]
fn a_providers_pay_is_refused_naming_its_field_when_it_breaks_a_rule() {
    let context = context_with_shares("0.7");
    // 0.7 × 9.00 = 6.30, not the 7.00 the client's band pays.
    assert_eq!(
        refusal(
            &context,
            vec![placed(), issued(), redeemed()],
            pay_provider("prov-1", "9.00")
        ),
        (
            DomainError::ProviderPayIsNotTheFullTariff {
                amount: money("9.00"),
                band: IseeBand::B,
                share: share("0.7").value(),
                client_tariff: money("6.30"),
                price: money("7.00"),
            },
            Some("amount")
        )
    );
    assert_eq!(
        refusal(
            &context,
            vec![placed(), issued(), redeemed()],
            pay_provider("prov-2", "10.00")
        ),
        (
            DomainError::PaidProviderIsNotTheTokens {
                token_provider_id: id("prov-1"),
                provider_id: id("prov-2"),
            },
            Some("provider_id")
        )
    );
    assert_eq!(
        refusal(
            &context,
            vec![placed(), issued()],
            pay_provider("prov-1", "10.00")
        )
        .0,
        DomainError::TokenNotRedeemed {
            order_id: id("ord-1")
        }
    );
    // A contract without tariff terms has no shares to check the pay by.
    assert_eq!(
        refusal(
            &context_with(contract()),
            vec![placed(), issued(), redeemed()],
            pay_provider("prov-1", "10.00")
        )
        .0,
        DomainError::TariffTermsMissing
    );
}

#[test]
fn the_bands_shares_and_thresholds_are_read_from_the_terms() {
    // Band b at half the full tariff: 7.00 is half of 14.00, and 10.00 is no longer the full
    // tariff.
    let half = context_with_shares("0.5");
    let given = || vec![placed(), issued(), redeemed()];
    let mut state = StreamState::Order(OrderState::default());
    for event in given() {
        state.evolve(&event).expect("consistent");
    }
    let event = decide(&pay_provider("prov-1", "14.00"), &state, &half).expect("accepted");
    assert_eq!(
        event,
        Event::ProviderPaymentRecorded(ProviderPaymentRecorded {
            provider_id: id("prov-1"),
            amount: money("14.00"),
            isee_band: IseeBand::B,
            tariff_share: share("0.5"),
        })
    );
    assert_eq!(
        refusal(&half, given(), pay_provider("prov-1", "10.00")).1,
        Some("amount")
    );
    // The thresholds: below 8,000 band a, from 8,000 band b, …, from 25,000 band d.
    let terms = tariff_terms("0.7");
    for (isee, expected) in [
        ("0.00", IseeBand::A),
        ("7999.99", IseeBand::A),
        ("8000.00", IseeBand::B),
        ("14999.99", IseeBand::B),
        ("15000.00", IseeBand::C),
        ("24999.99", IseeBand::C),
        ("25000.00", IseeBand::D),
        ("90000.00", IseeBand::D),
    ] {
        assert_eq!(terms.band_for(money(isee)), expected, "ISEE {isee}");
    }
    let mut lower = terms.clone();
    lower.bands[0].isee_below = Some(money("6000.00"));
    assert_eq!(lower.band_for(money("7000.00")), IseeBand::B);
    assert_eq!(terms.share(IseeBand::C), share("0.85"));
}

#[test]
fn tariff_terms_that_break_a_rule_are_refused_naming_the_field() {
    let refused = |edit: fn(&mut TariffTerms)| {
        let mut terms = tariff_terms("0.7");
        edit(&mut terms);
        let command = submit(
            "2023-07-01T09:00:00+02:00",
            Command::AmendContract {
                effective_on: date("2023-07-01"),
                changes: vec![esito_domain::ContractChange::TariffTerms {
                    tariff_terms: terms,
                }],
            },
        );
        let state = StreamState::Contract(contract());
        let error = decide(&command, &state, &context()).expect_err("refused");
        (error.code(), error.field())
    };
    assert_eq!(
        refused(|terms| terms.bands.swap(0, 1)),
        ("tariff_bands_invalid", Some("tariff_terms.bands.band"))
    );
    assert_eq!(
        refused(|terms| {
            terms.bands.pop();
        }),
        ("tariff_bands_invalid", Some("tariff_terms.bands.band"))
    );
    assert_eq!(
        refused(|terms| terms.bands[1].isee_below = None),
        (
            "tariff_bands_invalid",
            Some("tariff_terms.bands.isee_below")
        )
    );
    assert_eq!(
        refused(|terms| terms.bands[2].isee_below = Some(money("9000.00"))),
        (
            "tariff_bands_invalid",
            Some("tariff_terms.bands.isee_below")
        )
    );
    assert_eq!(
        refused(|terms| terms.bands[3].tariff_share = share("0.95")),
        (
            "tariff_bands_invalid",
            Some("tariff_terms.bands.tariff_share")
        )
    );
    assert_eq!(
        refused(|terms| terms.bands[1].tariff_share = share("0.4")),
        (
            "tariff_bands_invalid",
            Some("tariff_terms.bands.tariff_share")
        )
    );
    // The terms as they are amend the contract.
    let command = submit(
        "2023-07-01T09:00:00+02:00",
        Command::AmendContract {
            effective_on: date("2023-07-01"),
            changes: vec![esito_domain::ContractChange::TariffTerms {
                tariff_terms: tariff_terms("0.7"),
            }],
        },
    );
    decide(&command, &StreamState::Contract(contract()), &context()).expect("accepted");
}

#[tokio::test]
async fn the_solidarity_cover_is_the_difference_and_says_who_covers_it() {
    framework()
        .given(vec![
            placed(),
            issued(),
            redeemed(),
            client_paid(),
            provider_paid(),
        ])
        .when_async(cover("Comune di Cuneo", "3.00"))
        .await
        .then_expect_events(vec![Event::SolidarityCoverRecorded(
            SolidarityCoverRecorded {
                covered_by: "Comune di Cuneo".into(),
                amount: money("3.00"),
                isee_band: IseeBand::B,
            },
        )]);
}

#[test]
fn a_solidarity_cover_is_refused_naming_its_field_when_it_breaks_a_rule() {
    let context = context_with_shares("0.7");
    let paid = || {
        vec![
            placed(),
            issued(),
            redeemed(),
            client_paid(),
            provider_paid(),
        ]
    };
    assert_eq!(
        refusal(&context, paid(), cover("Comune di Cuneo", "2.00")),
        (
            DomainError::SolidarityCoverIsNotTheDifference {
                amount: money("2.00"),
                expected: money("3.00"),
            },
            Some("amount")
        )
    );
    assert_eq!(
        refusal(&context, paid(), cover(" ", "3.00")),
        (
            DomainError::FieldEmpty {
                field: "covered_by"
            },
            Some("covered_by")
        )
    );
    assert_eq!(
        refusal(
            &context,
            vec![placed(), issued(), redeemed(), client_paid()],
            cover("Comune di Cuneo", "3.00")
        )
        .0,
        DomainError::SolidarityCoverBeforePayments {
            order_id: id("ord-1")
        }
    );
    let mut covered = paid();
    covered.push(Event::SolidarityCoverRecorded(SolidarityCoverRecorded {
        covered_by: "Comune di Cuneo".into(),
        amount: money("3.00"),
        isee_band: IseeBand::B,
    }));
    assert_eq!(
        refusal(&context, covered, cover("Comune di Cuneo", "3.00")).0,
        DomainError::SolidarityCoverAlreadyRecorded {
            order_id: id("ord-1")
        }
    );
}

#[test]
fn the_tokens_money_is_kept_through_the_orders_states() {
    let mut state = StreamState::Order(OrderState::default());
    for event in [
        placed(),
        client_paid(),
        issued(),
        redeemed(),
        provider_paid(),
    ] {
        state.evolve(&event).expect("consistent");
    }
    let StreamState::Order(order) = state else {
        panic!("an order");
    };
    let money = order.money().expect("placed");
    assert_eq!(
        money.client_paid.as_ref().map(|paid| paid.amount),
        Some(common::money("7.00"))
    );
    assert_eq!(
        money.provider_paid.as_ref().map(|paid| paid.amount),
        Some(common::money("10.00"))
    );
    assert!(matches!(order, OrderState::Redeemed { .. }));
}

#[test]
fn a_bands_tariff_may_lie_one_cent_from_its_share_of_the_rounded_full_tariff() {
    // The demo's meal: an unrounded full tariff of 7.2222… gives 7.22 to band d and 5.06 to
    // band b (0.7 × 7.2222… = 5.0556); 0.7 × 7.22 = 5.054 → 5.05, one cent from 5.06.
    let context = context_with_shares("0.7");
    let placed_at = |price: &str| {
        Event::OrderPlaced(OrderPlaced {
            beneficiary_id: id("ben-1"),
            product_id: id("prod-1"),
            provider_id: id("prov-1"),
            service_family: ServiceFamily::Meals,
            channel: OrderChannel::Centre,
            isee_band: IseeBand::B,
            price: money(price),
        })
    };
    let mut state = StreamState::Order(OrderState::default());
    for event in [placed_at("5.06"), issued(), redeemed()] {
        state.evolve(&event).expect("consistent");
    }
    decide(&pay_provider("prov-1", "7.22"), &state, &context).expect("one cent off: accepted");
    // 0.7 × 7.20 = 5.04: two cents from 5.06.
    assert_eq!(
        decide(&pay_provider("prov-1", "7.20"), &state, &context)
            .expect_err("refused")
            .code(),
        "provider_pay_is_not_the_full_tariff"
    );
}
