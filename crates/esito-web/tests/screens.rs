//! The screens over the API's state, on SQLite and on PostgreSQL: signing in and out, every
//! page as every role (the status, no forbidden button, no identity), CSRF on every form, and
//! the figures the pages show equal to the API's.

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_testkit::both_stores;

mod fixture;
use fixture::{
    app, key, App, CONTRACT, FAMILY_NAME, FISCAL_CODE, GIVEN_NAME, PHONE, SETTLED, TITLE,
};

both_stores!(
    fixture = app;
    a_wrong_key_gets_the_sign_in_page_again_and_no_cookie,
    the_right_key_opens_a_session_whose_cookie_is_http_only_and_strict,
    signing_out_needs_the_csrf_token_and_ends_the_session,
    every_page_answers_each_role_as_the_permission_table_says,
    no_page_shows_a_persons_identity,
    the_dashboard_shows_the_apis_figures,
    the_dashboard_shows_an_event_recorded_since_it_was_last_seen,
    pages_speak_italian_by_default_and_english_on_request,
    each_role_sees_only_the_buttons_its_key_may_use,
    a_settlement_goes_through_its_steps_by_the_forms,
    a_form_without_its_csrf_token_or_its_right_writes_nothing,
    a_form_sent_twice_records_once,
    the_settlement_page_and_its_pdf_show_the_apis_figures,
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
        (format!("/contracts/{CONTRACT}/settlements"), readers),
        (
            format!("/contracts/{CONTRACT}/settlements/{SETTLED}"),
            readers,
        ),
        (
            format!("/contracts/{CONTRACT}/settlements/{SETTLED}.pdf"),
            readers,
        ),
        (
            format!("/contracts/{CONTRACT}/proofs/inclusion?position=3"),
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
                if path.ends_with(".pdf") {
                    assert_eq!(page.headers["content-type"], "application/pdf");
                    assert!(page.bytes.starts_with(b"%PDF-"));
                } else if path.contains("/proofs/") {
                    assert!(page.json()["root_hash"].is_string(), "{}", page.text);
                } else {
                    assert!(page.text.contains("<main"), "{path}");
                    every_input_has_its_label(&page.text, &path);
                }
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
                    .get(
                        Some(&session),
                        &format!(
                            "{path}{}lang={lang}",
                            if path.contains('?') { '&' } else { '?' }
                        ),
                    )
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
        // Cuneo's definitions declare four themes: the grid is 4 themes × 4 areas.
        let grid = &page.text[page.text.find("<table class=\"grid\"").expect("the grid")..];
        let grid = &grid[..grid.find("</table>").expect("its end")];
        assert_eq!(grid.matches("<th scope=\"row\"").count(), 4);
        assert_eq!(grid.matches("<th scope=\"col\"").count(), 4);
        // The target rule's target, beside its indicator and on its chart.
        let section = &page.text[page
            .text
            .find("id=\"indicator-centre_users\"")
            .expect("the section")..];
        let section = &section[..section.find("</section>").expect("its end")];
        assert!(
            section.contains(&format!("class=\"target\">{}</strong>", fixture::TARGET)),
            "{section}"
        );
        assert!(section.contains("<line class=\"target\""));
        let other = &page.text[page
            .text
            .find("id=\"indicator-centre_accesses\"")
            .expect("the section")..];
        let other = &other[..other.find("</section>").expect("its end")];
        assert!(
            !other.contains("class=\"target\""),
            "no target where the terms set none"
        );
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
        let as_of = api["as_of"].as_u64().expect("as_of");
        let link =
            format!("/contracts/{CONTRACT}/proofs/inclusion?position={position}&amp;size={as_of}");
        assert!(explanation.text.contains(&link), "{link}");
        // The link opens for the reader signed in, with the API's own proof.
        let proof = format!("proofs/inclusion?position={position}&size={as_of}");
        let linked = app
            .get(Some(&session), &format!("/contracts/{CONTRACT}/{proof}"))
            .await;
        assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
        let api_proof = app
            .api(
                "GET",
                &format!("/v1/contracts/{CONTRACT}/{proof}"),
                Role::Payer,
                None,
            )
            .await;
        assert_eq!(api_proof.status, StatusCode::OK);
        assert!(linked.json().is_object());
        assert_eq!(linked.json(), api_proof.json());
    }
}

