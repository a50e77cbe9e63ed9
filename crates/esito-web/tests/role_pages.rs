//! The funder's, the evaluator's and the operator's pages over the API's state, on SQLite and
//! on PostgreSQL: each as every role (the permission its endpoint checks, the 403 page
//! otherwise, no identity), the operator's form refused beside its field with nothing written,
//! and the same form sent twice recorded once.

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_testkit::both_stores;

mod fixture;
use fixture::{app, App, CONTRACT, FAMILY_NAME, FISCAL_CODE, GIVEN_NAME, PHONE, TITLE};

both_stores!(
    fixture = app;
    each_page_answers_each_role_as_its_endpoint_does,
    no_page_shows_a_persons_identity,
    a_refused_form_keeps_what_was_typed_names_the_field_and_writes_nothing,
    an_access_form_sent_twice_records_one_access,
    the_audit_page_streams_the_apis_export,
);

/// Each page and the roles that may open it, as the permission table says of its endpoint:
/// the funder's page reads settlements, the audit page exports the log, the operator's page
/// sends its forms' commands (a provider only its deliveries).
fn pages() -> Vec<(String, Vec<Role>)> {
    use Role::*;
    vec![
        (
            format!("/contracts/{CONTRACT}/funder"),
            vec![Admin, Operator, Payer, Funder, Evaluator],
        ),
        (
            format!("/contracts/{CONTRACT}/audit"),
            vec![Admin, Payer, Funder, Evaluator],
        ),
        (
            format!("/contracts/{CONTRACT}/record"),
            vec![Admin, Operator, Provider],
        ),
    ]
}

async fn each_page_answers_each_role_as_its_endpoint_does(app: App) {
    for role in Role::ALL {
        let session = app.sign_in(role).await;
        for (path, allowed) in pages() {
            let page = app.get(Some(&session), &path).await;
            if allowed.contains(&role) {
                assert_eq!(page.status, StatusCode::OK, "{} {path}", role.as_str());
                assert!(page.text.contains("<main"), "{path}");
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{} {path}",
                    role.as_str()
                );
                assert!(page.text.contains("Accesso negato"), "the 403 page");
                assert!(!page.text.contains(TITLE), "nothing of the contract");
            }
        }
    }
    // The provider sees the delivery form only; the operator all four.
    let provider = app.sign_in(Role::Provider).await;
    let page = app
        .get(Some(&provider), &format!("/contracts/{CONTRACT}/record"))
        .await;
    let actions: Vec<&str> = ["access", "rent", "milestone", "delivery"]
        .into_iter()
        .filter(|form| page.text.contains(&format!("/record/{form}\"")))
        .collect();
    assert_eq!(actions, ["delivery"]);
    let operator = app.sign_in(Role::Operator).await;
    let page = app
        .get(Some(&operator), &format!("/contracts/{CONTRACT}/record"))
        .await;
    for form in ["access", "rent", "milestone", "delivery"] {
        assert!(page.text.contains(&format!("/record/{form}\"")), "{form}");
    }
    // A provider's delivery form sent for the contract is the API's command: refused here for
    // an order that does not exist, never for the role.
    let fields = page_form(&app, &provider, "delivery").await;
    let mut fields: Vec<(String, String)> = fields;
    set(&mut fields, "occurred_at", "2023-07-10T10:00");
    set(&mut fields, "order_id", "ord-none");
    set(&mut fields, "provider_id", "prov-1");
    let sent = app
        .post(
            Some(&provider),
            &format!("/contracts/{CONTRACT}/record/delivery"),
            &borrowed(&fields),
        )
        .await;
    assert_ne!(sent.status, StatusCode::FORBIDDEN, "{}", sent.text);
    assert_ne!(sent.status, StatusCode::SEE_OTHER, "no such order");
}

async fn no_page_shows_a_persons_identity(app: App) {
    for role in Role::ALL {
        let session = app.sign_in(role).await;
        for (path, _) in pages() {
            for lang in ["it", "en"] {
                let page = app
                    .get(Some(&session), &format!("{path}?lang={lang}"))
                    .await;
                for secret in [GIVEN_NAME, FAMILY_NAME, FISCAL_CODE, PHONE, "1985-12-10"] {
                    assert!(
                        !page.text.contains(secret),
                        "{} {path} shows {secret}",
                        role.as_str()
                    );
                }
            }
        }
    }
}

