//! The screens over the API's state, on SQLite and on PostgreSQL: signing in and out, every
//! page as every role (the status, no forbidden button, no identity), CSRF on every form, and
//! the figures the pages show equal to the API's.

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_testkit::both_stores;

mod fixture;
use fixture::{app, key, App, CONTRACT, FAMILY_NAME, FISCAL_CODE, GIVEN_NAME, PHONE, TITLE};

both_stores!(
    fixture = app;
    a_wrong_key_gets_the_sign_in_page_again_and_no_cookie,
    the_right_key_opens_a_session_whose_cookie_is_http_only_and_strict,
    signing_out_needs_the_csrf_token_and_ends_the_session,
    every_page_answers_each_role_as_the_permission_table_says,
    no_page_shows_a_persons_identity,
    the_dashboard_shows_the_apis_figures,
    pages_speak_italian_by_default_and_english_on_request,
);

async fn a_wrong_key_gets_the_sign_in_page_again_and_no_cookie(app: App) {
    for wrong in ["esito_0000", "", "screens-key-payer ", "screens-key-nobody"] {
        let answer = app.sign_in_with(wrong).await;
        if wrong == "screens-key-payer " {
            // A key pasted with a space around it is still the key.
            assert_eq!(answer.status, StatusCode::SEE_OTHER);
            continue;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(answer.text.contains("Chiave non valida"), "{}", answer.text);
        assert!(
            answer.text.contains("name=\"key\""),
            "the sign-in form again"
        );
        assert!(
            answer
                .cookies()
                .iter()
                .all(|c| !c.starts_with("esito_session")),
            "no session cookie for a wrong key"
        );
    }
    let page = app.get(None, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("<label for=\"key\">"), "{}", page.text);
}

async fn the_right_key_opens_a_session_whose_cookie_is_http_only_and_strict(app: App) {
    let answer = app.sign_in_with(&key(Role::Payer)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/contracts"));
    let cookie = answer
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("esito_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} in {cookie}"
        );
    }
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("esito_session="))
        .expect("a token");
    assert_eq!(token.len(), 64);
    assert!(app.web.sessions.holds_hash_of(token));
    // Signed in, the list opens; without the cookie it sends the reader to sign in.
    let session = fixture::Session {
        cookie: format!("esito_session={token}"),
        role: Role::Payer,
    };
    let list = app.get(Some(&session), "/contracts").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains(TITLE));
    let stranger = app.get(None, "/contracts").await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
    assert!(stranger.location().is_some_and(|l| l.starts_with("/?")));
    let forged = fixture::Session {
        cookie: format!("esito_session={}", "0".repeat(64)),
        role: Role::Payer,
    };
    assert_eq!(
        app.get(Some(&forged), "/contracts").await.status,
        StatusCode::SEE_OTHER
    );
}

async fn signing_out_needs_the_csrf_token_and_ends_the_session(app: App) {
    let session = app.sign_in(Role::Evaluator).await;
    let page = app.get(Some(&session), "/contracts").await;
    let csrf = page.csrf().expect("the sign-out form carries a CSRF token");
    for wrong in [
        vec![],
        vec![("csrf", "0".repeat(64))],
        vec![("csrf", "x".to_owned())],
    ] {
        let fields: Vec<(&str, &str)> = wrong.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let refused = app.post(Some(&session), "/session/end", &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{fields:?}");
        assert!(refused.text.contains("Accesso negato"));
        assert_eq!(
            app.get(Some(&session), "/contracts").await.status,
            StatusCode::OK,
            "a refused sign-out leaves the session"
        );
    }
    let out = app
        .post(Some(&session), "/session/end", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.location().is_some_and(|l| l.starts_with("/?out=1")));
    assert!(out
        .cookies()
        .iter()
        .any(|c| c.starts_with("esito_session=;") && c.contains("Max-Age=0")));
    let after = app.get(Some(&session), "/contracts").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the old cookie opens nothing"
    );
}

/// Every page of the screens with the status each role gets: 200, or the 403 page.
fn pages() -> Vec<(String, &'static [Role])> {
    use Role::*;
    let readers: &'static [Role] = &[Admin, Operator, Payer, Funder, Evaluator];
    let everyone: &'static [Role] = &[Admin, Operator, Provider, Payer, Funder, Evaluator];
    vec![
        ("/contracts".to_owned(), everyone),
        (format!("/contracts/{CONTRACT}"), readers),
        (
            format!("/contracts/{CONTRACT}/indicators/centre_accesses/2023-Q3"),
            readers,
        ),
    ]
}

async fn every_page_answers_each_role_as_the_permission_table_says(app: App) {
    for role in Role::ALL {
        let session = app.sign_in(role).await;
        for (path, allowed) in pages() {
            let page = app.get(Some(&session), &path).await;
            if allowed.contains(&role) {
                assert_eq!(
                    page.status,
                    StatusCode::OK,
                    "{} {path}: {}",
                    role.as_str(),
                    page.text
                );
                assert!(page.text.contains("<main"), "{path}");
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{} {path}",
                    role.as_str()
                );
                assert!(page.text.contains("Accesso negato"), "the 403 page");
                assert!(
                    !page.text.contains(TITLE),
                    "a forbidden page shows nothing of the contract"
                );
            }
        }
    }
    // The provider sees no contract in its list; the others see this one.
    let provider = app.sign_in(Role::Provider).await;
    let list = app.get(Some(&provider), "/contracts").await;
    assert!(!list.text.contains(TITLE));
    let payer = app.sign_in(Role::Payer).await;
    let list = app.get(Some(&payer), "/contracts").await;
    assert!(list.text.contains(TITLE) && list.text.contains("Comune di Prova"));
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
                for field in esito_api::views::FIELDS.iter().map(|(name, _)| *name) {
                    if [
                        "given_name",
                        "family_name",
                        "fiscal_code",
                        "birth_date",
                        "contacts",
                    ]
                    .contains(&field)
                    {
                        assert!(
                            !page.text.contains(field),
                            "{} {path} names {field}",
                            role.as_str()
                        );
                    }
                }
            }
        }
    }
}

