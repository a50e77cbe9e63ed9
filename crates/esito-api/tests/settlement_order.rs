//! Settlements in order and their withdrawal, through the API on SQLite and on a real
//! PostgreSQL: the first settlement is of the contract's first period; the payer withdraws a
//! calculated settlement before it is validated, with a reason, and the period is calculated
//! again; every refusal is a 422 naming the rule and the field, and writes nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use esito_api::auth::Role;
use esito_domain::{ContractId, Submission};
use esito_store::Store;
use serde_json::{json, Value};

mod router_fixture;
use esito_testkit::{both_stores, submit, Fresh};
use router_fixture::{
    centre_access, key, log_size, rate_card_from_the_start, register_contract, with_event_ids,
    Answer, Fixture,
};

const CONTRACT: &str = "ordered-contract";
const SEED: [u8; 32] = [9; 32];

both_stores!(
    fixture = fixture;
    the_first_settlement_is_of_the_first_period_and_a_refused_one_writes_nothing,
    the_payer_withdraws_a_calculated_settlement_with_a_reason_and_it_is_calculated_again,
    a_validated_settlement_is_not_withdrawn_and_a_withdrawal_names_its_reason,
);

/// A contract from 2023-07-01, settled by quarter, paying 10 euro per access to the centre:
/// two accesses in 2023-Q3, one in 2024-Q1.
fn contract_fixture() -> Vec<Submission> {
    vec![
        register_contract("Ordered"),
        submit(
            "2023-07-01T09:05:00+02:00",
            rate_card_from_the_start("centre_accesses", "10", None),
        ),
        centre_access(1, "2023-08-10T10:00:00+02:00"),
        centre_access(2, "2023-09-10T10:00:00+02:00"),
        centre_access(3, "2024-02-10T10:00:00+01:00"),
    ]
}

async fn fixture(fresh: Fresh) -> Fixture {
    let key = esito_log::signing::CheckpointKey::from_seed(SEED);
    router_fixture::serve(fresh, &contract(), &contract_fixture(), |store| {
        esito_api::AppState::with_checkpoint_key(store, key)
    })
    .await
}

async fn call(app: &Router, method: &str, path: &str, role: Role, body: Option<Value>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header(
            "accept",
            if path.ends_with("/html") {
                "text/html"
            } else {
                "application/json"
            },
        )
        .header("authorization", format!("Bearer {}", key(role)))
        .body(
            body.map(with_event_ids)
                .map_or_else(Body::empty, |body| Body::from(body.to_string())),
        )
        .expect("a request");
    router_fixture::send(app, request).await
}

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

/// The log's size and the checkpoints kept: what a refusal must leave as it was.
async fn written(store: &Store) -> (u64, usize) {
    let size = log_size(store, &contract()).await;
    let checkpoints = store
        .checkpoints(&contract())
        .await
        .expect("checkpoints")
        .len();
    (size, checkpoints)
}

fn settlements() -> String {
    format!("/v1/contracts/{CONTRACT}/settlements")
}

fn settlement(period: &str, rest: &str) -> String {
    format!("/v1/contracts/{CONTRACT}/settlements/{period}{rest}")
}

