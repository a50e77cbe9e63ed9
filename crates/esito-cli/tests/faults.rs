//! Faults under the real binary, with writers that keep writing: a PostgreSQL of the test's own
//! stopped and started again, then set read-only and writable again, a SQLite disk that fills
//! and is freed, and `esito serve` killed
//! with SIGKILL at random moments, twenty times on each store. While the database cannot
//! serve, every answer is 503 within 2 s and `/readyz` tells no database text; once it is back
//! the same service writes again; and every acknowledged event is in an export that verifies,
//! once, at positions without a gap.
//!
//! The tests run one at a time (`ONE_AT_A_TIME`): their bounds are for a service that has the
//! machine's cores, not one that shares them with another fault.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
/// What the service must answer within while its database cannot serve.
const FAULT_ANSWER_MAX: Duration = Duration::from_secs(2);
/// The detail `/readyz` gives a caller without an admin key.
const NOT_READY: &str = "not ready: the database cannot serve now";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

fn esito(args: &[&str]) -> Output {
    Command::new(ESITO).args(args).output().expect("esito runs")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// One answer: its status, headers and body, when it was asked and how long it took.
struct Reply {
    status: u16,
    head: String,
    body: String,
    began: Instant,
    took: Duration,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// `None` when nothing answered (the service is not listening, or died mid-answer).
fn request(port: u16, method: &str, path: &str, key: Option<&str>, body: &str) -> Option<Reply> {
    let began = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(40)))
        .ok()?;
    let authorization = key.map_or(String::new(), |key| {
        format!("Authorization: Bearer {key}\r\n")
    });
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{authorization}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let took = began.elapsed();
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
        began,
        took,
    })
}

