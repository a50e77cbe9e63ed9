//! The frame of every page (header with the contract, the role, the language switch and
//! signing out; `<main>`; footer), the error pages, and who is signed in.
//!
//! Invariant: a page's role is its key's; a page that needs a session and has none answers
//! with the sign-in page's address (303), never with content.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use esito_api::auth::{Action, Principal, Role};
use esito_api::error::ApiError;
use esito_domain::ContractId;
use maud::{html, Markup, DOCTYPE};

use crate::lang::{self, Lang};
use crate::session::{self, Session};
use crate::Web;

/// Who is looking: the key's principal and the session it signed in with.
pub struct Viewer {
    pub principal: Principal,
    pub session: Session,
    /// The session cookie's token, to end the session with.
    pub token: String,
}

impl Viewer {
    pub fn role(&self) -> Role {
        self.principal.role
    }
}

/// The signed-in viewer of a request and the contract `contract_text` names, if the viewer's
/// key may take `action` on it (`esito_api::screens::open`): what every contract's page checks
/// first. Without a session, the sign-in page's address; otherwise the API's refusal as a page.
pub async fn viewer_of(
    web: &Web,
    headers: &HeaderMap,
    lang: Lang,
    contract_text: &str,
    action: Action,
) -> Result<(Viewer, ContractId), PageError> {
    let viewer = viewer(web, headers, lang).await?;
    let contract = esito_api::screens::open(&web.api, &viewer.principal, contract_text, action)
        .await
        .map_err(|error| PageError::from_api(lang, &error))?;
    Ok((viewer, contract))
}

/// The signed-in viewer of a request, or the sign-in page's address.
pub async fn viewer(web: &Web, headers: &HeaderMap, lang: Lang) -> Result<Viewer, PageError> {
    let expired = || PageError::sign_in(lang);
    let token = lang::cookie(headers, session::COOKIE_NAME).ok_or_else(expired)?;
    let session = web.sessions.find(token).ok_or_else(expired)?;
    let principal = web
        .api
        .keys
        .authenticate_hash(&web.api.store, session.key_hash)
        .await
        .map_err(|error| {
            if error.status == StatusCode::UNAUTHORIZED {
                web.sessions.end(token);
                expired()
            } else {
                PageError::from_api(lang, &error)
            }
        })?;
    Ok(Viewer {
        principal,
        session,
        token: token.to_owned(),
    })
}

/// The label key of a role (`role.*`).
pub fn role_label(role: Role, lang: Lang) -> &'static str {
    match role {
        Role::Admin => lang.t("role.admin"),
        Role::Operator => lang.t("role.operator"),
        Role::Provider => lang.t("role.provider"),
        Role::Payer => lang.t("role.payer"),
        Role::Funder => lang.t("role.funder"),
        Role::Evaluator => lang.t("role.evaluator"),
    }
}

/// What the header shows beside the application's name.
pub struct Frame<'a> {
    pub lang: Lang,
    /// The page's `<title>` and first heading.
    pub title: &'a str,
    /// The page's own path, for the language switch.
    pub path: &'a str,
    /// The contract the page is about: its id and title.
    pub contract: Option<(&'a str, &'a str)>,
    pub viewer: Option<&'a Viewer>,
}

