//! The API suite, on SQLite and on a real PostgreSQL: the router called directly, with the
//! matrix of roles and contracts, the table of bad inputs, and idempotency.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use esito_api::auth::{Action, Role};
use esito_domain::events::*;
use esito_domain::{Command, ContractId, EventId, Money, Submission};
use esito_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

mod router_fixture;
use esito_testkit::{both_stores, id, money, submit, Fresh};
use router_fixture::{key, log_size, register_contract, Fixture};

const OWN: &str = "own-contract";
const OTHER: &str = "other-contract";
/// Orders with a token issued to prov-1, each delivered at most once by the tests.
const ORDERS: usize = 40;

both_stores!(
    fixture = fixture;
    every_role_may_do_what_it_is_given_and_nothing_else,
    each_bad_input_gets_its_status_and_code_and_writes_nothing,
    the_same_request_twice_writes_one_event_and_answers_the_same,
    the_same_request_sent_concurrently_writes_one_event,
    a_batch_is_all_or_nothing_and_answers_per_item,
    the_log_reads_by_position_with_a_cursor,
    every_command_endpoint_lets_through_exactly_the_roles_it_should,
    proofs_of_inclusion_and_consistency_verify_against_the_tree_heads,
    indicators_answer_as_the_offline_computation_and_bad_queries_name_their_field,
    indicators_over_a_range_of_dates_are_those_of_the_same_days_and_bad_dates_name_their_parameter,
    checkpoints_before_and_after_a_rotation_each_verify_with_their_own_key,
    a_providers_commands_follow_the_token_as_its_issue_was_corrected,
    every_route_answers_each_role_as_the_permission_table_says,
);

fn contract_fixture() -> Vec<Submission> {
    let tariffs: BTreeMap<IseeBand, Money> = IseeBand::ALL
        .into_iter()
        .map(|band| (band, money("6.00")))
        .collect();
    let mut submissions = vec![
        register_contract("Test"),
        submit(
            "2023-07-01T10:00:00+02:00",
            Command::AccreditProvider {
                provider_id: id("prov-1"),
                name: "Uno".into(),
                service_family: ServiceFamily::Meals,
            },
        ),
        submit(
            "2023-07-01T10:00:00+02:00",
            Command::AccreditProvider {
                provider_id: id("prov-2"),
                name: "Due".into(),
                service_family: ServiceFamily::Meals,
            },
        ),
        submit(
            "2023-07-01T10:05:00+02:00",
            Command::ListProduct {
                product_id: id("prod-1"),
                provider_id: id("prov-1"),
                name: "Pasto".into(),
                service_family: ServiceFamily::Meals,
                tariffs: tariffs.clone(),
            },
        ),
        submit(
            "2023-07-01T10:05:00+02:00",
            Command::ListProduct {
                product_id: id("prod-2"),
                provider_id: id("prov-2"),
                name: "Pasto".into(),
                service_family: ServiceFamily::Meals,
                tariffs,
            },
        ),
        submit(
            "2023-07-02T10:00:00+02:00",
            Command::RegisterBeneficiary {
                beneficiary_id: id("ben-1"),
                isee_band: Some(IseeBand::A),
                household_size: Some(1),
                age_band: Some(AgeBand::From80),
                flags: vec![],
            },
        ),
    ];
    for n in 0..=ORDERS {
        let (order, product) = if n == ORDERS {
            ("ord-prov-2".to_owned(), "prod-2")
        } else {
            (format!("ord-{n}"), "prod-1")
        };
        submissions.push(submit(
            "2023-07-03T10:00:00+02:00",
            Command::PlaceOrder {
                order_id: id(&order),
                beneficiary_id: id("ben-1"),
                product_id: id(product),
                channel: OrderChannel::Online,
                price: money("6.00"),
            },
        ));
        submissions.push(submit(
            "2023-07-03T10:01:00+02:00",
            Command::IssueToken {
                order_id: id(&order),
                token_code: format!("TK-{n}"),
                notified_to: vec![TokenRecipient::Client],
                expires_on: "2024-12-31".parse().expect("date"),
            },
        ));
    }
    submissions
}

async fn fixture(fresh: Fresh) -> Fixture {
    for contract in [OWN, OTHER] {
        let contract = ContractId::parse(contract).expect("valid");
        fresh
            .store
            .append(&contract, "fixture", &contract_fixture())
            .await
            .expect("the fixture is valid");
    }
    let own = ContractId::parse(OWN).expect("valid");
    router_fixture::store_role_keys(&fresh.store, &own).await;
    fresh.with_app(|store| esito_api::router(esito_api::AppState::new(store)))
}

/// A client that names every write (`router_fixture::with_event_ids`); a body that is not a
/// JSON object goes as it is.
fn with_event_ids(body: String) -> String {
    match serde_json::from_str::<Value>(&body) {
        Ok(fields @ Value::Object(_)) => router_fixture::with_event_ids(fields).to_string(),
        _ => body,
    }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<String>,
) -> (StatusCode, Value, bool) {
    let body = body.map(with_event_ids);
    let request = router_fixture::json_request(method, path, key, body);
    let answer = router_fixture::send(app, request).await;
    let (status, value) = (answer.status, answer.json);
    let replay = answer.headers.contains_key("idempotent-replay");
    let problem = answer.content_type == "application/problem+json";
    if status.is_client_error() || status.is_server_error() {
        assert!(problem, "{status} is problem+json: {value}");
        assert!(value["code"].is_string(), "{status} has a code: {value}");
    }
    (status, value, replay)
}

async fn size(store: &Store, contract: &str) -> u64 {
    log_size(store, &ContractId::parse(contract).expect("valid")).await
}

fn access_body(n: usize) -> String {
    json!({
        "occurred_at": "2024-01-10T10:00:00+01:00",
        "access_id": format!("acc-{n}-{}", uuid::Uuid::new_v4().simple()),
        "channel": "in_person",
        "need": "elderly_care",
        "outcome": {"kind": "information_only"}
    })
    .to_string()
}

/// A batch item: a centre access, named by its type.
fn access_item(n: usize) -> Value {
    let mut item: Value = serde_json::from_str(&access_body(n)).expect("json");
    item["type"] = json!("RecordAccess");
    item
}

/// What each endpoint allows, written out by hand: (endpoint, roles allowed on their own contract).
fn expected_matrix() -> Vec<(&'static str, Vec<Role>)> {
    use Role::*;
    let readers = vec![Admin, Operator, Payer, Funder, Evaluator];
    vec![
        ("record-access", vec![Admin, Operator]),
        ("record-delivery", vec![Admin, Operator, Provider]),
        ("batch", vec![Admin, Operator]),
        ("register-contract", vec![Admin]),
        ("events", readers.clone()),
        ("event", readers.clone()),
        ("stream", readers.clone()),
        ("beneficiaries", readers),
        ("tokens", Role::ALL.to_vec()),
    ]
}