/// The fields of the form whose action ends with `/record/{form}` on the operator's page.
async fn page_form(app: &App, session: &fixture::Session, form: &str) -> Vec<(String, String)> {
    let page = app
        .get(Some(session), &format!("/contracts/{CONTRACT}/record"))
        .await;
    page.form(form)
        .unwrap_or_else(|| panic!("the {form} form: {}", page.text))
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(field, _)| field != name);
    fields.push((name.to_owned(), value.to_owned()));
}

fn borrowed(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

async fn a_refused_form_keeps_what_was_typed_names_the_field_and_writes_nothing(app: App) {
    let before = app.log_size().await;
    let operator = app.sign_in(Role::Operator).await;
    let path = format!("/contracts/{CONTRACT}/record/rent");
    let mut fields = page_form(&app, &operator, "rent").await;
    set(&mut fields, "occurred_at", "2023-08-05T10:00");
    set(&mut fields, "tenancy_id", "ten-typed");
    set(&mut fields, "month", "2023-08");
    // Three decimals: the API's parsing refuses it, naming `amount`.
    set(&mut fields, "amount", "190.005");
    let sent = app.post(Some(&operator), &path, &borrowed(&fields)).await;
    assert_eq!(
        sent.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sent.text
    );
    assert!(
        sent.text.contains("id=\"rent-amount-error\""),
        "the error is beside the amount: {}",
        sent.text
    );
    assert!(sent.text.contains("aria-invalid=\"true\""));
    for typed in ["ten-typed", "190.005", "2023-08"] {
        assert!(
            sent.text.contains(&format!("value=\"{typed}\"")),
            "{typed} kept"
        );
    }
    assert_eq!(app.log_size().await, before, "nothing was written");
    // A required field left empty is named before the API is asked.
    set(&mut fields, "tenancy_id", "");
    let sent = app.post(Some(&operator), &path, &borrowed(&fields)).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sent.text.contains("id=\"rent-tenancy_id-error\""));
    // Without the session's CSRF token: the 403 page, nothing written.
    fields.retain(|(name, _)| name != "csrf");
    let sent = app.post(Some(&operator), &path, &borrowed(&fields)).await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN);
    assert_eq!(app.log_size().await, before, "nothing was written");
}

async fn an_access_form_sent_twice_records_one_access(app: App) {
    let before = app.log_size().await;
    let operator = app.sign_in(Role::Operator).await;
    let path = format!("/contracts/{CONTRACT}/record/access");
    let mut fields = page_form(&app, &operator, "access").await;
    set(&mut fields, "occurred_at", "2023-09-12T11:15");
    set(&mut fields, "access_id", "acc-form-1");
    set(&mut fields, "channel", "email");
    set(&mut fields, "need", "housing");
    set(&mut fields, "outcome.kind", "information_only");
    let first = app.post(Some(&operator), &path, &borrowed(&fields)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text);
    let position = before + 1;
    assert_eq!(
        first.location(),
        Some(format!("/contracts/{CONTRACT}/record?recorded={position}#form-access").as_str())
    );
    let second = app.post(Some(&operator), &path, &borrowed(&fields)).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.text);
    assert_eq!(
        second.location(),
        Some(format!("/contracts/{CONTRACT}/record?replayed={position}#form-access").as_str())
    );
    assert_eq!(app.log_size().await, before + 1, "one event for two sends");
    let stream = app
        .api(
            "GET",
            &format!("/v1/contracts/{CONTRACT}/streams/access/acc-form-1"),
            Role::Admin,
            None,
        )
        .await;
    let entries = stream.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["entry"]["occurred_at"].as_str(),
        Some("2023-09-12T11:15:00+02:00"),
        "Rome's summer time: {}",
        entries[0]
    );
}

async fn the_audit_page_streams_the_apis_export(app: App) {
    let evaluator = app.sign_in(Role::Evaluator).await;
    let page = app
        .get(Some(&evaluator), &format!("/contracts/{CONTRACT}/audit"))
        .await;
    assert!(page.text.contains(&format!("{CONTRACT}-export.jsonl")));
    for command in [
        "esito verify",
        "esito indicators --offline",
        "esito settle --offline",
    ] {
        assert!(page.text.contains(command), "{command}");
    }
    let downloaded = app
        .get(
            Some(&evaluator),
            &format!("/contracts/{CONTRACT}/audit/export"),
        )
        .await;
    assert_eq!(downloaded.status, StatusCode::OK);
    assert_eq!(downloaded.headers["content-type"], "application/x-ndjson");
    let exported = app
        .api(
            "GET",
            &format!("/v1/contracts/{CONTRACT}/export"),
            Role::Evaluator,
            None,
        )
        .await;
    assert_eq!(downloaded.bytes, exported.bytes, "the API's bytes");
    assert!(!downloaded.bytes.is_empty());
}
