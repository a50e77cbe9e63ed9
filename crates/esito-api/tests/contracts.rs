//! A contract's indicator definitions, on SQLite and on a real PostgreSQL: a ready-made
//! template or a definitions text of the contract's own, either way recorded whole in the log
//! with its SHA-256; an unknown template or bad definitions are refused naming the field, and
//! nothing is written.

use axum::http::StatusCode;
use esito_api::auth::Role;
use esito_domain::ContractId;
use serde_json::{json, Value};

mod router_fixture;
use esito_testkit::{both_stores, Fresh};
use router_fixture::{json_request, key, log_size, send, with_event_ids, Answer, Fixture};

both_stores!(
    fixture = fixture;
    an_unknown_template_is_refused_and_nothing_is_written,
    a_contract_with_definitions_of_its_own_records_their_text_and_computes_by_them,
    a_ready_made_template_records_its_text_in_the_log,
    bad_definitions_are_refused_naming_the_field_and_nothing_is_written,
    an_outcome_the_definitions_declare_is_recorded_counted_corrected_and_voided,
    definitions_selecting_an_undeclared_outcome_are_refused,
    terms_that_do_not_fit_the_definitions_are_refused_naming_the_rule_and_field,
    a_contract_in_pounds_settles_in_pounds_and_an_unknown_currency_is_refused,
    both_example_contract_files_register_through_the_api,
    the_rate_card_from_its_file_settles_to_the_amounts_worked_out_by_hand,
    a_beneficiary_needs_only_its_id_where_the_definitions_read_nothing_else,
);

/// Definitions declaring two outcomes, an indicator counting each, and the people employed.
pub const OUTCOME_DEFINITIONS: &str = r#"
template = "lavoro"
title = { it = "Inserimento lavorativo", en = "Into work" }

[[outcome]]
id = "entered_employment"
label = { it = "Inserimento lavorativo", en = "Entered employment" }

[[outcome]]
id = "sustained_employment_26_weeks"
label = { it = "Lavoro mantenuto per 26 settimane", en = "Employment sustained for 26 weeks" }

[[indicator]]
id = "entered_employment"
area = "change"
kind = "count"
unit = "people"
label = { it = "Inserimenti lavorativi", en = "Entries into employment" }
events = ["OutcomeRecorded"]
where = { outcome = "entered_employment" }

[[indicator]]
id = "sustained_employment"
area = "change"
kind = "count"
unit = "people"
label = { it = "Lavori mantenuti", en = "Employment sustained" }
events = ["OutcomeRecorded"]
where = { outcome = "sustained_employment_26_weeks" }

[[indicator]]
id = "hours_worked"
area = "change"
kind = "sum"
unit = "hours"
label = { it = "Ore lavorate", en = "Hours worked" }
events = ["OutcomeRecorded"]
where = { outcome = "entered_employment" }
field = "value"
"#;

/// Definitions of a contract's own: accesses counted, and the people who came.
pub const OWN_DEFINITIONS: &str = r#"
template = "sportello"
title = { it = "Sportello di quartiere", en = "Neighbourhood desk" }

[[indicator]]
id = "desk_accesses"
area = "reach"
kind = "count"
unit = "accesses"
label = { it = "Accessi allo sportello", en = "Accesses to the desk" }
events = ["AccessRecorded"]
"#;

async fn fixture(fresh: Fresh) -> Fixture {
    let sportello = ContractId::parse("sportello").expect("valid");
    router_fixture::store_role_keys(&fresh.store, &sportello).await;
    fresh.with_app(|store| esito_api::router(esito_api::AppState::new(store)))
}

fn registration(contract: &str, definitions: Value) -> Value {
    let mut body = json!({
        "contract_id": contract,
        "occurred_at": "2024-01-01T09:00:00+01:00",
        "title": "Sportello",
        "payer": "Comune",
        "operator": "Operatore",
        "evaluator": "Valutatore",
        "term_start_on": "2024-01-01",
        "term_end_on": "2024-12-31",
        "period_kind": "quarter",
    });
    for (name, value) in definitions.as_object().expect("an object") {
        body[name] = value.clone();
    }
    with_event_ids(body)
}

