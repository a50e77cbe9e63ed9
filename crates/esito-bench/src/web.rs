//! The screens' benchmark: a contract whose log holds 1,000,000 events (the settlement
//! section's log: Cuneo's template and funder terms), its first period settled; the dashboard,
//! the settlement's page and its PDF requested one after another over loopback with a signed-in
//! session, p50 and p99 of each beside the API's JSON indicators of the same contract and
//! period, the anchor, measured in the same run. Written to `web.json`.
//!
//! What is timed is the whole round trip of one request on a kept-alive connection to the
//! service in this process (`esito_api::router` and `esito_web::router` over one state): the
//! server's time plus loopback.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use esito_api::auth::Role;
use esito_domain::ContractId;
use esito_store::Store;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::api::percentile;

const KEY: &str = "esito_bench_web_payer";
/// The operator's key, which records an access before each request of the dashboard after an
/// append.
const OPERATOR_KEY: &str = "esito_bench_web_operator";
/// Dashboards timed each after an access is appended (each reads the whole term again).
const AFTER_APPEND: usize = 50;
const PERIOD: &str = "2023-Q3";
/// Requests each page is timed on (after as many to warm up, and at least this many).
const REQUESTS: usize = 200;
const DASHBOARD_P99_TARGET_MS: f64 = 50.0;
const SETTLEMENT_P99_TARGET_MS: f64 = 200.0;

/// One kept-alive connection sending `Cookie` or `Authorization`, one request at a time.
struct Connection {
    stream: BufReader<TcpStream>,
}

impl Connection {
    async fn open(port: u16) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
        })
    }

    /// Sends a request; the status, the headers (lower-case names) and the body.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .context("a status line")?
            .parse()?;
        let mut answer = Vec::new();
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse()?;
                }
                answer.push((name, value.trim().to_owned()));
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, answer, body))
    }
}

/// The round trips of `REQUESTS` GETs of `path` (after as many unmeasured), sorted; fails on
/// any answer but 200.
async fn timed(
    connection: &mut Connection,
    path: &str,
    headers: &str,
) -> anyhow::Result<Vec<Duration>> {
    for _ in 0..REQUESTS / 10 {
        let (status, _, body) = connection.send("GET", path, headers, "").await?;
        anyhow::ensure!(
            status == 200,
            "GET {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let (status, _, _) = connection.send("GET", path, headers, "").await?;
        times.push(started.elapsed());
        anyhow::ensure!(status == 200, "GET {path}: {status}");
    }
    times.sort();
    Ok(times)
}

/// The round trips of `AFTER_APPEND` dashboards, each requested right after an access is
/// appended through the API (untimed), so that none is answered from the reports kept as of
/// an earlier head; sorted.
async fn timed_after_append(
    connection: &mut Connection,
    contract: &ContractId,
    session: &str,
) -> anyhow::Result<Vec<Duration>> {
    let bearer =
        format!("Authorization: Bearer {OPERATOR_KEY}\r\nContent-Type: application/json\r\n");
    let path = format!("/contracts/{contract}");
    let mut times = Vec::with_capacity(AFTER_APPEND);
    for n in 0..AFTER_APPEND {
        let access = json!({
            "event_id": uuid::Uuid::new_v4().to_string(),
            "occurred_at": "2023-09-12T10:00:00+02:00",
            "access_id": format!("bench-web-access-{n}"),
            "channel": "in_person",
            "need": "elderly_care",
            "outcome": {"kind": "information_only"}
        })
        .to_string();
        let (status, _, body) = connection
            .send(
                "POST",
                &format!("/v1/contracts/{contract}/commands/record-access"),
                &bearer,
                &access,
            )
            .await?;
        anyhow::ensure!(
            status == 201,
            "recording an access: {status} {}",
            String::from_utf8_lossy(&body)
        );
        let started = Instant::now();
        let (status, _, _) = connection.send("GET", &path, session, "").await?;
        times.push(started.elapsed());
        anyhow::ensure!(status == 200, "GET {path}: {status}");
    }
    times.sort();
    Ok(times)
}

fn verdict(p99: f64, target: f64) -> &'static str {
    if p99 < target {
        "met"
    } else {
        "NOT met"
    }
}

