//! `esito export --format indigo`: a contract's INDIGO `project.json` from the store, the same
//! bytes `GET /v1/contracts/{id}/export/indigo` answers (`esito_api::indigo::document`).

use anyhow::Context;
use esito_domain::ContractId;

use crate::output;

/// What `esito export` writes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The log as JSON Lines (docs/design.md §3): what `esito verify` checks.
    Jsonl,
    /// One INDIGO project document (docs/interoperability.md, INDIGO).
    Indigo,
}

/// Writes the contract's INDIGO document to standard output.
pub async fn indigo(database: &str, contract: &ContractId) -> anyhow::Result<()> {
    let store = esito_cli::connect_existing(database).await?;
    let document = esito_api::indigo::document(&store, contract)
        .await
        .with_context(|| {
            format!(
                "the INDIGO document of {contract} in {}",
                esito_store::redacted(database)
            )
        })?;
    output::bytes(&document)?;
    Ok(())
}
