//! The access log: one line per request, with its method, route template, status, duration,
//! request id and the id of the key that was authenticated, at `warn` for a 5xx and `info`
//! otherwise (a 4xx included).
//!
//! Invariant: a line holds no key, no body, no query string, no raw path (it may name a
//! beneficiary or a token) and no address: only the route template and the fields above.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::REQUEST_ID_HEADER;
use crate::AppState;

/// The longest request id taken from a client.
pub const REQUEST_ID_BYTES_MAX: usize = 128;

/// A client's request id is kept if it is 1 to `REQUEST_ID_BYTES_MAX` characters of letters,
/// digits, `-`, `_`, `.` and `:` (a UUID, a trace id); anything else is replaced by a new UUID,
/// so a log line cannot be forged or broken through the header.
pub fn sane_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= REQUEST_ID_BYTES_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The key id of a bearer key: the first 16 hex digits of its SHA-256, the hash `api_keys`
/// stores, so the key is found by it and never shown.
pub fn key_id(key_hash: &[u8; 32]) -> String {
    key_hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of the bearer key a request carries, if it carries one.
fn bearer_hash(headers: &HeaderMap) -> Option<[u8; 32]> {
    let key = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    Some(crate::auth::key_hash(key.trim()))
}

/// Runs the request and writes its line. It is the outermost layer: the request id it settles
/// (the client's if sane, else a new one) is the one the request's span and the response's
/// `x-request-id` carry.
pub async fn record(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| sane_request_id(value))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let header = HeaderValue::from_str(&request_id)
        .expect("a sane request id or a UUID is a valid header value");
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, header.clone());
    let presented = bearer_hash(request.headers());
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    // A key is named only once the service has found it: the cache holds no other.
    let key_id = presented
        .filter(|hash| state.keys.knows(hash))
        .map(|hash| key_id(&hash));
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                method = %method,
                route = %route,
                status,
                duration_ms,
                request_id = %request_id,
                key_id = key_id.as_deref(),
                "request"
            )
        };
    }
    if response.status().is_server_error() {
        line!(warn);
    } else {
        line!(info);
    }
    response
}
