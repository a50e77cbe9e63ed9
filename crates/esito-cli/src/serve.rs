//! `esito serve`: the HTTP server. For now the health endpoints; the API mounts here.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use esito_store::Store;

pub async fn serve(store: Store, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let store = Arc::new(store);
    let app = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(ready))
        .with_state(store);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Ready when the database answers.
async fn ready(State(store): State<Arc<Store>>) -> (StatusCode, Json<serde_json::Value>) {
    match store.contracts().await {
        Ok(_) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ready", "store": store.backend()})),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable", "reason": error.to_string()})),
        ),
    }
}

/// Ctrl-C or SIGTERM: stop accepting, let requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c()
            .await
            .expect("the Ctrl-C handler installs");
    };
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("the SIGTERM handler installs")
            .recv()
            .await;
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
