//! Tidy checks on the shape of the workspace: the pure crates stay pure, SQL stays in the store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Packages no pure crate may depend on, directly or not.
const IO_PACKAGES: [&str; 6] = [
    "sqlx",
    "sqlx-core",
    "axum",
    "hyper",
    "prometheus",
    "reqwest",
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

fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            &host(),
        ])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// The names of every package in the normal (not dev, not build) dependency closure of `root`.
fn closure(metadata: &serde_json::Value, root: &str) -> BTreeSet<String> {
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    let nodes: BTreeMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["id"].as_str().expect("id"), n))
        .collect();
    let start = names
        .iter()
        .find(|(_, name)| **name == root)
        .map(|(id, _)| *id)
        .expect("the root package");
    let mut seen = BTreeSet::new();
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().expect("deps") {
            let normal = dep["dep_kinds"]
                .as_array()
                .expect("kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                stack.push(dep["pkg"].as_str().expect("pkg"));
            }
        }
    }
    seen.into_iter().map(|id| names[id].to_owned()).collect()
}

#[test]
fn the_pure_crates_depend_on_no_database_http_or_metrics_library() {
    let metadata = metadata();
    for pure in [
        "esito-domain",
        "esito-log",
        "esito-indicators",
        "esito-settlement",
        "esito-books",
        "esito-projector",
    ] {
        let deps = closure(&metadata, pure);
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
