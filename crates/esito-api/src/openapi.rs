//! The OpenAPI 3.1 document, generated from the domain's JSON Schemas: one path per command,
//! the batch, the reads. Checked in as `schemas/openapi.json`; a test fails when they differ.
//!
//! Invariant: every response of every operation has a schema, problem+json ones included, and
//! every status a handler can answer is listed (`scripts/schemathesis.sh` checks both against
//! the running service).

use serde_json::{json, Map, Value};

use crate::catalog::{catalog, path_of};
use crate::query::POSITION_MAX;

/// What a write may be refused with: a malformed body, a key, a contract, a conflict, a body
/// too large or not JSON, a bad field or a rule, the service.
const WRITE_ERRORS: &[&str] = &[
    "400", "401", "403", "404", "409", "413", "415", "422", "500", "503",
];
/// What a read may be refused with: a key, a contract, a bad query, the service.
const READ_ERRORS: &[&str] = &["401", "403", "404", "422", "500", "503"];
/// What a public read may be refused with: a bad query, the service.
const PUBLIC_ERRORS: &[&str] = &["422", "500", "503"];

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A 200 (or 201) answer in JSON, of the schema `name`.
fn ok(description: &str, name: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": reference(name) } } })
}

fn hex_hash() -> Value {
    json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" })
}

fn position() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": POSITION_MAX })
}

