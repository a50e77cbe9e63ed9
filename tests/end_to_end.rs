//! End to end: the real `esito` binary on a real SQLite file and a real PostgreSQL.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use esito_testkit::sqlite_url;

#[path = "../crates/esito-cli/tests/serve_process/mod.rs"]
mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");

fn esito(args: &[&str]) -> Output {
    Command::new(ESITO).args(args).output().expect("esito runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A URL on a new, empty PostgreSQL schema.
fn postgres_url() -> String {
    esito_testkit::blank_postgres_url("e2e")
}

fn export(database: &str, contract: &str, to: &Path) {
    let output = esito(&["export", "--contract", contract, "--database", database]);
    assert!(
        output.status.success(),
        "export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(to, &output.stdout).expect("export written");
}

fn verify(file: &Path) -> Output {
    esito(&["verify", file.to_str().expect("a UTF-8 path")])
}

fn demo_export(dir: &Path) -> PathBuf {
    let database = sqlite_url(dir);
    let output = esito(&["demo", "--database", &database]);
    assert!(
        output.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = dir.join("cuneo.jsonl");
    export(&database, "cuneo-communal-living", &file);
    file
}

#[test]
fn the_demo_loads_once_and_its_export_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    let first = esito(&["demo", "--database", &database]);
    assert!(first.status.success());
    // Every event of each of the four programmes, written once.
    let programmes = [
        ("cuneo-communal-living", 1188),
        ("torino-homes4all", 151),
        ("prato-autonomia", 261),
        ("cremona-kcity", 30),
    ];
    for (contract, events) in programmes {
        assert!(
            stdout(&first).contains(&format!(
                "{contract} {events} events written, 0 already present"
            )),
            "{}",
            stdout(&first)
        );
    }
    let again = esito(&["demo", "--database", &database]);
    for (contract, events) in programmes {
        assert!(
            stdout(&again).contains(&format!(
                "{contract} 0 events written, {events} already present"
            )),
            "{}",
            stdout(&again)
        );
    }
    for (contract, events) in programmes {
        let file = dir.path().join(format!("{contract}.jsonl"));
        export(&database, contract, &file);
        let verdict = verify(&file);
        assert!(verdict.status.success(), "{}", stdout(&verdict));
        assert!(
            stdout(&verdict).starts_with(&format!(
                "verified: contract {contract}, {events} entries, root "
            )),
            "{}",
            stdout(&verdict)
        );
    }
}

/// Rewrites the export with `change` applied to its lines, verifies it, returns the verdict.
fn tampered(source: &Path, change: impl FnOnce(&mut Vec<String>)) -> (bool, String) {
    let text = std::fs::read_to_string(source).expect("export");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    change(&mut lines);
    let file = source.with_extension("tampered.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("written");
    let output = verify(&file);
    (output.status.success(), stdout(&output))
}

#[test]
fn any_tampering_with_an_export_fails_verification_and_names_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = demo_export(dir.path());

    let (ok, verdict) = tampered(&file, |lines| {
        // Position 17: change one character of the payload.
        let line = &mut lines[16];
        let at = line.find("\"payload\":{").expect("a payload") + 14;
        let replacement = if &line[at..at + 1] == "x" { "y" } else { "x" };
        line.replace_range(at..at + 1, replacement);
    });
    assert!(
        !ok && verdict == "FAILED at position 17: leaf hash does not match the entry\n",
        "edited payload, one line naming the position: {verdict}"
    );

    let (ok, verdict) = tampered(&file, |lines| {
        let line = &mut lines[29];
        *line = line.replace(
            "\"recorded_by\":\"demo-loader\"",
            "\"recorded_by\":\"someone-else\"",
        );
    });
    assert!(
        !ok && verdict.starts_with("FAILED at position 30: "),
        "edited recorded_by: {verdict}"
    );

    let (ok, verdict) = tampered(&file, |lines| {
        lines.remove(39);
    });
    assert!(
        !ok && verdict.starts_with("FAILED at position 40: "),
        "removed line: {verdict}"
    );

    let (ok, verdict) = tampered(&file, |lines| lines.swap(49, 50));
    assert!(
        !ok && verdict.starts_with("FAILED at position 50: "),
        "swapped lines: {verdict}"
    );

    let (ok, verdict) = tampered(&file, |lines| {
        let line = &mut lines[59];
        let at = line.find("\"leaf_hash\":\"").expect("a leaf hash") + 13;
        let replacement = if &line[at..at + 1] == "0" { "1" } else { "0" };
        line.replace_range(at..at + 1, replacement);
    });
    assert!(
        !ok && verdict.starts_with("FAILED at position 60: "),
        "edited leaf hash: {verdict}"
    );
}

/// Starts `esito load` with 4 writers, SIGKILLs it once `kill_after` appends are acknowledged,
/// then checks every acknowledged event is in the log exactly once and the export verifies.
fn acknowledged_events_survive_a_kill(database: &str, dir: &Path) {
    let kill_after = 400;
    let mut child = Command::new(ESITO)
        .args([
            "load",
            "--database",
            database,
            "--writers",
            "4",
            "--events-per-writer",
            "100000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("esito load starts");
    let mut reader = BufReader::new(child.stdout.take().expect("piped"));
    let mut acknowledged = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut line = String::new();
    while acknowledged.len() < kill_after && Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        acknowledged.push(line.trim().to_owned());
    }
    child.kill().expect("SIGKILL");
    // Lines already in the pipe were acknowledged before the kill, too.
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("drain");
    acknowledged.extend(rest.lines().map(str::to_owned));
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "the writer was killed, not finished");
    assert!(
        acknowledged.len() >= kill_after,
        "only {} acknowledged before the deadline",
        acknowledged.len()
    );

    let file = dir.join("load.jsonl");
    export(database, "load-1", &file);
    let verdict = verify(&file);
    assert!(
        verdict.status.success(),
        "after the kill: {}",
        stdout(&verdict)
    );
    let text = std::fs::read_to_string(&file).expect("export");
    let mut positions = Vec::new();
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        positions.push(value["position"].as_u64().expect("a position"));
        assert!(
            ids.insert(
                value["entry"]["event_id"]
                    .as_str()
                    .expect("an id")
                    .to_owned()
            ),
            "an id appears once"
        );
    }
    assert_eq!(
        positions,
        (1..=positions.len() as u64).collect::<Vec<_>>(),
        "gap-free after the kill"
    );
    for ack in &acknowledged {
        let (contract, event_id) = ack.split_once(' ').expect("'contract id' lines");
        assert_eq!(contract, "load-1");
        assert!(
            ids.contains(event_id),
            "acknowledged event {event_id} is in the log"
        );
    }

    // After a restart the log goes on from where it was.
    let output = esito(&[
        "load",
        "--database",
        database,
        "--writers",
        "2",
        "--events-per-writer",
        "5",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    export(database, "load-1", &file);
    let verdict = verify(&file);
    assert!(verdict.status.success());
    assert!(
        stdout(&verdict).contains(&format!(", {} entries, ", positions.len() + 10)),
        "{}",
        stdout(&verdict)
    );
}

#[test]
fn acknowledged_events_survive_a_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    acknowledged_events_survive_a_kill(&sqlite_url(dir.path()), dir.path());
}

#[test]
fn acknowledged_events_survive_a_sigkill_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    acknowledged_events_survive_a_kill(&postgres_url(), dir.path());
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serve_answers_health_and_readiness_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut server = spawn_serve(
        &sqlite_url(dir.path()),
        port,
        &dir.path().join("signing.key"),
        &[],
        Stdio::null(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some(response) = http_get(port, "/healthz") {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = http_get(port, "/readyz").expect("readyz answers");
    assert!(
        ready.starts_with("HTTP/1.1 200") && ready.contains("\"sqlite\""),
        "{ready}"
    );
    // The people's screens are served beside the API: the sign-in page and its stylesheet.
    let sign_in = http_get(port, "/").expect("the sign-in page answers");
    assert!(
        sign_in.starts_with("HTTP/1.1 200")
            && sign_in.contains("text/html")
            && sign_in.contains("name=\"key\""),
        "{sign_in}"
    );
    let stylesheet = http_get(port, "/static/esito.css").expect("the stylesheet answers");
    assert!(
        stylesheet.starts_with("HTTP/1.1 200") && stylesheet.contains("text/css"),
        "{stylesheet}"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = server.wait().expect("the server exits");
    assert!(status.success(), "a graceful stop exits 0, got {status}");
}

/// A server that is stopped however the test ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `esito serve` on a loaded demo; returns the server and its port.
fn serve_demo(dir: &Path) -> (Server, u16) {
    let database = sqlite_url(dir);
    load_demo(&database);
    serve(&database, &dir.join("signing.key"))
}

fn load_demo(database: &str) {
    let output = esito(&["demo", "--database", database]);
    assert!(
        output.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Starts `esito serve` on `database` signing with the key in `signing_key` (made if missing);
/// returns the server and its port once it answers.
fn serve(database: &str, signing_key: &Path) -> (Server, u16) {
    let port = free_port();
    let server = spawn_serve(database, port, signing_key, &[], Stdio::null());
    let server = Server(server);
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, "/healthz").is_none() {
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// The `sh` blocks of a page of `docs/`, in order, as one bash script that stops at the first
/// failing command.
fn sh_blocks(page: &str) -> String {
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(page),
    )
    .unwrap_or_else(|e| panic!("docs/{page}: {e}"));
    let mut script = String::from("set -euo pipefail\n");
    let mut in_block = false;
    for line in guide.lines() {
        match (in_block, line.trim_start()) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, _) => script.push_str(&format!("{line}\n")),
            _ => {}
        }
    }
    script
}

#[test]
fn the_operator_guide_runs_as_printed_and_again_as_replays() {
    let script = sh_blocks("operator-guide.md");
    assert!(
        script.matches("curl").count() >= 12,
        "the guide's examples were found"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, port) = serve_demo(dir.path());
    for run in ["first", "second"] {
        let output = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("ESITO_URL", format!("http://127.0.0.1:{port}"))
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "{run} run of the guide failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metrics = http_get(port, "/metrics").expect("metrics");
    assert!(
        metrics.contains("esito_appends_total 13"),
        "11 events and 2 imported rows written once, whatever the replays: {metrics}"
    );
    assert!(
        metrics.contains("esito_append_replays_total 13"),
        "{metrics}"
    );
    assert!(
        metrics.contains("route=\"/v1/contracts/{contract}/commands/{command}\",status=\"422\"} 2"),
        "{metrics}"
    );
}

fn http_post(port: u16, path: &str, key: &str, body: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn a_graceful_stop_loses_no_acknowledged_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut server, port) = serve_demo(dir.path());
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for n in 0..10_000 {
                    let event_id = uuid::Uuid::new_v4();
                    let body = format!(
                        r#"{{"event_id":"{event_id}","occurred_at":"2024-03-12T10:00:00+01:00","access_id":"acc-stop-{writer}-{n}","channel":"phone","need":"housing","outcome":{{"kind":"information_only"}}}}"#
                    );
                    match http_post(port, "/v1/contracts/cuneo-communal-living/commands/record-access", "esito_demo_operator", &body) {
                        Some(response) if response.starts_with("HTTP/1.1 201") => {
                            acknowledged.lock().expect("lock").push(event_id.to_string())
                        }
                        _ => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 100 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = server.0.wait().expect("the server exits");
    assert!(status.success(), "a graceful stop exits 0, got {status}");
    for writer in writers {
        writer.join().expect("a writer ends");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 100,
        "{} acknowledged",
        acknowledged.len()
    );
    let file = dir.path().join("after-stop.jsonl");
    export(&sqlite_url(dir.path()), "cuneo-communal-living", &file);
    assert!(verify(&file).status.success());
    let text = std::fs::read_to_string(&file).expect("export");
    let ids: BTreeSet<String> = text
        .lines()
        // Entry lines; the checkpoint lines that end the export name no event.
        .filter_map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("json")["entry"]["event_id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    for event_id in &acknowledged {
        assert!(
            ids.contains(event_id),
            "acknowledged {event_id} is in the log after the stop"
        );
    }
}

#[test]
fn a_running_service_signs_checkpoints_that_the_export_carries_and_verify_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, port) = serve_demo(dir.path());
    let key_file =
        std::fs::metadata(dir.path().join("signing.key")).expect("the key file was made");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        key_file.permissions().mode() & 0o777,
        0o600,
        "the key is readable by its owner only"
    );
    let published = http_get(port, "/v1/checkpoint-key").expect("the key is published");
    let body = published.split("\r\n\r\n").nth(1).expect("a body");
    let public_key = serde_json::from_str::<serde_json::Value>(body).expect("json")["public_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    // The service signs every grown contract at start; the admin may ask for more.
    let made = http_post(
        port,
        "/v1/contracts/cuneo-communal-living/checkpoints",
        "esito_demo_admin",
        "",
    );
    assert!(
        made.as_deref()
            .is_some_and(|r| r.starts_with("HTTP/1.1 201")),
        "{made:?}"
    );
    let refused = http_post(
        port,
        "/v1/contracts/cuneo-communal-living/checkpoints",
        "esito_demo_operator",
        "",
    );
    assert!(
        refused
            .as_deref()
            .is_some_and(|r| r.starts_with("HTTP/1.1 403")),
        "{refused:?}"
    );
    drop(server);
    let file = dir.path().join("cuneo.jsonl");
    export(&sqlite_url(dir.path()), "cuneo-communal-living", &file);
    let text = std::fs::read_to_string(&file).expect("export");
    assert!(
        text.lines()
            .filter(|l| l.starts_with("{\"checkpoint\""))
            .count()
            >= 1,
        "the export ends with checkpoints"
    );
    let with_key = esito(&[
        "verify",
        file.to_str().expect("utf-8"),
        "--public-key",
        &public_key,
    ]);
    assert!(with_key.status.success(), "{}", stdout(&with_key));
    let checkpoints = checkpoint_lines(&file).len();
    assert!(
        stdout(&with_key).contains(&format!(
            "{checkpoints} checkpoint{s} ({checkpoints} signature{s} checked)",
            s = if checkpoints == 1 { "" } else { "s" }
        )),
        "{}",
        stdout(&with_key)
    );

    // A forged signature, a wrong root, another key: each named.
    let (ok, verdict) = tampered_with_key(&file, &public_key, |lines| {
        let last = lines.last_mut().expect("a checkpoint");
        let at = last.find("\"signature\":\"").expect("a signature") + 13;
        let replacement = if &last[at..at + 1] == "A" { "B" } else { "A" };
        last.replace_range(at..at + 1, replacement);
    });
    assert!(
        !ok && verdict.starts_with("FAILED: checkpoint at size ")
            && verdict.contains(": the signature does not match the checkpoint under key "),
        "forged signature: {verdict}"
    );
    let edit_root = |lines: &mut Vec<String>| {
        let last = lines.last_mut().expect("a checkpoint");
        let at = last.find("\"root_hash\":\"").expect("a root") + 13;
        let replacement = if &last[at..at + 1] == "0" { "1" } else { "0" };
        last.replace_range(at..at + 1, replacement);
    };
    // Without the key the edited root is found to disagree with the entries; with it, the
    // checkpoint is found not to be the one the service signed.
    let (ok, verdict) = tampered(&file, edit_root);
    assert!(
        !ok && verdict.starts_with("FAILED: checkpoint at size ")
            && verdict.contains(": root hash does not match the tree head of the entries"),
        "a checkpoint whose root does not match: {verdict}"
    );
    let (ok, verdict) = tampered_with_key(&file, &public_key, edit_root);
    assert!(
        !ok && verdict.contains(": the signature does not match the checkpoint"),
        "a checkpoint whose root does not match, with the key: {verdict}"
    );
    let other_key = esito_log::signing::CheckpointKey::from_seed([9; 32]).public_key();
    let output = esito(&[
        "verify",
        file.to_str().expect("utf-8"),
        "--public-key",
        &other_key,
    ]);
    assert!(
        !output.status.success() && stdout(&output).contains(", which is none of the keys given ("),
        "{}",
        stdout(&output)
    );
}

/// The export's checkpoint lines, as written.
fn checkpoint_lines(export: &Path) -> Vec<String> {
    std::fs::read_to_string(export)
        .expect("export")
        .lines()
        .filter(|line| line.starts_with("{\"checkpoint\""))
        .map(str::to_owned)
        .collect()
}

fn tampered_with_key(
    source: &Path,
    public_key: &str,
    change: impl FnOnce(&mut Vec<String>),
) -> (bool, String) {
    let text = std::fs::read_to_string(source).expect("export");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    change(&mut lines);
    let file = source.with_extension("forged.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("written");
    let output = esito(&[
        "verify",
        file.to_str().expect("utf-8"),
        "--public-key",
        public_key,
    ]);
    (output.status.success(), stdout(&output))
}

// ---------------------------------------------------------------------------------------------
// Trusted checkpoints, rotated keys, and a log edited in the database behind the service's back.

const CUNEO: &str = "cuneo-communal-living";

fn body(response: &str) -> &str {
    response.split("\r\n\r\n").nth(1).expect("a body")
}

/// The service's key: (key id, public key).
fn published_key(port: u16) -> (String, String) {
    let response = http_get(port, "/v1/checkpoint-key").expect("the key is published");
    let key: serde_json::Value = serde_json::from_str(body(&response)).expect("json");
    let field = |name: &str| key[name].as_str().expect("a string").to_owned();
    (field("key_id"), field("public_key"))
}

/// Asks the running service for a checkpoint of Cuneo now, as the demo admin; returns it as the
/// service answered it, a bare checkpoint object.
fn checkpoint_now(port: u16) -> String {
    let response = http_post(
        port,
        &format!("/v1/contracts/{CUNEO}/checkpoints"),
        "esito_demo_admin",
        "",
    )
    .expect("the service answers");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    body(&response).to_owned()
}

/// Records `n` more centre accesses in Cuneo, as the demo operator.
fn grow(port: u16, n: usize) {
    for _ in 0..n {
        let body = format!(
            r#"{{"event_id":"{}","occurred_at":"2024-03-12T10:00:00+01:00","access_id":"acc-{}","channel":"phone","need":"housing","outcome":{{"kind":"information_only"}}}}"#,
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4().simple()
        );
        let response = http_post(
            port,
            &format!("/v1/contracts/{CUNEO}/commands/record-access"),
            "esito_demo_operator",
            &body,
        )
        .expect("the service answers");
        assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    }
}

/// `esito verify FILE ARGS...`: (passed, stdout).
fn verify_with(file: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["verify", file.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    let output = esito(&all);
    assert!(
        output.stderr.is_empty(),
        "verify writes nothing to a pipe on standard error (no progress bar): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdict = stdout(&output);
    assert_eq!(verdict.lines().count(), 1, "one verdict line: {verdict}");
    (output.status.success(), verdict)
}

fn root_hash(checkpoint_json: &str) -> String {
    let checkpoint: serde_json::Value = serde_json::from_str(checkpoint_json).expect("json");
    checkpoint["root_hash"].as_str().expect("a root").to_owned()
}

/// A served demo of Cuneo with a signed checkpoint of its 1188 entries and 3 entries after it:
/// (the export, the public key, the checkpoint file as the service answered it).
fn signed_export_after_a_checkpoint(dir: &Path) -> (PathBuf, String, PathBuf) {
    let database = sqlite_url(dir);
    load_demo(&database);
    let (server, port) = serve(&database, &dir.join("signing.key"));
    let (_, public_key) = published_key(port);
    let trusted = dir.join("trusted.json");
    std::fs::write(&trusted, checkpoint_now(port)).expect("written");
    grow(port, 3);
    drop(server);
    let file = dir.join("cuneo.jsonl");
    export(&database, CUNEO, &file);
    (file, public_key, trusted)
}

#[test]
fn an_export_extending_a_trusted_checkpoint_verifies_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, public_key, trusted) = signed_export_after_a_checkpoint(dir.path());
    let trusted_arg = trusted.to_str().expect("utf-8");
    let (ok, verdict) = verify_with(
        &file,
        &[
            "--public-key",
            &public_key,
            "--trusted-checkpoint",
            trusted_arg,
        ],
    );
    assert!(ok, "{verdict}");
    assert!(
        verdict.starts_with(&format!("verified: contract {CUNEO}, 1191 entries, root ")),
        "{verdict}"
    );
    assert!(
        verdict.ends_with(", extends trusted checkpoint at size 1188 (signature checked)\n"),
        "{verdict}"
    );
    // The checkpoint line copied out of an export serves as well as the bare object.
    let line = dir.path().join("trusted-line.json");
    let first = checkpoint_lines(&file)
        .into_iter()
        .next()
        .expect("a checkpoint");
    std::fs::write(&line, first).expect("written");
    let (ok, verdict) = verify_with(
        &file,
        &["--trusted-checkpoint", line.to_str().expect("utf-8")],
    );
    assert!(
        ok && verdict.contains(", extends trusted checkpoint at size 1188\n"),
        "{verdict}"
    );
}

#[test]
fn an_export_that_does_not_extend_the_trusted_checkpoint_fails_naming_both_tree_heads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, public_key, trusted) = signed_export_after_a_checkpoint(dir.path());
    let trusted_arg = trusted.to_str().expect("utf-8");
    let trusted_root = root_hash(&std::fs::read_to_string(&trusted).expect("trusted"));

    // Another history of the same size: entry 17 rewritten with its leaf hash recomputed and
    // the export's checkpoints left out, so that the export is consistent in itself.
    let text = std::fs::read_to_string(&file).expect("export");
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with("{\"checkpoint\""))
        .map(str::to_owned)
        .collect();
    let mut line: serde_json::Value = serde_json::from_str(&lines[16]).expect("json");
    let mut entry: esito_log::Entry =
        serde_json::from_value(line["entry"].take()).expect("an entry");
    entry.payload["name"] = serde_json::json!("Another provider");
    lines[16] = serde_json::to_string(&esito_log::ExportLine::for_entry(entry)).expect("a line");
    let rewritten = dir.path().join("rewritten.jsonl");
    std::fs::write(&rewritten, lines.join("\n") + "\n").expect("written");
    let (ok, verdict) = verify_with(&rewritten, &[]);
    assert!(
        ok,
        "consistent in itself, the export alone passes: {verdict}"
    );
    let (ok, verdict) = verify_with(&rewritten, &["--trusted-checkpoint", trusted_arg]);
    assert!(!ok, "{verdict}");
    assert!(
        verdict.starts_with(
            "FAILED: export does not extend the trusted checkpoint: tree head at size 1188 is "
        ) && verdict.ends_with(&format!(", trusted root is {trusted_root}\n")),
        "{verdict}"
    );

    // A trusted checkpoint larger than the export: the export was cut short.
    let short = dir.path().join("short.jsonl");
    std::fs::write(&short, lines[..900].join("\n") + "\n").expect("written");
    let (ok, verdict) = verify_with(&short, &["--trusted-checkpoint", trusted_arg]);
    assert!(
        !ok && verdict
            == "FAILED: export does not extend the trusted checkpoint: the checkpoint is at size 1188, the export holds only 900 entries\n",
        "{verdict}"
    );

    // A trusted checkpoint whose size was edited is not the one the service signed.
    let edited = dir.path().join("edited.json");
    let text = std::fs::read_to_string(&trusted).expect("trusted");
    std::fs::write(&edited, text.replace("\"size\":1188", "\"size\":900")).expect("written");
    let (ok, verdict) = verify_with(
        &file,
        &[
            "--public-key",
            &public_key,
            "--trusted-checkpoint",
            edited.to_str().expect("utf-8"),
        ],
    );
    assert!(
        !ok && verdict.starts_with(
            "FAILED: trusted checkpoint at size 900: the signature does not match the checkpoint under key "
        ),
        "{verdict}"
    );
}

#[test]
fn checkpoints_signed_before_and_after_a_key_rotation_verify_each_with_its_own_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    load_demo(&database);
    let (server, port) = serve(&database, &dir.path().join("old.key"));
    let (old_id, old_key) = published_key(port);
    checkpoint_now(port);
    drop(server);
    let key_file = dir.path().join("old.key");
    let rotated = esito(&[
        "keys",
        "rotate-signing",
        "--signing-key",
        key_file.to_str().expect("utf-8"),
        "--database",
        &database,
    ]);
    assert!(rotated.status.success(), "{rotated:?}");
    let (server, port) = serve(&database, &key_file);
    let (new_id, new_key) = published_key(port);
    assert_ne!(old_id, new_id, "a rotation, a new key");
    grow(port, 2);
    checkpoint_now(port);
    drop(server);
    let file = dir.path().join("cuneo.jsonl");
    export(&database, CUNEO, &file);
    let checkpoints = checkpoint_lines(&file).len();

    let (ok, verdict) = verify_with(&file, &["--public-key", &new_key, "--public-key", &old_key]);
    assert!(ok, "{verdict}");
    assert!(
        verdict.contains(&format!(
            ", {checkpoints} checkpoints ({checkpoints} signatures checked)"
        )),
        "{verdict}"
    );
    let (ok, verdict) = verify_with(&file, &["--public-key", &new_key]);
    assert!(
        !ok && verdict.starts_with("FAILED: checkpoint at size 1188: signed by key ")
            && verdict.ends_with(&format!(
                "{old_id}, which is none of the keys given ({new_id})\n"
            )),
        "{verdict}"
    );
}

/// The stored entry with the first string of its payload changed, written canonically again:
/// what someone editing the stored entry would do.
fn edited_entry(entry: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(entry).expect("a stored entry");
    let payload = value["payload"].as_object_mut().expect("a payload object");
    let field = payload
        .values_mut()
        .find(|v| v.is_string())
        .expect("a string in the payload");
    *field = serde_json::json!(format!("{} (edited)", field.as_str().expect("a string")));
    esito_log::canonicalize(&value)
}

/// The frontier of the tree over `leaves`, as `contract_heads` stores it.
fn frontier_bytes(leaves: &[Vec<u8>]) -> Vec<u8> {
    let leaves: Vec<esito_log::Hash> = leaves
        .iter()
        .map(|leaf| esito_log::Hash::from_slice(leaf).expect("32 bytes"))
        .collect();
    esito_log::Frontier::from_leaves(&leaves).to_bytes()
}

/// What a tamperer with the database does to the entry at `position` of Cuneo.
#[derive(Clone, Copy)]
enum Tampering {
    /// Edits the payload only.
    Payload,
    /// Edits the payload and rewrites the stored leaf hash and the head's frontier to match,
    /// so that the log is consistent in itself.
    PayloadAndHashes,
    /// As `PayloadAndHashes`, and deletes the checkpoints that would give it away.
    PayloadHashesAndCheckpoints,
}

const TAMPERED_POSITION: i64 = 17;

/// On SQLite: the refusing trigger is dropped, the rows are updated, the trigger is put back.
async fn tamper_with_sqlite(database: &str, tampering: Tampering) {
    use sqlx::{Connection, Row};
    let mut db = sqlx::SqliteConnection::connect(database)
        .await
        .expect("the database file opens");
    let entry: String =
        sqlx::query("SELECT entry FROM log_entries WHERE contract_id = ? AND position = ?")
            .bind(CUNEO)
            .bind(TAMPERED_POSITION)
            .fetch_one(&mut db)
            .await
            .expect("the entry")
            .get(0);
    let edited = edited_entry(&entry);
    let update = "UPDATE log_entries SET entry = ? WHERE contract_id = ? AND position = ?";
    let refused = sqlx::query(update)
        .bind(&edited)
        .bind(CUNEO)
        .bind(TAMPERED_POSITION)
        .execute(&mut db)
        .await
        .expect_err("the log refuses an UPDATE");
    assert!(refused.to_string().contains("append-only"), "{refused}");
    sqlx::query("DROP TRIGGER log_entries_refuse_update")
        .execute(&mut db)
        .await
        .expect("the owner of the file drops the trigger");
    sqlx::query(update)
        .bind(&edited)
        .bind(CUNEO)
        .bind(TAMPERED_POSITION)
        .execute(&mut db)
        .await
        .expect("the UPDATE goes through");
    if !matches!(tampering, Tampering::Payload) {
        let leaf = esito_log::leaf_hash(edited.as_bytes());
        sqlx::query("UPDATE log_entries SET leaf_hash = ? WHERE contract_id = ? AND position = ?")
            .bind(leaf.as_bytes().to_vec())
            .bind(CUNEO)
            .bind(TAMPERED_POSITION)
            .execute(&mut db)
            .await
            .expect("the leaf hash rewritten");
        let leaves: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT leaf_hash FROM log_entries WHERE contract_id = ? ORDER BY position",
        )
        .bind(CUNEO)
        .fetch_all(&mut db)
        .await
        .expect("the leaves");
        sqlx::query("UPDATE contract_heads SET frontier = ? WHERE contract_id = ?")
            .bind(frontier_bytes(&leaves))
            .bind(CUNEO)
            .execute(&mut db)
            .await
            .expect("the head rewritten");
    }
    if matches!(tampering, Tampering::PayloadHashesAndCheckpoints) {
        sqlx::query("DELETE FROM checkpoints WHERE contract_id = ?")
            .bind(CUNEO)
            .execute(&mut db)
            .await
            .expect("the checkpoints deleted");
    }
    sqlx::query(
        "CREATE TRIGGER log_entries_refuse_update BEFORE UPDATE ON log_entries
         BEGIN SELECT RAISE(ABORT, 'log_entries is append-only: UPDATE is refused'); END",
    )
    .execute(&mut db)
    .await
    .expect("the trigger put back");
    db.close().await.expect("closed");
}

/// On PostgreSQL, as a superuser: triggers are switched off for the session
/// (`session_replication_role = replica`), which leaves the schema as it was.
async fn tamper_with_postgres(database: &str, tampering: Tampering) {
    use sqlx::{Connection, Row};
    let mut db = sqlx::PgConnection::connect(database)
        .await
        .expect("PostgreSQL answers");
    let entry: String =
        sqlx::query("SELECT entry FROM log_entries WHERE contract_id = $1 AND position = $2")
            .bind(CUNEO)
            .bind(TAMPERED_POSITION)
            .fetch_one(&mut db)
            .await
            .expect("the entry")
            .get(0);
    let edited = edited_entry(&entry);
    let update = "UPDATE log_entries SET entry = $1 WHERE contract_id = $2 AND position = $3";
    let refused = sqlx::query(update)
        .bind(&edited)
        .bind(CUNEO)
        .bind(TAMPERED_POSITION)
        .execute(&mut db)
        .await
        .expect_err("the log refuses an UPDATE");
    assert!(refused.to_string().contains("append-only"), "{refused}");
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut db)
        .await
        .expect("a superuser switches triggers off");
    sqlx::query(update)
        .bind(&edited)
        .bind(CUNEO)
        .bind(TAMPERED_POSITION)
        .execute(&mut db)
        .await
        .expect("the UPDATE goes through");
    if !matches!(tampering, Tampering::Payload) {
        // The leaf hash computed by the database itself: SHA-256(0x00 || entry).
        sqlx::query(
            "UPDATE log_entries SET leaf_hash = sha256('\\x00'::bytea || convert_to(entry, 'UTF8'))
             WHERE contract_id = $1 AND position = $2",
        )
        .bind(CUNEO)
        .bind(TAMPERED_POSITION)
        .execute(&mut db)
        .await
        .expect("the leaf hash rewritten");
        let leaves: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT leaf_hash FROM log_entries WHERE contract_id = $1 ORDER BY position",
        )
        .bind(CUNEO)
        .fetch_all(&mut db)
        .await
        .expect("the leaves");
        assert_eq!(
            leaves[TAMPERED_POSITION as usize - 1],
            esito_log::leaf_hash(edited.as_bytes()).as_bytes().to_vec(),
            "the database hashed the leaf as RFC 9162 does"
        );
        sqlx::query("UPDATE contract_heads SET frontier = $1 WHERE contract_id = $2")
            .bind(frontier_bytes(&leaves))
            .bind(CUNEO)
            .execute(&mut db)
            .await
            .expect("the head rewritten");
    }
    if matches!(tampering, Tampering::PayloadHashesAndCheckpoints) {
        sqlx::query("DELETE FROM checkpoints WHERE contract_id = $1")
            .bind(CUNEO)
            .execute(&mut db)
            .await
            .expect("the checkpoints deleted");
    }
    sqlx::query("RESET session_replication_role")
        .execute(&mut db)
        .await
        .expect("triggers back on");
    db.close().await.expect("closed");
}

