//! Data in and out with the real `esito` binary: the export fetched from a running service
//! (`esito export --url`) is the database's export byte for byte, and verifies.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use esito_testkit::sqlite_url;

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
const CUNEO: &str = "cuneo-communal-living";
const DEMO_EVALUATOR: &str = "esito_demo_evaluator";
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
    /// `esito serve` on `database`; returns once Cuneo has the checkpoint the service signs at
    /// start, so that nothing more is signed while the test reads.
    fn start(database: &str, signing_key: &Path) -> Server {
        let port = free_port();
        let child = spawn_serve(database, port, signing_key, &[], Stdio::null());
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        let latest = format!("/v1/contracts/{CUNEO}/checkpoints/latest");
        while !server
            .get(&latest, DEMO_EVALUATOR)
            .is_some_and(|answer| answer.starts_with("HTTP/1.1 200"))
        {
            assert!(Instant::now() < deadline, "no checkpoint within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One GET with a bearer key; the whole answer, or `None` if the server does not answer.
    fn get(&self, path: &str, key: &str) -> Option<String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {key}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        Some(answer)
    }
}

#[test]
fn the_export_fetched_over_http_is_the_databases_byte_for_byte_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let server = Server::start(&database, &dir.path().join("signing.key"));

    let fetched = dir.path().join("fetched.jsonl");
    let output = esito(&[
        "export",
        "--contract",
        CUNEO,
        "--url",
        &server.url(),
        "--key",
        DEMO_EVALUATOR,
        "--output",
        fetched.to_str().expect("UTF-8"),
    ]);
    succeeded(&output, "export --url");
    let from_database = esito(&["export", "--contract", CUNEO, "--database", &database]);
    succeeded(&from_database, "export --database");
    let fetched_bytes = std::fs::read(&fetched).expect("the file was saved");
    assert!(
        fetched_bytes == from_database.stdout,
        "the fetched export differs from the database's: {} and {} bytes",
        fetched_bytes.len(),
        from_database.stdout.len()
    );
    assert!(text(&fetched_bytes).contains("{\"checkpoint\":"));
    let verdict = esito(&["verify", fetched.to_str().expect("UTF-8")]);
    succeeded(&verdict, "verify");
    assert!(
        text(&verdict.stdout).starts_with("verified: contract cuneo-communal-living, 1188 entries"),
        "{}",
        text(&verdict.stdout)
    );

    // To standard output, only what follows position 1186: two entries and the checkpoint.
    let tail = esito(&[
        "export",
        "--contract",
        CUNEO,
        "--url",
        &server.url(),
        "--key",
        DEMO_EVALUATOR,
        "--after",
        "1186",
    ]);
    succeeded(&tail, "export --after");
    let lines: Vec<String> = text(&tail.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("{\"position\":1187,"), "{}", lines[0]);
    assert!(lines[2].starts_with("{\"checkpoint\":"), "{}", lines[2]);

    // The operator may not export: the command fails with the service's reason, and leaves no
    // file behind.
    let refused_file = dir.path().join("refused.jsonl");
    let refused = esito(&[
        "export",
        "--contract",
        CUNEO,
        "--url",
        &server.url(),
        "--key",
        DEMO_OPERATOR,
        "--output",
        refused_file.to_str().expect("UTF-8"),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("403 Forbidden: the operator role may not export the log"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!refused_file.exists());
    assert!(!dir.path().join("refused.jsonl.partial").exists());
}

/// The body of a whole HTTP answer read with `Connection: close`.
fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").expect("a body").1
}

#[test]
fn verify_trusts_a_checkpoint_as_a_c2sp_note_and_refuses_one_with_a_byte_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let server = Server::start(&database, &dir.path().join("signing.key"));
    let answer = server
        .get(&format!("/v1/contracts/{CUNEO}/checkpoint"), DEMO_EVALUATOR)
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let note = body(&answer).to_owned();
    assert!(
        note.starts_with("esito/contracts/cuneo-communal-living\n1188\n"),
        "{note}"
    );
    let key: serde_json::Value = serde_json::from_str(body(
        &server
            .get("/v1/checkpoint-key", DEMO_EVALUATOR)
            .expect("answered"),
    ))
    .expect("json");
    let public_key = key["public_key"].as_str().expect("a key").to_owned();
    let vkey = body(
        &server
            .get(
                &format!("/v1/contracts/{CUNEO}/checkpoint/verifier-key"),
                DEMO_EVALUATOR,
            )
            .expect("answered"),
    )
    .trim_end()
    .to_owned();
    let export = dir.path().join("cuneo.jsonl");
    let exported = esito(&["export", "--contract", CUNEO, "--database", &database]);
    succeeded(&exported, "export");
    std::fs::write(&export, &exported.stdout).expect("written");
    let trusted = dir.path().join("trusted.note");
    std::fs::write(&trusted, &note).expect("written");
    let verify = |key: &str, trusted: &Path| {
        esito(&[
            "verify",
            export.to_str().expect("UTF-8"),
            "--public-key",
            key,
            "--trusted-checkpoint",
            trusted.to_str().expect("UTF-8"),
        ])
    };
    for key in [public_key.as_str(), vkey.as_str()] {
        let verdict = verify(key, &trusted);
        succeeded(&verdict, "verify against the note");
        assert!(
            text(&verdict.stdout)
                .contains(", extends trusted checkpoint at size 1188 (signature checked)"),
            "{}",
            text(&verdict.stdout)
        );
    }
    // The size line says 1187: the signature no longer matches.
    let changed = dir.path().join("changed.note");
    std::fs::write(&changed, note.replacen("\n1188\n", "\n1187\n", 1)).expect("written");
    let verdict = verify(&public_key, &changed);
    assert!(!verdict.status.success());
    assert!(
        text(&verdict.stdout).starts_with("FAILED: trusted checkpoint note: the signature of esito/contracts/cuneo-communal-living"),
        "{}{}",
        text(&verdict.stdout),
        text(&verdict.stderr)
    );
}

