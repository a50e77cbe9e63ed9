//! Beneficiaries and the services centre: updates of circumstances from a date, need
//! assessments and referrals, and the ISEE band an order is priced at.

mod common;

use std::collections::BTreeMap;

use common::*;
use cqrs_es::test::TestFramework;
use esito_domain::aggregates::{BeneficiaryState, OrderState};
use esito_domain::events::*;
use esito_domain::{Command, DomainError, Event, Money};

fn registered() -> Event {
    Event::BeneficiaryRegistered(beneficiary_registration(IseeBand::B))
}

fn update(effective_on: &str, band: Option<IseeBand>, size: Option<u8>) -> Command {
    Command::UpdateBeneficiary {
        beneficiary_id: id("ben-1"),
        effective_on: date(effective_on),
        isee_band: band,
        household_size: size,
        flags: None,
    }
}

fn updated(effective_on: &str, band: IseeBand) -> Event {
    Event::BeneficiaryUpdated(BeneficiaryUpdated {
        effective_on: date(effective_on),
        isee_band: Some(band),
        household_size: None,
        flags: None,
    })
}

fn assessed() -> Event {
    Event::NeedAssessed(NeedAssessed {
        needs: vec![NeedCategory::HomeManagement, NeedCategory::ElderlyCare],
        score: Some(7),
    })
}

// UpdateBeneficiary

#[tokio::test]
async fn a_new_isee_band_is_recorded_from_its_date() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            update("2024-02-01", Some(IseeBand::A), None),
        ))
        .await
        .then_expect_events(vec![updated("2024-02-01", IseeBand::A)]);
}

#[tokio::test]
async fn new_flags_are_recorded_sorted_and_once_each() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            Command::UpdateBeneficiary {
                beneficiary_id: id("ben-1"),
                effective_on: date("2024-02-01"),
                isee_band: None,
                household_size: Some(4),
                flags: Some(vec![
                    VulnerabilityFlag::SingleParent,
                    VulnerabilityFlag::FrailElderly,
                    VulnerabilityFlag::SingleParent,
                ]),
            },
        ))
        .await
        .then_expect_events(vec![Event::BeneficiaryUpdated(BeneficiaryUpdated {
            effective_on: date("2024-02-01"),
            isee_band: None,
            household_size: Some(4),
            flags: Some(vec![
                VulnerabilityFlag::FrailElderly,
                VulnerabilityFlag::SingleParent,
            ]),
        })]);
}

#[tokio::test]
async fn updating_a_beneficiary_never_registered_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            update("2024-02-01", Some(IseeBand::A), None),
        ))
        .await
        .then_expect_error(DomainError::UnknownBeneficiary {
            beneficiary_id: id("ben-1"),
        });
}

#[tokio::test]
async fn an_update_that_changes_nothing_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            update("2024-02-01", None, None),
        ))
        .await
        .then_expect_error(DomainError::UpdateChangesNothing);
}

#[tokio::test]
async fn an_update_to_an_empty_household_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            update("2024-02-01", None, Some(0)),
        ))
        .await
        .then_expect_error(DomainError::HouseholdSizeOutOfRange { household_size: 0 });
}

#[tokio::test]
async fn an_update_dated_before_the_latest_update_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered(), updated("2024-03-01", IseeBand::A)])
        .when_async(submit(
            "2024-03-10T10:00:00+01:00",
            update("2024-02-01", Some(IseeBand::C), None),
        ))
        .await
        .then_expect_error(DomainError::DateBeforeLatestChange {
            field: "effective_on",
            date: date("2024-02-01"),
            latest_on: date("2024-03-01"),
        });
}

#[tokio::test]
async fn an_update_effective_outside_the_contracts_term_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-03-10T10:00:00+01:00",
            update("2025-01-01", Some(IseeBand::C), None),
        ))
        .await
        .then_expect_error(DomainError::FieldDateOutsideContractTerm {
            field: "effective_on",
            date: date("2025-01-01"),
            term_start_on: date("2023-07-01"),
            term_end_on: date("2024-12-31"),
        });
}

#[test]
fn an_order_is_priced_at_the_band_in_force_on_its_day() {
    let beneficiary = state_after(
        StreamType::Beneficiary,
        vec![registered(), updated("2024-02-01", IseeBand::A)],
    );
    let tariffs: BTreeMap<IseeBand, Money> = IseeBand::ALL
        .into_iter()
        .zip(["5.00", "7.00", "9.00", "12.00"])
        .map(|(band, price)| (band, money(price)))
        .collect();
    let product = state_after(
        StreamType::Product,
        vec![Event::ProductListed(ProductListed {
            provider_id: id("prov-1"),
            name: "Pulizie".into(),
            service_family: ServiceFamily::Cleaning,
            tariffs,
        })],
    );
    let context = reading(
        reading(context(), StreamType::Beneficiary, "ben-1", beneficiary),
        StreamType::Product,
        "prod-1",
        product,
    );
    let order = |when: &str, price: &str| {
        submit(
            when,
            Command::PlaceOrder {
                order_id: id("ord-1"),
                beneficiary_id: id("ben-1"),
                product_id: id("prod-1"),
                channel: OrderChannel::Online,
                price: money(price),
            },
        )
    };
    let empty = esito_domain::StreamState::Order(OrderState::default());
    // Before 1 February the band is b (7.00); from then on it is a (5.00).
    assert!(matches!(
        esito_domain::decide(
            &order("2024-01-31T10:00:00+01:00", "7.00"),
            &empty,
            &context
        ),
        Ok(Event::OrderPlaced(OrderPlaced {
            isee_band: IseeBand::B,
            ..
        }))
    ));
    assert_eq!(
        esito_domain::decide(
            &order("2024-02-01T10:00:00+01:00", "7.00"),
            &empty,
            &context
        ),
        Err(DomainError::PriceIsNotTheTariff {
            band: IseeBand::A,
            tariff: money("5.00"),
            price: money("7.00"),
        })
    );
}