/// Loads the demo into `database`, has the service sign a checkpoint and grow the log past it,
/// then edits entry 17 behind the service's back in each of the three ways, checking after
/// each that `esito export` + `esito verify` catches it and names what failed.
fn tampering_behind_the_service_is_caught(
    database: &str,
    dir: &Path,
    tamper: impl Fn(&str, Tampering),
) {
    load_demo(database);
    let (server, port) = serve(database, &dir.join("signing.key"));
    let (_, public_key) = published_key(port);
    let checkpoint = checkpoint_now(port);
    let trusted_root = root_hash(&checkpoint);
    let trusted = dir.join("trusted.json");
    std::fs::write(&trusted, &checkpoint).expect("written");
    let trusted = trusted.to_str().expect("utf-8").to_owned();
    grow(port, 3);
    drop(server);
    let file = dir.join("exported.jsonl");
    let with_key_and_trust = [
        "--public-key",
        public_key.as_str(),
        "--trusted-checkpoint",
        trusted.as_str(),
    ];
    export(database, CUNEO, &file);
    let (ok, verdict) = verify_with(&file, &with_key_and_trust);
    assert!(ok, "before any tampering: {verdict}");

    tamper(database, Tampering::Payload);
    export(database, CUNEO, &file);
    let (ok, verdict) = verify_with(&file, &[]);
    assert!(
        !ok && verdict == "FAILED at position 17: leaf hash does not match the entry\n",
        "payload edited: {verdict}"
    );

    tamper(database, Tampering::PayloadAndHashes);
    export(database, CUNEO, &file);
    let (ok, verdict) = verify_with(&file, &["--public-key", &public_key]);
    assert!(
        !ok && verdict.starts_with("FAILED: checkpoint at size ")
            && verdict.ends_with(": root hash does not match the tree head of the entries\n"),
        "payload and hashes rewritten, caught by the checkpoint signed before: {verdict}"
    );
    let (ok, verdict) = verify_with(&file, &with_key_and_trust);
    assert!(
        !ok && verdict.starts_with(
            "FAILED: export does not extend the trusted checkpoint: tree head at size 1188 is "
        ) && verdict.ends_with(&format!(", trusted root is {trusted_root}\n")),
        "payload and hashes rewritten, caught by the trusted checkpoint: {verdict}"
    );

    tamper(database, Tampering::PayloadHashesAndCheckpoints);
    export(database, CUNEO, &file);
    assert!(checkpoint_lines(&file).is_empty(), "no checkpoint left");
    let (ok, verdict) = verify_with(&file, &["--public-key", &public_key]);
    assert!(
        ok,
        "without its checkpoints the rewritten log is consistent in itself: {verdict}"
    );
    let (ok, verdict) = verify_with(&file, &with_key_and_trust);
    assert!(
        !ok && verdict.starts_with(
            "FAILED: export does not extend the trusted checkpoint: tree head at size 1188 is "
        ) && verdict.ends_with(&format!(", trusted root is {trusted_root}\n")),
        "checkpoints deleted too, caught by the trusted checkpoint: {verdict}"
    );
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn a_payload_edited_in_sqlite_behind_the_service_is_caught_by_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    tampering_behind_the_service_is_caught(&sqlite_url(dir.path()), dir.path(), |db, how| {
        block_on(tamper_with_sqlite(db, how))
    });
}

