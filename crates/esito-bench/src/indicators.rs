//! The indicators' benchmark: a full rebuild of the projection of a large Cuneo-like log on
//! PostgreSQL beside a plain streamed read of the same rows, and the latency of indicator
//! queries at that size; written to `target/bench/indicators.json`.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use esito_domain::ContractId;
use esito_store::anchor;
use esito_store::Store;
use serde_json::json;

use crate::line;

const CONTRACT: &str = "bench-cuneo";
/// Indicator queries timed for the latency percentiles.
const QUERIES: usize = 400;

fn percentile(sorted: &[f64], percent: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // The nearest rank, rounded half up, in integers.
    let index = ((sorted.len() - 1) * percent + 50) / 100;
    sorted[index.min(sorted.len() - 1)]
}

pub async fn measure(base_url: &str, events: u64, out: &Path) -> anyhow::Result<serde_json::Value> {
    println!("indicators (postgres, {events} events of a Cuneo-like mix):");
    let url = anchor::scratch_postgres(base_url, "esito_bench_indicators").await?;
    let store = Store::connect(&url).await?;
    let contract = ContractId::parse(CONTRACT)?;
    let started = Instant::now();
    let bar = esito_cli::progress_bar(events, "loading");
    let written =
        crate::data::load_cuneo_like(&store, &contract, events, |n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    println!(
        "  loaded {written} events through the ledger in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    anchor::settle(&url).await?;

    // The anchor: the same rows, read by a plain streamed SELECT. The first read of rows just
    // written also sets their hint bits (and writes those pages), which no later read pays
    // for: it is done once untimed, so that the anchor is a warm read like the rebuild's.
    anchor::stream_log(&url, CONTRACT, None).await?;
    let (rows, seconds) = anchor::stream_log(&url, CONTRACT, None).await?;
    anyhow::ensure!(rows == written, "the anchor read {rows} of {written} rows");
    let raw = rows as f64 / seconds;
    let definitions =
        esito_indicators::templates::embedded("cuneo").context("the cuneo template")??;
    let (derived, derive_seconds) = anchor::stream_log(&url, CONTRACT, Some(&definitions)).await?;
    println!(
        "  (diagnostic) the same read, each entry parsed and derived: {:.0} entries/s",
        derived as f64 / derive_seconds
    );

    // The rebuild, in its own process so its peak memory is its own.
    let run = crate::run_esito(&["rebuild", "--contract", CONTRACT, "--database", &url])?;
    for detail in run
        .stderr
        .lines()
        .filter(|line| line.contains("projection rebuilt"))
    {
        println!("  {}", detail.trim());
    }
    let rebuild = line(
        &format!("projection rebuild, {written} events"),
        written as f64 / run.seconds,
        "events/s",
        "streamed SELECT of the rows/s",
        raw,
        Some(0.5),
    );
    let peak_mib = run.peak_mib;
    println!("  peak memory of esito rebuild: {peak_mib:.1} MiB (target < 256 MiB)");

    // Indicator queries: every indicator of a quarter, as of the head or an earlier position.
    let head = store.head(&contract).await?.map_or(0, |head| head.size);
    let quarters: Vec<esito_indicators::Period> = (2024..2029)
        .flat_map(|year| (1..=4).map(move |q| format!("{year}-Q{q}")))
        .map(|text| text.parse())
        .collect::<Result<_, _>>()?;
    // As of the head (what dashboards and settlements ask), then as of earlier positions
    // (an audit's question), which rewinds the log after them and costs its length.
    let mut latest = Vec::with_capacity(QUERIES);
    let mut earlier = Vec::with_capacity(QUERIES / 8);
    for n in 0..QUERIES + QUERIES / 8 {
        let period = quarters[n * 7 % quarters.len()];
        let as_of = (n >= QUERIES).then(|| head - (n as u64 * 7919) % (head / 10).max(1));
        let started = Instant::now();
        let report = store.indicators(&contract, period, as_of).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if as_of.is_some() {
            earlier.push(ms)
        } else {
            latest.push(ms)
        }
        std::hint::black_box(report);
    }
    latest.sort_by(f64::total_cmp);
    earlier.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latest, 50), percentile(&latest, 99));
    let verdict = if p99 < 20.0 { "met" } else { "NOT met" };
    println!("  indicator query as of the head (every indicator of a quarter): p50 {p50:.2} ms, p99 {p99:.2} ms (target p99 < 20 ms: {verdict})");
    let (early50, early99) = (percentile(&earlier, 50), percentile(&earlier, 99));
    println!("  indicator query as of a position up to a tenth of the log back: p50 {early50:.2} ms, p99 {early99:.2} ms (reported)");
    let report = json!({
        "events": written,
        "rebuild": rebuild,
        "rebuild_peak_rss_mib": peak_mib,
        "rebuild_peak_rss_target_mib": 256,
        "query_ms": { "queries": QUERIES, "p50": p50, "p99": p99, "p99_target": 20.0 },
        "query_as_of_earlier_ms": { "queries": earlier.len(), "within_entries": head / 10, "p50": early50, "p99": early99 },
    });
    let file = out.join("indicators.json");
    std::fs::write(&file, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("written: {}", file.display());
    Ok(report)
}
