//! Tidy checks on the shape of the workspace: the pure crates stay pure, SQL stays in the store.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Packages no pure crate may depend on, directly or not: databases, HTTP, metrics, and the
/// async runtime they run on.
const IO_PACKAGES: [&str; 7] = [
    "sqlx",
    "sqlx-core",
    "axum",
    "hyper",
    "prometheus",
    "reqwest",
    "tokio",
];

/// The host's target triple: metadata for other platforms would need their crates downloaded.
fn host() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host")
        .to_owned()
}

/// The names of every package in the normal (not dev, not build) dependency closure of `root`
/// with its default features, as a crate that depends on it builds it.
///
/// `cargo tree -e normal` resolves features without the dev-dependencies, unlike `cargo
/// metadata`, whose one resolve for the workspace adds the features a crate's own tests turn
/// on (`esito-domain`'s `cqrs`).
fn closure(root: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--package",
            root,
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--target",
            &host(),
        ])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let names: BTreeSet<String> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(names.contains(root), "cargo tree lists {root} itself");
    names
}

#[test]
fn the_pure_crates_depend_on_no_database_http_or_metrics_library() {
    for pure in [
        "esito-domain",
        "esito-log",
        "esito-indicators",
        "esito-settlement",
        "esito-books",
        "esito-projector",
        "esito-vault",
    ] {
        let deps = closure(pure);
        let found: Vec<&str> = IO_PACKAGES
            .into_iter()
            .filter(|p| deps.contains(*p))
            .collect();
        assert!(found.is_empty(), "{pure} depends on {found:?}");
    }
}

#[test]
fn only_the_store_uses_sqlx_directly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for entry in std::fs::read_dir(&root).expect("crates/") {
        let dir = entry.expect("an entry").path();
        let name = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if name == "esito-store" {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest");
        let normal = manifest
            .split("[dev-dependencies]")
            .next()
            .expect("the part before dev-dependencies");
        assert!(
            !normal.contains("sqlx"),
            "{name} depends on sqlx: SQL belongs in esito-store"
        );
    }
}

/// The source files of the workspace's crates, tests and generated files aside.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file longer than this is doing more than one thing: split it by purpose.
const SOURCE_LINES_MAX: usize = 800;

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&crates).expect("crates/") {
        let src = entry.expect("an entry").path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(
        files.len() > 50,
        "the walk found the sources: {}",
        files.len()
    );
    let long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file)
                .expect("UTF-8")
                .lines()
                .count();
            (lines > SOURCE_LINES_MAX).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "longer than {SOURCE_LINES_MAX} lines: {long:?}"
    );
}

/// The string literals of a Rust file that hold SQL (a line starting with a statement's verb).
fn sql_literals(text: &str) -> BTreeSet<String> {
    const VERBS: [&str; 7] = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "COPY",
    ];
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(|literal| literal.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|sql| VERBS.iter().any(|verb| sql.starts_with(verb)))
        .collect()
}

#[test]
fn the_two_backends_share_no_sql_text() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("../esito-store/src");
    let read = |name: &str| std::fs::read_to_string(store.join(name)).expect("a backend file");
    let sqlite = sql_literals(&read("sqlite.rs"));
    let postgres = sql_literals(&read("postgres.rs"));
    assert!(!postgres.is_empty(), "postgres.rs holds SQL of its own");
    let shared: Vec<&String> = sqlite.intersection(&postgres).collect();
    assert!(
        shared.is_empty(),
        "written in both backends, to be written once in the shared layer: {shared:?}"
    );
}