async fn register(fixture: &Fixture, body: &Value) -> Answer {
    send(
        &fixture.app,
        json_request(
            "POST",
            "/v1/contracts",
            Some(&key(Role::Admin)),
            Some(body.to_string()),
        ),
    )
    .await
}

/// The payload of the contract's first entry, as its export holds it.
async fn first_payload(fixture: &Fixture, contract: &ContractId) -> Value {
    let entries = fixture
        .store
        .entries(contract, 0, 1)
        .await
        .expect("the log reads");
    let entry = entries.first().expect("a first entry");
    serde_json::from_str::<Value>(&entry.entry).expect("JSON")["payload"].clone()
}

async fn refused(fixture: &Fixture, what: &str, contract: &str, body: Value, code: &str) -> Answer {
    let id = ContractId::parse(contract).expect("valid");
    let answer = register(fixture, &registration(contract, body)).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        answer.text
    );
    assert_eq!(answer.json["code"], code, "{what}: {}", answer.text);
    assert_eq!(
        log_size(&fixture.store, &id).await,
        0,
        "{what}: nothing written"
    );
    answer
}

async fn an_unknown_template_is_refused_and_nothing_is_written(fixture: Fixture) {
    let answer = refused(
        &fixture,
        "a template no file names",
        "uk-sib-contract",
        json!({"template": "uk-sib"}),
        "unknown_template",
    )
    .await;
    assert_eq!(answer.json["field"], "template", "{}", answer.text);
    assert!(answer.text.contains("uk-sib"), "{}", answer.text);
}

