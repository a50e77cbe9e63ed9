//! The OpenAPI 3.1 document, generated from the domain's JSON Schemas: one path per command,
//! the batch, the reads. Checked in as `schemas/openapi.json`; a test fails when they differ.

use serde_json::{json, Map, Value};

use crate::catalog::{catalog, path_of};

fn problem() -> Value {
    json!({ "description": "RFC 9457 problem details with a stable `code` and the `field` at fault",
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn errors(mut responses: Map<String, Value>, statuses: &[&str]) -> Value {
    for status in statuses {
        responses.insert((*status).to_owned(), problem());
    }
    Value::Object(responses)
}

fn contract_parameter() -> Value {
    json!({ "name": "contract", "in": "path", "required": true, "schema": { "type": "string" } })
}

/// A command's request body: its own fields, with `event_id` (optional) and `occurred_at`.
fn command_body(name: &str, schema: &Value, with_contract_id: bool) -> Value {
    let mut schema = schema.clone();
    let properties = schema["properties"]
        .as_object_mut()
        .expect("a command has properties");
    properties.remove("type");
    properties.insert("event_id".to_owned(), json!({ "type": "string", "format": "uuid",
        "description": "Chosen by the client to make a retry the same event; generated when absent." }));
    properties.insert(
        "occurred_at".to_owned(),
        json!({ "$ref": "#/components/schemas/OccurredAt" }),
    );
    let mut required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
    required.retain(|r| r != "type");
    required.push(json!("occurred_at"));
    if with_contract_id {
        schema["properties"]["contract_id"] = json!({ "$ref": "#/components/schemas/ContractId" });
        required.push(json!("contract_id"));
    }
    schema["required"] = Value::Array(required);
    schema["title"] = json!(name);
    schema
}

fn created() -> Value {
    json!({ "description": "Appended (or, with `Idempotent-Replay: true`, already in the log)",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Appended" } } } })
}

pub fn document() -> Value {
    let catalog = catalog();
    let mut paths = Map::new();
    let mut schemas: Map<String, Value> = catalog
        .definitions
        .iter()
        .map(|(name, schema)| (name.clone(), rewrite_refs(schema.clone())))
        .collect();
    for (name, schema) in &catalog.schemas {
        let body = rewrite_refs(command_body(name, schema, *name == "RegisterContract"));
        schemas.insert(format!("{name}Request"), body);
        let reference = json!({ "$ref": format!("#/components/schemas/{name}Request") });
        let operation = json!({
            "operationId": path_of(name).replace('-', "_"),
            "summary": name,
            "requestBody": { "required": true, "content": { "application/json": { "schema": reference } } },
            "responses": errors(Map::from_iter([("201".to_owned(), created())]), &["400", "401", "403", "404", "409", "413", "422"]),
        });
        if *name == "RegisterContract" {
            paths.insert("/v1/contracts".to_owned(), json!({ "post": operation }));
        } else {
            let mut operation = operation;
            operation["parameters"] = json!([contract_parameter()]);
            paths.insert(
                format!("/v1/contracts/{{contract}}/commands/{}", path_of(name)),
                json!({ "post": operation }),
            );
        }
    }
    schemas.insert(
        "OccurredAt".to_owned(),
        json!({ "type": "string", "format": "date-time" }),
    );
    schemas.insert(
        "ContractId".to_owned(),
        json!({ "type": "string", "pattern": "^[a-z0-9-]{3,64}$" }),
    );
    schemas.insert("Appended".to_owned(), json!({ "type": "object", "required": ["event_id", "position", "leaf_hash"],
        "properties": { "event_id": { "type": "string", "format": "uuid" }, "position": { "type": "integer", "minimum": 1 },
                        "leaf_hash": { "type": "string", "pattern": "^[0-9a-f]{64}$" } } }));
    schemas.insert("Problem".to_owned(), json!({ "type": "object", "required": ["type", "title", "status", "code", "detail"],
        "properties": { "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                        "code": { "type": "string" }, "detail": { "type": "string" }, "field": { "type": "string" },
                        "index": { "type": "integer" } } }));
    let read = |summary: &str, extra: Value| {
        let mut parameters = vec![contract_parameter()];
        if let Value::Array(more) = extra {
            parameters.extend(more);
        }
        json!({ "get": { "summary": summary, "parameters": parameters,
            "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "OK" }))]), &["401", "403", "404"]) } })
    };
    let page = json!([{ "name": "after", "in": "query", "schema": { "type": "integer" } },
                      { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } }]);
    paths.insert("/v1/contracts/{contract}/batch".to_owned(), json!({ "post": {
        "summary": "Up to 1,000 commands, all or nothing unless atomic=false; answered per item",
        "parameters": [contract_parameter(), { "name": "atomic", "in": "query", "schema": { "type": "boolean", "default": true } }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["items"],
            "properties": { "items": { "type": "array", "maxItems": 1000, "items": { "type": "object", "required": ["type", "occurred_at"] } } } } } } },
        "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "One answer per item" }))]), &["400", "401", "403", "404", "409", "413", "422"]) } }));
    paths.insert(
        "/v1/contracts/{contract}/events".to_owned(),
        read("Entries in position order, after a cursor", page.clone()),
    );
    paths.insert("/v1/contracts/{contract}/events/{event_id}".to_owned(),
        read("One entry", json!([{ "name": "event_id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }])));
    paths.insert("/v1/contracts/{contract}/streams/{stream_type}/{stream_id}".to_owned(),
        read("One stream's entries", json!([{ "name": "stream_type", "in": "path", "required": true, "schema": { "type": "string" } },
                                              { "name": "stream_id", "in": "path", "required": true, "schema": { "type": "string" } }])));
    paths.insert("/v1/contracts/{contract}/proofs/inclusion".to_owned(),
        read("RFC 9162 inclusion proof of the entry at a position in the tree of a size (default: the whole log)",
             json!([{ "name": "position", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 1 } },
                    { "name": "size", "in": "query", "schema": { "type": "integer", "minimum": 1 } }])));
    paths.insert("/v1/contracts/{contract}/proofs/consistency".to_owned(),
        read("RFC 9162 consistency proof between two tree sizes",
             json!([{ "name": "first", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 1 } },
                    { "name": "second", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 1 } }])));
    paths.insert(
        "/v1/contracts/{contract}/checkpoints/latest".to_owned(),
        read("The latest signed checkpoint", json!([])),
    );
    paths.insert("/v1/contracts/{contract}/checkpoints".to_owned(), json!({ "post": {
        "summary": "Sign a checkpoint of the current tree head now (admin)", "parameters": [contract_parameter()],
        "responses": errors(Map::from_iter([("201".to_owned(), json!({ "description": "The checkpoint" }))]), &["401", "403", "404", "503"]) } }));
    paths.insert(
        "/v1/checkpoint-key".to_owned(),
        json!({ "get": { "summary": "The public key (base64) and key id that sign checkpoints",
        "security": [], "responses": { "200": { "description": "OK" } } } }),
    );
    let period = json!({ "name": "period", "in": "query", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9]{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$" },
        "description": "2024, 2024-H1, 2024-Q1 or 2024-03" });
    let as_of = json!({ "name": "as_of", "in": "query", "schema": { "type": "integer", "minimum": 0 },
        "description": "The log position the values are computed as of (default: the latest)" });
    paths.insert("/v1/contracts/{contract}/indicators".to_owned(),
        read("Every indicator of the contract's template for a period, as of a log position: {as_of, period, indicators: [{id, area, value, ...}]}",
             json!([period.clone(), as_of.clone()])));
    paths.insert("/v1/contracts/{contract}/indicators/{indicator}/explain".to_owned(),
        read("The facts (entries with their positions) behind one indicator's value, paged by position",
             json!([{ "name": "indicator", "in": "path", "required": true, "schema": { "type": "string" } },
                    period, as_of,
                    { "name": "after", "in": "query", "schema": { "type": "integer" } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } }])));
    paths.insert(
        "/v1/checkpoint-keys".to_owned(),
        json!({ "get": { "summary": "Every public key that has signed checkpoints, oldest first, with when a rotation retired it: a checkpoint is checked with the key its key_id names",
        "security": [], "responses": { "200": { "description": "OK",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CheckpointKeys" } } } } } } }),
    );
    schemas.insert("CheckpointKeys".to_owned(), json!({ "type": "object", "required": ["keys"],
        "properties": { "keys": { "type": "array", "items": { "type": "object",
            "required": ["key_id", "public_key", "created_at", "retired_at"],
            "properties": { "key_id": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
                            "public_key": { "type": "string", "description": "Ed25519 public key, base64" },
                            "created_at": { "type": "string", "format": "date-time" },
                            "retired_at": { "type": ["string", "null"], "format": "date-time",
                                            "description": "null for the current key" } } } } } }));
    settlement_paths(&mut paths, &mut schemas);
    for list in ["beneficiaries", "tokens", "tenancies", "placements"] {
        let cursor = json!([{ "name": "after", "in": "query", "schema": { "type": "string" } },
                            { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } }]);
        paths.insert(
            format!("/v1/contracts/{{contract}}/{list}"),
            read(&format!("The {list}, by id"), cursor),
        );
    }
    for (path, summary) in [
        ("/healthz", "Alive"),
        ("/readyz", "Ready: the database answers"),
        ("/metrics", "Prometheus metrics"),
        ("/openapi.json", "This document"),
    ] {
        paths.insert(path.to_owned(), json!({ "get": { "summary": summary, "security": [], "responses": { "200": { "description": "OK" } } } }));
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Esito", "version": env!("CARGO_PKG_VERSION"),
                  "description": "The ledger of outcome-based social contracts. Every write is an immutable event in a contract's log." },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": { "schemas": schemas, "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } } },
    })
}

/// The settlements: calculated on request, validated, approved, paid or withdrawn, read as JSON
/// or HTML.
fn settlement_paths(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let period = json!({ "name": "period", "in": "path", "required": true,
        "schema": { "type": "string", "examples": ["2024-Q1"] } });
    let document =
        serde_json::to_value(schemars::schema_for!(esito_settlement::SettlementDocument))
            .expect("a schema serializes");
    for (name, definition) in document["$defs"].as_object().cloned().unwrap_or_default() {
        schemas
            .entry(format!("Settlement{name}"))
            .or_insert_with(|| rewrite_settlement_refs(definition));
    }
    let mut document = rewrite_settlement_refs(document);
    if let Some(object) = document.as_object_mut() {
        object.remove("$defs");
        object.remove("$schema");
    }
    schemas.insert("SettlementDocument".to_owned(), document);
    schemas.insert("Settlement".to_owned(), json!({ "type": "object",
        "required": ["contract_id", "period", "status", "calculations", "as_of", "root_hash", "template",
                     "definitions_sha256", "terms_sha256", "final_settlement", "events", "document"],
        "properties": {
            "contract_id": { "$ref": "#/components/schemas/ContractId" },
            "period": { "type": "string" },
            "status": { "type": "string", "enum": ["calculated", "validated", "approved", "paid", "withdrawn"] },
            "calculations": { "type": "integer", "minimum": 1, "description": "How many times the period was calculated; the latest is in force." },
            "as_of": { "type": "integer", "minimum": 1, "description": "The log position the settlement was computed as of." },
            "root_hash": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
            "checkpoint": { "description": "The checkpoint signed of the tree head at as_of, when the settlement was calculated (docs/design.md §3).",
                            "oneOf": [{ "type": "null" }, { "type": "object", "required": ["contract_id", "size", "root_hash", "timestamp", "key_id", "signature"] }] },
            "template": { "type": "string" },
            "definitions_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
            "terms_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$",
                              "description": "SHA-256 of the RFC 8785 JSON of {\"payment_terms\", \"funder_terms\"} in force for the period." },
            "final_settlement": { "type": "boolean" },
            "validated": { "type": ["object", "null"] },
            "paid": { "type": ["object", "null"] },
            "withdrawn": { "type": ["object", "null"], "description": "While the settlement stands withdrawn: the period, the as_of withdrawn and the payer's reason." },
            "events": { "type": "array", "items": { "type": "object" } },
            "document": { "$ref": "#/components/schemas/SettlementDocument" } } }));
    let settlement_ok = |description: &str| {
        json!({ "description": description, "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/Settlement" } },
            "text/html": { "schema": { "type": "string" } } } })
    };
    paths.insert("/v1/contracts/{contract}/settlements".to_owned(), json!({
        "post": {
            "summary": "Calculate a period's settlement as of the head now, with a checkpoint signed of that tree head (payer, admin)",
            "parameters": [contract_parameter()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object",
                "required": ["period"], "additionalProperties": false,
                "properties": { "period": { "type": "string", "examples": ["2024-Q1"] } } } } } },
            "responses": errors(Map::from_iter([("201".to_owned(), json!({ "description": "Calculated and recorded",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Settlement" } } } }))]),
                &["400", "401", "403", "404", "422"]) },
        "get": {
            "summary": "Every period settled, in order: status and totals",
            "parameters": [contract_parameter()],
            "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "OK" }))]), &["401", "403", "404"]) } }));
    paths.insert("/v1/contracts/{contract}/settlements/{period}".to_owned(), json!({ "get": {
        "summary": "A settlement: JSON, or the printable page with Accept: text/html",
        "parameters": [contract_parameter(), period.clone()],
        "responses": errors(Map::from_iter([("200".to_owned(), settlement_ok("The settlement"))]), &["401", "403", "404"]) } }));
    paths.insert("/v1/contracts/{contract}/settlements/{period}/html".to_owned(), json!({ "get": {
        "summary": "A settlement's printable page",
        "parameters": [contract_parameter(), period.clone()],
        "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "HTML",
            "content": { "text/html": { "schema": { "type": "string" } } } }))]), &["401", "403", "404"]) } }));
    let catalog = catalog();
    for (step, command, who) in [
        ("validate", "ValidateSettlement", "the evaluator"),
        (
            "approve",
            "ApproveSettlement",
            "the payer; the settlement must be validated",
        ),
        (
            "pay",
            "RecordSettlementPayment",
            "the payer; the settlement must be approved",
        ),
        (
            "withdraw",
            "WithdrawSettlement",
            "the payer; the settlement must be calculated, not yet validated",
        ),
    ] {
        let mut body = rewrite_refs(command_body(command, &catalog.schemas[command], false));
        if let Some(properties) = body["properties"].as_object_mut() {
            properties.remove("period");
        }
        if let Some(required) = body["required"].as_array_mut() {
            required.retain(|field| field != "period" && field != "occurred_at");
        }
        paths.insert(format!("/v1/contracts/{{contract}}/settlements/{{period}}/{step}"), json!({ "post": {
            "summary": format!("{command} ({who}); occurred_at defaults to now"),
            "parameters": [contract_parameter(), period.clone()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
            "responses": errors(Map::from_iter([("201".to_owned(), created())]), &["400", "401", "403", "404", "409", "422"]) } }));
    }
}

/// The settlement document's schema refers to its own `#/$defs/X`, kept as `SettlementX`.
fn rewrite_settlement_refs(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => (
                        k,
                        Value::String(r.replace("#/$defs/", "#/components/schemas/Settlement")),
                    ),
                    (_, v) => (k, rewrite_settlement_refs(v)),
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(rewrite_settlement_refs).collect())
        }
        other => other,
    }
}

/// schemars refers to `#/$defs/X`; in OpenAPI the definitions live under components.
fn rewrite_refs(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => (
                        k,
                        Value::String(r.replace("#/$defs/", "#/components/schemas/")),
                    ),
                    (_, v) => (k, rewrite_refs(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(rewrite_refs).collect()),
        other => other,
    }
}
