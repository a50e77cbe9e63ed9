//! The access log as a collector reads it: one JSON line per request, captured from the
//! router's own tracing, with the route template and never a key, a path's ids or a query.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use esito_api::auth::{key_hash, store_key, Role};
use esito_api::{access_log, AppState};
use serde_json::Value;
use tower::ServiceExt;

const ADMIN_KEY: &str = "esito_access_log_admin_key_0123456789";
const UNKNOWN_KEY: &str = "esito_no_such_key_9876543210";

/// What the subscriber wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("UTF-8 logs")
    }

    /// The access log's lines, parsed.
    fn requests(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .filter(|line| line["target"] == "esito_api::access_log")
            .collect()
    }
}

/// Logs of this thread go, as JSON lines, to the returned buffer until the guard is dropped.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn get_request(path: &str, key: Option<&str>, request_id: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.body(Body::empty()).expect("a request")
}

fn response_id(response: &axum::response::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("every response carries its request id")
        .to_str()
        .expect("ASCII")
        .to_owned()
}

#[tokio::test]
async fn each_request_has_one_line_with_its_route_status_and_key_id_and_never_the_key() {
    let fresh = esito_testkit::fresh_sqlite().await;
    store_key(&fresh.store, ADMIN_KEY, "ops-admin", Role::Admin, &[], None)
        .await
        .expect("key stored");
    let app = esito_api::router(AppState::new(Arc::new(fresh.store)));
    let (captured, _guard) = capture();

    // A known key on a contract that does not exist, with a person's id in the path: 404,
    // logged at info under the route template.
    let known = app
        .clone()
        .oneshot(get_request(
            "/v1/contracts/casa-rossi/streams/beneficiary/mario-rossi",
            Some(ADMIN_KEY),
            Some("trace-42.a:b_c"),
        ))
        .await
        .expect("answered");
    assert_eq!(known.status(), StatusCode::NOT_FOUND);
    assert_eq!(response_id(&known), "trace-42.a:b_c", "a sane id is kept");
    // No key, no request id: one is made and returned.
    let health = app
        .clone()
        .oneshot(get_request("/healthz", None, None))
        .await
        .expect("answered");
    assert_eq!(health.status(), StatusCode::OK);
    // An unknown key, a query string, and a request id that would break a log line: 401, no
    // key id, a new id.
    let unknown = app
        .clone()
        .oneshot(get_request(
            "/v1/contracts/casa-rossi/events?after=7",
            Some(UNKNOWN_KEY),
            Some("forged\" \"level\":\"ERROR"),
        ))
        .await
        .expect("answered");
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let new_id = response_id(&unknown);
    assert!(
        uuid::Uuid::parse_str(&new_id).is_ok(),
        "an insane id is replaced by a UUID: {new_id}"
    );

    let lines = captured.requests();
    assert_eq!(lines.len(), 3, "one line per request: {lines:#?}");
    let expected_key_id: String = key_hash(ADMIN_KEY)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (first, second, third) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!(first["level"], "INFO", "a 4xx is info: {first}");
    assert_eq!(first["method"], "GET");
    assert_eq!(
        first["route"],
        "/v1/contracts/{contract}/streams/{stream_type}/{stream_id}"
    );
    assert_eq!(first["status"], 404);
    assert_eq!(first["request_id"], "trace-42.a:b_c");
    assert_eq!(first["key_id"], expected_key_id.as_str());
    assert!(first["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0));

    assert_eq!(second["route"], "/healthz");
    assert_eq!(second["status"], 200);
    assert_eq!(second["request_id"], response_id(&health).as_str());
    assert!(
        second.get("key_id").is_none(),
        "no key, no key id: {second}"
    );

    assert_eq!(third["route"], "/v1/contracts/{contract}/events");
    assert_eq!(third["status"], 401);
    assert_eq!(third["level"], "INFO");
    assert_eq!(third["request_id"], new_id.as_str());
    assert!(
        third.get("key_id").is_none(),
        "an unknown key is not named: {third}"
    );

    let everything = captured.text();
    for secret in [
        ADMIN_KEY,
        UNKNOWN_KEY,
        "casa-rossi",
        "mario-rossi",
        "after=7",
        "forged",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret:?} is in the logs: {everything}"
        );
    }
}

#[tokio::test]
async fn a_server_error_is_logged_at_warn_and_a_client_error_at_info() {
    let fresh = esito_testkit::fresh_sqlite().await;
    let state = AppState::new(Arc::new(fresh.store));
    let app = Router::new()
        .route(
            "/failing/{id}",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/refusing", get(|| async { StatusCode::CONFLICT }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log::record,
        ))
        .with_state(state);
    let (captured, _guard) = capture();
    for path in ["/failing/abc", "/refusing"] {
        app.clone()
            .oneshot(get_request(path, None, None))
            .await
            .expect("answered");
    }
    let lines = captured.requests();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["status"], 500);
    assert_eq!(lines[0]["route"], "/failing/{id}");
    assert_eq!(lines[1]["level"], "INFO");
    assert_eq!(lines[1]["status"], 409);
}

#[test]
fn a_request_id_is_kept_only_if_short_and_plain() {
    assert!(access_log::sane_request_id(
        "0b6f1c7e-2f4b-4c1a-9d3e-8a2b1c0d9e8f"
    ));
    assert!(!access_log::sane_request_id(""));
    assert!(!access_log::sane_request_id("a b"));
    assert!(!access_log::sane_request_id("line\nbreak"));
    assert!(!access_log::sane_request_id(&"x".repeat(129)));
    assert!(access_log::sane_request_id(&"x".repeat(128)));
}
