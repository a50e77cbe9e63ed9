//! The funder's, the evaluator's and the operator's pages, each in its own file.

pub mod audit;
pub mod funder;
pub mod record;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

/// The icon every browser asks for at `/favicon.ico`: Esito's initial, drawn in SVG.
pub const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">\
<rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#004a80\"/>\
<path d=\"M4 3h8v2H6.5v2H11v2H6.5v2H12v2H4z\" fill=\"#fff\"/></svg>";

/// `GET /favicon.ico`.
pub async fn icon() -> Response {
    let mut response = ICON.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=86400"));
    response
}
