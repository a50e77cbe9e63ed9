//! RFC 8785 (JCS) canonical JSON, the only bytes this crate ever hashes, and the I-JSON rules its input must follow.
//!
//! Invariant: JSON read through [`IJsonValue`] has no repeated keys and no integer beyond ±(2^53 − 1),
//! so its canonical form determines it. Without that rule `{"n": 9007199254740993}` and
//! `{"n": 9007199254740992}` would share canonical bytes (RFC 8785 writes numbers as IEEE 754
//! doubles), and two readers could disagree on which of two repeated keys counts.
//!
//! Values are written by a direct writer rather than through `serde_jcs`, whose per-key
//! buffering costs several times the hashing when a million entries are verified; `serde_jcs`
//! still formats the doubles (ECMAScript's number-to-string is subtle) and serves as the reference
//! the writer is tested against.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Number, Value};

/// The largest integer an IEEE 754 double holds exactly, and hence the largest one RFC 8785 can
/// write without rounding (RFC 7493, section 2.2).
pub const MAX_EXACT_INTEGER: u64 = (1 << 53) - 1;

/// The RFC 8785 canonical form of a JSON value: keys sorted by UTF-16 code units, no whitespace,
/// strings escaped minimally, numbers written as ECMAScript writes doubles.
pub fn canonicalize(value: &Value) -> String {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out);
    String::from_utf8(out).expect("the writer copies Rust strings and adds only ASCII")
}

/// Appends the RFC 8785 form of any serializable value, through `serde_jcs`; for the few cold
/// paths (checkpoints) that are not an entry.
pub(crate) fn write_canonical<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    serde_jcs::to_writer(out, value).expect(
        "serde_jcs fails only on non-finite numbers or non-string keys, \
         and the log's types hold neither",
    );
}

/// Appends the RFC 8785 form of a JSON value (RFC 8785 section 3.2).
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(fields) => write_object(fields, out),
    }
}

/// Section 3.2.3: members sorted by their names' UTF-16 code units. A `Map` is usually in that
/// order already (it sorts by UTF-8, which agrees except between U+E000..U+FFFF and characters
/// beyond U+FFFF), so the sorted copy is made only when needed.
fn write_object(fields: &Map<String, Value>, out: &mut Vec<u8>) {
    let in_order = fields
        .keys()
        .zip(fields.keys().skip(1))
        .all(|(a, b)| utf16_order(a, b) == Ordering::Less);
    let write_member = |i: usize, key: &str, value: &Value, out: &mut Vec<u8>| {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_value(value, out);
    };
    out.push(b'{');
    if in_order {
        for (i, (key, value)) in fields.iter().enumerate() {
            write_member(i, key, value, out);
        }
    } else {
        let mut sorted: Vec<(&String, &Value)> = fields.iter().collect();
        sorted.sort_by(|a, b| utf16_order(a.0, b.0));
        for (i, (key, value)) in sorted.into_iter().enumerate() {
            write_member(i, key, value, out);
        }
    }
    out.push(b'}');
}

