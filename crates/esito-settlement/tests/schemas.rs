//! The checked-in JSON Schema of the settlement document under `schemas/settlement/` is
//! generated from the type: this test fails when they differ. `make schemas`
//! (ESITO_WRITE_SCHEMAS=1) writes it anew.

use std::path::Path;

use esito_settlement::SettlementDocument;

#[test]
fn the_checked_in_settlement_document_schema_matches_the_type() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/settlement/SettlementDocument.json");
    let text = serde_json::to_string_pretty(&schemars::schema_for!(SettlementDocument))
        .expect("a schema serializes")
        + "\n";
    if std::env::var_os("ESITO_WRITE_SCHEMAS").is_some() {
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("schemas/ is writable");
        std::fs::write(&file, &text).expect("schema written");
    }
    assert_eq!(
        std::fs::read_to_string(&file).ok().as_deref(),
        Some(text.as_str()),
        "schemas/settlement/SettlementDocument.json differs from the type (run `make schemas`)"
    );
}
