//! Data in and out over HTTP, on SQLite and on a real PostgreSQL: the export streamed as the
//! store writes it.

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_api::AppState;
use esito_domain::ContractId;
use esito_testkit::{both_stores, Fresh};

mod router_fixture;
use router_fixture::{centre_access, key, register_contract, Fixture};

const CONTRACT: &str = "export-contract";
/// Centre accesses after the registration.
const ACCESSES: usize = 40;
/// The log's size when the first checkpoint is signed.
const FIRST_CHECKPOINT: u64 = 21;

both_stores!(
    fixture = fixture;
    the_http_export_is_the_stores_export_byte_for_byte_and_after_n_holds_only_what_is_new,
);

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

/// The contract with its accesses, a checkpoint signed at size 21 and one at the end.
async fn fixture(fresh: Fresh) -> Fixture {
    let mut submissions = vec![register_contract("Export")];
    submissions.extend((0..ACCESSES).map(|n| centre_access(n, "2023-08-01T10:00:00+02:00")));
    let split = usize::try_from(FIRST_CHECKPOINT).expect("small");
    let mut state = None;
    let fixture = router_fixture::serve(fresh, &contract(), &submissions[..split], |store| {
        let made = AppState::with_checkpoint_key(
            store,
            esito_log::signing::CheckpointKey::from_seed([7; 32]),
        );
        state = Some(made.clone());
        made
    })
    .await;
    let state = state.expect("the state was made");
    state
        .make_checkpoint(&contract())
        .await
        .expect("signed")
        .expect("a key");
    fixture
        .store
        .append(&contract(), "fixture", &submissions[split..])
        .await
        .expect("valid");
    state
        .make_checkpoint(&contract())
        .await
        .expect("signed")
        .expect("a key");
    fixture
}

async fn get(fixture: &Fixture, path: &str, role: Role) -> router_fixture::Answer {
    router_fixture::send(
        &fixture.app,
        router_fixture::json_request("GET", path, Some(&key(role)), None),
    )
    .await
}

async fn the_http_export_is_the_stores_export_byte_for_byte_and_after_n_holds_only_what_is_new(
    fixture: Fixture,
) {
    let mut written = Vec::new();
    let size = fixture
        .store
        .export(&contract(), &mut written)
        .await
        .expect("exported");
    assert_eq!(size, 1 + ACCESSES as u64);
    let written = String::from_utf8(written).expect("UTF-8");

    let whole = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export"),
        Role::Evaluator,
    )
    .await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
    assert_eq!(whole.content_type, esito_api::export::JSON_LINES);
    assert_eq!(whole.headers[esito_api::export::ENTRIES_HEADER], "41");
    assert_eq!(whole.text, written);
    let report = esito_log::verify_export(whole.text.as_bytes(), |_| {}).expect("it verifies");
    assert_eq!((report.size, report.checkpoints.len()), (41, 2));

    // After 30: the entries 31..=41 and the checkpoint at 41, the one at 21 being older.
    let new = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export?after=30"),
        Role::Funder,
    )
    .await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    assert_eq!(new.headers[esito_api::export::ENTRIES_HEADER], "11");
    let expected: Vec<&str> = written
        .lines()
        .filter(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("json");
            value["position"].as_u64().is_some_and(|p| p > 30)
                || value["checkpoint"]["size"].as_u64().is_some_and(|s| s > 30)
        })
        .collect();
    assert_eq!(expected.len(), 12);
    assert_eq!(new.text, expected.join("\n") + "\n");

    // The old export, with what is new put in its place, is the whole export again.
    let old = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export?after=0"),
        Role::Payer,
    )
    .await;
    assert_eq!(old.text, written);

    // Beyond the head: nothing, not an error.
    let none = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export?after=41"),
        Role::Admin,
    )
    .await;
    assert_eq!((none.status, none.text.as_str()), (StatusCode::OK, ""));

    // The operator reads the log page by page; the provider sees only its tokens.
    for role in [Role::Operator, Role::Provider] {
        let refused = get(&fixture, &format!("/v1/contracts/{CONTRACT}/export"), role).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", role.as_str());
        assert_eq!(refused.json["code"], "forbidden");
    }
    // A negative or unknown parameter is refused, naming it.
    for (query, field) in [("after=-1", "after"), ("limit=5", "limit")] {
        let refused = get(
            &fixture,
            &format!("/v1/contracts/{CONTRACT}/export?{query}"),
            Role::Evaluator,
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(refused.json["field"], field, "{}", refused.text);
    }
}
