//! The identity vault over the API, on both stores: registration, read by role (the operator
//! only), update, lookup by fiscal code, erasure and what is answered after it; bad input named
//! by its field and writing nothing; only ciphertext in the database; a closed vault refusing
//! its requests while the log still answers.

mod router_fixture;

use axum::http::StatusCode;
use axum::Router;
use esito_api::auth::Role;
use esito_api::identities::Vault;
use esito_api::AppState;
use esito_domain::events::{AgeBand, IseeBand};
use esito_domain::{Command, ContractId, StreamId};
use esito_store::identities::StoredIdentity;
use esito_testkit::{both_stores, submit, Fresh};
use esito_vault::MasterKey;
use router_fixture::{json_request, key, log_size, register_contract, send, Answer, Fixture};
use serde_json::{json, Value};

both_stores!(
    fixture = fixture;
    an_identity_is_registered_read_by_the_operator_only_updated_found_and_erased,
    bad_identities_are_refused_naming_their_field_and_store_nothing,
    the_database_holds_ciphertext_only_and_nothing_after_an_erasure,
    a_closed_vault_refuses_its_requests_and_the_log_still_answers,
    registrations_racing_an_erasure_never_bring_the_person_back,
    one_fiscal_code_registered_at_once_for_several_pseudonyms_goes_to_one,
);

const CONTRACT: &str = "vault-walk";
const FISCAL_CODE: &str = "RSSMRA85T10A562S";

fn contract() -> ContractId {
    ContractId::parse(CONTRACT).expect("valid")
}

fn beneficiary(id: &str) -> Command {
    Command::RegisterBeneficiary {
        beneficiary_id: StreamId::parse(id).expect("valid"),
        isee_band: Some(IseeBand::B),
        household_size: Some(2),
        age_band: Some(AgeBand::From35To64),
        flags: vec![],
    }
}

async fn fixture(fresh: Fresh) -> Fixture {
    let master = MasterKey::generate().expect("randomness");
    fresh
        .store
        .adopt_vault_master_key(&master.key_id())
        .await
        .expect("recorded");
    router_fixture::serve(
        fresh,
        &contract(),
        &[
            register_contract("Vault"),
            submit("2023-07-02T09:00:00+02:00", beneficiary("ben-1")),
            submit("2023-07-02T09:01:00+02:00", beneficiary("ben-2")),
            submit("2023-07-02T09:02:00+02:00", beneficiary("ben-3")),
            submit("2023-07-02T09:03:00+02:00", beneficiary("ben-4")),
            submit("2023-07-02T09:04:00+02:00", beneficiary("ben-5")),
            submit("2023-07-02T09:05:00+02:00", beneficiary("ben-6")),
        ],
        |store| AppState::serving(store, None, Vault::Open(master)),
    )
    .await
}

fn path(beneficiary: &str) -> String {
    format!("/v1/contracts/{CONTRACT}/identities/{beneficiary}")
}

async fn call(app: &Router, method: &str, path: &str, role: Role, body: Option<Value>) -> Answer {
    send(
        app,
        json_request(method, path, Some(&key(role)), body.map(|b| b.to_string())),
    )
    .await
}

fn maria() -> Value {
    json!({"given_name": "Mariangela", "family_name": "Zanardelli", "fiscal_code": FISCAL_CODE,
           "birth_date": "1985-12-10", "contacts": {"phone": "+39 0171 555 0101"}})
}

