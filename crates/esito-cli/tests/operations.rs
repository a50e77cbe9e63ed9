//! Operations: the real `esito` binary as an operator runs it: its logs, passwords kept out of
//! every message, read commands that create nothing, readers that stop early, and backups
//! restored and verified against a checkpoint signed before them (docs/operations.md).

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use esito_testkit::sqlite_url;

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
const CUNEO: &str = "cuneo-communal-living";
const DEMO_ADMIN: &str = "esito_demo_admin";
const DEMO_OPERATOR: &str = "esito_demo_operator";

fn esito(args: &[&str]) -> Output {
    Command::new(ESITO).args(args).output().expect("esito runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn load_demo(database: &str) {
    succeeded(&esito(&["demo", "--database", database]), "demo");
}

fn export(database: &str, contract: &str, to: &Path) {
    let output = esito(&["export", "--contract", contract, "--database", database]);
    succeeded(&output, "export");
    std::fs::write(to, &output.stdout).expect("export written");
}

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
    /// Starts `esito serve` with `extra` arguments, standard error to `stderr`; returns once it
    /// answers `/healthz`.
    fn start(database: &str, signing_key: &Path, extra: &[&str], stderr: Stdio) -> Server {
        let port = free_port();
        let child = spawn_serve(database, port, signing_key, extra, stderr);
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.request("GET", "/healthz", &[], "").is_none() {
            assert!(
                Instant::now() < deadline,
                "the server did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One HTTP/1.1 request; the whole response, or `None` if the server does not answer.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<String> {
        http(self.port, method, path, headers, body)
    }

    /// SIGTERM, then waits for the graceful stop.
    fn stop(mut self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let status = self.child.wait().expect("the server exits");
        assert!(status.success(), "a graceful stop exits 0, got {status}");
    }
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn body(response: &str) -> &str {
    response.split("\r\n\r\n").nth(1).expect("a body")
}

/// The service's public key, base64, as `/v1/checkpoint-key` publishes it.
fn public_key(server: &Server) -> String {
    let response = server
        .request("GET", "/v1/checkpoint-key", &[], "")
        .expect("the key is published");
    let key: serde_json::Value = serde_json::from_str(body(&response)).expect("json");
    key["public_key"].as_str().expect("a key").to_owned()
}

/// A checkpoint of Cuneo signed now, as the service answers it.
fn checkpoint_now(server: &Server) -> String {
    let response = server
        .request(
            "POST",
            &format!("/v1/contracts/{CUNEO}/checkpoints"),
            &[("Authorization", &format!("Bearer {DEMO_ADMIN}"))],
            "",
        )
        .expect("the service answers");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    body(&response).to_owned()
}

/// Records one centre access in Cuneo, as the demo operator; whether it was acknowledged.
fn record_access(port: u16) -> bool {
    let body = format!(
        r#"{{"event_id":"{}","occurred_at":"2024-03-12T10:00:00+01:00","access_id":"acc-{}","channel":"phone","need":"housing","outcome":{{"kind":"information_only"}}}}"#,
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4().simple()
    );
    http(
        port,
        "POST",
        &format!("/v1/contracts/{CUNEO}/commands/record-access"),
        &[("Authorization", &format!("Bearer {DEMO_OPERATOR}"))],
        &body,
    )
    .is_some_and(|response| response.starts_with("HTTP/1.1 201"))
}

/// Writes to Cuneo from a thread until the returned flag is set; the count is of acknowledged
/// writes.
fn keep_writing(
    port: u16,
) -> (
    Arc<AtomicBool>,
    Arc<AtomicUsize>,
    std::thread::JoinHandle<()>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let (flag, count) = (stop.clone(), acknowledged.clone());
    let writer = std::thread::spawn(move || {
        while !flag.load(Ordering::SeqCst) {
            assert!(record_access(port), "a write during the backup failed");
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (stop, acknowledged, writer)
}

fn wait_for(count: &AtomicUsize, at_least: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::SeqCst) < at_least {
        assert!(Instant::now() < deadline, "the writer stalled");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `esito verify` of `file` against the trusted checkpoint and key: the verdict line.
fn verify_against(file: &Path, trusted: &Path, public_key: &str) -> Output {
    esito(&[
        "verify",
        file.to_str().expect("UTF-8"),
        "--public-key",
        public_key,
        "--trusted-checkpoint",
        trusted.to_str().expect("UTF-8"),
    ])
}

fn entries_in(export: &Path) -> usize {
    std::fs::read_to_string(export)
        .expect("export")
        .lines()
        .filter(|line| line.starts_with("{\"position\""))
        .count()
}

// Passwords.

#[test]
fn a_password_in_a_database_url_is_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unreachable = "postgres://u:SECRET@127.0.0.1:1/x";
    let signing_key = dir.path().join("signing.key");
    let serve = Command::new(ESITO)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            unreachable,
        ])
        .arg("--signing-key")
        .arg(&signing_key)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("esito serve starts");
    let outputs = [
        esito(&["backup", "--to", "copy.dump", "--database", unreachable]),
        esito(&[
            "export",
            "--contract",
            CUNEO,
            "--database",
            "postgress://u:SECRET@h/x",
        ]),
        serve.wait_with_output().expect("esito serve ends"),
    ];
    for output in &outputs {
        assert!(!output.status.success(), "no database, no success");
        let shown = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!shown.contains("SECRET"), "the password is shown: {shown}");
        assert!(
            shown.contains("u:***@"),
            "the URL is named, redacted: {shown}"
        );
    }
}

// Read commands create nothing.

#[test]
fn read_commands_on_a_missing_sqlite_file_fail_naming_it_and_create_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("mistyped.db");
    let database = format!("sqlite://{}", missing.display());
    let copy = dir.path().join("copy.db");
    let commands: [Vec<&str>; 5] = [
        vec!["export", "--contract", CUNEO],
        vec!["settle", "--contract", CUNEO, "--period", "2024-Q1"],
        vec!["indicators", "--contract", CUNEO, "--period", "2024-Q1"],
        vec!["rebuild"],
        vec!["backup", "--to", copy.to_str().expect("UTF-8")],
    ];
    for mut args in commands {
        args.extend(["--database", &database]);
        let output = esito(&args);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(&format!(
                "there is no SQLite database at {}",
                missing.display()
            )),
            "{args:?} names the path: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readable")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?} behind");
    }
}

