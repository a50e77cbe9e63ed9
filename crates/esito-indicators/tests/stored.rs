//! The stored entry's fast reading against the full `Entry` reading: the same facts, the same
//! template named, for every embedded template and for entries written every way the log or a
//! hand could write them; and the errors for texts that are not entries.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use esito_indicators::definitions::{FieldRef, Kind, Measure, Selection, UnitCost};
use esito_indicators::facts::{derive, DeriveError, Derived};
use esito_indicators::templates::{self, template_named};
use esito_indicators::{Definitions, StoredEntry};
use esito_log::Entry;
use serde_json::{json, Map, Value as Json};

const TEMPLATES: [&str; 4] = ["cuneo", "torino", "prato", "cremona"];

fn definitions(template: &str) -> Definitions {
    templates::embedded(template)
        .expect("an embedded template")
        .expect("the embedded definitions are valid")
}

fn all_selections(kind: &Kind) -> Vec<&Selection> {
    match kind {
        Kind::Count { select } | Kind::Distinct { select, .. } | Kind::Sum { select, .. } => {
            vec![select]
        }
        Kind::Ratio {
            numerator,
            denominator,
        } => vec![&numerator.0, &denominator.0],
        Kind::Occupancy {
            available,
            withdrawn,
            occupied,
            vacated,
        } => [
            Some(available),
            withdrawn.as_ref(),
            Some(occupied),
            Some(vacated),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Kind::CohortShare {
            entered, reached, ..
        } => vec![entered, reached],
        Kind::Savings { start, outcome, .. } => start.iter().chain([outcome]).collect(),
    }
}

/// The payload paths an indicator reads as amounts, and those it reads as keys.
fn paths_read(kind: &Kind, beneficiary: Option<&FieldRef>) -> (Vec<FieldRef>, Vec<FieldRef>) {
    let mut amounts = Vec::new();
    let mut keys: Vec<FieldRef> = beneficiary.into_iter().cloned().collect();
    match kind {
        Kind::Count { .. } | Kind::Occupancy { .. } => {}
        Kind::Distinct { field, .. } => keys.push(field.clone()),
        Kind::Sum { field, .. } => amounts.push(field.clone()),
        Kind::Ratio {
            numerator,
            denominator,
        } => {
            for measure in [&numerator.1, &denominator.1] {
                match measure {
                    Measure::Count => {}
                    Measure::Distinct(field) => keys.push(field.clone()),
                    Measure::Sum(field) => amounts.push(field.clone()),
                }
            }
        }
        Kind::CohortShare { key, .. } => keys.push(key.clone()),
        Kind::Savings { key, unit_cost, .. } => {
            keys.push(key.clone());
            match unit_cost {
                UnitCost::Fixed(_) => {}
                UnitCost::StartField(field) | UnitCost::OutcomeField(field) => {
                    amounts.push(field.clone())
                }
            }
        }
    }
    (amounts, keys)
}

/// What the four templates select and read: event types, filtered paths with the values they
/// accept, paths read as amounts and paths read as keys.
#[derive(Default)]
struct Reads {
    events: BTreeSet<String>,
    filters: BTreeMap<Vec<String>, Vec<String>>,
    amounts: BTreeSet<Vec<String>>,
    keys: BTreeSet<Vec<String>>,
}

fn reads() -> Reads {
    let mut reads = Reads::default();
    for template in TEMPLATES {
        for indicator in definitions(template).indicators {
            for select in all_selections(&indicator.kind) {
                reads.events.extend(select.events.iter().cloned());
                for (path, accepted) in &select.filters {
                    reads
                        .filters
                        .entry(path.clone())
                        .or_default()
                        .extend(accepted.iter().cloned());
                }
            }
            let (amounts, keys) = paths_read(&indicator.kind, indicator.beneficiary.as_ref());
            let payload = |field: FieldRef| match field {
                FieldRef::Payload(path) => Some(path),
                FieldRef::StreamId => None,
            };
            reads
                .amounts
                .extend(amounts.into_iter().filter_map(payload));
            reads.keys.extend(keys.into_iter().filter_map(payload));
        }
    }
    reads
}

fn insert_at(object: &mut Map<String, Json>, path: &[String], value: Json) {
    match path {
        [] => {}
        [last] => {
            object.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let inner = object
                .entry(first.clone())
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(inner) = inner {
                insert_at(inner, rest, value);
            }
        }
    }
}

/// The `n`-th of a field's values: mostly what the indicators expect, sometimes not.
fn key_value(n: usize, accepted: &[String]) -> Option<Json> {
    let some_accepted = || accepted.get(n % accepted.len().max(1)).cloned();
    Some(match n % 10 {
        0..=2 => json!(some_accepted().unwrap_or_else(|| format!("b\u{e8}n-{}", n % 7))),
        3 => json!(format!("x\"y\\z {}", n % 3)),
        4 => json!(n % 5),
        5 => json!(n % 2 == 0),
        6 => {
            json!({"kind": some_accepted().unwrap_or_else(|| "referred".to_owned()), "service": "caf\u{e8}"})
        }
        7 => json!(2.5),
        8 => Json::Null,
        _ => return None,
    })
}

fn amount_value(n: usize) -> Option<Json> {
    Some(match n % 9 {
        0..=2 => json!(format!("{}.{:02}", n % 300, n % 100)),
        3 => json!(n % 50),
        4 => json!(12.5),
        5 => json!("3"),
        6 => Json::Null,
        7 => json!(true),
        _ => return None,
    })
}

fn occurred_at(n: usize) -> String {
    let month = 1 + n % 12;
    let day = 1 + n % 28;
    match n % 23 {
        0 => format!("2024-{month:02}-{day:02}T23:30:00Z"),
        1 => format!("2025-{month:02}-{day:02}T00:15:00-05:00"),
        22 if n % 3 == 0 => "not a date".to_owned(),
        _ => format!("2024-{month:02}-{day:02}T10:00:00+01:00"),
    }
}

/// Entries of every event type the templates select, and of others, with every field the
/// templates read holding varied values, corrections, escapes and nested fields.
fn varied_entries(count: usize) -> Vec<Entry> {
    let reads = reads();
    let mut types: Vec<String> = reads.events.iter().cloned().collect();
    types.extend(
        [
            "ContractRegistered",
            "ContractAmended",
            "EntryVoided",
            "ProviderAccredited",
        ]
        .map(str::to_owned),
    );
    (0..count)
        .map(|n| {
            let position = n as u64 + 1;
            let event_type = types[(n * 7 + n / types.len()) % types.len()].clone();
            let mut payload = Map::new();
            for (index, path) in reads.keys.iter().enumerate() {
                let accepted = reads.filters.get(path).cloned().unwrap_or_default();
                if let Some(value) = key_value(n + index * 3, &accepted) {
                    insert_at(&mut payload, path, value);
                }
            }
            for (index, (path, accepted)) in reads.filters.iter().enumerate() {
                if let Some(value) = key_value(n * 3 + index, accepted) {
                    insert_at(&mut payload, path, value);
                }
            }
            for (index, path) in reads.amounts.iter().enumerate() {
                if let Some(value) = amount_value(n + index) {
                    insert_at(&mut payload, path, value);
                }
            }
            payload.insert("note".to_owned(), json!("caf\u{e8} \"quoted\" \\ \n"));
            payload.insert(
                "extra".to_owned(),
                json!({"nested": [1, 2.5, -3, {"deep": "\u{e8}"}], "flag": false}),
            );
            match event_type.as_str() {
                "ContractRegistered" => {
                    payload.insert("template".to_owned(), json!(TEMPLATES[n % 4]));
                }
                "ContractAmended" => {
                    payload.insert(
                        "changes".to_owned(),
                        json!([
                            {"kind": "template", "template": TEMPLATES[n % 4]},
                            {"kind": "title", "title": "T\u{e8}"},
                            {"kind": "template", "template": TEMPLATES[(n + 1) % 4]},
                        ]),
                    );
                }
                _ => {}
            }
            Entry {
                contract_id: "c-1".to_owned(),
                position,
                event_id: if n % 11 == 0 {
                    format!("e\u{e8}\"{n}")
                } else {
                    format!("e{n}")
                },
                stream_type: "any".to_owned(),
                stream_id: if n % 13 == 0 {
                    format!("s\\\u{e8}{}", n % 5)
                } else {
                    format!("s-{}", n % 5)
                },
                stream_seq: 1 + (n % 4) as u64,
                event_type,
                schema_version: 1,
                occurred_at: occurred_at(n),
                recorded_at: "2024-01-01T00:00:00.000000Z".to_owned(),
                recorded_by: "test".to_owned(),
                corrects: (n % 7 == 3).then(|| format!("e{}", n.saturating_sub(3))),
                payload: Json::Object(payload),
            }
        })
        .collect()
}

/// The text with every character beyond ASCII written as a `\u` escape; such characters only
/// occur within strings, so it is the same JSON.
fn ascii_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Each entry written as the log stores it, as serde writes it, with escapes and with white
/// space.
fn texts(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|entry| {
            let canonical = entry.canonical_json();
            let plain = serde_json::to_string(entry).expect("an entry serializes");
            let escaped = ascii_escaped(&canonical);
            let pretty = serde_json::to_string_pretty(entry).expect("an entry serializes");
            [canonical, plain, escaped, pretty]
        })
        .collect()
}

