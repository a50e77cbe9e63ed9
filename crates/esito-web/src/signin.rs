//! Signing in with a key and out again: `GET /`, `POST /session`, `POST /session/end`.
//!
//! Invariant: a wrong key gets the sign-in page again (401) with one message and no cookie; a
//! session's cookie is `HttpOnly`, `SameSite=Strict`, `Path=/` and expires with the session.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::header::{AUTHORIZATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;

use crate::lang::Lang;
use crate::page::{self, layout, respond, see_other, Frame, PageError};
use crate::session::{self, SESSION_LIFETIME};
use crate::Web;

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    out: Option<String>,
}

/// What the sign-in page says above its form.
enum Notice {
    None,
    WrongKey,
    Expired,
    SignedOut,
}

fn sign_in_page(lang: Lang, notice: Notice, status: StatusCode) -> Response {
    let frame = Frame {
        lang,
        title: lang.t("signin.title"),
        path: "/",
        contract: None,
        viewer: None,
    };
    let body = html! {
        h1 { (lang.t("signin.title")) }
        @match notice {
            Notice::None => {},
            Notice::WrongKey => p.problem role="alert" id="signin-error" { (lang.t("signin.wrong_key")) },
            Notice::Expired => p.notice role="status" { (lang.t("signin.expired")) },
            Notice::SignedOut => p.notice role="status" { (lang.t("signin.signed_out")) },
        }
        p { (lang.t("signin.intro")) }
        form.signin method="post" action="/session" {
            label for="key" { (lang.t("signin.key")) }
            input id="key" name="key" type="password" required autocomplete="off"
                spellcheck="false" aria-describedby="key-hint";
            p.hint id="key-hint" { (lang.t("signin.key_hint")) }
            button type="submit" { (lang.t("signin.submit")) }
        }
    };
    respond(status, layout(&frame, body))
}

/// `GET /`: the sign-in page; a reader already signed in goes on to the contracts.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
) -> Response {
    if page::viewer(&web, &headers, lang).await.is_ok() {
        return see_other("/contracts");
    }
    let notice = if query.out.is_some() {
        Notice::SignedOut
    } else if query.expired.is_some() {
        Notice::Expired
    } else {
        Notice::None
    };
    sign_in_page(lang, notice, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct SignIn {
    key: String,
}

/// `POST /session` with the field `key`: a session and `303` to `/contracts`, or the sign-in
/// page again (401).
pub async fn open(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    let wrong = || sign_in_page(lang, Notice::WrongKey, StatusCode::UNAUTHORIZED);
    let Ok(Form(SignIn { key })) = form else {
        return wrong();
    };
    let key = key.trim();
    let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {key}")) else {
        return wrong();
    };
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, bearer);
    match web.api.keys.authenticate(&web.api.store, &headers).await {
        Ok(_) => {}
        Err(error) if error.status == StatusCode::UNAUTHORIZED => return wrong(),
        Err(error) => return PageError::from_api(lang, &error).into_response(),
    }
    let token = web.sessions.open(esito_api::auth::key_hash(key));
    let mut response = see_other("/contracts");
    let cookie = format!(
        "{}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session::COOKIE_NAME,
        SESSION_LIFETIME.as_secs()
    );
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a session cookie is ASCII"),
    );
    response
}

#[derive(Deserialize)]
pub struct Csrf {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /session/end` with the session's CSRF token: the session ends, its cookie is
/// cleared, `303` to the sign-in page.
pub async fn end(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    headers: HeaderMap,
    form: Result<Form<Csrf>, FormRejection>,
) -> Result<Response, PageError> {
    let viewer = page::viewer(&web, &headers, lang).await?;
    crate::check_csrf(
        &viewer,
        form.as_ref().ok().map(|Form(csrf)| csrf.csrf.as_str()),
        lang,
    )?;
    web.sessions.end(&viewer.token);
    let mut response = see_other(&format!("/?out=1&lang={}", lang.code()));
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
            session::COOKIE_NAME
        ))
        .expect("ASCII"),
    );
    Ok(response)
}