// Readers that stop early.

/// Runs `esito args`, reads `read` bytes of its standard output and closes it: the command
/// must end quietly, with 0 or the status of SIGPIPE, and no panic.
fn stops_quietly_when_the_reader_goes(args: &[&str], read: usize) {
    let mut child = Command::new(ESITO)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("esito starts");
    let mut stdout = child.stdout.take().expect("piped");
    let mut first = vec![0; read];
    stdout.read_exact(&mut first).expect("the first bytes");
    drop(stdout);
    let output = child.wait_with_output().expect("esito ends");
    let stderr = text(&output.stderr);
    assert!(
        output.status.success() || output.status.signal() == Some(13),
        "{args:?}: {} {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?} says nothing: {stderr}");
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    load_demo(&database);
    let cremona = dir.path().join("cremona.jsonl");
    export(&database, "cremona-kcity", &cremona);
    let cremona = cremona.to_str().expect("UTF-8");
    // Cuneo's export is far larger than a pipe's buffer: it is still writing when the reader
    // goes. The documents are small: the reader goes before they are written.
    stops_quietly_when_the_reader_goes(
        &["export", "--contract", CUNEO, "--database", &database],
        10,
    );
    for args in [
        ["settle", "--offline", cremona, "--period", "2023-Q4"],
        ["indicators", "--offline", cremona, "--period", "2023-Q4"],
    ] {
        stops_quietly_when_the_reader_goes(&args, 0);
    }
}