#[test]
fn the_fast_parse_derives_the_same_facts_as_the_full_parse() {
    let entries = varied_entries(1_500);
    let texts = texts(&entries);
    for template in TEMPLATES {
        let definitions = definitions(template);
        let (mut with_facts, mut errors) = (BTreeSet::new(), 0);
        for text in &texts {
            let full: Entry = serde_json::from_str(text).expect("the full parse reads it");
            let expected: Result<Derived, DeriveError> = derive(&definitions, (&full).into());
            let whole = StoredEntry::parse(full.position, text).expect("the fast parse reads it");
            let lazy = StoredEntry::parse_for(full.position, text, Some(&definitions))
                .expect("the fast parse reads it");
            assert_eq!(derive(&definitions, whole.view()), expected, "{text}");
            assert_eq!(derive(&definitions, lazy.view()), expected, "{text}");
            match &expected {
                Ok(derived) => {
                    with_facts.extend(derived.facts.iter().map(|fact| fact.indicator.clone()))
                }
                Err(_) => errors += 1,
            }
        }
        // The entries exercise the template: facts for every indicator, and some entries it
        // refuses.
        let indicators: BTreeSet<String> = definitions
            .indicators
            .iter()
            .map(|indicator| indicator.id.clone())
            .collect();
        assert_eq!(with_facts, indicators, "{template}");
        assert!(errors > 0, "{template}: no entry refused");
    }
}