async fn the_dashboard_shows_an_event_recorded_since_it_was_last_seen(app: App) {
    let session = app.sign_in(Role::Payer).await;
    let dashboard = format!("/contracts/{CONTRACT}");
    let contract = fixture::contract();
    let first = app.get(Some(&session), &dashboard).await;
    assert_eq!(
        cell(&first.text, "centre_accesses", "2023-Q3").as_deref(),
        Some("5")
    );
    let kept = app.web.reports.kept_as_of(&contract).expect("reports kept");
    // Seen again with nothing recorded: the same figures, from the reports kept.
    let again = app.get(Some(&session), &dashboard).await;
    assert_eq!(again.text, first.text);
    assert_eq!(app.web.reports.kept_as_of(&contract), Some(kept));
    let recorded = app
        .api(
            "POST",
            &format!("/v1/contracts/{CONTRACT}/commands/record-access"),
            Role::Operator,
            Some(serde_json::json!({
                "event_id": "0b6f3f0e-8d55-4c4e-9a51-3f1c2f4d7a10",
                "occurred_at": "2023-09-12T10:00:00+02:00",
                "access_id": "acc-since",
                "channel": "in_person",
                "need": "elderly_care",
                "outcome": {"kind": "information_only"}
            })),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.text);
    let after = app.get(Some(&session), &dashboard).await;
    assert_eq!(
        cell(&after.text, "centre_accesses", "2023-Q3").as_deref(),
        Some("6"),
        "the access recorded since"
    );
    assert!(app.web.reports.kept_as_of(&contract) > Some(kept));
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

/// The steps a role's key may take, by the permission table.
fn may_take(role: Role, step: &str) -> bool {
    esito_api::screens::step_command(step)
        .is_some_and(|command| role.may(esito_api::auth::Action::Command(command)))
}

async fn each_role_sees_only_the_buttons_its_key_may_use(app: App) {
    let document = format!("/contracts/{CONTRACT}/settlements/{SETTLED}");
    let list = format!("/contracts/{CONTRACT}/settlements");
    for role in Role::ALL {
        let session = app.sign_in(role).await;
        let page = app.get(Some(&session), &document).await;
        let buttons = page.buttons();
        for button in &buttons {
            assert!(
                may_take(role, button),
                "{} is shown {button}",
                role.as_str()
            );
        }
        // A calculated settlement: the evaluator validates it, the payer may withdraw it.
        let expected: &[&str] = match role {
            Role::Evaluator => &["validate"],
            Role::Payer => &["withdraw"],
            _ => &[],
        };
        assert_eq!(buttons, expected, "{}", role.as_str());
        let may_calculate = role.may(esito_api::auth::Action::CalculateSettlement);
        for path in [&document, &list] {
            let page = app.get(Some(&session), path).await;
            let calculate = page.form("settlements").is_some();
            assert_eq!(
                calculate,
                may_calculate && page.status == StatusCode::OK,
                "{} {path}",
                role.as_str()
            );
        }
    }
}

/// Sends the form of `step` on the settlement's page as `role`, the reader's fields given.
async fn take_step(app: &App, role: Role, step: &str, filled: &[(&str, &str)]) -> fixture::Answer {
    let session = app.sign_in(role).await;
    let document = format!("/contracts/{CONTRACT}/settlements/{SETTLED}");
    let page = app.get(Some(&session), &document).await;
    let mut fields = page
        .form(step)
        .unwrap_or_else(|| panic!("no {step} form: {}", page.text));
    for (name, value) in filled {
        for field in fields.iter_mut().filter(|(n, _)| n == name) {
            field.1 = (*value).to_owned();
        }
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    app.post(Some(&session), &format!("{document}/{step}"), &fields)
        .await
}

async fn status_of(app: &App) -> String {
    app.api(
        "GET",
        &format!("/v1/contracts/{CONTRACT}/settlements/{SETTLED}"),
        Role::Payer,
        None,
    )
    .await
    .json()["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

async fn a_settlement_goes_through_its_steps_by_the_forms(app: App) {
    let validated = take_step(
        &app,
        Role::Evaluator,
        "validate",
        &[("note", "Cifre verificate")],
    )
    .await;
    assert_eq!(
        validated.status,
        StatusCode::SEE_OTHER,
        "{}",
        validated.text
    );
    assert_eq!(
        validated.location(),
        Some(format!("/contracts/{CONTRACT}/settlements/{SETTLED}").as_str())
    );
    assert_eq!(status_of(&app).await, "validated");
    let approved = take_step(&app, Role::Payer, "approve", &[]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text);
    assert_eq!(status_of(&app).await, "approved");
    let paid = take_step(
        &app,
        Role::Payer,
        "pay",
        &[("paid_on", "2023-10-20"), ("reference", "Mandato n. 1234")],
    )
    .await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.text);
    assert_eq!(status_of(&app).await, "paid");
    let session = app.sign_in(Role::Funder).await;
    let page = app
        .get(
            Some(&session),
            &format!("/contracts/{CONTRACT}/settlements/{SETTLED}"),
        )
        .await;
    assert!(page.text.contains("PAGATA"), "{}", page.text);
    assert!(page.text.contains("class=\"status final\""));
    let list = app
        .get(
            Some(&session),
            &format!("/contracts/{CONTRACT}/settlements"),
        )
        .await;
    for who in ["evaluator", "payer"] {
        assert!(list.text.contains(who), "{who} in the list");
    }
    assert!(list.text.contains("PAGATA"));
    // A step refused by the rules (paid already) is the refusal's page, and writes nothing.
    let before = app.log_size().await;
    let session = app.sign_in(Role::Evaluator).await;
    let again = app
        .post(
            Some(&session),
            &format!("/contracts/{CONTRACT}/settlements/{SETTLED}/validate"),
            &[
                (
                    "csrf",
                    &app.get(Some(&session), "/contracts")
                        .await
                        .csrf()
                        .expect("csrf"),
                ),
                ("event_id", &uuid::Uuid::new_v4().to_string()),
                ("as_of", "1"),
            ],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    // The rule's own title: the settlement's steps have titles of their own.
    assert!(
        again
            .text
            .contains("La determina di liquidazione è già registrata"),
        "{}",
        again.text
    );
    assert_eq!(app.log_size().await, before);
}

async fn a_form_without_its_csrf_token_or_its_right_writes_nothing(app: App) {
    let before = app.log_size().await;
    let evaluator = app.sign_in(Role::Evaluator).await;
    let document = format!("/contracts/{CONTRACT}/settlements/{SETTLED}");
    let page = app.get(Some(&evaluator), &document).await;
    let fields = page.form("validate").expect("the validate form");
    let without: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(n, _)| n != "csrf")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let refused = app
        .post(Some(&evaluator), &format!("{document}/validate"), &without)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.text.contains("Il modulo è scaduto"),
        "{}",
        refused.text
    );
    let mut wrong = without.clone();
    let forged = "f".repeat(64);
    wrong.push(("csrf", &forged));
    let refused = app
        .post(Some(&evaluator), &format!("{document}/validate"), &wrong)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Another session's token is not this session's.
    let other = app.sign_in(Role::Evaluator).await;
    let other_csrf = app
        .get(Some(&other), "/contracts")
        .await
        .csrf()
        .expect("csrf");
    let mut theirs = without.clone();
    theirs.push(("csrf", &other_csrf));
    let refused = app
        .post(Some(&evaluator), &format!("{document}/validate"), &theirs)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let payer = app.sign_in(Role::Payer).await;
    let calculate = app
        .post(
            Some(&payer),
            &format!("/contracts/{CONTRACT}/settlements"),
            &[
                ("period", "2023-Q4"),
                ("event_id", &uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await;
    assert_eq!(calculate.status, StatusCode::FORBIDDEN);
    // With the session's token but without the right: the operator may not validate.
    let operator = app.sign_in(Role::Operator).await;
    let csrf = app
        .get(Some(&operator), "/contracts")
        .await
        .csrf()
        .expect("csrf");
    let mut forbidden = without.clone();
    forbidden.push(("csrf", &csrf));
    let refused = app
        .post(Some(&operator), &format!("{document}/validate"), &forbidden)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("Accesso negato"));
    // No session at all: to the sign-in page.
    let stranger = app
        .post(None, &format!("{document}/validate"), &without)
        .await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
    assert_eq!(app.log_size().await, before, "nothing was written");
    assert_eq!(status_of(&app).await, "calculated");
}

async fn a_form_sent_twice_records_once(app: App) {
    let before = app.log_size().await;
    let session = app.sign_in(Role::Evaluator).await;
    let document = format!("/contracts/{CONTRACT}/settlements/{SETTLED}");
    let page = app.get(Some(&session), &document).await;
    let fields = page.form("validate").expect("the validate form");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    for _ in 0..2 {
        let sent = app
            .post(Some(&session), &format!("{document}/validate"), &fields)
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    }
    assert_eq!(app.log_size().await, before + 1);
    assert_eq!(status_of(&app).await, "validated");
}

async fn the_settlement_page_and_its_pdf_show_the_apis_figures(app: App) {
    use esito_web::lang::Lang;
    let api = app
        .api(
            "GET",
            &format!("/v1/contracts/{CONTRACT}/settlements/{SETTLED}"),
            Role::Payer,
            None,
        )
        .await
        .json();
    let document = &api["document"];
    let figure = |name: &str| -> rust_decimal::Decimal {
        document[name]
            .as_str()
            .expect("an amount")
            .parse()
            .expect("a decimal")
    };
    // Five accesses at 10 euro, under the 60 euro cap.
    assert_eq!(figure("total"), rust_decimal::Decimal::new(5000, 2));
    let session = app.sign_in(Role::Payer).await;
    for lang in [Lang::It, Lang::En] {
        let path = format!("/contracts/{CONTRACT}/settlements/{SETTLED}");
        let page = app
            .get(Some(&session), &format!("{path}?lang={}", lang.code()))
            .await;
        let pdf = app
            .get(Some(&session), &format!("{path}.pdf?lang={}", lang.code()))
            .await;
        assert_eq!(pdf.headers["content-type"], "application/pdf");
        let pdf_text = pdf_text(&pdf.bytes);
        let draft = match lang {
            Lang::It => "BOZZA",
            Lang::En => "DRAFT",
        };
        assert!(
            page.text.contains(draft) && pdf_text.contains(draft),
            "{draft}"
        );
        for name in ["total", "total_with_vat"] {
            let shown = esito_web::format::money(figure(name), "EUR", lang);
            assert!(page.text.contains(&shown), "{shown} on the page");
            assert!(pdf_text.contains(&shown), "{shown} in the PDF: {pdf_text}");
        }
        for line in document["lines"].as_array().expect("lines") {
            let amount: rust_decimal::Decimal = line["amount"]
                .as_str()
                .expect("an amount")
                .parse()
                .expect("a decimal");
            let shown = esito_web::format::money(amount, "EUR", lang);
            assert!(
                page.text.contains(&shown) && pdf_text.contains(&shown),
                "{shown}"
            );
            let arithmetic = esito_web::arithmetic::in_words(
                line["arithmetic"].as_str().expect("arithmetic"),
                lang,
            );
            assert!(pdf_text.contains(&arithmetic), "{arithmetic}");
        }
        let root = document["root_hash"].as_str().expect("a root");
        assert!(page.text.contains(root));
        let key_id = api["checkpoint"]["key_id"]
            .as_str()
            .expect("a signed checkpoint");
        assert!(page.text.contains(key_id) && pdf_text.contains(key_id));
        for party in [
            "Comune di Prova",
            "Cooperativa Gestore",
            "Valutatore Indipendente",
        ] {
            assert!(
                page.text.contains(party) && pdf_text.contains(party),
                "{party}"
            );
        }
    }
}

/// The text of a PDF as a reader extracts it, its lines joined.
fn pdf_text(bytes: &[u8]) -> String {
    let document = lopdf::Document::load_mem(bytes).expect("the PDF opens");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    document.extract_text(&pages).expect("its text")
}

/// Every input a reader fills has a `<label for>` naming its id; no page loads anything from
/// outside the service, nor a script.
fn every_input_has_its_label(page: &str, path: &str) {
    for input in page.split("<input").skip(1) {
        let tag = &input[..input.find('>').expect("a closed tag")];
        if tag.contains("type=\"hidden\"") {
            continue;
        }
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{path}: an input without an id: {tag}"));
        assert!(
            page.contains(&format!("<label for=\"{id}\">")),
            "{path}: no label for {id}"
        );
    }
    assert!(!page.contains("<script"), "{path}: a script");
    for external in ["src=\"http", "href=\"http", "url(http", "//cdn"] {
        assert!(!page.contains(external), "{path}: {external}");
    }
}