async fn a_contract_with_definitions_of_its_own_records_their_text_and_computes_by_them(
    fixture: Fixture,
) {
    let contract = ContractId::parse("sportello").expect("valid");
    let answer = register(
        &fixture,
        &registration("sportello", json!({"definitions": OWN_DEFINITIONS})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let payload = first_payload(&fixture, &contract).await;
    assert_eq!(payload["template"], "sportello");
    assert_eq!(payload["definitions"], OWN_DEFINITIONS);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(OWN_DEFINITIONS.as_bytes()))
    };
    assert_eq!(payload["definitions_sha256"], sha);

    for n in 0..3 {
        let access = with_event_ids(json!({
            "occurred_at": "2024-02-10T10:00:00+01:00",
            "access_id": format!("acc-{n}"),
            "channel": "in_person",
            "need": "elderly_care",
            "outcome": {"kind": "information_only"},
        }));
        let answer = send(
            &fixture.app,
            json_request(
                "POST",
                "/v1/contracts/sportello/commands/record-access",
                Some(&key(Role::Operator)),
                Some(access.to_string()),
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    fixture
        .store
        .catch_up(&contract, log_size(&fixture.store, &contract).await)
        .await
        .expect("the projection catches up");
    let report = send(
        &fixture.app,
        json_request(
            "GET",
            "/v1/contracts/sportello/indicators?period=2024-Q1",
            Some(&key(Role::Evaluator)),
            None,
        ),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.json["template"], "sportello");
    assert_eq!(report.json["definitions_sha256"], sha);
    let desk = report.json["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["id"] == "desk_accesses")
        .expect("the contract's own indicator");
    assert_eq!(desk["value"], json!(3), "{}", report.text);
}

async fn a_ready_made_template_records_its_text_in_the_log(fixture: Fixture) {
    let contract = ContractId::parse("torino-like").expect("valid");
    let answer = register(
        &fixture,
        &registration("torino-like", json!({"template": "torino"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let payload = first_payload(&fixture, &contract).await;
    let text = include_str!("../../../projections/torino.toml");
    assert_eq!(payload["template"], "torino");
    assert_eq!(payload["definitions"], text);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    assert_eq!(payload["definitions_sha256"], sha);
}

async fn bad_definitions_are_refused_naming_the_field_and_nothing_is_written(fixture: Fixture) {
    let indicator = |body: &str| {
        format!(
            "template = \"bad\"\ntitle = {{ it = \"Male\", en = \"Bad\" }}\n\n[[indicator]]\n\
             id = \"one\"\narea = \"reach\"\nunit = \"people\"\n\
             label = {{ it = \"Uno\", en = \"One\" }}\n{body}\n"
        )
    };
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "an unknown event type",
            indicator("kind = \"count\"\nevents = [\"NoSuchEvent\"]"),
            &["one", "events", "NoSuchEvent"],
        ),
        (
            "an unknown field",
            indicator("kind = \"distinct\"\nevents = [\"AccessRecorded\"]\nfield = \"shoe_size\""),
            &["one", "field", "shoe_size"],
        ),
        (
            "a missing parameter",
            indicator("kind = \"distinct\"\nevents = [\"AccessRecorded\"]"),
            &["one", "field"],
        ),
        (
            "a duplicate id",
            format!(
                "{}\n[[indicator]]\nid = \"one\"\narea = \"reach\"\nunit = \"people\"\n\
                 label = {{ it = \"Uno\", en = \"One\" }}\nkind = \"count\"\n\
                 events = [\"AccessRecorded\"]\n",
                indicator("kind = \"count\"\nevents = [\"AccessRecorded\"]")
            ),
            &["one", "id", "twice"],
        ),
        (
            "a TOML syntax error",
            "template = \"bad\"\ntitle = { it = \"Male\", en = \"Bad\" \n".to_owned(),
            &["line 2", "column"],
        ),
    ];
    for (n, (what, text, named)) in cases.into_iter().enumerate() {
        let contract = format!("bad-definitions-{n}");
        let answer = refused(
            &fixture,
            what,
            &contract,
            json!({"definitions": text}),
            "invalid_definitions",
        )
        .await;
        assert_eq!(
            answer.json["field"], "definitions",
            "{what}: {}",
            answer.text
        );
        let detail = answer.json["detail"].as_str().expect("a detail");
        for word in named {
            assert!(detail.contains(word), "{what}: {word:?} in {detail}");
        }
    }
}

async fn command(fixture: &Fixture, contract: &str, name: &str, body: Value) -> Answer {
    send(
        &fixture.app,
        json_request(
            "POST",
            &format!("/v1/contracts/{contract}/commands/{name}"),
            Some(&key(Role::Operator)),
            Some(with_event_ids(body).to_string()),
        ),
    )
    .await
}

async fn accepted(fixture: &Fixture, contract: &str, name: &str, body: Value) -> String {
    let answer = command(fixture, contract, name, body).await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{name}: {}",
        answer.text
    );
    answer.json["event_id"]
        .as_str()
        .expect("an event id")
        .to_owned()
}

/// The values of the contract's indicators for `period`, by id.
async fn values(fixture: &Fixture, contract: &str, period: &str) -> Value {
    let id = ContractId::parse(contract).expect("valid");
    fixture
        .store
        .catch_up(&id, log_size(&fixture.store, &id).await)
        .await
        .expect("the projection catches up");
    let report = send(
        &fixture.app,
        json_request(
            "GET",
            &format!("/v1/contracts/{contract}/indicators?period={period}"),
            Some(&key(Role::Admin)),
            None,
        ),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let mut values = serde_json::Map::new();
    for indicator in report.json["indicators"].as_array().expect("indicators") {
        values.insert(
            indicator["id"].as_str().expect("an id").to_owned(),
            indicator["value"].clone(),
        );
    }
    Value::Object(values)
}

async fn an_outcome_the_definitions_declare_is_recorded_counted_corrected_and_voided(
    fixture: Fixture,
) {
    // The fixture's keys name `sportello`: this contract is that one.
    let contract = "sportello";
    let id = ContractId::parse(contract).expect("valid");
    let answer = register(
        &fixture,
        &registration(contract, json!({"definitions": OUTCOME_DEFINITIONS})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    for person in ["p-1", "p-2", "p-3"] {
        accepted(
            &fixture,
            contract,
            "register-beneficiary",
            json!({"occurred_at": "2024-01-05T10:00:00+01:00", "beneficiary_id": person,
                   "isee_band": "b", "household_size": 1, "age_band": "from18_to34"}),
        )
        .await;
    }
    let outcome = |person: &str, outcome: &str, value: Option<&str>| {
        let mut body = json!({"occurred_at": "2024-02-01T10:00:00+01:00",
                              "beneficiary_id": person, "outcome": outcome,
                              "evidence": "contract-2024-117"});
        if let Some(value) = value {
            body["value"] = json!(value);
        }
        body
    };
    let first = accepted(
        &fixture,
        contract,
        "record-outcome",
        outcome("p-1", "entered_employment", Some("20")),
    )
    .await;
    accepted(
        &fixture,
        contract,
        "record-outcome",
        outcome("p-2", "entered_employment", Some("36")),
    )
    .await;
    let third = accepted(
        &fixture,
        contract,
        "record-outcome",
        outcome("p-3", "entered_employment", Some("15.5")),
    )
    .await;
    let before = log_size(&fixture.store, &id).await;
    let refused = command(
        &fixture,
        contract,
        "record-outcome",
        outcome("p-1", "won_the_lottery", None),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.json["code"], "undeclared_outcome",
        "{}",
        refused.text
    );
    assert_eq!(refused.json["field"], "outcome", "{}", refused.text);
    let unknown_person = command(
        &fixture,
        contract,
        "record-outcome",
        outcome("p-9", "entered_employment", None),
    )
    .await;
    assert_eq!(
        unknown_person.json["code"], "unknown_beneficiary",
        "{}",
        unknown_person.text
    );
    assert_eq!(
        log_size(&fixture.store, &id).await,
        before,
        "nothing written"
    );

    let q1 = values(&fixture, contract, "2024-Q1").await;
    assert_eq!(q1["entered_employment"], json!(3), "{q1}");
    assert_eq!(q1["sustained_employment"], json!(0), "{q1}");
    assert_eq!(q1["hours_worked"], json!("71.50"), "{q1}");

    // p-1's outcome was in fact six months of work kept; p-3's is voided.
    accepted(
        &fixture,
        contract,
        "correct-event",
        json!({"occurred_at": "2024-03-01T10:00:00+01:00", "corrects": first,
               "replacement": {"event_type": "OutcomeRecorded",
                               "payload": {"beneficiary_id": "p-1",
                                           "outcome": "sustained_employment_26_weeks"}}}),
    )
    .await;
    let bad_correction = command(
        &fixture,
        contract,
        "correct-event",
        json!({"occurred_at": "2024-03-01T10:00:00+01:00", "corrects": third,
               "replacement": {"event_type": "OutcomeRecorded",
                               "payload": {"beneficiary_id": "p-3", "outcome": "retired"}}}),
    )
    .await;
    assert_eq!(
        bad_correction.json["code"], "undeclared_outcome",
        "{}",
        bad_correction.text
    );
    accepted(
        &fixture,
        contract,
        "void-event",
        json!({"occurred_at": "2024-03-01T10:00:00+01:00", "voids": third,
               "reason": "recorded for the wrong person"}),
    )
    .await;
    let q1 = values(&fixture, contract, "2024-Q1").await;
    assert_eq!(q1["entered_employment"], json!(1), "{q1}");
    assert_eq!(q1["sustained_employment"], json!(1), "{q1}");
    assert_eq!(q1["hours_worked"], json!("36.00"), "{q1}");
}

async fn definitions_selecting_an_undeclared_outcome_are_refused(fixture: Fixture) {
    let text = OUTCOME_DEFINITIONS.replace(
        "where = { outcome = \"sustained_employment_26_weeks\" }",
        "where = { outcome = \"sustained_employment_52_weeks\" }",
    );
    let answer = refused(
        &fixture,
        "an undeclared outcome selected",
        "undeclared-outcome",
        json!({"definitions": text}),
        "invalid_definitions",
    )
    .await;
    let detail = answer.json["detail"].as_str().expect("a detail");
    for word in [
        "sustained_employment",
        "where.outcome",
        "sustained_employment_52_weeks",
    ] {
        assert!(detail.contains(word), "{word:?} in {detail}");
    }
}

async fn amend(fixture: &Fixture, contract: &str, body: Value) -> Answer {
    send(
        &fixture.app,
        json_request(
            "POST",
            &format!("/v1/contracts/{contract}/commands/amend-contract"),
            Some(&key(Role::Admin)),
            Some(with_event_ids(body).to_string()),
        ),
    )
    .await
}

async fn a_beneficiary_needs_only_its_id_where_the_definitions_read_nothing_else(fixture: Fixture) {
    let contract = "sportello";
    let id = ContractId::parse(contract).expect("valid");
    let answer = register(
        &fixture,
        &registration(contract, json!({"definitions": OUTCOME_DEFINITIONS})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    // The outcome definitions read no circumstance of a person: the pseudonym is enough.
    accepted(
        &fixture,
        contract,
        "register-beneficiary",
        json!({"occurred_at": "2024-01-05T10:00:00+01:00", "beneficiary_id": "p-1"}),
    )
    .await;
    let entries = fixture
        .store
        .entries(&id, 1, 1)
        .await
        .expect("the log reads");
    let payload = &serde_json::from_str::<Value>(&entries[0].entry).expect("JSON")["payload"];
    assert_eq!(
        payload,
        &json!({"flags": []}),
        "nothing is written for what was left out"
    );
    // From 1 March the definitions also count people by age band: a registration from then on
    // must give it, and is refused naming it, writing nothing; one before still need not.
    let reading_age = format!(
        "{OUTCOME_DEFINITIONS}\n[[indicator]]\nid = \"age_bands\"\narea = \"reach\"\nkind = \"distinct\"\n\
         unit = \"bands\"\nlabel = {{ it = \"Fasce d'età\", en = \"Age bands\" }}\n\
         events = [\"BeneficiaryRegistered\"]\nfield = \"age_band\"\n"
    );
    let amended = amend(
        &fixture,
        contract,
        json!({"occurred_at": "2024-02-01T09:00:00+01:00", "effective_on": "2024-03-01",
               "changes": [{"kind": "template", "definitions": reading_age}]}),
    )
    .await;
    assert_eq!(amended.status, StatusCode::CREATED, "{}", amended.text);
    let before = log_size(&fixture.store, &id).await;
    let refused = command(
        &fixture,
        contract,
        "register-beneficiary",
        json!({"occurred_at": "2024-03-04T10:00:00+01:00", "beneficiary_id": "p-2",
               "isee_band": "b", "household_size": 2}),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.json["code"], "beneficiary_field_required",
        "{}",
        refused.text
    );
    assert_eq!(refused.json["field"], "age_band", "{}", refused.text);
    assert_eq!(
        log_size(&fixture.store, &id).await,
        before,
        "nothing written"
    );
    accepted(
        &fixture,
        contract,
        "register-beneficiary",
        json!({"occurred_at": "2024-03-04T10:00:00+01:00", "beneficiary_id": "p-2",
               "age_band": "from35_to64"}),
    )
    .await;
    accepted(
        &fixture,
        contract,
        "register-beneficiary",
        json!({"occurred_at": "2024-02-20T10:00:00+01:00", "beneficiary_id": "p-3"}),
    )
    .await;
}

async fn terms_that_do_not_fit_the_definitions_are_refused_naming_the_rule_and_field(
    fixture: Fixture,
) {
    let contract = "sportello";
    let id = ContractId::parse(contract).expect("valid");
    let answer = register(
        &fixture,
        &registration(contract, json!({"definitions": OUTCOME_DEFINITIONS})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let terms = |rules: Value, payers: Value| {
        json!({"occurred_at": "2024-01-02T09:00:00+01:00", "effective_on": "2024-01-01",
               "changes": [{"kind": "payment_terms",
                            "payment_terms": {"rules": rules, "payers": payers}}]})
    };
    let rate =
        |indicator: &str| json!({"kind": "rate_card", "indicator": indicator, "rate": "1000"});
    let payers = json!([{"name": "Comune", "share": "0.6"}, {"name": "Fondo", "share": "0.4"}]);
    let before = log_size(&fixture.store, &id).await;
    let cases: Vec<(&str, Value, &str, &str, &[&str])> = vec![
        (
            "a rule naming an indicator the definitions do not declare",
            terms(
                json!([rate("entered_employment"), rate("housed_six_months")]),
                payers.clone(),
            ),
            "indicator_not_declared",
            "payment_terms.rules.indicator",
            &["item 1", "housed_six_months"],
        ),
        (
            "payers' shares adding up to 0.9",
            terms(
                json!([rate("entered_employment")]),
                json!([{"name": "Comune", "share": "0.6"}, {"name": "Fondo", "share": "0.3"}]),
            ),
            "shares_do_not_sum_to_one",
            "payment_terms.payers",
            &["0.9"],
        ),
    ];
    for (what, body, code, field, named) in cases {
        let answer = amend(&fixture, contract, body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            answer.text
        );
        assert_eq!(answer.json["code"], code, "{what}: {}", answer.text);
        assert_eq!(answer.json["field"], field, "{what}: {}", answer.text);
        let detail = answer.json["detail"].as_str().expect("a detail");
        for word in named {
            assert!(detail.contains(word), "{what}: {word:?} in {detail}");
        }
        assert_eq!(
            log_size(&fixture.store, &id).await,
            before,
            "{what}: nothing written"
        );
    }
    // Terms that fit are accepted; then definitions without the indicator a rule names are
    // refused, so that no rule is left naming nothing.
    let answer = amend(
        &fixture,
        contract,
        terms(json!([rate("entered_employment")]), payers),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let without = OWN_DEFINITIONS.to_owned();
    let answer = amend(
        &fixture,
        contract,
        json!({"occurred_at": "2024-03-02T09:00:00+01:00", "effective_on": "2024-04-01",
               "changes": [{"kind": "template", "definitions": without}]}),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(
        answer.json["code"], "indicator_not_declared",
        "{}",
        answer.text
    );
}

async fn a_contract_in_pounds_settles_in_pounds_and_an_unknown_currency_is_refused(
    fixture: Fixture,
) {
    let contract = "sportello";
    let id = ContractId::parse(contract).expect("valid");
    let answer = register(
        &fixture,
        &registration(contract, json!({"definitions": OUTCOME_DEFINITIONS})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let terms = |currency: &str| {
        json!({"occurred_at": "2024-01-02T09:00:00+01:00", "effective_on": "2024-01-01",
               "changes": [{"kind": "payment_terms", "payment_terms": {
                   "currency": currency,
                   "rules": [{"kind": "rate_card", "indicator": "entered_employment",
                              "rate": "1000"}]}}]})
    };
    let before = log_size(&fixture.store, &id).await;
    let refused = amend(&fixture, contract, terms("ZZZ")).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.json["code"], "invalid_value", "{}", refused.text);
    // The amendment's changes are tagged by kind, which serde reads whole: the member is found
    // by taking members away until the error changes; the detail names the code and the rule.
    assert_eq!(
        refused.json["field"], "changes[0].payment_terms.currency",
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("ZZZ") && refused.text.contains("ISO 4217"),
        "{}",
        refused.text
    );
    assert_eq!(
        log_size(&fixture.store, &id).await,
        before,
        "nothing written"
    );
    let answer = amend(&fixture, contract, terms("GBP")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    for person in ["p-1", "p-2"] {
        accepted(
            &fixture,
            contract,
            "register-beneficiary",
            json!({"occurred_at": "2024-01-05T10:00:00+01:00", "beneficiary_id": person,
                   "isee_band": "b", "household_size": 1, "age_band": "from18_to34"}),
        )
        .await;
        accepted(
            &fixture,
            contract,
            "record-outcome",
            json!({"occurred_at": "2024-02-01T10:00:00+01:00", "beneficiary_id": person,
                   "outcome": "entered_employment"}),
        )
        .await;
    }
    values(&fixture, contract, "2024-Q1").await;
    let settled = send(
        &fixture.app,
        json_request(
            "POST",
            "/v1/contracts/sportello/settlements",
            Some(&key(Role::Payer)),
            Some(with_event_ids(json!({"period": "2024-Q1"})).to_string()),
        ),
    )
    .await;
    assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text);
    let document = &settled.json["document"];
    assert_eq!(document["currency"], "GBP", "{}", settled.text);
    assert_eq!(document["total"], "2000.00", "{}", settled.text);
}

/// Registers the contract of a contract file (`docs/contracts/`) through `POST /v1/contracts`
/// with the file's text as its `file` member.
async fn register_file(fixture: &Fixture, text: &str) -> Answer {
    send(
        &fixture.app,
        json_request(
            "POST",
            "/v1/contracts",
            Some(&key(Role::Admin)),
            Some(json!({"file": text}).to_string()),
        ),
    )
    .await
}

async fn both_example_contract_files_register_through_the_api(fixture: Fixture) {
    let examples = [
        (
            "into-work-sib",
            include_str!("../../../docs/contracts/into-work-sib.toml"),
            "GBP",
        ),
        (
            "bergamo-lavoro",
            include_str!("../../../docs/contracts/inserimento-lavorativo.toml"),
            "EUR",
        ),
    ];
    for (contract, text, currency) in examples {
        let id = ContractId::parse(contract).expect("valid");
        let answer = register_file(&fixture, text).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{contract}: {}",
            answer.text
        );
        assert_eq!(
            log_size(&fixture.store, &id).await,
            2,
            "{contract}: registered, then its terms"
        );
        let again = register_file(&fixture, text).await;
        assert_eq!(
            again.status,
            StatusCode::CREATED,
            "{contract}: {}",
            again.text
        );
        assert_eq!(
            log_size(&fixture.store, &id).await,
            2,
            "{contract}: the same file is a replay"
        );
        let entries = fixture
            .store
            .entries(&id, 0, 2)
            .await
            .expect("the log reads");
        let terms: Value = serde_json::from_str(&entries[1].entry).expect("JSON");
        let payment_terms = &terms["payload"]["changes"][0]["payment_terms"];
        let recorded = payment_terms["currency"].as_str().unwrap_or("EUR");
        assert_eq!(recorded, currency, "{contract}: {payment_terms}");
    }
    // A file whose terms name an indicator its definitions do not declare writes nothing.
    let broken = include_str!("../../../docs/contracts/into-work-sib.toml")
        .replace(
            "contract_id = \"into-work-sib\"",
            "contract_id = \"into-work-broken\"",
        )
        .replace(
            "indicator = \"sustained_26_weeks\"",
            "indicator = \"sustained_52_weeks\"",
        );
    let answer = register_file(&fixture, &broken).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(
        answer.json["code"], "indicator_not_declared",
        "{}",
        answer.text
    );
    let id = ContractId::parse("into-work-broken").expect("valid");
    assert_eq!(log_size(&fixture.store, &id).await, 0, "nothing written");
    // A TOML error names its line and column.
    let answer = register_file(&fixture, "contract_id = \"x\"\ntitle = \n").await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(answer.json["field"], "file", "{}", answer.text);
    assert!(answer.text.contains("line 2"), "{}", answer.text);
}

/// A write by the admin's key, which reaches every contract: `201` expected.
async fn admin_writes(fixture: &Fixture, path: &str, body: Value) -> Answer {
    let answer = send(
        &fixture.app,
        json_request(
            "POST",
            path,
            Some(&key(Role::Admin)),
            Some(with_event_ids(body).to_string()),
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{path}: {}",
        answer.text
    );
    answer
}

async fn the_rate_card_from_its_file_settles_to_the_amounts_worked_out_by_hand(fixture: Fixture) {
    let text = include_str!("../../../docs/contracts/into-work-sib.toml");
    let answer = register_file(&fixture, text).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let commands = "/v1/contracts/into-work-sib/commands";
    // Each participant's outcomes in 2024-Q2; a repeat is paid once (max_per_beneficiary 1).
    let outcomes: [(&str, &[&str]); 6] = [
        (
            "p-1",
            &["engaged", "entered_employment", "sustained_13_weeks"],
        ),
        ("p-2", &["engaged", "engaged", "entered_employment"]),
        (
            "p-3",
            &[
                "engaged",
                "entered_employment",
                "sustained_13_weeks",
                "sustained_26_weeks",
            ],
        ),
        ("p-4", &["engaged"]),
        (
            "p-5",
            &["engaged", "entered_employment", "entered_employment"],
        ),
        ("p-6", &[]),
    ];
    for (person, recorded) in outcomes {
        admin_writes(
            &fixture,
            &format!("{commands}/register-beneficiary"),
            json!({"occurred_at": "2024-04-02T10:00:00+01:00", "beneficiary_id": person,
                   "isee_band": "c", "household_size": 1, "age_band": "from35_to64"}),
        )
        .await;
        for (day, outcome) in recorded.iter().enumerate() {
            admin_writes(
                &fixture,
                &format!("{commands}/record-outcome"),
                json!({"occurred_at": format!("2024-05-{:02}T10:00:00+01:00", day + 1),
                       "beneficiary_id": person, "outcome": outcome}),
            )
            .await;
        }
    }
    values(&fixture, "into-work-sib", "2024-Q2").await;
    let settled = admin_writes(
        &fixture,
        "/v1/contracts/into-work-sib/settlements",
        json!({"period": "2024-Q2"}),
    )
    .await;
    let document = &settled.json["document"];
    // By hand: engaged by p-1..p-5 (p-2 twice, paid once): 5 × 500 = 2,500; entered employment
    // by p-1, p-2, p-3, p-5 (p-5 twice, paid once): 4 × 1,500 = 6,000; 13 weeks by p-1 and p-3:
    // 2 × 1,200 = 2,400; 26 weeks by p-3: 1,800. p-3 reaches exactly the £5,000 cap per
    // participant. Total 12,700.00, split 70/30: 8,890.00 and 3,810.00.
    let lines: Vec<(String, String)> = document["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| {
            (
                line["subject"].as_str().expect("a subject").to_owned(),
                line["amount"].as_str().expect("an amount").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("engaged", "2500.00"),
        ("entered_employment", "6000.00"),
        ("sustained_13_weeks", "2400.00"),
        ("sustained_26_weeks", "1800.00"),
    ]
    .iter()
    .map(|(subject, amount)| ((*subject).to_owned(), (*amount).to_owned()))
    .collect();
    assert_eq!(lines, expected, "{document}");
    assert_eq!(document["currency"], "GBP", "{document}");
    assert_eq!(document["total"], "12700.00", "{document}");
    assert_eq!(document["vat"], Value::Null, "{document}");
    let parts: Vec<(String, String)> = document["payers"]
        .as_array()
        .expect("payers")
        .iter()
        .map(|part| {
            (
                part["name"].as_str().expect("a name").to_owned(),
                part["owed"].as_str().expect("an amount owed").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        vec![
            (
                "Department for Work and Pensions".to_owned(),
                "8890.00".to_owned()
            ),
            (
                "Greater Manchester Combined Authority".to_owned(),
                "3810.00".to_owned()
            ),
        ],
        "{document}"
    );
}
