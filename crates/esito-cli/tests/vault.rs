//! The identity vault as an operator runs it, on the demo: an identity registered over HTTP,
//! the master key rotated with `esito vault rotate-master-key`, the identity erased; the log
//! still verifies and every indicator and settlement is as before; a lost or foreign master
//! key closes the vault with a clear error at start, and the log and what is computed from it
//! still answer.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use esito_testkit::sqlite_url;
use serde_json::Value;

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
const CUNEO: &str = "cuneo-communal-living";
const OPERATOR: &str = "esito_demo_operator";
const EVALUATOR: &str = "esito_demo_evaluator";

fn esito(args: &[&str]) -> Output {
    Command::new(ESITO).args(args).output().expect("esito runs")
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A served `esito`, killed however the test ends.
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
    fn start(database: &str, dir: &Path, vault_key: &Path, stderr: Stdio) -> Server {
        let port = free_port();
        let child = spawn_serve(
            database,
            port,
            &dir.join("signing.key"),
            &["--vault-key", vault_key.to_str().expect("UTF-8")],
            stderr,
        );
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.call("GET", "/healthz", None, "").is_none() {
            assert!(Instant::now() < deadline, "no answer within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The status and JSON body of a request, or `None` when the server does not answer.
    fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: &str,
    ) -> Option<(u16, Value)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if let Some(key) = key {
            request.push_str(&format!("Authorization: Bearer {key}\r\n"));
        }
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
    }

    fn answer(&self, method: &str, path: &str, key: &str, body: &str) -> (u16, Value) {
        self.call(method, path, Some(key), body).expect("an answer")
    }
}

fn identity_path(beneficiary: &str) -> String {
    format!("/v1/contracts/{CUNEO}/identities/{beneficiary}")
}

const IDENTITY: &str =
    r#"{"given_name": "Ottavia", "family_name": "Quarantotto", "fiscal_code": "MRTMTT25D09F205Z"}"#;

/// The values of the indicators of every quarter and year of the term, and the settlement
/// documents of the quarters, without the log position they are computed as of.
fn figures(database: &str) -> Vec<Value> {
    let mut figures = Vec::new();
    for period in ["2023-Q3", "2023-Q4", "2024-Q1", "2023", "2024"] {
        let report: Value = serde_json::from_str(&succeeded(
            &esito(&[
                "indicators",
                "--contract",
                CUNEO,
                "--period",
                period,
                "--database",
                database,
            ]),
            "indicators",
        ))
        .expect("JSON");
        figures.push(report["indicators"].clone());
    }
    // Cuneo's first two periods to settle: its terms start on 1 January 2024.
    for period in ["2024-Q1", "2024-Q2"] {
        let mut document: Value = serde_json::from_str(&succeeded(
            &esito(&[
                "settle",
                "--contract",
                CUNEO,
                "--period",
                period,
                "--database",
                database,
            ]),
            "settle",
        ))
        .expect("JSON");
        let fields = document.as_object_mut().expect("an object");
        fields.remove("as_of");
        fields.remove("root_hash");
        figures.push(document);
    }
    figures
}

#[test]
fn an_identity_outlives_a_rotation_and_its_erasure_leaves_the_log_and_every_figure_as_they_were() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let before = figures(&database);
    let vault_key = dir.path().join("vault.key");

    let server = Server::start(&database, dir.path(), &vault_key, Stdio::null());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&vault_key)
            .expect("made on first start")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let (status, body) = server.answer("PUT", &identity_path("hh-1"), OPERATOR, IDENTITY);
    assert_eq!(status, 201, "{body}");
    drop(server);

    let old_key = std::fs::read(&vault_key).expect("the key");
    let rotated = succeeded(
        &esito(&[
            "vault",
            "rotate-master-key",
            "--vault-key",
            vault_key.to_str().expect("UTF-8"),
            "--database",
            &database,
        ]),
        "rotate",
    );
    assert!(rotated.contains("1 data keys rewrapped"), "{rotated}");
    assert_ne!(std::fs::read(&vault_key).expect("the key"), old_key);

    let server = Server::start(&database, dir.path(), &vault_key, Stdio::null());
    let (status, body) = server.answer("GET", &identity_path("hh-1"), OPERATOR, "");
    assert_eq!(
        (status, &body["family_name"]),
        (200, &Value::from("Quarantotto")),
        "{body}"
    );
    let (status, body) = server.answer("DELETE", &identity_path("hh-1"), OPERATOR, "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.answer("GET", &identity_path("hh-1"), OPERATOR, "");
    assert_eq!(
        (status, &body["code"]),
        (404, &Value::from("identity_erased")),
        "{body}"
    );
    drop(server);

    // The log gained the erasure and still verifies; every figure is as it was.
    assert_eq!(figures(&database), before);
    let export = succeeded(
        &esito(&["export", "--contract", CUNEO, "--database", &database]),
        "export",
    );
    assert!(export.contains("IdentityErased") && !export.contains("Quarantotto"));
    let file = dir.path().join("cuneo.jsonl");
    std::fs::write(&file, export).expect("written");
    succeeded(&esito(&["verify", file.to_str().expect("UTF-8")]), "verify");
    // Offline, from the export alone, the figures are the store's of before.
    let offline: Value = serde_json::from_str(&succeeded(
        &esito(&[
            "indicators",
            "--offline",
            file.to_str().expect("UTF-8"),
            "--period",
            "2023-Q3",
        ]),
        "indicators --offline",
    ))
    .expect("JSON");
    assert_eq!(offline["indicators"], before[0]);

    // A copy of the old key, rotated away, does not open the vault: a clear error at start.
    let old = dir.path().join("old-vault.key");
    std::fs::write(&old, &old_key).expect("written");
    let log = dir.path().join("old.log");
    let server = Server::start(
        &database,
        dir.path(),
        &old,
        Stdio::from(std::fs::File::create(&log).expect("a log file")),
    );
    let (status, body) = server.answer("GET", &identity_path("hh-2"), OPERATOR, "");
    assert_eq!(
        (status, &body["code"]),
        (503, &Value::from("vault_unavailable")),
        "{body}"
    );
    drop(server);
    let logged = std::fs::read_to_string(&log).expect("the log");
    assert!(
        logged.contains("identity vault closed") && logged.contains("is not the vault's"),
        "{logged}"
    );
}

