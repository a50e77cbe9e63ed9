//! Strict HTTP, on SQLite and on a real PostgreSQL: every refusal, routing, method, query, body
//! and content type included, is problem+json naming its code and field, and writes nothing;
//! limits are refused, not clamped; every write carries its event id, in the body or derived
//! from an `Idempotency-Key` header, so a retry writes once.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use esito_api::auth::Role;
use esito_domain::{ContractId, Submission};
use esito_store::Store;
use serde_json::{json, Value};

mod router_fixture;
use esito_testkit::{both_stores, Fresh};
use router_fixture::{centre_access, key, log_size, register_contract, Answer, Fixture};

const CONTRACT: &str = "strict-contract";

both_stores!(
    fixture = fixture;
    each_bad_request_is_problem_json_with_its_code_and_field_and_writes_nothing,
    a_body_that_is_not_json_is_refused_as_unsupported_and_writes_nothing,
    an_unknown_route_is_not_found_and_an_unknown_method_names_the_allowed_ones,
    a_write_without_an_event_id_or_with_the_nil_uuid_is_refused,
    an_idempotency_key_sent_twice_writes_once_and_both_answers_agree,
    a_batch_item_needs_its_own_event_id,
);

async fn fixture(fresh: Fresh) -> Fixture {
    let contract = ContractId::parse(CONTRACT).expect("valid");
    let mut submissions: Vec<Submission> = vec![register_contract("Strict")];
    for n in 0..3 {
        submissions.push(centre_access(n, "2023-08-10T10:00:00+02:00"));
    }
    router_fixture::serve(fresh, &contract, &submissions, esito_api::AppState::new).await
}

/// A request: method, path, key, headers (name, value), body.
struct Call<'a> {
    method: &'a str,
    path: String,
    role: Option<Role>,
    headers: Vec<(&'a str, String)>,
    body: Option<String>,
}

impl<'a> Call<'a> {
    fn get(path: String) -> Self {
        Self {
            method: "GET",
            path,
            role: Some(Role::Evaluator),
            headers: vec![],
            body: None,
        }
    }

    /// A JSON body, sent as `application/json` by the operator.
    fn post(path: String, body: Value) -> Self {
        Self {
            method: "POST",
            path,
            role: Some(Role::Operator),
            headers: vec![("content-type", "application/json".to_owned())],
            body: Some(body.to_string()),
        }
    }

    fn by(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    fn method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }

    /// Sets a header, in place of one of the same name.
    fn header(mut self, name: &'a str, value: &str) -> Self {
        self.headers.retain(|(known, _)| *known != name);
        self.headers.push((name, value.to_owned()));
        self
    }

    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(known, _)| *known != name);
        self
    }

    fn raw_body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }
}

async fn send(app: &Router, call: Call<'_>) -> Answer {
    let mut request = Request::builder().method(call.method).uri(&call.path);
    if let Some(role) = call.role {
        request = request.header("authorization", format!("Bearer {}", key(role)));
    }
    for (name, value) in &call.headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(call.body.map_or_else(Body::empty, Body::from))
        .expect("a request");
    router_fixture::send(app, request).await
}

async fn size(store: &Store) -> u64 {
    log_size(store, &ContractId::parse(CONTRACT).expect("valid")).await
}

fn contract_path(rest: &str) -> String {
    format!("/v1/contracts/{CONTRACT}/{rest}")
}

/// A centre access in the contract's term, without an event id.
fn access(n: &str) -> Value {
    json!({
        "occurred_at": "2024-01-10T10:00:00+01:00",
        "access_id": format!("acc-strict-{n}"),
        "channel": "in_person",
        "need": "elderly_care",
        "outcome": {"kind": "information_only"}
    })
}

fn with_event_id(mut body: Value) -> Value {
    body["event_id"] = json!(uuid::Uuid::new_v4());
    body
}

fn record_access() -> String {
    contract_path("commands/record-access")
}