/// Compares member names by their UTF-16 code units. Where the first differing byte is ASCII on
/// either side, both strings are at a character boundary there and the byte order is the UTF-16
/// order, which covers nearly every key without encoding anything.
fn utf16_order(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    match x.iter().zip(y).position(|(p, q)| p != q) {
        // One is a prefix of the other, at a character boundary of both.
        None => x.len().cmp(&y.len()),
        Some(i) if x[i].min(y[i]) < 0x80 => x[i].cmp(&y[i]),
        Some(_) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// Whether a byte must be escaped inside a canonical string.
const fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Section 3.2.2.2: the string as UTF-8, escaping only `"`, `\` and the controls U+0000..U+001F,
/// with the two-character escapes where JSON has them and `\u00xx` in lowercase hex otherwise.
pub(crate) fn write_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.push(b'"');
    // Almost every string needs no escape; one scan settles it, written without an early exit
    // so that the compiler vectorises it.
    if !bytes
        .iter()
        .fold(false, |any, &byte| any | needs_escape(byte))
    {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut copied = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[copied..i]);
        if short.is_empty() {
            let hex = [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0x0f)]];
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&hex);
        } else {
            out.extend_from_slice(short);
        }
        copied = i + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Section 3.2.2.3: numbers as ECMAScript writes doubles. An integer a double holds exactly is
/// written as its digits, which is what ECMAScript writes for it; everything else goes to
/// `serde_jcs`, so an integer too large for a double is rounded exactly as the reference does.
pub(crate) fn write_number(number: &Number, out: &mut Vec<u8>) {
    if let Some(unsigned) = number.as_u64().filter(|n| *n <= MAX_EXACT_INTEGER) {
        write_u64(unsigned, out);
    } else if let Some(signed) = number
        .as_i64()
        .filter(|n| n.unsigned_abs() <= MAX_EXACT_INTEGER)
    {
        if signed < 0 {
            out.push(b'-');
        }
        write_digits(signed.unsigned_abs(), out);
    } else {
        write_canonical(number, out);
    }
}

/// An unsigned integer field; beyond 2^53 − 1 it is rounded as a double, like any JSON number.
pub(crate) fn write_u64(number: u64, out: &mut Vec<u8>) {
    if number <= MAX_EXACT_INTEGER {
        write_digits(number, out);
    } else {
        write_canonical(&number, out);
    }
}

/// Appends the decimal digits of `number`, as `Display` writes them, without going through the
/// formatting machinery, which costs more than the digits on the hot path of verification.
fn write_digits(mut number: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Whether an integer survives the round trip through an IEEE 754 double that RFC 8785 makes.
pub(crate) fn is_exact_integer(number: &Number) -> bool {
    if let Some(unsigned) = number.as_u64() {
        unsigned <= MAX_EXACT_INTEGER
    } else if let Some(signed) = number.as_i64() {
        signed.unsigned_abs() <= MAX_EXACT_INTEGER
    } else {
        // A float is a double already; canonical JSON writes it back unchanged.
        true
    }
}

/// The first integer inside `value` that canonical JSON would round, if any.
pub(crate) fn first_inexact_integer(value: &Value) -> Option<&Number> {
    match value {
        Value::Number(number) if !is_exact_integer(number) => Some(number),
        Value::Array(items) => items.iter().find_map(first_inexact_integer),
        Value::Object(fields) => fields.values().find_map(first_inexact_integer),
        _ => None,
    }
}

/// A JSON value read under I-JSON's rules (RFC 7493): a repeated key or an integer beyond
/// ±(2^53 − 1) is a deserialization error instead of being silently merged or rounded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IJsonValue(pub(crate) Value);

impl<'de> Deserialize<'de> for IJsonValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IJsonVisitor).map(IJsonValue)
    }
}

struct IJsonVisitor;

/// An integer as I-JSON reads it: refused where canonical JSON would round it.
fn exact_integer<E: de::Error>(number: Number) -> Result<Number, E> {
    if is_exact_integer(&number) {
        Ok(number)
    } else {
        Err(E::custom(format_args!(
            "the integer {number} is beyond ±(2^53 - 1), which canonical JSON cannot write \
             exactly; write it as a string"
        )))
    }
}

impl<'de> Visitor<'de> for IJsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an I-JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        exact_integer(Number::from(value)).map(Value::Number)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        exact_integer(Number::from(value)).map(Value::Number)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("JSON numbers are finite"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(IJsonValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let IJsonValue(value) = map.next_value()?;
            if fields.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

/// A JSON value read under the same I-JSON rules as [`IJsonValue`], for verifying exports: its
/// strings borrow from the input where they hold no escapes, and each object keeps its members
/// in RFC 8785 order, so a payload is canonicalized without building a [`Value`] (a map and a
/// `String` per member) that is dropped at once.
///
/// It accepts only what [`IJsonValue`] accepts and writes the same canonical bytes; where it
/// refuses, the caller reads the text again through [`IJsonValue`] for the exact error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IJsonNode<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<IJsonNode<'a>>),
    /// Members sorted by their names' UTF-16 code units, no name twice.
    Object(Vec<(Cow<'a, str>, IJsonNode<'a>)>),
}

impl IJsonNode<'_> {
    pub(crate) fn is_object(&self) -> bool {
        matches!(self, Self::Object(_))
    }

    /// Appends the RFC 8785 form, as [`write_value`] does for the same JSON as a [`Value`].
    pub(crate) fn write_canonical(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => out.extend_from_slice(b"null"),
            Self::Bool(true) => out.extend_from_slice(b"true"),
            Self::Bool(false) => out.extend_from_slice(b"false"),
            Self::Number(number) => write_number(number, out),
            Self::String(text) => write_string(text, out),
            Self::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_canonical(out);
                }
                out.push(b']');
            }
            Self::Object(members) => {
                out.push(b'{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(key, out);
                    out.push(b':');
                    value.write_canonical(out);
                }
                out.push(b'}');
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for IJsonNode<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IJsonNodeVisitor)
    }
}

/// [`IJsonVisitor`]'s rules, building an [`IJsonNode`].
struct IJsonNodeVisitor;

impl<'de> Visitor<'de> for IJsonNodeVisitor {
    type Value = IJsonNode<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an I-JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(IJsonNode::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        exact_integer(Number::from(value)).map(IJsonNode::Number)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        exact_integer(Number::from(value)).map(IJsonNode::Number)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Number::from_f64(value)
            .map(IJsonNode::Number)
            .ok_or_else(|| E::custom("JSON numbers are finite"))
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(IJsonNode::String(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(IJsonNode::String(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(IJsonNode::String(Cow::Owned(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(IJsonNode::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(IJsonNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(IJsonNode::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members: Vec<(Cow<'de, str>, IJsonNode<'de>)> =
            Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some(BorrowedStr(key)) = map.next_key()? {
            let value = map.next_value()?;
            members.push((key, value));
        }
        // Sorting first makes a repeated name adjacent, so one pass finds it.
        members.sort_unstable_by(|a, b| utf16_order(&a.0, &b.0));
        if let Some(pair) = members.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(de::Error::custom(format_args!(
                "the key {:?} appears twice in one object",
                pair[0].0
            )));
        }
        Ok(IJsonNode::Object(members))
    }
}

/// A string that borrows from the input when it holds no escapes.
pub(crate) struct BorrowedStr<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        borrowed_str(deserializer).map(BorrowedStr)
    }
}

/// Reads a string field, borrowing it from the input when it holds no escapes; accepts exactly
/// the JSON strings that `String`'s reader accepts.
pub(crate) fn borrowed_str<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, str>, D::Error> {
    struct CowStrVisitor;

    impl<'de> Visitor<'de> for CowStrVisitor {
        type Value = Cow<'de, str>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(value))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(value.to_owned()))
        }

        fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(value))
        }
    }

    deserializer.deserialize_str(CowStrVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(text: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str::<IJsonValue>(text).map(|v| v.0)
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        assert!(read(r#"{"a":1,"a":1}"#).is_err());
        assert!(read(r#"{"x":[{"b":true,"b":false}]}"#).is_err());
        assert!(read(r#"{"a":1,"b":{"a":1}}"#).is_ok());
    }

    #[test]
    fn integers_are_refused_beyond_two_to_the_53_minus_one() {
        assert!(read("9007199254740991").is_ok());
        assert!(read("-9007199254740991").is_ok());
        assert!(read("9007199254740992").is_err());
        assert!(read("-9007199254740992").is_err());
        assert!(read("[1, {\"n\": 18446744073709551615}]").is_err());
    }

    #[test]
    fn fractions_and_exponents_are_doubles_and_are_kept() {
        assert_eq!(
            read("1.5e300").map(|v| canonicalize(&v)).ok(),
            Some("1.5e+300".to_owned())
        );
        assert_eq!(
            read("-0.0").map(|v| canonicalize(&v)).ok(),
            Some("0".to_owned())
        );
    }

    #[test]
    fn ijson_reading_agrees_with_serde_json_on_well_formed_input() {
        let text = r#"{"s":"x\u0000y","n":[null,true,-3,4.25,{"k":{}}],"e":[]}"#;
        let plain: Value = serde_json::from_str(text).expect("well-formed JSON");
        assert_eq!(read(text).ok(), Some(plain));
    }

    #[test]
    fn the_inexact_integer_search_looks_inside_arrays_and_objects() {
        let value = serde_json::json!({"a": [1, {"b": 9_007_199_254_740_993_u64}]});
        assert_eq!(
            first_inexact_integer(&value).map(ToString::to_string),
            Some("9007199254740993".to_owned())
        );
        assert_eq!(
            first_inexact_integer(&serde_json::json!({"a": 1.0e20})),
            None
        );
    }

    /// A JSON string literal for `text`, each character written as itself or as `\u` escapes
    /// (a surrogate pair beyond U+FFFF) as `escape` picks, so that readers see both borrowed
    /// and unescaped strings.
    fn string_literal(text: &str, escape: &[bool]) -> String {
        let mut literal = String::from("\"");
        for (i, c) in text.chars().enumerate() {
            let must = c < ' ' || c == '"' || c == '\\';
            if must || escape.get(i).copied().unwrap_or(false) {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    literal.push_str(&format!("\\u{unit:04x}"));
                }
            } else {
                literal.push(c);
            }
        }
        literal.push('"');
        literal
    }

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
        prop_oneof![
            proptest::collection::vec(chars, 0..6).prop_map(|chars| chars.into_iter().collect()),
            // A few names often, so that objects repeat keys.
            proptest::sample::select(vec!["a", "b", "\u{e000}", "\u{1f600}"])
                .prop_map(str::to_owned),
        ]
    }

    fn literal() -> impl Strategy<Value = String> {
        (text(), proptest::collection::vec(any::<bool>(), 6))
            .prop_map(|(text, escape)| string_literal(&text, &escape))
    }

    fn number_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            (-9_007_199_254_740_995i64..=-9_007_199_254_740_989).prop_map(|n| n.to_string()),
            (9_007_199_254_740_989u64..=9_007_199_254_740_995).prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            proptest::sample::select(vec!["-0", "0.0", "-0.0", "1E30", "4.50", "2e-3", "1e400"])
                .prop_map(str::to_owned),
        ]
    }

    /// JSON text, with members in any order and keys sometimes repeated.
    fn json_text() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("null".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            number_text(),
            literal(),
        ];
        scalar.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((literal(), inner), 0..6).prop_map(|members| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(key, value)| format!("{key}:{value}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_borrowed_reader_accepts_what_the_value_reader_accepts_and_writes_the_same(
            text in json_text()
        ) {
            let value = serde_json::from_str::<IJsonValue>(&text);
            let node = serde_json::from_str::<IJsonNode<'_>>(&text);
            let from_bytes = serde_json::from_slice::<IJsonNode<'_>>(text.as_bytes());
            prop_assert_eq!(value.is_ok(), node.is_ok(), "{}", text);
            prop_assert_eq!(&node.as_ref().ok(), &from_bytes.as_ref().ok());
            if let (Ok(IJsonValue(value)), Ok(node)) = (value, node) {
                let mut written = Vec::new();
                node.write_canonical(&mut written);
                prop_assert_eq!(String::from_utf8(written).ok(), Some(canonicalize(&value)));
            }
        }

        #[test]
        fn utf16_order_is_the_order_of_the_utf16_code_units(a in text(), b in text()) {
            prop_assert_eq!(utf16_order(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        }
    }
}
