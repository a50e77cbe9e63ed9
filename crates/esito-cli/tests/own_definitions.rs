//! An export carries its definitions' text: `esito` with the four built-in files hidden
//! (`ESITO_HIDE_BUILT_IN_DEFINITIONS=1`) computes from an export the same indicators and the
//! same settlement documents, byte for byte, as with them.

use std::process::{Command, Output};

const ESITO: &str = env!("CARGO_BIN_EXE_esito");
const HIDE: &str = "ESITO_HIDE_BUILT_IN_DEFINITIONS";

fn esito(args: &[&str], hidden: bool) -> Output {
    let mut command = Command::new(ESITO);
    command.args(args);
    if hidden {
        command.env(HIDE, "1");
    } else {
        command.env_remove(HIDE);
    }
    command.output().expect("esito runs")
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

#[test]
fn an_export_is_recomputed_without_the_built_in_definitions_to_the_same_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("esito.db").display());
    succeeded(&esito(&["demo", "--database", &database], false), "demo");
    for contract in ["cuneo-communal-living", "torino-homes4all"] {
        let export = succeeded(
            &esito(
                &["export", "--contract", contract, "--database", &database],
                false,
            ),
            "export",
        );
        let file = dir.path().join(format!("{contract}.jsonl"));
        std::fs::write(&file, export).expect("the export is written");
        let file = file.to_str().expect("a UTF-8 path");
        // Cuneo's first period to settle is 2024-Q1, its terms «valido dal 01/01/2024».
        for period in ["2024-Q1", "2024-Q2"] {
            for command in ["indicators", "settle"] {
                let args = [command, "--offline", file, "--period", period];
                let with = succeeded(&esito(&args, false), command);
                let without = succeeded(&esito(&args, true), command);
                assert!(with.contains("\"period\""), "{with}");
                assert_eq!(without, with, "{contract} {period} {command}");
            }
        }
    }
    // The switch does hide them: a contract registered by a template's name is then refused.
    let other = format!("sqlite://{}", dir.path().join("other.db").display());
    let refused = esito(&["demo", "--database", &other], true);
    assert!(!refused.status.success(), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("unknown_template")
            || text(&refused.stderr).contains("there is no template"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn a_contract_file_registers_from_the_command_line_and_computes_by_its_own_definitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("esito.db").display());
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/contracts/into-work-sib.toml"
    );
    let create = [
        "contracts",
        "create",
        "--file",
        file,
        "--database",
        &database,
    ];
    let created = succeeded(&esito(&create, false), "contracts create");
    assert_eq!(
        created.lines().count(),
        2,
        "registered, then its terms: {created}"
    );
    let again = succeeded(&esito(&create, false), "contracts create again");
    assert_eq!(
        again, created,
        "the same file is answered as the same events"
    );
    let args = [
        "indicators",
        "--contract",
        "into-work-sib",
        "--period",
        "2024-Q2",
        "--database",
        &database,
    ];
    let report = succeeded(&esito(&args, false), "indicators");
    assert!(report.contains("sustained_26_weeks"), "{report}");
    assert!(report.contains("definitions_sha256"), "{report}");
}

#[test]
fn the_rate_card_settles_online_and_offline_to_the_same_bytes_without_the_built_ins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("esito.db").display());
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/contracts/into-work-sib.toml"
    );
    let create = [
        "contracts",
        "create",
        "--file",
        file,
        "--database",
        &database,
    ];
    succeeded(&esito(&create, false), "contracts create");
    let mut people = String::from("occurred_at,beneficiary_id,isee_band,household_size,age_band\n");
    let mut outcomes = String::from("occurred_at,beneficiary_id,outcome\n");
    let kinds = [
        "engaged",
        "entered_employment",
        "sustained_13_weeks",
        "sustained_26_weeks",
    ];
    for n in 0..40 {
        people.push_str(&format!(
            "2024-04-02T10:00:00+01:00,p-{n},c,1,from35_to64\n"
        ));
        // Participant n reaches the first n % 5 outcomes, the first of them twice.
        for (k, kind) in kinds.iter().take(n % 5).enumerate() {
            for repeat in 0..(if k == 0 { 2 } else { 1 }) {
                outcomes.push_str(&format!(
                    "2024-{:02}-{:02}T10:00:00+01:00,p-{n},{kind}\n",
                    5 + k / 2,
                    1 + repeat + n % 20
                ));
            }
        }
    }
    for (command, rows) in [
        ("register-beneficiary", people),
        ("record-outcome", outcomes),
    ] {
        let path = dir.path().join(format!("{command}.csv"));
        std::fs::write(&path, rows).expect("written");
        let path = path.to_str().expect("UTF-8");
        let import = [
            "import",
            "--contract",
            "into-work-sib",
            "--command",
            command,
            "--database",
            &database,
            path,
        ];
        succeeded(&esito(&import, false), command);
    }
    let online = succeeded(
        &esito(
            &[
                "settle",
                "--contract",
                "into-work-sib",
                "--period",
                "2024-Q2",
                "--database",
                &database,
            ],
            false,
        ),
        "settle online",
    );
    let export = succeeded(
        &esito(
            &[
                "export",
                "--contract",
                "into-work-sib",
                "--database",
                &database,
            ],
            false,
        ),
        "export",
    );
    let exported = dir.path().join("into-work-sib.jsonl");
    std::fs::write(&exported, export).expect("written");
    let exported = exported.to_str().expect("UTF-8");
    let offline = ["settle", "--offline", exported, "--period", "2024-Q2"];
    assert_eq!(succeeded(&esito(&offline, false), "settle offline"), online);
    assert_eq!(
        succeeded(&esito(&offline, true), "settle offline, hidden"),
        online
    );
    assert!(online.contains("GBP"), "{online}");
    // By hand: eight participants each reach 0, 1, 2, 3 or 4 outcomes (the first twice, paid
    // once): 8 × (500 + 2,000 + 3,200 + 5,000) = 85,600.00, split 70/30.
    for figure in ["\"85600.00\"", "\"59920.00\"", "\"25680.00\""] {
        assert!(online.contains(figure), "{figure} in {online}");
    }
}