/// A whole page: the frame around `body`.
pub fn layout(frame: &Frame<'_>, body: Markup) -> Markup {
    let lang = frame.lang;
    let other = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · " (lang.t("app.name")) }
                link rel="stylesheet" href="/static/esito.css";
            }
            body {
                a.skip href="#content" { (lang.t("layout.skip")) }
                header.site {
                    div.brand {
                        a href=(if frame.viewer.is_some() { "/contracts" } else { "/" }) {
                            strong { (lang.t("app.name")) }
                        }
                        span.tagline { (lang.t("app.tagline")) }
                    }
                    @if let Some((id, name)) = frame.contract {
                        p.contract-name {
                            a href={ "/contracts/" (id) } { (name) }
                        }
                    }
                    nav aria-label=(lang.t("layout.nav")) {
                        ul {
                            @if frame.viewer.is_some() {
                                li { a href="/contracts" { (lang.t("layout.contracts")) } }
                            }
                            li {
                                a href={ (frame.path) "?lang=" (other.code()) }
                                    hreflang=(other.code()) lang=(other.code())
                                    title=(lang.t("layout.switch_hint")) {
                                    (lang.t("layout.switch"))
                                }
                            }
                        }
                    }
                    @if let Some(viewer) = frame.viewer {
                        div.who {
                            span { (lang.t("layout.role")) ": " strong.role { (role_label(viewer.role(), lang)) } }
                            form method="post" action="/session/end" {
                                input type="hidden" name="csrf" value=(viewer.session.csrf);
                                button type="submit" { (lang.t("layout.sign_out")) }
                            }
                        }
                    }
                }
                main id="content" tabindex="-1" {
                    (body)
                }
                footer.site {
                    p { (lang.t("layout.footer")) }
                }
            }
        }
    }
}

/// A page as an HTML response that no cache keeps (it shows one key's view).
pub fn respond(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, page.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(location).expect("a location is ASCII"),
    );
    response
}

/// Why a page is not shown: sign in again, or an error page in the reader's language.
#[derive(Debug)]
pub enum PageError {
    /// No session, or one that ended: to the sign-in page.
    SignIn { lang: Lang },
    /// An error page.
    Page {
        lang: Lang,
        status: StatusCode,
        title: &'static str,
        message: String,
        field: Option<String>,
    },
}

impl PageError {
    pub fn sign_in(lang: Lang) -> Self {
        PageError::SignIn { lang }
    }

    /// The 403 page: the role may not open this page or take this action.
    pub fn forbidden(lang: Lang) -> Self {
        PageError::Page {
            lang,
            status: StatusCode::FORBIDDEN,
            title: lang.t("error.forbidden_title"),
            message: lang.t("error.forbidden").to_owned(),
            field: None,
        }
    }

    /// The 403 page of a form whose CSRF token is missing or wrong.
    pub fn csrf(lang: Lang) -> Self {
        PageError::Page {
            lang,
            status: StatusCode::FORBIDDEN,
            title: lang.t("error.forbidden_title"),
            message: lang.t("error.csrf").to_owned(),
            field: None,
        }
    }

    pub fn not_found(lang: Lang) -> Self {
        PageError::Page {
            lang,
            status: StatusCode::NOT_FOUND,
            title: lang.t("error.not_found_title"),
            message: lang.t("error.not_found").to_owned(),
            field: None,
        }
    }

    /// The API's refusal as a page: its status, its title in the reader's language, its
    /// detail and field.
    pub fn from_api(lang: Lang, error: &ApiError) -> Self {
        match error.status {
            StatusCode::UNAUTHORIZED => PageError::sign_in(lang),
            StatusCode::FORBIDDEN => PageError::forbidden(lang),
            StatusCode::NOT_FOUND => PageError::not_found(lang),
            status if status.is_server_error() => {
                tracing::error!(code = error.code, detail = %error.detail, "a page failed");
                PageError::Page {
                    lang,
                    status,
                    title: lang.t("error.failed_title"),
                    message: lang.t("error.failed").to_owned(),
                    field: None,
                }
            }
            status => {
                let title = esito_api::titles::of_code(error.code);
                PageError::Page {
                    lang,
                    status,
                    title: lang.pick(title.it, title.en),
                    message: error.detail.clone(),
                    field: error.field.clone(),
                }
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { lang } => see_other(&format!("/?lang={}&expired=1", lang.code())),
            PageError::Page {
                lang,
                status,
                title,
                message,
                field,
            } => {
                let frame = Frame {
                    lang,
                    title,
                    path: "/contracts",
                    contract: None,
                    viewer: None,
                };
                let body = html! {
                    h1 { (title) }
                    p.problem role="alert" {
                        (message)
                        @if let Some(field) = &field { " (" code { (field) } ")" }
                    }
                    p { a href="/contracts" { (lang.t("error.back")) } }
                };
                respond(status, layout(&frame, body))
            }
        }
    }
}
