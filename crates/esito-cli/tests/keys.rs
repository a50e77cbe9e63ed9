//! `esito keys list|create|revoke` as an operator runs them, two `esito serve` on one
//! PostgreSQL refusing a key revoked meanwhile within a second, and `esito demo` refusing a
//! database that holds a contract it did not load.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use esito_testkit::sqlite_url;

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");

fn esito(args: &[&str]) -> Output {
    Command::new(ESITO).args(args).output().expect("esito runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Registers the contract `load-1` (and one access): a contract that is not the demo's.
fn register_load_contract(database: &str) {
    succeeded(
        &esito(&[
            "load",
            "--database",
            database,
            "--contracts",
            "1",
            "--writers",
            "1",
            "--events-per-writer",
            "1",
        ]),
        "load",
    );
}

fn key_id(key: &str) -> String {
    esito_api::access_log::key_id(&esito_api::auth::key_hash(key))
}

#[test]
fn keys_are_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = sqlite_url(dir.path());
    register_load_contract(&database);
    let key = succeeded(
        &esito(&[
            "keys",
            "create",
            "--database",
            &database,
            "--role",
            "evaluator",
            "--contract",
            "load-1",
            "--principal",
            "valutatore",
            "--expires-in",
            "90d",
        ]),
        "keys create",
    )
    .trim()
    .to_owned();
    let id = key_id(&key);
    let listed = succeeded(&esito(&["keys", "list", "--database", &database]), "list");
    let row = listed
        .lines()
        .find(|line| line.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} in {listed}"));
    for part in ["evaluator", "active", "valutatore", "load-1"] {
        assert!(row.contains(part), "{part} in {row}");
    }
    let expected_expiry = (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    assert!(row.contains(&expected_expiry), "{expected_expiry} in {row}");
    assert!(!listed.contains(&key), "a listing never shows a key");

    let revoked = succeeded(
        &esito(&["keys", "revoke", "--database", &database, &id]),
        "revoke",
    );
    assert!(revoked.contains("revoked at"), "{revoked}");
    let listed = succeeded(&esito(&["keys", "list", "--database", &database]), "list");
    let row = listed
        .lines()
        .find(|line| line.starts_with(&id))
        .expect("listed");
    assert!(row.contains("revoked"), "{row}");

    // Refusals name the flag and store nothing.
    for (args, flag) in [
        (
            vec![
                "--role",
                "evaluator",
                "--contract",
                "load-1",
                "--expires-in",
                "90",
            ],
            "--expires-in",
        ),
        (vec!["--role", "evaluator"], "--contract"),
        (
            vec!["--role", "provider", "--contract", "load-1"],
            "--provider",
        ),
    ] {
        let mut all = vec!["keys", "create", "--database", &database];
        all.extend(args);
        let output = esito(&all);
        assert!(!output.status.success());
        assert!(
            text(&output.stderr).contains(flag),
            "{flag}: {}",
            text(&output.stderr)
        );
    }
    let unknown = esito(&[
        "keys",
        "revoke",
        "--database",
        &database,
        "00000000000000ff",
    ]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("there is no key"),
        "{}",
        text(&unknown.stderr)
    );
    let listed = succeeded(&esito(&["keys", "list", "--database", &database]), "list");
    assert_eq!(
        listed.lines().count(),
        2,
        "a heading and the one key: {listed}"
    );
}

#[test]
fn the_demo_refuses_a_database_holding_a_contract_it_did_not_load() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = sqlite_url(dir.path());
    register_load_contract(&database);
    let output = esito(&["demo", "--database", &database]);
    assert!(!output.status.success(), "{}", text(&output.stdout));
    let error = text(&output.stderr);
    assert!(
        error.contains("load-1") && error.contains("nothing was written"),
        "{error}"
    );
    let listed = succeeded(&esito(&["keys", "list", "--database", &database]), "list");
    assert!(
        !listed.contains("demo-"),
        "no demo key was stored: {listed}"
    );
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
    fn start(database: &str, signing_key: &Path) -> Server {
        let port = free_port();
        let child = spawn_serve(database, port, signing_key, &[], Stdio::null());
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.status("/healthz", None).is_none() {
            assert!(Instant::now() < deadline, "no answer within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The status of a GET, or `None` when the server does not answer.
    fn status(&self, path: &str, key: Option<&str>) -> Option<u16> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if let Some(key) = key {
            request.push_str(&format!("Authorization: Bearer {key}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split(' ').nth(1)?.parse().ok()
    }
}

#[test]
fn two_services_on_one_postgresql_refuse_a_key_revoked_meanwhile_within_a_second() {
    let database = esito_testkit::blank_postgres_url("keys");
    register_load_contract(&database);
    let key = succeeded(
        &esito(&[
            "keys",
            "create",
            "--database",
            &database,
            "--role",
            "evaluator",
            "--contract",
            "load-1",
        ]),
        "keys create",
    )
    .trim()
    .to_owned();
    let dir = tempfile::tempdir().expect("a directory");
    let signing_key = dir.path().join("signing.key");
    let first = Server::start(&database, &signing_key);
    let second = Server::start(&database, &signing_key);
    let read = "/v1/contracts/load-1/events?limit=1";
    for server in [&first, &second] {
        assert_eq!(server.status(read, Some(&key)), Some(200));
    }
    succeeded(
        &esito(&["keys", "revoke", "--database", &database, &key_id(&key)]),
        "revoke",
    );
    let revoked = Instant::now();
    // Both keep being used; each refuses the key within a second of its revocation.
    for server in [&first, &second] {
        loop {
            match server.status(read, Some(&key)) {
                Some(401) => break,
                Some(200) => assert!(
                    revoked.elapsed() < Duration::from_secs(1),
                    "still accepted {:?} after its revocation",
                    revoked.elapsed()
                ),
                other => panic!("{other:?}"),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    std::thread::sleep(Duration::from_secs(1).saturating_sub(revoked.elapsed()));
    for server in [&first, &second] {
        assert_eq!(server.status(read, Some(&key)), Some(401));
    }
}