/// The schemas of the answers that are not generated from a type.
fn answer_schemas(schemas: &mut Map<String, Value>) {
    let cursor = json!({ "type": ["integer", "null"], "minimum": 1,
        "description": "The `after` of the next page; null at the end" });
    for (name, schema) in [
        (
            "EntryLine",
            json!({ "type": "object", "required": ["position", "leaf_hash", "entry"],
            "properties": { "position": position(), "leaf_hash": hex_hash(),
                "entry": { "type": "object", "description": "The entry as hashed (docs/design.md §3)" } } }),
        ),
        (
            "EventsPage",
            json!({ "type": "object", "required": ["entries", "next_after"],
            "properties": { "entries": { "type": "array", "items": reference("EntryLine") }, "next_after": cursor } }),
        ),
        (
            "Stream",
            json!({ "type": "object", "required": ["stream_type", "stream_id", "summary", "entries"],
            "properties": { "stream_type": { "type": "string" }, "stream_id": { "type": "string" },
                "summary": reference("StreamSummary"),
                "entries": { "type": "array", "items": reference("EntryLine") } } }),
        ),
        (
            "StreamSummary",
            json!({ "type": "object", "required": ["events", "last_event", "fields"],
            "properties": { "events": { "type": "array", "items": { "type": "string" } },
                "last_event": { "type": ["string", "null"] }, "fields": { "type": "object" } } }),
        ),
        (
            "ListPage",
            json!({ "type": "object", "required": ["items", "next_after"],
            "properties": { "items": { "type": "array", "items": { "type": "object", "required": ["id", "summary"],
                "properties": { "id": { "type": "string" }, "summary": reference("StreamSummary") } } },
                "next_after": { "type": ["string", "null"], "description": "The `after` of the next page; null at the end" } } }),
        ),
        (
            "InclusionProof",
            json!({ "type": "object", "required": ["leaf_index", "tree_size", "audit_path", "leaf_hash", "root_hash"],
            "properties": { "leaf_index": { "type": "integer", "minimum": 0 }, "tree_size": position(),
                "audit_path": { "type": "array", "items": hex_hash() }, "leaf_hash": hex_hash(), "root_hash": hex_hash() } }),
        ),
        (
            "ConsistencyProof",
            json!({ "type": "object", "required": ["first", "second", "consistency_path", "first_root", "second_root"],
            "properties": { "first": position(), "second": position(),
                "consistency_path": { "type": "array", "items": hex_hash() }, "first_root": hex_hash(), "second_root": hex_hash() } }),
        ),
        (
            "Checkpoint",
            json!({ "type": "object", "required": ["contract_id", "size", "root_hash", "timestamp", "key_id", "signature"],
            "properties": { "contract_id": reference("ContractId"), "size": position(), "root_hash": hex_hash(),
                "timestamp": { "type": "string", "format": "date-time" }, "key_id": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
                "signature": { "type": "string", "description": "Ed25519, base64" } } }),
        ),
        (
            "CheckpointKey",
            json!({ "type": "object", "required": ["key_id", "public_key"],
            "properties": { "key_id": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
                "public_key": { "type": "string", "description": "Ed25519 public key, base64" } } }),
        ),
        (
            "IndicatorReport",
            json!({ "type": "object",
            "required": ["contract_id", "as_of", "period", "start_on", "end_on", "template", "definitions_sha256", "indicators"],
            "properties": { "contract_id": { "type": "string" }, "as_of": { "type": "integer", "minimum": 0 },
                "period": { "type": "string" }, "start_on": { "type": "string", "format": "date" },
                "end_on": { "type": "string", "format": "date" }, "template": { "type": "string" },
                "definitions_sha256": hex_hash(),
                "themes": { "type": "array", "description": "the themes the definitions declare (absent if none), in their order",
                    "items": { "type": "object", "required": ["id", "label"],
                        "properties": { "id": { "type": "string" }, "label": { "type": "object" } } } },
                "grid": { "type": "array", "description": "every cell of themes × areas, themes first, with the ids of the indicators in it (absent without themes)",
                    "items": { "type": "object", "required": ["theme", "area", "indicators"],
                        "properties": { "theme": { "type": "string" },
                            "area": { "type": "string", "enum": ["reach", "utilisation", "change", "economic_proxy"] },
                            "indicators": { "type": "array", "items": { "type": "string" } } } } },
                "indicators": { "type": "array", "items": { "type": "object",
                    "required": ["id", "area", "kind", "unit", "label", "value", "definitions_sha256"],
                    "properties": { "id": { "type": "string" },
                        "area": { "type": "string", "enum": ["reach", "utilisation", "change", "economic_proxy"] },
                        "theme": { "type": "string", "description": "the indicator's theme, when the definitions declare themes" },
                        "kind": { "type": "string" }, "unit": { "type": "string" }, "label": { "type": "object" },
                        "value": { "description": "null when the indicator has no value (a ratio whose denominator is 0)" },
                        "definitions_sha256": hex_hash(), "assumption": { "type": "string" },
                        "source": { "type": "string", "description": "the seed's passage, in Italian, a parameter comes from" } } } } } }),
        ),
        (
            "Explanation",
            json!({ "type": "object",
            "required": ["contract_id", "indicator", "period", "as_of", "value", "definitions_sha256", "facts", "next_after"],
            "properties": { "contract_id": { "type": "string" }, "indicator": { "type": "string" }, "period": { "type": "string" },
                "as_of": { "type": "integer", "minimum": 0 }, "value": {}, "definitions_sha256": hex_hash(),
                "facts": { "type": "array", "items": { "type": "object", "required": ["position", "event_id", "part"],
                    "properties": { "position": position(), "event_id": { "type": "string" }, "part": { "type": "string" },
                        "local_date": { "type": ["string", "null"] }, "key": { "type": ["string", "null"] },
                        "amount": { "type": ["string", "null"] } } } },
                "next_after": cursor } }),
        ),
        (
            "SettlementList",
            json!({ "type": "object", "required": ["contract_id", "settlements"],
            "properties": { "contract_id": reference("ContractId"), "settlements": { "type": "array", "items": { "type": "object",
                "required": ["period", "status", "calculations", "as_of", "final_settlement", "total"],
                "properties": { "period": { "type": "string" },
                    "status": { "type": "string", "enum": ["calculated", "validated", "approved", "paid"] },
                    "calculations": { "type": "integer", "minimum": 1 }, "as_of": position(),
                    "final_settlement": { "type": "boolean" }, "total": { "type": "string" },
                    "total_with_vat": { "type": ["string", "null"] } } } } } }),
        ),
        (
            "BatchAnswer",
            json!({ "type": "object", "required": ["atomic", "items"],
            "properties": { "atomic": { "type": "boolean" }, "items": { "type": "array", "items": { "type": "object",
                "required": ["index"], "description": "Appended (with `status` 201 and `duplicate`), or a problem's fields",
                "properties": { "index": { "type": "integer", "minimum": 0 }, "status": { "type": "integer" },
                    "duplicate": { "type": "boolean" }, "event_id": { "type": "string", "format": "uuid" },
                    "position": position(), "leaf_hash": hex_hash(), "code": { "type": "string" } } } } } }),
        ),
        (
            "Health",
            json!({ "type": "object", "required": ["status"], "properties": { "status": { "type": "string" },
            "store": { "type": "string", "enum": ["sqlite", "postgres"] } } }),
        ),
    ] {
        schemas.insert(name.to_owned(), schema);
    }
}

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

