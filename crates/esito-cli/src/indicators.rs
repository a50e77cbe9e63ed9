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

/// The definitions the export's log records last (registration or amendment), with the
/// template they name themselves by: what the service projects with. Their text is the
/// export's own; only an entry written before the text was recorded is read with the file
/// built in for its template. Only the contract's own entries are parsed.
fn recorded_definitions(file: &Path) -> anyhow::Result<Option<(String, Definitions)>> {
    let reader = BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    let mut recorded = None;
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", index + 1))?;
        // Canonical JSON writes this member exactly so; other lines need no parsing.
        if !line.contains(r#""event_type":"Contract"#) {
            continue;
        }
        if let ExportLine::Entry { entry, .. } = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not an export line", index + 1))?
        {
            let Some(named) = esito_indicators::templates::definitions_named((&entry).into())
            else {
                continue;
            };
            let template = named.template.to_owned();
            let definitions = esito_indicators::templates::definitions_of_entry(named)
                .transpose()
                .with_context(|| format!("position {}: the recorded definitions", entry.position))?
                .cloned();
            recorded = Some((template, definitions));
        }
    }
    recorded
        .map(|(template, definitions)| {
            definitions
                .map(|definitions| (template.clone(), definitions))
                .with_context(|| {
                    format!(
                        "the export names template {template} without its text, and this binary \
                     has no such file: give --definitions FILE"
                    )
                })
        })
        .transpose()
}

/// Verifies an export before anything is computed from it.
pub(crate) fn verified(file: &Path) -> anyhow::Result<esito_log::VerifyReport> {
    let reader = BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    esito_log::verify_export(reader, |_| {})
        .map_err(|failure| anyhow::anyhow!("the export does not verify: {failure}"))
}

/// The indicator definitions to compute with: the file given, or those the export records.
pub(crate) fn definitions(
    file: &Path,
    definitions_file: Option<&Path>,
) -> anyhow::Result<Definitions> {
    Ok(match definitions_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Definitions::parse(&text).with_context(|| format!("{}", path.display()))?
        }
        None => {
            recorded_definitions(file)?
                .context("the export names no definitions: no ContractRegistered entry")?
                .1
        }
    })
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
    let definitions = definitions(file, definitions_file)?;
    let report =
        esito_books::offline::indicators(&definitions, || export_entries(file), period, as_of)??;
    Ok(report)
}
