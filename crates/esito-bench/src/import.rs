//! `esito import` of a large CSV file (every row checked, then written), in a process of its
//! own, beside the rate of batch appends of the same commands measured in the same run on the
//! same database; and the import's peak memory, which must not grow with the file.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use esito_store::Store;
use serde_json::json;

use crate::line;

/// What the import must reach of the batch-append rate, and the memory it may take.
const RATE_TARGET: f64 = 0.7;
const PEAK_TARGET_MIB: f64 = 256.0;

/// Writes `rows` centre accesses as a spreadsheet saves them in Italy: a byte order mark,
/// semicolons, dates as dd/mm/yyyy hh:mm.
fn write_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    out.write_all(
        b"\xEF\xBB\xBFoccurred_at;access_id;channel;need;outcome.kind;outcome.service\n",
    )?;
    for row in 1..=rows {
        let minute = row % (60 * 24 * 28);
        let outcome = if row % 3 == 0 {
            "referred;Servizi sociali del Comune"
        } else {
            "information_only;"
        };
        writeln!(
            out,
            "{:02}/02/2024 {:02}:{:02};acc-{row};in_person;home_management;{outcome}",
            1 + minute / (60 * 24),
            (minute / 60) % 24,
            minute % 60
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The import of `rows` rows into the store at `url` (`backend` names it), beside batch
/// appends of 1,000 commands measured for `duration` on the same store.
pub async fn measure(
    backend: &str,
    url: &str,
    dir: &Path,
    rows: u64,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    println!("import ({backend}):");
    let store = Arc::new(Store::connect(url).await?);
    let contracts = esito_cli::load::register_load_contracts(&store, 2).await?;
    let batch = esito_store::BATCH_SIZE_MAX;
    crate::appends::appends_per_second(&store, &contracts[..1], 1, batch, duration.mul_f64(0.2))
        .await?;
    let appended =
        crate::appends::appends_per_second(&store, &contracts[..1], 1, batch, duration).await?;
    drop(store);

    let file = dir.join("import.csv");
    write_csv(&file, rows)?;
    let bytes = std::fs::metadata(&file)?.len();
    let run = crate::run_esito(&[
        "import",
        file.to_str().context("a UTF-8 path")?,
        "--contract",
        contracts[1].as_str(),
        "--command",
        "record-access",
        "--database",
        url,
    ])?;
    anyhow::ensure!(
        run.stdout.contains(&format!("{rows} written")),
        "the import wrote every row: {}",
        run.stdout
    );
    let rate = rows as f64 / run.seconds;
    let import = line(
        &format!("esito import, {rows} CSV rows"),
        rate,
        "rows/s",
        "appends/s in batches of 1,000, 1 writer",
        appended,
        Some(RATE_TARGET),
    );
    let peak_mib = run.peak_mib;
    println!(
        "  peak memory of esito import: {peak_mib:.1} MiB (target < {PEAK_TARGET_MIB:.0} MiB: {}); file {:.0} MiB",
        if peak_mib < PEAK_TARGET_MIB { "met" } else { "NOT met" },
        bytes as f64 / 1048576.0
    );
    Ok(
        json!({ "rows": rows, "file_bytes": bytes, "seconds": run.seconds, "rate": import,
               "peak_rss_mib": peak_mib, "peak_rss_target_mib": PEAK_TARGET_MIB }),
    )
}
