//! The proofs' benchmark: inclusion proofs in a log of 1,000,000 entries over HTTP, beside the
//! cheapest authenticated read of the same log (one entry by position), interleaved with them
//! in the same run, as p50 and p99 latency. Written to `verify.json` with the figures of
//! `esito verify`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use esito_api::auth::Role;
use esito_domain::Submission;
use esito_store::Store;
use serde_json::json;

use crate::api::{percentile, Client};

const PROOF_KEY: &str = "esito_bench_evaluator";
/// Requests timed for each figure, after as many warm-up requests as `WARM_UP_REQUESTS`.
const REQUESTS: usize = 2_000;
const WARM_UP_REQUESTS: usize = 200;
const TARGET_P99_MS: f64 = 5.0;

/// Positions spread over the whole log, the same in every run for the same seed (xorshift64).
fn positions(seed: u64, entries: u64, count: usize) -> Vec<u64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1 + state % entries
        })
        .collect()
}

/// Loads `entries` entries into one contract through `Store::append`, in full batches: the
/// ledger's own path, subtrees written as they complete.
async fn load(store: &Store, entries: u64) -> anyhow::Result<esito_domain::ContractId> {
    let contract = esito_cli::load::register_load_contracts(store, 1)
        .await?
        .remove(0);
    let started = Instant::now();
    let mut size = store.head(&contract).await?.map_or(0, |h| h.size);
    while size < entries {
        let batch = (entries - size).min(esito_store::BATCH_SIZE_MAX as u64) as usize;
        let first = size as usize;
        let submissions: Vec<Submission> = (first..first + batch)
            .map(|i| esito_cli::load::access(&format!("proof-{i}"), i))
            .collect();
        store.append(&contract, "bench", &submissions).await?;
        size += batch as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "  loaded {entries} entries in {seconds:.0} s ({:.0} events/s, batches of {})",
        entries as f64 / seconds,
        esito_store::BATCH_SIZE_MAX
    );
    Ok(contract)
}

/// GETs each pair of paths in turn on one keep-alive connection, the two interleaved so that
/// both meet the same moments of the machine; returns each one's sorted latencies, and the
/// bodies of the first ones in request order.
async fn timed_gets(
    client: &mut Client,
    pairs: &[(String, String)],
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>, Vec<Vec<u8>>)> {
    let mut get = async |path: &str| -> anyhow::Result<(Duration, Vec<u8>)> {
        let started = Instant::now();
        let (status, body) = client.get(path).await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            status == 200,
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        Ok((elapsed, body))
    };
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let mut bodies = Vec::with_capacity(pairs.len());
    for (one, other) in pairs {
        let (elapsed, body) = get(one).await?;
        first.push(elapsed);
        bodies.push(body);
        second.push(get(other).await?.0);
    }
    first.sort();
    second.sort();
    Ok((first, second, bodies))
}

/// Each proof checked as a client would: RFC 9162 verification from the served leaf hash to
/// the served root, and that root is the log's tree head.
fn check_proofs(bodies: &[Vec<u8>], root: &esito_log::Hash) -> anyhow::Result<()> {
    for body in bodies {
        let value: serde_json::Value = serde_json::from_slice(body)?;
        let hash = |field: &str| -> anyhow::Result<esito_log::Hash> {
            Ok(value[field].as_str().context("a hash")?.parse()?)
        };
        let proof = esito_log::InclusionProof {
            leaf_index: value["leaf_index"].as_u64().context("a leaf index")?,
            tree_size: value["tree_size"].as_u64().context("a tree size")?,
            audit_path: serde_json::from_value(value["audit_path"].clone())?,
        };
        anyhow::ensure!(hash("root_hash")? == *root, "a proof against another head");
        proof
            .verify(&hash("leaf_hash")?, root)
            .map_err(|e| anyhow::anyhow!("proof of leaf {}: {e}", proof.leaf_index))?;
    }
    Ok(())
}

pub async fn measure(url: &str, entries: u64) -> anyhow::Result<serde_json::Value> {
    println!(
        "inclusion proofs (postgres, one contract of {entries} entries, 1 client over loopback):"
    );
    let store = Arc::new(Store::connect(url).await?);
    let contract = load(&store, entries).await?;
    esito_api::auth::store_key(
        &store,
        PROOF_KEY,
        "bench",
        Role::Evaluator,
        std::slice::from_ref(&contract),
        None,
    )
    .await?;
    let head = store.head(&contract).await?.context("a loaded log")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = esito_api::router(esito_api::AppState::new(store.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut client = Client::connect(port, PROOF_KEY).await?;

    let proof_path = |position: u64| {
        format!(
            "/v1/contracts/{contract}/proofs/inclusion?position={position}&size={}",
            head.size
        )
    };
    let entry_path = |position: u64| {
        format!(
            "/v1/contracts/{contract}/events?after={}&limit=1",
            position - 1
        )
    };
    // Proofs and reads at positions of their own, so that neither finds pages the other warmed.
    let pairs = |count: usize, seed: u64| -> Vec<(String, String)> {
        let proofs = positions(seed, head.size, count);
        let reads = positions(seed.rotate_left(17) ^ 0xA5A5, head.size, count);
        proofs
            .into_iter()
            .zip(reads)
            .map(|(proof, read)| (proof_path(proof), entry_path(read)))
            .collect()
    };
    timed_gets(&mut client, &pairs(WARM_UP_REQUESTS, 0x2545_F491_4F6C_DD1D)).await?;
    let (proofs, reads, bodies) =
        timed_gets(&mut client, &pairs(REQUESTS, 0x9E37_79B9_7F4A_7C15)).await?;
    server.abort();
    check_proofs(&bodies, &head.root_hash)?;

    let (p50, p99) = (percentile(&proofs, 50), percentile(&proofs, 99));
    let (read_p50, read_p99) = (percentile(&reads, 50), percentile(&reads, 99));
    let verdict = if p99 < TARGET_P99_MS {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "  inclusion proof, {REQUESTS} random positions: p50 {p50:.2} ms, p99 {p99:.2} ms (target p99 < {TARGET_P99_MS} ms: {verdict}); all verified"
    );
    println!(
        "  one entry by position (anchor):               p50 {read_p50:.2} ms, p99 {read_p99:.2} ms; p99 ratio {:.2}",
        p99 / read_p99
    );
    Ok(json!({
        "entries": head.size,
        "requests": REQUESTS,
        "latency_ms": { "p50": p50, "p99": p99 },
        "target_p99_ms": TARGET_P99_MS,
        "anchor": "GET one entry by position (events?after=P-1&limit=1), other random positions, interleaved with the proofs on the same connection",
        "anchor_latency_ms": { "p50": read_p50, "p99": read_p99 },
        "p99_ratio": p99 / read_p99,
    }))
}