/// Asks for the settlement of `period` as the payer; 201, its `as_of`.
async fn calculate(fixture: &Fixture, period: &str) -> u64 {
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(json!({"period": period})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json["as_of"].as_u64().expect("as_of")
}

/// A refusal: 422, the rule's code and the field it names, and nothing written.
async fn refused(fixture: &Fixture, path: &str, role: Role, body: Value, code: &str, field: &str) {
    let before = written(&fixture.store).await;
    let answer = call(&fixture.app, "POST", path, role, Some(body)).await;
    assert_eq!(
        (
            answer.status,
            answer.json["code"].as_str(),
            answer.json["field"].as_str()
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some(field)),
        "{path}: {}",
        answer.text
    );
    assert_eq!(
        written(&fixture.store).await,
        before,
        "a refusal writes nothing"
    );
}

async fn the_first_settlement_is_of_the_first_period_and_a_refused_one_writes_nothing(
    fixture: Fixture,
) {
    // 2024-Q1 first would leave 2023-Q3 and 2023-Q4 refused for ever: refused, and no
    // checkpoint is signed for it either.
    refused(
        &fixture,
        &settlements(),
        Role::Payer,
        json!({"period": "2024-Q1"}),
        "settlement_period_out_of_order",
        "period",
    )
    .await;
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(json!({"period": "2024-Q1"})),
    )
    .await;
    assert!(
        answer.json["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("2023-07-01")),
        "the refusal names the period expected: {}",
        answer.text
    );
    calculate(&fixture, "2023-Q3").await;
}

async fn the_payer_withdraws_a_calculated_settlement_with_a_reason_and_it_is_calculated_again(
    fixture: Fixture,
) {
    let as_of = calculate(&fixture, "2023-Q3").await;
    let withdraw = settlement("2023-Q3", "/withdraw");
    let body = json!({
        "event_id": "6b0f8a52-2f8e-4f57-9a59-3f0c1d1b7a10",
        "as_of": as_of,
        "reason": "un accesso registrato due volte",
    });
    // The payer's step only.
    for role in [
        Role::Operator,
        Role::Provider,
        Role::Funder,
        Role::Evaluator,
        Role::Admin,
    ] {
        let before = written(&fixture.store).await;
        let answer = call(&fixture.app, "POST", &withdraw, role, Some(body.clone())).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{}: {}",
            role.as_str(),
            answer.text
        );
        assert_eq!(written(&fixture.store).await, before);
    }
    let answer = call(
        &fixture.app,
        "POST",
        &withdraw,
        Role::Payer,
        Some(body.clone()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let position = answer.json["position"].clone();
    // The same event id again is the same event: answered with the original.
    let again = call(&fixture.app, "POST", &withdraw, Role::Payer, Some(body)).await;
    assert_eq!(again.json["position"], position, "{}", again.text);

    let view = call(
        &fixture.app,
        "GET",
        &settlement("2023-Q3", ""),
        Role::Funder,
        None,
    )
    .await;
    assert_eq!(view.json["status"], "withdrawn", "{}", view.text);
    assert_eq!(
        view.json["withdrawn"]["reason"],
        "un accesso registrato due volte"
    );
    assert_eq!(view.json["withdrawn"]["as_of"], as_of);
    let list = call(&fixture.app, "GET", &settlements(), Role::Funder, None).await;
    assert_eq!(
        list.json["settlements"][0]["status"], "withdrawn",
        "{}",
        list.text
    );
    let page = call(
        &fixture.app,
        "GET",
        &settlement("2023-Q3", "/html"),
        Role::Funder,
        None,
    )
    .await;
    assert!(
        page.text
            .contains("Liquidazione ritirata / Settlement withdrawn.")
            && page.text.contains("un accesso registrato due volte"),
        "{}",
        page.text
    );

    // Neither validated nor followed, until it is calculated again.
    refused(
        &fixture,
        &settlement("2023-Q3", "/validate"),
        Role::Evaluator,
        json!({"as_of": as_of}),
        "settlement_withdrawn",
        "period",
    )
    .await;
    refused(
        &fixture,
        &settlements(),
        Role::Payer,
        json!({"period": "2023-Q4"}),
        "previous_settlement_not_approved",
        "period",
    )
    .await;
    let mended = calculate(&fixture, "2023-Q3").await;
    let view = call(
        &fixture.app,
        "GET",
        &settlement("2023-Q3", ""),
        Role::Funder,
        None,
    )
    .await;
    assert_eq!(view.json["status"], "calculated", "{}", view.text);
    assert_eq!(view.json["calculations"], 2);
    assert_eq!(view.json["withdrawn"], Value::Null);
    let answer = call(
        &fixture.app,
        "POST",
        &settlement("2023-Q3", "/validate"),
        Role::Evaluator,
        Some(json!({"as_of": mended})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

async fn a_validated_settlement_is_not_withdrawn_and_a_withdrawal_names_its_reason(
    fixture: Fixture,
) {
    let as_of = calculate(&fixture, "2023-Q3").await;
    let withdraw = settlement("2023-Q3", "/withdraw");
    refused(
        &fixture,
        &withdraw,
        Role::Payer,
        json!({"as_of": as_of, "reason": "  "}),
        "field_empty",
        "reason",
    )
    .await;
    let before = written(&fixture.store).await;
    let answer = call(
        &fixture.app,
        "POST",
        &withdraw,
        Role::Payer,
        Some(json!({"as_of": as_of})),
    )
    .await;
    assert_eq!(
        (answer.json["code"].as_str(), answer.json["field"].as_str()),
        (Some("missing_field"), Some("reason")),
        "{}",
        answer.text
    );
    assert_eq!(written(&fixture.store).await, before);
    let answer = call(
        &fixture.app,
        "POST",
        &settlement("2023-Q3", "/validate"),
        Role::Evaluator,
        Some(json!({"as_of": as_of})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    refused(
        &fixture,
        &withdraw,
        Role::Payer,
        json!({"as_of": as_of, "reason": "too late"}),
        "settlement_not_withdrawable",
        "period",
    )
    .await;
}
