//! Minimal views: every read endpoint, walked as each role on a contract with an order, a token,
//! a beneficiary with flags, an identity, a settlement and a checkpoint; any field about a person
//! in an answer must be one `esito_api::views::FIELDS` lets that role see. The walk covers every
//! read the OpenAPI document lists.

mod router_fixture;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_api::identities::Vault;
use esito_api::views::{may_see, FIELDS};
use esito_api::AppState;
use esito_domain::events::{
    AccessChannel, AccessOutcome, AgeBand, IseeBand, NeedCategory, OrderChannel, TokenRecipient,
    VulnerabilityFlag,
};
use esito_domain::{Command, ContractId, Money, StreamId};
use esito_testkit::{both_stores, submit, Fresh};
use esito_vault::MasterKey;
use router_fixture::{json_request, key, register_contract, send, Fixture};
use serde_json::{json, Value};

both_stores!(
    fixture = fixture;
    every_read_shows_each_role_only_the_fields_about_a_person_the_table_allows,
);

const CONTRACT: &str = "views-walk";
const GIVEN_NAME: &str = "Evelina";

fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("valid")
}

fn money(text: &str) -> Money {
    Money::parse(text).expect("valid")
}

async fn fixture(fresh: Fresh) -> Fixture {
    let master = MasterKey::generate().expect("randomness");
    fresh
        .store
        .adopt_vault_master_key(&master.key_id())
        .await
        .expect("recorded");
    let submissions = [
        vec![
            register_contract("Views"),
            submit(
                "2023-07-01T09:05:00+02:00",
                router_fixture::rate_card_from_the_start("orders_placed", "1", None),
            ),
        ],
        router_fixture::provider_with_a_meal().to_vec(),
        vec![
            submit(
                "2023-07-02T10:00:00+02:00",
                Command::RegisterBeneficiary {
                    beneficiary_id: id("ben-1"),
                    isee_band: Some(IseeBand::A),
                    household_size: Some(3),
                    age_band: Some(AgeBand::From80),
                    flags: vec![VulnerabilityFlag::LargeFamily],
                },
            ),
            submit(
                "2023-07-02T10:30:00+02:00",
                Command::AssessNeed {
                    beneficiary_id: id("ben-1"),
                    needs: vec![NeedCategory::ElderlyCare],
                    score: Some(4),
                },
            ),
            submit(
                "2023-07-03T10:00:00+02:00",
                Command::PlaceOrder {
                    order_id: id("ord-1"),
                    beneficiary_id: id("ben-1"),
                    product_id: id("prod-1"),
                    channel: OrderChannel::Online,
                    price: money("6.00"),
                },
            ),
            submit(
                "2023-07-03T10:01:00+02:00",
                Command::IssueToken {
                    order_id: id("ord-1"),
                    token_code: "TK-1".into(),
                    notified_to: vec![TokenRecipient::Client],
                    expires_on: "2024-12-31".parse().expect("date"),
                },
            ),
            submit(
                "2023-07-04T10:00:00+02:00",
                Command::RecordAccess {
                    access_id: id("acc-1"),
                    beneficiary_id: Some(id("ben-1")),
                    channel: AccessChannel::InPerson,
                    need: NeedCategory::ElderlyCare,
                    outcome: AccessOutcome::InformationOnly,
                },
            ),
        ],
    ]
    .concat();
    let contract = ContractId::parse(CONTRACT).expect("valid");
    let identity: esito_vault::Identity = serde_json::from_value(json!({
        "given_name": GIVEN_NAME, "family_name": "Sbarbaro", "fiscal_code": "RSSMRA85T10A562S",
        "birth_date": "1940-03-02", "contacts": {"phone": "+39 011 555 0199", "email": "e@example.org",
        "address": "Via Roma 1"}
    }))
    .expect("valid");
    let sealed = master.seal(CONTRACT, "ben-1", &identity).expect("sealed");
    let fixture = router_fixture::serve(fresh, &contract, &submissions, |store| {
        AppState::serving(
            store,
            Some(esito_log::signing::CheckpointKey::from_seed([7; 32])),
            Vault::Open(master),
        )
    })
    .await;
    let master_key_id = fixture
        .store
        .vault_master_key_id()
        .await
        .expect("read")
        .expect("recorded");
    fixture
        .store
        .put_identity(
            CONTRACT,
            "ben-1",
            &master_key_id,
            &esito_store::identities::SealedRow {
                wrapped_key: sealed.wrapped_key,
                ciphertext: sealed.ciphertext,
                fiscal_code_hmac: sealed.fiscal_code_hmac,
            },
        )
        .await
        .expect("registered");
    fixture
}

