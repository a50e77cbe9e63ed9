//! What the API's test binaries share beyond `esito-testkit`: the fixture over a router, a key
//! for each role on the contract under test, the contract registered and the accesses it
//! counts, payment terms to settle it by, a client that names every write, a request sent and its answer read whole, and the
//! log's size that a refusal must leave as it was.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use esito_api::auth::{store_key, Role};
use esito_api::AppState;
use esito_domain::events::{
    AccessChannel, AccessOutcome, IseeBand, NeedCategory, PeriodKind, ServiceFamily,
};
use esito_domain::terms::{ContractChange, PaymentRule, PaymentTerms};
use esito_domain::{Command, ContractId, Money, Rate, StreamId, Submission};
use esito_store::Store;
use esito_testkit::{submit, Fresh};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Provider `prov-1` accredited for meals, and its product `prod-1` listed at 6.00 in every
/// ISEE band.
pub fn provider_with_a_meal() -> [Submission; 2] {
    let tariffs = IseeBand::ALL
        .into_iter()
        .map(|band| (band, esito_testkit::money("6.00")))
        .collect();
    [
        submit(
            "2023-07-01T10:00:00+02:00",
            Command::AccreditProvider {
                provider_id: esito_testkit::id("prov-1"),
                name: "Uno".into(),
                service_family: ServiceFamily::Meals,
            },
        ),
        submit(
            "2023-07-01T10:05:00+02:00",
            Command::ListProduct {
                product_id: esito_testkit::id("prod-1"),
                provider_id: esito_testkit::id("prov-1"),
                name: "Pasto".into(),
                service_family: ServiceFamily::Meals,
                tariffs,
            },
        ),
    ]
}

/// The router under test over a fresh store.
pub type Fixture = esito_testkit::Fixture<Router>;

/// The key of `role`, stored by `store_role_keys`.
pub fn key(role: Role) -> String {
    format!("test-key-{}", role.as_str())
}

/// One key per role: the admin's for every contract, each other role's for `contract` only,
/// the provider's for `prov-1`.
pub async fn store_role_keys(store: &Store, contract: &ContractId) {
    for role in Role::ALL {
        let contracts = if role == Role::Admin {
            vec![]
        } else {
            vec![contract.clone()]
        };
        let provider = (role == Role::Provider).then_some("prov-1");
        store_key(store, &key(role), role.as_str(), role, &contracts, provider)
            .await
            .expect("a key");
    }
}

/// From the term's first day, `rate` euro per unit of `indicator`, at most `period_cap` a
/// period.
pub fn rate_card_from_the_start(indicator: &str, rate: &str, period_cap: Option<&str>) -> Command {
    Command::AmendContract {
        effective_on: "2023-07-01".parse().expect("date"),
        changes: vec![ContractChange::PaymentTerms {
            payment_terms: PaymentTerms {
                currency: Default::default(),
                rules: vec![PaymentRule::RateCard {
                    indicator: indicator.into(),
                    rate: Rate::parse(rate).expect("valid"),
                    threshold: None,
                    cap: None,
                    max_per_beneficiary: None,
                    cap_per_beneficiary: None,
                }],
                period_cap: period_cap.map(|cap| Money::parse(cap).expect("valid")),
                contract_cap: None,
                vat_rate: None,
                vat: Default::default(),
                payers: vec![],
            },
        }],
    }
}

/// The registration of the contract under test, titled `title`: Cuneo's template, from
/// 2023-07-01 to 2024-12-31, settled by quarter, registered on its first day.
pub fn register_contract(title: &str) -> Submission {
    submit(
        "2023-07-01T09:00:00+02:00",
        Command::RegisterContract {
            title: title.into(),
            template: "cuneo".into(),
            definitions: None,
            payer: "Comune".into(),
            funder: None,
            operator: "Operatore".into(),
            evaluator: "Valutatore".into(),
            term_start_on: "2023-07-01".parse().expect("date"),
            term_end_on: "2024-12-31".parse().expect("date"),
            period_kind: PeriodKind::Quarter,
            procurement: Default::default(),
        },
    )
}

/// Access `acc-{n}` to the centre at `when`: in person, for elderly care, information only,
/// of no beneficiary.
pub fn centre_access(n: usize, when: &str) -> Submission {
    submit(
        when,
        Command::RecordAccess {
            access_id: StreamId::parse(&format!("acc-{n}")).expect("valid"),
            beneficiary_id: None,
            channel: AccessChannel::InPerson,
            need: NeedCategory::ElderlyCare,
            outcome: AccessOutcome::InformationOnly,
        },
    )
}

/// Writes `submissions` to `contract`, stores a key per role on it (`store_role_keys`), and
/// serves the router over the store with the state `state` builds.
pub async fn serve(
    fresh: Fresh,
    contract: &ContractId,
    submissions: &[Submission],
    state: impl FnOnce(Arc<Store>) -> Arc<AppState>,
) -> Fixture {
    fresh
        .store
        .append(contract, "fixture", submissions)
        .await
        .expect("the fixture is valid");
    store_role_keys(&fresh.store, contract).await;
    fresh.with_app(|store| esito_api::router(state(store)))
}

/// A response read whole: its status, headers and content type, its body as text and as JSON
/// (null when it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub content_type: String,
    pub text: String,
    pub json: Value,
}

/// A request declared JSON, with the bearer `key` when there is one, and `body` when there is
/// one, sent as it is.
pub fn json_request(
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<String>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    request
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("a request")
}

/// Sends `request` to the router and reads the answer.
pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|value| value.to_str().expect("ASCII").to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        content_type,
        text,
        json,
    }
}

/// The size of `contract`'s log: 0 before its first entry.
pub async fn log_size(store: &Store, contract: &ContractId) -> u64 {
    store
        .head(contract)
        .await
        .expect("head")
        .map_or(0, |head| head.size)
}

/// A client that names every write: a JSON object sent without an `event_id` (a batch's items
/// each) gets a new one, as a client sends a new write. What a write without one is answered
/// is `strict_http.rs`'s to show.
pub fn with_event_ids(mut body: Value) -> Value {
    let objects: Vec<&mut serde_json::Map<String, Value>> = match body.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_object_mut).collect(),
        _ => body.as_object_mut().into_iter().collect(),
    };
    for fields in objects {
        fields
            .entry("event_id")
            .or_insert_with(|| json!(uuid::Uuid::new_v4()));
    }
    body
}
