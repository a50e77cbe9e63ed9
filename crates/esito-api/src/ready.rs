//! `/readyz`: whether the service can take requests now, which is whether its database answers
//! and takes writes (`Store::check_ready`), answered within 2 s.
//!
//! Invariant: the database's own words reach only a caller with an admin key, and then with
//! any password in them masked; everyone else learns only that it is not ready.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::auth::Action;
use crate::error::ApiError;
use crate::query::Params;
use crate::Shared;

/// 200 `{"status": "ready", "store"}`, or 503 `unavailable` with `Retry-After`.
pub(crate) async fn ready(
    State(state): State<Shared>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    if let Err(error) = params.only(&[]) {
        return error.into_response();
    }
    // The key is looked up beside the check, not after it: a database that is down makes both
    // wait, and the answer still comes within the check's bound.
    let (checked, admin) = tokio::join!(state.store.check_ready(), async {
        if headers.contains_key(axum::http::header::AUTHORIZATION) {
            tokio::time::timeout(
                esito_store::READY_TIMEOUT,
                state.keys.authenticate(&state.store, &headers),
            )
            .await
            .ok()
            .and_then(Result::ok)
            // An admin of every contract: a key naming no contract, of a role that reaches
            // every contract.
            .is_some_and(|principal| {
                principal.contracts.is_empty() && principal.role.may(Action::ReachEveryContract)
            })
        } else {
            false
        }
    });
    match checked {
        Ok(()) => Json(json!({"status": "ready", "store": state.store.backend()})).into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            let mut refusal = ApiError::database_unavailable();
            refusal.detail = if admin {
                format!("not ready: {}", esito_store::redacted(&error.to_string()))
            } else {
                "not ready: the database cannot serve now".to_owned()
            };
            refusal.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    // What `/readyz` shows an admin goes through the one redaction every URL goes through.
    use esito_store::redacted as mask_passwords;

    #[test]
    fn a_password_in_a_url_is_masked_and_the_rest_is_kept() {
        assert_eq!(
            mask_passwords("connecting to postgres://esito:s3cr:et@db.local:5432/esito failed"),
            "connecting to postgres://esito:***@db.local:5432/esito failed"
        );
        assert_eq!(
            mask_passwords("postgres://esito@db/x and sqlite:///var/esito.db"),
            "postgres://esito@db/x and sqlite:///var/esito.db"
        );
        assert_eq!(mask_passwords("no url at all"), "no url at all");
    }
}
