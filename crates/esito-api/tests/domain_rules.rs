//! The domain's value rules over HTTP, on SQLite and on a real PostgreSQL: an amount of zero,
//! an instant finer than a nanosecond, and a flat let to two tenancies at once are each a 422
//! naming the rule and the field, and write nothing; so a flat's occupancy never exceeds 1.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use esito_api::auth::Role;
use esito_domain::events::*;
use esito_domain::{Command, ContractId, Submission};
use esito_store::Store;
use serde_json::{json, Value};

mod router_fixture;
use esito_testkit::{both_stores, id, money, pact, submit, Fresh};
use router_fixture::{key, log_size, register_contract, Answer, Fixture};

const CONTRACT: &str = "rules-contract";

both_stores!(
    fixture = fixture;
    a_rent_payment_of_zero_is_refused_naming_the_amount,
    an_instant_finer_than_a_nanosecond_is_refused_naming_the_field,
    a_flat_is_never_let_to_two_tenancies_at_once_so_its_occupancy_never_exceeds_one,
    voiding_the_end_of_a_tenancy_whose_flat_was_let_again_is_refused,
    a_flat_is_let_only_on_days_it_is_available,
);

/// A Cuneo contract from 2023-07-01 with one flat, `flat-1`, two beneficiaries, and tenancy
/// `ten-a` of `ben-1` in the flat since 2024-01-08, January's rent charged.
fn contract_fixture() -> Vec<Submission> {
    let beneficiary = |name: &str| {
        submit(
            "2023-12-01T09:00:00+01:00",
            Command::RegisterBeneficiary {
                beneficiary_id: id(name),
                isee_band: Some(IseeBand::B),
                household_size: Some(2),
                age_band: Some(AgeBand::From35To64),
                flags: vec![],
            },
        )
    };
    vec![
        register_contract("Rules"),
        submit(
            "2024-01-01T08:00:00+01:00",
            Command::MakeUnitAvailable {
                unit_id: id("flat-1"),
                label: "Via Roma 1".into(),
                lent_by: "Comune".into(),
            },
        ),
        beneficiary("ben-1"),
        beneficiary("ben-2"),
        submit(
            "2024-01-08T10:00:00+01:00",
            Command::StartTenancy {
                tenancy_id: id("ten-a"),
                unit_id: id("flat-1"),
                beneficiary_id: id("ben-1"),
                pact: pact(),
            },
        ),
        submit(
            "2024-01-09T10:00:00+01:00",
            Command::ChargeRent {
                tenancy_id: id("ten-a"),
                month: esito_domain::Month::parse("2024-01").expect("month"),
                amount: money("250.00"),
            },
        ),
    ]
}

async fn fixture(fresh: Fresh) -> Fixture {
    router_fixture::serve(
        fresh,
        &contract(),
        &contract_fixture(),
        esito_api::AppState::new,
    )
    .await
}

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

async fn call(app: &Router, method: &str, path: &str, body: Option<Value>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", key(Role::Operator)))
        .body(body.map_or_else(Body::empty, |body| Body::from(body.to_string())))
        .expect("a request");
    router_fixture::send(app, request).await
}

async fn size(store: &Store) -> u64 {
    log_size(store, &contract()).await
}

fn command(name: &str) -> String {
    format!("/v1/contracts/{CONTRACT}/commands/{name}")
}

/// Sends a command the operator may send; 201, its event id.
async fn accepted(fixture: &Fixture, name: &str, body: Value) -> String {
    let answer = call(&fixture.app, "POST", &command(name), Some(body)).await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{name}: {}",
        answer.text
    );
    answer.json["event_id"]
        .as_str()
        .expect("an event id")
        .to_owned()
}

/// A refusal: 422, the rule's code and the field it names, and nothing written.
async fn refused(fixture: &Fixture, name: &str, body: Value, code: &str, field: &str) {
    let before = size(&fixture.store).await;
    let answer = call(&fixture.app, "POST", &command(name), Some(body)).await;
    assert_eq!(
        (
            answer.status,
            answer.json["code"].as_str(),
            answer.json["field"].as_str()
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some(field)),
        "{name}: {}",
        answer.text
    );
    assert_eq!(
        size(&fixture.store).await,
        before,
        "a refusal writes nothing"
    );
}

async fn a_rent_payment_of_zero_is_refused_naming_the_amount(fixture: Fixture) {
    refused(
        &fixture,
        "record-rent-payment",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0001",
               "occurred_at": "2024-01-20T10:00:00+01:00",
               "tenancy_id": "ten-a", "month": "2024-01", "amount": "0.00"}),
        "amount_not_positive",
        "amount",
    )
    .await;
    accepted(
        &fixture,
        "record-rent-payment",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0002",
               "occurred_at": "2024-01-20T10:00:00+01:00",
               "tenancy_id": "ten-a", "month": "2024-01", "amount": "250.00"}),
    )
    .await;
}

