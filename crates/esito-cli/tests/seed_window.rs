//! The Cuneo seed's figures, «Alcuni dati (luglio 2023 – marzo 2024)», from the demo, asked
//! of the running service over that window as a range of dates:
//! `GET /v1/contracts/cuneo-communal-living/indicators?from=2023-07-01&to=2024-04-01`.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use esito_testkit::sqlite_url;
use serde_json::Value;

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
const DEMO_PAYER: &str = "esito_demo_payer";

/// A served `esito`, stopped however the test ends.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// One GET with a bearer key: the status line and the body, or `None` if nothing answers.
    fn get(&self, path: &str, key: &str) -> Option<(String, String)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {key}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        Some((head.lines().next()?.to_owned(), body.to_owned()))
    }
}

#[test]
fn the_cuneo_demo_gives_the_seeds_figures_over_july_2023_to_march_2024() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = sqlite_url(dir.path());
    let output = Command::new(ESITO)
        .args(["demo", "--database", &database])
        .output()
        .expect("esito runs");
    assert!(
        output.status.success(),
        "esito demo: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port = free_port();
    let child = spawn_serve(
        &database,
        port,
        &dir.path().join("signing.key"),
        &[],
        Stdio::null(),
    );
    let server = Server { child, port };
    let path = "/v1/contracts/cuneo-communal-living/indicators?from=2023-07-01&to=2024-04-01";
    let deadline = Instant::now() + Duration::from_secs(60);
    let (status, body) = loop {
        if let Some(answer) = server.get(path, DEMO_PAYER) {
            break answer;
        }
        assert!(Instant::now() < deadline, "esito serve answered nothing");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let report: Value = serde_json::from_str(&body).expect("the report is JSON");
    assert_eq!(report["from"], "2023-07-01");
    assert_eq!(report["to"], "2024-04-01");
    let value = |id: &str| -> u64 {
        report["indicators"]
            .as_array()
            .expect("the indicators")
            .iter()
            .find(|indicator| indicator["id"] == id)
            .unwrap_or_else(|| panic!("no indicator `{id}`: {report}"))["value"]
            .as_u64()
            .unwrap_or_else(|| panic!("`{id}` is not a count: {report}"))
    };
    // Seed 000, «Alcuni dati (luglio 2023 – marzo 2024)», and «Le case».
    for (id, seed, says) in [
        ("providers_accredited", 16, "16 fornitori accreditati"),
        (
            "providers_requesting_accreditation",
            2,
            "2 fornitori in fase di accreditamento",
        ),
        ("products_listed", 160, "160 prodotti a catalogo"),
        (
            "products_in_prototyping",
            2,
            "2 nuovi prodotti in fase di prototipizzazione",
        ),
        ("centre_accesses", 300, "300 accessi al centro servizi"),
        ("clients_reached", 37, "37 clienti"),
        ("orders_placed", 89, "89 ordini"),
        ("flats_made_available", 3, "3 appartamenti"),
        ("tenancies_started", 3, "3 nuclei accolti"),
    ] {
        assert_eq!(value(id), seed, "`{id}`: the seed's «{says}»");
    }
    // The same range a day shorter loses what its last day held, so the dates are read.
    let (status, body) = server
        .get(
            "/v1/contracts/cuneo-communal-living/indicators?from=2023-07-02&to=2024-04-01",
            DEMO_PAYER,
        )
        .expect("an answer");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let later: Value = serde_json::from_str(&body).expect("JSON");
    let providers = later["indicators"]
        .as_array()
        .expect("the indicators")
        .iter()
        .find(|indicator| indicator["id"] == "providers_accredited")
        .expect("providers_accredited")["value"]
        .as_u64();
    assert_eq!(
        providers,
        Some(0),
        "the 16 providers are accredited on 1 July 2023"
    );
}
