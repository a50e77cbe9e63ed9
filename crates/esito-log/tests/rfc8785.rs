//! Checks that the canonical JSON the log hashes is RFC 8785's, on the RFC's own examples and on the features entries use.

use esito_log::{canonicalize, Entry};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// The canonical form, checked against `serde_jcs`, the reference the crate's own writer is
/// held to.
fn canonical(text: &str) -> String {
    let value: Value = serde_json::from_str(text).expect("the example is valid JSON");
    let written = canonicalize(&value);
    let reference = serde_jcs::to_string(&value).expect("serde_jcs writes every JSON value");
    assert_eq!(written, reference, "the writer and serde_jcs disagree");
    written
}

#[test]
fn the_rfc_8785_sample_object_canonicalizes_as_published() {
    // RFC 8785 sections 3.2.2 and 3.2.3.
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected = concat!(
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
        r#""string":"€$\u000f\nA'B\"\\\\\"/"}"#
    );
    assert_eq!(canonical(input), expected);
}

#[test]
fn the_rfc_8785_sample_has_the_published_utf8_bytes() {
    // RFC 8785 section 3.2.4, as hex.
    let published = concat!(
        "7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 ",
        "75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a ",
        "5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 ",
        "65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 ",
        "5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 ",
        "30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d"
    );
    let input = r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#;
    let bytes: String = canonical(input)
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(bytes, published.replace(' ', ""));
}

#[test]
fn keys_sort_by_utf16_code_units_not_by_utf8_bytes() {
    // RFC 8785 section 3.2.3's sorting example: U+1F600 (a surrogate pair, 0xD83D...) sorts
    // before U+FB33, though its UTF-8 bytes sort after.
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = concat!(
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",",
        "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",",
        "\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
    assert_eq!(canonical(input), expected);
}

#[test]
fn keys_sort_by_code_unit_ignoring_locale() {
    // RFC 8785 appendix B's French example.
    let input = r#"{"sin":"ignore locale","pêche":"but canonicalization MUST","péché":"is wrong according to French","peach":"This sorting order"}"#;
    assert_eq!(
        canonical(input),
        r#"{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}"#
    );
}

#[test]
fn control_characters_use_short_escapes_where_json_has_them_and_lowercase_hex_otherwise() {
    let input = r#"["\u0000\u0001\u0008\u0009\u000a\u000b\u000c\u000d\u001f\u007f"]"#;
    assert_eq!(
        canonical(input),
        "[\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\u{7f}\"]"
    );
}

#[test]
fn non_ascii_text_is_written_as_utf8_and_the_solidus_is_not_escaped() {
    let input = r#"{"s":"\u00e9\u4e2d\ud834\udd1e/<>&\u2028"}"#;
    assert_eq!(canonical(input), "{\"s\":\"é中𝄞/<>&\u{2028}\"}");
}

#[test]
fn nested_objects_are_sorted_at_every_depth_and_arrays_keep_their_order() {
    let input = r#"{ "b": {"z": [3, 1, {"y": 1, "x": 2}], "a": {}}, "a": [] }"#;
    assert_eq!(
        canonical(input),
        r#"{"a":[],"b":{"a":{},"z":[3,1,{"x":2,"y":1}]}}"#
    );
}

#[test]
fn numbers_are_written_as_ecmascript_writes_doubles() {
    let input = "[0, -0, 1.0, -1.5, 100, 1e21, 1e20, 123456789012, 0.1, 5e-7, 9007199254740991]";
    assert_eq!(
        canonical(input),
        "[0,0,1,-1.5,100,1e+21,100000000000000000000,123456789012,0.1,5e-7,9007199254740991]"
    );
}

/// Text mixing the characters canonical JSON treats differently: controls, quotes and
/// backslashes, ASCII, two-byte UTF-8, the private-use block that sorts differently in UTF-16
/// and UTF-8, and characters beyond U+FFFF.
fn text() -> impl Strategy<Value = String> {
    let chars = proptest::char::ranges(
        vec![
            '\u{0}'..='\u{7f}',
            '\u{80}'..='\u{7ff}',
            '\u{e000}'..='\u{ffff}',
            '\u{10000}'..='\u{10ffff}',
        ]
        .into(),
    );
    vec(chars, 0..8).prop_map(|chars| chars.into_iter().collect())
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        (-1000i64..1000).prop_map(Number::from),
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("JSON numbers are finite", Number::from_f64),
        (-1e-6f64..1e-6).prop_filter_map("JSON numbers are finite", Number::from_f64),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    scalar.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(text(), inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_writer_agrees_with_serde_jcs_on_any_json(value in json()) {
        let reference = serde_jcs::to_string(&value).expect("serde_jcs writes every JSON value");
        prop_assert_eq!(canonicalize(&value), reference);
    }

    #[test]
    fn the_entry_writer_agrees_with_serde_jcs_on_any_entry(
        strings in vec(text(), 9),
        numbers in (any::<u64>(), any::<u64>(), any::<u32>()),
        corrects in proptest::option::of(text()),
        payload in btree_map(text(), json(), 0..5),
    ) {
        let entry = Entry {
            contract_id: strings[0].clone(),
            position: numbers.0,
            event_id: strings[1].clone(),
            stream_type: strings[2].clone(),
            stream_id: strings[3].clone(),
            stream_seq: numbers.1,
            event_type: strings[4].clone(),
            schema_version: numbers.2,
            occurred_at: strings[5].clone(),
            recorded_at: strings[6].clone(),
            recorded_by: strings[7].clone(),
            corrects,
            payload: Value::Object(payload.into_iter().collect()),
        };
        let reference = serde_jcs::to_string(&entry).expect("serde_jcs writes every entry");
        prop_assert_eq!(entry.canonical_json(), reference);
    }
}
