//! CSV import over HTTP (`POST /v1/contracts/{id}/imports`), on SQLite and on a real
//! PostgreSQL: every bad row reported with its line and column and nothing written; the file
//! fixed, every row written; the same file again, nothing; a domain rule's refusal by its code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use esito_api::auth::Role;
use esito_domain::events::{AgeBand, IseeBand};
use esito_domain::{Command, ContractId};
use esito_testkit::{both_stores, id, submit, Fresh};
use serde_json::Value;

mod router_fixture;
use router_fixture::{key, log_size, register_contract, Fixture};

const CONTRACT: &str = "import-contract";
const ROWS: usize = 10_000;
/// The rows made bad, counted from 1 after the header (so each is at line row + 1).
const BAD_ROWS: [usize; 3] = [17, 4_242, 9_999];

both_stores!(
    fixture = fixture;
    a_file_with_three_bad_rows_writes_nothing_and_fixed_writes_every_row_once,
    a_row_a_domain_rule_refuses_is_reported_with_the_rules_code,
);

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

/// The contract, a provider with a product at 6.00 in every ISEE band, a beneficiary of band A.
async fn fixture(fresh: Fresh) -> Fixture {
    let submissions = [
        vec![register_contract("Import")],
        router_fixture::provider_with_a_meal().to_vec(),
        vec![submit(
            "2023-07-02T10:00:00+02:00",
            Command::RegisterBeneficiary {
                beneficiary_id: id("ben-1"),
                isee_band: Some(IseeBand::A),
                household_size: Some(1),
                age_band: Some(AgeBand::From80),
                flags: vec![],
            },
        )],
    ]
    .concat();
    router_fixture::serve(fresh, &contract(), &submissions, esito_api::AppState::new).await
}

async fn import(fixture: &Fixture, query: &str, csv: &str) -> router_fixture::Answer {
    let request = Request::builder()
        .method("POST")
        .uri(format!("/v1/contracts/{CONTRACT}/imports?{query}"))
        .header("content-type", "text/csv; charset=utf-8")
        .header("authorization", format!("Bearer {}", key(Role::Operator)))
        .body(Body::from(csv.to_owned()))
        .expect("a request");
    router_fixture::send(&fixture.app, request).await
}

/// A services centre's accesses as a spreadsheet saves them in Italy: a byte order mark,
/// semicolons, dates as dd/mm/yyyy hh:mm. Row n is access `acc-n`; `bad` rows are broken.
fn accesses(bad: bool) -> String {
    let mut csv = String::from("\u{feff}occurred_at;access_id;channel;need;outcome.kind\n");
    for row in 1..=ROWS {
        let line = match (bad, BAD_ROWS.iter().position(|b| *b == row)) {
            // A channel that is none of in_person, phone, email.
            (true, Some(0)) => format!("03/10/2023 09:30;acc-{row};fax;housing;information_only\n"),
            // The 31st of February.
            (true, Some(1)) => {
                format!("31/02/2024 09:30;acc-{row};phone;housing;information_only\n")
            }
            // No outcome.
            (true, Some(2)) => format!("03/10/2023 09:30;acc-{row};phone;housing;\n"),
            _ => format!("03/10/2023 09:30;acc-{row};in_person;housing;information_only\n"),
        };
        csv.push_str(&line);
    }
    csv
}

