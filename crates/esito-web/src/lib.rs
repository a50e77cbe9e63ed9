//! The people's screens: server-rendered pages in Italian and English over the API's state.
//!
//! Invariant: a page reads and writes only through `esito_api::screens`, which runs the same
//! code and checks the same permission (`Role::may`) as the endpoint the page mirrors; the
//! pages compute no figure of their own, load nothing from outside the service, and need no
//! JavaScript.

pub mod arithmetic;
pub mod chart;
pub mod contracts;
pub mod document;
pub mod explain;
pub mod format;
pub mod labels;
pub mod lang;
pub mod lifecycle;
pub mod page;
pub mod pages;
pub mod pdf;
pub mod reports;
pub mod session;
pub mod settlements;
pub mod signin;

use std::sync::Arc;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use esito_api::AppState;

use crate::lang::Lang;
use crate::page::{PageError, Viewer};
use crate::session::{same_token, Sessions};

/// The screens' state: the API's, the sessions signed in, and the dashboards' reports kept
/// as of the head they were read at.
pub struct Web {
    pub api: Arc<AppState>,
    pub sessions: Sessions,
    pub reports: reports::Reports,
}

/// The one stylesheet, served by the service itself.
pub const STYLESHEET: &str = include_str!("../static/esito.css");

/// The screens' routes over the API's state, to be merged beside the API's router. Append new
/// routes at the end.
pub fn router(api: Arc<AppState>) -> Router {
    router_with(Arc::new(Web {
        api,
        sessions: Sessions::default(),
        reports: reports::Reports::default(),
    }))
}

/// The routes over a given `Web` (tests keep it to look at the sessions).
pub fn router_with(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(signin::page))
        .route("/session", post(signin::open))
        .route("/session/end", post(signin::end))
        .route("/static/esito.css", get(stylesheet))
        .route("/contracts", get(contracts::list))
        .route("/contracts/{contract}", get(contracts::dashboard))
        .route(
            "/contracts/{contract}/indicators/{indicator}/{period}",
            get(explain::page),
        )
        .route(
            "/contracts/{contract}/settlements",
            get(settlements::list).post(settlements::calculate),
        )
        .route(
            "/contracts/{contract}/settlements/{period}",
            get(settlements::page),
        )
        .route(
            "/contracts/{contract}/settlements/{period}/{step}",
            post(settlements::step),
        )
        .route(
            "/contracts/{contract}/proofs/inclusion",
            get(explain::proof),
        )
        // The funder's, the evaluator's and the operator's pages (`pages/`), and the icon
        // browsers ask for.
        .route("/favicon.ico", get(pages::icon))
        .route("/contracts/{contract}/funder", get(pages::funder::page))
        .route("/contracts/{contract}/audit", get(pages::audit::page))
        .route(
            "/contracts/{contract}/audit/export",
            get(pages::audit::export),
        )
        .route("/contracts/{contract}/record", get(pages::record::page))
        .route(
            "/contracts/{contract}/record/{form}",
            post(pages::record::submit),
        )
        .layer(axum::middleware::from_fn(lang::negotiate))
        .with_state(web)
}

async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    response
}

/// Refuses, with the 403 page, a form whose CSRF token is not its session's.
pub fn check_csrf(viewer: &Viewer, sent: Option<&str>, lang: Lang) -> Result<(), PageError> {
    match sent {
        Some(sent) if same_token(sent, &viewer.session.csrf) => Ok(()),
        _ => Err(PageError::csrf(lang)),
    }
}
