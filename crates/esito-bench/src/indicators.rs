//! The indicators' benchmark: a full rebuild of the projection of a large Cuneo-like log on
//! PostgreSQL beside a plain streamed read of the same rows, and the latency of indicator
//! queries at that size (as of the head, as of a position up to a tenth of the log back, and
//! as of a position anywhere in the log); written to `target/bench/indicators.json` by the
//! caller.

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
/// Queries as of a position anywhere in the log: each may rewind most of it, so fewer.
const QUERIES_ANYWHERE: usize = 50;
/// The targets of a query's p99: as of the head, and as of any position, the project's; as of
/// the head again, the one that must still hold at 3 and 10 million entries (`--scale`).
pub const HEAD_P99_TARGET_MS: f64 = 20.0;
pub const HEAD_P99_TARGET_AT_SCALE_MS: f64 = 5.0;
pub const ANYWHERE_P99_TARGET_MS: f64 = 20.0;

fn percentile(sorted: &[f64], percent: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // The nearest rank, rounded half up, in integers.
    let index = ((sorted.len() - 1) * percent + 50) / 100;
    sorted[index.min(sorted.len() - 1)]
}

/// The `n`-th position of a log of `head` entries to query as of, uniform over `1..=head`:
/// the multiples of the golden ratio modulo 1 (a Weyl sequence, in 32-bit fixed point), each
/// falling in the largest gap the earlier ones left, so that 50 of them cover the whole log
/// evenly and are the same in every run.
fn anywhere(n: usize, head: u64) -> u64 {
    const GOLDEN: u64 = 0x9E37_79B9;
    let fraction = (n as u64 + 1).wrapping_mul(GOLDEN) & 0xFFFF_FFFF;
    let offset = (u128::from(fraction) * u128::from(head)) >> 32;
    1 + u64::try_from(offset).map_or(head.saturating_sub(1), |o| o.min(head.saturating_sub(1)))
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// Loads `events` entries into the scratch schema `schema` of the PostgreSQL at `base_url`,
/// rebuilds their projection and times the queries; prints each figure and returns them all.
pub async fn measure(
    base_url: &str,
    schema: &str,
    events: u64,
) -> anyhow::Result<serde_json::Value> {
    println!("indicators (postgres, {events} events of a Cuneo-like mix):");
    let url = anchor::scratch_postgres(base_url, schema).await?;
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
    // (an audit's question): up to a tenth of the log back, then anywhere in it.
    let mut latest = Vec::with_capacity(QUERIES);
    let mut earlier = Vec::with_capacity(QUERIES / 8);
    let mut anywhere_ms = Vec::with_capacity(QUERIES_ANYWHERE);
    for n in 0..QUERIES + QUERIES / 8 + QUERIES_ANYWHERE {
        let period = quarters[n * 7 % quarters.len()];
        let as_of = if n < QUERIES {
            None
        } else if n < QUERIES + QUERIES / 8 {
            Some(head - (n as u64 * 7919) % (head / 10).max(1))
        } else {
            Some(anywhere(n - QUERIES - QUERIES / 8, head))
        };
        let started = Instant::now();
        let report = store.indicators(&contract, period, as_of).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if n < QUERIES {
            latest.push(ms)
        } else if n < QUERIES + QUERIES / 8 {
            earlier.push(ms)
        } else {
            anywhere_ms.push(ms)
        }
        std::hint::black_box(report);
    }
    latest.sort_by(f64::total_cmp);
    earlier.sort_by(f64::total_cmp);
    anywhere_ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latest, 50), percentile(&latest, 99));
    println!(
        "  indicator query as of the head (every indicator of a quarter): p50 {p50:.2} ms, p99 {p99:.2} ms (target p99 < {HEAD_P99_TARGET_MS} ms: {}; at scale p99 < {HEAD_P99_TARGET_AT_SCALE_MS} ms: {})",
        verdict(p99 < HEAD_P99_TARGET_MS),
        verdict(p99 < HEAD_P99_TARGET_AT_SCALE_MS)
    );
    let (early50, early99) = (percentile(&earlier, 50), percentile(&earlier, 99));
    println!("  indicator query as of a position up to a tenth of the log back: p50 {early50:.2} ms, p99 {early99:.2} ms (reported)");
    let (any50, any99) = (percentile(&anywhere_ms, 50), percentile(&anywhere_ms, 99));
    println!(
        "  indicator query as of a position anywhere in the log: p50 {any50:.2} ms, p99 {any99:.2} ms (target p99 < {ANYWHERE_P99_TARGET_MS} ms: {})",
        verdict(any99 < ANYWHERE_P99_TARGET_MS)
    );
    Ok(json!({
        "events": written,
        "rebuild": rebuild,
        "rebuild_peak_rss_mib": peak_mib,
        "rebuild_peak_rss_target_mib": 256,
        "query_ms": { "queries": QUERIES, "p50": p50, "p99": p99, "p99_target": HEAD_P99_TARGET_MS,
                      "p99_target_at_scale": HEAD_P99_TARGET_AT_SCALE_MS },
        "query_as_of_earlier_ms": { "queries": earlier.len(), "within_entries": head / 10, "p50": early50, "p99": early99 },
        "query_as_of_anywhere_ms": { "queries": anywhere_ms.len(), "head": head, "p50": any50, "p99": any99,
                                     "p99_target": ANYWHERE_P99_TARGET_MS },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_anywhere_stay_within_the_log_and_reach_every_tenth_of_it() {
        for head in [1u64, 2, 7, 20_049, 1_000_049, 3_000_049] {
            let positions: Vec<u64> = (0..QUERIES_ANYWHERE).map(|n| anywhere(n, head)).collect();
            assert!(
                positions.iter().all(|p| (1..=head).contains(p)),
                "{positions:?} outside 1..={head}"
            );
            if head >= 10 {
                for tenth in 0..10 {
                    let (low, high) = (head * tenth / 10, head * (tenth + 1) / 10);
                    assert!(
                        positions.iter().any(|p| (low + 1..=high).contains(p)),
                        "no position in {low}..{high} of {head}: {positions:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn positions_anywhere_are_all_different() {
        let distinct: std::collections::BTreeSet<u64> = (0..QUERIES_ANYWHERE)
            .map(|n| anywhere(n, 1_000_000))
            .collect();
        assert_eq!(distinct.len(), QUERIES_ANYWHERE);
    }
}