pub async fn measure(dir: &Path, events: u64) -> anyhow::Result<serde_json::Value> {
    println!("web:");
    let url = format!("sqlite://{}", dir.join("web.db").display());
    let store = Arc::new(Store::connect(&url).await?);
    let contract = ContractId::parse(crate::settlement::CONTRACT)?;
    let started = Instant::now();
    crate::settlement::build(&store, &contract, events).await?;
    let head = store.head(&contract).await?.context("a log")?.size;
    store.catch_up(&contract, head).await?;
    crate::settlement::settle_and_approve(&store, &contract, PERIOD.parse()?).await?;
    let head = store.head(&contract).await?.context("a log")?.size;
    store.catch_up(&contract, head).await?;
    println!(
        "  log of {head} entries built, projected and {PERIOD} settled in {:.0} s (SQLite)",
        started.elapsed().as_secs_f64()
    );
    esito_api::auth::store_key(
        &store,
        KEY,
        "bench",
        Role::Payer,
        std::slice::from_ref(&contract),
        None,
    )
    .await?;
    esito_api::auth::store_key(
        &store,
        OPERATOR_KEY,
        "bench",
        Role::Operator,
        std::slice::from_ref(&contract),
        None,
    )
    .await?;
    let state = esito_api::AppState::new(store.clone());
    let app = esito_api::router(state.clone()).merge(esito_web::router(state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut connection = Connection::open(port).await?;
    let form = format!("key={KEY}");
    let (status, headers, _) = connection
        .send(
            "POST",
            "/session",
            "Content-Type: application/x-www-form-urlencoded\r\n",
            &form,
        )
        .await?;
    anyhow::ensure!(status == 303, "signing in: {status}");
    let cookie = headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .filter_map(|(_, value)| value.split(';').next())
        .filter(|pair| pair.starts_with("esito_session="))
        .map(str::to_owned)
        .next()
        .context("a session cookie")?;
    let session = format!("Cookie: {cookie}\r\n");
    let bearer = format!("Authorization: Bearer {KEY}\r\n");

    let anchor = timed(
        &mut connection,
        &format!("/v1/contracts/{contract}/indicators?period={PERIOD}"),
        &bearer,
    )
    .await?;
    let dashboard = timed(&mut connection, &format!("/contracts/{contract}"), &session).await?;
    let page = timed(
        &mut connection,
        &format!("/contracts/{contract}/settlements/{PERIOD}"),
        &session,
    )
    .await?;
    let pdf = timed(
        &mut connection,
        &format!("/contracts/{contract}/settlements/{PERIOD}.pdf"),
        &session,
    )
    .await?;
    let after_append = timed_after_append(&mut connection, &contract, &session).await?;
    server.abort();

    let anchor_p50 = percentile(&anchor, 50);
    let anchor_p99 = percentile(&anchor, 99);
    println!(
        "  anchor: GET /v1/.../indicators?period={PERIOD} (JSON)   p50 {anchor_p50:>8.2} ms   p99 {anchor_p99:>8.2} ms"
    );
    let (cold_p50, cold_p99) = (percentile(&after_append, 50), percentile(&after_append, 99));
    println!(
        "  dashboard after an append p50 {cold_p50:>8.2} ms   p99 {cold_p99:>8.2} ms   {:>5.1}× the anchor's p99   (reported: the term read again)",
        crate::ratio(cold_p99, anchor_p99)
    );
    let mut report = serde_json::Map::new();
    report.insert(
        "dashboard_after_append".to_owned(),
        json!({
            "p50_ms": cold_p50, "p99_ms": cold_p99, "requests": AFTER_APPEND,
            "p99_vs_anchor": crate::ratio(cold_p99, anchor_p99),
        }),
    );
    for (name, times, target) in [
        ("dashboard", &dashboard, DASHBOARD_P99_TARGET_MS),
        ("settlement_page", &page, SETTLEMENT_P99_TARGET_MS),
        ("settlement_pdf", &pdf, SETTLEMENT_P99_TARGET_MS),
    ] {
        let p50 = percentile(times, 50);
        let p99 = percentile(times, 99);
        println!(
            "  {name:<16} p50 {p50:>8.2} ms   p99 {p99:>8.2} ms   {:>5.1}× the anchor's p99   (target p99 < {target} ms: {})",
            crate::ratio(p99, anchor_p99),
            verdict(p99, target)
        );
        report.insert(
            name.to_owned(),
            json!({
                "p50_ms": p50, "p99_ms": p99, "p99_target_ms": target,
                "p99_vs_anchor": crate::ratio(p99, anchor_p99),
            }),
        );
    }
    Ok(json!({
        "store": "sqlite",
        "entries": head,
        "period": PERIOD,
        "requests_each": REQUESTS,
        "anchor": { "request": "GET /v1/contracts/{id}/indicators?period=P", "p50_ms": anchor_p50, "p99_ms": anchor_p99 },
        "pages": report,
    }))
}