#[test]
fn a_payload_edited_in_postgres_behind_the_service_is_caught_by_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    tampering_behind_the_service_is_caught(&postgres_url(), dir.path(), |db, how| {
        block_on(tamper_with_postgres(db, how))
    });
}

#[test]
fn the_evaluator_guide_runs_as_printed() {
    let script = sh_blocks("evaluator-guide.md");
    assert!(
        script.contains("esito verify") && script.contains("openssl pkeyutl -verify"),
        "the guide's examples were found"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, port) = serve_demo(dir.path());
    // The service signs at start, but not necessarily before it first answers.
    checkpoint_now(port);
    let bin = Path::new(ESITO).parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("ESITO_URL", format!("http://127.0.0.1:{port}"))
        .env("ESITO_DATABASE", sqlite_url(dir.path()))
        .output()
        .expect("bash runs");
    let printed = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the guide failed:\n{printed}");
    for expected in [
        "verified: contract cuneo-communal-living, 1188 entries, ",
        "verified: contract cuneo-communal-living, 1189 entries, ",
        "extends trusted checkpoint at size 1188 (signature checked)",
        "1188 leaves, tree head ",
        "Signature Verified Successfully",
        "entry 17 is in the tree of size 1189, which extends the checkpoint at size 1188",
        // The export fetched over HTTP is the database's.
        "\nsame\n",
        // So is the INDIGO document.
        "\nsame INDIGO\n",
    ] {
        assert!(printed.contains(expected), "{expected}:\n{printed}");
    }
}

