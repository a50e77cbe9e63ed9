//! The PA's acts through the API, on SQLite and on a real PostgreSQL: for a contract with a
//! CIG, validated (evaluator) → certified (the payer's RUP) → approved by the determina (payer)
//! → paid by the mandato (payer), each by its role only, each out of order refused with its
//! code and Italian title, each act with its number and date on the settlement and its page,
//! citing the CIG and CUP; a malformed CIG refused naming the field.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use esito_api::auth::Role;
use esito_domain::terms::ContractChange;
use esito_domain::{Cig, Command, ContractId, Cup, Procurement, Submission};
use esito_store::Store;
use serde_json::{json, Value};

mod router_fixture;
use esito_testkit::{both_stores, submit, Fresh};
use router_fixture::{
    centre_access, key, log_size, rate_card_from_the_start, register_contract, with_event_ids,
    Answer, Fixture,
};

const CONTRACT: &str = "acts-contract";
const CIG: &str = "B7C8D9E0F1";
const CUP: &str = "J11B23000450006";
const RUP: &str = "Responsabile Unico del Progetto, Settore Politiche Sociali";

both_stores!(
    fixture = fixture;
    the_acts_follow_one_another_each_by_its_role_and_each_is_on_the_settlement,
    a_step_out_of_order_or_an_act_without_its_number_is_refused_with_its_code,
    a_malformed_cig_is_refused_naming_the_field_and_writes_nothing,
);

/// A contract with its CIG, CUP and RUP, 10 euro per access to the centre: five in 2023-Q3.
fn contract_fixture() -> Vec<Submission> {
    let mut submissions = vec![
        register_contract("Acts"),
        submit(
            "2023-07-01T09:05:00+02:00",
            rate_card_from_the_start("centre_accesses", "10", Some("60.00")),
        ),
        submit(
            "2023-07-01T09:10:00+02:00",
            Command::AmendContract {
                effective_on: "2023-07-01".parse().expect("date"),
                changes: vec![ContractChange::Procurement {
                    procurement: Procurement {
                        cig: Some(Cig::parse(CIG).expect("a CIG")),
                        cup: Some(Cup::parse(CUP).expect("a CUP")),
                        rup: Some(RUP.into()),
                    },
                }],
            },
        ),
    ];
    for n in 0..5 {
        submissions.push(centre_access(n, "2023-08-10T10:00:00+02:00"));
    }
    submissions
}

async fn fixture(fresh: Fresh) -> Fixture {
    let contract = ContractId::parse(CONTRACT).expect("valid");
    router_fixture::serve(
        fresh,
        &contract,
        &contract_fixture(),
        esito_api::AppState::new,
    )
    .await
}

async fn call(app: &Router, method: &str, path: &str, role: Role, body: Option<Value>) -> Answer {
    call_accepting(app, method, path, role, body, None).await
}

async fn call_accepting(
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
    let request = request
        .body(
            body.map(with_event_ids)
                .map_or_else(Body::empty, |body| Body::from(body.to_string())),
        )
        .expect("a request");
    router_fixture::send(app, request).await
}

async fn size(store: &Store) -> u64 {
    log_size(store, &ContractId::parse(CONTRACT).expect("valid")).await
}

fn settlement(period: &str) -> String {
    format!("/v1/contracts/{CONTRACT}/settlements/{period}")
}

fn step(period: &str, step: &str) -> String {
    format!("{}/{step}", settlement(period))
}

