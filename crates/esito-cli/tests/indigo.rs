//! The INDIGO export with the real `esito` binary: for each demo contract, with its periods
//! settled (paid, approved, and one only calculated), `esito export --format indigo` writes a
//! document valid against the INDIGO project schema checked in under `schemas/indigo/`, whose
//! outcome payments add up to the approved settlements' totals as their documents in the log
//! say; `GET /v1/contracts/{id}/export/indigo` answers the same bytes; a role that may not
//! export is refused, and an unknown contract is not found.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use esito_books::Books;
use esito_domain::{ContractId, EventId, OccurredAt, Period, Submission};
use esito_settlement::SettlementDocument;
use esito_store::Store;
use esito_testkit::sqlite_url;
use rust_decimal::Decimal;

mod serve_process;
use serve_process::{free_port, spawn_serve};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
const DEMO_EVALUATOR: &str = "esito_demo_evaluator";
const DEMO_OPERATOR: &str = "esito_demo_operator";
/// The demo's admin key holds every contract: the only one to which an unknown one is unknown
/// rather than forbidden.
const DEMO_ADMIN: &str = "esito_demo_admin";
const CREMONA: &str = "cremona-kcity";

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

async fn append(store: &Store, contract: &ContractId, who: &str, command: esito_domain::Command) {
    let submission = Submission {
        event_id: EventId::new_v4(),
        occurred_at: OccurredAt::new(chrono::Utc::now().fixed_offset()),
        command,
    };
    store
        .append(contract, who, &[submission])
        .await
        .unwrap_or_else(|error| panic!("{contract}: {error}"));
}

/// How far a period's settlement is taken.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    Calculated,
    Approved,
    Paid,
}

/// Calculates the settlement of `period` through the store, records it, and takes it as far as
/// `step`.
async fn settle(store: &Store, contract: &ContractId, period: Period, step: Step) {
    use esito_domain::Command;
    let settled = store
        .settlement(contract, period)
        .await
        .unwrap_or_else(|error| panic!("{contract} {period}: {error}"));
    let as_of = settled.document.as_of;
    append(store, contract, "payer", settled.command(None)).await;
    if step == Step::Calculated {
        return;
    }
    let validate = Command::ValidateSettlement {
        period,
        as_of,
        note: None,
    };
    append(store, contract, "evaluator", validate).await;
    // The demo's contracts have a CIG: the RUP certifies, the determina approves, the
    // mandato pays, each with its number and date.
    let certify = Command::CertifySettlement {
        period,
        as_of,
        certified_on: period.end_on(),
    };
    append(store, contract, "payer", certify).await;
    append(
        store,
        contract,
        "payer",
        Command::ApproveSettlement {
            period,
            as_of,
            determina_number: Some(format!("DD {period}")),
            determina_date: Some(period.end_on()),
        },
    )
    .await;
    if step == Step::Paid {
        let paid = Command::RecordSettlementPayment {
            period,
            paid_on: period.end_on(),
            reference: format!("mandato {period}"),
            mandato_number: Some(format!("MP {period}")),
            mandato_date: Some(period.end_on()),
        };
        append(store, contract, "payer", paid).await;
    }
}

async fn books(store: &Store, contract: &ContractId) -> Books {
    let size = store
        .head(contract)
        .await
        .expect("head")
        .expect("a log")
        .size;
    let entries = store.book_entries(contract).await.expect("entries");
    Books::from_entries(contract, size, &entries).expect("the books read")
}

/// The periods to settle, in order: from the one its payment terms take effect in.
fn periods_of_the_term(books: &Books) -> Vec<Period> {
    books
        .contract()
        .contract()
        .expect("registered")
        .settlement_periods()
}

/// Loads the demo and settles every contract's periods: Cremona's all paid; each other's all
/// paid but the last two, the one before last approved, the last only calculated.
async fn demo_with_settlements(database: &str) -> Vec<ContractId> {
    let store = Store::connect(database).await.expect("a SQLite store");
    esito_cli::demo::load(&store).await.expect("the demo loads");
    let contracts = store.contracts().await.expect("contracts");
    for contract in &contracts {
        let periods = periods_of_the_term(&books(&store, contract).await);
        assert!(periods.len() >= 3, "{contract}: {periods:?}");
        for (index, period) in periods.iter().enumerate() {
            let step = match periods.len() - index {
                _ if contract.as_str() == CREMONA => Step::Paid,
                1 => Step::Calculated,
                2 => Step::Approved,
                _ => Step::Paid,
            };
            settle(&store, contract, *period, step).await;
        }
    }
    contracts
}

