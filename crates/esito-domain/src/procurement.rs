//! The references every act of an Italian public payment cites (docs/design.md §5, the PA's
//! acts): the contract's CIG (*Codice Identificativo Gara*, law 136/2010, for the traceability
//! of payments), its CUP (*Codice Unico di Progetto*, for a public investment project) and its
//! RUP (*Responsabile Unico del Progetto*, d.lgs. 36/2023), named by office and role, not as a
//! person (docs/privacy.md).
//!
//! Invariant: a `Cig` is 10 and a `Cup` 15 characters of A–Z and 0–9, checked as read, so an
//! event read back from the store is checked like one built in code.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a code is refused, with the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a CIG is 10 characters, capital letters A-Z and digits 0-9 (got {0:?})")]
    MalformedCig(String),
    #[error("a CUP is 15 characters, capital letters A-Z and digits 0-9 (got {0:?})")]
    MalformedCup(String),
}

fn is_code(text: &str, length: usize) -> bool {
    text.len() == length
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A CIG, `Codice Identificativo Gara`: 10 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cig(String);

impl Cig {
    pub const LENGTH: usize = 10;

    pub fn parse(text: &str) -> Result<Self, CodeError> {
        if is_code(text, Self::LENGTH) {
            Ok(Self(text.to_owned()))
        } else {
            Err(CodeError::MalformedCig(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CUP, `Codice Unico di Progetto`: 15 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cup(String);

impl Cup {
    pub const LENGTH: usize = 15;

    pub fn parse(text: &str) -> Result<Self, CodeError> {
        if is_code(text, Self::LENGTH) {
            Ok(Self(text.to_owned()))
        } else {
            Err(CodeError::MalformedCup(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! code_conversions {
    ($type:ident, $pattern:literal, $length:literal) => {
        impl TryFrom<String> for $type {
            type Error = CodeError;
            fn try_from(text: String) -> Result<Self, CodeError> {
                Self::parse(&text)
            }
        }

        impl From<$type> for String {
            fn from(code: $type) -> String {
                code.0
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $type {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($type).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "minLength": $length,
                    "maxLength": $length,
                    "pattern": $pattern
                })
            }
        }
    };
}

code_conversions!(Cig, "^[A-Z0-9]{10}$", 10);
code_conversions!(Cup, "^[A-Z0-9]{15}$", 15);

/// The contract's references for its payment acts: set at registration or by an amendment
/// (`kind = "procurement"`, replacing all three); every field optional, so contracts
/// registered before they existed read as having none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Procurement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cig: Option<Cig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cup: Option<Cup>,
    /// The RUP as the public acts name the office: role and office of the payer
    /// (`Responsabile Unico del Progetto, Settore Politiche Sociali`), not a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rup: Option<String>,
}

impl Procurement {
    pub fn is_empty(&self) -> bool {
        self.cig.is_none() && self.cup.is_none() && self.rup.is_none()
    }

    /// With a CIG the payment follows the PA's acts: the RUP's certification, the determina
    /// with its number and date, the mandato with its number and date (docs/decisions/0016).
    pub fn requires_acts(&self) -> bool {
        self.cig.is_some()
    }
}