/// The payer asks for 2023-Q3's settlement; its `as_of`.
async fn calculate(fixture: &Fixture) -> u64 {
    let answer = call(
        &fixture.app,
        "POST",
        &format!("/v1/contracts/{CONTRACT}/settlements"),
        Role::Payer,
        Some(json!({"period": "2023-Q3"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json["as_of"].as_u64().expect("as_of")
}

/// The step by every role: only `allowed` succeeds; every other is refused (403) and writes
/// nothing.
async fn only(fixture: &Fixture, allowed: Role, path: &str, body: Value) {
    for role in Role::ALL {
        let before = size(&fixture.store).await;
        let answer = call(&fixture.app, "POST", path, role, Some(body.clone())).await;
        if role == allowed {
            assert_eq!(
                answer.status,
                StatusCode::CREATED,
                "{path}: {}",
                answer.text
            );
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
}

async fn the_acts_follow_one_another_each_by_its_role_and_each_is_on_the_settlement(
    fixture: Fixture,
) {
    let as_of = calculate(&fixture).await;
    only(
        &fixture,
        Role::Evaluator,
        &step("2023-Q3", "validate"),
        json!({"as_of": as_of}),
    )
    .await;
    only(
        &fixture,
        Role::Payer,
        &step("2023-Q3", "certify"),
        json!({"as_of": as_of, "certified_on": "2025-01-15"}),
    )
    .await;
    only(
        &fixture,
        Role::Payer,
        &step("2023-Q3", "approve"),
        json!({"as_of": as_of, "determina_number": "DD 118/2025", "determina_date": "2025-01-17"}),
    )
    .await;
    only(
        &fixture,
        Role::Payer,
        &step("2023-Q3", "pay"),
        json!({"paid_on": "2025-01-24", "reference": "SIOPE+ 0042",
               "mandato_number": "MP 305/2025", "mandato_date": "2025-01-22"}),
    )
    .await;
    let view = call(
        &fixture.app,
        "GET",
        &settlement("2023-Q3"),
        Role::Funder,
        None,
    )
    .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    let view = view.json;
    assert_eq!(view["status"], "paid");
    assert_eq!(view["certified"]["certified_on"], "2025-01-15");
    assert_eq!(view["certified"]["rup"], RUP);
    assert_eq!(view["approved"]["determina_number"], "DD 118/2025");
    assert_eq!(view["approved"]["determina_date"], "2025-01-17");
    assert_eq!(view["paid"]["mandato_number"], "MP 305/2025");
    assert_eq!(view["paid"]["mandato_date"], "2025-01-22");
    for act in ["certified", "approved", "paid"] {
        assert_eq!(view[act]["codes"], json!({"cig": CIG, "cup": CUP}), "{act}");
    }
    assert_eq!(
        view["document"]["procurement"],
        json!({"cig": CIG, "cup": CUP, "rup": RUP})
    );
    let page = call_accepting(
        &fixture.app,
        "GET",
        &settlement("2023-Q3"),
        Role::Payer,
        None,
        Some("text/html"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Attestazione di regolare esecuzione / Certified: 15/01/2025",
        "Determina di liquidazione (art. 184 TUEL) / Approved (art. 184 TUEL): n. DD 118/2025 del 17/01/2025",
        "Mandato di pagamento (art. 185 TUEL) / Paid (art. 185 TUEL): n. MP 305/2025 del 22/01/2025",
        &format!("CIG {CIG} · CUP {CUP}"),
    ] {
        assert!(page.text.contains(text), "{text:?} not in {}", page.text);
    }
}

async fn a_step_out_of_order_or_an_act_without_its_number_is_refused_with_its_code(
    fixture: Fixture,
) {
    let as_of = calculate(&fixture).await;
    let refused = |answer: &Answer| {
        (
            answer.status,
            answer.json["code"].as_str().map(str::to_owned),
            answer.json["field"].as_str().map(str::to_owned),
        )
    };
    let before = size(&fixture.store).await;
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "certify"),
        Role::Payer,
        Some(json!({"as_of": as_of, "certified_on": "2025-01-15"})),
    )
    .await;
    assert_eq!(
        refused(&answer),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("settlement_not_validated".into()),
            None
        ),
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "validate"),
        Role::Evaluator,
        Some(json!({"as_of": as_of})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "approve"),
        Role::Payer,
        Some(json!({"as_of": as_of, "determina_number": "DD 1/2025", "determina_date": "2025-01-17"})),
    )
    .await;
    assert_eq!(
        refused(&answer),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("settlement_not_certified".into()),
            None
        ),
        "{}",
        answer.text
    );
    assert_eq!(
        answer.json["title_it"],
        "Manca l'attestazione di regolare esecuzione del RUP"
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "pay"),
        Role::Payer,
        Some(json!({"paid_on": "2025-01-24", "reference": "x",
                    "mandato_number": "MP 1/2025", "mandato_date": "2025-01-22"})),
    )
    .await;
    assert_eq!(
        answer.json["code"], "settlement_not_approved",
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "certify"),
        Role::Payer,
        Some(json!({"as_of": as_of, "certified_on": "2025-01-15"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "certify"),
        Role::Payer,
        Some(json!({"as_of": as_of, "certified_on": "2025-01-16"})),
    )
    .await;
    assert_eq!(
        answer.json["code"], "settlement_already_certified",
        "{}",
        answer.text
    );
    let answer = call(
        &fixture.app,
        "POST",
        &step("2023-Q3", "approve"),
        Role::Payer,
        Some(json!({"as_of": as_of})),
    )
    .await;
    assert_eq!(
        refused(&answer),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("settlement_act_missing".into()),
            Some("determina_number".into())
        ),
        "{}",
        answer.text
    );
    assert_eq!(
        size(&fixture.store).await,
        before + 2,
        "only the validation and the certification are written"
    );
}

async fn a_malformed_cig_is_refused_naming_the_field_and_writes_nothing(fixture: Fixture) {
    let before = size(&fixture.store).await;
    // A command is read by its type and a change by its kind, so the member is named and the
    // detail says which code and why.
    let answer = call(
        &fixture.app,
        "POST",
        &format!("/v1/contracts/{CONTRACT}/commands/register-contract"),
        Role::Admin,
        Some(json!({
            "occurred_at": "2023-07-01T09:00:00+02:00", "title": "t", "template": "cuneo",
            "payer": "p", "operator": "o", "evaluator": "e", "term_start_on": "2023-07-01",
            "term_end_on": "2024-12-31", "period_kind": "quarter",
            "procurement": {"cig": "B7C8D9", "cup": CUP}
        })),
    )
    .await;
    assert!(answer.status.is_client_error(), "{}", answer.text);
    assert_eq!(answer.json["field"], "procurement.cig", "{}", answer.text);
    assert!(
        answer.json["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("a CIG is 10 characters")),
        "{}",
        answer.text
    );
    for (procurement, reason) in [
        (json!({"cig": "B7C8D9"}), "a CIG is 10 characters"),
        (json!({"cup": "J11B2300045000"}), "a CUP is 15 characters"),
    ] {
        let answer = call(
            &fixture.app,
            "POST",
            &format!("/v1/contracts/{CONTRACT}/commands/amend-contract"),
            Role::Admin,
            Some(json!({
                "occurred_at": "2023-09-01T10:00:00+02:00",
                "effective_on": "2023-09-01",
                "changes": [{"kind": "procurement", "procurement": procurement}]
            })),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text
        );
        let member = if reason.contains("CIG") { "cig" } else { "cup" };
        assert_eq!(
            answer.json["field"],
            format!("changes[0].procurement.{member}"),
            "{}",
            answer.text
        );
        let detail = answer.json["detail"].as_str().expect("a detail");
        assert!(detail.contains(reason), "{detail}");
    }
    assert_eq!(size(&fixture.store).await, before, "nothing written");
}
