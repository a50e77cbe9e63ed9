//! Settlements through the API, on SQLite and on a real PostgreSQL: each step by its role only,
//! the rules that order the steps, the checkpoint signed of the pinned tree head, the JSON and
//! the printable page, and the same document as the offline computation from the export.

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

const CONTRACT: &str = "settled-contract";
const SEED: [u8; 32] = [7; 32];

both_stores!(
    fixture = fixture;
    each_step_of_a_settlement_is_taken_by_its_role_only,
    the_steps_come_in_order_and_each_names_the_rule_it_breaks,
    a_settlement_reads_as_json_and_as_a_printable_page,
    the_service_and_the_offline_computation_agree_and_a_late_event_is_restated,
    a_calculation_or_a_step_retried_under_its_event_id_is_recorded_once,
);

/// A contract settled by quarter that pays 10 euro per access to the centre, at most 60 euro a
/// quarter: five accesses in 2023-Q3, three in 2023-Q4.
fn contract_fixture() -> Vec<Submission> {
    let mut submissions = vec![
        register_contract("Settled"),
        submit(
            "2023-07-01T09:05:00+02:00",
            rate_card_from_the_start("centre_accesses", "10", Some("60.00")),
        ),
    ];
    for n in 0..5 {
        submissions.push(centre_access(n, "2023-08-10T10:00:00+02:00"));
    }
    for n in 5..8 {
        submissions.push(centre_access(n, "2023-11-10T10:00:00+01:00"));
    }
    submissions
}

async fn fixture(fresh: Fresh) -> Fixture {
    let contract = ContractId::parse(CONTRACT).expect("valid");
    let key = esito_log::signing::CheckpointKey::from_seed(SEED);
    router_fixture::serve(fresh, &contract, &contract_fixture(), |store| {
        esito_api::AppState::with_checkpoint_key(store, key)
    })
    .await
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    role: Role,
    body: Option<Value>,
    accept: Option<&str>,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", key(role)));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let body = body.map(with_event_ids);
    let request = request
        .body(body.map_or_else(Body::empty, |body| Body::from(body.to_string())))
        .expect("a request");
    let answer = router_fixture::send(app, request).await;
    if answer.status.is_client_error() || answer.status.is_server_error() {
        assert_eq!(
            answer.content_type, "application/problem+json",
            "{}: {}",
            answer.status, answer.text
        );
    }
    answer
}

async fn size(store: &Store) -> u64 {
    log_size(store, &ContractId::parse(CONTRACT).expect("valid")).await
}

fn settlements() -> String {
    format!("/v1/contracts/{CONTRACT}/settlements")
}

fn step(period: &str, step: &str) -> String {
    format!("/v1/contracts/{CONTRACT}/settlements/{period}/{step}")
}

/// Asks for the settlement of `period` as the payer; the answer must be 201.
async fn calculate(fixture: &Fixture, period: &str) -> Value {
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(json!({"period": period})),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json
}

/// Validates, approves and pays the settlement of `period`, each by its role.
async fn validate_approve_pay(fixture: &Fixture, period: &str, as_of: u64) {
    for (name, role, body) in [
        ("validate", Role::Evaluator, json!({"as_of": as_of})),
        ("approve", Role::Payer, json!({"as_of": as_of})),
        (
            "pay",
            Role::Payer,
            json!({"paid_on": "2025-01-20", "reference": "mandato 7"}),
        ),
    ] {
        let answer = call(
            &fixture.app,
            "POST",
            &step(period, name),
            role,
            Some(body),
            None,
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{name}: {}",
            answer.text
        );
    }
}

