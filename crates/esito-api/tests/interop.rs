//! Data in and out over HTTP, on SQLite and on a real PostgreSQL: the export streamed as the
//! store writes it; the checkpoint as a C2SP signed note, checked by a verifier written here
//! from the specification's text alone; tables for spreadsheets holding the JSON's figures.

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_api::AppState;
use esito_domain::ContractId;
use esito_testkit::{both_stores, Fresh};

mod router_fixture;
use router_fixture::{centre_access, key, register_contract, Fixture};

const CONTRACT: &str = "export-contract";
/// Centre accesses after the registration.
const ACCESSES: usize = 40;
/// The log's size when the first checkpoint is signed.
const FIRST_CHECKPOINT: u64 = 21;

both_stores!(
    fixture = fixture;
    the_http_export_is_the_stores_export_byte_for_byte_and_after_n_holds_only_what_is_new,
    the_checkpoint_note_verifies_by_the_c2sp_text_and_one_byte_changed_is_refused,
    indicators_explanations_and_settlements_answer_as_tables_with_the_json_figures,
    the_indigo_document_is_the_stores_for_the_roles_that_export_and_refused_to_the_others,
);

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

/// The contract with its accesses, a checkpoint signed at size 21 and one at the end.
async fn fixture(fresh: Fresh) -> Fixture {
    let mut submissions = vec![register_contract("Export")];
    submissions.extend((0..ACCESSES).map(|n| centre_access(n, "2023-08-01T10:00:00+02:00")));
    let split = usize::try_from(FIRST_CHECKPOINT).expect("small");
    let mut state = None;
    let fixture = router_fixture::serve(fresh, &contract(), &submissions[..split], |store| {
        let made = AppState::with_checkpoint_key(
            store,
            esito_log::signing::CheckpointKey::from_seed([7; 32]),
        );
        state = Some(made.clone());
        made
    })
    .await;
    let state = state.expect("the state was made");
    state
        .make_checkpoint(&contract())
        .await
        .expect("signed")
        .expect("a key");
    fixture
        .store
        .append(&contract(), "fixture", &submissions[split..])
        .await
        .expect("valid");
    state
        .make_checkpoint(&contract())
        .await
        .expect("signed")
        .expect("a key");
    fixture
}

async fn get(fixture: &Fixture, path: &str, role: Role) -> router_fixture::Answer {
    router_fixture::send(
        &fixture.app,
        router_fixture::json_request("GET", path, Some(&key(role)), None),
    )
    .await
}

async fn the_http_export_is_the_stores_export_byte_for_byte_and_after_n_holds_only_what_is_new(
    fixture: Fixture,
) {
    let mut written = Vec::new();
    let size = fixture
        .store
        .export(&contract(), &mut written)
        .await
        .expect("exported");
    assert_eq!(size, 1 + ACCESSES as u64);
    let written = String::from_utf8(written).expect("UTF-8");

    let whole = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export"),
        Role::Evaluator,
    )
    .await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
    assert_eq!(whole.content_type, esito_api::export::JSON_LINES);
    assert_eq!(whole.headers[esito_api::export::ENTRIES_HEADER], "41");
    assert_eq!(whole.text, written);
    let report = esito_log::verify_export(whole.text.as_bytes(), |_| {}).expect("it verifies");
    assert_eq!((report.size, report.checkpoints.len()), (41, 2));

    // After 30: the entries 31..=41 and the checkpoint at 41, the one at 21 being older.
    let new = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export?after=30"),
        Role::Funder,
    )
    .await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    assert_eq!(new.headers[esito_api::export::ENTRIES_HEADER], "11");
    let expected: Vec<&str> = written
        .lines()
        .filter(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("json");
            value["position"].as_u64().is_some_and(|p| p > 30)
                || value["checkpoint"]["size"].as_u64().is_some_and(|s| s > 30)
        })
        .collect();
    assert_eq!(expected.len(), 12);
    assert_eq!(new.text, expected.join("\n") + "\n");

    // The old export, with what is new put in its place, is the whole export again.
    let old = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export?after=0"),
        Role::Payer,
    )
    .await;
    assert_eq!(old.text, written);

    // Beyond the head: nothing, not an error.
    let none = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/export?after=41"),
        Role::Admin,
    )
    .await;
    assert_eq!((none.status, none.text.as_str()), (StatusCode::OK, ""));

    // The operator reads the log page by page; the provider sees only its tokens.
    for role in [Role::Operator, Role::Provider] {
        let refused = get(&fixture, &format!("/v1/contracts/{CONTRACT}/export"), role).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", role.as_str());
        assert_eq!(refused.json["code"], "forbidden");
    }
    // A negative or unknown parameter is refused, naming it.
    for (query, field) in [("after=-1", "after"), ("limit=5", "limit")] {
        let refused = get(
            &fixture,
            &format!("/v1/contracts/{CONTRACT}/export?{query}"),
            Role::Evaluator,
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(refused.json["field"], field, "{}", refused.text);
    }
}

