//! `/metrics` in Prometheus format, and the middleware that gives every request an id, a
//! tracing span, and its count and latency by route and status.
//!
//! Invariant: labels are bounded: the route template (never a contract id), the status, a
//! rejection's code.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use esito_store::{AppendError, AppendOutcome};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tracing::Instrument;

use crate::error::ApiError;
use crate::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    appends: IntCounter,
    replays: IntCounter,
    rejections: IntCounterVec,
    projection_lag: IntGauge,
    projected: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "esito_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .expect("a valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "esito_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .expect("a valid metric");
        let appends = IntCounter::new("esito_appends_total", "events appended to the log")
            .expect("a valid metric");
        let replays = IntCounter::new(
            "esito_append_replays_total",
            "commands answered with an event already in the log",
        )
        .expect("a valid metric");
        let rejections = IntCounterVec::new(
            Opts::new("esito_rejections_total", "commands refused, by code"),
            &["code"],
        )
        .expect("a valid metric");
        let projection_lag = IntGauge::new(
            "esito_projection_lag_entries",
            "entries in the contracts' logs not yet projected into indicator facts",
        )
        .expect("a valid metric");
        let projected = IntCounter::new(
            "esito_projected_entries_total",
            "entries the projector has applied",
        )
        .expect("a valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(appends.clone()),
            Box::new(replays.clone()),
            Box::new(rejections.clone()),
            Box::new(projection_lag.clone()),
            Box::new(projected.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        Self {
            registry,
            requests,
            latency,
            appends,
            replays,
            rejections,
            projection_lag,
            projected,
        }
    }

    /// What the projector reports after a pass over the contracts.
    pub fn projection(&self, applied: u64, lag: u64) {
        self.projected.inc_by(applied);
        self.projection_lag
            .set(i64::try_from(lag).unwrap_or(i64::MAX));
    }

    /// Counts an append's outcome and turns its error into the API's.
    pub fn appended(
        &self,
        result: Result<Vec<AppendOutcome>, AppendError>,
    ) -> Result<Vec<AppendOutcome>, ApiError> {
        match result {
            Ok(outcomes) => {
                for outcome in &outcomes {
                    if outcome.duplicate {
                        self.replays.inc();
                    } else {
                        self.appends.inc();
                    }
                }
                Ok(outcomes)
            }
            Err(error) => {
                let error = ApiError::from(error);
                self.rejections.with_label_values(&[error.code]).inc();
                Err(error)
            }
        }
    }
}

impl Metrics {
    /// An import's rows counted as appends are: those written, those already in the log
    /// (replays), and each bad row by its code.
    pub fn imported<'a>(
        &self,
        written: u64,
        replays: u64,
        codes: impl IntoIterator<Item = &'a str>,
    ) {
        self.appends.inc_by(written);
        self.replays.inc_by(replays);
        for code in codes {
            self.rejections.with_label_values(&[code]).inc();
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

pub async fn render(State(state): State<Arc<AppState>>) -> Response {
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&state.metrics.registry.gather(), &mut text)
        .expect("metrics encode as text");
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
        .into_response()
}

/// Every request: an id (the client's `x-request-id`, or a new one) returned in the same
/// header, a span carrying it, and its count and latency.
pub async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let span = tracing::info_span!("request", id = %request_id, method = %request.method(), route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    if status.is_server_error() {
        span.in_scope(|| tracing::error!(%status, "request failed"));
    }
    state
        .metrics
        .requests
        .with_label_values(&[route.as_str(), status.as_str()])
        .inc();
    state
        .metrics
        .latency
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
