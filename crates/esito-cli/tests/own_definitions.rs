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
        for period in ["2023-Q4", "2024-Q1"] {
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