async fn an_identity_is_registered_read_by_the_operator_only_updated_found_and_erased(
    fixture: Fixture,
) {
    let app = &fixture.app;
    let created = call(app, "PUT", &path("ben-1"), Role::Operator, Some(maria())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let read = call(app, "GET", &path("ben-1"), Role::Operator, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json["family_name"], "Zanardelli");
    assert_eq!(read.json["fiscal_code"], FISCAL_CODE);
    assert_eq!(read.json["contacts"]["phone"], "+39 0171 555 0101");
    assert_eq!(read.json["beneficiary_id"], "ben-1");
    // Every other role is refused the identity, and the lookup; the admin registers but does
    // not read.
    for role in [
        Role::Admin,
        Role::Evaluator,
        Role::Payer,
        Role::Funder,
        Role::Provider,
    ] {
        let answer = call(app, "GET", &path("ben-1"), role, None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", role.as_str());
        assert!(!answer.text.contains("Zanardelli"));
        let found = call(
            app,
            "GET",
            &format!("/v1/contracts/{CONTRACT}/identities?fiscal_code={FISCAL_CODE}"),
            role,
            None,
        )
        .await;
        assert_eq!(found.status, StatusCode::FORBIDDEN, "{}", role.as_str());
    }
    for role in [Role::Evaluator, Role::Payer, Role::Funder, Role::Provider] {
        for method in ["PUT", "DELETE"] {
            let answer = call(app, method, &path("ben-1"), role, Some(maria())).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{method} {}",
                role.as_str()
            );
        }
    }
    // The admin replaces it: 200, and the operator reads the new record.
    let mut married = maria();
    married["family_name"] = json!("Zanardelli Bosco");
    let replaced = call(app, "PUT", &path("ben-1"), Role::Admin, Some(married)).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let read = call(app, "GET", &path("ben-1"), Role::Operator, None).await;
    assert_eq!(read.json["family_name"], "Zanardelli Bosco");
    // Found by fiscal code, in any case.
    let found = call(
        app,
        "GET",
        &format!(
            "/v1/contracts/{CONTRACT}/identities?fiscal_code={}",
            FISCAL_CODE.to_lowercase()
        ),
        Role::Operator,
        None,
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert_eq!(found.json, json!({"beneficiary_id": "ben-1"}));
    let unknown = call(app, "GET", &path("ben-2"), Role::Operator, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json["code"], "unknown_identity");

    // Erasure: the record goes, the log gains IdentityErased with the pseudonym and time only.
    let size = log_size(&fixture.store, &contract()).await;
    let erased = call(app, "DELETE", &path("ben-1"), Role::Operator, None).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
    assert_eq!(log_size(&fixture.store, &contract()).await, size + 1);
    let entries = fixture
        .store
        .entries(&contract(), size, 1)
        .await
        .expect("read");
    let entry: Value = serde_json::from_str(&entries[0].entry).expect("JSON");
    assert_eq!(entry["event_type"], "IdentityErased");
    assert_eq!(entry["payload"], json!({}));
    assert_eq!(entry["stream_type"], "beneficiary");
    assert_eq!(entry["stream_id"], "ben-1");
    assert!(!entries[0].entry.contains("Zanardelli") && !entries[0].entry.contains(FISCAL_CODE));
    assert!(matches!(
        fixture
            .store
            .identity(CONTRACT, "ben-1")
            .await
            .expect("read"),
        StoredIdentity::Erased { .. }
    ));
    let after = call(app, "GET", &path("ben-1"), Role::Operator, None).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND, "{}", after.text);
    assert_eq!(after.json["code"], "identity_erased");
    let again = call(app, "PUT", &path("ben-1"), Role::Operator, Some(maria())).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
    assert_eq!(again.json["code"], "identity_erased");
    // Asked again, the erasure answers the same and writes nothing more.
    let twice = call(app, "DELETE", &path("ben-1"), Role::Admin, None).await;
    assert_eq!(twice.status, StatusCode::OK, "{}", twice.text);
    assert_eq!(twice.json["event_id"], erased.json["event_id"]);
    assert_eq!(twice.json["erased_at"], erased.json["erased_at"]);
    assert_eq!(log_size(&fixture.store, &contract()).await, size + 1);
    // The fiscal code is free again once its person is erased.
    let reused = call(app, "PUT", &path("ben-2"), Role::Operator, Some(maria())).await;
    assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.text);
}

