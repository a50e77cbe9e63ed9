//! Reading JSON bodies: a body that is not declared JSON is refused before it is read; a
//! malformed body, an unknown, missing or ill-typed field each get their own code and name
//! the field, as a JSON path.

use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// Every request that carries a body must declare it JSON (`application/json`, or a type with
/// the `+json` suffix, with at most a `charset=utf-8` parameter); any other is `415` and
/// reaches no handler, so it writes nothing.
pub async fn json_only(request: Request, next: Next) -> Response {
    let body = request.body();
    let empty = body.is_end_stream() || body.size_hint().exact() == Some(0);
    if empty {
        return next.run(request).await;
    }
    match declared_json(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn declared_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let refuse = |detail: String| {
        Err(ApiError::new(ErrorCode::UnsupportedMediaType, detail).with_field("content-type"))
    };
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return refuse("a body must be sent as Content-Type: application/json".to_owned());
    };
    let Ok(text) = value.to_str() else {
        return refuse("the Content-Type header is not readable text".to_owned());
    };
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if !json {
        return refuse(format!(
            "a body is JSON, sent as Content-Type: application/json, not `{text}`"
        ));
    }
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim().trim_matches('"');
        if !name.trim().eq_ignore_ascii_case("charset") || !value.eq_ignore_ascii_case("utf-8") {
            return refuse(format!(
                "JSON is UTF-8: `{}` is not a parameter of application/json here",
                parameter.trim()
            ));
        }
    }
    Ok(())
}

/// Parses the raw body as JSON, refusing anything but an object.
pub fn object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the body must be a JSON object",
        )),
        Err(error) => Err(ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body is not JSON: {error}"),
        )),
    }
}

/// Deserializes `value` into `T`, naming the field at fault under `prefix`.
pub fn parse<T: DeserializeOwned>(value: serde_json::Value, prefix: &str) -> Result<T, ApiError> {
    // From a reference: the value is needed again only when it fails.
    serde_path_to_error::deserialize(&value).map_err(|error| {
        let mut path = error.path().to_string();
        let inner = error.into_inner().to_string();
        // A missing field has no member to find (and taking another away names that one).
        if path == "." && !inner.starts_with("missing field") {
            path = culprit::<T>(&value, &inner).unwrap_or(path);
        }
        let (code, field) = classify(&inner, &path);
        let field = match (prefix.is_empty(), field.as_str()) {
            (true, _) => field,
            (false, ".") | (false, "") => prefix.to_owned(),
            (false, _) => format!("{prefix}.{field}"),
        };
        ApiError::new(code, format!("{field}: {inner}")).with_field(field)
    })
}