/// Every key of every object in `value`, at any depth.
fn keys(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                into.insert(name.clone());
                keys(field, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, into)),
        _ => {}
    }
}

/// The reads that need a key, by the template the OpenAPI document gives them, with a path
/// that reaches past every refusal but the role's.
fn reads(first_event: &str) -> Vec<(&'static str, String)> {
    let c = format!("/v1/contracts/{CONTRACT}");
    vec![
        ("/v1/keys", "/v1/keys".to_owned()),
        ("/v1/contracts/{contract}/events", format!("{c}/events")),
        (
            "/v1/contracts/{contract}/events/{event_id}",
            format!("{c}/events/{first_event}"),
        ),
        (
            "/v1/contracts/{contract}/streams/{stream_type}/{stream_id}",
            format!("{c}/streams/beneficiary/ben-1"),
        ),
        (
            "/v1/contracts/{contract}/proofs/inclusion",
            format!("{c}/proofs/inclusion?position=2"),
        ),
        (
            "/v1/contracts/{contract}/proofs/consistency",
            format!("{c}/proofs/consistency?first=1&second=3"),
        ),
        (
            "/v1/contracts/{contract}/checkpoints/latest",
            format!("{c}/checkpoints/latest"),
        ),
        (
            "/v1/contracts/{contract}/checkpoint",
            format!("{c}/checkpoint"),
        ),
        (
            "/v1/contracts/{contract}/checkpoint/verifier-key",
            format!("{c}/checkpoint/verifier-key"),
        ),
        ("/v1/contracts/{contract}/export", format!("{c}/export")),
        (
            "/v1/contracts/{contract}/export/indigo",
            format!("{c}/export/indigo"),
        ),
        (
            "/v1/contracts/{contract}/indicators",
            format!("{c}/indicators?period=2023-Q3"),
        ),
        (
            "/v1/contracts/{contract}/indicators/{indicator}/explain",
            format!("{c}/indicators/orders_placed/explain?period=2023-Q3"),
        ),
        (
            "/v1/contracts/{contract}/settlements",
            format!("{c}/settlements"),
        ),
        (
            "/v1/contracts/{contract}/settlements/{period}",
            format!("{c}/settlements/2023-Q3"),
        ),
        (
            "/v1/contracts/{contract}/settlements/{period}/html",
            format!("{c}/settlements/2023-Q3/html"),
        ),
        (
            "/v1/contracts/{contract}/beneficiaries",
            format!("{c}/beneficiaries"),
        ),
        ("/v1/contracts/{contract}/tokens", format!("{c}/tokens")),
        (
            "/v1/contracts/{contract}/tenancies",
            format!("{c}/tenancies"),
        ),
        (
            "/v1/contracts/{contract}/placements",
            format!("{c}/placements"),
        ),
        (
            "/v1/contracts/{contract}/identities",
            format!("{c}/identities?fiscal_code=RSSMRA85T10A562S"),
        ),
        (
            "/v1/contracts/{contract}/identities/{beneficiary_id}",
            format!("{c}/identities/ben-1"),
        ),
    ]
}

