//! Who a pseudonym is: the fields of `PUT .../identities/{beneficiary_id}`, each checked as it
//! is read.
//!
//! Invariant: every text is 1 to `TEXT_CHARS_MAX` characters, not blank, with no control
//! characters; `Deserialize` goes through the same checks, so a record opened is as valid as
//! one received.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::FiscalCode;

/// The longest text a field holds.
pub const TEXT_CHARS_MAX: usize = 200;

/// A person's identity, as the operator registers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub given_name: Name,
    pub family_name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_code: Option<FiscalCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Contacts>,
}

/// How to reach the person; each part is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
}

/// A given or family name.
pub type Name = Text;

/// A text of 1 to `TEXT_CHARS_MAX` characters, not blank, without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    pub fn parse(text: &str) -> Result<Self, String> {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err("must not be empty".to_owned());
        }
        if chars > TEXT_CHARS_MAX {
            return Err(format!("at most {TEXT_CHARS_MAX} characters, not {chars}"));
        }
        if text.chars().any(char::is_control) {
            return Err("must not hold control characters".to_owned());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_reads_with_its_optional_parts() {
        let identity: Identity = serde_json::from_value(serde_json::json!({
            "given_name": "Maria", "family_name": "Rossi", "fiscal_code": "rssmra85t10a562s",
            "birth_date": "1985-12-10", "contacts": {"phone": "+39 0171 000000"}
        }))
        .expect("valid");
        assert_eq!(
            identity.fiscal_code.as_ref().map(FiscalCode::as_str),
            Some("RSSMRA85T10A562S")
        );
        assert!(identity.contacts.is_some_and(|c| c.email.is_none()));
    }

    #[test]
    fn blank_names_unknown_fields_and_bad_codes_are_refused() {
        for bad in [
            serde_json::json!({"given_name": " ", "family_name": "Rossi"}),
            serde_json::json!({"given_name": "Maria"}),
            serde_json::json!({"given_name": "Maria", "family_name": "Rossi", "isee": "A"}),
            serde_json::json!({"given_name": "Maria", "family_name": "Rossi", "fiscal_code": "RSSMRA85T10A562T"}),
            serde_json::json!({"given_name": "Maria", "family_name": "Ro\u{0}ssi"}),
        ] {
            assert!(
                serde_json::from_value::<Identity>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
