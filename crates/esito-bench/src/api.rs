//! The API's benchmark: HTTP appends from 8 concurrent clients over loopback, beside the
//! store's direct append rate in the same run; p50 and p99 latency. Written to `api.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use esito_api::auth::Role;
use esito_domain::ContractId;
use esito_store::Store;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CLIENTS: usize = 8;
const BENCH_KEY: &str = "esito_bench_operator";

/// A keep-alive HTTP/1.1 client that sends one request at a time with a bearer key: the load
/// generator.
pub struct Client {
    stream: BufReader<TcpStream>,
    key: &'static str,
}

impl Client {
    pub async fn connect(port: u16, key: &'static str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            key,
        })
    }

    /// POSTs `body` to `path`; returns the status.
    pub async fn post(&mut self, path: &str, body: &str) -> anyhow::Result<u16> {
        let (status, _) = self.send("POST", path, body).await?;
        Ok(status)
    }

    /// GETs `path`; returns the status and the body.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        self.send("GET", path, "").await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.key,
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
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse()?;
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// The body of `POST …/commands/record-access`: a synthetic access with its event id.
pub fn access_body(access_id: &str, sequence: usize) -> String {
    let submission = esito_cli::load::access(access_id, sequence);
    let mut body = serde_json::to_value(&submission.command).expect("a command serializes");
    let fields = body.as_object_mut().expect("a command is an object");
    fields.remove("type");
    fields.insert("event_id".into(), json!(submission.event_id));
    fields.insert("occurred_at".into(), json!(submission.occurred_at));
    body.to_string()
}

/// The API served in-process on a port of loopback over `count` load contracts of `store`
/// (registered if missing), with `key` an operator's key of them: the port, the server's task
/// (aborted when the measurement ends) and the contracts.
pub async fn serve_load_contracts(
    store: &Arc<Store>,
    count: usize,
    key: &str,
) -> anyhow::Result<(
    u16,
    tokio::task::JoinHandle<std::io::Result<()>>,
    Vec<ContractId>,
)> {
    let contracts = esito_cli::load::register_load_contracts(store, count).await?;
    if store
        .key_by_hash(&esito_api::auth::key_hash(key))
        .await?
        .is_none()
    {
        esito_api::auth::store_key(store, key, "bench", Role::Operator, &contracts, None).await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = esito_api::router(esito_api::AppState::new(store.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((port, server, contracts))
}

/// One keep-alive client with `key` POSTing accesses to `path`, one at a time, until
/// `deadline`, the `n`th under the access id `access_id(n)`; every answer must be 201. The
/// latency of each append, in the order sent.
pub async fn appends_until(
    port: u16,
    key: &'static str,
    path: &str,
    deadline: Instant,
    access_id: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<Duration>> {
    let mut connection = Client::connect(port, key).await?;
    let mut latencies = Vec::new();
    let mut n = 0;
    while Instant::now() < deadline {
        let body = access_body(&access_id(n), n);
        let started = Instant::now();
        let status = connection.post(path, &body).await?;
        anyhow::ensure!(status == 201, "an append answered {status}");
        latencies.push(started.elapsed());
        n += 1;
    }
    Ok(latencies)
}

/// The `p` quantile of sorted latencies, in milliseconds.
pub fn percentile(sorted: &[Duration], percent: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // The nearest rank, rounded half up, in integers.
    let index = ((sorted.len() - 1) * percent + 50) / 100;
    sorted[index].as_secs_f64() * 1000.0
}

pub async fn measure(url: &str, duration: Duration) -> anyhow::Result<serde_json::Value> {
    println!("api (postgres, {CLIENTS} clients over {CLIENTS} contracts):");
    let store = Arc::new(Store::connect(url).await?);
    let (port, server, contracts) = serve_load_contracts(&store, CLIENTS, BENCH_KEY).await?;

    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let http = |seconds: Duration| {
        let (contracts, run) = (contracts.clone(), run.clone());
        async move {
            let deadline = Instant::now() + seconds;
            let tasks: Vec<_> = (0..CLIENTS)
                .map(|client| {
                    let (path, run) = (
                        format!("/v1/contracts/{}/commands/record-access", contracts[client]),
                        run.clone(),
                    );
                    tokio::spawn(async move {
                        appends_until(port, BENCH_KEY, &path, deadline, |n| {
                            format!("{run}-h{client}-{n}-{}", seconds.as_millis())
                        })
                        .await
                    })
                })
                .collect();
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.extend(task.await??);
            }
            anyhow::Ok(latencies)
        }
    };
    let warm_up = duration.mul_f64(0.2);
    crate::appends::appends_per_second(&store, &contracts, CLIENTS, 1, warm_up).await?;
    let direct =
        crate::appends::appends_per_second(&store, &contracts, CLIENTS, 1, duration).await?;
    http(warm_up).await?;
    let mut latencies = http(duration).await?;
    server.abort();
    let rate = latencies.len() as f64 / duration.as_secs_f64();
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 50), percentile(&latencies, 99));
    let result = crate::line(
        "HTTP appends/s, 8 clients over loopback",
        rate,
        "events/s",
        "direct Store::append/s, 8 writers",
        direct,
        Some(0.7),
    );
    println!("  latency of an HTTP append: p50 {p50:.2} ms, p99 {p99:.2} ms");
    Ok(
        json!({ "appends": result, "latency_ms": { "p50": p50, "p99": p99 }, "requests": latencies.len() }),
    )
}