/// Every role but `allowed` is refused with 403 and writes nothing.
async fn only(fixture: &Fixture, allowed: &[Role], path: &str, body: Value) -> Option<Answer> {
    let mut permitted = None;
    for role in Role::ALL {
        let before = size(&fixture.store).await;
        let answer = call(&fixture.app, "POST", path, role, Some(body.clone()), None).await;
        if allowed.contains(&role) {
            assert!(
                answer.status.is_success(),
                "{path} by {}: {}",
                role.as_str(),
                answer.text
            );
            permitted = Some(answer);
        } else {
            assert_eq!(
                (answer.status, answer.json["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{path} by {}",
                role.as_str()
            );
            assert_eq!(
                size(&fixture.store).await,
                before,
                "a refusal writes nothing"
            );
        }
    }
    permitted
}

async fn each_step_of_a_settlement_is_taken_by_its_role_only(fixture: Fixture) {
    let head = size(&fixture.store).await;
    // The payer asks, and the admin may; the admin's key comes first in `Role::ALL`, so the
    // payer's is a second calculation, as of the head that holds the first.
    let calculated = only(
        &fixture,
        &[Role::Admin, Role::Payer],
        &settlements(),
        json!({"period": "2023-Q3"}),
    )
    .await
    .expect("the payer calculates");
    let view = calculated.json;
    assert_eq!(view["status"], "calculated");
    assert_eq!(view["calculations"], 2);
    assert_eq!(view["as_of"], json!(head + 1), "as of the head when asked");
    assert_eq!(size(&fixture.store).await, head + 2, "one event each");
    let as_of = head + 1;
    only(
        &fixture,
        &[Role::Evaluator],
        &step("2023-Q3", "validate"),
        json!({"as_of": as_of, "note": "re-computed offline"}),
    )
    .await;
    only(
        &fixture,
        &[Role::Payer],
        &step("2023-Q3", "approve"),
        json!({"as_of": as_of}),
    )
    .await;
    only(
        &fixture,
        &[Role::Payer],
        &step("2023-Q3", "pay"),
        json!({"paid_on": "2025-01-20", "reference": "mandato 7"}),
    )
    .await;
    // The same commands through the generic command endpoints obey the same table, and the
    // calculation, which the service alone computes, has no endpoint there.
    let answer = call(
        &fixture.app,
        "POST",
        &format!("/v1/contracts/{CONTRACT}/commands/calculate-settlement"),
        Role::Admin,
        Some(json!({"occurred_at": "2025-01-10T10:00:00+01:00"})),
        None,
    )
    .await;
    assert_eq!(
        (answer.status, answer.json["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_command")),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &format!("/v1/contracts/{CONTRACT}/batch"),
        Role::Admin,
        Some(json!({"items": [{"type": "CalculateSettlement", "occurred_at": "2025-01-10T10:00:00+01:00"}]})),
        None,
    )
    .await;
    assert_eq!(answer.json["code"], "unknown_command", "{}", answer.text);
    let settled = call(
        &fixture.app,
        "GET",
        &format!("{}/2023-Q3", settlements()),
        Role::Funder,
        None,
        None,
    )
    .await;
    assert_eq!(settled.json["status"], "paid", "{}", settled.text);
    let recorded_by: Vec<&str> = settled.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["recorded_by"].as_str().expect("a principal"))
        .collect();
    assert_eq!(
        recorded_by,
        ["admin", "payer", "evaluator", "payer", "payer"]
    );
}

async fn the_steps_come_in_order_and_each_names_the_rule_it_breaks(fixture: Fixture) {
    let rule = |answer: &Answer| {
        (
            answer.status,
            answer.json["code"].as_str().map(str::to_owned),
        )
    };
    let refused = |code: &str| (StatusCode::UNPROCESSABLE_ENTITY, Some(code.to_owned()));
    // Bad requests name their field.
    for (body, code, field) in [
        (json!({}), "missing_field", "period"),
        (json!({"period": "2023-Q5"}), "invalid_value", "period"),
        (
            json!({"period": "2023-Q3", "as_of": 3}),
            "unknown_field",
            "as_of",
        ),
    ] {
        let answer = call(
            &fixture.app,
            "POST",
            &settlements(),
            Role::Payer,
            Some(body),
            None,
        )
        .await;
        assert_eq!(answer.json["code"], code, "{}", answer.text);
        assert_eq!(answer.json["field"], field, "{}", answer.text);
    }
    let head = size(&fixture.store).await;
    for (period, code) in [
        ("2023-08", "settlement_period_not_of_the_contract"),
        ("2025-Q1", "settlement_period_outside_term"),
    ] {
        let answer = call(
            &fixture.app,
            "POST",
            &settlements(),
            Role::Payer,
            Some(json!({"period": period})),
            None,
        )
        .await;
        assert_eq!(rule(&answer), refused(code), "{}", answer.text);
    }
    assert_eq!(size(&fixture.store).await, head, "a refusal writes nothing");

    let first = calculate(&fixture, "2023-Q3").await;
    let as_of = first["as_of"].as_u64().expect("as_of");
    let approve = |as_of: u64| json!({"as_of": as_of});
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "approve"),
        Role::Payer,
        Some(approve(as_of)),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_not_validated"),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "pay"),
        Role::Payer,
        Some(json!({"paid_on": "2025-01-20", "reference": "mandato 7"})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_not_approved"),
        "{}",
        answer.text
    );
    // The next period waits for this one's approval.
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(json!({"period": "2023-Q4"})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("previous_settlement_not_approved"),
        "{}",
        answer.text
    );
    // Calculated again (by the admin, who may ask too): validation must name the new one.
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Admin,
        Some(json!({"period": "2023-Q3"})),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["calculations"], 2);
    let current = answer.json["as_of"].as_u64().expect("as_of");
    assert_eq!(
        current,
        as_of + 1,
        "as of the head, which held the first calculation"
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "validate"),
        Role::Evaluator,
        Some(json!({"as_of": as_of})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_recalculated"),
        "{}",
        answer.text
    );
    validate_approve_pay(&fixture, "2023-Q3", current).await;
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(json!({"period": "2023-Q3"})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_already_approved"),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "pay"),
        Role::Payer,
        Some(json!({"paid_on": "2025-01-20", "reference": "mandato 7"})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_already_paid"),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(json!({"period": "2024-Q1"})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_period_out_of_order"),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2024-Q1", "validate"),
        Role::Evaluator,
        Some(json!({"as_of": 3})),
        None,
    )
    .await;
    assert_eq!(
        rule(&answer),
        refused("settlement_not_calculated"),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "close"),
        Role::Payer,
        Some(json!({})),
        None,
    )
    .await;
    assert_eq!(answer.json["code"], "unknown_command", "{}", answer.text);
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q4", "validate"),
        Role::Evaluator,
        Some(json!({"as_of": 3, "period": "2023-Q3"})),
        None,
    )
    .await;
    assert_eq!(answer.json["code"], "unknown_field", "{}", answer.text);
}