// Logs.

#[test]
fn logs_on_a_pipe_are_json_lines_without_colour_and_each_request_has_an_access_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    load_demo(&database);
    let log = dir.path().join("stderr.log");
    let server = Server::start(
        &database,
        &dir.path().join("signing.key"),
        &[],
        Stdio::from(std::fs::File::create(&log).expect("log file")),
    );
    let answered = server
        .request(
            "GET",
            &format!("/v1/contracts/{CUNEO}/events?limit=1"),
            &[
                ("Authorization", &format!("Bearer {DEMO_ADMIN}")),
                ("X-Request-Id", "drill-7"),
            ],
            "",
        )
        .expect("answered");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(answered
        .to_ascii_lowercase()
        .contains("x-request-id: drill-7"));
    server.stop();

    let logs = std::fs::read_to_string(&log).expect("logs");
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes in a file: {logs}"
    );
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "serving"),
        "the service's own lines: {logs}"
    );
    let access = lines
        .iter()
        .find(|l| l["request_id"] == "drill-7")
        .unwrap_or_else(|| panic!("an access line: {logs}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["route"], "/v1/contracts/{contract}/events");
    assert_eq!(access["status"], 200);
    let key_id: String = esito_api::auth::key_hash(DEMO_ADMIN)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(access["key_id"], key_id.as_str());
    assert!(!logs.contains(DEMO_ADMIN), "the key itself is never logged");
    assert!(!logs.contains("limit=1"), "nor the query string");
}

#[test]
fn text_logs_written_to_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("stderr.log");
    let server = Server::start(
        &sqlite_url(dir.path()),
        &dir.path().join("signing.key"),
        &["--log-format", "text"],
        Stdio::from(std::fs::File::create(&log).expect("log file")),
    );
    server.stop();
    let logs = std::fs::read_to_string(&log).expect("logs");
    assert!(logs.contains("serving"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes in a file: {logs:?}"
    );
    assert!(
        logs.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
        "text, as asked: {logs}"
    );
}

// Backup and restore.

/// The demo loaded into `database` and served, signing with the key in `dir`: the server, its
/// public key, and `dir/trusted.json`, a checkpoint of Cuneo it signed now.
fn serve_the_demo_with_a_trusted_checkpoint(
    database: &str,
    dir: &tempfile::TempDir,
) -> (Server, String, PathBuf) {
    load_demo(database);
    let server = Server::start(
        database,
        &dir.path().join("signing.key"),
        &[],
        Stdio::null(),
    );
    let public_key = public_key(&server);
    let trusted = dir.path().join("trusted.json");
    std::fs::write(&trusted, checkpoint_now(&server)).expect("written");
    (server, public_key, trusted)
}

/// Cuneo's log in the restored `database`, exported to `file`, extends the checkpoint in
/// `trusted` (the demo's 1188 entries), its signature checked with `public_key`.
fn export_extends_the_trusted_checkpoint(
    database: &str,
    file: &Path,
    trusted: &Path,
    public_key: &str,
) {
    export(database, CUNEO, file);
    let verdict = verify_against(file, trusted, public_key);
    succeeded(&verdict, "verify the restored export");
    assert!(
        text(&verdict.stdout)
            .contains(", extends trusted checkpoint at size 1188 (signature checked)"),
        "{}",
        text(&verdict.stdout)
    );
}

#[test]
fn a_sqlite_backup_taken_during_writes_restores_to_a_log_extending_the_checkpoint_signed_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    let (server, public_key, trusted) = serve_the_demo_with_a_trusted_checkpoint(&database, &dir);

    let (stop, acknowledged, writer) = keep_writing(server.port);
    wait_for(&acknowledged, 5);
    let before = acknowledged.load(Ordering::SeqCst);
    let backup = dir.path().join("backup.db");
    let output = esito(&[
        "backup",
        "--database",
        &database,
        "--to",
        backup.to_str().expect("UTF-8"),
    ]);
    let after = acknowledged.load(Ordering::SeqCst);
    succeeded(&output, "backup");
    wait_for(&acknowledged, after + 5);
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("the writer ends");

    // A second backup to the same file is refused and leaves it as it was.
    let taken = std::fs::read(&backup).expect("the backup");
    let again = esito(&[
        "backup",
        "--database",
        &database,
        "--to",
        backup.to_str().expect("UTF-8"),
    ]);
    assert!(!again.status.success(), "a backup never overwrites a file");
    assert!(
        text(&again.stderr).contains("the file exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read(&backup).expect("the backup"), taken);
    server.stop();

    // Restore: the copy becomes the database of a new place.
    let restored_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&backup, restored_dir.path().join("esito.db")).expect("copied");
    let restored = sqlite_url(restored_dir.path());
    let file = restored_dir.path().join("cuneo.jsonl");
    export_extends_the_trusted_checkpoint(&restored, &file, &trusted, &public_key);
    // One consistent snapshot: every write acknowledged before the backup began, and none but
    // those committed before it ended (the one writer has at most one more in flight).
    let entries = entries_in(&file);
    assert!(
        (1188 + before..=1188 + after + 1).contains(&entries),
        "{entries} entries: {before} written before the backup began, {after} before it ended"
    );
}

/// The PostgreSQL client tools beside the server `scripts/with-postgres.sh` runs.
fn postgres_tool(name: &str) -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|versions| {
            versions
                .filter_map(Result::ok)
                .map(|version| version.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates.reverse();
    candidates.push(PathBuf::from("/usr/local/pgsql/bin").join(name));
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn run_tool(name: &str, args: &[&str]) {
    let output = Command::new(postgres_tool(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} runs (the PostgreSQL client tools): {e}"));
    succeeded(&output, name);
}

#[test]
fn a_postgres_dump_taken_during_writes_restores_to_a_log_extending_the_checkpoint_signed_before() {
    let base = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must name a PostgreSQL: run `make test` or `scripts/with-postgres.sh`",
    );
    let database = esito_testkit::blank_postgres_url("ops");
    let schema = database
        .rsplit_once("options[search_path]=")
        .expect("a scratch schema")
        .1
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, public_key, trusted) = serve_the_demo_with_a_trusted_checkpoint(&database, &dir);

    // As docs/operations.md says: pg_dump's custom format, while the service writes.
    let (stop, acknowledged, writer) = keep_writing(server.port);
    wait_for(&acknowledged, 5);
    let dump = dir.path().join("esito.dump");
    run_tool(
        "pg_dump",
        &[
            "--format=custom",
            "--schema",
            &schema,
            "--file",
            dump.to_str().expect("UTF-8"),
            &base,
        ],
    );
    let after = acknowledged.load(Ordering::SeqCst);
    wait_for(&acknowledged, after + 5);
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("the writer ends");
    server.stop();

    // Restore into a new, empty database.
    let restored_name = format!("restored_{schema}");
    run_tool(
        "psql",
        &[&base, "-c", &format!("CREATE DATABASE {restored_name}")],
    );
    let (server_url, _) = base.rsplit_once('/').expect("a database in the URL");
    let restored_base = format!("{server_url}/{restored_name}");
    run_tool(
        "pg_restore",
        &[
            "--no-owner",
            "--dbname",
            &restored_base,
            dump.to_str().expect("UTF-8"),
        ],
    );
    let restored = format!("{restored_base}?options[search_path]={schema}");
    let file = dir.path().join("cuneo.jsonl");
    export_extends_the_trusted_checkpoint(&restored, &file, &trusted, &public_key);
    assert!(
        (1188..=1188 + after + 1).contains(&entries_in(&file)),
        "the dump holds no write acknowledged after it ended"
    );
    run_tool(
        "psql",
        &[&base, "-c", &format!("DROP DATABASE {restored_name}")],
    );
}
