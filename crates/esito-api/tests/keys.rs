//! Keys' lifecycle over the API, on both stores: the admin lists, creates and revokes keys; a
//! revoked or expired key is refused within a second by every instance on the database, two
//! instances on one database included; a key's last use is written at most once a minute; a
//! demo key works only while the database holds nothing but the contracts the demo keys name.

mod router_fixture;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::Router;
use esito_api::auth::{store_demo_key, Role, KEY_FRESHNESS};
use esito_api::AppState;
use esito_domain::ContractId;
use esito_store::Store;
use esito_testkit::{both_stores, Fresh};
use router_fixture::{json_request, key as role_key, register_contract, send, Answer, Fixture};
use serde_json::{json, Value};

both_stores!(
    fixture = fixture;
    the_admin_lists_creates_and_revokes_keys_and_never_sees_a_key_again,
    a_key_request_the_rules_refuse_names_its_field_and_stores_nothing,
    a_key_revoked_while_a_client_uses_it_is_refused_after_one_second,
    a_key_revoked_on_one_instance_is_refused_by_another_after_one_second,
    an_expired_key_is_refused_even_while_it_is_cached,
    a_keys_last_use_is_written_at_most_once_a_minute,
    a_demo_key_works_only_while_the_database_holds_only_demo_contracts,
);

const CONTRACT: &str = "keys-walk";

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

async fn fixture(fresh: Fresh) -> Fixture {
    router_fixture::serve(
        fresh,
        &contract(),
        &[register_contract("Keys")],
        AppState::new,
    )
    .await
}

async fn get(app: &Router, path: &str, key: &str) -> Answer {
    send(app, json_request("GET", path, Some(key), None)).await
}

async fn post(app: &Router, path: &str, key: &str, body: Value) -> Answer {
    send(
        app,
        json_request("POST", path, Some(key), Some(body.to_string())),
    )
    .await
}

async fn delete(app: &Router, path: &str, key: &str) -> Answer {
    send(app, json_request("DELETE", path, Some(key), None)).await
}

/// A read the evaluator may make: 200 while its key works.
fn events() -> String {
    format!("/v1/contracts/{CONTRACT}/events?limit=1")
}

