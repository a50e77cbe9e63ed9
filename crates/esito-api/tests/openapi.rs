//! `schemas/openapi.json` is generated from the code: this test fails when it differs.
//! `make schemas` (ESITO_WRITE_SCHEMAS=1) writes it anew.

use std::path::Path;

#[test]
fn the_checked_in_openapi_document_matches_the_code() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/openapi.json");
    let text =
        serde_json::to_string_pretty(&esito_api::openapi::document()).expect("serializes") + "\n";
    if std::env::var_os("ESITO_WRITE_SCHEMAS").is_some() {
        std::fs::write(&file, &text).expect("schemas/ is writable");
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        checked_in == text,
        "schemas/openapi.json differs from the code: run `make schemas`"
    );
}

#[test]
fn every_command_has_its_path_in_the_document() {
    let document = esito_api::openapi::document();
    for (path, name) in &esito_api::catalog::catalog().by_path {
        let route = if *name == "RegisterContract" {
            "/v1/contracts".to_owned()
        } else {
            format!("/v1/contracts/{{contract}}/commands/{path}")
        };
        assert!(
            document["paths"][&route]["post"].is_object(),
            "{route} for {name}"
        );
    }
}