#[test]
fn a_lost_master_key_closes_the_vault_with_a_clear_error_at_start_and_the_log_still_works() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let vault_key = dir.path().join("vault.key");
    let server = Server::start(&database, dir.path(), &vault_key, Stdio::null());
    let (status, body) = server.answer("PUT", &identity_path("hh-2"), OPERATOR, IDENTITY);
    assert_eq!(status, 201, "{body}");
    drop(server);

    std::fs::remove_file(&vault_key).expect("the key is lost");
    let log = dir.path().join("serve.log");
    let server = Server::start(
        &database,
        dir.path(),
        &vault_key,
        Stdio::from(std::fs::File::create(&log).expect("a log file")),
    );
    assert!(
        !vault_key.exists(),
        "no new key is made over a vault that has one"
    );
    let logged = std::fs::read_to_string(&log).expect("the log");
    assert!(
        logged.contains("identity vault closed") && logged.contains("is missing"),
        "{logged}"
    );
    let (status, body) = server.answer("GET", &identity_path("hh-2"), OPERATOR, "");
    assert_eq!(
        (status, &body["code"]),
        (503, &Value::from("vault_unavailable")),
        "{body}"
    );
    // The log and everything computed from it still answer.
    let (status, _) = server.answer(
        "GET",
        &format!("/v1/contracts/{CUNEO}/events?limit=2"),
        EVALUATOR,
        "",
    );
    assert_eq!(status, 200);
    let (status, body) = server.answer(
        "GET",
        &format!("/v1/contracts/{CUNEO}/indicators?period=2023-Q4"),
        EVALUATOR,
        "",
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.answer(
        "GET",
        &format!("/v1/contracts/{CUNEO}/events?limit=1"),
        OPERATOR,
        "",
    );
    assert_eq!(status, 200, "{body}");
    // Erasure needs no master key: it deletes what it cannot read.
    let (status, body) = server.answer("DELETE", &identity_path("hh-2"), OPERATOR, "");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_rotation_stopped_before_its_new_file_took_the_old_ones_place_is_finished_at_the_next_start() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let vault_key = dir.path().join("vault.key");
    let server = Server::start(&database, dir.path(), &vault_key, Stdio::null());
    let (status, body) = server.answer("PUT", &identity_path("hh-3"), OPERATOR, IDENTITY);
    assert_eq!(status, 201, "{body}");
    drop(server);
    let old_key = std::fs::read(&vault_key).expect("the key");
    succeeded(
        &esito(&[
            "vault",
            "rotate-master-key",
            "--vault-key",
            vault_key.to_str().expect("UTF-8"),
            "--database",
            &database,
        ]),
        "rotate",
    );
    // As if it had stopped after the database recorded the new key, before the rename.
    let pending = dir.path().join("vault.key.new");
    std::fs::rename(&vault_key, &pending).expect("renamed");
    std::fs::write(&vault_key, &old_key).expect("the old key back");

    let server = Server::start(&database, dir.path(), &vault_key, Stdio::null());
    let (status, body) = server.answer("GET", &identity_path("hh-3"), OPERATOR, "");
    assert_eq!(
        (status, &body["family_name"]),
        (200, &Value::from("Quarantotto")),
        "{body}"
    );
    assert!(!pending.exists(), "the new key took the old one's place");
    assert_ne!(std::fs::read(&vault_key).expect("the key"), old_key);
}