/// Sends `call` and checks the refusal: its status, problem+json, `code` and `field`, and that
/// the log did not move.
async fn refused(
    fixture: &Fixture,
    what: &str,
    call: Call<'_>,
    status: u16,
    code: &str,
    field: Option<&str>,
) -> Answer {
    let before = size(&fixture.store).await;
    let answer = send(&fixture.app, call).await;
    assert_eq!(
        (answer.status.as_u16(), answer.json["code"].as_str()),
        (status, Some(code)),
        "{what}: {}",
        answer.text
    );
    assert_eq!(
        answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}"
    );
    assert_eq!(
        answer.json["status"].as_u64(),
        Some(u64::from(status)),
        "{what}"
    );
    assert_eq!(
        answer.json["field"].as_str(),
        field,
        "{what}: {}",
        answer.text
    );
    assert_eq!(size(&fixture.store).await, before, "{what} wrote nothing");
    answer
}

async fn each_bad_request_is_problem_json_with_its_code_and_field_and_writes_nothing(
    fixture: Fixture,
) {
    let uuid = uuid::Uuid::new_v4();
    let batch = || {
        json!({"items": [{"type": "RecordAccess", "event_id": uuid::Uuid::new_v4(),
            "occurred_at": "2024-01-10T10:00:00+01:00", "access_id": "acc-batch-1",
            "channel": "phone", "need": "housing", "outcome": {"kind": "information_only"}}]})
    };
    // (what, request, status, code, field)
    let cases: Vec<(&str, Call, u16, &str, Option<&str>)> = vec![
        (
            "limit not a number",
            Call::get(contract_path("events?limit=abc")),
            422,
            "invalid_type",
            Some("limit"),
        ),
        (
            "negative after",
            Call::get(contract_path("events?after=-1")),
            422,
            "invalid_value",
            Some("after"),
        ),
        (
            "limit beyond any integer",
            Call::get(contract_path("events?limit=1000000000000")),
            422,
            "invalid_value",
            Some("limit"),
        ),
        (
            "limit above its maximum",
            Call::get(contract_path("events?limit=1001")),
            422,
            "invalid_value",
            Some("limit"),
        ),
        (
            "limit of zero",
            Call::get(contract_path("events?limit=0")),
            422,
            "invalid_value",
            Some("limit"),
        ),
        (
            "after beyond a position",
            Call::get(contract_path("events?after=99999999999999999999")),
            422,
            "invalid_value",
            Some("after"),
        ),
        (
            "unknown parameter",
            Call::get(contract_path("events?colour=blue")),
            422,
            "unknown_field",
            Some("colour"),
        ),
        (
            "a parameter twice",
            Call::get(contract_path("events?limit=5&limit=6")),
            422,
            "invalid_value",
            Some("limit"),
        ),
        (
            "list limit above its maximum",
            Call::get(contract_path("beneficiaries?limit=5000")),
            422,
            "invalid_value",
            Some("limit"),
        ),
        (
            "list unknown parameter",
            Call::get(contract_path("beneficiaries?sort=id")),
            422,
            "unknown_field",
            Some("sort"),
        ),
        (
            "position not a number",
            Call::get(contract_path("proofs/inclusion?position=abc")),
            422,
            "invalid_type",
            Some("position"),
        ),
        (
            "position missing",
            Call::get(contract_path("proofs/inclusion")),
            422,
            "missing_field",
            Some("position"),
        ),
        (
            "size beyond any position",
            Call::get(contract_path(
                "proofs/inclusion?position=1&size=99999999999999999999",
            )),
            422,
            "invalid_value",
            Some("size"),
        ),
        (
            "negative second",
            Call::get(contract_path("proofs/consistency?first=1&second=-2")),
            422,
            "invalid_value",
            Some("second"),
        ),
        (
            "explain limit above its maximum",
            Call::get(contract_path(
                "indicators/centre_accesses/explain?period=2023-Q3&limit=5000",
            )),
            422,
            "invalid_value",
            Some("limit"),
        ),
        (
            "negative as_of",
            Call::get(contract_path("indicators?period=2023-Q3&as_of=-1")),
            422,
            "invalid_value",
            Some("as_of"),
        ),
        (
            "a query where none is read",
            Call::get(contract_path(&format!("events/{uuid}?x=1"))),
            422,
            "unknown_field",
            Some("x"),
        ),
        (
            "a query on a command",
            Call::post(
                format!("{}?dry_run=true", record_access()),
                with_event_id(access("q")),
            ),
            422,
            "unknown_field",
            Some("dry_run"),
        ),
        (
            "atomic neither true nor false",
            Call::post(contract_path("batch?atomic=maybe"), batch()),
            422,
            "invalid_type",
            Some("atomic"),
        ),
        (
            "batch unknown parameter",
            Call::post(contract_path("batch?atomic=true&x=1"), batch()),
            422,
            "unknown_field",
            Some("x"),
        ),
        (
            "malformed JSON",
            Call::post(record_access(), json!(null)).raw_body("{\"occurred_at\": "),
            400,
            "malformed_json",
            None,
        ),
        (
            "a path segment that is not UTF-8",
            Call::get("/v1/contracts/%FF/events".to_owned()),
            404,
            "not_found",
            None,
        ),
    ];
    for (what, call, status, code, field) in cases {
        refused(&fixture, what, call, status, code, field).await;
    }
    // The routes outside /v1/ and the public ones read no query either.
    for (path, parameter) in [
        ("/healthz?verbose=1", "verbose"),
        ("/readyz?verbose=1", "verbose"),
        ("/metrics?name=x", "name"),
        ("/openapi.json?v=2", "v"),
        ("/v1/checkpoint-key?x=1", "x"),
        ("/v1/checkpoint-keys?x=1", "x"),
    ] {
        let call = Call::get(path.to_owned());
        refused(&fixture, path, call, 422, "unknown_field", Some(parameter)).await;
    }
    // A limit at its maximum is served, not refused.
    let answer = send(
        &fixture.app,
        Call::get(contract_path("events?limit=1000&after=0")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

async fn a_body_that_is_not_json_is_refused_as_unsupported_and_writes_nothing(fixture: Fixture) {
    let body = with_event_id(access("ct"));
    let form = "occurred_at=2024-01-10T10%3A00%3A00%2B01%3A00&access_id=acc-form";
    let xml = "<RecordAccess><access_id>acc-xml</access_id></RecordAccess>";
    let cases: Vec<(&str, Call)> = vec![
        (
            "JSON sent as text/plain",
            Call::post(record_access(), body.clone()).header("content-type", "text/plain"),
        ),
        (
            "JSON sent with no content type",
            Call::post(record_access(), body.clone()).without("content-type"),
        ),
        (
            "a form",
            Call::post(record_access(), body.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .raw_body(form),
        ),
        (
            "XML",
            Call::post(record_access(), body.clone())
                .header("content-type", "application/xml")
                .raw_body(xml),
        ),
        (
            "JSON in another charset",
            Call::post(record_access(), body.clone())
                .header("content-type", "application/json; charset=latin1"),
        ),
        (
            "a registration as text/plain",
            Call::post(
                "/v1/contracts".to_owned(),
                json!({"contract_id": "new-one"}),
            )
            .by(Role::Admin)
            .header("content-type", "text/plain"),
        ),
        (
            "a batch as text/plain",
            Call::post(contract_path("batch"), json!({"items": []}))
                .header("content-type", "text/plain"),
        ),
        (
            "a settlement as text/plain",
            Call::post(contract_path("settlements"), json!({"period": "2023-Q3"}))
                .by(Role::Payer)
                .header("content-type", "text/plain"),
        ),
    ];
    for (what, call) in cases {
        refused(
            &fixture,
            what,
            call,
            415,
            "unsupported_media_type",
            Some("content-type"),
        )
        .await;
    }
    // application/json with its charset, and a +json type, are JSON.
    for (n, content_type) in [
        "application/json; charset=utf-8",
        "application/vnd.esito+json",
        "Application/JSON",
    ]
    .into_iter()
    .enumerate()
    {
        let before = size(&fixture.store).await;
        let call = Call::post(record_access(), with_event_id(access(&format!("json-{n}"))))
            .header("content-type", content_type);
        let answer = send(&fixture.app, call).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{content_type}: {}",
            answer.text
        );
        assert_eq!(size(&fixture.store).await, before + 1);
    }
}

async fn an_unknown_route_is_not_found_and_an_unknown_method_names_the_allowed_ones(
    fixture: Fixture,
) {
    for path in [
        "/v1/nowhere".to_owned(),
        "/".to_owned(),
        contract_path("commands"),
        contract_path("settlements/2023-Q3/validate/again"),
        contract_path("wardrobes"),
    ] {
        refused(
            &fixture,
            &path,
            Call::get(path.clone()),
            404,
            "not_found",
            None,
        )
        .await;
    }
    for (method, path, allowed) in [
        ("GET", record_access(), "POST"),
        ("DELETE", contract_path("events"), "GET,HEAD"),
        ("PUT", contract_path("settlements"), "GET,HEAD,POST"),
        ("PATCH", "/v1/contracts".to_owned(), "POST"),
    ] {
        let call = Call::get(path.clone()).method(method);
        let answer = refused(&fixture, &path, call, 405, "method_not_allowed", None).await;
        let mut allow: Vec<String> = answer
            .headers
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .collect();
        allow.sort();
        assert_eq!(allow.join(","), allowed, "{method} {path}");
    }
}

async fn a_write_without_an_event_id_or_with_the_nil_uuid_is_refused(fixture: Fixture) {
    let nil = uuid::Uuid::nil().to_string();
    let mut with_nil = access("nil");
    with_nil["event_id"] = json!(nil);
    let cases: Vec<(&str, Call, u16, &str, Option<&str>)> = vec![
        ("a command without an event id", Call::post(record_access(), access("none")), 422, "missing_field", Some("event_id")),
        ("a command with the nil UUID", Call::post(record_access(), with_nil), 422, "invalid_value", Some("event_id")),
        ("an empty Idempotency-Key",
            Call::post(record_access(), access("empty")).header("idempotency-key", ""), 422, "invalid_value", Some("idempotency-key")),
        ("a settlement without an event id",
            Call::post(contract_path("settlements"), json!({"period": "2023-Q3"})).by(Role::Payer), 422, "missing_field", Some("event_id")),
        ("a settlement step without an event id",
            Call::post(contract_path("settlements/2023-Q3/validate"), json!({"as_of": 4})).by(Role::Evaluator), 422, "missing_field", Some("event_id")),
        ("a registration without an event id",
            Call::post("/v1/contracts".to_owned(), json!({"contract_id": "new-one", "occurred_at": "2023-07-01T09:00:00+02:00",
                "title": "T", "template": "cuneo", "payer": "P", "operator": "O", "evaluator": "E",
                "term_start_on": "2023-07-01", "term_end_on": "2024-12-31", "period_kind": "quarter"})).by(Role::Admin),
            422, "missing_field", Some("event_id")),
    ];
    for (what, call, status, code, field) in cases {
        refused(&fixture, what, call, status, code, field).await;
    }
    // An event id in the body and a header that derives another: which is meant is unclear.
    let call = Call::post(record_access(), with_event_id(access("both")))
        .header("idempotency-key", "order-desk-7");
    refused(
        &fixture,
        "event id and Idempotency-Key disagreeing",
        call,
        422,
        "invalid_value",
        Some("event_id"),
    )
    .await;
}

/// The event id an `Idempotency-Key` header derives, as docs/design.md writes it out.
fn derived(principal: &str, command: &str, header: &str) -> uuid::Uuid {
    let namespace = uuid::uuid!("a0b3c5e2-6f1d-5c8e-9b47-3d2e1f0a9c68");
    let name = serde_json::to_string(&json!([principal, CONTRACT, command, header])).expect("json");
    uuid::Uuid::new_v5(&namespace, name.as_bytes())
}

async fn an_idempotency_key_sent_twice_writes_once_and_both_answers_agree(fixture: Fixture) {
    let before = size(&fixture.store).await;
    let call = || {
        Call::post(record_access(), access("idem")).header("idempotency-key", "desk-2024-01-10-1")
    };
    let first = send(&fixture.app, call()).await;
    let second = send(&fixture.app, call()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(
        (second.status, &second.json),
        (first.status, &first.json),
        "the same answer"
    );
    assert!(!first.headers.contains_key("idempotent-replay"));
    assert_eq!(
        second
            .headers
            .get("idempotent-replay")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(size(&fixture.store).await, before + 1, "written once");
    let operator = Role::Operator.as_str();
    assert_eq!(
        first.json["event_id"].as_str(),
        Some(
            derived(operator, "RecordAccess", "desk-2024-01-10-1")
                .to_string()
                .as_str()
        ),
        "the event id is derived as documented"
    );
    // The same key with other content is the same event id reused: a conflict.
    let mut other = access("idem");
    other["channel"] = json!("phone");
    let call = Call::post(record_access(), other).header("idempotency-key", "desk-2024-01-10-1");
    refused(
        &fixture,
        "the same key, other content",
        call,
        409,
        "event_id_reused",
        Some("event_id"),
    )
    .await;
    // The body may carry the derived id too: they agree.
    let mut agreeing = access("idem");
    agreeing["event_id"] = first.json["event_id"].clone();
    let call = Call::post(record_access(), agreeing).header("idempotency-key", "desk-2024-01-10-1");
    let third = send(&fixture.app, call).await;
    assert_eq!((third.status, &third.json), (first.status, &first.json));
    // Another key is another event.
    let call = Call::post(record_access(), access("idem-2"))
        .header("idempotency-key", "desk-2024-01-10-2");
    assert_eq!(send(&fixture.app, call).await.status, StatusCode::CREATED);
    assert_eq!(size(&fixture.store).await, before + 2);
}

async fn a_batch_item_needs_its_own_event_id(fixture: Fixture) {
    let item = |n: &str, event_id: Option<String>| {
        let mut item = access(n);
        item["type"] = json!("RecordAccess");
        if let Some(event_id) = event_id {
            item["event_id"] = json!(event_id);
        }
        item
    };
    let fresh = || Some(uuid::Uuid::new_v4().to_string());
    for atomic in ["true", "false"] {
        let path = contract_path(&format!("batch?atomic={atomic}"));
        let missing = json!({"items": [item("b1", fresh()), item("b2", None)]});
        let nil = json!({"items": [item("b3", Some(uuid::Uuid::nil().to_string()))]});
        if atomic == "true" {
            refused(
                &fixture,
                "an item without an event id",
                Call::post(path.clone(), missing),
                422,
                "missing_field",
                Some("items[1].event_id"),
            )
            .await;
            refused(
                &fixture,
                "an item with the nil UUID",
                Call::post(path.clone(), nil),
                422,
                "invalid_value",
                Some("items[0].event_id"),
            )
            .await;
        } else {
            // Each on its own: the item without one is answered with the refusal, the other written.
            let before = size(&fixture.store).await;
            let answer = send(&fixture.app, Call::post(path.clone(), missing)).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            let items = answer.json["items"].as_array().expect("items");
            assert_eq!(items[0]["status"], json!(201), "{}", answer.text);
            assert_eq!(
                (items[1]["code"].as_str(), items[1]["field"].as_str()),
                (Some("missing_field"), Some("items[1].event_id")),
                "{}",
                answer.text
            );
            assert_eq!(size(&fixture.store).await, before + 1);
        }
        // A header on a batch would not say which item it is for.
        let call = Call::post(path, json!({"items": [item("b4", fresh())]}))
            .header("idempotency-key", "batch-1");
        refused(
            &fixture,
            "Idempotency-Key on a batch",
            call,
            422,
            "invalid_value",
            Some("idempotency-key"),
        )
        .await;
    }
}