async fn bad_identities_are_refused_naming_their_field_and_store_nothing(fixture: Fixture) {
    let app = &fixture.app;
    let created = call(app, "PUT", &path("ben-1"), Role::Operator, Some(maria())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let with = |field: &str, value: Value| {
        let mut body = maria();
        body[field] = value;
        body
    };
    let mut no_family_name = maria();
    no_family_name
        .as_object_mut()
        .expect("object")
        .remove("family_name");
    for (beneficiary, body, status, field) in [
        (
            "ben-2",
            with("fiscal_code", json!("RSSMRA85T10A562T")),
            422,
            "fiscal_code",
        ),
        (
            "ben-2",
            with("fiscal_code", json!("RSSMRA85")),
            422,
            "fiscal_code",
        ),
        ("ben-2", with("given_name", json!("  ")), 422, "given_name"),
        (
            "ben-2",
            with("given_name", json!("x".repeat(201))),
            422,
            "given_name",
        ),
        (
            "ben-2",
            with("birth_date", json!("2999-01-01")),
            422,
            "birth_date",
        ),
        (
            "ben-2",
            with("birth_date", json!("10/12/1985")),
            422,
            "birth_date",
        ),
        ("ben-2", with("isee_band", json!("a")), 422, "isee_band"),
        (
            "ben-2",
            with("contacts", json!({"fax": "1"})),
            422,
            "contacts.fax",
        ),
        ("ben-2", no_family_name, 422, "family_name"),
        // Another pseudonym of the contract already has this fiscal code.
        ("ben-2", maria(), 409, "fiscal_code"),
        // No such beneficiary in the log.
        (
            "ben-9",
            with("fiscal_code", json!("MRTMTT25D09F205Z")),
            422,
            "beneficiary_id",
        ),
    ] {
        let answer = call(
            app,
            "PUT",
            &path(beneficiary),
            Role::Operator,
            Some(body.clone()),
        )
        .await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text);
        assert_eq!(answer.json["field"], field, "{body}: {}", answer.text);
        assert_eq!(
            answer.content_type, "application/problem+json",
            "{}",
            answer.text
        );
    }
    assert_eq!(fixture.store.identity_count().await.expect("count"), 1);
    let bad_lookup = call(
        app,
        "GET",
        &format!("/v1/contracts/{CONTRACT}/identities?fiscal_code=XYZ"),
        Role::Operator,
        None,
    )
    .await;
    assert_eq!(bad_lookup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_lookup.json["field"], "fiscal_code");
    let unknown = call(app, "DELETE", &path("ben-2"), Role::Operator, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json["code"], "unknown_identity");
}

