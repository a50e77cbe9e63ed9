//! `esito serve`: the HTTP API on the chosen store, until Ctrl-C or SIGTERM.

use std::sync::Arc;

use esito_store::Store;

pub async fn serve(store: Store, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let app = esito_api::router(esito_api::AppState::new(Arc::new(store)));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "serving");
    // Requests in flight finish before the server stops: an acknowledged append is committed
    // before its answer is written, so nothing acknowledged is lost.
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
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