/// A command's request body: its own fields, with `event_id` and `occurred_at`.
fn command_body(name: &str, schema: &Value, with_contract_id: bool) -> Value {
    let mut schema = schema.clone();
    let properties = schema["properties"]
        .as_object_mut()
        .expect("a command has properties");
    properties.remove("type");
    properties.insert("event_id".to_owned(), event_id_schema());
    properties.insert(
        "occurred_at".to_owned(),
        json!({ "$ref": "#/components/schemas/OccurredAt" }),
    );
    let mut required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
    required.retain(|r| r != "type");
    required.push(json!("event_id"));
    required.push(json!("occurred_at"));
    if with_contract_id {
        schema["properties"]["contract_id"] = json!({ "$ref": "#/components/schemas/ContractId" });
        required.push(json!("contract_id"));
    }
    schema["required"] = Value::Array(required);
    schema["title"] = json!(name);
    schema
}

/// A whole contract in one file: its registration and terms, written together or not at all.
fn contract_file_body() -> Value {
    json!({
        "title": "ContractFile",
        "type": "object",
        "required": ["file"],
        "additionalProperties": false,
        "properties": { "file": {
            "type": "string",
            "description": "The contract file's TOML text (docs/contracts.md), at most 524,288 bytes (a longer one \
                is answered 413 body_too_large): parties, term, period kind, currency, \
                definitions, payment terms, funder terms. Sent alone, without an Idempotency-Key: the event ids \
                derive from the file's bytes, so the same file again is a replay. Answered with the registration's entry."
        } }
    })
}