/// A signed-note verifier written from c2sp.org/signed-note and c2sp.org/tlog-checkpoint alone,
/// sharing no code with the service: the note text is everything up to and including the
/// newline before the last blank line; each signature line is an em dash, a space, the key
/// name, a space and base64(key id || signature); the Ed25519 key id is the first four bytes of
/// SHA-256(name || 0x0A || 0x01 || public key); a signature of the known key must verify, and
/// one must be there. Returns the checkpoint's origin, size and root hash.
fn c2sp_verify(
    note: &str,
    name: &str,
    public_key: &[u8; 32],
) -> Result<(String, u64, [u8; 32]), String> {
    use base64::Engine;
    use ed25519_dalek::Verifier;
    use sha2::Digest;
    let b64 = base64::engine::general_purpose::STANDARD;
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err("a control character".into());
    }
    let blank = note.rfind("\n\n").ok_or("no blank line")?;
    let text = &note[..=blank];
    let mut key_id = sha2::Sha256::new();
    key_id.update(name.as_bytes());
    key_id.update([0x0A, 0x01]);
    key_id.update(public_key);
    let key_id = key_id.finalize();
    let key = ed25519_dalek::VerifyingKey::from_bytes(public_key).map_err(|e| e.to_string())?;
    let mut verified = false;
    for line in note[blank + 2..].split_terminator('\n') {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("a signature line without its dash")?;
        let (signer, signature) = rest.split_once(' ').ok_or("no signature")?;
        let signature = b64.decode(signature).map_err(|e| e.to_string())?;
        if signer != name || signature.len() < 4 || signature[..4] != key_id[..4] {
            continue; // an unknown key: ignored
        }
        let signature =
            ed25519_dalek::Signature::from_slice(&signature[4..]).map_err(|e| e.to_string())?;
        key.verify(text.as_bytes(), &signature)
            .map_err(|_| "the known key's signature does not verify".to_owned())?;
        verified = true;
    }
    if !verified {
        return Err("no signature of the known key".into());
    }
    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    let [origin, size, root, ..] = lines.as_slice() else {
        return Err("fewer than three lines".into());
    };
    let size: u64 = size.parse().map_err(|_| "the size is not decimal")?;
    let root: [u8; 32] = b64
        .decode(root)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "the root is not 32 bytes")?;
    Ok(((*origin).to_owned(), size, root))
}

