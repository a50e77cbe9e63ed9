//! `esito rebuild` and `esito indicators`: the indicators' projection rebuilt from the log, and
//! the indicators of a period from the store or, offline, from an export alone.

use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use esito_domain::ContractId;
use esito_indicators::{Definitions, IndicatorReport, Period};
use esito_log::ExportLine;
use esito_store::Store;

use esito_cli::progress_bar;

/// Rebuilds the projection of each contract (or the one named) from position 1.
pub async fn rebuild(
    store: &Store,
    contract: Option<&str>,
) -> anyhow::Result<Vec<(ContractId, u64)>> {
    let contracts = match contract {
        Some(text) => vec![ContractId::parse(text).context("--contract")?],
        None => store.contracts().await?,
    };
    let mut rebuilt = Vec::with_capacity(contracts.len());
    for contract in contracts {
        let head = store.head(&contract).await?.map_or(0, |head| head.size);
        anyhow::ensure!(head > 0, "contract {contract} has no entries");
        let bar = progress_bar(head, contract.as_str());
        store
            .rebuild_projection(&contract, |position| bar.set_position(position))
            .await?;
        bar.finish_and_clear();
        rebuilt.push((contract, head));
    }
    Ok(rebuilt)
}

/// Lines of an export, entries parsed; checkpoints skipped.
pub(crate) fn export_entries(
    file: &Path,
) -> anyhow::Result<impl Iterator<Item = anyhow::Result<esito_log::Entry>>> {
    let reader = BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    Ok(reader.lines().enumerate().filter_map(|(index, line)| {
        let parsed = line
            .with_context(|| format!("reading line {}", index + 1))
            .and_then(|line| {
                serde_json::from_str::<ExportLine>(&line)
                    .with_context(|| format!("line {}: not an export line", index + 1))
            });
        match parsed {
            Ok(ExportLine::Entry { entry, .. }) => Some(Ok(entry)),
            Ok(ExportLine::Checkpoint(_)) => None,
            Err(error) => Some(Err(error)),
        }
    }))
}

/// Verifies an export before anything is computed from it.
pub(crate) fn verified(file: &Path) -> anyhow::Result<esito_log::VerifyReport> {
    let reader = BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    esito_log::verify_export(reader, |_| {})
        .map_err(|failure| anyhow::anyhow!("the export does not verify: {failure}"))
}

/// The indicator definitions the file given holds: computed with instead of those the export
/// records (which apply, period by period, when no file is given).
pub(crate) fn definitions(definitions_file: Option<&Path>) -> anyhow::Result<Option<Definitions>> {
    definitions_file
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Definitions::parse(&text).with_context(|| format!("{}", path.display()))
        })
        .transpose()
}

/// The indicators from an export alone: the export is verified first, then projected by the
/// store's projector into rows in memory, with the definitions the export records (or the file given).
pub fn offline(
    file: &Path,
    period: Period,
    as_of: Option<u64>,
    definitions_file: Option<&Path>,
) -> anyhow::Result<IndicatorReport> {
    verified(file)?;
    let definitions = definitions(definitions_file)?;
    let report = esito_books::offline::indicators(
        definitions.as_ref(),
        || export_entries(file),
        period,
        as_of,
    )??;
    Ok(report)
}