/// A write's event id: required, unless an `Idempotency-Key` header derives it.
fn event_id_schema() -> Value {
    json!({ "type": "string", "format": "uuid", "not": { "const": "00000000-0000-0000-0000-000000000000" },
        "description": "Chosen by the client, so that a retry is the same event; the nil UUID is refused. \
            Instead, an `Idempotency-Key` header (1 to 255 visible ASCII characters) derives it: UUIDv5 in the \
            namespace a0b3c5e2-6f1d-5c8e-9b47-3d2e1f0a9c68 of the JSON array [principal, contract, command type, key] \
            written without spaces (docs/design.md §2)." })
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
            "responses": errors(Map::from_iter([("201".to_owned(), created())]), WRITE_ERRORS),
        });
        if *name == "RegisterContract" {
            let mut operation = operation;
            operation["requestBody"]["content"]["application/json"]["schema"] = json!({ "oneOf": [reference, { "$ref": "#/components/schemas/ContractFileRequest" }] });
            schemas.insert("ContractFileRequest".to_owned(), contract_file_body());
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
    schemas.insert("Problem".to_owned(), json!({ "type": "object", "required": ["type", "title", "title_it", "status", "code", "detail"],
        "properties": { "type": { "type": "string" }, "title": { "type": "string" },
                        "title_it": { "type": "string", "description": "the title in Italian, as the PA writes it" }, "status": { "type": "integer" },
                        "code": { "type": "string" }, "detail": { "type": "string" }, "field": { "type": "string" },
                        "index": { "type": "integer" } } }));
    answer_schemas(&mut schemas);
    let read = |summary: &str, extra: Value, answer: &str| {
        let mut parameters = vec![contract_parameter()];
        if let Value::Array(more) = extra {
            parameters.extend(more);
        }
        json!({ "get": { "summary": summary, "parameters": parameters,
            "responses": errors(Map::from_iter([("200".to_owned(), ok("OK", answer))]), READ_ERRORS) } })
    };
    let after = json!({ "name": "after", "in": "query", "schema": { "type": "integer", "minimum": 0, "maximum": POSITION_MAX },
        "description": "The position after which the page starts" });
    let limit = json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
        "description": "At most 1,000: a larger one is refused, not clamped" });
    let page = json!([after.clone(), limit.clone()]);
    paths.insert("/v1/contracts/{contract}/batch".to_owned(), json!({ "post": {
        "summary": "Up to 1,000 commands, all or nothing unless atomic=false; answered per item",
        "parameters": [contract_parameter(), { "name": "atomic", "in": "query", "schema": { "type": "boolean", "default": true } }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["items"],
            "additionalProperties": false,
            "properties": { "items": { "type": "array", "minItems": 1, "maxItems": 1000, "items": {
                "description": "A command object: `type` (as in the command schemas' titles), `event_id`, `occurred_at` and the \
                    command's fields, as its endpoint takes them. An item that is not one is refused: the whole batch when \
                    atomic, in its own answer otherwise, so the item is not constrained here" } } } } } } },
        "responses": errors(Map::from_iter([("200".to_owned(), ok("One answer per item", "BatchAnswer"))]), WRITE_ERRORS) } }));
    paths.insert(
        "/v1/contracts/{contract}/events".to_owned(),
        read(
            "Entries in position order, after a cursor",
            page,
            "EventsPage",
        ),
    );
    paths.insert("/v1/contracts/{contract}/events/{event_id}".to_owned(),
        read("One entry", json!([{ "name": "event_id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }]), "EntryLine"));
    paths.insert("/v1/contracts/{contract}/streams/{stream_type}/{stream_id}".to_owned(),
        read("One stream's entries", json!([{ "name": "stream_type", "in": "path", "required": true, "schema": { "type": "string" } },
                                              { "name": "stream_id", "in": "path", "required": true, "schema": { "type": "string" } }]), "Stream"));
    paths.insert("/v1/contracts/{contract}/proofs/inclusion".to_owned(),
        read("RFC 9162 inclusion proof of the entry at a position in the tree of a size (default: the whole log)",
             json!([{ "name": "position", "in": "query", "required": true, "schema": position() },
                    { "name": "size", "in": "query", "schema": position() }]), "InclusionProof"));
    paths.insert(
        "/v1/contracts/{contract}/proofs/consistency".to_owned(),
        read(
            "RFC 9162 consistency proof between two tree sizes",
            json!([{ "name": "first", "in": "query", "required": true, "schema": position() },
                    { "name": "second", "in": "query", "required": true, "schema": position() }]),
            "ConsistencyProof",
        ),
    );
    paths.insert(
        "/v1/contracts/{contract}/checkpoints/latest".to_owned(),
        read("The latest signed checkpoint", json!([]), "Checkpoint"),
    );
    let plain = |description: &str| {
        json!({ "description": description,
        "content": { "text/plain": { "schema": { "type": "string" } } } })
    };
    paths.insert("/v1/contracts/{contract}/checkpoint".to_owned(), json!({ "get": {
        "summary": "The latest checkpoint as a C2SP tlog-checkpoint signed note: origin esito/contracts/{contract}, size, base64 root hash, an Ed25519 note signature",
        "parameters": [contract_parameter()],
        "responses": errors(Map::from_iter([("200".to_owned(), plain("The signed note"))]), READ_ERRORS) } }));
    paths.insert("/v1/contracts/{contract}/checkpoint/verifier-key".to_owned(), json!({ "get": {
        "summary": "The signed-note verifier key (name+id+key) that checks the contract's checkpoint notes",
        "parameters": [contract_parameter()],
        "responses": errors(Map::from_iter([("200".to_owned(), plain("The verifier key and a newline"))]), READ_ERRORS) } }));
    let problem_row = json!({ "type": "object", "required": ["line", "column", "code", "message"],
        "properties": { "line": { "type": "integer", "minimum": 1 }, "column": { "type": "string" },
            "code": { "type": "string" }, "message": { "type": "string" } } });
    paths.insert("/v1/contracts/{contract}/imports".to_owned(), json!({ "post": {
        "summary": "Commands from a CSV file, one row each (columns named as the command's fields, nested ones dotted; `;` or `,`; dates dd/mm/yyyy or ISO 8601; decimals with , or .): every row checked, then written unless a row is bad (422 invalid_rows with every bad row's line, column, code and message). Rows without event_id get one derived from the file's SHA-256 and the row number, so the same file again writes nothing. At most 100,000 rows",
        "parameters": [contract_parameter(),
            { "name": "command", "in": "query", "required": true, "schema": { "type": "string" },
              "description": "The command's path segment, such as record-access (templates in docs/import/)" },
            { "name": "dry_run", "in": "query", "schema": { "type": "boolean", "default": false }, "description": "Check every row, write nothing" },
            { "name": "skip_invalid", "in": "query", "schema": { "type": "boolean", "default": false }, "description": "Write the good rows even when some are bad" }],
        "requestBody": { "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } },
        "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "What was checked and written",
            "content": { "application/json": { "schema": { "type": "object",
                "required": ["command", "delimiter", "bom", "dry_run", "rows", "valid", "written", "already_in_log", "problems"],
                "properties": { "command": { "type": "string" }, "delimiter": { "type": "string" }, "bom": { "type": "boolean" },
                    "dry_run": { "type": "boolean" }, "rows": { "type": "integer" }, "valid": { "type": "integer" },
                    "written": { "type": "integer" }, "already_in_log": { "type": "integer" },
                    "problems": { "type": "array", "items": problem_row } } } } } }))]), WRITE_ERRORS) } }));
    paths.insert("/v1/contracts/{contract}/export".to_owned(), json!({ "get": {
        "summary": "The export as `esito export` writes it, streamed: the entries after `after`, then the checkpoints of sizes above it, as JSON Lines (evaluator, payer, funder, admin)",
        "parameters": [contract_parameter(), { "name": "after", "in": "query",
            "schema": { "type": "integer", "minimum": 0, "maximum": POSITION_MAX },
            "description": "Only the entries after this position, and the checkpoints above it (default 0: everything)" }],
        "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "JSON Lines, one entry or checkpoint a line (docs/design.md §3); the header esito-entries counts the entries",
            "content": { "application/x-ndjson": { "schema": { "type": "string" } } } }))]), READ_ERRORS) } }));
    paths.insert("/v1/contracts/{contract}/export/indigo".to_owned(), json!({ "get": {
        "summary": "The contract as one INDIGO project.json (schemas/indigo/project.json): parties, dates, outcome metrics and pricings, payers' commitments, the funder's investment, each approved or paid settlement's lines as outcome payments and its money as transactions, results per settled period; the same bytes as `esito export --format indigo` (evaluator, payer, funder, admin)",
        "parameters": [contract_parameter()],
        "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "An INDIGO project document (docs/interoperability.md, INDIGO)",
            "content": { "application/json": { "schema": { "type": "object" } } } }))]), READ_ERRORS) } }));
    paths.insert("/v1/contracts/{contract}/checkpoints".to_owned(), json!({ "post": {
        "summary": "Sign a checkpoint of the current tree head now (admin)", "parameters": [contract_parameter()],
        "responses": errors(Map::from_iter([("201".to_owned(), ok("The checkpoint", "Checkpoint"))]), READ_ERRORS) } }));
    paths.insert(
        "/v1/checkpoint-key".to_owned(),
        json!({ "get": { "summary": "The public key (base64) and key id that sign checkpoints",
        "security": [], "responses": errors(Map::from_iter([("200".to_owned(), ok("OK", "CheckpointKey"))]), PUBLIC_ERRORS) } }),
    );
    let period = json!({ "name": "period", "in": "query", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9]{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$" },
        "description": "2024, 2024-H1, 2024-Q1 or 2024-03" });
    let as_of = json!({ "name": "as_of", "in": "query", "schema": { "type": "integer", "minimum": 0, "maximum": POSITION_MAX },
        "description": "The log position the values are computed as of (default: the latest)" });
    // A period, or a range of days by dates instead: the same values over the days asked.
    let mut period_or_range = period.clone();
    period_or_range["required"] = json!(false);
    period_or_range["description"] =
        json!("2024, 2024-H1, 2024-Q1 or 2024-03; or give `from` and `to` instead");
    let from = json!({ "name": "from", "in": "query", "schema": { "type": "string", "format": "date" },
        "description": "The first day of a range of days asked instead of a period (with `to`)" });
    let to = json!({ "name": "to", "in": "query", "schema": { "type": "string", "format": "date" },
        "description": "The first day after the range (with `from`): `from=2023-07-01&to=2024-04-01` is July 2023 to March 2024" });
    let mut range_report = schemas
        .get("IndicatorReport")
        .cloned()
        .expect("the report's schema is listed above");
    range_report["required"] = json!([
        "contract_id",
        "as_of",
        "from",
        "to",
        "template",
        "definitions_sha256",
        "indicators"
    ]);
    if let Some(properties) = range_report["properties"].as_object_mut() {
        for name in ["period", "start_on", "end_on"] {
            properties.remove(name);
        }
        properties.insert(
            "from".to_owned(),
            json!({ "type": "string", "format": "date" }),
        );
        properties.insert("to".to_owned(), json!({ "type": "string", "format": "date", "description": "the first day after the range" }));
    }
    schemas.insert("IndicatorRangeReport".to_owned(), range_report);
    schemas.insert(
        "IndicatorAnswer".to_owned(),
        json!({ "oneOf": [reference("IndicatorReport"), reference("IndicatorRangeReport")] }),
    );
    paths.insert("/v1/contracts/{contract}/indicators".to_owned(),
        read("Every indicator of the contract's template for a period, as of a log position: {as_of, period, indicators: [{id, area, value, ...}]}; with `from` and `to` instead of `period`, over that range of days: {as_of, from, to, indicators}",
             json!([period_or_range, from, to, as_of.clone()]), "IndicatorAnswer"));
    paths.insert("/v1/contracts/{contract}/indicators/{indicator}/explain".to_owned(),
        read("The facts (entries with their positions) behind one indicator's value, paged by position",
             json!([{ "name": "indicator", "in": "path", "required": true, "schema": { "type": "string" } },
                    period, as_of, after, limit]), "Explanation"));
    paths.insert(
        "/v1/checkpoint-keys".to_owned(),
        json!({ "get": { "summary": "Every public key that has signed checkpoints, oldest first, with when a rotation retired it: a checkpoint is checked with the key its key_id names",
        "security": [], "responses": errors(Map::from_iter([("200".to_owned(), ok("OK", "CheckpointKeys"))]), PUBLIC_ERRORS) } }),
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
    key_paths(&mut paths, &mut schemas);
    identity_paths(&mut paths, &mut schemas);
    for list in ["beneficiaries", "tokens", "tenancies", "placements"] {
        let cursor = json!([{ "name": "after", "in": "query", "schema": { "type": "string" },
                              "description": "The id after which the page starts" }, limit]);
        paths.insert(
            format!("/v1/contracts/{{contract}}/{list}"),
            read(&format!("The {list}, by id"), cursor, "ListPage"),
        );
    }
    for (path, summary, answer, refusals) in [
        ("/healthz", "Alive", ok("OK", "Health"), &["422"][..]),
        (
            "/readyz",
            "Ready: the database answers",
            ok("OK", "Health"),
            &["422", "503"][..],
        ),
        (
            "/metrics",
            "Prometheus metrics",
            json!({ "description": "The Prometheus text format",
            "content": { "text/plain": { "schema": { "type": "string" } } } }),
            &["422"][..],
        ),
        (
            "/openapi.json",
            "This document",
            json!({ "description": "OpenAPI 3.1",
            "content": { "application/json": { "schema": { "type": "object" } } } }),
            &["422"][..],
        ),
    ] {
        paths.insert(
            path.to_owned(),
            json!({ "get": { "summary": summary, "security": [],
            "responses": errors(Map::from_iter([("200".to_owned(), answer)]), refusals) } }),
        );
    }
    tables(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Esito", "version": env!("CARGO_PKG_VERSION"),
                  "description": "The ledger of outcome-based social contracts. Every write is an immutable event in a contract's log, \
                      named by its event_id (or an Idempotency-Key header). Every refusal is application/problem+json \
                      (the Problem schema) with a stable `code` and the `field` at fault: a body not sent as application/json \
                      is 415 unsupported_media_type, an unknown path 404 not_found, a method a path does not list 405 \
                      method_not_allowed with an Allow header, a query parameter an operation does not list 422 unknown_field." },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": { "schemas": schemas, "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } } },
    })
}