async fn the_checkpoint_note_verifies_by_the_c2sp_text_and_one_byte_changed_is_refused(
    fixture: Fixture,
) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let note = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/checkpoint"),
        Role::Evaluator,
    )
    .await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.text);
    assert_eq!(note.content_type, "text/plain; charset=utf-8");
    let key = get(&fixture, "/v1/checkpoint-key", Role::Evaluator).await;
    let public_key: [u8; 32] = b64
        .decode(key.json["public_key"].as_str().expect("a key"))
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let latest = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/checkpoints/latest"),
        Role::Evaluator,
    )
    .await;
    let origin = format!("esito/contracts/{CONTRACT}");

    let (read_origin, size, root) =
        c2sp_verify(&note.text, &origin, &public_key).expect("the note verifies");
    assert_eq!(read_origin, origin);
    assert_eq!(size, latest.json["size"].as_u64().expect("a size"));
    assert_eq!(size, 1 + ACCESSES as u64);
    assert_eq!(
        hex::encode(root),
        latest.json["root_hash"].as_str().expect("a root")
    );
    // Asked again, the same bytes: the signature is deterministic.
    let again = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/checkpoint"),
        Role::Payer,
    )
    .await;
    assert_eq!(again.text, note.text);

    // One byte changed anywhere in the note text or its signature: refused by this verifier
    // and by the service's own reading.
    let keyring = {
        let mut keys = esito_log::signing::Keyring::new();
        keys.add(key.json["public_key"].as_str().expect("a key"))
            .expect("a key");
        keys
    };
    let bytes = note.text.as_bytes();
    let signature_start = note.text.rfind(' ').expect("a signature") + 1;
    let mut changed_count = 0;
    for index in (0..bytes.len() - 1)
        .filter(|i| *i < note.text.find("\n\n").expect("blank") || *i >= signature_start)
    {
        let mut changed = bytes.to_vec();
        changed[index] = if changed[index] == b'A' { b'B' } else { b'A' };
        let Ok(changed) = String::from_utf8(changed) else {
            continue;
        };
        assert!(
            c2sp_verify(&changed, &origin, &public_key).is_err(),
            "byte {index} changed, still verified: {changed}"
        );
        let own = esito_log::CheckpointNote::parse(&changed)
            .map_err(|e| e.to_string())
            .and_then(|parsed| keyring.verify_note(&parsed).map_err(|e| e.to_string()));
        assert!(own.is_err(), "byte {index} changed, accepted by esito-log");
        changed_count += 1;
    }
    assert!(changed_count > 100, "{changed_count}");

    // The verifier key in the note format names the origin and the same public key.
    let vkey = get(
        &fixture,
        &format!("/v1/contracts/{CONTRACT}/checkpoint/verifier-key"),
        Role::Evaluator,
    )
    .await;
    let vkey = vkey.text.trim_end();
    let parts: Vec<&str> = vkey.split('+').collect();
    assert_eq!(parts.len(), 3, "{vkey}");
    assert_eq!(parts[0], origin);
    let mut key_id = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut key_id, origin.as_bytes());
    sha2::Digest::update(&mut key_id, [0x0A, 0x01]);
    sha2::Digest::update(&mut key_id, public_key);
    assert_eq!(parts[1], hex::encode(&sha2::Digest::finalize(key_id)[..4]));
    let mut typed = vec![0x01];
    typed.extend_from_slice(&public_key);
    assert_eq!(parts[2], b64.encode(typed));
}