async fn create_evaluator_key(app: &Router) -> (String, String) {
    let created = post(
        app,
        "/v1/keys",
        &role_key(Role::Admin),
        json!({"role": "evaluator", "contracts": [CONTRACT], "principal": "valutatore"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["key"]
        .as_str()
        .expect("the key, once")
        .to_owned();
    let id = created.json["id"].as_str().expect("its id").to_owned();
    (secret, id)
}

async fn the_admin_lists_creates_and_revokes_keys_and_never_sees_a_key_again(fixture: Fixture) {
    let admin = role_key(Role::Admin);
    let created = post(
        &fixture.app,
        "/v1/keys",
        &admin,
        json!({"role": "provider", "contracts": [CONTRACT], "provider_id": "prov-9",
               "principal": "fornitore", "expires_in": "90d"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["key"].as_str().expect("the key").to_owned();
    let id = created.json["id"].as_str().expect("the id").to_owned();
    assert_eq!(id, esito_api::access_log::key_id(&key_hash(&secret)));
    assert_eq!(created.json["state"], "active");
    let expires_at = chrono::DateTime::parse_from_rfc3339(
        created.json["expires_at"].as_str().expect("an expiry"),
    )
    .expect("RFC 3339");
    let created_at =
        chrono::DateTime::parse_from_rfc3339(created.json["created_at"].as_str().expect("created"))
            .expect("RFC 3339");
    let lifetime = expires_at - created_at;
    assert!(
        (lifetime - chrono::Duration::days(90)).num_seconds().abs() < 60,
        "{lifetime}"
    );
    // The new key works, as a provider of its contract.
    let tokens = get(
        &fixture.app,
        &format!("/v1/contracts/{CONTRACT}/tokens"),
        &secret,
    )
    .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);

    let listed = get(&fixture.app, "/v1/keys", &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let keys = listed.json["keys"].as_array().expect("keys");
    // The six keys of the fixture and the new one; no listing shows a key or its hash.
    assert_eq!(keys.len(), 7, "{}", listed.text);
    assert!(!listed.text.contains(&secret));
    assert!(!listed.text.contains(&role_key(Role::Admin)));
    assert!(!listed.text.contains(&hex::encode(key_hash(&secret))));
    assert!(keys.iter().all(|k| k.get("key").is_none()));
    let mine = keys
        .iter()
        .find(|k| k["id"] == id.as_str())
        .expect("listed");
    assert_eq!(mine["role"], "provider");
    assert_eq!(mine["contracts"], json!([CONTRACT]));
    assert_eq!(mine["provider_id"], "prov-9");
    assert_eq!(mine["principal"], "fornitore");
    assert!(mine["last_used_at"].is_string(), "{mine}");

    let revoked = delete(&fixture.app, &format!("/v1/keys/{id}"), &admin).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.json["state"], "revoked");
    let first = revoked.json["revoked_at"].clone();
    assert!(first.is_string());
    // A second revocation keeps the first one's time.
    let again = delete(&fixture.app, &format!("/v1/keys/{id}"), &admin).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["revoked_at"], first);
    let unknown = delete(&fixture.app, "/v1/keys/00000000000000ff", &admin).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json["code"], "unknown_key");

    // No other role manages keys, nor an admin key limited to some contracts.
    for role in Role::ALL.into_iter().filter(|role| *role != Role::Admin) {
        let answer = get(&fixture.app, "/v1/keys", &role_key(role)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", role.as_str());
    }
    esito_api::auth::store_key(
        &fixture.store,
        "admin-of-one",
        "admin-of-one",
        Role::Admin,
        &[contract()],
        None,
    )
    .await
    .expect("a key");
    let limited = post(
        &fixture.app,
        "/v1/keys",
        "admin-of-one",
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(limited.status, StatusCode::FORBIDDEN, "{}", limited.text);
}

fn key_hash(key: &str) -> [u8; 32] {
    esito_api::auth::key_hash(key)
}

async fn a_key_request_the_rules_refuse_names_its_field_and_stores_nothing(fixture: Fixture) {
    let admin = role_key(Role::Admin);
    for (body, field) in [
        (json!({"role": "auditor", "contracts": [CONTRACT]}), "role"),
        (json!({"role": "operator"}), "contracts"),
        (
            json!({"role": "operator", "contracts": [CONTRACT], "provider_id": "p"}),
            "provider_id",
        ),
        (
            json!({"role": "provider", "contracts": [CONTRACT], "provider_id": "Prov 1!"}),
            "provider_id",
        ),
        (
            json!({"role": "provider", "contracts": [CONTRACT]}),
            "provider_id",
        ),
        (
            json!({"role": "payer", "contracts": [CONTRACT], "expires_in": "90"}),
            "expires_in",
        ),
        (
            json!({"role": "payer", "contracts": [CONTRACT], "expires_in": "0d"}),
            "expires_in",
        ),
        (
            json!({"role": "payer", "contracts": [CONTRACT], "expires_in": "3651d"}),
            "expires_in",
        ),
        (
            json!({"role": "payer", "contracts": [CONTRACT], "expires_in": "-5d"}),
            "expires_in",
        ),
        (
            json!({"role": "payer", "contracts": [CONTRACT], "principal": ""}),
            "principal",
        ),
        (
            json!({"role": "payer", "contracts": [CONTRACT], "colour": "blue"}),
            "colour",
        ),
    ] {
        let answer = post(&fixture.app, "/v1/keys", &admin, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.json["field"], field, "{body}: {}", answer.text);
    }
    assert_eq!(fixture.store.keys().await.expect("keys").len(), 6);
}

/// Sends the evaluator's read with `key` until it is refused; the refusal must come within a
/// second of `revoked`, every request after that second must be refused too, and the refusal
/// says the key was revoked.
async fn refused_within_a_second(app: &Router, key: &str, revoked: Instant) {
    loop {
        let answer = get(app, &events(), key).await;
        if answer.status == StatusCode::UNAUTHORIZED {
            assert!(answer.text.contains("revoked"), "{}", answer.text);
            break;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        // The behavioural bound: a revoked key works for less than a second.
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "still accepted {:?} after its revocation",
            revoked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(revoked.elapsed())).await;
    let after = get(app, &events(), key).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text);
    assert_eq!(after.json["code"], "unauthenticated");
}

async fn a_key_revoked_while_a_client_uses_it_is_refused_after_one_second(fixture: Fixture) {
    let (secret, id) = create_evaluator_key(&fixture.app).await;
    // The client is using it: the service has found it and keeps it.
    for _ in 0..3 {
        assert_eq!(
            get(&fixture.app, &events(), &secret).await.status,
            StatusCode::OK
        );
    }
    let revoked = delete(
        &fixture.app,
        &format!("/v1/keys/{id}"),
        &role_key(Role::Admin),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    refused_within_a_second(&fixture.app, &secret, Instant::now()).await;
}

async fn a_key_revoked_on_one_instance_is_refused_by_another_after_one_second(fixture: Fixture) {
    // A second service on the same database, with its own connections and its own cache.
    let other: Router = esito_api::router(AppState::new(Arc::new(
        Store::connect(&fixture.url)
            .await
            .expect("a second instance opens"),
    )));
    let (secret, id) = create_evaluator_key(&fixture.app).await;
    for app in [&fixture.app, &other] {
        assert_eq!(get(app, &events(), &secret).await.status, StatusCode::OK);
    }
    let revoked = delete(
        &fixture.app,
        &format!("/v1/keys/{id}"),
        &role_key(Role::Admin),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let at = Instant::now();
    refused_within_a_second(&other, &secret, at).await;
    refused_within_a_second(&fixture.app, &secret, at).await;
}

async fn an_expired_key_is_refused_even_while_it_is_cached(fixture: Fixture) {
    let stored = |key: &str, expires_at: chrono::DateTime<chrono::Utc>| esito_store::KeyRecord {
        key_hash: key_hash(key),
        principal: "valutatore".to_owned(),
        role: "evaluator".to_owned(),
        contracts: vec![CONTRACT.to_owned()],
        provider_id: None,
        expires_at: Some(esito_domain::values::format_recorded_at(expires_at)),
        demo: false,
    };
    let now = chrono::Utc::now();
    fixture
        .store
        .insert_key(&stored("expired", now - chrono::Duration::seconds(1)))
        .await
        .expect("a key");
    let answer = get(&fixture.app, &events(), "expired").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert!(answer.text.contains("expired"), "{}", answer.text);

    // Found while it works, kept, then refused the moment it expires: no later than the store
    // is asked again.
    let expires_at = now + chrono::Duration::milliseconds(300);
    fixture
        .store
        .insert_key(&stored("expiring", expires_at))
        .await
        .expect("a key");
    let first = get(&fixture.app, &events(), "expiring").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let wait = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(10)).await;
    let answer = get(&fixture.app, &events(), "expiring").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    // Refused by the cache itself, sooner than the store would have been asked again.
    assert!(wait < KEY_FRESHNESS);
}

async fn last_used(store: &Store, key: &str) -> Option<String> {
    store
        .key_by_hash(&key_hash(key))
        .await
        .expect("read")
        .expect("stored")
        .last_used_at
}

async fn a_keys_last_use_is_written_at_most_once_a_minute(fixture: Fixture) {
    let payer = role_key(Role::Payer);
    assert_eq!(last_used(&fixture.store, &payer).await, None);
    let read = format!("/v1/contracts/{CONTRACT}/settlements");
    assert_eq!(
        get(&fixture.app, &read, &payer).await.status,
        StatusCode::OK
    );
    let first = last_used(&fixture.store, &payer)
        .await
        .expect("a first use");
    // Later uses, each after the cache asked the store again, within the minute: unchanged.
    for _ in 0..2 {
        tokio::time::sleep(KEY_FRESHNESS + Duration::from_millis(50)).await;
        assert_eq!(
            get(&fixture.app, &read, &payer).await.status,
            StatusCode::OK
        );
        assert_eq!(
            last_used(&fixture.store, &payer).await.as_deref(),
            Some(first.as_str())
        );
    }
    // A last use more than a minute old is moved forward at the next use.
    let old = "2020-01-01T00:00:00.000000Z";
    assert!(fixture
        .store
        .record_key_use(&key_hash(&payer), old, "9999")
        .await
        .expect("written"));
    tokio::time::sleep(KEY_FRESHNESS + Duration::from_millis(50)).await;
    assert_eq!(
        get(&fixture.app, &read, &payer).await.status,
        StatusCode::OK
    );
    let moved = last_used(&fixture.store, &payer).await.expect("a use");
    assert!(moved.as_str() > first.as_str(), "{moved} after {first}");
}

async fn a_demo_key_works_only_while_the_database_holds_only_demo_contracts(fixture: Fixture) {
    store_demo_key(
        &fixture.store,
        "demo-evaluator",
        "demo-evaluator",
        Role::Evaluator,
        &[contract()],
        None,
    )
    .await
    .expect("a demo key");
    store_demo_key(
        &fixture.store,
        "demo-admin",
        "demo-admin",
        Role::Admin,
        &[],
        None,
    )
    .await
    .expect("a demo key");
    assert_eq!(
        get(&fixture.app, &events(), "demo-evaluator").await.status,
        StatusCode::OK
    );
    // A contract the demo keys do not name: from then on they are refused, the others not.
    fixture
        .store
        .append(
            &ContractId::parse("real-contract").expect("valid"),
            "admin",
            &[register_contract("Real")],
        )
        .await
        .expect("registered");
    tokio::time::sleep(KEY_FRESHNESS + Duration::from_millis(50)).await;
    for demo in ["demo-evaluator", "demo-admin"] {
        let answer = get(&fixture.app, &events(), demo).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert!(answer.text.contains("demo"), "{}", answer.text);
    }
    assert_eq!(
        get(&fixture.app, &events(), &role_key(Role::Evaluator))
            .await
            .status,
        StatusCode::OK
    );
}