/// Every byte of the SQLite file and its write-ahead log, or of a plain `pg_dump` of the
/// schema.
fn database_bytes(url: &str) -> Vec<u8> {
    if let Some(file) = esito_store::database_url::sqlite_file(url) {
        let mut bytes = std::fs::read(&file).expect("the database file");
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        bytes.extend(std::fs::read(&wal).unwrap_or_default());
        return bytes;
    }
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for the PostgreSQL half");
    let schema = url
        .rsplit_once("options[search_path]=")
        .expect("a scratch schema")
        .1;
    let output = std::process::Command::new(postgres_tool("pg_dump"))
        .args(["--schema", schema, &base])
        .output()
        .expect("pg_dump runs (the PostgreSQL client tools)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn postgres_tool(name: &str) -> std::path::PathBuf {
    let mut candidates: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|versions| {
            versions
                .filter_map(Result::ok)
                .map(|version| version.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates.reverse();
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| std::path::PathBuf::from(name))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// As `pg_dump` writes a byte string: `\x` and hex digits.
fn searchable(url: &str, bytes: &[u8]) -> Vec<u8> {
    if url.starts_with("postgres") {
        hex::encode(bytes).into_bytes()
    } else {
        bytes.to_vec()
    }
}

async fn the_database_holds_ciphertext_only_and_nothing_after_an_erasure(fixture: Fixture) {
    let app = &fixture.app;
    let created = call(app, "PUT", &path("ben-1"), Role::Operator, Some(maria())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let StoredIdentity::Present(row) = fixture
        .store
        .identity(CONTRACT, "ben-1")
        .await
        .expect("read")
    else {
        panic!("registered");
    };
    let before = database_bytes(&fixture.url);
    // The ciphertext is there, the plaintext never.
    assert!(contains(
        &before,
        &searchable(&fixture.url, &row.ciphertext)
    ));
    for plain in ["Zanardelli", FISCAL_CODE, "Mariangela", "555 0101"] {
        assert!(
            !contains(&before, plain.as_bytes()),
            "{plain} before erasure"
        );
    }
    let erased = call(app, "DELETE", &path("ben-1"), Role::Operator, None).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
    let after = database_bytes(&fixture.url);
    for plain in ["Zanardelli", FISCAL_CODE, "Mariangela", "555 0101"] {
        assert!(!contains(&after, plain.as_bytes()), "{plain} after erasure");
    }
    // Nor the wrapped data key, nor the ciphertext: no copy remains that the master key opens.
    assert!(
        !contains(&after, &searchable(&fixture.url, &row.wrapped_key)),
        "the wrapped key"
    );
    assert!(
        !contains(&after, &searchable(&fixture.url, &row.ciphertext)),
        "the ciphertext"
    );
}

async fn a_closed_vault_refuses_its_requests_and_the_log_still_answers(fixture: Fixture) {
    let app = esito_api::router(AppState::serving(
        fixture.store.clone(),
        None,
        Vault::closed("the master key file esito-vault.key is missing"),
    ));
    for (method, body) in [("PUT", Some(maria())), ("GET", None)] {
        let answer = call(&app, method, &path("ben-1"), Role::Operator, body).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.text
        );
        assert_eq!(answer.json["code"], "vault_unavailable");
        assert!(
            answer.text.contains("esito-vault.key is missing"),
            "{}",
            answer.text
        );
    }
    let events = call(
        &app,
        "GET",
        &format!("/v1/contracts/{CONTRACT}/events?limit=5"),
        Role::Evaluator,
        None,
    )
    .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    let indicators = call(
        &app,
        "GET",
        &format!("/v1/contracts/{CONTRACT}/indicators?period=2023-Q3"),
        Role::Evaluator,
        None,
    )
    .await;
    assert_eq!(indicators.status, StatusCode::OK, "{}", indicators.text);
}

/// Registrations sent while the erasure runs: each is written before it (and then erased) or
/// refused after it; none writes the person back once erased.
async fn registrations_racing_an_erasure_never_bring_the_person_back(fixture: Fixture) {
    let app = fixture.app.clone();
    let created = call(&app, "PUT", &path("ben-1"), Role::Operator, Some(maria())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let mut racing = Vec::new();
    for _ in 0..16 {
        let app = app.clone();
        racing.push(tokio::spawn(async move {
            call(&app, "PUT", &path("ben-1"), Role::Operator, Some(maria()))
                .await
                .status
        }));
    }
    let erased = call(&app, "DELETE", &path("ben-1"), Role::Operator, None).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
    for registration in racing {
        let status = registration.await.expect("the request ends");
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{status}"
        );
    }
    assert!(matches!(
        fixture
            .store
            .identity(CONTRACT, "ben-1")
            .await
            .expect("read"),
        StoredIdentity::Erased { .. }
    ));
    assert_eq!(fixture.store.identity_count().await.expect("count"), 0);
}

/// Six pseudonyms registered at once with one fiscal code: one is registered, each other is
/// refused 409 naming the field, none fails.
async fn one_fiscal_code_registered_at_once_for_several_pseudonyms_goes_to_one(fixture: Fixture) {
    let mut racing = Vec::new();
    for n in 1..=6 {
        let app = fixture.app.clone();
        racing.push(tokio::spawn(async move {
            call(
                &app,
                "PUT",
                &path(&format!("ben-{n}")),
                Role::Operator,
                Some(maria()),
            )
            .await
        }));
    }
    let mut statuses = Vec::new();
    for registration in racing {
        let answer = registration.await.expect("the request ends");
        if answer.status == StatusCode::CONFLICT {
            assert_eq!(answer.json["field"], "fiscal_code", "{}", answer.text);
        }
        statuses.push(answer.status.as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409]);
    assert_eq!(fixture.store.identity_count().await.expect("count"), 1);
}