/// `esito serve`, stopped (SIGKILL) however the test ends; its log in a file of its own.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(database: &str, dir: &Path) -> Server {
        let port = free_port();
        let log = dir.join(format!("serve-{port}.log"));
        let child = spawn_serve(
            database,
            port,
            &dir.join("signing.key"),
            &[],
            Stdio::from(std::fs::File::create(&log).expect("a log file")),
        );
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while request(port, "GET", "/healthz", None, "").is_none() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("esito serve exited with {status}: {}", server.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "esito serve did not answer within 60 s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A new admin key of every contract, made by `esito keys create`.
fn admin_key(database: &str) -> String {
    let output = esito(&["keys", "create", "--role", "admin", "--database", database]);
    assert!(
        output.status.success(),
        "keys create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn register(port: u16, key: &str, contract: &str) {
    let body = format!(
        r#"{{"contract_id":"{contract}","event_id":"{}","occurred_at":"2023-07-01T09:00:00+02:00","title":"Faults","template":"cuneo","payer":"Comune","operator":"Operatore","evaluator":"Valutatore","term_start_on":"2023-07-01","term_end_on":"2024-12-31","period_kind":"quarter"}}"#,
        uuid::Uuid::new_v4()
    );
    let reply = request(port, "POST", "/v1/contracts", Some(key), &body).expect("an answer");
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// A centre access under `event_id`: its content follows from the id, so sending the same id
/// again is the same request.
fn access(event_id: &str) -> String {
    format!(
        r#"{{"event_id":"{event_id}","occurred_at":"2024-03-12T10:00:00+01:00","access_id":"acc-{event_id}","channel":"phone","need":"housing","outcome":{{"kind":"information_only"}}}}"#
    )
}

/// `esito serve` on `database`, `contract` registered under a new admin key, and `count`
/// writers on it that have had 50 writes acknowledged: the server and the writers.
fn serve_with_writers(
    database: &str,
    dir: &Path,
    contract: &str,
    count: usize,
) -> (Server, Writers) {
    let key = admin_key(database);
    let server = Server::start(database, dir);
    register(server.port, &key, contract);
    let writers = Writers::start(server.port, &key, contract, count, false);
    writers.wait_for(Duration::from_secs(60), "50 acknowledged", |s| {
        s.acknowledged.len() >= 50
    });
    (server, writers)
}

// ---------------------------------------------------------------------------------------------
// Writers

/// What the writers saw: the event ids acknowledged (201, a replay included), every answer's
/// (asked at, took, status), and anything that was neither.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    answers: Vec<(Instant, Duration, u16)>,
    unexpected: Vec<String>,
}

/// Writers that keep writing to one contract until told to stop or, with `stop_when_gone`,
/// until the service stops answering. A refused event (503) is sent again under the same id.
struct Writers {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Writers {
    fn start(port: u16, key: &str, contract: &str, count: usize, stop_when_gone: bool) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let path = format!("/v1/contracts/{contract}/commands/record-access");
        let threads = (0..count)
            .map(|_| {
                let (stop, seen, path, key) =
                    (stop.clone(), seen.clone(), path.clone(), key.to_owned());
                std::thread::spawn(move || {
                    let mut pending: Option<String> = None;
                    while !stop.load(Ordering::Acquire) {
                        let event_id = pending
                            .take()
                            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                        let Some(reply) =
                            request(port, "POST", &path, Some(&key), &access(&event_id))
                        else {
                            if stop_when_gone {
                                return;
                            }
                            seen.lock()
                                .expect("lock")
                                .unexpected
                                .push(format!("{event_id}: no answer"));
                            pending = Some(event_id);
                            std::thread::sleep(Duration::from_millis(50));
                            continue;
                        };
                        let mut seen = seen.lock().expect("lock");
                        seen.answers.push((reply.began, reply.took, reply.status));
                        match reply.status {
                            201 => seen.acknowledged.push(event_id),
                            503 if reply.header("retry-after").is_some()
                                && reply.json()["code"] == "unavailable" =>
                            {
                                drop(seen);
                                pending = Some(event_id);
                                std::thread::sleep(Duration::from_millis(50));
                            }
                            _ => seen
                                .unexpected
                                .push(format!("{event_id}: {} {}", reply.status, reply.body)),
                        }
                    }
                })
            })
            .collect();
        Writers {
            stop,
            seen,
            threads,
        }
    }

    fn acknowledged(&self) -> usize {
        self.seen.lock().expect("lock").acknowledged.len()
    }

    /// The answers asked for after `since`.
    fn answers_since(&self, since: Instant) -> Vec<(Instant, Duration, u16)> {
        let seen = self.seen.lock().expect("lock");
        seen.answers
            .iter()
            .filter(|a| a.0 >= since)
            .copied()
            .collect()
    }

    /// Waits until `enough` holds of what was seen, for at most `within`.
    fn wait_for(&self, within: Duration, what: &str, enough: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + within;
        while !enough(&self.seen.lock().expect("lock")) {
            assert!(Instant::now() < deadline, "waited {within:?} for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Release);
        for thread in self.threads {
            thread.join().expect("a writer ends");
        }
        std::mem::take(&mut *self.seen.lock().expect("lock"))
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Exports the contract with `esito export`, verifies it with `esito verify`, and checks that
/// its positions run 1..n, that no event id appears twice, and that every acknowledged id is
/// there. Returns n.
fn check_export(database: &str, contract: &str, acknowledged: &[String], dir: &Path) -> usize {
    let output = esito(&["export", "--contract", contract, "--database", database]);
    assert!(
        output.status.success(),
        "export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = dir.join(format!("{contract}.jsonl"));
    std::fs::write(&file, &output.stdout).expect("export written");
    let verdict = esito(&["verify", file.to_str().expect("a UTF-8 path")]);
    assert!(
        verdict.status.success(),
        "the export verifies: {}",
        String::from_utf8_lossy(&verdict.stdout)
    );
    let mut positions = Vec::new();
    let mut ids = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        // Checkpoint lines, which end the export, name no event.
        let Some(event_id) = value["entry"]["event_id"].as_str() else {
            continue;
        };
        positions.push(value["position"].as_u64().expect("a position"));
        assert!(ids.insert(event_id.to_owned()), "{event_id} appears once");
    }
    assert_eq!(
        positions,
        (1..=positions.len() as u64).collect::<Vec<_>>(),
        "positions run 1..n without a gap"
    );
    for event_id in acknowledged {
        assert!(
            ids.contains(event_id),
            "acknowledged {event_id} is in the log"
        );
    }
    positions.len()
}

/// `/readyz` is 503 with `Retry-After` within 2 s, and tells a caller without a key no
/// database text.
fn assert_not_ready(port: u16, server: &Server) {
    let reply = request(port, "GET", "/readyz", None, "").expect("readyz answers");
    assert_eq!(reply.status, 503, "{}\n{}", reply.body, server.log_text());
    assert!(
        reply.took < FAULT_ANSWER_MAX,
        "readyz took {:?}",
        reply.took
    );
    assert!(reply.header("retry-after").is_some(), "{}", reply.head);
    assert_eq!(reply.json()["detail"], NOT_READY, "{}", reply.body);
}

fn wait_until_ready(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let reply = request(port, "GET", "/readyz", None, "").expect("readyz answers");
        if reply.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not ready after {within:?}: {}",
            reply.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL stopped and started

/// A PostgreSQL cluster of the test's own, which it may stop and start: made with the local
/// binaries as `scripts/with-postgres.sh` makes one (as the `postgres` user when root),
/// stopped and removed when dropped.
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    fn start_new() -> OwnPostgres {
        let bin = ["/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin"]
            .iter()
            .map(PathBuf::from)
            .chain(
                std::fs::read_dir("/usr/lib/postgresql")
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|version| version.path().join("bin")),
            )
            .find(|bin| bin.join("initdb").exists())
            .expect("PostgreSQL's initdb and pg_ctl, as scripts/with-postgres.sh finds them");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(chown.success());
        }
        let postgres = OwnPostgres {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = postgres.data();
        postgres.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        postgres.start();
        postgres
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .output()
            .expect("the PostgreSQL tool runs");
        assert!(
            output.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(&self) {
        let (data, log) = (self.data(), self.dir.path().join("server.log"));
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                &log.display().to_string(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// The default fast shutdown: sessions are ended, then the server stops.
    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `statement` with psql, in a session that may write whatever the server's default.
    fn sql(&self, statement: &str) {
        let connection = format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres \
             options='-c default_transaction_read_only=off'",
            self.port
        );
        self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                &connection,
                "-c",
                statement,
            ],
        );
    }

    /// Every session, those open included, reads only (`default_transaction_read_only`), or
    /// writes again.
    fn set_read_only(&self, read_only: bool) {
        self.sql(&format!(
            "ALTER SYSTEM SET default_transaction_read_only = {}",
            if read_only { "on" } else { "off" }
        ));
        self.sql("SELECT pg_reload_conf()");
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(program)
                .args(args)
                .output()
        } else {
            Command::new(program).args(args).output()
        };
    }
}

#[test]
fn postgres_stopped_or_read_only_under_writers_is_503_within_2_s_and_the_service_writes_again_once_it_is_back(
) {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let postgres = OwnPostgres::start_new();
    let database = postgres.url();
    let (server, writers) = serve_with_writers(&database, dir.path(), "pg-faults", 4);
    let port = server.port;

    postgres.stop();
    let stopped_at = Instant::now();
    writers.wait_for(Duration::from_secs(10), "a 503 while down", |s| {
        s.answers.iter().any(|a| a.0 >= stopped_at && a.2 == 503)
    });
    for _ in 0..3 {
        assert_not_ready(port, &server);
    }
    let acknowledged_while_down = writers.acknowledged();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        writers.acknowledged(),
        acknowledged_while_down,
        "nothing is acknowledged while the database is down"
    );
    let restarting_at = Instant::now();
    let while_down: Vec<_> = writers
        .answers_since(stopped_at)
        .into_iter()
        .filter(|a| a.0 < restarting_at)
        .collect();
    assert!(
        while_down.len() >= 10,
        "{} answers while down",
        while_down.len()
    );
    for (_, took, status) in &while_down {
        assert_eq!(*status, 503, "while down, every answer is 503");
        assert!(*took < FAULT_ANSWER_MAX, "a 503 after {took:?}");
    }
    eprintln!(
        "PostgreSQL down: {} answers, all 503, the slowest after {:?}",
        while_down.len(),
        while_down.iter().map(|a| a.1).max().unwrap_or_default()
    );

    postgres.start();
    let before = writers.acknowledged();
    writers.wait_for(
        Duration::from_secs(30),
        "writes again once it is back",
        |s| s.acknowledged.len() >= before + 50,
    );
    wait_until_ready(port, Duration::from_secs(10));

    // Read-only (as a standby, or a server set so): 503 and not ready, then writes again.
    postgres.set_read_only(true);
    let read_only_at = Instant::now();
    writers.wait_for(Duration::from_secs(10), "a 503 while read-only", |s| {
        s.answers.iter().any(|a| a.0 >= read_only_at && a.2 == 503)
    });
    let first_refusal = writers
        .answers_since(read_only_at)
        .into_iter()
        .find(|a| a.2 == 503)
        .map_or(read_only_at, |a| a.0);
    assert_not_ready(port, &server);
    std::thread::sleep(Duration::from_secs(1));
    let refused_read_only = writers.answers_since(first_refusal);
    assert!(
        refused_read_only.len() >= 5,
        "{} answers",
        refused_read_only.len()
    );
    for (_, took, status) in &refused_read_only {
        assert_eq!(
            *status, 503,
            "once refused, every write is 503 while read-only"
        );
        assert!(*took < FAULT_ANSWER_MAX, "a 503 after {took:?}");
    }
    postgres.set_read_only(false);
    let before = writers.acknowledged();
    writers.wait_for(Duration::from_secs(30), "writes again once writable", |s| {
        s.acknowledged.len() >= before + 20
    });
    wait_until_ready(port, Duration::from_secs(10));
    eprintln!(
        "PostgreSQL read-only: {} answers from the first 503 on, all 503, the slowest after {:?}",
        refused_read_only.len(),
        refused_read_only
            .iter()
            .map(|a| a.1)
            .max()
            .unwrap_or_default()
    );

    let seen = writers.finish();
    assert!(
        seen.unexpected.is_empty(),
        "{:?}\n{}",
        seen.unexpected,
        server.log_text()
    );
    for (began, took, status) in &seen.answers {
        // Every answer asked while the server stopped, was down or came back took under 2 s.
        if *began >= stopped_at && *status == 503 {
            assert!(*took < FAULT_ANSWER_MAX, "a 503 after {took:?}");
        }
    }
    let entries = check_export(&database, "pg-faults", &seen.acknowledged, dir.path());
    // The registration, and each acknowledged access once (a retried id is acknowledged once).
    assert_eq!(
        seen.acknowledged.iter().collect::<BTreeSet<_>>().len(),
        seen.acknowledged.len()
    );
    assert!(entries > seen.acknowledged.len(), "{entries} entries");
}

// ---------------------------------------------------------------------------------------------
// SQLite on a disk that fills

/// A small tmpfs of the test's own, unmounted when dropped; `None` unless the test runs as
/// root and the mount succeeds.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        if !is_root() {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        mounted.success().then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("the filler opens");
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn sqlite_on_a_full_disk_is_503_within_2_s_and_writes_again_once_space_is_freed() {
    let _turn = one_at_a_time();
    let Some(disk) = Tmpfs::mount("16m") else {
        eprintln!("skipped: filling a disk needs a tmpfs, which only root may mount");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", disk.path().join("esito.db").display());
    let (server, writers) = serve_with_writers(&database, dir.path(), "full-disk", 3);
    let port = server.port;

    let filler = disk.fill();
    let filled_at = Instant::now();
    writers.wait_for(Duration::from_secs(60), "a 503 on the full disk", |s| {
        s.answers.iter().any(|a| a.0 >= filled_at && a.2 == 503)
    });
    // Whatever SQLite gave back as it failed is taken too.
    disk.fill();
    let full_at = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    assert_not_ready(port, &server);
    let while_full: Vec<_> = writers.answers_since(full_at);
    assert!(
        while_full.iter().filter(|a| a.2 == 503).count() >= 5,
        "{} answers while full",
        while_full.len()
    );
    for (_, took, status) in &while_full {
        assert_eq!(*status, 503, "while full, every write is 503");
        assert!(*took < FAULT_ANSWER_MAX, "a 503 after {took:?}");
    }
    eprintln!(
        "SQLite disk full: {} answers, all 503, the slowest after {:?}",
        while_full.len(),
        while_full.iter().map(|a| a.1).max().unwrap_or_default()
    );

    std::fs::remove_file(&filler).expect("the filler goes");
    let before = writers.acknowledged();
    writers.wait_for(
        Duration::from_secs(30),
        "writes again once space is freed",
        |s| s.acknowledged.len() >= before + 50,
    );
    wait_until_ready(port, Duration::from_secs(10));
    let seen = writers.finish();
    assert!(
        seen.unexpected.is_empty(),
        "{:?}\n{}",
        seen.unexpected,
        server.log_text()
    );
    for (began, took, status) in &seen.answers {
        if *began >= filled_at && *status == 503 {
            assert!(*took < FAULT_ANSWER_MAX, "a 503 after {took:?}");
        }
    }
    check_export(&database, "full-disk", &seen.acknowledged, dir.path());
}

// ---------------------------------------------------------------------------------------------
// SIGKILL, twenty times

const KILL_ROUNDS: usize = 20;

/// A pause of 150 to 900 ms, drawn at random.
fn random_pause() -> Duration {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    Duration::from_millis(150 + u64::from(u16::from_le_bytes([bytes[0], bytes[1]]) % 750))
}

/// Twenty rounds: the service started, four writers, SIGKILL at a random moment, then, on the
/// next start, every event acknowledged so far is in the log once, positions without a gap,
/// and the export verifies.
fn acknowledged_events_survive_sigkill_at_random_moments(database: &str) {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let key = admin_key(database);
    let mut acknowledged = Vec::new();
    let mut server = Server::start(database, dir.path());
    register(server.port, &key, "soak");
    for round in 0..KILL_ROUNDS {
        let writers = Writers::start(server.port, &key, "soak", 4, true);
        std::thread::sleep(random_pause());
        server.kill();
        let seen = writers.finish();
        assert!(
            seen.unexpected.is_empty(),
            "round {round}: {:?}\n{}",
            seen.unexpected,
            server.log_text()
        );
        acknowledged.extend(seen.acknowledged);
        server = Server::start(database, dir.path());
        let entries = check_export(database, "soak", &acknowledged, dir.path());
        // The registration, the acknowledged events, and at most the four in flight per kill.
        assert!(
            entries > acknowledged.len() && entries <= acknowledged.len() + 1 + 4 * (round + 1),
            "round {round}: {entries} entries for {} acknowledged",
            acknowledged.len()
        );
    }
    assert!(
        acknowledged.len() >= KILL_ROUNDS,
        "{} acknowledged over {KILL_ROUNDS} rounds",
        acknowledged.len()
    );
    eprintln!(
        "{KILL_ROUNDS} SIGKILLs on {}: {} events acknowledged, each in the log once",
        database.split(':').next().unwrap_or_default(),
        acknowledged.len()
    );
}

#[test]
fn acknowledged_events_survive_twenty_sigkills_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    acknowledged_events_survive_sigkill_at_random_moments(&esito_testkit::sqlite_url(dir.path()));
}

#[test]
fn acknowledged_events_survive_twenty_sigkills_on_postgres() {
    acknowledged_events_survive_sigkill_at_random_moments(&esito_testkit::blank_postgres_url(
        "soak",
    ));
}