async fn an_instant_finer_than_a_nanosecond_is_refused_naming_the_field(fixture: Fixture) {
    let milestone = |at: &str, event_id: &str| {
        json!({"event_id": event_id, "occurred_at": at,
               "tenancy_id": "ten-a", "milestone": "job_found"})
    };
    refused(
        &fixture,
        "record-tenant-milestone",
        milestone(
            "2024-01-20T10:00:00.123456789012+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0003",
        ),
        "invalid_value",
        "occurred_at",
    )
    .await;
    accepted(
        &fixture,
        "record-tenant-milestone",
        milestone(
            "2024-01-20T10:00:00.123456789+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0004",
        ),
    )
    .await;
    let stored = fixture
        .store
        .entries(&contract(), size(&fixture.store).await - 1, 1)
        .await
        .expect("the entry");
    assert!(
        stored[0]
            .entry
            .contains("\"occurred_at\":\"2024-01-20T10:00:00.123456789+01:00\""),
        "nine places are kept as given: {}",
        stored[0].entry
    );
}

/// The flat's occupancy in 2024-Q1 as the service computes it.
async fn occupancy(fixture: &Fixture) -> String {
    let answer = call(
        &fixture.app,
        "GET",
        &format!("/v1/contracts/{CONTRACT}/indicators?period=2024-Q1"),
        None,
    )
    .await;
    let value = answer.json["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["id"] == "flat_occupancy")
        .expect("flat_occupancy")["value"]
        .as_str()
        .expect("a ratio")
        .to_owned();
    value
}

/// A ratio as the service writes it, six places: at most one.
fn at_most_one(ratio: &str) -> bool {
    ratio == "1.000000" || ratio.starts_with("0.")
}

async fn a_flat_is_never_let_to_two_tenancies_at_once_so_its_occupancy_never_exceeds_one(
    fixture: Fixture,
) {
    let start = |tenancy: &str, beneficiary: &str, at: &str, event_id: &str| {
        json!({"event_id": event_id, "occurred_at": at, "tenancy_id": tenancy,
               "unit_id": "flat-1", "beneficiary_id": beneficiary,
               "pact": {"monthly_rent": "250.00", "rent_cap": "300.00",
                        "housing_accompaniment": true, "financial_education": true}})
    };
    // While ten-a holds the flat, a second tenancy of it is refused.
    refused(
        &fixture,
        "start-tenancy",
        start(
            "ten-b",
            "ben-2",
            "2024-02-01T10:00:00+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0010",
        ),
        "unit_let_twice",
        "unit_id",
    )
    .await;
    // ten-a ends on 1 February; ten-b takes the flat on 15 February.
    let ended = accepted(
        &fixture,
        "end-tenancy",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0011",
               "occurred_at": "2024-02-01T10:00:00+01:00",
               "tenancy_id": "ten-a", "reason": "moved_to_private_market"}),
    )
    .await;
    // A start dated before ten-a's end would let the flat twice in those days.
    refused(
        &fixture,
        "start-tenancy",
        start(
            "ten-b",
            "ben-2",
            "2024-01-25T10:00:00+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0012",
        ),
        "unit_let_twice",
        "unit_id",
    )
    .await;
    accepted(
        &fixture,
        "start-tenancy",
        start(
            "ten-b",
            "ben-2",
            "2024-02-15T10:00:00+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0013",
        ),
    )
    .await;
    // Voiding ten-a's end would leave the flat let to both from 15 February: refused.
    refused(
        &fixture,
        "void-event",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0014",
               "occurred_at": "2024-03-01T10:00:00+01:00",
               "voids": ended, "reason": "recorded by mistake"}),
        "unit_let_twice",
        "voids",
    )
    .await;
    // So is a correction that moves ten-a's end after ten-b's start.
    refused(
        &fixture,
        "correct-event",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0015",
               "occurred_at": "2024-02-20T10:00:00+01:00",
               "corrects": ended,
               "replacement": {"event_type": "TenancyEnded",
                               "payload": {"reason": "moved_to_private_market"}}}),
        "unit_let_twice",
        "corrects",
    )
    .await;
    // A correction that keeps the days apart is accepted.
    accepted(
        &fixture,
        "correct-event",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0016",
               "occurred_at": "2024-02-10T10:00:00+01:00",
               "corrects": ended,
               "replacement": {"event_type": "TenancyEnded",
                               "payload": {"reason": "moved_to_private_market"}}}),
    )
    .await;
    // The flat, available all 91 days of 2024-Q1, let 8 January to 10 February (33 days) and
    // from 15 February (46 days): 79 / 91 = 0.868132.
    let value = occupancy(&fixture).await;
    assert!(at_most_one(&value), "occupancy {value}");
    assert_eq!(value, "0.868132");
}