#[test]
fn indicators_and_settlements_print_as_tables_with_the_json_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let run = |command: &str, format: &str| {
        let output = esito(&[
            command,
            "--contract",
            CUNEO,
            "--period",
            "2024-Q1",
            "--database",
            &database,
            "--format",
            format,
        ]);
        succeeded(&output, command);
        text(&output.stdout)
    };
    let json: serde_json::Value = serde_json::from_str(&run("indicators", "json")).expect("json");
    let table = run("indicators", "csv");
    let lines: Vec<&str> = table.lines().collect();
    let indicators = json["indicators"].as_array().expect("indicators");
    assert_eq!(lines.len(), 1 + indicators.len());
    assert!(
        lines[0].starts_with("contract_id,period,as_of,indicator,"),
        "{}",
        lines[0]
    );
    for (line, indicator) in lines[1..].iter().zip(indicators) {
        let value = match &indicator["value"] {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let id = indicator["id"].as_str().expect("an id");
        assert!(line.contains(&format!(",{id},")), "{line}");
        assert!(
            line.ends_with(&format!(
                ",{value},{}",
                indicator["definitions_sha256"].as_str().expect("sha")
            )),
            "{line} {value}"
        );
    }
    let document: serde_json::Value = serde_json::from_str(&run("settle", "json")).expect("json");
    let table = run("settle", "csv");
    let total = table
        .lines()
        .find(|line| line.contains(",total,"))
        .expect("a total row");
    assert!(
        total.ends_with(&format!(
            ",total,,{},{},",
            document["total"].as_str().expect("a total"),
            document["currency"].as_str().expect("a currency")
        )),
        "{total}"
    );
}

/// Lines of `contract`'s export in `database`.
fn exported_lines(database: &str) -> usize {
    let output = esito(&["export", "--contract", CUNEO, "--database", database]);
    succeeded(&output, "export");
    text(&output.stdout).lines().count()
}

#[test]
fn import_reports_every_bad_row_writes_nothing_then_writes_the_fixed_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    succeeded(&esito(&["demo", "--database", &database]), "demo");
    let before = exported_lines(&database);
    let file = dir.path().join("accessi.csv");
    let report = dir.path().join("problems.csv");
    let rows = |bad: bool| {
        let mut csv = String::from(
            "\u{feff}occurred_at;access_id;channel;need;outcome.kind;outcome.service\n",
        );
        for row in 1..=300 {
            let (channel, date) = match row {
                7 if bad => ("fax", "12/03/2024 10:00"),
                250 if bad => ("phone", "12/13/2024 10:00"),
                _ => ("phone", "12/03/2024 10:00"),
            };
            let outcome = if row % 2 == 0 {
                "referred;servizi sociali"
            } else {
                "information_only;"
            };
            csv.push_str(&format!(
                "{date};acc-import-{row};{channel};housing;{outcome}\n"
            ));
        }
        csv
    };
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            file.to_str().expect("UTF-8"),
            "--contract",
            CUNEO,
            "--command",
            "record-access",
            "--database",
            &database,
            "--report",
            report.to_str().expect("UTF-8"),
        ];
        args.extend_from_slice(extra);
        esito(&args)
    };
    std::fs::write(&file, rows(true)).expect("written");
    let refused = import(&[]);
    assert!(!refused.status.success());
    assert_eq!(
        text(&refused.stdout),
        "refused: 2 bad rows of 300; nothing was written\n"
    );
    assert!(
        text(&refused.stderr).contains("line 8, column channel: invalid_value:"),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        text(&refused.stderr).contains("line 251, column occurred_at: invalid_value:"),
        "{}",
        text(&refused.stderr)
    );
    let table = std::fs::read_to_string(&report).expect("the report");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "line,column,code,message");
    assert!(lines[1].starts_with("8,channel,invalid_value,"), "{table}");
    assert!(
        lines[2].starts_with("251,occurred_at,invalid_value,"),
        "{table}"
    );
    assert_eq!(exported_lines(&database), before);

    std::fs::write(&file, rows(false)).expect("written");
    let written = import(&[]);
    succeeded(&written, "import");
    assert_eq!(
        text(&written.stdout),
        "imported: 300 rows, 300 valid, 300 written, 0 already in the log (delimiter ';', BOM)\n"
    );
    assert_eq!(exported_lines(&database), before + 300);
    let again = import(&[]);
    succeeded(&again, "import again");
    assert!(
        text(&again.stdout).contains(", 0 written, 300 already in the log"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(exported_lines(&database), before + 300);
}