async fn a_file_with_three_bad_rows_writes_nothing_and_fixed_writes_every_row_once(
    fixture: Fixture,
) {
    let before = log_size(&fixture.store, &contract()).await;
    let refused = import(&fixture, "command=record-access", &accesses(true)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(refused.json["code"], "invalid_rows");
    let problems: Vec<(u64, String)> = refused.json["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("a line"),
                p["column"].as_str().expect("a column").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = BAD_ROWS
        .iter()
        .zip(["channel", "occurred_at", "outcome"])
        .map(|(row, column)| (*row as u64 + 1, column.to_owned()))
        .collect();
    assert_eq!(problems, expected, "{}", refused.json["problems"]);
    assert_eq!(refused.json["report"]["rows"], ROWS);
    assert_eq!(refused.json["report"]["delimiter"], ";");
    assert_eq!(log_size(&fixture.store, &contract()).await, before);

    // Checked only: every row valid, nothing written.
    let fixed = accesses(false);
    let dry = import(&fixture, "command=record-access&dry_run=true", &fixed).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(
        (dry.json["valid"].as_u64(), dry.json["written"].as_u64()),
        (Some(ROWS as u64), Some(0))
    );
    assert_eq!(log_size(&fixture.store, &contract()).await, before);

    let written = import(&fixture, "command=record-access", &fixed).await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    assert_eq!(written.json["written"], ROWS);
    assert_eq!(
        log_size(&fixture.store, &contract()).await,
        before + ROWS as u64
    );
    // The dates were read in Europe/Rome: 3 October 2023 is summer time.
    let first = fixture
        .store
        .entries(&contract(), before, 1)
        .await
        .expect("read");
    let entry: Value = serde_json::from_str(&first[0].entry).expect("json");
    assert_eq!(entry["occurred_at"], "2023-10-03T09:30:00+02:00");
    assert_eq!(entry["stream_id"], "acc-1");

    // Counted as appends are, the bad rows by their codes.
    let metrics = router_fixture::send(
        &fixture.app,
        Request::builder()
            .uri("/metrics")
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert!(
        metrics.text.contains("esito_appends_total 10000"),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("esito_rejections_total{code=\"invalid_value\"}"),
        "{}",
        metrics.text
    );

    // The same file again: its rows' event ids are those of the first import.
    let again = import(&fixture, "command=record-access", &fixed).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(
        (
            again.json["written"].as_u64(),
            again.json["already_in_log"].as_u64()
        ),
        (Some(0), Some(ROWS as u64))
    );
    assert_eq!(
        log_size(&fixture.store, &contract()).await,
        before + ROWS as u64
    );

    // With the bad rows skipped, the good rows of a new file are written, the bad reported.
    let mut other = accesses(true).replace("acc-", "acc-b-");
    other.truncate(other.find("acc-b-30;").expect("row 30") - "03/10/2023 09:30;".len());
    let skipped = import(&fixture, "command=record-access&skip_invalid=true", &other).await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.text);
    assert_eq!(
        (
            skipped.json["written"].as_u64(),
            skipped.json["problems"].as_array().map(Vec::len)
        ),
        (Some(28), Some(1))
    );
}

async fn a_row_a_domain_rule_refuses_is_reported_with_the_rules_code(fixture: Fixture) {
    let before = log_size(&fixture.store, &contract()).await;
    // Comma-separated, decimals with a comma, quoted: the second order's price is not the
    // tariff of band A.
    let csv = "occurred_at,order_id,beneficiary_id,product_id,channel,price\n\
               2023-10-03T10:00:00+02:00,ord-1,ben-1,prod-1,online,\"6,00\"\n\
               2023-10-03T10:05:00+02:00,ord-2,ben-1,prod-1,online,\"7,50\"\n";
    let refused = import(&fixture, "command=place-order", csv).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let problems = refused.json["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{}", refused.json);
    assert_eq!(problems[0]["line"], 3);
    assert_eq!(problems[0]["column"], "price");
    assert_eq!(problems[0]["code"], "price_is_not_the_tariff");
    assert_eq!(log_size(&fixture.store, &contract()).await, before);

    // Many refusals (more than the rounds of whole-file planning): each found all the same.
    let mut many = String::from("occurred_at,order_id,beneficiary_id,product_id,channel,price\n");
    for row in 1..=40 {
        let price = if row % 2 == 0 { "7.00" } else { "6.00" };
        many.push_str(&format!(
            "2023-10-03T10:00:00+02:00,ord-m-{row},ben-1,prod-1,online,{price}\n"
        ));
    }
    let refused = import(&fixture, "command=place-order", &many).await;
    let lines: Vec<u64> = refused.json["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            assert_eq!(p["code"], "price_is_not_the_tariff", "{p}");
            p["line"].as_u64().expect("a line")
        })
        .collect();
    assert_eq!(lines, (1..=20).map(|n| 2 * n + 1).collect::<Vec<u64>>());
    assert_eq!(log_size(&fixture.store, &contract()).await, before);

    // A column the command does not have is refused by its name, on the header's line.
    let unknown = import(
        &fixture,
        "command=place-order",
        "occurred_at,order_id,colour\n",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json["problems"][0]["column"], "colour");
    assert_eq!(unknown.json["problems"][0]["line"], 1);
    // A body not declared CSV is refused as such.
    let request = Request::builder()
        .method("POST")
        .uri(format!(
            "/v1/contracts/{CONTRACT}/imports?command=place-order"
        ))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", key(Role::Operator)))
        .body(Body::from("{}"))
        .expect("a request");
    let answer = router_fixture::send(&fixture.app, request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// `docs/import/{command}.csv`: each command's columns, as a header row; every template's
/// header is one an import accepts. `ESITO_WRITE_SCHEMAS=1` writes them (`make schemas`).
#[test]
fn the_import_templates_are_each_commands_columns_and_are_accepted() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/import");
    let write = std::env::var_os("ESITO_WRITE_SCHEMAS").is_some();
    let templates = esito_api::import::template_columns();
    assert!(templates.len() >= 20, "{:?}", templates.keys());
    for (command, columns) in &templates {
        let path = directory.join(format!("{command}.csv"));
        let header = format!("{}\r\n", columns.join(","));
        if write {
            std::fs::create_dir_all(&directory).expect("docs/import");
            std::fs::write(&path, &header).expect("written");
        }
        let found = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (ESITO_WRITE_SCHEMAS=1 writes it)", path.display())
        });
        assert_eq!(
            found,
            header,
            "{} differs from the command's columns",
            path.display()
        );
        let record = csv::StringRecord::from(columns.clone());
        assert!(
            esito_api::import::RowReader::new(command, &record, [0; 32]).is_ok(),
            "{command}: its template's header is refused"
        );
    }
    let record_access = &templates["record-access"];
    assert_eq!(
        record_access,
        &[
            "occurred_at",
            "access_id",
            "beneficiary_id",
            "channel",
            "need",
            "outcome.kind",
            "outcome.service"
        ]
    );
}