/// The rows of a CSV answer, its header first.
fn rows(answer: &router_fixture::Answer) -> Vec<Vec<String>> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.content_type, esito_api::tables::TEXT_CSV);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(answer.text.as_bytes())
        .records()
        .map(|record| {
            record
                .expect("a CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The cell of `row` under the header `column`.
fn at<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    let index = header
        .iter()
        .position(|name| name == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    &row[index]
}

fn json_cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

async fn indicators_explanations_and_settlements_answer_as_tables_with_the_json_figures(
    fixture: Fixture,
) {
    let base = format!("/v1/contracts/{CONTRACT}");
    // The indicators: one row per indicator, each value as the JSON writes it.
    let json = get(
        &fixture,
        &format!("{base}/indicators?period=2023-Q3"),
        Role::Funder,
    )
    .await;
    let table = rows(
        &get(
            &fixture,
            &format!("{base}/indicators?period=2023-Q3&format=csv"),
            Role::Funder,
        )
        .await,
    );
    let indicators = json.json["indicators"].as_array().expect("indicators");
    assert_eq!(table.len(), 1 + indicators.len());
    for (row, indicator) in table[1..].iter().zip(indicators) {
        assert_eq!(at(&table[0], row, "indicator"), indicator["id"]);
        assert_eq!(at(&table[0], row, "value"), json_cell(&indicator["value"]));
        assert_eq!(at(&table[0], row, "label_it"), indicator["label"]["it"]);
        assert_eq!(at(&table[0], row, "period"), "2023-Q3");
    }
    let accesses = table[1..]
        .iter()
        .find(|row| at(&table[0], row, "indicator") == "centre_accesses")
        .expect("the accesses");
    assert_eq!(at(&table[0], accesses, "value"), ACCESSES.to_string());

    // The explanation: one row per fact, at the fact's position.
    let path = format!("{base}/indicators/centre_accesses/explain?period=2023-Q3&limit=1000");
    let json = get(&fixture, &path, Role::Evaluator).await;
    let table = rows(&get(&fixture, &format!("{path}&format=csv"), Role::Evaluator).await);
    let facts = json.json["facts"].as_array().expect("facts");
    assert_eq!((table.len(), facts.len()), (1 + ACCESSES, ACCESSES));
    for (row, fact) in table[1..].iter().zip(facts) {
        assert_eq!(at(&table[0], row, "position"), fact["position"].to_string());
        assert_eq!(at(&table[0], row, "event_id"), fact["event_id"]);
        assert_eq!(at(&table[0], row, "value"), ACCESSES.to_string());
    }

    // A settlement: one row per line, then the totals.
    fixture
        .store
        .append(
            &contract(),
            "admin",
            &[esito_testkit::submit(
                "2023-07-01T09:05:00+02:00",
                router_fixture::rate_card_from_the_start("centre_accesses", "12.50", None),
            )],
        )
        .await
        .expect("the amendment is valid");
    let calculated = router_fixture::send(
        &fixture.app,
        router_fixture::json_request(
            "POST",
            &format!("{base}/settlements"),
            Some(&key(Role::Payer)),
            Some(
                serde_json::json!({"period": "2023-Q3", "event_id": uuid::Uuid::new_v4()})
                    .to_string(),
            ),
        ),
    )
    .await;
    assert_eq!(
        calculated.status,
        StatusCode::CREATED,
        "{}",
        calculated.text
    );
    let json = get(
        &fixture,
        &format!("{base}/settlements/2023-Q3"),
        Role::Funder,
    )
    .await;
    let table = rows(
        &get(
            &fixture,
            &format!("{base}/settlements/2023-Q3?format=csv"),
            Role::Funder,
        )
        .await,
    );
    let document = &json.json["document"];
    let lines = document["lines"].as_array().expect("lines");
    assert_eq!(table.len(), 1 + lines.len() + 2, "{table:?}");
    for (row, line) in table[1..].iter().zip(lines) {
        assert_eq!(at(&table[0], row, "kind"), line["kind"]);
        assert_eq!(at(&table[0], row, "amount"), line["amount"]);
        assert_eq!(at(&table[0], row, "arithmetic"), line["arithmetic"]);
    }
    // 40 accesses at 12.50.
    assert_eq!(at(&table[0], &table[1], "amount"), "500.00");
    let total = &table[table.len() - 2];
    assert_eq!(
        (at(&table[0], total, "kind"), at(&table[0], total, "amount")),
        ("total", document["total"].as_str().expect("a total"))
    );

    // Any other format is refused, naming the parameter.
    let refused = get(
        &fixture,
        &format!("{base}/indicators?period=2023-Q3&format=xlsx"),
        Role::Funder,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json["field"], "format");
}

async fn the_indigo_document_is_the_stores_for_the_roles_that_export_and_refused_to_the_others(
    fixture: Fixture,
) {
    let expected = esito_api::indigo::document(&fixture.store, &contract())
        .await
        .expect("the document is made");
    let document: serde_json::Value = serde_json::from_slice(&expected).expect("JSON");
    assert_eq!(document["name"]["value"], "Export", "{document}");
    let path = format!("/v1/contracts/{CONTRACT}/export/indigo");
    for role in [Role::Evaluator, Role::Payer, Role::Funder, Role::Admin] {
        let answer = get(&fixture, &path, role).await;
        assert_eq!(answer.status, StatusCode::OK, "{role:?}: {}", answer.text);
        assert_eq!(answer.content_type, "application/json");
        assert!(
            answer.text.as_bytes() == expected.as_slice(),
            "{role:?}: {}",
            answer.text
        );
    }
    for role in [Role::Operator, Role::Provider] {
        let answer = get(&fixture, &path, role).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{role:?}: {}",
            answer.text
        );
    }
    let unknown = get(
        &fixture,
        "/v1/contracts/no-such-contract/export/indigo",
        Role::Admin,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let asked = get(&fixture, &format!("{path}?after=3"), Role::Admin).await;
    assert_eq!(
        asked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        asked.text
    );
    assert!(asked.text.contains("unknown_field"), "{}", asked.text);
}