async fn a_settlement_reads_as_json_and_as_a_printable_page(fixture: Fixture) {
    let head = fixture
        .store
        .head(&ContractId::parse(CONTRACT).expect("valid"))
        .await
        .expect("head")
        .expect("a log");
    let view = calculate(&fixture, "2023-Q3").await;
    // Five accesses at 10 euro: 50.00, under the quarter's cap of 60.
    let document = &view["document"];
    assert_eq!(document["lines"][0]["arithmetic"], "5 × 10.00 = 50.00");
    assert_eq!(document["total"], "50.00");
    assert_eq!(document["as_of"], json!(head.size));
    assert_eq!(document["root_hash"], json!(head.root_hash.to_string()));
    assert_eq!(view["root_hash"], document["root_hash"]);
    // The checkpoint signed at that moment: of the pinned tree head, kept with the others, its
    // signature good under the service's key.
    let checkpoint: esito_log::Checkpoint =
        serde_json::from_value(view["checkpoint"].clone()).expect("a whole checkpoint");
    assert_eq!(
        (checkpoint.size, checkpoint.root_hash),
        (head.size, head.root_hash)
    );
    let public_key = esito_log::signing::CheckpointKey::from_seed(SEED).public_key();
    esito_log::signing::verify_signature(&checkpoint, &public_key).expect("a good signature");
    let kept = fixture
        .store
        .checkpoints(&ContractId::parse(CONTRACT).expect("valid"))
        .await
        .expect("checkpoints");
    assert!(kept.contains(&checkpoint), "the checkpoint is kept");
    let terms = &view["terms_sha256"];
    assert_eq!(terms.as_str().map(str::len), Some(64));
    assert_eq!(view["template"], "cuneo");

    let path = format!("{}/2023-Q3", settlements());
    let json_answer = call(&fixture.app, "GET", &path, Role::Evaluator, None, None).await;
    assert_eq!(json_answer.status, StatusCode::OK);
    assert_eq!(json_answer.json, view, "GET answers what POST did");
    for (path, accept) in [
        (path.clone(), Some("text/html,application/xhtml+xml")),
        (format!("{path}/html"), None),
    ] {
        let page = call(&fixture.app, "GET", &path, Role::Payer, None, accept).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(page.text.starts_with("<!DOCTYPE html>"), "{}", page.text);
        assert!(page.text.contains("5 × 10.00 = 50.00"));
    }
    let list = call(
        &fixture.app,
        "GET",
        &settlements(),
        Role::Operator,
        None,
        None,
    )
    .await;
    assert_eq!(
        list.json["settlements"],
        json!([{"period": "2023-Q3", "status": "calculated", "calculations": 1, "as_of": head.size,
                "final_settlement": false, "total": "50.00", "total_with_vat": "50.00"}])
    );
    let answer = call(&fixture.app, "GET", &path, Role::Provider, None, None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = call(
        &fixture.app,
        "GET",
        &format!("{}/2023-Q4", settlements()),
        Role::Payer,
        None,
        None,
    )
    .await;
    assert_eq!(
        (answer.status, answer.json["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_settlement"))
    );
}

async fn the_service_and_the_offline_computation_agree_and_a_late_event_is_restated(
    fixture: Fixture,
) {
    let contract = ContractId::parse(CONTRACT).expect("valid");
    let q3 = calculate(&fixture, "2023-Q3").await;
    validate_approve_pay(&fixture, "2023-Q3", q3["as_of"].as_u64().expect("as_of")).await;
    // An access of 2023-Q3 recorded late: the sixth, 10 euro more, still under the cap.
    fixture
        .store
        .append(
            &contract,
            "operator",
            &[centre_access(99, "2023-09-29T18:00:00+02:00")],
        )
        .await
        .expect("the late access");
    let q4 = calculate(&fixture, "2023-Q4").await;
    let lines: Vec<(&str, &str)> = q4["document"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| {
            (
                line["kind"].as_str().expect("kind"),
                line["arithmetic"].as_str().expect("arithmetic"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("rate_card", "3 × 10.00 = 30.00"),
            (
                "restatement",
                "2023-Q3 recomputed 60.00 − settled 50.00 = 10.00"
            ),
        ]
    );
    assert_eq!(q4["document"]["total"], "40.00");
    let q3_now = call(
        &fixture.app,
        "GET",
        &format!("{}/2023-Q3", settlements()),
        Role::Evaluator,
        None,
        None,
    )
    .await;
    assert_eq!(
        q3_now.json["document"], q3["document"],
        "the earlier settlement is unchanged"
    );

    let mut export = Vec::new();
    fixture
        .store
        .export(&contract, &mut export)
        .await
        .expect("exported");
    let entries: Vec<esito_log::Entry> = String::from_utf8(export)
        .expect("UTF-8")
        .lines()
        .filter_map(
            |line| match serde_json::from_str(line).expect("an export line") {
                esito_log::ExportLine::Entry { entry, .. } => Some(entry),
                esito_log::ExportLine::Checkpoint(_) => None,
            },
        )
        .collect();
    let definitions = esito_indicators::templates::embedded("cuneo")
        .expect("built in")
        .expect("valid");
    for view in [&q3, &q4] {
        let period = view["period"]
            .as_str()
            .expect("a period")
            .parse()
            .expect("valid");
        let as_of = view["as_of"].as_u64().expect("as_of");
        let offline = esito_books::offline::settlement(
            Some(&definitions),
            || {
                Ok::<_, std::convert::Infallible>(
                    entries
                        .iter()
                        .cloned()
                        .map(Ok::<_, std::convert::Infallible>),
                )
            },
            period,
            as_of,
        )
        .expect("infallible")
        .expect("the offline settlement");
        assert_eq!(
            serde_json::to_value(&offline.document).expect("json"),
            view["document"],
            "{period}"
        );
        assert_eq!(view["terms_sha256"], json!(offline.terms_sha256));
        assert_eq!(
            view["definitions_sha256"],
            json!(offline.definitions_sha256)
        );
    }
}

/// A payer whose request timed out sends it again: the calculation under the same event id (or
/// the same `Idempotency-Key`) is answered with the settlement recorded the first time, and a
/// step whose `occurred_at` the service chose is the same event too. Another period under the
/// same id is a conflict.
async fn a_calculation_or_a_step_retried_under_its_event_id_is_recorded_once(fixture: Fixture) {
    let event_id = uuid::Uuid::new_v4();
    let body = json!({"period": "2023-Q3", "event_id": event_id});
    let before = size(&fixture.store).await;
    let first = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(body.clone()),
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(body),
        None,
    )
    .await;
    assert_eq!(
        (again.status, &again.json),
        (first.status, &first.json),
        "the same answer"
    );
    assert_eq!(
        size(&fixture.store).await,
        before + 1,
        "one calculation recorded"
    );
    assert_eq!(again.json["calculations"], json!(1));
    let other = json!({"period": "2023-Q4", "event_id": event_id});
    let conflict = call(
        &fixture.app,
        "POST",
        &settlements(),
        Role::Payer,
        Some(other),
        None,
    )
    .await;
    assert_eq!(
        (conflict.status, conflict.json["code"].as_str()),
        (StatusCode::CONFLICT, Some("event_id_reused")),
        "{}",
        conflict.text
    );
    assert_eq!(size(&fixture.store).await, before + 1);
    // The same through an Idempotency-Key, sent twice.
    let (status, replay, keyed_first) = keyed(&fixture.app, "payer-q3-recalculation").await;
    assert_eq!(
        (status, replay),
        (StatusCode::CREATED, false),
        "{keyed_first}"
    );
    let (status, replay, keyed_again) = keyed(&fixture.app, "payer-q3-recalculation").await;
    assert_eq!(
        (status, replay),
        (StatusCode::CREATED, true),
        "{keyed_again}"
    );
    assert_eq!(keyed_again, keyed_first);
    assert_eq!(
        keyed_first["calculations"],
        json!(2),
        "a second calculation, recorded once"
    );
    assert_eq!(size(&fixture.store).await, before + 2);
    // A step without `occurred_at`, retried: the service's time of the first is kept.
    let as_of = keyed_first["as_of"].as_u64().expect("as_of");
    let validate = json!({"as_of": as_of, "event_id": uuid::Uuid::new_v4()});
    let first = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "validate"),
        Role::Evaluator,
        Some(validate.clone()),
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // The retry comes in a later second than the time the service gave the first.
    let recorded = fixture
        .store
        .entry_by_event_id(
            &ContractId::parse(CONTRACT).expect("valid"),
            uuid::Uuid::parse_str(first.json["event_id"].as_str().expect("an id")).expect("a UUID"),
        )
        .await
        .expect("read")
        .expect("recorded");
    let entry: esito_log::Entry = serde_json::from_str(&recorded.entry).expect("an entry");
    let first_at = chrono::DateTime::parse_from_rfc3339(&entry.occurred_at).expect("RFC 3339");
    while chrono::Utc::now().timestamp() <= first_at.timestamp() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let again = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "validate"),
        Role::Evaluator,
        Some(validate),
        None,
    )
    .await;
    assert_eq!(
        (again.status, &again.json),
        (first.status, &first.json),
        "{}",
        again.text
    );
    assert_eq!(size(&fixture.store).await, before + 3);
}

/// A calculation of 2023-Q3 by the payer under an `Idempotency-Key`: status, replayed, body.
async fn keyed(app: &Router, key: &str) -> (StatusCode, bool, Value) {
    let request = Request::builder()
        .method("POST")
        .uri(settlements())
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!("Bearer {}", router_fixture::key(Role::Payer)),
        )
        .header("idempotency-key", key)
        .body(Body::from(json!({"period": "2023-Q3"}).to_string()))
        .expect("a request");
    let answer = router_fixture::send(app, request).await;
    (
        answer.status,
        answer.headers.contains_key("idempotent-replay"),
        serde_json::from_str(&answer.text).expect("json"),
    )
}
