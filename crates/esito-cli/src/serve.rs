//! `esito serve`: the HTTP API on the chosen store, until Ctrl-C or SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use esito_store::Store;

/// How often the running service signs a checkpoint of every contract that grew.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);
/// How often the projector looks for entries not yet projected. Reads never wait for it: an
/// indicator query catches its contract up first.
const PROJECT_INTERVAL: Duration = Duration::from_secs(1);

pub async fn serve(
    store: Store,
    listen: std::net::SocketAddr,
    signing_key: &Path,
    vault_key: &Path,
) -> anyhow::Result<()> {
    let key = crate::signing_key::load_or_create(signing_key)?;
    let key_id = key.key_id().to_owned();
    let store = Arc::new(store);
    // A retired key, or a key other than the current one, never signs: refuse to start.
    // Checked before the vault is opened, so a refused start leaves no vault key behind.
    esito_api::AppState::with_checkpoint_key(store.clone(), key)
        .check_signing_key()
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", signing_key.display(), e.detail))?;
    let key = crate::signing_key::load_or_create(signing_key)?;
    let vault = crate::vault_key::open(vault_key, &store).await?;
    let state = esito_api::AppState::serving(store, Some(key), vault);
    tracing::info!(key_id, "checkpoints are signed");
    // The people's screens beside the API, over the same state: the same keys, the same table
    // of permissions, the same reads.
    let app = esito_api::router(state.clone()).merge(esito_web::router(state.clone()));
    let projecting = state.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PROJECT_INTERVAL);
        loop {
            ticks.tick().await;
            if let Err(error) = esito_api::indicators::project_all(&projecting).await {
                tracing::error!(?error, "projecting the indicators");
            }
        }
    });
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
        loop {
            ticks.tick().await;
            if let Err(error) = checkpoint_grown_contracts(&state).await {
                tracing::error!(?error, "daily checkpoints");
            }
        }
    });
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

/// Signs a checkpoint of each contract whose log grew since its latest checkpoint.
async fn checkpoint_grown_contracts(state: &esito_api::AppState) -> anyhow::Result<()> {
    for contract in state.store.contracts().await? {
        let head = state.store.head(&contract).await?.map_or(0, |h| h.size);
        let latest = state
            .store
            .checkpoints(&contract)
            .await?
            .iter()
            .map(|c| c.size)
            .max()
            .unwrap_or(0);
        if head > latest {
            state
                .make_checkpoint(&contract)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
        }
    }
    Ok(())
}