async fn every_read_shows_each_role_only_the_fields_about_a_person_the_table_allows(
    fixture: Fixture,
) {
    let app = &fixture.app;
    // A checkpoint and a settlement to read.
    for (role, path, body) in [
        (
            Role::Admin,
            format!("/v1/contracts/{CONTRACT}/checkpoints"),
            None,
        ),
        (
            Role::Payer,
            format!("/v1/contracts/{CONTRACT}/settlements"),
            Some(json!({"period": "2023-Q3", "event_id": uuid::Uuid::new_v4()}).to_string()),
        ),
    ] {
        let answer = send(app, json_request("POST", &path, Some(&key(role)), body)).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.text);
    }
    let first = fixture
        .store
        .entries(&ContractId::parse(CONTRACT).expect("valid"), 0, 1)
        .await
        .expect("read");
    let first_event = serde_json::from_str::<esito_log::Entry>(&first[0].entry)
        .expect("entry")
        .event_id;
    let mut answered = BTreeSet::new();
    let mut seen: std::collections::HashMap<Role, BTreeSet<String>> =
        std::collections::HashMap::new();
    let mut walked = BTreeSet::new();
    for (template, path) in reads(&first_event) {
        walked.insert(template);
        for role in Role::ALL {
            let answer = send(app, json_request("GET", &path, Some(&key(role)), None)).await;
            assert!(
                answer.status == StatusCode::OK || answer.status == StatusCode::FORBIDDEN,
                "GET {path} as {}: {} {}",
                role.as_str(),
                answer.status,
                answer.text
            );
            if answer.status != StatusCode::OK {
                continue;
            }
            answered.insert(template);
            // A page for people: no identity in it, whoever reads it.
            if !answer.content_type.starts_with("application/json") {
                assert!(!answer.text.contains(GIVEN_NAME), "{path}");
                continue;
            }
            let mut names = BTreeSet::new();
            keys(&answer.json, &mut names);
            for name in &names {
                assert!(
                    may_see(role, name),
                    "GET {path} shows `{name}` to the {} role: {}",
                    role.as_str(),
                    answer.text
                );
            }
            seen.entry(role).or_default().extend(names);
        }
    }
    // Every read the document lists that needs a key was walked, and each answered someone.
    let document = esito_api::openapi::document();
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/v1/checkpoint-key",
        "/v1/checkpoint-keys",
    ];
    let documented: BTreeSet<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, operations)| {
            operations.get("get").is_some() && !public.contains(&path.as_str())
        })
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(walked, documented);
    assert_eq!(answered, walked);
    // The walk is not vacuous: the operator saw the identity, the evaluator the circumstances,
    // the provider its token, and no field of the table reached a role it does not list.
    let saw = |role: Role, name: &str| seen.get(&role).is_some_and(|names| names.contains(name));
    assert!(saw(Role::Operator, "family_name") && saw(Role::Operator, "contacts"));
    assert!(saw(Role::Evaluator, "isee_band") && saw(Role::Evaluator, "flags"));
    assert!(saw(Role::Provider, "token_code") && saw(Role::Provider, "beneficiary_id"));
    for (field, roles) in FIELDS {
        for role in Role::ALL.into_iter().filter(|role| !roles.contains(role)) {
            assert!(
                !saw(role, field),
                "{field} reached the {} role",
                role.as_str()
            );
        }
    }
}

/// The table docs/privacy.md shows is the code's: a row per field, a column per role in
/// `Role::ALL`'s order, `✓` where the role sees the field.
#[test]
fn the_table_in_the_privacy_guide_is_the_codes() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/privacy.md"),
    )
    .expect("docs/privacy.md");
    let rows: Vec<(String, Vec<Role>)> = guide
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let field = cells[0].trim_matches('`').to_owned();
            let roles = Role::ALL
                .into_iter()
                .zip(&cells[1..])
                .filter(|(_, cell)| **cell == "✓")
                .map(|(role, _)| role)
                .collect();
            (field, roles)
        })
        .collect();
    let code: Vec<(String, Vec<Role>)> = FIELDS
        .iter()
        .map(|(field, roles)| {
            let roles = Role::ALL
                .into_iter()
                .filter(|role| roles.contains(role))
                .collect();
            ((*field).to_owned(), roles)
        })
        .collect();
    assert_eq!(rows, code);
}
