//! What a request's URI holds beyond its route: the path's segments and the query parameters,
//! each read with an error that names it (`field`), never axum's `text/plain` rejection.
//!
//! Invariant: a route reads only the parameters it names; any other, or one given twice, is
//! refused, and a number outside its range is refused rather than clamped.

use std::ops::RangeInclusive;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// The largest log position or tree size a query may name: `esito_log::Position`'s, 2^53 - 1,
/// so that every number read fits the databases' `i64` and a JSON number exactly.
pub const POSITION_MAX: u64 = (1 << 53) - 1;

/// A route's path parameters, as `axum::extract::Path` reads them, refused as problem+json: a
/// segment that does not decode (not UTF-8) names nothing that exists.
pub struct Segments<T>(pub T);

impl<S, T> FromRequestParts<S> for Segments<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Segments(value)),
            Err(rejection) => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no such resource: {}", rejection.body_text()),
            )),
        }
    }
}

/// The query parameters as given, in order; a handler says which it reads with `only`.
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|rejection| {
                ApiError::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "the query `{query}` does not decode: {}",
                        rejection.body_text()
                    ),
                )
            })?;
        Ok(Params(pairs.0))
    }
}

impl Params {
    /// Refuses a parameter not in `allowed`, and one given twice.
    pub fn only(self, allowed: &[&str]) -> Result<Self, ApiError> {
        let expected = if allowed.is_empty() {
            "this route reads none".to_owned()
        } else {
            format!("expected {}", allowed.join(", "))
        };
        for (index, (name, _)) in self.0.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::new(
                    ErrorCode::UnknownField,
                    format!("unknown query parameter `{name}`: {expected}"),
                )
                .with_field(name.clone()));
            }
            if self.0[..index].iter().any(|(earlier, _)| earlier == name) {
                return Err(ApiError::new(
                    ErrorCode::InvalidValue,
                    format!("{name}: given more than once"),
                )
                .with_field(name.clone()));
            }
        }
        Ok(self)
    }

    /// The text of `name`, when given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }

    /// The text of `name`; `what` says what it should be when it is missing.
    pub fn required_text(&self, name: &str, what: &str) -> Result<&str, ApiError> {
        self.text(name).ok_or_else(|| missing(name, what))
    }

    /// A whole number within `range`, when given: text that is no whole number is the wrong
    /// type; a whole number outside the range (negative, too large) the wrong value.
    pub fn integer(&self, name: &str, range: RangeInclusive<u64>) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::new(
                ErrorCode::InvalidType,
                format!("{name}: `{text}` is not a whole number"),
            )
            .with_field(name));
        }
        match text.parse::<u64>() {
            Ok(value) if range.contains(&value) => Ok(Some(value)),
            _ => Err(ApiError::new(
                ErrorCode::InvalidValue,
                format!(
                    "{name}: `{text}` is not from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
            .with_field(name)),
        }
    }

    /// A whole number within `range`, which must be given.
    pub fn required_integer(
        &self,
        name: &str,
        range: RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        let what = format!("a whole number from {} to {}", range.start(), range.end());
        self.integer(name, range)?
            .ok_or_else(|| missing(name, &what))
    }

    /// `true` or `false`, when given.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(text) => Err(ApiError::new(
                ErrorCode::InvalidType,
                format!("{name}: `{text}` is neither `true` nor `false`"),
            )
            .with_field(name)),
        }
    }
}

fn missing(name: &str, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingField,
        format!("{name} is required: {what}"),
    )
    .with_field(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_largest_position_a_query_names_is_the_logs() {
        assert!(esito_log::Position::new(POSITION_MAX).is_ok());
        assert!(esito_log::Position::new(POSITION_MAX + 1).is_err());
    }

    #[test]
    fn each_kind_of_bad_parameter_gets_its_code_and_names_itself() {
        // (query, code, field)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: [Case; 7] = [
            (&[("limit", "abc")], "invalid_type", "limit"),
            (&[("limit", "-1")], "invalid_value", "limit"),
            (&[("limit", "0")], "invalid_value", "limit"),
            (&[("limit", "1001")], "invalid_value", "limit"),
            (
                &[("limit", "99999999999999999999999")],
                "invalid_value",
                "limit",
            ),
            (&[("limit", "")], "invalid_type", "limit"),
            (&[("limit", "1"), ("limit", "2")], "invalid_value", "limit"),
        ];
        for (pairs, code, field) in cases {
            let error = params(pairs)
                .only(&["limit"])
                .and_then(|p| p.integer("limit", 1..=1000))
                .expect_err(code);
            assert_eq!(
                (error.code, error.field.as_deref()),
                (code, Some(field)),
                "{pairs:?}"
            );
        }
        let error = params(&[("colour", "blue")])
            .only(&["limit"])
            .err()
            .expect("refused");
        assert_eq!(
            (error.code, error.field.as_deref()),
            ("unknown_field", Some("colour"))
        );
        let error = params(&[("atomic", "maybe")])
            .boolean("atomic")
            .expect_err("refused");
        assert_eq!(
            (error.code, error.field.as_deref()),
            ("invalid_type", Some("atomic"))
        );
        let limit = params(&[("limit", "1000")])
            .integer("limit", 1..=1000)
            .expect("read");
        assert_eq!(limit, Some(1000));
    }
}