async fn every_role_may_do_what_it_is_given_and_nothing_else(fixture: Fixture) {
    let app = &fixture.app;
    let mut first_events = BTreeMap::new();
    for contract in [OWN, OTHER] {
        let entries = fixture
            .store
            .entries(&ContractId::parse(contract).expect("valid"), 0, 1)
            .await
            .expect("read");
        first_events.insert(
            contract,
            serde_json::from_str::<esito_log::Entry>(&entries[0].entry)
                .expect("entry")
                .event_id,
        );
    }
    let mut order = 0;
    let mut new_contract = 0;
    for (endpoint, allowed) in expected_matrix() {
        for contract in [OWN, OTHER] {
            for role in Role::ALL.into_iter().map(Some).chain([None]) {
                let key = role.map(key);
                let before = (
                    size(&fixture.store, OWN).await,
                    size(&fixture.store, OTHER).await,
                );
                let (method, path, body) = match endpoint {
                    "record-access" => (
                        "POST",
                        format!("/v1/contracts/{contract}/commands/record-access"),
                        Some(access_body(0)),
                    ),
                    "record-delivery" => {
                        order += 1;
                        let body = json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": format!("ord-{order}"), "provider_id": "prov-1"});
                        (
                            "POST",
                            format!("/v1/contracts/{contract}/commands/record-delivery"),
                            Some(body.to_string()),
                        )
                    }
                    "batch" => {
                        let item = access_item(1);
                        (
                            "POST",
                            format!("/v1/contracts/{contract}/batch"),
                            Some(json!({"items": [item]}).to_string()),
                        )
                    }
                    "register-contract" => {
                        new_contract += 1;
                        // "own" is a contract id the non-admin keys were given; "other" one they were not.
                        let target = if contract == OWN {
                            OWN.to_owned()
                        } else {
                            format!("new-contract-{new_contract}")
                        };
                        let mut body: Value =
                            serde_json::to_value(&contract_fixture()[0]).expect("json");
                        let mut fields = body["command"].take();
                        fields.as_object_mut().expect("object").remove("type");
                        fields["contract_id"] = json!(target);
                        fields["occurred_at"] = body["occurred_at"].take();
                        ("POST", "/v1/contracts".to_owned(), Some(fields.to_string()))
                    }
                    "events" => (
                        "GET",
                        format!("/v1/contracts/{contract}/events?limit=5"),
                        None,
                    ),
                    "event" => (
                        "GET",
                        format!("/v1/contracts/{contract}/events/{}", first_events[contract]),
                        None,
                    ),
                    "stream" => (
                        "GET",
                        format!("/v1/contracts/{contract}/streams/order/ord-0"),
                        None,
                    ),
                    "beneficiaries" => (
                        "GET",
                        format!("/v1/contracts/{contract}/beneficiaries"),
                        None,
                    ),
                    "tokens" => ("GET", format!("/v1/contracts/{contract}/tokens"), None),
                    other => unreachable!("no endpoint {other}"),
                };
                let (status, value, _) = call(app, method, &path, key.as_deref(), body).await;
                let after = (
                    size(&fixture.store, OWN).await,
                    size(&fixture.store, OTHER).await,
                );
                let what = format!(
                    "{endpoint} on {contract} by {:?}: {status} {value}",
                    role.map(Role::as_str)
                );
                let Some(role) = role else {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                    assert_eq!(before, after, "{what} wrote nothing");
                    continue;
                };
                // The admin's key is for every contract; registering an existing one is a rule.
                let reaches = contract == OWN || role == Role::Admin;
                let permitted = allowed.contains(&role) && reaches;
                if endpoint == "register-contract" && permitted && contract == OWN {
                    assert_eq!(value["code"], "contract_already_registered", "{what}");
                    continue;
                }
                if permitted {
                    assert!(status.is_success(), "{what}");
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                    assert_eq!(before, after, "{what} wrote nothing");
                }
            }
        }
    }
    // A wrong key is refused like none.
    let (status, _, _) = call(
        app,
        "GET",
        &format!("/v1/contracts/{OWN}/events"),
        Some("not-a-key"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A provider speaks only of its own tokens.
    let before = size(&fixture.store, OWN).await;
    let body = json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": "ord-prov-2", "provider_id": "prov-1"});
    let (status, value, _) = call(
        app,
        "POST",
        &format!("/v1/contracts/{OWN}/commands/record-delivery"),
        Some(&key(Role::Provider)),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(
        (status, value["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_your_token")),
        "{value}"
    );
    let body = json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": "ord-39", "provider_id": "prov-2"});
    let (status, value, _) = call(
        app,
        "POST",
        &format!("/v1/contracts/{OWN}/commands/record-delivery"),
        Some(&key(Role::Provider)),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(
        (status, value["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_your_token")),
        "{value}"
    );
    assert_eq!(size(&fixture.store, OWN).await, before);
    // The provider's token list holds only its own tokens.
    let (_, tokens, _) = call(
        app,
        "GET",
        &format!("/v1/contracts/{OWN}/tokens?limit=1000"),
        Some(&key(Role::Provider)),
        None,
    )
    .await;
    let items = tokens["items"].as_array().expect("items");
    assert_eq!(items.len(), ORDERS, "{tokens}");
    assert!(items
        .iter()
        .all(|t| t["summary"]["fields"]["provider_id"] == "prov-1"));
}

async fn each_bad_input_gets_its_status_and_code_and_writes_nothing(fixture: Fixture) {
    let app = &fixture.app;
    let operator = key(Role::Operator);
    let admin = key(Role::Admin);
    let command = |name: &str| format!("/v1/contracts/{OWN}/commands/{name}");
    let order = |fields: Value| {
        let mut body = json!({"occurred_at": "2024-01-10T10:00:00+01:00", "order_id": "ord-new", "beneficiary_id": "ben-1",
                              "product_id": "prod-1", "channel": "online", "price": "6.00"});
        for (k, v) in fields.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body.to_string()
    };
    let big = "x".repeat(esito_api::BODY_BYTES_MAX + 10);
    let too_many: Vec<Value> = (0..esito_store::BATCH_SIZE_MAX + 1)
        .map(access_item)
        .collect();
    let mut one_bad: Vec<Value> = too_many[..5].to_vec();
    one_bad[3]["outcome"] = json!({"kind": "teleported"});
    // (what, key, path, body, status, code, field)
    type Case<'a> = (
        &'a str,
        &'a str,
        String,
        String,
        u16,
        &'a str,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        ("malformed JSON", &operator, command("place-order"), "{\"occurred_at\": ".into(), 400, "malformed_json", None),
        ("unknown field", &operator, command("place-order"), order(json!({"colour": "blue"})), 422, "unknown_field", Some("colour")),
        ("missing field", &operator, command("place-order"), order(json!({"price": null})), 422, "missing_field", Some("price")),
        ("missing occurred_at", &operator, command("place-order"), order(json!({"occurred_at": null})), 422, "missing_field", Some("occurred_at")),
        ("wrong type", &operator, command("place-order"), order(json!({"price": 6.0})), 422, "invalid_type", Some("price")),
        ("negative amount", &operator, command("place-order"), order(json!({"price": "-6.00"})), 422, "invalid_value", Some("price")),
        ("three decimals", &operator, command("place-order"), order(json!({"price": "6.001"})), 422, "invalid_value", Some("price")),
        ("date outside the term", &operator, command("place-order"), order(json!({"occurred_at": "2025-02-01T10:00:00+01:00"})), 422, "date_outside_contract_term", None),
        ("unknown contract", &admin, "/v1/contracts/no-such-contract/commands/place-order".into(), order(json!({})), 404, "unknown_contract", None),
        ("unknown command", &operator, command("teleport"), order(json!({})), 404, "unknown_command", None),
        ("unknown product", &operator, command("place-order"), order(json!({"product_id": "prod-none"})), 422, "unknown_product", None),
        ("unknown beneficiary", &operator, command("place-order"), order(json!({"beneficiary_id": "ben-none"})), 422, "unknown_beneficiary", None),
        ("price not the tariff", &operator, command("place-order"), order(json!({"price": "7.00"})), 422, "price_is_not_the_tariff", None),
        ("unknown token", &operator, command("record-delivery"),
            json!({"occurred_at": "2024-01-10T10:00:00+01:00", "order_id": "ord-none", "provider_id": "prov-1"}).to_string(), 422, "unknown_order", None),
        ("body over 1 MiB", &operator, command("place-order"), order(json!({"padding": big})), 413, "body_too_large", None),
        ("batch over the limit", &operator, format!("/v1/contracts/{OWN}/batch"), json!({"items": too_many}).to_string(), 422, "batch_size", Some("items")),
        ("batch with one bad item", &operator, format!("/v1/contracts/{OWN}/batch"), json!({"items": one_bad}).to_string(), 422, "invalid_value", Some("items[3].outcome")),
    ];
    for (what, key, path, body, status, code, field) in cases {
        let before = size(&fixture.store, OWN).await;
        let (got, value, _) = call(app, "POST", &path, Some(key), Some(body)).await;
        assert_eq!(
            (got.as_u16(), value["code"].as_str()),
            (status, Some(code)),
            "{what}: {value}"
        );
        if let Some(field) = field {
            assert_eq!(value["field"].as_str(), Some(field), "{what}: {value}");
        }
        assert_eq!(
            size(&fixture.store, OWN).await,
            before,
            "{what} wrote nothing"
        );
    }
}

async fn the_same_request_twice_writes_one_event_and_answers_the_same(fixture: Fixture) {
    let mut body: Value = serde_json::from_str(&access_body(7)).expect("json");
    body["event_id"] = json!(uuid::Uuid::new_v4());
    let path = format!("/v1/contracts/{OWN}/commands/record-access");
    let before = size(&fixture.store, OWN).await;
    let first = call(
        &fixture.app,
        "POST",
        &path,
        Some(&key(Role::Operator)),
        Some(body.to_string()),
    )
    .await;
    let second = call(
        &fixture.app,
        "POST",
        &path,
        Some(&key(Role::Operator)),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!(
        (first.0, &first.1),
        (second.0, &second.1),
        "the same answer"
    );
    assert!(!first.2 && second.2, "the second is marked as a replay");
    assert_eq!(size(&fixture.store, OWN).await, before + 1);
    // The same id with other content is a conflict.
    body["channel"] = json!("phone");
    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &path,
        Some(&key(Role::Operator)),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(
        (status, value["code"].as_str()),
        (StatusCode::CONFLICT, Some("event_id_reused")),
        "{value}"
    );
    assert_eq!(size(&fixture.store, OWN).await, before + 1);
}

async fn the_same_request_sent_concurrently_writes_one_event(fixture: Fixture) {
    let mut body: Value = serde_json::from_str(&access_body(8)).expect("json");
    body["event_id"] = json!(uuid::Uuid::new_v4());
    let path = format!("/v1/contracts/{OWN}/commands/record-access");
    let before = size(&fixture.store, OWN).await;
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (app, path, body) = (fixture.app.clone(), path.clone(), body.to_string());
            tokio::spawn(async move {
                call(&app, "POST", &path, Some(&key(Role::Operator)), Some(body)).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.expect("answered"));
    }
    assert!(
        answers
            .iter()
            .all(|(status, value, _)| *status == StatusCode::CREATED && *value == answers[0].1),
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|(_, _, replay)| !replay).count(),
        1,
        "one write"
    );
    assert_eq!(size(&fixture.store, OWN).await, before + 1);
}

async fn a_batch_is_all_or_nothing_and_answers_per_item(fixture: Fixture) {
    let items: Vec<Value> = (0..3)
        .map(|n| {
            let mut item = access_item(n);
            item["event_id"] = json!(uuid::Uuid::new_v4());
            item
        })
        .collect();
    let mut with_a_rule_broken = items.clone();
    with_a_rule_broken.push(json!({"type": "RecordDelivery", "occurred_at": "2024-01-10T10:00:00+01:00", "order_id": "ord-none", "provider_id": "prov-1"}));
    let path = format!("/v1/contracts/{OWN}/batch");
    let operator = key(Role::Operator);
    let before = size(&fixture.store, OWN).await;
    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &path,
        Some(&operator),
        Some(json!({"items": with_a_rule_broken}).to_string()),
    )
    .await;
    assert_eq!(
        (
            status.as_u16(),
            value["code"].as_str(),
            value["index"].as_u64()
        ),
        (422, Some("unknown_order"), Some(3)),
        "{value}"
    );
    assert_eq!(size(&fixture.store, OWN).await, before, "nothing written");

    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &path,
        Some(&operator),
        Some(json!({"items": items}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let positions: Vec<u64> = value["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["position"].as_u64().expect("position"))
        .collect();
    assert_eq!(positions, vec![before + 1, before + 2, before + 3]);

    // atomic=false: each item on its own, each answered.
    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &format!("{path}?atomic=false"),
        Some(&operator),
        Some(json!({"items": with_a_rule_broken}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let statuses: Vec<u64> = value["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["status"].as_u64().expect("status"))
        .collect();
    // The first three are the same events again: replays, written once.
    assert_eq!(statuses, vec![201, 201, 201, 422], "{value}");
    assert_eq!(size(&fixture.store, OWN).await, before + 3);
}

async fn the_log_reads_by_position_with_a_cursor(fixture: Fixture) {
    let evaluator = key(Role::Evaluator);
    let total = size(&fixture.store, OWN).await;
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let (status, page, _) = call(
            &fixture.app,
            "GET",
            &format!("/v1/contracts/{OWN}/events?after={after}&limit=7"),
            Some(&evaluator),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        for line in page["entries"].as_array().expect("entries") {
            let entry: esito_log::Entry =
                serde_json::from_value(line["entry"].clone()).expect("an entry");
            assert_eq!(
                esito_log::leaf_hash(entry.canonical_json().as_bytes()).to_string(),
                line["leaf_hash"].as_str().expect("hash")
            );
            seen.push(line["position"].as_u64().expect("position"));
        }
        match page["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    let (status, value, _) = call(
        &fixture.app,
        "GET",
        &format!("/v1/contracts/{OWN}/events/{}", uuid::Uuid::new_v4()),
        Some(&evaluator),
        None,
    )
    .await;
    assert_eq!(
        (status, value["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_event"))
    );
}

/// Every command endpoint, every role, own and other contract: the roles not given the command
/// (or not the contract) get 403 and nothing is written; the others get past access control
/// (their empty body is then refused as a missing field, never as 401 or 403).
async fn every_command_endpoint_lets_through_exactly_the_roles_it_should(fixture: Fixture) {
    use Role::*;
    let admin_only = ["RegisterContract", "AmendContract"];
    let provider_may = ["RecordDelivery", "AgreeDeliveryTime"];
    let commands: Vec<(String, &str)> = esito_api::catalog::catalog()
        .by_path
        .iter()
        .map(|(path, name)| (path.clone(), *name))
        .collect();
    assert!(
        commands.len() > 40,
        "the whole domain is served: {}",
        commands.len()
    );
    for (path, name) in commands {
        if name == "RegisterContract" {
            continue; // POST /v1/contracts: covered by the matrix above.
        }
        for contract in [OWN, OTHER] {
            for role in Role::ALL {
                let given = match (role, name) {
                    // Each step of a settlement is one role's, the admin's key included.
                    (Evaluator, "ValidateSettlement") => true,
                    (
                        Payer,
                        "CertifySettlement"
                        | "ApproveSettlement"
                        | "RecordSettlementPayment"
                        | "WithdrawSettlement",
                    ) => true,
                    (
                        _,
                        "ValidateSettlement"
                        | "CertifySettlement"
                        | "ApproveSettlement"
                        | "RecordSettlementPayment"
                        | "WithdrawSettlement",
                    ) => false,
                    (Admin, _) => true,
                    (Operator, _) => !admin_only.contains(&name),
                    (Provider, _) => provider_may.contains(&name),
                    (Payer | Funder | Evaluator, _) => false,
                };
                let reaches = contract == OWN || role == Admin;
                let before = size(&fixture.store, contract).await;
                let (status, value, _) = call(
                    &fixture.app,
                    "POST",
                    &format!("/v1/contracts/{contract}/commands/{path}"),
                    Some(&key(role)),
                    Some("{}".to_owned()),
                )
                .await;
                let what = format!(
                    "{name} on {contract} by {}: {status} {value}",
                    role.as_str()
                );
                if given && reaches {
                    assert_eq!(value["code"], "missing_field", "{what}");
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                }
                assert_eq!(
                    size(&fixture.store, contract).await,
                    before,
                    "{what} wrote nothing"
                );
            }
        }
    }
    for list in ["tenancies", "placements"] {
        let (status, value, _) = call(
            &fixture.app,
            "GET",
            &format!("/v1/contracts/{OWN}/{list}"),
            Some(&key(Evaluator)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{list}: {value}");
        let (status, _, _) = call(
            &fixture.app,
            "GET",
            &format!("/v1/contracts/{OWN}/{list}"),
            Some(&key(Provider)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{list} by a provider");
    }
}

async fn proofs_of_inclusion_and_consistency_verify_against_the_tree_heads(fixture: Fixture) {
    let evaluator = key(Role::Evaluator);
    let own = ContractId::parse(OWN).expect("valid");
    // Past 256 entries, so that proofs use a stored subtree as well as leaves.
    let items: Vec<Value> = (0..300).map(access_item).collect();
    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &format!("/v1/contracts/{OWN}/batch"),
        Some(&key(Role::Operator)),
        Some(json!({ "items": items }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let head = fixture
        .store
        .head(&own)
        .await
        .expect("head")
        .expect("a head");
    let hash = |value: &Value| {
        value
            .as_str()
            .expect("hex")
            .parse::<esito_log::Hash>()
            .expect("a hash")
    };
    for (position, size) in [
        (1, head.size),
        (head.size, head.size),
        (5, 17),
        (17, 17),
        (30, 64),
        (256, 257),
        (257, head.size),
        (300, head.size - 1),
    ] {
        let path = format!("/v1/contracts/{OWN}/proofs/inclusion?position={position}&size={size}");
        let (status, value, _) = call(&fixture.app, "GET", &path, Some(&evaluator), None).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        // The proof's own fields, as any RFC 9162 verifier reads them; the hashes beside them are extras.
        let fields = json!({"leaf_index": value["leaf_index"], "tree_size": value["tree_size"], "audit_path": value["audit_path"]});
        let proof: esito_log::InclusionProof =
            serde_json::from_value(fields).expect("RFC 9162 fields");
        let entries = fixture
            .store
            .entries(&own, position - 1, 1)
            .await
            .expect("entry");
        assert_eq!(hash(&value["leaf_hash"]), entries[0].leaf_hash);
        proof
            .verify(&entries[0].leaf_hash, &hash(&value["root_hash"]))
            .expect("the proof verifies");
        if size == head.size {
            assert_eq!(
                hash(&value["root_hash"]),
                head.root_hash,
                "the root is the contract's tree head"
            );
        }
        let mut wrong = proof.clone();
        wrong.leaf_index = (wrong.leaf_index + 1) % size;
        assert!(
            wrong
                .verify(&entries[0].leaf_hash, &hash(&value["root_hash"]))
                .is_err(),
            "another index fails"
        );
    }
    for (first, second) in [
        (1, head.size),
        (7, 8),
        (13, head.size),
        (256, head.size),
        (255, 300),
        (head.size, head.size),
    ] {
        let path = format!("/v1/contracts/{OWN}/proofs/consistency?first={first}&second={second}");
        let (status, value, _) = call(&fixture.app, "GET", &path, Some(&evaluator), None).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        let fields = json!({"first": value["first"], "second": value["second"], "consistency_path": value["consistency_path"]});
        let proof: esito_log::ConsistencyProof =
            serde_json::from_value(fields).expect("RFC 9162 fields");
        proof
            .verify(&hash(&value["first_root"]), &hash(&value["second_root"]))
            .expect("the proof verifies");
        if second == head.size {
            assert_eq!(
                hash(&value["second_root"]),
                head.root_hash,
                "the second root is the contract's tree head"
            );
        }
    }
    let (status, value, _) = call(
        &fixture.app,
        "GET",
        &format!(
            "/v1/contracts/{OWN}/proofs/inclusion?position={}",
            head.size + 1
        ),
        Some(&evaluator),
        None,
    )
    .await;
    assert_eq!(
        (status.as_u16(), value["field"].as_str()),
        (422, Some("position")),
        "{value}"
    );
    for (path, field) in [
        (
            format!("proofs/inclusion?position=1&size={}", head.size + 1),
            "size",
        ),
        ("proofs/inclusion?position=1&size=0".to_owned(), "size"),
        (
            format!("proofs/consistency?first=1&second={}", head.size + 1),
            "second",
        ),
        ("proofs/consistency?first=3&second=2".to_owned(), "first"),
    ] {
        let (status, value, _) = call(
            &fixture.app,
            "GET",
            &format!("/v1/contracts/{OWN}/{path}"),
            Some(&evaluator),
            None,
        )
        .await;
        assert_eq!(
            (status.as_u16(), value["field"].as_str()),
            (422, Some(field)),
            "{path}: {value}"
        );
    }
    let (status, _, _) = call(
        &fixture.app,
        "GET",
        &format!("/v1/contracts/{OWN}/proofs/inclusion?position=1"),
        Some(&key(Role::Provider)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn indicators_over_a_range_of_dates_are_those_of_the_same_days_and_bad_dates_name_their_parameter(
    fixture: Fixture,
) {
    let evaluator = key(Role::Evaluator);
    let get = |path: String| {
        let app = fixture.app.clone();
        let evaluator = evaluator.clone();
        async move { call(&app, "GET", &path, Some(&evaluator), None).await }
    };
    // A range that is a period's days gives that period's values, indicator by indicator; one
    // across the turn of a year (the seed's window) is answered as well, with its dates.
    for (period, from, to) in [
        ("2023-Q3", "2023-07-01", "2023-10-01"),
        ("2023-07", "2023-07-01", "2023-08-01"),
        ("2023", "2023-01-01", "2024-01-01"),
    ] {
        let (status, by_period, _) =
            get(format!("/v1/contracts/{OWN}/indicators?period={period}")).await;
        assert_eq!(status, StatusCode::OK, "{by_period}");
        let (status, by_dates, _) = get(format!(
            "/v1/contracts/{OWN}/indicators?from={from}&to={to}"
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{by_dates}");
        assert_eq!(by_dates["indicators"], by_period["indicators"], "{period}");
        assert_eq!(
            (by_dates["from"].as_str(), by_dates["to"].as_str()),
            (Some(from), Some(to))
        );
        assert!(by_dates.get("period").is_none(), "{by_dates}");
    }
    let (status, window, _) = get(format!(
        "/v1/contracts/{OWN}/indicators?from=2023-07-01&to=2024-04-01&as_of=3"
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{window}");
    assert_eq!(window["as_of"], 3);
    // Orders of the fixture fall in July 2023: none before it.
    let (_, june, _) = get(format!(
        "/v1/contracts/{OWN}/indicators?from=2023-06-01&to=2023-07-01"
    ))
    .await;
    let orders = june["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["id"] == "orders_placed")
        .expect("orders_placed");
    assert_eq!(orders["value"], 0, "{june}");
    for (query, code, field) in [
        ("from=2023-07-01", "missing_field", "to"),
        ("to=2024-04-01", "missing_field", "from"),
        ("from=2023-13-01&to=2024-04-01", "invalid_value", "from"),
        ("from=01/07/2023&to=2024-04-01", "invalid_value", "from"),
        ("from=2023-07-01&to=2024-02-30", "invalid_value", "to"),
        ("from=2023-07-01&to=2023-07-01", "invalid_value", "to"),
        ("from=2024-04-01&to=2023-07-01", "invalid_value", "to"),
        (
            "period=2023&from=2023-07-01&to=2024-04-01",
            "invalid_value",
            "period",
        ),
        (
            "from=2023-07-01&to=2024-04-01&as_of=x",
            "invalid_type",
            "as_of",
        ),
        ("from=2023-07-01&until=2024-04-01", "unknown_field", "until"),
    ] {
        let (status, value, _) = get(format!("/v1/contracts/{OWN}/indicators?{query}")).await;
        assert_eq!(
            (status, value["code"].as_str(), value["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some(field)),
            "{query}: {value}"
        );
    }
}

async fn indicators_answer_as_the_offline_computation_and_bad_queries_name_their_field(
    fixture: Fixture,
) {
    let evaluator = key(Role::Evaluator);
    let own = ContractId::parse(OWN).expect("valid");
    let head = size(&fixture.store, OWN).await;
    let entries: Vec<esito_log::Entry> = fixture
        .store
        .entries(&own, 0, 10_000)
        .await
        .expect("entries")
        .iter()
        .map(|stored| serde_json::from_str(&stored.entry).expect("an entry"))
        .collect();
    let definitions = esito_indicators::templates::embedded("cuneo")
        .expect("embedded")
        .expect("parses");
    for (period, as_of) in [
        ("2023-Q3", None),
        ("2023", Some(5)),
        ("2023-07", Some(head)),
    ] {
        let query = as_of.map_or(String::new(), |as_of| format!("&as_of={as_of}"));
        let path = format!("/v1/contracts/{OWN}/indicators?period={period}{query}");
        let (status, value, _) = call(&fixture.app, "GET", &path, Some(&evaluator), None).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        let offline = esito_indicators::offline::indicators(
            &definitions,
            entries
                .iter()
                .cloned()
                .map(Ok::<_, std::convert::Infallible>),
            period.parse().expect("a period"),
            as_of,
        )
        .expect("infallible")
        .expect("a report");
        assert_eq!(
            value,
            serde_json::to_value(&offline).expect("json"),
            "{period}"
        );
        assert_eq!(value["as_of"], json!(as_of.unwrap_or(head)));
    }
    // The fixture's orders fall in July 2023: the count is theirs, and its explanation pages
    // through exactly that many facts.
    let path = format!("/v1/contracts/{OWN}/indicators?period=2023-Q3");
    let (_, value, _) = call(&fixture.app, "GET", &path, Some(&evaluator), None).await;
    let orders = value["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["id"] == "orders_placed")
        .expect("orders_placed")["value"]
        .as_u64()
        .expect("a count");
    assert!(orders >= 2, "{value}");
    let mut explained = Vec::new();
    let mut after = 0;
    loop {
        let path = format!(
            "/v1/contracts/{OWN}/indicators/orders_placed/explain?period=2023-Q3&limit=3&after={after}"
        );
        let (status, page, _) = call(&fixture.app, "GET", &path, Some(&evaluator), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        explained.extend(page["facts"].as_array().expect("facts").iter().cloned());
        match page["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(explained.len() as u64, orders);
    assert!(explained
        .windows(2)
        .all(|pair| pair[0]["position"].as_u64() < pair[1]["position"].as_u64()));
    // Who may read, and what a bad query is told.
    let provider = key(Role::Provider);
    for (path, who, status, code, field) in [
        (
            format!("/v1/contracts/{OWN}/indicators?period=2023-Q3"),
            Some(provider.as_str()),
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        ),
        (
            format!("/v1/contracts/{OWN}/indicators?period=2023-Q3"),
            None,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        ),
        (
            format!("/v1/contracts/{OTHER}/indicators?period=2023-Q3"),
            Some(evaluator.as_str()),
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        ),
        (
            format!("/v1/contracts/{OWN}/indicators"),
            Some(evaluator.as_str()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            Some("period"),
        ),
        (
            format!("/v1/contracts/{OWN}/indicators?period=2023-Q5"),
            Some(evaluator.as_str()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("period"),
        ),
        (
            format!("/v1/contracts/{OWN}/indicators?period=2023&as_of=x"),
            Some(evaluator.as_str()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_type",
            Some("as_of"),
        ),
        (
            format!(
                "/v1/contracts/{OWN}/indicators?period=2023&as_of={}",
                head + 1
            ),
            Some(evaluator.as_str()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("as_of"),
        ),
        (
            format!("/v1/contracts/{OWN}/indicators?period=2023&asof=3"),
            Some(evaluator.as_str()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("asof"),
        ),
        (
            format!("/v1/contracts/{OWN}/indicators/no_such/explain?period=2023"),
            Some(evaluator.as_str()),
            StatusCode::NOT_FOUND,
            "unknown_indicator",
            None,
        ),
    ] {
        let (got, value, _) = call(&fixture.app, "GET", &path, who, None).await;
        assert_eq!(
            (got, value["code"].as_str()),
            (status, Some(code)),
            "{path}: {value}"
        );
        assert_eq!(value["field"].as_str(), field, "{path}: {value}");
    }
    // The projector reports no lag once it has caught up.
    let state = esito_api::AppState::new(fixture.store.clone());
    esito_api::indicators::project_all(&state)
        .await
        .expect("a pass");
    let app = esito_api::router(state);
    let request = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .expect("a request");
    let response = app.oneshot(request).await.expect("metrics");
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body")
            .to_vec(),
    )
    .expect("text");
    assert!(text.contains("esito_projection_lag_entries 0"), "{text}");
}

async fn checkpoints_before_and_after_a_rotation_each_verify_with_their_own_key(fixture: Fixture) {
    use esito_log::signing::{verify_signature, CheckpointKey};
    let admin = key(Role::Admin);
    let path = format!("/v1/contracts/{OWN}/checkpoints");
    let (old, new) = (
        CheckpointKey::from_seed([1; 32]),
        CheckpointKey::from_seed([2; 32]),
    );
    let (old_id, old_public) = (old.key_id().to_owned(), old.public_key());
    let (new_id, new_public) = (new.key_id().to_owned(), new.public_key());
    let before = esito_api::router(esito_api::AppState::with_checkpoint_key(
        fixture.store.clone(),
        old,
    ));
    let (status, first, _) = call(&before, "POST", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");

    // `esito keys rotate-signing`, then the service restarted with the new key.
    fixture
        .store
        .rotate_signing_key(Some((&old_id, &old_public)), (&new_id, &new_public))
        .await
        .expect("rotated");
    let (status, refused, _) = call(&before, "POST", &path, Some(&admin), None).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")),
        "a retired key signs nothing more: {refused}"
    );
    let after = esito_api::router(esito_api::AppState::with_checkpoint_key(
        fixture.store.clone(),
        new,
    ));
    let (status, second, _) = call(&after, "POST", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");

    let (status, current, _) = call(&after, "GET", "/v1/checkpoint-key", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        current,
        json!({ "key_id": new_id, "public_key": new_public })
    );
    let (status, listed, _) = call(&after, "GET", "/v1/checkpoint-keys", None, None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let keys = listed["keys"].as_array().expect("a list");
    let summary: Vec<(&str, &str, bool)> = keys
        .iter()
        .map(|k| {
            (
                k["key_id"].as_str().expect("an id"),
                k["public_key"].as_str().expect("a key"),
                k["retired_at"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (old_id.as_str(), old_public.as_str(), true),
            (new_id.as_str(), new_public.as_str(), false)
        ]
    );
    let public_key_of = |key_id: &str| {
        keys.iter()
            .find(|k| k["key_id"] == key_id)
            .and_then(|k| k["public_key"].as_str())
            .expect("every checkpoint's key is listed")
            .to_owned()
    };
    for (checkpoint, signer, other) in [
        (first, &old_id, &new_public),
        (second, &new_id, &old_public),
    ] {
        let checkpoint: esito_log::Checkpoint =
            serde_json::from_value(checkpoint).expect("a checkpoint");
        assert_eq!(checkpoint.key_id.as_str(), signer);
        verify_signature(&checkpoint, &public_key_of(checkpoint.key_id.as_str()))
            .expect("verifies with its own key");
        assert!(verify_signature(&checkpoint, other).is_err());
    }
}

/// The issue of `order` in the own contract, corrected (by the operator) to `provider`.
async fn correct_issue_to(fixture: &Fixture, order: &str, provider: &str) {
    let own = ContractId::parse(OWN).expect("valid");
    let entries = fixture
        .store
        .stream_entries(
            &own,
            &esito_domain::StreamRef::new(esito_domain::StreamType::Order, id(order)),
        )
        .await
        .expect("the order's entries");
    let issue = entries
        .iter()
        .map(|stored| serde_json::from_str::<esito_log::Entry>(&stored.entry).expect("an entry"))
        .find(|entry| entry.event_type == "TokenIssued")
        .expect("the token's issue");
    let esito_domain::Event::TokenIssued(mut token) =
        esito_domain::Event::from_parts(&issue.event_type, issue.payload).expect("a TokenIssued")
    else {
        unreachable!("from_parts gives the event type it was asked for");
    };
    token.provider_id = id(provider);
    fixture
        .store
        .append(
            &own,
            "operator",
            &[submit(
                "2023-07-04T10:00:00+02:00",
                Command::CorrectEvent {
                    corrects: EventId::parse_str(&issue.event_id).expect("an id"),
                    replacement: esito_domain::Event::TokenIssued(token),
                },
            )],
        )
        .await
        .expect("the correction is valid");
}

/// A provider's commands follow the provider the order stream names once corrections apply:
/// a token corrected away from prov-1 is no longer its to speak about, one corrected to it is.
async fn a_providers_commands_follow_the_token_as_its_issue_was_corrected(fixture: Fixture) {
    let provider = key(Role::Provider);
    let command = |name: &str| format!("/v1/contracts/{OWN}/commands/{name}");
    correct_issue_to(&fixture, "ord-0", "prov-2").await;
    correct_issue_to(&fixture, "ord-prov-2", "prov-1").await;
    let before = size(&fixture.store, OWN).await;
    for (name, body) in [
        (
            "record-delivery",
            json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": "ord-0", "provider_id": "prov-1"}),
        ),
        (
            "agree-delivery-time",
            json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": "ord-0", "agreed_for": "2024-01-11T12:00:00+01:00"}),
        ),
    ] {
        let (status, value, _) = call(
            &fixture.app,
            "POST",
            &command(name),
            Some(&provider),
            Some(body.to_string()),
        )
        .await;
        assert_eq!(
            (status, value["code"].as_str(), value["field"].as_str()),
            (
                StatusCode::FORBIDDEN,
                Some("not_your_token"),
                Some("order_id")
            ),
            "{name} of a token corrected away: {value}"
        );
    }
    assert_eq!(size(&fixture.store, OWN).await, before, "nothing written");
    // The operator still speaks for every provider: the token, as corrected, is prov-2's.
    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &command("record-delivery"),
        Some(&key(Role::Operator)),
        Some(json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": "ord-0", "provider_id": "prov-1"}).to_string()),
    )
    .await;
    assert_eq!(
        value["code"], "token_delivered_by_another_provider",
        "{status} {value}"
    );
    // The token corrected to prov-1 is now its own, and among the tokens it lists.
    let (status, value, _) = call(
        &fixture.app,
        "POST",
        &command("record-delivery"),
        Some(&provider),
        Some(json!({"occurred_at": "2024-01-10T12:00:00+01:00", "order_id": "ord-prov-2", "provider_id": "prov-1"}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    let (_, tokens, _) = call(
        &fixture.app,
        "GET",
        &format!("/v1/contracts/{OWN}/tokens?limit=1000"),
        Some(&provider),
        None,
    )
    .await;
    let listed: Vec<&str> = tokens["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|token| token["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(listed.len(), ORDERS, "{tokens}");
    assert!(
        listed.contains(&"ord-prov-2") && !listed.contains(&"ord-0"),
        "{listed:?}"
    );
}

/// The roles in the order of the marks in the tables below.
const ROLES: [Role; 6] = [
    Role::Admin,
    Role::Operator,
    Role::Provider,
    Role::Payer,
    Role::Funder,
    Role::Evaluator,
];

/// Who may send each command, written out by hand: `y` may, `-` may not, for the roles of
/// `ROLES` in order (admin, operator, provider, payer, funder, evaluator).
const COMMAND_TABLE: [(&str, &str); 55] = [
    ("RegisterContract", "y-----"),
    ("AmendContract", "y-----"),
    ("AccreditProvider", "yy----"),
    ("RequestProviderAccreditation", "yy----"),
    ("SuspendProvider", "yy----"),
    ("ReinstateProvider", "yy----"),
    ("ListProduct", "yy----"),
    ("ChangeProductPrice", "yy----"),
    ("WithdrawProduct", "yy----"),
    ("StartProductPrototype", "yy----"),
    ("RegisterBeneficiary", "yy----"),
    ("UpdateBeneficiary", "yy----"),
    ("AssessNeed", "yy----"),
    ("MakeReferral", "yy----"),
    ("PlaceOrder", "yy----"),
    ("IssueToken", "yy----"),
    ("AgreeDeliveryTime", "yyy---"),
    ("RecordDelivery", "yyy---"),
    ("ExpireToken", "yy----"),
    ("RefundToken", "yy----"),
    ("CancelOrder", "yy----"),
    ("RecordClientPayment", "yy----"),
    ("RecordProviderPayment", "yy----"),
    ("RecordSolidarityCover", "yy----"),
    ("MakeUnitAvailable", "yy----"),
    ("StartTenancy", "yy----"),
    ("ChargeRent", "yy----"),
    ("RecordRentPayment", "yy----"),
    ("RecordTenantMilestone", "yy----"),
    ("EndTenancy", "yy----"),
    ("RecordAccess", "yy----"),
    ("RecordOutcome", "yy----"),
    ("StartPlacement", "yy----"),
    ("EndPlacement", "yy----"),
    ("RehouseHousehold", "yy----"),
    ("EnrolInPath", "yy----"),
    ("ReassessPath", "yy----"),
    ("RecordPathMilestone", "yy----"),
    ("ExitPath", "yy----"),
    ("DefinePhase", "yy----"),
    ("InvoiceAdvance", "yy----"),
    ("IssueInvoice", "yy----"),
    ("SubmitDeliverable", "yy----"),
    ("AcceptDeliverable", "yy----"),
    ("RecordInvoicePayment", "yy----"),
    // The service computes and records a calculation itself: no key sends it.
    ("CalculateSettlement", "------"),
    // The service records an erasure itself, as `DELETE .../identities/{id}` asks.
    ("EraseIdentity", "------"),
    ("ValidateSettlement", "-----y"),
    ("CertifySettlement", "---y--"),
    ("ApproveSettlement", "---y--"),
    ("RecordSettlementPayment", "---y--"),
    ("WithdrawSettlement", "---y--"),
    ("CorrectEvent", "yy----"),
    ("VoidEvent", "yy----"),
    // Not a command of the domain: refused to every role, as any name the table does not know.
    ("Teleport", "------"),
];

/// Every action that is not a command, with its answers written out by hand as above.
const ACTION_TABLE: [(Action, &str); 15] = [
    (Action::SendBatch, "yyyyyy"),
    (Action::CalculateSettlement, "y--y--"),
    (Action::MakeCheckpoint, "y-----"),
    (Action::ReachEveryContract, "y-----"),
    (Action::ReadLog, "yy-yyy"),
    (Action::ReadProofs, "yy-yyy"),
    (Action::ReadIndicators, "yy-yyy"),
    (Action::ExportLog, "y--yyy"),
    (Action::ReadSettlements, "yy-yyy"),
    (Action::ReadLists, "yy-yyy"),
    (Action::ReadOwnTokens, "yyyyyy"),
    (Action::SpeakForEveryProvider, "yy----"),
    (Action::ManageKeys, "y-----"),
    (Action::WriteIdentities, "yy----"),
    (Action::ReadIdentities, "-y----"),
];

/// The expected answer for `role` and `action`, from the tables; the match names every action,
/// so a new one does not compile until it has a row.
fn oracle(role: Role, action: Action) -> bool {
    let marks = match action {
        Action::Command(name) => {
            COMMAND_TABLE
                .iter()
                .find(|(command, _)| *command == name)
                .unwrap_or_else(|| panic!("{name} has no row in the command table"))
                .1
        }
        Action::SendBatch
        | Action::CalculateSettlement
        | Action::MakeCheckpoint
        | Action::ReachEveryContract
        | Action::ReadLog
        | Action::ReadProofs
        | Action::ReadIndicators
        | Action::ExportLog
        | Action::ReadSettlements
        | Action::ReadLists
        | Action::ReadOwnTokens
        | Action::SpeakForEveryProvider
        | Action::ManageKeys
        | Action::WriteIdentities
        | Action::ReadIdentities => {
            ACTION_TABLE
                .iter()
                .find(|(listed, _)| *listed == action)
                .unwrap_or_else(|| panic!("{action:?} has no row in the action table"))
                .1
        }
    };
    let index = ROLES
        .iter()
        .position(|listed| *listed == role)
        .expect("every role has a column");
    marks.as_bytes()[index] == b'y'
}

#[test]
fn the_permission_table_answers_every_role_and_action_as_written_out() {
    // Every command the API serves, and the service's own, has its row (and no row is stale).
    let mut served: Vec<&str> = esito_api::catalog::catalog()
        .schemas
        .keys()
        .copied()
        .chain(esito_api::auth::SERVICE_COMMANDS.iter().copied())
        .collect();
    served.sort_unstable();
    let mut written: Vec<&str> = COMMAND_TABLE
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != "Teleport")
        .collect();
    written.sort_unstable();
    assert_eq!(served, written);
    let actions = COMMAND_TABLE
        .iter()
        .map(|(name, _)| Action::Command(name))
        .chain(ACTION_TABLE.iter().map(|(action, _)| *action));
    let mut checked = 0;
    for action in actions {
        for role in Role::ALL {
            assert_eq!(
                role.may(action),
                oracle(role, action),
                "{} and {action:?}",
                role.as_str()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * (COMMAND_TABLE.len() + ACTION_TABLE.len()));
}

/// One request of the walk: the route's template (as the OpenAPI document names it), the
/// method, the path and body on `contract`, and the action the table decides it by.
struct Route {
    template: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
    actions: Vec<Action>,
}

fn routes(contract: &str, first_event: &str) -> Vec<Route> {
    let route = |template, method, path: &str, body: Option<Value>, actions: Vec<Action>| Route {
        template,
        method,
        path: format!("/v1/contracts/{contract}{path}"),
        body: body.map(|body| body.to_string()),
        actions,
    };
    let mut registration: Value = serde_json::to_value(&contract_fixture()[0]).expect("json");
    let mut register = registration["command"].take();
    register.as_object_mut().expect("object").remove("type");
    register["contract_id"] = json!(contract);
    register["occurred_at"] = registration["occurred_at"].take();
    let as_of = json!({"as_of": 1});
    vec![
        Route {
            template: "/v1/contracts",
            method: "POST",
            path: "/v1/contracts".to_owned(),
            body: Some(register.to_string()),
            actions: vec![Action::Command("RegisterContract")],
        },
        // One batch of one access: the batch, then its item, are each decided by the table.
        route(
            "/v1/contracts/{contract}/batch",
            "POST",
            "/batch",
            Some(json!({"items": [access_item(9)]})),
            vec![Action::SendBatch, Action::Command("RecordAccess")],
        ),
        route(
            "/v1/contracts/{contract}/events",
            "GET",
            "/events?limit=5",
            None,
            vec![Action::ReadLog],
        ),
        // A CSV import of one access: the table decides the batch and the command.
        route(
            "/v1/contracts/{contract}/imports",
            "POST",
            "/imports?command=record-access",
            None,
            vec![Action::SendBatch, Action::Command("RecordAccess")],
        ),
        route(
            "/v1/contracts/{contract}/export",
            "GET",
            "/export?after=1",
            None,
            vec![Action::ExportLog],
        ),
        route(
            "/v1/contracts/{contract}/export/indigo",
            "GET",
            "/export/indigo",
            None,
            vec![Action::ExportLog],
        ),
        route(
            "/v1/contracts/{contract}/events/{event_id}",
            "GET",
            &format!("/events/{first_event}"),
            None,
            vec![Action::ReadLog],
        ),
        route(
            "/v1/contracts/{contract}/streams/{stream_type}/{stream_id}",
            "GET",
            "/streams/order/ord-0",
            None,
            vec![Action::ReadLog],
        ),
        route(
            "/v1/contracts/{contract}/proofs/inclusion",
            "GET",
            "/proofs/inclusion?position=1",
            None,
            vec![Action::ReadProofs],
        ),
        route(
            "/v1/contracts/{contract}/proofs/consistency",
            "GET",
            "/proofs/consistency?first=1&second=2",
            None,
            vec![Action::ReadProofs],
        ),
        route(
            "/v1/contracts/{contract}/checkpoints",
            "POST",
            "/checkpoints",
            None,
            vec![Action::MakeCheckpoint],
        ),
        route(
            "/v1/contracts/{contract}/checkpoint",
            "GET",
            "/checkpoint",
            None,
            vec![Action::ReadProofs],
        ),
        route(
            "/v1/contracts/{contract}/checkpoint/verifier-key",
            "GET",
            "/checkpoint/verifier-key",
            None,
            vec![Action::ReadProofs],
        ),
        route(
            "/v1/contracts/{contract}/checkpoints/latest",
            "GET",
            "/checkpoints/latest",
            None,
            vec![Action::ReadProofs],
        ),
        route(
            "/v1/contracts/{contract}/indicators",
            "GET",
            "/indicators?period=2023-Q3",
            None,
            vec![Action::ReadIndicators],
        ),
        route(
            "/v1/contracts/{contract}/indicators/{indicator}/explain",
            "GET",
            "/indicators/orders_placed/explain?period=2023-Q3",
            None,
            vec![Action::ReadIndicators],
        ),
        route(
            "/v1/contracts/{contract}/settlements",
            "POST",
            "/settlements",
            Some(json!({"period": "2023-Q3"})),
            vec![Action::CalculateSettlement],
        ),
        route(
            "/v1/contracts/{contract}/settlements",
            "GET",
            "/settlements",
            None,
            vec![Action::ReadSettlements],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}",
            "GET",
            "/settlements/2023-Q3",
            None,
            vec![Action::ReadSettlements],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}/html",
            "GET",
            "/settlements/2023-Q3/html",
            None,
            vec![Action::ReadSettlements],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}/validate",
            "POST",
            "/settlements/2023-Q3/validate",
            Some(as_of.clone()),
            vec![Action::Command("ValidateSettlement")],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}/certify",
            "POST",
            "/settlements/2023-Q3/certify",
            Some(json!({"as_of": 1, "certified_on": "2023-10-30"})),
            vec![Action::Command("CertifySettlement")],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}/approve",
            "POST",
            "/settlements/2023-Q3/approve",
            Some(as_of),
            vec![Action::Command("ApproveSettlement")],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}/pay",
            "POST",
            "/settlements/2023-Q3/pay",
            Some(json!({"paid_on": "2023-10-30", "reference": "walk"})),
            vec![Action::Command("RecordSettlementPayment")],
        ),
        route(
            "/v1/contracts/{contract}/settlements/{period}/withdraw",
            "POST",
            "/settlements/2023-Q3/withdraw",
            Some(json!({"as_of": 1, "reason": "walk"})),
            vec![Action::Command("WithdrawSettlement")],
        ),
        route(
            "/v1/contracts/{contract}/beneficiaries",
            "GET",
            "/beneficiaries",
            None,
            vec![Action::ReadLists],
        ),
        route(
            "/v1/contracts/{contract}/tenancies",
            "GET",
            "/tenancies",
            None,
            vec![Action::ReadLists],
        ),
        route(
            "/v1/contracts/{contract}/placements",
            "GET",
            "/placements",
            None,
            vec![Action::ReadLists],
        ),
        // Every token, or the key's own provider's: a provider lists its own.
        route(
            "/v1/contracts/{contract}/tokens",
            "GET",
            "/tokens",
            None,
            vec![Action::ReadOwnTokens],
        ),
        // The vault: an identity registered on each contract beforehand.
        route(
            "/v1/contracts/{contract}/identities/{beneficiary_id}",
            "PUT",
            "/identities/ben-1",
            Some(json!({"given_name": "Anna", "family_name": "Walk"})),
            vec![Action::WriteIdentities],
        ),
        route(
            "/v1/contracts/{contract}/identities/{beneficiary_id}",
            "GET",
            "/identities/ben-1",
            None,
            vec![Action::ReadIdentities],
        ),
        route(
            "/v1/contracts/{contract}/identities",
            "GET",
            "/identities?fiscal_code=RSSMRA85T10A562S",
            None,
            vec![Action::ReadIdentities],
        ),
        // Erasing the one walked on would end the walk's reads: no identity, so 404 when allowed.
        route(
            "/v1/contracts/{contract}/identities/{beneficiary_id}",
            "DELETE",
            "/identities/ben-none",
            None,
            vec![Action::WriteIdentities],
        ),
        // Keys are no contract's: only a key that reaches every contract manages them.
        Route {
            template: "/v1/keys",
            method: "GET",
            path: "/v1/keys".to_owned(),
            body: None,
            actions: vec![Action::ManageKeys, Action::ReachEveryContract],
        },
        Route {
            template: "/v1/keys",
            method: "POST",
            path: "/v1/keys".to_owned(),
            body: Some(json!({"role": "evaluator", "contracts": [contract]}).to_string()),
            actions: vec![Action::ManageKeys, Action::ReachEveryContract],
        },
        // No such key: the admin is answered 404, every other role 403.
        Route {
            template: "/v1/keys/{key_id}",
            method: "DELETE",
            path: "/v1/keys/0000000000000000".to_owned(),
            body: None,
            actions: vec![Action::ManageKeys, Action::ReachEveryContract],
        },
    ]
}

/// Each route of the API, on the own contract and on another, by each role: the status is 403
/// exactly when the permission table (the oracle above) refuses the role the route's actions
/// or the key does not reach the contract; a read allowed answers 200, and nothing else
/// allowed answers 401 or 403. Each command endpoint is walked with an empty body.
async fn every_route_answers_each_role_as_the_permission_table_says(fixture: Fixture) {
    let master = esito_vault::MasterKey::generate().expect("randomness");
    fixture
        .store
        .adopt_vault_master_key(&master.key_id())
        .await
        .expect("recorded");
    for contract in [OWN, OTHER] {
        let identity: esito_vault::Identity = serde_json::from_value(json!({
            "given_name": "Anna", "family_name": "Walk", "fiscal_code": "RSSMRA85T10A562S"
        }))
        .expect("valid");
        let sealed = master.seal(contract, "ben-1", &identity).expect("sealed");
        fixture
            .store
            .put_identity(
                contract,
                "ben-1",
                &master.key_id(),
                &esito_store::identities::SealedRow {
                    wrapped_key: sealed.wrapped_key,
                    ciphertext: sealed.ciphertext,
                    fiscal_code_hmac: sealed.fiscal_code_hmac,
                },
            )
            .await
            .expect("registered");
    }
    let app = esito_api::router(esito_api::AppState::serving(
        fixture.store.clone(),
        Some(esito_log::signing::CheckpointKey::from_seed([5; 32])),
        esito_api::identities::Vault::Open(master),
    ));
    // Payment terms, so that a period can be settled and its settlement read.
    for contract in [OWN, OTHER] {
        fixture
            .store
            .append(
                &ContractId::parse(contract).expect("valid"),
                "admin",
                &[submit(
                    "2023-07-01T09:05:00+02:00",
                    router_fixture::rate_card_from_the_start("orders_placed", "1", None),
                )],
            )
            .await
            .expect("the amendment is valid");
    }
    let first_event = |contract: &'static str| {
        let store = fixture.store.clone();
        async move {
            let entries = store
                .entries(&ContractId::parse(contract).expect("valid"), 0, 1)
                .await
                .expect("read");
            serde_json::from_str::<esito_log::Entry>(&entries[0].entry)
                .expect("entry")
                .event_id
        }
    };
    let mut walked = std::collections::BTreeSet::new();
    let mut requests = 0;
    for contract in [OWN, OTHER] {
        let mut routes = routes(contract, &first_event(contract).await);
        for (path, name) in &esito_api::catalog::catalog().by_path {
            if *name != "RegisterContract" {
                routes.push(Route {
                    template: "/v1/contracts/{contract}/commands/{command}",
                    method: "POST",
                    path: format!("/v1/contracts/{contract}/commands/{path}"),
                    body: Some("{}".to_owned()),
                    actions: vec![Action::Command(name)],
                });
            }
        }
        for route in routes {
            walked.insert(route.template);
            for role in ROLES {
                let reaches = contract == OWN || oracle(role, Action::ReachEveryContract);
                let allowed = reaches && route.actions.iter().all(|action| oracle(role, *action));
                let (status, value, _) = call(
                    &app,
                    route.method,
                    &route.path,
                    Some(&key(role)),
                    route.body.clone(),
                )
                .await;
                requests += 1;
                let what = format!(
                    "{} {} by {}: {status} {value}",
                    route.method,
                    route.path,
                    role.as_str()
                );
                if !allowed {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                } else if route.method == "GET" {
                    assert_eq!(status, StatusCode::OK, "{what}");
                } else {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{what}"
                    );
                }
            }
        }
    }
    // Every route of the document that needs a key was walked.
    let document = esito_api::openapi::document();
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/v1/checkpoint-key",
        "/v1/checkpoint-keys",
    ];
    let documented: std::collections::BTreeSet<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(|path| {
            if path.starts_with("/v1/contracts/{contract}/commands/") {
                "/v1/contracts/{contract}/commands/{command}"
            } else {
                path.as_str()
            }
        })
        .filter(|path| !public.contains(path))
        .collect();
    assert_eq!(walked, documented);
    assert!(requests > 2 * 6 * 60, "{requests} requests");
}