/// The text of the cell `data-indicator=".." data-period=".."` of a page.
fn cell(page: &str, indicator: &str, period: &str) -> Option<String> {
    let marker = format!("data-indicator=\"{indicator}\" data-period=\"{period}\">");
    let at = page.find(&marker)? + marker.len();
    let end = page[at..].find('<')? + at;
    Some(page[at..end].trim().to_owned())
}

/// A value as the API writes it: a count as a number, money (two places) and ratios (six)
/// as strings, nothing as null.
fn api_value(json: &serde_json::Value, unit: &str) -> Option<esito_indicators::Value> {
    use esito_indicators::Value;
    match json {
        serde_json::Value::Null => None,
        serde_json::Value::Number(count) => Some(Value::Count(count.as_u64().expect("a count"))),
        serde_json::Value::String(text) => {
            let decimal = text.parse().expect("a decimal");
            Some(
                if unit == "EUR" && text.split('.').nth(1).is_some_and(|d| d.len() == 2) {
                    Value::Money(decimal)
                } else {
                    Value::Ratio(decimal)
                },
            )
        }
        other => panic!("not a value: {other}"),
    }
}

async fn the_dashboard_shows_the_apis_figures(app: App) {
    let session = app.sign_in(Role::Payer).await;
    for lang in [esito_web::lang::Lang::It, esito_web::lang::Lang::En] {
        let page = app
            .get(
                Some(&session),
                &format!("/contracts/{CONTRACT}?lang={}", lang.code()),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let mut compared = 0;
        for period in ["2023-Q3", "2023-Q4", "2024-Q1"] {
            let api = app
                .api(
                    "GET",
                    &format!("/v1/contracts/{CONTRACT}/indicators?period={period}"),
                    Role::Payer,
                    None,
                )
                .await
                .json();
            for indicator in api["indicators"].as_array().expect("indicators") {
                let id = indicator["id"].as_str().expect("an id");
                let unit = indicator["unit"].as_str().expect("a unit");
                let value = api_value(&indicator["value"], unit);
                let expected = esito_web::contracts::value_text(value, unit, "EUR", lang);
                assert_eq!(
                    cell(&page.text, id, period).as_deref(),
                    Some(expected.as_str()),
                    "{id} {period}"
                );
                compared += 1;
            }
        }
        assert!(compared > 30, "{compared}");
        // Five accesses in 2023-Q3: the figure, and the explanation's five events.
        assert_eq!(
            cell(&page.text, "centre_accesses", "2023-Q3").as_deref(),
            Some("5")
        );
        assert!(page.text.contains("<svg"), "a chart");
    }
    let explanation = app
        .get(
            Some(&session),
            &format!("/contracts/{CONTRACT}/indicators/centre_accesses/2023-Q3"),
        )
        .await;
    assert_eq!(explanation.status, StatusCode::OK);
    let api = app
        .api(
            "GET",
            &format!("/v1/contracts/{CONTRACT}/indicators/centre_accesses/explain?period=2023-Q3"),
            Role::Payer,
            None,
        )
        .await
        .json();
    let facts = api["facts"].as_array().expect("facts");
    assert_eq!(facts.len(), 5);
    for fact in facts {
        let position = fact["position"].as_u64().expect("a position");
        let proof = format!("/v1/contracts/{CONTRACT}/proofs/inclusion?position={position}");
        assert!(explanation.text.contains(&proof), "{proof}");
        let linked = app.api("GET", &proof, Role::Payer, None).await;
        assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    }
}

async fn pages_speak_italian_by_default_and_english_on_request(app: App) {
    let session = app.sign_in(Role::Payer).await;
    let italian = app.get(Some(&session), "/contracts").await;
    assert!(italian.text.contains("<html lang=\"it\""));
    assert!(italian.text.contains("Amministrazione committente"));
    let english = app.get(Some(&session), "/contracts?lang=en").await;
    assert!(english.text.contains("<html lang=\"en\""));
    assert!(english.text.contains("Outcome payer"));
    let remembered = english
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("esito_lang="))
        .expect("the choice is remembered");
    assert!(remembered.starts_with("esito_lang=en;"));
    let request = axum::http::Request::builder()
        .uri("/contracts")
        .header("cookie", format!("{}; esito_lang=en", session.cookie))
        .body(axum::body::Body::empty())
        .expect("a request");
    assert!(app.send(request).await.text.contains("<html lang=\"en\""));
    let request = axum::http::Request::builder()
        .uri("/")
        .header("accept-language", "en-GB,en;q=0.9,it;q=0.5")
        .body(axum::body::Body::empty())
        .expect("a request");
    let page = app.send(request).await;
    assert!(page.text.contains("<html lang=\"en\"") && page.text.contains("Access key"));
}
