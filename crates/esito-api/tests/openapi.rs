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

#[test]
fn every_response_of_every_operation_has_a_schema() {
    let document = esito_api::openapi::document();
    let mut responses = 0;
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let answers = operation["responses"].as_object().expect("responses");
            assert!(
                answers.keys().any(|status| status.starts_with('2')),
                "{method} {path} documents its success"
            );
            for (status, response) in answers {
                let content = response["content"].as_object();
                assert!(
                    content.is_some_and(|content| !content.is_empty()
                        && content.values().all(|media| media["schema"].is_object())),
                    "{method} {path} {status} has a schema: {response}"
                );
                if !status.starts_with('2') {
                    assert!(
                        response["content"]["application/problem+json"]["schema"].is_object(),
                        "{method} {path} {status} is problem+json"
                    );
                }
                responses += 1;
            }
        }
    }
    assert!(responses > 500, "every operation was walked: {responses}");
}

#[test]
fn a_whole_contract_file_is_a_documented_body_of_the_registration() {
    let document = esito_api::openapi::document();
    let body = &document["paths"]["/v1/contracts"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["oneOf"];
    assert!(
        body.as_array().is_some_and(|choices| choices
            .iter()
            .any(|choice| choice["$ref"] == "#/components/schemas/ContractFileRequest")),
        "the registration takes a command or a file: {body}"
    );
    let schema = &document["components"]["schemas"]["ContractFileRequest"];
    let validator = jsonschema::validator_for(schema).expect("a valid schema");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/contracts");
    let mut files = 0;
    for file in std::fs::read_dir(&examples).expect("docs/contracts") {
        let text = std::fs::read_to_string(file.expect("an entry").path()).expect("a file");
        let body = serde_json::json!({ "file": text });
        assert!(validator.is_valid(&body), "the example file as a body");
        files += 1;
    }
    assert!(files >= 2, "the two examples of docs/contracts.md");
    for refused in [
        serde_json::json!({}),
        serde_json::json!({ "file": 7 }),
        serde_json::json!({ "file": "x", "contract_id": "alone" }),
    ] {
        assert!(
            !validator.is_valid(&refused),
            "{refused} is not a file body"
        );
    }
}