async fn voiding_the_end_of_a_tenancy_whose_flat_was_let_again_is_refused(fixture: Fixture) {
    // ten-a ends on 1 February, ten-b takes the flat on 15 February; voiding ten-a's end
    // would count both tenancies' days from then on, above the flat's available days.
    let ended = accepted(
        &fixture,
        "end-tenancy",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0021",
               "occurred_at": "2024-02-01T10:00:00+01:00",
               "tenancy_id": "ten-a", "reason": "moved_to_private_market"}),
    )
    .await;
    accepted(
        &fixture,
        "start-tenancy",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0022",
               "occurred_at": "2024-02-15T10:00:00+01:00", "tenancy_id": "ten-b",
               "unit_id": "flat-1", "beneficiary_id": "ben-2",
               "pact": {"monthly_rent": "250.00", "rent_cap": "300.00",
                        "housing_accompaniment": true, "financial_education": true}}),
    )
    .await;
    let before = size(&fixture.store).await;
    let answer = call(
        &fixture.app,
        "POST",
        &command("void-event"),
        Some(json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0023",
                    "occurred_at": "2024-03-01T10:00:00+01:00",
                    "voids": ended, "reason": "recorded by mistake"})),
    )
    .await;
    let value = occupancy(&fixture).await;
    assert_eq!(
        (
            answer.status,
            answer.json["code"].as_str(),
            answer.json["field"].as_str(),
            at_most_one(&value)
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unit_let_twice"),
            Some("voids"),
            true
        ),
        "void: {}; occupancy of 2024-Q1: {value}",
        answer.text
    );
    assert_eq!(
        size(&fixture.store).await,
        before,
        "a refusal writes nothing"
    );
    // 8 January to 1 February (24 days) and from 15 February (46 days) of 91: 0.769231.
    assert_eq!(value, "0.769231");
}

async fn a_flat_is_let_only_on_days_it_is_available(fixture: Fixture) {
    // flat-2 is lent to the programme from 1 February.
    let flat_2 = accepted(
        &fixture,
        "make-unit-available",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0031",
               "occurred_at": "2024-02-01T09:00:00+01:00",
               "unit_id": "flat-2", "label": "Via Roma 2", "lent_by": "Comune"}),
    )
    .await;
    let start = |at: &str, event_id: &str| {
        json!({"event_id": event_id, "occurred_at": at, "tenancy_id": "ten-c",
               "unit_id": "flat-2", "beneficiary_id": "ben-2",
               "pact": {"monthly_rent": "250.00", "rent_cap": "300.00",
                        "housing_accompaniment": true, "financial_education": true}})
    };
    // A tenancy dated before would count occupied days the flat was not available.
    refused(
        &fixture,
        "start-tenancy",
        start(
            "2024-01-20T10:00:00+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0032",
        ),
        "tenancy_before_unit_available",
        "unit_id",
    )
    .await;
    accepted(
        &fixture,
        "start-tenancy",
        start(
            "2024-02-05T10:00:00+01:00",
            "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0033",
        ),
    )
    .await;
    // Nor may the flat's availability move after, or vanish under, a tenancy it holds.
    refused(
        &fixture,
        "correct-event",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0034",
               "occurred_at": "2024-02-10T09:00:00+01:00", "corrects": flat_2,
               "replacement": {"event_type": "UnitMadeAvailable",
                               "payload": {"label": "Via Roma 2", "lent_by": "Comune"}}}),
        "tenancy_before_unit_available",
        "corrects",
    )
    .await;
    refused(
        &fixture,
        "void-event",
        json!({"event_id": "1c9f1f4e-7f55-4f0b-8d0e-5b3f7c1a0035",
               "occurred_at": "2024-03-01T09:00:00+01:00", "voids": flat_2,
               "reason": "recorded by mistake"}),
        "tenancy_before_unit_available",
        "voids",
    )
    .await;
    // flat-1 all 91 days, let 8 January on (84); flat-2 from 1 February (60), let from
    // 5 February (56): 140 / 151 = 0.927152.
    let value = occupancy(&fixture).await;
    assert!(at_most_one(&value), "occupancy {value}");
    assert_eq!(value, "0.927152");
}
