//! One hot contract: 64 keep-alive HTTP clients writing centre accesses to one contract on
//! PostgreSQL, the API served in-process, beside two anchors of the same run: the raw 1-row
//! INSERT commit rate of 8 clients on the same database, and one HTTP client on one contract.
//! Eight clients on the one contract are reported beside them. Written to `hot.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use esito_store::{anchor, Store};
use serde_json::json;

use crate::api::{appends_until, percentile, serve_load_contracts};
use crate::line;

const HOT_CLIENTS: usize = 64;
const ANCHOR_CLIENTS: usize = 8;
const HOT_KEY: &str = "esito_bench_hot_operator";

/// What one measurement of HTTP appends gave.
struct Http {
    per_second: f64,
    /// Sorted.
    latencies: Vec<Duration>,
}

impl Http {
    fn p50(&self) -> f64 {
        percentile(&self.latencies, 50)
    }

    fn p99(&self) -> f64 {
        percentile(&self.latencies, 99)
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "appends_per_second": self.per_second,
            "requests": self.latencies.len(),
            "latency_ms": { "p50": self.p50(), "p99": self.p99() },
        })
    }
}

/// `clients` keep-alive clients POSTing accesses to `path` for `duration`; every answer must
/// be 201.
async fn http_appends(
    port: u16,
    path: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Http> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (path, run) = (path.to_owned(), run.clone());
            tokio::spawn(async move {
                appends_until(port, HOT_KEY, &path, deadline, |n| {
                    format!("{run}-hot{client}-{n}")
                })
                .await
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    latencies.sort();
    Ok(Http {
        per_second: latencies.len() as f64 / duration.as_secs_f64(),
        latencies,
    })
}

pub async fn measure(
    url: &str,
    anchor_url: &str,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    println!("hot contract (postgres, {HOT_CLIENTS} HTTP clients on one contract):");
    let store = Arc::new(Store::connect(url).await?);
    let (port, server, contracts) = serve_load_contracts(&store, 1, HOT_KEY).await?;
    let path = format!("/v1/contracts/{}/commands/record-access", contracts[0]);

    // Each figure after a warm-up of its own and a checkpoint, as the other sections.
    let warm_up = duration.mul_f64(0.2);
    let settle = || async {
        anchor::settle(url).await?;
        anchor::settle(anchor_url).await
    };
    settle().await?;
    anchor::raw_insert_rate(anchor_url, ANCHOR_CLIENTS, 1, warm_up).await?;
    let raw = anchor::raw_insert_rate(anchor_url, ANCHOR_CLIENTS, 1, duration).await?;
    let mut measured = Vec::new();
    for clients in [1, ANCHOR_CLIENTS, HOT_CLIENTS] {
        settle().await?;
        http_appends(port, &path, clients, warm_up).await?;
        measured.push(http_appends(port, &path, clients, duration).await?);
    }
    server.abort();
    let [one, eight, hot] =
        <[Http; 3]>::try_from(measured).map_err(|_| anyhow::anyhow!("three measurements"))?;
    let groups = store.group_stats();

    let against_raw = line(
        "HTTP appends/s, 64 clients, 1 contract",
        hot.per_second,
        "events/s",
        "raw 1-row INSERT commits/s, 8 clients (*)",
        raw.commits_per_second,
        Some(1.0),
    );
    let against_one = line(
        "HTTP appends/s, 64 clients, 1 contract",
        hot.per_second,
        "events/s",
        "HTTP appends/s, 1 client, 1 contract",
        one.per_second,
        Some(4.0),
    );
    let eight_against_one = line(
        "HTTP appends/s, 8 clients, 1 contract",
        eight.per_second,
        "events/s",
        "HTTP appends/s, 1 client, 1 contract",
        one.per_second,
        None,
    );
    for (clients, http) in [(1, &one), (ANCHOR_CLIENTS, &eight), (HOT_CLIENTS, &hot)] {
        println!(
            "  latency of an HTTP append, {clients:>2} clients on 1 contract: p50 {:.2} ms, p99 {:.2} ms",
            http.p50(),
            http.p99()
        );
    }
    println!(
        "  appends grouped: {} requests in {} groups, the largest of {}",
        groups.requests, groups.groups, groups.largest
    );
    Ok(json!({
        "hot_against_raw_inserts": against_raw,
        "hot_against_one_client": against_one,
        "eight_against_one_client": eight_against_one,
        "raw_insert_commits_per_second_8_clients": raw.commits_per_second,
        "one_client": one.json(),
        "eight_clients": eight.json(),
        "sixty_four_clients": hot.json(),
        "groups": {
            "requests": groups.requests,
            "groups": groups.groups,
            "largest": groups.largest,
        },
    }))
}