/// The approved or paid settlements' documents as the log holds them, by period.
async fn approved_documents(
    database: &str,
    contract: &ContractId,
) -> Vec<(bool, SettlementDocument)> {
    let store = Store::connect(database).await.expect("a SQLite store");
    books(&store, contract)
        .await
        .settlements()
        .periods
        .iter()
        .map(|settlement| {
            let document = serde_json::from_value(settlement.calculated.document.clone())
                .expect("a settlement document");
            (settlement.status.is_approved(), document)
        })
        .collect()
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
    fn start(database: &str, signing_key: &Path) -> Server {
        let port = free_port();
        let child = spawn_serve(database, port, signing_key, &[], Stdio::null());
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.get("/healthz", DEMO_EVALUATOR).is_none() {
            assert!(Instant::now() < deadline, "no answer within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One GET with a bearer key: the status line and the body.
    fn get(&self, path: &str, key: &str) -> Option<(String, Vec<u8>)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {key}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = text(&answer[..split]);
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "{head}"
        );
        let status = head.lines().next()?.to_owned();
        Some((status, answer[split + 4..].to_vec()))
    }
}

fn schema() -> serde_json::Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/indigo/project.json");
    serde_json::from_str(&std::fs::read_to_string(&file).expect("the INDIGO schema is checked in"))
        .expect("the schema is JSON")
}

/// An amount as the document writes it (a JSON number), as a decimal: the shortest text of the
/// number read back, exact for amounts with two places.
fn amount(money: &serde_json::Value) -> Decimal {
    assert_eq!(money["currency"]["value"], "EUR", "{money}");
    let number = &money["amount"]["value"];
    assert!(number.is_number(), "{money}");
    Decimal::from_str(&number.to_string()).expect("a decimal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_contracts_indigo_document_is_valid_adds_up_and_is_the_same_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_url(dir.path());
    let contracts = demo_with_settlements(&database).await;
    assert_eq!(contracts.len(), 4);
    let validator = jsonschema::draft7::new(&schema()).expect("the INDIGO schema compiles");
    let server = Server::start(&database, &dir.path().join("signing.key"));

    for contract in &contracts {
        let output = esito(&[
            "export",
            "--format",
            "indigo",
            "--contract",
            contract.as_str(),
            "--database",
            &database,
        ]);
        succeeded(&output, "export --format indigo");
        let from_cli = output.stdout;

        let (status, from_http) = server
            .get(
                &format!("/v1/contracts/{contract}/export/indigo"),
                DEMO_EVALUATOR,
            )
            .expect("answered");
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert!(
            from_http == from_cli,
            "{contract}: the HTTP document differs from the CLI's:\n{}\n---\n{}",
            text(&from_http),
            text(&from_cli)
        );

        let document: serde_json::Value = serde_json::from_slice(&from_cli).expect("JSON");
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|error| format!("{}: {error}", error.instance_path))
            .collect();
        assert!(errors.is_empty(), "{contract}: {errors:#?}");

        // Outcome payments by period start, against the documents the log holds.
        let mut paid_by_period: BTreeMap<String, Decimal> = BTreeMap::new();
        for payment in document["outcome_payments"].as_array().expect("a list") {
            let start = payment["period"]["start_date"]["value"]
                .as_str()
                .expect("a start date")
                .to_owned();
            *paid_by_period.entry(start).or_default() += amount(&payment["money"]);
        }
        let documents = approved_documents(&database, contract).await;
        let mut expected: BTreeMap<String, Decimal> = BTreeMap::new();
        for (approved, settlement) in &documents {
            let start = settlement.period_start_on.format("%Y-%m-%d").to_string();
            if *approved {
                expected.insert(start, settlement.total.value());
            } else {
                assert!(
                    !paid_by_period.contains_key(&start),
                    "{contract}: the settlement of {} is not approved, yet it has outcome payments",
                    settlement.period
                );
            }
        }
        // Every approved settlement is there, even one whose total is zero.
        for (start, total) in &expected {
            assert_eq!(
                paid_by_period.get(start).copied().unwrap_or_default(),
                *total,
                "{contract}: the outcome payments of the period from {start}"
            );
        }
        assert_eq!(
            paid_by_period.values().sum::<Decimal>(),
            expected.values().sum::<Decimal>(),
            "{contract}: every outcome payment is of an approved settlement"
        );
        assert!(
            expected.values().sum::<Decimal>() > Decimal::ZERO,
            "{contract}: the demo's approved settlements pay something"
        );
        // Results are the paid-on indicators' values; Cremona pays on milestones alone.
        let results = document["results"].as_array().expect("results");
        assert_eq!(
            results.is_empty(),
            contract.as_str() == CREMONA,
            "{contract}: {results:?}"
        );
        let stage = &document["stage_development"]["value"];
        if contract.as_str() == CREMONA {
            assert_eq!(stage, "Complete", "{contract}");
        } else {
            assert_eq!(stage, "Implementation", "{contract}");
        }
    }

    // The same document twice: nothing in it depends on when it is asked for.
    let cremona = format!("/v1/contracts/{CREMONA}/export/indigo");
    let first = server.get(&cremona, DEMO_EVALUATOR).expect("answered");
    let second = server.get(&cremona, DEMO_EVALUATOR).expect("answered");
    assert_eq!(first, second);

    let (status, body) = server.get(&cremona, DEMO_OPERATOR).expect("answered");
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert!(
        text(&body).contains("the operator role may not export the log"),
        "{}",
        text(&body)
    );
    let (status, _) = server
        .get("/v1/contracts/no-such-contract/export/indigo", DEMO_ADMIN)
        .expect("answered");
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");

    let unknown = esito(&[
        "export",
        "--format",
        "indigo",
        "--contract",
        "no-such-contract",
        "--database",
        &database,
    ]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no-such-contract"),
        "{}",
        text(&unknown.stderr)
    );
}