// AssessNeed

fn assess(needs: Vec<NeedCategory>) -> Command {
    Command::AssessNeed {
        beneficiary_id: id("ben-1"),
        needs,
        score: Some(7),
    }
}

#[tokio::test]
async fn the_centre_assesses_a_beneficiarys_needs() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            assess(vec![
                NeedCategory::ElderlyCare,
                NeedCategory::HomeManagement,
                NeedCategory::ElderlyCare,
            ]),
        ))
        .await
        .then_expect_events(vec![assessed()]);
}

#[tokio::test]
async fn an_assessment_without_needs_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit("2024-02-10T10:00:00+01:00", assess(vec![])))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "needs" });
}

#[tokio::test]
async fn assessing_a_beneficiary_never_registered_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            assess(vec![NeedCategory::Housing]),
        ))
        .await
        .then_expect_error(DomainError::UnknownBeneficiary {
            beneficiary_id: id("ben-1"),
        });
}

// MakeReferral

fn refer(to_service: &str, reason: &str) -> Command {
    Command::MakeReferral {
        beneficiary_id: id("ben-1"),
        to_service: to_service.into(),
        reason: reason.into(),
    }
}

#[tokio::test]
async fn an_assessed_beneficiary_is_referred_to_a_service_of_the_territory() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered(), assessed()])
        .when_async(submit(
            "2024-02-12T10:00:00+01:00",
            refer("Sportello casa", "ricerca alloggio"),
        ))
        .await
        .then_expect_events(vec![Event::ReferralMade(ReferralMade {
            to_service: "Sportello casa".into(),
            reason: "ricerca alloggio".into(),
        })]);
}

#[tokio::test]
async fn a_referral_before_any_assessment_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered()])
        .when_async(submit(
            "2024-02-12T10:00:00+01:00",
            refer("Sportello casa", "ricerca alloggio"),
        ))
        .await
        .then_expect_error(DomainError::ReferralWithoutAssessment {
            beneficiary_id: id("ben-1"),
        });
}

#[tokio::test]
async fn a_referral_to_no_service_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered(), assessed()])
        .when_async(submit(
            "2024-02-12T10:00:00+01:00",
            refer(" ", "ricerca alloggio"),
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty {
            field: "to_service",
        });
}

#[tokio::test]
async fn a_referral_without_a_reason_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered(), assessed()])
        .when_async(submit(
            "2024-02-12T10:00:00+01:00",
            refer("Sportello casa", ""),
        ))
        .await
        .then_expect_error(DomainError::FieldEmpty { field: "reason" });
}

#[tokio::test]
async fn referring_a_beneficiary_never_registered_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-02-12T10:00:00+01:00",
            refer("Sportello casa", "ricerca alloggio"),
        ))
        .await
        .then_expect_error(DomainError::UnknownBeneficiary {
            beneficiary_id: id("ben-1"),
        });
}

#[test]
fn a_stored_referral_with_no_assessment_before_it_does_not_replay() {
    let history = vec![
        recorded(registered()),
        recorded(Event::ReferralMade(ReferralMade {
            to_service: "Sportello casa".into(),
            reason: "x".into(),
        })),
    ];
    assert!(matches!(
        esito_domain::replay(StreamType::Beneficiary, &history),
        Err(DomainError::EventInconsistentWithStream { .. })
    ));
}

// EraseIdentity

#[tokio::test]
async fn erasing_a_registered_beneficiarys_identity_records_only_the_erasure() {
    TestFramework::<BeneficiaryState>::with(context())
        .given(vec![registered(), assessed()])
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            Command::EraseIdentity {
                beneficiary_id: id("ben-1"),
            },
        ))
        .await
        .then_expect_events(vec![Event::IdentityErased(IdentityErased {})]);
}

#[tokio::test]
async fn erasing_the_identity_of_a_beneficiary_never_registered_is_refused() {
    TestFramework::<BeneficiaryState>::with(context())
        .given_no_previous_events()
        .when_async(submit(
            "2024-02-10T10:00:00+01:00",
            Command::EraseIdentity {
                beneficiary_id: id("ben-1"),
            },
        ))
        .await
        .then_expect_error(DomainError::UnknownBeneficiary {
            beneficiary_id: id("ben-1"),
        });
}

#[test]
fn an_erasure_leaves_the_beneficiarys_state_as_it_was() {
    use esito_domain::aggregates::StreamState;
    let mut before = StreamState::empty(StreamType::Beneficiary);
    for event in [registered(), assessed()] {
        before.evolve(&event).expect("follows");
    }
    let mut after = before.clone();
    after
        .evolve(&Event::IdentityErased(IdentityErased {}))
        .expect("an erasure follows a registration");
    assert_eq!(after, before);
    let mut never = StreamState::empty(StreamType::Beneficiary);
    assert!(never
        .evolve(&Event::IdentityErased(IdentityErased {}))
        .is_err());
}
