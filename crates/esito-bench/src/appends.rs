//! Appends per second through the ledger, from one writer, eight writers and in batches of
//! 100, beside raw INSERTs of rows shaped like the log's into the same database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use esito_domain::{ContractId, Submission};
use esito_store::anchor::{self, Rate};
use esito_store::Store;
use serde_json::json;

use crate::line;

const BATCH: usize = 100;
const WRITERS: usize = 8;

pub async fn measure(
    backend: &str,
    url: &str,
    anchor_url: &str,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    println!("{backend}:");
    let targets = if backend == "postgres" {
        [Some(0.5), Some(0.5), Some(0.5)]
    } else {
        [None, None, None]
    };
    let store = Arc::new(Store::connect(url).await?);
    let contracts = esito_cli::load::register_load_contracts(&store, WRITERS).await?;

    // Each figure is measured after a warm-up of its own (connections, caches, plans) and
    // a checkpoint, so that none pays for what ran before it.
    let warm_up = duration.mul_f64(0.2);
    let settle = || async {
        anchor::settle(url).await?;
        anchor::settle(anchor_url).await
    };
    settle().await?;
    anchor::raw_insert_rate(anchor_url, 1, 1, warm_up).await?;
    let raw_one: Rate = anchor::raw_insert_rate(anchor_url, 1, 1, duration).await?;
    settle().await?;
    appends_per_second(&store, &contracts[..1], 1, 1, warm_up).await?;
    let one = appends_per_second(&store, &contracts[..1], 1, 1, duration).await?;
    let single = line(
        "appends/s, 1 writer, 1 contract",
        one,
        "events/s",
        "raw 1-row INSERT commits/s, 1 client (*)",
        raw_one.commits_per_second,
        targets[0],
    );

    settle().await?;
    anchor::raw_insert_rate(anchor_url, WRITERS, 1, warm_up).await?;
    let raw_eight = anchor::raw_insert_rate(anchor_url, WRITERS, 1, duration).await?;
    settle().await?;
    appends_per_second(&store, &contracts, WRITERS, 1, warm_up).await?;
    let eight = appends_per_second(&store, &contracts, WRITERS, 1, duration).await?;
    let concurrent = line(
        "appends/s, 8 writers over 8 contracts",
        eight,
        "events/s",
        "raw 1-row INSERT commits/s, 8 clients (*)",
        raw_eight.commits_per_second,
        targets[1],
    );

    settle().await?;
    anchor::raw_insert_rate(anchor_url, 1, BATCH, warm_up).await?;
    let raw_batch = anchor::raw_insert_rate(anchor_url, 1, BATCH, duration).await?;
    settle().await?;
    appends_per_second(&store, &contracts[..1], 1, BATCH, warm_up).await?;
    let batched = appends_per_second(&store, &contracts[..1], 1, BATCH, duration).await?;
    let batch = line(
        "events/s in batches of 100, 1 writer",
        batched,
        "events/s",
        "raw 100-row INSERT rows/s, 1 client (*)",
        raw_batch.rows_per_second,
        targets[2],
    );
    Ok(json!({ "single": single, "eight_writers": concurrent, "batch_100": batch }))
}

/// Appends synthetic accesses from `writers` tasks (writer i on contract i mod n) for
/// `duration`; returns events per second.
pub async fn appends_per_second(
    store: &Arc<Store>,
    contracts: &[ContractId],
    writers: usize,
    batch: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + duration;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let (store, contract, run) = (
                store.clone(),
                contracts[writer % contracts.len()].clone(),
                run.clone(),
            );
            tokio::spawn(async move {
                let mut events = 0usize;
                while Instant::now() < deadline {
                    let submissions: Vec<Submission> = (0..batch)
                        .map(|i| {
                            esito_cli::load::access(
                                &format!("{run}-{writer}-{}", events + i),
                                events + i,
                            )
                        })
                        .collect();
                    store.append(&contract, "bench", &submissions).await?;
                    events += batch;
                }
                anyhow::Ok(events)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / duration.as_secs_f64())
}
