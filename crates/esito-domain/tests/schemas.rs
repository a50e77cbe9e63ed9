//! The checked-in JSON Schemas under `schemas/` are generated from the types: this test fails
//! when they differ. `make schemas` (ESITO_WRITE_SCHEMAS=1) writes them anew.

use std::path::{Path, PathBuf};

use esito_domain::{Event, Submission};

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// Every generated schema: (path under `schemas/`, pretty JSON with a final newline).
fn generated() -> Vec<(PathBuf, String)> {
    let render = |schema: &schemars::Schema| {
        serde_json::to_string_pretty(schema).expect("a schema serializes") + "\n"
    };
    let mut files: Vec<(PathBuf, String)> = Event::payload_schemas()
        .iter()
        .map(|(event_type, schema)| {
            (
                PathBuf::from(format!("events/{event_type}.json")),
                render(schema),
            )
        })
        .collect();
    files.push((
        PathBuf::from("commands/Submission.json"),
        render(&schemars::schema_for!(Submission)),
    ));
    files
}

#[test]
fn the_checked_in_schemas_match_the_types() {
    let dir = schemas_dir();
    let write = std::env::var_os("ESITO_WRITE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (path, text) in generated() {
        let file = dir.join(&path);
        if write {
            std::fs::create_dir_all(file.parent().expect("a parent"))
                .expect("schemas/ is writable");
            std::fs::write(&file, &text).expect("schema written");
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "schemas differ from the types (run `make schemas`): {stale:?}"
    );
}

#[test]
fn no_schema_is_left_over_from_a_removed_event_type() {
    let expected: Vec<String> = generated()
        .into_iter()
        .map(|(path, _)| path.display().to_string())
        .collect();
    for sub in ["events", "commands"] {
        let Ok(entries) = std::fs::read_dir(schemas_dir().join(sub)) else {
            continue;
        };
        for entry in entries {
            let name = format!(
                "{sub}/{}",
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
            );
            assert!(expected.contains(&name), "schemas/{name} matches no type");
        }
    }
}
