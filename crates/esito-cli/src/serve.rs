//! `esito serve`: the HTTP API on the chosen store, until Ctrl-C or SIGTERM.

use std::sync::Arc;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use esito_log::signing::CheckpointKey;
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
) -> anyhow::Result<()> {
    let key = load_or_create_key(signing_key)?;
    tracing::info!(key_id = key.key_id(), "checkpoints are signed");
    let state = esito_api::AppState::with_checkpoint_key(Arc::new(store), key);
    let app = esito_api::router(state.clone());
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

/// The signing key lives in a file of its own, outside the database, readable by its owner
/// only: made on first start from the operating system's randomness.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<CheckpointKey> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let seed: [u8; 32] = engine
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| {
                format!("{}: not a base64 Ed25519 seed of 32 bytes", path.display())
            })?;
        return Ok(CheckpointKey::from_seed(seed));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| anyhow::anyhow!("no randomness for a signing key: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", engine.encode(seed))?;
    Ok(CheckpointKey::from_seed(seed))
}