fn body_json(response: &str) -> serde_json::Value {
    let body = response.split("\r\n\r\n").nth(1).expect("a body");
    serde_json::from_str(body).expect("a JSON body")
}

#[test]
fn a_rotated_signing_key_leaves_every_checkpoint_verifiable_with_the_key_that_signed_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("signing.key");
    let checkpoint = |port: u16| {
        let made = http_post(
            port,
            "/v1/contracts/cuneo-communal-living/checkpoints",
            "esito_demo_admin",
            "",
        )
        .expect("answered");
        assert!(made.starts_with("HTTP/1.1 201"), "{made}");
        serde_json::from_value::<esito_log::Checkpoint>(body_json(&made)).expect("a checkpoint")
    };
    let (server, port) = serve_demo(dir.path());
    let before = checkpoint(port);
    drop(server);
    let old_seed = std::fs::read_to_string(&key_file).expect("the key file");

    let database = sqlite_url(dir.path());
    let rotated = esito(&[
        "keys",
        "rotate-signing",
        "--signing-key",
        key_file.to_str().expect("utf-8"),
        "--database",
        &database,
    ]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(stdout(&rotated).contains(&format!("replaces {}", before.key_id)));
    let metadata = std::fs::metadata(&key_file).expect("the new key file");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    assert_ne!(std::fs::read_to_string(&key_file).expect("read"), old_seed);
    assert!(!dir.path().join("signing.key.new").exists());

    // The old key, restored from a copy, no longer starts a service.
    let old_file = dir.path().join("old.key");
    std::fs::write(&old_file, &old_seed).expect("written");
    let refused = esito(&[
        "serve",
        "--database",
        &database,
        "--listen",
        "127.0.0.1:0",
        "--signing-key",
        old_file.to_str().expect("utf-8"),
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("retired"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let (server, port) = serve_demo(dir.path());
    let after = checkpoint(port);
    assert_ne!(after.key_id, before.key_id);
    let listed = body_json(&http_get(port, "/v1/checkpoint-keys").expect("answered"));
    drop(server);
    let keys = listed["keys"].as_array().expect("a list");
    assert_eq!(keys.len(), 2, "{listed}");
    for checkpoint in [&before, &after] {
        let public_key = keys
            .iter()
            .find(|k| k["key_id"] == checkpoint.key_id.as_str())
            .and_then(|k| k["public_key"].as_str())
            .expect("the signing key is listed");
        esito_log::signing::verify_signature(checkpoint, public_key)
            .expect("verifies with the key that signed it");
    }
}