#[test]
fn definitions_with_indicators_removed_derive_the_facts_of_those_that_remain() {
    let entries = varied_entries(600);
    for template in TEMPLATES {
        let all = definitions(template);
        for kept in &all.indicators {
            let mut one = all.clone();
            one.indicators.retain(|indicator| indicator.id == kept.id);
            for entry in &entries {
                let expected = derive(&all, entry.into()).map(|derived| Derived {
                    facts: derived
                        .facts
                        .into_iter()
                        .filter(|fact| fact.indicator == kept.id)
                        .collect(),
                    supersedes: derived.supersedes,
                });
                // An entry another indicator refuses may still derive for this one.
                if let Ok(expected) = expected {
                    assert_eq!(derive(&one, entry.into()), Ok(expected));
                }
            }
        }
    }
}

#[test]
fn the_definitions_name_the_payload_fields_their_indicators_read() {
    let cuneo = definitions("cuneo");
    let fields = |event_type: &str| {
        cuneo
            .payload_fields_read(event_type)
            .map(|fields| fields.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(
        fields("OrderPlaced"),
        Some(vec![
            "beneficiary_id",
            "channel",
            "isee_band",
            "price",
            "product_id"
        ])
    );
    assert_eq!(fields("AccessRecorded"), Some(vec!["beneficiary_id"]));
    assert_eq!(fields("TenancyEnded"), Some(vec!["reason"]));
    assert_eq!(fields("RentPaid"), Some(vec!["amount"]));
    assert_eq!(fields("TokenIssued"), Some(vec![]));
    assert_eq!(fields("TokenRedeemed"), Some(vec![]));
    assert_eq!(fields("ProviderAccredited"), Some(vec!["service_family"]));
    assert_eq!(fields("ProductPrototypeStarted"), Some(vec![]));
    assert_eq!(fields("ProductPriceChanged"), None);
    assert!(cuneo.selects_event("TenantMilestoneReached"));
    assert!(!cuneo.selects_event("ContractRegistered"));
}

#[test]
fn the_fast_parse_names_the_same_template_as_the_full_parse() {
    let entries = varied_entries(300);
    let cuneo = definitions("cuneo");
    let mut named = 0;
    for text in texts(&entries) {
        let full: Entry = serde_json::from_str(&text).expect("the full parse reads it");
        let expected = template_named((&full).into());
        named += usize::from(expected.is_some());
        for entry in [
            StoredEntry::parse(full.position, &text),
            StoredEntry::parse_for(full.position, &text, None),
            StoredEntry::parse_for(full.position, &text, Some(&cuneo)),
        ] {
            let entry = entry.expect("the fast parse reads it");
            assert_eq!(template_named(entry.view()), expected, "{text}");
        }
    }
    assert!(named > 0);
}

#[test]
fn the_fast_parse_reads_the_fields_as_the_full_parse_does() {
    for text in texts(&varied_entries(200)) {
        let full: Entry = serde_json::from_str(&text).expect("the full parse reads it");
        let fast = StoredEntry::parse(full.position, &text).expect("the fast parse reads it");
        assert_eq!(fast.position, full.position);
        assert_eq!(fast.event_id, full.event_id);
        assert_eq!(fast.event_type, full.event_type);
        assert_eq!(fast.stream_id, full.stream_id);
        assert_eq!(fast.occurred_at, full.occurred_at);
        assert_eq!(fast.corrects.as_deref(), full.corrects.as_deref());
        assert_eq!(fast.payload(), Some(&full.payload));
        assert_eq!(
            serde_json::from_str::<Json>(fast.raw_payload()).ok(),
            Some(full.payload)
        );
    }
}

#[test]
fn a_member_the_entry_format_does_not_have_is_never_misread() {
    let canonical = r#"{"contract_id":"c","event_id":"e1","event_type":"AccessRecorded","occurred_at":"2024-01-05T10:00:00+01:00","payload":{"channel":"phone","need":"other","outcome":"information_only"},"position":3,"recorded_at":"2024-01-01T00:00:00Z","recorded_by":"t","schema_version":1,"stream_id":"o1","stream_seq":1,"stream_type":"access"}"#;
    let cuneo = definitions("cuneo");
    let expected = StoredEntry::parse_for(3, canonical, Some(&cuneo)).expect("a stored entry");
    let expected = derive(&cuneo, expected.view()).expect("it derives");
    assert!(!expected.facts.is_empty(), "the entry counts somewhere");
    // `Entry` refuses members it does not know, so the log holds none; a text that has one
    // anyway (before the payload, between it and the position, last) is still read right: the
    // reader falls back from the log's layout to reading from the start.
    for (after, member) in [
        (r#""contract_id":"c","#, r#""corrected_at":{"a":[1,"}"]},"#),
        (r#""outcome":"information_only"},"#, r#""pinned":"x\"y","#),
        (
            r#""outcome":"information_only"},"#,
            r#""pinned":{"need":"elderly_care"},"#,
        ),
        (r#""stream_type":"access""#, r#","zone":null"#),
    ] {
        let at = canonical.find(after).expect("the member is there") + after.len();
        let text = format!("{}{member}{}", &canonical[..at], &canonical[at..]);
        for entry in [
            StoredEntry::parse(3, &text).expect("the text is read"),
            StoredEntry::parse_for(3, &text, Some(&cuneo)).expect("the text is read"),
        ] {
            assert_eq!(
                entry.raw_payload(),
                r#"{"channel":"phone","need":"other","outcome":"information_only"}"#,
                "{text}"
            );
            assert_eq!(
                derive(&cuneo, entry.view()).expect("it derives"),
                expected,
                "{text}"
            );
        }
    }
}

#[test]
fn strings_without_escapes_are_borrowed_from_the_text_and_escaped_ones_are_unescaped() {
    let text = r#"{"contract_id":"c","event_id":"e\u00e8\"1","event_type":"OrderPlaced","occurred_at":"2024-01-05T10:00:00+01:00","payload":{"channel":"online"},"position":3,"recorded_at":"2024-01-01T00:00:00Z","recorded_by":"t","schema_version":1,"stream_id":"o1","stream_seq":1,"stream_type":"order"}"#;
    let entry = StoredEntry::parse(3, text).expect("a stored entry");
    assert!(matches!(entry.event_type, Cow::Borrowed("OrderPlaced")));
    assert!(matches!(entry.stream_id, Cow::Borrowed("o1")));
    assert!(matches!(&entry.event_id, Cow::Owned(id) if id == "e\u{e8}\"1"));
    assert_eq!(entry.corrects, None);
}

#[test]
fn only_the_payload_the_definitions_read_is_read() {
    let cuneo = definitions("cuneo");
    let text = |event_type: &str, payload: Json| {
        json!({
            "contract_id": "c", "event_id": "e1", "event_type": event_type,
            "occurred_at": "2024-01-05T10:00:00+01:00", "payload": payload, "position": 1,
            "recorded_at": "2024-01-01T00:00:00Z", "recorded_by": "t", "schema_version": 1,
            "stream_id": "s", "stream_seq": 1, "stream_type": "any",
        })
        .to_string()
    };
    let order = text(
        "OrderPlaced",
        json!({"beneficiary_id": "b1", "channel": "online", "price": "4.00", "provider_id": "p"}),
    );
    let mut entry = StoredEntry::parse_for(1, &order, Some(&cuneo)).expect("a stored entry");
    assert_eq!(
        entry.payload(),
        Some(&json!({"beneficiary_id": "b1", "channel": "online", "price": "4.00"}))
    );
    assert_eq!(
        entry.read_whole_payload(),
        Ok(
            &json!({"beneficiary_id": "b1", "channel": "online", "price": "4.00", "provider_id": "p"})
        )
    );
    let unselected = text("ProductPriceChanged", json!({"effective_on": "2024-01-05"}));
    let entry = StoredEntry::parse_for(1, &unselected, Some(&cuneo)).expect("a stored entry");
    assert_eq!(entry.payload(), None);
    assert_eq!(entry.raw_payload(), r#"{"effective_on":"2024-01-05"}"#);
}

#[test]
fn a_malformed_text_is_refused_naming_its_position_and_the_reason() {
    let good = varied_entries(1)[0].canonical_json();
    assert!(StoredEntry::parse(7, &good).is_ok());
    let cases = [
        (
            good[..good.len() - 5].to_owned(),
            "the text ends inside a string",
        ),
        (
            good[..good.len() - 1].to_owned(),
            "the text ends where `,` or `}` should be",
        ),
        (format!("{good} x"), "the end of the text expected at byte"),
        (
            "\"an entry\"".to_owned(),
            "`{` expected at byte 0, found `\\\"`",
        ),
        (
            "{\"position\":}".to_owned(),
            "the position (a positive integer) expected at byte 12, found `}`",
        ),
        (
            good.replace("\"position\":1", "\"position\":\"1\""),
            "the position (a positive integer) expected",
        ),
        (
            good.replace("\"position\":1", "\"position\":1.5"),
            "the position (a positive integer) expected",
        ),
        (
            good.replace("\"position\":1", "\"position\":0"),
            "positions start at 1",
        ),
        (
            good.replace("\"position\":1", "\"position\":99999999999999999999"),
            "the position is too large",
        ),
        (
            good.replace("\"event_type\"", "\"event_kind\""),
            "missing field `event_type`",
        ),
        (
            good.replace("\"event_id\":", "\"event_id\":\"e0\",\"event_id\":"),
            "duplicate field `event_id`",
        ),
        (
            good.replace("\"event_id\":\"", "\"event_id\":\"\\q"),
            "event_id: invalid escape",
        ),
        (
            good.replace("\"payload\":{", "\"payload\":[{")
                .replace(",\"position\"", "],\"position\""),
            "the payload is not a JSON object",
        ),
        (
            "{\"payload\":{\"a\":[1,{\"b\":2}".to_owned(),
            "the text ends inside a value",
        ),
        (
            good.replace("\"payload\":{", "\"corrects\":null,\"payload\":{"),
            "corrects (a string) expected",
        ),
        (
            good.replace("\"payload\":{", "\"payload\":{\"a\":tru,"),
            "the payload cannot be read",
        ),
    ];
    for (text, reason) in cases {
        let error = StoredEntry::parse(7, &text).expect_err("a malformed text");
        assert_eq!(error.position, 7, "{text}");
        assert!(error.reason.contains(reason), "{text}: {error}");
        let message = error.to_string();
        assert!(
            message.starts_with("position 7: the stored entry cannot be read: "),
            "{message}"
        );
    }
}

#[test]
fn a_payload_value_the_definitions_read_is_checked_and_one_they_skip_is_not() {
    let cuneo = definitions("cuneo");
    let text = |payload: &str| {
        format!(
            r#"{{"event_id":"e1","event_type":"OrderPlaced","occurred_at":"2024-01-05T10:00:00+01:00","payload":{payload},"position":4,"stream_id":"o1"}}"#
        )
    };
    let read = text(r#"{"channel":tru,"price":"4.00"}"#);
    let error = StoredEntry::parse_for(4, &read, Some(&cuneo)).expect_err("a malformed value");
    assert!(
        error
            .to_string()
            .starts_with("position 4: the stored entry cannot be read: the payload cannot be read"),
        "{error}"
    );
    let skipped = text(r#"{"channel":"online","provider_id":tru}"#);
    let entry =
        StoredEntry::parse_for(4, &skipped, Some(&cuneo)).expect("the provider id is skipped");
    assert_eq!(entry.payload(), Some(&json!({"channel": "online"})));
    assert!(StoredEntry::parse(4, &skipped).is_err());
}
