//! `ApiError`: every failure as RFC 9457 problem details, with a stable `code` and the field at fault.
//!
//! Invariant: one exhaustive table maps each `ErrorCode` to its HTTP status; a domain rule's
//! code is the domain's own stable `code()`, always 422.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use esito_domain::DomainError;
use esito_store::projection::ReportError;
use esito_store::settlement::SettlementFailure;
use esito_store::{AppendError, StoreError};
use serde_json::json;

/// The codes of failures that are not domain rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotYourToken,
    UnknownContract,
    UnknownCommand,
    UnknownEvent,
    UnknownStreamType,
    UnknownIndicator,
    UnknownSettlement,
    UnknownKey,
    UnknownIdentity,
    IdentityErased,
    FiscalCodeRegistered,
    VaultUnavailable,
    NoIndicatorDefinitions,
    MalformedJson,
    UnknownField,
    MissingField,
    InvalidType,
    InvalidValue,
    BodyTooLarge,
    BatchSize,
    EventIdReused,
    ContractAlreadyExists,
    Internal,
    Unavailable,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    /// An import with bad rows, each reported (`import.rs`): nothing was written.
    InvalidRows,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotYourToken => "not_your_token",
            ErrorCode::UnknownContract => "unknown_contract",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::UnknownEvent => "unknown_event",
            ErrorCode::UnknownStreamType => "unknown_stream_type",
            ErrorCode::UnknownIndicator => "unknown_indicator",
            ErrorCode::UnknownSettlement => "unknown_settlement",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::UnknownIdentity => "unknown_identity",
            ErrorCode::IdentityErased => "identity_erased",
            ErrorCode::FiscalCodeRegistered => "fiscal_code_registered",
            ErrorCode::VaultUnavailable => "vault_unavailable",
            ErrorCode::NoIndicatorDefinitions => "no_indicator_definitions",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidType => "invalid_type",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::BatchSize => "batch_size",
            ErrorCode::EventIdReused => "event_id_reused",
            ErrorCode::ContractAlreadyExists => "contract_already_exists",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidRows => "invalid_rows",
        }
    }

    /// The one table of statuses. No wildcard: a new code does not compile until it has one.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::NotYourToken => StatusCode::FORBIDDEN,
            ErrorCode::UnknownContract
            | ErrorCode::UnknownCommand
            | ErrorCode::UnknownEvent
            | ErrorCode::UnknownStreamType
            | ErrorCode::UnknownIndicator
            | ErrorCode::UnknownSettlement
            | ErrorCode::UnknownKey
            | ErrorCode::UnknownIdentity
            | ErrorCode::IdentityErased
            | ErrorCode::NoIndicatorDefinitions => StatusCode::NOT_FOUND,
            ErrorCode::MalformedJson => StatusCode::BAD_REQUEST,
            ErrorCode::UnknownField
            | ErrorCode::MissingField
            | ErrorCode::InvalidType
            | ErrorCode::InvalidValue
            | ErrorCode::BatchSize
            | ErrorCode::InvalidRows => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::EventIdReused
            | ErrorCode::ContractAlreadyExists
            | ErrorCode::FiscalCodeRegistered => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable | ErrorCode::VaultUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

/// A failure answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// The field at fault, as a JSON path (`command.amount`, `items[3].price`).
    pub field: Option<String>,
    /// For a batch: the index of the command at fault.
    pub index: Option<usize>,
    /// Seconds after which the same request may succeed, sent as `Retry-After`.
    pub retry_after_seconds: Option<u32>,
}

/// What a client is told to wait before sending again a request the database could not serve.
pub const RETRY_AFTER_SECONDS: u32 = 2;

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code: code.as_str(),
            detail: detail.into(),
            field: None,
            index: None,
            retry_after_seconds: None,
        }
    }

    /// 503 `unavailable` with `Retry-After`: the database is down, full, read-only or busy, the
    /// request is not acknowledged, and the same request (the same `event_id`) may be sent
    /// again: it is written once, or answered as the replay of a commit whose answer was lost.
    pub fn database_unavailable() -> Self {
        Self {
            retry_after_seconds: Some(RETRY_AFTER_SECONDS),
            ..ApiError::new(
                ErrorCode::Unavailable,
                "the database cannot serve now and the request is not acknowledged: send the \
                 same request, with the same event_id, again after Retry-After seconds",
            )
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn at_index(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }

    /// A domain rule, by its own stable code, with the field the rule names, if it names one.
    pub fn rule(error: &DomainError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: error.code(),
            detail: error.to_string(),
            field: error.field().map(str::to_owned),
            index: None,
            retry_after_seconds: None,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let title = crate::titles::of_code(self.code);
        let mut body = json!({
            "type": format!("https://esito.example/problems/{}", self.code),
            "title": title.en,
            "title_it": title.it,
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.detail,
        });
        if let Some(field) = &self.field {
            body["field"] = json!(field);
        }
        if let Some(index) = self.index {
            body["index"] = json!(index);
        }
        body
    }
}

impl From<AppendError> for ApiError {
    fn from(error: AppendError) -> Self {
        match error {
            AppendError::Rejected { index, error } => ApiError::rule(&error).at_index(index),
            AppendError::EventIdReused { index, event_id } => ApiError::new(
                ErrorCode::EventIdReused,
                format!("event id {event_id} was already used for a different event"),
            )
            .with_field("event_id")
            .at_index(index),
            AppendError::BatchSize { size } => ApiError::new(
                ErrorCode::BatchSize,
                format!(
                    "a batch holds 1 to {} commands (got {size})",
                    esito_store::BATCH_SIZE_MAX
                ),
            )
            .with_field("items"),
            AppendError::Store(error) => error.into(),
            AppendError::Corrupt { .. } => internal(&error),
        }
    }
}

impl From<SettlementFailure> for ApiError {
    fn from(failure: SettlementFailure) -> Self {
        match failure {
            SettlementFailure::EmptyLog => {
                ApiError::new(ErrorCode::UnknownContract, "the contract has no entries")
            }
            // A settlement that cannot be computed from what the log says names the rule, as
            // a domain rule does; a log that cannot be read is the service's failure.
            SettlementFailure::Books(error) if !error.is_corrupt_log() => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: error.code(),
                detail: error.to_string(),
                field: None,
                index: None,
                retry_after_seconds: None,
            },
            SettlementFailure::Report(ReportError::NoDefinitions { .. }) => {
                ApiError::new(ErrorCode::NoIndicatorDefinitions, failure.to_string())
            }
            SettlementFailure::Store(error)
            | SettlementFailure::Report(ReportError::Store(error))
                if error.is_unavailable() =>
            {
                error.into()
            }
            SettlementFailure::Books(_)
            | SettlementFailure::Report(_)
            | SettlementFailure::Store(_) => internal(&failure),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            // The cause goes to the log inside the request's span; the client learns only that
            // it may send the request again.
            tracing::warn!(%error, "database unavailable");
            ApiError::database_unavailable()
        } else {
            internal(&error)
        }
    }
}

fn internal(error: &dyn std::fmt::Display) -> ApiError {
    // The cause goes to the log inside the request's span, not to the client.
    tracing::error!(%error, "internal error");
    ApiError::new(
        ErrorCode::Internal,
        "the service could not complete the request; it is logged",
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