/// The field behind an error that serde reports without a path (an internally tagged enum
/// buffers its content): the member whose removal changes the error, followed down through
/// objects and lists for as long as one of its members does (`changes[0].procurement.cig`).
/// The tags (`type`, `kind`) are never the culprit: without them the error is another one.
fn culprit<T: DeserializeOwned>(value: &serde_json::Value, message: &str) -> Option<String> {
    let changes_error = |candidate: serde_json::Value| match serde_json::from_value::<T>(candidate)
    {
        Err(error) => error.to_string() != message,
        Ok(_) => true,
    };
    let mut path: Vec<Step> = Vec::new();
    loop {
        let node = path.iter().try_fold(value, |node, step| match step {
            Step::Key(key) => node.get(key),
            Step::Index(index) => node.get(index),
        })?;
        let members: Vec<Step> = match node {
            serde_json::Value::Object(object) => object
                .keys()
                .filter(|key| *key != "type" && *key != "kind")
                .map(|key| Step::Key(key.clone()))
                .collect(),
            serde_json::Value::Array(items) => (0..items.len()).map(Step::Index).collect(),
            _ => Vec::new(),
        };
        let found = members.into_iter().find(|member| {
            let mut without = value.clone();
            remove_at(&mut without, &path, member);
            changes_error(without)
        });
        match found {
            Some(member) => path.push(member),
            None => break,
        }
    }
    if path.is_empty() {
        return None;
    }
    let mut text = String::new();
    for step in &path {
        match step {
            Step::Key(key) if text.is_empty() => text.push_str(key),
            Step::Key(key) => {
                text.push('.');
                text.push_str(key);
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    Some(text)
}

/// One step down a JSON value: a member of an object or an item of a list.
enum Step {
    Key(String),
    Index(usize),
}

/// Removes `member` of the node at `path` in `value`.
fn remove_at(value: &mut serde_json::Value, path: &[Step], member: &Step) {
    let mut node = value;
    for step in path {
        let next = match step {
            Step::Key(key) => node.get_mut(key),
            Step::Index(index) => node.get_mut(*index),
        };
        match next {
            Some(next) => node = next,
            None => return,
        }
    }
    match (node, member) {
        (serde_json::Value::Object(object), Step::Key(key)) => {
            object.remove(key);
        }
        (serde_json::Value::Array(items), Step::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}

/// serde's messages are stable in their openings; the field comes from the path, or from the
/// message where serde reports at the enclosing object.
fn classify(message: &str, path: &str) -> (ErrorCode, String) {
    let quoted = || message.split('`').nth(1).unwrap_or_default().to_owned();
    let join = |name: String| {
        if path == "." || path.is_empty() {
            name
        } else {
            format!("{path}.{name}")
        }
    };
    if message.starts_with("unknown field") {
        // Reported at the field itself for a struct, at the enclosing object for a tagged enum.
        let name = quoted();
        let field = if path.rsplit('.').next() == Some(name.as_str()) {
            path.to_owned()
        } else {
            join(name)
        };
        (ErrorCode::UnknownField, field)
    } else if message.starts_with("missing field") {
        (ErrorCode::MissingField, join(quoted()))
    } else if message.starts_with("invalid type") {
        (ErrorCode::InvalidType, path.to_owned())
    } else {
        (ErrorCode::InvalidValue, path.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        amount: esito_domain::Money,
        month: esito_domain::Month,
    }

    #[test]
    fn each_kind_of_bad_field_gets_its_code_and_its_path() {
        let cases = [
            (
                serde_json::json!({"amount": "1.00", "month": "2024-01", "x": 1}),
                "unknown_field",
                "x",
            ),
            (
                serde_json::json!({"amount": "1.00"}),
                "missing_field",
                "month",
            ),
            (
                serde_json::json!({"amount": 1.5, "month": "2024-01"}),
                "invalid_type",
                "amount",
            ),
            (
                serde_json::json!({"amount": "1.005", "month": "2024-01"}),
                "invalid_value",
                "amount",
            ),
        ];
        for (value, code, field) in cases {
            let error = parse::<Sample>(value, "").expect_err(code);
            assert_eq!(
                (error.code, error.field.as_deref()),
                (code, Some(field)),
                "{}",
                error.detail
            );
        }
    }

    /// A command read by its tag, whose list holds changes read by theirs: serde reports an
    /// error inside them with no path.
    #[derive(Debug, serde::Deserialize)]
    #[serde(tag = "type", deny_unknown_fields)]
    #[allow(dead_code)]
    enum Tagged {
        Amend {
            effective_on: esito_domain::Month,
            changes: Vec<Change>,
        },
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    #[allow(dead_code)]
    enum Change {
        Money { money: Inner },
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        amount: esito_domain::Money,
        #[serde(default)]
        note: Option<String>,
    }

    #[test]
    fn a_bad_member_inside_tagged_changes_is_named_by_its_whole_path() {
        let good = serde_json::json!({"kind": "money", "money": {"amount": "1.00"}});
        let bad = serde_json::json!({"kind": "money", "money": {"amount": "1.005", "note": "n"}});
        let value = serde_json::json!({
            "type": "Amend", "effective_on": "2024-01", "changes": [good, bad]
        });
        let error = parse::<Tagged>(value, "").expect_err("a bad amount");
        assert_eq!(error.code, "invalid_value", "{}", error.detail);
        assert_eq!(
            error.field.as_deref(),
            Some("changes[1].money.amount"),
            "{}",
            error.detail
        );
        let unknown = serde_json::json!({
            "type": "Amend", "effective_on": "2024-01",
            "changes": [{"kind": "money", "money": {"amount": "1.00", "colour": "red"}}]
        });
        let error = parse::<Tagged>(unknown, "").expect_err("an unknown member");
        assert_eq!(error.code, "unknown_field", "{}", error.detail);
        assert_eq!(
            error.field.as_deref(),
            Some("changes[0].money.colour"),
            "{}",
            error.detail
        );
    }
}
