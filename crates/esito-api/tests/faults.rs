//! A database that cannot be written, through the router: every write is 503 `unavailable`
//! with `Retry-After` and writes nothing, `/readyz` is 503 and tells the database's words only
//! to an admin, and once space is freed the same request (the same `event_id`) is written once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::Router;
use esito_api::auth::{store_key, Role};
use esito_testkit::{contract, fresh_sqlite};
use serde_json::Value;

mod router_fixture;
use router_fixture::register_contract;

const ADMIN: &str = "faults-admin";
const OPERATOR: &str = "faults-operator";

struct Answer {
    status: StatusCode,
    body: Value,
    content_type: String,
    retry_after: Option<String>,
    took: Duration,
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<String>,
) -> Answer {
    let request = router_fixture::json_request(method, path, key, body);
    let started = Instant::now();
    let answer = router_fixture::send(app, request).await;
    let took = started.elapsed();
    let retry_after = answer
        .headers
        .get("retry-after")
        .map(|value| value.to_str().expect("ASCII").to_owned());
    Answer {
        status: answer.status,
        body: answer.json,
        content_type: answer.content_type,
        retry_after,
        took,
    }
}

fn access(event_id: uuid::Uuid, n: usize) -> String {
    format!(
        r#"{{"event_id":"{event_id}","occurred_at":"2024-03-12T10:00:00+01:00","access_id":"acc-full-{n}","channel":"phone","need":"housing","outcome":{{"kind":"information_only"}}}}"#
    )
}

const RECORD_ACCESS: &str = "/v1/contracts/faults/commands/record-access";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_is_503_with_retry_after_and_readyz_tells_only_an_admin_why() {
    let fresh = fresh_sqlite().await;
    let store = Arc::new(fresh.store);
    let faults = contract("faults");
    store_key(&store, ADMIN, "admin", Role::Admin, &[], None)
        .await
        .expect("a key");
    store_key(
        &store,
        OPERATOR,
        "operator",
        Role::Operator,
        std::slice::from_ref(&faults),
        None,
    )
    .await
    .expect("a key");
    let registration = register_contract("Faults");
    store
        .append(&faults, "admin", &[registration])
        .await
        .expect("registered");
    let app = esito_api::router(esito_api::AppState::new(store.clone()));
    assert_eq!(
        call(&app, "GET", "/readyz", None, None).await.status,
        StatusCode::OK
    );

    // No page beyond those the file has: it fills within a few appends.
    store.limit_sqlite_pages(Some(1));
    let mut refused = None;
    for n in 0..2_000 {
        let event_id = uuid::Uuid::new_v4();
        let answer = call(
            &app,
            "POST",
            RECORD_ACCESS,
            Some(OPERATOR),
            Some(access(event_id, n)),
        )
        .await;
        if answer.status != StatusCode::CREATED {
            refused = Some((event_id, n, answer));
            break;
        }
    }
    let (event_id, n, answer) = refused.expect("the file fills within 2,000 appends");
    let size_when_full = store.head(&faults).await.expect("head").map(|h| h.size);
    for answer in [
        answer,
        call(
            &app,
            "POST",
            RECORD_ACCESS,
            Some(OPERATOR),
            Some(access(event_id, n)),
        )
        .await,
    ] {
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert_eq!(answer.content_type, "application/problem+json");
        assert_eq!(answer.body["code"], "unavailable");
        assert_eq!(answer.retry_after.as_deref(), Some("2"));
        assert!(
            !answer.body.to_string().contains("full"),
            "no database text to a client: {}",
            answer.body
        );
        assert!(answer.took < Duration::from_secs(2), "{:?}", answer.took);
    }
    assert_eq!(
        store.head(&faults).await.expect("head").map(|h| h.size),
        size_when_full,
        "a refused write wrote nothing"
    );

    for key in [None, Some(OPERATOR)] {
        let ready = call(&app, "GET", "/readyz", key, None).await;
        assert_eq!(
            ready.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            ready.body
        );
        assert_eq!(ready.retry_after.as_deref(), Some("2"));
        assert!(ready.took < Duration::from_secs(2), "{:?}", ready.took);
        assert_eq!(
            ready.body["detail"], "not ready: the database cannot serve now",
            "no database text without an admin key"
        );
    }
    let ready = call(&app, "GET", "/readyz", Some(ADMIN), None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        ready.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("database or disk is full")),
        "an admin reads why: {}",
        ready.body
    );

    // Space is freed: ready again, and the refused request sent again is written once.
    store.limit_sqlite_pages(None);
    assert_eq!(
        call(&app, "GET", "/readyz", None, None).await.status,
        StatusCode::OK
    );
    let written = call(
        &app,
        "POST",
        RECORD_ACCESS,
        Some(OPERATOR),
        Some(access(event_id, n)),
    )
    .await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.body);
    let again = call(
        &app,
        "POST",
        RECORD_ACCESS,
        Some(OPERATOR),
        Some(access(event_id, n)),
    )
    .await;
    assert_eq!(again.body["position"], written.body["position"]);
    assert_eq!(
        store.head(&faults).await.expect("head").map(|h| h.size),
        size_when_full.map(|size| size + 1)
    );
}