/// The settlements: calculated on request, validated, certified, approved, paid or withdrawn, read as JSON
/// or HTML.
/// The identity vault: the operator registers, reads and erases; the admin registers and
/// erases; no other role reaches an identity (docs/privacy.md).
fn identity_paths(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let text = json!({ "type": "string", "minLength": 1, "maxLength": 200 });
    let fiscal_code = json!({ "type": "string", "pattern": "^[A-Za-z0-9]{16}$",
        "description": "Codice fiscale, checked by its check character" });
    schemas.insert("Identity".to_owned(), json!({ "type": "object", "required": ["given_name", "family_name"],
        "additionalProperties": false,
        "properties": { "given_name": text.clone(), "family_name": text.clone(), "fiscal_code": fiscal_code.clone(),
            "birth_date": { "type": "string", "format": "date" },
            "contacts": { "type": "object", "additionalProperties": false,
                "properties": { "phone": text.clone(), "email": text.clone(), "address": text } } } }));
    schemas.insert(
        "IdentityRead".to_owned(),
        json!({ "allOf": [reference("Identity")],
        "description": "The identity with its `beneficiary_id`" }),
    );
    schemas.insert(
        "IdentityRef".to_owned(),
        json!({ "type": "object", "required": ["beneficiary_id"],
        "properties": { "beneficiary_id": { "type": "string" } } }),
    );
    schemas.insert("IdentityErasure".to_owned(), json!({ "type": "object",
        "required": ["beneficiary_id", "erased_at", "event_id", "position"],
        "properties": { "beneficiary_id": { "type": "string" }, "erased_at": { "type": "string", "format": "date-time" },
            "event_id": { "type": "string", "format": "uuid" }, "position": position() } }));
    let beneficiary = json!({ "name": "beneficiary_id", "in": "path", "required": true, "schema": { "type": "string" } });
    paths.insert("/v1/contracts/{contract}/identities".to_owned(), json!({ "get": {
        "summary": "The pseudonym registered with a fiscal code, found by its keyed hash (operator)",
        "parameters": [contract_parameter(), { "name": "fiscal_code", "in": "query", "required": true, "schema": fiscal_code }],
        "responses": errors(Map::from_iter([("200".to_owned(), ok("The pseudonym", "IdentityRef"))]), VAULT_ERRORS) } }));
    paths.insert("/v1/contracts/{contract}/identities/{beneficiary_id}".to_owned(), json!({
        "put": { "summary": "Register or replace a person's identity, sealed in the vault (operator, admin)",
            "parameters": [contract_parameter(), beneficiary.clone()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": reference("Identity") } } },
            "responses": errors(Map::from_iter([
                ("200".to_owned(), ok("Replaced", "IdentityRef")), ("201".to_owned(), ok("Registered", "IdentityRef"))]),
                &["400", "401", "403", "404", "409", "413", "415", "422", "500", "503"]) },
        "get": { "summary": "A person's identity (operator only); 404 identity_erased after an erasure",
            "parameters": [contract_parameter(), beneficiary.clone()],
            "responses": errors(Map::from_iter([("200".to_owned(), ok("The identity", "IdentityRead"))]), VAULT_ERRORS) },
        "delete": { "summary": "Erase a person: its data key and record are deleted, IdentityErased is recorded (operator, admin)",
            "parameters": [contract_parameter(), beneficiary],
            "responses": errors(Map::from_iter([("200".to_owned(), ok("Erased", "IdentityErasure"))]), VAULT_ERRORS) } }));
}

/// What a request to the vault may be refused with.
const VAULT_ERRORS: &[&str] = &["401", "403", "404", "409", "422", "500", "503"];

/// `/v1/keys`: the admin lists, creates and revokes keys (a key that reaches every contract).
fn key_paths(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let nullable_time = json!({ "type": ["string", "null"], "format": "date-time" });
    schemas.insert("KeyListing".to_owned(), json!({ "type": "object",
        "required": ["id", "principal", "role", "contracts", "provider_id", "created_at", "last_used_at",
                     "expires_at", "revoked_at", "demo", "state"],
        "properties": { "id": { "type": "string", "pattern": "^[0-9a-f]{16}$",
                                "description": "16 hex digits of the key's SHA-256, as the access log names it" },
            "principal": { "type": "string" },
            "role": { "type": "string", "enum": ["admin", "operator", "provider", "payer", "funder", "evaluator"] },
            "contracts": { "type": "array", "items": { "type": "string" }, "description": "Empty: every contract (an admin)" },
            "provider_id": { "type": ["string", "null"] }, "created_at": { "type": "string", "format": "date-time" },
            "last_used_at": nullable_time.clone(), "expires_at": nullable_time.clone(), "revoked_at": nullable_time,
            "demo": { "type": "boolean" }, "state": { "type": "string", "enum": ["active", "expired", "revoked"] },
            "key": { "type": "string", "description": "Only in the answer that creates it: the key, shown once" } } }));
    schemas.insert(
        "KeyList".to_owned(),
        json!({ "type": "object", "required": ["keys"],
        "properties": { "keys": { "type": "array", "items": reference("KeyListing") } } }),
    );
    let admin_errors = ["401", "403", "422", "500", "503"];
    paths.insert("/v1/keys".to_owned(), json!({
        "get": { "summary": "Every key, revoked and expired ones included, never a key itself (admin)",
            "responses": errors(Map::from_iter([("200".to_owned(), ok("OK", "KeyList"))]), &admin_errors) },
        "post": { "summary": "Create a key, shown once in the answer (admin)",
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object",
                "required": ["role"], "additionalProperties": false,
                "properties": { "role": { "type": "string", "enum": ["admin", "operator", "provider", "payer", "funder", "evaluator"] },
                    "contracts": { "type": "array", "items": reference("ContractId"),
                                   "description": "None: every contract, an admin key only" },
                    "provider_id": { "type": "string", "description": "A provider key's provider, and only a provider key's" },
                    "principal": { "type": "string", "minLength": 1, "maxLength": 128 },
                    "expires_in": { "type": "string", "pattern": "^[0-9]+[dhm]$",
                                    "description": "90d, 12h or 30m, at most 3650 days; absent: until revoked" } } } } } },
            "responses": errors(Map::from_iter([("201".to_owned(), ok("The key and its listing", "KeyListing"))]),
                                &["400", "401", "403", "413", "415", "422", "500", "503"]) } }));
    paths.insert("/v1/keys/{key_id}".to_owned(), json!({ "delete": {
        "summary": "Revoke a key: every instance refuses it within a second (admin)",
        "parameters": [{ "name": "key_id", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": errors(Map::from_iter([("200".to_owned(), ok("The key as revoked", "KeyListing"))]),
                            &["401", "403", "404", "422", "500", "503"]) } }));
}

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
            "status": { "type": "string", "enum": ["calculated", "validated", "certified", "approved", "paid", "withdrawn"] },
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
            "certified": { "type": ["object", "null"], "description": "The RUP's attestazione di regolare esecuzione: its date, the RUP, the CIG and CUP cited." },
            "approved": { "type": ["object", "null"], "description": "The approval: the determina di liquidazione's number and date, the CIG and CUP cited." },
            "paid": { "type": ["object", "null"], "description": "The payment: its date and reference, the mandato di pagamento's number and date, the CIG and CUP cited." },
            "procurement": { "type": "object", "description": "The contract's CIG, CUP and RUP as recorded now." },
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
                "required": ["period", "event_id"], "additionalProperties": false,
                "properties": { "period": { "type": "string", "examples": ["2024-Q1"] }, "event_id": event_id_schema() } } } } },
            "responses": errors(Map::from_iter([("201".to_owned(), json!({ "description": "Calculated and recorded (or, with `Idempotent-Replay: true`, recorded before under this event id)",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Settlement" } } } }))]),
                WRITE_ERRORS) },
        "get": {
            "summary": "Every period settled, in order: status and totals",
            "parameters": [contract_parameter()],
            "responses": errors(Map::from_iter([("200".to_owned(), ok("OK", "SettlementList"))]), READ_ERRORS) } }));
    paths.insert("/v1/contracts/{contract}/settlements/{period}".to_owned(), json!({ "get": {
        "summary": "A settlement: JSON, or the printable page with Accept: text/html",
        "parameters": [contract_parameter(), period.clone()],
        "responses": errors(Map::from_iter([("200".to_owned(), settlement_ok("The settlement"))]), READ_ERRORS) } }));
    paths.insert(
        "/v1/contracts/{contract}/settlements/{period}/html".to_owned(),
        json!({ "get": {
        "summary": "A settlement's printable page",
        "parameters": [contract_parameter(), period.clone()],
        "responses": errors(Map::from_iter([("200".to_owned(), json!({ "description": "HTML",
            "content": { "text/html": { "schema": { "type": "string" } } } }))]), READ_ERRORS) } }),
    );
    let catalog = catalog();
    for (step, command, who) in [
        ("validate", "ValidateSettlement", "the evaluator"),
        (
            "certify",
            "CertifySettlement",
            "the payer's RUP, the attestazione di regolare esecuzione; the settlement must be validated",
        ),
        (
            "approve",
            "ApproveSettlement",
            "the payer, the determina di liquidazione; the settlement must be validated, and \
             certified when the contract has a CIG, which makes determina_number and \
             determina_date required",
        ),
        (
            "pay",
            "RecordSettlementPayment",
            "the payer, the mandato di pagamento; the settlement must be approved; \
             mandato_number and mandato_date are required when the contract has a CIG",
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
            "responses": errors(Map::from_iter([("201".to_owned(), created())]), WRITE_ERRORS) } }));
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

/// The reads that also answer a table: `format=csv` and a `text/csv` answer beside the JSON.
fn tables(paths: &mut Map<String, Value>) {
    for path in [
        "/v1/contracts/{contract}/indicators",
        "/v1/contracts/{contract}/indicators/{indicator}/explain",
        "/v1/contracts/{contract}/settlements/{period}",
    ] {
        let operation = &mut paths[path]["get"];
        if let Some(parameters) = operation["parameters"].as_array_mut() {
            parameters.push(json!({ "name": "format", "in": "query",
                "schema": { "type": "string", "enum": ["json", "csv"], "default": "json" },
                "description": "csv: the same figures as a table for spreadsheets (RFC 4180, UTF-8, a header row)" }));
        }
        operation["responses"]["200"]["content"]["text/csv"] =
            json!({ "schema": { "type": "string" } });
    }
}
